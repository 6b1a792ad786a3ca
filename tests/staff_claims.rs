//! Public income, claims, service records, remuneration and corrections
//! over real HTTP on both engines, with real evidence files.

mod common;

use common::staff::{Session, StaffApp};
use common::Engine;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use trustfund::domain::{EstateTz, Timestamp};
use trustfund::ledger::{Body, Side};

both_engines!(
    income_evidence_is_recorded_and_served_by_its_hash,
    a_claim_names_its_evidence_and_service_record,
    a_fee_payment_is_corrected_once,
    remuneration_is_bounded_to_the_fen,
    refused_uploads_change_nothing,
    only_the_company_of_the_estate_may_write,
);

fn pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {tag}\n%%EOF\n").into_bytes()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn form(fields: &[(&str, &str)], files: &[(&str, &str, Vec<u8>)]) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    for (name, mime, bytes) in files {
        let part = Part::bytes(bytes.clone())
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap();
        f = f.part("evidence", part);
    }
    f
}

async fn tree_size(app: &StaffApp) -> u64 {
    app.store.tree_size(&app.alpha.slug).await.unwrap()
}

async fn body_at(app: &StaffApp, seq: u64) -> Body {
    let row = app.store.entry_row(&app.alpha.slug, seq).await.unwrap();
    row.expect("entry exists").entry().unwrap().body
}

/// The seq at the end of a 303's `Location` under `prefix`.
fn redirected_seq(resp: &reqwest::Response, prefix: &str) -> u64 {
    assert_eq!(resp.status().as_u16(), 303, "expected a redirect");
    let loc = resp.headers()["location"].to_str().unwrap();
    loc.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{loc} is not under {prefix}"))
        .parse()
        .unwrap()
}

/// A raw upload with the session's API token.
async fn upload(s: &Session, path: &str, bytes: Vec<u8>) -> (u16, Value) {
    let r = s
        .client
        .post(format!("{}{path}", s.base))
        .bearer_auth(s.token.as_deref().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn income_evidence_is_recorded_and_served_by_its_hash(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    let (status, html) = alice.page("/estates/alpha/staff/income").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"idempotency_key\""), "{html}");

    let contract = pdf("elevator advert contract");
    let fields = [
        ("source", "elevator_ads"),
        ("amount", "3000.00"),
        ("received_on", "2026-11-02"),
        ("payer", "分众传媒"),
        ("memo", "11 月电梯广告"),
        ("idempotency_key", "income-form-1"),
    ];
    let resp = alice
        .post_multipart(
            "/estates/alpha/staff/income",
            form(
                &fields,
                &[("contract.pdf", "application/pdf", contract.clone())],
            ),
        )
        .await;
    let seq = redirected_seq(&resp, "/estates/alpha/ledger/");
    let hash = sha256(&contract);
    match body_at(&app, seq).await {
        Body::PublicIncomeReceived {
            amount, evidence, ..
        } => {
            assert_eq!(amount.to_string(), "3000.00");
            assert_eq!(
                evidence.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
                vec![hash.clone()]
            );
        }
        other => panic!("unexpected entry {other:?}"),
    }
    // A resubmitted form records nothing twice.
    let size = tree_size(&app).await;
    let again = alice
        .post_multipart(
            "/estates/alpha/staff/income",
            form(
                &fields,
                &[("contract.pdf", "application/pdf", contract.clone())],
            ),
        )
        .await;
    assert_eq!(redirected_seq(&again, "/estates/alpha/ledger/"), seq);
    assert_eq!(tree_size(&app).await, size);

    // Anyone may read the file the log names, exactly as stored.
    let anon = app.anonymous();
    let r = anon.get(&format!("/estates/alpha/evidence/{hash}")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("inline; filename=\"{hash}.pdf\"").as_str()
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), contract);
    // Not through another estate, and not under a malformed name.
    let r = anon.get(&format!("/estates/beta/evidence/{hash}")).await;
    assert_eq!(r.status().as_u16(), 404);
    let r = anon
        .get(&format!("/estates/alpha/evidence/{}", hash.to_uppercase()))
        .await;
    assert_eq!(r.status().as_u16(), 404);

    // The API: upload first, then name the hash.
    let api = app.api_token("alice", &app.alpha).await;
    let receipt = b"\x89PNG\r\n\x1a\nparking receipt".to_vec();
    let (status, up) = upload(&api, "/api/v1/estates/alpha/evidence", receipt.clone()).await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["sha256"], sha256(&receipt));
    assert_eq!(up["type"], "image/png");
    let png_hash = sha256(&receipt);
    // Stored but not yet referenced: not served.
    let r = anon
        .get(&format!("/estates/alpha/evidence/{png_hash}"))
        .await;
    assert_eq!(r.status().as_u16(), 404);
    let (status, _) = upload(
        &api,
        "/api/v1/estates/alpha/evidence",
        b"MZ\x90\x00".to_vec(),
    )
    .await;
    assert_eq!(status, 422);

    let req = json!({
        "source": "parking", "amount": "450.50", "received_on": "2026-11-03",
        "payer": "停车场", "memo": "临停收入", "evidence": [png_hash],
    });
    let (status, out) = api
        .post_json(
            "/api/v1/estates/alpha/public-income",
            &req,
            Some("inc-api-1"),
        )
        .await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(out["replayed"], false);
    let (status, again) = api
        .post_json(
            "/api/v1/estates/alpha/public-income",
            &req,
            Some("inc-api-1"),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["seq"], out["seq"]);
    // The same key with another request is refused, not replayed.
    let mut other = req.clone();
    other["amount"] = json!("450.51");
    let (status, err) = api
        .post_json(
            "/api/v1/estates/alpha/public-income",
            &other,
            Some("inc-api-1"),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "idempotency_key_reused");
    let r = anon
        .get(&format!("/estates/alpha/evidence/{png_hash}"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");

    // A hash nobody uploaded is refused, naming the field.
    let mut bad = req.clone();
    bad["evidence"] = json!([sha256(b"never uploaded")]);
    let (status, err) = api
        .post_json("/api/v1/estates/alpha/public-income", &bad, None)
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "evidence");
    let mut bad = req.clone();
    bad["source"] = json!("lottery");
    let (status, err) = api
        .post_json("/api/v1/estates/alpha/public-income", &bad, None)
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "source");
}

async fn a_claim_names_its_evidence_and_service_record(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    let (status, _) = alice.page("/estates/alpha/staff/services/new").await;
    assert_eq!(status, 200);
    let photo = b"\xFF\xD8\xFF\xE0 pump photo".to_vec();
    let resp = alice
        .post_multipart(
            "/estates/alpha/staff/services/new",
            form(
                &[
                    ("title", "更换水泵"),
                    (
                        "description",
                        "2 号楼地下室水泵损坏。\n已更换新泵并试运行。",
                    ),
                    ("location", "2 号楼地下室"),
                    ("done_on", "2026-11-20"),
                    ("done_by", "王师傅"),
                    ("cost", "860.00"),
                ],
                &[("pump.jpg", "image/jpeg", photo.clone())],
            ),
        )
        .await;
    let record = redirected_seq(&resp, "/estates/alpha/services/");
    match body_at(&app, record).await {
        Body::ServiceRecord {
            description,
            cost,
            evidence,
            ..
        } => {
            assert_eq!(
                description.as_str(),
                "2 号楼地下室水泵损坏。\n已更换新泵并试运行。"
            );
            assert_eq!(cost.map(|c| c.to_string()).as_deref(), Some("860.00"));
            assert_eq!(evidence[0].to_hex(), sha256(&photo));
        }
        other => panic!("unexpected entry {other:?}"),
    }

    let (status, html) = alice.page("/estates/alpha/staff/claims/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"service_record\""));
    let invoice = pdf("pump invoice");
    let record_s = record.to_string();
    let resp = alice
        .post_multipart(
            "/estates/alpha/staff/claims/new",
            form(
                &[
                    ("payee", "某某水泵维修公司"),
                    ("amount", "860.00"),
                    ("account", "operating"),
                    ("category", "repairs"),
                    ("purpose", "更换 2 号楼水泵"),
                    ("quote", "900.00"),
                    ("service_record", &record_s),
                ],
                &[("invoice.pdf", "application/pdf", invoice.clone())],
            ),
        )
        .await;
    let claim = redirected_seq(&resp, "/estates/alpha/claims/");
    let (status, html) = app
        .anonymous()
        .page(&format!("/estates/alpha/claims/{claim}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains(&sha256(&invoice)), "{html}");
    let (status, v) = app
        .anonymous()
        .get_json(&format!("/api/v1/estates/alpha/claims/{claim}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "pending", "{v}");
    assert_eq!(v["service_record"], record);
    assert_eq!(v["quote"], "900.00");
    assert_eq!(v["evidence"][0], sha256(&invoice));
    let r = app
        .anonymous()
        .get(&format!("/estates/alpha/evidence/{}", sha256(&invoice)))
        .await;
    assert_eq!(r.status().as_u16(), 200);

    // The same record cannot be paid for twice: the error sits at the field.
    let size = tree_size(&app).await;
    let resp = alice
        .post_multipart(
            "/estates/alpha/staff/claims/new",
            form(
                &[
                    ("payee", "某某水泵维修公司"),
                    ("amount", "10.00"),
                    ("account", "operating"),
                    ("category", "repairs"),
                    ("purpose", "again"),
                    ("service_record", &record_s),
                ],
                &[],
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"service_record-error\""), "{html}");
    assert_eq!(tree_size(&app).await, size);

    // The API, for both.
    let api = app.api_token("alice", &app.alpha).await;
    let (status, rec) = api
        .post_json(
            "/api/v1/estates/alpha/service-records",
            &json!({"title": "清理化粪池", "description": "例行清理", "location": "小区东侧",
                    "done_on": "2026-11-25", "done_by": "环卫队"}),
            Some("svc-1"),
        )
        .await;
    assert_eq!(status, 201, "{rec}");
    let (status, c) = api
        .post_json(
            "/api/v1/estates/alpha/claims",
            &json!({"payee": "环卫队", "amount": "300.00", "account": "operating",
                    "category": "cleaning", "purpose": "化粪池清理",
                    "service_record": rec["seq"]}),
            Some("claim-1"),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let (_, v) = api
        .get_json(&format!("/api/v1/estates/alpha/claims/{}", c["seq"]))
        .await;
    assert_eq!(v["service_record"], rec["seq"]);
    // The write shares its path with the public list, which still answers.
    let (status, list) = app
        .anonymous()
        .get_json("/api/v1/estates/alpha/claims")
        .await;
    assert_eq!(status, 200, "{list}");
    let (status, err) = api
        .post_json(
            "/api/v1/estates/alpha/claims",
            &json!({"payee": "x", "amount": "1.00", "account": "savings",
                    "category": "repairs", "purpose": "x"}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "account");
}

async fn a_fee_payment_is_corrected_once(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let paid = app
        .alpha
        .append(&app.store, vec![app.alpha.fee_paid(1, "201.00")])
        .await
        .unwrap();
    let seq = paid[0].seq;
    let alice = app.login("alice").await;
    let (status, html) = alice
        .page(&format!("/estates/alpha/staff/corrections?seq={seq}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("fee_paid"), "{html}");
    assert!(html.contains("fund:operating"), "{html}");
    assert!(html.contains(&paid[0].hash.to_hex()), "{html}");

    let seq_s = seq.to_string();
    let resp = alice
        .post_form(
            "/estates/alpha/staff/corrections",
            &[
                ("corrects", &seq_s),
                ("reason", "重复登记"),
                ("idempotency_key", "corr-1"),
            ],
        )
        .await;
    let correction = redirected_seq(&resp, "/estates/alpha/ledger/");
    let original = body_at(&app, seq).await;
    match body_at(&app, correction).await {
        Body::Correction {
            corrects,
            corrects_hash,
            postings,
            ..
        } => {
            assert_eq!(corrects, seq);
            assert_eq!(corrects_hash, paid[0].hash);
            let want: Vec<_> = original.postings().iter().map(|p| p.reversed()).collect();
            assert_eq!(postings, want);
            assert!(postings
                .iter()
                .any(|p| p.side == Side::Credit && p.account.to_string() == "fund:operating"));
        }
        other => panic!("unexpected entry {other:?}"),
    }

    // Twice is refused, at the field, and records nothing.
    let size = tree_size(&app).await;
    let (_, html) = alice
        .page(&format!(
            "/estates/alpha/staff/corrections?seq={seq}&lang=en"
        ))
        .await;
    assert!(html.contains("id=\"already-corrected\""), "{html}");
    let resp = alice
        .post_form(
            "/estates/alpha/staff/corrections?lang=en",
            &[("corrects", &seq_s), ("reason", "again")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"corrects-error\""), "{html}");
    assert!(html.contains("already corrected"), "{html}");
    let api = app.api_token("alice", &app.alpha).await;
    let (status, err) = api
        .post_json(
            "/api/v1/estates/alpha/corrections",
            &json!({"corrects": seq, "reason": "again"}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "already_corrected");
    // Entries that cannot be corrected, or do not exist.
    let (status, err) = api
        .post_json(
            "/api/v1/estates/alpha/corrections",
            &json!({"corrects": 0, "reason": "no"}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "not_correctable");
    let (status, err) = api
        .post_json(
            "/api/v1/estates/alpha/corrections",
            &json!({"corrects": 9999, "reason": "no"}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "corrects");
    assert_eq!(tree_size(&app).await, size);
}

async fn remuneration_is_bounded_to_the_fen(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let amounts = ["160.05", "201.00", "240.50"];
    let drafts = amounts
        .iter()
        .enumerate()
        .map(|(i, a)| app.alpha.fee_paid(i, a))
        .collect();
    app.alpha.append(&app.store, drafts).await.unwrap();
    // 601.55 collected × 10% = 60.155, half away from zero → 60.16.
    let collected_fen: i64 = amounts
        .iter()
        .map(|a| a.replace('.', "").parse::<i64>().unwrap())
        .sum();
    let entitled_fen = (collected_fen + 5) / 10;
    let fmt = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    let period = Timestamp::now()
        .unwrap()
        .period_in(&EstateTz::parse("tz", "Asia/Shanghai").unwrap())
        .to_string();

    let api = app.api_token("alice", &app.alpha).await;
    let (status, table) = api.get_json("/api/v1/estates/alpha/remuneration").await;
    assert_eq!(status, 200, "{table}");
    let months = table["months"].as_array().unwrap();
    assert_eq!(
        months[0]["period"], "2026-01",
        "from the month the ratio took effect"
    );
    let month = months.last().unwrap();
    assert_eq!(month["period"], period.as_str());
    assert_eq!(month["collected"], fmt(collected_fen));
    assert_eq!(month["ratio"], "0.1");
    assert_eq!(month["entitlement"], fmt(entitled_fen));
    assert_eq!(month["unclaimed"], fmt(entitled_fen));

    let alice = app.login("alice").await;
    let (status, html) = alice.page("/estates/alpha/staff/remuneration").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("id=\"month-{period}\"")), "{html}");
    let size = tree_size(&app).await;
    let over = fmt(entitled_fen + 1);
    let resp = alice
        .post_form(
            "/estates/alpha/staff/remuneration?lang=en",
            &[
                ("period", &period),
                ("amount", &over),
                ("payee", "物业公司"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    let at = html
        .find("id=\"amount-error\"")
        .expect("error at the amount field");
    assert!(html[at..].contains(&fmt(entitled_fen)), "{html}");
    assert_eq!(tree_size(&app).await, size, "nothing recorded");

    let exact = fmt(entitled_fen);
    let resp = alice
        .post_form(
            "/estates/alpha/staff/remuneration",
            &[
                ("period", &period),
                ("amount", &exact),
                ("payee", "物业公司"),
            ],
        )
        .await;
    let claim = redirected_seq(&resp, "/estates/alpha/claims/");
    match body_at(&app, claim).await {
        Body::ClaimSubmitted {
            category,
            account,
            period: p,
            amount,
            ..
        } => {
            assert_eq!(category.as_str(), "remuneration");
            assert_eq!(account.as_str(), "operating");
            assert_eq!(p.map(|p| p.to_string()), Some(period.clone()));
            assert_eq!(amount.to_string(), exact);
        }
        other => panic!("unexpected entry {other:?}"),
    }
    let (_, table) = api.get_json("/api/v1/estates/alpha/remuneration").await;
    let month = table["months"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(month["claimed"], fmt(entitled_fen));
    assert_eq!(month["unclaimed"], "0.00");
    let (status, err) = api
        .post_json(
            "/api/v1/estates/alpha/remuneration-claims",
            &json!({"period": period, "amount": "0.01", "payee": "物业公司"}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "above_entitlement");
    assert_eq!(err["error"]["fields"][0]["field"], "amount");
}

async fn refused_uploads_change_nothing(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    let size = tree_size(&app).await;
    let fields = [
        ("source", "venue"),
        ("amount", "200.00"),
        ("received_on", "2026-11-05"),
        ("payer", "舞蹈班"),
        ("memo", "活动室租用"),
    ];
    let good = pdf("a good receipt riding along");
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "setup.exe",
            "application/octet-stream",
            b"MZ\x90\x00\x03\x00".to_vec(),
        ),
        (
            "logo.svg",
            "image/svg+xml",
            b"<svg onload=alert(1)></svg>".to_vec(),
        ),
        ("scan.pdf", "application/pdf", big),
    ];
    for (name, mime, bytes) in cases {
        let files = vec![
            ("receipt.pdf", "application/pdf", good.clone()),
            (name, mime, bytes),
        ];
        let resp = alice
            .post_multipart("/estates/alpha/staff/income?lang=en", form(&fields, &files))
            .await;
        assert_eq!(resp.status().as_u16(), 400, "{name}");
        let html = resp.text().await.unwrap();
        let at = html
            .find("id=\"evidence-error\"")
            .expect("error at the evidence field");
        let near = &html[at..at + 300.min(html.len() - at)];
        assert!(near.contains(name), "{name}: {near}");
        assert!(html.contains("value=\"舞蹈班\""), "typed values are kept");
        assert_eq!(tree_size(&app).await, size, "{name}: nothing recorded");
    }
    // The good file that came with a refused form is stored but not served.
    let r = app
        .anonymous()
        .get(&format!("/estates/alpha/evidence/{}", sha256(&good)))
        .await;
    assert_eq!(r.status().as_u16(), 404);
    // More files than an entry may name.
    let many: Vec<(&str, &str, Vec<u8>)> = (0..21)
        .map(|i| ("page.pdf", "application/pdf", pdf(&format!("page {i}"))))
        .collect();
    let resp = alice
        .post_multipart("/estates/alpha/staff/income?lang=en", form(&fields, &many))
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    let html = resp.text().await.unwrap();
    let at = html
        .find("id=\"evidence-error\"")
        .expect("error at the evidence field");
    assert!(html[at..].contains("at most 20 files"), "{html}");
    assert_eq!(tree_size(&app).await, size);
    // A bad field with a good file: also nothing.
    let mut bad = fields.to_vec();
    bad[1] = ("amount", "-5");
    let resp = alice
        .post_multipart(
            "/estates/alpha/staff/income",
            form(&bad, &[("receipt.pdf", "application/pdf", good.clone())]),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.unwrap().contains("id=\"amount-error\""));
    assert_eq!(tree_size(&app).await, size);
}

async fn only_the_company_of_the_estate_may_write(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let pages = [
        "/estates/alpha/staff/income",
        "/estates/alpha/staff/claims/new",
        "/estates/alpha/staff/services/new",
        "/estates/alpha/staff/remuneration",
        "/estates/alpha/staff/corrections?seq=1",
    ];
    let carol = app.login("carol").await;
    let bob = app.login("bob").await;
    for who in [&carol, &bob] {
        for p in pages {
            let (status, _) = who.page(p).await;
            assert_eq!(status, 403, "{p}");
        }
    }
    let size = tree_size(&app).await;
    let paid = pdf("x");
    for who in [&carol, &bob] {
        let r = who
            .post_multipart(
                "/estates/alpha/staff/income",
                form(
                    &[
                        ("source", "venue"),
                        ("amount", "1.00"),
                        ("received_on", "2026-11-05"),
                        ("payer", "x"),
                        ("memo", "x"),
                    ],
                    &[("a.pdf", "application/pdf", paid.clone())],
                ),
            )
            .await;
        assert_eq!(r.status().as_u16(), 403);
        let r = who
            .post_form(
                "/estates/alpha/staff/corrections",
                &[("corrects", "9"), ("reason", "x")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 403);
        let r = who
            .post_form(
                "/estates/alpha/staff/remuneration",
                &[("period", "2026-01"), ("amount", "0.01"), ("payee", "x")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 403);
    }
    let carol_api = app.api_token("carol", &app.alpha).await;
    let bob_api = app.api_token("bob", &app.beta).await;
    let writes = [
        (
            "/api/v1/estates/alpha/public-income",
            json!({"source": "venue", "amount": "1.00",
            "received_on": "2026-11-05", "payer": "x", "memo": "x"}),
        ),
        (
            "/api/v1/estates/alpha/claims",
            json!({"payee": "x", "amount": "1.00",
            "account": "operating", "category": "repairs", "purpose": "x"}),
        ),
        (
            "/api/v1/estates/alpha/service-records",
            json!({"title": "x", "description": "x",
            "location": "x", "done_on": "2026-11-05", "done_by": "x"}),
        ),
        (
            "/api/v1/estates/alpha/remuneration-claims",
            json!({"period": "2026-01",
            "amount": "0.01", "payee": "x"}),
        ),
        (
            "/api/v1/estates/alpha/corrections",
            json!({"corrects": 9, "reason": "x"}),
        ),
    ];
    for who in [&carol_api, &bob_api] {
        for (path, body) in &writes {
            let (status, _) = who.post_json(path, body, None).await;
            assert_eq!(status, 403, "{path}");
        }
        let (status, _) = who.get_json("/api/v1/estates/alpha/remuneration").await;
        assert_eq!(status, 403);
        let (status, _) = upload(who, "/api/v1/estates/alpha/evidence", pdf("y")).await;
        assert_eq!(status, 403);
    }
    assert_eq!(tree_size(&app).await, size);
    // Bob is company staff of beta: his own estate works.
    let (status, _) = bob.page("/estates/beta/staff/income").await;
    assert_eq!(status, 200);
}
