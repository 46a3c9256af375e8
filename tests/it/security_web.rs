//! Issue 8, items 7-12 and 14: each test performs an attack that worked on
//! a live `pg_shell up` against the real gateway over HTTP (in process, as
//! `pg_shell serve` runs it, or the `pg_shell serve` binary itself) or over a
//! direct SQL login, and asserts that it fails now.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pg_shell::gateway::{jwt, Gateway, GatewayConfig};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{TestDb, Reply};

const SECRET: &str = "reallyreallyreallyreallyverysafe";
const PASSWORD: &str = "correct horse battery";

struct Gw {
    addr: SocketAddr,
    http: reqwest::Client,
    db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Reply {
    fn code(&self) -> (u16, String) {
        (self.status.as_u16(), self.json()["code"].as_str().unwrap_or_default().to_string())
    }
    /// `name=value` of the session cookie set by this response.
    fn cookie(&self) -> Option<String> {
        self.header("set-cookie").map(|c| c.split(';').next().unwrap().to_string())
    }
}

impl Gw {
    /// The gateway over a fresh database with pg_shell's `api`, its login
    /// the superuser's connection string (as `pg_shell up` gives it).
    async fn start(tweak: impl FnOnce(&mut GatewayConfig)) -> Gw {
        let db = TestDb::new().await;
        let mut config = GatewayConfig::new(db.conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap());
        config.jwt_secret = Some(SECRET.as_bytes().to_vec());
        tweak(&mut config);
        let gw = Gateway::bind(config).await.expect("gateway binds");
        let addr = gw.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gw.run(async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();
        Gw { addr, http, db, stop: Some(stop), task: Some(task) }
    }

    /// Trusting 127.0.0.1 as a reverse proxy: X-Forwarded-For names the client.
    async fn behind_proxy() -> Gw {
        Gw::start(|c| c.trusted_proxies = vec![pg_shell::gateway::Cidr::parse("127.0.0.1").unwrap()]).await
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("http://{}{path}", self.addr))
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn login(&self, user: &str, password: &str, client_ip: Option<&str>) -> Reply {
        let mut r = self.req(Method::POST, "/rpc/login").json(&json!({"username": user, "password": password}));
        if let Some(ip) = client_ip {
            r = r.header("x-forwarded-for", ip);
        }
        Reply::of(r.send().await.unwrap()).await
    }

    async fn add_user(&self, name: &str, role: &str) {
        pg_shell::db::upsert_user(&self.db.admin().await, name, role, Some(PASSWORD)).await.unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        self.db.admin().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn set(&self, name: &str, value: &str) {
        self.db
            .admin()
            .await
            .execute("update pgshell.settings set value = $2::text::jsonb where name = $1", &[&name, &value])
            .await
            .unwrap();
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn token(claims: Value) -> String {
    jwt::sign_hs256(&claims, SECRET.as_bytes())
}

/// Item 7: GET /rpc/login ran read-only; a wrong password failed on the audit
/// INSERT and a right one on the session DELETE, two different errors, and
/// nothing was logged. Now a GET is refused before the password is looked at.
#[tokio::test]
async fn get_login_is_not_a_password_oracle() {
    let gw = Gw::start(|_| {}).await;
    gw.add_user("alice", "user").await;
    let audit_before = gw.count("select count(*) from pgshell.audit_log").await;
    let mut answers = Vec::new();
    for password in [PASSWORD, "wrong password"] {
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs([("username", "alice"), ("password", password)]).finish();
        for path in [format!("/rpc/login?{q}"), format!("/rpc/ui_login?{q}")] {
            let r = Reply::of(gw.req(Method::GET, &path).send().await.unwrap()).await;
            assert_eq!(r.status.as_u16(), 405, "{path}: {}", r.text);
            assert!(r.header("set-cookie").is_none());
            answers.push((path.starts_with("/rpc/ui"), r.text));
        }
    }
    // Right and wrong passwords answer byte for byte alike, in both endpoints.
    assert_eq!(answers[0], answers[2]);
    assert_eq!(answers[1], answers[3]);
    assert!(answers[0].1.contains("25006") && answers[0].1.contains("POST"), "{}", answers[0].1);
    // Over SQL, in a read-only transaction, the same: one error whatever the password.
    let c = gw.db.admin().await;
    let mut errors = Vec::new();
    for password in [PASSWORD, "wrong password"] {
        c.batch_execute("begin read only").await.unwrap();
        let e = c.query_one("select api.login('alice', $1)", &[&password]).await.unwrap_err();
        c.batch_execute("rollback").await.unwrap();
        errors.push((e.code().unwrap().code().to_string(), e.as_db_error().unwrap().message().to_string()));
    }
    assert_eq!(errors[0], errors[1]);
    assert_eq!(errors[0].0, "25006");
    assert_eq!(gw.count("select count(*) from pgshell.audit_log").await, audit_before, "a refused GET checked nothing");
    assert_eq!(gw.count("select count(*) from pgshell.web_sessions").await, 0);
    // POST: every attempt is accounted for.
    assert_eq!(gw.login("alice", "wrong password", None).await.code(), (401, "PT401".into()));
    let ok = gw.login("alice", PASSWORD, None).await;
    assert_eq!(ok.status.as_u16(), 200);
    assert_eq!(gw.count("select count(*) from pgshell.audit_log where event = 'user.login_failed'").await, 1);
    assert_eq!(gw.count("select count(*) from pgshell.audit_log where event = 'user.login'").await, 1);
    gw.stop().await;
}

/// Item 8: 400 guesses at ~70/s went through. Now 5 failures per name (or 20
/// per client address) in 10 minutes get 429 with Retry-After, checked before
/// any hashing; a success resets the name; hashing is capped server-wide.
#[tokio::test]
async fn brute_force_is_throttled_before_any_hashing() {
    let gw = Gw::behind_proxy().await;
    gw.add_user("alice", "user").await;
    gw.add_user("bob", "user").await;
    // Stored at cost 10 or more.
    let cost: String = gw.db.admin().await.query_one("select substr(password_hash, 1, 7) from pgshell.users where name = 'alice'", &[]).await.unwrap().get(0);
    assert_eq!(cost, "$2a$10$");

    for i in 0..5 {
        let r = gw.login("alice", &format!("guess {i}"), Some(&format!("198.51.100.{i}"))).await;
        assert_eq!(r.code(), (401, "PT401".into()), "guess {i}");
    }
    // The 6th, even with the right password and from another address: 429.
    // With every hash now at cost 16 (seconds each), an answer well under a
    // second shows that the throttled attempt hashed nothing.
    gw.set("bcrypt_cost", "16").await;
    let t = Instant::now();
    let r = gw.login("alice", PASSWORD, Some("198.51.100.77")).await;
    let took = t.elapsed();
    assert_eq!(r.code(), (429, "PT429".into()), "{}", r.text);
    assert!(took < Duration::from_millis(1500), "a throttled attempt took {took:?}: it hashed");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((590..=600).contains(&retry), "Retry-After {retry}");
    assert!(r.header("set-cookie").is_none());
    gw.set("bcrypt_cost", "10").await;
    // ... until the window has passed (moved into the past here).
    gw.db.admin().await.execute("update pgshell.login_windows set ends_at = now() - interval '1 s' where key = 'alice'", &[]).await.unwrap();
    assert_eq!(gw.login("alice", PASSWORD, Some("198.51.100.78")).await.status.as_u16(), 200);

    // A success resets the name's count: 4 + success + 4 failures, never 429.
    for round in 0..2 {
        for i in 0..4 {
            let r = gw.login("bob", "nope", Some(&format!("203.0.113.{}", round * 10 + i))).await;
            assert_eq!(r.status.as_u16(), 401);
        }
        assert_eq!(gw.login("bob", PASSWORD, Some("203.0.113.99")).await.status.as_u16(), 200);
    }

    // 20 failures from one address (any names, unknown ones too), then 429 for
    // every name from there; another address is not affected.
    for i in 0..20 {
        assert_eq!(gw.login(&format!("nobody{i}"), "x", Some("192.0.2.50")).await.status.as_u16(), 401);
    }
    let r = gw.login("bob", PASSWORD, Some("192.0.2.50")).await;
    assert_eq!(r.code(), (429, "PT429".into()));
    assert_eq!(gw.login("bob", PASSWORD, Some("192.0.2.51")).await.status.as_u16(), 200);
    gw.stop().await;

    // Without a trusted proxy, X-Forwarded-For is the client's own claim and
    // ignored: rotating it does not escape the address limit.
    let gw = Gw::start(|_| {}).await;
    for i in 0..20 {
        assert_eq!(gw.login(&format!("n{i}"), "x", Some(&format!("10.9.9.{i}"))).await.status.as_u16(), 401);
    }
    assert_eq!(gw.login("n99", "x", Some("10.9.9.200")).await.code(), (429, "PT429".into()));
    let keys: Vec<String> = gw
        .db
        .admin()
        .await
        .query("select key from pgshell.login_windows where kind = 'address'", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(keys, ["127.0.0.1"], "the address is the connection's");
    gw.stop().await;
}

/// Item 8: concurrent hashing is capped for the whole server: with one slot
/// and slow hashes, concurrent log-ins beyond it are answered 503 with
/// Retry-After instead of piling up.
#[tokio::test]
async fn concurrent_hashing_is_capped() {
    let gw = Gw::behind_proxy().await;
    gw.set("login_hash_slots", "1").await;
    gw.set("bcrypt_cost", "15").await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let req = gw
                .req(Method::POST, "/rpc/login")
                .header("x-forwarded-for", format!("100.64.0.{i}"))
                .json(&json!({"username": format!("someone{i}"), "password": "x"}));
            tokio::spawn(async move { Reply::of(req.send().await.unwrap()).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        if r.status.as_u16() == 503 {
            assert_eq!((r.json()["code"].as_str(), r.header("retry-after")), (Some("PT503"), Some("1")));
        }
        statuses.push(r.status.as_u16());
    }
    statuses.sort();
    assert!(statuses.contains(&503) && statuses.contains(&401), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 503), "{statuses:?}");
    // The refused ones are accounted for.
    let busy = gw.count("select coalesce(sum(busy), 0)::int8 from pgshell.login_windows where kind = 'user'").await;
    assert_eq!(busy, statuses.iter().filter(|s| **s == 503).count() as i64);
    gw.stop().await;
}

/// Item 8: hashes of an older, lower cost are upgraded at the next log-in,
/// without ending the user's web sessions.
#[tokio::test]
async fn old_hashes_are_upgraded_at_the_next_log_in() {
    let gw = Gw::start(|_| {}).await;
    let c = gw.db.admin().await;
    c.execute("insert into pgshell.users (name, role, password_hash) values ('old', 'user', crypt($1, gen_salt('bf', 8)))", &[&PASSWORD])
        .await
        .unwrap();
    let first = gw.login("old", PASSWORD, None).await;
    assert_eq!(first.status.as_u16(), 200);
    let hash: String = c.query_one("select password_hash from pgshell.users where name = 'old'", &[]).await.unwrap().get(0);
    assert!(hash.starts_with("$2a$10$"), "{hash}");
    let second = gw.login("old", PASSWORD, None).await;
    assert_eq!(second.status.as_u16(), 200, "the new hash checks the same password");
    // The upgrade is not a password change: the first cookie still works.
    let r = Reply::of(gw.req(Method::GET, "/rpc/whoami").header("cookie", first.cookie().unwrap()).send().await.unwrap()).await;
    assert_eq!(r.json()["name"], "old");
    gw.stop().await;
}

/// Item 9: ten log-ins with 1 MB user names added 10 MB of undeletable audit
/// rows. Now long names are refused before anything is written, every
/// anonymous input in the audit log is bounded, and repeats are counted.
#[tokio::test]
async fn anonymous_log_ins_cannot_flood_the_audit_log() {
    let gw = Gw::start(|c| c.body_limit = 4 << 20).await;
    async fn rows(gw: &Gw) -> tokio_postgres::Row {
        let c = gw.db.admin().await;
        c.query_one("select count(*), coalesce(sum(length(details::text)), 0)::int8 from pgshell.audit_log", &[]).await.unwrap()
    }
    let before = rows(&gw).await;
    let huge = "x".repeat(1 << 20);
    for _ in 0..10 {
        let r = gw.login(&huge, "x", None).await;
        assert_eq!(r.code(), (400, "22023".into()), "{}", &r.text[..r.text.len().min(200)]);
    }
    let r = gw.login(&"y".repeat(65), "x", None).await;
    assert_eq!(r.status.as_u16(), 400);
    let after = rows(&gw).await;
    assert_eq!(after.get::<_, i64>(0), before.get::<_, i64>(0), "nothing written for over-long names");
    assert_eq!(gw.count("select count(*) from pgshell.login_windows").await, 0);

    // Repeats of one name (with a 64 KB user agent): one audit row for the
    // first failure, one when it becomes throttled; the rest are counted.
    let name = "z".repeat(64);
    let ua = "U".repeat(64 << 10);
    for _ in 0..10 {
        let r = Reply::of(
            gw.req(Method::POST, "/rpc/login")
                .header("user-agent", &ua)
                .json(&json!({"username": name, "password": "x"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(matches!(r.status.as_u16(), 401 | 429));
    }
    let c = gw.db.admin().await;
    let events: Vec<(String, i32)> = c
        .query("select event, length(details::text) from pgshell.audit_log where actor = 'anonymous' order by id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["user.login_failed", "user.login_throttled"]);
    assert!(events.iter().all(|e| e.1 < 1024), "bounded rows: {events:?}");
    let w = c.query_one("select failures, throttled from pgshell.login_windows where kind = 'user' and key = $1", &[&name]).await.unwrap();
    assert_eq!((w.get::<_, i32>(0), w.get::<_, i32>(1)), (5, 5), "every attempt counted");
    // When the window closes, its counts become one summary row.
    c.execute("update pgshell.login_windows set ends_at = now() - interval '1 s'", &[]).await.unwrap();
    gw.login("someone-else", "x", None).await;
    let summary: Value = c
        .query_one("select details::json from pgshell.audit_log where event = 'user.login_failures' and details ? 'user'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!((summary["user"].as_str(), summary["failures"].as_i64(), summary["throttled"].as_i64()), (Some(name.as_str()), Some(5), Some(5)));
    // Everything anonymous callers put in the audit log, all told, stays small.
    let total: i64 = rows(&gw).await.get(1);
    assert!(total < 8 * 1024, "{total} bytes of audit details");
    gw.stop().await;
}

/// Item 10: an old cookie kept working after an admin reset the password.
/// Now a password reset or a role change ends the user's web sessions, and a
/// JWT issued before the change is refused by the pre-request check.
#[tokio::test]
async fn password_reset_and_role_change_end_sessions_and_old_tokens() {
    let gw = Gw::start(|_| {}).await;
    gw.add_user("root", "admin").await;
    gw.add_user("alice", "user").await;
    let root = gw.login("root", PASSWORD, None).await.cookie().unwrap();
    let whoami = |cookie: Option<String>, bearer: Option<String>| {
        let mut r = gw.req(Method::GET, "/rpc/whoami");
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        if let Some(t) = bearer {
            r = r.bearer_auth(t);
        }
        async move { Reply::of(r.send().await.unwrap()).await }
    };
    let admin_call = |body: Value| {
        let r = gw.req(Method::POST, "/rpc/admin_set_user").header("cookie", root.clone()).json(&body);
        async move { Reply::of(r.send().await.unwrap()).await }
    };
    let old_token = token(json!({"sub": "alice", "role": "pgshell_user", "iat": now() - 5}));
    let no_iat = token(json!({"sub": "alice", "role": "pgshell_user"}));
    let alice = gw.login("alice", PASSWORD, None).await.cookie().unwrap();
    assert_eq!(whoami(Some(alice.clone()), None).await.json()["name"], "alice");
    assert_eq!(whoami(None, Some(old_token.clone())).await.json()["name"], "alice");

    // The admin resets alice's password: her cookie and her older tokens die.
    let r = admin_call(json!({"name": "alice", "role": "user", "password": "a new password"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(whoami(Some(alice.clone()), None).await.code(), (401, "42501".into()));
    let r = whoami(None, Some(old_token)).await;
    assert_eq!(r.code(), (401, "PGRST303".into()), "{}", r.text);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer error=\"invalid_token\""));
    assert_eq!(whoami(None, Some(no_iat)).await.code(), (401, "PGRST303".into()));
    let fresh = token(json!({"sub": "alice", "role": "pgshell_user", "iat": now() + 1}));
    assert_eq!(whoami(None, Some(fresh)).await.json()["name"], "alice");

    // A role change: the same.
    let alice = gw.login("alice", "a new password", None).await.cookie().unwrap();
    assert_eq!(whoami(Some(alice.clone()), None).await.json()["role"], "user");
    let r = admin_call(json!({"name": "alice", "role": "auditor"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(whoami(Some(alice), None).await.status.as_u16(), 401);
    assert_eq!(gw.count("select count(*) from pgshell.web_sessions w join pgshell.users u on u.id = w.user_id where u.name = 'alice'").await, 0);
    // The admin's own session is untouched.
    assert_eq!(whoami(Some(root.clone()), None).await.json()["name"], "root");
    gw.stop().await;
}

/// Item 11: a cross-site form post to ui_login set the cookie (login CSRF);
/// HTML came without a CSP or frame-ancestors; the cookie had no Secure
/// behind TLS.
#[tokio::test]
async fn cross_site_posts_fail_html_has_a_csp_and_https_cookies_are_secure() {
    let gw = Gw::behind_proxy().await;
    gw.add_user("alice", "user").await;
    let form = form_urlencoded::Serializer::new(String::new()).extend_pairs([("username", "alice"), ("password", PASSWORD)]).finish();
    let post_form = |path: &str, headers: &[(&str, String)]| {
        let mut r = gw.req(Method::POST, path).header("content-type", "application/x-www-form-urlencoded").header("accept", "text/html").body(form.clone());
        for (k, v) in headers {
            r = r.header(*k, v);
        }
        async move { Reply::of(r.send().await.unwrap()).await }
    };
    let audit_before = gw.count("select count(*) from pgshell.audit_log").await;
    for headers in [
        vec![("origin", "https://evil.example".to_string()), ("sec-fetch-site", "cross-site".to_string())],
        vec![("origin", "https://evil.example".to_string())],
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("origin", "null".to_string())],
        vec![("sec-fetch-site", "same-site".to_string()), ("origin", "http://other.localhost".to_string())],
    ] {
        let r = post_form("/rpc/ui_login", &headers).await;
        assert_eq!(r.code(), (403, "PT403".into()), "{headers:?}: {}", r.text);
        assert!(r.header("set-cookie").is_none());
    }
    assert_eq!(gw.count("select count(*) from pgshell.web_sessions").await, 0);
    assert_eq!(gw.count("select count(*) from pgshell.audit_log").await, audit_before, "refused before the log-in ran");
    // From the page itself (same origin), and from non-browser clients, it works.
    let r = post_form("/rpc/ui_login", &[("origin", gw.origin()), ("sec-fetch-site", "same-origin".into())]).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let cookie = r.cookie().unwrap();
    assert!(!r.header("set-cookie").unwrap().contains("Secure"), "plain http: no Secure");
    // With the cookie, a forged cross-site request changes nothing either.
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/ui_new_session")
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .json(&json!({"title": "csrf"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(gw.count("select count(*) from pgshell.sessions").await, 0);

    // HTML: a CSP without unsafe-inline, frame-ancestors 'none'; the page and
    // the fragments use no inline script, style or handler.
    let page = Reply::of(gw.req(Method::GET, "/").send().await.unwrap()).await;
    let home = Reply::of(gw.req(Method::GET, "/rpc/ui_home").header("cookie", &cookie).header("accept", "text/html").send().await.unwrap()).await;
    for r in [&page, &home] {
        let csp = r.header("content-security-policy").expect("a CSP");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
    }
    assert_eq!(page.text.matches("<script").count(), page.text.matches("<script src=").count(), "inline script in index.html");
    assert!(page.text.contains("includeIndicatorStyles\": false"), "htmx injects no style");
    let sid = {
        let r = Reply::of(gw.req(Method::POST, "/rpc/ui_new_session").header("cookie", &cookie).header("accept", "text/html").json(&json!({"title": "t"})).send().await.unwrap()).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        r.text
    };
    for html in [&page.text, &home.text, &sid] {
        assert!(!html.contains(" style=") && !html.contains("hx-on") && !html.contains(" onclick"), "inline code: {html}");
    }

    // Over https at the proxy: the cookie is Secure. A client that only claims
    // https (not through the trusted proxy) does not get it: see below.
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/login")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "198.51.100.9")
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(r.header("set-cookie").unwrap().split("; ").any(|a| a == "Secure"), "{:?}", r.header("set-cookie"));
    gw.stop().await;
    let gw = Gw::start(|_| {}).await;
    gw.add_user("alice", "user").await;
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/login").header("x-forwarded-proto", "https").json(&json!({"username": "alice", "password": PASSWORD})).send().await.unwrap(),
    )
    .await;
    assert!(!r.header("set-cookie").unwrap().contains("Secure"), "an untrusted X-Forwarded-Proto is ignored");
    gw.stop().await;
}

/// Item 12: any role holding pgshell_user could `set request.jwt.claims =
/// '{"sub":"admin"}'` and act as the admin (it created a new admin). Now only
/// members of pgshell_authenticator name the caller; a login named after a
/// user made with `user add --login` is that user; any other login is nobody.
#[tokio::test]
async fn a_direct_sql_login_cannot_impersonate_anyone() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "root", "admin", Some(PASSWORD)).await.unwrap();
    // Role names are cluster-wide: unique per test database. dave is a
    // pg_shell user whose name a login happens to have (without --login).
    let mallory = format!("mallory_{}", db.name);
    let dave = format!("dave_{}", db.name);
    pg_shell::db::upsert_user(&admin, &dave, "user", None).await.unwrap();
    admin
        .batch_execute(&format!(
            "drop role if exists {mallory}; create role {mallory} login; grant pgshell_user to {mallory};
             drop role if exists {dave}; create role {dave} login; grant pgshell_user to {dave}"
        ))
        .await
        .unwrap();
    let as_role = |role: &str| format!("{} user={role}", db.conninfo);

    for role in [mallory.as_str(), dave.as_str()] {
        let c = pg_shell::db::connect_plain(&as_role(role)).await.unwrap();
        c.batch_execute("set request.jwt.claims = '{\"sub\": \"root\", \"role\": \"pgshell_admin\"}'").await.unwrap();
        let who: Option<String> = c.query_one("select pgshell.caller_name()", &[]).await.unwrap().get(0);
        assert_eq!(who, None, "{role} is nobody");
        let e = c.query_one("select api.admin_set_user('evil', 'admin', 'evil-password')", &[]).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501", "{role}: {e}");
        let e = c.query_one("select api.whoami()", &[]).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501");
    }
    assert_eq!(admin.query_one("select count(*) from pgshell.users where name = 'evil'", &[]).await.unwrap().get::<_, i64>(0), 0);

    // `pg_shell user add carol --login`: the login carol is carol, whatever she claims.
    let carol = format!("carol_{}", db.name);
    let out = tokio::task::spawn_blocking({
        let (url, carol) = (db.conninfo.clone(), carol.clone());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
                .args(["user", "add", &carol, "--login", "--password", "carols-password"])
                .env("DATABASE_URL", url)
                .env_remove("PG_CONN")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = pg_shell::db::connect_plain(&as_role(&carol)).await.unwrap();
    let me: Value = c.query_one("select api.whoami()", &[]).await.unwrap().get(0);
    assert_eq!(me["name"], carol.as_str());
    c.batch_execute("set request.jwt.claims = '{\"sub\": \"root\"}'").await.unwrap();
    let me: Value = c.query_one("select api.whoami()", &[]).await.unwrap().get(0);
    assert_eq!(me["name"], carol.as_str(), "claims do not move a user's login");
    let e = c.query_one("select api.admin_set_user('evil', 'admin', 'evil-password')", &[]).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42501");
    // She works in her own sessions.
    let sid: uuid::Uuid = c.query_one("select api.create_session('mine')", &[]).await.unwrap().get(0);
    let owner: String = admin
        .query_one("select u.name from pgshell.sessions s join pgshell.users u on u.id = s.owner_id where s.id = $1", &[&sid])
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, carol);
    // A superuser can never be made a user's login.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .args(["user", "add", "postgres", "--login"])
        .env("DATABASE_URL", &db.conninfo)
        .env_remove("PG_CONN")
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("superuser"));
    drop(c);
    for r in [&mallory, &dave, &carol] {
        admin.batch_execute(&format!("drop owned by {r}; drop role {r}")).await.unwrap();
    }
}

/// `pg_shell serve` on a free port with a superuser's DATABASE_URL; killed on drop.
struct ServeProcess(std::process::Child, u16);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Item 14: a token's role claim could pick any non-superuser role the
/// gateway's login could switch to (pgshell_owner included), and `pg_shell
/// up` ran the gateway as a superuser. Now the gateway logs in as the
/// NOINHERIT pgshell_authenticator and accepts only its request roles.
#[tokio::test]
async fn tokens_can_only_choose_the_request_roles() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "alice", "user", None).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &db.conninfo)
        .env("PGRST_JWT_SECRET", SECRET)
        .env_remove("PG_CONN")
        .env_remove("PGRST_CONFIG")
        .env_remove("PGRST_DB_URI")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = ServeProcess(child, port);
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let base = format!("http://127.0.0.1:{}", server.1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/healthz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "pg_shell serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let whoami = |role: &str| {
        let req = http.get(format!("{base}/rpc/whoami")).bearer_auth(token(json!({"sub": "alice", "role": role})));
        async move { Reply::of(req.send().await.unwrap()).await }
    };
    for role in ["pgshell_owner", "pgshell_executor", "pgshell_authenticator", "postgres"] {
        let r = whoami(role).await;
        assert_eq!(r.code(), (403, "42501".into()), "{role}: {}", r.text);
        assert_eq!(r.json()["message"], format!("permission denied to set role \"{role}\""));
    }
    assert_eq!(whoami("no_such_role").await.status.as_u16(), 401);
    // A request role works. The authenticator itself may not even use the
    // api schema, so this also shows the call is prepared after the role switch.
    let r = whoami("pgshell_user").await;
    assert_eq!((r.status.as_u16(), r.json()["name"].as_str()), (200, Some("alice")), "{}", r.text);
    let usage: bool = admin.query_one("select has_schema_privilege('pgshell_authenticator', 'api', 'usage')", &[]).await.unwrap().get(0);
    assert!(!usage);
    // Every connection the gateway holds is the authenticator's, none a superuser's.
    let logins: Vec<String> = admin
        .query(
            "select distinct usename::text from pg_stat_activity where application_name = 'pg_shell gateway' and datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(logins, ["pgshell_authenticator"]);
    let noinherit: bool = admin.query_one("select not rolinherit from pg_roles where rolname = 'pgshell_authenticator'", &[]).await.unwrap().get(0);
    assert!(noinherit);
    drop(server);
}

/// Log-in latency at the configured bcrypt cost, through the gateway: a
/// success, a wrong password, an unknown user (the dummy hash), and a
/// throttled attempt. `cargo test --test it security_web::bench -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn bench_login_latency() {
    let gw = Gw::behind_proxy().await;
    gw.add_user("alice", "user").await;
    for cost in [10, 12] {
        gw.set("bcrypt_cost", &cost.to_string()).await;
        gw.add_user("alice", "user").await; // rehash at this cost
        let mut figures = Vec::new();
        for (label, user, password, throttle) in [
            ("success", "alice", PASSWORD, false),
            ("wrong password", "alice", "nope", false),
            ("unknown user", "nobody", "nope", false),
            ("throttled", "victim", "nope", true),
        ] {
            if throttle {
                gw.db.admin().await.execute(
                    "insert into pgshell.login_windows (kind, key, started_at, ends_at, failures) values ('user', 'victim', now(), now() + interval '1 hour', 100) on conflict (kind, key) do update set failures = 100, ends_at = now() + interval '1 hour'",
                    &[],
                ).await.unwrap();
            }
            let mut times = Vec::new();
            for i in 0..20 {
                // A fresh address each time: the address limit stays out of it.
                let ip = format!("10.{}.{}.{}", cost, i / 250, i % 250 + 1);
                let t = Instant::now();
                let r = gw.login(user, password, Some(&ip)).await;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                assert!(matches!(r.status.as_u16(), 200 | 401 | 429), "{}", r.text);
                if !throttle {
                    gw.db.admin().await.execute("delete from pgshell.login_windows where kind = 'user' and key = $1", &[&user]).await.unwrap();
                }
            }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            figures.push(format!("{label}: median {:.1} ms, p90 {:.1} ms", times[10], times[18]));
        }
        println!("log-in at bcrypt cost {cost}: {}", figures.join("; "));
    }
    gw.stop().await;
}
