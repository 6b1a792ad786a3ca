//! Server-rendered pages (askama). For now the landing page; the owners'
//! pages build on the same layout and language choice.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::store::EstateRow;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}

/// The page language: Chinese first, English too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
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

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// Every string a page shows, per language.
pub struct Texts {
    pub code: &'static str,
    pub html_lang: &'static str,
    pub product: &'static str,
    pub estates: &'static str,
    pub intro: &'static str,
    pub no_estates: &'static str,
    pub origin: &'static str,
    pub checkpoint: &'static str,
    pub policy: &'static str,
    pub entries: &'static str,
    pub footer: &'static str,
}

static ZH: Texts = Texts {
    code: "zh",
    html_lang: "zh-CN",
    product: "信托制物业资金公开",
    estates: "小区",
    intro:
        "每一笔物业费、公共收益和支出都记入只能追加、哈希链接的账本；业主可以在自己的电脑上核验。",
    no_estates: "还没有小区。",
    origin: "日志名称",
    checkpoint: "最新签名检查点",
    policy: "验证策略（日志公钥与见证人）",
    entries: "账本条目（前 100 条，原始字节）",
    footer: "trustfund：资金属于全体业主；每一笔账都可以核验。",
};

static EN: Texts = Texts {
    code: "en",
    html_lang: "en",
    product: "transparent estate trust funds",
    estates: "Estates",
    intro: "Every fee, public income and payment goes into an append-only, hash-chained ledger that owners can verify on their own computers.",
    no_estates: "No estates yet.",
    origin: "Log origin",
    checkpoint: "Latest signed checkpoint",
    policy: "Verification policy (log key and witnesses)",
    entries: "Ledger entries (first 100, exact bytes)",
    footer: "trustfund: the fund belongs to the owners; every entry can be verified.",
};

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    t: &'static Texts,
    estates: Vec<EstateRow>,
}

/// Renders a page in the chosen language, remembering an explicit choice.
pub fn render(
    page: &impl Template,
    query_lang: Option<&str>,
    lang: Lang,
) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "template failed");
        ApiError {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
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

async fn index(
    State(app): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = Lang::choose(q.lang.as_deref(), &headers);
    let page = IndexPage {
        t: lang.texts(),
        estates: app.store.list_estates().await?,
    };
    render(&page, q.lang.as_deref(), lang)
}
