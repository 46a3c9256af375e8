//! The WASI runtime: wasmtime 48 with preview 1, fuel, an epoch deadline,
//! a memory cap, capped output, and clocks and randomness derived only from
//! recorded values.
//!
//! Determinism: the guest's wall clock starts at the command's recorded
//! `clock_base_ns` and its monotonic clock at 0; both advance by one
//! microsecond per read and by the full length of any sleep, which returns at
//! once (`poll_oneoff` is shadowed). Random bytes come from ChaCha seeded by the
//! recorded seed. So the same inputs give the same bytes and the same fuel.
//!
//! Compiled modules are cached in memory (as `InstancePre`) and on disk, keyed
//! by the module's sha256 and the engine's compatibility hash.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::SeedableRng;
use wasmtime::{Caller, Config, Engine, InstancePre, Linker, Module, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, I32Exit, WasiCtxBuilder};

use super::capped::CappedPipe;
use super::{Invocation, Outcome, RunOutput};
use crate::env::{sha256, Digest};

/// How often the epoch ticks; the wall-clock deadline is checked at each tick.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Virtual time a single clock read advances.
const CLOCK_READ_TICK_NS: u64 = 1_000;

/// Why the epoch callback stopped a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Timeout,
    Cancelled,
}

/// Per-run host state.
struct Ctx {
    wasi: WasiP1Ctx,
    limiter: MemoryCap,
    clock: VirtualClock,
    stop: Option<Stop>,
    stat: StatView,
    trampoline: Option<Trampoline>,
}

/// What the guest sees of file metadata: inode numbers in order of first
/// sight, one device, access and change times equal to the modification time,
/// times of files changed during this run (any time that is not one the files
/// were materialized with) equal to the command's recorded clock base (what
/// the scan records for them), directory sizes fixed. Host
/// inode numbers, tmpfs vs ext4 sizes and real timestamps never reach a guest,
/// so `ls -li` replays byte for byte.
struct StatView {
    inodes: HashMap<u64, u64>,
    /// Times the guest may see as they are: those the files were materialized
    /// with, and those the guest set itself. Any other is the host's clock.
    known_times: std::collections::HashSet<u64>,
    /// Times the guest set explicitly (kept by the scan).
    set_times: Vec<u64>,
}

impl StatView {
    fn inode(&mut self, host: u64) -> u64 {
        let next = self.inodes.len() as u64 + 1;
        *self.inodes.entry(host).or_insert(next)
    }
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

/// Virtual time shared by the wall clock, the monotonic clock and sleeps.
#[derive(Clone)]
struct VirtualClock {
    base_ns: u64,
    elapsed_ns: Arc<AtomicU64>,
}

impl VirtualClock {
    fn read(&self) -> u64 {
        self.elapsed_ns.fetch_add(CLOCK_READ_TICK_NS, Ordering::Relaxed) + CLOCK_READ_TICK_NS
    }
    fn peek(&self) -> u64 {
        self.elapsed_ns.load(Ordering::Relaxed)
    }
    fn advance_to(&self, elapsed: u64) {
        self.elapsed_ns.fetch_max(elapsed, Ordering::Relaxed);
    }
}

impl HostWallClock for VirtualClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(CLOCK_READ_TICK_NS)
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(self.base_ns.saturating_add(self.read()))
    }
}

impl HostMonotonicClock for VirtualClock {
    fn resolution(&self) -> u64 {
        CLOCK_READ_TICK_NS
    }
    fn now(&self) -> u64 {
        self.read()
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
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c: &mut Ctx| &mut c.wasi)?;
        linker.allow_shadowing(true);
        // wasmtime-wasi refuses exit statuses >= 126 with a host error; a shell
        // must pass them through (exit 127, 255 ...).
        linker.func_wrap("wasi_snapshot_preview1", "proc_exit", |code: i32| -> wasmtime::Result<()> {
            Err(I32Exit(code).into())
        })?;
        // Metadata calls run wasmtime-wasi's own implementation (kept under
        // another module name, reached through a trampoline; see `Trampoline`)
        // and then rewrite what would leak the host.
        for name in ORIGINALS {
            linker.alias("wasi_snapshot_preview1", name, ORIGINAL, name)?;
        }
        let tramp = Arc::new(Module::new(&engine, TRAMPOLINE_WAT).map_err(anyhow::Error::from).context("compiling the metadata trampoline")?);
        // Sleeps advance virtual time and return at once; polls that involve
        // a file descriptor go to wasmtime-wasi (see `poll_oneoff`).
        let (orig, t) = (linker.clone(), tramp.clone());
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "poll_oneoff",
            move |mut caller: Caller<'_, Ctx>, inp: i32, out: i32, n: i32, nev: i32| -> wasmtime::Result<i32> {
                if polls_a_descriptor(&mut caller, inp, n) {
                    let f = trampoline(&orig, &t, &mut caller)?.poll_oneoff;
                    return f.call(&mut caller, (inp, out, n, nev));
                }
                Ok(poll_oneoff(caller, inp, out, n, nev))
            },
        )?;
        let (orig, t) = (linker.clone(), tramp.clone());
        linker.func_wrap("wasi_snapshot_preview1", "fd_filestat_get", move |mut caller: Caller<'_, Ctx>, fd: i32, buf: i32| {
            let f = trampoline(&orig, &t, &mut caller)?.fd_filestat_get;
            let errno = f.call(&mut caller, (fd, buf))?;
            if errno == 0 {
                virtualize_filestat(&mut caller, buf);
            }
            Ok(errno)
        })?;
        let (orig, t) = (linker.clone(), tramp.clone());
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "path_filestat_get",
            move |mut caller: Caller<'_, Ctx>, fd: i32, flags: i32, path: i32, len: i32, buf: i32| {
                let f = trampoline(&orig, &t, &mut caller)?.path_filestat_get;
                let errno = f.call(&mut caller, (fd, flags, path, len, buf))?;
                if errno == 0 {
                    virtualize_filestat(&mut caller, buf);
                }
                Ok(errno)
            },
        )?;
        // Setting times: "now" means the guest's virtual now, and explicit
        // times are remembered so the guest (and the scan) see them as set.
        let (orig, t) = (linker.clone(), tramp.clone());
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "fd_filestat_set_times",
            move |mut caller: Caller<'_, Ctx>, fd: i32, atim: i64, mtim: i64, flags: i32| {
                let (atim, mtim, flags) = virtual_set_times(&mut caller, atim, mtim, flags);
                let f = trampoline(&orig, &t, &mut caller)?.fd_filestat_set_times;
                f.call(&mut caller, (fd, atim, mtim, flags))
            },
        )?;
        let (orig, t) = (linker.clone(), tramp.clone());
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "path_filestat_set_times",
            move |mut caller: Caller<'_, Ctx>, fd: i32, lookup: i32, path: i32, len: i32, atim: i64, mtim: i64, flags: i32| {
                let (atim, mtim, flags) = virtual_set_times(&mut caller, atim, mtim, flags);
                let f = trampoline(&orig, &t, &mut caller)?.path_filestat_set_times;
                f.call(&mut caller, (fd, lookup, path, len, atim, mtim, flags))
            },
        )?;
        let (orig, t) = (linker.clone(), tramp.clone());
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "fd_readdir",
            move |mut caller: Caller<'_, Ctx>, fd: i32, buf: i32, len: i32, cookie: i64, used: i32| {
                let f = trampoline(&orig, &t, &mut caller)?.fd_readdir;
                let errno = f.call(&mut caller, (fd, buf, len, cookie, used))?;
                if errno == 0 {
                    virtualize_dirents(&mut caller, buf, used);
                }
                Ok(errno)
            },
        )?;

        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_hash = format!("{:016x}", h.finish());
        if let Some(dir) = &cache_dir {
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "module cache directory unusable; compiling in memory only");
            }
        }
        Ok(WasiRuntime {
            engine,
            linker,
            modules: Mutex::new(HashMap::new()),
            cache_dir,
            engine_hash,
        })
    }

    /// The default on-disk cache: $PG_SHELL_CACHE_DIR, else the user cache dir.
    pub fn default_cache_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("PG_SHELL_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("pg_shell").join("modules"))
    }

    /// A prepared module if it is compiled in memory or on disk already.
    pub fn cached(&self, digest: &Digest) -> Option<Prepared> {
        if let Some(p) = self.modules.lock().unwrap().get(digest) {
            return Some(p.clone());
        }
        let path = self.cache_path(digest)?;
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `prepare` below from a module we
        // compiled with this engine configuration (the engine hash is part of
        // the name) and is only replaced atomically by rename.
        let module = match unsafe { Module::deserialize_file(&self.engine, &path) } {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compiled module");
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

    /// Runs `_start`. Blocking: call it from a thread of its own (tokio's
    /// `spawn_blocking`), never on an async worker.
    pub fn run(&self, module: &Prepared, inv: &Invocation<'_>) -> RunOutput {
        let started = Instant::now();
        let stdout = CappedPipe::new(inv.limits.stdout_bytes);
        let stderr = CappedPipe::new(inv.limits.stderr_bytes);
        let mut out = match self.run_inner(module, inv, &stdout, &stderr) {
            Ok(out) => out,
            Err(e) => RunOutput::failed(Outcome::Error, format!("{}: cannot run: {e:#}", inv.argv[0])),
        };
        let (so, st) = stdout.take();
        let (mut se, et) = stderr.take();
        if !out.stderr.is_empty() {
            se.extend_from_slice(&out.stderr);
        }
        out.stdout = so;
        out.stderr = se;
        out.stdout_truncated = st;
        out.stderr_truncated = et;
        out.run_us = started.elapsed().as_micros() as u64;
        out
    }

    fn run_inner(&self, module: &Prepared, inv: &Invocation<'_>, stdout: &CappedPipe, stderr: &CappedPipe) -> Result<RunOutput> {
        let clock = VirtualClock {
            base_ns: inv.clock_base_ns.max(0) as u64,
            elapsed_ns: Arc::new(AtomicU64::new(inv.clock_elapsed_ns)),
        };
        let secure = rand::rngs::StdRng::from_seed(derive_seed(&inv.random_seed, b"secure"));
        let insecure = rand::rngs::StdRng::from_seed(derive_seed(&inv.random_seed, b"insecure"));
        let insecure_seed = u128::from_le_bytes(derive_seed(&inv.random_seed, b"seed")[..16].try_into().unwrap());

        // PWD always names the working directory: WASI has no other way to
        // tell a guest (wasi-libc starts in "/"; the bundled tools chdir($PWD)).
        let mut vars: Vec<(&str, &str)> = inv.vars.iter().filter(|(k, _)| *k != "PWD").map(|(k, v)| (k.as_str(), v.as_str())).collect();
        vars.push(("PWD", inv.cwd));
        let mut b = WasiCtxBuilder::new();
        b.args(inv.argv)
            .envs(&vars)
            .stdin(MemoryInputPipe::new(inv.stdin.to_vec()))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(clock.clone())
            .monotonic_clock(clock.clone())
            .secure_random(secure)
            .insecure_random(insecure)
            .insecure_random_seed(insecure_seed)
            .allow_blocking_current_thread(true)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        b.preopened_dir(inv.root, "/", FsPerms::ReadWrite).map_err(anyhow::Error::from).context("opening the session's files for the guest")?;
        // Each top-level directory is also preopened under its own name, as
        // `wasmtime --dir NAME` would: programs that look for a preopen by
        // name (WASI test suites take their scratch directory this way) find
        // it. Paths resolve to the same files either way.
        for name in top_level_dirs(inv.root) {
            b.preopened_dir(inv.root.join(&name), &name, FsPerms::ReadWrite)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("opening /{name} for the guest"))?;
        }
        let ctx = Ctx {
            wasi: b.build_p1(),
            limiter: MemoryCap {
                max_bytes: usize::try_from(inv.limits.memory_bytes).unwrap_or(usize::MAX),
                denied: false,
            },
            clock,
            stop: None,
            trampoline: None,
            stat: StatView { inodes: HashMap::new(), known_times: inv.recorded_mtimes.clone(), set_times: Vec::new() },
        };

        let mut store = Store::new(&self.engine, ctx);
        store.limiter(|c| &mut c.limiter);
        store.set_fuel(inv.limits.fuel)?;
        let deadline = Instant::now() + Duration::from_millis(inv.limits.timeout_ms);
        let cancel = inv.cancel.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut cx| {
            let stop = if cancel.load(Ordering::Relaxed) {
                Stop::Cancelled
            } else if Instant::now() >= deadline {
                Stop::Timeout
            } else {
                return Ok(UpdateDeadline::Continue(1));
            };
            cx.data_mut().stop = Some(stop);
            Ok(UpdateDeadline::Interrupt)
        });

        let result = module
            .pre
            .instantiate(&mut store)
            .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
            .and_then(|start| start.call(&mut store, ()));
        let set_times = std::mem::take(&mut store.data_mut().stat.set_times);
        let clock_elapsed_ns = store.data().clock.peek();
        let fuel_left = store.get_fuel().unwrap_or(0);
        let fuel = inv.limits.fuel.saturating_sub(fuel_left);
        let data = store.data();

        let mut out = RunOutput {
            fuel: Some(fuel),
            set_times,
            clock_elapsed_ns,
            ..RunOutput::default()
        };
        match result {
            Ok(()) => {
                out.outcome = Some(Outcome::Exited);
                out.exit_code = 0;
            }
            Err(e) => {
                if let Some(exit) = e.downcast_ref::<I32Exit>() {
                    out.outcome = Some(Outcome::Exited);
                    out.exit_code = exit.0;
                } else {
                    let trap = e.downcast_ref::<Trap>().copied();
                    let (outcome, message) = match (data.stop, trap) {
                        (Some(Stop::Cancelled), _) => {
                            out.cancelled = true;
                            (Outcome::Trap, "cancelled".to_string())
                        }
                        (Some(Stop::Timeout), _) | (_, Some(Trap::Interrupt)) => {
                            (Outcome::Timeout, format!("timed out after {} ms", inv.limits.timeout_ms))
                        }
                        (_, Some(Trap::OutOfFuel)) => {
                            (Outcome::FuelExhausted, format!("fuel exhausted ({} units)", inv.limits.fuel))
                        }
                        _ if data.limiter.denied => (
                            Outcome::MemoryLimit,
                            format!("memory limit of {} bytes exceeded", inv.limits.memory_bytes),
                        ),
                        _ => (Outcome::Trap, format!("trap: {}", root_cause(&e))),
                    };
                    let stderr = format!("{}: {message}\n", inv.argv[0]).into_bytes();
                    out.outcome = Some(outcome);
                    out.exit_code = outcome.conventional_exit_code();
                    out.stderr = stderr;
                    out.error = Some(message);
                }
            }
        }
        Ok(out)
    }
}

/// At most this many top-level directories get a preopen of their own.
const MAX_NAMED_PREOPENS: usize = 16;

/// Top-level directories (not symlinks) with UTF-8 names, sorted, capped.
fn top_level_dirs(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names.truncate(MAX_NAMED_PREOPENS);
    names
}

fn root_cause(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<Trap>() {
        Some(t) => t.to_string(),
        None => format!("{e:#}").lines().next().unwrap_or("").to_string(),
    }
}

fn derive_seed(seed: &[u8; 16], purpose: &[u8]) -> [u8; 32] {
    let mut v = Vec::with_capacity(16 + purpose.len());
    v.extend_from_slice(seed);
    v.extend_from_slice(purpose);
    sha256(&v)
}

// --- metadata ---------------------------------------------------------------

/// The module name under which wasmtime-wasi's own metadata functions stay reachable.
const ORIGINAL: &str = "pg_shell_wasi_original";

/// wasmtime-wasi's preview1 functions find the guest's memory through their
/// caller's `memory` export, so a host function cannot simply call them. A
/// tiny wasm module that imports the guest's memory (and re-exports it) and
/// the original functions, and wraps each in a wasm function, makes the
/// original see the guest's memory again. Instantiated lazily, once per run
/// that reads metadata (a few microseconds).
const TRAMPOLINE_WAT: &str = r#"
(module
  (import "env" "memory" (memory 0))
  (import "orig" "fd_filestat_get" (func $fs (param i32 i32) (result i32)))
  (import "orig" "path_filestat_get" (func $ps (param i32 i32 i32 i32 i32) (result i32)))
  (import "orig" "fd_readdir" (func $rd (param i32 i32 i32 i64 i32) (result i32)))
  (import "orig" "poll_oneoff" (func $po (param i32 i32 i32 i32) (result i32)))
  (import "orig" "fd_filestat_set_times" (func $ft (param i32 i64 i64 i32) (result i32)))
  (import "orig" "path_filestat_set_times" (func $pt (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (export "memory" (memory 0))
  (func (export "fd_filestat_get") (param i32 i32) (result i32)
    local.get 0 local.get 1 call $fs)
  (func (export "path_filestat_get") (param i32 i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $ps)
  (func (export "fd_readdir") (param i32 i32 i32 i64 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $rd)
  (func (export "poll_oneoff") (param i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $po)
  (func (export "fd_filestat_set_times") (param i32 i64 i64 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $ft)
  (func (export "path_filestat_set_times") (param i32 i32 i32 i32 i64 i64 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 local.get 6 call $pt))
"#;

#[derive(Clone)]
struct Trampoline {
    fd_filestat_get: wasmtime::TypedFunc<(i32, i32), i32>,
    path_filestat_get: wasmtime::TypedFunc<(i32, i32, i32, i32, i32), i32>,
    fd_readdir: wasmtime::TypedFunc<(i32, i32, i32, i64, i32), i32>,
    poll_oneoff: wasmtime::TypedFunc<(i32, i32, i32, i32), i32>,
    fd_filestat_set_times: wasmtime::TypedFunc<(i32, i64, i64, i32), i32>,
    path_filestat_set_times: wasmtime::TypedFunc<PathSetTimesArgs, i32>,
}

/// (dirfd, lookup flags, path, path length, atim, mtim, fst flags)
type PathSetTimesArgs = (i32, i32, i32, i32, i64, i64, i32);

/// The preview1 functions whose originals the trampoline reaches.
const ORIGINALS: [&str; 6] =
    ["fd_filestat_get", "path_filestat_get", "fd_readdir", "poll_oneoff", "fd_filestat_set_times", "path_filestat_set_times"];

fn trampoline(linker: &Linker<Ctx>, module: &Module, caller: &mut Caller<'_, Ctx>) -> wasmtime::Result<Trampoline> {
    if let Some(t) = &caller.data().trampoline {
        return Ok(t.clone());
    }
    let memory = caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .ok_or_else(|| wasmtime::format_err!("the guest exports no memory"))?;
    let mut imports: Vec<wasmtime::Extern> = vec![memory.into()];
    for name in ORIGINALS {
        imports.push(linker.get(&mut *caller, ORIGINAL, name)?);
    }
    let instance = wasmtime::Instance::new(&mut *caller, module, &imports)?;
    let t = Trampoline {
        fd_filestat_get: instance.get_typed_func(&mut *caller, "fd_filestat_get")?,
        path_filestat_get: instance.get_typed_func(&mut *caller, "path_filestat_get")?,
        fd_readdir: instance.get_typed_func(&mut *caller, "fd_readdir")?,
        poll_oneoff: instance.get_typed_func(&mut *caller, "poll_oneoff")?,
        fd_filestat_set_times: instance.get_typed_func(&mut *caller, "fd_filestat_set_times")?,
        path_filestat_set_times: instance.get_typed_func(&mut *caller, "path_filestat_set_times")?,
    };
    caller.data_mut().trampoline = Some(t.clone());
    Ok(t)
}

const FILETYPE_DIRECTORY: u8 = 3;

/// Rewrites a 64-byte preview1 filestat (dev @0, ino @8, filetype @16,
/// nlink @24, size @32, atim @40, mtim @48, ctim @56) in guest memory.
fn virtualize_filestat(caller: &mut Caller<'_, Ctx>, buf: i32) {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else { return };
    let (mem, ctx) = memory.data_and_store_mut(caller);
    let b = buf as u32 as usize;
    let Some(st) = mem.get_mut(b..b + 64) else { return };
    let get = |st: &[u8], at: usize| u64::from_le_bytes(st[at..at + 8].try_into().unwrap());
    let ino = ctx.stat.inode(get(st, 8));
    let virt = |t: u64| if ctx.stat.known_times.contains(&t) { t } else { ctx.clock.base_ns };
    let (atim, mtim) = (virt(get(st, 40)), virt(get(st, 48)));
    st[0..8].copy_from_slice(&1u64.to_le_bytes());
    st[8..16].copy_from_slice(&ino.to_le_bytes());
    if st[16] == FILETYPE_DIRECTORY {
        st[32..40].copy_from_slice(&4096u64.to_le_bytes());
    }
    st[40..48].copy_from_slice(&atim.to_le_bytes());
    st[48..56].copy_from_slice(&mtim.to_le_bytes());
    st[56..64].copy_from_slice(&atim.max(mtim).to_le_bytes());
}

const FSTFLAGS_ATIM: i32 = 1;
const FSTFLAGS_ATIM_NOW: i32 = 2;
const FSTFLAGS_MTIM: i32 = 4;
const FSTFLAGS_MTIM_NOW: i32 = 8;

/// Turns "set to now" into "set to the guest's virtual now" and records the
/// times that will be set, so that they are seen (and kept) as set.
fn virtual_set_times(caller: &mut Caller<'_, Ctx>, atim: i64, mtim: i64, flags: i32) -> (i64, i64, i32) {
    let ctx = caller.data_mut();
    let (mut atim, mut mtim, mut flags) = (atim, mtim, flags);
    if flags & (FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM_NOW) != 0 {
        let now = ctx.clock.base_ns.saturating_add(ctx.clock.read()) as i64;
        if flags & FSTFLAGS_ATIM_NOW != 0 {
            (atim, flags) = (now, (flags & !FSTFLAGS_ATIM_NOW) | FSTFLAGS_ATIM);
        }
        if flags & FSTFLAGS_MTIM_NOW != 0 {
            (mtim, flags) = (now, (flags & !FSTFLAGS_MTIM_NOW) | FSTFLAGS_MTIM);
        }
    }
    for (set, t) in [(flags & FSTFLAGS_ATIM != 0, atim), (flags & FSTFLAGS_MTIM != 0, mtim)] {
        if set {
            ctx.stat.known_times.insert(t as u64);
            ctx.stat.set_times.push(t as u64);
        }
    }
    (atim, mtim, flags)
}

/// Rewrites d_ino (@8) of each complete 24-byte dirent header in a readdir buffer.
fn virtualize_dirents(caller: &mut Caller<'_, Ctx>, buf: i32, used_ptr: i32) {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else { return };
    let (mem, ctx) = memory.data_and_store_mut(caller);
    let u = used_ptr as u32 as usize;
    let Some(used) = mem.get(u..u + 4).map(|x| u32::from_le_bytes(x.try_into().unwrap()) as usize) else { return };
    let start = buf as u32 as usize;
    let Some(region) = mem.get_mut(start..start.saturating_add(used)) else { return };
    let mut at = 0;
    while at + 24 <= region.len() {
        let host = u64::from_le_bytes(region[at + 8..at + 16].try_into().unwrap());
        let virt = ctx.stat.inode(host);
        region[at + 8..at + 16].copy_from_slice(&virt.to_le_bytes());
        let namlen = u32::from_le_bytes(region[at + 16..at + 20].try_into().unwrap()) as usize;
        at += 24 + namlen;
    }
}

// --- poll_oneoff ------------------------------------------------------------
//
// Layouts from the preview1 witx: subscription is 48 bytes (userdata u64 @0,
// tag u8 @8, clock {id u32 @16, timeout u64 @24, precision u64 @32, flags u16
// @40} or fd u32 @16); event is 32 bytes (userdata u64 @0, errno u16 @8, type
// u8 @10, nbytes u64 @16, flags u16 @24).

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;
const EVENTTYPE_CLOCK: u8 = 0;
const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// Whether any subscription waits on a file descriptor (those polls go to
/// wasmtime-wasi; stdin is an empty pipe and files never block, so they
/// answer at once and deterministically).
fn polls_a_descriptor(caller: &mut Caller<'_, Ctx>, in_ptr: i32, nsubs: i32) -> bool {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else { return false };
    let mem = memory.data(&*caller);
    let start = in_ptr as u32 as usize;
    (0..nsubs.max(0) as usize).any(|i| mem.get(start + 48 * i + 8).is_some_and(|tag| *tag != EVENTTYPE_CLOCK))
}

/// A poll of clocks only. It does not wait: virtual time jumps to the
/// earliest deadline, so `sleep 10` costs nothing, replays exactly and still
/// moves the guest's clocks by ten seconds.
fn poll_oneoff(mut caller: Caller<'_, Ctx>, in_ptr: i32, out_ptr: i32, nsubs: i32, nevents_ptr: i32) -> i32 {
    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory()) else {
        return ERRNO_FAULT;
    };
    if nsubs <= 0 {
        return ERRNO_INVAL;
    }
    let (mem, ctx) = memory.data_and_store_mut(&mut caller);
    let n = nsubs as usize;
    let (inp, outp, np) = (in_ptr as u32 as usize, out_ptr as u32 as usize, nevents_ptr as u32 as usize);
    if inp.checked_add(48 * n).is_none_or(|e| e > mem.len())
        || outp.checked_add(32 * n).is_none_or(|e| e > mem.len())
        || np.checked_add(4).is_none_or(|e| e > mem.len())
    {
        return ERRNO_FAULT;
    }
    let u64_at = |m: &[u8], at: usize| u64::from_le_bytes(m[at..at + 8].try_into().unwrap());
    let u32_at = |m: &[u8], at: usize| u32::from_le_bytes(m[at..at + 4].try_into().unwrap());
    let u16_at = |m: &[u8], at: usize| u16::from_le_bytes(m[at..at + 2].try_into().unwrap());

    // (userdata, deadline in elapsed virtual ns, or None for an unknown clock)
    let mut clocks: Vec<(u64, Option<u64>)> = Vec::with_capacity(n);
    let now = ctx.clock.peek();
    for i in 0..n {
        let s = inp + 48 * i;
        if mem[s + 8] != EVENTTYPE_CLOCK {
            return ERRNO_INVAL; // descriptor polls never reach here
        }
        let id = u32_at(mem, s + 16);
        let timeout = u64_at(mem, s + 24);
        let abs = u16_at(mem, s + 40) & SUBCLOCKFLAGS_ABSTIME != 0;
        let deadline = match (id, abs) {
            (CLOCK_MONOTONIC, false) | (CLOCK_REALTIME, false) => Some(now.saturating_add(timeout)),
            (CLOCK_MONOTONIC, true) => Some(timeout),
            (CLOCK_REALTIME, true) => Some(timeout.saturating_sub(ctx.clock.base_ns)),
            _ => None,
        };
        clocks.push((u64_at(mem, s), deadline));
    }
    let earliest = clocks.iter().filter_map(|c| c.1).min();
    if let Some(t) = earliest {
        ctx.clock.advance_to(t);
    }
    let mut count = 0u32;
    for (userdata, deadline) in clocks.iter().filter(|(_, d)| d.is_none() || *d == earliest) {
        let o = outp + 32 * count as usize;
        let errno: u16 = if deadline.is_none() { ERRNO_INVAL as u16 } else { 0 };
        mem[o..o + 32].fill(0);
        mem[o..o + 8].copy_from_slice(&userdata.to_le_bytes());
        mem[o + 8..o + 10].copy_from_slice(&errno.to_le_bytes());
        mem[o + 10] = EVENTTYPE_CLOCK;
        count += 1;
    }
    mem[np..np + 4].copy_from_slice(&count.to_le_bytes());
    ERRNO_SUCCESS
}
