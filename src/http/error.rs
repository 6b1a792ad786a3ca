//! The HTTP error type: a stable machine code and a message a person can
//! act on. Internals (SQL, paths) are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: what.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::Rule(r) => ApiError {
                // The ledger's own refusal of a reused bank reference is the
                // same conflict as the bank_refs table's.
                status: if r.code == "duplicate_bank_ref" {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                code: r.code,
                message: r.to_string(),
            },
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StoreError::BadRequest(m) => ApiError::bad_request("bad_request", m.clone()),
            StoreError::Conflict(m) => ApiError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message: m.clone(),
            },
            StoreError::DuplicateBankRef { .. } => ApiError {
                status: StatusCode::CONFLICT,
                code: "duplicate_bank_ref",
                message: e.to_string(),
            },
            StoreError::IdempotencyMismatch(_) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "idempotency_key_reused",
                message: e.to_string(),
            },
            StoreError::Integrity(m) => {
                tracing::error!(error = %m, "integrity failure");
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "integrity_failure",
                    message: m.clone(),
                }
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "internal error; the request changed nothing and was logged".into(),
                }
            }
        }
    }
}

/// Unknown paths get the same JSON shape as every other error.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint")
}
