//! The canonical form of a news article's URL: the key an article is stored under once, however
//! many sources, feeds and newsletters link to it.
//!
//! [`canonical_url`] parses with the `url` crate (WHATWG rules: scheme and host lower-cased,
//! IDNA hosts in punycode, dot segments resolved, default ports dropped) and then:
//!
//! - refuses anything but `http` and `https`, and URLs without a host;
//! - drops credentials (`user:password@`) and the fragment (`#…`), which never name a different
//!   article and must not be stored;
//! - drops a trailing dot of the host (`example.com.` is `example.com`);
//! - drops tracking parameters from the query ([`is_tracking_parameter`]): every `utm_*`, and
//!   the click and campaign identifiers of ad and mail platforms (`fbclid`, `gclid`, `dclid`,
//!   `gbraid`, `wbraid`, `msclkid`, `yclid`, `twclid`, `igshid`, `mc_cid`, `mc_eid`, `_hsenc`,
//!   `_hsmi`, `mkt_tok`, `cmpid`, `ncid`, `sr_share`, `guccounter`, `guce_referrer`,
//!   `guce_referrer_sig`), compared case-insensitively after percent-decoding the name;
//! - keeps every other parameter, in its order and with its exact encoding, and drops the `?`
//!   when none is left.
//!
//! `ref` is kept on purpose: on some sites it names the article or the edition, and a
//! duplicate stored twice costs less than two articles merged into one. The path is kept as it
//! is (a trailing slash can name a different page).

use std::fmt;

use serde::Serialize;

/// The longest canonical URL accepted, in bytes: longer ones are not article addresses.
pub const MAX_URL_LEN: usize = 2_048;

/// Query parameter names (lower case) that only track a reader, never select an article.
const TRACKING_PARAMETERS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "cmpid",
    "ncid",
    "sr_share",
    "guccounter",
    "guce_referrer",
    "guce_referrer_sig",
];

/// An article URL in canonical form ([`canonical_url`]): the key articles are stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CanonicalUrl(String);

/// Why a URL cannot be an article's address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalUrlError {
    #[error("not a URL: {0}")]
    Invalid(String),
    #[error("unsupported URL scheme '{0}': use http or https")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL is longer than {MAX_URL_LEN} bytes")]
    TooLong,
}

impl CanonicalUrl {
    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Re-reads a URL stored in canonical form; it is canonicalised again, so a stored value
    /// written by an older rule set reads back under today's rules.
    pub fn parse(text: &str) -> Result<Self, CanonicalUrlError> {
        canonical_url(text)
    }
}

impl fmt::Display for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for CanonicalUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Whether a query parameter of this (decoded) name only tracks the reader.
pub fn is_tracking_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMETERS.contains(&name.as_str())
}

/// The canonical form of an article URL: http(s) only, scheme and host lower-cased, default
/// port, credentials, fragment and tracking parameters ([`is_tracking_parameter`]) dropped, the
/// other parameters kept in order.
pub fn canonical_url(text: &str) -> Result<CanonicalUrl, CanonicalUrlError> {
    let mut url =
        url::Url::parse(text.trim()).map_err(|err| CanonicalUrlError::Invalid(err.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(CanonicalUrlError::Scheme(other.to_owned())),
    }
    let host = url.host_str().ok_or(CanonicalUrlError::NoHost)?;
    if host.is_empty() {
        return Err(CanonicalUrlError::NoHost);
    }
    if let Some(bare) = host.strip_suffix('.').map(str::to_owned) {
        if bare.is_empty() {
            return Err(CanonicalUrlError::NoHost);
        }
        url.set_host(Some(&bare))
            .map_err(|err| CanonicalUrlError::Invalid(err.to_string()))?;
    }
    // Neither can fail for an http(s) URL with a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    let kept = url.query().map(kept_parameters);
    url.set_query(kept.as_deref().filter(|query| !query.is_empty()));
    let canonical = String::from(url);
    if canonical.len() > MAX_URL_LEN {
        return Err(CanonicalUrlError::TooLong);
    }
    Ok(CanonicalUrl(canonical))
}

/// The query without tracking parameters and empty segments, the rest as written.
fn kept_parameters(query: &str) -> String {
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .filter(|segment| {
            let raw_name = segment.split_once('=').map_or(*segment, |(name, _)| name);
            let name: String = url::form_urlencoded::parse(raw_name.as_bytes())
                .map(|(name, _)| name.into_owned())
                .next()
                .unwrap_or_default();
            !is_tracking_parameter(&name)
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn canon(text: &str) -> String {
        canonical_url(text).unwrap().to_string()
    }

    #[test]
    fn scheme_and_host_are_lower_cased_and_the_fragment_dropped() {
        assert_eq!(
            canon("HTTPS://News.Example.COM/Markets/MSFT-Beats?id=7#comments"),
            "https://news.example.com/Markets/MSFT-Beats?id=7"
        );
    }

    #[test]
    fn tracking_parameters_are_dropped_and_the_rest_keep_their_order() {
        assert_eq!(
            canon(
                "https://example.com/a?b=2&utm_source=x&a=1&UTM_Medium=email&fbclid=abc&gclid=1\
                 &mc_cid=9&mc_eid=8&cmpid=rss&z=%20y"
            ),
            "https://example.com/a?b=2&a=1&z=%20y"
        );
        assert_eq!(
            canon("https://example.com/a?utm_source=x&utm_campaign=y"),
            "https://example.com/a"
        );
        // A percent-encoded name is still a tracking parameter.
        assert_eq!(
            canon("https://example.com/a?utm%5Fsource=x&keep=1"),
            "https://example.com/a?keep=1"
        );
    }

    #[test]
    fn ref_and_other_parameters_that_may_select_an_article_are_kept() {
        assert_eq!(
            canon("https://example.com/a?ref=edition-2&id=5&utmost=1"),
            "https://example.com/a?ref=edition-2&id=5&utmost=1"
        );
    }

    #[test]
    fn default_ports_credentials_and_a_trailing_host_dot_are_dropped() {
        assert_eq!(
            canon("http://user:secret@Example.com.:80/x"),
            "http://example.com/x"
        );
        assert_eq!(canon("https://example.com:443"), "https://example.com/");
        assert_eq!(
            canon("https://example.com:8443/x"),
            "https://example.com:8443/x"
        );
    }

    #[test]
    fn non_web_urls_and_garbage_are_refused() {
        assert_eq!(
            canonical_url("ftp://example.com/a"),
            Err(CanonicalUrlError::Scheme("ftp".into()))
        );
        assert!(matches!(
            canonical_url("javascript:alert(1)"),
            Err(CanonicalUrlError::Scheme(_))
        ));
        assert!(matches!(
            canonical_url("not a url"),
            Err(CanonicalUrlError::Invalid(_))
        ));
        assert!(matches!(
            canonical_url("http://./a"),
            Err(CanonicalUrlError::NoHost | CanonicalUrlError::Invalid(_))
        ));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(canonical_url(&long), Err(CanonicalUrlError::TooLong));
    }

    fn word() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,6}"
    }

    fn kept_parameter() -> impl Strategy<Value = String> {
        (word(), word())
            .prop_filter("not tracking", |(name, _)| !is_tracking_parameter(name))
            .prop_map(|(name, value)| format!("{name}={value}"))
    }

    fn tracking_parameter() -> impl Strategy<Value = String> {
        let named = prop::sample::select(TRACKING_PARAMETERS.to_vec()).prop_map(str::to_owned);
        let utm = word().prop_map(|suffix| format!("UTM_{suffix}"));
        (prop_oneof![named, utm], word()).prop_map(|(name, value)| format!("{name}={value}"))
    }

    proptest! {
        #[test]
        fn tracking_parameters_never_change_the_key(
            host in "[a-z]{1,10}\\.(com|org|co\\.uk)",
            path in "(/[a-zA-Z0-9_-]{1,8}){0,3}",
            kept in prop::collection::vec(kept_parameter(), 0..4),
            tracking in prop::collection::vec(tracking_parameter(), 0..4),
            seed in any::<u64>(),
        ) {
            let plain = if kept.is_empty() {
                format!("https://{host}{path}")
            } else {
                format!("https://{host}{path}?{}", kept.join("&"))
            };
            // Tracking parameters spliced in anywhere, kept ones in their order.
            let mut mixed = kept.clone();
            for (i, t) in tracking.iter().enumerate() {
                let at = (seed as usize).wrapping_add(i * 7) % (mixed.len() + 1);
                mixed.insert(at, t.clone());
            }
            let tracked = if mixed.is_empty() {
                format!("HTTPS://{}{path}#frag", host.to_uppercase())
            } else {
                format!("HTTPS://{}{path}?{}#frag", host.to_uppercase(), mixed.join("&"))
            };
            prop_assert_eq!(canonical_url(&tracked).unwrap(), canonical_url(&plain).unwrap());
        }

        #[test]
        fn canonicalising_twice_changes_nothing(
            host in "[a-zA-Z]{1,10}\\.[a-z]{2,3}",
            path in "(/[a-zA-Z0-9%_-]{0,8}){0,3}",
            query in prop::collection::vec(prop_oneof![kept_parameter(), tracking_parameter()], 0..5),
        ) {
            let text = format!("http://{host}{path}?{}", query.join("&"));
            if let Ok(once) = canonical_url(&text) {
                prop_assert_eq!(canonical_url(once.as_str()).unwrap(), once);
            }
        }
    }
}
