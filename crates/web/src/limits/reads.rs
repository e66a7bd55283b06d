//! Per-client limits on the public read routes (the seed routes, `/v1/stocks/*`, `/v1/daily`).
//!
//! Two allowances per client address (the connection's peer, or with `trust_forwarded_for`
//! the last `X-Forwarded-For` entry; IPv6 by /64, what one subscriber is given):
//!
//! - a generous one on every read ([`ReadLimits::per_second`]), checked by the [`PublicRead`]
//!   extractor before the handler runs: one lookup and one atomic update on the cached path;
//! - a tight one on reads that must ask an upstream provider ([`ReadLimits::upstream_per_minute`]):
//!   handed to the read path as the request's [`market::UpstreamBudget`], it is charged only when
//!   a read misses both the cache and the store, which is what spends the provider quota.
//!
//! Both answer 429 problem+json with `Retry-After`. Limits are per replica and in memory.
//! Signed-in users are limited by address like everyone else: telling who a bearer token
//! belongs to costs a database read, which the cached path must not pay.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use governor::Quota;

use super::clients::KeyedAllowance;
use crate::AppState;
use crate::error::ApiError;

/// How much one client may read; 0 turns an allowance off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Public reads per second a client may make, sustained (`read_rate_per_second`).
    pub per_second: u32,
    /// Reads a client may make at once above that rate (`read_burst`).
    pub burst: u32,
    /// Reads per minute a client may make that must ask an upstream provider
    /// (`upstream_reads_per_minute`).
    pub upstream_per_minute: u32,
    /// Such reads a client may make at once (`upstream_read_burst`).
    pub upstream_burst: u32,
    /// Clients each allowance tracks at once (`read_limit_clients`); beyond it, new clients
    /// share one allowance until idle ones are swept.
    pub max_clients: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            per_second: 50,
            burst: 100,
            upstream_per_minute: 3,
            upstream_burst: 3,
            max_clients: 100_000,
        }
    }
}

/// The address a client's reads are counted against: IPv4 whole, IPv6 by its /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey(IpAddr);

impl ClientKey {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Self(IpAddr::V6(prefix.into()))
            }
            v4 => Self(v4),
        }
    }
}

/// Both allowances.
#[derive(Debug)]
pub struct ReadLimiter {
    reads: Option<KeyedAllowance<ClientKey>>,
    upstream: Option<KeyedAllowance<ClientKey>>,
    limits: ReadLimits,
}

/// The burst a setting means: 0 is "the rate".
fn burst_or(burst: u32, rate: u32) -> u32 {
    if burst == 0 { rate } else { burst }
}

fn quota(count: u32, burst: u32, per: Duration) -> Option<Quota> {
    let count = NonZeroU32::new(count)?;
    let burst = NonZeroU32::new(burst_or(burst, count.get()))?;
    Quota::with_period(per / count.get()).map(|quota| quota.allow_burst(burst))
}

impl ReadLimiter {
    pub fn new(limits: ReadLimits) -> Self {
        let reads = quota(limits.per_second, limits.burst, Duration::from_secs(1))
            .map(|q| KeyedAllowance::new(q, limits.max_clients));
        let upstream = quota(
            limits.upstream_per_minute,
            limits.upstream_burst,
            Duration::from_secs(60),
        )
        .map(|q| KeyedAllowance::new(q, limits.max_clients));
        Self {
            reads,
            upstream,
            limits,
        }
    }

    fn admit(&self, client: Option<ClientKey>) -> Result<(), ApiError> {
        let (Some(reads), Some(client)) = (&self.reads, client) else {
            return Ok(());
        };
        reads
            .check(&client)
            .map_err(|retry_after| ApiError::TooManyRequests {
                detail: format!(
                    "this client sent more than {} reads a second (bursts of {}; limits.read_rate_per_second); retry in {}s",
                    self.limits.per_second,
                    burst_or(self.limits.burst, self.limits.per_second),
                    retry_after.as_secs()
                ),
                retry_after,
            })
    }
}

/// A public read, admitted by its client's read allowance.
#[derive(Debug, Clone, Copy)]
pub struct PublicRead {
    client: Option<ClientKey>,
}

/// What one read may spend on upstream calls: its client's upstream allowance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientBudget<'a> {
    upstream: Option<&'a KeyedAllowance<ClientKey>>,
    client: Option<ClientKey>,
}

impl ReadLimiter {
    /// The upstream allowance of `read`'s client.
    pub(crate) fn budget(&self, read: PublicRead) -> ClientBudget<'_> {
        ClientBudget {
            upstream: self.upstream.as_ref(),
            client: read.client,
        }
    }
}

impl market::UpstreamBudget for ClientBudget<'_> {
    fn take(&self) -> Result<(), Duration> {
        match (self.upstream, &self.client) {
            (Some(upstream), Some(client)) => upstream.check(client),
            _ => Ok(()),
        }
    }
}

impl PublicRead {
    /// Admits a request with `headers` from `peer` against its client's read allowance (the
    /// extractor's work; also called directly by the seed routes, whose extraction is
    /// synchronous and whose peer may come straight from the server).
    pub(crate) fn admit(
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let client = crate::auth::client_ip(headers, peer, state.auth().trust_forwarded_for)
            .map(ClientKey::of);
        state.read_limiter().admit(client)?;
        Ok(Self { client })
    }
}

impl FromRequestParts<AppState> for PublicRead {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Self::admit(&parts.headers, crate::auth::peer(&parts.extensions), state)
    }
}
