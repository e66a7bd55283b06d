//! News and sentiment as an operator meets them, against the real binary: NewsAPI and an
//! OpenAI-compatible LLM mocked on 127.0.0.1 in their documented formats, `stockd serve` with
//! `[news] sources = newsapi` and `[sentiment] scorers = openai`. Articles are ingested on the
//! schedule, stockd is killed (SIGKILL) in the middle and restarted, the source then delivers
//! the same articles again (one under another tracking URL) and a new one: every article is
//! stored once, every article reaches the LLM once, and `/sentiment` cites each with the
//! scorer that answered. Then a user's `"series": "sentiment"` rule for MSFT fires on the
//! scored news, once, through a webhook to a receiver on 127.0.0.1. The same on PostgreSQL +
//! NATS with two replicas.
//!
//! The live sentiment is an end-of-day series: on a quote it is the news sentiment of the
//! last stored bar's session (`alerts::series`). So the articles are published during the
//! trading session before today's, and that session's bar is loaded with `stockd import`, as
//! the scheduled end-of-day ingestion would have stored it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use domain::{TradingCalendar, new_york};
use serde_json::{Value, json};
use support::nats_url;
use support::serve::{Server, User, accepting_receiver, wait_for};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The trading session before the one a quote now belongs to: the last stored bar's session
/// once its bar is in, whose news the live sentiment reads.
fn news_session() -> NaiveDate {
    let calendar = TradingCalendar::NYSE;
    let today = calendar.last_trading_day_on_or_before(new_york::date_of(Utc::now()));
    calendar.previous_trading_day(today)
}

/// `hour`:00 in New York on the news session, before its 16:00 close.
fn during_news_session(hour: u32) -> DateTime<Utc> {
    new_york::instant(news_session(), NaiveTime::from_hms_opt(hour, 0, 0).unwrap())
}

/// A NewsAPI `everything` article published at `hour`:00 in New York on the news session.
fn article(title: &str, url: &str, hour: u32) -> Value {
    let published = during_news_session(hour);
    json!({
        "source": {"id": null, "name": "Example Wire"},
        "author": "A. Writer",
        "title": title,
        "description": format!("<p>{title}: what happened.</p>"),
        "url": url,
        "urlToImage": null,
        "publishedAt": published.to_rfc3339_opts(SecondsFormat::Secs, true),
        "content": "… [+1200 chars]"
    })
}

/// NewsAPI answering `articles` to every `everything` call, from now on.
async fn news_answers(newsapi: &MockServer, articles: &[Value]) {
    newsapi.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/everything"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "ok", "totalResults": articles.len(), "articles": articles
        })))
        .mount(newsapi)
        .await;
}

const FIRST: &str = "Microsoft wins record cloud contract";
const SECOND: &str = "Microsoft raises its dividend";
const THIRD: &str = "Microsoft beats revenue estimates";

/// The LLM: a bullish Chat Completions answer per headline, each expected exactly once.
async fn llm() -> MockServer {
    let server = MockServer::start().await;
    for title in [FIRST, SECOND, THIRD] {
        let content = json!({"score": 0.8, "label": "bullish",
                             "relevance": [{"symbol": "MSFT", "relevance": 0.9}],
                             "rationale": "Good news for revenue."})
        .to_string();
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_string_contains(title))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1_704_468_600,
                "model": "small-1",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 52, "completion_tokens": 12, "total_tokens": 64}
            })))
            .expect(1)
            .named(title)
            .mount(&server)
            .await;
    }
    server
}

/// The environment turning news and LLM scoring on against the two mocks.
fn news_env(newsapi: &MockServer, llm: &MockServer) -> Vec<(String, String)> {
    [
        ("STOCKD_NEWS__SOURCES", "newsapi".to_owned()),
        (
            "STOCKD_NEWS__NEWSAPI_API_KEY",
            "newsapi-test-key".to_owned(),
        ),
        ("STOCKD_NEWS__NEWSAPI_BASE_URL", newsapi.uri()),
        ("STOCKD_NEWS__SCHEDULE", "*/2 * * * * *".to_owned()),
        ("STOCKD_NEWS__TRADING_DAYS_ONLY", "false".to_owned()),
        // The news session can be days back (a weekend, a holiday).
        ("STOCKD_NEWS__LOOKBACK", "7d".to_owned()),
        ("STOCKD_SENTIMENT__SCORERS", "openai".to_owned()),
        (
            "STOCKD_SENTIMENT__OPENAI__BASE_URL",
            format!("{}/v1", llm.uri()),
        ),
        (
            "STOCKD_SENTIMENT__OPENAI__API_KEY",
            "llm-test-key".to_owned(),
        ),
        ("STOCKD_SENTIMENT__OPENAI__MODEL", "small-1".to_owned()),
        ("STOCKD_SENTIMENT__POLL_INTERVAL", "1s".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

async fn get(base: &str, path: &str) -> Value {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// The titles of MSFT's stored articles.
async fn stored_titles(base: &str) -> Vec<String> {
    let news = get(base, "/v1/stocks/MSFT/news?limit=100").await;
    news["articles"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

/// MSFT's cited (scored) articles over the last week: (title, scorer) per citation, and how
/// many articles are still pending.
async fn citations(base: &str) -> (Vec<(String, String)>, usize) {
    let sentiment = get(base, "/v1/stocks/MSFT/sentiment?days=7").await;
    let mut cited = Vec::new();
    let mut pending = 0;
    for day in sentiment["days"].as_array().unwrap() {
        for citation in day["citations"].as_array().unwrap() {
            cited.push((
                citation["article"]["title"].as_str().unwrap().to_owned(),
                citation["scorer"]["scorer"].as_str().unwrap().to_owned(),
            ));
        }
        pending += day["pending_articles"].as_array().map_or(0, Vec::len);
    }
    (cited, pending)
}

/// Waits until MSFT has exactly the `expected` titles stored and all of them cited.
async fn all_stored_and_scored(base: &str, expected: &[&str]) {
    let want: HashSet<String> = expected.iter().map(|t| (*t).to_owned()).collect();
    wait_for(
        Duration::from_secs(60),
        "every article stored and scored",
        || async {
            let (cited, pending) = citations(base).await;
            let titles: HashSet<String> = cited.into_iter().map(|(t, _)| t).collect();
            pending == 0 && titles == want
        },
    )
    .await;
}

/// Phase one: the source delivers two articles; they are stored and scored before the kill
/// (scored first, so the LLM's "once" is exact: an LLM call the kill cut off would rightly be
/// asked again, since nothing of it was stored). Phase two: the source delivers them again (the first under another tracking URL) and a
/// third. Returns when all three are stored and scored on `base`.
async fn ingest_kill_restart<F, Fut>(newsapi: &MockServer, first: Server, restart: F) -> Server
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Server>,
{
    news_answers(
        newsapi,
        &[
            article(
                FIRST,
                "https://news.example.com/msft/contract?utm_source=x",
                10,
            ),
            article(SECOND, "https://news.example.com/msft/dividend", 11),
        ],
    )
    .await;
    all_stored_and_scored(&first.base, &[FIRST, SECOND]).await;
    // SIGKILL: whatever was in flight (a news run on the 2 s schedule) is cut off.
    first.kill();
    news_answers(
        newsapi,
        &[
            article(
                FIRST,
                "https://NEWS.example.com/msft/contract?utm_campaign=again",
                10,
            ),
            article(SECOND, "https://news.example.com/msft/dividend", 11),
            article(THIRD, "https://news.example.com/msft/estimates", 12),
        ],
    )
    .await;
    let server = restart().await;
    all_stored_and_scored(&server.base, &[FIRST, SECOND, THIRD]).await;
    server
}

/// What every run ends with: three articles stored once, each cited once with the LLM's
/// score, and each headline sent to the LLM once (the mock's expectations).
async fn stored_and_scored_once(base: &str, llm: &MockServer) {
    let mut titles = stored_titles(base).await;
    titles.sort();
    let mut expected = [FIRST, SECOND, THIRD].map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(titles, expected, "each article stored once");
    let (cited, pending) = citations(base).await;
    assert_eq!(pending, 0);
    assert_eq!(cited.len(), 3, "each article cited once: {cited:?}");
    assert!(
        cited.iter().all(|(_, scorer)| scorer == "openai"),
        "{cited:?}"
    );
    let sentiment = get(base, "/v1/stocks/MSFT/sentiment?days=7").await;
    let scored_days: Vec<&Value> = sentiment["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|day| !day["score"].is_null())
        .collect();
    assert!(!scored_days.is_empty());
    for day in scored_days {
        assert!((day["score"].as_f64().unwrap() - 0.8).abs() < 1e-9, "{day}");
        assert_eq!(day["bullish_share"], 1.0, "{day}");
        for citation in day["citations"].as_array().unwrap() {
            assert!(
                citation["article"]["url"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://news.example.com/msft/"),
                "canonical URL cited: {citation}"
            );
            assert_eq!(citation["weight"], 0.9, "the LLM's relevance: {citation}");
        }
    }
    llm.verify().await;
}

/// Loads MSFT's bar of the news session with `stockd import` into the data of `dir` (or the
/// database at `database_url`), as the end-of-day ingestion stores it after the close.
fn import_news_session_bar(dir: &std::path::Path, database_url: Option<&str>) {
    let csv = dir.join("msft.csv");
    std::fs::write(
        &csv,
        format!(
            "symbol,date,open,high,low,close,volume\nMSFT,{},410.00,415.00,405.00,412.00,1000000\n",
            news_session()
        ),
    )
    .unwrap();
    let mut command = std::process::Command::new(support::BIN);
    command
        .arg("import")
        .arg(&csv)
        .env("STOCKD_DATA_DIR", dir)
        .env("STOCKD_LOG", "warn")
        .env_remove("STOCKD_DATABASE_URL")
        .env_remove("STOCKD_NATS_URL");
    if let Some(url) = database_url {
        command.env("STOCKD_DATABASE_URL", url);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "stockd import: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The webhook delivery the sentiment rule's firing produced: `user` adds a webhook channel to
/// a local receiver and a `"series": "sentiment"` rule for MSFT above 0.5 (the LLM scored
/// every article 0.8); the rule fires once and the receiver gets exactly one delivery naming
/// the rule, the symbol and the sentiment.
async fn sentiment_alert_fires_once(user: &User) {
    use reqwest::Method;
    let receiver = accepting_receiver().await;
    let (status, channel) = user
        .call(
            Method::POST,
            "/v1/me/channels",
            Some(json!({"kind": "webhook", "url": format!("{}/hook", receiver.uri())})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (status, rule) = user
        .call(
            Method::POST,
            "/v1/alerts",
            Some(
                json!({"symbol": "MSFT", "kind": "above", "series": "sentiment",
                        "value": 0.5, "frequency": "once", "channels": [channel["id"]]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    wait_for(
        Duration::from_secs(90),
        "the sentiment alert delivered",
        || async {
            let (_, listed) = user.call(Method::GET, "/v1/notifications", None).await;
            listed["notifications"]
                .as_array()
                .is_some_and(|n| !n.is_empty() && n.iter().all(|n| n["status"] == "delivered"))
        },
    )
    .await;
    let (_, listed) = user.call(Method::GET, "/v1/notifications", None).await;
    assert_eq!(
        listed["notifications"].as_array().unwrap().len(),
        1,
        "one firing: {listed}"
    );
    let (_, events) = user.call(Method::GET, "/v1/alerts/events", None).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    let (_, read) = user
        .call(Method::GET, &format!("/v1/alerts/{}", rule["id"]), None)
        .await;
    assert_eq!(read["state"]["fire_count"], 1, "{read}");

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one delivery");
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["rule_id"], rule["id"], "{body}");
    assert_eq!(body["symbol"], "MSFT", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("MSFT sentiment is above 0.5") && message.contains("(now 0.8000;"),
        "the sentiment the news was scored at: {message}"
    );
    assert!(requests[0].headers.contains_key("x-stockd-signature"));
}

#[tokio::test]
async fn articles_are_ingested_scored_once_across_a_kill_cited_and_fire_a_sentiment_alert() {
    let (newsapi, llm) = (MockServer::start().await, llm().await);
    let env = news_env(&newsapi, &llm);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = tempfile::tempdir().unwrap();
    import_news_session_bar(dir.path(), None);
    let first = Server::start_with(dir.path(), &env).await;
    // Watched symbols are ingested.
    let user = User::register(&first, "ann@example.com").await;
    let (status, _) = user
        .call(reqwest::Method::PUT, "/v1/me/watchlist/MSFT", None)
        .await;
    assert!(status == 200 || status == 201, "watchlist: {status}");

    let server =
        ingest_kill_restart(&newsapi, first, || Server::start_with(dir.path(), &env)).await;
    stored_and_scored_once(&server.base, &llm).await;
    let user = User {
        base: server.base.clone(),
        ..user
    };
    sentiment_alert_fires_once(&user).await;
    // Keys never reach the log.
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(!log.contains("newsapi-test-key") && !log.contains("llm-test-key"));
}

#[tokio::test]
async fn two_replicas_on_postgres_and_nats_score_each_article_once_and_alert_once() {
    let (Some(admin_url), Some(nats)) = (common::postgres_admin_url(), nats_url()) else {
        return;
    };
    let database = common::TestPostgres::create(&admin_url).await;
    let prefix = format!("news{}", std::process::id());
    let (newsapi, llm) = (MockServer::start().await, llm().await);
    let mut env = news_env(&newsapi, &llm);
    env.extend([
        ("STOCKD_DATABASE_URL".to_owned(), database.url.clone()),
        ("STOCKD_NATS_URL".to_owned(), nats.clone()),
        ("STOCKD_NATS_PREFIX".to_owned(), prefix),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (dir_a, dir_b, dir_c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    import_news_session_bar(dir_a.path(), Some(&database.url));
    let a = Server::start_with(dir_a.path(), &env).await;
    let b = Server::start_with(dir_b.path(), &env).await;
    let user = User::register(&b, "ann@example.com").await;
    let (status, _) = user
        .call(reqwest::Method::PUT, "/v1/me/watchlist/MSFT", None)
        .await;
    assert!(status == 200 || status == 201, "watchlist: {status}");

    // Replica a dies in the middle and comes back as c; b runs throughout.
    let c = ingest_kill_restart(&newsapi, a, || Server::start_with(dir_c.path(), &env)).await;
    all_stored_and_scored(&b.base, &[FIRST, SECOND, THIRD]).await;
    stored_and_scored_once(&c.base, &llm).await;
    stored_and_scored_once(&b.base, &llm).await;
    // The rule is made on the replica that was restarted; whichever replica evaluates MSFT
    // fires it, and one of the two dispatchers delivers it, once.
    let user = User {
        base: c.base.clone(),
        ..user
    };
    sentiment_alert_fires_once(&user).await;
}
