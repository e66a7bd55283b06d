//! The seed routes' `prices` arrays, rendered once per cached series.
//!
//! `GET /{symbol}/{days}` is the hottest route. Rather than serialising N closes on every
//! request, each series is rendered once, newest first, into one JSON buffer with the end
//! offset of every element and a running sum of the closes: the answer for any N is then a
//! slice of that buffer plus an exact average, in O(1). The rendering is keyed by symbol (like
//! the market cache) and checked against the identity of the cached series, so a refreshed
//! series is rendered anew; the whole map is bounded in bytes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use domain::{Price, Series, Symbol};

use super::seed::ClosePrice;

/// Upper bound of all rendered arrays together; past it the map starts over.
const MAX_RENDERED_BYTES: usize = 64 * 1024 * 1024;

/// Every window of one series' closes, newest first.
#[derive(Debug)]
pub(crate) struct RenderedCloses {
    series: Arc<Series>,
    json: Vec<u8>,
    /// `ends[i]`: where the JSON of the `i + 1` newest closes ends.
    ends: Vec<usize>,
    /// `sums[i]`: the raw sum of the `i + 1` newest closes.
    sums: Vec<i128>,
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
        Self {
            series,
            json,
            ends,
            sums,
        }
    }

    /// The number of closes in the window of `days`, their JSON elements (comma-separated,
    /// without brackets) and their mean.
    pub(crate) fn window(&self, days: usize) -> (usize, &[u8], Option<Price>) {
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
    /// The rendering of `series`, made now if it is new or was refreshed since.
    pub(crate) fn get(&self, series: &Arc<Series>) -> Arc<RenderedCloses> {
        let symbol = series.symbol;
        if let Ok(map) = self.rendered.read()
            && let Some(found) = map.get(&symbol)
            && Arc::ptr_eq(&found.series, series)
        {
            return found.clone();
        }
        let fresh = Arc::new(RenderedCloses::render(series.clone()));
        let mut map = match self.rendered.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        let total: usize = map.values().map(|r| r.json.len()).sum();
        if total + fresh.json.len() > MAX_RENDERED_BYTES {
            map.clear();
        }
        map.insert(symbol, fresh.clone());
        fresh
    }
}
