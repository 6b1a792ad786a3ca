//! A running server with two estates and signed-in people, for the staff
//! workflow tests: the real router on a loopback port, a fresh database,
//! real Argon2id passwords and real session cookies.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use serde_json::Value;
use trustfund::auth::{Password, Token};
use trustfund::http::{router, AppState};
use trustfund::ledger::Role;
use trustfund::store::Store;

use super::{ts, Engine, TestDb, TestEstate, T0};

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// Two estates, `alpha` and `beta`, and these accounts:
/// - `admin`: platform admin, no estate role;
/// - `alice`: company staff of alpha (signs as member `p1`);
/// - `carol`: committee member of alpha (signs as `c1`);
/// - `bob`: company staff of beta only.
pub struct StaffApp {
    pub db: TestDb,
    pub store: Arc<Store>,
    pub alpha: TestEstate,
    pub beta: TestEstate,
    pub base: String,
}

/// Someone signed in (or not yet: `cookie` empty), talking to the server
/// as a browser on the same site would.
pub struct Session {
    pub base: String,
    pub client: Client,
    pub cookie: String,
    /// An API token instead of a cookie, for API calls.
    pub token: Option<String>,
}

impl StaffApp {
    pub async fn start(engine: Engine) -> StaffApp {
        let db = TestDb::new(engine).await;
        let store = Arc::new(db.open().await);
        let alpha = TestEstate::create(&store, &db.keys(), "alpha").await;
        let beta = TestEstate::create(&store, &db.keys(), "beta").await;
        let hash = Password::new_choice(PASSWORD).unwrap().hash();
        let now = ts(T0);
        let admin = store
            .create_user("admin", "平台管理员", &hash, true, now)
            .await
            .unwrap();
        let _ = admin;
        let alice = store
            .create_user("alice", "Alice 物业", &hash, false, now)
            .await
            .unwrap();
        store
            .grant(alice, &alpha.slug, Role::Company, Some("p1"))
            .await
            .unwrap();
        let carol = store
            .create_user("carol", "Carol 业委会", &hash, false, now)
            .await
            .unwrap();
        store
            .grant(carol, &alpha.slug, Role::Committee, Some("c1"))
            .await
            .unwrap();
        let bob = store
            .create_user("bob", "Bob 物业", &hash, false, now)
            .await
            .unwrap();
        store
            .grant(bob, &beta.slug, Role::Company, Some("p1"))
            .await
            .unwrap();

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
        StaffApp {
            db,
            store,
            alpha,
            beta,
            base,
        }
    }

    /// A visitor with no session.
    pub fn anonymous(&self) -> Session {
        Session {
            base: self.base.clone(),
            client: Client::builder().redirect(Policy::none()).build().unwrap(),
            cookie: String::new(),
            token: None,
        }
    }

    /// Signs in through the real form and keeps the session cookie.
    pub async fn login(&self, login: &str) -> Session {
        let mut s = self.anonymous();
        let resp = s
            .post_form("/login", &[("login", login), ("password", PASSWORD)])
            .await;
        assert_eq!(resp.status().as_u16(), 303, "sign-in as {login} failed");
        let set = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("tf_session="))
            .expect("a session cookie");
        s.cookie = set.split(';').next().unwrap().to_string();
        s
    }

    /// An API token for `login` in `estate`, made directly in the store.
    pub async fn api_token(&self, login: &str, estate: &TestEstate) -> Session {
        let (user, _) = self.store.user_credentials(login).await.unwrap().unwrap();
        let token = Token::new_api();
        self.store
            .create_api_token(&token.digest_hex(), user.id, &estate.slug, "test", ts(T0))
            .await
            .unwrap();
        let mut s = self.anonymous();
        s.token = Some(token.expose().to_string());
        s
    }
}

impl Session {
    fn with_auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = if self.cookie.is_empty() {
            req
        } else {
            req.header("cookie", &self.cookie)
        };
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// What a same-site browser sends with a form post or fetch.
    fn same_site(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.token.is_some() {
            req
        } else {
            req.header("origin", &self.base)
                .header("sec-fetch-site", "same-origin")
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.with_auth(self.client.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap()
    }

    /// A page's status and HTML.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        self.same_site(self.with_auth(req)).send().await.unwrap()
    }

    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Response {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form);
        self.same_site(self.with_auth(req)).send().await.unwrap()
    }

    /// A JSON write, with an `Idempotency-Key` when given.
    pub async fn post_json(&self, path: &str, body: &Value, idem: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(k) = idem {
            req = req.header("idempotency-key", k);
        }
        let r = self.same_site(self.with_auth(req)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// A post as another site's page would make it: the session cookie rides
/// along (if SameSite did not stop it) but the browser names the origin.
pub async fn cross_site_post(s: &Session, path: &str, fields: &[(&str, &str)]) -> Response {
    s.client
        .post(format!("{}{path}", s.base))
        .header("cookie", &s.cookie)
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(fields)
        .send()
        .await
        .unwrap()
}
