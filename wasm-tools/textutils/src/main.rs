//! pg_shell's textutils module: grep, sed, awk, find, diff, cmp, jq, gzip
//! and tar as one WASI multicall binary.
//!
//! As in the coreutils module, the host registers this one module under
//! every name in `tools.txt` and starts it with argv[0] set to the program
//! name; dispatch is on the file name of argv[0]. Called as `textutils`,
//! argv[1] names the tool instead, and `textutils --list` prints the names.
//!
//! Before running a tool the process changes into `$PWD`: WASI preview 1
//! gives a guest no working directory, and wasi-libc starts in "/".
//!
//! No tool here starts a process (a WASI program cannot): `find -exec`,
//! awk's pipes and `system()`, and jq's nothing-of-the-kind fail with a
//! message saying so, never silently.

mod awk;
mod diff;
mod find;
mod grep;
mod gzip;
mod jq;
mod tar;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::exit;

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let Some(argv0) = args.first() else {
        fail("textutils: missing program name (argv[0] is empty)");
    };
    let called_as = Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    if PROGRAMS.contains(&called_as.as_str()) {
        run(&called_as, args, false);
    }
    if called_as != "textutils" && called_as != "textutils.wasm" {
        fail(&format!("textutils: unknown program '{called_as}'"));
    }
    let Some(tool) = args.get(1).map(|a| a.to_string_lossy().into_owned()) else {
        fail(
            "textutils: missing argument\nUsage: textutils <program> [arguments...]\n       textutils --list",
        );
    };
    match tool.as_str() {
        "--list" => {
            let mut out = std::io::stdout().lock();
            for program in PROGRAMS {
                if writeln!(out, "{program}").is_err() {
                    exit(1);
                }
            }
            finish(0);
        }
        _ if PROGRAMS.contains(&tool.as_str()) => {
            uucore::set_utility_is_second_arg();
            run(&tool, args.into_iter().skip(1).collect(), true);
        }
        _ => fail(&format!("textutils: unknown program '{tool}'")),
    }
}

/// Runs `program` with `args` (args[0] being the program's own name) and
/// exits with its status.
/// `second_arg`: called as `textutils NAME ...` (for tools that read the
/// process's arguments themselves).
fn run(program: &str, args: Vec<OsString>, second_arg: bool) -> ! {
    enter_pwd(program);
    let code = match program {
        "awk" => awk::main(args),
        "cmp" => diff::cmp_main(second_arg),
        "diff" => diff::diff_main(args),
        "grep" | "egrep" | "fgrep" => grep::main(program, args),
        "gzip" | "gunzip" | "zcat" => gzip::main(program, args),
        "find" => find::main(args),
        "jq" => jq::main(args),
        "sed" => {
            uucore::panic::mute_sigpipe_panic();
            sed::sed::uumain(args.into_iter())
        }
        "tar" => tar::main(args),
        other => unreachable!("{other} is in tools.txt but has no entry in main.rs"),
    };
    finish(code);
}

/// Adopts `$PWD` as the working directory (see the module comment). A `PWD`
/// that cannot be entered is an error, not a silent fallback to "/".
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
