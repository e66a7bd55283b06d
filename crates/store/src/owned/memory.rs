//! [`OwnedLists`] in memory: pages cut from the full lists, capped creates counted and made
//! while holding one lock for every owner (a test store has no contention worth more).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;

use super::{After, Capped, Owned, OwnedLists, has_room};
use crate::{
    Accounts, AlertEvent, AlertStore, AuthToken, Channel, ChannelTarget, MemoryStore, NewRule,
    NewToken, Notification, StoreError, StoredRule, TokenKind, WatchedSymbol,
};

/// Held across a capped create's count and insert.
#[derive(Debug, Default)]
pub(crate) struct OwnerWrites(tokio::sync::Mutex<()>);

/// The rows after `after` (by `key`, ascending), at most `limit`.
fn page_after<T, K: Ord>(
    mut rows: Vec<T>,
    key: impl Fn(&T) -> K,
    after: Option<K>,
    limit: u32,
) -> Vec<T> {
    rows.sort_by_key(|row| key(row));
    rows.into_iter()
        .filter(|row| after.as_ref().is_none_or(|after| key(row) > *after))
        .take(limit as usize)
        .collect()
}

/// The rows before `before` (by `key`, descending), at most `limit`.
fn page_before<T, K: Ord>(
    mut rows: Vec<T>,
    key: impl Fn(&T) -> K,
    before: Option<K>,
    limit: u32,
) -> Vec<T> {
    rows.sort_by_key(|row| std::cmp::Reverse(key(row)));
    rows.into_iter()
        .filter(|row| before.as_ref().is_none_or(|before| key(row) < *before))
        .take(limit as usize)
        .collect()
}

fn key<Id: Clone>(after: Option<&After<Id>>) -> Option<(DateTime<Utc>, Id)> {
    after.map(|a| (a.created_at, a.id.clone()))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl OwnedLists for MemoryStore {
    async fn count_owned(&self, user_id: &str, what: Owned) -> Result<u64, StoreError> {
        let n = match what {
            Owned::Rules => self.rules(user_id).await?.len(),
            Owned::Channels => self.channels(user_id).await?.len(),
            Owned::WatchedSymbols => self.watchlist(user_id).await?.len(),
            Owned::ApiTokens => self.tokens(user_id, TokenKind::Api).await?.len(),
        };
        Ok(n as u64)
    }

    async fn rules_page(
        &self,
        user_id: &str,
        after: Option<&After<i64>>,
        limit: u32,
    ) -> Result<Vec<StoredRule>, StoreError> {
        let rows = self.rules(user_id).await?;
        Ok(page_after(
            rows,
            |r| (r.created_at, r.id),
            key(after),
            limit,
        ))
    }

    async fn alert_events_page(
        &self,
        user_id: &str,
        before: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<AlertEvent>, StoreError> {
        let rows = self.alert_events(user_id, u32::MAX).await?;
        let by = |e: &AlertEvent| (e.created_at, e.id.clone());
        Ok(page_before(rows, by, key(before), limit))
    }

    async fn notifications_page(
        &self,
        user_id: &str,
        before: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = self.notifications(user_id, u32::MAX).await?;
        let by = |n: &Notification| (n.created_at, n.id.clone());
        Ok(page_before(rows, by, key(before), limit))
    }

    async fn channels_page(
        &self,
        user_id: &str,
        after: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<Channel>, StoreError> {
        let rows = self.channels(user_id).await?;
        let by = |c: &Channel| (c.created_at, c.id.clone());
        Ok(page_after(rows, by, key(after), limit))
    }

    async fn api_tokens_page(
        &self,
        user_id: &str,
        after: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<AuthToken>, StoreError> {
        let rows = self.tokens(user_id, TokenKind::Api).await?;
        let by = |t: &AuthToken| (t.created_at, t.id.clone());
        Ok(page_after(rows, by, key(after), limit))
    }

    async fn watchlist_page(
        &self,
        user_id: &str,
        after: Option<Symbol>,
        limit: u32,
    ) -> Result<Vec<WatchedSymbol>, StoreError> {
        let rows = self.watchlist(user_id).await?;
        Ok(page_after(rows, |w| w.symbol, after, limit))
    }

    async fn watched_symbol(
        &self,
        user_id: &str,
        symbol: Symbol,
    ) -> Result<Option<WatchedSymbol>, StoreError> {
        let rows = self.watchlist(user_id).await?;
        Ok(rows.into_iter().find(|w| w.symbol == symbol))
    }

    async fn create_rule_within(
        &self,
        new: &NewRule,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<StoredRule>, StoreError> {
        let _owner = self.owner_writes.0.lock().await;
        if !has_room(count(self.rules(&new.user_id).await?.len()), cap) {
            return Ok(Capped::Full);
        }
        Ok(Capped::Created(self.create_rule(new, at).await?))
    }

    async fn create_channel_within(
        &self,
        user_id: &str,
        target: &ChannelTarget,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<Channel>, StoreError> {
        let _owner = self.owner_writes.0.lock().await;
        if !has_room(count(self.channels(user_id).await?.len()), cap) {
            return Ok(Capped::Full);
        }
        Ok(Capped::Created(
            self.create_channel(user_id, target, at).await?,
        ))
    }

    async fn create_token_within(
        &self,
        new: &NewToken,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<AuthToken>, StoreError> {
        let _owner = self.owner_writes.0.lock().await;
        if new.kind == TokenKind::Api {
            let tokens = self.tokens(&new.user_id, TokenKind::Api).await?;
            if !has_room(count(tokens.len()), cap) {
                return Ok(Capped::Full);
            }
        }
        Ok(Capped::Created(self.create_token(new, at).await?))
    }

    async fn watch_within(
        &self,
        user_id: &str,
        symbol: Symbol,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<(WatchedSymbol, bool)>, StoreError> {
        let _owner = self.owner_writes.0.lock().await;
        let watched = self.watchlist(user_id).await?;
        if let Some(existing) = watched.iter().find(|w| w.symbol == symbol) {
            return Ok(Capped::Created((*existing, false)));
        }
        if !has_room(count(watched.len()), cap) {
            return Ok(Capped::Full);
        }
        Ok(Capped::Created(self.watch(user_id, symbol, at).await?))
    }
}
