use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use domain::{
    Bar, ComponentName, Evidence, Price, SignalLabel, SignalScore, SignalThresholds, SignalWeights,
    SignalsConfig, Symbol,
};
use proptest::prelude::*;

use crate::{
    Bands, Horizon, HorizonError, Method, Readings, SentimentReading, SentimentSeries, evaluate,
};

fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

fn at() -> DateTime<Utc> {
    "2026-12-03T22:00:00Z".parse().unwrap()
}

fn day(offset: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 1, 1)
        .unwrap()
        .checked_add_days(Days::new(offset as u64))
        .unwrap()
}

fn price(value: f64) -> Price {
    Price::from_f64(value).unwrap()
}

fn bar(offset: usize, close: f64) -> Bar {
    Bar {
        date: day(offset),
        open: price(close),
        high: price(close * 1.01),
        low: price(close * 0.99),
        close: price(close),
        volume: 1_000,
        adj_close: None,
    }
}

/// A seeded random walk of `n` closes around 100 (daily moves up to ±3 %).
fn walk(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut close = 100.0;
    (0..n)
        .map(|_| {
            close *= 1.0 + (rng.f64() - 0.5) * 0.06;
            (close * 100.0_f64).round() / 100.0
        })
        .collect()
}

fn bars_of(closes: &[f64]) -> Vec<Bar> {
    closes
        .iter()
        .enumerate()
        .map(|(i, close)| bar(i, *close))
        .collect()
}

fn default_method() -> Method {
    Method::new(SignalsConfig::default()).unwrap()
}

fn no_sentiment() -> SentimentSeries {
    SentimentSeries::new()
}

#[test]
fn the_default_method_is_named_after_the_algorithm_and_the_default_configuration() {
    assert_eq!(default_method().name().as_str(), "v1-f34f5ca0");
}

#[test]
fn every_component_appears_once_its_indicators_are_warm() {
    // 20 + 252 bars warm the volatility rank; one more gives a day with every price component.
    let bars = bars_of(&walk(7, 20 + 252 + 1));
    let signals = default_method().signals(msft(), &bars, &no_sentiment(), None, at());

    // Bollinger 20 warms up first (its 20th bar, index 19): mean reversion alone.
    assert_eq!(signals[0].day, day(19));
    let names =
        |i: usize| -> Vec<ComponentName> { signals[i].components.iter().map(|c| c.name).collect() };
    assert_eq!(names(0), [ComponentName::MeanReversion]);
    assert_eq!(
        signals[0].missing,
        [
            ComponentName::Trend,
            ComponentName::Momentum,
            ComponentName::Volatility,
            ComponentName::Sentiment
        ]
    );
    let last = signals.last().unwrap();
    assert_eq!(last.day, day(20 + 252));
    assert_eq!(
        names(signals.len() - 1),
        [
            ComponentName::Trend,
            ComponentName::Momentum,
            ComponentName::MeanReversion,
            ComponentName::Volatility
        ]
    );
    assert_eq!(last.missing, [ComponentName::Sentiment]);
    // The day before the last still lacks a full year of volatility readings.
    assert!(
        signals[signals.len() - 2]
            .missing
            .contains(&ComponentName::Volatility)
    );
}

#[test]
fn missing_components_give_their_weight_to_the_others_and_the_score_follows() {
    // 100 bars: momentum and mean reversion are warm, trend (200) and volatility are not.
    let bars = bars_of(&walk(11, 100));
    let signals = default_method().signals(msft(), &bars, &no_sentiment(), None, at());
    let last = signals.last().unwrap();
    assert_eq!(
        last.missing,
        [
            ComponentName::Trend,
            ComponentName::Volatility,
            ComponentName::Sentiment
        ]
    );
    let [momentum, mean_reversion] = last.components.as_slice() else {
        panic!("two components, got {:?}", last.components);
    };
    // Default weights momentum 0.25 and mean reversion 0.2, renormalised over 0.45.
    assert!((momentum.weight.get() - 0.25 / 0.45).abs() < 1e-12);
    assert!((mean_reversion.weight.get() - 0.2 / 0.45).abs() < 1e-12);
    let expected = (0.25 * momentum.score.get() + 0.2 * mean_reversion.score.get()) / 0.45;
    assert!(
        (last.score.get() - expected).abs() <= 0.000_05 + 1e-12,
        "{} vs {expected}",
        last.score
    );
}

#[test]
fn a_sentiment_reading_joins_the_composite_with_its_own_evidence() {
    let bars = bars_of(&walk(3, 100));
    let last_day = bars.last().unwrap().date;
    let mut sentiment = SentimentSeries::new();
    sentiment.insert(
        last_day,
        SentimentReading {
            score: SignalScore::new(1.0).unwrap(),
            evidence: Evidence::new().with("articles", 12),
        },
    );
    let signals = default_method().signals(msft(), &bars, &sentiment, None, at());
    let last = signals.last().unwrap();
    let sentiment = last
        .components
        .iter()
        .find(|c| c.name == ComponentName::Sentiment)
        .unwrap();
    assert_eq!(sentiment.evidence.get("articles"), Some(&12.into()));
    // 0.25 of 0.25 + 0.2 + 0.25 present.
    assert!((sentiment.weight.get() - 0.25 / 0.7).abs() < 1e-12);
    let total: f64 = last.components.iter().map(|c| c.weight.get()).sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert!(!last.missing.contains(&ComponentName::Sentiment));
    // The day before has no reading: sentiment is missing there.
    assert!(
        signals[signals.len() - 2]
            .missing
            .contains(&ComponentName::Sentiment)
    );
}

fn readings(rsi: f64, percent_b: f64) -> Readings {
    let (lower, upper) = (90.0, 110.0);
    Readings {
        close: lower + percent_b * (upper - lower),
        sma_50: None,
        sma_200: None,
        macd_histogram: None,
        rsi_14: Some(rsi),
        roc_20: Some(0.0),
        bollinger: Some(Bands {
            upper,
            middle: 100.0,
            lower,
        }),
        volatility_20: None,
        volatility_rank: None,
    }
}

#[test]
fn an_oversold_reading_says_so_in_the_evidence() {
    let day = default_method().score(&readings(27.9, 0.1), None).unwrap();
    let mean_reversion = day
        .components
        .iter()
        .find(|c| c.name == ComponentName::MeanReversion)
        .unwrap();
    assert_eq!(mean_reversion.evidence.get("rsi_14"), Some(&27.9.into()));
    let reading = mean_reversion.evidence.get("reading").unwrap().to_string();
    assert!(reading.contains("below 30: oversold"), "{reading}");
    assert!(
        reading.contains("near the lower Bollinger band"),
        "{reading}"
    );
    // %b 0.1 → 0.8; RSI 27.9 → 0.5 + 2.1 / 20 = 0.605; mean 0.7025.
    assert!((mean_reversion.score.get() - 0.7025).abs() < 1e-9);
}

#[test]
fn thresholds_decide_the_label_of_the_composite() {
    // Only mean reversion and momentum are present in these readings.
    let strict = SignalsConfig::new(
        SignalWeights {
            momentum: 0.0,
            ..SignalWeights::default()
        },
        SignalThresholds {
            strong_buy: 0.9,
            buy: 0.5,
            sell: -0.5,
            strong_sell: -0.9,
        },
    )
    .unwrap();
    let strict = Method::new(strict).unwrap();
    let lenient = default_method();
    // Mean reversion at 0.7025 (see above), momentum weighing 0 under `strict`.
    let oversold = readings(27.9, 0.1);
    let day = strict.score(&oversold, None).unwrap();
    assert!((day.score.get() - 0.7025).abs() < 1e-4);
    assert_eq!(day.label, SignalLabel::Buy);
    // At the lower band with RSI 10, mean reversion is 1: strong buy under both.
    let extreme = readings(10.0, 0.0);
    assert_eq!(
        strict.score(&extreme, None).unwrap().label,
        SignalLabel::StrongBuy
    );
    // Overbought at the upper band: the mirror.
    let overbought = readings(90.0, 1.0);
    assert_eq!(
        strict.score(&overbought, None).unwrap().label,
        SignalLabel::StrongSell
    );
    // A quiet reading is neutral.
    assert_eq!(
        lenient.score(&readings(50.0, 0.5), None).unwrap().label,
        SignalLabel::Neutral
    );
    assert_ne!(strict.name(), lenient.name());
}

#[test]
fn a_day_whose_present_components_weigh_nothing_has_no_signal() {
    let sentiment_only = SignalsConfig::new(
        SignalWeights {
            trend: 0.0,
            momentum: 0.0,
            mean_reversion: 0.0,
            volatility: 0.0,
            sentiment: 1.0,
        },
        SignalThresholds::default(),
    )
    .unwrap();
    let method = Method::new(sentiment_only).unwrap();
    assert_eq!(method.score(&readings(50.0, 0.5), None), None);
}

#[test]
fn rescaling_all_earlier_prices_like_a_split_leaves_the_signals_alone() {
    let closes = walk(5, 600);
    let bars = bars_of(&closes);
    // The same history adjusted for a later 1:4 split: every adjusted price a quarter.
    let adjusted: Vec<Bar> = bars
        .iter()
        .map(|bar| Bar {
            adj_close: Some(price(bar.close.to_f64() / 4.0)),
            ..*bar
        })
        .collect();
    let method = default_method();
    let plain = method.signals(msft(), &bars, &no_sentiment(), None, at());
    let split = method.signals(msft(), &adjusted, &no_sentiment(), None, at());
    assert_eq!(plain.len(), split.len());
    for (a, b) in plain.iter().zip(&split) {
        assert!(
            (a.score.get() - b.score.get()).abs() <= 0.000_2,
            "{}",
            a.day
        );
    }
}

#[test]
fn signals_start_from_the_day_asked_for_but_read_the_bars_before_it() {
    let bars = bars_of(&walk(9, 400));
    let method = default_method();
    let all = method.signals(msft(), &bars, &no_sentiment(), None, at());
    let tail = method.signals(msft(), &bars, &no_sentiment(), Some(day(390)), at());
    assert_eq!(tail.len(), 10);
    assert_eq!(tail[..], all[all.len() - 10..]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// No look-ahead: whatever happens after day `cut` (other bars, fewer bars, none), the
    /// signals of day `cut` and every day before it are the same.
    #[test]
    fn a_future_bar_never_changes_a_past_signal(
        seed in any::<u64>(),
        other_seed in any::<u64>(),
        cut in 0_usize..560,
        kept_after in 0_usize..40,
    ) {
        let closes = walk(seed, 560);
        let mut changed = closes[..=cut].to_vec();
        changed.extend(walk(other_seed, kept_after).iter().map(|c| c * 1.7));
        let method = default_method();
        let original = method.signals(msft(), &bars_of(&closes), &no_sentiment(), None, at());
        let rewritten = method.signals(msft(), &bars_of(&changed), &no_sentiment(), None, at());
        let past = |signals: &[domain::Signal]| -> Vec<domain::Signal> {
            signals.iter().filter(|s| s.day <= day(cut)).cloned().collect()
        };
        prop_assert_eq!(past(&original), past(&rewritten));
    }
}

#[test]
fn horizons_parse_from_a_list_and_refuse_what_cannot_be_used() {
    let parsed = Horizon::parse_list("20,5,5").unwrap();
    assert_eq!(
        parsed,
        [Horizon::new(5).unwrap(), Horizon::new(20).unwrap()]
    );
    assert_eq!(
        Horizon::parse_list("0"),
        Err(HorizonError::Invalid("0".into()))
    );
    assert_eq!(
        Horizon::parse_list("253"),
        Err(HorizonError::Invalid("253".into()))
    );
    assert_eq!(
        Horizon::parse_list("five"),
        Err(HorizonError::Invalid("five".into()))
    );
    assert_eq!(Horizon::parse_list(""), Err(HorizonError::Empty));
    for loose in ["5, 20", "05", "+5", "5,", ",5", "1e2"] {
        assert!(Horizon::parse_list(loose).is_err(), "{loose}");
    }
    assert_eq!(
        Horizon::parse_list("5,5,5,5,5,5,5,5,5"),
        Err(HorizonError::TooMany(9)),
        "entries count before duplicates go"
    );
    assert_eq!(
        Horizon::parse_list("1,2,3,4,5,6,7,8,9"),
        Err(HorizonError::TooMany(9))
    );
}

/// The evaluation, recomputed the slow way: a date → close map, explicit loops, and a median
/// from a full sort, for every label and horizon.
#[test]
fn evaluation_matches_an_independent_computation() {
    let closes: Vec<(NaiveDate, f64)> = walk(21, 300)
        .into_iter()
        .enumerate()
        .map(|(i, c)| (day(i), c))
        .collect();
    let mut rng = fastrand::Rng::with_seed(4);
    // Every other day is a signal day with a random label.
    let labels: Vec<(NaiveDate, SignalLabel)> = (0..300)
        .step_by(2)
        .map(|i| (day(i), SignalLabel::ALL[rng.usize(0..5)]))
        .collect();
    let horizons = Horizon::parse_list("1,5,20").unwrap();
    let evaluation = evaluate(&labels, &closes, &horizons);

    let index: HashMap<NaiveDate, usize> = closes
        .iter()
        .enumerate()
        .map(|(i, (d, _))| (*d, i))
        .collect();
    let forward = |d: NaiveDate, h: usize| -> Option<f64> {
        let i = index[&d];
        if i + h >= closes.len() {
            return None;
        }
        Some(closes[i + h].1 / closes[i].1 - 1.0)
    };
    assert_eq!(evaluation.days, 150);
    assert_eq!(evaluation.from, Some(day(0)));
    assert_eq!(evaluation.to, Some(day(298)));
    for (hi, horizon) in horizons.iter().enumerate() {
        let h = horizon.days();
        let all: Vec<f64> = labels.iter().filter_map(|(d, _)| forward(*d, h)).collect();
        let all_mean = all.iter().sum::<f64>() / all.len() as f64;
        let bh = &evaluation.buy_and_hold[hi];
        assert_eq!(bh.days, all.len());
        assert!((bh.mean_return.unwrap() - all_mean).abs() < 1e-12);
        for (li, label) in SignalLabel::ALL.iter().enumerate() {
            let record = &evaluation.labels[li];
            assert_eq!(record.label, *label);
            let mut returns = Vec::new();
            let mut days = 0;
            for (d, l) in &labels {
                if l == label {
                    days += 1;
                    if let Some(r) = forward(*d, h) {
                        returns.push(r);
                    }
                }
            }
            assert_eq!(record.days, days);
            let at_h = &record.horizons[hi];
            assert_eq!(at_h.days, returns.len());
            let n = returns.len() as f64;
            let mean = returns.iter().sum::<f64>() / n;
            returns.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let median = if returns.len() % 2 == 1 {
                returns[returns.len() / 2]
            } else {
                (returns[returns.len() / 2 - 1] + returns[returns.len() / 2]) / 2.0
            };
            let ups = returns.iter().filter(|r| **r > 0.0).count() as f64 / n;
            let downs = returns.iter().filter(|r| **r < 0.0).count() as f64 / n;
            assert!((at_h.mean_return.unwrap() - mean).abs() < 1e-12);
            assert!((at_h.median_return.unwrap() - median).abs() < 1e-12);
            let expected_hit = match label {
                SignalLabel::Buy | SignalLabel::StrongBuy => Some(ups),
                SignalLabel::Sell | SignalLabel::StrongSell => Some(downs),
                SignalLabel::Neutral => None,
            };
            assert_eq!(at_h.hit_rate, expected_hit);
            assert!((at_h.excess_mean_return.unwrap() - (mean - all_mean)).abs() < 1e-12);
        }
    }
}

#[test]
fn days_without_enough_later_bars_are_left_out_of_a_horizon() {
    let closes: Vec<(NaiveDate, f64)> = [100.0, 110.0, 99.0, 121.0]
        .into_iter()
        .enumerate()
        .map(|(i, c)| (day(i), c))
        .collect();
    let labels = [
        (day(0), SignalLabel::Buy),
        (day(1), SignalLabel::Sell),
        (day(3), SignalLabel::Buy),
    ];
    let evaluation = evaluate(&labels, &closes, &[Horizon::new(2).unwrap()]);
    let buy = &evaluation.labels[3];
    assert_eq!((buy.days, buy.horizons[0].days), (2, 1));
    assert!((buy.horizons[0].mean_return.unwrap() - (-0.01)).abs() < 1e-12);
    assert_eq!(buy.horizons[0].hit_rate, Some(0.0));
    let sell = &evaluation.labels[1];
    assert!((sell.horizons[0].mean_return.unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(sell.horizons[0].hit_rate, Some(0.0));
    let neutral = &evaluation.labels[2];
    assert_eq!(neutral.days, 0);
    assert_eq!(neutral.horizons[0].mean_return, None);
    assert_eq!(evaluation.buy_and_hold[0].days, 2);
    assert_eq!(evaluation.buy_and_hold[0].positive_share, Some(0.5));
}
