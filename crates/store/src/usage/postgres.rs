//! Provider usage in PostgreSQL: one `insert … on conflict do update`, which takes the row's
//! lock, so concurrent recorders (other replicas) add up instead of overwriting each other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    ProviderPause, ProviderUsage, UsageCounts, counts, current, minute_start, pause_row, sql_count,
    utc_day,
};
use crate::{PostgresStore, StoreError};

#[async_trait]
impl ProviderUsage for PostgresStore {
    async fn record_provider_calls(
        &self,
        provider: &str,
        calls: u64,
        at: DateTime<Utc>,
    ) -> Result<UsageCounts, StoreError> {
        // Every `set` expression reads the row as it was before the update. A late record for
        // an older window leaves the newer one as it is.
        let row = sqlx::query(
            "insert into provider_usage (provider, minute_start, minute_calls, day, day_calls) \
             values ($1, $2, $3, $4, $3) \
             on conflict (provider) do update set \
             minute_calls = case \
               when provider_usage.minute_start = excluded.minute_start \
                 then provider_usage.minute_calls + excluded.minute_calls \
               when provider_usage.minute_start > excluded.minute_start \
                 then provider_usage.minute_calls \
               else excluded.minute_calls end, \
             minute_start = greatest(provider_usage.minute_start, excluded.minute_start), \
             day_calls = case \
               when provider_usage.day = excluded.day \
                 then provider_usage.day_calls + excluded.day_calls \
               when provider_usage.day > excluded.day then provider_usage.day_calls \
               else excluded.day_calls end, \
             day = greatest(provider_usage.day, excluded.day) \
             returning minute_start, minute_calls, day, day_calls",
        )
        .bind(provider)
        .bind(minute_start(at))
        .bind(sql_count(calls))
        .bind(utc_day(at))
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
             where provider = $1",
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
             values ($1, $2, $3, $4, $5) \
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
             where provider = $1",
        )
        .bind(provider)
        .fetch_optional(self.pool())
        .await?;
        Ok(current(row.as_ref().map(pause_row).transpose()?, at))
    }
}
