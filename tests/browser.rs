//! The owners' pages in a real browser: headless Chromium (Debian package
//! `chromium`) opens the demo estate's dashboard, a monthly statement and a
//! unit page, the test checks the key figures in the rendered DOM, and
//! screenshots at phone (390 px) and desktop (1280 px) width go to
//! `target/screenshots/`, with the statement printed to
//! `target/screenshots/statement.pdf` (it must be one A4 page).
//!
//! Chromium is required: without it this test fails, it never skips.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Engine, TestDb};
use trustfund::domain::{Money, Period, Slug, Timestamp};
use trustfund::http::{router, AppState};

const CHROMIUM: &str = "chromium";

fn chromium_path() -> PathBuf {
    if let Ok(p) = std::env::var("TRUSTFUND_CHROMIUM") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(CHROMIUM))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "headless Chromium is required for the browser test and was not found on PATH.\n\
             Install it with: apt-get update && apt-get install -y chromium fonts-noto-cjk\n\
             (or point TRUSTFUND_CHROMIUM at a Chromium binary)"
        )
    })
}

/// Runs Chromium headless with a fresh profile; returns its stdout.
fn chromium(args: &[String], url: &str, width: u32, height: u32) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(chromium_path());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--lang=zh-CN",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--window-size={width},{height}"))
    .args(args)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    // Drain both pipes while waiting: a large DOM fills the pipe buffer,
    // and Chromium would block on it forever.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s for {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    assert!(
        status.success(),
        "chromium failed for {url}: {}",
        String::from_utf8_lossy(&stderr)
    );
    String::from_utf8(stdout).unwrap()
}

async fn dump_dom(url: String) -> String {
    dump_dom_at(url, 390, 844).await
}

async fn dump_dom_at(url: String, width: u32, height: u32) -> String {
    tokio::task::spawn_blocking(move || chromium(&["--dump-dom".into()], &url, width, height))
        .await
        .unwrap()
}

/// Prints a page to PDF as a browser's print dialog would (the page's
/// print stylesheet, no header or footer lines) and returns its page count.
async fn print_to_pdf(url: String, path: PathBuf) -> usize {
    let args = vec![
        format!("--print-to-pdf={}", path.display()),
        "--no-pdf-header-footer".to_string(),
    ];
    tokio::task::spawn_blocking(move || chromium(&args, &url, 1280, 900))
        .await
        .unwrap();
    let pdf = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(pdf.starts_with(b"%PDF-"), "{} is a PDF", path.display());
    // Page objects are `/Type /Page`; the page tree is `/Type /Pages`.
    let pages = pdf
        .windows(11)
        .enumerate()
        .filter(|(i, w)| *w == b"/Type /Page" && pdf.get(i + 11) != Some(&b's'))
        .count();
    // Cross-check with poppler when it is installed; it is not required.
    if let Ok(out) = Command::new("pdfinfo").arg(&path).output() {
        if out.status.success() {
            let info = String::from_utf8_lossy(&out.stdout);
            let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap_or("");
            assert_eq!(
                line.split_whitespace().nth(1),
                Some(pages.to_string().as_str()),
                "{info}"
            );
        }
    }
    pages
}

async fn screenshot(url: String, path: PathBuf, width: u32, height: u32) {
    let arg = format!("--screenshot={}", path.display());
    tokio::task::spawn_blocking(move || chromium(&[arg], &url, width, height))
        .await
        .unwrap();
    let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", path.display());
    assert!(png.len() > 10_000, "{} is not blank", path.display());
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_render_in_headless_chromium() {
    // Fail before the slow part if the browser is missing.
    chromium_path();
    let db = TestDb::new(Engine::Sqlite).await;
    let store = Arc::new(db.open().await);
    trustfund::demo::load(
        &store,
        &db.keys(),
        Period::parse("anchor", "2026-11").unwrap(),
        Timestamp::from_unix(1_795_060_800).unwrap(),
    )
    .await
    .expect("demo loads");
    let slug = Slug::parse("slug", "dongfang").unwrap();
    let app = router(AppState::new(store.clone(), db.keys()));
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

    // The dashboard: every fund balance as the ledger has it.
    let dom = dump_dom(format!("{base}/estates/dongfang?lang=zh")).await;
    assert!(
        dom.contains("东方新天地花园") && dom.contains("资金余额"),
        "{dom}"
    );
    let balances = store.fund_balances(&slug).await.unwrap();
    assert_eq!(balances.len(), 3);
    for (account, fen) in &balances {
        let shown = Money::from_fen(*fen).unwrap().format_cny();
        assert!(
            dom.contains(&shown),
            "{account} {shown} not on the rendered page"
        );
    }
    assert!(dom.contains("<svg") && dom.contains("收缴率"));
    let en = dump_dom(format!("{base}/estates/dongfang?lang=en")).await;
    assert!(en.contains("Fund balances") && en.contains("Collection rate"));

    // A unit page, opened with the code from its bill.
    let unit = store.unit(&slug, "1-101").await.unwrap().unwrap();
    let owed = store
        .balances(&slug)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _)| *a == format!("receivable:{}", unit.commitment))
        .map_or(0, |(_, b)| b);
    let unit_url = format!("{base}/estates/dongfang/units/{}?lang=zh", unit.secret);
    let dom = dump_dom(unit_url.clone()).await;
    assert!(dom.contains("房屋 1-101"), "{dom}");
    assert!(dom.contains(&Money::from_fen(owed.abs()).unwrap().format_cny()));
    assert!(dom.contains("缴费记录与收据") && dom.contains("包含证明"));

    // The latest monthly statement, at phone and desktop width: its
    // figures as the ledger's statement entry has them, its witnesses and
    // its QR code.
    let (period, st) = store
        .with_state(&slug, |s| {
            s.statements()
                .last_key_value()
                .map(|(p, (_, st))| (*p, st.clone()))
        })
        .await
        .unwrap()
        .expect("the demo closes months");
    let statement_url = format!("{base}/estates/dongfang/statements/{period}?lang=zh");
    let closing: i64 = [
        st.closing.operating,
        st.closing.public_income,
        st.closing.reserve,
    ]
    .iter()
    .map(|m| m.fen())
    .sum();
    for (w, h) in [(390, 844), (1280, 900)] {
        let dom = dump_dom_at(statement_url.clone(), w, h).await;
        assert!(dom.contains(&format!("{period} 月度对账单")), "{dom}");
        for m in [
            st.closing.operating,
            st.closing.reserve,
            st.fees_collected,
            st.remuneration.entitlement,
            st.arrears,
            st.spending_total(),
            Money::from_fen(closing).unwrap(),
        ] {
            assert!(
                dom.contains(&m.format_cny()),
                "{w}px: {} missing",
                m.format_cny()
            );
        }
        for member in ["c1", "c2", "c3", "c4"] {
            assert!(
                dom.contains(&format!("data-member=\"{member}\"")),
                "{member}"
            );
        }
        assert!(dom.contains("<svg class=\"qr\""));
    }
    // The staff sign-in form, on a phone.
    let login = dump_dom(format!("{base}/login?lang=zh")).await;
    assert!(login.contains("工作人员登录") && login.contains("name=\"password\""));

    let list = dump_dom(format!("{base}/estates/dongfang/statements?lang=zh")).await;
    assert_eq!(list.matches("<tr data-period=").count(), 12);

    let dir = screenshots_dir();
    // The notice for the notice board: one A4 page in either language.
    for (file, lang) in [("statement.pdf", "zh"), ("statement-en.pdf", "en")] {
        let url = format!("{base}/estates/dongfang/statements/{period}?lang={lang}");
        let pages = print_to_pdf(url, dir.join(file)).await;
        assert_eq!(pages, 1, "{file} prints on one page");
    }
    for (name, url) in [
        ("dashboard", format!("{base}/estates/dongfang?lang=zh")),
        ("dashboard-en", format!("{base}/estates/dongfang?lang=en")),
        ("unit", unit_url.clone()),
        ("ledger", format!("{base}/estates/dongfang/ledger?lang=zh")),
        ("statement", statement_url.clone()),
        (
            "statement-en",
            format!("{base}/estates/dongfang/statements/{period}?lang=en"),
        ),
        (
            "statements",
            format!("{base}/estates/dongfang/statements?lang=zh"),
        ),
        ("login", format!("{base}/login?lang=zh")),
    ] {
        for (device, w, h) in [("phone", 390, 844), ("desktop", 1280, 900)] {
            let path = dir.join(format!("{name}-{device}-{w}.png"));
            screenshot(url.clone(), path, w, h).await;
        }
    }
}
