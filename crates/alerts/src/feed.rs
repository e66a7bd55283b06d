//! One symbol's series: the indicator lines (and the composite signal score and the news
//! sentiment) its series rules watch, fed with the symbol's stored daily bars and each bar's
//! session sentiment, and their values on each tick.
//!
//! Price rules never come here: a symbol's book holds a `SeriesBook` only while it has series
//! rules, so a price tick pays one branch for it. Each distinct line is computed once per tick
//! however many rules watch it.
//!
//! Each line keeps an incremental [`State`] fed with every stored bar before the session
//! (`base`), the value at the last stored bar (`last`) and at the bar before it (`before`).
//! On a live tick an intraday line is `base` plus a provisional bar whose close is the tick's
//! price (computed on a clone: O(1) apart from the clone); an end-of-day line is `last`. The
//! previous value a crossing compares with is the value at the symbol's previous tick when
//! that tick was in the same session, and otherwise the value the session started from:
//! `last` for an intraday line, `before` for an end-of-day one (whose new value appeared with
//! this session's bars). A backtest instead evaluates each bar whole ([`SeriesBook::observe_close`]):
//! the value at the bar against the value at the bar before it.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Evidence, Price, SignalScore};
use indicators::{Candle, State};
use signals::{Method, SentimentReading, Tracker};

use crate::eval::SeriesReading;
use crate::rule::Rule;
use crate::series::SeriesSpec;

/// The incremental computation behind a line.
#[derive(Debug, Clone)]
enum Base {
    /// One output of an indicator.
    Line { state: State, output: usize },
    /// The composite signal's score under `method` (none: no configured method, no value).
    Signal {
        tracker: Box<Tracker>,
        method: Option<Arc<Method>>,
    },
    /// The session's news sentiment: the bar's own, no state.
    Sentiment,
}

impl Base {
    fn new(spec: SeriesSpec, method: Option<&Arc<Method>>) -> Self {
        match spec {
            SeriesSpec::Indicator(line) => Self::Line {
                state: line.indicator.state(),
                output: line.output,
            },
            SeriesSpec::Signal => Self::Signal {
                tracker: Box::default(),
                method: method.cloned(),
            },
            SeriesSpec::Sentiment => Self::Sentiment,
        }
    }

    /// Applies `candle` (the next bar, whose session's news sentiment is `sentiment`) and
    /// returns the value at it.
    fn update(&mut self, candle: &Candle, sentiment: Option<f64>) -> Option<f64> {
        match self {
            Self::Line { state, output } => finite(state.update(candle).get(*output)),
            Self::Signal { tracker, method } => {
                let readings = tracker.update(candle);
                // The sentiment component weighs only the score; the evidence is for reads.
                let reading = sentiment
                    .and_then(|score| SignalScore::new(score).ok())
                    .map(|score| SentimentReading {
                        score,
                        evidence: Evidence::new(),
                    });
                let day = method.as_ref()?.score(&readings, reading.as_ref())?;
                finite(Some(day.score.get()))
            }
            Self::Sentiment => finite(sentiment),
        }
    }
}

/// One line fed with a symbol's bars.
#[derive(Debug, Clone)]
struct Feed {
    spec: SeriesSpec,
    intraday: bool,
    /// Every stored bar before the session, applied.
    base: Base,
    /// The value at the last stored bar, and at the one before it.
    last: Option<f64>,
    before: Option<f64>,
    /// The values of the tick being evaluated and of the one the crossing compares with.
    now: Option<f64>,
    previous: Option<f64>,
}

impl Feed {
    fn new(
        spec: SeriesSpec,
        method: Option<&Arc<Method>>,
        candles: &[Candle],
        sentiment: &[Option<f64>],
    ) -> Self {
        let mut feed = Self {
            spec,
            intraday: spec.intraday(),
            base: Base::new(spec, method),
            last: None,
            before: None,
            now: None,
            previous: None,
        };
        for (i, candle) in candles.iter().enumerate() {
            feed.push(candle, sentiment.get(i).copied().flatten());
        }
        feed
    }

    fn push(&mut self, candle: &Candle, sentiment: Option<f64>) {
        self.before = self.last;
        self.last = self.base.update(candle, sentiment);
    }

    /// The value with `candle` (whose session's sentiment is `sentiment`) as the session's
    /// bar, leaving `base` as it is.
    fn with(&self, candle: &Candle, sentiment: Option<f64>) -> Option<f64> {
        self.base.clone().update(candle, sentiment)
    }

    /// The value on a live tick at `price`.
    fn live(&self, price: Price) -> Option<f64> {
        if self.intraday {
            // Only indicators of closes are intraday: none reads the sentiment.
            self.with(&Candle::from_close(price.to_f64()), None)
        } else {
            self.last
        }
    }

    /// The value a session starts from (see the module docs).
    fn session_start(&self) -> Option<f64> {
        if self.intraday {
            self.last
        } else {
            self.before
        }
    }
}

/// A value an indicator cannot meaningfully have (an infinite ratio) is no value.
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// Where a series rule's values come from: the line of its `series`, and of its `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watcher {
    pub(crate) slot: u32,
    series: usize,
    other: Option<usize>,
    value: Option<Price>,
}

/// How the previous tick of the symbol relates to this one.
#[derive(Debug, Clone, Copy)]
enum Previous {
    /// Evaluated by this book in the same session: its values are the lines' `now`.
    Cached,
    /// In the same session but not evaluated here (the engine was rebuilt since): computed
    /// again at its price.
    SameSession(Price),
    /// None, or in an earlier session.
    NewSession,
}

/// One symbol's lines and the series rules reading them.
#[derive(Debug, Default)]
pub(crate) struct SeriesBook {
    /// The stored bars before `session`, oldest first, as indicators read them: kept so a
    /// line added later is computed from them.
    candles: Vec<Candle>,
    /// Each of `candles`' session news sentiment (`None`: no scored news), same order.
    sentiment: Vec<Option<f64>>,
    /// The session the bars lead up to; `None` until the caller gives them.
    session: Option<NaiveDate>,
    lines: Vec<Feed>,
    pub(crate) watchers: Vec<Watcher>,
    /// The composite signal's method, for a `signal` line.
    method: Option<Arc<Method>>,
    /// The tick (time, session) the lines' `now` values are for.
    evaluated: Option<(DateTime<Utc>, NaiveDate)>,
}

impl SeriesBook {
    /// An empty book whose `signal` line (if a rule watches it) is computed with `method`.
    pub(crate) fn new(method: Option<Arc<Method>>) -> Self {
        Self {
            method,
            ..Self::default()
        }
    }

    /// Starts reading the lines of `rule` (a series rule) for the rule in `slot`.
    pub(crate) fn add(&mut self, slot: u32, rule: &Rule) {
        let Some(series) = rule.series else {
            return;
        };
        let series = self.line_index(series);
        let other = rule.other.map(|other| self.line_index(other));
        self.watchers.push(Watcher {
            slot,
            series,
            other,
            value: rule.value,
        });
    }

    /// Stops evaluating the rule in `slot` (its lines stay: they are cheap and may be read
    /// again).
    pub(crate) fn remove(&mut self, slot: u32) {
        self.watchers.retain(|watcher| watcher.slot != slot);
    }

    fn line_index(&mut self, spec: SeriesSpec) -> usize {
        if let Some(index) = self.lines.iter().position(|feed| feed.spec == spec) {
            return index;
        }
        self.lines.push(Feed::new(
            spec,
            self.method.as_ref(),
            &self.candles,
            &self.sentiment,
        ));
        self.lines.len() - 1
    }

    /// Sets the stored bars before `session` (oldest first) with each one's session news
    /// sentiment (`sentiment[i]` for `candles[i]`; missing entries have none) and recomputes
    /// every line.
    ///
    /// Bars read again within the same session (a bar stored late, a corrected history) keep
    /// the values the last tick saw: the next tick's crossing compares with what was seen, so
    /// an end-of-day value that changes with a late bar is still a crossing.
    pub(crate) fn set_bars(
        &mut self,
        session: NaiveDate,
        candles: &[Candle],
        sentiment: &[Option<f64>],
    ) {
        let same_session = self.session == Some(session);
        self.candles = candles.to_vec();
        self.sentiment = sentiment.to_vec();
        self.sentiment.resize(candles.len(), None);
        self.session = Some(session);
        for feed in &mut self.lines {
            let seen = feed.now;
            *feed = Feed::new(
                feed.spec,
                self.method.as_ref(),
                &self.candles,
                &self.sentiment,
            );
            if same_session {
                feed.now = seen;
            }
        }
        if !same_session {
            self.evaluated = None;
        }
    }

    /// Appends one bar and its session's news sentiment (a backtest's bar after it was
    /// evaluated, or a warm-up bar).
    pub(crate) fn push_bar(&mut self, candle: Candle, sentiment: Option<f64>) {
        for feed in &mut self.lines {
            feed.push(&candle, sentiment);
        }
        self.candles.push(candle);
        self.sentiment.push(sentiment);
        self.evaluated = None;
    }

    /// Computes every line's value for a live tick at `price` in session `day`; `false` when
    /// the bars given are not those of this session (nothing can be evaluated).
    /// `previous` is the symbol's previous tick, `day_of` the session of an instant.
    pub(crate) fn observe_live(
        &mut self,
        at: DateTime<Utc>,
        day: NaiveDate,
        price: Price,
        previous: Option<(Price, DateTime<Utc>)>,
        day_of: impl FnOnce(DateTime<Utc>) -> NaiveDate,
    ) -> bool {
        if self.session != Some(day) {
            self.evaluated = None;
            return false;
        }
        let previous = match previous {
            Some((_, previous_at)) if self.evaluated == Some((previous_at, day)) => {
                Previous::Cached
            }
            Some((previous_price, previous_at)) if day_of(previous_at) == day => {
                Previous::SameSession(previous_price)
            }
            _ => Previous::NewSession,
        };
        for feed in &mut self.lines {
            feed.previous = match previous {
                Previous::Cached => feed.now,
                Previous::SameSession(previous_price) => feed.live(previous_price),
                Previous::NewSession => feed.session_start(),
            };
            feed.now = feed.live(price);
        }
        self.evaluated = Some((at, day));
        true
    }

    /// Computes every line's value for a whole bar (`candle`), against the last bar's: the
    /// backtest's evaluation; `sentiment` is the bar's session news sentiment. The bar is not
    /// appended ([`SeriesBook::push_bar`]).
    pub(crate) fn observe_close(&mut self, candle: &Candle, sentiment: Option<f64>) {
        for feed in &mut self.lines {
            feed.previous = feed.last;
            feed.now = feed.with(candle, sentiment);
        }
        self.evaluated = None;
    }

    /// What `watcher`'s rule compares on the tick last observed.
    pub(crate) fn reading(&self, watcher: &Watcher) -> SeriesReading {
        let line = |index: usize| self.lines.get(index);
        let series = line(watcher.series);
        let (level_now, level_previous) = match (watcher.other, watcher.value) {
            (Some(other), _) => {
                let other = line(other);
                (
                    other.and_then(|feed| feed.now),
                    other.and_then(|feed| feed.previous),
                )
            }
            (None, Some(value)) => (Some(value.to_f64()), Some(value.to_f64())),
            (None, None) => (None, None),
        };
        SeriesReading {
            now: series.and_then(|feed| feed.now),
            previous: series.and_then(|feed| feed.previous),
            level_now,
            level_previous,
        }
    }
}
