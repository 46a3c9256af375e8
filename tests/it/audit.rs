//! The hash-chained audit log: every change is recorded; every tampering is
//! found, and named (kind, object, field). Each alteration is performed as a
//! superuser would (triggers off), on a real session's rows.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::{RngExt as _, SeedableRng as _};
use serde_json::json;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::support::{assert_refused, audit_problems as problems, TestDb};

/// What verify said about one thing: kind, object, field.
type Found = (String, String, Option<String>);

async fn found(c: &Client) -> BTreeSet<Found> {
    c.query("select kind, object, field from pgshell.audit_problems(1000)", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn f(kind: &str, object: impl Into<String>, field: Option<&str>) -> Found {
    (kind.to_string(), object.into(), field.map(str::to_string))
}

/// Rewrites rows behind the triggers' back, as a superuser could, and commits.
async fn as_superuser_without_triggers(admin: &Client, sql: &str) {
    admin.batch_execute(&format!("begin; set local session_replication_role = replica; {sql}; commit;")).await.unwrap();
}

/// Performs `sql` as a superuser (triggers off), runs verify in the same
/// transaction, and rolls back: one fixture serves many alterations.
async fn found_after(admin: &Client, sql: &str) -> BTreeSet<Found> {
    admin.batch_execute(&format!("begin; set local session_replication_role = replica; {sql};")).await.unwrap();
    let r = found(admin).await;
    admin.batch_execute("rollback").await.unwrap();
    r
}

fn verify_cli(db: &TestDb, extra: &[&str]) -> (bool, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .args(["audit", "verify", "--json"])
        .args(extra)
        .env("DATABASE_URL", &db.conninfo)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), v)
}

fn cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell")).args(args).env("DATABASE_URL", &db.conninfo).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// A database whose log holds every kind of event: commands that write,
/// read, fail, change directory and variables, print invalid UTF-8; a
/// cancelled queued command; a fork; a role change; a second session. Its
/// executor's lease is long, so no maintenance pass anchors behind the
/// test's back.
struct Busy {
    db: TestDb,
    admin: Client,
    s: Uuid,
    other: Uuid,
    fork: Uuid,
    /// writefile, cat, exitwith 4, mkdir, cd, export, badutf8, ls
    ids: Vec<i64>,
    cancelled: i64,
}

impl Busy {
    async fn new() -> Busy {
        let mut db = TestDb::new().await;
        let mut config = db.executor_config();
        config.lease = Duration::from_secs(600);
        db.start_executor_with(config);
        let mut u = db.user("alice").await;
        let _bob = db.user("bob").await;
        let s = u.session().await;
        let mut ids = Vec::new();
        for l in ["writefile f hello", "cat f", "exitwith 4", "mkdir d", "cd d", "export X=1", "badutf8", "ls /"] {
            let c = u.run(s, l).await;
            assert_eq!(c.status, "done", "{l}: {c:?}");
            ids.push(c.id);
        }
        db.set_session_limits(s, json!({"timeout_ms": 20000})).await;
        let running = u.client.submit(s, "spin").await.unwrap();
        let cancelled = u.client.submit(s, "echo never").await.unwrap();
        u.wait_until_running(running).await;
        assert!(u.client.cancel(cancelled).await.unwrap());
        assert!(u.client.cancel(running).await.unwrap());
        u.client.wait(running, Duration::from_secs(20)).await.unwrap();
        let other = u.session().await;
        u.run(other, "echo other").await;
        let fork: Uuid = u.client.raw().query_one("select api.fork_session($1)", &[&ids[1]]).await.unwrap().get(0);
        assert_eq!(u.run(fork, "cat f").await.stdout(), "hello");
        let admin = db.admin().await;
        pg_shell::db::upsert_user(&admin, "bob", "auditor", None).await.unwrap();
        admin.query_one("select pgshell.audit_anchor()", &[]).await.unwrap();
        Busy { db, admin, s, other, fork, ids, cancelled }
    }

    fn cmd(&self, i: usize) -> String {
        format!("command {}", self.ids[i])
    }
}

#[tokio::test]
async fn an_untouched_log_verifies_and_records_every_event() {
    let b = Busy::new().await;
    assert_eq!(found(&b.admin).await, BTreeSet::new());
    let events: Vec<String> = b
        .admin
        .query("select distinct event from pgshell.audit_log order by 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for e in ["audit.anchor", "command.cancelled", "command.claimed", "command.completed", "command.submitted", "program.registered",
        "session.created", "session.forked", "user.created", "user.updated"]
    {
        assert!(events.contains(&e.to_string()), "{e} missing from {events:?}");
    }
    let chain: String =
        b.admin.query_one("select distinct chain from pgshell.audit_log where session_id = $1", &[&b.s]).await.unwrap().get(0);
    assert_eq!(chain, b.s.to_string(), "each session has a chain of its own");
    // Completion rows carry the command's snapshot, session rows the session's.
    let snap: serde_json::Value = b
        .admin
        .query_one(
            "select details -> 'snapshot' -> 'command' from pgshell.audit_log where command_id = $1 and event = 'command.completed'",
            &[&b.ids[2]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!((snap["exit_code"].clone(), snap["status"].clone()), (json!(4), json!("done")), "{snap}");
    // The CLI says the same, with its exit status.
    let (ok, v) = verify_cli(&b.db, &[]);
    assert!(ok, "{v}");
    assert_eq!(v["problems"], json!([]));
}

/// Every field that defines a command or what it produced, altered one at a
/// time: verify names the command and the field, and nothing else.
#[tokio::test]
async fn each_altered_command_field_is_reported_by_name() {
    let b = Busy::new().await;
    let cat = b.ids[1];
    let exit4 = b.ids[2];
    let cases: Vec<(String, &str)> = vec![
        (format!("update pgshell.commands set line = 'rm -rf /' where id = {cat}"), "line"),
        (format!("update pgshell.commands set argv = '[\"cat\", \"/etc/shadow\"]' where id = {cat}"), "argv"),
        (format!("update pgshell.commands set program_digest = sha256('evil'::bytea) where id = {cat}"), "program_digest"),
        (format!("update pgshell.commands set random_seed = '\\x00000000000000000000000000000000' where id = {cat}"), "random_seed"),
        (format!("update pgshell.commands set clock_base_ns = clock_base_ns + 1 where id = {cat}"), "clock_base_ns"),
        (format!("update pgshell.commands set limits = limits || '{{\"timeout_ms\": 1}}' where id = {cat}"), "limits"),
        (format!("update pgshell.commands set plan = plan || '{{\"programs\": {{}}}}' where id = {cat}"), "plan"),
        (format!("update pgshell.commands set trace = '[]' where id = {cat}"), "trace"),
        (format!("update pgshell.commands set stdout = 'FORGED OUTPUT' where id = {cat}"), "stdout"),
        (format!("update pgshell.commands set stderr = 'oops' where id = {cat}"), "stderr"),
        (format!("update pgshell.commands set stdout_truncated = true where id = {cat}"), "stdout_truncated"),
        (format!("update pgshell.commands set fuel_consumed = 1 where id = {cat}"), "fuel"),
        (format!("update pgshell.commands set error = 'nothing happened' where id = {cat}"), "error"),
        (format!("update pgshell.commands set program = 'sh' where id = {cat}"), "program"),
        (format!("update pgshell.commands set program_kind = 'native' where id = {cat}"), "program_kind"),
        (format!("update pgshell.commands set exit_code = 0 where id = {exit4}"), "exit_code"),
        (format!("update pgshell.commands set outcome = 'timeout' where id = {exit4}"), "outcome"),
        (format!("update pgshell.commands set submitted_by = (select id from pgshell.users where name = 'bob') where id = {exit4}"), "submitted_by"),
        (format!("update pgshell.commands set finished_at = finished_at + interval '1 hour' where id = {exit4}"), "finished_at"),
    ];
    for (sql, field) in &cases {
        let object = if sql.ends_with(&format!("id = {cat}")) { format!("command {cat}") } else { format!("command {exit4}") };
        assert_eq!(found_after(&b.admin, sql).await, BTreeSet::from([f("command_altered", object, Some(field))]), "{sql}");
    }
    // A status flip (done -> cancelled, no outcome) shows both fields.
    let got = found_after(&b.admin, &format!("update pgshell.commands set status = 'cancelled', outcome = null where id = {exit4}")).await;
    assert_eq!(got, BTreeSet::from([f("command_altered", b.cmd(2), Some("status")), f("command_altered", b.cmd(2), Some("outcome"))]));
    // The environment a command started from or left: the command, and the
    // continuity of its session's environments.
    let got = found_after(&b.admin, &format!("update pgshell.commands set env_after = env_before where id = {}", b.ids[0])).await;
    assert!(got.contains(&f("command_altered", b.cmd(0), Some("env_after"))), "{got:?}");
    assert!(got.contains(&f("environment_chain", b.cmd(1), Some("env_before"))), "{got:?}");
    // A session's head environment (the next command's starting point).
    let got = found_after(&b.admin, &format!(
        "update pgshell.sessions set head_env = (select env_before from pgshell.commands where id = {cat}) where id = '{}'", b.s)).await;
    assert_eq!(got, BTreeSet::from([f("environment_chain", format!("session {}", b.s), Some("head_env"))]));
    // And a committed change is what the CLI reports, with its exit status.
    as_superuser_without_triggers(&b.admin, &format!("update pgshell.commands set argv = '[\"cat\", \"g\"]' where id = {cat}")).await;
    let (ok, v) = verify_cli(&b.db, &[]);
    assert!(!ok);
    let p = &v["problems"][0];
    assert_eq!((p["kind"].as_str(), p["object"].as_str(), p["field"].as_str()), (Some("command_altered"), Some(&*b.cmd(1)), Some("argv")), "{v}");
}

/// The API used to show a stored `stdout_lossy` instead of the bytes; an
/// attacker set it to "FORGED OUTPUT". The column is gone: the text is
/// derived from the bytes, and the bytes are covered by the chain.
#[tokio::test]
async fn forged_output_text_is_not_shown_and_forged_bytes_are_reported() {
    let b = Busy::new().await;
    let bad = b.ids[6];
    let e = b.admin.batch_execute(&format!("update pgshell.commands set stdout_lossy = 'FORGED OUTPUT' where id = {bad}")).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42703", "{e}");
    let alice = pg_shell::client::ShellClient::connect(&b.db.conninfo, "alice").await.unwrap();
    let bytes: Vec<u8> = b.admin.query_one("select stdout from pgshell.commands where id = $1", &[&bad]).await.unwrap().get(0);
    assert_eq!(bytes, b"ok \xff\xfe bad\n");
    let c = alice.command(bad).await.unwrap();
    assert_eq!(c.stdout(), "ok \u{FFFD}\u{FFFD} bad\n");
    let utf8: bool = alice.raw().query_one("select (api.command($1) ->> 'stdout_utf8')::boolean", &[&bad]).await.unwrap().get(0);
    assert!(!utf8);
    // Forging the bytes themselves shows in the API, and verify names it.
    as_superuser_without_triggers(&b.admin, &format!("update pgshell.commands set stdout = 'FORGED OUTPUT' where id = {bad}")).await;
    assert_eq!(alice.command(bad).await.unwrap().stdout(), "FORGED OUTPUT");
    let (ok, v) = verify_cli(&b.db, &[]);
    assert!(!ok, "{v}");
    let kinds: Vec<(String, String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap().into(), p["object"].as_str().unwrap().into(), p["field"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(kinds, vec![("command_altered".to_string(), format!("command {bad}"), "stdout".to_string())], "{v}");
}

/// The derived text is exactly what the executor used to store: Rust's
/// from_utf8_lossy with NUL replaced, on 3,000 seeded random byte strings
/// biased towards UTF-8's edge cases.
#[tokio::test]
async fn derived_output_text_is_rusts_lossy_text() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let seed: u64 = std::env::var("PG_SHELL_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("derived_output_text seed {seed} (PG_SHELL_FUZZ_SEED={seed} reproduces)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    const PIECES: &[&[u8]] = &[b"a", b"\0", b"\x7f", b"\xc2\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xed\x9f\xbf",
        b"\xed\xa0\x80", b"\xe0\x80", b"\xe0\xa0", b"\xf0\x90\x80", b"\xf4\x8f\xbf\xbf", b"\xf4\x90", b"\xc0\xaf", b"\xff", b"\x80",
        b"\xbf", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\xf1\x80\x80", b"\n"];
    let inputs: Vec<Vec<u8>> = (0..3000)
        .map(|_| {
            let n = rng.random_range(0..24);
            let mut v = Vec::new();
            for _ in 0..n {
                if rng.random_bool(0.3) {
                    v.push(rng.random::<u8>());
                } else {
                    v.extend_from_slice(PIECES[rng.random_range(0..PIECES.len())]);
                }
            }
            v
        })
        .collect();
    let rows = admin.query("select pgshell.utf8_lossy(b) from unnest($1::bytea[]) with ordinality t(b, n) order by n", &[&inputs]).await.unwrap();
    for (input, row) in inputs.iter().zip(rows) {
        let want = String::from_utf8_lossy(input).replace('\0', "\u{FFFD}");
        assert_eq!(row.get::<_, String>(0), want, "input {input:x?} (seed {seed})");
    }
}

#[tokio::test]
async fn an_altered_session_owner_or_title_is_reported() {
    let b = Busy::new().await;
    let s = format!("session {}", b.s);
    let got = found_after(&b.admin, &format!(
        "update pgshell.sessions set owner_id = (select id from pgshell.users where name = 'bob') where id = '{}'", b.s)).await;
    assert_eq!(got, BTreeSet::from([f("session_altered", &*s, Some("owner")), f("session_altered", &*s, Some("owner_name"))]));
    let got = found_after(&b.admin, &format!("update pgshell.sessions set title = 'nothing to see' where id = '{}'", b.s)).await;
    assert_eq!(got, BTreeSet::from([f("session_altered", &*s, Some("title"))]));
    // A fork's owner too.
    let got = found_after(&b.admin, &format!(
        "update pgshell.sessions set owner_id = (select id from pgshell.users where name = 'bob') where id = '{}'", b.fork)).await;
    assert!(got.contains(&f("session_altered", format!("session {}", b.fork), Some("owner"))), "{got:?}");
    // Renaming the owner changes who the session belongs to by name.
    let got = found_after(&b.admin, "update pgshell.users set name = 'mallory' where name = 'alice'").await;
    assert!(got.contains(&f("session_altered", &*s, Some("owner_name"))), "{got:?}");
    // A session inserted behind the API's back has no record.
    let got = found_after(&b.admin,
        "insert into pgshell.sessions (id, owner_id, title) values ('00000000-0000-0000-0000-000000000001', 1, 'planted')").await;
    assert_eq!(got, BTreeSet::from([f("session_unrecorded", "session 00000000-0000-0000-0000-000000000001", None)]));
}

/// An environment's cwd, variables, shell state and tree root are checked
/// against its digest, as src/env.rs computes it.
#[tokio::test]
async fn an_altered_environment_is_reported() {
    let b = Busy::new().await;
    // The environment after `export X=1` (cwd /d, X set, a file and a directory).
    let digest: String = b
        .admin
        .query_one("select encode(env_after, 'hex') from pgshell.commands where id = $1", &[&b.ids[5]])
        .await
        .unwrap()
        .get(0);
    let (cwd, x): (String, String) = {
        let r = b.admin.query_one("select cwd, vars ->> 'X' from pgshell.environments where digest = decode($1, 'hex')", &[&digest]).await.unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((cwd.as_str(), x.as_str()), ("/d", "1"));
    let env = format!("environment {digest}");
    let wh = format!("where digest = decode('{digest}', 'hex')");
    for sql in [
        format!("update pgshell.environments set cwd = '/' {wh}"),
        format!("update pgshell.environments set vars = vars || '{{\"X\": \"2\"}}' {wh}"),
        format!("update pgshell.environments set vars = vars - 'X' {wh}"),
        format!("update pgshell.environments set shell = '{{\"vars\": {{\"secret\": \"1\"}}}}' {wh}"),
        format!("update pgshell.environments set shell = '{{\"options\": [\"errexit\"]}}' {wh}"),
        format!("update pgshell.environments set root = (select root from pgshell.environments e
                 where e.root is distinct from environments.root limit 1) {wh}"),
    ] {
        assert_eq!(found_after(&b.admin, &sql).await, BTreeSet::from([f("environment_altered", &*env, None)]), "{sql}");
    }
    // A directory object rewritten (its check constraint dropped first).
    let got = found_after(&b.admin,
        "alter table pgshell.tree_objects drop constraint tree_objects_digest_matches;
         update pgshell.tree_objects set data = data || '\\x00'::bytea
         where digest = (select root from pgshell.environments where cwd = '/d' limit 1)").await;
    assert_eq!(got.iter().filter(|p| p.0 == "tree_object_altered").count(), 1, "{got:?}");
    // A root directory object deleted (foreign keys are triggers, off here).
    let got = found_after(&b.admin, &format!(
        "delete from pgshell.tree_objects where digest = (select root from pgshell.environments {wh})")).await;
    assert!(got.contains(&f("tree_object_missing", &*env, Some("root"))), "{got:?}");
    // A file's contents.
    let got = found_after(&b.admin, "update pgshell.blobs set data = 'HELLO' where digest = sha256('hello'::bytea)").await;
    assert_eq!(got, BTreeSet::from([f("blob_altered", format!("blob {}", hex::encode(pg_shell::env::sha256(b"hello"))), None)]));
}

#[tokio::test]
async fn an_altered_user_role_is_reported() {
    let b = Busy::new().await;
    let got = found_after(&b.admin, "update pgshell.users set role = 'admin' where name = 'alice'").await;
    assert_eq!(got, BTreeSet::from([f("user_altered", "user alice", Some("role"))]));
    // bob was made an auditor through the audited path; demoting him silently is caught too.
    let got = found_after(&b.admin, "update pgshell.users set role = 'user' where name = 'bob'").await;
    assert_eq!(got, BTreeSet::from([f("user_altered", "user bob", Some("role"))]));
    let got = found_after(&b.admin, "insert into pgshell.users (name, role) values ('mallory', 'admin')").await;
    assert_eq!(got, BTreeSet::from([f("user_unrecorded", "user mallory", Some("role"))]));
}

#[tokio::test]
async fn a_deleted_cancelled_command_is_reported() {
    let b = Busy::new().await;
    let status: String = b.admin.query_one("select status::text from pgshell.commands where id = $1", &[&b.cancelled]).await.unwrap().get(0);
    assert_eq!(status, "cancelled");
    let seq: i32 = b.admin.query_one("select seq from pgshell.commands where id = $1", &[&b.cancelled]).await.unwrap().get(0);
    let got = found_after(&b.admin, &format!("delete from pgshell.commands where id = {}", b.cancelled)).await;
    assert_eq!(
        got,
        BTreeSet::from([f("command_missing", format!("command {}", b.cancelled), None), f("command_missing", format!("session {}", b.s), Some("seq"))])
    );
    // Deleting its audit rows too (and fixing the chain's numbering would
    // need a rewrite) still leaves the hole in the session's numbering.
    let got = found_after(&b.admin, &format!(
        "delete from pgshell.commands where id = {c}; delete from pgshell.audit_log where command_id = {c}", c = b.cancelled)).await;
    assert!(got.contains(&f("command_missing", format!("session {}", b.s), Some("seq"))), "{got:?}");
    assert!(got.iter().any(|p| p.0 == "row_missing"), "{got:?}");
    let _ = seq;
}

/// Rows deleted after the last anchor, with the chain's head fixed up:
/// nothing outside the session's own chain has seen them yet, and each
/// chain's continuity and snapshots still show the deletion.
#[tokio::test]
async fn rows_deleted_before_the_next_anchor_are_reported() {
    let b = Busy::new().await;
    let mut alice = crate::support::User { client: pg_shell::client::ShellClient::connect(&b.db.conninfo, "alice").await.unwrap() };
    let late = alice.run(b.other, "echo late").await;
    let anchored: i64 = b
        .admin
        .query_one("select anchored_seq from pgshell.audit_heads where chain = $1", &[&b.other.to_string()])
        .await
        .unwrap()
        .get(0);
    let completed: i64 = b
        .admin
        .query_one("select seq from pgshell.audit_log where command_id = $1 and event = 'command.completed'", &[&late.id])
        .await
        .unwrap()
        .get(0);
    assert!(completed > anchored, "the late rows are not anchored yet ({completed} > {anchored})");
    let fix_head = format!(
        "update pgshell.audit_heads h set seq = m.seq, hash = m.hash
         from (select seq, hash from pgshell.audit_log where chain = '{o}' order by seq desc limit 1) m where h.chain = '{o}'",
        o = b.other
    );
    // The completion row alone: the command no longer matches its last record.
    let got = found_after(&b.admin, &format!("delete from pgshell.audit_log where command_id = {} and event = 'command.completed'; {fix_head}", late.id)).await;
    let obj = format!("command {}", late.id);
    for field in ["status", "exit_code", "stdout", "env_after", "outcome", "finished_at"] {
        assert!(got.contains(&f("command_altered", &*obj, Some(field))), "{field}: {got:?}");
    }
    assert!(got.iter().all(|p| p.1 == obj), "only the late command: {got:?}");
    // Every row of the command and the command itself: the session's numbering.
    let got = found_after(&b.admin, &format!(
        "delete from pgshell.audit_log where command_id = {c}; delete from pgshell.commands where id = {c}; {fix_head}", c = late.id)).await;
    assert_eq!(got, BTreeSet::from([f("command_missing", format!("session {}", b.other), Some("seq"))]));
    // A row in the middle: the numbering of the chain, covered by each row's hash.
    let got = found_after(&b.admin, &format!("delete from pgshell.audit_log where chain = '{}' and seq = 2", b.other)).await;
    assert!(got.contains(&f("row_missing", format!("chain {}", b.other), None)), "{got:?}");
}

#[tokio::test]
async fn an_edited_or_reordered_audit_row_is_detected() {
    let b = Busy::new().await;
    let got = found_after(&b.admin, &format!("update pgshell.audit_log set actor = 'mallory' where session_id = '{}' and seq = 2", b.s)).await;
    assert!(got.iter().any(|p| p.0 == "row_altered"), "{got:?}");
    let got = found_after(&b.admin, &format!(
        "update pgshell.audit_log set seq = -2 where session_id = '{s}' and seq = 2;
         update pgshell.audit_log set seq = 2 where session_id = '{s}' and seq = 3;
         update pgshell.audit_log set seq = 3 where session_id = '{s}' and seq = -2", s = b.s)).await;
    assert!(got.iter().any(|p| p.0 == "row_altered"), "{got:?}");
    // A forged snapshot in a row is an altered row.
    let got = found_after(&b.admin, &format!(
        "update pgshell.audit_log set details = jsonb_set(details, '{{snapshot,command,exit_code}}', '0') where command_id = {} and event = 'command.completed'",
        b.ids[2])).await;
    assert!(got.iter().any(|p| p.0 == "row_altered"), "{got:?}");
    // The tail of an anchored chain, head fixed: the anchor.
    let got = found_after(&b.admin, &format!(
        "delete from pgshell.audit_log where session_id = '{s}' and seq > 5;
         update pgshell.audit_heads h set seq = 5, hash = (select hash from pgshell.audit_log where chain = h.chain and seq = 5) where chain = '{s}'",
        s = b.s)).await;
    assert!(got.iter().any(|p| p.0 == "anchor_mismatch"), "{got:?}");
}

/// Retention deletes a closed session and leaves a tombstone; verify
/// accepts it. The same deletion without the tombstone is reported.
#[tokio::test]
async fn retention_leaves_a_tombstone_that_verify_accepts() {
    let b = Busy::new().await;
    let alice = pg_shell::client::ShellClient::connect(&b.db.conninfo, "alice").await.unwrap();
    alice.raw().execute("select api.close_session($1)", &[&b.other]).await.unwrap();
    // Without a tombstone, the same deletion is tampering.
    let got = found_after(&b.admin, &format!(
        "delete from pgshell.commands where session_id = '{o}'; delete from pgshell.sessions where id = '{o}'", o = b.other)).await;
    assert!(got.contains(&f("session_missing", format!("session {}", b.other), None)), "{got:?}");
    assert!(got.iter().any(|p| p.0 == "command_missing"), "{got:?}");
    // Retention off (the default): nothing happens.
    let n: i32 = b.admin.query_one("select pgshell.retention_sweep()", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);
    b.admin.execute("update pgshell.settings set value = '0.000001' where name = 'retention_days'", &[]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let n: i32 = b.admin.query_one("select pgshell.retention_sweep()", &[]).await.unwrap().get(0);
    assert_eq!(n, 1, "only the closed session");
    let left: i64 = b.admin.query_one("select count(*) from pgshell.sessions where id = $1", &[&b.other]).await.unwrap().get(0);
    assert_eq!(left, 0);
    let tomb: serde_json::Value = b
        .admin
        .query_one("select details from pgshell.audit_log where session_id = $1 and event = 'session.deleted'", &[&b.other])
        .await
        .unwrap()
        .get(0);
    assert_eq!((tomb["reason"].as_str(), tomb["commands"].as_i64()), (Some("retention"), Some(1)), "{tomb}");
    assert_eq!(found(&b.admin).await, BTreeSet::new());
    let (ok, v) = verify_cli(&b.db, &[]);
    assert!(ok, "{v}");
    assert_refused(alice.history(b.other).await);
}

/// A superuser who rewrites the whole log consistently (every hash, every
/// anchor, every head) passes the in-database checks; the head kept outside
/// the database catches it.
#[tokio::test]
async fn a_consistent_rewrite_is_caught_against_an_external_head() {
    let b = Busy::new().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("heads.jsonl");
    let file_s = file.to_str().unwrap();
    let out = cli(&b.db, &["audit", "anchor", "--to", file_s]);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["chain"], "global");
    // --to-command gets the same line on its stdin.
    let piped = dir.path().join("piped.jsonl");
    cli(&b.db, &["audit", "anchor", "--to-command", &format!("cat >> '{}'", piped.display())]);
    let piped_line: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&piped).unwrap().trim()).unwrap();
    assert_eq!(piped_line["chain"], "global");
    let (ok, v) = verify_cli(&b.db, &["--against", file_s]);
    assert!(ok, "{v}");
    assert_eq!(v["external_heads_checked"], 1);

    // Forge `cat f`'s output, its snapshot, and re-chain everything.
    let cat = b.ids[1];
    as_superuser_without_triggers(&b.admin, &format!(
        "update pgshell.commands set stdout = 'FORGED' where id = {cat};
         update pgshell.audit_log set details = jsonb_set(details, '{{snapshot,command,stdout}}', to_jsonb(encode(sha256('FORGED'::bytea), 'hex')))
           where command_id = {cat} and details -> 'snapshot' -> 'command' ? 'stdout';
         do $$
         declare r record; prev bytea; c text := null;
         begin
             -- session chains first, then the global chain with its anchors' heads updated
             for r in select * from pgshell.audit_log order by chain = 'global', chain, seq loop
                 if c is distinct from r.chain then prev := '\\x'; c := r.chain; end if;
                 if r.event = 'audit.anchor' then
                     update pgshell.audit_log set details = jsonb_set(details, '{{heads}}', (
                         select jsonb_object_agg(k.key, jsonb_build_object('seq', k.value -> 'seq', 'hash',
                             (select encode(t.hash, 'hex') from pgshell.audit_log t where t.chain = k.key and t.seq = (k.value ->> 'seq')::bigint)))
                         from jsonb_each(r.details -> 'heads') k))
                     where id = r.id returning * into r;
                 end if;
                 update pgshell.audit_log set prev_hash = prev,
                     hash = pgshell.audit_row_hash(r.id, r.chain, r.seq, r.at, r.actor, r.event, r.session_id, r.command_id, r.details, prev)
                 where id = r.id returning hash into prev;
             end loop;
             update pgshell.audit_heads h set hash = (select hash from pgshell.audit_log a where a.chain = h.chain and a.seq = h.seq);
         end $$"
    )).await;
    assert_eq!(found(&b.admin).await, BTreeSet::new(), "the rewrite is consistent inside the database");
    let (ok, v) = verify_cli(&b.db, &[]);
    assert!(ok, "{v}");
    let (ok, v) = verify_cli(&b.db, &["--against", file_s]);
    assert!(!ok, "{v}");
    let p = &v["problems"][0];
    assert_eq!((p["kind"].as_str(), p["chain"].as_str()), (Some("external_anchor"), Some("global")), "{v}");
    assert!(p["problem"].as_str().unwrap().contains("rewritten"), "{v}");
    // A file that is not an anchor file is a problem, not a pass.
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "hello\n").unwrap();
    let (ok, _) = verify_cli(&b.db, &["--against", junk.to_str().unwrap()]);
    assert!(!ok);
}

#[tokio::test]
async fn auditors_verify_and_read_users_do_not() {
    let b = Busy::new().await;
    pg_shell::db::upsert_user(&b.admin, "audrey", "auditor", None).await.unwrap();
    let audrey = pg_shell::client::ShellClient::connect(&b.db.conninfo, "audrey").await.unwrap();
    let v: serde_json::Value = audrey.raw().query_one("select api.audit_verify()", &[]).await.unwrap().get(0);
    assert_eq!(v["ok"], true, "{v}");
    let rows = audrey.raw().query("select api.audit_log(session_id => $1)", &[&b.s]).await.unwrap();
    assert!(rows.len() >= 8);
    // The API reports the same kinds as the CLI.
    as_superuser_without_triggers(&b.admin, &format!("update pgshell.commands set exit_code = 0 where id = {}", b.ids[2])).await;
    let v: serde_json::Value = audrey.raw().query_one("select api.audit_verify()", &[]).await.unwrap().get(0);
    assert_eq!((v["ok"].as_bool(), v["problems"][0]["kind"].as_str(), v["problems"][0]["field"].as_str()),
        (Some(false), Some("command_altered"), Some("exit_code")), "{v}");
    assert!(!problems(&b.admin).await.is_empty());
    // Auditors run nothing.
    assert_refused(audrey.create_session(None).await);
    let alice = pg_shell::client::ShellClient::connect(&b.db.conninfo, "alice").await.unwrap();
    assert_refused(alice.raw().query_one("select api.audit_verify()", &[]).await);
}
