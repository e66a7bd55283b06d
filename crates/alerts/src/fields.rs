//! The wire fields of a rule, per `kind`: the one list the unknown-field check reads.
//!
//! [`Rule`] flattens its [`Condition`] beside `kind`, and serde's `deny_unknown_fields` does not
//! work with `flatten`: a misspelt `expires` would be dropped silently. So the body's keys are
//! checked against these lists before it is parsed ([`Rule::unknown_fields`]); a test
//! serialises every kind with every field set and compares its keys with the list, so the lists
//! cannot drift from the structs.

use crate::rule::{Condition, Rule};

/// The fields every rule has, whatever its kind.
pub const COMMON_FIELDS: &[&str] = &[
    "symbol",
    "kind",
    "frequency",
    "cooldown",
    "channels",
    "expires_at",
];

/// A level kind compares the price with `price`, or a `series` with `value` or `other`.
const LEVEL_FIELDS: &[&str] = &["price", "series", "value", "other"];
const MOVE_FIELDS: &[&str] = &["percent", "window_days", "window", "vs_previous_close"];
const TRAIL_FIELDS: &[&str] = &["percent", "amount", "activation_price", "side"];

/// Each kind's own fields (besides [`COMMON_FIELDS`]), in the order the docs list them.
const KIND_FIELDS: [(&str, &[&str]); 8] = [
    ("above", LEVEL_FIELDS),
    ("below", LEVEL_FIELDS),
    ("crosses_up", LEVEL_FIELDS),
    ("crosses_down", LEVEL_FIELDS),
    ("crosses", LEVEL_FIELDS),
    ("moves_up_pct", MOVE_FIELDS),
    ("moves_down_pct", MOVE_FIELDS),
    ("trailing_stop", TRAIL_FIELDS),
];

const fn kind_names() -> [&'static str; KIND_FIELDS.len()] {
    let mut names = [""; KIND_FIELDS.len()];
    let mut i = 0;
    while i < KIND_FIELDS.len() {
        names[i] = KIND_FIELDS[i].0;
        i += 1;
    }
    names
}

const KIND_NAMES: [&str; KIND_FIELDS.len()] = kind_names();

impl Condition {
    /// The wire names of every kind, for error messages.
    pub const KINDS: &'static [&'static str] = &KIND_NAMES;

    /// The fields of `kind` besides [`COMMON_FIELDS`]; `None` for an unknown kind.
    pub fn fields_of(kind: &str) -> Option<&'static [&'static str]> {
        KIND_FIELDS
            .iter()
            .find(|(name, _)| *name == kind)
            .map(|(_, fields)| *fields)
    }
}

impl Rule {
    /// Every field a rule of `kind` takes (common ones first); empty for an unknown kind.
    pub fn fields(kind: &str) -> Vec<&'static str> {
        match Condition::fields_of(kind) {
            Some(own) => COMMON_FIELDS.iter().chain(own).copied().collect(),
            None => Vec::new(),
        }
    }

    /// The keys of a rule body of `kind` that no such rule has, in the order given (all of
    /// them for an unknown kind).
    pub fn unknown_fields<'a>(kind: &str, keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let own = Condition::fields_of(kind).unwrap_or_default();
        keys.into_iter()
            .filter(|key| !COMMON_FIELDS.contains(key) && !own.contains(key))
            .collect()
    }
}
