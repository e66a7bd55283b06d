//! The US Eastern (America/New_York) calendar day of a UTC instant, for US trading days.
//!
//! A small rule-based helper instead of `chrono-tz`: stockd only needs one zone, and the tz
//! database adds a large generated module to every build. US Eastern is UTC−5 (EST), or UTC−4
//! (EDT) between the DST transitions, which happen at 02:00 local time:
//!
//! - since 2007: second Sunday of March to first Sunday of November;
//! - 1987–2006: first Sunday of April to last Sunday of October (also used for earlier years,
//!   which no provider we call sends daily bars for at this precision).
//!
//! Should Congress change the rules again, this is the one place to edit.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

/// The US Eastern calendar date at `instant`.
pub(crate) fn date_of(instant: DateTime<Utc>) -> NaiveDate {
    let offset_hours = if is_daylight_time(instant) { 4 } else { 5 };
    (instant - Duration::hours(offset_hours)).date_naive()
}

/// The US Eastern calendar date at `millis` after the UNIX epoch; `None` if out of range.
pub(crate) fn date_of_millis(millis: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(millis).map(date_of)
}

fn is_daylight_time(instant: DateTime<Utc>) -> bool {
    let year = instant.year();
    let (start, end) = if year >= 2007 {
        (
            NaiveDate::from_weekday_of_month_opt(year, 3, Weekday::Sun, 2),
            NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Sun, 1),
        )
    } else {
        (
            NaiveDate::from_weekday_of_month_opt(year, 4, Weekday::Sun, 1),
            last_sunday_of_october(year),
        )
    };
    let (Some(start), Some(end)) = (start, end) else {
        return false;
    };
    // 02:00 EST is 07:00 UTC (spring forward); 02:00 EDT is 06:00 UTC (fall back).
    let starts = start.and_hms_opt(7, 0, 0).map(|t| t.and_utc());
    let ends = end.and_hms_opt(6, 0, 0).map(|t| t.and_utc());
    matches!((starts, ends), (Some(s), Some(e)) if s <= instant && instant < e)
}

fn last_sunday_of_october(year: i32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, 10, 31)?;
    let back = last.weekday().num_days_from_sunday();
    last.checked_sub_days(chrono::Days::new(u64::from(back)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn at(text: &str) -> NaiveDate {
        date_of(text.parse().unwrap())
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn eastern_midnight_bars_fall_on_their_own_day_in_winter_and_summer() {
        // Polygon's daily bars start at 00:00 New York: 05:00 UTC in winter, 04:00 in summer.
        assert_eq!(at("2024-01-02T05:00:00Z"), day("2024-01-02"));
        assert_eq!(at("2024-07-01T04:00:00Z"), day("2024-07-01"));
        // A fixed UTC−5 would put the summer bar on the previous day.
        assert_eq!(at("2024-07-01T03:59:59Z"), day("2024-06-30"));
    }

    #[test]
    fn the_2007_rules_switch_at_two_in_the_morning_local_time() {
        // 2024: DST from Sunday 10 March 07:00 UTC to Sunday 3 November 06:00 UTC.
        assert!(!is_daylight_time("2024-03-10T06:59:59Z".parse().unwrap()));
        assert!(is_daylight_time("2024-03-10T07:00:00Z".parse().unwrap()));
        assert!(is_daylight_time("2024-11-03T05:59:59Z".parse().unwrap()));
        assert!(!is_daylight_time("2024-11-03T06:00:00Z".parse().unwrap()));
    }

    #[test]
    fn the_pre_2007_rules_use_april_and_the_last_sunday_of_october() {
        // 2006: DST from Sunday 2 April to Sunday 29 October.
        assert!(!is_daylight_time("2006-03-20T12:00:00Z".parse().unwrap()));
        assert!(is_daylight_time("2006-04-02T07:00:00Z".parse().unwrap()));
        assert!(is_daylight_time("2006-10-29T05:59:59Z".parse().unwrap()));
        assert!(!is_daylight_time("2006-10-29T06:00:00Z".parse().unwrap()));
        assert_eq!(at("2006-07-03T04:00:00Z"), day("2006-07-03"));
    }

    #[test]
    fn unix_milliseconds_are_converted() {
        // 2024-01-05 16:00 EST, the close.
        assert_eq!(date_of_millis(1_704_488_400_000), Some(day("2024-01-05")));
        assert_eq!(date_of_millis(1_704_171_600_000), Some(day("2024-01-02")));
        assert_eq!(date_of_millis(i64::MAX), None);
    }
}
