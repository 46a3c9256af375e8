//! `diff` and `cmp` from uutils diffutils (the `diffutilslib` library).
//!
//! diffutils' own `main` functions live in its binary and return an opaque
//! `ExitCode`, so the two entry points are re-stated here over the
//! library's public parts (`params::parse_params`, the output formats,
//! `cmp::parse_params` and `cmp::cmp`), following diffutils 0.6.0's
//! `src/diff.rs` and `cmp::main` (MIT OR Apache-2.0). Exit status as GNU's:
//! 0 no difference, 1 differences, 2 trouble.
//!
//! What diffutils 0.6 does not have, GNU diff users may miss: `-r` (two
//! directories are an error), `-i`, `-w`, `-b`, `-B`.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};

use diffutilslib::params::{parse_params, Format};
use diffutilslib::utils::report_failure_to_read_input_file;
use diffutilslib::{context_diff, ed_diff, normal_diff, side_by_side_diff, unified_diff};

pub fn diff_main(args: Vec<OsString>) -> i32 {
    let params = match parse_params(args.into_iter().peekable()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let report_identical = || {
        if params.report_identical_files {
            println!(
                "Files {} and {} are identical",
                params.from.to_string_lossy(),
                params.to.to_string_lossy(),
            );
        }
    };
    if params.from == "-" && params.to == "-"
        || same_file::is_same_file(&params.from, &params.to).unwrap_or(false)
    {
        report_identical();
        return 0;
    }

    fn read(path: &OsString) -> io::Result<Vec<u8>> {
        if path == "-" {
            let mut content = Vec::new();
            io::stdin().read_to_end(&mut content).map(|_| content)
        } else {
            fs::read(path)
        }
    }
    let mut failed = false;
    let mut load = |path: &OsString| {
        read(path).unwrap_or_else(|e| {
            report_failure_to_read_input_file(&params.executable, path, &e);
            failed = true;
            Vec::new()
        })
    };
    let from = load(&params.from);
    let to = load(&params.to);
    if failed {
        return 2;
    }

    let result: Vec<u8> = match params.format {
        Format::Normal => normal_diff(&from, &to, &params),
        Format::Unified => unified_diff(&from, &to, &params),
        Format::Context => context_diff(&from, &to, &params),
        Format::Ed => match ed_diff(&from, &to, &params) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return 2;
            }
        },
        Format::SideBySide => {
            let mut out = io::stdout().lock();
            side_by_side_diff(&from, &to, &mut out, &params)
        }
    };
    let write = if params.brief && !result.is_empty() {
        writeln!(
            io::stdout(),
            "Files {} and {} differ",
            params.from.to_string_lossy(),
            params.to.to_string_lossy()
        )
    } else {
        io::stdout().write_all(&result)
    };
    if let Err(e) = write {
        eprintln!("diff: write error: {e}");
        return 2;
    }
    if result.is_empty() {
        report_identical();
        0
    } else {
        1
    }
}

/// `cmp`: diffutils' own `cmp::main`, which reads the process's arguments
/// itself (`second_arg`: called as `textutils cmp ...`, argv[1] is the name).
pub fn cmp_main(second_arg: bool) -> i32 {
    use std::process::ExitCode;
    let mut args = std::env::args_os();
    if second_arg {
        args.next();
    }
    let code = diffutilslib::cmp::main(args.peekable());
    if code == ExitCode::SUCCESS {
        0
    } else if code == ExitCode::from(1) {
        1
    } else {
        2
    }
}
