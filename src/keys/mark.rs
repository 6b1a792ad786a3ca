//! The log key's own memory of what it signed: a mark file beside the key.
//!
//! The database is not trusted to remember what the log key signed: whoever
//! can edit it could truncate the log and let the server sign a shorter or
//! different history. So the last checkpoint the key released is kept in a
//! file next to the key (`keys/<slug>.log.mark`), written and fsynced
//! *before* a new signature can leave the process, and the store signs only
//! a tree that extends it (C2SP tlog-checkpoint, "Signatures": a log must
//! never sign two views of history).
//!
//! A signing goes through two states so that a transaction that fails after
//! the signature was made does not wedge the estate:
//!
//! 1. `pending`: the new checkpoint is written before the append's
//!    transaction commits (the only way a signature is released is the
//!    commit, which makes the checkpoint row visible);
//! 2. `signed`: after the commit, the pending checkpoint becomes the mark.
//!
//! A pending checkpoint left by a crash is settled at the next signing or
//! start: if the database holds exactly that checkpoint, the commit happened
//! and it becomes the mark; if not, the signature never left and is dropped.
//!
//! The file is JSON, replaced atomically (write, fsync, rename, fsync the
//! directory); an exclusive lock on `<slug>.log.lock` serialises signers
//! across processes that share the data directory.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::KeyError;
use crate::tlog::Hash;

/// `format` member of every mark file.
const FORMAT: &str = "trustfund-log-mark/v1";

/// How long a signer waits for another to finish with the mark.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest mark file read (a checkpoint note is a few hundred bytes).
const MAX_MARK_BYTES: u64 = 64 * 1024;

/// One checkpoint the log key signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marked {
    pub tree_size: u64,
    pub root: Hash,
    /// The signed note as the key signed it (evidence, if the database
    /// later shows something else).
    pub note: String,
}

#[derive(Serialize, Deserialize)]
struct MarkedFile {
    tree_size: u64,
    root: String,
    note: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkFile {
    format: String,
    origin: String,
    signed: Option<MarkedFile>,
    pending: Option<MarkedFile>,
}

impl Marked {
    fn to_file(&self) -> MarkedFile {
        MarkedFile {
            tree_size: self.tree_size,
            root: B64.encode(self.root.0),
            note: self.note.clone(),
        }
    }

    fn from_file(f: MarkedFile) -> Result<Marked, String> {
        let root = B64
            .decode(&f.root)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or("root is not a base64 SHA-256 hash")?;
        Ok(Marked {
            tree_size: f.tree_size,
            root: Hash(root),
            note: f.note,
        })
    }
}

/// The mark of one estate's log key, locked for one signing (or check).
/// Dropping it releases the lock.
#[derive(Debug)]
pub struct MarkGuard {
    path: PathBuf,
    origin: String,
    /// Held for the guard's life: the exclusive lock.
    _lock: File,
    /// False when no mark file existed yet (a key that has never signed
    /// through a mark, e.g. a data directory from before marks existed).
    existed: bool,
    signed: Option<Marked>,
    pending: Option<Marked>,
}

impl MarkGuard {
    /// Locks and reads the mark at `path` (creating nothing yet).
    pub(super) async fn open(path: PathBuf, origin: &str) -> Result<MarkGuard, KeyError> {
        let bad = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let lock_path = path.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| bad(format!("cannot open the lock file: {e}")))?;
        // Never block the thread: another signer may be a task on this
        // very runtime, holding the lock across its commit.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(bad(format!(
                        "another signer held the mark's lock for more than {} s",
                        LOCK_WAIT.as_secs()
                    )))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(bad(format!("cannot lock the mark: {e}")))
                }
            }
        }
        let mut guard = MarkGuard {
            path: path.clone(),
            origin: origin.to_string(),
            _lock: lock,
            existed: false,
            signed: None,
            pending: None,
        };
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(guard),
            Err(e) => return Err(bad(e.to_string())),
        };
        if meta.len() > MAX_MARK_BYTES {
            return Err(bad(format!("larger than {MAX_MARK_BYTES} bytes")));
        }
        let text = fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let file: MarkFile =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a log mark: {e}")))?;
        if file.format != FORMAT {
            return Err(bad(format!("format must be {FORMAT}")));
        }
        if file.origin != origin {
            return Err(bad(format!(
                "the mark is for log {}, not {origin}",
                file.origin
            )));
        }
        guard.existed = true;
        guard.signed = file
            .signed
            .map(Marked::from_file)
            .transpose()
            .map_err(bad)?;
        guard.pending = file
            .pending
            .map(Marked::from_file)
            .transpose()
            .map_err(bad)?;
        Ok(guard)
    }

    /// Whether a mark file existed when the guard was opened.
    pub fn existed(&self) -> bool {
        self.existed
    }

    /// The last checkpoint the key released.
    pub fn signed(&self) -> Option<&Marked> {
        self.signed.as_ref()
    }

    /// A checkpoint signed but not known to be released (its append had not
    /// confirmed it when the process stopped).
    pub fn pending(&self) -> Option<&Marked> {
        self.pending.as_ref()
    }

    /// Settles a pending checkpoint: `released` says whether the database
    /// holds it (its transaction committed).
    pub fn settle(&mut self, released: bool) -> Result<(), KeyError> {
        if let Some(p) = self.pending.take() {
            if released {
                self.signed = Some(p);
            }
            self.write()?;
        }
        Ok(())
    }

    /// Takes `cp` as the mark: for a key's first mark, or a database that
    /// is ahead of the mark along a consistent history (checked by the
    /// caller).
    pub fn adopt(&mut self, cp: Marked) -> Result<(), KeyError> {
        self.signed = Some(cp);
        self.write()
    }

    /// Records `cp` as pending, durably, before its signature is released.
    pub fn reserve(&mut self, cp: Marked) -> Result<(), KeyError> {
        self.pending = Some(cp);
        self.write()
    }

    /// The reserved checkpoint was released (its append committed).
    pub fn confirm(&mut self) -> Result<(), KeyError> {
        self.settle(true)
    }

    fn write(&mut self) -> Result<(), KeyError> {
        let bad = |message: String| KeyError::File {
            path: self.path.display().to_string(),
            message,
        };
        let file = MarkFile {
            format: FORMAT.into(),
            origin: self.origin.clone(),
            signed: self.signed.as_ref().map(Marked::to_file),
            pending: self.pending.as_ref().map(Marked::to_file),
        };
        let text = serde_json::to_string_pretty(&file).map_err(|e| bad(e.to_string()))?;
        let tmp = self.path.with_extension("mark.tmp");
        write_synced(&tmp, text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        fs::rename(&tmp, &self.path).map_err(|e| bad(e.to_string()))?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir).map_err(|e| bad(e.to_string()))?;
        }
        self.existed = true;
        Ok(())
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(size: u64) -> Marked {
        Marked {
            tree_size: size,
            root: crate::tlog::record_hash(&size.to_be_bytes()),
            note: format!("note {size}\n"),
        }
    }

    #[tokio::test]
    async fn reserve_confirm_and_settle_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.log.mark");
        let mut g = MarkGuard::open(path.clone(), "o").await.unwrap();
        assert!(!g.existed());
        g.reserve(marked(3)).unwrap();
        drop(g);
        // A crash after reserve: the pending checkpoint is still there.
        let mut g = MarkGuard::open(path.clone(), "o").await.unwrap();
        assert!(g.existed());
        assert_eq!(g.signed(), None);
        assert_eq!(g.pending(), Some(&marked(3)));
        g.settle(false).unwrap();
        assert_eq!((g.signed(), g.pending()), (None, None));
        g.reserve(marked(4)).unwrap();
        g.confirm().unwrap();
        drop(g);
        let g = MarkGuard::open(path.clone(), "o").await.unwrap();
        assert_eq!(g.signed(), Some(&marked(4)));
        assert_eq!(g.pending(), None);
        drop(g);
        // A mark is for one log only.
        assert!(MarkGuard::open(path, "other").await.is_err());
    }

    #[tokio::test]
    async fn a_damaged_mark_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.log.mark");
        fs::write(&path, "{}").unwrap();
        assert!(MarkGuard::open(path.clone(), "o").await.is_err());
        fs::write(&path, "").unwrap();
        assert!(MarkGuard::open(path, "o").await.is_err());
    }
}
