//! What a scorer answers ([`Score`], [`Label`], [`Relevance`]) and who answered
//! ([`ScorerIdentity`]).

use std::fmt;

use domain::Symbol;
use serde::{Deserialize, Serialize};

/// Scores within this distance of zero are [`Label::Neutral`] when a label is derived from a
/// score (VADER's own ±0.05 convention).
pub const NEUTRAL_BAND: f64 = 0.05;

/// The polarity of an article for investors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Bearish,
    Neutral,
    Bullish,
}

impl Label {
    /// Every label, bearish first.
    pub const ALL: [Label; 3] = [Label::Bearish, Label::Neutral, Label::Bullish];

    /// The label of `score`: neutral within [`NEUTRAL_BAND`] of zero, else by its sign.
    pub fn from_score(score: f64) -> Self {
        if score > NEUTRAL_BAND {
            Label::Bullish
        } else if score < -NEUTRAL_BAND {
            Label::Bearish
        } else {
            Label::Neutral
        }
    }

    /// The label's wire name (`bearish`, `neutral`, `bullish`).
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Bearish => "bearish",
            Label::Neutral => "neutral",
            Label::Bullish => "bullish",
        }
    }

    /// The label named `text` (lowercase wire name).
    pub fn parse(text: &str) -> Option<Self> {
        Label::ALL.into_iter().find(|label| label.as_str() == text)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much an article is about one symbol, in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relevance {
    pub symbol: Symbol,
    pub relevance: f64,
}

/// One scorer's answer for one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// From -1 (very bearish) to 1 (very bullish).
    pub score: f64,
    pub label: Label,
    /// One entry per symbol asked about, in the order asked.
    pub relevance: Vec<Relevance>,
    /// Why: one bounded sentence from an LLM; the top contributing terms from the lexicon.
    pub rationale: String,
}

/// Who scored: the store scores an article once per identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScorerIdentity {
    /// `lexicon`, `openai` or `gemini`.
    pub scorer: String,
    /// The model asked (for the lexicon: the lexicon's version).
    pub model: String,
    /// The prompt version (for the lexicon: the version of its rules).
    pub prompt_version: String,
}

impl fmt::Display for ScorerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.scorer, self.model, self.prompt_version)
    }
}
