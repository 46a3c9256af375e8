//! A native command's private directory and identity.
//!
//! Each command takes a *slot* `n` (the lowest free one, held by `flock` on
//! `BASE/n.lock`, so executors of one host share the range and a crashed
//! one's slots come free with its descriptors). The slot gives
//!
//! - the uid (and gid) `FIRST + n` of the configured range
//!   (`PG_SHELL_NATIVE_UIDS`, default 100000-149999) when the executor is
//!   root: no two running commands share one;
//! - the directory `BASE/n`, mode 0700 and owned by that uid, holding `fs/`
//!   (on Linux as root a tmpfs of its own, sized `tree_bytes` plus page
//!   slack, `nr_inodes` from `tree_files`: the kernel refuses a write past
//!   it while the command runs) with `fs/root` (the session's files) and
//!   `fs/tmp`, and `mnt/` (where the command's new root is built).
//!
//! `BASE` is `PG_SHELL_NATIVE_DIR`, default `$TMPDIR/pg_shell-native`
//! (never /dev/shm); it must be owned by the executor's user and writable by
//! no one else, or nothing runs. The command's files are removed when it
//! ends (its processes are dead by then); the slot's directories and tmpfs
//! stay for the next command (resized), and a slot left by a crash is
//! cleaned when it is next taken.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

/// Pages of slack on top of `tree_bytes` (tmpfs counts whole pages), besides
/// one per file the session already has.
const SLACK_PAGES: u64 = 256;
const PAGE: u64 = 4096;

struct Config {
    base: PathBuf,
    first_uid: u32,
    count: u32,
}

fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| {
        let base = std::env::var_os("PG_SHELL_NATIVE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("pg_shell-native"));
        let (first_uid, count) = std::env::var("PG_SHELL_NATIVE_UIDS")
            .ok()
            .and_then(|r| {
                let (a, b) = r.split_once('-')?;
                let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                (a > 0 && b >= a).then_some((a, b - a + 1))
            })
            .unwrap_or((100_000, 50_000));
        Config { base, first_uid, count }
    })
}

/// One command's slot: its directory, its uid, and the lock that holds them.
pub struct Scratch {
    dir: PathBuf,
    uid: Option<u32>,
    /// Bytes of the tmpfs mounted on `fs/`, when there is one.
    quota: Option<u64>,
    _lock: fs::File,
}

impl Scratch {
    /// Takes a free slot and lays out its empty directories. `files_now` is
    /// the number of files the session has (each takes a page of the quota).
    pub fn new(tree_bytes: u64, tree_files: usize, files_now: usize) -> Result<Scratch> {
        let cfg = config();
        let base = prepare_base(&cfg.base)?;
        let root = is_root();
        for n in 0..cfg.count {
            let Some(lock) = try_lock(&base.join(format!("{n}.lock")))? else { continue };
            let dir = base.join(n.to_string());
            let uid = root.then(|| cfg.first_uid + n);
            let fs_dir = dir.join("fs");
            // A slot keeps its directories and its tmpfs from one command to
            // the next (mounting and unmounting each time costs milliseconds
            // of the kernel's RCU grace periods); only the files go. A slot
            // a crashed executor left is cleaned the same way.
            let mounted = super::os::is_mount_point(&fs_dir);
            if mounted {
                clear(&fs_dir)?;
            } else if fs::symlink_metadata(&dir).is_ok() {
                fs::remove_dir_all(&dir).with_context(|| format!("cleaning the stale native directory {}", dir.display()))?;
            }
            if !mounted {
                mkdir(&dir, 0o700)?;
                mkdir(&fs_dir, 0o700)?;
                mkdir(&dir.join("mnt"), 0o755)?;
            }
            let bytes = tree_bytes.div_ceil(PAGE) * PAGE + (files_now as u64 + SLACK_PAGES) * PAGE;
            let inodes = tree_files as u64 + 64;
            let quota = match uid {
                Some(u) => super::os::mount_quota(&fs_dir, bytes, inodes, u, mounted).then_some(bytes),
                None => None,
            };
            mkdir(&fs_dir.join("root"), 0o700)?;
            mkdir(&fs_dir.join("tmp"), 0o700)?;
            let s = Scratch { dir, uid, quota, _lock: lock };
            if let Some(u) = uid {
                chown(&s.dir, u)?;
                chown(&fs_dir, u)?;
                set_mode(&fs_dir, 0o700)?;
                chown(&s.tmp(), u)?;
            }
            return Ok(s);
        }
        bail!("all {} native command slots under {} are in use", cfg.count, base.display())
    }

    /// The session's files (the guest's `/`).
    pub fn root(&self) -> PathBuf {
        self.dir.join("fs/root")
    }

    /// The command's `/tmp`.
    pub fn tmp(&self) -> PathBuf {
        self.dir.join("fs/tmp")
    }

    /// Where the command's new root is assembled (an empty directory).
    pub fn new_root(&self) -> PathBuf {
        self.dir.join("mnt")
    }

    /// The uid (= gid) of this command, when it has one of its own.
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// Whether the kernel bounds the files' total (a tmpfs of its own).
    pub fn has_quota(&self) -> bool {
        self.quota.is_some()
    }

    /// Gives the laid-out session files to the command's uid.
    pub fn hand_over(&self) -> io::Result<()> {
        match self.uid {
            Some(u) => chown_tree(&self.root(), u),
            None => Ok(()),
        }
    }

    /// Bytes the command's files (session and /tmp) take now.
    pub fn usage(&self) -> u64 {
        match self.quota {
            Some(_) => super::os::fs_used(&self.dir.join("fs")).unwrap_or(0),
            None => tree_size(&self.dir.join("fs")),
        }
    }

    /// The quota is (nearly) used up: a write was, or is about to be, refused.
    pub fn full(&self) -> bool {
        match self.quota {
            Some(q) => self.usage() + 4 * PAGE > q,
            None => false,
        }
    }
}

impl Drop for Scratch {
    /// The command's files go at once (its processes are dead by now); the
    /// slot's directories and mount stay for the next command.
    fn drop(&mut self) {
        if let Err(e) = clear(&self.dir.join("fs")) {
            tracing::warn!(dir = %self.dir.display(), error = format!("{e:#}"), "cannot remove a native command's files");
        }
    }
}

/// Removes everything inside `dir` (not following links).
fn clear(dir: &Path) -> Result<()> {
    for e in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = e?.path();
        let res = if fs::symlink_metadata(&p)?.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
        res.with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

fn is_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: plain syscall.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Creates the base directory, or checks an existing one: a real directory
/// of the executor's user that no one else may write (else another local
/// user could plant links in it).
fn prepare_base(base: &Path) -> Result<PathBuf> {
    match fs::create_dir(base) {
        Ok(()) => set_mode(base, 0o711)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", base.display())),
    }
    let meta = fs::symlink_metadata(base).with_context(|| format!("checking {}", base.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory: native programs will not run (set PG_SHELL_NATIVE_DIR)", base.display());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: plain syscall.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me || meta.mode() & 0o022 != 0 {
            bail!(
                "{} is owned by uid {} with mode {:o}: it must be the executor's (uid {me}) and writable by no one else; native programs will not run",
                base.display(),
                meta.uid(),
                meta.mode() & 0o7777
            );
        }
    }
    Ok(base.to_path_buf())
}

fn try_lock(path: &Path) -> Result<Option<fs::File>> {
    let mut o = fs::OpenOptions::new();
    o.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let f = o.open(path).with_context(|| format!("opening {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: plain syscall on a descriptor we own. flock locks belong to
        // the open file description: threads of one process exclude each
        // other too.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Ok(None);
            }
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    Ok(Some(f))
}

fn mkdir(p: &Path, mode: u32) -> Result<()> {
    fs::create_dir(p).with_context(|| format!("creating {}", p.display()))?;
    set_mode(p, mode)
}

fn set_mode(p: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).with_context(|| format!("chmod {}", p.display()))?;
    }
    let _ = (p, mode);
    Ok(())
}

fn chown(p: &Path, uid: u32) -> Result<()> {
    #[cfg(unix)]
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).with_context(|| format!("chown {}", p.display()))?;
    let _ = (p, uid);
    Ok(())
}

fn chown_tree(root: &Path, uid: u32) -> io::Result<()> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        #[cfg(unix)]
        std::os::unix::fs::lchown(&p, Some(uid), Some(uid))?;
        if fs::symlink_metadata(&p)?.is_dir() {
            for e in fs::read_dir(&p)? {
                stack.push(e?.path());
            }
        }
    }
    let _ = uid;
    Ok(())
}

fn tree_size(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(rd) = fs::read_dir(&p) else { continue };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}
