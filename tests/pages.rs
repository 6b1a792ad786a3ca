//! The owners' pages over real HTTP on a loopback port, on both engines:
//! the demo estate's figures as an independent replay of its entries
//! computes them, hostile text escaped everywhere, bounded paging and
//! filters, the unit page behind its secret, and 404 pages in the
//! reader's language. Monthly statements: the list, each month's figures
//! exactly as its `statement_published` entry has them, the cosignatures
//! that verify, the QR code and the print stylesheet.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{ts, Engine, TestDb, TestEstate, T0};
use trustfund::domain::{
    Date, Description, EstateTz, Location, MemberId, Money, Name, Payee, Period, Purpose, Slug,
    Timestamp,
};
use trustfund::http::{router, AppState};
use trustfund::keys::Keyring;
use trustfund::ledger::{
    Account, Body, Category, Entry, FundAccount, IncomeSource, Role, Side, Statement,
};
use trustfund::store::{Draft, Store};
use trustfund::tlog::checkpoint::cosign_checkpoint;
use trustfund::tlog::note::{Note, Signer, ALG_COSIGNATURE_V1};

both_engines!(
    demo_dashboard_and_ledger,
    demo_claims_services_and_units,
    hostile_text_is_escaped,
    unknown_things_are_404_pages_in_the_right_language,
    demo_statements,
    statement_text_is_escaped_and_nonsense_refused
);

/// The demo's fixed clock (DESIGN: the demo covers the twelve months
/// before the anchor month).
pub const DEMO_NOW: i64 = 1_795_060_800;

struct Server {
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(store: Arc<Store>, keys: Keyring) -> Server {
        let app = router(AppState::new(store, keys));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap()
        });
        Server {
            base,
            client: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    /// A page that must answer 200 with HTML.
    async fn page(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        r.text().await.unwrap()
    }

    /// A page that must fail with `status`, and its body.
    async fn fails(&self, path: &str, status: u16) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        r.text().await.unwrap()
    }
}

async fn demo(engine: Engine) -> (TestDb, Arc<Store>, Server) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    trustfund::demo::load(
        &store,
        &db.keys(),
        Period::parse("anchor", "2026-11").unwrap(),
        Timestamp::from_unix(DEMO_NOW).unwrap(),
    )
    .await
    .expect("demo loads");
    let server = Server::start(store.clone(), db.keys()).await;
    (db, store, server)
}

fn cny(fen: i64) -> String {
    let m = Money::from_fen(fen.abs()).unwrap().format_cny();
    if fen < 0 {
        format!("−{m}")
    } else {
        m
    }
}

/// "92.2%" as the dashboard rounds it: to basis points, then to tenths.
fn percent(collected: i64, charged: i64) -> String {
    if charged <= 0 {
        return "—".into();
    }
    let (a, b) = (i128::from(collected), i128::from(charged));
    let bp = ((2 * a * 10_000 + b) / (2 * b)) as i64;
    let tenths = (bp + 5) / 10;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// Figures per month, replayed from the entries themselves: an
/// independent check of what `monthly_totals` and the state keep.
#[derive(Default)]
struct Replayed {
    collected: BTreeMap<Period, i64>,
    charged: BTreeMap<Period, i64>,
    public: BTreeMap<Period, i64>,
    spending: BTreeMap<Period, i64>,
    fund: BTreeMap<String, i64>,
    kinds: BTreeMap<String, u64>,
    last_time: Option<Timestamp>,
}

async fn replay(store: &Store, slug: &Slug) -> Replayed {
    let size = store.tree_size(slug).await.unwrap();
    let mut out = Replayed::default();
    let mut payments: BTreeMap<u64, (Period, i64)> = BTreeMap::new();
    let tz = EstateTz::SHANGHAI;
    let mut start = 0;
    while start < size {
        let end = (start + 1000).min(size);
        for bytes in store.entries_range(slug, start, end).await.unwrap() {
            let e = Entry::parse(&bytes).unwrap();
            let p = e.time.period_in(&tz);
            *out.kinds.entry(e.body.kind().to_string()).or_default() += 1;
            out.last_time = Some(e.time);
            match &e.body {
                Body::FeePaid { amount, .. } => {
                    *out.collected.entry(p).or_default() += amount.fen();
                    payments.insert(e.seq, (p, amount.fen()));
                }
                Body::Correction { corrects, .. } => {
                    if let Some((q, fen)) = payments.get(corrects) {
                        *out.collected.entry(*q).or_default() -= fen;
                    }
                }
                _ => {}
            }
            for posting in e.body.postings() {
                let signed = match posting.side {
                    Side::Debit => posting.amount.fen(),
                    Side::Credit => -posting.amount.fen(),
                };
                match &posting.account {
                    Account::IncomeFees => *out.charged.entry(p).or_default() -= signed,
                    Account::IncomePublic(_) => *out.public.entry(p).or_default() -= signed,
                    Account::Expense(_) => *out.spending.entry(p).or_default() += signed,
                    Account::Fund(f) => {
                        *out.fund.entry(format!("fund:{f}")).or_default() += signed;
                    }
                    _ => {}
                }
            }
        }
        start = end;
    }
    out
}

/// The twelve months the dashboard covers: those ending with the month
/// of now (or of the last entry, if the log is ahead of the clock).
fn window(r: &Replayed) -> Vec<Period> {
    let now = Timestamp::now().unwrap();
    let as_of = r.last_time.map_or(now, |l| now.max(l));
    let mut p = as_of.period_in(&EstateTz::SHANGHAI);
    let mut out = vec![p];
    for _ in 1..12 {
        p = p.prev().unwrap();
        out.push(p);
    }
    out.reverse();
    out
}

fn sum(m: &BTreeMap<Period, i64>, periods: &[Period]) -> i64 {
    periods.iter().map(|p| m.get(p).copied().unwrap_or(0)).sum()
}

/// The text of the dashboard card whose heading starts with `heading`.
fn card<'a>(html: &'a str, heading: &str) -> &'a str {
    let start = html
        .find(&format!("<h2 style=\"margin-top:0\">{heading}"))
        .unwrap_or_else(|| panic!("no card {heading}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

async fn demo_dashboard_and_ledger(engine: Engine) {
    let (_db, store, s) = demo(engine).await;
    let slug = Slug::parse("slug", "dongfang").unwrap();
    let r = replay(&store, &slug).await;

    // Balances: what the page shows is the balances table, which is what
    // the entries add up to.
    let zh = s.page("/estates/dongfang").await;
    assert!(zh.contains("<html lang=\"zh-CN\">"));
    assert!(zh.contains("东方新天地花园"));
    let table: BTreeMap<String, i64> = store
        .fund_balances(&slug)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(table, r.fund, "balances table = replayed postings");
    for (account, fen) in &table {
        assert!(
            zh.contains(&format!("data-account=\"{account}\"")),
            "{account}"
        );
        assert!(
            zh.contains(&format!("<div class=\"value\">{}</div>", cny(*fen))),
            "{account} {fen}"
        );
    }
    assert!(zh.contains(&cny(table.values().sum())), "total");

    // Twelve months of income, spending and collection, replayed.
    let months = window(&r);
    let collected = sum(&r.collected, &months);
    let public = sum(&r.public, &months);
    let charged = sum(&r.charged, &months);
    let spending = sum(&r.spending, &months);
    assert!(
        collected > 0 && charged > 0 && spending > 0,
        "the demo overlaps the window"
    );
    let last12 = card(&zh, "近 12 个月");
    for want in [
        cny(collected + public),
        cny(collected),
        cny(public),
        cny(spending),
        cny(charged),
        percent(collected, charged),
    ] {
        assert!(
            last12.contains(&want),
            "last 12 months should show {want}: {last12}"
        );
    }
    let this = *months.last().unwrap();
    let year: Vec<Period> = months
        .iter()
        .copied()
        .filter(|p| p.year() == this.year())
        .collect();
    let year_card = card(&zh, "本年");
    assert!(year_card.contains(&cny(sum(&r.collected, &year) + sum(&r.public, &year))));
    assert!(year_card.contains(&cny(sum(&r.spending, &year))));
    let month_card = card(&zh, "本月");
    assert!(month_card.contains(&cny(sum(&r.spending, &[this]))));
    // The chart is inline SVG with one bar segment per month and source.
    assert!(zh.contains("<svg viewBox=\"0 0 400 230\""));
    assert!(zh.matches("<rect ").count() >= 12);
    assert!(!zh.contains("<script"), "no JavaScript");
    // The checkpoint: size and root as the store has them.
    let cp = store.latest_checkpoint(&slug).await.unwrap().unwrap();
    assert!(zh.contains(&cp.root.to_hex()));
    assert!(zh.contains(&format!("<dd>{}</dd>", cp.tree_size)));
    assert!(zh.contains("本小区日志密钥"));

    let en = s.page("/estates/dongfang?lang=en").await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Fund balances"));
    assert!(card(&en, "Last 12 months").contains(&percent(collected, charged)));

    // The ledger: newest first, bounded pages, a cursor.
    let size = store.tree_size(&slug).await.unwrap();
    let ledger = s.page("/estates/dongfang/ledger").await;
    assert_eq!(ledger.matches("<tr>").count() - 1, 50, "default page of 50");
    assert!(ledger.contains(&format!(
        "/estates/dongfang/ledger/{}\">#{}</a>",
        size - 1,
        size - 1
    )));
    let big = s.page("/estates/dongfang/ledger?limit=200").await;
    assert_eq!(big.matches("<tr>").count() - 1, 200);
    let older = format!("before={}", size - 200);
    assert!(big.contains(&older), "next-page cursor");
    let page2 = s
        .page(&format!("/estates/dongfang/ledger?limit=200&{older}"))
        .await;
    assert!(page2.contains(&format!("/ledger/{}\">#{}</a>", size - 201, size - 201)));
    assert!(!page2.contains(&format!("/ledger/{}\">#{}</a>", size - 200, size - 200)));

    // Filters narrow and combine.
    let paid = s
        .page("/estates/dongfang/ledger?kind=fee_paid&limit=200")
        .await;
    let rows = paid.matches("<tr>").count() - 1;
    assert_eq!(rows, 200.min(r.kinds["fee_paid"] as usize));
    assert_eq!(paid.matches(">物业费缴纳</td>").count(), rows);
    let reserve = s
        .page("/estates/dongfang/ledger?account=fund:reserve&limit=200")
        .await;
    assert!(
        reserve.contains("¥7,800.00") && reserve.contains("¥800,000.00"),
        "{reserve}"
    );
    let repairs = s.page("/estates/dongfang/ledger?category=repairs").await;
    assert!(repairs.contains("¥7,800.00"));
    let month = months[5];
    let in_month = s
        .page(&format!(
            "/estates/dongfang/ledger?month={month}&kind=public_income_received"
        ))
        .await;
    assert!(
        in_month.matches("<tr>").count() > 2,
        "{month}: two incomes or more"
    );
    assert!(in_month.contains(&format!(">{month}-")));

    // Nonsense is refused by name, in the reader's language.
    for (query, name) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("before=-1", "before"),
        ("before=007", "before"),
        ("kind=bogus", "kind"),
        ("kind=fee_paid&kind=fees_charged", "kind"),
        ("account=fund:savings", "account"),
        ("account=receivable:XYZ", "account"),
        ("category=luxury", "category"),
        ("account=fund:reserve&category=repairs", "category"),
        ("month=2026-13", "month"),
        ("month=May", "month"),
    ] {
        let body = s
            .fails(&format!("/estates/dongfang/ledger?{query}"), 400)
            .await;
        assert!(
            body.contains("请求有误") && body.contains(&format!("参数 {name}")),
            "{query}: {body}"
        );
        let body = s
            .fails(&format!("/estates/dongfang/ledger?{query}&lang=en"), 400)
            .await;
        assert!(
            body.contains(&format!("Parameter {name}")),
            "{query}: {body}"
        );
    }

    // An entry page: bytes, hash, prev with a link, postings, proof, and
    // for a payment out of the fund its claim and the signatures.
    let seq = store
        .entries_page(
            &slug,
            &trustfund::store::EntryFilter {
                kind: Some("disbursement_executed"),
                ..Default::default()
            },
            None,
            1,
        )
        .await
        .unwrap()[0]
        .seq;
    let row = store.entry_row(&slug, seq).await.unwrap().unwrap();
    let entry = s.page(&format!("/estates/dongfang/ledger/{seq}")).await;
    assert!(entry.contains(&row.hash.to_hex()));
    assert!(entry.contains(&row.prev.to_hex()));
    assert!(entry.contains(&format!(
        "/estates/dongfang/ledger/{}\">#{}</a>",
        seq - 1,
        seq - 1
    )));
    let escaped = row
        .body
        .replace('&', "&#38;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
        .replace('<', "&#60;")
        .replace('>', "&#62;");
    assert!(entry.contains(&escaped), "exact bytes shown");
    let proof = format!(
        "/estates/dongfang/log/proof/inclusion?index={seq}&amp;size={}",
        cp.tree_size
    );
    assert!(entry.contains(&proof));
    let proof_json = s.get(&proof.replace("&amp;", "&")).await;
    assert_eq!(proof_json.status(), 200);
    let Body::DisbursementExecuted {
        claim, approvals, ..
    } = row.entry().unwrap().body
    else {
        panic!("not a disbursement");
    };
    assert!(entry.contains(&format!("/estates/dongfang/claims/{claim}")));
    for a in approvals {
        assert!(entry.contains(&format!("/estates/dongfang/ledger/{a}\">#{a}</a>")));
    }
    assert!(entry.contains("记账分录") && entry.contains("fund:operating"));
}

async fn demo_claims_services_and_units(engine: Engine) {
    let (_db, store, s) = demo(engine).await;
    let slug = Slug::parse("slug", "dongfang").unwrap();

    // Claims: the sewer repair from the reserve, with quote, 大写, evidence
    // and its service record; the rejected one with its reason; the
    // pending one with the company's signature so far.
    let (sewer, rejected, pending, record) = store
        .with_state(&slug, |st| {
            let now = Timestamp::now().unwrap().max(st.last_time().unwrap());
            let find = |f: &dyn Fn(&trustfund::ledger::Claim) -> bool| {
                st.claims().values().find(|c| f(c)).unwrap().clone()
            };
            let sewer = find(&|c| c.account == FundAccount::Reserve);
            let rejected =
                find(&|c| matches!(c.status, trustfund::ledger::ClaimStatus::Rejected { .. }));
            let pending = st.claims().values().last().unwrap().clone();
            let standing = pending.standing(now);
            (
                sewer.clone(),
                rejected,
                (pending, standing),
                sewer.service_record.unwrap(),
            )
        })
        .await
        .unwrap();
    let list = s.page("/estates/dongfang/claims").await;
    assert!(list.contains(&format!("/estates/dongfang/claims/{}\"", pending.0.seq)));
    let page = s
        .page(&format!("/estates/dongfang/claims/{}", sewer.seq))
        .await;
    for want in [
        "历城管道疏通工程队",
        "¥7,800.00",
        "柒仟捌佰元整",
        "¥38,600.00",
        "维修资金账户",
        "已支付",
        "王建国（业委会主任）",
        "业委会",
        "物业公司",
    ] {
        assert!(page.contains(want), "sewer claim page should show {want}");
    }
    assert!(page.contains(&format!("/estates/dongfang/services/{record}\"")));
    assert!(page.contains("SHA-256") && page.contains("文件以其 SHA-256 命名保存"));
    assert!(
        page.contains("/evidence/"),
        "each evidence hash links to its file"
    );
    // The demo ships its evidence: the claim's file is served, and is the
    // file its hash names.
    let claim_bytes = s
        .get(&format!("/estates/dongfang/log/entries/{}", sewer.seq))
        .await
        .text()
        .await
        .unwrap();
    let claim_entry = trustfund::ledger::Entry::parse(&claim_bytes).unwrap();
    let file_hash = claim_entry.body.evidence()[0];
    let r = s
        .get(&format!(
            "/estates/dongfang/evidence/{}",
            file_hash.to_hex()
        ))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.ends_with(b"%%EOF\n"));
    assert_eq!(
        ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref(),
        file_hash.0.as_slice()
    );
    let page = s
        .page(&format!(
            "/estates/dongfang/claims/{}?lang=en",
            rejected.seq
        ))
        .await;
    assert!(
        page.contains("Rejected") && page.contains("请补充两家比价后重新提交"),
        "{page}"
    );
    let page = s
        .page(&format!("/estates/dongfang/claims/{}", pending.0.seq))
        .await;
    let label = match pending.1 {
        trustfund::ledger::views::Standing::Pending => "待审批",
        _ => "已过期",
    };
    assert!(
        page.contains(label) && page.contains("泉城信托物业服务有限公司"),
        "{page}"
    );
    let dash = s.page("/estates/dongfang").await;
    if label == "待审批" {
        assert!(dash.contains(&format!("/estates/dongfang/claims/{}\"", pending.0.seq)));
        assert!(dash.contains("已有签名"));
    }
    assert!(s
        .page("/estates/dongfang/claims?status=rejected")
        .await
        .contains("光影亮化工程有限公司"));
    s.fails("/estates/dongfang/claims?status=maybe", 400).await;
    s.fails("/estates/dongfang/claims?limit=500", 400).await;

    // Service records: the sewer repair with its cost and the claim that paid.
    let services = s.page("/estates/dongfang/services").await;
    assert!(services.contains("电梯月度维保"));
    let record_page = s
        .page(&format!("/estates/dongfang/services/{record}"))
        .await;
    assert!(record_page.contains("3 号楼污水主管堵塞疏通及破损管段更换"));
    assert!(record_page.contains("¥7,800.00") && record_page.contains("历城管道疏通工程队"));
    assert!(record_page.contains(&format!("/estates/dongfang/claims/{}\"", sewer.seq)));
    let all = s.page("/estates/dongfang/services?limit=200").await;
    assert!(
        !all.contains("rel=\"next\""),
        "the demo's records fit one page of 200"
    );

    // The unit page, opened with the code from the bill.
    let unit = store.unit(&slug, "1-101").await.unwrap().unwrap();
    let account = format!("receivable:{}", unit.commitment);
    let owed = store
        .balances(&slug)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _)| *a == account)
        .map_or(0, |(_, b)| b);
    // Payments and any corrections of them: every posting on the
    // receivable that is not a monthly charge.
    let payments: Vec<_> = store
        .entries_page(
            &slug,
            &trustfund::store::EntryFilter {
                kind: None,
                account: Some(account.parse().unwrap()),
                period: None,
            },
            None,
            200,
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind != "fees_charged")
        .collect();
    assert!(!payments.is_empty());
    let page = s
        .page(&format!("/estates/dongfang/units/{}", unit.secret))
        .await;
    assert!(page.contains("1-101") && page.contains(&unit.commitment));
    let owed_text = if owed > 0 { cny(owed) } else { cny(-owed) };
    assert!(page.contains(&owed_text), "owed {owed}");
    let cp = store.latest_checkpoint(&slug).await.unwrap().unwrap();
    for p in &payments {
        assert!(page.contains(&format!(
            "/estates/dongfang/ledger/{}\">#{}</a>",
            p.seq, p.seq
        )));
        assert!(page.contains(&format!(
            "/estates/dongfang/log/proof/inclusion?index={}&#38;size={}",
            p.seq, cp.tree_size
        )));
    }
    assert_eq!(
        page.matches("<code class=\"hash\" title=").count(),
        payments.len(),
        "one receipt per payment"
    );
    // Forgiving input: lowercase, grouped.
    let grouped = unit
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("-");
    let r = s.get(&format!("/estates/dongfang/units/{grouped}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    // The form posts the code in the body, keeping it out of the address.
    let form = s.page("/estates/dongfang/unit").await;
    assert!(form.contains("method=\"post\""));
    let posted = s
        .client
        .post(format!("{}/estates/dongfang/unit", s.base))
        .form(&[("code", grouped.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert!(posted.text().await.unwrap().contains(&unit.commitment));

    // Wrong, malformed and missing codes all get one and the same answer.
    let mut wrong = unit.secret.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).unwrap();
    let a = s
        .fails(&format!("/estates/dongfang/units/{wrong}"), 404)
        .await;
    let b = s.fails("/estates/dongfang/units/not-a-code", 404).await;
    let c = s
        .client
        .post(format!("{}/estates/dongfang/unit", s.base))
        .form(&[("code", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(c.status(), 404);
    let c = c.text().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert!(a.contains("没有与这个查询码对应的房屋") && !a.contains(&wrong));

    // Ten look-ups a minute per client: this server has seen 6 so far,
    // and a token comes back every six seconds, so the bucket runs dry
    // within a few more attempts however slow this machine is.
    let mut limited = None;
    for _ in 0..20 {
        let r = s
            .get(&format!("/estates/dongfang/units/{}", unit.secret))
            .await;
        if r.status() == 429 {
            limited = Some(r.text().await.unwrap());
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let limited = limited.expect("the unit look-up is rate limited");
    assert!(limited.contains("尝试次数过多"), "{limited}");
}

async fn hostile(engine: Engine) -> (TestDb, Arc<Store>, TestEstate, Server) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let estate = TestEstate::create(&store, &db.keys(), "hostile").await;
    let record = estate
        .append(
            &store,
            vec![Body::ServiceRecord {
                title: Name::parse("t", "<script>alert(\"title\")</script>").unwrap(),
                description: Description::parse(
                    "d",
                    "\" onmouseover=\"alert(1)\n<img src=x onerror=alert(2)>",
                )
                .unwrap(),
                location: Location::parse("l", "javascript:alert('where')").unwrap(),
                done_on: Date::parse("d", "2026-01-05").unwrap(),
                done_by: Name::parse("b", "' onclick='alert(3)").unwrap(),
                cost: Some(Money::parse("c", "12.00").unwrap()),
                evidence: vec![],
            }
            .into()],
        )
        .await
        .unwrap()[0]
        .clone();
    let claim = estate
        .append(
            &store,
            vec![Body::ClaimSubmitted {
                account: FundAccount::Operating,
                category: Category::Repairs,
                payee: Payee::parse("p", "<img src=x onerror=alert(4)>").unwrap(),
                amount: Money::parse("a", "12.00").unwrap(),
                purpose: Purpose::parse(
                    "p",
                    "javascript:alert(\"purpose\")</td><script>x</script>",
                )
                .unwrap(),
                quote: None,
                evidence: vec![],
                service_record: Some(record.seq),
                period: None,
                transfer_to: None,
                expires: Timestamp::MIN,
            }
            .into()],
        )
        .await
        .unwrap()[0]
        .clone();
    estate
        .append(&store, vec![estate.approve(&claim, &estate.company)])
        .await
        .unwrap();
    let server = Server::start(store.clone(), db.keys()).await;
    (db, store, estate, server)
}

fn assert_inert(path: &str, html: &str) {
    for bad in [
        "<script>",
        "<img src=x",
        "\" onmouseover=\"",
        "' onclick='",
        "href=\"javascript:",
        "</td><script>",
    ] {
        assert!(!html.contains(bad), "{path} contains {bad:?} unescaped");
    }
}

async fn hostile_text_is_escaped(engine: Engine) {
    let (_db, store, e, s) = hostile(engine).await;
    let size = store.tree_size(&e.slug).await.unwrap();
    let (record, claim) = (size - 3, size - 2);
    let mut seen_escaped = 0;
    for path in [
        "/".to_string(),
        "/estates/hostile".to_string(),
        "/estates/hostile?lang=en".to_string(),
        "/estates/hostile/ledger".to_string(),
        "/estates/hostile/ledger/0".to_string(),
        format!("/estates/hostile/ledger/{record}"),
        format!("/estates/hostile/ledger/{claim}"),
        "/estates/hostile/claims".to_string(),
        format!("/estates/hostile/claims/{claim}"),
        "/estates/hostile/services".to_string(),
        format!("/estates/hostile/services/{record}"),
        format!("/estates/hostile/units/{}", e.units[0].1),
    ] {
        let html = s.page(&path).await;
        assert_inert(&path, &html);
        if html.contains("&#60;script&#62;") || html.contains("&#60;img src=x") {
            seen_escaped += 1;
        }
    }
    assert!(seen_escaped >= 8, "the hostile text is shown, escaped");
    let page = s.page(&format!("/estates/hostile/services/{record}")).await;
    assert!(
        page.contains("&#60;script&#62;alert(&#34;title&#34;)&#60;/script&#62;"),
        "{page}"
    );
    assert!(page.contains("javascript:alert(&#39;where&#39;)"));
    assert!(page.contains("&#34; onmouseover=&#34;alert(1)"));
    let page = s.page(&format!("/estates/hostile/claims/{claim}")).await;
    assert!(page.contains("&#60;img src=x onerror=alert(4)&#62;"));
    // The API answers JSON, where the same text is just a string.
    let v: serde_json::Value = s
        .get(&format!("/api/v1/estates/hostile/claims/{claim}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["payee"], "<img src=x onerror=alert(4)>");
}

async fn unknown_things_are_404_pages_in_the_right_language(engine: Engine) {
    let (_db, store, e, s) = hostile(engine).await;
    let size = store.tree_size(&e.slug).await.unwrap();
    let zh = s.fails("/estates/nope", 404).await;
    assert!(
        zh.contains("<html lang=\"zh-CN\">") && zh.contains("没有这个小区"),
        "{zh}"
    );
    let en = s.fails("/estates/nope?lang=en", 404).await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("There is no such estate."));
    let en = s
        .client
        .get(format!("{}/estates/hostile/ledger/{}", s.base, size + 5))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), 404);
    let en = en.text().await.unwrap();
    assert!(en.contains("There is no such entry in the ledger."), "{en}");
    assert!(en.contains("/estates/hostile\">Back to the estate overview"));
    for (path, text) in [
        ("/estates/NOT%20A%20SLUG/ledger", "没有这个小区"),
        ("/estates/nope/claims", "没有这个小区"),
        ("/estates/hostile/ledger/abc", "账本中没有这个条目"),
        ("/estates/hostile/claims/0", "没有这个支出申请"),
        ("/estates/hostile/claims/99999", "没有这个支出申请"),
        ("/estates/hostile/services/0", "没有这条服务记录"),
        ("/estates/hostile/services/01", "没有这条服务记录"),
        ("/estates/nope/unit", "没有这个小区"),
    ] {
        let body = s.fails(path, 404).await;
        assert!(
            body.contains(text) && body.contains("<html"),
            "{path}: {body}"
        );
    }
    // A browser asking for an unknown page gets a page; machines get JSON.
    let r = s
        .client
        .get(format!("{}/estates/hostile/nothing-here?lang=en", s.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("There is no such page."));
    for path in [
        "/api/v1/estates/nope",
        "/api/v1/estates/hostile/claims/0",
        "/api/v1/estates/hostile/entries/x",
        "/estates/nope/log/checkpoint",
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "not_found", "{path}");
    }
}

// ---------------------------------------------------------------- statements

/// Every money figure of a statement by its path in the entry's JSON
/// ("closing.reserve", "spending.repairs"), formatted as pages show it.
fn statement_figures(st: &Statement) -> Vec<(String, String)> {
    fn walk(path: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    let sub = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(&sub, x, out);
                }
            }
            serde_json::Value::String(text) if path != "period" => {
                out.push((
                    path.to_string(),
                    cny(Money::parse("m", text).unwrap().fen()),
                ));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", &serde_json::to_value(st).unwrap(), &mut out);
    out
}

/// The part of a page from the element with `id` to the end of its section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The QR code's modules as the page must draw them for `text`.
fn qr_path(text: &str) -> String {
    use qrcode::render::svg;
    let svg = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .build();
    let d = &svg[svg.find(" d=\"").unwrap()..];
    d[..d[4..].find('"').unwrap() + 5].to_string()
}

async fn demo_statements(engine: Engine) {
    let (_db, store, s) = demo(engine).await;
    let slug = Slug::parse("slug", "dongfang").unwrap();
    let (statements, log_key) = store
        .with_state(&slug, |st| {
            (
                st.statements().clone(),
                st.estate().unwrap().log_key.format(),
            )
        })
        .await
        .unwrap();
    assert_eq!(statements.len(), 12, "the demo closes twelve months");

    // The list: every closed month, newest first, with its figures and
    // the witnesses whose cosignatures verify.
    let list = s.page("/estates/dongfang/statements").await;
    let periods: Vec<&str> = list
        .split("<tr data-period=\"")
        .skip(1)
        .map(|r| &r[..7])
        .collect();
    let want: Vec<String> = statements.keys().rev().map(|p| p.to_string()).collect();
    assert_eq!(periods, want);
    for (period, (_, st)) in &statements {
        let row = list
            .split(&format!("<tr data-period=\"{period}\">"))
            .nth(1)
            .unwrap();
        let row = &row[..row.find("</tr>").unwrap()];
        let closing: i64 = FundAccount::ALL
            .iter()
            .map(|f| st.closing.get(*f).fen())
            .sum();
        let income = st.fees_collected.fen() + st.public_income_total().fen();
        assert!(row.contains(&cny(closing)), "{period} closing: {row}");
        assert!(row.contains(&cny(income)), "{period} income: {row}");
        assert!(row.contains(&cny(st.spending_total().fen())), "{period}");
        assert!(
            row.contains(&format!("/estates/dongfang/statements/{period}\"")),
            "{period} link"
        );
        for w in ["c1 王建国（业委会主任）", "c2 李秀英", "c3 张伟", "c4 刘芳"] {
            assert!(
                row.contains(&format!(">{w}<")),
                "{period} witness {w}: {row}"
            );
        }
        assert!(!row.contains(">c5 ") && !row.contains(">s1 "), "{row}");
    }
    let en = s.page("/estates/dongfang/statements?lang=en").await;
    assert!(en.contains("Witnessed by") && en.contains("Closing balance, all funds"));

    // Each month's page shows exactly its entry's figures.
    for (period, (seq, st)) in statements.iter().rev().take(6) {
        let path = format!("/estates/dongfang/statements/{period}");
        let html = s.page(&path).await;
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains(&format!("{period} 月度对账单")));
        let figures = statement_figures(st);
        assert_eq!(figures.len(), 30, "every field of the statement");
        for (key, amount) in &figures {
            assert!(
                html.contains(&format!("data-figure=\"{key}\">{amount}</td>")),
                "{period} {key} {amount}"
            );
        }
        assert_eq!(
            html.matches("data-figure=\"").count(),
            figures.len(),
            "each figure once"
        );
        assert!(html.contains(&format!("#{}–#{}", st.from_seq, st.to_seq - 1)));

        // The checkpoint its bundle uses, and the cosignatures on it.
        let cp = store
            .checkpoint_covering(&slug, *seq)
            .await
            .unwrap()
            .unwrap();
        let signed = section(&html, "signed");
        assert!(signed.contains(&format!("<dd>{}</dd>", cp.tree_size)));
        assert!(signed.contains(&cp.root.to_base64()));
        for m in ["c1", "c2", "c3", "c4"] {
            assert!(signed.contains(&format!("data-member=\"{m}\"")), "{m}");
        }
        assert_eq!(signed.matches("class=\"cosigner\"").count(), 4);
        assert!(signed.contains("本小区日志密钥"));
        assert!(signed.contains("✓</span> 4 <span class=\"muted\">/ 要求 2"));

        // The QR code opens this page and carries the checkpoint's root.
        let url = format!("{}{path}?cp={}", s.base, URL_SAFE_NO_PAD.encode(cp.root.0));
        assert!(html.contains("<svg class=\"qr\""));
        assert!(html.contains(&url), "{url}");
        assert!(html.contains(&qr_path(&url)), "the QR code encodes {url}");

        // The print stylesheet: one A4 page without the navigation.
        assert!(html.contains("@page { size: A4;"));
        assert!(html.contains("@media print"));
        assert!(html
            .contains("header.top, nav.estate, footer, .no-print { display: none !important; }"));

        // Verifying it: the bundle and the command with the log key.
        let bundle = format!("{path}/bundle.json");
        assert!(html.contains(&format!("href=\"{bundle}\"")));
        assert!(html.contains(&format!(
            "trustfund verify bundle.json --log-key '{log_key}'"
        )));

        // The month's entries, at most 200, and the rest in the ledger.
        let entries = section(&html, "month-entries");
        let count = st.to_seq - st.from_seq;
        let shown = entries.matches("<td class=\"what\">").count() as u64;
        assert_eq!(shown, count.min(200), "{period}");
        assert!(entries.contains(&format!(
            "href=\"/estates/dongfang/ledger/{}\"",
            st.from_seq
        )));
        assert!(entries.contains(&format!("/estates/dongfang/ledger?month={period}")));
        if count > 200 {
            assert!(entries.contains("这里只列出前 200 条"));
        }
    }
    let (period, (seq, _)) = statements.last_key_value().unwrap();
    let path = format!("/estates/dongfang/statements/{period}");
    let en = s.page(&format!("{path}?lang=en")).await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains(&format!("Monthly statement {period}")));
    assert!(
        en.contains("Fund account balances")
            && en.contains("Signed checkpoint covering this statement")
    );
    assert!(en.contains("the estate&#39;s log key"));

    // The checkpoint hash the QR carries is checked against the page's.
    let cp = store
        .checkpoint_covering(&slug, *seq)
        .await
        .unwrap()
        .unwrap();
    let good = s
        .page(&format!("{path}?cp={}", URL_SAFE_NO_PAD.encode(cp.root.0)))
        .await;
    assert!(good.contains("✓ 二维码中的检查点与本对账单的签名检查点一致。"));
    let bad = s.page(&format!("{path}?cp=AAAA&lang=en")).await;
    assert!(bad.contains("does not match this statement&#39;s signed checkpoint"));
    assert!(
        !bad.contains("cp=AAAA\""),
        "the given value is not echoed into links"
    );

    // The dashboard and the navigation lead here.
    let dash = s.page("/estates/dongfang").await;
    assert!(dash.contains(&format!("href=\"/estates/dongfang/statements/{period}\"")));
    assert!(dash.contains("href=\"/estates/dongfang/statements\">对账单</a>"));
    assert!(dash.contains("最新月度对账单"));
    let r = s.get(&format!("{path}/bundle.json")).await;
    assert_eq!(r.status(), 200);
}

async fn statement_text_is_escaped_and_nonsense_refused(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let e = TestEstate::create(&store, &db.keys(), "hostile").await;
    let origin = e.origin();
    let id = MemberId::parse("member", "c9").unwrap();
    let evil = Signer::from_seed(
        &format!("{origin}/members/c9"),
        ALG_COSIGNATURE_V1,
        &[99u8; 32],
    )
    .unwrap();
    // January's entries, with hostile text in a witness's name and in
    // what the month's entries say.
    let at = ts(T0 + 3_600);
    let drafts = vec![
        Body::MemberEnrolled {
            member: id.clone(),
            name: Name::parse("name", "<script>alert(\"witness\")</script>").unwrap(),
            role: Role::Committee,
            key: evil.verifier_key().format(),
        },
        Body::PublicIncomeReceived {
            source: IncomeSource::Parking,
            amount: Money::parse("a", "88.00").unwrap(),
            received_on: Date::parse("d", "2026-01-05").unwrap(),
            payer: Payee::parse("p", "<img src=x onerror=alert(5)>").unwrap(),
            memo: Purpose::parse("m", "javascript:alert('memo')</td><script>x</script>").unwrap(),
            evidence: vec![],
            postings: vec![],
        },
    ];
    let now = Timestamp::now().unwrap();
    store
        .append(
            &e.slug,
            drafts
                .into_iter()
                .map(|body| Draft {
                    body,
                    unit: None,
                    at: Some(at),
                    bank_ref: None,
                })
                .collect(),
            now,
            &e.log,
        )
        .await
        .unwrap();
    let january = Period::parse("p", "2026-01").unwrap();
    let closed = store
        .close_month(&e.slug, january, now, &e.log)
        .await
        .unwrap();
    let cp = store
        .checkpoint_at(&e.slug, closed.seq + 1)
        .await
        .unwrap()
        .unwrap();
    let text = Note::parse(&cp.note).unwrap().text;
    let t = u64::try_from(now.unix()).unwrap();
    for (who, signer) in [(&id, &evil), (&e.committee[0].0, &e.committee[0].1)] {
        let sig = cosign_checkpoint(&text, signer, t).unwrap();
        store
            .cosign(&e.slug, cp.tree_size, who, &sig, now)
            .await
            .unwrap();
    }
    let s = Server::start(store.clone(), db.keys()).await;

    for path in [
        "/estates/hostile/statements",
        "/estates/hostile/statements?lang=en",
        "/estates/hostile/statements/2026-01",
        "/estates/hostile/statements/2026-01?lang=en",
    ] {
        let html = s.page(path).await;
        assert_inert(path, &html);
        assert!(
            html.contains("&#60;script&#62;alert(&#34;witness&#34;)&#60;/script&#62;"),
            "{path}: the witness's name is shown, escaped"
        );
    }
    let html = s.page("/estates/hostile/statements/2026-01").await;
    assert!(html.contains("data-figure=\"public_income.parking\">¥88.00</td>"));
    assert!(html.contains("&#60;img src=x onerror=alert(5)&#62;"));
    assert!(html.contains("data-member=\"c9\"") && html.contains("data-member=\"c1\""));
    let v: serde_json::Value = s
        .get("/api/v1/estates/hostile/statements/2026-01")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["checkpoint"]["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c1", "<script>alert(\"witness\")</script>"]);

    // A month without a statement is a 404 page in the reader's language;
    // a month that is not YYYY-MM is a 400 naming the parameter.
    let zh = s.fails("/estates/hostile/statements/2026-02", 404).await;
    assert!(
        zh.contains("<html lang=\"zh-CN\">") && zh.contains("没有这个月的对账单"),
        "{zh}"
    );
    let en = s
        .client
        .get(format!("{}/estates/hostile/statements/2026-02", s.base))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), 404);
    let en = en.text().await.unwrap();
    assert!(en.contains("There is no statement for this month"), "{en}");
    for (path, name) in [
        ("/estates/hostile/statements/2026-2", "period"),
        ("/estates/hostile/statements/2026-13", "period"),
        ("/estates/hostile/statements/26-01", "period"),
        ("/estates/hostile/statements/%3Cscript%3E", "period"),
        ("/estates/hostile/statements?before=yesterday", "before"),
        ("/estates/hostile/statements/2026-01?cp=a&cp=b", "cp"),
    ] {
        let body = s.fails(path, 400).await;
        assert!(
            body.contains(&format!("参数 {name}")) && body.contains("请求有误"),
            "{path}: {body}"
        );
        assert_inert(path, &body);
    }
    let body = s
        .fails("/estates/hostile/statements/2026-1?lang=en", 400)
        .await;
    assert!(
        body.contains("Parameter period: must be a month written YYYY-MM"),
        "{body}"
    );
    for path in [
        "/estates/nope/statements",
        "/estates/nope/statements/2026-01",
    ] {
        let body = s.fails(path, 404).await;
        assert!(body.contains("没有这个小区"), "{path}");
    }
}
