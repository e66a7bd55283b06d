//! `stockd`: parse the command line, load the configuration, run the command.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use stockd::cli::{Cli, Command};
use stockd::config::Config;
use stockd::{app, telemetry};

/// mimalloc instead of the system allocator: requests allocate and free small buffers on
/// whichever worker thread runs them, and glibc's per-arena locking showed up in profiles of
/// the cached read path (see bench/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("stockd: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or_default() {
        Command::Serve(_) => {
            telemetry::init(&config);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("stockd: could not start the async runtime: {err}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(app::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!(error = %err, "stockd stopped with an error");
                    eprintln!("stockd: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Config(args) => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{}", config.render(args.format)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
    }
}
