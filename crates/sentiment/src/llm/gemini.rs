//! The `gemini` scorer: Gemini's native
//! `POST {base_url}/models/{model}:generateContent`, key in the `x-goog-api-key` header.
//!
//! Structured output is asked with `responseMimeType: application/json` and `responseSchema`;
//! the JSON answer arrives as text inside `candidates[0].content.parts`. A blocked prompt
//! (`promptFeedback.blockReason`, no candidates) and a `finishReason` of `SAFETY`,
//! `RECITATION`, `PROHIBITED_CONTENT`, `BLOCKLIST` or `SPII` are refusals; `MAX_TOKENS` is a
//! cut-short (malformed) answer. 429 / `RESOURCE_EXHAUSTED` is a rate limit whose retry hint is
//! `RetryInfo.retryDelay` (or `Retry-After`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use domain::Symbol;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    PROMPT_VERSION, SYSTEM_INSTRUCTIONS, gemini_schema, parse_answer, spend, upstream_failure,
    user_message,
};
use crate::budget::DailyBudget;
use crate::http::{self, quote_upstream};
use crate::score::{Score, ScorerIdentity};
use crate::text::ArticleText;
use crate::{ScoreError, Scorer};

const NAME: &str = "gemini";

/// Gemini's API root.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Room for the answer: a score, a label, a few relevances and one sentence.
const MAX_OUTPUT_TOKENS: u32 = 512;

/// How to reach Gemini.
#[derive(Clone)]
pub struct GeminiConfig {
    /// The API root, e.g. [`DEFAULT_BASE_URL`]; tests point it at a mock.
    pub base_url: String,
    /// e.g. `gemini-2.5-flash`.
    pub model: String,
    /// Sent as `x-goog-api-key`, never logged.
    pub api_key: SecretString,
    /// The limit for one whole call.
    pub timeout: Duration,
    /// Calls allowed per UTC day.
    pub budget: DailyBudget,
}

impl fmt::Debug for GeminiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"[REDACTED]")
            .field("timeout", &self.timeout)
            .field("budget", &self.budget)
            .finish()
    }
}

/// The `generateContent` scorer.
#[derive(Debug)]
pub struct GeminiScorer {
    config: GeminiConfig,
    client: reqwest::Client,
}

impl GeminiScorer {
    /// A scorer on a shared HTTP client; the timeout is applied per request.
    pub fn new(config: GeminiConfig, client: reqwest::Client) -> Self {
        Self { config, client }
    }

    /// `{base}/models/{model}:generateContent`, the model percent-encoded as one segment.
    fn url(&self) -> Result<Url, ScoreError> {
        let invalid = || ScoreError::Upstream {
            scorer: NAME,
            status: None,
            detail: format!("invalid base URL {:?}", self.config.base_url),
        };
        let mut url = Url::parse(&self.config.base_url).map_err(|_| invalid())?;
        url.path_segments_mut()
            .map_err(|()| invalid())?
            .pop_if_empty()
            .push("models")
            .push(&format!("{}:generateContent", self.config.model));
        Ok(url)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Generated {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

#[async_trait]
impl Scorer for GeminiScorer {
    fn identity(&self) -> ScorerIdentity {
        ScorerIdentity {
            scorer: NAME.to_owned(),
            model: self.config.model.clone(),
            prompt_version: PROMPT_VERSION.to_owned(),
        }
    }

    async fn score(&self, article: &ArticleText, symbols: &[Symbol]) -> Result<Score, ScoreError> {
        let url = self.url()?;
        spend(&self.config.budget, NAME).await?;
        let body = json!({
            "systemInstruction": {"parts": [{"text": SYSTEM_INSTRUCTIONS}]},
            "contents": [{
                "role": "user",
                "parts": [{"text": user_message(&article.prepared(), symbols)}]
            }],
            "generationConfig": {
                "temperature": 0,
                "maxOutputTokens": MAX_OUTPUT_TOKENS,
                "responseMimeType": "application/json",
                "responseSchema": gemini_schema(symbols)
            }
        });
        let secret = self.config.api_key.expose_secret();
        let request = self
            .client
            .post(url)
            .timeout(self.config.timeout)
            .header("x-goog-api-key", secret)
            .json(&body);
        let answer = http::send(request, NAME, secret).await?;
        classify(answer, symbols, secret)
    }

    fn budget(&self) -> Option<DailyBudget> {
        Some(self.config.budget.clone())
    }
}

fn classify(answer: http::Answer, symbols: &[Symbol], secret: &str) -> Result<Score, ScoreError> {
    let status = answer.status;
    if status == StatusCode::OK {
        return generated(&answer.body, symbols);
    }
    let error = serde_json::from_slice::<ErrorBody>(&answer.body)
        .ok()
        .map(|body| body.error);
    let reason = |wanted: &str| {
        error.as_ref().is_some_and(|error| {
            error
                .details
                .iter()
                .any(|detail| detail.get("reason").and_then(Value::as_str) == Some(wanted))
        })
    };
    if status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || reason("API_KEY_INVALID")
    {
        return Err(ScoreError::KeyRejected { scorer: NAME });
    }
    let exhausted = error
        .as_ref()
        .is_some_and(|error| error.status == "RESOURCE_EXHAUSTED");
    if status == StatusCode::TOO_MANY_REQUESTS || exhausted {
        let retry_delay = error.as_ref().and_then(|error| retry_delay(&error.details));
        return Err(ScoreError::RateLimited {
            scorer: NAME,
            retry_after: retry_delay.or(answer.retry_after),
        });
    }
    let message = match &error {
        Some(error) => format!("{} {}", error.status, error.message),
        None => String::from_utf8_lossy(&answer.body).into_owned(),
    };
    Err(upstream_failure(NAME, status, &message, secret))
}

/// `RetryInfo.retryDelay` ("27s", "1.5s") from an error's details.
fn retry_delay(details: &[Value]) -> Option<Duration> {
    details
        .iter()
        .filter(|detail| {
            detail
                .get("@type")
                .and_then(Value::as_str)
                .is_some_and(|kind| kind.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|detail| {
            detail
                .get("retryDelay")?
                .as_str()?
                .strip_suffix('s')?
                .parse()
                .ok()
        })
        .filter(|seconds: &f64| seconds.is_finite() && *seconds >= 0.0)
        .map(|seconds| Duration::from_secs_f64(seconds.ceil()))
}

fn generated(body: &[u8], symbols: &[Symbol]) -> Result<Score, ScoreError> {
    let malformed = |detail: String| ScoreError::Malformed {
        scorer: NAME,
        detail,
    };
    let refused = |reason: String| ScoreError::Refused {
        scorer: NAME,
        reason,
    };
    let generated: Generated = serde_json::from_slice(body)
        .map_err(|error| malformed(format!("not a generateContent answer: {error}")))?;
    let block = generated
        .prompt_feedback
        .and_then(|feedback| feedback.block_reason);
    let Some(candidate) = generated.candidates.into_iter().next() else {
        return Err(refused(match block {
            Some(reason) => format!("prompt blocked ({})", quote_upstream(&reason, "")),
            None => "no candidates".to_owned(),
        }));
    };
    match candidate.finish_reason.as_deref() {
        Some(reason @ ("SAFETY" | "RECITATION" | "PROHIBITED_CONTENT" | "BLOCKLIST" | "SPII")) => {
            return Err(refused(format!("finishReason {reason}")));
        }
        Some("MAX_TOKENS") => {
            return Err(malformed(
                "answer cut short (finishReason MAX_TOKENS)".to_owned(),
            ));
        }
        _ => {}
    }
    let text: String = candidate
        .content
        .map(|content| {
            content
                .parts
                .into_iter()
                .filter_map(|part| part.text)
                .collect()
        })
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(malformed("candidate has no text".to_owned()));
    }
    parse_answer(NAME, &text, symbols)
}
