//! New York time: the one place stockd converts between UTC and the US exchanges' wall clock.
//!
//! US sessions open and close on New York time, a US trading day is a New York date, and US
//! providers stamp daily bars at New York midnight. Every such conversion in stockd (providers'
//! trading days, the NYSE calendar, alert sessions, the ingestion schedule) goes through these
//! functions, over the tz database's `America/New_York` (`chrono-tz`), so daylight-saving rules
//! live in one maintained table rather than in code of our own.
//!
//! Every function is total: at chrono's limits, where New York's wall clock would fall outside
//! what chrono can hold, the UTC reading is used instead of panicking.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::America::New_York;

/// New York's wall-clock reading at `at`.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    let utc = at.naive_utc();
    let offset = New_York.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).unwrap_or(utc)
}

/// The New York date at `at`: the US trading day an instant belongs to (before weekends and
/// holidays are considered).
pub fn date_of(at: DateTime<Utc>) -> NaiveDate {
    local(at).date()
}

/// The New York date at `millis` after the UNIX epoch; `None` if out of chrono's range.
pub fn date_of_millis(millis: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(millis).map(date_of)
}

/// The UTC instant of a New York wall-clock time on `date`: the earlier one in the repeated
/// autumn hour, and an hour later for the times skipped in spring.
pub fn instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    match New_York.from_local_datetime(&local).earliest() {
        Some(at) => at.with_timezone(&Utc),
        // Only 02:00–03:00 on the spring-forward Sunday is skipped; an hour later exists.
        // (At chrono's limits neither may: then the wall-clock time is taken as UTC.)
        None => local
            .checked_add_signed(TimeDelta::hours(1))
            .and_then(|later| New_York.from_local_datetime(&later).earliest())
            .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc)),
    }
}

/// When the New York day `date` begins (its midnight), in UTC.
pub fn midnight(date: NaiveDate) -> DateTime<Utc> {
    instant(date, NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(text: &str) -> NaiveDate {
        date_of(text.parse().unwrap())
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn new_york_midnight_bars_fall_on_their_own_day_in_winter_and_summer() {
        // Polygon's daily bars start at 00:00 New York: 05:00 UTC in winter, 04:00 in summer.
        assert_eq!(at("2024-01-02T05:00:00Z"), day("2024-01-02"));
        assert_eq!(at("2024-07-01T04:00:00Z"), day("2024-07-01"));
        // A fixed UTC−5 would put the summer bar on the previous day.
        assert_eq!(at("2024-07-01T03:59:59Z"), day("2024-06-30"));
    }

    #[test]
    fn the_2007_rules_switch_at_two_in_the_morning_local_time() {
        // 2024: DST from Sunday 10 March 07:00 UTC to Sunday 3 November 06:00 UTC.
        assert_eq!(
            local(utc("2024-03-10T06:59:59Z")).time(),
            "01:59:59".parse().unwrap()
        );
        assert_eq!(
            local(utc("2024-03-10T07:00:00Z")).time(),
            "03:00:00".parse().unwrap()
        );
        assert_eq!(
            local(utc("2024-11-03T05:59:59Z")).time(),
            "01:59:59".parse().unwrap()
        );
        assert_eq!(
            local(utc("2024-11-03T06:00:00Z")).time(),
            "01:00:00".parse().unwrap()
        );
    }

    #[test]
    fn the_pre_2007_rules_use_april_and_the_last_sunday_of_october() {
        // 2006: DST from Sunday 2 April to Sunday 29 October.
        assert_eq!(
            midnight(day("2006-03-20")),
            utc("2006-03-20T05:00:00Z"),
            "EST in late March 2006"
        );
        assert_eq!(midnight(day("2006-04-03")), utc("2006-04-03T04:00:00Z"));
        assert_eq!(midnight(day("2006-10-29")), utc("2006-10-29T04:00:00Z"));
        assert_eq!(midnight(day("2006-10-30")), utc("2006-10-30T05:00:00Z"));
        assert_eq!(at("2006-07-03T04:00:00Z"), day("2006-07-03"));
    }

    #[test]
    fn unix_milliseconds_are_converted() {
        // 2024-01-05 16:00 EST, the close.
        assert_eq!(date_of_millis(1_704_488_400_000), Some(day("2024-01-05")));
        assert_eq!(date_of_millis(1_704_171_600_000), Some(day("2024-01-02")));
        assert_eq!(date_of_millis(i64::MAX), None);
    }

    #[test]
    fn skipped_and_repeated_hours_resolve_without_panicking() {
        // 02:30 on 2024-03-10 does not exist in New York: an hour later (03:30 EDT) is used.
        assert_eq!(
            instant(day("2024-03-10"), "02:30:00".parse().unwrap()),
            utc("2024-03-10T07:30:00Z")
        );
        // 01:30 on 2024-11-03 happens twice: the first (EDT) is used.
        assert_eq!(
            instant(day("2024-11-03"), "01:30:00".parse().unwrap()),
            utc("2024-11-03T05:30:00Z")
        );
    }

    #[test]
    fn chronos_limits_fall_back_to_utc() {
        assert_eq!(date_of(DateTime::<Utc>::MIN_UTC), NaiveDate::MIN);
        let _ = midnight(NaiveDate::MAX);
        let _ = midnight(NaiveDate::MIN);
    }
}
