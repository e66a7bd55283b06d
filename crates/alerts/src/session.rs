//! Exchange time: which NYSE trading day an instant belongs to, and when the next one starts.
//!
//! A tick's trading day is its New York date, moved back to the last trading day on or before
//! it: a Saturday quote is Friday's last price, so a `once_per_day` rule that fired on Friday
//! stays quiet until Monday. The trading day of an instant is cached per New York day, because
//! a time-zone conversion on every tick would cost more than the rest of the evaluation.
//!
//! The conversions themselves are `domain::new_york`'s.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{TradingCalendar, new_york};

/// When the day after `day` begins (New York midnight): the earliest a `once_per_day` rule
/// that fired on `day` may fire again. The tick then decides: a quote on a weekend or holiday
/// still belongs to the session before it (see [`trading_day`]), so the rule waits for the
/// next session; a backtest bar on a date the NYSE calendar does not trade (a foreign listing)
/// is its own session.
pub(crate) fn next_day_start(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt()
        .map_or(DateTime::<Utc>::MAX_UTC, new_york::midnight)
}

/// The NYSE trading day an instant belongs to (see the module docs).
pub fn trading_day(calendar: &TradingCalendar, at: DateTime<Utc>) -> NaiveDate {
    calendar.last_trading_day_on_or_before(new_york::date_of(at))
}

/// Remembers the New York day of the last instant asked about.
#[derive(Debug, Clone)]
pub(crate) struct DayCache {
    calendar: TradingCalendar,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    day: NaiveDate,
}

impl DayCache {
    pub(crate) fn new(calendar: TradingCalendar) -> Self {
        Self {
            calendar,
            from: DateTime::<Utc>::MAX_UTC,
            until: DateTime::<Utc>::MIN_UTC,
            day: NaiveDate::MIN,
        }
    }

    /// The calendar the days are of.
    pub(crate) fn calendar(&self) -> TradingCalendar {
        self.calendar
    }

    /// The trading day `at` belongs to.
    pub(crate) fn trading_day(&mut self, at: DateTime<Utc>) -> NaiveDate {
        if at < self.from || at >= self.until {
            let date = new_york::date_of(at);
            self.from = new_york::midnight(date);
            self.until = next_day_start(date);
            self.day = trading_day(&self.calendar, at);
        }
        self.day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn late_evening_in_new_york_is_still_that_day() {
        let mut cache = DayCache::new(TradingCalendar::NYSE);
        // 2026-11-25 23:30 New York (EST) is 04:30 UTC on the 26th (Thanksgiving).
        let at = "2026-11-26T04:30:00Z".parse().unwrap();
        assert_eq!(cache.trading_day(at), d(2026, 11, 25));
        // Thanksgiving itself belongs to the Wednesday session.
        let at = "2026-11-26T15:00:00Z".parse().unwrap();
        assert_eq!(cache.trading_day(at), d(2026, 11, 25));
        let at = "2026-11-27T15:00:00Z".parse().unwrap();
        assert_eq!(cache.trading_day(at), d(2026, 11, 27));
    }

    #[test]
    fn the_day_after_friday_starts_saturday_midnight_new_york() {
        let start = next_day_start(d(2026, 11, 27));
        assert_eq!(
            start,
            "2026-11-28T05:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
