//! The Kubernetes manifests stay in step with the code: every `STOCKD_*` name under
//! `deploy/k8s` (in `.env` files for the configMapGenerator and the Secret example, in `name:`,
//! `key:` and `secretKey:` fields of the YAML, and anywhere else it appears) is one stockd reads.
//! Same approach as `dockerfile.rs`: read the files, ask `Config::unknown_env_names`.
//!
//! `OTEL_*` names must be among the OpenTelemetry variables stockd's trace export reads
//! (`telemetry::otlp::ENVIRONMENT`).
//!
//! Likewise every `args:` of a stockd container is a command line stockd accepts: parsed with
//! the binary's own clap definition (`Cli`), and `serve --role` values checked by
//! `Config::roles` (api, worker, alerts, all).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::Parser;
use stockd::cli::{Cli, Command};
use stockd::config::{Config, Settings};

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
    prefixed_names(text, "STOCKD_")
}

/// The `<prefix>[A-Z0-9_]+` words in `text`.
fn prefixed_names(text: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(prefix) {
        let tail = &rest[start + prefix.len()..];
        let len = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        // A word of its own: not the end of a longer identifier such as `MY_STOCKD_X`.
        let standalone = !rest[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if len > 0 && standalone {
            names.push(format!("{prefix}{}", &tail[..len]));
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
        .filter(|name| name.starts_with("STOCKD_") || name.starts_with("OTEL_"))
        .collect()
}

/// The `OTEL_*` names among `names` that stockd's trace export does not read.
#[cfg(feature = "otlp")]
fn unknown_otel_names<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| name.starts_with("OTEL_"))
        .filter(|name| !stockd::telemetry::otlp::ENVIRONMENT.contains(&name.as_str()))
        .cloned()
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
                .filter(|name| name.starts_with("STOCKD_"))
                .map(|name| (name.clone(), String::new())),
        ) {
            unknown.push(format!("{}: {name}", file.display()));
        }
        // OpenTelemetry's standard names: only those the embedded SDK reads.
        #[cfg(feature = "otlp")]
        for name in unknown_otel_names(names.iter().chain(&prefixed_names(&text, "OTEL_"))) {
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
    #[cfg(feature = "otlp")]
    {
        let otel = names_set(
            Path::new("deployment.yaml"),
            "- name: OTEL_EXPORTER_OTLP_ENDPOINT\n- name: OTEL_EXPORTER_JAEGER_ENDPOINT\n",
        );
        assert_eq!(otel.len(), 2);
        assert_eq!(unknown_otel_names(&otel), ["OTEL_EXPORTER_JAEGER_ENDPOINT"]);
    }
}

/// The `args:` lists of stockd containers in a manifest, each with its line number. The args
/// belong to the container of the nearest `image:` above them in the same YAML document; a
/// document without one (a patch of a stockd Deployment) counts as stockd's. Lists must be
/// written flow-style (`args: ["serve", "--role", "api"]`) so none escapes the check.
fn stockd_args(text: &str) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut found = Vec::new();
    let mut image: Option<&str> = None;
    for (n, line) in text.lines().enumerate() {
        let field = line.trim().trim_start_matches("- ");
        if line.starts_with("---") {
            image = None;
        } else if let Some(value) = field.strip_prefix("image:") {
            image = Some(value.trim().trim_matches('"'));
        } else if let Some(value) = field.strip_prefix("args:") {
            let is_stockd = image.is_none_or(|image| {
                let name = image.rsplit('/').next().unwrap_or(image);
                name == "stockd" || name.starts_with("stockd:") || name.starts_with("stockd@")
            });
            if is_stockd {
                let parsed = serde_json::from_str::<Vec<String>>(value.trim())
                    .map_err(|err| format!("not a flow-style list of strings ({err})"));
                found.push((n + 1, parsed));
            }
        }
    }
    found
}

/// Whether stockd accepts `args` (its argv after the program name): clap's parse, then the
/// roles of `serve --role`.
fn check_args(args: &[String]) -> Result<(), String> {
    let cli = Cli::try_parse_from(std::iter::once("stockd").chain(args.iter().map(String::as_str)))
        .map_err(|err| {
            err.to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })?;
    if let Some(Command::Serve(serve)) = cli.command
        && !serve.roles.is_empty()
    {
        let settings = Settings {
            roles: serve.roles.join(","),
            ..Settings::default()
        };
        settings.roles().map_err(|err| err.to_string())?;
    }
    Ok(())
}

#[test]
fn every_stockd_command_line_in_the_manifests_is_one_stockd_accepts() {
    let mut seen = Vec::new();
    let mut rejected = Vec::new();
    for file in manifest_files(&k8s_dir()) {
        if file.extension().is_some_and(|ext| ext == "env") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, args) in stockd_args(&text) {
            match args.and_then(|args| check_args(&args).map(|()| args)) {
                Ok(args) => seen.push(args.join(" ")),
                Err(err) => rejected.push(format!("{}:{line}: {err}", file.display())),
            }
        }
    }
    assert_eq!(
        rejected,
        Vec::<String>::new(),
        "command lines stockd rejects"
    );

    // The parsing found the role Deployments and the CronJob.
    for expected in [
        "serve",
        "serve --role api",
        "serve --role worker",
        "serve --role alerts",
        "archive",
    ] {
        assert!(
            seen.iter().any(|args| args == expected),
            "{expected}: {seen:?}"
        );
    }
}

#[test]
fn the_check_rejects_a_role_or_subcommand_stockd_does_not_have() {
    let args = |list: &[&str]| list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
    check_args(&args(&["serve", "--role", "api,worker"])).unwrap();
    check_args(&args(&["serve", "--role=alerts"])).unwrap();
    check_args(&args(&["ingest", "--quiet"])).unwrap();
    let err = check_args(&args(&["serve", "--role", "poller"])).unwrap_err();
    assert!(err.contains("unknown role 'poller'"), "{err}");
    assert!(check_args(&args(&["backfill"])).is_err());
    assert!(check_args(&args(&["serve", "--roles", "api"])).is_err());

    // The nats container's args are not stockd's; a block-style list cannot be checked.
    let manifest = "\
containers:
  - name: nats
    image: nats:2.10-alpine
    args: [\"-js\"]
---
spec:
  containers:
    - name: stockd
      args: [\"serve\", \"--role\", \"api\"]
    - image: ghcr.io/x/stockd:1.2
      args:
        - serve
";
    let found = stockd_args(manifest);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0], (9, Ok(args(&["serve", "--role", "api"]))));
    assert!(found[1].1.is_err(), "{found:?}");
}
