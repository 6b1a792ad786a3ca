//! Changing the approval policy (`docs/FORMAT.md` §8.3, §10.1): committee
//! members sign a proposed set of rules, each with their own key (a
//! signature made offline, or their key held on the server opened with
//! their passphrase); once the old policy's strictest committee count has
//! signed the same rules, the server appends the `policy_set` entry that
//! carries every signature, and the ledger checks them all again.
//!
//! Also the policy form fields the admin's "create an estate" page shares.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::approvals::unlock_held_key;
use super::home::page_error;
use super::{append, open_for, FormErrors, StaffError};
use crate::domain::{MemberId, Money, Slug, Timestamp};
use crate::http::auth::{AuthError, Principal};
use crate::http::pages::{render_status, Chrome, Ctx, Lang};
use crate::http::AppState;
use crate::ledger::approval::{check_approval_signature, encode_signature, policy_message};
use crate::ledger::entry::PolicyApproval;
use crate::ledger::policy::{AboveRule, Requirement, MAX_CLAIM_TTL_DAYS, MAX_SIGNERS};
use crate::ledger::{jcs, Body, PolicyRules, Role};
use crate::store::{EstateRow, PolicySignature, StoreError};
use crate::tlog::note::VerifierKey;

pub fn router() -> Router<AppState> {
    Router::new().route("/estates/{slug}/staff/policy", get(page).post(post))
}

/// The policy as a form has it: the company always signs once; the form
/// sets the committee counts, the large-claim threshold, the claim
/// lifetime and the witness quorum.
#[derive(Deserialize, Default, Clone, Debug, PartialEq, Eq)]
pub struct PolicyFields {
    #[serde(default)]
    pub committee_default: String,
    #[serde(default)]
    pub committee_reserve: String,
    #[serde(default)]
    pub above_amount: String,
    #[serde(default)]
    pub claim_ttl_days: String,
    #[serde(default)]
    pub witnesses: String,
}

impl PolicyFields {
    pub fn from_rules(r: &PolicyRules) -> PolicyFields {
        PolicyFields {
            committee_default: r.default.committee.to_string(),
            committee_reserve: r.reserve.committee.to_string(),
            above_amount: r
                .above
                .as_ref()
                .map(|a| a.amount.to_string())
                .unwrap_or_default(),
            claim_ttl_days: r.claim_ttl_days.to_string(),
            witnesses: r.witnesses.to_string(),
        }
    }
}

fn small_count(
    errors: &mut FormErrors,
    lang: Lang,
    field: &str,
    raw: &str,
    min: u8,
    max: u8,
) -> u8 {
    match raw.trim().parse::<u8>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.add(
                field,
                "out_of_range",
                match lang {
                    Lang::Zh => format!("必须是 {min} 到 {max} 之间的整数"),
                    Lang::En => format!("must be a whole number from {min} to {max}"),
                },
            );
            min
        }
    }
}

/// The rules a policy form describes; refusals are added to `errors`.
pub(crate) fn parse_policy(
    f: &PolicyFields,
    lang: Lang,
    errors: &mut FormErrors,
) -> Option<PolicyRules> {
    let before = errors.errors.len();
    let committee_default = small_count(
        errors,
        lang,
        "committee_default",
        &f.committee_default,
        1,
        MAX_SIGNERS,
    );
    let committee_reserve = small_count(
        errors,
        lang,
        "committee_reserve",
        &f.committee_reserve,
        1,
        MAX_SIGNERS,
    );
    let witnesses = small_count(errors, lang, "witnesses", &f.witnesses, 0, MAX_SIGNERS);
    let above = if f.above_amount.trim().is_empty() {
        None
    } else {
        errors.take(lang, Money::parse_positive("above_amount", &f.above_amount))
    };
    let ttl = match f.claim_ttl_days.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_CLAIM_TTL_DAYS).contains(&n) => n,
        _ => {
            errors.add(
                "claim_ttl_days",
                "out_of_range",
                match lang {
                    Lang::Zh => format!("必须是 1 到 {MAX_CLAIM_TTL_DAYS} 之间的天数"),
                    Lang::En => format!("must be 1 to {MAX_CLAIM_TTL_DAYS} days"),
                },
            );
            1
        }
    };
    if errors.errors.len() > before {
        return None;
    }
    let strict = Requirement {
        company: 1,
        committee: committee_reserve.max(committee_default),
        community: 0,
    };
    Some(PolicyRules {
        default: Requirement {
            company: 1,
            committee: committee_default,
            community: 0,
        },
        reserve: strict,
        above: above.map(|amount| AboveRule {
            amount,
            require: strict,
        }),
        claim_ttl_days: ttl,
        witnesses,
    })
}

/// A rules object's RFC 8785 bytes: what a proposal is keyed by.
fn rules_bytes(rules: &PolicyRules) -> String {
    serde_json::to_value(rules)
        .ok()
        .and_then(|v| jcs::canonicalize(&v).ok())
        .unwrap_or_default()
}

/// The estate opened for one of its committee members.
struct Committee {
    slug: Slug,
    row: EstateRow,
    member: MemberId,
    /// The member's active ledger key, if enrolled with one.
    key: Option<VerifierKey>,
    version: u32,
    rules: PolicyRules,
}

async fn open_committee(
    app: &AppState,
    who: &Principal,
    slug: &str,
) -> Result<Committee, StaffError> {
    let (slug, row) = open_for(app, who, slug, &[Role::Committee]).await?;
    let member = who
        .member_in(slug.as_str(), Role::Committee)
        .and_then(|m| MemberId::parse("member", m).ok())
        .ok_or(StaffError::Auth(AuthError::Forbidden))?;
    let (key, policy) = app
        .store
        .with_state(&slug, |s| {
            (
                s.members().get(&member).and_then(|m| m.key.clone()),
                s.policy().cloned(),
            )
        })
        .await?;
    let (version, rules) =
        policy.ok_or_else(|| StoreError::BadRequest("the estate has no policy yet".into()))?;
    Ok(Committee {
        slug,
        row,
        member,
        key,
        version,
        rules,
    })
}

/// A proposal for the next version, with who has signed it.
pub struct Proposal {
    pub fields: PolicyFields,
    pub rules: String,
    pub message: String,
    pub signers: Vec<String>,
}

/// The signatures on each proposal that still count: by a committee
/// member's active key, verifying over this proposal's message.
async fn proposals(
    app: &AppState,
    c: &Committee,
) -> Result<Vec<(PolicyRules, Vec<PolicyApproval>)>, StaffError> {
    let next = c.version + 1;
    let rows = app.store.policy_signatures(&c.slug, next).await?;
    let keys = app
        .store
        .with_state(&c.slug, |s| {
            s.members()
                .iter()
                .filter(|(_, m)| m.role == Role::Committee)
                .filter_map(|(id, m)| m.key.clone().map(|k| (id.clone(), k)))
                .collect::<Vec<_>>()
        })
        .await?;
    let mut out: Vec<(String, PolicyRules, Vec<PolicyApproval>)> = Vec::new();
    for PolicySignature {
        rules,
        member,
        key,
        signature,
    } in rows
    {
        let Ok(parsed) = serde_json::from_str::<PolicyRules>(&rules) else {
            continue;
        };
        let message = policy_message(&c.row.origin, next, &parsed);
        let active = keys
            .iter()
            .any(|(id, k)| id.as_str() == member && k.format() == key);
        let verifies = VerifierKey::parse(&key)
            .is_ok_and(|k| check_approval_signature(&message, &signature, &k).is_ok());
        let Ok(member) = MemberId::parse("member", &member) else {
            continue;
        };
        if !(active && verifies) {
            continue;
        }
        let approval = PolicyApproval {
            member,
            key,
            signature,
        };
        match out.iter_mut().find(|(r, _, _)| *r == rules) {
            Some((_, _, sigs)) => sigs.push(approval),
            None => out.push((rules, parsed, vec![approval])),
        }
    }
    Ok(out.into_iter().map(|(_, r, a)| (r, a)).collect())
}

#[derive(Template)]
#[template(path = "staff/policy.html")]
struct PolicyPage {
    c: Chrome,
    lang: Lang,
    slug: String,
    version: u32,
    current: PolicyFields,
    needed: u8,
    proposals: Vec<Proposal>,
    form: PolicyFields,
    /// The message for the form's rules, once previewed.
    message: Option<String>,
    can_sign: bool,
    key_held: bool,
    signature: String,
    errors: FormErrors,
    done: Option<String>,
}

/// One input of the policy form: name, label in zh and en, value.
type FormRow<'a> = (&'static str, &'static str, &'static str, &'a str);

impl PolicyPage {
    fn form_rows(&self) -> Vec<FormRow<'_>> {
        let f = &self.form;
        vec![
            (
                "committee_default",
                "一般支出需业委会签名人数",
                "Committee signatures for ordinary claims",
                &f.committee_default,
            ),
            (
                "committee_reserve",
                "维修资金及大额支出需业委会签名人数",
                "Committee signatures for the reserve and large claims",
                &f.committee_reserve,
            ),
            (
                "above_amount",
                "大额支出标准（元，留空则不设）",
                "Large claim threshold (CNY, empty for none)",
                &f.above_amount,
            ),
            (
                "claim_ttl_days",
                "申请有效天数",
                "Days a claim stays open",
                &f.claim_ttl_days,
            ),
            (
                "witnesses",
                "公示需见证人数",
                "Witness cosignatures a checkpoint needs",
                &f.witnesses,
            ),
        ]
    }
}

#[allow(clippy::too_many_arguments)]
async fn show(
    app: &AppState,
    ctx: &Ctx,
    c: &Committee,
    form: PolicyFields,
    message: Option<String>,
    signature: String,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let result = async {
        let next = c.version + 1;
        let list = proposals(app, c)
            .await?
            .into_iter()
            .map(|(rules, sigs)| Proposal {
                fields: PolicyFields::from_rules(&rules),
                message: policy_message(&c.row.origin, next, &rules),
                rules: rules_bytes(&rules),
                signers: sigs.iter().map(|a| a.member.to_string()).collect(),
            })
            .collect();
        let held = super::approvals::held_key(app, &c.row, &c.member).await?;
        let key_held =
            matches!((&held, &c.key), (Some(h), Some(k)) if h.verifier_key() == k.format());
        Ok::<_, StaffError>(PolicyPage {
            c: ctx.chrome(app, Some(&c.row), ""),
            lang: ctx.lang,
            slug: c.slug.to_string(),
            version: c.version,
            current: PolicyFields::from_rules(&c.rules),
            needed: c.rules.committee_to_change(),
            proposals: list,
            form,
            message,
            can_sign: c.key.is_some(),
            key_held,
            signature,
            errors,
            done: ctx.param("done").ok().flatten().map(str::to_string),
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
    match open_committee(&app, &who, &slug).await {
        Ok(c) => {
            let form = PolicyFields::from_rules(&c.rules);
            show(
                &app,
                &ctx,
                &c,
                form,
                None,
                String::new(),
                FormErrors::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => page_error(&app, &ctx, e),
    }
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(flatten)]
    policy: PolicyFields,
    /// `preview` shows the message to sign; `sign` records a signature.
    #[serde(default)]
    action: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    passphrase: String,
}

/// What a signing POST ended in.
enum Outcome {
    Signed,
    Changed,
}

async fn sign(
    app: &AppState,
    c: &Committee,
    rules: &PolicyRules,
    form: &PolicyForm,
    lang: Lang,
) -> Result<Outcome, StaffError> {
    let next = c.version + 1;
    let message = policy_message(&c.row.origin, next, rules);
    let Some(key) = &c.key else {
        return Err(FormErrors::one(
            "signature",
            "no_key",
            lang.pick(
                "您在账本中没有有效的签名密钥",
                "you have no active signing key in the ledger",
            ),
        )
        .into());
    };
    let signature = if !form.signature.trim().is_empty() {
        form.signature.trim().to_string()
    } else if !form.passphrase.is_empty() {
        let signer = unlock_held_key(app, &c.row, &c.member, &form.passphrase, lang).await?;
        encode_signature(&signer.sign_raw(message.as_bytes()))
    } else {
        return Err(FormErrors::one(
            "signature",
            "empty",
            lang.pick(
                "请粘贴离线签出的签名，或输入口令",
                "paste the signature you made offline, or your passphrase",
            ),
        )
        .into());
    };
    if check_approval_signature(&message, &signature, key).is_err() {
        return Err(FormErrors::one(
            "signature",
            "bad_signature",
            lang.pick(
                "签名与这份新规则和您的密钥不符",
                "the signature does not verify for these rules and your key",
            ),
        )
        .into());
    }
    let now = Timestamp::now().map_err(|e| StoreError::BadRequest(e.message))?;
    let sig = PolicySignature {
        rules: rules_bytes(rules),
        member: c.member.to_string(),
        key: key.format(),
        signature,
    };
    app.store
        .put_policy_signature(&c.slug, next, &sig, now)
        .await?;
    tracing::info!(estate = %c.slug, member = %c.member, version = next, "policy change signed");
    let mut gathered = proposals(app, c).await?;
    let Some((_, approvals)) = gathered.iter_mut().find(|(r, _)| r == rules) else {
        return Ok(Outcome::Signed);
    };
    if approvals.len() < usize::from(c.rules.committee_to_change()) {
        return Ok(Outcome::Signed);
    }
    let body = Body::PolicySet {
        version: next,
        rules: rules.clone(),
        approvals: std::mem::take(approvals),
    };
    append(app, &c.row, None, vec![body.into()]).await?;
    tracing::info!(estate = %c.slug, version = next, "policy changed");
    Ok(Outcome::Changed)
}

async fn post(
    State(app): State<AppState>,
    ctx: Ctx,
    who: Principal,
    Path(slug): Path<String>,
    Form(form): Form<PolicyForm>,
) -> Response {
    let c = match open_committee(&app, &who, &slug).await {
        Ok(c) => c,
        Err(e) => return page_error(&app, &ctx, e),
    };
    let lang = ctx.lang;
    let mut errors = FormErrors::default();
    let rules = parse_policy(&form.policy, lang, &mut errors);
    let refused = |errors: FormErrors, status| {
        show(
            &app,
            &ctx,
            &c,
            form.policy.clone(),
            rules
                .as_ref()
                .map(|r| policy_message(&c.row.origin, c.version + 1, r)),
            form.signature.clone(),
            errors,
            status,
        )
    };
    let Some(rules) = rules.clone() else {
        return refused(errors, StatusCode::BAD_REQUEST).await;
    };
    if rules == c.rules {
        let e = FormErrors::one(
            "form",
            "unchanged",
            lang.pick(
                "新规则与现行规则相同",
                "the new rules are the same as the current ones",
            ),
        );
        return refused(e, StatusCode::BAD_REQUEST).await;
    }
    if form.action != "sign" {
        return refused(FormErrors::default(), StatusCode::OK).await;
    }
    match sign(&app, &c, &rules, &form, lang).await {
        Ok(Outcome::Signed) => {
            Redirect::to(&format!("/estates/{}/staff/policy?done=signed", c.slug)).into_response()
        }
        Ok(Outcome::Changed) => {
            Redirect::to(&format!("/estates/{}/staff/policy?done=changed", c.slug)).into_response()
        }
        Err(e) => match e.into_fields(lang) {
            Ok(fields) => refused(fields, StatusCode::UNPROCESSABLE_ENTITY).await,
            Err(e) => page_error(&app, &ctx, e),
        },
    }
}
