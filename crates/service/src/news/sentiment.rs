//! A symbol's daily news sentiment with its citations, and the sentiment series the composite
//! signal reads.
//!
//! **The day of an article** on the sentiment endpoint is the New York calendar date it was
//! published. Each day's number is `signals::news::DaySentiment`: the relevance-weighted mean
//! Σ(score · weight) / Σ(weight) of the day's scored articles, each scored by the first key
//! of the scoring chain that scored it ([`crate::Service::sentiment_keys`]) and weighted by
//! that scorer's relevance to the symbol (else the source's, else
//! `signals::news::DEFAULT_RELEVANCE`). Every counted article is cited (title, publisher,
//! source, URL, time, score, weight and where it came from, label, scorer and the source's own
//! score beside ours); articles not scored yet are listed as pending and not counted.
//!
//! **The signal's sentiment component** groups the same scores by trading session instead
//! (`signals::news::session_series`: news published after a session's 16:00 close counts for
//! the next session), so a day's signal never reads news from after its close.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use domain::{Bar, Symbol, new_york};
use signals::SentimentSeries;
use signals::news::{self, DatedScore, DaySentiment, Polarity, WeightSource, WeightedScore};
use store::{
    ArticleScore, ArticleSentiment, MAX_NEWS_PER_READ, ScoreKey, Store, StoreError, StoredArticle,
    StoredProviderSentiment,
};

use crate::{Service, ServiceError};

/// Days answered when the caller gives no number.
pub const DEFAULT_SENTIMENT_DAYS: u32 = 30;
/// The most days one answer covers.
pub const MAX_SENTIMENT_DAYS: u32 = 90;
/// The most articles one answer reads (newest first); an older rest is left out and the
/// answer says so (`truncated`).
pub const MAX_SENTIMENT_ARTICLES: usize = 5_000;

/// A symbol's sentiment by New York calendar day.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolSentiment {
    pub symbol: Symbol,
    /// The first and last day answered (the last is today in New York).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The scoring chain's keys, preferred first: whose scores count.
    pub score_keys: Vec<ScoreKey>,
    /// Every day of the range, oldest first (a day without news has no score).
    pub days: Vec<SentimentDay>,
    /// True when the range held more than [`MAX_SENTIMENT_ARTICLES`] articles: the oldest
    /// were left out.
    pub truncated: bool,
}

/// One day of a symbol's sentiment.
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentDay {
    pub day: NaiveDate,
    pub sentiment: DaySentiment,
    /// The scored articles behind the number, newest first.
    pub citations: Vec<Citation>,
    /// Articles of the day not scored yet (not counted), newest first.
    pub pending: Vec<Pending>,
}

/// A scored article as one day's number counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    pub article: StoredArticle,
    /// The answering scorer's score (its key, label, relevance and rationale).
    pub score: ArticleScore,
    pub polarity: Polarity,
    /// The article's weight in the day's mean, and where it came from.
    pub weight: f64,
    pub weight_source: WeightSource,
    /// The sources' own sentiment of the article for the symbol (Alpha Vantage's score).
    pub source_sentiment: Vec<StoredProviderSentiment>,
}

/// An article not scored yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub article: StoredArticle,
    pub source_sentiment: Vec<StoredProviderSentiment>,
}

impl Service {
    /// `symbol`'s sentiment on each of the last `days` New York days (default
    /// [`DEFAULT_SENTIMENT_DAYS`], 1 to [`MAX_SENTIMENT_DAYS`]), today included.
    pub async fn symbol_sentiment(
        &self,
        symbol: Symbol,
        days: Option<u32>,
    ) -> Result<SymbolSentiment, ServiceError> {
        let days = match days {
            None => DEFAULT_SENTIMENT_DAYS,
            Some(days) if (1..=MAX_SENTIMENT_DAYS).contains(&days) => days,
            Some(days) => {
                return Err(ServiceError::BadRequest(format!(
                    "days must be from 1 to {MAX_SENTIMENT_DAYS}, got {days}"
                )));
            }
        };
        let to = new_york::date_of(self.now());
        let from = to
            .checked_sub_days(Days::new(u64::from(days - 1)))
            .ok_or(ServiceError::Internal("a sentiment range before chrono's"))?;
        let end = to
            .succ_opt()
            .map(new_york::midnight)
            .ok_or(ServiceError::Internal("a sentiment range after chrono's"))?;
        let (articles, truncated) = self
            .sentiment_articles(symbol, new_york::midnight(from), end)
            .await?;
        if articles.is_empty() {
            self.check_news_on().await?;
        }
        let mut by_day: BTreeMap<NaiveDate, SentimentDay> = from
            .iter_days()
            .take_while(|day| *day <= to)
            .map(|day| (day, empty_day(day)))
            .collect();
        for item in articles {
            let day = new_york::date_of(item.article.published_at);
            let Some(entry) = by_day.get_mut(&day) else {
                continue;
            };
            match cite(symbol, item) {
                Ok(citation) => entry.citations.push(citation),
                Err(pending) => entry.pending.push(pending),
            }
        }
        let days = by_day
            .into_values()
            .map(|mut day| {
                let scores: Vec<WeightedScore> = day.citations.iter().map(weighted).collect();
                day.sentiment = DaySentiment::of(&scores);
                day
            })
            .collect();
        Ok(SymbolSentiment {
            symbol,
            from,
            to,
            score_keys: self.sentiment_keys().to_vec(),
            days,
            truncated,
        })
    }

    /// The sentiment reading of each day of `bars` (oldest first) on or after `from` with
    /// scored news, grouped by trading session: the signal's `sentiment` component.
    pub(crate) async fn signal_sentiment(
        &self,
        symbol: Symbol,
        bars: &[Bar],
        from: Option<NaiveDate>,
    ) -> Result<SentimentSeries, ServiceError> {
        let days: Vec<NaiveDate> = bars.iter().map(|bar| bar.date).collect();
        Ok(session_sentiment(self.store(), self.sentiment_keys(), symbol, &days, from).await?)
    }

    /// The articles of `symbol` published in `[from, to)` with their preferred scores, newest
    /// first, at most [`MAX_SENTIMENT_ARTICLES`] (and whether more were left out).
    async fn sentiment_articles(
        &self,
        symbol: Symbol,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<ArticleSentiment>, bool), ServiceError> {
        let keys = self.sentiment_keys();
        Ok(articles_between(self.store(), keys, symbol, from, to).await?)
    }
}

/// The session news sentiment of each of `days` (trading days with a bar, ascending) on or
/// after `from` that has scored news, read from `store` with `keys` (the scoring chain's
/// score keys, preferred first): what the composite signal's `sentiment` component and the
/// alert engine's `"series": "sentiment"` read, one computation for both. News published
/// after a session's close counts for the next session (`signals::news::session_series`).
pub async fn session_sentiment(
    store: &dyn Store,
    keys: &[ScoreKey],
    symbol: Symbol,
    days: &[NaiveDate],
    from: Option<NaiveDate>,
) -> Result<SentimentSeries, StoreError> {
    if keys.is_empty() {
        return Ok(SentimentSeries::new());
    }
    let first = days.partition_point(|day| from.is_some_and(|from| *day < from));
    let Some(last) = days.last() else {
        return Ok(SentimentSeries::new());
    };
    // News of the first day's session starts at the close before it (a week before it
    // for the first bar of all, whose session has no close before it).
    let start = match first.checked_sub(1).and_then(|before| days.get(before)) {
        Some(before) => new_york::instant(*before, news::NEWS_CLOSE),
        None => match days.get(first) {
            Some(day) => new_york::midnight(*day) - TimeDelta::days(7),
            None => return Ok(SentimentSeries::new()),
        },
    };
    let end = new_york::instant(*last, news::NEWS_CLOSE);
    let (articles, _) = articles_between(store, keys, symbol, start, end).await?;
    let cited: Vec<Citation> = articles
        .into_iter()
        .filter_map(|item| cite(symbol, item).ok())
        .collect();
    let dated: Vec<DatedScore<'_>> = cited
        .iter()
        .map(|citation| DatedScore {
            published_at: citation.article.published_at,
            scored: weighted(citation),
            title: &citation.article.title,
        })
        .collect();
    Ok(news::session_series(days, from, &dated))
}

/// The articles of `symbol` published in `[from, to)` with their preferred scores among
/// `keys`, newest first, at most [`MAX_SENTIMENT_ARTICLES`] (and whether more were left out).
async fn articles_between(
    store: &dyn Store,
    keys: &[ScoreKey],
    symbol: Symbol,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Vec<ArticleSentiment>, bool), StoreError> {
    let mut articles: Vec<ArticleSentiment> = Vec::new();
    let mut seen = HashSet::new();
    let mut upper = to;
    loop {
        let page = store
            .symbol_sentiment(symbol, keys, from, upper, MAX_NEWS_PER_READ)
            .await?;
        let full = page.len() == MAX_NEWS_PER_READ as usize;
        let oldest = page.last().map(|item| item.article.published_at);
        let before = articles.len();
        articles.extend(page.into_iter().filter(|item| seen.insert(item.article.id)));
        if articles.len() > MAX_SENTIMENT_ARTICLES {
            articles.truncate(MAX_SENTIMENT_ARTICLES);
            return Ok((articles, true));
        }
        match oldest {
            // The next page reads up to the oldest time read, that time included (its
            // other articles may not all have fit); those already read are skipped. A
            // page of nothing new is a full page of one instant: leave the rest out.
            Some(oldest) if full => {
                if articles.len() == before {
                    return Ok((articles, true));
                }
                upper = oldest + TimeDelta::microseconds(1);
            }
            _ => return Ok((articles, false)),
        }
    }
}

fn empty_day(day: NaiveDate) -> SentimentDay {
    SentimentDay {
        day,
        sentiment: DaySentiment::of(&[]),
        citations: Vec::new(),
        pending: Vec::new(),
    }
}

/// The citation of a scored article, or the article as pending.
#[expect(
    clippy::result_large_err,
    reason = "both sides are moved straight into the answer: boxing the pending side buys nothing"
)]
fn cite(symbol: Symbol, item: ArticleSentiment) -> Result<Citation, Pending> {
    let ArticleSentiment {
        article,
        score,
        provider_sentiment,
    } = item;
    let Some(score) = score else {
        return Err(Pending {
            article,
            source_sentiment: provider_sentiment,
        });
    };
    let source_relevance = provider_sentiment
        .iter()
        .find_map(|opinion| opinion.sentiment.relevance);
    let (weight, weight_source) = news::weight(score.relevance_to(symbol), source_relevance);
    Ok(Citation {
        polarity: Polarity::of(score.label.as_deref(), score.score.get()),
        article,
        score,
        weight,
        weight_source,
        source_sentiment: provider_sentiment,
    })
}

fn weighted(citation: &Citation) -> WeightedScore {
    WeightedScore {
        score: citation.score.score.get(),
        weight: citation.weight,
        polarity: citation.polarity,
    }
}
