//! Evidence files (invoices, photos, contracts), stored content-addressed
//! by SHA-256 under `<data-dir>/evidence/`. An entry carries the hash, so a
//! file cannot be swapped later: the name is the content.
//!
//! Only a few file types are taken, recognised by their first bytes (never
//! by the name or the browser's claim), and each has a size limit.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ring::digest::{digest, SHA256};

use crate::tlog::Hash;

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// The file types evidence may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Webp,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Webp => "image/webp",
        }
    }

    /// Recognises a file by its signature bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Kind> {
        if bytes.starts_with(b"%PDF-") {
            Some(Kind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Kind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Kind::Webp)
        } else {
            None
        }
    }
}

/// Why a file was not taken.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MB", MAX_EVIDENCE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("only PDF, PNG, JPEG and WebP files are accepted")]
    Type,
    #[error("storing the file failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The evidence directory.
#[derive(Clone, Debug)]
pub struct EvidenceStore {
    dir: PathBuf,
}

impl EvidenceStore {
    pub fn new(data_dir: &Path) -> EvidenceStore {
        EvidenceStore {
            dir: data_dir.join("evidence"),
        }
    }

    fn path(&self, hash: &Hash) -> PathBuf {
        let hex = hash.to_hex();
        self.dir.join(&hex[..2]).join(hex)
    }

    /// Checks a file and stores it under its SHA-256 (storing the same file
    /// twice is harmless). Returns the hash and the recognised type.
    pub fn put(&self, bytes: &[u8]) -> Result<(Hash, Kind), EvidenceError> {
        if bytes.is_empty() {
            return Err(EvidenceError::Empty);
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(EvidenceError::TooLarge);
        }
        let kind = Kind::sniff(bytes).ok_or(EvidenceError::Type)?;
        let mut h = [0u8; 32];
        h.copy_from_slice(digest(&SHA256, bytes).as_ref());
        let hash = Hash(h);
        let path = self.path(&hash);
        if path.exists() {
            return Ok((hash, kind));
        }
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent)?;
        // Write aside, then rename: a reader never sees half a file.
        let tmp = parent.join(format!(".{}.tmp-{}", hash.to_hex(), std::process::id()));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        Ok((hash, kind))
    }

    /// The stored file and its type; `None` if there is none by that hash.
    /// The content is re-hashed, so a file edited on disk is not served.
    pub fn get(&self, hash: &Hash) -> Option<(Vec<u8>, Kind)> {
        let bytes = fs::read(self.path(hash)).ok()?;
        if digest(&SHA256, &bytes).as_ref() != hash.0.as_slice() {
            tracing::error!(hash = %hash.to_hex(), "evidence file does not match its hash");
            return None;
        }
        let kind = Kind::sniff(&bytes)?;
        Some((bytes, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_content_and_refuses_other_types() {
        let dir = tempfile::tempdir().unwrap();
        let ev = EvidenceStore::new(dir.path());
        let pdf = b"%PDF-1.4\n% invoice\n".to_vec();
        let (hash, kind) = ev.put(&pdf).unwrap();
        assert_eq!(kind, Kind::Pdf);
        assert_eq!(hash.0.as_slice(), digest(&SHA256, &pdf).as_ref());
        assert_eq!(ev.get(&hash).map(|(b, _)| b), Some(pdf.clone()));
        assert_eq!(ev.put(&pdf).unwrap().0, hash, "same file, same name");
        assert!(matches!(ev.put(b"MZ\x90\x00"), Err(EvidenceError::Type)));
        assert!(matches!(
            ev.put(b"<svg onload=alert(1)>"),
            Err(EvidenceError::Type)
        ));
        assert!(matches!(ev.put(b""), Err(EvidenceError::Empty)));
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_EVIDENCE_BYTES + 1, b' ');
        assert!(matches!(ev.put(&big), Err(EvidenceError::TooLarge)));
        // A file changed on disk is not served under its old name.
        fs::write(ev.path(&hash), b"%PDF-1.4\n% swapped\n").unwrap();
        assert!(ev.get(&hash).is_none());
    }
}
