//! Runtimes: run one resolved command against a materialized directory and
//! report what happened as data.
//!
//! A guest's exit status, trap, timeout, fuel or memory exhaustion is an
//! [`Outcome`] in a [`RunOutput`], never an `Err`: `Err` from a runtime means
//! the host could not do its job (a module would not compile, a directory
//! could not be created). Runtimes know nothing about PostgreSQL.

pub mod capped;
pub mod native;
pub mod wasi;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How a command ended. Stored as `pgshell.command_outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Exited,
    Timeout,
    FuelExhausted,
    MemoryLimit,
    Trap,
    NotFound,
    Rejected,
    Lost,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Exited => "exited",
            Outcome::Timeout => "timeout",
            Outcome::FuelExhausted => "fuel_exhausted",
            Outcome::MemoryLimit => "memory_limit",
            Outcome::Trap => "trap",
            Outcome::NotFound => "not_found",
            Outcome::Rejected => "rejected",
            Outcome::Lost => "lost",
            Outcome::Error => "error",
        }
    }

    /// The exit status a shell user expects for an outcome that is not a
    /// plain exit (bash habits: 124 timeout, 127 not found, 128+signal).
    pub fn conventional_exit_code(self) -> i32 {
        match self {
            Outcome::Exited => 0,
            Outcome::Timeout => 124,
            Outcome::FuelExhausted => 152,  // 128 + SIGXCPU
            Outcome::MemoryLimit => 137,    // 128 + SIGKILL, as the OOM killer
            Outcome::Trap => 134,           // 128 + SIGABRT
            Outcome::NotFound => 127,
            Outcome::Rejected => 2,
            Outcome::Lost => 137,
            Outcome::Error => 126,
        }
    }
}

/// Limits a command runs under, resolved from settings, program and session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub fuel: u64,
    pub timeout_ms: u64,
    pub memory_bytes: u64,
    pub stdout_bytes: usize,
    pub stderr_bytes: usize,
    pub tree_bytes: u64,
    pub tree_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 50_000_000_000,
            timeout_ms: 30_000,
            memory_bytes: 256 << 20,
            stdout_bytes: 1 << 20,
            stderr_bytes: 256 << 10,
            tree_bytes: 64 << 20,
            tree_files: 10_000,
        }
    }
}

impl Limits {
    /// Applies overrides from a JSON object (`{"fuel": 1000, ...}`); unknown
    /// keys and values of the wrong type are ignored.
    pub fn apply(&mut self, overrides: &serde_json::Value) {
        let Some(map) = overrides.as_object() else { return };
        let get = |k: &str| map.get(k).and_then(|v| v.as_u64());
        if let Some(v) = get("fuel") { self.fuel = v; }
        if let Some(v) = get("timeout_ms") { self.timeout_ms = v; }
        if let Some(v) = get("memory_bytes") { self.memory_bytes = v; }
        if let Some(v) = get("stdout_bytes") { self.stdout_bytes = v as usize; }
        if let Some(v) = get("stderr_bytes") { self.stderr_bytes = v as usize; }
        if let Some(v) = get("tree_bytes") { self.tree_bytes = v; }
        if let Some(v) = get("tree_files") { self.tree_files = v as usize; }
    }
}

/// Everything a runtime needs to run one command. All of it is recorded with
/// the command, so the run can be repeated exactly.
pub struct Invocation<'a> {
    pub argv: &'a [String],
    /// Bytes the command reads on stdin (a pipe's or a `<` file's; else empty).
    pub stdin: &'a [u8],
    pub vars: &'a BTreeMap<String, String>,
    /// Absolute guest path of the working directory.
    pub cwd: &'a str,
    /// Host directory holding the session's files (the guest's `/`).
    pub root: &'a Path,
    pub limits: &'a Limits,
    /// Recorded wall-clock start, nanoseconds since the Unix epoch.
    pub clock_base_ns: i64,
    /// Virtual time earlier stages or parts of the same command used up: the
    /// guest's clocks go on from there (`sleepy 5000; date`).
    pub clock_elapsed_ns: u64,
    pub random_seed: [u8; 16],
    /// Set by the executor when the user cancels the command.
    pub cancel: Arc<AtomicBool>,
    /// Modification times (ns) of the files as materialized; any other time a
    /// guest sees belongs to a change made during this run.
    pub recorded_mtimes: std::collections::HashSet<u64>,
}

/// What a run produced.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    pub outcome: Option<Outcome>,
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub fuel: Option<u64>,
    pub error: Option<String>,
    pub run_us: u64,
    /// The run was stopped because the user cancelled it.
    pub cancelled: bool,
    /// File times the guest set explicitly (ns); the scan keeps them.
    pub set_times: Vec<u64>,
    /// Virtual time used up when the run ended (see `Invocation::clock_elapsed_ns`).
    pub clock_elapsed_ns: u64,
}

impl RunOutput {
    /// A result with no output: a rejected line, an unknown program, ...
    pub fn failed(outcome: Outcome, message: String) -> RunOutput {
        let mut stderr = message.clone().into_bytes();
        stderr.push(b'\n');
        RunOutput {
            outcome: Some(outcome),
            exit_code: outcome.conventional_exit_code(),
            stderr,
            error: Some(message),
            ..RunOutput::default()
        }
    }
}
