//! The WebAssembly modules shipped inside the pg_shell binary, and what
//! `help` says about their programs.
//!
//! build.rs compiles them from `wasm-tools/` (their own cargo workspace, built
//! for wasm32-wasip1) and this module embeds the bytes. All are multicall
//! modules: the host registers one module under each of its program names and
//! runs it with argv[0] set to that name. Nothing here runs or registers them
//! (`db::register_bundled` registers [`SHIPPED`]).
//!
//! The coreutils and textutils modules change into `$PWD` before running a
//! tool (WASI preview 1 gives a guest no working directory otherwise;
//! wasi-libc starts in "/"), so the host passes the session's directory as
//! `PWD`. The fixtures do not: they report what the runtime gives them.
//!
//! For `help`: [`describe`] gives a shipped program's category and one-line
//! summary, [`usage`] its manual-style usage text, [`CATEGORIES`] the
//! categories in display order and [`programs_in`] a category's programs
//! (see `help.rs`).

/// One WebAssembly module shipped inside the pg_shell binary.
pub struct BundledModule {
    /// A short name for logs and the programs table ("coreutils").
    pub name: &'static str,
    /// The module's bytes (a WASI preview 1 command exporting `_start`).
    pub wasm: &'static [u8],
    /// Every program name the module answers to as argv[0], sorted.
    pub programs: &'static [&'static str],
}

/// uutils coreutils 0.12 as one multicall module. `programs` is generated from
/// `wasm-tools/coreutils/tools.txt`, the same list the module dispatches on
/// (and prints with `coreutils --list`).
pub static COREUTILS: BundledModule = BundledModule {
    name: "coreutils",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/coreutils.wasm")),
    programs: include!(concat!(env!("OUT_DIR"), "/coreutils_programs.rs")),
};

/// grep, sed, awk, find, diff, cmp, jq, gzip/gunzip/zcat and tar as one
/// multicall module (`wasm-tools/textutils`): uutils sed 0.3, findutils 0.11
/// (find) and diffutils 0.6; jaq 3.1 (jq); the one true awk 2022-09-12 (C);
/// and pg_shell's own GNU-compatible front ends for grep (over ripgrep's
/// grep-regex and grep-searcher), gzip (flate2) and tar (the tar crate).
/// `programs` is generated from `wasm-tools/textutils/tools.txt`. xargs is
/// not here: it exists to start commands, which a WASI program cannot do.
pub static TEXTUTILS: BundledModule = BundledModule {
    name: "textutils",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/textutils.wasm")),
    programs: include!(concat!(env!("OUT_DIR"), "/textutils_programs.rs")),
};

/// The modules every installation registers (`pg_shell init`, `up`).
pub static SHIPPED: &[&BundledModule] = &[&COREUTILS, &TEXTUTILS];

mod help;
pub use help::{describe, programs_in, usage, CATEGORIES};

/// Test programs with exactly specified behaviour (`wasm-tools/fixtures`):
///
/// - `spin`: loops forever without host calls.
/// - `memhog MB`: allocates MB MiB in 1 MiB chunks, printing `allocated N MiB`
///   after each.
/// - `clockrand`: prints `wall=<ns since the epoch>`, `mono=<ns between two
///   Instant::now()>`, `random=<32 hex digits from random_get>`.
/// - `exitwith N`: exits with status N.
/// - `bigout N [err]`: N bytes of `0123456789abcdef...` on stdout (stderr with
///   `err`) in 64 KiB writes; a failed write exits 3.
/// - `badutf8`: prints `ok \xff\xfe bad\n`.
/// - `writefile PATH CONTENT`, `appendfile PATH CONTENT`: write or append, no
///   newline added; errors exit 1.
/// - `readfile PATH`: the file's bytes; errors print `readfile: PATH: <error>`
///   and exit 1.
/// - `mksymlink TARGET LINK`: creates a symlink; errors exit 1.
/// - `sleepy MILLIS`: sleeps, then prints `slept MILLIS`.
/// - `unreachable`: executes `unreachable` (a trap; not named `trap`,
///   which is the shell's builtin).
/// - `whereami`: `cwd=<current_dir()>`, the environment as sorted `KEY=VALUE`
///   lines, then `args=<argv joined by spaces>` (argv[0] included).
/// - `stdinlen`: the byte count of stdin.
/// - `ls-root`: the entries of `/`, sorted.
///
/// Usage errors (missing or malformed arguments) exit 2.
pub static FIXTURES: BundledModule = BundledModule {
    name: "fixtures",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/fixtures.wasm")),
    programs: &[
        "appendfile",
        "badutf8",
        "bigout",
        "clockrand",
        "exitwith",
        "ls-root",
        "memhog",
        "mksymlink",
        "preopens",
        "readfile",
        "sleepy",
        "spin",
        "stdinlen",
        "unreachable",
        "whereami",
        "writefile",
    ],
};

/// The filesystem conformance fixture (`wasm-tools/fsconform`): run with an
/// empty directory preopened as `/` and no arguments, it calls every preview1
/// filesystem function with its documented success and error cases and
/// prints one line per case (`NNN name: ok ...` or the errno's name), then
/// `cases: N`, and exits 0. The transcript holds only what every correct
/// implementation must agree on, so pg_shell's own filesystem must print
/// exactly what wasmtime-wasi on a host directory prints
/// (tests/it/conformance.rs). Not registered as a program by default.
pub static FSCONFORM: BundledModule = BundledModule {
    name: "fsconform",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/fsconform.wasm")),
    programs: &["fsconform"],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn is_wasm_module(bytes: &[u8]) -> bool {
        bytes.starts_with(b"\0asm\x01\0\0\0")
    }

    #[test]
    fn modules_are_core_wasm_modules() {
        assert!(is_wasm_module(COREUTILS.wasm));
        assert!(is_wasm_module(TEXTUTILS.wasm));
        assert!(is_wasm_module(FIXTURES.wasm));
        assert!(is_wasm_module(FSCONFORM.wasm));
    }

    /// The modules' digests are pinned in every recorded plan, so their
    /// bytes must not depend on where this machine keeps the checkout or
    /// cargo's registry (build.rs remaps both); otherwise a session recorded
    /// here would not replay on another machine.
    #[test]
    fn modules_name_no_path_of_this_machine() {
        let mut paths = vec![env!("CARGO_MANIFEST_DIR").to_string()];
        // Where build.rs ran the nested build (PG_SHELL_WASM_CACHE moves it).
        paths.extend(env!("PG_SHELL_WASM_BUILD_DIRS").split(':').map(String::from));
        match std::env::var("CARGO_HOME") {
            Ok(home) => paths.push(home),
            Err(_) => paths.extend(std::env::var("HOME").map(|h| format!("{h}/.cargo"))),
        }
        for m in [&COREUTILS, &TEXTUTILS, &FIXTURES, &FSCONFORM] {
            for path in &paths {
                let found = m.wasm.windows(path.len()).position(|w| w == path.as_bytes());
                assert!(found.is_none(), "{} names {path} at byte {found:?}", m.name);
            }
        }
    }

    #[test]
    fn program_lists_are_sorted_and_unique() {
        for m in [&COREUTILS, &TEXTUTILS, &FIXTURES, &FSCONFORM] {
            assert!(
                m.programs.windows(2).all(|w| w[0] < w[1]),
                "{}: {:?}",
                m.name,
                m.programs
            );
        }
    }

    #[test]
    fn coreutils_has_the_usual_tools_and_no_builtins() {
        for p in [
            "ls",
            "echo",
            "cat",
            "sha256sum",
            "date",
            "seq",
            "sort",
            "wc",
            "[",
        ] {
            assert!(COREUTILS.programs.contains(&p), "missing {p}");
        }
        for p in ["env", "pwd", "yes", "coreutils"] {
            assert!(!COREUTILS.programs.contains(&p), "unexpected {p}");
        }
    }

    #[test]
    fn textutils_has_the_tools_of_issue_10_and_no_xargs() {
        for p in ["grep", "egrep", "fgrep", "sed", "awk", "find", "diff", "cmp", "jq", "gzip", "gunzip", "zcat", "tar"] {
            assert!(TEXTUTILS.programs.contains(&p), "missing {p}");
        }
        assert!(!TEXTUTILS.programs.contains(&"xargs"));
        for p in TEXTUTILS.programs {
            assert!(!COREUTILS.programs.contains(p), "{p} is in both modules");
        }
    }
}

/// The program list `help` prints after the builtins: the registered
/// programs grouped by what they do (`CATEGORIES`), each with its one line;
/// programs the table does not describe (an operator's own) come last.
pub fn describe_programs(programs: &[String]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("\nPrograms (`help NAME` shows one's usage):\n");
    let registered: std::collections::BTreeSet<&str> = programs.iter().map(String::as_str).collect();
    for (key, heading) in CATEGORIES {
        let here: Vec<&str> = programs_in(key).filter(|p| registered.contains(p)).collect();
        if here.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{heading}:");
        for p in here {
            let line = describe(p).map(|d| d.1).unwrap_or("");
            let _ = writeln!(s, "  {p:<12} {line}");
        }
    }
    let other: Vec<&str> = registered.iter().copied().filter(|p| describe(p).is_none()).collect();
    if !other.is_empty() {
        let _ = writeln!(s, "other registered programs:\n  {}", other.join(" "));
    }
    s
}
