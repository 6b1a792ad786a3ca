//! API tokens for a property company's own systems: made and revoked by
//! the person whose rights they carry, for one estate each. The token is
//! shown once; only its SHA-256 is kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::home::page_error;
use super::{FormErrors, StaffError};
use crate::auth::Token;
use crate::domain::{Name, Timestamp};
use crate::http::auth::{AuthError, Principal};
use crate::http::pages::{render, Chrome, Ctx, Lang};
use crate::http::AppState;
use crate::store::{StoreError, TokenRow};

/// Live tokens one person may hold.
pub const MAX_TOKENS_PER_USER: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/tokens", get(list).post(create))
        .route("/staff/tokens/{id}/revoke", post(revoke))
}

#[derive(Template)]
#[template(path = "staff/tokens.html")]
struct TokensPage {
    c: Chrome,
    lang: Lang,
    tokens: Vec<TokenRow>,
    estates: Vec<String>,
    errors: FormErrors,
    /// A token just made: shown this once.
    created: Option<String>,
}

/// Tokens are managed with a browser session, never with another token.
fn session_only(who: &Principal) -> Result<(), StaffError> {
    if who.token_estate.is_some() {
        Err(StaffError::Auth(AuthError::Forbidden))
    } else {
        Ok(())
    }
}

async fn page(
    app: &AppState,
    ctx: &Ctx,
    who: &Principal,
    errors: FormErrors,
    created: Option<String>,
    status: StatusCode,
) -> Response {
    let tokens = match app.store.api_tokens(who.user.id).await {
        Ok(t) => t,
        Err(e) => return page_error(app, ctx, e.into()),
    };
    let mut estates: Vec<String> = who.memberships.iter().map(|m| m.estate.clone()).collect();
    estates.dedup();
    let page = TokensPage {
        c: ctx.chrome(app, None, ""),
        lang: ctx.lang,
        tokens,
        estates,
        errors,
        created,
    };
    match render(&page, ctx) {
        Ok(mut r) => {
            *r.status_mut() = status;
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn list(State(app): State<AppState>, ctx: Ctx, who: Principal) -> Response {
    if let Err(e) = session_only(&who) {
        return page_error(&app, &ctx, e);
    }
    page(
        &app,
        &ctx,
        &who,
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    estate: String,
    #[serde(default)]
    label: String,
}

async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Form(form): Form<NewToken>,
) -> Response {
    if let Err(e) = session_only(&who) {
        return page_error(&app, &ctx, e);
    }
    let lang = ctx.lang;
    let mut errors = FormErrors::default();
    let label = errors.take(lang, Name::parse("label", &form.label));
    if who.roles_in(form.estate.trim()).next().is_none() {
        errors.add(
            "estate",
            "forbidden",
            lang.pick(
                "只能为您任职的小区创建令牌",
                "choose an estate you have a role in",
            ),
        );
    }
    let result = async {
        let live = app
            .store
            .api_tokens(who.user.id)
            .await?
            .iter()
            .filter(|t| t.revoked_at.is_none())
            .count();
        if live >= MAX_TOKENS_PER_USER {
            errors.add(
                "label",
                "too_many",
                match lang {
                    Lang::Zh => format!("最多 {MAX_TOKENS_PER_USER} 个有效令牌，请先撤销不用的"),
                    Lang::En => {
                        format!("at most {MAX_TOKENS_PER_USER} live tokens; revoke one first")
                    }
                },
            );
        }
        errors.clone().check()?;
        let (Some(label), Ok(slug)) = (
            label,
            crate::domain::Slug::parse("estate", form.estate.trim()),
        ) else {
            return Err(StaffError::Fields(errors.clone()));
        };
        let token = Token::new_api();
        let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
        app.store
            .create_api_token(&token.digest_hex(), who.user.id, &slug, label.as_str(), now)
            .await?;
        tracing::info!(user = %who.user.login, estate = %slug, "API token created");
        Ok::<_, StaffError>(token)
    }
    .await;
    match result {
        Ok(token) => {
            page(
                &app,
                &ctx,
                &who,
                FormErrors::default(),
                Some(token.expose().to_string()),
                StatusCode::CREATED,
            )
            .await
        }
        Err(StaffError::Fields(errors)) => {
            page(&app, &ctx, &who, errors, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn revoke(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = session_only(&who) {
        return page_error(&app, &ctx, e);
    }
    let Ok(id) = id.parse::<i64>() else {
        return page_error(&app, &ctx, StaffError::NotFound);
    };
    let now = match Timestamp::now() {
        Ok(n) => n,
        Err(e) => return page_error(&app, &ctx, StoreError::BadRequest(e.message).into()),
    };
    match app.store.revoke_api_token(who.user.id, id, now).await {
        Ok(true) => {
            tracing::info!(user = %who.user.login, token = id, "API token revoked");
            Redirect::to("/staff/tokens").into_response()
        }
        Ok(false) => page_error(&app, &ctx, StaffError::NotFound),
        Err(e) => page_error(&app, &ctx, e.into()),
    }
}
