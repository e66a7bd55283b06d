//! When ingestion runs, and which trading session a run is for.
//!
//! A cron expression in a time zone (default `30 17 * * 1-5` in `America/New_York`: weekdays,
//! half an hour after the 16:00 close) says when; the exchange calendar says what. A fire on a
//! day the market was closed (a holiday, or a weekend in a custom schedule) is a normal "nothing
//! to do", never an error; a fire before that day's close ingests the previous session.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
// The schedule's own zone is the operator's choice (any IANA name); the sessions it runs for
// are New York's whatever zone it is written in (`domain::new_york`).
use chrono_tz::Tz;
use croner::Cron;
use domain::{Closure, TradingCalendar, new_york};

/// The default schedule: weekdays at 17:30, half an hour after the regular close, when every
/// provider has published the day's bar.
pub const DEFAULT_CRON: &str = "30 17 * * 1-5";
/// The default schedule's time zone.
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";

/// A bad schedule setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error(
        "ingest_schedule '{expression}' is not a cron expression ({reason}); e.g. '30 17 * * 1-5' = weekdays at 17:30"
    )]
    Cron { expression: String, reason: String },
    #[error(
        "ingest_time_zone '{0}' is not an IANA time zone name; e.g. America/New_York, Europe/London, UTC"
    )]
    TimeZone(String),
}

/// What a scheduled run should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Ingest the bars of this trading day.
    Trading(NaiveDate),
    /// The market was closed on this (exchange) date: nothing to ingest.
    Closed { date: NaiveDate, closure: Closure },
}

/// A cron schedule over the NYSE calendar.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    cron: Cron,
    zone: Tz,
    calendar: TradingCalendar,
}

impl Schedule {
    /// Parses `expression` (5 fields, or 6 with seconds first) in the IANA zone `zone`.
    pub fn new(expression: &str, zone: &str) -> Result<Self, ScheduleError> {
        let cron = Cron::from_str(expression.trim()).map_err(|err| ScheduleError::Cron {
            expression: expression.to_owned(),
            reason: err.to_string(),
        })?;
        let zone = Tz::from_str(zone.trim()).map_err(|_| ScheduleError::TimeZone(zone.into()))?;
        Ok(Self {
            expression: expression.trim().to_owned(),
            cron,
            zone,
            calendar: TradingCalendar::NYSE,
        })
    }

    /// The expression as configured.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The schedule's time zone name.
    pub fn zone(&self) -> &'static str {
        self.zone.name()
    }

    /// The first fire strictly after `after`; `None` if the expression never fires again.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&self.zone), false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The latest fire at or before `at`; `None` if the expression never fired before it.
    pub fn latest_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&at.with_timezone(&self.zone), true)
            .ok()
            .map(|fire| fire.with_timezone(&Utc))
    }

    /// Why the exchange is closed on the (New York) date of `at`, if it is: a weekend or a
    /// holiday. News runs that keep to trading days skip such fires.
    pub fn closure_at(&self, at: DateTime<Utc>) -> Option<(NaiveDate, Closure)> {
        let date = new_york::local(at).date();
        self.calendar.closure(date).map(|closure| (date, closure))
    }

    /// The session a run fired at `fire` is for: that day's session when the market traded and
    /// has closed, the previous session when it fires before the close, or "closed".
    pub fn session_for_fire(&self, fire: DateTime<Utc>) -> Session {
        let local = new_york::local(fire);
        let date = local.date();
        match self.calendar.closure(date) {
            Some(closure) => Session::Closed { date, closure },
            None if local.time() >= self.calendar.close_time(date) => Session::Trading(date),
            None => Session::Trading(self.calendar.previous_trading_day(date)),
        }
    }

    /// The newest session that has closed by `now`: what a catch-up run at start ingests.
    pub fn latest_closed_session(&self, now: DateTime<Utc>) -> NaiveDate {
        self.calendar.latest_closed_session(now)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn default_schedule() -> Schedule {
        Schedule::new(DEFAULT_CRON, DEFAULT_TIME_ZONE).unwrap()
    }

    #[test]
    fn the_default_fires_on_weekdays_at_1730_new_york_time_across_dst() {
        let schedule = default_schedule();
        // Friday 2026-11-27, 17:30 EST = 22:30 UTC; the next is Monday.
        let friday = schedule.next_after(utc("2026-11-27T12:00:00Z")).unwrap();
        assert_eq!(friday, utc("2026-11-27T22:30:00Z"));
        assert_eq!(
            schedule.next_after(friday).unwrap(),
            utc("2026-11-30T22:30:00Z")
        );
        // In summer (EDT) the same local time is an hour earlier in UTC.
        assert_eq!(
            schedule.next_after(utc("2026-07-06T00:00:00Z")).unwrap(),
            utc("2026-07-06T21:30:00Z")
        );
    }

    #[test]
    fn a_fire_after_the_close_ingests_that_session() {
        let schedule = default_schedule();
        assert_eq!(
            schedule.session_for_fire(utc("2026-11-24T22:30:00Z")),
            Session::Trading(date("2026-11-24"))
        );
    }

    #[test]
    fn a_fire_on_a_holiday_is_a_closed_day_not_an_error() {
        let schedule = default_schedule();
        // Thanksgiving 2026 is Thursday 26 November.
        assert_eq!(
            schedule.session_for_fire(utc("2026-11-26T22:30:00Z")),
            Session::Closed {
                date: date("2026-11-26"),
                closure: Closure::Holiday("Thanksgiving Day")
            }
        );
        assert!(matches!(
            schedule.session_for_fire(utc("2026-11-28T22:30:00Z")),
            Session::Closed {
                closure: Closure::Weekend,
                ..
            }
        ));
    }

    #[test]
    fn early_closes_count_from_1300_and_earlier_fires_take_the_previous_session() {
        let schedule = default_schedule();
        // Friday after Thanksgiving closes at 13:00 EST = 18:00 UTC.
        assert_eq!(
            schedule.session_for_fire(utc("2026-11-27T18:30:00Z")),
            Session::Trading(date("2026-11-27"))
        );
        // 12:00 New York on that Friday: the session is still open, so Wednesday's is the last.
        assert_eq!(
            schedule.session_for_fire(utc("2026-11-27T17:00:00Z")),
            Session::Trading(date("2026-11-25"))
        );
    }

    #[test]
    fn the_latest_closed_session_skips_weekends_and_holidays() {
        let schedule = default_schedule();
        // Saturday after Thanksgiving → Friday's (early-close) session.
        assert_eq!(
            schedule.latest_closed_session(utc("2026-11-28T15:00:00Z")),
            date("2026-11-27")
        );
        // Thanksgiving evening → Wednesday.
        assert_eq!(
            schedule.latest_closed_session(utc("2026-11-26T23:00:00Z")),
            date("2026-11-25")
        );
        // Monday morning → Friday.
        assert_eq!(
            schedule.latest_closed_session(utc("2026-11-30T14:00:00Z")),
            date("2026-11-27")
        );
    }

    #[test]
    fn bad_settings_say_what_to_write() {
        let err = Schedule::new("every evening", DEFAULT_TIME_ZONE).unwrap_err();
        assert!(err.to_string().contains("30 17 * * 1-5"), "{err}");
        let err = Schedule::new(DEFAULT_CRON, "New York").unwrap_err();
        assert_eq!(err, ScheduleError::TimeZone("New York".into()));
        let utc_schedule = Schedule::new("0 22 * * *", "UTC").unwrap();
        assert_eq!(utc_schedule.zone(), "UTC");
    }
}
