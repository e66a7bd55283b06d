//! Exchange trading calendars: which days a market trades, and which close early.
//!
//! The NYSE calendar is generated from the exchange's published holiday rules (fixed dates
//! with weekend observance, Monday holidays, Good Friday from the date of Easter) plus an
//! explicit list of one-off closures. What NYSE does not observe matters as much as what it
//! does: a New Year's Day that falls on a Saturday closes nothing (the Friday before is the last
//! session of the year), while a Saturday Independence Day, Juneteenth or Christmas closes the
//! Friday before. Juneteenth is a holiday from 2022; Martin Luther King Jr. Day from 1998.
//! One-off closures are listed by date with the reason.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};

use crate::new_york;

/// Unscheduled full-day NYSE closures (national days of mourning, weather, 9/11).
const NYSE_SPECIAL_CLOSURES: &[(i32, u32, u32, &str)] = &[
    (2001, 9, 11, "September 11 attacks"),
    (2001, 9, 12, "September 11 attacks"),
    (2001, 9, 13, "September 11 attacks"),
    (2001, 9, 14, "September 11 attacks"),
    (2004, 6, 11, "National day of mourning, President Reagan"),
    (2007, 1, 2, "National day of mourning, President Ford"),
    (2012, 10, 29, "Hurricane Sandy"),
    (2012, 10, 30, "Hurricane Sandy"),
    (
        2018,
        12,
        5,
        "National day of mourning, President G. H. W. Bush",
    ),
    (2025, 1, 9, "National day of mourning, President Carter"),
];

/// A trading calendar: weekends, holidays and early closes of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradingCalendar {
    /// ISO 10383 market identifier (`XNYS`).
    pub mic: &'static str,
}

/// Why a date is not a trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closure {
    Weekend,
    Holiday(&'static str),
}

impl TradingCalendar {
    /// The New York Stock Exchange (also right for Nasdaq's full-day closures).
    pub const NYSE: TradingCalendar = TradingCalendar { mic: "XNYS" };

    /// Why the market is closed on `date`, or `None` when it trades.
    pub fn closure(&self, date: NaiveDate) -> Option<Closure> {
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Some(Closure::Weekend);
        }
        nyse_holiday(date).map(Closure::Holiday)
    }

    /// True when the market has a session on `date`.
    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        self.closure(date).is_none()
    }

    /// True when the session on `date` closes early (13:00 New York time).
    pub fn is_early_close(&self, date: NaiveDate) -> bool {
        if !self.is_trading_day(date) {
            return false;
        }
        let (year, month, day) = (date.year(), date.month(), date.day());
        let after_thanksgiving = month == 11
            && Some(date)
                == nth_weekday(year, 11, Weekday::Thu, 4)
                    .and_then(|d| d.checked_add_days(Days::new(1)));
        let christmas_eve = month == 12 && day == 24;
        // July 3 closes early when it is a weekday and July 4 is a holiday on a later weekday.
        let before_independence_day = month == 7 && day == 3 && date.weekday() != Weekday::Fri;
        after_thanksgiving || christmas_eve || before_independence_day
    }

    /// The latest trading day on or before `date` (the session an end-of-day lookup should use
    /// on a weekend or holiday).
    pub fn last_trading_day_on_or_before(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        // At most a handful of steps: the longest closure run (9/11 plus a weekend) is 6 days.
        for _ in 0..14 {
            if self.is_trading_day(day) {
                return day;
            }
            match day.pred_opt() {
                Some(previous) => day = previous,
                None => break,
            }
        }
        day
    }

    /// The trading day before `date`.
    pub fn previous_trading_day(&self, date: NaiveDate) -> NaiveDate {
        date.pred_opt().map_or(date, |previous| {
            self.last_trading_day_on_or_before(previous)
        })
    }

    /// The exchange's own date at `now` (New York's for NYSE): what "today" means for it.
    pub fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        new_york::date_of(now)
    }

    /// When the session on `date` closes, exchange time: 16:00, or 13:00 on an early close.
    pub fn close_time(&self, date: NaiveDate) -> NaiveTime {
        let hour = if self.is_early_close(date) { 13 } else { 16 };
        NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
    }

    /// The newest session that has closed by `now`: today's once its close has passed,
    /// otherwise the one before.
    pub fn latest_closed_session(&self, now: DateTime<Utc>) -> NaiveDate {
        let local = new_york::local(now);
        let date = local.date();
        if self.is_trading_day(date) && local.time() >= self.close_time(date) {
            date
        } else {
            self.previous_trading_day(date)
        }
    }

    /// How many sessions come after `from` up to and including `to` (0 when `to` is not after
    /// `from`): how far a bar of `from` is behind the session `to`.
    pub fn sessions_after(&self, from: NaiveDate, to: NaiveDate) -> usize {
        from.succ_opt()
            .map_or(0, |next| self.trading_days(next, to).count())
    }

    /// Trading days in `from..=to`, oldest first.
    pub fn trading_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = NaiveDate> + '_ {
        from.iter_days()
            .take_while(move |day| *day <= to)
            .filter(|day| self.is_trading_day(*day))
    }
}

/// The holiday name when `date` (a weekday) is an NYSE holiday.
fn nyse_holiday(date: NaiveDate) -> Option<&'static str> {
    let year = date.year();
    let special = NYSE_SPECIAL_CLOSURES
        .iter()
        .find(|(y, m, d, _)| NaiveDate::from_ymd_opt(*y, *m, *d) == Some(date))
        .map(|(_, _, _, why)| *why);
    if special.is_some() {
        return special;
    }
    let is = |holiday: Option<NaiveDate>| holiday == Some(date);
    // New Year's Day: Sunday → Monday; Saturday → not observed.
    if let Some(jan1) = NaiveDate::from_ymd_opt(year, 1, 1) {
        let observed = match jan1.weekday() {
            Weekday::Sun => jan1.checked_add_days(Days::new(1)),
            Weekday::Sat => None,
            _ => Some(jan1),
        };
        if is(observed) {
            return Some("New Year's Day");
        }
    }
    if year >= 1998 && is(nth_weekday(year, 1, Weekday::Mon, 3)) {
        return Some("Martin Luther King Jr. Day");
    }
    if is(nth_weekday(year, 2, Weekday::Mon, 3)) {
        return Some("Washington's Birthday");
    }
    if is(easter_sunday(year).and_then(|easter| easter.checked_sub_days(Days::new(2)))) {
        return Some("Good Friday");
    }
    if is(last_weekday(year, 5, Weekday::Mon)) {
        return Some("Memorial Day");
    }
    if year >= 2022 && is(observed_fixed(year, 6, 19)) {
        return Some("Juneteenth National Independence Day");
    }
    if is(observed_fixed(year, 7, 4)) {
        return Some("Independence Day");
    }
    if is(nth_weekday(year, 9, Weekday::Mon, 1)) {
        return Some("Labor Day");
    }
    if is(nth_weekday(year, 11, Weekday::Thu, 4)) {
        return Some("Thanksgiving Day");
    }
    if is(observed_fixed(year, 12, 25)) {
        return Some("Christmas Day");
    }
    None
}

/// A fixed-date holiday observed on the Friday before when on a Saturday, the Monday after
/// when on a Sunday.
fn observed_fixed(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    match date.weekday() {
        Weekday::Sat => date.pred_opt(),
        Weekday::Sun => date.succ_opt(),
        _ => Some(date),
    }
}

/// The `n`th `weekday` of a month (n from 1).
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

/// The last `weekday` of a month.
fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    nth_weekday(year, month, weekday, 5).or_else(|| nth_weekday(year, month, weekday, 4))
}

/// Easter Sunday (Gregorian), by the anonymous Gregorian computus.
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NYSE: TradingCalendar = TradingCalendar::NYSE;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_saturday_new_years_day_closes_nothing() {
        // 2022-01-01 was a Saturday: Friday 2021-12-31 traded.
        assert!(NYSE.is_trading_day(d("2021-12-31")));
        assert!(NYSE.is_trading_day(d("2022-01-03")));
        // 2023-01-01 was a Sunday: Monday 2023-01-02 was closed.
        assert_eq!(
            NYSE.closure(d("2023-01-02")),
            Some(Closure::Holiday("New Year's Day"))
        );
    }

    #[test]
    fn juneteenth_is_a_holiday_from_2022_only() {
        assert!(NYSE.is_trading_day(d("2021-06-18")));
        // 2022-06-19 was a Sunday: observed Monday 2022-06-20.
        assert!(!NYSE.is_trading_day(d("2022-06-20")));
        assert!(!NYSE.is_trading_day(d("2024-06-19")));
    }

    #[test]
    fn a_saturday_christmas_closes_the_friday_before() {
        assert!(!NYSE.is_trading_day(d("2021-12-24")));
        assert!(NYSE.is_trading_day(d("2021-12-27")));
        assert!(
            !NYSE.is_trading_day(d("2022-12-26")),
            "Sunday Christmas → Monday"
        );
    }

    #[test]
    fn moving_holidays_follow_their_rules() {
        for closed in [
            "2024-01-15",
            "2024-02-19",
            "2024-03-29",
            "2024-05-27",
            "2024-07-04",
            "2024-09-02",
            "2024-11-28",
            "2024-12-25",
            "2025-04-18",
        ] {
            assert!(!NYSE.is_trading_day(d(closed)), "{closed}");
        }
        assert!(NYSE.is_trading_day(d("2024-03-28")));
        assert!(NYSE.is_trading_day(d("2024-04-01")), "Easter Monday trades");
    }

    #[test]
    fn one_off_closures_are_listed() {
        assert_eq!(
            NYSE.closure(d("2025-01-09")),
            Some(Closure::Holiday(
                "National day of mourning, President Carter"
            ))
        );
        assert!(!NYSE.is_trading_day(d("2012-10-30")));
        assert!(!NYSE.is_trading_day(d("2001-09-14")));
    }

    #[test]
    fn early_closes_are_the_day_after_thanksgiving_christmas_eve_and_july_3() {
        assert!(NYSE.is_early_close(d("2024-11-29")));
        assert!(NYSE.is_early_close(d("2024-12-24")));
        assert!(NYSE.is_early_close(d("2024-07-03")));
        assert!(!NYSE.is_early_close(d("2024-11-27")));
        assert!(!NYSE.is_early_close(d("2021-12-24")), "closed, not early");
    }

    #[test]
    fn end_of_day_lookups_fall_back_to_the_last_session() {
        // Sunday after Good Friday 2024 → Thursday 2024-03-28.
        assert_eq!(
            NYSE.last_trading_day_on_or_before(d("2024-03-31")),
            d("2024-03-28")
        );
        assert_eq!(
            NYSE.last_trading_day_on_or_before(d("2024-03-28")),
            d("2024-03-28")
        );
        assert_eq!(NYSE.previous_trading_day(d("2024-04-01")), d("2024-03-28"));
        // 9/11: Monday 2001-09-17 reopened after Monday 9/10.
        assert_eq!(NYSE.previous_trading_day(d("2001-09-17")), d("2001-09-10"));
    }

    #[test]
    fn easter_matches_known_dates() {
        for (year, date) in [
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2038, "2038-04-25"),
        ] {
            assert_eq!(easter_sunday(year), Some(d(date)), "{year}");
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn today_and_the_latest_closed_session_are_new_yorks() {
        let nyse = TradingCalendar::NYSE;
        // 02:00 UTC on Saturday 2013-03-02 is Friday evening in New York (EST).
        assert_eq!(
            nyse.local_date(utc("2013-03-02T02:00:00Z")),
            d("2013-03-01")
        );
        assert_eq!(
            nyse.latest_closed_session(utc("2013-03-02T02:00:00Z")),
            d("2013-03-01")
        );
        // Monday 10:00 EST: Monday's session is still open.
        assert_eq!(
            nyse.latest_closed_session(utc("2013-03-04T15:00:00Z")),
            d("2013-03-01")
        );
        assert_eq!(
            nyse.latest_closed_session(utc("2013-03-04T21:00:00Z")),
            d("2013-03-04")
        );
        // Summer time (EDT): 16:00 New York is 20:00 UTC.
        assert_eq!(
            nyse.latest_closed_session(utc("2024-07-01T19:59:59Z")),
            d("2024-06-28")
        );
        assert_eq!(
            nyse.latest_closed_session(utc("2024-07-01T20:00:00Z")),
            d("2024-07-01")
        );
        // The day after Thanksgiving closes at 13:00.
        assert_eq!(
            nyse.latest_closed_session(utc("2024-11-29T18:30:00Z")),
            d("2024-11-29")
        );
    }

    #[test]
    fn sessions_after_counts_how_far_a_bar_is_behind() {
        let nyse = TradingCalendar::NYSE;
        assert_eq!(nyse.sessions_after(d("2013-03-01"), d("2013-03-01")), 0);
        assert_eq!(nyse.sessions_after(d("2013-03-01"), d("2013-03-03")), 0);
        assert_eq!(nyse.sessions_after(d("2013-03-01"), d("2013-03-04")), 1);
        // Christmas week 2012: the 24th, 26th, 27th, 28th and 31st.
        assert_eq!(nyse.sessions_after(d("2012-12-21"), d("2012-12-31")), 5);
        assert_eq!(nyse.sessions_after(d("2013-03-04"), d("2013-03-01")), 0);
    }

    #[test]
    fn trading_days_of_a_holiday_week() {
        let days: Vec<NaiveDate> = NYSE
            .trading_days(d("2024-12-23"), d("2024-12-29"))
            .collect();
        assert_eq!(
            days,
            [
                d("2024-12-23"),
                d("2024-12-24"),
                d("2024-12-26"),
                d("2024-12-27")
            ]
        );
    }
}
