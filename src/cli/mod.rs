//! Command line: one module per subcommand.

mod audit;
mod expire;
mod export;
mod keygen;
mod receipt;
mod serve;
mod sign;
mod user;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::Database;
use crate::store::Store;

/// trustfund — a transparent, verifiable trust fund for residential estates
/// (信托制物业). Every fee, income and payment goes into an append-only,
/// hash-chained ledger that owners can verify on their own computers.
#[derive(Debug, Parser)]
#[command(name = "trustfund", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web service (owners' pages, JSON API, public log endpoints).
    Serve(serve::ServeArgs),
    /// Re-verify every estate's chain, tree, checkpoints and balances from
    /// storage; exits non-zero naming the first bad seq.
    Audit(audit::AuditArgs),
    /// Verify a bundle (or a server's latest checkpoint) offline: signatures,
    /// chain, root, ledger rules, statements, and remembered checkpoints.
    Verify(verify::VerifyArgs),
    /// Write a bundle: a month's statement or the whole log, from genesis.
    Export(export::ExportArgs),
    /// Close a month: append its statement, checked by the ledger.
    CloseMonth(export::CloseMonthArgs),
    /// Check a payment receipt offline: the entry, its inclusion proof and
    /// the signed checkpoint; exits 1 naming what is wrong.
    VerifyReceipt(receipt::VerifyReceiptArgs),
    /// Create staff, committee and admin accounts, and give them roles.
    User(user::UserArgs),
    /// Make an approver key file: an Ed25519 key sealed under a passphrase;
    /// prints the vkey to enrol.
    Keygen(keygen::KeygenArgs),
    /// Sign an approval or rejection of a claim with an approver key file;
    /// shows the claim and the exact message first.
    Sign(sign::SignArgs),
    /// Close every pending claim whose approval window has passed (one
    /// `claim_expired` entry each); `serve` also does this every 5 minutes.
    ExpireClaims(expire::ExpireArgs),
}

/// Where data lives; shared by every subcommand that opens the database.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Directory for the SQLite file, log keys and evidence files.
    #[arg(long, env = "TRUSTFUND_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Use PostgreSQL instead of embedded SQLite (postgres://user@host/db).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DataArgs {
    /// Opens (creating when needed) the data directory and the database.
    pub async fn open(&self) -> Result<Store, String> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            format!(
                "--data-dir {}: cannot create it: {e}",
                self.data_dir.display()
            )
        })?;
        let db = Database::select(&self.data_dir, self.database_url.as_deref())?;
        tracing::info!(database = ?db, "opening database");
        let store = match &db {
            Database::Sqlite(path) => Store::open_sqlite(path).await,
            Database::Postgres(url) => Store::open_postgres(url).await,
        };
        store.map_err(|e| format!("database {db:?}: {e}"))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Cli {
    pub async fn run(self) -> ExitCode {
        let result = match self.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Audit(args) => audit::run(args).await,
            Command::Verify(args) => verify::run(args).await,
            Command::Export(args) => export::export(args).await,
            Command::CloseMonth(args) => export::close_month(args).await,
            Command::VerifyReceipt(args) => receipt::run(args),
            Command::User(args) => user::run(args).await,
            Command::Keygen(args) => keygen::run(args),
            Command::Sign(args) => sign::run(args).await,
            Command::ExpireClaims(args) => expire::run(args).await,
        };
        match result {
            Ok(code) => code,
            Err(message) => {
                eprintln!("trustfund: {message}");
                ExitCode::from(2)
            }
        }
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default level.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
