//! Rules on a series (an indicator line) instead of the price: wire form, validation, live
//! ticks (intraday and end-of-day series) and backtests checked against an independent
//! computation of the indicator.

use alerts::{Engine, FieldError, Rule, RuleState, Tick, backtest, backtest_with_sentiment};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use domain::{Bar, Price, SignalsConfig, TradingCalendar};
use indicators::{Candle, Line};
use serde_json::json;
use std::collections::BTreeMap;

use crate::{at, msft, price, rule};

fn parse(value: serde_json::Value) -> Rule {
    serde_json::from_value(value).unwrap()
}

fn problems(value: serde_json::Value) -> Vec<FieldError> {
    parse(value).validate().unwrap_err()
}

#[test]
fn a_series_rule_round_trips_in_its_canonical_form() {
    let wire = json!({"symbol":"MSFT","kind":"crosses_up","series":"sma:50","other":"sma:200","frequency":"once","channels":[]});
    let rule = parse(wire.clone());
    rule.validate().unwrap();
    assert_eq!(serde_json::to_value(&rule).unwrap(), wire);
    // Omitted parameters are written out.
    let rule = parse(json!({"symbol":"MSFT","kind":"below","series":"rsi","value":30}));
    rule.validate().unwrap();
    let back = serde_json::to_value(&rule).unwrap();
    assert_eq!(back["series"], "rsi:14");
    assert_eq!(back["value"], 30.0);
    assert!(back.get("price").is_none(), "{back}");
}

#[test]
fn validation_names_each_series_field_at_fault() {
    let field = |value| -> Vec<&'static str> { problems(value).iter().map(|e| e.field).collect() };
    // `other` only crosses.
    assert_eq!(
        field(json!({"symbol":"MSFT","kind":"above","series":"sma:50","other":"sma:200"})),
        ["other"]
    );
    // A series needs its level.
    let missing = problems(json!({"symbol":"MSFT","kind":"crosses_up","series":"rsi:14"}));
    assert_eq!(missing[0].field, "value");
    assert!(
        missing[0].message.contains("or give other"),
        "{}",
        missing[0]
    );
    // A price on a series rule, value and other together, the same series twice.
    assert_eq!(
        field(json!({"symbol":"MSFT","kind":"below","series":"rsi:14","price":30,"value":30})),
        ["price"]
    );
    assert_eq!(
        field(
            json!({"symbol":"MSFT","kind":"crosses","series":"rsi:14","value":30,"other":"rsi:7"})
        ),
        ["value"]
    );
    assert_eq!(
        field(json!({"symbol":"MSFT","kind":"crosses","series":"sma:50","other":"sma:50"})),
        ["other"]
    );
    // Percent moves and trailing stops are of the price only.
    assert_eq!(
        field(
            json!({"symbol":"MSFT","kind":"moves_up_pct","percent":5,"window_days":1,"series":"rsi:14"})
        ),
        ["series"]
    );
    // value / other without a series; a price rule without its price.
    assert_eq!(
        field(json!({"symbol":"MSFT","kind":"above","price":5,"value":3})),
        ["value"]
    );
    let no_price = problems(json!({"symbol":"MSFT","kind":"above"}));
    assert_eq!(no_price[0].field, "price");
    assert!(
        no_price[0].message.contains("is required"),
        "{}",
        no_price[0]
    );
    // A negative level is fine for a series that can be negative.
    parse(json!({"symbol":"MSFT","kind":"crosses_down","series":"macd:12:26:9.histogram","value":-0.5}))
        .validate()
        .unwrap();
}

#[test]
fn an_unknown_series_or_parameter_is_refused_with_the_valid_ones() {
    let err = serde_json::from_value::<Rule>(
        json!({"symbol":"MSFT","kind":"above","series":"sma:1","value":3}),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`sma` parameter `period` must be 2..=1000"),
        "{err}"
    );
    let err = serde_json::from_value::<Rule>(
        json!({"symbol":"MSFT","kind":"above","series":"sentimnt","value":0.5}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown indicator `sentimnt`"), "{err}");
}

#[test]
fn a_sentiment_rule_compares_with_a_score_in_minus_one_to_one() {
    parse(json!({"symbol":"MSFT","kind":"crosses_up","series":"sentiment","value":-0.25}))
        .validate()
        .unwrap();
    // The two scores may cross each other.
    parse(json!({"symbol":"MSFT","kind":"crosses","series":"sentiment","other":"signal"}))
        .validate()
        .unwrap();
    let out = problems(json!({"symbol":"MSFT","kind":"above","series":"sentiment","value":1.5}));
    assert_eq!(out[0].field, "value");
    assert!(
        out[0]
            .message
            .contains("between -1 and 1 for series sentiment"),
        "{}",
        out[0]
    );
    let out = problems(
        json!({"symbol":"MSFT","kind":"crosses_up","series":"sentiment","other":"rsi:14"}),
    );
    assert_eq!(out[0].field, "other");
}

/// `count` weekday bars from 2025-01-06 of a seeded random walk, with split-adjusted closes
/// for the first half (as a 2:1 split would leave them), so the conversion matters.
fn walk(count: usize, seed: u64) -> Vec<Bar> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut date = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
    let mut close = 100.0_f64;
    let mut bars = Vec::new();
    while bars.len() < count {
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            let open = close;
            close = (close * (1.0 + (rng.f64() - 0.5) * 0.06)).max(1.0);
            let high = open.max(close) * 1.01;
            let low = open.min(close) * 0.99;
            let p = |v: f64| Price::from_f64((v * 100.0).round() / 100.0).unwrap();
            let split = bars.len() < count / 2;
            bars.push(
                Bar::new_checked(
                    date,
                    p(open),
                    p(high),
                    p(low),
                    p(close),
                    1_000 + rng.u64(0..1_000),
                    split.then(|| p(close / 2.0)),
                )
                .unwrap(),
            );
        }
        date = date + Days::new(1);
    }
    bars
}

/// The values of `line` on each bar, computed by the indicators crate's batch form.
fn batch(bars: &[Bar], line: &str) -> Vec<Option<f64>> {
    let line: Line = line.parse().unwrap();
    let candles: Vec<Candle> = bars.iter().map(Candle::from_bar).collect();
    line.indicator.batch(&candles).swap_remove(line.output)
}

/// The days on which `a` crosses above `b` (`up`) or below it, by the plain definition.
fn crossings(bars: &[Bar], a: &[Option<f64>], b: &[Option<f64>], up: bool) -> Vec<NaiveDate> {
    (1..bars.len())
        .filter(|&i| match (a[i - 1], a[i], b[i - 1], b[i]) {
            (Some(a0), Some(a1), Some(b0), Some(b1)) if up => a0 <= b0 && a1 > b1,
            (Some(a0), Some(a1), Some(b0), Some(b1)) => a0 >= b0 && a1 < b1,
            _ => false,
        })
        .map(|i| bars[i].date)
        .collect()
}

fn fire_dates(rule: &Rule, bars: &[Bar], from: Option<NaiveDate>) -> Vec<NaiveDate> {
    backtest(rule, bars, TradingCalendar::NYSE, from)
        .unwrap()
        .iter()
        .map(|fire| fire.date)
        .collect()
}

#[test]
fn an_rsi_backtest_fires_on_exactly_the_days_the_rsi_crosses_its_level() {
    let bars = walk(400, 7);
    let rsi = batch(&bars, "rsi:14");
    let thirty = vec![Some(30.0); bars.len()];
    let expected = crossings(&bars, &rsi, &thirty, false);
    assert!(expected.len() >= 3, "the walk should cross 30 a few times");
    let rule = rule(json!({"kind":"crosses_down","series":"rsi:14","value":30,
        "frequency":"every_time","cooldown":"1h"}));
    assert_eq!(fire_dates(&rule, &bars, None), expected);
}

#[test]
fn a_golden_cross_backtest_matches_the_moving_averages_and_ignores_warm_up() {
    let bars = walk(500, 11);
    let fast = batch(&bars, "sma:20");
    let slow = batch(&bars, "sma:60");
    let mut expected = crossings(&bars, &fast, &slow, true);
    expected.extend(crossings(&bars, &fast, &slow, false));
    expected.sort_unstable();
    assert!(expected.len() >= 2);
    // Nothing before the slow average exists (bar 59) can fire or be compared with.
    assert!(expected[0] > bars[59].date);
    let rule = rule(json!({"kind":"crosses","series":"sma:20","other":"sma:60",
        "frequency":"once_per_day"}));
    assert_eq!(fire_dates(&rule, &bars, None), expected);
    // From a later day: the same days after it (the averages see every earlier bar).
    let from = expected[1];
    let later: Vec<NaiveDate> = expected.iter().copied().filter(|d| *d >= from).collect();
    assert_eq!(fire_dates(&rule, &bars, Some(from)), later);
}

#[test]
fn a_once_series_backtest_stops_at_its_first_fire_with_a_message_naming_the_series() {
    let bars = walk(300, 3);
    let rule = rule(json!({"kind":"above","series":"rsi:14","value":60}));
    let fires = backtest(&rule, &bars, TradingCalendar::NYSE, None).unwrap();
    assert_eq!(fires.len(), 1);
    assert!(
        fires[0]
            .message
            .starts_with("MSFT rsi:14 is above 60 (now "),
        "{}",
        fires[0].message
    );
}

fn tick(engine: &mut Engine, when: &str, text: &str) -> Vec<i64> {
    let tick = Tick {
        symbol: msft(),
        price: price(text),
        at: at(when),
        source: "test".to_owned(),
    };
    engine.on_tick(&tick).iter().map(|t| t.rule_id).collect()
}

fn flat_candles(closes: &[f64]) -> Vec<Candle> {
    closes.iter().map(|c| Candle::from_close(*c)).collect()
}

/// Monday 2026-11-23, the session of the ticks below.
fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

#[test]
fn an_intraday_series_moves_with_the_live_price_and_a_once_rule_fires_once() {
    let mut engine = Engine::new();
    engine.insert(
        1,
        rule(json!({"kind":"crosses_up","series":"sma:3","value":11})),
        RuleState::armed(),
    );
    // Without the session's bars the series has no value: nothing fires.
    assert!(tick(&mut engine, "2026-11-23T15:00:00Z", "20").is_empty());
    engine.set_series_bars(msft(), monday(), &flat_candles(&[10.0, 10.0, 10.0]));
    // The provisional bar's close is the live price: (10 + 10 + 12) / 3 = 10.67, then 11.33.
    assert!(tick(&mut engine, "2026-11-23T15:01:00Z", "12").is_empty());
    assert_eq!(tick(&mut engine, "2026-11-23T15:02:00Z", "14"), [1]);
    assert!(tick(&mut engine, "2026-11-23T15:03:00Z", "10").is_empty());
    assert!(tick(&mut engine, "2026-11-23T15:04:00Z", "14").is_empty());
    assert!(!engine.state(1).unwrap().armed);
}

#[test]
fn a_rebuilt_engine_compares_with_the_value_at_the_restored_last_quote() {
    let every_time = rule(
        json!({"kind":"crosses_up","series":"sma:3","value":11,"frequency":"every_time","cooldown":"1s"}),
    );
    let mut engine = Engine::new();
    engine.insert(1, every_time.clone(), RuleState::armed());
    engine.set_series_bars(msft(), monday(), &flat_candles(&[10.0, 10.0, 10.0]));
    assert_eq!(tick(&mut engine, "2026-11-23T15:01:00Z", "14"), [1]);
    // A new engine (rules changed) continues from the last quote: 14 then 15 is no crossing,
    // although the session started below the level.
    let mut rebuilt = Engine::new();
    rebuilt.insert(1, every_time, *engine.state(1).unwrap());
    rebuilt.restore_quote(engine.last_quote(msft()).unwrap());
    rebuilt.set_series_bars(msft(), monday(), &flat_candles(&[10.0, 10.0, 10.0]));
    assert!(tick(&mut rebuilt, "2026-11-23T15:02:00Z", "15").is_empty());
    assert!(tick(&mut rebuilt, "2026-11-23T15:03:00Z", "10").is_empty());
    assert_eq!(tick(&mut rebuilt, "2026-11-23T15:04:00Z", "14"), [1]);
}

#[test]
fn an_end_of_day_series_changes_only_with_a_new_stored_bar() {
    // OBV starts at the first bar's volume and adds the volume of each up day.
    let bar = |close: f64, volume: f64| Candle {
        volume,
        ..Candle::from_close(close)
    };
    let friday = [bar(10.0, 100.0), bar(9.0, 50.0)]; // OBV 100, then 50
    let mut engine = Engine::new();
    engine.insert(
        1,
        rule(json!({"kind":"crosses_up","series":"obv","value":120,
            "frequency":"every_time","cooldown":"1s"})),
        RuleState::armed(),
    );
    engine.set_series_bars(msft(), monday(), &friday);
    // The live price cannot move it.
    assert!(tick(&mut engine, "2026-11-23T15:00:00Z", "1000").is_empty());
    assert!(tick(&mut engine, "2026-11-23T15:01:00Z", "1").is_empty());
    // Monday's bar (up, volume 80) is stored: OBV 130, and Tuesday's first quote sees the
    // crossing; the next quote does not see it again.
    let tuesday = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let mut bars = friday.to_vec();
    bars.push(bar(11.0, 80.0));
    engine.set_series_bars(msft(), tuesday, &bars);
    assert_eq!(tick(&mut engine, "2026-11-24T15:00:00Z", "5"), [1]);
    assert!(tick(&mut engine, "2026-11-24T15:01:00Z", "5").is_empty());
}

#[test]
fn a_price_only_symbol_reports_no_series_symbols() {
    let mut engine = Engine::new();
    engine.insert(
        1,
        rule(json!({"kind":"above","price":5})),
        RuleState::armed(),
    );
    engine.insert(
        2,
        serde_json::from_value(
            json!({"symbol":"AAPL","kind":"below","series":"rsi:14","value":30}),
        )
        .unwrap(),
        RuleState::armed(),
    );
    let symbols: Vec<String> = engine
        .series_symbols()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(symbols, ["AAPL"]);
}

#[test]
fn a_sentiment_crossing_fires_once_when_the_session_s_news_is_stored_and_not_on_no_news() {
    let mut engine = Engine::new();
    engine.insert(
        1,
        rule(json!({"kind":"crosses_up","series":"sentiment","value":0.3,
            "frequency":"every_time","cooldown":"1s"})),
        RuleState::armed(),
    );
    // Thursday's and Friday's sessions: bearish news, then none.
    let candles = flat_candles(&[10.0, 10.0, 10.0]);
    engine.set_series_bars_with_sentiment(msft(), monday(), &candles, &[None, Some(-0.2), None]);
    // The live price never moves the sentiment, and a session without news has no value.
    assert!(tick(&mut engine, "2026-11-23T15:00:00Z", "1000").is_empty());
    assert!(tick(&mut engine, "2026-11-23T15:01:00Z", "1").is_empty());
    // Monday's session had bullish news (0.6) but Friday's had none: no previous value, no
    // crossing.
    let tuesday = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let mut candles = candles;
    candles.push(Candle::from_close(10.0));
    let mut sentiment = vec![None, Some(-0.2), None, Some(0.6)];
    engine.set_series_bars_with_sentiment(msft(), tuesday, &candles, &sentiment);
    assert!(tick(&mut engine, "2026-11-24T15:00:00Z", "10").is_empty());
    // Tuesday's news is weaker (0.1): Wednesday sees 0.6 → 0.1, no crossing up.
    let wednesday = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    candles.push(Candle::from_close(10.0));
    sentiment.push(Some(0.1));
    engine.set_series_bars_with_sentiment(msft(), wednesday, &candles, &sentiment);
    assert!(tick(&mut engine, "2026-11-25T15:00:00Z", "10").is_empty());
    // Wednesday's is bullish (0.45): Friday's first quote (Thursday is Thanksgiving) fires,
    // once.
    let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    candles.push(Candle::from_close(10.0));
    sentiment.push(Some(0.45));
    engine.set_series_bars_with_sentiment(msft(), friday, &candles, &sentiment);
    assert_eq!(tick(&mut engine, "2026-11-27T15:00:00Z", "10"), [1]);
    assert!(tick(&mut engine, "2026-11-27T15:01:00Z", "10").is_empty());
    assert!(tick(&mut engine, "2026-11-27T17:00:00Z", "10").is_empty());
}

#[test]
fn a_sentiment_backtest_fires_on_the_session_whose_news_crosses_and_skips_sessions_without() {
    let bars = walk(10, 7);
    let day = |i: usize| bars[i].date;
    // No news on bars[3] and bars[6]: bars[7] rises from no value, which is no crossing.
    let sentiment: BTreeMap<NaiveDate, f64> = [
        (day(1), -0.2),
        (day(2), 0.5),
        (day(4), 0.6),
        (day(5), -0.1),
        (day(7), 0.4),
        (day(8), 0.2),
        (day(9), 0.35),
    ]
    .into_iter()
    .collect();
    let rule = rule(json!({"kind":"crosses_up","series":"sentiment","value":0.3,
        "frequency":"every_time","cooldown":"1s"}));
    let fired = |from: Option<NaiveDate>| -> Vec<NaiveDate> {
        backtest_with_sentiment(
            &rule,
            &bars,
            TradingCalendar::NYSE,
            from,
            SignalsConfig::default(),
            &sentiment,
        )
        .unwrap()
        .iter()
        .map(|fire| fire.date)
        .collect()
    };
    assert_eq!(fired(None), [day(2), day(9)]);
    assert_eq!(fired(Some(day(3))), [day(9)]);
    // Without the sessions' news there is nothing to fire on.
    assert!(
        backtest(&rule, &bars, TradingCalendar::NYSE, None)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_signal_backtest_reads_each_session_s_sentiment_as_the_signal_endpoints_do() {
    let bars = walk(120, 11);
    // Strong news on every third session from the 40th on, alternating in sign.
    let sentiment: BTreeMap<NaiveDate, f64> = (40..bars.len())
        .step_by(3)
        .map(|i| (bars[i].date, if i % 2 == 0 { 0.9 } else { -0.9 }))
        .collect();
    let readings: signals::SentimentSeries = sentiment
        .iter()
        .map(|(day, score)| {
            let reading = signals::SentimentReading {
                score: domain::SignalScore::new(*score).unwrap(),
                evidence: domain::Evidence::new(),
            };
            (*day, reading)
        })
        .collect();
    let method = signals::Method::new(SignalsConfig::default()).unwrap();
    let at = chrono::Utc::now();
    let scores = |series: &signals::SentimentSeries| -> Vec<Option<f64>> {
        let by_day: BTreeMap<NaiveDate, f64> = method
            .signals(msft(), &bars, series, None, at)
            .iter()
            .map(|signal| (signal.day, signal.score.get()))
            .collect();
        bars.iter()
            .map(|bar| by_day.get(&bar.date).copied())
            .collect()
    };
    let level = vec![Some(0.1); bars.len()];
    let with_news = crossings(&bars, &scores(&readings), &level, true);
    let without = crossings(&bars, &scores(&Default::default()), &level, true);
    assert_ne!(
        with_news, without,
        "the news must move the signal across 0.1"
    );
    let rule = rule(json!({"kind":"crosses_up","series":"signal","value":0.1,
        "frequency":"every_time","cooldown":"1s"}));
    let fired: Vec<NaiveDate> = backtest_with_sentiment(
        &rule,
        &bars,
        TradingCalendar::NYSE,
        None,
        SignalsConfig::default(),
        &sentiment,
    )
    .unwrap()
    .iter()
    .map(|fire| fire.date)
    .collect();
    assert_eq!(fired, with_news);
    assert_eq!(fire_dates(&rule, &bars, None), without);
}
