//! placeholder

pub mod docs;
