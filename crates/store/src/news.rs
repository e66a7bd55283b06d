//! Stored news: articles once per canonical URL, the symbols each concerns, each source's
//! cursor, and sentiment scores written once per (article, scorer, model, prompt version).
//!
//! An article's key is its [`CanonicalUrl`]: a second delivery of the same article (another
//! source, another symbol's feed, a retry, another replica) links the symbols it names and
//! records that source's own sentiment, and never stores the article twice
//! ([`NewsStore::insert_articles`]). Ingestion is incremental: each (source, symbol) keeps the
//! newest article seen ([`NewsCursor`]), which only moves forward.
//!
//! Scores are keyed by article and [`ScoreKey`] (scorer, model, prompt version) in the database
//! itself: [`NewsStore::insert_score`] of a key that is already stored is a no-op that says so,
//! so a restart, a second replica or a retry never rescores (or overwrites) an article.
//!
//! Reads are newest first and bounded ([`MAX_NEWS_PER_READ`]), paged by keyset
//! ([`NewsKey`]: published time, then id). Text search covers title and summary with each
//! backend's own full-text search (SQLite FTS5 with the Porter stemmer, PostgreSQL `tsvector`
//! with the English configuration); both take the words of the query, all required
//! ([`search_terms`]).

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::news::{CanonicalUrl, CanonicalUrlError, NewsItem, ProviderSentiment, canonical_url};
use domain::{SignalScore, Symbol};

use crate::StoreError;
use crate::rows::stored_symbol;
pub(crate) use memory::MemoryNews;

/// The most articles (or scores) one read returns, and the most ids or symbols one read takes.
pub const MAX_NEWS_PER_READ: u32 = 500;

/// The most words of a text query that are searched for; the rest are ignored.
pub const MAX_SEARCH_TERMS: usize = 16;

/// A stored article's id (assigned by the database, increasing with insertion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ArticleId(pub i64);

/// An article to store: a source's [`NewsItem`] under its canonical URL.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArticle {
    pub url: CanonicalUrl,
    pub item: NewsItem,
}

impl NewArticle {
    /// The item under its canonical URL; refused when its URL cannot be an article's address.
    pub fn new(item: NewsItem) -> Result<Self, CanonicalUrlError> {
        Ok(Self {
            url: canonical_url(&item.url)?,
            item,
        })
    }
}

/// What storing one article of a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedArticle {
    pub id: ArticleId,
    /// True when this call stored the article; false when it was stored already.
    pub new: bool,
    /// The symbols this call linked to the article (none when all were linked already).
    pub linked: Vec<Symbol>,
}

/// A stored article with every symbol it concerns.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredArticle {
    pub id: ArticleId,
    pub url: CanonicalUrl,
    pub title: String,
    pub summary: String,
    pub publisher: Option<String>,
    /// The source that delivered it first.
    pub provider: String,
    pub published_at: DateTime<Utc>,
    /// When it was first stored.
    pub first_seen_at: DateTime<Utc>,
    pub simulated: bool,
    /// In symbol order.
    pub symbols: Vec<Symbol>,
}

impl StoredArticle {
    /// Where this article sorts in a newest-first read: the key to page on from.
    pub fn key(&self) -> NewsKey {
        NewsKey {
            published_at: self.published_at,
            id: self.id,
        }
    }
}

/// The sort key of newest-first reads: published time, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewsKey {
    pub published_at: DateTime<Utc>,
    pub id: ArticleId,
}

impl NewsKey {
    /// The key every article published before `at` sorts after: `before` it reads `[…, at)`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            published_at: at,
            id: ArticleId(i64::MIN),
        }
    }
}

/// One page of a newest-first read: the articles sorting after `before` (the last key of the
/// previous page; `None` for the first page), at most `limit` ([`MAX_NEWS_PER_READ`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewsPage {
    pub before: Option<NewsKey>,
    pub limit: u32,
}

impl NewsPage {
    /// The first page of `limit` articles.
    pub fn first(limit: u32) -> Self {
        Self {
            before: None,
            limit,
        }
    }
}

/// What a search asks for; every given part must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsQuery {
    /// Articles concerning any of these (at most [`MAX_NEWS_PER_READ`]); empty: any symbol.
    pub symbols: Vec<Symbol>,
    /// Words that must all appear in the title or summary ([`search_terms`]).
    pub text: Option<String>,
    /// Published at or after.
    pub from: Option<DateTime<Utc>>,
}

/// The newest article a source delivered for a symbol: where its next fetch starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsCursor {
    pub provider: String,
    pub symbol: Symbol,
    pub published_at: DateTime<Utc>,
    pub url: CanonicalUrl,
}

/// Who scored an article, with what: an article is scored once per key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ScoreKey {
    /// The scorer (`lexicon`, `llm`, …).
    pub scorer: String,
    /// The model or lexicon version it ran.
    pub model: String,
    /// The prompt (or rule set) version; a new prompt scores every article again.
    pub prompt_version: String,
}

/// A sentiment score of one article under one [`ScoreKey`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArticleScore {
    pub article: ArticleId,
    pub key: ScoreKey,
    /// -1 (bearish) … 1 (bullish).
    pub score: SignalScore,
    /// The scorer's label (`bearish`, `neutral`, `bullish`); `None` for scores stored before
    /// labels were kept.
    pub label: Option<String>,
    /// How relevant the article is to each symbol the scorer was asked about, in [0, 1], in
    /// symbol order; empty for scores stored before relevance was kept.
    pub relevance: Vec<SymbolRelevance>,
    /// Why, in the scorer's words (an LLM's reason, the lexicon's matched words).
    pub rationale: Option<String>,
    pub scored_at: DateTime<Utc>,
}

impl ArticleScore {
    /// The scorer's relevance of the article to `symbol`, if it was asked about it.
    pub fn relevance_to(&self, symbol: Symbol) -> Option<f64> {
        self.relevance
            .iter()
            .find(|r| r.symbol == symbol)
            .map(|r| r.relevance)
    }
}

/// How relevant an article is to one symbol, in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SymbolRelevance {
    pub symbol: Symbol,
    pub relevance: f64,
}

/// A source's own sentiment of an article, as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredProviderSentiment {
    pub article: ArticleId,
    /// The source that gave it.
    pub provider: String,
    pub sentiment: ProviderSentiment,
}

/// An article of a symbol with its score under one key (if scored yet) and the sources' own
/// sentiment for that symbol: the input of per-day sentiment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArticleSentiment {
    pub article: StoredArticle,
    pub score: Option<ArticleScore>,
    pub provider_sentiment: Vec<StoredProviderSentiment>,
}

/// Storage of news articles, source cursors and sentiment scores.
#[async_trait]
pub trait NewsStore: Send + Sync {
    /// Stores each article of `batch` once by canonical URL (the first delivery's fields are
    /// kept), links its symbols and records its source's own sentiment (the latest reading per
    /// article, symbol and source), all in one transaction. Returns, in batch order, each
    /// article's id, whether this call stored it, and the symbols it linked.
    async fn insert_articles(
        &self,
        batch: &[NewArticle],
        seen_at: DateTime<Utc>,
    ) -> Result<Vec<InsertedArticle>, StoreError>;

    /// The cursor of `provider` for `symbol`; `None` before its first article.
    async fn news_cursor(
        &self,
        provider: &str,
        symbol: Symbol,
    ) -> Result<Option<NewsCursor>, StoreError>;

    /// Moves the cursor of its provider and symbol to `cursor` when that is newer than the
    /// stored one (or none is stored); `false` when it was not newer, so the cursor never goes
    /// back (a late retry, a slower replica).
    async fn advance_news_cursor(&self, cursor: &NewsCursor) -> Result<bool, StoreError>;

    /// The articles concerning `symbol` published at or after `from`, newest first, one page.
    async fn symbol_news(
        &self,
        symbol: Symbol,
        from: Option<DateTime<Utc>>,
        page: NewsPage,
    ) -> Result<Vec<StoredArticle>, StoreError>;

    /// The articles matching `query`, newest first, one page. A text with no word to search
    /// for matches nothing.
    async fn search_news(
        &self,
        query: &NewsQuery,
        page: NewsPage,
    ) -> Result<Vec<StoredArticle>, StoreError>;

    /// Stores `score` unless its article already has a score under its key. `true` when this
    /// call stored it; `false` when another writer had (the stored score is kept). The key is
    /// unique in the database, so of concurrent writers exactly one stores.
    async fn insert_score(&self, score: &ArticleScore) -> Result<bool, StoreError>;

    /// The scores of `articles` (at most [`MAX_NEWS_PER_READ`] ids), under `key` or under every
    /// key, by article then key.
    async fn article_scores(
        &self,
        articles: &[ArticleId],
        key: Option<&ScoreKey>,
    ) -> Result<Vec<ArticleScore>, StoreError>;

    /// The sources' own sentiment of `articles` (at most [`MAX_NEWS_PER_READ`] ids), by
    /// article, symbol, then source.
    async fn provider_sentiment(
        &self,
        articles: &[ArticleId],
    ) -> Result<Vec<StoredProviderSentiment>, StoreError>;

    /// Articles published at or after `since` without a score under any of `keys`, newest
    /// first, at most `limit` ([`MAX_NEWS_PER_READ`]): the scoring work queue of a scorer chain
    /// (`keys` are its scorers' keys, so an article one of them answered for is done, even when
    /// a preferred scorer failed and a later one answered). No keys: nothing is queued.
    async fn unscored_articles(
        &self,
        keys: &[ScoreKey],
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredArticle>, StoreError>;

    /// The articles of `symbol` published in `[from, to)`, newest first, at most `limit`
    /// ([`MAX_NEWS_PER_READ`]), each with its score under the first of `keys` (in order of
    /// preference: a scorer chain's order) that scored it, and the sources' own sentiment for
    /// `symbol`.
    async fn symbol_sentiment(
        &self,
        symbol: Symbol,
        keys: &[ScoreKey],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ArticleSentiment>, StoreError> {
        let page = NewsPage {
            before: Some(NewsKey::at(to)),
            limit,
        };
        let articles = self.symbol_news(symbol, Some(from), page).await?;
        let ids: Vec<ArticleId> = articles.iter().map(|a| a.id).collect();
        let mut scores = self.article_scores(&ids, None).await?;
        scores.retain(|s| keys.contains(&s.key));
        // The preferred key first, so `position` below finds an article's preferred score.
        scores.sort_by_key(|s| keys.iter().position(|k| *k == s.key));
        let mut opinions = self.provider_sentiment(&ids).await?;
        opinions.retain(|o| o.sentiment.symbol == symbol);
        Ok(articles
            .into_iter()
            .map(|article| {
                let score = scores
                    .iter()
                    .position(|s| s.article == article.id)
                    .map(|at| scores.swap_remove(at));
                let provider_sentiment = opinions
                    .iter()
                    .filter(|o| o.article == article.id)
                    .cloned()
                    .collect();
                ArticleSentiment {
                    article,
                    score,
                    provider_sentiment,
                }
            })
            .collect())
    }
}

/// `limit` within `1..=MAX_NEWS_PER_READ`.
fn bounded(limit: u32) -> u32 {
    limit.clamp(1, MAX_NEWS_PER_READ)
}

/// At most [`MAX_NEWS_PER_READ`] of `items`: what a read takes of a longer list.
fn capped<T>(items: &[T]) -> &[T] {
    &items[..items.len().min(MAX_NEWS_PER_READ as usize)]
}

/// The words a text query searches for: runs of letters and digits, lower-cased, distinct, in
/// order, at most [`MAX_SEARCH_TERMS`]. Operators and quotes are not syntax, so no query can
/// fail to parse on either backend.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if !word.is_empty() && !terms.contains(&word) {
            terms.push(word);
            if terms.len() == MAX_SEARCH_TERMS {
                break;
            }
        }
    }
    terms
}

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("news {what}: {err}"))
}

/// The columns of an article row, as [`ArticleRow`] names them (the table is aliased `a`).
const ARTICLE_COLUMNS: &str = "a.id, a.url, a.title, a.summary, a.publisher, a.provider, \
                               a.published_at, a.first_seen_at, a.simulated";

/// A `news_articles` row selected with [`ARTICLE_COLUMNS`].
#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: i64,
    url: String,
    title: String,
    summary: String,
    publisher: Option<String>,
    provider: String,
    published_at: DateTime<Utc>,
    first_seen_at: DateTime<Utc>,
    simulated: bool,
}

impl ArticleRow {
    /// The stored article, with the symbols read for it.
    fn article(self, symbols: Vec<Symbol>) -> Result<StoredArticle, StoreError> {
        Ok(StoredArticle {
            id: ArticleId(self.id),
            url: CanonicalUrl::parse(&self.url).map_err(|err| corrupt("url", err))?,
            title: self.title,
            summary: self.summary,
            publisher: self.publisher,
            provider: self.provider,
            published_at: self.published_at,
            first_seen_at: self.first_seen_at,
            simulated: self.simulated,
            symbols,
        })
    }
}

/// A `news_article_symbols` row (`article_id, symbol`).
#[derive(sqlx::FromRow)]
struct LinkRow {
    article_id: i64,
    symbol: String,
}

/// Articles from their rows and every link row of them.
fn articles(rows: Vec<ArticleRow>, links: Vec<LinkRow>) -> Result<Vec<StoredArticle>, StoreError> {
    let mut links = links
        .into_iter()
        .map(|link| Ok((link.article_id, stored_symbol(&link.symbol)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    links.sort();
    rows.into_iter()
        .map(|row| {
            let symbols = links
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, symbol)| *symbol)
                .collect();
            row.article(symbols)
        })
        .collect()
}

/// The columns of a score row, as [`ScoreRow`] names them.
const SCORE_COLUMNS: &str =
    "article_id, scorer, model, prompt_version, score, label, relevance, rationale, scored_at";

/// A `news_scores` row selected with [`SCORE_COLUMNS`].
#[derive(sqlx::FromRow)]
struct ScoreRow {
    article_id: i64,
    scorer: String,
    model: String,
    prompt_version: String,
    score: f64,
    label: Option<String>,
    /// [`relevance_json`]'s object.
    relevance: String,
    rationale: Option<String>,
    scored_at: DateTime<Utc>,
}

/// The `relevance` column's text: a JSON object of symbol to relevance, in symbol order.
fn relevance_json(relevance: &[SymbolRelevance]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = relevance
        .iter()
        .map(|r| {
            (
                r.symbol.as_str().to_owned(),
                serde_json::Value::from(r.relevance),
            )
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// The relevance list of a `relevance` column's text.
fn relevance_of(text: &str) -> Result<Vec<SymbolRelevance>, StoreError> {
    let object: std::collections::BTreeMap<String, f64> =
        serde_json::from_str(text).map_err(|err| corrupt("relevance", err))?;
    object
        .into_iter()
        .map(|(symbol, relevance)| {
            Ok(SymbolRelevance {
                symbol: stored_symbol(&symbol)?,
                relevance,
            })
        })
        .collect()
}

impl TryFrom<ScoreRow> for ArticleScore {
    type Error = StoreError;

    fn try_from(row: ScoreRow) -> Result<Self, StoreError> {
        Ok(ArticleScore {
            article: ArticleId(row.article_id),
            key: ScoreKey {
                scorer: row.scorer,
                model: row.model,
                prompt_version: row.prompt_version,
            },
            score: SignalScore::new(row.score).map_err(|err| corrupt("score", err))?,
            label: row.label,
            relevance: relevance_of(&row.relevance)?,
            rationale: row.rationale,
            scored_at: row.scored_at,
        })
    }
}

/// The columns of a provider sentiment row, as [`OpinionRow`] names them.
const OPINION_COLUMNS: &str = "article_id, symbol, provider, score, label, relevance, reasoning";

/// A `news_provider_sentiment` row selected with [`OPINION_COLUMNS`].
#[derive(sqlx::FromRow)]
struct OpinionRow {
    article_id: i64,
    symbol: String,
    provider: String,
    score: Option<f64>,
    label: Option<String>,
    relevance: Option<f64>,
    reasoning: Option<String>,
}

impl TryFrom<OpinionRow> for StoredProviderSentiment {
    type Error = StoreError;

    fn try_from(row: OpinionRow) -> Result<Self, StoreError> {
        Ok(StoredProviderSentiment {
            article: ArticleId(row.article_id),
            provider: row.provider,
            sentiment: ProviderSentiment {
                symbol: stored_symbol(&row.symbol)?,
                score: row.score,
                label: row.label,
                relevance: row.relevance,
                reasoning: row.reasoning,
            },
        })
    }
}

/// A `news_cursors` row.
#[derive(sqlx::FromRow)]
struct CursorRow {
    provider: String,
    symbol: String,
    published_at: DateTime<Utc>,
    url: String,
}

impl TryFrom<CursorRow> for NewsCursor {
    type Error = StoreError;

    fn try_from(row: CursorRow) -> Result<Self, StoreError> {
        Ok(NewsCursor {
            provider: row.provider,
            symbol: stored_symbol(&row.symbol)?,
            published_at: row.published_at,
            url: CanonicalUrl::parse(&row.url).map_err(|err| corrupt("cursor url", err))?,
        })
    }
}

/// A number the database stores only when finite (NaN and infinities are not a reading).
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_are_distinct_lower_cased_words_and_never_syntax() {
        assert_eq!(
            search_terms("Apple \"EARNINGS\" -beat OR apple* NEAR(x)"),
            ["apple", "earnings", "beat", "or", "near", "x"]
        );
        assert!(search_terms(" !!! \"\" ").is_empty());
        assert_eq!(search_terms("Société Générale"), ["société", "générale"]);
        let many: String = (0..40).map(|i| format!("w{i} ")).collect();
        assert_eq!(search_terms(&many).len(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn reads_are_bounded() {
        assert_eq!(bounded(0), 1);
        assert_eq!(bounded(u32::MAX), MAX_NEWS_PER_READ);
        assert_eq!(capped(&vec![0; 10_000]).len(), MAX_NEWS_PER_READ as usize);
    }
}
