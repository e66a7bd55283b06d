//! Provider usage in SQLite: one upsert that adds within a window and starts a newer one
//! afresh, atomic because SQLite runs one writer at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    ProviderPause, ProviderUsage, UsageCounts, counts, current, minute_start, pause_row, sql_count,
    utc_day,
};
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

    async fn pause_provider(
        &self,
        provider: &str,
        pause: &ProviderPause,
    ) -> Result<(), StoreError> {
        // The `where` keeps a pause that lasts as long or longer (another replica's).
        sqlx::query(
            "insert into provider_pauses (provider, paused_until, rate_limit, detail, paused_at) \
             values (?, ?, ?, ?, ?) \
             on conflict (provider) do update set \
             paused_until = excluded.paused_until, rate_limit = excluded.rate_limit, \
             detail = excluded.detail, paused_at = excluded.paused_at \
             where provider_pauses.paused_until < excluded.paused_until",
        )
        .bind(provider)
        .bind(pause.until)
        .bind(&pause.limit)
        .bind(&pause.detail)
        .bind(pause.since)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn provider_pause(
        &self,
        provider: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<ProviderPause>, StoreError> {
        let row = sqlx::query(
            "select paused_until, rate_limit, detail, paused_at from provider_pauses \
             where provider = ?",
        )
        .bind(provider)
        .fetch_optional(self.pool())
        .await?;
        Ok(current(row.as_ref().map(pause_row).transpose()?, at))
    }
}
