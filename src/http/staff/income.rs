//! Public income (公共收益): adverts, parking, venue rent, recorded with
//! the contract or receipt as evidence.

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{render_status, Chrome, Ctx, Lang};
use super::evidence::{EntryForm, Fields, FormView, MAX_UPLOAD_BYTES};
use super::home::page_error;
use super::{open_for, FormErrors, MAX_FORM_BYTES};
use crate::domain::Slug;
use crate::domain::{Date, Money, Payee, Purpose};
use crate::http::AppState;
use crate::ledger::{Body, IncomeSource, Role};
use crate::store::EstateRow;
use crate::tlog::Hash;

const ROUTE: &str = "public_income";
const FIELDS: &[&str] = &[
    "source",
    "amount",
    "received_on",
    "payer",
    "memo",
    "evidence",
];

const FORM: EntryForm = EntryForm {
    route: ROUTE,
    fields: FIELDS,
    build: income_body,
    show,
    done,
};

fn done(slug: &Slug, seq: u64) -> String {
    format!("/estates/{slug}/ledger/{seq}")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/income",
            get(form_page)
                .post(form_post)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/api/v1/estates/{slug}/public-income",
            post(api_post).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

/// The entry a request describes, or its refusals added to `errors`.
fn income_body(
    lang: Lang,
    f: &Fields,
    evidence: Vec<Hash>,
    errors: &mut FormErrors,
) -> Option<Body> {
    let source = errors.take(lang, f.get("source").parse::<IncomeSource>());
    let amount = errors.take(lang, Money::parse_positive("amount", f.get("amount")));
    let received_on = errors.take(lang, Date::parse("received_on", f.get("received_on")));
    let payer = errors.take(lang, Payee::parse("payer", f.get("payer")));
    let memo = errors.take(lang, Purpose::parse("memo", f.get("memo")));
    Some(Body::PublicIncomeReceived {
        source: source?,
        amount: amount?,
        received_on: received_on?,
        payer: payer?,
        memo: memo?,
        evidence,
        postings: vec![],
    })
}

#[derive(Template)]
#[template(path = "staff/income.html")]
struct IncomePage {
    c: Chrome,
    lang: Lang,
    slug: String,
    f: FormView,
    sources: Vec<(&'static str, &'static str)>,
}

fn source_label(lang: Lang, s: IncomeSource) -> &'static str {
    match s {
        IncomeSource::ElevatorAds => lang.pick("电梯广告", "Elevator adverts"),
        IncomeSource::Parking => lang.pick("停车", "Parking"),
        IncomeSource::Venue => lang.pick("场地租用", "Venue rent"),
        IncomeSource::Other => lang.pick("其他", "Other"),
    }
}

fn show(app: &AppState, ctx: &Ctx, row: &EstateRow, f: FormView, status: StatusCode) -> Response {
    let page = IncomePage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: row.slug.clone(),
        f,
        sources: IncomeSource::ALL
            .iter()
            .map(|s| (s.as_str(), source_label(ctx.lang, *s)))
            .collect(),
    };
    render_status(&page, ctx, status)
}

async fn form_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok((_, row)) => show(&app, &ctx, &row, FormView::blank(), StatusCode::OK),
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn form_post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Result<Multipart, MultipartRejection>,
) -> Response {
    FORM.post_form(&app, &ctx, &who, &slug, &headers, body)
        .await
}

/// `POST /api/v1/estates/{slug}/public-income`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct IncomeRequest {
    source: String,
    amount: String,
    received_on: String,
    payer: String,
    memo: String,
    #[serde(default)]
    evidence: Vec<String>,
}

async fn api_post(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    FORM.post_json(&app, &who, &slug, &headers, &body, fields_of)
        .await
}

fn fields_of(r: IncomeRequest) -> (Fields, Vec<String>) {
    let fields = Fields::from_pairs(vec![
        ("source".into(), r.source),
        ("amount".into(), r.amount),
        ("received_on".into(), r.received_on),
        ("payer".into(), r.payer),
        ("memo".into(), r.memo),
    ]);
    (fields, r.evidence)
}
