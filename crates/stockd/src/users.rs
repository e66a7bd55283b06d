//! `stockd users`: create accounts from the command line (the first admin, typically), list
//! them, and make invitation codes for invite-only sign-up. The password comes from stdin (`--password-stdin`, first line) or from
//! `STOCKD_USER_PASSWORD`, never from an argument, where it would show in `ps` and the shell
//! history.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal};

use chrono::Utc;
use store::NewUser;

use crate::cli::UsersCommand;
use crate::config::StoreSection;

/// The variable `stockd users create` reads the password from without `--password-stdin`.
pub const PASSWORD_VAR: &str = "STOCKD_USER_PASSWORD";

/// Runs one users command against the configured database; returns the report to print.
pub async fn run(config: &StoreSection, command: UsersCommand) -> Result<String, String> {
    let store = store::open(config.url())
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
            let email = web::routes::accounts::check_new_credentials(
                &email,
                &password,
                display_name.as_deref(),
            )?;
            // argon2 spends tens of milliseconds of CPU: off the async workers.
            let password_hash =
                tokio::task::spawn_blocking(move || web::auth::hash_password_blocking(&password))
                    .await
                    .map_err(|err| format!("the password hashing task failed: {err}"))??;
            let new = NewUser {
                email: email.clone(),
                display_name,
                password_hash,
                is_admin: admin,
            };
            let user = store
                .create_user(&new, Utc::now())
                .await
                .map_err(|err| err.to_string())?
                .ok_or_else(|| format!("an account with the email {email} exists already"))?;
            // The id alone on stdout, so scripts can capture it.
            let _ = writeln!(out, "{}", user.id);
        }
        UsersCommand::List => {
            let users = store.users().await.map_err(|err| err.to_string())?;
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
            let (code, expires_at) =
                web::routes::admin::issue_invite_for_cli(store.as_ref(), valid_days, note).await?;
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
