//! stockd's use cases, one typed function each, for every interface: the HTTP handlers, the
//! CLI and the live stream ([`stream`]) are adapters that parse their input, call one of these
//! and render the answer; the MCP server (crate `mcp`) answers through the HTTP handlers.
//!
//! [`Service`] owns the store handle and the read path: no interface reaches the store
//! itself. Every function returns [`ServiceError`], whose variants are kinds of outcome
//! (not found, conflict, invalid field, cap reached, …) that each interface words in one
//! place (the HTTP edge: `web::error`). Owner-scoped use cases take the signed-in [`Caller`];
//! another user's ids answer "not found", exactly like ids that do not exist.
//!
//! What stays at the edges: wire shapes (JSON bodies, query strings, cursors), abuse limits
//! per client address (login and sign-up throttles, read allowances), and authorisation of the
//! operator (the admin token).

pub mod accounts;
pub mod alerts;
pub mod auth;
pub mod channels;
mod error;
pub mod history;
pub mod indicators;
pub mod instances;
pub mod jobs;
pub mod news;
pub mod notifications;
pub mod scoring;
pub mod signals;
pub mod status;
pub mod stream;
pub mod symbols;
pub mod watchlist;

use std::sync::Arc;
use std::time::Duration;

use market::Market;
use store::Store;

pub use error::ServiceError;

/// The signed-in user of a request and the token it came with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: store::User,
    pub token: store::AuthToken,
}

/// The most of each thing one user may have; 0 turns a cap off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserCaps {
    /// Alert rules (`max_rules_per_user`).
    pub rules: u32,
    /// Notification channels (`max_channels_per_user`).
    pub channels: u32,
    /// Symbols on the watchlist (`max_watched_symbols_per_user`); each is tracked, so each
    /// costs upstream calls every scheduled ingest.
    pub watched_symbols: u32,
    /// Personal API tokens (`max_tokens_per_user`).
    pub tokens: u32,
}

impl Default for UserCaps {
    fn default() -> Self {
        Self {
            rules: 100,
            channels: 20,
            watched_symbols: 50,
            tokens: 20,
        }
    }
}

impl UserCaps {
    /// The cap as the store takes it: `None` when off.
    pub fn of(cap: u32) -> Option<u32> {
        (cap > 0).then_some(cap)
    }
}

/// What the use cases are configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Per-user caps on what an account may create.
    pub caps: UserCaps,
    /// How long a session token lives after login.
    pub session_ttl: Duration,
    /// argon2id cost and the pool hashing runs in.
    pub hasher: auth::PasswordHasher,
    /// Non-public webhook destinations the operator permits.
    pub webhook_allow: notify::AllowList,
    /// The weights and thresholds of composite signals (`[signals]`).
    pub signals: domain::SignalsConfig,
    /// Whether news is on, and whose sentiment scores count (`[news]`, `[sentiment]`).
    pub news: news::NewsSettings,
    /// The sentiment scorer chain (`[sentiment]`): its keys order the stored scores reads
    /// prefer; the scoring worker scores with it.
    pub sentiment: scoring::SentimentChain,
    /// How often each process records its heartbeat ([`instances`]).
    pub heartbeat_every: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            caps: UserCaps::default(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            hasher: auth::PasswordHasher::default(),
            webhook_allow: notify::AllowList::default(),
            signals: domain::SignalsConfig::default(),
            news: news::NewsSettings::default(),
            sentiment: scoring::SentimentChain::default(),
            heartbeat_every: Duration::from_secs(15),
        }
    }
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    market: Arc<Market>,
    settings: Settings,
    /// One caller per symbol computes signals at a time (`signals::Service::signal_lock`).
    signal_locks: signals::SignalLocks,
    /// Where the use cases announce what they changed (signal label changes), once the
    /// process has a bus; without one (CLI commands, tests) nothing is announced.
    announcer: std::sync::OnceLock<Arc<dyn bus::Bus>>,
    /// The process's live-stream hub, once attached: revocations end its streams at once.
    stream: std::sync::OnceLock<stream::Hub>,
    /// Sends channel tests ([`channels`]); built on first use when none was given.
    senders: std::sync::OnceLock<channels::TestSenders>,
    /// Channel tests each channel may still send, per minute.
    channel_tests: channels::TestLimiter,
}

/// The use cases over one store and one read path. Clones share them.
#[derive(Debug, Clone)]
pub struct Service(Arc<Inner>);

impl Service {
    /// The use cases over `store` and `market` (which reads and writes bars in `store`).
    pub fn new(store: Arc<dyn Store>, market: Arc<Market>, settings: Settings) -> Self {
        Self(Arc::new(Inner {
            store,
            market,
            settings,
            signal_locks: signals::SignalLocks::default(),
            announcer: std::sync::OnceLock::new(),
            stream: std::sync::OnceLock::new(),
            senders: std::sync::OnceLock::new(),
            channel_tests: channels::TestLimiter::default(),
        }))
    }

    /// Announces the changes the use cases make on `bus` from now on (every clone of this
    /// service shares it). The bus is made after the service in `stockd serve`, so it is set
    /// here rather than in [`Settings`]; a second call is ignored.
    pub fn announce_on(&self, bus: Arc<dyn bus::Bus>) {
        let _ = self.0.announcer.set(bus);
    }

    /// Attaches the process's live-stream hub (once; a second call is ignored): its streams
    /// check their tokens in this service's store at every heartbeat, and revocations made
    /// through this service end the streams of the revoked tokens at once.
    pub fn attach_stream(&self, hub: &stream::Hub) {
        let _ = hub.0.tokens.set(self.0.store.clone());
        let _ = self.0.stream.set(hub.clone());
    }

    /// Ends this replica's open streams of the revoked tokens (see [`stream`]).
    fn revoked(&self, user_id: &str, which: stream::Revoked<'_>) {
        if let Some(hub) = self.0.stream.get() {
            let closed = hub.revoke(user_id, which);
            if closed > 0 {
                tracing::info!(%user_id, closed, "live streams of revoked tokens ended");
            }
        }
    }

    /// The read path, for history reads (the interfaces render its answers).
    pub fn market(&self) -> &Market {
        &self.0.market
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    fn announcer(&self) -> Option<&dyn bus::Bus> {
        self.0.announcer.get().map(AsRef::as_ref)
    }
}
