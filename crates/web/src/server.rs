//! The HTTP server under the router: accepting connections, bounding what each may hold, and
//! stopping within a known time.
//!
//! `axum::serve` has none of the knobs a public service needs, so this is its replacement over
//! the same parts (hyper-util's HTTP/1 + HTTP/2 connection builder, axum's router as the
//! service), with:
//!
//! - **a connection limit** ([`ServerConfig::max_connections`]): a semaphore permit per
//!   connection. A connection over the limit is closed at once, without reading from it: an
//!   answer (503) would need its request read first, which means a task, buffers and a header
//!   timeout per refused connection at exactly the moment the server is short of them. A closed
//!   connection costs nothing, frees its descriptor immediately, and load balancers and clients
//!   retry it as a connection failure. Connections already open keep being served.
//! - **header, idle and body timeouts**, per connection ([`connection`]) and per request body
//!   ([`service`]).
//! - **a bounded drain**: when `shutdown` resolves, no connection is accepted any more, every
//!   open one is asked to finish (idle ones close at once, busy ones after their response), and
//!   after [`ServerConfig::shutdown_grace`] the ones still open are dropped, so a stalled client
//!   cannot hold the process.
//! - **an idle hook** ([`ServerConfig::when_idle`]): called when the last open connection
//!   closes, at most every [`IDLE_HOOK_GAP`] (a close within it is answered once the gap has
//!   passed, if the server is still idle then). The binary returns the allocator's freed
//!   memory there, so that memory can be kept for reuse while requests come and given back
//!   when they stop.
//!
//! Metrics: `stock_api_http_connections_open`, `stock_api_http_connections_total{outcome}`
//! (`accepted`, `refused` over the limit, `failed` to accept), `stock_api_http_timeouts_total{kind}`
//! (`header`, `body`, `idle`) and `stock_api_http_shutdown_drains_total{outcome}` (`complete`,
//! `forced`).

mod connection;
mod service;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use metrics::{Counter, Gauge};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::Routes;

/// Connection limits, timeouts and the shutdown bound.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// How long a connection may take to send a complete request head: from being accepted,
    /// or from the first byte of a later request on a kept-alive connection. Bounds clients
    /// that connect and send nothing, or trickle headers.
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive, from the moment its handler starts reading
    /// it. A body that misses it is answered 408 and the connection closed.
    pub body_timeout: Duration,
    /// How long a connection may sit with no request in progress and no byte moving either
    /// way before it is closed (kept-alive connections between requests).
    pub idle_timeout: Duration,
    /// Connections open at once; more are closed as they are accepted.
    pub max_connections: usize,
    /// How long shutdown waits for open connections to finish before dropping them.
    pub shutdown_grace: Duration,
    /// Called on a worker thread when the last open connection closes (see the module
    /// documentation); it should take well under a millisecond.
    pub when_idle: Option<fn()>,
}

/// The shortest time between two calls of [`ServerConfig::when_idle`].
pub const IDLE_HOOK_GAP: Duration = Duration::from_millis(100);

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(20),
            when_idle: None,
        }
    }
}

/// How the drain at shutdown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// Every connection finished within the grace period.
    Complete,
    /// The grace period ended with this many connections still open; they were dropped.
    Forced { dropped: usize },
}

/// What shutdown asks of every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish the request in progress, then close.
    Draining,
    /// Close now.
    Closing,
}

/// What every connection task shares: the settings (`max_connections` as enforced), the HTTP
/// builder, the metric handles and the connection limit.
#[derive(Debug)]
struct Shared {
    config: ServerConfig,
    builder: auto::Builder<TokioExecutor>,
    metrics: ServerMetrics,
    /// A permit per open connection.
    limit: Arc<Semaphore>,
    idle: IdleHook,
}

/// When [`ServerConfig::when_idle`] last ran, and whether a later call is waiting for the gap.
#[derive(Debug)]
struct IdleHook {
    started: tokio::time::Instant,
    /// Milliseconds from `started` to the last call (0: never).
    last_ms: AtomicU64,
    waiting: AtomicBool,
}

impl IdleHook {
    fn new() -> Self {
        Self {
            started: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
        }
    }
}

impl Shared {
    /// Connections open now: the permits out (while draining, also the ones the drain holds).
    fn open_connections(&self) -> usize {
        self.config.max_connections - self.limit.available_permits()
    }

    /// A connection closed and none is open: call the hook now, or once the gap has passed.
    fn now_idle(self: &Arc<Self>) {
        let Some(hook) = self.config.when_idle else {
            return;
        };
        let now_ms = self.idle.started.elapsed().as_millis() as u64 + 1;
        let last_ms = self.idle.last_ms.load(Ordering::Relaxed);
        let gap_ms = IDLE_HOOK_GAP.as_millis() as u64;
        if last_ms == 0 || now_ms >= last_ms + gap_ms {
            // Two connections closing together both find none open: one of them calls.
            if self
                .idle
                .last_ms
                .compare_exchange(last_ms, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                hook();
            }
            return;
        }
        if self.idle.waiting.swap(true, Ordering::AcqRel) {
            return;
        }
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(last_ms + gap_ms - now_ms)).await;
            shared.idle.waiting.store(false, Ordering::Release);
            if shared.open_connections() == 0 {
                shared.now_idle();
            }
        });
    }
}

/// Metric handles, registered once per server.
#[derive(Debug, Clone)]
struct ServerMetrics {
    open: Gauge,
    accepted: Counter,
    refused: Counter,
    failed: Counter,
    header_timeouts: Counter,
    body_timeouts: Counter,
    idle_timeouts: Counter,
}

impl ServerMetrics {
    fn register() -> Self {
        let connections = |outcome: &'static str| metrics::counter!("stock_api_http_connections_total", "outcome" => outcome);
        let timeouts =
            |kind: &'static str| metrics::counter!("stock_api_http_timeouts_total", "kind" => kind);
        Self {
            open: metrics::gauge!("stock_api_http_connections_open"),
            accepted: connections("accepted"),
            refused: connections("refused"),
            failed: connections("failed"),
            header_timeouts: timeouts("header"),
            body_timeouts: timeouts("body"),
            idle_timeouts: timeouts("idle"),
        }
    }
}

/// Serves `routes` on `listener` until `shutdown` resolves, then drains (see the module
/// documentation). Each routed request carries its peer address (`ConnectInfo<SocketAddr>`),
/// which login rate limiting counts failures against; the paths answered without the router
/// are given it as an argument (`service`). A bare router is `Routes::from(router)`.
pub async fn serve_with(
    listener: TcpListener,
    routes: Routes,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Drain> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's own header timer also runs while a kept-alive connection waits for its next
    // request, so it cannot be told apart from the idle timeout; `connection` keeps both.
    builder.http1().keep_alive(true).header_read_timeout(None);
    // Bounded so that every permit can be waited for at once when draining.
    let most = Semaphore::MAX_PERMITS.min(usize::try_from(u32::MAX).unwrap_or(usize::MAX));
    let max_connections = config.max_connections.clamp(1, most);
    let shared = Arc::new(Shared {
        config: ServerConfig {
            max_connections,
            ..config
        },
        builder,
        metrics: ServerMetrics::register(),
        limit: Arc::new(Semaphore::new(max_connections)),
        idle: IdleHook::new(),
    });
    let (phase, phase_seen) = watch::channel(Phase::Serving);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    shared.metrics.failed.increment(1);
                    pause_after_accept_error(err).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&shared.limit).try_acquire_owned() else {
            shared.metrics.refused.increment(1);
            drop(stream);
            continue;
        };
        shared.metrics.accepted.increment(1);
        tokio::spawn(serve_connection(
            stream,
            peer,
            routes.clone(),
            Arc::clone(&shared),
            permit,
            phase_seen.clone(),
        ));
    }
    drop(listener);
    Ok(drain(&shared, &phase).await)
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    routes: Routes,
    shared: Arc<Shared>,
    permit: tokio::sync::OwnedSemaphorePermit,
    phase: watch::Receiver<Phase>,
) {
    shared.metrics.open.increment(1.0);
    connection::run(stream, peer, routes, &shared, phase).await;
    shared.metrics.open.decrement(1.0);
    drop(permit);
    if shared.open_connections() == 0 {
        shared.now_idle();
    }
}

/// Asks every connection to finish, waits up to the grace period for all of them (all permits
/// back), then drops the rest.
async fn drain(shared: &Shared, phase: &watch::Sender<Phase>) -> Drain {
    let limit = &shared.limit;
    let all = u32::try_from(shared.config.max_connections).unwrap_or(u32::MAX);
    tracing::info!(
        connections = shared.open_connections(),
        grace_seconds = shared.config.shutdown_grace.as_secs_f64(),
        "no longer accepting connections; draining"
    );
    phase.send_replace(Phase::Draining);
    let outcome =
        match tokio::time::timeout(shared.config.shutdown_grace, limit.acquire_many(all)).await {
            Ok(_) => Drain::Complete,
            Err(_) => {
                let dropped = shared.open_connections();
                phase.send_replace(Phase::Closing);
                // Each connection task returns as soon as it sees `Closing`.
                let _ = tokio::time::timeout(Duration::from_secs(1), limit.acquire_many(all)).await;
                tracing::warn!(
                    connections = dropped,
                    "connections still open after shutdown_grace were closed"
                );
                Drain::Forced { dropped }
            }
        };
    let label = match outcome {
        Drain::Complete => "complete",
        Drain::Forced { .. } => "forced",
    };
    metrics::counter!("stock_api_http_shutdown_drains_total", "outcome" => label).increment(1);
    outcome
}

/// After a failed accept: connection-level errors (the peer gave up) need nothing; anything
/// else, typically running out of file descriptors, is logged and the loop pauses so it does
/// not spin while connections close and free some.
async fn pause_after_accept_error(err: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "could not accept a connection; pausing accepts for 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
