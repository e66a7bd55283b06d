//! `stockd`: parse the command line, load the configuration, run the command.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use stockd::cli::{Cli, Command};
use stockd::config::{Config, TelemetrySection};
use stockd::{
    app, archiving, healthcheck, import, ingesting, mcp_stdio, migrate, news, symbols, telemetry,
    users,
};

/// mimalloc instead of the system allocator: requests allocate and free small buffers on
/// whichever worker thread runs them, and glibc's per-arena locking showed up in profiles of
/// the cached read path (see bench/BENCHMARKS.md). Built with `no_thp`: left to itself it asks
/// for transparent huge pages, and each 2 MiB page it touches is resident whole (idle RSS
/// 28.7 → 13.0 MiB of heap without them; bench/BENCHMARKS.md, "memory").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    stockd::trim::tune_allocator();
    let cli = Cli::parse();
    let config = match Config::load(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("stockd: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or_default() {
        Command::Serve(args) => {
            let mut config = config;
            if !args.roles.is_empty()
                && let Err(err) = config.set_roles(args.roles.join(","))
            {
                eprintln!("stockd: invalid configuration: {err}");
                return ExitCode::from(2);
            }
            with_telemetry(&config.telemetry.clone(), || {
                block_on(app::run(config), |result| match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(err) => {
                        tracing::error!(error = %err, "stockd stopped with an error");
                        eprintln!("stockd: {err}");
                        ExitCode::FAILURE
                    }
                })
            })
        }
        Command::Config(args) => print(&config.render(args.format)),
        Command::Mcp(args) => {
            // stdout is the protocol's: logs go to stderr only.
            mcp_stdio::init_logs(&config.telemetry);
            block_on(mcp_stdio::run(&config, &args), |result| match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("stockd mcp: {err}");
                    ExitCode::FAILURE
                }
            })
        }
        Command::Healthcheck => match healthcheck::probe(healthcheck::target(&config.server)) {
            Ok(_) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("stockd healthcheck: {err}");
                ExitCode::FAILURE
            }
        },
        Command::Migrate(args) => {
            block_on(
                migrate::run(&config.store, args.command),
                |result| match result {
                    Ok(report) => print(report.trim_end()),
                    Err(err) => {
                        eprintln!("stockd migrate: {err}");
                        ExitCode::FAILURE
                    }
                },
            )
        }
        Command::Import(args) => block_on(
            import::run(&config.store, &args.file, args.skip_invalid),
            |result| match result {
                Ok(report) => print(report.trim_end()),
                Err(err) => {
                    eprintln!("stockd import: {err}");
                    ExitCode::FAILURE
                }
            },
        ),
        Command::Ingest(args) => {
            // Worker and provider warnings are worth seeing in a foreground run (and a backfill's
            // job spans in the trace collector, when one is configured).
            with_telemetry(&config.telemetry, || {
                block_on(ingesting::run(&config, args), |result| match result {
                    Ok(report) => print(report.trim_end()),
                    Err(err) => {
                        eprintln!("stockd ingest: {err}");
                        ExitCode::FAILURE
                    }
                })
            })
        }
        Command::News(args) => {
            let stockd::cli::NewsCommand::Ingest { symbols, quiet } = args.command;
            with_telemetry(&config.telemetry, || {
                block_on(
                    news::ingest(&config, symbols, quiet),
                    |result| match result {
                        Ok(report) => print(report.trim_end()),
                        Err(err) => {
                            eprintln!("stockd news ingest: {err}");
                            ExitCode::FAILURE
                        }
                    },
                )
            })
        }
        Command::Archive(args) => block_on(archiving::run(&config, &args), |result| match result {
            Ok(report) => print(report.trim_end()),
            Err(err) => {
                eprintln!("stockd archive: {err}");
                ExitCode::FAILURE
            }
        }),
        Command::Users(args) => {
            block_on(
                users::run(&config.store, args.command),
                |result| match result {
                    Ok(report) => print(report.trim_end()),
                    Err(err) => {
                        eprintln!("stockd users: {err}");
                        ExitCode::FAILURE
                    }
                },
            )
        }
        Command::Symbols(args) => {
            block_on(symbols::run(&config, args.command), |result| match result {
                Ok(report) => print(report.trim_end()),
                Err(err) => {
                    eprintln!("stockd symbols: {err}");
                    ExitCode::FAILURE
                }
            })
        }
    }
}

/// Runs `command` with logs (and trace export, when configured) installed, then flushes the
/// spans still buffered. A trace export setting stockd cannot honour stops it like any other
/// invalid setting.
fn with_telemetry(config: &TelemetrySection, command: impl FnOnce() -> ExitCode) -> ExitCode {
    let telemetry = match telemetry::init(config) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("stockd: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    let code = command();
    telemetry.shutdown();
    code
}

/// Runs `future` on a new multi-threaded runtime and maps its output to an exit code.
fn block_on<T>(future: impl Future<Output = T>, exit_code: impl FnOnce(T) -> ExitCode) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => exit_code(runtime.block_on(future)),
        Err(err) => {
            eprintln!("stockd: could not start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

fn print(text: &str) -> ExitCode {
    match writeln!(std::io::stdout().lock(), "{text}") {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
