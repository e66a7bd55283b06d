//! The one error type of the use cases. Each variant is a kind of outcome an interface words in
//! its own way (the HTTP edge maps each to a problem+json status in one place); the `String`s
//! are what the caller should read, naming the field at fault and what to do.

use std::time::Duration;

use market::MarketError;

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request itself is malformed (bad symbol, days, dates, cursor).
    #[error("{0}")]
    BadRequest(String),
    /// A series list naming an unknown indicator or output, a parameter out of range, or too
    /// many entries; the text names the entry at fault and the valid indicators (an interface
    /// may add the whole catalogue, `indicators::Indicator::catalogue`).
    #[error("{0}")]
    BadIndicator(String),
    /// No such resource (of the caller's).
    #[error("{0}")]
    NotFound(String),
    /// The read path failed.
    #[error(transparent)]
    Market(MarketError),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials that do not allow this (a wrong current password, sign-up closed).
    #[error("{0}")]
    Forbidden(String),
    /// The request clashes with what exists (an email already registered).
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but invalid input; the text names the field.
    #[error("{0}")]
    Unprocessable(String),
    /// Too many attempts; retry after the duration.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after: Duration,
    },
    /// The caller has as many of something as one account may (`setting` names the cap).
    #[error("{detail} ({setting} = {cap})")]
    CapReached {
        setting: &'static str,
        cap: u32,
        detail: String,
    },
    /// A symbol to watch or track could not be checked with a provider (`cause`), so it was
    /// not added.
    #[error("{symbol} was not added: no provider could confirm it exists just now ({cause})")]
    SymbolUnverified {
        symbol: domain::Symbol,
        cause: MarketError,
    },
    /// Too much work in flight (the password hashing queue is full); retry after the duration.
    #[error("{detail}")]
    Busy {
        detail: String,
        retry_after: Duration,
    },
    /// News is off (no source configured) and nothing is stored; the text says how to turn
    /// it on.
    #[error("{0}")]
    NewsOff(String),
    /// The database failed (unreachable, full): operational, not the caller's fault.
    #[error("the database did not answer: {0}")]
    Store(store::StoreError),
    /// A bug: a state that should never be reached.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<store::StoreError> for ServiceError {
    fn from(err: store::StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<MarketError> for ServiceError {
    fn from(err: MarketError) -> Self {
        Self::Market(err)
    }
}

impl From<domain::SymbolError> for ServiceError {
    fn from(err: domain::SymbolError) -> Self {
        Self::BadRequest(err.to_string())
    }
}
