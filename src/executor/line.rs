//! Running one command line: the executor's side of the shell. The line is
//! parsed and interpreted by `shell::run_line` on a thread of its own; this
//! file answers what the interpreter asks of the database (limits, program
//! resolution through the planner, history, the program list) and turns its
//! result into the command's record.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::output::{Streamer, FLUSH_EVERY};
use super::plan::{effective_limits, settings, Pinned, Planner, Resolved};
use super::{Claimed, Completion, Shared};
use crate::env::{Digest, Env};
use crate::runtime::vfs::BlobSource;
use crate::runtime::Limits;
use crate::shell::{self, Program};

pub(super) async fn prepare_and_run(s: &Arc<Shared>, c: &Claimed, cancel: Arc<AtomicBool>) -> Result<Completion> {
    run_command(s, c, cancel, None).await
}

pub(super) async fn run_command(s: &Arc<Shared>, c: &Claimed, cancel: Arc<AtomicBool>, pinned: Option<Pinned>) -> Result<Completion> {
    let client = s.db.get().await?;
    let (env_before, new_env_before) = match &c.env_before {
        Some(d) => (s.cache.env(&client, d).await?, false),
        None => (Arc::new(Env::initial(&c.owner).seal()), true),
    };
    let live = pinned.is_none();
    let host = ExecHost {
        shared: s.clone(),
        client: client.clone(),
        handle: tokio::runtime::Handle::current(),
        claimed: ClaimedInfo {
            session_id: c.session_id,
            seq: c.seq,
            session_limits: c.session_limits.clone(),
            terminal: c.terminal.clone(),
            rerun: c.rerun,
            live_claim: (live && !c.rerun).then_some((c.id, c.token)),
        },
        planner: Mutex::new(Planner::new(pinned.as_ref().and_then(|p| p.programs.clone()))),
        pinned,
        legacy_used: Mutex::new(false),
    };
    let stdin = input_of(&client, c).await?;
    let blobs: Arc<dyn BlobSource> = Arc::new(DbBlobs { shared: s.clone(), client: client.clone(), handle: tokio::runtime::Handle::current() });
    let base = s.tree_of(&env_before);
    let (line, clock_base_ns, seed) = (c.line.clone(), c.clock_base_ns, c.random_seed);
    let before = env_before.clone();
    let s2 = s.clone();
    let mut streamer = (live && !c.rerun).then(|| Streamer::new(c.id, c.token));
    let tap = streamer.as_ref().map(|st| st.tap.clone());
    let run = tokio::task::spawn_blocking(move || {
        let spec = shell::LineSpec {
            text: &line,
            env: &before.env,
            base,
            blobs,
            host: &host,
            wasi: &s2.wasi,
            clock_base_ns,
            seed,
            live,
            cancel,
            tap,
            stdin,
        };
        let r = shell::run_line(&spec);
        (r, host)
    });
    let (result, host) = match streamer.as_mut() {
        None => run.await,
        Some(st) => {
            tokio::pin!(run);
            let wake = st.wake.clone();
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let done = loop {
                tokio::select! {
                    r = &mut run => break r,
                    _ = tick.tick() => st.flush(&client, false).await,
                    _ = wake.notified() => st.flush(&client, false).await,
                }
            };
            st.flush(&client, true).await;
            done
        }
    }
    .context("the shell's thread panicked")?;
    let r = result?;
    let plan = {
        let mut planner = host.planner.lock().unwrap();
        for (name, kind) in &r.shell_names {
            planner.table.entry(name.clone()).or_insert_with(|| super::plan::Pin::shell(*kind));
        }
        planner.plan(&r.limits)
    };
    let env_after = if !r.out.cancelled && (r.tree.is_some() || r.cwd != env_before.env.cwd || r.vars != env_before.env.vars || r.shell != env_before.env.shell) {
        let tree = r.tree.clone().unwrap_or_else(|| env_before.env.tree.clone());
        Arc::new(Env { cwd: r.cwd, vars: r.vars, tree, shell: r.shell }.seal_from(&env_before))
    } else {
        env_before.clone()
    };
    Ok(Completion {
        out: r.out,
        argv: r.argv,
        program: r.program,
        program_kind: r.program_kind,
        program_digest: r.program_digest,
        limits: r.limits,
        env_after,
        env_before,
        new_env_before,
        new_blobs: if r.tree.is_some() { r.new_blobs } else { Vec::new() },
        plan,
    })
}

/// The command's recorded stdin (0018): its blob, read past the file cache
/// (an upload is read once) and checked against its digest.
async fn input_of(client: &Client, c: &Claimed) -> Result<shell::Input> {
    if let Some(why) = &c.input_refused {
        return Ok(shell::Input::Refused(why.clone()));
    }
    let Some(d) = c.input else { return Ok(shell::Input::None) };
    let row = client
        .query_opt("select data from pgshell.blobs where digest = $1", &[&d.as_slice()])
        .await
        .context("loading the command's input")?
        .with_context(|| format!("the command's input {} is missing from blobs", hex::encode(d)))?;
    let data: Vec<u8> = row.get(0);
    anyhow::ensure!(crate::env::sha256(&data) == d, "the command's input {} does not match its digest", hex::encode(d));
    Ok(shell::Input::Bytes(Arc::new(data)))
}

struct ClaimedInfo {
    session_id: uuid::Uuid,
    seq: i32,
    session_limits: serde_json::Value,
    terminal: Option<crate::runtime::Terminal>,
    /// A replay's re-run (native programs run only if replay-safe).
    rerun: bool,
    /// The queued command's id and claim token, when this is its live run.
    live_claim: Option<(i64, uuid::Uuid)>,
}

/// What the interpreter asks of the database, answered on its thread by
/// blocking on the executor's runtime.
struct ExecHost {
    shared: Arc<Shared>,
    client: Arc<Client>,
    handle: tokio::runtime::Handle,
    claimed: ClaimedInfo,
    planner: Mutex<Planner>,
    pinned: Option<Pinned>,
    /// A record from before plans pinned one module: used for its first program.
    legacy_used: Mutex<bool>,
}

impl shell::Host for ExecHost {
    fn limits(&self, sole_program: Option<&str>) -> Result<Limits> {
        if let Some(p) = &self.pinned {
            return Ok(p.limits.clone());
        }
        self.handle.block_on(async {
            let settings = settings(&self.client).await?;
            let program = match sole_program {
                Some(name) => match self.planner.lock().unwrap().resolve(&self.client, name).await?.0 {
                    Resolved::Wasi { limits, .. } | Resolved::Native { limits, .. } => Some(limits),
                    Resolved::NotFound(_) => None,
                },
                None => None,
            };
            let mut limits = effective_limits(&self.shared, &self.claimed.session_limits, &settings, program.as_ref());
            limits.terminal = self.claimed.terminal.clone();
            Ok(limits)
        })
    }

    fn resolve(&self, name: &str) -> Result<Program> {
        if let Some(p @ Pinned { programs: None, against_current: false, .. }) = &self.pinned {
            let mut used = self.legacy_used.lock().unwrap();
            if !*used && p.program_kind.as_deref() == Some("wasi") {
                if let Some(d) = p.program_digest {
                    *used = true;
                    return self.module(d);
                }
            }
        }
        let r = self.handle.block_on(async { self.planner.lock().unwrap().resolve(&self.client, name).await })?.0;
        match r {
            Resolved::Wasi { digest, .. } => self.module(digest),
            Resolved::Native { path, policy, .. } => {
                let refusal = self.handle.block_on(super::plan::replay_refusal(&self.client, self.claimed.rerun, name, &path))?;
                // Before a native program may act outside pg_shell, the
                // command is marked, so a rescue does not run it twice
                // (unless the operator marked the program retry-safe).
                if let (None, Some((id, token))) = (&refusal, self.claimed.live_claim) {
                    self.handle.block_on(self.client.execute("select pgshell.native_started($1, $2, $3)", &[&id, &token, &name]))?;
                }
                Ok(match refusal {
                    Some(msg) => Program::NotFound(msg),
                    None => Program::Native(crate::runtime::native::Program { path: path.into(), policy }),
                })
            }
            Resolved::NotFound(msg) => Ok(Program::NotFound(msg)),
        }
    }

    fn history(&self) -> Result<Vec<(i32, String)>> {
        self.handle.block_on(async {
            let rows = self
                .client
                .query(
                    "select seq, line from pgshell.commands where session_id = $1 and seq < $2 order by seq",
                    &[&self.claimed.session_id, &self.claimed.seq],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn programs(&self) -> Result<Vec<String>> {
        self.handle.block_on(async {
            let rows = self.client.query("select name from pgshell.programs where enabled order by name", &[]).await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
}

impl ExecHost {
    /// A module ready to run: compiled once per executor, fetched from blobs.
    fn module(&self, digest: Digest) -> Result<Program> {
        let s = &self.shared;
        if let Some(m) = s.wasi.cached(&digest) {
            return Ok(Program::Wasi(m));
        }
        let blobs = self.handle.block_on(s.cache.blobs(&self.client, &[digest]))?;
        let wasm = blobs.get(&digest).context("the program's module is missing from blobs")?.clone();
        Ok(Program::Wasi(s.wasi.prepare(&digest, &wasm)?))
    }
}

/// File contents for the virtual filesystem, fetched on first use through
/// the executor's blob cache (called from the runner's blocking threads).
pub(super) struct DbBlobs {
    pub(super) shared: Arc<Shared>,
    pub(super) client: Arc<Client>,
    pub(super) handle: tokio::runtime::Handle,
}

impl BlobSource for DbBlobs {
    fn get(&self, digest: &Digest) -> std::result::Result<Arc<Vec<u8>>, String> {
        let found = self.handle.block_on(self.shared.cache.blobs(&self.client, &[*digest])).map_err(|e| format!("{e:#}"))?;
        found.get(digest).cloned().ok_or_else(|| format!("contents {} are missing", hex::encode(digest)))
    }
}

