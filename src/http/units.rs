//! The unit page, opened with the secret printed on the owner's bill: the
//! unit's charges, payments, what it owes, and a receipt for each payment
//! that points into the published log.
//!
//! A wrong code, a malformed code and a unit that does not exist all get
//! the same 404, and every attempt costs a token from the client's bucket.
//! The code is never logged; pages that show a unit are not cached and
//! send no referrer.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{json, Value};

use super::pages::{
    cny, decimal, encode, finish, local_time, open_estate, render, short_hash, Chrome, Ctx,
    Missing, PageError, Texts,
};
use super::ratelimit::{ClientIp, RateLimiter};
use super::AppState;
use crate::domain::{
    Area, Date, EstateTz, Money, Period, Slug, Timestamp, UnitCommitment, UnitSecret,
};
use crate::ledger::{Account, Body, PayMethod};
use crate::store::{EstateRow, MAX_ACCOUNT_ROWS};
use crate::tlog::Hash;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/unit", get(form_page).post(form_post))
        .route("/estates/{slug}/units/{code}", get(code_page))
}

pub struct ChargeView {
    pub seq: u64,
    pub time: Timestamp,
    pub hash: Hash,
    pub period: Option<Period>,
    /// Positive for a charge, negative for a correction that reversed one.
    pub amount_fen: i64,
    pub reversal: bool,
}

pub struct PaymentView {
    pub seq: u64,
    pub time: Timestamp,
    pub hash: Hash,
    /// Positive for a payment, negative for a correction that reversed one.
    pub amount_fen: i64,
    pub method: Option<PayMethod>,
    pub paid_on: Option<Date>,
    pub reversal: bool,
    /// The correction that reversed this payment, if it is on this page.
    pub corrected_by: Option<u64>,
}

pub struct UnitView {
    pub unit_id: String,
    pub area: String,
    pub commitment: String,
    pub monthly_fee: Option<Money>,
    /// Debit minus credit of the unit's receivable: what it owes (negative:
    /// paid in advance).
    pub balance_fen: i64,
    pub charges: Vec<ChargeView>,
    pub payments: Vec<PaymentView>,
    pub truncated: bool,
    pub checkpoint_size: Option<u64>,
    pub tz: EstateTz,
}

/// The unit a code opens, or `None` for any code that opens nothing.
pub async fn gather(
    app: &AppState,
    slug: &Slug,
    code: &str,
) -> Result<Option<UnitView>, PageError> {
    let Ok(secret) = UnitSecret::parse("code", code) else {
        return Ok(None);
    };
    let Some(unit) = app.store.unit_by_secret(slug, &secret).await? else {
        return Ok(None);
    };
    let commitment = UnitCommitment::parse("commitment", &unit.commitment)
        .map_err(|e| crate::store::StoreError::Integrity(format!("unit commitment: {e}")))?;
    let account = Account::Receivable(commitment);
    let (tz, rate) = app
        .store
        .with_state(slug, |s| s.estate().map(|e| (e.timezone, e.fee_rate)))
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;
    let monthly_fee = Area::parse("area", &unit.area)
        .ok()
        .and_then(|a| a.times_rate(&rate).ok());
    let balance_fen = app.store.account_balance(slug, &account).await?;
    let postings = app
        .store
        .account_postings(slug, &account, MAX_ACCOUNT_ROWS)
        .await?;
    let truncated = postings.len() as u64 >= MAX_ACCOUNT_ROWS;
    let checkpoint_size = app
        .store
        .latest_checkpoint(slug)
        .await?
        .map(|c| c.tree_size);

    let mut charges = Vec::new();
    let mut payments = Vec::new();
    let mut corrected: HashMap<u64, u64> = HashMap::new();
    for p in postings {
        let signed = p.debit_fen - p.credit_fen;
        match (p.kind.as_str(), &p.entry) {
            ("fees_charged", _) => charges.push(ChargeView {
                seq: p.seq,
                time: p.time,
                hash: p.hash,
                period: p.charged_period,
                amount_fen: signed,
                reversal: false,
            }),
            (_, Some(e)) => match &e.body {
                Body::FeePaid {
                    method, paid_on, ..
                } => payments.push(PaymentView {
                    seq: p.seq,
                    time: p.time,
                    hash: p.hash,
                    amount_fen: -signed,
                    method: Some(*method),
                    paid_on: Some(*paid_on),
                    reversal: false,
                    corrected_by: None,
                }),
                Body::Correction { corrects, .. } => {
                    corrected.insert(*corrects, p.seq);
                    if signed > 0 {
                        // Debiting the receivable undoes a payment.
                        payments.push(PaymentView {
                            seq: p.seq,
                            time: p.time,
                            hash: p.hash,
                            amount_fen: -signed,
                            method: None,
                            paid_on: None,
                            reversal: true,
                            corrected_by: None,
                        });
                    } else {
                        charges.push(ChargeView {
                            seq: p.seq,
                            time: p.time,
                            hash: p.hash,
                            period: None,
                            amount_fen: signed,
                            reversal: true,
                        });
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    for pay in &mut payments {
        pay.corrected_by = corrected.get(&pay.seq).copied();
    }
    Ok(Some(UnitView {
        unit_id: unit.unit_id,
        area: unit.area,
        commitment: unit.commitment,
        monthly_fee,
        balance_fen,
        charges,
        payments,
        truncated,
        checkpoint_size,
        tz,
    }))
}

/// One attempt from `ip` against the look-up budget.
pub fn allow(limiter: &RateLimiter, ip: ClientIp) -> bool {
    limiter.try_take(ip.0, Instant::now())
}

/// Headers for any response that may show a unit: never cached, never
/// sent on as a referrer, never indexed.
pub fn private(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

// ---------------------------------------------------------------- pages

#[derive(Template)]
#[template(path = "unit_form.html")]
struct FormPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
}

pub struct ChargeRow {
    pub seq: u64,
    pub time: String,
    pub period: String,
    pub amount: String,
    pub reversal: bool,
}

pub struct PaymentRow {
    pub seq: u64,
    pub time: String,
    pub hash: String,
    pub short_hash: String,
    pub amount: String,
    pub method: &'static str,
    pub paid_on: String,
    pub reversal: bool,
    pub corrected_by: Option<u64>,
    pub proof: Option<String>,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    unit_id: String,
    area: String,
    commitment: String,
    monthly_fee: String,
    owed: String,
    owed_class: &'static str,
    owed_label: &'static str,
    charges: Vec<ChargeRow>,
    payments: Vec<PaymentRow>,
    truncated: bool,
    limit: u64,
    checkpoint_size: Option<u64>,
}

fn unit_page(
    ctx: &Ctx,
    app: &AppState,
    er: &EstateRow,
    slug: &Slug,
    u: &UnitView,
) -> Result<Response, PageError> {
    let t = ctx.t();
    let (owed_label, owed_class, owed) = match u.balance_fen {
        b if b > 0 => (t.balance_owed, "owed", cny(b)),
        b if b < 0 => (t.prepaid, "ok", cny(-b)),
        _ => (t.balance_owed, "ok", format!("{} · {}", cny(0), t.settled)),
    };
    let page = UnitPage {
        c: ctx.chrome(app, Some(er), "unit"),
        t,
        slug: slug.to_string(),
        unit_id: u.unit_id.clone(),
        area: u.area.clone(),
        commitment: u.commitment.clone(),
        monthly_fee: u.monthly_fee.map(|m| m.format_cny()).unwrap_or_default(),
        owed,
        owed_class,
        owed_label,
        charges: u
            .charges
            .iter()
            .map(|c| ChargeRow {
                seq: c.seq,
                time: local_time(c.time, &u.tz),
                period: c.period.map(|p| p.to_string()).unwrap_or_default(),
                amount: cny(c.amount_fen),
                reversal: c.reversal,
            })
            .collect(),
        payments: u
            .payments
            .iter()
            .map(|p| PaymentRow {
                seq: p.seq,
                time: local_time(p.time, &u.tz),
                hash: p.hash.to_hex(),
                short_hash: short_hash(&p.hash),
                amount: cny(p.amount_fen),
                method: p.method.map_or("", |m| t.method(m)),
                paid_on: p.paid_on.map(|d| d.to_string()).unwrap_or_default(),
                reversal: p.reversal,
                corrected_by: p.corrected_by,
                proof: proof_link(slug, p.seq, u.checkpoint_size),
            })
            .collect(),
        truncated: u.truncated,
        limit: MAX_ACCOUNT_ROWS,
        checkpoint_size: u.checkpoint_size,
    };
    Ok(render(&page, ctx)?)
}

/// The inclusion proof of entry `seq` in the latest signed checkpoint.
pub fn proof_link(slug: &Slug, seq: u64, size: Option<u64>) -> Option<String> {
    size.filter(|n| seq < *n)
        .map(|n| format!("/estates/{slug}/log/proof/inclusion?index={seq}&size={n}"))
}

async fn form_page(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let page = FormPage {
            c: ctx.chrome(&app, Some(&er), "unit"),
            t: ctx.t(),
            slug: slug.to_string(),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

async fn show(
    app: &AppState,
    ctx: &Ctx,
    ip: ClientIp,
    limiter: &RateLimiter,
    slug: &str,
    code: &str,
) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(app, slug).await?;
        estate = Some(er.clone());
        if !allow(limiter, ip) {
            return Err(PageError::RateLimited);
        }
        let u = gather(app, &slug, code)
            .await?
            .ok_or(PageError::NotFound(Missing::Unit))?;
        unit_page(ctx, app, &er, &slug, &u)
    }
    .await;
    // Whatever went wrong, the page must not depend on the code typed (a
    // wrong code and a missing unit look the same), so its links lead to
    // the form.
    let form = ctx.at_path(format!("/estates/{}/unit", encode(slug)));
    private(match result {
        Ok(r) => r,
        Err(e) => e.render(&form, app, estate.as_ref()),
    })
}

async fn form_post(
    State(app): State<AppState>,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    ip: ClientIp,
    ctx: Ctx,
    Path(slug): Path<String>,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let code = form
        .as_ref()
        .ok()
        .and_then(|f| f.0.get("code"))
        .map(String::as_str)
        .unwrap_or("");
    show(&app, &ctx, ip, &limiter, &slug, code).await
}

async fn code_page(
    State(app): State<AppState>,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    ip: ClientIp,
    ctx: Ctx,
    Path((slug, code)): Path<(String, String)>,
) -> Response {
    show(&app, &ctx, ip, &limiter, &slug, &code).await
}

// ---------------------------------------------------------------- JSON

pub fn json(u: &UnitView, slug: &Slug) -> Value {
    json!({
        "unit": u.unit_id,
        "area": u.area,
        "commitment": u.commitment,
        "account": format!("receivable:{}", u.commitment),
        "monthly_fee": u.monthly_fee.map(|m| m.to_string()),
        "balance_owed": decimal(u.balance_fen),
        "charges": u.charges.iter().map(|c| json!({
            "seq": c.seq,
            "time": c.time.to_string(),
            "hash": c.hash.to_hex(),
            "period": c.period.map(|p| p.to_string()),
            "amount": decimal(c.amount_fen),
            "reversal": c.reversal,
        })).collect::<Vec<_>>(),
        "payments": u.payments.iter().map(|p| json!({
            "seq": p.seq,
            "time": p.time.to_string(),
            "hash": p.hash.to_hex(),
            "amount": decimal(p.amount_fen),
            "method": p.method.map(PayMethod::as_str),
            "paid_on": p.paid_on.map(|d| d.to_string()),
            "reversal": p.reversal,
            "corrected_by": p.corrected_by,
            "receipt": {
                "entry": format!("/estates/{slug}/log/entries/{}", p.seq),
                "proof": proof_link(slug, p.seq, u.checkpoint_size),
                "checkpoint": format!("/estates/{slug}/log/checkpoint"),
            },
        })).collect::<Vec<_>>(),
        "truncated": u.truncated,
        "checkpoint_size": u.checkpoint_size,
    })
}
