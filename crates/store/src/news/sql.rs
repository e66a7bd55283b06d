//! News in SQLite and PostgreSQL: one set of statements for both, stamped out per store type by
//! [`sql_news_store`]. What differs is the text match, named per backend below: SQLite's FTS5
//! table `news_fts` (kept in step with `news_articles` by triggers) against PostgreSQL's
//! generated `tsvector` column `search` (GIN-indexed). Both are given the same words
//! ([`search_terms`]), all required.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use sqlx::AssertSqlSafe;

use super::{
    ARTICLE_COLUMNS, ArticleId, ArticleRow, ArticleScore, CursorRow, InsertedArticle, LinkRow,
    NewArticle, NewsCursor, NewsPage, NewsQuery, NewsStore, OPINION_COLUMNS, OpinionRow,
    SCORE_COLUMNS, ScoreKey, ScoreRow, StoredArticle, StoredProviderSentiment, articles, bounded,
    capped, finite, relevance_json, search_terms,
};
use crate::{PostgresStore, SqliteStore, StoreError};

impl SqliteStore {
    /// The condition on `news_articles a` that its title or summary has every word of the FTS5
    /// query bound as `$n`.
    fn text_match(n: usize) -> String {
        format!("a.id in (select rowid from news_fts where news_fts match ${n})")
    }

    /// The FTS5 query of `terms`: each a quoted string (never syntax), all required.
    fn text_query(terms: &[String]) -> String {
        terms
            .iter()
            .map(|term| format!("\"{}\"", term.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl PostgresStore {
    /// The condition on `news_articles a` that its `search` vector has every word of the text
    /// bound as `$n` (`plainto_tsquery`: words only, all required, as on SQLite).
    fn text_match(n: usize) -> String {
        format!("a.search @@ plainto_tsquery('english', ${n})")
    }

    /// The text of `terms` for `plainto_tsquery`.
    fn text_query(terms: &[String]) -> String {
        terms.join(" ")
    }
}

/// `$from, $from+1, …`: `count` numbered parameters for an `in (…)` list.
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The order a batch's articles are written in: by URL (stable, so a URL repeated in the batch
/// is stored from its first delivery). Every writer takes the rows' locks in one order, so two
/// replicas storing the same articles in different orders wait for each other instead of
/// deadlocking (PostgreSQL would abort one of them); symbols and opinions are sorted likewise.
fn lock_order(batch: &[NewArticle]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by(|a, b| batch[*a].url.cmp(&batch[*b].url));
    order
}

/// `impl NewsStore for $store` over its `pool()` and `write_tx()`.
macro_rules! sql_news_store {
    ($store:ty) => {
        impl $store {
            /// Articles from their rows, with the symbols of each read in one more query.
            async fn with_symbols(
                &self,
                rows: Vec<ArticleRow>,
            ) -> Result<Vec<StoredArticle>, StoreError> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "select article_id, symbol from news_article_symbols \
                     where article_id in ({})",
                    placeholders(1, rows.len())
                );
                let mut query = sqlx::query_as::<_, LinkRow>(AssertSqlSafe(sql));
                for row in &rows {
                    query = query.bind(row.id);
                }
                let links = query.fetch_all(self.pool()).await?;
                articles(rows, links)
            }
        }

        #[async_trait]
        impl NewsStore for $store {
            async fn insert_articles(
                &self,
                batch: &[NewArticle],
                seen_at: DateTime<Utc>,
            ) -> Result<Vec<InsertedArticle>, StoreError> {
                let mut inserted = vec![None; batch.len()];
                let mut tx = self.write_tx().await?;
                for index in lock_order(batch) {
                    let article = &batch[index];
                    let item = &article.item;
                    let stored: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
                        "insert into news_articles (url, title, summary, publisher, provider, \
                         published_at, first_seen_at, simulated) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8) \
                         on conflict (url) do nothing returning id, published_at",
                    )
                    .bind(article.url.as_str())
                    .bind(&item.title)
                    .bind(&item.summary)
                    .bind(item.publisher.as_deref())
                    .bind(&item.provider)
                    .bind(item.published_at)
                    .bind(seen_at)
                    .bind(item.simulated)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let new = stored.is_some();
                    let (id, published_at) = match stored {
                        Some(row) => row,
                        // Stored before (by this batch, another source or another replica):
                        // its first delivery's fields stay.
                        None => {
                            sqlx::query_as(
                                "select id, published_at from news_articles where url = $1",
                            )
                            .bind(article.url.as_str())
                            .fetch_one(&mut *tx)
                            .await?
                        }
                    };
                    let mut symbols = item.symbols.clone();
                    symbols.sort();
                    symbols.dedup();
                    let mut linked = Vec::new();
                    for symbol in symbols {
                        let added = sqlx::query(
                            "insert into news_article_symbols (article_id, symbol, published_at) \
                             values ($1, $2, $3) on conflict (article_id, symbol) do nothing",
                        )
                        .bind(id)
                        .bind(symbol.as_str())
                        .bind(published_at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if added == 1 {
                            linked.push(symbol);
                        }
                    }
                    let mut opinions: Vec<_> = item.provider_sentiment.iter().collect();
                    opinions.sort_by_key(|opinion| opinion.symbol);
                    for opinion in opinions {
                        sqlx::query(
                            "insert into news_provider_sentiment (article_id, symbol, provider, \
                             score, label, relevance, reasoning) \
                             values ($1, $2, $3, $4, $5, $6, $7) \
                             on conflict (article_id, symbol, provider) do update set \
                             score = excluded.score, label = excluded.label, \
                             relevance = excluded.relevance, reasoning = excluded.reasoning",
                        )
                        .bind(id)
                        .bind(opinion.symbol.as_str())
                        .bind(&item.provider)
                        .bind(finite(opinion.score))
                        .bind(opinion.label.as_deref())
                        .bind(finite(opinion.relevance))
                        .bind(opinion.reasoning.as_deref())
                        .execute(&mut *tx)
                        .await?;
                    }
                    inserted[index] = Some(InsertedArticle {
                        id: ArticleId(id),
                        new,
                        linked,
                    });
                }
                tx.commit().await?;
                Ok(inserted.into_iter().flatten().collect())
            }

            async fn news_cursor(
                &self,
                provider: &str,
                symbol: Symbol,
            ) -> Result<Option<NewsCursor>, StoreError> {
                let row: Option<CursorRow> = sqlx::query_as(
                    "select provider, symbol, published_at, url from news_cursors \
                     where provider = $1 and symbol = $2",
                )
                .bind(provider)
                .bind(symbol.as_str())
                .fetch_optional(self.pool())
                .await?;
                row.map(NewsCursor::try_from).transpose()
            }

            async fn advance_news_cursor(&self, cursor: &NewsCursor) -> Result<bool, StoreError> {
                let moved = sqlx::query(
                    "insert into news_cursors (provider, symbol, published_at, url) \
                     values ($1, $2, $3, $4) on conflict (provider, symbol) do update set \
                     published_at = excluded.published_at, url = excluded.url \
                     where news_cursors.published_at < excluded.published_at",
                )
                .bind(&cursor.provider)
                .bind(cursor.symbol.as_str())
                .bind(cursor.published_at)
                .bind(cursor.url.as_str())
                .execute(self.pool())
                .await?
                .rows_affected();
                Ok(moved == 1)
            }

            async fn symbol_news(
                &self,
                symbol: Symbol,
                from: Option<DateTime<Utc>>,
                page: NewsPage,
            ) -> Result<Vec<StoredArticle>, StoreError> {
                let rows: Vec<ArticleRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {ARTICLE_COLUMNS} from news_article_symbols s \
                     join news_articles a on a.id = s.article_id \
                     where s.symbol = $1 and ($2 is null or s.published_at >= $2) \
                     and ($3 is null or (s.published_at, s.article_id) < ($3, $4)) \
                     order by s.published_at desc, s.article_id desc limit $5"
                )))
                .bind(symbol.as_str())
                .bind(from)
                .bind(page.before.map(|key| key.published_at))
                .bind(page.before.map(|key| key.id.0))
                .bind(i64::from(bounded(page.limit)))
                .fetch_all(self.pool())
                .await?;
                self.with_symbols(rows).await
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
                let mut sql = format!("select {ARTICLE_COLUMNS} from news_articles a where true");
                let mut next = 1;
                if !symbols.is_empty() {
                    sql.push_str(&format!(
                        " and exists (select 1 from news_article_symbols s \
                         where s.article_id = a.id and s.symbol in ({}))",
                        placeholders(next, symbols.len())
                    ));
                    next += symbols.len();
                }
                if terms.is_some() {
                    sql.push_str(" and ");
                    sql.push_str(&<$store>::text_match(next));
                    next += 1;
                }
                if query.from.is_some() {
                    sql.push_str(&format!(" and a.published_at >= ${next}"));
                    next += 1;
                }
                if page.before.is_some() {
                    sql.push_str(&format!(
                        " and (a.published_at, a.id) < (${next}, ${})",
                        next + 1
                    ));
                    next += 2;
                }
                sql.push_str(&format!(
                    " order by a.published_at desc, a.id desc limit ${next}"
                ));
                let mut select = sqlx::query_as::<_, ArticleRow>(AssertSqlSafe(sql));
                for symbol in symbols {
                    select = select.bind(symbol.as_str());
                }
                if let Some(terms) = &terms {
                    select = select.bind(<$store>::text_query(terms));
                }
                if let Some(from) = query.from {
                    select = select.bind(from);
                }
                if let Some(before) = page.before {
                    select = select.bind(before.published_at).bind(before.id.0);
                }
                let rows = select
                    .bind(i64::from(bounded(page.limit)))
                    .fetch_all(self.pool())
                    .await?;
                self.with_symbols(rows).await
            }

            async fn insert_score(&self, score: &ArticleScore) -> Result<bool, StoreError> {
                let stored = sqlx::query(
                    "insert into news_scores (article_id, scorer, model, prompt_version, score, \
                     label, relevance, rationale, scored_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     on conflict (article_id, scorer, model, prompt_version) do nothing",
                )
                .bind(score.article.0)
                .bind(&score.key.scorer)
                .bind(&score.key.model)
                .bind(&score.key.prompt_version)
                .bind(score.score.get())
                .bind(score.label.as_deref())
                .bind(relevance_json(&score.relevance))
                .bind(score.rationale.as_deref())
                .bind(score.scored_at)
                .execute(self.pool())
                .await?
                .rows_affected();
                Ok(stored == 1)
            }

            async fn article_scores(
                &self,
                articles: &[ArticleId],
                key: Option<&ScoreKey>,
            ) -> Result<Vec<ArticleScore>, StoreError> {
                let articles = capped(articles);
                if articles.is_empty() {
                    return Ok(Vec::new());
                }
                let mut sql = format!(
                    "select {SCORE_COLUMNS} from news_scores where article_id in ({})",
                    placeholders(1, articles.len())
                );
                if key.is_some() {
                    let n = articles.len();
                    sql.push_str(&format!(
                        " and scorer = ${} and model = ${} and prompt_version = ${}",
                        n + 1,
                        n + 2,
                        n + 3
                    ));
                }
                sql.push_str(" order by article_id, scorer, model, prompt_version");
                let mut select = sqlx::query_as::<_, ScoreRow>(AssertSqlSafe(sql));
                for article in articles {
                    select = select.bind(article.0);
                }
                if let Some(key) = key {
                    select = select
                        .bind(&key.scorer)
                        .bind(&key.model)
                        .bind(&key.prompt_version);
                }
                let rows = select.fetch_all(self.pool()).await?;
                rows.into_iter().map(ArticleScore::try_from).collect()
            }

            async fn provider_sentiment(
                &self,
                articles: &[ArticleId],
            ) -> Result<Vec<StoredProviderSentiment>, StoreError> {
                let articles = capped(articles);
                if articles.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "select {OPINION_COLUMNS} from news_provider_sentiment \
                     where article_id in ({}) order by article_id, symbol, provider",
                    placeholders(1, articles.len())
                );
                let mut select = sqlx::query_as::<_, OpinionRow>(AssertSqlSafe(sql));
                for article in articles {
                    select = select.bind(article.0);
                }
                let rows = select.fetch_all(self.pool()).await?;
                rows.into_iter()
                    .map(StoredProviderSentiment::try_from)
                    .collect()
            }

            async fn unscored_articles(
                &self,
                keys: &[ScoreKey],
                since: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<StoredArticle>, StoreError> {
                let keys = capped(keys);
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                // One `(scorer, model, prompt_version)` triple of placeholders per key, after
                // `since` ($1) and the limit ($2).
                let scored_by_any = (0..keys.len())
                    .map(|i| {
                        let n = 3 + 3 * i;
                        format!(
                            "(s.scorer = ${n} and s.model = ${} and s.prompt_version = ${})",
                            n + 1,
                            n + 2
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" or ");
                let mut select = sqlx::query_as::<_, ArticleRow>(AssertSqlSafe(format!(
                    "select {ARTICLE_COLUMNS} from news_articles a \
                     where a.published_at >= $1 and not exists (select 1 from news_scores s \
                       where s.article_id = a.id and ({scored_by_any})) \
                     order by a.published_at desc, a.id desc limit $2"
                )))
                .bind(since)
                .bind(i64::from(bounded(limit)));
                for key in keys {
                    select = select
                        .bind(&key.scorer)
                        .bind(&key.model)
                        .bind(&key.prompt_version);
                }
                let rows = select.fetch_all(self.pool()).await?;
                self.with_symbols(rows).await
            }
        }
    };
}

sql_news_store!(SqliteStore);
sql_news_store!(PostgresStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_queries_are_quoted_words_only() {
        let terms = search_terms("apple\" OR NEAR(beat) -x");
        assert_eq!(
            SqliteStore::text_query(&terms),
            "\"apple\" \"or\" \"near\" \"beat\" \"x\""
        );
        assert_eq!(PostgresStore::text_query(&terms), "apple or near beat x");
    }

    #[test]
    fn placeholders_are_numbered_from_where_they_start() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }
}
