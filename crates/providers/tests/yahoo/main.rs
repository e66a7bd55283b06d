//! Yahoo Finance chart provider against an in-process mock server serving documented-shape
//! fixtures (`tests/fixtures/yahoo/`, one file per endpoint and case). Nothing here touches the
//! internet. Yahoo takes no key, so there is no secrets suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod daily;
mod helpers;
mod quote;
