//! The queue side of the executor, the only code that moves a command's
//! status: claiming (SKIP LOCKED, with a lease), renewing leases and picking
//! up cancellations (heartbeat), LISTEN wake-ups, and storing a completion,
//! which the database accepts only from the holder of the current claim.
//!
//! Notifications are wake-ups, never orders: any role that can connect may
//! `NOTIFY` any channel with any payload. A `pg_shell_cancel` notification
//! only makes the heartbeat look at the rows early; a command is stopped
//! only when its row says `cancel_requested` (set by `api.cancel` or
//! `api.close_session`, which check the caller and name them).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio_postgres::Client;
use tracing::warn;

use super::{hostname_string, Claimed, Completion, Finished, Shared};
use crate::env::{Digest, SealedEnv};
use crate::runtime::Outcome;

/// The longest gap between heartbeats. The cleanup pass judges an executor
/// dead after `executor_dead_after_ms` (10 s by default: three missed beats)
/// and every executor runs a pass on each beat, so what a dead executor held
/// is handed back within 10 + 3 s of its last beat.
pub const HEARTBEAT_MAX: Duration = Duration::from_secs(3);

/// A connection that reconnects on demand after the database went away.
pub(super) struct Db {
    pub(super) conninfo: String,
    pub(super) client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl Db {
    pub(super) async fn get(&self) -> Result<Arc<Client>> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(crate::db::connect_plain(&self.conninfo).await?);
        *slot = Some(c.clone());
        Ok(c)
    }
}

pub(super) async fn claim(s: &Shared, n: usize, registered: &mut bool) -> Result<Vec<Claimed>> {
    let client = s.db.get().await?;
    if !*registered {
        client
            .execute(
                "select pgshell.register_executor($1, $2, $3, $4, $5)",
                &[&s.id, &hostname_string(), &(std::process::id() as i32), &env!("CARGO_PKG_VERSION"), &(s.config.concurrency as i32)],
            )
            .await
            .context("registering the executor")?;
        *registered = true;
        crate::services::rescue::run_once(&client, &s.id, &hostname_string()).await?;
    }
    let rows = client
        .query(
            "select id, session_id, seq, line, attempt, claim_token, coalesce(env_before, head_env),
                    owner_name, random_seed, clock_base_ns, session_limits, cancel_requested,
                    terminal, input_digest, input_refused
             from pgshell.claim_commands($1, $2, $3)",
            &[&s.id, &(s.config.lease.as_millis() as i32), &(n as i32)],
        )
        .await
        .context("claiming commands")?;
    rows.into_iter()
        .map(|r| {
            let env: Option<Vec<u8>> = r.get(6);
            let seed: Vec<u8> = r.get(8);
            Ok(Claimed {
                id: r.get(0),
                session_id: r.get(1),
                seq: r.get(2),
                line: r.get(3),
                attempt: r.get(4),
                token: r.get(5),
                env_before: env.map(|d| Digest::try_from(d.as_slice())).transpose().context("bad env digest")?,
                owner: r.get(7),
                random_seed: <[u8; 16]>::try_from(seed.as_slice()).context("bad random seed")?,
                clock_base_ns: r.get(9),
                session_limits: r.get(10),
                cancel_requested: r.get(11),
                terminal: terminal_of(r.get(12)),
                input: super::digest_of(r.get(13)).context("bad input digest")?,
                input_refused: r.get(14),
                rerun: false,
            })
        })
        .collect()
}

/// A command's terminal as submitted. `pgshell.valid_terminal` (0015) checks
/// the column, so a value this build cannot read means a newer schema than
/// the binary: the command then runs without a terminal, and says so in the log.
fn terminal_of(v: Option<serde_json::Value>) -> Option<crate::runtime::Terminal> {
    let v = v?;
    match serde_json::from_value(v.clone()) {
        Ok(t) => Some(t),
        Err(e) => {
            warn!(terminal = %v, error = %e, "a command's terminal this executor cannot read; running it without one");
            None
        }
    }
}

/// LISTENs on its own connection; reconnects when it drops.
pub(super) async fn listen(s: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match crate::db::connect(&s.config.conninfo).await {
            Ok((client, mut notes)) => {
                if let Err(e) = client.batch_execute("listen pg_shell_queue; listen pg_shell_cancel; listen pg_shell_replay").await {
                    warn!(error = %e, "LISTEN failed");
                } else {
                    backoff = Duration::from_millis(100);
                    s.wake.notify_one(); // catch up on anything missed while disconnected
                    loop {
                        tokio::select! {
                            n = notes.recv() => match n {
                                // The payload is not trusted: look at the rows.
                                Some(n) if n.channel() == "pg_shell_cancel" => s.cancel_wake.notify_one(),
                                Some(n) if n.channel() == "pg_shell_replay" => s.replay_wake.notify_one(),
                                Some(_) => s.wake.notify_one(),
                                None => break,
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                }
            }
            Err(e) => warn!(error = format!("{e:#}"), "listener cannot connect; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Renews leases every third of the lease (at most [`HEARTBEAT_MAX`] apart,
/// so a dead executor is noticed soon); picks up cancellations too, and
/// early when a `pg_shell_cancel` notification asks it to look (at most
/// every [`CANCEL_CHECK_SPACING`], so a flood of notifications costs one
/// query per spacing).
pub(super) async fn heartbeat(s: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let every = (s.config.lease / 3).min(HEARTBEAT_MAX);
    let mut next_beat = tokio::time::Instant::now() + every;
    loop {
        let full = tokio::select! {
            _ = tokio::time::sleep_until(next_beat) => true,
            _ = s.cancel_wake.notified() => false,
            _ = shutdown.changed() => return,
        };
        if full {
            next_beat = tokio::time::Instant::now() + every;
        }
        let result = async {
            let client = s.db.get().await?;
            // Only what this executor runs is renewed; any other claim of its
            // own is handed back (0022). No claim is between the database
            // and `running` while the lock is held.
            let rows = {
                let _no_claim_in_flight = s.claim_lock.lock().await;
                let holds: Vec<i64> = s.running.lock().unwrap().keys().copied().collect();
                client
                    .query("select * from pgshell.heartbeat($1, $2, $3)", &[&s.id, &(s.config.lease.as_millis() as i32), &holds])
                    .await?
            };
            for r in rows {
                if let Some(id) = r.get::<_, Option<i64>>(0) {
                    if let Some(f) = s.running.lock().unwrap().get(&id) {
                        f.store(true, Ordering::Relaxed);
                    }
                }
            }
            // Maintenance: anchor moved session chains into the global chain.
            if full {
                let anchored = crate::services::anchor::run_once(&client).await?;
                if anchored > 0 {
                    tracing::debug!(chains = anchored, "anchored audit chains");
                }
            }
            // Dead executors on any host, idle sessions, retention.
            if full {
                let done = crate::services::cleanup::run_once(&client, 100).await?;
                if !done.is_empty() {
                    tracing::info!(?done, "cleanup pass");
                }
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            warn!(error = format!("{e:#}"), "heartbeat failed");
        }
        if !full {
            tokio::time::sleep(CANCEL_CHECK_SPACING).await;
        }
    }
}

/// The least time between two looks at the rows prompted by notifications.
const CANCEL_CHECK_SPACING: Duration = Duration::from_millis(50);

/// New file contents larger than this go by COPY, in chunks, instead of as
/// a parameter (which tokio-postgres encodes whole, doubling the memory).
const LARGE_BLOB: usize = 1 << 20;
const UPLOAD_CHUNK: usize = 1 << 20;

/// Streams large new contents into `pgshell.blob_uploads` under the claim
/// token (COPY BINARY, written by hand so each row's data goes in chunks).
async fn upload_blobs(client: &Client, token: uuid::Uuid, blobs: &[(&Digest, &Arc<Vec<u8>>)]) -> Result<()> {
    use futures_util::SinkExt;
    let sink = client
        .copy_in::<_, bytes::Bytes>("copy pgshell.blob_uploads (claim_token, digest, data) from stdin (format binary)")
        .await?;
    futures_util::pin_mut!(sink);
    let mut head = Vec::with_capacity(64);
    head.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    head.extend_from_slice(&0i32.to_be_bytes()); // flags
    head.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for (digest, data) in blobs {
        head.extend_from_slice(&3i16.to_be_bytes());
        head.extend_from_slice(&16i32.to_be_bytes());
        head.extend_from_slice(token.as_bytes());
        head.extend_from_slice(&32i32.to_be_bytes());
        head.extend_from_slice(&digest[..]);
        let len = i32::try_from(data.len()).context("a file over 2 GiB")?;
        head.extend_from_slice(&len.to_be_bytes());
        sink.send(bytes::Bytes::from(std::mem::take(&mut head))).await?;
        for chunk in data.chunks(UPLOAD_CHUNK) {
            sink.send(bytes::Bytes::copy_from_slice(chunk)).await?;
        }
    }
    head.extend_from_slice(&(-1i16).to_be_bytes());
    sink.send(bytes::Bytes::from(head)).await?;
    sink.finish().await?;
    Ok(())
}

pub(super) async fn store_completion(s: &Shared, c: &Claimed, status: Finished, d: &Completion) -> Result<bool> {
    let client = s.db.get().await?;
    let mut envs = Vec::new();
    let mut blob_digests: Vec<Vec<u8>> = Vec::new();
    let mut blob_data: Vec<&[u8]> = Vec::new();
    // Each environment goes with the tree objects the database may not have:
    // all of a new first environment's, and of the resulting one those its
    // predecessor (stored) does not hold.
    let add_env = |envs: &mut Vec<serde_json::Value>, e: &SealedEnv, base: Option<&SealedEnv>| {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let objects: serde_json::Map<String, serde_json::Value> = e
            .objects_not_in(base)
            .into_iter()
            .map(|(digest, bytes)| (hex::encode(digest), b64.encode(bytes).into()))
            .collect();
        let tree_key = if e.objects().is_some() { "root" } else { "tree" };
        envs.push(serde_json::json!({
            "digest": hex::encode(e.digest),
            "cwd": e.env.cwd,
            "vars": e.env.vars,
            "shell": e.env.shell,
            tree_key: hex::encode(e.tree_digest()),
            "objects": objects,
            "file_count": e.env.tree.file_count(),
            "tree_bytes": e.env.tree.total_bytes(),
        }));
    };
    if d.new_env_before {
        add_env(&mut envs, &d.env_before, None);
    }
    if d.env_after.digest != d.env_before.digest {
        add_env(&mut envs, &d.env_after, Some(&d.env_before));
    }
    let mut large = Vec::new();
    for (digest, data) in &d.new_blobs {
        if data.len() > LARGE_BLOB {
            large.push((digest, data));
            continue;
        }
        blob_digests.push(digest.to_vec());
        blob_data.push(&data[..]);
    }
    if !large.is_empty() {
        upload_blobs(&client, c.token, &large).await.context("uploading file contents")?;
    }
    let o = &d.out;
    let outcome = o.outcome.unwrap_or(Outcome::Error).as_str();
    // The text shown beside the raw bytes when they are not plain UTF-8 text:
    // invalid sequences and NUL (which PostgreSQL text and jsonb cannot
    // hold) become U+FFFD.
    let lossy = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(t) if !t.contains('\0') => None,
        _ => Some(String::from_utf8_lossy(b).replace('\0', "\u{FFFD}")),
    };
    let result = serde_json::json!({
        "status": status,
        "outcome": outcome,
        "exit_code": o.exit_code,
        "stdout_lossy": lossy(&o.stdout),
        "stderr_lossy": lossy(&o.stderr),
        "stdout_truncated": o.stdout_truncated,
        "stderr_truncated": o.stderr_truncated,
        "fuel": o.fuel,
        "run_us": o.run_us,
        "error": o.error,
        "argv": d.argv,
        "program": d.program,
        "program_kind": d.program_kind,
        "program_digest": d.program_digest.map(hex::encode),
        "limits": d.limits,
        "envs": envs,
        "env_before": hex::encode(d.env_before.digest),
        "env_after": (status == Finished::Done).then(|| hex::encode(d.env_after.digest)),
        "plan": d.plan,
        "trace": o.trace,
    });
    let row = client
        .query_one(
            "select pgshell.complete_command($1, $2, $3, $4, $5, $6, $7)",
            &[&c.id, &c.token, &result, &o.stdout, &o.stderr, &blob_digests, &blob_data],
        )
        .await
        .context("storing the result")?;
    let accepted: bool = row.get(0);
    if accepted && status == Finished::Done {
        s.cache.remember_env(d.env_after.clone());
    }
    Ok(accepted)
}
