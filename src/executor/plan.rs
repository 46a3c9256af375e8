//! Planning: the only code that decides what may run. Program names are
//! resolved here (builtin > the programs table: wasi | native > not found),
//! live or from a command's recorded plan, and every decision is recorded in
//! the plan's pin table; limits are settled here too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::{Claimed, Shared};
use crate::builtins::{self, Builtin};
use crate::env::Digest;
use crate::run::Stage;
use crate::runtime::native::{Policy, Program};
use crate::runtime::Limits;

/// What resolving argv[0] found.
pub(super) enum Resolved {
    Builtin(Builtin),
    Wasi { digest: Digest, limits: serde_json::Value },
    Native { path: String, policy: Policy, limits: serde_json::Value },
    NotFound(String),
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
    /// The operator's confinement choices it ran under (native).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

impl Pin {
    pub(super) fn of(r: &Resolved) -> Pin {
        let mut pin = Pin { kind: String::new(), digest: None, path: None, message: None, policy: None };
        match r {
            Resolved::Builtin(_) => pin.kind = "builtin".into(),
            Resolved::Wasi { digest, .. } => {
                pin.kind = "wasi".into();
                pin.digest = Some(hex::encode(digest));
            }
            Resolved::Native { path, policy, .. } => {
                pin.kind = "native".into();
                pin.path = Some(path.clone());
                pin.policy = Some(policy.clone());
            }
            Resolved::NotFound(m) => {
                pin.kind = "not_found".into();
                pin.message = Some(m.clone());
            }
        }
        pin
    }

    pub(super) fn resolved(&self, name: &str) -> Result<Resolved> {
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
            // The recorded policy; a record from before policies ran with the
            // default (most confined) one.
            "native" => Resolved::Native {
                path: self.path.clone().unwrap_or_default(),
                policy: self.policy.clone().unwrap_or_default(),
                limits: serde_json::Value::Null,
            },
            _ => Resolved::NotFound(self.message.clone().unwrap_or_else(|| format!("pg_shell: {name}: command not found"))),
        })
    }
}

/// The only place that decides what may run: resolves program names (from
/// the programs table, or from a recorded plan on replay) and records every
/// decision in the plan's table, in the order first used.
pub(super) struct Planner {
    pub(super) recorded: Option<BTreeMap<String, Pin>>,
    pub(super) table: BTreeMap<String, Pin>,
}

impl Planner {
    pub(super) fn new(recorded: Option<BTreeMap<String, Pin>>) -> Planner {
        Planner { recorded, table: BTreeMap::new() }
    }

    /// The program `name` names, and the settings (only when looked up live).
    pub(super) async fn resolve(&mut self, client: &Client, name: &str) -> Result<(Resolved, serde_json::Value)> {
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

    pub(super) fn plan(&self, limits: &Limits) -> serde_json::Value {
        serde_json::json!({ "programs": self.table, "limits": limits })
    }
}

/// What a re-run takes from the record instead of resolving afresh.
pub(super) struct Pinned {
    /// The recorded plan's pins (None: a record from before plans, or a
    /// re-run against today's registrations).
    pub(super) programs: Option<BTreeMap<String, Pin>>,
    pub(super) against_current: bool,
    pub(super) program_kind: Option<String>,
    pub(super) program_digest: Option<Digest>,
    pub(super) limits: Limits,
}

/// Turns resolved programs into runnable stages (compiling or loading modules).
pub(super) async fn build_stages(s: &Arc<Shared>, client: &Client, c: &Claimed, pipeline: &crate::parse::Pipeline, resolved: Vec<Resolved>) -> Result<Vec<Stage>> {
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
            Resolved::Native { path, policy, .. } => match replay_refusal(client, c, &argv[0], &path).await? {
                Some(msg) => Stage::NotFound(msg),
                None => Stage::Native(Program { path: PathBuf::from(path), policy }, argv),
            },
            Resolved::NotFound(msg) => Stage::NotFound(msg),
        });
    }
    Ok(stages)
}

/// A replay runs a native program only if the operator marked it
/// replay-safe (today, under the same name and path); otherwise the stage is
/// refused with this message and nothing runs.
pub const NOT_REPLAYABLE: &str = "not replayable (native)";

async fn replay_refusal(client: &Client, c: &Claimed, name: &str, path: &str) -> Result<Option<String>> {
    if !c.rerun {
        return Ok(None);
    }
    let safe: Option<bool> = client
        .query_opt(
            "select replay_safe from pgshell.programs where name = $1 and kind = 'native' and native_path = $2 and enabled",
            &[&name, &path],
        )
        .await?
        .map(|r| r.get(0));
    Ok((safe != Some(true)).then(|| format!("pg_shell: {name}: {NOT_REPLAYABLE}: the operator has not marked {path} replay-safe")))
}

/// Settings < program < session, with the wall clock capped by COMMAND_TIMEOUT.
pub(super) fn effective_limits(s: &Shared, c: &Claimed, settings: &serde_json::Value, program: Option<&serde_json::Value>) -> Limits {
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

pub(super) async fn settings(client: &Client) -> Result<serde_json::Value> {
    let v: Option<serde_json::Value> =
        client.query_one("select jsonb_object_agg(name, value) from pgshell.settings", &[]).await?.get(0);
    Ok(v.unwrap_or_default())
}

/// Data a builtin needs from the database, fetched only for the builtins that use it.
pub(super) async fn builtin_context(client: &Client, c: &Claimed, b: Builtin) -> Result<builtins::Context> {
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
pub(super) async fn resolve(client: &Client, name: &str) -> Result<(Resolved, serde_json::Value)> {
    let row = client
        .query_one(
            "select (select jsonb_object_agg(name, value) from pgshell.settings),
                    p.kind::text, p.module_digest, p.native_path, p.enabled, p.limits,
                    p.allow_env, p.host_view, p.network
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
        (Some("native"), _) => Resolved::Native {
            path: row.get(3),
            policy: Policy { allow_env: row.get(6), host_view: row.get(7), network: row.get(8) },
            limits,
        },
        _ => Resolved::NotFound(format!("pg_shell: {name}: command not found")),
    };
    Ok((resolved, settings))
}
