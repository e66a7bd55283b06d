//! Where the archive lives: turning `STOCKD_ARCHIVE_URL` (a path, `file://`, `s3://`, `az://`,
//! `gs://`, `memory://`) into an object store, and printing such a URL without its secrets.
//!
//! Cloud backends are cargo features (`aws`, `azure`, `gcp`) because each pulls an HTTP client
//! and a TLS stack; a scheme whose feature is off is refused with the feature to turn on, rather
//! than object_store's generic "feature not enabled".

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::ObjectStoreScheme;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use url::Url;

use crate::ArchiveError;

/// An opened archive root: the store and the prefix every partition path is put under.
pub(crate) struct Location {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) prefix: Path,
}

/// Opens `url`. `options` are object_store configuration keys (`aws_access_key_id`,
/// `azure_storage_account_key`, `google_service_account`, … — environment variable names,
/// case-insensitive) for cloud backends; the local filesystem ignores them.
pub(crate) fn open<I, K, V>(url: &str, options: I) -> Result<Location, ArchiveError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let text = url.trim();
    if text.is_empty() {
        return Err(bad_url(url, "empty; give a folder or an object store URL"));
    }
    // A plain path is the common case (the default is a folder under the data dir); only text
    // that says it is a URL is parsed as one.
    if !(text.contains("://") || text.starts_with("file:") || text.starts_with("memory:")) {
        return local(url, PathBuf::from(text));
    }
    let parsed = Url::parse(text).map_err(|err| bad_url(url, &err.to_string()))?;
    let (scheme, prefix) = ObjectStoreScheme::parse(&parsed).map_err(|_| {
        bad_url(
            url,
            &format!(
                "unknown scheme '{}': use a folder, file://, s3://, az:// (abfss://) or gs://",
                parsed.scheme()
            ),
        )
    })?;
    match scheme {
        ObjectStoreScheme::Local => {
            let path = parsed
                .to_file_path()
                .map_err(|()| bad_url(url, "not a local file path"))?;
            local(url, path)
        }
        ObjectStoreScheme::Memory => Ok(Location {
            store: Arc::new(InMemory::new()),
            prefix,
        }),
        ObjectStoreScheme::AmazonS3 => cloud(url, &parsed, "s3", "aws", options),
        ObjectStoreScheme::MicrosoftAzure => cloud(url, &parsed, "azure", "azure", options),
        ObjectStoreScheme::GoogleCloudStorage => cloud(url, &parsed, "gs", "gcp", options),
        _ => Err(bad_url(
            url,
            "plain http(s) stores are not supported: use s3://, az:// (abfss://) or gs://",
        )),
    }
}

/// A folder on this machine, created when missing. object_store's local store writes each
/// object to a staging file and renames it into place, so a reader never sees half a file.
fn local(url: &str, path: PathBuf) -> Result<Location, ArchiveError> {
    std::fs::create_dir_all(&path).map_err(|err| bad_url(url, &folder_error(&path, &err)))?;
    let store = LocalFileSystem::new_with_prefix(&path)
        .map_err(|err| bad_url(url, &format!("{}: {err}", path.display())))?;
    Ok(Location {
        store: Arc::new(store),
        prefix: Path::default(),
    })
}

fn folder_error(path: &FsPath, err: &std::io::Error) -> String {
    format!("cannot create the folder {}: {err}", path.display())
}

/// A cloud store, when its feature is compiled in. The builders start empty (no implicit
/// environment reads: stockd passes the relevant variables as `options`), and fall back to the
/// platform's own credentials (instance metadata, workload identity) when none are given.
fn cloud<I, K, V>(
    url: &str,
    parsed: &Url,
    scheme: &'static str,
    feature: &'static str,
    options: I,
) -> Result<Location, ArchiveError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let compiled = match feature {
        "aws" => cfg!(feature = "aws"),
        "azure" => cfg!(feature = "azure"),
        "gcp" => cfg!(feature = "gcp"),
        _ => false,
    };
    if !compiled {
        return Err(ArchiveError::NotCompiled {
            url: redact_url(url),
            scheme,
            feature,
        });
    }
    // object_store's builder errors may quote the URL: its secrets are taken out first.
    let (store, prefix) = object_store::parse_url_opts(parsed, options)
        .map_err(|err| bad_url(url, &scrub(&err.to_string(), parsed)))?;
    Ok(Location {
        store: Arc::from(store),
        prefix,
    })
}

fn bad_url(url: &str, reason: &str) -> ArchiveError {
    ArchiveError::Url {
        url: redact_url(url),
        reason: reason.to_owned(),
    }
}

/// `text` with `url`'s password and query values replaced by `[redacted]`.
fn scrub(text: &str, url: &Url) -> String {
    let mut out = text.to_owned();
    let secrets = url
        .password()
        .map(str::to_owned)
        .into_iter()
        .chain(url.query_pairs().map(|(_, value)| value.into_owned()));
    for secret in secrets.filter(|s| !s.is_empty()) {
        out = out.replace(&secret, "[redacted]");
    }
    out
}

/// `url` fit for logs and `stockd config`: the password in the user info and every query value
/// (SAS tokens, signatures) replaced by `[redacted]`; bucket, container and path are kept.
pub fn redact_url(url: &str) -> String {
    let mut out = url.trim().to_owned();
    let fragment = out
        .find('#')
        .map(|at| out.split_off(at))
        .unwrap_or_default();
    if let Some(scheme_end) = out.find("://").map(|at| at + 3) {
        let authority_end = out[scheme_end..]
            .find(['/', '?'])
            .map_or(out.len(), |at| scheme_end + at);
        if let Some(at) = out[scheme_end..authority_end].rfind('@')
            && let Some(colon) = out[scheme_end..scheme_end + at].find(':')
        {
            out.replace_range(scheme_end + colon + 1..scheme_end + at, "[redacted]");
        }
    }
    if let Some(query_start) = out.find('?') {
        let query = out.split_off(query_start + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) => format!("{key}=[redacted]"),
                None => pair.to_owned(),
            })
            .collect();
        out.push_str(&redacted.join("&"));
    }
    out + &fragment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_query_values_are_redacted() {
        assert_eq!(
            redact_url("s3://AKIA:SECRET@bucket/prefix"),
            "s3://AKIA:[redacted]@bucket/prefix"
        );
        assert_eq!(
            redact_url("https://acct.blob.core.windows.net/c/p?sv=2024&sig=SECRET"),
            "https://acct.blob.core.windows.net/c/p?sv=[redacted]&sig=[redacted]"
        );
        assert_eq!(
            redact_url("abfss://container@acct.dfs.core.windows.net/p"),
            "abfss://container@acct.dfs.core.windows.net/p"
        );
        assert_eq!(redact_url("./data/archive"), "./data/archive");
    }

    #[test]
    fn quoted_urls_lose_their_secrets() {
        let url = Url::parse("s3://AKIA:SECRET@bucket/p?token=TOKEN").unwrap_or_else(|err| {
            panic!("{err}");
        });
        assert_eq!(
            scrub("bad url s3://AKIA:SECRET@bucket/p?token=TOKEN", &url),
            "bad url s3://AKIA:[redacted]@bucket/p?token=[redacted]"
        );
    }
}
