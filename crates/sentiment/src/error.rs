//! [`ScoreError`]: every way a scorer can fail to give a usable answer.
//!
//! No variant carries a key: upstream text is scrubbed of the key and bounded before it is
//! quoted here.

use std::time::Duration;

/// Why a scorer gave no score; the chain then asks the next one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoreError {
    /// The model declined: a safety block, a blocked prompt, no candidates, a content filter
    /// or an explicit refusal.
    #[error("{scorer} refused to score the article: {reason}")]
    Refused {
        scorer: &'static str,
        reason: String,
    },
    /// The answer is not valid JSON, is cut short, or breaks the schema (a score out of
    /// range, a label that contradicts the score, relevance for other symbols, …).
    #[error("{scorer} answered off-schema: {detail}")]
    Malformed {
        scorer: &'static str,
        detail: String,
    },
    /// The provider asked us to slow down; `retry_after` is its hint when it gave one.
    #[error("{scorer} is rate limited{}", retry_hint(.retry_after))]
    RateLimited {
        scorer: &'static str,
        retry_after: Option<Duration>,
    },
    /// Today's call budget for this provider is spent; no call was made.
    #[error("{scorer}'s daily budget of {limit} calls is spent until {resets_at}")]
    BudgetSpent {
        scorer: &'static str,
        limit: u32,
        resets_at: chrono::DateTime<chrono::Utc>,
    },
    /// The provider rejected the key (401, 403, or Gemini's `API_KEY_INVALID`).
    #[error("{scorer} rejected the API key")]
    KeyRejected { scorer: &'static str },
    /// Transport failure, timeout, 5xx or another unexpected status.
    #[error("{scorer} failed: {detail}")]
    Upstream {
        scorer: &'static str,
        /// The HTTP status, when an answer came back.
        status: Option<u16>,
        detail: String,
    },
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (retry after {}s)", wait.as_secs()),
        None => String::new(),
    }
}

impl ScoreError {
    /// A short kind name for metrics and logs (`refused`, `malformed`, `rate_limited`,
    /// `budget_spent`, `key_rejected`, `upstream`).
    pub fn kind(&self) -> &'static str {
        match self {
            ScoreError::Refused { .. } => "refused",
            ScoreError::Malformed { .. } => "malformed",
            ScoreError::RateLimited { .. } => "rate_limited",
            ScoreError::BudgetSpent { .. } => "budget_spent",
            ScoreError::KeyRejected { .. } => "key_rejected",
            ScoreError::Upstream { .. } => "upstream",
        }
    }
}
