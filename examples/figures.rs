//! Prints pg_shell's headline figures on this machine:
//!   1. submit-to-result latency of `echo hi` (median, p90, p99 over N runs),
//!   2. throughput of `echo hi` across sessions (commands/s),
//!   3. replay throughput (commands re-executed and verified per second),
//!   4. `audit verify` time for an audit log of 100,000 rows.
//!
//! Run: `cargo run --example figures` (add `-- 200` for a quicker pass).
//! Uses a throwaway PostgreSQL with fsync on, as a real deployment would.

use std::time::{Duration, Instant};

use pg_shell::cli::InProcessExecutor;
use pg_shell::client::ShellClient;
use pg_shell::executor::{Executor, ExecutorConfig};

mod common;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let common::Bench { cluster, conninfo, admin } = common::bench_database(true, None).await?;
    let mut config = ExecutorConfig::new(conninfo.clone());
    config.concurrency = 4;
    let ex = InProcessExecutor::start(config.clone())?;
    println!("machine: {} cores; PostgreSQL with fsync on; debug build of pg_shell, optimized dependencies", std::thread::available_parallelism()?.get());

    // 1. Latency, one command at a time.
    let mut c = ShellClient::connect(&conninfo, "bench").await?;
    let s = c.create_session(Some("latency")).await?;
    c.run(s, "echo warm").await?; // compiles or loads the module once
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = c.run(s, "echo hi").await?;
        lat.push(t.elapsed());
        anyhow::ensure!(r.stdout() == "hi\n", "unexpected result: {r:?}");
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize];
    println!(
        "echo hi, submit to result over {n} runs: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        ms(pct(0.5)),
        ms(pct(0.9)),
        ms(pct(0.99))
    );

    // 1b. The same in a session holding 9,000 files in one directory: the
    // virtual filesystem touches only what a command uses, so the cost
    // should not grow with the tree. Claim-to-completion comes from the
    // record (started_at .. finished_at).
    let big = c.create_session(Some("9000 files")).await?;
    let made = c.run(big, "seq 1 9000 > list; split -l 1 -a 4 list f; rm list; ls | wc -l").await?;
    anyhow::ensure!(made.stdout() == "9000\n", "could not make 9,000 files: {made:?}");
    let empty = c.create_session(Some("empty")).await?;
    for (label, session) in [("empty session", empty), ("9,000-file session", big)] {
        c.run(session, "echo warm").await?;
        let mut ids = Vec::with_capacity(n);
        let mut lat = Vec::with_capacity(n);
        for _ in 0..n.min(300) {
            let t = Instant::now();
            let r = c.run(session, "echo hi").await?;
            lat.push(t.elapsed());
            ids.push(r.id);
        }
        lat.sort();
        let rows = admin
            .query(
                "select (extract(epoch from finished_at - started_at) * 1000)::float8 from pgshell.commands where id = any($1) order by 1",
                &[&ids],
            )
            .await?;
        let run: Vec<f64> = rows.iter().map(|r| r.get::<_, Option<f64>>(0).unwrap_or(0.0)).collect();
        println!(
            "echo hi in an {label}: submit to result median {:.2} ms; claim to completion median {:.2} ms, p90 {:.2} ms",
            ms(lat[lat.len() / 2]),
            run[run.len() / 2],
            run[run.len() * 9 / 10]
        );
    }
    // Bytes stored per command that changes one file of the 9,000.
    let stored = "select ((select coalesce(sum(size), 0) from pgshell.blobs) + (select coalesce(sum(length(data)), 0) from pgshell.tree_objects))::bigint";
    let before: i64 = admin.query_one(stored, &[]).await?.get(0);
    for i in 0..10 {
        c.run(big, &format!("echo {i} > faaa")).await?;
    }
    let after: i64 = admin.query_one(stored, &[]).await?.get(0);
    println!("one-file change in the 9,000-file directory: {} bytes of blobs and tree stored per command", (after - before) / 10);

    // 2. Throughput across 8 sessions.
    let sessions: Vec<_> = futures_util::future::try_join_all((0..8).map(|_| c.create_session(Some("throughput")))).await?;
    let t = Instant::now();
    let mut last = Vec::new();
    for i in 0..n {
        last.push(c.submit(sessions[i % 8], "echo hi").await?);
    }
    for id in last.iter().rev().take(8) {
        c.wait(*id, Duration::from_secs(600)).await?;
    }
    let secs = t.elapsed().as_secs_f64();
    println!("echo hi across 8 sessions, executor concurrency 4: {n} commands in {secs:.2} s = {:.0} commands/s", n as f64 / secs);
    ex.stop().await?;

    // 3. Replay throughput of the latency session.
    let replayer = Executor::new(config)?;
    let t = Instant::now();
    let report = pg_shell::replay::replay_session(&replayer, &admin, s, &Default::default()).await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "replay: {} commands re-executed, {} verified, in {secs:.2} s = {:.0} commands/s (one session, sequential)",
        report.commands,
        report.verified,
        report.commands as f64 / secs
    );

    // 4. Audit verify at 100,000 rows.
    let have: i64 = admin.query_one("select count(*) from pgshell.audit_log", &[]).await?.get(0);
    let t = Instant::now();
    // In transactions of 1,000 rows, as a busy system would append them.
    let missing = (100_000 - have).max(0);
    for start in (0..missing).step_by(1000) {
        let n = (missing - start).min(1000);
        admin
            .batch_execute(&format!(
                "select pgshell.audit('bench.event', null, null, jsonb_build_object('i', i)) from generate_series(1, {n}) i"
            ))
            .await?;
    }
    println!("appended {} audit rows in {:.1} s", 100_000 - have, t.elapsed().as_secs_f64());
    let t = Instant::now();
    let problems = admin.query("select * from pgshell.audit_problems(10)", &[]).await?;
    let rows: i64 = admin.query_one("select count(*) from pgshell.audit_log", &[]).await?.get(0);
    println!("audit verify: {rows} rows, {} problems, {:.0} ms", problems.len(), t.elapsed().as_secs_f64() * 1000.0);
    drop(admin);
    tokio::task::spawn_blocking(move || cluster.stop(true)).await??;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
