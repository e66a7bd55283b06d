//! The in-memory engine: rules indexed per symbol, ticks in, triggers out.
//!
//! See the crate documentation for the index. Bookkeeping here: rules live in a slab (`slots`)
//! addressed by `u32`, so the per-symbol ordered sets hold `(level, slot)` pairs of 16 bytes;
//! `ids` maps the store's rule id to its slot. Heap events carry the slot's generation, so an
//! event for a rule that was removed or replaced since is ignored when it comes due.
//!
//! A rule that cannot be evaluated leaves the engine alone (see [`crate::aside`]): out of range
//! at insertion, or its evaluation step failed or panicked on a tick.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Price, SignalsConfig, Symbol, TradingCalendar};
use indicators::Candle;
use serde::{Deserialize, Serialize};
use signals::Method;

use crate::aside::{SetAside, SetAsideCause, panic_reason};
use crate::band;
use crate::book::{Book, Place, collect_candidates};
use crate::eval::{self, TickContext};
use crate::feed::SeriesBook;
use crate::message::dedupe_key;
use crate::rule::{Condition, MoveBasis, Rule, RuleId};
use crate::session::{DayCache, trading_day};
use crate::state::RuleState;

/// One quote for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub symbol: Symbol,
    pub price: Price,
    /// The quote's own time (not when it was received): fires and dedupe keys use it.
    pub at: DateTime<Utc>,
    /// Where the quote came from (`finnhub`, `sim`, `backtest`…), carried into triggers.
    pub source: String,
}

/// A rule that fired on a tick: what the caller records (one alert event, deduplicated by
/// `dedupe_key`) and notifies about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    pub rule_id: RuleId,
    pub symbol: Symbol,
    pub price: Price,
    pub at: DateTime<Utc>,
    pub source: String,
    /// `r<rule id>:<quote time>`, e.g. `r42:2026-11-27T15:30:00Z`: the same quote replayed
    /// gives the same key.
    pub dedupe_key: String,
    /// Human text, e.g. `MSFT crossed above 420.00 (now 421.30)`.
    pub message: String,
    /// The rule's state after this fire (persist it in the same transaction as the event).
    pub state: RuleState,
}

/// A symbol's last accepted price: the "previous price" of its next crossing check, so the
/// caller persists it along with rule states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastQuote {
    pub symbol: Symbol,
    pub price: Price,
    pub at: DateTime<Utc>,
}

#[derive(Debug)]
struct Entry {
    id: RuleId,
    rule: Rule,
    state: RuleState,
    /// Index of its shared window in the book, for `window` moves.
    window: Option<usize>,
    place: Place,
    /// The band it is filed under, for `Place::Banded`.
    band: (Price, Price),
    generation: u64,
    dirty: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EventKind {
    Rearm,
    Expire,
}

type Event = Reverse<(DateTime<Utc>, u32, u64, EventKind)>;

/// The alert engine: rules by symbol, evaluated tick by tick.
#[derive(Debug)]
pub struct Engine {
    days: DayCache,
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    ids: HashMap<RuleId, u32>,
    books: HashMap<Symbol, Book>,
    events: BinaryHeap<Event>,
    next_generation: u64,
    dirty: Vec<u32>,
    dirty_quotes: Vec<Symbol>,
    scratch: Vec<u32>,
    set_aside: Vec<SetAside>,
    /// The composite signal's method, for `"series": "signal"` rules.
    signals: Option<Arc<Method>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An empty engine on the NYSE calendar.
    pub fn new() -> Self {
        Self::with_calendar(TradingCalendar::NYSE)
    }

    /// An empty engine on `calendar` (which decides `once_per_day` and `window_days`).
    pub fn with_calendar(calendar: TradingCalendar) -> Self {
        Self {
            days: DayCache::new(calendar),
            slots: Vec::new(),
            free: Vec::new(),
            ids: HashMap::new(),
            books: HashMap::new(),
            events: BinaryHeap::new(),
            next_generation: 0,
            dirty: Vec::new(),
            dirty_quotes: Vec::new(),
            scratch: Vec::new(),
            set_aside: Vec::new(),
            signals: Method::new(SignalsConfig::default()).ok().map(Arc::new),
        }
    }

    /// Computes `"series": "signal"` with `config`'s weights and thresholds (the defaults
    /// until set), as the signal endpoints do under the same configuration. Call it before
    /// inserting rules: lines already computed keep the method they were built with.
    pub fn set_signals_config(&mut self, config: SignalsConfig) {
        self.signals = Method::new(config).ok().map(Arc::new);
    }

    /// How many rules the engine holds (armed or not).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the engine holds no rule.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds a rule with its state (a fresh [`RuleState::armed`] or the persisted one),
    /// replacing any rule with the same id. A rule whose values are out of range
    /// ([`Rule::validate`]; one stored before those bounds existed) is set aside instead of
    /// being evaluated: see [`Engine::take_set_aside`].
    pub fn insert(&mut self, rule_id: RuleId, rule: Rule, state: RuleState) {
        self.remove(rule_id);
        if let Err(errors) = rule.validate() {
            let reason = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            self.set_aside.push(SetAside {
                rule_id,
                cause: SetAsideCause::OutOfRange,
                reason,
            });
            return;
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let entry = Entry {
            id: rule_id,
            place: Place::of(&rule),
            rule,
            state,
            window: None,
            band: band::ALWAYS,
            generation,
            dirty: false,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.slots.push(Some(entry));
                // More than 4 billion live rules would need a wider slot; far beyond one process.
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.ids.insert(rule_id, slot);
        self.place(slot);
    }

    /// Replaces a rule's definition. Its state is kept when only the delivery settings changed
    /// (channels, frequency, cooldown, expiry) and starts afresh when the symbol or the
    /// condition changed, because a trailing peak or a fired day of the old condition means
    /// nothing for the new one. Returns false for an unknown id.
    pub fn update(&mut self, rule_id: RuleId, rule: Rule) -> bool {
        let Some(old) = self.ids.get(&rule_id).and_then(|slot| self.entry(*slot)) else {
            return false;
        };
        let state = if old.rule.same_watch(&rule) {
            old.state
        } else {
            RuleState::armed()
        };
        self.insert(rule_id, rule, state);
        true
    }

    /// Removes a rule (deleted or paused); returns it with its last state.
    pub fn remove(&mut self, rule_id: RuleId) -> Option<(Rule, RuleState)> {
        let slot = self.ids.remove(&rule_id)?;
        let entry = self.slots.get_mut(slot as usize)?.take()?;
        if let Some(book) = self.books.get_mut(&entry.rule.symbol) {
            book.unplace(slot, entry.place, entry.band);
        }
        self.free.push(slot);
        Some((entry.rule, entry.state))
    }

    /// The rule with this id.
    pub fn rule(&self, rule_id: RuleId) -> Option<&Rule> {
        self.lookup(rule_id).map(|entry| &entry.rule)
    }

    /// The current state of a rule.
    pub fn state(&self, rule_id: RuleId) -> Option<&RuleState> {
        self.lookup(rule_id).map(|entry| &entry.state)
    }

    /// A trailing stop's current trigger level (see [`RuleState::trigger_level`]).
    pub fn trigger_level(&self, rule_id: RuleId) -> Option<Price> {
        self.lookup(rule_id)
            .and_then(|entry| entry.state.trigger_level(&entry.rule))
    }

    /// Sets a symbol's daily closes (any order; one per date), the basis of `window_days` and
    /// `vs_previous_close` moves: `window_days: n` is the `n`th close dated before the tick's
    /// session, counting these closes (the stored bars), not calendar sessions.
    pub fn set_reference_closes(&mut self, symbol: Symbol, closes: &[(NaiveDate, Price)]) {
        let book = self.books.entry(symbol).or_default();
        book.closes = closes.to_vec();
        book.closes.sort_by_key(|(date, _)| *date);
        book.closes.dedup_by_key(|(date, _)| *date);
        book.band_day = None;
    }

    /// The symbols whose rules compare with stored daily closes (`window_days`,
    /// `vs_previous_close`), each with the most bars back one of them reads: what a caller
    /// loads into [`Engine::set_reference_closes`]. Symbol order.
    pub fn reference_depths(&self) -> Vec<(Symbol, u32)> {
        let mut depths: Vec<(Symbol, u32)> = Vec::new();
        for entry in self.slots.iter().flatten() {
            let (Condition::MovesUpPct(change) | Condition::MovesDownPct(change)) =
                &entry.rule.condition
            else {
                continue;
            };
            if let Some(MoveBasis::Sessions(n)) = change.basis() {
                depths.push((entry.rule.symbol, n));
            }
        }
        depths.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        depths.dedup_by_key(|(symbol, _)| *symbol);
        depths
    }

    /// The symbols with series rules (see [`crate::SeriesSpec`]), in symbol order: what a
    /// caller loads stored bars for ([`Engine::set_series_bars`]).
    pub fn series_symbols(&self) -> Vec<Symbol> {
        let mut symbols: Vec<Symbol> = self
            .books
            .iter()
            .filter(|(_, book)| {
                book.series
                    .as_ref()
                    .is_some_and(|series| !series.watchers.is_empty())
            })
            .map(|(symbol, _)| *symbol)
            .collect();
        symbols.sort_unstable();
        symbols
    }

    /// Sets a symbol's stored daily bars before `session`, oldest first, as indicators read
    /// them ([`Candle::from_bar`]), for its series rules. Until bars for the session of a tick
    /// are given, the symbol's series rules are not evaluated on it. Ignored for a symbol
    /// without series rules.
    pub fn set_series_bars(&mut self, symbol: Symbol, session: NaiveDate, candles: &[Candle]) {
        self.set_series_bars_with_sentiment(symbol, session, candles, &[]);
    }

    /// [`Engine::set_series_bars`] with each bar's session news sentiment in [-1, 1]
    /// (`sentiment[i]` for `candles[i]`; `None` or a missing entry: no scored news), for
    /// `"series": "sentiment"` rules and the sentiment component of `"series": "signal"`.
    pub fn set_series_bars_with_sentiment(
        &mut self,
        symbol: Symbol,
        session: NaiveDate,
        candles: &[Candle],
        sentiment: &[Option<f64>],
    ) {
        if let Some(series) = self
            .books
            .get_mut(&symbol)
            .and_then(|book| book.series.as_deref_mut())
        {
            series.set_bars(session, candles, sentiment);
        }
    }

    /// A backtest's bar (and its session's news sentiment) for series rules, after it was
    /// evaluated (or before `from`).
    pub(crate) fn push_series_bar(
        &mut self,
        symbol: Symbol,
        candle: Candle,
        sentiment: Option<f64>,
    ) {
        if let Some(series) = self
            .books
            .get_mut(&symbol)
            .and_then(|book| book.series.as_deref_mut())
        {
            series.push_bar(candle, sentiment);
        }
    }

    /// Evaluates the series rules of `tick.symbol` on a whole bar (`candle`, the backtest's
    /// evaluation once per bar at its close, with the session's news sentiment), then appends
    /// the bar to their lines.
    pub(crate) fn on_series_close(
        &mut self,
        tick: &Tick,
        day: NaiveDate,
        candle: Candle,
        sentiment: Option<f64>,
    ) -> Vec<Trigger> {
        self.run_due(tick.at);
        let book = self.books.entry(tick.symbol).or_default();
        let last = book.last.replace((tick.price, tick.at));
        if let Some(series) = book.series.as_deref_mut() {
            series.observe_close(&candle, sentiment);
        }
        let triggers = self.evaluate_series_rules(tick, day, last);
        self.push_series_bar(tick.symbol, candle, sentiment);
        triggers
    }

    /// Evaluates the series rules of `tick.symbol` on the values its lines observed for the
    /// tick; `last` is the symbol's previous tick. Rules that end disarmed leave the book;
    /// rules whose step fails or panics are set aside.
    fn evaluate_series_rules(
        &mut self,
        tick: &Tick,
        day: NaiveDate,
        last: Option<(Price, DateTime<Utc>)>,
    ) -> Vec<Trigger> {
        let mut triggers = Vec::new();
        let Some(series) = self
            .books
            .get_mut(&tick.symbol)
            .and_then(|book| book.series.as_deref_mut())
        else {
            return triggers;
        };
        let ctx = TickContext {
            symbol: tick.symbol,
            previous: last.map(|(price, _)| price),
            previous_at: last.map(|(_, at)| at),
            price: tick.price,
            at: tick.at,
            day,
            closes: &[],
        };
        let mut done = Vec::new();
        for watcher in &series.watchers {
            let slot = watcher.slot;
            let Some(Some(entry)) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            let reading = series.reading(watcher);
            let step = catch_unwind(AssertUnwindSafe(|| {
                #[cfg(test)]
                tests::fail_point(entry.id);
                eval::evaluate_series(&entry.rule, &mut entry.state, &ctx, &reading)
            }));
            let outcome = match step {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(err)) => {
                    done.push((slot, Some((SetAsideCause::Evaluation, err.to_string()))));
                    continue;
                }
                Err(payload) => {
                    let reason = panic_reason(payload.as_ref());
                    done.push((slot, Some((SetAsideCause::Panic, reason))));
                    continue;
                }
            };
            if outcome.changed && !entry.dirty {
                entry.dirty = true;
                self.dirty.push(slot);
            }
            if let Some(message) = outcome.fired {
                triggers.push(Trigger {
                    rule_id: entry.id,
                    symbol: tick.symbol,
                    price: tick.price,
                    at: tick.at,
                    source: tick.source.clone(),
                    dedupe_key: dedupe_key(entry.id, tick.at),
                    message,
                    state: entry.state,
                });
            }
            if !entry.state.armed {
                done.push((slot, None));
            }
        }
        for (slot, aside) in done {
            series.remove(slot);
            let Some((cause, reason)) = aside else {
                continue;
            };
            if let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::take) {
                self.ids.remove(&entry.id);
                self.free.push(slot);
                self.set_aside.push(SetAside {
                    rule_id: entry.id,
                    cause,
                    reason,
                });
            }
        }
        triggers.sort_by_key(|trigger| trigger.rule_id);
        triggers
    }

    /// Restores a symbol's last price after a restart (ignored if the engine has a newer one).
    pub fn restore_quote(&mut self, quote: LastQuote) {
        let book = self.books.entry(quote.symbol).or_default();
        if book.last.is_none_or(|(_, at)| at < quote.at) {
            book.last = Some((quote.price, quote.at));
        }
    }

    /// A symbol's last accepted price.
    pub fn last_quote(&self, symbol: Symbol) -> Option<LastQuote> {
        let (price, at) = self.books.get(&symbol)?.last?;
        Some(LastQuote { symbol, price, at })
    }

    /// The rules set aside since the last call (out of range when inserted, or their evaluation
    /// failed on a tick), in the order it happened. They are no longer in the engine; every
    /// other rule goes on being evaluated. The caller persists them and tells their owners.
    pub fn take_set_aside(&mut self) -> Vec<SetAside> {
        std::mem::take(&mut self.set_aside)
    }

    /// The states changed since the last call, by rule id: what a checkpoint must write.
    pub fn changed_states(&mut self) -> Vec<(RuleId, RuleState)> {
        let mut changed = Vec::with_capacity(self.dirty.len());
        for slot in self.dirty.drain(..) {
            if let Some(Some(entry)) = self.slots.get_mut(slot as usize)
                && entry.dirty
            {
                entry.dirty = false;
                changed.push((entry.id, entry.state));
            }
        }
        changed.sort_by_key(|(id, _)| *id);
        changed
    }

    /// The symbols whose last price changed since the last call, with that price.
    pub fn changed_quotes(&mut self) -> Vec<LastQuote> {
        let mut quotes = Vec::with_capacity(self.dirty_quotes.len());
        for symbol in self.dirty_quotes.drain(..) {
            if let Some(book) = self.books.get_mut(&symbol) {
                book.quote_dirty = false;
                if let Some((price, at)) = book.last {
                    quotes.push(LastQuote { symbol, price, at });
                }
            }
        }
        quotes
    }

    /// Evaluates one tick: the triggers it fires, ordered by rule id.
    ///
    /// Ticks older than the symbol's last accepted one and non-positive prices are ignored
    /// (the caller's data-quality guard should have dropped them already). Re-arms and expiries
    /// are applied up to the latest tick time seen across all symbols, so one engine should be
    /// fed in (roughly) time order; a tick much older than another symbol's may miss a rule
    /// that expired in between.
    pub fn on_tick(&mut self, tick: &Tick) -> Vec<Trigger> {
        let day = self.days.trading_day(tick.at);
        self.on_tick_in_session(tick, day)
    }

    /// [`Engine::on_tick`] for a tick known to belong to the session (daily bar) `day`: a
    /// backtest replays each bar's ticks on the bar's own date, whatever the calendar says
    /// about that date, so `window_days` counts the bars before it.
    #[inline]
    pub(crate) fn on_tick_in_session(&mut self, tick: &Tick, day: NaiveDate) -> Vec<Trigger> {
        let mut series_last = None;
        let mut triggers = self.on_price_tick(tick, day, &mut series_last);
        if let Some(last) = series_last {
            self.on_series_tick(tick, day, last, &mut triggers);
        }
        triggers
    }

    /// Evaluates the series rules of a symbol that has some, on a tick accepted by
    /// [`Engine::on_price_tick`] (`last` is the symbol's tick before it), adding their
    /// triggers to the price rules' ones, ordered by rule id. Out of line: price-only symbols
    /// never come here.
    #[inline(never)]
    fn on_series_tick(
        &mut self,
        tick: &Tick,
        day: NaiveDate,
        last: Option<(Price, DateTime<Utc>)>,
        triggers: &mut Vec<Trigger>,
    ) {
        let calendar = self.days.calendar();
        let Some(series) = self
            .books
            .get_mut(&tick.symbol)
            .and_then(|book| book.series.as_deref_mut())
        else {
            return;
        };
        if !series.observe_live(tick.at, day, tick.price, last, |at| {
            trading_day(&calendar, at)
        }) {
            return;
        }
        let fired = self.evaluate_series_rules(tick, day, last);
        if !fired.is_empty() {
            triggers.extend(fired);
            triggers.sort_by_key(|trigger| trigger.rule_id);
        }
    }

    /// The price rules' part of [`Engine::on_tick_in_session`]; sets `series_last` to the
    /// symbol's previous tick when the tick was accepted and the symbol has series rules.
    #[inline]
    fn on_price_tick(
        &mut self,
        tick: &Tick,
        day: NaiveDate,
        series_last: &mut Option<Option<(Price, DateTime<Utc>)>>,
    ) -> Vec<Trigger> {
        let mut triggers = Vec::new();
        if !tick.price.is_positive() {
            return triggers;
        }
        self.run_due(tick.at);
        let book = self.books.entry(tick.symbol).or_default();
        if book.last.is_some_and(|(_, at)| tick.at < at) {
            return triggers;
        }
        let previous = book.last.map(|(price, _)| price);
        let previous_at = book.last.map(|(_, at)| at);
        book.last = Some((tick.price, tick.at));
        if !book.quote_dirty {
            book.quote_dirty = true;
            self.dirty_quotes.push(tick.symbol);
        }
        // A symbol with series rules has them asked after the price rules.
        if book.series.is_some() {
            *series_last = Some(previous.zip(previous_at));
        }

        let mut candidates = std::mem::take(&mut self.scratch);
        candidates.clear();
        let all_banded = book.band_day != Some(day);
        book.band_day = Some(day);
        book.windows.observe(tick.at, tick.price);
        // Most ticks move inside the gap between the nearest levels and band ends: then no
        // ordered set can hold a candidate and none is searched.
        let quiet = !all_banded
            && book
                .quiet
                .is_some_and(|(lo, hi)| lo <= tick.price && tick.price <= hi);
        if !quiet {
            collect_candidates(book, previous, tick.price, all_banded, &mut candidates);
        }
        if candidates.is_empty() {
            if !quiet {
                book.quiet = Some(book.quiet_range(tick.price));
            }
            self.scratch = candidates;
            return triggers;
        }

        let ctx = TickContext {
            symbol: tick.symbol,
            previous,
            previous_at,
            price: tick.price,
            at: tick.at,
            day,
            closes: &book.closes,
        };
        let mut unplace = Vec::new();
        let mut reband = Vec::new();
        let mut aside = Vec::new();
        // One unwind guard around the whole loop (one per rule costs throughput): a panic in a
        // rule's step sets aside the rule being asked, and the loop resumes after it.
        let mut next = 0;
        while next < candidates.len() {
            let asked = catch_unwind(AssertUnwindSafe(|| {
                while let Some(&slot) = candidates.get(next) {
                    next += 1;
                    let Some(Some(entry)) = self.slots.get_mut(slot as usize) else {
                        continue;
                    };
                    #[cfg(test)]
                    tests::fail_point(entry.id);
                    let window = entry
                        .window
                        .and_then(|index| book.windows.get(index))
                        .map(|shared| &shared.window);
                    // The rule's step: evaluate; when a fired rule may fire again; the new
                    // band of a banded rule that is not resting. An error sets it aside.
                    let step = eval::evaluate(&entry.rule, &mut entry.state, window, &ctx).map(
                        |outcome| {
                            let rearm = outcome
                                .fired
                                .is_some()
                                .then(|| eval::rearm_at(&entry.rule, &entry.state))
                                .flatten();
                            let banded = entry.place == Place::Banded;
                            let band =
                                (banded && entry.state.armed && rearm.is_none()).then(|| {
                                    band::band(
                                        &entry.rule,
                                        &entry.state,
                                        day,
                                        ctx.closes,
                                        window,
                                        tick.price,
                                    )
                                });
                            (outcome, rearm, band)
                        },
                    );
                    let (outcome, rearm, new_band) = match step {
                        Ok(step) => step,
                        Err(err) => {
                            aside.push((slot, SetAsideCause::Evaluation, err.to_string()));
                            continue;
                        }
                    };
                    if outcome.changed && !entry.dirty {
                        entry.dirty = true;
                        self.dirty.push(slot);
                    }
                    if let Some(message) = outcome.fired {
                        triggers.push(Trigger {
                            rule_id: entry.id,
                            symbol: tick.symbol,
                            price: tick.price,
                            at: tick.at,
                            source: tick.source.clone(),
                            dedupe_key: dedupe_key(entry.id, tick.at),
                            message,
                            state: entry.state,
                        });
                    }
                    if !entry.state.armed {
                        unplace.push((slot, entry.place, entry.band));
                    } else if matches!(entry.place, Place::Above(_) | Place::Below(_)) {
                        // A level rule that fired rests outside the armed set until it may
                        // fire again; without a re-arm time (no cooldown) it stays in and
                        // fires on the next tick.
                        if let Some(at) = rearm {
                            unplace.push((slot, entry.place, entry.band));
                            self.events.push(Reverse((
                                at,
                                slot,
                                entry.generation,
                                EventKind::Rearm,
                            )));
                        }
                    } else if entry.place == Place::Banded {
                        // A banded rule that fired sleeps until it re-arms; otherwise it waits
                        // for the price to leave its new band.
                        let band = match rearm {
                            Some(at) => {
                                self.events.push(Reverse((
                                    at,
                                    slot,
                                    entry.generation,
                                    EventKind::Rearm,
                                )));
                                band::NEVER
                            }
                            None => new_band.unwrap_or(band::ALWAYS),
                        };
                        if band != entry.band {
                            reband.push((slot, entry.band, band));
                            entry.band = band;
                        }
                    }
                }
            }));
            // The step of `candidates[next - 1]` panicked before any of its effects were
            // recorded (they all follow it): that rule alone is set aside.
            if let Err(payload) = asked
                && let Some(&slot) = next.checked_sub(1).and_then(|i| candidates.get(i))
            {
                aside.push((slot, SetAsideCause::Panic, panic_reason(payload.as_ref())));
            }
        }
        for (slot, place, band) in unplace {
            book.unplace(slot, place, band);
        }
        for (slot, from, to) in reband {
            book.move_band(slot, from, to);
        }
        for (slot, cause, reason) in aside {
            if let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::take) {
                book.unplace(slot, entry.place, entry.band);
                self.ids.remove(&entry.id);
                self.free.push(slot);
                self.set_aside.push(SetAside {
                    rule_id: entry.id,
                    cause,
                    reason,
                });
            }
        }
        if !quiet || book.quiet.is_none() {
            book.quiet = Some(book.quiet_range(tick.price));
        }
        self.scratch = candidates;
        triggers.sort_by_key(|trigger| trigger.rule_id);
        triggers
    }

    fn lookup(&self, rule_id: RuleId) -> Option<&Entry> {
        self.ids.get(&rule_id).and_then(|slot| self.entry(*slot))
    }

    fn entry(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// Puts a freshly inserted rule where ticks will find it, and schedules its events.
    fn place(&mut self, slot: u32) {
        let Some(Some(entry)) = self.slots.get_mut(slot as usize) else {
            return;
        };
        if !entry.state.armed {
            return;
        }
        if let Some(expiry) = entry.rule.expires_at {
            self.events
                .push(Reverse((expiry, slot, entry.generation, EventKind::Expire)));
        }
        let book = self.books.entry(entry.rule.symbol).or_default();
        match entry.place {
            Place::Above(_) | Place::Below(_) => {
                // A rule that fired before rests until its re-arm time (which may be past:
                // then the next tick's due events arm it before evaluating).
                match eval::rearm_at(&entry.rule, &entry.state) {
                    Some(at) => {
                        self.events
                            .push(Reverse((at, slot, entry.generation, EventKind::Rearm)))
                    }
                    None => book.arm_level(slot, entry.place),
                }
            }
            Place::Cross { level, up, down } => {
                book.quiet = None;
                if up {
                    book.up.insert((level, slot));
                }
                if down {
                    book.down.insert((level, slot));
                }
            }
            Place::Series => {
                let signals = &self.signals;
                book.series
                    .get_or_insert_with(|| Box::new(SeriesBook::new(signals.clone())))
                    .add(slot, &entry.rule);
            }
            Place::Banded => {
                if let Some((span, keep_lowest)) = eval::window_of(&entry.rule) {
                    let index = book.windows.index_of(span, keep_lowest);
                    entry.window = Some(index);
                }
                book.file_band(slot, entry.band);
            }
        }
    }

    /// Applies the re-arms and expiries due at or before `at`.
    fn run_due(&mut self, at: DateTime<Utc>) {
        while let Some(Reverse((when, slot, generation, kind))) = self.events.peek().copied() {
            if when > at {
                break;
            }
            self.events.pop();
            let Some(Some(entry)) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            if entry.generation != generation || !entry.state.armed {
                continue;
            }
            let Some(book) = self.books.get_mut(&entry.rule.symbol) else {
                continue;
            };
            match kind {
                EventKind::Rearm if entry.place == Place::Banded => {
                    book.move_band(slot, entry.band, band::ALWAYS);
                    entry.band = band::ALWAYS;
                }
                EventKind::Rearm => book.arm_level(slot, entry.place),
                EventKind::Expire => {
                    entry.state.armed = false;
                    entry.state.expired = true;
                    if !entry.dirty {
                        entry.dirty = true;
                        self.dirty.push(slot);
                    }
                    book.unplace(slot, entry.place, entry.band);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// The rule whose evaluation panics, to test that a panic costs only that rule.
        static PANICS: Cell<Option<RuleId>> = const { Cell::new(None) };
    }

    pub(super) fn fail_point(rule_id: RuleId) {
        if PANICS.get() == Some(rule_id) {
            panic!("injected panic for rule {rule_id}");
        }
    }

    fn above_every_minute() -> Rule {
        serde_json::from_value(serde_json::json!({"symbol": "MSFT", "kind": "above",
            "price": 5, "frequency": "every_time", "cooldown": "1m"}))
        .unwrap_or_else(|err| panic!("{err}"))
    }

    fn tick(engine: &mut Engine, at: &str) -> Vec<RuleId> {
        let tick = Tick {
            symbol: Symbol::parse("MSFT").unwrap_or_else(|err| panic!("{err}")),
            price: Price::from_units(6),
            at: at.parse().unwrap_or_else(|err| panic!("{err}")),
            source: "test".to_owned(),
        };
        engine.on_tick(&tick).iter().map(|t| t.rule_id).collect()
    }

    #[test]
    fn a_rule_whose_evaluation_panics_is_set_aside_and_the_others_still_fire() {
        let mut engine = Engine::new();
        for id in 1..=4 {
            engine.insert(id, above_every_minute(), RuleState::armed());
        }
        PANICS.set(Some(2));
        assert_eq!(tick(&mut engine, "2026-11-23T15:00:00Z"), [1, 3, 4]);
        PANICS.set(None);
        let aside = engine.take_set_aside();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            (aside[0].rule_id, aside[0].cause),
            (2, SetAsideCause::Panic)
        );
        assert!(
            aside[0].reason.contains("injected panic"),
            "{}",
            aside[0].reason
        );
        assert_eq!(engine.state(2), None);
        assert_eq!(engine.len(), 3);
        // The engine goes on as before for the others (their cooldowns respected).
        assert!(tick(&mut engine, "2026-11-23T15:00:30Z").is_empty());
        assert_eq!(tick(&mut engine, "2026-11-23T15:01:00Z"), [1, 3, 4]);
    }

    #[test]
    fn a_panic_on_the_last_candidate_sets_aside_only_it() {
        let mut engine = Engine::new();
        for id in 1..=2 {
            engine.insert(id, above_every_minute(), RuleState::armed());
        }
        PANICS.set(Some(2));
        assert_eq!(tick(&mut engine, "2026-11-23T15:00:00Z"), [1]);
        PANICS.set(None);
        let aside: Vec<RuleId> = engine.take_set_aside().iter().map(|a| a.rule_id).collect();
        assert_eq!(aside, [2]);
    }
}
