//! Accounts in memory, under one lock: the same contract as the databases, cascading deletes
//! included.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;

use super::{
    Accounts, AuthToken, Channel, ChannelTarget, NewToken, NewUser, TokenKind, User, UserUpdate,
    UserUpdated, WatchedSymbol, new_id,
};
use crate::{MemoryStore, StoreError};

#[derive(Debug, Default)]
struct Tables {
    /// By id; ids are UUID v7, so id order is creation order.
    users: BTreeMap<String, User>,
    tokens: BTreeMap<String, AuthToken>,
    watchlist: BTreeMap<(String, Symbol), DateTime<Utc>>,
    channels: BTreeMap<String, Channel>,
}

impl Tables {
    fn email_taken(&self, email: &str, except: Option<&str>) -> bool {
        self.users
            .values()
            .any(|u| u.email.eq_ignore_ascii_case(email) && Some(u.id.as_str()) != except)
    }
}

/// The memory store's accounts tables.
#[derive(Debug, Default)]
pub(crate) struct MemoryAccounts(Mutex<Tables>);

impl MemoryAccounts {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every watched symbol with the earliest time anyone added it.
    pub(crate) fn watched_symbols(&self) -> BTreeMap<Symbol, DateTime<Utc>> {
        let mut out = BTreeMap::new();
        for ((_, symbol), at) in &self.lock().watchlist {
            out.entry(*symbol)
                .and_modify(|first: &mut DateTime<Utc>| *first = (*first).min(*at))
                .or_insert(*at);
        }
        out
    }
}

#[async_trait]
impl Accounts for MemoryStore {
    async fn create_user(
        &self,
        new: &NewUser,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let mut tables = self.accounts.lock();
        if tables.email_taken(&new.email, None) {
            return Ok(None);
        }
        let user = User {
            id: new_id(),
            email: new.email.clone(),
            display_name: new.display_name.clone(),
            password_hash: new.password_hash.clone(),
            is_admin: new.is_admin,
            created_at: at,
            updated_at: at,
        };
        tables.users.insert(user.id.clone(), user.clone());
        Ok(Some(user))
    }

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.accounts.lock().users.get(id).cloned())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .cloned())
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.accounts.lock().users.values().cloned().collect())
    }

    async fn update_user(
        &self,
        id: &str,
        update: &UserUpdate,
        at: DateTime<Utc>,
    ) -> Result<UserUpdated, StoreError> {
        let mut tables = self.accounts.lock();
        if let Some(email) = &update.email
            && tables.email_taken(email, Some(id))
        {
            return Ok(if tables.users.contains_key(id) {
                UserUpdated::EmailTaken
            } else {
                UserUpdated::NotFound
            });
        }
        let Some(user) = tables.users.get_mut(id) else {
            return Ok(UserUpdated::NotFound);
        };
        if let Some(email) = &update.email {
            user.email.clone_from(email);
        }
        if let Some(name) = &update.display_name {
            user.display_name.clone_from(name);
        }
        if let Some(hash) = &update.password_hash {
            user.password_hash.clone_from(hash);
        }
        user.updated_at = at;
        Ok(UserUpdated::Updated(user.clone()))
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let mut tables = self.accounts.lock();
        if tables.users.remove(id).is_none() {
            return Ok(false);
        }
        // What the databases' ON DELETE CASCADE does.
        tables.tokens.retain(|_, t| t.user_id != id);
        tables.watchlist.retain(|(user, _), _| user != id);
        tables.channels.retain(|_, c| c.user_id != id);
        drop(tables);
        self.invites.forget_user(id);
        Ok(true)
    }

    async fn create_token(
        &self,
        new: &NewToken,
        at: DateTime<Utc>,
    ) -> Result<AuthToken, StoreError> {
        let mut tables = self.accounts.lock();
        if !tables.users.contains_key(&new.user_id) {
            return Err(StoreError::Corrupt(format!("no user {}", new.user_id)));
        }
        let token = new.stored(new_id(), at);
        tables.tokens.insert(token.id.clone(), token.clone());
        Ok(token)
    }

    async fn token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(AuthToken, User)>, StoreError> {
        let tables = self.accounts.lock();
        let Some(token) = tables
            .tokens
            .values()
            .find(|t| t.token_hash == token_hash && t.expires_at.is_none_or(|end| end > now))
        else {
            return Ok(None);
        };
        Ok(tables
            .users
            .get(&token.user_id)
            .map(|user| (token.clone(), user.clone())))
    }

    async fn tokens(&self, user_id: &str, kind: TokenKind) -> Result<Vec<AuthToken>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .tokens
            .values()
            .filter(|t| t.user_id == user_id && t.kind == kind)
            .cloned()
            .collect())
    }

    async fn delete_token(&self, user_id: &str, token_id: &str) -> Result<bool, StoreError> {
        let mut tables = self.accounts.lock();
        if tables
            .tokens
            .get(token_id)
            .is_some_and(|t| t.user_id == user_id)
        {
            tables.tokens.remove(token_id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tables = self.accounts.lock();
        let before = tables.tokens.len();
        tables
            .tokens
            .retain(|_, t| t.expires_at.is_none_or(|end| end > now));
        Ok((before - tables.tokens.len()) as u64)
    }

    async fn watch(
        &self,
        user_id: &str,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(WatchedSymbol, bool), StoreError> {
        let mut tables = self.accounts.lock();
        if !tables.users.contains_key(user_id) {
            return Err(StoreError::Corrupt(format!("no user {user_id}")));
        }
        let key = (user_id.to_owned(), symbol);
        let added = !tables.watchlist.contains_key(&key);
        let added_at = *tables.watchlist.entry(key).or_insert(at);
        Ok((WatchedSymbol { symbol, added_at }, added))
    }

    async fn unwatch(&self, user_id: &str, symbol: Symbol) -> Result<bool, StoreError> {
        Ok(self
            .accounts
            .lock()
            .watchlist
            .remove(&(user_id.to_owned(), symbol))
            .is_some())
    }

    async fn watchlist(&self, user_id: &str) -> Result<Vec<WatchedSymbol>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .watchlist
            .iter()
            .filter(|((user, _), _)| user == user_id)
            .map(|((_, symbol), at)| WatchedSymbol {
                symbol: *symbol,
                added_at: *at,
            })
            .collect())
    }

    async fn create_channel(
        &self,
        user_id: &str,
        target: &ChannelTarget,
        at: DateTime<Utc>,
    ) -> Result<Channel, StoreError> {
        let mut tables = self.accounts.lock();
        if !tables.users.contains_key(user_id) {
            return Err(StoreError::Corrupt(format!("no user {user_id}")));
        }
        let channel = Channel {
            id: new_id(),
            user_id: user_id.to_owned(),
            target: Ok(target.clone()),
            created_at: at,
        };
        tables.channels.insert(channel.id.clone(), channel.clone());
        Ok(channel)
    }

    async fn channels(&self, user_id: &str) -> Result<Vec<Channel>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .channels
            .values()
            .filter(|c| c.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn channel(&self, user_id: &str, id: &str) -> Result<Option<Channel>, StoreError> {
        Ok(self
            .accounts
            .lock()
            .channels
            .get(id)
            .filter(|c| c.user_id == user_id)
            .cloned())
    }

    async fn update_channel(
        &self,
        user_id: &str,
        id: &str,
        target: &ChannelTarget,
    ) -> Result<Option<Channel>, StoreError> {
        let mut tables = self.accounts.lock();
        let Some(channel) = tables.channels.get_mut(id).filter(|c| c.user_id == user_id) else {
            return Ok(None);
        };
        channel.target = Ok(target.clone());
        Ok(Some(channel.clone()))
    }

    async fn delete_channel(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut tables = self.accounts.lock();
        if tables
            .channels
            .get(id)
            .is_some_and(|c| c.user_id == user_id)
        {
            tables.channels.remove(id);
            return Ok(true);
        }
        Ok(false)
    }
}
