//! Alpha Vantage provider against an in-process mock server serving recorded-shape fixtures
//! (`tests/fixtures/alphavantage/`, one file per endpoint and case). Nothing here touches the
//! internet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod daily;
mod helpers;
mod quote;
mod secrets;
