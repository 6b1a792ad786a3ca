//! Where staff land after sign-in: their estates and roles, and each
//! estate's list of workflows.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::super::auth::Principal;
use super::super::pages::{render, render_status, Chrome, Ctx, Lang};
use super::{open_for, StaffError};
use crate::http::AppState;
use crate::ledger::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(home))
        .route("/estates/{slug}/staff", get(estate_home))
}

/// One estate a person works for.
pub struct EstateLink {
    pub slug: String,
    pub name: String,
    pub roles: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "staff/home.html")]
struct HomePage {
    c: Chrome,
    lang: Lang,
    name: String,
    is_admin: bool,
    estates: Vec<EstateLink>,
}

async fn home(State(app): State<AppState>, ctx: Ctx, who: Principal) -> Response {
    let t = ctx.t();
    let mut estates: Vec<EstateLink> = Vec::new();
    for m in &who.memberships {
        match estates.iter_mut().find(|e| e.slug == m.estate) {
            Some(e) => e.roles.push(t.role(m.role)),
            None => {
                let name = match crate::domain::Slug::parse("slug", &m.estate) {
                    Ok(s) => app.store.estate(&s).await.ok().flatten().map(|e| e.name),
                    Err(_) => None,
                };
                estates.push(EstateLink {
                    slug: m.estate.clone(),
                    name: name.unwrap_or_else(|| m.estate.clone()),
                    roles: vec![t.role(m.role)],
                });
            }
        }
    }
    let page = HomePage {
        c: ctx.chrome(&app, None, ""),
        lang: ctx.lang,
        name: who.user.name.clone(),
        is_admin: who.user.is_admin,
        estates,
    };
    render(&page, &ctx).into_response()
}

#[derive(Template)]
#[template(path = "staff/estate.html")]
struct EstatePage {
    c: Chrome,
    lang: Lang,
    slug: String,
    company: bool,
    committee: bool,
    community: bool,
}

async fn estate_home(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    let all = [Role::Company, Role::Committee, Role::Community];
    match open_for(&app, &who, &slug, &all).await {
        Ok((slug, row)) => {
            let roles: Vec<Role> = who.roles_in(slug.as_str()).collect();
            let page = EstatePage {
                c: ctx.chrome(&app, Some(&row), ""),
                lang: ctx.lang,
                slug: slug.to_string(),
                company: roles.contains(&Role::Company),
                committee: roles.contains(&Role::Committee),
                community: roles.contains(&Role::Community),
            };
            render(&page, &ctx).into_response()
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

/// A staff refusal that is not about a field, as a page.
pub fn page_error(app: &AppState, ctx: &Ctx, e: StaffError) -> Response {
    use super::super::pages::{Missing, PageError};
    match e {
        StaffError::Auth(a) => {
            let (status, msg) = match a {
                crate::http::auth::AuthError::SignIn => (
                    axum::http::StatusCode::UNAUTHORIZED,
                    ctx.lang.pick("请先登录", "sign in first"),
                ),
                _ => (
                    axum::http::StatusCode::FORBIDDEN,
                    ctx.lang.pick(
                        "您的账户在此小区没有执行该操作的权限",
                        "your account has no role in this estate that allows this",
                    ),
                ),
            };
            forbidden_page(app, ctx, status, msg)
        }
        StaffError::NotFound => PageError::NotFound(Missing::Estate).render(ctx, app, None),
        StaffError::Store(s) => PageError::Store(s).render(ctx, app, None),
        StaffError::Fields(f) => {
            let msg = f
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            let mut r = (axum::http::StatusCode::BAD_REQUEST, msg).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
    }
}

#[derive(Template)]
#[template(path = "staff/forbidden.html")]
struct ForbiddenPage {
    c: Chrome,
    lang: Lang,
    message: &'static str,
}

fn forbidden_page(
    app: &AppState,
    ctx: &Ctx,
    status: axum::http::StatusCode,
    message: &'static str,
) -> Response {
    let page = ForbiddenPage {
        c: ctx.chrome(app, None, ""),
        lang: ctx.lang,
        message,
    };
    render_status(&page, ctx, status)
}
