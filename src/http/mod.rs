//! HTTP: the only module that knows axum, JSON bodies and HTML.
//!
//! One module per resource, each exposing `router()`; [`router`] merges
//! them. The app is a plain function of its state, so tests can drive it
//! in-process or on a loopback port.

mod error;
mod estates;
mod log;
mod pages;

use std::sync::Arc;

use axum::Router;

use crate::keys::Keyring;
use crate::store::Store;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub keys: Keyring,
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(estates::router())
        .merge(log::router())
        .merge(pages::router())
        .fallback(error::not_found)
        .with_state(state)
}
