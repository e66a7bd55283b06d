//! The stored daily bars the live engine's series rules read (`"series": "rsi:14"`): every
//! stored bar of the symbol before the quote's session, converted once with
//! [`Candle::from_bar`] (split-adjusted, as every indicator read is), the same bars a backtest
//! replays.
//!
//! Only symbols with a series rule are loaded, and all of their history: an EMA or RSI
//! depends on every bar before it, and its live value must be the one a backtest computes. A
//! symbol's bars are (re)loaded on its first quote of each session (yesterday's bar has been
//! ingested since) and at least every [`REFRESH_EVERY`] within one (a bar stored late); a
//! rebuilt engine (rules changed) gets the bars already read.
//!
//! With the bars comes each one's session news sentiment, for `"series": "sentiment"` and the
//! signal's sentiment component: the stored scores under the configured score keys, grouped
//! by trading session by `service::news::sentiment::session_sentiment`, the computation the
//! signal endpoints use. Only the last two stored sessions are read: an end-of-day line's
//! value and its previous value are those sessions', and a day's signal reads only its own
//! session's sentiment.

use std::collections::{HashMap, HashSet};

use alerts::{Engine, trading_day};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Symbol, TradingCalendar};
use indicators::Candle;
use service::news::sentiment::session_sentiment;
use store::{ScoreKey, Store, StoreError};
use tokio::time::Instant;

use crate::closes::{EARLIEST, REFRESH_EVERY};

/// Which symbols need bars, and what was loaded.
#[derive(Debug, Default)]
pub(crate) struct SeriesBars {
    symbols: HashSet<Symbol>,
    loaded: HashMap<Symbol, Loaded>,
    /// The scoring chain's score keys, preferred first, whose scores the sentiment reads.
    score_keys: Vec<ScoreKey>,
}

/// One symbol's bars as last read from the store.
#[derive(Debug)]
struct Loaded {
    /// The session they lead up to, and when they were read.
    session: NaiveDate,
    when: Instant,
    candles: Vec<Candle>,
    /// Each candle's session news sentiment, same order.
    sentiment: Vec<Option<f64>>,
}

impl SeriesBars {
    /// Nothing loaded yet; the sentiment reads `score_keys`' scores.
    pub(crate) fn new(score_keys: Vec<ScoreKey>) -> Self {
        Self {
            score_keys,
            ..Self::default()
        }
    }

    /// The bars for a rebuilt `engine`: what was loaded before is given to it again, so that
    /// a rule change does not read every symbol's history again.
    pub(crate) fn carry_over(mut self, engine: &mut Engine) -> Self {
        self.symbols = engine.series_symbols().into_iter().collect();
        let symbols = &self.symbols;
        self.loaded.retain(|symbol, loaded| {
            let keep = symbols.contains(symbol);
            if keep {
                engine.set_series_bars_with_sentiment(
                    *symbol,
                    loaded.session,
                    &loaded.candles,
                    &loaded.sentiment,
                );
            }
            keep
        });
        self
    }

    /// Gives the engine `symbol`'s bars before the session of a quote at `at`, unless it has
    /// them already for that session and they are recent.
    pub(crate) async fn refresh(
        &mut self,
        store: &dyn Store,
        engine: &mut Engine,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !self.symbols.contains(&symbol) {
            return Ok(());
        }
        let session = trading_day(&TradingCalendar::NYSE, at);
        if self.loaded.get(&symbol).is_some_and(|loaded| {
            loaded.session == session && loaded.when.elapsed() < REFRESH_EVERY
        }) {
            return Ok(());
        }
        let bars = match session.pred_opt() {
            Some(last) => store.stored_bars(symbol, EARLIEST, last).await?,
            None => Vec::new(),
        };
        let candles: Vec<Candle> = bars
            .iter()
            .map(|stored| Candle::from_bar(&stored.bar))
            .collect();
        let days: Vec<NaiveDate> = bars.iter().map(|stored| stored.bar.date).collect();
        let since = days
            .len()
            .checked_sub(2)
            .and_then(|at| days.get(at))
            .copied();
        let by_day = session_sentiment(store, &self.score_keys, symbol, &days, since).await?;
        let sentiment: Vec<Option<f64>> = days
            .iter()
            .map(|day| by_day.get(day).map(|reading| reading.score.get()))
            .collect();
        engine.set_series_bars_with_sentiment(symbol, session, &candles, &sentiment);
        self.loaded.insert(
            symbol,
            Loaded {
                session,
                when: Instant::now(),
                candles,
                sentiment,
            },
        );
        Ok(())
    }
}
