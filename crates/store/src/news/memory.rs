//! News in memory, under one lock: the same contract as the databases (a batch is stored whole,
//! a score key is taken once). Text search matches whole lower-cased words, without the
//! databases' stemming.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use domain::news::ProviderSentiment;

use super::{
    ArticleId, ArticleScore, InsertedArticle, NewArticle, NewsCursor, NewsPage, NewsQuery,
    NewsStore, ScoreKey, StoredArticle, StoredProviderSentiment, bounded, capped, finite,
    search_terms,
};
use crate::{MemoryStore, StoreError};

#[derive(Debug, Default)]
struct Tables {
    /// By id; the symbols of each kept in its `symbols`, sorted.
    articles: BTreeMap<ArticleId, StoredArticle>,
    by_url: HashMap<String, ArticleId>,
    opinions: BTreeMap<(ArticleId, Symbol, String), ProviderSentiment>,
    cursors: HashMap<(String, Symbol), NewsCursor>,
    scores: BTreeMap<(ArticleId, ScoreKey), ArticleScore>,
}

impl Tables {
    /// Articles passing `keep`, newest first, one page.
    fn page(&self, page: NewsPage, keep: impl Fn(&StoredArticle) -> bool) -> Vec<StoredArticle> {
        let mut found: Vec<&StoredArticle> = self
            .articles
            .values()
            .filter(|a| page.before.is_none_or(|before| a.key() < before))
            .filter(|a| keep(a))
            .collect();
        found.sort_by_key(|a| std::cmp::Reverse(a.key()));
        found
            .into_iter()
            .take(bounded(page.limit) as usize)
            .cloned()
            .collect()
    }
}

/// The memory store's news tables.
#[derive(Debug, Default)]
pub(crate) struct MemoryNews(Mutex<Tables>);

impl MemoryNews {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether every term is a word of the article's title or summary.
fn has_words(article: &StoredArticle, terms: &[String]) -> bool {
    let text = format!("{} {}", article.title, article.summary).to_lowercase();
    let words: BTreeSet<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    terms.iter().all(|term| words.contains(term.as_str()))
}

#[async_trait]
impl NewsStore for MemoryStore {
    async fn insert_articles(
        &self,
        batch: &[NewArticle],
        seen_at: DateTime<Utc>,
    ) -> Result<Vec<InsertedArticle>, StoreError> {
        let mut tables = self.news.lock();
        let mut inserted = Vec::with_capacity(batch.len());
        for article in batch {
            let item = &article.item;
            let existing = tables.by_url.get(article.url.as_str()).copied();
            let id = existing.unwrap_or_else(|| {
                ArticleId(tables.articles.keys().next_back().map_or(1, |id| id.0 + 1))
            });
            let stored = tables.articles.entry(id).or_insert_with(|| StoredArticle {
                id,
                url: article.url.clone(),
                title: item.title.clone(),
                summary: item.summary.clone(),
                publisher: item.publisher.clone(),
                provider: item.provider.clone(),
                published_at: item.published_at,
                first_seen_at: seen_at,
                simulated: item.simulated,
                symbols: Vec::new(),
            });
            let mut linked = Vec::new();
            for symbol in &item.symbols {
                if let Err(at) = stored.symbols.binary_search(symbol) {
                    stored.symbols.insert(at, *symbol);
                    linked.push(*symbol);
                }
            }
            linked.sort();
            tables.by_url.insert(article.url.as_str().to_owned(), id);
            for opinion in &item.provider_sentiment {
                let stored = ProviderSentiment {
                    score: finite(opinion.score),
                    relevance: finite(opinion.relevance),
                    ..opinion.clone()
                };
                tables
                    .opinions
                    .insert((id, opinion.symbol, item.provider.clone()), stored);
            }
            inserted.push(InsertedArticle {
                id,
                new: existing.is_none(),
                linked,
            });
        }
        Ok(inserted)
    }

    async fn news_cursor(
        &self,
        provider: &str,
        symbol: Symbol,
    ) -> Result<Option<NewsCursor>, StoreError> {
        Ok(self
            .news
            .lock()
            .cursors
            .get(&(provider.to_owned(), symbol))
            .cloned())
    }

    async fn advance_news_cursor(&self, cursor: &NewsCursor) -> Result<bool, StoreError> {
        let mut tables = self.news.lock();
        let key = (cursor.provider.clone(), cursor.symbol);
        let newer = tables
            .cursors
            .get(&key)
            .is_none_or(|stored| stored.published_at < cursor.published_at);
        if newer {
            tables.cursors.insert(key, cursor.clone());
        }
        Ok(newer)
    }

    async fn symbol_news(
        &self,
        symbol: Symbol,
        from: Option<DateTime<Utc>>,
        page: NewsPage,
    ) -> Result<Vec<StoredArticle>, StoreError> {
        Ok(self.news.lock().page(page, |a| {
            a.symbols.contains(&symbol) && from.is_none_or(|from| a.published_at >= from)
        }))
    }

    async fn search_news(
        &self,
        query: &NewsQuery,
        page: NewsPage,
    ) -> Result<Vec<StoredArticle>, StoreError> {
        let terms = query.text.as_deref().map(search_terms);
        if terms.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let symbols = capped(&query.symbols);
        Ok(self.news.lock().page(page, |a| {
            (symbols.is_empty() || a.symbols.iter().any(|s| symbols.contains(s)))
                && terms.as_ref().is_none_or(|terms| has_words(a, terms))
                && query.from.is_none_or(|from| a.published_at >= from)
        }))
    }

    async fn insert_score(&self, score: &ArticleScore) -> Result<bool, StoreError> {
        let mut tables = self.news.lock();
        if !tables.articles.contains_key(&score.article) {
            // As the databases' foreign key refuses it.
            return Err(StoreError::Corrupt(format!(
                "news score of unknown article {}",
                score.article.0
            )));
        }
        let key = (score.article, score.key.clone());
        if tables.scores.contains_key(&key) {
            return Ok(false);
        }
        let mut score = score.clone();
        // As the SQL backends read their JSON object back: in symbol order.
        score.relevance.sort_by_key(|r| r.symbol);
        tables.scores.insert(key, score);
        Ok(true)
    }

    async fn article_scores(
        &self,
        articles: &[ArticleId],
        key: Option<&ScoreKey>,
    ) -> Result<Vec<ArticleScore>, StoreError> {
        let articles = capped(articles);
        Ok(self
            .news
            .lock()
            .scores
            .values()
            .filter(|s| articles.contains(&s.article) && key.is_none_or(|key| s.key == *key))
            .cloned()
            .collect())
    }

    async fn provider_sentiment(
        &self,
        articles: &[ArticleId],
    ) -> Result<Vec<StoredProviderSentiment>, StoreError> {
        let articles = capped(articles);
        Ok(self
            .news
            .lock()
            .opinions
            .iter()
            .filter(|((article, _, _), _)| articles.contains(article))
            .map(
                |((article, _, provider), sentiment)| StoredProviderSentiment {
                    article: *article,
                    provider: provider.clone(),
                    sentiment: sentiment.clone(),
                },
            )
            .collect())
    }

    async fn unscored_articles(
        &self,
        keys: &[ScoreKey],
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredArticle>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let tables = self.news.lock();
        Ok(tables.page(NewsPage::first(limit), |a| {
            a.published_at >= since
                && !keys
                    .iter()
                    .any(|key| tables.scores.contains_key(&(a.id, key.clone())))
        }))
    }
}
