//! The WASI preview1 filesystem imports, declared by hand, with small safe
//! wrappers returning `Result<T, Errno>`.
//!
//! Flag and enum arguments are passed as raw integers on purpose: the fixture
//! also checks how an implementation rejects invalid values (unknown flag
//! bits, out-of-range `whence`/`advice`). Paths are byte slices so that
//! invalid UTF-8 and embedded NULs can be passed too.

#![allow(dead_code)]

pub type Fd = u32;

/// A preview1 errno (never 0: success is `Ok`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub u16);

const ERRNO_NAMES: [&str; 77] = [
    "SUCCESS",
    "2BIG",
    "ACCES",
    "ADDRINUSE",
    "ADDRNOTAVAIL",
    "AFNOSUPPORT",
    "AGAIN",
    "ALREADY",
    "BADF",
    "BADMSG",
    "BUSY",
    "CANCELED",
    "CHILD",
    "CONNABORTED",
    "CONNREFUSED",
    "CONNRESET",
    "DEADLK",
    "DESTADDRREQ",
    "DOM",
    "DQUOT",
    "EXIST",
    "FAULT",
    "FBIG",
    "HOSTUNREACH",
    "IDRM",
    "ILSEQ",
    "INPROGRESS",
    "INTR",
    "INVAL",
    "IO",
    "ISCONN",
    "ISDIR",
    "LOOP",
    "MFILE",
    "MLINK",
    "MSGSIZE",
    "MULTIHOP",
    "NAMETOOLONG",
    "NETDOWN",
    "NETRESET",
    "NETUNREACH",
    "NFILE",
    "NOBUFS",
    "NODEV",
    "NOENT",
    "NOEXEC",
    "NOLCK",
    "NOLINK",
    "NOMEM",
    "NOMSG",
    "NOPROTOOPT",
    "NOSPC",
    "NOSYS",
    "NOTCONN",
    "NOTDIR",
    "NOTEMPTY",
    "NOTRECOVERABLE",
    "NOTSOCK",
    "NOTSUP",
    "NOTTY",
    "NXIO",
    "OVERFLOW",
    "OWNERDEAD",
    "PERM",
    "PIPE",
    "PROTO",
    "PROTONOSUPPORT",
    "PROTOTYPE",
    "RANGE",
    "ROFS",
    "SPIPE",
    "SRCH",
    "STALE",
    "TIMEDOUT",
    "TXTBSY",
    "XDEV",
    "NOTCAPABLE",
];

impl Errno {
    /// `ENOENT`, `E2BIG`, ... (`E<number>` for values preview1 does not define).
    pub fn name(self) -> String {
        match ERRNO_NAMES.get(self.0 as usize) {
            Some(n) => format!("E{n}"),
            None => format!("E{}", self.0),
        }
    }
}

pub type R<T> = Result<T, Errno>;

// Filetype
pub const FILETYPE_UNKNOWN: u8 = 0;
pub const FILETYPE_BLOCK_DEVICE: u8 = 1;
pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub const FILETYPE_DIRECTORY: u8 = 3;
pub const FILETYPE_REGULAR_FILE: u8 = 4;
pub const FILETYPE_SOCKET_DGRAM: u8 = 5;
pub const FILETYPE_SOCKET_STREAM: u8 = 6;
pub const FILETYPE_SYMBOLIC_LINK: u8 = 7;

pub fn filetype_name(t: u8) -> String {
    match t {
        FILETYPE_UNKNOWN => "unknown".into(),
        FILETYPE_BLOCK_DEVICE => "block".into(),
        FILETYPE_CHARACTER_DEVICE => "char".into(),
        FILETYPE_DIRECTORY => "directory".into(),
        FILETYPE_REGULAR_FILE => "regular".into(),
        FILETYPE_SOCKET_DGRAM => "socket_dgram".into(),
        FILETYPE_SOCKET_STREAM => "socket_stream".into(),
        FILETYPE_SYMBOLIC_LINK => "symlink".into(),
        n => format!("filetype{n}"),
    }
}

// Fdflags
pub const FDFLAGS_APPEND: u16 = 1 << 0;
pub const FDFLAGS_DSYNC: u16 = 1 << 1;
pub const FDFLAGS_NONBLOCK: u16 = 1 << 2;
pub const FDFLAGS_RSYNC: u16 = 1 << 3;
pub const FDFLAGS_SYNC: u16 = 1 << 4;

pub fn fdflags_name(f: u16) -> String {
    let mut parts = Vec::new();
    for (bit, name) in [
        (FDFLAGS_APPEND, "APPEND"),
        (FDFLAGS_DSYNC, "DSYNC"),
        (FDFLAGS_NONBLOCK, "NONBLOCK"),
        (FDFLAGS_RSYNC, "RSYNC"),
        (FDFLAGS_SYNC, "SYNC"),
    ] {
        if f & bit != 0 {
            parts.push(name.to_string());
        }
    }
    let unknown = f & !0x1f;
    if unknown != 0 {
        parts.push(format!("{unknown:#x}"));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}

// Oflags
pub const OFLAGS_CREAT: u16 = 1 << 0;
pub const OFLAGS_DIRECTORY: u16 = 1 << 1;
pub const OFLAGS_EXCL: u16 = 1 << 2;
pub const OFLAGS_TRUNC: u16 = 1 << 3;

// Lookupflags
pub const LOOKUP_NOFOLLOW: u32 = 0;
pub const LOOKUP_FOLLOW: u32 = 1 << 0;

// Fstflags
pub const FST_ATIM: u16 = 1 << 0;
pub const FST_ATIM_NOW: u16 = 1 << 1;
pub const FST_MTIM: u16 = 1 << 2;
pub const FST_MTIM_NOW: u16 = 1 << 3;

// Whence
pub const WHENCE_SET: u8 = 0;
pub const WHENCE_CUR: u8 = 1;
pub const WHENCE_END: u8 = 2;

// Advice
pub const ADVICE_NORMAL: u8 = 0;
pub const ADVICE_SEQUENTIAL: u8 = 1;
pub const ADVICE_RANDOM: u8 = 2;
pub const ADVICE_WILLNEED: u8 = 3;
pub const ADVICE_DONTNEED: u8 = 4;
pub const ADVICE_NOREUSE: u8 = 5;

// Rights
pub const RIGHTS_FD_DATASYNC: u64 = 1 << 0;
pub const RIGHTS_FD_READ: u64 = 1 << 1;
pub const RIGHTS_FD_SEEK: u64 = 1 << 2;
pub const RIGHTS_FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
pub const RIGHTS_FD_SYNC: u64 = 1 << 4;
pub const RIGHTS_FD_TELL: u64 = 1 << 5;
pub const RIGHTS_FD_WRITE: u64 = 1 << 6;
pub const RIGHTS_FD_ADVISE: u64 = 1 << 7;
pub const RIGHTS_FD_ALLOCATE: u64 = 1 << 8;
pub const RIGHTS_PATH_CREATE_DIRECTORY: u64 = 1 << 9;
pub const RIGHTS_PATH_CREATE_FILE: u64 = 1 << 10;
pub const RIGHTS_PATH_LINK_SOURCE: u64 = 1 << 11;
pub const RIGHTS_PATH_LINK_TARGET: u64 = 1 << 12;
pub const RIGHTS_PATH_OPEN: u64 = 1 << 13;
pub const RIGHTS_FD_READDIR: u64 = 1 << 14;
pub const RIGHTS_PATH_READLINK: u64 = 1 << 15;
pub const RIGHTS_PATH_RENAME_SOURCE: u64 = 1 << 16;
pub const RIGHTS_PATH_RENAME_TARGET: u64 = 1 << 17;
pub const RIGHTS_PATH_FILESTAT_GET: u64 = 1 << 18;
pub const RIGHTS_PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
pub const RIGHTS_PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
pub const RIGHTS_FD_FILESTAT_GET: u64 = 1 << 21;
pub const RIGHTS_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
pub const RIGHTS_FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
pub const RIGHTS_PATH_SYMLINK: u64 = 1 << 24;
pub const RIGHTS_PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
pub const RIGHTS_PATH_UNLINK_FILE: u64 = 1 << 26;
pub const RIGHTS_POLL_FD_READWRITE: u64 = 1 << 27;
pub const RIGHTS_SOCK_SHUTDOWN: u64 = 1 << 28;
pub const RIGHTS_SOCK_ACCEPT: u64 = 1 << 29;
/// Every right preview1 defines.
pub const RIGHTS_ALL: u64 = (1 << 30) - 1;

pub const PREOPENTYPE_DIR: u8 = 0;

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Fdstat {
    pub filetype: u8,
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Prestat {
    pub tag: u8,
    pub name_len: u32,
}

#[repr(C)]
struct Iovec {
    buf: *mut u8,
    len: usize,
}

#[repr(C)]
struct Ciovec {
    buf: *const u8,
    len: usize,
}

/// The size of a dirent header in fd_readdir's output.
pub const DIRENT_SIZE: usize = 24;

mod raw {
    use super::{Ciovec, Fdstat, Filestat, Iovec, Prestat};

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32) -> i32;
        pub fn fd_allocate(fd: u32, offset: u64, len: u64) -> i32;
        pub fn fd_close(fd: u32) -> i32;
        pub fn fd_datasync(fd: u32) -> i32;
        pub fn fd_fdstat_get(fd: u32, out: *mut Fdstat) -> i32;
        pub fn fd_fdstat_set_flags(fd: u32, flags: u32) -> i32;
        pub fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> i32;
        pub fn fd_filestat_get(fd: u32, out: *mut Filestat) -> i32;
        pub fn fd_filestat_set_size(fd: u32, size: u64) -> i32;
        pub fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32) -> i32;
        pub fn fd_pread(fd: u32, iovs: *const Iovec, n: usize, offset: u64, out: *mut usize)
        -> i32;
        pub fn fd_prestat_get(fd: u32, out: *mut Prestat) -> i32;
        pub fn fd_prestat_dir_name(fd: u32, path: *mut u8, len: usize) -> i32;
        pub fn fd_pwrite(
            fd: u32,
            iovs: *const Ciovec,
            n: usize,
            offset: u64,
            out: *mut usize,
        ) -> i32;
        pub fn fd_read(fd: u32, iovs: *const Iovec, n: usize, out: *mut usize) -> i32;
        pub fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, out: *mut usize) -> i32;
        pub fn fd_renumber(fd: u32, to: u32) -> i32;
        pub fn fd_seek(fd: u32, offset: i64, whence: u32, out: *mut u64) -> i32;
        pub fn fd_sync(fd: u32) -> i32;
        pub fn fd_tell(fd: u32, out: *mut u64) -> i32;
        pub fn fd_write(fd: u32, iovs: *const Ciovec, n: usize, out: *mut usize) -> i32;
        pub fn path_create_directory(fd: u32, path: *const u8, len: usize) -> i32;
        pub fn path_filestat_get(
            fd: u32,
            flags: u32,
            path: *const u8,
            len: usize,
            out: *mut Filestat,
        ) -> i32;
        pub fn path_filestat_set_times(
            fd: u32,
            flags: u32,
            path: *const u8,
            len: usize,
            atim: u64,
            mtim: u64,
            fst_flags: u32,
        ) -> i32;
        pub fn path_link(
            old_fd: u32,
            old_flags: u32,
            old_path: *const u8,
            old_len: usize,
            new_fd: u32,
            new_path: *const u8,
            new_len: usize,
        ) -> i32;
        pub fn path_open(
            fd: u32,
            dirflags: u32,
            path: *const u8,
            len: usize,
            oflags: u32,
            rights_base: u64,
            rights_inheriting: u64,
            fdflags: u32,
            out: *mut u32,
        ) -> i32;
        pub fn path_readlink(
            fd: u32,
            path: *const u8,
            len: usize,
            buf: *mut u8,
            buf_len: usize,
            out: *mut usize,
        ) -> i32;
        pub fn path_remove_directory(fd: u32, path: *const u8, len: usize) -> i32;
        pub fn path_rename(
            fd: u32,
            old_path: *const u8,
            old_len: usize,
            new_fd: u32,
            new_path: *const u8,
            new_len: usize,
        ) -> i32;
        pub fn path_symlink(
            old_path: *const u8,
            old_len: usize,
            fd: u32,
            new_path: *const u8,
            new_len: usize,
        ) -> i32;
        pub fn path_unlink_file(fd: u32, path: *const u8, len: usize) -> i32;
    }
}

fn ck(rc: i32) -> R<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Errno(rc as u16))
    }
}

pub fn fd_advise(fd: Fd, offset: u64, len: u64, advice: u8) -> R<()> {
    ck(unsafe { raw::fd_advise(fd, offset, len, advice as u32) })
}

pub fn fd_allocate(fd: Fd, offset: u64, len: u64) -> R<()> {
    ck(unsafe { raw::fd_allocate(fd, offset, len) })
}

pub fn fd_close(fd: Fd) -> R<()> {
    ck(unsafe { raw::fd_close(fd) })
}

pub fn fd_datasync(fd: Fd) -> R<()> {
    ck(unsafe { raw::fd_datasync(fd) })
}

pub fn fd_fdstat_get(fd: Fd) -> R<Fdstat> {
    let mut out = Fdstat::default();
    ck(unsafe { raw::fd_fdstat_get(fd, &mut out) })?;
    Ok(out)
}

pub fn fd_fdstat_set_flags(fd: Fd, flags: u16) -> R<()> {
    ck(unsafe { raw::fd_fdstat_set_flags(fd, flags as u32) })
}

pub fn fd_fdstat_set_rights(fd: Fd, base: u64, inheriting: u64) -> R<()> {
    ck(unsafe { raw::fd_fdstat_set_rights(fd, base, inheriting) })
}

pub fn fd_filestat_get(fd: Fd) -> R<Filestat> {
    let mut out = Filestat::default();
    ck(unsafe { raw::fd_filestat_get(fd, &mut out) })?;
    Ok(out)
}

pub fn fd_filestat_set_size(fd: Fd, size: u64) -> R<()> {
    ck(unsafe { raw::fd_filestat_set_size(fd, size) })
}

pub fn fd_filestat_set_times(fd: Fd, atim: u64, mtim: u64, fst_flags: u16) -> R<()> {
    ck(unsafe { raw::fd_filestat_set_times(fd, atim, mtim, fst_flags as u32) })
}

fn iovecs(bufs: &mut [&mut [u8]]) -> Vec<Iovec> {
    bufs.iter_mut()
        .map(|b| Iovec {
            buf: b.as_mut_ptr(),
            len: b.len(),
        })
        .collect()
}

fn ciovecs(bufs: &[&[u8]]) -> Vec<Ciovec> {
    bufs.iter()
        .map(|b| Ciovec {
            buf: b.as_ptr(),
            len: b.len(),
        })
        .collect()
}

pub fn fd_preadv(fd: Fd, bufs: &mut [&mut [u8]], offset: u64) -> R<usize> {
    let iovs = iovecs(bufs);
    let mut n = 0;
    ck(unsafe { raw::fd_pread(fd, iovs.as_ptr(), iovs.len(), offset, &mut n) })?;
    Ok(n)
}

pub fn fd_pread(fd: Fd, buf: &mut [u8], offset: u64) -> R<usize> {
    fd_preadv(fd, &mut [buf], offset)
}

pub fn fd_prestat_get(fd: Fd) -> R<Prestat> {
    let mut out = Prestat::default();
    ck(unsafe { raw::fd_prestat_get(fd, &mut out) })?;
    Ok(out)
}

pub fn fd_prestat_dir_name(fd: Fd, buf: &mut [u8]) -> R<()> {
    ck(unsafe { raw::fd_prestat_dir_name(fd, buf.as_mut_ptr(), buf.len()) })
}

pub fn fd_pwritev(fd: Fd, bufs: &[&[u8]], offset: u64) -> R<usize> {
    let iovs = ciovecs(bufs);
    let mut n = 0;
    ck(unsafe { raw::fd_pwrite(fd, iovs.as_ptr(), iovs.len(), offset, &mut n) })?;
    Ok(n)
}

pub fn fd_pwrite(fd: Fd, buf: &[u8], offset: u64) -> R<usize> {
    fd_pwritev(fd, &[buf], offset)
}

pub fn fd_readv(fd: Fd, bufs: &mut [&mut [u8]]) -> R<usize> {
    let iovs = iovecs(bufs);
    let mut n = 0;
    ck(unsafe { raw::fd_read(fd, iovs.as_ptr(), iovs.len(), &mut n) })?;
    Ok(n)
}

pub fn fd_read(fd: Fd, buf: &mut [u8]) -> R<usize> {
    fd_readv(fd, &mut [buf])
}

pub fn fd_readdir(fd: Fd, buf: &mut [u8], cookie: u64) -> R<usize> {
    let mut n = 0;
    ck(unsafe { raw::fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie, &mut n) })?;
    Ok(n)
}

pub fn fd_renumber(fd: Fd, to: Fd) -> R<()> {
    ck(unsafe { raw::fd_renumber(fd, to) })
}

pub fn fd_seek(fd: Fd, offset: i64, whence: u8) -> R<u64> {
    let mut out = 0;
    ck(unsafe { raw::fd_seek(fd, offset, whence as u32, &mut out) })?;
    Ok(out)
}

pub fn fd_sync(fd: Fd) -> R<()> {
    ck(unsafe { raw::fd_sync(fd) })
}

pub fn fd_tell(fd: Fd) -> R<u64> {
    let mut out = 0;
    ck(unsafe { raw::fd_tell(fd, &mut out) })?;
    Ok(out)
}

pub fn fd_writev(fd: Fd, bufs: &[&[u8]]) -> R<usize> {
    let iovs = ciovecs(bufs);
    let mut n = 0;
    ck(unsafe { raw::fd_write(fd, iovs.as_ptr(), iovs.len(), &mut n) })?;
    Ok(n)
}

pub fn fd_write(fd: Fd, buf: &[u8]) -> R<usize> {
    fd_writev(fd, &[buf])
}

pub fn path_create_directory(fd: Fd, path: impl AsRef<[u8]>) -> R<()> {
    let p = path.as_ref();
    ck(unsafe { raw::path_create_directory(fd, p.as_ptr(), p.len()) })
}

pub fn path_filestat_get(fd: Fd, flags: u32, path: impl AsRef<[u8]>) -> R<Filestat> {
    let p = path.as_ref();
    let mut out = Filestat::default();
    ck(unsafe { raw::path_filestat_get(fd, flags, p.as_ptr(), p.len(), &mut out) })?;
    Ok(out)
}

pub fn path_filestat_set_times(
    fd: Fd,
    flags: u32,
    path: impl AsRef<[u8]>,
    atim: u64,
    mtim: u64,
    fst_flags: u16,
) -> R<()> {
    let p = path.as_ref();
    ck(unsafe {
        raw::path_filestat_set_times(fd, flags, p.as_ptr(), p.len(), atim, mtim, fst_flags as u32)
    })
}

pub fn path_link(
    old_fd: Fd,
    old_flags: u32,
    old_path: impl AsRef<[u8]>,
    new_fd: Fd,
    new_path: impl AsRef<[u8]>,
) -> R<()> {
    let (o, n) = (old_path.as_ref(), new_path.as_ref());
    ck(unsafe {
        raw::path_link(
            old_fd,
            old_flags,
            o.as_ptr(),
            o.len(),
            new_fd,
            n.as_ptr(),
            n.len(),
        )
    })
}

pub fn path_open(
    fd: Fd,
    dirflags: u32,
    path: impl AsRef<[u8]>,
    oflags: u16,
    rights_base: u64,
    rights_inheriting: u64,
    fdflags: u16,
) -> R<Fd> {
    let p = path.as_ref();
    let mut out = 0;
    ck(unsafe {
        raw::path_open(
            fd,
            dirflags,
            p.as_ptr(),
            p.len(),
            oflags as u32,
            rights_base,
            rights_inheriting,
            fdflags as u32,
            &mut out,
        )
    })?;
    Ok(out)
}

pub fn path_readlink(fd: Fd, path: impl AsRef<[u8]>, buf: &mut [u8]) -> R<usize> {
    let p = path.as_ref();
    let mut n = 0;
    ck(unsafe {
        raw::path_readlink(fd, p.as_ptr(), p.len(), buf.as_mut_ptr(), buf.len(), &mut n)
    })?;
    Ok(n)
}

pub fn path_remove_directory(fd: Fd, path: impl AsRef<[u8]>) -> R<()> {
    let p = path.as_ref();
    ck(unsafe { raw::path_remove_directory(fd, p.as_ptr(), p.len()) })
}

pub fn path_rename(
    fd: Fd,
    old_path: impl AsRef<[u8]>,
    new_fd: Fd,
    new_path: impl AsRef<[u8]>,
) -> R<()> {
    let (o, n) = (old_path.as_ref(), new_path.as_ref());
    ck(unsafe { raw::path_rename(fd, o.as_ptr(), o.len(), new_fd, n.as_ptr(), n.len()) })
}

pub fn path_symlink(old_path: impl AsRef<[u8]>, fd: Fd, new_path: impl AsRef<[u8]>) -> R<()> {
    let (o, n) = (old_path.as_ref(), new_path.as_ref());
    ck(unsafe { raw::path_symlink(o.as_ptr(), o.len(), fd, n.as_ptr(), n.len()) })
}

pub fn path_unlink_file(fd: Fd, path: impl AsRef<[u8]>) -> R<()> {
    let p = path.as_ref();
    ck(unsafe { raw::path_unlink_file(fd, p.as_ptr(), p.len()) })
}
