//! The public log endpoints of DESIGN.md §4.8: fixed paths, like a CT
//! log's API, so any client can follow an estate's log.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::{ApiError, AppState};
use crate::domain::Slug;
use crate::store::MAX_ENTRIES_PER_READ;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/log/checkpoint", get(checkpoint))
        .route("/estates/{slug}/log/policy", get(policy))
        .route("/estates/{slug}/log/entries/{seq}", get(entry))
        .route("/estates/{slug}/log/entries", get(entries))
        .route("/estates/{slug}/log/proof/inclusion", get(inclusion))
        .route("/estates/{slug}/log/proof/consistency", get(consistency))
        .route("/estates/{slug}/log/bundle.json", get(log_bundle))
        .route("/estates/{slug}/receipts/{seq}", get(receipt))
        .route(
            "/estates/{slug}/statements/{period}/bundle.json",
            get(statement_bundle),
        )
}

/// Says on every answer about a frozen estate that it is frozen, as
/// `Trustfund-Frozen: <class>; seq=<n>`. The log endpoints keep serving
/// (they are the signed evidence an outsider checks the estate with), so
/// the header is how a client of theirs learns that the server's own
/// tables failed the audit.
pub async fn frozen_header(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let slug = {
        let mut parts = req.uri().path().split('/').filter(|s| !s.is_empty());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("estates"), Some(slug), _, _) => Some(slug.to_string()),
            (Some("api"), Some("v1"), Some("estates"), Some(slug)) => Some(slug.to_string()),
            _ => None,
        }
    };
    let mut resp = next.run(req).await;
    if let Some(f) = slug.and_then(|s| app.store.frozen(&s)) {
        let value = match f.seq {
            Some(seq) => format!("{}; seq={seq}", f.class.code()),
            None => f.class.code().to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(FROZEN_HEADER, v);
        }
    }
    resp
}

/// The response header that marks a frozen estate's answers.
pub const FROZEN_HEADER: &str = "trustfund-frozen";

/// Resolves a path slug to an estate that exists; anything else is 404.
async fn estate(app: &AppState, slug: &str) -> Result<Slug, ApiError> {
    let not_found = || ApiError::not_found(format!("estate {slug:?} not found"));
    let slug = Slug::parse("slug", slug).map_err(|_| not_found())?;
    match app.store.estate(&slug).await? {
        Some(_) => Ok(slug),
        None => Err(not_found()),
    }
}

/// A required non-negative integer query parameter, refused by name.
fn param(q: &HashMap<String, String>, name: &'static str) -> Result<u64, ApiError> {
    let raw = q
        .get(name)
        .ok_or_else(|| ApiError::bad_request("missing_parameter", format!("{name} is required")))?;
    canonical_u64(raw).ok_or_else(|| {
        ApiError::bad_request(
            "bad_parameter",
            format!("{name} must be a non-negative integer without leading zeros"),
        )
    })
}

/// Plain ASCII digits only: no sign, spaces, exponent or leading zeros, so
/// each resource has exactly one address.
fn canonical_u64(raw: &str) -> Option<u64> {
    let digits_ok = !raw.is_empty() && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok || (raw.len() > 1 && raw.starts_with('0')) {
        return None;
    }
    raw.parse().ok()
}

/// Proof requests outside the tree are range errors, like entry ranges.
fn range_error(e: crate::store::StoreError) -> ApiError {
    match e {
        crate::store::StoreError::BadRequest(m) => ApiError::bad_request("bad_range", m),
        other => other.into(),
    }
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// The latest signed checkpoint with every signature it has gathered.
async fn checkpoint(
    State(app): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let cp = app
        .store
        .latest_checkpoint(&slug)
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?;
    Ok(text(cp.note))
}

/// The estate's C2SP tlog-policy: its log key and its witnesses.
async fn policy(
    State(app): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let out = app
        .store
        .with_state(&slug, crate::ledger::State::witness_policy)
        .await?;
    out.map(text)
        .ok_or_else(|| ApiError::not_found("estate has no log yet"))
}

/// One entry's exact bytes.
async fn entry(
    State(app): State<AppState>,
    Path((slug, seq)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let seq = canonical_u64(&seq).ok_or_else(|| {
        ApiError::bad_request(
            "bad_parameter",
            "seq must be a non-negative integer without leading zeros",
        )
    })?;
    let bytes = app
        .store
        .entry_bytes(&slug, seq)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("entry {seq} not found")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// Entries `start..end` as a JSON array of their exact bytes.
async fn entries(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let (start, end) = (param(&q, "start")?, param(&q, "end")?);
    if end <= start || end - start > MAX_ENTRIES_PER_READ {
        return Err(ApiError::bad_request(
            "bad_range",
            format!("need start < end and at most {MAX_ENTRIES_PER_READ} entries per call"),
        ));
    }
    let size = app.store.tree_size(&slug).await?;
    if end > size {
        return Err(ApiError::bad_request(
            "bad_range",
            format!("end must be at most the tree size {size}"),
        ));
    }
    Ok(Json(app.store.entries_range(&slug, start, end).await?).into_response())
}

/// RFC 9162 inclusion proof for entry `index` in the tree of `size`.
async fn inclusion(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let (index, size) = (param(&q, "index")?, param(&q, "size")?);
    let proof = app
        .store
        .inclusion_proof(&slug, index, size)
        .await
        .map_err(range_error)?;
    let proof: Vec<String> = proof.iter().map(|h| h.to_base64()).collect();
    Ok(Json(json!({ "index": index, "size": size, "proof": proof })).into_response())
}

/// RFC 9162 consistency proof between two tree sizes.
async fn consistency(
    State(app): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let (from, to) = (param(&q, "from")?, param(&q, "to")?);
    let proof = app
        .store
        .consistency_proof(&slug, from, to)
        .await
        .map_err(range_error)?;
    let proof: Vec<String> = proof.iter().map(|h| h.to_base64()).collect();
    Ok(Json(json!({ "from": from, "to": to, "proof": proof })).into_response())
}

/// The whole log up to its latest checkpoint, as one verifiable document.
async fn log_bundle(
    State(app): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    Ok(Json(app.store.bundle(&slug, None).await?).into_response())
}

/// A month's statement with everything needed to verify it from genesis.
async fn statement_bundle(
    State(app): State<AppState>,
    Path((slug, period)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let period = crate::domain::Period::parse("period", &period)
        .map_err(|e| ApiError::bad_request("bad_parameter", e.to_string()))?;
    Ok(Json(app.store.bundle(&slug, Some(period)).await?).into_response())
}

/// A payment's receipt: the entry's exact bytes and a C2SP tlog-proof of
/// its inclusion in the newest witnessed checkpoint that covers it, so the
/// owner can check it offline with `trustfund verify-receipt`.
async fn receipt(
    State(app): State<AppState>,
    Path((slug, seq)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let slug = estate(&app, &slug).await?;
    let seq = canonical_u64(&seq).ok_or_else(|| {
        ApiError::bad_request(
            "bad_parameter",
            "seq must be a non-negative integer without leading zeros",
        )
    })?;
    let entry = app
        .store
        .entry_bytes(&slug, seq)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("entry {seq} not found")))?;
    let quorum = app.store.with_state(&slug, |s| s.witness_quorum()).await?;
    let witnessed = app
        .store
        .latest_witnessed_size(&slug, quorum)
        .await?
        .filter(|n| *n > seq);
    let cp = match witnessed {
        Some(size) => app.store.checkpoint_at(&slug, size).await?,
        None => app.store.latest_checkpoint(&slug).await?,
    }
    .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?;
    let path = app
        .store
        .inclusion_proof(&slug, seq, cp.tree_size)
        .await
        .map_err(range_error)?;
    let proof =
        crate::tlog::proof::build_proof(entry.as_bytes(), seq, path, &cp.note).map_err(|e| {
            crate::store::StoreError::Integrity(format!(
                "receipt for entry {seq} does not check: {e}"
            ))
        })?;
    let (origin, log_key) = app
        .store
        .with_state(&slug, |s| {
            s.estate().map(|e| (e.origin.clone(), e.log_key.format()))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("estate has no log yet"))?;
    let body = json!({
        "format": "trustfund-receipt/v1",
        "origin": origin,
        "log_key": log_key,
        "entry": entry,
        "proof": crate::tlog::proof::format_proof(&proof),
    });
    let disposition = format!("attachment; filename=\"receipt-{slug}-{seq}.json\"");
    let mut resp = Json(body).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
