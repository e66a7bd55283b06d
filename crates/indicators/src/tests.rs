//! Hand-checked small examples of every indicator, and the spec grammar.

use super::*;

fn closes(values: &[f64]) -> Vec<Candle> {
    values.iter().map(|&c| Candle::from_close(c)).collect()
}

fn spec(text: &str) -> Indicator {
    text.parse().unwrap()
}

fn approx(actual: &[Option<f64>], expected: &[Option<f64>]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        match (a, e) {
            (Some(a), Some(e)) => assert!(
                (a - e).abs() <= 1e-9 * e.abs().max(1.0),
                "{actual:?} vs {expected:?}"
            ),
            (None, None) => {}
            _ => panic!("{actual:?} vs {expected:?}"),
        }
    }
}

/// Runs the incremental form over the candles and collects output `i`.
fn incremental(indicator: Indicator, candles: &[Candle], i: usize) -> Vec<Option<f64>> {
    let mut state = indicator.state();
    candles.iter().map(|c| state.update(c).get(i)).collect()
}

fn check(text: &str, candles: &[Candle], expected: &[&[Option<f64>]]) {
    let indicator = spec(text);
    let batch = indicator.batch(candles);
    assert_eq!(batch.len(), indicator.outputs().len());
    for (i, expected) in expected.iter().enumerate() {
        approx(&batch[i], expected);
        approx(&incremental(indicator, candles, i), expected);
    }
}

#[test]
fn sma_averages_the_last_period_closes_after_its_warmup() {
    check(
        "sma:3",
        &closes(&[1.0, 2.0, 3.0, 4.0, 5.0]),
        &[&[None, None, Some(2.0), Some(3.0), Some(4.0)]],
    );
}

#[test]
fn ema_is_seeded_with_the_sma_of_its_first_period_closes() {
    // k = 2/4 = 0.5; seed (1+2+3)/3 = 2; then 2 + (10-2)*0.5 = 6; 6 + (0-6)*0.5 = 3.
    check(
        "ema:3",
        &closes(&[1.0, 2.0, 3.0, 10.0, 0.0]),
        &[&[None, None, Some(2.0), Some(6.0), Some(3.0)]],
    );
}

#[test]
fn wma_weighs_the_newest_close_most() {
    // (1*1 + 2*2 + 3*3)/6 = 14/6; (2 + 6 + 12)/6 = 20/6.
    check(
        "wma:3",
        &closes(&[1.0, 2.0, 3.0, 4.0]),
        &[&[None, None, Some(14.0 / 6.0), Some(20.0 / 6.0)]],
    );
}

#[test]
fn rsi_uses_wilders_smoothing_seeded_with_plain_averages() {
    // Changes +1, -1 → gain 0.5, loss 0.5 → 50. Then +2: gain (0.5+2)/2 = 1.25, loss 0.25 → 83.33.
    let expected = [None, None, Some(50.0), Some(100.0 * 1.25 / 1.5)];
    check("rsi:2", &closes(&[1.0, 2.0, 1.0, 3.0]), &[&expected]);
}

#[test]
fn rsi_of_a_flat_series_is_zero_as_in_ta_lib() {
    check(
        "rsi:2",
        &closes(&[5.0; 4]),
        &[&[None, None, Some(0.0), Some(0.0)]],
    );
}

#[test]
fn macd_starts_all_three_lines_when_the_signal_does() {
    let candles = closes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let indicator = spec("macd:2:3:2");
    assert_eq!(indicator.warmup(), 3);
    // Slow EMA(3), k=0.5: seed at bar 2 = 2; 3; 4; 5. Fast EMA(2), k=2/3, seeded at bar 2 from
    // bars 1..=2 = 2.5; then 2.5+(4-2.5)*2/3 = 3.5; 4.5; 5.5. Line: 0.5 each bar.
    // Signal EMA(2) of the line: seed (0.5+0.5)/2 = 0.5 at bar 3.
    let nones = [None, None, None];
    let line: Vec<Option<f64>> = nones.iter().copied().chain([Some(0.5); 3]).collect();
    let zeros: Vec<Option<f64>> = nones.iter().copied().chain([Some(0.0); 3]).collect();
    check("macd:2:3:2", &candles, &[&line, &line, &zeros]);
}

#[test]
fn bollinger_bands_use_the_population_deviation() {
    // Window 1,2,3: mean 2, population variance 2/3.
    let deviation = (2.0f64 / 3.0).sqrt();
    check(
        "bbands:3:2",
        &closes(&[1.0, 2.0, 3.0]),
        &[
            &[None, None, Some(2.0 + 2.0 * deviation)],
            &[None, None, Some(2.0)],
            &[None, None, Some(2.0 - 2.0 * deviation)],
        ],
    );
}

fn candle(high: f64, low: f64, close: f64, volume: f64) -> Candle {
    Candle {
        open: close,
        high,
        low,
        close,
        volume,
    }
}

#[test]
fn atr_averages_true_ranges_from_the_second_bar() {
    let candles = [
        candle(10.0, 8.0, 9.0, 0.0),
        candle(12.0, 9.0, 11.0, 0.0),  // TR 3
        candle(11.0, 10.0, 10.0, 0.0), // TR 1
        candle(15.0, 12.0, 14.0, 0.0), // TR max(3, 5, 2) = 5
    ];
    // Seed (3+1)/2 = 2 at bar 2; then (2*1 + 5)/2 = 3.5.
    check("atr:2", &candles, &[&[None, None, Some(2.0), Some(3.5)]]);
}

#[test]
fn stochastic_smooths_fast_k_into_k_and_d() {
    let candles = [
        candle(10.0, 0.0, 5.0, 0.0),
        candle(10.0, 0.0, 10.0, 0.0),
        candle(20.0, 10.0, 10.0, 0.0),
        candle(20.0, 10.0, 20.0, 0.0),
    ];
    // Fast %K(2): bar1 100, bar2 50, bar3 100. Slow %K(2): bar2 75, bar3 75. %D(2): bar3 75.
    check(
        "stoch:2:2:2",
        &candles,
        &[
            &[None, None, None, Some(75.0)],
            &[None, None, None, Some(75.0)],
        ],
    );
}

#[test]
fn roc_is_a_percentage_change_over_period_bars() {
    check(
        "roc:2",
        &closes(&[10.0, 11.0, 12.0, 0.0, 6.0]),
        &[&[None, None, Some(20.0), Some(-100.0), Some(-50.0)]],
    );
}

#[test]
fn obv_starts_at_the_first_volume_and_follows_the_close() {
    let candles = [
        candle(1.0, 1.0, 1.0, 100.0),
        candle(2.0, 2.0, 2.0, 10.0),
        candle(1.0, 1.0, 1.0, 3.0),
        candle(1.0, 1.0, 1.0, 50.0),
    ];
    check(
        "obv",
        &candles,
        &[&[Some(100.0), Some(110.0), Some(107.0), Some(107.0)]],
    );
}

#[test]
fn volatility_is_the_annualised_sample_deviation_of_log_returns() {
    // Log returns ln 2 and ln 0.5 = ±ln 2: mean 0, sample variance 2 ln²2 → deviation √2 ln 2.
    let expected = 2f64.sqrt() * 2f64.ln() * 252f64.sqrt();
    check(
        "volatility:2",
        &closes(&[1.0, 2.0, 1.0]),
        &[&[None, None, Some(expected)]],
    );
    check(
        "volatility:2",
        &closes(&[3.0; 4]),
        &[&[None, None, Some(0.0), Some(0.0)]],
    );
}

#[test]
fn too_short_a_series_gives_nones_of_its_length() {
    for info in Indicator::catalogue() {
        let indicator = spec(info.name);
        let candles = closes(&vec![1.0; indicator.warmup()]);
        for output in indicator.batch(&candles) {
            assert_eq!(output, vec![None; candles.len()], "{indicator}");
        }
        assert!(
            incremental(indicator, &candles, 0)
                .iter()
                .all(Option::is_none)
        );
    }
}

#[test]
fn warmups_follow_ta_lib_lookbacks() {
    let cases = [
        ("sma:50", 49),
        ("ema:20", 19),
        ("wma:10", 9),
        ("rsi:14", 14),
        ("macd:12:26:9", 33),
        ("bbands:20:2", 19),
        ("atr:14", 14),
        ("stoch:14:3:3", 17),
        ("roc:10", 10),
        ("obv", 0),
        ("volatility:20", 20),
    ];
    for (text, warmup) in cases {
        assert_eq!(spec(text).warmup(), warmup, "{text}");
        assert_eq!(spec(text).bars_needed(), warmup + 1, "{text}");
        let candles = closes(&(1..=100).map(f64::from).collect::<Vec<_>>());
        let first = spec(text).batch(&candles)[0]
            .iter()
            .position(Option::is_some);
        assert_eq!(first, Some(warmup), "{text}");
    }
}

#[test]
fn specs_round_trip_through_their_canonical_form() {
    for text in [
        "sma:50",
        "ema:20",
        "wma:10",
        "rsi:14",
        "macd:12:26:9",
        "bbands:20:2",
        "bbands:20:2.5",
        "atr:14",
        "stoch:14:3:3",
        "roc:10",
        "obv",
        "volatility:20",
    ] {
        let indicator = spec(text);
        assert_eq!(indicator.to_string(), text);
        assert_eq!(spec(&indicator.to_string()), indicator);
        assert_eq!(indicator.validate(), Ok(()));
    }
}

#[test]
fn omitted_parameters_take_their_defaults() {
    assert_eq!(spec("rsi"), Indicator::Rsi { period: 14 });
    assert_eq!(
        spec("macd"),
        Indicator::Macd {
            fast: 12,
            slow: 26,
            signal: 9
        }
    );
    assert_eq!(
        spec("macd:5"),
        Indicator::Macd {
            fast: 5,
            slow: 26,
            signal: 9
        }
    );
    assert_eq!(
        spec("bbands"),
        Indicator::Bbands {
            period: 20,
            deviations: Tenths(20)
        }
    );
    assert_eq!(
        spec("stoch"),
        Indicator::Stoch {
            fast_k: 14,
            slow_k: 3,
            slow_d: 3
        }
    );
    assert_eq!(spec(" SMA:20 "), Indicator::Sma { period: 20 });
}

#[test]
fn lines_name_an_output_or_default_to_the_first() {
    let line: Line = "macd:12:26:9.histogram".parse().unwrap();
    assert_eq!(
        line,
        Line {
            indicator: spec("macd"),
            output: 2
        }
    );
    assert_eq!(line.to_string(), "macd:12:26:9.histogram");
    let upper: Line = "bbands:20:2.upper".parse().unwrap();
    assert_eq!(
        upper,
        Line {
            indicator: spec("bbands:20:2"),
            output: 0
        }
    );
    let half: Line = "bbands:20:2.5".parse().unwrap();
    assert_eq!(
        half,
        Line {
            indicator: spec("bbands:20:2.5"),
            output: 0
        }
    );
    assert_eq!(half.to_string(), "bbands:20:2.5.upper");
    let rsi: Line = "rsi:14".parse().unwrap();
    assert_eq!((rsi.output, rsi.to_string().as_str()), (0, "rsi:14"));
    let error = "stoch.x".parse::<Line>().unwrap_err().to_string();
    assert!(
        error.contains("no output `x`") && error.contains("k, d"),
        "{error}"
    );
}

#[test]
fn bad_specs_are_refused_with_the_catalogue() {
    for text in [
        "smma:5",
        "sma:1",
        "sma:1001",
        "sma:x",
        "sma:5:5",
        "macd:26:12:9",
        "bbands:20:0",
        "bbands:20:2.25",
        "bbands:20:11",
        "rsi:-1",
        "",
    ] {
        let error = text.parse::<Indicator>().unwrap_err().to_string();
        assert!(
            error.contains("valid indicators: sma[:period 2..=1000 (default 30)]"),
            "{text}: {error}"
        );
        assert!(error.contains("volatility"), "{text}: {error}");
    }
    let error = "sma:1".parse::<Indicator>().unwrap_err().to_string();
    assert!(
        error.starts_with("`sma` parameter `period` must be 2..=1000, got `1`"),
        "{error}"
    );
    assert!(Indicator::Sma { period: 0 }.validate().is_err());
    assert!(
        Indicator::Macd {
            fast: 26,
            slow: 12,
            signal: 9
        }
        .validate()
        .is_err()
    );
}

#[test]
fn out_of_range_parameters_built_in_code_are_clamped_not_panicking() {
    let candles = closes(&[1.0, 2.0, 3.0]);
    let zero = Indicator::Sma { period: 0 };
    assert_eq!(zero.warmup(), 1);
    assert_eq!(zero.batch(&candles), spec("sma:2").batch(&candles));
    assert_eq!(Indicator::Roc { period: u32::MAX }.warmup(), 1000);
}

#[test]
fn the_catalogue_lists_every_indicator_and_serialises() {
    let names: Vec<&str> = Indicator::catalogue()
        .iter()
        .map(|info| info.name)
        .collect();
    assert_eq!(
        names,
        [
            "sma",
            "ema",
            "wma",
            "rsi",
            "macd",
            "bbands",
            "atr",
            "stoch",
            "roc",
            "obv",
            "volatility"
        ]
    );
    for info in Indicator::catalogue() {
        assert_eq!(spec(info.name).info(), info);
    }
    let json = serde_json::to_value(Indicator::catalogue()).unwrap();
    assert_eq!(json[4]["params"][1]["name"], "slow");
    assert_eq!(serde_json::to_value(spec("macd")).unwrap(), "macd:12:26:9");
}

#[test]
fn annualising_factor_is_the_square_root_of_252() {
    assert_eq!(batch::ANNUALISE, 252f64.sqrt());
}

#[test]
fn the_error_text_names_the_problem_then_every_indicator() {
    let error = "rsi:1".parse::<Indicator>().unwrap_err().to_string();
    assert_eq!(
        error,
        "`rsi` parameter `period` must be 2..=1000, got `1`; valid indicators: \
         sma[:period 2..=1000 (default 30)], ema[:period 2..=1000 (default 30)], \
         wma[:period 2..=1000 (default 30)], rsi[:period 2..=1000 (default 14)], \
         macd[:fast 2..=1000 (default 12):slow 2..=1000 (default 26):signal 1..=1000 (default 9)], \
         bbands[:period 2..=1000 (default 20):deviations 0.1..=10 in steps of 0.1 (default 2)], \
         atr[:period 1..=1000 (default 14)], \
         stoch[:fast_k 1..=1000 (default 14):slow_k 1..=1000 (default 3):slow_d 1..=1000 (default 3)], \
         roc[:period 1..=1000 (default 10)], obv, volatility[:period 2..=1000 (default 20)]"
    );
}
