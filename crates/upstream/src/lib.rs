//! One HTTP round trip to an upstream API, shared by the market-data providers and news
//! sources (`providers`) and the LLM sentiment scorers (`sentiment`): send a built request,
//! read the whole body and the `Retry-After` seconds, describe a transport failure without its
//! URL, and scrub keys from any upstream text that is quoted back.
//!
//! Status codes are not judged here: each caller classifies answers into its own error type
//! (providers refuse in 200 bodies, LLMs in JSON error objects). It is a crate of its own so the
//! scorers share this without depending on the providers (and their feed and CSV parsers).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;

/// Upstream text is quoted in error details up to this many characters.
pub const MAX_QUOTED_CHARS: usize = 300;

/// What came back from one call.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    /// The `Retry-After` header, when it is a number of seconds.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Sends `request` on `client` and reads the whole answer.
pub async fn exchange(
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

/// A failed exchange (connect, timeout, body read), described for an error detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure {
    pub timed_out: bool,
    /// What happened, with every cause, without the URL and with the key scrubbed.
    pub detail: String,
}

/// Describes `error` without its URL: reqwest puts the request URL (which may carry a key in
/// its query) into its errors' `Display`, and its own message is terse ("error sending
/// request"), so the causes are appended.
pub fn transport_failure(error: reqwest::Error, secret: &str) -> TransportFailure {
    let timed_out = error.is_timeout();
    let what = if timed_out {
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
    TransportFailure {
        timed_out,
        detail: scrub(&detail, secret),
    }
}

/// Upstream text made safe to show: the key removed, length bounded.
pub fn quote(text: &str, secret: &str) -> String {
    let scrubbed = scrub(text.trim(), secret);
    if scrubbed.chars().count() <= MAX_QUOTED_CHARS {
        scrubbed
    } else {
        let head: String = scrubbed.chars().take(MAX_QUOTED_CHARS).collect();
        format!("{head}…")
    }
}

/// `text` with every occurrence of the key replaced (in case a proxy or upstream echoes it).
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn quoted_upstream_text_is_scrubbed_and_bounded() {
        let text = quote(&format!("bad key SECRET {}", "x".repeat(500)), "SECRET");
        assert!(!text.contains("SECRET"), "{text}");
        assert_eq!(text.chars().count(), MAX_QUOTED_CHARS + 1);
        assert_eq!(scrub("abc", ""), "abc");
        assert_eq!(quote("  short  ", ""), "short");
    }

    #[tokio::test]
    async fn the_answer_carries_status_body_and_retry_after_seconds() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", " 7 ")
                    .set_body_string("slow down"),
            )
            .mount(&server)
            .await;
        let client = reqwest::Client::new();
        let request = client.get(server.uri()).build().unwrap();
        let answer = exchange(&client, request).await.unwrap();
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(answer.body, b"slow down");
    }

    #[tokio::test]
    async fn a_refused_connection_is_described_without_the_url_or_its_key() {
        // A port nothing listens on: bind, read the port, drop the listener.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = reqwest::Client::new();
        let request = client
            .get(format!("http://127.0.0.1:{port}/query?apikey=KEY-123"))
            .build()
            .unwrap();
        let error = exchange(&client, request).await.unwrap_err();
        let failure = transport_failure(error, "KEY-123");
        assert!(!failure.timed_out);
        assert!(
            failure.detail.starts_with("could not connect: "),
            "{failure:?}"
        );
        assert!(!failure.detail.contains("KEY-123"), "{failure:?}");
        assert!(!failure.detail.contains("/query"), "{failure:?}");
    }
}
