//! The retry schedule, kept as data: the waits between attempts, nothing else.
//!
//! A list (rather than a formula) so an operator can read and change it (`30s,2m,10m,30m,2h`)
//! and the delivery log can say exactly when the next attempt is due.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::SendError;

/// The longest wait a receiver's `Retry-After` can ask for. The header is the receiver's to
/// write (a user's own webhook), so without a bound it could park a notification for ever, or
/// ask for an instant past what a timestamp can hold.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Waits between delivery attempts: entry `i` is the wait after the `i+1`-th failed attempt.
///
/// With the default `[30s, 2m, 10m, 30m, 2h]` a notification gets 6 attempts over about 2 h 43 m.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(
            [30, 2 * 60, 10 * 60, 30 * 60, 2 * 3600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// The wait before the next attempt after `attempts` attempts have failed; `None` once the
    /// schedule is spent. `next_after(0)` is zero: the first attempt is immediate.
    pub fn next_after(&self, attempts: u32) -> Option<Duration> {
        match attempts {
            0 => Some(Duration::ZERO),
            n => self.0.get(usize::try_from(n - 1).ok()?).copied(),
        }
    }

    /// The most attempts a notification gets: the first plus one per entry.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.0.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// When to try again after `attempts` attempts, the last of which failed with `error`:
    /// `None` for a permanent failure or a spent schedule; otherwise the scheduled wait, or the
    /// receiver's `Retry-After` when that is longer (a receiver asking us to back off knows
    /// better than our table; one asking for less still gets the scheduled wait). The
    /// receiver's wait is capped at [`MAX_RETRY_AFTER`].
    pub fn after_failure(&self, attempts: u32, error: &SendError) -> Option<Duration> {
        if error.permanent {
            return None;
        }
        let scheduled = self.next_after(attempts)?;
        Some(
            error
                .retry_after
                .map_or(scheduled, |asked| asked.min(MAX_RETRY_AFTER).max(scheduled)),
        )
    }
}

/// Error reading a schedule from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("retry schedule: {0:?} is not a duration (write e.g. 30s,2m,10m,30m,2h)")]
pub struct ScheduleParseError(String);

impl FromStr for RetrySchedule {
    type Err = ScheduleParseError;

    /// Comma-separated durations: `30s,2m,10m,30m,2h` (bare numbers are seconds); an empty
    /// string means "never retry".
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<u64>()
                    .map(Duration::from_secs)
                    .or_else(|_| humantime::parse_duration(part))
                    .map_err(|_| ScheduleParseError(part.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, wait) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", humantime::format_duration(*wait))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn default_schedule_walks_the_table_then_stops() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_after(0), Some(Duration::ZERO));
        assert_eq!(schedule.next_after(1), Some(Duration::from_secs(30)));
        assert_eq!(schedule.next_after(2), Some(2 * MIN));
        assert_eq!(schedule.next_after(5), Some(120 * MIN));
        assert_eq!(schedule.next_after(6), None);
        assert_eq!(schedule.max_attempts(), 6);
    }

    #[test]
    fn parses_and_prints_the_operator_form() {
        let schedule: RetrySchedule = "30s, 2m,600,2h".parse().unwrap();
        assert_eq!(
            schedule.0,
            [Duration::from_secs(30), 2 * MIN, 10 * MIN, 120 * MIN]
        );
        assert_eq!(schedule.to_string(), "30s,2m,10m,2h");
        assert_eq!("".parse::<RetrySchedule>().unwrap().max_attempts(), 1);
        assert!("30s,soon".parse::<RetrySchedule>().is_err());
    }

    #[test]
    fn permanent_failures_stop_and_retry_after_can_only_lengthen() {
        let schedule = RetrySchedule::default();
        let gone = SendError::permanent("410 Gone");
        assert_eq!(schedule.after_failure(1, &gone), None);
        let busy = SendError::retryable("429").with_retry_after(Some(5 * MIN));
        assert_eq!(schedule.after_failure(1, &busy), Some(5 * MIN));
        let brief = SendError::retryable("503").with_retry_after(Some(Duration::from_secs(1)));
        assert_eq!(
            schedule.after_failure(1, &brief),
            Some(Duration::from_secs(30))
        );
        assert_eq!(schedule.after_failure(6, &busy), None);
    }

    #[test]
    fn a_receivers_retry_after_is_capped_at_a_day() {
        let schedule = RetrySchedule::default();
        let forever = SendError::retryable("429").with_retry_after(Some(Duration::MAX));
        assert_eq!(schedule.after_failure(1, &forever), Some(MAX_RETRY_AFTER));
        // The operator's own schedule is not capped.
        let slow = RetrySchedule(vec![48 * 60 * MIN]);
        assert_eq!(slow.after_failure(1, &forever), Some(48 * 60 * MIN));
    }
}
