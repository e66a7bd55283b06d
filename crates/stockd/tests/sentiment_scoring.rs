//! The sentiment scoring worker on every store backend (SQLite, memory, and PostgreSQL when
//! `STOCKD_TEST_POSTGRES_URL` is set), against a local mock of an OpenAI-compatible Chat
//! Completions server: failures fall back to the lexicon and each article records who
//! answered, a restart scores nothing twice and sees the budget already spent, and two
//! workers electing a leader on NATS (`STOCKD_TEST_NATS_URL`) pay the LLM once per article.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use domain::Symbol;
use domain::news::NewsItem;
use market::{Market, MarketConfig};
use serde_json::{Value, json};
use service::Service;
use service::scoring::SentimentChain;
use stockd::config::{GeminiSection, LlmScorer, OpenAiSection, SentimentSection};
use store::{ArticleId, NewArticle, Store};
use support::nats_url;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn acme() -> Symbol {
    Symbol::parse("ACME").unwrap()
}

/// `[sentiment]` with only `openai`, on the mock, allowing `budget` calls a day.
fn section(uri: &str, budget: u32) -> SentimentSection {
    SentimentSection {
        preferred: vec![LlmScorer::OpenAi],
        window: Duration::from_secs(7 * 86_400),
        batch_size: 50,
        poll_interval: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        openai: OpenAiSection {
            base_url: format!("{uri}/v1"),
            model: "gpt-4o-mini".into(),
            api_key: Some("sk-test-secret".to_owned().into()),
            daily_budget: budget,
            response_format: sentiment::ResponseFormat::JsonSchema,
        },
        gemini: GeminiSection {
            base_url: sentiment::GEMINI_BASE_URL.into(),
            model: "gemini-2.5-flash".into(),
            api_key: None,
            daily_budget: 1,
        },
    }
}

/// The use cases a freshly started process would have: the chain built by the binary's own
/// wiring, its budget counted in `store`.
fn process(store: Arc<dyn Store>, config: &SentimentSection) -> Service {
    let chain: SentimentChain =
        stockd::app::sentiment_chain(config, store.clone(), &mut None).unwrap();
    let market = Arc::new(Market::with_providers(
        Vec::new(),
        Vec::new(),
        store.clone(),
        MarketConfig::default(),
    ));
    let settings = service::Settings {
        sentiment: chain,
        ..service::Settings::default()
    };
    Service::new(store, market, settings)
}

/// A Chat Completions success whose content is `content`.
fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_704_468_600,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 52, "completion_tokens": 12, "total_tokens": 64}
    })
}

fn bullish() -> String {
    json!({"score": 0.7, "label": "bullish",
           "relevance": [{"symbol": "ACME", "relevance": 0.9}],
           "rationale": "A large contract lifts revenue."})
    .to_string()
}

fn openai_error(message: &str, kind: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

/// Mounts one answer per headline, each expected exactly once.
async fn mount_answers(server: &MockServer) {
    let answers = [
        (
            "Acme wins a record contract",
            ResponseTemplate::new(200).set_body_json(completion(&bullish())),
        ),
        (
            "Acme guidance disappoints",
            ResponseTemplate::new(200).set_body_json(completion("Sure! The score is 0.3")),
        ),
        (
            "Acme plant fire halts output",
            ResponseTemplate::new(500)
                .set_body_json(openai_error("The server had an error", "server_error")),
        ),
        (
            "Acme recalls faulty chargers",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(openai_error(
                    "Rate limit reached for gpt-4o-mini",
                    "requests",
                )),
        ),
    ];
    for (title, answer) in answers {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_string_contains(title))
            .respond_with(answer)
            .expect(1)
            .mount(server)
            .await;
    }
}

/// Stores the four headlines, newest first in this order (the 429 one oldest).
async fn store_articles(store: &dyn Store) -> Vec<(String, ArticleId)> {
    let now = Utc::now();
    let titles = [
        "Acme wins a record contract",
        "Acme guidance disappoints",
        "Acme plant fire halts output",
        "Acme recalls faulty chargers",
    ];
    let batch: Vec<NewArticle> = titles
        .iter()
        .enumerate()
        .map(|(at, title)| {
            NewArticle::new(NewsItem {
                title: (*title).to_owned(),
                url: format!("https://news.example.com/acme/{at}?utm_source=x"),
                publisher: Some("Example Wire".into()),
                published_at: now - TimeDelta::hours(i64::try_from(at).unwrap() + 1),
                summary: String::new(),
                symbols: vec![acme()],
                provider: "sim".into(),
                provider_sentiment: Vec::new(),
                simulated: true,
            })
            .unwrap()
        })
        .collect();
    let inserted = store.insert_articles(&batch, now).await.unwrap();
    titles
        .iter()
        .zip(inserted)
        .map(|(title, inserted)| ((*title).to_owned(), inserted.id))
        .collect()
}

fn always() -> bool {
    true
}

#[tokio::test]
async fn llm_failures_fall_back_to_the_lexicon_and_a_restart_scores_nothing_twice() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let server = MockServer::start().await;
        mount_answers(&server).await;
        let articles = store_articles(store.as_ref()).await;
        let config = section(&server.uri(), 100);

        let first = process(store.clone(), &config);
        let round = first
            .score_news(config.window, config.batch_size, &always)
            .await
            .unwrap();
        assert_eq!(
            (round.taken, round.stored, round.duplicate),
            (4, 4, 0),
            "{backend}"
        );
        assert_eq!(
            round.answered_by,
            ["openai", "lexicon", "lexicon", "lexicon"],
            "{backend}"
        );
        // The 429's Retry-After pauses the worker before its next article.
        assert_eq!(round.pause, Some(Duration::from_secs(7)), "{backend}");

        let ids: Vec<ArticleId> = articles.iter().map(|(_, id)| *id).collect();
        let scores = store.article_scores(&ids, None).await.unwrap();
        assert_eq!(scores.len(), 4, "{backend}: one score per article");
        let won = scores.iter().find(|s| s.article == articles[0].1).unwrap();
        assert_eq!(
            (won.key.scorer.as_str(), won.key.model.as_str()),
            ("openai", "gpt-4o-mini")
        );
        assert_eq!(won.key.prompt_version, sentiment::PROMPT_VERSION);
        assert_eq!(won.label.as_deref(), Some("bullish"));
        assert_eq!(won.relevance_to(acme()), Some(0.9));
        assert_eq!(
            won.rationale.as_deref(),
            Some("A large contract lifts revenue.")
        );
        for (title, id) in &articles[1..] {
            let score = scores.iter().find(|s| s.article == *id).unwrap();
            assert_eq!(score.key.scorer, "lexicon", "{backend}: {title}");
            assert_eq!(score.relevance.len(), 1, "{backend}: {title}");
            assert!(score.label.is_some() && score.rationale.is_some());
        }

        // A restart: a new process (new chain, new budget handle) on the same database.
        let second = process(store.clone(), &config);
        let budgets = second.sentiment_budgets().await;
        assert_eq!(budgets.len(), 1);
        assert_eq!(
            (
                budgets[0].scorer.as_str(),
                budgets[0].status.used,
                budgets[0].status.remaining
            ),
            ("openai", 4, 96),
            "{backend}: the budget spent before the restart is remembered"
        );
        let again = second
            .score_news(config.window, config.batch_size, &always)
            .await
            .unwrap();
        assert_eq!(again.taken, 0, "{backend}: nothing is scored twice");
        assert_eq!(store.article_scores(&ids, None).await.unwrap().len(), 4);
        // Each article reached the mock exactly once (checked as the server drops).
        server.verify().await;
    }
}

#[tokio::test]
async fn a_spent_budget_falls_back_to_the_lexicon_across_restarts() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion(&bullish())))
            .expect(1)
            .mount(&server)
            .await;
        let articles = store_articles(store.as_ref()).await;
        let config = section(&server.uri(), 1);
        // Two articles per round, each round a new process: only the very first call is paid.
        for _ in 0..2 {
            let round = process(store.clone(), &config)
                .score_news(config.window, 2, &always)
                .await
                .unwrap();
            assert_eq!(round.stored, 2, "{backend}");
        }
        let ids: Vec<ArticleId> = articles.iter().map(|(_, id)| *id).collect();
        let mut scorers: Vec<String> = store
            .article_scores(&ids, None)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.key.scorer)
            .collect();
        scorers.sort();
        assert_eq!(
            scorers,
            ["lexicon", "lexicon", "lexicon", "openai"],
            "{backend}"
        );
        let budget = &process(store.clone(), &config).sentiment_budgets().await[0];
        assert_eq!(
            (budget.status.used, budget.status.remaining),
            (1, 0),
            "{backend}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn a_worker_told_to_stop_leaves_the_rest_queued() {
    let (_keep, store) = common::backends().await.remove(1);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(&bullish())))
        .expect(1)
        .mount(&server)
        .await;
    store_articles(store.as_ref()).await;
    let config = section(&server.uri(), 100);
    let service = process(store.clone(), &config);
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let first_only = move || asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
    let round = service
        .score_news(config.window, 50, &first_only)
        .await
        .unwrap();
    assert_eq!((round.taken, round.stored), (4, 1));
    let rest = store
        .unscored_articles(
            service.sentiment_keys(),
            Utc::now() - TimeDelta::days(7),
            50,
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_nats_pay_the_llm_once_per_article() {
    let Some(url) = nats_url() else { return };
    // PostgreSQL when configured (backends() lists it last), else the memory store: either
    // way both replicas share one database.
    let (_keep, store) = common::backends().await.pop().unwrap();
    let server = MockServer::start().await;
    let titles = [
        "Acme wins a record contract",
        "Acme guidance disappoints",
        "Acme plant fire halts output",
        "Acme recalls faulty chargers",
    ];
    for title in titles {
        Mock::given(method("POST"))
            .and(body_string_contains(title))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(completion(&bullish()))
                    .set_delay(Duration::from_millis(100)),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let articles = store_articles(store.as_ref()).await;
    let mut config = section(&server.uri(), 100);
    config.poll_interval = Duration::from_millis(200);
    let bus_config = bus::BusConfig {
        prefix: format!("tscore-{}", std::process::id()),
        partition_lease: Duration::from_millis(1500),
        ..bus::BusConfig::default()
    };
    let mut buses = Vec::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let bus = Arc::new(
            bus::JetStreamBus::connect(&url, bus_config.clone())
                .await
                .unwrap(),
        );
        buses.push(bus.clone());
        let worker =
            stockd::scoring::ScoringWorker::new(process(store.clone(), &config), bus, &config);
        tasks.push(tokio::spawn(worker.run(stopped.clone())));
    }
    let ids: Vec<ArticleId> = articles.iter().map(|(_, id)| *id).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.article_scores(&ids, None).await.unwrap().len() < ids.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the articles were not scored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("a worker stopped on request")
            .unwrap();
    }
    let scores = store.article_scores(&ids, None).await.unwrap();
    assert_eq!(scores.len(), 4, "one score per article");
    assert!(scores.iter().all(|s| s.key.scorer == "openai"));
    buses[0].destroy().await.unwrap();
    // Each article reached the LLM exactly once, whichever replica led.
    server.verify().await;
}

/// Keeps tokio's paused clock from jumping ahead on its own while this lives: a blocking task
/// holds auto-advance off (tokio inhibits it while one runs), so time moves only by
/// `tokio::time::advance`, and an LLM call in flight to the mock (real I/O) is never cut
/// short by a timeout the idle runtime skipped to.
struct FrozenClock(Option<std::sync::mpsc::Sender<()>>);

impl FrozenClock {
    fn hold() -> Self {
        let (release, released) = std::sync::mpsc::channel::<()>();
        drop(tokio::task::spawn_blocking(move || released.recv()));
        Self(Some(release))
    }
}

impl Drop for FrozenClock {
    fn drop(&mut self) {
        // The blocking task ends, so the runtime can shut down (a failed assertion included).
        self.0.take();
    }
}

/// Lets the worker run (real time passes, tokio's does not) until `check` holds; panics
/// naming `what` after a generous real deadline.
async fn until<F: Fn() -> Fut, Fut: std::future::Future<Output = bool>>(what: &str, check: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        settle().await;
    }
}

/// A short real pause that leaves the runtime to the worker.
async fn settle() {
    tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20)))
        .await
        .unwrap();
}

/// One Acme article published an hour ago.
async fn store_one(store: &dyn Store, title: &str) -> ArticleId {
    let now = Utc::now();
    let article = NewArticle::new(NewsItem {
        title: title.to_owned(),
        url: format!(
            "https://news.example.com/acme/{}",
            title.to_lowercase().replace(' ', "-")
        ),
        publisher: Some("Example Wire".into()),
        published_at: now - TimeDelta::hours(1),
        summary: String::new(),
        symbols: vec![acme()],
        provider: "sim".into(),
        provider_sentiment: Vec::new(),
        simulated: true,
    })
    .unwrap();
    store.insert_articles(&[article], now).await.unwrap()[0].id
}

/// The scorer that scored `article`, if any.
async fn scorer_of(store: &dyn Store, article: ArticleId) -> Option<String> {
    store
        .article_scores(&[article], None)
        .await
        .unwrap()
        .into_iter()
        .next()
        .map(|score| score.key.scorer)
}

/// Chat Completions calls the mock has received.
async fn llm_calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test(start_paused = true)]
async fn the_worker_polls_wakes_on_ingested_news_and_waits_out_a_retry_after() {
    let frozen = FrozenClock::hold();
    let store: Arc<dyn Store> = Arc::new(store::MemoryStore::new());
    let bus: Arc<dyn bus::Bus> = Arc::new(bus::MemoryBus::new(bus::BusConfig::default()).unwrap());
    let server = MockServer::start().await;
    let [initial, polled, woken, limited, after] = [
        "Acme wins a record contract",
        "Acme hires a new chief executive",
        "Acme opens a new plant",
        "Acme recalls faulty chargers",
        "Acme raises its dividend",
    ];
    for title in [initial, polled, woken, after] {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_string_contains(title))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion(&bullish())))
            .expect(1)
            .named(title)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains(limited))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(openai_error(
                    "Rate limit reached for gpt-4o-mini",
                    "requests",
                )),
        )
        .expect(1)
        .named(limited)
        .mount(&server)
        .await;
    let config = section(&server.uri(), 100);
    let poll = config.poll_interval;
    let worker =
        stockd::scoring::ScoringWorker::new(process(store.clone(), &config), bus.clone(), &config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let waiting = store_one(store.as_ref(), initial).await;
    let task = tokio::spawn(worker.run(stopped));

    // The first round scores what waits; then the worker polls every `poll_interval`.
    until("the waiting article scored at start", || async {
        scorer_of(store.as_ref(), waiting).await.as_deref() == Some("openai")
    })
    .await;
    let start = tokio::time::Instant::now();
    let first = store_one(store.as_ref(), polled).await;
    tokio::time::advance(poll - Duration::from_secs(1)).await;
    for _ in 0..10 {
        settle().await;
    }
    assert_eq!(
        llm_calls(&server).await,
        1,
        "nothing before the poll interval"
    );
    assert_eq!(scorer_of(store.as_ref(), first).await, None);
    tokio::time::advance(Duration::from_secs(1)).await;
    until("the article scored at the poll", || async {
        scorer_of(store.as_ref(), first).await.as_deref() == Some("openai")
    })
    .await;
    assert_eq!(tokio::time::Instant::now() - start, poll);

    // Ingested news wakes it at once: no time passes.
    let second = store_one(store.as_ref(), woken).await;
    bus.publish(&bus::Event::NewsIngested(bus::NewsIngested {
        symbols: vec![acme()],
        new_articles: 1,
    }))
    .await
    .unwrap();
    until("the article scored when news was ingested", || async {
        scorer_of(store.as_ref(), second).await.as_deref() == Some("openai")
    })
    .await;
    assert_eq!(
        tokio::time::Instant::now() - start,
        poll,
        "woken, not polled"
    );

    // A 429 with `Retry-After: 7`: its article falls back to the lexicon, and the LLM is
    // not called again for 7 s, however much news is ingested meanwhile.
    let third = store_one(store.as_ref(), limited).await;
    bus.publish(&bus::Event::NewsIngested(bus::NewsIngested {
        symbols: vec![acme()],
        new_articles: 1,
    }))
    .await
    .unwrap();
    until("the rate-limited article scored by the lexicon", || async {
        scorer_of(store.as_ref(), third).await.as_deref() == Some("lexicon")
    })
    .await;
    let limited_at = tokio::time::Instant::now();
    assert_eq!(llm_calls(&server).await, 4);
    let fourth = store_one(store.as_ref(), after).await;
    bus.publish(&bus::Event::NewsIngested(bus::NewsIngested {
        symbols: vec![acme()],
        new_articles: 1,
    }))
    .await
    .unwrap();
    tokio::time::advance(Duration::from_secs(6)).await;
    for _ in 0..10 {
        settle().await;
    }
    assert_eq!(
        llm_calls(&server).await,
        4,
        "no call within the Retry-After"
    );
    assert_eq!(scorer_of(store.as_ref(), fourth).await, None);
    tokio::time::advance(Duration::from_secs(1)).await;
    until("the next article scored by the LLM after 7 s", || async {
        scorer_of(store.as_ref(), fourth).await.as_deref() == Some("openai")
    })
    .await;
    assert_eq!(
        tokio::time::Instant::now() - limited_at,
        Duration::from_secs(7)
    );

    let _ = stop.send(true);
    task.await.unwrap();
    drop(frozen);
    server.verify().await;
}
