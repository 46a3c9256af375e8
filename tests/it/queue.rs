//! The queue: order within a session, parallelism across sessions, safety
//! with many executors, leases, and claims.

use std::collections::HashMap;

use serde_json::json;

use crate::support::TestDb;

/// (started_at, finished_at) of a command, in microseconds since the epoch.
async fn span(admin: &tokio_postgres::Client, id: i64) -> (i64, i64) {
    let r = admin
        .query_one(
            "select (extract(epoch from started_at) * 1e6)::int8, (extract(epoch from finished_at) * 1e6)::int8
             from pgshell.commands where id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

#[tokio::test]
async fn commands_of_a_session_run_in_order_one_at_a_time() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 2000})).await;
    // Submitted all at once, behind one that runs for two seconds.
    let mut ids = vec![u.client.submit(s, "spin").await.unwrap()];
    for i in 0..30 {
        let line = if i % 3 == 0 { format!("export N={i}") } else { format!("appendfile log '{i} '") };
        ids.push(u.client.submit(s, &line).await.unwrap());
    }
    // While the first runs, the rest of its session waits although the
    // executor has free slots.
    u.wait_until_running(ids[0]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for id in &ids[1..] {
        assert_eq!(u.client.command(*id).await.unwrap().status, "queued", "command {id} started beside a running one");
    }
    assert_eq!(u.client.command(ids[0]).await.unwrap().status, "running", "the first ran all the while");
    let last = u.client.wait(*ids.last().unwrap(), std::time::Duration::from_secs(60)).await.unwrap();
    assert_eq!(last.status, "done");
    let log = u.run(s, "cat log").await;
    let expected: String = (0..30).filter(|i| i % 3 != 0).map(|i| format!("{i} ")).collect();
    assert_eq!(log.stdout(), expected, "appends happened in submission order");
    let admin = db.admin().await;
    let mut prev_end = 0;
    for id in ids {
        let (start, end) = span(&admin, id).await;
        assert!(start >= prev_end, "command {id} started before its predecessor finished");
        prev_end = end;
    }
}

#[tokio::test]
async fn different_sessions_run_in_parallel() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let (a, b) = (u.session().await, u.session().await);
    for s in [a, b] {
        db.set_session_limits(s, json!({"timeout_ms": 1500})).await;
    }
    let ia = u.client.submit(a, "spin").await.unwrap();
    let ib = u.client.submit(b, "spin").await.unwrap();
    // Both are seen running at once (each runs 1.5 s).
    u.wait_until_running(ia).await;
    u.wait_until_running(ib).await;
    assert_eq!(u.client.command(ia).await.unwrap().status, "running", "a's command ended before b's started");
    let ca = u.client.wait(ia, std::time::Duration::from_secs(30)).await.unwrap();
    let cb = u.client.wait(ib, std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!((ca.outcome(), cb.outcome()), ("timeout", "timeout"));
    let admin = db.admin().await;
    let (sa, ea) = span(&admin, ia).await;
    let (sb, eb) = span(&admin, ib).await;
    assert!(sa < eb && sb < ea, "the two sessions' commands overlapped in time");
}

#[tokio::test]
async fn many_executors_never_run_a_command_twice() {
    let mut db = TestDb::new().await;
    for _ in 0..3 {
        let mut c = db.executor_config();
        c.concurrency = 3;
        db.start_executor_with(c);
    }
    let mut u = db.user("alice").await;
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(u.session().await);
    }
    let mut all = Vec::new();
    for i in 0..15 {
        for s in &sessions {
            all.push(u.client.submit(*s, &format!("appendfile f {i},")).await.unwrap());
        }
    }
    for id in &all {
        let c = u.client.wait(*id, std::time::Duration::from_secs(120)).await.unwrap();
        assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    }
    for s in &sessions {
        let out = u.run(*s, "cat f").await;
        let expected: String = (0..15).map(|i| format!("{i},")).collect();
        assert_eq!(out.stdout(), expected, "every append exactly once, in order");
    }
    let admin = db.admin().await;
    let rows = admin
        .query(
            "select command_id, count(*) from pgshell.audit_log where event = 'command.completed' group by 1",
            &[],
        )
        .await
        .unwrap();
    let completions: HashMap<i64, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for id in &all {
        assert_eq!(completions.get(id), Some(&1), "command {id} completed exactly once");
    }
    // No command was handed back: every claim was kept by its live executor.
    let handed_back: Vec<String> = admin
        .query("select event || ' ' || details::text from pgshell.audit_log where event in ('command.released', 'command.lost', 'executor.dead') order by id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(handed_back, Vec::<String>::new());
    let attempts: i64 = admin
        .query_one("select count(*) from pgshell.commands where attempt <> 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(attempts, 0);
}

#[tokio::test]
async fn only_the_current_claim_holder_can_complete() {
    let db = TestDb::new().await;
    let u = db.user("alice").await;
    let s = u.session().await;
    let id = u.client.submit(s, "echo hi").await.unwrap();
    let admin = db.admin().await;
    let row = admin.query_one("select id, claim_token from pgshell.claim('ex-a', 60000, 1)", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), id);
    let token: uuid::Uuid = row.get(1);
    let complete = r#"select pgshell.complete_command($1, $2, '{"status": "done", "outcome": "exited", "exit_code": 0}',
                    ''::bytea, ''::bytea, '{}'::bytea[], '{}'::bytea[])"#;
    let forged: bool = admin.query_one(complete, &[&id, &uuid::Uuid::new_v4()]).await.unwrap().get(0);
    assert!(!forged, "a completion without the claim token is refused");
    let status: String = admin
        .query_one("select status::text from pgshell.commands where id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "running");
    let ok: bool = admin.query_one(complete, &[&id, &token]).await.unwrap().get(0);
    assert!(ok);
    let again: bool = admin.query_one(complete, &[&id, &token]).await.unwrap().get(0);
    assert!(!again, "a command completes once");
}

#[tokio::test]
async fn a_killed_executors_command_is_claimed_again_after_its_lease() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let id = u.client.submit(s, "echo survived").await.unwrap();
    let next = u.client.submit(s, "echo next").await.unwrap();
    let admin = db.admin().await;
    // An executor claims it with a short lease and dies (never heartbeats).
    let claimed: i64 = admin.query_one("select id from pgshell.claim('dead-executor', 300, 1)", &[]).await.unwrap().get(0);
    assert_eq!(claimed, id);
    let dead = u.client.command(id).await.unwrap();
    assert_eq!((dead.status.as_str(), dead.attempt), ("running", 1));
    db.start_executor();
    let c = u.client.wait(id, std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!((c.stdout(), c.attempt), ("survived\n", 2));
    assert_eq!(u.client.wait(next, std::time::Duration::from_secs(30)).await.unwrap().stdout(), "next\n");
}

#[tokio::test]
async fn a_command_lost_too_often_is_recorded_as_lost() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let id = u.client.submit(s, "echo never").await.unwrap();
    let admin = db.admin().await;
    admin.execute("update pgshell.settings set value = '1' where name = 'max_attempts'", &[]).await.unwrap();
    admin.query("select * from pgshell.claim('dead-executor', 1, 1)", &[]).await.unwrap();
    db.start_executor();
    let c = u.client.wait(id, std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!((c.status.as_str(), c.outcome()), ("done", "lost"));
    assert!(c.error.unwrap_or_default().contains("dead-executor"));
    // The session is not stuck behind it.
    assert_eq!(u.run(s, "echo after").await.stdout(), "after\n");
}

#[tokio::test]
async fn cancelling_queued_and_running_commands() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 20000})).await;
    let running = u.client.submit(s, "spin").await.unwrap();
    let queued = u.client.submit(s, "echo never").await.unwrap();
    db.start_executor();
    u.wait_until_running(running).await;
    assert_eq!(u.client.command(queued).await.unwrap().status, "queued");
    assert!(u.client.cancel(queued).await.unwrap());
    assert!(u.client.cancel(running).await.unwrap());
    let r = u.client.wait(running, std::time::Duration::from_secs(10)).await.unwrap();
    assert_eq!(r.status, "cancelled");
    let q = u.client.command(queued).await.unwrap();
    assert_eq!((q.status.as_str(), q.stdout()), ("cancelled", ""));
    assert!(!u.client.cancel(queued).await.unwrap(), "cancelling twice does nothing");
    assert_eq!(u.run(s, "echo after").await.stdout(), "after\n");
}

#[tokio::test]
async fn an_executor_needs_only_the_executor_role() {
    let mut db = TestDb::new().await;
    let admin = db.admin().await;
    let role = format!("exec_{}", db.name);
    admin.batch_execute(&format!("create role {role} login in role pgshell_executor")).await.unwrap();
    let mut config = db.executor_config();
    config.conninfo = format!("{} user={role}", db.conninfo);
    db.start_executor_with(config);
    let mut u = db.user("alice").await;
    let s = u.session().await;
    assert_eq!(u.run(s, "writefile f hi").await.exit_code, Some(0));
    assert_eq!(u.run(s, "cat f").await.stdout(), "hi");
    assert_eq!(u.run(s, "history").await.stdout().lines().count(), 2);
    let verdict = u.replay_through_api(s).await;
    assert_eq!(verdict["verdict"], "verified", "{verdict}");
    // And it cannot write the record behind the functions' back.
    let ex = pg_shell::db::connect_plain(&format!("{} user={role}", db.conninfo)).await.unwrap();
    for sql in ["update pgshell.commands set exit_code = 0", "delete from pgshell.sessions", "insert into pgshell.audit_log (actor, event) values ('x', 'y')"] {
        let e = ex.batch_execute(sql).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501", "{sql}");
    }
}

/// Lock order: completing a command takes its session's row before the
/// command's, as api.close_session does. The other order deadlocked
/// (40P01, a 500 from the gateway) when a session was closed while an
/// executor completed one of its commands: here a closer holds the
/// session, and the completion waits for it without holding the command,
/// so the closer can still flag the command (it could not before).
#[tokio::test]
async fn completing_a_command_waits_for_its_session_before_taking_the_command() {
    let db = TestDb::new().await;
    let u = db.user("alice").await;
    let s = u.session().await;
    let id = u.client.submit(s, "echo hi").await.unwrap();
    let admin = db.admin().await;
    let claimed: Vec<i64> = admin.query("select id from pgshell.claim('lockorder', 30000, 1)", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(claimed, vec![id], "the command is running");
    let mut closer = pg_shell::db::connect_plain(&db.conninfo).await.unwrap();
    let tx = closer.transaction().await.unwrap();
    tx.execute("select 1 from pgshell.sessions where id = $1 for no key update", &[&s]).await.unwrap();
    let completer = pg_shell::db::connect_plain(&db.conninfo).await.unwrap();
    let completion = tokio::spawn(async move {
        completer
            .query_one("select pgshell.complete_command($1, $2, '{}'::jsonb, null, null, null, null)", &[&id, &uuid::Uuid::new_v4()])
            .await
            .map(|r| r.get::<_, bool>(0))
    });
    // The completion waits on the session's row...
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: i64 = admin
            .query_one("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%complete_command%' and pid <> pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        if waiting == 1 {
            break;
        }
        assert!(!completion.is_finished(), "complete_command did not wait for the session's row");
        assert!(std::time::Instant::now() < deadline, "complete_command never waited");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // ...holding nothing of the command: the closer flags it at once.
    let flagged = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tx.execute("update pgshell.commands set cancel_requested = true where id = $1 and status = 'running'", &[&id]),
    )
    .await
    .expect("the closer waited for the command's row: the completion holds it")
    .unwrap();
    assert_eq!(flagged, 1);
    tx.commit().await.unwrap();
    // The completion then goes on (and is refused: not this claim's token).
    assert!(!completion.await.unwrap().unwrap());
}
