//! Log signing keys kept in the data directory, one per estate, each with
//! the mark of the last checkpoint it signed beside it ([`mark`]).
//!
//! Each key file holds the 32-byte Ed25519 seed of an estate's log key,
//! created with mode 0600. Approvers' keys are not here: they belong to
//! people.

pub mod mark;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::domain::Slug;
use crate::tlog::note::{Signer, VerifierKey, ALG_ED25519};

pub use mark::{MarkGuard, Marked};

/// First line of a log key file; names the format so it can change.
const HEADER: &str = "trustfund-log-key/v1";

/// Errors reading or writing key files.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {message}")]
    File { path: String, message: String },
}

/// The directory of log keys.
#[derive(Clone, Debug)]
pub struct Keyring {
    dir: PathBuf,
}

impl Keyring {
    pub fn new(data_dir: &Path) -> Keyring {
        Keyring {
            dir: data_dir.join("keys"),
        }
    }

    /// The data directory the keys live under.
    pub fn data_dir(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    fn path(&self, slug: &Slug) -> PathBuf {
        self.dir.join(format!("{slug}.log.key"))
    }

    /// Loads the estate's log key, with its mark.
    pub fn load(&self, slug: &Slug, origin: &str) -> Result<LogKey, KeyError> {
        Ok(self.with_signer(slug, self.load_signer(slug, origin)?))
    }

    /// A log key whose seed the caller already holds (the demo loader,
    /// tests), with its mark kept in this keyring like a loaded key's.
    pub fn with_signer(&self, slug: &Slug, signer: Signer) -> LogKey {
        LogKey {
            mark: self.dir.join(format!("{slug}.log.mark")),
            signer,
        }
    }

    fn load_signer(&self, slug: &Slug, origin: &str) -> Result<Signer, KeyError> {
        let path = self.path(slug);
        let bad = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let text = fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad(format!("first line must be {HEADER}")));
        }
        let seed = lines
            .next()
            .ok_or_else(|| bad("missing seed line".into()))?;
        let seed = B64
            .decode(seed)
            .map_err(|_| bad("seed is not base64".into()))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| bad("seed must be 32 bytes".into()))?;
        Signer::from_seed(origin, ALG_ED25519, &seed).map_err(|e| bad(e.to_string()))
    }

    /// Writes a new estate's log key seed; refuses to overwrite one, since
    /// losing a log key means the estate can never sign again.
    pub fn create(&self, slug: &Slug, seed: &[u8; 32]) -> Result<(), KeyError> {
        let path = self.path(slug);
        let bad = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        fs::create_dir_all(&self.dir).map_err(|e| bad(e.to_string()))?;
        // A mark without its key belongs to a key that was lost or moved:
        // a new key must not inherit (or silently replace) its memory.
        let mark = self.dir.join(format!("{slug}.log.mark"));
        if mark.exists() {
            return Err(bad(format!(
                "{} exists: a log key signed for this estate before",
                mark.display()
            )));
        }
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path).map_err(|e| bad(e.to_string()))?;
        writeln!(f, "{HEADER}\n{}", B64.encode(seed)).map_err(|e| bad(e.to_string()))?;
        f.sync_all().map_err(|e| bad(e.to_string()))
    }
}

/// An estate's log key and the file that remembers what it signed. The
/// store signs checkpoints only through this, so every signature is checked
/// against, and recorded in, the key's own mark first.
#[derive(Debug)]
pub struct LogKey {
    signer: Signer,
    mark: PathBuf,
}

impl LogKey {
    /// The key itself, for what is not a checkpoint of this log (tests
    /// that forge notes, receipts' verifier keys).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    pub fn verifier_key(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    /// Locks the mark for one signing or check; blocks while another
    /// process signs for the same estate.
    pub async fn lock_mark(&self) -> Result<MarkGuard, KeyError> {
        if let Some(dir) = self.mark.parent() {
            fs::create_dir_all(dir).map_err(|e| KeyError::File {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
        }
        MarkGuard::open(self.mark.clone(), self.signer.name()).await
    }
}
