//! `trustfund verify`: check a bundle (or a live server) offline, and
//! remember what was seen so that rewritten history is caught.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::ledger::{Account, FundAccount, Statement};
use crate::store::MAX_ENTRIES_PER_READ;
use crate::tlog::checkpoint::parse_checkpoint;
use crate::tlog::note::{Note, VerifierKey};
use crate::tlog::Hash;
use crate::verify::{
    bundle_statement, verify_bundle_reporting, verify_live, Bundle, Uncounted, Verified,
    VerifyError, MAX_BUNDLE_ENTRIES,
};

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
    /// Instead of a bundle, check a running server's latest checkpoint and
    /// every entry it covers, with the same rules as a bundle
    /// (http://host:port).
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

/// A refusal, followed by the cosignatures that did not count: when the
/// quorum is missing, they show who tried to make it up.
fn refuse(say: &Say, e: &VerifyError, uncounted: &[Uncounted]) -> ExitCode {
    let code = fail(say, e);
    if !uncounted.is_empty() {
        println!("  {}", uncounted_line(say, uncounted));
    }
    code
}

fn uncounted_line(say: &Say, uncounted: &[Uncounted]) -> String {
    let names: Vec<String> = uncounted.iter().map(Uncounted::to_string).collect();
    format!(
        "{} {}",
        say.pick(
            "不计入的联署（其公钥不是账本成员记录中登记的见证人，不算作见证）：",
            "cosignatures that do not count (their keys are not witnesses enrolled in the ledger's member entries):"
        ),
        names.join(", ")
    )
}

/// Where the log key that was checked against came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    Pinned,
    Remembered,
    /// No `--log-key` and nothing remembered: the log's own key was taken.
    FirstUse,
}

/// The key to check the log against: `--log-key`, else the one remembered
/// for this origin, else none (trust on first use, said in the report).
fn trusted_key(
    pinned: Option<VerifierKey>,
    seen: Option<&Seen>,
) -> Result<(Option<VerifierKey>, KeySource), String> {
    match (pinned, seen) {
        (Some(k), _) => Ok((Some(k), KeySource::Pinned)),
        (None, Some(s)) => {
            // A damaged state file must not quietly turn into first use.
            let k = VerifierKey::parse(&s.log_key)
                .map_err(|e| format!("remembered log key for {}: {e}", s.log_key))?;
            Ok((Some(k), KeySource::Remembered))
        }
        (None, None) => Ok((None, KeySource::FirstUse)),
    }
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
    let (trusted, source) = trusted_key(pinned, seen.as_ref())?;
    let (result, uncounted) = verify_bundle_reporting(&bundle, trusted.as_ref());
    let verified = match result {
        Ok(v) => v,
        Err(e) => return Ok(refuse(say, &e, &uncounted)),
    };
    let statement = bundle_statement(&verified, &bundle);
    conclude(
        args,
        say,
        state_path,
        remembered,
        Outcome {
            seen,
            note: &bundle.checkpoint,
            verified: &verified,
            uncounted: &uncounted,
            source,
            statement,
        },
    )
}

/// Checks a live server with the same rules as a bundle: the latest
/// checkpoint, and every entry it covers, fetched page by page. The
/// server's policy file is not read: the witnesses are the ledger's.
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
    // Unverified until the entries are in: only to know which log it claims
    // to be (for the remembered key) and how many entries to fetch.
    let text = Note::parse(&note)
        .map_err(|e| format!("checkpoint: {e}"))?
        .text;
    let claimed = parse_checkpoint(&text).map_err(|e| format!("checkpoint: {e}"))?;
    let seen = remembered.logs.get(&claimed.origin).cloned();
    let (trusted, source) = trusted_key(pinned, seen.as_ref())?;
    let size = claimed.tree_size;
    if size == 0 || size > MAX_BUNDLE_ENTRIES as u64 {
        return Ok(fail(
            say,
            &VerifyError::Format(format!(
                "the checkpoint covers {size} entries; a log has 1 to {MAX_BUNDLE_ENTRIES}"
            )),
        ));
    }
    let mut entries: Vec<String> = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start + MAX_ENTRIES_PER_READ).min(size);
        let body = get(format!(
            "/estates/{slug}/log/entries?start={start}&end={end}"
        ))
        .await?;
        let page: Vec<String> = match serde_json::from_str(&body) {
            Ok(p) => p,
            Err(e) => {
                return Ok(fail(
                    say,
                    &VerifyError::Format(format!("entries {start}..{end}: {e}")),
                ))
            }
        };
        if page.len() as u64 != end - start {
            return Ok(fail(
                say,
                &VerifyError::Format(format!(
                    "entries {start}..{end}: the server sent {} entries",
                    page.len()
                )),
            ));
        }
        entries.extend(page);
        start = end;
    }
    let (result, uncounted) = verify_live(&note, &entries, trusted.as_ref());
    let verified = match result {
        Ok(v) => v,
        Err(e) => return Ok(refuse(say, &e, &uncounted)),
    };
    conclude(
        args,
        say,
        state_path,
        remembered,
        Outcome {
            seen,
            note: &note,
            verified: &verified,
            uncounted: &uncounted,
            source,
            statement: None,
        },
    )
}

/// A log that passed the rules, with what the report and the state file need.
struct Outcome<'a> {
    seen: Option<Seen>,
    note: &'a str,
    verified: &'a Verified,
    uncounted: &'a [Uncounted],
    source: KeySource,
    statement: Option<(u64, Statement)>,
}

/// After the rules: the remembered-checkpoint check (§18), remembering,
/// and the report. The same for a bundle and a live server.
fn conclude(
    args: &VerifyArgs,
    say: &Say,
    state_path: &Path,
    remembered: &mut Remembered,
    o: Outcome,
) -> Result<ExitCode, String> {
    let verified = o.verified;
    let st = &verified.state;
    let origin = st
        .estate()
        .map(|e| e.origin.clone())
        .ok_or("a verified log has an estate_created entry")?;
    let size = verified.checkpoint.tree_size;
    let history = match check_history(
        say,
        state_path,
        &origin,
        o.seen.as_ref(),
        size,
        o.note,
        |m| verified.root_at(m),
    ) {
        Ok(h) => h,
        Err(code) => return Ok(code),
    };
    if !args.no_remember && o.seen.as_ref().is_none_or(|s| s.tree_size <= size) {
        remembered.version = 1;
        remembered.logs.insert(
            origin.clone(),
            Seen {
                log_key: verified.log_key.format(),
                tree_size: size,
                root: verified.checkpoint.root.to_base64(),
                checkpoint: o.note.to_string(),
            },
        );
        save_state(state_path, remembered)?;
    }

    // The report.
    let log_key = verified.log_key.format();
    if o.source == KeySource::FirstUse {
        println!(
            "{} {origin}",
            say.pick(
                "核验通过（首次使用，日志公钥未经核对）：",
                "VERIFIED (first use, log key not checked against one you trust):"
            )
        );
    } else {
        println!("{} {origin}", say.pick("核验通过：", "VERIFIED:"));
    }
    println!(
        "  {} {size}, {} {}",
        say.pick("记录条数", "entries"),
        say.pick("根哈希", "root"),
        verified.checkpoint.root.to_base64()
    );
    println!(
        "  {} {log_key} ({})",
        say.pick("日志签名公钥", "signed by log key"),
        match o.source {
            KeySource::Pinned => say.pick("与 --log-key 一致", "the one given with --log-key"),
            KeySource::Remembered => say.pick("与之前记住的一致", "the one remembered before"),
            KeySource::FirstUse => say.pick("首次使用时信任", "trusted on first use"),
        }
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
    if !o.uncounted.is_empty() {
        println!("  {}", uncounted_line(say, o.uncounted));
    }
    let bal = |a| {
        crate::domain::Money::from_fen(st.balance_fen(&Account::Fund(a)))
            .map(|m| m.format_cny())
            .unwrap_or_else(|e| format!("({e})"))
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
    if let Some((seq, s)) = &o.statement {
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
    if o.source == KeySource::FirstUse {
        let from = if args.url.is_some() {
            say.pick(
                "服务器发来的日志第 0 条记录",
                "entry 0 of the log the server sent",
            )
        } else {
            say.pick("数据包自己的第 0 条记录", "entry 0 of the bundle itself")
        };
        match say.0 {
            Lang::Zh => println!(
                "  首次使用：没有用 --log-key 指定日志公钥，也没有记住过此日志的公钥，所以信任了{from}中的日志公钥 {log_key}。\
                 以上结果只证明这些记录前后一致、由这把公钥签名，不能证明它就是本小区的日志。\
                 请把这把公钥与业委会或小区公告公布的公钥逐字核对，一致后用 --log-key '{log_key}' 固定它（之后也会记住它）。"
            ),
            Lang::En => println!(
                "  Trust on first use: no --log-key was given and no key is remembered for this log, so the log key in {from} was trusted: {log_key}. \
                 This proves the entries are consistent and signed by that key, not that it is your estate's log. \
                 Compare the key character by character with the one the committee or the estate's notice published, then pin it with --log-key '{log_key}' (it is also remembered from now on)."
            ),
        }
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
