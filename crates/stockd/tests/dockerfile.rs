//! The container image stays in step with the code: the Dockerfile's compiler and version
//! defaults match the workspace, its HEALTHCHECK runs a real subcommand, the settings it sets are
//! ones stockd reads, and the build context lets in what the build needs. No Docker engine is
//! needed: these read the files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use clap::Parser;
use stockd::cli::{Cli, Command};
use stockd::config::{Config, Settings};

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The default of `ARG name=value` (the first one).
fn arg_default(dockerfile: &str, name: &str) -> String {
    let prefix = format!("ARG {name}=");
    dockerfile
        .lines()
        .find_map(|line| line.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}…` in the Dockerfile"))
        .to_owned()
}

#[test]
fn the_image_builds_with_the_pinned_compiler_and_labels_the_crate_version() {
    let dockerfile = repo_file("Dockerfile");
    let toolchain = repo_file("rust-toolchain.toml");
    let channel = toolchain
        .lines()
        .find_map(|line| line.trim().strip_prefix("channel = "))
        .unwrap()
        .trim_matches('"');
    assert_eq!(arg_default(&dockerfile, "RUST_VERSION"), channel);
    assert_eq!(
        arg_default(&dockerfile, "VERSION"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(dockerfile.contains("FROM rust:${RUST_VERSION}-bookworm AS builder"));
}

#[test]
fn the_healthcheck_port_and_environment_are_ones_stockd_knows() {
    let dockerfile = repo_file("Dockerfile");
    let healthcheck = dockerfile
        .split("HEALTHCHECK")
        .nth(1)
        .and_then(|rest| rest.split("CMD [").nth(1))
        .and_then(|rest| rest.split(']').next())
        .unwrap();
    let argv: Vec<String> = healthcheck
        .split(',')
        .map(|word| word.trim().trim_matches('"').to_owned())
        .collect();
    assert_eq!(argv[0], "/usr/local/bin/stockd");
    let cli = Cli::try_parse_from(&argv).unwrap();
    assert!(matches!(cli.command, Some(Command::Healthcheck)));

    let expose = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("EXPOSE "))
        .unwrap();
    assert_eq!(expose.trim(), Settings::default().port.to_string());

    // Names the image sets with ENV (an instruction runs on while its lines end in `\`).
    let mut env: Vec<(String, String)> = Vec::new();
    let mut in_env = false;
    for line in dockerfile.lines() {
        let line = line.trim();
        let body = match line.strip_prefix("ENV ") {
            Some(body) => Some(body),
            None if in_env => Some(line),
            None => None,
        };
        in_env = body.is_some() && line.ends_with('\\');
        for word in body.unwrap_or_default().split_whitespace() {
            if let Some((name, value)) = word.split_once('=') {
                env.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    let stockd_env: Vec<_> = env
        .iter()
        .filter(|(name, _)| name.starts_with("STOCKD_"))
        .cloned()
        .collect();
    assert!(
        stockd_env.iter().any(|(name, _)| name == "STOCKD_DATA_DIR"),
        "{env:?}"
    );
    assert_eq!(Config::unknown_env_names(stockd_env), Vec::<String>::new());
}

#[test]
fn the_build_context_holds_the_workspace_and_leaves_out_git_and_build_output() {
    let ignore = repo_file(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    // An allowlist: everything out (including .git, whose absence the build script handles
    // through STOCKD_GIT_COMMIT), then what `cargo build` reads back in.
    assert_eq!(rules.first(), Some(&"*"));
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        "crates/",
        "bench/",
    ] {
        assert!(rules.contains(&format!("!{needed}").as_str()), "{needed}");
    }
    assert!(rules.contains(&"**/target"));
    // Every workspace member lives under an allowed folder.
    let manifest = repo_file("Cargo.toml");
    let members = manifest
        .lines()
        .find_map(|line| line.strip_prefix("members = "))
        .unwrap();
    for member in members.trim_matches(['[', ']']).split(',') {
        let member = member.trim().trim_matches('"');
        assert!(
            member.starts_with("crates/") || member.starts_with("bench/"),
            "{member} is not in the image's build context"
        );
    }
}
