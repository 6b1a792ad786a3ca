//! Approver key files (docs/FORMAT.md §22): the known-answer vector, the
//! `keygen` and `sign` subcommands of the real binary (offline and against
//! the real server), and server-held key files on both engines.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::staff::StaffApp;
use common::{Engine, TestDb, TestEstate};
use serde_json::Value;
use trustfund::approver_key::{Kdf, KeyFile, KeyFileError, Passphrase};
use trustfund::domain::{MemberId, Timestamp};
use trustfund::ledger::approval::{approval_message, check_approval_signature, Decision};
use trustfund::ledger::FundAccount;
use trustfund::tlog::note::VerifierKey;
use trustfund::tlog::record_hash;

const VECTOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/vectors/approver_key.json"
);
const UPDATE_VAR: &str = "TRUSTFUND_UPDATE_VECTORS";
const PASS: &str = "long enough passphrase";

fn trustfund() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustfund"));
    c.env_remove("TRUSTFUND_PASSPHRASE")
        .env_remove("DATABASE_URL");
    c
}

/// Runs the binary with `stdin` as its standard input.
fn run_with_stdin(mut c: Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `trustfund keygen` with the passphrase on standard input; returns the
/// vkey it printed.
fn keygen(name: &str, out: &Path) -> String {
    let mut c = trustfund();
    c.args(["keygen", "--name", name, "--out"]).arg(out);
    let o = run_with_stdin(c, &format!("{PASS}\n"));
    assert!(o.status.success(), "keygen: {}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains(&out.display().to_string()), "{stdout}");
    let vkey = stdout.lines().last().unwrap().to_string();
    VerifierKey::parse(&vkey).unwrap();
    vkey
}

/// The JSON object on the last line of `sign`'s output.
fn signed(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "sign: {}\n{}",
        text(&o.stderr),
        text(&o.stdout)
    );
    serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap()
}

#[test]
fn vector_file_opens_to_its_documented_key() {
    if std::env::var_os(UPDATE_VAR).is_some() {
        let pass = Passphrase::new_choice(PASS).unwrap();
        let (file, _) = KeyFile::seal(
            "trustfund.example/estates/dongfang/members/c4",
            &[0x42; 32],
            &pass,
            Kdf::DEFAULT,
            [0x5a; 16],
            [0xa5; 12],
        )
        .unwrap();
        let v = serde_json::json!({
            "description": "An approver key file (docs/FORMAT.md §22). Public test key: never use it.",
            "passphrase": PASS,
            "seed": hex::encode([0x42u8; 32]),
            "name": file.name(),
            "vkey": file.verifier_key(),
            "file": file.format(),
        });
        std::fs::write(VECTOR, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(VECTOR).unwrap()).unwrap();
    let file_text = v["file"].as_str().unwrap();
    let file = KeyFile::parse(file_text).unwrap();
    assert_eq!(file.format(), file_text);
    assert_eq!(file.name(), v["name"].as_str().unwrap());
    assert_eq!(file.verifier_key(), v["vkey"].as_str().unwrap());
    let pass = Passphrase::attempt(v["passphrase"].as_str().unwrap()).unwrap();
    let signer = file.unlock(&pass).unwrap();
    assert_eq!(signer.verifier_key().format(), v["vkey"].as_str().unwrap());
    // The seed behind it is the documented one.
    let seed: [u8; 32] = hex::decode(v["seed"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let again = trustfund::tlog::note::Signer::from_seed(
        file.name(),
        trustfund::tlog::note::ALG_COSIGNATURE_V1,
        &seed,
    )
    .unwrap();
    assert_eq!(again.verifier_key(), signer.verifier_key());
    // Known answer: sealing the documented seed with the file's salt and
    // nonce gives the file byte for byte (pins Argon2id, the AAD and GCM).
    let (resealed, _) = KeyFile::seal(
        file.name(),
        &seed,
        &pass,
        Kdf::DEFAULT,
        [0x5a; 16],
        [0xa5; 12],
    )
    .unwrap();
    assert_eq!(resealed.format(), file_text);
    assert_eq!(
        file.unlock(&Passphrase::attempt("long enough passphrasE").unwrap())
            .unwrap_err(),
        KeyFileError::Unlock
    );
}

#[test]
fn generated_files_round_trip_and_refuse_tampering() {
    let pass = Passphrase::new_choice(PASS).unwrap();
    let name = "trustfund.example/estates/alpha/members/c9";
    let (file, signer) = KeyFile::generate(name, &pass).unwrap();
    let text = file.format();
    let parsed = KeyFile::parse(&text).unwrap();
    assert_eq!(
        parsed.unlock(&pass).unwrap().verifier_key(),
        signer.verifier_key()
    );
    // Two keys never share a seed, salt or nonce.
    let (other, _) = KeyFile::generate(name, &pass).unwrap();
    for line in ["vkey", "salt", "nonce", "sealed"] {
        let pick = |t: &str| t.lines().find(|l| l.starts_with(line)).unwrap().to_string();
        assert_ne!(pick(&text), pick(&other.format()), "{line}");
    }
    assert_eq!(
        parsed
            .unlock(&Passphrase::attempt("wrong passphrase!").unwrap())
            .unwrap_err(),
        KeyFileError::Unlock
    );
    // Flipping a byte of each payload (the unit tests flip every byte).
    for line in ["salt", "nonce", "sealed"] {
        let l = text.lines().find(|l| l.starts_with(line)).unwrap();
        let raw = base64_decode(&l[line.len() + 1..]);
        let mut m = raw.clone();
        m[raw.len() / 2] ^= 0x80;
        let t = text.replace(l, &format!("{line} {}", base64_encode(&m)));
        assert_eq!(
            KeyFile::parse(&t).unwrap().unlock(&pass).unwrap_err(),
            KeyFileError::Unlock,
            "{line}"
        );
    }
    // Costs out of bounds never reach Argon2id.
    for kdf in [
        "m=32768 t=3",
        "m=2097152 t=3",
        "m=65536 t=1",
        "m=65536 t=20",
    ] {
        let t = text.replace("m=65536 t=3", kdf);
        assert!(
            matches!(KeyFile::parse(&t), Err(KeyFileError::Kdf(_))),
            "{kdf}"
        );
    }
    assert_eq!(
        Passphrase::new_choice("short").unwrap_err(),
        KeyFileError::PassphraseTooShort
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_then_offline_sign_verifies() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = db.open().await;
    let estate = TestEstate::create(&store, &db.keys(), "alpha").await;
    let claim = estate
        .append(&store, vec![estate.claim(FundAccount::Operating, "120.00")])
        .await
        .unwrap()
        .remove(0);
    let bytes = store
        .entry_bytes(&estate.slug, claim.seq)
        .await
        .unwrap()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let entry_path = dir.path().join("claim.json");
    std::fs::write(&entry_path, &bytes).unwrap();
    let key_path = dir.path().join("c9.key");
    let vkey = keygen(&format!("{}/members/c9", estate.origin()), &key_path);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(KeyFile::parse(&key_text).unwrap().verifier_key(), vkey);

    // A second keygen to the same path is refused and leaves the file.
    let mut c = trustfund();
    c.args([
        "keygen",
        "--name",
        "trustfund.example/estates/alpha/members/c8",
        "--out",
    ])
    .arg(&key_path)
    .env("TRUSTFUND_PASSPHRASE", PASS);
    let o = c.output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--out"), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), key_text);

    let sign = |pass: &str, decision: &str| {
        let mut c = trustfund();
        c.args(["sign", "--key"])
            .arg(&key_path)
            .args([
                "--claim",
                &claim.seq.to_string(),
                "--decision",
                decision,
                "--entry",
            ])
            .arg(&entry_path)
            .args(["--origin", &estate.origin(), "--policy", "1", "--yes"])
            .env("TRUSTFUND_PASSPHRASE", pass);
        c.output().unwrap()
    };
    let o = sign(PASS, "approve");
    let out = signed(&o);
    let stdout = text(&o.stdout);
    let msg = approval_message(
        &estate.origin(),
        claim.seq,
        &record_hash(bytes.as_bytes()),
        Decision::Approve,
        1,
    );
    assert!(stdout.contains(&msg), "{stdout}");
    assert!(stdout.contains("壹佰贰拾元整"), "{stdout}");
    assert!(stdout.contains("修理队"), "{stdout}");
    assert_eq!(out["claim"], claim.seq);
    assert_eq!(out["decision"], "approve");
    assert_eq!(out["policy"], 1);
    assert_eq!(out["member_key"], vkey.as_str());
    let key = VerifierKey::parse(&vkey).unwrap();
    check_approval_signature(&msg, out["signature"].as_str().unwrap(), &key).unwrap();
    // The signature is for approve only.
    let reject = approval_message(
        &estate.origin(),
        claim.seq,
        &record_hash(bytes.as_bytes()),
        Decision::Reject,
        1,
    );
    assert!(check_approval_signature(&reject, out["signature"].as_str().unwrap(), &key).is_err());

    // A wrong passphrase exits non-zero and says so; nothing is signed.
    let o = sign("not the passphrase", "approve");
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("wrong passphrase or damaged key file"),
        "{}",
        text(&o.stderr)
    );
    assert!(!text(&o.stdout).contains("\"signature\""));

    // Without --yes, anything but "y" signs nothing (stdin: answer, then
    // the passphrase).
    let mut c = trustfund();
    c.args(["sign", "--key"])
        .arg(&key_path)
        .args([
            "--claim",
            &claim.seq.to_string(),
            "--decision",
            "reject",
            "--entry",
        ])
        .arg(&entry_path)
        .args(["--origin", &estate.origin(), "--policy", "1"]);
    let o = run_with_stdin(c, &format!("n\n{PASS}\n"));
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("Sign? [y/N]"));
    assert!(!text(&o.stdout).contains("\"signature\""));

    // Bad flags are named.
    let o = sign(PASS, "maybe");
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("--decision"),
        "{}",
        text(&o.stderr)
    );
    let mut c = trustfund();
    c.args(["sign", "--key"])
        .arg(&key_path)
        .args(["--claim", "0", "--decision", "approve", "--yes", "--entry"])
        .arg(&entry_path)
        .args(["--origin", &estate.origin(), "--policy", "1"])
        .env("TRUSTFUND_PASSPHRASE", PASS);
    let o = c.output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--claim"), "{}", text(&o.stderr));
}

async fn sign_against_the_server_verifies(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let claim = app
        .store
        .append(
            &app.alpha.slug,
            vec![app.alpha.claim(FundAccount::Operating, "80.50")],
            Timestamp::now().unwrap(),
            &app.alpha.log,
        )
        .await
        .unwrap()
        .remove(0);
    // A later entry, so the claim is not simply the log's last one.
    app.alpha
        .append(&app.store, vec![app.alpha.fee_paid(0, "10.00")])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("c9.key");
    let vkey = keygen(&format!("{}/members/c9", app.alpha.origin()), &key_path);
    let sign = |seq: u64| {
        let key_path = key_path.clone();
        let base = app.base.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut c = trustfund();
                c.args(["sign", "--key"])
                    .arg(&key_path)
                    .args(["--url", &base, "--estate", "alpha"])
                    .args(["--claim", &seq.to_string(), "--decision", "approve"]);
                run_with_stdin(c, &format!("y\n{PASS}\n"))
            })
            .await
            .unwrap()
        }
    };
    let o = sign(claim.seq).await;
    let out = signed(&o);
    assert!(text(&o.stderr).contains("Sign? [y/N]"));
    assert_eq!(out["policy"], 1);
    assert_eq!(out["member_key"], vkey.as_str());
    let msg = approval_message(
        &app.alpha.origin(),
        claim.seq,
        &claim.hash,
        Decision::Approve,
        1,
    );
    let key = VerifierKey::parse(&vkey).unwrap();
    check_approval_signature(&msg, out["signature"].as_str().unwrap(), &key).unwrap();

    // The server takes that offline signature: enrol c9 with the key, let
    // the company sign, then submit c9's signature through the API.
    app.alpha
        .append(
            &app.store,
            vec![
                trustfund::ledger::Body::MemberEnrolled {
                    member: trustfund::domain::MemberId::parse("m", "c9").unwrap(),
                    name: trustfund::domain::Name::parse("n", "c9").unwrap(),
                    role: trustfund::ledger::Role::Committee,
                    key: vkey.clone(),
                }
                .into(),
                app.alpha.approve(&claim, &app.alpha.company),
            ],
        )
        .await
        .unwrap();
    let hash = trustfund::auth::Password::new_choice(common::staff::PASSWORD)
        .unwrap()
        .hash();
    let nine = app
        .store
        .create_user("nine", "c9", &hash, false, Timestamp::now().unwrap())
        .await
        .unwrap();
    app.store
        .grant(
            nine,
            &app.alpha.slug,
            trustfund::ledger::Role::Committee,
            Some("c9"),
        )
        .await
        .unwrap();
    let token = app.api_token("nine", &app.alpha).await;
    let (status, body) = token
        .post_json(
            &format!("/api/v1/estates/alpha/claims/{}/approvals", claim.seq),
            &serde_json::json!({"decision": "approve", "signature": out["signature"]}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body["executed"].is_u64(),
        "c9's signature completed the policy: {body}"
    );

    // Entry 0 is not a claim.
    let o = sign(0).await;
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("not a claim_submitted"),
        "{}",
        text(&o.stderr)
    );
}

both_engines!(server_keeps_key_files, sign_against_the_server_verifies);

async fn server_keeps_key_files(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let estate = TestEstate::create(&store, &db.keys(), "alpha").await;
    let member = MemberId::parse("member", "c9").unwrap();
    let now = Timestamp::now().unwrap();
    assert_eq!(
        store.approver_key(&estate.slug, &member).await.unwrap(),
        None
    );
    let pass = Passphrase::new_choice(PASS).unwrap();
    let name = format!("{}/members/c9", estate.origin());
    let (first, _) = KeyFile::generate(&name, &pass).unwrap();
    store
        .put_approver_key(&estate.slug, &member, &first.format(), now)
        .await
        .unwrap();
    let got = store
        .approver_key(&estate.slug, &member)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, first.format());
    // The caller unlocks what the store returns.
    assert_eq!(
        KeyFile::parse(&got)
            .unwrap()
            .unlock(&pass)
            .unwrap()
            .verifier_key()
            .format(),
        first.verifier_key()
    );
    // A rotated key replaces the row.
    let (second, _) = KeyFile::generate(&name, &pass).unwrap();
    store
        .put_approver_key(&estate.slug, &member, &second.format(), now)
        .await
        .unwrap();
    assert_eq!(
        store
            .approver_key(&estate.slug, &member)
            .await
            .unwrap()
            .unwrap(),
        second.format()
    );
    // Other members and estates see nothing; garbage is not stored.
    let other = MemberId::parse("member", "c8").unwrap();
    assert_eq!(
        store.approver_key(&estate.slug, &other).await.unwrap(),
        None
    );
    assert!(store
        .put_approver_key(&estate.slug, &other, "not a key file\n", now)
        .await
        .is_err());
    assert_eq!(
        store.approver_key(&estate.slug, &other).await.unwrap(),
        None
    );
    let nowhere = trustfund::domain::Slug::parse("slug", "nowhere").unwrap();
    assert!(store
        .put_approver_key(&nowhere, &member, &first.format(), now)
        .await
        .is_err());
}
