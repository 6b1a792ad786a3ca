//! `trustfund verify`: check a bundle (or a live server) offline, and
//! remember what was seen so that rewritten history is caught.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::ledger::{Account, FundAccount};
use crate::tlog::checkpoint::{open_checkpoint, parse_checkpoint};
use crate::tlog::note::{Note, VerifierKey};
use crate::tlog::tree::check_consistency;
use crate::tlog::Hash;
use crate::verify::{bundle_statement, verify_bundle, Bundle, VerifyError};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A bundle file (statement or full log) to verify offline.
    #[arg(required_unless_present = "url", conflicts_with = "url")]
    bundle: Option<PathBuf>,
    /// Instead of a bundle, check a running server's latest checkpoint
    /// against the one remembered (http://host:port).
    #[arg(long, requires = "estate")]
    url: Option<String>,
    /// The estate's slug, with --url.
    #[arg(long)]
    estate: Option<String>,
    /// The log key you trust (note verifier key). Without it, the key
    /// remembered from an earlier run is used, or the first one seen.
    #[arg(long)]
    log_key: Option<String>,
    /// Where remembered checkpoints are kept.
    #[arg(long, env = "TRUSTFUND_VERIFY_STATE")]
    state: Option<PathBuf>,
    /// Check only; do not remember this checkpoint.
    #[arg(long)]
    no_remember: bool,
    /// Language of the report.
    #[arg(long, value_enum, default_value = "zh")]
    lang: Lang,
}

/// What the verifier remembers per log origin.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    version: u32,
    logs: BTreeMap<String, Seen>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Seen {
    log_key: String,
    tree_size: u64,
    root: String,
    checkpoint: String,
}

fn default_state_path() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".trustfund").join("verified.json")
}

fn load_state(path: &Path) -> Result<Remembered, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a verify state file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Remembered {
            version: 1,
            logs: BTreeMap::new(),
        }),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes the state file atomically: a crash leaves the old or the new
/// file, never half of one.
fn save_state(path: &Path, state: &Remembered) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Keeps both signed checkpoints as evidence of a rewritten history.
fn save_evidence(
    state_path: &Path,
    origin: &str,
    old: &Seen,
    new_note: &str,
    new_size: u64,
) -> Result<PathBuf, String> {
    let dir = state_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("evidence");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name: String = origin
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    std::fs::write(
        dir.join(format!("{name}-{}-remembered.txt", old.tree_size)),
        &old.checkpoint,
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join(format!("{name}-{new_size}-presented.txt",)),
        new_note,
    )
    .map_err(|e| e.to_string())?;
    Ok(dir)
}

struct Say(Lang);

impl Say {
    fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

pub async fn run(args: VerifyArgs) -> Result<ExitCode, String> {
    let say = Say(args.lang);
    let state_path = args.state.clone().unwrap_or_else(default_state_path);
    let mut remembered = if args.no_remember {
        Remembered::default()
    } else {
        load_state(&state_path)?
    };
    let pinned = args
        .log_key
        .as_deref()
        .map(VerifierKey::parse)
        .transpose()
        .map_err(|e| format!("--log-key: {e}"))?;
    match &args.bundle {
        Some(path) => verify_file(&args, &say, path, pinned, &state_path, &mut remembered),
        None => verify_url(&args, &say, pinned, &state_path, &mut remembered).await,
    }
}

fn fail(say: &Say, e: &VerifyError) -> ExitCode {
    let msg = match say.0 {
        Lang::Zh => e.zh(),
        Lang::En => e.to_string(),
    };
    println!("{} {msg}", say.pick("核验失败：", "VERIFICATION FAILED:"));
    ExitCode::from(1)
}

/// Compares a new checkpoint with the remembered one. `root_at_old` gives
/// the new log's root at the remembered size (None if it is shorter).
fn check_history(
    say: &Say,
    state_path: &Path,
    origin: &str,
    seen: Option<&Seen>,
    new_size: u64,
    new_note: &str,
    root_at_old: impl FnOnce(u64) -> Option<Hash>,
) -> Result<Option<String>, ExitCode> {
    let Some(old) = seen else {
        return Ok(Some(
            say.pick("首次核验此日志", "first time this log is seen")
                .into(),
        ));
    };
    let old_root = Hash::from_base64(&old.root).ok();
    let consistent =
        old.tree_size <= new_size && old_root.is_some() && root_at_old(old.tree_size) == old_root;
    if consistent {
        return Ok(Some(format!(
            "{} {}",
            say.pick(
                "与之前记住的检查点一致，大小",
                "consistent with the checkpoint remembered before, size"
            ),
            old.tree_size
        )));
    }
    let evidence = save_evidence(state_path, origin, old, new_note, new_size).unwrap_or_default();
    let why = if old.tree_size > new_size {
        say.pick(
            "日志比之前看到的还短",
            "the log is shorter than the one seen before",
        )
    } else {
        say.pick("之前看到的记录被改写了", "entries seen before were changed")
    };
    println!(
        "{} {why} ({} {}, {} {new_size}). {} {}",
        say.pick("历史被改写！", "REWRITTEN HISTORY:"),
        say.pick("之前大小", "remembered size"),
        old.tree_size,
        say.pick("现在", "now"),
        say.pick(
            "两个签名检查点已保存为证据：",
            "both signed checkpoints saved as evidence in"
        ),
        evidence.display()
    );
    Err(ExitCode::from(1))
}

fn verify_file(
    args: &VerifyArgs,
    say: &Say,
    path: &Path,
    pinned: Option<VerifierKey>,
    state_path: &Path,
    remembered: &mut Remembered,
) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bundle: Bundle = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => return Ok(fail(say, &VerifyError::Format(e.to_string()))),
    };
    let seen = remembered.logs.get(&bundle.origin).cloned();
    let pinned = match (pinned, &seen) {
        (Some(k), _) => Some(k),
        (None, Some(s)) => VerifierKey::parse(&s.log_key).ok(),
        (None, None) => None,
    };
    let verified = match verify_bundle(&bundle, pinned.as_ref()) {
        Ok(v) => v,
        Err(e) => return Ok(fail(say, &e)),
    };
    let size = verified.checkpoint.tree_size;
    let history = match check_history(
        say,
        state_path,
        &bundle.origin,
        seen.as_ref(),
        size,
        &bundle.checkpoint,
        |m| verified.root_at(m),
    ) {
        Ok(h) => h,
        Err(code) => return Ok(code),
    };
    if !args.no_remember && seen.as_ref().is_none_or(|s| s.tree_size <= size) {
        remembered.version = 1;
        remembered.logs.insert(
            bundle.origin.clone(),
            Seen {
                log_key: verified.log_key.format(),
                tree_size: size,
                root: verified.checkpoint.root.to_base64(),
                checkpoint: bundle.checkpoint.clone(),
            },
        );
        save_state(state_path, remembered)?;
    }

    // The report.
    let st = &verified.state;
    let name = st.estate().map(|e| e.origin.clone()).unwrap_or_default();
    println!("{} {name}", say.pick("核验通过：", "VERIFIED:"));
    println!(
        "  {} {size}, {} {}",
        say.pick("记录条数", "entries"),
        say.pick("根哈希", "root"),
        verified.checkpoint.root.to_base64()
    );
    println!(
        "  {} {}",
        say.pick("日志签名公钥", "signed by log key"),
        verified.log_key.format()
    );
    let names: Vec<String> = verified
        .witnesses
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    println!(
        "  {} {} ({} {})",
        say.pick("见证人联署", "witnessed by"),
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join(", ")
        },
        say.pick("要求业委会联署数", "committee quorum"),
        verified.quorum
    );
    let bal = |a| {
        crate::domain::Money::from_fen(st.balance_fen(&Account::Fund(a)))
            .unwrap_or_default()
            .format_cny()
    };
    println!(
        "  {} {}  {} {}  {} {}",
        say.pick("物业费账户", "operating"),
        bal(FundAccount::Operating),
        say.pick("公共收益账户", "public income"),
        bal(FundAccount::PublicIncome),
        say.pick("维修资金", "reserve"),
        bal(FundAccount::Reserve)
    );
    if let Some((seq, s)) = bundle_statement(&verified, &bundle) {
        println!(
            "  {} {} (seq {seq}): {} {}, {} {}, {} {}, {} {} / {}, {} {}",
            say.pick("月度对账单", "statement"),
            s.period,
            say.pick("实收物业费", "fees collected"),
            s.fees_collected.format_cny(),
            say.pick("公共收益", "public income"),
            s.public_income_total().format_cny(),
            say.pick("支出", "spending"),
            s.spending_total().format_cny(),
            say.pick("酬金", "remuneration"),
            s.remuneration.taken.format_cny(),
            s.remuneration.entitlement.format_cny(),
            say.pick("欠费", "arrears"),
            s.arrears.format_cny()
        );
    }
    if let Some(h) = history {
        println!("  {h}");
    }
    if !args.no_remember {
        println!(
            "  {} {}",
            say.pick("已记住该检查点：", "checkpoint remembered in"),
            state_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify_url(
    args: &VerifyArgs,
    say: &Say,
    pinned: Option<VerifierKey>,
    state_path: &Path,
    remembered: &mut Remembered,
) -> Result<ExitCode, String> {
    let base = args.url.as_deref().unwrap_or("").trim_end_matches('/');
    let slug = args.estate.as_deref().unwrap_or("");
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let r = client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("{url}: HTTP {}", r.status()));
            }
            r.text().await.map_err(|e| format!("{url}: {e}"))
        }
    };
    let note = get(format!("/estates/{slug}/log/checkpoint")).await?;
    let text = Note::parse(&note)
        .map_err(|e| format!("checkpoint: {e}"))?
        .text;
    let origin = parse_checkpoint(&text)
        .map_err(|e| format!("checkpoint: {e}"))?
        .origin;
    let seen = remembered.logs.get(&origin).cloned();
    let policy = get(format!("/estates/{slug}/log/policy")).await?;
    let log_key = match (pinned, &seen) {
        (Some(k), _) => k,
        (None, Some(s)) => VerifierKey::parse(&s.log_key).map_err(|e| e.to_string())?,
        (None, None) => {
            let line = policy
                .lines()
                .find_map(|l| l.strip_prefix("log "))
                .ok_or("policy has no log line")?;
            println!(
                "  {}",
                say.pick(
                    "注意：首次使用，信任服务器提供的日志公钥",
                    "note: first use; trusting the log key the server names"
                )
            );
            VerifierKey::parse(line.split_whitespace().next().unwrap_or(""))
                .map_err(|e| e.to_string())?
        }
    };
    let witnesses: Vec<VerifierKey> = policy
        .lines()
        .filter_map(|l| l.strip_prefix("witness "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|k| VerifierKey::parse(k).ok())
        .collect();
    let (cp, _, cosigned) = match open_checkpoint(&note, &log_key, &witnesses) {
        Ok(x) => x,
        Err(e) => return Ok(fail(say, &VerifyError::LogSignature(e.to_string()))),
    };
    // With a remembered checkpoint, the server must prove it only appended.
    let mut proof_ok = None;
    if let Some(old) = &seen {
        if old.tree_size < cp.tree_size {
            let body = get(format!(
                "/estates/{slug}/log/proof/consistency?from={}&to={}",
                old.tree_size, cp.tree_size
            ))
            .await?;
            let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
            let proof: Option<Vec<Hash>> = v["proof"].as_array().map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().and_then(|s| Hash::from_base64(s).ok()))
                    .collect()
            });
            let old_root = Hash::from_base64(&old.root).ok();
            proof_ok = Some(match (proof, old_root) {
                (Some(p), Some(r)) => {
                    check_consistency(&p, old.tree_size, cp.tree_size, &r, &cp.root).is_ok()
                }
                _ => false,
            });
        }
    }
    let history = check_history(
        say,
        state_path,
        &origin,
        seen.as_ref(),
        cp.tree_size,
        &note,
        |m| {
            let old = seen.as_ref()?;
            if m == cp.tree_size {
                Some(cp.root)
            } else if proof_ok == Some(true) {
                Hash::from_base64(&old.root).ok()
            } else {
                None
            }
        },
    );
    let history = match history {
        Ok(h) => h,
        Err(code) => return Ok(code),
    };
    if !args.no_remember {
        remembered.version = 1;
        remembered.logs.insert(
            origin.clone(),
            Seen {
                log_key: log_key.format(),
                tree_size: cp.tree_size,
                root: cp.root.to_base64(),
                checkpoint: note.clone(),
            },
        );
        save_state(state_path, remembered)?;
    }
    println!("{} {origin}", say.pick("核验通过：", "VERIFIED:"));
    println!(
        "  {} {}, {} {}",
        say.pick("检查点大小", "checkpoint size"),
        cp.tree_size,
        say.pick("根哈希", "root"),
        cp.root.to_base64()
    );
    let names: Vec<String> = cosigned.iter().map(|(k, _)| k.name.clone()).collect();
    println!(
        "  {} {}",
        say.pick("见证人联署", "witnessed by"),
        if names.is_empty() {
            "-".into()
        } else {
            names.join(", ")
        }
    );
    println!(
        "  {}",
        say.pick(
            "此模式只核验日志签名与一致性证明；账目规则、对账单与见证法定人数请用 trustfund verify 数据包核验",
            "this mode checks the log signature and consistency only; verify a bundle for the ledger rules, statements and witness quorum"
        )
    );
    if let Some(h) = history {
        println!("  {h}");
    }
    if !args.no_remember {
        println!(
            "  {} {}",
            say.pick("已记住该检查点：", "checkpoint remembered in"),
            state_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
