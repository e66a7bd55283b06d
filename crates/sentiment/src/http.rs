//! One HTTP round trip for the LLM scorers: send, read the whole body, log the call without
//! the key, time it (`stock_api_sentiment_llm_duration_seconds{scorer}`), and turn transport
//! failures into [`ScoreError::Upstream`].
//!
//! The exchange itself is the shared `upstream` crate's. Keys travel in headers only (never in
//! a URL), reqwest errors lose their URL, and any upstream text quoted in an error passes
//! through [`quote_upstream`], in case a proxy or upstream echoes the key back.

use std::time::Instant;

use crate::ScoreError;

pub(crate) use upstream::{Answer, quote as quote_upstream};

/// Sends `request` (which carries its timeout and key header) and reads the answer.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    scorer: &'static str,
    secret: &str,
) -> Result<Answer, ScoreError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|error| transport(scorer, error, secret))?;
    let started = Instant::now();
    let result = upstream::exchange(&client, request).await;
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

fn transport(scorer: &'static str, error: reqwest::Error, secret: &str) -> ScoreError {
    let failure = upstream::transport_failure(error, secret);
    ScoreError::Upstream {
        scorer,
        status: None,
        detail: quote_upstream(&failure.detail, secret),
    }
}
