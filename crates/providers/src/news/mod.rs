//! News sources: recent articles about a symbol, as [`NewsItem`]s, behind one [`NewsSource`]
//! trait.
//!
//! Implementations:
//! - [`crate::finnhub::Finnhub`]: `GET /company-news` (same key and 60-per-minute budget as its
//!   quotes).
//! - [`newsapi::NewsApi`]: NewsAPI `GET /v2/everything` (free plan: 100 requests a day).
//! - [`crate::alphavantage::AlphaVantage`]: `NEWS_SENTIMENT`, whose per-ticker sentiment is kept
//!   as [`domain::news::ProviderSentiment`] (same key and 25-per-day budget as its prices).
//! - [`crate::polygon::Polygon`]: reference news (`/v2/reference/news`), whose `insights` are kept
//!   as provider sentiment.
//! - [`rss::Rss`]: a keyless RSS 2.0 / Atom feed per symbol from a configured URL template.
//! - [`sim::SimNews`]: invented, deterministic headlines, every one marked `simulated`; for demos
//!   and tests only.
//!
//! Like the market-data providers, a source only fetches and parses: every summary passes
//! through [`domain::news::plain_summary`] (markup dropped, length bounded), and failures are
//! classified into [`ProviderError`]. Retrying, breaking, quotas and storage are other crates'.

pub mod newsapi;
pub mod rss;
pub mod sim;

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use domain::news::NewsItem;

use crate::ProviderError;

/// The most articles any source returns from one call, whatever `limit` asks for.
pub const MAX_LIMIT: u32 = 100;

/// A source of recent news articles about a symbol.
#[async_trait]
pub trait NewsSource: Send + Sync + Debug {
    /// The source's stable name, used in [`NewsItem::provider`], metrics, quotas and config.
    /// A source that shares a key with a market-data provider has that provider's name, so
    /// both count against one quota.
    fn name(&self) -> &'static str;

    /// Up to `limit` (at most [`MAX_LIMIT`]) articles about `symbol`, newest first, published
    /// at or after `since` when given. No articles is `Ok(vec![])`, not an error.
    async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError>;
}

/// Orders `items` newest first, drops those before `since` and without a title or URL, and
/// keeps at most `limit` (capped at [`MAX_LIMIT`]): every source's common last step, so
/// callers can rely on the contract whatever the upstream honoured.
pub(crate) fn finish(
    mut items: Vec<NewsItem>,
    since: Option<DateTime<Utc>>,
    limit: u32,
) -> Vec<NewsItem> {
    items.retain(|item| {
        !item.title.is_empty()
            && !item.url.is_empty()
            && since.is_none_or(|since| item.published_at >= since)
    });
    items.sort_by_key(|item| std::cmp::Reverse(item.published_at));
    items.truncate(effective_limit(limit) as usize);
    items
}

/// `limit` capped at [`MAX_LIMIT`] and at least 1.
pub(crate) fn effective_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_LIMIT)
}

/// The symbols an article concerns: `asked` first, then those the provider tags that parse as
/// symbols, without repeats.
pub(crate) fn symbols_with(asked: Symbol, tagged: impl IntoIterator<Item = String>) -> Vec<Symbol> {
    let mut symbols = vec![asked];
    for text in tagged {
        if let Ok(symbol) = Symbol::parse(&text)
            && !symbols.contains(&symbol)
        {
            symbols.push(symbol);
        }
    }
    symbols
}

/// Publisher text made plain and bounded; `None` when empty.
pub(crate) fn publisher(raw: Option<&str>) -> Option<String> {
    let text = domain::news::plain_title(raw?);
    (!text.is_empty()).then_some(text)
}
