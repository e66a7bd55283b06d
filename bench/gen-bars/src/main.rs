//! `gen-bars`: the input of stockd's import benchmark (bench/import.sh).
//!
//! Writes `symbol,date,open,high,low,close,volume,adj_close` rows, the format `stockd import`
//! reads, for `SYMBOLS` synthetic symbols over every NYSE trading day (holidays excluded, via
//! `domain::TradingCalendar`) from `FROM` to `TO`. Prices are a seeded random walk in cents per
//! symbol, with high ≥ max(open, close), low ≤ min(open, close) and every price positive, so
//! every row passes import validation. The same arguments always give the same bytes: the
//! generator is a local SplitMix64, not a crate whose stream could change between versions.
//!
//!   gen-bars [--symbols 500] [--from 2016-01-01] [--to 2025-12-31] [--seed 42] [--out FILE]
//!
//! Without `--out` the CSV goes to stdout; a summary line (rows, symbols, days) goes to stderr.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use chrono::NaiveDate;
use domain::TradingCalendar;

/// SplitMix64: tiny, fast, and its output is fixed forever by its constants.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant for test data).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Args {
    symbols: usize,
    from: NaiveDate,
    to: NaiveDate,
    seed: u64,
    out: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        symbols: 500,
        from: NaiveDate::from_ymd_opt(2016, 1, 1).ok_or("bad default date")?,
        to: NaiveDate::from_ymd_opt(2025, 12, 31).ok_or("bad default date")?,
        seed: 42,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag}: '{value}' is not {what}");
        match flag.as_str() {
            "--symbols" => args.symbols = value.parse().map_err(|_| bad("a count"))?,
            "--from" => args.from = value.parse().map_err(|_| bad("a YYYY-MM-DD date"))?,
            "--to" => args.to = value.parse().map_err(|_| bad("a YYYY-MM-DD date"))?,
            "--seed" => args.seed = value.parse().map_err(|_| bad("a number"))?,
            "--out" => args.out = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.symbols == 0 || args.symbols > 26usize.pow(4) {
        return Err("--symbols must be between 1 and 456976".into());
    }
    Ok(args)
}

/// The `index`th four-letter symbol: AAAA, AAAB, …
fn symbol_name(index: usize) -> [u8; 4] {
    let mut name = [b'A'; 4];
    let mut rest = index;
    for slot in name.iter_mut().rev() {
        // `rest % 26` is below 26, so the cast cannot truncate.
        *slot = b'A' + (rest % 26) as u8;
        rest /= 26;
    }
    name
}

/// Writes `cents` as a decimal with two places (`12345` → `123.45`).
fn write_price(out: &mut impl Write, cents: u64) -> io::Result<()> {
    write!(out, "{}.{:02}", cents / 100, cents % 100)
}

fn generate(args: &Args, out: &mut impl Write) -> io::Result<usize> {
    let days: Vec<String> = TradingCalendar::NYSE
        .trading_days(args.from, args.to)
        .map(|day| day.format("%Y-%m-%d").to_string())
        .collect();
    writeln!(out, "symbol,date,open,high,low,close,volume,adj_close")?;
    let mut rows = 0;
    for index in 0..args.symbols {
        let name = symbol_name(index);
        let name = std::str::from_utf8(&name).unwrap_or("AAAA");
        let mut rng = SplitMix64(args.seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        // Start between $5 and $500; each day moves by at most ±3 %, floored at $1.
        let mut close = 500 + rng.below(49_500);
        for day in &days {
            let open = close;
            let step = close * rng.below(601) / 10_000; // up to 6 % of the price
            close = (close + step).saturating_sub(close * 3 / 100).max(100);
            let high = open.max(close) + open.max(close) * rng.below(200) / 10_000;
            let low = (open.min(close) - open.min(close) * rng.below(200) / 10_000).max(1);
            let volume = 10_000 + rng.below(50_000_000);
            write!(out, "{name},{day},")?;
            write_price(out, open)?;
            out.write_all(b",")?;
            write_price(out, high)?;
            out.write_all(b",")?;
            write_price(out, low)?;
            out.write_all(b",")?;
            write_price(out, close)?;
            write!(out, ",{volume},")?;
            write_price(out, close)?;
            out.write_all(b"\n")?;
            rows += 1;
        }
    }
    eprintln!(
        "gen-bars: {rows} rows, {} symbols x {} trading days ({} to {}), seed {}",
        args.symbols,
        days.len(),
        args.from,
        args.to,
        args.seed
    );
    Ok(rows)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("gen-bars: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match &args.out {
        Some(path) => File::create(path).and_then(|file| {
            let mut out = BufWriter::with_capacity(1 << 20, file);
            generate(&args, &mut out)?;
            out.flush()
        }),
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
            generate(&args, &mut out).and_then(|_| out.flush())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen-bars: {err}");
            ExitCode::FAILURE
        }
    }
}
