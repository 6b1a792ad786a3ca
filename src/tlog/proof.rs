//! Transparency log proofs (C2SP tlog-proof, `c2sp.org/tlog-proof@v1`): one
//! text file that proves, offline, that a record is in the log — the leaf
//! index, its RFC 9162 inclusion path and the signed (and possibly
//! witnessed) checkpoint the path leads to.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, at most one line)
//! index <decimal>
//! <base64 hash>             (zero or more lines, the leaf's sibling first)
//!
//! <signed checkpoint note, verbatim, with all its signature lines>
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::checkpoint::{open_checkpoint, parse_checkpoint, Checkpoint, Cosignatures};
use super::hash::{decode_base64_canonical, record_hash, Hash};
use super::note::{Note, VerifierKey};
use super::tree::{check_inclusion, MAX_TREE_SIZE};
use super::TlogError;

/// The first line of every proof (C2SP tlog-proof, "Format").
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most inclusion proof hashes accepted. A tree of at most 2^62 leaves
/// needs at most 62; anything longer cannot be a valid path.
pub const MAX_PROOF_HASHES: usize = 64;
/// Largest proof file accepted, in bytes. A proof with a checkpoint and a
/// few dozen cosignatures is a few KiB.
pub const MAX_PROOF_SIZE: usize = 64 << 10;

const EXTRA_PREFIX: &str = "extra ";
const INDEX_PREFIX: &str = "index ";

/// A parsed tlog-proof. `checkpoint` is the signed note text exactly as it
/// appears in the file, signature lines included; nothing in a proof is
/// trusted until [`check_proof`] has opened that note with the log's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque extra data. C2SP tlog-proof allows at most one `extra` line
    /// and says it is not authenticated: [`check_proof`] never reads it.
    /// Proofs made by [`build_proof`] carry the leaf's 32-byte record hash
    /// here, so that a verifier whose data no longer hashes to it can tell
    /// "the data was changed" from "the proof was damaged". Never empty:
    /// "no extra data" is `None` (the line is then omitted).
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the leaf in the log.
    pub index: u64,
    /// `PATH(index, D[tree_size])` (RFC 9162 §2.1.3.1), sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note (C2SP signed-note), with every signature.
    pub checkpoint: String,
}

/// The proof text (C2SP tlog-proof, "Format"). The result parses back with
/// [`parse_proof`] when `p` is well formed: `extra` non-empty, at most
/// [`MAX_PROOF_HASHES`] hashes and a signed checkpoint note; [`build_proof`]
/// checks all of that before a log hands a proof out.
pub fn format_proof(p: &TlogProof) -> String {
    let mut out = String::with_capacity(64 + 45 * p.proof.len() + p.checkpoint.len());
    out.push_str(PROOF_HEADER);
    out.push('\n');
    if let Some(extra) = &p.extra {
        out.push_str(EXTRA_PREFIX);
        out.push_str(&STANDARD.encode(extra));
        out.push('\n');
    }
    out.push_str(INDEX_PREFIX);
    out.push_str(&p.index.to_string());
    out.push('\n');
    for h in &p.proof {
        out.push_str(&h.to_base64());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&p.checkpoint);
    out
}

/// Parses a proof strictly, so that each proof has exactly one text form:
/// the header line; at most one `extra` line of canonical, non-empty
/// base64; `index` in decimal without leading zeros and below 2^62; at most
/// [`MAX_PROOF_HASHES`] canonical base64 hashes; one empty line; then a
/// signed note whose text is a well-formed checkpoint. The whole file is at
/// most [`MAX_PROOF_SIZE`] bytes. Signatures are not checked here.
pub fn parse_proof(text: &str) -> Result<TlogProof, TlogError> {
    let bad = |why: String| TlogError::Malformed(format!("tlog-proof: {why}"));
    if text.len() > MAX_PROOF_SIZE {
        return Err(bad(format!("larger than {MAX_PROOF_SIZE} bytes")));
    }
    // No header or hash line is empty, so the first blank line is the one
    // before the checkpoint; the note itself has another one further on.
    let split = text
        .find("\n\n")
        .ok_or_else(|| bad("no empty line before the checkpoint".into()))?;
    let (head, checkpoint) = (&text[..split], &text[split + 2..]);
    let mut lines = head.split('\n').peekable();
    if lines.next() != Some(PROOF_HEADER) {
        return Err(bad(format!("the first line must be {PROOF_HEADER}")));
    }
    let extra = match lines.next_if(|l| l.starts_with(EXTRA_PREFIX)) {
        None => None,
        Some(line) => {
            let b64 = &line[EXTRA_PREFIX.len()..];
            let bytes = decode_base64_canonical(b64).map_err(|e| bad(format!("extra: {e}")))?;
            if bytes.is_empty() {
                return Err(bad("an extra line must carry data; omit it instead".into()));
            }
            Some(bytes)
        }
    };
    let index_line = lines
        .next()
        .ok_or_else(|| bad("missing the index line".into()))?;
    let digits = index_line
        .strip_prefix(INDEX_PREFIX)
        .ok_or_else(|| bad("want an \"index <N>\" line after the header".into()))?;
    let index = parse_decimal(digits).ok_or_else(|| {
        bad(format!(
            "index {digits:?} must be decimal digits without leading zeros"
        ))
    })?;
    if index >= MAX_TREE_SIZE {
        return Err(TlogError::IndexOutOfRange {
            index,
            size: MAX_TREE_SIZE,
        });
    }
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_PROOF_HASHES {
            return Err(bad(format!("more than {MAX_PROOF_HASHES} proof hashes")));
        }
        proof.push(Hash::from_base64(line).map_err(|e| bad(format!("proof hash: {e}")))?);
    }
    let note = Note::parse(checkpoint).map_err(|e| bad(format!("checkpoint: {e}")))?;
    // Note::parse is strict, so this only fails if it is ever loosened;
    // a proof must have one byte form for its checkpoint too.
    if note.format() != checkpoint {
        return Err(bad("checkpoint note is not in its canonical form".into()));
    }
    parse_checkpoint(&note.text)?;
    Ok(TlogProof {
        extra,
        index,
        proof,
        checkpoint: checkpoint.to_string(),
    })
}

/// ASCII digits without sign or leading zeros ("0" is "0"), as a u64.
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// Verifies a proof for `leaf_data`: the checkpoint must be signed by
/// `log_key` (a 0x01 key named after the origin, see [`open_checkpoint`]),
/// `index` must be inside the checkpointed tree, and the inclusion path
/// must lead from `record_hash(leaf_data)` (RFC 9162 §2.1.1) at `index` to
/// the checkpoint's root (RFC 9162 §2.1.3.2). Returns the checkpoint and
/// the cosignatures of `witnesses` that verified, with their timestamps;
/// whether they are enough is the caller's policy. `extra` is not read.
pub fn check_proof(
    p: &TlogProof,
    leaf_data: &[u8],
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<(Checkpoint, Cosignatures), TlogError> {
    let (cp, _, cosigned) = open_checkpoint(&p.checkpoint, log_key, witnesses)?;
    if p.index >= cp.tree_size {
        return Err(TlogError::IndexOutOfRange {
            index: p.index,
            size: cp.tree_size,
        });
    }
    check_inclusion(
        &p.proof,
        p.index,
        cp.tree_size,
        &record_hash(leaf_data),
        &cp.root,
    )?;
    Ok((cp, cosigned))
}

/// What a log hands out for the record `leaf_data` at `index`: `proof` is
/// `PATH(index, D[n])` and `signed_checkpoint` the signed note of a
/// checkpoint of size `n` (for a server: `Store::inclusion_proof(seq, n)`
/// and `latest_checkpoint().note`). `extra` is set to the record hash.
///
/// Everything but the signatures is checked first — the note parses, the
/// index is inside the tree, the path leads to the checkpoint's root, and
/// the text parses back to the same proof — so a log never serves a proof
/// that would fail for a reason of its own making (a stale checkpoint, a
/// path for another size). Format the result with [`format_proof`].
pub fn build_proof(
    leaf_data: &[u8],
    index: u64,
    proof: Vec<Hash>,
    signed_checkpoint: &str,
) -> Result<TlogProof, TlogError> {
    let note = Note::parse(signed_checkpoint)?;
    let cp = parse_checkpoint(&note.text)?;
    let leaf = record_hash(leaf_data);
    check_inclusion(&proof, index, cp.tree_size, &leaf, &cp.root)?;
    let p = TlogProof {
        extra: Some(leaf.0.to_vec()),
        index,
        proof,
        checkpoint: signed_checkpoint.to_string(),
    };
    if parse_proof(&format_proof(&p))? != p {
        return Err(TlogError::Malformed(
            "tlog-proof does not survive formatting".into(),
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::tlog::checkpoint::{cosign_checkpoint, sign_checkpoint};
    use crate::tlog::golden;
    use crate::tlog::note::{sign_note, Signer, ALG_COSIGNATURE_V1, ALG_ED25519};
    use crate::tlog::tree::{append, prove_inclusion, tree_hash, NodeId};

    // The keys, leaves and time of the checkpoint vectors, so that the
    // checkpoint inside receipt.txt is exactly cosigned.txt.
    const LOG_NAME: &str = "trustfund.example/estates/dongfang";
    const WITNESS_NAME: &str = "trustfund.example/witness/committee-1";
    const COSIGN_TIME: u64 = 1_767_225_600;
    const LEAVES: [&str; 7] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
    ];
    /// The leaf the golden proof is for: "40414243", with a 3-hash path.
    const INDEX: u64 = 5;

    fn log_signer() -> Signer {
        Signer::from_seed(LOG_NAME, ALG_ED25519, &[7u8; 32]).unwrap()
    }

    fn witness_signer() -> Signer {
        Signer::from_seed(WITNESS_NAME, ALG_COSIGNATURE_V1, &[9u8; 32]).unwrap()
    }

    fn leaf(i: u64) -> Vec<u8> {
        hex::decode(LEAVES[i as usize]).unwrap()
    }

    fn tree() -> HashMap<NodeId, Hash> {
        let mut store = HashMap::new();
        for i in 0..LEAVES.len() as u64 {
            for (id, h) in append(i, record_hash(&leaf(i)), &store).unwrap() {
                store.insert(id, h);
            }
        }
        store
    }

    /// The size-7 RFC 6962 tree's checkpoint, signed and cosigned.
    fn cosigned_note(store: &HashMap<NodeId, Hash>) -> String {
        let cp = Checkpoint {
            origin: LOG_NAME.into(),
            tree_size: 7,
            root: tree_hash(7, store).unwrap(),
            extensions: vec![],
        };
        let mut note = sign_checkpoint(&cp, &log_signer()).unwrap();
        let cosig = cosign_checkpoint(&note.text, &witness_signer(), COSIGN_TIME).unwrap();
        note.signatures.push(cosig);
        note.format()
    }

    fn golden_proof() -> TlogProof {
        let store = tree();
        let path = prove_inclusion(INDEX, 7, &store).unwrap();
        build_proof(&leaf(INDEX), INDEX, path, &cosigned_note(&store)).unwrap()
    }

    fn keys() -> (VerifierKey, VerifierKey) {
        (log_signer().verifier_key(), witness_signer().verifier_key())
    }

    #[test]
    fn golden_receipt() {
        let p = golden_proof();
        golden::check("receipt.txt", &format_proof(&p));
        // The proof embeds the committed cosigned checkpoint verbatim.
        assert_eq!(p.checkpoint, golden::read("cosigned.txt"));

        let parsed = parse_proof(&golden::read("receipt.txt")).unwrap();
        assert_eq!(parsed, p);
        assert_eq!(parsed.extra, Some(record_hash(&leaf(INDEX)).0.to_vec()));
        assert_eq!(parsed.proof.len(), 3);
        let (log_key, witness_key) = keys();
        let (cp, witnesses) = check_proof(
            &parsed,
            &leaf(INDEX),
            &log_key,
            std::slice::from_ref(&witness_key),
        )
        .unwrap();
        assert_eq!(cp.tree_size, 7);
        assert_eq!(
            cp.root.to_hex(),
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"
        );
        assert_eq!(witnesses, vec![(witness_key, COSIGN_TIME)]);
    }

    #[test]
    fn format_parse_round_trip() {
        let store = tree();
        let note = cosigned_note(&store);
        let (log_key, _) = keys();
        for i in 0..7 {
            let path = prove_inclusion(i, 7, &store).unwrap();
            for extra in [None, Some(vec![0u8]), Some(b"any opaque bytes".to_vec())] {
                let p = TlogProof {
                    extra,
                    index: i,
                    proof: path.clone(),
                    checkpoint: note.clone(),
                };
                let text = format_proof(&p);
                assert_eq!(parse_proof(&text).unwrap(), p, "{text}");
                check_proof(&p, &leaf(i), &log_key, &[]).unwrap();
            }
        }
        // A one-leaf tree: no proof hashes, so the blank line follows index.
        let one = Checkpoint {
            origin: LOG_NAME.into(),
            tree_size: 1,
            root: record_hash(b"only"),
            extensions: vec![],
        };
        let note = sign_checkpoint(&one, &log_signer()).unwrap().format();
        let p = build_proof(b"only", 0, vec![], &note).unwrap();
        let text = format_proof(&p);
        let hash_b64 = record_hash(b"only").to_base64();
        assert_eq!(
            text,
            format!("{PROOF_HEADER}\nextra {hash_b64}\nindex 0\n\n{note}")
        );
        assert_eq!(parse_proof(&text).unwrap(), p);
        check_proof(&p, b"only", &log_key, &[]).unwrap();
    }

    #[test]
    fn strict_parsing() {
        let good = format_proof(&golden_proof());
        parse_proof(&good).unwrap();
        let (head, note) = good.split_at(good.find("\n\n").unwrap() + 2);
        let lines: Vec<&str> = head.trim_end_matches('\n').split('\n').collect();
        let [_, extra, index, h1, h2, h3] = lines[..] else {
            panic!("unexpected golden shape: {lines:?}");
        };
        let join = |ls: &[&str]| format!("{}\n\n{note}", ls.join("\n"));
        let hdr = PROOF_HEADER;
        let bad = [
            join(&["c2sp.org/tlog-proof@v2", extra, index, h1, h2, h3]),
            join(&[" c2sp.org/tlog-proof@v1", extra, index, h1, h2, h3]),
            join(&[extra, index, h1, h2, h3]),
            // Two extra lines, an extra line after index, an empty extra.
            join(&[hdr, extra, extra, index, h1, h2, h3]),
            join(&[hdr, index, extra, h1, h2, h3]),
            join(&[hdr, "extra ", index, h1, h2, h3]),
            join(&[hdr, "extra", index, h1, h2, h3]),
            join(&[hdr, "extra AA", index, h1, h2, h3]),
            join(&[hdr, "extra AB==", index, h1, h2, h3]),
            // Index spellings.
            join(&[hdr, extra, "index 05", h1, h2, h3]),
            join(&[hdr, extra, "index +5", h1, h2, h3]),
            join(&[hdr, extra, "index -1", h1, h2, h3]),
            join(&[hdr, extra, "index  5", h1, h2, h3]),
            join(&[hdr, extra, "index 5 ", h1, h2, h3]),
            join(&[hdr, extra, "index", h1, h2, h3]),
            join(&[hdr, extra, "Index 5", h1, h2, h3]),
            join(&[hdr, extra, "index 18446744073709551616", h1, h2, h3]),
            join(&[hdr, extra, &format!("index {MAX_TREE_SIZE}"), h1, h2, h3]),
            join(&[hdr, extra, h1, h2, h3]),
            // Hash lines.
            join(&[hdr, extra, index, h1, &h2[1..], h3]),
            join(&[hdr, extra, index, h1, h2.trim_end_matches('='), h3]),
            join(&[hdr, extra, index, h1, &format!("{h2} "), h3]),
            join(&[hdr, extra, index, h1, &STANDARD.encode([1u8; 31]), h3]),
            // Line endings and the separator.
            join(&[hdr, extra, index, h1, h2, h3]).replacen('\n', "\r\n", 1),
            format!("{}\n{note}", [hdr, extra, index, h1, h2, h3].join("\n")),
            format!("{}\n\n\n{note}", [hdr, extra, index, h1, h2, h3].join("\n")),
            // The checkpoint: missing, unsigned, not a checkpoint, trailing bytes.
            format!("{}\n\n", [hdr, extra, index, h1, h2, h3].join("\n")),
            join(&[hdr, extra, index, h1, h2, h3]).replace("\n\n\u{2014}", "\n"),
            format!("{head}hello\n\n{}", note.split_once("\n\n").unwrap().1),
            format!("{good}x"),
            format!("{good}\n"),
        ];
        for text in &bad {
            assert!(parse_proof(text).is_err(), "accepted {text:?}");
        }
        // Bounds: 64 hashes are accepted by the parser, 65 are not.
        let many = |n: usize| {
            let hs = vec![h1; n];
            let mut ls = vec![hdr, index];
            ls.extend(hs);
            join(&ls)
        };
        assert_eq!(
            parse_proof(&many(MAX_PROOF_HASHES)).unwrap().proof.len(),
            64
        );
        assert!(parse_proof(&many(MAX_PROOF_HASHES + 1)).is_err());
        let big_extra = format!("extra {}", STANDARD.encode(vec![1u8; MAX_PROOF_SIZE]));
        assert!(parse_proof(&join(&[hdr, &big_extra, index, h1, h2, h3])).is_err());
    }

    #[test]
    fn wrong_leaf_or_index_is_rejected() {
        let p = golden_proof();
        let (log_key, _) = keys();
        check_proof(&p, &leaf(INDEX), &log_key, &[]).unwrap();
        // Another leaf of the same tree, a changed byte, nothing at all.
        for data in [leaf(4), b"@ABD".to_vec(), vec![]] {
            assert!(matches!(
                check_proof(&p, &data, &log_key, &[]),
                Err(TlogError::BadProof(_))
            ));
        }
        // Every other index inside the tree, and indexes outside it.
        for index in (0..7).filter(|&i| i != INDEX) {
            let moved = TlogProof { index, ..p.clone() };
            assert!(matches!(
                check_proof(&moved, &leaf(INDEX), &log_key, &[]),
                Err(TlogError::BadProof(_))
            ));
        }
        for index in [7, 8, MAX_TREE_SIZE - 1] {
            let outside = TlogProof { index, ..p.clone() };
            assert_eq!(
                check_proof(&outside, &leaf(INDEX), &log_key, &[]),
                Err(TlogError::IndexOutOfRange { index, size: 7 })
            );
        }
        // The right path for the wrong leaf's index.
        let store = tree();
        let other = TlogProof {
            proof: prove_inclusion(4, 7, &store).unwrap(),
            ..p.clone()
        };
        assert!(check_proof(&other, &leaf(INDEX), &log_key, &[]).is_err());
        // A log never builds a proof that does not verify.
        let note = cosigned_note(&store);
        let path = prove_inclusion(INDEX, 7, &store).unwrap();
        assert!(build_proof(&leaf(4), INDEX, path.clone(), &note).is_err());
        assert!(build_proof(&leaf(INDEX), 4, path.clone(), &note).is_err());
        assert!(build_proof(&leaf(INDEX), 7, path.clone(), &note).is_err());
        let short = path[..2].to_vec();
        assert!(build_proof(&leaf(INDEX), INDEX, short, &note).is_err());
        assert!(build_proof(&leaf(INDEX), INDEX, path, "not a note\n").is_err());
    }

    #[test]
    fn wrong_keys_are_rejected() {
        let p = golden_proof();
        let (log_key, witness_key) = keys();
        // Another key of the same name: its signature line is unknown.
        let impostor = Signer::from_seed(LOG_NAME, ALG_ED25519, &[8u8; 32]).unwrap();
        assert_eq!(
            check_proof(&p, &leaf(INDEX), &impostor.verifier_key(), &[]),
            Err(TlogError::NoTrustedSignature)
        );
        // The checkpoint re-signed by that key is refused with the real key.
        let note = Note::parse(&p.checkpoint).unwrap();
        let forged = Note {
            signatures: vec![sign_note(&note.text, &impostor, 0).unwrap()],
            ..note
        };
        let forged = TlogProof {
            checkpoint: forged.format(),
            ..p.clone()
        };
        assert_eq!(
            check_proof(&forged, &leaf(INDEX), &log_key, &[]),
            Err(TlogError::NoTrustedSignature)
        );
        // Keys in the wrong role.
        assert!(check_proof(&p, &leaf(INDEX), &witness_key, &[]).is_err());
        assert!(check_proof(&p, &leaf(INDEX), &log_key, std::slice::from_ref(&log_key)).is_err());
    }

    /// Any changed byte of the golden file is refused, except where the
    /// formats make it harmless: inside the unauthenticated `extra` data,
    /// which [`check_proof`] does not read, or in a witness's key name,
    /// which only drops that cosignature as coming from an unknown key.
    #[test]
    fn every_byte_flip_is_rejected() {
        let (log_key, witness_key) = keys();
        let text = golden::read("receipt.txt");
        let want = parse_proof(&text).unwrap();
        let (want_cp, want_witnesses) = check_proof(
            &want,
            &leaf(INDEX),
            &log_key,
            std::slice::from_ref(&witness_key),
        )
        .unwrap();
        let bytes = text.as_bytes();
        let extra_line = text.find("\nextra ").unwrap() + 1;
        let extra_end = extra_line + text[extra_line..].find('\n').unwrap();
        let mut refused = 0;
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
                let parsed = match parse_proof(s) {
                    Err(_) => {
                        refused += 1;
                        continue;
                    }
                    Ok(p) => p,
                };
                match check_proof(
                    &parsed,
                    &leaf(INDEX),
                    &log_key,
                    std::slice::from_ref(&witness_key),
                ) {
                    Err(_) => refused += 1,
                    Ok((cp, witnesses)) => {
                        assert_eq!(cp, want_cp, "byte {i}: {s:?}");
                        assert_eq!(
                            (parsed.index, &parsed.proof),
                            (want.index, &want.proof),
                            "byte {i}"
                        );
                        let in_extra = (extra_line..extra_end).contains(&i);
                        assert!(
                            (in_extra && witnesses == want_witnesses)
                                || (!in_extra && witnesses.is_empty()),
                            "byte {i}: {s:?}"
                        );
                    }
                }
            }
        }
        assert!(refused > bytes.len(), "only {refused} flips refused");
    }
}
