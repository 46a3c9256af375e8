//! The native runtime: an operator-allow-listed host binary, run in a private
//! per-command directory laid out from the session's files.
//!
//! What a native program gets (README "Native programs" says the same to
//! operators):
//!
//! - **an environment built from an allow-list** ([`environment`]): a fixed
//!   `PATH`, `PWD`/`HOME`/`TMPDIR` pointing into its own directory, the
//!   session's values of a few harmless names ([`DEFAULT_ENV`]), and the names
//!   the operator allow-listed for this program (`--allow-env`). Nothing
//!   else: no `LD_PRELOAD`, `BASH_ENV`, `PYTHONPATH`, ... ever arrives unless
//!   an operator names it;
//! - **descriptors 0, 1 and 2 only** (everything else is closed at exec);
//! - **its own identity and directory** ([`scratch`]): a uid of the
//!   configured range, a 0700 directory that only it can enter, a size limit
//!   the kernel enforces while it runs (a tmpfs of `tree_bytes` plus page
//!   slack, and `RLIMIT_FSIZE`), not on /dev/shm;
//! - **containment**: every process it starts ends with it (a cgroup v2 per
//!   command killed through `cgroup.kill`, and a PID namespace whose init
//!   exits with the program, which ends the rest); the timeout kills on time and nothing
//!   waits for a pipe's end-of-file past it;
//! - **no network and a minimal filesystem** (Linux namespaces: no
//!   interfaces but a down loopback; a root holding its binary, the
//!   libraries, a few devices, `/tmp` and its directory), unless the operator
//!   registered it with `--network` / `--host-view`.
//!
//! Whatever the OS cannot give is said in the command's stderr
//! ([`Isolation::shortfalls`]), never skipped silently. OS code lives in
//! `native/os.rs` (unix) with its Linux part in `native/linux.rs`.
//!
//! Native commands are never claimed to be deterministic; replays run them
//! only when the operator marked them replay-safe (`executor::plan`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::capped::CappedPipe;
use super::{Invocation, Outcome, RunOutput};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(unix)]
mod os;
pub mod scratch;

#[cfg(not(unix))]
mod os {
    pub fn mount_quota(_dir: &std::path::Path, _bytes: u64, _inodes: u64, _uid: u32, _mounted: bool) -> bool {
        false
    }
    pub fn is_mount_point(_dir: &std::path::Path) -> bool {
        false
    }
    pub fn fs_used(_dir: &std::path::Path) -> Option<u64> {
        None
    }
}

pub use scratch::Scratch;

/// How often a waiting run checks for cancellation, the deadline and (where
/// no quota is enforced by the kernel) the size of its files.
const POLL: Duration = Duration::from_millis(20);

/// How long the output is still read after every process of the command
/// has been killed (their pipes end at once then; this only bounds a
/// platform that cannot kill them all).
const DRAIN_GRACE: Duration = Duration::from_millis(250);

/// Tests only: start native programs as if no cgroup could be made (so the
/// PID namespace fallback is exercised on hosts that have cgroups).
#[doc(hidden)]
pub static WITHOUT_CGROUPS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A resolved native program: the binary and the operator's choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub path: PathBuf,
    pub policy: Policy,
}

/// What the operator decided for one native program (the programs table's
/// `allow_env`, `host_view`, `network`; recorded in the command's plan).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Session variables passed beyond [`DEFAULT_ENV`]: names, or prefixes
    /// ending in `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_env: Vec<String>,
    /// The host's filesystem instead of the minimal view.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub host_view: bool,
    /// The host's network instead of none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub network: bool,
}

/// Session variables a native program gets by default (when the session
/// has them). None of them makes a loader, libc or an interpreter load code;
/// the locale and time zone ones are passed only when their value is a name,
/// not a path (`/...` or with `..`), since those name files to parse.
pub const DEFAULT_ENV: &[&str] = &[
    "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC",
    "LC_TIME", "TZ", "TERM", "COLUMNS", "LINES", "NO_COLOR",
];

/// The `PATH` every native program gets (the session's is never used: it
/// could name the session's own files).
pub const NATIVE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

fn names_a_file(name: &str, value: &str) -> bool {
    let pathish = name == "TZ" || name == "LANG" || name == "LANGUAGE" || name.starts_with("LC_");
    pathish && (value.starts_with('/') || value.starts_with(':') || value.contains(".."))
}

fn allowed(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => p == name,
    })
}

/// The whole environment of a native program: built from allow-lists, never
/// by removing names from the session's variables.
pub fn environment(vars: &BTreeMap<String, String>, policy: &Policy, root: &Path, cwd: &Path, tmp: &Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in vars {
        let default = DEFAULT_ENV.contains(&k.as_str()) && !names_a_file(k, v);
        if default || allowed(&policy.allow_env, k) {
            env.insert(k.clone(), v.clone());
        }
    }
    // The virtual paths the session knows, as the host paths the program sees.
    let home = vars.get("HOME").filter(|h| h.starts_with('/')).map(|h| root.join(h.trim_start_matches('/'))).unwrap_or_else(|| root.to_path_buf());
    if !allowed(&policy.allow_env, "HOME") {
        env.insert("HOME".into(), home.to_string_lossy().into_owned());
    }
    if !allowed(&policy.allow_env, "PATH") {
        env.insert("PATH".into(), NATIVE_PATH.into());
    }
    env.insert("PWD".into(), cwd.to_string_lossy().into_owned());
    env.insert("TMPDIR".into(), tmp.to_string_lossy().into_owned());
    env
}

/// What confinement a run actually got (Linux reports it from the child).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Isolation {
    /// Every process of the command ends with it (cgroup or PID namespace).
    pub contained: bool,
    pub cgroup: bool,
    pub pid_namespace: bool,
    pub network_namespace: bool,
    /// The minimal filesystem view (a mount namespace with its own root).
    pub minimal_view: bool,
    /// A uid of its own (not shared with any other command).
    pub own_uid: bool,
    /// The kernel bounds its files' total while it runs.
    pub quota: bool,
    /// Why a namespace could not be had, when it could not.
    pub unshare_error: Option<String>,
}

impl Isolation {
    /// What the policy asked for and the run did not get, as sentences for
    /// the command's stderr (empty when nothing is missing).
    pub fn shortfalls(&self, policy: &Policy) -> Vec<String> {
        let why = self.unshare_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
        let mut v = Vec::new();
        if !self.contained {
            v.push("processes it starts in a new session can outlive it (no cgroup or PID namespace here)".to_string());
        }
        if !policy.network && !self.network_namespace {
            v.push(format!("it had the host's network{why}"));
        }
        if !policy.host_view && !self.minimal_view {
            v.push(format!("it saw the host's filesystem{why}"));
        }
        if !self.own_uid {
            v.push("it ran as the executor's user, not an identity of its own".to_string());
        }
        if !self.quota {
            v.push("its files' size was watched, not bounded by the kernel".to_string());
        }
        v
    }
}

pub fn run(program: &Program, inv: &Invocation<'_>, scratch: &Scratch) -> RunOutput {
    let started = Instant::now();
    let mut out = run_inner(program, inv, scratch);
    out.run_us = started.elapsed().as_micros() as u64;
    out
}

/// What `os::spawn` hands back: the child, and what it got.
pub(crate) struct Spawned {
    pub child: std::process::Child,
    pub isolation: Isolation,
    /// Kills every process of the command (cgroup, process group, PID
    /// namespace through its first process) and waits until they are gone
    /// where the OS can tell.
    pub killer: Box<dyn FnMut() + Send>,
}

fn run_inner(program: &Program, inv: &Invocation<'_>, scratch: &Scratch) -> RunOutput {
    let name = &inv.argv[0];
    #[cfg(unix)]
    let spawned = os::spawn(program, inv, scratch);
    #[cfg(not(unix))]
    let spawned: std::io::Result<Spawned> = Err(std::io::Error::other("native programs are supported on Unix only"));
    let Spawned { child, isolation, mut killer } = match spawned {
        Ok(s) => s,
        Err(e) => return RunOutput::failed(Outcome::Error, format!("{name}: cannot start {}: {e}", program.path.display())),
    };
    let mut child = child;
    if let Some(mut pipe) = child.stdin.take() {
        let data = inv.stdin.to_vec();
        // A reader that stops early closes the pipe; the write error is expected.
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&data);
        });
    }
    let stdout = CappedPipe::new(inv.limits.stdout_bytes);
    let stderr = CappedPipe::new(inv.limits.stderr_bytes);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut readers = 0;
    if let Some(s) = child.stdout.take() {
        drain(s, stdout.clone(), done_tx.clone());
        readers += 1;
    }
    if let Some(s) = child.stderr.take() {
        drain(s, stderr.clone(), done_tx.clone());
        readers += 1;
    }
    drop(done_tx);
    // The exit is seen the moment it happens (a thread waits for it), the
    // rest every POLL.
    let (exit_tx, exit_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });

    let deadline = Instant::now() + Duration::from_millis(inv.limits.timeout_ms);
    let mut stopped: Option<(Outcome, String)> = None;
    let mut next_size_check = Instant::now();
    let mut quota_hit = false;
    let status = loop {
        let wait = POLL.min(deadline.saturating_duration_since(Instant::now())).max(Duration::from_millis(1));
        match exit_rx.recv_timeout(wait) {
            Ok(status) => break status,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Err(std::io::Error::other("the waiting thread ended")),
        }
        let now = Instant::now();
        if inv.cancel.load(Ordering::Relaxed) {
            stopped = Some((Outcome::Trap, "cancelled".into()));
        } else if now >= deadline {
            stopped = Some((Outcome::Timeout, format!("timed out after {} ms", inv.limits.timeout_ms)));
        } else if now >= next_size_check {
            next_size_check = now + Duration::from_millis(100);
            if isolation.quota {
                // Remembered even if the program deletes files afterwards.
                quota_hit |= scratch.full();
            } else if scratch.usage() > inv.limits.tree_bytes {
                // No kernel quota here: the files' total is watched instead.
                stopped = Some((Outcome::Trap, format!("stopped: its files passed tree_bytes ({} bytes)", inv.limits.tree_bytes)));
            }
        }
        if stopped.is_some() {
            killer();
            break exit_rx.recv().unwrap_or_else(|_| Err(std::io::Error::other("the waiting thread ended")));
        }
    };
    // Whatever the program left running dies now; its pipes end with it.
    killer();
    let drain_until = Instant::now() + DRAIN_GRACE;
    let mut drained = 0;
    while drained < readers {
        match done_rx.recv_timeout(drain_until.saturating_duration_since(Instant::now())) {
            Ok(()) => drained += 1,
            Err(_) => break,
        }
    }
    let (so, st) = stdout.take();
    let (mut se, et) = stderr.take();
    let note = |se: &mut Vec<u8>, msg: &str| se.extend_from_slice(format!("pg_shell: {name}: {msg}\n").as_bytes());
    if drained < readers {
        note(&mut se, "stopped reading its output: a process that escaped the command still holds it");
    }
    for s in isolation.shortfalls(&program.policy) {
        note(&mut se, &format!("ran without full isolation: {s}"));
    }

    let mut out = RunOutput { stdout: so, stdout_truncated: st, stderr_truncated: et, ..RunOutput::default() };
    match (stopped, status) {
        (Some((Outcome::Timeout, msg)), _) => {
            se.extend_from_slice(format!("{name}: {msg}\n").as_bytes());
            out.outcome = Some(Outcome::Timeout);
            out.exit_code = Outcome::Timeout.conventional_exit_code();
            out.error = Some(msg);
        }
        (Some((_, msg)), _) if msg == "cancelled" => {
            out.cancelled = true;
            out.outcome = Some(Outcome::Trap);
            out.exit_code = 130;
            out.error = Some(msg);
        }
        (Some((outcome, msg)), _) => {
            se.extend_from_slice(format!("{name}: {msg}\n").as_bytes());
            out.outcome = Some(outcome);
            out.exit_code = outcome.conventional_exit_code();
            out.error = Some(msg);
        }
        (None, Ok(status)) => match status.code() {
            Some(code) => {
                out.outcome = Some(Outcome::Exited);
                out.exit_code = code;
            }
            None => {
                let sig = signal_of(&status).unwrap_or(0);
                let msg = if sig == XFSZ {
                    format!("killed by signal {sig}: a file passed the size limit (tree_bytes, {} bytes)", inv.limits.tree_bytes)
                } else {
                    format!("killed by signal {sig}")
                };
                se.extend_from_slice(format!("{name}: {msg}\n").as_bytes());
                out.outcome = Some(Outcome::Trap);
                out.exit_code = 128 + sig;
                out.error = Some(msg);
            }
        },
        (None, Err(e)) => {
            let msg = format!("waiting for the process failed: {e}");
            se.extend_from_slice(format!("{name}: {msg}\n").as_bytes());
            out.outcome = Some(Outcome::Error);
            out.exit_code = Outcome::Error.conventional_exit_code();
            out.error = Some(msg);
        }
    }
    // A write the quota refused is the command's record too, whatever the
    // program made of its ENOSPC: for a plain exit, `error` carries only
    // this (the caller records it as the line's refusal).
    if isolation.quota && (quota_hit || scratch.full()) && out.error.is_none() {
        out.error = Some(format!("a native program's writes were refused: its files reached the size limit (tree_bytes, {} bytes)", inv.limits.tree_bytes));
        if out.exit_code == 0 {
            out.exit_code = 1;
        }
    }
    out.stderr = se;
    out
}

#[cfg(unix)]
const XFSZ: i32 = libc::SIGXFSZ;
#[cfg(not(unix))]
const XFSZ: i32 = -1;

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}
#[cfg(not(unix))]
fn signal_of(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}

fn drain(mut from: impl Read + Send + 'static, into: CappedPipe, done: mpsc::Sender<()>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.push(&buf[..n]),
            }
        }
        let _ = done.send(());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_environment_is_built_from_allow_lists() {
        let v = vars(&[
            ("USER", "alice"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "/tmp/evil-locale"),
            ("TZ", "Europe/Paris"),
            ("LD_PRELOAD", "./evil.so"),
            ("BASH_ENV", "x"),
            ("PYTHONPATH", "x"),
            ("GCONV_PATH", "."),
            ("PATH", "./"),
            ("HOME", "/h"),
            ("MY_SETTING", "1"),
            ("SHELL", "pg_shell"),
        ]);
        let root = Path::new("/s/root");
        let e = environment(&v, &Policy::default(), root, Path::new("/s/root/d"), Path::new("/tmp"));
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(keys, ["HOME", "LANG", "PATH", "PWD", "TMPDIR", "TZ", "USER"]);
        assert_eq!(e["PATH"], NATIVE_PATH);
        assert_eq!(e["HOME"], "/s/root/h");
        assert_eq!(e["PWD"], "/s/root/d");
        let p = Policy { allow_env: vec!["MY_*".into(), "LD_PRELOAD".into()], ..Policy::default() };
        let e = environment(&v, &p, root, root, Path::new("/tmp"));
        assert_eq!(e.get("MY_SETTING").map(String::as_str), Some("1"));
        assert_eq!(e.get("LD_PRELOAD").map(String::as_str), Some("./evil.so"), "only because the operator named it");
        assert!(!e.contains_key("BASH_ENV"));
    }
}
