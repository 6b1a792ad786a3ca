//! An approver's signing key held on the server, for the web path of
//! signing. The server keeps only a key file sealed under the approver's
//! own passphrase (`crate::approver_key`); it is opened in memory for one
//! signing when the approver types the passphrase, and never otherwise.
//!
//! Two ways in: upload the file `trustfund keygen` wrote (it must be the
//! member's active ledger key), or have the server make one, whose
//! verifier key the admin then enrols.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::approvals::held_key;
use super::home::page_error;
use super::{open_for, FormErrors, StaffError};
use crate::approver_key::{KeyFile, Passphrase};
use crate::domain::{MemberId, Slug, Timestamp};
use crate::http::auth::{AuthError, Principal};
use crate::http::pages::{render_status, Chrome, Ctx, Lang};
use crate::http::AppState;
use crate::ledger::Role;
use crate::store::{EstateRow, StoreError};

/// Longest key file text accepted from the form (a real one is ~400 bytes).
const MAX_KEY_TEXT: usize = 4096;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/staff/key", get(page))
        .route("/estates/{slug}/staff/key/upload", post(upload))
        .route("/estates/{slug}/staff/key/generate", post(generate))
}

/// An estate opened for one of its signers (company, committee, community).
struct Signing {
    slug: Slug,
    row: EstateRow,
    member: MemberId,
    /// The member's active key in the ledger, as its verifier key string.
    active: Option<String>,
}

async fn open_signer(app: &AppState, who: &Principal, slug: &str) -> Result<Signing, StaffError> {
    let roles = [Role::Company, Role::Committee, Role::Community];
    let (slug, row) = open_for(app, who, slug, &roles).await?;
    let member = roles
        .iter()
        .find_map(|r| who.member_in(slug.as_str(), *r))
        .and_then(|m| MemberId::parse("member", m).ok())
        .ok_or(StaffError::Auth(AuthError::Forbidden))?;
    let active = app
        .store
        .with_state(&slug, |s| {
            s.members()
                .get(&member)
                .and_then(|m| m.key.as_ref())
                .map(|k| k.format())
        })
        .await?;
    Ok(Signing {
        slug,
        row,
        member,
        active,
    })
}

/// The name a member's key carries: the estate's origin and the member.
fn key_name(s: &Signing) -> String {
    format!("{}/members/{}", s.row.origin, s.member)
}

#[derive(Template)]
#[template(path = "staff/key.html")]
struct KeyPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    member: String,
    active: Option<String>,
    held: Option<String>,
    held_is_active: bool,
    created: bool,
    errors: FormErrors,
}

async fn show(
    app: &AppState,
    ctx: &Ctx,
    s: &Signing,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let held = match held_key(app, &s.row, &s.member).await {
        Ok(k) => k.map(|k| k.verifier_key().to_string()),
        Err(e) => return page_error(app, ctx, e),
    };
    let page = KeyPage {
        c: ctx.chrome(app, Some(&s.row), ""),
        lang: ctx.lang,
        slug: s.slug.to_string(),
        member: s.member.to_string(),
        held_is_active: held.is_some() && held == s.active,
        active: s.active.clone(),
        held,
        created: ctx.param("created").ok().flatten().is_some(),
        errors,
    };
    render_status(&page, ctx, status)
}

async fn page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_signer(&app, &who, &slug).await {
        Ok(s) => show(&app, &ctx, &s, FormErrors::default(), StatusCode::OK).await,
        Err(e) => page_error(&app, &ctx, e),
    }
}

/// Keys are managed in a browser session, never with an API token.
fn session_only(who: &Principal) -> Result<(), StaffError> {
    match who.token_estate {
        Some(_) => Err(StaffError::Auth(AuthError::Forbidden)),
        None => Ok(()),
    }
}

async fn store_key(app: &AppState, s: &Signing, file: &KeyFile) -> Result<(), StaffError> {
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    app.store
        .put_approver_key(&s.slug, &s.member, &file.format(), now)
        .await?;
    tracing::info!(estate = %s.slug, member = %s.member, "approver key held on the server");
    Ok(())
}

#[derive(Deserialize)]
struct UploadForm {
    #[serde(default)]
    key_file: String,
}

/// Checks an uploaded key file against the member and the ledger.
fn check_upload(s: &Signing, text: &str, lang: Lang) -> Result<KeyFile, FormErrors> {
    let refuse = |zh: String, en: String| {
        FormErrors::one(
            "key_file",
            "bad_key_file",
            match lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
        )
    };
    if text.len() > MAX_KEY_TEXT {
        return Err(refuse(
            "密钥文件过大".into(),
            "the key file is too large".into(),
        ));
    }
    // Browsers submit textareas with CRLF; the file is LF only.
    let text = format!("{}\n", text.replace("\r\n", "\n").trim());
    let file = KeyFile::parse(&text)
        .map_err(|e| refuse(format!("不是有效的密钥文件：{e}"), e.to_string()))?;
    match &s.active {
        Some(active) if active != file.verifier_key() => Err(refuse(
            "这不是您在账本中登记的有效密钥".into(),
            "this is not your active key in the ledger".into(),
        )),
        None if file.name() != key_name(s) => Err(refuse(
            format!("密钥名称应为 {}", key_name(s)),
            format!("the key's name must be {}", key_name(s)),
        )),
        _ => Ok(file),
    }
}

async fn upload(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Form(form): Form<UploadForm>,
) -> Response {
    let s = match open_signer(&app, &who, &slug).await {
        Ok(s) => s,
        Err(e) => return page_error(&app, &ctx, e),
    };
    if let Err(e) = session_only(&who) {
        return page_error(&app, &ctx, e);
    }
    let result = match check_upload(&s, &form.key_file, ctx.lang) {
        Ok(file) => store_key(&app, &s, &file).await,
        Err(f) => Err(StaffError::Fields(f)),
    };
    finish(&app, &ctx, &s, result).await
}

#[derive(Deserialize)]
struct GenerateForm {
    #[serde(default)]
    passphrase: String,
    #[serde(default)]
    confirm: String,
}

async fn generate(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Form(form): Form<GenerateForm>,
) -> Response {
    let s = match open_signer(&app, &who, &slug).await {
        Ok(s) => s,
        Err(e) => return page_error(&app, &ctx, e),
    };
    if let Err(e) = session_only(&who) {
        return page_error(&app, &ctx, e);
    }
    let lang = ctx.lang;
    let result = async {
        if s.active.is_some() {
            // A new key for an enrolled member is a rotation: that is the
            // admin's hand-over, with the old key revoked in the ledger.
            return Err(FormErrors::one(
                "form",
                "has_active_key",
                lang.pick(
                    "您在账本中已有有效密钥；更换密钥需由管理员办理撤销和重新登记",
                    "you already have an active key in the ledger; replacing it is a hand-over the admin records",
                ),
            )
            .into());
        }
        if form.passphrase != form.confirm {
            return Err(FormErrors::one(
                "confirm",
                "mismatch",
                lang.pick("两次输入的口令不一致", "the two passphrases differ"),
            )
            .into());
        }
        let pass = Passphrase::new_choice(&form.passphrase).map_err(|e| {
            FormErrors::one(
                "passphrase",
                "bad_passphrase",
                match lang {
                    Lang::Zh => "口令至少 12 个字符".to_string(),
                    Lang::En => e.to_string(),
                },
            )
        })?;
        let name = key_name(&s);
        let made = tokio::task::spawn_blocking(move || KeyFile::generate(&name, &pass))
            .await
            .map_err(|_| StoreError::BadRequest("key generation was interrupted".into()))?;
        let (file, _) = made.map_err(|e| StoreError::BadRequest(e.to_string()))?;
        store_key(&app, &s, &file).await
    }
    .await;
    finish(&app, &ctx, &s, result).await
}

async fn finish(
    app: &AppState,
    ctx: &Ctx,
    s: &Signing,
    result: Result<(), StaffError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/estates/{}/staff/key?created=1", s.slug)).into_response(),
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(errors) => show(app, ctx, s, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => page_error(app, ctx, e),
        },
    }
}
