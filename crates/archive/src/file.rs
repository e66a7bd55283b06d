//! One partition file: the Arrow schema of archived bars, and bars to and from Parquet bytes.
//!
//! | column | Arrow / Parquet type | why |
//! |---|---|---|
//! | `symbol` | utf8 | a file read on its own still says whose bars it holds |
//! | `date` | date32 | the exchange-local trading day |
//! | `open`, `high`, `low`, `close` | decimal(19, 9) | exactly `domain::Price` (an `i64` at 1e-9): every price round-trips, and pandas, DuckDB, Polars and Spark read it as a decimal |
//! | `volume` | int64 | the store's own type; signed so Java-based readers need no unsigned support |
//! | `adj_close` | decimal(19, 9), nullable | only when the source gave one |
//! | `source` | utf8 | the provider (or `import`) this bar came from |
//! | `fetched_at` | timestamp(ns, UTC) | when that provider was asked; nanoseconds keep the store's instant exactly |
//!
//! Rows are sorted by date, one per date. Files are Snappy-compressed (what pandas and DuckDB
//! write by default) and carry `stockd.archive.version = 1` in their key-value metadata.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate};
use domain::{Price, Symbol};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use store::StoredBar;

/// Digits of a price column: an `i64` has at most 19, so every `Price` fits.
const PRICE_PRECISION: u8 = 19;
/// Fractional digits: `Price`'s fixed scale of 1e-9.
const PRICE_SCALE: i8 = 9;
const FORMAT_KEY: &str = "stockd.archive.version";
const FORMAT_VERSION: &str = "1";

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01, Arrow's day 0.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

/// The schema of every partition file.
pub(crate) fn schema() -> SchemaRef {
    let price = DataType::Decimal128(PRICE_PRECISION, PRICE_SCALE);
    Arc::new(Schema::new(vec![
        Field::new("symbol", DataType::Utf8, false),
        Field::new("date", DataType::Date32, false),
        Field::new("open", price.clone(), false),
        Field::new("high", price.clone(), false),
        Field::new("low", price.clone(), false),
        Field::new("close", price.clone(), false),
        Field::new("volume", DataType::Int64, false),
        Field::new("adj_close", price, true),
        Field::new("source", DataType::Utf8, false),
        Field::new(
            "fetched_at",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// Why bars could not become, or come back from, a file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("{0}")]
    Value(String),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// The Parquet bytes of `bars` (sorted by date by the caller), all of `symbol`.
pub(crate) fn encode(symbol: Symbol, bars: &[StoredBar]) -> Result<Vec<u8>, FileError> {
    let price = |pick: fn(&StoredBar) -> Price| -> Result<ArrayRef, FileError> {
        let values = bars.iter().map(|b| i128::from(pick(b).raw()));
        Ok(Arc::new(
            Decimal128Array::from_iter_values(values)
                .with_precision_and_scale(PRICE_PRECISION, PRICE_SCALE)?,
        ))
    };
    let volumes = bars
        .iter()
        .map(|b| {
            i64::try_from(b.bar.volume).map_err(|_| {
                FileError::Value(format!(
                    "{symbol} {}: volume {} does not fit a signed 64-bit integer",
                    b.bar.date, b.bar.volume
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fetched = bars
        .iter()
        .map(|b| {
            b.fetched_at.timestamp_nanos_opt().ok_or_else(|| {
                FileError::Value(format!(
                    "{symbol} {}: fetched_at {} is outside 1677–2262",
                    b.bar.date, b.fetched_at
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let adj_close = Decimal128Array::from(
        bars.iter()
            .map(|b| b.bar.adj_close.map(|p| i128::from(p.raw())))
            .collect::<Vec<_>>(),
    )
    .with_precision_and_scale(PRICE_PRECISION, PRICE_SCALE)?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            bars.iter().map(|_| symbol.as_str()),
        )),
        Arc::new(Date32Array::from_iter_values(
            bars.iter().map(|b| days_since_epoch(b.bar.date)),
        )),
        price(|b| b.bar.open)?,
        price(|b| b.bar.high)?,
        price(|b| b.bar.low)?,
        price(|b| b.bar.close)?,
        Arc::new(Int64Array::from(volumes)),
        Arc::new(adj_close),
        Arc::new(StringArray::from_iter_values(
            bars.iter().map(|b| b.source.as_str()),
        )),
        Arc::new(TimestampNanosecondArray::from(fetched).with_timezone("UTC")),
    ];
    let batch = RecordBatch::try_new(schema(), columns)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            FORMAT_KEY.to_owned(),
            FORMAT_VERSION.to_owned(),
        )]))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(properties))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(out)
}

/// The bars of a partition file, in file order, with the symbol column checked against
/// `symbol`.
pub(crate) fn decode(symbol: Symbol, bytes: Bytes) -> Result<Vec<StoredBar>, FileError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch?;
        let symbols: &StringArray = column(&batch, "symbol")?;
        let dates: &Date32Array = column(&batch, "date")?;
        let open: &Decimal128Array = column(&batch, "open")?;
        let high: &Decimal128Array = column(&batch, "high")?;
        let low: &Decimal128Array = column(&batch, "low")?;
        let close: &Decimal128Array = column(&batch, "close")?;
        let volume: &Int64Array = column(&batch, "volume")?;
        let adj_close: &Decimal128Array = column(&batch, "adj_close")?;
        let source: &StringArray = column(&batch, "source")?;
        let fetched_at: &TimestampNanosecondArray = column(&batch, "fetched_at")?;
        for row in 0..batch.num_rows() {
            if symbols.value(row) != symbol.as_str() {
                return Err(FileError::Value(format!(
                    "row {row} holds symbol {} in {symbol}'s partition",
                    symbols.value(row)
                )));
            }
            let date = date_from_epoch_days(dates.value(row))?;
            let price = |array: &Decimal128Array| raw_price(array.value(row));
            let bar = domain::Bar {
                date,
                open: price(open)?,
                high: price(high)?,
                low: price(low)?,
                close: price(close)?,
                volume: u64::try_from(volume.value(row))
                    .map_err(|_| FileError::Value(format!("{symbol} {date}: negative volume")))?,
                adj_close: if adj_close.is_null(row) {
                    None
                } else {
                    Some(price(adj_close)?)
                },
            };
            out.push(StoredBar {
                bar,
                source: source.value(row).to_owned(),
                fetched_at: DateTime::from_timestamp_nanos(fetched_at.value(row)),
            });
        }
    }
    Ok(out)
}

/// A column by name, of the array type the schema promises (no nulls in non-nullable columns).
fn column<'b, A: Array + 'static>(batch: &'b RecordBatch, name: &str) -> Result<&'b A, FileError> {
    let expected = schema();
    let array = batch
        .column_by_name(name)
        .ok_or_else(|| FileError::Value(format!("no '{name}' column")))?;
    let field = expected.field_with_name(name)?;
    if array.data_type() != field.data_type() {
        return Err(FileError::Value(format!(
            "column '{name}' is {}, expected {}",
            array.data_type(),
            field.data_type()
        )));
    }
    if !field.is_nullable() && array.null_count() > 0 {
        return Err(FileError::Value(format!("column '{name}' has nulls")));
    }
    array
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| FileError::Value(format!("column '{name}' has an unexpected layout")))
}

fn raw_price(value: i128) -> Result<Price, FileError> {
    i64::try_from(value)
        .map(Price::from_raw)
        .map_err(|_| FileError::Value(format!("price {value}e-9 is out of range")))
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

fn date_from_epoch_days(days: i32) -> Result<NaiveDate, FileError> {
    days.checked_add(UNIX_EPOCH_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| FileError::Value(format!("date {days} (days since 1970) is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_match_arrow() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        assert_eq!(days_since_epoch(epoch), 0);
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        assert_eq!(days_since_epoch(day), 19_782);
        assert_eq!(date_from_epoch_days(19_782).ok(), Some(day));
    }
}
