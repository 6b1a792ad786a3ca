//! Remuneration (酬金): what the company may take each month under the
//! contract ratio, what it has claimed, and a form to claim the rest. The
//! ledger enforces the bound; this page shows it before anyone asks.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{cny, decimal, render_status, Chrome, Ctx, Lang};
use super::evidence::{
    created, parse_json, place_errors, refusal_status, see_other, submit, Fields, FormView,
};
use super::home::page_error;
use super::{open_for, FormErrors, StaffError, MAX_FORM_BYTES};
use crate::domain::{Money, Payee, Period, Purpose, Ratio, Slug, Timestamp};
use crate::http::AppState;
use crate::ledger::{Body, Category, FundAccount, Role};
use crate::store::{EstateRow, StoreError};

const ROUTE: &str = "remuneration_claim";
const FIELDS: &[&str] = &["period", "amount", "payee", "purpose"];
/// Months the table reaches back (ten years); older months stay claimable
/// through the API.
const MAX_MONTHS: usize = 120;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/remuneration",
            get(page)
                .post(form_post)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/api/v1/estates/{slug}/remuneration", get(api_table))
        .route(
            "/api/v1/estates/{slug}/remuneration-claims",
            post(api_post).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

/// One month of the table, amounts in fen.
pub struct Month {
    pub period: Period,
    pub collected_fen: i64,
    pub ratio: Ratio,
    pub entitlement_fen: i64,
    pub claimed_fen: i64,
    pub unclaimed_fen: i64,
}

impl Month {
    fn collected(&self) -> String {
        cny(self.collected_fen)
    }
    fn entitlement(&self) -> String {
        cny(self.entitlement_fen)
    }
    fn claimed(&self) -> String {
        cny(self.claimed_fen)
    }
    fn unclaimed(&self) -> String {
        cny(self.unclaimed_fen)
    }
}

/// Every month from the one the ratio took effect (at most
/// [`MAX_MONTHS`] back) to the current one, oldest first.
async fn months(app: &AppState, slug: &Slug) -> Result<Vec<Month>, StaffError> {
    let now = Timestamp::now().map_err(|e| StaffError::Store(StoreError::BadRequest(e.message)))?;
    Ok(app
        .store
        .with_state(slug, |st| {
            let Some(info) = st.estate() else {
                return Vec::new();
            };
            let mut out = Vec::new();
            let mut p = now.period_in(&info.timezone);
            for _ in 0..MAX_MONTHS {
                let Some(ratio) = st.ratio_for(p) else { break };
                let entitlement = st.entitlement(p).fen();
                let claimed = st.remuneration_claimed(p, now).fen();
                out.push(Month {
                    period: p,
                    collected_fen: st.collected(p).fen(),
                    ratio,
                    entitlement_fen: entitlement,
                    claimed_fen: claimed,
                    unclaimed_fen: (entitlement - claimed).max(0),
                });
                match p.prev() {
                    Some(q) => p = q,
                    None => break,
                }
            }
            out.reverse();
            out
        })
        .await?)
}

fn remuneration_body(lang: Lang, f: &Fields, errors: &mut FormErrors) -> Option<Body> {
    let period = errors.take(lang, Period::parse("period", f.get("period")));
    let amount = errors.take(lang, Money::parse_positive("amount", f.get("amount")));
    let payee = errors.take(lang, Payee::parse("payee", f.get("payee")));
    let purpose = match (f.opt("purpose"), period) {
        (Some(p), _) => errors.take(lang, Purpose::parse("purpose", p)),
        (None, Some(p)) => errors.take(lang, Purpose::parse("purpose", &format!("{p} 酬金"))),
        (None, None) => None,
    };
    Some(Body::ClaimSubmitted {
        // The ledger pays remuneration only from the operating account.
        account: FundAccount::Operating,
        category: Category::Remuneration,
        payee: payee?,
        amount: amount?,
        purpose: purpose?,
        quote: None,
        evidence: vec![],
        service_record: None,
        period: Some(period?),
        transfer_to: None,
        expires: Timestamp::MIN,
    })
}

#[derive(Template)]
#[template(path = "staff/remuneration.html")]
struct RemunerationPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    months: Vec<Month>,
    f: FormView,
}

async fn show(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    row: &EstateRow,
    mut f: FormView,
    status: StatusCode,
) -> Response {
    let months = match months(app, slug).await {
        Ok(m) => m,
        Err(e) => return page_error(app, ctx, e),
    };
    if f.fields.opt("period").is_none() {
        // Suggest the latest month with something left.
        if let Some(m) = months.iter().rev().find(|m| m.unclaimed_fen > 0) {
            f.fields.set("period", m.period.to_string());
        }
    }
    let page = RemunerationPage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: row.slug.clone(),
        months,
        f,
    };
    render_status(&page, ctx, status)
}

async fn page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok((slug, row)) => show(&app, &ctx, &slug, &row, FormView::blank(), StatusCode::OK).await,
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn form_post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let fields = Fields::from_pairs(pairs);
    let mut errors = FormErrors::default();
    let entry = match remuneration_body(ctx.lang, &fields, &mut errors) {
        Some(b) if errors.is_empty() => b,
        _ => {
            let f = FormView::refused(fields, place_errors(errors, FIELDS));
            return show(&app, &ctx, &slug, &row, f, refusal_status(false)).await;
        }
    };
    let key = fields.opt("idempotency_key").map(str::to_string);
    match submit(&app, &row, &headers, key.as_deref(), ROUTE, entry).await {
        Ok((a, _)) => see_other(format!("/estates/{slug}/claims/{}", a.seq)),
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(fe) => {
                let f = FormView::refused(fields, place_errors(fe, FIELDS));
                show(&app, &ctx, &slug, &row, f, refusal_status(true)).await
            }
            Err(e) => page_error(&app, &ctx, e),
        },
    }
}

async fn api_table(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    let (slug, _) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    match months(&app, &slug).await {
        Ok(months) => {
            let rows: Vec<serde_json::Value> = months
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "period": m.period.to_string(),
                        "collected": decimal(m.collected_fen),
                        "ratio": m.ratio.to_string(),
                        "entitlement": decimal(m.entitlement_fen),
                        "claimed": decimal(m.claimed_fen),
                        "unclaimed": decimal(m.unclaimed_fen),
                    })
                })
                .collect();
            Json(serde_json::json!({ "months": rows })).into_response()
        }
        Err(e) => e.into_api(),
    }
}

/// `POST /api/v1/estates/{slug}/remuneration-claims`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RemunerationRequest {
    period: String,
    amount: String,
    payee: String,
    #[serde(default)]
    purpose: Option<String>,
}

async fn api_post(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    let req: RemunerationRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let fields = Fields::from_pairs(vec![
        ("period".into(), req.period),
        ("amount".into(), req.amount),
        ("payee".into(), req.payee),
        ("purpose".into(), req.purpose.unwrap_or_default()),
    ]);
    let mut errors = FormErrors::default();
    let entry = match remuneration_body(Lang::En, &fields, &mut errors) {
        Some(b) if errors.is_empty() => b,
        _ => return StaffError::Fields(errors).into_api(),
    };
    match submit(&app, &row, &headers, None, ROUTE, entry).await {
        Ok((a, replayed)) => created(&a, replayed),
        Err(e) => e.into_api(),
    }
}
