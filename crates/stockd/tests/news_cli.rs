//! `stockd news ingest` as an operator runs it, against a NewsAPI mock on 127.0.0.1 answering
//! its documented `everything` body, on SQLite and on PostgreSQL (when
//! `STOCKD_TEST_POSTGRES_URL` is set): `--symbols` fetches those symbols now, in the
//! foreground, stores each article once (a second run stores nothing again) and exits 0;
//! bad arguments and a configuration with news off exit non-zero saying what to fix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::process::{Command, Output};
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use domain::Symbol;
use serde_json::json;
use store::{NewsPage, Store};
use support::BIN;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "newsapi-cli-key";

fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

/// NewsAPI answering two MSFT articles (one under tracking parameters) to `q=MSFT`.
async fn newsapi() -> MockServer {
    let server = MockServer::start().await;
    let at = |hours: i64| {
        (Utc::now() - chrono::Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    Mock::given(method("GET"))
        .and(path("/v2/everything"))
        .and(query_param("q", "MSFT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "ok", "totalResults": 2, "articles": [
                {"source": {"id": null, "name": "Example Wire"}, "author": "A. Writer",
                 "title": "Microsoft wins record cloud contract",
                 "description": "<p>A large contract.</p>",
                 "url": "https://news.example.com/msft/contract?utm_source=newsapi",
                 "urlToImage": null, "publishedAt": at(2), "content": "… [+1200 chars]"},
                {"source": {"id": "reuters", "name": "Reuters"}, "author": null,
                 "title": "Microsoft raises its dividend",
                 "description": "The board approved it.",
                 "url": "https://news.example.org/msft/dividend",
                 "urlToImage": null, "publishedAt": at(1), "content": null}
            ]
        })))
        .mount(&server)
        .await;
    server
}

/// Where a run keeps its data: a SQLite file under a folder, or a fresh PostgreSQL database.
struct Backend {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    _postgres: Option<common::TestPostgres>,
}

impl Backend {
    async fn all() -> Vec<Self> {
        let mut backends = vec![Self {
            dir: tempfile::tempdir().unwrap(),
            database_url: None,
            _postgres: None,
        }];
        if let Some(admin_url) = common::postgres_admin_url() {
            let database = common::TestPostgres::create(&admin_url).await;
            backends.push(Self {
                dir: tempfile::tempdir().unwrap(),
                database_url: Some(database.url.clone()),
                _postgres: Some(database),
            });
        }
        backends
    }

    fn name(&self) -> &'static str {
        if self.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// `stockd ARGS` over this backend's data, with news from NewsAPI at `newsapi` (none
    /// configured when `None`).
    fn command(&self, newsapi: Option<&MockServer>, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("STOCKD_DATA_DIR", self.dir.path())
            .env("STOCKD_LOG", "warn")
            .env_remove("STOCKD_DATABASE_URL")
            .env_remove("STOCKD_NATS_URL")
            .env_remove("STOCKD_NEWS__SOURCES")
            .env_remove("APIKEY")
            .env_remove("STOCKD_ALPHAVANTAGE_API_KEY");
        if let Some(url) = &self.database_url {
            command.env("STOCKD_DATABASE_URL", url);
        }
        if let Some(newsapi) = newsapi {
            command
                .env("STOCKD_NEWS__SOURCES", "newsapi")
                .env("STOCKD_NEWS__NEWSAPI_API_KEY", KEY)
                .env("STOCKD_NEWS__NEWSAPI_BASE_URL", newsapi.uri());
        }
        command
    }

    async fn store(&self) -> Arc<dyn Store> {
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| self.dir.path().join("stockd.db").display().to_string());
        store::open(&url).await.unwrap()
    }
}

/// Runs `command` off the runtime (the mock answers on its own thread): (success, exit code,
/// stdout + stderr).
async fn run(mut command: Command) -> (bool, Option<i32>, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(stdout).unwrap() + &String::from_utf8(stderr).unwrap();
    (status.success(), status.code(), text)
}

/// The titles of MSFT's stored articles, sorted.
async fn stored_titles(store: &dyn Store) -> Vec<String> {
    let mut titles: Vec<String> = store
        .symbol_news(msft(), None, NewsPage::first(100))
        .await
        .unwrap()
        .into_iter()
        .map(|article| article.title)
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn news_ingest_stores_the_articles_of_the_symbols_asked_once_and_exits_zero() {
    let newsapi = newsapi().await;
    for backend in Backend::all().await {
        let name = backend.name();
        let args = ["news", "ingest", "--symbols", "msft", "--quiet"];
        let (ok, code, out) = run(backend.command(Some(&newsapi), &args)).await;
        assert!(ok, "{name}: exit {code:?}: {out}");
        assert_eq!(code, Some(0), "{name}");
        assert!(out.contains("1 jobs succeeded, 0 failed"), "{name}: {out}");
        assert!(
            !out.contains(KEY),
            "{name}: the key is never printed: {out}"
        );
        let store = backend.store().await;
        assert_eq!(
            stored_titles(store.as_ref()).await,
            [
                "Microsoft raises its dividend",
                "Microsoft wins record cloud contract"
            ],
            "{name}"
        );
        let urls: Vec<String> = store
            .symbol_news(msft(), None, NewsPage::first(100))
            .await
            .unwrap()
            .into_iter()
            .map(|article| article.url.to_string())
            .collect();
        assert!(
            urls.contains(&"https://news.example.com/msft/contract".to_owned()),
            "{name}: stored under the canonical URL: {urls:?}"
        );

        // Run again: the source answers the same articles, none is stored twice.
        let (ok, code, out) = run(backend.command(Some(&newsapi), &args)).await;
        assert!(ok, "{name}: exit {code:?}: {out}");
        assert_eq!(stored_titles(store.as_ref()).await.len(), 2, "{name}");
    }
    // Only MSFT was asked for, with the key in its header, never in the URL.
    for request in newsapi.received_requests().await.unwrap() {
        assert_eq!(
            request.url.query_pairs().find(|(k, _)| k == "q").unwrap().1,
            "MSFT"
        );
        assert!(!request.url.as_str().contains(KEY));
    }
}

#[tokio::test]
async fn a_bad_symbol_is_refused_before_anything_runs() {
    let newsapi = newsapi().await;
    let backend = Backend {
        dir: tempfile::tempdir().unwrap(),
        database_url: None,
        _postgres: None,
    };
    let (ok, code, out) = run(backend.command(
        Some(&newsapi),
        &["news", "ingest", "--symbols", "MSFT,not a symbol!"],
    ))
    .await;
    assert!(!ok, "{out}");
    assert_eq!(code, Some(2), "a usage error: {out}");
    assert!(
        out.contains("--symbols") && out.contains("not a symbol!"),
        "names the argument and the value: {out}"
    );
    assert!(
        newsapi.received_requests().await.unwrap().is_empty(),
        "nothing was fetched"
    );
}

#[tokio::test]
async fn with_news_off_or_nothing_to_fetch_it_says_what_to_do_and_exits_non_zero() {
    let newsapi = newsapi().await;
    let backend = Backend {
        dir: tempfile::tempdir().unwrap(),
        database_url: None,
        _postgres: None,
    };
    // No source configured: news is off.
    let (ok, _, out) = run(backend.command(None, &["news", "ingest", "--symbols", "MSFT"])).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("news is off") && out.contains("news.sources"),
        "says how to turn it on: {out}"
    );
    // No --symbols and nothing tracked or watched.
    let (ok, _, out) = run(backend.command(Some(&newsapi), &["news", "ingest"])).await;
    assert!(!ok, "{out}");
    assert!(out.contains("--symbols"), "{out}");
    assert!(newsapi.received_requests().await.unwrap().is_empty());
}
