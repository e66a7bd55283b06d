//! The tool catalogue: each tool's name, description, input schema and annotations, and the
//! REST call its arguments become. Inputs are typed here only to be described (JSON Schema,
//! from the types with schemars) and to name an argument that does not parse; every range,
//! date and id is checked by the route the call goes to, which words the error.
//!
//! Writing tools say so in their annotations (`readOnlyHint: false`, `destructiveHint` on the
//! ones that delete), so a client can ask its user before running them.

use std::sync::Arc;

use axum::http::Method;
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::rest::Call;

/// A stock symbol argument.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SymbolArgs {
    /// Ticker, e.g. `MSFT` (letters, digits, `.` and `-`).
    pub symbol: String,
}

/// A symbol and a window of trading days.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowArgs {
    /// Ticker, e.g. `MSFT`.
    pub symbol: String,
    /// The last N trading days (of the `from`/`to` range when given); from 1 to the server's
    /// maximum. Default: the server's default (`NDAYS`) without a range, the whole range with
    /// one.
    #[schemars(range(min = 1))]
    pub days: Option<u32>,
    /// First trading day to include, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last trading day to include, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// Several symbols and a window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManyArgs {
    /// Tickers, e.g. `["MSFT", "AAPL"]` (1 to 20; duplicates dropped).
    pub symbols: Vec<String>,
    /// The last N trading days of each; see `daily_prices`.
    #[schemars(range(min = 1))]
    pub days: Option<u32>,
    /// First trading day to include, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last trading day to include, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// A symbol and the day whose close to look up.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EodArgs {
    /// Ticker, e.g. `MSFT`.
    pub symbol: String,
    /// The day, `YYYY-MM-DD`, today or earlier (New York time). Default: today. A weekend, a
    /// holiday or today before the close stands for the last session before it.
    pub date: Option<String>,
}

/// Indicator series over a symbol's daily history.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorArgs {
    /// Ticker, e.g. `MSFT`.
    pub symbol: String,
    /// Comma-separated series, at most 16: `name[:param…][.output]`, e.g.
    /// `sma:50,ema:20,rsi:14,macd:12:26:9,bbands:20:2`. `indicator_catalogue` lists names,
    /// parameter ranges and outputs.
    pub series: String,
    /// The last N trading days to answer (values are computed over the whole history).
    #[schemars(range(min = 1))]
    pub days: Option<u32>,
    /// First trading day to answer, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last trading day to answer, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// A symbol's news.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewsArgs {
    /// Ticker, e.g. `MSFT`.
    pub symbol: String,
    /// Articles published on or after this day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// At most this many articles (1 to 100; default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// A symbol's daily news sentiment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentimentArgs {
    /// Ticker, e.g. `MSFT`.
    pub symbol: String,
    /// The last N New York calendar days, today included (1 to 90; default 30).
    pub days: Option<u32>,
}

/// A page of a list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// At most this many rows (1 to 1000; default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the page before; absent: the first page.
    pub cursor: Option<String>,
}

/// One of the caller's alert rules.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertArgs {
    /// The rule's id, as `list_alerts` or `create_alert` answered it.
    pub id: i64,
}

/// A dry run of an alert rule over stored history.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestArgs {
    /// A stored rule of the caller's to replay. Give this or `rule`.
    pub id: Option<i64>,
    /// A rule as `create_alert` takes it (`symbol`, `kind`, `price`, …), replayed without
    /// being saved. Give this or `id`.
    pub rule: Option<JsonObject>,
    /// First trading day to replay, `YYYY-MM-DD` (default: the oldest stored bar).
    pub from: Option<String>,
    /// Last trading day to replay, `YYYY-MM-DD` (default: the newest stored bar).
    pub to: Option<String>,
}

/// Every tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    DailyPrices,
    Quote,
    EndOfDay,
    PriceChange,
    DailyPricesMany,
    Indicators,
    IndicatorCatalogue,
    Signal,
    News,
    Sentiment,
    Watchlist,
    WatchSymbol,
    UnwatchSymbol,
    ListAlerts,
    GetAlert,
    BacktestAlert,
    CreateAlert,
    PauseAlert,
    ResumeAlert,
    DeleteAlert,
    ListNotifications,
}

impl Name {
    /// Every tool, in the order `tools/list` gives them.
    pub const ALL: [Self; 21] = [
        Self::DailyPrices,
        Self::Quote,
        Self::EndOfDay,
        Self::PriceChange,
        Self::DailyPricesMany,
        Self::Indicators,
        Self::IndicatorCatalogue,
        Self::Signal,
        Self::News,
        Self::Sentiment,
        Self::Watchlist,
        Self::WatchSymbol,
        Self::UnwatchSymbol,
        Self::ListAlerts,
        Self::GetAlert,
        Self::BacktestAlert,
        Self::CreateAlert,
        Self::PauseAlert,
        Self::ResumeAlert,
        Self::DeleteAlert,
        Self::ListNotifications,
    ];

    /// The tool's MCP name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DailyPrices => "daily_prices",
            Self::Quote => "quote",
            Self::EndOfDay => "end_of_day",
            Self::PriceChange => "price_change",
            Self::DailyPricesMany => "daily_prices_many",
            Self::Indicators => "indicators",
            Self::IndicatorCatalogue => "indicator_catalogue",
            Self::Signal => "signal",
            Self::News => "news",
            Self::Sentiment => "sentiment",
            Self::Watchlist => "watchlist",
            Self::WatchSymbol => "watch_symbol",
            Self::UnwatchSymbol => "unwatch_symbol",
            Self::ListAlerts => "list_alerts",
            Self::GetAlert => "get_alert",
            Self::BacktestAlert => "backtest_alert",
            Self::CreateAlert => "create_alert",
            Self::PauseAlert => "pause_alert",
            Self::ResumeAlert => "resume_alert",
            Self::DeleteAlert => "delete_alert",
            Self::ListNotifications => "list_notifications",
        }
    }

    /// The tool named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tool| tool.as_str() == name)
    }

    /// The REST call `arguments` stand for, or what is wrong with them (naming the argument).
    pub fn call(self, arguments: JsonObject) -> Result<Call, String> {
        let tool = self.as_str();
        Ok(match self {
            Self::DailyPrices | Self::PriceChange => {
                let a: WindowArgs = parse(tool, arguments)?;
                let last = if self == Self::DailyPrices {
                    "daily"
                } else {
                    "delta"
                };
                Call::get(&["v1", "stocks", &a.symbol, last])
                    .query("days", a.days)
                    .query("from", a.from)
                    .query("to", a.to)
            }
            Self::Quote => {
                let a: SymbolArgs = parse(tool, arguments)?;
                Call::get(&["v1", "stocks", &a.symbol, "quote"])
            }
            Self::EndOfDay => {
                let a: EodArgs = parse(tool, arguments)?;
                Call::get(&["v1", "stocks", &a.symbol, "eod"]).query("date", a.date)
            }
            Self::DailyPricesMany => {
                let a: ManyArgs = parse(tool, arguments)?;
                Call::get(&["v1", "daily"])
                    .query("symbols", Some(a.symbols.join(",")))
                    .query("days", a.days)
                    .query("from", a.from)
                    .query("to", a.to)
            }
            Self::Indicators => {
                let a: IndicatorArgs = parse(tool, arguments)?;
                Call::get(&["v1", "stocks", &a.symbol, "indicators"])
                    .query("series", Some(a.series))
                    .query("days", a.days)
                    .query("from", a.from)
                    .query("to", a.to)
            }
            Self::IndicatorCatalogue => {
                let _: PageArgsNone = parse(tool, arguments)?;
                Call::get(&["v1", "indicators"])
            }
            Self::Signal => {
                let a: SymbolArgs = parse(tool, arguments)?;
                Call::get(&["v1", "stocks", &a.symbol, "signal"])
            }
            Self::News => {
                let a: NewsArgs = parse(tool, arguments)?;
                Call::get(&["v1", "stocks", &a.symbol, "news"])
                    .query("from", a.from)
                    .query("limit", a.limit)
                    .query("cursor", a.cursor)
            }
            Self::Sentiment => {
                let a: SentimentArgs = parse(tool, arguments)?;
                Call::get(&["v1", "stocks", &a.symbol, "sentiment"]).query("days", a.days)
            }
            Self::Watchlist => {
                let a: PageArgs = parse(tool, arguments)?;
                page(Call::get(&["v1", "me", "watchlist"]), a)
            }
            Self::WatchSymbol => {
                let a: SymbolArgs = parse(tool, arguments)?;
                Call::with_method(Method::PUT, &["v1", "me", "watchlist", &a.symbol])
            }
            Self::UnwatchSymbol => {
                let a: SymbolArgs = parse(tool, arguments)?;
                Call::with_method(Method::DELETE, &["v1", "me", "watchlist", &a.symbol])
                    .done(json!({ "symbol": a.symbol, "watched": false }))
            }
            Self::ListAlerts => {
                let a: PageArgs = parse(tool, arguments)?;
                page(Call::get(&["v1", "alerts"]), a)
            }
            Self::GetAlert => {
                let a: AlertArgs = parse(tool, arguments)?;
                Call::get(&["v1", "alerts", &a.id.to_string()])
            }
            Self::BacktestAlert => {
                let a: BacktestArgs = parse(tool, arguments)?;
                let call = match (a.id, a.rule) {
                    (Some(id), None) => Call::with_method(
                        Method::POST,
                        &["v1", "alerts", &id.to_string(), "backtest"],
                    ),
                    (None, Some(rule)) => {
                        Call::with_method(Method::POST, &["v1", "alerts", "backtest"])
                            .body(Value::Object(rule))
                    }
                    _ => {
                        return Err(format!(
                            "{tool}: give either `id` (a stored rule) or `rule` (a rule to try), not both or neither"
                        ));
                    }
                };
                call.query("from", a.from).query("to", a.to)
            }
            Self::CreateAlert => {
                // The rule as the REST route takes it; the route names a field at fault.
                Call::with_method(Method::POST, &["v1", "alerts"]).body(Value::Object(arguments))
            }
            Self::PauseAlert | Self::ResumeAlert => {
                let a: AlertArgs = parse(tool, arguments)?;
                let verb = if self == Self::PauseAlert {
                    "pause"
                } else {
                    "resume"
                };
                Call::with_method(Method::POST, &["v1", "alerts", &a.id.to_string(), verb])
            }
            Self::DeleteAlert => {
                let a: AlertArgs = parse(tool, arguments)?;
                Call::with_method(Method::DELETE, &["v1", "alerts", &a.id.to_string()])
                    .done(json!({ "id": a.id, "deleted": true }))
            }
            Self::ListNotifications => {
                let a: PageArgs = parse(tool, arguments)?;
                page(Call::get(&["v1", "notifications"]), a)
            }
        })
    }

    fn description(self) -> &'static str {
        match self {
            Self::DailyPrices => {
                "Daily OHLCV bars of a stock, oldest first, for the last `days` trading days or a `from`/`to` range, with `average_close` (the N-day average close of the bars returned) and provenance (`source`, `fetched_at`, `stale`)."
            }
            Self::Quote => {
                "The latest price of a stock with the previous close, the change and change percent, its trading day and provenance (`source`, `fetched_at`, `stale`)."
            }
            Self::EndOfDay => {
                "The end-of-day bar of a stock for a day (default today, New York time). `session_date` is the bar's own session; `sessions_behind` and `stale` say when it lags the session asked for."
            }
            Self::PriceChange => {
                "How a stock moved over the last `days` trading days or a `from`/`to` range: start and end close, change and change percent, high, low, max drawdown percent, trading days, and provenance."
            }
            Self::DailyPricesMany => {
                "Daily bars of several stocks in one call (same window for all). Symbols that fail are listed in `errors` with their reason; the others are answered."
            }
            Self::Indicators => {
                "Technical indicators (SMA, EMA, RSI, MACD, Bollinger Bands, ATR, …) of a stock's daily history as date-aligned columns, with provenance. Use `indicator_catalogue` for the names and parameters."
            }
            Self::IndicatorCatalogue => {
                "The indicators `indicators` and alert rules can use: names, parameters with their ranges and defaults, and outputs."
            }
            Self::Signal => {
                "A stock's latest composite trading signal: score in [-1, 1], label (strong sell … strong buy), each component's score and the evidence behind it, as of the latest session."
            }
            Self::News => {
                "A stock's stored news articles, newest first, with source, URL and publication time; page with `cursor`."
            }
            Self::Sentiment => {
                "A stock's daily news sentiment over the last `days` calendar days, each day with its score, article count and the articles cited (title, URL, score)."
            }
            Self::Watchlist => "The signed-in user's watched symbols, in symbol order.",
            Self::WatchSymbol => {
                "Adds a symbol to the signed-in user's watchlist (it is then tracked and kept fresh). A symbol already watched is left as is. Unknown symbols are refused."
            }
            Self::UnwatchSymbol => "Removes a symbol from the signed-in user's watchlist.",
            Self::ListAlerts => {
                "The signed-in user's price alert rules with their status (active, paused, …) and live state."
            }
            Self::GetAlert => "One of the signed-in user's alert rules by id, with its live state.",
            Self::BacktestAlert => {
                "Dry run: when an alert rule would have fired over stored daily history, without saving or notifying anything. Give a stored rule's `id` or a `rule` to try (the shape `create_alert` takes). Use it before `create_alert`."
            }
            Self::CreateAlert => {
                "Creates a price alert rule for the signed-in user; it fires while stockd runs and notifies the rule's channels. The arguments are the rule: `symbol`, `kind` and the fields that kind needs (e.g. `{\"symbol\": \"MSFT\", \"kind\": \"above\", \"price\": 420}`). Try it with `backtest_alert` first."
            }
            Self::PauseAlert => {
                "Pauses one of the signed-in user's alert rules (it stops firing until resumed)."
            }
            Self::ResumeAlert => "Resumes a paused alert rule of the signed-in user.",
            Self::DeleteAlert => {
                "Deletes one of the signed-in user's alert rules for good, with its state."
            }
            Self::ListNotifications => {
                "The signed-in user's notification deliveries (alert messages sent to their channels), newest first, with status and attempts."
            }
        }
    }

    fn annotations(self) -> ToolAnnotations {
        let title = self.title();
        let base = ToolAnnotations::with_title(title);
        match self {
            // Market data: read-only, and may ask an upstream provider (an open world).
            Self::DailyPrices
            | Self::Quote
            | Self::EndOfDay
            | Self::PriceChange
            | Self::DailyPricesMany
            | Self::Indicators
            | Self::Signal
            | Self::News
            | Self::Sentiment => base.read_only(true).open_world(true),
            Self::IndicatorCatalogue
            | Self::Watchlist
            | Self::ListAlerts
            | Self::GetAlert
            | Self::BacktestAlert
            | Self::ListNotifications => base.read_only(true).open_world(false),
            Self::WatchSymbol => base
                .read_only(false)
                .destructive(false)
                .idempotent(true)
                .open_world(true),
            Self::CreateAlert => base
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(false),
            Self::PauseAlert | Self::ResumeAlert => base
                .read_only(false)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
            Self::UnwatchSymbol | Self::DeleteAlert => base
                .read_only(false)
                .destructive(true)
                .idempotent(true)
                .open_world(false),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::DailyPrices => "Daily prices and N-day average",
            Self::Quote => "Latest quote",
            Self::EndOfDay => "End-of-day bar",
            Self::PriceChange => "Price change over a window",
            Self::DailyPricesMany => "Daily prices of several symbols",
            Self::Indicators => "Technical indicators",
            Self::IndicatorCatalogue => "Indicator catalogue",
            Self::Signal => "Composite signal",
            Self::News => "News",
            Self::Sentiment => "News sentiment with citations",
            Self::Watchlist => "Watchlist",
            Self::WatchSymbol => "Watch a symbol",
            Self::UnwatchSymbol => "Stop watching a symbol",
            Self::ListAlerts => "List alerts",
            Self::GetAlert => "Get an alert",
            Self::BacktestAlert => "Backtest an alert (dry run)",
            Self::CreateAlert => "Create an alert",
            Self::PauseAlert => "Pause an alert",
            Self::ResumeAlert => "Resume an alert",
            Self::DeleteAlert => "Delete an alert",
            Self::ListNotifications => "List notifications",
        }
    }

    fn input_schema(self) -> Arc<JsonObject> {
        match self {
            Self::DailyPrices | Self::PriceChange => schema_for_type::<WindowArgs>(),
            Self::Quote | Self::Signal | Self::WatchSymbol | Self::UnwatchSymbol => {
                schema_for_type::<SymbolArgs>()
            }
            Self::EndOfDay => schema_for_type::<EodArgs>(),
            Self::DailyPricesMany => schema_for_type::<ManyArgs>(),
            Self::Indicators => schema_for_type::<IndicatorArgs>(),
            Self::IndicatorCatalogue => schema_for_type::<PageArgsNone>(),
            Self::News => schema_for_type::<NewsArgs>(),
            Self::Sentiment => schema_for_type::<SentimentArgs>(),
            Self::Watchlist | Self::ListAlerts | Self::ListNotifications => {
                schema_for_type::<PageArgs>()
            }
            Self::GetAlert | Self::PauseAlert | Self::ResumeAlert | Self::DeleteAlert => {
                schema_for_type::<AlertArgs>()
            }
            Self::BacktestAlert => schema_for_type::<BacktestArgs>(),
            Self::CreateAlert => rule_schema(),
        }
    }
}

/// No arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgsNone {}

/// The rule body of `POST /v1/alerts`, as the OpenAPI document describes it (its fields and
/// what each kind needs): one description of a rule for both interfaces.
fn rule_schema() -> Arc<JsonObject> {
    let schema = <web::routes::alerts::RuleBody as utoipa::PartialSchema>::schema();
    match serde_json::to_value(schema) {
        Ok(Value::Object(mut object)) => {
            // OpenAPI's `example` is not a JSON Schema keyword; `examples` is.
            if let Some(example) = object.remove("example") {
                object.insert("examples".into(), Value::Array(vec![example]));
            }
            Arc::new(object)
        }
        _ => Arc::new(JsonObject::from_iter([(
            "type".to_owned(),
            Value::String("object".into()),
        )])),
    }
}

/// Parses a tool's arguments, naming the argument at fault.
fn parse<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, String> {
    serde_path_to_error::deserialize(Value::Object(arguments)).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            format!("{tool}: invalid arguments: {inner}")
        } else {
            format!("{tool}: invalid argument `{path}`: {inner}")
        }
    })
}

fn page(call: Call, page: PageArgs) -> Call {
    call.query("limit", page.limit).query("cursor", page.cursor)
}

/// Every tool's definition, for `tools/list`.
pub fn catalogue() -> Vec<Tool> {
    Name::ALL
        .into_iter()
        .map(|name| {
            Tool::new(name.as_str(), name.description(), name.input_schema())
                .with_title(name.title())
                .with_annotations(name.annotations())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> JsonObject {
        match value {
            Value::Object(object) => object,
            _ => JsonObject::new(),
        }
    }

    #[test]
    fn every_tool_has_an_object_schema_and_a_unique_name() {
        let tools = catalogue();
        assert_eq!(tools.len(), Name::ALL.len());
        for tool in &tools {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                tool.name
            );
            assert_eq!(Name::parse(&tool.name).map(Name::as_str), Some(&*tool.name));
        }
        let create = tools.iter().find(|t| t.name == "create_alert").unwrap();
        let properties = create.input_schema.get("properties").unwrap();
        assert!(properties.get("kind").is_some(), "{properties}");
    }

    #[test]
    fn writing_tools_are_marked_and_deleting_ones_destructive() {
        for name in Name::ALL {
            let annotations = name.annotations();
            let writes = matches!(
                name,
                Name::WatchSymbol
                    | Name::UnwatchSymbol
                    | Name::CreateAlert
                    | Name::PauseAlert
                    | Name::ResumeAlert
                    | Name::DeleteAlert
            );
            assert_eq!(annotations.read_only_hint, Some(!writes), "{name:?}");
            let deletes = matches!(name, Name::UnwatchSymbol | Name::DeleteAlert);
            assert_eq!(
                annotations.destructive_hint.unwrap_or(false),
                deletes,
                "{name:?}"
            );
        }
    }

    #[test]
    fn arguments_become_the_rest_call() {
        let call = Name::DailyPrices
            .call(args(json!({"symbol": "MSFT", "days": 5})))
            .unwrap();
        assert_eq!(call.uri(), "/v1/stocks/MSFT/daily?days=5");
        let call = Name::DailyPricesMany
            .call(args(
                json!({"symbols": ["MSFT", "AAPL"], "from": "2012-01-03"}),
            ))
            .unwrap();
        assert_eq!(call.uri(), "/v1/daily?symbols=MSFT%2CAAPL&from=2012-01-03");
        let call = Name::DeleteAlert.call(args(json!({"id": 7}))).unwrap();
        assert_eq!(
            (&call.method, call.uri()),
            (&Method::DELETE, "/v1/alerts/7".into())
        );
    }

    #[test]
    fn a_bad_argument_is_named() {
        let err = Name::DailyPrices
            .call(args(json!({"symbol": "MSFT", "days": "five"})))
            .unwrap_err();
        assert!(err.contains("`days`"), "{err}");
        let err = Name::Quote.call(args(json!({}))).unwrap_err();
        assert!(err.contains("symbol"), "{err}");
        let err = Name::Quote
            .call(args(json!({"symbol": "MSFT", "dayz": 3})))
            .unwrap_err();
        assert!(err.contains("dayz"), "{err}");
        let err = Name::BacktestAlert.call(args(json!({}))).unwrap_err();
        assert!(err.contains("`id`") && err.contains("`rule`"), "{err}");
    }
}
