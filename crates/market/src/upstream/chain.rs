//! An ordered provider chain per capability (daily history, quotes, news), with fallback.
//!
//! Each distinct provider is one [`Upstream`] with one breaker and one quota, shared by every
//! capability it serves, so a provider that is down or spent is skipped everywhere: a news
//! source named like a market-data provider (Alpha Vantage's `NEWS_SENTIMENT` under
//! `alphavantage`) is that provider's news side, on the same breaker, quota and pause. A call
//! walks its capability's providers one at a time, never in parallel: most providers have small
//! quotas, and firing them all at once would spend every quota on each miss. A provider that
//! recently said a symbol is unknown is not asked about it again until that answer expires.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::Symbol;
use providers::news::NewsSource;
use providers::{MarketData, ProviderError};
use serde::Serialize;
use store::ProviderUsage;

use super::pause::PauseStatus;
use super::quota::{Purpose, QuotaStatus};
use super::unknown::UnknownSymbols;
use super::{Upstream, count_skipped};
use crate::breaker::{BreakerSnapshot, BreakerState};
use crate::{MarketConfig, MarketError, UpstreamBudget};

/// What a provider is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Daily history (`Market::daily`).
    Daily,
    /// Latest quotes (`Market::quote`).
    Quote,
    /// News articles (`Market::news`).
    News,
}

/// A provider's place in one capability's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProviderCapability {
    pub capability: Capability,
    /// 1 for the provider asked first.
    pub position: usize,
}

/// A point-in-time view of one provider, for `/v1/providers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderStatus {
    pub name: &'static str,
    /// The capabilities it serves and where it stands in each order.
    pub capabilities: Vec<ProviderCapability>,
    pub breaker: BreakerState,
    /// Attempts that reached the provider, retries included.
    pub calls: u64,
    /// The last failed answer's text (provider errors never carry keys).
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Calls allowed, used and left in the current UTC minute and day, and when each resets.
    pub quota: QuotaStatus,
    /// Set while the provider is paused by a limit of its own it reported reached.
    pub paused: Option<PauseStatus>,
}

/// Every provider once, and the order of each capability as indexes into them.
#[derive(Debug)]
pub(crate) struct Chain {
    upstreams: Vec<Upstream>,
    daily: Vec<usize>,
    quote: Vec<usize>,
    news: Vec<usize>,
    unknown: UnknownSymbols,
}

impl Chain {
    /// Builds the chain; a provider listed for both market-data capabilities (the same `Arc`)
    /// gets one breaker, and a news source gets the upstream of the market-data provider of
    /// its name, if any (same key, same quota).
    pub(crate) fn new(
        daily: Vec<Arc<dyn MarketData>>,
        quote: Vec<Arc<dyn MarketData>>,
        news: Vec<Arc<dyn NewsSource>>,
        usage: &Arc<dyn ProviderUsage>,
        config: &MarketConfig,
    ) -> Self {
        let mut upstreams: Vec<Upstream> = Vec::new();
        let mut index_of = |provider: Arc<dyn MarketData>| -> usize {
            let same = |u: &Upstream| {
                u.market
                    .as_ref()
                    .is_some_and(|m| std::ptr::addr_eq(Arc::as_ptr(m), Arc::as_ptr(&provider)))
            };
            match upstreams.iter().position(same) {
                Some(index) => index,
                None => {
                    let mut upstream = Upstream::new(provider.name(), usage.clone(), config);
                    upstream.market = Some(provider);
                    upstreams.push(upstream);
                    upstreams.len() - 1
                }
            }
        };
        let mut daily: Vec<usize> = daily.into_iter().map(&mut index_of).collect();
        let mut quote: Vec<usize> = quote.into_iter().map(&mut index_of).collect();
        let mut news: Vec<usize> = news
            .into_iter()
            .map(|source| {
                let name = source.name();
                let index = match upstreams.iter().position(|u| u.name == name) {
                    Some(index) => index,
                    None => {
                        upstreams.push(Upstream::new(name, usage.clone(), config));
                        upstreams.len() - 1
                    }
                };
                if let Some(upstream) = upstreams.get_mut(index) {
                    upstream.news = Some(source);
                }
                index
            })
            .collect();
        // Listing a provider twice in one order would only ask it twice.
        dedup_keeping_order(&mut daily);
        dedup_keeping_order(&mut quote);
        dedup_keeping_order(&mut news);
        Self {
            upstreams,
            daily,
            quote,
            news,
            unknown: UnknownSymbols::new(config.unknown_symbol_ttl),
        }
    }

    /// True when some news source is configured (with none, news is off).
    pub(crate) fn has_news(&self) -> bool {
        !self.news.is_empty()
    }

    /// The news sources' names, in the order they are asked.
    pub(crate) fn news_names(&self) -> Vec<&'static str> {
        self.news
            .iter()
            .filter_map(|&i| self.upstreams.get(i))
            .map(|upstream| upstream.name)
            .collect()
    }

    /// Loads every provider's recorded quota use from the store.
    pub(crate) async fn restore_usage(&self) {
        for upstream in &self.upstreams {
            upstream.restore_usage().await;
        }
    }

    /// Refreshes every provider's quota gauges.
    pub(crate) fn publish_quotas(&self) {
        for upstream in &self.upstreams {
            upstream.publish_quota();
        }
    }

    /// The name of the first provider asked for daily history (or quotes, if none).
    pub(crate) fn primary_name(&self) -> &'static str {
        self.daily
            .first()
            .or(self.quote.first())
            .and_then(|&index| self.upstreams.get(index))
            .map_or("none", |upstream| upstream.name)
    }

    /// Every provider's breaker.
    pub(crate) fn breakers(&self) -> Vec<BreakerSnapshot> {
        self.upstreams
            .iter()
            .map(|u| u.breaker.snapshot())
            .collect()
    }

    /// Every provider's status.
    pub(crate) fn statuses(&self) -> Vec<ProviderStatus> {
        self.upstreams
            .iter()
            .enumerate()
            .map(|(index, upstream)| {
                let capabilities = [
                    (Capability::Daily, &self.daily),
                    (Capability::Quote, &self.quote),
                    (Capability::News, &self.news),
                ]
                .into_iter()
                .filter_map(|(capability, order)| {
                    let position = order.iter().position(|&i| i == index)?;
                    Some(ProviderCapability {
                        capability,
                        position: position + 1,
                    })
                })
                .collect();
                let last_error = upstream.last_error();
                ProviderStatus {
                    name: upstream.name,
                    capabilities,
                    breaker: upstream.breaker.state(),
                    calls: upstream.calls(),
                    last_error_at: last_error.as_ref().map(|(_, at)| *at),
                    last_error: last_error.map(|(text, _)| text),
                    quota: upstream.quota_status(),
                    paused: upstream.paused(),
                }
            })
            .collect()
    }

    /// Asks the capability's market-data providers in order until one answers about `symbol`;
    /// returns the answer and the name of the provider that gave it. `budget` is charged once,
    /// before the first provider is asked: a walk that asks nobody (every provider remembers
    /// the symbol as unknown) costs the caller nothing.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        capability: Capability,
        operation: &'static str,
        symbol: Symbol,
        spender: Spender<'_>,
        call: F,
    ) -> Result<(T, &'static str), MarketError>
    where
        F: Fn(Arc<dyn MarketData>) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let order = match capability {
            Capability::Daily => &self.daily,
            Capability::Quote => &self.quote,
            Capability::News => &self.news,
        };
        self.walk(
            order,
            operation,
            symbol,
            spender,
            |u| u.market.clone(),
            call,
        )
        .await
    }

    /// [`Chain::call`] for the news sources.
    pub(crate) async fn call_news<T, F, Fut>(
        &self,
        operation: &'static str,
        symbol: Symbol,
        spender: Spender<'_>,
        call: F,
    ) -> Result<(T, &'static str), MarketError>
    where
        F: Fn(Arc<dyn NewsSource>) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.walk(
            &self.news,
            operation,
            symbol,
            spender,
            |u| u.news.clone(),
            call,
        )
        .await
    }

    /// Walks `order`, calling each upstream's `side` (skipping upstreams without one).
    async fn walk<P, T, F, Fut>(
        &self,
        order: &[usize],
        operation: &'static str,
        symbol: Symbol,
        spender: Spender<'_>,
        side: impl Fn(&Upstream) -> Option<P>,
        call: F,
    ) -> Result<(T, &'static str), MarketError>
    where
        P: Clone,
        F: Fn(P) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let mut failures = Failures::default();
        let mut charged = false;
        for upstream in order.iter().filter_map(|&i| self.upstreams.get(i)) {
            let Some(handle) = side(upstream) else {
                continue;
            };
            let provider = upstream.name;
            if let Some(answer) = self.unknown.recall(provider, symbol).await {
                // Its answer stands until it expires: counted as given, without a call.
                count_skipped(provider, "unknown_symbol");
                failures.note(MarketError::Provider(answer));
                continue;
            }
            if !charged {
                spender
                    .budget
                    .take()
                    .map_err(|retry_after| MarketError::ReadBudgetSpent { retry_after })?;
                charged = true;
            }
            match upstream
                .call(&handle, operation, spender.purpose, &call)
                .await
            {
                Ok(value) => return Ok((value, provider)),
                Err(err) => {
                    tracing::debug!(provider, operation, error = %err, "provider could not answer; trying the next");
                    if let MarketError::Provider(answer) = &err {
                        self.unknown.remember(provider, symbol, answer).await;
                    }
                    failures.note(err);
                }
            }
        }
        Err(failures.verdict())
    }
}

/// Who pays for a walk down the chain: the share of each quota it may spend, and the
/// caller's own allowance of reads that reach a provider.
#[derive(Clone, Copy)]
pub(crate) struct Spender<'a> {
    pub(crate) purpose: Purpose,
    pub(crate) budget: &'a dyn UpstreamBudget,
}

fn dedup_keeping_order(order: &mut Vec<usize>) {
    let mut seen = Vec::with_capacity(order.len());
    order.retain(|index| {
        let first = !seen.contains(index);
        seen.push(*index);
        first
    });
}

/// The failures of one walk down the chain, reduced to the one worth reporting.
#[derive(Debug, Default)]
struct Failures {
    /// The first "unknown symbol" / "no data" answer.
    definite: Option<MarketError>,
    /// Whether a provider that answered said something else (a failure, a rate limit).
    /// Skipped providers (open breaker, spent quota) and ones that cannot serve the request at
    /// all did not answer about the symbol.
    other_answer: bool,
    /// The first rate limit (a provider paused by its own limit), open breaker or spent quota:
    /// the caller can usefully retry later (503).
    retry_later: Option<MarketError>,
    /// The last other failure (502).
    last: Option<MarketError>,
}

impl Failures {
    fn note(&mut self, err: MarketError) {
        match &err {
            MarketError::Provider(
                ProviderError::UnknownSymbol { .. } | ProviderError::NoData { .. },
            ) => {
                self.definite.get_or_insert(err);
            }
            // A provider's own limit is its answer ("later"), now or within its pause: it may
            // know the symbol, so others calling it unknown is not the last word.
            MarketError::Provider(ProviderError::RateLimited { .. })
            | MarketError::ProviderPaused { .. } => {
                self.other_answer = true;
                self.retry_later.get_or_insert(err);
            }
            MarketError::BreakerOpen { .. }
            | MarketError::QuotaExhausted { .. }
            | MarketError::ReadBudgetSpent { .. } => {
                self.retry_later.get_or_insert(err);
            }
            MarketError::Provider(ProviderError::NotSupported { .. }) => self.last = Some(err),
            MarketError::Provider(_) | MarketError::Internal(_) | MarketError::Store(_) => {
                self.other_answer = true;
                self.last = Some(err);
            }
        }
    }

    fn verdict(self) -> MarketError {
        match self {
            Self {
                definite: Some(definite),
                other_answer: false,
                ..
            } => definite,
            Self {
                retry_later: Some(err),
                ..
            } => err,
            Self {
                last: Some(err), ..
            } => err,
            Self {
                definite: Some(err),
                ..
            } => err,
            _ => MarketError::Internal("no provider is configured for this request"),
        }
    }
}
