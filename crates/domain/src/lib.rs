//! stockd's domain model: the values every other crate speaks in.
//!
//! - [`Symbol`]: a validated, upper-case ticker (`MSFT`, `BRK.B`, `^GSPC`, `EURUSD=X`).
//! - [`Price`]: an exact fixed-point price (i64 at 1e-9), parsed from provider text without
//!   passing through `f64`.
//! - [`Bar`]: one trading day's OHLCV, checked for consistency on construction.
//! - [`Series`]: a symbol's daily bars with provenance (which source, fetched when).
//! - [`Quote`]: the latest price with its change versus the previous close.
//! - [`Delta`]: how a symbol moved over a range (change, high/low, max drawdown).
//! - [`ChannelTarget`]: where a user's notifications go (a webhook with its [`WebhookFormat`],
//!   an email address, a phone number); its `Debug` hides secrets and webhook paths.
//! - [`AlertNotice`]: what one firing of an alert rule tells its owner's channels.
//! - [`Signal`]: a symbol's composite trading signal for one day (a score in [-1, 1], a
//!   [`SignalLabel`], and the [`SignalComponent`]s with the evidence behind them), and
//!   [`SignalsConfig`], the weights and label thresholds that produce it.
//! - [`TradingCalendar`]: which days an exchange trades (NYSE holidays, early closes), and
//!   which symbols follow it ([`TradingCalendar::of_symbol`]: US listings).
//! - [`news`]: [`news::NewsItem`], one article about symbols as a news source delivered it (with
//!   the provider's own sentiment as a second opinion), and [`news::plain_summary`], the bounded
//!   plain-text rule for untrusted article text, and [`news::canonical_url`], the key an article
//!   is stored under once (tracking parameters and fragments dropped).
//! - [`new_york`]: the one place UTC instants become New York dates and wall-clock times (and
//!   back), for every crate that needs US exchange time.
//!
//! This crate does no I/O, has no async and knows nothing of HTTP, SQL or vendors: it is parsed
//! into at the edges and trusted everywhere past them.

mod bar;
mod calendar;
mod canonical_url;
#[macro_use]
mod channel;
mod delta;
mod listing;
pub mod new_york;
pub mod news;
mod notice;
mod price;
mod quote;
mod series;
mod signal;
mod symbol;

pub use bar::{Bar, BarError};
pub use calendar::{Closure, TradingCalendar};
pub use channel::{ChannelKind, ChannelTarget, UnknownName, WebhookFormat};
pub use delta::Delta;
pub use notice::AlertNotice;
pub use price::{Price, PriceError};
pub use quote::Quote;
pub use series::Series;
pub use signal::{
    ComponentName, ComponentWeight, Evidence, Signal, SignalComponent, SignalError, SignalLabel,
    SignalMethod, SignalScore, SignalThresholds, SignalWeights, SignalsConfig, SignalsConfigError,
};
pub use symbol::{Symbol, SymbolError};
