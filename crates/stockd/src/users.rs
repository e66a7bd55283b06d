//! `stockd users`: create accounts from the command line (the first admin, typically), list
//! them, and make invitation codes for invite-only sign-up. The password comes from stdin (`--password-stdin`, first line) or from
//! `STOCKD_USER_PASSWORD`, never from an argument, where it would show in `ps` and the shell
//! history.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};

use service::ServiceError;
use service::accounts::NewAccount;

use crate::cli::UsersCommand;
use crate::config::StoreSection;

/// The variable `stockd users create` reads the password from without `--password-stdin`.
pub const PASSWORD_VAR: &str = "STOCKD_USER_PASSWORD";

/// Runs one users command against the configured database; returns the report to print.
pub async fn run(config: &StoreSection, command: UsersCommand) -> Result<String, String> {
    let service = crate::app::store_service(config)
        .await
        .map_err(|err| err.to_string())?;
    let mut out = String::new();
    match command {
        UsersCommand::Create {
            email,
            admin,
            password_stdin,
            display_name,
        } => {
            let password = read_password(password_stdin)?;
            let account = NewAccount::parse(&email, password, display_name, admin)
                .map_err(|err| err.to_string())?;
            let email = account.email.clone();
            // The strength check and argon2 (default cost) run off the async workers.
            let user =
                service
                    .create_account(account, None, || ())
                    .await
                    .map_err(|err| match err {
                        ServiceError::Conflict(_) => {
                            format!("an account with the email {email} exists already")
                        }
                        other => other.to_string(),
                    })?;
            // The id alone on stdout, so scripts can capture it.
            let _ = writeln!(out, "{}", user.id);
        }
        UsersCommand::List => {
            let users = service.users().await.map_err(|err| err.to_string())?;
            if users.is_empty() {
                out.push_str("no users (`stockd users create --email … --admin` adds one)\n");
            }
            for user in users {
                let _ = writeln!(
                    out,
                    "{}  {:<32} {:<5}  since {}",
                    user.id,
                    user.email,
                    if user.is_admin { "admin" } else { "user" },
                    user.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        UsersCommand::Invite { valid_days, note } => {
            let (code, invite) = service
                .issue_invite(Some(valid_days), note, None)
                .await
                .map_err(|err| err.to_string())?;
            let expires_at = invite.expires_at;
            // The code alone on stdout, so scripts can capture it; when it expires on stderr.
            let _ = writeln!(out, "{code}");
            eprintln!(
                "valid until {} (single use; register with it as `invite`)",
                expires_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    Ok(out)
}

fn read_password(from_stdin: bool) -> Result<String, String> {
    if from_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(
                "--password-stdin reads a piped password (e.g. `printf %s \"$PW\" | stockd users create …`); it would echo on a terminal".into(),
            );
        }
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|err| format!("could not read the password from stdin: {err}"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    std::env::var(PASSWORD_VAR).map_err(|_| {
        format!("give the password with --password-stdin (piped) or in {PASSWORD_VAR}")
    })
}
