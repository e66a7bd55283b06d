//! The `[sentiment]` table (env `STOCKD_SENTIMENT__<NAME>`, `STOCKD_SENTIMENT__OPENAI__<NAME>`,
//! `STOCKD_SENTIMENT__GEMINI__<NAME>`): which scorers score news articles, in order, how to
//! reach the LLM ones and how many calls each may make per UTC day, and how the scoring worker
//! paces itself.
//!
//! `scorers` lists the preferred scorers in order; the lexicon is always the last scorer of
//! the chain whether listed or not (it never fails, so every article gets a score), and
//! listing it anywhere but last is refused, since scorers after it would never be asked.
//! Keys are printed redacted by `stockd config`, base URLs through `redact_url`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};

use super::{ConfigError, Settings, invalid};
use crate::duration;

/// The `[sentiment]` settings as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SentimentSetting {
    /// Scorers to try, in order (`gemini`, `openai`, `lexicon`), as a list or comma-separated;
    /// the lexicon ends the chain even when omitted.
    #[serde(deserialize_with = "scorer_list")]
    pub scorers: Vec<String>,
    /// How far back the worker scores: articles published longer ago are left unscored.
    #[serde(with = "duration")]
    pub window: Duration,
    /// Articles per scoring round.
    pub batch_size: u32,
    /// Time between scoring rounds while there is nothing to score.
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// The longest one LLM call may take.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// An OpenAI-compatible Chat Completions server (`[sentiment.openai]`).
    pub openai: OpenAiSetting,
    /// Gemini's native `generateContent` (`[sentiment.gemini]`).
    pub gemini: GeminiSetting,
}

/// `[sentiment.openai]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAiSetting {
    /// The API root; `/chat/completions` is appended (OpenAI, Gemini's OpenAI endpoint,
    /// Ollama's `http://127.0.0.1:11434/v1`, vLLM, llama.cpp).
    #[serde(serialize_with = "super::redact::url")]
    pub base_url: String,
    pub model: String,
    /// Bearer key (secret); optional for local servers, required for OpenAI's own API.
    #[serde(serialize_with = "super::redact", default)]
    pub api_key: Option<SecretString>,
    /// Calls per UTC day, shared by every replica on the database.
    pub daily_budget: u32,
    /// `json_schema` (strict structured output) or `json_object` (servers without schemas).
    pub response_format: String,
}

/// `[sentiment.gemini]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeminiSetting {
    /// The API root; `/models/{model}:generateContent` is appended.
    #[serde(serialize_with = "super::redact::url")]
    pub base_url: String,
    pub model: String,
    /// Sent as `x-goog-api-key` (secret); required when `gemini` is a scorer.
    #[serde(serialize_with = "super::redact", default)]
    pub api_key: Option<SecretString>,
    /// Calls per UTC day, shared by every replica on the database.
    pub daily_budget: u32,
}

impl Default for SentimentSetting {
    fn default() -> Self {
        Self {
            scorers: vec!["lexicon".to_owned()],
            window: Duration::from_secs(7 * 86_400),
            batch_size: 50,
            poll_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(20),
            openai: OpenAiSetting::default(),
            gemini: GeminiSetting::default(),
        }
    }
}

impl Default for OpenAiSetting {
    fn default() -> Self {
        Self {
            base_url: sentiment::OPENAI_BASE_URL.to_owned(),
            model: "gpt-4o-mini".to_owned(),
            api_key: None,
            daily_budget: 500,
            response_format: "json_schema".to_owned(),
        }
    }
}

impl Default for GeminiSetting {
    fn default() -> Self {
        Self {
            base_url: sentiment::GEMINI_BASE_URL.to_owned(),
            model: "gemini-2.5-flash".to_owned(),
            api_key: None,
            daily_budget: 500,
        }
    }
}

/// A list in a file, or comma-separated text (the environment).
fn scorer_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Names::deserialize(deserializer)? {
        Names::List(names) => names,
        Names::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// An LLM scorer of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmScorer {
    OpenAi,
    Gemini,
}

/// How to reach the OpenAI-compatible server, checked.
#[derive(Debug, Clone)]
pub struct OpenAiSection {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<SecretString>,
    pub daily_budget: u32,
    pub response_format: sentiment::ResponseFormat,
}

/// How to reach Gemini, checked.
#[derive(Debug, Clone)]
pub struct GeminiSection {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<SecretString>,
    pub daily_budget: u32,
}

/// Sentiment scoring: the chain's LLM scorers in order (the lexicon follows them), how to
/// reach each, and the worker's pace.
#[derive(Debug, Clone)]
pub struct SentimentSection {
    /// The LLM scorers tried before the lexicon, in order.
    pub preferred: Vec<LlmScorer>,
    pub window: Duration,
    pub batch_size: u32,
    pub poll_interval: Duration,
    pub timeout: Duration,
    pub openai: OpenAiSection,
    pub gemini: GeminiSection,
}

impl Settings {
    /// The `[sentiment]` section, checked; the error names the setting at fault.
    pub(super) fn sentiment(&self) -> Result<SentimentSection, ConfigError> {
        let setting = &self.sentiment;
        let preferred = preferred_scorers(&setting.scorers)?;
        if !(Duration::from_secs(3600)..=Duration::from_secs(366 * 86_400))
            .contains(&setting.window)
        {
            return Err(invalid(
                "sentiment.window",
                "must be from 1 hour to 366 days",
            ));
        }
        if !(1..=store::MAX_NEWS_PER_READ).contains(&setting.batch_size) {
            return Err(invalid(
                "sentiment.batch_size",
                format!("must be from 1 to {}", store::MAX_NEWS_PER_READ),
            ));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&setting.poll_interval)
        {
            return Err(invalid(
                "sentiment.poll_interval",
                "must be from 1 second to 1 day",
            ));
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(300)).contains(&setting.timeout) {
            return Err(invalid(
                "sentiment.timeout",
                "must be from 1 second to 5 minutes",
            ));
        }
        let openai = &setting.openai;
        let gemini = &setting.gemini;
        http_url("sentiment.openai.base_url", &openai.base_url)?;
        http_url("sentiment.gemini.base_url", &gemini.base_url)?;
        let response_format = match openai.response_format.as_str() {
            "json_schema" => sentiment::ResponseFormat::JsonSchema,
            "json_object" => sentiment::ResponseFormat::JsonObject,
            other => {
                return Err(invalid(
                    "sentiment.openai.response_format",
                    format!("must be json_schema or json_object, got '{other}'"),
                ));
            }
        };
        let openai_key = non_empty(openai.api_key.as_ref());
        let gemini_key = non_empty(gemini.api_key.as_ref());
        for scorer in &preferred {
            match scorer {
                LlmScorer::OpenAi => {
                    used_model("sentiment.openai.model", &openai.model)?;
                    used_budget("sentiment.openai.daily_budget", openai.daily_budget)?;
                    let own_api = openai.base_url.trim_end_matches('/')
                        == sentiment::OPENAI_BASE_URL.trim_end_matches('/');
                    if own_api && openai_key.is_none() {
                        return Err(invalid(
                            "sentiment.openai.api_key",
                            "OpenAI's API needs a key: set STOCKD_SENTIMENT__OPENAI__API_KEY (or point sentiment.openai.base_url at a local server)",
                        ));
                    }
                }
                LlmScorer::Gemini => {
                    used_model("sentiment.gemini.model", &gemini.model)?;
                    used_budget("sentiment.gemini.daily_budget", gemini.daily_budget)?;
                    if gemini_key.is_none() {
                        return Err(invalid(
                            "sentiment.gemini.api_key",
                            "the gemini scorer needs a key: set STOCKD_SENTIMENT__GEMINI__API_KEY",
                        ));
                    }
                }
            }
        }
        Ok(SentimentSection {
            preferred,
            window: setting.window,
            batch_size: setting.batch_size,
            poll_interval: setting.poll_interval,
            timeout: setting.timeout,
            openai: OpenAiSection {
                base_url: openai.base_url.clone(),
                model: openai.model.trim().to_owned(),
                api_key: openai_key.cloned(),
                daily_budget: openai.daily_budget,
                response_format,
            },
            gemini: GeminiSection {
                base_url: gemini.base_url.clone(),
                model: gemini.model.trim().to_owned(),
                api_key: gemini_key.cloned(),
                daily_budget: gemini.daily_budget,
            },
        })
    }
}

/// The LLM scorers of `names`, in order, without the lexicon (which must be last if listed).
fn preferred_scorers(names: &[String]) -> Result<Vec<LlmScorer>, ConfigError> {
    let mut preferred = Vec::new();
    for (at, name) in names.iter().enumerate() {
        let scorer = match name.trim().to_ascii_lowercase().as_str() {
            "lexicon" if at + 1 == names.len() => continue,
            "lexicon" => {
                return Err(invalid(
                    "sentiment.scorers",
                    "lexicon must be last (it always answers, so scorers after it would never be asked); it ends the chain even when omitted",
                ));
            }
            "openai" => LlmScorer::OpenAi,
            "gemini" => LlmScorer::Gemini,
            other => {
                return Err(invalid(
                    "sentiment.scorers",
                    format!("unknown scorer '{other}'; known scorers: gemini, openai, lexicon"),
                ));
            }
        };
        if preferred.contains(&scorer) {
            return Err(invalid(
                "sentiment.scorers",
                format!("'{}' is listed twice", name.trim()),
            ));
        }
        preferred.push(scorer);
    }
    Ok(preferred)
}

fn http_url(setting: &'static str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(invalid(
            setting,
            format!(
                "must be an http:// or https:// URL, got '{}'",
                super::redact_url(url)
            ),
        ))
    }
}

fn used_model(setting: &'static str, model: &str) -> Result<(), ConfigError> {
    if model.trim().is_empty() {
        return Err(invalid(setting, "must name a model"));
    }
    Ok(())
}

fn used_budget(setting: &'static str, budget: u32) -> Result<(), ConfigError> {
    if budget == 0 {
        return Err(invalid(
            setting,
            "must be at least 1; to make no calls, remove the scorer from sentiment.scorers",
        ));
    }
    Ok(())
}

/// A key that is set and not blank.
fn non_empty(key: Option<&SecretString>) -> Option<&SecretString> {
    key.filter(|key| !key.expose_secret().trim().is_empty())
}
