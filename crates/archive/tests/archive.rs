//! The archive against a real SQLite store and a folder: what is written is what the store
//! holds, field by field, read back with the Parquet reader; re-archiving rewrites in place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use archive::{Archive, ArchiveError};
use arrow_array::{Array, Decimal128Array, StringArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{Bar, Price, Series, Symbol};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use store::{Bars, SqliteStore, Store, StoredBar};

fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn bar(date: &str, close: &str, adj_close: Option<&str>) -> Bar {
    let close: Price = close.parse().unwrap();
    Bar::new_checked(
        day(date),
        close,
        Price::from_raw(close.raw() + 1_000_000_000),
        Price::from_raw(close.raw() - 1_000_000_000),
        close,
        1_234_567,
        adj_close.map(|text| text.parse().unwrap()),
    )
    .unwrap()
}

/// An instant with nanoseconds, so a lossy timestamp would show.
fn at(seconds: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, nanos).unwrap()
}

/// MSFT over the turn of 2023/2024 from two providers: `sample` first, then `alphavantage`
/// correcting one bar and adding the next day.
async fn seeded_store() -> SqliteStore {
    let store = SqliteStore::in_memory().await.unwrap();
    let msft = symbol("MSFT");
    let first = Series::new(
        msft,
        vec![
            bar("2023-12-28", "375.28", Some("372.1234")),
            bar("2023-12-29", "376.04", None),
            bar("2024-01-02", "370.87", Some("368.000000001")),
            bar("2024-01-03", "370.6", None),
        ],
        "sample",
        at(1_704_300_000, 123_456_789),
    );
    store.upsert_series(&first).await.unwrap();
    let second = Series::new(
        msft,
        vec![
            bar("2024-01-03", "370.61", None),
            bar("2024-01-04", "367.94", None),
        ],
        "alphavantage",
        at(1_704_400_000, 987_654_321),
    );
    store.upsert_series(&second).await.unwrap();
    store
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

async fn stored_year(store: &dyn Store, symbol: Symbol, year: i32) -> Vec<StoredBar> {
    store
        .stored_bars(
            symbol,
            NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn archived_partitions_hold_exactly_what_the_store_holds() {
    let store = seeded_store().await;
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().to_str().unwrap()).unwrap();
    let msft = symbol("MSFT");

    let summary = archive
        .archive_symbol(&store, msft, i32::MIN..=i32::MAX)
        .await
        .unwrap();
    assert_eq!(summary.partitions.len(), 2);
    assert_eq!(summary.rows(), 5);
    assert_eq!(
        files_under(dir.path()),
        [
            PathBuf::from("symbol=MSFT/year=2023/bars.parquet"),
            PathBuf::from("symbol=MSFT/year=2024/bars.parquet"),
        ]
    );
    let on_disk: u64 = files_under(dir.path())
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
        .sum();
    assert_eq!(summary.bytes(), on_disk);

    for year in [2023, 2024] {
        let expected = stored_year(&store, msft, year).await;
        let archived = archive.read_year(msft, year).await.unwrap().unwrap();
        // Every field: prices to 1e-9, volume, adj_close present or not, per-bar source and
        // fetched_at to the nanosecond.
        assert_eq!(archived, expected, "year {year}");
    }
    // Provenance is per bar, not the series' last fetch.
    let year_2024 = archive.read_year(msft, 2024).await.unwrap().unwrap();
    let sources: Vec<&str> = year_2024.iter().map(|b| b.source.as_str()).collect();
    assert_eq!(sources, ["sample", "alphavantage", "alphavantage"]);
    assert_eq!(archive.read_year(msft, 2022).await.unwrap(), None);
}

#[tokio::test]
async fn files_are_plain_parquet_with_exact_decimal_prices() {
    let store = seeded_store().await;
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(&format!("file://{}", dir.path().display())).unwrap();
    archive
        .archive_symbol(&store, symbol("MSFT"), 2023..=2023)
        .await
        .unwrap();

    let file = std::fs::File::open(dir.path().join("symbol=MSFT/year=2023/bars.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = reader.schema().clone();
    let batches: Vec<_> = reader.build().unwrap().map(Result::unwrap).collect();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "symbol",
            "date",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "adj_close",
            "source",
            "fetched_at"
        ]
    );
    assert_eq!(
        schema.field_with_name("close").unwrap().data_type(),
        &DataType::Decimal128(19, 9)
    );
    assert_eq!(
        schema.field_with_name("fetched_at").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    let batch = &batches[0];
    let adj = batch
        .column_by_name("adj_close")
        .unwrap()
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap();
    assert_eq!(adj.value_as_string(0), "372.123400000");
    assert!(adj.is_null(1));
    let symbols = batch
        .column_by_name("symbol")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(symbols.value(0), "MSFT");
}

#[tokio::test]
async fn re_archiving_rewrites_the_partition_with_the_updated_bar() {
    let store = seeded_store().await;
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().to_str().unwrap()).unwrap();
    let msft = symbol("MSFT");
    archive
        .archive_symbol(&store, msft, 2024..=2024)
        .await
        .unwrap();
    let files_before = files_under(dir.path());

    // A correction of 2024-01-04 arrives; the day is archived again.
    let corrected = Series::new(
        msft,
        vec![bar("2024-01-04", "368.5", Some("368.4"))],
        "yahoo",
        at(1_704_500_000, 1),
    );
    store.upsert_series(&corrected).await.unwrap();
    let summary = archive
        .archive_days(&store, &[msft], &[day("2024-01-04")])
        .await
        .unwrap();
    assert_eq!(summary.partitions.len(), 1);
    assert_eq!(
        summary.partitions[0].path,
        "symbol=MSFT/year=2024/bars.parquet"
    );

    assert_eq!(
        files_under(dir.path()),
        files_before,
        "same files, no new ones"
    );
    let archived = archive.read_year(msft, 2024).await.unwrap().unwrap();
    assert_eq!(archived, stored_year(&store, msft, 2024).await);
    assert_eq!(archived.len(), 3, "no duplicate rows");
    let last = archived.last().unwrap();
    assert_eq!(last.bar.close.to_string(), "368.5");
    assert_eq!(last.source, "yahoo");

    // Archiving the same state again writes identical bytes.
    let before = std::fs::read(dir.path().join("symbol=MSFT/year=2024/bars.parquet")).unwrap();
    archive
        .archive_symbol(&store, msft, 2024..=2024)
        .await
        .unwrap();
    let after = std::fs::read(dir.path().join("symbol=MSFT/year=2024/bars.parquet")).unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn symbols_with_special_characters_get_escaped_partition_values() {
    let store = SqliteStore::in_memory().await.unwrap();
    let index = symbol("^GSPC");
    let series = Series::new(
        index,
        vec![bar("2024-05-01", "5018.39", None)],
        "yahoo",
        at(1, 0),
    );
    store.upsert_series(&series).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().to_str().unwrap()).unwrap();
    archive
        .archive_symbol(&store, index, 2024..=2024)
        .await
        .unwrap();
    assert_eq!(
        files_under(dir.path()),
        [PathBuf::from("symbol=%5EGSPC/year=2024/bars.parquet")]
    );
    let archived = archive.read_year(index, 2024).await.unwrap().unwrap();
    assert_eq!(archived, stored_year(&store, index, 2024).await);
}

#[tokio::test]
async fn a_year_without_bars_writes_nothing_and_a_bar_of_another_year_is_refused() {
    let store = seeded_store().await;
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open(dir.path().to_str().unwrap()).unwrap();
    let summary = archive
        .archive_symbol(&store, symbol("MSFT"), 2010..=2012)
        .await
        .unwrap();
    assert!(summary.partitions.is_empty());
    assert!(files_under(dir.path()).is_empty());

    let bars = stored_year(&store, symbol("MSFT"), 2023).await;
    let err = archive
        .write_year(symbol("MSFT"), 2024, &bars)
        .await
        .unwrap_err();
    assert!(matches!(err, ArchiveError::Bars { .. }), "{err}");
    assert!(err.to_string().contains("2023-12-28"), "{err}");
}

#[test]
fn unknown_schemes_are_refused_with_what_is_supported() {
    let err = Archive::open("ftp://host/archive").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unknown scheme 'ftp'"), "{text}");
    assert!(text.contains("s3://"), "{text}");
}

#[cfg(not(feature = "aws"))]
#[test]
fn a_cloud_scheme_that_is_not_compiled_in_names_its_feature_and_hides_secrets() {
    let err = Archive::open("s3://AKIAEXAMPLE:TOPSECRET@bucket/stockd").unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ArchiveError::NotCompiled { feature: "aws", .. }),
        "{text}"
    );
    assert!(text.contains("archive-aws"), "{text}");
    assert!(!text.contains("TOPSECRET"), "{text}");
}

#[cfg(not(feature = "gcp"))]
#[test]
fn gcs_without_its_feature_is_refused() {
    let err = Archive::open("gs://bucket/stockd").unwrap_err();
    assert!(
        matches!(err, ArchiveError::NotCompiled { feature: "gcp", .. }),
        "{err}"
    );
}

#[cfg(not(feature = "azure"))]
#[test]
fn azure_without_its_feature_is_refused() {
    let err = Archive::open("az://container/stockd").unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::NotCompiled {
                feature: "azure",
                ..
            }
        ),
        "{err}"
    );
}

#[cfg(feature = "aws")]
#[test]
fn s3_opens_when_compiled_in() {
    let archive = Archive::open_with_options(
        "s3://bucket/stockd",
        [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ],
    )
    .unwrap();
    assert_eq!(archive.url(), "s3://bucket/stockd");
}
