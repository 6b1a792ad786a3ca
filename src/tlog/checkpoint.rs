//! Checkpoints (C2SP tlog-checkpoint): the signed tree head of the log,
//! signed by the log with an Ed25519 note key and cosigned by witnesses with
//! cosignature/v1 (C2SP tlog-cosignature).

use super::hash::Hash;
use super::note::{
    check_text, is_valid_name, sign_note, verify_known, verify_note, Note, NoteSignature, Signer,
    VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519,
};
use super::tree::MAX_TREE_SIZE;
use super::TlogError;

/// Most extension lines accepted after the root hash. C2SP tlog-checkpoint
/// does not recommend using them at all; this log writes none.
pub const MAX_EXTENSION_LINES: usize = 16;

/// Verified witness cosignatures: each witness key once, with the
/// timestamp it signed.
pub type Cosignatures = Vec<(VerifierKey, u64)>;

/// A log's tree head: who (origin), how many leaves, and the root hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub tree_size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

/// The checkpoint note text (C2SP tlog-checkpoint, "Note text"): origin,
/// decimal tree size, base64 root hash, then any extension lines, each
/// ending in a newline.
pub fn format_checkpoint(cp: &Checkpoint) -> String {
    let mut out = format!("{}\n{}\n{}\n", cp.origin, cp.tree_size, cp.root.to_base64());
    for ext in &cp.extensions {
        out.push_str(ext);
        out.push('\n');
    }
    out
}

/// Parses checkpoint note text strictly (C2SP tlog-checkpoint, "Note
/// text"), so that each checkpoint has exactly one text form: an origin
/// that is a valid key name (the log signs with a key of that name), a size
/// in decimal without leading zeros and at most 2^62, a canonical base64
/// root of 32 bytes, and at most [`MAX_EXTENSION_LINES`] non-empty
/// extension lines.
pub fn parse_checkpoint(text: &str) -> Result<Checkpoint, TlogError> {
    let bad = |why: String| TlogError::Malformed(format!("checkpoint: {why}"));
    check_text(text)?;
    // check_text guarantees the final newline.
    let body = &text[..text.len() - 1];
    let mut lines = body.split('\n');
    let (origin, size, root) = match (lines.next(), lines.next(), lines.next()) {
        (Some(o), Some(s), Some(r)) => (o, s, r),
        _ => return Err(bad("want origin, tree size and root hash lines".into())),
    };
    if !is_valid_name(origin) {
        return Err(bad(format!(
            "origin {origin:?} must be a non-empty name without spaces or '+'"
        )));
    }
    let canonical_digits = !size.is_empty()
        && size.bytes().all(|b| b.is_ascii_digit())
        && (size == "0" || !size.starts_with('0'));
    if !canonical_digits {
        return Err(bad(format!(
            "tree size {size:?} must be decimal digits without leading zeros"
        )));
    }
    let tree_size: u64 = size
        .parse()
        .map_err(|_| bad(format!("tree size {size} does not fit in 64 bits")))?;
    if tree_size > MAX_TREE_SIZE {
        return Err(TlogError::SizeTooLarge { size: tree_size });
    }
    let root = Hash::from_base64(root).map_err(|e| bad(format!("root hash: {e}")))?;
    let extensions: Vec<String> = lines.map(str::to_string).collect();
    if extensions.len() > MAX_EXTENSION_LINES {
        return Err(bad(format!(
            "more than {MAX_EXTENSION_LINES} extension lines"
        )));
    }
    if extensions.iter().any(String::is_empty) {
        return Err(bad("extension lines must not be empty".into()));
    }
    Ok(Checkpoint {
        origin: origin.to_string(),
        tree_size,
        root,
        extensions,
    })
}

/// The log's signed note for `cp`. The log key must be a 0x01 note key
/// whose name is the origin (C2SP tlog-checkpoint, "Signatures": the key
/// name SHOULD match the origin; [`open_checkpoint`] requires it). The text
/// is re-parsed before signing so the log never signs a checkpoint that
/// would not parse back to itself.
pub fn sign_checkpoint(cp: &Checkpoint, log: &Signer) -> Result<Note, TlogError> {
    if log.alg() != ALG_ED25519 {
        return Err(TlogError::BadKey(
            "a log signs checkpoints with an Ed25519 (0x01) note key".into(),
        ));
    }
    if log.name() != cp.origin {
        return Err(TlogError::OriginMismatch {
            origin: cp.origin.clone(),
            key_name: log.name().to_string(),
        });
    }
    let text = format_checkpoint(cp);
    if parse_checkpoint(&text)? != *cp {
        return Err(TlogError::Malformed(
            "checkpoint does not survive formatting: a field contains a newline".into(),
        ));
    }
    let sig = sign_note(&text, log, 0)?;
    Ok(Note {
        text,
        signatures: vec![sig],
    })
}

/// A witness's cosignature/v1 line for the checkpoint text `note_text`
/// (C2SP tlog-cosignature, "Ed25519 signed message"). Only well-formed
/// checkpoints are cosigned. Checking the log's signature and consistency
/// with what the witness saw before is the witness's job before calling.
pub fn cosign_checkpoint(
    note_text: &str,
    witness: &Signer,
    timestamp: u64,
) -> Result<NoteSignature, TlogError> {
    if witness.alg() != ALG_COSIGNATURE_V1 {
        return Err(TlogError::BadKey(
            "a witness cosigns with a cosignature/v1 (0x04) key".into(),
        ));
    }
    parse_checkpoint(note_text)?;
    sign_note(note_text, witness, timestamp)
}

/// Opens a signed checkpoint: the note must carry a valid signature by
/// `log_key` (a 0x01 key named after the origin); witness cosignatures from
/// `witnesses` (0x04 keys) are verified and returned with their
/// timestamps. A signature from a known key that fails rejects the whole
/// note; lines from unknown keys are ignored (C2SP signed-note,
/// "Signatures"). Whether enough witnesses signed is the caller's policy.
pub fn open_checkpoint(
    note_text_with_sigs: &str,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<(Checkpoint, Note, Cosignatures), TlogError> {
    if log_key.alg != ALG_ED25519 {
        return Err(TlogError::BadKey(format!(
            "log key {} must be an Ed25519 (0x01) note key",
            log_key.name
        )));
    }
    if let Some(w) = witnesses.iter().find(|w| w.alg != ALG_COSIGNATURE_V1) {
        return Err(TlogError::BadKey(format!(
            "witness key {} must be a cosignature/v1 (0x04) key",
            w.name
        )));
    }
    let note = Note::parse(note_text_with_sigs)?;
    // The text means nothing until the log's signature on it is checked.
    verify_note(&note, std::slice::from_ref(log_key))?;
    let cp = parse_checkpoint(&note.text)?;
    if cp.origin != log_key.name {
        return Err(TlogError::OriginMismatch {
            origin: cp.origin,
            key_name: log_key.name.clone(),
        });
    }
    let cosigned = verify_known(&note, witnesses)?
        .into_iter()
        // Every 0x04 signature that verifies carries a timestamp.
        .filter_map(|(key, ts)| ts.map(|t| (key, t)))
        .collect();
    Ok((cp, note, cosigned))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::tlog::golden;
    use crate::tlog::hash::record_hash;
    use crate::tlog::tree::{append, tree_hash};

    const LOG_NAME: &str = "trustfund.example/estates/dongfang";
    const WITNESS_NAME: &str = "trustfund.example/witness/committee-1";
    const COSIGN_TIME: u64 = 1_767_225_600;

    fn log_signer() -> Signer {
        Signer::from_seed(LOG_NAME, ALG_ED25519, &[7u8; 32]).unwrap()
    }

    fn witness_signer() -> Signer {
        Signer::from_seed(WITNESS_NAME, ALG_COSIGNATURE_V1, &[9u8; 32]).unwrap()
    }

    /// The tree of the first seven RFC 6962 test leaves, built by `append`.
    fn rfc_checkpoint() -> Checkpoint {
        let leaves = [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
        ];
        let mut store = HashMap::new();
        for (i, l) in leaves.iter().enumerate() {
            let leaf = record_hash(&hex::decode(l).unwrap());
            for (id, h) in append(i as u64, leaf, &store).unwrap() {
                store.insert(id, h);
            }
        }
        let root = tree_hash(7, &store).unwrap();
        assert_eq!(
            root.to_hex(),
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"
        );
        Checkpoint {
            origin: LOG_NAME.into(),
            tree_size: 7,
            root,
            extensions: vec![],
        }
    }

    #[test]
    fn golden_signed_and_cosigned_checkpoints() {
        let cp = rfc_checkpoint();
        let note = sign_checkpoint(&cp, &log_signer()).unwrap();
        golden::check("checkpoint.txt", &note.format());
        golden::check(
            "log.vkey",
            &format!("{}\n", log_signer().verifier_key().format()),
        );

        let cosig = cosign_checkpoint(&note.text, &witness_signer(), COSIGN_TIME).unwrap();
        let mut cosigned = note.clone();
        cosigned.signatures.push(cosig);
        golden::check("cosigned.txt", &cosigned.format());
        golden::check(
            "witness.vkey",
            &format!("{}\n", witness_signer().verifier_key().format()),
        );

        // The committed files open with the committed keys alone.
        let log_key = VerifierKey::parse(golden::read("log.vkey").trim_end_matches('\n')).unwrap();
        let witness_key =
            VerifierKey::parse(golden::read("witness.vkey").trim_end_matches('\n')).unwrap();
        let (got, _, witnesses) = open_checkpoint(
            &golden::read("checkpoint.txt"),
            &log_key,
            std::slice::from_ref(&witness_key),
        )
        .unwrap();
        assert_eq!(got, cp);
        assert!(witnesses.is_empty());
        let (got, opened, witnesses) = open_checkpoint(
            &golden::read("cosigned.txt"),
            &log_key,
            std::slice::from_ref(&witness_key),
        )
        .unwrap();
        assert_eq!(got, cp);
        assert_eq!(opened, cosigned);
        assert_eq!(witnesses, vec![(witness_key, COSIGN_TIME)]);
    }

    #[test]
    fn format_parse_round_trip() {
        let mut cp = rfc_checkpoint();
        assert_eq!(
            format_checkpoint(&cp),
            format!("{LOG_NAME}\n7\n3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=\n")
        );
        assert_eq!(parse_checkpoint(&format_checkpoint(&cp)).unwrap(), cp);
        cp.extensions = vec!["ext one".into(), "— two".into()];
        assert_eq!(parse_checkpoint(&format_checkpoint(&cp)).unwrap(), cp);
        cp.tree_size = 0;
        assert_eq!(parse_checkpoint(&format_checkpoint(&cp)).unwrap(), cp);
    }

    #[test]
    fn strict_parsing() {
        let root = rfc_checkpoint().root.to_base64();
        let good = format!("o.example\n7\n{root}\n");
        parse_checkpoint(&good).unwrap();
        let noncanonical_root = format!("{}B=", &root[..root.len() - 2]);
        let bad = [
            format!("o.example\n7\n{root}"),
            "o.example\n7\n".to_string(),
            format!("o.example\n07\n{root}\n"),
            format!("o.example\n00\n{root}\n"),
            format!("o.example\n+7\n{root}\n"),
            format!("o.example\n-7\n{root}\n"),
            format!("o.example\n 7\n{root}\n"),
            format!("o.example\n\n{root}\n"),
            format!("o.example\n18446744073709551616\n{root}\n"),
            format!("o.example\n{}\n{root}\n", MAX_TREE_SIZE + 1),
            format!("o.example\n7\n{noncanonical_root}\n"),
            format!("o.example\n7\n{}\n", root.trim_end_matches('=')),
            "o.example\n7\nAAAA\n".to_string(),
            format!("o.example\n7\n{root}\n\n"),
            format!("o.example\n7\n{root}\next\n\n"),
            format!("o.example\n7\n{root}\r\n"),
            format!("\n7\n{root}\n"),
            format!("o example\n7\n{root}\n"),
            format!("o+example\n7\n{root}\n"),
            format!(
                "o.example\n7\n{root}\n{}",
                "e\n".repeat(MAX_EXTENSION_LINES + 1)
            ),
        ];
        for text in &bad {
            assert!(parse_checkpoint(text).is_err(), "accepted {text:?}");
        }
        let max = format!("o.example\n{MAX_TREE_SIZE}\n{root}\n");
        assert_eq!(parse_checkpoint(&max).unwrap().tree_size, MAX_TREE_SIZE);
    }

    #[test]
    fn signing_rules() {
        let cp = rfc_checkpoint();
        let mut other = cp.clone();
        other.origin = "someone.else/log".into();
        assert!(matches!(
            sign_checkpoint(&other, &log_signer()),
            Err(TlogError::OriginMismatch { .. })
        ));
        let mut newline = cp.clone();
        newline.extensions = vec!["a\nb".into()];
        assert!(sign_checkpoint(&newline, &log_signer()).is_err());
        let mut empty_ext = cp.clone();
        empty_ext.extensions = vec![String::new()];
        assert!(sign_checkpoint(&empty_ext, &log_signer()).is_err());
        // Roles are not interchangeable.
        let as_cosigner = Signer::from_seed(LOG_NAME, ALG_COSIGNATURE_V1, &[7u8; 32]).unwrap();
        assert!(sign_checkpoint(&cp, &as_cosigner).is_err());
        let text = format_checkpoint(&cp);
        assert!(cosign_checkpoint(&text, &log_signer(), COSIGN_TIME).is_err());
        assert!(cosign_checkpoint("not a checkpoint\n", &witness_signer(), 1).is_err());
    }

    #[test]
    fn opening_rules() {
        let cp = rfc_checkpoint();
        let log_key = log_signer().verifier_key();
        let witness_key = witness_signer().verifier_key();
        let note = sign_checkpoint(&cp, &log_signer()).unwrap();
        let mut cosigned = note.clone();
        cosigned
            .signatures
            .push(cosign_checkpoint(&note.text, &witness_signer(), COSIGN_TIME).unwrap());
        let text = cosigned.format();

        // Without the log's signature there is nothing to open.
        let only_witness = Note {
            text: note.text.clone(),
            signatures: vec![cosigned.signatures[1].clone()],
        };
        assert_eq!(
            open_checkpoint(
                &only_witness.format(),
                &log_key,
                std::slice::from_ref(&witness_key)
            ),
            Err(TlogError::NoTrustedSignature)
        );
        // Keys in the wrong role are refused.
        assert!(open_checkpoint(&text, &witness_key, &[]).is_err());
        assert!(open_checkpoint(&text, &log_key, std::slice::from_ref(&log_key)).is_err());
        // A log key whose name is not the origin.
        let stranger = Signer::from_seed("other.example/log", ALG_ED25519, &[7u8; 32]).unwrap();
        let forged = Note {
            text: note.text.clone(),
            signatures: vec![sign_note(&note.text, &stranger, 0).unwrap()],
        };
        assert!(matches!(
            open_checkpoint(&forged.format(), &stranger.verifier_key(), &[]),
            Err(TlogError::OriginMismatch { .. })
        ));
        // A signed note that is not a checkpoint.
        let prose = Note {
            text: "hello\n".into(),
            signatures: vec![sign_note("hello\n", &log_signer(), 0).unwrap()],
        };
        assert!(open_checkpoint(&prose.format(), &log_key, &[]).is_err());
        // An unknown witness is ignored, not an error.
        let (_, _, w) = open_checkpoint(&text, &log_key, &[]).unwrap();
        assert!(w.is_empty());
    }

    /// Any changed byte either breaks the note or, when it only renames a
    /// witness line into an unknown key, drops that cosignature: it never
    /// yields another checkpoint or a cosignature the witness did not make.
    #[test]
    fn every_byte_flip_is_rejected() {
        let log_key = log_signer().verifier_key();
        let witness_key = witness_signer().verifier_key();
        let cp = rfc_checkpoint();
        for (file, cosigned) in [("checkpoint.txt", false), ("cosigned.txt", true)] {
            let text = golden::read(file);
            let bytes = text.as_bytes();
            for i in 0..bytes.len() {
                for mangle in [
                    |b: u8| b ^ 0x01,
                    |b: u8| b.wrapping_add(1),
                    |b: u8| b ^ 0x40,
                ] {
                    let mut m = bytes.to_vec();
                    m[i] = mangle(m[i]);
                    let Ok(s) = std::str::from_utf8(&m) else {
                        continue;
                    };
                    match open_checkpoint(s, &log_key, std::slice::from_ref(&witness_key)) {
                        Err(_) => {}
                        Ok((got, _, witnesses)) => {
                            assert!(
                                cosigned && got == cp && witnesses.is_empty(),
                                "{file} byte {i}: {s:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
