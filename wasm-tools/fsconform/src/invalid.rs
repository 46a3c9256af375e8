//! `fsconform invalid NAME`: one preview1 call with an argument the ABI
//! cannot represent (an unknown flag bit, an out-of-range enum value), in a
//! process of its own because an implementation may trap instead of
//! returning EINVAL (wasmtime-wasi traps when it cannot convert an enum
//! argument). Prints `NAME: <result>` when the call returns; prints nothing
//! when the guest is killed. `fsconform invalid` lists the names.

use crate::wasi::*;

/// One invalid call, given the descriptor of file `f` (opened read-write on
/// a fresh root).
type Call = fn(Fd) -> R<()>;

/// Every case: a name, and the call.
pub const CASES: &[(&str, Call)] = &[
    ("fd_advise advice 6", |fd| fd_advise(fd, 0, 0, 6)),
    ("fd_fdstat_set_flags bit 0x20", |fd| {
        fd_fdstat_set_flags(fd, 0x20)
    }),
    ("fd_fdstat_set_rights bit 40", |fd| {
        fd_fdstat_set_rights(fd, 1 << 40, 0)
    }),
    ("fd_filestat_set_times fstflags 0x10", |fd| {
        fd_filestat_set_times(fd, 0, 0, 0x10)
    }),
    ("fd_seek whence 3", |fd| fd_seek(fd, 0, 3).map(drop)),
    ("path_filestat_get lookupflags 2", |_| {
        path_filestat_get(3, 2, "f").map(drop)
    }),
    ("path_filestat_set_times fstflags 0x10", |_| {
        path_filestat_set_times(3, 0, "f", 0, 0, 0x10)
    }),
    ("path_filestat_set_times lookupflags 2", |_| {
        path_filestat_set_times(3, 2, "f", 0, 0, FST_ATIM)
    }),
    ("path_link lookupflags 2", |_| path_link(3, 2, "f", 3, "g")),
    ("path_open fdflags 0x20", |_| {
        path_open(3, 0, "f", 0, RIGHTS_FD_READ, 0, 0x20).map(drop)
    }),
    ("path_open inheriting rights bit 40", |_| {
        path_open(3, 0, "f", 0, RIGHTS_FD_READ, 1 << 40, 0).map(drop)
    }),
    ("path_open lookupflags 2", |_| {
        path_open(3, 2, "f", 0, RIGHTS_FD_READ, 0, 0).map(drop)
    }),
    ("path_open oflags 0x10", |_| {
        path_open(3, 0, "f", 0x10, RIGHTS_FD_READ, 0, 0).map(drop)
    }),
    ("path_open rights bit 40", |_| {
        path_open(3, 0, "f", 0, RIGHTS_FD_READ | 1 << 40, 0, 0).map(drop)
    }),
];

pub fn run(name: Option<&str>) -> i32 {
    let Some(name) = name else {
        for (name, _) in CASES {
            println!("{name}");
        }
        return 0;
    };
    let Some((_, call)) = CASES.iter().find(|(n, _)| *n == name) else {
        eprintln!("fsconform invalid: no case {name:?}");
        return 2;
    };
    let rw = RIGHTS_FD_READ | RIGHTS_FD_WRITE | RIGHTS_FD_SEEK | RIGHTS_FD_FILESTAT_SET_TIMES;
    let fd = match path_open(3, 0, "f", OFLAGS_CREAT, rw, rw, 0) {
        Ok(fd) => fd,
        Err(e) => {
            println!("setup failed: create f: {}", e.name());
            return 1;
        }
    };
    let result = match call(fd) {
        Ok(()) => "ok".to_string(),
        Err(e) => e.name(),
    };
    println!("{name}: {result}");
    0
}
