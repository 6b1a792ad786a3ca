//! Service records (工单): what was done, where, when, by whom, at what
//! cost, and the claim that paid for it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::claims::{as_of, parse_limit, status_class};
use super::pages::{
    canonical_u64, finish, local_time, open_estate, render, short_hash, Chrome, Ctx, Hint, Missing,
    PageError, Texts,
};
use super::AppState;
use crate::domain::{Date, EstateTz, Money, Slug, Timestamp};
use crate::ledger::views::Standing;
use crate::ledger::Body;
use crate::store::{EntryFilter, EntryRow, EstateRow, StoreError};
use crate::tlog::Hash;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/services", get(list_page))
        .route("/estates/{slug}/services/{seq}", get(record_page))
}

pub const DEFAULT_PAGE: u64 = 50;

/// A claim that named the record.
pub struct PaidBy {
    pub claim: u64,
    pub amount: Money,
    pub standing: Standing,
}

pub struct ServiceView {
    pub seq: u64,
    pub time: Timestamp,
    pub hash: Hash,
    pub title: String,
    pub description: String,
    pub location: String,
    pub done_on: Date,
    pub done_by: String,
    pub cost: Option<Money>,
    pub evidence: Vec<Hash>,
    pub paid_by: Vec<PaidBy>,
    /// The correction that voided the record, when asked for.
    pub voided_by: Option<u64>,
}

/// Service records from their entries, each with the claims that name it.
pub async fn views(
    app: &AppState,
    slug: &Slug,
    rows: Vec<EntryRow>,
) -> Result<(EstateTz, Vec<ServiceView>), PageError> {
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    let (tz, paid) = app
        .store
        .with_state(slug, |s| {
            let at = as_of(s);
            let tz = s.estate().map(|e| e.timezone)?;
            let paid: Vec<Vec<PaidBy>> = seqs
                .iter()
                .map(|seq| {
                    s.claims_for_record(*seq)
                        .into_iter()
                        .map(|c| PaidBy {
                            claim: c.seq,
                            amount: c.amount,
                            standing: c.standing(at),
                        })
                        .collect()
                })
                .collect();
            Some((tz, paid))
        })
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;
    let mut out = Vec::with_capacity(rows.len());
    for (row, paid_by) in rows.into_iter().zip(paid) {
        let Body::ServiceRecord {
            title,
            description,
            location,
            done_on,
            done_by,
            cost,
            evidence,
        } = row.entry()?.body
        else {
            return Err(StoreError::Integrity(format!(
                "entry {} is not a service record",
                row.seq
            ))
            .into());
        };
        out.push(ServiceView {
            seq: row.seq,
            time: row.time,
            hash: row.hash,
            title: title.to_string(),
            description: description.to_string(),
            location: location.to_string(),
            done_on,
            done_by: done_by.to_string(),
            cost,
            evidence,
            paid_by,
            voided_by: None,
        });
    }
    Ok((tz, out))
}

/// A page of records, newest first, and the cursor of the next page.
pub async fn gather_list(
    app: &AppState,
    slug: &Slug,
    before: Option<u64>,
    limit: u64,
) -> Result<(EstateTz, Vec<ServiceView>, Option<u64>), PageError> {
    let filter = EntryFilter {
        kind: Some("service_record"),
        ..EntryFilter::default()
    };
    let mut rows = app
        .store
        .entries_page(slug, &filter, before, limit + 1)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let (tz, views) = views(app, slug, rows).await?;
    Ok((tz, views, next))
}

/// One record, with the correction that voided it if there is one.
pub async fn gather_one(
    app: &AppState,
    slug: &Slug,
    seq: u64,
) -> Result<Option<(EstateTz, ServiceView)>, PageError> {
    let Some(row) = app.store.entry_row(slug, seq).await? else {
        return Ok(None);
    };
    if row.kind != "service_record" {
        return Ok(None);
    }
    let voided_by = app.store.correction_of(slug, seq).await?.map(|r| r.seq);
    let (tz, mut views) = views(app, slug, vec![row]).await?;
    Ok(views.pop().map(|mut v| {
        v.voided_by = voided_by;
        (tz, v)
    }))
}

// ---------------------------------------------------------------- pages

pub struct PaidRow {
    pub claim: u64,
    pub amount: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

pub struct ServiceRow {
    pub seq: u64,
    pub time: String,
    pub hash: String,
    pub short_hash: String,
    pub title: String,
    pub description: String,
    pub location: String,
    pub done_on: String,
    pub done_by: String,
    pub cost: Option<String>,
    pub evidence: Vec<String>,
    pub paid_by: Vec<PaidRow>,
    pub voided_by: Option<u64>,
}

pub fn row(v: &ServiceView, t: &Texts, tz: &EstateTz) -> ServiceRow {
    ServiceRow {
        seq: v.seq,
        time: local_time(v.time, tz),
        hash: v.hash.to_hex(),
        short_hash: short_hash(&v.hash),
        title: v.title.clone(),
        description: v.description.clone(),
        location: v.location.clone(),
        done_on: v.done_on.to_string(),
        done_by: v.done_by.clone(),
        cost: v.cost.map(|c| c.format_cny()),
        evidence: v.evidence.iter().map(Hash::to_hex).collect(),
        paid_by: v
            .paid_by
            .iter()
            .map(|p| PaidRow {
                claim: p.claim,
                amount: p.amount.format_cny(),
                status: t.standing(p.standing),
                status_class: status_class(p.standing),
            })
            .collect(),
        voided_by: v.voided_by,
    }
}

fn parse_before(ctx: &Ctx) -> Result<Option<u64>, PageError> {
    match ctx.param("before")? {
        Some(b) => Ok(Some(
            canonical_u64(b).ok_or(PageError::BadParam("before", Hint::Number))?,
        )),
        None => Ok(None),
    }
}

/// The list's query: a cursor and a page size.
pub fn parse_query(ctx: &Ctx) -> Result<(Option<u64>, u64), PageError> {
    Ok((parse_before(ctx)?, parse_limit(ctx, DEFAULT_PAGE)?))
}

#[derive(Template)]
#[template(path = "services.html")]
struct ListPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    rows: Vec<ServiceRow>,
    older: Option<String>,
    paged: bool,
}

async fn list_page(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let (before, limit) = parse_query(&ctx)?;
        let (tz, views, next) = gather_list(&app, &slug, before, limit).await?;
        let t = ctx.t();
        let page = ListPage {
            c: ctx.chrome(&app, Some(&er), "services"),
            t,
            slug: slug.to_string(),
            rows: views.iter().map(|v| row(v, t, &tz)).collect(),
            older: next.map(|b| {
                let mut href = format!("/estates/{slug}/services?before={b}");
                if limit != DEFAULT_PAGE {
                    href.push_str(&format!("&limit={limit}"));
                }
                href
            }),
            paged: before.is_some(),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

#[derive(Template)]
#[template(path = "service.html")]
struct RecordPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    r: ServiceRow,
}

async fn record_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((slug, seq)): Path<(String, String)>,
) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let seq = canonical_u64(&seq).ok_or(PageError::NotFound(Missing::Service))?;
        let (tz, view) = gather_one(&app, &slug, seq)
            .await?
            .ok_or(PageError::NotFound(Missing::Service))?;
        let t = ctx.t();
        let page = RecordPage {
            c: ctx.chrome(&app, Some(&er), "services"),
            t,
            slug: slug.to_string(),
            r: row(&view, t, &tz),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

// ---------------------------------------------------------------- JSON

pub fn json(v: &ServiceView, slug: &str) -> Value {
    json!({
        "seq": v.seq,
        "time": v.time.to_string(),
        "hash": v.hash.to_hex(),
        "title": v.title,
        "description": v.description,
        "location": v.location,
        "done_on": v.done_on.to_string(),
        "done_by": v.done_by,
        "cost": v.cost.map(|c| c.to_string()),
        "evidence": v.evidence.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        "paid_by": v.paid_by.iter().map(|p| json!({
            "claim": p.claim,
            "amount": p.amount.to_string(),
            "status": p.standing.as_str(),
        })).collect::<Vec<_>>(),
        "voided_by": v.voided_by,
        "entry": format!("/estates/{slug}/log/entries/{}", v.seq),
    })
}
