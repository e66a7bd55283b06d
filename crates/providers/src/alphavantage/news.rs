//! Alpha Vantage `NEWS_SENTIMENT`: articles about a ticker with Alpha Vantage's own sentiment.
//!
//! The same key, client and 25-per-day budget as its prices, so the source is the
//! [`AlphaVantage`] provider itself under the same name (one quota counter for both). Refusals
//! come as HTTP 200 bodies and are classified like the price calls' (`classify.rs`).
//!
//! Each article's `ticker_sentiment` entries become [`ProviderSentiment`]s (score, label,
//! relevance): a second opinion kept beside stockd's own scoring. Scores and relevances arrive
//! as strings (`"0.33"`), sometimes as numbers; either is read, anything else is dropped.
//! Times (`time_published`, `time_from`) are written `YYYYMMDDTHHMMSS` without a zone; like
//! every other Alpha Vantage time they are read as US Eastern (unverified against a live call).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::news::{NewsItem, ProviderSentiment, plain_summary, plain_title};
use domain::{Symbol, new_york};
use serde::Deserialize;

use super::wire::Refusal;
use super::{AlphaVantage, NAME, classify};
use crate::ProviderError;
use crate::news::{self, NewsSource};

/// A `NEWS_SENTIMENT` answer: a refusal, or the feed.
///
/// ```json
/// {"items": "1", "sentiment_score_definition": "…", "relevance_score_definition": "…",
///  "feed": [{"title": "…", "url": "…", "time_published": "20240105T153000",
///            "authors": ["A. Writer"], "summary": "…", "source": "Example Wire",
///            "overall_sentiment_score": 0.271, "overall_sentiment_label": "Somewhat-Bullish",
///            "ticker_sentiment": [{"ticker": "EXMP", "relevance_score": "0.81",
///              "ticker_sentiment_score": "0.33", "ticker_sentiment_label": "Somewhat-Bullish"}]}]}
/// ```
#[derive(Debug, Deserialize)]
struct NewsResponse {
    #[serde(flatten)]
    refusal: Refusal,
    feed: Option<Vec<Article>>,
}

#[derive(Debug, Deserialize)]
struct Article {
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    time_published: String,
    #[serde(default)]
    summary: String,
    source: Option<String>,
    #[serde(default)]
    ticker_sentiment: Vec<TickerSentiment>,
}

#[derive(Debug, Deserialize)]
struct TickerSentiment {
    #[serde(default)]
    ticker: String,
    #[serde(default)]
    relevance_score: Option<serde_json::Value>,
    #[serde(default)]
    ticker_sentiment_score: Option<serde_json::Value>,
    #[serde(default)]
    ticker_sentiment_label: Option<String>,
}

/// Alpha Vantage's time format, `20240105T153000` (seconds optional in `time_from`).
const TIME_FORMAT: &str = "%Y%m%dT%H%M%S";

#[async_trait]
impl NewsSource for AlphaVantage {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError> {
        let limit_text = news::effective_limit(limit).to_string();
        let time_from = since.map(|since| new_york::local(since).format("%Y%m%dT%H%M").to_string());
        let mut query = vec![
            ("tickers", symbol.as_str()),
            ("sort", "LATEST"),
            ("limit", limit_text.as_str()),
        ];
        if let Some(time_from) = &time_from {
            query.push(("time_from", time_from));
        }
        let response: NewsResponse = self.get("news", "NEWS_SENTIMENT", symbol, &query).await?;
        self.check_refusal(&response.refusal, symbol)?;
        let feed = response
            .feed
            .ok_or_else(|| classify::malformed("no 'feed' array"))?;
        let items = feed
            .into_iter()
            .filter_map(|article| item(article, symbol))
            .collect();
        Ok(news::finish(items, since, limit))
    }
}

fn item(article: Article, symbol: Symbol) -> Option<NewsItem> {
    let local = NaiveDateTime::parse_from_str(article.time_published.trim(), TIME_FORMAT).ok()?;
    let published_at = new_york::instant(local.date(), local.time());
    let provider_sentiment = article
        .ticker_sentiment
        .iter()
        .filter_map(|entry| {
            Some(ProviderSentiment {
                symbol: Symbol::parse(&entry.ticker).ok()?,
                score: number(entry.ticker_sentiment_score.as_ref()),
                label: entry
                    .ticker_sentiment_label
                    .as_deref()
                    .map(plain_title)
                    .filter(|label| !label.is_empty()),
                relevance: number(entry.relevance_score.as_ref()),
                reasoning: None,
            })
        })
        .collect();
    let tagged: Vec<String> = article
        .ticker_sentiment
        .into_iter()
        .map(|entry| entry.ticker)
        .collect();
    Some(NewsItem {
        title: plain_title(&article.title),
        url: article.url.trim().to_owned(),
        publisher: news::publisher(article.source.as_deref()),
        published_at,
        summary: plain_summary(&article.summary),
        symbols: news::symbols_with(symbol, tagged),
        provider: NAME.to_owned(),
        provider_sentiment,
        simulated: false,
    })
}

/// A finite number written as a JSON number or as a string.
fn number(value: Option<&serde_json::Value>) -> Option<f64> {
    let number = match value? {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }?;
    number.is_finite().then_some(number)
}
