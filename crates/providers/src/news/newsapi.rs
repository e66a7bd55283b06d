//! NewsAPI: `GET /v2/everything?q=<symbol>&searchIn=title,description&sortBy=publishedAt`.
//!
//! NewsAPI searches words, not tickers, so `q` is the symbol itself, searched in titles and
//! descriptions (bodies mention tickers in passing too often). The key travels in the
//! `X-Api-Key` header, never in the URL. The free (Developer) plan allows 100 requests a day,
//! delays articles about a day and searches back about a month; the quota is the read path's.
//!
//! Refusals are `{"status":"error","code":…,"message":…}` with a real status code:
//!
//! | code                                              | error          |
//! |---------------------------------------------------|----------------|
//! | `apiKeyInvalid`, `apiKeyMissing`, `apiKeyDisabled` | `Unauthorized` |
//! | `rateLimited`, `apiKeyExhausted` (or HTTP 429)     | `RateLimited`  |
//! | `maximumResultsReached`, `parameterInvalid` naming the plan ("as far back as …") | `PremiumOnly` |
//! | anything else, or a non-JSON error                 | `Upstream`     |
//!
//! Reference: <https://newsapi.org/docs/endpoints/everything>, <https://newsapi.org/docs/errors>.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::Symbol;
use domain::news::{NewsItem, plain_summary, plain_title};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::http::{self, Answer, Call, quote_upstream};
use crate::news::{self, NewsSource};
use crate::{ProviderError, RateLimit};

/// The source name used in provenance, metrics, quotas and errors.
const NAME: &str = "newsapi";

/// Where NewsAPI serves its API.
pub const DEFAULT_BASE_URL: &str = "https://newsapi.org";

/// How long one call may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach NewsAPI.
#[derive(Debug, Clone)]
pub struct NewsApiConfig {
    /// The API key; sent as the `X-Api-Key` header and never logged.
    pub api_key: SecretString,
    /// Scheme and host without a path, e.g. [`DEFAULT_BASE_URL`]; tests point it at a mock.
    pub base_url: String,
    /// The limit for one whole call (connect, headers and body).
    pub timeout: Duration,
    /// A 2-letter language to restrict articles to (`en`), or all languages when `None`.
    pub language: Option<String>,
}

impl NewsApiConfig {
    /// A config for the public NewsAPI with the default timeout, English articles only.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            language: Some("en".to_owned()),
        }
    }
}

/// The NewsAPI news source.
pub struct NewsApi {
    config: NewsApiConfig,
    client: reqwest::Client,
}

impl NewsApi {
    /// Builds the source on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: NewsApiConfig, client: reqwest::Client) -> Self {
        Self { config, client }
    }
}

impl fmt::Debug for NewsApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewsApi")
            .field("base_url", &self.config.base_url)
            .field("timeout", &self.config.timeout)
            .field("api_key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// An `everything` answer, or its refusal.
///
/// ```json
/// {"status": "ok", "totalResults": 2, "articles": [{"source": {"id": null, "name": "Example Wire"},
///   "author": "A. Writer", "title": "…", "description": "…", "url": "…",
///   "urlToImage": "…", "publishedAt": "2024-01-05T15:30:00Z", "content": "… [+2345 chars]"}]}
/// {"status": "error", "code": "apiKeyInvalid", "message": "Your API key is invalid …"}
/// ```
#[derive(Debug, Deserialize)]
struct Response {
    status: Option<String>,
    code: Option<String>,
    message: Option<String>,
    articles: Option<Vec<Article>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Article {
    source: Option<Source>,
    title: Option<String>,
    description: Option<String>,
    url: Option<String>,
    published_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Source {
    name: Option<String>,
}

#[async_trait]
impl NewsSource for NewsApi {
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
        let endpoint = format!(
            "{}/v2/everything",
            self.config.base_url.trim_end_matches('/')
        );
        let page_size = news::effective_limit(limit).to_string();
        let from = since.map(|since| since.to_rfc3339_opts(SecondsFormat::Secs, true));
        let mut query = vec![
            ("q", symbol.as_str()),
            ("searchIn", "title,description"),
            ("sortBy", "publishedAt"),
            ("pageSize", page_size.as_str()),
        ];
        if let Some(from) = &from {
            query.push(("from", from));
        }
        if let Some(language) = &self.config.language {
            query.push(("language", language));
        }
        let request = self
            .client
            .get(endpoint)
            .query(&query)
            .header("X-Api-Key", key)
            .timeout(self.config.timeout);
        let call = Call {
            provider: NAME,
            operation: "news",
            symbol,
            secret: key,
        };
        let answer = http::send(request, call).await?;
        let articles = classify(&answer, key)?;
        let items = articles
            .into_iter()
            .filter_map(|article| item(article, symbol))
            .collect();
        Ok(news::finish(items, since, limit))
    }
}

/// The articles of a successful answer, or the error the answer means.
fn classify(answer: &Answer, api_key: &str) -> Result<Vec<Article>, ProviderError> {
    let status = answer.status;
    match serde_json::from_slice::<Response>(&answer.body) {
        Ok(body) if status.is_success() && body.status.as_deref() == Some("ok") => body
            .articles
            .ok_or_else(|| http::malformed(NAME, "no 'articles' array")),
        Ok(body) if status.is_success() && body.status.as_deref() != Some("error") => {
            Err(http::malformed(NAME, "no 'status' of ok or error"))
        }
        Ok(body) => {
            let detail = body.message.map_or_else(
                || format!("HTTP {status}"),
                |message| quote_upstream(&message, api_key),
            );
            let code = body.code.unwrap_or_default();
            Err(refusal(&code, detail, status, answer.retry_after))
        }
        Err(error) if status.is_success() => Err(http::malformed(NAME, error)),
        Err(_) => Err(refusal(
            "",
            format!("HTTP {status}"),
            status,
            answer.retry_after,
        )),
    }
}

fn refusal(
    code: &str,
    detail: String,
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
) -> ProviderError {
    match code {
        "apiKeyInvalid" | "apiKeyMissing" | "apiKeyDisabled" => ProviderError::Unauthorized {
            provider: NAME,
            detail: format!("{detail} (get a key at https://newsapi.org/register)"),
        },
        "rateLimited" | "apiKeyExhausted" => rate_limited(detail, retry_after),
        "maximumResultsReached" => ProviderError::PremiumOnly {
            provider: NAME,
            detail,
        },
        "parameterInvalid" if detail.to_lowercase().contains("plan") => {
            ProviderError::PremiumOnly {
                provider: NAME,
                detail,
            }
        }
        _ if status == reqwest::StatusCode::TOO_MANY_REQUESTS => rate_limited(detail, retry_after),
        _ if status == reqwest::StatusCode::UNAUTHORIZED => ProviderError::Unauthorized {
            provider: NAME,
            detail,
        },
        "" => ProviderError::Upstream {
            provider: NAME,
            detail: format!("HTTP {status}: {detail}"),
        },
        code => ProviderError::Upstream {
            provider: NAME,
            detail: format!("{code}: {detail}"),
        },
    }
}

/// NewsAPI's free plan counts per day ("100 requests over a 24 hour period"); the message's
/// own wording decides, and a bare refusal waits for `Retry-After` or the read path's default.
fn rate_limited(detail: String, retry_after: Option<Duration>) -> ProviderError {
    let limit = match RateLimit::named_in(&detail) {
        RateLimit::Unstated if detail.contains("24 hour") => RateLimit::PerDay,
        limit => limit,
    };
    ProviderError::RateLimited {
        provider: NAME,
        detail,
        retry_after,
        limit,
    }
}

fn item(article: Article, symbol: Symbol) -> Option<NewsItem> {
    let published_at = DateTime::parse_from_rfc3339(article.published_at?.trim())
        .ok()?
        .with_timezone(&Utc);
    Some(NewsItem {
        title: plain_title(article.title.as_deref().unwrap_or_default()),
        url: article.url.unwrap_or_default().trim().to_owned(),
        publisher: news::publisher(article.source.and_then(|source| source.name).as_deref()),
        published_at,
        summary: plain_summary(article.description.as_deref().unwrap_or_default()),
        symbols: vec![symbol],
        provider: NAME.to_owned(),
        provider_sentiment: Vec::new(),
        simulated: false,
    })
}
