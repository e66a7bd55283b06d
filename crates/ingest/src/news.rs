//! News ingestion: each symbol's recent articles, fetched from where every source stopped and
//! stored once.
//!
//! A news run is a group of [`JobKind::News`] jobs on the same queue as the end-of-day jobs (the
//! same workers, leases, retries and backoff), one batch of tracked symbols (the operator's list
//! and every watchlist's) per job. Its group names the schedule slot (`news:2026-12-03T15:30Z`),
//! so the schedulers of several replicas firing for the same slot enqueue it once.
//!
//! For each symbol ([`Ingestor::ingest_symbol_news`]):
//!
//! 1. every configured source's cursor for the symbol is read; a source is asked from its own
//!    cursor (inclusive), or from `lookback` ago when it has none;
//! 2. the sources are asked in order through the read path ([`Market::news_since`]: breakers,
//!    quotas, pauses and retries shared with the same vendor's market data), the first to answer
//!    wins;
//! 3. an item whose URL cannot be canonicalised is skipped and counted (`rejected`), never a
//!    failure;
//! 4. the rest are stored in one transaction ([`store::NewsStore::insert_articles`]: once per
//!    canonical URL, so an article already stored is a `duplicate`);
//! 5. only then the answering source's cursor moves to its newest stored item. A crash between
//!    4 and 5 re-delivers those items on the next run, and step 4 stores none of them twice.
//!
//! A source answers at most `limit` articles, newest first: when more than that appeared since
//! the cursor, the older ones of the gap are not fetched (news is read by recency; a shorter
//! schedule or a larger limit closes the gap).
//!
//! [`Market::news_since`]: market::Market::news_since

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::Symbol;
use market::{MarketError, Purpose};
use store::{JobKind, NewArticle, NewsCursor, StoreError};

use crate::{Enqueued, Ingestor};

/// How news is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsIngestConfig {
    /// Articles asked of a source per symbol and fetch (sources cap it at
    /// [`providers::news::MAX_LIMIT`]).
    pub limit: u32,
    /// How far back a source with no cursor for a symbol is read on its first fetch.
    pub lookback: Duration,
}

impl Default for NewsIngestConfig {
    fn default() -> Self {
        Self {
            limit: 50,
            lookback: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

/// What a news job attempt stored: what the scoring side needs to wake up for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsIngested {
    /// The symbols that got at least one new article, in job order.
    pub symbols: Vec<Symbol>,
    /// Articles stored for the first time.
    pub new_articles: u64,
}

/// Work done once a news job attempt has stored new articles (the binary announces them on
/// the bus, so the sentiment scorer wakes up).
#[async_trait]
pub trait AfterNews: Send + Sync + Debug {
    /// Called once per finished news job attempt that stored at least one new article. The hook
    /// logs its own failures; ingestion goes on whatever it does.
    async fn ingested(&self, ingested: &NewsIngested);
}

/// What ingesting one symbol's news did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolNews {
    /// The source that answered (`None` when news is off).
    pub provider: Option<&'static str>,
    /// Articles stored for the first time.
    pub new: u64,
    /// Articles already stored (re-delivered, or delivered for another symbol first).
    pub duplicate: u64,
    /// Items skipped because their URL cannot be an article's address.
    pub rejected: u64,
}

/// Why a symbol's news could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum NewsError {
    #[error(transparent)]
    Market(#[from] MarketError),
    #[error("could not store news: {0}")]
    Store(#[from] StoreError),
}

impl Ingestor {
    /// Whether any news source is configured (with none, news is off and nothing is enqueued).
    pub fn news_enabled(&self) -> bool {
        self.market.news_enabled()
    }

    /// Enqueues the news run of the schedule slot `slot` for every tracked symbol (watched ones
    /// included), in batches, skipping symbols a job of that slot already covers: every
    /// replica's scheduler firing for the same slot enqueues it once.
    pub async fn enqueue_news(&self, slot: DateTime<Utc>) -> Result<Enqueued, StoreError> {
        let group = slot_group(slot);
        let tracked: Vec<Symbol> = self
            .store()
            .tracked_symbols()
            .await?
            .into_iter()
            .map(|t| t.symbol)
            .collect();
        self.enqueue_news_group(group, tracked).await
    }

    /// Enqueues a news run of `symbols` now, under a group of its own (`news:manual:…`): what
    /// `stockd news ingest` drains.
    pub async fn enqueue_news_now(&self, symbols: &[Symbol]) -> Result<Enqueued, StoreError> {
        let now = self.clock.now();
        let group = format!(
            "news:manual:{}",
            now.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
        self.enqueue_news_group(group, symbols.to_vec()).await
    }

    async fn enqueue_news_group(
        &self,
        group: String,
        symbols: Vec<Symbol>,
    ) -> Result<Enqueued, StoreError> {
        if !self.news_enabled() {
            return Ok(Enqueued {
                group,
                added: 0,
                existing: 0,
            });
        }
        let covered = self.covered_symbols(&group).await?;
        let mut todo: Vec<Symbol> = symbols
            .into_iter()
            .filter(|symbol| !covered.contains(symbol))
            .collect();
        todo.sort();
        todo.dedup();
        let jobs = todo
            .chunks(self.config.batch_size.max(1))
            .map(|batch| self.new_job(JobKind::News, &group, batch, None, None))
            .collect();
        self.enqueue(group, jobs).await
    }

    /// Fetches `symbol`'s news from each source's cursor, stores the articles once and then
    /// moves the answering source's cursor (see the module documentation).
    pub async fn ingest_symbol_news(&self, symbol: Symbol) -> Result<SymbolNews, NewsError> {
        let now = self.clock.now();
        let mut cursors: BTreeMap<&'static str, NewsCursor> = BTreeMap::new();
        for source in self.market.news_sources() {
            if let Some(cursor) = self.store().news_cursor(source, symbol).await? {
                cursors.insert(source, cursor);
            }
        }
        let first_fetch =
            now - chrono::Duration::from_std(self.news.lookback).unwrap_or(chrono::Duration::MAX);
        let since = |source: &'static str| {
            Some(
                cursors
                    .get(source)
                    .map_or(first_fetch, |cursor| cursor.published_at),
            )
        };
        let Some(fetched) = self
            .market
            .news_since(symbol, &since, self.news.limit, Purpose::Ingestion)
            .await?
        else {
            return Ok(SymbolNews::default());
        };
        let provider = fetched.provider;
        let mut outcome = SymbolNews {
            provider: Some(provider),
            ..SymbolNews::default()
        };
        let mut batch = Vec::with_capacity(fetched.items.len());
        for item in fetched.items {
            match NewArticle::new(item) {
                Ok(article) => batch.push(article),
                Err(err) => {
                    outcome.rejected += 1;
                    tracing::debug!(%symbol, provider, error = %err, "news item skipped: its URL cannot be an article's address");
                }
            }
        }
        if !batch.is_empty() {
            let inserted = self.store().insert_articles(&batch, now).await?;
            outcome.new = inserted.iter().filter(|a| a.new).count() as u64;
            outcome.duplicate = inserted.len() as u64 - outcome.new;
        }
        count_articles(provider, &outcome);
        // Only once the articles are stored: a crash before this line re-delivers them.
        if let Some(newest) = batch.iter().max_by_key(|a| a.item.published_at) {
            let cursor = NewsCursor {
                provider: provider.to_owned(),
                symbol,
                published_at: newest.item.published_at,
                url: newest.url.clone(),
            };
            self.store().advance_news_cursor(&cursor).await?;
        }
        Ok(outcome)
    }
}

/// The group of the news run of schedule slot `slot` (`news:2026-12-03T15:30Z`; seconds
/// shown only for a schedule with seconds).
pub fn slot_group(slot: DateTime<Utc>) -> String {
    if slot.timestamp() % 60 == 0 {
        slot.format("news:%Y-%m-%dT%H:%MZ").to_string()
    } else {
        slot.format("news:%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// `stock_api_news_articles_total{source,outcome}`.
fn count_articles(source: &'static str, outcome: &SymbolNews) {
    for (label, count) in [
        ("new", outcome.new),
        ("duplicate", outcome.duplicate),
        ("rejected", outcome.rejected),
    ] {
        if count > 0 {
            metrics::counter!("stock_api_news_articles_total", "source" => source, "outcome" => label)
                .increment(count);
        }
    }
}
