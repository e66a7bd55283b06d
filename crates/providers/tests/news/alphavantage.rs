use providers::alphavantage::{AlphaVantage, AlphaVantageConfig};
use providers::news::NewsSource;
use providers::{ProviderError, RateLimit};
use secrecy::SecretString;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{KEY, answering, assert_keyless, at, is_malformed};
use crate::common::{PATIENT, symbol};

fn source(base: &str) -> AlphaVantage {
    let mut config = AlphaVantageConfig::new(SecretString::from(KEY));
    config.base_url = base.to_owned();
    config.timeout = PATIENT;
    AlphaVantage::new(config, reqwest::Client::new())
}

const FEED: &str = r#"{
  "items": "1",
  "sentiment_score_definition": "x <= -0.35: Bearish; -0.35 < x <= -0.15: Somewhat-Bearish; -0.15 < x < 0.15: Neutral; 0.15 <= x < 0.35: Somewhat_Bullish; x >= 0.35: Bullish",
  "relevance_score_definition": "0 < x <= 1, with a higher score indicating higher relevance.",
  "feed": [{
    "title": "Example Corp beats estimates", "url": "https://news.example/ec-beat",
    "time_published": "20240105T103000", "authors": ["A. Writer"],
    "summary": "Example Corp <a href=\"https://x\">reported</a> strong results.",
    "banner_image": "https://news.example/img.jpg", "source": "Example Wire",
    "category_within_source": "n/a", "source_domain": "news.example",
    "topics": [{"topic": "Earnings", "relevance_score": "0.999"}],
    "overall_sentiment_score": 0.271, "overall_sentiment_label": "Somewhat-Bullish",
    "ticker_sentiment": [
      {"ticker": "EXMP", "relevance_score": "0.81", "ticker_sentiment_score": "0.33", "ticker_sentiment_label": "Somewhat-Bullish"},
      {"ticker": "OTHR", "relevance_score": 0.1, "ticker_sentiment_score": "not a number", "ticker_sentiment_label": "Neutral"},
      {"ticker": "CRYPTO:BTC", "relevance_score": "0.2", "ticker_sentiment_score": "0.1", "ticker_sentiment_label": "Neutral"}
    ]
  }]
}"#;

#[tokio::test]
async fn news_sentiment_keeps_alpha_vantages_per_ticker_scores_as_a_second_opinion() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/query"))
        .and(query_param("function", "NEWS_SENTIMENT"))
        .and(query_param("tickers", "EXMP"))
        .and(query_param("time_from", "20240105T0900"))
        .and(query_param("apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_raw(FEED, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let items = source(&server.uri())
        .news(symbol("EXMP"), Some(at("2024-01-05T14:00:00Z")), 10)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item.summary, "Example Corp reported strong results.");
    assert_eq!(
        item.published_at,
        at("2024-01-05T15:30:00Z"),
        "US Eastern time"
    );
    assert_eq!(item.symbols, vec![symbol("EXMP"), symbol("OTHR")]);
    assert_eq!(item.provider, "alphavantage");
    let exmp = &item.provider_sentiment[0];
    assert_eq!(exmp.symbol, symbol("EXMP"));
    assert_eq!(exmp.score, Some(0.33));
    assert_eq!(exmp.relevance, Some(0.81));
    assert_eq!(exmp.label.as_deref(), Some("Somewhat-Bullish"));
    let other = &item.provider_sentiment[1];
    assert_eq!((other.score, other.relevance), (None, Some(0.1)));
    assert_eq!(
        item.provider_sentiment.len(),
        2,
        "CRYPTO:BTC is not a symbol"
    );
}

#[tokio::test]
async fn an_empty_feed_is_an_empty_list() {
    let server = answering(200, r#"{"items": "0", "feed": []}"#).await;
    assert!(
        source(&server.uri())
            .news(symbol("EXMP"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn refusal(body: &str) -> ProviderError {
    let server = answering(200, body).await;
    let error = source(&server.uri())
        .news(symbol("EXMP"), None, 10)
        .await
        .unwrap_err();
    assert_keyless(&error);
    error
}

#[tokio::test]
async fn refusals_in_a_200_body_are_classified_like_the_price_calls() {
    let error = refusal(r#"{"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}"#).await;
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
    let error = refusal(r#"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}"#).await;
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
    let error = refusal(&format!(r#"{{"Error Message": "the parameter apikey is invalid or missing: {KEY}. Please claim your free API key on (https://www.alphavantage.co/support/#api-key)."}}"#)).await;
    assert!(
        matches!(error, ProviderError::Unauthorized { .. }),
        "{error:?}"
    );
    let error = refusal(
        r#"{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint."}"#,
    )
    .await;
    assert!(
        matches!(error, ProviderError::PremiumOnly { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_without_a_feed_or_not_json_is_malformed() {
    for body in ["{}", r#"{"feed": "nope"}"#, "not json"] {
        let server = answering(200, body).await;
        let error = source(&server.uri())
            .news(symbol("EXMP"), None, 10)
            .await
            .unwrap_err();
        assert!(is_malformed(&error), "{body}: {error:?}");
    }
}
