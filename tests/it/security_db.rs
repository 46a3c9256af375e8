//! Issue 8, item 15: another user's object answers exactly as a missing one.
//! Every `api` function that takes a command, session or replay id is found
//! in the catalog (so functions added later are covered too) and called by
//! bob with alice's id and with an id that does not exist: the answers must
//! be byte-identical, over SQL (SQLSTATE, message, detail, hint) and over
//! the real gateway (status and body), and must not carry alice's ids.

use std::time::Duration;

use serde_json::{json, Value};
use tokio_postgres::Client;

use crate::support::TestDb;

/// An api function with an id parameter, and how to call it.
#[derive(Debug)]
struct IdFunction {
    name: String,
    /// (parameter name, SQL type, has a default)
    params: Vec<(String, String, bool)>,
}

const ID_PARAMS: &[&str] = &["id", "command_id", "session_id"];

async fn id_functions(admin: &Client) -> Vec<IdFunction> {
    let rows = admin
        .query(
            "select p.proname::text, coalesce(p.proargnames, '{}')::text[], array(select format_type(t, null) from unnest(p.proargtypes) t)::text[],
                    p.pronargdefaults::int
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'api' and p.proargnames && $1::text[]
             order by 1",
            &[&ID_PARAMS.iter().map(|s| s.to_string()).collect::<Vec<_>>()],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let names: Vec<String> = r.get(1);
            let types: Vec<String> = r.get(2);
            let ndefaults: i32 = r.get(3);
            let n = types.len();
            let params = types
                .iter()
                .enumerate()
                .map(|(i, t)| (names.get(i).cloned().unwrap_or_default(), t.clone(), i >= n - ndefaults as usize))
                .collect();
            IdFunction { name: r.get(0), params }
        })
        .collect()
}

/// The arguments for a call: the id parameters from `ids` (by type), every
/// other parameter without a default a harmless value.
fn args(f: &IdFunction, command: i64, session: &str) -> Vec<(String, Value)> {
    f.params
        .iter()
        .filter_map(|(name, ty, has_default)| {
            let v = if ID_PARAMS.contains(&name.as_str()) {
                match ty.as_str() {
                    "bigint" | "integer" => json!(command),
                    _ => json!(session),
                }
            } else if *has_default {
                return None;
            } else {
                match ty.as_str() {
                    "bigint" | "integer" => json!(1),
                    "boolean" => json!(true),
                    _ => json!("echo hi"),
                }
            };
            Some((name.clone(), v))
        })
        .collect()
}

/// The error a SQL call gave: (SQLSTATE, message, detail, hint).
async fn sql_error(c: &Client, f: &IdFunction, args: &[(String, Value)]) -> Option<(String, String, Option<String>, Option<String>)> {
    // Named arguments, each cast from its JSON text: values stay parameters.
    let mut sql = format!("select api.{}(", f.name);
    for (i, (name, _)) in args.iter().enumerate() {
        let ty = &f.params.iter().find(|p| &p.0 == name).unwrap().1;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("\"{name}\" => (${} #>> '{{}}')::{ty}", i + 1));
    }
    sql.push_str(")::text");
    let values: Vec<Value> = args.iter().map(|a| a.1.clone()).collect();
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values.iter().map(|v| v as _).collect();
    // In a transaction rolled back, so a call that did succeed changes nothing.
    c.batch_execute("begin").await.unwrap();
    let r = c.query(&sql, &params).await;
    c.batch_execute("rollback").await.unwrap();
    match r {
        Ok(_) => None,
        Err(e) => {
            let db = e.as_db_error().unwrap_or_else(|| panic!("{}: not a database error: {e}", f.name));
            Some((db.code().code().to_string(), db.message().to_string(), db.detail().map(str::to_string), db.hint().map(str::to_string)))
        }
    }
}

struct World {
    db: TestDb,
    command: i64,
    session: String,
    replay: i64,
}

async fn world() -> World {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let _bob = db.user("bob").await;
    let s = alice.session().await;
    let c = alice.run(s, "echo secret").await;
    let replay: i64 = alice.client.raw().query_one("select api.request_replay($1)", &[&s]).await.unwrap().get(0);
    World { db, command: c.id, session: s.to_string(), replay }
}

const MISSING_COMMAND: i64 = 987_654_321;
const MISSING_SESSION: &str = "6f1b0d3e-0000-4000-8000-00000000abcd";

#[tokio::test]
async fn foreign_and_missing_ids_answer_the_same_over_sql() {
    let w = world().await;
    let admin = w.db.admin().await;
    let funcs = id_functions(&admin).await;
    for must in ["command", "cancel", "fork_session", "session", "history", "submit", "replay", "ui_command", "ui_fork", "ui_session"] {
        assert!(funcs.iter().any(|f| f.name == must), "api.{must} not found among {funcs:?}");
    }
    let bob = pg_shell::client::ShellClient::connect(&w.db.conninfo, "bob").await.unwrap();
    for f in &funcs {
        // A replay id where the function takes one.
        let is_replay = f.name.contains("replay") && f.params.iter().any(|p| p.0 == "id");
        let foreign_id = if is_replay { w.replay } else { w.command };
        let foreign = sql_error(bob.raw(), f, &args(f, foreign_id, &w.session)).await;
        let missing = sql_error(bob.raw(), f, &args(f, MISSING_COMMAND, MISSING_SESSION)).await;
        let Some(foreign) = foreign else { panic!("bob called api.{} on alice's object and it succeeded", f.name) };
        assert_eq!(Some(&foreign), missing.as_ref(), "api.{}: alice's object and a missing one answer differently", f.name);
        let text = format!("{foreign:?}");
        // (Numeric ids are covered by the equality: the missing id differs.)
        for leak in [w.session.as_str(), "alice"] {
            assert!(!text.contains(leak), "api.{} leaks {leak}: {text}", f.name);
        }
    }
    // Nothing bob did changed alice's record.
    let alice = pg_shell::client::ShellClient::connect(&w.db.conninfo, "alice").await.unwrap();
    assert_eq!(alice.command(w.command).await.unwrap().stdout(), "secret\n");
    let sessions: i64 = admin.query_one("select count(*) from pgshell.sessions", &[]).await.unwrap().get(0);
    assert_eq!(sessions, 1, "no fork was made");
}

const SECRET: &str = "security-db-secret-security-db-secret";

/// The real gateway in this process on 127.0.0.1:0, with the JWT secret set.
struct Server {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(db: &TestDb) -> Server {
        let mut config = pg_shell::gateway::GatewayConfig::new(db.conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap());
        config.jwt_secret = Some(SECRET.as_bytes().to_vec());
        let gw = pg_shell::gateway::Gateway::bind(config).await.unwrap();
        let base = format!("http://{}", gw.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gw.run(async {
            let _ = stopped.await;
        }));
        Server { base, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

fn token(sub: &str) -> String {
    pg_shell::gateway::jwt::sign_hs256(&json!({"sub": sub, "role": "pgshell_user"}), SECRET.as_bytes())
}

/// A client's conflict (a line for a closed session, a fork of a command
/// with no resulting environment) is a 409, not the 500 that 55000 is in
/// PostgREST's table; the UI still shows the refusal as a fragment.
#[tokio::test]
async fn conflicts_are_409_not_500_over_http() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let s = alice.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 20000})).await;
    let spin = alice.client.submit(s, "spin").await.unwrap();
    alice.wait_until_running(spin).await;
    alice.client.cancel(spin).await.unwrap();
    alice.client.wait(spin, Duration::from_secs(20)).await.unwrap();
    alice.client.raw().execute("select api.close_session($1)", &[&s]).await.unwrap();
    let srv = Server::start(&db).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |f: &str, body: Value, accept: &str| {
        http.post(format!("{}/rpc/{f}", srv.base)).bearer_auth(token("alice")).header("accept", accept).json(&body).send()
    };
    let r = post("submit", json!({"session_id": s, "line": "echo late"}), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "PT409", "{body}");
    let r = post("fork_session", json!({"command_id": spin}), "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 409, "{}", r.text().await.unwrap());
    let r = post("ui_submit", json!({"session_id": s, "line": "echo late"}), "text/html").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("st-refused") && html.contains("is closed"), "{html}");
    srv.stop().await;
}

#[tokio::test]
async fn foreign_and_missing_ids_answer_the_same_over_http() {
    let w = world().await;
    let admin = w.db.admin().await;
    let funcs = id_functions(&admin).await;
    let srv = Server::start(&w.db).await;
    let base = srv.base.clone();
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let bob = token("bob");
    let call = |name: String, body: Value, accept: &'static str| {
        let r = http.post(format!("{base}/rpc/{name}")).bearer_auth(&bob).header("accept", accept).json(&body).send();
        async move {
            let r = r.await.unwrap();
            let status = r.status().as_u16();
            let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
            (status, ctype, r.bytes().await.unwrap().to_vec())
        }
    };
    for f in &funcs {
        let is_replay = f.name.contains("replay") && f.params.iter().any(|p| p.0 == "id");
        let foreign_id = if is_replay { w.replay } else { w.command };
        let to_body = |a: Vec<(String, Value)>| Value::Object(a.into_iter().collect());
        for accept in ["application/json", "text/html"] {
            let foreign = call(f.name.clone(), to_body(args(f, foreign_id, &w.session)), accept).await;
            let missing = call(f.name.clone(), to_body(args(f, MISSING_COMMAND, MISSING_SESSION)), accept).await;
            assert!(foreign.0 >= 400, "bob got {} from /rpc/{} on alice's object: {}", foreign.0, f.name, String::from_utf8_lossy(&foreign.2));
            assert_eq!(foreign, missing, "/rpc/{} ({accept}): alice's object and a missing one answer differently", f.name);
            let text = String::from_utf8_lossy(&foreign.2);
            for leak in [w.session.as_str(), "alice"] {
                assert!(!text.contains(leak), "/rpc/{} leaks {leak}: {text}", f.name);
            }
        }
    }
    srv.stop().await;
}
