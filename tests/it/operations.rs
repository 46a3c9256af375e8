//! Operations: the cleanup pass (dead executors on any host, idle sessions,
//! retention with holds) and the metrics, against a real database.

use std::time::{Duration, Instant};

use crate::support::{assert_refused, TestDb};
use pg_shell::db::NativeOptions;

async fn problems(db: &TestDb) -> Vec<String> {
    crate::support::audit_problems(&db.admin().await).await
}

async fn set(db: &TestDb, name: &str, value: &str) {
    db.admin()
        .await
        .execute("update pgshell.settings set value = $2::text::jsonb where name = $1", &[&name, &value])
        .await
        .unwrap();
}

/// A "ghost" executor on another host claims every queued command and then
/// never beats again: what a machine that lost power leaves behind.
async fn ghost_claims(db: &TestDb) -> Vec<(i64, uuid::Uuid)> {
    let c = db.admin().await;
    c.execute("select pgshell.register_executor('ghost', 'another-host', 1, 'test', 4)", &[]).await.unwrap();
    let rows = c.query("select id, claim_token from pgshell.claim('ghost', 30000, 10)", &[]).await.unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

#[tokio::test]
async fn a_command_held_by_a_dead_executor_on_another_host_is_rescued_within_15_s() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let id = u.client.submit(s, "echo rescued").await.unwrap();
    let held = ghost_claims(&db).await;
    assert_eq!(held.iter().map(|h| h.0).collect::<Vec<_>>(), vec![id]);
    let died = Instant::now();
    // Default settings: a 30 s lease, executor_dead_after_ms = 10 s; the
    // live executor (this host) runs the cleanup pass on its heartbeats.
    db.start_executor();
    let c = u.client.wait(id, Duration::from_secs(40)).await.unwrap();
    let took = died.elapsed();
    assert_eq!((c.stdout(), c.outcome()), ("rescued\n", "exited"));
    assert!(took < Duration::from_secs(15), "rescued after {took:?}; the stated bound is 15 s (the lease alone is 30 s)");
    assert!(took >= Duration::from_secs(10), "rescued after {took:?}, before the executor could be judged dead");
    println!("rescued a command of a dead executor on another host after {:.1} s", took.as_secs_f64());
    let admin = db.admin().await;
    let events: Vec<String> = admin
        .query("select event from pgshell.audit_log where command_id = $1 or details->>'executor' = 'ghost' order by id", &[&id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for e in ["command.claimed", "executor.dead", "command.released", "command.rescued", "command.completed"] {
        assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
    }
    let attempt: i32 = admin.query_one("select attempt from pgshell.commands where id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(attempt, 2);
    // The ghost's late completion is refused by the claim token.
    let (_, token) = held[0];
    let stopped: bool = admin.query_one("select stopped_at is not null from pgshell.executors where id = 'ghost'", &[]).await.unwrap().get(0);
    assert!(stopped);
    let still: i64 = admin.query_one("select count(*) from pgshell.commands where claim_token = $1", &[&token]).await.unwrap().get(0);
    assert_eq!(still, 0, "the dead executor's claim is void");
    assert_eq!(problems(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_native_program_not_marked_retry_safe_is_never_run_twice() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    pg_shell::db::register_native_with(&admin, "necho", "/bin/echo", &NativeOptions::default()).await.unwrap();
    pg_shell::db::register_native_with(&admin, "recho", "/bin/echo", &NativeOptions { retry_safe: true, ..Default::default() })
        .await
        .unwrap();
    let mut u = db.user("alice").await;
    let (s1, s2, s3) = (u.session().await, u.session().await, u.session().await);
    let unsafe_id = u.client.submit(s1, "necho once").await.unwrap();
    let safe_id = u.client.submit(s2, "recho again").await.unwrap();
    let wasi_id = u.client.submit(s3, "echo x | wc -c").await.unwrap();
    let held = ghost_claims(&db).await;
    assert_eq!(held.len(), 3);
    // The ghost started the native programs (as the executor marks before
    // it spawns one), then died.
    for (id, token) in &held {
        let program = if *id == unsafe_id { "necho" } else { "recho" };
        if *id != wasi_id {
            admin.execute("select pgshell.native_started($1, $2, $3)", &[id, token, &program]).await.unwrap();
        }
    }
    set(&db, "executor_dead_after_ms", "200").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap();
    assert_eq!((r.dead_executors, r.released, r.lost), (1, 2, 1), "{r:?}");
    // A second agent running at the same time finds nothing left to do.
    assert!(pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap().is_empty());
    let mut db = db;
    db.start_executor();
    let lost = u.client.wait(unsafe_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!((lost.outcome(), lost.exit_code), ("lost", Some(137)));
    assert!(lost.error.as_deref().unwrap_or("").contains("not marked retry-safe"), "{:?}", lost.error);
    let again = u.client.wait(safe_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!((again.stdout(), again.outcome()), ("again\n", "exited"));
    let wasi = u.client.wait(wasi_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!((wasi.stdout(), wasi.outcome()), ("2\n", "exited"));
    assert_eq!(problems(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn idle_sessions_close_and_their_owner_reopens_them() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let mut mallory = db.user("mallory").await;
    let idle = u.session().await;
    assert_eq!(u.run(idle, "echo before").await.stdout(), "before\n");
    let admin = db.admin().await;
    // 0.00002 days = 1.7 s of idleness.
    set(&db, "session_idle_days", "0.00002").await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let busy = u.session().await;
    // (The executor's heartbeats run the same pass; whichever runs first closes it.)
    pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap();
    let reason: Option<String> = admin
        .query_one("select max(details->>'reason') from pgshell.audit_log where session_id = $1 and event = 'session.closed'", &[&idle])
        .await
        .unwrap()
        .get(0);
    assert_eq!(reason.as_deref(), Some("idle"));
    let closed: bool = admin.query_one("select closed_at is not null from pgshell.sessions where id = $1", &[&idle]).await.unwrap().get(0);
    assert!(closed);
    let open: bool = admin.query_one("select closed_at is null from pgshell.sessions where id = $1", &[&busy]).await.unwrap().get(0);
    assert!(open, "a session created a moment ago is not idle");
    assert!(u.client.submit(idle, "echo after").await.is_err(), "a closed session takes no commands");
    // Only the owner may reopen it.
    assert_refused(mallory.client.raw().execute("select api.reopen_session($1)", &[&idle]).await);
    u.client.raw().execute("select api.reopen_session($1)", &[&idle]).await.unwrap();
    assert_eq!(u.run(idle, "echo after").await.stdout(), "after\n");
    let _ = &mut mallory;
    assert_eq!(problems(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn retention_deletes_old_closed_sessions_but_keeps_held_ones() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "audrey", "auditor", None).await.unwrap();
    let auditor = pg_shell::client::ShellClient::connect(&db.conninfo, "audrey").await.unwrap();
    let (gone, kept) = (u.session().await, u.session().await);
    for s in [gone, kept] {
        assert_eq!(u.run(s, "echo data > f && cat f").await.stdout(), "data\n");
        u.client.raw().execute("select api.close_session($1)", &[&s]).await.unwrap();
    }
    // A user may not hold a session, even their own; an auditor may.
    assert_refused(u.client.raw().execute("select api.hold_session($1)", &[&kept]).await);
    auditor.raw().execute("select api.hold_session($1)", &[&kept]).await.unwrap();
    set(&db, "retention_days", "0.00001").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // (The executor's heartbeats run the same pass; whichever runs first deletes.)
    pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap();
    let left: Vec<uuid::Uuid> =
        admin.query("select id from pgshell.sessions order by id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, vec![kept]);
    let commands: i64 = admin.query_one("select count(*) from pgshell.commands where session_id = $1", &[&gone]).await.unwrap().get(0);
    assert_eq!(commands, 0);
    assert_eq!(problems(&db).await, Vec::<String>::new(), "the tombstone and the hold verify");
    // Released, it goes at the next pass.
    auditor.raw().execute("select api.hold_session($1, false)", &[&kept]).await.unwrap();
    pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap();
    let left: i64 = admin.query_one("select count(*) from pgshell.sessions", &[]).await.unwrap().get(0);
    assert_eq!(left, 0);
    let events: Vec<String> = admin
        .query("select event from pgshell.audit_log where session_id = $1 order by id", &[&kept])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(events.ends_with(&["session.held".into(), "session.released".into(), "session.deleted".into()]), "{events:?}");
    assert_eq!(problems(&db).await, Vec::<String>::new());
}

async fn blob_of(db: &TestDb, content: &[u8]) -> Option<(i64, std::time::SystemTime)> {
    let digest = pg_shell::env::sha256(content).to_vec();
    db.admin()
        .await
        .query_opt("select size, used_at from pgshell.blobs where digest = $1", &[&digest])
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1)))
}

#[tokio::test]
async fn retention_frees_the_storage_only_deleted_sessions_used() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let admin = db.admin().await;
    let (gone, kept) = (u.session().await, u.session().await);
    // `gone` alone has a 108 KB file and a directory; both share `shared`.
    assert_eq!(u.run(gone, "mkdir d && seq 1 20000 > d/big && echo shared > s && wc -l < d/big").await.stdout(), "20000\n");
    assert_eq!(u.run(kept, "echo shared > s && echo mine > m && cat s m").await.stdout(), "shared\nmine\n");
    let big: Vec<u8> = (1..=20000).map(|i| format!("{i}\n")).collect::<String>().into_bytes();
    assert_eq!(blob_of(&db, &big).await.map(|b| b.0), Some(big.len() as i64));
    let before: (i64, i64, i64) = {
        let r = admin
            .query_one("select (select count(*) from pgshell.blobs), (select coalesce(sum(size), 0)::bigint from pgshell.blobs), (select count(*) from pgshell.tree_objects)", &[])
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    u.client.raw().execute("select api.close_session($1)", &[&gone]).await.unwrap();
    set(&db, "retention_days", "0.00001").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Passes until nothing is left to do (the executor's heartbeats may run some).
    let mut collected = pg_shell::services::gc::Report::default();
    for _ in 0..5 {
        let r = pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap();
        collected.environments += r.collected.environments;
        collected.tree_objects += r.collected.tree_objects;
        collected.blobs += r.collected.blobs;
        collected.bytes += r.collected.bytes;
    }
    let left: Vec<uuid::Uuid> = admin.query("select id from pgshell.sessions", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, vec![kept]);
    assert_eq!(blob_of(&db, &big).await, None, "the file only the deleted session had is gone");
    assert!(blob_of(&db, b"shared\n").await.is_some(), "a file the kept session shares stays");
    let after: (i64, i64, i64) = {
        let r = admin
            .query_one("select (select count(*) from pgshell.blobs), (select coalesce(sum(size), 0)::bigint from pgshell.blobs), (select count(*) from pgshell.tree_objects)", &[])
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert!(before.1 - after.1 >= big.len() as i64, "blob bytes {} -> {}", before.1, after.1);
    assert!(after.2 < before.2, "tree objects {} -> {}", before.2, after.2);
    // The audit says so, by whatever pass collected it (the executor's heartbeat may have).
    let audited: i64 = admin
        .query_one("select coalesce(sum((details->>'blobs')::bigint), 0)::bigint from pgshell.audit_log where event = 'storage.collected'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(audited >= 1, "no storage.collected event");
    println!(
        "retention freed {} blobs ({} bytes) and {} tree objects; this test's passes collected {collected:?}",
        before.0 - after.0,
        before.1 - after.1,
        before.2 - after.2
    );
    // What is kept is intact: it still reads, runs and replays.
    assert_eq!(u.run(kept, "cat s m && ls").await.stdout(), "shared\nmine\nm\ns\n");
    let r = db.replay(kept, true).await;
    assert_eq!((r.verdict, r.diverged), ("verified", 0), "{:?}", r.first_divergence);
    assert_eq!(problems(&db).await, Vec::<String>::new());

    // Re-use after the mark: a blob nothing refers to is stored again by a
    // command that completes after the collector's mark; it is kept.
    assert_eq!(u.run(kept, "seq 1 20000 > again && rm again").await.outcome(), "exited");
    let mark: std::time::SystemTime = admin.query_one("select pgshell.gc_begin()", &[]).await.unwrap().get(0);
    assert_eq!(u.run(kept, "seq 1 20000 > again2").await.outcome(), "exited");
    let (_, used) = blob_of(&db, &big).await.expect("stored again");
    assert!(used > mark, "re-use touched the blob after the mark");
    let digest = pg_shell::env::sha256(&big).to_vec();
    let n: i64 = admin
        .query_one("select n from pgshell.gc_delete('blobs', array[$1::bytea], $2)", &[&digest, &mark])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "a blob used after the mark is not deleted");
    assert_eq!(u.run(kept, "wc -l < again2").await.stdout(), "20000\n");
}

#[tokio::test]
async fn metrics_count_what_the_database_holds() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for line in ["echo a", "echo b", "true | false", "nosuchprogram"] {
        u.run(s, line).await;
    }
    let admin = db.admin().await;
    let ms = pg_shell::cli::ops::metrics(&admin, Duration::from_secs(3600)).await.unwrap();
    let get = |name: &str, label: Option<(&str, &str)>| -> Option<f64> {
        ms.iter()
            .find(|m| m.name == name && label.is_none_or(|(k, v)| m.labels.get(k).and_then(|x| x.as_str()) == Some(v)))
            .map(|m| m.value)
    };
    let exited: i64 = admin
        .query_one("select count(*) from pgshell.commands where outcome = 'exited'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(get("commands_total", Some(("outcome", "exited"))), Some(exited as f64));
    assert_eq!(get("commands_total", Some(("outcome", "not_found"))), Some(1.0));
    assert_eq!(get("commands_by_program_total", Some(("program", "echo"))), Some(2.0));
    assert_eq!(get("queue_depth", None), Some(0.0));
    assert_eq!(get("executors_active", None), Some(1.0));
    for m in ["command_run_seconds", "command_queue_wait_seconds"] {
        let (p50, p95, avg) = (get(m, Some(("stat", "p50"))), get(m, Some(("stat", "p95"))), get(m, Some(("stat", "avg"))));
        assert!(p50.is_some() && avg.is_some() && p95 >= p50 && p50 >= Some(0.0), "{m}: {p50:?} {p95:?} {avg:?}");
    }
    let fuel: i64 = admin.query_one("select coalesce(sum(fuel_consumed), 0)::int8 from pgshell.commands", &[]).await.unwrap().get(0);
    assert_eq!(get("user_fuel_total", Some(("user", "alice"))), Some(fuel as f64));
    let text = pg_shell::cli::ops::prometheus(&ms);
    assert!(text.contains("pg_shell_commands_total{outcome=\"not_found\"} 1\n"), "{text}");

    // The CLI appends CSV: a header once, a row per metric per round.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
            .args(["monitor", "--csv", csv.to_str().unwrap()])
            .env("DATABASE_URL", &db.conninfo)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().filter(|l| *l == "time,metric,labels,value").count(), 1, "{text}");
    assert_eq!(text.lines().filter(|l| l.contains(",queue_depth,,0")).count(), 2, "{text}");
    // A bad duration is refused with a clear message, before any work.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .args(["cleanup", "--every", "5 parsecs"])
        .env("DATABASE_URL", &db.conninfo)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown unit"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn the_gateway_serves_readiness_and_metrics_to_whoever_holds_the_token() {
    use pg_shell::gateway::{Gateway, GatewayConfig};
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "echo a").await;
    u.run(s, "nosuchprogram").await;
    let start = |token: Option<&str>| {
        let mut config = GatewayConfig::new(db.conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap());
        config.metrics_token = token.map(str::to_owned);
        async move {
            let gw = Gateway::bind(config).await.expect("gateway binds");
            let base = format!("http://{}", gw.local_addr());
            tokio::spawn(gw.run(std::future::pending()));
            base
        }
    };
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let token = "a-long-enough-metrics-token";
    let base = start(Some(token)).await;
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.get(format!("{base}/metrics")).bearer_auth("a-long-enough-metrics-tokeX").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.get(format!("{base}/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let body = r.text().await.unwrap();
    assert!(body.contains("pg_shell_commands_total{outcome=\"not_found\"} 1\n"), "{body}");
    assert!(body.contains("pg_shell_user_fuel_total{user=\"alice\"}"), "{body}");
    assert!(body.contains("# TYPE pg_shell_queue_depth gauge\npg_shell_queue_depth 0\n"), "{body}");
    // Without the setting there is no /metrics at all.
    let plain = start(None).await;
    assert_eq!(http.get(format!("{plain}/metrics")).bearer_auth(token).send().await.unwrap().status(), 404);

    let r = http.get(format!("{base}/readyz")).send().await.unwrap();
    let built = pg_shell::db::MIGRATIONS.last().unwrap().0;
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, format!("ready (schema {built})\n")));
    // A newer schema (a rolling upgrade ahead of this gateway): not ready, and why.
    db.admin().await.execute("insert into pgshell_meta.schema_version (version, name) values (999, '0999_future')", &[]).await.unwrap();
    let r = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let why = r.text().await.unwrap();
    assert!(why.contains("version 999") && why.contains(&format!("built for {built}")), "{why}");
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "alive, only not ready");
}

fn spawn_agent(conninfo: &str, args: &[&str], out: Option<&std::path::Path>) -> crate::support::Agent {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"));
    cmd.args(args)
        .env("DATABASE_URL", conninfo)
        .env("PG_SHELL_CACHE_DIR", crate::support::cache_dir())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match out {
        Some(path) => cmd.stdout(std::fs::File::create(path).unwrap()),
        None => cmd.stdout(std::process::Stdio::null()),
    };
    crate::support::Agent(cmd.spawn().expect("starting a pg_shell agent"))
}

/// The kill test: 3 executor processes, 50 sessions, 2,000 commands;
/// executors are killed with SIGKILL and started again while they run, with
/// the cleanup agent running. Every command completes exactly once, in
/// session order, with exactly its own output, and the audit log verifies.
#[tokio::test]
async fn executors_killed_again_and_again_lose_and_duplicate_nothing() {
    const SESSIONS: usize = 50;
    const PER_SESSION: usize = 40;
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let sessions: Vec<uuid::Uuid> = {
        let mut v = Vec::new();
        for _ in 0..SESSIONS {
            v.push(u.session().await);
        }
        v
    };
    // Each command appends its number to a file and prints a line of its
    // own plus a pipeline's result: a command run twice, out of order or
    // with another's output shows in the file or in its stdout.
    let mut ids: Vec<(usize, usize, i64)> = Vec::new();
    for j in 0..PER_SESSION {
        for (i, s) in sessions.iter().enumerate() {
            let line = format!("echo {j} >> log && echo s{i}c{j} && seq 1 {} | wc -l", 100 + j);
            ids.push((i, j, u.client.submit(*s, &line).await.unwrap()));
        }
    }
    let started = Instant::now();
    let mut executors: Vec<crate::support::Agent> =
        (0..3).map(|_| spawn_agent(&db.conninfo, &["executor", "--concurrency", "4"], None)).collect();
    let cleanup = spawn_agent(&db.conninfo, &["cleanup", "--every", "500ms"], None);
    let admin = db.admin().await;
    let pending = || async {
        admin
            .query_one("select count(*) from pgshell.commands where status in ('queued', 'running')", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let (mut kills, mut next) = (0usize, 0usize);
    while pending().await > 0 {
        assert!(started.elapsed() < Duration::from_secs(400), "{} commands still pending", pending().await);
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Kill one while it holds work, and start it again.
        let running: i64 = admin
            .query_one("select count(*) from pgshell.commands where status = 'running'", &[])
            .await
            .unwrap()
            .get(0);
        if running > 0 {
            let victim = &mut executors[next % 3];
            victim.kill().unwrap(); // SIGKILL
            victim.wait().unwrap();
            *victim = spawn_agent(&db.conninfo, &["executor", "--concurrency", "4"], None);
            kills += 1;
            next += 1;
        }
    }
    let took = started.elapsed();
    drop(executors);
    drop(cleanup);
    assert!(kills >= 10, "only {kills} kills happened before the work was done");

    let rows = admin
        .query(
            "select c.id, c.status::text, c.outcome::text, convert_from(c.stdout, 'UTF8'), c.attempt,
                    (select count(*) from pgshell.audit_log a where a.command_id = c.id and a.event = 'command.completed'),
                    c.started_at, c.finished_at, c.session_id, c.seq
             from pgshell.commands c order by c.session_id, c.seq",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), SESSIONS * PER_SESSION);
    let by_id: std::collections::HashMap<i64, &tokio_postgres::Row> = rows.iter().map(|r| (r.get::<_, i64>(0), r)).collect();
    let (mut lost, mut duplicated, mut rerun) = (0, 0, 0);
    for (i, j, id) in &ids {
        let r = by_id[id];
        let (status, outcome, stdout): (String, Option<String>, String) = (r.get(1), r.get(2), r.get(3));
        if outcome.as_deref() == Some("lost") {
            lost += 1;
        }
        if r.get::<_, i64>(5) != 1 {
            duplicated += 1;
        }
        if r.get::<_, i32>(4) > 1 {
            rerun += 1;
        }
        assert_eq!((status.as_str(), outcome.as_deref()), ("done", Some("exited")), "command {id}");
        assert_eq!(stdout, format!("s{i}c{j}\n{}\n", 100 + j), "command {id}: its own output, once");
    }
    assert_eq!((lost, duplicated), (0, 0));
    // Session order: each command started after its predecessor finished.
    for w in rows.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.get::<_, uuid::Uuid>(8) == b.get::<_, uuid::Uuid>(8) {
            let (done, next): (std::time::SystemTime, std::time::SystemTime) = (a.get(7), b.get(6));
            assert!(next >= done, "command {} started before {} finished", b.get::<_, i64>(0), a.get::<_, i64>(0));
        }
    }
    // The file each session appended to holds every number once, in order.
    db.start_executor();
    let want: String = (0..PER_SESSION).map(|j| format!("{j}\n")).collect();
    for s in &sessions {
        assert_eq!(u.run(*s, "cat log").await.stdout(), want);
    }
    assert_eq!(problems(&db).await, Vec::<String>::new(), "the audit log verifies");
    println!(
        "kill test: {} commands in {SESSIONS} sessions, {kills} SIGKILLs and restarts, {rerun} commands re-run, lost = {lost}, duplicated = {duplicated}, {:.1} s",
        ids.len(),
        took.as_secs_f64()
    );
}

fn sigterm(child: &std::process::Child) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

fn exit_within(child: &mut std::process::Child, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s, t.elapsed());
        }
        assert!(t.elapsed() < limit, "still running {limit:?} after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM: an executor stops claiming, lets what runs finish within its
/// grace period, hands back what does not, and exits 0.
#[tokio::test]
async fn sigterm_lets_running_commands_finish_within_the_grace_period_then_hands_back() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let (quick, slow) = (u.session().await, u.session().await);
    db.set_session_limits(slow, serde_json::json!({"timeout_ms": 60000})).await;
    let running = |ids: Vec<i64>| {
        let admin = db.admin();
        async move {
            let admin = admin.await;
            for _ in 0..500 {
                let n: i64 = admin
                    .query_one("select count(*) from pgshell.commands where id = any($1) and status = 'running'", &[&ids])
                    .await
                    .unwrap()
                    .get(0);
                if n == ids.len() as i64 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the commands never ran");
        }
    };
    // Within the grace period: the command finishes and is recorded.
    let mut ex = spawn_agent(&db.conninfo, &["executor", "--grace", "20s"], None);
    let nap = u.client.submit(quick, "sleep 1 && echo rested").await.unwrap();
    running(vec![nap]).await;
    sigterm(&ex);
    let queued_later = u.client.submit(quick, "echo later").await.unwrap();
    let (status, took) = exit_within(&mut ex, Duration::from_secs(15));
    assert!(status.success(), "{status}");
    assert!(took >= Duration::from_millis(500), "exited after {took:?}, before its command finished");
    let c = u.client.command(nap).await.unwrap();
    assert_eq!((c.status.as_str(), c.stdout()), ("done", "rested\n"));
    assert_eq!(u.client.command(queued_later).await.unwrap().status, "queued", "nothing is claimed after SIGTERM");

    // Past the grace period: handed back at once, and run by the next executor.
    let mut ex = spawn_agent(&db.conninfo, &["executor", "--grace", "1s"], None);
    let spin = u.client.submit(slow, "spin").await.unwrap();
    running(vec![spin]).await;
    sigterm(&ex);
    let (status, took) = exit_within(&mut ex, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(5), "grace 1 s, exited after {took:?}");
    let admin = db.admin().await;
    let (state, attempt): (String, i32) = {
        let r = admin.query_one("select status::text, attempt from pgshell.commands where id = $1", &[&spin]).await.unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((state.as_str(), attempt), ("queued", 1), "handed back to the queue");
    let reason: String = admin
        .query_one("select details->>'reason' from pgshell.audit_log where command_id = $1 and event = 'command.released'", &[&spin])
        .await
        .unwrap()
        .get(0);
    assert_eq!(reason, "executor stopped");
    db.start_executor();
    assert_eq!(u.client.wait(queued_later, Duration::from_secs(60)).await.unwrap().stdout(), "later\n");
    db.admin().await.execute("select api.cancel($1)", &[&spin]).await.ok();
    assert_eq!(problems(&db).await, Vec::<String>::new());
}
