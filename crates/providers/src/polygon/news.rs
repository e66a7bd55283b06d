//! Polygon reference news: `GET /v2/reference/news?ticker=&published_utc.gte=&limit=&order=desc`.
//!
//! The same key, client and 5-per-minute budget as Polygon's aggregates, so the source is the
//! [`Polygon`] provider itself under the same name. Refusals are classified like the
//! aggregates' (`classify.rs`: 401/403/429 and `{"status":"ERROR"}` bodies). Each article's
//! `insights` (sentiment and its reasoning per ticker) become [`ProviderSentiment`]s, a second
//! opinion beside stockd's own scoring. Only the first page is read (`next_url` is ignored):
//! one call per fetch keeps to the free plan's budget.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::Symbol;
use domain::news::{NewsItem, ProviderSentiment, plain_summary, plain_title};
use serde::Deserialize;

use super::{NAME, Polygon};
use crate::ProviderError;
use crate::news::{self, NewsSource};

/// A reference-news answer (its `status` is checked by `classify.rs` first).
///
/// ```json
/// {"results": [{"id": "…", "publisher": {"name": "Example Wire"}, "title": "…",
///   "author": "…", "published_utc": "2024-01-05T15:30:00Z", "article_url": "…",
///   "tickers": ["EXMP"], "description": "…",
///   "insights": [{"ticker": "EXMP", "sentiment": "positive", "sentiment_reasoning": "…"}]}],
///  "status": "OK", "request_id": "…", "next_url": "…"}
/// ```
#[derive(Debug, Deserialize)]
struct NewsResponse {
    #[serde(default)]
    results: Vec<Article>,
}

#[derive(Debug, Deserialize)]
struct Article {
    #[serde(default)]
    title: String,
    #[serde(default)]
    article_url: String,
    published_utc: Option<String>,
    publisher: Option<Publisher>,
    description: Option<String>,
    #[serde(default)]
    tickers: Vec<String>,
    #[serde(default)]
    insights: Vec<Insight>,
}

#[derive(Debug, Deserialize)]
struct Publisher {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Insight {
    #[serde(default)]
    ticker: String,
    sentiment: Option<String>,
    sentiment_reasoning: Option<String>,
}

#[async_trait]
impl NewsSource for Polygon {
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
        let since_text = since.map(|since| since.to_rfc3339_opts(SecondsFormat::Secs, true));
        let mut query = vec![
            ("ticker", symbol.as_str()),
            ("order", "desc"),
            ("sort", "published_utc"),
            ("limit", limit_text.as_str()),
        ];
        if let Some(since_text) = &since_text {
            query.push(("published_utc.gte", since_text));
        }
        let body: NewsResponse = self
            .get("/v2/reference/news", &query, "news", symbol)
            .await?;
        let items = body
            .results
            .into_iter()
            .filter_map(|article| item(article, symbol))
            .collect();
        Ok(news::finish(items, since, limit))
    }
}

fn item(article: Article, symbol: Symbol) -> Option<NewsItem> {
    let published_at = DateTime::parse_from_rfc3339(article.published_utc?.trim())
        .ok()?
        .with_timezone(&Utc);
    let provider_sentiment = article
        .insights
        .iter()
        .filter_map(|insight| {
            Some(ProviderSentiment {
                symbol: Symbol::parse(&insight.ticker).ok()?,
                score: None,
                label: insight
                    .sentiment
                    .as_deref()
                    .map(plain_title)
                    .filter(|label| !label.is_empty()),
                relevance: None,
                reasoning: insight
                    .sentiment_reasoning
                    .as_deref()
                    .map(plain_summary)
                    .filter(|reason| !reason.is_empty()),
            })
        })
        .collect();
    Some(NewsItem {
        title: plain_title(&article.title),
        url: article.article_url.trim().to_owned(),
        publisher: news::publisher(article.publisher.and_then(|p| p.name).as_deref()),
        published_at,
        summary: plain_summary(article.description.as_deref().unwrap_or_default()),
        symbols: news::symbols_with(symbol, article.tickers),
        provider: NAME.to_owned(),
        provider_sentiment,
        simulated: false,
    })
}
