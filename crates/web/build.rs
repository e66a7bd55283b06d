//! Build script for the `web` crate: fetches the Scalar API reference browser
//! bundle from npm at build time and leaves it in `$OUT_DIR` for `src/docs.rs`
//! to embed, so `/docs` works with no network at run time; and builds the
//! dashboard (`ui/`, see `build/ui.rs`) for `src/app.rs` to serve under `/app/`.
//!
//! Outputs (always written, so the crate always compiles):
//! - `$OUT_DIR/scalar-standalone.js`: the real bundle, or a small fallback
//!   script that links to `/openapi.json` when the bundle could not be had;
//! - `$OUT_DIR/scalar-standalone.js.gz`: the same bytes, gzip-compressed;
//! - `STOCKD_SCALAR_VERSION`: the version pinned in `assets/scalar/package.json`;
//! - `STOCKD_SCALAR_BUNDLE`: `scalar` for the real bundle, `fallback` otherwise.
//!
//! Where the bundle comes from, in order:
//! 1. `STOCKD_SCALAR_JS=/path/to/standalone.js`, a pre-fetched file;
//! 2. `npm ci` on the committed `assets/scalar/package{,-lock}.json`, run in
//!    `$OUT_DIR/scalar/` only when that lock file has not already been
//!    installed there (so rebuilds are cheap). `node_modules` is deleted
//!    afterwards; npm's own cache makes a later reinstall fast.
//!
//! npm being missing or failing is not a build error: a `cargo:warning` says
//! how to fix it, the fallback script is embedded instead, and every later
//! build tries again until it gets the bundle.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::Compression;
use flate2::write::GzEncoder;

#[path = "build/ui.rs"]
mod ui;

const PACKAGE: &str = "@scalar/api-reference";
const ENV_JS: &str = "STOCKD_SCALAR_JS";
/// The bundle's path inside the installed npm package.
const BUNDLE_IN_PACKAGE: &str = "dist/browser/standalone.js";
/// Written next to the installed lock file once a bundle was extracted from it.
const STAMP: &str = "extracted.stamp";
/// Kept from the last successful npm install, so an unchanged lock file needs no npm at all.
const CACHED_BUNDLE: &str = "standalone.js";
/// The standalone bundle defines `window.Scalar = { createApiReference }`; the page calls it.
const REQUIRED_API: &str = "createApiReference";

/// Served instead of the real bundle when it could not be fetched at build time.
/// It provides the same `Scalar.createApiReference` entry point the page calls.
const FALLBACK_JS: &str = r#"/* stockd: fallback for the Scalar API reference, which was not bundled into this build. */
(function () {
  "use strict";
  function render(target, config) {
    var root = typeof target === "string" ? document.querySelector(target) : target;
    if (!root) { root = document.body; }
    var url = (config && config.url) || "/openapi.json";
    var box = document.createElement("main");
    box.style.cssText = "font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5;";
    var h = document.createElement("h1");
    h.textContent = "stockd API";
    var p = document.createElement("p");
    p.textContent = "The interactive API reference was not bundled into this build of stockd " +
      "(Node.js/npm was unavailable when it was compiled). The OpenAPI document is still served:";
    var a = document.createElement("a");
    a.href = url;
    a.textContent = url;
    var fix = document.createElement("p");
    fix.textContent = "To get the interactive reference, rebuild with Node.js and npm installed, " +
      "or with STOCKD_SCALAR_JS set to a downloaded @scalar/api-reference dist/browser/standalone.js.";
    box.appendChild(h);
    box.appendChild(p);
    box.appendChild(a);
    box.appendChild(fix);
    root.appendChild(box);
    return { destroy: function () { box.remove(); } };
  }
  window.Scalar = { createApiReference: render };
})();
"#;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let assets = manifest_dir.join("assets").join("scalar");
    let package_json = assets.join("package.json");
    let package_lock = assets.join("package-lock.json");
    // OUT_DIR is always set by cargo for build scripts; its absence is a cargo bug.
    #[allow(clippy::expect_used)]
    let out_dir =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/ui.rs");
    ui::build(&manifest_dir, &out_dir);
    println!("cargo:rerun-if-changed={}", package_json.display());
    println!("cargo:rerun-if-changed={}", package_lock.display());
    println!("cargo:rerun-if-env-changed={ENV_JS}");

    let version = match fs::read_to_string(&package_json) {
        Ok(text) => pinned_version(&text).unwrap_or_else(|| {
            warn(&format!(
                "{} does not pin an exact version of {PACKAGE}; pin one, e.g. \"1.72.1\"",
                package_json.display()
            ));
            "unknown".to_owned()
        }),
        Err(err) => {
            warn(&format!("cannot read {}: {err}", package_json.display()));
            "unknown".to_owned()
        }
    };
    println!("cargo:rustc-env=STOCKD_SCALAR_VERSION={version}");

    let bundle = from_env_file().or_else(|| {
        from_npm(
            &package_json,
            &package_lock,
            &out_dir.join("scalar"),
            &version,
        )
    });
    let (js, kind) = match bundle {
        Some(js) => (js, "scalar"),
        None => {
            warn(&format!(
                "embedding a fallback /docs page that only links to /openapi.json. For the \
                 interactive Scalar reference, install Node.js and npm and rebuild, or set \
                 {ENV_JS}=/path/to/standalone.js (from `npm pack {PACKAGE}@{version}`, file \
                 package/{BUNDLE_IN_PACKAGE})"
            ));
            // The stamp is missing, and cargo reruns a build script whose
            // rerun-if-changed path is missing: so every build retries until
            // the bundle is had, and the warning stays until then.
            println!(
                "cargo:rerun-if-changed={}",
                out_dir.join("scalar").join(STAMP).display()
            );
            (FALLBACK_JS.as_bytes().to_vec(), "fallback")
        }
    };
    println!("cargo:rustc-env=STOCKD_SCALAR_BUNDLE={kind}");

    if let Err(err) = write_outputs(&out_dir, &js) {
        // Without these files `include_bytes!` fails with a less helpful message.
        panic!(
            "cannot write the Scalar bundle into {}: {err}",
            out_dir.display()
        );
    }
}

fn warn(message: &str) {
    // One line per warning: cargo shows each `cargo:warning=` line separately.
    println!("cargo:warning=/docs: {}", message.replace('\n', " "));
}

/// The exact version that `package.json` pins for [`PACKAGE`], if it pins one.
fn pinned_version(package_json: &str) -> Option<String> {
    let key = format!("\"{PACKAGE}\"");
    let rest = &package_json[package_json.find(&key)? + key.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let version = &rest[..rest.find('"')?];
    let exact = !version.is_empty()
        && version.split('.').count() == 3
        && version
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    exact.then(|| version.to_owned())
}

/// Checks that `js` looks like the Scalar standalone bundle this crate's page expects.
fn validate(js: Vec<u8>, origin: &str) -> Option<Vec<u8>> {
    let has_api = js
        .windows(REQUIRED_API.len())
        .any(|w| w == REQUIRED_API.as_bytes());
    if js.len() > 100_000 && has_api {
        Some(js)
    } else {
        warn(&format!(
            "{origin} does not look like the Scalar standalone bundle ({} bytes, `{REQUIRED_API}` {})",
            js.len(),
            if has_api { "present" } else { "missing" }
        ));
        None
    }
}

/// The bundle named by `STOCKD_SCALAR_JS`, if that is set and usable.
fn from_env_file() -> Option<Vec<u8>> {
    let path = PathBuf::from(env::var_os(ENV_JS).filter(|v| !v.is_empty())?);
    println!("cargo:rerun-if-changed={}", path.display());
    match fs::read(&path) {
        Ok(js) => validate(js, &format!("{ENV_JS}={}", path.display())),
        Err(err) => {
            warn(&format!(
                "cannot read {ENV_JS}={}: {err}; trying npm instead",
                path.display()
            ));
            None
        }
    }
}

/// The bundle from `npm ci` on the committed lock file, run in `work` unless
/// that same lock file was already installed there.
fn from_npm(
    package_json: &Path,
    package_lock: &Path,
    work: &Path,
    version: &str,
) -> Option<Vec<u8>> {
    let read = |path: &Path| match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            warn(&format!("cannot read {}: {err}", path.display()));
            None
        }
    };
    let json = read(package_json)?;
    let lock = read(package_lock)?;

    let cached = work.join(CACHED_BUNDLE);
    let up_to_date = work.join(STAMP).is_file()
        && fs::read(work.join("package.json")).ok().as_deref() == Some(json.as_slice())
        && fs::read(work.join("package-lock.json")).ok().as_deref() == Some(lock.as_slice());
    if up_to_date && let Ok(js) = fs::read(&cached) {
        return validate(js, &cached.display().to_string());
    }

    let prepared = fs::create_dir_all(work)
        .and_then(|()| match fs::remove_file(work.join(STAMP)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        })
        .and_then(|()| fs::write(work.join("package.json"), &json))
        .and_then(|()| fs::write(work.join("package-lock.json"), &lock));
    if let Err(err) = prepared {
        warn(&format!("cannot prepare {}: {err}", work.display()));
        return None;
    }

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let started = std::time::Instant::now();
    let output = Command::new(npm)
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--prefer-offline",
        ])
        .current_dir(work)
        .output();
    let output = match output {
        Ok(output) => output,
        Err(err) => {
            warn(&format!(
                "could not run `{npm} ci` ({err}); is Node.js/npm installed and on PATH?"
            ));
            return None;
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(3)..].join(" | ");
        warn(&format!(
            "`{npm} ci` in {} failed ({}): {tail}",
            work.display(),
            output.status
        ));
        return None;
    }

    let installed = work.join("node_modules").join(PACKAGE);
    let js = validate(read(&installed.join(BUNDLE_IN_PACKAGE))?, PACKAGE)?;
    match fs::read_to_string(installed.join("package.json")) {
        Ok(text) if text.contains(&format!("\"version\": \"{version}\"")) => {}
        _ => warn(&format!(
            "npm installed a {PACKAGE} whose version is not the pinned {version}"
        )),
    }

    // Keep only the bundle: node_modules is ~300 MB, and npm's cache makes a reinstall cheap.
    let kept = fs::write(&cached, &js).and_then(|()| fs::write(work.join(STAMP), version));
    if let Err(err) = kept {
        warn(&format!(
            "cannot keep the bundle in {}: {err}",
            work.display()
        ));
    } else if let Err(err) = fs::remove_dir_all(work.join("node_modules")) {
        warn(&format!(
            "cannot remove {}/node_modules: {err}",
            work.display()
        ));
    }
    // Not a cargo:warning, since nothing is wrong; shown by `cargo build -vv`.
    eprintln!(
        "installed {PACKAGE}@{version} with npm in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Some(js)
}

/// Writes the bundle (without its trailing source-map comment, as the map is
/// not served) and its gzip-compressed copy.
fn write_outputs(out_dir: &Path, js: &[u8]) -> std::io::Result<()> {
    let js = strip_source_map_comment(js);
    fs::write(out_dir.join("scalar-standalone.js"), js)?;
    let mut gz = GzEncoder::new(Vec::with_capacity(js.len() / 3), Compression::best());
    gz.write_all(js)?;
    fs::write(out_dir.join("scalar-standalone.js.gz"), gz.finish()?)
}

fn strip_source_map_comment(js: &[u8]) -> &[u8] {
    let trimmed = js.trim_ascii_end();
    let line_start = trimmed
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    if trimmed[line_start..].starts_with(b"//# sourceMappingURL=") {
        &js[..line_start]
    } else {
        js
    }
}
