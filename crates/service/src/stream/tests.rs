//! The stream use case over the in-process bus: tenancy, resume, slow clients and the
//! per-user limit. Clock paused: "nothing arrives" is a timeout that passes at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bus::{AlertFired, Bus, BusConfig, Event, MemoryBus, NotificationStatus, QuoteEvent};
use chrono::Utc;
use domain::{AlertNotice, Symbol};

use super::*;
use crate::{Caller, ServiceError};

fn caller(id: &str) -> Caller {
    let now = Utc::now();
    Caller {
        user: store::User {
            id: id.into(),
            email: format!("{id}@example.com"),
            display_name: None,
            password_hash: String::new(),
            is_admin: false,
            created_at: now,
            updated_at: now,
        },
        token: store::AuthToken {
            id: format!("t-{id}"),
            user_id: id.into(),
            kind: store::TokenKind::Session,
            name: None,
            token_hash: String::new(),
            created_at: now,
            expires_at: None,
        },
    }
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn quote(symbol: &str, price: &str) -> Event {
    Event::Quote(QuoteEvent {
        symbol: sym(symbol),
        price: price.parse().unwrap(),
        previous_close: None,
        at: Utc::now(),
        source: "sim".into(),
    })
}

fn fired(user: &str, event_id: &str) -> Event {
    Event::AlertFired(AlertFired {
        event_id: event_id.into(),
        user_id: user.into(),
        notice: AlertNotice {
            rule_id: 7,
            symbol: sym("MSFT"),
            price: "421.5".parse().unwrap(),
            at: Utc::now(),
            source: "sim".into(),
            message: "MSFT crossed above 420".into(),
            dedupe_key: format!("7:{event_id}"),
        },
    })
}

fn delivered(user: &str, id: &str) -> Event {
    Event::NotificationStatus(NotificationStatus {
        notification_id: id.into(),
        user_id: user.into(),
        event_id: "e1".into(),
        channel_id: "c1".into(),
        status: "delivered".into(),
        attempts: 1,
        error: None,
    })
}

async fn setup(settings: StreamSettings) -> (MemoryBus, Hub) {
    let bus = MemoryBus::new(BusConfig::default()).unwrap();
    let hub = Hub::start(&bus, settings).await.unwrap();
    (bus, hub)
}

async fn next(conn: &mut Connection) -> Message {
    tokio::time::timeout(Duration::from_secs(5), conn.next())
        .await
        .expect("a message within 5 s")
        .expect("the stream is open")
}

async fn nothing(conn: &mut Connection) {
    if let Ok(message) = tokio::time::timeout(Duration::from_secs(1), conn.next()).await {
        panic!("unexpected {message:?}");
    }
}

fn event(message: &Message) -> (FrameKind, serde_json::Value) {
    match message {
        Message::Event { kind, data, .. } => (*kind, serde_json::from_str(data).unwrap()),
        other => panic!("not an event: {other:?}"),
    }
}

fn id_of(message: &Message) -> String {
    match message {
        Message::Event { id, .. } | Message::Reset { id, .. } => id.clone(),
        Message::Closing(_) => panic!("a closing message has no id"),
    }
}

fn topics(text: &str) -> Topics {
    Topics::parse(text).unwrap()
}

#[tokio::test(start_paused = true)]
async fn alerts_and_notifications_reach_their_owner_only() {
    let (bus, hub) = setup(StreamSettings::default()).await;
    let mut ann = hub
        .open(&caller("ann"), topics("alerts,notifications"), None)
        .unwrap();
    let mut bob = hub
        .open(&caller("bob"), topics("alerts,notifications"), None)
        .unwrap();
    bus.publish(&fired("ann", "e-ann")).await.unwrap();
    bus.publish(&delivered("bob", "n-bob")).await.unwrap();
    // An event from a build that did not name the owner is nobody's.
    bus.publish(&delivered("", "n-orphan")).await.unwrap();

    let (kind, data) = event(&next(&mut ann).await);
    assert_eq!(kind, FrameKind::Alert);
    assert_eq!(data["event_id"], "e-ann");
    assert_eq!(data["symbol"], "MSFT");
    assert!(data.get("user_id").is_none(), "{data}");
    nothing(&mut ann).await;

    let (kind, data) = event(&next(&mut bob).await);
    assert_eq!(kind, FrameKind::Notification);
    assert_eq!(data["notification_id"], "n-bob");
    assert_eq!(data["status"], "delivered");
    nothing(&mut bob).await;
}

#[tokio::test(start_paused = true)]
async fn quotes_and_signals_come_only_for_the_topics_named() {
    let (bus, hub) = setup(StreamSettings::default()).await;
    let mut msft = hub
        .open(&caller("ann"), topics("quotes:MSFT"), None)
        .unwrap();
    let mut alerts_only = hub.open(&caller("ann"), topics("alerts"), None).unwrap();
    bus.publish(&quote("AAPL", "200")).await.unwrap();
    bus.publish(&quote("MSFT", "421.5")).await.unwrap();
    bus.publish(&fired("ann", "e1")).await.unwrap();
    let (kind, data) = event(&next(&mut msft).await);
    assert_eq!(kind, FrameKind::Quote);
    assert_eq!(data["symbol"], "MSFT");
    assert_eq!(data["price"], serde_json::json!(421.5));
    nothing(&mut msft).await;
    assert_eq!(event(&next(&mut alerts_only).await).0, FrameKind::Alert);
}

#[tokio::test(start_paused = true)]
async fn a_resume_replays_what_was_missed_and_a_too_old_id_resets() {
    let settings = StreamSettings {
        replay: 3,
        ..StreamSettings::default()
    };
    let (bus, hub) = setup(settings).await;
    let mut first = hub.open(&caller("ann"), topics("alerts"), None).unwrap();
    bus.publish(&fired("ann", "e1")).await.unwrap();
    let seen = next(&mut first).await;
    drop(first);
    // While away: two of ann's, one of bob's, a nudge (not streamed).
    bus.publish(&fired("ann", "e2")).await.unwrap();
    bus.publish(&fired("bob", "b1")).await.unwrap();
    bus.publish(&Event::OutboxReady(bus::OutboxReady { count: 1 }))
        .await
        .unwrap();
    bus.publish(&fired("ann", "e3")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;

    let mut resumed = hub
        .open(&caller("ann"), topics("alerts"), Some(&id_of(&seen)))
        .unwrap();
    assert_eq!(event(&next(&mut resumed).await).1["event_id"], "e2");
    let last = next(&mut resumed).await;
    assert_eq!(event(&last).1["event_id"], "e3");
    nothing(&mut resumed).await;
    // Live events follow the replay.
    bus.publish(&fired("ann", "e4")).await.unwrap();
    assert_eq!(event(&next(&mut resumed).await).1["event_id"], "e4");

    // e1 has left the 3-event buffer (e2, b1, e3, e4 came after): too old to resume from.
    let mut stale = hub
        .open(&caller("ann"), topics("alerts"), Some(&id_of(&seen)))
        .unwrap();
    let reset = next(&mut stale).await;
    assert!(
        matches!(
            reset,
            Message::Reset {
                reason: "too_old",
                ..
            }
        ),
        "{reset:?}"
    );
    // The reset's id is now: resuming from it replays nothing and resets nothing.
    let mut fresh = hub
        .open(&caller("ann"), topics("alerts"), Some(&id_of(&reset)))
        .unwrap();
    nothing(&mut fresh).await;

    // Another sequence space (a restarted in-process bus): reset.
    let mut foreign = hub
        .open(&caller("ann"), topics("alerts"), Some("mffffffffffff-2"))
        .unwrap();
    assert!(matches!(
        next(&mut foreign).await,
        Message::Reset {
            reason: "unknown_epoch",
            ..
        }
    ));
    let bad = hub.open(&caller("ann"), topics("alerts"), Some("yesterday"));
    assert!(matches!(bad, Err(ServiceError::BadRequest(_))));
}

#[tokio::test(start_paused = true)]
async fn a_slow_subscriber_is_dropped_with_a_reason_and_never_holds_up_a_fast_one() {
    let settings = StreamSettings {
        queue: 4,
        ..StreamSettings::default()
    };
    let (bus, hub) = setup(settings).await;
    let mut slow = hub
        .open(&caller("ann"), topics("quotes:MSFT"), None)
        .unwrap();
    let mut fast = hub
        .open(&caller("bob"), topics("quotes:MSFT"), None)
        .unwrap();
    for n in 0..20 {
        bus.publish(&quote("MSFT", &format!("{}", 400 + n)))
            .await
            .unwrap();
        let (_, data) = event(&next(&mut fast).await);
        assert_eq!(
            data["price"],
            serde_json::json!(f64::from(400 + n)),
            "in order, none lost"
        );
    }
    assert_eq!(hub.open_streams(), 1, "the slow one was let go");
    // Its reason comes first, ahead of the events still queued.
    assert_eq!(
        next(&mut slow).await,
        Message::Closing(CloseReason::SlowConsumer)
    );
    assert!(slow.next().await.is_none(), "and it was the last message");
}

#[tokio::test(start_paused = true)]
async fn a_user_may_hold_only_so_many_streams() {
    let settings = StreamSettings {
        per_user: 2,
        ..StreamSettings::default()
    };
    let (_bus, hub) = setup(settings).await;
    let one = hub.open(&caller("ann"), topics("alerts"), None).unwrap();
    let _two = hub.open(&caller("ann"), topics("alerts"), None).unwrap();
    let third = hub.open(&caller("ann"), topics("alerts"), None);
    assert!(
        matches!(&third, Err(ServiceError::TooManyRequests { detail, .. }) if detail.contains("stream_max_per_user = 2")),
        "{third:?}"
    );
    // Other users are not affected, and closing one frees a place.
    let _bob = hub.open(&caller("bob"), topics("alerts"), None).unwrap();
    drop(one);
    let _again = hub.open(&caller("ann"), topics("alerts"), None).unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutting_down_ends_every_stream_with_a_reason_and_refuses_new_ones() {
    let (_bus, hub) = setup(StreamSettings::default()).await;
    let mut open = hub.open(&caller("ann"), topics("alerts"), None).unwrap();
    hub.shut_down();
    assert_eq!(
        next(&mut open).await,
        Message::Closing(CloseReason::Shutdown)
    );
    assert!(matches!(
        hub.open(&caller("ann"), topics("alerts"), None),
        Err(ServiceError::Busy { .. })
    ));
}

// Revocation: two replicas (two services, two hubs) over one store.

const PASSWORD: &str = "vivid-otter-97-quasar-lantern";

fn replica(store: &std::sync::Arc<dyn store::Store>) -> crate::Service {
    let market = std::sync::Arc::new(market::Market::with_providers(
        Vec::new(),
        Vec::new(),
        store.clone(),
        market::MarketConfig::default(),
    ));
    crate::Service::new(
        store.clone(),
        market,
        crate::Settings {
            hasher: crate::auth::PasswordHasher::fast_for_tests(),
            ..crate::Settings::default()
        },
    )
}

/// A replica's service with its hub attached.
async fn attached(store: &std::sync::Arc<dyn store::Store>) -> (crate::Service, MemoryBus, Hub) {
    let service = replica(store);
    let (bus, hub) = setup(StreamSettings::default()).await;
    service.attach_stream(&hub);
    (service, bus, hub)
}

async fn account(service: &crate::Service, email: &str) -> store::User {
    service
        .create_account(
            crate::accounts::NewAccount {
                email: email.into(),
                password: PASSWORD.into(),
                display_name: None,
                is_admin: false,
            },
            None,
            || {},
        )
        .await
        .unwrap()
}

async fn session(service: &crate::Service, user: &store::User) -> Caller {
    let session = service.start_session(user.clone()).await.unwrap();
    service
        .authenticate(&session.token)
        .await
        .unwrap()
        .expect("a live session")
}

fn store() -> std::sync::Arc<dyn store::Store> {
    std::sync::Arc::new(store::MemoryStore::new())
}

/// Waits less than a heartbeat: what arrives within it did not wait for a token check.
async fn at_once(conn: &mut Connection) -> Message {
    tokio::time::timeout(Duration::from_secs(1), conn.next())
        .await
        .expect("a message at once, not at the next token check")
        .expect("the stream is open")
}

#[tokio::test(start_paused = true)]
async fn signing_out_ends_the_sessions_streams_here_at_once_and_on_another_replica_at_its_next_check()
 {
    let store = store();
    let (here, _bus_a, hub_a) = attached(&store).await;
    let (_there, _bus_b, hub_b) = attached(&store).await;
    let ann = account(&here, "ann@example.com").await;
    let (phone, laptop) = (session(&here, &ann).await, session(&here, &ann).await);
    let mut phone_here = hub_a.open(&phone, topics("alerts"), None).unwrap();
    let mut laptop_here = hub_a.open(&laptop, topics("alerts"), None).unwrap();
    let mut phone_there = hub_b.open(&phone, topics("alerts"), None).unwrap();

    here.sign_out(&phone).await.unwrap();
    assert_eq!(
        at_once(&mut phone_here).await,
        Message::Closing(CloseReason::Revoked)
    );
    assert!(phone_here.next().await.is_none(), "the last message");
    assert_eq!(hub_a.open_streams(), 1, "the laptop's");
    nothing(&mut laptop_here).await;
    // The other replica learns at its next check, within a heartbeat.
    nothing(&mut phone_there).await;
    let closing = tokio::time::timeout(StreamSettings::default().heartbeat, phone_there.next())
        .await
        .expect("ended within a heartbeat");
    assert_eq!(closing, Some(Message::Closing(CloseReason::Revoked)));
    assert_eq!(hub_b.open_streams(), 0);
    // A live token's stream outlives many checks.
    tokio::time::sleep(StreamSettings::default().heartbeat * 4).await;
    nothing(&mut laptop_here).await;
    assert_eq!(hub_a.open_streams(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_password_change_ends_the_other_sessions_streams_only() {
    let store = store();
    let (service, _bus, hub) = attached(&store).await;
    let ann = account(&service, "ann@example.com").await;
    let (current, other) = (session(&service, &ann).await, session(&service, &ann).await);
    let (_, api_token) = service
        .create_api_token(&current, Some("script".into()))
        .await
        .unwrap();
    let script = service.authenticate(&api_token).await.unwrap().unwrap();
    let mut current_stream = hub.open(&current, topics("alerts"), None).unwrap();
    let mut other_stream = hub.open(&other, topics("alerts"), None).unwrap();
    let mut script_stream = hub.open(&script, topics("alerts"), None).unwrap();

    service
        .update_profile(
            &current,
            crate::accounts::ProfileChange {
                password: Some("brisk-walrus-42-amber-compass".into()),
                current_password: Some(PASSWORD.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        at_once(&mut other_stream).await,
        Message::Closing(CloseReason::Revoked)
    );
    // Through several token checks: the session that changed it and API tokens stay.
    tokio::time::sleep(StreamSettings::default().heartbeat * 3).await;
    nothing(&mut current_stream).await;
    nothing(&mut script_stream).await;
    assert_eq!(hub.open_streams(), 2);
}

#[tokio::test(start_paused = true)]
async fn deleting_an_api_token_or_the_account_ends_their_streams() {
    let store = store();
    let (service, bus, hub) = attached(&store).await;
    let (_there, _bus_b, hub_b) = attached(&store).await;
    let ann = account(&service, "ann@example.com").await;
    let signed_in = session(&service, &ann).await;
    let (stored, api_token) = service.create_api_token(&signed_in, None).await.unwrap();
    let script = service.authenticate(&api_token).await.unwrap().unwrap();
    let mut script_stream = hub.open(&script, topics("alerts"), None).unwrap();
    let mut own_stream = hub.open(&signed_in, topics("alerts"), None).unwrap();
    let mut own_there = hub_b.open(&signed_in, topics("alerts"), None).unwrap();

    service
        .delete_api_token(&signed_in, &stored.id)
        .await
        .unwrap();
    assert_eq!(
        at_once(&mut script_stream).await,
        Message::Closing(CloseReason::Revoked)
    );
    // Events still flow to the session's stream.
    bus.publish(&fired(&ann.id, "e1")).await.unwrap();
    assert_eq!(event(&next(&mut own_stream).await).0, FrameKind::Alert);

    service.delete_account(&signed_in).await.unwrap();
    assert_eq!(
        at_once(&mut own_stream).await,
        Message::Closing(CloseReason::Revoked)
    );
    let closing = tokio::time::timeout(StreamSettings::default().heartbeat, own_there.next())
        .await
        .expect("ended within a heartbeat on the other replica");
    assert_eq!(closing, Some(Message::Closing(CloseReason::Revoked)));
}
