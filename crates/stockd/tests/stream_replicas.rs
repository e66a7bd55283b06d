//! The live stream (`GET /v1/stream`) across two replicas on PostgreSQL and NATS, against the
//! real binary twice: a client on one replica receives the events the other made (its poller's
//! quotes, the firings and deliveries of either), with the same event ids on both; a resume
//! (`Last-Event-ID`) on the other replica continues where the first left off; and a sign-out
//! on one replica ends the session's stream on the other with a final `closing` (`revoked`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use serde_json::Value;
use support::serve::{Server, User, accepting_receiver, set_up_alerts, wait_for};

/// The NATS server of the integration tests, or `None` (after a note) outside CI.
fn nats_url() -> Option<String> {
    match std::env::var("STOCKD_TEST_NATS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| !matches!(ci.trim(), "" | "0" | "false")) => {
            panic!("CI is set but STOCKD_TEST_NATS_URL is not: the NATS path must be tested in CI")
        }
        _ => {
            eprintln!("note: STOCKD_TEST_NATS_URL is not set; skipping the two-replica test");
            None
        }
    }
}

/// One SSE event (comments, the heartbeats, are skipped).
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    event: String,
    id: Option<String>,
    data: Value,
}

/// An open stream, read event by event.
struct Sse {
    response: reqwest::Response,
    text: String,
}

impl Sse {
    async fn open(server: &Server, token: &str, topics: &str, last: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(format!("{}/v1/stream?topics={topics}", server.base))
            .bearer_auth(token);
        if let Some(last) = last {
            request = request.header("last-event-id", last);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.headers());
        Self {
            response,
            text: String::new(),
        }
    }

    /// The next event; `None` when the server ended the stream.
    async fn next(&mut self) -> Option<Frame> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (None, None, None);
                for line in block.lines() {
                    match line.split_once(':') {
                        Some(("event", v)) => event = Some(v.trim().to_owned()),
                        Some(("id", v)) => id = Some(v.trim().to_owned()),
                        Some(("data", v)) => data = Some(serde_json::from_str(v.trim()).unwrap()),
                        _ => {}
                    }
                }
                if let (Some(event), Some(data)) = (event, data) {
                    return Some(Frame { event, id, data });
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.response.chunk())
                .await
                .expect("an event or a heartbeat within 60 s")
                .expect("the stream reads")?;
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Events until one that `wanted` picks, all of them in order.
    async fn until(&mut self, wanted: impl Fn(&Frame) -> bool) -> Vec<Frame> {
        let mut seen = Vec::new();
        loop {
            let frame = self.next().await.expect("the stream stays open");
            let done = wanted(&frame);
            seen.push(frame);
            if done {
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn a_stream_on_one_replica_carries_the_others_events_with_the_same_ids_and_resumes_there() {
    let (Some(admin_url), Some(nats)) = (common::postgres_admin_url(), nats_url()) else {
        return;
    };
    let database = common::TestPostgres::create(&admin_url).await;
    let prefix = format!("sse{}", std::process::id());
    let receiver = accepting_receiver().await;
    let shared = [
        ("STOCKD_DATABASE_URL", database.url.as_str()),
        ("STOCKD_NATS_URL", nats.as_str()),
        ("STOCKD_NATS_PREFIX", prefix.as_str()),
        ("STOCKD_FEATURES__SCHEDULED_INGEST", "false"),
        // Token checks (and heartbeats) twice a second: a sign-out elsewhere ends a stream
        // within that.
        ("STOCKD_STREAM_HEARTBEAT", "500ms"),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Server::start_with(dir_a.path(), &shared).await;
    let b = Server::start_with(dir_b.path(), &shared).await;
    let user = User::register(&b, "ann@example.com").await;
    let topics = "quotes:MSFT,alerts,notifications";

    // Both streams open before any quote: every event reaches both.
    let mut on_b = Sse::open(&b, &user.token, topics, None).await;
    let mut on_a = Sse::open(&a, &user.token, topics, None).await;
    set_up_alerts(&user, &receiver).await;
    wait_for(Duration::from_secs(30), "a poller to lead", || async {
        a.leads_quote_poller().await || b.leads_quote_poller().await
    })
    .await;
    let (a_polls, b_polls) = (a.leads_quote_poller().await, b.leads_quote_poller().await);
    assert!(a_polls != b_polls, "one poller: a {a_polls}, b {b_polls}");

    // Until a delivered notification: quotes, firings and deliveries, made on either replica.
    let seen_a = on_a
        .until(|f| f.event == "notification" && f.data["status"] == "delivered")
        .await;
    let kinds: std::collections::BTreeSet<&str> = seen_a.iter().map(|f| f.event.as_str()).collect();
    assert!(
        ["quote", "alert", "notification"]
            .iter()
            .all(|k| kinds.contains(k)),
        "{kinds:?}"
    );
    // The same events, in the same order, with the same ids, on B: so the replica that does
    // not poll showed the other's quotes.
    let last_id = seen_a.last().unwrap().id.clone();
    let seen_b = on_b.until(|f| f.id == last_id).await;
    let from_b: Vec<&Frame> = seen_b.iter().skip_while(|f| f.id != seen_a[0].id).collect();
    let from_a: Vec<&Frame> = seen_a.iter().collect();
    assert_eq!(from_b, from_a, "one sequence of events, one set of ids");
    assert!(
        seen_a
            .iter()
            .all(|f| f.id.as_deref().is_some_and(|id| id.contains('-'))),
        "every event has an id"
    );

    // A client that read up to the first event on A resumes on B: the rest, from B's buffer.
    let mut resumed = Sse::open(&b, &user.token, topics, seen_a[0].id.as_deref()).await;
    for expected in &seen_a[1..] {
        let frame = resumed.next().await.expect("the resumed stream stays open");
        assert_eq!(&frame, expected, "resumed in order with the same ids");
    }

    // A sign-out on B ends the session's stream on A (at A's next token check).
    let out = user
        .call(reqwest::Method::POST, "/v1/auth/logout", None)
        .await;
    assert!(out.0 < 300, "{out:?}");
    let rest = on_a.until(|f| f.event == "closing").await;
    let closing = rest.last().unwrap();
    assert_eq!(closing.data["reason"], "revoked", "{closing:?}");
    assert!(closing.id.is_none());
    assert!(
        on_a.next().await.is_none(),
        "the closing was the last message"
    );
    // And on B, where the sign-out happened, at once.
    let rest = on_b.until(|f| f.event == "closing").await;
    assert_eq!(rest.last().unwrap().data["reason"], "revoked");
    drop((a, b));
}
