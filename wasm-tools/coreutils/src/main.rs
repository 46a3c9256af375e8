//! pg_shell's coreutils module: the uutils `uu_*` utilities as one WASI
//! multicall binary.
//!
//! The host registers this one module under every name in `tools.txt` and
//! starts it with argv[0] set to the program name, so dispatch is on the file
//! name of argv[0] (`ls`, `/bin/ls`). Called as `coreutils` (or
//! `coreutils.wasm`), argv[1] names the tool instead, and `coreutils --list`
//! prints the program names one per line.
//!
//! uucore derives the utility name for messages from the process's own argv
//! (`std::env::args_os`), not from the iterator handed to `uumain`: argv[0]'s
//! file name, or argv[1]'s after `uucore::set_utility_is_second_arg()`. That is
//! why the second form must call it before running the tool.
//!
//! Before running a tool the process changes into `$PWD` (see `enter_pwd`):
//! WASI preview 1 has no other way to hand a guest its working directory.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::exit;

include!(concat!(env!("OUT_DIR"), "/tools.rs"));

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let Some(argv0) = args.first() else {
        fail("coreutils: missing program name (argv[0] is empty)");
    };
    let called_as = Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    if PROGRAMS.contains(&called_as.as_str()) {
        run(&called_as, args);
    }
    if called_as != "coreutils" && called_as != "coreutils.wasm" {
        fail(&format!("coreutils: unknown program '{called_as}'"));
    }

    let Some(tool) = args.get(1).map(|a| a.to_string_lossy().into_owned()) else {
        fail(
            "coreutils: missing argument\nUsage: coreutils <program> [arguments...]\n       coreutils --list",
        );
    };
    match tool.as_str() {
        "--list" => {
            if args.len() > 2 {
                fail("coreutils: invalid argument");
            }
            let mut out = std::io::stdout().lock();
            for program in PROGRAMS {
                if writeln!(out, "{program}").is_err() {
                    exit(1);
                }
            }
            finish(0);
        }
        "--version" | "-V" => {
            println!("coreutils (uutils coreutils 0.12, pg_shell multicall)");
            finish(0);
        }
        "--help" | "-h" => {
            println!(
                "Usage: coreutils <program> [arguments...]\n       coreutils --list\n\nPrograms:\n  {}",
                PROGRAMS.join(" ")
            );
            finish(0);
        }
        _ if PROGRAMS.contains(&tool.as_str()) => {
            uucore::set_utility_is_second_arg();
            run(&tool, args.into_iter().skip(1).collect());
        }
        _ => fail(&format!("coreutils: unknown program '{tool}'")),
    }
}

/// Runs `program` with `args` (args[0] being the program's own name) and exits
/// with its status, as uucore's `bin!` macro does for a single-tool binary.
fn run(program: &str, args: Vec<OsString>) -> ! {
    enter_pwd(program);
    if let Err(err) = uucore::locale::setup_localization(locale_name(program)) {
        eprintln!("{program}: could not initialize localization: {err}");
        exit(99);
    }
    let code = run_program(program, args.into_iter()).expect("program is in PROGRAMS");
    finish(code);
}

/// WASI preview 1 has no inherited working directory: wasi-libc starts every
/// process in "/" and ignores `PWD`, so `ls` would list "/" whatever
/// directory the session is in. pg_shell passes the session's directory as
/// `PWD`; adopt it before running the tool (relative paths, `realpath .`,
/// `ls` then behave as in a real shell). A `PWD` that cannot be entered is an
/// error, not a silent fallback to "/" (think `rm -r build`).
fn enter_pwd(program: &str) {
    let Some(pwd) = std::env::var_os("PWD").filter(|p| !p.is_empty()) else {
        return;
    };
    if let Err(e) = std::env::set_current_dir(&pwd) {
        fail(&format!(
            "{program}: cannot enter the working directory '{}' from PWD: {e}",
            pwd.to_string_lossy()
        ));
    }
}

fn finish(code: i32) -> ! {
    if let Err(e) = std::io::stdout().flush() {
        eprintln!("Error flushing stdout: {e}");
    }
    exit(code);
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    exit(1);
}
