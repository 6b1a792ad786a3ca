//! `trustfund sign`: an approver signs a claim on their own computer. The
//! claim's exact bytes are shown decoded, with the exact approval message
//! (`docs/FORMAT.md` §10), before the key file is unlocked.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ring::digest::{digest, SHA256};
use serde_json::{json, Value};

use super::keygen::{read_passphrase, read_stdin_line};
use crate::approver_key::{KeyFile, Passphrase, MAX_KEY_FILE_BYTES};
use crate::ledger::approval::{approval_message, encode_signature, Decision};
use crate::ledger::{Body, Entry};
use crate::tlog::checkpoint::parse_checkpoint;
use crate::tlog::note::Note;
use crate::tlog::record_hash;

/// Entries asked for per page when reading the policy version from the
/// log; the server's own bound (`MAX_ENTRIES_PER_READ`).
const PAGE: u64 = crate::store::MAX_ENTRIES_PER_READ;
/// Largest entry file read in offline mode.
const MAX_ENTRY_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The approver key file (from `trustfund keygen`).
    #[arg(long)]
    key: PathBuf,
    /// The server, e.g. http://127.0.0.1:8080 (with --estate).
    #[arg(long, conflicts_with_all = ["entry", "origin", "policy"])]
    url: Option<String>,
    /// The estate's slug (with --url).
    #[arg(long)]
    estate: Option<String>,
    /// The claim's entry number.
    #[arg(long)]
    claim: u64,
    /// approve or reject.
    #[arg(long)]
    decision: String,
    /// Sign without asking "Sign? [y/N]".
    #[arg(long)]
    yes: bool,
    /// Offline: a file with the claim entry's exact bytes (with --origin
    /// and --policy).
    #[arg(long)]
    entry: Option<PathBuf>,
    /// Offline: the estate's log origin.
    #[arg(long)]
    origin: Option<String>,
    /// Offline: the policy version in force.
    #[arg(long)]
    policy: Option<u32>,
}

/// What the signature is over, wherever it came from.
struct Subject {
    entry_bytes: String,
    origin: String,
    policy: u32,
}

fn parse_decision(s: &str) -> Result<Decision, String> {
    match s {
        "approve" => Ok(Decision::Approve),
        "reject" => Ok(Decision::Reject),
        _ => Err(format!("--decision {s:?}: must be approve or reject")),
    }
}

pub async fn run(args: SignArgs) -> Result<ExitCode, String> {
    let decision = parse_decision(&args.decision)?;
    let key_path = args.key.display().to_string();
    let key_text = read_bounded(&args.key, MAX_KEY_FILE_BYTES as u64)
        .map_err(|e| format!("--key {key_path}: {e}"))?;
    let key = KeyFile::parse(&key_text).map_err(|e| format!("--key {key_path}: {e}"))?;

    let subject = match (&args.url, &args.entry) {
        (Some(url), None) => {
            let slug = args
                .estate
                .as_deref()
                .ok_or("--estate is required with --url")?;
            fetch(url, slug, args.claim).await?
        }
        (None, Some(path)) => {
            let p = path.display().to_string();
            let origin = args
                .origin
                .clone()
                .ok_or("--origin is required with --entry")?;
            let policy = args.policy.ok_or("--policy is required with --entry")?;
            let raw = read_bounded(path, MAX_ENTRY_FILE_BYTES)
                .map_err(|e| format!("--entry {p}: {e}"))?;
            // Canonical JSON never ends in a newline, so dropping one that
            // an editor or `curl -o` left cannot change which bytes are meant.
            let entry_bytes = raw.strip_suffix('\n').unwrap_or(&raw).to_string();
            Subject {
                entry_bytes,
                origin,
                policy,
            }
        }
        _ => {
            return Err(
                "give either --url with --estate, or --entry with --origin and --policy".into(),
            )
        }
    };

    let entry = Entry::parse(&subject.entry_bytes)
        .map_err(|e| format!("--claim {}: the entry does not parse: {e}", args.claim))?;
    if entry.seq != args.claim {
        return Err(format!(
            "--claim {}: the entry given is entry {}",
            args.claim, entry.seq
        ));
    }
    if let Some(slug) = &args.estate {
        if entry.estate.as_str() != slug {
            return Err(format!(
                "--estate {slug}: the entry belongs to estate {}",
                entry.estate
            ));
        }
    }
    let Body::ClaimSubmitted {
        account,
        category,
        payee,
        amount,
        purpose,
        expires,
        ..
    } = &entry.body
    else {
        return Err(format!(
            "--claim {}: entry {} is a {}, not a claim_submitted",
            args.claim,
            entry.seq,
            entry.body.kind()
        ));
    };
    let claim_hash = record_hash(subject.entry_bytes.as_bytes());
    let message = approval_message(
        &subject.origin,
        entry.seq,
        &claim_hash,
        decision,
        subject.policy,
    );
    let message_sha = hex::encode(digest(&SHA256, message.as_bytes()));

    println!("estate:    {} ({})", entry.estate, subject.origin);
    println!("claim:     {} (hash {})", entry.seq, claim_hash.to_hex());
    println!("payee:     {payee}");
    println!("amount:    ¥{amount} ({})", amount.to_chinese_capital());
    println!("account:   {account}");
    println!("category:  {category}");
    println!("purpose:   {purpose}");
    println!("expires:   {expires}");
    println!("decision:  {}", decision.as_str());
    println!("policy:    {}", subject.policy);
    println!("signer:    {}", key.verifier_key());
    println!("message (exact bytes signed):");
    print!("{message}");
    println!("message SHA-256: {message_sha}");

    if !args.yes {
        // The prompt goes to stderr, so stdout stays the record: the
        // decoded claim, the message, and the JSON as its last line.
        eprint!("Sign? [y/N] ");
        std::io::stderr().flush().map_err(|e| e.to_string())?;
        let answer = read_stdin_line("confirmation")?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("trustfund: not signed");
            return Ok(ExitCode::from(1));
        }
    }
    let pass = Passphrase::attempt(&read_passphrase()?).map_err(|e| format!("passphrase: {e}"))?;
    let signer = key
        .unlock(&pass)
        .map_err(|e| format!("--key {key_path}: {e}"))?;
    let signature = encode_signature(&signer.sign_raw(message.as_bytes()));
    println!(
        "{}",
        json!({
            "claim": entry.seq,
            "decision": decision.as_str(),
            "policy": subject.policy,
            "member_key": key.verifier_key(),
            "signature": signature,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// A file's text, refused when larger than `max` bytes.
fn read_bounded(path: &std::path::Path, max: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > max {
        return Err(format!("file exceeds {max} bytes"));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// The claim's bytes, the estate's origin and the policy version in force,
/// from the server's public endpoints.
async fn fetch(url: &str, slug: &str, seq: u64) -> Result<Subject, String> {
    let base = url.trim_end_matches('/');
    if !base.starts_with("http://") {
        return Err(format!("--url {url}: must start with http://"));
    }
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let r = client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("--url {url}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("--url {url}: HTTP {}", r.status()));
            }
            r.text().await.map_err(|e| format!("--url {url}: {e}"))
        }
    };
    let estates: Vec<Value> = serde_json::from_str(&get("/api/v1/estates".into()).await?)
        .map_err(|e| format!("--url {base}/api/v1/estates: {e}"))?;
    let origin = estates
        .iter()
        .find(|e| e["slug"].as_str() == Some(slug))
        .and_then(|e| e["origin"].as_str())
        .ok_or_else(|| format!("--estate {slug}: the server has no such estate"))?
        .to_string();
    let entry_bytes = get(format!("/estates/{slug}/log/entries/{seq}")).await?;

    // The policy version is not in any summary, so read it from the log:
    // the last policy_set entry up to the latest checkpoint.
    let note = get(format!("/estates/{slug}/log/checkpoint")).await?;
    let cp = Note::parse(&note)
        .and_then(|n| parse_checkpoint(&n.text))
        .map_err(|e| format!("--url {base}: checkpoint: {e}"))?;
    if cp.origin != origin {
        return Err(format!(
            "--estate {slug}: checkpoint origin {} is not the estate's origin {origin}",
            cp.origin
        ));
    }
    let mut policy = None;
    let mut start = 0;
    while start < cp.tree_size {
        let end = cp.tree_size.min(start + PAGE);
        let page: Vec<String> = serde_json::from_str(
            &get(format!(
                "/estates/{slug}/log/entries?start={start}&end={end}"
            ))
            .await?,
        )
        .map_err(|e| format!("--url {base}: entries {start}..{end}: {e}"))?;
        if page.len() as u64 != end - start {
            return Err(format!("--url {base}: entries {start}..{end}: wrong count"));
        }
        for bytes in &page {
            let e = Entry::parse(bytes).map_err(|e| format!("--url {base}: entry: {e}"))?;
            if let Body::PolicySet { version, .. } = e.body {
                policy = Some(version);
            }
        }
        start = end;
    }
    let policy =
        policy.ok_or_else(|| format!("--estate {slug}: the log has no policy_set entry"))?;
    Ok(Subject {
        entry_bytes,
        origin,
        policy,
    })
}
