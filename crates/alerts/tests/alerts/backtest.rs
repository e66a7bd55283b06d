//! Backtests over a small handmade series.

use alerts::backtest;
use chrono::NaiveDate;
use domain::{Bar, TradingCalendar};
use serde_json::json;

use crate::{at, price, rule};

fn bar(date: &str, open: &str, high: &str, low: &str, close: &str) -> Bar {
    Bar::new_checked(
        date.parse().unwrap(),
        price(open),
        price(high),
        price(low),
        price(close),
        1_000,
        None,
    )
    .unwrap()
}

/// Monday 2026-11-16 to Friday 2026-11-20.
fn week() -> Vec<Bar> {
    vec![
        bar("2026-11-16", "100", "102", "99", "101"),
        // Up day: open 101 → low 100 → high 106 → close 105.5.
        bar("2026-11-17", "101", "106", "100", "105.5"),
        // Down day: open 105 → high 107 → low 98 → close 99.
        bar("2026-11-18", "105", "107", "98", "99"),
        bar("2026-11-19", "99", "100", "97", "98"),
        bar("2026-11-20", "98", "104", "97.5", "103"),
    ]
}

fn dates(fires: &[alerts::Fire]) -> Vec<NaiveDate> {
    fires.iter().map(|f| f.date).collect()
}

#[test]
fn a_crossing_fires_on_the_bar_and_tick_that_crosses() {
    let fires = backtest(
        &rule(json!({"kind":"crosses_up","price":105})),
        &week(),
        TradingCalendar::NYSE,
        None,
    )
    .unwrap();
    assert_eq!(fires.len(), 1);
    // The high of the up day, at 14:00 New York (19:00 UTC in November).
    assert_eq!(fires[0].date, "2026-11-17".parse::<NaiveDate>().unwrap());
    assert_eq!(fires[0].at, at("2026-11-17T19:00:00Z"));
    assert_eq!(fires[0].price, price("106"));
    assert_eq!(fires[0].message, "MSFT crossed above 105.00 (now 106.00)");
}

#[test]
fn once_per_day_fires_on_each_day_the_bar_reaches_the_level() {
    let rule = rule(json!({"kind":"above","price":103.5,"frequency":"once_per_day"}));
    let fires = backtest(&rule, &week(), TradingCalendar::NYSE, None).unwrap();
    assert_eq!(
        dates(&fires),
        ["2026-11-17", "2026-11-18", "2026-11-20"].map(|d| d.parse::<NaiveDate>().unwrap())
    );
    // Wednesday opens above the level (09:30 New York); Friday, an up day, reaches it only at
    // its high, which an up day's path puts second (14:00 New York).
    assert_eq!(fires[1].at, at("2026-11-18T14:30:00Z"));
    assert_eq!(fires[2].at, at("2026-11-20T19:00:00Z"));
    assert_eq!(fires[2].price, price("104"));
}

#[test]
fn a_move_versus_the_previous_close_uses_only_earlier_sessions() {
    // Wednesday's low 98 is 7.1 % under Tuesday's close 105.5; Thursday's 97 is 2 % under 99.
    let rule = rule(
        json!({"kind":"moves_down_pct","percent":5,"vs_previous_close":true,"frequency":"once_per_day"}),
    );
    let fires = backtest(&rule, &week(), TradingCalendar::NYSE, None).unwrap();
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    assert_eq!(fires[0].price, price("98"));
}

#[test]
fn a_trailing_stop_over_bars_fires_once_and_stops() {
    let rule = rule(json!({"kind":"trailing_stop","percent":7,"activation_price":105}));
    let fires = backtest(&rule, &week(), TradingCalendar::NYSE, None).unwrap();
    // Activated at 106 on Tuesday, peak 107 Wednesday; 7 % under 107 is 99.51: the low 98 fires.
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    assert_eq!(fires[0].price, price("98"));
}

/// A bar that did not move all day: its four ticks are all `close`.
fn flat(date: &str, close: &str) -> Bar {
    bar(date, close, close, close, close)
}

#[test]
fn closes_of_9_10_11_cross_up_10_on_the_bar_that_closes_at_11() {
    let bars = [
        flat("2026-11-16", "9"),
        flat("2026-11-17", "10"),
        flat("2026-11-18", "11"),
    ];
    let up = rule(json!({"kind":"crosses_up","price":10}));
    let fires = backtest(&up, &bars, TradingCalendar::NYSE, None).unwrap();
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    // Down to the level and back up: a crossing up, no crossing down.
    let bounce = [
        flat("2026-11-16", "11"),
        flat("2026-11-17", "10"),
        flat("2026-11-18", "11"),
    ];
    let fires = backtest(&up, &bounce, TradingCalendar::NYSE, None).unwrap();
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    let down = rule(json!({"kind":"crosses_down","price":10}));
    assert_eq!(
        backtest(&down, &bounce, TradingCalendar::NYSE, None).unwrap(),
        []
    );
}

#[test]
fn window_days_counts_stored_bars_even_one_dated_on_a_holiday() {
    // A bar dated on Martin Luther King Jr. Day 2021 (a Monday the NYSE was closed). Two bars
    // before it is 99.5 (Thursday the 14th): 94 is 5.53 % under it, short of 5.8 %. Counting
    // NYSE sessions instead took the Monday bar for Friday's session and compared with 100.
    let bars = [
        flat("2021-01-13", "100"),
        flat("2021-01-14", "99.5"),
        flat("2021-01-15", "99"),
        flat("2021-01-18", "94"),
        flat("2021-01-19", "94.5"),
    ];
    let two_bars = rule(
        json!({"kind":"moves_down_pct","percent":5.8,"window_days":2,"frequency":"once_per_day"}),
    );
    assert_eq!(
        backtest(&two_bars, &bars, TradingCalendar::NYSE, None).unwrap(),
        []
    );
    // 5.5 % is reached: against 99.5 on the 18th, and against 99 (4.5 %) not on the 19th.
    let lower = rule(
        json!({"kind":"moves_down_pct","percent":5.5,"window_days":2,"frequency":"once_per_day"}),
    );
    let fires = backtest(&lower, &bars, TradingCalendar::NYSE, None).unwrap();
    assert_eq!(dates(&fires), ["2021-01-18".parse::<NaiveDate>().unwrap()]);
    assert_eq!(
        fires[0].message,
        "MSFT is down 5.53% versus the close 2 sessions back (99.50) (now 94.00)"
    );
}

#[test]
fn a_backtest_from_a_date_compares_its_first_bar_with_the_bars_before() {
    let bars = [
        flat("2026-11-16", "100"),
        flat("2026-11-17", "101"),
        flat("2026-11-18", "104"),
        bar("2026-11-19", "106", "107", "105", "106.5"),
        flat("2026-11-20", "106"),
    ];
    let from = Some("2026-11-19".parse::<NaiveDate>().unwrap());
    // The 19th opens at 106, above 105, after closing at 104: a crossing at its open.
    let crossing = rule(json!({"kind":"crosses_up","price":105}));
    let fires = backtest(&crossing, &bars, TradingCalendar::NYSE, from).unwrap();
    assert_eq!(dates(&fires), ["2026-11-19".parse::<NaiveDate>().unwrap()]);
    assert_eq!(fires[0].at, at("2026-11-19T14:30:00Z"));
    // Up 5 % over 3 bars: 106 versus the 16th's 100, on the first bar of the backtest.
    let three_bars = rule(json!({"kind":"moves_up_pct","percent":5,"window_days":3}));
    let fires = backtest(&three_bars, &bars, TradingCalendar::NYSE, from).unwrap();
    assert_eq!(dates(&fires), ["2026-11-19".parse::<NaiveDate>().unwrap()]);
    assert_eq!(fires[0].price, price("106"));
}

#[test]
fn nothing_before_from_is_reported_and_the_rule_starts_armed_at_from() {
    let bars = [
        flat("2026-11-16", "110"),
        flat("2026-11-17", "111"),
        flat("2026-11-18", "112"),
    ];
    // `once` would have fired (and been spent) on the 16th; from the 17th it fires then.
    let above = rule(json!({"kind":"above","price":100}));
    let from = Some("2026-11-17".parse::<NaiveDate>().unwrap());
    let fires = backtest(&above, &bars, TradingCalendar::NYSE, from).unwrap();
    assert_eq!(dates(&fires), ["2026-11-17".parse::<NaiveDate>().unwrap()]);
    // A trailing stop's peak is "since armed": the 16th's 120 is not the peak of a rule created
    // on the 17th (from 120, the 17th's 111 would already be 7.5 % down); its peak is 111, and
    // the 18th's 102 is 8.1 % under it.
    let trail = rule(json!({"kind":"trailing_stop","percent":7.5}));
    let fall = [
        flat("2026-11-16", "120"),
        flat("2026-11-17", "111"),
        flat("2026-11-18", "102"),
    ];
    let fires = backtest(&trail, &fall, TradingCalendar::NYSE, from).unwrap();
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    assert!(
        fires[0]
            .message
            .contains("fell 8.11% from its high of 111.00"),
        "{}",
        fires[0].message
    );
}

#[test]
fn an_every_time_rule_fires_once_per_bar_however_short_its_cooldown() {
    // A flat day above the level is four ticks above it, hours apart: still one fire a day.
    let every_second =
        rule(json!({"kind":"above","price":100,"frequency":"every_time","cooldown":"1s"}));
    let bars = [
        flat("2026-11-16", "101"),
        flat("2026-11-17", "102"),
        flat("2026-11-18", "99"),
    ];
    let fires = backtest(&every_second, &bars, TradingCalendar::NYSE, None).unwrap();
    assert_eq!(
        dates(&fires),
        ["2026-11-16", "2026-11-17"].map(|d| d.parse::<NaiveDate>().unwrap())
    );
    // A `crosses` rule over a bar that crosses up and back down reports its first crossing.
    let crosses =
        rule(json!({"kind":"crosses","price":105,"frequency":"every_time","cooldown":"1s"}));
    let fires = backtest(&crosses, &week(), TradingCalendar::NYSE, None).unwrap();
    // Tuesday crosses up at its high (106); Wednesday opens at 105 (a touch), goes to 107, then
    // falls to 98: the crossing down is the only one that leaves the level.
    assert_eq!(
        dates(&fires),
        ["2026-11-17", "2026-11-18"].map(|d| d.parse::<NaiveDate>().unwrap())
    );
}
