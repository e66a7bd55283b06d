//! Per-user caps and paginated lists over HTTP: creating beyond a cap answers 409 naming the
//! cap and its value, and every list that grows is read a page at a time with `next_cursor`.

use std::sync::Arc;

use serde_json::{Value, json};
use web::limits::{Limits, ReadLimits, UserCaps};

use crate::accounts::App;

/// The sample provider with these caps; the per-client limit on reads that ask a provider is
/// off, so watching several new symbols in a row is not throttled here.
async fn capped(caps: UserCaps) -> App {
    App::with_limits(
        Arc::new(providers::sample::Sample::new()),
        web::auth::AuthSettings::default(),
        web::features::Features::default(),
        Limits {
            per_user: caps,
            reads: ReadLimits {
                upstream_per_minute: 0,
                ..ReadLimits::default()
            },
            ..Limits::default()
        },
    )
    .await
}

fn email_channel(n: usize) -> Value {
    json!({"kind": "email", "address": format!("ada+{n}@example.com")})
}

fn rule(channel: &str, price: f64) -> Value {
    json!({"symbol": "MSFT", "kind": "above", "price": price, "frequency": "once", "channels": [channel]})
}

/// Asserts a 409 naming `setting` and its value `cap`.
fn assert_cap(response: &crate::helpers::TestResponse, setting: &str, cap: u32) {
    let detail = response.problem(409);
    assert_eq!(response.json()["type"], "urn:stockd:problem:cap-reached");
    assert!(detail.contains(&format!("{setting} = {cap}")), "{detail}");
}

#[tokio::test]
async fn creating_beyond_each_cap_answers_409_naming_it() {
    let app = capped(UserCaps {
        rules: 2,
        channels: 2,
        watched_symbols: 2,
        tokens: 2,
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let mut channels = Vec::new();
    for n in 0..2 {
        let made = app
            .send(
                "POST",
                "/v1/me/channels",
                Some(&ada),
                Some(email_channel(n)),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.text());
        channels.push(made.json()["id"].as_str().unwrap().to_owned());
    }
    let third = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(email_channel(2)),
        )
        .await;
    assert_cap(&third, "max_channels_per_user", 2);

    for price in [400.0, 410.0] {
        let made = app
            .send(
                "POST",
                "/v1/alerts",
                Some(&ada),
                Some(rule(&channels[0], price)),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.text());
    }
    let third = app
        .send(
            "POST",
            "/v1/alerts",
            Some(&ada),
            Some(rule(&channels[0], 420.0)),
        )
        .await;
    assert_cap(&third, "max_rules_per_user", 2);

    for name in ["ci", "backup"] {
        let made = app
            .send(
                "POST",
                "/v1/me/tokens",
                Some(&ada),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.text());
    }
    let third = app
        .send(
            "POST",
            "/v1/me/tokens",
            Some(&ada),
            Some(json!({"name": "more"})),
        )
        .await;
    assert_cap(&third, "max_tokens_per_user", 2);

    for symbol in ["MSFT", "IBM"] {
        let uri = format!("/v1/me/watchlist/{symbol}");
        assert_eq!(app.send("PUT", &uri, Some(&ada), None).await.status, 201);
    }
    let third = app
        .send("PUT", "/v1/me/watchlist/GOOG", Some(&ada), None)
        .await;
    assert_cap(&third, "max_watched_symbols_per_user", 2);
    let again = app
        .send("PUT", "/v1/me/watchlist/MSFT", Some(&ada), None)
        .await;
    assert_eq!(again.status, 200, "watched already: not a new one");

    // Room again once one is gone; another user's caps are their own.
    let gone = format!("/v1/me/channels/{}", channels[1]);
    assert_eq!(
        app.send("DELETE", &gone, Some(&ada), None).await.status,
        204
    );
    let made = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&ada),
            Some(email_channel(3)),
        )
        .await;
    assert_eq!(made.status, 201);
    let bob = app.user("bob@example.com").await;
    let made = app
        .send(
            "POST",
            "/v1/me/channels",
            Some(&bob),
            Some(email_channel(9)),
        )
        .await;
    assert_eq!(made.status, 201);
}

/// Follows `uri`'s pages of `size` to the end; returns the ids (or `key`) of every row and the
/// number of pages.
async fn all_pages(
    app: &App,
    token: &str,
    uri: &str,
    list: &str,
    key: &str,
) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let separator = if uri.contains('?') { '&' } else { '?' };
        let page_uri = match &cursor {
            Some(cursor) => format!("{uri}{separator}cursor={cursor}"),
            None => uri.to_owned(),
        };
        let page = app.send("GET", &page_uri, Some(token), None).await;
        assert_eq!(page.status, 200, "{page_uri}: {}", page.text());
        let body = page.json();
        rows.extend(
            body[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row[key].clone()),
        );
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert!(body["next_cursor"].is_null(), "{body}");
                return (rows, pages);
            }
        }
    }
}

#[tokio::test]
async fn every_growing_list_is_read_a_page_at_a_time_to_a_null_cursor() {
    let app = capped(UserCaps::default()).await;
    let ada = app.user("ada@example.com").await;
    let mut channels = Vec::new();
    for n in 0..5 {
        let made = app
            .send(
                "POST",
                "/v1/me/channels",
                Some(&ada),
                Some(email_channel(n)),
            )
            .await;
        channels.push(made.json()["id"].clone());
    }
    let mut rules = Vec::new();
    for n in 0..5 {
        let made = app
            .send(
                "POST",
                "/v1/alerts",
                Some(&ada),
                Some(rule(channels[0].as_str().unwrap(), 400.0 + f64::from(n))),
            )
            .await;
        rules.push(made.json()["id"].clone());
    }
    let mut tokens = Vec::new();
    for n in 0..5 {
        let made = app
            .send(
                "POST",
                "/v1/me/tokens",
                Some(&ada),
                Some(json!({"name": format!("t{n}")})),
            )
            .await;
        tokens.push(made.json()["id"].clone());
    }
    for symbol in ["MSFT", "IBM", "GOOG", "AAPL", "FB"] {
        let uri = format!("/v1/me/watchlist/{symbol}");
        assert_eq!(app.send("PUT", &uri, Some(&ada), None).await.status, 201);
    }

    let (paged, pages) = all_pages(&app, &ada, "/v1/alerts?limit=2", "alerts", "id").await;
    assert_eq!((paged, pages), (rules, 3), "oldest first, 2 + 2 + 1");
    let (paged, pages) = all_pages(&app, &ada, "/v1/me/channels?limit=3", "channels", "id").await;
    assert_eq!((paged, pages), (channels, 2));
    let (paged, pages) = all_pages(&app, &ada, "/v1/me/tokens?limit=4", "tokens", "id").await;
    assert_eq!((paged, pages), (tokens, 2));
    let (paged, _) = all_pages(&app, &ada, "/v1/me/watchlist?limit=2", "symbols", "symbol").await;
    assert_eq!(
        paged,
        json!(["AAPL", "FB", "GOOG", "IBM", "MSFT"])
            .as_array()
            .unwrap()
            .clone()
    );
    // Without a limit, today's clients get the whole (capped) list and a null cursor.
    let whole = app.send("GET", "/v1/alerts", Some(&ada), None).await.json();
    assert_eq!(whole["alerts"].as_array().unwrap().len(), 5);
    assert!(whole["next_cursor"].is_null());

    for bad in [
        "/v1/alerts?cursor=nonsense",
        "/v1/alerts?limit=1001",
        "/v1/alerts?limit=0",
    ] {
        let detail = app.send("GET", bad, Some(&ada), None).await.problem(400);
        assert!(
            detail.contains("cursor") || detail.contains("limit"),
            "{bad}: {detail}"
        );
    }
    // A cursor of another list is refused, not misread.
    let channel_page = app
        .send("GET", "/v1/me/channels?limit=1", Some(&ada), None)
        .await
        .json();
    let cursor = channel_page["next_cursor"].as_str().unwrap();
    let detail = app
        .send(
            "GET",
            &format!("/v1/alerts?cursor={cursor}"),
            Some(&ada),
            None,
        )
        .await
        .problem(400);
    assert!(detail.contains("cursor"), "{detail}");
}

#[tokio::test]
async fn the_api_document_lists_page_parameters_and_the_409s() {
    let app = App::new().await;
    let document = app.send("GET", "/openapi.json", None, None).await.json();
    for path in [
        "/v1/alerts",
        "/v1/alerts/events",
        "/v1/notifications",
        "/v1/me/channels",
        "/v1/me/tokens",
        "/v1/me/watchlist",
    ] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has no parameters"));
        let named = |name: &str| parameters.iter().find(|p| p["name"] == name).cloned();
        let limit = named("limit").unwrap_or_else(|| panic!("{path}: no limit"));
        assert_eq!(limit["schema"]["maximum"], 1000, "{path}: {limit}");
        assert_eq!(limit["schema"]["minimum"], 1, "{path}: {limit}");
        assert!(named("cursor").is_some(), "{path}: no cursor");
    }
    for (path, method) in [
        ("/v1/alerts", "post"),
        ("/v1/me/channels", "post"),
        ("/v1/me/tokens", "post"),
        ("/v1/me/watchlist/{symbol}", "put"),
    ] {
        assert!(
            document["paths"][path][method]["responses"]["409"].is_object(),
            "{method} {path} does not document its 409"
        );
    }
}
