//! Finnhub provider against an in-process mock server serving documented-shape fixtures
//! (`tests/fixtures/finnhub/`, one file per endpoint and case). Nothing here touches the
//! internet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod helpers;
mod quote;
mod secrets;
