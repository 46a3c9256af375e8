//! The WASI sandbox: limits, isolation from the host, determinism.

use serde_json::json;

use crate::support::TestDb;

#[tokio::test]
async fn fuel_exhaustion_is_a_recorded_outcome() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"fuel": 50_000_000})).await;
    let c = u.run(s, "spin").await;
    assert_eq!((c.outcome(), c.exit_code), ("fuel_exhausted", Some(152)));
    assert_eq!(c.fuel, Some(50_000_000));
    assert!(c.stderr().contains("fuel"), "{}", c.stderr());
    // The session goes on.
    assert_eq!(u.run(s, "echo after").await.stdout(), "after\n");
}

#[tokio::test]
async fn wall_clock_timeout_stops_a_runaway_guest() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 300})).await;
    let started = std::time::Instant::now();
    let c = u.run(s, "spin").await;
    assert_eq!((c.outcome(), c.exit_code), ("timeout", Some(124)));
    assert!(started.elapsed().as_secs() < 20);
}

#[tokio::test]
async fn command_timeout_of_the_executor_caps_the_limit() {
    let mut db = TestDb::new().await;
    let mut config = db.executor_config();
    config.command_timeout = Some(std::time::Duration::from_millis(200));
    db.start_executor_with(config);
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "spin").await;
    assert_eq!(c.outcome(), "timeout");
    let admin = db.admin().await;
    let limits: serde_json::Value =
        admin.query_one("select limits from pgshell.commands where id = $1", &[&c.id]).await.unwrap().get(0);
    assert_eq!(limits["timeout_ms"], 200);
}

#[tokio::test]
async fn a_sleep_waits_live_counts_against_the_budget_and_replays_without_waiting() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 3000})).await;
    // A live sleep really waits, and the guest's clock moves by exactly that much.
    let started = std::time::Instant::now();
    let c = u.run(s, "clockrand; sleepy 1200; clockrand").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(1200), "{:?}", started.elapsed());
    assert!(c.stdout().contains("slept 1200\n"), "{}", c.stdout());
    let walls: Vec<i64> = c.stdout().lines().filter_map(|l| l.strip_prefix("wall=")).map(|w| w.parse().unwrap()).collect();
    assert!(walls[1] - walls[0] >= 1_200_000_000 && walls[1] - walls[0] < 1_250_000_000, "{walls:?}");
    // A sleep longer than the budget ends as a timeout when the budget is spent.
    let started = std::time::Instant::now();
    let t = u.run(s, "sleepy 100000").await;
    let took = started.elapsed();
    assert_eq!((t.outcome(), t.exit_code), ("timeout", Some(124)), "{}", t.stderr());
    assert!(took >= std::time::Duration::from_millis(3000) && took < std::time::Duration::from_secs(10), "{took:?}");
    // A replay never waits, and gets the same outcome, bytes and fuel.
    let started = std::time::Instant::now();
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
    assert!(started.elapsed() < std::time::Duration::from_millis(3000), "replay waited: {:?}", started.elapsed());
}

#[tokio::test]
async fn the_memory_cap_is_a_recorded_outcome() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"memory_bytes": 32 << 20})).await;
    let c = u.run(s, "memhog 100").await;
    assert_eq!((c.outcome(), c.exit_code), ("memory_limit", Some(137)), "{}", c.stderr());
    assert!(c.stdout().contains("allocated 1 MiB"), "output before the failure is kept: {}", c.stdout());
    let ok = u.run(s, "memhog 8").await;
    assert_eq!(ok.outcome(), "exited");
}

#[tokio::test]
async fn output_beyond_the_cap_is_dropped_and_recorded() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"stdout_bytes": 1000, "stderr_bytes": 10})).await;
    let c = u.run(s, "bigout 100000").await;
    assert_eq!((c.outcome(), c.exit_code), ("exited", Some(0)), "the guest is never failed by the cap");
    assert_eq!(c.stdout().len(), 1000);
    assert!(c.stdout().starts_with("0123456789abcdef0123"));
    assert_eq!(c.stdout_truncated, Some(true));
    assert_eq!(c.stderr_truncated, Some(false));
    let e = u.run(s, "bigout 50 err").await;
    assert_eq!((e.stderr().len(), e.stderr_truncated), (10, Some(true)));
}

#[tokio::test]
async fn exit_codes_pass_through_including_126_and_above() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for code in [0, 1, 42, 126, 127, 255] {
        let c = u.run(s, &format!("exitwith {code}")).await;
        assert_eq!((c.outcome(), c.exit_code), ("exited", Some(code)));
    }
    let t = u.run(s, "unreachable").await;
    assert_eq!((t.outcome(), t.exit_code), ("trap", Some(134)));
    assert!(t.stderr().contains("unreachable"), "{}", t.stderr());
}

#[tokio::test]
async fn the_guest_sees_nothing_of_the_host() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "mkdir -p a/b").await;
    u.run(s, "cd a/b").await;
    for line in ["cat /etc/passwd", "cat ../../etc/passwd", "cat ../../../../../../etc/passwd", "readfile /proc/self/environ"] {
        let c = u.run(s, line).await;
        assert_ne!(c.exit_code, Some(0), "{line}: {}", c.stdout());
        assert!(!c.stdout().contains("root:"), "{line} leaked the host: {}", c.stdout());
    }
    // Symlinks pointing out of the tree lead nowhere: one made by a guest
    // (WASI may refuse to create it at all) ...
    u.run(s, "mksymlink /etc/passwd p").await;
    let c = u.run(s, "cat /p").await;
    assert_ne!(c.exit_code, Some(0));
    assert!(!c.stdout().contains("root:"));
    assert_eq!(u.run(s, "mksymlink ../../../../../.. up").await.exit_code, Some(0));
    let c = u.run(s, "ls /up/etc").await;
    assert_ne!(c.exit_code, Some(0), "{}", c.stdout());
    // ... and one that a native program put into the recorded tree.
    let admin = db.admin().await;
    pg_shell::db::register_native(&admin, "nln", "/bin/ln").await.unwrap();
    assert_eq!(u.run(s, "nln -s /etc/passwd host-passwd").await.exit_code, Some(0));
    let c = u.run(s, "cat host-passwd").await;
    assert_ne!(c.exit_code, Some(0), "{}", c.stdout());
    assert!(!c.stdout().contains("root:"));
    // The root holds only the session's files.
    assert_eq!(u.run(s, "ls-root").await.stdout(), "a\nup\n");
}

#[tokio::test]
async fn clocks_and_randomness_come_from_the_record() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "clockrand").await;
    let admin = db.admin().await;
    let row = admin
        .query_one("select clock_base_ns, encode(random_seed, 'hex') from pgshell.commands where id = $1", &[&c.id])
        .await
        .unwrap();
    let base: i64 = row.get(0);
    let wall: i64 = c.stdout().lines().next().unwrap().strip_prefix("wall=").unwrap().parse().unwrap();
    assert!(wall > base && wall - base < 1_000_000, "wall clock {wall} derives from the recorded {base}");
    // Two commands differ in their random values (different recorded seeds).
    let d = u.run(s, "clockrand").await;
    let rand = |o: &str| o.lines().find(|l| l.starts_with("random=")).unwrap().to_string();
    assert_ne!(rand(c.stdout()), rand(d.stdout()));
}

#[tokio::test]
async fn rerunning_from_the_record_gives_identical_results() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let mut ids = Vec::new();
    for line in ["writefile a 'alpha\nbeta\n'", "mkdir d", "touch d/x", "clockrand", "ls -l", "sort a", "date", "sha256sum a", "wc a", "cd d", "ls -la", "ls -lai /", "touch /a", "ls -l --full-time /"] {
        let c = u.run(s, line).await;
        assert_eq!(c.outcome(), "exited", "{line}: {}", c.stderr());
        ids.push(c.id);
    }
    let ex = pg_shell::executor::Executor::new(db.executor_config()).unwrap();
    let admin = db.admin().await;
    for id in ids {
        let r = ex.rerun(id).await.unwrap();
        let row = admin
            .query_one("select stdout, stderr, exit_code, fuel_consumed, env_after from pgshell.commands where id = $1", &[&id])
            .await
            .unwrap();
        let (so, se): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
        assert_eq!(r.out.stdout, so, "stdout of command {id}");
        assert_eq!(r.out.stderr, se, "stderr of command {id}");
        assert_eq!(Some(r.out.exit_code), row.get::<_, Option<i32>>(2));
        assert_eq!(r.out.fuel.map(|f| f as i64), row.get::<_, Option<i64>>(3), "fuel of command {id}");
        assert_eq!(r.env_after.to_vec(), row.get::<_, Vec<u8>>(4), "environment after command {id}");
    }
}

#[tokio::test]
async fn file_metadata_seen_by_the_guest_is_virtual() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "mkdir d").await;
    let t = u.run(s, "touch d/f").await;
    let c = u.run(s, "ls -l --full-time d").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    // (uutils' ls cannot show inode numbers under WASI; the rerun test covers
    // `ls -lai`, whose output would differ run to run if host inodes leaked.)
    // The file's time is the virtual clock of the command that touched it:
    // its recorded start plus the (deterministic) time its work took.
    let admin = db.admin().await;
    let base: i64 = admin.query_one("select clock_base_ns from pgshell.commands where id = $1", &[&t.id]).await.unwrap().get(0);
    let line = c.stdout().lines().find(|l| l.ends_with(" f")).unwrap().to_string();
    let shown = line.split_whitespace().nth(6).unwrap(); // HH:MM:SS.nnnnnnnnn
    let (hms, frac) = shown.split_once('.').unwrap();
    let secs_of_day: i64 = hms.split(':').map(|x| x.parse::<i64>().unwrap()).fold(0, |a, x| a * 60 + x);
    let mtime = (base / 86_400_000_000_000) * 86_400_000_000_000 + secs_of_day * 1_000_000_000 + frac.parse::<i64>().unwrap();
    assert!(mtime > base && mtime - base < 1_000_000_000, "mtime {mtime} vs recorded start {base}: {line}");
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn times_a_guest_sets_are_kept_and_replay() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let t = u.run(s, "touch -d 2001-02-03T04:05:06Z old").await;
    assert_eq!(t.exit_code, Some(0), "{}", t.stderr());
    let c = u.run(s, "ls -l --full-time old").await;
    assert!(c.stdout().contains("2001-02-03 04:05:06"), "{}", c.stdout());
    u.run(s, "touch -m -d 2010-01-01T00:00:00Z old").await;
    assert!(u.run(s, "ls -l --full-time old").await.stdout().contains("2010-01-01 00:00:00"));
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn top_level_directories_named_as_arguments_are_also_preopened_by_name() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "mkdir fs-tests.dir b c").await;
    u.run(s, "touch plainfile").await;
    // Only "/" unless an argument names a top-level directory, as
    // `wasmtime --dir fs-tests.dir prog fs-tests.dir` would give.
    assert_eq!(u.run(s, "preopens").await.stdout(), "3 /\n");
    let c = u.run(s, "preopens fs-tests.dir/ /b plainfile missing c/x . ..").await;
    assert_eq!(c.stdout(), "3 /\n4 fs-tests.dir\n5 b\n");
    // Through either preopen, the same files.
    u.run(s, "writefile fs-tests.dir/x via-name").await;
    assert_eq!(u.run(s, "cat /fs-tests.dir/x").await.stdout(), "via-name");
}

#[tokio::test]
async fn records_made_with_every_top_level_directory_preopened_replay_as_they_ran() {
    // Records from before named preopens by argument have no
    // `named_preopens` in their limits; they ran with one preopen per
    // top-level directory, which changes what a guest sees and its fuel.
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let old = u.session().await;
    db.set_session_limits(old, serde_json::json!({"named_preopens": "all"})).await;
    u.run(old, "mkdir d e && touch f").await;
    let c = u.run(old, "preopens").await;
    assert_eq!(c.stdout(), "3 /\n4 d\n5 e\n");
    let admin = db.admin().await;
    let n = admin
        .execute("update pgshell.commands set limits = limits - 'named_preopens' where session_id = $1 and limits ? 'named_preopens'", &[&old])
        .await
        .unwrap();
    assert!(n >= 2, "the limits were recorded with the choice ({n} rows)");
    let r = db.replay(old, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
    let fresh = u.session().await;
    u.run(fresh, "mkdir d e").await;
    assert_eq!(u.run(fresh, "preopens").await.stdout(), "3 /\n", "live commands name only what their arguments name");
}
