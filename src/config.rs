//! Where the service keeps its data and which database it talks to.

use std::fmt;
use std::path::{Path, PathBuf};

/// The database selected by `DATABASE_URL`, or the embedded SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// `<data-dir>/trustfund.sqlite3`, created on first run.
    Sqlite(PathBuf),
    /// A `postgres://` URL; may carry a password, so never printed whole.
    Postgres(String),
}

impl Database {
    /// `DATABASE_URL` wins when set; otherwise SQLite in the data directory.
    pub fn select(data_dir: &Path, database_url: Option<&str>) -> Result<Database, String> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Database::Sqlite(data_dir.join("trustfund.sqlite3"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Database::Postgres(url.to_string()))
            }
            Some(_) => Err(
                "DATABASE_URL must start with postgres:// (leave it unset for embedded SQLite)"
                    .into(),
            ),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
            Database::Postgres(url) => write!(f, "Postgres({})", redact_url(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    match rest.split_once('@') {
        Some((creds, host)) => {
            let user = creds.split(':').next().unwrap_or("");
            if creds.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let db = Database::select(Path::new("d"), Some("postgres://u:hunter2@h:5432/x")).unwrap();
        let shown = format!("{db:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("u:***@h:5432/x"));
    }

    #[test]
    fn sqlite_by_default_and_junk_refused() {
        assert_eq!(
            Database::select(Path::new("d"), None).unwrap(),
            Database::Sqlite(PathBuf::from("d/trustfund.sqlite3"))
        );
        assert_eq!(
            Database::select(Path::new("d"), Some("  ")).unwrap(),
            Database::Sqlite(PathBuf::from("d/trustfund.sqlite3"))
        );
        assert!(Database::select(Path::new("d"), Some("mysql://x")).is_err());
    }
}
