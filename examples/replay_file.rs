//! How long `pg_shell replay --file` takes for a 100-command session from a
//! cold start: a new process, no database running, a throwaway PostgreSQL
//! started, migrated, the bundled programs registered, the file imported,
//! replayed, and everything removed.
//!
//! Run: `cargo build && cargo run --example replay_file` (debug profile: it
//! times `target/debug/pg_shell`), or `cargo build --release && cargo run
//! --release --example replay_file` for the release binary. `-- 5` sets the
//! number of timed runs (default 3). It records the session first (in a
//! throwaway cluster of its own, stopped before timing), then times each
//! run with the compiled-module cache warm (the usual case on a CI runner
//! that keeps ~/.cache) and once with an empty module cache (every module
//! compiled by wasmtime in that run).

use std::process::Command;
use std::time::{Duration, Instant};

use pg_shell::cli::InProcessExecutor;
use pg_shell::client::ShellClient;
use pg_shell::executor::ExecutorConfig;

mod common;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("pg_shell")).unwrap();
    anyhow::ensure!(bin.exists(), "{} is missing: run `cargo build` (or `cargo build --release`) first", bin.display());
    let work = tempfile::Builder::new().prefix("pg_shell-replay-figure-").tempdir()?;
    let file = work.path().join("session.json");
    let cache = work.path().join("modules");

    {
        let common::Bench { cluster: _cluster, conninfo, admin } = common::bench_database(false, None).await?;
        let mut config = ExecutorConfig::new(conninfo.clone());
        config.cache_dir = Some(cache.clone());
        let ex = InProcessExecutor::start(config)?;
        let mut client = ShellClient::connect(&conninfo, "bench").await?;
        let s = client.create_session(Some("100 commands")).await?;
        let lines = [
            "echo hello",
            "mkdir -p d && cd d",
            "printf 'b\\na\\nc\\n' > f.txt",
            "sort f.txt | head -n 2",
            "cat f.txt | wc -l",
            "for i in 1 2 3; do echo $i >> n.txt; done; wc -l n.txt",
            "tr a-z A-Z < f.txt",
            "ls",
            "i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo $i",
            "cd / && ls d",
        ];
        for n in 0..100 {
            let id = client.submit(s, lines[n % lines.len()]).await?;
            client.wait(id, Duration::from_secs(60)).await?;
        }
        let doc = pg_shell::transfer::export(&admin, s, &Default::default()).await?;
        std::fs::write(&file, pg_shell::transfer::write(doc, None)?)?;
        ex.stop().await?;
    }
    let size = std::fs::metadata(&file)?.len();
    println!("session: 100 commands, file {} KB; binary {}", size / 1024, bin.display());

    let time = |cache: &std::path::Path| -> anyhow::Result<Duration> {
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(["replay", "--file"])
            .arg(&file)
            .env_remove("DATABASE_URL")
            .env_remove("PG_CONN")
            .env("PG_SHELL_USER", "ci")
            .env("PG_SHELL_CACHE_DIR", cache)
            .output()?;
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(out.status.code() == Some(0), "replay failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        anyhow::ensure!(stdout.contains("verified: 100 of 100 commands verified"), "{stdout}");
        Ok(took)
    };
    let mut warm = Vec::new();
    for _ in 0..runs {
        warm.push(time(&cache)?);
    }
    warm.sort();
    let cold = time(&work.path().join("empty-cache"))?;
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    println!(
        "replay --file, 100 commands, cold start incl. throwaway PostgreSQL: module cache warm: median {:.0} ms (min {:.0}, max {:.0}, {} runs); empty module cache: {:.0} ms",
        ms(&warm[warm.len() / 2]),
        ms(&warm[0]),
        ms(&warm[warm.len() - 1]),
        warm.len(),
        ms(&cold)
    );
    Ok(())
}
