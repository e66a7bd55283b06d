//! Every indicator, batch and incremental, against values TA-Lib itself computed (numpy for
//! volatility) on real MSFT and AAPL bars and on edge series. The fixtures and the script that
//! wrote them are in `tests/golden/`.
#![allow(
    clippy::unwrap_used,
    reason = "a fixture that does not load is a failed test"
)]

use std::path::Path;

use indicators::{Candle, Indicator};
use serde_json::Value;

const SERIES: [&str; 9] = [
    "msft", "aapl", "flat", "one_bar", "short", "gap", "rising", "tiny", "huge",
];

/// Relative tolerance for every value, with no absolute floor: the batch code repeats TA-Lib
/// 0.8's operations in its order (fused multiply-adds included), so TA-Lib's values come out
/// identical, and volatility differs from numpy only by summation order (~1e-14); values that
/// are 0 (flat series) are exactly 0 on both sides.
const RELATIVE: f64 = 1e-9;

struct Fixture {
    candles: Vec<Candle>,
    expected: Vec<(String, Vec<Vec<Option<f64>>>)>,
}

fn load(name: &str) -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let document: Value = serde_json::from_str(&text).unwrap();
    let number = |v: &Value| v.as_f64().unwrap();
    let candles = document["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bar| {
            let bar: Vec<f64> = bar.as_array().unwrap().iter().map(number).collect();
            Candle {
                open: bar[0],
                high: bar[1],
                low: bar[2],
                close: bar[3],
                volume: bar[4],
            }
        })
        .collect();
    let expected = document["expected"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(spec, outputs)| {
            let outputs = outputs
                .as_array()
                .unwrap()
                .iter()
                .map(|output| {
                    output
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(Value::as_f64)
                        .collect()
                })
                .collect();
            (spec.clone(), outputs)
        })
        .collect();
    Fixture { candles, expected }
}

fn compare(
    series: &str,
    spec: &str,
    how: &str,
    actual: &[Vec<Option<f64>>],
    expected: &[Vec<Option<f64>>],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (output, (actual, expected)) in actual.iter().zip(expected).enumerate() {
        for (bar, (a, e)) in actual.iter().zip(expected).enumerate() {
            let agree = match (a, e) {
                (Some(a), Some(e)) => (a - e).abs() <= RELATIVE * e.abs(),
                (None, None) => true,
                _ => false,
            };
            if !agree {
                failures.push(format!(
                    "{series} {spec} {how} output {output} bar {bar}: got {a:?}, TA-Lib {e:?}"
                ));
            }
        }
    }
    failures
}

#[test]
fn batch_and_incremental_values_match_ta_lib_on_every_series() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for series in SERIES {
        let fixture = load(series);
        for (spec, expected) in &fixture.expected {
            let indicator: Indicator = spec.parse().unwrap();
            assert_eq!(expected.len(), indicator.outputs().len(), "{spec}");
            let batch = indicator.batch(&fixture.candles);
            failures.extend(compare(series, spec, "batch", &batch, expected));
            let mut state = indicator.state();
            let mut incremental = vec![Vec::new(); expected.len()];
            for candle in &fixture.candles {
                let values = state.update(candle);
                for (i, output) in incremental.iter_mut().enumerate() {
                    output.push(values.get(i));
                }
            }
            failures.extend(compare(series, spec, "incremental", &incremental, expected));
            compared += expected
                .iter()
                .map(|output| output.iter().flatten().count())
                .sum::<usize>();
        }
    }
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} disagreements, first: {shown:#?}",
        failures.len()
    );
    assert!(compared > 100_000, "only {compared} values compared");
}

#[test]
fn warmups_are_ta_lib_lookbacks() {
    let fixture = load("msft");
    for (spec, expected) in &fixture.expected {
        let indicator: Indicator = spec.parse().unwrap();
        let first = expected[0].iter().position(Option::is_some);
        assert_eq!(first, Some(indicator.warmup()), "{spec}");
    }
}
