//! The textual names of indicators and their output lines: the catalogue of names, parameter
//! ranges and defaults, parsing (`"macd:12:26:9.signal"`) and the canonical form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Indicator;

/// One parameter of an indicator: its name, inclusive range and default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamInfo {
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

/// One indicator of the catalogue: its name, parameters (in the order they are written),
/// output lines and a one-line description.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndicatorInfo {
    pub name: &'static str,
    pub params: &'static [ParamInfo],
    pub outputs: &'static [&'static str],
    pub description: &'static str,
}

/// The longest period any indicator accepts: enough for four years of daily bars, small enough
/// that no state or warm-up is absurd.
pub const MAX_PERIOD: u32 = 1000;

const fn period(name: &'static str, min: u32, default: u32) -> ParamInfo {
    ParamInfo {
        name,
        min: min as f64,
        max: MAX_PERIOD as f64,
        default: default as f64,
    }
}

const VALUE: &[&str] = &["value"];

// Minimums are TA-Lib's: 2 where a one-bar window is meaningless or TA-Lib refuses it (moving
// averages, RSI, Bollinger, MACD's EMAs), 1 where one bar is a valid window (ATR is then the
// true range, ROC a one-bar change, a stochastic or signal smoothing of 1 is no smoothing).
// Volatility needs two returns for a sample deviation.
static CATALOGUE: [IndicatorInfo; 11] = [
    IndicatorInfo {
        name: "sma",
        params: &[period("period", 2, 30)],
        outputs: VALUE,
        description: "Simple moving average of closes.",
    },
    IndicatorInfo {
        name: "ema",
        params: &[period("period", 2, 30)],
        outputs: VALUE,
        description: "Exponential moving average of closes (k = 2/(period+1)), seeded with the SMA of the first period closes, as TA-Lib.",
    },
    IndicatorInfo {
        name: "wma",
        params: &[period("period", 2, 30)],
        outputs: VALUE,
        description: "Linearly weighted moving average of closes (newest weighs period, oldest 1).",
    },
    IndicatorInfo {
        name: "rsi",
        params: &[period("period", 2, 14)],
        outputs: VALUE,
        description: "Relative strength index of closes, 0..100, with Wilder's smoothing seeded by a plain average, as TA-Lib.",
    },
    IndicatorInfo {
        name: "macd",
        params: &[
            period("fast", 2, 12),
            period("slow", 2, 26),
            period("signal", 1, 9),
        ],
        outputs: &["macd", "signal", "histogram"],
        description: "MACD of closes: fast EMA minus slow EMA (fast < slow), its signal EMA, and their difference, as TA-Lib.",
    },
    IndicatorInfo {
        name: "bbands",
        params: &[
            period("period", 2, 20),
            ParamInfo {
                name: "deviations",
                min: 0.1,
                max: 10.0,
                default: 2.0,
            },
        ],
        outputs: &["upper", "middle", "lower"],
        description: "Bollinger Bands: SMA of closes plus and minus deviations (a multiple of 0.1) population standard deviations.",
    },
    IndicatorInfo {
        name: "atr",
        params: &[period("period", 1, 14)],
        outputs: VALUE,
        description: "Average true range with Wilder's smoothing, as TA-Lib.",
    },
    IndicatorInfo {
        name: "stoch",
        params: &[
            period("fast_k", 1, 14),
            period("slow_k", 1, 3),
            period("slow_d", 1, 3),
        ],
        outputs: &["k", "d"],
        description: "Slow stochastic: %K is the SMA over slow_k of the fast %K over fast_k bars, %D the SMA of %K over slow_d.",
    },
    IndicatorInfo {
        name: "roc",
        params: &[period("period", 1, 10)],
        outputs: VALUE,
        description: "Rate of change of closes over period bars, in percent.",
    },
    IndicatorInfo {
        name: "obv",
        params: &[],
        outputs: VALUE,
        description: "On-balance volume, starting at the first bar's volume, as TA-Lib.",
    },
    IndicatorInfo {
        name: "volatility",
        params: &[period("period", 2, 20)],
        outputs: VALUE,
        description: "Annualised volatility: sample standard deviation of the last period daily log returns times sqrt(252).",
    },
];

/// A number of standard deviations in tenths (`Tenths(25)` is 2.5), so that indicators can be
/// compared, hashed and written back exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenths(pub u32);

impl Tenths {
    /// The value as a float (`Tenths(25)` → 2.5, the same double as the literal `2.5`).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Tenths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 % 10 {
            0 => write!(f, "{}", self.0 / 10),
            tenth => write!(f, "{}.{tenth}", self.0 / 10),
        }
    }
}

/// Why an indicator or line name was refused. Its `Display` names the problem and then lists
/// every valid indicator with its parameters' ranges and defaults.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("unknown indicator `{name}`; {}", Catalogue)]
    UnknownName { name: String },
    #[error(
        "`{indicator}` takes at most {max} parameter(s), got {got}; {}",
        Catalogue
    )]
    TooManyParams {
        indicator: &'static str,
        max: usize,
        got: usize,
    },
    #[error(
        "`{indicator}` parameter `{param}` must be {range}, got `{value}`; {}",
        Catalogue
    )]
    BadParam {
        indicator: &'static str,
        param: &'static str,
        range: String,
        value: String,
    },
    #[error(
        "`macd` needs fast < slow, got fast {fast} and slow {slow}; {}",
        Catalogue
    )]
    FastNotBelowSlow { fast: u32, slow: u32 },
    #[error("`{indicator}` has no output `{output}`; its outputs are {}", .outputs.join(", "))]
    UnknownOutput {
        indicator: &'static str,
        output: String,
        outputs: &'static [&'static str],
    },
}

/// Displays the whole catalogue as `valid indicators: sma[:period 2..=1000, default 30], …`.
struct Catalogue;

impl fmt::Display for Catalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("valid indicators: ")?;
        for (i, info) in CATALOGUE.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(info.name)?;
            if !info.params.is_empty() {
                f.write_str("[")?;
                for param in info.params {
                    write!(
                        f,
                        ":{} {} (default {})",
                        param.name,
                        range_text(param),
                        param.default
                    )?;
                }
                f.write_str("]")?;
            }
        }
        Ok(())
    }
}

fn range_text(param: &ParamInfo) -> String {
    if param.name == "deviations" {
        format!("{}..={} in steps of 0.1", param.min, param.max)
    } else {
        format!("{}..={}", param.min, param.max)
    }
}

impl Indicator {
    /// Every indicator this crate knows, with parameter ranges, defaults and outputs: the body of
    /// an error listing valid names, and the source of API documentation.
    pub fn catalogue() -> &'static [IndicatorInfo] {
        &CATALOGUE
    }

    /// This indicator's entry in the catalogue.
    pub fn info(&self) -> &'static IndicatorInfo {
        let index = match self {
            Self::Sma { .. } => 0,
            Self::Ema { .. } => 1,
            Self::Wma { .. } => 2,
            Self::Rsi { .. } => 3,
            Self::Macd { .. } => 4,
            Self::Bbands { .. } => 5,
            Self::Atr { .. } => 6,
            Self::Stoch { .. } => 7,
            Self::Roc { .. } => 8,
            Self::Obv => 9,
            Self::Volatility { .. } => 10,
        };
        &CATALOGUE[index]
    }

    /// The catalogue name (`"sma"`, `"macd"`, …).
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// Checks parameters against the catalogue's ranges (a parsed indicator always passes; one
    /// built in code may not). [`Indicator::batch`] and [`Indicator::state`] clamp parameters
    /// into range rather than fail, so this is where a caller learns about a bad one.
    pub fn validate(&self) -> Result<(), SpecError> {
        // The canonical form writes every parameter, so it parses back to `self` exactly when
        // every parameter is in range, and otherwise says which is not.
        self.to_string().parse::<Indicator>().map(drop)
    }

    /// The same indicator with every parameter clamped into its catalogue range (MACD's fast
    /// and slow swapped when fast > slow, as TA-Lib does), so that arithmetic never sees a
    /// zero or absurd period.
    pub(crate) fn normalized(&self) -> Self {
        let clamp = |value: u32, min: u32| value.clamp(min, MAX_PERIOD);
        match *self {
            Self::Sma { period } => Self::Sma {
                period: clamp(period, 2),
            },
            Self::Ema { period } => Self::Ema {
                period: clamp(period, 2),
            },
            Self::Wma { period } => Self::Wma {
                period: clamp(period, 2),
            },
            Self::Rsi { period } => Self::Rsi {
                period: clamp(period, 2),
            },
            Self::Macd { fast, slow, signal } => {
                let (fast, slow) = (clamp(fast, 2), clamp(slow, 2));
                Self::Macd {
                    fast: fast.min(slow),
                    slow: fast.max(slow),
                    signal: clamp(signal, 1),
                }
            }
            Self::Bbands { period, deviations } => Self::Bbands {
                period: clamp(period, 2),
                deviations: Tenths(deviations.0.clamp(1, 100)),
            },
            Self::Atr { period } => Self::Atr {
                period: clamp(period, 1),
            },
            Self::Stoch {
                fast_k,
                slow_k,
                slow_d,
            } => Self::Stoch {
                fast_k: clamp(fast_k, 1),
                slow_k: clamp(slow_k, 1),
                slow_d: clamp(slow_d, 1),
            },
            Self::Roc { period } => Self::Roc {
                period: clamp(period, 1),
            },
            Self::Obv => Self::Obv,
            Self::Volatility { period } => Self::Volatility {
                period: clamp(period, 2),
            },
        }
    }
}

fn bad_param(info: &'static IndicatorInfo, param: &'static ParamInfo, value: &str) -> SpecError {
    SpecError::BadParam {
        indicator: info.name,
        param: param.name,
        range: range_text(param),
        value: value.to_owned(),
    }
}

fn parse_period(
    info: &'static IndicatorInfo,
    index: usize,
    text: Option<&str>,
) -> Result<u32, SpecError> {
    let param = &info.params[index];
    let Some(text) = text else {
        return Ok(param.default as u32);
    };
    match text.parse::<u32>() {
        Ok(value) if (param.min..=param.max).contains(&f64::from(value)) => Ok(value),
        _ => Err(bad_param(info, param, text)),
    }
}

/// Parses deviations such as `2`, `2.5` or `0.5` into tenths without going through a float.
fn parse_tenths(info: &'static IndicatorInfo, text: Option<&str>) -> Result<Tenths, SpecError> {
    let param = &info.params[1];
    let Some(text) = text else {
        return Ok(Tenths((param.default * 10.0) as u32));
    };
    let (whole, tenth) = match text.split_once('.') {
        Some((whole, tenth)) => (whole, tenth),
        None => (text, "0"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let value = if digits(whole) && digits(tenth) && tenth.len() == 1 && whole.len() <= 4 {
        whole
            .parse::<u32>()
            .ok()
            .zip(tenth.parse::<u32>().ok())
            .map(|(w, t)| w * 10 + t)
    } else {
        None
    };
    match value {
        Some(tenths) if (param.min..=param.max).contains(&(f64::from(tenths) / 10.0)) => {
            Ok(Tenths(tenths))
        }
        _ => Err(bad_param(info, param, text)),
    }
}

impl FromStr for Indicator {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().split(':');
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let info = CATALOGUE
            .iter()
            .find(|info| info.name == name)
            .ok_or_else(|| SpecError::UnknownName { name: name.clone() })?;
        let args: Vec<&str> = parts.collect();
        if args.len() > info.params.len() {
            return Err(SpecError::TooManyParams {
                indicator: info.name,
                max: info.params.len(),
                got: args.len(),
            });
        }
        let arg = |i: usize| args.get(i).copied();
        let p = |i: usize| parse_period(info, i, arg(i));
        let indicator = match info.name {
            "sma" => Self::Sma { period: p(0)? },
            "ema" => Self::Ema { period: p(0)? },
            "wma" => Self::Wma { period: p(0)? },
            "rsi" => Self::Rsi { period: p(0)? },
            "macd" => {
                let (fast, slow, signal) = (p(0)?, p(1)?, p(2)?);
                if fast >= slow {
                    return Err(SpecError::FastNotBelowSlow { fast, slow });
                }
                Self::Macd { fast, slow, signal }
            }
            "bbands" => Self::Bbands {
                period: p(0)?,
                deviations: parse_tenths(info, arg(1))?,
            },
            "atr" => Self::Atr { period: p(0)? },
            "stoch" => Self::Stoch {
                fast_k: p(0)?,
                slow_k: p(1)?,
                slow_d: p(2)?,
            },
            "roc" => Self::Roc { period: p(0)? },
            "obv" => Self::Obv,
            _ => Self::Volatility { period: p(0)? },
        };
        Ok(indicator)
    }
}

impl fmt::Display for Indicator {
    /// The canonical form, every parameter written: `"rsi:14"`, `"bbands:20:2.5"`, `"obv"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match *self {
            Self::Sma { period }
            | Self::Ema { period }
            | Self::Wma { period }
            | Self::Rsi { period }
            | Self::Atr { period }
            | Self::Roc { period }
            | Self::Volatility { period } => write!(f, ":{period}"),
            Self::Macd { fast, slow, signal } => write!(f, ":{fast}:{slow}:{signal}"),
            Self::Bbands { period, deviations } => write!(f, ":{period}:{deviations}"),
            Self::Stoch {
                fast_k,
                slow_k,
                slow_d,
            } => write!(f, ":{fast_k}:{slow_k}:{slow_d}"),
            Self::Obv => Ok(()),
        }
    }
}

impl Serialize for Indicator {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Indicator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One output line of an indicator, parsed from `"macd:12:26:9.histogram"`, `"bbands:20:2.upper"`
/// or `"rsi:14"` (the first output when there is no suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Line {
    pub indicator: Indicator,
    /// Index into [`Indicator::outputs`].
    pub output: usize,
}

impl Line {
    /// The output's name (`"histogram"`).
    pub fn output_name(&self) -> &'static str {
        self.indicator
            .outputs()
            .get(self.output)
            .copied()
            .unwrap_or("value")
    }
}

impl FromStr for Line {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        // A suffix is an output name only if it starts with a letter: `bbands:20:2.5` is
        // deviations 2.5, `bbands:20:2.upper` the upper band.
        let (spec, suffix) = match text.rsplit_once('.') {
            Some((spec, suffix)) if suffix.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                (spec, Some(suffix))
            }
            _ => (text, None),
        };
        let indicator: Indicator = spec.parse()?;
        let output = match suffix {
            None => 0,
            Some(suffix) => {
                let outputs = indicator.outputs();
                outputs
                    .iter()
                    .position(|name| name.eq_ignore_ascii_case(suffix))
                    .ok_or_else(|| SpecError::UnknownOutput {
                        indicator: indicator.name(),
                        output: suffix.to_owned(),
                        outputs,
                    })?
            }
        };
        Ok(Self { indicator, output })
    }
}

impl fmt::Display for Line {
    /// The canonical form: the output is named when the indicator has several (`"macd:12:26:9.macd"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.indicator.outputs().len() > 1 {
            write!(f, "{}.{}", self.indicator, self.output_name())
        } else {
            write!(f, "{}", self.indicator)
        }
    }
}

impl Serialize for Line {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
