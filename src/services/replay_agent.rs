//! The replay agent: serves replays requested through `api.request_replay`,
//! one at a time. Runs in every executor and in `pg_shell replay --daemon`.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};
use uuid::Uuid;

use crate::executor::Executor;
use crate::replay::{replay_session, ReplayOptions};

/// One pass: claims a requested replay, runs it, stores the verdict.
/// Returns the replay id it served, if any.
pub async fn run_once(ex: &Executor, client: &tokio_postgres::Client, agent: &str) -> Result<Option<i64>> {
    let Some(row) = client
        .query_opt("select id, session_id, from_seq, to_seq from pgshell.claim_replay($1, 600000)", &[&agent])
        .await
        .context("claiming a replay")?
    else {
        return Ok(None);
    };
    let id: i64 = row.get(0);
    let session: Uuid = row.get(1);
    let opts = ReplayOptions { from_seq: row.get(2), to_seq: row.get(3), keep_going: true, against_current: false };
    let (verdict, commands, verified, first, results, error) = match replay_session(ex, client, session, &opts).await {
        Ok(r) => (
            r.verdict,
            r.commands as i32,
            r.verified as i32,
            r.first_divergence.as_ref().map(serde_json::to_value).transpose()?,
            Some(serde_json::to_value(&r.results)?),
            None,
        ),
        Err(e) => ("error", 0, 0, None, None, Some(format!("{e:#}"))),
    };
    client
        .execute(
            "select pgshell.finish_replay($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&id, &agent, &verdict, &commands, &verified, &first, &results, &error],
        )
        .await
        .context("storing the replay verdict")?;
    Ok(Some(id))
}

/// Serves replays until `shutdown`, woken by `wake` (NOTIFY pg_shell_replay)
/// with a poll every `poll` as fallback.
pub async fn run(ex: &Executor, agent: &str, wake: &Notify, poll: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        let served = async {
            let client = ex.client().await?;
            run_once(ex, &client, agent).await
        }
        .await;
        match served {
            Ok(Some(id)) => {
                info!(replay = id, "replay served");
                continue;
            }
            Ok(None) => {}
            Err(e) => warn!(error = format!("{e:#}"), "replay agent failed; retrying"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => return,
        }
    }
}
