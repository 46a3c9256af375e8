//! Prints the web terminal's figures, measured in headless Chromium against
//! `pg_shell serve` (in process) and an in-process executor:
//!   1. Enter to result for `echo hi` (median, p90, max over N runs),
//!   2. the delay of live output (Server-Sent Events woken by LISTEN/NOTIFY).
//!
//! Run: `cargo run --example web_figures` (add `-- 50` for more runs). Needs
//! Node.js, Chromium (/usr/bin/chromium or $CHROMIUM) and tests/e2e's
//! playwright-core (`npm ci` in tests/e2e).

use std::time::Duration;

use pg_shell::cli::InProcessExecutor;
use pg_shell::executor::ExecutorConfig;
use pg_shell::gateway::{Gateway, GatewayConfig};

mod common;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let password = "web-figures-password";
    let common::Bench { cluster: _cluster, conninfo, admin: _admin } = common::bench_database(true, Some(password)).await?;
    let mut config = ExecutorConfig::new(conninfo.clone());
    config.concurrency = 4;
    let _ex = InProcessExecutor::start(config)?;
    let gw = Gateway::bind(GatewayConfig::new(conninfo.clone()).with_listen("127.0.0.1:0".parse()?)).await?;
    let url = gw.url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gw.run(async {
        let _ = stopped.await;
    }));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/figures.mjs");
    let out = tokio::time::timeout(
        Duration::from_secs(600),
        tokio::process::Command::new("node").arg(&script).args([url.as_str(), "bench", password, &n.to_string()]).output(),
    )
    .await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| anyhow::anyhow!("no figures from {}: {stdout}\n{}", script.display(), String::from_utf8_lossy(&out.stderr)))?;
    anyhow::ensure!(v["ok"] == true, "the browser run failed: {v}");
    println!("machine: {} cores; PostgreSQL with fsync on; debug build of pg_shell; headless Chromium", std::thread::available_parallelism()?.get());
    let e = &v["enter_to_result_ms"];
    println!("echo hi, Enter to result in the browser over {n} runs: median {:.1} ms, p90 {:.1} ms, max {:.1} ms", e["median"].as_f64().unwrap_or(f64::NAN), e["p90"].as_f64().unwrap_or(f64::NAN), e["max"].as_f64().unwrap_or(f64::NAN));
    let l = &v["live_delay_ms_upper_bound"];
    println!("live output delay (upper bound, over 5 runs): median {:.1} ms, max {:.1} ms; first output shown {} ms after Enter", l["median"].as_f64().unwrap_or(f64::NAN), l["max"].as_f64().unwrap_or(f64::NAN), v["first_output_after_enter_ms"]);
    let _ = stop.send(());
    server.await??;
    Ok(())
}
