//! Cleanup: one pass of `pgshell.cleanup_pass` (0011). Hands back what
//! executors judged dead held (on any host: no heartbeat for
//! `executor_dead_after_ms`), by the one rule of `pgshell.hand_back` (queued
//! again, or lost when attempts ran out or a native program that is not
//! retry-safe had started); closes sessions idle for `session_idle_days`;
//! applies retention (held sessions kept), then collects the storage the
//! deleted sessions left unreferenced (src/services/gc.rs). Bounded batches, SKIP LOCKED, so
//! any number of executors and `pg_shell cleanup` agents may run it at once.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub dead_executors: i64,
    pub released: i64,
    pub lost: i64,
    pub idle_closed: i64,
    pub retention_deleted: i64,
    /// Storage collected after retention.
    #[serde(default)]
    pub collected: super::gc::Report,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        *self == Report::default()
    }
}

/// One pass over at most `limit` rows of each kind.
pub async fn run_once(client: &Client, limit: i32) -> Result<Report> {
    let v: serde_json::Value = client.query_one("select pgshell.cleanup_pass($1)", &[&limit]).await?.get(0);
    let mut report: Report = serde_json::from_value(v).context("reading the cleanup pass's report")?;
    report.collected = super::gc::run_once(client, limit).await.context("collecting unreferenced storage")?;
    Ok(report)
}
