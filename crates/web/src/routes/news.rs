//! `/v1/stocks/{symbol}/news`, `/v1/news` and `/v1/stocks/{symbol}/sentiment`: stored news
//! articles (a symbol's, or a search over all of them) and a symbol's daily sentiment with the
//! citations behind each number.
//!
//! The handlers parse the wire shapes (`from` as a date or an instant, the comma-separated
//! `symbols`, the opaque cursor) and render; bounds and the "news is off" answer are the
//! service's (`service::news`). Article lists page newest first: `next_cursor` is the key of
//! the last article shown.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Symbol, new_york};
use serde::{Deserialize, Serialize};
use service::news::{NewsList, NewsSearch};
use store::{ArticleId, NewsKey, StoredArticle};
use utoipa::{IntoParams, ToSchema};

use super::page::{PageQuery, encode_cursor, time_key};
use super::window::parse_date;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};
use crate::limits::PublicRead;

/// The cursor list name of news pages (a cursor of another list is refused).
const NEWS_LIST: &str = "news";

/// The problem answers of the news routes, for the OpenAPI document.
#[derive(Debug, utoipa::IntoResponses)]
pub enum NewsErrors {
    /// A malformed symbol, `from`, `limit`, `cursor`, `symbols`, `q` or `days`.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(#[to_schema] Problem),
    /// News is off (type `news-off`): no news source is configured and no article is stored;
    /// the detail says how to turn it on (`[news] sources` / `STOCKD_NEWS__SOURCES`). Also the
    /// answer when the `news` feature is disabled here (type `feature-disabled`).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] Problem),
    /// This client sent too many reads; `Retry-After` says when to come back.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(#[to_schema] Problem),
    /// The database did not answer.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(#[to_schema] Problem),
}

/// A stored news article.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 412, "title": "Microsoft raises its dividend 10%",
    "summary": "The board approved a quarterly dividend of $0.91 per share.",
    "url": "https://www.example.com/markets/msft-dividend", "publisher": "Example Wire",
    "source": "finnhub", "published_at": "2026-12-02T21:05:00Z",
    "first_seen_at": "2026-12-02T21:30:02Z", "simulated": false, "symbols": ["MSFT"]
}))]
pub struct ArticleResponse {
    pub id: i64,
    pub title: String,
    /// Plain text, bounded.
    pub summary: String,
    /// The canonical URL the article is stored under.
    pub url: String,
    /// Who published it, when the source says.
    pub publisher: Option<String>,
    /// The news source that delivered it first (`finnhub`, `newsapi`, `alphavantage`,
    /// `polygon`, `rss`, `sim`).
    pub source: String,
    pub published_at: DateTime<Utc>,
    /// When stockd first stored it.
    pub first_seen_at: DateTime<Utc>,
    /// True for articles the `sim` source invented (demos and tests).
    pub simulated: bool,
    /// Every symbol the article concerns.
    #[schema(value_type = Vec<String>)]
    pub symbols: Vec<Symbol>,
}

impl From<StoredArticle> for ArticleResponse {
    fn from(article: StoredArticle) -> Self {
        Self {
            id: article.id.0,
            title: article.title,
            summary: article.summary,
            url: article.url.as_str().to_owned(),
            publisher: article.publisher,
            source: article.provider,
            published_at: article.published_at,
            first_seen_at: article.first_seen_at,
            simulated: article.simulated,
            symbols: article.symbols,
        }
    }
}

/// One page of articles, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewsResponse {
    pub count: usize,
    pub articles: Vec<ArticleResponse>,
    /// The `cursor` of the next (older) page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl From<NewsList> for NewsResponse {
    fn from(list: NewsList) -> Self {
        Self {
            count: list.articles.len(),
            articles: list.articles.into_iter().map(Into::into).collect(),
            next_cursor: list
                .next
                .map(|key| encode_cursor(NEWS_LIST, &time_key(key.published_at, key.id.0))),
        }
    }
}

/// `?from=&limit=&cursor=` of a symbol's news.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SymbolNewsQuery {
    /// Articles published on or after this day, `YYYY-MM-DD` (from its midnight in New York).
    /// Default: any time.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    from: Option<String>,
    /// At most this many articles (1 to 100; default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Where to go on from: the `next_cursor` of the page before. Absent: the newest page.
    cursor: Option<String>,
}

/// A symbol's stored news, newest first.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/news", tag = "news",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), SymbolNewsQuery),
    responses((status = 200, description = "One page of the symbol's articles", body = NewsResponse), NewsErrors))]
pub async fn symbol_news(
    State(state): State<AppState>,
    _read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<SymbolNewsQuery>,
) -> Result<Json<NewsResponse>, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let from = query.from.as_deref().map(parse_from).transpose()?;
    let after = parse_cursor(query.cursor)?;
    let list = state
        .service()
        .symbol_news(symbol, from, query.limit, after)
        .await?;
    Ok(Json(list.into()))
}

/// `?symbols=&q=&from=&limit=&cursor=` of a news search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchNewsQuery {
    /// Articles concerning any of these tickers, comma-separated (at most 20). Default: any.
    #[param(example = "MSFT,AAPL")]
    symbols: Option<String>,
    /// Words that must all appear in the title or summary (stemmed full-text search; at most
    /// 200 characters, at least one letter or digit).
    #[param(pattern = "[0-9A-Za-z]", max_length = 200, example = "dividend")]
    q: Option<String>,
    /// Articles published on or after this day, `YYYY-MM-DD` (from its midnight in New York).
    #[param(value_type = Option<String>, format = Date, example = "2026-11-01")]
    from: Option<String>,
    /// At most this many articles (1 to 100; default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the page before. Absent: the newest page.
    cursor: Option<String>,
}

/// Stored news of any symbol, searched by symbols, words and time, newest first.
#[utoipa::path(get, path = "/v1/news", tag = "news",
    params(SearchNewsQuery),
    responses((status = 200, description = "One page of matching articles", body = NewsResponse), NewsErrors))]
pub async fn search_news(
    State(state): State<AppState>,
    _read: PublicRead,
    ApiQuery(query): ApiQuery<SearchNewsQuery>,
) -> Result<Json<NewsResponse>, ApiError> {
    let symbols = match query.symbols.as_deref() {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                Symbol::parse(part).map_err(|err| {
                    ApiError::BadRequest(format!(
                        "symbols: {err} (give tickers separated by commas, e.g. MSFT,AAPL)"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let search = NewsSearch {
        symbols,
        text: query.q,
        from: query.from.as_deref().map(parse_from).transpose()?,
    };
    let after = parse_cursor(query.cursor)?;
    let list = state
        .service()
        .search_news(search, query.limit, after)
        .await?;
    Ok(Json(list.into()))
}

/// `from`, a date, as the instant its New York day begins.
fn parse_from(text: &str) -> Result<DateTime<Utc>, ApiError> {
    let day: NaiveDate = parse_date("from", text)?;
    Ok(new_york::midnight(day))
}

/// The key a news cursor names.
fn parse_cursor(cursor: Option<String>) -> Result<Option<NewsKey>, ApiError> {
    let page = PageQuery {
        limit: None,
        cursor,
    };
    Ok(page.after::<i64>(NEWS_LIST)?.map(|after| NewsKey {
        published_at: after.created_at,
        id: ArticleId(after.id),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_is_the_new_york_midnight_of_its_date() {
        assert_eq!(
            parse_from("2026-12-01").unwrap(),
            "2026-12-01T05:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(parse_from("yesterday").is_err());
    }
}
