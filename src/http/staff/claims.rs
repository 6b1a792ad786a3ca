//! Claims (支出申请): the company asks for money out of the fund, with the
//! quote and invoices as evidence and, optionally, the service record the
//! money pays for. Approval happens on the public claim page.

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
use super::super::pages::{canonical_u64, render_status, Chrome, Ctx, Lang};
use super::evidence::{EntryForm, Fields, FormView, MAX_UPLOAD_BYTES};
use super::home::page_error;
use super::{open_for, FormErrors, MAX_FORM_BYTES};
use crate::domain::Slug;
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

const FORM: EntryForm = EntryForm {
    route: ROUTE,
    fields: FIELDS,
    build: claim_body,
    show,
    done,
};

fn done(slug: &Slug, seq: u64) -> String {
    format!("/estates/{slug}/claims/{seq}")
}

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
    render_status(&page, ctx, status)
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
    FORM.post_form(&app, &ctx, &who, &slug, &headers, body)
        .await
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
    FORM.post_json(&app, &who, &slug, &headers, &body, fields_of)
        .await
}

fn fields_of(r: ClaimRequest) -> (Fields, Vec<String>) {
    let fields = Fields::from_pairs(vec![
        ("payee".into(), r.payee),
        ("amount".into(), r.amount),
        ("account".into(), r.account),
        ("category".into(), r.category),
        ("purpose".into(), r.purpose),
        ("quote".into(), r.quote.unwrap_or_default()),
        (
            "service_record".into(),
            r.service_record.map(|s| s.to_string()).unwrap_or_default(),
        ),
    ]);
    (fields, r.evidence)
}
