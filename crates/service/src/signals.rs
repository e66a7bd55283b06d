//! Composite trading signals: the latest, a history and the evaluation of a symbol's labels,
//! and the refresh that stores them after ingestion.
//!
//! Reads serve the signals stored for the current method ([`signals::Method`] under the
//! configured weights and thresholds) when the symbol has any; otherwise they are computed on
//! the fly from the symbol's whole daily history as the read path answers it, so a new install
//! with bundled data and no ingest run still answers. Every answer says which it was
//! ([`SignalOrigin`]). Computing from the whole history gives the same signals as the stored
//! ones: each day's signal depends only on that day and the days before it.
//!
//! [`Service::refresh_signals`] is what ingestion calls after a run: it computes each symbol's
//! days after its latest stored one from the stored bars (no provider is asked), stores them,
//! and reports the symbols whose latest label changed; each change is also published on the
//! bus when the service has one ([`Service::announce_on`]). A read of
//! stored signals runs the same refresh first when the read path serves a bar newer than the
//! latest stored signal (a read-through fetch since the last ingest run), so it never answers a
//! signal older than the prices the same user sees; if that fails, the stored signals are
//! answered marked stale.
//!
//! The `sentiment` component reads the stored news scores of each day's trading session
//! ([`Service::signal_sentiment`]: news published after a close counts for the next session),
//! so a day's signal reflects its news once the news is scored. A stored day keeps the
//! sentiment scored by the time it was stored (days are never recomputed); a computed answer
//! reads the scores stored now.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Signal, SignalLabel, SignalMethod, SignalScore, Symbol};
use indicators::Candle;
use market::{CacheStatus, UpstreamBudget};
use signals::{Evaluation, Horizon, Method, SentimentSeries};
use store::MAX_SIGNALS_PER_READ;

use crate::{Service, ServiceError};

/// Older than any daily bar, and a date every backend holds as `YYYY-MM-DD` (chrono's own
/// extremes have six-digit years, out of PostgreSQL's range and out of order as SQLite text).
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1800, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// Later than any daily bar, likewise.
const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => NaiveDate::MAX,
};

/// Where an answer's signals came from.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalOrigin {
    /// Stored under the current method, after an ingest run or by a read that found newer bars.
    Stored {
        /// True when the stored signals end before the last daily bar and the missing days
        /// could not be computed, or the daily history itself is an older copy.
        stale: bool,
    },
    /// Computed for this request from the daily history the read path served (nothing is
    /// stored for the symbol under the current method).
    Computed {
        /// The provider the history came from (`sample`, `import`, …).
        source: String,
        fetched_at: DateTime<Utc>,
        /// True when the provider is failing and the history is an older copy.
        stale: bool,
    },
}

/// Signals of one symbol under one method, with their origin.
#[derive(Debug, Clone)]
pub struct SignalAnswer<T> {
    pub symbol: Symbol,
    pub method: SignalMethod,
    pub origin: SignalOrigin,
    pub value: T,
}

/// A symbol whose latest label differs from the one stored before a refresh, or whose first
/// signal under the method a refresh stored.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelChange {
    pub symbol: Symbol,
    pub method: SignalMethod,
    /// The new latest signal's day, label and score.
    pub day: NaiveDate,
    pub label: SignalLabel,
    pub score: SignalScore,
    /// The latest label before the refresh; `None` for the symbol's first signals.
    pub previous: Option<SignalLabel>,
}

/// Whether a symbol's stored signals reach its last served bar.
#[derive(Debug)]
enum CatchUp {
    /// They did already; `stale` when the served history is an older copy.
    Current { stale: bool },
    /// The missing days were stored just now (by this caller or one it waited for): the new
    /// latest signal; `stale` as for `Current`.
    Added { latest: Signal, stale: bool },
    /// Days are missing and could not be computed.
    Behind,
}

impl CatchUp {
    /// Whether an answer from the stored signals is to be marked stale.
    fn stale(&self) -> bool {
        match self {
            Self::Current { stale } | Self::Added { stale, .. } => *stale,
            Self::Behind => true,
        }
    }
}

/// What [`Service::refresh_symbol`] did for one symbol.
#[derive(Debug, Default)]
struct SymbolRefresh {
    /// Signals written.
    stored: u64,
    /// The label change, if this call wrote the new latest day and its label differs from the
    /// one before.
    change: Option<LabelChange>,
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignalRefresh {
    /// Signals written, over every symbol.
    pub stored: u64,
    pub changes: Vec<LabelChange>,
}

impl Service {
    /// Method v1 under the configured weights and thresholds.
    pub fn signal_method(&self) -> Result<Method, ServiceError> {
        Method::new(self.settings().signals)
            .map_err(|_| ServiceError::Internal("the signal method has no valid name"))
    }

    /// The latest signal of `symbol`, with its components and evidence.
    pub async fn latest_signal(
        &self,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<SignalAnswer<Signal>, ServiceError> {
        let method = self.signal_method()?;
        if let Some(stored) = self.store().latest_signal(symbol, method.name()).await? {
            let catch_up = self.catch_up(symbol, &method, stored.day, budget).await;
            let stale = catch_up.stale();
            let signal = match catch_up {
                CatchUp::Added { latest, .. } => latest,
                CatchUp::Current { .. } | CatchUp::Behind => stored,
            };
            let origin = SignalOrigin::Stored { stale };
            return Ok(answer(symbol, &method, origin, signal));
        }
        let (bars, origin) = self.history(symbol, budget).await?;
        let count = bars.len();
        let last_day = bars.last().map(|bar| bar.date);
        let sentiment = self.signal_sentiment(symbol, &bars, last_day).await?;
        let signal = compute(&method, symbol, bars, sentiment, last_day, self.now())
            .await?
            .pop()
            .ok_or_else(|| too_short(symbol, count))?;
        Ok(answer(symbol, &method, origin, signal))
    }

    /// The signals of `symbol` dated `from..=to` (either end open), oldest first.
    pub async fn signal_history(
        &self,
        symbol: Symbol,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        budget: &dyn UpstreamBudget,
    ) -> Result<SignalAnswer<Vec<Signal>>, ServiceError> {
        let method = self.signal_method()?;
        if let Some(latest) = self.store().latest_signal(symbol, method.name()).await? {
            let catch_up = self.catch_up(symbol, &method, latest.day, budget).await;
            let stale = catch_up.stale();
            let stored = self.stored_signals(symbol, &method, from, to).await?;
            return Ok(answer(
                symbol,
                &method,
                SignalOrigin::Stored { stale },
                stored,
            ));
        }
        let (bars, origin) = self.history(symbol, budget).await?;
        let sentiment = self.signal_sentiment(symbol, &bars, from).await?;
        let mut signals = compute(&method, symbol, bars, sentiment, from, self.now()).await?;
        if let Some(to) = to {
            signals.retain(|signal| signal.day <= to);
        }
        Ok(answer(symbol, &method, origin, signals))
    }

    /// How `symbol`'s labels did over its whole signal history at each of `horizons`.
    pub async fn signal_evaluation(
        &self,
        symbol: Symbol,
        horizons: &[Horizon],
        budget: &dyn UpstreamBudget,
    ) -> Result<SignalAnswer<Evaluation>, ServiceError> {
        let method = self.signal_method()?;
        // The closes always come from the read path: forward returns need the bars after the
        // last signal too.
        let (bars, computed) = self.history(symbol, budget).await?;
        let (labelled, origin) = match self.store().latest_signal(symbol, method.name()).await? {
            Some(latest) => {
                let catch_up = self.catch_up(symbol, &method, latest.day, budget).await;
                let stale = catch_up.stale();
                let stored = self.stored_signals(symbol, &method, None, None).await?;
                (stored, SignalOrigin::Stored { stale })
            }
            None => {
                let sentiment = self.signal_sentiment(symbol, &bars, None).await?;
                let signals =
                    compute(&method, symbol, bars.clone(), sentiment, None, self.now()).await?;
                (signals, computed)
            }
        };
        let labels: Vec<(NaiveDate, SignalLabel)> = labelled
            .iter()
            .map(|signal| (signal.day, signal.label))
            .collect();
        let closes: Vec<(NaiveDate, f64)> = bars
            .iter()
            .map(|bar| (bar.date, Candle::from_bar(bar).close))
            .collect();
        let evaluation = signals::evaluate(&labels, &closes, horizons);
        Ok(answer(symbol, &method, origin, evaluation))
    }

    /// Computes and stores the signals of each of `symbols` after its latest stored one, from
    /// the stored bars; returns what was written and the labels that changed (a symbol's first
    /// refresh stores its whole history and counts as a change from no label). A symbol with no
    /// stored bars, or no new day, is skipped. Days already stored are never recomputed nor
    /// rewritten (a day another refresh or a read stored meanwhile is kept, and not counted): a
    /// new configuration is a new method, with a history of its own.
    pub async fn refresh_signals(&self, symbols: &[Symbol]) -> Result<SignalRefresh, ServiceError> {
        let method = self.signal_method()?;
        let mut refresh = SignalRefresh::default();
        for &symbol in symbols {
            let symbol_refresh = self.refresh_symbol(symbol, &method).await?;
            refresh.stored += symbol_refresh.stored;
            refresh.changes.extend(symbol_refresh.change);
        }
        Ok(refresh)
    }

    /// [`Service::refresh_signals`] for one symbol.
    async fn refresh_symbol(
        &self,
        symbol: Symbol,
        method: &Method,
    ) -> Result<SymbolRefresh, ServiceError> {
        let Some(series) = self.store().load_series(symbol).await? else {
            return Ok(SymbolRefresh::default());
        };
        let previous = self.store().latest_signal(symbol, method.name()).await?;
        let from = previous.as_ref().and_then(|p| p.day.succ_opt());
        let bars = series.bars().to_vec();
        let sentiment = self.signal_sentiment(symbol, &bars, from).await?;
        let signals = compute(method, symbol, bars, sentiment, from, self.now()).await?;
        let Some(latest) = signals.last() else {
            return Ok(SymbolRefresh::default());
        };
        // Only what this call wrote is announced: when another computation stored these days
        // first (another replica, a read catching up), it announced them.
        let stored = self.store().insert_signals(&signals).await?;
        let previous = previous.map(|signal| signal.label);
        let change = (stored > 0 && previous != Some(latest.label)).then(|| LabelChange {
            symbol,
            method: method.name().clone(),
            day: latest.day,
            label: latest.label,
            score: latest.score,
            previous,
        });
        if let Some(change) = &change {
            self.announce_label_change(change).await;
        }
        Ok(SymbolRefresh { stored, change })
    }

    /// Publishes `change` on the bus when the service has one: a refresh after ingestion and
    /// a read catching up both come through [`Service::refresh_symbol`], so either announces
    /// what it stored. A failed publish is logged; the label is stored either way.
    async fn announce_label_change(&self, change: &LabelChange) {
        let Some(bus) = self.announcer() else {
            return;
        };
        let event = bus::Event::SignalLabelChanged(bus::SignalLabelChanged {
            symbol: change.symbol,
            day: change.day,
            method: change.method.clone(),
            previous: change.previous,
            label: change.label,
            score: change.score,
        });
        if let Err(err) = bus.publish(&event).await {
            tracing::warn!(symbol = %change.symbol, error = %err, "could not publish a signal label change");
        }
    }

    /// Brings the stored signals of `symbol` (the latest dated `latest`) up to the last daily
    /// bar the read path serves, through [`Service::refresh_symbol`], so a read never answers a
    /// signal older than the bars the same user sees; one caller per symbol computes at a time.
    ///
    /// The served series is usually the cached one, so a current signal costs no store read.
    /// Failing to catch up is logged and answered as [`CatchUp::Behind`], not as an error: the
    /// stored signals are still worth serving, marked stale.
    async fn catch_up(
        &self,
        symbol: Symbol,
        method: &Method,
        latest: NaiveDate,
        budget: &dyn UpstreamBudget,
    ) -> CatchUp {
        let served = match self.market().daily_with(symbol, budget).await {
            Ok(served) => served,
            Err(err) => {
                tracing::warn!(%symbol, error = %err, "could not read the daily history to check the stored signals; serving them as stale");
                return CatchUp::Behind;
            }
        };
        let stale = served.cache == CacheStatus::Stale;
        let Some(last_bar) = served.value.latest().map(|bar| bar.date) else {
            return CatchUp::Current { stale };
        };
        if last_bar <= latest {
            return CatchUp::Current { stale };
        }
        let _one_at_a_time = self.signal_lock(symbol).lock().await;
        let caught_up = async {
            // Another caller may have caught up while this one waited.
            let stored = self.store().latest_signal(symbol, method.name()).await?;
            if let Some(signal) = stored.filter(|signal| signal.day >= last_bar) {
                return Ok(Some(signal));
            }
            let refresh = self.refresh_symbol(symbol, method).await?;
            tracing::debug!(%symbol, written = refresh.stored, label_changed = refresh.change.is_some(), %last_bar, "signals caught up with the daily history");
            // Read back rather than answer what was computed: another replica's row may have won,
            // and the store's timestamps are what every later read answers.
            Ok::<_, ServiceError>(self.store().latest_signal(symbol, method.name()).await?)
        };
        match caught_up.await {
            Ok(Some(latest)) if latest.day >= last_bar => CatchUp::Added { latest, stale },
            Ok(_) => {
                // The stored bars end before the served ones (their write failed).
                tracing::warn!(%symbol, %last_bar, "the stored bars end before the served ones; serving the stored signals as stale");
                CatchUp::Behind
            }
            Err(err) => {
                tracing::warn!(%symbol, error = %err, %last_bar, "could not compute the signals of newer bars; serving the stored ones as stale");
                CatchUp::Behind
            }
        }
    }

    /// The stored signals of `symbol` under `method` in `from..=to`.
    async fn stored_signals(
        &self,
        symbol: Symbol,
        method: &Method,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Signal>, ServiceError> {
        let store = self.store();
        let mut from = from.unwrap_or(FIRST_DAY);
        let to = to.unwrap_or(LAST_DAY);
        let mut signals = Vec::new();
        // Page on from the day after the last one read, until a page comes back short.
        loop {
            let page = store
                .signals(symbol, method.name(), from, to, MAX_SIGNALS_PER_READ)
                .await?;
            let full = page.len() == MAX_SIGNALS_PER_READ as usize;
            let next = page.last().and_then(|signal| signal.day.succ_opt());
            signals.extend(page);
            match next {
                Some(next) if full => from = next,
                _ => return Ok(signals),
            }
        }
    }

    /// The whole daily history of `symbol` as the read path serves it (charging `budget` if a
    /// provider must be asked), and the origin of signals computed from it.
    async fn history(
        &self,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<(Vec<Bar>, SignalOrigin), ServiceError> {
        let served = self.market().daily_with(symbol, budget).await?;
        let origin = SignalOrigin::Computed {
            source: served.value.source.clone(),
            fetched_at: served.value.fetched_at,
            stale: served.cache == CacheStatus::Stale,
        };
        Ok((served.value.bars().to_vec(), origin))
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.market().config().clock.now()
    }
}

/// Locks striped by symbol: a request catching a symbol's signals up waits for one already doing
/// it instead of computing the same days again (replicas are kept apart by
/// [`store::SignalStore::insert_signals`] instead). A fixed set: unrelated symbols rarely share
/// one, and then only wait for a few milliseconds of computation.
#[derive(Debug)]
pub(crate) struct SignalLocks([tokio::sync::Mutex<()>; 64]);

impl Default for SignalLocks {
    fn default() -> Self {
        Self(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl Service {
    /// The lock `symbol`'s catch-up holds.
    fn signal_lock(&self, symbol: Symbol) -> &tokio::sync::Mutex<()> {
        let locks = &self.0.signal_locks.0;
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&symbol, &mut hasher);
        let index = std::hash::Hasher::finish(&hasher) % locks.len() as u64;
        &locks[usize::try_from(index).unwrap_or_default()]
    }
}

fn answer<T>(symbol: Symbol, method: &Method, origin: SignalOrigin, value: T) -> SignalAnswer<T> {
    SignalAnswer {
        symbol,
        method: method.name().clone(),
        origin,
        value,
    }
}

/// [`Method::signals`] with the stored news sentiment (`sentiment`, by trading session: see
/// [`crate::news::sentiment`]), on the blocking pool: a whole 10-year history takes
/// milliseconds, too long for an async worker.
async fn compute(
    method: &Method,
    symbol: Symbol,
    bars: Vec<Bar>,
    sentiment: SentimentSeries,
    from: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<Signal>, ServiceError> {
    let method = method.clone();
    tokio::task::spawn_blocking(move || method.signals(symbol, &bars, &sentiment, from, now))
        .await
        .map_err(|_| ServiceError::Internal("the signal computation stopped"))
}

fn too_short(symbol: Symbol, bars: usize) -> ServiceError {
    ServiceError::NotFound(format!(
        "{symbol} has {bars} daily bars; a signal needs at least 20 (the Bollinger Bands' \
         window), and every component needs 272"
    ))
}
