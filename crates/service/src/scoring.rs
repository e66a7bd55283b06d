//! Sentiment scoring of stored news: the configured [`ScorerChain`] ([`SentimentChain`]), one
//! round of the scoring worker ([`Service::score_news`]), the LLM budgets as the status route
//! shows them ([`Service::sentiment_budgets`]) and the store-backed budget ledger
//! ([`StoreLedger`]).
//!
//! A round takes the articles published within the window that have no score under any of
//! the chain's keys (`NewsStore::unscored_articles`), asks the chain about each with the
//! article's symbols, and stores the answer under the key of the scorer that answered. The
//! store keeps one score per (article, key), so a retry, a restart or a second worker that
//! reaches the same article stores nothing twice ("duplicate"); *which* worker runs rounds
//! (one leader at a time, so two replicas do not both pay an LLM for one article) is the
//! binary's concern.
//!
//! An LLM that fails, refuses, answers off-schema, is rate limited or has spent its daily
//! budget is skipped by the chain and the lexicon answers: the article is then done (its
//! lexicon score is final), so a spent budget never stalls scoring and history is never
//! rescored. One exception limits the damage of a rate limit: when a provider says how long
//! to wait (`Retry-After`), the round stops after that article and reports the wait, so one
//! article (not a whole batch) loses its LLM score.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sentiment::{
    ArticleText, BudgetLedger, BudgetStatus, LedgerError, ScoreError, Scored, ScorerChain,
    ScorerIdentity,
};
use store::{ArticleScore, ProviderUsage, ScoreKey, StoredArticle, SymbolRelevance};

use crate::{Service, ServiceError};

/// The longest wait a rate-limited provider's hint can impose on the worker.
pub const MAX_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(300);

/// The scorer chain articles are scored with, and its keys in chain order.
#[derive(Debug, Clone)]
pub struct SentimentChain {
    chain: Arc<ScorerChain>,
    keys: Vec<ScoreKey>,
}

impl Default for SentimentChain {
    /// The lexicon alone: the offline default.
    fn default() -> Self {
        Self::new(ScorerChain::lexicon_only())
    }
}

impl SentimentChain {
    /// Wraps `chain`, reading its scorers' keys once.
    pub fn new(chain: ScorerChain) -> Self {
        let keys = chain.identities().iter().map(score_key).collect();
        Self {
            chain: Arc::new(chain),
            keys,
        }
    }

    /// The lexicon-only chain under the given keys: for tests of reads that prefer keys of
    /// scorers they do not run.
    #[cfg(test)]
    pub(crate) fn with_keys(keys: Vec<ScoreKey>) -> Self {
        Self {
            keys,
            ..Self::default()
        }
    }

    /// The chain's score keys, preferred scorer first, the lexicon last: what reads of stored
    /// scores take, in this order of preference.
    pub fn keys(&self) -> &[ScoreKey] {
        &self.keys
    }

    /// The chain.
    pub fn chain(&self) -> &ScorerChain {
        &self.chain
    }
}

/// The store key of a scorer's identity.
pub fn score_key(identity: &ScorerIdentity) -> ScoreKey {
    ScoreKey {
        scorer: identity.scorer.clone(),
        model: identity.model.clone(),
        prompt_version: identity.prompt_version.clone(),
    }
}

/// One LLM scorer's daily budget today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorerBudget {
    /// `openai` or `gemini`.
    pub scorer: String,
    pub model: String,
    pub status: BudgetStatus,
}

/// What one scoring round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoringRound {
    /// Articles this round took from the queue.
    pub taken: usize,
    /// Scores this round stored.
    pub stored: usize,
    /// Articles another writer scored first (nothing stored).
    pub duplicate: usize,
    /// The scorer that answered each stored or duplicate article, in order.
    pub answered_by: Vec<String>,
    /// A provider asked to be left alone this long: wait before the next round.
    pub pause: Option<Duration>,
}

impl Service {
    /// The configured sentiment chain's score keys, preferred first, the lexicon last.
    pub fn sentiment_keys(&self) -> &[ScoreKey] {
        self.settings().sentiment.keys()
    }

    /// Each LLM scorer of the chain with today's budget (read from the store, so every
    /// replica shows the same); also refreshes the budget-remaining gauges.
    pub async fn sentiment_budgets(&self) -> Vec<ScorerBudget> {
        let mut budgets = Vec::new();
        for (identity, budget) in self.settings().sentiment.chain().budgets() {
            let status = budget.status().await;
            metrics::gauge!("stock_api_sentiment_budget_remaining", "scorer" => identity.scorer.clone())
                .set(f64::from(status.remaining));
            budgets.push(ScorerBudget {
                scorer: identity.scorer,
                model: identity.model,
                status,
            });
        }
        budgets
    }

    /// One round of the scoring worker: up to `batch` unscored articles published since
    /// `now - window`, newest first, each scored through the chain and stored once under the
    /// key of the scorer that answered. `keep_going` is asked before each article (shutdown,
    /// lost leadership): an article not started stays queued.
    pub async fn score_news(
        &self,
        window: Duration,
        batch: u32,
        keep_going: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<ScoringRound, ServiceError> {
        let sentiment = &self.settings().sentiment;
        let now = Utc::now();
        let since = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        let articles = self
            .store()
            .unscored_articles(sentiment.keys(), since, batch)
            .await?;
        let mut round = ScoringRound {
            taken: articles.len(),
            ..ScoringRound::default()
        };
        for article in &articles {
            if !keep_going() {
                break;
            }
            let scored = sentiment
                .chain()
                .score(
                    &ArticleText::new(&article.title, &article.summary),
                    &article.symbols,
                )
                .await;
            count_skips(&scored);
            let score = stored_score(article, &scored, Utc::now())?;
            let stored = self.store().insert_score(&score).await?;
            let outcome = if stored { "stored" } else { "duplicate" };
            metrics::counter!("stock_api_sentiment_scores_total", "scorer" => scored.identity.scorer.clone(), "outcome" => outcome)
                .increment(1);
            tracing::debug!(article = article.id.0, scorer = %scored.identity, outcome, "article scored");
            if stored {
                round.stored += 1;
            } else {
                round.duplicate += 1;
            }
            round.answered_by.push(scored.identity.scorer.clone());
            if let Some(wait) = rate_limit_wait(&scored) {
                tracing::info!(
                    wait_s = wait.as_secs(),
                    "a sentiment provider is rate limited; pausing scoring"
                );
                round.pause = Some(wait);
                break;
            }
        }
        Ok(round)
    }
}

/// Counts each scorer the chain moved past, by why (`refused`, `rate_limited`, …).
fn count_skips(scored: &Scored) {
    for skip in &scored.skipped {
        metrics::counter!("stock_api_sentiment_scores_total", "scorer" => skip.identity.scorer.clone(), "outcome" => skip.error.kind())
            .increment(1);
    }
}

/// The longest `Retry-After` among the chain's rate-limited skips, bounded.
fn rate_limit_wait(scored: &Scored) -> Option<Duration> {
    scored
        .skipped
        .iter()
        .filter_map(|skip| match skip.error {
            ScoreError::RateLimited {
                retry_after: Some(wait),
                ..
            } => Some(wait.min(MAX_RATE_LIMIT_PAUSE)),
            _ => None,
        })
        .max()
}

/// The chain's answer for `article` as the store keeps it.
fn stored_score(
    article: &StoredArticle,
    scored: &Scored,
    at: DateTime<Utc>,
) -> Result<ArticleScore, ServiceError> {
    let score = domain::SignalScore::new(scored.score.score).map_err(|err| {
        ServiceError::Store(store::StoreError::Corrupt(format!(
            "{} answered a score outside [-1, 1]: {err}",
            scored.identity
        )))
    })?;
    Ok(ArticleScore {
        article: article.id,
        key: score_key(&scored.identity),
        score,
        label: Some(scored.score.label.as_str().to_owned()),
        relevance: scored
            .score
            .relevance
            .iter()
            .map(|r| SymbolRelevance {
                symbol: r.symbol,
                relevance: r.relevance,
            })
            .collect(),
        rationale: Some(scored.score.rationale.clone()),
        scored_at: at,
    })
}

/// A budget ledger over the store's provider usage counts: an LLM's calls per UTC day survive
/// a restart and are shared by the replicas on one database. Each budget's provider key
/// (`llm:openai`, `llm:gemini`) keeps it apart from the market-data providers' quotas.
#[derive(Clone)]
pub struct StoreLedger(Arc<dyn ProviderUsage>);

impl StoreLedger {
    /// The ledger over `usage` (the store).
    pub fn new(usage: Arc<dyn ProviderUsage>) -> Self {
        Self(usage)
    }
}

impl std::fmt::Debug for StoreLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreLedger")
    }
}

#[async_trait]
impl BudgetLedger for StoreLedger {
    async fn record_call(&self, provider: &str, at: DateTime<Utc>) -> Result<u64, LedgerError> {
        self.0
            .record_provider_calls(provider, 1, at)
            .await
            .map(|counts| counts.day_calls)
            .map_err(|err| LedgerError(err.to_string()))
    }

    async fn calls_on(&self, provider: &str, at: DateTime<Utc>) -> Result<u64, LedgerError> {
        self.0
            .provider_usage(provider, at)
            .await
            .map(|counts| counts.day_calls)
            .map_err(|err| LedgerError(err.to_string()))
    }
}
