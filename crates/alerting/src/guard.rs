//! The data-quality guard: bad upstream data never reaches the alert engine.
//!
//! A quote is dropped when its price is zero or negative, or when it jumps more than
//! `max_jump` from the symbol's last good price — a provider glitch (a price in cents, a
//! misplaced decimal, a stale feed) must not fire a `below` alert for every user. A real gap
//! (news, a split) is accepted once `confirmations` consecutive quotes agree with each other
//! within 1 %, so a genuine move is only delayed, never ignored.

use std::collections::HashMap;

use domain::{Price, Symbol};

/// Why a quote was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    NonPositive,
    ImplausibleJump,
}

impl Rejected {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NonPositive => "non_positive",
            Self::ImplausibleJump => "implausible_jump",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Track {
    last_good: Price,
    /// A run of quotes away from `last_good` that agree with each other.
    pending: Option<(Price, u32)>,
}

/// The guard's memory of each symbol's last good price.
#[derive(Debug)]
pub struct QualityGuard {
    max_jump: f64,
    confirmations: u32,
    tracks: HashMap<Symbol, Track>,
}

impl QualityGuard {
    /// Drops moves larger than `max_jump` (0.2 = 20 %) until `confirmations` quotes agree.
    pub fn new(max_jump: f64, confirmations: u32) -> Self {
        Self {
            max_jump,
            confirmations: confirmations.max(1),
            tracks: HashMap::new(),
        }
    }

    /// Accepts or drops one quote, remembering it when accepted.
    pub fn check(&mut self, symbol: Symbol, price: Price) -> Result<(), Rejected> {
        if !price.is_positive() {
            return Err(Rejected::NonPositive);
        }
        let Some(track) = self.tracks.get_mut(&symbol) else {
            self.tracks.insert(
                symbol,
                Track {
                    last_good: price,
                    pending: None,
                },
            );
            return Ok(());
        };
        if relative_move(track.last_good, price) <= self.max_jump {
            track.last_good = price;
            track.pending = None;
            return Ok(());
        }
        let run = match track.pending {
            Some((first, count)) if relative_move(first, price) <= 0.01 => (first, count + 1),
            _ => (price, 1),
        };
        if run.1 >= self.confirmations {
            track.last_good = price;
            track.pending = None;
            return Ok(());
        }
        track.pending = Some(run);
        Err(Rejected::ImplausibleJump)
    }
}

fn relative_move(from: Price, to: Price) -> f64 {
    let from = from.to_f64();
    if from <= 0.0 {
        return f64::INFINITY;
    }
    (to.to_f64() / from - 1.0).abs()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn p(text: &str) -> Price {
        text.parse().unwrap()
    }

    #[test]
    fn zero_and_negative_prices_are_dropped() {
        let mut guard = QualityGuard::new(0.2, 3);
        let msft = Symbol::parse("MSFT").unwrap();
        assert_eq!(guard.check(msft, p("0")), Err(Rejected::NonPositive));
        assert_eq!(guard.check(msft, p("-1")), Err(Rejected::NonPositive));
        assert_eq!(guard.check(msft, p("420")), Ok(()));
    }

    #[test]
    fn a_glitch_is_dropped_and_a_confirmed_gap_accepted() {
        let mut guard = QualityGuard::new(0.2, 3);
        let msft = Symbol::parse("MSFT").unwrap();
        assert_eq!(guard.check(msft, p("420")), Ok(()));
        assert_eq!(guard.check(msft, p("4.20")), Err(Rejected::ImplausibleJump));
        assert_eq!(guard.check(msft, p("421")), Ok(()), "back to normal");
        // A real gap down: three agreeing quotes make it the new normal.
        assert_eq!(guard.check(msft, p("300")), Err(Rejected::ImplausibleJump));
        assert_eq!(guard.check(msft, p("301")), Err(Rejected::ImplausibleJump));
        assert_eq!(guard.check(msft, p("300.5")), Ok(()));
        assert_eq!(guard.check(msft, p("299")), Ok(()));
    }
}
