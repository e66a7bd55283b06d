//! Rebuilds the crate when a migration file is added or changed: `sqlx::migrate!` embeds the
//! folders at compile time, and on stable Rust a proc macro cannot ask to be rerun by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
