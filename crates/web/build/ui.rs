//! The dashboard half of the build script: builds the React app in `ui/` with npm and Vite and
//! writes `$OUT_DIR/ui_assets.rs`, the table `src/app.rs` serves under `/app/` (each file's
//! bytes and a gzip copy, by `include_bytes!`).
//!
//! Cheap rebuilds: cargo reruns this only when a `ui/` source, `package.json`,
//! `package-lock.json` or `budget.json` changed; even then `npm ci` runs only when the lock file
//! differs from the one last installed in `ui/node_modules` (stamped there), and Vite runs only
//! when the fingerprint of the sources differs from the one of the build kept in `$OUT_DIR`.
//!
//! Where the build comes from, in order:
//! 1. `STOCKD_UI_DIST=/path/to/dist`, a directory built beforehand (`npm run build`);
//! 2. `npm ci` + `vite build` in `ui/`.
//!
//! Neither is a build error when missing: a `cargo:warning` says how to get the dashboard, and
//! `/app/` serves a page saying the same. Past the JavaScript budget in `ui/budget.json` the
//! build fails (the budget is what keeps first loads fast).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

const ENV_DIST: &str = "STOCKD_UI_DIST";
/// Files of `ui/` besides `src/` that change the build.
const INPUTS: [&str; 5] = [
    "package.json",
    "package-lock.json",
    "index.html",
    "vite.config.ts",
    "tsconfig.json",
];
/// In `ui/node_modules`: the hash of the lock file installed there.
const LOCK_STAMP: &str = ".stockd-lock.sha256";
/// In `$OUT_DIR/ui`: the fingerprint of the sources `dist/` was built from.
const BUILD_STAMP: &str = "sources.sha256";

/// Builds (or reuses) the dashboard and writes `$OUT_DIR/ui_assets.rs`.
pub fn build(manifest_dir: &Path, out_dir: &Path) {
    let ui = manifest_dir.join("ui");
    for input in INPUTS.iter().chain(&["budget.json", "src"]) {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    println!("cargo:rerun-if-env-changed={ENV_DIST}");

    let dist = from_env_dir().or_else(|| from_npm(&ui, &out_dir.join("ui")));
    let files = match dist.as_deref().map(collect) {
        Some(Ok(files)) if files.iter().any(|(rel, _)| rel == "index.html") => files,
        Some(Ok(_)) => {
            warn("the dashboard build has no index.html; serving the fallback page");
            Vec::new()
        }
        Some(Err(err)) => {
            warn(&format!("cannot read the dashboard build: {err}"));
            Vec::new()
        }
        None => Vec::new(),
    };
    if files.is_empty() {
        warn(
            "embedding a fallback /app/ page. For the dashboard, install Node.js (18 or \
             newer) and npm and rebuild, or set STOCKD_UI_DIST to a directory built with \
             `npm ci && npm run build` in crates/web/ui",
        );
        // Rerun next build (the stamp is missing): the warning stays until the build works.
        println!(
            "cargo:rerun-if-changed={}",
            out_dir.join("ui").join(BUILD_STAMP).display()
        );
    } else {
        check_budget(&ui, &files);
    }
    if let Err(err) = write_table(out_dir, &files) {
        panic!(
            "cannot write the dashboard assets into {}: {err}",
            out_dir.display()
        );
    }
}

fn warn(message: &str) {
    println!("cargo:warning=/app: {}", message.replace('\n', " "));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The directory named by `STOCKD_UI_DIST`, if set.
fn from_env_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(ENV_DIST).filter(|v| !v.is_empty())?);
    println!("cargo:rerun-if-changed={}", dir.display());
    if dir.join("index.html").is_file() {
        Some(dir)
    } else {
        warn(&format!(
            "{ENV_DIST}={} has no index.html; trying npm instead",
            dir.display()
        ));
        None
    }
}

/// SHA-256 over the build's inputs (names and contents), `src/` walked in a sorted order.
fn fingerprint(ui: &Path) -> std::io::Result<String> {
    let mut files: Vec<PathBuf> = INPUTS.iter().map(|f| ui.join(f)).collect();
    let mut stack = vec![ui.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(
            file.strip_prefix(ui)
                .unwrap_or(&file)
                .to_string_lossy()
                .as_bytes(),
        );
        hash.update([0]);
        let bytes = fs::read(&file)?;
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    Ok(hex(&hash.finalize()))
}

/// The Vite build of `ui/` into `work/dist`, reused when its sources are unchanged.
fn from_npm(ui: &Path, work: &Path) -> Option<PathBuf> {
    let sources = match fingerprint(ui) {
        Ok(hash) => hash,
        Err(err) => {
            warn(&format!(
                "cannot read the dashboard sources in {}: {err}",
                ui.display()
            ));
            return None;
        }
    };
    let dist = work.join("dist");
    let stamp = work.join(BUILD_STAMP);
    if fs::read_to_string(&stamp).ok().as_deref() == Some(sources.as_str())
        && dist.join("index.html").is_file()
    {
        return Some(dist);
    }
    let _ = fs::remove_file(&stamp);
    if let Err(err) = fs::create_dir_all(work) {
        warn(&format!("cannot create {}: {err}", work.display()));
        return None;
    }

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let started = std::time::Instant::now();
    let lock_hash = fs::read(ui.join("package-lock.json"))
        .map(|lock| hex(&Sha256::digest(&lock)))
        .ok()?;
    let lock_stamp = ui.join("node_modules").join(LOCK_STAMP);
    if fs::read_to_string(&lock_stamp).ok().as_deref() != Some(lock_hash.as_str()) {
        run(
            Command::new(npm)
                .args([
                    "ci",
                    "--no-audit",
                    "--no-fund",
                    "--ignore-scripts",
                    "--prefer-offline",
                ])
                .current_dir(ui),
            &format!("`{npm} ci` in {}", ui.display()),
        )?;
        if let Err(err) = fs::write(&lock_stamp, &lock_hash) {
            warn(&format!("cannot write {}: {err}", lock_stamp.display()));
        }
    }
    run(
        Command::new("node")
            .arg(ui.join("node_modules/vite/bin/vite.js"))
            .args(["build", "--logLevel", "warn"])
            .env("STOCKD_UI_OUT_DIR", &dist)
            .current_dir(ui),
        "`vite build` of the dashboard",
    )?;
    if let Err(err) = fs::write(&stamp, &sources) {
        warn(&format!("cannot write {}: {err}", stamp.display()));
    }
    // Not a cargo:warning, since nothing is wrong; shown by `cargo build -vv`.
    eprintln!(
        "built the dashboard in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Some(dist)
}

/// Runs `command`, warning with the tail of its stderr when it cannot start or fails.
fn run(command: &mut Command, what: &str) -> Option<()> {
    match command.output() {
        Ok(output) if output.status.success() => Some(()),
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
            warn(&format!("{what} failed ({}): {tail}", output.status));
            None
        }
        Err(err) => {
            warn(&format!(
                "could not run {what} ({err}); is Node.js/npm installed and on PATH?"
            ));
            None
        }
    }
}

/// Every file under `dist`, as (path relative to `dist` with `/` separators, absolute path).
fn collect(dist: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    let mut stack = vec![dist.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dist) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((rel, path));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A number from `budget.json` (a flat object of integers; no JSON crate for one lookup).
fn budget_value(text: &str, key: &str) -> Option<u64> {
    let quoted = format!("\"{key}\"");
    let rest = text[text.find(&quoted)? + quoted.len()..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
    gz.write_all(bytes)?;
    gz.finish()
}

/// Fails the build when the JavaScript is past `ui/budget.json`.
fn check_budget(ui: &Path, files: &[(String, PathBuf)]) {
    let budget = fs::read_to_string(ui.join("budget.json")).unwrap_or_default();
    let (Some(max_raw), Some(max_gzip)) = (
        budget_value(&budget, "js_raw_bytes"),
        budget_value(&budget, "js_gzip_bytes"),
    ) else {
        panic!(
            "{} must set js_raw_bytes and js_gzip_bytes (the dashboard's JavaScript budget)",
            ui.join("budget.json").display()
        );
    };
    let (mut raw, mut zipped) = (0u64, 0u64);
    for (rel, path) in files.iter().filter(|(rel, _)| rel.ends_with(".js")) {
        let bytes = fs::read(path).unwrap_or_else(|err| panic!("cannot read {rel}: {err}"));
        raw += bytes.len() as u64;
        zipped += gzip(&bytes).map_or(0, |gz| gz.len() as u64);
    }
    assert!(
        raw <= max_raw && zipped <= max_gzip,
        "the dashboard's JavaScript is {raw} bytes ({zipped} gzipped), past its budget of \
         {max_raw} ({max_gzip} gzipped) in {}: make it smaller, or raise the budget on purpose",
        ui.join("budget.json").display()
    );
    eprintln!("dashboard JavaScript: {raw} bytes, {zipped} gzipped");
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Writes `ui_assets.rs`: `UI_BUNDLE` (`dashboard` or `fallback`) and `UI_ASSETS`, one entry per
/// file with its gzip copy when that is smaller.
fn write_table(out_dir: &Path, files: &[(String, PathBuf)]) -> std::io::Result<()> {
    let gz_dir = out_dir.join("ui").join("gz");
    fs::create_dir_all(&gz_dir)?;
    let mut table = String::new();
    let kind = if files.is_empty() {
        "fallback"
    } else {
        "dashboard"
    };
    let _ = writeln!(
        table,
        "/// `dashboard` when the app was built into this binary, `fallback` otherwise."
    );
    let _ = writeln!(table, "pub const UI_BUNDLE: &str = {kind:?};");
    let _ = writeln!(table, "/// The built dashboard's files.");
    let _ = writeln!(table, "pub static UI_ASSETS: &[Asset] = &[");
    for (index, (rel, path)) in files.iter().enumerate() {
        let bytes = fs::read(path)?;
        let mime = content_type(rel);
        let compressible =
            mime.starts_with("text/") || mime.contains("json") || mime.contains("svg");
        let gz = if compressible {
            Some(gzip(&bytes)?)
        } else {
            None
        };
        let gz = match gz {
            Some(gz) if gz.len() < bytes.len() => {
                let gz_path = gz_dir.join(format!("{index}.gz"));
                fs::write(&gz_path, gz)?;
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            }
            _ => "None".to_owned(),
        };
        let _ = writeln!(
            table,
            "    Asset {{ path: {rel:?}, content_type: {mime:?}, body: include_bytes!({:?}), gzip: {gz} }},",
            path.display().to_string()
        );
    }
    let _ = writeln!(table, "];");
    fs::write(out_dir.join("ui_assets.rs"), table)
}
