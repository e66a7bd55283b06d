//! What this binary is: the crate's semantic version and the git commit it was built from (see
//! `build.rs` for where the commit comes from), shown by `stockd --version` and exported as the
//! `stockd_build_info` gauge so dashboards can tell which build each instance runs.

/// The semantic version, from the workspace manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit: `git describe --tags --always --dirty` output, `STOCKD_GIT_COMMIT` given at build
/// time, or `unknown`.
pub const COMMIT: &str = env!("STOCKD_BUILD_COMMIT");

/// The `--version` line after the program name, e.g. `0.1.0 (abc1234)`.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("STOCKD_BUILD_COMMIT"),
    ")"
);

/// The metric's name: constant 1, the build in its labels (the Prometheus `*_build_info`
/// convention, joined onto other series with `group_left`).
pub const METRIC: &str = "stockd_build_info";

/// Sets `stockd_build_info{version, commit} 1` on the installed metrics recorder.
pub fn publish_metric() {
    metrics::describe_gauge!(
        METRIC,
        "Always 1; the labels give the version and git commit of this stockd build."
    );
    metrics::gauge!(METRIC, "version" => VERSION, "commit" => COMMIT).set(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_names_the_version_and_the_commit() {
        assert!(LONG_VERSION.starts_with(VERSION));
        assert!(LONG_VERSION.ends_with(&format!("({COMMIT})")));
        assert!(!COMMIT.is_empty());
    }
}
