use providers::finnhub::{Finnhub, FinnhubConfig};
use providers::news::NewsSource;
use providers::{ProviderError, RateLimit};
use secrecy::SecretString;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{KEY, answering, assert_keyless, at, is_malformed};
use crate::common::{PATIENT, symbol};

fn source(base: &str) -> Finnhub {
    let mut config = FinnhubConfig::new(SecretString::from(KEY));
    config.base_url = base.to_owned();
    config.timeout = PATIENT;
    Finnhub::new(config, reqwest::Client::new())
}

const ARTICLES: &str = r#"[
  {"category": "company", "datetime": 1704465000, "headline": "Apple supplier <b>expands</b>",
   "id": 125938475, "image": "https://img.example/a.jpg", "related": "AAPL,MSFT",
   "source": "Example Wire", "summary": "<p>Shares &amp; bonds rose.</p><script>x()</script>",
   "url": "https://news.example/a"},
  {"category": "company", "datetime": 1704470000, "headline": "Later headline", "id": 125938476,
   "image": "", "related": "AAPL", "source": "Other Wire", "summary": "", "url": "https://news.example/b"},
  {"category": "company", "datetime": 1704000000, "headline": "Too old", "id": 1, "image": "",
   "related": "AAPL", "source": "Old", "summary": "", "url": "https://news.example/old"}
]"#;

#[tokio::test]
async fn company_news_is_asked_with_the_key_header_and_read_newest_first_without_html() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/company-news"))
        .and(query_param("symbol", "AAPL"))
        .and(query_param("from", "2024-01-05"))
        .and(header("X-Finnhub-Token", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(ARTICLES, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let items = source(&server.uri())
        .news(symbol("AAPL"), Some(at("2024-01-05T00:00:00Z")), 10)
        .await
        .unwrap();
    assert_eq!(items.len(), 2, "the article before `since` is dropped");
    assert_eq!(items[0].title, "Later headline");
    let first = &items[1];
    assert_eq!(first.title, "Apple supplier expands");
    assert_eq!(first.summary, "Shares & bonds rose.");
    assert_eq!(first.url, "https://news.example/a");
    assert_eq!(first.publisher.as_deref(), Some("Example Wire"));
    assert_eq!(first.published_at, at("2024-01-05T14:30:00Z"));
    assert_eq!(first.symbols, vec![symbol("AAPL"), symbol("MSFT")]);
    assert_eq!(first.provider, "finnhub");
    assert!(!first.simulated && first.provider_sentiment.is_empty());
}

#[tokio::test]
async fn no_articles_is_an_empty_list() {
    let server = answering(200, "[]").await;
    let items = source(&server.uri())
        .news(symbol("ZZZZ"), None, 10)
        .await
        .unwrap();
    assert!(items.is_empty());
}

#[tokio::test]
async fn refusals_are_classified_and_never_show_the_key() {
    let server = answering(
        429,
        r#"{"error": "API limit reached. Please try again later. Remaining Limit: 0"}"#,
    )
    .await;
    let error = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ProviderError::RateLimited {
                limit: RateLimit::Unstated,
                ..
            }
        ),
        "{error:?}"
    );

    let server = answering(401, &format!(r#"{{"error": "Invalid API key {KEY}"}}"#)).await;
    let error = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Unauthorized { .. }),
        "{error:?}"
    );
    assert_keyless(&error);

    let server = answering(
        403,
        r#"{"error": "You don't have access to this resource."}"#,
    )
    .await;
    let error = source(&server.uri())
        .news(symbol("AAPL"), None, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::PremiumOnly { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_list_of_articles_is_malformed() {
    for body in [
        r#"{"headline": "not a list"}"#,
        "[{\"headline\": ",
        "<html>oops</html>",
    ] {
        let server = answering(200, body).await;
        let error = source(&server.uri())
            .news(symbol("AAPL"), None, 10)
            .await
            .unwrap_err();
        assert!(is_malformed(&error), "{body}: {error:?}");
    }
}
