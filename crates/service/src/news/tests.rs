#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::news::{NewsItem, ProviderSentiment};
use domain::{SignalScore, Symbol};
use market::{Clock, Market, MarketConfig};
use signals::news::{Polarity, WeightSource};
use store::{ArticleId, ArticleScore, MemoryStore, NewArticle, ScoreKey, Store};

use super::*;
use crate::Settings;

/// "Now" in every test: 2026-12-03 15:00 in New York.
const NOW: &str = "2026-12-03T20:00:00Z";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn llm_key() -> ScoreKey {
    ScoreKey {
        scorer: "openai".into(),
        model: "small-1".into(),
        prompt_version: "sentiment-v1".into(),
    }
}

fn service(store: Arc<dyn Store>, news: NewsSettings) -> Service {
    service_with_keys(store, news, vec![llm_key(), lexicon_key()])
}

/// A service whose scoring chain has `score_keys`, preferred first.
fn service_with_keys(
    store: Arc<dyn Store>,
    news: NewsSettings,
    score_keys: Vec<ScoreKey>,
) -> Service {
    let config = MarketConfig {
        clock: Clock::tokio_from(at(NOW)),
        ..MarketConfig::default()
    };
    let market = Arc::new(Market::with_providers(
        Vec::new(),
        Vec::new(),
        store.clone(),
        config,
    ));
    let settings = Settings {
        news,
        sentiment: crate::scoring::SentimentChain::with_keys(score_keys),
        ..Settings::default()
    };
    Service::new(store, market, settings)
}

fn on() -> NewsSettings {
    NewsSettings { enabled: true }
}

fn item(url: &str, title: &str, published: &str, symbols: &[&str]) -> NewsItem {
    NewsItem {
        title: title.into(),
        url: url.into(),
        publisher: Some("Example Wire".into()),
        published_at: at(published),
        summary: format!("{title}: the summary"),
        symbols: symbols.iter().map(|s| sym(s)).collect(),
        provider: "finnhub".into(),
        provider_sentiment: Vec::new(),
        simulated: false,
    }
}

async fn insert(store: &dyn Store, items: Vec<NewsItem>) -> Vec<ArticleId> {
    let batch: Vec<NewArticle> = items
        .into_iter()
        .map(|item| NewArticle::new(item).unwrap())
        .collect();
    store
        .insert_articles(&batch, at(NOW))
        .await
        .unwrap()
        .into_iter()
        .map(|inserted| inserted.id)
        .collect()
}

async fn score(
    store: &dyn Store,
    article: ArticleId,
    key: &ScoreKey,
    value: f64,
    label: Option<&str>,
    relevance: &[(&str, f64)],
) {
    let stored = store
        .insert_score(&ArticleScore {
            article,
            key: key.clone(),
            score: SignalScore::new(value).unwrap(),
            label: label.map(str::to_owned),
            relevance: relevance
                .iter()
                .map(|(symbol, relevance)| store::SymbolRelevance {
                    symbol: sym(symbol),
                    relevance: *relevance,
                })
                .collect(),
            rationale: Some("because".into()),
            scored_at: at(NOW),
        })
        .await
        .unwrap();
    assert!(stored);
}

#[tokio::test]
async fn symbol_news_pages_newest_first_with_a_cursor_and_bounded_limits() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let service = service(store.clone(), on());
    let items = (0..5)
        .map(|i| {
            item(
                &format!("https://news.example.com/{i}"),
                &format!("Headline {i}"),
                &format!("2026-12-0{}T12:00:00Z", i + 1),
                &["MSFT"],
            )
        })
        .collect();
    insert(store.as_ref(), items).await;
    let first = service
        .symbol_news(sym("MSFT"), None, Some(2), None)
        .await
        .unwrap();
    let titles: Vec<&str> = first.articles.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["Headline 4", "Headline 3"]);
    let second = service
        .symbol_news(sym("MSFT"), None, Some(2), first.next)
        .await
        .unwrap();
    let titles: Vec<&str> = second.articles.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["Headline 2", "Headline 1"]);
    let last = service
        .symbol_news(sym("MSFT"), None, Some(2), second.next)
        .await
        .unwrap();
    assert_eq!(last.articles.len(), 1);
    assert_eq!(last.next, None, "the last page has no cursor");
    let from = service
        .symbol_news(sym("MSFT"), Some(at("2026-12-04T00:00:00Z")), None, None)
        .await
        .unwrap();
    assert_eq!(from.articles.len(), 2);
    for limit in [0, MAX_NEWS_LIMIT + 1] {
        let err = service
            .symbol_news(sym("MSFT"), None, Some(limit), None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ServiceError::BadRequest(detail) if detail.starts_with("limit must be from 1 to 100")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn search_refuses_too_many_symbols_and_a_query_without_words() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let service = service(store.clone(), on());
    insert(
        store.as_ref(),
        vec![
            item("https://a.example/1", "Acme beats earnings", NOW, &["ACME"]),
            item(
                "https://a.example/2",
                "Acme misses guidance",
                NOW,
                &["ACME"],
            ),
        ],
    )
    .await;
    let found = service
        .search_news(
            NewsSearch {
                symbols: vec![sym("ACME")],
                text: Some("earnings".into()),
                from: None,
            },
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(found.articles.len(), 1);
    assert_eq!(found.articles[0].title, "Acme beats earnings");
    let many = NewsSearch {
        symbols: (0..21).map(|i| sym(&format!("S{i}"))).collect(),
        ..NewsSearch::default()
    };
    let err = service.search_news(many, None, None).await.unwrap_err();
    assert!(err.to_string().starts_with("symbols names 21"), "{err}");
    let words = NewsSearch {
        text: Some(" \"&& ".into()),
        ..NewsSearch::default()
    };
    let err = service.search_news(words, None, None).await.unwrap_err();
    assert!(err.to_string().starts_with("q has no word"), "{err}");
    let long = NewsSearch {
        text: Some("a".repeat(MAX_QUERY_CHARS + 1)),
        ..NewsSearch::default()
    };
    let err = service.search_news(long, None, None).await.unwrap_err();
    assert!(err.to_string().starts_with("q is 201 characters"), "{err}");
}

#[tokio::test]
async fn news_off_with_nothing_stored_says_how_to_turn_it_on_but_stored_news_is_served() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let off = service(store.clone(), NewsSettings::default());
    let err = off
        .symbol_news(sym("MSFT"), None, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::NewsOff(detail) if detail.contains("STOCKD_NEWS__SOURCES")),
        "{err}"
    );
    let err = off.symbol_sentiment(sym("MSFT"), None).await.unwrap_err();
    assert!(matches!(err, ServiceError::NewsOff(_)), "{err}");
    // On, nothing stored: an empty page.
    let empty = service(store.clone(), on())
        .symbol_news(sym("MSFT"), None, None, None)
        .await
        .unwrap();
    assert!(empty.articles.is_empty());
    // Off, but articles stored (news was on before): served, and another symbol is empty.
    insert(
        store.as_ref(),
        vec![item("https://a.example/1", "Acme", NOW, &["ACME"])],
    )
    .await;
    assert_eq!(
        off.symbol_news(sym("ACME"), None, None, None)
            .await
            .unwrap()
            .articles
            .len(),
        1
    );
    assert!(
        off.symbol_news(sym("MSFT"), None, None, None)
            .await
            .unwrap()
            .articles
            .is_empty()
    );
}

#[tokio::test]
async fn daily_sentiment_is_relevance_weighted_by_new_york_date_with_citations_and_pending() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let service = service(store.clone(), on());
    let mut with_av = item(
        "https://a.example/beat",
        "Acme beats",
        "2026-12-02T15:00:00Z",
        &["ACME", "MSFT"],
    );
    with_av.provider = "alphavantage".into();
    with_av.provider_sentiment = vec![ProviderSentiment {
        symbol: sym("ACME"),
        score: Some(0.41),
        label: Some("Bullish".into()),
        relevance: Some(0.9),
        reasoning: None,
    }];
    let ids = insert(
        store.as_ref(),
        vec![
            with_av,
            item(
                "https://a.example/cut",
                "Acme cut",
                "2026-12-02T18:00:00Z",
                &["ACME"],
            ),
            // 22:00 in New York on Dec 1 (03:00 UTC on Dec 2): counts for Dec 1.
            item(
                "https://a.example/late",
                "Acme late",
                "2026-12-02T03:00:00Z",
                &["ACME"],
            ),
            item(
                "https://a.example/new",
                "Acme new",
                "2026-12-02T19:00:00Z",
                &["ACME"],
            ),
        ],
    )
    .await;
    // The preferred (LLM) key wins over the lexicon's for the same article.
    score(store.as_ref(), ids[0], &lexicon_key(), -0.9, None, &[]).await;
    score(
        store.as_ref(),
        ids[0],
        &llm_key(),
        0.8,
        Some("bullish"),
        &[("ACME", 1.0), ("MSFT", 0.2)],
    )
    .await;
    // Only the lexicon scored this one, with no relevance: the default weight.
    score(
        store.as_ref(),
        ids[1],
        &lexicon_key(),
        -0.4,
        Some("bearish"),
        &[],
    )
    .await;
    score(
        store.as_ref(),
        ids[2],
        &lexicon_key(),
        0.02,
        None,
        &[("ACME", 0.3)],
    )
    .await;
    let answer = service
        .symbol_sentiment(sym("ACME"), Some(3))
        .await
        .unwrap();
    assert_eq!(
        (answer.from, answer.to),
        (day("2026-12-01"), day("2026-12-03"))
    );
    let days: Vec<NaiveDate> = answer.days.iter().map(|d| d.day).collect();
    assert_eq!(
        days,
        [day("2026-12-01"), day("2026-12-02"), day("2026-12-03")]
    );
    let dec2 = &answer.days[1];
    // (0.8·1.0 − 0.4·0.5) / 1.5 = 0.4
    assert_eq!(dec2.sentiment.score, Some(0.4));
    assert_eq!(dec2.sentiment.articles, 2);
    assert_eq!((dec2.sentiment.bullish, dec2.sentiment.bearish), (0.5, 0.5));
    let beat = dec2
        .citations
        .iter()
        .find(|c| c.article.title == "Acme beats")
        .unwrap();
    assert_eq!(beat.score.key, llm_key());
    assert_eq!(
        (beat.weight, beat.weight_source),
        (1.0, WeightSource::Scorer)
    );
    assert_eq!(beat.polarity, Polarity::Bullish);
    assert_eq!(beat.source_sentiment[0].sentiment.score, Some(0.41));
    let cut = dec2
        .citations
        .iter()
        .find(|c| c.article.title == "Acme cut")
        .unwrap();
    assert_eq!(
        (cut.weight, cut.weight_source),
        (0.5, WeightSource::Default)
    );
    let pending: Vec<&str> = dec2
        .pending
        .iter()
        .map(|p| p.article.title.as_str())
        .collect();
    assert_eq!(pending, ["Acme new"], "unscored: listed, not counted");
    let dec1 = &answer.days[0];
    assert_eq!(dec1.citations[0].article.title, "Acme late");
    assert_eq!(dec1.sentiment.score, Some(0.02));
    assert_eq!(dec1.sentiment.neutral, 1.0, "no label: neutral within 0.05");
    assert_eq!(answer.days[2].sentiment.score, None, "no news today");
    // For MSFT the same article weighs what the scorer said about MSFT.
    let msft = service
        .symbol_sentiment(sym("MSFT"), Some(3))
        .await
        .unwrap();
    assert_eq!(msft.days[1].citations[0].weight, 0.2);
    assert_eq!(msft.days[1].sentiment.score, Some(0.8));
}

#[tokio::test]
async fn sentiment_days_out_of_range_name_the_parameter() {
    let service = service(Arc::new(MemoryStore::new()), on());
    for days in [0, sentiment::MAX_SENTIMENT_DAYS + 1] {
        let err = service
            .symbol_sentiment(sym("ACME"), Some(days))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ServiceError::BadRequest(detail) if detail.starts_with("days must be from 1 to 90")),
            "{err}"
        );
    }
    let answer = service.symbol_sentiment(sym("ACME"), None).await.unwrap();
    assert_eq!(
        answer.days.len(),
        sentiment::DEFAULT_SENTIMENT_DAYS as usize
    );
}

#[test]
fn the_neutral_band_is_the_scorers_own() {
    assert_eq!(signals::news::NEUTRAL_BAND, ::sentiment::NEUTRAL_BAND);
}

/// `count` daily bars ending 2026-12-02, closes wandering between 10 and 14.
fn bars(count: u64) -> Vec<domain::Bar> {
    let last = day("2026-12-02");
    (0..count)
        .map(|i| {
            let date = last
                .checked_sub_days(chrono::Days::new(count - 1 - i))
                .unwrap();
            let close: domain::Price = format!("{}", 10 + (i * 7) % 5).parse().unwrap();
            domain::Bar::new_checked(date, close, close, close, close, 1_000, None).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_refresh_stores_a_scored_bullish_session_as_the_sentiment_component() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let service = service(store.clone(), on());
    let acme = sym("ACME");
    service
        .import_bars(std::collections::BTreeMap::from([(acme, bars(60))]))
        .await
        .unwrap();
    let ids = insert(
        store.as_ref(),
        vec![
            // 10:00 in New York on the last bar's day, and one after its close.
            item(
                "https://a.example/up",
                "Acme soars",
                "2026-12-02T15:00:00Z",
                &["ACME"],
            ),
            item(
                "https://a.example/late",
                "Acme sinks late",
                "2026-12-02T22:00:00Z",
                &["ACME"],
            ),
        ],
    )
    .await;
    score(
        store.as_ref(),
        ids[0],
        &llm_key(),
        0.9,
        Some("bullish"),
        &[("ACME", 1.0)],
    )
    .await;
    score(
        store.as_ref(),
        ids[1],
        &llm_key(),
        -0.9,
        Some("bearish"),
        &[("ACME", 1.0)],
    )
    .await;
    service.refresh_signals(&[acme]).await.unwrap();
    let method = service.signal_method().unwrap();
    let latest = store
        .latest_signal(acme, method.name())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.day, day("2026-12-02"));
    let sentiment = latest
        .components
        .iter()
        .find(|c| c.name == domain::ComponentName::Sentiment)
        .expect("a sentiment component");
    assert_eq!(
        sentiment.score.get(),
        0.9,
        "the after-hours article is not read"
    );
    assert_eq!(
        sentiment.evidence.get("strongest_headline"),
        Some(&serde_json::json!("Acme soars"))
    );
    assert!(!latest.missing.contains(&domain::ComponentName::Sentiment));
    let before = store
        .signals(acme, method.name(), day("2026-12-01"), day("2026-12-01"), 1)
        .await
        .unwrap();
    assert!(
        before[0]
            .missing
            .contains(&domain::ComponentName::Sentiment),
        "a day without scored news leaves sentiment out"
    );
}

#[tokio::test]
async fn a_sentiment_alert_backtests_to_the_session_whose_stored_scores_cross_its_level() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let service = service(store.clone(), on());
    let acme = sym("ACME");
    // The daily history as the read path serves it.
    let history = || {
        Some(Ok(market::Served {
            value: Arc::new(domain::Series::new(acme, bars(60), "import", at(NOW))),
            cache: market::CacheStatus::Miss,
        }))
    };
    let ids = insert(
        store.as_ref(),
        vec![
            item(
                "https://a.example/1",
                "Acme slips",
                "2026-11-30T15:00:00Z",
                &["ACME"],
            ),
            item(
                "https://a.example/2",
                "Acme soars",
                "2026-12-01T15:00:00Z",
                &["ACME"],
            ),
            // Scored by the lexicon only, and barely relevant: 0.8·1 and 0.2·0.1 average 0.7455.
            item(
                "https://a.example/3",
                "Acme aside",
                "2026-12-01T16:00:00Z",
                &["ACME"],
            ),
            // After the last bar's close: its session has no bar yet.
            item(
                "https://a.example/4",
                "Acme late",
                "2026-12-02T22:00:00Z",
                &["ACME"],
            ),
        ],
    )
    .await;
    score(
        store.as_ref(),
        ids[0],
        &llm_key(),
        -0.5,
        None,
        &[("ACME", 1.0)],
    )
    .await;
    score(
        store.as_ref(),
        ids[1],
        &llm_key(),
        0.8,
        None,
        &[("ACME", 1.0)],
    )
    .await;
    score(
        store.as_ref(),
        ids[2],
        &lexicon_key(),
        0.2,
        None,
        &[("ACME", 0.1)],
    )
    .await;
    score(
        store.as_ref(),
        ids[3],
        &llm_key(),
        0.9,
        None,
        &[("ACME", 1.0)],
    )
    .await;
    let rule: alerts::Rule = serde_json::from_value(serde_json::json!({
        "symbol": "ACME", "kind": "crosses_up", "series": "sentiment", "value": 0.3,
        "frequency": "every_time", "cooldown": "1s"
    }))
    .unwrap();
    rule.validate().unwrap();
    let fired = |backtest: crate::alerts::Backtest| -> Vec<(NaiveDate, String)> {
        backtest
            .fires
            .into_iter()
            .map(|fire| (fire.date, fire.message))
            .collect()
    };
    let expected = [(
        day("2026-12-01"),
        "ACME sentiment crossed above 0.3 (now 0.7455; price 11.00)".to_owned(),
    )];
    let all = service
        .backtest(&rule, None, None, history())
        .await
        .unwrap();
    assert_eq!(fired(all), expected);
    // From the firing session on: the session before it is still its previous value.
    let from = service
        .backtest(&rule, Some(day("2026-12-01")), None, history())
        .await
        .unwrap();
    assert_eq!(fired(from), expected);
    // Without a score key nothing is read, so nothing fires.
    let keyless = service_with_keys(store.clone(), NewsSettings { enabled: true }, Vec::new());
    let none = keyless
        .backtest(&rule, None, None, history())
        .await
        .unwrap();
    assert!(none.fires.is_empty());
}
