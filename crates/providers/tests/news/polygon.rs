use providers::news::NewsSource;
use providers::polygon::{Polygon, PolygonConfig};
use providers::{ProviderError, RateLimit};
use secrecy::SecretString;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{KEY, answering, assert_keyless, at, is_malformed};
use crate::common::{PATIENT, symbol};

fn source(base: &str) -> Polygon {
    let mut config = PolygonConfig::new(SecretString::from(KEY));
    config.base_url = base.to_owned();
    config.timeout = PATIENT;
    Polygon::new(config, reqwest::Client::new())
}

const NEWS: &str = r#"{
  "results": [{
    "id": "8ec638777ca03b553ae516761c2a22ba", "publisher": {"name": "Example Wire"},
    "title": "Example Corp &amp; partner sign deal", "author": "A. Writer",
    "published_utc": "2024-01-05T15:30:00Z", "article_url": "https://news.example/deal",
    "tickers": ["EXMP", "PRTN"], "description": "<div>The deal <i>closes</i> in Q2.</div>",
    "insights": [{"ticker": "EXMP", "sentiment": "positive", "sentiment_reasoning": "Revenue <b>grows</b>."}]
  }],
  "status": "OK", "request_id": "831afdb0b8078549fed053476984947a",
  "next_url": "https://api.polygon.io/v2/reference/news?cursor=abc"
}"#;

#[tokio::test]
async fn reference_news_keeps_polygons_insights_as_a_second_opinion() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/reference/news"))
        .and(query_param("ticker", "EXMP"))
        .and(query_param("published_utc.gte", "2024-01-05T00:00:00Z"))
        .and(query_param("limit", "5"))
        .and(header("Authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(NEWS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let items = source(&server.uri())
        .news(symbol("EXMP"), Some(at("2024-01-05T00:00:00Z")), 5)
        .await
        .unwrap();
    let item = &items[0];
    assert_eq!(item.title, "Example Corp & partner sign deal");
    assert_eq!(item.summary, "The deal closes in Q2.");
    assert_eq!(item.url, "https://news.example/deal");
    assert_eq!(item.publisher.as_deref(), Some("Example Wire"));
    assert_eq!(item.symbols, vec![symbol("EXMP"), symbol("PRTN")]);
    let insight = &item.provider_sentiment[0];
    assert_eq!(insight.label.as_deref(), Some("positive"));
    assert_eq!(insight.reasoning.as_deref(), Some("Revenue grows."));
    assert_eq!(insight.score, None);
}

#[tokio::test]
async fn no_results_is_an_empty_list() {
    let server = answering(
        200,
        r#"{"results": [], "status": "OK", "request_id": "x", "count": 0}"#,
    )
    .await;
    assert!(
        source(&server.uri())
            .news(symbol("EXMP"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn refusal(status: u16, body: &str) -> ProviderError {
    let server = answering(status, body).await;
    let error = source(&server.uri())
        .news(symbol("EXMP"), None, 10)
        .await
        .unwrap_err();
    assert_keyless(&error);
    error
}

#[tokio::test]
async fn refusals_are_classified_whatever_their_status() {
    let error = refusal(
        401,
        &format!(r#"{{"status":"ERROR","request_id":"r","error":"Unknown API Key {KEY}"}}"#),
    )
    .await;
    assert!(
        matches!(error, ProviderError::Unauthorized { .. }),
        "{error:?}"
    );
    let error = refusal(403, r#"{"status":"NOT_AUTHORIZED","request_id":"r","message":"You are not entitled to this data."}"#).await;
    assert!(
        matches!(error, ProviderError::PremiumOnly { .. }),
        "{error:?}"
    );
    let error = refusal(429, r#"{"status":"ERROR","request_id":"r","error":"You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue."}"#).await;
    assert!(
        matches!(
            error,
            ProviderError::RateLimited {
                limit: RateLimit::PerMinute,
                ..
            }
        ),
        "{error:?}"
    );
    let error = refusal(200, r#"{"status":"ERROR","request_id":"r","error":"You've exceeded the maximum requests per minute."}"#).await;
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_the_documented_shape_is_malformed() {
    for body in [
        "{\"results\": [",
        r#"{"status":"OK","results":"no"}"#,
        r#"{"results":[]}"#,
    ] {
        let server = answering(200, body).await;
        let error = source(&server.uri())
            .news(symbol("EXMP"), None, 10)
            .await
            .unwrap_err();
        assert!(is_malformed(&error), "{body}: {error:?}");
    }
}
