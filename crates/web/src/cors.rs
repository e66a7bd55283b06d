//! Cross-origin access for browser pages on other origins (CORS), off unless the operator
//! lists the origins allowed.
//!
//! With an allow-list, tower-http's `CorsLayer` answers preflight requests itself and adds
//! `Access-Control-Allow-Origin` to answers for a listed origin only; an unlisted origin gets
//! no CORS headers, so the browser keeps the answer from its page. Authentication is a bearer
//! token in `Authorization`, never a cookie, so credentials mode is never allowed (which also
//! makes `*` safe to choose deliberately: a page on any origin can read only what it could
//! read with its own token).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::Router;
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The origins allowed to read answers from their pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all (the default): only same-origin pages read answers.
    #[default]
    Off,
    /// Any origin (`*`), chosen deliberately.
    Any,
    /// These origins (`https://app.example.com`), exactly.
    List(Vec<HeaderValue>),
}

/// A `cors_allow_origins` value that is not a list of origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsParseError(String);

impl fmt::Display for CorsParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CorsParseError {}

impl FromStr for CorsOrigins {
    type Err = CorsParseError;

    /// Comma-separated origins (`https://a.example,http://localhost:3000`), `*` alone for any
    /// origin, or empty for none.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let entries: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if entries.is_empty() {
            return Ok(Self::Off);
        }
        if entries.contains(&"*") {
            return if entries.len() == 1 {
                Ok(Self::Any)
            } else {
                Err(CorsParseError(
                    "'*' allows every origin and cannot be combined with a list".into(),
                ))
            };
        }
        entries
            .iter()
            .map(|entry| parse_origin(entry))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::List)
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
fn parse_origin(entry: &str) -> Result<HeaderValue, CorsParseError> {
    let refuse = |why: &str| {
        CorsParseError(format!(
            "'{entry}' is not an origin ({why}); write scheme://host[:port], e.g. https://app.example.com"
        ))
    };
    let url = url::Url::parse(entry).map_err(|_| refuse("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("only http and https"));
    }
    if url.host_str().is_none() {
        return Err(refuse("no host"));
    }
    // The origin must be all there is: no path (not even `/`), query, fragment or user.
    if entry.ends_with('/')
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(refuse(
            "only scheme, host and port, without a path or trailing slash",
        ));
    }
    // As browsers send it: lower-case host, no default port.
    HeaderValue::from_str(&url.origin().ascii_serialization())
        .map_err(|_| refuse("not a header value"))
}

/// `router` answering cross-origin requests from `origins` (unchanged when off).
pub fn with_cors(router: Router, origins: &CorsOrigins) -> Router {
    let allow = match origins {
        CorsOrigins::Off => return router,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(list.iter().cloned()),
    };
    router.layer(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                ACCEPT,
                crate::observe::REQUEST_ID,
            ])
            .expose_headers([
                crate::observe::REQUEST_ID,
                crate::routes::CACHE_HEADER,
                RETRY_AFTER,
                WWW_AUTHENTICATE,
                LOCATION,
                ETAG,
            ])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_from_a_comma_separated_list() {
        assert_eq!("".parse::<CorsOrigins>().unwrap(), CorsOrigins::Off);
        assert_eq!(" , ".parse::<CorsOrigins>().unwrap(), CorsOrigins::Off);
        assert_eq!("*".parse::<CorsOrigins>().unwrap(), CorsOrigins::Any);
        assert_eq!(
            "https://app.example.com, http://localhost:3000"
                .parse::<CorsOrigins>()
                .unwrap(),
            CorsOrigins::List(vec![
                HeaderValue::from_static("https://app.example.com"),
                HeaderValue::from_static("http://localhost:3000"),
            ])
        );
        // Written as browsers send it.
        assert_eq!(
            "https://App.Example.com:443"
                .parse::<CorsOrigins>()
                .unwrap(),
            CorsOrigins::List(vec![HeaderValue::from_static("https://app.example.com")])
        );
    }

    #[test]
    fn anything_but_an_origin_is_refused_with_the_way_to_write_one() {
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://user@app.example.com",
            "https://app.example.com?x=1",
            "ftp://app.example.com",
            "*,https://app.example.com",
        ] {
            let err = bad.parse::<CorsOrigins>().unwrap_err().to_string();
            assert!(
                err.contains("scheme://host") || err.contains("'*'"),
                "{bad}: {err}"
            );
        }
    }
}
