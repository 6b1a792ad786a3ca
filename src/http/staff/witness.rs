//! Witnessing: committee members and the community observer cosign the
//! estate's signed checkpoint by adding their own C2SP cosignature/v1 line
//! to the same note. The store takes a cosignature only from a current
//! witness, only over that exact checkpoint, and only forward along a
//! history consistent with the last checkpoint that witness cosigned.
//!
//! The page shows the exact bytes a cosignature covers; the signature is
//! made with the witness's own key (offline, or with a key held on the
//! server under the witness's passphrase) and submitted as its note line.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use super::evidence::parse_json;
use super::home::page_error;
use super::{open_for, FormErrors, StaffError};
use crate::domain::{MemberId, Slug, Timestamp};
use crate::http::auth::{AuthError, Principal};
use crate::http::pages::{render_status, Chrome, Ctx, Lang};
use crate::http::AppState;
use crate::ledger::Role;
use crate::store::{EstateRow, StoreError};
use crate::tlog::checkpoint::cosign_checkpoint;
use crate::tlog::note::{Note, NoteSignature};

const WITNESSES: [Role; 2] = [Role::Committee, Role::Community];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/staff/witness", get(page).post(form_post))
        .route(
            "/api/v1/estates/{slug}/checkpoints/{size}/cosignatures",
            post(api_post),
        )
}

/// The ledger member this principal witnesses as in the estate.
fn witness_member(who: &Principal, slug: &Slug) -> Result<MemberId, StaffError> {
    WITNESSES
        .iter()
        .find_map(|r| who.member_in(slug.as_str(), *r))
        .and_then(|m| MemberId::parse("member", m).ok())
        .ok_or(StaffError::Auth(AuthError::Forbidden))
}

/// An estate opened for one of its witnesses.
struct Witnessing {
    slug: Slug,
    row: EstateRow,
    member: MemberId,
}

async fn open_witness(
    app: &AppState,
    who: &Principal,
    slug: &str,
) -> Result<Witnessing, StaffError> {
    let (slug, row) = open_for(app, who, slug, &WITNESSES).await?;
    let member = witness_member(who, &slug)?;
    Ok(Witnessing { slug, row, member })
}

#[derive(Template)]
#[template(path = "staff/witness.html")]
struct WitnessPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    member: String,
    tree_size: u64,
    root: String,
    text: String,
    cosigners: Vec<String>,
    last: Option<u64>,
    signature: String,
    errors: FormErrors,
    done: bool,
    /// The witness's key is held on the server: offer the passphrase.
    key_held: bool,
}

async fn show(
    app: &AppState,
    ctx: &Ctx,
    w: &Witnessing,
    signature: String,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let (slug, member) = (&w.slug, &w.member);
    let result = async {
        let cp = app
            .store
            .latest_checkpoint(slug)
            .await?
            .ok_or_else(|| StoreError::NotFound("checkpoint".into()))?;
        let note = Note::parse(&cp.note).map_err(StoreError::Tlog)?;
        let last = app.store.last_cosigned(slug, member).await?.map(|l| l.0);
        let active = app
            .store
            .with_state(slug, |s| {
                s.members()
                    .get(member)
                    .and_then(|m| m.key.as_ref())
                    .map(|k| k.format())
            })
            .await?;
        let held = super::approvals::held_key(app, &w.row, member).await?;
        let key_held = matches!((&held, &active), (Some(h), Some(a)) if h.verifier_key() == a);
        Ok::<_, StaffError>(WitnessPage {
            c: ctx.chrome(app, Some(&w.row), ""),
            lang: ctx.lang,
            slug: slug.to_string(),
            member: member.to_string(),
            tree_size: cp.tree_size,
            root: cp.root.to_base64(),
            cosigners: note
                .signatures
                .iter()
                .skip(1)
                .map(|s| s.name.clone())
                .collect(),
            text: note.text,
            last,
            signature,
            errors,
            done: ctx.param("done").ok().flatten().is_some(),
            key_held,
        })
    }
    .await;
    match result {
        Ok(page) => render_status(&page, ctx, status),
        Err(e) => page_error(app, ctx, e),
    }
}

async fn page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_witness(&app, &who, &slug).await {
        Ok(w) => {
            show(
                &app,
                &ctx,
                &w,
                String::new(),
                FormErrors::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

/// Records a cosignature line for the checkpoint of `tree_size`.
async fn cosign(
    app: &AppState,
    slug: &Slug,
    member: &MemberId,
    tree_size: &str,
    line: &str,
    lang: Lang,
) -> Result<(), StaffError> {
    let size = crate::http::pages::canonical_u64(tree_size.trim()).ok_or_else(|| {
        FormErrors::one(
            "tree_size",
            "bad_format",
            lang.pick("树大小必须是整数", "tree size must be a whole number"),
        )
    })?;
    let sig = NoteSignature::parse_line(line.trim()).map_err(|e| {
        FormErrors::one(
            "signature",
            "bad_signature",
            match lang {
                Lang::Zh => format!("签名行格式不正确：{e}"),
                Lang::En => e.to_string(),
            },
        )
    })?;
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    app.store
        .cosign(slug, size, member, &sig, now)
        .await
        .map_err(|e| match e {
            StoreError::BadRequest(m) | StoreError::Conflict(m) => {
                StaffError::Fields(FormErrors::one(
                    "signature",
                    "refused",
                    match lang {
                        Lang::Zh => format!("见证被拒绝：{m}"),
                        Lang::En => m,
                    },
                ))
            }
            StoreError::NotFound(_) => StaffError::Fields(FormErrors::one(
                "tree_size",
                "not_found",
                lang.pick("没有这个大小的检查点", "no checkpoint of that size"),
            )),
            other => StaffError::Store(other),
        })?;
    tracing::info!(estate = %slug, witness = %member, tree_size = size, "checkpoint cosigned");
    Ok(())
}

#[derive(Deserialize)]
struct WitnessForm {
    #[serde(default)]
    tree_size: String,
    #[serde(default)]
    signature: String,
    /// Instead of a signature: the passphrase of the key held on the server.
    #[serde(default)]
    passphrase: String,
}

/// Cosigns the checkpoint of `tree_size` with the witness's server-held
/// key, opened with their passphrase for this one signature.
async fn held_key_line(
    app: &AppState,
    w: &Witnessing,
    tree_size: &str,
    passphrase: &str,
    lang: Lang,
) -> Result<String, StaffError> {
    let signer =
        super::approvals::unlock_held_key(app, &w.row, &w.member, passphrase, lang).await?;
    let size = crate::http::pages::canonical_u64(tree_size.trim()).ok_or_else(|| {
        FormErrors::one(
            "tree_size",
            "bad_format",
            "tree size must be a whole number",
        )
    })?;
    let cp = app
        .store
        .checkpoint_at(&w.slug, size)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("checkpoint of size {size}")))?;
    let text = Note::parse(&cp.note).map_err(StoreError::Tlog)?.text;
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    let sig =
        cosign_checkpoint(&text, &signer, now.unix().max(0) as u64).map_err(StoreError::Tlog)?;
    Ok(sig.format_line().trim_end().to_string())
}

async fn form_post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Form(form): Form<WitnessForm>,
) -> Response {
    let w = match open_witness(&app, &who, &slug).await {
        Ok(w) => w,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let line = if form.signature.trim().is_empty() && !form.passphrase.is_empty() {
        held_key_line(&app, &w, &form.tree_size, &form.passphrase, ctx.lang).await
    } else {
        Ok(form.signature.clone())
    };
    let done = match line {
        Ok(line) => cosign(&app, &w.slug, &w.member, &form.tree_size, &line, ctx.lang).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => {
            Redirect::to(&format!("/estates/{}/staff/witness?done=1", w.slug)).into_response()
        }
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(errors) => {
                show(
                    &app,
                    &ctx,
                    &w,
                    form.signature,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(e) => page_error(&app, &ctx, e),
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignRequest {
    signature: String,
}

async fn api_post(
    State(app): State<AppState>,
    who: Principal,
    Path((slug, size)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let w = match open_witness(&app, &who, &slug).await {
        Ok(w) => w,
        Err(e) => return e.into_api(),
    };
    let req: CosignRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match cosign(&app, &w.slug, &w.member, &size, &req.signature, Lang::En).await {
        Ok(()) => (
            StatusCode::CREATED,
            Json(serde_json::json!({
                "tree_size": crate::http::pages::canonical_u64(&size),
                "witness": w.member.as_str(),
            })),
        )
            .into_response(),
        Err(e) => e.into_api(),
    }
}
