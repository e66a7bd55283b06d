//! Rules set aside: one rule that cannot be evaluated leaves the engine on its own, and every
//! other rule keeps firing.
//!
//! The engine sets a rule aside when it is inserted with values out of range (see
//! [`Rule::validate`](crate::Rule::validate): a rule stored before those bounds existed), when
//! its evaluation fails ([`EvalError`](crate::eval::EvalError)), or when its evaluation panics
//! anyway: the engine asks a tick's rules under `catch_unwind` and sets aside the rule it was
//! asking, so a bug that only one rule's values reach costs that rule, not the process. The caller drains [`SetAside`]s with
//! [`Engine::take_set_aside`](crate::Engine::take_set_aside), persists them and shows them to
//! the rule's owner, who can replace or delete the rule.

use std::any::Any;

use crate::rule::RuleId;

/// Why a rule was set aside, as a fixed label (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetAsideCause {
    /// A value is outside the ranges validation allows.
    OutOfRange,
    /// Its evaluation could not be computed (e.g. a cooldown ending past the last instant).
    Evaluation,
    /// Its evaluation panicked (a bug, contained to this rule).
    Panic,
}

impl SetAsideCause {
    /// The metric label: `out_of_range`, `evaluation` or `panic`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OutOfRange => "out_of_range",
            Self::Evaluation => "evaluation",
            Self::Panic => "panic",
        }
    }
}

/// A rule the engine took out of evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub rule_id: RuleId,
    pub cause: SetAsideCause,
    /// What is wrong, for the rule's owner: the field and its allowed range where there is one
    /// (`cooldown: must be between 1s and 366d (got …)`).
    pub reason: String,
}

/// The reason to set aside a rule whose evaluation panicked, from the panic's payload.
pub(crate) fn panic_reason(payload: &(dyn Any + Send)) -> String {
    format!("its evaluation failed ({})", panic_text(payload))
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_carries_the_panic_message() {
        let formatted: Box<dyn Any + Send> = Box::new(format!("overflowed at {}", 42));
        assert!(panic_reason(formatted.as_ref()).contains("overflowed at 42"));
        let fixed: Box<dyn Any + Send> = Box::new("a static message");
        assert!(panic_reason(fixed.as_ref()).contains("a static message"));
        let opaque: Box<dyn Any + Send> = Box::new(7_u8);
        assert!(panic_reason(opaque.as_ref()).contains("without a message"));
    }
}
