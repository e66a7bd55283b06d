//! The `openai` scorer: any server that speaks OpenAI's Chat Completions
//! (`POST {base_url}/chat/completions`): OpenAI, Gemini's OpenAI-compatible endpoint, Ollama,
//! vLLM, llama.cpp.
//!
//! The key, when there is one, travels as `Authorization: Bearer`; local servers need none.
//! Structured output is asked with `response_format` `json_schema` (strict); servers without
//! it can be configured for `json_object`, and the answer is validated the same way either way.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use domain::Symbol;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{
    PROMPT_VERSION, SYSTEM_INSTRUCTIONS, json_schema, parse_answer, spend, upstream_failure,
    user_message,
};
use crate::budget::DailyBudget;
use crate::http::{self, quote_upstream};
use crate::score::{Score, ScorerIdentity};
use crate::text::ArticleText;
use crate::{ScoreError, Scorer};

const NAME: &str = "openai";

/// OpenAI's own API root.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// How the answer's shape is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `{"type": "json_schema", "strict": true}`: the schema itself (OpenAI, Gemini, vLLM).
    JsonSchema,
    /// `{"type": "json_object"}`: any JSON, for servers without schema support.
    JsonObject,
}

/// How to reach an OpenAI-compatible server.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// The API root, e.g. `https://api.openai.com/v1` or
    /// `https://generativelanguage.googleapis.com/v1beta/openai/`; `/chat/completions` is
    /// appended.
    pub base_url: String,
    pub model: String,
    /// The bearer key; `None` for servers without authentication (Ollama, llama.cpp).
    pub api_key: Option<SecretString>,
    pub response_format: ResponseFormat,
    /// The limit for one whole call.
    pub timeout: Duration,
    /// Calls allowed per UTC day; clones of one budget share it across scorers.
    pub budget: DailyBudget,
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("response_format", &self.response_format)
            .field("timeout", &self.timeout)
            .field("budget", &self.budget)
            .finish()
    }
}

/// The Chat Completions scorer.
#[derive(Debug)]
pub struct OpenAiScorer {
    config: OpenAiConfig,
    client: reqwest::Client,
}

impl OpenAiScorer {
    /// A scorer on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: OpenAiConfig, client: reqwest::Client) -> Self {
        Self { config, client }
    }

    fn secret(&self) -> &str {
        self.config
            .api_key
            .as_ref()
            .map_or("", |key| key.expose_secret())
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

#[async_trait]
impl Scorer for OpenAiScorer {
    fn identity(&self) -> ScorerIdentity {
        ScorerIdentity {
            scorer: NAME.to_owned(),
            model: self.config.model.clone(),
            prompt_version: PROMPT_VERSION.to_owned(),
        }
    }

    async fn score(&self, article: &ArticleText, symbols: &[Symbol]) -> Result<Score, ScoreError> {
        spend(&self.config.budget, NAME).await?;
        let response_format = match self.config.response_format {
            ResponseFormat::JsonSchema => json!({
                "type": "json_schema",
                "json_schema": {"name": "sentiment", "strict": true, "schema": json_schema(symbols)}
            }),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
        };
        let body = json!({
            "model": self.config.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_INSTRUCTIONS},
                {"role": "user", "content": user_message(&article.prepared(), symbols)}
            ],
            "response_format": response_format,
        });
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let mut request = self
            .client
            .post(url)
            .timeout(self.config.timeout)
            .json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let answer = http::send(request, NAME, self.secret()).await?;
        classify(answer, symbols, self.secret())
    }

    fn budget(&self) -> Option<DailyBudget> {
        Some(self.config.budget.clone())
    }
}

fn classify(answer: http::Answer, symbols: &[Symbol], secret: &str) -> Result<Score, ScoreError> {
    let status = answer.status;
    if status == StatusCode::OK {
        return completion(&answer.body, symbols);
    }
    let message = serde_json::from_slice::<ErrorBody>(&answer.body)
        .map(|body| body.error.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(&answer.body).into_owned());
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            Err(ScoreError::KeyRejected { scorer: NAME })
        }
        StatusCode::TOO_MANY_REQUESTS => Err(ScoreError::RateLimited {
            scorer: NAME,
            retry_after: answer.retry_after,
        }),
        _ => Err(upstream_failure(NAME, status, &message, secret)),
    }
}

fn completion(body: &[u8], symbols: &[Symbol]) -> Result<Score, ScoreError> {
    let malformed = |detail: String| ScoreError::Malformed {
        scorer: NAME,
        detail,
    };
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|error| malformed(format!("not a chat completion: {error}")))?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| malformed("no choices".to_owned()))?;
    let message = choice.message.unwrap_or(Message {
        content: None,
        refusal: None,
    });
    if let Some(refusal) = message.refusal.filter(|text| !text.trim().is_empty()) {
        return Err(ScoreError::Refused {
            scorer: NAME,
            reason: quote_upstream(&refusal, ""),
        });
    }
    match choice.finish_reason.as_deref() {
        Some("content_filter") => {
            return Err(ScoreError::Refused {
                scorer: NAME,
                reason: "content filter".to_owned(),
            });
        }
        Some("length") => {
            return Err(malformed(
                "answer cut short (finish_reason length)".to_owned(),
            ));
        }
        _ => {}
    }
    let content = message
        .content
        .ok_or_else(|| malformed("no message content".to_owned()))?;
    parse_answer(NAME, &content, symbols)
}
