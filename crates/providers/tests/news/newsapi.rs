use domain::news::MAX_SUMMARY_CHARS;
use providers::news::NewsSource;
use providers::news::newsapi::{NewsApi, NewsApiConfig};
use providers::{ProviderError, RateLimit};
use secrecy::SecretString;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{KEY, answering, assert_keyless, at, is_malformed};
use crate::common::{PATIENT, symbol};

fn source(base: &str) -> NewsApi {
    let mut config = NewsApiConfig::new(SecretString::from(KEY));
    config.base_url = base.to_owned();
    config.timeout = PATIENT;
    NewsApi::new(config, reqwest::Client::new())
}

fn articles(description: &str) -> String {
    serde_json::json!({
        "status": "ok", "totalResults": 2,
        "articles": [
            {"source": {"id": null, "name": "Example Wire"}, "author": "A. Writer",
             "title": "Example Corp beats estimates", "description": description,
             "url": "https://news.example/ec-beat", "urlToImage": "https://news.example/img.jpg",
             "publishedAt": "2024-01-05T15:30:00Z", "content": "Example Corp reported ... [+2345 chars]"},
            {"source": {"id": "wire", "name": "Other"}, "author": null, "title": "[Removed]",
             "description": null, "url": "", "publishedAt": "2024-01-05T16:00:00Z", "content": null},
            {"source": {"id": null, "name": "Bad date"}, "title": "No time", "description": "",
             "url": "https://news.example/x", "publishedAt": "yesterday"}
        ]
    })
    .to_string()
}

#[tokio::test]
async fn everything_is_searched_for_the_symbol_with_the_key_in_a_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/everything"))
        .and(query_param("q", "AAPL"))
        .and(query_param("sortBy", "publishedAt"))
        .and(query_param("pageSize", "20"))
        .and(query_param("from", "2024-01-04T00:00:00Z"))
        .and(header("X-Api-Key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            articles("Shares <em>rose</em> after&nbsp;results."),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let items = source(&server.uri())
        .news(symbol("AAPL"), Some(at("2024-01-04T00:00:00Z")), 20)
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        1,
        "articles without a URL or a readable time are skipped"
    );
    let item = &items[0];
    assert_eq!(item.title, "Example Corp beats estimates");
    assert_eq!(item.summary, "Shares rose after results.");
    assert_eq!(item.publisher.as_deref(), Some("Example Wire"));
    assert_eq!(item.published_at, at("2024-01-05T15:30:00Z"));
    assert_eq!(item.symbols, vec![symbol("AAPL")]);
    assert_eq!(item.provider, "newsapi");
}

#[tokio::test]
async fn a_huge_summary_is_cut_to_the_bound() {
    let server = answering(200, &articles(&"<p>word</p> ".repeat(5_000))).await;
    let items = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap();
    assert_eq!(items[0].summary.chars().count(), MAX_SUMMARY_CHARS);
}

#[tokio::test]
async fn no_articles_is_an_empty_list() {
    let server = answering(200, r#"{"status":"ok","totalResults":0,"articles":[]}"#).await;
    assert!(
        source(&server.uri())
            .news(symbol("AAPL"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn refusal(status: u16, code: &str, message: &str) -> ProviderError {
    let body = serde_json::json!({"status": "error", "code": code, "message": message}).to_string();
    let server = answering(status, &body).await;
    let error = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap_err();
    assert_keyless(&error);
    error
}

#[tokio::test]
async fn key_refusals_are_unauthorized_and_never_show_the_key() {
    for code in ["apiKeyInvalid", "apiKeyMissing", "apiKeyDisabled"] {
        let error = refusal(
            401,
            code,
            &format!("Your API key {KEY} is invalid or incorrect."),
        )
        .await;
        assert!(
            matches!(error, ProviderError::Unauthorized { .. }),
            "{code}: {error:?}"
        );
    }
}

#[tokio::test]
async fn the_daily_plan_limit_is_a_rate_limit_for_the_day() {
    let error = refusal(
        429,
        "rateLimited",
        "You have made too many requests recently. Developer accounts are limited to 100 requests over a 24 hour period (50 requests available every 12 hours). Please upgrade to a paid plan if you need more requests.",
    )
    .await;
    assert!(
        matches!(
            error,
            ProviderError::RateLimited {
                limit: RateLimit::PerDay,
                ..
            }
        ),
        "{error:?}"
    );
    let error = refusal(
        429,
        "apiKeyExhausted",
        "Your API key has no more requests available.",
    )
    .await;
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn plan_limits_on_depth_are_premium_only_and_other_codes_upstream() {
    let error = refusal(
        426,
        "maximumResultsReached",
        "You have requested too many results.",
    )
    .await;
    assert!(
        matches!(error, ProviderError::PremiumOnly { .. }),
        "{error:?}"
    );
    let error = refusal(
        400,
        "parameterInvalid",
        "You are trying to request results too far in the past. Your plan permits you to request articles as far back as 2024-02-01, but you have requested 2023-01-01.",
    )
    .await;
    assert!(
        matches!(error, ProviderError::PremiumOnly { .. }),
        "{error:?}"
    );
    let error = refusal(500, "unexpectedError", "This shouldn't happen.").await;
    assert!(matches!(error, ProviderError::Upstream { .. }), "{error:?}");
}

#[tokio::test]
async fn a_bare_429_or_5xx_without_json_is_still_classified() {
    let server = answering(429, "Too Many Requests").await;
    let error = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
    let server = answering(502, "<html>Bad gateway</html>").await;
    let error = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Upstream { .. }), "{error:?}");
}

#[tokio::test]
async fn a_success_body_that_is_not_the_documented_shape_is_malformed() {
    for body in [
        "{\"status\":\"ok\",",
        r#"{"status":"ok"}"#,
        r#"{"articles":[]}"#,
        "<html></html>",
    ] {
        let server = answering(200, body).await;
        let error = source(&server.uri())
            .news(symbol("AAPL"), None, 10)
            .await
            .unwrap_err();
        assert!(is_malformed(&error), "{body}: {error:?}");
    }
}
