//! Instances in SQLite and PostgreSQL: one set of statements for both, stamped out per store
//! type by [`sql_instances`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Instance, Instances};
use crate::{PostgresStore, SqliteStore, StoreError};

/// `impl Instances for $store` over its `pool()`.
macro_rules! sql_instances {
    ($store:ty) => {
        #[async_trait]
        impl Instances for $store {
            async fn record_heartbeat(&self, instance: &Instance) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into instances (id, role, version, started_at, last_seen) \
                     values ($1, $2, $3, $4, $5) \
                     on conflict (id) do update set role = excluded.role, \
                     version = excluded.version, last_seen = excluded.last_seen",
                )
                .bind(&instance.id)
                .bind(&instance.role)
                .bind(&instance.version)
                .bind(instance.started_at)
                .bind(instance.last_seen)
                .execute(self.pool())
                .await?;
                Ok(())
            }

            async fn instances(&self) -> Result<Vec<Instance>, StoreError> {
                Ok(sqlx::query_as(
                    "select id, role, version, started_at, last_seen from instances \
                     order by started_at desc, id",
                )
                .fetch_all(self.pool())
                .await?)
            }

            async fn forget_instances(
                &self,
                seen_before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query("delete from instances where last_seen < $1")
                    .bind(seen_before)
                    .execute(self.pool())
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

sql_instances!(SqliteStore);
sql_instances!(PostgresStore);
