//! `diff` and `cmp` from uutils diffutils (the `diffutilslib` library).
//!
//! diffutils' own `main` functions live in its binary and return an opaque
//! `ExitCode`, so the two entry points are re-stated here over the
//! library's public parts (`params::parse_params`, the output formats,
//! `cmp::parse_params` and `cmp::cmp`), following diffutils 0.6.0's
//! `src/diff.rs` and `cmp::main` (MIT OR Apache-2.0). Exit status as GNU's:
//! 0 no difference, 1 differences, 2 trouble.
//!
//! Two corrections make the output GNU's (see `gnu_normal_ranges` and
//! `gnu_ed_order`). What diffutils 0.6 does not have, GNU diff users may
//! miss: `-r` (two directories are an error), `-i`, `-w`, `-b`, `-B`; and
//! its `cmp -n N` reports EOF at the limit (status 1) where GNU's says
//! nothing (status 0).

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};

use diffutilslib::params::{Format, parse_params};
use diffutilslib::utils::report_failure_to_read_input_file;
use diffutilslib::{context_diff, ed_diff, normal_diff, side_by_side_diff, unified_diff};

const DIFF_HELP: &str = "Usage: diff [OPTION]... FILE1 FILE2
Compare FILE1 and FILE2 line by line (- is standard input).
  --normal, -u/-U NUM/--unified[=NUM], -c/-C NUM/--context[=NUM], -e/--ed,
  -y/--side-by-side (-W/--width=NUM), -q/--brief, -s/--report-identical-files,
  -t/--expand-tabs (--tabsize=NUM)
Exit status is 0 if inputs are the same, 1 if different, 2 if trouble.
(uutils diffutils 0.6.0)";

const CMP_HELP: &str = "Usage: cmp [OPTION]... FILE1 [FILE2 [SKIP1 [SKIP2]]]
Compare two files byte by byte.
  -b/--print-bytes, -i/--ignore-initial=SKIP1[:SKIP2], -l/--verbose,
  -n/--bytes=LIMIT, -s/--quiet/--silent
Exit status is 0 if inputs are the same, 1 if different, 2 if trouble.
(uutils diffutils 0.6.0)";

/// Is `line` a normal-format command (`2c2`, `5a6,7`, `3,4d2`)?
fn normal_command(line: &[u8]) -> Option<(&[u8], u8, &[u8])> {
    let at = line.iter().position(|b| matches!(b, b'a' | b'c' | b'd'))?;
    let (l, r) = (&line[..at], &line[at + 1..]);
    let range = |x: &[u8]| !x.is_empty() && x.iter().all(|b| b.is_ascii_digit() || *b == b',');
    (range(l) && range(r)).then_some((l, line[at], r))
}

/// diffutils 0.6 writes a one-line range as `6,6` (`5a6,6`); GNU diff and
/// POSIX write `6`. Content lines start with `< `, `> ` or are `---`, so
/// only command lines are rewritten.
fn gnu_normal_ranges(out: Vec<u8>) -> Vec<u8> {
    fn one(r: &[u8]) -> Vec<u8> {
        match r.iter().position(|&b| b == b',') {
            Some(i) if r[..i] == r[i + 1..] => r[..i].to_vec(),
            _ => r.to_vec(),
        }
    }
    let mut fixed = Vec::with_capacity(out.len());
    for line in out.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        match normal_command(body) {
            Some((l, cmd, r)) if !body.starts_with(b"<") && !body.starts_with(b">") => {
                fixed.extend(one(l));
                fixed.push(cmd);
                fixed.extend(one(r));
                fixed.extend(&line[body.len()..]);
            }
            _ => fixed.extend_from_slice(line),
        }
    }
    fixed
}

/// An ed script must change the last lines first, so that the line numbers
/// of the commands before stay valid: GNU diff -e writes the hunks from the
/// end; diffutils 0.6 writes them from the start. Reverse them.
fn gnu_ed_order(out: Vec<u8>) -> Vec<u8> {
    let mut hunks: Vec<Vec<u8>> = Vec::new();
    let mut in_text = false;
    for line in out.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        if in_text {
            hunks.last_mut().unwrap().extend_from_slice(line);
            if body == b"." {
                in_text = false;
            }
            continue;
        }
        hunks.push(line.to_vec());
        in_text = matches!(body.last(), Some(b'a') | Some(b'c'));
    }
    hunks.reverse();
    hunks.concat()
}

/// `--version` and `--help` as the only argument (diffutils has neither).
fn info(args: &[OsString], help: &str) -> Option<i32> {
    match args.get(1).and_then(|a| a.to_str()) {
        Some("--version") if args.len() == 2 => {
            println!("{} (uutils diffutils) 0.6.0", args[0].to_string_lossy());
            Some(0)
        }
        Some("--help") if args.len() == 2 => {
            println!("{help}");
            Some(0)
        }
        _ => None,
    }
}

pub fn diff_main(args: Vec<OsString>) -> i32 {
    if let Some(code) = info(&args, DIFF_HELP) {
        return code;
    }
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
        Format::Normal => gnu_normal_ranges(normal_diff(&from, &to, &params)),
        Format::Unified => unified_diff(&from, &to, &params),
        Format::Context => context_diff(&from, &to, &params),
        Format::Ed => match ed_diff(&from, &to, &params) {
            Ok(r) => gnu_ed_order(r),
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
    let all: Vec<OsString> = std::env::args_os().skip(usize::from(second_arg)).collect();
    if let Some(code) = info(&all, CMP_HELP) {
        return code;
    }
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
