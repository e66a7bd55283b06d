//! Stored signals on every backend: components and evidence read back exactly, a rerun replaces
//! (or, inserting, keeps) instead of doubling, ranges are bounded, methods never mix, and the latest label of each
//! symbol survives for the next computation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::backends;
use domain::{
    ComponentName, ComponentWeight, Evidence, Signal, SignalComponent, SignalLabel, SignalMethod,
    SignalScore, Symbol,
};
use store::LatestLabel;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn at() -> DateTime<Utc> {
    "2026-11-27T22:05:00.123456Z".parse().unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn method(name: &str) -> SignalMethod {
    SignalMethod::parse(name).unwrap()
}

fn component(name: ComponentName, score: f64, weight: f64, evidence: Evidence) -> SignalComponent {
    SignalComponent {
        name,
        score: SignalScore::new(score).unwrap(),
        weight: ComponentWeight::new(weight).unwrap(),
        evidence,
    }
}

/// A signal with every kind of evidence value, sentiment left out.
fn signal(symbol: &str, d: u32, method_name: &str, score: f64, label: SignalLabel) -> Signal {
    Signal {
        symbol: sym(symbol),
        day: day(d),
        method: method(method_name),
        score: SignalScore::new(score).unwrap(),
        label,
        components: vec![
            component(
                ComponentName::Trend,
                0.1 + 0.2,
                0.35 / 0.75,
                Evidence::new()
                    .with("sma_50", 412.337_000_000_000_1)
                    .with("sma_200", 398.0)
                    .with("reading", "50-day above 200-day: uptrend"),
            ),
            component(
                ComponentName::Momentum,
                -1.0,
                0.25 / 0.75,
                Evidence::new()
                    .with("rsi_14", 27.9)
                    .with("reading", "below 30: oversold")
                    .with("crossed", true)
                    .with("window", serde_json::json!([14, "days"]))
                    .with("previous", serde_json::Value::Null),
            ),
            component(ComponentName::Volatility, 0.0, 0.2 / 0.75, Evidence::new()),
        ],
        missing: vec![ComponentName::Sentiment],
        computed_at: at(),
    }
}

#[tokio::test]
async fn components_and_evidence_read_back_exactly() {
    for (_keep, store) in backends().await {
        let written = signal("BRK.B", 27, "v1", 0.42, SignalLabel::Buy);
        assert_eq!(
            store
                .upsert_signals(std::slice::from_ref(&written))
                .await
                .unwrap(),
            1
        );
        let read = store
            .latest_signal(sym("BRK.B"), &method("v1"))
            .await
            .unwrap()
            .expect("the signal just written");
        assert_eq!(read, written, "{}", store.backend());
        let keys: Vec<&str> = read.components[1].evidence.iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["rsi_14", "reading", "crossed", "window", "previous"],
            "evidence keeps its order on {}",
            store.backend()
        );
        assert_eq!(read.components[0].score.get(), 0.1 + 0.2);
    }
}

#[tokio::test]
async fn writing_a_day_again_replaces_it_and_never_doubles_it() {
    for (_keep, store) in backends().await {
        let first = signal("MSFT", 27, "v1", 0.42, SignalLabel::Buy);
        store.upsert_signals(&[first]).await.unwrap();
        let mut rerun = signal("MSFT", 27, "v1", -0.7, SignalLabel::StrongSell);
        rerun.missing.clear();
        rerun.components.truncate(1);
        // Twice in one batch too: the later one wins.
        let mut earlier_in_batch = rerun.clone();
        earlier_in_batch.score = SignalScore::new(0.9).unwrap();
        store
            .upsert_signals(&[earlier_in_batch, rerun.clone()])
            .await
            .unwrap();

        let stored = store
            .signals(sym("MSFT"), &method("v1"), day(1), day(30), 100)
            .await
            .unwrap();
        assert_eq!(stored, [rerun], "{}", store.backend());
    }
}

#[tokio::test]
async fn inserting_keeps_the_days_already_stored_and_counts_only_new_ones() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let first = signal("MSFT", 26, "v1", 0.42, SignalLabel::Buy);
        assert_eq!(
            store
                .insert_signals(std::slice::from_ref(&first))
                .await
                .unwrap(),
            1
        );
        // A second computation of the same day (another replica) and a new day.
        let mut again = signal("MSFT", 26, "v1", -0.7, SignalLabel::StrongSell);
        again.computed_at = at() + chrono::Duration::seconds(5);
        let next = signal("MSFT", 27, "v1", 0.1, SignalLabel::Neutral);
        let written = store
            .insert_signals(&[again.clone(), next.clone()])
            .await
            .unwrap();
        assert_eq!(written, 1, "{backend}: only the new day");
        assert_eq!(
            store.insert_signals(&[again, next.clone()]).await.unwrap(),
            0
        );

        let stored = store
            .signals(sym("MSFT"), &method("v1"), day(1), day(30), 100)
            .await
            .unwrap();
        assert_eq!(stored, [first, next], "{backend}: the first write kept");
    }
}

#[tokio::test]
async fn ranges_are_inclusive_oldest_first_and_bounded() {
    for (_keep, store) in backends().await {
        let batch: Vec<Signal> = [24, 20, 26, 25, 23]
            .into_iter()
            .map(|d| signal("AAPL", d, "v1", 0.0, SignalLabel::Neutral))
            .chain([signal("MSFT", 25, "v1", 0.5, SignalLabel::Buy)])
            .collect();
        store.upsert_signals(&batch).await.unwrap();
        let days = |signals: Vec<Signal>| signals.iter().map(|s| s.day).collect::<Vec<_>>();

        let inclusive = store
            .signals(sym("AAPL"), &method("v1"), day(23), day(25), 100)
            .await
            .unwrap();
        assert_eq!(
            days(inclusive),
            [day(23), day(24), day(25)],
            "{}",
            store.backend()
        );
        let first_two = store
            .signals(sym("AAPL"), &method("v1"), day(1), day(30), 2)
            .await
            .unwrap();
        assert_eq!(
            days(first_two),
            [day(20), day(23)],
            "the oldest of the range"
        );
        let none = store
            .signals(sym("AAPL"), &method("v1"), day(27), day(30), 100)
            .await
            .unwrap();
        assert!(none.is_empty());
        let unknown = store
            .latest_signal(sym("IBM"), &method("v1"))
            .await
            .unwrap();
        assert_eq!(unknown, None);
    }
}

#[tokio::test]
async fn a_new_method_neither_replaces_nor_hides_the_old_one() {
    for (_keep, store) in backends().await {
        let v1 = signal("MSFT", 26, "v1", 0.3, SignalLabel::Buy);
        store
            .upsert_signals(std::slice::from_ref(&v1))
            .await
            .unwrap();
        // The same day under v2, and a later day only under v2.
        let v2 = signal("MSFT", 26, "v2", -0.3, SignalLabel::Sell);
        let v2_later = signal("MSFT", 27, "v2", -0.8, SignalLabel::StrongSell);
        store
            .upsert_signals(&[v2.clone(), v2_later.clone()])
            .await
            .unwrap();

        let of_v1 = store
            .signals(sym("MSFT"), &method("v1"), day(1), day(30), 100)
            .await
            .unwrap();
        assert_eq!(of_v1, std::slice::from_ref(&v1), "{}", store.backend());
        assert_eq!(
            store
                .latest_signal(sym("MSFT"), &method("v1"))
                .await
                .unwrap(),
            Some(v1)
        );
        assert_eq!(
            store
                .latest_signal(sym("MSFT"), &method("v2"))
                .await
                .unwrap(),
            Some(v2_later)
        );
        let of_v2 = store
            .signals(sym("MSFT"), &method("v2"), day(1), day(30), 100)
            .await
            .unwrap();
        assert_eq!(of_v2.len(), 2);
        assert_eq!(of_v2[0], v2);
    }
}

#[tokio::test]
async fn the_latest_label_of_each_symbol_is_its_latest_days() {
    for (_keep, store) in backends().await {
        store
            .upsert_signals(&[
                signal("MSFT", 25, "v1", 0.7, SignalLabel::StrongBuy),
                signal("MSFT", 27, "v1", -0.25, SignalLabel::Sell),
                signal("MSFT", 26, "v1", 0.1, SignalLabel::Neutral),
                signal("AAPL", 24, "v1", 0.3, SignalLabel::Buy),
                // Another method's later day changes nothing under v1.
                signal("AAPL", 27, "v2", -0.9, SignalLabel::StrongSell),
            ])
            .await
            .unwrap();

        let labels = store.latest_labels(&method("v1")).await.unwrap();
        assert_eq!(
            labels,
            [
                LatestLabel {
                    symbol: sym("AAPL"),
                    day: day(24),
                    label: SignalLabel::Buy,
                    score: SignalScore::new(0.3).unwrap(),
                },
                LatestLabel {
                    symbol: sym("MSFT"),
                    day: day(27),
                    label: SignalLabel::Sell,
                    score: SignalScore::new(-0.25).unwrap(),
                },
            ],
            "{}",
            store.backend()
        );
        assert!(store.latest_labels(&method("v3")).await.unwrap().is_empty());
    }
}
