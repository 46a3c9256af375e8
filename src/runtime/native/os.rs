//! Starting a native program on Unix: rlimits, its own process group, its
//! own uid, only descriptors 0-2; on Linux the namespaces, cgroup and mount
//! plan of `linux.rs` on top. Code that runs between fork and exec
//! (`pre_exec`) makes only async-signal-safe calls: raw syscalls on data
//! prepared before the fork, no allocation, no locks.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[cfg(not(target_os = "linux"))]
use super::Isolation;
use super::{Program, Scratch, Spawned};
use crate::runtime::Invocation;

/// `setrlimit` with soft = hard = `value`. A macro because the resource
/// constant's type differs between Linux (u32) and macOS (i32).
macro_rules! set_limit {
    ($resource:expr, $value:expr) => {{
        let lim = libc::rlimit { rlim_cur: $value as libc::rlim_t, rlim_max: $value as libc::rlim_t };
        if libc::setrlimit($resource, &lim) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }};
}

/// Processes one command's uid may have at once (its uid is its own, so this
/// bounds a fork bomb without touching anyone else).
pub(super) const NPROC: u64 = 256;

/// The limits every native process gets, from the command's limits.
#[derive(Clone, Copy)]
pub(super) struct Rlimits {
    pub cpu_secs: u64,
    pub fsize: u64,
    pub mem: u64,
}

impl Rlimits {
    /// SAFETY: async-signal-safe (setrlimit only).
    pub(super) unsafe fn apply(&self) -> io::Result<()> {
        set_limit!(libc::RLIMIT_CPU, self.cpu_secs);
        set_limit!(libc::RLIMIT_FSIZE, self.fsize);
        set_limit!(libc::RLIMIT_CORE, 0);
        #[cfg(target_os = "linux")]
        set_limit!(libc::RLIMIT_AS, self.mem);
        Ok(())
    }
}

/// Drops to `uid` (= gid) with no supplementary groups. Async-signal-safe.
pub(super) unsafe fn become_user(uid: u32) -> io::Result<()> {
    if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(uid as libc::gid_t) != 0 || libc::setuid(uid as libc::uid_t) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Marks every descriptor from 3 up close-on-exec, so the program starts
/// with 0, 1 and 2 only (std's own error pipe still reports a failed exec).
/// Async-signal-safe.
pub(super) unsafe fn cloexec_from_3() {
    #[cfg(target_os = "linux")]
    {
        const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
        if libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) == 0 {
            return;
        }
    }
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 { (lim.rlim_cur as u64).min(1 << 20) } else { 65536 };
    for fd in 3..max as libc::c_int {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

/// Starts the program confined as far as this OS allows.
pub(super) fn spawn(program: &Program, inv: &Invocation<'_>, scratch: &Scratch) -> io::Result<Spawned> {
    // What runs is a real file (symlinks resolved), named as registered.
    let exe = std::fs::canonicalize(&program.path)?;
    let limits = Rlimits { cpu_secs: inv.limits.timeout_ms.div_ceil(1000) + 1, fsize: inv.limits.tree_bytes, mem: inv.limits.memory_bytes };
    scratch.hand_over()?;
    #[cfg(target_os = "linux")]
    {
        super::linux::spawn(&exe, program, inv, scratch, limits)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let (mut cmd, cwd) = command(&exe, program, inv, &scratch.root(), &scratch.tmp());
        cmd.current_dir(cwd);
        spawn_plain(cmd, scratch, limits)
    }
}

/// The program's command line, environment and stdio, with the session's
/// files seen at `root` and its temporary directory at `tmp`; and the
/// working directory it is to start in (the caller changes to it).
pub(super) fn command(exe: &Path, program: &Program, inv: &Invocation<'_>, root: &Path, tmp: &Path) -> (Command, PathBuf) {
    let cwd = root.join(inv.cwd.trim_start_matches('/'));
    let env: BTreeMap<String, String> = super::environment(inv.vars, &program.policy, root, &cwd, tmp);
    let mut cmd = Command::new(exe);
    cmd.arg0(&program.path)
        .args(&inv.argv[1..])
        .env_clear()
        .envs(env)
        .stdin(if inv.stdin.is_empty() { Stdio::null() } else { Stdio::piped() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    (cmd, cwd)
}

/// Other Unix (macOS): rlimits, a uid of its own when root, descriptors
/// 0-2, and the process group to kill. What remains is in README.
#[cfg(not(target_os = "linux"))]
fn spawn_plain(mut cmd: Command, scratch: &Scratch, limits: Rlimits) -> io::Result<Spawned> {
    let uid = scratch.uid();
    // SAFETY: setrlimit, setgroups/setgid/setuid, fcntl: async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            limits.apply()?;
            if let Some(u) = uid {
                become_user(u)?;
                set_limit!(libc::RLIMIT_NPROC, NPROC);
            }
            cloexec_from_3();
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    let pid = child.id();
    let isolation = Isolation { own_uid: uid.is_some(), quota: scratch.has_quota(), ..Isolation::default() };
    Ok(Spawned { child, isolation, killer: Box::new(move || kill_group(pid)) })
}

pub(super) fn kill_group(pid: u32) {
    // SAFETY: plain syscall; the group id is the child's pid (process_group(0)).
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// Mounts a tmpfs of `bytes` and `inodes` on `dir`, owned by `uid`, with no
/// devices, set-uid or executables. False where it cannot (not Linux, not
/// root, refused).
/// With `mounted`, the tmpfs is already there (and empty): only its size
/// and inode count change.
pub(super) fn mount_quota(dir: &Path, bytes: u64, inodes: u64, uid: u32, mounted: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        super::linux::mount_quota(dir, bytes, inodes, uid, mounted)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, bytes, inodes, uid, mounted);
        false
    }
}

/// Whether something is mounted on `dir` (it is on another device than its parent).
pub(super) fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(dir), dir.parent().map(std::fs::symlink_metadata)) {
        (Ok(a), Some(Ok(b))) => a.is_dir() && a.dev() != b.dev(),
        _ => false,
    }
}


/// Bytes used on the file system holding `dir`.
pub(super) fn fs_used(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the struct we pass.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_blocks as u64).saturating_sub(st.f_bfree as u64) * st.f_frsize as u64)
}
