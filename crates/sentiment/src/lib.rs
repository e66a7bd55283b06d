//! News sentiment scorers behind one [`Scorer`] trait, and the [`ScorerChain`] that tries them
//! in order.
//!
//! This crate owns turning one article's text into a [`Score`]: a number in [-1, 1], a
//! [`Label`], a relevance in [0, 1] for each symbol asked about and a short rationale. Three
//! scorers exist:
//!
//! - [`LexiconScorer`] (`lexicon`): the offline default, VADER's rules over the VADER lexicon
//!   (MIT, `data/LICENSE-VADER`) with stockd's own finance terms on top; deterministic, never
//!   fails.
//! - [`OpenAiScorer`] (`openai`): any OpenAI-compatible Chat Completions server.
//! - [`GeminiScorer`] (`gemini`): Gemini's native `generateContent`.
//!
//! The two LLM scorers ask for structured output and validate it strictly; every way an answer
//! can be unusable is a [`ScoreError`], and the chain then asks the next scorer. Article text is
//! untrusted: it is stripped of HTML, bounded ([`ArticleText::prepared`]) and sent to a model
//! only as a JSON-encoded data field, never inside the instructions.
//!
//! It does not store anything, read configuration or the environment, or decide when articles
//! are scored: callers hand in article text and receive scores, with the [`ScorerIdentity`]
//! (scorer, model, prompt version) that the store keys "scored once" on.
//! [`labelled`] holds the hand-written labelled headline set and its metrics (accuracy,
//! macro-F1), shared by the tests and the benchmark.

mod budget;
mod chain;
mod error;
mod http;
pub mod labelled;
mod lexicon;
mod llm;
mod score;
mod text;

pub use budget::{BudgetLedger, BudgetStatus, DailyBudget, LedgerError, MemoryLedger};
pub use chain::{Scored, ScorerChain, Skipped};
pub use error::ScoreError;
pub use lexicon::{LEXICON_MODEL, LEXICON_RULES_VERSION, LexiconScorer};
pub use llm::gemini::{DEFAULT_BASE_URL as GEMINI_BASE_URL, GeminiConfig, GeminiScorer};
pub use llm::openai::{
    DEFAULT_BASE_URL as OPENAI_BASE_URL, OpenAiConfig, OpenAiScorer, ResponseFormat,
};
pub use llm::{MAX_RATIONALE_CHARS, PROMPT_VERSION, SYSTEM_INSTRUCTIONS};
pub use score::{Label, NEUTRAL_BAND, Relevance, Score, ScorerIdentity};
pub use text::{ArticleText, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS, PreparedArticle, strip_html};

use async_trait::async_trait;
use domain::Symbol;

/// Something that scores the sentiment of one article for some symbols.
#[async_trait]
pub trait Scorer: Send + Sync + std::fmt::Debug {
    /// Who answers: the scorer's name, its model and its prompt (or rules) version.
    ///
    /// An article is scored once per identity, so any change that can change answers must
    /// change the identity.
    fn identity(&self) -> ScorerIdentity;

    /// Scores `article` for `symbols`; the answer's relevance lists exactly `symbols`, in order.
    async fn score(&self, article: &ArticleText, symbols: &[Symbol]) -> Result<Score, ScoreError>;

    /// The daily call budget of scorers that spend a provider's calls (`None` otherwise).
    fn budget(&self) -> Option<DailyBudget> {
        None
    }
}
