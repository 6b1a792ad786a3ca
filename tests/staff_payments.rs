//! Billing, one payment, the bank CSV import and the payments export,
//! over real HTTP on both engines.

mod common;

use common::staff::{Session, StaffApp};
use common::Engine;
use serde_json::{json, Value};
use trustfund::domain::{Date, EstateTz, Period, Timestamp};
use trustfund::ledger::{Account, Body};

both_engines!(
    payments_from_the_form_and_the_api_are_fee_paid_entries,
    payment_refusals_name_their_field_and_change_nothing,
    a_bank_csv_previews_row_by_row_and_commits_only_the_good_rows_once,
    a_commit_is_refused_whole_when_a_good_row_went_bad,
    fifty_concurrent_requests_with_one_key_append_once,
    a_second_charge_run_for_a_month_is_refused,
    hostile_csvs_get_a_clear_report_and_change_nothing,
    the_export_neutralises_formula_prefixes,
    other_estates_and_other_roles_are_refused,
);

/// Today in the test estates' zone, and its month.
fn today() -> (Date, Period) {
    let d = Timestamp::now()
        .unwrap()
        .date_in(&EstateTz::parse("tz", "Asia/Shanghai").unwrap());
    let d = Date::from_naive("d", d).unwrap();
    (d, d.period())
}

fn day_offset(d: Date, days: i64) -> String {
    (d.as_naive() + chrono::Duration::days(days)).to_string()
}

async fn size(app: &StaffApp) -> u64 {
    app.store.tree_size(&app.alpha.slug).await.unwrap()
}

async fn imports_count(app: &StaffApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM imports")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// The amount of the `fee_paid` entry at `seq` (panics if it is another kind).
async fn fee_paid_amount(app: &StaffApp, seq: u64) -> String {
    let row = app
        .store
        .entry_row(&app.alpha.slug, seq)
        .await
        .unwrap()
        .expect("entry");
    match row.entry().unwrap().body {
        Body::FeePaid { amount, .. } => amount.to_string(),
        other => panic!("entry {seq} is {}", other.kind()),
    }
}

async fn receivable_fen(app: &StaffApp, unit: usize) -> i64 {
    let c = app.alpha.units[unit].2;
    app.store
        .with_state(&app.alpha.slug, |s| s.balance_fen(&Account::Receivable(c)))
        .await
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn payments_api(app: &StaffApp) -> Session {
    app.api_token("alice", &app.alpha).await
}

fn csv_form(csv: Vec<u8>, period: &str, encoding: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("period", period.to_string())
        .text("encoding", encoding.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv)
                .file_name("bank.csv")
                .mime_str("text/csv")
                .unwrap(),
        )
}

async fn payments_from_the_form_and_the_api_are_fee_paid_entries(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, _) = today();
    let alice = app.login("alice").await;
    let (status, html) = alice.page("/estates/alpha/staff/payments").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"idempotency_key\""), "{html}");

    let before = receivable_fen(&app, 0).await;
    let r = alice
        .post_form(
            "/estates/alpha/staff/payments",
            &[
                ("unit", "1-101"),
                ("amount", "160.00"),
                ("paid_on", &today.to_string()),
                ("method", "bank"),
                ("reference", "ICBC2026110300001"),
                ("idempotency_key", "form-key-1"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let loc = location(&r);
    let seq: u64 = loc.rsplit('=').next().unwrap().parse().unwrap();
    assert_eq!(loc, format!("/estates/alpha/staff/payments?recorded={seq}"));
    assert_eq!(fee_paid_amount(&app, seq).await, "160.00");
    assert_eq!(receivable_fen(&app, 0).await, before - 16_000);
    let (_, html) = alice.page(&loc).await;
    assert!(html.contains("recorded-ok"), "{html}");
    // The public log shows it.
    let (status, entry) = app
        .anonymous()
        .get_json(&format!("/estates/alpha/log/entries/{seq}"))
        .await;
    assert_eq!(status, 200);
    assert!(entry.to_string().contains("fee_paid"), "{entry}");

    let api = payments_api(&app).await;
    let before = receivable_fen(&app, 1).await;
    let (status, body) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &json!({"unit":"1-102","amount":"95.50","paid_on": today.to_string(),"method":"wechat"}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["replayed"], false);
    let seq2 = body["seq"].as_u64().unwrap();
    assert_eq!(seq2, seq + 1);
    assert_eq!(body["hash"].as_str().unwrap().len(), 64);
    assert_eq!(fee_paid_amount(&app, seq2).await, "95.50");
    assert_eq!(receivable_fen(&app, 1).await, before - 9_550);
}

/// A form's fields, as posted.
type Fields<'a> = &'a [(&'a str, &'a str)];

async fn payment_refusals_name_their_field_and_change_nothing(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, _) = today();
    let alice = app.login("alice").await;
    let api = payments_api(&app).await;
    let (status, _) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &json!({"unit":"1-101","amount":"10.00","paid_on": today.to_string(),"method":"bank","reference":"DUP1"}),
            None,
        )
        .await;
    assert_eq!(status, 201);
    let n = size(&app).await;
    let tomorrow = day_offset(today, 1);
    let t = today.to_string();
    let cases: [(Fields, &str, u16); 6] = [
        (
            &[
                ("unit", "9-999"),
                ("amount", "1"),
                ("paid_on", &t),
                ("method", "cash"),
            ],
            "unit",
            422,
        ),
        (
            &[
                ("unit", "1-101"),
                ("amount", "-1"),
                ("paid_on", &t),
                ("method", "cash"),
            ],
            "amount",
            422,
        ),
        (
            &[
                ("unit", "1-101"),
                ("amount", "1.005"),
                ("paid_on", &t),
                ("method", "cash"),
            ],
            "amount",
            422,
        ),
        (
            &[
                ("unit", "1-101"),
                ("amount", "1"),
                ("paid_on", &tomorrow),
                ("method", "cash"),
            ],
            "paid_on",
            422,
        ),
        (
            &[
                ("unit", "1-101"),
                ("amount", "1"),
                ("paid_on", &t),
                ("method", "bank"),
            ],
            "reference",
            400,
        ),
        (
            &[
                ("unit", "1-101"),
                ("amount", "1"),
                ("paid_on", &t),
                ("method", "bank"),
                ("reference", "DUP1"),
            ],
            "reference",
            409,
        ),
    ];
    for (fields, field, want) in cases {
        let r = alice
            .post_form("/estates/alpha/staff/payments", fields)
            .await;
        assert_eq!(r.status().as_u16(), want, "{fields:?}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{fields:?}: {html}"
        );
        assert!(html.contains("aria-invalid=\"true\""), "{fields:?}");
    }
    // The reader's language: Chinese by default, English on request.
    let r = alice
        .post_form(
            "/estates/alpha/staff/payments?lang=en",
            &[
                ("unit", "1-101"),
                ("amount", "1"),
                ("paid_on", &t),
                ("method", "bank"),
                ("reference", "DUP1"),
            ],
        )
        .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("bank reference DUP1 is already recorded"));
    let (status, body) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &json!({"unit":"1-102","amount":"5","paid_on": t,"method":"bank","reference":"DUP1"}),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "duplicate_bank_ref");
    assert_eq!(body["error"]["fields"][0]["field"], "reference");
    assert_eq!(size(&app).await, n, "no refusal appended anything");
}

/// A file with two good rows and one row for each refusal reason; `dup`
/// is a reference already recorded. Returns it and the verdict codes by
/// data line (line 2 is the first row).
fn mixed_csv(today: Date, dup: &str) -> (String, Vec<&'static str>) {
    let t = today.to_string();
    let before = (today.period().first_day() - chrono::Duration::days(1)).to_string();
    let tomorrow = day_offset(today, 1);
    let rows: Vec<(String, &str)> = vec![
        (format!("{t},160.00,1-101,GOOD1,bank,十一月"), "taken"),
        (format!("{t},95.5,1-102,,cash,"), "taken"),
        (format!("{t},10.00,9-999,R3,,"), "unknown_unit"),
        (format!("{t},-5.00,1-102,R4,,"), "negative"),
        (format!("{t},0,1-102,R5,,"), "zero"),
        (format!("{t},1.005,1-102,R6,,"), "too_many_decimals"),
        (format!("{t},abc,1-102,R7,,"), "not_a_number"),
        (format!("{t},,1-102,R8,,"), "missing_field"),
        (format!("{t},10.00,1-102,{dup},,"), "duplicate_reference"),
        (format!("{t},10.00,1-103,GOOD1,,"), "duplicate_in_file"),
        (format!("{before},10.00,1-102,R11,,"), "outside_period"),
        (format!("{tomorrow},10.00,1-102,R12,,"), "future_date"),
        ("2026-13-45,10.00,1-102,R13,,".to_string(), "bad_date"),
        (
            format!("{t},10.00,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",R14,,"),
            "formula",
        ),
    ];
    let mut csv = String::from("日期,金额,房号,流水号,方式,摘要\r\n");
    for (line, _) in &rows {
        csv.push_str(line);
        csv.push_str("\r\n");
    }
    (csv, rows.into_iter().map(|(_, v)| v).collect())
}

async fn a_bank_csv_previews_row_by_row_and_commits_only_the_good_rows_once(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, period) = today();
    let api = payments_api(&app).await;
    let (status, _) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &json!({"unit":"1-104","amount":"1.00","paid_on": today.to_string(),"method":"bank","reference":"OLD1"}),
            None,
        )
        .await;
    assert_eq!(status, 201);
    let alice = app.login("alice").await;
    let (status, html) = alice.page("/estates/alpha/staff/import").await;
    assert_eq!(status, 200);
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("GB18030"));

    let (csv, verdicts) = mixed_csv(today, "OLD1");
    let n = size(&app).await;
    let r = alice
        .post_multipart(
            "/estates/alpha/staff/import",
            csv_form(csv.clone().into_bytes(), &period.to_string(), "utf-8"),
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let preview = location(&r);
    assert!(
        preview.starts_with("/estates/alpha/staff/import/"),
        "{preview}"
    );
    let (status, html) = alice.page(&preview).await;
    assert_eq!(status, 200);
    for (i, v) in verdicts.iter().enumerate() {
        let line = i + 2;
        let want = if *v == "taken" {
            format!("data-line=\"{line}\" data-verdict=\"taken\"")
        } else {
            format!("data-line=\"{line}\" data-verdict=\"refused\" data-code=\"{v}\"")
        };
        assert!(html.contains(&want), "row {line}: want {want} in {html}");
    }
    assert!(html.contains("没有这个房号"), "reasons in Chinese");
    assert!(
        !html.contains("=HYPERLINK(\"http"),
        "cells are shown escaped"
    );
    assert_eq!(size(&app).await, n, "a preview appends nothing");

    // The same file over the JSON API previews the same verdicts.
    let r = api
        .client
        .post(format!(
            "{}/api/v1/estates/alpha/imports?period={period}&encoding=utf-8",
            api.base
        ))
        .bearer_auth(api.token.as_ref().unwrap())
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["taken"], 2);
    let codes: Vec<&str> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap_or("taken"))
        .collect();
    assert_eq!(codes, verdicts);
    let api_id = body["id"].as_str().unwrap().to_string();

    let r = alice.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(size(&app).await, n + 2, "exactly the good rows");
    assert_eq!(fee_paid_amount(&app, n).await, "160.00");
    assert_eq!(fee_paid_amount(&app, n + 1).await, "95.50");
    let (_, html) = alice.page(&preview).await;
    assert!(html.contains("id=\"committed\""), "{html}");
    assert!(html.contains(&format!("/log/entries/{n}")));

    let r = alice.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(r.status().as_u16(), 409, "a second commit is refused");
    assert!(r.text().await.unwrap().contains("commit-refusal"));
    let id = preview.rsplit('/').next().unwrap();
    let (status, body) = api
        .post_json(
            &format!("/api/v1/estates/alpha/imports/{id}/commit"),
            &json!({}),
            Some("k1"),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_committed");
    // The API's preview of the same file now refuses its good rows too.
    let (status, body) = api
        .post_json(
            &format!("/api/v1/estates/alpha/imports/{api_id}/commit"),
            &json!({}),
            Some("k2"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "import_stale");
    assert_eq!(size(&app).await, n + 2);
}

async fn a_commit_is_refused_whole_when_a_good_row_went_bad(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, period) = today();
    let api = payments_api(&app).await;
    let t = today.to_string();
    let csv = format!(
        "date,amount,unit,reference\n{t},10.00,1-101,A1\n{t},20.00,1-102,A2\n{t},30.00,1-103,A3\n"
    );
    let r = api
        .client
        .post(format!(
            "{}/api/v1/estates/alpha/imports?period={period}",
            api.base
        ))
        .bearer_auth(api.token.as_ref().unwrap())
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["taken"], 3);
    let id = body["id"].as_str().unwrap().to_string();
    // Someone records A2 by hand between preview and commit.
    let (status, _) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &json!({"unit":"1-102","amount":"20.00","paid_on": t,"method":"bank","reference":"A2"}),
            None,
        )
        .await;
    assert_eq!(status, 201);
    let n = size(&app).await;
    let (status, body) = api
        .post_json(
            &format!("/api/v1/estates/alpha/imports/{id}/commit"),
            &json!({}),
            Some("c1"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "import_stale");
    assert_eq!(body["report"]["rows"][1]["code"], "duplicate_reference");
    assert_eq!(
        size(&app).await,
        n,
        "all or nothing: A1 and A3 were not appended"
    );
    // The page shows the new report; committing it now takes the two left.
    let alice = app.login("alice").await;
    let (_, html) = alice
        .page(&format!("/estates/alpha/staff/import/{id}"))
        .await;
    assert!(
        html.contains("data-line=\"3\" data-verdict=\"refused\" data-code=\"duplicate_reference\"")
    );
    let (status, body) = api
        .post_json(
            &format!("/api/v1/estates/alpha/imports/{id}/commit"),
            &json!({}),
            Some("c2"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["seqs"], json!([n, n + 1]));
    assert_eq!(body["replayed"], false);
    // The same client key gets the same answer again; another is refused.
    let (status, again) = api
        .post_json(
            &format!("/api/v1/estates/alpha/imports/{id}/commit"),
            &json!({}),
            Some("c2"),
        )
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["seqs"], body["seqs"]);
    assert_eq!(again["replayed"], true);
    assert_eq!(size(&app).await, n + 2);
}

async fn fifty_concurrent_requests_with_one_key_append_once(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, _) = today();
    let api = payments_api(&app).await;
    let n = size(&app).await;
    let body = json!({"unit":"1-101","amount":"160.00","paid_on": today.to_string(),"method":"bank","reference":"ICBC2026110300001"});
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let s = Session {
            base: api.base.clone(),
            client: api.client.clone(),
            cookie: String::new(),
            token: api.token.clone(),
        };
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            s.post_json("/api/v1/estates/alpha/payments", &body, Some("same-key-50"))
                .await
        }));
    }
    let mut seqs = std::collections::BTreeSet::new();
    let mut fresh = 0;
    for t in tasks {
        let (status, answer) = t.await.unwrap();
        assert_eq!(status, 201, "{answer}");
        seqs.insert(answer["seq"].as_u64().unwrap());
        if answer["replayed"] == false {
            fresh += 1;
        }
    }
    assert_eq!(seqs.len(), 1, "all answers carry one seq: {seqs:?}");
    assert_eq!(fresh, 1, "one first answer, 49 replays");
    assert_eq!(size(&app).await, n + 1);
    let mut other = body.clone();
    other["amount"] = json!("161.00");
    let (status, answer) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &other,
            Some("same-key-50"),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "idempotency_key_reused");
    assert_eq!(size(&app).await, n + 1);
}

async fn a_second_charge_run_for_a_month_is_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (_, period) = today();
    let p = period.to_string();
    let alice = app.login("alice").await;
    let (status, html) = alice.page("/estates/alpha/staff/billing").await;
    assert_eq!(status, 200);
    assert!(html.contains("charged-none"), "{html}");
    let n = size(&app).await;
    let receivable = receivable_fen(&app, 0).await;
    let r = alice
        .post_form(
            "/estates/alpha/staff/billing",
            &[("period", &p), ("idempotency_key", "b1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(size(&app).await, n + 1);
    // Unit 1-101 is 80.00 m² at ¥2.00/m².
    assert_eq!(receivable_fen(&app, 0).await, receivable + 16_000);
    let (_, html) = alice.page(&location(&r)).await;
    assert!(html.contains("charged-ok"));
    assert!(html.contains(&format!("<li>{p}</li>")), "{html}");

    let r = alice
        .post_form(
            "/estates/alpha/staff/billing",
            &[("period", &p), ("idempotency_key", "b2")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"period-error\""), "{html}");
    assert!(html.contains("该月份已经收过费"), "{html}");
    let api = payments_api(&app).await;
    let (status, body) = api
        .post_json("/api/v1/estates/alpha/charges", &json!({"period": p}), None)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "already_charged");
    assert_eq!(size(&app).await, n + 1, "nothing changed");
    assert_eq!(receivable_fen(&app, 0).await, receivable + 16_000);
    // Beta's month is its own.
    let bob = app.api_token("bob", &app.beta).await;
    let (status, body) = bob
        .post_json("/api/v1/estates/beta/charges", &json!({"period": p}), None)
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn hostile_csvs_get_a_clear_report_and_change_nothing(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, period) = today();
    let p = period.to_string();
    let t = today.to_string();
    let alice = app.login("alice").await;
    let api = payments_api(&app).await;
    let n = size(&app).await;
    let url = "/estates/alpha/staff/import";
    let good = format!("日期,金额,房号,流水号\n{t},160.00,1-101,G1\n");

    // GBK bytes declared as UTF-8.
    let gbk = encoding_rs::GBK.encode(&good).0.into_owned();
    let r = alice
        .post_multipart(url, csv_form(gbk.clone(), &p, "utf-8"))
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("GB18030") && html.contains("UTF-8"), "{html}");
    assert!(html.contains("id=\"import-error\""));
    assert_eq!(imports_count(&app).await, 0, "nothing stored");
    let r = alice
        .post_multipart(url, csv_form(gbk, &p, "gb18030"))
        .await;
    assert_eq!(r.status().as_u16(), 303, "the right encoding reads it");
    assert_eq!(imports_count(&app).await, 1);

    // A 50 MB file: a clear 413, over the form and the API.
    let big = vec![b'a'; 50 * 1024 * 1024];
    let r = alice
        .post_multipart(url, csv_form(big.clone(), &p, "utf-8"))
        .await;
    assert_eq!(r.status().as_u16(), 413);
    let html = r.text().await.unwrap();
    assert!(html.contains("文件超过 5 MiB"), "{html}");
    let r = api
        .client
        .post(format!(
            "{}/api/v1/estates/alpha/imports?period={p}",
            api.base
        ))
        .bearer_auth(api.token.as_ref().unwrap())
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "file_too_large");

    // Whole-file refusals, each named.
    let cases: [(Vec<u8>, &str, &str); 4] = [
        (
            format!("日期,金额\n{t},1\n").into_bytes(),
            "missing_columns",
            "房号、流水号",
        ),
        (Vec::new(), "empty_file", "文件是空的"),
        (
            b"date,amount,unit,reference\n\0\0\x01".to_vec(),
            "binary_file",
            "NUL",
        ),
        (
            {
                let mut s = String::from("date,amount,unit,reference\n");
                for i in 0..5001 {
                    s.push_str(&format!("{t},1,1-101,M{i}\n"));
                }
                s.into_bytes()
            },
            "too_many_rows",
            "5000",
        ),
    ];
    for (bytes, code, words) in cases {
        let r = alice
            .post_multipart(url, csv_form(bytes.clone(), &p, "utf-8"))
            .await;
        assert_eq!(r.status().as_u16(), 422, "{code}");
        let html = r.text().await.unwrap();
        assert!(html.contains(words), "{code}: {html}");
        let r = api
            .client
            .post(format!(
                "{}/api/v1/estates/alpha/imports?period={p}&encoding=utf-8",
                api.base
            ))
            .bearer_auth(api.token.as_ref().unwrap())
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        if code == "missing_columns" {
            let m = body["error"]["message"].as_str().unwrap();
            assert!(m.contains("unit") && m.contains("reference"), "{m}");
        }
    }
    assert_eq!(imports_count(&app).await, 1, "no refused file was stored");

    // Formula cells and bad amounts: every row refused, so nothing to commit.
    let csv = format!(
        "date,amount,unit,reference,method\n\
         {t},10.00,\"=HYPERLINK(\"\"http://evil.example\"\")\",F1,\n\
         {t},10.00,1-101,@SUM(A1),\n\
         {t},10.00,1-101,F3,+cmd\n\
         {t},-10.00,1-101,F4,\n\
         {t},10.005,1-101,F5,\n"
    );
    let r = alice
        .post_multipart(url, csv_form(csv.into_bytes(), &p, "utf-8"))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let preview = location(&r);
    let (_, html) = alice.page(&preview).await;
    for (line, code) in [
        (2, "formula"),
        (3, "formula"),
        (4, "formula"),
        (5, "negative"),
        (6, "too_many_decimals"),
    ] {
        assert!(
            html.contains(&format!(
                "data-line=\"{line}\" data-verdict=\"refused\" data-code=\"{code}\""
            )),
            "line {line}: {html}"
        );
    }
    assert!(!html.contains("commit-form"), "nothing to commit");
    let r = alice.post_form(&format!("{preview}/commit"), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(size(&app).await, n, "no hostile file changed the log");
}

async fn the_export_neutralises_formula_prefixes(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, _) = today();
    let t = today.to_string();
    let api = payments_api(&app).await;
    let (_, first) = api
        .post_json(
            "/api/v1/estates/alpha/payments",
            &json!({"unit":"1-101","amount":"160.00","paid_on": t,"method":"bank","reference":"ICBC2026110300001"}),
            None,
        )
        .await;
    let first = first["seq"].as_u64().unwrap();
    // References the forms refuse, planted directly (an older import, a
    // hand-edited row): the export must still never hand Excel a formula.
    let hostile = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "-2+3",
        "@SUM(A1)",
        "+1",
        "\tTAB",
    ];
    let mut planted = Vec::new();
    for (i, h) in hostile.iter().enumerate() {
        let (status, b) = api
            .post_json(
                "/api/v1/estates/alpha/payments",
                &json!({"unit":"1-102","amount": format!("{}.00", i + 1),"paid_on": t,"method":"cash"}),
                None,
            )
            .await;
        assert_eq!(status, 201);
        let seq = b["seq"].as_u64().unwrap();
        sqlx::query("INSERT INTO bank_refs (estate, reference, seq) VALUES ($1, $2, $3)")
            .bind("alpha")
            .bind(*h)
            .bind(seq as i64)
            .execute(app.store.pool())
            .await
            .unwrap();
        planted.push(seq);
    }
    let alice = app.login("alice").await;
    let r = alice.get("/estates/alpha/staff/payments.csv").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xef\xbb\xbfseq,time,unit,amount,paid_on,method,reference\r\n"));
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    let row = |seq: u64| -> String {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{seq},")))
            .unwrap_or_else(|| panic!("no row {seq} in {text}"))
            .to_string()
    };
    assert!(
        row(first).ends_with(&format!(",1-101,160.00,{t},bank,ICBC2026110300001")),
        "{}",
        row(first)
    );
    let want = [
        "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"",
        "'-2+3",
        "'@SUM(A1)",
        "'+1",
        "'\tTAB",
    ];
    for (seq, cell) in planted.iter().zip(want) {
        let line = row(*seq);
        assert!(
            line.ends_with(&format!(",cash,{cell}")),
            "{line:?} should end with {cell:?}"
        );
    }
    // The committee cannot export the company's private records.
    let carol = app.login("carol").await;
    assert_eq!(
        carol
            .get("/estates/alpha/staff/payments.csv")
            .await
            .status()
            .as_u16(),
        403
    );
}

async fn other_estates_and_other_roles_are_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let (today, period) = today();
    let t = today.to_string();
    let p = period.to_string();
    let alice = app.login("alice").await;
    let r = alice
        .post_multipart(
            "/estates/alpha/staff/import",
            csv_form(
                format!("date,amount,unit,reference\n{t},1,1-101,Z1\n").into_bytes(),
                &p,
                "utf-8",
            ),
        )
        .await;
    let preview = location(&r);
    let id = preview.rsplit('/').next().unwrap().to_string();
    let n = size(&app).await;

    let pay = [
        ("unit", "1-101"),
        ("amount", "1.00"),
        ("paid_on", t.as_str()),
        ("method", "cash"),
    ];
    for who in ["bob", "carol"] {
        let s = app.login(who).await;
        for path in [
            "/estates/alpha/staff/billing",
            "/estates/alpha/staff/payments",
            "/estates/alpha/staff/import",
            "/estates/alpha/staff/payments.csv",
            preview.as_str(),
        ] {
            assert_eq!(s.get(path).await.status().as_u16(), 403, "{who} GET {path}");
        }
        let r = s.post_form("/estates/alpha/staff/payments", &pay).await;
        assert_eq!(r.status().as_u16(), 403, "{who} records a payment");
        let r = s
            .post_form("/estates/alpha/staff/billing", &[("period", &p)])
            .await;
        assert_eq!(r.status().as_u16(), 403, "{who} charges");
        let r = s.post_form(&format!("{preview}/commit"), &[]).await;
        assert_eq!(r.status().as_u16(), 403, "{who} commits");
        let r = s
            .post_multipart(
                "/estates/alpha/staff/import",
                csv_form(b"x".to_vec(), &p, "utf-8"),
            )
            .await;
        assert_eq!(r.status().as_u16(), 403, "{who} uploads");
    }
    let bob = app.api_token("bob", &app.beta).await;
    let carol = app.api_token("carol", &app.alpha).await;
    for s in [&bob, &carol] {
        let (status, _) = s
            .post_json(
                "/api/v1/estates/alpha/payments",
                &json!({"unit":"1-101","amount":"1.00","paid_on": t,"method":"cash"}),
                None,
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = s
            .post_json("/api/v1/estates/alpha/charges", &json!({"period": p}), None)
            .await;
        assert_eq!(status, 403);
        let (status, _) = s
            .post_json(
                &format!("/api/v1/estates/alpha/imports/{id}/commit"),
                &json!({}),
                None,
            )
            .await;
        assert_eq!(status, 403);
    }
    // Beta's staff cannot reach alpha's preview through their own estate.
    let (status, _) = bob
        .post_json(
            &format!("/api/v1/estates/beta/imports/{id}/commit"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(size(&app).await, n, "no refused request changed the log");
}
