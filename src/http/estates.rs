//! The estate registry and the health check.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/estates", get(list))
}

/// Liveness plus the database round trip, so a load balancer sees a dead pool.
async fn health(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let estates = app.store.list_estates().await?;
    Ok(Json(json!({ "status": "ok", "estates": estates.len() })))
}

/// `GET /api/v1/estates`: every estate with its slug, name and log origin,
/// and whether it is frozen (its stored tables failed the audit) and why.
async fn list(State(app): State<AppState>) -> Result<Json<Vec<Value>>, ApiError> {
    let estates = app.store.list_estates().await?;
    Ok(Json(
        estates
            .into_iter()
            .map(|e| {
                let frozen = app.store.frozen_reason(&e.slug);
                json!({
                    "slug": e.slug,
                    "name": e.name,
                    "origin": e.origin,
                    "frozen": frozen.is_some(),
                    "frozen_reason": frozen,
                })
            })
            .collect(),
    ))
}
