//! News ingestion end to end against a NewsAPI mock on 127.0.0.1 answering its documented
//! `everything` body, on every store backend (SQLite, memory, and PostgreSQL when
//! `STOCKD_TEST_POSTGRES_URL` is set): articles stored once by canonical URL, unusable URLs
//! skipped and counted without failing the job, the second run asking only from the cursor, a
//! run interrupted between storing and moving the cursor storing nothing twice, and new articles
//! announced on the bus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use bus::{Bus, BusConfig, Event, MemoryBus, StreamKind};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::Symbol;
use ingest::{IngestConfig, Ingestor, Stop};
use market::{Market, MarketConfig};
use providers::news::NewsSource;
use providers::news::newsapi::{NewsApi, NewsApiConfig};
use secrecy::SecretString;
use stockd::news::NewsAfterIngest;
use store::{JobFilter, JobStatus, NewArticle, NewsPage, Store};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "news-test-key";

fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A documented `everything` answer: two articles (the first with tracking parameters) and one
/// whose URL is no web address.
fn everything(now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "status": "ok",
        "totalResults": 3,
        "articles": [
            {
                "source": {"id": null, "name": "Example Wire"},
                "author": "A. Writer",
                "title": "Microsoft (MSFT) beats estimates",
                "description": "<p>Cloud revenue grew.</p>",
                "url": "https://WWW.Example.com/markets/msft-beats?utm_source=newsapi&id=7",
                "urlToImage": "https://www.example.com/img.jpg",
                "publishedAt": rfc3339(now - chrono::Duration::hours(2)),
                "content": "Cloud revenue grew … [+2345 chars]"
            },
            {
                "source": {"id": "reuters", "name": "Reuters"},
                "author": null,
                "title": "MSFT to present at conference",
                "description": "Executives will speak next week.",
                "url": "https://news.example.org/a/2",
                "urlToImage": null,
                "publishedAt": rfc3339(now - chrono::Duration::hours(5)),
                "content": null
            },
            {
                "source": {"id": null, "name": "Press Desk"},
                "author": null,
                "title": "MSFT press contact",
                "description": "Write to us.",
                "url": "mailto:press@example.com",
                "urlToImage": null,
                "publishedAt": rfc3339(now - chrono::Duration::hours(3)),
                "content": null
            }
        ]
    })
}

fn ingestor(store: Arc<dyn Store>, base_url: &str, bus: Arc<dyn Bus>) -> Ingestor {
    let source: Arc<dyn NewsSource> = Arc::new(NewsApi::new(
        NewsApiConfig {
            base_url: base_url.to_owned(),
            ..NewsApiConfig::new(SecretString::from(KEY))
        },
        reqwest::Client::new(),
    ));
    let market = Arc::new(Market::with_sources(
        Vec::new(),
        Vec::new(),
        vec![source],
        store.clone(),
        MarketConfig::default(),
    ));
    let config = IngestConfig {
        workers: 1,
        ..IngestConfig::default()
    };
    Ingestor::new(market, store, config).with_after_news(Arc::new(NewsAfterIngest::new(bus)))
}

async fn drain(ingestor: &Ingestor) {
    let (_stop, stop) = Stop::channel();
    while ingestor.run_next("test", &stop).await.unwrap().is_some() {}
}

async fn stored(store: &dyn Store) -> Vec<store::StoredArticle> {
    store
        .symbol_news(msft(), None, NewsPage::first(100))
        .await
        .unwrap()
}

/// The `from` parameter of each request the mock received.
async fn froms(server: &MockServer) -> Vec<Option<String>> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| {
            request
                .url
                .query_pairs()
                .find(|(name, _)| name == "from")
                .map(|(_, value)| value.into_owned())
        })
        .collect()
}

#[tokio::test]
async fn news_runs_store_articles_once_and_resume_from_the_cursor_on_every_backend() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let server = MockServer::start().await;
        let now = Utc::now();
        Mock::given(method("GET"))
            .and(path("/v2/everything"))
            .and(query_param("q", "MSFT"))
            .and(header("X-Api-Key", KEY))
            .respond_with(ResponseTemplate::new(200).set_body_json(everything(now)))
            .mount(&server)
            .await;
        let bus = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
        let mut announced = bus.subscribe(StreamKind::News, "scorer").await.unwrap();
        store.track_symbol(msft(), now).await.unwrap();
        let ingestor = ingestor(store.clone(), &server.uri(), bus.clone());

        ingestor.enqueue_news(now).await.unwrap();
        drain(&ingestor).await;
        let first = stored(store.as_ref()).await;
        let urls: Vec<&str> = first.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://www.example.com/markets/msft-beats?id=7",
                "https://news.example.org/a/2"
            ],
            "{backend}: canonical URLs, the mailto item skipped"
        );
        let jobs = store.jobs(&JobFilter::default()).await.unwrap();
        assert_eq!(jobs.len(), 1, "{backend}");
        assert_eq!(jobs[0].status, JobStatus::Succeeded, "{backend}: {jobs:?}");
        assert!(
            jobs[0]
                .last_error
                .as_deref()
                .is_some_and(|note| note.contains("skipped 1 item")),
            "{backend}: the rejected item is noted: {jobs:?}"
        );
        let delivery = tokio::time::timeout(Duration::from_secs(5), announced.next())
            .await
            .expect("announced")
            .expect("a delivery");
        let Event::NewsIngested(news) = delivery.event() else {
            panic!("{backend}: not a news event");
        };
        assert_eq!((news.symbols.clone(), news.new_articles), (vec![msft()], 2));
        delivery.ack().await.unwrap();

        let cursor = store.news_cursor("newsapi", msft()).await.unwrap().unwrap();
        assert_eq!(cursor.published_at, first[0].published_at, "{backend}");

        // The next slot asks from the cursor and stores nothing twice.
        ingestor
            .enqueue_news(now + chrono::Duration::minutes(30))
            .await
            .unwrap();
        drain(&ingestor).await;
        let froms = froms(&server).await;
        assert_eq!(froms.len(), 2, "{backend}");
        assert_eq!(
            froms[1].as_deref(),
            Some(rfc3339(cursor.published_at).as_str()),
            "{backend}: the second run asks from the cursor"
        );
        assert_eq!(stored(store.as_ref()).await, first, "{backend}");
    }
}

#[tokio::test]
async fn a_run_interrupted_before_its_cursor_moved_stores_nothing_twice() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let server = MockServer::start().await;
        let now = Utc::now();
        let body = everything(now);
        Mock::given(method("GET"))
            .and(path("/v2/everything"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
            .mount(&server)
            .await;
        store.track_symbol(msft(), now).await.unwrap();
        // What a worker that died between storing and moving the cursor leaves: the articles
        // stored, no cursor.
        let item = |index: usize| {
            let article = &body["articles"][index];
            domain::news::NewsItem {
                title: article["title"].as_str().unwrap().to_owned(),
                url: article["url"].as_str().unwrap().to_owned(),
                publisher: None,
                published_at: article["publishedAt"].as_str().unwrap().parse().unwrap(),
                summary: String::new(),
                symbols: vec![msft()],
                provider: "newsapi".into(),
                provider_sentiment: Vec::new(),
                simulated: false,
            }
        };
        let batch = vec![
            NewArticle::new(item(0)).unwrap(),
            NewArticle::new(item(1)).unwrap(),
        ];
        store.insert_articles(&batch, now).await.unwrap();
        assert!(
            store
                .news_cursor("newsapi", msft())
                .await
                .unwrap()
                .is_none()
        );
        let before = stored(store.as_ref()).await;

        let bus = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
        let ingestor = ingestor(store.clone(), &server.uri(), bus);
        let report = ingestor.ingest_symbol_news(msft()).await.unwrap();
        assert_eq!(
            (report.new, report.duplicate, report.rejected),
            (0, 2, 1),
            "{backend}"
        );
        assert_eq!(stored(store.as_ref()).await, before, "{backend}");
        assert!(
            store
                .news_cursor("newsapi", msft())
                .await
                .unwrap()
                .is_some(),
            "{backend}: the re-run moves the cursor"
        );
    }
}
