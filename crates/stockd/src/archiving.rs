//! `stockd archive`: write stored bars as Parquet partitions (`symbol=…/year=…/bars.parquet`)
//! to `archive_url` with the `archive` crate, and print what was written.
//!
//! What is stored comes from the use cases (`Service::stored_symbols`, `Service::stored_years`);
//! this module writes it with the `archive` crate, which the service layer does not depend on
//! (Parquet and the object-store clients stay out of every other interface's build).
//!
//! Symbols default to every symbol with stored bars (`Service::stored_symbols`): fetched or
//! imported, tracked or not, since the archive is the record of what the store holds (imported
//! history no provider serves is often the part most worth keeping). `--symbols` narrows it.
//! `--from` / `--to` choose *years*: every partition written holds its whole year as stored,
//! since a partition is replaced whole and a half-year file would drop the other half.

use crate::cli::ArchiveArgs;
use crate::config::{ArchiveSection, Config};

/// Opens `config`'s archive: `archive_url`, with the object-store variables captured from the
/// environment at load as options (what `stockd archive` and ingestion's archiver use). The
/// error names the setting and carries the URL only redacted.
#[cfg(feature = "archive")]
pub fn open(config: &ArchiveSection) -> Result<archive::Archive, String> {
    use secrecy::ExposeSecret;

    let options = config
        .object_store_env
        .iter()
        .map(|(name, value)| (name.clone(), value.expose_secret().to_owned()));
    archive::Archive::open_with_options(config.url(), options)
        .map_err(|err| format!("archive_url: {err}"))
}

/// Runs `stockd archive`; returns the report to print.
#[cfg(feature = "archive")]
pub async fn run(config: &Config, args: &ArchiveArgs) -> Result<String, String> {
    use std::fmt::Write as _;
    use std::time::Instant;

    use chrono::Datelike;

    let started = Instant::now();
    let archive = open(&config.archive)?;
    let service = crate::app::store_service(&config.store)
        .await
        .map_err(|err| err.to_string())?;
    let symbols = if args.symbols.is_empty() {
        service
            .stored_symbols()
            .await
            .map_err(|err| err.to_string())?
    } else {
        args.symbols.clone()
    };
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(format!("--from {from} is after --to {to}"));
    }
    let years = args.from.map_or(i32::MIN, |d| d.year())..=args.to.map_or(i32::MAX, |d| d.year());

    let mut out = String::new();
    if symbols.is_empty() {
        let _ = writeln!(
            out,
            "no stored bars to archive (load some with `stockd import` or `stockd ingest`)"
        );
    }
    let (mut partitions, mut rows, mut bytes) = (0_usize, 0_u64, 0_u64);
    for symbol in symbols {
        let bars = service
            .stored_years(symbol, years.clone())
            .await
            .map_err(|err| err.to_string())?;
        let summary = archive
            .archive_bars(symbol, &bars)
            .await
            .map_err(|err| err.to_string())?;
        match (summary.partitions.first(), summary.partitions.last()) {
            (Some(first), Some(last)) => {
                let _ = writeln!(
                    out,
                    "{symbol:<16} {} partition(s) {}–{}, {} rows",
                    summary.partitions.len(),
                    first.year,
                    last.year,
                    summary.rows()
                );
            }
            _ => {
                let _ = writeln!(out, "{symbol:<16} no stored bars in range");
            }
        }
        partitions += summary.partitions.len();
        rows += summary.rows();
        bytes += summary.bytes();
    }
    let _ = writeln!(
        out,
        "archived {partitions} partition(s), {rows} rows, {bytes} bytes to {} in {:.2}s",
        archive.url(),
        started.elapsed().as_secs_f64()
    );
    Ok(out)
}

/// Without the `archive` feature the command exists only to say so.
#[cfg(not(feature = "archive"))]
pub async fn run(_config: &Config, _args: &ArchiveArgs) -> Result<String, String> {
    Err("this stockd was built without the `archive` feature \
         (rebuild with default features, or `--features archive`)"
        .into())
}
