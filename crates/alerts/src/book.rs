//! One symbol's book: its rules filed by how a tick reaches them, the candidate query for a
//! tick, and the quiet range in which a tick needs no query at all.
//!
//! The engine owns the rules; a book holds only their slots (`u32`) under their levels or
//! bands, so it can be searched without touching the rules themselves.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included, Unbounded};

use chrono::{DateTime, NaiveDate, Utc};
use domain::Price;

use crate::eval::Window;
use crate::feed::SeriesBook;
use crate::rule::{Condition, Rule, Span};

/// How a tick reaches a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Above(Price),
    Below(Price),
    Cross {
        level: Price,
        up: bool,
        down: bool,
    },
    /// Moves and trailing stops: asked only when a tick leaves their band.
    Banded,
    /// Rules on a series: asked on every tick of the symbol, in its `SeriesBook`.
    Series,
}

impl Place {
    pub(crate) fn of(rule: &Rule) -> Self {
        if rule.series.is_some() {
            return Place::Series;
        }
        match rule.condition {
            Condition::Above { price } => Place::Above(price),
            Condition::Below { price } => Place::Below(price),
            Condition::CrossesUp { price } => Place::Cross {
                level: price,
                up: true,
                down: false,
            },
            Condition::CrossesDown { price } => Place::Cross {
                level: price,
                up: false,
                down: true,
            },
            Condition::Crosses { price } => Place::Cross {
                level: price,
                up: true,
                down: true,
            },
            Condition::MovesUpPct(_) | Condition::MovesDownPct(_) | Condition::TrailingStop(_) => {
                Place::Banded
            }
        }
    }
}

/// One symbol's rules, by how a tick reaches them.
#[derive(Debug, Default)]
pub(crate) struct Book {
    pub(crate) last: Option<(Price, DateTime<Utc>)>,
    /// Prices (inclusive) a next tick can take without any ordered set having a candidate,
    /// given `last`; `None` after any change to the sets. See [`Book::quiet_range`].
    pub(crate) quiet: Option<(Price, Price)>,
    pub(crate) quote_dirty: bool,
    /// Armed-now `above` rules, by level.
    pub(crate) above: BTreeSet<(Price, u32)>,
    /// Armed-now `below` rules, by level.
    pub(crate) below: BTreeSet<(Price, u32)>,
    /// `crosses_up` and `crosses` rules, by level.
    pub(crate) up: BTreeSet<(Price, u32)>,
    /// `crosses_down` and `crosses` rules, by level.
    pub(crate) down: BTreeSet<(Price, u32)>,
    /// Banded rules by their band's low end: a tick at or below it asks them.
    pub(crate) band_lo: BTreeSet<(Price, u32)>,
    /// Banded rules by their band's high end: a tick at or above it asks them.
    pub(crate) band_hi: BTreeSet<(Price, u32)>,
    /// The trading day the bands were computed for; a tick on another day asks every banded
    /// rule (new reference closes, `once_per_day` rules re-armed).
    pub(crate) band_day: Option<NaiveDate>,
    /// The windows of `window` moves, one per (duration, direction), fed every tick.
    pub(crate) windows: Windows,
    pub(crate) closes: Vec<(NaiveDate, Price)>,
    /// The symbol's series rules and the lines they read; `None` while it has none, so a
    /// price-only symbol pays one branch per tick for them.
    pub(crate) series: Option<Box<SeriesBook>>,
}

#[derive(Debug)]
pub(crate) struct SharedWindow {
    pub(crate) span: Span,
    pub(crate) keep_lowest: bool,
    pub(crate) window: Window,
}

/// A symbol's shared windows. The first two (typically the up and the down window of one
/// duration) sit inline in the book, so that feeding them on every tick reads no allocation
/// but their deques; any further ones spill into a vector. Windows are never removed, so an
/// index stays valid.
#[derive(Debug, Default)]
pub(crate) struct Windows {
    inline: [Option<SharedWindow>; 2],
    more: Vec<SharedWindow>,
}

impl Windows {
    pub(crate) fn get(&self, index: usize) -> Option<&SharedWindow> {
        match index {
            0 | 1 => self.inline[index].as_ref(),
            _ => self.more.get(index - 2),
        }
    }

    /// The index of the window of `span` and direction, created (empty) if there is none.
    pub(crate) fn index_of(&mut self, span: Span, keep_lowest: bool) -> usize {
        let fresh = || SharedWindow {
            span,
            keep_lowest,
            window: Window::default(),
        };
        for (index, slot) in self.inline.iter_mut().enumerate() {
            match slot {
                Some(w) if w.span == span && w.keep_lowest == keep_lowest => return index,
                Some(_) => {}
                None => {
                    *slot = Some(fresh());
                    return index;
                }
            }
        }
        let found = self
            .more
            .iter()
            .position(|w| w.span == span && w.keep_lowest == keep_lowest);
        let position = found.unwrap_or_else(|| {
            self.more.push(fresh());
            self.more.len() - 1
        });
        position + 2
    }

    /// Feeds a tick to every window.
    pub(crate) fn observe(&mut self, at: DateTime<Utc>, price: Price) {
        for shared in self.inline.iter_mut().flatten().chain(self.more.iter_mut()) {
            shared
                .window
                .observe(at, price, shared.span, shared.keep_lowest);
        }
    }
}

impl Book {
    pub(crate) fn unplace(&mut self, slot: u32, place: Place, band: (Price, Price)) {
        self.quiet = None;
        match place {
            Place::Above(level) => {
                self.above.remove(&(level, slot));
            }
            Place::Below(level) => {
                self.below.remove(&(level, slot));
            }
            Place::Cross { level, .. } => {
                self.up.remove(&(level, slot));
                self.down.remove(&(level, slot));
            }
            Place::Banded => {
                self.band_lo.remove(&(band.0, slot));
                self.band_hi.remove(&(band.1, slot));
            }
            Place::Series => {
                if let Some(series) = self.series.as_deref_mut() {
                    series.remove(slot);
                }
            }
        }
    }

    /// Puts an armed level rule back into its set.
    pub(crate) fn arm_level(&mut self, slot: u32, place: Place) {
        self.quiet = None;
        match place {
            Place::Above(level) => {
                self.above.insert((level, slot));
            }
            Place::Below(level) => {
                self.below.insert((level, slot));
            }
            Place::Cross { .. } | Place::Banded | Place::Series => {}
        }
    }

    /// The inclusive price range in which a tick following `last` has no candidate in any
    /// ordered set (see [`collect_candidates`]); empty (lo > hi) when there is none.
    ///
    /// For crossings it is bracketed by the nearest levels on each side of `last`: inside the
    /// bracket no level can be crossed between `last` and the tick, and the bracket around the
    /// tick is the same one, so it stays valid across quiet ticks. (A level at `last` itself
    /// closes the bracket on the side it can be left to.)
    pub(crate) fn quiet_range(&self, last: Price) -> (Price, Price) {
        let raw = |entry: Option<&(Price, u32)>| entry.map(|(price, _)| price.raw());
        let mut lo = i64::MIN;
        let mut hi = i64::MAX;
        // Up-levels fire in [last, tick) for a tick above `last`: stay at or below the nearest
        // one at or above `last` (a tick on it has not passed it), and above the nearest one
        // under `last` (from there a tick could start a crossing of it).
        if let Some(next) = raw(self.up.range((last, 0)..).next()) {
            hi = hi.min(next);
        }
        if let Some(floor) = raw(self.up.range(..(last, 0)).next_back()) {
            lo = lo.max(floor.saturating_add(1));
        }
        // Down-levels fire in (tick, last] for a tick below `last`: mirrored.
        if let Some(next) = raw(self.down.range(..=(last, u32::MAX)).next_back()) {
            lo = lo.max(next);
        }
        if let Some(ceiling) = raw(self
            .down
            .range((Excluded((last, u32::MAX)), Unbounded))
            .next())
        {
            hi = hi.min(ceiling.saturating_sub(1));
        }
        // `above L` fires for tick > L; `below L` for tick < L.
        if let Some(level) = raw(self.above.first()) {
            hi = hi.min(level);
        }
        if let Some(level) = raw(self.below.last()) {
            lo = lo.max(level);
        }
        // Bands are left at tick <= lo or tick >= hi.
        if let Some(band_lo) = raw(self.band_lo.last()) {
            lo = lo.max(band_lo.saturating_add(1));
        }
        if let Some(band_hi) = raw(self.band_hi.first()) {
            hi = hi.min(band_hi.saturating_sub(1));
        }
        (Price::from_raw(lo), Price::from_raw(hi))
    }

    pub(crate) fn file_band(&mut self, slot: u32, band: (Price, Price)) {
        self.quiet = None;
        self.band_lo.insert((band.0, slot));
        self.band_hi.insert((band.1, slot));
    }

    pub(crate) fn move_band(&mut self, slot: u32, from: (Price, Price), to: (Price, Price)) {
        if from != to {
            self.band_lo.remove(&(from.0, slot));
            self.band_hi.remove(&(from.1, slot));
            self.file_band(slot, to);
        }
    }
}

/// The slots a tick from `previous` to `price` can fire, by the index rules of the crate docs.
pub(crate) fn collect_candidates(
    book: &Book,
    previous: Option<Price>,
    price: Price,
    all_banded: bool,
    out: &mut Vec<u32>,
) {
    // Levels strictly below the price: (level, slot) < (price, 0) ⇔ level < price.
    out.extend(book.above.range(..(price, 0)).map(|&(_, slot)| slot));
    // Levels strictly above it.
    out.extend(
        book.below
            .range((Excluded((price, u32::MAX)), Unbounded))
            .map(|&(_, slot)| slot),
    );
    match previous {
        // Up-levels in [previous, price): the previous price at or below, this one above.
        Some(from) if price > from => out.extend(
            book.up
                .range((Included((from, 0)), Excluded((price, 0))))
                .map(|&(_, slot)| slot),
        ),
        // Down-levels in (price, previous].
        Some(from) if price < from => out.extend(
            book.down
                .range((Excluded((price, u32::MAX)), Included((from, u32::MAX))))
                .map(|&(_, slot)| slot),
        ),
        _ => {}
    }
    if all_banded {
        out.extend(book.band_lo.iter().map(|&(_, slot)| slot));
    } else {
        // Bands the price left: low ends at or above it, high ends at or below it. A band
        // always has lo < hi, so no rule comes out of both.
        out.extend(book.band_lo.range((price, 0)..).map(|&(_, slot)| slot));
        out.extend(
            book.band_hi
                .range(..=(price, u32::MAX))
                .map(|&(_, slot)| slot),
        );
    }
}
