//! Fan-out benchmark of `GET /v1/stream`: one process serves (the real router and stream hub
//! over an in-process bus and memory store, on 127.0.0.1), another opens SUBSCRIBERS streams
//! to it, asks it to publish EVENTS quotes, and measures for every (subscriber, event) the
//! time from publish (the quote's `at`) to the moment the subscriber has read it, and the
//! server's resident memory per open stream (VmRSS after opening them minus before, divided
//! by their number). Loopback only; every wait is bounded.
//!
//! `stream-fanout [SUBSCRIBERS] [EVENTS] [GAP_MS]` (defaults 1000, 200, 20).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::{Bus, BusConfig, Event, MemoryBus, QuoteEvent};
use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        return serve().await;
    }
    let number =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    load(number(1, 1000), number(2, 200), number(3, 20) as u64).await;
}

/// The server: prints `READY <port>`, then publishes `n` quotes `gap` ms apart for each
/// `publish <n> <gap>` line on standard input.
async fn serve() {
    let store: Arc<dyn store::Store> = Arc::new(store::MemoryStore::new());
    let market = Arc::new(market::Market::new(
        Arc::new(providers::sample::Sample::new()),
        store.clone(),
        market::MarketConfig::default(),
    ));
    let config = web::WebConfig {
        defaults: web::Defaults {
            symbol: domain::Symbol::parse("MSFT").unwrap(),
            days: 7,
        },
        max_days: 5000,
        features: web::features::Features::default(),
        admin_token: None,
        limits: web::limits::Limits::default(),
        signals: domain::SignalsConfig::default(),
        news: service::news::NewsSettings::default(),
        sentiment: service::scoring::SentimentChain::default(),
    };
    let auth = web::auth::AuthSettings {
        hasher: web::auth::PasswordHasher::fast_for_tests(),
        signups_per_address: 0,
        ..web::auth::AuthSettings::default()
    };
    let state = web::AppState::with_auth(
        store,
        market,
        config,
        web::observe::install_metrics_recorder(),
        auth,
    );
    let bus = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
    let settings = service::stream::StreamSettings {
        per_user: 0,
        ..service::stream::StreamSettings::default()
    };
    state.set_stream_hub(
        service::stream::Hub::start(bus.as_ref(), settings)
            .await
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("READY {}", listener.local_addr().unwrap().port());
    let routes = web::routes(state);
    let server = web::ServerConfig {
        max_connections: 20_000,
        ..web::ServerConfig::default()
    };
    tokio::spawn(web::serve_with(
        listener,
        routes,
        server,
        std::future::pending(),
    ));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let parts: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|p| p.parse().ok())
            .collect();
        let (n, gap) = (
            parts.first().copied().unwrap_or(0),
            parts.get(1).copied().unwrap_or(0),
        );
        for k in 0..n {
            let quote = Event::Quote(QuoteEvent {
                symbol: domain::Symbol::parse("MSFT").unwrap(),
                price: format!("{}", 100 + k).parse().unwrap(),
                previous_close: None,
                at: Utc::now(),
                source: "bench".into(),
            });
            bus.publish(&quote).await.unwrap();
            tokio::time::sleep(Duration::from_millis(gap)).await;
        }
        println!("PUBLISHED {n}");
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

async fn load(subscribers: usize, events: usize, gap_ms: u64) {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdin = child.stdin.take().unwrap();
    let ready = out.next_line().await.unwrap().unwrap();
    let port: u16 = ready.trim_start_matches("READY ").parse().unwrap();
    let base = format!("http://127.0.0.1:{port}");

    let http = reqwest::Client::new();
    let credentials =
        serde_json::json!({"email": "bench@example.com", "password": "plum orbit lantern fjord"});
    let registered = http
        .post(format!("{base}/v1/auth/register"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert!(
        registered.status().is_success(),
        "register: {}",
        registered.status()
    );
    let login: serde_json::Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = Arc::new(login["access_token"].as_str().unwrap().to_owned());

    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let opened = Arc::new(tokio::sync::Barrier::new(subscribers + 1));
    let mut clients = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let token = token.clone();
        let opened = opened.clone();
        clients.push(tokio::spawn(async move {
            subscriber(port, &token, events, opened).await
        }));
    }
    opened.wait().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = rss_kib(pid);

    let started = Instant::now();
    stdin
        .write_all(format!("publish {events} {gap_ms}\n").as_bytes())
        .await
        .unwrap();
    let mut latencies: Vec<f64> = Vec::with_capacity(subscribers * events);
    let mut dropped = 0;
    for client in clients {
        let (mine, closed) = client.await.unwrap();
        latencies.extend(mine);
        dropped += usize::from(closed);
    }
    let wall = started.elapsed();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!("subscribers:        {subscribers}");
    println!(
        "events:             {events} quotes, {gap_ms} ms apart ({} deliveries expected)",
        subscribers * events
    );
    println!(
        "delivered:          {} in {:.1} s; streams dropped: {dropped}",
        latencies.len(),
        wall.as_secs_f64()
    );
    if !latencies.is_empty() {
        println!(
            "fan-out latency:    p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
    }
    println!(
        "server RSS:         {:.1} MiB before, {:.1} MiB with the streams open: {:.1} KiB per stream",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / subscribers as f64
    );
    let _ = child.kill().await;
}

/// One subscriber: opens the stream (HTTP/1.0, so the body is not chunked), reports when it
/// is open, then reads `events` quotes; returns each one's latency in ms and whether the
/// server dropped the stream.
async fn subscriber(
    port: u16,
    token: &str,
    events: usize,
    opened: Arc<tokio::sync::Barrier>,
) -> (Vec<f64>, bool) {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "GET /v1/stream?topics=quotes:MSFT HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(socket);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    opened.wait().await;
    let mut latencies = Vec::with_capacity(events);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut line = String::new();
    while latencies.len() < events && Instant::now() < deadline {
        line.clear();
        let read = tokio::time::timeout(Duration::from_secs(30), reader.read_line(&mut line)).await;
        match read {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => return (latencies, true),
            Ok(Ok(_)) => {}
        }
        if line.starts_with("event: closing") {
            return (latencies, true);
        }
        if let Some(data) = line.strip_prefix("data: ") {
            let received = Utc::now();
            let json: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
            let at: DateTime<Utc> = json["at"].as_str().unwrap().parse().unwrap();
            latencies.push((received - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
    }
    let _ = reader.read(&mut [0u8; 0]).await;
    (latencies, false)
}
