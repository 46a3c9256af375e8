//! The execution core: pipelines stream without losing data, redirections
//! write the session's files bounded only by the tree limits, a guest's files
//! never touch the host, and limits hold at the moment of the write.

use std::time::Duration;

use crate::support::TestDb;

#[tokio::test]
async fn pipelines_and_redirections_of_millions_of_lines_lose_nothing() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    // 20.9 MB through a pipe, then into a file: twenty times the terminal's cap.
    let c = u.run(s, "seq 1 3000000 | wc -l").await;
    assert_eq!((c.stdout(), c.exit_code, c.outcome()), ("3000000\n", Some(0), "exited"), "{}", c.stderr());
    let c = u.run(s, "seq 1 3000000 > f; wc -l f").await;
    assert_eq!((c.stdout(), c.exit_code), ("3000000 f\n", Some(0)), "{}", c.stderr());
    let c = u.run(s, "sort -rn < f | head -2").await;
    assert_eq!(c.stdout(), "3000000\n2999999\n", "{}", c.stderr());
    let c = u.run(s, "cat f f | tail -1").await;
    assert_eq!(c.stdout(), "3000000\n");
    // What reaches the terminal is still capped, visibly.
    let c = u.run(s, "cat f").await;
    assert_eq!(c.stdout_truncated, Some(true), "the terminal cap is recorded");
    assert_eq!(c.stdout().len(), 1 << 20);
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn a_writer_whose_reader_left_stops_at_the_same_point_every_time() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "seq 1 100000000 | head -1").await;
    assert_eq!((c.stdout(), c.exit_code, c.stderr()), ("1\n", Some(0), ""));
    let per_stage = |c: &pg_shell::client::CommandView| -> Vec<(i64, u64)> {
        c.trace.as_ref().unwrap().iter().map(|t| (t["exit_code"].as_i64().unwrap(), t["fuel"].as_u64().unwrap())).collect()
    };
    let first = per_stage(&c);
    assert_eq!(first[0].0, 141, "seq is stopped as by SIGPIPE once head has left");
    assert_eq!(first[1].0, 0);
    for _ in 0..19 {
        let again = u.run(s, "seq 1 100000000 | head -1").await;
        assert_eq!(per_stage(&again), first, "the same fuel in every stage, every run");
    }
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
    assert_eq!(r.verified, 20);
}

/// Every file under `dir` (two levels down) whose name is `name`.
fn find(dir: &std::path::Path, name: &str, depth: usize, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_name().to_str() == Some(name) {
            out.push(p.clone());
        }
        if depth > 0 && e.file_type().is_ok_and(|t| t.is_dir()) {
            find(&p, name, depth - 1, out);
        }
    }
}

#[tokio::test]
async fn wasi_commands_never_lay_files_out_on_the_host() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let marker = format!("marker-{}", uuid::Uuid::new_v4());
    assert_eq!(u.run(s, &format!("mkdir d && writefile d/{marker} secret")).await.exit_code, Some(0));
    // While a command of the session runs, its files are nowhere on the host
    // (the old runtime laid the whole tree out under /dev/shm/pg_shell-*).
    let sub = u.client.submit(s, &format!("sleepy 1500; cat d/{marker}")).await.unwrap();
    let mut seen = Vec::new();
    let bases = [std::path::PathBuf::from("/dev/shm"), std::env::temp_dir()];
    let until = std::time::Instant::now() + Duration::from_millis(1200);
    while std::time::Instant::now() < until {
        for b in &bases {
            find(b, &marker, 3, &mut seen);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = u.client.wait(sub, Duration::from_secs(30)).await.unwrap();
    assert_eq!(c.stdout(), "slept 1500\nsecret");
    assert!(seen.is_empty(), "the session's files appeared on the host: {seen:?}");
}

#[cfg(target_os = "linux")]
fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()).unwrap_or(0)
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_guest_writing_past_the_tree_limit_is_stopped_there_and_costs_the_host_nothing_more() {
    let db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let t = u.session().await;
    let tree_bytes: u64 = 16 << 20;
    db.set_session_limits(s, serde_json::json!({"tree_bytes": tree_bytes, "timeout_ms": 20000})).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .arg("executor")
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_CACHE_DIR", crate::support::cache_dir())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Warm up (the programs' compiled code mapped, caches filled), then
    // measure from there.
    let warm = u.run(s, "truncate -s 10 w; bigout 10 > w; split -b 1M w wpart; rm w wpart*; seq 1 10 | wc -l").await;
    assert_eq!(warm.exit_code, Some(0), "{}", warm.stderr());
    let base = rss_kib(pid);
    let hog = u.client.submit(s, "truncate -s 1G huge; bigout 400000000 > big; split -b 1M big part").await.unwrap();
    let other = u.client.submit(t, "seq 1 100000 | wc -l").await.unwrap();
    let mut peak = base;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        peak = peak.max(rss_kib(pid));
        let c = u.client.command(hog).await.unwrap();
        if c.status == "done" || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = u.client.wait(hog, Duration::from_secs(60)).await.unwrap();
    let o = u.client.wait(other, Duration::from_secs(60)).await.unwrap();
    let du = u.run(s, "cat big part* | wc -c").await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(c.stderr().contains("No space left on device") || c.stderr().contains("limit of"), "{}", c.stderr());
    assert!(c.stderr().contains(&format!("limit of {tree_bytes} bytes")), "the refusal is recorded: {}", c.stderr());
    let grew = peak.saturating_sub(base) * 1024;
    println!("executor RSS: {base} KiB before, {peak} KiB at the peak ({} MiB more); tree limit {} MiB", grew >> 20, tree_bytes >> 20);
    // The files a guest may hold, and a bounded margin: large new contents
    // are stored by COPY in 1 MiB chunks, never encoded whole.
    assert!(grew < tree_bytes + (32 << 20), "the executor grew by {grew} bytes");
    assert_eq!((o.stdout(), o.outcome()), ("100000\n", "exited"), "the other session is unaffected");
    // The session goes on, holding at most its limit.
    let total: u64 = du.stdout().trim().parse().unwrap();
    assert!(total <= tree_bytes, "{total}");
}

/// Prints how fast fuel burns on this machine (the `fuel_per_second`
/// calibration): `cargo test --test it core::calibrate -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn calibrate_fuel_per_second() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 4000, "fuel": 0})).await;
    for line in ["spin", "seq 1 100000000 | wc -l"] {
        let started = std::time::Instant::now();
        let c = u.run(s, line).await;
        let took = started.elapsed().as_secs_f64();
        let fuel = c.fuel.unwrap_or(0) as f64;
        println!("{line}: {} after {took:.2} s, {fuel:.3e} fuel: {:.3e} fuel/s", c.outcome(), fuel / took);
    }
}

#[tokio::test]
async fn a_cpu_bound_line_ends_as_a_timeout_near_command_timeout_and_replays_exactly() {
    let mut db = TestDb::new().await;
    let mut config = db.executor_config();
    config.command_timeout = Some(Duration::from_secs(2));
    db.start_executor_with(config);
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for line in ["seq 1 1000000000 | wc -l", "spin", "echo start; spin; echo never"] {
        let started = std::time::Instant::now();
        let c = u.run(s, line).await;
        let took = started.elapsed();
        assert_eq!((c.outcome(), c.exit_code), ("timeout", Some(124)), "{line}: {}", c.stderr());
        assert!(c.stderr().contains("timed out after 2000 ms"), "{line}: {}", c.stderr());
        // Ended by the budget (counted in fuel), not by the wall-clock
        // backstop at four times the limit plus 5 s. (How near the limit it
        // ends in seconds is a benchmark's business: core::calibrate.)
        assert!(took < Duration::from_secs(13), "{line}: {took:?}");
        assert!(!c.stderr().contains("backstop"), "{line}: {}", c.stderr());
    }
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn each_line_records_its_plan_trace_limits_and_budget() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "seq 1 5 | wc -l; cd /; nosuch").await;
    let plan = c.plan.clone().expect("a plan");
    let programs = plan["programs"].as_object().unwrap();
    let digest = pg_shell::env::sha256(pg_shell::bundled::COREUTILS.wasm);
    for name in ["seq", "wc"] {
        assert_eq!(programs[name]["kind"], "wasi", "{plan}");
        assert_eq!(programs[name]["digest"], hex::encode(digest), "{plan}");
    }
    assert_eq!(programs["cd"]["kind"], "builtin");
    assert_eq!(programs["nosuch"]["kind"], "not_found");
    assert_eq!(plan["limits"]["timeout_ms"], 30000);
    let trace = c.trace.clone().expect("a trace");
    let runs: Vec<(u64, u64, &str, i64)> = trace
        .iter()
        .map(|t| (t["part"].as_u64().unwrap(), t["stage"].as_u64().unwrap(), t["program"].as_str().unwrap(), t["exit_code"].as_i64().unwrap()))
        .collect();
    // Program runs in the order they started: (run, stage in its pipeline,
    // program, status); builtins are the shell's work, not runs.
    assert_eq!(runs, [(0, 0, "seq", 0), (1, 1, "wc", 0), (2, 0, "nosuch", 127)]);
    let stage_fuel: u64 = trace.iter().map(|t| t["fuel"].as_u64().unwrap()).sum();
    let line_fuel = c.fuel.unwrap() as u64;
    assert!(stage_fuel > 0 && stage_fuel < line_fuel, "the programs' fuel ({stage_fuel}) plus the shell's own work make the line's ({line_fuel})");
    let budget = c.budget.clone().expect("a budget");
    assert_eq!(budget["by"], "time");
    assert_eq!(budget["fuel"].as_f64().unwrap(), 30.0 * budget["fuel_per_second"].as_f64().unwrap());
    assert_eq!(budget["used_fuel"].as_i64(), c.fuel);
    // The terminal view shows it too.
    let admin = db.admin().await;
    let html: String = admin
        .query_one("select pgshell.ui_command(pgshell.command_json(c), false) from pgshell.commands c where id = $1", &[&c.id])
        .await
        .unwrap()
        .get(0);
    let used_ms = c.fuel.unwrap() as f64 * 1000.0 / budget["fuel_per_second"].as_f64().unwrap();
    assert!(html.contains(&format!("budget {used_ms:.2} ms of 30.0 s")), "{html}");
}

#[tokio::test]
async fn replays_run_the_recorded_plan_and_against_current_shows_what_changed() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    assert_eq!(u.run(s, "seq 1 3 | wc -l").await.stdout(), "3\n");
    assert_eq!(u.run(s, "echo x > f && wc -c f; true").await.stdout(), "2 f\n");
    assert_eq!(u.run(s, "echo unrelated").await.stdout(), "unrelated\n");
    // An operator registers another module under the name `wc`.
    let mut admin = db.admin().await;
    pg_shell::db::register_wasi(&mut admin, pg_shell::bundled::FIXTURES.wasm, &["wc"], "not wc").await.unwrap();
    assert_ne!(u.run(s, "seq 1 3 | wc -l").await.stdout(), "3\n", "today's wc is another program");
    // A replay runs what ran then, pipelines and lists included.
    let r = db.replay(s, true).await;
    assert_eq!((r.verdict, r.verified, r.diverged), ("verified", 4, 0), "{:?}", r.first_divergence);
    // Against today's registrations, the lines that use wc change.
    let ex = pg_shell::executor::Executor::new(db.executor_config()).unwrap();
    let client = pg_shell::db::connect_plain(&db.conninfo).await.unwrap();
    let opts = pg_shell::replay::ReplayOptions { keep_going: true, against_current: true, ..Default::default() };
    let r = pg_shell::replay::replay_session(&ex, &client, s, &opts).await.unwrap();
    let verdicts: Vec<(&str, &str)> = r.results.iter().map(|v| (v.line.as_str(), v.verdict)).collect();
    assert_eq!(
        verdicts,
        [
            ("seq 1 3 | wc -l", "diverged"),
            ("echo x > f && wc -c f; true", "diverged"),
            ("echo unrelated", "verified"),
            ("seq 1 3 | wc -l", "verified"),
        ]
    );
}

/// Prints how a CPU-bound line ends under COMMAND_TIMEOUT=2 and =10 (the
/// figures in the closing note):
/// `cargo test --test it core::cpu_bound_figures -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn cpu_bound_figures() {
    for secs in [2u64, 10] {
        let mut db = TestDb::new().await;
        let mut config = db.executor_config();
        config.command_timeout = Some(Duration::from_secs(secs));
        db.start_executor_with(config);
        let mut u = db.user("alice").await;
        let s = u.session().await;
        let started = std::time::Instant::now();
        let c = u.run(s, "seq 1 1000000000 | wc -l").await;
        let took = started.elapsed();
        let r = db.replay(s, false).await;
        println!(
            "COMMAND_TIMEOUT={secs}: {} (exit {:?}) after {:.2} s, fuel {:?}; replay {}",
            c.outcome(),
            c.exit_code,
            took.as_secs_f64(),
            c.fuel,
            r.verdict
        );
    }
}
