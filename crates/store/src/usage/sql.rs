//! Provider usage in SQLite and PostgreSQL: one set of statements for both (PostgreSQL's `$1`
//! parameters, which sqlx's SQLite driver binds by number), stamped out per store type by
//! [`sql_provider_usage`]. Recording is one `insert … on conflict do update`: atomic on SQLite,
//! which runs one writer at a time, and on PostgreSQL, where it takes the row's lock, so
//! concurrent recorders (other replicas) add up instead of overwriting each other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    ProviderPause, ProviderUsage, UsageCounts, UsageRow, current, minute_start, sql_count, utc_day,
};
use crate::{PostgresStore, SqliteStore, StoreError};

/// `impl ProviderUsage for $store` over its `pool()`.
macro_rules! sql_provider_usage {
    ($store:ty) => {
        #[async_trait]
        impl ProviderUsage for $store {
            async fn record_provider_calls(
                &self,
                provider: &str,
                calls: u64,
                at: DateTime<Utc>,
            ) -> Result<UsageCounts, StoreError> {
                // Every `set` expression reads the row as it was before the update. A late
                // record for an older window leaves the newer one as it is. SQLite stores the
                // windows as RFC 3339 and ISO dates, whose text order is their time order.
                let row: UsageRow = sqlx::query_as(
                    "insert into provider_usage (provider, minute_start, minute_calls, day, \
                     day_calls) values ($1, $2, $3, $4, $3) \
                     on conflict (provider) do update set \
                     minute_calls = case \
                       when provider_usage.minute_start = excluded.minute_start \
                         then provider_usage.minute_calls + excluded.minute_calls \
                       when provider_usage.minute_start > excluded.minute_start \
                         then provider_usage.minute_calls \
                       else excluded.minute_calls end, \
                     minute_start = case \
                       when provider_usage.minute_start > excluded.minute_start \
                         then provider_usage.minute_start else excluded.minute_start end, \
                     day_calls = case \
                       when provider_usage.day = excluded.day \
                         then provider_usage.day_calls + excluded.day_calls \
                       when provider_usage.day > excluded.day then provider_usage.day_calls \
                       else excluded.day_calls end, \
                     day = case \
                       when provider_usage.day > excluded.day \
                         then provider_usage.day else excluded.day end \
                     returning minute_start, minute_calls, day, day_calls",
                )
                .bind(provider)
                .bind(minute_start(at))
                .bind(sql_count(calls))
                .bind(utc_day(at))
                .fetch_one(self.pool())
                .await?;
                row.try_into()
            }

            async fn provider_usage(
                &self,
                provider: &str,
                at: DateTime<Utc>,
            ) -> Result<UsageCounts, StoreError> {
                let row: Option<UsageRow> = sqlx::query_as(
                    "select minute_start, minute_calls, day, day_calls from provider_usage \
                     where provider = $1",
                )
                .bind(provider)
                .fetch_optional(self.pool())
                .await?;
                Ok(match row {
                    Some(row) => UsageCounts::try_from(row)?.as_of(at),
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
                    "insert into provider_pauses (provider, paused_until, rate_limit, detail, \
                     paused_at) values ($1, $2, $3, $4, $5) \
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
                let pause: Option<ProviderPause> = sqlx::query_as(
                    "select paused_until, rate_limit, detail, paused_at from provider_pauses \
                     where provider = $1",
                )
                .bind(provider)
                .fetch_optional(self.pool())
                .await?;
                Ok(current(pause, at))
            }
        }
    };
}

sql_provider_usage!(SqliteStore);
sql_provider_usage!(PostgresStore);
