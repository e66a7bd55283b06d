//! News reads: a symbol's articles, a search over every stored article, and (module
//! [`sentiment`]) a symbol's daily sentiment with the citations behind each number.
//!
//! Articles are written by the ingestion job and scored by the scoring worker; these use cases
//! only read. They own every bound of a news read (page sizes, how many symbols a search
//! takes, how long a text query may be, how many days of sentiment), so each interface only
//! parses its wire shapes (the HTTP edge: query strings and opaque cursors) and renders.
//!
//! With no news source configured ([`NewsSettings::enabled`] false) and nothing stored, a read
//! answers [`ServiceError::NewsOff`], which says how to turn news on; once articles are stored
//! (news was on before, or they were imported) they are served whatever the setting.

pub mod sentiment;

use chrono::{DateTime, Utc};
use domain::Symbol;
use store::{NewsKey, NewsPage, NewsQuery, ScoreKey, StoredArticle};

use crate::{Service, ServiceError};

/// Articles on a page when the caller gives no limit.
pub const DEFAULT_NEWS_LIMIT: u32 = 20;
/// The most articles one page holds.
pub const MAX_NEWS_LIMIT: u32 = 100;
/// The most symbols one search names.
pub const MAX_SEARCH_SYMBOLS: usize = 20;
/// The longest text query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// What the news reads are configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsSettings {
    /// True when at least one news source is configured (`[news] sources`,
    /// `STOCKD_NEWS__SOURCES`).
    pub enabled: bool,
}

/// The key the offline lexicon scorer (`sentiment::LexiconScorer`) stores its scores under.
pub fn lexicon_key() -> ScoreKey {
    use ::sentiment::Scorer;
    let identity = ::sentiment::LexiconScorer::new().identity();
    ScoreKey {
        scorer: identity.scorer,
        model: identity.model,
        prompt_version: identity.prompt_version,
    }
}

/// What the news off answer says to do.
pub const TURN_NEWS_ON: &str = "news is off: no news source is configured and no article is \
    stored. Configure one or more sources in order with `[news] sources = [\"finnhub\", \
    \"rss\"]` in the config file or STOCKD_NEWS__SOURCES=finnhub,rss in the environment (see the \
    README's News section for every source and its key)";

/// One page of articles, newest first, and where the next (older) page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct NewsList {
    pub articles: Vec<StoredArticle>,
    /// The key to pass as `after` for the next page; `None` on the last page.
    pub next: Option<NewsKey>,
}

/// What a news search asks for, as the caller gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsSearch {
    /// Articles concerning any of these; empty: any symbol.
    pub symbols: Vec<Symbol>,
    /// Words that must all appear in the title or summary.
    pub text: Option<String>,
    /// Published at or after.
    pub from: Option<DateTime<Utc>>,
}

impl Service {
    /// The news settings.
    pub fn news_settings(&self) -> &NewsSettings {
        &self.settings().news
    }

    /// The articles concerning `symbol` published at or after `from`, newest first: `limit`
    /// of them (default [`DEFAULT_NEWS_LIMIT`], at most [`MAX_NEWS_LIMIT`]) after `after` (the
    /// previous page's `next`).
    pub async fn symbol_news(
        &self,
        symbol: Symbol,
        from: Option<DateTime<Utc>>,
        limit: Option<u32>,
        after: Option<NewsKey>,
    ) -> Result<NewsList, ServiceError> {
        let limit = news_limit(limit)?;
        let rows = self
            .store()
            .symbol_news(symbol, from, page(after, limit))
            .await?;
        self.news_list(rows, limit).await
    }

    /// The articles matching `search`, newest first, paged as [`Service::symbol_news`].
    pub async fn search_news(
        &self,
        search: NewsSearch,
        limit: Option<u32>,
        after: Option<NewsKey>,
    ) -> Result<NewsList, ServiceError> {
        let limit = news_limit(limit)?;
        let query = news_query(search)?;
        let rows = self.store().search_news(&query, page(after, limit)).await?;
        self.news_list(rows, limit).await
    }

    /// `rows` (read with `limit + 1`) cut to a page; news off and nothing stored at all is
    /// [`ServiceError::NewsOff`].
    async fn news_list(
        &self,
        mut rows: Vec<StoredArticle>,
        limit: u32,
    ) -> Result<NewsList, ServiceError> {
        if rows.is_empty() {
            self.check_news_on().await?;
        }
        let next = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(StoredArticle::key)
        });
        Ok(NewsList {
            articles: rows,
            next: next.flatten(),
        })
    }

    /// [`ServiceError::NewsOff`] when no source is configured and no article is stored.
    pub(crate) async fn check_news_on(&self) -> Result<(), ServiceError> {
        if self.news_settings().enabled {
            return Ok(());
        }
        let any = self
            .store()
            .search_news(&NewsQuery::default(), NewsPage::first(1))
            .await?;
        if any.is_empty() {
            return Err(ServiceError::NewsOff(TURN_NEWS_ON.to_owned()));
        }
        Ok(())
    }
}

/// `limit` within `1..=MAX_NEWS_LIMIT`, [`DEFAULT_NEWS_LIMIT`] when absent.
fn news_limit(limit: Option<u32>) -> Result<u32, ServiceError> {
    match limit {
        None => Ok(DEFAULT_NEWS_LIMIT),
        Some(limit) if (1..=MAX_NEWS_LIMIT).contains(&limit) => Ok(limit),
        Some(limit) => Err(ServiceError::BadRequest(format!(
            "limit must be from 1 to {MAX_NEWS_LIMIT}, got {limit}"
        ))),
    }
}

/// One more row than the page holds, so the read tells whether a next page exists.
fn page(after: Option<NewsKey>, limit: u32) -> NewsPage {
    NewsPage {
        before: after,
        limit: limit + 1,
    }
}

/// The store's query for `search`, bounds checked.
fn news_query(search: NewsSearch) -> Result<NewsQuery, ServiceError> {
    let mut symbols = search.symbols;
    symbols.sort();
    symbols.dedup();
    if symbols.len() > MAX_SEARCH_SYMBOLS {
        return Err(ServiceError::BadRequest(format!(
            "symbols names {} symbols; a search takes at most {MAX_SEARCH_SYMBOLS}",
            symbols.len()
        )));
    }
    let text = match search.text {
        None => None,
        Some(text) => {
            let chars = text.chars().count();
            if chars > MAX_QUERY_CHARS {
                return Err(ServiceError::BadRequest(format!(
                    "q is {chars} characters long; at most {MAX_QUERY_CHARS}"
                )));
            }
            if store::search_terms(&text).is_empty() {
                return Err(ServiceError::BadRequest(
                    "q has no word to search for: give letters or digits, e.g. q=earnings \
                     guidance (every word must appear in the title or summary)"
                        .to_owned(),
                ));
            }
            Some(text)
        }
    };
    Ok(NewsQuery {
        symbols,
        text,
        from: search.from,
    })
}

#[cfg(test)]
mod tests;
