//! One HTTP round trip for the LLM scorers: send, read the whole body, log the call without
//! the key, time it (`stock_api_sentiment_llm_duration_seconds{scorer}`), and turn transport
//! failures into [`ScoreError::Upstream`].
//!
//! Keys travel in headers only (never in a URL), reqwest errors lose their URL, and any
//! upstream text quoted in an error passes through [`quote_upstream`], in case a proxy or
//! upstream echoes the key back.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;

use crate::ScoreError;

/// Upstream text is quoted in error details up to this many characters.
const MAX_QUOTED_CHARS: usize = 300;

/// What came back from one call.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    /// The `Retry-After` header, when it is a number of seconds.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Sends `request` (which carries its timeout and key header) and reads the answer.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    scorer: &'static str,
    secret: &str,
) -> Result<Answer, ScoreError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|error| transport(scorer, error, secret))?;
    let started = Instant::now();
    let result = exchange(&client, request).await;
    // Every call, answered or not: how long a scorer keeps an article waiting.
    metrics::histogram!("stock_api_sentiment_llm_duration_seconds", "scorer" => scorer)
        .record(started.elapsed().as_secs_f64());
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(answer) => {
            tracing::debug!(
                scorer,
                status = answer.status.as_u16(),
                latency_ms,
                bytes = answer.body.len(),
                "sentiment call finished"
            );
            Ok(answer)
        }
        Err(error) => {
            let error = transport(scorer, error, secret);
            tracing::debug!(scorer, latency_ms, %error, "sentiment call failed");
            Err(error)
        }
    }
}

async fn exchange(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> Result<Answer, reqwest::Error> {
    let response = client.execute(request).await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.bytes().await?.to_vec();
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

fn transport(scorer: &'static str, error: reqwest::Error, secret: &str) -> ScoreError {
    let what = if error.is_timeout() {
        "timed out: "
    } else if error.is_connect() {
        "could not connect: "
    } else {
        ""
    };
    let error = error.without_url();
    let mut detail = format!("{what}{error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    ScoreError::Upstream {
        scorer,
        status: None,
        detail: quote_upstream(&detail, secret),
    }
}

/// Upstream text made safe to show: the key removed, length bounded.
pub(crate) fn quote_upstream(text: &str, secret: &str) -> String {
    let scrubbed = if secret.is_empty() {
        text.trim().to_owned()
    } else {
        text.trim().replace(secret, "[REDACTED]")
    };
    if scrubbed.chars().count() <= MAX_QUOTED_CHARS {
        scrubbed
    } else {
        let head: String = scrubbed.chars().take(MAX_QUOTED_CHARS).collect();
        format!("{head}…")
    }
}
