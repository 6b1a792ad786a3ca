//! The ledger browser: every entry, newest first, paged and filtered; and
//! one entry's page with its exact bytes, hash, `prev` and proofs.

use std::collections::BTreeMap;
use std::str::FromStr;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::claims::parse_limit;
use super::pages::{
    canonical_u64, cny, encode, finish, local_time, open_estate, render, short_hash, Chrome, Ctx,
    Hint, Missing, PageError, Texts,
};
use super::AppState;
use crate::domain::{EstateTz, Period, Slug};
use crate::ledger::{Account, Body, Category, Entry, Role, Side};
use crate::store::{EntryFilter, EntryRow, EstateRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/ledger", get(list_page))
        .route("/estates/{slug}/ledger/{seq}", get(entry_page))
}

/// Entries a page shows unless told otherwise; at most
/// [`crate::store::MAX_PAGE_ROWS`].
pub const DEFAULT_PAGE: u64 = 50;

/// What a ledger page asks for.
pub struct LedgerQuery {
    pub before: Option<u64>,
    pub limit: u64,
    pub filter: EntryFilter,
}

impl LedgerQuery {
    /// Reads `before`, `limit`, `kind`, `account`, `category` and `month`;
    /// anything that is not one of the known values is refused by name.
    pub fn parse(ctx: &Ctx) -> Result<LedgerQuery, PageError> {
        let before = match ctx.param("before")? {
            Some(b) => Some(canonical_u64(b).ok_or(PageError::BadParam("before", Hint::Number))?),
            None => None,
        };
        let limit = parse_limit(ctx, DEFAULT_PAGE)?;
        let kind = match ctx.param("kind")? {
            Some(k) => Some(
                Body::KINDS
                    .iter()
                    .copied()
                    .find(|known| *known == k)
                    .ok_or(PageError::BadParam("kind", Hint::Kind))?,
            ),
            None => None,
        };
        let mut account = match ctx.param("account")? {
            Some(a) => Some(
                Account::from_str(a).map_err(|_| PageError::BadParam("account", Hint::Account))?,
            ),
            None => None,
        };
        // A category is its expense account, offered for people who think
        // in categories rather than accounts.
        if let Some(c) = ctx.param("category")? {
            let c = Category::from_str(c)
                .map_err(|_| PageError::BadParam("category", Hint::Category))?;
            let as_account = Account::Expense(c);
            if account.as_ref().is_some_and(|a| *a != as_account) {
                return Err(PageError::BadParam("category", Hint::Conflict));
            }
            account = Some(as_account);
        }
        let period = match ctx.param("month")? {
            Some(m) => Some(
                Period::parse("month", m).map_err(|_| PageError::BadParam("month", Hint::Month))?,
            ),
            None => None,
        };
        Ok(LedgerQuery {
            before,
            limit,
            filter: EntryFilter {
                kind,
                account,
                period,
            },
        })
    }

    /// The query string of the next page.
    fn next_href(&self, slug: &Slug, before: u64) -> String {
        let mut q = vec![format!("before={before}")];
        if let Some(k) = self.filter.kind {
            q.push(format!("kind={k}"));
        }
        if let Some(a) = &self.filter.account {
            q.push(format!("account={}", encode(&a.to_string())));
        }
        if let Some(p) = self.filter.period {
            q.push(format!("month={p}"));
        }
        if self.limit != DEFAULT_PAGE {
            q.push(format!("limit={}", self.limit));
        }
        format!("/estates/{slug}/ledger?{}", q.join("&"))
    }
}

/// One entry, decoded.
pub struct EntryView {
    pub row: EntryRow,
    pub entry: Entry,
}

impl EntryView {
    /// What the entry moved: the sum of its debits; for a claim what it
    /// asks for, for a service record its cost; `None` otherwise.
    pub fn amount_fen(&self) -> Option<i64> {
        let postings = self.entry.body.postings();
        if !postings.is_empty() {
            return Some(
                postings
                    .iter()
                    .filter(|p| p.side == Side::Debit)
                    .map(|p| p.amount.fen())
                    .sum(),
            );
        }
        match &self.entry.body {
            Body::ClaimSubmitted { amount, .. } => Some(amount.fen()),
            Body::ServiceRecord { cost, .. } => cost.map(|c| c.fen()),
            _ => None,
        }
    }

    /// The claim an entry is about, if any.
    pub fn claim(&self) -> Option<u64> {
        match &self.entry.body {
            Body::ClaimSubmitted { .. } => Some(self.row.seq),
            Body::ClaimApproved { claim, .. }
            | Body::ClaimRejected { claim, .. }
            | Body::ClaimExpired { claim }
            | Body::DisbursementExecuted { claim, .. }
            | Body::Transfer { claim, .. } => Some(*claim),
            _ => None,
        }
    }
}

/// A page of entries and the cursor of the next one.
pub struct LedgerPage {
    pub tz: EstateTz,
    pub entries: Vec<EntryView>,
    pub next_before: Option<u64>,
    pub names: BTreeMap<String, String>,
}

pub async fn gather(app: &AppState, slug: &Slug, q: &LedgerQuery) -> Result<LedgerPage, PageError> {
    let tz = app
        .store
        .with_state(slug, |s| s.estate().map(|e| e.timezone))
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;
    let mut rows = app
        .store
        .entries_page(slug, &q.filter, q.before, q.limit + 1)
        .await?;
    let more = rows.len() as u64 > q.limit;
    rows.truncate(usize::try_from(q.limit).unwrap_or(usize::MAX));
    let next_before = if more {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let entries = rows
        .into_iter()
        .map(|row| {
            Ok(EntryView {
                entry: row.entry()?,
                row,
            })
        })
        .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
    let names = if entries.iter().any(|e| {
        matches!(
            e.entry.body,
            Body::ClaimApproved { .. } | Body::ClaimRejected { .. } | Body::MemberRevoked { .. }
        )
    }) {
        app.store.member_names(slug).await?
    } else {
        BTreeMap::new()
    };
    Ok(LedgerPage {
        tz,
        entries,
        next_before,
        names,
    })
}

// ---------------------------------------------------------------- pages

pub struct Row {
    pub seq: u64,
    pub time: String,
    pub kind: String,
    pub amount: String,
    pub moves_money: bool,
    pub what: String,
    pub short_hash: String,
    pub claim: Option<u64>,
}

/// Table rows for a list of entries (also the statement page's).
pub fn rows(p: &LedgerPage, t: &Texts) -> Vec<Row> {
    let name = |m: &str| p.names.get(m).cloned().unwrap_or_else(|| m.to_string());
    p.entries
        .iter()
        .map(|e| Row {
            seq: e.row.seq,
            time: local_time(e.row.time, &p.tz),
            kind: t.kind(&e.row.kind).to_string(),
            amount: e.amount_fen().map(cny).unwrap_or_default(),
            moves_money: !e.entry.body.postings().is_empty(),
            what: t.summary(&e.entry.body, &name),
            short_hash: short_hash(&e.row.hash),
            claim: e.claim(),
        })
        .collect()
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct ListPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    rows: Vec<Row>,
    kinds: Vec<Choice>,
    accounts: Vec<Choice>,
    month: String,
    limit: u64,
    filtered: bool,
    older: Option<String>,
}

/// The accounts offered in the filter (receivables are per unit and are
/// reached from the unit page, not listed).
fn account_choices(t: &Texts, selected: Option<&Account>) -> Vec<Choice> {
    use crate::ledger::{FundAccount, IncomeSource};
    let mut all: Vec<Account> = FundAccount::ALL.iter().map(|f| Account::Fund(*f)).collect();
    all.push(Account::IncomeFees);
    all.extend(IncomeSource::ALL.iter().map(|s| Account::IncomePublic(*s)));
    all.extend(Category::ALL.iter().map(|c| Account::Expense(*c)));
    all.push(Account::OpeningEquity);
    if let Some(s) = selected {
        if !all.contains(s) {
            all.push(s.clone());
        }
    }
    all.into_iter()
        .map(|a| Choice {
            value: a.to_string(),
            label: t.account(&a),
            selected: selected == Some(&a),
        })
        .collect()
}

async fn list_page(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let q = LedgerQuery::parse(&ctx)?;
        let p = gather(&app, &slug, &q).await?;
        let t = ctx.t();
        let page = ListPage {
            c: ctx.chrome(&app, Some(&er), "ledger"),
            t,
            slug: slug.to_string(),
            rows: rows(&p, t),
            kinds: Body::KINDS
                .iter()
                .map(|k| Choice {
                    value: k.to_string(),
                    label: t.kind(k).to_string(),
                    selected: q.filter.kind == Some(*k),
                })
                .collect(),
            accounts: account_choices(t, q.filter.account.as_ref()),
            month: q.filter.period.map(|p| p.to_string()).unwrap_or_default(),
            limit: q.limit,
            filtered: q.before.is_some()
                || q.filter != EntryFilter::default()
                || q.limit != DEFAULT_PAGE,
            older: p.next_before.map(|b| q.next_href(&slug, b)),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

pub struct Field {
    pub name: String,
    pub value: String,
    pub link: Option<String>,
}

pub struct PostingRow {
    pub account: String,
    pub label: String,
    pub debit: String,
    pub credit: String,
}

pub struct ApprovalRow {
    pub seq: u64,
    pub name: String,
    pub role: &'static str,
    pub time: String,
}

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    seq: u64,
    kind: String,
    kind_code: String,
    time: String,
    what: String,
    amount: String,
    fields: Vec<Field>,
    bytes: String,
    byte_len: usize,
    hash: String,
    prev: String,
    prev_seq: Option<u64>,
    next_seq: Option<u64>,
    postings: Vec<PostingRow>,
    checkpoint_size: Option<u64>,
    claim: Option<u64>,
    approvals: Vec<ApprovalRow>,
    corrected_by: Option<u64>,
}

/// Where a field's value leads, for fields that name another entry.
fn field_link(slug: &Slug, name: &str, v: &Value) -> Option<String> {
    let n = v.as_u64()?;
    match name {
        "claim" => Some(format!("/estates/{slug}/claims/{n}")),
        "corrects" => Some(format!("/estates/{slug}/ledger/{n}")),
        "service_record" => Some(format!("/estates/{slug}/services/{n}")),
        _ => None,
    }
}

fn field_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

async fn entry_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((slug, seq)): Path<(String, String)>,
) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let seq = canonical_u64(&seq).ok_or(PageError::NotFound(Missing::Entry))?;
        let row = app
            .store
            .entry_row(&slug, seq)
            .await?
            .ok_or(PageError::NotFound(Missing::Entry))?;
        let view = EntryView {
            entry: row.entry()?,
            row,
        };
        let (tz, size, roles) = app
            .store
            .with_state(&slug, |s| {
                let roles: BTreeMap<String, Role> = s
                    .members()
                    .iter()
                    .map(|(id, m)| (id.to_string(), m.role))
                    .collect();
                s.estate().map(|e| (e.timezone, s.size(), roles))
            })
            .await?
            .ok_or(PageError::NotFound(Missing::Estate))?;
        let checkpoint_size = app
            .store
            .latest_checkpoint(&slug)
            .await?
            .map(|c| c.tree_size)
            .filter(|n| seq < *n);
        let names = app.store.member_names(&slug).await?;
        let name = |m: &str| names.get(m).cloned().unwrap_or_else(|| m.to_string());
        let t = ctx.t();
        let approvals = match &view.entry.body {
            Body::DisbursementExecuted { approvals, .. } | Body::Transfer { approvals, .. } => {
                let rows = app.store.entry_rows(&slug, approvals).await?;
                let mut out = Vec::new();
                for a in approvals {
                    if let Some(r) = rows.get(a) {
                        if let Body::ClaimApproved { member, .. } = r.entry()?.body {
                            out.push(ApprovalRow {
                                seq: *a,
                                name: name(member.as_str()),
                                role: roles.get(member.as_str()).map_or("", |r| t.role(*r)),
                                time: local_time(r.time, &tz),
                            });
                        }
                    }
                }
                out
            }
            _ => Vec::new(),
        };
        let correctable = matches!(
            view.entry.body,
            Body::FeesCharged { .. }
                | Body::FeePaid { .. }
                | Body::PublicIncomeReceived { .. }
                | Body::OpeningBalance { .. }
                | Body::ServiceRecord { .. }
        );
        let corrected_by = if correctable {
            app.store.correction_of(&slug, seq).await?.map(|r| r.seq)
        } else {
            None
        };
        let decoded: Value = serde_json::from_str(&view.row.body).unwrap_or(Value::Null);
        let fields = decoded
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| k.as_str() != "postings")
                    .map(|(k, v)| Field {
                        name: k.clone(),
                        value: field_text(v),
                        link: field_link(&slug, k, v),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let postings = view
            .entry
            .body
            .postings()
            .iter()
            .map(|p| PostingRow {
                account: p.account.to_string(),
                label: t.account(&p.account),
                debit: if p.side == Side::Debit {
                    p.amount.format_cny()
                } else {
                    String::new()
                },
                credit: if p.side == Side::Credit {
                    p.amount.format_cny()
                } else {
                    String::new()
                },
            })
            .collect();
        let page = EntryPage {
            c: ctx.chrome(&app, Some(&er), "ledger"),
            t,
            slug: slug.to_string(),
            seq,
            kind: t.kind(&view.row.kind).to_string(),
            kind_code: view.row.kind.clone(),
            time: local_time(view.row.time, &tz),
            what: t.summary(&view.entry.body, &name),
            amount: view.amount_fen().map(cny).unwrap_or_default(),
            fields,
            byte_len: view.row.body.len(),
            bytes: view.row.body.clone(),
            hash: view.row.hash.to_hex(),
            prev: view.row.prev.to_hex(),
            prev_seq: seq.checked_sub(1),
            next_seq: Some(seq + 1).filter(|n| *n < size),
            postings,
            checkpoint_size,
            claim: view.claim(),
            approvals,
            corrected_by,
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

// ---------------------------------------------------------------- JSON

/// An entry for the read API: its decoded fields, its exact bytes and its
/// hash. The decoded object is the bytes parsed as JSON, so amounts stay
/// decimal strings.
pub fn json(e: &EntryView) -> Value {
    json!({
        "seq": e.row.seq,
        "kind": e.row.kind,
        "time": e.row.time.to_string(),
        "hash": e.row.hash.to_hex(),
        "prev": e.row.prev.to_hex(),
        "entry": serde_json::from_str::<Value>(&e.row.body).unwrap_or(Value::Null),
        "bytes": e.row.body,
    })
}
