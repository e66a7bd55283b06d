//! The seed routes' `prices` arrays, rendered once per cached series.
//!
//! `GET /{symbol}/{days}` is the hottest route. Rather than serialising N closes on every
//! request, each series is rendered once, newest first, into one JSON buffer with the end
//! offset of every element and a running sum of the closes: the answer for any N is then a
//! slice of that buffer plus an exact average, in O(1). The rendering is keyed by symbol (like
//! the market cache) and checked against the identity of the cached series, so a refreshed
//! series is rendered anew; the whole map is bounded in bytes.
//!
//! The whole answer of a short window (up to [`MEMO_WINDOWS`] days, which covers the default
//! `NDAYS` and the usual week or month) is also kept once written: writing it was about 650 of
//! a cached read's instructions, 400 of them formatting the average as a float. Each answer
//! gets its own copy, so requests on different threads share no reference count.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use domain::{Price, Series, Symbol};

use super::seed::ClosePrice;

/// Upper bound of all rendered arrays together; past it the map starts over.
const MAX_RENDERED_BYTES: usize = 64 * 1024 * 1024;

/// Windows of up to this many days keep their whole answer once written.
pub(crate) const MEMO_WINDOWS: usize = 32;

/// The most bytes an answer holds around its `prices` elements: the keys, the symbol (at most
/// 15 characters), a count and an average.
const ANSWER_FRAME_BYTES: usize = 96;

/// Every window of one series' closes, newest first.
#[derive(Debug)]
pub(crate) struct RenderedCloses {
    series: Arc<Series>,
    json: Vec<u8>,
    /// `ends[i]`: where the JSON of the `i + 1` newest closes ends.
    ends: Vec<usize>,
    /// `sums[i]`: the raw sum of the `i + 1` newest closes.
    sums: Vec<i128>,
    /// `answers[i]`: the whole answer for `i + 1` days, once written.
    answers: [OnceLock<Box<[u8]>>; MEMO_WINDOWS],
    /// The bytes this rendering may come to hold: the array and every kept answer.
    weight: usize,
}

impl RenderedCloses {
    fn render(series: Arc<Series>) -> Self {
        let bars = series.bars();
        let mut json = Vec::with_capacity(bars.len() * 40);
        let mut ends = Vec::with_capacity(bars.len());
        let mut sums = Vec::with_capacity(bars.len());
        let mut sum = 0i128;
        for (index, bar) in bars.iter().rev().enumerate() {
            if index > 0 {
                json.push(b',');
            }
            let close = ClosePrice {
                date: bar.date,
                close: bar.close,
            };
            // Writing plain data into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut json, &close);
            ends.push(json.len());
            sum += i128::from(bar.close.raw());
            sums.push(sum);
        }
        let kept_answers: usize = ends
            .iter()
            .take(MEMO_WINDOWS)
            .map(|end| end + ANSWER_FRAME_BYTES)
            .sum();
        Self {
            weight: json.len() + kept_answers,
            series,
            json,
            ends,
            sums,
            answers: Default::default(),
        }
    }

    /// The whole answer for `days` (`PricesResponse`'s JSON): a copy of the kept one for a
    /// short window, else written now.
    pub(crate) fn answer(&self, days: usize) -> Vec<u8> {
        let n = days.min(self.ends.len());
        match n.checked_sub(1).and_then(|index| self.answers.get(index)) {
            Some(kept) => kept
                .get_or_init(|| self.write_answer(n).into_boxed_slice())
                .to_vec(),
            None => self.write_answer(n),
        }
    }

    /// `PricesResponse`'s JSON for the `n` newest closes, written around their pre-rendered
    /// elements.
    fn write_answer(&self, n: usize) -> Vec<u8> {
        let (ndays, prices, average) = self.window(n);
        let mut body = Vec::with_capacity(prices.len() + ANSWER_FRAME_BYTES);
        body.extend_from_slice(b"{\"symbol\":\"");
        // [A-Z0-9.^=-]: nothing to escape.
        body.extend_from_slice(self.series.symbol.as_str().as_bytes());
        body.extend_from_slice(b"\",\"ndays\":");
        body.extend_from_slice(itoa::Buffer::new().format(ndays).as_bytes());
        body.extend_from_slice(b",\"prices\":[");
        body.extend_from_slice(prices);
        body.extend_from_slice(b"],\"average\":");
        // Writing a number or `null` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, &average);
        body.push(b'}');
        body
    }

    /// The number of closes in the window of `days`, their JSON elements (comma-separated,
    /// without brackets) and their mean.
    fn window(&self, days: usize) -> (usize, &[u8], Option<Price>) {
        let n = days.min(self.ends.len());
        if n == 0 {
            return (0, &[], None);
        }
        (
            n,
            &self.json[..self.ends[n - 1]],
            Price::mean_of_sum(self.sums[n - 1], n),
        )
    }
}

/// Rendered closes per symbol.
#[derive(Debug, Default)]
pub(crate) struct RenderCache {
    rendered: RwLock<HashMap<Symbol, Arc<RenderedCloses>, foldhash::fast::RandomState>>,
}

impl RenderCache {
    /// The answer to `/{symbol}/{days}` from `series` ([`RenderedCloses::answer`]), rendering
    /// it first if it is new or was refreshed since. A kept rendering is read under the lock,
    /// without taking a reference to it.
    pub(crate) fn answer(&self, series: &Arc<Series>, days: usize) -> Vec<u8> {
        if let Ok(map) = self.rendered.read()
            && let Some(found) = map.get(&series.symbol)
            && Arc::ptr_eq(&found.series, series)
        {
            return found.answer(days);
        }
        self.render(series).answer(days)
    }

    /// Renders `series` and keeps the rendering, replacing the symbol's previous one. (Two
    /// readers of a new series may both render it; the later insert wins, with equal content.)
    fn render(&self, series: &Arc<Series>) -> Arc<RenderedCloses> {
        let fresh = Arc::new(RenderedCloses::render(series.clone()));
        let mut map = match self.rendered.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        let total: usize = map.values().map(|r| r.weight).sum();
        if total + fresh.weight > MAX_RENDERED_BYTES {
            map.clear();
        }
        map.insert(series.symbol, fresh.clone());
        fresh
    }
}
