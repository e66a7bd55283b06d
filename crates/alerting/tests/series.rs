//! Series rules on the live path: the evaluator reads the symbol's stored daily bars, the
//! live price is the session's provisional bar for indicators of closes, indicators of highs,
//! lows and volumes (and the composite signal, and the session news sentiment read from the
//! stored scores) move only with a new stored bar, and a rebuilt engine (rules changed)
//! neither misses nor repeats a crossing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use alerting::evaluator::Evaluator;
use bus::Bus;
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use domain::{Bar, Price, Series, SignalsConfig};
use serde_json::{Value, json};
use store::{RuleStatus, Store};

mod support;

use support::{at, memory_bus, msft, quote, sqlite_store, user};

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    user: String,
}

async fn world() -> World {
    let (dir, store) = sqlite_store().await;
    let user = user(store.as_ref(), "ann@example.com").await;
    World {
        _dir: dir,
        store,
        bus: memory_bus(),
        user,
    }
}

impl World {
    /// Stores an MSFT rule with these fields; its id.
    async fn rule(&self, fields: Value) -> i64 {
        let mut definition = json!({"symbol": "MSFT", "channels": []});
        for (key, value) in fields.as_object().unwrap() {
            definition[key] = value.clone();
        }
        let rule: alerts::Rule = serde_json::from_value(definition.clone()).unwrap();
        rule.validate().unwrap();
        support::stored_rule(self.store.as_ref(), &self.user, definition)
            .await
            .id
    }

    /// Stores MSFT daily bars: (date, close, volume), open = high = low = close.
    async fn bars(&self, bars: &[(&str, &str, u64)]) {
        let bars = bars
            .iter()
            .map(|(date, close, volume)| {
                let close: Price = close.parse().unwrap();
                Bar::new_checked(
                    date.parse().unwrap(),
                    close,
                    close,
                    close,
                    close,
                    *volume,
                    None,
                )
                .unwrap()
            })
            .collect();
        self.store
            .upsert_series(&Series::new(msft(), bars, "test", Utc::now()))
            .await
            .unwrap();
    }

    async fn messages(&self) -> Vec<String> {
        let events = self.store.alert_events(&self.user, 10).await.unwrap();
        let mut messages: Vec<String> = events.into_iter().map(|event| event.message).collect();
        messages.reverse();
        messages
    }
}

/// Quotes `prices` from Monday 2026-11-23 10:00 New York on, `start` seconds in and 15 s
/// apart; how many events each wrote.
async fn feed(evaluator: &mut Evaluator, start: i64, prices: &[&str]) -> Vec<usize> {
    let monday = at("2026-11-23T15:00:00Z");
    let mut written = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        let when = monday + Duration::seconds(start + 15 * i as i64);
        written.push(evaluator.on_quote(&quote(price, when)).await.unwrap());
    }
    written
}

#[tokio::test]
async fn a_series_rule_fires_once_when_the_live_value_crosses_its_level() {
    let w = world().await;
    w.bars(&[
        ("2026-11-18", "10", 1),
        ("2026-11-19", "10", 1),
        ("2026-11-20", "10", 1),
    ])
    .await;
    let id = w
        .rule(json!({"kind": "crosses_up", "series": "sma:3", "value": 11, "frequency": "once"}))
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // Friday's three closes of 10 and the live price as Monday's close: 10.67, 11.33, …
    assert_eq!(
        feed(&mut evaluator, 0, &["12", "14", "10", "14"]).await,
        [0, 1, 0, 0]
    );
    assert_eq!(
        w.messages().await,
        ["MSFT sma:3 crossed above 11 (now 11.33; price 14.00)"]
    );
    let stored = w.store.rule(&w.user, id).await.unwrap().unwrap();
    assert_eq!(stored.status, RuleStatus::Disarmed);
}

#[tokio::test]
async fn a_golden_cross_neither_repeats_nor_is_missed_across_an_engine_rebuild() {
    let w = world().await;
    w.bars(&[
        ("2026-11-18", "10", 1),
        ("2026-11-19", "10", 1),
        ("2026-11-20", "10", 1),
    ])
    .await;
    w.rule(
        json!({"kind": "crosses_up", "series": "sma:2", "other": "sma:3",
        "frequency": "every_time", "cooldown": "1s"}),
    )
    .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // Above 10 the two-day average leads the three-day one: the first quote over 10 crosses.
    assert_eq!(feed(&mut evaluator, 0, &["11", "12"]).await, [1, 0]);
    // A rule created meanwhile rebuilds the engine; it goes on from the last quote (12).
    w.rule(json!({"kind": "above", "price": 1000})).await;
    assert!(evaluator.reload_if_changed().await.unwrap());
    assert_eq!(
        feed(&mut evaluator, 60, &["13", "9", "11"]).await,
        [0, 0, 1]
    );
    assert_eq!(w.messages().await.len(), 2);
}

#[tokio::test]
async fn an_end_of_day_series_moves_only_when_the_next_bar_is_stored() {
    let w = world().await;
    // OBV: 100, then 50 after a down day.
    w.bars(&[("2026-11-19", "10", 100), ("2026-11-20", "9", 50)])
        .await;
    w.rule(json!({"kind": "crosses_up", "series": "obv", "value": 120,
        "frequency": "every_time", "cooldown": "1s"}))
        .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    // The live price does not move an OBV.
    assert_eq!(
        feed(&mut evaluator, 0, &["1000", "5", "2000"]).await,
        [0, 0, 0]
    );
    // Monday closes up on 80: OBV 130, seen on Tuesday's first quote only.
    w.bars(&[("2026-11-23", "11", 80)]).await;
    let tuesday = at("2026-11-24T15:00:00Z");
    assert_eq!(evaluator.on_quote(&quote("11", tuesday)).await.unwrap(), 1);
    let later = tuesday + Duration::seconds(15);
    assert_eq!(evaluator.on_quote(&quote("12", later)).await.unwrap(), 0);
    assert_eq!(
        w.messages().await,
        ["MSFT obv crossed above 120 (now 130.00; price 11.00)"]
    );
}

/// The composite signal score of the last of `bars` (date, close), as the signal endpoints
/// compute it: method v1 under the default configuration, no sentiment.
fn signal_at_last(bars: &[(String, String)]) -> f64 {
    let bars: Vec<Bar> = bars
        .iter()
        .map(|(date, close)| {
            let close: Price = close.parse().unwrap();
            Bar::new_checked(date.parse().unwrap(), close, close, close, close, 1, None).unwrap()
        })
        .collect();
    let method = signals::Method::new(SignalsConfig::default()).unwrap();
    let signals = method.signals(msft(), &bars, &Default::default(), None, Utc::now());
    let last = signals.last().unwrap();
    assert_eq!(last.day, bars.last().unwrap().date);
    last.score.get()
}

#[tokio::test]
async fn a_signal_rule_moves_only_when_the_next_bar_is_stored() {
    let w = world().await;
    // Forty weekday bars of a slow decline up to Friday 2026-11-20, then a 15 % jump on
    // Monday: the signal score rises from Friday's to Monday's.
    let mut day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let mut history = Vec::new();
    while history.len() < 40 {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            history.push(day);
        }
        day = day.pred_opt().unwrap();
    }
    history.reverse();
    let mut bars: Vec<(String, String)> = history
        .iter()
        .enumerate()
        .map(|(i, date)| {
            let wiggle = if i % 2 == 0 { 0.3 } else { -0.3 };
            (
                date.to_string(),
                format!("{:.2}", 100.0 - 0.5 * i as f64 + wiggle),
            )
        })
        .collect();
    let friday = signal_at_last(&bars);
    let monday_close = format!("{:.2}", (100.0 - 0.5 * 39.0) * 1.15);
    let mut with_monday = bars.clone();
    with_monday.push(("2026-11-23".to_owned(), monday_close.clone()));
    let monday = signal_at_last(&with_monday);
    assert!(monday > friday + 0.02, "friday {friday}, monday {monday}");
    let level = ((friday + monday) / 2.0 * 100.0).round() / 100.0;
    assert!(
        friday < level && level < monday,
        "{friday} {level} {monday}"
    );
    let stored: Vec<(&str, &str, u64)> = bars
        .iter()
        .map(|(date, close)| (date.as_str(), close.as_str(), 1))
        .collect();
    w.bars(&stored).await;
    w.rule(
        json!({"kind": "crosses_up", "series": "signal", "value": level,
        "frequency": "every_time", "cooldown": "1s"}),
    )
    .await;
    let mut evaluator =
        Evaluator::load_with_signals(w.store.clone(), w.bus.clone(), SignalsConfig::default())
            .await
            .unwrap();
    // Monday's live prices, however far they jump, do not move the day's signal.
    assert_eq!(
        feed(&mut evaluator, 0, &["200", "10", "300"]).await,
        [0, 0, 0]
    );
    // Monday's bar is stored: Tuesday's first quote sees Monday's signal, once.
    bars.push(("2026-11-23".to_owned(), monday_close));
    w.bars(&[("2026-11-23", bars.last().unwrap().1.as_str(), 1)])
        .await;
    let tuesday = at("2026-11-24T15:00:00Z");
    assert_eq!(evaluator.on_quote(&quote("23", tuesday)).await.unwrap(), 1);
    let later = tuesday + Duration::seconds(15);
    assert_eq!(evaluator.on_quote(&quote("5", later)).await.unwrap(), 0);
    assert_eq!(
        w.messages().await,
        [format!(
            "MSFT signal crossed above {level} (now {monday:.4}; price 23.00)"
        )]
    );
}

/// Stores an MSFT article published `at` and its score under the default (lexicon) key.
async fn scored_news(w: &World, url: &str, published: &str, score: f64) {
    let item = domain::news::NewsItem {
        title: format!("MSFT news {url}"),
        url: url.into(),
        publisher: None,
        published_at: at(published),
        summary: "summary".into(),
        symbols: vec![msft()],
        provider: "finnhub".into(),
        provider_sentiment: Vec::new(),
        simulated: false,
    };
    let inserted = w
        .store
        .insert_articles(&[store::NewArticle::new(item).unwrap()], Utc::now())
        .await
        .unwrap();
    let stored = w
        .store
        .insert_score(&store::ArticleScore {
            article: inserted[0].id,
            key: service::news::lexicon_key(),
            score: domain::SignalScore::new(score).unwrap(),
            label: None,
            relevance: vec![store::SymbolRelevance {
                symbol: msft(),
                relevance: 1.0,
            }],
            rationale: None,
            scored_at: Utc::now(),
        })
        .await
        .unwrap();
    assert!(stored);
}

#[tokio::test]
async fn a_sentiment_rule_fires_once_on_the_stored_scores_of_the_last_session() {
    let w = world().await;
    w.bars(&[("2026-11-19", "10", 1), ("2026-11-20", "10", 1)])
        .await;
    // Thursday's session is bearish; Friday's bullish, and Friday's after-hours news counts
    // for Monday's session, which has no bar yet.
    scored_news(&w, "https://n.example/thu", "2026-11-19T15:00:00Z", -0.4).await;
    scored_news(&w, "https://n.example/fri", "2026-11-20T15:00:00Z", 0.7).await;
    scored_news(&w, "https://n.example/late", "2026-11-20T22:00:00Z", -0.9).await;
    w.rule(
        json!({"kind": "crosses_up", "series": "sentiment", "value": 0.3,
        "frequency": "every_time", "cooldown": "1s"}),
    )
    .await;
    let mut evaluator = Evaluator::load(w.store.clone(), w.bus.clone())
        .await
        .unwrap();
    assert_eq!(feed(&mut evaluator, 0, &["10", "50", "1"]).await, [1, 0, 0]);
    assert_eq!(
        w.messages().await,
        ["MSFT sentiment crossed above 0.3 (now 0.7000; price 10.00)"]
    );
}
