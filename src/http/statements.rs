//! Monthly statements: the list of closed months, and one month's page
//! with its opening and closing balances, income by source, spending by
//! category, corrections, remuneration taken against the entitlement,
//! arrears, the month's entries, and the signed checkpoint that covers it
//! with the cosignatures that verify. Printed, the page is a one-page A4
//! notice for the notice board (公告栏) whose QR code opens the online
//! statement and carries the checkpoint's root, so a reader can tell the
//! paper and the server apart: the code holds
//! `<scheme>://<Host>/estates/{slug}/statements/{yyyy-mm}?cp=<root>`, the
//! root in unpadded base64url, and the page says whether `cp` matches.
//!
//! The figures are the `statement_published` entry's own, which the ledger
//! recomputed before accepting it; nothing here sums entries. Signatures
//! are checked on every view against the log key and the witness keys the
//! ledger holds now, so a page never lists a signature that does not
//! verify.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde_json::{json, Value};

use super::ledger::{self, EntryView, LedgerPage, Row};
use super::pages::{
    cny, finish, local_time, open_estate, render, Chrome, Ctx, Hint, Missing, PageError, Texts,
};
use super::AppState;
use crate::domain::{EstateTz, MemberId, Money, Period, Slug, Timestamp};
use crate::ledger::{Category, FundAccount, IncomeSource, Role, State as Ledger, Statement};
use crate::store::{CheckpointRow, EstateRow, MAX_PAGE_ROWS};
use crate::tlog::checkpoint::open_checkpoint;
use crate::tlog::note::{Note, VerifierKey};
use crate::tlog::Hash;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/estates/{slug}/statements", get(list_page))
        .route("/estates/{slug}/statements/{period}", get(statement_page))
}

/// Months one page of the list shows: two years, each with a checkpoint
/// to read and open.
pub const LIST_PAGE: usize = 24;
/// Entries a statement page lists; the ledger, filtered by month, has the
/// rest.
pub const MAX_ENTRY_ROWS: u64 = MAX_PAGE_ROWS;
/// Longest Host header used to build the QR code's absolute address.
const MAX_HOST_LEN: usize = 253;

/// A month in a path or a `before` cursor, refused by name when it is not
/// `YYYY-MM`.
pub fn parse_period(name: &'static str, raw: &str) -> Result<Period, PageError> {
    Period::parse(name, raw).map_err(|_| PageError::BadParam(name, Hint::Month))
}

// ---------------------------------------------------------------- data

/// What the ledger says about the estate's signers, taken in one look.
struct Keys {
    tz: EstateTz,
    log_key: VerifierKey,
    witnesses: Vec<(MemberId, Role, VerifierKey)>,
    quorum: u8,
}

fn keys_of(s: &Ledger) -> Option<Keys> {
    let info = s.estate()?;
    Some(Keys {
        tz: info.timezone,
        log_key: info.log_key.clone(),
        witnesses: s.witnesses(),
        quorum: s.witness_quorum(),
    })
}

/// A witness cosignature that verified.
pub struct Cosigner {
    pub member: String,
    pub name: String,
    pub role: Role,
    pub key_name: String,
    /// The time inside the cosignature (C2SP tlog-cosignature).
    pub at: Option<Timestamp>,
}

/// The signed checkpoint that covers a statement, opened.
pub struct SignedCheckpoint {
    pub tree_size: u64,
    pub root: Hash,
    pub signed_at: Option<Timestamp>,
    /// The log's verifier key, as `trustfund verify --log-key` takes it.
    pub log_key: String,
    pub log_key_name: String,
    /// The log's signature verified over exactly this size and root.
    pub verified: bool,
    /// Cosignatures that verified with a current witness key, by member.
    pub cosigners: Vec<Cosigner>,
    /// Other signature lines: unknown keys or signatures that fail.
    pub unverified: usize,
    /// Committee cosignatures the estate's rules require.
    pub quorum: u8,
    /// The signed note as stored, with every cosignature line gathered.
    pub note: String,
}

impl SignedCheckpoint {
    pub fn committee_count(&self) -> usize {
        self.cosigners
            .iter()
            .filter(|c| c.role == Role::Committee)
            .count()
    }

    pub fn quorum_met(&self) -> bool {
        self.verified && self.committee_count() >= usize::from(self.quorum)
    }

    /// The root as the QR code carries it: unpadded base64url.
    pub fn root_url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.root.0)
    }
}

/// Opens a stored checkpoint with the log key and the witnesses' keys;
/// only what verifies is kept.
fn open(cp: CheckpointRow, keys: &Keys, names: &BTreeMap<String, String>) -> SignedCheckpoint {
    let lines = Note::parse(&cp.note).map_or(0, |n| n.signatures.len());
    let witness_keys: Vec<VerifierKey> = keys.witnesses.iter().map(|(_, _, k)| k.clone()).collect();
    let (verified, mut cosigners) = match open_checkpoint(&cp.note, &keys.log_key, &witness_keys) {
        Ok((c, _, cosigned)) if c.tree_size == cp.tree_size && c.root == cp.root => {
            let cosigners = cosigned
                .into_iter()
                .filter_map(|(key, time)| {
                    let (id, role, _) = keys.witnesses.iter().find(|(_, _, k)| *k == key)?;
                    Some(Cosigner {
                        member: id.to_string(),
                        name: names
                            .get(id.as_str())
                            .cloned()
                            .unwrap_or_else(|| id.to_string()),
                        role: *role,
                        key_name: key.name.clone(),
                        at: i64::try_from(time)
                            .ok()
                            .and_then(|t| Timestamp::from_unix(t).ok()),
                    })
                })
                .collect();
            (true, cosigners)
        }
        Ok(_) => {
            tracing::error!(
                tree_size = cp.tree_size,
                "stored checkpoint note disagrees with its row"
            );
            (false, Vec::new())
        }
        Err(e) => {
            tracing::error!(tree_size = cp.tree_size, error = %e, "stored checkpoint does not open");
            (false, Vec::new())
        }
    };
    cosigners.sort_by(|a, b| a.member.cmp(&b.member));
    SignedCheckpoint {
        tree_size: cp.tree_size,
        root: cp.root,
        signed_at: Timestamp::parse("signed_at", &cp.signed_at).ok(),
        log_key: keys.log_key.format(),
        log_key_name: keys.log_key.name.clone(),
        verified,
        unverified: lines.saturating_sub(usize::from(verified) + cosigners.len()),
        cosigners,
        quorum: keys.quorum,
        note: cp.note,
    }
}

/// The first signed checkpoint that includes the statement entry `seq`,
/// opened (the one its bundle is built on).
async fn covering(
    app: &AppState,
    slug: &Slug,
    seq: u64,
    keys: &Keys,
    names: &BTreeMap<String, String>,
) -> Result<Option<SignedCheckpoint>, PageError> {
    Ok(app
        .store
        .checkpoint_covering(slug, seq)
        .await?
        .map(|cp| open(cp, keys, names)))
}

/// One published statement.
pub struct Published {
    pub seq: u64,
    pub statement: Statement,
    pub checkpoint: Option<SignedCheckpoint>,
}

/// A page of the statement list, newest first.
pub struct StatementList {
    pub items: Vec<Published>,
    /// The `before` of the next (older) page.
    pub next_before: Option<Period>,
}

pub async fn gather_list(
    app: &AppState,
    slug: &Slug,
    before: Option<Period>,
) -> Result<StatementList, PageError> {
    let (keys, mut picked) = app
        .store
        .with_state(slug, |s| {
            let keys = keys_of(s)?;
            let all = s.statements();
            let range = match before {
                Some(b) => all.range(..b),
                None => all.range(..),
            };
            let picked: Vec<(u64, Statement)> = range
                .rev()
                .take(LIST_PAGE + 1)
                .map(|(_, (seq, st))| (*seq, st.clone()))
                .collect();
            Some((keys, picked))
        })
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;
    let more = picked.len() > LIST_PAGE;
    picked.truncate(LIST_PAGE);
    let next_before = if more {
        picked.last().map(|(_, st)| st.period)
    } else {
        None
    };
    let names = app.store.member_names(slug).await?;
    let mut items = Vec::with_capacity(picked.len());
    for (seq, statement) in picked {
        items.push(Published {
            seq,
            checkpoint: covering(app, slug, seq, &keys, &names).await?,
            statement,
        });
    }
    Ok(StatementList { items, next_before })
}

/// One month's statement with its neighbours.
pub struct OneStatement {
    pub tz: EstateTz,
    pub published: Published,
    /// When the statement entry was written.
    pub published_at: Option<Timestamp>,
    pub prev: Option<Period>,
    pub next: Option<Period>,
    pub names: BTreeMap<String, String>,
    /// The log's verifier key, for `trustfund verify --log-key`.
    pub log_key: String,
}

pub async fn gather_one(
    app: &AppState,
    slug: &Slug,
    period: Period,
) -> Result<OneStatement, PageError> {
    let (keys, found) = app
        .store
        .with_state(slug, |s| {
            let keys = keys_of(s)?;
            let all = s.statements();
            let found = all.get(&period).map(|(seq, st)| {
                (
                    *seq,
                    st.clone(),
                    all.range(..period).next_back().map(|(p, _)| *p),
                    all.range(period..).nth(1).map(|(p, _)| *p),
                )
            });
            Some((keys, found))
        })
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;
    let (seq, statement, prev, next) = found.ok_or(PageError::NotFound(Missing::Statement))?;
    let names = app.store.member_names(slug).await?;
    let published_at = app.store.entry_row(slug, seq).await?.map(|r| r.time);
    Ok(OneStatement {
        tz: keys.tz,
        published: Published {
            seq,
            checkpoint: covering(app, slug, seq, &keys, &names).await?,
            statement,
        },
        published_at,
        prev,
        next,
        names,
        log_key: keys.log_key.format(),
    })
}

// ---------------------------------------------------------------- figures

fn sum(amounts: impl IntoIterator<Item = Money>) -> i64 {
    amounts.into_iter().map(|m| m.fen()).sum()
}

fn closing_total(st: &Statement) -> i64 {
    sum(FundAccount::ALL.iter().map(|f| st.closing.get(*f)))
}

fn income_total(st: &Statement) -> i64 {
    st.fees_collected.fen() + st.public_income_total().fen()
}

/// Fees collected ÷ fees charged, as the dashboard shows it.
fn collection_rate(st: &Statement) -> String {
    let f = super::dashboard::Figures {
        fees_collected: st.fees_collected.fen(),
        fees_charged: st.fees_charged.fen(),
        ..Default::default()
    };
    super::dashboard::percent(f.rate_basis_points())
}

/// One line of a figures table. `key` is the figure's path in the
/// statement's JSON (`closing.reserve`, `spending.repairs`), so a reader
/// (or a test) can match the page to the entry field by field.
pub struct Fig {
    pub key: String,
    pub label: String,
    pub amount: String,
    /// "" | "zero" | "total" | "sub" (a sub-heading, without amount).
    pub class: &'static str,
    /// A part of the sub-heading above it.
    pub indent: bool,
}

impl Fig {
    fn indented(mut self) -> Fig {
        self.indent = true;
        self
    }
}

fn fig(key: impl Into<String>, label: &str, m: Money) -> Fig {
    Fig {
        key: key.into(),
        label: label.to_string(),
        amount: m.format_cny(),
        class: if m.is_zero() { "zero" } else { "" },
        indent: false,
    }
}

/// A total or a ratio: not a field of the entry, so it carries no `key`.
fn derived(label: &str, amount: String, class: &'static str) -> Fig {
    Fig {
        key: String::new(),
        label: label.to_string(),
        amount,
        class,
        indent: false,
    }
}

fn sub(label: &str) -> Fig {
    derived(label, String::new(), "sub")
}

/// One titled table of figures.
pub struct FigTable {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<Fig>,
    pub note: Option<&'static str>,
}

/// The statement's figures as four tables: income, spending, remuneration
/// and arrears, corrections. Every field of the entry appears once.
fn tables(st: &Statement, t: &Texts) -> Vec<FigTable> {
    let mut income = vec![
        fig("fees_charged", t.fees_charged, st.fees_charged),
        fig("fees_collected", t.fees_collected, st.fees_collected),
        derived(t.collection_rate, collection_rate(st), ""),
        sub(t.public_by_source),
    ];
    income.extend(IncomeSource::ALL.iter().map(|s| {
        fig(
            format!("public_income.{}", s.as_str()),
            t.source(*s),
            st.public_income.get(*s),
        )
        .indented()
    }));
    income.extend([
        derived(t.public_income, st.public_income_total().format_cny(), "").indented(),
        fig(
            "opening_balances",
            t.opening_balances_recorded,
            st.opening_balances,
        ),
        derived(t.income_total, cny(income_total(st)), "total"),
    ]);
    let mut spending: Vec<Fig> = Category::ALL
        .iter()
        .map(|c| {
            fig(
                format!("spending.{}", c.as_str()),
                t.category(*c),
                st.spending.get(*c),
            )
        })
        .collect();
    spending.push(derived(t.total, st.spending_total().format_cny(), "total"));
    vec![
        FigTable {
            id: "income",
            title: t.income,
            rows: income,
            note: Some(t.income_note),
        },
        FigTable {
            id: "spending",
            title: t.spending_by_category,
            rows: spending,
            note: None,
        },
        FigTable {
            id: "remuneration",
            title: t.remuneration_and_arrears,
            rows: vec![
                sub(t.remuneration),
                fig(
                    "remuneration.taken",
                    t.remuneration_taken,
                    st.remuneration.taken,
                )
                .indented(),
                fig(
                    "remuneration.entitlement",
                    t.remuneration_entitled,
                    st.remuneration.entitlement,
                )
                .indented(),
                fig("arrears", t.arrears, st.arrears),
            ],
            note: Some(t.arrears_note),
        },
        FigTable {
            id: "corrections",
            title: t.corrections,
            rows: vec![
                fig(
                    "reversed.fees_charged",
                    t.fees_charged,
                    st.reversed.fees_charged,
                ),
                fig(
                    "reversed.fees_collected",
                    t.fees_collected,
                    st.reversed.fees_collected,
                ),
                fig(
                    "reversed.public_income",
                    t.public_income,
                    st.reversed.public_income,
                ),
                fig(
                    "reversed.opening_balances",
                    t.opening_balances_recorded,
                    st.reversed.opening_balances,
                ),
            ],
            note: Some(t.corrections_note),
        },
    ]
}

pub struct FundRow {
    pub account: &'static str,
    pub label: &'static str,
    pub opening: String,
    pub closing: String,
    pub change: String,
}

// ---------------------------------------------------------------- pages

pub struct ListRow {
    pub period: String,
    pub closing_total: String,
    pub income: String,
    pub spending: String,
    pub witnesses: Vec<String>,
    /// Why the month shows no signers: not yet covered, or a log
    /// signature that fails.
    pub warning: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "statements.html")]
struct ListPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    rows: Vec<ListRow>,
    first_page: bool,
    older: Option<String>,
}

async fn list_page(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let before = match ctx.param("before")? {
            Some(b) => Some(parse_period("before", b)?),
            None => None,
        };
        let list = gather_list(&app, &slug, before).await?;
        let t = ctx.t();
        let rows = list
            .items
            .iter()
            .map(|p| {
                let st = &p.statement;
                ListRow {
                    period: st.period.to_string(),
                    closing_total: cny(closing_total(st)),
                    income: cny(income_total(st)),
                    spending: st.spending_total().format_cny(),
                    witnesses: p
                        .checkpoint
                        .iter()
                        .flat_map(|c| &c.cosigners)
                        .map(|w| format!("{} {}", w.member, w.name))
                        .collect(),
                    warning: match &p.checkpoint {
                        None => Some(t.not_covered_yet),
                        Some(c) if !c.verified => Some(t.log_signature_invalid),
                        Some(_) => None,
                    },
                }
            })
            .collect();
        let page = ListPage {
            c: ctx.chrome(&app, Some(&er), "statements"),
            t,
            slug: slug.to_string(),
            rows,
            first_page: before.is_none(),
            older: list
                .next_before
                .map(|b| format!("/estates/{slug}/statements?before={b}")),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

pub struct CosignerRow {
    pub member: String,
    pub name: String,
    pub role: &'static str,
    pub at: String,
    pub key_name: String,
}

pub struct CheckpointBlock {
    pub tree_size: u64,
    pub root_base64: String,
    pub root_hex: String,
    pub signed_at: String,
    pub log_key_name: String,
    pub verified: bool,
    pub cosigners: Vec<CosignerRow>,
    pub unverified: usize,
    pub committee: usize,
    pub quorum: u8,
    pub quorum_met: bool,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    estate_name: String,
    period: String,
    heading: String,
    seq: u64,
    from_seq: u64,
    last_seq: Option<u64>,
    published_at: String,
    prev: Option<String>,
    next: Option<String>,
    funds: Vec<FundRow>,
    funds_opening_total: String,
    funds_closing_total: String,
    funds_change_total: String,
    tables: Vec<FigTable>,
    log_key: String,
    checkpoint: Option<CheckpointBlock>,
    /// `Some(true)` when the `cp` in the address matches the checkpoint.
    cp_check: Option<bool>,
    qr_svg: String,
    qr_url: String,
    rows: Vec<Row>,
    entry_count: u64,
    more_entries: bool,
}

/// The page's own address as a QR code should carry it: absolute when the
/// request named its host, relative otherwise.
fn site_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plausible = !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !plausible {
        return None;
    }
    // A reverse proxy says which scheme the reader used. Without one, a
    // name is assumed to be served over TLS and an address (a test, a
    // server on the estate's own network) over plain HTTP.
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v == "http" || v == "https");
    let scheme = forwarded.unwrap_or_else(|| {
        let name = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let literal = name.starts_with('[')
            || name == "localhost"
            || name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if literal { "http" } else { "https" }.to_string()
    });
    Some(format!("{scheme}://{host}"))
}

/// The QR code as inline SVG, one unit per module with the standard quiet
/// zone; CSS sizes it. The markup is the encoder's own (numbers and
/// colours only), so it can go into the page unescaped.
fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let doc = code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    let start = doc.find("<svg ")?;
    Some(doc[start..].replacen(
        "<svg ",
        "<svg class=\"qr\" aria-hidden=\"true\" focusable=\"false\" ",
        1,
    ))
}

fn checkpoint_block(c: &SignedCheckpoint, t: &Texts, tz: &EstateTz) -> CheckpointBlock {
    CheckpointBlock {
        tree_size: c.tree_size,
        root_base64: c.root.to_base64(),
        root_hex: c.root.to_hex(),
        signed_at: c.signed_at.map(|s| local_time(s, tz)).unwrap_or_default(),
        log_key_name: c.log_key_name.clone(),
        verified: c.verified,
        cosigners: c
            .cosigners
            .iter()
            .map(|w| CosignerRow {
                member: w.member.clone(),
                name: w.name.clone(),
                role: t.role(w.role),
                at: w.at.map(|a| local_time(a, tz)).unwrap_or_default(),
                key_name: w.key_name.clone(),
            })
            .collect(),
        unverified: c.unverified,
        committee: c.committee_count(),
        quorum: c.quorum,
        quorum_met: c.quorum_met(),
    }
}

async fn statement_page(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((slug, period)): Path<(String, String)>,
) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let period = parse_period("period", &period)?;
        let cp_param = ctx.param("cp")?.map(str::to_string);
        let one = gather_one(&app, &slug, period).await?;
        let t = ctx.t();
        let st = &one.published.statement;

        let entry_count = st.to_seq.saturating_sub(st.from_seq);
        let rows = app
            .store
            .entries_between(&slug, st.from_seq, st.to_seq, MAX_ENTRY_ROWS)
            .await?
            .into_iter()
            .map(|row| {
                Ok(EntryView {
                    entry: row.entry()?,
                    row,
                })
            })
            .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
        let listed = LedgerPage {
            tz: one.tz,
            entries: rows,
            next_before: None,
            names: one.names.clone(),
        };

        let path = format!("/estates/{slug}/statements/{period}");
        let cp = one.published.checkpoint.as_ref();
        let qr_url = format!(
            "{}{path}{}",
            site_origin(&headers).unwrap_or_default(),
            cp.map(|c| format!("?cp={}", c.root_url()))
                .unwrap_or_default()
        );
        let funds: Vec<FundRow> = FundAccount::ALL
            .iter()
            .map(|f| FundRow {
                account: f.as_str(),
                label: t.fund(*f),
                opening: st.opening.get(*f).format_cny(),
                closing: st.closing.get(*f).format_cny(),
                change: cny(st.closing.get(*f).fen() - st.opening.get(*f).fen()),
            })
            .collect();
        let opening_total = sum(FundAccount::ALL.iter().map(|f| st.opening.get(*f)));
        let page = StatementPage {
            c: ctx.chrome(&app, Some(&er), "statements"),
            t,
            slug: slug.to_string(),
            estate_name: er.name.clone(),
            period: period.to_string(),
            heading: t.statement_heading(period),
            seq: one.published.seq,
            from_seq: st.from_seq,
            last_seq: st.to_seq.checked_sub(1).filter(|l| *l >= st.from_seq),
            published_at: one
                .published_at
                .map(|p| local_time(p, &one.tz))
                .unwrap_or_default(),
            prev: one.prev.map(|p| p.to_string()),
            next: one.next.map(|p| p.to_string()),
            funds,
            funds_opening_total: cny(opening_total),
            funds_closing_total: cny(closing_total(st)),
            funds_change_total: cny(closing_total(st) - opening_total),
            tables: tables(st, t),
            log_key: one.log_key.clone(),
            checkpoint: cp.map(|c| checkpoint_block(c, t, &one.tz)),
            cp_check: cp_param.map(|given| cp.is_some_and(|c| c.root_url() == given)),
            qr_svg: qr_svg(&qr_url).unwrap_or_default(),
            qr_url,
            rows: ledger::rows(&listed, t),
            entry_count,
            more_entries: entry_count > MAX_ENTRY_ROWS,
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

// ---------------------------------------------------------------- JSON

fn checkpoint_json(c: &SignedCheckpoint) -> Value {
    json!({
        "tree_size": c.tree_size,
        "root": c.root.to_hex(),
        "root_base64": c.root.to_base64(),
        "signed_at": c.signed_at.map(|s| s.to_string()),
        "log_key": c.log_key,
        "log_signature_verified": c.verified,
        "witnesses": c.cosigners.iter().map(|w| json!({
            "member": w.member,
            "name": w.name,
            "role": w.role.as_str(),
            "key_name": w.key_name,
            "cosigned_at": w.at.map(|a| a.to_string()),
        })).collect::<Vec<_>>(),
        "unverified_signatures": c.unverified,
        "committee_cosignatures": c.committee_count(),
        "committee_quorum": c.quorum,
        "quorum_met": c.quorum_met(),
        "note": c.note,
    })
}

/// A statement for the read API: the entry's figures exactly as written
/// (decimal strings), totals, and the checkpoint that covers it.
pub fn json(p: &Published, slug: &Slug) -> Value {
    let st = &p.statement;
    let period = st.period;
    json!({
        "period": period.to_string(),
        "seq": p.seq,
        "from_seq": st.from_seq,
        "to_seq": st.to_seq,
        "figures": serde_json::to_value(st).unwrap_or(Value::Null),
        "totals": {
            "opening": Money::from_fen(sum(FundAccount::ALL.iter().map(|f| st.opening.get(*f)))).map(|m| m.to_string()).ok(),
            "closing": Money::from_fen(closing_total(st)).map(|m| m.to_string()).ok(),
            "public_income": st.public_income_total().to_string(),
            "income": Money::from_fen(income_total(st)).map(|m| m.to_string()).ok(),
            "spending": st.spending_total().to_string(),
        },
        "checkpoint": p.checkpoint.as_ref().map(checkpoint_json),
        "links": {
            "page": format!("/estates/{slug}/statements/{period}"),
            "bundle": format!("/estates/{slug}/statements/{period}/bundle.json"),
            "entries": format!("/api/v1/estates/{slug}/entries?month={period}"),
            "statement_entry": format!("/estates/{slug}/log/entries/{}", p.seq),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str, proto: Option<&str>) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, h.parse().unwrap());
        if let Some(p) = proto {
            headers.insert("x-forwarded-proto", p.parse().unwrap());
        }
        site_origin(&headers)
    }

    #[test]
    fn the_qr_address_follows_the_host() {
        assert_eq!(site_origin(&HeaderMap::new()), None);
        assert_eq!(
            host("trustfund.example", None).as_deref(),
            Some("https://trustfund.example")
        );
        assert_eq!(
            host("127.0.0.1:8080", None).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(host("[::1]:80", None).as_deref(), Some("http://[::1]:80"));
        assert_eq!(
            host("fund.example:8443", Some("http")).as_deref(),
            Some("http://fund.example:8443")
        );
        assert_eq!(
            host("fund.example", Some("gopher")).as_deref(),
            Some("https://fund.example")
        );
        for bad in ["a/b", "x@y", "a b", "\"q\"", ""] {
            assert_eq!(host(bad, None), None, "{bad:?}");
        }
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg =
            qr_svg("https://trustfund.example/estates/dongfang/statements/2026-10?cp=x").unwrap();
        assert!(svg.starts_with("<svg class=\"qr\" aria-hidden=\"true\""));
        assert!(svg.ends_with("</svg>") && !svg.contains("<?xml"));
        assert!(!svg.contains("<script"));
    }
}
