//! `find` from uutils findutils.
//!
//! A WASI program cannot start processes, so the actions that run commands
//! (`-exec`, `-execdir`, `-ok`, `-okdir`) are refused before anything is
//! searched, with a message saying so and status 1, rather than failing
//! once per file (or, worse, doing nothing).

use std::ffi::OsString;

const RUNS_COMMANDS: &[&str] = &["-exec", "-execdir", "-ok", "-okdir"];

pub fn main(args: Vec<OsString>) -> i32 {
    let mut strs = Vec::with_capacity(args.len());
    for a in args {
        match a.into_string() {
            Ok(s) => strs.push(s),
            Err(bad) => {
                eprintln!(
                    "find: invalid (non-UTF-8) argument: {}",
                    bad.to_string_lossy()
                );
                return 1;
            }
        }
    }
    if let Some(action) = strs
        .iter()
        .skip(1)
        .find(|a| RUNS_COMMANDS.contains(&a.as_str()))
    {
        eprintln!(
            "find: {action} cannot run commands here: a WASI program cannot start processes in pg_shell \
             (print the names with -print or -print0, or use -delete, -printf, -fprint)"
        );
        return 1;
    }
    uucore::panic::mute_sigpipe_panic();
    let refs: Vec<&str> = strs.iter().map(String::as_str).collect();
    let deps = findutils::find::StandardDependencies::new();
    findutils::find::find_main(&refs, &deps)
}
