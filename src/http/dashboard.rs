//! The estate dashboard: balances, this month's and this year's figures,
//! the collection rate, a chart of the last twelve months, pending claims
//! with their signatures, recent service records and the latest signed
//! checkpoint.
//!
//! The work per request does not grow with the ledger: balances come from
//! the `balances` table, monthly figures from `monthly_totals` (twelve
//! months, a key range each), fees collected from the cached replayed
//! state, and lists are bounded.

use std::str::FromStr;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::chart::{self, Chart, MonthBars};
use super::claims::{self, ClaimRow, ClaimView, DASHBOARD_PENDING};
use super::pages::{
    cny, decimal, finish, local_time, open_estate, render, Chrome, Ctx, Missing, PageError, Texts,
};
use super::services::{self, ServiceRow, ServiceView};
use super::AppState;
use crate::domain::{EstateTz, Period, Slug, Timestamp};
use crate::ledger::{Account, Category, FundAccount, IncomeSource, Statement};
use crate::store::{EntryFilter, EstateRow};
use crate::tlog::note::Note;
use crate::tlog::Hash;

pub fn router() -> Router<AppState> {
    Router::new().route("/estates/{slug}", get(page))
}

/// Months the chart and the twelve-month figures cover.
pub const MONTHS: usize = 12;
/// Service records the dashboard lists.
const RECENT_SERVICES: u64 = 5;

/// Income, spending and fee collection over a span of months, in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub fees_collected: i64,
    pub public_income: i64,
    pub spending: i64,
    pub fees_charged: i64,
}

impl Figures {
    /// Money that came into the fund: fees collected and public income.
    pub fn income(&self) -> i64 {
        self.fees_collected + self.public_income
    }

    /// Fees collected ÷ fees charged, in hundredths of a percent, rounded
    /// half up; `None` when nothing was charged.
    pub fn rate_basis_points(&self) -> Option<i64> {
        if self.fees_charged <= 0 {
            return None;
        }
        let (a, b) = (
            i128::from(self.fees_collected.max(0)),
            i128::from(self.fees_charged),
        );
        i64::try_from((2 * a * 10_000 + b) / (2 * b)).ok()
    }

    fn add(&mut self, m: &MonthBars, charged: i64) {
        self.fees_collected += m.fees;
        self.public_income += m.public.iter().sum::<i64>();
        self.spending += m.spending.iter().sum::<i64>();
        self.fees_charged += charged;
    }
}

/// "97.1%" from basis points.
pub fn percent(bp: Option<i64>) -> String {
    match bp {
        Some(bp) => {
            let tenths = (bp + 5) / 10;
            format!("{}.{}%", tenths / 10, tenths % 10)
        }
        None => "—".into(),
    }
}

/// "0.9712" from basis points, for JSON.
fn ratio_text(bp: Option<i64>) -> Option<String> {
    bp.map(|bp| format!("{}.{:04}", bp / 10_000, bp % 10_000))
}

/// Who signed a checkpoint.
pub struct SignerView {
    pub key_name: String,
    /// The member id for a witness; `None` for the log key.
    pub member: Option<String>,
    pub name: String,
}

pub struct CheckpointView {
    pub tree_size: u64,
    pub root: Hash,
    pub signed_at: Option<Timestamp>,
    pub signers: Vec<SignerView>,
}

pub struct Dashboard {
    pub estate: EstateRow,
    pub tz: EstateTz,
    pub as_of: Timestamp,
    pub period: Period,
    pub tree_size: u64,
    pub balances: Vec<(FundAccount, i64)>,
    /// Oldest first, ending with `period`.
    pub months: Vec<MonthBars>,
    pub charged: Vec<i64>,
    pub this_month: Figures,
    pub this_year: Figures,
    pub last_12: Figures,
    pub pending: Vec<ClaimView>,
    pub pending_count: usize,
    pub services: Vec<ServiceView>,
    pub checkpoint: Option<CheckpointView>,
    /// The newest published statement and its entry's seq.
    pub latest_statement: Option<(u64, Statement)>,
}

pub async fn gather(
    app: &AppState,
    slug: &Slug,
    estate: EstateRow,
) -> Result<Dashboard, PageError> {
    struct Snap {
        tz: EstateTz,
        origin: String,
        as_of: Timestamp,
        size: u64,
        periods: Vec<Period>,
        collected: Vec<i64>,
        pending: Vec<claims::ClaimCore>,
        pending_count: usize,
        latest_statement: Option<(u64, Statement)>,
    }
    let snap = app
        .store
        .with_state(slug, |s| {
            let info = s.estate()?;
            let as_of = claims::as_of(s);
            let mut periods = vec![as_of.period_in(&info.timezone)];
            while periods.len() < MONTHS {
                match periods.last().and_then(|p| p.prev()) {
                    Some(p) => periods.push(p),
                    None => break,
                }
            }
            periods.reverse();
            let open: Vec<_> = s.open_claims(as_of).collect();
            Some(Snap {
                tz: info.timezone,
                origin: info.origin.clone(),
                as_of,
                size: s.size(),
                collected: periods.iter().map(|p| s.collected(*p).fen()).collect(),
                periods,
                pending_count: open.len(),
                latest_statement: s.statements().values().next_back().cloned(),
                pending: open
                    .into_iter()
                    .take(DASHBOARD_PENDING)
                    .map(|c| claims::core(s, c, as_of))
                    .collect(),
            })
        })
        .await?
        .ok_or(PageError::NotFound(Missing::Estate))?;

    let fund = app.store.fund_balances(slug).await?;
    let balances = FundAccount::ALL
        .iter()
        .map(|f| {
            let name = Account::Fund(*f).to_string();
            let fen = fund.iter().find(|(a, _)| *a == name).map_or(0, |(_, b)| *b);
            (*f, fen)
        })
        .collect();

    let totals = app.store.monthly_totals(slug, &snap.periods).await?;
    let mut months: Vec<MonthBars> = snap
        .periods
        .iter()
        .zip(&snap.collected)
        .map(|(p, c)| MonthBars {
            period: *p,
            fees: *c,
            public: [0; 4],
            spending: [0; 10],
        })
        .collect();
    let mut charged = vec![0i64; months.len()];
    for t in &totals {
        let Some(i) = snap.periods.iter().position(|p| *p == t.period) else {
            continue;
        };
        match Account::from_str(&t.account) {
            Ok(Account::IncomeFees) => charged[i] += t.credit_fen - t.debit_fen,
            Ok(Account::IncomePublic(s)) => {
                if let Some(k) = IncomeSource::ALL.iter().position(|x| *x == s) {
                    months[i].public[k] += t.credit_fen - t.debit_fen;
                }
            }
            Ok(Account::Expense(c)) => {
                if let Some(k) = Category::ALL.iter().position(|x| *x == c) {
                    months[i].spending[k] += t.debit_fen - t.credit_fen;
                }
            }
            _ => {}
        }
    }
    let period = snap
        .periods
        .last()
        .copied()
        .unwrap_or_else(|| snap.as_of.period_in(&snap.tz));
    let (mut this_month, mut this_year, mut last_12) =
        (Figures::default(), Figures::default(), Figures::default());
    for (m, c) in months.iter().zip(&charged) {
        last_12.add(m, *c);
        if m.period.year() == period.year() {
            this_year.add(m, *c);
        }
        if m.period == period {
            this_month.add(m, *c);
        }
    }

    let names = app.store.member_names(slug).await?;
    let pending = claims::load(app, slug, snap.pending, &names).await?;
    let filter = EntryFilter {
        kind: Some("service_record"),
        ..EntryFilter::default()
    };
    let rows = app
        .store
        .entries_page(slug, &filter, None, RECENT_SERVICES)
        .await?;
    let (_, services) = services::views(app, slug, rows).await?;

    let checkpoint = app.store.latest_checkpoint(slug).await?.map(|cp| {
        let members = format!("{}/members/", snap.origin);
        let signers = Note::parse(&cp.note)
            .map(|n| n.signatures)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let member = s.name.strip_prefix(&members).map(str::to_string);
                let name = member
                    .as_ref()
                    .map(|m| names.get(m).cloned().unwrap_or_else(|| m.clone()))
                    .unwrap_or_default();
                SignerView {
                    key_name: s.name,
                    member,
                    name,
                }
            })
            .collect();
        CheckpointView {
            tree_size: cp.tree_size,
            root: cp.root,
            signed_at: Timestamp::parse("signed_at", &cp.signed_at).ok(),
            signers,
        }
    });

    Ok(Dashboard {
        estate,
        tz: snap.tz,
        as_of: snap.as_of,
        period,
        tree_size: snap.size,
        balances,
        months,
        charged,
        this_month,
        this_year,
        last_12,
        pending,
        pending_count: snap.pending_count,
        services,
        checkpoint,
        latest_statement: snap.latest_statement,
    })
}

// ---------------------------------------------------------------- page

pub struct BalanceRow {
    pub code: String,
    pub label: &'static str,
    pub amount: String,
}

pub struct FigureRow {
    pub label: &'static str,
    pub span: String,
    pub income: String,
    pub fees_collected: String,
    pub public_income: String,
    pub spending: String,
    pub fees_charged: String,
    pub rate: String,
}

pub struct MonthRow {
    pub period: String,
    pub fees: String,
    pub public: String,
    pub spending: String,
    pub charged: String,
    pub rate: String,
}

pub struct SignerRow {
    pub label: String,
    pub key_name: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Page {
    c: Chrome,
    t: &'static Texts,
    slug: String,
    name: String,
    as_of: String,
    balances: Vec<BalanceRow>,
    total: String,
    figures: Vec<FigureRow>,
    chart: Chart,
    month_rows: Vec<MonthRow>,
    pending: Vec<ClaimRow>,
    pending_more: bool,
    services: Vec<ServiceRow>,
    checkpoint: Option<(u64, String, String, String)>,
    signers: Vec<SignerRow>,
    statement: Option<LatestStatement>,
}

/// The newest statement's headline figures.
pub struct LatestStatement {
    pub period: String,
    pub heading: String,
    pub income: String,
    pub spending: String,
    pub closing: String,
    pub arrears: String,
    pub remuneration: String,
}

fn latest_statement(st: &Statement, t: &Texts) -> LatestStatement {
    let closing: i64 = FundAccount::ALL
        .iter()
        .map(|f| st.closing.get(*f).fen())
        .sum();
    LatestStatement {
        period: st.period.to_string(),
        heading: t.statement_heading(st.period),
        income: cny(st.fees_collected.fen() + st.public_income_total().fen()),
        spending: st.spending_total().format_cny(),
        closing: cny(closing),
        arrears: st.arrears.format_cny(),
        remuneration: format!(
            "{} / {}",
            st.remuneration.taken.format_cny(),
            st.remuneration.entitlement.format_cny()
        ),
    }
}

fn figure_row(label: &'static str, span: String, f: &Figures) -> FigureRow {
    FigureRow {
        label,
        span,
        income: cny(f.income()),
        fees_collected: cny(f.fees_collected),
        public_income: cny(f.public_income),
        spending: cny(f.spending),
        fees_charged: cny(f.fees_charged),
        rate: percent(f.rate_basis_points()),
    }
}

async fn page(State(app): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    let mut estate: Option<EstateRow> = None;
    let result = async {
        let (slug, er) = open_estate(&app, &slug).await?;
        estate = Some(er.clone());
        let d = gather(&app, &slug, er.clone()).await?;
        let t = ctx.t();
        let first = d.months.first().map(|m| m.period).unwrap_or(d.period);
        let year_first = d
            .months
            .iter()
            .find(|m| m.period.year() == d.period.year())
            .map_or(d.period, |m| m.period);
        let span = |a: Period, b: Period| {
            if a == b {
                a.to_string()
            } else {
                format!("{a} – {b}")
            }
        };
        let page = Page {
            c: ctx.chrome(&app, Some(&er), "dashboard"),
            t,
            slug: slug.to_string(),
            name: d.estate.name.clone(),
            as_of: local_time(d.as_of, &d.tz),
            balances: d
                .balances
                .iter()
                .map(|(f, fen)| BalanceRow {
                    code: Account::Fund(*f).to_string(),
                    label: t.fund(*f),
                    amount: cny(*fen),
                })
                .collect(),
            total: cny(d.balances.iter().map(|(_, b)| b).sum()),
            figures: vec![
                figure_row(t.this_month, span(d.period, d.period), &d.this_month),
                figure_row(t.this_year, span(year_first, d.period), &d.this_year),
                figure_row(t.last_12, span(first, d.period), &d.last_12),
            ],
            chart: chart::draw(&d.months, t),
            month_rows: d
                .months
                .iter()
                .zip(&d.charged)
                .map(|(m, c)| {
                    let mut f = Figures::default();
                    f.add(m, *c);
                    MonthRow {
                        period: m.period.to_string(),
                        fees: cny(f.fees_collected),
                        public: cny(f.public_income),
                        spending: cny(f.spending),
                        charged: cny(f.fees_charged),
                        rate: percent(f.rate_basis_points()),
                    }
                })
                .collect(),
            pending: d.pending.iter().map(|v| claims::row(v, t, &d.tz)).collect(),
            pending_more: d.pending_count > d.pending.len(),
            services: d
                .services
                .iter()
                .map(|v| services::row(v, t, &d.tz))
                .collect(),
            checkpoint: d.checkpoint.as_ref().map(|c| {
                (
                    c.tree_size,
                    c.root.to_hex(),
                    c.root.to_base64(),
                    c.signed_at
                        .map(|s| local_time(s, &d.tz))
                        .unwrap_or_default(),
                )
            }),
            signers: d
                .checkpoint
                .iter()
                .flat_map(|c| &c.signers)
                .map(|s| SignerRow {
                    label: match &s.member {
                        None => t.log_key.to_string(),
                        Some(_) => format!("{} · {}", t.witness, s.name),
                    },
                    key_name: s.key_name.clone(),
                })
                .collect(),
            statement: d
                .latest_statement
                .as_ref()
                .map(|(_, st)| latest_statement(st, t)),
        };
        Ok(render(&page, &ctx)?)
    }
    .await;
    finish(result, &ctx, &app, estate.as_ref())
}

// ---------------------------------------------------------------- JSON

fn figures_json(f: &Figures, from: Period, to: Period) -> Value {
    json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "income": decimal(f.income()),
        "fees_collected": decimal(f.fees_collected),
        "public_income": decimal(f.public_income),
        "spending": decimal(f.spending),
        "fees_charged": decimal(f.fees_charged),
        "collection_rate": ratio_text(f.rate_basis_points()),
    })
}

pub fn json(d: &Dashboard) -> Value {
    let slug = d.estate.slug.as_str();
    let mut balances = Map::new();
    for (f, fen) in &d.balances {
        balances.insert(Account::Fund(*f).to_string(), Value::from(decimal(*fen)));
    }
    let first = d.months.first().map_or(d.period, |m| m.period);
    let year_first = d
        .months
        .iter()
        .find(|m| m.period.year() == d.period.year())
        .map_or(d.period, |m| m.period);
    let months: Vec<Value> = d
        .months
        .iter()
        .zip(&d.charged)
        .map(|(m, c)| {
            let mut public = Map::new();
            for (k, s) in IncomeSource::ALL.iter().enumerate() {
                public.insert(s.as_str().into(), Value::from(decimal(m.public[k])));
            }
            let mut spending = Map::new();
            for (k, cat) in Category::ALL.iter().enumerate() {
                spending.insert(cat.as_str().into(), Value::from(decimal(m.spending[k])));
            }
            json!({
                "period": m.period.to_string(),
                "fees_charged": decimal(*c),
                "fees_collected": decimal(m.fees),
                "public_income": public,
                "spending": spending,
            })
        })
        .collect();
    json!({
        "slug": slug,
        "name": d.estate.name,
        "origin": d.estate.origin,
        "timezone": d.tz.name(),
        "as_of": d.as_of.to_string(),
        "period": d.period.to_string(),
        "tree_size": d.tree_size,
        "balances": balances,
        "this_month": figures_json(&d.this_month, d.period, d.period),
        "this_year": figures_json(&d.this_year, year_first, d.period),
        "last_12_months": figures_json(&d.last_12, first, d.period),
        "months": months,
        "pending_claims": d.pending.iter().map(|c| claims::json(c, slug)).collect::<Vec<_>>(),
        "pending_claims_total": d.pending_count,
        "recent_service_records": d.services.iter().map(|s| services::json(s, slug)).collect::<Vec<_>>(),
        "checkpoint": d.checkpoint.as_ref().map(|c| json!({
            "tree_size": c.tree_size,
            "root": c.root.to_hex(),
            "root_base64": c.root.to_base64(),
            "signed_at": c.signed_at.map(|s| s.to_string()),
            "signers": c.signers.iter().map(|s| json!({
                "key_name": s.key_name,
                "member": s.member,
                "name": if s.member.is_some() { Some(&s.name) } else { None },
            })).collect::<Vec<_>>(),
            "note": format!("/estates/{slug}/log/checkpoint"),
        })),
        "latest_statement": d.latest_statement.as_ref().map(|(seq, st)| json!({
            "period": st.period.to_string(),
            "seq": seq,
            "fees_collected": st.fees_collected.to_string(),
            "public_income": st.public_income_total().to_string(),
            "spending": st.spending_total().to_string(),
            "arrears": st.arrears.to_string(),
            "statement": format!("/api/v1/estates/{slug}/statements/{}", st.period),
        })),
    })
}
