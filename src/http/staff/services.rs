//! Service records (工单): work done on the estate, with photos or
//! invoices as evidence. A claim may later name one as what it pays for.

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{render_status, Chrome, Ctx, Lang};
use super::evidence::{EntryForm, Fields, FormView, MAX_UPLOAD_BYTES};
use super::home::page_error;
use super::{open_for, FormErrors, MAX_FORM_BYTES};
use crate::domain::Slug;
use crate::domain::{Date, Description, Location, Money, Name};
use crate::http::AppState;
use crate::ledger::{Body, Role};
use crate::store::EstateRow;
use crate::tlog::Hash;

const ROUTE: &str = "service_record";
const FIELDS: &[&str] = &[
    "title",
    "description",
    "location",
    "done_on",
    "done_by",
    "cost",
    "evidence",
];

const FORM: EntryForm = EntryForm {
    route: ROUTE,
    fields: FIELDS,
    build: service_body,
    show,
    done,
};

fn done(slug: &Slug, seq: u64) -> String {
    format!("/estates/{slug}/services/{seq}")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/services/new",
            get(form_page)
                .post(form_post)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/api/v1/estates/{slug}/service-records",
            post(api_post).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

fn service_body(
    lang: Lang,
    f: &Fields,
    evidence: Vec<Hash>,
    errors: &mut FormErrors,
) -> Option<Body> {
    let title = errors.take(lang, Name::parse("title", f.get("title")));
    let description = errors.take(
        lang,
        Description::parse("description", f.get("description")),
    );
    let location = errors.take(lang, Location::parse("location", f.get("location")));
    let done_on = errors.take(lang, Date::parse("done_on", f.get("done_on")));
    let done_by = errors.take(lang, Name::parse("done_by", f.get("done_by")));
    let cost = match f.opt("cost") {
        None => Some(None),
        Some(c) => errors
            .take(lang, Money::parse_positive("cost", c))
            .map(Some),
    };
    Some(Body::ServiceRecord {
        title: title?,
        description: description?,
        location: location?,
        done_on: done_on?,
        done_by: done_by?,
        cost: cost?,
        evidence,
    })
}

#[derive(Template)]
#[template(path = "staff/service_new.html")]
struct ServicePage {
    c: Chrome,
    lang: Lang,
    slug: String,
    f: FormView,
}

fn show(app: &AppState, ctx: &Ctx, row: &EstateRow, f: FormView, status: StatusCode) -> Response {
    let page = ServicePage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: row.slug.clone(),
        f,
    };
    render_status(&page, ctx, status)
}

async fn form_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok((_, row)) => show(&app, &ctx, &row, FormView::blank(), StatusCode::OK),
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn form_post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Result<Multipart, MultipartRejection>,
) -> Response {
    FORM.post_form(&app, &ctx, &who, &slug, &headers, body)
        .await
}

/// `POST /api/v1/estates/{slug}/service-records`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ServiceRequest {
    title: String,
    description: String,
    location: String,
    done_on: String,
    done_by: String,
    #[serde(default)]
    cost: Option<String>,
    #[serde(default)]
    evidence: Vec<String>,
}

async fn api_post(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    FORM.post_json(&app, &who, &slug, &headers, &body, fields_of)
        .await
}

fn fields_of(r: ServiceRequest) -> (Fields, Vec<String>) {
    let fields = Fields::from_pairs(vec![
        ("title".into(), r.title),
        ("description".into(), r.description),
        ("location".into(), r.location),
        ("done_on".into(), r.done_on),
        ("done_by".into(), r.done_by),
        ("cost".into(), r.cost.unwrap_or_default()),
    ]);
    (fields, r.evidence)
}
