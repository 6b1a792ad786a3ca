//! Corrections (冲正): an entry recorded by mistake is reversed by a new
//! entry naming it by seq and hash; nothing is edited or deleted. The page
//! shows the entry first, decoded, so staff see what they reverse.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{canonical_u64, local_time, render_status, Chrome, Ctx, Lang};
use super::evidence::{
    created, parse_json, place_errors, refusal_status, see_other, submit, Fields, FormView,
};
use super::home::page_error;
use super::{open_for, FormErrors, StaffError, MAX_FORM_BYTES};
use crate::domain::{Reason, Slug};
use crate::http::AppState;
use crate::ledger::{Body, Role, Side};
use crate::store::EstateRow;

const ROUTE: &str = "correction";
const FIELDS: &[&str] = &["corrects", "reason"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/corrections",
            get(page)
                .post(form_post)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route(
            "/api/v1/estates/{slug}/corrections",
            post(api_post).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

/// One posting of the entry, and what the correction will post instead.
struct Line {
    account: String,
    debit: String,
    credit: String,
}

/// The entry about to be corrected, decoded.
struct Target {
    seq: u64,
    kind: String,
    time: String,
    hash: String,
    /// The entry's JSON, indented for reading.
    json: String,
    postings: Vec<Line>,
    /// The correction that already reversed it, if any.
    corrected_by: Option<u64>,
}

async fn target(app: &AppState, slug: &Slug, seq: u64) -> Result<Option<Target>, StaffError> {
    let Some(row) = app.store.entry_row(slug, seq).await? else {
        return Ok(None);
    };
    let entry = row.entry()?;
    let tz = app
        .store
        .with_state(slug, |st| st.estate().map(|e| e.timezone))
        .await?;
    let json = serde_json::from_str::<serde_json::Value>(&row.body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| row.body.clone());
    let postings = entry
        .body
        .postings()
        .iter()
        .map(|p| {
            let amount = p.amount.format_cny();
            let (debit, credit) = match p.side {
                Side::Debit => (amount, String::new()),
                Side::Credit => (String::new(), amount),
            };
            Line {
                account: p.account.to_string(),
                debit,
                credit,
            }
        })
        .collect();
    let corrected_by = app.store.correction_of(slug, seq).await?.map(|r| r.seq);
    Ok(Some(Target {
        seq,
        kind: row.kind.clone(),
        time: match &tz {
            Some(tz) => local_time(row.time, tz),
            None => row.time.to_string(),
        },
        hash: row.hash.to_hex(),
        json,
        postings,
        corrected_by,
    }))
}

#[derive(Template)]
#[template(path = "staff/correction.html")]
struct CorrectionPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    target: Option<Target>,
    f: FormView,
}

async fn show(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    row: &EstateRow,
    mut f: FormView,
    status: StatusCode,
) -> Response {
    let seq = f.fields.opt("corrects").and_then(canonical_u64);
    let target = match seq {
        Some(s) => match target(app, slug, s).await {
            Ok(t) => t,
            Err(e) => return page_error(app, ctx, e),
        },
        None => None,
    };
    if let (Some(s), None) = (seq, &target) {
        if f.errors.get("corrects").is_none() {
            f.errors
                .add("corrects", "unknown_entry", no_entry(ctx.lang, s));
        }
    }
    let page = CorrectionPage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: row.slug.clone(),
        target,
        f,
    };
    render_status(&page, ctx, status)
}

fn no_entry(lang: Lang, seq: u64) -> String {
    match lang {
        Lang::Zh => format!("没有编号为 #{seq} 的条目"),
        Lang::En => format!("there is no entry #{seq}"),
    }
}

async fn page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok((slug, row)) => {
            let mut f = FormView::blank();
            if let Ok(Some(seq)) = ctx.param("seq") {
                f.fields.set("corrects", seq);
                if canonical_u64(seq).is_none() {
                    f.errors.add(
                        "corrects",
                        "bad_format",
                        ctx.lang
                            .pick("条目编号应为数字", "an entry number is a plain number"),
                    );
                }
            }
            show(&app, &ctx, &slug, &row, f, StatusCode::OK).await
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

/// The correction a request asks for: the entry must exist; its hash is
/// read from the log, so a stale page cannot name another entry.
async fn correction_body(
    app: &AppState,
    slug: &Slug,
    lang: Lang,
    f: &Fields,
    errors: &mut FormErrors,
) -> Result<Option<Body>, StaffError> {
    let reason = errors.take(lang, Reason::parse("reason", f.get("reason")));
    let Some(corrects) = canonical_u64(f.get("corrects").trim()) else {
        errors.add(
            "corrects",
            "bad_format",
            lang.pick("条目编号应为数字", "an entry number is a plain number"),
        );
        return Ok(None);
    };
    let Some(row) = app.store.entry_row(slug, corrects).await? else {
        errors.add("corrects", "unknown_entry", no_entry(lang, corrects));
        return Ok(None);
    };
    Ok(reason.map(|reason| Body::Correction {
        corrects,
        corrects_hash: row.hash,
        reason,
        postings: vec![],
    }))
}

async fn form_post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let fields = Fields::from_pairs(pairs);
    let mut errors = FormErrors::default();
    let built = match correction_body(&app, &slug, ctx.lang, &fields, &mut errors).await {
        Ok(b) => b,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let entry = match built {
        Some(b) if errors.is_empty() => b,
        _ => {
            let f = FormView::refused(fields, place_errors(errors, FIELDS));
            return show(&app, &ctx, &slug, &row, f, refusal_status(false)).await;
        }
    };
    let key = fields.opt("idempotency_key").map(str::to_string);
    match submit(&app, &row, &headers, key.as_deref(), ROUTE, entry).await {
        Ok((a, _)) => see_other(format!("/estates/{slug}/ledger/{}", a.seq)),
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(fe) => {
                // Every ledger refusal of a correction is about the entry.
                let mut fe = place_errors(fe, FIELDS);
                for e in &mut fe.errors {
                    if e.field == "form" {
                        e.field = "corrects".into();
                    }
                }
                let f = FormView::refused(fields, fe);
                show(&app, &ctx, &slug, &row, f, refusal_status(true)).await
            }
            Err(e) => page_error(&app, &ctx, e),
        },
    }
}

/// `POST /api/v1/estates/{slug}/corrections`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CorrectionRequest {
    corrects: u64,
    reason: String,
}

async fn api_post(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    let req: CorrectionRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let fields = Fields::from_pairs(vec![
        ("corrects".into(), req.corrects.to_string()),
        ("reason".into(), req.reason),
    ]);
    let mut errors = FormErrors::default();
    let built = match correction_body(&app, &slug, Lang::En, &fields, &mut errors).await {
        Ok(b) => b,
        Err(e) => return e.into_api(),
    };
    let entry = match built {
        Some(b) if errors.is_empty() => b,
        _ => return StaffError::Fields(errors).into_api(),
    };
    match submit(&app, &row, &headers, None, ROUTE, entry).await {
        Ok((a, replayed)) => created(&a, replayed),
        Err(e) => e.into_api(),
    }
}
