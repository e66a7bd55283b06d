//! `deploy/observability/` against the real binary: every metric name the Grafana dashboards
//! and the PrometheusRule query must be one stockd exports.
//!
//! A name passes by one of two routes:
//! 1. **scraped**: the test starts `stockd serve` offline, exercises it (`/MSFT/7`,
//!    `/v1/stocks/MSFT/daily`, an unknown route, `/v1/providers`, a quote) and reads `/metrics`.
//!    This covers `stockd_build_info`, `stock_api_requests_total`,
//!    `stock_api_request_duration_seconds`, `stock_api_cache_hits_total` / `_misses_total`,
//!    `stock_api_circuit_breaker_state`, `stock_api_external_calls_total`,
//!    `stock_api_external_call_duration_seconds`, `stock_api_ingest_queue_depth` and
//!    `stock_api_ingest_jobs_failed`.
//! 2. **source**: metrics that exist only after an event a short offline run cannot cause
//!    are accepted when the name is a string literal in a `metrics::counter!` / `gauge!` /
//!    `histogram!` call under `crates/*/src`: `stock_api_provider_quota_remaining` (limited
//!    providers only, i.e. with an API key), `stock_api_provider_calls_skipped_total`,
//!    `stock_api_ingest_jobs_total`, `stock_api_alert_triggers_total`,
//!    `stock_api_alert_tick_to_outbox_seconds`, `stock_api_alert_quote_to_delivery_seconds`
//!    and `stock_api_notifications_total`.
//!
//! A dashboard or rule that names anything else (a typo, a renamed metric) fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::{Stockd, free_port, http_get, serve_command};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// The base name of a series: histogram series lose `_bucket` / `_sum` / `_count`.
fn base_name(name: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

/// Every `stock_api_…` / `stockd_…` metric name in `text` (matched at a word start).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for prefix in ["stock_api_", "stockd_"] {
        for (at, _) in text.match_indices(prefix) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| is_name_char(c) || c.is_ascii_alphanumeric()) {
                continue;
            }
            let end = text[at..]
                .find(|c: char| !is_name_char(c))
                .map_or(text.len(), |n| at + n);
            let name = text[at..end].trim_end_matches('_');
            if name.len() > prefix.len() {
                names.insert(base_name(name).to_owned());
            }
        }
    }
    names
}

/// The metric names referenced by the dashboards and the rules, with the file naming each.
fn referenced_names(observability: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    files_under(observability, &mut files);
    files.sort();
    let mut referenced = Vec::new();
    for file in files {
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "json" | "yaml" | "yml") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file
            .strip_prefix(observability)
            .unwrap()
            .display()
            .to_string();
        for name in metric_names(&text) {
            referenced.push((name, shown.clone()));
        }
    }
    referenced
}

/// Metric names in the exposition text: sample lines and `# TYPE` / `# HELP` lines.
fn scraped_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter_map(|line| {
            let line = line
                .strip_prefix("# TYPE ")
                .or_else(|| line.strip_prefix("# HELP "))
                .unwrap_or(line);
            if line.starts_with('#') {
                return None;
            }
            let name: String = line.chars().take_while(|&c| is_name_char(c)).collect();
            (!name.is_empty()).then(|| base_name(&name).to_owned())
        })
        .collect()
}

/// Names that appear as the first argument of a `counter!` / `gauge!` / `histogram!` call in
/// the workspace's library and binary sources.
fn names_in_metrics_macros(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            files_under(&src, &mut files);
        }
    }
    let mut names = BTreeSet::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for macro_call in ["counter!(", "gauge!(", "histogram!("] {
            for (at, _) in text.match_indices(macro_call) {
                let rest = text[at + macro_call.len()..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else {
                    continue; // a constant: that metric must be found by scraping
                };
                let name: String = rest.chars().take_while(|&c| is_name_char(c)).collect();
                if rest[name.len()..].starts_with('"') && !name.is_empty() {
                    names.insert(name);
                }
            }
        }
    }
    names
}

#[test]
fn the_name_scanners_find_what_they_should() {
    let names = metric_names(
        r#"histogram_quantile(0.99, rate(stock_api_request_duration_seconds_bucket{job="x"}[5m]))
           / stockd_build_info and xstock_api_not_this"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["stock_api_request_duration_seconds", "stockd_build_info"]
    );
    let scraped = scraped_names(
        "# TYPE stock_api_requests_total counter\nstock_api_requests_total{route=\"/\"} 1\n\n\
         stock_api_x_seconds_count 3\n",
    );
    assert_eq!(
        scraped.into_iter().collect::<Vec<_>>(),
        ["stock_api_requests_total", "stock_api_x_seconds"]
    );
}

#[test]
fn every_metric_the_dashboards_and_rules_query_is_exported_by_stockd() {
    let root = workspace_root();
    let observability = root.join("deploy/observability");

    // The dashboards are shipped by the kustomization's configMapGenerator.
    let kustomization = std::fs::read_to_string(observability.join("kustomization.yaml")).unwrap();
    let mut dashboards = Vec::new();
    files_under(&observability.join("dashboards"), &mut dashboards);
    assert!(!dashboards.is_empty());
    for dashboard in &dashboards {
        let relative = dashboard.strip_prefix(&observability).unwrap();
        let relative = relative.to_str().unwrap();
        assert!(
            kustomization.contains(&format!("- {relative}")),
            "{relative} is not in deploy/observability/kustomization.yaml"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dashboard).unwrap())
                .unwrap_or_else(|e| panic!("{relative}: {e}"));
        assert!(
            json["uid"].is_string() && json["panels"].is_array(),
            "{relative}"
        );
    }

    let referenced = referenced_names(&observability);
    let files: BTreeSet<&str> = referenced.iter().map(|(_, f)| f.as_str()).collect();
    assert!(
        files.iter().any(|f| f.ends_with(".json")) && files.contains("prometheusrule.yaml"),
        "no metric names found in the dashboards or the rules: {files:?}"
    );

    // Route 1: scrape a running stockd.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let stockd = Stockd::start(serve_command(dir.path(), port), port);
    let first = stockd.get("/MSFT/7");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    for path in [
        "/MSFT/7", // a cache hit after the miss above
        "/v1/stocks/MSFT/daily",
        "/v1/stocks/IBM/quote",
        "/no/such/route/here",
        "/v1/providers",
    ] {
        let response = http_get(port, path).unwrap();
        assert!(response.starts_with("HTTP/1.1 "), "{path}: {response}");
    }
    let exposition = http_get(port, "/metrics").unwrap();
    assert!(exposition.starts_with("HTTP/1.1 200"), "{exposition}");
    let scraped = scraped_names(&exposition);
    for core in [
        "stockd_build_info",
        "stock_api_requests_total",
        "stock_api_request_duration_seconds",
        "stock_api_cache_hits_total",
        "stock_api_circuit_breaker_state",
    ] {
        assert!(scraped.contains(core), "{core} not scraped:\n{exposition}");
    }

    // Route 2: a literal in a metrics macro.
    let in_source = names_in_metrics_macros(&root);

    let missing: Vec<String> = referenced
        .iter()
        .filter(|(name, _)| !scraped.contains(name) && !in_source.contains(name))
        .map(|(name, file)| format!("{name} (deploy/observability/{file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "metrics queried but not exported by stockd (neither in /metrics after the test's \
         requests nor a literal in a metrics::counter!/gauge!/histogram! call):\n  {}",
        missing.join("\n  ")
    );
}
