//! Recording one fee payment (`fee_paid`), and the payments export.
//!
//! A bank payment carries the bank's reference, which the store records
//! once per estate in the same transaction as the entry: the same bank
//! transfer can never be recorded twice, whoever sends it and however.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{render_status, Chrome, Ctx, Lang};
use super::billing::{api_refusal, refusal_status};
use super::home::page_error;
use super::{
    append, idempotency, new_form_key, open_for, request_digest, FormErrors, StaffError,
    MAX_FORM_BYTES,
};
use crate::domain::{BankRef, Date, Money, Slug, Timestamp, UnitCommitment, UnitId};
use crate::http::{ApiError, AppState};
use crate::ledger::{Body, PayMethod, Role};
use crate::store::{Appended, Draft, EstateRow, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/payments",
            get(payment_page).post(payment_form),
        )
        .route("/estates/{slug}/staff/payments.csv", get(export_csv))
        .route("/api/v1/estates/{slug}/payments", post(payment_api))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// A payment as typed into the form or sent as JSON, before parsing.
#[derive(Deserialize, Default, Clone)]
pub struct PaymentInput {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub paid_on: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// The payment as parsed: what the idempotency key is bound to.
#[derive(Serialize)]
struct PaymentRequest<'a> {
    unit: &'a str,
    amount: String,
    paid_on: String,
    method: &'static str,
    reference: Option<&'a str>,
}

/// The estate's time zone "today".
pub(super) async fn today(app: &AppState, slug: &Slug) -> Result<Date, StaffError> {
    let now = Timestamp::now().map_err(|e| StaffError::Store(StoreError::BadRequest(e.message)))?;
    let tz = app
        .store
        .with_state(slug, |s| s.estate().map(|i| i.timezone))
        .await?
        .unwrap_or(crate::domain::EstateTz::SHANGHAI);
    Date::from_naive("today", now.date_in(&tz))
        .map_err(|e| StaffError::Store(StoreError::BadRequest(e.message)))
}

pub(super) fn method_parse(text: &str) -> Option<PayMethod> {
    let t = text.trim();
    let t = if t.is_empty() { "bank" } else { t };
    PayMethod::ALL.into_iter().find(|m| m.as_str() == t)
}

/// Checks every field (all refusals at once), then appends.
async fn record(
    app: &AppState,
    lang: Lang,
    slug: &Slug,
    row: &EstateRow,
    headers: &HeaderMap,
    input: &PaymentInput,
) -> Result<(Appended, bool), StaffError> {
    let mut errors = FormErrors::default();
    let unit = errors.take(lang, UnitId::parse("unit", input.unit.trim()));
    let amount = errors.take(lang, Money::parse_positive("amount", &input.amount));
    let paid_on = errors.take(lang, Date::parse("paid_on", &input.paid_on));
    let method = method_parse(&input.method);
    if method.is_none() {
        errors.add(
            "method",
            "unsupported",
            lang.pick(
                "缴费方式必须是银行/微信/支付宝/现金/其他之一",
                "method must be one of bank, wechat, alipay, cash, other",
            ),
        );
    }
    let reference = if !input.reference.trim().is_empty() {
        errors.take(lang, BankRef::parse("reference", &input.reference))
    } else {
        if method == Some(PayMethod::Bank) {
            errors.add(
                "reference",
                "empty",
                lang.pick(
                    "银行转账必须填写银行流水号",
                    "a bank payment needs the bank's reference",
                ),
            );
        }
        None
    };
    if let Some(d) = paid_on {
        let today = today(app, slug).await?;
        if d > today {
            errors.add(
                "paid_on",
                "future_date",
                match lang {
                    Lang::Zh => format!("缴费日期 {d} 在未来（今天是 {today}）"),
                    Lang::En => format!("{d} is in the future (today is {today})"),
                },
            );
        }
    }
    let mut commitment = None;
    if let Some(u) = &unit {
        match app.store.unit(slug, u.as_str()).await? {
            Some(r) => {
                commitment = UnitCommitment::parse("unit", &r.commitment).ok();
            }
            None => errors.add(
                "unit",
                "unknown_unit",
                match lang {
                    Lang::Zh => format!("没有房号为 {u} 的房屋"),
                    Lang::En => format!("there is no unit {u}"),
                },
            ),
        }
    }
    errors.clone().check()?;
    let (Some(unit), Some(amount), Some(paid_on), Some(method), Some(commitment)) =
        (unit, amount, paid_on, method, commitment)
    else {
        return Err(StaffError::Fields(errors));
    };
    let digest = request_digest(
        "payments",
        &PaymentRequest {
            unit: unit.as_str(),
            amount: amount.to_string(),
            paid_on: paid_on.to_string(),
            method: method.as_str(),
            reference: reference.as_ref().map(|r| r.as_str()),
        },
    );
    let idem = idempotency(headers, input.idempotency_key.as_deref(), digest)?;
    let draft = Draft {
        body: Body::FeePaid {
            unit: commitment,
            amount,
            paid_on,
            method,
            bank_ref: None,
            postings: vec![],
        },
        unit: None,
        at: None,
        bank_ref: reference,
    };
    let (appended, replayed) = append(app, row, idem.as_ref(), vec![draft]).await?;
    let first = appended.into_iter().next().ok_or(StaffError::NotFound)?;
    Ok((first, replayed))
}

#[derive(Template)]
#[template(path = "staff/payment.html")]
struct PaymentPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    input: PaymentInput,
    methods: Vec<&'static str>,
    errors: FormErrors,
    done: Option<u64>,
    idempotency_key: String,
    today: String,
}

impl PaymentPage {
    fn method_label(&self, m: &str) -> &'static str {
        match m {
            "bank" => self.lang.pick("银行转账", "Bank transfer"),
            "wechat" => self.lang.pick("微信", "WeChat Pay"),
            "alipay" => self.lang.pick("支付宝", "Alipay"),
            "cash" => self.lang.pick("现金", "Cash"),
            _ => self.lang.pick("其他", "Other"),
        }
    }
}

#[derive(Deserialize)]
struct Done {
    recorded: Option<u64>,
}

#[allow(clippy::too_many_arguments)]
async fn show(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    row: &EstateRow,
    input: PaymentInput,
    errors: FormErrors,
    done: Option<u64>,
    status: StatusCode,
) -> Response {
    let today = today(app, slug)
        .await
        .map(|d| d.to_string())
        .unwrap_or_default();
    let page = PaymentPage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: slug.to_string(),
        input,
        methods: PayMethod::ALL.iter().map(|m| m.as_str()).collect(),
        errors,
        done,
        idempotency_key: new_form_key(),
        today,
    };
    render_status(&page, ctx, status)
}

async fn payment_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let input = PaymentInput {
        method: "bank".into(),
        ..PaymentInput::default()
    };
    show(
        &app,
        &ctx,
        &slug,
        &row,
        input,
        FormErrors::default(),
        done.recorded,
        StatusCode::OK,
    )
    .await
}

async fn payment_form(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(input): Form<PaymentInput>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    match record(&app, ctx.lang, &slug, &row, &headers, &input).await {
        Ok((a, _)) => Redirect::to(&format!(
            "/estates/{slug}/staff/payments?recorded={}",
            a.seq
        ))
        .into_response(),
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(errors) => {
                let status = refusal_status(&errors);
                show(&app, &ctx, &slug, &row, input, errors, None, status).await
            }
            Err(other) => page_error(&app, &ctx, other),
        },
    }
}

async fn payment_api(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    let mut input: PaymentInput = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return ApiError::bad_request("bad_json", format!("body is not the expected JSON: {e}"))
                .into_response()
        }
    };
    // Over the API the key travels only in the header.
    input.idempotency_key = None;
    match record(&app, Lang::En, &slug, &row, &headers, &input).await {
        Ok((a, replayed)) => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({
                "seq": a.seq, "hash": a.hash.to_hex(), "replayed": replayed
            })),
        )
            .into_response(),
        Err(e) => api_refusal(e),
    }
}

/// A cell as a spreadsheet will take it: a text beginning with `=`, `+`,
/// `-`, `@`, a tab or a CR gets a leading `'` so it is never run as a
/// formula (OWASP, CSV injection), then RFC 4180 quoting if needed.
pub fn csv_cell(text: &str) -> String {
    let safe = if crate::ledger::bank_csv::looks_like_formula(text) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

async fn export_csv(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    let (slug, _row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let rows = match app.store.fee_payments(&slug).await {
        Ok(r) => r,
        Err(e) => return page_error(&app, &ctx, StaffError::Store(e)),
    };
    // The BOM makes Excel read the file as UTF-8 (Chinese unit names).
    let mut out = String::from("\u{feff}seq,time,unit,amount,paid_on,method,reference\r\n");
    for r in rows {
        let cells = [
            r.seq.to_string(),
            r.time.to_string(),
            csv_cell(&r.unit_id),
            r.amount,
            r.paid_on,
            r.method.to_string(),
            csv_cell(r.reference.as_deref().unwrap_or("")),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{slug}-payments.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn export_cells_are_neutralised_and_quoted() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM"), "'@SUM");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("1-101"), "1-101");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }
}
