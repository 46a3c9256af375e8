//! Differential conformance of the guests' filesystem.
//!
//! `pg_shell::bundled::FSCONFORM` (wasm-tools/fsconform) calls every WASI
//! preview1 filesystem function with its documented success and error cases
//! and prints one transcript line per case: `NNN name: result`, where the
//! first word of `name` is the preview1 function under test and `result` is
//! `ok` plus the values every correct implementation must agree on, or the
//! errno's name. It never prints what implementations may legitimately
//! differ on (inode/device numbers, timestamps it did not set, directory
//! sizes and link counts, readdir order and cookies, descriptor numbers,
//! per-call byte counts of vectored I/O). It ends with `cases: N`.
//!
//! The *reference* is wasmtime-wasi 48's own preview1 implementation on a
//! fresh host directory preopened as `/` ([`run_reference`]). The harness
//! compares pg_shell's filesystem with it byte for byte: run the same module
//! with no arguments on an empty root, and the stdout transcripts must be
//! identical and both runs must exit 0 ([`first_difference`] explains a
//! mismatch). The reference is Linux; the fixture's comments mark the cases
//! whose answer is Linux's or wasmtime's rather than the spec's.
//!
//! A second, smaller comparison covers arguments the ABI cannot represent
//! (unknown flag bits, out-of-range enum values): `fsconform invalid NAME`
//! makes one such call per process, because wasmtime-wasi traps on some of
//! them; [`invalid_argument_outcomes`] turns a runner into the table
//! `name: result` (or `name: trap`) to compare the same way.
//!
//! This file holds the reference half: [`run_reference`],
//! [`reference_transcript`] (cached per test process), and tests that the
//! reference transcript is complete and stable. Set `FSCONFORM_WASM` to a
//! freshly built `fsconform.wasm` to iterate on the fixture without
//! relinking pg_shell:
//!
//!   cargo build --release --target wasm32-wasip1 -p pg-shell-fsconform \
//!       --manifest-path wasm-tools/Cargo.toml --target-dir /tmp/fsconform
//!   FSCONFORM_WASM=/tmp/fsconform/wasm32-wasip1/release/fsconform.wasm \
//!       cargo test --test it conformance

use std::sync::OnceLock;

use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// The preview1 filesystem functions; each must name at least one case.
pub const FILESYSTEM_FUNCTIONS: &[&str] = &[
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
];

/// Output pipes hold this much; the transcript is far smaller.
const PIPE_CAPACITY: usize = 16 << 20;

/// Runs `wasm` (a WASI preview1 command) under plain wasmtime and
/// wasmtime-wasi's preview1 implementation, with a fresh empty temporary
/// directory preopened as `/` (read-write), no environment variables,
/// argv = `args` (include argv[0]) and an empty stdin. Returns stdout,
/// stderr and the exit code: the guest's `proc_exit` code, 0 when `_start`
/// returns, or -1 when the run fails otherwise (a trap; the error is
/// appended to stderr).
///
/// The guest runs on a thread of its own with the synchronous linker, so
/// this may be called from anywhere, including inside a tokio runtime.
pub fn run_reference(wasm: &[u8], args: &[&str]) -> (Vec<u8>, Vec<u8>, i32) {
    let wasm = wasm.to_vec();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    std::thread::spawn(move || run_reference_on_this_thread(&wasm, &args))
        .join()
        .expect("the reference run panicked")
}

fn run_reference_on_this_thread(wasm: &[u8], args: &[String]) -> (Vec<u8>, Vec<u8>, i32) {
    let root = tempfile::tempdir().expect("creating the reference root");
    let engine = Engine::default();
    let module = Module::new(&engine, wasm).expect("compiling the module");
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).expect("adding preview1 to the linker");
    // proc_exit with a code >= 126 otherwise surfaces as a host error, not
    // an I32Exit (shared/notes/wasmtime-48.md).
    linker.allow_shadowing(true);
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "proc_exit",
            |code: i32| -> wasmtime::Result<()> { Err(wasmtime::Error::new(I32Exit(code))) },
        )
        .expect("shadowing proc_exit");

    let stdout = MemoryOutputPipe::new(PIPE_CAPACITY);
    let stderr = MemoryOutputPipe::new(PIPE_CAPACITY);
    let mut builder = WasiCtxBuilder::new();
    builder
        .args(args)
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_blocking_current_thread(true);
    builder
        .preopened_dir(root.path(), "/", FsPerms::ReadWrite)
        .expect("preopening the reference root");
    let mut store = Store::new(&engine, builder.build_p1());

    let code = match linker
        .instantiate(&mut store, &module)
        .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|start| start.call(&mut store, ()))
    {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => Ok(*code),
            None => Err(format!("{e:?}")),
        },
    };
    drop(store);
    let out = stdout.contents().to_vec();
    let mut err = stderr.contents().to_vec();
    let code = code.unwrap_or_else(|e| {
        err.extend_from_slice(format!("\n[reference run failed: {e}]\n").as_bytes());
        -1
    });
    (out, err, code)
}

/// The fsconform module: `pg_shell::bundled::FSCONFORM`, or the file named
/// by `FSCONFORM_WASM` when that is set.
pub fn fsconform_wasm() -> &'static [u8] {
    static OVERRIDE: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    let over = OVERRIDE.get_or_init(|| {
        std::env::var_os("FSCONFORM_WASM").map(|p| {
            std::fs::read(&p)
                .unwrap_or_else(|e| panic!("FSCONFORM_WASM={}: {e}", p.to_string_lossy()))
        })
    });
    over.as_deref().unwrap_or(pg_shell::bundled::FSCONFORM.wasm)
}

/// The fsconform transcript on the reference, computed once per test
/// process. Panics unless the run exited 0 with nothing on stderr.
pub fn reference_transcript() -> &'static str {
    static TRANSCRIPT: OnceLock<String> = OnceLock::new();
    TRANSCRIPT.get_or_init(|| {
        let (out, err, code) = run_reference(fsconform_wasm(), &["fsconform"]);
        let out = String::from_utf8(out).expect("the transcript is UTF-8");
        assert_eq!(
            (code, String::from_utf8_lossy(&err).as_ref()),
            (0, ""),
            "fsconform on the reference; stdout:\n{out}"
        );
        out
    })
}

/// Runs every `fsconform invalid NAME` case with `run` (given argv, returning
/// stdout, stderr and exit code, like [`run_reference`]) and returns one line
/// per case: `name: <errno or ok>`, or `name: trap` when the run printed no
/// result (the guest was killed; its exit code is runner-specific).
pub fn invalid_argument_outcomes(run: impl Fn(&[&str]) -> (Vec<u8>, Vec<u8>, i32)) -> String {
    let (list, err, code) = run(&["fsconform", "invalid"]);
    assert_eq!(
        code,
        0,
        "fsconform invalid: {}",
        String::from_utf8_lossy(&err)
    );
    let list = String::from_utf8(list).expect("case names are UTF-8");
    let mut out = String::new();
    for name in list.lines() {
        let (stdout, _, _) = run(&["fsconform", "invalid", name]);
        let stdout = String::from_utf8_lossy(&stdout);
        let prefix = format!("{name}: ");
        match stdout.lines().find(|l| l.starts_with(&prefix)) {
            Some(line) => out.push_str(line),
            None => out.push_str(&format!("{prefix}trap")),
        }
        out.push('\n');
    }
    out
}

/// The first line where `actual` differs from `expected`, with its
/// neighbours, or `None` when they are identical.
pub fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let at = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(e.len());
    let show = |lines: &[&str]| -> String {
        let from = at.saturating_sub(2);
        let to = (at + 3).min(lines.len());
        lines
            .get(from..to)
            .map(|l| l.join("\n"))
            .unwrap_or_default()
    };
    Some(format!(
        "transcripts differ at line {} (of {} expected, {} actual)\n--- expected\n{}\n--- actual\n{}",
        at + 1,
        e.len(),
        a.len(),
        show(&e),
        show(&a)
    ))
}

/// The `(name, result)` of every case line; panics on a malformed line.
fn cases(transcript: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for line in transcript.lines() {
        if line.starts_with("cases: ") {
            continue;
        }
        let (num, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("malformed line {line:?}"));
        assert_eq!(
            num.parse::<usize>().ok(),
            Some(out.len() + 1),
            "case number in {line:?}"
        );
        let (name, result) = rest
            .split_once(": ")
            .unwrap_or_else(|| panic!("malformed line {line:?}"));
        out.push((name, result));
    }
    out
}

#[test]
fn fsconform_reference_transcript_is_complete() {
    let transcript = reference_transcript();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("fsconform-reference.txt");
    std::fs::write(&out, transcript).expect("writing the transcript");
    eprintln!("fsconform reference transcript: {}", out.display());

    let last = transcript.lines().last().unwrap_or_default();
    let n: usize = last
        .strip_prefix("cases: ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the transcript should end with `cases: N`, not {last:?}"));
    let cases = cases(transcript);
    assert_eq!(cases.len(), n, "`cases: N` counts the case lines");
    assert!(n >= 150, "only {n} cases");
    for f in FILESYSTEM_FUNCTIONS {
        let count = cases
            .iter()
            .filter(|(name, _)| name.split(' ').next() == Some(f))
            .count();
        assert!(count > 0, "no case is named after {f}");
    }
    // A setup step that fails stops the fixture; it must not have.
    assert!(!transcript.contains("setup failed"), "{transcript}");
}

#[test]
fn fsconform_reference_transcript_is_stable() {
    let (a, _, code_a) = run_reference(fsconform_wasm(), &["fsconform"]);
    let (b, _, code_b) = run_reference(fsconform_wasm(), &["fsconform"]);
    assert_eq!((code_a, code_b), (0, 0));
    let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    if let Some(diff) = first_difference(&a, &b) {
        panic!("two reference runs differ: {diff}");
    }
}

#[test]
fn fsconform_invalid_arguments_on_the_reference() {
    let table = invalid_argument_outcomes(|args| run_reference(fsconform_wasm(), args));
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("fsconform-invalid-reference.txt");
    std::fs::write(&out, &table).expect("writing the table");
    eprintln!(
        "fsconform invalid-argument outcomes on the reference: {}\n{table}",
        out.display()
    );
    assert!(table.lines().count() >= 10, "{table}");
    // Every outcome is an error: an unrepresentable argument never succeeds.
    for line in table.lines() {
        assert!(!line.ends_with(": ok"), "{line}");
    }
}

#[test]
fn first_difference_points_at_the_line() {
    assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
    let d = first_difference("001 x: ok\n002 y: ok\n", "001 x: ok\n002 y: ENOENT\n").unwrap();
    assert!(d.contains("line 2") && d.contains("002 y: ENOENT"), "{d}");
    let d = first_difference("001 x: ok\n", "001 x: ok\nextra\n").unwrap();
    assert!(d.contains("line 2"), "{d}");
}

// --- pg_shell's half ----------------------------------------------------------

struct NoBlobs;
impl pg_shell::runtime::vfs::BlobSource for NoBlobs {
    fn get(&self, d: &pg_shell::env::Digest) -> Result<std::sync::Arc<Vec<u8>>, String> {
        Err(format!("no contents {}", hex::encode(d)))
    }
}

/// Runs the module as a one-stage line on pg_shell's runtime: the virtual
/// filesystem with an empty root, no variables, argv = `args`. Returns
/// stdout, stderr and the exit code (-1 when the guest trapped, as
/// [`run_reference`] does).
pub fn run_pg_shell(wasm: &[u8], args: &[&str]) -> (Vec<u8>, Vec<u8>, i32) {
    use pg_shell::runtime::line::{Budget, Line};
    use pg_shell::runtime::vfs::{Vfs, VfsLimits};
    use pg_shell::runtime::wasi::{StageSpec, Stdio, WasiRuntime};
    use std::sync::{Arc, Mutex};
    static RUNTIME: OnceLock<WasiRuntime> = OnceLock::new();
    let rt = RUNTIME.get_or_init(|| WasiRuntime::new(Some(crate::support::cache_dir())).unwrap());
    let module = rt.prepare(&pg_shell::env::sha256(wasm), wasm).unwrap();
    let vfs = Arc::new(Mutex::new(Vfs::new(
        Arc::new(pg_shell::runtime::vfs::Base::new(pg_shell::env::Tree::default())),
        Arc::new(NoBlobs),
        VfsLimits { max_bytes: 64 << 20, max_files: 100_000 },
        0,
    )));
    let line = Arc::new(Line::new(
        Budget::new(u64::MAX / 4, pg_shell::runtime::DEFAULT_FUEL_PER_SECOND),
        1_700_000_000_000_000_000,
        false,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        std::time::Instant::now() + std::time::Duration::from_secs(600),
        64 << 20,
        1 << 20,
    ));
    let argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let vars = std::collections::BTreeMap::new();
    // Task 0 (the line's own) holds the baton from the start.
    let spec = StageSpec { module: &module, argv: &argv, vars: &vars, stage: 0, stdin: Stdio::Null, stdout: Stdio::Terminal, stderr: Stdio::TerminalErr, seed: [7; 32], memory_bytes: 1 << 30, named_preopens: pg_shell::runtime::NamedPreopens::Args, terminal: None };
    let end = rt.run_stage(&line, &vfs, &spec);
    let (out, _) = line.stdout.lock().unwrap().take();
    let (mut err, _) = line.stderr.lock().unwrap().take();
    let code = match end.outcome {
        pg_shell::runtime::Outcome::Exited => end.exit_code,
        _ => {
            err.extend_from_slice(end.message.unwrap_or_default().as_bytes());
            -1
        }
    };
    (out, err, code)
}

#[test]
fn the_virtual_filesystem_answers_every_case_as_wasmtime_wasi_on_a_real_directory() {
    let expected = reference_transcript();
    let (out, err, code) = run_pg_shell(fsconform_wasm(), &["fsconform"]);
    let actual = String::from_utf8_lossy(&out).into_owned();
    let _ = std::fs::write(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fsconform-pg_shell.txt"), &actual);
    assert_eq!((code, String::from_utf8_lossy(&err).as_ref()), (0, ""), "fsconform on pg_shell");
    if let Some(diff) = first_difference(expected, &actual) {
        let mismatches = expected.lines().zip(actual.lines()).filter(|(a, b)| a != b).count();
        panic!("{mismatches} cases differ; {diff}");
    }
}

#[test]
fn invalid_arguments_end_the_same_way_on_pg_shell() {
    let wasm = fsconform_wasm();
    let reference = invalid_argument_outcomes(|a| run_reference(wasm, a));
    let ours = invalid_argument_outcomes(|a| run_pg_shell(wasm, a));
    if let Some(diff) = first_difference(&reference, &ours) {
        panic!("{diff}");
    }
}
