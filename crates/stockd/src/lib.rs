//! The stockd binary's library half: command line, configuration, telemetry and wiring.
//!
//! `main` parses the command line, loads the layered configuration and hands over to
//! [`app`]; everything that decides something lives in these modules so tests can drive it.

pub mod app;
pub mod archiving;
pub mod build_info;
pub mod cli;
pub mod config;
pub mod descriptors;
mod duration;
pub mod healthcheck;
pub mod import;
pub mod ingesting;
pub mod mcp_stdio;
pub mod migrate;
pub mod news;
pub mod scoring;
pub mod signalling;
pub mod symbols;
pub mod telemetry;
pub mod trim;
pub mod users;
