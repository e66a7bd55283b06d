//! The NYSE calendar against real history: over the bundled 13 years of MSFT, the days with a
//! bar are exactly the calendar's trading days.

use domain::{Symbol, TradingCalendar};
use providers::MarketData;
use providers::sample::Sample;

#[tokio::test]
async fn the_nyse_calendar_matches_thirteen_years_of_real_sessions() {
    let series = Sample::new()
        .daily(Symbol::parse("MSFT").unwrap())
        .await
        .unwrap();
    let bars = series.bars();
    let (first, last) = (bars[0].date, bars[bars.len() - 1].date);
    let traded: Vec<_> = bars.iter().map(|bar| bar.date).collect();
    let calendar: Vec<_> = TradingCalendar::NYSE.trading_days(first, last).collect();
    let missing: Vec<_> = calendar
        .iter()
        .filter(|day| !traded.contains(day))
        .collect();
    let extra: Vec<_> = traded
        .iter()
        .filter(|day| !calendar.contains(day))
        .collect();
    assert!(
        missing.is_empty(),
        "calendar trading days without a bar: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "bars on days the calendar calls closed: {extra:?}"
    );
}
