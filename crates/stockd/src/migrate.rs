//! `stockd migrate`: apply, list or revert the schema migrations of the configured database,
//! without starting the server.

use std::fmt::Write as _;

use store::{Database, MigrationStatus, StoreError};

use crate::cli::MigrateCommand;
use crate::config::StoreSection;

/// Runs one migrate command against the configured database; returns the report to print.
pub async fn run(config: &StoreSection, command: MigrateCommand) -> Result<String, StoreError> {
    let database = Database::connect(config.url()).await?;
    let mut out = format!(
        "database: {} ({})\n",
        config.redacted_url(),
        database.backend()
    );
    match command {
        MigrateCommand::Status => {
            let status = database.migration_status().await?;
            let pending = status.iter().filter(|m| !m.is_applied()).count();
            out.push_str(&table(&status));
            let _ = writeln!(
                out,
                "{} applied, {pending} pending{}",
                status.len() - pending,
                if pending > 0 {
                    " (`stockd migrate up` applies them)"
                } else {
                    ""
                }
            );
        }
        MigrateCommand::Up => {
            let applied = database.migrate_up().await?;
            if applied.is_empty() {
                out.push_str("nothing to apply: the schema is up to date\n");
            }
            for m in &applied {
                let _ = writeln!(out, "applied  {}  {}", m.version, m.description);
            }
        }
        MigrateCommand::Down { to } => {
            let reverted = database.migrate_down(to).await?;
            if reverted.is_empty() {
                let _ = writeln!(
                    out,
                    "nothing to revert: no migration newer than {to} is applied"
                );
            }
            for m in &reverted {
                let _ = writeln!(out, "reverted {}  {}", m.version, m.description);
            }
        }
    }
    Ok(out)
}

/// The status as an aligned table.
fn table(status: &[MigrationStatus]) -> String {
    let width = status
        .iter()
        .map(|m| m.description.len())
        .chain([11])
        .max()
        .unwrap_or(11);
    let mut out = format!(
        "{:<14}  {:<width$}  {:<7}  APPLIED AT\n",
        "VERSION", "DESCRIPTION", "STATUS"
    );
    for m in status {
        let (state, at) = match m.applied_at {
            Some(at) => ("applied", at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            None => ("pending", String::new()),
        };
        let _ = writeln!(
            out,
            "{:<14}  {:<width$}  {state:<7}  {at}",
            m.version, m.description
        );
    }
    out
}
