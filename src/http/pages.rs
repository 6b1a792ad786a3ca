//! Server-rendered pages (askama): the language choice, the layout every
//! page shares, error pages in the reader's language, and the landing page.
//! The owners' pages of each resource live in their own modules and build
//! on what is here.

use std::convert::Infallible;

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{ApiError, AppState};
use crate::domain::{EstateTz, Slug, Timestamp};
use crate::store::{AuditFailure, EstateRow, StoreError};
use crate::tlog::Hash;

pub use super::texts::Texts;
use super::texts::{EN, ZH};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}

/// The page language: Chinese first, English too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// Cookie that remembers an explicit choice.
const LANG_COOKIE: &str = "tf_lang";

impl Lang {
    /// `?lang=` wins, then the remembered choice, then `Accept-Language`;
    /// zh-CN when nothing says otherwise.
    pub fn choose(query: Option<&str>, headers: &HeaderMap) -> Lang {
        let parse = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "zh" | "zh-cn" => Some(Lang::Zh),
            _ => None,
        };
        if let Some(l) = query.and_then(parse) {
            return l;
        }
        let cookie = headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| {
                c.split(';').find_map(|kv| {
                    kv.trim()
                        .strip_prefix(LANG_COOKIE)
                        .and_then(|r| r.strip_prefix('='))
                })
            });
        if let Some(l) = cookie.and_then(parse) {
            return l;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first language listed that we speak decides.
        for tag in accept.split(',') {
            let tag = tag
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Zh
    }

    /// One of two strings given inline: the staff pages say each thing in
    /// both languages where they say it, so neither can be forgotten.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn is_zh(self) -> bool {
        self == Lang::Zh
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// What every page handler knows about its request: the language, whether
/// it was chosen explicitly, and the query (for filters and the language
/// switch, which keeps the rest of the query).
pub struct Ctx {
    pub lang: Lang,
    explicit: Option<String>,
    path: String,
    params: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, Infallible> {
        let params: Vec<(String, String)> =
            Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
                .map(|q| q.0)
                .unwrap_or_default();
        let explicit = params
            .iter()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.clone());
        Ok(Ctx {
            lang: Lang::choose(explicit.as_deref(), &parts.headers),
            explicit,
            path: parts.uri.path().to_string(),
            params,
        })
    }
}

impl Ctx {
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// A query parameter given at most once; empty counts as absent, so
    /// a filter form's "all" choice needs no special value.
    pub fn param(&self, name: &'static str) -> Result<Option<&str>, PageError> {
        let mut found = self.params.iter().filter(|(k, _)| k == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(PageError::BadParam(name, Hint::Repeated));
        }
        Ok(first.map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()))
    }

    /// The same request as if made to `path` without a query (but in the
    /// same language): error pages that must not depend on what was typed
    /// use it for their links.
    pub fn at_path(&self, path: String) -> Ctx {
        Ctx {
            lang: self.lang,
            explicit: self.explicit.clone(),
            path,
            params: Vec::new(),
        }
    }

    /// This page in the other language, keeping the rest of the query.
    fn lang_href(&self, code: &str) -> String {
        let mut q: Vec<String> = self
            .params
            .iter()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        q.push(format!("lang={code}"));
        format!("{}?{}", self.path, q.join("&"))
    }

    /// The layout's data for a page of `estate` (or of no estate).
    pub fn chrome(
        &self,
        app: &AppState,
        estate: Option<&EstateRow>,
        section: &'static str,
    ) -> Chrome {
        Chrome {
            t: self.t(),
            zh_href: self.lang_href("zh"),
            en_href: self.lang_href("en"),
            estate: estate.map(|e| EstateNav {
                slug: e.slug.clone(),
                name: e.name.clone(),
            }),
            section,
            frozen: estate
                .and_then(|e| app.store.frozen(&e.slug))
                .map(|f| self.t().frozen_text(&f)),
        }
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved bytes stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The estate a page belongs to, for the navigation bar.
pub struct EstateNav {
    pub slug: String,
    pub name: String,
}

/// What the shared layout (`base.html`) shows around every page.
pub struct Chrome {
    pub t: &'static Texts,
    pub zh_href: String,
    pub en_href: String,
    pub estate: Option<EstateNav>,
    /// Which navigation item is current: "dashboard", "ledger", …
    pub section: &'static str,
    /// Why the estate is frozen, in the reader's language, shown on every
    /// page while it is.
    pub frozen: Option<String>,
}

/// Why a page parameter was refused, said in the reader's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    Number,
    Limit,
    Kind,
    Account,
    Category,
    Month,
    Status,
    Repeated,
    Conflict,
}

impl Hint {
    pub fn text(self, t: &Texts) -> &'static str {
        match self {
            Hint::Number => t.hint_number,
            Hint::Limit => t.hint_limit,
            Hint::Kind => t.hint_kind,
            Hint::Account => t.hint_account,
            Hint::Category => t.hint_category,
            Hint::Month => t.hint_month,
            Hint::Status => t.hint_status,
            Hint::Repeated => t.hint_repeated,
            Hint::Conflict => t.hint_conflict,
        }
    }

    /// The English wording, for the JSON API.
    pub fn english(self) -> &'static str {
        self.text(&EN)
    }
}

/// What a missing thing was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Page,
    Estate,
    Entry,
    Claim,
    Service,
    /// A month with no published statement.
    Statement,
    /// The same answer for a wrong code and a unit that does not exist.
    Unit,
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    NotFound(Missing),
    BadParam(&'static str, Hint),
    RateLimited,
    /// The estate failed its audit: no figure of it is served.
    Frozen(Box<(EstateRow, AuditFailure)>),
    Store(StoreError),
    /// A page that could not be rendered (already logged).
    Internal,
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        match e {
            StoreError::NotFound(_) => PageError::NotFound(Missing::Page),
            other => PageError::Store(other),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    t: &'static Texts,
    title: &'static str,
    message: String,
}

impl PageError {
    /// The error as a page in the reader's language, with its status.
    pub fn render(self, ctx: &Ctx, app: &AppState, estate: Option<&EstateRow>) -> Response {
        let t = ctx.t();
        let mut frozen_estate = None;
        let (status, title, message) = match self {
            PageError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                t.not_found_title,
                match what {
                    Missing::Page => t.no_such_page,
                    Missing::Estate => t.no_such_estate,
                    Missing::Entry => t.no_such_entry,
                    Missing::Claim => t.no_such_claim,
                    Missing::Service => t.no_such_service,
                    Missing::Statement => t.no_such_statement,
                    Missing::Unit => t.no_such_unit,
                }
                .to_string(),
            ),
            PageError::BadParam(name, hint) => (
                StatusCode::BAD_REQUEST,
                t.bad_request_title,
                format!("{} {name}: {}", t.bad_parameter, hint.text(t)),
            ),
            PageError::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                t.rate_limited_title,
                t.rate_limited.to_string(),
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                t.internal_title,
                t.internal.to_string(),
            ),
            PageError::Frozen(frozen) => {
                // The layout's alert says why (from the store, in the
                // reader's language); the page itself shows no figure.
                frozen_estate = Some(frozen.0);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    t.unavailable_title,
                    t.frozen_hint.to_string(),
                )
            }
            PageError::Store(e) => {
                // Logged with its detail by the JSON error's conversion;
                // the page says only what a reader can act on.
                let api = ApiError::from(e);
                if api.code == "integrity_failure" {
                    (api.status, t.unavailable_title, t.unavailable.to_string())
                } else if api.status.is_client_error() {
                    (StatusCode::BAD_REQUEST, t.bad_request_title, api.message)
                } else {
                    (api.status, t.internal_title, t.internal.to_string())
                }
            }
        };
        let page = ErrorPage {
            c: ctx.chrome(app, estate.or(frozen_estate.as_ref()), ""),
            t,
            title,
            message,
        };
        match render(&page, ctx) {
            Ok(mut resp) => {
                *resp.status_mut() = status;
                resp
            }
            Err(e) => e.into_response(),
        }
    }
}

/// Renders a page with a status other than 200 (a form shown again with
/// its refusals, a 403 page…).
pub fn render_status(page: &impl Template, ctx: &Ctx, status: StatusCode) -> Response {
    match render(page, ctx) {
        Ok(mut r) => {
            *r.status_mut() = status;
            r
        }
        Err(e) => e.into_response(),
    }
}

/// Renders a page in the chosen language, remembering an explicit choice.
pub fn render(page: &impl Template, ctx: &Ctx) -> Result<Response, ApiError> {
    render_lang(page, ctx.explicit.as_deref(), ctx.lang)
}

fn render_lang(
    page: &impl Template,
    query_lang: Option<&str>,
    lang: Lang,
) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "template failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "page could not be rendered".into(),
        }
    })?;
    let mut resp = Html(html).into_response();
    if query_lang.is_some() {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.texts().code
        );
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    resp.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        header::HeaderValue::from_static(lang.texts().html_lang),
    );
    Ok(resp)
}

/// Turns a page handler's result into a response: errors become pages.
pub fn finish(
    result: Result<Response, PageError>,
    ctx: &Ctx,
    app: &AppState,
    estate: Option<&EstateRow>,
) -> Response {
    match result {
        Ok(r) => r,
        Err(e) => e.render(ctx, app, estate),
    }
}

/// Resolves a path slug to an estate whose figures may be shown: one that
/// does not exist is the estate 404, a frozen one (its stored tables
/// failed the audit) is a 503 that says why and shows no figure.
pub async fn open_estate(app: &AppState, slug: &str) -> Result<(Slug, EstateRow), PageError> {
    let (slug, row) = open_estate_even_frozen(app, slug).await?;
    match app.store.frozen(slug.as_str()) {
        Some(failure) => Err(PageError::Frozen(Box::new((row, failure)))),
        None => Ok((slug, row)),
    }
}

/// Resolves a path slug to an estate that exists, frozen or not: only for
/// what stays true of a frozen estate (content-addressed evidence files,
/// the message an approver would sign), never for figures.
pub async fn open_estate_even_frozen(
    app: &AppState,
    slug: &str,
) -> Result<(Slug, EstateRow), PageError> {
    let slug = Slug::parse("slug", slug).map_err(|_| PageError::NotFound(Missing::Estate))?;
    match app.store.estate(&slug).await? {
        Some(row) => Ok((slug, row)),
        None => Err(PageError::NotFound(Missing::Estate)),
    }
}

/// A non-negative integer in canonical form (plain digits, no leading
/// zeros), as the log endpoints accept them.
pub fn canonical_u64(raw: &str) -> Option<u64> {
    let digits_ok = !raw.is_empty() && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok || (raw.len() > 1 && raw.starts_with('0')) {
        return None;
    }
    raw.parse().ok()
}

/// "2026-05-12 14:03" on the estate's clocks.
pub fn local_time(t: Timestamp, tz: &EstateTz) -> String {
    t.to_chrono()
        .with_timezone(&tz.fixed_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The first 12 hex digits of a hash: enough to recognise it on a page.
pub fn short_hash(h: &Hash) -> String {
    let hex = h.to_hex();
    hex.get(..12).unwrap_or(&hex).to_string()
}

/// Signed fen as "¥1,234.50" or "−¥1,234.50".
pub fn cny(fen: i64) -> String {
    let abs = crate::domain::Money::from_fen(fen.checked_abs().unwrap_or(i64::MAX))
        .map(|m| m.format_cny())
        .unwrap_or_else(|_| "?".into());
    if fen < 0 {
        format!("−{abs}")
    } else {
        abs
    }
}

/// Signed fen as a decimal string with two places, for JSON: "-12.50".
pub fn decimal(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    c: Chrome,
    t: &'static Texts,
    /// Each estate, with why it is frozen (in the reader's language) if it is.
    estates: Vec<(EstateRow, Option<String>)>,
}

async fn index(State(app): State<AppState>, ctx: Ctx) -> Response {
    let result = async {
        let page = IndexPage {
            c: ctx.chrome(&app, None, ""),
            t: ctx.t(),
            estates: app
                .store
                .list_estates()
                .await?
                .into_iter()
                .map(|e| {
                    let frozen = app.store.frozen(&e.slug).map(|f| ctx.t().frozen_text(&f));
                    (e, frozen)
                })
                .collect(),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, None)
}

impl From<ApiError> for PageError {
    fn from(_: ApiError) -> PageError {
        PageError::Internal
    }
}

/// Unknown paths: a page for browsers, the JSON error for everything else
/// (API clients and the public log endpoints keep their JSON shape).
pub async fn fallback(State(app): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let machine = ctx.path.starts_with("/api/") || ctx.path.contains("/log/");
    if wants_html && !machine {
        PageError::NotFound(Missing::Page).render(&ctx, &app, None)
    } else {
        super::error::not_found().await.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_amounts() {
        assert_eq!(cny(123450), "¥1,234.50");
        assert_eq!(cny(-5), "−¥0.05");
        assert_eq!(decimal(-1250), "-12.50");
        assert_eq!(decimal(7), "0.07");
    }

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(encode("fund:reserve"), "fund:reserve");
        assert_eq!(encode("a b&c=<"), "a%20b%26c%3D%3C");
    }
}
