//! stockd's price alerts, evaluated in memory: the rule model, each rule's state, the
//! per-symbol engine that turns ticks into triggers, and backtests over daily bars.
//!
//! A rule watches the price, or a [series](SeriesSpec): an indicator line of the symbol's
//! daily bars (`"series": "rsi:14"`), compared with a `value` or, for crossings, with an
//! `other` series (see [Series rules](#series-rules)).
//!
//! - [`Rule`] is the wire shape of `POST /v1/alerts` (`kind`-tagged, snake_case);
//!   [`Rule::validate`] lists every problem as a [`FieldError`] naming its field and its allowed
//!   range (for a 422), [`Rule::validate_at`] also bounds `expires_at` against the clock, and
//!   [`Rule::unknown_fields`] names the keys of a body that no rule of its kind has (serde's
//!   `deny_unknown_fields` does not work with the flattened condition).
//! - [`RuleState`] is what must survive a restart (armed, last fire, fired trading day,
//!   cooldown, trailing peak/trough); the store persists it, this crate only computes it.
//! - [`Engine`] holds the rules and evaluates ticks: [`Engine::on_tick`] returns the
//!   [`Trigger`]s of one quote. It never sends anything and never reads the clock: time comes
//!   only from ticks, so the same input always gives the same output.
//! - [`backtest`] replays daily bars through the same evaluator (the dry run).
//!
//! # One rule never stops the others
//!
//! Every value a rule carries is bounded by validation so that nothing overflows; the engine
//! also uses checked or `i128` arithmetic throughout, whatever the rule, state or tick. A rule
//! the engine still cannot evaluate is *set aside* on its own ([`SetAside`], drained with
//! [`Engine::take_set_aside`]): one inserted out of range (stored before the bounds existed),
//! one whose evaluation errs ([`eval::EvalError`]), or, as a last resort, one whose per-rule
//! step panics (caught with `catch_unwind`). Every other rule keeps firing.
//!
//! # The index: one tick touches only the rules it can fire
//!
//! Rules are grouped per symbol ([`Engine`] keeps one book per symbol), and within a book by how
//! a tick can reach them:
//!
//! - **crosses** (`crosses_up`, `crosses_down`, `crosses`) sit in two ordered sets of
//!   `(level, rule)`, one per direction (`crosses` is in both). A tick from `p0` up to `p1` visits
//!   only the up-levels in `[p0, p1)`; a tick down visits only the down-levels in `(p1, p0]`:
//!   exactly the levels the crossing rule below can fire. A quiet tick visits nothing.
//! - **levels** (`above`, `below`) fire on every tick while the price is beyond them, so
//!   the ordered sets hold only rules that are *armed now*: a tick takes the prefix of `above`
//!   levels below the price (every one of them fires) and the suffix of `below` levels above it.
//!   A rule that fired leaves the set; a min-heap of re-arm times (the next New York midnight
//!   for `once_per_day`, the end of the cooldown less its largest tolerance for `every_time`)
//!   puts it back, and the evaluator decides on each tick from then (a weekend quote still
//!   belongs to Friday; the tolerance depends on the quote's spacing). The cost per tick is
//!   therefore the number of rules that fire plus a logarithmic lookup.
//! - **moves and trailing stops** change with the price (a trailing peak, a window's low), so
//!   each is filed under a *band* `(lo, hi)` computed after it was last asked: strictly inside
//!   it the rule can neither fire nor change (e.g. a long stop with peak 460 and 8 %: the band
//!   is `(423.20, 460.000000001)`). Two ordered sets per symbol, by `lo` and by `hi`, give the
//!   rules a tick leaves. Bands round towards the price, so they can only ask too often. A new
//!   trading day asks every banded rule of the symbol once (new reference closes).
//!   `window` moves read one monotonic window per symbol, duration and direction, fed every
//!   tick and shared by the rules that use it (the first two inline in the book). Their band
//!   is filed against a floor below the window's low (a ceiling above its high for down moves)
//!   about halfway to the firing price, not against the low itself, so a new low or high
//!   re-files the rule only once the price leaves that band.
//!
//! On top of that each symbol keeps its *quiet range*: the prices between the nearest level or
//! band end on either side of the last price. A tick inside it (most ticks) touches no set at
//! all: the cost is one hash lookup and two comparisons (plus feeding the symbol's windows, if
//! it has `window` moves).
//!
//! # What a caller persists
//!
//! [`Engine::changed_states`] (rule states that changed since the last call) and
//! [`Engine::changed_quotes`] (each symbol's last accepted price, the "previous price" of the
//! next crossing check); after a restart, [`Engine::insert`] each rule with its stored state and
//! [`Engine::restore_quote`] each symbol. A trigger carries the state after it, to be written in
//! the same transaction as the alert event. `window` contents are not persisted: a window starts
//! empty after a restart.
//!
//! Every candidate is then decided by one function ([`eval`]), which is also what the tests'
//! naive reference (evaluate every rule on every tick) calls: the index only chooses whom to
//! ask, never what the answer is. Expiry is a heap event too, so an expired rule leaves the
//! index at its expiry instant.
//!
//! # Crossing semantics (written down because everyone means something slightly different)
//!
//! - `above L` fires when the price is strictly above `L`; `below L` when strictly below.
//! - `crosses_up L` fires when the previous price was at or below `L` and this one is strictly
//!   above it; `crosses_down L` when the previous was at or above `L` and this one strictly
//!   below; `crosses` is either. This is TradingView's meaning (Pine's `ta.crossover` and
//!   `ta.crossunder`), so a rule at a round level behaves as its users expect: a touch of the
//!   level is not a crossing (9 → 10 → 11 fires `crosses_up 10` on the 11), and a touch that
//!   bounces back crosses the way it leaves (11 → 10 → 11 fires `crosses_up 10` on the second
//!   11, and no `crosses_down`).
//! - `window_days: n` compares with the `n`th reference close (the stored daily
//!   bars, [`Engine::set_reference_closes`]) before the tick's session: stored bars are
//!   counted, not calendar sessions.
//! - An `every_time` rule may fire again once the tick is past its cooldown's end less a
//!   tolerance: half the time since the symbol's previous tick, at most a tenth of the
//!   cooldown ([`eval::cooldown_tolerance`]), so it fires on the quote nearest the end.
//! - "previous price" is the symbol's previous accepted tick, whoever it touched. Ticks older
//!   than the symbol's last one are dropped, as are non-positive prices.
//!
//! # Series rules
//!
//! A rule with `series` (and `value`, or `other` for the crossing kinds) reads the level kinds
//! with the series in place of the price: `above`/`below` compare strictly, crossings are
//! TradingView's, and frequency, cooldown, `once` and expiry are the price rules' own (one
//! decision function, [`eval::evaluate_series`], sharing every step but the comparison). A
//! series value is an `f64` (it can be negative: a MACD histogram), so series rules are not
//! filed in the price-ordered sets: a symbol's book holds a separate `SeriesBook` while it has
//! series rules, and every one of them is asked on each tick of its symbol (they are few; a
//! price-only symbol pays one branch).
//!
//! - The caller gives the stored bars before the tick's session with
//!   [`Engine::set_series_bars`] (as `indicators::Candle::from_bar` converts them: split
//!   adjusted); until bars for the tick's session are given, series rules are not evaluated.
//!   [`Engine::series_symbols`] says for which symbols.
//! - Indicators of closes update intraday (the live price is the provisional close of the
//!   session's bar); `atr`, `stoch`, `obv` and `signal` (the composite signal score, under
//!   the method [`Engine::set_signals_config`] sets) and `sentiment` (the session's news
//!   sentiment, given with the bars: [`Engine::set_series_bars_with_sentiment`]) only at end
//!   of day (the last stored bar's value). See [`SeriesSpec`] for the whole model.
//! - A crossing compares with the value at the symbol's previous tick when it belongs to the
//!   same session (recomputed at that tick's price after a rebuild or restart, from the
//!   restored last quote), else with the value the session started from. A series without a
//!   value yet (warming up) never fires and is never a previous value.
//! - [`backtest`] evaluates a series rule once per bar, at the bar's close, on the whole bar
//!   ([`backtest_with_signals`] with a configured signals method, [`backtest_with_sentiment`]
//!   with each session's news sentiment too).

mod aside;
mod backtest;
mod band;
mod book;
mod engine;
pub mod eval;
mod feed;
mod fields;
mod message;
mod rule;
mod series;
mod session;
mod state;
mod validate;

pub use aside::{SetAside, SetAsideCause};
pub use backtest::{Fire, backtest, backtest_with_sentiment, backtest_with_signals};
pub use engine::{Engine, LastQuote, Tick, Trigger};
pub use fields::COMMON_FIELDS;
pub use rule::{Condition, Frequency, Move, MoveBasis, Percent, Rule, RuleId, Side, Span, Trail};
pub use series::{RESERVED_SERIES, SENTIMENT_SERIES, SIGNAL_SERIES, SeriesError, SeriesSpec};
pub use session::trading_day;
pub use state::RuleState;
pub use validate::{
    FieldError, MAX_COOLDOWN, MAX_EXPIRY_YEARS, MAX_PERCENT, MAX_PRICE, MAX_VALUE, MAX_WINDOW,
    MAX_WINDOW_DAYS, MIN_SPAN,
};
