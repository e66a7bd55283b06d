//! `sim`: invented headlines for demos and tests, every one marked [`NewsItem::simulated`].
//!
//! Each call returns up to `limit` articles about the symbol, one every [`SPACING_HOURS`]
//! hours back from the anchor (the current hour, or a fixed instant for tests), picked from a
//! small set of neutral, positive and negative templates by a generator seeded with the seed
//! and the symbol: the same seed, symbol and anchor give the same articles. Titles start with
//! `[SIMULATED]`, the publisher is "stockd simulation" and URLs are under the reserved
//! `.invalid` domain, so no simulated article can pass for a real one anywhere it is shown.

use std::hash::{DefaultHasher, Hash, Hasher};

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use domain::Symbol;
use domain::news::NewsItem;

use crate::ProviderError;
use crate::news::{self, NewsSource};

/// The source name used in provenance, metrics and errors.
const NAME: &str = "sim";

/// Hours between two simulated articles.
pub const SPACING_HOURS: i64 = 6;

/// How far back simulated articles go, whatever `limit` asks for.
const MAX_ARTICLES: u32 = 40;

/// Headline and summary templates; `{s}` is the symbol.
const TEMPLATES: [(&str, &str); 8] = [
    (
        "{s} beats quarterly estimates",
        "{s} reported earnings above analyst expectations and raised guidance.",
    ),
    (
        "{s} shares slide after guidance cut",
        "{s} lowered its outlook for the year, citing weaker demand.",
    ),
    (
        "{s} announces share buyback",
        "The board of {s} approved a new repurchase programme.",
    ),
    (
        "Regulator opens inquiry into {s}",
        "Authorities said they are reviewing disclosures made by {s}.",
    ),
    (
        "{s} to present at industry conference",
        "Executives of {s} will speak at an investor conference next week.",
    ),
    (
        "Analyst upgrades {s} to buy",
        "A broker raised its rating on {s}, pointing to margin growth.",
    ),
    (
        "{s} recalls product line",
        "{s} said it is recalling units after quality complaints.",
    ),
    (
        "{s} names new chief financial officer",
        "{s} appointed a new CFO effective next month.",
    ),
];

/// Simulated news.
#[derive(Debug, Clone)]
pub struct SimNews {
    seed: u64,
    /// A fixed "now" for repeatable output; the current hour when `None`.
    anchor: Option<DateTime<Utc>>,
}

impl SimNews {
    /// Articles anchored at the current hour.
    pub fn new(seed: u64) -> Self {
        Self { seed, anchor: None }
    }

    /// Articles anchored at `anchor`, the same on every call (tests, recorded demos).
    pub fn anchored(seed: u64, anchor: DateTime<Utc>) -> Self {
        Self {
            seed,
            anchor: Some(anchor),
        }
    }

    fn seed_for(&self, symbol: Symbol) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.seed.hash(&mut hasher);
        symbol.hash(&mut hasher);
        hasher.finish()
    }
}

#[async_trait]
impl NewsSource for SimNews {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError> {
        let now = self.anchor.unwrap_or_else(Utc::now);
        let anchor = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
        let mut rng = fastrand::Rng::with_seed(self.seed_for(symbol));
        let count = news::effective_limit(limit).min(MAX_ARTICLES);
        let items = (0..count)
            .map(|index| {
                let (title, summary) = TEMPLATES[rng.usize(..TEMPLATES.len())];
                let published_at = anchor - TimeDelta::hours(SPACING_HOURS * i64::from(index));
                NewsItem {
                    title: format!("[SIMULATED] {}", title.replace("{s}", symbol.as_str())),
                    url: format!(
                        "https://news.sim.invalid/{}/{}",
                        symbol.as_str().to_lowercase(),
                        published_at.timestamp()
                    ),
                    publisher: Some("stockd simulation".to_owned()),
                    published_at,
                    summary: format!(
                        "Simulated article. {}",
                        summary.replace("{s}", symbol.as_str())
                    ),
                    symbols: vec![symbol],
                    provider: NAME.to_owned(),
                    provider_sentiment: Vec::new(),
                    simulated: true,
                }
            })
            .collect();
        Ok(news::finish(items, since, limit))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn anchor() -> DateTime<Utc> {
        "2024-01-05T15:42:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn every_simulated_article_is_labelled_and_points_nowhere_real() {
        let items = SimNews::anchored(7, anchor())
            .news(Symbol::parse("MSFT").unwrap(), None, 10)
            .await
            .unwrap();
        assert_eq!(items.len(), 10);
        for item in &items {
            assert!(item.simulated);
            assert!(item.title.starts_with("[SIMULATED] "), "{}", item.title);
            assert!(
                item.url.starts_with("https://news.sim.invalid/msft/"),
                "{}",
                item.url
            );
            assert_eq!(item.provider, "sim");
        }
        assert_eq!(
            items[0].published_at,
            "2024-01-05T15:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_articles_and_since_is_honoured() {
        let msft = Symbol::parse("MSFT").unwrap();
        let first = SimNews::anchored(7, anchor())
            .news(msft, None, 5)
            .await
            .unwrap();
        let again = SimNews::anchored(7, anchor())
            .news(msft, None, 5)
            .await
            .unwrap();
        assert_eq!(first, again);
        let since = anchor() - TimeDelta::hours(13);
        let recent = SimNews::anchored(7, anchor())
            .news(msft, Some(since), 5)
            .await
            .unwrap();
        assert_eq!(
            recent.len(),
            3,
            "15:00, 09:00 and 03:00 are within 13 hours of 15:42"
        );
    }
}
