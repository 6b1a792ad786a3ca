//! The approvers' desk (dual-key approval): the queue of claims waiting
//! for signatures, the review page that shows a claim decoded from its
//! exact entry bytes together with the exact message an approver signs,
//! and the approve/reject writes over the web and the API.
//!
//! The server never signs for anyone here: the approver signs the message
//! offline (`trustfund sign …`) and pastes the signature. The ledger
//! (`State`) checks every rule — same key once, revoked keys, wrong claim
//! or estate, expiry, policy version — and the store executes the claim in
//! the same transaction as the approval that completes its policy.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::claims::{self as public_claims, ClaimRow, DecisionRow};
use super::super::pages::{
    canonical_u64, local_time, open_estate_even_frozen, render, render_status, Chrome, Ctx, Lang,
    Missing, PageError,
};
use super::evidence::{parse_json, see_other, Fields, FormView};
use super::home::page_error;
use super::{
    append, idempotency, open_for, request_digest, rule_message, FormErrors, StaffError,
    MAX_FORM_BYTES,
};
use crate::approver_key::{KeyFile, Passphrase};
use crate::domain::{MemberId, Reason, Slug};
use crate::http::{ApiError, AppState};
use crate::ledger::approval::{
    approval_message, check_approval_signature, encode_signature, Decision,
};
use crate::ledger::policy::Requirement;
use crate::ledger::views::Standing;
use crate::ledger::{Body, Claim, ClaimStatus, Entry, Role, State as Ledger};
use crate::store::{Appended, EstateRow, StoreError};
use crate::tlog::note::{Signer, VerifierKey};
use crate::tlog::{record_hash, Hash};

const ROUTE: &str = "approval";
/// The review form's fields: refusals about anything else show on top.
const FIELDS: &[&str] = &["decision", "signature", "reason", "passphrase"];
/// Claims the queue lists (newest first); the public claim list has the rest.
const MAX_QUEUE: usize = 100;
/// Longest signature field accepted: 64 bytes are 88 base64 characters.
const MAX_SIGNATURE_CHARS: usize = 200;
/// Longest Host header used to build the `trustfund sign --url` command.
const MAX_HOST_LEN: usize = 255;
/// Roles that sign claims.
const APPROVERS: [Role; 2] = [Role::Company, Role::Committee];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/staff/approvals", get(queue_page))
        .route(
            "/estates/{slug}/staff/approvals/{seq}",
            get(review_page)
                .post(review_post)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route(
            "/api/v1/estates/{slug}/claims/{seq}/approval-message",
            get(api_message),
        )
        .route(
            "/api/v1/estates/{slug}/claims/{seq}/approvals",
            post(api_post).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

// ------------------------------------------------------------ the ledger side

/// One enrolled member the principal signs as, with the key that counts now.
#[derive(Clone, Debug)]
struct Approver {
    member: MemberId,
    role: Role,
    key: Option<VerifierKey>,
}

/// The principal's signing identities in the estate: a ledger member id
/// per approver role they hold, as the replayed state knows it.
fn approvers_of(who: &Principal, slug: &str, state: &Ledger) -> Vec<Approver> {
    APPROVERS
        .iter()
        .filter(|r| who.roles_in(slug).any(|h| h == **r))
        .filter_map(|r| {
            let id = MemberId::parse("member", who.member_in(slug, *r)?).ok()?;
            let m = state.members().get(&id)?;
            Some(Approver {
                member: id,
                role: m.role,
                key: m.key.clone(),
            })
        })
        .collect()
}

/// What the policy in force still asks of each party for this claim,
/// counting only approvals that count (current policy, active key, one
/// per key) — the same rule `State` executes by.
fn still_needed(state: &Ledger, c: &Claim) -> Option<Requirement> {
    let (version, rules) = state.policy()?;
    let need = rules.requirement(c.account, c.amount);
    let mut seen = std::collections::BTreeSet::new();
    let mut got = [0u8; 3];
    for a in &c.approvals {
        let active = state
            .members()
            .get(&a.member)
            .and_then(|m| m.key.as_ref())
            .is_some_and(|k| *k == a.key);
        if a.policy == *version && active && seen.insert(a.key.public_key) {
            let i = match a.role {
                Role::Company => 0,
                Role::Committee => 1,
                Role::Community => 2,
            };
            got[i] = got[i].saturating_add(1);
        }
    }
    Some(Requirement {
        company: need.company.saturating_sub(got[0]),
        committee: need.committee.saturating_sub(got[1]),
        community: need.community.saturating_sub(got[2]),
    })
}

fn requirement_text(r: Option<Requirement>, ctx: &Ctx) -> String {
    let Some(r) = r else {
        return String::new();
    };
    let t = ctx.t();
    let parts: Vec<String> = [
        (r.company, Role::Company),
        (r.committee, Role::Committee),
        (r.community, Role::Community),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, role)| format!("{n} × {}", t.role(*role)))
    .collect();
    if parts.is_empty() {
        ctx.lang.pick("已满足（将随下一签执行）", "met").to_string()
    } else {
        parts.join(" + ")
    }
}

/// The facts a decision on one claim is made against, copied out of the
/// state lock.
struct Snapshot {
    origin: String,
    policy: u32,
    claim: Claim,
    still: Option<Requirement>,
    approvers: Vec<Approver>,
}

async fn snapshot(
    app: &AppState,
    who: &Principal,
    slug: &Slug,
    seq: u64,
) -> Result<Option<Snapshot>, StoreError> {
    app.store
        .with_state(slug, |s| {
            let origin = s.estate()?.origin.clone();
            let policy = s.policy().map_or(0, |(v, _)| *v);
            let claim = s.claims().get(&seq)?.clone();
            Some(Snapshot {
                origin,
                policy,
                still: still_needed(s, &claim),
                approvers: approvers_of(who, slug.as_str(), s),
                claim,
            })
        })
        .await
}

/// The exact bytes signed for one decision, and their SHA-256.
fn message_for(snap: &Snapshot, decision: Decision) -> (String, String) {
    let m = approval_message(
        &snap.origin,
        snap.claim.seq,
        &snap.claim.hash,
        decision,
        snap.policy,
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, m.as_bytes());
    let hex = hex::encode(digest.as_ref());
    (m, hex)
}

fn parse_decision(s: &str) -> Option<Decision> {
    match s {
        "approve" => Some(Decision::Approve),
        "reject" => Some(Decision::Reject),
        _ => None,
    }
}

// ------------------------------------------------------------ the signing seam

/// Whether the server holds an encrypted signing key for `member` that is
/// still the member's active ledger key, so the review page may offer a
/// passphrase instead of a pasted signature.
async fn key_held(app: &AppState, estate: &EstateRow, member: &MemberId, active: &str) -> bool {
    matches!(held_key(app, estate, member).await, Ok(Some(k)) if k.verifier_key() == active)
}

/// The member's key file held on the server, if any.
pub(crate) async fn held_key(
    app: &AppState,
    estate: &EstateRow,
    member: &MemberId,
) -> Result<Option<KeyFile>, StaffError> {
    let slug = Slug::parse("slug", &estate.slug).map_err(|_| StaffError::NotFound)?;
    match app.store.approver_key(&slug, member).await? {
        None => Ok(None),
        Some(text) => KeyFile::parse(&text).map(Some).map_err(|e| {
            StaffError::Store(StoreError::Integrity(format!(
                "stored key file of {member} is damaged: {e}"
            )))
        }),
    }
}

/// Unlocks `member`'s server-held key with their passphrase, in memory
/// for this one signing (Argon2id off the async threads), and returns the
/// signer; a wrong passphrase is a field error on `passphrase`.
pub(crate) async fn unlock_held_key(
    app: &AppState,
    estate: &EstateRow,
    member: &MemberId,
    passphrase: &str,
    lang: Lang,
) -> Result<Signer, StaffError> {
    let refuse = |zh: &str, en: &str| {
        StaffError::Fields(FormErrors::one(
            "passphrase",
            "bad_passphrase",
            match lang {
                Lang::Zh => zh.to_string(),
                Lang::En => en.to_string(),
            },
        ))
    };
    let Some(file) = held_key(app, estate, member).await? else {
        return Err(refuse(
            "服务器上没有保存您的密钥",
            "no key of yours is held on the server",
        ));
    };
    let pass =
        Passphrase::attempt(passphrase).map_err(|_| refuse("口令不正确", "wrong passphrase"))?;
    let unlocked = tokio::task::spawn_blocking(move || file.unlock(&pass))
        .await
        .map_err(|_| StaffError::Store(StoreError::BadRequest("signing was interrupted".into())))?;
    unlocked.map_err(|_| refuse("口令不正确", "wrong passphrase"))
}

/// Signs `message` with `member`'s server-held key, returning the
/// signature in standard base64 as entries carry it.
async fn server_signature(
    app: &AppState,
    estate: &EstateRow,
    member: &MemberId,
    passphrase: &str,
    message: &str,
    lang: Lang,
) -> Result<String, StaffError> {
    let signer = unlock_held_key(app, estate, member, passphrase, lang).await?;
    Ok(encode_signature(&signer.sign_raw(message.as_bytes())))
}

// ------------------------------------------------------------ refusals

/// Ledger refusals an approval meets, in Chinese (`rule_message` in
/// `staff/mod.rs` covers the money rules; these are the signature rules).
fn approval_rule_zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "bad_signature" => "签名无效：它不是用您的密钥对本申请、本决定签出的",
        "already_approved" => "该密钥已经批准过此申请，同一密钥只计一次",
        "revoked_key" => "该密钥已被撤销或更换，不再有效",
        "bad_key" => "密钥格式不正确",
        "unknown_member" => "账本中没有这个成员",
        "wrong_claim" => "签名针对的是另一份申请",
        "old_policy" => "签名所依据的审批规则版本已失效，请按现行规则重新签名",
        "expired" => "该申请已过期，不能再审批",
        "claim_closed" => "该申请已经付款、驳回或过期，不能再审批",
        "unknown_claim" => "没有这份申请",
        "not_allowed" => "您的角色不能做此决定（只有业委会成员可以驳回）",
        "policy_not_met" => "签名数量尚未满足审批规则",
        _ => return None,
    })
}

/// Which field of the review form a ledger refusal belongs to.
fn approval_field(code: &str) -> &'static str {
    match code {
        "bad_signature" | "already_approved" | "revoked_key" | "bad_key" | "unknown_member"
        | "wrong_claim" | "old_policy" => "signature",
        _ => "form",
    }
}

/// A refused decision as field errors on the review form, in the reader's
/// language; anything that is not about the request stays an error.
fn refusal(lang: Lang, e: StaffError) -> Result<FormErrors, StaffError> {
    match e {
        StaffError::Store(StoreError::Rule(r)) => {
            let message = match (lang, approval_rule_zh(r.code)) {
                (Lang::Zh, Some(zh)) => format!("{zh}（{}）", r.message),
                _ => rule_message(lang, &r),
            };
            Ok(FormErrors::one(approval_field(r.code), r.code, message))
        }
        StaffError::Fields(mut f) => {
            for e in &mut f.errors {
                if !FIELDS.contains(&e.field.as_str()) && e.field != "idempotency_key" {
                    e.field = "form".into();
                }
            }
            Ok(f)
        }
        other => other.into_fields(lang),
    }
}

// ------------------------------------------------------------ the write

/// A decision as submitted, before the ledger sees it.
struct Submission<'a> {
    decision: Decision,
    signature: &'a str,
    reason: &'a str,
    passphrase: &'a str,
    form_key: Option<&'a str>,
    /// For an `Idempotency-Key` header.
    headers: &'a HeaderMap,
}

/// Builds the approval or rejection, appends it, and returns what was
/// written (the decision, then the execution if it completed the policy).
async fn decide(
    app: &AppState,
    lang: Lang,
    who: &Principal,
    slug: &Slug,
    row: &EstateRow,
    seq: u64,
    sub: Submission<'_>,
) -> Result<(Vec<Appended>, bool), StaffError> {
    let snap = snapshot(app, who, slug, seq)
        .await?
        .ok_or(StaffError::NotFound)?;
    let (message, _) = message_for(&snap, sub.decision);
    let mut errors = FormErrors::default();
    let signing: Vec<&Approver> = snap.approvers.iter().filter(|a| a.key.is_some()).collect();
    if signing.is_empty() {
        // A member whose key was revoked has nothing left to sign with:
        // the ledger would refuse the old key as `revoked_key`, and so do we.
        if snap.approvers.is_empty() {
            errors.add(
                "form",
                "no_member_key",
                lang.pick(
                    "您的账户没有登记为持有有效密钥的审批成员",
                    "your account is not enrolled as an approving member with an active key",
                ),
            );
        } else {
            errors.add(
                "signature",
                "revoked_key",
                lang.pick(
                    "您的密钥已被撤销，不能再签名；请先登记新密钥",
                    "your key was revoked and no longer counts; enrol a new key first",
                ),
            );
        }
        return Err(errors.into());
    }
    let reason = match sub.decision {
        Decision::Reject => errors.take(lang, Reason::parse("reason", sub.reason.trim())),
        Decision::Approve => None,
    };
    let pasted = sub.signature.trim();
    if pasted.chars().count() > MAX_SIGNATURE_CHARS {
        errors.add(
            "signature",
            "too_long",
            lang.pick(
                "签名过长（应为 88 个字符的 base64）",
                "the signature is too long (it is 88 characters of base64)",
            ),
        );
    }
    // The member this decision is made as: the one whose active key the
    // signature verifies under (someone may hold both roles); else the
    // likeliest, and the ledger says why it does not verify.
    let preferred = |a: &&&Approver| match sub.decision {
        Decision::Reject => a.role == Role::Committee,
        Decision::Approve => true,
    };
    let verifies = |a: &&&Approver| {
        a.key
            .as_ref()
            .is_some_and(|k| check_approval_signature(&message, pasted, k).is_ok())
    };
    let chosen = signing
        .iter()
        .find(verifies)
        .or_else(|| signing.iter().find(preferred))
        .or_else(|| signing.first())
        .map(|a| (*a).clone());
    let Some(Approver {
        member,
        key: Some(key),
        ..
    }) = chosen
    else {
        return Err(errors.into());
    };
    let signature = if !pasted.is_empty() {
        Some(pasted.to_string())
    } else if !sub.passphrase.is_empty() {
        match server_signature(app, row, &member, sub.passphrase, &message, lang).await {
            Ok(s) => Some(s),
            Err(StaffError::Fields(f)) => {
                errors.errors.extend(f.errors);
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        errors.add(
            "signature",
            "empty",
            lang.pick(
                "请粘贴离线签出的签名",
                "paste the signature you made offline",
            ),
        );
        None
    };
    errors.check()?;
    let Some(signature) = signature else {
        return Err(FormErrors::default().into());
    };
    let (claim, claim_hash, policy, key) = (seq, snap.claim.hash, snap.policy, key.format());
    let body = match (sub.decision, reason) {
        (Decision::Approve, _) => Body::ClaimApproved {
            claim,
            claim_hash,
            policy,
            member,
            key,
            signature,
        },
        (Decision::Reject, Some(reason)) => Body::ClaimRejected {
            claim,
            claim_hash,
            policy,
            member,
            key,
            signature,
            reason,
        },
        // `check` above refused a reject without a parsed reason.
        (Decision::Reject, None) => return Err(FormErrors::default().into()),
    };
    let idem = idempotency(sub.headers, sub.form_key, request_digest(ROUTE, &body))?;
    append(app, row, idem.as_ref(), vec![body.into()]).await
}

/// The entry that paid (or moved) the claim, if this decision executed it.
fn executed_seq(appended: &[Appended]) -> Option<u64> {
    appended
        .iter()
        .find(|a| matches!(a.kind, "disbursement_executed" | "transfer"))
        .map(|a| a.seq)
}

// ------------------------------------------------------------ pages

struct QueueRow {
    seq: u64,
    payee: String,
    amount: String,
    account: &'static str,
    category: &'static str,
    expires: String,
    approvals: Vec<DecisionRow>,
    still: String,
    signed: bool,
}

#[derive(Template)]
#[template(path = "staff/approvals.html")]
struct QueuePage {
    c: Chrome,
    lang: Lang,
    slug: String,
    rows: Vec<QueueRow>,
    can_sign: bool,
}

async fn queue_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &APPROVERS).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    match queue(&app, &ctx, &who, &slug).await {
        Ok((rows, can_sign)) => {
            let page = QueuePage {
                c: ctx.chrome(&app, Some(&row), ""),
                lang: ctx.lang,
                slug: slug.to_string(),
                rows,
                can_sign,
            };
            render(&page, &ctx).into_response()
        }
        Err(e) => page_error(&app, &ctx, StaffError::Store(e)),
    }
}

async fn queue(
    app: &AppState,
    ctx: &Ctx,
    who: &Principal,
    slug: &Slug,
) -> Result<(Vec<QueueRow>, bool), StoreError> {
    let found = app
        .store
        .with_state(slug, |s| {
            let at = public_claims::as_of(s);
            let tz = s.estate().map(|e| e.timezone);
            let mine = approvers_of(who, slug.as_str(), s);
            let cores: Vec<_> = s
                .open_claims(at)
                .take(MAX_QUEUE)
                .map(|c| (public_claims::core(s, c, at), still_needed(s, c)))
                .collect();
            (tz, mine, cores)
        })
        .await?;
    let (Some(tz), mine, cores) = found else {
        return Ok((Vec::new(), false));
    };
    let still: BTreeMap<usize, Option<Requirement>> = cores
        .iter()
        .enumerate()
        .map(|(i, (_, s))| (i, *s))
        .collect();
    let names = app.store.member_names(slug).await?;
    let views = public_claims::load(
        app,
        slug,
        cores.into_iter().map(|(c, _)| c).collect(),
        &names,
    )
    .await?;
    let t = ctx.t();
    let rows = views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let r: ClaimRow = public_claims::row(v, t, &tz);
            QueueRow {
                seq: v.seq,
                payee: v.payee.clone(),
                amount: r.amount,
                account: r.account,
                category: r.category,
                expires: local_time(v.expires, &tz),
                signed: v
                    .approvals
                    .iter()
                    .any(|d| mine.iter().any(|m| m.member.as_str() == d.member)),
                approvals: r.approvals,
                still: requirement_text(still.get(&i).copied().flatten(), ctx),
            }
        })
        .collect();
    Ok((rows, mine.iter().any(|m| m.key.is_some())))
}

/// The claim as its entry's bytes say, for the review page.
struct Decoded {
    bytes: String,
    hash: String,
    payee: String,
    amount: String,
    capital: String,
    account: &'static str,
    transfer_to: Option<&'static str>,
    category: &'static str,
    purpose: String,
    quote: Option<String>,
    period: Option<String>,
    evidence: Vec<String>,
    service_record: Option<u64>,
}

/// One decision's form: the message to sign, the command that signs it,
/// and what was typed and refused.
struct DecisionForm {
    decision: &'static str,
    message: String,
    sha256: String,
    command: String,
    f: FormView,
}

#[derive(Template)]
#[template(path = "staff/approval.html")]
struct ReviewPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    seq: u64,
    d: Decoded,
    claim: ClaimRow,
    still: String,
    pending: bool,
    origin: String,
    policy: u32,
    signed: bool,
    can_sign: bool,
    can_reject: bool,
    key_held: bool,
    /// Approve, then reject.
    forms: Vec<DecisionForm>,
}

/// The server's own address as the reader reached it, for the sign
/// command: the Host header (checked), with the scheme a proxy names or
/// plain HTTP for a bare address.
fn server_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= MAX_HOST_LEN
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
    let Some(host) = host else {
        return "https://<server>".into();
    };
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v == "http" || v == "https");
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let literal = name.starts_with('[')
        || name == "localhost"
        || name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let scheme = forwarded.unwrap_or_else(|| if literal { "http" } else { "https" }.to_string());
    format!("{scheme}://{host}")
}

/// Reads and decodes the claim's entry from its stored bytes: the page
/// shows what the hash covers, not a copy from elsewhere.
async fn decode_claim(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    snap: &Snapshot,
) -> Result<Decoded, StaffError> {
    let seq = snap.claim.seq;
    let bytes = app
        .store
        .entry_bytes(slug, seq)
        .await?
        .ok_or(StaffError::NotFound)?;
    let integrity = |why: String| StaffError::Store(StoreError::Integrity(why));
    let entry = Entry::parse(&bytes).map_err(|e| integrity(format!("entry {seq}: {e}")))?;
    let hash = record_hash(bytes.as_bytes());
    if hash != snap.claim.hash || entry.seq != seq {
        return Err(integrity(format!(
            "entry {seq}'s bytes do not hash to the claim the ledger holds"
        )));
    }
    let Body::ClaimSubmitted {
        account,
        category,
        payee,
        amount,
        purpose,
        quote,
        evidence,
        service_record,
        period,
        transfer_to,
        ..
    } = entry.body
    else {
        return Err(StaffError::NotFound);
    };
    let t = ctx.t();
    Ok(Decoded {
        hash: hash.to_hex(),
        payee: payee.to_string(),
        amount: amount.format_cny(),
        capital: amount.to_chinese_capital(),
        account: t.fund(account),
        transfer_to: transfer_to.map(|a| t.fund(a)),
        category: t.category(category),
        purpose: purpose.to_string(),
        quote: quote.map(|q| q.format_cny()),
        period: period.map(|p| p.to_string()),
        evidence: evidence.iter().map(Hash::to_hex).collect(),
        service_record,
        bytes,
    })
}

/// A staff refusal as a page; "not found" here means no such claim.
fn review_error(app: &AppState, ctx: &Ctx, row: &EstateRow, e: StaffError) -> Response {
    match e {
        StaffError::NotFound => PageError::NotFound(Missing::Claim).render(ctx, app, Some(row)),
        other => page_error(app, ctx, other),
    }
}

#[allow(clippy::too_many_arguments)]
async fn show_review(
    app: &AppState,
    ctx: &Ctx,
    who: &Principal,
    slug: &Slug,
    row: &EstateRow,
    seq: u64,
    headers: &HeaderMap,
    refused: Option<(Decision, FormView)>,
    status: StatusCode,
) -> Response {
    let result = async {
        let snap = snapshot(app, who, slug, seq)
            .await?
            .ok_or(StaffError::NotFound)?;
        let d = decode_claim(app, ctx, slug, &snap).await?;
        let (tz, view) = public_claims::gather_one(app, slug, seq)
            .await
            .map_err(|_| StaffError::NotFound)?
            .ok_or(StaffError::NotFound)?;
        Ok::<_, StaffError>((snap, d, tz, view))
    }
    .await;
    let (snap, d, tz, view) = match result {
        Ok(v) => v,
        Err(e) => return review_error(app, ctx, row, e),
    };
    let url = server_url(headers);
    let (mut approve_f, mut reject_f) = (FormView::blank(), FormView::blank());
    match refused {
        Some((Decision::Approve, f)) => approve_f = f,
        Some((Decision::Reject, f)) => reject_f = f,
        None => {}
    }
    let form = |decision: Decision, f: FormView| {
        let (message, sha256) = message_for(&snap, decision);
        DecisionForm {
            decision: decision.as_str(),
            command: format!(
                "trustfund sign --url {url} --estate {slug} --claim {seq} --decision {}",
                decision.as_str()
            ),
            message,
            sha256,
            f,
        }
    };
    let signing: Vec<&Approver> = snap.approvers.iter().filter(|a| a.key.is_some()).collect();
    let mut key_held = false;
    for a in &signing {
        if let Some(k) = &a.key {
            key_held |= self::key_held(app, row, &a.member, &k.format()).await;
        }
    }
    let page = ReviewPage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: slug.to_string(),
        seq,
        claim: public_claims::row(&view, ctx.t(), &tz),
        still: requirement_text(snap.still, ctx),
        pending: view.standing == Standing::Pending && snap.claim.status == ClaimStatus::Pending,
        origin: snap.origin.clone(),
        policy: snap.policy,
        signed: view
            .approvals
            .iter()
            .any(|a| snap.approvers.iter().any(|m| m.member.as_str() == a.member)),
        can_sign: !signing.is_empty(),
        can_reject: signing.iter().any(|a| a.role == Role::Committee),
        key_held,
        forms: vec![
            form(Decision::Approve, approve_f),
            form(Decision::Reject, reject_f),
        ],
        d,
    };
    render_status(&page, ctx, status)
}

async fn review_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    headers: HeaderMap,
    Path((slug, seq)): Path<(String, String)>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &APPROVERS).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let Some(seq) = canonical_u64(&seq) else {
        return review_error(&app, &ctx, &row, StaffError::NotFound);
    };
    show_review(
        &app,
        &ctx,
        &who,
        &slug,
        &row,
        seq,
        &headers,
        None,
        StatusCode::OK,
    )
    .await
}

async fn review_post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    headers: HeaderMap,
    Path((slug, seq)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &APPROVERS).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let Some(seq) = canonical_u64(&seq) else {
        return review_error(&app, &ctx, &row, StaffError::NotFound);
    };
    let fields = Fields::from_pairs(pairs);
    let Some(decision) = parse_decision(fields.get("decision")) else {
        let f = FormView::refused(
            fields,
            FormErrors::one(
                "form",
                "unsupported",
                ctx.lang
                    .pick("请选择批准或驳回", "choose approve or reject"),
            ),
        );
        return show_review(
            &app,
            &ctx,
            &who,
            &slug,
            &row,
            seq,
            &headers,
            Some((Decision::Approve, f)),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let sub = Submission {
        decision,
        signature: fields.get("signature"),
        reason: fields.get("reason"),
        passphrase: fields.get("passphrase"),
        form_key: fields.opt("idempotency_key"),
        headers: &headers,
    };
    match decide(&app, ctx.lang, &who, &slug, &row, seq, sub).await {
        Ok(_) => see_other(format!("/estates/{slug}/claims/{seq}")),
        Err(e) => {
            let ledger = match &e {
                StaffError::Store(StoreError::Rule(_)) => true,
                // Refused by who the signer is, not by how the form was filled.
                StaffError::Fields(f) => f.errors.iter().any(|x| {
                    matches!(
                        x.code.as_str(),
                        "revoked_key" | "no_member_key" | "no_server_key"
                    )
                }),
                _ => false,
            };
            match refusal(ctx.lang, e) {
                Ok(fe) => {
                    let status = if ledger {
                        StatusCode::UNPROCESSABLE_ENTITY
                    } else {
                        StatusCode::BAD_REQUEST
                    };
                    let f = FormView::refused(fields, fe);
                    show_review(
                        &app,
                        &ctx,
                        &who,
                        &slug,
                        &row,
                        seq,
                        &headers,
                        Some((decision, f)),
                        status,
                    )
                    .await
                }
                Err(e) => review_error(&app, &ctx, &row, e),
            }
        }
    }
}

// ------------------------------------------------------------ JSON

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageQuery {
    decision: String,
}

/// `GET /api/v1/estates/{slug}/claims/{seq}/approval-message?decision=…`:
/// public, since it is derived from public data.
async fn api_message(
    State(app): State<AppState>,
    Path((slug, seq)): Path<(String, String)>,
    query: Result<Query<MessageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return ApiError::bad_request("bad_query", "give decision=approve or decision=reject")
            .into_response();
    };
    let Some(decision) = parse_decision(&q.decision) else {
        return ApiError::bad_request("bad_decision", "decision must be approve or reject")
            .into_response();
    };
    let Some(seq) = canonical_u64(&seq) else {
        return ApiError::not_found("no such claim").into_response();
    };
    let Ok((slug, _)) = open_estate_even_frozen(&app, &slug).await else {
        return ApiError::not_found("no such estate").into_response();
    };
    let found = app
        .store
        .with_state(&slug, |s| {
            let origin = s.estate()?.origin.clone();
            let policy = s.policy().map_or(0, |(v, _)| *v);
            let hash = s.claims().get(&seq)?.hash;
            Some((origin, policy, hash))
        })
        .await;
    let (origin, policy, hash) = match found {
        Ok(Some(v)) => v,
        Ok(None) => return ApiError::not_found("no such claim").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let message = approval_message(&origin, seq, &hash, decision, policy);
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, message.as_bytes()).as_ref());
    Json(serde_json::json!({
        "claim": seq,
        "claim_hash": hash.to_hex(),
        "policy": policy,
        "origin": origin,
        "decision": decision.as_str(),
        "message": message,
        "message_sha256": sha,
    }))
    .into_response()
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum DecisionIn {
    Approve,
    Reject,
}

/// `POST /api/v1/estates/{slug}/claims/{seq}/approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionRequest {
    decision: DecisionIn,
    signature: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn api_post(
    State(app): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    Path((slug, seq)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &APPROVERS).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    let Some(seq) = canonical_u64(&seq) else {
        return ApiError::not_found("no such claim").into_response();
    };
    let req: DecisionRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let decision = match req.decision {
        DecisionIn::Approve => Decision::Approve,
        DecisionIn::Reject => Decision::Reject,
    };
    let sub = Submission {
        decision,
        signature: &req.signature,
        reason: req.reason.as_deref().unwrap_or(""),
        passphrase: "",
        form_key: None,
        headers: &headers,
    };
    match decide(&app, Lang::En, &who, &slug, &row, seq, sub).await {
        Ok((appended, replayed)) => {
            let Some(first) = appended.first() else {
                return ApiError::from(StoreError::Integrity("an append returned no entry".into()))
                    .into_response();
            };
            let status = if replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (
                status,
                Json(serde_json::json!({
                    "seq": first.seq,
                    "hash": first.hash.to_hex(),
                    "executed": executed_seq(&appended),
                    "replayed": replayed,
                })),
            )
                .into_response()
        }
        Err(StaffError::NotFound) => ApiError::not_found("no such claim").into_response(),
        Err(e) => match refusal(Lang::En, e) {
            Ok(fe) => StaffError::Fields(fe).into_api(),
            Err(e) => e.into_api(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_refusals_land_on_the_signature_field() {
        for code in [
            "bad_signature",
            "already_approved",
            "revoked_key",
            "wrong_claim",
        ] {
            assert_eq!(approval_field(code), "signature", "{code}");
            assert!(approval_rule_zh(code).is_some(), "{code} has Chinese");
        }
        for code in [
            "expired",
            "claim_closed",
            "insufficient_funds",
            "not_allowed",
        ] {
            assert_eq!(approval_field(code), "form", "{code}");
        }
    }

    #[test]
    fn the_sign_command_names_the_server_as_reached() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(server_url(&h), "http://127.0.0.1:8080");
        h.insert(header::HOST, "fund.example.cn".parse().unwrap());
        assert_eq!(server_url(&h), "https://fund.example.cn");
        h.insert(header::HOST, "evil.example/`rm`".parse().unwrap());
        assert_eq!(server_url(&h), "https://<server>");
    }
}
