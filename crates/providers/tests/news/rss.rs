use providers::ProviderError;
use providers::news::NewsSource;
use providers::news::rss::{Rss, RssConfig};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{at, is_malformed};
use crate::common::{PATIENT, symbol};

fn source(base: &str) -> Rss {
    let config = RssConfig {
        url_template: format!("{base}/rss?s={{symbol}}"),
        timeout: PATIENT,
    };
    Rss::new(config, reqwest::Client::new()).unwrap()
}

async fn serving(status: u16, body: &str, content_type: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.to_owned(), content_type))
        .mount(&server)
        .await;
    server
}

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>Example Finance: EXMP headlines</title>
  <link>https://finance.example/q/EXMP</link>
  <description>Latest EXMP news</description>
  <item>
    <title>Example Corp beats estimates</title>
    <link>https://finance.example/news/1</link>
    <description><![CDATA[<p>Shares <b>rose</b> 5%.</p><img src="x.png"/>]]></description>
    <pubDate>Fri, 05 Jan 2024 15:30:00 GMT</pubDate>
    <guid>1</guid>
  </item>
  <item>
    <title>Older story</title>
    <link>https://finance.example/news/0</link>
    <description>Plain text</description>
    <pubDate>Thu, 04 Jan 2024 09:00:00 +0000</pubDate>
  </item>
  <item>
    <title>No link, skipped</title>
    <pubDate>Fri, 05 Jan 2024 16:00:00 GMT</pubDate>
  </item>
</channel></rss>"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example Atom Wire</title>
  <id>urn:example:feed</id>
  <updated>2024-01-05T16:00:00Z</updated>
  <entry>
    <title type="html">Deal &lt;em&gt;closes&lt;/em&gt;</title>
    <link rel="alternate" href="https://atom.example/deal"/>
    <link rel="enclosure" href="https://atom.example/deal.mp3"/>
    <id>urn:example:1</id>
    <published>2024-01-05T15:00:00Z</published>
    <updated>2024-01-05T15:05:00Z</updated>
    <summary type="html">&lt;p&gt;The deal &amp;amp; more.&lt;/p&gt;</summary>
  </entry>
</feed>"#;

#[tokio::test]
async fn an_rss_feed_becomes_plain_text_articles_newest_first() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rss"))
        .and(query_param("s", "EXMP"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(RSS, "application/rss+xml"))
        .expect(2)
        .mount(&server)
        .await;
    let items = source(&server.uri())
        .news(symbol("EXMP"), None, 10)
        .await
        .unwrap();
    assert_eq!(items.len(), 2, "the entry without a link is skipped");
    let first = &items[0];
    assert_eq!(first.title, "Example Corp beats estimates");
    assert_eq!(first.url, "https://finance.example/news/1");
    assert_eq!(first.summary, "Shares rose 5%.");
    assert_eq!(first.published_at, at("2024-01-05T15:30:00Z"));
    assert_eq!(
        first.publisher.as_deref(),
        Some("Example Finance: EXMP headlines")
    );
    assert_eq!(first.symbols, vec![symbol("EXMP")]);
    assert_eq!(first.provider, "rss");
    assert_eq!(items[1].title, "Older story");

    let recent = source(&server.uri())
        .news(symbol("EXMP"), Some(at("2024-01-05T00:00:00Z")), 10)
        .await
        .unwrap();
    assert_eq!(
        recent.len(),
        1,
        "`since` is applied to feeds, which cannot filter"
    );
}

#[tokio::test]
async fn an_atom_feed_is_read_with_its_alternate_link_and_published_time() {
    let server = serving(200, ATOM, "application/atom+xml").await;
    let items = source(&server.uri())
        .news(symbol("EXMP"), None, 10)
        .await
        .unwrap();
    let item = &items[0];
    assert_eq!(item.title, "Deal closes");
    assert_eq!(item.url, "https://atom.example/deal");
    assert_eq!(item.summary, "The deal & more.");
    assert_eq!(item.published_at, at("2024-01-05T15:00:00Z"));
    assert_eq!(item.publisher.as_deref(), Some("Example Atom Wire"));
}

#[tokio::test]
async fn an_empty_channel_is_an_empty_list() {
    let body = r#"<rss version="2.0"><channel><title>t</title><link>https://x.example</link><description>d</description></channel></rss>"#;
    let server = serving(200, body, "application/rss+xml").await;
    assert!(
        source(&server.uri())
            .news(symbol("EXMP"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_page_that_is_not_a_feed_is_malformed() {
    for body in [
        "<html><body>Not found</body></html>",
        "<rss version=\"2.0\"><channel><item>",
        "",
    ] {
        let server = serving(200, body, "text/html").await;
        let error = source(&server.uri())
            .news(symbol("EXMP"), None, 10)
            .await
            .unwrap_err();
        assert!(is_malformed(&error), "{body:?}: {error:?}");
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_classified() {
    let server = serving(429, "slow down", "text/plain").await;
    let error = source(&server.uri())
        .news(symbol("EXMP"), None, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
    let server = serving(503, "down", "text/plain").await;
    let error = source(&server.uri())
        .news(symbol("EXMP"), None, 10)
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Upstream { .. }), "{error:?}");
}
