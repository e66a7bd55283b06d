//! API tests: the real router, requests in-process through `oneshot`, upstreams mocked on
//! 127.0.0.1. One test binary, so it builds once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod alert_edges;
mod alert_safety;
mod alert_series;
mod alerts;
mod alphavantage;
mod caps;
mod captured_logs;
mod channel_tests;
mod dashboard;
mod end_of_day;
mod helpers;
mod history;
mod indicators;
mod ingest;
mod known_symbols;
mod login_limits;
mod news;
mod not_supported;
mod ops;
mod provider_pause;
mod quota;
mod read_limits;
mod secrets;
mod security_headers;
mod seed;
mod served;
mod server;
mod signals;
mod signup;
mod stored_history;
mod stream;
mod symbols;
