//! How URL-valued settings are shown: `stockd config`, start-up logs and `stockd migrate` print
//! every URL through [`redact_url`], so a credential written into any of them (a password or
//! token in the user-info, an API key in the query string) is never printed, whatever the
//! setting.
//!
//! What stays readable is what an operator needs to check a deployment: the scheme, the user
//! name (when a password follows it), the hosts and ports, the path and the names of query
//! parameters. Everything that may be a secret is replaced by `[redacted]`:
//!
//! - the password of `user:password@`; a user-info without a password (`nats://TOKEN@host`,
//!   `https://KEY@host`) whole, since it is then usually a token;
//! - the value of every query parameter (`?token=…&apikey=…`, also harmless ones like
//!   `sslmode`: a name cannot prove a value is not secret);
//! - a fragment.
//!
//! Plain values (a host name, a file path) come back unchanged.

use serde::Serializer;

/// What replaces a secret.
const REDACTED: &str = "[redacted]";

/// `url` with its credentials replaced (see the module documentation). Works on text, not a
/// parsed URL, so values no URL parser accepts (PostgreSQL's `host1,host2` lists, `sqlite:`
/// paths) are redacted too, and so is each URL of a comma-separated server list (NATS).
pub fn redact_url(url: &str) -> String {
    // A comma starts another URL only when a scheme follows it; otherwise it belongs to the
    // current one (a host list, a query value).
    let mut urls: Vec<String> = Vec::new();
    for piece in url.split(',') {
        match urls.last_mut() {
            Some(current) if !piece.contains("://") => {
                current.push(',');
                current.push_str(piece);
            }
            _ => urls.push(piece.to_owned()),
        }
    }
    urls.iter()
        .map(|url| redact_one(url))
        .collect::<Vec<_>>()
        .join(",")
}

fn redact_one(url: &str) -> String {
    let url = url.trim();
    let (url, fragment) = match url.split_once('#') {
        Some((url, _)) => (url, Some(REDACTED)),
        None => (url, None),
    };
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len() + 16);
    match base.find("://").map(|at| at + 3) {
        Some(authority_start) => {
            let authority_end = base[authority_start..]
                .find('/')
                .map_or(base.len(), |at| authority_start + at);
            let authority = &base[authority_start..authority_end];
            out.push_str(&base[..authority_start]);
            match authority.rfind('@') {
                Some(at) => {
                    let (user_info, hosts) = authority.split_at(at);
                    match user_info.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push(':');
                            out.push_str(REDACTED);
                        }
                        None => out.push_str(REDACTED),
                    }
                    out.push_str(hosts);
                }
                None => out.push_str(authority),
            }
            out.push_str(&base[authority_end..]);
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) => format!("{name}={REDACTED}"),
                // A bare word may itself be a token (`?SECRET`).
                None if pair.is_empty() => String::new(),
                None => REDACTED.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Serialises a URL setting redacted.
pub(super) fn url<S: Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact_url(url))
}

/// Serialises an optional URL setting redacted.
pub(super) fn optional_url<S: Serializer>(
    url: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&redact_url(url)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_tokens_and_query_values_are_replaced_and_the_rest_kept() {
        for (url, shown) in [
            (
                "postgres://stockd:HUNTER2@db.internal:5432/stockd?sslmode=require",
                "postgres://stockd:[redacted]@db.internal:5432/stockd?sslmode=[redacted]",
            ),
            ("nats://T0KEN@nats:4222", "nats://[redacted]@nats:4222"),
            (
                "https://user:p%40ss@api.example.com/v1?token=abc&apikey=def",
                "https://user:[redacted]@api.example.com/v1?token=[redacted]&apikey=[redacted]",
            ),
            (
                "s3://AKIA:SECRET@bucket/prefix?x=1#frag",
                "s3://AKIA:[redacted]@bucket/prefix?x=[redacted]#[redacted]",
            ),
            // user:password in a PostgreSQL host list, and a password containing '@'.
            (
                "postgres://u:p@ss@h1:5432,h2:5432/db",
                "postgres://u:[redacted]@h1:5432,h2:5432/db",
            ),
            (
                "https://api.example.com/?SECRET",
                "https://api.example.com/?[redacted]",
            ),
            ("sqlite:stockd.db?key=K", "sqlite:stockd.db?key=[redacted]"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn values_without_credentials_come_back_unchanged() {
        for value in [
            "https://www.alphavantage.co",
            "https://finnhub.io/api/v1",
            "/var/lib/stockd/stockd.db",
            "sqlite:///tmp/x.db",
            "smtp.example.com",
            "nats://nats:4222",
        ] {
            assert_eq!(redact_url(value), value);
        }
    }

    #[test]
    fn every_server_of_a_list_is_redacted() {
        assert_eq!(
            redact_url("nats://a:PW1@n1:4222,nats://TOKEN@n2:4222"),
            "nats://a:[redacted]@n1:4222,nats://[redacted]@n2:4222"
        );
        // A comma inside one URL (a query value) does not start another.
        assert_eq!(
            redact_url("postgres://h/db?options=a,SECRET&x=1"),
            "postgres://h/db?options=[redacted]&x=[redacted]"
        );
    }
}
