//! PostgREST v13 conformance of `pg_shell serve` on a plain PostgREST-style
//! schema (not pg_shell's api): a `test_api` schema with a table and
//! set-returning, table-returning, scalar, void, variadic, array, text and
//! "text/html" functions; an anonymous role and a NOINHERIT, privilege-less
//! authenticator the gateway logs in as, deployed the PostgREST way. The
//! expectations come from PostgREST's documentation and its test suite
//! (test/spec/Feature/Query/RpcSpec.hs and friends).

use std::time::Duration;

use pg_shell::gateway::{Gateway, GatewayConfig};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{TestDb, Reply};

fn schema(anon: &str, auth: &str) -> String {
    format!(
        r#"
create role {anon} nologin;
create role {auth} login noinherit;
grant {anon} to {auth};
create schema test_api;
grant usage on schema test_api to {anon};
create domain test_api."text/html" as text;
create table test_api.items (id int primary key, name text, price numeric, tags text[], data jsonb, note text);
insert into test_api.items values
  (1, 'apple', 1.5, '{{fruit,red}}', '{{"color": "red", "size": {{"cm": 8}}}}', null),
  (2, 'banana', 0.5, '{{fruit,yellow}}', '{{"color": "yellow", "size": {{"cm": 20}}}}', 'ripe'),
  (3, 'carrot', 0.2, '{{vegetable}}', '{{"color": "orange"}}', null),
  (4, 'date', 3.0, '{{fruit}}', '{{"color": "brown"}}', 'sweet, sticky'),
  (5, 'eggplant', 2.0, '{{vegetable,purple}}', '{{"color": "purple"}}', 'a "quoted" note');
grant select, insert on test_api.items to {anon};
create table test_api.log (msg text);
grant select, insert on test_api.log to {anon};
create function test_api.all_items() returns setof test_api.items language sql stable as $$ select * from test_api.items order by id $$;
create function test_api.items_between(lo int, hi int) returns table (id int, name text) language sql stable
  as $$ select id, name from test_api.items where id between lo and hi order by id $$;
create function test_api.numbers(n int) returns setof int language sql immutable as $$ select generate_series(1, n) $$;
create function test_api.add(a int, b int) returns int language sql immutable as $$ select a + b $$;
create function test_api.nothing() returns void language sql volatile as $$ select $$;
create function test_api.variadic_param(variadic v text[] default '{{}}') returns text[] language sql immutable as $$ select v $$;
create function test_api.sum_of(xs int[]) returns int language sql immutable as $$ select coalesce(sum(x), 0)::int from unnest(xs) x $$;
create function test_api.hello(name text) returns text language sql immutable as $$ select 'Hello, ' || name $$;
create function test_api.page() returns test_api."text/html" language sql stable as $$ select '<p>hi</p>'::test_api."text/html" $$;
create function test_api.whoami() returns json language sql stable
  as $$ select json_build_object('user', current_user, 'session', session_user) $$;
create function test_api.remember(msg text) returns int language sql volatile
  as $$ insert into test_api.log values (msg); select count(*)::int from test_api.log $$;
create function test_api.payment() returns void language plpgsql stable as $f$
begin
  raise sqlstate 'PGRST' using message = '{{"code":"123","message":"Payment Required"}}',
    detail = '{{"status":402,"status_text":"Pay Up Now","headers":{{}}}}';
end $f$;
create function test_api.hidden() returns int language sql immutable as $$ select 42 $$;
revoke execute on function test_api.hidden() from public;
"#
    )
}

struct Api {
    base: String,
    http: reqwest::Client,
    db: TestDb,
    anon: String,
    auth: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Reply {
    fn h(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn ok(&self, status: u16, body: Value) {
        assert_eq!((self.status.as_u16(), self.json()), (status, body), "{}", self.text);
    }
    fn err(&self, status: u16, code: &str) {
        assert_eq!((self.status.as_u16(), self.json()["code"].as_str()), (status, Some(code)), "{}", self.text);
    }
}

impl Api {
    async fn start(tweak: impl FnOnce(&mut GatewayConfig)) -> Api {
        let db = TestDb::new().await;
        let (anon, auth) = (format!("{}_anon", db.name), format!("{}_auth", db.name));
        db.admin().await.batch_execute(&schema(&anon, &auth)).await.unwrap();
        let mut config = GatewayConfig::new(format!("{} user={auth}", db.conninfo)).with_listen("127.0.0.1:0".parse().unwrap());
        config.schemas = vec!["test_api".into()];
        config.anon_role = Some(anon.clone());
        config.pre_request = pg_shell::gateway::PreRequest::Off;
        tweak(&mut config);
        let gw = Gateway::bind(config).await.expect("gateway binds");
        let base = format!("http://{}", gw.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gw.run(async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
        Api { base, http, db, anon, auth, stop: Some(stop), task: Some(task) }
    }

    fn req(&self, m: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(m, format!("{}{path}", self.base))
    }

    async fn get(&self, path: &str) -> Reply {
        Reply::of(self.req(Method::GET, path).send().await.unwrap()).await
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> Reply {
        Reply::of(r.send().await.unwrap()).await
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
        let admin = self.db.admin().await;
        let _ = admin
            .batch_execute(&format!(
                "drop schema test_api cascade; drop owned by {a}; drop owned by {b}; drop role {a}; drop role {b};",
                a = self.anon,
                b = self.auth
            ))
            .await;
    }
}

/// Checklist 1: the call runs after `set role` in the same transaction, so a
/// login with no privileges of its own serves the schema.
#[tokio::test]
async fn calls_run_after_the_role_switch_of_a_privilegeless_authenticator() {
    let api = Api::start(|_| {}).await;
    let admin = api.db.admin().await;
    let row = admin
        .query_one(
            "select has_schema_privilege($1, 'test_api', 'usage'), (select rolinherit from pg_roles where rolname = $1)",
            &[&api.auth],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, bool>(0), row.get::<_, bool>(1)), (false, false), "the authenticator is NOINHERIT and privilege-less");
    let r = api.get("/rpc/whoami").await;
    r.ok(200, json!({"user": api.anon, "session": api.auth}));
    // Twice, so the second call reuses the statement prepared on the connection.
    api.get("/rpc/whoami").await.ok(200, json!({"user": api.anon, "session": api.auth}));
    api.get("/rpc/add?a=2&b=3").await.ok(200, json!(5));
    let r = api.send(api.req(Method::POST, "/rpc/remember").json(&json!({"msg": "m"}))).await;
    r.ok(200, json!(1));
    // What the anonymous role may not execute stays refused (PostgREST: 401 42501).
    api.get("/rpc/hidden").await.err(401, "42501");
    api.stop().await;
}

/// Checklist 2: PostgREST's read grammar on SETOF and TABLE results.
#[tokio::test]
async fn setof_results_take_the_read_grammar() {
    let api = Api::start(|_| {}).await;
    // select: columns, renames, casts, JSON paths.
    api.get("/rpc/all_items?select=id,label:name&id=lte.2").await.ok(200, json!([{"id": 1, "label": "apple"}, {"id": 2, "label": "banana"}]));
    api.get("/rpc/all_items?select=id::text,color:data->>color,cm:data->size->cm&id=eq.1").await
        .ok(200, json!([{"id": "1", "color": "red", "cm": 8}]));
    // Filters: every operator family, not., or/and trees.
    let ids = |r: Reply| -> Vec<i64> { r.json().as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect() };
    assert_eq!(ids(api.get("/rpc/all_items?id=gt.1&id=lt.5&select=id").await), [2, 3, 4]);
    assert_eq!(ids(api.get("/rpc/all_items?id=neq.1&id=gte.4").await), [4, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?name=like.*an*").await), [2, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?name=ilike.*AN*").await), [2, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?name=match.^[ab]").await), [1, 2]);
    assert_eq!(ids(api.get("/rpc/all_items?name=imatch.^[AB]").await), [1, 2]);
    assert_eq!(ids(api.get("/rpc/all_items?id=in.(1,3,5)").await), [1, 3, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?id=not.in.(1,3,5)").await), [2, 4]);
    assert_eq!(ids(api.get("/rpc/all_items?note=is.null").await), [1, 3]);
    assert_eq!(ids(api.get("/rpc/all_items?note=not.is.null").await), [2, 4, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?note=isdistinct.ripe").await), [1, 3, 4, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?name=fts(english).carrots").await), [3]);
    assert_eq!(ids(api.get("/rpc/all_items?tags=cs.{fruit,red}").await), [1]);
    assert_eq!(ids(api.get("/rpc/all_items?data->>color=eq.orange").await), [3]);
    assert_eq!(ids(api.get("/rpc/all_items?name=like(any).{a*,c*}").await), [1, 3]);
    assert_eq!(ids(api.get("/rpc/all_items?or=(id.eq.1,and(price.gt.1,note.not.is.null))").await), [1, 4, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?not.or=(id.eq.1,id.eq.2)").await), [3, 4, 5]);
    assert_eq!(ids(api.get("/rpc/all_items?or=(note.eq.\"sweet, sticky\",id.eq.1)").await), [1, 4]);
    // order (with nulls placement), limit, offset.
    assert_eq!(ids(api.get("/rpc/all_items?order=note.desc.nullslast,id.asc&select=id").await), [4, 2, 5, 1, 3]);
    assert_eq!(ids(api.get("/rpc/all_items?order=note.asc.nullsfirst,id.desc").await), [3, 1, 5, 2, 4]);
    let r = api.get("/rpc/all_items?select=id&limit=2&offset=1").await;
    assert_eq!(r.h("content-range"), Some("1-2/*"));
    assert_eq!(ids(r), [2, 3]);
    // Scalar SETOF: filtered and ordered by the function's name.
    api.get("/rpc/numbers?n=5&numbers=gt.2&order=numbers.desc").await.ok(200, json!([5, 4, 3]));
    // Table-returning with arguments (RpcSpec "getitemrange").
    let r = api.send(api.req(Method::GET, "/rpc/items_between?lo=2&hi=4").header("range", "1-1")).await;
    assert_eq!((r.status.as_u16(), r.h("content-range")), (200, Some("1-1/*")));
    r.ok(200, json!([{"id": 3, "name": "carrot"}]));
    let r = api.send(api.req(Method::GET, "/rpc/items_between?lo=2&hi=4").header("range", "1-1").header("prefer", "count=exact")).await;
    assert_eq!((r.status.as_u16(), r.h("content-range"), r.h("preference-applied")), (206, Some("1-1/3"), Some("count=exact")));
    let r = api.send(api.req(Method::HEAD, "/rpc/all_items").header("prefer", "count=exact")).await;
    assert_eq!((r.status.as_u16(), r.h("content-range"), r.text.as_str()), (200, Some("0-4/5"), ""));
    // POST ignores Range but takes limit/offset from the query string.
    let r = api.send(api.req(Method::POST, "/rpc/items_between?limit=2&offset=1").header("range", "0-0").header("prefer", "count=exact").json(&json!({"lo": 1, "hi": 5}))).await;
    assert_eq!((r.status.as_u16(), r.h("content-range")), (206, Some("1-2/5")));
    // An offset past the end with a count: 416 PGRST103.
    let r = api.send(api.req(Method::GET, "/rpc/all_items?offset=9").header("prefer", "count=exact")).await;
    r.err(416, "PGRST103");
    assert_eq!(r.h("content-range"), Some("*/5"));
    // Singular responses.
    let r = api.send(api.req(Method::GET, "/rpc/all_items?id=eq.2&select=name").header("accept", "application/vnd.pgrst.object+json")).await;
    r.ok(200, json!({"name": "banana"}));
    api.send(api.req(Method::GET, "/rpc/all_items?id=gt.2").header("accept", "application/vnd.pgrst.object+json")).await.err(406, "PGRST116");
    // CSV, with PostgreSQL's record quoting.
    let r = api.send(api.req(Method::GET, "/rpc/all_items?select=id,note&id=gte.4").header("accept", "text/csv")).await;
    assert_eq!((r.status.as_u16(), r.h("content-type")), (200, Some("text/csv; charset=utf-8")));
    assert_eq!(r.text, "id,note\n4,\"sweet, sticky\"\n5,\"a \"\"quoted\"\" note\"");
    let r = api.send(api.req(Method::POST, "/rpc/items_between").header("accept", "text/csv").json(&json!({"lo": 2, "hi": 3}))).await;
    assert_eq!(r.text, "id,name\n2,banana\n3,carrot");
    // Errors PostgREST gives: unknown column, bad filter, embedding, aggregates.
    api.get("/rpc/all_items?select=nope").await.err(400, "42703");
    api.get("/rpc/all_items?nope=eq.1").await.err(400, "42703");
    api.get("/rpc/all_items?id=gt").await.err(404, "PGRST202");
    api.get("/rpc/all_items?limit=x").await.err(400, "PGRST100");
    api.get("/rpc/all_items?select=id,clients(*)").await.err(400, "PGRST200");
    api.get("/rpc/all_items?select=price.sum()").await.err(400, "PGRST123");
    api.get("/rpc/all_items?clients.id=eq.1").await.err(400, "PGRST108");
    api.send(api.req(Method::GET, "/rpc/all_items").header("accept", "application/vnd.pgrst.plan+json")).await.err(406, "PGRST107");
    api.stop().await;
}

/// Checklist 2 (attack): request text in names, casts, values and JSON keys
/// never becomes SQL; the catalog decides what may be named.
#[tokio::test]
async fn grammar_injection_is_refused_or_bound() {
    let api = Api::start(|_| {}).await;
    let evil = [
        "/rpc/all_items?select=id,name);drop%20table%20test_api.items;--",
        "/rpc/all_items?select=id::text);drop%20table%20test_api.items;--",
        "/rpc/all_items?order=id;drop%20table%20test_api.items",
        "/rpc/all_items?%22id%22%20or%201=1--=eq.1",
    ];
    for path in evil {
        let r = api.get(path).await;
        assert!(r.status.is_client_error(), "{path}: {} {}", r.status, r.text);
    }
    // Values are bound: a quote is data, not syntax; the result is simply empty.
    api.get("/rpc/all_items?name=eq.x'%20or%20'1'='1").await.ok(200, json!([]));
    api.get("/rpc/all_items?name=in.(\"a')%20or%20true--\")").await.ok(200, json!([]));
    // A JSON key is a bound value too.
    api.get("/rpc/all_items?select=c:data->>color';drop%20table%20x;--&id=eq.1").await.ok(200, json!([{"c": null}]));
    api.get("/rpc/all_items?select=c:data->>color');drop%20table%20x;--&id=eq.1").await.err(400, "PGRST100");
    api.get("/rpc/all_items?id=eq.1%20or%201=1").await.err(400, "22P02");
    let n: i64 = api.db.admin().await.query_one("select count(*) from test_api.items", &[]).await.unwrap().get(0);
    assert_eq!(n, 5, "the table survived");
    api.stop().await;
}

/// Checklist 3: POST query strings are the grammar; repeated GET parameters
/// build array and VARIADIC arguments.
#[tokio::test]
async fn post_query_strings_and_repeated_parameters() {
    let api = Api::start(|_| {}).await;
    // RpcSpec: "gives a parse filter error if GET style proc args are specified".
    let r = api.send(api.req(Method::POST, "/rpc/hello?name=John").json(&json!({"name": "John"}))).await;
    r.err(400, "PGRST100");
    let r = api.send(api.req(Method::POST, "/rpc/all_items?id=gt.1&id=lt.5&select=id").json(&json!({}))).await;
    r.ok(200, json!([{"id": 2}, {"id": 3}, {"id": 4}]));
    api.get("/rpc/variadic_param").await.ok(200, json!([]));
    api.get("/rpc/variadic_param?v=hi").await.ok(200, json!(["hi"]));
    api.get("/rpc/variadic_param?v=hi&v=there").await.ok(200, json!(["hi", "there"]));
    let form = api.req(Method::POST, "/rpc/variadic_param").header("content-type", "application/x-www-form-urlencoded").body("v=hi&v=there");
    api.send(form).await.ok(200, json!(["hi", "there"]));
    api.send(api.req(Method::POST, "/rpc/variadic_param").json(&json!({"v": ["a", "b"]}))).await.ok(200, json!(["a", "b"]));
    api.get("/rpc/sum_of?xs=1&xs=2&xs=3").await.ok(200, json!(6));
    api.get("/rpc/sum_of?xs={4,5}").await.ok(200, json!(9));
    // Repeated non-array parameters: the last one wins.
    api.get("/rpc/hello?name=ignored&name=world").await.ok(200, json!("Hello, world"));
    api.stop().await;
}

/// Checklist 6: Prefer as in v13.
#[tokio::test]
async fn prefer_handling_as_in_v13() {
    let api = Api::start(|c| c.tx_end = "commit-allow-override".into()).await;
    // params=single-object is gone: the body's keys are the arguments.
    let r = api.send(api.req(Method::POST, "/rpc/hello").header("prefer", "params=single-object").json(&json!({"name": "x"}))).await;
    r.ok(200, json!("Hello, x"));
    let r = api
        .send(api.req(Method::POST, "/rpc/hello").header("prefer", "handling=strict, params=single-object").json(&json!({"name": "x"})))
        .await;
    r.err(400, "PGRST122");
    assert_eq!(r.json()["details"], "Invalid preferences: params=single-object");
    let r = api.send(api.req(Method::POST, "/rpc/hello").header("prefer", "handling=strict").json(&json!({"name": "x"}))).await;
    assert_eq!((r.status.as_u16(), r.h("preference-applied")), (200, Some("handling=strict")));
    // tx=rollback, allowed by db-tx-end = commit-allow-override.
    let r = api.send(api.req(Method::POST, "/rpc/remember").header("prefer", "tx=rollback").json(&json!({"msg": "gone"}))).await;
    assert_eq!((r.status.as_u16(), r.h("preference-applied")), (200, Some("tx=rollback")));
    let r = api.send(api.req(Method::POST, "/rpc/remember").header("prefer", "return=minimal").json(&json!({"msg": "kept"}))).await;
    assert_eq!((r.status.as_u16(), r.h("preference-applied"), r.text.as_str()), (204, Some("return=minimal"), ""));
    let logged: Vec<String> =
        api.db.admin().await.query("select msg from test_api.log", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(logged, ["kept"]);
    api.stop().await;

    // db-tx-end = commit: Prefer tx=rollback is not applied.
    let api = Api::start(|_| {}).await;
    let r = api.send(api.req(Method::POST, "/rpc/remember").header("prefer", "tx=rollback").json(&json!({"msg": "stays"}))).await;
    assert_eq!((r.status.as_u16(), r.h("preference-applied")), (200, None));
    let n: i64 = api.db.admin().await.query_one("select count(*) from test_api.log", &[]).await.unwrap().get(0);
    assert_eq!(n, 1);
    api.stop().await;
}

/// The raw status line of a GET, for the reason phrase.
async fn status_line(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.lines().next().unwrap_or_default().to_string()
}

/// Checklist 4: headers.
#[tokio::test]
async fn headers_as_postgrest_sends_them() {
    let api = Api::start(|_| {}).await;
    // Content-Range on scalar and void results too.
    let r = api.get("/rpc/add?a=1&b=2").await;
    assert_eq!(r.h("content-range"), Some("0-0/*"));
    let r = api.send(api.req(Method::GET, "/rpc/add?a=3&b=4").header("prefer", "count=exact")).await;
    assert_eq!((r.text.as_str(), r.h("content-range")), ("7", Some("0-0/1")));
    let r = api.send(api.req(Method::POST, "/rpc/nothing")).await;
    assert_eq!((r.status.as_u16(), r.h("content-range")), (204, Some("0-0/*")));
    // The exact media type of a domain handler.
    let r = api.send(api.req(Method::GET, "/rpc/page").header("accept", "text/html")).await;
    assert_eq!((r.status.as_u16(), r.h("content-type"), r.text.as_str()), (200, Some("text/html"), "<p>hi</p>"));
    // Content-Profile echoed whenever a profile was asked for, even with one schema.
    let r = api.send(api.req(Method::GET, "/rpc/add?a=1&b=1").header("accept-profile", "test_api")).await;
    assert_eq!(r.h("content-profile"), Some("test_api"));
    assert_eq!(api.get("/rpc/add?a=1&b=1").await.h("content-profile"), None);
    api.send(api.req(Method::GET, "/rpc/add?a=1&b=1").header("accept-profile", "other")).await.err(406, "PGRST106");
    // A custom status text is the reason phrase.
    assert_eq!(status_line(&api.base, "/rpc/payment").await, "HTTP/1.1 402 Pay Up Now");
    // HEAD: no body, and no made-up content-length of 0.
    let get = api.get("/rpc/all_items").await;
    let head = api.send(api.req(Method::HEAD, "/rpc/all_items")).await;
    assert_eq!((head.status.as_u16(), head.text.as_str()), (200, ""));
    assert_eq!(head.h("content-length").map(str::to_string), Some(get.text.len().to_string()));
    assert_eq!(head.h("content-range"), Some("0-4/*"));
    api.stop().await;
}

/// Checklist 5: OPTIONS and CORS (server-cors-allowed-origins).
#[tokio::test]
async fn options_and_cors() {
    let api = Api::start(|c| c.cors_allowed_origins = vec!["http://localhost:8080".into()]).await;
    let r = api.send(api.req(Method::OPTIONS, "/rpc/add")).await;
    assert_eq!((r.status.as_u16(), r.h("allow")), (200, Some("OPTIONS,GET,HEAD,POST")));
    let r = api.send(api.req(Method::OPTIONS, "/rpc/remember")).await;
    assert_eq!((r.status.as_u16(), r.h("allow")), (200, Some("OPTIONS,POST")));
    api.send(api.req(Method::OPTIONS, "/rpc/nope")).await.err(404, "PGRST202");
    // A preflight from the allowed origin.
    let pre = |origin: &'static str| {
        api.req(Method::OPTIONS, "/rpc/remember")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, hx-request")
    };
    let r = api.send(pre("http://localhost:8080")).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.h("access-control-allow-origin"), Some("http://localhost:8080"));
    assert_eq!(r.h("access-control-allow-credentials"), Some("true"));
    assert!(r.h("access-control-allow-methods").unwrap().contains("POST"));
    assert!(r.h("access-control-allow-headers").unwrap().contains("hx-request"));
    // Any other origin gets no CORS headers.
    let r = api.send(pre("http://evil.example")).await;
    assert_eq!(r.h("access-control-allow-origin"), None);
    // Actual responses to the allowed origin expose PostgREST's headers.
    let r = api.send(api.req(Method::GET, "/rpc/numbers?n=2").header("origin", "http://localhost:8080")).await;
    assert_eq!(r.h("access-control-allow-origin"), Some("http://localhost:8080"));
    assert!(r.h("access-control-expose-headers").unwrap().contains("Content-Range"));
    api.stop().await;
}

/// Checklist 7: the OpenAPI document at `/` for clients that ask for it.
#[tokio::test]
async fn openapi_document_at_root() {
    let api = Api::start(|_| {}).await;
    let r = api.send(api.req(Method::GET, "/").header("accept", "application/openapi+json")).await;
    assert_eq!((r.status.as_u16(), r.h("content-type")), (200, Some("application/openapi+json; charset=utf-8")));
    let doc = r.json();
    assert_eq!(doc["swagger"], "2.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/rpc/add") && paths.contains_key("/rpc/all_items"), "{paths:?}");
    assert_eq!(doc["paths"]["/rpc/add"]["get"]["parameters"][0]["name"], "a");
    assert!(doc["paths"]["/rpc/remember"].get("get").is_none(), "volatile: POST only");
    // follow-privileges: what the anonymous role cannot execute is not listed.
    assert!(!paths.contains_key("/rpc/hidden"));
    // A browser still gets the UI.
    let r = api.send(api.req(Method::GET, "/").header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")).await;
    assert!(r.h("content-type").unwrap_or_default().starts_with("text/html"), "{:?}", r.h("content-type"));
    api.stop().await;

    let api = Api::start(|c| c.openapi_mode = "ignore-privileges".into()).await;
    let doc = api.send(api.req(Method::GET, "/").header("accept", "application/openapi+json")).await.json();
    assert!(doc["paths"].as_object().unwrap().contains_key("/rpc/hidden"));
    api.stop().await;
    let api = Api::start(|c| c.openapi_mode = "disabled".into()).await;
    api.send(api.req(Method::GET, "/").header("accept", "application/openapi+json")).await.err(404, "PGRST126");
    api.stop().await;
}

/// Checklist 8: html/ from another static server. The page's script takes
/// the API's base URL from a <meta> tag or ?api=; the gateway allows the
/// page's origin with credentials, and pg_shell's log-in works from
/// localhost:8080 to localhost:3000 (same site, two origins), while other
/// origins stay refused.
#[tokio::test]
async fn html_from_a_static_server_logs_in_across_origins() {
    let html = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/html/index.html")).unwrap();
    assert!(html.contains("<meta name=\"pg-shell-api\""));
    let js = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/html/app.js")).unwrap();
    assert!(js.contains("withCredentials") && js.contains("htmx:configRequest"));

    let db = TestDb::new().await;
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "carol", "user", Some("correct horse battery")).await.unwrap();
    let mut config = GatewayConfig::new(db.conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap());
    config.cors_allowed_origins = vec!["http://localhost:8080".into()];
    let gw = Gateway::bind(config).await.unwrap();
    let port = gw.local_addr().port();
    let base = format!("http://localhost:{port}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gw.run(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let page = "http://localhost:8080";
    let login = |origin: &str| {
        http.post(format!("{base}/rpc/ui_login"))
            .header("origin", origin.to_string())
            .header("sec-fetch-site", "same-site")
            .header("accept", "text/html")
            .header("hx-request", "true")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("username=carol&password=correct+horse+battery")
    };
    let r = Reply::of(login(page).send().await.unwrap()).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!((r.h("access-control-allow-origin"), r.h("access-control-allow-credentials")), (Some(page), Some("true")));
    let cookie = r.h("set-cookie").expect("a session cookie").split(';').next().unwrap().to_string();
    let r = Reply::of(http.get(format!("{base}/rpc/whoami")).header("origin", page).header("cookie", &cookie).send().await.unwrap()).await;
    r.ok(200, json!({"name": "carol", "role": "user"}));
    // Another origin: the same log-in is a cross-site request, refused.
    let r = Reply::of(login("http://localhost:9999").send().await.unwrap()).await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    assert_eq!(r.h("access-control-allow-origin"), None);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
