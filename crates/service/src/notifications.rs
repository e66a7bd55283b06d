//! The caller's delivery log: notifications and each one's attempts.

use store::{After, DeliveryAttempt, Notification};

use crate::{Caller, Service, ServiceError};

impl Service {
    /// Up to `limit` of the caller's notifications older than `before`, newest first.
    pub async fn notifications(
        &self,
        caller: &Caller,
        before: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<Notification>, ServiceError> {
        Ok(self
            .store()
            .notifications_page(&caller.user.id, before, limit)
            .await?)
    }

    /// Every delivery attempt of one of the caller's notifications, oldest first.
    pub async fn delivery_attempts(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<DeliveryAttempt>, ServiceError> {
        self.store()
            .delivery_attempts(&caller.user.id, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("you have no notification with this id".into()))
    }
}
