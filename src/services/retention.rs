//! Retention: deletes closed sessions older than the `retention_days`
//! setting (off by default). Each deletion leaves a `session.deleted`
//! tombstone in the session's audit chain, which `audit verify` accepts as
//! the reason the session's rows are gone; the audit rows themselves stay.

use anyhow::Result;
use tokio_postgres::Client;

/// One pass over at most 100 sessions; returns how many were deleted.
pub async fn run_once(client: &Client) -> Result<i32> {
    Ok(client.query_one("select pgshell.retention_sweep(100)", &[]).await?.get(0))
}
