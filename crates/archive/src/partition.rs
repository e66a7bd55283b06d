//! Partition paths: `symbol=<SYMBOL>/year=<YYYY>/bars.parquet`, Hive-style so DuckDB, pandas
//! (pyarrow), Polars and Spark read `symbol` and `year` from the path.

use std::fmt::Write as _;

use domain::Symbol;
use object_store::path::Path;

/// The one file of every partition; a re-archive replaces it whole.
pub const FILE_NAME: &str = "bars.parquet";

/// `prefix/symbol=…/year=…/bars.parquet`.
pub(crate) fn file_path(prefix: &Path, symbol: Symbol, year: i32) -> Path {
    // Each segment is already valid (see `encode_value`), so the raw text is joined as is:
    // object_store's own part encoding would re-encode the `%` of an escaped character.
    let raw = format!(
        "symbol={}/year={year}/{FILE_NAME}",
        encode_value(symbol.as_str())
    );
    let relative = Path::parse(&raw).unwrap_or_else(|_| Path::from(raw.as_str()));
    prefix.parts().chain(relative.parts()).collect()
}

/// A Hive partition value: letters, digits, `.`, `-` and `_` as they are, every other byte as
/// `%XX` (what Spark writes and pyarrow and DuckDB decode). A symbol may hold `^` (`^GSPC`) or
/// `=` (`EURUSD=X`), which would otherwise be mangled by object stores or split as `key=value`.
fn encode_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(text: &str) -> Symbol {
        Symbol::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    #[test]
    fn paths_are_hive_partitions_with_escaped_values() {
        let root = Path::default();
        assert_eq!(
            file_path(&root, symbol("MSFT"), 2024).as_ref(),
            "symbol=MSFT/year=2024/bars.parquet"
        );
        assert_eq!(
            file_path(&root, symbol("^GSPC"), 1999).as_ref(),
            "symbol=%5EGSPC/year=1999/bars.parquet"
        );
        assert_eq!(
            file_path(&Path::from("stockd/archive"), symbol("EURUSD=X"), 2024).as_ref(),
            "stockd/archive/symbol=EURUSD%3DX/year=2024/bars.parquet"
        );
    }
}
