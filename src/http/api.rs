//! The JSON read API under `/api/v1`: the owners' pages' data for
//! property companies' own systems and anyone's scripts. Amounts are
//! decimal strings, never JSON numbers; errors are the usual
//! `{"error":{"code":…,"message":…}}`. Described by the OpenAPI document
//! served at `/api/v1/openapi.json`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use super::pages::{canonical_u64, open_estate, Ctx, Missing, PageError};
use super::ratelimit::{ClientIp, RateLimiter};
use super::{claims, dashboard, ledger, services, statements, units, ApiError, AppState};

/// The OpenAPI 3.1 document, written by hand next to the code it describes.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/estates/{slug}", get(estate))
        .route("/api/v1/estates/{slug}/entries", get(entries))
        .route("/api/v1/estates/{slug}/claims", get(claim_list))
        .route("/api/v1/estates/{slug}/claims/{seq}", get(claim))
        .route("/api/v1/estates/{slug}/services", get(service_list))
        .route("/api/v1/estates/{slug}/services/{seq}", get(service))
        .route("/api/v1/estates/{slug}/units/{code}", get(unit))
        .route("/api/v1/estates/{slug}/statements", get(statement_list))
        .route("/api/v1/estates/{slug}/statements/{period}", get(statement))
}

/// Page errors in the API's shape, with English messages.
impl From<PageError> for ApiError {
    fn from(e: PageError) -> ApiError {
        match e {
            PageError::NotFound(what) => ApiError::not_found(match what {
                Missing::Page => "no such page or endpoint",
                Missing::Estate => "estate not found",
                Missing::Entry => "entry not found",
                Missing::Claim => "claim not found",
                Missing::Service => "service record not found",
                Missing::Statement => "no statement for this month",
                Missing::Unit => "no unit has this code",
            }),
            PageError::BadParam(name, hint) => {
                ApiError::bad_request("bad_parameter", format!("{name} {}", hint.english()))
            }
            PageError::RateLimited => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: "too many unit look-ups from this address; try again in a minute".into(),
            },
            PageError::Frozen(frozen) => {
                let (estate, failure) = *frozen;
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "estate_frozen",
                    message: format!(
                        "estate {} is frozen: its stored tables failed the integrity audit at {failure}; \
                         no figures are served until it is repaired (the public log endpoints still serve the signed evidence)",
                        estate.slug
                    ),
                }
            }
            PageError::Store(e) => e.into(),
            PageError::Internal => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal",
                message: "internal error; the request changed nothing and was logged".into(),
            },
        }
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn seq_of(raw: &str, missing: Missing) -> Result<u64, ApiError> {
    canonical_u64(raw).ok_or_else(|| PageError::NotFound(missing).into())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Balances, this month's, this year's and twelve months' figures, the
/// monthly series, pending claims, recent service records, the checkpoint.
async fn estate(State(app): State<AppState>, Path(slug): Path<String>) -> ApiResult {
    let (slug, row) = open_estate(&app, &slug).await?;
    let d = dashboard::gather(&app, &slug, row).await?;
    Ok(Json(dashboard::json(&d)))
}

async fn entries(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> ApiResult {
    let (slug, _) = open_estate(&app, &slug).await?;
    let q = ledger::LedgerQuery::parse(&ctx)?;
    let p = ledger::gather(&app, &slug, &q).await?;
    Ok(Json(json!({
        "entries": p.entries.iter().map(ledger::json).collect::<Vec<_>>(),
        "next_before": p.next_before,
        "limit": q.limit,
    })))
}

async fn claim_list(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> ApiResult {
    let (slug, row) = open_estate(&app, &slug).await?;
    let q = claims::ListQuery::parse(&ctx)?;
    let list = claims::gather_list(&app, &slug, row, &q).await?;
    Ok(Json(json!({
        "claims": list.claims.iter().map(|c| claims::json(c, slug.as_str())).collect::<Vec<_>>(),
        "next_before": list.next_before,
        "limit": q.limit,
    })))
}

async fn claim(
    State(app): State<AppState>,
    Path((slug, seq)): Path<(String, String)>,
) -> ApiResult {
    let (slug, _) = open_estate(&app, &slug).await?;
    let seq = seq_of(&seq, Missing::Claim)?;
    let (_, view) = claims::gather_one(&app, &slug, seq)
        .await?
        .ok_or(PageError::NotFound(Missing::Claim))?;
    Ok(Json(claims::json(&view, slug.as_str())))
}

async fn service_list(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> ApiResult {
    let (slug, _) = open_estate(&app, &slug).await?;
    let (before, limit) = services::parse_query(&ctx)?;
    let (_, views, next) = services::gather_list(&app, &slug, before, limit).await?;
    Ok(Json(json!({
        "service_records": views.iter().map(|v| services::json(v, slug.as_str())).collect::<Vec<_>>(),
        "next_before": next,
        "limit": limit,
    })))
}

async fn service(
    State(app): State<AppState>,
    Path((slug, seq)): Path<(String, String)>,
) -> ApiResult {
    let (slug, _) = open_estate(&app, &slug).await?;
    let seq = seq_of(&seq, Missing::Service)?;
    let (_, view) = services::gather_one(&app, &slug, seq)
        .await?
        .ok_or(PageError::NotFound(Missing::Service))?;
    Ok(Json(services::json(&view, slug.as_str())))
}

/// Closed months, newest first, a page at a time (`before=YYYY-MM`).
async fn statement_list(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> ApiResult {
    let (slug, _) = open_estate(&app, &slug).await?;
    let before = match ctx.param("before")? {
        Some(b) => Some(statements::parse_period("before", b)?),
        None => None,
    };
    let list = statements::gather_list(&app, &slug, before).await?;
    Ok(Json(json!({
        "statements": list.items.iter().map(|p| statements::json(p, &slug)).collect::<Vec<_>>(),
        "next_before": list.next_before.map(|p| p.to_string()),
        "limit": statements::LIST_PAGE,
    })))
}

/// One month's statement: its figures and the checkpoint that covers it.
async fn statement(
    State(app): State<AppState>,
    Path((slug, period)): Path<(String, String)>,
) -> ApiResult {
    let (slug, _) = open_estate(&app, &slug).await?;
    let period = statements::parse_period("period", &period)?;
    let one = statements::gather_one(&app, &slug, period).await?;
    Ok(Json(statements::json(&one.published, &slug)))
}

/// A unit by the secret on its bill; rate limited like the unit page, and
/// a wrong code is the same 404 as a unit that does not exist.
async fn unit(
    State(app): State<AppState>,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    ip: ClientIp,
    Path((slug, code)): Path<(String, String)>,
) -> Response {
    let result: Result<Json<Value>, ApiError> = async {
        let (slug, _) = open_estate(&app, &slug).await?;
        if !units::allow(&limiter, ip) {
            return Err(PageError::RateLimited.into());
        }
        let u = units::gather(&app, &slug, &code)
            .await?
            .ok_or(PageError::NotFound(Missing::Unit))?;
        Ok(Json(units::json(&u, &slug)))
    }
    .await;
    units::private(result.into_response())
}
