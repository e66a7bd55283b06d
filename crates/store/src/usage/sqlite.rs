//! Provider usage in SQLite: one upsert that adds within a window and starts a newer one
//! afresh, atomic because SQLite runs one writer at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ProviderUsage, UsageCounts, counts, minute_start, sql_count, utc_day};
use crate::{SqliteStore, StoreError};

#[async_trait]
impl ProviderUsage for SqliteStore {
    async fn record_provider_calls(
        &self,
        provider: &str,
        calls: u64,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError> {
        let calls = sql_count(calls);
        // Every `set` expression reads the row as it was before the update. Windows are RFC 3339
        // and ISO dates, whose text order is their time order. A late record for an older window
        // leaves the newer one as it is.
        let row = sqlx::query(
            "insert into provider_usage (provider, minute_start, minute_calls, day, day_calls) \
             values (?, ?, ?, ?, ?) \
             on conflict (provider) do update set \
             minute_calls = case \
               when provider_usage.minute_start = excluded.minute_start \
                 then provider_usage.minute_calls + excluded.minute_calls \
               when provider_usage.minute_start > excluded.minute_start \
                 then provider_usage.minute_calls \
               else excluded.minute_calls end, \
             minute_start = max(provider_usage.minute_start, excluded.minute_start), \
             day_calls = case \
               when provider_usage.day = excluded.day \
                 then provider_usage.day_calls + excluded.day_calls \
               when provider_usage.day > excluded.day then provider_usage.day_calls \
               else excluded.day_calls end, \
             day = max(provider_usage.day, excluded.day) \
             returning minute_start, minute_calls, day, day_calls",
        )
        .bind(provider)
        .bind(minute_start(at))
        .bind(calls)
        .bind(utc_day(at))
        .bind(calls)
        .fetch_one(self.pool())
        .await?;
        counts(&row)
    }

    async fn provider_usage(
        &self,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError> {
        let row = sqlx::query(
            "select minute_start, minute_calls, day, day_calls from provider_usage \
             where provider = ?",
        )
        .bind(provider)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(row) => counts(&row)?.as_of(at),
            None => UsageCounts::empty(at),
        })
    }
}
