//! The WASI runtime: wasmtime 48 running preview 1 modules, with every
//! preview 1 function implemented here, against the virtual filesystem
//! (`runtime::vfs`) and the line's pipes, budget and clocks
//! (`runtime::line`). No guest call reaches a host file, clock or random
//! source, so the same record gives the same bytes, exit status and fuel.
//!
//! Why our own preview 1 and not wasmtime-wasi's: wasmtime-wasi 48 backs
//! preview 1 with real host directories (cap-std) and offers no filesystem
//! to plug in (bytecodealliance/wasmtime#8963; see ARCHITECTURE.md). The
//! semantics followed are wasmtime-wasi's on a real directory (its `p1.rs`
//! is the reference: first non-empty iovec only, rights derived from the
//! open mode, EPERM for paths that leave a directory, `.`/`..` first in
//! listings), and a differential test compares the two
//! (`tests/it/conformance.rs`).
//!
//! Compiled modules are cached in memory (as `InstancePre`) and on disk, keyed
//! by the module's sha256 and the engine's compatibility hash.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wasmtime::{Caller, Config, Engine, InstancePre, Linker, Memory, Module, ResourceLimiter, Store, Trap, UpdateDeadline};

use super::line::{Line, PipeIo};
use super::vfs::{Errno, Ino, Kind, Vfs, ROOT};
use super::Outcome;
use crate::env::{sha256, Digest};

/// How often the epoch ticks; cancellation and the wall-clock backstop are
/// checked at each tick.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Fuel charged for every host call, and per byte a call moves.
pub const HOST_CALL_FUEL: u64 = 300;
const BYTES_PER_FUEL: u64 = 4;
/// At most this many argument words are tried as named preopens.
const MAX_NAMED_PREOPENS: usize = 16;
/// Stdout/stderr writes of one call are capped at this (as a pipe would).
const MAX_IO: usize = 1 << 20;

const WASI: &str = "wasi_snapshot_preview1";

/// Why a stage stopped before its program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Cancelled,
    /// The wall-clock backstop (a host slower than the calibration).
    WallClock,
}

/// A stage killed as by SIGPIPE: it wrote to a pipe nobody reads.
#[derive(Debug)]
pub struct BrokenPipe;
impl std::fmt::Display for BrokenPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("broken pipe")
    }
}
impl std::error::Error for BrokenPipe {}

/// Exit code of a process killed by SIGPIPE (128 + 13).
pub const SIGPIPE_STATUS: i32 = 141;

/// A stage's standard input or output.
#[derive(Clone, Copy, Debug)]
pub enum Stdio {
    /// Empty input.
    Null,
    /// The terminal's stdout (the line's capped stdout).
    Terminal,
    /// The terminal's stderr (the line's capped stderr).
    TerminalErr,
    /// Pipe number N of the line (see [`Line::new_pipe`]).
    Pipe(usize),
    /// Capture number N: a command substitution's output.
    Capture(usize),
    /// A file of the session (`< f`, `> f`, `>> f`); `ofd` is the line's
    /// open file description, whose offset every user of the redirection shares.
    File { ino: Ino, append: bool, ofd: usize },
}

/// Everything one WASI stage needs.
pub struct StageSpec<'a> {
    pub module: &'a Prepared,
    pub argv: &'a [String],
    pub vars: &'a BTreeMap<String, String>,
    pub stage: usize,
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// Seed of this stage's randomness (derived from the command's recorded seed).
    pub seed: [u8; 32],
    pub memory_bytes: u64,
    pub named_preopens: super::NamedPreopens,
    /// The client's terminal, if it gave one (recorded in the limits).
    pub terminal: Option<&'a super::Terminal>,
}

/// How one stage ended.
#[derive(Clone, Debug)]
pub struct StageEnd {
    pub outcome: Outcome,
    pub exit_code: i32,
    /// Fuel this stage used (instructions and host charges, sleeps included).
    pub fuel: u64,
    /// Why it did not simply exit, for the record.
    pub message: Option<String>,
    pub cancelled: bool,
    /// The budget ran out in this stage.
    pub out_of_budget: bool,
}

enum Desc {
    In(Stdio),
    Out(Stdio),
    File { ino: Ino, pos: u64, read: bool, write: bool, append: bool, nonblock: bool, ofd: Option<usize> },
    Dir { ino: Ino, preopen: Option<String> },
}

/// Per-stage host state.
pub struct Ctx {
    memory: Option<Memory>,
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    fds: BTreeMap<u32, Desc>,
    free_fds: std::collections::BTreeSet<u32>,
    vfs: Arc<Mutex<Vfs>>,
    line: Arc<Line>,
    stage: usize,
    seed: [u8; 32],
    random_counter: u64,
    limiter: MemoryCap,
    stop: Option<Stop>,
    /// Fuel the store was given when this stage last took the baton.
    given: u64,
    /// The line's terminal is a tty: its stdout and stderr are character devices.
    tty: bool,
}

/// Caps linear memory and remembers that it refused a growth, since the
/// guest usually dies of a plain `unreachable` right after.
struct MemoryCap {
    max_bytes: usize,
    denied: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// A compiled module ready to instantiate.
#[derive(Clone)]
pub struct Prepared {
    pre: InstancePre<Ctx>,
    pub digest: Digest,
}

pub struct WasiRuntime {
    engine: Engine,
    linker: Linker<Ctx>,
    modules: Mutex<HashMap<Digest, Prepared>>,
    cache_dir: Option<PathBuf>,
    engine_hash: String,
}

impl WasiRuntime {
    /// `cache_dir`: where compiled modules are kept between processes (None: memory only).
    pub fn new(cache_dir: Option<PathBuf>) -> Result<WasiRuntime> {
        let mut config = Config::new();
        config.consume_fuel(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(anyhow::Error::from).context("creating the wasmtime engine")?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("pg_shell-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .context("starting the epoch thread")?;
        let mut linker: Linker<Ctx> = Linker::new(&engine);
        add_preview1(&mut linker)?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_hash = format!("{:016x}", h.finish());
        if let Some(dir) = &cache_dir {
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(error = %e, dir = %dir.display(), "no compiled-module cache on disk");
            }
        }
        Ok(WasiRuntime { engine, linker, modules: Mutex::new(HashMap::new()), cache_dir, engine_hash })
    }

    /// `$PG_SHELL_CACHE_DIR` or the user's cache directory.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("PG_SHELL_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("pg_shell").join("modules"))
    }

    /// A module already compiled in this process or on disk.
    pub fn cached(&self, digest: &Digest) -> Option<Prepared> {
        if let Some(p) = self.modules.lock().unwrap().get(digest) {
            return Some(p.clone());
        }
        let path = self.cache_path(digest)?;
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `Module::serialize` of this same
        // wasmtime version and configuration (the engine hash is in its name),
        // by this program, into a directory only it writes.
        let module = match unsafe { Module::deserialize_file(&self.engine, &path) } {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "ignoring an unusable compiled module");
                let _ = std::fs::remove_file(&path);
                return None;
            }
        };
        self.remember(digest, module).ok()
    }

    /// Compiles `wasm` (whose digest the caller looked up) and caches it.
    pub fn prepare(&self, digest: &Digest, wasm: &[u8]) -> Result<Prepared> {
        if let Some(p) = self.cached(digest) {
            return Ok(p);
        }
        anyhow::ensure!(sha256(wasm) == *digest, "module bytes do not match digest {}", hex::encode(digest));
        let module = Module::new(&self.engine, wasm).map_err(anyhow::Error::from).context("compiling the WebAssembly module")?;
        if let Some(path) = self.cache_path(digest) {
            let write = || -> Result<()> {
                let bytes = module.serialize()?;
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, &path)?;
                Ok(())
            };
            if let Err(e) = write() {
                tracing::warn!(error = %e, "could not write the compiled-module cache");
            }
        }
        self.remember(digest, module)
    }

    fn remember(&self, digest: &Digest, module: Module) -> Result<Prepared> {
        let pre = self.linker.instantiate_pre(&module).map_err(anyhow::Error::from).context("linking the module against WASI preview 1")?;
        let prepared = Prepared { pre, digest: *digest };
        self.modules.lock().unwrap().insert(*digest, prepared.clone());
        Ok(prepared)
    }

    fn cache_path(&self, digest: &Digest) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        Some(dir.join(format!("{}-{}.cwasm", hex::encode(digest), self.engine_hash)))
    }

    /// Runs one stage's `_start` once the stage holds the line's baton.
    /// Blocking: call it from a thread of its own, never on an async worker.
    /// The caller calls `line.begin(stage)` before and `line.finish(stage)` after.
    pub fn run_stage(&self, line: &Arc<Line>, vfs: &Arc<Mutex<Vfs>>, spec: &StageSpec<'_>) -> StageEnd {
        let fuel_before = line.budget.used();
        let mut fds = BTreeMap::new();
        let open_std = |s: Stdio, input: bool| match s {
            Stdio::File { ino, append, ofd } => {
                vfs.lock().unwrap().opened(ino);
                Desc::File { ino, pos: line.ofd_get(ofd), read: input, write: !input, append, nonblock: false, ofd: Some(ofd) }
            }
            other if input => Desc::In(other),
            other => Desc::Out(other),
        };
        fds.insert(0, open_std(spec.stdin, true));
        fds.insert(1, open_std(spec.stdout, false));
        fds.insert(2, open_std(spec.stderr, false));
        fds.insert(3, Desc::Dir { ino: ROOT, preopen: Some("/".into()) });
        // A top-level directory named by an argument word (`prog DIR`,
        // `DIR/`, `/DIR`) is also preopened under its own name, as `wasmtime
        // --dir DIR prog DIR` would: programs that look for a preopen by name
        // (the WASI test suites take their scratch directory this way) find
        // it. Only those: wasi-libc resolves a path through the longest
        // matching preopen, so with every top-level directory preopened,
        // `cd /d; ls ..` would ask preopen `d` for `..` and be refused as an
        // escape, where through `/` it is the root. Paths resolve to the
        // same files either way.
        // (Records from before ran with every top-level directory named;
        // their replays still do: `NamedPreopens::All`.)
        let tops = {
            let mut vfs = vfs.lock().unwrap();
            let named: Vec<String> = match spec.named_preopens {
                super::NamedPreopens::All => vfs.top_level_names(),
                super::NamedPreopens::Args => spec
                    .argv
                    .iter()
                    .skip(1)
                    .map(|a| a.trim_start_matches('/').trim_end_matches('/'))
                    .filter(|a| !a.is_empty() && !a.contains('/') && *a != "." && *a != "..")
                    .map(str::to_owned)
                    .collect(),
            };
            let named: Vec<&str> = named.iter().map(String::as_str).take(MAX_NAMED_PREOPENS).collect();
            vfs.top_level_dirs(&named)
        };
        for (i, (name, ino)) in tops.into_iter().enumerate() {
            fds.insert(4 + i as u32, Desc::Dir { ino, preopen: Some(name) });
        }
        let ctx = Ctx {
            memory: None,
            args: spec.argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            env: guest_env(spec.vars, spec.terminal),
            fds,
            free_fds: Default::default(),
            vfs: vfs.clone(),
            line: line.clone(),
            stage: spec.stage,
            seed: spec.seed,
            random_counter: 0,
            limiter: MemoryCap { max_bytes: usize::try_from(spec.memory_bytes).unwrap_or(usize::MAX), denied: false },
            stop: None,
            given: 0,
            tty: spec.terminal.is_some_and(|t| t.tty),
        };
        let mut store = Store::new(&self.engine, ctx);
        store.limiter(|c| &mut c.limiter);
        let given = line.budget.remaining();
        store.data_mut().given = given;
        let _ = store.set_fuel(given);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut cx| {
            let line = cx.data().line.clone();
            let stop = if line.cancelled() {
                Stop::Cancelled
            } else if Instant::now() >= line.wall_deadline {
                Stop::WallClock
            } else {
                return Ok(UpdateDeadline::Continue(1));
            };
            cx.data_mut().stop = Some(stop);
            Ok(UpdateDeadline::Interrupt)
        });

        let result = spec
            .module
            .pre
            .instantiate(&mut store)
            .and_then(|instance| {
                let mem = instance.get_memory(&mut store, "memory");
                store.data_mut().memory = mem;
                instance.get_typed_func::<(), ()>(&mut store, "_start")
            })
            .and_then(|start| start.call(&mut store, ()));
        // Report what this stage used since it last took the baton.
        let left = store.get_fuel().unwrap_or(0);
        let given = store.data().given;
        line.budget.spend(given.saturating_sub(left));
        // Close what the guest left open (file references); a redirection's
        // shared offset moves to where the guest left it.
        let fds = std::mem::take(&mut store.data_mut().fds);
        for (_, d) in fds {
            if let Desc::File { pos, ofd: Some(o), .. } = &d {
                line.ofd_set(*o, *pos);
            }
            close_desc(store.data(), d);
        }
        let data = store.data();
        let fuel = line.budget.used().saturating_sub(fuel_before);
        let mut end = StageEnd { outcome: Outcome::Exited, exit_code: 0, fuel, message: None, cancelled: false, out_of_budget: false };
        if let Err(e) = result {
            if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                end.exit_code = exit.0;
            } else if e.downcast_ref::<BrokenPipe>().is_some() {
                end.exit_code = SIGPIPE_STATUS;
            } else {
                let trap = e.downcast_ref::<Trap>().copied();
                let (outcome, message) = match (data.stop, trap) {
                    (Some(Stop::Cancelled), _) => {
                        end.cancelled = true;
                        (Outcome::Trap, "cancelled".to_string())
                    }
                    (Some(Stop::WallClock), _) | (_, Some(Trap::Interrupt)) => (Outcome::Timeout, "stopped by the wall-clock backstop".to_string()),
                    (_, Some(Trap::OutOfFuel)) => {
                        end.out_of_budget = true;
                        (Outcome::Timeout, "budget exhausted".to_string())
                    }
                    _ if data.limiter.denied => (Outcome::MemoryLimit, format!("memory limit of {} bytes exceeded", spec.memory_bytes)),
                    _ => (Outcome::Trap, format!("trap: {}", root_cause(&e))),
                };
                end.outcome = outcome;
                end.exit_code = outcome.conventional_exit_code();
                end.message = Some(message);
            }
        }
        end
    }
}

fn close_desc(ctx: &Ctx, d: Desc) {
    match d {
        // Pipe ends belong to the task, which releases them when it ends.
        Desc::File { ino, .. } | Desc::Dir { ino, preopen: None } => ctx.vfs.lock().unwrap().closed(ino),
        _ => {}
    }
}

fn root_cause(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<Trap>() {
        Some(t) => t.to_string(),
        None => format!("{e:#}").lines().next().unwrap_or("").to_string(),
    }
}

// --- preview 1 ---------------------------------------------------------------
//
// Layouts (witx): iovec {buf u32, len u32} = 8 bytes; fdstat {filetype u8 @0,
// flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16} = 24;
// filestat {dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40,
// mtim @48, ctim @56} = 64; prestat {tag u8 @0, name_len u32 @4} = 8; dirent
// {next u64 @0, ino u64 @8, namlen u32 @16, type u8 @20} = 24; subscription
// = 48 bytes, event = 32 bytes.

enum Fail {
    E(Errno),
    Trap(wasmtime::Error),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Fail {
        Fail::E(e)
    }
}

type R<T> = std::result::Result<T, Fail>;

/// A flags or enum argument with bits or values preview 1 does not define:
/// wasmtime-wasi's generated bindings trap on these, and so do we.
fn invalid(what: &str) -> Fail {
    Fail::Trap(wasmtime::format_err!("invalid {what} value"))
}

fn check_fdflags(f: i32) -> R<()> {
    if f as u32 & !0x1f != 0 {
        return Err(invalid("fdflags"));
    }
    Ok(())
}

fn check_lookup(f: i32) -> R<()> {
    if f as u32 & !1 != 0 {
        return Err(invalid("lookupflags"));
    }
    Ok(())
}

fn check_rights(r: i64) -> R<()> {
    if r as u64 & !rights::ALL != 0 {
        return Err(invalid("rights"));
    }
    Ok(())
}

fn ret(r: R<()>) -> wasmtime::Result<i32> {
    match r {
        Ok(()) => Ok(0),
        Err(Fail::E(e)) => Ok(e as i32),
        Err(Fail::Trap(t)) => Err(t),
    }
}

const FT_UNKNOWN: u8 = 0;
const FT_CHAR_DEVICE: u8 = 2;
const FT_DIR: u8 = 3;
const FT_FILE: u8 = 4;
const FT_SYMLINK: u8 = 7;

/// What an output descriptor reports itself as: the terminal's stdout and
/// stderr are a character device when the client's output goes to a tty (as
/// wasmtime-wasi's p1 reports a stdout stream that is a terminal; wasi-libc's
/// `isatty` wants that and no seek/tell rights); pipes and captures are not.
fn out_filetype(tty: bool, o: &Stdio) -> u8 {
    match o {
        Stdio::Terminal | Stdio::TerminalErr if tty => FT_CHAR_DEVICE,
        _ => FT_UNKNOWN,
    }
}

/// A guest's environment: the session's variables, plus TERM, COLUMNS and
/// LINES from the client's terminal where the session does not set them.
/// Without a terminal, exactly the session's variables (as every record
/// made before terminals ran).
fn guest_env(vars: &BTreeMap<String, String>, terminal: Option<&super::Terminal>) -> Vec<Vec<u8>> {
    let extra = terminal.map(|t| t.vars()).unwrap_or_default();
    if extra.iter().all(|(k, _)| vars.contains_key(*k)) {
        return vars.iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect();
    }
    let mut all: BTreeMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in &extra {
        all.entry(k).or_insert(v.as_str());
    }
    all.iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect()
}

fn filetype(k: Kind) -> u8 {
    match k {
        Kind::File => FT_FILE,
        Kind::Dir => FT_DIR,
        Kind::Symlink => FT_SYMLINK,
    }
}

mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const ALL: u64 = (1 << 30) - 1;
    /// What wasmtime-wasi reports for a preopened directory.
    pub const PREOPEN_BASE: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES;
    pub const PREOPEN_INHERITING: u64 = PREOPEN_BASE
        | FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
}

const OFLAGS_CREAT: i32 = 1;
const OFLAGS_DIRECTORY: i32 = 2;
const OFLAGS_EXCL: i32 = 4;
const OFLAGS_TRUNC: i32 = 8;
const FDFLAGS_APPEND: i32 = 1;
const FDFLAGS_DSYNC: i32 = 2;
const FDFLAGS_NONBLOCK: i32 = 4;
const FDFLAGS_RSYNC: i32 = 8;
const FDFLAGS_SYNC: i32 = 16;
const LOOKUP_FOLLOW: i32 = 1;
const FST_ATIM: i32 = 1;
const FST_ATIM_NOW: i32 = 2;
const FST_MTIM: i32 = 4;
const FST_MTIM_NOW: i32 = 8;

/// The guest's memory and the host state, borrowed together.
fn parts<'a>(caller: &'a mut Caller<'_, Ctx>) -> R<(&'a mut [u8], &'a mut Ctx)> {
    let mem = match caller.data().memory {
        Some(m) => m,
        None => match caller.get_export("memory").and_then(|e| e.into_memory()) {
            Some(m) => {
                caller.data_mut().memory = Some(m);
                m
            }
            None => return Err(Fail::Trap(wasmtime::format_err!("the module exports no memory"))),
        },
    };
    Ok(mem.data_and_store_mut(caller))
}

fn slice(mem: &[u8], ptr: i32, len: u32) -> R<&[u8]> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
    mem.get(start..end).ok_or(Fail::E(Errno::Fault))
}

fn slice_mut(mem: &mut [u8], ptr: i32, len: u32) -> R<&mut [u8]> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
    mem.get_mut(start..end).ok_or(Fail::E(Errno::Fault))
}

fn put_u32(mem: &mut [u8], ptr: i32, v: u32) -> R<()> {
    slice_mut(mem, ptr, 4)?.copy_from_slice(&v.to_le_bytes());
    Ok(())
}

fn put_u64(mem: &mut [u8], ptr: i32, v: u64) -> R<()> {
    slice_mut(mem, ptr, 8)?.copy_from_slice(&v.to_le_bytes());
    Ok(())
}

fn get_u32(mem: &[u8], at: usize) -> R<u32> {
    let b = mem.get(at..at + 4).ok_or(Fail::E(Errno::Fault))?;
    Ok(u32::from_le_bytes(b.try_into().unwrap()))
}

/// The first non-empty buffer of an iovec array (wasmtime-wasi reads and
/// writes only that one per call).
fn first_iovec(mem: &[u8], iovs: i32, n: i32) -> R<(i32, u32)> {
    let base = iovs as u32 as usize;
    for i in 0..n.max(0) as usize {
        let at = base.checked_add(8 * i).ok_or(Errno::Fault)?;
        let buf = get_u32(mem, at)?;
        let len = get_u32(mem, at + 4)?;
        if len != 0 {
            slice(mem, buf as i32, len)?;
            return Ok((buf as i32, len));
        }
    }
    Ok((0, 0))
}

fn read_path(mem: &[u8], ptr: i32, len: i32) -> R<String> {
    let bytes = slice(mem, ptr, len as u32)?;
    let s = std::str::from_utf8(bytes).map_err(|_| Errno::Ilseq)?;
    if s.contains('\0') {
        return Err(Errno::Inval.into());
    }
    Ok(s.to_string())
}

/// Charges `n` fuel for host work; out of budget traps the guest.
fn charge(caller: &mut Caller<'_, Ctx>, n: u64) -> R<()> {
    let left = caller.get_fuel().unwrap_or(0);
    if left < n {
        let _ = caller.set_fuel(0);
        return Err(Fail::Trap(Trap::OutOfFuel.into()));
    }
    caller.set_fuel(left - n).map_err(Fail::Trap)?;
    Ok(())
}

fn charge_bytes(caller: &mut Caller<'_, Ctx>, bytes: usize) -> R<()> {
    charge(caller, bytes as u64 / BYTES_PER_FUEL)
}

/// Reports this stage's work to the line's budget (before it waits or sleeps).
fn sync_out(caller: &mut Caller<'_, Ctx>) {
    let left = caller.get_fuel().unwrap_or(0);
    let ctx = caller.data_mut();
    ctx.line.budget.spend(ctx.given.saturating_sub(left));
    ctx.given = left;
}

/// Takes the line's remaining budget (after waiting for the baton).
fn sync_in(caller: &mut Caller<'_, Ctx>) {
    let rem = caller.data().line.budget.remaining();
    caller.data_mut().given = rem;
    let _ = caller.set_fuel(rem);
}

/// Waits for the baton; the budget is handed over around the wait.
fn wait_turn(caller: &mut Caller<'_, Ctx>) {
    sync_out(caller);
    let (line, me) = (caller.data().line.clone(), caller.data().stage);
    line.wait(me);
    sync_in(caller);
}

/// The guest's virtual wall clock now.
fn wall_now(caller: &mut Caller<'_, Ctx>) -> i64 {
    let left = caller.get_fuel().unwrap_or(0);
    let ctx = caller.data();
    ctx.line.wall_now(ctx.given.saturating_sub(left))
}

fn mono_now(caller: &mut Caller<'_, Ctx>) -> u64 {
    let left = caller.get_fuel().unwrap_or(0);
    let ctx = caller.data();
    ctx.line.budget.elapsed_ns(ctx.given.saturating_sub(left))
}

/// Sleeps `ns` of virtual time: charged to the budget, really waited in a
/// live run, never on replay. Out of budget traps (the line's timeout).
fn sleep(caller: &mut Caller<'_, Ctx>, ns: u64) -> R<()> {
    sync_out(caller);
    let line = caller.data().line.clone();
    let (granted, exhausted) = line.budget.sleep(ns, 0);
    if line.live {
        let until = Instant::now() + Duration::from_nanos(granted);
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            if line.cancelled() {
                caller.data_mut().stop = Some(Stop::Cancelled);
                return Err(Fail::Trap(Trap::Interrupt.into()));
            }
            if now >= line.wall_deadline {
                caller.data_mut().stop = Some(Stop::WallClock);
                return Err(Fail::Trap(Trap::Interrupt.into()));
            }
            std::thread::sleep((until - now).min(Duration::from_millis(20)));
        }
    }
    sync_in(caller);
    if exhausted {
        return Err(Fail::Trap(Trap::OutOfFuel.into()));
    }
    Ok(())
}

fn new_fd(ctx: &mut Ctx, d: Desc) -> u32 {
    let fd = match ctx.free_fds.pop_last() {
        Some(fd) => fd,
        None => ctx.fds.last_key_value().map(|(k, _)| k + 1).unwrap_or(0),
    };
    ctx.fds.insert(fd, d);
    fd
}

fn dir_of(ctx: &Ctx, fd: i32) -> R<Ino> {
    match ctx.fds.get(&(fd as u32)) {
        Some(Desc::Dir { ino, .. }) => Ok(*ino),
        _ => Err(Errno::Badf.into()),
    }
}

fn write_filestat(mem: &mut [u8], buf: i32, st: &super::vfs::Stat) -> R<()> {
    let b = slice_mut(mem, buf, 64)?;
    b.fill(0);
    b[0..8].copy_from_slice(&1u64.to_le_bytes());
    b[8..16].copy_from_slice(&st.ino.to_le_bytes());
    b[16] = filetype(st.kind);
    b[24..32].copy_from_slice(&st.nlink.to_le_bytes());
    b[32..40].copy_from_slice(&st.size.to_le_bytes());
    b[40..48].copy_from_slice(&(st.atim as u64).to_le_bytes());
    b[48..56].copy_from_slice(&(st.mtim as u64).to_le_bytes());
    b[56..64].copy_from_slice(&(st.ctim as u64).to_le_bytes());
    Ok(())
}

/// The new (atime, mtime) a set-times call asks for: Some(time) to set, None
/// to keep; `*_NOW` means the guest's virtual now.
fn times(flags: i32, atim: i64, mtim: i64, now: i64) -> R<(Option<i64>, Option<i64>)> {
    if flags as u32 & !0xf != 0 {
        return Err(invalid("fstflags"));
    }
    if flags & (FST_ATIM | FST_ATIM_NOW) == (FST_ATIM | FST_ATIM_NOW) || flags & (FST_MTIM | FST_MTIM_NOW) == (FST_MTIM | FST_MTIM_NOW) {
        return Err(Errno::Inval.into());
    }
    let pick = |set: i32, set_now: i32, t: i64| {
        if flags & set_now != 0 {
            Some(now)
        } else if flags & set != 0 {
            Some(t)
        } else {
            None
        }
    };
    Ok((pick(FST_ATIM, FST_ATIM_NOW, atim), pick(FST_MTIM, FST_MTIM_NOW, mtim)))
}

macro_rules! wrap {
    ($linker:ident, $name:literal, |$caller:ident $(, $arg:ident : $ty:ty)*| $body:block) => {
        $linker.func_wrap(WASI, $name, |mut $caller: Caller<'_, Ctx> $(, $arg: $ty)*| -> wasmtime::Result<i32> {
            let r: R<()> = (|| {
                charge(&mut $caller, HOST_CALL_FUEL)?;
                $body
            })();
            ret(r)
        })?;
    };
}

fn add_preview1(linker: &mut Linker<Ctx>) -> Result<()> {
    // --- args, environment, clocks, randomness, process -----------------
    wrap!(linker, "args_sizes_get", |caller, argc: i32, size: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let total: usize = ctx.args.iter().map(|a| a.len() + 1).sum();
        let n = ctx.args.len() as u32;
        put_u32(mem, argc, n)?;
        put_u32(mem, size, total as u32)
    });
    wrap!(linker, "args_get", |caller, argv: i32, buf: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        write_strings(mem, &ctx.args, argv, buf)
    });
    wrap!(linker, "environ_sizes_get", |caller, count: i32, size: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let total: usize = ctx.env.iter().map(|a| a.len() + 1).sum();
        let n = ctx.env.len() as u32;
        put_u32(mem, count, n)?;
        put_u32(mem, size, total as u32)
    });
    wrap!(linker, "environ_get", |caller, env: i32, buf: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        write_strings(mem, &ctx.env, env, buf)
    });
    wrap!(linker, "clock_res_get", |caller, id: i32, out: i32| {
        match id {
            0 | 1 => {}
            2 | 3 => return Err(Errno::Badf.into()),
            _ => return Err(Errno::Inval.into()),
        }
        let (mem, _) = parts(&mut caller)?;
        put_u64(mem, out, 1)
    });
    wrap!(linker, "clock_time_get", |caller, id: i32, _precision: i64, out: i32| {
        let t = match id {
            0 => wall_now(&mut caller) as u64,
            1 => mono_now(&mut caller),
            2 | 3 => return Err(Errno::Badf.into()),
            _ => return Err(Errno::Inval.into()),
        };
        let (mem, _) = parts(&mut caller)?;
        put_u64(mem, out, t)
    });
    wrap!(linker, "random_get", |caller, buf: i32, len: i32| {
        charge_bytes(&mut caller, len as u32 as usize)?;
        let (mem, ctx) = parts(&mut caller)?;
        let out = slice_mut(mem, buf, len as u32)?;
        for chunk in out.chunks_mut(32) {
            let mut input = ctx.seed.to_vec();
            input.extend_from_slice(&ctx.random_counter.to_le_bytes());
            ctx.random_counter += 1;
            let block = sha256(&input);
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    });
    linker.func_wrap(WASI, "proc_exit", |code: i32| -> wasmtime::Result<()> { Err(wasmtime_wasi::I32Exit(code).into()) })?;
    wrap!(linker, "proc_raise", |caller, _sig: i32| {
        let _ = &mut caller;
        Err(Errno::Notsup.into())
    });
    wrap!(linker, "sched_yield", |caller| {
        let _ = &mut caller;
        Ok(())
    });
    wrap!(linker, "sock_accept", |caller, fd: i32, _flags: i32, _out: i32| {
        sock(&mut caller, fd)
    });
    wrap!(linker, "sock_recv", |caller, fd: i32, _a: i32, _b: i32, _c: i32, _d: i32, _e: i32| {
        sock(&mut caller, fd)
    });
    wrap!(linker, "sock_send", |caller, fd: i32, _a: i32, _b: i32, _c: i32, _d: i32| {
        sock(&mut caller, fd)
    });
    wrap!(linker, "sock_shutdown", |caller, fd: i32, _how: i32| {
        sock(&mut caller, fd)
    });

    // --- descriptors ---------------------------------------------------------
    wrap!(linker, "fd_close", |caller, fd: i32| {
        let ctx = caller.data_mut();
        let d = ctx.fds.remove(&(fd as u32)).ok_or(Errno::Badf)?;
        ctx.free_fds.insert(fd as u32);
        close_desc(ctx, d);
        Ok(())
    });
    wrap!(linker, "fd_renumber", |caller, from: i32, to: i32| {
        let ctx = caller.data_mut();
        let (from, to) = (from as u32, to as u32);
        if !ctx.fds.contains_key(&from) || !ctx.fds.contains_key(&to) {
            return Err(Errno::Badf.into());
        }
        if from == to {
            return Ok(());
        }
        let old = ctx.fds.remove(&to).unwrap();
        close_desc(ctx, old);
        let d = ctx.fds.remove(&from).unwrap();
        ctx.free_fds.insert(from);
        ctx.free_fds.remove(&to);
        ctx.fds.insert(to, d);
        Ok(())
    });
    wrap!(linker, "fd_fdstat_get", |caller, fd: i32, out: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let (ft, flags, base, inh) = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::In(_) => (FT_UNKNOWN, 0u16, rights::FD_READ, rights::FD_READ),
            Desc::Out(o) => (out_filetype(ctx.tty, o), 0, rights::FD_WRITE, rights::FD_WRITE),
            Desc::Dir { preopen: Some(_), .. } => (FT_DIR, 0, rights::PREOPEN_BASE, rights::PREOPEN_INHERITING),
            Desc::Dir { .. } => {
                let r = rights::ALL & !rights::FD_SEEK & !rights::FD_FILESTAT_SET_SIZE & !rights::PATH_FILESTAT_SET_SIZE & !rights::FD_WRITE;
                (FT_DIR, 0, r, r)
            }
            Desc::File { read, write, append, nonblock, .. } => {
                let mut r = rights::ALL;
                if !read {
                    r &= !(rights::FD_READ | rights::FD_READDIR);
                }
                if !write {
                    r &= !rights::FD_WRITE;
                }
                let flags = if *append { FDFLAGS_APPEND as u16 } else { 0 } | if *nonblock { FDFLAGS_NONBLOCK as u16 } else { 0 };
                (FT_FILE, flags, r, r)
            }
        };
        let b = slice_mut(mem, out, 24)?;
        b.fill(0);
        b[0] = ft;
        b[2..4].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&base.to_le_bytes());
        b[16..24].copy_from_slice(&inh.to_le_bytes());
        Ok(())
    });
    wrap!(linker, "fd_fdstat_set_flags", |caller, fd: i32, flags: i32| {
        check_fdflags(flags)?;
        let ctx = caller.data_mut();
        match ctx.fds.get_mut(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::File { append, nonblock, .. } => {
                if flags & (FDFLAGS_DSYNC | FDFLAGS_SYNC | FDFLAGS_RSYNC) != 0 {
                    return Err(Errno::Inval.into());
                }
                *append = flags & FDFLAGS_APPEND != 0;
                *nonblock = flags & FDFLAGS_NONBLOCK != 0;
                Ok(())
            }
            _ => Err(Errno::Badf.into()),
        }
    });
    wrap!(linker, "fd_fdstat_set_rights", |caller, fd: i32, base: i64, inh: i64| {
        check_rights(base)?;
        check_rights(inh)?;
        match caller.data().fds.get(&(fd as u32)) {
            Some(Desc::File { .. } | Desc::Dir { .. }) => Err(Errno::Notsup.into()),
            _ => Err(Errno::Badf.into()),
        }
    });
    wrap!(linker, "fd_prestat_get", |caller, fd: i32, out: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::Dir { preopen: Some(p), .. } => {
                let len = p.len() as u32;
                let b = slice_mut(mem, out, 8)?;
                b.fill(0);
                b[4..8].copy_from_slice(&len.to_le_bytes());
                Ok(())
            }
            _ => Err(Errno::Badf.into()),
        }
    });
    wrap!(linker, "fd_prestat_dir_name", |caller, fd: i32, path: i32, len: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::Dir { preopen: Some(p), .. } => {
                if p.len() > len as u32 as usize {
                    return Err(Errno::Nametoolong.into());
                }
                let p = p.clone();
                slice_mut(mem, path, p.len() as u32)?.copy_from_slice(p.as_bytes());
                Ok(())
            }
            _ => Err(Errno::Notdir.into()),
        }
    });
    wrap!(linker, "fd_advise", |caller, fd: i32, _off: i64, _len: i64, advice: i32| {
        file_of(caller.data(), fd)?;
        if !(0..=5).contains(&advice) {
            return Err(invalid("advice"));
        }
        Ok(())
    });
    wrap!(linker, "fd_allocate", |caller, fd: i32, _off: i64, _len: i64| {
        file_of(caller.data(), fd)?;
        Err(Errno::Notsup.into())
    });
    wrap!(linker, "fd_datasync", |caller, fd: i32| {
        sync_fd(caller.data(), fd)
    });
    wrap!(linker, "fd_sync", |caller, fd: i32| {
        sync_fd(caller.data(), fd)
    });
    wrap!(linker, "fd_filestat_get", |caller, fd: i32, buf: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let ino = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            d @ (Desc::In(_) | Desc::Out(_)) => {
                let ft = if let Desc::Out(o) = d { out_filetype(ctx.tty, o) } else { FT_UNKNOWN };
                let b = slice_mut(mem, buf, 64)?;
                b.fill(0);
                b[16] = ft;
                return Ok(());
            }
            Desc::File { ino, .. } | Desc::Dir { ino, .. } => *ino,
        };
        let st = ctx.vfs.lock().unwrap().stat(ino)?;
        write_filestat(mem, buf, &st)
    });
    wrap!(linker, "fd_filestat_set_size", |caller, fd: i32, size: i64| {
        let now = wall_now(&mut caller);
        let ctx = caller.data();
        let (ino, write) = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::File { ino, write, .. } => (*ino, *write),
            _ => return Err(Errno::Badf.into()),
        };
        if !write {
            return Err(Errno::Inval.into());
        }
        if size < 0 {
            return Err(Errno::Inval.into());
        }
        ctx.vfs.lock().unwrap().set_size(ino, size as u64, now)?;
        Ok(())
    });
    wrap!(linker, "fd_filestat_set_times", |caller, fd: i32, atim: i64, mtim: i64, flags: i32| {
        let now = wall_now(&mut caller);
        let (a, m) = times(flags, atim, mtim, now)?;
        let ctx = caller.data();
        let ino = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::File { ino, .. } | Desc::Dir { ino, .. } => *ino,
            _ => return Err(Errno::Badf.into()),
        };
        ctx.vfs.lock().unwrap().set_times(ino, a, m, now)?;
        Ok(())
    });
    wrap!(linker, "fd_seek", |caller, fd: i32, offset: i64, whence: i32, out: i32| {
        if !(0..=2).contains(&whence) {
            return Err(invalid("whence"));
        }
        let (mem, ctx) = parts(&mut caller)?;
        let vfs = ctx.vfs.clone();
        let (ino, pos) = match ctx.fds.get_mut(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::File { ino, pos, .. } => (*ino, pos),
            Desc::In(_) | Desc::Out(_) => return Err(Errno::Spipe.into()),
            Desc::Dir { .. } => return Err(Errno::Badf.into()),
        };
        let new = match whence {
            0 if offset >= 0 => offset as u64,
            1 => pos.checked_add_signed(offset).ok_or(Errno::Inval)?,
            2 => vfs.lock().unwrap().size(ino)?.checked_add_signed(offset).ok_or(Errno::Inval)?,
            0 => return Err(Errno::Inval.into()),
            _ => return Err(invalid("whence")),
        };
        *pos = new;
        put_u64(mem, out, new)
    });
    wrap!(linker, "fd_tell", |caller, fd: i32, out: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let pos = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::File { pos, .. } => *pos,
            Desc::In(_) | Desc::Out(_) => return Err(Errno::Spipe.into()),
            Desc::Dir { .. } => return Err(Errno::Badf.into()),
        };
        put_u64(mem, out, pos)
    });
    wrap!(linker, "fd_read", |caller, fd: i32, iovs: i32, n: i32, nread: i32| {
        let got = read(&mut caller, fd, iovs, n, None)?;
        let (mem, _) = parts(&mut caller)?;
        put_u32(mem, nread, got as u32)
    });
    wrap!(linker, "fd_pread", |caller, fd: i32, iovs: i32, n: i32, offset: i64, nread: i32| {
        let got = read(&mut caller, fd, iovs, n, Some(offset as u64))?;
        let (mem, _) = parts(&mut caller)?;
        put_u32(mem, nread, got as u32)
    });
    wrap!(linker, "fd_write", |caller, fd: i32, iovs: i32, n: i32, nwritten: i32| {
        let put = write(&mut caller, fd, iovs, n, None)?;
        let (mem, _) = parts(&mut caller)?;
        put_u32(mem, nwritten, put as u32)
    });
    wrap!(linker, "fd_pwrite", |caller, fd: i32, iovs: i32, n: i32, offset: i64, nwritten: i32| {
        let put = write(&mut caller, fd, iovs, n, Some(offset as u64))?;
        let (mem, _) = parts(&mut caller)?;
        put_u32(mem, nwritten, put as u32)
    });
    wrap!(linker, "fd_readdir", |caller, fd: i32, buf: i32, len: i32, cookie: i64, used: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let ino = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::Dir { ino, .. } => *ino,
            _ => return Err(Errno::Badf.into()),
        };
        let list = ctx.vfs.lock().unwrap().list(ino)?;
        let mut entries: Vec<(u64, u8, Vec<u8>)> = vec![(ino, FT_DIR, b".".to_vec()), (ino, FT_DIR, b"..".to_vec())];
        entries.extend(list.into_iter().map(|(name, i, k)| (i, filetype(k), name.into_bytes())));
        let cap = len as u32 as usize;
        let out = slice_mut(mem, buf, cap as u32)?;
        let mut at = 0usize;
        for (i, (d_ino, ft, name)) in entries.iter().enumerate().skip(cookie as u64 as usize) {
            let mut head = [0u8; 24];
            head[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            head[8..16].copy_from_slice(&d_ino.to_le_bytes());
            head[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            head[20] = *ft;
            let n = (cap - at).min(24);
            out[at..at + n].copy_from_slice(&head[..n]);
            at += n;
            if at == cap {
                break;
            }
            let n = (cap - at).min(name.len());
            out[at..at + n].copy_from_slice(&name[..n]);
            at += n;
            if at == cap {
                break;
            }
        }
        put_u32(mem, used, at as u32)
    });

    // --- paths ---------------------------------------------------------------
    wrap!(linker, "path_create_directory", |caller, fd: i32, p: i32, l: i32| {
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        let dir = dir_of(ctx, fd)?;
        ctx.vfs.lock().unwrap().mkdir(dir, &path, now)?;
        Ok(())
    });
    wrap!(linker, "path_filestat_get", |caller, fd: i32, flags: i32, p: i32, l: i32, buf: i32| {
        check_lookup(flags)?;
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        // As wasmtime-wasi (cap-std's stat) does, a trailing slash is ignored.
        let trimmed = path.trim_end_matches('/');
        let path = if trimmed.is_empty() { path.as_str() } else { trimmed }.to_string();
        let dir = dir_of(ctx, fd)?;
        let mut v = ctx.vfs.lock().unwrap();
        let ino = v.lookup(dir, &path, flags & LOOKUP_FOLLOW != 0)?;
        let st = v.stat(ino)?;
        drop(v);
        write_filestat(mem, buf, &st)
    });
    wrap!(linker, "path_filestat_set_times", |caller, fd: i32, flags: i32, p: i32, l: i32, atim: i64, mtim: i64, fst: i32| {
        check_lookup(flags)?;
        let now = wall_now(&mut caller);
        let (a, m) = times(fst, atim, mtim, now)?;
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        let dir = dir_of(ctx, fd)?;
        let mut v = ctx.vfs.lock().unwrap();
        let ino = v.lookup(dir, &path, flags & LOOKUP_FOLLOW != 0)?;
        v.set_times(ino, a, m, now)?;
        Ok(())
    });
    wrap!(linker, "path_link", |caller, old_fd: i32, flags: i32, op: i32, ol: i32, new_fd: i32, np: i32, nl: i32| {
        check_lookup(flags)?;
        if flags & LOOKUP_FOLLOW != 0 {
            // wasmtime-wasi refuses to follow the source of a hard link.
            return Err(Errno::Inval.into());
        }
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let old = read_path(mem, op, ol)?;
        let new = read_path(mem, np, nl)?;
        let (od, nd) = (dir_of(ctx, old_fd)?, dir_of(ctx, new_fd)?);
        ctx.vfs.lock().unwrap().link(od, &old, flags & LOOKUP_FOLLOW != 0, nd, &new, now)?;
        Ok(())
    });
    wrap!(linker, "path_open", |caller, fd: i32, dirflags: i32, p: i32, l: i32, oflags: i32, base: i64, inh: i64, fdflags: i32, out: i32| {
        check_lookup(dirflags)?;
        if oflags as u32 & !0xf != 0 {
            return Err(invalid("oflags"));
        }
        check_fdflags(fdflags)?;
        check_rights(base)?;
        check_rights(inh)?;
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        let dir = match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
            Desc::Dir { ino, .. } => *ino,
            Desc::File { .. } => return Err(Errno::Notdir.into()),
            _ => return Err(Errno::Badf.into()),
        };
        let base = base as u64;
        let want_read = base & rights::FD_READ != 0;
        let want_write = base & rights::FD_WRITE != 0;
        let (creat, excl, trunc, directory) = (oflags & OFLAGS_CREAT != 0, oflags & OFLAGS_EXCL != 0, oflags & OFLAGS_TRUNC != 0, oflags & OFLAGS_DIRECTORY != 0);
        let write_mode = want_write || creat || trunc;
        let read_mode = want_read || !want_write;
        if fdflags & (FDFLAGS_SYNC | FDFLAGS_DSYNC | FDFLAGS_RSYNC) != 0 {
            return Err(Errno::Notsup.into());
        }
        if directory && (creat || excl || trunc) {
            return Err(Errno::Inval.into());
        }
        let follow = dirflags & LOOKUP_FOLLOW != 0 && !(creat && excl);
        let mut v = ctx.vfs.lock().unwrap();
        let found = v.resolve(dir, &path, follow)?;
        let ino = match found.ino {
            Some(ino) => {
                if creat && excl {
                    return Err(Errno::Exist.into());
                }
                match v.kind(ino)? {
                    Kind::Symlink => return Err(Errno::Loop.into()),
                    Kind::Dir => {
                        if write_mode {
                            return Err(Errno::Isdir.into());
                        }
                    }
                    Kind::File => {
                        if directory || found.trailing_slash {
                            return Err(Errno::Notdir.into());
                        }
                        if trunc {
                            v.set_size(ino, 0, now)?;
                        }
                    }
                }
                ino
            }
            None => {
                if !creat {
                    return Err(Errno::Noent.into());
                }
                if found.trailing_slash {
                    return Err(Errno::Isdir.into());
                }
                v.create_file(found.parent, &found.name, now)?
            }
        };
        let desc = match v.kind(ino)? {
            Kind::Dir => {
                v.opened(ino);
                Desc::Dir { ino, preopen: None }
            }
            _ => {
                v.opened(ino);
                Desc::File { ino, pos: 0, read: read_mode, write: write_mode, append: fdflags & FDFLAGS_APPEND != 0, nonblock: fdflags & FDFLAGS_NONBLOCK != 0, ofd: None }
            }
        };
        drop(v);
        let new = new_fd(ctx, desc);
        put_u32(mem, out, new)
    });
    wrap!(linker, "path_readlink", |caller, fd: i32, p: i32, l: i32, buf: i32, len: i32, used: i32| {
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        let dir = dir_of(ctx, fd)?;
        let target = ctx.vfs.lock().unwrap().readlink(dir, &path)?;
        let n = target.len().min(len as u32 as usize);
        slice_mut(mem, buf, n as u32)?.copy_from_slice(&target.as_bytes()[..n]);
        put_u32(mem, used, n as u32)
    });
    wrap!(linker, "path_remove_directory", |caller, fd: i32, p: i32, l: i32| {
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        let dir = dir_of(ctx, fd)?;
        ctx.vfs.lock().unwrap().rmdir(dir, &path, now)?;
        Ok(())
    });
    wrap!(linker, "path_rename", |caller, old_fd: i32, op: i32, ol: i32, new_fd: i32, np: i32, nl: i32| {
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let old = read_path(mem, op, ol)?;
        let new = read_path(mem, np, nl)?;
        let (od, nd) = (dir_of(ctx, old_fd)?, dir_of(ctx, new_fd)?);
        ctx.vfs.lock().unwrap().rename(od, &old, nd, &new, now)?;
        Ok(())
    });
    wrap!(linker, "path_symlink", |caller, op: i32, ol: i32, fd: i32, np: i32, nl: i32| {
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let target = read_path(mem, op, ol)?;
        let new = read_path(mem, np, nl)?;
        let dir = dir_of(ctx, fd)?;
        ctx.vfs.lock().unwrap().symlink(&target, dir, &new, now)?;
        Ok(())
    });
    wrap!(linker, "path_unlink_file", |caller, fd: i32, p: i32, l: i32| {
        let now = wall_now(&mut caller);
        let (mem, ctx) = parts(&mut caller)?;
        let path = read_path(mem, p, l)?;
        let dir = dir_of(ctx, fd)?;
        ctx.vfs.lock().unwrap().unlink(dir, &path, now)?;
        Ok(())
    });
    wrap!(linker, "poll_oneoff", |caller, inp: i32, outp: i32, n: i32, nevents: i32| {
        poll_oneoff(&mut caller, inp, outp, n, nevents)
    });
    Ok(())
}

fn write_strings(mem: &mut [u8], items: &[Vec<u8>], ptrs: i32, buf: i32) -> R<()> {
    let mut at = buf as u32;
    for (i, item) in items.iter().enumerate() {
        put_u32(mem, ptrs.wrapping_add(4 * i as i32), at)?;
        let dst = slice_mut(mem, at as i32, item.len() as u32 + 1)?;
        dst[..item.len()].copy_from_slice(item);
        dst[item.len()] = 0;
        at = at.checked_add(item.len() as u32 + 1).ok_or(Errno::Fault)?;
    }
    Ok(())
}

fn sock(caller: &mut Caller<'_, Ctx>, fd: i32) -> R<()> {
    if !caller.data().fds.contains_key(&(fd as u32)) {
        return Err(Errno::Badf.into());
    }
    Err(Errno::Notsock.into())
}

fn file_of(ctx: &Ctx, fd: i32) -> R<Ino> {
    match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
        Desc::File { ino, .. } => Ok(*ino),
        _ => Err(Errno::Badf.into()),
    }
}

fn sync_fd(ctx: &Ctx, fd: i32) -> R<()> {
    match ctx.fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
        Desc::File { .. } => Ok(()),
        _ => Err(Errno::Badf.into()),
    }
}

/// fd_read / fd_pread into the first non-empty iovec.
fn read(caller: &mut Caller<'_, Ctx>, fd: i32, iovs: i32, n: i32, at: Option<u64>) -> R<usize> {
    let (buf_ptr, len) = {
        let (mem, _) = parts(caller)?;
        first_iovec(mem, iovs, n)?
    };
    let len = (len as usize).min(MAX_IO);
    let desc = match caller.data().fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
        Desc::In(s) => Err(*s),
        Desc::File { ino, pos, read, .. } => Ok((*ino, *pos, *read)),
        Desc::Out(_) => return Err(Errno::Badf.into()),
        Desc::Dir { .. } => return Err(Errno::Badf.into()),
    };
    let mut tmp = vec![0u8; len];
    let got = match desc {
        Ok((ino, pos, readable)) => {
            if !readable {
                return Err(Errno::Badf.into());
            }
            let vfs = caller.data().vfs.clone();
            let got = vfs.lock().unwrap().read_at(ino, at.unwrap_or(pos), &mut tmp)?;
            if at.is_none() {
                if let Some(Desc::File { pos, .. }) = caller.data_mut().fds.get_mut(&(fd as u32)) {
                    *pos += got as u64;
                }
            }
            got
        }
        Err(stream) => {
            if at.is_some() {
                return Err(Errno::Spipe.into());
            }
            match stream {
                Stdio::Pipe(p) => loop {
                    let (line, me) = (caller.data().line.clone(), caller.data().stage);
                    match line.try_read(me, p, &mut tmp) {
                        PipeIo::Done(n) => break n,
                        PipeIo::Wait => wait_turn(caller),
                        PipeIo::Broken => break 0,
                    }
                },
                _ => 0,
            }
        }
    };
    charge_bytes(caller, got)?;
    let (mem, _) = parts(caller)?;
    slice_mut(mem, buf_ptr, got as u32)?.copy_from_slice(&tmp[..got]);
    Ok(got)
}

/// fd_write / fd_pwrite from the first non-empty iovec.
fn write(caller: &mut Caller<'_, Ctx>, fd: i32, iovs: i32, n: i32, at: Option<u64>) -> R<usize> {
    let data = {
        let (mem, _) = parts(caller)?;
        let (ptr, len) = first_iovec(mem, iovs, n)?;
        slice(mem, ptr, len)?.to_vec()
    };
    charge_bytes(caller, data.len())?;
    let now = wall_now(caller);
    let desc = match caller.data().fds.get(&(fd as u32)).ok_or(Errno::Badf)? {
        Desc::Out(s) => Err(*s),
        Desc::File { ino, pos, write, append, .. } => Ok((*ino, *pos, *write, *append)),
        Desc::In(_) | Desc::Dir { .. } => return Err(Errno::Badf.into()),
    };
    match desc {
        Ok((ino, pos, writable, append)) => {
            if !writable {
                return Err(Errno::Badf.into());
            }
            let vfs = caller.data().vfs.clone();
            let mut v = vfs.lock().unwrap();
            let off = if append { v.size(ino)? } else { at.unwrap_or(pos) };
            let put = v.write_at(ino, off, &data, now)?;
            let size = v.size(ino)?;
            drop(v);
            if at.is_none() || append {
                if let Some(Desc::File { pos, .. }) = caller.data_mut().fds.get_mut(&(fd as u32)) {
                    *pos = if append { size } else { off + put as u64 };
                }
            }
            Ok(put)
        }
        Err(stream) => {
            if at.is_some() {
                return Err(Errno::Spipe.into());
            }
            match stream {
                Stdio::Terminal | Stdio::TerminalErr => {
                    let line = caller.data().line.clone();
                    let sink = if matches!(stream, Stdio::TerminalErr) { &line.stderr } else { &line.stdout };
                    sink.lock().unwrap().push(&data);
                    Ok(data.len())
                }
                Stdio::Capture(k) => {
                    let line = caller.data().line.clone();
                    if line.capture_write(k, &data) {
                        Ok(data.len())
                    } else {
                        line.note_capture_overflow();
                        Err(Fail::Trap(BrokenPipe.into()))
                    }
                }
                Stdio::Pipe(p) => {
                    let mut rest = &data[..];
                    while !rest.is_empty() {
                        let (line, me) = (caller.data().line.clone(), caller.data().stage);
                        match line.try_write(me, p, rest) {
                            PipeIo::Done(n) => rest = &rest[n..],
                            PipeIo::Wait => wait_turn(caller),
                            PipeIo::Broken => return Err(Fail::Trap(BrokenPipe.into())),
                        }
                    }
                    Ok(data.len())
                }
                Stdio::Null | Stdio::File { .. } => Ok(data.len()),
            }
        }
    }
}

// --- poll_oneoff ------------------------------------------------------------
//
// subscription: userdata u64 @0, tag u8 @8, then clock {id u32 @16, timeout
// u64 @24, precision u64 @32, flags u16 @40} or fd {fd u32 @16}; event:
// userdata u64 @0, errno u16 @8, type u8 @10, fd_readwrite {nbytes u64 @16,
// flags u16 @24}.

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// Clocks: virtual time moves to the earliest deadline (and a live run waits
/// that long). Descriptors: files and outputs are always ready; an input pipe
/// is ready when it holds data or its writer is done. A poll that can only be
/// answered by a pipe waits for its writer.
fn poll_oneoff(caller: &mut Caller<'_, Ctx>, inp: i32, outp: i32, n: i32, nevents: i32) -> R<()> {
    if n <= 0 {
        return Err(Errno::Inval.into());
    }
    let n = n as usize;
    let subs: Vec<u8> = {
        let (mem, _) = parts(caller)?;
        slice(mem, inp, (48 * n) as u32)?.to_vec()
    };
    {
        let (mem, _) = parts(caller)?;
        slice(mem, outp, (32 * n) as u32)?;
        slice(mem, nevents, 4)?;
    }
    let u64_at = |at: usize| u64::from_le_bytes(subs[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(subs[at..at + 4].try_into().unwrap());
    let u16_at = |at: usize| u16::from_le_bytes(subs[at..at + 2].try_into().unwrap());
    loop {
        let now = mono_now(caller);
        let base = caller.data().line.clock_base_ns.max(0) as u64;
        // (userdata, type, errno, nbytes)
        let mut ready: Vec<(u64, u8, u16, u64)> = Vec::new();
        let mut clocks: Vec<(u64, u64)> = Vec::new();
        let mut waits_on_pipe: Option<usize> = None;
        for i in 0..n {
            let s = 48 * i;
            let userdata = u64_at(s);
            match subs[s + 8] {
                EVENTTYPE_CLOCK => {
                    let id = u32_at(s + 16);
                    let timeout = u64_at(s + 24);
                    let abs = u16_at(s + 40) & SUBCLOCKFLAGS_ABSTIME != 0;
                    let deadline = match (id, abs) {
                        (0 | 1, false) => now.saturating_add(timeout),
                        (1, true) => timeout,
                        (0, true) => timeout.saturating_sub(base),
                        _ => {
                            ready.push((userdata, EVENTTYPE_CLOCK, Errno::Inval as u16, 0));
                            continue;
                        }
                    };
                    clocks.push((userdata, deadline));
                }
                t @ (EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE) => {
                    let fd = u32_at(s + 16);
                    let ctx = caller.data();
                    match ctx.fds.get(&fd) {
                        None => return Err(Errno::Badf.into()),
                        Some(Desc::In(Stdio::Pipe(p))) if t == EVENTTYPE_FD_READ => match ctx.line.readable(*p) {
                            Some(nb) => ready.push((userdata, t, 0, nb)),
                            None => waits_on_pipe = Some(*p),
                        },
                        Some(Desc::File { ino, pos, .. }) if t == EVENTTYPE_FD_READ => {
                            let size = ctx.vfs.lock().unwrap().size(*ino).unwrap_or(0);
                            ready.push((userdata, t, 0, size.saturating_sub(*pos)));
                        }
                        Some(Desc::Dir { .. }) => return Err(Errno::Badf.into()),
                        Some(_) => ready.push((userdata, t, 0, 0)),
                    }
                }
                _ => return Err(Errno::Inval.into()),
            }
        }
        if ready.is_empty() {
            if let Some(earliest) = clocks.iter().map(|c| c.1).min() {
                if earliest > now {
                    sleep(caller, earliest - now)?;
                }
                for (userdata, d) in &clocks {
                    if *d == earliest {
                        ready.push((*userdata, EVENTTYPE_CLOCK, 0, 0));
                    }
                }
            } else if let Some(p) = waits_on_pipe {
                sync_out(caller);
                let (line, me) = (caller.data().line.clone(), caller.data().stage);
                line.wait_readable(me, p);
                sync_in(caller);
                continue;
            }
        }
        let (mem, _) = parts(caller)?;
        for (k, (userdata, t, errno, nbytes)) in ready.iter().enumerate() {
            let e = slice_mut(mem, outp + 32 * k as i32, 32)?;
            e.fill(0);
            e[0..8].copy_from_slice(&userdata.to_le_bytes());
            e[8..10].copy_from_slice(&errno.to_le_bytes());
            e[10] = *t;
            e[16..24].copy_from_slice(&nbytes.to_le_bytes());
        }
        return put_u32(mem, nevents, ready.len() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_time_flag_combinations_are_refused() {
        assert!(matches!(times(FST_ATIM | FST_ATIM_NOW, 0, 0, 5), Err(Fail::E(Errno::Inval))));
        assert!(matches!(times(FST_MTIM | FST_MTIM_NOW, 0, 0, 5), Err(Fail::E(Errno::Inval))));
        assert!(matches!(times(FST_ATIM_NOW | FST_MTIM, 0, 9, 5), Ok((Some(5), Some(9)))));
        assert!(matches!(times(0, 1, 2, 5), Ok((None, None))));
    }
}
