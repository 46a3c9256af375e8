//! Running one command line: what is recorded about it (argv, program,
//! kind, digest, limits), then every part of it against one virtual
//! filesystem, one budget and one clock, through `run::run_pipeline`.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::plan::{build_stages, builtin_context, effective_limits, settings, Pinned, Planner, Resolved};
use super::{Claimed, Completion, Shared};
use crate::builtins::{self, Builtin};
use crate::env::{self, Digest, Env};
use crate::runtime::line::{Budget, Line};
use crate::runtime::vfs::{BlobSource, Kind as VfsKind, Vfs, VfsLimits};
use crate::runtime::{Limits, Outcome, RunOutput, StageTrace};

pub(super) async fn prepare_and_run(s: &Arc<Shared>, c: &Claimed, cancel: Arc<AtomicBool>) -> Result<Completion> {
    run_command(s, c, cancel, None).await
}

pub(super) async fn run_command(s: &Arc<Shared>, c: &Claimed, cancel: Arc<AtomicBool>, pinned: Option<Pinned>) -> Result<Completion> {
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

/// Runs every part of a line (`a; b && c || d`, or one pipeline) against one
/// virtual filesystem, with one budget and one clock. Each part is expanded
/// and parsed when its turn comes, with the cwd and variables the parts
/// before it left (`mkdir d && cd d && export X=1`). The line stops at the
/// first part that does not simply exit (a timeout, a trap, a syntax error);
/// the exit status is the last part's.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_line(
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
    // Only a backstop: the budget ends a line deterministically; this ends
    // one on a host far slower than its calibration (or overloaded).
    let backstop = Instant::now() + Duration::from_millis(limits.timeout_ms.saturating_mul(4).saturating_add(5_000));
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
