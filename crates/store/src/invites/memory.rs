//! Invitations in memory: the same contract as the databases. A code is claimed under the lock
//! before the user is created and released again if the email is taken, so two registrations
//! racing with one code cannot both spend it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Invite, InvitedSignup, Invites, NewInvite, new_invite};
use crate::{Accounts, MemoryStore, NewUser, StoreError};

/// The memory store's invitations, by id (UUID v7: id order is creation order).
#[derive(Debug, Default)]
pub(crate) struct MemoryInvites(Mutex<BTreeMap<String, Invite>>);

impl MemoryInvites {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Invite>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks the usable invitation with this hash used at `at` (by nobody yet); its id.
    fn claim(&self, code_hash: &str, at: DateTime<Utc>) -> Option<String> {
        let mut invites = self.lock();
        let invite = invites
            .values_mut()
            .find(|i| i.code_hash == code_hash && i.is_usable(at))?;
        invite.used_at = Some(at);
        Some(invite.id.clone())
    }

    fn settle(&self, id: &str, used_by: Option<String>) {
        if let Some(invite) = self.lock().get_mut(id) {
            if used_by.is_none() {
                invite.used_at = None;
            }
            invite.used_by = used_by;
        }
    }

    /// Forgets a deleted user as creator and as user of invitations (`on delete set null`).
    pub(crate) fn forget_user(&self, user_id: &str) {
        for invite in self.lock().values_mut() {
            if invite.created_by.as_deref() == Some(user_id) {
                invite.created_by = None;
            }
            if invite.used_by.as_deref() == Some(user_id) {
                invite.used_by = None;
            }
        }
    }
}

#[async_trait]
impl Invites for MemoryStore {
    async fn create_invite(
        &self,
        new: &NewInvite,
        at: DateTime<Utc>,
    ) -> Result<Invite, StoreError> {
        let invite = new_invite(new, at);
        self.invites
            .lock()
            .insert(invite.id.clone(), invite.clone());
        Ok(invite)
    }

    async fn invites(&self) -> Result<Vec<Invite>, StoreError> {
        Ok(self.invites.lock().values().rev().cloned().collect())
    }

    async fn usable_invite(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invite>, StoreError> {
        Ok(self
            .invites
            .lock()
            .values()
            .find(|i| i.code_hash == code_hash && i.is_usable(now))
            .cloned())
    }

    async fn delete_invite(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.invites.lock().remove(id).is_some())
    }

    async fn create_user_with_invite(
        &self,
        new: &NewUser,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<InvitedSignup, StoreError> {
        let Some(invite_id) = self.invites.claim(code_hash, at) else {
            return Ok(InvitedSignup::InviteUnusable);
        };
        match self.create_user(new, at).await {
            Ok(Some(user)) => {
                self.invites.settle(&invite_id, Some(user.id.clone()));
                Ok(InvitedSignup::Created(user))
            }
            Ok(None) => {
                self.invites.settle(&invite_id, None);
                Ok(InvitedSignup::EmailTaken)
            }
            Err(err) => {
                self.invites.settle(&invite_id, None);
                Err(err)
            }
        }
    }
}
