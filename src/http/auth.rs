//! Sign-in for staff, committee, community and admins: server-side
//! sessions in a cookie, API tokens for a company's own systems, the
//! cross-site request guard, and the role check every staff route makes.
//!
//! Owners never sign in: their pages are public or opened with a unit's
//! secret, and neither opens anything here.

use std::time::{Duration, Instant};

use askama::Template;
use axum::body::Body as HttpBody;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::pages::{encode, render_status, Chrome, Ctx, Lang};
use super::ratelimit::{ClientIp, RateLimiter};
use super::{ApiError, AppState};
use crate::auth::{dummy_hash, Password, Token};
use crate::domain::Timestamp;
use crate::ledger::Role;
use crate::store::{Membership, UserRow};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tf_session";
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sign-in attempts per account, and per client address, per window.
pub const LOGIN_ATTEMPTS: u64 = 5;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);

/// The per-account and per-address sign-in budgets.
pub struct LoginLimits {
    by_account: RateLimiter<String>,
    by_address: RateLimiter,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            by_account: RateLimiter::new(LOGIN_ATTEMPTS, LOGIN_WINDOW),
            // An office behind one address has several people signing in.
            by_address: RateLimiter::new(LOGIN_ATTEMPTS * 4, LOGIN_WINDOW),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

/// Who is making a request, and what they may do.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user: UserRow,
    pub memberships: Vec<Membership>,
    /// Set when the request came with an API token: the one estate it is for.
    pub token_estate: Option<String>,
}

impl Principal {
    /// The roles this principal holds in `estate` (none if a token is for
    /// another estate).
    pub fn roles_in<'a>(&'a self, estate: &'a str) -> impl Iterator<Item = Role> + 'a {
        let token_ok = self.token_estate.as_deref().is_none_or(|e| e == estate);
        self.memberships
            .iter()
            .filter(move |m| token_ok && m.estate == estate)
            .map(|m| m.role)
    }

    /// Succeeds if the principal holds one of `allowed` in `estate`.
    pub fn require(&self, estate: &str, allowed: &[Role]) -> Result<Role, AuthError> {
        self.roles_in(estate)
            .find(|r| allowed.contains(r))
            .ok_or(AuthError::Forbidden)
    }

    /// The ledger member id this principal signs as in `estate`, if any.
    pub fn member_in(&self, estate: &str, role: Role) -> Option<&str> {
        self.memberships
            .iter()
            .find(|m| m.estate == estate && m.role == role)
            .and_then(|m| m.member.as_deref())
    }

    /// Platform administration; never through an API token.
    pub fn require_admin(&self) -> Result<(), AuthError> {
        if self.user.is_admin && self.token_estate.is_none() {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}

/// Why a request was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No valid session or token.
    SignIn,
    /// Signed in, but without the role this needs in this estate.
    Forbidden,
    /// A state-changing request from another site.
    CrossSite,
}

/// The rejection, shaped for where it happened: JSON under `/api/`, a
/// redirect to sign-in or a page elsewhere.
pub struct AuthRejection {
    pub error: AuthError,
    api: bool,
    lang: Lang,
    next: String,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let (status, code, en, zh) = match self.error {
            AuthError::SignIn => (
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "sign in first, or send a valid API token",
                "请先登录",
            ),
            AuthError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "your account has no role here that allows this",
                "您的账户在此没有执行该操作的权限",
            ),
            AuthError::CrossSite => (
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "a request that changes something must come from this site's own pages",
                "更改数据的请求必须来自本站页面",
            ),
        };
        if self.api {
            return ApiError {
                status,
                code,
                message: en.into(),
            }
            .into_response();
        }
        if self.error == AuthError::SignIn {
            return Redirect::to(&format!("/login?next={}", encode(&self.next))).into_response();
        }
        let msg = self.lang.pick(zh, en);
        let mut resp = (status, msg).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp
    }
}

impl AuthRejection {
    pub fn new(error: AuthError, parts: &Parts) -> AuthRejection {
        let path = parts.uri.path();
        AuthRejection {
            error,
            api: path.starts_with("/api/"),
            lang: Lang::choose(None, &parts.headers),
            next: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
        }
    }
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Principal, AuthRejection> {
        let reject = |e| AuthRejection::new(e, parts);
        let now = Timestamp::now().map_err(|_| reject(AuthError::SignIn))?;
        let found = if let Some(token) = bearer(&parts.headers) {
            let digest = Token::presented(token).digest_hex();
            app.store
                .token_user(&digest)
                .await
                .ok()
                .flatten()
                .map(|(user, estate)| (user, Some(estate)))
        } else if let Some(id) = cookie(&parts.headers, SESSION_COOKIE) {
            let digest = Token::presented(id).digest_hex();
            app.store
                .session_user(&digest, now)
                .await
                .ok()
                .flatten()
                .map(|user| (user, None))
        } else {
            None
        };
        let (user, token_estate) = found.ok_or_else(|| reject(AuthError::SignIn))?;
        let memberships = app
            .store
            .memberships(user.id)
            .await
            .map_err(|_| reject(AuthError::SignIn))?;
        Ok(Principal {
            user,
            memberships,
            token_estate,
        })
    }
}

/// Refuses state-changing requests that a browser says came from another
/// site. Browsers send `Sec-Fetch-Site` (and `Origin`) on every form post
/// and fetch; a request that carries the session cookie but neither header
/// is refused too, since only a browser holds the cookie. Requests made
/// with an API token and no cookie are not a browser's and pass.
pub async fn csrf_guard(req: Request<HttpBody>, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let verdict = same_origin(headers);
    let has_cookie = cookie(headers, SESSION_COOKIE).is_some();
    let refuse = match verdict {
        Some(same) => !same,
        None => has_cookie,
    };
    if refuse {
        tracing::warn!(path = %req.uri().path(), "cross-site state-changing request refused");
        let (parts, _) = req.into_parts();
        return AuthRejection::new(AuthError::CrossSite, &parts).into_response();
    }
    next.run(req).await
}

/// `Some(true)` if the browser says the request is same-origin, `Some(false)`
/// if it says otherwise, `None` if it says nothing.
fn same_origin(headers: &HeaderMap) -> Option<bool> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none": typed into the address bar or a bookmark, not a page.
        return Some(matches!(site, "same-origin" | "none"));
    }
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok())?;
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    Some(origin_host == Some(host))
}

/// Only same-site paths may follow sign-in (no `//host` or `\\`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/staff".into(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    lang: Lang,
    next: String,
    login: String,
    error: Option<&'static str>,
}

fn login_form(
    app: &AppState,
    ctx: &Ctx,
    next: String,
    login: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let page = LoginPage {
        c: ctx.chrome(app, None, ""),
        lang: ctx.lang,
        next,
        login,
        error,
    };
    render_status(&page, ctx, status)
}

async fn login_page(State(app): State<AppState>, ctx: Ctx) -> Response {
    let next = safe_next(ctx.param("next").ok().flatten());
    login_form(&app, &ctx, next, String::new(), None, StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let login = form.login.trim().to_ascii_lowercase();
    let lang = ctx.lang;
    let fail = |error: &'static str, status: StatusCode| {
        login_form(&app, &ctx, next.clone(), login.clone(), Some(error), status)
    };
    if login.is_empty() || login.len() > 64 {
        return fail(
            lang.pick("请输入账号", "enter your login name"),
            StatusCode::BAD_REQUEST,
        );
    }
    let now_i = Instant::now();
    let limits = app.login_limits();
    let address_ok = limits.by_address.try_take(ip, now_i);
    let account_ok = limits.by_account.take(login.clone(), now_i);
    if !address_ok || !account_ok {
        tracing::warn!(login = %login, "sign-in rate limited");
        return fail(
            lang.pick(
                "尝试次数过多，请 5 分钟后再试",
                "too many attempts; try again in 5 minutes",
            ),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let wrong = lang.pick("账号或密码不正确", "wrong login name or password");
    let Some(password) = Password::attempt(&form.password) else {
        return fail(wrong, StatusCode::UNAUTHORIZED);
    };
    let creds = match app.store.user_credentials(&login).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let user = match creds {
        Some((user, hash)) if password.verify(&hash) => user,
        Some(_) => return fail(wrong, StatusCode::UNAUTHORIZED),
        None => {
            // Same work as a real check, so timing says nothing.
            let _ = password.verify(dummy_hash());
            return fail(wrong, StatusCode::UNAUTHORIZED);
        }
    };
    // A new id at every sign-in: a session id planted before sign-in
    // (session fixation) never becomes a signed-in one.
    let token = Token::new_session();
    let result = async {
        let now = Timestamp::now().map_err(|e| crate::store::StoreError::BadRequest(e.message))?;
        let expires = Timestamp::from_unix(now.unix() + SESSION_TTL.as_secs() as i64)
            .map_err(|e| crate::store::StoreError::BadRequest(e.message))?;
        if let Some(old) = cookie(&headers, SESSION_COOKIE) {
            app.store
                .delete_session(&Token::presented(old).digest_hex())
                .await?;
        }
        app.store
            .create_session(&token.digest_hex(), user.id, now, expires)
            .await
    }
    .await;
    if let Err(e) = result {
        return ApiError::from(e).into_response();
    }
    tracing::info!(user = %user.login, "signed in");
    let mut resp = Redirect::to(&next).into_response();
    set_cookie(
        &mut resp,
        &format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            token.expose(),
            SESSION_TTL.as_secs(),
            if app.secure_cookies { "; Secure" } else { "" }
        ),
    );
    resp
}

fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = app
            .store
            .delete_session(&Token::presented(id).digest_hex())
            .await
        {
            return ApiError::from(e).into_response();
        }
    }
    let mut resp = Redirect::to("/login").into_response();
    set_cookie(
        &mut resp,
        &format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            if app.secure_cookies { "; Secure" } else { "" }
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn same_origin_decisions() {
        assert_eq!(
            same_origin(&headers(&[("sec-fetch-site", "same-origin")])),
            Some(true)
        );
        assert_eq!(
            same_origin(&headers(&[("sec-fetch-site", "cross-site")])),
            Some(false)
        );
        assert_eq!(
            same_origin(&headers(&[("sec-fetch-site", "same-site")])),
            Some(false)
        );
        assert_eq!(
            same_origin(&headers(&[
                ("origin", "http://a.example"),
                ("host", "a.example")
            ])),
            Some(true)
        );
        assert_eq!(
            same_origin(&headers(&[
                ("origin", "http://evil.example"),
                ("host", "a.example")
            ])),
            Some(false)
        );
        assert_eq!(
            same_origin(&headers(&[("origin", "null"), ("host", "a")])),
            Some(false)
        );
        assert_eq!(same_origin(&headers(&[])), None);
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/estates/x/staff")), "/estates/x/staff");
        assert_eq!(safe_next(Some("//evil.example/")), "/staff");
        assert_eq!(safe_next(Some("https://evil.example/")), "/staff");
        assert_eq!(safe_next(Some("/\\evil.example")), "/staff");
        assert_eq!(safe_next(None), "/staff");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "tf_lang=en; tf_session=abc"), ("cookie", "x=1")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "tf_sess"), None);
        assert_eq!(cookie(&h, "x"), Some("1"));
    }
}
