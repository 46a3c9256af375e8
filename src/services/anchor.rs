//! Anchoring: folds the heads of session audit chains that moved into the
//! global chain, so a truncated session chain is detected (`audit verify`).

use anyhow::Result;
use tokio_postgres::Client;

/// One pass; returns how many chains were anchored.
pub async fn run_once(client: &Client) -> Result<i32> {
    Ok(client.query_one("select pgshell.audit_anchor()", &[]).await?.get(0))
}
