//! The staff side's two deliberately bounded costs: reading and checking a
//! bank CSV of the largest size accepted (5,000 rows), and one Argon2id
//! password check (every sign-in pays it, and it is meant to be slow), and
//! opening an approver's key held on the server (Argon2id at 64 MiB, t=3).
//! Pure: no database, no network. Run with `cargo bench --bench staff`.

mod support;

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use trustfund::auth::Password;
use trustfund::domain::{Date, Period, UnitId};
use trustfund::ledger::bank_csv::{self, Context, Encoding, MAX_ROWS};

/// A bank export of `rows` payments across 480 units, in the shape the
/// import reads (header in Chinese, one unknown unit every 50th row).
fn bank_file(rows: usize) -> Vec<u8> {
    let mut out = String::from("日期,金额,房号,流水号,摘要\r\n");
    for i in 0..rows {
        let unit = if i % 50 == 49 {
            "9-999".to_string()
        } else {
            format!("{}-{}{:02}", 1 + i % 4, 1 + (i / 4) % 30, 1 + i % 4)
        };
        out.push_str(&format!(
            "2026-11-{:02},{}.{:02},{unit},ICBC20261100{i:06},物业费\r\n",
            1 + i % 28,
            150 + i % 300,
            i % 100
        ));
    }
    out.into_bytes()
}

fn benches(c: &mut Criterion) {
    let file = bank_file(MAX_ROWS);
    let period = Period::parse("period", "2026-11").unwrap();
    let today = Date::parse("today", "2026-12-01").unwrap();
    let taken: BTreeSet<String> = (0..1_000).map(|i| format!("ICBC20261000{i:06}")).collect();
    let is_unit = |u: &UnitId| !u.as_str().starts_with('9');
    let cx = Context {
        period,
        today,
        is_unit: &is_unit,
        taken: &taken,
    };
    let checked = bank_csv::check(&bank_csv::read(&file, Encoding::Utf8).expect("reads"), &cx);
    let taken_rows = checked.iter().filter(|c| c.verdict.is_ok()).count();
    assert!(
        taken_rows > 0 && taken_rows < MAX_ROWS,
        "both verdicts are exercised"
    );
    eprintln!(
        "bank file: {MAX_ROWS} rows, {} bytes; {taken_rows} taken, {} refused",
        file.len(),
        MAX_ROWS - taken_rows
    );

    let mut g = c.benchmark_group("staff");
    g.throughput(Throughput::Elements(MAX_ROWS as u64));
    g.bench_function("bank_csv/read_and_check_5000_rows", |b| {
        b.iter(|| {
            let rows = bank_csv::read(black_box(&file), Encoding::Utf8).expect("reads");
            bank_csv::check(&rows, &cx)
        })
    });
    g.throughput(Throughput::Elements(1));
    let password = Password::new_choice("correct horse battery staple").unwrap();
    let stored = password.hash();
    g.bench_function("sign_in/argon2id_verify", |b| {
        b.iter(|| assert!(black_box(&password).verify(black_box(&stored))))
    });
    // Every web signing with a key held on the server opens it once.
    let key_pass =
        trustfund::approver_key::Passphrase::new_choice("a long enough passphrase").unwrap();
    let (file, _) = trustfund::approver_key::KeyFile::generate(
        "trustfund.example/estates/bench/members/c1",
        &key_pass,
    )
    .unwrap();
    g.bench_function("signing/unlock_held_key", |b| {
        b.iter(|| black_box(&file).unlock(&key_pass).expect("opens"))
    });
    g.finish();
}

criterion_group! {
    name = staff;
    config = support::config(10, 5);
    targets = benches
}
criterion_main!(staff);
