//! Importing a bank's CSV statement: upload, a preview with a verdict per
//! row (stored in `imports`, nothing appended), then one commit that
//! re-checks every row against the log as it is now and appends all taken
//! rows in one all-or-nothing append. The file format is documented in
//! [`crate::ledger::bank_csv`] and on the upload page.
//!
//! A commit appends under the server's own idempotency key
//! ([`Idempotency::internal`] `import:{id}`), so two racing
//! commits of one preview append once; the preview is then marked
//! committed and any later commit is refused (unless it repeats the
//! `Idempotency-Key` of the commit that succeeded, which gets its result).

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::body::{Body as HttpBody, Bytes, HttpBody as _};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::super::auth::Principal;
use super::super::pages::{render, render_status, Chrome, Ctx, Lang};
use super::home::page_error;
use super::payments::today;
use super::{append, new_form_key, open_for, request_digest, StaffError};
use crate::domain::{BankRef, Period, Slug, Timestamp, UnitCommitment, UnitId};
use crate::http::{ApiError, AppState};
use crate::ledger::bank_csv::{self, Checked, Encoding, FileError, Row, MAX_FILE_BYTES};
use crate::ledger::{Body, Role};
use crate::store::{Draft, EstateRow, Idempotency, ImportRow, StoreError};

/// Largest upload body: the file plus room for the multipart framing and
/// the other fields.
pub const MAX_UPLOAD_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;
/// How much of an oversized upload is read and thrown away so the client,
/// still sending, gets the 413 answer instead of a reset connection.
const MAX_DRAIN_BYTES: u64 = 128 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/estates/{slug}/staff/import",
            get(upload_page).post(upload_form),
        )
        .route("/estates/{slug}/staff/import/{id}", get(preview_page))
        .route(
            "/estates/{slug}/staff/import/{id}/commit",
            post(commit_form),
        )
        .route("/api/v1/estates/{slug}/imports", post(upload_api))
        .route(
            "/api/v1/estates/{slug}/imports/{id}/commit",
            post(commit_api),
        )
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

/// A stored preview: the rows as read and each verdict.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Report {
    period: String,
    encoding: String,
    rows: Vec<ReportRow>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct ReportRow {
    #[serde(flatten)]
    row: Row,
    /// `taken` or `refused`.
    verdict: String,
    field: Option<String>,
    code: Option<String>,
    /// English; Chinese comes from the code.
    message: Option<String>,
}

impl Report {
    fn build(period: Period, encoding: Encoding, checked: &[Checked]) -> Report {
        Report {
            period: period.to_string(),
            encoding: encoding.as_str().into(),
            rows: checked
                .iter()
                .map(|c| match &c.verdict {
                    Ok(_) => ReportRow {
                        row: c.row.clone(),
                        verdict: "taken".into(),
                        field: None,
                        code: None,
                        message: None,
                    },
                    Err(r) => ReportRow {
                        row: c.row.clone(),
                        verdict: "refused".into(),
                        field: Some(r.field.into()),
                        code: Some(r.code.into()),
                        message: Some(r.message.clone()),
                    },
                })
                .collect(),
        }
    }

    fn taken(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict == "taken").count()
    }

    fn json(&self, id: &str, committed: Option<&Committed>) -> serde_json::Value {
        serde_json::json!({
            "id": id,
            "period": self.period,
            "encoding": self.encoding,
            "taken": self.taken(),
            "refused": self.rows.len() - self.taken(),
            "rows": self.rows,
            "committed": committed.map(|c| &c.seqs),
        })
    }
}

/// What a commit appended, stored with the preview.
#[derive(Serialize, Deserialize, Clone, Debug)]
struct Committed {
    seqs: Vec<u64>,
    /// The client's `Idempotency-Key`, if it sent one.
    client_key: Option<String>,
}

/// Checks rows against the estate as it is now. Returns the verdicts and
/// the unit id → commitment map they were checked with.
async fn check_rows(
    app: &AppState,
    slug: &Slug,
    period: Period,
    rows: &[Row],
) -> Result<(Vec<Checked>, BTreeMap<String, String>), StaffError> {
    let units = app.store.unit_commitments(slug).await?;
    let refs: Vec<BankRef> = rows
        .iter()
        .filter_map(|r| BankRef::parse("reference", &r.reference).ok())
        .collect();
    let taken = app.store.bank_refs_taken(slug, &refs).await?;
    let today = today(app, slug).await?;
    let is_unit = |u: &UnitId| units.contains_key(u.as_str());
    let cx = bank_csv::Context {
        period,
        today,
        is_unit: &is_unit,
        taken: &taken,
    };
    let checked = bank_csv::check(rows, &cx);
    Ok((checked, units))
}

/// Why an upload was refused as a whole.
enum UploadError {
    File(FileError),
    Field(&'static str, &'static str, &'static str, &'static str),
    Staff(StaffError),
}

impl From<StaffError> for UploadError {
    fn from(e: StaffError) -> Self {
        UploadError::Staff(e)
    }
}

impl From<StoreError> for UploadError {
    fn from(e: StoreError) -> Self {
        UploadError::Staff(StaffError::Store(e))
    }
}

impl UploadError {
    fn status(&self) -> StatusCode {
        match self {
            UploadError::File(FileError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::File(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UploadError::Field(..) => StatusCode::BAD_REQUEST,
            UploadError::Staff(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn field(&self) -> &'static str {
        match self {
            UploadError::File(_) => "file",
            UploadError::Field(f, ..) => f,
            UploadError::Staff(_) => "form",
        }
    }

    fn code(&self) -> &'static str {
        match self {
            UploadError::File(f) => f.code(),
            UploadError::Field(_, c, ..) => c,
            UploadError::Staff(_) => "internal",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match self {
            UploadError::File(f) => match lang {
                Lang::Zh => format!("{}（{}）", f.message_zh(), f.message_en()),
                Lang::En => f.message_en(),
            },
            UploadError::Field(_, _, zh, en) => lang.pick(zh, en).to_string(),
            UploadError::Staff(_) => String::new(),
        }
    }
}

/// Reads a request body up to `limit` bytes. Past it, reads on (and throws
/// away) up to [`MAX_DRAIN_BYTES`] so the answer reaches the client.
async fn read_capped(body: HttpBody, limit: usize) -> Result<Bytes, FileError> {
    let mut body = body;
    let mut buf: Vec<u8> = Vec::new();
    let mut over = false;
    let mut drained: u64 = 0;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(frame) = frame else { break };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if over {
            drained += data.len() as u64;
            if drained > MAX_DRAIN_BYTES {
                break;
            }
        } else if buf.len() + data.len() > limit {
            over = true;
            buf = Vec::new();
        } else {
            buf.extend_from_slice(&data);
        }
    }
    if over {
        Err(FileError::TooLarge)
    } else {
        Ok(Bytes::from(buf))
    }
}

struct Upload {
    period: Period,
    encoding: Encoding,
    file: Bytes,
}

fn parse_period(text: &str) -> Result<Period, UploadError> {
    Period::parse("period", text).map_err(|_| {
        UploadError::Field(
            "period",
            "bad_format",
            "请选择月份（例如 2026-11）",
            "choose a month (like 2026-11)",
        )
    })
}

fn parse_encoding(text: &str) -> Result<Encoding, UploadError> {
    Encoding::parse(if text.trim().is_empty() {
        "utf-8"
    } else {
        text
    })
    .ok_or(UploadError::Field(
        "encoding",
        "unsupported",
        "编码只能是 UTF-8 或 GB18030",
        "encoding must be utf-8 or gb18030",
    ))
}

async fn read_multipart(app: &AppState, req: Request) -> Result<Upload, UploadError> {
    let (parts, body) = req.into_parts();
    let bytes = read_capped(body, MAX_UPLOAD_BYTES)
        .await
        .map_err(UploadError::File)?;
    let req = Request::from_parts(parts, HttpBody::from(bytes));
    let bad = || {
        UploadError::Field(
            "file",
            "bad_upload",
            "上传的表单无法读取，请重新选择文件上传",
            "the upload could not be read; choose the file and upload again",
        )
    };
    let mut form = Multipart::from_request(req, app).await.map_err(|_| bad())?;
    let (mut period, mut encoding, mut file) = (String::new(), String::new(), None);
    while let Some(field) = form.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or("").to_string();
        let data = field.bytes().await.map_err(|_| bad())?;
        match name.as_str() {
            "period" => period = String::from_utf8_lossy(&data).into_owned(),
            "encoding" => encoding = String::from_utf8_lossy(&data).into_owned(),
            "file" => file = Some(data),
            _ => {}
        }
    }
    let period = parse_period(&period)?;
    let encoding = parse_encoding(&encoding)?;
    let file = file.ok_or(UploadError::Field(
        "file",
        "empty",
        "请选择要导入的 CSV 文件",
        "choose the CSV file to import",
    ))?;
    if file.len() > MAX_FILE_BYTES {
        return Err(UploadError::File(FileError::TooLarge));
    }
    Ok(Upload {
        period,
        encoding,
        file,
    })
}

/// Reads, checks and stores a preview; returns its id and report.
async fn preview(
    app: &AppState,
    who: &Principal,
    slug: &Slug,
    upload: Upload,
) -> Result<(String, Report), UploadError> {
    let rows = bank_csv::read(&upload.file, upload.encoding).map_err(UploadError::File)?;
    let (checked, _) = check_rows(app, slug, upload.period, &rows).await?;
    let report = Report::build(upload.period, upload.encoding, &checked);
    let id = new_form_key();
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &upload.file));
    let text = serde_json::to_string(&report)
        .map_err(|e| StoreError::BadRequest(format!("report: {e}")))?;
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    app.store
        .create_import(slug, &id, who.user.id, &sha, &text, now)
        .await?;
    Ok((id, report))
}

#[derive(Template)]
#[template(path = "staff/import.html")]
struct UploadPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    period: String,
    encoding: String,
    error_field: &'static str,
    error: Option<String>,
    max_mib: usize,
    max_rows: usize,
}

async fn show_upload(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    row: &EstateRow,
    error: Option<&UploadError>,
) -> Response {
    let period = match today(app, slug).await {
        Ok(d) => d.period().to_string(),
        Err(_) => String::new(),
    };
    let page = UploadPage {
        c: ctx.chrome(app, Some(row), ""),
        lang: ctx.lang,
        slug: slug.to_string(),
        period,
        encoding: "utf-8".into(),
        error_field: error.map(|e| e.field()).unwrap_or(""),
        error: error.map(|e| e.message(ctx.lang)),
        max_mib: MAX_FILE_BYTES >> 20,
        max_rows: bank_csv::MAX_ROWS,
    };
    match render(&page, ctx) {
        Ok(mut r) => {
            if let Some(e) = error {
                *r.status_mut() = e.status();
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn upload_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok((slug, row)) => show_upload(&app, &ctx, &slug, &row, None).await,
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn upload_form(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    let (slug, row) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => {
            // Still read the body, so the refusal reaches the client.
            let _ = read_capped(req.into_body(), 0).await;
            return page_error(&app, &ctx, e);
        }
    };
    let result = match read_multipart(&app, req).await {
        Ok(upload) => preview(&app, &who, &slug, upload).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((id, _)) => Redirect::to(&format!("/estates/{slug}/staff/import/{id}")).into_response(),
        Err(UploadError::Staff(e)) => page_error(&app, &ctx, e),
        Err(e) => show_upload(&app, &ctx, &slug, &row, Some(&e)).await,
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    period: Option<String>,
    encoding: Option<String>,
}

fn upload_api_error(e: UploadError) -> Response {
    match e {
        UploadError::Staff(s) => s.into_api(),
        other => {
            let body = serde_json::json!({ "error": {
                "code": other.code(),
                "message": other.message(Lang::En),
                "fields": [{ "field": other.field(), "code": other.code(), "message": other.message(Lang::En) }],
            }});
            (other.status(), Json(body)).into_response()
        }
    }
}

async fn upload_api(
    State(app): State<AppState>,
    who: Principal,
    Path(slug): Path<String>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Response {
    let (slug, _) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => {
            let _ = read_capped(req.into_body(), 0).await;
            return e.into_api();
        }
    };
    let file = match read_capped(req.into_body(), MAX_FILE_BYTES).await {
        Ok(b) => b,
        Err(e) => return upload_api_error(UploadError::File(e)),
    };
    let upload = match (
        parse_period(q.period.as_deref().unwrap_or("")),
        parse_encoding(q.encoding.as_deref().unwrap_or("")),
    ) {
        (Ok(period), Ok(encoding)) => Upload {
            period,
            encoding,
            file,
        },
        (Err(e), _) | (_, Err(e)) => return upload_api_error(e),
    };
    match preview(&app, &who, &slug, upload).await {
        Ok((id, report)) => (StatusCode::CREATED, Json(report.json(&id, None))).into_response(),
        Err(e) => upload_api_error(e),
    }
}

/// A stored preview of this estate, decoded.
async fn load(
    app: &AppState,
    slug: &Slug,
    id: &str,
) -> Result<(ImportRow, Report, Option<Committed>), StaffError> {
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StaffError::Store(StoreError::NotFound("import".into())));
    }
    let row = app
        .store
        .import(slug, id)
        .await?
        .ok_or_else(|| StaffError::Store(StoreError::NotFound("import".into())))?;
    let bad = |e: serde_json::Error| {
        StaffError::Store(StoreError::Integrity(format!("stored import report: {e}")))
    };
    let report: Report = serde_json::from_str(&row.report).map_err(bad)?;
    let committed = match &row.result {
        Some(r) => Some(serde_json::from_str(r).map_err(bad)?),
        None => None,
    };
    Ok((row, report, committed))
}

#[derive(Template)]
#[template(path = "staff/import_preview.html")]
struct PreviewPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    id: String,
    report: Report,
    taken: usize,
    committed: Option<Vec<u64>>,
    /// Why the last commit was refused, if it was.
    refusal: Option<String>,
    idempotency_key: String,
}

impl PreviewPage {
    fn reason(&self, r: &ReportRow) -> String {
        match (&r.code, &r.message) {
            (Some(code), Some(en)) => match self.lang {
                Lang::Zh => format!("{}（{}）", bank_csv::refusal_zh(code), en),
                Lang::En => en.clone(),
            },
            _ => String::new(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn show_preview(
    app: &AppState,
    ctx: &Ctx,
    slug: &Slug,
    estate: &EstateRow,
    id: &str,
    report: Report,
    committed: Option<Vec<u64>>,
    refusal: Option<String>,
    status: StatusCode,
) -> Response {
    let page = PreviewPage {
        c: ctx.chrome(app, Some(estate), ""),
        lang: ctx.lang,
        slug: slug.to_string(),
        id: id.to_string(),
        taken: report.taken(),
        report,
        committed,
        refusal,
        idempotency_key: new_form_key(),
    };
    render_status(&page, ctx, status)
}

async fn preview_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let (slug, estate) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    match load(&app, &slug, &id).await {
        Ok((_, report, committed)) => show_preview(
            &app,
            &ctx,
            &slug,
            &estate,
            &id,
            report,
            committed.map(|c| c.seqs),
            None,
            StatusCode::OK,
        ),
        Err(e) => page_error(&app, &ctx, e),
    }
}

/// How a commit ended.
enum CommitOutcome {
    Done {
        seqs: Vec<u64>,
        replayed: bool,
    },
    AlreadyCommitted,
    NothingTaken,
    /// A row taken at preview is refused now; nothing was appended.
    Stale(Report),
}

async fn commit(
    app: &AppState,
    slug: &Slug,
    estate: &EstateRow,
    id: &str,
    client_key: Option<String>,
) -> Result<(CommitOutcome, Report), StaffError> {
    let (_, report, committed) = load(app, slug, id).await?;
    if let Some(c) = committed {
        return Ok((already(c, client_key.as_deref()), report));
    }
    let period = Period::parse("period", &report.period)
        .map_err(|e| StaffError::Store(StoreError::Integrity(e.message)))?;
    let encoding = Encoding::parse(&report.encoding).unwrap_or(Encoding::Utf8);
    let rows: Vec<Row> = report.rows.iter().map(|r| r.row.clone()).collect();
    let was_taken: BTreeSet<usize> = report
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.verdict == "taken")
        .map(|(i, _)| i)
        .collect();
    if was_taken.is_empty() {
        return Ok((CommitOutcome::NothingTaken, report));
    }
    let (checked, units) = check_rows(app, slug, period, &rows).await?;
    let now_report = Report::build(period, encoding, &checked);
    if was_taken.iter().any(|i| checked[*i].verdict.is_err()) {
        if let Ok(text) = serde_json::to_string(&now_report) {
            app.store.update_import_report(slug, id, &text).await?;
        }
        return Ok((CommitOutcome::Stale(now_report.clone()), now_report));
    }
    let mut drafts = Vec::with_capacity(was_taken.len());
    for i in &was_taken {
        let Ok(p) = &checked[*i].verdict else {
            continue;
        };
        let commitment = units
            .get(p.unit.as_str())
            .and_then(|c| UnitCommitment::parse("unit", c).ok())
            .ok_or_else(|| StaffError::Store(StoreError::Integrity("unit row".into())))?;
        drafts.push(Draft {
            body: Body::FeePaid {
                unit: commitment,
                amount: p.amount,
                paid_on: p.paid_on,
                method: p.method,
                bank_ref: None,
                postings: vec![],
            },
            unit: None,
            at: None,
            bank_ref: p.reference.clone(),
        });
    }
    let digest = request_digest(&format!("imports/{id}/commit"), &rows);
    let idem = Idempotency::internal(&format!("import:{id}"), digest);
    let appended = match append(app, estate, Some(&idem), drafts).await {
        Ok((appended, false)) => appended,
        Ok((_, true)) | Err(StaffError::Store(StoreError::IdempotencyMismatch(_))) => {
            // Another commit of this preview got there first.
            let (_, report, committed) = load(app, slug, id).await?;
            return Ok(match committed {
                Some(c) => (already(c, client_key.as_deref()), report),
                None => (CommitOutcome::AlreadyCommitted, report),
            });
        }
        Err(StaffError::Store(StoreError::DuplicateBankRef { .. }))
        | Err(StaffError::Store(StoreError::Rule(_))) => {
            // The log moved between the check and the append: check again.
            let (checked, _) = check_rows(app, slug, period, &rows).await?;
            let fresh = Report::build(period, encoding, &checked);
            if let Ok(text) = serde_json::to_string(&fresh) {
                app.store.update_import_report(slug, id, &text).await?;
            }
            return Ok((CommitOutcome::Stale(fresh.clone()), fresh));
        }
        Err(e) => return Err(e),
    };
    let seqs: Vec<u64> = appended.iter().map(|a| a.seq).collect();
    let result = Committed {
        seqs: seqs.clone(),
        client_key,
    };
    let text = serde_json::to_string(&result)
        .map_err(|e| StaffError::Store(StoreError::BadRequest(e.to_string())))?;
    let now = Timestamp::now().map_err(|e| StaffError::Store(StoreError::BadRequest(e.message)))?;
    app.store
        .mark_import_committed(slug, id, &text, now)
        .await?;
    Ok((
        CommitOutcome::Done {
            seqs,
            replayed: false,
        },
        now_report,
    ))
}

/// A commit of a committed preview: its result again for the same client
/// key, refused otherwise.
fn already(c: Committed, client_key: Option<&str>) -> CommitOutcome {
    match (client_key, c.client_key.as_deref()) {
        (Some(k), Some(first)) if k == first => CommitOutcome::Done {
            seqs: c.seqs,
            replayed: true,
        },
        _ => CommitOutcome::AlreadyCommitted,
    }
}

async fn commit_form(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let (slug, estate) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let lang = ctx.lang;
    match commit(&app, &slug, &estate, &id, None).await {
        Ok((CommitOutcome::Done { .. }, _)) => {
            Redirect::to(&format!("/estates/{slug}/staff/import/{id}")).into_response()
        }
        Ok((CommitOutcome::AlreadyCommitted, report)) => {
            let committed = load(&app, &slug, &id)
                .await
                .ok()
                .and_then(|(_, _, c)| c.map(|c| c.seqs));
            let msg = lang.pick(
                "这份导入已经确认过，不能再次确认",
                "this import was already committed; it cannot be committed again",
            );
            show_preview(
                &app,
                &ctx,
                &slug,
                &estate,
                &id,
                report,
                committed,
                Some(msg.into()),
                StatusCode::CONFLICT,
            )
        }
        Ok((CommitOutcome::NothingTaken, report)) => {
            let msg = lang.pick("没有可以导入的行", "no row can be imported");
            show_preview(
                &app,
                &ctx,
                &slug,
                &estate,
                &id,
                report,
                None,
                Some(msg.into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok((CommitOutcome::Stale(report), _)) => {
            let msg = lang.pick(
                "预览之后账本有了变化，有的行现在不能导入；什么都没有记录。请查看下面的新结果后重新确认。",
                "the ledger changed since the preview and some rows can no longer be taken; nothing was recorded. Check the new verdicts below and commit again.",
            );
            show_preview(
                &app,
                &ctx,
                &slug,
                &estate,
                &id,
                report,
                None,
                Some(msg.into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn commit_api(
    State(app): State<AppState>,
    who: Principal,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (slug, estate) = match open_for(&app, &who, &slug, &[Role::Company]).await {
        Ok(v) => v,
        Err(e) => return e.into_api(),
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if let Some(k) = &key {
        if Idempotency::new(k, crate::tlog::Hash::default()).is_err() {
            return ApiError::bad_request(
                "bad_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
            )
            .into_response();
        }
    }
    let refuse =
        |status: StatusCode, code: &'static str, message: &str, report: Option<&Report>| {
            let mut body = serde_json::json!({ "error": { "code": code, "message": message } });
            if let Some(r) = report {
                body["report"] = r.json(&id, None);
            }
            (status, Json(body)).into_response()
        };
    match commit(&app, &slug, &estate, &id, key).await {
        Ok((CommitOutcome::Done { seqs, replayed }, _)) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "id": id, "seqs": seqs, "replayed": replayed })),
        )
            .into_response(),
        Ok((CommitOutcome::AlreadyCommitted, _)) => refuse(
            StatusCode::CONFLICT,
            "already_committed",
            "this import was already committed",
            None,
        ),
        Ok((CommitOutcome::NothingTaken, _)) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing_to_import",
            "no row of this import can be taken",
            None,
        ),
        Ok((CommitOutcome::Stale(report), _)) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_stale",
            "the ledger changed since the preview; some rows can no longer be taken and nothing was recorded",
            Some(&report),
        ),
        Err(e) => e.into_api(),
    }
}
