//! `trustfund user`: accounts for staff, committee members, community
//! observers and platform admins. The first admin is made here; the admin
//! pages make the rest.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::DataArgs;
use crate::auth::Password;
use crate::domain::{MemberId, Slug, Timestamp};
use crate::ledger::Role;

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from TRUSTFUND_PASSWORD, or
    /// else from the first line of standard input (never from a flag, which
    /// would leave it in the shell history and the process list).
    Add {
        /// Login name: 3 to 64 lowercase letters, digits, '.', '-', '_'.
        #[arg(long)]
        login: String,
        /// The person's or organisation's name, as pages show it.
        #[arg(long)]
        name: String,
        /// Platform admin: creates estates, registers units, enrols members.
        #[arg(long)]
        admin: bool,
        /// Give the account a role in this estate (with --role).
        #[arg(long, requires = "role")]
        estate: Option<String>,
        /// company, committee or community.
        #[arg(long, requires = "estate")]
        role: Option<String>,
        /// The ledger member id this person signs as (e.g. c1).
        #[arg(long, requires = "estate")]
        member: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Give an existing account a role in an estate.
    Grant {
        #[arg(long)]
        login: String,
        #[arg(long)]
        estate: String,
        /// company, committee or community.
        #[arg(long)]
        role: String,
        #[arg(long)]
        member: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| format!("--role {s:?}: must be company, committee or community"))
}

fn read_password() -> Result<Password, String> {
    let raw = match std::env::var("TRUSTFUND_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("password: cannot read standard input: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    Password::new_choice(&raw).map_err(|e| format!("password: {e}"))
}

pub async fn run(args: UserArgs) -> Result<ExitCode, String> {
    let data = match &args.command {
        UserCommand::Add { data, .. } | UserCommand::Grant { data, .. } => data.clone(),
    };
    let store = data.open().await?;
    let now = Timestamp::now().map_err(|e| e.to_string())?;
    let grant = |login: String, estate: String, role: String, member: Option<String>| {
        let store = &store;
        async move {
            let slug = Slug::parse("--estate", &estate).map_err(|e| e.to_string())?;
            if store
                .estate(&slug)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("--estate {estate}: no such estate"));
            }
            let role = parse_role(&role)?;
            let member = member
                .map(|m| MemberId::parse("--member", &m).map_err(|e| e.to_string()))
                .transpose()?;
            let (user, _) = store
                .user_credentials(&login)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("--login {login}: no such account"))?;
            store
                .grant(user.id, &slug, role, member.as_ref().map(|m| m.as_str()))
                .await
                .map_err(|e| e.to_string())
        }
    };
    match args.command {
        UserCommand::Add {
            login,
            name,
            admin,
            estate,
            role,
            member,
            ..
        } => {
            crate::store::check_login(&login).map_err(|e| format!("--login: {e}"))?;
            crate::domain::Name::parse("--name", &name).map_err(|e| e.to_string())?;
            let password = read_password()?;
            store
                .create_user(&login, &name, &password.hash(), admin, now)
                .await
                .map_err(|e| format!("--login {login}: {e}"))?;
            if let (Some(estate), Some(role)) = (estate, role) {
                grant(login.clone(), estate, role, member).await?;
            }
            println!(
                "account {login} created{}",
                if admin { " (platform admin)" } else { "" }
            );
        }
        UserCommand::Grant {
            login,
            estate,
            role,
            member,
            ..
        } => {
            grant(login.clone(), estate.clone(), role.clone(), member).await?;
            println!("{login} is now {role} of {estate}");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
