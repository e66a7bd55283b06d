//! [`ScorerChain`]: scorers tried in order, the lexicon last, so scoring always answers.

use std::sync::Arc;

use domain::Symbol;

use crate::budget::DailyBudget;
use crate::lexicon::LexiconScorer;
use crate::score::{Score, ScorerIdentity};
use crate::text::ArticleText;
use crate::{ScoreError, Scorer};

/// The answer of a chain: the score, who gave it, and who failed before.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: Score,
    /// The scorer that answered; the article records it.
    pub identity: ScorerIdentity,
    /// The scorers tried before it, each with why it gave no score.
    pub skipped: Vec<Skipped>,
}

/// A scorer the chain moved past.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub identity: ScorerIdentity,
    pub error: ScoreError,
}

/// Scorers in order of preference, ending with the lexicon (which never fails).
#[derive(Debug, Clone)]
pub struct ScorerChain {
    preferred: Vec<Arc<dyn Scorer>>,
    last: LexiconScorer,
}

impl ScorerChain {
    /// The chain of the lexicon alone: the offline default.
    pub fn lexicon_only() -> Self {
        Self::new(Vec::new(), LexiconScorer::new())
    }

    /// A chain trying `preferred` in order, then `last`.
    pub fn new(preferred: Vec<Arc<dyn Scorer>>, last: LexiconScorer) -> Self {
        Self { preferred, last }
    }

    /// Every scorer's identity, in the order they are tried.
    pub fn identities(&self) -> Vec<ScorerIdentity> {
        self.preferred
            .iter()
            .map(|scorer| scorer.identity())
            .chain([self.last.identity()])
            .collect()
    }

    /// Each scorer that spends a provider's calls, with its daily budget.
    pub fn budgets(&self) -> Vec<(ScorerIdentity, DailyBudget)> {
        self.preferred
            .iter()
            .filter_map(|scorer| Some((scorer.identity(), scorer.budget()?)))
            .collect()
    }

    /// The first answer among the scorers; the lexicon's when every other one fails.
    pub async fn score(&self, article: &ArticleText, symbols: &[Symbol]) -> Scored {
        let mut skipped = Vec::new();
        for scorer in &self.preferred {
            let identity = scorer.identity();
            match scorer.score(article, symbols).await {
                Ok(score) => {
                    return Scored {
                        score,
                        identity,
                        skipped,
                    };
                }
                Err(error) => {
                    tracing::info!(scorer = %identity, kind = error.kind(), %error, "sentiment scorer skipped");
                    skipped.push(Skipped { identity, error });
                }
            }
        }
        Scored {
            score: self.last.score_now(article, symbols),
            identity: self.last.identity(),
            skipped,
        }
    }
}
