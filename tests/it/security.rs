//! Who may see and do what.

use pg_shell::client::ShellClient;

use crate::support::{assert_refused, TestDb};

#[tokio::test]
async fn a_user_cannot_read_or_use_another_users_session() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let bob = db.user("bob").await;
    let s = alice.session().await;
    let c = alice.run(s, "echo secret").await;

    assert_refused(bob.client.history(s).await);
    assert_refused(bob.client.command(c.id).await);
    assert_refused(bob.client.submit(s, "echo mine").await);
    assert_refused(bob.client.cancel(c.id).await);
    assert_refused(bob.client.session(s).await);
    let listed = bob.client.raw().query("select api.sessions()", &[]).await.unwrap();
    assert!(listed.is_empty(), "bob sees none of alice's sessions");
    assert_refused(bob.client.raw().execute("select api.close_session($1)", &[&s]).await);
    // Unknown ids answer exactly like foreign ones: nothing to probe.
    let foreign = format!("{:#}", bob.client.history(s).await.unwrap_err()).replace(&s.to_string(), "<id>");
    let unknown_id = uuid::Uuid::new_v4();
    let unknown = format!("{:#}", bob.client.history(unknown_id).await.unwrap_err()).replace(&unknown_id.to_string(), "<id>");
    assert_eq!(unknown, foreign);
    assert_refused(bob.client.history(unknown_id).await);
    // Alice still has it all.
    assert_eq!(alice.client.history(s).await.unwrap().len(), 1);
}

#[tokio::test]
async fn row_level_security_hides_other_users_rows_from_direct_reads() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let _bob = db.user("bob").await;
    let s = alice.session().await;
    alice.run(s, "echo hi").await;
    let admin = db.admin().await;
    let count = |who: &'static str| {
        let admin = &admin;
        async move {
            admin.batch_execute("begin; set local role pgshell_user").await.unwrap();
            admin
                .execute("select set_config('request.jwt.claims', $1, true)", &[&format!("{{\"sub\":\"{who}\"}}")])
                .await
                .unwrap();
            let n: i64 = admin.query_one("select count(*) from pgshell.commands", &[]).await.unwrap().get(0);
            let m: i64 = admin.query_one("select count(*) from pgshell.sessions", &[]).await.unwrap().get(0);
            admin.batch_execute("rollback").await.unwrap();
            (n, m)
        }
    };
    assert_eq!(count("alice").await, (1, 1));
    assert_eq!(count("bob").await, (0, 0));
    // And the end-user role cannot write tables or read blobs directly.
    admin.batch_execute("begin; set local role pgshell_user").await.unwrap();
    let e = admin.query("select * from pgshell.blobs", &[]).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42501");
    admin.batch_execute("rollback").await.unwrap();
}

#[tokio::test]
async fn no_caller_means_no_access() {
    let db = TestDb::new().await;
    let anon = pg_shell::db::connect_plain(&db.conninfo).await.unwrap();
    let e = anon.query_one("select api.create_session('x')", &[]).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42501");
    // A caller naming a user that does not exist is no caller.
    let ghost = ShellClient::connect(&db.conninfo, "ghost").await.unwrap();
    assert_refused(ghost.create_session(None).await);
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let s = alice.session().await;
    alice.run(s, "echo hi").await;
    let admin = db.admin().await;
    let events: Vec<String> = admin
        .query("select event from pgshell.audit_log where session_id = $1 order by id", &[&s])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(events, ["session.created", "command.submitted", "command.claimed", "command.completed"]);
    for sql in ["update pgshell.audit_log set actor = 'x'", "delete from pgshell.audit_log", "truncate pgshell.audit_log"] {
        let e = admin.batch_execute(sql).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501", "{sql}");
    }
}
