//! The hash-chained audit log: every change is recorded; every tampering is found.

use crate::support::{assert_refused, TestDb};

async fn problems(admin: &tokio_postgres::Client) -> Vec<String> {
    admin
        .query("select problem from pgshell.audit_problems(100)", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Rewrites rows behind the triggers' back, as a superuser could.
async fn as_superuser_without_triggers(admin: &tokio_postgres::Client, sql: &str) {
    admin.batch_execute(&format!("begin; set local session_replication_role = replica; {sql}; commit;")).await.unwrap();
}

async fn busy_db() -> (TestDb, tokio_postgres::Client, uuid::Uuid, Vec<i64>) {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let mut ids = Vec::new();
    for l in ["writefile f hello", "cat f", "exitwith 4", "ls"] {
        ids.push(u.run(s, l).await.id);
    }
    let other = u.session().await;
    u.run(other, "echo other").await;
    let admin = db.admin().await;
    admin.query_one("select pgshell.audit_anchor()", &[]).await.unwrap();
    (db, admin, s, ids)
}

#[tokio::test]
async fn an_untouched_log_verifies_and_records_every_event() {
    let (db, admin, s, _) = busy_db().await;
    assert_eq!(problems(&admin).await, Vec::<String>::new());
    let events: Vec<String> = admin
        .query("select distinct event from pgshell.audit_log order by 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for e in ["audit.anchor", "command.claimed", "command.completed", "command.submitted", "program.registered", "session.created", "user.created"] {
        assert!(events.contains(&e.to_string()), "{e} missing from {events:?}");
    }
    let chain: String = admin
        .query_one("select distinct chain from pgshell.audit_log where session_id = $1", &[&s])
        .await
        .unwrap()
        .get(0);
    assert_eq!(chain, s.to_string(), "each session has a chain of its own");
    // The CLI says the same, with its exit status.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &db.conninfo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn an_altered_output_byte_is_detected() {
    let (_db, admin, _s, ids) = busy_db().await;
    as_superuser_without_triggers(&admin, &format!("update pgshell.commands set stdout = 'hellO' where id = {}", ids[1])).await;
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains(&format!("command {}", ids[1]))), "{p:?}");
}

#[tokio::test]
async fn an_altered_exit_code_is_detected() {
    let (_db, admin, _s, ids) = busy_db().await;
    as_superuser_without_triggers(&admin, &format!("update pgshell.commands set exit_code = 0 where id = {}", ids[2])).await;
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains(&format!("command {}", ids[2]))), "{p:?}");
}

#[tokio::test]
async fn an_altered_environment_file_is_detected() {
    let (_db, admin, _s, _) = busy_db().await;
    as_superuser_without_triggers(&admin, "update pgshell.blobs set data = 'HELLO' where digest = sha256('hello'::bytea)").await;
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains("file contents altered")), "{p:?}");
}

#[tokio::test]
async fn an_edited_audit_row_is_detected() {
    let (_db, admin, s, _) = busy_db().await;
    as_superuser_without_triggers(
        &admin,
        &format!("update pgshell.audit_log set actor = 'mallory' where session_id = '{s}' and seq = 2"),
    )
    .await;
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains("altered")), "{p:?}");
}

#[tokio::test]
async fn a_deleted_audit_row_is_detected() {
    let (_db, admin, s, _) = busy_db().await;
    as_superuser_without_triggers(&admin, &format!("delete from pgshell.audit_log where session_id = '{s}' and seq = 3")).await;
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains("missing")), "{p:?}");
}

#[tokio::test]
async fn a_deleted_tail_is_detected_through_the_anchor() {
    let (_db, admin, s, _) = busy_db().await;
    // Remove the last rows of the chain and fix up its head, as a careful attacker would.
    as_superuser_without_triggers(
        &admin,
        &format!(
            "delete from pgshell.audit_log where session_id = '{s}' and seq > 5;
             update pgshell.audit_heads h set seq = 5, hash = (select hash from pgshell.audit_log where chain = h.chain and seq = 5)
             where chain = '{s}'"
        ),
    )
    .await;
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains("anchor")), "{p:?}");
}

#[tokio::test]
async fn a_reordered_row_is_detected() {
    let (_db, admin, s, _) = busy_db().await;
    as_superuser_without_triggers(
        &admin,
        &format!(
            "update pgshell.audit_log set seq = -2 where session_id = '{s}' and seq = 2;
             update pgshell.audit_log set seq = 2 where session_id = '{s}' and seq = 3;
             update pgshell.audit_log set seq = 3 where session_id = '{s}' and seq = -2"
        ),
    )
    .await;
    let p = problems(&admin).await;
    assert!(!p.is_empty());
}

#[tokio::test]
async fn auditors_verify_and_read_users_do_not() {
    let (db, _admin, s, _) = busy_db().await;
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "audrey", "auditor", None).await.unwrap();
    let audrey = pg_shell::client::ShellClient::connect(&db.conninfo, "audrey").await.unwrap();
    let v: serde_json::Value = audrey.raw().query_one("select api.audit_verify()", &[]).await.unwrap().get(0);
    assert_eq!(v["ok"], true, "{v}");
    let rows = audrey.raw().query("select api.audit_log(session_id => $1)", &[&s]).await.unwrap();
    assert!(rows.len() >= 8);
    // Auditors run nothing.
    assert_refused(audrey.create_session(None).await);
    let alice = pg_shell::client::ShellClient::connect(&db.conninfo, "alice").await.unwrap();
    assert_refused(alice.raw().query_one("select api.audit_verify()", &[]).await);
}
