//! Running one pipeline of a command line: its stages stream into each other
//! through the line's pipes, its redirections open files of the virtual
//! filesystem, and what reaches the terminal goes to the line's capped sinks.
//!
//! Blocking code: call it from a thread of its own. It knows nothing about
//! PostgreSQL: the executor resolves programs first (`Stage`), and reads the
//! result from the [`Line`] and the [`Vfs`] afterwards.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::builtins::{self, Builtin};
use crate::env::{self, resolve_path, Env, TreeLimits};
use crate::parse::Redirect;
use crate::runtime::line::Line;
use crate::runtime::vfs::{BlobSource, Kind, Vfs};
use crate::runtime::wasi::{Prepared, StageEnd, StageSpec, Stdio, WasiRuntime, SIGPIPE_STATUS};
use crate::runtime::{native, Invocation, Limits, Outcome, StageTrace};

/// Fuel a builtin costs (the interpreter's work, not measured per step yet).
pub const BUILTIN_FUEL: u64 = 20_000;

/// One resolved stage of a pipeline, ready to run.
pub enum Stage {
    Builtin(Builtin, Vec<String>, builtins::Context),
    Wasi(Prepared, Vec<String>),
    Native(native::Program, Vec<String>),
    /// An unknown or refused program: fails its own stage (status 127).
    NotFound(String),
}

impl Stage {
    fn name(&self) -> String {
        match self {
            Stage::Builtin(_, a, _) | Stage::Wasi(_, a) | Stage::Native(_, a) => a[0].clone(),
            Stage::NotFound(_) => String::new(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Stage::Builtin(..) => "builtin",
            Stage::Wasi(..) => "wasi",
            Stage::Native(..) => "native",
            Stage::NotFound(_) => "not_found",
        }
    }
}

/// What a pipeline did.
pub struct PipelineEnd {
    /// The last stage's status, or that of the first stage that did not simply exit.
    pub exit_code: i32,
    pub outcome: Outcome,
    pub message: Option<String>,
    pub cancelled: bool,
    pub out_of_budget: bool,
    pub trace: Vec<StageTrace>,
}

/// Everything the stages of one pipeline share.
pub struct PipelineCtx<'a> {
    pub wasi: &'a WasiRuntime,
    pub line: &'a Arc<Line>,
    pub vfs: &'a Arc<Mutex<Vfs>>,
    pub blobs: &'a Arc<dyn BlobSource>,
    pub env: &'a Env,
    pub limits: &'a Limits,
    /// Seed of this part's randomness.
    pub seed: [u8; 16],
    pub part: usize,
}

fn stage_seed(seed: &[u8; 16], stage: usize) -> [u8; 32] {
    let mut v = seed.to_vec();
    v.extend_from_slice(b"stage");
    v.extend_from_slice(&(stage as u64).to_le_bytes());
    env::sha256(&v)
}

/// A redirection's failure: recorded as the shell's own error, status 1.
fn redirect_failure(cx: &PipelineCtx<'_>, path: &str, why: &str) -> PipelineEnd {
    let msg = format!("{path}: {why}");
    cx.line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
    PipelineEnd { exit_code: 1, outcome: Outcome::Exited, message: Some(msg), cancelled: false, out_of_budget: false, trace: Vec::new() }
}

pub fn run_pipeline(cx: &PipelineCtx<'_>, stages: &[Stage], stdin: Option<&str>, stdout: Option<&Redirect>) -> PipelineEnd {
    let now = cx.line.wall_now(0);
    let stdin_io = match stdin {
        None => Stdio::Null,
        Some(f) => {
            let abs = resolve_path(&cx.env.cwd, f);
            let mut v = cx.vfs.lock().unwrap();
            match v.lookup_nofollow(&abs) {
                Ok(Some(ino)) if v.kind(ino).ok() == Some(Kind::File) => Stdio::File { ino, append: false },
                Ok(Some(_)) => return redirect_failure(cx, f, "Is a directory"),
                Ok(None) => return redirect_failure(cx, f, "No such file or directory"),
                Err(why) => return redirect_failure(cx, f, why),
            }
        }
    };
    let stdout_io = match stdout {
        None => Stdio::Terminal,
        Some(r) => {
            let abs = resolve_path(&cx.env.cwd, &r.path);
            match cx.vfs.lock().unwrap().open_for_redirect(&abs, r.append, now) {
                Ok(ino) => Stdio::File { ino, append: r.append },
                Err(why) => return redirect_failure(cx, &r.path, &why),
            }
        }
    };
    let n = stages.len();
    cx.line.start_pipeline(n);
    let io = |i: usize| {
        let sin = if i == 0 { stdin_io } else { Stdio::Pipe(i - 1) };
        let sout = if i + 1 == n { stdout_io } else { Stdio::Pipe(i) };
        (sin, sout)
    };
    let ends: Vec<StageEnd> = std::thread::scope(|sc| {
        let handles: Vec<_> = (1..n)
            .map(|i| {
                let (sin, sout) = io(i);
                let stage = &stages[i];
                std::thread::Builder::new()
                    .name(format!("pg_shell-stage-{i}"))
                    .spawn_scoped(sc, move || run_one(cx, stage, i, sin, sout))
                    .expect("starting a pipeline stage thread")
            })
            .collect();
        let (sin, sout) = io(0);
        let mut ends = vec![run_one(cx, &stages[0], 0, sin, sout)];
        for h in handles {
            ends.push(h.join().unwrap_or_else(|_| StageEnd {
                outcome: Outcome::Error,
                exit_code: 126,
                fuel: 0,
                message: Some("a pipeline stage panicked".into()),
                cancelled: false,
                out_of_budget: false,
            }));
        }
        ends
    });
    let trace: Vec<StageTrace> = ends
        .iter()
        .zip(stages)
        .enumerate()
        .map(|(i, (e, s))| StageTrace { part: cx.part, stage: i, program: s.name(), kind: s.kind().into(), outcome: e.outcome, exit_code: e.exit_code, fuel: e.fuel })
        .collect();
    let last = ends.last().unwrap();
    let mut end = PipelineEnd {
        exit_code: last.exit_code,
        outcome: Outcome::Exited,
        message: None,
        cancelled: ends.iter().any(|e| e.cancelled),
        out_of_budget: ends.iter().any(|e| e.out_of_budget),
        trace,
    };
    // A stage that did not simply exit (a timeout, a trap, an unknown
    // program) gives the pipeline its outcome; the first one, left to right.
    if let Some(bad) = ends.iter().find(|e| e.outcome != Outcome::Exited && e.outcome != Outcome::NotFound).or_else(|| {
        (n == 1).then_some(last).filter(|e| e.outcome == Outcome::NotFound)
    }) {
        end.outcome = bad.outcome;
        end.exit_code = bad.exit_code;
        end.message = bad.message.clone();
    }
    end
}

fn run_one(cx: &PipelineCtx<'_>, stage: &Stage, i: usize, sin: Stdio, sout: Stdio) -> StageEnd {
    cx.line.begin(i);
    let end = if cx.line.cancelled() {
        StageEnd { outcome: Outcome::Trap, exit_code: 134, fuel: 0, message: Some("cancelled".into()), cancelled: true, out_of_budget: false }
    } else {
        match stage {
            Stage::Wasi(module, argv) => {
                let spec = StageSpec {
                    module,
                    argv,
                    vars: &cx.env.vars,
                    stage: i,
                    stdin: sin,
                    stdout: sout,
                    seed: stage_seed(&cx.seed, i),
                    memory_bytes: cx.limits.memory_bytes,
                };
                let end = cx.wasi.run_stage(cx.line, cx.vfs, &spec);
                if let Some(m) = &end.message {
                    if !end.out_of_budget && !end.cancelled {
                        cx.line.stderr.lock().unwrap().push(format!("{}: {m}\n", argv[0]).as_bytes());
                    }
                }
                end
            }
            Stage::Builtin(b, argv, bcx) => run_builtin(cx, *b, argv, bcx, i, sout),
            Stage::Native(program, argv) => run_native(cx, program, argv, i, sin, sout),
            Stage::NotFound(msg) => {
                cx.line.stderr.lock().unwrap().push(format!("{msg}\n").as_bytes());
                StageEnd { outcome: Outcome::NotFound, exit_code: 127, fuel: 0, message: Some(msg.clone()), cancelled: false, out_of_budget: false }
            }
        }
    };
    cx.line.finish(i);
    end
}

/// Writes a non-WASI stage's output where its stdout goes; false if the
/// reader of its pipe has gone (the stage then ends as by SIGPIPE).
fn emit(cx: &PipelineCtx<'_>, i: usize, sout: Stdio, data: &[u8]) -> Result<bool, String> {
    match sout {
        Stdio::Terminal => cx.line.stdout.lock().unwrap().push(data),
        Stdio::Pipe(p) => return Ok(cx.line.write_all(i, p, data)),
        Stdio::File { ino, append } => {
            let now = cx.line.wall_now(0);
            let mut v = cx.vfs.lock().unwrap();
            let _ = append; // a builtin writes once, after the open truncated or not
            let at = v.size(ino).unwrap_or(0);
            let put = v.write_at(ino, at, data, now).map_err(crate::runtime::vfs::errno_text)?;
            if put < data.len() {
                return Err(crate::runtime::vfs::errno_text(crate::runtime::vfs::Errno::Nospc));
            }
        }
        Stdio::Null => {}
    }
    Ok(true)
}

fn run_builtin(cx: &PipelineCtx<'_>, b: Builtin, argv: &[String], bcx: &builtins::Context, i: usize, sout: Stdio) -> StageEnd {
    let mut end = StageEnd { outcome: Outcome::Exited, exit_code: 0, fuel: BUILTIN_FUEL, message: None, cancelled: false, out_of_budget: false };
    if cx.line.budget.remaining() < BUILTIN_FUEL {
        cx.line.budget.spend(cx.line.budget.remaining());
        end.outcome = Outcome::Timeout;
        end.exit_code = 124;
        end.out_of_budget = true;
        return end;
    }
    cx.line.budget.spend(BUILTIN_FUEL);
    // Inside a pipeline a builtin's changes to cwd and variables are dropped.
    let o = builtins::run(b, argv, cx.env, bcx);
    cx.line.stderr.lock().unwrap().push(o.stderr.as_bytes());
    end.exit_code = o.exit_code;
    match emit(cx, i, sout, o.stdout.as_bytes()) {
        Ok(true) => {}
        Ok(false) => end.exit_code = SIGPIPE_STATUS,
        Err(why) => {
            cx.line.stderr.lock().unwrap().push(format!("{}: write error: {why}\n", argv[0]).as_bytes());
            end.exit_code = 1;
        }
    }
    end
}

/// A native program in a line: its input is read to the end first (bounded
/// by the tree limit), it runs in a host directory laid out from the virtual
/// filesystem as it is now, and the files it leaves are applied back.
fn run_native(cx: &PipelineCtx<'_>, program: &native::Program, argv: &[String], i: usize, sin: Stdio, sout: Stdio) -> StageEnd {
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
        Stdio::File { ino, .. } => match cx.vfs.lock().unwrap().read_all(ino) {
            Ok(b) => b.to_vec(),
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
