//! The HTTP server over real loopback TCP: slow or silent clients are disconnected, the
//! connection limit holds, HTTP/2 and the peer address still work, and shutdown finishes while
//! a stalled client is connected.
//!
//! Timeouts run on tokio's paused clock (paused once the server is up: loopback I/O completes
//! in the kernel, so the clock only jumps while every task waits). Each wait has a generous
//! failure guard in the same virtual time, which costs nothing when the awaited event comes.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use web::{Drain, IDLE_HOOK_GAP, ServerConfig};

use crate::helpers::TestApp;

/// Longer than any timeout under test: reaching it means the server never acted.
const GUARD: Duration = Duration::from_secs(120);

/// A server on 127.0.0.1 over the sample app.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<Drain>>,
    _app: Option<TestApp>,
}

impl Running {
    /// The sample app's routes as `stockd serve` serves them.
    async fn app(config: ServerConfig) -> Self {
        let app = TestApp::sample().await;
        let mut running = Self::router(web::routes(app.state.clone()), config).await;
        running._app = Some(app);
        running
    }

    /// [`Running::app`], then tokio's clock paused (see the module documentation).
    async fn paused(config: ServerConfig) -> Self {
        let running = Self::app(config).await;
        tokio::time::pause();
        running
    }

    pub(crate) async fn router(router: impl Into<web::Routes>, config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let served = tokio::spawn(web::serve_with(listener, router.into(), config, shutdown));
        Self {
            addr,
            stop: Some(stop),
            served,
            _app: None,
        }
    }

    pub(crate) async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// Triggers shutdown and waits (guarded) for `serve_with` to return.
    async fn shut_down(mut self) -> Drain {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(GUARD, &mut self.served)
            .await
            .expect("the server did not finish shutting down")
            .unwrap()
            .unwrap()
    }
}

/// Settings with every timeout far out of the way except those a test sets.
pub(crate) fn patient() -> ServerConfig {
    ServerConfig {
        header_read_timeout: Duration::from_secs(3600),
        body_timeout: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(3600),
        max_connections: 64,
        shutdown_grace: Duration::from_secs(3600),
        when_idle: None,
    }
}

/// One HTTP/1.1 response from `stream`: status line, headers, and a `content-length` body.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(GUARD, stream.read(&mut byte))
            .await
            .expect("no response")
            .unwrap();
        assert_eq!(
            n,
            1,
            "closed mid-response: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.push(byte[0]);
    }
    let head = String::from_utf8(raw).unwrap();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// Reads until the server closes the connection (end of stream or reset) and returns what it
/// sent first; panics if the guard passes first.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(GUARD, stream.read(&mut buffer)).await {
            Err(_) => panic!(
                "the server kept the connection open; it sent: {}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
            Ok(Err(err)) => panic!("{err}"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: stockd\r\n\r\n";

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = Running::paused(ServerConfig {
        header_read_timeout: Duration::from_secs(10),
        ..patient()
    })
    .await;
    let mut silent = server.connect().await;
    let mut slow = server.connect().await;
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: st")
        .await
        .unwrap();
    assert_eq!(until_closed(&mut silent).await, "");
    assert_eq!(until_closed(&mut slow).await, "");
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected_at_the_header_deadline() {
    let server = Running::paused(ServerConfig {
        header_read_timeout: Duration::from_secs(10),
        ..patient()
    })
    .await;
    let mut client = server.connect().await;
    let started = tokio::time::Instant::now();
    // One byte every 2 s never finishes a head, however long it keeps sending.
    for byte in b"GET /health HTTP/1.1\r\nX-Slow: ".iter().cycle().take(200) {
        if client.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    until_closed(&mut client).await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "closed only after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stalled_request_body_is_answered_408_and_the_connection_closed() {
    let server = Running::paused(ServerConfig {
        body_timeout: Duration::from_secs(30),
        ..patient()
    })
    .await;
    let mut client = server.connect().await;
    client
        .write_all(
            b"POST /v1/auth/login HTTP/1.1\r\nHost: stockd\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.contains("request body"), "{answer}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let server = Running::paused(ServerConfig {
        idle_timeout: Duration::from_secs(60),
        ..patient()
    })
    .await;
    let mut client = server.connect().await;
    client.write_all(HEALTH).await.unwrap();
    let first = read_response(&mut client).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    // The connection stays usable while it is used…
    tokio::time::sleep(Duration::from_secs(30)).await;
    client.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));
    // …and is closed once nothing happens on it.
    let started = tokio::time::Instant::now();
    assert_eq!(until_closed(&mut client).await, "");
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn over_the_limit_connections_are_closed_while_open_ones_are_still_served() {
    let server = Running::paused(ServerConfig {
        max_connections: 2,
        ..patient()
    })
    .await;
    let mut first = server.connect().await;
    first.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
    let mut second = server.connect().await;
    second.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut second).await.starts_with("HTTP/1.1 200"));

    let mut third = server.connect().await;
    // Closed without an answer (a request may already be on its way: then a reset).
    let _ = third.write_all(HEALTH).await;
    assert_eq!(until_closed(&mut third).await, "");

    first.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));

    // A place frees up once a connection has closed (which the server learns on its own
    // time: retried until a deadline).
    drop(second);
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let mut next = server.connect().await;
        let mut head = [0u8; 12];
        if next.write_all(HEALTH).await.is_ok() && next.read_exact(&mut head).await.is_ok() {
            assert_eq!(&head, b"HTTP/1.1 200");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no place freed up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn shutdown_finishes_within_the_grace_period_while_a_client_is_stalled() {
    let server = Running::app(ServerConfig {
        shutdown_grace: Duration::from_secs(20),
        ..patient()
    })
    .await;
    let mut stalled = server.connect().await;
    stalled
        .write_all(b"GET /health HTTP/1.1\r\nHo")
        .await
        .unwrap();
    // An idle kept-alive connection closes at once on shutdown.
    let mut idle = server.connect().await;
    idle.write_all(HEALTH).await.unwrap();
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));

    let started = tokio::time::Instant::now();
    let drain = server.shut_down().await;
    assert_eq!(drain, Drain::Forced { dropped: 1 });
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(until_closed(&mut stalled).await, "");
    assert_eq!(until_closed(&mut idle).await, "");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once_and_completes() {
    let server = Running::paused(ServerConfig {
        shutdown_grace: Duration::from_secs(20),
        ..patient()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(answered(&server).await);
    }
    let started = tokio::time::Instant::now();
    assert_eq!(server.shut_down().await, Drain::Complete);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "idle connections held the drain for {:?}",
        started.elapsed()
    );
    for connection in &mut idle {
        assert_eq!(until_closed(connection).await, "");
    }
}

/// Calls of the idle hook of the one test that sets it.
static IDLE_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn count_idle_call() {
    IDLE_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Lets the server run (each yield also polls the I/O driver, and the paused clock does not
/// move) and returns the idle hook's calls then.
async fn idle_calls_after_the_server_ran() -> usize {
    for _ in 0..2_000 {
        tokio::task::yield_now().await;
    }
    IDLE_CALLS.load(std::sync::atomic::Ordering::SeqCst)
}

/// A connection that has been answered once (so the server counts it open).
async fn answered(server: &Running) -> TcpStream {
    let mut connection = server.connect().await;
    connection.write_all(HEALTH).await.unwrap();
    assert!(
        read_response(&mut connection)
            .await
            .starts_with("HTTP/1.1 200")
    );
    connection
}

#[tokio::test]
async fn the_idle_hook_runs_when_the_last_connection_closes_at_most_once_per_gap() {
    let server = Running::paused(ServerConfig {
        when_idle: Some(count_idle_call),
        ..patient()
    })
    .await;
    let first = answered(&server).await;
    let second = answered(&server).await;
    drop(first);
    assert_eq!(
        idle_calls_after_the_server_ran().await,
        0,
        "one is still open"
    );
    drop(second);
    assert_eq!(
        idle_calls_after_the_server_ran().await,
        1,
        "the last one closed"
    );

    // Within the gap: answered once the gap has passed, and only once.
    drop(answered(&server).await);
    drop(answered(&server).await);
    assert_eq!(idle_calls_after_the_server_ran().await, 1, "within the gap");
    // (Timers fire on whole milliseconds.)
    tokio::time::advance(IDLE_HOOK_GAP + Duration::from_millis(1)).await;
    assert_eq!(idle_calls_after_the_server_ran().await, 2, "after the gap");
    tokio::time::advance(IDLE_HOOK_GAP * 3).await;
    assert_eq!(
        idle_calls_after_the_server_ran().await,
        2,
        "nothing closed since"
    );
    server.shut_down().await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let reached = std::sync::Arc::new(tokio::sync::Notify::new());
    let handler = reached.clone();
    let slow = Router::new().route(
        "/slow",
        get(move || async move {
            handler.notify_one();
            tokio::time::sleep(Duration::from_secs(5)).await;
            "done"
        }),
    );
    let server = Running::router(
        slow,
        ServerConfig {
            shutdown_grace: Duration::from_secs(20),
            ..patient()
        },
    )
    .await;
    tokio::time::pause();
    let mut client = server.connect().await;
    client
        .write_all(b"GET /slow HTTP/1.1\r\nHost: stockd\r\n\r\n")
        .await
        .unwrap();
    // The request has reached the handler before the shutdown starts.
    reached.notified().await;
    let drain = tokio::spawn(server.shut_down());
    let answer = until_closed(&mut client).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"),
        "{answer}"
    );
    assert_eq!(drain.await.unwrap(), Drain::Complete);
}

#[tokio::test]
async fn handlers_see_the_client_address() {
    let router = Router::new().route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let server = Running::router(router, patient()).await;
    let mut client = server.connect().await;
    let local = client.local_addr().unwrap();
    client
        .write_all(b"GET /peer HTTP/1.1\r\nHost: stockd\r\n\r\n")
        .await
        .unwrap();
    let answer = read_response(&mut client).await;
    assert!(answer.ends_with(&local.to_string()), "{answer}");
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_still_served() {
    let server = Running::app(patient()).await;
    let io = hyper_util::rt::TokioIo::new(server.connect().await);
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = axum::http::Request::get(format!("http://{}/health", server.addr))
        .body(http_body_util::Empty::<axum::body::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), axum::http::Version::HTTP_2);
}
