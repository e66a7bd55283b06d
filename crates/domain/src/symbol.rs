//! Ticker symbols: parsing, normalisation and a copyable, allocation-free representation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest symbol stockd accepts (`BRK.B`, `TSCO.LON` and `EURUSD=X` fit with room to spare).
pub const MAX_SYMBOL_LEN: usize = 15;

/// A ticker symbol: 1–15 characters of `A-Z`, `0-9`, `.`, `-`, `^`, `=`, stored upper case.
///
/// It is `Copy` and never allocates, because it keys caches and maps on the hot read path.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    bytes: [u8; MAX_SYMBOL_LEN],
    len: u8,
}

/// Why a text is not a symbol; the message says what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    #[error("symbol is empty; use a ticker such as MSFT")]
    Empty,
    #[error("symbol '{0}' is longer than {MAX_SYMBOL_LEN} characters")]
    TooLong(String),
    #[error(
        "symbol '{text}' contains '{bad}'; use only letters, digits and . - ^ = (for example MSFT, BRK.B, ^GSPC)"
    )]
    InvalidCharacter { text: String, bad: char },
}

impl Symbol {
    /// Parses and normalises a symbol to upper case.
    pub fn parse(text: &str) -> Result<Self, SymbolError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SymbolError::Empty);
        }
        // Bytes, not chars: every allowed character is one ASCII byte, so the first byte that
        // is not one starts the offending character (everything before it is ASCII).
        if let Some(at) = text
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'^' | b'=')))
        {
            return Err(SymbolError::InvalidCharacter {
                text: truncate_for_message(text),
                bad: text[at..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
            });
        }
        if text.len() > MAX_SYMBOL_LEN {
            return Err(SymbolError::TooLong(truncate_for_message(text)));
        }
        let mut bytes = [0u8; MAX_SYMBOL_LEN];
        for (slot, byte) in bytes.iter_mut().zip(text.bytes()) {
            *slot = byte.to_ascii_uppercase();
        }
        Ok(Self {
            bytes,
            len: text.len() as u8,
        })
    }

    /// The symbol as text, upper case.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// Keeps error messages bounded when someone sends a megabyte as a symbol.
fn truncate_for_message(text: &str) -> String {
    const LIMIT: usize = 40;
    if text.chars().count() <= LIMIT {
        text.to_owned()
    } else {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{head}…")
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and alignment (`{:<8}`) for tables.
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.as_str())
    }
}

impl AsRef<str> for Symbol {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lower_case_is_normalised_to_upper_case() {
        assert_eq!(
            Symbol::parse("msft").map(|s| s.to_string()),
            Ok("MSFT".into())
        );
        assert_eq!(
            Symbol::parse(" brk.b ").map(|s| s.to_string()),
            Ok("BRK.B".into())
        );
    }

    #[test]
    fn index_fx_and_class_share_symbols_are_accepted() {
        for text in [
            "^GSPC",
            "EURUSD=X",
            "BF-B",
            "TSCO.LON",
            "A",
            "123456789012345",
        ] {
            assert!(Symbol::parse(text).is_ok(), "{text} should parse");
        }
    }

    #[test]
    fn invalid_symbols_are_rejected_with_a_reason() {
        assert_eq!(Symbol::parse(""), Err(SymbolError::Empty));
        assert!(matches!(
            Symbol::parse("1234567890123456"),
            Err(SymbolError::TooLong(_))
        ));
        assert!(matches!(
            Symbol::parse("MS FT"),
            Err(SymbolError::InvalidCharacter { bad: ' ', .. })
        ));
        assert!(matches!(
            Symbol::parse("ÉTÉ"),
            Err(SymbolError::InvalidCharacter { bad: 'É', .. })
        ));
        let message = Symbol::parse("../etc").map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("letters, digits"), "{message}");
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let symbol: Symbol = serde_json::from_str("\"aapl\"").unwrap();
        assert_eq!(serde_json::to_string(&symbol).unwrap(), "\"AAPL\"");
        assert!(serde_json::from_str::<Symbol>("\"a b\"").is_err());
    }

    proptest! {
        #[test]
        fn any_valid_text_parses_to_its_upper_case(text in "[a-zA-Z0-9.^=-]{1,15}") {
            let symbol = Symbol::parse(&text).unwrap();
            prop_assert_eq!(symbol.as_str(), text.to_ascii_uppercase());
        }

        #[test]
        fn parsing_never_panics(text in ".{0,40}") {
            let _ = Symbol::parse(&text);
        }
    }
}
