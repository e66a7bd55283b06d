//! Prompts that show the tools in use: a look at one stock with provenance, and an alert tried
//! as a dry run before it is created.

use rmcp::ErrorData;
use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::Value;

/// Every prompt.
pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            "check_symbol",
            Some(
                "Look at one stock: latest quote, the last month's move, its signal and news sentiment, with where each number came from.",
            ),
            Some(vec![symbol_argument()]),
        ),
        Prompt::new(
            "plan_alert",
            Some(
                "Turn an alert idea into a rule, try it over history with a dry run, and create it only when the user agrees.",
            ),
            Some(vec![
                symbol_argument(),
                PromptArgument::new("idea")
                    .with_description(
                        "What should trigger it, in words (e.g. \"falls 5% in a week\")",
                    )
                    .with_required(true),
            ]),
        ),
    ]
}

fn symbol_argument() -> PromptArgument {
    PromptArgument::new("symbol")
        .with_description("Ticker, e.g. MSFT")
        .with_required(true)
}

/// The prompt `name` with `arguments`.
pub(crate) fn get(name: &str, arguments: JsonObject) -> Result<GetPromptResult, ErrorData> {
    let argument = |key: &str| -> Result<String, ErrorData> {
        arguments
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(|value| value.chars().take(200).collect())
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    format!("prompt '{name}' needs the argument `{key}`"),
                    None,
                )
            })
    };
    let text = match name {
        "check_symbol" => {
            let symbol = argument("symbol")?;
            format!(
                "Give me a short briefing on {symbol}. Call `quote` for the latest price, \
                 `price_change` with days=20 for the last month's move, `signal` for the \
                 composite signal and its evidence, and `sentiment` with days=7 for news \
                 sentiment (cite the articles it lists). For every number say its `source` and \
                 `fetched_at`, and warn me when an answer is `stale`. If a tool answers an \
                 error, tell me what it says instead of guessing."
            )
        }
        "plan_alert" => {
            let symbol = argument("symbol")?;
            let idea = argument("idea")?;
            format!(
                "I want an alert on {symbol}: {idea}. Turn that into an alert rule (see the \
                 `create_alert` input schema; `indicator_catalogue` lists indicator series). \
                 First run `backtest_alert` with the rule to see when it would have fired over \
                 stored history, and show me the firings. Only after I confirm, call \
                 `create_alert` with the same rule, then `get_alert` to show its state."
            )
        }
        _ => {
            return Err(ErrorData::invalid_params(
                format!(
                    "no prompt '{}'; prompts/list names them (check_symbol, plan_alert)",
                    name.chars().take(60).collect::<String>()
                ),
                None,
            ));
        }
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        text,
    )]))
}
