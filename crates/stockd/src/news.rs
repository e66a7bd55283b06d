//! News ingestion in the binary: the hook that announces new articles on the bus (so the
//! sentiment scorer wakes up), and `stockd news ingest`, which runs one news run now in the
//! foreground through the same job queue as the schedule.

use std::sync::Arc;

use async_trait::async_trait;
use bus::{Bus, Event, NewsIngested};
use chrono::Utc;
use domain::Symbol;

use crate::app;
use crate::config::Config;

/// The [`ingest::AfterNews`] hook: one `news_ingested` event per news job attempt that stored
/// new articles.
#[derive(Debug)]
pub struct NewsAfterIngest {
    bus: Arc<dyn Bus>,
}

impl NewsAfterIngest {
    /// Announcements on `bus`.
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Self { bus }
    }
}

#[async_trait]
impl ingest::AfterNews for NewsAfterIngest {
    async fn ingested(&self, ingested: &ingest::NewsIngested) {
        let event = Event::NewsIngested(NewsIngested {
            symbols: ingested.symbols.clone(),
            new_articles: ingested.new_articles,
        });
        // A nudge: the scorer also reads the store's unscored articles on its own.
        if let Err(err) = self.bus.publish(&event).await {
            tracing::warn!(error = %err, articles = ingested.new_articles, "could not announce new news articles");
        }
    }
}

/// Runs `stockd news ingest`: one news run for `symbols` (default: the tracked and watched
/// symbols), drained by workers in this process; returns the report to print.
pub async fn ingest(config: &Config, symbols: Vec<Symbol>, quiet: bool) -> Result<String, String> {
    if !config.news.enabled() {
        return Err(
            "news is off: list sources in news.sources (STOCKD_NEWS__SOURCES=sim for \
                    invented demo articles; see the README's News section)"
                .into(),
        );
    }
    let core = app::core(config).await.map_err(|err| err.to_string())?;
    let ingestor = crate::ingesting::ingestor(config, core, None)
        .await
        .map_err(|err| err.to_string())?;
    let symbols = crate::ingesting::symbols_or_tracked(&ingestor, symbols).await?;
    let run_started = Utc::now();
    let enqueued = ingestor
        .enqueue_news_now(&symbols)
        .await
        .map_err(|err| err.to_string())?;
    crate::ingesting::drain(&ingestor, &enqueued.group, run_started, quiet).await
}
