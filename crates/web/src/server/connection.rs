//! One connection: hyper serving it, a watchdog closing it when it stalls, and the shutdown
//! phases.
//!
//! The watchdog samples what the connection did instead of timing every read: the socket
//! wrapper ([`WatchedIo`]) only bumps counters (no clock read, no allocation per read or
//! write), the request wrapper counts requests in flight, and a timer per connection looks at
//! them a few times per timeout:
//!
//! - while no request is in flight and the connection has not finished its first request head
//!   since being accepted, or has received bytes of a next one, the **header** clock runs, and
//!   the connection is closed once it reaches `header_read_timeout` (slow or silent clients);
//! - while no request is in flight and no byte moves either way, the **idle** clock runs, up to
//!   `idle_timeout` (kept-alive connections nobody uses, responses nobody reads);
//! - a request in flight stops both: a slow handler is bounded by its own timeouts, and a
//!   stalled request body by the body timeout ([`super::service`]).
//!
//! A clock is read in steps of a quarter of the shorter timeout, so a connection is closed
//! between the timeout and 1.25 times it. On HTTP/2 any frame received between requests
//! (a ping) starts the header clock: the client is expected to follow it with a request.
//!
//! The watchdog and the shutdown phase are one stop signal, polled beside hyper's connection
//! only when one of them woke the task (see [`run`]), so a request does not pay for them.

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::service::ConnectionService;
use super::{Phase, Shared};
use crate::Routes;

/// The shortest step of the watchdog, so tiny test timeouts do not spin it.
const MIN_STEP: Duration = Duration::from_millis(5);

/// Serves one connection until it ends, stalls, or shutdown closes it.
pub(super) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    routes: Routes,
    shared: &Shared,
    phase: watch::Receiver<Phase>,
) {
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(WatchedIo {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let service = ConnectionService::new(
        routes,
        peer,
        Arc::clone(&activity),
        shared.config.body_timeout,
        shared.metrics.body_timeouts.clone(),
    );
    let mut conn = std::pin::pin!(shared.builder.serve_connection(io, service));
    let drain_asked = AtomicBool::new(false);
    let mut stop = std::pin::pin!(stop_signal(
        &activity,
        shared.config.header_read_timeout,
        shared.config.idle_timeout,
        phase,
        &drain_asked,
    ));
    // `tokio::select!` would poll every branch on every wake-up of the task, and the task
    // wakes for each request: polling the watchdog's timer and the shutdown phase's
    // `Notified` (which takes a lock shared with other connections on each poll) cost about
    // 300 instructions of a cached read (callgrind), more than anything else this module
    // does. The stop signal is polled with a waker of its own instead ([`StopWake`]), only
    // when that waker fired: a request pays one waker registration and one flag read.
    // Hand-written because the connection must stay reachable between polls
    // (`graceful_shutdown`), which the crates' combinators of two futures do not allow.
    let stop_wake = Arc::new(StopWake {
        // Polled once at first, to arm its timer and its wait for the phase.
        fired: AtomicBool::new(true),
        task: AtomicWaker::new(),
    });
    let stop_waker = Waker::from(Arc::clone(&stop_wake));
    let mut draining = false;
    let ended = std::future::poll_fn(|cx| {
        stop_wake.task.register(cx.waker());
        if conn.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ended::Served);
        }
        if !stop_wake.fired.swap(false, Ordering::Acquire) {
            return Poll::Pending;
        }
        if let Poll::Ready(ended) = stop.as_mut().poll(&mut Context::from_waker(&stop_waker)) {
            return Poll::Ready(ended);
        }
        if !draining && drain_asked.load(Ordering::Relaxed) {
            draining = true;
            conn.as_mut().graceful_shutdown();
            // An idle connection ends at once; a busy one after its response.
            if conn.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ended::Served);
            }
        }
        Poll::Pending
    })
    .await;
    match ended {
        Ended::Served | Ended::Closed => {}
        Ended::Stalled(Stalled::Header) => shared.metrics.header_timeouts.increment(1),
        Ended::Stalled(Stalled::Idle) => shared.metrics.idle_timeouts.increment(1),
    }
}

/// How a connection's task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The connection finished (the client closed it, an error, or a drain completed).
    Served,
    /// The watchdog found it stalled.
    Stalled(Stalled),
    /// Shutdown closed it, or the server is gone.
    Closed,
}

/// Resolves when the connection must be closed: stalled, or told to by shutdown. A drain
/// request does not resolve it; it sets `drain_asked` and goes on waiting (for a stall or
/// `Closing`), since a draining connection still finishes its request.
async fn stop_signal(
    activity: &Activity,
    header_timeout: Duration,
    idle_timeout: Duration,
    mut phase: watch::Receiver<Phase>,
    drain_asked: &AtomicBool,
) -> Ended {
    let mut watchdog = std::pin::pin!(watchdog(activity, header_timeout, idle_timeout));
    loop {
        tokio::select! {
            stalled = &mut watchdog => return Ended::Stalled(stalled),
            changed = phase.changed() => {
                let now = *phase.borrow_and_update();
                // A dropped sender means the server itself is gone.
                if changed.is_err() || now == Phase::Closing {
                    return Ended::Closed;
                }
                if now == Phase::Draining {
                    drain_asked.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// The stop signal's waker: marks it as due for a poll and wakes the connection's task.
#[derive(Debug)]
struct StopWake {
    fired: AtomicBool,
    task: AtomicWaker,
}

impl Wake for StopWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// What a connection did, as the watchdog sees it.
#[derive(Debug, Default)]
pub(super) struct Activity {
    /// Reads and writes that moved bytes.
    transfers: AtomicU64,
    /// Requests handed to the router so far.
    requests: AtomicU64,
    /// Requests whose response is not ready yet.
    in_flight: AtomicUsize,
    /// Bytes arrived while no request was in flight: a next request head is on its way.
    head_arriving: AtomicBool,
}

impl Activity {
    /// A request head was parsed and goes to the router.
    pub(super) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        // Only the connection's own task starts requests, so a plain store is enough.
        let requests = self.requests.load(Ordering::Relaxed);
        self.requests.store(requests + 1, Ordering::Relaxed);
        self.head_arriving.store(false, Ordering::Relaxed);
    }

    /// The response of a request is ready (or the request was abandoned).
    pub(super) fn request_finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    fn transferred(&self) {
        // Only the connection's own task reads and writes its socket.
        let transfers = self.transfers.load(Ordering::Relaxed);
        self.transfers
            .store(transfers.wrapping_add(1), Ordering::Relaxed);
    }

    fn received(&self) {
        self.transferred();
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            self.head_arriving.store(true, Ordering::Relaxed);
        }
    }
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stalled {
    Header,
    Idle,
}

/// Resolves when the connection has stalled (see the module documentation).
async fn watchdog(
    activity: &Activity,
    header_timeout: Duration,
    idle_timeout: Duration,
) -> Stalled {
    let step = (header_timeout.min(idle_timeout) / 4).max(MIN_STEP);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + step, step);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen_requests = 0;
    let mut seen_transfers = activity.transfers.load(Ordering::Relaxed);
    let mut waiting_for_head = Duration::ZERO;
    let mut quiet = Duration::ZERO;
    loop {
        ticks.tick().await;
        let requests = activity.requests.load(Ordering::Relaxed);
        let transfers = activity.transfers.load(Ordering::Relaxed);
        if activity.in_flight.load(Ordering::Relaxed) > 0 || requests != seen_requests {
            (seen_requests, seen_transfers) = (requests, transfers);
            (waiting_for_head, quiet) = (Duration::ZERO, Duration::ZERO);
            continue;
        }
        if requests == 0 || activity.head_arriving.load(Ordering::Relaxed) {
            waiting_for_head += step;
            if waiting_for_head >= header_timeout {
                return Stalled::Header;
            }
        }
        if transfers == seen_transfers {
            quiet += step;
            if quiet >= idle_timeout {
                return Stalled::Idle;
            }
        } else {
            (seen_transfers, quiet) = (transfers, Duration::ZERO);
        }
    }
}

/// The socket, counting reads and writes for the watchdog. Not boxed, and every call goes
/// straight through (vectored writes included, which hyper uses for head + body).
#[derive(Debug)]
struct WatchedIo {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.received();
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.transferred();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.transferred();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
