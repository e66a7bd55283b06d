//! Finnhub's `/quote` JSON and its translation into a domain [`Quote`].
//!
//! Prices are JSON numbers; they are captured as raw text ([`JsonPrice`]) and parsed exactly.
//! Reference: <https://finnhub.io/docs/api/quote>.

use chrono::{DateTime, Utc};
use domain::{Price, Quote, Symbol, new_york};
use serde::Deserialize;

use super::NAME;
use crate::ProviderError;
use crate::http::malformed;
use crate::json_number::JsonPrice;

/// A `/quote` answer. Fields we do not use (`d`, `dp`, `h`, `l`, `o`) are ignored; `d` and `dp`
/// are `null` for unknown symbols.
///
/// ```json
/// {"c": 189.84, "d": 1.46, "dp": 0.775, "h": 190.32, "l": 188.19, "o": 188.5, "pc": 188.38, "t": 1704488400}
/// {"c": 0, "d": null, "dp": null, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}
/// ```
#[derive(Debug, Deserialize)]
pub(super) struct QuoteResponse {
    /// Current (last) price.
    c: JsonPrice,
    /// Previous close; 0 when there is none.
    pc: Option<JsonPrice>,
    /// Time of the last price, UNIX seconds; 0 for unknown symbols.
    t: i64,
}

/// The quote in a `/quote` answer; all zeros (`c == 0 && t == 0`) means an unknown symbol.
///
/// Finnhub's free plan covers US listings, so the trading day is the New York date of `t`.
pub(super) fn quote(
    body: QuoteResponse,
    symbol: Symbol,
    fetched_at: DateTime<Utc>,
) -> Result<Quote, ProviderError> {
    let zero = Price::default();
    if body.c.0 == zero && body.t == 0 {
        return Err(ProviderError::UnknownSymbol {
            symbol,
            detail: "Finnhub does not recognise this symbol; check the ticker (US listings, \
                     e.g. AAPL, MSFT)"
                .to_owned(),
        });
    }
    let as_of = DateTime::from_timestamp(body.t, 0)
        .ok_or_else(|| malformed(NAME, format_args!("time {} is out of range", body.t)))?;
    let trading_day = new_york::date_of(as_of);
    // A listing's first day has no previous close; Finnhub sends 0 then.
    let previous_close = body.pc.map(|pc| pc.0).filter(|pc| *pc != zero);
    Ok(Quote {
        symbol,
        price: body.c.0,
        previous_close,
        trading_day,
        as_of: Some(as_of),
        source: NAME.to_owned(),
        fetched_at,
    })
}
