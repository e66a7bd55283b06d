//! The statements the alert path runs alike on SQLite and PostgreSQL. They use PostgreSQL's
//! numbered parameters (`$1`), which sqlx's SQLite driver binds by number as well.
//! [`sql_alert_store`] writes `impl AlertStore` for a store type from these shared methods plus
//! the ones each backend does its own way (firings, checkpoints, last quotes, a batch's delivery
//! outcomes: a transaction on SQLite, single statements over arrays on PostgreSQL). Claims hold the outbox the store's
//! way: `begin immediate` on SQLite, `for update skip locked` on PostgreSQL (`write_tx`,
//! `SKIP_LOCKED`). The whole impl comes out of the macro so `#[async_trait]` sees every method.
//! Paths in the shared methods resolve where the macro is used (`alerts::sqlite` and
//! `alerts::postgres` import the same names).

/// `#[async_trait] impl AlertStore for $store { <shared methods> $specific }`.
macro_rules! sql_alert_store {
    ($store:ty, { $($specific:tt)* }) => {
        #[async_trait]
        impl AlertStore for $store {
            async fn create_rule(
                &self,
                new: &NewRule,
                at: DateTime<Utc>,
            ) -> Result<StoredRule, StoreError> {
                crate::OwnedLists::create_rule_within(self, new, at, None)
                    .await?
                    .uncapped()
            }

            async fn rule(&self, user_id: &str, id: i64) -> Result<Option<StoredRule>, StoreError> {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "select {RULE_COLUMNS} from alert_rules where id = $1 and user_id = $2"
                )))
                .bind(id)
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?;
                row.as_ref().map(rule).transpose()
            }

            async fn rules(&self, user_id: &str) -> Result<Vec<StoredRule>, StoreError> {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "select {RULE_COLUMNS} from alert_rules where user_id = $1 order by created_at, id"
                )))
                .bind(user_id)
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(rule).collect()
            }

            async fn change_rule(
                &self,
                user_id: &str,
                id: i64,
                change: &RuleChange,
                at: DateTime<Utc>,
            ) -> Result<Option<StoredRule>, StoreError> {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "update alert_rules set definition = coalesce($1, definition), \
                     state = coalesce($2, state), status = coalesce($3, status), updated_at = $4, \
                     set_aside_at = null, set_aside_reason = null \
                     where id = $5 and user_id = $6 returning {RULE_COLUMNS}"
                )))
                .bind(change.definition.as_ref().map(json_text))
                .bind(change.state.as_ref().map(json_text))
                .bind(change.status.map(RuleStatus::as_str))
                .bind(at)
                .bind(id)
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?;
                row.as_ref().map(rule).transpose()
            }

            async fn delete_rule(&self, user_id: &str, id: i64) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from alert_rules where id = $1 and user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }

            async fn active_rules(&self) -> Result<Vec<StoredRule>, StoreError> {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "select {RULE_COLUMNS} from alert_rules \
                     where status = 'active' and set_aside_at is null order by created_at, id"
                )))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(rule).collect()
            }

            async fn alert_events(&self, user_id: &str, limit: u32) -> Result<Vec<AlertEvent>, StoreError> {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "select {EVENT_COLUMNS} from alert_events where user_id = $1 \
                     order by created_at desc, id desc limit $2"
                )))
                .bind(user_id)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(event).collect()
            }

            async fn acknowledge_event(
                &self,
                user_id: &str,
                event_id: &str,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let updated = sqlx::query(
                    "update alert_events set acknowledged_at = coalesce(acknowledged_at, $1) \
                     where id = $2 and user_id = $3",
                )
                .bind(at)
                .bind(event_id)
                .bind(user_id)
                .execute(self.pool())
                .await?
                .rows_affected();
                Ok(updated == 1)
            }

            async fn notifications(
                &self,
                user_id: &str,
                limit: u32,
            ) -> Result<Vec<Notification>, StoreError> {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "select {NOTIFICATION_COLUMNS} from notifications where user_id = $1 \
                     order by created_at desc, id desc limit $2"
                )))
                .bind(user_id)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
                rows.iter().map(notification).collect()
            }

            async fn last_quotes(&self) -> Result<Vec<LastPrice>, StoreError> {
                let rows: Vec<(String, i64, DateTime<Utc>)> =
                    sqlx::query_as("select symbol, price_e9, quote_at from alert_last_quotes")
                        .fetch_all(self.pool())
                        .await?;
                rows.into_iter()
                    .map(|(symbol, price, at)| {
                        Ok(LastPrice {
                            symbol: parse_symbol(&symbol)?,
                            price: Price::from_raw(price),
                            at,
                        })
                    })
                    .collect()
            }

            async fn rules_fingerprint(&self) -> Result<RulesFingerprint, StoreError> {
                type Row = (i64, Option<i64>, Option<i64>, Option<DateTime<Utc>>);
                let (rules, active, set_aside, changed_at): Row = sqlx::query_as(
                    "select count(*), \
                     sum(case when status = 'active' and set_aside_at is null then 1 else 0 end), \
                     sum(case when set_aside_at is null then 0 else 1 end), \
                     max(updated_at) from alert_rules",
                )
                .fetch_one(self.pool())
                .await?;
                Ok(RulesFingerprint {
                    rules,
                    active: active.unwrap_or(0),
                    set_aside: set_aside.unwrap_or(0),
                    changed_at,
                })
            }

            async fn set_aside_rules(
                &self,
                rules: &[SetAsideRecord],
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool().begin().await?;
                for rule in rules {
                    sqlx::query(
                        "update alert_rules set set_aside_at = $1, set_aside_reason = $2 \
                         where id = $3 and updated_at = $4 and status = 'active' \
                         and set_aside_at is null",
                    )
                    .bind(at)
                    .bind(&rule.reason)
                    .bind(rule.rule_id)
                    .bind(rule.version)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delivery_attempts(
                &self,
                user_id: &str,
                notification_id: &str,
            ) -> Result<Option<Vec<DeliveryAttempt>>, StoreError> {
                let owned: i64 =
                    sqlx::query_scalar("select count(*) from notifications where id = $1 and user_id = $2")
                        .bind(notification_id)
                        .bind(user_id)
                        .fetch_one(self.pool())
                        .await?;
                if owned == 0 {
                    return Ok(None);
                }
                let rows = sqlx::query(AssertSqlSafe(format!("select {ATTEMPT_COLUMNS} from notification_attempts where notification_id = $1 order by attempt")))
                    .bind(notification_id)
                    .fetch_all(self.pool())
                    .await?;
                rows.iter().map(attempt).collect::<Result<_, _>>().map(Some)
            }

            async fn acknowledge_rule_events(
                &self,
                user_id: &str,
                rule_id: i64,
                at: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                Ok(sqlx::query("update alert_events set acknowledged_at = $1 where rule_id = $2 and user_id = $3 and acknowledged_at is null")
                    .bind(at)
                    .bind(rule_id)
                    .bind(user_id)
                    .execute(self.pool())
                    .await?
                    .rows_affected())
            }

            async fn active_rule_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
                let symbols: Vec<String> = sqlx::query_scalar(
                    "select distinct symbol from alert_rules \
                     where status = 'active' and set_aside_at is null order by symbol",
                )
                .fetch_all(self.pool())
                .await?;
                symbols.iter().map(|s| parse_symbol(s)).collect()
            }

            async fn watched_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
                let symbols: Vec<String> =
                    sqlx::query_scalar("select distinct symbol from watchlist order by symbol")
                        .fetch_all(self.pool())
                        .await?;
                symbols.iter().map(|s| parse_symbol(s)).collect()
            }

            async fn claim_notifications(
                &self,
                worker: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<Notification>, StoreError> {
                let mut tx = self.write_tx().await?;
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "update notifications set status = 'sending', attempts = attempts + 1, \
                     worker = $1, lease_until = $2, updated_at = $3 \
                     where id in (select id from notifications \
                         where (status = 'pending' and next_attempt_at <= $3) \
                            or (status = 'sending' and lease_until < $3) \
                         order by next_attempt_at, id limit $4{}) \
                     returning {NOTIFICATION_COLUMNS}",
                    Self::SKIP_LOCKED
                )))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                rows.iter().map(notification).collect()
            }

            $($specific)*
        }
    };
}
