//! Hand-over (换届, or a change of property company): revoke the members
//! leaving and enrol the ones arriving, in ONE append, so the ledger never
//! shows a half-done hand-over. Platform admins only, like the rest of
//! `/admin`. The overlap rules are written down in `docs/HANDOVER.md`.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};

use super::admin::open_estate;
use super::home::page_error;
use super::{
    append, idempotency, new_form_key, request_digest, rule_message, FormErrors, StaffError,
    MAX_FORM_BYTES,
};
use crate::domain::{MemberId, Name, Reason};
use crate::http::auth::Principal;
use crate::http::pages::render_status;
use crate::http::pages::{Chrome, Ctx, Lang};
use crate::http::AppState;
use crate::ledger::{Body, Role, State as Ledger};
use crate::store::{Draft, EstateRow, StoreError};

/// Members one hand-over may enrol (a committee plus a company's signers,
/// with room to spare).
pub const MAX_ENROL_LINES: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/estates/{slug}/handover",
            get(handover_page).post(handover),
        )
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// An active member, as a checkbox on the page.
pub struct ActiveMember {
    pub id: String,
    pub role: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "staff/handover.html")]
struct HandoverPage {
    c: Chrome,
    lang: Lang,
    estate: EstateRow,
    members: Vec<ActiveMember>,
    reason: String,
    enrol: String,
    idempotency_key: String,
    errors: FormErrors,
    notice: Option<String>,
}

/// The form as typed: checkboxes repeat `revoke`, so it is read as pairs.
#[derive(Default, Clone, serde::Serialize)]
struct HandoverForm {
    revoke: Vec<String>,
    reason: String,
    enrol: String,
    idempotency_key: String,
}

impl HandoverForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> HandoverForm {
        let mut f = HandoverForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "revoke" => f.revoke.push(v),
                "reason" => f.reason = v,
                "enrol" => f.enrol = v,
                "idempotency_key" => f.idempotency_key = v,
                _ => {}
            }
        }
        f
    }
}

/// One parsed `member_id role name verifier_key` line.
struct Arrival {
    line: usize,
    member: MemberId,
    role: Role,
    name: Name,
    key: String,
}

async fn render_page(
    app: &AppState,
    ctx: &Ctx,
    slug: &str,
    form: HandoverForm,
    errors: FormErrors,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let result = async {
        let (slug, estate) = open_estate(app, slug).await?;
        let t = ctx.t();
        let members = app
            .store
            .with_state(&slug, |s| {
                s.members()
                    .iter()
                    .filter(|(_, m)| m.key.is_some())
                    .map(|(id, m)| ActiveMember {
                        id: id.to_string(),
                        role: t.role(m.role),
                        checked: form.revoke.iter().any(|r| r.trim() == id.as_str()),
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        Ok::<_, StaffError>(HandoverPage {
            c: ctx.chrome(app, Some(&estate), ""),
            lang: ctx.lang,
            estate,
            members,
            reason: form.reason,
            enrol: form.enrol,
            idempotency_key: if form.idempotency_key.is_empty() {
                new_form_key()
            } else {
                form.idempotency_key
            },
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

async fn handover_page(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let notice = ctx.param("done").ok().flatten().map(|_| {
        ctx.lang
            .pick(
                "交接已记入账本：旧成员的密钥已撤销，新成员的密钥已登记。",
                "The hand-over is in the ledger: the leaving members' keys are revoked and the new members' keys enrolled.",
            )
            .to_string()
    });
    render_page(
        &app,
        &ctx,
        &slug,
        HandoverForm::default(),
        FormErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn handover(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = who.require_admin() {
        return page_error(&app, &ctx, e.into());
    }
    let form = HandoverForm::from_pairs(pairs);
    match hand_over(&app, &slug, &form, &headers, ctx.lang).await {
        Ok((revoked, enrolled)) => {
            tracing::info!(estate = %slug, admin = %who.user.login, revoked, enrolled, "hand-over recorded");
            Redirect::to(&format!("/admin/estates/{slug}/handover?done=1")).into_response()
        }
        Err(e) => match e.into_fields(ctx.lang) {
            Ok(errors) => {
                let status = if errors.errors.iter().any(|e| e.code == "bad_format") {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                render_page(&app, &ctx, &slug, form, errors, None, status).await
            }
            Err(other) => page_error(&app, &ctx, other),
        },
    }
}

fn parse_role(s: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.as_str() == s)
}

/// Parses the arrivals: `member_id role name verifier_key`, one a line; the
/// name may hold spaces, the key never does.
fn parse_arrivals(text: &str, lang: Lang, errors: &mut FormErrors) -> Vec<Arrival> {
    let mut out: Vec<Arrival> = Vec::new();
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lines.len() > MAX_ENROL_LINES {
        errors.add(
            "enrol",
            "too_many",
            match lang {
                Lang::Zh => format!("一次交接最多录入 {MAX_ENROL_LINES} 名成员"),
                Lang::En => format!("at most {MAX_ENROL_LINES} members per hand-over"),
            },
        );
        return out;
    }
    for (n, line) in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = |why_zh: &str, why_en: &str| match lang {
            Lang::Zh => format!("第 {n} 行：{why_zh}"),
            Lang::En => format!("line {n}: {why_en}"),
        };
        if words.len() < 4 {
            errors.add(
                "enrol",
                "bad_format",
                bad(
                    "格式应为「成员编号 身份 姓名 签名公钥」",
                    "write member_id role name verifier_key",
                ),
            );
            continue;
        }
        let member = match MemberId::parse("member", words[0]) {
            Ok(m) => m,
            Err(e) => {
                errors.add("enrol", "bad_format", bad(&e.message, &e.message));
                continue;
            }
        };
        let Some(role) = parse_role(words[1]) else {
            errors.add(
                "enrol",
                "bad_format",
                bad(
                    "身份须为 company、committee 或 community",
                    "role must be company, committee or community",
                ),
            );
            continue;
        };
        let name = match Name::parse("name", &words[2..words.len() - 1].join(" ")) {
            Ok(n) => n,
            Err(e) => {
                errors.add("enrol", "bad_format", bad(&e.message, &e.message));
                continue;
            }
        };
        if out.iter().any(|a| a.member == member) {
            errors.add(
                "enrol",
                "duplicate",
                bad("同一成员编号出现了两次", "that member id is listed twice"),
            );
            continue;
        }
        out.push(Arrival {
            line: n,
            member,
            role,
            name,
            key: words[words.len() - 1].to_string(),
        });
    }
    out
}

/// Whether the estate can still approve every kind of claim after the
/// hand-over: the messages to show if it cannot.
fn quorum_after(
    s: &Ledger,
    leaving: &[MemberId],
    arrivals: &[Arrival],
    lang: Lang,
) -> Option<String> {
    let (_, rules) = s.policy()?;
    let mut company = 0usize;
    let mut committee = 0usize;
    for (id, m) in s.members() {
        if m.key.is_some() && !leaving.contains(id) {
            match m.role {
                Role::Company => company += 1,
                Role::Committee => committee += 1,
                _ => {}
            }
        }
    }
    for a in arrivals {
        match a.role {
            Role::Company => company += 1,
            Role::Committee => committee += 1,
            _ => {}
        }
    }
    let need_company = usize::from(rules.default.company);
    let mut strict = rules.default.max(rules.reserve);
    if let Some(above) = &rules.above {
        strict = strict.max(above.require);
    }
    let need_committee = usize::from(strict.committee);
    if company >= need_company && committee >= need_committee {
        return None;
    }
    Some(match lang {
        Lang::Zh => format!(
            "交接后将只有 {company} 名物业签名人、{committee} 名业委会签名人；审批规则至少需要 {need_company} 名物业和 {need_committee} 名业委会签名人，否则有些申请将无人能批准。请同时录入新成员。"
        ),
        Lang::En => format!(
            "after this hand-over only {company} company and {committee} committee signers would be active; the policy needs at least {need_company} company and {need_committee} committee signers, or some claims could never be approved. Enrol the new members in the same hand-over."
        ),
    })
}

/// Checks the form and appends every revocation, then every enrolment, in
/// one append. Returns how many members left and arrived.
async fn hand_over(
    app: &AppState,
    slug: &str,
    form: &HandoverForm,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<(usize, usize), StaffError> {
    let (slug, estate) = open_estate(app, slug).await?;
    let mut errors = FormErrors::default();
    let mut leaving: Vec<MemberId> = Vec::new();
    for r in &form.revoke {
        if let Some(m) = errors.take(lang, MemberId::parse("revoke", r.trim())) {
            if !leaving.contains(&m) {
                leaving.push(m);
            }
        }
    }
    let reason = if leaving.is_empty() {
        None
    } else {
        errors.take(lang, Reason::parse("reason", &form.reason))
    };
    let arrivals = parse_arrivals(&form.enrol, lang, &mut errors);
    if leaving.is_empty() && arrivals.is_empty() && errors.is_empty() {
        errors.add(
            "enrol",
            "empty",
            lang.pick(
                "请勾选要撤销的成员，或录入新成员",
                "tick the members leaving or list the members arriving",
            ),
        );
    }
    errors.check()?;
    // Read the members as they are now: the leaving ones' active keys, and
    // whether the estate could still approve claims afterwards.
    let (size, revocations, quorum) = app
        .store
        .with_state(&slug, |s| {
            let mut drafts: Vec<Draft> = Vec::new();
            let mut unknown: Vec<String> = Vec::new();
            for id in &leaving {
                // `reason` is always there when someone leaves (checked above).
                match (s.members().get(id).and_then(|m| m.key.as_ref()), &reason) {
                    (Some(key), Some(reason)) => drafts.push(
                        Body::MemberRevoked {
                            member: id.clone(),
                            key: key.format(),
                            reason: reason.clone(),
                        }
                        .into(),
                    ),
                    _ => unknown.push(id.to_string()),
                }
            }
            (
                s.size(),
                if unknown.is_empty() {
                    Ok(drafts)
                } else {
                    Err(unknown)
                },
                quorum_after(s, &leaving, &arrivals, lang),
            )
        })
        .await?;
    let revocations = match revocations {
        Ok(d) => d,
        Err(unknown) => {
            return Err(FormErrors::one(
                "revoke",
                "unknown_member",
                match lang {
                    Lang::Zh => format!("没有这些在任成员：{}", unknown.join(", ")),
                    Lang::En => format!("no active member {}", unknown.join(", ")),
                },
            )
            .into())
        }
    };
    if let Some(why) = quorum {
        return Err(FormErrors::one("quorum", "quorum_lost", why).into());
    }
    let revoked = revocations.len();
    let mut drafts = revocations;
    for a in &arrivals {
        drafts.push(
            Body::MemberEnrolled {
                member: a.member.clone(),
                name: a.name.clone(),
                role: a.role,
                key: a.key.clone(),
            }
            .into(),
        );
    }
    let digest = request_digest(
        &format!("/admin/estates/{slug}/handover"),
        &(&form.revoke, &form.reason, &form.enrol),
    );
    let idem = idempotency(headers, Some(&form.idempotency_key), digest)?;
    match append(app, &estate, idem.as_ref(), drafts).await {
        Ok(_) => Ok((revoked, arrivals.len())),
        Err(StaffError::Store(StoreError::Rule(r))) => {
            // Entry seqs follow the drafts' order: revocations, then the
            // arrivals in line order.
            let index = r
                .seq
                .checked_sub(size)
                .and_then(|i| usize::try_from(i).ok());
            let message = rule_message(lang, &r);
            Err(match index {
                Some(i) if i < revoked => FormErrors::one("revoke", r.code, message),
                Some(i) => match arrivals.get(i - revoked) {
                    Some(a) => FormErrors::one(
                        "enrol",
                        r.code,
                        match lang {
                            Lang::Zh => format!("第 {} 行（{}）：{message}", a.line, a.member),
                            Lang::En => format!("line {} ({}): {message}", a.line, a.member),
                        },
                    ),
                    None => FormErrors::one("form", r.code, message),
                },
                None => FormErrors::one("form", r.code, message),
            }
            .into())
        }
        Err(other) => Err(other),
    }
}
