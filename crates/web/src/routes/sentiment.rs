//! `/v1/stocks/{symbol}/sentiment?days=N`: a symbol's news sentiment per New York calendar
//! day, each number with the articles it was computed from (see `service::news::sentiment`
//! for the arithmetic).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Symbol;
use serde::{Deserialize, Serialize};
use service::news::sentiment::{Citation, Pending, SentimentDay, SymbolSentiment};
use store::{ScoreKey, StoredProviderSentiment};
use utoipa::{IntoParams, ToSchema};

use super::news::{ArticleResponse, NewsErrors};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::limits::PublicRead;

/// How a day's score is computed, stated in every answer.
const METHOD: &str = "relevance-weighted mean of the day's scored articles: sum(score * weight) / sum(weight); weight = the scorer's relevance of the article to the symbol, else the source's, else 0.5; a day is the New York calendar date of publication; unscored articles are pending and not counted";

/// `?days=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SentimentQuery {
    /// The last N New York calendar days, today included (1 to 90; default 30).
    #[param(minimum = 1, maximum = 90, example = 7)]
    days: Option<u32>,
}

/// Who scored an article: an article is scored once per (scorer, model, prompt version).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"scorer": "lexicon", "model": "vader-3.3.2+finance-1", "prompt_version": "rules-1"}))]
pub struct ScorerResponse {
    /// `lexicon`, `openai` or `gemini`.
    pub scorer: String,
    pub model: String,
    pub prompt_version: String,
}

impl From<&ScoreKey> for ScorerResponse {
    fn from(key: &ScoreKey) -> Self {
        Self {
            scorer: key.scorer.clone(),
            model: key.model.clone(),
            prompt_version: key.prompt_version.clone(),
        }
    }
}

/// A news source's own sentiment of an article for the symbol (Alpha Vantage's per-ticker
/// score), shown beside stockd's, never mixed into it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"source": "alphavantage", "score": 0.41, "label": "Bullish", "relevance": 0.9}))]
pub struct SourceSentimentResponse {
    pub source: String,
    /// The source's score (Alpha Vantage: -1 bearish … 1 bullish), when numeric.
    pub score: Option<f64>,
    /// The source's label as it wrote it.
    pub label: Option<String>,
    /// The source's relevance of the article to the symbol, 0 … 1.
    pub relevance: Option<f64>,
    pub reasoning: Option<String>,
}

impl From<StoredProviderSentiment> for SourceSentimentResponse {
    fn from(opinion: StoredProviderSentiment) -> Self {
        Self {
            source: opinion.provider,
            score: opinion.sentiment.score,
            label: opinion.sentiment.label,
            relevance: opinion.sentiment.relevance,
            reasoning: opinion.sentiment.reasoning,
        }
    }
}

/// One scored article behind a day's number.
#[derive(Debug, Serialize, ToSchema)]
pub struct CitationResponse {
    pub article: ArticleResponse,
    /// Our score, -1 (bearish) … 1 (bullish).
    pub score: f64,
    /// `bearish`, `neutral` or `bullish` (the scorer's label; from the score when none was
    /// stored).
    #[schema(example = "bullish")]
    pub label: &'static str,
    /// The article's weight in the day's mean, 0 … 1.
    pub weight: f64,
    /// Where the weight came from: `scorer` (its relevance to the symbol), `source` (the news
    /// source's relevance) or `default` (0.5).
    #[schema(example = "scorer")]
    pub weight_source: &'static str,
    pub scorer: ScorerResponse,
    /// Why, in the scorer's words.
    pub rationale: Option<String>,
    pub scored_at: DateTime<Utc>,
    /// The sources' own sentiment for the symbol, beside ours.
    pub source_sentiment: Vec<SourceSentimentResponse>,
}

impl From<Citation> for CitationResponse {
    fn from(citation: Citation) -> Self {
        Self {
            score: citation.score.score.get(),
            label: citation.polarity.as_str(),
            weight: citation.weight,
            weight_source: citation.weight_source.as_str(),
            scorer: (&citation.score.key).into(),
            rationale: citation.score.rationale,
            scored_at: citation.score.scored_at,
            source_sentiment: citation
                .source_sentiment
                .into_iter()
                .map(Into::into)
                .collect(),
            article: citation.article.into(),
        }
    }
}

/// An article of the day not scored yet (not counted).
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingResponse {
    pub article: ArticleResponse,
    pub source_sentiment: Vec<SourceSentimentResponse>,
}

impl From<Pending> for PendingResponse {
    fn from(pending: Pending) -> Self {
        Self {
            article: pending.article.into(),
            source_sentiment: pending
                .source_sentiment
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

/// One New York calendar day of a symbol's sentiment.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentDayResponse {
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// The relevance-weighted mean score, -1 … 1; `null` without scored articles (or when
    /// every weight is 0).
    pub score: Option<f64>,
    /// Scored articles counted.
    pub articles: usize,
    /// Articles not scored yet (listed in `pending_articles`, not counted).
    pub pending: usize,
    /// The sum of the counted articles' weights.
    pub weight: f64,
    /// Shares of the counted articles labelled bullish, bearish and neutral.
    pub bullish_share: f64,
    pub bearish_share: f64,
    pub neutral_share: f64,
    /// The counted articles, newest first.
    pub citations: Vec<CitationResponse>,
    pub pending_articles: Vec<PendingResponse>,
}

impl From<SentimentDay> for SentimentDayResponse {
    fn from(day: SentimentDay) -> Self {
        let sentiment = day.sentiment;
        Self {
            day: day.day,
            score: sentiment.score,
            articles: sentiment.articles,
            pending: day.pending.len(),
            weight: sentiment.weight,
            bullish_share: sentiment.bullish,
            bearish_share: sentiment.bearish,
            neutral_share: sentiment.neutral,
            citations: day.citations.into_iter().map(Into::into).collect(),
            pending_articles: day.pending.into_iter().map(Into::into).collect(),
        }
    }
}

/// A symbol's news sentiment per day.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Today in New York.
    #[serde(serialize_with = "crate::json::date")]
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// How each day's score is computed.
    pub method: &'static str,
    /// The scorers whose scores count, preferred first: an article counts with the first of
    /// these that scored it.
    pub scorers: Vec<ScorerResponse>,
    /// Every day of the range, oldest first.
    pub days: Vec<SentimentDayResponse>,
    /// True when the range held more articles than one answer reads (5000): the oldest were
    /// left out.
    pub truncated: bool,
}

impl From<SymbolSentiment> for SentimentResponse {
    fn from(answer: SymbolSentiment) -> Self {
        Self {
            symbol: answer.symbol,
            from: answer.from,
            to: answer.to,
            method: METHOD,
            scorers: answer.score_keys.iter().map(Into::into).collect(),
            days: answer.days.into_iter().map(Into::into).collect(),
            truncated: answer.truncated,
        }
    }
}

/// A symbol's news sentiment on each of the last N days, with every number's citations.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/sentiment", tag = "news",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), SentimentQuery),
    responses((status = 200, description = "The symbol's sentiment per New York day", body = SentimentResponse), NewsErrors))]
pub async fn symbol_sentiment(
    State(state): State<AppState>,
    _read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<SentimentQuery>,
) -> Result<Json<SentimentResponse>, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let answer = state.service().symbol_sentiment(symbol, query.days).await?;
    Ok(Json(answer.into()))
}
