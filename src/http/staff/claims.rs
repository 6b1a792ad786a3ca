//! Claims (支出申请): the company asks for money out of the fund, with the
//! quote and invoices as evidence and, optionally, the service record the
//! money pays for. Approval happens on the public claim page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{canonical_u64, render, Chrome, Ctx, Lang};
use super::evidence::{
    created, known_evidence, parse_json, place_errors, read_upload, refusal_status, see_other,
    submit, Fields, FormView, MAX_UPLOAD_BYTES,
};
use super::home::page_error;
use super::{open_for, FormErrors, StaffError, MAX_FORM_BYTES};
use crate::domain::{Money, Payee, Purpose, Timestamp};
use crate::http::AppState;
use crate::ledger::{Body, Category, FundAccount, Role};
use crate::store::EstateRow;
use crate::tlog::Hash;

const ROUTE: &str = "claim";
const FIELDS: &[&str] = &[
    "payee",
    "amount",
    "account",
    "category",
    "purpose",
    "quote",
    "service_record",
    "evidence",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/claims/new",
            get(form_page)
                .post(form_post)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/api/v1/estates/{slug}/claims",
            post(api_post).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

fn claim_body(
    lang: Lang,
    f: &Fields,
    evidence: Vec<Hash>,
    errors: &mut FormErrors,
) -> Option<Body> {
    let payee = errors.take(lang, Payee::parse("payee", f.get("payee")));
    let amount = errors.take(lang, Money::parse_positive("amount", f.get("amount")));
    let account = errors.take(lang, f.get("account").parse::<FundAccount>());
    let category = errors.take(lang, f.get("category").parse::<Category>());
    let purpose = errors.take(lang, Purpose::parse("purpose", f.get("purpose")));
    let quote = match f.opt("quote") {
        None => Some(None),
        Some(q) => errors
            .take(lang, Money::parse_positive("quote", q))
            .map(Some),
    };
    let service_record = match f.opt("service_record") {
        None => Some(None),
        Some(s) => match canonical_u64(s) {
            Some(seq) => Some(Some(seq)),
            None => {
                errors.add(
                    "service_record",
                    "bad_format",
                    lang.pick(
                        "服务记录应填条目编号（数字）",
                        "a service record is named by its entry number",
                    ),
                );
                None
            }
        },
    };
    Some(Body::ClaimSubmitted {
        account: account?,
        category: category?,
        payee: payee?,
        amount: amount?,
        purpose: purpose?,
        quote: quote?,
        evidence,
        service_record: service_record?,
        period: None,
        transfer_to: None,
        // Set by the ledger from the policy's claim lifetime.
        expires: Timestamp::MIN,
    })
}

#[derive(Template)]
#[template(path = "staff/claim_new.html")]
struct ClaimPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    f: FormView,
    accounts: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
}

pub(super) fn account_label(lang: Lang, a: FundAccount) -> &'static str {
    match a {
        FundAccount::Operating => lang.pick("物业费账户", "Operating (fees)"),
        FundAccount::PublicIncome => lang.pick("公共收益账户", "Public income"),
        FundAccount::Reserve => lang.pick("维修资金账户", "Maintenance reserve"),
    }
}

fn category_label(lang: Lang, c: Category) -> &'static str {
    match c {
        Category::Repairs => lang.pick("维修", "Repairs"),
        Category::Cleaning => lang.pick("保洁", "Cleaning"),
        Category::Security => lang.pick("安保", "Security"),
        Category::Greening => lang.pick("绿化", "Greening"),
        Category::Utilities => lang.pick("水电能耗", "Utilities"),
        Category::Elevator => lang.pick("电梯", "Elevator"),
        Category::Insurance => lang.pick("保险", "Insurance"),
        Category::Administration => lang.pick("行政管理", "Administration"),
        Category::Remuneration => lang.pick("酬金", "Remuneration"),
        Category::Other => lang.pick("其他", "Other"),
    }
}

fn show(app: &AppState, ctx: &Ctx, row: &EstateRow, f: FormView, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let page = ClaimPage {
        c: ctx.chrome(app, Some(row), ""),
        lang,
        slug: row.slug.clone(),
        f,
        accounts: FundAccount::ALL
            .iter()
            .map(|a| (a.as_str(), account_label(lang, *a)))
            .collect(),
        // Remuneration has its own page: it must name a month.
        categories: Category::ALL
            .iter()
            .filter(|c| **c != Category::Remuneration)
            .map(|c| (c.as_str(), category_label(lang, *c)))
            .collect(),
    };
    match render(&page, ctx) {
        Ok(mut r) => {
            *r.status_mut() = status;
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn form_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok((_, row)) => {
            let mut f = FormView::blank();
            // `?service_record=N` from a service record's page.
            if let Ok(Some(rec)) = ctx.param("service_record") {
                f.fields.set("service_record", rec);
            }
            show(&app, &ctx, &row, f, StatusCode::OK)
        }
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
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let mut up = read_upload(&app, ctx.lang, body).await;
    let evidence = std::mem::take(&mut up.evidence);
    let built = claim_body(ctx.lang, &up.fields, evidence, &mut up.errors);
    let entry = match built {
        Some(b) if up.errors.is_empty() => b,
        _ => {
            let f = FormView::refused(up.fields, place_errors(up.errors, FIELDS));
            return show(&app, &ctx, &row, f, refusal_status(false));
        }
    };
    let key = up.fields.opt("idempotency_key").map(str::to_string);
    match submit(&app, &row, &headers, key.as_deref(), ROUTE, entry).await {
        Ok((a, _)) => see_other(format!("/estates/{slug}/claims/{}", a.seq)),
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(fe) => {
                let f = FormView::refused(up.fields, place_errors(fe, FIELDS));
                show(&app, &ctx, &row, f, refusal_status(true))
            }
            Err(e) => page_error(&app, &ctx, e),
        },
    }
}

/// `POST /api/v1/estates/{slug}/claims`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    payee: String,
    amount: String,
    account: String,
    category: String,
    purpose: String,
    #[serde(default)]
    quote: Option<String>,
    #[serde(default)]
    service_record: Option<u64>,
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
    let (_, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    let req: ClaimRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut errors = FormErrors::default();
    let evidence = known_evidence(&app, Lang::En, &req.evidence, &mut errors).await;
    let fields = Fields::from_pairs(vec![
        ("payee".into(), req.payee),
        ("amount".into(), req.amount),
        ("account".into(), req.account),
        ("category".into(), req.category),
        ("purpose".into(), req.purpose),
        ("quote".into(), req.quote.unwrap_or_default()),
        (
            "service_record".into(),
            req.service_record
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ),
    ]);
    let entry = match claim_body(Lang::En, &fields, evidence, &mut errors) {
        Some(b) if errors.is_empty() => b,
        _ => return StaffError::Fields(errors).into_api(),
    };
    match submit(&app, &row, &headers, None, ROUTE, entry).await {
        Ok((a, replayed)) => created(&a, replayed),
        Err(e) => e.into_api(),
    }
}
