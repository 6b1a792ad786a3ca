//! HTTP: the only module that knows axum, JSON bodies and HTML.
//!
//! One module per resource, each exposing `router()`; [`router`] merges
//! them. The app is a plain function of its state, so tests can drive it
//! in-process or on a loopback port.
//!
//! Pages answer in the reader's language (zh-CN first) and render their
//! errors as pages; `/api/v1` and the public log endpoints answer JSON.

mod api;
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
mod statements;
mod texts;
mod units;

use std::sync::Arc;

use axum::{Extension, Router};

use crate::keys::Keyring;
use crate::store::Store;

pub use api::OPENAPI;
pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub keys: Keyring,
}

/// The whole application. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the unit
/// look-up can be rate limited per client; without connect info all
/// clients share one budget.
pub fn router(state: AppState) -> Router {
    let unit_lookups = Arc::new(ratelimit::RateLimiter::new(
        ratelimit::UNIT_LOOKUPS,
        ratelimit::UNIT_WINDOW,
    ));
    Router::new()
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
        .with_state(state)
}
