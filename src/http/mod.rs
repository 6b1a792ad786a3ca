//! HTTP: the only module that knows axum, JSON bodies and HTML.
//!
//! One module per resource, each exposing `router()`; [`router`] merges
//! them. The app is a plain function of its state, so tests can drive it
//! in-process or on a loopback port.
//!
//! Pages answer in the reader's language (zh-CN first) and render their
//! errors as pages; `/api/v1` and the public log endpoints answer JSON.

mod api;
pub mod auth;
mod chart;
mod claims;
mod dashboard;
mod error;
mod estates;
mod ledger;
mod log;
mod pages;
mod ratelimit;
mod services;
pub mod staff;
mod statements;
mod texts;
mod units;

use std::sync::Arc;

use axum::{Extension, Router};

use crate::evidence::EvidenceStore;
use crate::keys::Keyring;
use crate::store::Store;

pub use api::OPENAPI;
pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub keys: Keyring,
    /// Evidence files, under the same data directory as the keys.
    pub evidence: EvidenceStore,
    /// Mark the session cookie `Secure` (the service is reached over HTTPS).
    pub secure_cookies: bool,
    login_limits: Arc<auth::LoginLimits>,
}

impl AppState {
    pub fn new(store: Arc<Store>, keys: Keyring) -> AppState {
        AppState {
            store,
            evidence: EvidenceStore::new(keys.data_dir()),
            keys,
            secure_cookies: false,
            login_limits: Arc::default(),
        }
    }

    pub fn login_limits(&self) -> &auth::LoginLimits {
        &self.login_limits
    }
}

/// The whole application. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the unit
/// look-up can be rate limited per client; without connect info all
/// clients share one budget.
pub fn router(state: AppState) -> Router {
    let unit_lookups: Arc<ratelimit::RateLimiter> = Arc::new(ratelimit::RateLimiter::new(
        ratelimit::UNIT_LOOKUPS,
        ratelimit::UNIT_WINDOW,
    ));
    Router::new()
        .merge(auth::router())
        .merge(staff::router())
        .merge(estates::router())
        .merge(log::router())
        .merge(pages::router())
        .merge(dashboard::router())
        .merge(ledger::router())
        .merge(claims::router())
        .merge(services::router())
        .merge(units::router())
        .merge(statements::router())
        .merge(api::router())
        .fallback(pages::fallback)
        .layer(Extension(unit_lookups))
        .layer(axum::middleware::from_fn(auth::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log::frozen_header,
        ))
        .with_state(state)
}
