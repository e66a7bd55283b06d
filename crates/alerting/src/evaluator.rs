//! The evaluator: quotes in, firings recorded.
//!
//! Holds every active rule in an [`alerts::Engine`] (loaded from the store, reloaded when the
//! store's rule fingerprint changes). For each quote: give the engine the symbol's stored
//! closes and bars when its rules read them (`window_days` moves, series rules); evaluate; write
//! the quote's triggers — for each, the event, outbox rows and the rule's new state — in ONE
//! store transaction (a dedupe key makes a repeat a no-op); nudge the dispatchers and publish
//! the firings; checkpoint the other states that changed and the symbol's last price; and
//! only then acknowledge the quote. A crash anywhere before the acknowledgement redelivers the
//! quote, and the restarted engine (state from the last checkpoint) evaluates it again to the
//! same triggers with the same keys: nothing lost, nothing doubled. Nothing is sent here.
//!
//! A rule that cannot be evaluated costs that rule only: the engine sets it aside (out of range
//! when loaded, its evaluation failed or panicked on a quote), and so does a stored definition
//! or state that no longer parses (`unreadable`, `unreadable_state`: a state is never replaced
//! by a fresh one, which is armed and would let a `once` rule fire again); each is written to the store with its reason
//! ([`store::AlertStore::set_aside_rules`]), so it is not loaded again and its owner sees why,
//! and counted in `stock_api_alert_rule_errors_total{reason}`. A panic outside any one rule's
//! evaluation drops that quote and rebuilds the engine from the store, instead of ending the
//! loop for every user.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use alerts::{Engine, LastQuote, Rule, RuleId, RuleState, Tick, Trigger};
use bus::{AlertFired, Bus, Event, OutboxReady, QuoteEvent, StreamKind};
use chrono::{DateTime, Utc};
use domain::{AlertNotice, SignalsConfig};
use store::{
    LastPrice, RuleCheckpoint, RuleStatus, RulesFingerprint, ScoreKey, SetAsideRecord, Store,
    StoreError, TriggerRecord,
};
use tokio::sync::watch;

use crate::closes::ReferenceCloses;
use crate::series::SeriesBars;

/// The bus group every evaluator joins: one owner per quote partition.
pub const GROUP: &str = "alerts";

/// The longest reason stored for a rule set aside (a panic message could be long).
const MAX_REASON_CHARS: usize = 500;

/// Why the evaluator stopped or skipped work.
#[derive(Debug, thiserror::Error)]
pub enum EvaluatorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    /// A firing's notice could not be written as JSON (a bug: it is plain data).
    #[error("an alert notice could not be serialised: {0}")]
    Notice(serde_json::Error),
}

/// The engine and who owns each of its rules.
#[derive(Debug)]
pub struct Evaluator {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    engine: Engine,
    /// Each rule's owner and its `updated_at` when loaded (the version writes are guarded by).
    owners: HashMap<RuleId, (String, DateTime<Utc>)>,
    fingerprint: RulesFingerprint,
    /// Rules set aside but not yet written to the store (written with the next checkpoint).
    set_aside: Vec<SetAsideRecord>,
    /// The stored daily closes the engine's `window_days` moves compare with.
    closes: ReferenceCloses,
    /// The stored daily bars the engine's series rules read.
    series: SeriesBars,
    /// The composite signal's weights and thresholds, for `"series": "signal"` rules.
    signals: SignalsConfig,
}

/// What the evaluator's series rules are computed with besides the bars.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSettings {
    /// The composite signal's weights and thresholds (`[signals]`), for `"series": "signal"`.
    pub signals: SignalsConfig,
    /// The scoring chain's score keys, preferred first (`service::news::NewsSettings`), whose
    /// stored scores `"series": "sentiment"` and the signal's sentiment component read.
    pub score_keys: Vec<ScoreKey>,
}

impl Default for SeriesSettings {
    fn default() -> Self {
        Self {
            signals: SignalsConfig::default(),
            score_keys: vec![service::news::lexicon_key()],
        }
    }
}

impl Evaluator {
    /// Loads every active rule and every symbol's last price from the store.
    pub async fn load(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Result<Self, EvaluatorError> {
        Self::load_with_signals(store, bus, SignalsConfig::default()).await
    }

    /// [`Evaluator::load`] with `"series": "signal"` computed under `signals` (the configured
    /// `[signals]` weights and thresholds), so a signal rule agrees with the signal endpoints.
    pub async fn load_with_signals(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        signals: SignalsConfig,
    ) -> Result<Self, EvaluatorError> {
        let settings = SeriesSettings {
            signals,
            ..SeriesSettings::default()
        };
        Self::load_with_series(store, bus, settings).await
    }

    /// [`Evaluator::load`] with series rules computed under `settings`: `"series": "signal"`
    /// with the configured weights and thresholds and the session news sentiment, and
    /// `"series": "sentiment"`, from the configured score keys' stored scores, so both agree
    /// with the signal and sentiment endpoints.
    pub async fn load_with_series(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        settings: SeriesSettings,
    ) -> Result<Self, EvaluatorError> {
        let SeriesSettings {
            signals,
            score_keys,
        } = settings;
        let mut evaluator = Self {
            store,
            bus,
            engine: Engine::new(),
            owners: HashMap::new(),
            fingerprint: RulesFingerprint::default(),
            set_aside: Vec::new(),
            closes: ReferenceCloses::default(),
            series: SeriesBars::new(score_keys),
            signals,
        };
        evaluator.reload().await?;
        Ok(evaluator)
    }

    /// Rules in the engine.
    pub fn rules(&self) -> usize {
        self.engine.len()
    }

    /// Rebuilds the engine from the store's active rules (after checkpointing what changed).
    async fn reload(&mut self) -> Result<(), EvaluatorError> {
        self.checkpoint(&HashSet::new()).await?;
        self.rebuild().await
    }

    /// Builds a fresh engine from the store (discarding whatever the current one has not
    /// checkpointed). Rules that cannot be evaluated are set aside as they load.
    async fn rebuild(&mut self) -> Result<(), EvaluatorError> {
        let fingerprint = self.store.rules_fingerprint().await?;
        let mut engine = Engine::new();
        engine.set_signals_config(self.signals);
        let mut owners = HashMap::new();
        for stored in self.store.active_rules().await? {
            let rule: Rule = match serde_json::from_value(stored.definition.clone()) {
                Ok(rule) => rule,
                Err(err) => {
                    self.set_aside_one(
                        stored.id,
                        stored.updated_at,
                        "unreadable",
                        format!("its stored definition does not parse ({err})"),
                    );
                    continue;
                }
            };
            // Never a default in its place: the default is armed, so a `once` rule that fired
            // would fire again. The rule waits for its owner instead.
            let state: RuleState = match serde_json::from_value(stored.state.clone()) {
                Ok(state) => state,
                Err(err) => {
                    self.set_aside_one(
                        stored.id,
                        stored.updated_at,
                        "unreadable_state",
                        format!(
                            "its stored state does not parse ({err}), so whether it may fire again is unknown; replace it (PUT /v1/alerts/{id}) to start it again from a fresh state, or delete it",
                            id = stored.id
                        ),
                    );
                    continue;
                }
            };
            engine.insert(stored.id, rule, state);
            owners.insert(stored.id, (stored.user_id, stored.updated_at));
        }
        // The last prices were just checkpointed: the new engine continues from them.
        for last in self.store.last_quotes().await? {
            engine.restore_quote(LastQuote {
                symbol: last.symbol,
                price: last.price,
                at: last.at,
            });
        }
        self.closes = std::mem::take(&mut self.closes).carry_over(&mut engine);
        self.series = std::mem::take(&mut self.series).carry_over(&mut engine);
        self.engine = engine;
        self.owners = owners;
        self.fingerprint = fingerprint;
        // Rules stored out of range (before the API bounded them) were set aside on insertion.
        self.take_set_aside();
        self.save_set_aside().await?;
        metrics::gauge!("stock_api_alert_rules_set_aside").set(self.fingerprint.set_aside as f64);
        Ok(())
    }

    /// Moves the rules the engine set aside into the list to write.
    fn take_set_aside(&mut self) {
        for aside in self.engine.take_set_aside() {
            let Some((_, version)) = self.owners.remove(&aside.rule_id) else {
                continue;
            };
            self.set_aside_one(aside.rule_id, version, aside.cause.as_str(), aside.reason);
        }
        metrics::gauge!("stock_api_alert_rules_active").set(self.engine.len() as f64);
    }

    fn set_aside_one(
        &mut self,
        rule_id: RuleId,
        version: DateTime<Utc>,
        cause: &'static str,
        reason: String,
    ) {
        tracing::warn!(rule = rule_id, cause, %reason, "alert rule set aside: it cannot be evaluated; its owner can replace or delete it");
        metrics::counter!("stock_api_alert_rule_errors_total", "reason" => cause).increment(1);
        self.set_aside.push(SetAsideRecord {
            rule_id,
            version,
            reason: reason.chars().take(MAX_REASON_CHARS).collect(),
        });
    }

    /// Writes the rules set aside since the last write (kept for the next try on failure).
    async fn save_set_aside(&mut self) -> Result<(), EvaluatorError> {
        if !self.set_aside.is_empty() {
            self.store
                .set_aside_rules(&self.set_aside, Utc::now())
                .await?;
            self.set_aside.clear();
        }
        Ok(())
    }

    /// Reloads when an owner created, changed or removed a rule since the last load.
    pub async fn reload_if_changed(&mut self) -> Result<bool, EvaluatorError> {
        if self.store.rules_fingerprint().await? == self.fingerprint {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Evaluates one quote and records what it fired; returns the events written.
    pub async fn on_quote(&mut self, quote: &QuoteEvent) -> Result<usize, EvaluatorError> {
        self.closes
            .refresh(
                self.store.as_ref(),
                &mut self.engine,
                quote.symbol,
                quote.at,
            )
            .await?;
        self.series
            .refresh(
                self.store.as_ref(),
                &mut self.engine,
                quote.symbol,
                quote.at,
            )
            .await?;
        let tick = Tick {
            symbol: quote.symbol,
            price: quote.price,
            at: quote.at,
            source: quote.source.clone(),
        };
        metrics::counter!("stock_api_alert_evaluations_total").increment(1);
        // Each rule's evaluation is guarded inside the engine; this guards the rest of a tick.
        let Ok(triggers) = catch_unwind(AssertUnwindSafe(|| self.engine.on_tick(&tick))) else {
            // The engine may be torn mid-update: start again from the last checkpoint (every
            // earlier quote's changes are in it) and drop this quote rather than end the loop
            // for every user, or fail on its redelivery again and again.
            tracing::error!(symbol = %quote.symbol, price = %quote.price, at = %quote.at, "evaluating a quote panicked; the quote is dropped and the alert engine rebuilt from the store");
            metrics::counter!("stock_api_alert_rule_errors_total", "reason" => "quote_panic")
                .increment(1);
            self.rebuild().await?;
            return Ok(0);
        };
        let fired = self.record(&triggers).await?;
        if !fired.is_empty() {
            // First, as soon as the firings are stored: the dispatchers start sending while
            // the firings are published and the other rules' states saved.
            let nudge = Event::OutboxReady(OutboxReady {
                count: u32::try_from(fired.len()).unwrap_or(u32::MAX),
            });
            if let Err(err) = self.bus.publish(&nudge).await {
                // Dispatchers also poll: a lost nudge only delays.
                tracing::debug!(error = %err, "could not nudge the dispatchers");
            }
        }
        let written = fired.len();
        // A rule that fired had its new state written with its firing.
        let saved: HashSet<RuleId> = fired.iter().map(|firing| firing.notice.rule_id).collect();
        for firing in fired {
            if let Err(err) = self.bus.publish(&Event::AlertFired(firing)).await {
                tracing::debug!(error = %err, "could not publish the firing (it is stored)");
            }
        }
        // After the triggers: a rule that fired before it was set aside still has its owner.
        self.take_set_aside();
        self.checkpoint(&saved).await?;
        Ok(written)
    }

    /// Writes a quote's triggers in one store transaction; returns the firings written (a
    /// dedupe key recorded before, or a rule no longer current, is not).
    async fn record(&self, triggers: &[Trigger]) -> Result<Vec<AlertFired>, EvaluatorError> {
        let mut notices = Vec::with_capacity(triggers.len());
        let mut records = Vec::with_capacity(triggers.len());
        for trigger in triggers {
            let Some((user_id, version)) = self.owners.get(&trigger.rule_id) else {
                continue;
            };
            let channels = self
                .engine
                .rule(trigger.rule_id)
                .map(|rule| rule.channels.clone())
                .unwrap_or_default();
            // The one description of this firing: stored for the channels, published on the bus.
            let notice = AlertNotice {
                rule_id: trigger.rule_id,
                symbol: trigger.symbol,
                price: trigger.price,
                at: trigger.at,
                source: trigger.source.clone(),
                message: trigger.message.clone(),
                dedupe_key: trigger.dedupe_key.clone(),
            };
            records.push(TriggerRecord {
                rule_id: trigger.rule_id,
                rule_version: *version,
                user_id: user_id.clone(),
                symbol: trigger.symbol,
                price: trigger.price,
                quote_at: trigger.at,
                dedupe_key: trigger.dedupe_key.clone(),
                message: trigger.message.clone(),
                state: serde_json::to_value(trigger.state).unwrap_or_default(),
                status: status_of(&trigger.state),
                channel_ids: channels,
                payload: serde_json::to_value(&notice).map_err(EvaluatorError::Notice)?,
            });
            notices.push(notice);
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let events = self.store.record_triggers(&records, Utc::now()).await?;
        let mut fired = Vec::with_capacity(events.len());
        for ((record, notice), event) in records.into_iter().zip(notices).zip(events) {
            let Some(event) = event else { continue };
            // From when the quote was made, not when it reached this loop: polling and the
            // bus are part of what a user waits for.
            metrics::histogram!("stock_api_alert_tick_to_outbox_seconds")
                .record(seconds_since(notice.at));
            metrics::counter!("stock_api_alert_triggers_total").increment(1);
            tracing::info!(rule = notice.rule_id, symbol = %notice.symbol, price = %notice.price, message = %notice.message, "alert fired");
            fired.push(AlertFired {
                event_id: event.id,
                user_id: record.user_id,
                notice,
            });
        }
        Ok(fired)
    }

    /// Saves the states and last prices that changed since the last checkpoint, and the rules
    /// set aside since; the states of `saved` (rules whose firing wrote them) are not written
    /// again.
    async fn checkpoint(&mut self, saved: &HashSet<RuleId>) -> Result<(), EvaluatorError> {
        self.save_set_aside().await?;
        let states: Vec<RuleCheckpoint> = self
            .engine
            .changed_states()
            .into_iter()
            .filter(|(rule_id, _)| !saved.contains(rule_id))
            .filter_map(|(rule_id, state)| {
                let (_, version) = self.owners.get(&rule_id)?;
                Some(RuleCheckpoint {
                    rule_id,
                    version: *version,
                    state: serde_json::to_value(state).unwrap_or_default(),
                    status: status_of(&state),
                })
            })
            .collect();
        if !states.is_empty() {
            self.store.checkpoint_rules(&states, Utc::now()).await?;
        }
        let quotes: Vec<LastPrice> = self
            .engine
            .changed_quotes()
            .into_iter()
            .map(|q| LastPrice {
                symbol: q.symbol,
                price: q.price,
                at: q.at,
            })
            .collect();
        if !quotes.is_empty() {
            self.store.save_last_quotes(&quotes).await?;
        }
        Ok(())
    }

    /// Consumes quotes until `stop` turns true, reloading rules every `reload_every`.
    pub async fn run(
        mut self,
        reload_every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), EvaluatorError> {
        let mut quotes = self.bus.subscribe(StreamKind::Quotes, GROUP).await?;
        let mut reload = tokio::time::interval(reload_every);
        loop {
            tokio::select! {
                delivery = quotes.next() => {
                    let Some(delivery) = delivery else { return Ok(()) };
                    let Event::Quote(quote) = delivery.event().clone() else {
                        let _ = delivery.ack().await;
                        continue;
                    };
                    match self.on_quote(&quote).await {
                        Ok(_) => {
                            let _ = delivery.ack().await;
                        }
                        Err(err) => {
                            tracing::warn!(symbol = %quote.symbol, error = %err, "could not record a quote's firings; it will be redelivered");
                            let _ = delivery.nak().await;
                        }
                    }
                }
                _ = reload.tick() => {
                    if let Err(err) = self.reload_if_changed().await {
                        tracing::warn!(error = %err, "could not reload alert rules");
                    }
                }
                () = crate::stopped(&mut stop) => {
                    let _ = self.checkpoint(&HashSet::new()).await;
                    quotes.close().await;
                    return Ok(());
                }
            }
        }
    }
}

/// Seconds from `at` (a quote's own time) to now; 0 for a quote stamped in the future (a
/// provider's clock ahead of ours).
pub(crate) fn seconds_since(at: DateTime<Utc>) -> f64 {
    (Utc::now() - at)
        .to_std()
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// The stored status a rule's state means.
fn status_of(state: &RuleState) -> RuleStatus {
    if state.expired {
        RuleStatus::Expired
    } else if state.armed {
        RuleStatus::Active
    } else {
        RuleStatus::Disarmed
    }
}
