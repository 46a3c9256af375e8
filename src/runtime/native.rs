//! The native runtime: an operator-allow-listed host binary, run in the
//! command's materialized directory with a cleared environment, rlimits, a
//! wall-clock timeout that kills the whole process group, and capped output.
//!
//! Native commands are not sandboxed like WASI guests and are never claimed to
//! be deterministic. OS-specific code (rlimits, process groups, dropping root)
//! stays in the `os` module below, behind `cfg(unix)`.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::capped::CappedPipe;
use super::{Invocation, Outcome, RunOutput};

/// How often a waiting run checks for cancellation.
const CANCEL_POLL: Duration = Duration::from_millis(20);

pub fn run(path: &Path, inv: &Invocation<'_>) -> RunOutput {
    let started = Instant::now();
    let mut out = run_inner(path, inv);
    out.run_us = started.elapsed().as_micros() as u64;
    out
}

fn run_inner(path: &Path, inv: &Invocation<'_>) -> RunOutput {
    let cwd = inv.root.join(inv.cwd.trim_start_matches('/'));
    let mut cmd = Command::new(path);
    cmd.args(&inv.argv[1..])
        .env_clear()
        .envs(inv.vars)
        .current_dir(&cwd)
        .stdin(if inv.stdin.is_empty() { Stdio::null() } else { Stdio::piped() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Err(e) = os::confine(&mut cmd, inv) {
        return RunOutput::failed(Outcome::Error, format!("{}: cannot confine the process: {e}", inv.argv[0]));
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return RunOutput::failed(Outcome::Error, format!("{}: cannot start {}: {e}", inv.argv[0], path.display())),
    };
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
    let readers = [
        child.stdout.take().map(|s| drain(s, stdout.clone())),
        child.stderr.take().map(|s| drain(s, stderr.clone())),
    ];
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });

    let deadline = Instant::now() + Duration::from_millis(inv.limits.timeout_ms);
    let mut stopped: Option<Outcome> = None;
    let status = loop {
        let wait = deadline.saturating_duration_since(Instant::now()).min(CANCEL_POLL);
        match rx.recv_timeout(wait) {
            Ok(status) => break status,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if stopped.is_none() {
                    if inv.cancel.load(Ordering::Relaxed) {
                        stopped = Some(Outcome::Trap);
                        os::kill_group(pid);
                    } else if Instant::now() >= deadline {
                        stopped = Some(Outcome::Timeout);
                        os::kill_group(pid);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(std::io::Error::other("waiter thread ended"));
            }
        }
    };
    let _ = waiter.join();
    // Children of the command may still hold the pipes; the group kill above
    // (or this one) makes the readers see end-of-file.
    os::kill_group(pid);
    for r in readers.into_iter().flatten() {
        let _ = r.join();
    }
    let (so, st) = stdout.take();
    let (mut se, et) = stderr.take();

    let mut out = RunOutput {
        stdout: so,
        stdout_truncated: st,
        stderr_truncated: et,
        ..RunOutput::default()
    };
    match (stopped, status) {
        (Some(Outcome::Timeout), _) => {
            let msg = format!("timed out after {} ms", inv.limits.timeout_ms);
            se.extend_from_slice(format!("{}: {msg}\n", inv.argv[0]).as_bytes());
            out.outcome = Some(Outcome::Timeout);
            out.exit_code = Outcome::Timeout.conventional_exit_code();
            out.error = Some(msg);
        }
        (Some(_), _) => {
            out.cancelled = true;
            out.outcome = Some(Outcome::Trap);
            out.exit_code = 130;
            out.error = Some("cancelled".into());
        }
        (None, Ok(status)) => match status.code() {
            Some(code) => {
                out.outcome = Some(Outcome::Exited);
                out.exit_code = code;
            }
            None => {
                let sig = os::signal_of(&status).unwrap_or(0);
                let msg = format!("killed by signal {sig}");
                se.extend_from_slice(format!("{}: {msg}\n", inv.argv[0]).as_bytes());
                out.outcome = Some(Outcome::Trap);
                out.exit_code = 128 + sig;
                out.error = Some(msg);
            }
        },
        (None, Err(e)) => {
            let msg = format!("waiting for the process failed: {e}");
            se.extend_from_slice(format!("{}: {msg}\n", inv.argv[0]).as_bytes());
            out.outcome = Some(Outcome::Error);
            out.exit_code = Outcome::Error.conventional_exit_code();
            out.error = Some(msg);
        }
    }
    out.stderr = se;
    out
}

fn drain(mut from: impl Read + Send + 'static, into: CappedPipe) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.push(&buf[..n]),
            }
        }
    })
}

#[cfg(unix)]
mod os {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, ExitStatus};

    use super::Invocation;

    /// The unprivileged user native commands run as when the executor is root.
    const NOBODY: libc::uid_t = 65534;

    /// `setrlimit` with soft = hard = `value`. A macro because the resource
    /// constant's type differs between Linux (u32) and macOS (i32).
    macro_rules! set_limit {
        ($resource:expr, $value:expr) => {{
            let lim = libc::rlimit {
                rlim_cur: $value as libc::rlim_t,
                rlim_max: $value as libc::rlim_t,
            };
            if libc::setrlimit($resource, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }};
    }


    /// New process group (so a timeout kills grandchildren too), rlimits, and
    /// no root: when the executor runs as root the command runs as `nobody`.
    pub fn confine(cmd: &mut Command, inv: &Invocation<'_>) -> std::io::Result<()> {
        cmd.process_group(0);
        let cpu_secs = inv.limits.timeout_ms.div_ceil(1000) + 1;
        let mem = inv.limits.memory_bytes;
        let fsize = inv.limits.tree_bytes;
        let drop_root = unsafe { libc::geteuid() } == 0;
        if drop_root {
            chown_tree(inv.root, NOBODY)?;
        }
        // SAFETY: only async-signal-safe calls (setrlimit, setgroups, setgid,
        // setuid) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                set_limit!(libc::RLIMIT_CPU, cpu_secs);
                set_limit!(libc::RLIMIT_FSIZE, fsize);
                set_limit!(libc::RLIMIT_CORE, 0);
                #[cfg(target_os = "linux")]
                set_limit!(libc::RLIMIT_AS, mem);
                #[cfg(not(target_os = "linux"))]
                let _ = mem; // macOS does not enforce RLIMIT_AS
                if drop_root
                    && (libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(NOBODY as libc::gid_t) != 0
                        || libc::setuid(NOBODY) != 0)
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(())
    }

    fn chown_tree(root: &std::path::Path, uid: libc::uid_t) -> std::io::Result<()> {
        let mut stack = vec![root.to_path_buf()];
        while let Some(p) = stack.pop() {
            std::os::unix::fs::lchown(&p, Some(uid), Some(uid as libc::gid_t))?;
            if std::fs::symlink_metadata(&p)?.is_dir() {
                for e in std::fs::read_dir(&p)? {
                    stack.push(e?.path());
                }
            }
        }
        Ok(())
    }

    pub fn kill_group(pid: u32) {
        // SAFETY: plain syscall; the group id is the child's pid (process_group(0)).
        unsafe {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
    }

    pub fn signal_of(status: &ExitStatus) -> Option<i32> {
        status.signal()
    }
}

#[cfg(not(unix))]
mod os {
    use std::process::{Command, ExitStatus};
    pub fn confine(_cmd: &mut Command, _inv: &super::Invocation<'_>) -> std::io::Result<()> {
        Err(std::io::Error::other("native programs are supported on Unix only"))
    }
    pub fn kill_group(_pid: u32) {}
    pub fn signal_of(_status: &ExitStatus) -> Option<i32> {
        None
    }
}
