//! The `lexicon` scorer: VADER's rules (Hutto & Gilbert, 2014) implemented here, over the
//! VADER lexicon with stockd's finance lexicon on top.
//!
//! The lexicons are embedded: `data/vader_lexicon.txt` (the word and mean-valence columns of
//! the PyPI package vaderSentiment 3.3.2, MIT, licence in `data/LICENSE-VADER`) and
//! `data/finance_lexicon.tsv` (written for stockd). A finance entry overrides VADER's value for
//! the same word: VADER reads "share", "gross" or "liability" in their everyday sense. Finance
//! entries may be phrases of up to four words ("beats estimates", "cuts guidance"), matched
//! before single words, longest first, and then treated as one word by the rules.
//!
//! The rules, as in VADER: each word's valence, raised or lowered by up to three preceding
//! booster words ("very", "slightly"; ×0.95 and ×0.9 for the second and third), flipped and
//! damped (×-0.74) by a negation ("not", "n't", "never", …) within the three preceding words
//! and by "no" one or two words before, ALL-CAPS emphasis (±0.733 when some but not all words
//! are capitals), "least", the "but" shift (words before the first "but" ×0.5, after it ×1.5),
//! exclamation and question-mark emphasis, and the sum normalised as x/√(x²+15). VADER's
//! social-media idioms ("the bomb", "kiss of death") and emoji are left out: they do not occur
//! in financial news.
//!
//! The title and the summary are scored separately and combined 2:1 toward the title, since
//! the headline says what the article is about. Relevance per symbol: 1 when the ticker
//! (whole word, case-sensitive) or one of the symbol's company names (whole words, any case,
//! from [`LexiconScorer::with_company_names`]) appears in the title, 0.5 when only in the
//! summary, else 0.3 (the article was found for the symbol, so it is not unrelated).

mod rules;

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use domain::Symbol;

use crate::score::{Label, Relevance, Score, ScorerIdentity};
use crate::text::ArticleText;
use crate::{ScoreError, Scorer};

/// The lexicon scorer's model: the VADER lexicon's version plus the finance lexicon's.
pub const LEXICON_MODEL: &str = "vader-3.3.2+finance-1";
/// The version of the rules (the lexicon's "prompt version").
pub const LEXICON_RULES_VERSION: &str = "rules-1";

const NAME: &str = "lexicon";
const VADER: &str = include_str!("../../data/vader_lexicon.txt");
const FINANCE: &str = include_str!("../../data/finance_lexicon.tsv");

/// The longest finance phrase, in words.
const MAX_PHRASE_WORDS: usize = 4;
/// How many top-contributing terms the rationale names.
const RATIONALE_TERMS: usize = 3;
/// The title's weight against the summary's (1) when both have sentiment-bearing text.
const TITLE_WEIGHT: f64 = 2.0;

/// Relevance when the symbol or a company name is in the title.
const IN_TITLE: f64 = 1.0;
/// Relevance when it is only in the summary.
const IN_SUMMARY: f64 = 0.5;
/// Relevance when it is in neither.
const NOT_MENTIONED: f64 = 0.3;

/// Word (or phrase) → valence on VADER's -4..4 scale.
pub(crate) type Lexicon = HashMap<String, f64>;

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut lexicon = Lexicon::with_capacity(8_000);
    lexicon.extend(entries(VADER));
    lexicon.extend(entries(FINANCE));
    lexicon
});

/// The `term<TAB>valence` lines of `text`, skipping blank lines and `#` comments.
fn entries(text: &str) -> impl Iterator<Item = (String, f64)> + '_ {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (term, valence) = line.split_once('\t')?;
            Some((term.to_owned(), valence.trim().parse().ok()?))
        })
}

/// The offline scorer: deterministic, fast, never fails.
#[derive(Debug, Clone, Default)]
pub struct LexiconScorer {
    company_names: HashMap<Symbol, Vec<String>>,
}

impl LexiconScorer {
    /// A scorer that recognises symbols by their tickers only.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scorer that also recognises symbols by company names ("Apple" for AAPL) when judging
    /// relevance.
    pub fn with_company_names(company_names: HashMap<Symbol, Vec<String>>) -> Self {
        Self { company_names }
    }

    /// Scores `article` for `symbols` right away (the [`Scorer`] impl calls this).
    pub fn score_now(&self, article: &ArticleText, symbols: &[Symbol]) -> Score {
        let article = article.prepared();
        let title = rules::polarity(&LEXICON, &article.title);
        let summary = rules::polarity(&LEXICON, &article.summary);
        let score = match (title.has_sentiment(), summary.has_sentiment()) {
            (true, true) => {
                (TITLE_WEIGHT * title.compound + summary.compound) / (TITLE_WEIGHT + 1.0)
            }
            (true, false) => title.compound,
            (false, _) => summary.compound,
        };
        let mut terms: Vec<(String, f64)> = title.terms.into_iter().chain(summary.terms).collect();
        terms.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        let rationale = if terms.is_empty() {
            "no sentiment-bearing terms".to_owned()
        } else {
            terms
                .iter()
                .take(RATIONALE_TERMS)
                .map(|(term, valence)| format!("{term} ({valence:+.2})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let relevance = symbols
            .iter()
            .map(|symbol| Relevance {
                symbol: *symbol,
                relevance: self.relevance(symbol, &article.title, &article.summary),
            })
            .collect();
        Score {
            score,
            label: Label::from_score(score),
            relevance,
            rationale,
        }
    }

    fn relevance(&self, symbol: &Symbol, title: &str, summary: &str) -> f64 {
        let names = self
            .company_names
            .get(symbol)
            .map_or(&[][..], Vec::as_slice);
        let mentioned = |text: &str| {
            mentions_ticker(text, symbol.as_str())
                || names.iter().any(|name| mentions(text, name, false))
        };
        if mentioned(title) {
            IN_TITLE
        } else if mentioned(summary) {
            IN_SUMMARY
        } else {
            NOT_MENTIONED
        }
    }
}

/// Whether `ticker` occurs in `text` as a whole word, case-sensitive; a one-letter ticker
/// only as `$F` or `(F)`, since a lone capital is usually a word ("A", "I").
fn mentions_ticker(text: &str, ticker: &str) -> bool {
    if ticker.chars().count() > 1 {
        return mentions(text, ticker, true);
    }
    mentions(text, &format!("${ticker}"), true) || text.contains(&format!("({ticker})"))
}

/// Whether `needle` occurs in `text` as whole words (not inside a longer word).
fn mentions(text: &str, needle: &str, case_sensitive: bool) -> bool {
    if needle.is_empty() {
        return false;
    }
    let (text, needle) = if case_sensitive {
        (text.to_owned(), needle.to_owned())
    } else {
        (text.to_lowercase(), needle.to_lowercase())
    };
    let is_word_char = |c: char| c.is_alphanumeric();
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

#[async_trait]
impl Scorer for LexiconScorer {
    fn identity(&self) -> ScorerIdentity {
        ScorerIdentity {
            scorer: NAME.to_owned(),
            model: LEXICON_MODEL.to_owned(),
            prompt_version: LEXICON_RULES_VERSION.to_owned(),
        }
    }

    async fn score(&self, article: &ArticleText, symbols: &[Symbol]) -> Result<Score, ScoreError> {
        Ok(self.score_now(article, symbols))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn score(title: &str) -> f64 {
        LexiconScorer::new()
            .score_now(&ArticleText::new(title, ""), &[])
            .score
    }

    #[test]
    fn every_lexicon_line_parses() {
        let lines = |text: &str| {
            text.lines()
                .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
                .count()
        };
        assert_eq!(entries(VADER).count(), lines(VADER));
        assert_eq!(entries(FINANCE).count(), lines(FINANCE));
        assert!(lines(VADER) > 7_000);
    }

    #[test]
    fn finance_terms_override_everyday_senses() {
        assert_eq!(LEXICON.get("share"), Some(&0.0));
        assert_eq!(LEXICON.get("gross"), Some(&0.0));
        assert_eq!(
            score("Acme shares rise on gross margin report"),
            score("Acme rise")
        );
    }

    #[test]
    fn phrases_are_scored_as_one_term() {
        assert!(score("Acme beats estimates") > 0.4);
        assert!(score("Acme cuts guidance") < -0.4);
    }

    #[test]
    fn negation_flips_and_damps() {
        let plain = score("Acme results are good");
        let negated = score("Acme results are not good");
        assert!(plain > 0.0 && negated < 0.0, "{plain} {negated}");
        assert!(negated.abs() < plain.abs());
    }

    #[test]
    fn boosters_caps_and_exclamation_strengthen() {
        let plain = score("Acme results are good");
        assert!(score("Acme results are very good") > plain);
        assert!(score("Acme results are GOOD") > plain);
        assert!(score("Acme results are good!") > plain);
    }

    #[test]
    fn the_clause_after_but_dominates() {
        assert!(score("Revenue grew, but the outlook is terrible") < 0.0);
        assert!(score("Revenue fell, but the outlook is excellent") > 0.0);
    }

    #[test]
    fn relevance_depends_on_where_the_symbol_is_named() {
        let apple = Symbol::parse("AAPL").unwrap();
        let msft = Symbol::parse("MSFT").unwrap();
        let ibm = Symbol::parse("IBM").unwrap();
        let scorer = LexiconScorer::with_company_names(HashMap::from([(
            msft,
            vec!["Microsoft".to_owned()],
        )]));
        let article = ArticleText::new("AAPL rallies", "microsoft also gained; PINEAPPLE fell");
        let score = scorer.score_now(&article, &[apple, msft, ibm]);
        let relevance: Vec<f64> = score.relevance.iter().map(|r| r.relevance).collect();
        assert_eq!(relevance, [1.0, 0.5, 0.3]);
    }

    #[test]
    fn a_one_letter_ticker_counts_only_when_marked() {
        let ford = Symbol::parse("F").unwrap();
        let scorer = LexiconScorer::new();
        let relevance = |title: &str| {
            scorer
                .score_now(&ArticleText::new(title, ""), &[ford])
                .relevance[0]
                .relevance
        };
        assert_eq!(relevance("A quiet day for automakers"), 0.3);
        assert_eq!(relevance("F rallies"), 0.3);
        assert_eq!(relevance("Ford (F) rallies"), 1.0);
        assert_eq!(relevance("$F rallies"), 1.0);
    }

    #[test]
    fn the_rationale_names_the_strongest_terms() {
        let score = LexiconScorer::new()
            .score_now(&ArticleText::new("Acme plunges after fraud probe", ""), &[]);
        assert!(score.rationale.starts_with("fraud"), "{}", score.rationale);
        assert_eq!(score.label, Label::Bearish);
    }
}
