//! The command line: `stockd serve`, `stockd config`, `stockd migrate`, and the flags that override every other
//! configuration layer.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

/// Self-hosted stock market data: N-day prices with averages, history and quotes.
///
/// Configuration is layered: built-in defaults, then the file given with --config, then
/// environment variables (STOCKD_*, plus the aliases PORT, SYMBOL, NDAYS, APIKEY, CACHE_TTL and
/// CIRCUIT_BREAKER_TIMEOUT), then these flags. `stockd config` prints the result.
#[derive(Debug, Parser)]
#[command(name = "stockd", version = crate::build_info::LONG_VERSION, about, long_about)]
pub struct Cli {
    /// A TOML file with settings (same names as the STOCKD_* variables, lower case, without the
    /// prefix).
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "STOCKD_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub overrides: Overrides,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings that can be given as flags; each overrides the file and the environment.
#[derive(Debug, Default, Args, Serialize)]
pub struct Overrides {
    /// Port to listen on [env: STOCKD_PORT, PORT] [default: 8080]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,

    /// Address to listen on [env: STOCKD_BIND] [default: 0.0.0.0]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,

    /// Market-data provider: sample or alphavantage [env: STOCKD_PROVIDER] [default: alphavantage
    /// when an API key is set, else sample]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,

    /// Folder for the SQLite database and other data [env: STOCKD_DATA_DIR] [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,

    /// Log format: auto (JSON unless on a terminal), json or pretty [env: STOCKD_LOG_FORMAT]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(ServeArgs),
    /// Print the effective configuration, secrets redacted.
    Config(ConfigArgs),
    /// Apply, list or revert database schema migrations (of `database_url`).
    Migrate(MigrateArgs),
    /// Add, remove or list the tracked symbols that ingestion keeps fresh.
    Symbols(SymbolsArgs),
    /// Create or list user accounts (`stockd users create --email … --admin` bootstraps an
    /// admin).
    Users(UsersArgs),
    /// Fetch history now in the foreground (a backfill with --from, else the latest session of
    /// the tracked symbols), or show the ingestion queue (`stockd ingest status`).
    Ingest(IngestArgs),
    /// Fetch news now (`stockd news ingest`): one news run for the tracked and watched symbols,
    /// or --symbols, from each source's cursor.
    News(NewsArgs),
    /// Bulk-load daily bars from a CSV file (symbol,date,open,high,low,close,volume[,adj_close]).
    Import(ImportArgs),
    /// Write stored bars as Parquet, one file per symbol and year, to `archive_url`.
    Archive(ArchiveArgs),
    /// Serve the Model Context Protocol on stdin/stdout for a desktop AI assistant, as the user
    /// whose personal API token is in STOCKD_MCP_TOKEN (or --token-file). Logs go to stderr.
    Mcp(McpArgs),
    /// Exit 0 when the local server's GET /health answers 200, else 1 (for container health
    /// checks; probes 127.0.0.1 on the configured port).
    Healthcheck,
}

impl Default for Command {
    fn default() -> Self {
        Self::Serve(ServeArgs::default())
    }
}

/// Options of `stockd serve` (the other settings are global flags or configuration).
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// What runs besides the HTTP API: all, or any of api, worker, alerts (comma-separated or
    /// repeated) [env: STOCKD_ROLES] [default: all]
    #[arg(long = "role", value_delimiter = ',')]
    pub roles: Vec<String>,
}

/// Options of `stockd config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Toml)]
    pub format: OutputFormat,
}

/// How `stockd config` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Toml,
    Json,
}

/// Options of `stockd migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

/// What `stockd migrate` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateCommand {
    /// Apply every pending migration (`stockd serve` also does this at start).
    Up,
    /// List every migration: version, description, applied (and when) or pending.
    Status,
    /// Revert applied migrations newer than a version, newest first.
    Down {
        /// The version to go back to (it stays applied); 0 reverts every migration.
        #[arg(long, value_name = "VERSION")]
        to: i64,
    },
}

/// Options of `stockd symbols`.
#[derive(Debug, Args)]
pub struct SymbolsArgs {
    #[command(subcommand)]
    pub command: SymbolsCommand,
}

/// What `stockd symbols` does.
#[derive(Debug, Clone, Subcommand)]
pub enum SymbolsCommand {
    /// Track symbols (already tracked ones are left as they are).
    Add {
        /// Tickers, e.g. MSFT AAPL BRK.B.
        #[arg(required = true, value_parser = crate::symbols::parse_symbol)]
        symbols: Vec<domain::Symbol>,
    },
    /// Stop tracking symbols (their stored history stays).
    Remove {
        /// Tickers to stop tracking.
        #[arg(required = true, value_parser = crate::symbols::parse_symbol)]
        symbols: Vec<domain::Symbol>,
    },
    /// List the tracked symbols.
    List,
}

/// Options of `stockd mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// A file holding the personal API token (stk_api_…) instead of STOCKD_MCP_TOKEN; never
    /// the token itself as an argument, where `ps` would show it.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// Options of `stockd users`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

/// What `stockd users` does.
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Create an account and print its id. The password comes from stdin (--password-stdin)
    /// or STOCKD_USER_PASSWORD, never from an argument.
    Create {
        /// The account's email (unique, case-insensitive).
        #[arg(long)]
        email: String,
        /// Make the user an admin (may change tracked symbols over HTTP).
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// A display name.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the accounts: id, email, role, created.
    List,
    /// Make a single-use invitation code for invite-only sign-up (`signup = "invite"`) and
    /// print it: the invitee registers with it as `invite`. Only its hash is stored.
    Invite {
        /// Days the code stays valid.
        #[arg(long, default_value_t = service::accounts::DEFAULT_INVITE_DAYS,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(service::accounts::MAX_INVITE_DAYS)))]
        valid_days: u32,
        /// What it is for, e.g. who it goes to.
        #[arg(long)]
        note: Option<String>,
    },
}

/// Options of `stockd import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file; header `symbol,date,open,high,low,close,volume[,adj_close]` (any order,
    /// case-insensitive; `ticker` and `adj close` are accepted too).
    pub file: PathBuf,
    /// Load the valid rows and list the rejected ones (bad values, duplicates, bars of US
    /// listings dated on a day the NYSE was closed), instead of loading nothing when a row is
    /// invalid.
    #[arg(long)]
    pub skip_invalid: bool,
}

/// Options of `stockd archive`.
#[derive(Debug, Clone, Args)]
pub struct ArchiveArgs {
    /// Symbols to archive, comma-separated [default: every symbol with stored bars].
    #[arg(long, value_delimiter = ',', value_parser = crate::symbols::parse_symbol)]
    pub symbols: Vec<domain::Symbol>,
    /// First day whose year is archived (YYYY-MM-DD) [default: the oldest stored].
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day whose year is archived (YYYY-MM-DD) [default: the newest stored].
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
}

/// Options of `stockd ingest`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IngestArgs {
    #[command(subcommand)]
    pub command: Option<IngestCommand>,
    /// Symbols to backfill, comma-separated (default: the tracked symbols).
    #[arg(long, value_delimiter = ',', value_parser = crate::symbols::parse_symbol)]
    pub symbols: Vec<domain::Symbol>,
    /// First day to store, YYYY-MM-DD (a backfill). Without it: the latest closed session.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day to store, YYYY-MM-DD (default: the latest the provider has).
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<chrono::NaiveDate>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// What `stockd ingest` does besides running.
#[derive(Debug, Clone, Subcommand)]
pub enum IngestCommand {
    /// Show the ingestion queue: counts per status and the newest jobs with their last error.
    Status {
        /// Only jobs in this state: queued, running, succeeded or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only jobs of this run, e.g. daily:2026-11-27.
        #[arg(long)]
        group: Option<String>,
        /// At most this many jobs, newest first.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

/// Options of `stockd news`.
#[derive(Debug, Args)]
pub struct NewsArgs {
    #[command(subcommand)]
    pub command: NewsCommand,
}

/// What `stockd news` does.
#[derive(Debug, Clone, Subcommand)]
pub enum NewsCommand {
    /// Run one news ingestion now, in the foreground, through the job queue.
    Ingest {
        /// Symbols, comma-separated (default: the tracked and watched symbols).
        #[arg(long, value_delimiter = ',', value_parser = crate::symbols::parse_symbol)]
        symbols: Vec<domain::Symbol>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
}
