//! The caller's price alert rules (create, read, replace, delete, pause, resume), their
//! firings (events, acknowledged by the user) and the dry run (backtests over stored daily
//! history).
//!
//! A rule is exactly [`alerts::Rule`]; the `alerts` crate names the fields a kind takes and
//! checks the values against their ranges (`expires_at` against the clock), this module what
//! needs the store or the read path: that every channel is one of the caller's, that the
//! symbol is known. Everything is owner-scoped: another user's rule id answers "not found"
//! like an id that does not exist.
//!
//! Rules are evaluated elsewhere (the `alerting` loops reload rules when
//! `AlertStore::rules_fingerprint` changes); this module only writes definitions, statuses and,
//! when a rule must start again, a fresh armed state.

use std::collections::BTreeMap;

use alerts::{Condition, Fire, Rule, RuleState, SeriesSpec, Span};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Series, Symbol, TradingCalendar};
use market::{CacheStatus, MarketError, Served};
use providers::ProviderError;
use serde_json::Value;
use store::{After, AlertEvent, NewRule, RuleChange, RuleStatus, StoredRule};

use crate::{Caller, Service, ServiceError, UserCaps};

/// The most channels one rule notifies. Each is looked up in the store when the rule is
/// checked, and each firing writes one notification per channel: without a bound, one body
/// of a few megabytes would cost hundreds of thousands of reads (and a quadratic duplicate
/// check on an async worker).
const MAX_RULE_CHANNELS: usize = 20;

/// The most unknown fields one 422 names.
const MAX_UNKNOWN_NAMED: usize = 10;

/// When a rule would have fired over stored history.
#[derive(Debug)]
pub struct Backtest {
    pub symbol: Symbol,
    /// The bars replayed.
    pub bars: usize,
    /// The first and last trading day replayed (none when no bar was in range).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The provider the history came from.
    pub source: String,
    /// True when the provider is failing and the history is an older copy.
    pub stale: bool,
    pub fires: Vec<Fire>,
}

/// A read of a symbol's daily history, as the read path answered it.
type HistoryRead = Result<Served<Series>, MarketError>;

fn not_found() -> ServiceError {
    ServiceError::NotFound("you have no alert rule with this id".into())
}

/// A rule id as a caller gave it: anything that is not a number cannot be one of the caller's.
pub fn rule_id(text: &str) -> Result<i64, ServiceError> {
    text.parse().map_err(|_| not_found())
}

/// Parses a rule body: its shape, before its values are checked. The kind is checked first so
/// that an unknown or missing one is named with every known kind, instead of serde's message
/// about the first field it tripped over; then every key the kind does not take is named
/// (serde would drop it silently: `Rule` flattens its condition, and `deny_unknown_fields`
/// does not work with `flatten`).
pub fn parse_rule(body: Value) -> Result<Rule, ServiceError> {
    let known = Condition::KINDS.join(", ");
    match body.get("kind") {
        Some(Value::String(kind)) if Condition::KINDS.contains(&kind.as_str()) => {
            refuse_unknown_fields(kind, &body)?;
            refuse_bad_series(&body)?;
            refuse_bad_times(&body)?;
        }
        Some(Value::String(kind)) => {
            return Err(ServiceError::Unprocessable(format!(
                "kind: unknown kind '{}'; known kinds: {known}",
                kind.chars().take(40).collect::<String>()
            )));
        }
        _ if !body.is_object() => {
            return Err(ServiceError::Unprocessable(
                "invalid body: a rule is a JSON object".into(),
            ));
        }
        _ => {
            return Err(ServiceError::Unprocessable(format!(
                "kind: is required, one of {known}"
            )));
        }
    }
    serde_json::from_value(body)
        .map_err(|err| ServiceError::Unprocessable(format!("invalid rule: {err}")))
}

/// 422 naming each duration (`cooldown`, `window`) or instant (`expires_at`) that does not
/// parse, with the parser's own message: serde's would not name the field, since the
/// condition's fields are flattened into the rule.
fn refuse_bad_times(body: &Value) -> Result<(), ServiceError> {
    let mut problems = Vec::new();
    for field in ["cooldown", "window"] {
        if let Some(value) = body.get(field).filter(|value| !value.is_null())
            && let Err(err) = serde_json::from_value::<Span>(value.clone())
        {
            problems.push(format!("{field}: {err}"));
        }
    }
    if let Some(value) = body.get("expires_at").filter(|value| !value.is_null())
        && let Err(err) = serde_json::from_value::<DateTime<Utc>>(value.clone())
    {
        problems.push(format!(
            "expires_at: {err}; use an RFC 3339 instant such as 2027-01-31T21:00:00Z"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Unprocessable(problems.join("; ")))
    }
}

/// 422 naming `series` or `other` when it is not a series this build can watch, with the
/// valid indicators and their parameter ranges (serde's message would not name the field).
fn refuse_bad_series(body: &Value) -> Result<(), ServiceError> {
    let mut problems = Vec::new();
    for field in ["series", "other"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) => {
                if let Err(err) = name.parse::<SeriesSpec>() {
                    problems.push(format!("{field}: {err}"));
                }
            }
            Some(_) => problems.push(format!(
                "{field}: must be a series name such as \"rsi:14\", \"sma:50\" or \
                 \"macd:12:26:9.histogram\""
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Unprocessable(problems.join("; ")))
    }
}

/// 422 naming each key of `body` that a rule of `kind` does not take, with the ones it does.
fn refuse_unknown_fields(kind: &str, body: &Value) -> Result<(), ServiceError> {
    let keys = body
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key.as_str());
    let unknown = Rule::unknown_fields(kind, keys);
    if unknown.is_empty() {
        return Ok(());
    }
    let takes = Rule::fields(kind).join(", ");
    let mut problems: Vec<String> = unknown
        .iter()
        .take(MAX_UNKNOWN_NAMED)
        .map(|field| {
            format!(
                "{}: unknown field; a rule of kind {kind} takes {takes}",
                field.chars().take(64).collect::<String>()
            )
        })
        .collect();
    if unknown.len() > MAX_UNKNOWN_NAMED {
        problems.push(format!(
            "and {} more unknown fields",
            unknown.len() - MAX_UNKNOWN_NAMED
        ));
    }
    Err(ServiceError::Unprocessable(problems.join("; ")))
}

/// The problem when the read path says the symbol does not exist. Any other failure (a
/// provider down, a quota spent) accepts the rule: creating an alert must not depend on the
/// upstream being healthy right now, and a rule on a symbol that really is unknown simply never
/// fires.
fn unknown_symbol(err: &MarketError) -> Option<String> {
    match err {
        MarketError::Provider(
            ProviderError::UnknownSymbol { symbol, .. } | ProviderError::NoData { symbol, .. },
        ) => Some(format!(
            "symbol: unknown symbol {symbol} (no provider has prices for it)"
        )),
        _ => None,
    }
}

fn definition(rule: &Rule) -> Result<Value, ServiceError> {
    serde_json::to_value(rule).map_err(|_| ServiceError::Internal("a rule could not be serialised"))
}

fn state_json(state: &RuleState) -> Result<Value, ServiceError> {
    serde_json::to_value(state)
        .map_err(|_| ServiceError::Internal("a rule state could not be serialised"))
}

/// A stored rule's definition and state, read back. A definition or state that no longer
/// parses (the engine set the rule aside as unreadable) is a conflict: the owner can only
/// replace or delete it.
fn decode(stored: &StoredRule) -> Result<(Rule, RuleState), ServiceError> {
    let unreadable = |what: &str| {
        ServiceError::Conflict(format!(
            "the stored {what} of rule {} cannot be read; replace it (PUT /v1/alerts/{}) or delete it",
            stored.id, stored.id
        ))
    };
    let rule =
        serde_json::from_value(stored.definition.clone()).map_err(|_| unreadable("definition"))?;
    let state = serde_json::from_value(stored.state.clone()).map_err(|_| unreadable("state"))?;
    Ok((rule, state))
}

impl Service {
    /// Everything wrong with `rule` for `caller`, as one 422 naming each field. On success,
    /// the read of the symbol's history that checking the symbol made, failed or not (the dry
    /// run replays it, or answers with its error, rather than ask the upstream twice).
    async fn validate_rule(
        &self,
        caller: &Caller,
        rule: &Rule,
    ) -> Result<HistoryRead, ServiceError> {
        let mut problems: Vec<String> = match rule.validate_at(Utc::now()) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        };
        let store = self.store();
        let channels: &[String] = if rule.channels.len() > MAX_RULE_CHANNELS {
            problems.push(format!(
                "channels: at most {MAX_RULE_CHANNELS} per rule (got {})",
                rule.channels.len()
            ));
            &[]
        } else {
            &rule.channels
        };
        for (i, id) in channels.iter().enumerate() {
            if channels[..i].contains(id) {
                problems.push(format!("channels[{i}]: '{id}' is listed twice"));
            } else if store.channel(&caller.user.id, id).await?.is_none() {
                problems.push(format!(
                    "channels[{i}]: you have no channel '{}' (see GET /v1/me/channels)",
                    id.chars().take(64).collect::<String>()
                ));
            }
        }
        let history = self.symbol_history(rule.symbol).await;
        if let Some(problem) = history.as_ref().err().and_then(unknown_symbol) {
            problems.push(problem);
        }
        if problems.is_empty() {
            Ok(history)
        } else {
            Err(ServiceError::Unprocessable(problems.join("; ")))
        }
    }

    /// The symbol's daily history, read to check that the symbol exists.
    async fn symbol_history(&self, symbol: Symbol) -> HistoryRead {
        let read = self.market().daily(symbol).await;
        if let Err(err) = &read
            && unknown_symbol(err).is_none()
        {
            tracing::warn!(%symbol, error = %err, "could not check an alert's symbol; accepting it");
        }
        read
    }

    /// One of the caller's rules.
    pub async fn rule(&self, caller: &Caller, id: i64) -> Result<StoredRule, ServiceError> {
        self.store()
            .rule(&caller.user.id, id)
            .await?
            .ok_or_else(not_found)
    }

    async fn change_rule(
        &self,
        caller: &Caller,
        id: i64,
        change: RuleChange,
    ) -> Result<StoredRule, ServiceError> {
        self.store()
            .change_rule(&caller.user.id, id, &change, Utc::now())
            .await?
            .ok_or_else(not_found)
    }

    /// Creates the rule in `body` ([`parse_rule`]), armed and active, within
    /// `max_rules_per_user`.
    pub async fn create_rule(
        &self,
        caller: &Caller,
        body: Value,
    ) -> Result<StoredRule, ServiceError> {
        let rule = parse_rule(body)?;
        // Only the checks matter here; the history read for them stays in the cache.
        let _history = self.validate_rule(caller, &rule).await?;
        let new = NewRule {
            user_id: caller.user.id.clone(),
            symbol: rule.symbol,
            definition: definition(&rule)?,
            state: state_json(&RuleState::armed())?,
            status: RuleStatus::Active,
        };
        let cap = UserCaps::of(self.settings().caps.rules);
        let created = self
            .store()
            .create_rule_within(&new, Utc::now(), cap)
            .await?;
        let store::Capped::Created(stored) = created else {
            let cap = cap.unwrap_or_default();
            return Err(ServiceError::CapReached {
                setting: "max_rules_per_user",
                cap,
                detail: format!(
                    "you have {cap} alert rules, the most one account may; delete one you no longer need (DELETE /v1/alerts/{{id}})"
                ),
            });
        };
        Ok(stored)
    }

    /// Up to `limit` of the caller's rules after `after`, oldest first.
    pub async fn rules(
        &self,
        caller: &Caller,
        after: Option<&After<i64>>,
        limit: u32,
    ) -> Result<Vec<StoredRule>, ServiceError> {
        Ok(self
            .store()
            .rules_page(&caller.user.id, after, limit)
            .await?)
    }

    /// Replaces a rule's definition with the one in `body` (same checks as creating one). The
    /// state is kept when the
    /// symbol and condition are unchanged; otherwise the rule starts again armed, and a
    /// disarmed or expired rule becomes active. A paused rule stays paused.
    pub async fn replace_rule(
        &self,
        caller: &Caller,
        id: i64,
        body: Value,
    ) -> Result<StoredRule, ServiceError> {
        let current = self.rule(caller, id).await?;
        let rule = parse_rule(body)?;
        // Only the checks matter here; the history read for them stays in the cache.
        let _history = self.validate_rule(caller, &rule).await?;
        // An unreadable old definition (set aside as such) is simply replaced.
        let same = decode(&current).is_ok_and(|(old, _)| old.same_watch(&rule));
        let mut update = RuleChange {
            definition: Some(definition(&rule)?),
            ..RuleChange::default()
        };
        if !same {
            update.state = Some(state_json(&RuleState::armed())?);
            if matches!(current.status, RuleStatus::Disarmed | RuleStatus::Expired) {
                update.status = Some(RuleStatus::Active);
            }
        }
        self.change_rule(caller, id, update).await
    }

    /// Deletes a rule with its events and notifications.
    pub async fn delete_rule(&self, caller: &Caller, id: i64) -> Result<(), ServiceError> {
        if self.store().delete_rule(&caller.user.id, id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// Pauses a rule: it is not evaluated until resumed (its state is kept).
    pub async fn pause_rule(&self, caller: &Caller, id: i64) -> Result<StoredRule, ServiceError> {
        let update = RuleChange {
            status: Some(RuleStatus::Paused),
            ..RuleChange::default()
        };
        self.change_rule(caller, id, update).await
    }

    /// Resumes a rule. A rule still armed keeps its state; a disarmed or expired one starts
    /// again armed. One whose `expires_at` has passed cannot be resumed (a conflict).
    pub async fn resume_rule(&self, caller: &Caller, id: i64) -> Result<StoredRule, ServiceError> {
        let current = self.rule(caller, id).await?;
        let (rule, rule_state) = decode(&current)?;
        if let Some(expires_at) = rule.expires_at
            && expires_at <= Utc::now()
        {
            return Err(ServiceError::Conflict(format!(
                "the rule expired at {expires_at}; replace it (PUT /v1/alerts/{id}) with a later expires_at or none, then resume it"
            )));
        }
        // Re-arm only what is disarmed: a rule paused while armed keeps its trailing peak and
        // cooldown.
        let update = RuleChange {
            status: Some(RuleStatus::Active),
            state: if rule_state.armed {
                None
            } else {
                Some(state_json(&RuleState::armed())?)
            },
            ..RuleChange::default()
        };
        self.change_rule(caller, id, update).await
    }

    /// Acknowledges every unacknowledged event of one of the caller's rules; how many.
    pub async fn acknowledge_rule(&self, caller: &Caller, id: i64) -> Result<u64, ServiceError> {
        self.rule(caller, id).await?;
        Ok(self
            .store()
            .acknowledge_rule_events(&caller.user.id, id, Utc::now())
            .await?)
    }

    /// Acknowledges one of the caller's events.
    pub async fn acknowledge_event(
        &self,
        caller: &Caller,
        event_id: &str,
    ) -> Result<(), ServiceError> {
        if self
            .store()
            .acknowledge_event(&caller.user.id, event_id, Utc::now())
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound(
                "you have no alert event with this id".into(),
            ))
        }
    }

    /// Up to `limit` of the caller's events older than `before`, newest first.
    pub async fn alert_events(
        &self,
        caller: &Caller,
        before: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<AlertEvent>, ServiceError> {
        Ok(self
            .store()
            .alert_events_page(&caller.user.id, before, limit)
            .await?)
    }

    /// The dry run of a rule not stored (same checks as creating one) over `from..=to`.
    pub async fn backtest_rule(
        &self,
        caller: &Caller,
        rule: &Rule,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Backtest, ServiceError> {
        let history = self.validate_rule(caller, rule).await?;
        self.backtest(rule, from, to, Some(history)).await
    }

    /// The session news sentiment a backtest of `rule` over `bars` (oldest first) reads: each
    /// session's score from `from`'s previous bar on (a crossing compares with it), for rules
    /// on `"sentiment"` or `"signal"` (its sentiment component, as the signal endpoints read
    /// it); nothing for the rest, which never read it.
    async fn rule_sentiment(
        &self,
        rule: &Rule,
        bars: &[Bar],
        from: Option<NaiveDate>,
    ) -> Result<BTreeMap<NaiveDate, f64>, ServiceError> {
        let reads = [rule.series, rule.other]
            .into_iter()
            .flatten()
            .any(|series| series.is_score());
        if !reads {
            return Ok(BTreeMap::new());
        }
        let days: Vec<NaiveDate> = bars.iter().map(|bar| bar.date).collect();
        let since = from.and_then(|from| {
            let start = days.partition_point(|day| *day < from);
            days.get(start.checked_sub(1)?).copied()
        });
        let series = crate::news::sentiment::session_sentiment(
            self.store(),
            self.sentiment_keys(),
            rule.symbol,
            &days,
            since,
        )
        .await?;
        Ok(series
            .into_iter()
            .map(|(day, reading)| (day, reading.score.get()))
            .collect())
    }

    /// One of the caller's stored rules, to replay: its definition, refused (422) when a value
    /// is out of range (stored before the ranges existed; its expiry may have passed: that is
    /// no reason not to replay it).
    pub async fn rule_to_replay(&self, caller: &Caller, id: i64) -> Result<Rule, ServiceError> {
        let stored = self.rule(caller, id).await?;
        let (rule, _) = decode(&stored)?;
        if let Err(errors) = rule.validate() {
            let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(ServiceError::Unprocessable(format!(
                "{}; replace the rule (PUT /v1/alerts/{}) with values in range",
                problems.join("; "),
                stored.id
            )));
        }
        Ok(rule)
    }

    /// Replays `rule` over the symbol's stored daily history within `from..=to` (`history`
    /// when the caller read it already, else read now).
    pub async fn backtest(
        &self,
        rule: &Rule,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        history: Option<HistoryRead>,
    ) -> Result<Backtest, ServiceError> {
        let served = match history {
            Some(read) => read?,
            None => self.market().daily(rule.symbol).await?,
        };
        let bars = served.value.between(from, to);
        // The replay is CPU work proportional to the history (thousands of bars): off the
        // async workers. The bars before `from` warm it up (previous close, earlier closes,
        // windows).
        let replay_rule = rule.clone();
        let replay_bars = served.value.between(None, to).to_vec();
        // `"series": "signal"` under the configured method, as the signal endpoints compute it.
        let signals = self.settings().signals;
        let sentiment = self.rule_sentiment(rule, &replay_bars, from).await?;
        let fires = tokio::task::spawn_blocking(move || {
            alerts::backtest_with_sentiment(
                &replay_rule,
                &replay_bars,
                TradingCalendar::NYSE,
                from,
                signals,
                &sentiment,
            )
        })
        .await
        .map_err(|_| ServiceError::Internal("a backtest panicked"))?
        // What live evaluation would set aside (validation keeps it from happening to a rule
        // checked today): said like a validation problem.
        .map_err(|aside| {
            ServiceError::Unprocessable(format!("the rule cannot be evaluated: {}", aside.reason))
        })?;
        Ok(Backtest {
            symbol: rule.symbol,
            bars: bars.len(),
            from: bars.first().map(|bar| bar.date),
            to: bars.last().map(|bar| bar.date),
            source: served.value.source.clone(),
            stale: served.cache == CacheStatus::Stale,
            fires,
        })
    }
}
