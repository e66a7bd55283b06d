//! The SSRF guard at send time and at channel creation.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use notify::{
    AllowList, ChannelTarget, Lookup, NotifyConfig, Senders, UrlRefused, WebhookFormat,
    validate_webhook_url,
};
use secrecy::SecretString;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::notification;

fn webhook(url: &str) -> ChannelTarget {
    ChannelTarget::Webhook {
        url: url.to_owned(),
        secret: SecretString::from("whsec"),
        format: WebhookFormat::Generic,
    }
}

fn senders(allow: &str) -> Senders {
    let mut config = NotifyConfig::default();
    config.webhook.allow = allow.parse().unwrap();
    Senders::new(config).unwrap()
}

/// Resolves names from a table, like a DNS server the test controls.
#[derive(Debug)]
struct Table(HashMap<&'static str, Vec<IpAddr>>);

#[async_trait]
impl Lookup for Table {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        self.0
            .get(host)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
    }
}

fn table() -> Arc<Table> {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    Arc::new(Table(HashMap::from([
        ("hooks.test", vec![ip("127.0.0.1")]),
        ("public.test", vec![ip("93.184.215.14")]),
        ("mixed.test", vec![ip("93.184.215.14"), ip("10.0.0.7")]),
        ("metadata.test", vec![ip("169.254.169.254")]),
    ])))
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn non_public_destinations_are_refused_by_default() {
    let server = receiver().await;
    let senders = senders("");
    let local = format!("{}/hook", server.uri());
    let port = server.address().port();
    let localhost = format!("http://localhost:{port}/hook");
    for url in [
        local.as_str(),
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00:ec2::254]/",
        localhost.as_str(),
    ] {
        let err = senders
            .send(&webhook(url), &notification())
            .await
            .unwrap_err();
        assert!(err.permanent, "{url}: {err}");
        assert!(err.detail.contains("non-public"), "{url}: {err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn only_http_and_https_are_posted_to() {
    let senders = senders("");
    for url in [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com/",
    ] {
        let err = senders
            .send(&webhook(url), &notification())
            .await
            .unwrap_err();
        assert!(err.permanent, "{url}: {err}");
        assert!(err.detail.contains("must be http or https"), "{err}");
    }
}

#[tokio::test]
async fn the_allow_list_admits_networks_and_hosts() {
    let server = receiver().await;
    let port = server.address().port();
    let by_network = senders("127.0.0.0/8");
    by_network
        .send(&webhook(&format!("{}/hook", server.uri())), &notification())
        .await
        .unwrap();
    let by_host = senders("localhost");
    by_host
        .send(
            &webhook(&format!("http://localhost:{port}/hook")),
            &notification(),
        )
        .await
        .unwrap();
    // The network entry does not admit other private ranges.
    let err = by_network
        .send(&webhook("http://10.1.2.3/hook"), &notification())
        .await
        .unwrap_err();
    assert!(err.permanent);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_connection_goes_to_the_vetted_address() {
    // "hooks.test" exists only in the test's table: the request can reach the mock only through
    // the guarded resolver, which is the one that vetted (and allow-listed) the address.
    let server = receiver().await;
    let port = server.address().port();
    let mut config = NotifyConfig::default();
    config.webhook.allow = "127.0.0.1".parse().unwrap();
    let senders = Senders::with_lookup(config, table()).unwrap();
    senders
        .send(
            &webhook(&format!("http://hooks.test:{port}/hook")),
            &notification(),
        )
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn one_private_record_refuses_the_host() {
    let senders = Senders::with_lookup(NotifyConfig::default(), table()).unwrap();
    for host in ["mixed.test", "metadata.test"] {
        let err = senders
            .send(&webhook(&format!("http://{host}/hook")), &notification())
            .await
            .unwrap_err();
        assert!(err.permanent, "{host}: {err}");
        assert!(err.detail.contains(host), "{err}");
    }
    let err = senders
        .send(&webhook("http://metadata.test/"), &notification())
        .await
        .unwrap_err();
    assert!(err.detail.contains("cloud metadata"), "{err}");
}

#[tokio::test]
async fn channels_are_validated_when_created() {
    let senders = Senders::with_lookup(NotifyConfig::default(), table()).unwrap();
    assert_eq!(
        senders.validate(&webhook("https://public.test/hook")).await,
        Ok(())
    );
    for url in [
        "http://127.0.0.1/",
        "http://hooks.test/",
        "http://mixed.test/",
        "ftp://public.test/",
        "http://unknown.test/",
    ] {
        let err = senders.validate(&webhook(url)).await.unwrap_err();
        assert!(!err.is_empty(), "{url}");
    }
    let email = ChannelTarget::Email {
        address: "ann@example.com".into(),
    };
    assert!(
        senders
            .validate(&email)
            .await
            .unwrap_err()
            .contains("not configured"),
        "email without SMTP"
    );

    let refused = validate_webhook_url("http://localhost/", &AllowList::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            UrlRefused::Forbidden {
                reason: "loopback",
                ..
            }
        ),
        "{refused}"
    );
    let allowed = "localhost".parse::<AllowList>().unwrap();
    assert!(
        validate_webhook_url("http://localhost/", &allowed)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn ipv6_addresses_embedding_refused_ipv4_are_refused_as_literals_and_when_resolved() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    // The report's three: NAT64 local-use (the metadata address), Teredo (127.0.0.1), SIIT.
    let embedded = [
        "64:ff9b:1::a9fe:a9fe",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "::ffff:0:7f00:1",
    ];
    let lookup = Arc::new(Table(HashMap::from([
        ("nat64.test", vec![ip(embedded[0])]),
        ("teredo.test", vec![ip(embedded[1])]),
        ("siit.test", vec![ip(embedded[2])]),
    ])));
    let senders = Senders::with_lookup(NotifyConfig::default(), lookup).unwrap();
    let literals = embedded.map(|ip| format!("http://[{ip}]/hook"));
    let names = ["nat64.test", "teredo.test", "siit.test"].map(|h| format!("http://{h}/hook"));
    for url in literals.iter().chain(&names) {
        // Refused when the channel is created…
        let refused = senders.validate(&webhook(url)).await.unwrap_err();
        assert!(refused.contains("non-public"), "{url}: {refused}");
        // …and again at delivery, where the guarded resolver vets what it connects to.
        let err = senders
            .send(&webhook(url), &notification())
            .await
            .unwrap_err();
        assert!(
            err.permanent && err.detail.contains("non-public"),
            "{url}: {err}"
        );
    }
}
