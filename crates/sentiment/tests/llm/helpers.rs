//! Shared set-up: scorers pointed at a mock, answer bodies, and the key-leak check.

use std::time::Duration;

use domain::Symbol;
use secrecy::SecretString;
use sentiment::{
    DailyBudget, GeminiConfig, GeminiScorer, OpenAiConfig, OpenAiScorer, ResponseFormat, ScoreError,
};
use serde_json::{Value, json};

pub const OPENAI_KEY: &str = "sk-test-SECRET-1234";
pub const GEMINI_KEY: &str = "AIza-test-SECRET-5678";
pub const GEMINI_PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

pub fn symbols() -> Vec<Symbol> {
    vec![Symbol::parse("ACME").unwrap()]
}

pub fn openai_at(uri: &str, budget: DailyBudget) -> OpenAiScorer {
    OpenAiScorer::new(
        OpenAiConfig {
            base_url: format!("{uri}/v1"),
            model: "gpt-4o-mini".to_owned(),
            api_key: Some(SecretString::from(OPENAI_KEY)),
            response_format: ResponseFormat::JsonSchema,
            timeout: Duration::from_secs(5),
            budget,
        },
        reqwest::Client::new(),
    )
}

pub fn gemini_at(uri: &str, budget: DailyBudget) -> GeminiScorer {
    GeminiScorer::new(
        GeminiConfig {
            base_url: format!("{uri}/v1beta"),
            model: "gemini-2.5-flash".to_owned(),
            api_key: SecretString::from(GEMINI_KEY),
            timeout: Duration::from_secs(5),
            budget,
        },
        reqwest::Client::new(),
    )
}

/// A valid answer as the model writes it (JSON text).
pub fn answer_text(score: f64, label: &str) -> String {
    json!({
        "score": score,
        "label": label,
        "relevance": [{"symbol": "ACME", "relevance": 0.9}],
        "rationale": "Earnings beat expectations."
    })
    .to_string()
}

/// A Chat Completions success body whose message content is `content`.
pub fn completion(content: &str, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-123", "object": "chat.completion", "created": 1_704_468_600,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 52, "completion_tokens": 12, "total_tokens": 64}
    })
}

/// A generateContent success body whose candidate text is `text`.
pub fn generated(text: &str, finish_reason: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": finish_reason, "index": 0}],
        "usageMetadata": {"promptTokenCount": 61, "candidatesTokenCount": 18, "totalTokenCount": 79},
        "modelVersion": "gemini-2.5-flash", "responseId": "abc123"
    })
}

/// Fails when the error's Display or Debug shows `key`.
pub fn assert_no_key(error: &ScoreError, key: &str) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(key), "key leaked: {shown}");
}

/// A base URL on 127.0.0.1 where nothing listens, so connecting is refused.
pub fn refused_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}
