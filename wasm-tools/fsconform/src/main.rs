//! fsconform: a differential conformance test of the WASI preview1
//! filesystem.
//!
//! Run with an empty directory preopened as `/` (fd 3) and no arguments. It
//! calls every preview1 filesystem function with its documented success and
//! error cases and prints one line per case, `NNN name: result`, where the
//! first word of `name` is the preview1 function under test and `result` is
//! `ok` (plus the values a correct implementation must agree on) or the
//! errno's name (`ENOENT`). It ends with `cases: N` and exits 0. Two
//! implementations conform to each other when their transcripts are
//! identical byte for byte; pg_shell compares its own filesystem with
//! wasmtime-wasi 48 on a host directory (tests/it/conformance.rs).
//!
//! What is never printed, because correct implementations differ on it:
//! absolute timestamps the fixture did not set itself (times set with the
//! `*_NOW` flags, or by writes, are only compared with the explicit ones),
//! inode and device numbers (only whether two are equal), the size and link
//! count of directories, descriptor numbers, readdir order (names are
//! sorted; the cookie walk is checked to give every entry exactly once) and
//! readdir cookie values, and how many bytes a vectored read or write moves
//! per call (the fixture loops until done, as libc does).
//!
//! Some answers are what wasmtime-wasi gives on Linux rather than what the
//! preview1 spec fixes; the cases say so in a comment (`Linux:`), and the
//! ones that are wasmtime-wasi's own choices say `wasmtime:`. A replacement
//! implementation should give the same answers so guests behave the same.
//!
//! Everything is created under `/w`; the first case creates it.
//!
//! `fsconform invalid NAME` runs one call with an argument the ABI cannot
//! represent (see src/invalid.rs); those are separate runs because an
//! implementation may trap on them.

mod invalid;
mod wasi;

use wasi::*;

/// The preopened root, `/`.
const ROOT: Fd = 3;
/// A descriptor number nothing ever opens.
const NEVER_OPENED: Fd = 1000;

/// Rights requested for files: everything a file can do.
const RW: u64 = RIGHTS_FD_READ
    | RIGHTS_FD_WRITE
    | RIGHTS_FD_SEEK
    | RIGHTS_FD_TELL
    | RIGHTS_FD_FILESTAT_GET
    | RIGHTS_FD_FILESTAT_SET_SIZE
    | RIGHTS_FD_FILESTAT_SET_TIMES
    | RIGHTS_FD_ADVISE
    | RIGHTS_FD_ALLOCATE
    | RIGHTS_FD_SYNC
    | RIGHTS_FD_DATASYNC
    | RIGHTS_FD_FDSTAT_SET_FLAGS;
const RO: u64 = RW & !RIGHTS_FD_WRITE;
/// Rights requested for directories (no FD_WRITE: a directory cannot be
/// opened for writing).
const DIR_BASE: u64 = RIGHTS_ALL & !RIGHTS_FD_WRITE;

/// Timestamps the fixture sets explicitly (nanoseconds since the epoch). They
/// are early in 1970 so any implementation's "now" is later.
const T1: u64 = 1_000_000_001;
const T2: u64 = 2_000_000_002;
const T3: u64 = 3_000_000_003;
const T4: u64 = 4_000_000_004;

struct Transcript {
    n: u32,
}

impl Transcript {
    fn case(&mut self, name: &str, result: impl AsRef<str>) {
        self.n += 1;
        println!("{:03} {}: {}", self.n, name, result.as_ref());
    }
}

// ---------------------------------------------------------------------------
// Formatting helpers

/// `ok` or the errno's name.
fn st<V>(r: &R<V>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.name(),
    }
}

/// `ok <values>` or the errno's name.
fn okv<V>(r: R<V>, f: impl FnOnce(V) -> String) -> String {
    match r {
        Ok(v) => {
            let s = f(v);
            if s.is_empty() {
                "ok".into()
            } else {
                format!("ok {s}")
            }
        }
        Err(e) => e.name(),
    }
}

/// A byte string in double quotes, non-printable bytes as `\xNN`.
fn bstr(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

fn bools(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn ft(t: u8) -> String {
    filetype_name(t)
}

/// Type, and for files and symlinks their size and link count.
fn describe_stat(s: &Filestat) -> String {
    match s.filetype {
        FILETYPE_DIRECTORY => "type=directory".into(),
        FILETYPE_REGULAR_FILE | FILETYPE_SYMBOLIC_LINK => {
            format!("type={} size={} nlink={}", ft(s.filetype), s.size, s.nlink)
        }
        t => format!("type={}", ft(t)),
    }
}

fn describe_fdstat(s: &Fdstat) -> String {
    format!(
        "type={} flags={} base={:#x} inheriting={:#x}",
        ft(s.filetype),
        fdflags_name(s.flags),
        s.rights_base,
        s.rights_inheriting
    )
}

/// What an open descriptor is: its type, and a file's size.
fn describe_fd(fd: Fd) -> String {
    match fd_filestat_get(fd) {
        Ok(s) if s.filetype == FILETYPE_REGULAR_FILE => format!("type=regular size={}", s.size),
        Ok(s) => format!("type={}", ft(s.filetype)),
        Err(e) => format!("filestat={}", e.name()),
    }
}

/// For path_open cases: `ok type=...` (closing the new descriptor) or the
/// errno.
fn opened(r: R<Fd>) -> String {
    match r {
        Ok(fd) => {
            let s = describe_fd(fd);
            let _ = fd_close(fd);
            format!("ok {s}")
        }
        Err(e) => e.name(),
    }
}

/// `ok <describe_stat>` or the errno.
fn stat_str(r: R<Filestat>) -> String {
    okv(r, |s| describe_stat(&s))
}

// ---------------------------------------------------------------------------
// Setup helpers: these must succeed; a failure ends the run with exit 1.

fn must<V>(r: R<V>, what: &str) -> V {
    match r {
        Ok(v) => v,
        Err(e) => {
            println!("setup failed: {what}: {}", e.name());
            std::process::exit(1);
        }
    }
}

fn opendir(dir: Fd, path: &str) -> R<Fd> {
    path_open(dir, 0, path, OFLAGS_DIRECTORY, DIR_BASE, RIGHTS_ALL, 0)
}

fn open_rw(dir: Fd, path: &str) -> R<Fd> {
    path_open(dir, 0, path, 0, RW, RW, 0)
}

fn write_all(fd: Fd, mut data: &[u8]) -> R<()> {
    while !data.is_empty() {
        let n = fd_write(fd, data)?;
        if n == 0 {
            return Err(Errno(29)); // EIO: no progress
        }
        data = &data[n..];
    }
    Ok(())
}

fn read_to_end(fd: Fd) -> R<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = fd_read(fd, &mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Creates (or truncates) `path` with `content`.
fn mkfile(dir: Fd, path: &str, content: &[u8]) {
    let fd = must(
        path_open(dir, 0, path, OFLAGS_CREAT | OFLAGS_TRUNC, RW, RW, 0),
        &format!("create {path}"),
    );
    must(write_all(fd, content), &format!("write {path}"));
    must(fd_close(fd), &format!("close {path}"));
}

fn mkdir(dir: Fd, path: &str) {
    must(path_create_directory(dir, path), &format!("mkdir {path}"));
}

/// A file's content (following symlinks), or the errno.
fn contents(dir: Fd, path: &str) -> R<Vec<u8>> {
    let fd = path_open(dir, LOOKUP_FOLLOW, path, 0, RO, RO, 0)?;
    let r = read_to_end(fd);
    let _ = fd_close(fd);
    r
}

fn cat(dir: Fd, path: &str) -> String {
    okv(contents(dir, path), |c| bstr(&c))
}

fn lstat(dir: Fd, path: &str) -> R<Filestat> {
    path_filestat_get(dir, LOOKUP_NOFOLLOW, path)
}

fn stat(dir: Fd, path: &str) -> R<Filestat> {
    path_filestat_get(dir, LOOKUP_FOLLOW, path)
}

/// Whether `path` exists (without following a final symlink): `exists` or
/// the errno.
fn exists(dir: Fd, path: &str) -> String {
    match lstat(dir, path) {
        Ok(s) => format!("exists {}", describe_stat(&s)),
        Err(e) => e.name(),
    }
}

fn readlink_str(dir: Fd, path: &str) -> String {
    let mut buf = [0u8; 256];
    okv(path_readlink(dir, path, &mut buf), |n| bstr(&buf[..n]))
}

fn pread_all(fd: Fd, len: usize, off: u64) -> R<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let n = fd_pread(fd, &mut buf, off)?;
    buf.truncate(n);
    Ok(buf)
}

/// A fresh directory `w/<name>` and a descriptor for it.
fn section_dir(name: &str) -> Fd {
    let path = format!("w/{name}");
    mkdir(ROOT, &path);
    must(opendir(ROOT, &path), &format!("open {path}"))
}

// ---------------------------------------------------------------------------

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        None => transcript(),
        Some("invalid") => std::process::exit(invalid::run(args.get(2).map(String::as_str))),
        Some(_) => {
            eprintln!("usage: fsconform [invalid [NAME]]");
            std::process::exit(2);
        }
    }
}

fn transcript() {
    let mut t = Transcript { n: 0 };

    // The first case: everything else lives under /w.
    t.case(
        "path_create_directory w under the empty preopen",
        st(&path_create_directory(ROOT, "w")),
    );

    preopens(&mut t);
    stdio(&mut t);
    open_flags(&mut t);
    open_paths(&mut t);
    open_rights(&mut t);
    read_write_seek(&mut t);
    pread_pwrite(&mut t);
    append_and_flags(&mut t);
    directory_fd_io(&mut t);
    sizes_and_hints(&mut t);
    times(&mut t);
    path_stats(&mut t);
    symlinks(&mut t);
    readdir(&mut t);
    mkdirs(&mut t);
    links(&mut t);
    renames(&mut t);
    removals(&mut t);
    closed_fds(&mut t);
    renumbering(&mut t);
    bad_strings(&mut t);
    preopen_last(&mut t);

    println!("cases: {}", t.n);
}

// ---------------------------------------------------------------------------

fn preopens(t: &mut Transcript) {
    t.case(
        "fd_prestat_get preopen fd 3",
        okv(fd_prestat_get(ROOT), |p| {
            format!("tag={} name_len={}", p.tag, p.name_len)
        }),
    );
    let mut buf = [b'#'; 1];
    let r = fd_prestat_dir_name(ROOT, &mut buf);
    t.case(
        "fd_prestat_dir_name buffer of exactly name_len",
        okv(r, |_| format!("bytes={}", bstr(&buf))),
    );
    // Only name_len bytes are written: no NUL terminator.
    let mut buf = [b'#'; 4];
    let r = fd_prestat_dir_name(ROOT, &mut buf);
    t.case(
        "fd_prestat_dir_name larger buffer",
        okv(r, |_| format!("bytes={}", bstr(&buf))),
    );
    // wasmtime: ENAMETOOLONG (the official suite accepts EINVAL too).
    t.case(
        "fd_prestat_dir_name too-short buffer",
        st(&fd_prestat_dir_name(ROOT, &mut [])),
    );
    for fd in 0..3 {
        t.case(
            &format!("fd_prestat_get stdio fd {fd}"),
            st(&fd_prestat_get(fd)),
        );
    }
    t.case(
        "fd_prestat_get never-opened fd",
        st(&fd_prestat_get(NEVER_OPENED)),
    );
    let w = must(opendir(ROOT, "w"), "open w");
    t.case(
        "fd_prestat_get non-preopen directory",
        st(&fd_prestat_get(w)),
    );
    // wasmtime: ENOTDIR for a descriptor that is open but not a preopen (its
    // "legacy" answer), EBADF only for a closed one.
    t.case(
        "fd_prestat_dir_name non-preopen directory",
        st(&fd_prestat_dir_name(w, &mut [0; 8])),
    );
    t.case(
        "fd_prestat_dir_name stdout",
        st(&fd_prestat_dir_name(1, &mut [0; 8])),
    );
    t.case(
        "fd_prestat_dir_name never-opened fd",
        st(&fd_prestat_dir_name(NEVER_OPENED, &mut [0; 8])),
    );
    // wasmtime: the preopen reports a fixed set of rights; other directories
    // report all rights minus the file-only ones. Guests (wasi-libc) look at
    // these, so a replacement should report the same.
    t.case(
        "fd_fdstat_get preopen",
        okv(fd_fdstat_get(ROOT), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_fdstat_get opened directory",
        okv(fd_fdstat_get(w), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_filestat_get preopen",
        okv(fd_filestat_get(ROOT), |s| describe_stat(&s)),
    );
    let same = match (fd_filestat_get(w), path_filestat_get(ROOT, 0, "w")) {
        (Ok(a), Ok(b)) => format!(
            "ino_equal={} dev_equal={}",
            bools(a.ino == b.ino),
            bools(a.dev == b.dev)
        ),
        (a, b) => format!("{} {}", st(&a), st(&b)),
    };
    t.case(
        "fd_filestat_get directory matches path_filestat_get",
        format!("ok {same}"),
    );
    let _ = fd_close(w);
}

fn stdio(t: &mut Transcript) {
    // wasmtime: stdio is filetype unknown when not a terminal, rights FD_READ
    // (stdin) or FD_WRITE (stdout/stderr), and fd_filestat_get gives all
    // zeros (only type, size and nlink are printed here).
    for (fd, name) in [(0, "stdin"), (1, "stdout"), (2, "stderr")] {
        t.case(
            &format!("fd_fdstat_get {name}"),
            okv(fd_fdstat_get(fd), |s| describe_fdstat(&s)),
        );
    }
    for (fd, name) in [(0, "stdin"), (1, "stdout")] {
        t.case(
            &format!("fd_filestat_get {name}"),
            okv(fd_filestat_get(fd), |s| {
                format!("type={} size={} nlink={}", ft(s.filetype), s.size, s.nlink)
            }),
        );
    }
    // Not seekable: ESPIPE.
    t.case("fd_seek stdout", st(&fd_seek(1, 0, WHENCE_CUR)));
    t.case("fd_tell stdout", st(&fd_tell(1)));
    t.case("fd_pwrite stdout", st(&fd_pwrite(1, b"never printed\n", 0)));
    t.case("fd_pread stdin", st(&pread_all(0, 4, 0)));
    t.case("fd_read stdout", st(&fd_read(1, &mut [0; 4])));
    t.case("fd_write stdin", st(&fd_write(0, b"x")));
    // wasmtime: the file-only calls give EBADF on stdio.
    t.case("fd_sync stdout", st(&fd_sync(1)));
    t.case("fd_datasync stdout", st(&fd_datasync(1)));
    t.case("fd_advise stdout", st(&fd_advise(1, 0, 0, ADVICE_NORMAL)));
    t.case("fd_allocate stdout", st(&fd_allocate(1, 0, 1)));
    t.case(
        "fd_filestat_set_size stdout",
        st(&fd_filestat_set_size(1, 0)),
    );
    t.case(
        "fd_filestat_set_times stdout",
        st(&fd_filestat_set_times(1, T1, T1, FST_ATIM | FST_MTIM)),
    );
    t.case("fd_fdstat_set_flags stdout", st(&fd_fdstat_set_flags(1, 0)));
    t.case(
        "fd_fdstat_set_rights stdout",
        st(&fd_fdstat_set_rights(1, RIGHTS_FD_WRITE, 0)),
    );
    t.case("fd_readdir stdout", st(&fd_readdir(1, &mut [0; 64], 0)));
    t.case(
        "path_open relative to stdout",
        st(&path_open(1, 0, "x", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_create_directory relative to stdout",
        st(&path_create_directory(1, "x")),
    );
}

fn open_flags(t: &mut Transcript) {
    let d = section_dir("open");
    mkfile(d, "f", b"hello");
    mkdir(d, "sub");

    t.case(
        "path_open missing file",
        opened(path_open(d, 0, "missing", 0, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT new file",
        opened(path_open(d, 0, "new", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT existing keeps content",
        opened(path_open(d, 0, "f", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT|EXCL existing file",
        opened(path_open(d, 0, "f", OFLAGS_CREAT | OFLAGS_EXCL, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT|EXCL new file",
        opened(path_open(
            d,
            0,
            "excl",
            OFLAGS_CREAT | OFLAGS_EXCL,
            RW,
            RW,
            0,
        )),
    );
    // wasmtime: EXCL without CREAT is ignored.
    t.case(
        "path_open EXCL without CREAT existing",
        opened(path_open(d, 0, "f", OFLAGS_EXCL, RW, RW, 0)),
    );
    mkfile(d, "t1", b"to be truncated");
    t.case(
        "path_open TRUNC existing",
        opened(path_open(d, 0, "t1", OFLAGS_TRUNC, RW, RW, 0)),
    );
    mkfile(d, "t2", b"to be truncated");
    t.case(
        "path_open CREAT|TRUNC existing",
        opened(path_open(
            d,
            0,
            "t2",
            OFLAGS_CREAT | OFLAGS_TRUNC,
            RW,
            RW,
            0,
        )),
    );
    t.case(
        "path_open CREAT|TRUNC new",
        opened(path_open(
            d,
            0,
            "t3",
            OFLAGS_CREAT | OFLAGS_TRUNC,
            RW,
            RW,
            0,
        )),
    );
    t.case(
        "path_open TRUNC missing",
        opened(path_open(d, 0, "t4", OFLAGS_TRUNC, RW, RW, 0)),
    );
    t.case(
        "path_open DIRECTORY on directory",
        opened(path_open(
            d,
            0,
            "sub",
            OFLAGS_DIRECTORY,
            DIR_BASE,
            RIGHTS_ALL,
            0,
        )),
    );
    t.case(
        "path_open DIRECTORY on file",
        opened(path_open(d, 0, "f", OFLAGS_DIRECTORY, RO, RO, 0)),
    );
    t.case(
        "path_open DIRECTORY on missing",
        opened(path_open(d, 0, "nodir", OFLAGS_DIRECTORY, RO, RO, 0)),
    );
    // wasmtime rejects DIRECTORY combined with CREAT, EXCL or TRUNC up front.
    t.case(
        "path_open DIRECTORY|CREAT new",
        opened(path_open(
            d,
            0,
            "dc",
            OFLAGS_DIRECTORY | OFLAGS_CREAT,
            DIR_BASE,
            RIGHTS_ALL,
            0,
        )),
    );
    t.case("path_open DIRECTORY|CREAT created nothing", exists(d, "dc"));
    t.case(
        "path_open DIRECTORY|EXCL on directory",
        opened(path_open(
            d,
            0,
            "sub",
            OFLAGS_DIRECTORY | OFLAGS_EXCL,
            DIR_BASE,
            RIGHTS_ALL,
            0,
        )),
    );
    t.case(
        "path_open DIRECTORY|TRUNC on directory",
        opened(path_open(
            d,
            0,
            "sub",
            OFLAGS_DIRECTORY | OFLAGS_TRUNC,
            DIR_BASE,
            RIGHTS_ALL,
            0,
        )),
    );
    t.case(
        "path_open directory without DIRECTORY flag",
        opened(path_open(d, 0, "sub", 0, RO, RO, 0)),
    );
    t.case(
        "path_open directory with FD_READ",
        opened(path_open(
            d,
            0,
            "sub",
            OFLAGS_DIRECTORY,
            RIGHTS_FD_READ,
            0,
            0,
        )),
    );
    t.case(
        "path_open directory with FD_WRITE",
        opened(path_open(
            d,
            0,
            "sub",
            OFLAGS_DIRECTORY,
            RIGHTS_FD_READ | RIGHTS_FD_WRITE,
            0,
            0,
        )),
    );
    t.case(
        "path_open directory for writing without DIRECTORY",
        opened(path_open(d, 0, "sub", 0, RW, RW, 0)),
    );
    t.case(
        "path_open TRUNC on directory",
        opened(path_open(d, 0, "sub", OFLAGS_TRUNC, RO, RO, 0)),
    );
    t.case(
        "path_open CREAT on existing directory",
        opened(path_open(d, 0, "sub", OFLAGS_CREAT, RO, RO, 0)),
    );
    t.case(
        "path_open CREAT|EXCL on existing directory",
        opened(path_open(
            d,
            0,
            "sub",
            OFLAGS_CREAT | OFLAGS_EXCL,
            RO,
            RO,
            0,
        )),
    );
    t.case(
        "path_open rights 0 on directory",
        opened(path_open(d, 0, "sub", 0, 0, 0, 0)),
    );
    t.case(
        "path_open NONBLOCK on directory",
        opened(path_open(d, 0, ".", 0, 0, 0, FDFLAGS_NONBLOCK)),
    );
    // wasmtime: the SYNC family is not supported on open.
    for (flag, name) in [
        (FDFLAGS_SYNC, "SYNC"),
        (FDFLAGS_DSYNC, "DSYNC"),
        (FDFLAGS_RSYNC, "RSYNC"),
    ] {
        t.case(
            &format!("path_open fdflags {name}"),
            opened(path_open(d, 0, "f", 0, RW, RW, flag)),
        );
    }
    let r = path_open(d, 0, "f", 0, RW, RW, FDFLAGS_APPEND | FDFLAGS_NONBLOCK);
    t.case(
        "path_open fdflags APPEND|NONBLOCK shows in fdstat",
        match r {
            Ok(fd) => {
                let s = okv(fd_fdstat_get(fd), |s| {
                    format!("flags={}", fdflags_name(s.flags))
                });
                let _ = fd_close(fd);
                s
            }
            Err(e) => e.name(),
        },
    );
    let _ = fd_close(d);
}

fn open_paths(t: &mut Transcript) {
    let d = section_dir("paths");
    mkfile(d, "f", b"paths");
    mkdir(d, "sub");
    mkfile(d, "sub/g", b"gee");

    t.case(
        "path_open nested path",
        opened(path_open(d, 0, "sub/g", 0, RO, RO, 0)),
    );
    t.case(
        "path_open with . and .. inside",
        opened(path_open(d, 0, "sub/./../sub//g", 0, RO, RO, 0)),
    );
    t.case(
        "path_open with many . .. and slashes",
        opened(path_open(d, 0, "sub/.//../sub/../sub///./g", 0, RO, RO, 0)),
    );
    t.case(
        "path_open . is the directory",
        opened(path_open(d, 0, ".", 0, RO, RO, 0)),
    );
    t.case(
        "path_open ./f",
        opened(path_open(d, 0, "./f", 0, RO, RO, 0)),
    );
    t.case(
        "path_open empty path",
        opened(path_open(d, 0, "", 0, RO, RO, 0)),
    );
    t.case(
        "path_open file with trailing slash",
        opened(path_open(d, 0, "f/", 0, RO, RO, 0)),
    );
    t.case(
        "path_open file with trailing slashes",
        opened(path_open(d, 0, "f///", 0, RO, RO, 0)),
    );
    t.case(
        "path_open directory with trailing slash",
        opened(path_open(d, 0, "sub/", 0, RO, RO, 0)),
    );
    t.case(
        "path_open directory with trailing slashes",
        opened(path_open(d, 0, "sub///", 0, RO, RO, 0)),
    );
    // Linux: open("new/", O_CREAT) is EISDIR.
    t.case(
        "path_open CREAT with trailing slash",
        opened(path_open(d, 0, "newdir/", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT with trailing slash created nothing",
        exists(d, "newdir"),
    );
    t.case(
        "path_open file as a path component",
        opened(path_open(d, 0, "f/x", 0, RO, RO, 0)),
    );
    t.case(
        "path_open CREAT under a file",
        opened(path_open(d, 0, "f/x", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT in missing directory",
        opened(path_open(d, 0, "nodir/x", OFLAGS_CREAT, RW, RW, 0)),
    );
    // Escapes: wasmtime answers EPERM (not ENOTCAPABLE) for every path that
    // leaves the directory it is resolved against.
    t.case(
        "path_open absolute path",
        opened(path_open(d, 0, "/w/paths/f", 0, RO, RO, 0)),
    );
    t.case(
        "path_open absolute path from the preopen",
        opened(path_open(ROOT, 0, "/w/paths/f", 0, RO, RO, 0)),
    );
    t.case(
        "path_open .. of the preopen",
        opened(path_open(ROOT, 0, "..", 0, RO, RO, 0)),
    );
    t.case(
        "path_open w/../.. from the preopen",
        opened(path_open(ROOT, 0, "w/../..", 0, RO, RO, 0)),
    );
    t.case(
        "path_open .. back inside from the preopen",
        opened(path_open(ROOT, 0, "w/paths/../paths/f", 0, RO, RO, 0)),
    );
    // A directory descriptor is a root of its own: `..` from it escapes even
    // though the result would still be inside the preopen.
    t.case(
        "path_open .. of an opened directory",
        opened(path_open(d, 0, "..", 0, RO, RO, 0)),
    );
    t.case(
        "path_open ../paths/f from an opened directory",
        opened(path_open(d, 0, "../paths/f", 0, RO, RO, 0)),
    );
    t.case(
        "path_open sub/../../paths/f escapes",
        opened(path_open(d, 0, "sub/../../paths/f", 0, RO, RO, 0)),
    );
    t.case(
        "path_open CREAT escaping creates nothing",
        opened(path_open(d, 0, "../escaped", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open escaped file was not created",
        exists(ROOT, "w/escaped"),
    );
    // Path strings: a NUL byte, invalid UTF-8, over-long names.
    // wasmtime: EINVAL for a NUL byte, EILSEQ for invalid UTF-8. Names are
    // limited to 255 bytes (Linux NAME_MAX): ENAMETOOLONG beyond.
    t.case(
        "path_open path with a NUL byte",
        opened(path_open(d, 0, b"f\0", 0, RO, RO, 0)),
    );
    t.case(
        "path_open path with invalid UTF-8",
        opened(path_open(d, 0, b"f\xff", OFLAGS_CREAT, RW, RW, 0)),
    );
    let long255 = "n".repeat(255);
    let long256 = "n".repeat(256);
    t.case(
        "path_open CREAT 255-byte name",
        opened(path_open(d, 0, &long255, OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT 256-byte name",
        opened(path_open(d, 0, &long256, OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_unlink_file 255-byte name",
        st(&path_unlink_file(d, &long255)),
    );
    // The base descriptor.
    let f = must(open_rw(d, "f"), "open f");
    // wasmtime: ENOTDIR from path_open, but EBADF from the other path_* calls
    // (see path_filestat_get and path_create_directory below).
    t.case(
        "path_open relative to a file descriptor",
        opened(path_open(f, 0, "x", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_filestat_get relative to a file descriptor",
        st(&path_filestat_get(f, 0, "x")),
    );
    t.case(
        "path_create_directory relative to a file descriptor",
        st(&path_create_directory(f, "x")),
    );
    t.case(
        "path_unlink_file relative to a file descriptor",
        st(&path_unlink_file(f, "x")),
    );
    let _ = fd_close(f);
    t.case(
        "path_open relative to a closed descriptor",
        opened(path_open(f, 0, "f", 0, RO, RO, 0)),
    );
    t.case(
        "path_open relative to never-opened fd",
        opened(path_open(NEVER_OPENED, 0, "f", 0, RO, RO, 0)),
    );
    let _ = fd_close(d);
}

fn open_rights(t: &mut Transcript) {
    let d = section_dir("rights");
    mkfile(d, "f", b"");

    // wasmtime: a file's fdstat rights are all rights minus FD_WRITE when not
    // writable, minus FD_READ and FD_READDIR when not readable; the requested
    // rights are otherwise ignored.
    let ro = must(
        path_open(d, 0, "f", 0, RIGHTS_FD_READ, 0, 0),
        "open f read-only",
    );
    t.case(
        "fd_fdstat_get read-only file",
        okv(fd_fdstat_get(ro), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_read read-only empty file",
        okv(fd_read(ro, &mut [0; 16]), |n| format!("n={n}")),
    );
    t.case("fd_write read-only file", st(&fd_write(ro, b"nope")));
    t.case("fd_pwrite read-only file", st(&fd_pwrite(ro, b"nope", 0)));
    // Linux: ftruncate on a descriptor not open for writing is EINVAL.
    t.case(
        "fd_filestat_set_size read-only file",
        st(&fd_filestat_set_size(ro, 10)),
    );
    t.case(
        "fd_filestat_get read-only file unchanged",
        okv(fd_filestat_get(ro), |s| describe_stat(&s)),
    );
    let _ = fd_close(ro);

    let wo = must(
        path_open(d, 0, "f", 0, RIGHTS_FD_WRITE, 0, 0),
        "open f write-only",
    );
    t.case(
        "fd_fdstat_get write-only file",
        okv(fd_fdstat_get(wo), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_write write-only file",
        okv(fd_write(wo, b"written"), |n| format!("n={n}")),
    );
    t.case("fd_read write-only file", st(&fd_read(wo, &mut [0; 16])));
    t.case("fd_pread write-only file", st(&pread_all(wo, 16, 0)));
    let _ = fd_close(wo);

    let rw = must(
        path_open(d, 0, "f", 0, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0, 0),
        "open f rw",
    );
    t.case(
        "fd_fdstat_get read-write file",
        okv(fd_fdstat_get(rw), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_read read-write file sees the earlier write",
        okv(read_to_end(rw), |c| bstr(&c)),
    );
    let _ = fd_close(rw);

    // Rights 0 open the file for reading only.
    let none = must(path_open(d, 0, "f", 0, 0, 0, 0), "open f with no rights");
    t.case(
        "fd_fdstat_get file opened with rights 0",
        okv(fd_fdstat_get(none), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_read file opened with rights 0",
        okv(read_to_end(none), |c| bstr(&c)),
    );
    t.case(
        "fd_write file opened with rights 0",
        st(&fd_write(none, b"x")),
    );
    let _ = fd_close(none);

    // wasmtime: CREAT and TRUNC open the file for writing whatever the rights say.
    let c = must(
        path_open(d, 0, "g", OFLAGS_CREAT, RIGHTS_FD_READ, 0, 0),
        "create g read-only",
    );
    t.case(
        "fd_fdstat_get CREAT with FD_READ only",
        okv(fd_fdstat_get(c), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_write CREAT with FD_READ only",
        okv(fd_write(c, b"g"), |n| format!("n={n}")),
    );
    let _ = fd_close(c);

    // wasmtime: fd_fdstat_set_rights is not supported at all.
    let f = must(open_rw(d, "f"), "open f");
    t.case(
        "fd_fdstat_set_rights drop rights",
        st(&fd_fdstat_set_rights(f, RIGHTS_FD_READ, 0)),
    );
    t.case(
        "fd_fdstat_set_rights on the preopen",
        st(&fd_fdstat_set_rights(ROOT, 0, 0)),
    );
    let _ = fd_close(f);
    t.case(
        "fd_fdstat_set_rights closed fd",
        st(&fd_fdstat_set_rights(f, 0, 0)),
    );
    let _ = fd_close(d);
}

fn read_write_seek(t: &mut Transcript) {
    let d = section_dir("io");
    let f = must(path_open(d, 0, "f", OFLAGS_CREAT, RW, RW, 0), "create f");
    t.case("fd_tell new file", okv(fd_tell(f), |p| format!("pos={p}")));
    t.case(
        "fd_write hello",
        okv(fd_write(f, b"hello"), |n| format!("n={n}")),
    );
    t.case(
        "fd_tell after write",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case(
        "fd_write zero bytes",
        okv(fd_write(f, b""), |n| format!("n={n}")),
    );
    t.case(
        "fd_write no iovecs",
        okv(fd_writev(f, &[]), |n| format!("n={n}")),
    );
    t.case(
        "fd_tell after empty writes",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case(
        "fd_read at end of file",
        okv(fd_read(f, &mut [0; 8]), |n| format!("n={n}")),
    );
    t.case(
        "fd_seek SET 0",
        okv(fd_seek(f, 0, WHENCE_SET), |p| format!("pos={p}")),
    );
    t.case("fd_read whole file", okv(read_to_end(f), |c| bstr(&c)));
    t.case(
        "fd_tell after read",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case(
        "fd_seek CUR -2",
        okv(fd_seek(f, -2, WHENCE_CUR), |p| format!("pos={p}")),
    );
    let mut buf = [0u8; 10];
    let r = fd_read(f, &mut buf);
    t.case("fd_read after CUR -2", okv(r, |n| bstr(&buf[..n])));
    t.case(
        "fd_read zero-length buffer",
        okv(fd_read(f, &mut []), |n| format!("n={n}")),
    );
    t.case(
        "fd_seek CUR 0 reports position",
        okv(fd_seek(f, 0, WHENCE_CUR), |p| format!("pos={p}")),
    );
    t.case(
        "fd_seek END 0",
        okv(fd_seek(f, 0, WHENCE_END), |p| format!("pos={p}")),
    );
    t.case(
        "fd_seek END -1",
        okv(fd_seek(f, -1, WHENCE_END), |p| format!("pos={p}")),
    );
    t.case(
        "fd_seek END +10 past end of file",
        okv(fd_seek(f, 10, WHENCE_END), |p| format!("pos={p}")),
    );
    t.case(
        "fd_tell past end of file",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case(
        "fd_read past end of file",
        okv(fd_read(f, &mut [0; 8]), |n| format!("n={n}")),
    );
    t.case(
        "fd_filestat_get seeking does not grow the file",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    t.case(
        "fd_write past end of file",
        okv(fd_write(f, b"X"), |n| format!("n={n}")),
    );
    t.case(
        "fd_tell after write past end",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case("fd_read the gap reads zeros", cat(d, "f"));
    t.case(
        "fd_seek CUR before start",
        st(&fd_seek(f, -100, WHENCE_CUR)),
    );
    t.case(
        "fd_tell unchanged by failed seek",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case("fd_seek SET negative", st(&fd_seek(f, -1, WHENCE_SET)));
    t.case(
        "fd_seek END before start",
        st(&fd_seek(f, -100, WHENCE_END)),
    );
    t.case(
        "fd_seek SET 1",
        okv(fd_seek(f, 1, WHENCE_SET), |p| format!("pos={p}")),
    );
    t.case(
        "fd_write overwrites in place",
        okv(fd_write(f, b"EL"), |n| format!("n={n}")),
    );
    t.case("fd_read after overwrite", cat(d, "f"));

    // Vectored I/O: loop until everything moved (an implementation may stop
    // after any iovec).
    let _ = fd_seek(f, 0, WHENCE_SET);
    let _ = fd_filestat_set_size(f, 0);
    let parts: [&[u8]; 3] = [b"ab", b"", b"cdef"];
    let mut written = 0usize;
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut err = None;
    while written < total {
        // Rebuild the iovecs that are left.
        let mut rest: Vec<&[u8]> = Vec::new();
        let mut skip = written;
        for p in parts {
            if skip >= p.len() {
                skip -= p.len();
            } else {
                rest.push(&p[skip..]);
                skip = 0;
            }
        }
        match fd_writev(f, &rest) {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    t.case(
        "fd_write vectored",
        match err {
            Some(e) => e.name(),
            None => format!("ok total={written} file={}", cat(d, "f")),
        },
    );
    let _ = fd_seek(f, 0, WHENCE_SET);
    let mut got = Vec::new();
    let mut err = None;
    loop {
        let mut a = [0u8; 1];
        let mut b = [0u8; 0];
        let mut c = [0u8; 3];
        match fd_readv(f, &mut [&mut a, &mut b, &mut c]) {
            Ok(0) => break,
            Ok(n) => {
                let all: Vec<u8> = a.iter().chain(c.iter()).copied().collect();
                got.extend_from_slice(&all[..n]);
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    t.case(
        "fd_read vectored",
        match err {
            Some(e) => e.name(),
            None => format!("ok {}", bstr(&got)),
        },
    );

    // Two descriptors for one file: independent positions, no buffering.
    let g = must(open_rw(d, "f"), "open f again");
    t.case(
        "fd_tell second descriptor starts at 0",
        okv(fd_tell(g), |p| format!("pos={p}")),
    );
    let _ = fd_seek(f, 0, WHENCE_END);
    let _ = write_all(f, b"+tail");
    let mut buf = [0u8; 32];
    let r = fd_read(g, &mut buf);
    t.case(
        "fd_read second descriptor sees the first one's write",
        okv(r, |n| bstr(&buf[..n])),
    );
    let _ = fd_close(g);
    let _ = fd_close(f);
    let _ = fd_close(d);
}

fn pread_pwrite(t: &mut Transcript) {
    let d = section_dir("pio");
    let f = must(path_open(d, 0, "f", OFLAGS_CREAT, RW, RW, 0), "create f");
    t.case(
        "fd_pwrite at 0",
        okv(fd_pwrite(f, b"0123", 0), |n| format!("n={n}")),
    );
    t.case(
        "fd_tell unchanged by fd_pwrite",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case("fd_pread at 0", okv(pread_all(f, 16, 0), |c| bstr(&c)));
    t.case("fd_pread at 2", okv(pread_all(f, 16, 2), |c| bstr(&c)));
    t.case(
        "fd_pread at end of file",
        okv(pread_all(f, 16, 4), |c| bstr(&c)),
    );
    t.case(
        "fd_pread past end of file",
        okv(pread_all(f, 16, 100), |c| bstr(&c)),
    );
    t.case(
        "fd_pread zero-length buffer",
        okv(fd_pread(f, &mut [], 0), |n| format!("n={n}")),
    );
    t.case(
        "fd_pwrite at 2 overwrites",
        okv(fd_pwrite(f, b"xy", 2), |n| format!("n={n}")),
    );
    t.case(
        "fd_pread after overwrite",
        okv(pread_all(f, 16, 0), |c| bstr(&c)),
    );
    t.case(
        "fd_pwrite past end of file",
        okv(fd_pwrite(f, b"Z", 8), |n| format!("n={n}")),
    );
    t.case(
        "fd_filestat_get after fd_pwrite past end",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    t.case(
        "fd_pread gap is zeros",
        okv(pread_all(f, 16, 0), |c| bstr(&c)),
    );
    t.case(
        "fd_pwrite zero bytes past end",
        okv(fd_pwrite(f, b"", 50), |n| format!("n={n}")),
    );
    t.case(
        "fd_filestat_get zero-byte pwrite does not grow",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    t.case(
        "fd_tell still unchanged",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    let _ = fd_seek(f, 3, WHENCE_SET);
    let _ = fd_pread(f, &mut [0; 4], 0);
    let _ = fd_pwrite(f, b"", 0);
    t.case(
        "fd_tell unchanged by fd_pread",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    // Vectored pread, looping on short reads.
    let mut got = Vec::new();
    let mut off = 0u64;
    let r = loop {
        let mut a = [0u8; 2];
        let mut b = [0u8; 2];
        match fd_preadv(f, &mut [&mut a, &mut b], off) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                let all = [a[0], a[1], b[0], b[1]];
                got.extend_from_slice(&all[..n]);
                off += n as u64;
            }
            Err(e) => break Err(e),
        }
    };
    t.case("fd_pread vectored", okv(r, |_| bstr(&got)));
    let _ = fd_close(f);
    t.case("fd_pread closed fd", st(&pread_all(f, 4, 0)));
    t.case("fd_pwrite closed fd", st(&fd_pwrite(f, b"x", 0)));
    let _ = fd_close(d);
}

fn append_and_flags(t: &mut Transcript) {
    let d = section_dir("append");
    mkfile(d, "f", b"base");
    let a = must(
        path_open(d, 0, "f", 0, RW, RW, FDFLAGS_APPEND),
        "open f APPEND",
    );
    t.case(
        "fd_fdstat_get APPEND descriptor",
        okv(fd_fdstat_get(a), |s| {
            format!("flags={}", fdflags_name(s.flags))
        }),
    );
    t.case(
        "fd_seek APPEND descriptor to 0",
        okv(fd_seek(a, 0, WHENCE_SET), |p| format!("pos={p}")),
    );
    t.case(
        "fd_write APPEND goes to the end",
        okv(fd_write(a, b"+1"), |n| format!("n={n}")),
    );
    t.case(
        "fd_tell after APPEND write is the size",
        okv(fd_tell(a), |p| format!("pos={p}")),
    );
    t.case("fd_write APPEND content", cat(d, "f"));
    // Linux (and wasmtime says so): pwrite on an append-mode descriptor
    // ignores the offset and appends.
    t.case(
        "fd_pwrite APPEND descriptor at 0",
        okv(fd_pwrite(a, b"+p", 0), |n| format!("n={n}")),
    );
    t.case("fd_pwrite APPEND content", cat(d, "f"));
    // Turning APPEND off: writes go to the position again.
    t.case(
        "fd_fdstat_set_flags clear APPEND",
        st(&fd_fdstat_set_flags(a, 0)),
    );
    t.case(
        "fd_fdstat_get after clearing",
        okv(fd_fdstat_get(a), |s| {
            format!("flags={}", fdflags_name(s.flags))
        }),
    );
    let _ = fd_seek(a, 0, WHENCE_SET);
    t.case(
        "fd_write after clearing APPEND",
        okv(fd_write(a, b"B"), |n| format!("n={n}")),
    );
    t.case("fd_write after clearing APPEND content", cat(d, "f"));
    let _ = fd_close(a);

    let f = must(open_rw(d, "f"), "open f");
    t.case(
        "fd_fdstat_set_flags APPEND",
        st(&fd_fdstat_set_flags(f, FDFLAGS_APPEND)),
    );
    t.case(
        "fd_fdstat_get after setting APPEND",
        okv(fd_fdstat_get(f), |s| {
            format!("flags={}", fdflags_name(s.flags))
        }),
    );
    let _ = fd_seek(f, 0, WHENCE_SET);
    t.case(
        "fd_write after setting APPEND",
        okv(fd_write(f, b"!"), |n| format!("n={n}")),
    );
    t.case("fd_write after setting APPEND content", cat(d, "f"));
    t.case(
        "fd_fdstat_set_flags NONBLOCK",
        st(&fd_fdstat_set_flags(f, FDFLAGS_NONBLOCK)),
    );
    t.case(
        "fd_fdstat_get after NONBLOCK",
        okv(fd_fdstat_get(f), |s| {
            format!("flags={}", fdflags_name(s.flags))
        }),
    );
    // wasmtime: only APPEND and NONBLOCK can be changed.
    for (flag, name) in [
        (FDFLAGS_SYNC, "SYNC"),
        (FDFLAGS_DSYNC, "DSYNC"),
        (FDFLAGS_RSYNC, "RSYNC"),
    ] {
        t.case(
            &format!("fd_fdstat_set_flags {name}"),
            st(&fd_fdstat_set_flags(f, flag)),
        );
    }
    t.case(
        "fd_fdstat_set_flags back to 0",
        st(&fd_fdstat_set_flags(f, 0)),
    );
    t.case(
        "fd_fdstat_get back to 0",
        okv(fd_fdstat_get(f), |s| {
            format!("flags={}", fdflags_name(s.flags))
        }),
    );
    let _ = fd_close(f);
    t.case(
        "fd_fdstat_set_flags directory",
        st(&fd_fdstat_set_flags(d, 0)),
    );
    t.case(
        "fd_fdstat_set_flags closed fd",
        st(&fd_fdstat_set_flags(f, 0)),
    );
    let _ = fd_close(d);
}

fn directory_fd_io(t: &mut Transcript) {
    let d = section_dir("dirio");
    // wasmtime: file operations on a directory descriptor are EBADF (the
    // official suite accepts EISDIR, EBADF or ENOTCAPABLE).
    t.case("fd_read directory", st(&fd_read(d, &mut [0; 16])));
    t.case("fd_write directory", st(&fd_write(d, b"x")));
    t.case("fd_pread directory", st(&pread_all(d, 16, 0)));
    t.case("fd_pwrite directory", st(&fd_pwrite(d, b"x", 0)));
    t.case("fd_seek directory", st(&fd_seek(d, 0, WHENCE_SET)));
    t.case("fd_tell directory", st(&fd_tell(d)));
    t.case("fd_allocate directory", st(&fd_allocate(d, 0, 1)));
    t.case(
        "fd_filestat_set_size directory",
        st(&fd_filestat_set_size(d, 0)),
    );
    t.case(
        "fd_advise directory",
        st(&fd_advise(d, 0, 0, ADVICE_NORMAL)),
    );
    // wasmtime: even fsync of a directory descriptor is EBADF.
    t.case("fd_sync directory", st(&fd_sync(d)));
    t.case("fd_datasync directory", st(&fd_datasync(d)));
    let _ = fd_close(d);
}

fn sizes_and_hints(t: &mut Transcript) {
    let d = section_dir("size");
    let f = must(path_open(d, 0, "f", OFLAGS_CREAT, RW, RW, 0), "create f");
    t.case(
        "fd_filestat_get new file",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    let _ = write_all(f, b"0123456789");
    t.case(
        "fd_filestat_set_size grow to 16",
        st(&fd_filestat_set_size(f, 16)),
    );
    t.case(
        "fd_filestat_get after growing",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    t.case(
        "fd_filestat_set_size grown bytes are zeros",
        okv(pread_all(f, 32, 0), |c| bstr(&c)),
    );
    t.case(
        "fd_tell unchanged by fd_filestat_set_size",
        okv(fd_tell(f), |p| format!("pos={p}")),
    );
    t.case(
        "fd_filestat_set_size shrink to 4",
        st(&fd_filestat_set_size(f, 4)),
    );
    t.case(
        "fd_filestat_get after shrinking",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    t.case(
        "fd_pread after shrinking",
        okv(pread_all(f, 32, 0), |c| bstr(&c)),
    );
    t.case(
        "fd_read at position past the new end",
        okv(fd_read(f, &mut [0; 8]), |n| format!("n={n}")),
    );
    t.case(
        "fd_write at position past the new end",
        okv(fd_write(f, b"W"), |n| format!("n={n}")),
    );
    t.case(
        "fd_pread after writing past the new end",
        okv(pread_all(f, 32, 0), |c| bstr(&c)),
    );
    t.case(
        "fd_filestat_set_size same size",
        st(&fd_filestat_set_size(f, 11)),
    );
    t.case("fd_filestat_set_size to 0", st(&fd_filestat_set_size(f, 0)));
    t.case(
        "fd_filestat_get after truncating to 0",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    let _ = write_all(f, b"abc");
    let fs = fd_filestat_get(f);
    let ps = path_filestat_get(d, 0, "f");
    t.case(
        "fd_filestat_get agrees with path_filestat_get",
        match (fs, ps) {
            (Ok(a), Ok(b)) => format!(
                "ok size={} ino_equal={} dev_equal={} mtim_equal={}",
                a.size,
                bools(a.ino == b.ino),
                bools(a.dev == b.dev),
                bools(a.mtim == b.mtim)
            ),
            (a, b) => format!("{} {}", st(&a), st(&b)),
        },
    );

    // fd_advise is a hint: every valid advice succeeds.
    let advice: Vec<String> = [
        ADVICE_NORMAL,
        ADVICE_SEQUENTIAL,
        ADVICE_RANDOM,
        ADVICE_WILLNEED,
        ADVICE_DONTNEED,
        ADVICE_NOREUSE,
    ]
    .iter()
    .map(|&a| st(&fd_advise(f, 0, 3, a)))
    .collect();
    t.case("fd_advise every advice value", advice.join(" "));
    t.case(
        "fd_advise range past end of file",
        st(&fd_advise(f, 1000, 1000, ADVICE_WILLNEED)),
    );
    t.case(
        "fd_advise length 0 means to the end",
        st(&fd_advise(f, 0, 0, ADVICE_SEQUENTIAL)),
    );
    t.case(
        "fd_filestat_get unchanged by fd_advise",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );

    // wasmtime 48: fd_allocate is never supported on files (ENOTSUP; the
    // official suite accepts that or the allocation).
    t.case("fd_allocate within the file", st(&fd_allocate(f, 0, 2)));
    t.case("fd_allocate beyond the end", st(&fd_allocate(f, 0, 100)));
    t.case(
        "fd_filestat_get unchanged by fd_allocate",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );

    t.case("fd_sync file", st(&fd_sync(f)));
    t.case("fd_datasync file", st(&fd_datasync(f)));
    let _ = fd_close(f);
    let ro = must(
        path_open(d, 0, "f", 0, RIGHTS_FD_READ, 0, 0),
        "open f read-only",
    );
    t.case("fd_sync read-only file", st(&fd_sync(ro)));
    t.case("fd_datasync read-only file", st(&fd_datasync(ro)));
    t.case(
        "fd_advise read-only file",
        st(&fd_advise(ro, 0, 0, ADVICE_RANDOM)),
    );
    t.case("fd_allocate read-only file", st(&fd_allocate(ro, 0, 1)));
    let _ = fd_close(ro);
    let _ = fd_close(d);
}

fn times(t: &mut Transcript) {
    let d = section_dir("times");
    mkfile(d, "f", b"times");
    let f = must(open_rw(d, "f"), "open f");
    let show = |fd: Fd| {
        okv(fd_filestat_get(fd), |s| {
            format!("atim={} mtim={}", s.atim, s.mtim)
        })
    };

    t.case(
        "fd_filestat_set_times ATIM|MTIM explicit",
        st(&fd_filestat_set_times(f, T1, T2, FST_ATIM | FST_MTIM)),
    );
    t.case("fd_filestat_get explicit times read back", show(f));
    t.case(
        "fd_filestat_set_times MTIM only",
        st(&fd_filestat_set_times(f, T4, T3, FST_MTIM)),
    );
    t.case("fd_filestat_get MTIM only leaves atim", show(f));
    t.case(
        "fd_filestat_set_times ATIM only",
        st(&fd_filestat_set_times(f, T2, T4, FST_ATIM)),
    );
    t.case("fd_filestat_get ATIM only leaves mtim", show(f));
    t.case(
        "fd_filestat_set_times no flags",
        st(&fd_filestat_set_times(f, T4, T4, 0)),
    );
    t.case("fd_filestat_get no flags changes nothing", show(f));
    // The official suite's fstflags_validate: both forms of one time is EINVAL.
    t.case(
        "fd_filestat_set_times ATIM|ATIM_NOW",
        st(&fd_filestat_set_times(f, T4, T4, FST_ATIM | FST_ATIM_NOW)),
    );
    t.case(
        "fd_filestat_set_times MTIM|MTIM_NOW",
        st(&fd_filestat_set_times(f, T4, T4, FST_MTIM | FST_MTIM_NOW)),
    );
    t.case(
        "fd_filestat_set_times ATIM|ATIM_NOW|MTIM|MTIM_NOW",
        st(&fd_filestat_set_times(
            f,
            T4,
            T4,
            FST_ATIM | FST_ATIM_NOW | FST_MTIM | FST_MTIM_NOW,
        )),
    );
    t.case("fd_filestat_get invalid flags changed nothing", show(f));
    t.case(
        "fd_filestat_set_times MTIM_NOW",
        st(&fd_filestat_set_times(f, 0, 0, FST_MTIM_NOW)),
    );
    t.case(
        "fd_filestat_get MTIM_NOW is later, atim kept",
        okv(fd_filestat_get(f), |s| {
            format!("mtim>T3={} atim={}", bools(s.mtim > T3), s.atim)
        }),
    );
    t.case(
        "fd_filestat_set_times ATIM_NOW|MTIM explicit",
        st(&fd_filestat_set_times(f, 0, T3, FST_ATIM_NOW | FST_MTIM)),
    );
    t.case(
        "fd_filestat_get ATIM_NOW is later",
        okv(fd_filestat_get(f), |s| {
            format!("atim>T2={} mtim={}", bools(s.atim > T2), s.mtim)
        }),
    );
    // Data changes move mtim forward.
    let _ = fd_filestat_set_times(f, T1, T1, FST_ATIM | FST_MTIM);
    let _ = fd_pwrite(f, b"T", 0);
    t.case(
        "fd_pwrite updates mtim",
        okv(fd_filestat_get(f), |s| {
            format!("mtim>T1={}", bools(s.mtim > T1))
        }),
    );
    let _ = fd_filestat_set_times(f, T1, T1, FST_ATIM | FST_MTIM);
    let _ = fd_filestat_set_size(f, 2);
    t.case(
        "fd_filestat_set_size updates mtim",
        okv(fd_filestat_get(f), |s| {
            format!("mtim>T1={}", bools(s.mtim > T1))
        }),
    );
    let _ = fd_filestat_set_times(f, T1, T1, FST_ATIM | FST_MTIM);
    let _ = fd_seek(f, 0, WHENCE_END);
    let _ = fd_write(f, b"w");
    t.case(
        "fd_write updates mtim",
        okv(fd_filestat_get(f), |s| {
            format!("mtim>T1={}", bools(s.mtim > T1))
        }),
    );
    let _ = fd_close(f);

    // Setting times needs no write access to the file.
    let ro = must(
        path_open(d, 0, "f", 0, RIGHTS_FD_READ, 0, 0),
        "open f read-only",
    );
    t.case(
        "fd_filestat_set_times read-only descriptor",
        st(&fd_filestat_set_times(ro, T3, T4, FST_ATIM | FST_MTIM)),
    );
    t.case("fd_filestat_get read-only descriptor times", show(ro));
    let _ = fd_close(ro);
    t.case(
        "fd_filestat_set_times closed fd",
        st(&fd_filestat_set_times(ro, T1, T1, FST_ATIM)),
    );

    // Directories.
    mkdir(d, "sub");
    let sub = must(opendir(d, "sub"), "open sub");
    t.case(
        "fd_filestat_set_times directory",
        st(&fd_filestat_set_times(sub, T1, T2, FST_ATIM | FST_MTIM)),
    );
    t.case("fd_filestat_get directory times", show(sub));
    // POSIX: adding or removing an entry updates the directory's mtim.
    mkfile(sub, "new", b"");
    t.case(
        "path_filestat_get directory mtim after creating an entry",
        okv(lstat(d, "sub"), |s| {
            format!("mtim>T2={}", bools(s.mtim > T2))
        }),
    );
    let _ = fd_filestat_set_times(sub, T1, T2, FST_ATIM | FST_MTIM);
    let _ = path_unlink_file(sub, "new");
    t.case(
        "path_filestat_get directory mtim after removing an entry",
        okv(lstat(d, "sub"), |s| {
            format!("mtim>T2={}", bools(s.mtim > T2))
        }),
    );
    let _ = fd_close(sub);

    // path_filestat_set_times.
    mkfile(d, "p", b"p");
    let pshow = |path: &str, flags: u32| {
        okv(path_filestat_get(d, flags, path), |s| {
            format!("atim={} mtim={}", s.atim, s.mtim)
        })
    };
    t.case(
        "path_filestat_set_times explicit",
        st(&path_filestat_set_times(
            d,
            0,
            "p",
            T1,
            T2,
            FST_ATIM | FST_MTIM,
        )),
    );
    t.case("path_filestat_get explicit times read back", pshow("p", 0));
    t.case(
        "path_filestat_set_times MTIM only",
        st(&path_filestat_set_times(d, 0, "p", 0, T3, FST_MTIM)),
    );
    t.case("path_filestat_get MTIM only leaves atim", pshow("p", 0));
    t.case(
        "path_filestat_set_times ATIM|ATIM_NOW",
        st(&path_filestat_set_times(
            d,
            0,
            "p",
            T4,
            T4,
            FST_ATIM | FST_ATIM_NOW,
        )),
    );
    t.case(
        "path_filestat_set_times MTIM|MTIM_NOW",
        st(&path_filestat_set_times(
            d,
            0,
            "p",
            T4,
            T4,
            FST_MTIM | FST_MTIM_NOW,
        )),
    );
    t.case(
        "path_filestat_get invalid flags changed nothing",
        pshow("p", 0),
    );
    t.case(
        "path_filestat_set_times ATIM_NOW|MTIM_NOW",
        st(&path_filestat_set_times(
            d,
            0,
            "p",
            0,
            0,
            FST_ATIM_NOW | FST_MTIM_NOW,
        )),
    );
    t.case(
        "path_filestat_get NOW times are later",
        okv(lstat(d, "p"), |s| {
            format!(
                "atim>T1={} mtim>T3={}",
                bools(s.atim > T1),
                bools(s.mtim > T3)
            )
        }),
    );
    t.case(
        "path_filestat_set_times missing",
        st(&path_filestat_set_times(d, 0, "missing", T1, T1, FST_ATIM)),
    );
    t.case(
        "path_filestat_set_times file with trailing slash",
        st(&path_filestat_set_times(d, 0, "p/", T1, T1, FST_ATIM)),
    );
    t.case(
        "path_filestat_set_times directory",
        st(&path_filestat_set_times(
            d,
            0,
            "sub",
            T3,
            T4,
            FST_ATIM | FST_MTIM,
        )),
    );
    t.case("path_filestat_get directory times", pshow("sub", 0));
    t.case(
        "path_filestat_set_times . is the directory itself",
        st(&path_filestat_set_times(
            d,
            0,
            ".",
            T1,
            T2,
            FST_ATIM | FST_MTIM,
        )),
    );
    t.case("fd_filestat_get times set through .", show(d));
    t.case(
        "path_filestat_set_times escaping",
        st(&path_filestat_set_times(
            d,
            0,
            "../times/p",
            T1,
            T1,
            FST_ATIM,
        )),
    );
    t.case(
        "path_filestat_set_times absolute",
        st(&path_filestat_set_times(
            d,
            0,
            "/w/times/p",
            T1,
            T1,
            FST_ATIM,
        )),
    );
    // Symlinks: without FOLLOW the link's own times change (the official
    // suite's symlink_filestat), with FOLLOW the target's.
    let _ = path_filestat_set_times(d, 0, "p", T1, T2, FST_ATIM | FST_MTIM);
    must(path_symlink("p", d, "lp"), "symlink lp");
    t.case(
        "path_filestat_set_times symlink without FOLLOW",
        st(&path_filestat_set_times(
            d,
            LOOKUP_NOFOLLOW,
            "lp",
            T3,
            T4,
            FST_ATIM | FST_MTIM,
        )),
    );
    t.case(
        "path_filestat_get symlink's own times",
        pshow("lp", LOOKUP_NOFOLLOW),
    );
    t.case("path_filestat_get target untouched", pshow("p", 0));
    t.case(
        "path_filestat_set_times symlink with FOLLOW",
        st(&path_filestat_set_times(
            d,
            LOOKUP_FOLLOW,
            "lp",
            T2,
            T3,
            FST_ATIM | FST_MTIM,
        )),
    );
    t.case(
        "path_filestat_get target changed through symlink",
        pshow("p", 0),
    );
    t.case(
        "path_filestat_get through symlink with FOLLOW",
        pshow("lp", LOOKUP_FOLLOW),
    );
    // Only mtim: following the link read it, which may update its atim
    // (Linux relatime).
    t.case(
        "path_filestat_get symlink's own mtim kept",
        okv(lstat(d, "lp"), |s| format!("mtim={}", s.mtim)),
    );
    let _ = fd_close(d);
}

fn path_stats(t: &mut Transcript) {
    let d = section_dir("stat");
    mkfile(d, "f", b"12345");
    mkdir(d, "sub");
    must(path_symlink("f", d, "lf"), "symlink lf");
    must(path_symlink("sub", d, "ld"), "symlink ld");
    must(path_symlink("nothing", d, "dangling"), "symlink dangling");
    must(path_symlink("loop", d, "loop"), "symlink loop");

    t.case("path_filestat_get file", stat_str(lstat(d, "f")));
    t.case("path_filestat_get directory", stat_str(lstat(d, "sub")));
    t.case("path_filestat_get .", stat_str(lstat(d, ".")));
    t.case("path_filestat_get missing", stat_str(lstat(d, "missing")));
    t.case("path_filestat_get empty path", stat_str(lstat(d, "")));
    // wasmtime: path_filestat_get ignores a trailing slash, so `f/` is the
    // file and `ld/` the symlink itself (POSIX stat gives ENOTDIR and the
    // directory); path_open and path_filestat_set_times do not ignore it.
    t.case(
        "path_filestat_get file with trailing slash",
        stat_str(lstat(d, "f/")),
    );
    t.case(
        "path_filestat_get directory with trailing slash",
        stat_str(lstat(d, "sub/")),
    );
    t.case("path_filestat_get under a file", stat_str(lstat(d, "f/x")));
    t.case(
        "path_filestat_get symlink without FOLLOW",
        stat_str(lstat(d, "lf")),
    );
    t.case(
        "path_filestat_get symlink with FOLLOW",
        stat_str(stat(d, "lf")),
    );
    t.case(
        "path_filestat_get directory symlink without FOLLOW",
        stat_str(lstat(d, "ld")),
    );
    t.case(
        "path_filestat_get directory symlink with FOLLOW",
        stat_str(stat(d, "ld")),
    );
    t.case(
        "path_filestat_get directory symlink with trailing slash",
        stat_str(lstat(d, "ld/")),
    );
    t.case(
        "path_filestat_get through a directory symlink",
        stat_str(lstat(d, "ld/../f")),
    );
    t.case(
        "path_filestat_get dangling symlink without FOLLOW",
        stat_str(lstat(d, "dangling")),
    );
    t.case(
        "path_filestat_get dangling symlink with FOLLOW",
        stat_str(stat(d, "dangling")),
    );
    t.case(
        "path_filestat_get symlink loop without FOLLOW",
        stat_str(lstat(d, "loop")),
    );
    t.case(
        "path_filestat_get symlink loop with FOLLOW",
        stat_str(stat(d, "loop")),
    );
    t.case(
        "path_filestat_get through a symlink loop",
        stat_str(lstat(d, "loop/x")),
    );
    t.case(
        "path_filestat_get escaping",
        stat_str(lstat(d, "../stat/f")),
    );
    t.case(
        "path_filestat_get absolute",
        stat_str(lstat(d, "/w/stat/f")),
    );
    let inos = match (
        lstat(d, "f"),
        stat(d, "lf"),
        lstat(d, "lf"),
        lstat(d, "sub"),
        stat(d, "ld"),
    ) {
        (Ok(f), Ok(lf), Ok(lfl), Ok(sub), Ok(ld)) => format!(
            "ok file=followed_link:{} file=link_itself:{} dir=followed_dirlink:{} file=dir:{}",
            bools(f.ino == lf.ino),
            bools(f.ino == lfl.ino),
            bools(sub.ino == ld.ino),
            bools(f.ino == sub.ino)
        ),
        _ => "setup failed".into(),
    };
    t.case("path_filestat_get inode equalities", inos);
    let f = must(open_rw(d, "f"), "open f");
    let same = match (fd_filestat_get(f), lstat(d, "f")) {
        (Ok(a), Ok(b)) => format!(
            "ok ino_equal={} nlink={} size={}",
            bools(a.ino == b.ino),
            a.nlink,
            a.size
        ),
        (a, b) => format!("{} {}", st(&a), st(&b)),
    };
    t.case("fd_filestat_get matches path_filestat_get", same);
    let _ = fd_close(f);
    t.case("fd_filestat_get closed fd", st(&fd_filestat_get(f)));
    let _ = fd_close(d);
}

fn symlinks(t: &mut Transcript) {
    let d = section_dir("sym");
    mkfile(d, "t", b"data");
    mkdir(d, "dir");
    mkfile(d, "dir/in", b"inside");

    t.case("path_symlink to a file", st(&path_symlink("t", d, "l_t")));
    t.case(
        "path_symlink to a directory",
        st(&path_symlink("dir", d, "l_dir")),
    );
    t.case(
        "path_symlink dangling",
        st(&path_symlink("nothing", d, "l_none")),
    );
    t.case(
        "path_symlink self loop",
        st(&path_symlink("l_self", d, "l_self")),
    );
    t.case(
        "path_symlink loop part a",
        st(&path_symlink("l_b", d, "l_a")),
    );
    t.case(
        "path_symlink loop part b",
        st(&path_symlink("l_a", d, "l_b")),
    );
    t.case(
        "path_symlink target with ..",
        st(&path_symlink("dir/../t", d, "l_dotdot")),
    );
    t.case("path_symlink chain", st(&path_symlink("l_t", d, "l_chain")));
    t.case(
        "path_symlink in a subdirectory pointing up",
        st(&path_symlink("../t", d, "dir/l_up")),
    );
    // The target is only text at creation time; following it must not escape.
    t.case(
        "path_symlink target escaping the root",
        st(&path_symlink("../../../../etc", d, "l_escape")),
    );
    t.case(
        "path_symlink target leaving the directory",
        st(&path_symlink("../sym/t", d, "l_out")),
    );
    // wasmtime refuses absolute targets outright.
    t.case(
        "path_symlink absolute target",
        st(&path_symlink("/w/sym/t", d, "l_abs")),
    );
    t.case("path_symlink target /", st(&path_symlink("/", d, "l_root")));
    t.case(
        "path_symlink absolute target created nothing",
        exists(d, "l_abs"),
    );
    // Linux: an empty target is ENOENT.
    t.case(
        "path_symlink empty target",
        st(&path_symlink("", d, "l_empty")),
    );
    t.case(
        "path_symlink over existing file",
        st(&path_symlink("x", d, "t")),
    );
    t.case(
        "path_symlink over existing directory",
        st(&path_symlink("x", d, "dir")),
    );
    t.case(
        "path_symlink over existing symlink",
        st(&path_symlink("x", d, "l_t")),
    );
    t.case(
        "path_symlink over dangling symlink",
        st(&path_symlink("x", d, "l_none")),
    );
    // The official suite's path_symlink_trailing_slashes (Unix answers).
    t.case(
        "path_symlink new name with trailing slash",
        st(&path_symlink("t", d, "l_slash/")),
    );
    t.case(
        "path_symlink over directory with trailing slash",
        st(&path_symlink("t", d, "dir/")),
    );
    t.case(
        "path_symlink over file with trailing slash",
        st(&path_symlink("x", d, "t/")),
    );
    t.case(
        "path_symlink in missing directory",
        st(&path_symlink("t", d, "nodir/l")),
    );
    t.case(
        "path_symlink link path escaping",
        st(&path_symlink("t", d, "../l_x")),
    );
    t.case(
        "path_symlink link path absolute",
        st(&path_symlink("t", d, "/w/sym/l_x")),
    );

    // path_readlink.
    t.case("path_readlink file symlink", readlink_str(d, "l_t"));
    t.case("path_readlink directory symlink", readlink_str(d, "l_dir"));
    t.case("path_readlink dangling symlink", readlink_str(d, "l_none"));
    t.case(
        "path_readlink escaping target is returned as text",
        readlink_str(d, "l_escape"),
    );
    t.case(
        "path_readlink in a subdirectory",
        readlink_str(d, "dir/l_up"),
    );
    t.case(
        "path_readlink through a directory symlink",
        readlink_str(d, "l_dir/l_up"),
    );
    let mut buf = [b'#'; 8];
    let r = path_readlink(d, "l_dotdot", &mut buf[..4]);
    t.case(
        "path_readlink truncates to the buffer",
        okv(r, |n| format!("n={n} buf={}", bstr(&buf))),
    );
    let mut buf = [b'#'; 12];
    let r = path_readlink(d, "l_t", &mut buf);
    t.case(
        "path_readlink leaves the rest of the buffer",
        okv(r, |n| format!("n={n} buf={}", bstr(&buf))),
    );
    t.case(
        "path_readlink zero-length buffer",
        okv(path_readlink(d, "l_t", &mut []), |n| format!("n={n}")),
    );
    t.case("path_readlink regular file", readlink_str(d, "t"));
    t.case("path_readlink directory", readlink_str(d, "dir"));
    t.case("path_readlink missing", readlink_str(d, "missing"));
    // Linux: a trailing slash follows the link, and a directory is no link.
    t.case(
        "path_readlink directory symlink with trailing slash",
        readlink_str(d, "l_dir/"),
    );
    t.case("path_readlink escaping path", readlink_str(d, "../sym/l_t"));
    t.case("path_readlink relative to a file descriptor", {
        let f = must(open_rw(d, "t"), "open t");
        let r = readlink_str(f, "x");
        let _ = fd_close(f);
        r
    });

    // Opening through symlinks. The official suite's nofollow_errors,
    // symlink_loop, dangling_symlink, symlink_create.
    t.case(
        "path_open symlink to file without FOLLOW",
        opened(path_open(d, 0, "l_t", 0, RO, RO, 0)),
    );
    t.case(
        "path_open symlink to file with FOLLOW",
        opened(path_open(d, LOOKUP_FOLLOW, "l_t", 0, RO, RO, 0)),
    );
    t.case("path_open symlink to file reads the target", cat(d, "l_t"));
    t.case("path_open chain of symlinks with FOLLOW", cat(d, "l_chain"));
    t.case("path_open symlink with .. in target", cat(d, "l_dotdot"));
    t.case(
        "path_open symlink to directory without FOLLOW",
        opened(path_open(d, 0, "l_dir", 0, RO, RO, 0)),
    );
    // wasmtime: ELOOP, whatever the symlink points to (the official suite
    // accepts ENOTDIR too).
    t.case(
        "path_open DIRECTORY symlink to directory without FOLLOW",
        opened(path_open(
            d,
            0,
            "l_dir",
            OFLAGS_DIRECTORY,
            DIR_BASE,
            RIGHTS_ALL,
            0,
        )),
    );
    t.case(
        "path_open DIRECTORY symlink to directory with FOLLOW",
        opened(path_open(
            d,
            LOOKUP_FOLLOW,
            "l_dir",
            OFLAGS_DIRECTORY,
            DIR_BASE,
            RIGHTS_ALL,
            0,
        )),
    );
    t.case(
        "path_open DIRECTORY symlink to file with FOLLOW",
        opened(path_open(
            d,
            LOOKUP_FOLLOW,
            "l_t",
            OFLAGS_DIRECTORY,
            RO,
            RO,
            0,
        )),
    );
    t.case(
        "path_open DIRECTORY symlink to file without FOLLOW",
        opened(path_open(d, 0, "l_t", OFLAGS_DIRECTORY, RO, RO, 0)),
    );
    t.case(
        "path_open symlink to directory with trailing slash",
        opened(path_open(d, 0, "l_dir/", 0, RO, RO, 0)),
    );
    t.case(
        "path_open symlink to file with trailing slash",
        opened(path_open(d, LOOKUP_FOLLOW, "l_t/", 0, RO, RO, 0)),
    );
    t.case(
        "path_open through a directory symlink without FOLLOW",
        opened(path_open(d, 0, "l_dir/in", 0, RO, RO, 0)),
    );
    t.case(
        "path_open dangling symlink without FOLLOW",
        opened(path_open(d, 0, "l_none", 0, RO, RO, 0)),
    );
    t.case(
        "path_open dangling symlink with FOLLOW",
        opened(path_open(d, LOOKUP_FOLLOW, "l_none", 0, RO, RO, 0)),
    );
    t.case(
        "path_open DIRECTORY dangling symlink",
        opened(path_open(d, 0, "l_none", OFLAGS_DIRECTORY, RO, RO, 0)),
    );
    t.case(
        "path_open CREAT|EXCL over dangling symlink",
        opened(path_open(
            d,
            LOOKUP_FOLLOW,
            "l_none",
            OFLAGS_CREAT | OFLAGS_EXCL,
            RW,
            RW,
            0,
        )),
    );
    t.case(
        "path_open CREAT|EXCL over dangling symlink without FOLLOW",
        opened(path_open(
            d,
            0,
            "l_none",
            OFLAGS_CREAT | OFLAGS_EXCL,
            RW,
            RW,
            0,
        )),
    );
    t.case(
        "path_open CREAT without FOLLOW over dangling symlink",
        opened(path_open(d, 0, "l_none", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open CREAT over dangling symlink left the target missing",
        exists(d, "nothing"),
    );
    must(
        path_symlink("made_through_link", d, "l_none2"),
        "symlink l_none2",
    );
    t.case(
        "path_open CREAT with FOLLOW over dangling symlink",
        opened(path_open(
            d,
            LOOKUP_FOLLOW,
            "l_none2",
            OFLAGS_CREAT,
            RW,
            RW,
            0,
        )),
    );
    t.case(
        "path_open CREAT with FOLLOW through symlink target",
        exists(d, "made_through_link"),
    );
    t.case(
        "path_open self loop without FOLLOW",
        opened(path_open(d, 0, "l_self", 0, RO, RO, 0)),
    );
    t.case(
        "path_open self loop with FOLLOW",
        opened(path_open(d, LOOKUP_FOLLOW, "l_self", 0, RO, RO, 0)),
    );
    t.case(
        "path_open two-link loop with FOLLOW",
        opened(path_open(d, LOOKUP_FOLLOW, "l_a", 0, RO, RO, 0)),
    );
    t.case(
        "path_open through a loop",
        opened(path_open(d, 0, "l_self/x", 0, RO, RO, 0)),
    );
    t.case(
        "path_open CREAT through a loop",
        opened(path_open(d, LOOKUP_FOLLOW, "l_a", OFLAGS_CREAT, RW, RW, 0)),
    );
    t.case(
        "path_open symlink escaping the root",
        opened(path_open(d, LOOKUP_FOLLOW, "l_escape", 0, RO, RO, 0)),
    );
    t.case(
        "path_open through a symlink escaping the root",
        opened(path_open(d, 0, "l_escape/passwd", 0, RO, RO, 0)),
    );
    // Symlinks resolve against the descriptor the lookup started from: the
    // same link escapes from w/sym's descriptor but not from the preopen.
    t.case(
        "path_open symlink leaving the directory descriptor",
        opened(path_open(d, LOOKUP_FOLLOW, "l_out", 0, RO, RO, 0)),
    );
    t.case(
        "path_open same symlink from the preopen",
        opened(path_open(ROOT, LOOKUP_FOLLOW, "w/sym/l_out", 0, RO, RO, 0)),
    );
    t.case(
        "path_open symlink pointing up inside the directory",
        cat(d, "dir/l_up"),
    );
    let sub = must(opendir(d, "dir"), "open dir");
    t.case(
        "path_open symlink pointing up from the subdirectory's descriptor",
        cat(sub, "l_up"),
    );
    let _ = fd_close(sub);
    t.case(
        "path_filestat_get escaping symlink without FOLLOW",
        stat_str(lstat(d, "l_escape")),
    );
    t.case(
        "path_filestat_get escaping symlink with FOLLOW",
        stat_str(stat(d, "l_escape")),
    );
    t.case(
        "path_create_directory through a directory symlink",
        st(&path_create_directory(d, "l_dir/made")),
    );
    t.case(
        "path_create_directory through a symlink made it in the target",
        exists(d, "dir/made"),
    );
    t.case(
        "path_unlink_file symlink removes the link only",
        st(&path_unlink_file(d, "l_chain")),
    );
    t.case("path_unlink_file symlink left the target", exists(d, "l_t"));
    t.case(
        "path_unlink_file dangling symlink",
        st(&path_unlink_file(d, "l_none")),
    );
    t.case(
        "path_unlink_file directory symlink",
        st(&path_unlink_file(d, "l_dir")),
    );
    t.case(
        "path_unlink_file directory symlink left the directory",
        exists(d, "dir"),
    );
    let _ = fd_close(d);
}

// ---------------------------------------------------------------------------
// fd_readdir

struct Dirent {
    next: u64,
    ino: u64,
    typ: u8,
    name: Vec<u8>,
}

/// The complete entries in `buf`, and how many bytes they used.
fn parse_dirents(buf: &[u8]) -> (Vec<Dirent>, usize) {
    let mut out = Vec::new();
    let mut off = 0;
    while buf.len() - off >= DIRENT_SIZE {
        let h = &buf[off..off + DIRENT_SIZE];
        let next = u64::from_le_bytes(h[0..8].try_into().unwrap());
        let ino = u64::from_le_bytes(h[8..16].try_into().unwrap());
        let namlen = u32::from_le_bytes(h[16..20].try_into().unwrap()) as usize;
        let typ = h[20];
        if buf.len() - off - DIRENT_SIZE < namlen {
            break;
        }
        let name = buf[off + DIRENT_SIZE..off + DIRENT_SIZE + namlen].to_vec();
        out.push(Dirent {
            next,
            ino,
            typ,
            name,
        });
        off += DIRENT_SIZE + namlen;
    }
    (out, off)
}

/// Reads a whole directory with a `b`-byte buffer, resuming from the last
/// complete entry's `d_next` each time. When not even one entry fits, the
/// entry is taken from a read with a large buffer at the same cookie (as
/// wasi-libc grows its buffer). Returns the entries and whether every call
/// was consistent: a full buffer ends in a prefix of the next entry, a short
/// one ends on an entry boundary.
fn walk(fd: Fd, b: usize) -> R<(Vec<Dirent>, bool)> {
    let mut cookie = 0u64;
    let mut out = Vec::new();
    let mut consistent = true;
    for _ in 0..10_000 {
        let mut buf = vec![0u8; b];
        let used = fd_readdir(fd, &mut buf, cookie)?;
        if used > b {
            return Ok((out, false));
        }
        let (ents, consumed) = parse_dirents(&buf[..used]);
        if used < b {
            if consumed != used {
                consistent = false;
            }
            out.extend(ents);
            return Ok((out, consistent));
        }
        if consumed < used {
            let resume = ents.last().map_or(cookie, |e| e.next);
            let mut big = vec![0u8; 65536];
            let bu = fd_readdir(fd, &mut big, resume)?;
            let tail = &buf[consumed..used];
            if bu < tail.len() || &big[..tail.len()] != tail {
                consistent = false;
            }
            if ents.is_empty() {
                let (big_ents, _) = parse_dirents(&big[..bu]);
                match big_ents.into_iter().next() {
                    Some(e) => {
                        cookie = e.next;
                        out.push(e);
                        continue;
                    }
                    None => return Ok((out, false)),
                }
            }
        }
        if let Some(last) = ents.last() {
            cookie = last.next;
        }
        out.extend(ents);
    }
    Ok((out, false))
}

fn sorted_names(ents: &[Dirent]) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = ents.iter().map(|e| e.name.clone()).collect();
    names.sort();
    names
}

/// `name:type` for every entry, sorted by name.
fn listing(ents: &[Dirent]) -> String {
    let mut items: Vec<(Vec<u8>, u8)> = ents.iter().map(|e| (e.name.clone(), e.typ)).collect();
    items.sort();
    let parts: Vec<String> = items
        .iter()
        .map(|(n, t)| format!("{}:{}", String::from_utf8_lossy(n), ft(*t)))
        .collect();
    parts.join(" ")
}

fn readdir(t: &mut Transcript) {
    let d = section_dir("rd");
    mkdir(d, "empty");
    let empty = must(opendir(d, "empty"), "open empty");
    // The official suite's fd_readdir: an empty directory lists . and ..
    t.case(
        "fd_readdir empty directory",
        okv(walk(empty, 4096), |(e, c)| {
            format!("{} consistent={}", listing(&e), bools(c))
        }),
    );
    let dot = match (walk(empty, 4096), fd_filestat_get(empty)) {
        (Ok((ents, _)), Ok(s)) => match ents.iter().find(|e| e.name == b".") {
            Some(e) => format!("ok {}", bools(e.ino == s.ino)),
            None => "no . entry".into(),
        },
        (a, b) => format!("{} {}", st(&a), st(&b)),
    };
    t.case("fd_readdir . has the directory's inode", dot);
    let _ = fd_close(empty);

    // A small directory with each kind of entry.
    mkdir(d, "small");
    let small = must(opendir(d, "small"), "open small");
    mkfile(small, "file", b"f");
    mkdir(small, "subdir");
    must(path_symlink("file", small, "link"), "symlink link");
    must(
        path_symlink("nowhere", small, "dangling"),
        "symlink dangling",
    );
    let mut big = vec![0u8; 4096];
    let r = fd_readdir(small, &mut big, 0);
    t.case(
        "fd_readdir small directory in one call",
        okv(r, |used| {
            let (ents, consumed) = parse_dirents(&big[..used]);
            format!(
                "{} short={} whole_entries={}",
                listing(&ents),
                bools(used < 4096),
                bools(consumed == used)
            )
        }),
    );
    let inos = match walk(small, 4096) {
        Ok((ents, _)) => {
            let mut all = true;
            let mut checked = 0;
            for e in ents.iter().filter(|e| e.name != b"." && e.name != b"..") {
                checked += 1;
                match path_filestat_get(small, 0, &e.name) {
                    Ok(s) => all &= s.ino == e.ino && s.filetype == e.typ,
                    Err(_) => all = false,
                }
            }
            format!("ok checked={checked} all_equal={}", bools(all))
        }
        Err(e) => e.name(),
    };
    t.case("fd_readdir d_ino and d_type match path_filestat_get", inos);
    // Resuming after the entry that came last gives nothing.
    let end = match walk(small, 4096) {
        Ok((ents, _)) => match ents.last() {
            Some(last) => {
                let mut buf = [0u8; 256];
                okv(fd_readdir(small, &mut buf, last.next), |n| {
                    format!("used={n}")
                })
            }
            None => "no entries".into(),
        },
        Err(e) => e.name(),
    };
    t.case("fd_readdir resuming after the last entry", end);
    // A full buffer means "maybe more": it is filled completely, ending in a
    // truncated entry, so callers can tell it from the end of the directory.
    let sizes: Vec<String> = [1usize, 8, 23, 24, 25, 26, 40, 60]
        .iter()
        .map(|&b| {
            let mut buf = vec![0u8; b];
            match fd_readdir(small, &mut buf, 0) {
                Ok(n) => format!("{b}->{n}"),
                Err(e) => format!("{b}->{}", e.name()),
            }
        })
        .collect();
    t.case(
        "fd_readdir small buffers are filled completely",
        format!("ok {}", sizes.join(" ")),
    );
    // Changes show up in the next listing from cookie 0.
    mkfile(small, "later", b"");
    t.case(
        "fd_readdir lists a file created after opening",
        okv(walk(small, 4096), |(e, _)| listing(&e)),
    );
    let _ = path_unlink_file(small, "later");
    let _ = path_unlink_file(small, "dangling");
    t.case(
        "fd_readdir no longer lists removed entries",
        okv(walk(small, 4096), |(e, _)| listing(&e)),
    );
    let _ = fd_close(small);

    // Many entries with names of 1..=30 bytes: every buffer size gives every
    // entry exactly once.
    mkdir(d, "many");
    let many = must(opendir(d, "many"), "open many");
    for i in 0..30usize {
        let name = format!("{}{}", (b'a' + (i % 26) as u8) as char, "x".repeat(i));
        mkfile(many, &name, b"");
    }
    mkdir(many, "zdir");
    must(path_symlink("a", many, "zlink"), "symlink zlink");
    let reference = match walk(many, 65536) {
        Ok((ents, c)) => {
            t.case(
                "fd_readdir many entries with a large buffer",
                format!("ok entries={} consistent={}", ents.len(), bools(c)),
            );
            sorted_names(&ents)
        }
        Err(e) => {
            t.case("fd_readdir many entries with a large buffer", e.name());
            Vec::new()
        }
    };
    let mut unique = reference.clone();
    unique.dedup();
    t.case(
        "fd_readdir many entries are unique and include . and ..",
        format!(
            "ok unique={} dot={} dotdot={}",
            bools(unique.len() == reference.len()),
            bools(reference.iter().any(|n| n == b".")),
            bools(reference.iter().any(|n| n == b".."))
        ),
    );
    let mut sizes: Vec<usize> = (1..=64).collect();
    sizes.extend([80, 100, 128, 200, 256, 512, 4096]);
    let mut failures = Vec::new();
    let mut all_consistent = true;
    for &b in &sizes {
        match walk(many, b) {
            Ok((ents, c)) => {
                all_consistent &= c;
                let names = sorted_names(&ents);
                if names != reference {
                    let missing = reference.iter().filter(|n| !names.contains(n)).count();
                    let extra = names.len() as i64 - reference.len() as i64 + missing as i64;
                    failures.push(format!("b={b}:missing={missing},extra={extra}"));
                }
            }
            Err(e) => failures.push(format!("b={b}:{}", e.name())),
        }
    }
    t.case(
        "fd_readdir cookie walk with every buffer size",
        if failures.is_empty() {
            format!("ok sizes={} every_entry_once=true", sizes.len())
        } else {
            format!("lost or repeated entries {}", failures.join(" "))
        },
    );
    t.case(
        "fd_readdir truncated entries are prefixes of whole ones",
        format!("ok {}", bools(all_consistent)),
    );
    let _ = fd_close(many);

    // The preopen itself: only /w was created in it.
    t.case(
        "fd_readdir preopen",
        okv(walk(ROOT, 4096), |(e, _)| listing(&e)),
    );
    let f = must(
        path_open(d, 0, "empty/f", OFLAGS_CREAT, RW, RW, 0),
        "create empty/f",
    );
    t.case(
        "fd_readdir file descriptor",
        st(&fd_readdir(f, &mut [0; 64], 0)),
    );
    let _ = fd_close(f);
    t.case("fd_readdir closed fd", st(&fd_readdir(f, &mut [0; 64], 0)));
    let _ = fd_close(d);
}

// ---------------------------------------------------------------------------

fn mkdirs(t: &mut Transcript) {
    let d = section_dir("mk");
    mkfile(d, "f", b"");
    must(path_symlink("f", d, "lf"), "symlink lf");
    t.case(
        "path_create_directory new",
        st(&path_create_directory(d, "a")),
    );
    t.case("path_create_directory new is a directory", exists(d, "a"));
    t.case(
        "path_create_directory nested",
        st(&path_create_directory(d, "a/b")),
    );
    t.case(
        "path_create_directory existing directory",
        st(&path_create_directory(d, "a")),
    );
    t.case(
        "path_create_directory existing file",
        st(&path_create_directory(d, "f")),
    );
    t.case(
        "path_create_directory existing symlink",
        st(&path_create_directory(d, "lf")),
    );
    t.case(
        "path_create_directory missing parent",
        st(&path_create_directory(d, "x/y")),
    );
    t.case(
        "path_create_directory under a file",
        st(&path_create_directory(d, "f/y")),
    );
    t.case(
        "path_create_directory trailing slash",
        st(&path_create_directory(d, "c/")),
    );
    t.case(
        "path_create_directory trailing slash made it",
        exists(d, "c"),
    );
    t.case(
        "path_create_directory with . and ..",
        st(&path_create_directory(d, "a/../a/./e")),
    );
    t.case(
        "path_create_directory .",
        st(&path_create_directory(d, ".")),
    );
    t.case(
        "path_create_directory empty path",
        st(&path_create_directory(d, "")),
    );
    t.case(
        "path_create_directory escaping",
        st(&path_create_directory(d, "../mk_escaped")),
    );
    t.case(
        "path_create_directory absolute",
        st(&path_create_directory(d, "/w/mk/abs")),
    );
    t.case(
        "path_create_directory 256-byte name",
        st(&path_create_directory(d, "d".repeat(256))),
    );
    t.case(
        "path_create_directory closed fd",
        st(&path_create_directory(NEVER_OPENED, "z")),
    );
    let _ = fd_close(d);
}

fn links(t: &mut Transcript) {
    let d = section_dir("ln");
    mkfile(d, "f", b"linked");
    mkdir(d, "sub");
    t.case("path_link file", st(&path_link(d, 0, "f", d, "l")));
    let same = match (lstat(d, "f"), lstat(d, "l")) {
        (Ok(a), Ok(b)) => format!(
            "ok ino_equal={} dev_equal={} nlink={},{} size={}",
            bools(a.ino == b.ino),
            bools(a.dev == b.dev),
            a.nlink,
            b.nlink,
            b.size
        ),
        (a, b) => format!("{} {}", st(&a), st(&b)),
    };
    t.case("path_link both names are one file", same);
    let l = must(open_rw(d, "l"), "open l");
    let _ = fd_pwrite(l, b"L", 0);
    t.case(
        "path_link write through one name shows in the other",
        cat(d, "f"),
    );
    t.case(
        "fd_filestat_get nlink through the link",
        okv(fd_filestat_get(l), |s| format!("nlink={}", s.nlink)),
    );
    let _ = fd_close(l);
    t.case(
        "path_link into a subdirectory through another descriptor",
        {
            let sub = must(opendir(d, "sub"), "open sub");
            let r = st(&path_link(d, 0, "f", sub, "l2"));
            let _ = fd_close(sub);
            r
        },
    );
    t.case(
        "path_link three names",
        okv(lstat(d, "f"), |s| format!("nlink={}", s.nlink)),
    );
    t.case(
        "path_link onto existing file",
        st(&path_link(d, 0, "f", d, "l")),
    );
    t.case("path_link onto itself", st(&path_link(d, 0, "f", d, "f")));
    t.case(
        "path_link onto existing directory",
        st(&path_link(d, 0, "f", d, "sub")),
    );
    // Hard links to directories are not allowed (Linux EPERM).
    t.case(
        "path_link directory",
        st(&path_link(d, 0, "sub", d, "subl")),
    );
    t.case(
        "path_link missing source",
        st(&path_link(d, 0, "missing", d, "x")),
    );
    t.case(
        "path_link source with trailing slash",
        st(&path_link(d, 0, "f/", d, "x")),
    );
    t.case(
        "path_link new name with trailing slash",
        st(&path_link(d, 0, "f", d, "x/")),
    );
    t.case(
        "path_link into missing directory",
        st(&path_link(d, 0, "f", d, "nodir/x")),
    );
    t.case(
        "path_link new name escaping",
        st(&path_link(d, 0, "f", d, "../ln_escaped")),
    );
    t.case(
        "path_link source escaping",
        st(&path_link(d, 0, "../ln/f", d, "x")),
    );
    t.case(
        "path_link absolute source",
        st(&path_link(d, 0, "/w/ln/f", d, "x")),
    );
    // wasmtime: SYMLINK_FOLLOW is refused with EINVAL.
    t.case(
        "path_link with SYMLINK_FOLLOW",
        st(&path_link(d, LOOKUP_FOLLOW, "f", d, "x")),
    );
    // Linking a symlink links the symlink itself (official suite path_link).
    must(path_symlink("target", d, "dangling"), "symlink dangling");
    t.case(
        "path_link dangling symlink",
        st(&path_link(d, 0, "dangling", d, "dl")),
    );
    t.case(
        "path_link of a symlink is a symlink",
        stat_str(lstat(d, "dl")),
    );
    t.case(
        "path_link onto dangling symlink",
        st(&path_link(d, 0, "f", d, "dangling")),
    );
    must(path_symlink("selfloop", d, "selfloop"), "symlink selfloop");
    t.case(
        "path_link symlink loop",
        st(&path_link(d, 0, "selfloop", d, "loopl")),
    );
    // Unlinking names: the file lives while a name or a descriptor is left.
    t.case(
        "path_unlink_file one of three names",
        st(&path_unlink_file(d, "l")),
    );
    t.case(
        "path_filestat_get nlink after unlinking one name",
        okv(lstat(d, "f"), |s| format!("nlink={}", s.nlink)),
    );
    let f = must(open_rw(d, "f"), "open f");
    let _ = path_unlink_file(d, "sub/l2");
    t.case("path_unlink_file open file", st(&path_unlink_file(d, "f")));
    t.case("path_filestat_get unlinked name", stat_str(lstat(d, "f")));
    t.case(
        "fd_filestat_get unlinked open file",
        okv(fd_filestat_get(f), |s| describe_stat(&s)),
    );
    t.case(
        "fd_pread unlinked open file",
        okv(pread_all(f, 32, 0), |c| bstr(&c)),
    );
    t.case(
        "fd_pwrite unlinked open file",
        okv(fd_pwrite(f, b"still", 0), |n| format!("n={n}")),
    );
    let _ = fd_close(f);
    let _ = fd_close(d);
}

fn renames(t: &mut Transcript) {
    let d = section_dir("ren");
    mkfile(d, "a", b"A");
    let ino_a = lstat(d, "a").map(|s| s.ino);
    t.case(
        "path_rename file to new name",
        st(&path_rename(d, "a", d, "b")),
    );
    t.case("path_rename old name is gone", exists(d, "a"));
    t.case(
        "path_rename keeps the inode and content",
        match lstat(d, "b") {
            Ok(s) => format!(
                "ok ino_equal={} content={}",
                bools(Ok(s.ino) == ino_a),
                cat(d, "b")
            ),
            Err(e) => e.name(),
        },
    );
    mkfile(d, "c", b"C");
    t.case(
        "path_rename file over file",
        st(&path_rename(d, "b", d, "c")),
    );
    t.case(
        "path_rename file over file replaced the content",
        cat(d, "c"),
    );
    t.case(
        "path_rename file over file removed the source",
        exists(d, "b"),
    );
    t.case(
        "path_rename file onto itself",
        st(&path_rename(d, "c", d, "c")),
    );
    t.case("path_rename file onto itself keeps it", cat(d, "c"));
    t.case(
        "path_rename missing source",
        st(&path_rename(d, "missing", d, "x")),
    );
    t.case(
        "path_rename into missing directory",
        st(&path_rename(d, "c", d, "nodir/c")),
    );
    t.case(
        "path_rename source with trailing slash",
        st(&path_rename(d, "c/", d, "x")),
    );
    // Linux: a trailing slash on the new name of a file is ENOTDIR.
    t.case(
        "path_rename file to a name with trailing slash",
        st(&path_rename(d, "c", d, "x/")),
    );
    t.case("path_rename empty source", st(&path_rename(d, "", d, "x")));

    mkdir(d, "d1");
    mkdir(d, "d2");
    mkdir(d, "full");
    mkfile(d, "full/inner", b"");
    mkdir(d, "d1/child");
    t.case(
        "path_rename directory to new name",
        st(&path_rename(d, "d1", d, "dd")),
    );
    t.case(
        "path_rename directory moved its contents",
        exists(d, "dd/child"),
    );
    t.case(
        "path_rename directory over empty directory",
        st(&path_rename(d, "dd", d, "d2")),
    );
    t.case(
        "path_rename directory over empty directory result",
        exists(d, "d2/child"),
    );
    t.case(
        "path_rename directory over non-empty directory",
        st(&path_rename(d, "d2", d, "full")),
    );
    t.case(
        "path_rename file over directory",
        st(&path_rename(d, "c", d, "full")),
    );
    t.case(
        "path_rename directory over file",
        st(&path_rename(d, "d2", d, "c")),
    );
    t.case(
        "path_rename directory into its own subdirectory",
        st(&path_rename(d, "d2", d, "d2/child/x")),
    );
    t.case(
        "path_rename directory onto itself",
        st(&path_rename(d, "d2", d, "d2")),
    );
    // The official suite's path_rename_dir_trailing_slashes.
    t.case(
        "path_rename directory source with trailing slash",
        st(&path_rename(d, "d2/", d, "d3")),
    );
    t.case(
        "path_rename directory new name with trailing slash",
        st(&path_rename(d, "d3", d, "d2/")),
    );
    t.case(
        "path_rename directory both with trailing slashes",
        st(&path_rename(d, "d2/", d, "d3/")),
    );
    // Linux: EBUSY.
    t.case(
        "path_rename . as source",
        st(&path_rename(d, ".", d, "dot")),
    );
    t.case(
        "path_rename new name escaping",
        st(&path_rename(d, "c", d, "../ren_escaped")),
    );
    t.case(
        "path_rename source escaping",
        st(&path_rename(d, "../ren/c", d, "x")),
    );
    t.case(
        "path_rename absolute new name",
        st(&path_rename(d, "c", d, "/w/ren/x")),
    );
    // Between two directory descriptors.
    let sub = must(opendir(d, "full"), "open full");
    t.case(
        "path_rename into another directory descriptor",
        st(&path_rename(d, "c", sub, "moved")),
    );
    t.case(
        "path_rename from another directory descriptor",
        st(&path_rename(sub, "moved", d, "c")),
    );
    t.case("path_rename between descriptors round trip", cat(d, "c"));
    let _ = fd_close(sub);
    // Open descriptors follow the file, not the name.
    let c = must(open_rw(d, "c"), "open c");
    t.case("path_rename open file", st(&path_rename(d, "c", d, "c2")));
    t.case(
        "fd_pread renamed open file",
        okv(pread_all(c, 16, 0), |b| bstr(&b)),
    );
    mkfile(d, "victim", b"old victim");
    let v = must(open_rw(d, "victim"), "open victim");
    t.case(
        "path_rename over an open file",
        st(&path_rename(d, "c2", d, "victim")),
    );
    t.case(
        "fd_pread replaced file still has old content",
        okv(pread_all(v, 32, 0), |b| bstr(&b)),
    );
    t.case(
        "fd_filestat_get replaced file has no links",
        okv(fd_filestat_get(v), |s| describe_stat(&s)),
    );
    t.case(
        "path_rename over an open file new content",
        cat(d, "victim"),
    );
    let _ = fd_close(v);
    let _ = fd_close(c);
    // Symlinks are renamed, not their targets.
    must(path_symlink("victim", d, "sl"), "symlink sl");
    t.case("path_rename symlink", st(&path_rename(d, "sl", d, "sl2")));
    t.case(
        "path_rename symlink keeps its target text",
        readlink_str(d, "sl2"),
    );
    mkfile(d, "plain", b"plain");
    t.case(
        "path_rename file over symlink",
        st(&path_rename(d, "plain", d, "sl2")),
    );
    t.case(
        "path_rename file over symlink replaced the link",
        stat_str(lstat(d, "sl2")),
    );
    t.case(
        "path_rename file over symlink left the link's target",
        cat(d, "victim"),
    );
    // POSIX: renaming a name onto another name of the same file does nothing.
    must(path_link(d, 0, "victim", d, "hard"), "link hard");
    t.case(
        "path_rename onto another hard link of the same file",
        st(&path_rename(d, "victim", d, "hard")),
    );
    t.case(
        "path_rename same-file rename kept both names",
        format!("{} | {}", exists(d, "victim"), exists(d, "hard")),
    );
    let f = must(open_rw(d, "hard"), "open hard");
    t.case(
        "path_rename relative to a file descriptor",
        st(&path_rename(f, "x", d, "y")),
    );
    let _ = fd_close(f);
    let _ = fd_close(d);
}

fn removals(t: &mut Transcript) {
    let d = section_dir("rm");
    mkfile(d, "f", b"");
    mkdir(d, "dir");
    mkdir(d, "full");
    mkfile(d, "full/x", b"");
    mkdir(d, "nest");
    mkdir(d, "nest/inner");
    must(path_symlink("dir", d, "ldir"), "symlink ldir");

    t.case(
        "path_unlink_file missing",
        st(&path_unlink_file(d, "missing")),
    );
    // Linux: EISDIR (macOS gives EPERM).
    t.case(
        "path_unlink_file directory",
        st(&path_unlink_file(d, "dir")),
    );
    t.case(
        "path_unlink_file directory with trailing slash",
        st(&path_unlink_file(d, "dir/")),
    );
    t.case(
        "path_unlink_file file with trailing slash",
        st(&path_unlink_file(d, "f/")),
    );
    // Linux: EISDIR for `.` and for a directory symlink with a trailing slash.
    t.case("path_unlink_file .", st(&path_unlink_file(d, ".")));
    t.case("path_unlink_file empty path", st(&path_unlink_file(d, "")));
    t.case(
        "path_unlink_file escaping",
        st(&path_unlink_file(d, "../rm/f")),
    );
    t.case(
        "path_unlink_file absolute",
        st(&path_unlink_file(d, "/w/rm/f")),
    );
    t.case(
        "path_unlink_file directory symlink with trailing slash",
        st(&path_unlink_file(d, "ldir/")),
    );
    t.case("path_unlink_file file", st(&path_unlink_file(d, "f")));
    t.case("path_unlink_file file is gone", exists(d, "f"));
    t.case("path_unlink_file twice", st(&path_unlink_file(d, "f")));
    t.case(
        "path_unlink_file nested",
        st(&path_unlink_file(d, "full/x")),
    );

    mkfile(d, "f", b"");
    t.case(
        "path_remove_directory file",
        st(&path_remove_directory(d, "f")),
    );
    t.case(
        "path_remove_directory file with trailing slash",
        st(&path_remove_directory(d, "f/")),
    );
    t.case(
        "path_remove_directory missing",
        st(&path_remove_directory(d, "missing")),
    );
    t.case(
        "path_remove_directory directory symlink",
        st(&path_remove_directory(d, "ldir")),
    );
    t.case(
        "path_remove_directory non-empty",
        st(&path_remove_directory(d, "nest")),
    );
    t.case(
        "path_remove_directory inner",
        st(&path_remove_directory(d, "nest/inner")),
    );
    t.case(
        "path_remove_directory now empty",
        st(&path_remove_directory(d, "nest")),
    );
    t.case("path_remove_directory is gone", exists(d, "nest"));
    // Linux: EINVAL.
    t.case(
        "path_remove_directory .",
        st(&path_remove_directory(d, ".")),
    );
    t.case(
        "path_remove_directory empty path",
        st(&path_remove_directory(d, "")),
    );
    t.case(
        "path_remove_directory escaping",
        st(&path_remove_directory(d, "../rm/dir")),
    );
    t.case(
        "path_remove_directory absolute",
        st(&path_remove_directory(d, "/w/rm/dir")),
    );
    mkdir(d, "slash");
    // wasmtime: EINVAL for a trailing slash (the official suite accepts that
    // or success), although path_create_directory and path_rename take one.
    t.case(
        "path_remove_directory with trailing slash",
        st(&path_remove_directory(d, "slash/")),
    );
    t.case(
        "path_remove_directory with trailing slash result",
        exists(d, "slash"),
    );
    mkdir(d, "withlink");
    must(
        path_symlink("nowhere", d, "withlink/l"),
        "symlink withlink/l",
    );
    t.case(
        "path_remove_directory holding only a dangling symlink",
        st(&path_remove_directory(d, "withlink")),
    );
    // An open directory can be removed.
    mkdir(d, "opened");
    let o = must(opendir(d, "opened"), "open opened");
    t.case(
        "path_remove_directory open directory",
        st(&path_remove_directory(d, "opened")),
    );
    t.case(
        "path_create_directory inside a removed directory",
        st(&path_create_directory(o, "x")),
    );
    let _ = fd_close(o);
    let _ = path_unlink_file(d, "ldir");
    t.case(
        "path_remove_directory after unlinking its symlink",
        st(&path_remove_directory(d, "dir")),
    );
    t.case("path_remove_directory file descriptor as base", {
        let f = must(open_rw(d, "f"), "open f");
        let r = st(&path_remove_directory(f, "x"));
        let _ = fd_close(f);
        r
    });
    let _ = fd_close(d);
}

fn closed_fds(t: &mut Transcript) {
    let d = section_dir("closed");
    mkfile(d, "f", b"x");
    let f = must(open_rw(d, "f"), "open f");
    t.case("fd_close file", st(&fd_close(f)));
    t.case("fd_close twice", st(&fd_close(f)));
    t.case("fd_close never-opened fd", st(&fd_close(NEVER_OPENED)));
    // Every call on a closed descriptor is EBADF.
    t.case("fd_read closed fd", st(&fd_read(f, &mut [0; 4])));
    t.case("fd_write closed fd", st(&fd_write(f, b"x")));
    t.case("fd_seek closed fd", st(&fd_seek(f, 0, WHENCE_SET)));
    t.case("fd_tell closed fd", st(&fd_tell(f)));
    t.case("fd_fdstat_get closed fd", st(&fd_fdstat_get(f)));
    t.case("fd_sync closed fd", st(&fd_sync(f)));
    t.case("fd_datasync closed fd", st(&fd_datasync(f)));
    t.case(
        "fd_advise closed fd",
        st(&fd_advise(f, 0, 0, ADVICE_NORMAL)),
    );
    t.case("fd_allocate closed fd", st(&fd_allocate(f, 0, 1)));
    t.case(
        "fd_filestat_set_size closed fd",
        st(&fd_filestat_set_size(f, 0)),
    );
    t.case("fd_prestat_get closed fd", st(&fd_prestat_get(f)));
    t.case(
        "path_filestat_get closed fd",
        st(&path_filestat_get(f, 0, "f")),
    );
    t.case(
        "path_filestat_set_times closed fd",
        st(&path_filestat_set_times(f, 0, "f", T1, T1, FST_ATIM)),
    );
    t.case(
        "path_link closed source fd",
        st(&path_link(f, 0, "f", d, "g")),
    );
    t.case(
        "path_link closed target fd",
        st(&path_link(d, 0, "f", f, "g")),
    );
    t.case(
        "path_readlink closed fd",
        st(&path_readlink(f, "f", &mut [0; 8])),
    );
    t.case(
        "path_remove_directory closed fd",
        st(&path_remove_directory(f, "x")),
    );
    t.case(
        "path_rename closed source fd",
        st(&path_rename(f, "f", d, "g")),
    );
    t.case(
        "path_rename closed target fd",
        st(&path_rename(d, "f", f, "g")),
    );
    t.case("path_symlink closed fd", st(&path_symlink("f", f, "g")));
    t.case("path_unlink_file closed fd", st(&path_unlink_file(f, "f")));
    t.case("path_unlink_file closed fd left the file", exists(d, "f"));
    // A closed directory descriptor too.
    let sub = section_dir("closed2");
    let _ = fd_close(sub);
    t.case(
        "path_create_directory closed directory fd",
        st(&path_create_directory(sub, "x")),
    );
    t.case(
        "fd_readdir closed directory fd",
        st(&fd_readdir(sub, &mut [0; 64], 0)),
    );
    let _ = fd_close(d);
}

fn renumbering(t: &mut Transcript) {
    let d = section_dir("renum");
    mkfile(d, "one", b"one");
    mkfile(d, "two", b"two");
    let a = must(
        path_open(d, 0, "one", 0, RW, RW, FDFLAGS_APPEND),
        "open one",
    );
    let b = must(open_rw(d, "two"), "open two");
    let _ = fd_seek(a, 1, WHENCE_SET);
    let before = fd_fdstat_get(a);
    t.case("fd_renumber onto an open fd", st(&fd_renumber(a, b)));
    t.case("fd_renumber source is closed", st(&fd_fdstat_get(a)));
    t.case("fd_close renumbered source", st(&fd_close(a)));
    t.case(
        "fd_renumber target keeps flags and rights",
        match (before, fd_fdstat_get(b)) {
            (Ok(x), Ok(y)) => format!(
                "ok same={} flags={}",
                bools(
                    x.flags == y.flags
                        && x.filetype == y.filetype
                        && x.rights_base == y.rights_base
                ),
                fdflags_name(y.flags)
            ),
            (x, y) => format!("{} {}", st(&x), st(&y)),
        },
    );
    t.case(
        "fd_renumber target keeps the position",
        okv(fd_tell(b), |p| format!("pos={p}")),
    );
    t.case(
        "fd_renumber target is the source's file",
        okv(pread_all(b, 16, 0), |c| bstr(&c)),
    );
    t.case("fd_renumber old target's file is untouched", cat(d, "two"));
    t.case("fd_renumber onto itself", st(&fd_renumber(b, b)));
    t.case(
        "fd_renumber onto itself keeps it open",
        st(&fd_fdstat_get(b)),
    );
    t.case("fd_renumber onto a closed fd", st(&fd_renumber(b, a)));
    t.case(
        "fd_renumber onto a never-opened fd",
        st(&fd_renumber(b, NEVER_OPENED)),
    );
    t.case("fd_renumber from a closed fd", st(&fd_renumber(a, b)));
    t.case(
        "fd_renumber failure left the source open",
        st(&fd_fdstat_get(b)),
    );
    // A directory descriptor keeps working under its new number.
    let sub = section_dir("renum2");
    let c = must(open_rw(d, "two"), "open two");
    t.case(
        "fd_renumber directory onto a file fd",
        st(&fd_renumber(sub, c)),
    );
    t.case(
        "fd_renumber directory works under the new number",
        st(&path_create_directory(c, "made")),
    );
    t.case(
        "fd_renumber directory made it",
        exists(ROOT, "w/renum2/made"),
    );
    t.case(
        "fd_renumber renumbered directory is not a preopen",
        st(&fd_prestat_get(c)),
    );
    let _ = fd_close(c);
    // Over stdin (the official suite's stdio test renumbers stdio away).
    let e = must(open_rw(d, "one"), "open one");
    t.case("fd_renumber file onto stdin", st(&fd_renumber(e, 0)));
    t.case(
        "fd_fdstat_get stdin is now the file",
        okv(fd_fdstat_get(0), |s| format!("type={}", ft(s.filetype))),
    );
    t.case(
        "fd_read stdin reads the file",
        okv(read_to_end(0), |c| bstr(&c)),
    );
    // And stdin renumbered away (the official suite's stdio).
    let g = must(open_rw(d, "two"), "open two");
    t.case("fd_renumber stdin onto another fd", st(&fd_renumber(0, g)));
    t.case(
        "fd_fdstat_get stdin after renumbering it away",
        st(&fd_fdstat_get(0)),
    );
    t.case(
        "fd_pread renumbered stdin",
        okv(pread_all(g, 16, 0), |c| bstr(&c)),
    );
    let _ = fd_close(g);
    let _ = fd_close(b);
    let _ = fd_close(d);
}

/// Path strings that are not valid: these are errnos, not traps.
fn bad_strings(t: &mut Transcript) {
    let d = section_dir("strings");
    mkfile(d, "f", b"x");
    t.case(
        "path_symlink invalid UTF-8 target",
        st(&path_symlink(b"\xff", d, "g")),
    );
    t.case(
        "path_symlink invalid UTF-8 link name",
        st(&path_symlink("f", d, b"\xff")),
    );
    t.case(
        "path_create_directory invalid UTF-8",
        st(&path_create_directory(d, b"\xfe\xff")),
    );
    t.case(
        "path_unlink_file invalid UTF-8",
        st(&path_unlink_file(d, b"\xff")),
    );
    t.case(
        "path_rename invalid UTF-8",
        st(&path_rename(d, "f", d, b"\xff")),
    );
    t.case(
        "path_link invalid UTF-8",
        st(&path_link(d, 0, "f", d, b"\xff")),
    );
    t.case(
        "path_readlink invalid UTF-8",
        st(&path_readlink(d, b"\xff", &mut [0; 8])),
    );
    t.case(
        "path_remove_directory invalid UTF-8",
        st(&path_remove_directory(d, b"\xff")),
    );
    t.case(
        "path_filestat_get invalid UTF-8",
        st(&path_filestat_get(d, 0, b"\xff")),
    );
    t.case(
        "path_filestat_set_times invalid UTF-8",
        st(&path_filestat_set_times(d, 0, b"\xff", T1, T1, FST_ATIM)),
    );
    t.case(
        "path_filestat_get NUL byte",
        st(&path_filestat_get(d, 0, b"f\0x")),
    );
    t.case(
        "path_create_directory NUL byte",
        st(&path_create_directory(d, b"a\0b")),
    );
    let _ = fd_close(d);
}

/// Last, because they take the preopen away.
fn preopen_last(t: &mut Transcript) {
    // The official suite's path_open_preopen: `.` of the preopen opens with
    // the preopen's own rights, with none, and with DIRECTORY.
    let pre = must(fd_fdstat_get(ROOT), "fdstat of the preopen");
    t.case(
        "path_open . of the preopen with its own rights",
        opened(path_open(
            ROOT,
            0,
            ".",
            0,
            pre.rights_base,
            pre.rights_inheriting,
            0,
        )),
    );
    t.case(
        "path_open . of the preopen with no rights",
        opened(path_open(ROOT, 0, ".", 0, 0, 0, 0)),
    );
    t.case(
        "path_open . of the preopen with DIRECTORY and FD_READ",
        opened(path_open(
            ROOT,
            0,
            ".",
            OFLAGS_DIRECTORY,
            RIGHTS_FD_READ,
            0,
            0,
        )),
    );
    t.case(
        "path_open . of the preopen with DIRECTORY and FD_WRITE",
        opened(path_open(
            ROOT,
            0,
            ".",
            OFLAGS_DIRECTORY,
            RIGHTS_FD_READ | RIGHTS_FD_WRITE,
            0,
            0,
        )),
    );
    let f = must(
        path_open(ROOT, 0, "w/last", OFLAGS_CREAT, RW, RW, 0),
        "create w/last",
    );
    t.case(
        "fd_renumber preopen onto another fd",
        st(&fd_renumber(ROOT, f)),
    );
    t.case(
        "fd_prestat_get preopen under its new number",
        okv(fd_prestat_get(f), |p| format!("name_len={}", p.name_len)),
    );
    let mut name = [0u8; 1];
    let r = fd_prestat_dir_name(f, &mut name);
    t.case(
        "fd_prestat_dir_name preopen under its new number",
        okv(r, |_| bstr(&name)),
    );
    t.case(
        "fd_fdstat_get renumbered preopen",
        okv(fd_fdstat_get(f), |s| describe_fdstat(&s)),
    );
    t.case(
        "fd_prestat_get old preopen number",
        st(&fd_prestat_get(ROOT)),
    );
    t.case(
        "path_filestat_get through the renumbered preopen",
        stat_str(lstat(f, "w")),
    );
    // The official suite's overwrite_preopen: renumbering a directory over
    // the preopen leaves a plain directory descriptor there.
    let w = must(opendir(f, "w"), "open w");
    t.case(
        "fd_renumber directory over the preopen",
        st(&fd_renumber(w, f)),
    );
    t.case("fd_prestat_get overwritten preopen", st(&fd_prestat_get(f)));
    t.case(
        "fd_fdstat_get overwritten preopen",
        okv(fd_fdstat_get(f), |s| describe_fdstat(&s)),
    );
    t.case(
        "path_filestat_get relative to the overwriting directory",
        stat_str(lstat(f, "last")),
    );
    // The official suite's close_preopen.
    t.case("fd_close preopen", st(&fd_close(f)));
    t.case("fd_prestat_get closed preopen", st(&fd_prestat_get(f)));
    t.case("fd_fdstat_get closed preopen", st(&fd_fdstat_get(f)));
}
