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
    let fires = backtest(&rule, &week(), TradingCalendar::NYSE).unwrap();
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
    let fires = backtest(&rule, &week(), TradingCalendar::NYSE).unwrap();
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    assert_eq!(fires[0].price, price("98"));
}

#[test]
fn a_trailing_stop_over_bars_fires_once_and_stops() {
    let rule = rule(json!({"kind":"trailing_stop","percent":7,"activation_price":105}));
    let fires = backtest(&rule, &week(), TradingCalendar::NYSE).unwrap();
    // Activated at 106 on Tuesday, peak 107 Wednesday; 7 % under 107 is 99.51: the low 98 fires.
    assert_eq!(dates(&fires), ["2026-11-18".parse::<NaiveDate>().unwrap()]);
    assert_eq!(fires[0].price, price("98"));
}
