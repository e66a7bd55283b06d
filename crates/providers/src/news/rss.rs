//! A keyless news source: one RSS 2.0, RSS 1.0 or Atom feed per symbol, from a configured URL
//! template such as `https://feeds.example.com/rss?s={symbol}`.
//!
//! Many finance sites publish a headline feed per ticker; which one to use is the operator's
//! choice, so only the template is configured. The feed is parsed with `feed-rs`; each entry
//! becomes a [`NewsItem`] with the feed's title as publisher, the entry's `published` (else
//! `updated`) time, its first alternate link as URL and its summary (else content) as plain
//! text. Entries without a time or a link are skipped: an article we cannot place in time or
//! point to is of no use. A body that is not a feed is `Upstream` ("malformed response"); an
//! HTTP 429 is `RateLimited`; any other non-2xx is `Upstream`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use domain::news::{NewsItem, plain_summary, plain_title};
use feed_rs::model::{Entry, Link};
use reqwest::StatusCode;

use crate::http::{self, Call};
use crate::news::{self, NewsSource};
use crate::{ProviderError, RateLimit};

/// The source name used in provenance, metrics and errors.
const NAME: &str = "rss";

/// The placeholder the URL template must contain.
pub const SYMBOL_PLACEHOLDER: &str = "{symbol}";

/// How long one call may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a symbol's feed is.
#[derive(Debug, Clone)]
pub struct RssConfig {
    /// An `http(s)` URL containing [`SYMBOL_PLACEHOLDER`], replaced by the percent-encoded symbol.
    pub url_template: String,
    /// The limit for one whole call (connect, headers and body).
    pub timeout: Duration,
}

/// Why an RSS URL template cannot be used; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RssConfigError {
    #[error(
        "the news feed URL template must contain {SYMBOL_PLACEHOLDER}, e.g. https://feeds.example.com/rss?s={{symbol}}"
    )]
    NoPlaceholder,
    #[error("the news feed URL template is not an http(s) URL: {0}")]
    NotHttpUrl(String),
}

/// Checks a feed URL template as [`Rss::new`] does (configuration checks it at load).
pub fn check_template(template: &str) -> Result<(), RssConfigError> {
    if !template.contains(SYMBOL_PLACEHOLDER) {
        return Err(RssConfigError::NoPlaceholder);
    }
    let sample = template.replace(SYMBOL_PLACEHOLDER, "MSFT");
    match reqwest::Url::parse(&sample) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        Ok(url) => Err(RssConfigError::NotHttpUrl(url.scheme().to_owned())),
        Err(error) => Err(RssConfigError::NotHttpUrl(error.to_string())),
    }
}

/// The RSS/Atom news source.
pub struct Rss {
    config: RssConfig,
    client: reqwest::Client,
}

impl Rss {
    /// Builds the source on a shared HTTP client, checking the template once here so a bad
    /// one fails at start, not on every fetch.
    pub fn new(config: RssConfig, client: reqwest::Client) -> Result<Self, RssConfigError> {
        check_template(&config.url_template)?;
        Ok(Self { config, client })
    }

    /// The feed URL of `symbol`.
    pub fn url_of(&self, symbol: Symbol) -> String {
        self.config
            .url_template
            .replace(SYMBOL_PLACEHOLDER, &percent_encode(symbol.as_str()))
    }
}

impl fmt::Debug for Rss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rss")
            .field("url_template", &self.config.url_template)
            .field("timeout", &self.config.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl NewsSource for Rss {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError> {
        let request = self
            .client
            .get(self.url_of(symbol))
            .header(
                reqwest::header::ACCEPT,
                "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8",
            )
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation: "news",
            symbol,
            secret: "",
        };
        let answer = http::send(request, call).await?;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::RateLimited {
                provider: NAME,
                detail: "HTTP 429 Too Many Requests".to_owned(),
                retry_after: answer.retry_after,
                limit: RateLimit::Unstated,
            });
        }
        if !answer.status.is_success() {
            return Err(ProviderError::Upstream {
                provider: NAME,
                detail: format!("HTTP {}", answer.status),
            });
        }
        let feed = feed_rs::parser::parse(answer.body.as_slice())
            .map_err(|error| http::malformed(NAME, error))?;
        let publisher = news::publisher(feed.title.as_ref().map(|title| title.content.as_str()));
        let items = feed
            .entries
            .into_iter()
            .filter_map(|entry| item(entry, symbol, publisher.clone()))
            .collect();
        Ok(news::finish(items, since, limit))
    }
}

fn item(entry: Entry, symbol: Symbol, publisher: Option<String>) -> Option<NewsItem> {
    let published_at = entry.published.or(entry.updated)?;
    let url = article_link(&entry.links)?.href.trim().to_owned();
    let summary = entry
        .summary
        .map(|text| text.content)
        .or_else(|| entry.content.and_then(|content| content.body))
        .unwrap_or_default();
    Some(NewsItem {
        title: plain_title(
            entry
                .title
                .map(|title| title.content)
                .as_deref()
                .unwrap_or_default(),
        ),
        url,
        publisher,
        published_at,
        summary: plain_summary(&summary),
        symbols: vec![symbol],
        provider: NAME.to_owned(),
        provider_sentiment: Vec::new(),
        simulated: false,
    })
}

/// The entry's link to the article: the first `alternate` (or unlabelled) one.
fn article_link(links: &[Link]) -> Option<&Link> {
    links
        .iter()
        .find(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .filter(|link| link.href.starts_with("http://") || link.href.starts_with("https://"))
}

/// `text` with everything but unreserved URL characters percent-encoded (`^GSPC` → `%5EGSPC`).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn config(template: &str) -> RssConfig {
        RssConfig {
            url_template: template.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    #[test]
    fn a_template_without_the_placeholder_or_not_http_is_refused() {
        let client = reqwest::Client::new();
        assert_eq!(
            Rss::new(config("https://feeds.example.com/rss"), client.clone()).unwrap_err(),
            RssConfigError::NoPlaceholder
        );
        assert!(matches!(
            Rss::new(config("file:///etc/{symbol}"), client.clone()),
            Err(RssConfigError::NotHttpUrl(_))
        ));
    }

    #[test]
    fn the_symbol_is_percent_encoded_into_the_template() {
        let rss = Rss::new(
            config("https://feeds.example.com/rss?s={symbol}&region=US"),
            reqwest::Client::new(),
        )
        .unwrap();
        assert_eq!(
            rss.url_of(Symbol::parse("^gspc").unwrap()),
            "https://feeds.example.com/rss?s=%5EGSPC&region=US"
        );
        assert_eq!(
            rss.url_of(Symbol::parse("BRK.B").unwrap()),
            "https://feeds.example.com/rss?s=BRK.B&region=US"
        );
    }
}
