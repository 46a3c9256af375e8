//! The web side at the SQL level: log-in cookies, the pre-request hook, and
//! the HTML endpoints (escaping, who may see and do what). Each request runs
//! the way a gateway runs it: one transaction, the anonymous role, the request
//! settings, pgshell.pre_request(), then the call.

use tokio_postgres::{types::ToSql, Client};
use uuid::Uuid;

use crate::support::TestDb;

const PASSWORD: &str = "correct horse battery";

/// What a gateway would answer: the call's result (as text) or the error, and
/// the response settings the function left behind.
struct Response {
    body: Result<String, tokio_postgres::Error>,
    headers: Option<String>,
    status: Option<String>,
}

impl Response {
    fn ok(&self) -> &str {
        match &self.body {
            Ok(b) => b,
            Err(e) => panic!("request failed: {e:?}"),
        }
    }
    fn sqlstate(&self) -> String {
        match &self.body {
            Ok(b) => panic!("expected an error, got {b}"),
            Err(e) => e.code().map(|c| c.code().to_string()).unwrap_or_else(|| format!("{e:?}")),
        }
    }
    /// The session token a Set-Cookie header carries.
    fn cookie_token(&self) -> String {
        let h = self.headers.as_deref().expect("response.headers set");
        let v: serde_json::Value = serde_json::from_str(h).unwrap();
        let cookie = v[0]["Set-Cookie"].as_str().expect("a Set-Cookie header").to_string();
        cookie.strip_prefix("pgshell_session=").unwrap().split(';').next().unwrap().to_string()
    }
}

/// One request as pgshell_anon carrying `cookie` (the session token) if any.
/// `sql` selects one value; it is returned as text.
async fn request(c: &Client, cookie: Option<&str>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Response {
    c.batch_execute("begin; set local role pgshell_anon").await.unwrap();
    let cookies = match cookie {
        Some(t) => serde_json::json!({ "pgshell_session": t }).to_string(),
        None => "{}".to_string(),
    };
    c.execute("select set_config('request.cookies', $1, true)", &[&cookies]).await.unwrap();
    c.execute("select set_config('request.headers', '{\"user-agent\": \"web-test\"}', true)", &[]).await.unwrap();
    let body = match c.execute("select pgshell.pre_request()", &[]).await {
        Ok(_) => c.query_one(&format!("select ({sql})::text"), params).await.map(|r| r.get::<_, Option<String>>(0).unwrap_or_default()),
        Err(e) => Err(e),
    };
    if body.is_err() {
        c.batch_execute("rollback").await.unwrap();
        return Response { body, headers: None, status: None };
    }
    let r = c
        .query_one(
            "select nullif(current_setting('response.headers', true), ''), nullif(current_setting('response.status', true), '')",
            &[],
        )
        .await
        .unwrap();
    c.batch_execute("commit").await.unwrap();
    Response { body, headers: r.get(0), status: r.get(1) }
}

async fn add_user(db: &TestDb, name: &str, role: &str) {
    pg_shell::db::upsert_user(&db.admin().await, name, role, Some(PASSWORD)).await.unwrap();
}

async fn login(c: &Client, name: &str) -> String {
    let r = request(c, None, "api.login($1, $2)", &[&name, &PASSWORD]).await;
    r.ok();
    r.cookie_token()
}

async fn audit_events(db: &TestDb, event: &str) -> Vec<serde_json::Value> {
    db.admin()
        .await
        .query("select to_jsonb(a) from pgshell.audit_log a where event = $1 order by id", &[&event])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn login_sets_an_httponly_samesite_cookie_that_pre_request_maps_to_the_user() {
    let db = TestDb::new().await;
    add_user(&db, "alice", "user").await;
    let c = db.admin().await;

    let r = request(&c, None, "api.login($1, $2)", &[&"alice", &PASSWORD]).await;
    let body: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
    assert_eq!((body["user"].as_str(), body["role"].as_str()), (Some("alice"), Some("user")));
    let headers: serde_json::Value = serde_json::from_str(r.headers.as_deref().unwrap()).unwrap();
    let cookie = headers[0]["Set-Cookie"].as_str().unwrap();
    for attr in ["Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"] {
        assert!(cookie.split("; ").any(|a| a == attr), "{attr} missing from {cookie}");
    }
    let token = r.cookie_token();
    assert!(token.len() >= 64 && token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    // Only the token's hash is stored.
    let stored: Vec<Vec<u8>> =
        c.query("select token_hash from pgshell.web_sessions", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(stored, vec![pg_shell::env::sha256(token.as_bytes()).to_vec()]);
    assert_eq!(audit_events(&db, "user.login").await.len(), 1);

    // The cookie makes alice the caller, under her database role.
    let r = request(&c, Some(&token), "pgshell.caller_name() || ' as ' || current_user", &[]).await;
    assert_eq!(r.ok(), "alice as pgshell_user");
    let r = request(&c, Some(&token), "api.whoami()", &[]).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(r.ok()).unwrap()["name"], "alice");
    // Without the cookie: nobody, and only the anonymous endpoints answer.
    let r = request(&c, None, "coalesce(pgshell.caller_name(), '-') || ' as ' || current_user", &[]).await;
    assert_eq!(r.ok(), "- as pgshell_anon");
    assert_eq!(request(&c, None, "api.ui_sessions()", &[]).await.sqlstate(), "42501");
    assert!(request(&c, None, "api.ui_home()", &[]).await.ok().contains("rpc/ui_login"), "anonymous home is the log-in form");
}

#[tokio::test]
async fn a_wrong_password_answers_401_and_is_audited() {
    let db = TestDb::new().await;
    add_user(&db, "alice", "user").await;
    pg_shell::db::upsert_user(&db.admin().await, "nopass", "user", None).await.unwrap();
    add_user(&db, "gone", "user").await;
    db.admin().await.execute("update pgshell.users set disabled = true where name = 'gone'", &[]).await.unwrap();
    let c = db.admin().await;

    for (who, password) in [("alice", "wrong password"), ("nobody", PASSWORD), ("nopass", ""), ("gone", PASSWORD)] {
        let r = request(&c, None, "api.login($1, $2)", &[&who, &password]).await;
        let body: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
        assert_eq!(body["code"], "PT401", "{who}: {body}");
        assert_eq!(r.status.as_deref(), Some("401"), "{who}");
        assert!(r.headers.is_none(), "{who}: no cookie on a failed log-in");
    }
    // The failures were committed to the audit log (an exception would have rolled them back).
    let failed = audit_events(&db, "user.login_failed").await;
    let users: Vec<&str> = failed.iter().map(|e| e["details"]["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["alice", "nobody", "nopass", "gone"]);
    assert!(failed.iter().all(|e| e["actor"] == "anonymous" && e["details"]["user_agent"] == "web-test"));
    assert_eq!(c.query_one("select count(*) from pgshell.web_sessions", &[]).await.unwrap().get::<_, i64>(0), 0);
    assert!(audit_events(&db, "user.login").await.is_empty());

    // The HTML log-in shows the form again (200, so htmx swaps it) and accounts
    // for it: alice's second failure in her window is counted into it (0009),
    // not a row of its own.
    let r = request(&c, None, "api.ui_login($1, $2)", &[&"alice", &"nope"]).await;
    assert!(r.ok().contains("Invalid user name or password") && r.ok().contains("rpc/ui_login"));
    assert_eq!(r.status.as_deref(), Some("200"));
    assert_eq!(audit_events(&db, "user.login_failed").await.len(), 4);
    let failures: i32 = c
        .query_one("select failures from pgshell.login_windows where kind = 'user' and key = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(failures, 2);
}

#[tokio::test]
async fn unknown_expired_and_logged_out_cookies_map_to_nobody() {
    let db = TestDb::new().await;
    add_user(&db, "alice", "user").await;
    let c = db.admin().await;
    let who = "coalesce(pgshell.caller_name(), '-') || ' as ' || current_user";

    assert_eq!(request(&c, Some("not-a-token"), who, &[]).await.ok(), "- as pgshell_anon");
    assert_eq!(request(&c, Some(""), who, &[]).await.ok(), "- as pgshell_anon");

    let expired = login(&c, "alice").await;
    assert_eq!(request(&c, Some(&expired), who, &[]).await.ok(), "alice as pgshell_user");
    c.execute("update pgshell.web_sessions set expires_at = now() - interval '1 second'", &[]).await.unwrap();
    assert_eq!(request(&c, Some(&expired), who, &[]).await.ok(), "- as pgshell_anon");

    // A disabled user's cookie stops working at once, and stays dead once she
    // is enabled again (disabling ended the web session).
    let token = login(&c, "alice").await;
    c.execute("update pgshell.users set disabled = true where name = 'alice'", &[]).await.unwrap();
    assert_eq!(request(&c, Some(&token), who, &[]).await.ok(), "- as pgshell_anon");
    c.execute("update pgshell.users set disabled = false where name = 'alice'", &[]).await.unwrap();
    assert_eq!(request(&c, Some(&token), who, &[]).await.ok(), "- as pgshell_anon");
    let token = login(&c, "alice").await;

    // Log-out deletes the session and expires the cookie.
    let r = request(&c, Some(&token), "api.logout()", &[]).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(r.ok()).unwrap()["logged_out"], true);
    assert!(r.headers.as_deref().unwrap().contains("pgshell_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    assert_eq!(request(&c, Some(&token), who, &[]).await.ok(), "- as pgshell_anon");
    let out = audit_events(&db, "user.logout").await;
    assert_eq!((out.len(), out[0]["actor"].as_str()), (1, Some("alice")));

    // A bearer JWT's sub (already in request.jwt.claims) wins over a cookie.
    add_user(&db, "bob", "user").await;
    let bob = login(&c, "bob").await;
    c.batch_execute("begin; set local role pgshell_user").await.unwrap();
    c.execute("select set_config('request.jwt.claims', '{\"sub\": \"alice\", \"role\": \"pgshell_user\"}', true)", &[])
        .await
        .unwrap();
    c.execute("select set_config('request.cookies', $1, true)", &[&serde_json::json!({ "pgshell_session": bob }).to_string()])
        .await
        .unwrap();
    c.execute("select pgshell.pre_request()", &[]).await.unwrap();
    let caller: String = c.query_one("select pgshell.caller_name()", &[]).await.unwrap().get(0);
    c.batch_execute("rollback").await.unwrap();
    assert_eq!(caller, "alice");
}

#[tokio::test]
async fn the_authenticator_role_switches_to_the_users_role_through_the_cookie() {
    let db = TestDb::new().await;
    add_user(&db, "alice", "user").await;
    add_user(&db, "eve", "auditor").await;
    add_user(&db, "root", "admin").await;
    let c = db.admin().await;
    let tokens = [("alice", login(&c, "alice").await), ("eve", login(&c, "eve").await), ("root", login(&c, "root").await)];
    // What PostgREST does: log in as the (NOINHERIT) authenticator, switch to the anonymous role.
    c.batch_execute("set session authorization pgshell_authenticator").await.unwrap();
    for ((name, token), role) in tokens.iter().zip(["pgshell_user", "pgshell_auditor", "pgshell_admin"]) {
        let r = request(&c, Some(token), "pgshell.caller_name() || ' as ' || current_user || ' via ' || session_user", &[]).await;
        assert_eq!(r.ok(), format!("{name} as {role} via pgshell_authenticator"));
    }
    assert_eq!(request(&c, None, "current_user", &[]).await.ok(), "pgshell_anon");
    // The authenticator itself can do nothing.
    let e = c.query_one("select api.ui_sessions()", &[]).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42501");
}

#[tokio::test]
async fn user_text_is_escaped_in_every_html_endpoint() {
    let mut db = TestDb::new().await;
    db.start_executor();
    add_user(&db, "alice", "user").await;
    add_user(&db, "eve", "auditor").await;
    let c = db.admin().await;
    let alice = login(&c, "alice").await;
    let eve = login(&c, "eve").await;
    let mut u = db.user("alice").await;

    let title = "<img src=x onerror=alert('title')>";
    let r = request(&c, Some(&alice), "api.ui_new_session($1)", &[&title]).await;
    let s: uuid::Uuid = {
        let html = r.ok();
        let at = html.find("data-session=\"").unwrap() + 14;
        html[at..at + 36].parse().unwrap()
    };
    let lines = [
        "echo '<script>alert(1)</script>'",
        "mkdir '<u>d'",
        "cd '<u>d'",
        "cat '<b>missing' \"&quot;\"",
        "pwd",
    ];
    let mut ids = Vec::new();
    for line in lines {
        let frag = request(&c, Some(&alice), "api.ui_submit($1, $2)", &[&s, &line]).await;
        let id: i64 = {
            let html = frag.ok();
            let at = html.find("id=\"cmd-").unwrap() + 8;
            html[at..].split('"').next().unwrap().parse().unwrap()
        };
        assert_safe(frag.ok());
        ids.push(id);
    }
    for id in &ids {
        u.client.wait(*id, std::time::Duration::from_secs(60)).await.unwrap();
    }
    let out = u.client.command(ids[0]).await.unwrap();
    assert_eq!(out.stdout(), "<script>alert(1)</script>\n", "{out:?}");

    let mut pages = vec![
        request(&c, Some(&alice), "api.ui_home()", &[]).await.ok().to_string(),
        request(&c, Some(&alice), "api.ui_sessions()", &[]).await.ok().to_string(),
        request(&c, Some(&alice), "api.ui_session($1)", &[&s]).await.ok().to_string(),
        request(&c, Some(&eve), "api.ui_sessions()", &[]).await.ok().to_string(),
        request(&c, Some(&eve), "api.ui_session($1)", &[&s]).await.ok().to_string(),
        request(&c, Some(&eve), "api.ui_audit()", &[]).await.ok().to_string(),
        request(&c, Some(&eve), "api.ui_audit($1, $2, $3)", &[&s.to_string(), &"alice", &"command."]).await.ok().to_string(),
    ];
    for id in &ids {
        pages.push(request(&c, Some(&alice), "api.ui_command($1)", &[id]).await.ok().to_string());
    }
    let session = &pages[2];
    assert!(session.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "stdout shown escaped: {session}");
    assert!(session.contains("&lt;img src=x onerror=alert(&#39;title&#39;)&gt;"), "title shown escaped");
    assert!(session.contains("/&lt;u&gt;d$"), "cwd in the prompt escaped");
    assert!(session.contains("&lt;b&gt;missing"), "stderr escaped");
    assert!(session.contains("&amp;quot;"), "& escaped first");
    assert!(pages[6].contains("command.submitted"), "audit filter shows alice's commands");
    for p in &pages {
        assert_safe(p);
    }
}

/// No markup from user text survived: every payload used in the tests opens
/// with one of these tags, which the endpoints never emit themselves.
fn assert_safe(html: &str) {
    for tag in ["<script", "<img", "<u>", "<b>"] {
        assert!(!html.contains(tag), "unescaped {tag} in {html}");
    }
    assert!(!html.contains("\"&quot;\""), "a quote in user text must not survive as markup");
}

#[tokio::test]
async fn other_users_sessions_are_refused_through_every_html_endpoint() {
    let mut db = TestDb::new().await;
    db.start_executor();
    add_user(&db, "alice", "user").await;
    add_user(&db, "bob", "user").await;
    let c = db.admin().await;
    let bob = login(&c, "bob").await;
    let mut a = db.user("alice").await;
    let s = a.client.create_session(Some("alice's")).await.unwrap();
    let cmd = a.run(s, "echo secret").await;

    let calls: Vec<(&str, Box<dyn ToSql + Sync>)> = vec![
        ("api.ui_session($1)", Box::new(s)),
        ("api.ui_command($1)", Box::new(cmd.id)),
        ("api.ui_cancel($1)", Box::new(cmd.id)),
        ("api.ui_close_session($1)", Box::new(s)),
        ("api.ui_fork($1)", Box::new(cmd.id)),
        ("api.ui_replay($1)", Box::new(s)),
        ("api.ui_audit($1)", Box::new(s.to_string())),
        ("api.ui_session($1)", Box::new(uuid::Uuid::new_v4())), // unknown answers like foreign
    ];
    for (sql, p) in &calls {
        let r = request(&c, Some(&bob), sql, &[p.as_ref()]).await;
        assert_eq!(r.sqlstate(), "42501", "{sql}");
    }
    let r = request(&c, Some(&bob), "api.ui_submit($1, 'echo mine')", &[&s]).await;
    assert_eq!(r.sqlstate(), "42501");
    let list = request(&c, Some(&bob), "api.ui_sessions()", &[]).await;
    assert!(!list.ok().contains(&s.to_string()) && !list.ok().contains("alice"), "{}", list.ok());
    // Nothing changed: alice's session is open and still has one command.
    assert!(a.client.session(s).await.unwrap()["closed_at"].is_null());
    assert_eq!(a.client.history(s).await.unwrap().len(), 1);
}

#[tokio::test]
async fn auditors_read_every_session_and_the_audit_log_but_run_nothing() {
    let mut db = TestDb::new().await;
    db.start_executor();
    add_user(&db, "alice", "user").await;
    add_user(&db, "eve", "auditor").await;
    let c = db.admin().await;
    let eve = login(&c, "eve").await;
    let mut a = db.user("alice").await;
    let s = a.client.create_session(Some("work")).await.unwrap();
    let cmd = a.run(s, "echo visible").await;

    let list = request(&c, Some(&eve), "api.ui_sessions()", &[]).await;
    assert!(list.ok().contains(&s.to_string()) && list.ok().contains("alice"));
    assert!(!list.ok().contains("ui_new_session"), "no new-session form for an auditor");
    let view = request(&c, Some(&eve), "api.ui_session($1)", &[&s]).await;
    assert!(view.ok().contains("visible") && !view.ok().contains("name=\"line\""), "read-only view");
    assert!(!view.ok().contains("ui_cancel") && !view.ok().contains("ui_close_session"));
    assert!(request(&c, Some(&eve), "api.ui_command($1)", &[&cmd.id]).await.ok().contains("visible"));

    assert_eq!(request(&c, Some(&eve), "api.ui_submit($1, 'echo no')", &[&s]).await.sqlstate(), "42501");
    assert_eq!(request(&c, Some(&eve), "api.ui_new_session('mine')", &[]).await.sqlstate(), "42501");
    assert_eq!(request(&c, Some(&eve), "api.ui_close_session($1)", &[&s]).await.sqlstate(), "42501");
    assert_eq!(request(&c, Some(&eve), "api.ui_cancel($1)", &[&cmd.id]).await.sqlstate(), "42501");

    let log = request(&c, Some(&eve), "api.ui_audit($1, '', 'command.')", &[&s.to_string()]).await;
    assert!(log.ok().contains("command.submitted") && log.ok().contains("command.completed"));
    assert!(!log.ok().contains("session.created"), "the event filter is a prefix filter");
    assert_eq!(request(&c, Some(&eve), "api.ui_audit('not-a-uuid')", &[]).await.sqlstate(), "22023");
    // A plain user has no audit page.
    let alice = login(&c, "alice").await;
    assert_eq!(request(&c, Some(&alice), "api.ui_audit()", &[]).await.sqlstate(), "42501");
}

#[tokio::test]
async fn the_session_list_marks_held_sessions_and_lets_only_admins_and_auditors_hold_them() {
    let db = TestDb::new().await;
    add_user(&db, "alice", "user").await;
    add_user(&db, "eve", "auditor").await;
    let c = db.admin().await;
    let (eve, alice) = (login(&c, "eve").await, login(&c, "alice").await);
    let a = db.user("alice").await;
    let s = a.client.create_session(Some("keep me")).await.unwrap();
    let other = a.client.create_session(Some("let go")).await.unwrap();
    let held_badge = "class=\"badge held\"";
    // The row of one session in a list page.
    let row = |html: &str, id: Uuid| -> String {
        let at = html.find(&format!("?session={id}")).expect("the session is listed");
        let start = html[..at].rfind("<tr").unwrap();
        let end = at + html[at..].find("</tr>").unwrap();
        html[start..end].to_string()
    };

    let before = request(&c, Some(&eve), "api.ui_sessions()", &[]).await;
    assert!(!row(before.ok(), s).contains(held_badge), "not held yet");
    assert!(row(before.ok(), s).contains("rpc/ui_hold_session"), "an auditor gets a hold button");

    // The button's request: hold, and the same list comes back with the badge.
    let after = request(&c, Some(&eve), "api.ui_hold_session($1, true)", &[&s]).await;
    assert!(row(after.ok(), s).contains(held_badge), "{}", row(after.ok(), s));
    assert!(!row(after.ok(), other).contains(held_badge), "only the held session is marked");
    assert!(row(after.ok(), s).contains("&quot;held&quot; : false") && row(after.ok(), s).contains(">release</button>"),
            "the button now releases: {}", row(after.ok(), s));
    assert!(row(after.ok(), other).contains(">hold</button>"));
    let held: bool = c.query_one("select held from pgshell.sessions where id = $1", &[&s]).await.unwrap().get(0);
    assert!(held);
    assert_eq!(audit_events(&db, "session.held").await.len(), 1);

    // The owner sees the badge on her own list, but no button, and may not call it.
    let mine = request(&c, Some(&alice), "api.ui_sessions()", &[]).await;
    assert!(row(mine.ok(), s).contains(held_badge));
    assert!(!mine.ok().contains("ui_hold_session"), "no hold button for a plain user");
    assert_eq!(request(&c, Some(&alice), "api.ui_hold_session($1, false)", &[&s]).await.sqlstate(), "42501");
    let held: bool = c.query_one("select held from pgshell.sessions where id = $1", &[&s]).await.unwrap().get(0);
    assert!(held, "a refused release changes nothing");

    // Released again by the auditor: the badge goes, the event is audited.
    let released = request(&c, Some(&eve), "api.ui_hold_session($1, false)", &[&s]).await;
    assert!(!row(released.ok(), s).contains(held_badge));
    assert_eq!(audit_events(&db, "session.released").await.len(), 1);
}

#[tokio::test]
async fn the_web_terminal_records_the_terminal_the_page_sends_and_refuses_a_bad_one() {
    let mut db = TestDb::new().await;
    db.start_executor();
    add_user(&db, "alice", "user").await;
    let c = db.admin().await;
    let alice = login(&c, "alice").await;
    let s = db.user("alice").await.client.create_session(None).await.unwrap();
    let term = r#"{"tty": true, "term": "xterm-256color", "columns": 97, "lines": 31}"#;
    let r = request(&c, Some(&alice), "api.ui_submit($1, 'echo $COLUMNS', $2::text::jsonb)", &[&s, &term]).await;
    assert!(r.ok().contains("st-"), "{}", r.ok());
    let recorded: serde_json::Value =
        c.query_one("select terminal from pgshell.commands where session_id = $1", &[&s]).await.unwrap().get(0);
    assert_eq!(recorded, serde_json::from_str::<serde_json::Value>(term).unwrap());
    // No terminal: none recorded, as before.
    request(&c, Some(&alice), "api.ui_submit($1, 'echo plain')", &[&s]).await.ok();
    let none: Option<serde_json::Value> =
        c.query_one("select terminal from pgshell.commands where session_id = $1 and line = 'echo plain'", &[&s]).await.unwrap().get(0);
    assert_eq!(none, None);
    // A terminal that is not one is refused on the page, and nothing is queued.
    let bad = r#"{"tty": true, "columns": 0, "term": "<b>"}"#;
    let r = request(&c, Some(&alice), "api.ui_submit($1, 'echo bad', $2::text::jsonb)", &[&s, &bad]).await;
    assert!(r.ok().contains("st-refused") && r.ok().contains("terminal is not"), "{}", r.ok());
    let n: i64 = c.query_one("select count(*) from pgshell.commands where session_id = $1", &[&s]).await.unwrap().get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn the_first_admin_is_created_once_and_can_log_in() {
    let db = TestDb::new().await;
    let c = db.admin().await;
    let password = pg_shell::db::ensure_first_admin(&c).await.unwrap().expect("no admin yet: one is created");
    assert!(password.len() >= 20);
    assert_eq!(pg_shell::db::ensure_first_admin(&c).await.unwrap(), None, "created once");
    let r = request(&c, None, "api.login('admin', $1)", &[&password]).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(r.ok()).unwrap()["role"], "admin");
    let token = r.cookie_token();
    assert_eq!(request(&c, Some(&token), "current_user", &[]).await.ok(), "pgshell_admin");
    assert!(request(&c, Some(&token), "api.ui_home()", &[]).await.ok().contains("audit log"));
}

#[tokio::test]
async fn admins_manage_users_and_programs_and_nobody_else_does() {
    let db = TestDb::new().await;
    add_user(&db, "root", "admin").await;
    add_user(&db, "alice", "user").await;
    add_user(&db, "eve", "auditor").await;
    let c = db.admin().await;
    let root = login(&c, "root").await;

    // Add a user through the admin page; she can log in at once.
    let page = request(&c, Some(&root), "api.ui_admin_set_user('carol', 'auditor', 'carols-password')", &[]).await;
    assert!(page.ok().contains("<td>carol</td><td>auditor</td>"), "{}", page.ok());
    let r = request(&c, None, "api.login('carol', 'carols-password')", &[]).await;
    let carol = r.cookie_token();
    assert_eq!(request(&c, Some(&carol), "current_user", &[]).await.ok(), "pgshell_auditor");
    // Disabling ends her web sessions.
    request(&c, Some(&root), "api.ui_admin_disable_user('carol', true)", &[]).await.ok();
    assert_eq!(request(&c, Some(&carol), "coalesce(pgshell.caller_name(), '-')", &[]).await.ok(), "-");
    // Programs: disable one, and the resolver's table says so.
    let page = request(&c, Some(&root), "api.ui_admin_program('echo', false)", &[]).await;
    assert!(page.ok().contains("ui_admin_program"));
    let enabled: bool =
        c.query_one("select enabled from pgshell.programs where name = 'echo'", &[]).await.unwrap().get(0);
    assert!(!enabled);
    assert_eq!(request(&c, Some(&root), "api.admin_set_user('x', 'wizard')", &[]).await.sqlstate(), "22023");
    assert_eq!(request(&c, Some(&root), "api.admin_set_user('root', 'user')", &[]).await.sqlstate(), "42501");
    for e in ["user.created", "user.disabled", "program.disabled"] {
        assert_eq!(audit_events(&db, e).await.iter().filter(|a| a["actor"] == "root").count(), 1, "{e}");
    }

    for who in ["alice", "eve"] {
        let t = login(&c, who).await;
        for sql in [
            "api.ui_admin()",
            "api.admin_users()::text",
            "api.admin_set_user('mallory', 'admin', 'mallorys-password')",
            "api.admin_disable_user('root')",
            "api.admin_set_program_enabled('echo', true)",
        ] {
            assert_eq!(request(&c, Some(&t), sql, &[]).await.sqlstate(), "42501", "{who}: {sql}");
        }
        assert!(!request(&c, Some(&t), "api.ui_home()", &[]).await.ok().contains("rpc/ui_admin"), "no admin link for {who}");
    }
    assert!(request(&c, Some(&root), "api.ui_home()", &[]).await.ok().contains("rpc/ui_admin"));
}
