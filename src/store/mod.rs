//! Storage: the only module that knows SQL.
//!
//! One SQL text serves SQLite and PostgreSQL through sqlx's `Any` driver
//! (`$N` placeholders work in both). The places the dialects differ are
//! named: migrations (triggers), the connection settings, and how an
//! append takes its per-estate lock ([`Engine::lock_estate`]).
//!
//! Appending is the only write path for ledger tables, and it happens in
//! one transaction: the entry, its postings, the new tree nodes, the
//! balances and monthly totals, and a freshly signed checkpoint.

mod accounts;
mod append;
mod approver_keys;
mod audit;
mod bundle;
mod expiry;
mod imports;
mod mark;
mod policy_signatures;
mod read;
mod triggers;
mod views;
mod witness;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

use crate::ledger::{EntryError, RuleError, State};
use crate::tlog::TlogError;

pub use accounts::{check_login, Membership, TokenRow, UserRow};
pub use append::{Appended, Draft, Idempotency, MAX_IDEMPOTENCY_KEY};
pub use audit::{AuditFailure, AuditReport, FailureClass};
pub use imports::{ImportRow, PaymentRow, MAX_EXPORT_ROWS};
pub use mark::MarkCheck;
pub use policy_signatures::{PolicySignature, MAX_POLICY_SIGNATURE_ROWS};
pub use read::{CheckpointRow, EstateRow, UnitRow, MAX_ENTRIES_PER_READ};
pub use triggers::GuardProblem;
pub use views::{
    AccountPosting, EntryFilter, EntryRow, MonthlyTotal, MAX_ACCOUNT_ROWS, MAX_PAGE_ROWS,
};

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Everything that can go wrong below the HTTP and CLI layers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The entry breaks a ledger rule; nothing was written.
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A bank reference already recorded (at `seq`); nothing was written.
    #[error("bank reference {reference} is already recorded (entry {seq})")]
    DuplicateBankRef { reference: String, seq: u64 },
    /// An idempotency key reused with a different request.
    #[error("Idempotency-Key {0:?} was already used with a different request")]
    IdempotencyMismatch(String),
    /// The stored log does not match itself, or not what the log key
    /// signed; the estate is frozen.
    #[error("integrity failure: {0}")]
    Integrity(String),
    /// The log key or its mark file could not be read or written; nothing
    /// was signed.
    #[error("log key: {0}")]
    Key(#[from] crate::keys::KeyError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("transparency log: {0}")]
    Tlog(#[from] TlogError),
    #[error("stored entry: {0}")]
    Entry(#[from] EntryError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The replayed state of one estate, cached between appends. `None` until
/// first loaded, and again whenever a failed append may have left it ahead
/// of the database.
type StateSlot = Arc<tokio::sync::Mutex<Option<State>>>;

/// Database handle plus the per-estate state caches.
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    states: Mutex<HashMap<String, StateSlot>>,
    /// Estates whose stored log failed verification: nothing new is signed
    /// and no figure is served.
    frozen: Mutex<HashMap<String, AuditFailure>>,
}

/// The schema, per engine. The append-only guards are read back out of
/// these texts ([`Store::check_guards`]), so the audit checks exactly the
/// triggers the migrations create.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite settings every connection gets, and that `open` reads back: WAL
/// for concurrent readers, FULL sync because this is money, foreign keys on,
/// recursive triggers on (belt and braces for the append-only guards).
const SQLITE_PRAGMAS: [(&str, &str); 4] = [
    ("foreign_keys", "1"),
    ("synchronous", "2"),
    ("recursive_triggers", "1"),
    ("busy_timeout", "10000"),
];

impl Store {
    /// Opens (creating if needed) the SQLite database file and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    for (name, value) in SQLITE_PRAGMAS {
                        conn.execute(format!("PRAGMA {name} = {value}").as_str())
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        // WAL is a property of the file; set once, then checked below.
        sqlx::query("PRAGMA journal_mode = WAL")
            .fetch_all(&pool)
            .await?;
        let store = Store::new(pool, Engine::Sqlite);
        store.check_sqlite_settings().await?;
        SQLITE_MIGRATIONS.run(&store.pool).await?;
        Ok(store)
    }

    /// Connects to PostgreSQL (`postgres://…`) and migrates the database.
    pub async fn open_postgres(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        let store = Store::new(pool, Engine::Postgres);
        POSTGRES_MIGRATIONS.run(&store.pool).await?;
        Ok(store)
    }

    fn new(pool: AnyPool, engine: Engine) -> Store {
        Store {
            pool,
            engine,
            states: Mutex::new(HashMap::new()),
            frozen: Mutex::new(HashMap::new()),
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool, for tests that must reach past the store (tampering tests).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Reads every setting back: a pool that silently lost WAL or foreign
    /// keys would still "work", which is exactly what must not happen.
    async fn check_sqlite_settings(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Integrity(format!(
                "SQLite journal_mode is {mode}, expected wal"
            )));
        }
        for (name, want) in SQLITE_PRAGMAS {
            let got: i64 = sqlx::query(&format!("PRAGMA {name}"))
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            if got.to_string() != want {
                return Err(StoreError::Integrity(format!(
                    "SQLite {name} is {got}, expected {want}"
                )));
            }
        }
        Ok(())
    }

    fn slot(&self, slug: &str) -> StateSlot {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.entry(slug.to_string()).or_default().clone()
    }

    /// Runs `f` on the estate's replayed state, brought up to date with the
    /// database first.
    pub async fn with_state<R>(
        &self,
        slug: &crate::domain::Slug,
        f: impl FnOnce(&State) -> R,
    ) -> Result<R> {
        let slot = self.slot(slug.as_str());
        let mut cached = slot.lock().await;
        let mut conn = self.pool.acquire().await?;
        let mut state = cached.take().unwrap_or_default();
        if let Err(e) = append::catch_up(&mut conn, slug, &mut state).await {
            if let StoreError::Integrity(why) = &e {
                self.freeze(slug.as_str(), why.clone());
            }
            return Err(e);
        }
        let out = f(&state);
        *cached = Some(state);
        Ok(out)
    }

    /// Marks an estate as failing verification: appends and signing stop.
    /// The first failure found is kept: it names the earliest bad entry.
    pub fn freeze(&self, slug: &str, why: String) {
        self.freeze_failure(
            slug,
            AuditFailure {
                seq: None,
                class: FailureClass::Other,
                what: why,
            },
        );
    }

    /// [`Store::freeze`] with what an audit found, so pages can say it in
    /// the reader's language.
    pub fn freeze_failure(&self, slug: &str, failure: AuditFailure) {
        self.frozen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(slug.to_string())
            .or_insert(failure);
    }

    /// What froze an estate, if it is frozen.
    pub fn frozen(&self, slug: &str) -> Option<AuditFailure> {
        self.frozen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(slug)
            .cloned()
    }

    /// Why an estate is frozen, if it is, in English.
    pub fn frozen_reason(&self, slug: &str) -> Option<String> {
        self.frozen(slug).map(|f| f.to_string())
    }
}

/// Converts a count or index to the signed 64-bit integer both engines store.
pub(crate) fn to_db(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::BadRequest(format!("{n} is out of range")))
}

pub(crate) fn from_db(n: i64) -> Result<u64> {
    u64::try_from(n)
        .map_err(|_| StoreError::Integrity(format!("negative value {n} in the database")))
}
