//! The LLM scorers and the chain against local mocks of each API (127.0.0.1, wiremock),
//! answering with the documented success and error bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chain;
mod gemini;
mod helpers;
mod openai;
