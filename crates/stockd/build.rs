//! Build script for the `stockd` crate: works out which commit is being built and hands it to
//! the code as `STOCKD_BUILD_COMMIT` (read by `src/build_info.rs` for `--version` and the
//! `stockd_build_info` metric).
//!
//! Where the commit comes from, in order:
//! 1. `git describe --tags --always --dirty` run in this crate's folder: a tag plus distance when
//!    the history has a tag (`v0.1.0-3-gabc1234`), else the abbreviated hash; `-dirty` when the
//!    tree had uncommitted changes when this script last ran;
//! 2. `STOCKD_GIT_COMMIT` from the build environment, for builds without `.git` or without git
//!    (a source tarball, a container build whose context leaves `.git` out);
//! 3. `unknown`.
//!
//! Cost: the script reruns only when `HEAD`, the branch it points to, the packed refs or the tags
//! change (or `STOCKD_GIT_COMMIT` does), not on every edit. So `-dirty` is as of the last rerun:
//! a commit clears it on the next build, but editing a file of a clean tree does not set it
//! until something else triggers a rerun. Release builds come from a clean tree, where that
//! difference does not arise.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The build-environment variable that names the commit when git cannot.
const ENV_COMMIT: &str = "STOCKD_GIT_COMMIT";
/// Longer values are cut: the commit ends up in a metric label and a version line.
const MAX_LEN: usize = 64;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={ENV_COMMIT}");

    let commit = from_git(&manifest_dir)
        .or_else(|| {
            let given = std::env::var(ENV_COMMIT).ok()?;
            let kept = sanitize(&given);
            if kept.is_none() && !given.trim().is_empty() {
                println!(
                    "cargo:warning=ignoring {ENV_COMMIT}={given:?}: expected a commit hash or \
                     `git describe` output (letters, digits, `.-_+/`)"
                );
            }
            kept
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=STOCKD_BUILD_COMMIT={commit}");
}

/// The commit from git, registering the files whose change means it may have changed.
fn from_git(dir: &Path) -> Option<String> {
    // `--git-path` resolves each file where git keeps it, also in a linked worktree (whose HEAD
    // is per worktree while refs are shared).
    let git_path = |name: &str| git(dir, &["rev-parse", "--git-path", name]).map(PathBuf::from);
    let head = git_path("HEAD")?;
    watch(dir, &head);
    // On a branch, HEAD names the ref and only the ref's file changes on a commit. Detached, HEAD
    // itself holds the hash.
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git_path(&branch)
    {
        watch(dir, &path);
    }
    for name in ["packed-refs", "refs/tags"] {
        if let Some(path) = git_path(name) {
            watch(dir, &path);
        }
    }
    git(dir, &["describe", "--tags", "--always", "--dirty"]).and_then(|v| sanitize(&v))
}

/// Asks cargo to rerun this script when `path` (relative to `dir` as git prints it) changes.
/// Only existing paths: cargo treats a missing one as changed on every build. A file appearing
/// later is still noticed: packing refs rewrites the branch's loose ref, which is watched.
fn watch(dir: &Path, path: &Path) {
    let path = dir.join(path);
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// The trimmed stdout of a successful git command; `None` when git is missing, this is not a
/// repository, or the command fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The trimmed commit-ish when it is safe in a version line and a Prometheus label value (ASCII
/// letters, digits and `.-_+/`), cut to [`MAX_LEN`] characters; `None` when empty or when it
/// holds anything else (a mistyped build argument is better dropped than half-kept).
fn sanitize(value: &str) -> Option<String> {
    let value = value.trim();
    let safe = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '/'));
    (safe && !value.is_empty()).then(|| value.chars().take(MAX_LEN).collect())
}
