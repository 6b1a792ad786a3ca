//! Charging a month's fees for every unit in one action
//! (`fees_charged`), and which months are already charged.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{render_status, Chrome, Ctx, Lang};
use super::home::page_error;
use super::{
    append, idempotency, new_form_key, open_for, request_digest, FormErrors, StaffError,
    MAX_FORM_BYTES,
};
use crate::domain::{Period, Slug, Timestamp};
use crate::http::{ApiError, AppState};
use crate::ledger::{Body, Role};
use crate::store::{Draft, EstateRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/billing",
            get(billing_page).post(billing_form),
        )
        .route("/api/v1/estates/{slug}/charges", post(charge_api))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// Months shown in the "already charged" list, counting back from now.
const MONTHS_SHOWN: usize = 24;

#[derive(Template)]
#[template(path = "staff/billing.html")]
struct BillingPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    period: String,
    units: usize,
    rate: String,
    charged: Vec<String>,
    errors: FormErrors,
    done: Option<String>,
    idempotency_key: String,
}

/// What the billing page shows about the estate now.
struct Facts {
    current: Period,
    units: usize,
    rate: String,
    charged: Vec<String>,
}

async fn facts(app: &AppState, slug: &Slug) -> Result<Facts, StaffError> {
    let now = Timestamp::now()
        .map_err(|e| StaffError::Store(crate::store::StoreError::BadRequest(e.message)))?;
    Ok(app
        .store
        .with_state(slug, |s| {
            let (current, rate) = match s.estate() {
                Some(info) => (now.period_in(&info.timezone), info.fee_rate.to_string()),
                None => (
                    now.period_in(&crate::domain::EstateTz::SHANGHAI),
                    String::new(),
                ),
            };
            let mut charged = Vec::new();
            let mut p = Some(current);
            for _ in 0..MONTHS_SHOWN {
                let Some(month) = p else { break };
                if s.is_charged(month) {
                    charged.push(month.to_string());
                }
                p = month.prev();
            }
            Facts {
                current,
                units: s.units().len(),
                rate,
                charged,
            }
        })
        .await?)
}

#[derive(Deserialize)]
struct Done {
    charged: Option<String>,
}

async fn billing_page(
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
    let done = done
        .charged
        .and_then(|p| Period::parse("period", &p).ok())
        .map(|p| p.to_string());
    show(
        &app,
        &ctx,
        &slug,
        &row,
        None,
        FormErrors::default(),
        done,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn show(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    row: &EstateRow,
    period: Option<String>,
    errors: FormErrors,
    done: Option<String>,
    status: StatusCode,
) -> Response {
    let f = match facts(app, slug).await {
        Ok(f) => f,
        Err(e) => return page_error(app, ctx, e),
    };
    let page = BillingPage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: slug.to_string(),
        period: period.unwrap_or_else(|| f.current.to_string()),
        units: f.units,
        rate: f.rate,
        charged: f.charged,
        errors,
        done,
        idempotency_key: new_form_key(),
    };
    render_status(&page, ctx, status)
}

#[derive(Deserialize)]
struct ChargeForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// The request as parsed, which the idempotency key is bound to.
#[derive(Serialize)]
struct ChargeRequest {
    period: String,
}

/// Parses and appends a charge run; the `fees_charged` body takes the
/// estate's own rate and its unit count, which `State` insists on.
async fn charge(
    app: &AppState,
    lang: Lang,
    slug: &Slug,
    row: &EstateRow,
    headers: &HeaderMap,
    period_text: &str,
    form_key: Option<&str>,
) -> Result<(crate::store::Appended, bool), StaffError> {
    let mut errors = FormErrors::default();
    let period = errors.take(lang, Period::parse("period", period_text));
    let Some(period) = period else {
        return Err(StaffError::Fields(errors));
    };
    let digest = request_digest(
        "charges",
        &ChargeRequest {
            period: period.to_string(),
        },
    );
    let idem = idempotency(headers, form_key, digest)?;
    let body = app
        .store
        .with_state(slug, |s| {
            s.estate().map(|info| Body::FeesCharged {
                period,
                rate: info.fee_rate,
                units: u32::try_from(s.units().len()).unwrap_or(u32::MAX),
                postings: vec![],
            })
        })
        .await?
        .ok_or(StaffError::NotFound)?;
    let (appended, replayed) = append(app, row, idem.as_ref(), vec![Draft::from(body)]).await?;
    let first = appended.into_iter().next().ok_or(StaffError::NotFound)?;
    Ok((first, replayed))
}

/// 400 for what did not parse, 422 for what the ledger refused.
pub(super) fn refusal_status(errors: &FormErrors) -> StatusCode {
    let parse_codes = [
        "empty",
        "not_a_number",
        "bad_format",
        "too_long",
        "too_short",
        "control_character",
        "bidi_control",
        "leading_zero",
        "unsupported",
        "bad_idempotency_key",
    ];
    match errors.errors.first().map(|e| e.code.as_str()) {
        Some("duplicate_bank_ref") => StatusCode::CONFLICT,
        Some(c) if parse_codes.contains(&c) => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn billing_form(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ChargeForm>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let key = form.idempotency_key.as_deref();
    match charge(&app, ctx.lang, &slug, &row, &headers, &form.period, key).await {
        Ok(_) => {
            let period = form.period.trim();
            Redirect::to(&format!(
                "/estates/{slug}/staff/billing?charged={}",
                Period::parse("period", period)
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            ))
            .into_response()
        }
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(errors) => {
                let status = refusal_status(&errors);
                show(
                    &app,
                    &ctx,
                    &slug,
                    &row,
                    Some(form.period),
                    errors,
                    None,
                    status,
                )
                .await
            }
            Err(other) => page_error(&app, &ctx, other),
        },
    }
}

#[derive(Deserialize)]
struct ChargeJson {
    period: Option<String>,
}

async fn charge_api(
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
    let req: ChargeJson = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return ApiError::bad_request("bad_json", format!("body is not the expected JSON: {e}"))
                .into_response()
        }
    };
    let period = req.period.unwrap_or_default();
    match charge(&app, Lang::En, &slug, &row, &headers, &period, None).await {
        Ok((a, replayed)) => (
            // A replay answers as the first request did.
            StatusCode::CREATED,
            axum::Json(serde_json::json!({
                "seq": a.seq, "hash": a.hash.to_hex(), "replayed": replayed
            })),
        )
            .into_response(),
        Err(e) => api_refusal(e),
    }
}

/// The JSON refusal, with 400 for what did not parse.
pub(super) fn api_refusal(e: StaffError) -> Response {
    let status = match &e {
        StaffError::Fields(f) => Some(refusal_status(f)),
        _ => None,
    };
    let mut r = e.into_api();
    if let Some(s) = status {
        if s == StatusCode::BAD_REQUEST {
            *r.status_mut() = s;
        }
    }
    r
}
