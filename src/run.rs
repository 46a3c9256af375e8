//! Running a native program as one stage of a line: its input is read to
//! the end first, it runs in a host directory laid out from the virtual
//! filesystem, and the files it leaves are applied back. (WASI programs run
//! in `runtime::wasi`, everything else in the shell, `crate::shell`.)
//!
//! Blocking code: call it from a thread of its own. It knows nothing about
//! PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::env::{self, Env, TreeLimits};
use crate::runtime::line::Line;
use crate::runtime::vfs::{BlobSource, Vfs};
use crate::runtime::wasi::{StageEnd, Stdio, WasiRuntime, SIGPIPE_STATUS};
use crate::runtime::{native, Invocation, Limits, Outcome};

/// Everything a native stage needs from its line.
pub struct PipelineCtx<'a> {
    pub wasi: &'a WasiRuntime,
    pub line: &'a Arc<Line>,
    pub vfs: &'a Arc<Mutex<Vfs>>,
    pub blobs: &'a Arc<dyn BlobSource>,
    /// The program's working directory and variables.
    pub env: &'a Env,
    pub limits: &'a Limits,
    /// Seed of this run's randomness.
    pub seed: [u8; 16],
    /// The run's number in the line.
    pub part: usize,
}

/// Writes a native stage's output where its stdout goes; false if the
/// reader of its pipe has gone (the stage then ends as by SIGPIPE).
fn emit(cx: &PipelineCtx<'_>, i: usize, sout: Stdio, data: &[u8]) -> Result<bool, String> {
    match sout {
        Stdio::Terminal => cx.line.stdout.lock().unwrap().push(data),
        Stdio::TerminalErr => cx.line.stderr.lock().unwrap().push(data),
        Stdio::Pipe(p) => return Ok(cx.line.write_all(i, p, data)),
        Stdio::Capture(k) => {
            if !cx.line.capture_write(k, data) {
                cx.line.note_capture_overflow();
                return Ok(false);
            }
        }
        Stdio::File { ino, append, ofd } => {
            let now = cx.line.wall_now(0);
            let mut v = cx.vfs.lock().unwrap();
            let at = if append { v.size(ino).unwrap_or(0) } else { cx.line.ofd_get(ofd) };
            let put = v.write_at(ino, at, data, now).map_err(crate::runtime::vfs::errno_text)?;
            cx.line.ofd_set(ofd, at + put as u64);
            if put < data.len() {
                return Err(crate::runtime::vfs::errno_text(crate::runtime::vfs::Errno::Nospc));
            }
        }
        Stdio::Null => {}
    }
    Ok(true)
}

/// A native program in a line: its input is read to the end first (bounded
/// by the tree limit), it runs in a host directory laid out from the virtual
/// filesystem as it is now, and the files it leaves are applied back.
pub fn run_native(cx: &PipelineCtx<'_>, program: &native::Program, argv: &[String], i: usize, sin: Stdio, sout: Stdio) -> StageEnd {
    let started = Instant::now();
    let fail = |msg: String| {
        cx.line.stderr.lock().unwrap().push(format!("{}: {msg}\n", argv[0]).as_bytes());
        StageEnd { outcome: Outcome::Error, exit_code: 126, fuel: 0, message: Some(msg), cancelled: false, out_of_budget: false }
    };
    let cap = cx.limits.tree_bytes as usize;
    let input = match sin {
        Stdio::Pipe(p) => match cx.line.read_to_end(i, p, cap) {
            Ok(b) => b,
            Err(_) => return fail(format!("input from the pipe exceeds {cap} bytes (native programs read their whole input first)")),
        },
        Stdio::File { ino, ofd, .. } => match cx.vfs.lock().unwrap().read_all(ino) {
            Ok(b) => b.get(cx.line.ofd_get(ofd) as usize..).unwrap_or_default().to_vec(),
            Err(e) => return fail(crate::runtime::vfs::errno_text(e)),
        },
        _ => Vec::new(),
    };
    let committed = cx.vfs.lock().unwrap().commit();
    let (tree, blobs) = match committed {
        Ok(Some(x)) => x,
        Ok(None) => (cx.vfs.lock().unwrap().base_tree().clone(), Vec::new()),
        Err(e) => return fail(format!("cannot read the session's files: {}", crate::runtime::vfs::errno_text(e))),
    };
    let local: std::collections::HashMap<_, _> = blobs.into_iter().collect();
    // A private directory and identity of its own (runtime::native::scratch).
    let work = match native::Scratch::new(cx.limits.tree_bytes, cx.limits.tree_files, tree.file_count()) {
        Ok(w) => w,
        Err(e) => return fail(format!("{e:#}")),
    };
    let vfs = cx.vfs.clone();
    let source = cx.blobs.clone();
    if let Err(e) = env::materialize(&work.root(), &tree, |d| local.get(d).cloned().or_else(|| vfs.lock().unwrap().local_blob(d)).or_else(|| source.get(d).ok())) {
        return fail(format!("cannot lay out the session's files: {e:#}"));
    }
    let remaining_ms = (cx.line.budget.remaining() as u128 * 1000 / cx.line.budget.fuel_per_second as u128).max(1) as u64;
    let mut limits = cx.limits.clone();
    limits.timeout_ms = remaining_ms.min(cx.limits.timeout_ms);
    let to_terminal = matches!(sout, Stdio::Terminal);
    if !to_terminal {
        limits.stdout_bytes = cap;
    }
    let root = work.root();
    let inv = Invocation { argv, stdin: &input, vars: &cx.env.vars, cwd: &cx.env.cwd, root: &root, limits: &limits, cancel: cx.line.cancel.clone() };
    let out = native::run(program, &inv, &work);
    // Its time counts against the line's budget.
    let spent = (started.elapsed().as_nanos() * cx.line.budget.fuel_per_second as u128 / 1_000_000_000).min(u64::MAX as u128) as u64;
    let spent = spent.min(cx.line.budget.remaining());
    cx.line.budget.spend(spent);
    let now = cx.line.wall_now(0);
    let tl = TreeLimits { max_bytes: cx.limits.tree_bytes, max_files: cx.limits.tree_files };
    let mut end = StageEnd {
        outcome: out.outcome.unwrap_or(Outcome::Error),
        exit_code: out.exit_code,
        fuel: spent,
        message: out.error.clone(),
        cancelled: out.cancelled,
        out_of_budget: false,
    };
    cx.line.stderr.lock().unwrap().push(&out.stderr);
    // A plain exit with an error: writes its quota refused; recorded as the
    // line's refusals are (stderr and the command's error).
    if let (Outcome::Exited, Some(msg)) = (end.outcome, &out.error) {
        cx.vfs.lock().unwrap().refusals.push(msg.clone());
    }
    if out.stderr_truncated {
        cx.line.stderr.lock().unwrap().push(b"pg_shell: the native program's stderr was cut at its limit\n");
    }
    if !out.cancelled {
        match env::scan(&work.root(), &tree, now, &[], tl) {
            Ok(scan) => {
                for note in &scan.notes {
                    cx.line.stderr.lock().unwrap().push(format!("pg_shell: {note}\n").as_bytes());
                }
                let fresh: std::collections::HashMap<_, _> = scan.new_blobs.into_iter().map(|(d, b)| (d, Arc::new(b))).collect();
                let mut merged = local.clone();
                merged.extend(fresh);
                if let Err(e) = cx.vfs.lock().unwrap().apply(&tree, &scan.tree, &merged, now) {
                    let msg = format!("file changes of the native program could not be applied: {e}");
                    cx.line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
                    end.exit_code = end.exit_code.max(1);
                    end.message = Some(msg);
                }
            }
            Err(e) => {
                let msg = format!("file changes discarded: {e}");
                cx.line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
                if end.exit_code == 0 {
                    end.exit_code = 1;
                }
                end.message = Some(msg);
            }
        }
    }
    if out.stdout_truncated && !to_terminal {
        let msg = format!("output exceeds {cap} bytes and was cut");
        cx.line.stderr.lock().unwrap().push(format!("{}: {msg}\n", argv[0]).as_bytes());
        end.exit_code = end.exit_code.max(1);
        end.message = Some(msg);
    }
    match emit(cx, i, sout, &out.stdout) {
        Ok(true) => {}
        Ok(false) => end.exit_code = SIGPIPE_STATUS,
        Err(why) => {
            cx.line.stderr.lock().unwrap().push(format!("{}: write error: {why}\n", argv[0]).as_bytes());
            end.exit_code = end.exit_code.max(1);
        }
    }
    if to_terminal && out.stdout_truncated {
        cx.line.stdout.lock().unwrap().note_dropped();
    }
    end
}
