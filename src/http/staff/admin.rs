//! Platform administration: create an estate (its first ledger entries and
//! log key), register units with fresh unit secrets and print their codes,
//! and enrol members (an account, a role, and, with a key, a ledger entry).
//!
//! Admins move no money: these routes need `is_admin`, and no estate role
//! is implied by it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::home::page_error;
use super::policy::{parse_policy, PolicyFields};
use super::{append, FormErrors, StaffError};
use crate::auth::Password;
use crate::domain::{
    Area, EstateTz, MemberId, Name, Rate, Ratio, Slug, Timestamp, UnitCommitment, UnitId,
    UnitSecret,
};
use crate::http::auth::Principal;
use crate::http::pages::{render_status, Chrome, Ctx, Lang};
use crate::http::AppState;
use crate::ledger::entry::{Currency, MAX_UNITS_PER_CHARGE};
use crate::ledger::{Body, PolicyRules, Role};
use crate::store::{check_login, Draft, EstateRow, StoreError, UnitRow};
use crate::tlog::note::{Signer, ALG_ED25519};

/// Units one registration form may add.
pub const MAX_UNITS_PER_FORM: usize = 2_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_home))
        .route("/admin/estates", post(create_estate))
        .route("/admin/estates/{slug}", get(estate_page))
        .route("/admin/estates/{slug}/units", post(register_units))
        .route("/admin/estates/{slug}/units/codes", get(unit_codes))
        .route("/admin/estates/{slug}/members", post(enrol_member))
}

#[derive(Deserialize, Default, Clone)]
struct EstateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    fee_rate: String,
    #[serde(default)]
    ratio: String,
    #[serde(flatten)]
    policy: PolicyFields,
}

#[derive(Template)]
#[template(path = "staff/admin.html")]
struct AdminPage {
    c: Chrome,
    lang: Lang,
    estates: Vec<EstateRow>,
    form: EstateForm,
    errors: FormErrors,
    host: String,
}

fn host_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "trustfund.example".into())
}

async fn admin_page(
    app: &AppState,
    ctx: &Ctx,
    form: EstateForm,
    errors: FormErrors,
    host: String,
    status: StatusCode,
) -> Response {
    let estates = match app.store.list_estates().await {
        Ok(e) => e,
        Err(e) => return page_error(app, ctx, e.into()),
    };
    let page = AdminPage {
        c: ctx.chrome(app, None, ""),
        lang: ctx.lang,
        estates,
        form,
        errors,
        host,
    };
    render_status(&page, ctx, status)
}

async fn admin_home(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let form = EstateForm {
        timezone: "Asia/Shanghai".into(),
        fee_rate: "2.50".into(),
        ratio: "0.10".into(),
        policy: PolicyFields::from_rules(&PolicyRules::standard()),
        ..EstateForm::default()
    };
    admin_page(
        &app,
        &ctx,
        form,
        FormErrors::default(),
        host_of(&headers),
        StatusCode::OK,
    )
    .await
}

/// The first entries of a new estate, parsed from the form.
struct NewEstate {
    slug: Slug,
    name: Name,
    origin: String,
    timezone: EstateTz,
    fee_rate: Rate,
    ratio: Ratio,
    rules: PolicyRules,
}

fn parse_estate(form: &EstateForm, lang: Lang) -> Result<NewEstate, FormErrors> {
    let mut errors = FormErrors::default();
    let slug = errors.take(lang, Slug::parse("slug", &form.slug));
    let name = errors.take(lang, Name::parse("name", &form.name));
    let timezone = errors.take(lang, EstateTz::parse("timezone", &form.timezone));
    let fee_rate = errors.take(lang, Rate::parse("fee_rate", &form.fee_rate));
    let ratio = errors.take(lang, Ratio::parse("ratio", &form.ratio));
    let origin = form.origin.trim().to_string();
    if let Err(why) = crate::ledger::state::check_origin(&origin) {
        errors.add("origin", "bad_format", why);
    }
    let rules = parse_policy(&form.policy, lang, &mut errors);
    errors.clone().check()?;
    let (Some(slug), Some(name), Some(timezone), Some(fee_rate), Some(ratio), Some(rules)) =
        (slug, name, timezone, fee_rate, ratio, rules)
    else {
        return Err(errors);
    };
    Ok(NewEstate {
        slug,
        name,
        origin,
        timezone,
        fee_rate,
        ratio,
        rules,
    })
}

async fn create_estate(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    headers: axum::http::HeaderMap,
    Form(form): Form<EstateForm>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let lang = ctx.lang;
    let host = host_of(&headers);
    let new = match parse_estate(&form, lang) {
        Ok(n) => n,
        Err(errors) => {
            return admin_page(&app, &ctx, form, errors, host, StatusCode::BAD_REQUEST).await
        }
    };
    match create(&app, &new).await {
        Ok(()) => {
            tracing::info!(estate = %new.slug, admin = %who.user.login, "estate created");
            Redirect::to(&format!("/admin/estates/{}", new.slug)).into_response()
        }
        Err(StaffError::Store(StoreError::Conflict(_))) => {
            let errors = FormErrors::one(
                "slug",
                "taken",
                lang.pick(
                    "已有小区使用这个标识或日志名称",
                    "an estate with this slug or origin already exists",
                ),
            );
            admin_page(&app, &ctx, form, errors, host, StatusCode::CONFLICT).await
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

async fn create(app: &AppState, new: &NewEstate) -> Result<(), StaffError> {
    use rand::RngCore;
    if app.store.estate(&new.slug).await?.is_some() {
        return Err(StoreError::Conflict(format!("estate {} exists", new.slug)).into());
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let log = app.keys.with_signer(
        &new.slug,
        Signer::from_seed(&new.origin, ALG_ED25519, &seed)
            .map_err(|e| StoreError::BadRequest(e.to_string()))?,
    );
    app.keys.create(&new.slug, &seed).map_err(|e| {
        tracing::error!(error = %e, "cannot write the log key");
        StoreError::Conflict(e.to_string())
    })?;
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    let drafts: Vec<Draft> = vec![
        Body::EstateCreated {
            name: new.name.clone(),
            origin: new.origin.clone(),
            log_key: log.verifier_key().format(),
            timezone: new.timezone,
            currency: Currency::Cny,
            fee_rate: new.fee_rate,
        }
        .into(),
        Body::PolicySet {
            version: 1,
            rules: new.rules.clone(),
            approvals: vec![],
        }
        .into(),
        Body::RemunerationRatioSet {
            ratio: new.ratio,
            from: now.period_in(&new.timezone),
        }
        .into(),
    ];
    app.store
        .create_estate(&new.slug, new.name.as_str(), &new.origin, drafts, now, &log)
        .await?;
    Ok(())
}

#[derive(Deserialize, Default, Clone)]
struct UnitsForm {
    #[serde(default)]
    units: String,
}

#[derive(Deserialize, Default, Clone)]
struct MemberForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    key: String,
}

/// A member as the admin page lists them.
pub struct MemberLine {
    pub id: String,
    pub role: &'static str,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "staff/admin_estate.html")]
struct EstateAdminPage {
    c: Chrome,
    lang: Lang,
    estate: EstateRow,
    unit_count: usize,
    members: Vec<MemberLine>,
    units_form: UnitsForm,
    member_form: MemberForm,
    errors: FormErrors,
    notice: Option<String>,
}

/// What the estate admin page shows besides the estate: the two forms as
/// typed, their refusals, and a notice after success.
#[derive(Default)]
struct EstateForms {
    units_form: UnitsForm,
    member_form: MemberForm,
    errors: FormErrors,
    notice: Option<String>,
}

async fn estate_admin_page(
    app: &AppState,
    ctx: &Ctx,
    slug: &str,
    forms: EstateForms,
    status: StatusCode,
) -> Response {
    let EstateForms {
        units_form,
        member_form,
        errors,
        notice,
    } = forms;
    let result = async {
        let (slug, estate) = open_estate(app, slug).await?;
        let t = ctx.t();
        let (unit_count, members) = app
            .store
            .with_state(&slug, |s| {
                let members = s
                    .members()
                    .iter()
                    .map(|(id, m)| MemberLine {
                        id: id.to_string(),
                        role: t.role(m.role),
                        active: m.key.is_some(),
                    })
                    .collect::<Vec<_>>();
                (s.units().len(), members)
            })
            .await?;
        Ok::<_, StaffError>(EstateAdminPage {
            c: ctx.chrome(app, Some(&estate), ""),
            lang: ctx.lang,
            estate,
            unit_count,
            members,
            units_form,
            member_form,
            errors,
            notice,
        })
    }
    .await;
    match result {
        Ok(page) => render_status(&page, ctx, status),
        Err(e) => page_error(app, ctx, e),
    }
}

pub(crate) async fn open_estate(
    app: &AppState,
    slug: &str,
) -> Result<(Slug, EstateRow), StaffError> {
    let slug = Slug::parse("slug", slug).map_err(|_| StaffError::NotFound)?;
    match app.store.estate(&slug).await? {
        Some(row) => Ok((slug, row)),
        None => Err(StaffError::NotFound),
    }
}

async fn estate_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let notice = ctx
        .param("done")
        .ok()
        .flatten()
        .map(|d| match (d, ctx.lang) {
            ("units", Lang::Zh) => "房屋已登记。请打印房屋查询码，随账单发给业主。".to_string(),
            ("units", Lang::En) => {
                "Units registered. Print the unit codes and hand them out with the bills.".into()
            }
            (_, Lang::Zh) => "成员已录入。".into(),
            (_, Lang::En) => "Member enrolled.".into(),
        });
    let forms = EstateForms {
        member_form: MemberForm {
            role: "company".into(),
            ..MemberForm::default()
        },
        notice,
        ..EstateForms::default()
    };
    estate_admin_page(&app, &ctx, &slug, forms, StatusCode::OK).await
}

/// Parses "unit-id area" lines (spaces, tabs or a comma between).
fn parse_units(text: &str, lang: Lang) -> Result<Vec<(UnitId, Area)>, FormErrors> {
    let mut errors = FormErrors::default();
    let mut out: Vec<(UnitId, Area)> = Vec::new();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(FormErrors::one(
            "units",
            "empty",
            lang.pick(
                "请每行填写一个房号和面积，例如：1-101 89.50",
                "one unit per line: its id and area, e.g. 1-101 89.50",
            ),
        ));
    }
    if lines.len() > MAX_UNITS_PER_FORM {
        return Err(FormErrors::one(
            "units",
            "too_many",
            match lang {
                Lang::Zh => format!("一次最多登记 {MAX_UNITS_PER_FORM} 户"),
                Lang::En => format!("at most {MAX_UNITS_PER_FORM} units at a time"),
            },
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let parts: Vec<&str> = line
            .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        let [id, area] = parts.as_slice() else {
            errors.add(
                "units",
                "bad_format",
                match lang {
                    Lang::Zh => format!("第 {n} 行应为“房号 面积”两项"),
                    Lang::En => format!("line {n}: expected two items, unit id and area"),
                },
            );
            continue;
        };
        let unit = UnitId::parse("unit", id);
        let area = Area::parse("area", area);
        match (unit, area) {
            (Ok(u), Ok(a)) => {
                if out.iter().any(|(seen, _)| *seen == u) {
                    errors.add(
                        "units",
                        "duplicate_unit",
                        match lang {
                            Lang::Zh => format!("第 {n} 行：房号 {u} 重复"),
                            Lang::En => format!("line {n}: unit {u} appears twice"),
                        },
                    );
                }
                out.push((u, a));
            }
            (Err(e), _) | (_, Err(e)) => {
                let msg = super::domain_message(lang, &e);
                errors.add(
                    "units",
                    e.code,
                    match lang {
                        Lang::Zh => format!("第 {n} 行 {}：{msg}", e.field),
                        Lang::En => format!("line {n} {}: {msg}", e.field),
                    },
                )
            }
        }
    }
    errors.check()?;
    Ok(out)
}

async fn register_units(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Form(form): Form<UnitsForm>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let lang = ctx.lang;
    let refused = |errors: FormErrors, status: StatusCode| {
        let form = form.clone();
        let app = app.clone();
        let ctx = &ctx;
        let slug = slug.clone();
        async move {
            let forms = EstateForms {
                units_form: form,
                errors,
                ..EstateForms::default()
            };
            estate_admin_page(&app, ctx, &slug, forms, status).await
        }
    };
    let units = match parse_units(&form.units, lang) {
        Ok(u) => u,
        Err(errors) => return refused(errors, StatusCode::BAD_REQUEST).await,
    };
    let result = async {
        let (slug_p, estate) = open_estate(&app, &slug).await?;
        let existing = app.store.with_state(&slug_p, |s| s.units().len()).await?;
        if existing + units.len() > MAX_UNITS_PER_CHARGE {
            return Err(FormErrors::one(
                "units",
                "too_many",
                format!("an estate has at most {MAX_UNITS_PER_CHARGE} units"),
            )
            .into());
        }
        let mut taken = Vec::new();
        for (u, _) in &units {
            if app.store.unit(&slug_p, u.as_str()).await?.is_some() {
                taken.push(u.to_string());
            }
        }
        if !taken.is_empty() {
            return Err(FormErrors::one(
                "units",
                "duplicate_unit",
                match lang {
                    Lang::Zh => format!("这些房号已经登记过：{}", taken.join("、")),
                    Lang::En => format!("already registered: {}", taken.join(", ")),
                },
            )
            .into());
        }
        let drafts: Vec<Draft> = units
            .into_iter()
            .map(|(unit_id, area)| {
                let secret = UnitSecret::generate(&mut rand::rngs::OsRng);
                let commitment = UnitCommitment::compute(&slug_p, &unit_id, &secret);
                Draft {
                    body: Body::UnitRegistered {
                        unit: commitment,
                        area,
                    },
                    unit: Some((unit_id, secret)),
                    at: None,
                    bank_ref: None,
                }
            })
            .collect();
        append(&app, &estate, None, drafts).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/admin/estates/{slug}?done=units")).into_response(),
        Err(e) => match e.into_fields(lang) {
            Ok(errors) => refused(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(other) => page_error(&app, &ctx, other),
        },
    }
}

/// A unit's code as printed for its owner.
pub struct CodeLine {
    pub unit_id: String,
    pub area: String,
    pub code: String,
}

#[derive(Template)]
#[template(path = "staff/unit_codes.html")]
struct CodesPage {
    c: Chrome,
    lang: Lang,
    estate: EstateRow,
    units: Vec<CodeLine>,
}

async fn unit_codes(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let result = async {
        let (slug, estate) = open_estate(&app, &slug).await?;
        let rows: Vec<UnitRow> = app.store.units(&slug).await?;
        let units = rows
            .into_iter()
            .map(|r| CodeLine {
                code: UnitSecret::parse("secret", &r.secret)
                    .map(|s| s.grouped())
                    .unwrap_or(r.secret),
                unit_id: r.unit_id,
                area: r.area,
            })
            .collect();
        Ok::<_, StaffError>(CodesPage {
            c: ctx.chrome(&app, Some(&estate), ""),
            lang: ctx.lang,
            estate,
            units,
        })
    }
    .await;
    match result {
        Ok(page) => {
            tracing::info!(estate = %slug, admin = %who.user.login, "unit codes viewed");
            let mut r = render_status(&page, &ctx, StatusCode::OK);
            // Secrets: never cached by a shared proxy or the browser.
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

fn parse_role(s: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == s)
}

async fn enrol_member(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let lang = ctx.lang;
    let result = enrol(&app, &slug, &form, lang).await;
    match result {
        Ok(()) => {
            tracing::info!(estate = %slug, login = %form.login.trim(), admin = %who.user.login, "member enrolled");
            Redirect::to(&format!("/admin/estates/{slug}?done=member")).into_response()
        }
        Err(e) => match e.into_fields(lang) {
            Ok(errors) => {
                let mut form = form;
                form.password.clear();
                let forms = EstateForms {
                    member_form: form,
                    errors,
                    ..EstateForms::default()
                };
                estate_admin_page(&app, &ctx, &slug, forms, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(other) => page_error(&app, &ctx, other),
        },
    }
}

async fn enrol(
    app: &AppState,
    slug: &str,
    form: &MemberForm,
    lang: Lang,
) -> Result<(), StaffError> {
    let (slug, estate) = open_estate(app, slug).await?;
    let mut errors = FormErrors::default();
    let login = form.login.trim().to_ascii_lowercase();
    if let Err(why) = check_login(&login) {
        errors.add(
            "login",
            "bad_format",
            match lang {
                Lang::Zh => "账号须为 3 到 64 个小写字母、数字或 . - _".to_string(),
                Lang::En => why,
            },
        );
    }
    let name = errors.take(lang, Name::parse("name", &form.name));
    let role = parse_role(form.role.trim());
    if role.is_none() {
        errors.add(
            "role",
            "unsupported",
            lang.pick(
                "请选择物业、业委会或社区",
                "choose company, committee or community",
            ),
        );
    }
    let member = if form.member.trim().is_empty() {
        None
    } else {
        errors.take(lang, MemberId::parse("member", &form.member))
    };
    let key = form.key.trim();
    if !key.is_empty() && member.is_none() && errors.get("member").is_none() {
        errors.add(
            "member",
            "empty",
            lang.pick(
                "登记签名公钥时必须填写成员编号",
                "a member id is needed to enrol a signing key",
            ),
        );
    }
    let existing = app.store.user_credentials(&login).await?;
    let password = if existing.is_some() {
        None
    } else {
        match Password::new_choice(&form.password) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.add(
                    "password",
                    "bad_password",
                    match lang {
                        Lang::Zh => format!(
                            "新账号需要至少 {} 个字符的初始密码",
                            crate::auth::MIN_PASSWORD_CHARS
                        ),
                        Lang::En => e.to_string(),
                    },
                );
                None
            }
        }
    };
    errors.check()?;
    let (Some(name), Some(role)) = (name, role) else {
        return Err(StaffError::NotFound);
    };
    // The ledger entry first: if the key is refused, no account is made.
    if let (Some(member), false) = (&member, key.is_empty()) {
        append(
            app,
            &estate,
            None,
            vec![Body::MemberEnrolled {
                member: member.clone(),
                name: name.clone(),
                role,
                key: key.to_string(),
            }
            .into()],
        )
        .await
        .map_err(|e| match e {
            StaffError::Store(StoreError::Rule(r)) => StaffError::Fields(FormErrors::one(
                if r.code.contains("key") {
                    "key"
                } else {
                    "member"
                },
                r.code,
                super::rule_message(lang, &r),
            )),
            other => other,
        })?;
    }
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    let user_id = match existing {
        Some((user, _)) => user.id,
        None => {
            let hash = password.map(|p| p.hash()).unwrap_or_default();
            app.store
                .create_user(&login, name.as_str(), &hash, false, now)
                .await?
        }
    };
    app.store
        .grant(user_id, &slug, role, member.as_ref().map(|m| m.as_str()))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_lines_parse_and_refuse_by_line() {
        let ok = parse_units("1-101 89.50\n\n1-102,100\n1-103\t120.25\n", Lang::En).unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].0.as_str(), "1-102");
        let bad = parse_units("1-101 89.50\n1-101 90\n1-102\n1-103 -5", Lang::En).unwrap_err();
        let msgs: Vec<&str> = bad.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            msgs[0].contains("line 2") && msgs[0].contains("twice"),
            "{msgs:?}"
        );
        assert!(msgs[1].contains("line 3"), "{msgs:?}");
        assert!(msgs[2].contains("line 4 area"), "{msgs:?}");
        assert!(parse_units("   \n", Lang::Zh).is_err());
    }
}
