//! Shared test support: a fresh database per test (a SQLite file in a temp
//! dir, or a uniquely named PostgreSQL database that is dropped afterwards),
//! and a small estate with real keys.
#![allow(dead_code)]

pub mod staff;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;
use tempfile::TempDir;

use trustfund::domain::{
    Area, Date, EstateTz, MemberId, Money, Name, Payee, Period, Purpose, Rate, Ratio, Slug,
    Timestamp, UnitCommitment, UnitId, UnitSecret,
};
use trustfund::keys::{Keyring, LogKey};
use trustfund::ledger::approval::{approval_message, encode_signature, Decision};
use trustfund::ledger::entry::Currency;
use trustfund::ledger::{Body, Category, FundAccount, PayMethod, PolicyRules, Role};
use trustfund::store::{Appended, Draft, Store};
use trustfund::tlog::note::{Signer, ALG_COSIGNATURE_V1, ALG_ED25519};

/// The PostgreSQL server every machine of this project runs. Tests fail,
/// never skip, when it is unreachable.
pub fn pg_admin_url() -> String {
    std::env::var("TRUSTFUND_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh, empty database and data directory, removed on drop.
pub struct TestDb {
    pub engine: Engine,
    pub dir: TempDir,
    /// For PostgreSQL: the database's URL and name.
    pub pg: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    pub async fn new(engine: Engine) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let pg = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => {
                let name = format!(
                    "tf_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .subsec_nanos()
                );
                let admin = pg_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL at {admin} is required for these tests: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("bad TRUSTFUND_TEST_PG"),
                };
                Some((url, name))
            }
        };
        TestDb { engine, dir, pg }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("trustfund.sqlite3")
    }

    pub fn database_url(&self) -> Option<String> {
        self.pg.as_ref().map(|(u, _)| u.clone())
    }

    pub async fn open(&self) -> Store {
        match &self.pg {
            None => Store::open_sqlite(&self.sqlite_path())
                .await
                .expect("open sqlite"),
            Some((url, _)) => Store::open_postgres(url).await.expect("open postgres"),
        }
    }

    pub fn keys(&self) -> Keyring {
        Keyring::new(self.dir.path())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((_, name)) = self.pg.take() {
            // Drop runs outside any runtime guarantee: use a thread of our own.
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Generates one test per engine from an `async fn(Engine)`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() { super::$name($crate::common::Engine::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() { super::$name($crate::common::Engine::Postgres).await }
            )*
        }
    };
}

pub const ORIGIN: &str = "trustfund.example/estates/test";

/// A small estate with real keys: one company signatory, three committee
/// members, one community observer, four units, and ¥1,000.00 of operating
/// money.
pub struct TestEstate {
    pub slug: Slug,
    pub log: LogKey,
    pub company: (MemberId, Signer),
    pub committee: Vec<(MemberId, Signer)>,
    pub community: (MemberId, Signer),
    pub units: Vec<(UnitId, UnitSecret, UnitCommitment)>,
    pub t0: Timestamp,
}

pub fn ts(unix: i64) -> Timestamp {
    Timestamp::from_unix(unix).unwrap()
}

pub fn money(s: &str) -> Money {
    Money::parse("amount", s).unwrap()
}

/// 2026-01-05T00:00:00Z: a fixed start so entry bytes are reproducible.
pub const T0: i64 = 1_767_571_200;

fn member(origin: &str, id: &str, seed: u8) -> (MemberId, Signer) {
    let name = format!("{origin}/members/{id}");
    (
        MemberId::parse("member", id).unwrap(),
        Signer::from_seed(&name, ALG_COSIGNATURE_V1, &[seed; 32]).unwrap(),
    )
}

impl TestEstate {
    pub async fn create(store: &Store, keys: &Keyring, slug: &str) -> TestEstate {
        let slug = Slug::parse("slug", slug).unwrap();
        let origin = format!("trustfund.example/estates/{slug}");
        let log_seed = [1u8; 32];
        keys.create(&slug, &log_seed).unwrap();
        let log = keys.with_signer(
            &slug,
            Signer::from_seed(&origin, ALG_ED25519, &log_seed).unwrap(),
        );
        let company = member(&origin, "p1", 10);
        let committee = vec![
            member(&origin, "c1", 11),
            member(&origin, "c2", 12),
            member(&origin, "c3", 13),
        ];
        let community = member(&origin, "s1", 14);
        let t0 = ts(T0);
        let mut drafts: Vec<Draft> = vec![
            Body::EstateCreated {
                name: Name::parse("name", "测试小区 <script>alert(1)</script>").unwrap(),
                origin: origin.clone(),
                log_key: log.verifier_key().format(),
                timezone: EstateTz::parse("timezone", "Asia/Shanghai").unwrap(),
                currency: Currency::Cny,
                fee_rate: Rate::parse("fee_rate", "2.00").unwrap(),
            }
            .into(),
            Body::PolicySet {
                version: 1,
                rules: PolicyRules::standard(),
                approvals: vec![],
            }
            .into(),
            Body::RemunerationRatioSet {
                ratio: Ratio::parse("ratio", "0.1").unwrap(),
                from: t0.period_in(&EstateTz::parse("tz", "Asia/Shanghai").unwrap()),
            }
            .into(),
        ];
        let people = [
            (&company, Role::Company),
            (&committee[0], Role::Committee),
            (&committee[1], Role::Committee),
            (&committee[2], Role::Committee),
            (&community, Role::Community),
        ];
        for ((id, signer), role) in people {
            drafts.push(
                Body::MemberEnrolled {
                    member: id.clone(),
                    name: Name::parse("name", id.as_str()).unwrap(),
                    role,
                    key: signer.verifier_key().format(),
                }
                .into(),
            );
        }
        let mut units = Vec::new();
        for (i, area) in ["80.00", "100.50", "120.25", "95.00"].iter().enumerate() {
            let unit_id = UnitId::parse("unit", &format!("1-{}", 101 + i)).unwrap();
            let secret = UnitSecret::parse("secret", &format!("{:0>20}", i + 1)).unwrap();
            let commitment = UnitCommitment::compute(&slug, &unit_id, &secret);
            drafts.push(Draft {
                body: Body::UnitRegistered {
                    unit: commitment,
                    area: Area::parse("area", area).unwrap(),
                },
                unit: Some((unit_id.clone(), secret.clone())),
                at: None,
                bank_ref: None,
            });
            units.push((unit_id, secret, commitment));
        }
        drafts.push(
            Body::OpeningBalance {
                account: FundAccount::Operating,
                amount: money("1000.00"),
                memo: Purpose::parse("memo", "opening").unwrap(),
                postings: vec![],
            }
            .into(),
        );
        store
            .create_estate(&slug, "测试小区", &origin, drafts, t0, &log)
            .await
            .expect("create estate");
        TestEstate {
            slug,
            log,
            company,
            committee,
            community,
            units,
            t0,
        }
    }

    pub fn origin(&self) -> String {
        format!("trustfund.example/estates/{}", self.slug)
    }

    pub fn fee_paid(&self, unit: usize, amount: &str) -> Draft {
        Body::FeePaid {
            unit: self.units[unit].2,
            amount: money(amount),
            paid_on: Date::parse("paid_on", "2026-01-05").unwrap(),
            method: PayMethod::Bank,
            bank_ref: None,
            postings: vec![],
        }
        .into()
    }

    pub fn claim(&self, account: FundAccount, amount: &str) -> Draft {
        Body::ClaimSubmitted {
            account,
            category: Category::Repairs,
            payee: Payee::parse("payee", "修理队").unwrap(),
            amount: money(amount),
            purpose: Purpose::parse("purpose", "修水管").unwrap(),
            quote: None,
            evidence: vec![],
            service_record: None,
            period: None,
            transfer_to: None,
            expires: Timestamp::MIN,
        }
        .into()
    }

    pub fn remuneration_claim(&self, period: Period, amount: &str) -> Draft {
        Body::ClaimSubmitted {
            account: FundAccount::Operating,
            category: Category::Remuneration,
            payee: Payee::parse("payee", "物业公司").unwrap(),
            amount: money(amount),
            purpose: Purpose::parse("purpose", "酬金").unwrap(),
            quote: None,
            evidence: vec![],
            service_record: None,
            period: Some(period),
            transfer_to: None,
            expires: Timestamp::MIN,
        }
        .into()
    }

    /// A signed approval of an appended claim by `who`.
    pub fn approve(&self, claim: &Appended, who: &(MemberId, Signer)) -> Draft {
        let msg = approval_message(&self.origin(), claim.seq, &claim.hash, Decision::Approve, 1);
        Body::ClaimApproved {
            claim: claim.seq,
            claim_hash: claim.hash,
            policy: 1,
            member: who.0.clone(),
            key: who.1.verifier_key().format(),
            signature: encode_signature(&who.1.sign_raw(msg.as_bytes())),
        }
        .into()
    }

    pub async fn append(
        &self,
        store: &Store,
        drafts: Vec<Draft>,
    ) -> Result<Vec<Appended>, trustfund::store::StoreError> {
        store
            .append(&self.slug, drafts, Timestamp::now().unwrap(), &self.log)
            .await
    }
}

/// Serves the real app for `store` on a loopback port; returns its base URL.
pub async fn serve_app(store: std::sync::Arc<Store>, keys: Keyring) -> String {
    let app = trustfund::http::router(trustfund::http::AppState::new(store, keys));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    base
}

/// `who` cosign the estate's latest checkpoint, as their witness pages do.
pub async fn cosign_latest(store: &Store, t: &TestEstate, who: &[&(MemberId, Signer)]) {
    let cp = store.latest_checkpoint(&t.slug).await.unwrap().unwrap();
    let text = trustfund::tlog::note::Note::parse(&cp.note).unwrap().text;
    let now = Timestamp::now().unwrap();
    for (id, signer) in who {
        let sig = trustfund::tlog::checkpoint::cosign_checkpoint(&text, signer, now.unix() as u64)
            .unwrap();
        store
            .cosign(&t.slug, cp.tree_size, id, &sig, now)
            .await
            .unwrap();
    }
}

/// The real `trustfund serve` binary on the test database, on a loopback
/// port; killed when dropped, however the test ends.
pub struct ServeProcess {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base: String,
    /// What the server wrote to stderr (warnings), for tests that read it.
    pub stderr: Option<std::process::ChildStderr>,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `trustfund serve` on `db` and waits until it says where it serves.
pub async fn serve_binary(db: &TestDb) -> ServeProcess {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_trustfund"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(db.data_dir())
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(url) = db.database_url() {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("start trustfund serve");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take();
    let mut server = ServeProcess {
        child,
        base: String::new(),
        stderr,
    };
    server.base = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("trustfund is serving on ") {
                return rest.trim_end_matches('/').to_string();
            }
        }
        panic!("server exited before serving");
    })
    .await
    .unwrap();
    server
}
