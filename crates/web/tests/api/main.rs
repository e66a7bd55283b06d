//! API tests: the real router, requests in-process through `oneshot`, upstreams mocked on
//! 127.0.0.1. One test binary, so it builds once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod alert_edges;
mod alert_safety;
mod alerts;
mod alphavantage;
mod captured_logs;
mod helpers;
mod history;
mod ingest;
mod not_supported;
mod ops;
mod quota;
mod secrets;
mod seed;
mod symbols;
