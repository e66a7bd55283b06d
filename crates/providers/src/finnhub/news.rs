//! Finnhub company news: `GET /company-news?symbol=&from=YYYY-MM-DD&to=YYYY-MM-DD`.
//!
//! The same key, client and 60-per-minute budget as Finnhub's quotes, so the source is the
//! [`Finnhub`] provider itself under the same name. Refusals are the quotes' refusals
//! (`classify.rs`); an unknown symbol or a quiet week is `[]`. Finnhub filters by calendar day
//! only, so `since` is applied again to each article's `datetime` (UNIX seconds).
//! Reference: <https://finnhub.io/docs/api/company-news>.

use async_trait::async_trait;
use chrono::{DateTime, Days, Utc};
use domain::Symbol;
use domain::news::{NewsItem, plain_summary, plain_title};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Finnhub, NAME, classify};
use crate::ProviderError;
use crate::http::{self, Call};
use crate::news::{self, NewsSource};

/// How far back a call without `since` looks.
const DEFAULT_LOOKBACK_DAYS: u64 = 7;

/// One `/company-news` article.
///
/// ```json
/// {"category": "company", "datetime": 1704465000, "headline": "Apple supplier ...",
///  "id": 125938475, "image": "https://img.example/a.jpg", "related": "AAPL",
///  "source": "Example Wire", "summary": "...", "url": "https://news.example/a"}
/// ```
#[derive(Debug, Deserialize)]
struct Article {
    datetime: i64,
    #[serde(default)]
    headline: String,
    #[serde(default)]
    related: String,
    source: Option<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    url: String,
}

#[async_trait]
impl NewsSource for Finnhub {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError> {
        let key = self.config.api_key.expose_secret();
        let now = Utc::now();
        let from = since.unwrap_or_else(|| {
            now.checked_sub_days(Days::new(DEFAULT_LOOKBACK_DAYS))
                .unwrap_or(now)
        });
        let (from, to) = (from.date_naive().to_string(), now.date_naive().to_string());
        let endpoint = format!(
            "{}/company-news",
            self.config.base_url.trim_end_matches('/')
        );
        let request = self
            .client
            .get(endpoint)
            .query(&[("symbol", symbol.as_str()), ("from", &from), ("to", &to)])
            .header("X-Finnhub-Token", key)
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation: "news",
            symbol,
            secret: key,
        };
        let answer = http::send(request, call).await?;
        classify::status(&answer, key)?;
        let articles: Vec<Article> =
            serde_json::from_slice(&answer.body).map_err(|error| http::malformed(NAME, error))?;
        let items = articles
            .into_iter()
            .filter_map(|article| item(article, symbol))
            .collect();
        Ok(news::finish(items, since, limit))
    }
}

fn item(article: Article, symbol: Symbol) -> Option<NewsItem> {
    let published_at = DateTime::from_timestamp(article.datetime, 0)?;
    let tagged = article.related.split(',').map(|s| s.trim().to_owned());
    Some(NewsItem {
        title: plain_title(&article.headline),
        url: article.url.trim().to_owned(),
        publisher: news::publisher(article.source.as_deref()),
        published_at,
        summary: plain_summary(&article.summary),
        symbols: news::symbols_with(symbol, tagged.collect::<Vec<_>>()),
        provider: NAME.to_owned(),
        provider_sentiment: Vec::new(),
        simulated: false,
    })
}
