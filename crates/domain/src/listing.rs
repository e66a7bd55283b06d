//! Which exchange calendar a symbol's daily bars follow, from the symbol alone.
//!
//! stockd knows one calendar, the NYSE's (which is also Nasdaq's for full-day closures), and
//! applies it only to symbols that look like US listings:
//!
//! - plain tickers: `MSFT`, `IBM`, `BRK-B` (letters, digits, `-`);
//! - share classes written with a dot and one letter `A`, `B` or `C`: `BRK.B`, `BF.A`.
//!
//! Everything else is another market, whose sessions stockd does not know, and gets no
//! calendar: an exchange suffix (`TSCO.L`, `TSCO.LON`, `SHOP.TO`, `7203.T`, `SAP.DE`: any other
//! dot suffix), an index (`^GSPC`, `^FTSE`: the caret does not say which market), a currency or
//! future (`EURUSD=X`, `ES=F`). Such symbols are never checked against, or moved onto, NYSE
//! sessions.

use crate::calendar::TradingCalendar;
use crate::symbol::Symbol;

impl TradingCalendar {
    /// The calendar `symbol`'s daily bars follow, when stockd knows it (see the module docs):
    /// the NYSE for US listings, `None` for other markets.
    pub fn of_symbol(symbol: Symbol) -> Option<TradingCalendar> {
        let text = symbol.as_str();
        if text.contains(['^', '=']) {
            return None;
        }
        match text.rsplit_once('.') {
            None => Some(TradingCalendar::NYSE),
            Some((_, "A" | "B" | "C")) => Some(TradingCalendar::NYSE),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Option<TradingCalendar> {
        TradingCalendar::of_symbol(Symbol::parse(text).unwrap())
    }

    #[test]
    fn us_listings_and_their_share_classes_follow_the_nyse() {
        for us in ["MSFT", "IBM", "BRK.B", "brk.a", "BF.B", "BRK-B", "SPY"] {
            assert_eq!(of(us), Some(TradingCalendar::NYSE), "{us}");
        }
    }

    #[test]
    fn other_markets_indices_and_currencies_have_no_known_calendar() {
        for other in [
            "TSCO.L", "TSCO.LON", "SHOP.TO", "7203.T", "SAP.DE", "^GSPC", "^FTSE", "EURUSD=X",
            "ES=F",
        ] {
            assert_eq!(of(other), None, "{other}");
        }
    }
}
