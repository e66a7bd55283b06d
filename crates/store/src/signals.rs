//! Stored composite trading signals: one per symbol, trading day and method.
//!
//! Signals are computed after each ingest run (or by a read that finds newer bars) and written in
//! one transaction per batch; a day already stored is kept as it is
//! ([`SignalStore::insert_signals`]) or replaced ([`SignalStore::upsert_signals`]), so a rerun
//! never doubles a row. Methods never mix: a read names its method, and a signal of another method (new weights,
//! a new version of the computation) neither replaces nor hides it.
//!
//! The components (with their weights and evidence) are stored as the JSON the domain writes,
//! verbatim, so they read back exactly as computed. The latest label of each symbol is readable
//! in one query ([`SignalStore::latest_labels`]), so whichever replica computes next knows, even
//! after a restart, whether a label changed.

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    ComponentName, Signal, SignalComponent, SignalLabel, SignalMethod, SignalScore, Symbol,
};

use crate::StoreError;
pub(crate) use memory::MemorySignals;

/// The columns of a signal row, as [`SignalRow`] names them.
const SIGNAL_COLUMNS: &str = "method, symbol, day, score, label, components, missing, computed_at";

/// The most signals one read returns.
pub const MAX_SIGNALS_PER_READ: u32 = 10_000;

/// The latest label of one symbol under one method.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LatestLabel {
    pub symbol: Symbol,
    /// The trading day of the latest signal.
    pub day: NaiveDate,
    pub label: SignalLabel,
    pub score: SignalScore,
}

/// Storage of computed signals.
#[async_trait]
pub trait SignalStore: Send + Sync {
    /// Writes every signal of `batch` in one transaction, each replacing the stored signal of its
    /// symbol, day and method (if any). Returns how many were written. A signal repeated in the
    /// batch: the later one wins.
    async fn upsert_signals(&self, batch: &[Signal]) -> Result<u64, StoreError>;

    /// Writes the signals of `batch` whose symbol, day and method have none stored yet, in one
    /// transaction, and leaves stored ones as they are. Returns how many were new.
    ///
    /// This is how computed days are added: two computations of the same days (two requests,
    /// two replicas, a request and an ingest run) store each day once, and the one that wrote
    /// nothing knows it (a unique key never fails them).
    async fn insert_signals(&self, batch: &[Signal]) -> Result<u64, StoreError>;

    /// The signals of `symbol` under `method` dated `from..=to`, oldest first: the first
    /// `limit` of them (at most [`MAX_SIGNALS_PER_READ`]); a caller pages on from the day after
    /// the last one.
    async fn signals(
        &self,
        symbol: Symbol,
        method: &SignalMethod,
        from: NaiveDate,
        to: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Signal>, StoreError>;

    /// The signal of `symbol` under `method` with the latest day; `None` when there is none.
    async fn latest_signal(
        &self,
        symbol: Symbol,
        method: &SignalMethod,
    ) -> Result<Option<Signal>, StoreError>;

    /// The latest label of every symbol with a signal under `method`, in symbol order.
    async fn latest_labels(&self, method: &SignalMethod) -> Result<Vec<LatestLabel>, StoreError>;
}

/// `limit` within `1..=MAX_SIGNALS_PER_READ`, as SQL binds it.
fn bounded(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_SIGNALS_PER_READ))
}

/// The text stored for the components left out.
fn missing_text(missing: &[ComponentName]) -> String {
    missing
        .iter()
        .map(|name| name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_missing(text: &str) -> Result<Vec<ComponentName>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|err| StoreError::Corrupt(format!("signal missing component: {err}")))
        })
        .collect()
}

/// The JSON text stored for a signal's components.
fn components_text(components: &[SignalComponent]) -> Result<String, StoreError> {
    // Every number in a component is checked finite on construction, so this cannot fail; a
    // failure is still reported, never stored as something else.
    serde_json::to_string(components)
        .map_err(|err| StoreError::Corrupt(format!("signal components: {err}")))
}

/// A `signals` row selected with [`SIGNAL_COLUMNS`], as the database types it.
#[derive(sqlx::FromRow)]
struct SignalRow {
    method: String,
    symbol: String,
    day: NaiveDate,
    score: f64,
    label: String,
    components: String,
    missing: String,
    computed_at: DateTime<Utc>,
}

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("signal {what}: {err}"))
}

impl TryFrom<SignalRow> for Signal {
    type Error = StoreError;

    fn try_from(row: SignalRow) -> Result<Self, StoreError> {
        Ok(Signal {
            symbol: Symbol::parse(&row.symbol).map_err(|err| corrupt("symbol", err))?,
            day: row.day,
            method: SignalMethod::parse(&row.method).map_err(|err| corrupt("method", err))?,
            score: SignalScore::new(row.score).map_err(|err| corrupt("score", err))?,
            label: row.label.parse().map_err(|err| corrupt("label", err))?,
            components: serde_json::from_str(&row.components)
                .map_err(|err| corrupt("components", err))?,
            missing: parse_missing(&row.missing)?,
            computed_at: row.computed_at,
        })
    }
}

/// A row of [`SignalStore::latest_labels`].
#[derive(sqlx::FromRow)]
struct LatestLabelRow {
    symbol: String,
    day: NaiveDate,
    label: String,
    score: f64,
}

impl TryFrom<LatestLabelRow> for LatestLabel {
    type Error = StoreError;

    fn try_from(row: LatestLabelRow) -> Result<Self, StoreError> {
        Ok(LatestLabel {
            symbol: Symbol::parse(&row.symbol).map_err(|err| corrupt("symbol", err))?,
            day: row.day,
            label: row.label.parse().map_err(|err| corrupt("label", err))?,
            score: SignalScore::new(row.score).map_err(|err| corrupt("score", err))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_components_round_trip_through_their_stored_text() {
        let missing = vec![ComponentName::Sentiment, ComponentName::MeanReversion];
        assert_eq!(missing_text(&missing), "sentiment,mean_reversion");
        assert_eq!(parse_missing(&missing_text(&missing)).unwrap(), missing);
        assert!(parse_missing("").unwrap().is_empty());
        assert!(parse_missing("astrology").is_err());
    }

    #[test]
    fn reads_are_bounded() {
        assert_eq!(bounded(0), 1);
        assert_eq!(bounded(50), 50);
        assert_eq!(bounded(u32::MAX), i64::from(MAX_SIGNALS_PER_READ));
    }

    #[test]
    fn computed_scores_and_evidence_numbers_read_back_bit_for_bit() {
        // Scores are arbitrary f64 (weighted sums, ratios); serde_json's default float parser
        // misreads about one in ten of them by an ulp, hence its `float_roundtrip` feature.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let components: Vec<SignalComponent> = (0..2_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let unit = (state >> 11) as f64 / (1_u64 << 53) as f64;
                SignalComponent {
                    name: ComponentName::Momentum,
                    score: SignalScore::new(unit * 2.0 - 1.0).unwrap(),
                    weight: domain::ComponentWeight::new(unit).unwrap(),
                    evidence: domain::Evidence::new().with("rsi_14", unit * 100.0),
                }
            })
            .collect();
        let text = components_text(&components).unwrap();
        let back: Vec<SignalComponent> = serde_json::from_str(&text).unwrap();
        assert!(back == components, "a number changed on the way back");
    }
}
