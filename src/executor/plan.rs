//! Planning: the only code that decides what may run. Program names are
//! resolved here (builtin > the programs table: wasi | native > not found),
//! live or from a command's recorded plan, and every decision is recorded in
//! the plan's pin table; limits are settled here too.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::Shared;
use crate::env::Digest;
use crate::runtime::native::Policy;
use crate::runtime::{Limits, ProgramKind};

/// What resolving a program name found (builtins and functions are the
/// shell's, never looked up here).
pub(super) enum Resolved {
    Wasi { digest: Digest, limits: serde_json::Value },
    Native { path: String, policy: Policy, limits: serde_json::Value },
    NotFound(String),
}

/// What a program name resolved to, as a command's plan records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    pub kind: ProgramKind,
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
    /// A name the shell itself ran (a builtin or a function): nothing to pin
    /// but the kind.
    pub(super) fn shell(kind: ProgramKind) -> Pin {
        Pin { kind, digest: None, path: None, message: None, policy: None }
    }

    pub(super) fn of(r: &Resolved) -> Pin {
        match r {
            Resolved::Wasi { digest, .. } => Pin { digest: Some(digest.to_hex()), ..Pin::shell(ProgramKind::Wasi) },
            Resolved::Native { path, policy, .. } => {
                Pin { path: Some(path.clone()), policy: Some(policy.clone()), ..Pin::shell(ProgramKind::Native) }
            }
            Resolved::NotFound(m) => Pin { message: Some(m.clone()), ..Pin::shell(ProgramKind::NotFound) },
        }
    }

    pub(super) fn resolved(&self, name: &str) -> Result<Resolved> {
        Ok(match self.kind {
            ProgramKind::Wasi => {
                let d = Digest::from_hex(self.digest.as_deref().unwrap_or("")).context("a malformed module digest in the recorded plan")?;
                Resolved::Wasi { digest: d, limits: serde_json::Value::Null }
            }
            // The recorded policy; a record from before policies ran with the
            // default (most confined) one.
            ProgramKind::Native => Resolved::Native {
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

/// A replay runs a native program only if the operator marked it
/// replay-safe (today, under the same name and path); otherwise the stage is
/// refused with this message and nothing runs.
pub const NOT_REPLAYABLE: &str = "not replayable (native)";

pub(super) async fn replay_refusal(client: &Client, rerun: bool, name: &str, path: &str) -> Result<Option<String>> {
    if !rerun {
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
pub(super) fn effective_limits(s: &Shared, session_limits: &serde_json::Value, settings: &serde_json::Value, program: Option<&serde_json::Value>) -> Limits {
    let mut limits = Limits::default();
    limits.apply(settings);
    if let Some(p) = program {
        limits.apply(p);
    }
    limits.apply(session_limits);
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
