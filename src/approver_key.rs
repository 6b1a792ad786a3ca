//! Approver key files (`docs/FORMAT.md` §22): a company signatory's or
//! committee member's Ed25519 seed, sealed with AES-256-GCM under a key
//! that Argon2id (RFC 9106) derives from the approver's passphrase.
//!
//! Pure apart from drawing randomness. The file is text so it can be
//! printed, mailed or kept on a USB stick; the first four lines are the
//! AEAD's associated data, so a file whose name, vkey or KDF parameters
//! were swapped does not open.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};

use crate::tlog::note::{is_valid_name, Signer, VerifierKey, ALG_COSIGNATURE_V1};

/// First line of every key file; a new layout means a new version here.
pub const HEADER: &str = "trustfund-approver-key/v1";
/// Argon2id memory cost of new files, in KiB (64 MiB), and the least a
/// file may ask for: less would make a stolen file cheap to brute-force.
pub const KDF_MIN_M_KIB: u32 = 65_536;
/// The most memory a file may make the CLI spend (1 GiB).
pub const KDF_MAX_M_KIB: u32 = 1_048_576;
/// Argon2id passes of new files, and the least a file may ask for.
pub const KDF_MIN_T: u32 = 3;
/// The most passes a file may ask for, so opening one never takes minutes.
pub const KDF_MAX_T: u32 = 10;
/// Lanes: new files use 1; a file may ask for up to 4.
pub const KDF_MAX_P: u32 = 4;
/// Shortest passphrase someone may choose for a new key.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// Longest passphrase accepted, new or typed to unlock.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// Largest key file parsed; a real one is under 400 bytes.
pub const MAX_KEY_FILE_BYTES: usize = 4096;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const SEED_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// A passphrase as typed: never printed, never stored, never sent to the
/// store.
pub struct Passphrase(String);

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        wipe(&mut bytes);
    }
}

impl Passphrase {
    /// A passphrase someone is choosing for a new key file.
    pub fn new_choice(s: &str) -> Result<Passphrase, KeyFileError> {
        let p = Passphrase::attempt(s)?;
        if s.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeyFileError::PassphraseTooShort);
        }
        Ok(p)
    }

    /// A passphrase typed to unlock an existing file; only the length bound
    /// applies.
    pub fn attempt(s: &str) -> Result<Passphrase, KeyFileError> {
        if s.len() > MAX_PASSPHRASE_BYTES {
            return Err(KeyFileError::PassphraseTooLong);
        }
        Ok(Passphrase(s.to_string()))
    }
}

/// Why a key file was refused or did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("key file line {line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("key file kdf: {0}")]
    Kdf(String),
    /// The AEAD tag did not verify. A wrong passphrase and a damaged file
    /// look the same on purpose: telling them apart would need a check
    /// value that helps an attacker as much as the owner.
    #[error("wrong passphrase or damaged key file")]
    Unlock,
    #[error("key file: the sealed seed does not match the vkey line")]
    KeyMismatch,
    #[error("key name {0:?} must be 1 to 255 bytes without spaces, control characters or '+'")]
    BadName(String),
    #[error("passphrase must be at least {MIN_PASSPHRASE_CHARS} characters")]
    PassphraseTooShort,
    #[error("passphrase must be at most {MAX_PASSPHRASE_BYTES} bytes")]
    PassphraseTooLong,
    #[error("the system random number generator failed")]
    Rng,
}

/// Argon2id cost parameters, as the `kdf` line carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kdf {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Kdf {
    /// What new files use: RFC 9106's second recommended option, 64 MiB.
    pub const DEFAULT: Kdf = Kdf {
        m_kib: KDF_MIN_M_KIB,
        t: KDF_MIN_T,
        p: 1,
    };

    fn check(self) -> Result<Kdf, KeyFileError> {
        if !(KDF_MIN_M_KIB..=KDF_MAX_M_KIB).contains(&self.m_kib) {
            return Err(KeyFileError::Kdf(format!(
                "m={} must be between {KDF_MIN_M_KIB} and {KDF_MAX_M_KIB} KiB",
                self.m_kib
            )));
        }
        if !(KDF_MIN_T..=KDF_MAX_T).contains(&self.t) {
            return Err(KeyFileError::Kdf(format!(
                "t={} must be between {KDF_MIN_T} and {KDF_MAX_T}",
                self.t
            )));
        }
        if !(1..=KDF_MAX_P).contains(&self.p) {
            return Err(KeyFileError::Kdf(format!(
                "p={} must be between 1 and {KDF_MAX_P}",
                self.p
            )));
        }
        Ok(self)
    }

    fn format(self) -> String {
        format!("argon2id m={} t={} p={}", self.m_kib, self.t, self.p)
    }

    /// `argon2id m=<u32> t=<u32> p=<u32>`, decimal without leading zeros.
    fn parse(s: &str) -> Result<Kdf, KeyFileError> {
        let bad = || {
            KeyFileError::Kdf(format!(
                "want \"argon2id m=<KiB> t=<passes> p=<lanes>\", got {s:?}"
            ))
        };
        let mut words = s.split(' ');
        let (alg, m, t, p) = match (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) {
            (Some(a), Some(m), Some(t), Some(p), None) => (a, m, t, p),
            _ => return Err(bad()),
        };
        let num = |w: &str, key: &str| -> Result<u32, KeyFileError> {
            let digits = w.strip_prefix(key).ok_or_else(bad)?;
            let canonical = !digits.is_empty()
                && digits.len() <= 10
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            if !canonical {
                return Err(bad());
            }
            digits.parse().map_err(|_| bad())
        };
        if alg != "argon2id" {
            return Err(bad());
        }
        Kdf {
            m_kib: num(m, "m=")?,
            t: num(t, "t=")?,
            p: num(p, "p=")?,
        }
        .check()
    }

    /// The 32-byte AES key. The caller wipes it.
    fn derive(self, pass: &Passphrase, salt: &[u8; SALT_LEN]) -> Result<[u8; 32], KeyFileError> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|e| KeyFileError::Kdf(e.to_string()))?;
        let mut key = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(pass.0.as_bytes(), salt, &mut key)
            .map_err(|e| KeyFileError::Kdf(e.to_string()))?;
        Ok(key)
    }
}

/// Overwrites secret bytes before their buffer is dropped; `black_box`
/// keeps the compiler from discarding the writes as dead. Best effort, with
/// no `unsafe`: copies the optimiser made earlier are out of reach.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(&*buf);
}

/// A parsed key file. Holding one reveals nothing: the seed is sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    name: String,
    vkey: String,
    kdf: Kdf,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    /// AES-256-GCM ciphertext of the seed followed by the 16-byte tag.
    sealed: Vec<u8>,
}

impl KeyFile {
    /// A new approver key: a random seed, salt and nonce, sealed with
    /// [`Kdf::DEFAULT`]. Returns the signer too, so the caller can print
    /// its vkey without unlocking the file again.
    pub fn generate(name: &str, pass: &Passphrase) -> Result<(KeyFile, Signer), KeyFileError> {
        let rng = SystemRandom::new();
        let mut seed = [0u8; SEED_LEN];
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        let filled = rng
            .fill(&mut seed)
            .and_then(|_| rng.fill(&mut salt))
            .and_then(|_| rng.fill(&mut nonce));
        let out = match filled {
            Ok(()) => KeyFile::seal(name, &seed, pass, Kdf::DEFAULT, salt, nonce),
            Err(_) => Err(KeyFileError::Rng),
        };
        wipe(&mut seed);
        out
    }

    /// Seals a given seed with a given salt and nonce. Deterministic, for
    /// known-answer vectors; real keys come from [`KeyFile::generate`],
    /// since reusing a nonce under one passphrase and salt leaks the seed.
    pub fn seal(
        name: &str,
        seed: &[u8; SEED_LEN],
        pass: &Passphrase,
        kdf: Kdf,
        salt: [u8; SALT_LEN],
        nonce: [u8; NONCE_LEN],
    ) -> Result<(KeyFile, Signer), KeyFileError> {
        if !is_valid_name(name) {
            return Err(KeyFileError::BadName(name.to_string()));
        }
        let kdf = kdf.check()?;
        let signer = Signer::from_seed(name, ALG_COSIGNATURE_V1, seed)
            .map_err(|_| KeyFileError::BadName(name.to_string()))?;
        let vkey = signer.verifier_key().format();
        let mut file = KeyFile {
            name: name.to_string(),
            vkey,
            kdf,
            salt,
            nonce,
            sealed: Vec::new(),
        };
        let mut key = kdf.derive(pass, &salt)?;
        let mut in_out = Vec::with_capacity(SEED_LEN + TAG_LEN);
        in_out.extend_from_slice(seed);
        let sealed = aead_key(&key).seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(file.aad().as_bytes()),
            &mut in_out,
        );
        wipe(&mut key);
        sealed.map_err(|_| KeyFileError::Unlock)?;
        file.sealed = in_out;
        Ok((file, signer))
    }

    /// Parses a key file strictly: exactly seven LF-terminated lines in
    /// order, canonical base64 of the stated lengths, KDF costs in bounds,
    /// and a cosignature/v1 vkey whose name is the `name` line.
    pub fn parse(text: &str) -> Result<KeyFile, KeyFileError> {
        let bad = |line: usize, message: &str| KeyFileError::Malformed {
            line,
            message: message.to_string(),
        };
        if text.len() > MAX_KEY_FILE_BYTES {
            return Err(bad(0, &format!("file exceeds {MAX_KEY_FILE_BYTES} bytes")));
        }
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad(0, "file must end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() != 7 {
            return Err(bad(0, &format!("want 7 lines, got {}", lines.len())));
        }
        if lines.iter().any(|l| l.chars().any(char::is_control)) {
            return Err(bad(0, "control characters (CR, tab…) are not allowed"));
        }
        if lines[0] != HEADER {
            return Err(bad(1, &format!("want {HEADER:?}")));
        }
        let field = |i: usize, key: &str| -> Result<&str, KeyFileError> {
            lines[i]
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .ok_or_else(|| bad(i + 1, &format!("want \"{key} …\"")))
        };
        let name = field(1, "name")?;
        if !is_valid_name(name) {
            return Err(bad(2, "invalid key name"));
        }
        let vkey = field(2, "vkey")?;
        let vk = VerifierKey::parse(vkey).map_err(|e| bad(3, &e.to_string()))?;
        if vk.alg != ALG_COSIGNATURE_V1 {
            return Err(bad(3, "vkey must be of type 0x04 (cosignature/v1)"));
        }
        if vk.name != name {
            return Err(bad(3, "vkey names a different key than the name line"));
        }
        let kdf = Kdf::parse(field(3, "kdf")?)?;
        let salt = decode_fixed::<SALT_LEN>(field(4, "salt")?)
            .ok_or_else(|| bad(5, "salt must be canonical standard base64 of 16 bytes"))?;
        let nonce = decode_fixed::<NONCE_LEN>(field(5, "nonce")?)
            .ok_or_else(|| bad(6, "nonce must be canonical standard base64 of 12 bytes"))?;
        let sealed = decode_fixed::<{ SEED_LEN + TAG_LEN }>(field(6, "sealed")?)
            .ok_or_else(|| bad(7, "sealed must be canonical standard base64 of 48 bytes"))?;
        Ok(KeyFile {
            name: name.to_string(),
            vkey: vkey.to_string(),
            kdf,
            salt,
            nonce,
            sealed: sealed.to_vec(),
        })
    }

    /// The file's text, byte for byte what [`KeyFile::parse`] accepts.
    pub fn format(&self) -> String {
        format!(
            "{}salt {}\nnonce {}\nsealed {}\n",
            self.aad(),
            B64.encode(self.salt),
            B64.encode(self.nonce),
            B64.encode(&self.sealed)
        )
    }

    /// The note key name the approver signs as.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The vkey text, as the admin pastes it into the enrol-member form.
    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    pub fn kdf(&self) -> Kdf {
        self.kdf
    }

    /// Derives the key from the passphrase and opens the seed.
    pub fn unlock(&self, pass: &Passphrase) -> Result<Signer, KeyFileError> {
        let mut key = self.kdf.derive(pass, &self.salt)?;
        let out = self.open_with_key(&key);
        wipe(&mut key);
        out
    }

    /// The AEAD half of [`KeyFile::unlock`], split out so tests can mangle
    /// hundreds of files without paying Argon2id for each.
    fn open_with_key(&self, key: &[u8; 32]) -> Result<Signer, KeyFileError> {
        let mut in_out = self.sealed.clone();
        let opened = aead_key(key)
            .open_in_place(
                Nonce::assume_unique_for_key(self.nonce),
                Aad::from(self.aad().as_bytes()),
                &mut in_out,
            )
            .map(|plain| <[u8; SEED_LEN]>::try_from(&plain[..]).ok());
        let out = match opened {
            Ok(Some(mut seed)) => {
                let signer = Signer::from_seed(&self.name, ALG_COSIGNATURE_V1, &seed);
                wipe(&mut seed);
                match signer {
                    Ok(s) if s.verifier_key().format() == self.vkey => Ok(s),
                    _ => Err(KeyFileError::KeyMismatch),
                }
            }
            _ => Err(KeyFileError::Unlock),
        };
        wipe(&mut in_out);
        out
    }

    /// The authenticated lines: header, name, vkey and kdf, each with its
    /// newline.
    fn aad(&self) -> String {
        format!(
            "{HEADER}\nname {}\nvkey {}\nkdf {}\n",
            self.name,
            self.vkey,
            self.kdf.format()
        )
    }
}

fn aead_key(key: &[u8; 32]) -> LessSafeKey {
    // AES-256-GCM takes exactly 32 key bytes, which the type guarantees.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap_or_else(|_| unreachable!()))
}

/// Canonical standard padded base64 of exactly `N` bytes.
fn decode_fixed<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = B64.decode(s).ok()?;
    if B64.encode(&bytes) != s {
        return None;
    }
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "trustfund.example/estates/dongfang/members/c4";

    fn pass() -> Passphrase {
        Passphrase::new_choice("correct horse battery").unwrap()
    }

    fn sample() -> (KeyFile, Signer) {
        KeyFile::seal(NAME, &[7; 32], &pass(), Kdf::DEFAULT, [1; 16], [2; 12]).unwrap()
    }

    #[test]
    fn round_trip_and_exact_text() {
        let (file, signer) = sample();
        let text = file.format();
        assert!(text.starts_with(
            "trustfund-approver-key/v1\nname trustfund.example/estates/dongfang/members/c4\nvkey "
        ));
        assert!(text.contains("\nkdf argon2id m=65536 t=3 p=1\nsalt AQEBAQEBAQEBAQEBAQEBAQ==\nnonce AgICAgICAgICAgIC\nsealed "));
        assert_eq!(text.lines().count(), 7);
        let back = KeyFile::parse(&text).unwrap();
        assert_eq!(back, file);
        assert_eq!(back.format(), text);
        let opened = back.unlock(&pass()).unwrap();
        assert_eq!(opened.verifier_key(), signer.verifier_key());
        assert_eq!(back.verifier_key(), signer.verifier_key().format());
        assert_eq!(
            back.unlock(&Passphrase::attempt("correct horse batterz").unwrap())
                .unwrap_err(),
            KeyFileError::Unlock
        );
    }

    #[test]
    fn passphrase_bounds_and_no_debug_leak() {
        assert_eq!(
            Passphrase::new_choice("eleven char").unwrap_err(),
            KeyFileError::PassphraseTooShort
        );
        assert!(Passphrase::new_choice("twelve chars").is_ok());
        // Characters, not bytes: 12 CJK characters are enough.
        assert!(Passphrase::new_choice("东方小区信托物业委员会四号").is_ok());
        let long = "x".repeat(MAX_PASSPHRASE_BYTES + 1);
        assert_eq!(
            Passphrase::attempt(&long).unwrap_err(),
            KeyFileError::PassphraseTooLong
        );
        assert_eq!(format!("{:?}", pass()), "Passphrase(…)");
    }

    #[test]
    fn every_flip_of_payload_name_or_vkey_is_refused() {
        let (file, _) = sample();
        let text = file.format();
        let mut key = file.kdf.derive(&pass(), &file.salt).unwrap();
        assert!(file.open_with_key(&key).is_ok());
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let rebuild = |i: usize, line: String| {
            let mut l = lines.clone();
            l[i] = line;
            l.join("\n") + "\n"
        };
        let mut tried = 0;
        // Decoded payload bytes of salt (4), nonce (5), sealed (6).
        for (i, key_word) in [(4, "salt"), (5, "nonce"), (6, "sealed")] {
            let raw = B64.decode(&lines[i][key_word.len() + 1..]).unwrap();
            for j in 0..raw.len() {
                let mut m = raw.clone();
                m[j] ^= 0x01;
                let t = rebuild(i, format!("{key_word} {}", B64.encode(&m)));
                let f = KeyFile::parse(&t).unwrap();
                // A changed salt changes the derived key, so only it pays
                // for Argon2id again.
                let r = if i == 4 {
                    f.unlock(&pass())
                } else {
                    f.open_with_key(&key)
                };
                assert_eq!(r.unwrap_err(), KeyFileError::Unlock, "line {i} byte {j}");
                tried += 1;
            }
        }
        // Text bytes of the name (1) and vkey (2) lines.
        for i in [1, 2] {
            let bytes = lines[i].as_bytes();
            for j in 0..bytes.len() {
                for bit in [0x01u8, 0x20] {
                    let mut m = bytes.to_vec();
                    m[j] ^= bit;
                    let Ok(s) = String::from_utf8(m) else {
                        continue;
                    };
                    if let Ok(f) = KeyFile::parse(&rebuild(i, s)) {
                        assert!(f.open_with_key(&key).is_err(), "line {i} byte {j}");
                    }
                    tried += 1;
                }
            }
        }
        // A consistent new name and vkey for another key still fails: the
        // AAD binds them to the sealed seed.
        let other = Signer::from_seed(NAME, ALG_COSIGNATURE_V1, &[8; 32]).unwrap();
        let swapped = rebuild(2, format!("vkey {}", other.verifier_key().format()));
        let f = KeyFile::parse(&swapped).unwrap();
        assert_eq!(f.open_with_key(&key).unwrap_err(), KeyFileError::Unlock);
        assert!(tried > 300);
        wipe(&mut key);
    }

    #[test]
    fn kdf_bounds_and_strict_lines() {
        let (file, _) = sample();
        let text = file.format();
        let with_kdf = |kdf: &str| text.replace("kdf argon2id m=65536 t=3 p=1", kdf);
        for bad in [
            "kdf argon2id m=65535 t=3 p=1",
            "kdf argon2id m=1048577 t=3 p=1",
            "kdf argon2id m=65536 t=2 p=1",
            "kdf argon2id m=65536 t=11 p=1",
            "kdf argon2id m=65536 t=3 p=0",
            "kdf argon2id m=65536 t=3 p=5",
            "kdf argon2id m=065536 t=3 p=1",
            "kdf argon2i m=65536 t=3 p=1",
            "kdf argon2id m=65536 t=3",
            "kdf argon2id m=65536  t=3 p=1",
            "kdf argon2id t=3 m=65536 p=1",
            "kdf argon2id m=99999999999 t=3 p=1",
        ] {
            assert!(
                matches!(KeyFile::parse(&with_kdf(bad)), Err(KeyFileError::Kdf(_))),
                "{bad}"
            );
        }
        // In bounds but not the sealed ones: parses, does not open.
        let f = KeyFile::parse(&with_kdf("kdf argon2id m=65536 t=4 p=1")).unwrap();
        assert_eq!(f.kdf().t, 4);
        for bad in [
            text.replace('\n', "\r\n"),
            text.trim_end().to_string(),
            format!("{text}\n"),
            text.replace("trustfund-approver-key/v1", "trustfund-approver-key/v2"),
            text.replace("salt ", "salt  "),
            text.replace("nonce AgICAgICAgICAgIC", "nonce AgICAgICAgICAgI="),
            text.replace(
                "salt AQEBAQEBAQEBAQEBAQEBAQ==",
                "salt AQEBAQEBAQEBAQEBAQEBAR==",
            ),
            text.replace("\nsalt", "\nsalt2"),
        ] {
            assert!(
                matches!(KeyFile::parse(&bad), Err(KeyFileError::Malformed { .. })),
                "{bad:?}"
            );
        }
        // A log key (0x01) is not an approver key.
        let log = Signer::from_seed(NAME, crate::tlog::note::ALG_ED25519, &[7; 32]).unwrap();
        let t = text.replace(file.verifier_key(), &log.verifier_key().format());
        assert!(KeyFile::parse(&t).is_err());
        assert!(matches!(
            KeyFile::seal(
                "bad name",
                &[7; 32],
                &pass(),
                Kdf::DEFAULT,
                [1; 16],
                [2; 12]
            ),
            Err(KeyFileError::BadName(_))
        ));
    }
}
