//! The executor: claims commands from the queue, runs them and stores results.
//!
//! One dispatcher loop claims as many commands as it has free slots (each the
//! oldest unfinished command of its session, so a session runs one command at
//! a time, in order) and runs each on a task. It claims again the moment a
//! command finishes or a NOTIFY arrives, and polls as a fallback. A heartbeat
//! task renews the leases of what it holds; a listener task turns NOTIFYs into
//! wake-ups and cancellations. A completion is accepted by the database only
//! from the holder of the current claim.
//!
//! Database trouble (a restart, a dropped connection) is logged and retried;
//! it never ends the process. A result that cannot be stored is retried until
//! the database answers or the claim is lost to another executor.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::{watch, Notify};
use tokio_postgres::Client;
use tracing::{info, warn, Instrument};

use crate::builtins::{self, Builtin};
use crate::env::{self, Digest, Env, SealedEnv};
use crate::run::Stage;
use crate::runtime::line::{Budget, Line};
use crate::runtime::vfs::{Base, BlobSource, Kind as VfsKind, Vfs, VfsLimits};
use crate::runtime::wasi::WasiRuntime;
use crate::runtime::{Limits, Outcome, RunOutput, StageTrace};
use crate::store::Cache;

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
        }
    }
}

/// A connection that reconnects on demand after the database went away.
struct Db {
    conninfo: String,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
}

impl Db {
    async fn get(&self) -> Result<Arc<Client>> {
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
    cancel_requested: bool,
}

struct Shared {
    config: ExecutorConfig,
    id: String,
    db: Db,
    wasi: WasiRuntime,
    cache: Cache,
    /// Cancel flags of the commands this executor holds.
    running: Mutex<HashMap<i64, Arc<AtomicBool>>>,
    wake: Notify,
    replay_wake: Notify,
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
                wake: Notify::new(),
                replay_wake: Notify::new(),
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
                        c.random_seed, c.clock_base_ns, u.name, c.plan
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
            cancel_requested: false,
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

    /// Runs until `shutdown` turns true, then lets running commands finish,
    /// hands back nothing it still holds, and returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let s = self.shared.clone();
        info!(executor = %s.id, concurrency = s.config.concurrency, "executor starting");
        let listener = tokio::spawn(listen(s.clone(), shutdown.clone()));
        let heartbeat = tokio::spawn(heartbeat(s.clone(), shutdown.clone()));
        let replays = tokio::spawn(replay_agent(Executor { shared: s.clone() }, shutdown.clone()));
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
                    }
                    Err(e) => {
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
        info!(executor = %s.id, running = tasks.len(), "executor stopping; letting running commands finish");
        while tasks.join_next().await.is_some() {}
        if let Ok(c) = s.db.get().await {
            let _ = c.execute("select pgshell.stop_executor($1)", &[&s.id]).await;
        }
        listener.abort();
        heartbeat.abort();
        replays.abort();
        Ok(())
    }
}

fn hostname_string() -> String {
    hostname::get().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "unknown".into())
}

async fn claim(s: &Shared, n: usize, registered: &mut bool) -> Result<Vec<Claimed>> {
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
        release_dead_neighbours(&client, &s.id).await?;
    }
    let rows = client
        .query(
            "select id, session_id, seq, line, attempt, claim_token, coalesce(env_before, head_env),
                    owner_name, random_seed, clock_base_ns, session_limits, cancel_requested
             from pgshell.claim($1, $2, $3)",
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
            })
        })
        .collect()
}

/// Serves requested replays (`api.request_replay`), one at a time, woken by
/// NOTIFY with a poll as fallback.
async fn replay_agent(ex: Executor, mut shutdown: watch::Receiver<bool>) {
    let s = ex.shared.clone();
    loop {
        let served = async {
            let client = s.db.get().await?;
            crate::replay::serve_one(&ex, &client, &s.id).await
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
            _ = s.replay_wake.notified() => {}
            _ = tokio::time::sleep(s.config.poll_interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Hands back at once what executors on this host that died without stopping
/// (kill -9, a crash) still hold, instead of waiting for their leases to run
/// out. Only executors of this host are judged, by whether their pid lives.
async fn release_dead_neighbours(client: &Client, me: &str) -> Result<()> {
    let rows = client
        .query(
            "select id, pid from pgshell.executors where host = $1 and stopped_at is null and id <> $2",
            &[&hostname_string(), &me],
        )
        .await?;
    for r in rows {
        let (id, pid): (String, i32) = (r.get(0), r.get(1));
        if !process_alive(pid) {
            client.execute("select pgshell.stop_executor($1)", &[&id]).await?;
            info!(dead_executor = %id, pid, "released the commands of an executor that died on this host");
        }
    }
    Ok(())
}

#[cfg(unix)]
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return true; // unknown: let the lease decide
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: i32) -> bool {
    true
}

/// LISTENs on its own connection; reconnects when it drops.
async fn listen(s: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
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
                                Some(n) if n.channel() == "pg_shell_cancel" => {
                                    if let Ok(id) = n.payload().parse::<i64>() {
                                        if let Some(f) = s.running.lock().unwrap().get(&id) {
                                            f.store(true, Ordering::Relaxed);
                                        }
                                    }
                                }
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

/// Renews leases every third of the lease; picks up cancellations too.
async fn heartbeat(s: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let every = s.config.lease / 3;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let result = async {
            let client = s.db.get().await?;
            let rows = client
                .query("select * from pgshell.heartbeat($1, $2)", &[&s.id, &(s.config.lease.as_millis() as i32)])
                .await?;
            for r in rows {
                if let Some(id) = r.get::<_, Option<i64>>(0) {
                    if let Some(f) = s.running.lock().unwrap().get(&id) {
                        f.store(true, Ordering::Relaxed);
                    }
                }
            }
            // Maintenance: anchor moved session chains into the global chain.
            let anchored: i32 = client.query_one("select pgshell.audit_anchor()", &[]).await?.get(0);
            if anchored > 0 {
                tracing::debug!(chains = anchored, "anchored audit chains");
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            warn!(error = format!("{e:#}"), "heartbeat failed");
        }
    }
}

/// What resolving argv[0] found.
enum Resolved {
    Builtin(Builtin),
    Wasi { digest: Digest, limits: serde_json::Value },
    Native { path: String, limits: serde_json::Value },
    NotFound(String),
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
    let status = if completion.out.cancelled { "cancelled" } else { "done" };
    let outcome = completion.out.outcome.unwrap_or(Outcome::Error);
    info!(outcome = outcome.as_str(), exit_code = completion.out.exit_code, fuel = completion.out.fuel, run_us = completion.out.run_us, "command finished");
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut backoff = Duration::from_millis(100);
    loop {
        match store_completion(&s, &c, status, &completion).await {
            Ok(true) => return,
            Ok(false) => {
                warn!("result refused: this executor no longer holds the claim");
                return;
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

/// What a program name resolved to, as a command's plan records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    /// builtin | wasi | native | not_found
    pub kind: String,
    /// The module's sha256 (wasi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The binary (native).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Why it may not run (not_found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Pin {
    fn of(r: &Resolved) -> Pin {
        let mut pin = Pin { kind: String::new(), digest: None, path: None, message: None };
        match r {
            Resolved::Builtin(_) => pin.kind = "builtin".into(),
            Resolved::Wasi { digest, .. } => {
                pin.kind = "wasi".into();
                pin.digest = Some(hex::encode(digest));
            }
            Resolved::Native { path, .. } => {
                pin.kind = "native".into();
                pin.path = Some(path.clone());
            }
            Resolved::NotFound(m) => {
                pin.kind = "not_found".into();
                pin.message = Some(m.clone());
            }
        }
        pin
    }

    fn resolved(&self, name: &str) -> Result<Resolved> {
        Ok(match self.kind.as_str() {
            "builtin" => match Builtin::lookup(name) {
                Some(b) => Resolved::Builtin(b),
                None => Resolved::NotFound(format!("pg_shell: {name}: the recorded builtin no longer exists")),
            },
            "wasi" => {
                let mut d = [0u8; 32];
                hex::decode_to_slice(self.digest.as_deref().unwrap_or(""), &mut d).context("a malformed module digest in the recorded plan")?;
                Resolved::Wasi { digest: d, limits: serde_json::Value::Null }
            }
            "native" => Resolved::Native { path: self.path.clone().unwrap_or_default(), limits: serde_json::Value::Null },
            _ => Resolved::NotFound(self.message.clone().unwrap_or_else(|| format!("pg_shell: {name}: command not found"))),
        })
    }
}

/// The only place that decides what may run: resolves program names (from
/// the programs table, or from a recorded plan on replay) and records every
/// decision in the plan's table, in the order first used.
struct Planner {
    recorded: Option<BTreeMap<String, Pin>>,
    table: BTreeMap<String, Pin>,
}

impl Planner {
    fn new(recorded: Option<BTreeMap<String, Pin>>) -> Planner {
        Planner { recorded, table: BTreeMap::new() }
    }

    /// The program `name` names, and the settings (only when looked up live).
    async fn resolve(&mut self, client: &Client, name: &str) -> Result<(Resolved, serde_json::Value)> {
        if let Some(rec) = &self.recorded {
            let r = match rec.get(name) {
                Some(pin) => pin.resolved(name)?,
                None => Resolved::NotFound(format!("pg_shell: {name}: not in the recorded plan")),
            };
            self.table.entry(name.to_string()).or_insert_with(|| Pin::of(&r));
            return Ok((r, serde_json::Value::Null));
        }
        let (r, settings) = resolve(client, name).await?;
        self.table.entry(name.to_string()).or_insert_with(|| Pin::of(&r));
        Ok((r, settings))
    }

    fn plan(&self, limits: &Limits) -> serde_json::Value {
        serde_json::json!({ "programs": self.table, "limits": limits })
    }
}

/// What a re-run takes from the record instead of resolving afresh.
struct Pinned {
    /// The recorded plan's pins (None: a record from before plans, or a
    /// re-run against today's registrations).
    programs: Option<BTreeMap<String, Pin>>,
    against_current: bool,
    program_kind: Option<String>,
    program_digest: Option<Digest>,
    limits: Limits,
}

async fn prepare_and_run(s: &Arc<Shared>, c: &Claimed, cancel: Arc<AtomicBool>) -> Result<Completion> {
    run_command(s, c, cancel, None).await
}

async fn run_command(s: &Arc<Shared>, c: &Claimed, cancel: Arc<AtomicBool>, pinned: Option<Pinned>) -> Result<Completion> {
    let client = s.db.get().await?;
    let (env_before, new_env_before) = match &c.env_before {
        Some(d) => (s.cache.env(&client, d).await?, false),
        None => (Arc::new(Env::initial(&c.owner).seal()), true),
    };
    let mut done = Completion {
        out: RunOutput::default(),
        argv: None,
        program: None,
        program_kind: None,
        program_digest: None,
        limits: Limits::default(),
        env_after: env_before.clone(),
        env_before,
        new_env_before,
        new_blobs: Vec::new(),
        plan: serde_json::Value::Null,
    };
    let before = done.env_before.clone();
    let env = &before.env;

    let list = match crate::parse::split_list(&c.line) {
        Ok(l) => l,
        Err(e) => {
            done.out = RunOutput::failed(Outcome::Rejected, format!("pg_shell: {e}"));
            return Ok(done);
        }
    };
    let live = pinned.is_none();
    let mut planner = Planner::new(pinned.as_ref().and_then(|p| p.programs.clone()));
    // What is recorded about the line: a list, or its one pipeline's words,
    // programs and (for a single program) kind, module digest and limits.
    let mut first: Option<(crate::parse::Pipeline, Vec<Resolved>)> = None;
    if list.len() > 1 {
        let mut words = Vec::new();
        for (connector, text) in &list {
            match connector {
                crate::parse::Connector::Always if words.is_empty() => {}
                crate::parse::Connector::Always => words.push(";".to_string()),
                crate::parse::Connector::IfOk => words.push("&&".to_string()),
                crate::parse::Connector::IfFailed => words.push("||".to_string()),
            }
            words.push(text.trim().to_string());
        }
        done.argv = Some(words);
        done.program = Some("list".into());
        done.program_kind = Some("list");
        done.limits = match &pinned {
            Some(p) => p.limits.clone(),
            None => effective_limits(s, c, &settings(&client).await?, None),
        };
    } else {
        let text = list.first().map(|(_, t)| t.as_str()).unwrap_or("");
        let pipeline = match crate::parse::parse(text, &env.vars) {
            Ok(p) => p,
            Err(e) => {
                done.out = RunOutput::failed(Outcome::Rejected, format!("pg_shell: {e}"));
                return Ok(done);
            }
        };
        done.argv = Some(pipeline.words());
        if pipeline.is_empty() {
            done.out = RunOutput { outcome: Some(Outcome::Exited), ..RunOutput::default() };
            return Ok(done);
        }
        let single = pipeline.stages.len() == 1;
        // Resolving also fetches the settings (one round trip per program).
        let mut resolved = Vec::with_capacity(pipeline.stages.len());
        let mut settings = serde_json::Value::Null;
        for argv in &pipeline.stages {
            let (r, st) = planner.resolve(&client, &argv[0]).await?;
            resolved.push(r);
            settings = st;
        }
        // A record from before plans pinned only a single program.
        if let (Some(p @ Pinned { programs: None, against_current: false, .. }), true) = (&pinned, single) {
            // A re-run runs what ran then: the recorded module, not today's registration.
            match (p.program_kind.as_deref(), p.program_digest) {
                (Some("wasi"), Some(digest)) => resolved[0] = Resolved::Wasi { digest, limits: serde_json::Value::Null },
                (Some("builtin"), _) => {
                    if let Some(b) = Builtin::lookup(&pipeline.stages[0][0]) {
                        resolved[0] = Resolved::Builtin(b);
                    }
                }
                _ => {}
            }
        }
        done.limits = match &pinned {
            Some(p) => p.limits.clone(),
            None => {
                let program = match (single, &resolved[0]) {
                    (true, Resolved::Wasi { limits: l, .. } | Resolved::Native { limits: l, .. }) => Some(l),
                    _ => None,
                };
                effective_limits(s, c, &settings, program)
            }
        };
        let names: Vec<&str> = pipeline.stages.iter().map(|a| a[0].as_str()).collect();
        done.program = Some(names.join(" | "));
        done.program_kind = Some(match (single, &resolved[0]) {
            (false, _) => "pipeline",
            (true, Resolved::Builtin(_)) => "builtin",
            (true, Resolved::Wasi { .. }) => "wasi",
            (true, Resolved::NotFound(_)) => "not_found",
            (true, _) => "native",
        });
        if let (true, Resolved::Wasi { digest, .. }) = (single, &resolved[0]) {
            done.program_digest = Some(*digest);
        }
        if single {
            if let Resolved::NotFound(msg) = &resolved[0] {
                done.program_kind = None;
                done.out = RunOutput::failed(Outcome::NotFound, msg.clone());
                done.plan = planner.plan(&done.limits);
                return Ok(done);
            }
        }
        first = Some((pipeline, resolved));
    }
    run_line(s, &client, c, &mut done, list, first, cancel, live, &mut planner).await?;
    done.plan = planner.plan(&done.limits);
    Ok(done)
}

/// File contents for the virtual filesystem, fetched on first use through
/// the executor's blob cache (called from the runner's blocking threads).
struct DbBlobs {
    shared: Arc<Shared>,
    client: Arc<Client>,
    handle: tokio::runtime::Handle,
}

impl BlobSource for DbBlobs {
    fn get(&self, digest: &Digest) -> std::result::Result<Arc<Vec<u8>>, String> {
        let found = self.handle.block_on(self.shared.cache.blobs(&self.client, &[*digest])).map_err(|e| format!("{e:#}"))?;
        found.get(digest).cloned().ok_or_else(|| format!("contents {} are missing", hex::encode(digest)))
    }
}

/// Runs every part of a line (`a; b && c || d`, or one pipeline) against one
/// virtual filesystem, with one budget and one clock. Each part is expanded
/// and parsed when its turn comes, with the cwd and variables the parts
/// before it left (`mkdir d && cd d && export X=1`). The line stops at the
/// first part that does not simply exit (a timeout, a trap, a syntax error);
/// the exit status is the last part's.
#[allow(clippy::too_many_arguments)]
async fn run_line(
    s: &Arc<Shared>,
    client: &Arc<Client>,
    c: &Claimed,
    done: &mut Completion,
    list: Vec<(crate::parse::Connector, String)>,
    mut first: Option<(crate::parse::Pipeline, Vec<Resolved>)>,
    cancel: Arc<AtomicBool>,
    live: bool,
    planner: &mut Planner,
) -> Result<()> {
    use crate::parse::Connector;
    let started = Instant::now();
    let before = done.env_before.clone();
    let limits = done.limits.clone();
    let blobs: Arc<dyn BlobSource> = Arc::new(DbBlobs { shared: s.clone(), client: client.clone(), handle: tokio::runtime::Handle::current() });
    let vfs_limits = VfsLimits { max_bytes: limits.tree_bytes, max_files: limits.tree_files };
    let vfs = Arc::new(Mutex::new(Vfs::new(s.tree_of(&before), blobs.clone(), vfs_limits, c.clock_base_ns)));
    let (budget, by_time) = limits.budget();
    let backstop = Instant::now() + Duration::from_millis(limits.timeout_ms.saturating_mul(2).saturating_add(2_000));
    let line = Arc::new(Line::new(Budget::new(budget, limits.fuel_per_second), c.clock_base_ns, live, cancel, backstop, limits.stdout_bytes, limits.stderr_bytes));
    let multi = list.len() > 1;
    let (mut cwd, mut vars) = (before.env.cwd.clone(), before.env.vars.clone());
    let mut out = RunOutput { outcome: Some(Outcome::Exited), ..RunOutput::default() };
    let mut last_status = 0;
    for (index, (connector, text)) in list.into_iter().enumerate() {
        let runs = match connector {
            Connector::Always => true,
            Connector::IfOk => last_status == 0,
            Connector::IfFailed => last_status != 0,
        };
        if !runs {
            continue;
        }
        if line.cancelled() {
            out.cancelled = true;
            break;
        }
        let (p, resolved) = match first.take() {
            Some(x) => x,
            None => {
                let p = match crate::parse::parse(&text, &vars) {
                    Err(e) => {
                        let msg = format!("pg_shell: {e}");
                        line.stderr.lock().unwrap().push(format!("{msg}\n").as_bytes());
                        out.outcome = Some(Outcome::Rejected);
                        out.exit_code = Outcome::Rejected.conventional_exit_code();
                        out.error = Some(msg);
                        break;
                    }
                    Ok(p) if p.is_empty() => continue,
                    Ok(p) => p,
                };
                let mut resolved = Vec::with_capacity(p.stages.len());
                for argv in &p.stages {
                    resolved.push(planner.resolve(client, &argv[0]).await?.0);
                }
                (p, resolved)
            }
        };
        // A builtin on its own may change the cwd and variables.
        if let (Some(argv), Resolved::Builtin(b)) = (p.simple(), &resolved[0]) {
            let mut cx = builtin_context(client, c, *b).await?;
            let v = vfs.clone();
            cx.kind_of = Some(Arc::new(move |abs: &str| {
                let mut v = v.lock().unwrap();
                match v.lookup_nofollow(abs) {
                    Ok(Some(ino)) => Some(v.kind(ino).ok() == Some(VfsKind::Dir)),
                    _ => None,
                }
            }));
            if line.budget.remaining() < crate::run::BUILTIN_FUEL {
                line.budget.spend(line.budget.remaining());
                out.outcome = Some(if by_time { Outcome::Timeout } else { Outcome::FuelExhausted });
                break;
            }
            line.budget.spend(crate::run::BUILTIN_FUEL);
            let current = Env { cwd: cwd.clone(), vars: vars.clone(), tree: env::Tree::default(), ..Env::default() };
            let o = builtins::run(*b, argv, &current, &cx);
            line.stdout.lock().unwrap().push(o.stdout.as_bytes());
            line.stderr.lock().unwrap().push(o.stderr.as_bytes());
            (cwd, vars) = (o.cwd, o.vars);
            last_status = o.exit_code;
            out.exit_code = o.exit_code;
            out.trace.push(StageTrace { part: index, stage: 0, program: argv[0].clone(), kind: "builtin".into(), outcome: Outcome::Exited, exit_code: o.exit_code, fuel: crate::run::BUILTIN_FUEL });
            continue;
        }
        let stages = build_stages(s, client, c, &p, resolved).await?;
        // Each part gets randomness of its own, derived from the recorded seed.
        let mut seed_input = c.random_seed.to_vec();
        seed_input.extend_from_slice(&(index as u64).to_le_bytes());
        let seed: [u8; 16] = env::sha256(&seed_input)[..16].try_into().unwrap();
        let (s2, line2, vfs2, blobs2, lim2) = (s.clone(), line.clone(), vfs.clone(), blobs.clone(), limits.clone());
        let current = Env { cwd: cwd.clone(), vars: vars.clone(), tree: env::Tree::default(), ..Env::default() };
        let end = tokio::task::spawn_blocking(move || {
            let cx = crate::run::PipelineCtx { wasi: &s2.wasi, line: &line2, vfs: &vfs2, blobs: &blobs2, env: &current, limits: &lim2, seed, part: index };
            crate::run::run_pipeline(&cx, &stages, p.stdin.as_deref(), p.stdout.as_ref())
        })
        .await
        .context("the runtime thread panicked")?;
        out.trace.extend(end.trace.iter().cloned());
        last_status = end.exit_code;
        out.exit_code = end.exit_code;
        if end.cancelled {
            out.cancelled = true;
            break;
        }
        if end.out_of_budget {
            let (outcome, msg) = if by_time {
                (Outcome::Timeout, format!("timed out after {} ms", limits.timeout_ms))
            } else {
                (Outcome::FuelExhausted, format!("fuel exhausted ({} units)", limits.fuel))
            };
            line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
            out.outcome = Some(outcome);
            out.exit_code = outcome.conventional_exit_code();
            out.error = Some(msg);
            break;
        }
        match end.outcome {
            Outcome::Exited => {}
            Outcome::NotFound if multi => {}
            other => {
                out.outcome = Some(other);
                out.error = end.message;
                break;
            }
        }
    }
    // The files the line leaves (a cancelled line's changes are all discarded).
    let mut v = vfs.lock().unwrap();
    let mut refusals = std::mem::take(&mut v.refusals);
    refusals.dedup();
    for r in &refusals {
        line.stderr.lock().unwrap().push(format!("pg_shell: {r}\n").as_bytes());
    }
    if !refusals.is_empty() && out.error.is_none() {
        out.error = Some(refusals[0].clone());
    }
    // None: the files are the recorded ones.
    let tree = if out.cancelled {
        None
    } else {
        match v.commit() {
            Ok(Some((tree, new_blobs))) => {
                done.new_blobs = new_blobs;
                (tree != before.env.tree).then_some(tree)
            }
            Ok(None) => None,
            Err(e) => {
                let msg = format!("file changes discarded: {}", crate::runtime::vfs::errno_text(e));
                line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
                out.exit_code = out.exit_code.max(1);
                out.error = Some(msg);
                None
            }
        }
    };
    drop(v);
    let (stdout, so_dropped) = line.stdout.lock().unwrap().take();
    let (stderr, se_dropped) = line.stderr.lock().unwrap().take();
    out.stdout = stdout;
    out.stderr = stderr;
    out.stdout_truncated = so_dropped > 0;
    out.stderr_truncated = se_dropped > 0;
    out.fuel = Some(line.budget.used());
    out.run_us = started.elapsed().as_micros() as u64;
    if !out.cancelled && (tree.is_some() || cwd != before.env.cwd || vars != before.env.vars) {
        let tree = tree.unwrap_or_else(|| before.env.tree.clone());
        done.env_after = Arc::new(Env { cwd, vars, tree, shell: before.env.shell.clone() }.seal_from(&before));
    } else {
        done.new_blobs.clear();
    }
    done.out = out;
    Ok(())
}

/// Turns resolved programs into runnable stages (compiling or loading modules).
async fn build_stages(s: &Arc<Shared>, client: &Client, c: &Claimed, pipeline: &crate::parse::Pipeline, resolved: Vec<Resolved>) -> Result<Vec<Stage>> {
    let mut stages = Vec::with_capacity(resolved.len());
    for (argv, r) in pipeline.stages.iter().zip(resolved) {
        let argv = argv.clone();
        stages.push(match r {
            Resolved::Builtin(b) => Stage::Builtin(b, argv, builtin_context(client, c, b).await?),
            Resolved::Wasi { digest, .. } => {
                let module = match s.wasi.cached(&digest) {
                    Some(m) => m,
                    None => {
                        let blobs = s.cache.blobs(client, &[digest]).await?;
                        let wasm = blobs.get(&digest).context("the program's module is missing from blobs")?.clone();
                        let s2 = s.clone();
                        tokio::task::spawn_blocking(move || s2.wasi.prepare(&digest, &wasm)).await??
                    }
                };
                Stage::Wasi(module, argv)
            }
            Resolved::Native { path, .. } => Stage::Native(PathBuf::from(path), argv),
            Resolved::NotFound(msg) => Stage::NotFound(msg),
        });
    }
    Ok(stages)
}

/// Settings < program < session, with the wall clock capped by COMMAND_TIMEOUT.
fn effective_limits(s: &Shared, c: &Claimed, settings: &serde_json::Value, program: Option<&serde_json::Value>) -> Limits {
    let mut limits = Limits::default();
    limits.apply(settings);
    if let Some(p) = program {
        limits.apply(p);
    }
    limits.apply(&c.session_limits);
    if let Some(t) = s.config.command_timeout {
        limits.timeout_ms = limits.timeout_ms.min(t.as_millis() as u64);
    }
    limits
}

async fn settings(client: &Client) -> Result<serde_json::Value> {
    let v: Option<serde_json::Value> =
        client.query_one("select jsonb_object_agg(name, value) from pgshell.settings", &[]).await?.get(0);
    Ok(v.unwrap_or_default())
}

/// Data a builtin needs from the database, fetched only for the builtins that use it.
async fn builtin_context(client: &Client, c: &Claimed, b: Builtin) -> Result<builtins::Context> {
    let mut cx = builtins::Context::default();
    if b == Builtin::History {
        let rows = client
            .query(
                "select seq, line from pgshell.commands where session_id = $1 and seq < $2 order by seq",
                &[&c.session_id, &c.seq],
            )
            .await?;
        cx.history = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    }
    if b == Builtin::Help {
        let rows = client.query("select name from pgshell.programs where enabled order by name", &[]).await?;
        cx.programs = rows.iter().map(|r| r.get(0)).collect();
    }
    Ok(cx)
}

/// Resolves a program name and fetches the limit settings in one round trip.
/// Only this function decides what may run.
async fn resolve(client: &Client, name: &str) -> Result<(Resolved, serde_json::Value)> {
    let row = client
        .query_one(
            "select (select jsonb_object_agg(name, value) from pgshell.settings),
                    p.kind::text, p.module_digest, p.native_path, p.enabled, p.limits
             from (select 1) one left join pgshell.programs p on p.name = $1",
            &[&name],
        )
        .await
        .context("resolving the program")?;
    let settings: Option<serde_json::Value> = row.get(0);
    let settings = settings.unwrap_or_default();
    if let Some(b) = Builtin::lookup(name) {
        return Ok((Resolved::Builtin(b), settings));
    }
    if name.contains('/') {
        return Ok((
            Resolved::NotFound(format!("pg_shell: {name}: command not found (only registered programs run; host paths are not reachable)")),
            settings,
        ));
    }
    let kind: Option<String> = row.get(1);
    let enabled: Option<bool> = row.get(4);
    let limits: serde_json::Value = row.get::<_, Option<serde_json::Value>>(5).unwrap_or_default();
    let resolved = match (kind.as_deref(), enabled) {
        (Some(_), Some(false)) => Resolved::NotFound(format!("pg_shell: {name}: command disabled by the operator")),
        (Some("wasi"), _) => {
            let d: Vec<u8> = row.get(2);
            Resolved::Wasi { digest: Digest::try_from(d.as_slice()).context("bad module digest")?, limits }
        }
        (Some("native"), _) => Resolved::Native { path: row.get(3), limits },
        _ => Resolved::NotFound(format!("pg_shell: {name}: command not found")),
    };
    Ok((resolved, settings))
}

async fn store_completion(s: &Shared, c: &Claimed, status: &str, d: &Completion) -> Result<bool> {
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
    for (digest, data) in &d.new_blobs {
        blob_digests.push(digest.to_vec());
        blob_data.push(&data[..]);
    }
    let o = &d.out;
    let outcome = o.outcome.unwrap_or(Outcome::Error).as_str();
    let lossy = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(_) => None,
        Err(_) => Some(String::from_utf8_lossy(b).into_owned()),
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
        "env_after": (status == "done").then(|| hex::encode(d.env_after.digest)),
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
    if accepted && status == "done" {
        s.cache.remember_env(d.env_after.clone());
    }
    Ok(accepted)
}
