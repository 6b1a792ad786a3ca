//! Claims: the list and one claim's page, with every signature on it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::pages::{
    canonical_u64, finish, local_time, open_estate, render, short_hash, Chrome, Ctx, Hint, Missing,
    PageError, Texts,
};
use super::AppState;
use crate::domain::{EstateTz, Money, Period, Slug, Timestamp};
use crate::ledger::policy::Requirement;
use crate::ledger::state::ApprovalRecord;
use crate::ledger::views::Standing;
use crate::ledger::{Body, Category, Claim, FundAccount, Role};
use crate::store::{EntryRow, EstateRow, StoreError, MAX_PAGE_ROWS};
use crate::tlog::Hash;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/claims", get(list_page))
        .route("/estates/{slug}/claims/{seq}", get(claim_page))
}

/// Claims a list page shows unless told otherwise.
pub const DEFAULT_PAGE: u64 = 50;
/// Pending claims the dashboard lists.
pub const DASHBOARD_PENDING: usize = 20;

/// One approval or rejection as people read it.
pub struct Decision {
    pub seq: u64,
    pub member: String,
    pub name: String,
    pub role: Option<Role>,
    pub time: Option<Timestamp>,
    pub reason: Option<String>,
}

/// A claim with everything its page shows.
pub struct ClaimView {
    pub seq: u64,
    pub time: Timestamp,
    pub hash: Hash,
    pub payee: String,
    pub amount: Money,
    pub account: FundAccount,
    pub category: Category,
    pub purpose: String,
    pub quote: Option<Money>,
    pub evidence: Vec<Hash>,
    pub service_record: Option<u64>,
    pub service_title: Option<String>,
    pub period: Option<Period>,
    pub entitlement: Option<Money>,
    pub transfer_to: Option<FundAccount>,
    pub expires: Timestamp,
    pub standing: Standing,
    /// When the claim was paid, rejected or recorded as expired.
    pub closed: Option<(u64, Timestamp)>,
    pub approvals: Vec<Decision>,
    pub rejection: Option<Decision>,
    /// What the policy in force asks for this claim.
    pub needs: Option<Requirement>,
}

/// A claim as the replayed state knows it, copied out of the state lock.
pub struct ClaimCore {
    claim: Claim,
    standing: Standing,
    entitlement: Option<Money>,
    needs: Option<Requirement>,
}

/// Copies claims out of the state with what their pages derive from it.
pub fn core(state: &crate::ledger::State, c: &Claim, at: Timestamp) -> ClaimCore {
    ClaimCore {
        claim: c.clone(),
        standing: c.standing(at),
        entitlement: c.period.map(|p| state.entitlement(p)),
        needs: state
            .policy()
            .map(|(_, rules)| rules.requirement(c.account, c.amount)),
    }
}

/// The moment pages describe: now, or the latest entry if the clock is
/// behind the log (a demo loaded with future dates, a skewed clock).
pub fn as_of(state: &crate::ledger::State) -> Timestamp {
    let now = Timestamp::now().unwrap_or(Timestamp::MIN);
    state.last_time().map_or(now, |last| now.max(last))
}

/// Reads what the state does not hold (payee, purpose, times, names) and
/// builds the views, in the order given. A bounded number of entries is
/// read, all in one query.
pub async fn load(
    app: &AppState,
    slug: &Slug,
    cores: Vec<ClaimCore>,
    names: &BTreeMap<String, String>,
) -> Result<Vec<ClaimView>, StoreError> {
    let mut seqs = Vec::new();
    for c in &cores {
        seqs.push(c.claim.seq);
        seqs.extend(c.claim.approvals.iter().map(|a| a.seq));
        seqs.extend(closing_seq(c.standing));
        seqs.extend(c.claim.service_record);
    }
    let rows = app.store.entry_rows(slug, &seqs).await?;
    let mut out = Vec::with_capacity(cores.len());
    for c in cores {
        let row = rows.get(&c.claim.seq).ok_or_else(|| {
            StoreError::Integrity(format!("claim {} is missing from the log", c.claim.seq))
        })?;
        let Body::ClaimSubmitted {
            payee,
            purpose,
            quote,
            evidence,
            ..
        } = row.entry()?.body
        else {
            return Err(StoreError::Integrity(format!(
                "entry {} is not a claim",
                c.claim.seq
            )));
        };
        let approvals = c
            .claim
            .approvals
            .iter()
            .map(|a| approval(a, &rows, names))
            .collect();
        let closed = closing_seq(c.standing).map(|s| {
            let time = rows.get(&s).map_or(row.time, |r| r.time);
            (s, time)
        });
        let rejection = match c.standing {
            Standing::Rejected { seq } => {
                rows.get(&seq).map(|r| rejection(r, names)).transpose()?
            }
            _ => None,
        };
        let service_title = c
            .claim
            .service_record
            .and_then(|s| rows.get(&s))
            .map(EntryRow::entry)
            .transpose()?
            .and_then(|e| match e.body {
                Body::ServiceRecord { title, .. } => Some(title.to_string()),
                _ => None,
            });
        out.push(ClaimView {
            seq: c.claim.seq,
            time: row.time,
            hash: row.hash,
            payee: payee.to_string(),
            amount: c.claim.amount,
            account: c.claim.account,
            category: c.claim.category,
            purpose: purpose.to_string(),
            quote,
            evidence,
            service_record: c.claim.service_record,
            service_title,
            period: c.claim.period,
            entitlement: c.entitlement,
            transfer_to: c.claim.transfer_to,
            expires: c.claim.expires,
            standing: c.standing,
            closed,
            approvals,
            rejection,
            needs: c.needs,
        });
    }
    Ok(out)
}

fn closing_seq(s: Standing) -> Option<u64> {
    match s {
        Standing::Executed { seq } | Standing::Rejected { seq } => Some(seq),
        Standing::Expired { seq } => seq,
        Standing::Pending => None,
    }
}

fn display_name(names: &BTreeMap<String, String>, member: &str) -> String {
    names
        .get(member)
        .cloned()
        .unwrap_or_else(|| member.to_string())
}

fn approval(
    a: &ApprovalRecord,
    rows: &BTreeMap<u64, EntryRow>,
    names: &BTreeMap<String, String>,
) -> Decision {
    Decision {
        seq: a.seq,
        member: a.member.to_string(),
        name: display_name(names, a.member.as_str()),
        role: Some(a.role),
        time: rows.get(&a.seq).map(|r| r.time),
        reason: None,
    }
}

fn rejection(row: &EntryRow, names: &BTreeMap<String, String>) -> Result<Decision, StoreError> {
    match row.entry()?.body {
        Body::ClaimRejected { member, reason, .. } => Ok(Decision {
            seq: row.seq,
            member: member.to_string(),
            name: display_name(names, member.as_str()),
            // Only committee members may reject (FORMAT.md §8).
            role: Some(Role::Committee),
            time: Some(row.time),
            reason: Some(reason.to_string()),
        }),
        _ => Err(StoreError::Integrity(format!(
            "entry {} is not a rejection",
            row.seq
        ))),
    }
}

/// The list's query: a cursor, a page size and an optional status.
pub struct ListQuery {
    pub before: Option<u64>,
    pub limit: u64,
    pub status: Option<&'static str>,
}

impl ListQuery {
    pub fn parse(ctx: &Ctx) -> Result<ListQuery, PageError> {
        let before = match ctx.param("before")? {
            Some(b) => Some(canonical_u64(b).ok_or(PageError::BadParam("before", Hint::Number))?),
            None => None,
        };
        let limit = parse_limit(ctx, DEFAULT_PAGE)?;
        let status = match ctx.param("status")? {
            Some(s) => Some(
                Standing::NAMES
                    .iter()
                    .copied()
                    .find(|n| *n == s)
                    .ok_or(PageError::BadParam("status", Hint::Status))?,
            ),
            None => None,
        };
        Ok(ListQuery {
            before,
            limit,
            status,
        })
    }
}

/// `limit`: 1 to [`MAX_PAGE_ROWS`], `default` when absent.
pub fn parse_limit(ctx: &Ctx, default: u64) -> Result<u64, PageError> {
    match ctx.param("limit")? {
        None => Ok(default),
        Some(l) => canonical_u64(l)
            .filter(|n| (1..=MAX_PAGE_ROWS).contains(n))
            .ok_or(PageError::BadParam("limit", Hint::Limit)),
    }
}

/// A page of claims, newest first, and the cursor of the next page.
pub struct ClaimList {
    pub estate: EstateRow,
    pub tz: EstateTz,
    pub claims: Vec<ClaimView>,
    pub next_before: Option<u64>,
}

pub async fn gather_list(
    app: &AppState,
    slug: &Slug,
    estate: EstateRow,
    q: &ListQuery,
) -> Result<ClaimList, PageError> {
    let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
    let (tz, cores, more) = app
        .store
        .with_state(slug, |s| {
            let at = as_of(s);
            let tz = s.estate().map(|e| e.timezone)?;
            let mut picked = s
                .claims_newest_first(q.before)
                .filter(|c| q.status.is_none_or(|st| c.standing(at).as_str() == st))
                .take(limit + 1)
                .map(|c| core(s, c, at))
                .collect::<Vec<_>>();
            let more = picked.len() > limit;
            picked.truncate(limit);
            Some((tz, picked, more))
        })
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;
    let names = app.store.member_names(slug).await?;
    let claims = load(app, slug, cores, &names).await?;
    let next_before = if more {
        claims.last().map(|c| c.seq)
    } else {
        None
    };
    Ok(ClaimList {
        estate,
        tz,
        claims,
        next_before,
    })
}

/// One claim, or `None` if there is no claim at that seq.
pub async fn gather_one(
    app: &AppState,
    slug: &Slug,
    seq: u64,
) -> Result<Option<(EstateTz, ClaimView)>, PageError> {
    let found = app
        .store
        .with_state(slug, |s| {
            let at = as_of(s);
            let tz = s.estate().map(|e| e.timezone)?;
            s.claims().get(&seq).map(|c| (tz, core(s, c, at)))
        })
        .await?;
    let Some((tz, core)) = found else {
        return Ok(None);
    };
    let names = app.store.member_names(slug).await?;
    let mut views = load(app, slug, vec![core], &names).await?;
    Ok(views.pop().map(|v| (tz, v)))
}

// ---------------------------------------------------------------- pages

/// A claim row or page, formatted for people.
pub struct ClaimRow {
    pub seq: u64,
    pub time: String,
    pub hash: String,
    pub short_hash: String,
    pub payee: String,
    pub amount: String,
    pub capital: String,
    pub account: &'static str,
    pub category: &'static str,
    pub purpose: String,
    pub quote: Option<String>,
    pub evidence: Vec<String>,
    pub service_record: Option<u64>,
    pub service_title: String,
    pub period: Option<String>,
    pub entitlement: Option<String>,
    pub transfer_to: Option<&'static str>,
    pub expires: String,
    pub status_class: &'static str,
    pub status: &'static str,
    pub closed: Option<(u64, String)>,
    pub expired_unrecorded: bool,
    pub approvals: Vec<DecisionRow>,
    pub rejection: Option<DecisionRow>,
    pub needs: String,
}

pub struct DecisionRow {
    pub seq: u64,
    pub name: String,
    pub member: String,
    pub role: &'static str,
    pub time: String,
    pub reason: String,
}

fn decision_row(d: &Decision, t: &Texts, tz: &EstateTz) -> DecisionRow {
    DecisionRow {
        seq: d.seq,
        name: d.name.clone(),
        member: d.member.clone(),
        role: d.role.map_or("", |r| t.role(r)),
        time: d.time.map(|x| local_time(x, tz)).unwrap_or_default(),
        reason: d.reason.clone().unwrap_or_default(),
    }
}

/// "1 property company + 1 owners' committee".
fn needs_text(n: Option<Requirement>, t: &Texts) -> String {
    let Some(n) = n else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (count, role) in [
        (n.company, Role::Company),
        (n.committee, Role::Committee),
        (n.community, Role::Community),
    ] {
        if count > 0 {
            parts.push(format!("{count} × {}", t.role(role)));
        }
    }
    parts.join(" + ")
}

pub fn status_class(s: Standing) -> &'static str {
    match s {
        Standing::Pending => "pending",
        Standing::Executed { .. } => "ok",
        Standing::Rejected { .. } | Standing::Expired { .. } => "closed",
    }
}

pub fn row(v: &ClaimView, t: &Texts, tz: &EstateTz) -> ClaimRow {
    ClaimRow {
        seq: v.seq,
        time: local_time(v.time, tz),
        hash: v.hash.to_hex(),
        short_hash: short_hash(&v.hash),
        payee: v.payee.clone(),
        amount: v.amount.format_cny(),
        capital: v.amount.to_chinese_capital(),
        account: t.fund(v.account),
        category: t.category(v.category),
        purpose: v.purpose.clone(),
        quote: v.quote.map(|q| q.format_cny()),
        evidence: v.evidence.iter().map(Hash::to_hex).collect(),
        service_record: v.service_record,
        service_title: v.service_title.clone().unwrap_or_default(),
        period: v.period.map(|p| p.to_string()),
        entitlement: v.entitlement.map(|m| m.format_cny()),
        transfer_to: v.transfer_to.map(|f| t.fund(f)),
        expires: local_time(v.expires, tz),
        status_class: status_class(v.standing),
        status: t.standing(v.standing),
        closed: v.closed.map(|(s, time)| (s, local_time(time, tz))),
        expired_unrecorded: v.standing == Standing::Expired { seq: None },
        approvals: v.approvals.iter().map(|d| decision_row(d, t, tz)).collect(),
        rejection: v.rejection.as_ref().map(|d| decision_row(d, t, tz)),
        needs: needs_text(v.needs, t),
    }
}

#[derive(Template)]
#[template(path = "claims.html")]
struct ListPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    rows: Vec<ClaimRow>,
    status: &'static str,
    statuses: Vec<(&'static str, &'static str)>,
    older: Option<String>,
    filtered: bool,
}

async fn list_page(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let mut estate = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let q = ListQuery::parse(&ctx)?;
        let list = gather_list(&app, &slug, er, &q).await?;
        let t = ctx.t();
        let older = list.next_before.map(|b| {
            let mut href = format!("/estates/{slug}/claims?before={b}");
            if let Some(s) = q.status {
                href.push_str(&format!("&status={s}"));
            }
            if q.limit != DEFAULT_PAGE {
                href.push_str(&format!("&limit={}", q.limit));
            }
            href
        });
        let page = ListPage {
            c: ctx.chrome(&app, Some(&list.estate), "claims"),
            t,
            slug: slug.to_string(),
            rows: list.claims.iter().map(|v| row(v, t, &list.tz)).collect(),
            status: q.status.unwrap_or(""),
            statuses: Standing::NAMES
                .iter()
                .zip(t.standings.iter())
                .map(|(n, l)| (*n, *l))
                .collect(),
            older,
            filtered: q.before.is_some() || q.status.is_some(),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    claim: ClaimRow,
}

async fn claim_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((slug, seq)): Path<(String, String)>,
) -> Response {
    let mut estate = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let seq = canonical_u64(&seq).ok_or(PageError::NotFound(Missing::Claim))?;
        let (tz, view) = gather_one(&app, &slug, seq)
            .await?
            .ok_or(PageError::NotFound(Missing::Claim))?;
        let t = ctx.t();
        let page = ClaimPage {
            c: ctx.chrome(&app, Some(&er), "claims"),
            t,
            slug: slug.to_string(),
            claim: row(&view, t, &tz),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

// ---------------------------------------------------------------- JSON

fn decision_json(d: &Decision) -> Value {
    json!({
        "seq": d.seq,
        "member": d.member,
        "name": d.name,
        "role": d.role.map(Role::as_str),
        "time": d.time.map(|t| t.to_string()),
        "reason": d.reason,
    })
}

/// A claim for the read API: amounts as decimal strings.
pub fn json(v: &ClaimView, slug: &str) -> Value {
    json!({
        "seq": v.seq,
        "time": v.time.to_string(),
        "hash": v.hash.to_hex(),
        "payee": v.payee,
        "amount": v.amount.to_string(),
        "amount_capital": v.amount.to_chinese_capital(),
        "account": v.account.as_str(),
        "category": v.category.as_str(),
        "purpose": v.purpose,
        "quote": v.quote.map(|q| q.to_string()),
        "evidence": v.evidence.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        "service_record": v.service_record,
        "period": v.period.map(|p| p.to_string()),
        "entitlement": v.entitlement.map(|m| m.to_string()),
        "transfer_to": v.transfer_to.map(FundAccount::as_str),
        "expires": v.expires.to_string(),
        "status": v.standing.as_str(),
        "closed_by": v.closed.map(|(s, _)| s),
        "needs": v.needs.map(|n| json!({
            "company": n.company, "committee": n.committee, "community": n.community
        })),
        "approvals": v.approvals.iter().map(decision_json).collect::<Vec<_>>(),
        "rejection": v.rejection.as_ref().map(decision_json),
        "entry": format!("/estates/{slug}/log/entries/{}", v.seq),
    })
}
