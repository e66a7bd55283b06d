//! What a stream subscribes to: `quotes:<SYMBOL>` (one per symbol), `alerts` and
//! `notifications` (the caller's own), `signals` (label changes of every symbol) or
//! `signals:<SYMBOL>`, comma-separated.

use std::collections::BTreeSet;

use domain::Symbol;

use crate::ServiceError;

/// The most topics one stream may name.
pub const MAX_TOPICS: usize = 64;

/// A stream's parsed topics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topics {
    pub quotes: BTreeSet<Symbol>,
    pub alerts: bool,
    pub notifications: bool,
    /// Label changes of every symbol.
    pub all_signals: bool,
    /// Label changes of these symbols.
    pub signals: BTreeSet<Symbol>,
}

const HELP: &str = "name topics as a comma-separated list of quotes:<SYMBOL>, alerts, \
                    notifications, signals or signals:<SYMBOL> (e.g. topics=quotes:MSFT,alerts)";

impl Topics {
    /// Parses `topics=` text; 400 naming the entry at fault.
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        let entries: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if entries.is_empty() {
            return Err(ServiceError::BadRequest(format!("topics: empty; {HELP}")));
        }
        if entries.len() > MAX_TOPICS {
            return Err(ServiceError::BadRequest(format!(
                "topics: {} given, at most {MAX_TOPICS} per stream",
                entries.len()
            )));
        }
        let mut topics = Topics::default();
        for entry in entries {
            let (name, symbol) = match entry.split_once(':') {
                Some((name, symbol)) => (name, Some(symbol)),
                None => (entry, None),
            };
            let symbol = symbol
                .map(|text| {
                    Symbol::parse(text).map_err(|err| {
                        ServiceError::BadRequest(format!("topics: '{entry}': {err}"))
                    })
                })
                .transpose()?;
            match (name.to_ascii_lowercase().as_str(), symbol) {
                ("quotes", Some(symbol)) => {
                    topics.quotes.insert(symbol);
                }
                ("quotes", None) => {
                    return Err(ServiceError::BadRequest(
                        "topics: 'quotes' needs a symbol, one per topic: quotes:MSFT,quotes:AAPL"
                            .into(),
                    ));
                }
                ("alerts", None) => topics.alerts = true,
                ("notifications", None) => topics.notifications = true,
                ("signals", None) => topics.all_signals = true,
                ("signals", Some(symbol)) => {
                    topics.signals.insert(symbol);
                }
                _ => {
                    return Err(ServiceError::BadRequest(format!(
                        "topics: unknown topic '{entry}'; {HELP}"
                    )));
                }
            }
        }
        Ok(topics)
    }

    /// Whether label changes of `symbol` are wanted.
    pub(crate) fn wants_signal(&self, symbol: &Symbol) -> bool {
        self.all_signals || self.signals.contains(symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    #[test]
    fn topics_parse_and_bad_ones_say_what_to_fix() {
        let topics = Topics::parse("quotes:MSFT, quotes:aapl,alerts,notifications").unwrap();
        assert_eq!(topics.quotes, BTreeSet::from([sym("MSFT"), sym("AAPL")]));
        assert!(topics.alerts && topics.notifications);
        assert!(!topics.wants_signal(&sym("MSFT")));
        let signals = Topics::parse("signals").unwrap();
        assert!(signals.wants_signal(&sym("IBM")));
        let one = Topics::parse("signals:MSFT").unwrap();
        assert!(one.wants_signal(&sym("MSFT")) && !one.wants_signal(&sym("IBM")));
        let both = Topics::parse("signals,signals:MSFT").unwrap();
        assert!(
            both.wants_signal(&sym("IBM")),
            "`signals` keeps every symbol"
        );

        for (bad, says) in [
            ("", "empty"),
            ("quotes", "needs a symbol"),
            ("quotes:", "topics: 'quotes:'"),
            ("weather", "unknown topic 'weather'"),
            ("alerts:MSFT", "unknown topic"),
        ] {
            let err = Topics::parse(bad).unwrap_err();
            assert!(
                matches!(&err, ServiceError::BadRequest(t) if t.contains(says)),
                "{bad}: {err}"
            );
        }
        let many = (0..=MAX_TOPICS)
            .map(|n| format!("quotes:S{n}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(Topics::parse(&many).is_err());
    }
}
