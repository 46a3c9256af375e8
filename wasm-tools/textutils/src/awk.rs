//! `awk`: the one true awk (Kernighan's, the reference implementation of
//! POSIX awk; `onetrue-awk/`, C), compiled by build.rs with its `main`
//! renamed `onetrue_awk_main`. What it cannot do in WASI (pipes, system())
//! and how `exit` works without setjmp are in `onetrue-awk/PG_SHELL.md`.

use std::ffi::{CString, OsString, c_char, c_int};

unsafe extern "C" {
    fn onetrue_awk_main(argc: c_int, argv: *mut *mut c_char) -> c_int;
}

pub fn main(args: Vec<OsString>) -> i32 {
    let mut owned = Vec::with_capacity(args.len());
    for a in args {
        match CString::new(a.into_encoded_bytes()) {
            Ok(c) => owned.push(c),
            Err(_) => {
                eprintln!("awk: an argument contains a NUL byte");
                return 2;
            }
        }
    }
    // awk keeps pointers into argv (ARGV, file names) for its whole run, and
    // the process ends with it: the strings are never freed.
    let mut argv: Vec<*mut c_char> = owned.into_iter().map(CString::into_raw).collect();
    let argc = argv.len() as c_int;
    argv.push(std::ptr::null_mut());
    let argv = argv.leak();
    // SAFETY: argv is a NULL-terminated array of argc NUL-terminated strings
    // that lives until the process exits; awk runs single-threaded and is the
    // only code running from here on.
    let code = unsafe { onetrue_awk_main(argc, argv.as_mut_ptr()) };
    // awk wrote through C's stdio: flush it before Rust's exit.
    unsafe extern "C" {
        fn fflush(stream: *mut std::ffi::c_void) -> c_int;
    }
    // SAFETY: fflush(NULL) flushes every open output stream.
    unsafe { fflush(std::ptr::null_mut()) };
    code
}
