//! Runtimes: run resolved programs and report what happened as data. WASI
//! guests run against the virtual filesystem (`vfs`) with the line's pipes,
//! budget and clocks (`line`); native programs in a host directory laid out
//! from it (`native`).
//!
//! A guest's exit status, trap, timeout, fuel or memory exhaustion is an
//! [`Outcome`] in a [`RunOutput`], never an `Err`: `Err` from a runtime means
//! the host could not do its job (a module would not compile, a directory
//! could not be created). Runtimes know nothing about PostgreSQL.

pub mod capped;
pub mod line;
pub mod native;
pub mod vfs;
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
    /// A cap on the line's fuel besides the time budget (0: none).
    pub fuel: u64,
    /// Fuel that stands for one second of COMMAND_TIMEOUT (calibrated on the
    /// executor's host; recorded with the command, so replays use the same).
    #[serde(default = "default_fuel_per_second")]
    pub fuel_per_second: u64,
    pub timeout_ms: u64,
    pub memory_bytes: u64,
    pub stdout_bytes: usize,
    pub stderr_bytes: usize,
    pub tree_bytes: u64,
    pub tree_files: usize,
    /// Program runs (WASI or native) one line may start.
    #[serde(default = "default_max_runs")]
    pub max_runs: u64,
    /// Pathname expansion (`*`, `?`, `[...]`); off gives shlex-only words.
    #[serde(default = "default_glob")]
    pub glob: bool,
    /// Which top-level directories a WASI guest gets a named preopen for,
    /// besides `/`. Part of what a command ran under (the preopens a guest
    /// sees change its fuel), so records made before `args` replay as `all`.
    #[serde(default = "recorded_before_named_preopens")]
    pub named_preopens: NamedPreopens,
    /// The terminal the client said it is (`api.submit`'s `terminal`),
    /// which WASI guests see: `isatty(1)`/`isatty(2)` and TERM, COLUMNS,
    /// LINES in their environment. Part of what a command ran under (it
    /// changes `ls`'s output and every guest's fuel); absent, as in every
    /// record made before it, guests see no terminal and nothing is
    /// serialized, so those records keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<Terminal>,
}

/// A client's terminal, as recorded with a command (validated by
/// `pgshell.valid_terminal`, migration 0015).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terminal {
    /// Output goes to a terminal: stdout and stderr report themselves as
    /// one (a character device without seek rights, as wasi-libc's isatty checks).
    pub tty: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<u16>,
}

impl Terminal {
    /// The variables a guest gets from the terminal (TERM, COLUMNS, LINES),
    /// each only where the session does not set it itself.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if let Some(t) = &self.term {
            v.push(("TERM", t.clone()));
        }
        if let Some(c) = self.columns {
            v.push(("COLUMNS", c.to_string()));
        }
        if let Some(l) = self.lines {
            v.push(("LINES", l.to_string()));
        }
        v
    }
}

/// See [`Limits::named_preopens`] and ARCHITECTURE.md ("Why our own preview 1").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedPreopens {
    /// Every top-level directory (up to 16, in name order): what commands
    /// recorded before December 2026 ran with; `cd /d; ls ..` fails there.
    All,
    /// Only top-level directories an argument word names.
    Args,
}

fn recorded_before_named_preopens() -> NamedPreopens {
    NamedPreopens::All
}

fn default_max_runs() -> u64 {
    10_000
}

fn default_glob() -> bool {
    true
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 0,
            fuel_per_second: default_fuel_per_second(),
            timeout_ms: 30_000,
            memory_bytes: 256 << 20,
            stdout_bytes: 1 << 20,
            stderr_bytes: 256 << 10,
            tree_bytes: 64 << 20,
            tree_files: 10_000,
            max_runs: default_max_runs(),
            glob: default_glob(),
            named_preopens: NamedPreopens::Args,
            terminal: None,
        }
    }
}

/// Measured on the reference machine (2 cores, wasmtime 48): a loop of
/// guest instructions burns about this much fuel per second.
pub const DEFAULT_FUEL_PER_SECOND: u64 = 8_000_000_000;

fn default_fuel_per_second() -> u64 {
    DEFAULT_FUEL_PER_SECOND
}

impl Limits {
    /// The line's one budget in fuel: the time limit at `fuel_per_second`,
    /// or the fuel cap if that is lower. The bool says whether the time
    /// limit is what binds (running out is then a timeout).
    pub fn budget(&self) -> (u64, bool) {
        let time = (self.timeout_ms as u128 * self.fuel_per_second as u128 / 1000).min(u64::MAX as u128) as u64;
        if self.fuel != 0 && self.fuel < time {
            (self.fuel, false)
        } else {
            (time, true)
        }
    }

    /// Applies overrides from a JSON object (`{"fuel": 1000, ...}`); unknown
    /// keys and values of the wrong type are ignored.
    pub fn apply(&mut self, overrides: &serde_json::Value) {
        let Some(map) = overrides.as_object() else { return };
        let get = |k: &str| map.get(k).and_then(|v| v.as_u64());
        if let Some(v) = get("fuel") { self.fuel = v; }
        if let Some(v) = get("fuel_per_second") { self.fuel_per_second = v.max(1); }
        if let Some(v) = get("timeout_ms") { self.timeout_ms = v; }
        if let Some(v) = get("memory_bytes") { self.memory_bytes = v; }
        if let Some(v) = get("stdout_bytes") { self.stdout_bytes = v as usize; }
        if let Some(v) = get("stderr_bytes") { self.stderr_bytes = v as usize; }
        if let Some(v) = get("tree_bytes") { self.tree_bytes = v; }
        if let Some(v) = get("tree_files") { self.tree_files = v as usize; }
        if let Some(v) = get("max_runs") { self.max_runs = v; }
        if let Some(v) = map.get("glob").and_then(|v| v.as_bool()) { self.glob = v; }
        if let Some(v) = map.get("named_preopens").and_then(|v| serde_json::from_value(v.clone()).ok()) {
            self.named_preopens = v;
        }
    }
}

/// What a native program runs with. (WASI stages take a `wasi::StageSpec`.)
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
    /// Set by the executor when the user cancels the command.
    pub cancel: Arc<AtomicBool>,
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
    /// What each stage that ran did, in the order they ran (parts of a list
    /// one after another, stages of a pipeline left to right).
    pub trace: Vec<StageTrace>,
}

/// What a program name resolved to, as plans and traces record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    Builtin,
    Function,
    Wasi,
    Native,
    NotFound,
}

impl ProgramKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramKind::Builtin => "builtin",
            ProgramKind::Function => "function",
            ProgramKind::Wasi => "wasi",
            ProgramKind::Native => "native",
            ProgramKind::NotFound => "not_found",
        }
    }
}

/// One program run of a line, for the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTrace {
    pub part: usize,
    pub stage: usize,
    pub program: String,
    pub kind: ProgramKind,
    pub outcome: Outcome,
    pub exit_code: i32,
    pub fuel: u64,
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
