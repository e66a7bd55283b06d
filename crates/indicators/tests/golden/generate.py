#!/usr/bin/env python3
"""Writes the golden values the `indicators` crate is tested against (tests/golden.rs).

Every indicator but volatility is computed by TA-Lib itself, through its Python wrapper (PyPI
`ta-lib` 0.8.x, whose wheels carry the C library); volatility, which TA-Lib lacks, by numpy
(sample standard deviation, ddof=1, of the last `period` log returns, times sqrt(252)).

Inputs are real bundled daily bars (MSFT and AAPL from crates/providers/data/stocks.csv.gz) and
edge series: flat, one bar, fewer bars than most warm-ups, a gap (a stretch of bars removed),
strictly rising (RSI with no losses), tiny (~1e-4) and huge (~1e7) prices.

Run from anywhere, with ta-lib and numpy installed:

    python3 -m venv /tmp/talib && /tmp/talib/bin/pip install 'ta-lib==0.8.*' numpy
    /tmp/talib/bin/python crates/indicators/tests/golden/generate.py

It rewrites one `<series>.json` per series beside itself:
{"generator": ..., "candles": [[open, high, low, close, volume], ...],
 "expected": {"<spec>": [[value or null per bar] per output]}}.
"""

import csv
import gzip
import json
import math
from pathlib import Path

import numpy as np
import talib

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[3] / "crates" / "providers" / "data" / "stocks.csv.gz"

SPECS = [
    "sma:30", "sma:2", "sma:200",
    "ema:30", "ema:2", "ema:50",
    "wma:30", "wma:2", "wma:10",
    "rsi:14", "rsi:2", "rsi:30",
    "macd:12:26:9", "macd:5:35:5", "macd:2:3:1",
    "bbands:20:2", "bbands:5:2.5", "bbands:2:0.1", "bbands:10:1",
    "atr:14", "atr:1", "atr:2",
    "stoch:14:3:3", "stoch:5:3:3", "stoch:1:1:1", "stoch:9:1:4",
    "roc:10", "roc:1",
    "obv",
    "volatility:20", "volatility:2", "volatility:60",
]


def volatility(close, period):
    returns = np.log(close[1:] / close[:-1])
    out = np.full(len(close), np.nan)
    for end in range(period, len(returns) + 1):
        out[end] = np.std(returns[end - period:end], ddof=1) * math.sqrt(252)
    return [out]


def compute(spec, o, h, l, c, v):
    name, *params = spec.split(":")
    p = [float(x) if "." in x else int(x) for x in params]
    if name == "sma":
        return [talib.SMA(c, timeperiod=p[0])]
    if name == "ema":
        return [talib.EMA(c, timeperiod=p[0])]
    if name == "wma":
        return [talib.WMA(c, timeperiod=p[0])]
    if name == "rsi":
        return [talib.RSI(c, timeperiod=p[0])]
    if name == "macd":
        return list(talib.MACD(c, fastperiod=p[0], slowperiod=p[1], signalperiod=p[2]))
    if name == "bbands":
        return list(talib.BBANDS(c, timeperiod=p[0], nbdevup=p[1], nbdevdn=p[1], matype=0))
    if name == "atr":
        return [talib.ATR(h, l, c, timeperiod=p[0])]
    if name == "stoch":
        return list(talib.STOCH(h, l, c, fastk_period=p[0], slowk_period=p[1], slowk_matype=0,
                                slowd_period=p[2], slowd_matype=0))
    if name == "roc":
        return [talib.ROC(c, timeperiod=p[0])]
    if name == "obv":
        return [talib.OBV(c, v)]
    if name == "volatility":
        return volatility(c, p[0])
    raise ValueError(spec)


def bundled(ticker):
    with gzip.open(DATA, "rt", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Ticker"] == ticker]
    rows.sort(key=lambda r: r["Date"])
    return [[float(r[k]) for k in ("Open", "High", "Low", "Close", "Volume")] for r in rows]


def scaled(candles, factor):
    return [[x * factor for x in bar[:4]] + [bar[4]] for bar in candles]


def series():
    msft = bundled("MSFT")
    aapl = bundled("AAPL")
    flat = [[100.0, 100.0, 100.0, 100.0, 1000.0]] * 60
    rising = [[100.0 + i, 100.5 + i, 99.5 + i, 100.0 + i, 1000.0 + i] for i in range(60)]
    return {
        "msft": msft[-1000:],
        "aapl": aapl[:1000],
        "flat": flat,
        "one_bar": msft[:1],
        "short": msft[:10],
        # Values are per bar, so a gap in dates is a jump from one price level to another.
        "gap": msft[:150] + msft[400:550],
        "rising": rising,
        "tiny": scaled(msft[-300:], 1e-4 / msft[-300][3]),
        "huge": scaled(msft[-300:], 1e7 / msft[-300][3]),
    }


def main():
    for name, candles in series().items():
        columns = np.array(candles, dtype=np.float64).T
        o, h, l, c, v = (np.ascontiguousarray(col) for col in columns)
        expected = {}
        for spec in SPECS:
            expected[spec] = [
                [None if math.isnan(x) else float(x) for x in output]
                for output in compute(spec, o, h, l, c, v)
            ]
        document = {
            "generator": f"ta-lib {talib.__version__} (C {talib.__ta_version__.decode()}), numpy {np.__version__}",
            "candles": candles,
            "expected": expected,
        }
        (HERE / f"{name}.json").write_text(json.dumps(document, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
