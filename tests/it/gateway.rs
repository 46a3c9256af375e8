//! `pg_shell serve` against PostgREST's documented behaviour: an in-process
//! gateway on 127.0.0.1:0 over a fresh database holding a test schema `gw`
//! (one function per convention) next to pg_shell's real `api`.

use std::time::Duration;

use pg_shell::gateway::{jwt, Gateway, GatewayConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{TestDb, Reply};

const SECRET: &str = "reallyreallyreallyreallyverysafe";

const SCHEMA: &str = r#"
create schema gw;
grant usage on schema gw to pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin;
create domain gw."text/html" as text;
create type gw.pair as (a int, b text);
create table gw.log (id serial primary key, msg text unique);
grant select, insert on gw.log to pgshell_anon, pgshell_user;
grant usage on all sequences in schema gw to pgshell_anon, pgshell_user;

create function gw.add(a int, b int) returns int language sql immutable as $$ select a + b $$;
create function gw.series(n int) returns setof int language sql stable as $$ select generate_series(1, n) $$;
create function gw.nothing() returns void language plpgsql volatile as $$ begin end $$;
create function gw.pair(a int, b text) returns gw.pair language sql stable as $$ select a, b $$;
create function gw.pairs() returns table (a int, b text) language sql stable as $$ values (1, 'x'), (2, 'y') $$;
create function gw.greet(name text, greeting text default 'hello') returns text language sql stable
    as $$ select greeting || ', ' || name $$;
create function gw.over(a int) returns text language sql stable as $$ select 'int:' || a $$;
create function gw.over(b text) returns text language sql stable as $$ select 'text:' || b $$;
create function gw.over(a int, b text) returns text language sql stable as $$ select 'both:' || a || b $$;
create function gw.remember(msg text) returns int language sql volatile
    as $$ insert into gw.log (msg) values (msg) returning id $$;
create function gw.fail(kind text) returns void language plpgsql stable as $$
begin
    if kind = 'pt' then
        raise sqlstate 'PT401' using message = 'custom unauthorized', detail = 'd', hint = 'h';
    elsif kind = 'raise' then
        raise exception 'I refuse!' using detail = 'Pretty simple', hint = 'There is nothing you can do.';
    elsif kind = 'priv' then
        raise insufficient_privilege using message = 'not yours';
    elsif kind = 'pgrst' then
        raise sqlstate 'PGRST' using
            message = '{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}',
            detail = '{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}';
    end if;
end $$;
create function gw.created() returns json language plpgsql volatile as $$
begin
    perform set_config('response.headers',
        '[{"Set-Cookie": "a=1; HttpOnly"}, {"Set-Cookie": "b=2"}, {"X-Thing": "yes"}, {"Content-Type": "application/geo+json"}]', true);
    perform set_config('response.status', '201', true);
    return json_build_object('ok', true);
end $$;
create function gw.bad_headers() returns int language plpgsql stable as $$
begin
    perform set_config('response.headers', '{"not": "an array"}', true);
    return 1;
end $$;
create function gw.page(title text) returns gw."text/html" language sql stable
    as $$ select ('<h1>' || title || '</h1>')::gw."text/html" $$;
create function gw.echo() returns json language sql stable as $$
    select json_build_object(
        'headers', current_setting('request.headers', true)::json,
        'cookies', current_setting('request.cookies', true)::json,
        'method', current_setting('request.method', true),
        'path', current_setting('request.path', true),
        'claims', current_setting('request.jwt.claims', true)::json,
        'user', current_user,
        'search_path', current_setting('search_path'),
        'timeout', current_setting('statement_timeout'))
$$;
create function gw.echo_text(v text) returns text language sql immutable as $$ select v $$;
create function gw.sum(xs int[]) returns int language sql immutable as $$ select coalesce(sum(x), 0)::int from unnest(xs) x $$;
create function gw.keys(obj jsonb) returns jsonb language sql immutable as $$ select obj $$;
create function gw.whole(jsonb) returns jsonb language sql immutable as $$ select $1 || '{"seen": true}' $$;
create function gw.slow() returns int language sql stable as $$ select 1 from pg_sleep(3) $$;
create function gw.secret() returns text language sql stable as $$ select 'only for admins' $$;
revoke execute on function gw.secret() from public;
grant execute on function gw.secret() to pgshell_admin;
"#;

struct Gw {
    base: String,
    http: reqwest::Client,
    db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Gw {
    /// A gateway exposing `gw` then `api`, with the JWT secret set.
    async fn start() -> Gw {
        Gw::start_with(|_| {}).await
    }

    async fn start_with(tweak: impl FnOnce(&mut GatewayConfig)) -> Gw {
        let db = TestDb::new().await;
        db.admin().await.batch_execute(SCHEMA).await.unwrap();
        let mut config = GatewayConfig::new(db.conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap());
        config.schemas = vec!["gw".into(), "api".into()];
        config.jwt_secret = Some(SECRET.as_bytes().to_vec());
        config.pool_size = 8;
        tweak(&mut config);
        let gw = Gateway::bind(config).await.expect("gateway binds");
        let base = format!("http://{}", gw.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gw.run(async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
        Gw { base, http, db, stop: Some(stop), task: Some(task) }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        Reply::of(self.req(Method::POST, path).json(&body).send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        Reply::of(self.req(Method::GET, path).send().await.unwrap()).await
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

impl Reply {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name).iter().map(|v| v.to_str().unwrap()).collect()
    }

    #[track_caller]
    fn expect(&self, status: u16, body: Value) {
        assert_eq!((self.status.as_u16(), self.json()), (status, body), "headers: {:?}", self.headers);
    }

    #[track_caller]
    fn expect_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let v = self.json();
        assert_eq!(v["code"], code, "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/json; charset=utf-8"));
        for k in ["message", "details", "hint"] {
            assert!(v.get(k).is_some(), "{k} missing in {v}");
        }
        v
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn token(claims: Value) -> String {
    jwt::sign_hs256(&claims, SECRET.as_bytes())
}

#[tokio::test]
async fn result_shapes_follow_postgrest() {
    let gw = Gw::start().await;
    // Scalar: bare JSON.
    let r = gw.post("/rpc/add", json!({"a": 1, "b": 2})).await;
    r.expect(200, json!(3));
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    // SETOF: an array, with Content-Range.
    let r = gw.post("/rpc/series", json!({"n": 3})).await;
    r.expect(200, json!([1, 2, 3]));
    assert_eq!(r.header("content-range"), Some("0-2/*"));
    gw.post("/rpc/series", json!({"n": 0})).await.expect(200, json!([]));
    // Composite: an object; RETURNS TABLE: an array of objects.
    gw.post("/rpc/pair", json!({"a": 7, "b": "x"})).await.expect(200, json!({"a": 7, "b": "x"}));
    gw.post("/rpc/pairs", json!({})).await.expect(200, json!([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]));
    // Void: 204 and no body.
    let r = gw.post("/rpc/nothing", json!({})).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (204, ""));
    // An empty body counts as {}.
    let r = Reply::of(gw.req(Method::POST, "/rpc/pairs").send().await.unwrap()).await;
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    // Singular object.
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/series")
            .header("accept", "application/vnd.pgrst.object+json")
            .json(&json!({"n": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.expect(200, json!(1));
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/series")
            .header("accept", "application/vnd.pgrst.object+json")
            .json(&json!({"n": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.expect_error(406, "PGRST116")["details"], "The result contains 2 rows");
    // JSON arrays and objects reach array and jsonb parameters.
    gw.post("/rpc/sum", json!({"xs": [1, 2, 3]})).await.expect(200, json!(6));
    gw.post("/rpc/keys", json!({"obj": {"k": [1, null]}})).await.expect(200, json!({"k": [1, null]}));
    // A single unnamed jsonb parameter takes the whole body.
    gw.post("/rpc/whole", json!({"any": "thing"})).await.expect(200, json!({"any": "thing", "seen": true}));
    // Prefer: params=single-object is gone in PostgREST v13: the body's keys stay the arguments.
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/keys").header("prefer", "params=single-object").json(&json!({"x": 1})).send().await.unwrap(),
    )
    .await;
    r.expect_error(404, "PGRST202");
    gw.stop().await;
}

#[tokio::test]
async fn get_form_and_defaults() {
    let gw = Gw::start().await;
    gw.get("/rpc/add?a=40&b=2").await.expect(200, json!(42));
    gw.get("/rpc/sum?xs=%7B1,2,3%7D").await.expect(200, json!(6));
    gw.get("/rpc/greet?name=ann").await.expect(200, json!("hello, ann"));
    gw.get("/rpc/greet?name=ann&greeting=hi").await.expect(200, json!("hi, ann"));
    // htmx posts forms.
    let r = Reply::of(
        gw.req(Method::POST, "/rpc/greet").header("content-type", "application/x-www-form-urlencoded").body(form(&[("name", "bob"), ("greeting", "hey")])).send().await.unwrap(),
    )
    .await;
    r.expect(200, json!("hey, bob"));
    // HEAD: headers only.
    let r = Reply::of(gw.req(Method::HEAD, "/rpc/add?a=1&b=1").send().await.unwrap()).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, ""));
    // Other verbs: PGRST101.
    let r = Reply::of(gw.req(Method::PUT, "/rpc/add").send().await.unwrap()).await;
    assert_eq!(r.expect_error(405, "PGRST101")["message"], "Cannot use the PUT method on RPC");
    gw.stop().await;
}

#[tokio::test]
async fn overloads_and_missing_functions() {
    let gw = Gw::start().await;
    gw.post("/rpc/over", json!({"a": 1})).await.expect(200, json!("int:1"));
    gw.post("/rpc/over", json!({"b": "z"})).await.expect(200, json!("text:z"));
    gw.get("/rpc/over?a=2&b=y").await.expect(200, json!("both:2y"));

    gw.post("/rpc/add", json!({"a": 1})).await.expect(
        404,
        json!({
            "code": "PGRST202",
            "message": "Could not find the function gw.add(a) in the schema cache",
            "details": "Searched for the function gw.add with parameter a or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
            "hint": "Perhaps you meant to call the function gw.add(a, b)",
        }),
    );
    gw.get("/rpc/add?a=1&b=2&c=3").await.expect(
        404,
        json!({
            "code": "PGRST202",
            "message": "Could not find the function gw.add(a, b, c) in the schema cache",
            "details": "Searched for the function gw.add with parameters a, b, c, but no matches were found in the schema cache.",
            "hint": "Perhaps you meant to call the function gw.add(a, b)",
        }),
    );
    gw.get("/rpc/serie").await.expect(
        404,
        json!({
            "code": "PGRST202",
            "message": "Could not find the function gw.serie without parameters in the schema cache",
            "details": "Searched for the function gw.serie without parameters, but no matches were found in the schema cache.",
            "hint": "Perhaps you meant to call the function gw.series",
        }),
    );
    // Functions outside the exposed schemas do not exist for the gateway.
    gw.get("/rpc/caller_name").await.expect_error(404, "PGRST202");
    gw.get("/rpc/pg_sleep?seconds=1").await.expect_error(404, "PGRST202");
    gw.stop().await;
}

#[tokio::test]
async fn volatile_functions_cannot_be_called_with_get() {
    let gw = Gw::start().await;
    let r = gw.get("/rpc/remember?msg=hi").await;
    let v = r.expect_error(405, "25006");
    assert_eq!(v["message"], "cannot execute INSERT in a read-only transaction");
    gw.post("/rpc/remember", json!({"msg": "hi"})).await.expect(200, json!(1));
    // The unique violation: 409, and the transaction rolled back.
    let v = gw.post("/rpc/remember", json!({"msg": "hi"})).await.expect_error(409, "23505");
    assert!(v["details"].as_str().unwrap().contains("already exists"));
    let n: i64 = gw.db.admin().await.query_one("select count(*) from gw.log", &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
    gw.stop().await;
}

#[tokio::test]
async fn errors_map_like_postgrest() {
    let gw = Gw::start().await;
    gw.get("/rpc/fail?kind=raise").await.expect(
        400,
        json!({"code": "P0001", "message": "I refuse!", "details": "Pretty simple", "hint": "There is nothing you can do."}),
    );
    let r = gw.get("/rpc/fail?kind=pt").await;
    r.expect(401, json!({"code": "PT401", "message": "custom unauthorized", "details": "d", "hint": "h"}));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // 42501: 401 when anonymous, 403 with a JWT role.
    gw.get("/rpc/fail?kind=priv").await.expect_error(401, "42501");
    let user = token(json!({"role": "pgshell_user"}));
    let r = Reply::of(gw.req(Method::GET, "/rpc/fail?kind=priv").bearer_auth(&user).send().await.unwrap()).await;
    r.expect_error(403, "42501");
    let r = Reply::of(gw.req(Method::GET, "/rpc/secret").bearer_auth(&user).send().await.unwrap()).await;
    assert_eq!(r.expect_error(403, "42501")["message"], "permission denied for function secret");
    let admin = token(json!({"role": "pgshell_admin"}));
    let r = Reply::of(gw.req(Method::GET, "/rpc/secret").bearer_auth(&admin).send().await.unwrap()).await;
    r.expect(200, json!("only for admins"));
    // RAISE SQLSTATE 'PGRST' takes over the response.
    let r = gw.get("/rpc/fail?kind=pgrst").await;
    r.expect(402, json!({"code": "123", "message": "Payment Required", "details": "Quota exceeded", "hint": "Upgrade your plan"}));
    assert_eq!(r.header("x-powered-by"), Some("Nerd Rage"));
    // A bad value for a typed parameter: 22P02 → 400.
    gw.get("/rpc/add?a=one&b=2").await.expect_error(400, "22P02");
    gw.stop().await;
}

#[tokio::test]
async fn response_headers_and_status_are_applied() {
    let gw = Gw::start().await;
    let r = gw.post("/rpc/created", json!({})).await;
    r.expect(201, json!({"ok": true}));
    assert_eq!(r.all("set-cookie"), ["a=1; HttpOnly", "b=2"]);
    assert_eq!(r.header("x-thing"), Some("yes"));
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    let r = gw.get("/rpc/bad_headers").await;
    assert_eq!(
        r.expect_error(500, "PGRST111")["message"],
        "response.headers guc must be a JSON array composed of objects with a single key and a string value"
    );
    // The next request on the same pooled connections starts clean.
    let r = gw.get("/rpc/add?a=1&b=1").await;
    assert_eq!((r.status.as_u16(), r.header("set-cookie")), (200, None));
    gw.stop().await;
}

#[tokio::test]
async fn html_domains_are_served_raw_when_accepted() {
    let gw = Gw::start().await;
    let html = |accept: &'static str| {
        let req = gw.req(Method::GET, "/rpc/page?title=%3Cb%3Ehi");
        async move { Reply::of(req.header("accept", accept).send().await.unwrap()).await }
    };
    let r = html("text/html").await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "<h1><b>hi</h1>"));
    // Exactly the domain's media type, as PostgREST sends it.
    assert_eq!(r.header("content-type"), Some("text/html"));
    let r = html("text/html, */*;q=0.1").await;
    assert_eq!(r.text, "<h1><b>hi</h1>");
    // Otherwise the builtin JSON handler: a JSON string.
    html("application/json").await.expect(200, json!("<h1><b>hi</h1>"));
    html("*/*").await.expect(200, json!("<h1><b>hi</h1>"));
    gw.get("/rpc/page?title=x").await.expect(200, json!("<h1>x</h1>"));
    // No handler for what is asked: 406 PGRST107.
    let r = html("application/xml").await;
    assert_eq!(r.expect_error(406, "PGRST107")["message"], "None of these media types are available: application/xml");
    // text/csv is a builtin handler for every result (PostgREST v12+).
    let r = html("text/csv").await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "page\n<h1><b>hi</h1>"));
    let r = Reply::of(gw.req(Method::GET, "/rpc/add?a=1&b=2").header("accept", "text/html").send().await.unwrap()).await;
    r.expect_error(406, "PGRST107");
    gw.stop().await;
}

#[tokio::test]
async fn request_settings_reach_sql() {
    let gw = Gw::start_with(|c| c.statement_timeout = Duration::from_millis(2500)).await;
    let r = Reply::of(
        gw.req(Method::GET, "/rpc/echo")
            .header("X-Custom-Header", "Yes")
            .header("cookie", "a=1; b=two")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let v = r.json();
    assert_eq!(v["headers"]["x-custom-header"], "Yes");
    assert_eq!(v["cookies"], json!({"a": "1", "b": "two"}));
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/rpc/echo");
    assert_eq!(v["claims"], json!({"role": "pgshell_anon"}));
    assert_eq!(v["user"], "pgshell_anon");
    assert_eq!(v["search_path"], "\"gw\", \"public\"");
    assert_eq!(v["timeout"], "2500ms");
    // POST: the method, and Content-Profile picks the schema.
    let r = Reply::of(gw.req(Method::POST, "/rpc/echo").json(&json!({})).send().await.unwrap()).await;
    assert_eq!(r.json()["method"], "POST");
    // The statement timeout applies: 57014 → 500.
    gw.get("/rpc/slow").await.expect_error(500, "57014");
    gw.stop().await;
}

#[tokio::test]
async fn jwt_switches_role_and_bad_tokens_get_401() {
    let gw = Gw::start().await;
    let good = token(json!({"sub": "alice", "role": "pgshell_user", "exp": now() + 60}));
    let r = Reply::of(gw.req(Method::GET, "/rpc/echo").bearer_auth(&good).send().await.unwrap()).await;
    let v = r.json();
    assert_eq!(v["user"], "pgshell_user");
    assert_eq!(v["claims"]["sub"], "alice");
    assert_eq!(v["claims"]["role"], "pgshell_user");

    let call = |tok: String| {
        let req = gw.req(Method::GET, "/rpc/echo").bearer_auth(tok);
        async move { Reply::of(req.send().await.unwrap()).await }
    };
    // Forged: signed with another key.
    let forged = jwt::sign_hs256(&json!({"role": "pgshell_admin"}), b"not-the-secret-not-the-secret-xx");
    let r = call(forged).await;
    assert_eq!(r.expect_error(401, "PGRST301")["message"], "JWT cryptographic operation failed");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\", error_description=\"JWT cryptographic operation failed\"")
    );
    // Tampered payload with the original signature.
    let parts: Vec<&str> = good.split('.').collect();
    let admin_payload = token(json!({"sub": "alice", "role": "pgshell_admin", "exp": now() + 60}));
    let tampered = format!("{}.{}.{}", parts[0], admin_payload.split('.').nth(1).unwrap(), parts[2]);
    call(tampered).await.expect_error(401, "PGRST301");
    // Expired (beyond the 30 s skew).
    let r = call(token(json!({"role": "pgshell_user", "exp": now() - 120}))).await;
    assert_eq!(r.expect_error(401, "PGRST303")["message"], "JWT expired");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer error=\"invalid_token\""));
    call("garbage".into()).await.expect_error(401, "PGRST301");
    // A role that does not exist: 401; a superuser role is never taken.
    let r = call(token(json!({"role": "nobody_here"}))).await;
    assert_eq!(r.expect_error(401, "22023")["message"], "role \"nobody_here\" does not exist");
    call(token(json!({"role": "postgres"}))).await.expect_error(403, "42501");
    // Without a role claim: the anonymous role, claims kept.
    let v = call(token(json!({"sub": "x"}))).await.json();
    assert_eq!((v["user"].as_str(), v["claims"]["sub"].as_str()), (Some("pgshell_anon"), Some("x")));
    gw.stop().await;

    // With PGRST_JWT_AUD set.
    let gw = Gw::start_with(|c| c.jwt_aud = Some("pg_shell".into())).await;
    let r = Reply::of(
        gw.req(Method::GET, "/rpc/echo").bearer_auth(token(json!({"role": "pgshell_user", "aud": "other"}))).send().await.unwrap(),
    )
    .await;
    assert_eq!(r.expect_error(401, "PGRST303")["message"], "JWT not in audience");
    gw.stop().await;

    // No secret configured: a token is a server error, as in PostgREST.
    let gw = Gw::start_with(|c| c.jwt_secret = None).await;
    let r = Reply::of(gw.req(Method::GET, "/rpc/echo").bearer_auth(&good).send().await.unwrap()).await;
    assert_eq!(r.expect_error(500, "PGRST300")["message"], "Server lacks JWT secret");
    gw.stop().await;

    // No anonymous role: requests need a token.
    let gw = Gw::start_with(|c| c.anon_role = None).await;
    let r = gw.get("/rpc/echo").await;
    assert_eq!(r.expect_error(401, "PGRST302")["message"], "Anonymous access is disabled");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    gw.stop().await;
}

#[tokio::test]
async fn injection_attempts_are_inert() {
    let gw = Gw::start().await;
    let admin = gw.db.admin().await;
    admin.batch_execute("create table gw.canary (x int); insert into gw.canary values (1)").await.unwrap();
    for name in [
        "add\"(1,2); drop table gw.canary; --",
        "add%22%28a%20%3A%3D%201%29%3B%20drop%20table%20gw.canary%3B%20--",
        "gw.add",
        "add;drop table gw.canary",
    ] {
        let r = gw.get(&format!("/rpc/{name}?a=1&b=2")).await;
        r.expect_error(404, "PGRST202");
    }
    // An argument name that is SQL: no function has it.
    let r = gw.post("/rpc/echo_text", json!({"v\" := 'x'); drop table gw.canary; --": 1})).await;
    r.expect_error(404, "PGRST202");
    let r = gw.get("/rpc/echo_text?v%22%20%3A%3D%201)%3B%20drop%20table%20gw.canary%3B--=1").await;
    r.expect_error(404, "PGRST202");
    // Values are data.
    let evil = "'); drop table gw.canary; --";
    gw.post("/rpc/echo_text", json!({"v": evil})).await.expect(200, json!(evil));
    gw.get(&format!("/rpc/echo_text?v={}", "%27%29%3B%20drop%20table%20gw.canary%3B%20--")).await.expect(200, json!(evil));
    let r = Reply::of(gw.req(Method::POST, "/rpc/echo_text").header("content-type", "application/x-www-form-urlencoded").body(form(&[("v", evil)])).send().await.unwrap()).await;
    r.expect(200, json!(evil));
    // A profile header naming a schema that is not exposed.
    let r = Reply::of(gw.req(Method::GET, "/rpc/caller_name").header("accept-profile", "pgshell").send().await.unwrap()).await;
    let v = r.expect_error(406, "PGRST106");
    assert_eq!(v["message"], "Invalid schema: pgshell");
    assert_eq!(v["hint"], "Only the following schemas are exposed: gw, api");
    let n: i64 = admin.query_one("select count(*) from gw.canary", &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
    gw.stop().await;
}

#[tokio::test]
async fn bodies_are_checked() {
    let gw = Gw::start_with(|c| c.body_limit = 1024).await;
    let bad = |body: &'static str, ct: &'static str| {
        let req = gw.req(Method::POST, "/rpc/add").header("content-type", ct).body(body);
        async move { Reply::of(req.send().await.unwrap()).await }
    };
    let r = bad("{\"a\": 1,", "application/json").await;
    assert_eq!(r.expect_error(400, "PGRST102")["message"], "Empty or invalid json");
    bad("<a/>", "application/xml").await.expect_error(400, "PGRST102");
    let big = "x".repeat(4096);
    let r = Reply::of(gw.req(Method::POST, "/rpc/echo_text").json(&json!({"v": big})).send().await.unwrap()).await;
    r.expect_error(413, "PGRST413");
    gw.stop().await;
}

#[tokio::test]
async fn schema_cache_reloads_on_notify_and_on_a_miss() {
    let gw = Gw::start().await;
    let admin = gw.db.admin().await;
    // A miss reloads: a function created after start is found.
    admin.batch_execute("create function gw.late() returns int language sql as $$ select 7 $$").await.unwrap();
    gw.post("/rpc/late", json!({})).await.expect(200, json!(7));
    // A changed signature is picked up on NOTIFY pgrst.
    admin
        .batch_execute(
            "drop function gw.late(); create function gw.late(n int) returns int language sql as $$ select n $$;
             notify pgrst, 'reload schema'",
        )
        .await
        .unwrap();
    let mut last = None;
    for _ in 0..50 {
        let r = gw.post("/rpc/late", json!({"n": 5})).await;
        if r.status == StatusCode::OK {
            last = Some(r.json());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, Some(json!(5)));
    gw.stop().await;
}

#[tokio::test]
async fn static_files_and_health() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("js")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(root.join("js/app.js"), "console.log(1)").unwrap();
    std::fs::write(tmp.path().join("outside.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("outside.txt"), root.join("link.txt")).unwrap();
    let path = root.clone();
    let gw = Gw::start_with(move |c| c.html_dir = Some(path)).await;
    let r = gw.get("/").await;
    assert_eq!((r.status.as_u16(), r.header("content-type")), (200, Some("text/html; charset=utf-8")));
    assert!(r.text.contains("<title>t</title>"));
    let r = gw.get("/js/app.js").await;
    assert_eq!((r.status.as_u16(), r.header("content-type")), (200, Some("text/javascript; charset=utf-8")));
    for p in ["/../outside.txt", "/%2e%2e/outside.txt", "/js/..%2f..%2foutside.txt", "/link.txt", "/missing.html", "/.hidden"] {
        assert_eq!(gw.get(p).await.status, StatusCode::NOT_FOUND, "{p}");
    }
    let r = gw.get("/healthz").await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "ok\n"));
    gw.stop().await;

    // The copy built into the binary (html/ of this tree).
    let gw = Gw::start().await;
    let r = gw.get("/").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.text.to_lowercase().contains("<html"), "{}", r.text);
    let r = gw.get("/vendor/htmx.min.js").await;
    assert_eq!((r.status.as_u16(), r.header("content-type")), (200, Some("text/javascript; charset=utf-8")));
    gw.stop().await;
}

/// pg_shell's own API through the gateway: JWT users, the log-in cookie and the HTML fragments.
#[tokio::test]
async fn pg_shell_api_through_the_gateway() {
    let gw = Gw::start_with(|c| c.schemas = vec!["api".into()]).await;
    let admin = gw.db.admin().await;
    pg_shell::db::upsert_user(&admin, "alice", "user", None).await.unwrap();
    pg_shell::db::upsert_user(&admin, "bob", "user", Some("correct horse battery")).await.unwrap();
    let alice = token(json!({"sub": "alice", "role": "pgshell_user"}));

    // Anonymous: not allowed.
    gw.get("/rpc/sessions").await.expect_error(401, "42501");
    let as_alice = |m: Method, p: &str| gw.req(m, p).bearer_auth(&alice);
    Reply::of(as_alice(Method::GET, "/rpc/sessions").send().await.unwrap()).await.expect(200, json!([]));
    let r = Reply::of(as_alice(Method::POST, "/rpc/create_session").json(&json!({"title": "web"})).send().await.unwrap()).await;
    let sid = r.json().as_str().expect("a session id").to_string();
    let r = Reply::of(as_alice(Method::POST, "/rpc/submit").json(&json!({"session_id": sid, "line": "echo hi"})).send().await.unwrap()).await;
    let cmd = r.json().as_i64().expect("a command id");
    let r = Reply::of(as_alice(Method::POST, "/rpc/command").json(&json!({"id": cmd})).send().await.unwrap()).await;
    assert_eq!(r.json()["line"], "echo hi");
    let r = Reply::of(as_alice(Method::GET, "/rpc/sessions").send().await.unwrap()).await;
    assert_eq!(r.json()[0]["title"], "web");
    // Someone else's session: the API says 42501 → 403 for a JWT user.
    let eve = token(json!({"sub": "bob", "role": "pgshell_user"}));
    let r = Reply::of(gw.req(Method::GET, &format!("/rpc/session?session_id={sid}")).bearer_auth(&eve).send().await.unwrap()).await;
    r.expect_error(403, "42501");

    // Log-in through the pre-request hook's cookie.
    let r = gw.post("/rpc/login", json!({"username": "bob", "password": "wrong"})).await;
    assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (401, Some("PT401")));
    let r = gw.post("/rpc/login", json!({"username": "bob", "password": "correct horse battery"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let cookie = r.header("set-cookie").expect("a session cookie").split(';').next().unwrap().to_string();
    assert!(r.header("set-cookie").unwrap().contains("HttpOnly"));
    let r = Reply::of(gw.req(Method::GET, "/rpc/whoami").header("cookie", &cookie).send().await.unwrap()).await;
    r.expect(200, json!({"name": "bob", "role": "user"}));
    let r = Reply::of(
        gw.req(Method::GET, "/rpc/ui_sessions").header("cookie", &cookie).header("accept", "text/html").send().await.unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.header("content-type")), (200, Some("text/html")), "{}", r.text);
    gw.stop().await;
}

#[tokio::test]
async fn shutdown_drains_and_stops() {
    let gw = Gw::start().await;
    let slow = gw.req(Method::GET, "/rpc/slow").send();
    let slow = tokio::spawn(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = gw.base.clone();
    gw.stop().await; // returns once the in-flight request is answered
    let r = slow.await.unwrap().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(reqwest::Client::builder().no_proxy().build().unwrap().get(format!("{base}/healthz")).send().await.is_err());
}

/// Requests per second for `POST /rpc/command` (a pg_shell API read as a JWT
/// user) with 1 and 8 concurrent clients, ~5 s each. Run with
/// `cargo test --release --test it gateway::bench -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn bench_rpc_command() {
    let gw = Gw::start_with(|c| {
        c.schemas = vec!["api".into()];
        c.pool_size = 8;
    })
    .await;
    let admin = gw.db.admin().await;
    pg_shell::db::upsert_user(&admin, "alice", "user", None).await.unwrap();
    let alice = token(json!({"sub": "alice", "role": "pgshell_user"}));
    let sid = Reply::of(gw.req(Method::POST, "/rpc/create_session").bearer_auth(&alice).json(&json!({})).send().await.unwrap())
        .await
        .json()
        .as_str()
        .unwrap()
        .to_string();
    let cmd = Reply::of(
        gw.req(Method::POST, "/rpc/submit").bearer_auth(&alice).json(&json!({"session_id": sid, "line": "echo hi"})).send().await.unwrap(),
    )
    .await
    .json()
    .as_i64()
    .unwrap();
    let url = format!("{}/rpc/command", gw.base);
    let body = json!({ "id": cmd }).to_string();
    for clients in [1usize, 8] {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let (url, body, alice) = (url.clone(), body.clone(), alice.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    let r = http
                        .post(&url)
                        .bearer_auth(&alice)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                    r.bytes().await.unwrap();
                    n += 1;
                }
                n
            }));
        }
        let start = std::time::Instant::now();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        println!("POST /rpc/command, {clients} client(s): {total} requests in {secs:.2} s = {:.0} req/s", total as f64 / secs);
    }
    gw.stop().await;
}
