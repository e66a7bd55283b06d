//! `GET /v1/stream` over HTTP: events from the bus reach their owner only, as SSE frames with
//! resumable ids; `Last-Event-ID` resumes; idle streams send heartbeats; bad topics answer 400,
//! a missing token 401, one stream too many 429; `/v1/system/instances` lists heartbeats.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use bus::{AlertFired, Bus, BusConfig, Event, MemoryBus, QuoteEvent};
use chrono::Utc;
use domain::{AlertNotice, Symbol};
use http_body_util::BodyExt;
use service::stream::{Hub, StreamSettings};
use tower::ServiceExt;

use crate::accounts::{App, PASSWORD};

/// An app with a live hub over its own in-process bus.
async fn app(settings: StreamSettings) -> (App, Arc<MemoryBus>) {
    let app = App::new().await;
    let bus = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
    app.state
        .set_stream_hub(Hub::start(bus.as_ref(), settings).await.unwrap());
    (app, bus)
}

/// Registers `email`: (user id, session token).
async fn user(app: &App, email: &str) -> (String, String) {
    let id = app.register(email).await["id"].as_str().unwrap().to_owned();
    let token = app.login(email, PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, token)
}

fn fired(user: &str, event_id: &str) -> Event {
    Event::AlertFired(AlertFired {
        event_id: event_id.into(),
        user_id: user.into(),
        notice: AlertNotice {
            rule_id: 1,
            symbol: Symbol::parse("MSFT").unwrap(),
            price: "421.5".parse().unwrap(),
            at: Utc::now(),
            source: "sim".into(),
            message: "MSFT crossed above 420".into(),
            dedupe_key: event_id.into(),
        },
    })
}

fn quote(price: &str) -> Event {
    Event::Quote(QuoteEvent {
        symbol: Symbol::parse("MSFT").unwrap(),
        price: price.parse().unwrap(),
        previous_close: None,
        at: Utc::now(),
        source: "sim".into(),
    })
}

/// An open event stream, read frame by frame.
struct Sse {
    body: Body,
    text: String,
}

/// One SSE message: its fields by name (`event`, `id`, `data`) or a comment.
#[derive(Debug)]
struct Frame {
    event: Option<String>,
    id: Option<String>,
    data: Option<serde_json::Value>,
    comment: Option<String>,
}

impl Sse {
    async fn next(&mut self) -> Frame {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut frame = Frame {
                    event: None,
                    id: None,
                    data: None,
                    comment: None,
                };
                for line in block.lines() {
                    if let Some(rest) = line.strip_prefix(':') {
                        frame.comment = Some(rest.trim().to_owned());
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match field {
                            "event" => frame.event = Some(value),
                            "id" => frame.id = Some(value),
                            "data" => frame.data = Some(serde_json::from_str(&value).unwrap()),
                            _ => {}
                        }
                    }
                }
                return frame;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.body.frame())
                .await
                .expect("a frame within 5 s")
                .expect("the stream is open")
                .unwrap();
            if let Ok(data) = chunk.into_data() {
                self.text.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }

    /// The next event, skipping heartbeats.
    async fn event(&mut self) -> Frame {
        loop {
            let frame = self.next().await;
            if frame.event.is_some() {
                return frame;
            }
        }
    }
}

/// Opens `uri` with `token` and extra headers; the response's status and, on 200, its stream.
async fn open(app: &App, uri: &str, token: Option<&str>, headers: &[(&str, &str)]) -> (u16, Sse) {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "an event stream"
        );
    }
    (
        status,
        Sse {
            body: response.into_body(),
            text: String::new(),
        },
    )
}

/// The problem body of a refused open.
async fn problem(sse: Sse) -> serde_json::Value {
    let bytes = sse.body.collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn an_alert_on_the_bus_reaches_its_owner_only_as_a_resumable_sse_event() {
    let (app, bus) = app(StreamSettings::default()).await;
    let (ann, ann_token) = user(&app, "ann@example.com").await;
    let (_bob, bob_token) = user(&app, "bob@example.com").await;
    let (status, mut ann_stream) = open(
        &app,
        "/v1/stream?topics=alerts,notifications",
        Some(&ann_token),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let (_, mut bob_stream) = open(
        &app,
        "/v1/stream?topics=alerts,quotes:MSFT",
        Some(&bob_token),
        &[],
    )
    .await;

    bus.publish(&fired(&ann, "e1")).await.unwrap();
    bus.publish(&quote("421.5")).await.unwrap();
    let alert = ann_stream.event().await;
    assert_eq!(alert.event.as_deref(), Some("alert"));
    assert_eq!(alert.data.as_ref().unwrap()["event_id"], "e1");
    let id = alert.id.expect("an event id");
    // Bob's first event is the quote: ann's alert never reached him.
    let first = bob_stream.event().await;
    assert_eq!(first.event.as_deref(), Some("quote"), "{first:?}");

    // Ann reconnects after missing one: the header resumes after her last id.
    drop(ann_stream);
    bus.publish(&fired(&ann, "e2")).await.unwrap();
    let (status, mut resumed) = open(
        &app,
        "/v1/stream?topics=alerts",
        Some(&ann_token),
        &[("last-event-id", &id)],
    )
    .await;
    assert_eq!(status, 200);
    let replayed = resumed.event().await;
    assert_eq!(replayed.data.unwrap()["event_id"], "e2");
    assert_ne!(replayed.id.unwrap(), id);
}

#[tokio::test]
async fn signing_out_ends_the_sessions_open_stream_with_a_revoked_closing() {
    let (app, _bus) = app(StreamSettings::default()).await;
    let (_, token) = user(&app, "ann@example.com").await;
    let (status, mut stream) = open(&app, "/v1/stream?topics=alerts", Some(&token), &[]).await;
    assert_eq!(status, 200);
    let out = app
        .send("POST", "/v1/auth/logout", Some(&token), None)
        .await;
    assert!(out.status.is_success(), "{}", out.text());
    // Well before the 15 s heartbeat: the sign-out ended it here at once.
    let closing = stream.event().await;
    assert_eq!(closing.event.as_deref(), Some("closing"), "{closing:?}");
    let data = closing.data.unwrap();
    assert_eq!(data["reason"], "revoked", "{data}");
    assert!(data["detail"].as_str().unwrap().contains("sign in again"));
    assert!(
        tokio::time::timeout(Duration::from_secs(5), stream.body.frame())
            .await
            .expect("the stream ends")
            .is_none(),
        "and nothing after it"
    );
    let (status, _) = open(&app, "/v1/stream?topics=alerts", Some(&token), &[]).await;
    assert_eq!(status, 401, "the token is gone");
}

#[tokio::test]
async fn idle_streams_send_heartbeats() {
    let settings = StreamSettings {
        heartbeat: Duration::from_millis(50),
        ..StreamSettings::default()
    };
    let (app, _bus) = app(settings).await;
    let (_, token) = user(&app, "ann@example.com").await;
    let (_, mut stream) = open(&app, "/v1/stream?topics=alerts", Some(&token), &[]).await;
    let beat = stream.next().await;
    assert_eq!(beat.comment.as_deref(), Some("heartbeat"), "{beat:?}");
}

#[tokio::test]
async fn bad_opens_answer_problems_that_say_what_to_fix() {
    let settings = StreamSettings {
        per_user: 1,
        ..StreamSettings::default()
    };
    let (app, _bus) = app(settings).await;
    let (_, token) = user(&app, "ann@example.com").await;

    let (status, sse) = open(&app, "/v1/stream?topics=alerts", None, &[]).await;
    assert_eq!(status, 401);
    assert!(
        problem(sse).await["detail"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    // A token in the URL is not a way in.
    let (status, _) = open(
        &app,
        &format!("/v1/stream?topics=alerts&access_token={token}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 401);

    let (status, sse) = open(&app, "/v1/stream?topics=quotes", Some(&token), &[]).await;
    assert_eq!(status, 400);
    assert!(
        problem(sse).await["detail"]
            .as_str()
            .unwrap()
            .contains("quotes:MSFT")
    );
    let (status, _) = open(
        &app,
        "/v1/stream?topics=alerts",
        Some(&token),
        &[("last-event-id", "not-an-id-at-all")],
    )
    .await;
    assert_eq!(status, 400);

    let (status, _held) = open(&app, "/v1/stream?topics=alerts", Some(&token), &[]).await;
    assert_eq!(status, 200);
    let (status, sse) = open(&app, "/v1/stream?topics=quotes:MSFT", Some(&token), &[]).await;
    assert_eq!(status, 429);
    let body = problem(sse).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("stream_max_per_user = 1"),
        "{body}"
    );
}

#[tokio::test]
async fn without_a_hub_the_stream_answers_503() {
    let app = App::new().await;
    let (_, token) = user(&app, "ann@example.com").await;
    let (status, _) = open(&app, "/v1/stream?topics=alerts", Some(&token), &[]).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn instances_are_listed_with_their_last_heartbeat_to_signed_in_users() {
    let (app, _bus) = app(StreamSettings::default()).await;
    let (_, token) = user(&app, "ann@example.com").await;
    assert_eq!(
        app.send("GET", "/v1/system/instances", None, None)
            .await
            .status,
        401
    );
    let me = service::instances::Me::new("host-a", "all", "0.1.0");
    app.state
        .service()
        .record_heartbeat(&me, Utc::now() - chrono::Duration::seconds(120))
        .await
        .unwrap();
    let listed = app
        .send("GET", "/v1/system/instances", Some(&token), None)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let body = listed.json();
    assert_eq!(body["heartbeat_seconds"], 15);
    assert_eq!(body["gone_after_seconds"], 45);
    let instance = &body["instances"][0];
    assert_eq!(instance["id"], me.id.as_str());
    assert_eq!(instance["role"], "all");
    assert_eq!(instance["status"], "gone", "silent for 120 s: {instance}");
    assert!(instance["last_seen_seconds"].as_u64().unwrap() >= 120);
}
