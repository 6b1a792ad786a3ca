//! Evidence files for staff writes: the multipart reader every upload form
//! shares, the raw upload API (upload first, then name the hashes in a
//! JSON write), what the staff workflows share to submit one entry, and
//! public serving of the files the log names.
//!
//! A file is served only while some entry of the estate references it (the
//! replayed state keeps the set of referenced hashes): the
//! store is content-addressed and shared by all estates, so knowing a hash
//! must not be enough to read a file another estate (or nobody) published.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use super::super::auth::Principal;
use super::super::pages::{open_estate_even_frozen, Ctx, Lang};
use super::{append, idempotency, request_digest, rule_field, FormErrors, StaffError};
use crate::domain::Slug;
use crate::evidence::{EvidenceError, Kind, MAX_EVIDENCE_BYTES};
use crate::http::{ApiError, AppState};
use crate::ledger::entry::MAX_EVIDENCE;
use crate::ledger::{Body, Role};
use crate::store::{Appended, EstateRow, StoreError};
use crate::tlog::Hash;

/// Largest multipart body an upload route takes: two full-size files and
/// the form around them. Each file is still held to `MAX_EVIDENCE_BYTES`.
pub const MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;
/// Largest text field of a multipart form.
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;
/// Most parts (text fields and files) one form may have.
const MAX_PARTS: usize = 64;
/// Longest file name kept for messages.
const MAX_FILE_NAME_CHARS: usize = 80;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/estates/{slug}/evidence",
            post(upload_api).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/estates/{slug}/evidence/{sha256}", get(serve))
}

/// The text fields of a submitted form, by name; a repeated name keeps
/// the first value.
#[derive(Debug, Default, Clone)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    /// The value if it is there and not blank (optional fields).
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0
            .entry(name.to_string())
            .or_insert_with(|| value.into());
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            f.set(&k, v);
        }
        f
    }
}

/// A form as submitted: its text fields, the evidence files it carried
/// (already stored, by hash) and whatever was refused while reading it.
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: Fields,
    pub evidence: Vec<Hash>,
    pub errors: FormErrors,
}

/// Reads a `multipart/form-data` body: text fields, and files under the
/// name `evidence` (an empty file input is skipped). Each file is checked
/// and stored as it arrives; a refused one is an `evidence` field error
/// naming the file. Storing is harmless even if the write is then refused:
/// an unreferenced file is never served.
pub async fn read_upload(
    app: &AppState,
    lang: Lang,
    body: Result<Multipart, MultipartRejection>,
) -> Upload {
    let mut up = Upload::default();
    let mut mp = match body {
        Ok(mp) => mp,
        Err(_) => {
            up.errors.add(
                "form",
                "bad_form",
                lang.pick(
                    "表单格式不正确（应为 multipart/form-data）",
                    "the form must be sent as multipart/form-data",
                ),
            );
            return up;
        }
    };
    let mut files = 0usize;
    for _ in 0..MAX_PARTS {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return up,
            Err(e) => {
                up.errors
                    .add("evidence", "upload_failed", read_failed(lang, &e));
                return up;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "evidence" {
            let file_name = clean_file_name(field.file_name());
            let (bytes, too_large) = match read_bounded(field, MAX_EVIDENCE_BYTES).await {
                Ok(r) => r,
                Err(e) => {
                    up.errors
                        .add("evidence", "upload_failed", read_failed(lang, &e));
                    return up;
                }
            };
            if bytes.is_empty() && !too_large && file_name.is_empty() {
                continue; // a file input left empty
            }
            files += 1;
            if files > MAX_EVIDENCE {
                if files == MAX_EVIDENCE + 1 {
                    up.errors.add(
                        "evidence",
                        "too_much_evidence",
                        match lang {
                            Lang::Zh => format!("最多只能附 {MAX_EVIDENCE} 个文件"),
                            Lang::En => format!("at most {MAX_EVIDENCE} files may be attached"),
                        },
                    );
                }
                continue;
            }
            let stored = if too_large {
                Err(EvidenceError::TooLarge)
            } else {
                store_file(app, bytes).await
            };
            match stored {
                Ok((hash, _)) => {
                    if !up.evidence.contains(&hash) {
                        up.evidence.push(hash);
                    }
                }
                Err(e) => {
                    let shown = if file_name.is_empty() {
                        lang.pick("（未命名文件）", "(unnamed file)").to_string()
                    } else {
                        file_name
                    };
                    up.errors.add(
                        "evidence",
                        evidence_code(&e),
                        format!(
                            "{shown}{}{}",
                            lang.pick("：", ": "),
                            evidence_message(lang, &e)
                        ),
                    );
                }
            }
        } else {
            match read_bounded(field, MAX_TEXT_FIELD_BYTES).await {
                Ok((bytes, false)) => match String::from_utf8(bytes) {
                    Ok(text) => up.fields.set(&name, text),
                    Err(_) => up.errors.add(
                        &name,
                        "bad_format",
                        lang.pick("不是有效的 UTF-8 文本", "is not valid UTF-8 text"),
                    ),
                },
                Ok((_, true)) => {
                    up.errors
                        .add(&name, "too_long", lang.pick("内容过长", "is too long"))
                }
                Err(e) => {
                    up.errors
                        .add("form", "upload_failed", read_failed(lang, &e));
                    return up;
                }
            }
        }
    }
    up.errors.add(
        "form",
        "too_many_parts",
        lang.pick("表单字段过多", "the form has too many parts"),
    );
    up
}

/// Reads a part up to `max` bytes; past that it keeps reading (to reach
/// the next part) but drops the bytes and says so.
async fn read_bounded(
    mut field: Field<'_>,
    max: usize,
) -> Result<(Vec<u8>, bool), axum::extract::multipart::MultipartError> {
    let mut buf = Vec::new();
    let mut too_large = false;
    while let Some(chunk) = field.chunk().await? {
        if too_large || buf.len() + chunk.len() > max {
            too_large = true;
            buf = Vec::new();
        } else {
            buf.extend_from_slice(&chunk);
        }
    }
    Ok((buf, too_large))
}

fn read_failed(lang: Lang, e: &axum::extract::multipart::MultipartError) -> String {
    let limit = MAX_UPLOAD_BYTES / (1024 * 1024);
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        match lang {
            Lang::Zh => format!("上传内容合计超过 {limit} MB"),
            Lang::En => format!("the upload is larger than {limit} MB in total"),
        }
    } else {
        lang.pick(
            "上传中断或格式不正确",
            "the upload was cut off or malformed",
        )
        .to_string()
    }
}

/// A file name fit to show back: no paths, no control characters, short.
fn clean_file_name(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or("");
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    base.chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_FILE_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

async fn store_file(app: &AppState, bytes: Vec<u8>) -> Result<(Hash, Kind), EvidenceError> {
    let ev = app.evidence.clone();
    match tokio::task::spawn_blocking(move || ev.put(&bytes)).await {
        Ok(r) => r,
        Err(e) => Err(EvidenceError::Io(std::io::Error::other(e.to_string()))),
    }
}

fn evidence_code(e: &EvidenceError) -> &'static str {
    match e {
        EvidenceError::Empty => "empty_file",
        EvidenceError::TooLarge => "file_too_large",
        EvidenceError::Type => "file_type",
        EvidenceError::Io(_) => "storage_failed",
    }
}

fn evidence_message(lang: Lang, e: &EvidenceError) -> String {
    let mb = MAX_EVIDENCE_BYTES / (1024 * 1024);
    match (lang, e) {
        (Lang::Zh, EvidenceError::Empty) => "文件是空的".into(),
        (Lang::Zh, EvidenceError::TooLarge) => format!("文件超过 {mb} MB"),
        (Lang::Zh, EvidenceError::Type) => "只接受 PDF、PNG、JPEG 和 WebP 文件".into(),
        (Lang::Zh, EvidenceError::Io(_)) => "保存文件失败，请稍后再试".into(),
        (Lang::En, EvidenceError::Io(_)) => "storing the file failed; try again later".into(),
        (Lang::En, other) => other.to_string(),
    }
}

/// Evidence named by hash in a JSON write: each must be a file uploaded
/// before (`POST …/evidence`), at most [`MAX_EVIDENCE`], duplicates dropped.
pub async fn known_evidence(
    app: &AppState,
    lang: Lang,
    hexes: &[String],
    errors: &mut FormErrors,
) -> Vec<Hash> {
    if hexes.len() > MAX_EVIDENCE {
        errors.add(
            "evidence",
            "too_much_evidence",
            match lang {
                Lang::Zh => format!("最多只能附 {MAX_EVIDENCE} 个文件"),
                Lang::En => format!("at most {MAX_EVIDENCE} files may be attached"),
            },
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for hex in hexes {
        let Ok(h) = Hash::from_hex(hex) else {
            errors.add(
                "evidence",
                "bad_format",
                lang.pick(
                    "文件哈希应为 64 位小写十六进制",
                    "an evidence hash is 64 lowercase hexadecimal digits",
                ),
            );
            continue;
        };
        // `get` re-hashes the file: off the async threads.
        let ev = app.evidence.clone();
        let stored = tokio::task::spawn_blocking(move || ev.get(&h).is_some())
            .await
            .unwrap_or(false);
        if !stored {
            errors.add(
                "evidence",
                "unknown_evidence",
                match lang {
                    Lang::Zh => format!("没有上传过 SHA-256 为 {hex} 的文件"),
                    Lang::En => format!("no file with SHA-256 {hex} was uploaded"),
                },
            );
        } else if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

/// Moves ledger refusals whose code names a field of this form onto that
/// field, and anything the form has no field for onto `form` (shown at
/// the top of the page).
pub fn place_errors(mut fe: FormErrors, form_fields: &[&str]) -> FormErrors {
    for e in &mut fe.errors {
        let specific = match e.code.as_str() {
            "bad_account" | "bad_transfer" => Some("account"),
            "unexpected_period" => Some("category"),
            "bad_quote" => Some("quote"),
            code => {
                let f = rule_field(code);
                (f != "form" && e.field == "form").then_some(f)
            }
        };
        if let Some(f) = specific {
            if form_fields.contains(&f) {
                e.field = f.to_string();
            }
        }
        if !form_fields.contains(&e.field.as_str()) && e.field != "idempotency_key" {
            e.field = "form".into();
        }
    }
    fe
}

/// Appends one entry built by a staff workflow, under the idempotency key
/// from the header or the form, bound to the route and the entry as parsed.
pub async fn submit(
    app: &AppState,
    estate: &EstateRow,
    headers: &HeaderMap,
    form_key: Option<&str>,
    route: &str,
    body: Body,
) -> Result<(Appended, bool), StaffError> {
    let idem = idempotency(headers, form_key, request_digest(route, &body))?;
    let (appended, replayed) = append(app, estate, idem.as_ref(), vec![body.into()]).await?;
    match appended.into_iter().next() {
        Some(a) => Ok((a, replayed)),
        None => Err(StaffError::Store(StoreError::Integrity(
            "an append returned no entry".into(),
        ))),
    }
}

/// A staff workflow that records one entry from a multipart form (with
/// evidence files) and from its JSON twin: how to build the entry, how to
/// show the form again, and where the browser goes after success. The
/// income, claim and service-record workflows differ only in these.
pub struct EntryForm {
    /// Binds an idempotency key to this workflow.
    pub route: &'static str,
    /// The form's fields: refusals about anything else show at the top.
    pub fields: &'static [&'static str],
    pub build: fn(Lang, &Fields, Vec<Hash>, &mut FormErrors) -> Option<Body>,
    pub show: fn(&AppState, &Ctx, &EstateRow, FormView, StatusCode) -> Response,
    /// The page that shows what was recorded, from the estate and its seq.
    pub done: fn(&Slug, u64) -> String,
}

impl EntryForm {
    /// The form post: parse, store files, append, or show the form again
    /// with each refusal next to its field.
    pub async fn post_form(
        &self,
        app: &AppState,
        ctx: &Ctx,
        who: &Principal,
        slug: &str,
        headers: &HeaderMap,
        body: Result<Multipart, MultipartRejection>,
    ) -> Response {
        let (slug, row) = match super::open_for(app, who, slug, &[Role::Company]).await {
            Ok(v) => v,
            Err(e) => return super::home::page_error(app, ctx, e),
        };
        let mut up = read_upload(app, ctx.lang, body).await;
        let evidence = std::mem::take(&mut up.evidence);
        let entry = match (self.build)(ctx.lang, &up.fields, evidence, &mut up.errors) {
            Some(b) if up.errors.is_empty() => b,
            _ => {
                let f = FormView::refused(up.fields, place_errors(up.errors, self.fields));
                return (self.show)(app, ctx, &row, f, refusal_status(false));
            }
        };
        let key = up.fields.opt("idempotency_key").map(str::to_string);
        match submit(app, &row, headers, key.as_deref(), self.route, entry).await {
            Ok((a, _)) => see_other((self.done)(&slug, a.seq)),
            Err(e) => match e.into_fields(ctx.lang) {
                Ok(fe) => {
                    let f = FormView::refused(up.fields, place_errors(fe, self.fields));
                    (self.show)(app, ctx, &row, f, refusal_status(true))
                }
                Err(e) => super::home::page_error(app, ctx, e),
            },
        }
    }

    /// The JSON post: `fields_of` maps the strict request to the form's
    /// fields and the evidence hashes it names, which must be stored files.
    pub async fn post_json<R: DeserializeOwned>(
        &self,
        app: &AppState,
        who: &Principal,
        slug: &str,
        headers: &HeaderMap,
        body: &Bytes,
        fields_of: fn(R) -> (Fields, Vec<String>),
    ) -> Response {
        let (_, row) = match super::open_for(app, who, slug, &[Role::Company]).await {
            Ok(v) => v,
            Err(e) => return e.into_api(),
        };
        let req: R = match parse_json(body) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let (fields, hashes) = fields_of(req);
        let mut errors = FormErrors::default();
        let evidence = known_evidence(app, Lang::En, &hashes, &mut errors).await;
        let entry = match (self.build)(Lang::En, &fields, evidence, &mut errors) {
            Some(b) if errors.is_empty() => b,
            _ => return StaffError::Fields(errors).into_api(),
        };
        match submit(app, &row, headers, None, self.route, entry).await {
            Ok((a, replayed)) => created(&a, replayed),
            Err(e) => e.into_api(),
        }
    }
}

/// The JSON answer to an appended write.
pub fn created(a: &Appended, replayed: bool) -> Response {
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (
        status,
        Json(serde_json::json!({ "seq": a.seq, "hash": a.hash.to_hex(), "replayed": replayed })),
    )
        .into_response()
}

/// After a form write: see what was recorded.
pub fn see_other(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// A JSON request body, strictly: unknown fields and wrong types are 400.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("bad_json", format!("the request body is not valid: {e}"))
    })
}

async fn upload_api(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = super::open_for(&app, &who, &slug, &[Role::Company]).await {
        return e.into_api();
    }
    match store_file(&app, body.to_vec()).await {
        Ok((hash, kind)) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "sha256": hash.to_hex(), "type": kind.mime() })),
        )
            .into_response(),
        Err(e) => StaffError::Fields(FormErrors::one(
            "evidence",
            evidence_code(&e),
            evidence_message(Lang::En, &e),
        ))
        .into_api(),
    }
}

fn extension(kind: Kind) -> &'static str {
    match kind {
        Kind::Pdf => "pdf",
        Kind::Png => "png",
        Kind::Jpeg => "jpg",
        Kind::Webp => "webp",
    }
}

async fn serve(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((slug, sha256)): Path<(String, String)>,
) -> Response {
    let not_found = || ApiError::not_found("no such evidence file in this estate").into_response();
    let (slug, row) = match open_estate_even_frozen(&app, &slug).await {
        Ok(v) => v,
        Err(e) => return e.render(&ctx, &app, None),
    };
    let Ok(hash) = Hash::from_hex(&sha256) else {
        return not_found();
    };
    match app
        .store
        .with_state(&slug, |s| s.names_evidence(&hash))
        .await
    {
        Ok(true) => {}
        Ok(false) => return not_found(),
        Err(e) => return super::super::pages::PageError::Store(e).render(&ctx, &app, Some(&row)),
    }
    let ev = app.evidence.clone();
    let found = tokio::task::spawn_blocking(move || ev.get(&hash))
        .await
        .ok()
        .flatten();
    let Some((bytes, kind)) = found else {
        return not_found();
    };
    let disposition = format!("inline; filename=\"{sha256}.{}\"", extension(kind));
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // The name is the content: it never changes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}

/// What a form template shows: the values as submitted (so nothing typed
/// is lost), the refusals by field, and the form's idempotency key.
pub struct FormView {
    pub fields: Fields,
    pub errors: FormErrors,
    pub key: String,
}

impl FormView {
    /// A blank form with a fresh key.
    pub fn blank() -> FormView {
        FormView {
            fields: Fields::default(),
            errors: FormErrors::default(),
            key: super::new_form_key(),
        }
    }

    /// A submitted form shown again with its refusals, under the same key
    /// (a refused request recorded nothing under it). A key the store
    /// refused (malformed, or used before for another request) is replaced.
    pub fn refused(fields: Fields, errors: FormErrors) -> FormView {
        let key = fields
            .opt("idempotency_key")
            .filter(|_| errors.get("idempotency_key").is_none())
            .map(str::to_string)
            .unwrap_or_else(super::new_form_key);
        FormView {
            fields,
            errors,
            key,
        }
    }

    pub fn val(&self, name: &str) -> &str {
        self.fields.get(name)
    }

    pub fn err(&self, name: &str) -> Option<&str> {
        self.errors.get(name)
    }

    /// Every refusal for a field (a form may refuse several files).
    pub fn errs(&self, name: &str) -> Vec<&str> {
        self.errors
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
            .collect()
    }

    /// For `aria-invalid`.
    pub fn invalid(&self, name: &str) -> &'static str {
        if self.errors.get(name).is_some() {
            "true"
        } else {
            "false"
        }
    }

    pub fn is(&self, name: &str, value: &str) -> bool {
        self.fields.get(name) == value
    }

    /// Refusals not tied to a field the form shows.
    pub fn general(&self) -> Vec<&str> {
        self.errs("form")
            .into_iter()
            .chain(self.errs("idempotency_key"))
            .collect()
    }
}

/// The status for a refused form: 422 when the ledger refused it, 400
/// when the input did not parse.
pub fn refusal_status(ledger: bool) -> StatusCode {
    if ledger {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::BAD_REQUEST
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_shown_without_paths_or_controls() {
        assert_eq!(clean_file_name(Some("C:\\Users\\a\\发票.pdf")), "发票.pdf");
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_file_name(Some("a\u{202E}fdp.exe\n")), "afdp.exe");
        assert_eq!(clean_file_name(None), "");
        assert_eq!(
            clean_file_name(Some(&"x".repeat(500))).chars().count(),
            MAX_FILE_NAME_CHARS
        );
    }

    #[test]
    fn ledger_refusals_land_on_a_field_the_form_has() {
        let fe = FormErrors::one("form", "bad_account", "remuneration is paid from operating");
        let placed = place_errors(fe.clone(), &["account", "amount"]);
        assert_eq!(placed.errors[0].field, "account");
        let placed = place_errors(fe, &["amount"]);
        assert_eq!(
            placed.errors[0].field, "form",
            "no such field: shown on top"
        );
        let fe = FormErrors::one("amount", "above_entitlement", "too much");
        assert_eq!(place_errors(fe, &["amount"]).errors[0].field, "amount");
        let fe = FormErrors::one("idempotency_key", "idempotency_key_reused", "x");
        assert_eq!(
            place_errors(fe, &["amount"]).errors[0].field,
            "idempotency_key"
        );
    }
}
