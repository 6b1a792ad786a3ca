//! Signed notes (C2SP signed-note), verifier keys in the form Go's
//! `golang.org/x/mod/sumdb/note` reads (`name+keyid+base64(alg||key)`), and
//! Ed25519 witness cosignatures (C2SP tlog-cosignature, `cosignature/v1`).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::digest::{digest, SHA256};
use ring::rand::SecureRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use super::hash::decode_base64_canonical;
use super::TlogError;

/// Signature type of a plain Ed25519 note signature (C2SP signed-note,
/// "Signature types").
pub const ALG_ED25519: u8 = 0x01;
/// Signature type of a timestamped Ed25519 witness cosignature (C2SP
/// tlog-cosignature, key ID computation).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Largest signed note accepted, in bytes. C2SP signed-note asks verifiers
/// to bound a note's size; a checkpoint with its signatures is well under
/// 1 KiB, so 1 MiB only ever stops abuse.
pub const MAX_NOTE_SIZE: usize = 1 << 20;
/// Most signature lines accepted on one note. C2SP signed-note requires
/// accepting at least 16; a log plus a generous witness set fits in 64.
pub const MAX_SIGNATURES: usize = 64;
/// Longest key name, in bytes: the `cosigner_name<1..2^8-1>` bound C2SP
/// tlog-cosignature puts on names in its ML-DSA message, applied to every
/// name so a name valid here is valid there.
pub const MAX_NAME_LEN: usize = 255;

/// The em dash and space that open every signature line (C2SP signed-note,
/// "Format").
const SIG_PREFIX: &str = "\u{2014} ";
/// Largest cosignature timestamp (C2SP tlog-cosignature: "MUST NOT exceed
/// 2^63 - 1").
const MAX_TIMESTAMP: u64 = (1 << 63) - 1;
/// Signed bytes of an Ed25519 signature.
const ED25519_SIG_LEN: usize = 64;

/// The key ID of C2SP signed-note, "Signatures":
/// `SHA-256(name || 0x0A || signature type || public key)[:4]`, big-endian.
/// It names a key; it does not authenticate one.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut buf = Vec::with_capacity(name.len() + 2 + public_key.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(sig_type);
    buf.extend_from_slice(public_key);
    let d = digest(&SHA256, &buf);
    let b = d.as_ref();
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// A key name per C2SP signed-note: non-empty, no Unicode space, no `+`.
/// Control characters are refused too, since no note may contain them, and
/// the length is capped at [`MAX_NAME_LEN`].
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

fn check_name(name: &str) -> Result<(), TlogError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(TlogError::BadKey(format!(
            "key name {name:?} must be 1 to {MAX_NAME_LEN} bytes without spaces, control characters or '+'"
        )))
    }
}

fn check_alg(alg: u8) -> Result<(), TlogError> {
    match alg {
        ALG_ED25519 | ALG_COSIGNATURE_V1 => Ok(()),
        _ => Err(TlogError::BadKey(format!(
            "unsupported signature type 0x{alg:02x}; want 0x01 (Ed25519) or 0x04 (cosignature/v1)"
        ))),
    }
}

/// A public key a verifier trusts, with the name and key ID that select it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_id: u32,
    pub alg: u8,
    pub public_key: [u8; 32],
}

impl VerifierKey {
    /// Builds a key, computing its key ID from name, type and key bytes.
    pub fn new(name: &str, alg: u8, public_key: [u8; 32]) -> Result<VerifierKey, TlogError> {
        check_name(name)?;
        check_alg(alg)?;
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: key_id(name, alg, &public_key),
            alg,
            public_key,
        })
    }

    /// The vkey text `name+%08x+base64(alg || key)` that Go's
    /// `note.NewVerifier` parses (C2SP signed-note, "Verifier keys").
    pub fn format(&self) -> String {
        let mut material = Vec::with_capacity(33);
        material.push(self.alg);
        material.extend_from_slice(&self.public_key);
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(material)
        )
    }

    /// Parses a vkey strictly: a valid name, exactly eight lowercase hex
    /// digits of key ID, canonical base64 of a known type byte and a 32-byte
    /// key, and a key ID that matches the rest.
    pub fn parse(s: &str) -> Result<VerifierKey, TlogError> {
        let bad = |why: &str| TlogError::BadKey(format!("verifier key: {why}"));
        // The name has no '+' and the key ID has none, so the first two
        // '+' split the fields; base64 may contain more.
        let mut parts = s.splitn(3, '+');
        let (name, id_hex, material) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(i), Some(m)) => (n, i, m),
            _ => return Err(bad("want name+keyid+base64key")),
        };
        check_name(name)?;
        let id_ok = id_hex.len() == 8
            && id_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !id_ok {
            return Err(bad("key id must be 8 lowercase hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("key id is not hex"))?;
        let material = decode_base64_canonical(material)
            .map_err(|_| bad("key material is not canonical base64"))?;
        let (&alg, key) = material
            .split_first()
            .ok_or_else(|| bad("key material is empty"))?;
        check_alg(alg)?;
        let public_key: [u8; 32] = key
            .try_into()
            .map_err(|_| bad(&format!("Ed25519 key must be 32 bytes, got {}", key.len())))?;
        if key_id(name, alg, &public_key) != id {
            return Err(bad("key id does not match name and key"));
        }
        Ok(VerifierKey {
            name: name.to_string(),
            key_id: id,
            alg,
            public_key,
        })
    }

    /// Recomputes the key ID, since the fields are public and a key built by
    /// hand could carry a wrong one.
    fn check_consistent(&self) -> Result<(), TlogError> {
        check_name(&self.name)?;
        check_alg(self.alg)?;
        if key_id(&self.name, self.alg, &self.public_key) != self.key_id {
            return Err(TlogError::BadKey(format!(
                "key id {:08x} does not match key {:?}",
                self.key_id, self.name
            )));
        }
        Ok(())
    }
}

/// An Ed25519 private key with the name and signature type it signs as:
/// 0x01 for a log's note signatures, 0x04 for a witness's cosignatures.
pub struct Signer {
    name: String,
    alg: u8,
    key_pair: Ed25519KeyPair,
}

impl fmt::Debug for Signer {
    // Only public parts: a signer must never end up in a log line whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("alg", &self.alg)
            .field(
                "key_id",
                &format_args!("{:08x}", self.verifier_key().key_id),
            )
            .finish()
    }
}

impl Signer {
    /// A signer from a 32-byte RFC 8032 seed (the form Go's `note` keeps in
    /// `PRIVATE+KEY+name+id+base64(alg || seed)`).
    pub fn from_seed(name: &str, alg: u8, seed: &[u8; 32]) -> Result<Signer, TlogError> {
        check_name(name)?;
        check_alg(alg)?;
        let key_pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|e| TlogError::BadKey(format!("Ed25519 seed rejected: {e}")))?;
        Ok(Signer {
            name: name.to_string(),
            alg,
            key_pair,
        })
    }

    /// A new signer from 32 random bytes; returns the seed so the caller can
    /// keep it.
    pub fn generate(
        name: &str,
        alg: u8,
        rng: &dyn SecureRandom,
    ) -> Result<(Signer, [u8; 32]), TlogError> {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed).map_err(|_| TlogError::Rng)?;
        Ok((Signer::from_seed(name, alg, &seed)?, seed))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn alg(&self) -> u8 {
        self.alg
    }

    /// The public half, as verifiers configure it.
    pub fn verifier_key(&self) -> VerifierKey {
        let mut public_key = [0u8; 32];
        // An Ed25519 public key is always 32 bytes.
        public_key.copy_from_slice(self.key_pair.public_key().as_ref());
        VerifierKey {
            name: self.name.clone(),
            key_id: key_id(&self.name, self.alg, &public_key),
            alg: self.alg,
            public_key,
        }
    }

    /// A bare RFC 8032 Ed25519 signature over `msg`.
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        // An Ed25519 signature is always 64 bytes.
        out.copy_from_slice(self.key_pair.sign(msg).as_ref());
        out
    }
}

/// One signature line of a note: who signed, and the bytes after the key
/// ID (for 0x04, an 8-byte big-endian timestamp then the signature).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    pub sig: Vec<u8>,
}

impl NoteSignature {
    /// `— name base64(keyid || sig)` and a newline (C2SP signed-note,
    /// "Signatures").
    pub fn format_line(&self) -> String {
        let mut bytes = Vec::with_capacity(4 + self.sig.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.sig);
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(bytes))
    }

    /// Parses one signature line (without its newline), as a witness
    /// submits it or the store keeps it.
    pub fn parse_line(line: &str) -> Result<NoteSignature, TlogError> {
        let bad = |why: &str| TlogError::Malformed(format!("note signature line: {why}"));
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("must start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("want a name, a space and base64"))?;
        if !is_valid_name(name) {
            return Err(bad("invalid key name"));
        }
        let bytes = decode_base64_canonical(b64).map_err(|_| bad("invalid base64"))?;
        // A key ID and at least one signature byte.
        if bytes.len() < 5 {
            return Err(bad("signature shorter than 5 bytes"));
        }
        let (id, sig) = bytes.split_at(4);
        Ok(NoteSignature {
            name: name.to_string(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            sig: sig.to_vec(),
        })
    }
}

/// A signed note: the text and its signature lines, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// The text rules of C2SP signed-note, "Format": non-empty, ends in a
/// newline, no control characters but newline, and a bounded size.
pub(crate) fn check_text(text: &str) -> Result<(), TlogError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(TlogError::Malformed(
            "note text must be non-empty and end with a newline".into(),
        ));
    }
    check_note_chars(text)?;
    if text.len() > MAX_NOTE_SIZE {
        return Err(TlogError::Malformed(format!(
            "note text exceeds {MAX_NOTE_SIZE} bytes"
        )));
    }
    Ok(())
}

fn check_note_chars(s: &str) -> Result<(), TlogError> {
    if s.chars().any(|c| c < '\u{20}' && c != '\n') {
        return Err(TlogError::Malformed(
            "note contains a control character other than newline".into(),
        ));
    }
    Ok(())
}

impl Note {
    /// The text, a blank line, then one line per signature (C2SP
    /// signed-note, "Format").
    pub fn format(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 1 + 128 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.format_line());
        }
        out
    }

    /// Parses a signed note per C2SP signed-note, "Format": the text is
    /// everything up to and including the newline before the last blank
    /// line; after it come one or more well-formed signature lines, each
    /// ending in a newline. Signatures are not verified here.
    pub fn parse(s: &str) -> Result<Note, TlogError> {
        if s.len() > MAX_NOTE_SIZE {
            return Err(TlogError::Malformed(format!(
                "note exceeds {MAX_NOTE_SIZE} bytes"
            )));
        }
        check_note_chars(s)?;
        let split = s.rfind("\n\n").ok_or_else(|| {
            TlogError::Malformed("note has no blank line before its signatures".into())
        })?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(TlogError::Malformed(
                "note must end with signature lines, each ending in a newline".into(),
            ));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(TlogError::Malformed(format!(
                "note has more than {MAX_SIGNATURES} signatures"
            )));
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse_line)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }
}

/// The message a cosignature/v1 signs (C2SP tlog-cosignature, "Ed25519
/// signed message"): a header line, a time line, then the note text.
pub fn cosignature_message(text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

/// Signs `text` as `signer`. For 0x01 the signature covers the text itself
/// (C2SP signed-note, "Ed25519 signatures") and `timestamp` is unused; for
/// 0x04 it covers the cosignature/v1 message and the stored bytes are
/// `timestamp` (big-endian) then the signature (C2SP tlog-cosignature).
pub fn sign_note(text: &str, signer: &Signer, timestamp: u64) -> Result<NoteSignature, TlogError> {
    check_text(text)?;
    // A Signer's algorithm was checked when it was built: 0x01 or 0x04.
    let sig = if signer.alg == ALG_COSIGNATURE_V1 {
        if timestamp > MAX_TIMESTAMP {
            return Err(TlogError::Malformed(format!(
                "cosignature timestamp {timestamp} exceeds 2^63-1"
            )));
        }
        let mut out = timestamp.to_be_bytes().to_vec();
        out.extend_from_slice(&signer.sign_raw(&cosignature_message(text, timestamp)));
        out
    } else {
        signer.sign_raw(text.as_bytes()).to_vec()
    };
    Ok(NoteSignature {
        name: signer.name.clone(),
        key_id: signer.verifier_key().key_id,
        sig,
    })
}

/// Verifies one signature line over `text` with `key`. Returns the
/// cosignature timestamp for 0x04 keys and `None` for 0x01 keys.
pub fn verify_signature(
    text: &str,
    sig: &NoteSignature,
    key: &VerifierKey,
) -> Result<Option<u64>, TlogError> {
    key.check_consistent()?;
    if sig.name != key.name || sig.key_id != key.key_id {
        return Err(TlogError::UnknownKey {
            name: sig.name.clone(),
            key_id: sig.key_id,
        });
    }
    let rejected = || {
        TlogError::BadSignature(format!(
            "invalid signature for key {}+{:08x}",
            key.name, key.key_id
        ))
    };
    let public = UnparsedPublicKey::new(&ED25519, &key.public_key);
    match key.alg {
        ALG_ED25519 => {
            if sig.sig.len() != ED25519_SIG_LEN {
                return Err(rejected());
            }
            public
                .verify(text.as_bytes(), &sig.sig)
                .map_err(|_| rejected())?;
            Ok(None)
        }
        _ => {
            // check_consistent admitted only 0x01 and 0x04.
            if sig.sig.len() != 8 + ED25519_SIG_LEN {
                return Err(rejected());
            }
            let (ts, ed) = sig.sig.split_at(8);
            let mut ts_bytes = [0u8; 8];
            ts_bytes.copy_from_slice(ts);
            let timestamp = u64::from_be_bytes(ts_bytes);
            if timestamp > MAX_TIMESTAMP {
                return Err(TlogError::BadSignature(format!(
                    "cosignature timestamp from {}+{:08x} exceeds 2^63-1",
                    key.name, key.key_id
                )));
            }
            public
                .verify(&cosignature_message(text, timestamp), ed)
                .map_err(|_| rejected())?;
            Ok(Some(timestamp))
        }
    }
}

/// Verifies every signature on `note` that comes from one of `keys` and
/// returns each key that signed, once, with its timestamp. Per C2SP
/// signed-note, "Signatures": lines from unknown (name, key ID) pairs are
/// ignored; a line from a known key that fails makes the whole note fail;
/// and a note with no valid known signature fails. Repeated lines from one
/// key are all verified, the first one's timestamp is reported.
pub fn verify_note(
    note: &Note,
    keys: &[VerifierKey],
) -> Result<Vec<(VerifierKey, Option<u64>)>, TlogError> {
    let verified = verify_known(note, keys)?;
    if verified.is_empty() {
        return Err(TlogError::NoTrustedSignature);
    }
    Ok(verified)
}

/// [`verify_note`] without the "at least one" rule, for callers such as
/// checkpoint opening where zero witness cosignatures is a valid outcome.
pub(crate) fn verify_known(
    note: &Note,
    keys: &[VerifierKey],
) -> Result<Vec<(VerifierKey, Option<u64>)>, TlogError> {
    check_text(&note.text)?;
    if note.signatures.len() > MAX_SIGNATURES {
        return Err(TlogError::Malformed(format!(
            "note has more than {MAX_SIGNATURES} signatures"
        )));
    }
    let mut out: Vec<(VerifierKey, Option<u64>)> = Vec::new();
    for sig in &note.signatures {
        let mut matching = keys
            .iter()
            .filter(|k| k.name == sig.name && k.key_id == sig.key_id);
        let Some(key) = matching.next() else {
            continue;
        };
        // Identical duplicates in a configuration are harmless; two
        // different keys behind one (name, id) would make the answer depend
        // on list order.
        if matching.any(|other| other != key) {
            return Err(TlogError::AmbiguousKey {
                name: sig.name.clone(),
                key_id: sig.key_id,
            });
        }
        let timestamp = verify_signature(&note.text, sig, key)?;
        if !out.iter().any(|(k, _)| k == key) {
            out.push((key.clone(), timestamp));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang.org/x/mod/sumdb/note note_test.go.
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                        then you don't know what your problem is.\n";
    const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    /// The signer behind Go's `PRIVATE+KEY+name+id+base64(0x01 || seed)`.
    fn peter_signer() -> Signer {
        // The base64 may contain '+', so split off only the four fixed fields.
        let b64 = PETER_SKEY.splitn(5, '+').nth(4).unwrap();
        let bytes = STANDARD.decode(b64).unwrap();
        assert_eq!(bytes[0], ALG_ED25519);
        let seed: [u8; 32] = bytes[1..].try_into().unwrap();
        Signer::from_seed("PeterNeumann", ALG_ED25519, &seed).unwrap()
    }

    #[test]
    fn go_vector_sign_and_verify() {
        let signer = peter_signer();
        let vkey = signer.verifier_key();
        assert_eq!(vkey.format(), PETER_VKEY);
        assert_eq!(vkey.key_id, 0xc74f20a3);
        assert_eq!(VerifierKey::parse(PETER_VKEY).unwrap(), vkey);
        assert_eq!(
            key_id("PeterNeumann", ALG_ED25519, &vkey.public_key),
            0xc74f20a3
        );

        // Ed25519 is deterministic: our signature is Go's, byte for byte.
        let sig = sign_note(TEXT, &signer, 0).unwrap();
        let note = Note {
            text: TEXT.into(),
            signatures: vec![sig],
        };
        let want = format!("{TEXT}\n{PETER_SIG}");
        assert_eq!(note.format(), want);

        let parsed = Note::parse(&want).unwrap();
        assert_eq!(parsed, note);
        assert_eq!(
            verify_note(&parsed, std::slice::from_ref(&vkey)).unwrap(),
            vec![(vkey, None)]
        );
    }

    #[test]
    fn go_open_semantics() {
        let peter = VerifierKey::parse(PETER_VKEY).unwrap();
        let enoch = VerifierKey::parse(ENOCH_VKEY).unwrap();
        let both = Note::parse(&format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}")).unwrap();
        assert_eq!(both.signatures.len(), 2);

        // Unknown signers are ignored, known ones verified.
        let got = verify_note(&both, std::slice::from_ref(&peter)).unwrap();
        assert_eq!(got, vec![(peter.clone(), None)]);
        let got = verify_note(&both, &[peter.clone(), enoch.clone()]).unwrap();
        assert_eq!(got, vec![(peter.clone(), None), (enoch.clone(), None)]);
        assert_eq!(verify_note(&both, &[]), Err(TlogError::NoTrustedSignature));

        // A key sharing only the name, or only the id, is a different key.
        let mut renamed = enoch.clone();
        renamed.name = "PeterNeumann".into();
        assert!(verify_note(&both, &[renamed]).is_err());

        // Identical duplicates in the configuration are fine.
        let only_peter = Note::parse(&format!("{TEXT}\n{PETER_SIG}")).unwrap();
        verify_note(&only_peter, &[enoch.clone(), peter.clone(), enoch.clone()]).unwrap();
        verify_note(&both, &[enoch.clone(), peter.clone(), enoch.clone()]).unwrap();

        // An invalid signature from a known key fails the whole note.
        let bad = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
        let err =
            verify_note(&Note::parse(&bad).unwrap(), std::slice::from_ref(&peter)).unwrap_err();
        assert_eq!(
            err,
            TlogError::BadSignature("invalid signature for key PeterNeumann+c74f20a3".into())
        );

        // Repeated lines are all checked, reported once; unknown garbage is ignored.
        let msg = format!(
            "{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{}ABCD{}",
            &ENOCH_SIG[..60],
            &ENOCH_SIG[60..]
        );
        let got = verify_note(&Note::parse(&msg).unwrap(), std::slice::from_ref(&peter)).unwrap();
        assert_eq!(got, vec![(peter.clone(), None)]);
        assert!(verify_note(&Note::parse(&msg).unwrap(), &[peter, enoch]).is_err());
    }

    #[test]
    fn go_malformed_notes() {
        let bad_msgs = [
            TEXT.to_string(),
            format!("{TEXT}\n"),
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
            format!("\x01{TEXT}\n{PETER_SIG}"),
            format!("{TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
            // And ours: bad base64, short signature, name with '+', CR.
            format!("{TEXT}\n— PeterNeumann x08go/ZJkuBS9UG\n"),
            format!("{TEXT}\n— PeterNeumann AAAA\n"),
            format!("{TEXT}\n— Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
            format!("{TEXT}\n{}\r\n", &PETER_SIG[..PETER_SIG.len() - 1]),
            format!("{TEXT}\n— PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
            format!("{TEXT}\n-- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        ];
        for msg in &bad_msgs {
            assert!(
                matches!(Note::parse(msg), Err(TlogError::Malformed(_))),
                "accepted {msg:?}"
            );
        }
        // Go's "\xff" case cannot reach Note::parse: a &str is UTF-8 by type.
    }

    #[test]
    fn signature_count_and_size_limits() {
        let peter = VerifierKey::parse(PETER_VKEY).unwrap();
        let ok = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES));
        verify_note(&Note::parse(&ok).unwrap(), &[peter]).unwrap();
        let too_many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
        assert!(Note::parse(&too_many).is_err());
        let huge = format!("{}\n{PETER_SIG}", "a\n".repeat(MAX_NOTE_SIZE / 2));
        assert!(Note::parse(&huge).is_err());
    }

    #[test]
    fn text_may_contain_blank_lines() {
        let signer = peter_signer();
        for text in ["a\n\nb\n", "a\n\n", "\n", "a\n\n\n"] {
            let note = Note {
                text: text.into(),
                signatures: vec![sign_note(text, &signer, 0).unwrap()],
            };
            let parsed = Note::parse(&note.format()).unwrap();
            assert_eq!(parsed, note);
            verify_note(&parsed, &[signer.verifier_key()]).unwrap();
        }
        for text in ["", "no newline", "tab\there\n"] {
            assert!(sign_note(text, &signer, 0).is_err(), "{text:?}");
        }
    }

    #[test]
    fn every_byte_flip_is_rejected() {
        let peter = VerifierKey::parse(PETER_VKEY).unwrap();
        let cosigner = Signer::from_seed("w.example/1", ALG_COSIGNATURE_V1, &[3u8; 32]).unwrap();
        let cosig = sign_note(TEXT, &cosigner, 1_700_000_000).unwrap();
        let good = format!("{TEXT}\n{PETER_SIG}");
        let cosigned = Note {
            text: TEXT.into(),
            signatures: vec![cosig],
        }
        .format();
        for (msg, key) in [(good, peter), (cosigned, cosigner.verifier_key())] {
            verify_note(&Note::parse(&msg).unwrap(), std::slice::from_ref(&key)).unwrap();
            let bytes = msg.as_bytes();
            for i in 0..bytes.len() {
                for mangle in [
                    |b: u8| b ^ 0x01,
                    |b: u8| b.wrapping_add(1),
                    |b: u8| b ^ 0x80,
                ] {
                    let mut m = bytes.to_vec();
                    m[i] = mangle(m[i]);
                    let Ok(s) = std::str::from_utf8(&m) else {
                        continue; // refused at the edge: not text at all
                    };
                    let accepted = Note::parse(s)
                        .and_then(|n| verify_note(&n, std::slice::from_ref(&key)))
                        .is_ok();
                    assert!(!accepted, "accepted note with byte {i} changed: {s:?}");
                }
            }
        }
    }

    #[test]
    fn signature_byte_flips_are_rejected() {
        for alg in [ALG_ED25519, ALG_COSIGNATURE_V1] {
            let signer = Signer::from_seed("log.example/x", alg, &[5u8; 32]).unwrap();
            let key = signer.verifier_key();
            let sig = sign_note(TEXT, &signer, 1_767_225_600).unwrap();
            let ts = verify_signature(TEXT, &sig, &key).unwrap();
            assert_eq!(ts, (alg == ALG_COSIGNATURE_V1).then_some(1_767_225_600));
            for i in 0..sig.sig.len() {
                for bit in 0..8 {
                    let mut s = sig.clone();
                    s.sig[i] ^= 1 << bit;
                    assert!(
                        verify_signature(TEXT, &s, &key).is_err(),
                        "alg {alg} byte {i}"
                    );
                }
            }
            let mut text = TEXT.as_bytes().to_vec();
            for i in 0..text.len() {
                text[i] ^= 0x20;
                let t = String::from_utf8(text.clone()).unwrap();
                assert!(verify_signature(&t, &sig, &key).is_err());
                text[i] ^= 0x20;
            }
            let mut short = sig.clone();
            short.sig.pop();
            assert!(verify_signature(TEXT, &short, &key).is_err());
            let mut long = sig.clone();
            long.sig.push(0);
            assert!(verify_signature(TEXT, &long, &key).is_err());
            let mut renamed = sig.clone();
            renamed.name.push('x');
            assert!(matches!(
                verify_signature(TEXT, &renamed, &key),
                Err(TlogError::UnknownKey { .. })
            ));
            let mut reid = sig.clone();
            reid.key_id ^= 1;
            assert!(matches!(
                verify_signature(TEXT, &reid, &key),
                Err(TlogError::UnknownKey { .. })
            ));
        }
    }

    /// A cosignature/v1 made by transparency-dev/formats (Go) for a
    /// checkpoint of the Android binary transparency log: checks our
    /// signed-message layout against an independent implementation. The
    /// cosigned message does not include the cosigner's name, so any name
    /// works for the key.
    #[test]
    fn go_cosignature_vector() {
        // SubjectPublicKeyInfo of the Ed25519 key: a 12-byte DER prefix, then the key.
        let spki = STANDARD
            .decode("MCowBQYDK2VwAyEApTPPKyRu6Q3PoMkeY+/sNni0biF4vnVTYRHbVNA31mY=")
            .unwrap();
        let pk: [u8; 32] = spki[12..].try_into().unwrap();
        let text = "developers.google.com/android/binary_transparency/google1p/0\n5\nxqaCEZhTGZUuKNA7MpSyxe1WXiiESB2p+crAyzM+Vxo=\n";
        let line = STANDARD.decode("r0xBJQAAAABnkyoLuHgN5KlIUUpZV9hulwsFcgqV5v1CyeIhBZWdkfOJT0ims1LqbYygO5MEl91CGha5sP79K57P7lIGrz7Qtx8eBw==").unwrap();
        let key = VerifierKey::new("witness.example", ALG_COSIGNATURE_V1, pk).unwrap();
        let sig = NoteSignature {
            name: key.name.clone(),
            key_id: key.key_id,
            sig: line[4..].to_vec(),
        };
        let ts = verify_signature(text, &sig, &key).unwrap();
        assert_eq!(ts, Some(0x6793_2a0b));
        // The same bytes are not a plain 0x01 signature over the text.
        let plain = VerifierKey::new("witness.example", ALG_ED25519, pk).unwrap();
        let sig1 = NoteSignature {
            key_id: plain.key_id,
            sig: line[12..].to_vec(),
            ..sig
        };
        assert!(verify_signature(text, &sig1, &plain).is_err());
    }

    #[test]
    fn cosignature_timestamp_bounds() {
        let signer = Signer::from_seed("w.example/1", ALG_COSIGNATURE_V1, &[3u8; 32]).unwrap();
        assert!(sign_note(TEXT, &signer, MAX_TIMESTAMP).is_ok());
        assert!(sign_note(TEXT, &signer, MAX_TIMESTAMP + 1).is_err());
        let sig = sign_note(TEXT, &signer, MAX_TIMESTAMP).unwrap();
        let got = verify_signature(TEXT, &sig, &signer.verifier_key()).unwrap();
        assert_eq!(got, Some(MAX_TIMESTAMP));
        let mut high = sig.clone();
        high.sig[0] |= 0x80;
        assert!(verify_signature(TEXT, &high, &signer.verifier_key()).is_err());
    }

    #[test]
    fn vkey_manglings_are_refused() {
        VerifierKey::parse(PETER_VKEY).unwrap();
        let b = PETER_VKEY.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i != 0 || j != b.len() {
                    let s = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(VerifierKey::parse(s).is_err(), "accepted {s:?}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            if let Ok(s) = std::str::from_utf8(&m) {
                assert!(VerifierKey::parse(s).is_err(), "accepted {s:?}");
            }
        }
        // Go's extra cases: wrong key length and unknown algorithm, each
        // with a key id adjusted to match.
        assert!(VerifierKey::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err());
        assert!(VerifierKey::parse(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err());
        // Uppercase key id.
        assert!(VerifierKey::parse(
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err());
        // Names.
        for name in [
            "",
            "a b",
            "a+b",
            "a\u{a0}b",
            "a\u{2003}b",
            "a\tb",
            "a\u{1}b",
        ] {
            assert!(
                VerifierKey::new(name, ALG_ED25519, [1; 32]).is_err(),
                "{name:?}"
            );
            assert!(
                Signer::from_seed(name, ALG_ED25519, &[1; 32]).is_err(),
                "{name:?}"
            );
        }
        assert!(VerifierKey::new(&"n".repeat(MAX_NAME_LEN), ALG_ED25519, [1; 32]).is_ok());
        assert!(VerifierKey::new(&"n".repeat(MAX_NAME_LEN + 1), ALG_ED25519, [1; 32]).is_err());
        for alg in [0x00, 0x02, 0x03, 0x05, 0xff] {
            assert!(VerifierKey::new("a", alg, [1; 32]).is_err());
            assert!(Signer::from_seed("a", alg, &[1; 32]).is_err());
        }
    }

    #[test]
    fn hand_built_key_with_wrong_id_is_refused() {
        let signer = peter_signer();
        let sig = sign_note(TEXT, &signer, 0).unwrap();
        let mut key = signer.verifier_key();
        key.public_key[0] ^= 1;
        assert!(matches!(
            verify_signature(TEXT, &sig, &key),
            Err(TlogError::BadKey(_))
        ));
    }

    /// Two different keys with one (name, key id) — a 32-bit collision found
    /// by search — make verification refuse rather than pick one.
    #[test]
    fn ambiguous_keys_are_refused() {
        let mut seen = std::collections::HashMap::new();
        let mut pair = None;
        for i in 0u32..1_000_000 {
            let mut pk = [0u8; 32];
            pk[..4].copy_from_slice(&i.to_be_bytes());
            let id = key_id("collide", ALG_ED25519, &pk);
            if let Some(prev) = seen.insert(id, pk) {
                pair = Some((prev, pk));
                break;
            }
        }
        let (a, b) = pair.expect("a 32-bit collision within 10^6 keys");
        let ka = VerifierKey::new("collide", ALG_ED25519, a).unwrap();
        let kb = VerifierKey::new("collide", ALG_ED25519, b).unwrap();
        assert_eq!(ka.key_id, kb.key_id);
        let note = Note {
            text: TEXT.into(),
            signatures: vec![NoteSignature {
                name: "collide".into(),
                key_id: ka.key_id,
                sig: vec![0; 64],
            }],
        };
        assert_eq!(
            verify_note(&note, &[ka, kb]),
            Err(TlogError::AmbiguousKey {
                name: "collide".into(),
                key_id: note.signatures[0].key_id
            })
        );
    }

    #[test]
    fn generated_signers_work() {
        let rng = ring::rand::SystemRandom::new();
        let (signer, seed) = Signer::generate("gen.example", ALG_ED25519, &rng).unwrap();
        let again = Signer::from_seed("gen.example", ALG_ED25519, &seed).unwrap();
        assert_eq!(signer.verifier_key(), again.verifier_key());
        let key = VerifierKey::parse(&signer.verifier_key().format()).unwrap();
        let sig = sign_note(TEXT, &signer, 0).unwrap();
        assert_eq!(verify_signature(TEXT, &sig, &key).unwrap(), None);
        let debug = format!("{signer:?}");
        assert!(debug.contains("gen.example") && !debug.contains(&hex::encode(seed)));
    }
}
