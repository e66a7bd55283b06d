//! The Kubernetes manifests stay in step with the code: every `STOCKD_*` name under
//! `deploy/k8s` (in `.env` files for the configMapGenerator and the Secret example, in `name:`,
//! `key:` and `secretKey:` fields of the YAML, and anywhere else it appears) is one stockd reads.
//! Same approach as `dockerfile.rs`: read the files, ask `Config::unknown_env_names`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use stockd::config::Config;

fn k8s_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s")
}

/// Every `.yaml`, `.yml` and `.env` file under `dir`, sorted.
fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| matches!(ext, "yaml" | "yml" | "env"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The `STOCKD_[A-Z0-9_]+` words in `text`.
fn stockd_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("STOCKD_") {
        let tail = &rest[start + "STOCKD_".len()..];
        let len = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        // A word of its own: not the end of a longer identifier such as `MY_STOCKD_X`.
        let standalone = !rest[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if len > 0 && standalone {
            names.push(format!("STOCKD_{}", &tail[..len]));
        }
        rest = &tail[len..];
    }
    names
}

/// Names a file sets: `NAME=value` lines of an env file, or the `name:` / `key:` /
/// `secretKey:` fields of a manifest.
fn names_set(path: &Path, text: &str) -> Vec<String> {
    let is_env = path.extension().is_some_and(|ext| ext == "env");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            if is_env {
                line.split_once('=').map(|(name, _)| name.trim().to_owned())
            } else {
                let field = line.trim_start_matches("- ");
                ["name:", "key:", "secretKey:"]
                    .iter()
                    .find_map(|key| field.strip_prefix(key))
                    .map(|value| value.trim().trim_matches('"').to_owned())
            }
        })
        .filter(|name| name.starts_with("STOCKD_"))
        .collect()
}

#[test]
fn every_stockd_name_in_the_manifests_is_one_stockd_reads() {
    let files = manifest_files(&k8s_dir());
    assert!(
        files.iter().any(|file| file.ends_with("base/stockd.env")),
        "{files:?}"
    );

    let mut set = Vec::new();
    let mut unknown = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let names = names_set(file, &text);
        // The fields parsed above, and any other mention (a comment, a literal): both must be
        // names stockd reads.
        let mentioned = stockd_names(&text);
        for name in Config::unknown_env_names(
            names
                .iter()
                .chain(&mentioned)
                .map(|name| (name.clone(), String::new())),
        ) {
            unknown.push(format!("{}: {name}", file.display()));
        }
        set.extend(names);
    }
    unknown.sort();
    unknown.dedup();
    assert_eq!(unknown, Vec::<String>::new(), "names stockd does not read");

    // The parsing found what the overlays are known to set.
    for expected in [
        "STOCKD_PORT",
        "STOCKD_DATA_DIR",
        "STOCKD_QUOTE_POLLER",
        "STOCKD_DATABASE_URL",
        "STOCKD_NATS_URL",
        "STOCKD_ALPHAVANTAGE_API_KEY",
    ] {
        assert!(
            set.iter().any(|name| name == expected),
            "{expected}: {set:?}"
        );
    }
}

#[test]
fn the_check_rejects_a_name_stockd_does_not_read() {
    let manifest = "env:\n  - name: STOCKD_NO_SUCH_SETTING\n    value: \"1\"\n";
    let names = names_set(Path::new("deployment.yaml"), manifest);
    assert_eq!(names, ["STOCKD_NO_SUCH_SETTING"]);
    assert_eq!(
        Config::unknown_env_names(names.into_iter().map(|name| (name, String::new()))),
        ["STOCKD_NO_SUCH_SETTING"]
    );
    assert_eq!(
        names_set(Path::new("stockd.env"), "# STOCKD_X=1\nSTOCKD_PORT=8080\n"),
        ["STOCKD_PORT"]
    );
    assert_eq!(
        stockd_names("STOCKD_* and MY_STOCKD_X, STOCKD_LOG=info"),
        ["STOCKD_LOG"]
    );
}
