//! The live-quote poller: every `interval`, one fresh quote per symbol with an active rule and
//! (unless [`PollerConfig::watched`] is off) per symbol on anyone's watchlist, each symbol once,
//! through the market's provider chain (so quotas, breakers and fallback apply, and the `sim`
//! feed stands in when no key is set), checked by the [`QualityGuard`], published on the bus.
//! Only the replica holding the bus's [`LEADERSHIP`] polls.
//!
//! Rule symbols are asked first and watched-only symbols after them: when a metered provider's
//! quota runs short within a round, the quotes alerts depend on are the ones still served, and
//! the watchlist cards go without (the router's quota and breaker refuse the rest, counted as
//! `failed`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bus::{Bus, Event, QuoteEvent};
use domain::Symbol;
use market::Market;
use store::AlertStore;
use tokio::sync::watch;

use crate::guard::QualityGuard;

/// The bus leadership a replica must hold to poll.
pub const LEADERSHIP: &str = "quote-poller";

/// How the poller runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollerConfig {
    /// Time between two rounds.
    pub interval: Duration,
    /// A move larger than this (0.2 = 20 %) from the last good price is held back...
    pub max_jump: f64,
    /// ...until this many consecutive quotes confirm it.
    pub confirmations: u32,
    /// Also poll the symbols on users' watchlists (live quotes for the dashboard's cards). Each
    /// such symbol costs one upstream quote call per round on a metered provider.
    pub watched: bool,
}

impl Default for PollerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(15),
            max_jump: 0.2,
            confirmations: 3,
            watched: true,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub published: usize,
    pub rejected: usize,
    pub failed: usize,
}

/// Polls quotes for the symbols of active rules and of watchlists.
pub struct QuotePoller {
    market: Arc<Market>,
    /// Where the symbols of active rules and watchlists are read.
    rules: Arc<dyn AlertStore>,
    bus: Arc<dyn Bus>,
    guard: QualityGuard,
    config: PollerConfig,
}

impl std::fmt::Debug for QuotePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotePoller")
            .field("market", &self.market)
            .field("bus", &self.bus)
            .field("guard", &self.guard)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl QuotePoller {
    pub fn new(
        market: Arc<Market>,
        rules: Arc<dyn AlertStore>,
        bus: Arc<dyn Bus>,
        config: PollerConfig,
    ) -> Self {
        Self {
            market,
            rules,
            bus,
            guard: QualityGuard::new(config.max_jump, config.confirmations),
            config,
        }
    }

    /// The symbols of one round: those of active rules, then the watched ones no rule has.
    async fn symbols(&self) -> Vec<Symbol> {
        let mut symbols = match self.rules.active_rule_symbols().await {
            Ok(symbols) => symbols,
            Err(err) => {
                tracing::warn!(error = %err, "quote poller could not read the active rules");
                Vec::new()
            }
        };
        if self.config.watched {
            match self.rules.watched_symbols().await {
                Ok(watched) => {
                    let ruled: HashSet<Symbol> = symbols.iter().copied().collect();
                    symbols.extend(watched.into_iter().filter(|s| !ruled.contains(s)));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "quote poller could not read the watchlists");
                }
            }
        }
        symbols
    }

    /// One round over every symbol with an active rule or on a watchlist, each once.
    pub async fn poll_once(&mut self) -> Round {
        let symbols = self.symbols().await;
        let mut round = Round::default();
        for symbol in symbols {
            let quote = match self.market.refresh_quote(symbol).await {
                Ok(quote) => quote,
                Err(err) => {
                    tracing::debug!(%symbol, error = %err, "no quote this round");
                    metrics::counter!("stock_api_quotes_total", "outcome" => "failed").increment(1);
                    round.failed += 1;
                    continue;
                }
            };
            if let Err(reason) = self.guard.check(symbol, quote.price) {
                tracing::warn!(%symbol, price = %quote.price, source = %quote.source, reason = reason.as_str(), "dropped a suspicious quote");
                metrics::counter!("stock_api_quotes_total", "outcome" => reason.as_str())
                    .increment(1);
                round.rejected += 1;
                continue;
            }
            let event = Event::Quote(QuoteEvent {
                symbol,
                price: quote.price,
                previous_close: quote.previous_close,
                at: quote.as_of.unwrap_or(quote.fetched_at),
                source: quote.source.clone(),
            });
            match self.bus.publish(&event).await {
                Ok(()) => {
                    metrics::counter!("stock_api_quotes_total", "outcome" => "published")
                        .increment(1);
                    round.published += 1;
                }
                Err(err) => {
                    tracing::warn!(%symbol, error = %err, "could not publish a quote");
                    round.failed += 1;
                }
            }
        }
        round
    }

    /// Polls every `interval` until `stop` turns true, while this replica leads the
    /// `quote-poller` leadership on the bus: every replica may run a poller, one polls at a
    /// time (each would spend provider quota on the same quotes), and another takes over within
    /// the bus's lease when it dies. In process the only replica always leads.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let leadership = match self.bus.leadership(LEADERSHIP).await {
            Ok(leadership) => leadership,
            Err(err) => {
                tracing::error!(error = %err, "quote poller could not claim its leadership; not polling");
                return;
            }
        };
        let mut tick = tokio::time::interval(self.config.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut leading = false;
        // Present from the start, so "pollers run but none leads" can be alerted on.
        metrics::gauge!("stock_api_quote_poller_leader").set(0.0);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if leadership.is_leader() != leading {
                        leading = !leading;
                        tracing::info!(leading, "quote poller leadership changed");
                        metrics::gauge!("stock_api_quote_poller_leader").set(f64::from(u8::from(leading)));
                    }
                    if leading {
                        self.poll_once().await;
                    }
                }
                () = crate::stopped(&mut stop) => return,
            }
        }
    }
}
