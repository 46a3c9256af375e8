//! Bad input and bad luck: each gets a clear, recorded answer and loses nothing.

use pg_shell::pgcluster;

use crate::support::TestDb;

#[tokio::test]
async fn unbalanced_quotes_are_rejected_with_the_parsers_message() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    // `cat <<'' ` (an empty here-document tag, then a blank) once made the
    // parser allocate without end until the executor was OOM-killed.
    for line in ["echo 'open", "echo \"open", "echo ${X", "cat <<'' ", "cat <<\"\"&${"] {
        let c = u.run(s, line).await;
        assert_eq!((c.outcome(), c.exit_code), ("rejected", Some(2)), "{line}");
        assert!(c.stderr().contains("syntax error"), "{line}: {}", c.stderr());
    }
    let c = u.run(s, "sleepy 10 &").await;
    assert_eq!(c.outcome(), "rejected");
    assert!(c.stderr().contains("not supported"), "{}", c.stderr());
    let c = u.run(s, "ls ;; ls").await;
    assert_eq!((c.outcome(), c.exit_code), ("rejected", Some(2)));
    let c = u.run(s, "ls | | wc").await;
    assert_eq!((c.outcome(), c.exit_code), ("rejected", Some(2)));
    assert_eq!(u.run(s, "echo fine").await.stdout(), "fine\n");
    // An empty tag with a body is fine: the body ends at the first empty line.
    assert_eq!(u.run(s, "cat <<''\nbody\n\n").await.stdout(), "body\n");
}

#[tokio::test]
async fn unknown_programs_and_host_paths_are_not_found() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for line in ["nosuchprogram", "/bin/ls", "./spin", "../bin/sh"] {
        let c = u.run(s, line).await;
        assert_eq!((c.outcome(), c.exit_code), ("not_found", Some(127)), "{line}");
        assert!(c.stderr().contains("command not found"), "{}", c.stderr());
    }
    let admin = db.admin().await;
    admin.execute("update pgshell.programs set enabled = false where name = 'cat'", &[]).await.unwrap();
    let c = u.run(s, "cat x").await;
    assert_eq!(c.outcome(), "not_found");
    assert!(c.stderr().contains("disabled"));
}

#[tokio::test]
async fn nul_bytes_and_oversized_lines_get_clear_errors() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let e = u.client.submit(s, "echo a\0b").await.unwrap_err();
    assert!(format!("{e:#}").contains("NUL"), "{e:#}");
    // Straight to SQL, PostgreSQL itself refuses the NUL before the API sees it.
    let raw = u.client.raw().query_one("select api.submit($1, $2)", &[&s, &"a\0b"]).await;
    assert!(raw.is_err());

    let long = format!("echo {}", "x".repeat(70_000));
    let e = u.client.submit(s, &long).await.unwrap_err();
    assert!(format!("{e:#}").contains("too long") && format!("{e:#}").contains("22001"), "{e:#}");
    let admin = db.admin().await;
    admin.execute("update pgshell.settings set value = '100000' where name = 'max_line_bytes'", &[]).await.unwrap();
    let c = u.run(s, &long).await;
    assert_eq!(c.stdout().len(), 70_001, "a raised limit lets it through");
    assert_eq!(u.run(s, "echo ok").await.stdout(), "ok\n");
}

#[tokio::test]
async fn invalid_utf8_output_is_shown_replaced_and_stored_exactly() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "badutf8").await;
    assert_eq!(c.stdout(), "ok \u{FFFD}\u{FFFD} bad\n");
    let admin = db.admin().await;
    let raw: Vec<u8> = admin.query_one("select stdout from pgshell.commands where id = $1", &[&c.id]).await.unwrap().get(0);
    assert_eq!(raw, b"ok \xff\xfe bad\n");
    let json: serde_json::Value = u.client.raw().query_one("select api.command($1)", &[&c.id]).await.unwrap().get(0);
    assert_eq!(json["stdout_utf8"], false);
}

#[tokio::test]
async fn nul_bytes_in_output_are_stored_exactly_and_shown_replaced() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    // Text cannot hold NUL in PostgreSQL (nor in jsonb): the raw bytes are
    // stored, the text shown has U+FFFD in its place; valid and invalid UTF-8.
    for (line, raw, shown) in [
        ("printf 'a\\000b\\n'", &b"a\0b\n"[..], "a\u{FFFD}b\n"),
        ("printf 'a\\000\\377\\n'", &b"a\0\xff\n"[..], "a\u{FFFD}\u{FFFD}\n"),
    ] {
        let c = u.run(s, line).await;
        assert_eq!((c.outcome(), c.exit_code), ("exited", Some(0)), "{line}: {}", c.stderr());
        assert_eq!(c.stdout(), shown, "{line}");
        let admin = db.admin().await;
        let stored: Vec<u8> = admin.query_one("select stdout from pgshell.commands where id = $1", &[&c.id]).await.unwrap().get(0);
        assert_eq!(stored, raw, "{line}");
    }
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn native_programs_run_confined_with_a_timeout() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let admin = db.admin().await;
    pg_shell::db::register_native(&admin, "necho", "/bin/echo").await.unwrap();
    pg_shell::db::register_native(&admin, "nsleep", "/bin/sleep").await.unwrap();
    pg_shell::db::register_native(&admin, "nenv", "/usr/bin/env").await.unwrap();
    pg_shell::db::register_native(&admin, "npwd", "/bin/pwd").await.unwrap();
    assert_eq!(u.run(s, "necho native $USER").await.stdout(), "native alice\n");
    let env = u.run(s, "nenv").await;
    let mut keys: Vec<&str> = env.stdout().lines().map(|l| l.split('=').next().unwrap()).collect();
    keys.sort();
    // Built from allow-lists (README "Native programs"): the session's
    // harmless variables, a fixed PATH, and PWD/HOME/TMPDIR as it sees them.
    assert_eq!(keys, ["HOME", "LANG", "LOGNAME", "PATH", "PWD", "TMPDIR", "USER"], "{}", env.stdout());
    u.run(s, "mkdir d").await;
    u.run(s, "cd d").await;
    assert!(u.run(s, "npwd").await.stdout().trim_end().ends_with("/d"));
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 300})).await;
    let started = std::time::Instant::now();
    let c = u.run(s, "nsleep 30").await;
    assert_eq!((c.outcome(), c.exit_code), ("timeout", Some(124)));
    assert!(started.elapsed().as_secs() < 10, "the process group was killed");
    assert_eq!(c.program_kind.as_deref(), Some("native"));
}

#[tokio::test]
async fn a_restarted_database_loses_nothing() {
    // A cluster of its own: restarting the shared one would disturb other tests.
    let cluster = pgcluster::throwaway().unwrap();
    let conninfo = cluster.connection_string("postgres");
    let mut client = pg_shell::db::connect_plain(&conninfo).await.unwrap();
    pg_shell::db::migrate(&mut client).await.unwrap();
    pg_shell::db::register_bundled(&mut client, false).await.unwrap();
    pg_shell::db::upsert_user(&client, "alice", "user", None).await.unwrap();
    drop(client);
    let mut config = pg_shell::executor::ExecutorConfig::new(conninfo.clone());
    config.cache_dir = Some(crate::support::cache_dir());
    config.poll_interval = std::time::Duration::from_millis(300);
    let ex = pg_shell::cli::InProcessExecutor::start(config).unwrap();
    let mut u = pg_shell::client::ShellClient::connect(&conninfo, "alice").await.unwrap();
    let s = u.create_session(None).await.unwrap();
    assert_eq!(u.run(s, "echo before").await.unwrap().stdout(), "before\n");

    let root = cluster.root().to_path_buf();
    let opts = pgcluster::ClusterOptions { root, fsync: false, install_if_missing: false, extra_settings: vec![] };
    // Keep the throwaway handle alive: dropping it deletes the cluster.
    let (_cluster, _restarted) = tokio::task::spawn_blocking(move || {
        cluster.stop(false).unwrap();
        let again = pgcluster::Cluster::start(opts).unwrap();
        (cluster, again)
    })
    .await
    .unwrap();

    // The executor reconnects by itself; a new client is needed for the test.
    let mut u = pg_shell::client::ShellClient::connect(&conninfo, "alice").await.unwrap();
    let c = u.run(s, "echo after").await.unwrap();
    assert_eq!(c.stdout(), "after\n");
    assert_eq!(u.history(s).await.unwrap().len(), 2);
    ex.stop().await.unwrap();
}

#[tokio::test]
async fn a_killed_executor_process_loses_nothing() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 2000})).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .arg("executor")
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_LEASE", "600") // recovery must not wait for the lease
        .env("PG_SHELL_CACHE_DIR", crate::support::cache_dir())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let spin = u.client.submit(s, "spin").await.unwrap();
    let after = u.client.submit(s, "echo after").await.unwrap();
    let mut running = false;
    for _ in 0..500 {
        if u.client.command(spin).await.unwrap().status == "running" {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(running, "the child executor claimed the command");
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();

    db.start_executor();
    let c = u.client.wait(spin, std::time::Duration::from_secs(60)).await.unwrap();
    assert_eq!((c.outcome(), c.attempt), ("timeout", 2));
    assert_eq!(u.client.wait(after, std::time::Duration::from_secs(60)).await.unwrap().stdout(), "after\n");
    let admin = db.admin().await;
    let events: Vec<String> = admin
        .query("select event from pgshell.audit_log where command_id = $1 order by id", &[&spin])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(events, ["command.submitted", "command.claimed", "command.released", "command.rescued", "command.completed"]);
}

#[tokio::test]
async fn hostile_file_names_round_trip_and_replay() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let long = "x".repeat(200);
    let names = ["with space", "new\nline", "quote'\"", "ünïcödé-文件", "-dash", "back\\slash", "tab\tname", "...", ".hidden", &long];
    for (i, name) in names.iter().enumerate() {
        let q = shell_words::quote(name);
        let w = u.run(s, &format!("writefile {q} content{i}")).await;
        assert_eq!(w.exit_code, Some(0), "{name:?}: {}", w.stderr());
        let c = u.run(s, &format!("cat -- {q}")).await;
        assert_eq!(c.stdout(), format!("content{i}"), "{name:?}");
    }
    let ls = u.run(s, "ls -A").await;
    assert_eq!(ls.exit_code, Some(0));
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn a_tree_over_its_limits_is_refused_and_the_session_goes_on() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, serde_json::json!({"tree_files": 20, "tree_bytes": 1000})).await;
    // A write past the byte limit fails in the guest at the limit: the file
    // holds exactly what fitted, the refusal is in the record.
    let big = u.run(s, "bigout 5000 > big").await;
    assert_eq!(big.exit_code, Some(3), "bigout exits 3 on a failed write: {}", big.stderr());
    assert!(big.stderr().contains("limit of 1000 bytes"), "{}", big.stderr());
    assert_eq!(u.run(s, "wc -c big").await.stdout(), "1000 big\n");
    assert_eq!(u.run(s, "rm big").await.exit_code, Some(0));
    // Creating more files than allowed fails for the ones past the limit;
    // the command goes on and what fitted is kept.
    let many: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    let c = u.run(s, &format!("touch {}", many.join(" "))).await;
    assert_eq!(c.exit_code, Some(1));
    assert!(c.stderr().contains("f20") && c.stderr().contains("limit of 20 files"), "{}", c.stderr());
    assert_eq!(u.run(s, "ls | wc -l").await.stdout(), "20\n");
    assert_eq!(u.run(s, "touch f29").await.exit_code, Some(1));
    assert_eq!(u.run(s, "rm f0 && touch small").await.exit_code, Some(0));
    assert!(u.run(s, "ls").await.stdout().contains("small\n"));
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

/// PostgreSQL stopped in immediate mode under a running gateway, executor,
/// cleanup agent and monitor: while it is down the gateway answers 503 at
/// once (no hang); when it is back, all of them carry on by themselves.
/// (The throwaway cluster commits asynchronously, so the crash may also
/// forget the last completion it acknowledged: the command is `running`
/// again under an executor that finished it, which hands it back (0017).)
#[tokio::test]
async fn the_gateway_cleanup_and_monitor_outlive_a_database_restart() {
    use std::time::{Duration, Instant};
    let cluster = pgcluster::throwaway().unwrap();
    let conninfo = cluster.connection_string("postgres");
    let mut client = pg_shell::db::connect_plain(&conninfo).await.unwrap();
    pg_shell::db::migrate(&mut client).await.unwrap();
    pg_shell::db::register_bundled(&mut client, false).await.unwrap();
    pg_shell::db::upsert_user(&client, "alice", "user", Some("a-good-password")).await.unwrap();
    drop(client);
    let mut config = pg_shell::executor::ExecutorConfig::new(conninfo.clone());
    config.cache_dir = Some(crate::support::cache_dir());
    config.poll_interval = Duration::from_millis(300);
    let ex = pg_shell::cli::InProcessExecutor::start(config).unwrap();
    let gw = pg_shell::gateway::Gateway::bind(
        pg_shell::gateway::GatewayConfig::new(conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let base = format!("http://{}", gw.local_addr());
    tokio::spawn(gw.run(std::future::pending()));
    let dir = tempfile::tempdir().unwrap();
    let (csv, cleanup_out) = (dir.path().join("metrics.csv"), dir.path().join("cleanup.out"));
    let agent = |args: &[&str], out: &std::path::Path| {
        crate::support::Agent(std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
            .args(args)
            .env("DATABASE_URL", &conninfo)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(out).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap())
    };
    let mut monitor = agent(&["monitor", "--every", "300ms", "--csv", csv.to_str().unwrap()], &dir.path().join("monitor.out"));
    let mut cleanup = agent(&["cleanup", "--every", "300ms"], &cleanup_out);
    let lines = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default().lines().count();
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    let login = |http: reqwest::Client, base: String| async move {
        http.post(format!("{base}/rpc/login"))
            .json(&serde_json::json!({"username": "alice", "password": "a-good-password"}))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    assert_eq!(login(http.clone(), base.clone()).await.status(), 200);
    let mut u = pg_shell::client::ShellClient::connect(&conninfo, "alice").await.unwrap();
    let s = u.create_session(None).await.unwrap();
    assert_eq!(u.run(s, "echo before").await.unwrap().stdout(), "before\n");
    // (Waits yield: the executor and the gateway run on this test's runtime.)
    async fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
        let t = Instant::now();
        while !ok() {
            assert!(t.elapsed() < Duration::from_secs(20), "{what} did not happen within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    wait_for("monitor rows", || lines(&csv) > 1).await;
    wait_for("cleanup passes", || lines(&cleanup_out) > 1).await;

    eprintln!("restart test: stopping the database");
    let root = cluster.root().to_path_buf();
    // Keep the throwaway handle alive: dropping it deletes the cluster.
    let _cluster = tokio::task::spawn_blocking(move || {
        cluster.stop(true).unwrap(); // immediate mode
        cluster
    })
    .await
    .unwrap();
    // Down: 503 at once, for readiness and for API calls.
    for path in ["/readyz", "/rpc/login"] {
        let t = Instant::now();
        let r = if path == "/readyz" { http.get(format!("{base}{path}")).send().await.unwrap() } else { login(http.clone(), base.clone()).await };
        assert_eq!(r.status(), 503, "{path} while the database is down");
        assert!(t.elapsed() < Duration::from_secs(5), "{path} took {:?} to answer", t.elapsed());
    }
    eprintln!("restart test: 503 while down");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(monitor.try_wait().unwrap().is_none(), "the monitor outlives the outage");
    assert!(cleanup.try_wait().unwrap().is_none(), "the cleanup agent outlives the outage");
    let (rows_down, passes_down) = (lines(&csv), lines(&cleanup_out));

    let opts = pgcluster::ClusterOptions { root, fsync: false, install_if_missing: false, extra_settings: vec![] };
    let _again = tokio::task::spawn_blocking(move || pgcluster::Cluster::start(opts).unwrap()).await.unwrap();
    eprintln!("restart test: started again");
    let t = Instant::now();
    loop {
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "the gateway is not ready again: {}", r.text().await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(login(http.clone(), base.clone()).await.status(), 200, "API calls work again");
    eprintln!("restart test: ready again");
    let mut u = pg_shell::client::ShellClient::connect(&conninfo, "alice").await.unwrap();
    let id = u.submit(s, "echo after").await.unwrap();
    let done = match u.wait(id, Duration::from_secs(60)).await {
        Ok(c) => c,
        Err(e) => {
            let c = pg_shell::db::connect_plain(&conninfo).await.unwrap();
            for r in c.query("select coalesce(application_name, ''), coalesce(state, ''), coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(query, 100) from pg_stat_activity where backend_type = 'client backend'", &[]).await.unwrap() {
                eprintln!("activity: {:?} {:?} {:?} {:?} {:?}", r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2), r.get::<_, String>(3), r.get::<_, Option<String>>(4));
            }
            for r in c.query("select format('%s seq %s %s by %s lease %s', id, seq, status, claimed_by, lease_expires_at) from pgshell.commands order by id", &[]).await.unwrap() {
                eprintln!("command: {}", r.get::<_, String>(0));
            }
            for r in c.query("select id, stopped_at is not null, coalesce(heartbeat_at::text, '') from pgshell.executors", &[]).await.unwrap() {
                eprintln!("executor: {:?} stopped={:?} beat={:?}", r.get::<_, String>(0), r.get::<_, bool>(1), r.get::<_, String>(2));
            }
            panic!("{e:#}");
        }
    };
    assert_eq!(done.stdout(), "after\n");
    wait_for("monitor rows after the restart", || lines(&csv) > rows_down).await;
    wait_for("cleanup passes after the restart", || lines(&cleanup_out) > passes_down).await;
    // SIGTERM: both stop cleanly.
    for (name, child) in [("monitor", &mut monitor), ("cleanup", &mut cleanup)] {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let t = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{name} ignores SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "{name} exits 0 on SIGTERM: {status}");
    }
    ex.stop().await.unwrap();
}

/// A host that cannot start another thread (here: an address-space limit
/// that 256 MiB stacks exhaust; elsewhere a container's thread limit) fails
/// the line with that as its recorded error: the stages that started end,
/// nothing waits forever, and the executor goes on. It once panicked there,
/// and the pipeline's other stages waited for a baton that never came.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_host_out_of_threads_fails_the_line_not_the_executor() {
    use std::os::unix::process::CommandExt;
    let db = TestDb::new().await;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"));
    cmd.arg("executor")
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_CONCURRENCY", "1")
        .env("PG_SHELL_HOME", crate::support::cache_dir().join("rlimit-home"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null());
    // 6 GiB of address space: the executor needs about 1.3 GiB, a line's
    // thread and each pipeline stage reserve 256 MiB of stack.
    // SAFETY: between fork and exec the hook only calls setrlimit(2), which
    // is async-signal-safe, and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: 6 << 30, rlim_max: 6 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut exec = crate::fuzz::Proc::spawn("executor", cmd);
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "echo before").await;
    assert_eq!(c.stdout(), "before\n", "{c:?}\n{}", exec.log());
    let line = vec!["echo x"; 60].join(" | ");
    let c = u.run(s, &line).await;
    assert_eq!(c.outcome(), "error", "{c:?}\nexecutor log:\n{}", exec.log());
    assert!(c.stderr().contains("could not start pipeline stage"), "{c:?}");
    assert!(c.error.as_deref().is_some_and(|e| e.contains("could not start pipeline stage")), "{:?}", c.error);
    assert_eq!(u.run(s, "echo after").await.stdout(), "after\n");
    exec.assert_alive_and_sane();
}
