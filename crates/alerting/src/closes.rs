//! The stored daily closes the live engine's `window_days` and `vs_previous_close` moves
//! compare with: "the close n stored bars before the quote's session" is read from the store's
//! daily bars of the symbol, the same bars a backtest replays.
//!
//! Only symbols with such a rule are loaded, and only as many bars as their deepest rule reads.
//! A symbol's closes are (re)loaded on its first quote of each session (yesterday's bar has
//! been ingested since) and at least every [`REFRESH_EVERY`] within one (a bar stored late,
//! a history corrected); a rebuilt engine (rules changed) gets the closes already read.

use std::collections::HashMap;
use std::time::Duration;

use alerts::{Engine, trading_day};
use chrono::{DateTime, Days, NaiveDate, Utc};
use domain::{Price, Symbol, TradingCalendar};
use store::{Bars, StoreError};
use tokio::time::Instant;

/// The longest a symbol's loaded closes are used within one session before they are read
/// again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(3600);

/// Older than any daily bar, and a date every backend holds (PostgreSQL's dates start in
/// 4713 BC; chrono's `NaiveDate::MIN` is far earlier).
const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1800, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// Which symbols need closes, how many, and what was loaded.
#[derive(Debug, Default)]
pub(crate) struct ReferenceCloses {
    /// The most bars back a rule of each symbol reads.
    depths: HashMap<Symbol, u32>,
    loaded: HashMap<Symbol, Loaded>,
}

/// One symbol's closes as last read from the store.
#[derive(Debug)]
struct Loaded {
    /// The session they were read for, and when.
    session: NaiveDate,
    when: Instant,
    /// How many bars back were asked for.
    depth: u32,
    closes: Vec<(NaiveDate, Price)>,
}

impl ReferenceCloses {
    /// The closes for a rebuilt `engine` (with these depths): what was loaded before is given
    /// to it again where it reaches deep enough, so that a rule change does not read every
    /// symbol's bars again; the rest is read on each symbol's next quote.
    pub(crate) fn carry_over(mut self, engine: &mut Engine) -> Self {
        let depths: HashMap<Symbol, u32> = engine.reference_depths().into_iter().collect();
        self.loaded.retain(|symbol, loaded| {
            let keep = depths
                .get(symbol)
                .is_some_and(|depth| loaded.depth >= *depth);
            if keep {
                engine.set_reference_closes(*symbol, &loaded.closes);
            }
            keep
        });
        self.depths = depths;
        self
    }

    /// Gives the engine `symbol`'s closes before the session of a quote at `at`, unless it has
    /// them already for that session and they are recent.
    pub(crate) async fn refresh(
        &mut self,
        store: &dyn Bars,
        engine: &mut Engine,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(&depth) = self.depths.get(&symbol) else {
            return Ok(());
        };
        let session = trading_day(&TradingCalendar::NYSE, at);
        if self.loaded.get(&symbol).is_some_and(|loaded| {
            loaded.session == session && loaded.when.elapsed() < REFRESH_EVERY
        }) {
            return Ok(());
        }
        let closes = closes_before(store, symbol, session, depth).await?;
        engine.set_reference_closes(symbol, &closes);
        self.loaded.insert(
            symbol,
            Loaded {
                session,
                when: Instant::now(),
                depth,
                closes,
            },
        );
        Ok(())
    }
}

/// The closes of the last `depth` stored bars of `symbol` dated before `session`, oldest
/// first (fewer when fewer are stored).
async fn closes_before(
    store: &dyn Bars,
    symbol: Symbol,
    session: NaiveDate,
    depth: u32,
) -> Result<Vec<(NaiveDate, Price)>, StoreError> {
    let Some(last) = session.pred_opt() else {
        return Ok(Vec::new());
    };
    let depth = usize::try_from(depth).unwrap_or(usize::MAX);
    // Sessions are about 5 in 7 days: twice the depth in days, plus two weeks of holidays,
    // covers it unless the stored history has gaps; then read it all.
    let reach = Days::new(u64::try_from(depth).unwrap_or(u64::MAX).saturating_mul(2) + 14);
    let from = last
        .checked_sub_days(reach)
        .map_or(EARLIEST, |from| from.max(EARLIEST));
    let mut bars = store.stored_bars(symbol, from, last).await?;
    if bars.len() < depth && from > EARLIEST {
        bars = store.stored_bars(symbol, EARLIEST, last).await?;
    }
    let skip = bars.len().saturating_sub(depth);
    Ok(bars
        .iter()
        .skip(skip)
        .map(|stored| (stored.bar.date, stored.bar.close))
        .collect())
}
