//! The executor: claims commands from the queue, plans and runs them, and
//! stores results. Its files are the stages of a command's life:
//!
//! - `queue.rs`: the only code that moves a command's status: claim (SKIP
//!   LOCKED, lease), heartbeat, LISTEN, completion (`complete_command`);
//! - `plan.rs`: the only code that decides what may run: resolving program
//!   names (live, or from a recorded plan), limits, the plan's pin table;
//! - `line.rs`: running one command line (every part, one VFS, one budget);
//! - `output.rs`: live output, stored in chunks while the line runs;
//! - this file: the dispatcher loop, and re-running a recorded command.
//!
//! Maintenance runs beside it from `crate::services` (anchoring, rescue of a
//! dead neighbour's commands, the replay agent), each a `run_once()`.
//!
//! One dispatcher loop claims as many commands as it has free slots (each the
//! oldest unfinished command of its session, so a session runs one command at
//! a time, in order) and runs each on a task. It claims again the moment a
//! command finishes or a NOTIFY arrives, and polls as a fallback. Database
//! trouble (a restart, a dropped connection) is logged and retried; it never
//! ends the process. A result that cannot be stored is retried until the
//! database answers or the claim is lost to another executor.

mod line;
mod output;
mod plan;
mod queue;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::{watch, Notify};
use tokio_postgres::Client;
use tracing::{info, warn, Instrument};

use crate::env::{Digest, SealedEnv};
use crate::runtime::vfs::Base;
use crate::runtime::wasi::WasiRuntime;
use crate::runtime::{Limits, Outcome, RunOutput};
use crate::store::Cache;

use line::{prepare_and_run, run_command};
use plan::Pinned;
pub use plan::{Pin, NOT_REPLAYABLE};
use queue::{claim, heartbeat, listen, store_completion, Db};

#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    pub conninfo: String,
    /// Commands run at once (different sessions).
    pub concurrency: usize,
    /// COMMAND_TIMEOUT: caps every command's wall-clock limit.
    pub command_timeout: Option<Duration>,
    /// How long a claim lives without a heartbeat.
    pub lease: Duration,
    /// Fallback poll when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// Compiled-module cache directory.
    pub cache_dir: Option<PathBuf>,
    /// On shutdown, how long running commands may take to finish before
    /// they are handed back (`pgshell.stop_executor`).
    pub grace: Duration,
}

impl ExecutorConfig {
    pub fn new(conninfo: String) -> ExecutorConfig {
        ExecutorConfig {
            conninfo,
            concurrency: std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(4),
            command_timeout: None,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(2),
            cache_dir: WasiRuntime::default_cache_dir(),
            grace: Duration::from_secs(30),
        }
    }
}

/// The result of re-running a recorded command.
pub struct Rerun {
    pub out: RunOutput,
    pub env_after: Digest,
}

/// A command as claimed.
struct Claimed {
    id: i64,
    session_id: uuid::Uuid,
    seq: i32,
    line: String,
    attempt: i32,
    token: uuid::Uuid,
    env_before: Option<Digest>,
    owner: String,
    random_seed: [u8; 16],
    clock_base_ns: i64,
    session_limits: serde_json::Value,
    /// The terminal the client submitted the command from (`commands.terminal`).
    terminal: Option<crate::runtime::Terminal>,
    /// The command's recorded stdin: a blob, or why the client's was refused (0018).
    input: Option<Digest>,
    input_refused: Option<String>,
    cancel_requested: bool,
    /// A replay's re-run of a recorded command (native programs then run
    /// only when the operator marked them replay-safe).
    rerun: bool,
}

struct Shared {
    config: ExecutorConfig,
    id: String,
    db: Db,
    wasi: WasiRuntime,
    cache: Cache,
    /// Cancel flags of the commands this executor holds.
    running: Mutex<HashMap<i64, Arc<AtomicBool>>>,
    /// Held across a claim and the taking-in of its rows into `running`, and
    /// by the heartbeat across reading `running` and sending it: so the
    /// database never sees a claim of ours that is neither listed nor one we
    /// dropped (0022 hands back every unlisted claim).
    claim_lock: tokio::sync::Mutex<()>,
    wake: Notify,
    replay_wake: Notify,
    /// A `pg_shell_cancel` notification arrived: look at the rows (queue.rs).
    cancel_wake: Notify,
    /// Recorded trees shared by the virtual filesystems of commands that start from them.
    trees: Mutex<HashMap<Digest, Arc<Base>>>,
}

impl Shared {
    fn tree_of(&self, e: &SealedEnv) -> Arc<Base> {
        let mut trees = self.trees.lock().unwrap();
        if let Some(t) = trees.get(&e.digest) {
            return t.clone();
        }
        if trees.len() >= 256 {
            trees.clear();
        }
        let t = Arc::new(Base::new(e.env.tree.clone()));
        trees.insert(e.digest, t.clone());
        t
    }
}

pub struct Executor {
    shared: Arc<Shared>,
}

impl Executor {
    pub fn new(config: ExecutorConfig) -> Result<Executor> {
        let wasi = WasiRuntime::new(config.cache_dir.clone())?;
        let id = format!("{}-{}-{}", hostname_string(), std::process::id(), &uuid::Uuid::new_v4().to_string()[..8]);
        Ok(Executor {
            shared: Arc::new(Shared {
                db: Db {
                    conninfo: config.conninfo.clone(),
                    client: tokio::sync::Mutex::new(None),
                },
                config,
                id,
                wasi,
                cache: Cache::default(),
                running: Mutex::new(HashMap::new()),
                claim_lock: tokio::sync::Mutex::new(()),
                wake: Notify::new(),
                replay_wake: Notify::new(),
                cancel_wake: Notify::new(),
                trees: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// A stored environment (cached).
    pub async fn load_env(&self, client: &Client, digest: &Digest) -> Result<Arc<SealedEnv>> {
        self.shared.cache.env(client, digest).await
    }

    /// A connection of this executor's (reconnecting after failures).
    pub async fn client(&self) -> Result<Arc<Client>> {
        self.shared.db.get().await
    }

    /// Runs a recorded command again from its recorded inputs (environment,
    /// argv, module digest, seeds, limits) without touching the record.
    pub async fn rerun(&self, command_id: i64) -> Result<Rerun> {
        self.rerun_with(command_id, false).await
    }

    /// As [`Executor::rerun`]; with `against_current`, program names are
    /// resolved as they are registered today instead of from the recorded
    /// plan (the upgrade check: does the line still behave the same?).
    pub async fn rerun_with(&self, command_id: i64, against_current: bool) -> Result<Rerun> {
        let s = &self.shared;
        let client = s.db.get().await?;
        let row = client
            .query_opt(
                "select c.session_id, c.seq, c.line, c.program_kind, c.program_digest, c.limits, c.env_before,
                        c.random_seed, c.clock_base_ns, u.name, c.plan, c.input_digest, c.input_refused
                 from pgshell.commands c join pgshell.sessions s on s.id = c.session_id
                 join pgshell.users u on u.id = s.owner_id
                 where c.id = $1 and c.status = 'done'",
                &[&command_id],
            )
            .await?
            .with_context(|| format!("command {command_id} is not a finished command"))?;
        let env: Option<Vec<u8>> = row.get(6);
        let seed: Vec<u8> = row.get(7);
        let digest: Option<Vec<u8>> = row.get(4);
        let limits: Option<serde_json::Value> = row.get(5);
        let c = Claimed {
            id: command_id,
            session_id: row.get(0),
            seq: row.get(1),
            line: row.get(2),
            attempt: 0,
            token: uuid::Uuid::nil(),
            env_before: env.map(|d| Digest::try_from(d.as_slice())).transpose().context("bad env digest")?,
            owner: row.get(9),
            random_seed: <[u8; 16]>::try_from(seed.as_slice()).context("bad seed")?,
            clock_base_ns: row.get(8),
            session_limits: serde_json::Value::Null,
            terminal: None, // a re-run takes the recorded limits, terminal included
            input: digest_of(row.get(11)).context("bad input digest")?,
            input_refused: row.get(12),
            cancel_requested: false,
            rerun: true,
        };
        let plan: Option<serde_json::Value> = row.get(10);
        let programs = match plan.as_ref().and_then(|p| p.get("programs")) {
            Some(p) if !against_current => Some(serde_json::from_value(p.clone()).context("the recorded plan is malformed")?),
            _ => None,
        };
        let pinned = Pinned {
            programs,
            against_current,
            program_kind: row.get(3),
            program_digest: digest.map(|d| Digest::try_from(d.as_slice())).transpose().context("bad module digest")?,
            limits: limits.map(serde_json::from_value).transpose()?.unwrap_or_default(),
        };
        let done = run_command(s, &c, Arc::new(AtomicBool::new(false)), Some(pinned)).await?;
        Ok(Rerun { out: done.out, env_after: done.env_after.digest })
    }

    /// Runs until `shutdown` turns true, then stops claiming, lets running
    /// commands finish for up to `config.grace`, hands back whatever still
    /// runs (re-queued, or `lost` for a native program not marked
    /// retry-safe: `pgshell.stop_executor`), and returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let s = self.shared.clone();
        info!(executor = %s.id, concurrency = s.config.concurrency, "executor starting");
        let listener = tokio::spawn(listen(s.clone(), shutdown.clone()));
        let heartbeat = tokio::spawn(heartbeat(s.clone(), shutdown.clone()));
        let replays = {
            let (ex, shutdown) = (Executor { shared: s.clone() }, shutdown.clone());
            tokio::spawn(async move {
                let s = ex.shared.clone();
                crate::services::replay_agent::run(&ex, &s.id, &s.replay_wake, s.config.poll_interval, shutdown).await
            })
        };
        let mut registered = false;
        let mut tasks = tokio::task::JoinSet::new();
        let mut backoff = Duration::from_millis(100);
        loop {
            if *shutdown.borrow() {
                break;
            }
            while tasks.try_join_next().is_some() {}
            let free = s.config.concurrency.saturating_sub(tasks.len());
            let mut claimed_all = false;
            if free > 0 {
                let taking_in = s.claim_lock.lock().await;
                match claim(&s, free, &mut registered).await {
                    Ok(batch) => {
                        backoff = Duration::from_millis(100);
                        claimed_all = batch.len() == free;
                        for c in batch {
                            let flag = Arc::new(AtomicBool::new(c.cancel_requested));
                            s.running.lock().unwrap().insert(c.id, flag.clone());
                            let s2 = s.clone();
                            let span = tracing::info_span!("command", command_id = c.id, session = %c.session_id, attempt = c.attempt);
                            tasks.spawn(
                                async move {
                                    let id = c.id;
                                    execute(s2.clone(), c, flag).await;
                                    s2.running.lock().unwrap().remove(&id);
                                    s2.wake.notify_one();
                                }
                                .instrument(span),
                            );
                        }
                        drop(taking_in);
                    }
                    Err(e) => {
                        drop(taking_in);
                        warn!(error = format!("{e:#}"), "claiming failed; retrying");
                        registered = false;
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = shutdown.changed() => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
            if claimed_all {
                continue; // there may be more
            }
            tokio::select! {
                _ = s.wake.notified() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = tokio::time::sleep(s.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        info!(executor = %s.id, running = tasks.len(), grace = ?s.config.grace, "executor stopping; letting running commands finish");
        let drained = tokio::time::timeout(s.config.grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            warn!(executor = %s.id, running = tasks.len(), "grace period over; handing back what still runs");
        }
        // Hands back what is still claimed, so another executor takes it at
        // once; a completion this process might still try is refused by the
        // claim token.
        let handed_back = match s.db.get().await {
            Ok(c) => c.execute("select pgshell.stop_executor($1)", &[&s.id]).await.map_err(anyhow::Error::from),
            Err(e) => Err(anyhow::Error::from(e)),
        };
        match handed_back {
            // What was handed back stops here: the guests see their cancel
            // flag, and their completions would be refused anyway.
            Ok(_) if !tasks.is_empty() => {
                for flag in s.running.lock().unwrap().values() {
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} }).await;
            }
            Ok(_) => {}
            Err(e) => warn!(error = format!("{e:#}"), "could not record the stop; the cleanup agent hands back what this executor held"),
        }
        tasks.abort_all();
        listener.abort();
        heartbeat.abort();
        replays.abort();
        Ok(())
    }
}

/// How a command leaves the queue (`pgshell.command_status` 'done' or 'cancelled').
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Finished {
    Done,
    Cancelled,
}

/// Whether the database refused a statement because of its data (SQLSTATE
/// classes 22 and 23), not because it is unreachable.
fn refused_as_data(e: &anyhow::Error) -> bool {
    e.chain().filter_map(|c| c.downcast_ref::<tokio_postgres::Error>()).filter_map(|p| p.code()).any(|code| {
        let c = code.code();
        c.starts_with("22") || c.starts_with("23")
    })
}

fn root_message(e: &anyhow::Error) -> String {
    e.chain()
        .filter_map(|c| c.downcast_ref::<tokio_postgres::Error>())
        .find_map(|p| p.as_db_error().map(|d| d.message().to_string()))
        .unwrap_or_else(|| format!("{e:#}"))
}

/// A digest column's value.
fn digest_of(v: Option<Vec<u8>>) -> Result<Option<Digest>> {
    Ok(v.map(|d| Digest::try_from(d.as_slice())).transpose()?)
}

fn hostname_string() -> String {
    hostname::get().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "unknown".into())
}

/// The full result of one command, ready to store.
struct Completion {
    out: RunOutput,
    argv: Option<Vec<String>>,
    program: Option<String>,
    program_kind: Option<&'static str>,
    program_digest: Option<Digest>,
    limits: Limits,
    env_before: Arc<SealedEnv>,
    env_after: Arc<SealedEnv>,
    new_env_before: bool,
    new_blobs: Vec<(Digest, Arc<Vec<u8>>)>,
    /// The plan: every program the line resolved, pinned, and its limits.
    plan: serde_json::Value,
}

async fn execute(s: Arc<Shared>, c: Claimed, cancel: Arc<AtomicBool>) {
    let started = Instant::now();
    let completion = loop {
        match prepare_and_run(&s, &c, cancel.clone()).await {
            Ok(done) => break done,
            Err(e) => {
                // The database or the host failed us, not the guest. Retry
                // while we still hold the lease; the heartbeat keeps it alive.
                warn!(error = format!("{e:#}"), "command could not run; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                if started.elapsed() > s.config.lease * 4 {
                    warn!("giving the command up; its lease will expire and another attempt follows");
                    return;
                }
            }
        }
    };
    let status = if completion.out.cancelled { Finished::Cancelled } else { Finished::Done };
    let outcome = completion.out.outcome.unwrap_or(Outcome::Error);
    info!(outcome = outcome.as_str(), exit_code = completion.out.exit_code, fuel = completion.out.fuel, run_us = completion.out.run_us, "command finished");
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut backoff = Duration::from_millis(100);
    let mut completion = completion;
    loop {
        match store_completion(&s, &c, status, &completion).await {
            Ok(true) => return,
            Ok(false) => {
                warn!("result refused: this executor no longer holds the claim");
                return;
            }
            // The database refuses this result as data (a constraint, a
            // value out of range): retrying would only wedge the session.
            // Record that it could not be stored instead, as an error.
            Err(e) if refused_as_data(&e) && completion.argv.is_some() => {
                warn!(error = format!("{e:#}"), "the result was refused; recording the refusal instead");
                let msg = format!("pg_shell: the result could not be stored: {}", root_message(&e));
                completion = Completion {
                    out: RunOutput::failed(Outcome::Error, msg),
                    argv: None,
                    program: None,
                    program_kind: None,
                    program_digest: None,
                    limits: completion.limits.clone(),
                    env_after: completion.env_before.clone(),
                    env_before: completion.env_before.clone(),
                    new_env_before: completion.new_env_before,
                    new_blobs: Vec::new(),
                    plan: serde_json::Value::Null,
                };
            }
            Err(e) if Instant::now() < deadline => {
                warn!(error = format!("{e:#}"), "storing the result failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                warn!(error = format!("{e:#}"), "giving up storing the result; the command will be claimed again");
                return;
            }
        }
    }
}
