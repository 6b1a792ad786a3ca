//! The property company's, committee's and admin's pages and write API:
//! what every staff route shares. Each workflow lives in its own module.
//!
//! Every route here takes a [`Principal`] (so it needs a session or token)
//! and checks role and estate with [`open_for`] before reading anything.
//! Writes go through [`append`], which signs with the estate's log key and
//! honours an idempotency key; refusals are [`FormErrors`] naming the field,
//! in the reader's language.

pub mod admin;
pub mod approvals;
pub mod billing;
pub mod claims;
pub mod corrections;
pub mod evidence;
pub mod handover;
pub mod home;
pub mod import;
pub mod income;
pub mod payments;
pub mod policy;
pub mod remuneration;
pub mod services;
pub mod signing_key;
pub mod tokens;
pub mod witness;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;

use super::auth::{AuthError, Principal};
use super::pages::Lang;
use super::{ApiError, AppState};
use crate::domain::{DomainError, Slug, Timestamp};
use crate::ledger::{Role, RuleError};
use crate::store::{Appended, Draft, EstateRow, Idempotency, StoreError};
use crate::tlog::{record_hash, Hash};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(admin::router())
        .merge(handover::router())
        .merge(tokens::router())
        .merge(billing::router())
        .merge(payments::router())
        .merge(import::router())
        .merge(evidence::router())
        .merge(income::router())
        .merge(claims::router())
        .merge(services::router())
        .merge(remuneration::router())
        .merge(corrections::router())
        .merge(witness::router())
        .merge(approvals::router())
        .merge(signing_key::router())
        .merge(policy::router())
}

/// Largest form or JSON body a staff write accepts (evidence uploads and
/// CSV imports set their own, larger limits).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Why a staff request was refused: the whole request (not found, no
/// right), or particular fields, each with a message in the reader's
/// language.
#[derive(Debug)]
pub enum StaffError {
    Auth(AuthError),
    NotFound,
    Fields(FormErrors),
    Store(StoreError),
}

impl From<AuthError> for StaffError {
    fn from(e: AuthError) -> StaffError {
        StaffError::Auth(e)
    }
}

impl From<FormErrors> for StaffError {
    fn from(e: FormErrors) -> StaffError {
        StaffError::Fields(e)
    }
}

impl From<StoreError> for StaffError {
    fn from(e: StoreError) -> StaffError {
        StaffError::Store(e)
    }
}

/// Field-level refusals: `(field, stable code, message)`, in the order found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FormErrors {
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: message.into(),
        });
    }

    /// A parse refusal, translated.
    pub fn domain(&mut self, lang: Lang, e: &DomainError) {
        self.add(&e.field, e.code, domain_message(lang, e));
    }

    /// Keeps the value if it parsed, records the refusal if not.
    pub fn take<T>(&mut self, lang: Lang, r: Result<T, DomainError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.domain(lang, &e);
                None
            }
        }
    }

    /// The message for one field, for showing next to it.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// `Err(self)` if anything was refused.
    pub fn check(self) -> Result<(), FormErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    pub fn one(field: &str, code: &str, message: impl Into<String>) -> FormErrors {
        let mut e = FormErrors::default();
        e.add(field, code, message);
        e
    }
}

/// A domain refusal in the reader's language. The English message already
/// says exactly what is wrong; Chinese gets the same by code.
pub fn domain_message(lang: Lang, e: &DomainError) -> String {
    use crate::domain::code;
    if lang == Lang::En {
        return e.message.clone();
    }
    let zh = match e.code {
        code::EMPTY => "不能为空",
        code::NEGATIVE => "不能为负数",
        code::ZERO => "必须大于零",
        code::NOT_A_NUMBER => "不是有效的数字",
        code::TOO_MANY_DECIMALS => "小数位数过多（金额最多两位小数）",
        code::TOO_LARGE => "数值过大",
        code::LEADING_ZERO => "数字不能以 0 开头",
        code::TOO_LONG => "内容过长",
        code::TOO_SHORT => "内容过短",
        code::CONTROL_CHARACTER => "含有控制字符或换行",
        code::BIDI_CONTROL => "含有不可见的文字方向字符",
        code::BAD_FORMAT => "格式不正确",
        code::OUT_OF_RANGE => "超出允许范围",
        code::UNSUPPORTED => "不是可选的值",
        _ => return e.message.clone(),
    };
    format!("{zh}（{}）", e.message)
}

/// A ledger refusal in the reader's language, for the codes staff meet.
pub fn rule_message(lang: Lang, e: &RuleError) -> String {
    if lang == Lang::En {
        return e.message.clone();
    }
    let zh = match e.code {
        "already_charged" => "该月份已经收过费，不能重复收费",
        "no_units" => "还没有登记任何房屋",
        "future_period" | "month_not_over" => "该月份尚未开始或尚未结束",
        "unknown_unit" => "没有这个房屋",
        "above_entitlement" | "remuneration_exceeded" => "超过了该月可领取的酬金",
        "insufficient_funds" => "资金账户余额不足",
        "already_corrected" => "该条目已经冲正过，不能重复冲正",
        "not_correctable" => "该类条目不能冲正",
        "unknown_record" => "没有这条服务记录",
        "record_paid" => "该服务记录已经关联了付款申请",
        "voided_record" => "该服务记录已被冲正作废",
        "missing_period" => "酬金申请必须注明月份",
        "no_policy" => "本小区尚未设定审批规则",
        "bad_amount" => "金额不正确",
        "too_much_evidence" => "附件过多",
        "bad_transfer" => "转账的目标账户不正确",
        _ => return format!("账本拒绝了此操作：{}", e.message),
    };
    format!("{zh}（{}）", e.message)
}

/// Which form field a ledger refusal is about, so a page can show it there.
pub fn rule_field(code: &str) -> &'static str {
    match code {
        "already_charged" | "future_period" | "month_not_over" | "missing_period" => "period",
        "unknown_unit" => "unit",
        "above_entitlement" | "remuneration_exceeded" | "insufficient_funds" | "bad_amount" => {
            "amount"
        }
        "already_corrected" | "not_correctable" => "corrects",
        "unknown_record" | "record_paid" | "voided_record" => "service_record",
        "too_much_evidence" => "evidence",
        _ => "form",
    }
}

impl StaffError {
    /// The refusal as field errors (for re-showing a form), if it is one.
    pub fn into_fields(self, lang: Lang) -> Result<FormErrors, StaffError> {
        match self {
            StaffError::Fields(f) => Ok(f),
            StaffError::Store(StoreError::Rule(r)) => Ok(FormErrors::one(
                rule_field(r.code),
                r.code,
                rule_message(lang, &r),
            )),
            StaffError::Store(StoreError::DuplicateBankRef { reference, seq }) => {
                Ok(FormErrors::one(
                    "reference",
                    "duplicate_bank_ref",
                    match lang {
                        Lang::Zh => format!("银行流水号 {reference} 已经记录过（条目 #{seq}）"),
                        Lang::En => {
                            format!("bank reference {reference} is already recorded (entry #{seq})")
                        }
                    },
                ))
            }
            StaffError::Store(StoreError::IdempotencyMismatch(key)) => Ok(FormErrors::one(
                "idempotency_key",
                "idempotency_key_reused",
                match lang {
                    Lang::Zh => format!("幂等键 {key} 已用于另一份不同的请求"),
                    Lang::En => {
                        format!("Idempotency-Key {key} was already used with a different request")
                    }
                },
            )),
            other => Err(other),
        }
    }

    /// The JSON answer for `/api/v1`: field errors as a list, so a client
    /// can point at the field; English messages.
    pub fn into_api(self) -> Response {
        match self.into_fields(Lang::En) {
            Ok(fields) => {
                let first = fields.errors.first().cloned();
                let status = match first.as_ref().map(|f| f.code.as_str()) {
                    Some("duplicate_bank_ref") => StatusCode::CONFLICT,
                    Some("idempotency_key_reused") => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let (code, message) = first
                    .map(|f| (f.code, format!("{}: {}", f.field, f.message)))
                    .unwrap_or_else(|| ("invalid".into(), "invalid request".into()));
                let body = serde_json::json!({
                    "error": { "code": code, "message": message, "fields": fields.errors }
                });
                (status, axum::Json(body)).into_response()
            }
            Err(StaffError::Auth(e)) => {
                let (status, code, message) = match e {
                    AuthError::SignIn => (
                        StatusCode::UNAUTHORIZED,
                        "sign_in_required",
                        "send a valid API token",
                    ),
                    AuthError::Forbidden => (
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "your account has no role here that allows this",
                    ),
                    AuthError::CrossSite => (
                        StatusCode::FORBIDDEN,
                        "cross_site_request",
                        "cross-site request refused",
                    ),
                };
                ApiError {
                    status,
                    code,
                    message: message.into(),
                }
                .into_response()
            }
            Err(StaffError::NotFound) => ApiError::not_found("no such estate").into_response(),
            Err(StaffError::Store(e)) => ApiError::from(e).into_response(),
            Err(StaffError::Fields(_)) => unreachable_fields(),
        }
    }
}

fn unreachable_fields() -> Response {
    // `into_fields` turns every `Fields` into `Ok`; kept total without panicking.
    ApiError::bad_request("invalid", "invalid request").into_response()
}

/// Opens an estate for a staff route: it must exist and the principal must
/// hold one of `roles` in it. A staff member of one estate gets the same
/// 403 for every other estate, whether it exists or not.
pub async fn open_for(
    app: &AppState,
    who: &Principal,
    slug: &str,
    roles: &[Role],
) -> Result<(Slug, EstateRow), StaffError> {
    let parsed = Slug::parse("slug", slug).map_err(|_| StaffError::Auth(AuthError::Forbidden))?;
    who.require(parsed.as_str(), roles)?;
    match app.store.estate(&parsed).await? {
        Some(row) => Ok((parsed, row)),
        None => Err(StaffError::NotFound),
    }
}

/// Appends through the store with the estate's log key, now, under an
/// optional idempotency key. Returns the entries and whether they are a
/// replay of an earlier request with the same key.
pub async fn append(
    app: &AppState,
    estate: &EstateRow,
    idem: Option<&Idempotency>,
    drafts: Vec<Draft>,
) -> Result<(Vec<Appended>, bool), StaffError> {
    let slug = Slug::parse("slug", &estate.slug).map_err(|_| StaffError::NotFound)?;
    let log = app.keys.load(&slug, &estate.origin).map_err(|e| {
        tracing::error!(error = %e, "log key unavailable");
        StaffError::Store(StoreError::Integrity(format!(
            "the estate's log key is unavailable: {e}"
        )))
    })?;
    let now = Timestamp::now().map_err(|e| StaffError::Store(StoreError::BadRequest(e.message)))?;
    Ok(app
        .store
        .append_idempotent(&slug, idem, drafts, now, &log)
        .await?)
}

/// The digest an idempotency key is bound to: the route and the request
/// as the handler parsed it (so field order or whitespace in the body does
/// not matter, but any different value does).
pub fn request_digest(route: &str, request: &impl Serialize) -> Hash {
    let body = serde_json::to_string(request).unwrap_or_default();
    record_hash(format!("{route}\n{body}").as_bytes())
}

/// The `Idempotency-Key` header, or a form's hidden `idempotency_key`
/// field (every money-moving form carries one, so a double click or a
/// resubmitted page records nothing twice).
pub fn idempotency(
    headers: &HeaderMap,
    form_key: Option<&str>,
    digest: Hash,
) -> Result<Option<Idempotency>, FormErrors> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .or(form_key)
        .map(str::trim)
        .filter(|k| !k.is_empty());
    match key {
        None => Ok(None),
        Some(k) => Idempotency::new(k, digest)
            .map(Some)
            .map_err(|e| FormErrors::one("idempotency_key", "bad_idempotency_key", e.to_string())),
    }
}

/// A fresh random key for a form to carry.
pub fn new_form_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}
