//! Linux confinement of a native program.
//!
//! Before the fork the parent prepares everything as plain data (C strings,
//! descriptors, a list of mount steps) in a [`ChildPlan`]; between fork and
//! exec the child only makes syscalls on it:
//!
//! 1. joins the command's cgroup (v2, `cgroup.procs`), when one could be made;
//! 2. sets its rlimits;
//! 3. `unshare`s a mount, network, IPC, UTS and cgroup namespace (the
//!    network one only without `--network`), and a PID namespace when no
//!    cgroup could be made (the cgroup kills every process by itself; a PID
//!    namespace costs two more forks of the executor's address space). If the kernel refuses, it goes
//!    on without, and says so ([`Isolation`]): never silently;
//! 4. with a PID namespace, forks: the first child (outside the namespace)
//!    only waits, and exits as the program did; the second is PID 1 inside;
//! 5. builds the minimal root (without `--host-view`): a small tmpfs with
//!    the library directories, the binary (and its ELF or `#!` interpreter),
//!    `/etc/ld.so.cache`, a few devices, a `/proc` of its own (see `mount_proc`),
//!    `/tmp` and the session directory (no exec, suid or devices), then
//!    `pivot_root` into it, the old root detached;
//! 6. drops to the command's uid, sets no-new-privileges and a parent-death
//!    SIGKILL, changes to the working directory; with a PID namespace forks
//!    once more: PID 1 stays a minimal init (reaps, reports the program's
//!    status, exits, which kills whatever is left inside) and the program
//!    runs as PID 2 (PID 1 would not get SIGPIPE or SIGXFSZ); reports what
//!    it got on a pipe, and marks every descriptor from 3 close-on-exec.
//!
//! The parent kills through `cgroup.kill` (every process of the cgroup, in
//! any session or namespace) and the process group, and waits until the
//! cgroup is empty.

use std::ffi::{CString, OsStr};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::os::{become_user, cloexec_from_3, Rlimits, NPROC};
use super::{Isolation, Program, Scratch, Spawned};

/// Directories bound read-only into the minimal view (those that exist;
/// symbolic links among them are recreated as links).
const LIB_DIRS: &[&str] = &["/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/usr/local/lib"];
const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];
const FILES: &[&str] = &["/etc/ld.so.cache"];

fn cstr(p: impl AsRef<OsStr>) -> io::Result<CString> {
    CString::new(p.as_ref().as_bytes()).map_err(|_| io::Error::other("a path with a NUL byte"))
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// One step of building the new root, on paths already inside it.
enum Step {
    Mkdir(CString),
    /// An empty file to mount a file on.
    Touch(CString),
    Symlink { target: CString, link: CString },
    /// A bind mount, then (if `remount` is not 0) a remount with those flags.
    Bind { src: CString, dst: CString, remount: libc::c_ulong },
    /// A fresh proc of the new PID namespace (skipped without one).
    Proc(CString),
}

/// Everything the child needs, prepared before the fork.
struct ChildPlan {
    cgroup_procs: Option<RawFd>,
    limits: Rlimits,
    unshare: libc::c_int,
    /// The minimal view: the new root's mount point and the steps.
    view: Option<(CString, Vec<Step>)>,
    uid: Option<u32>,
    cwd: CString,
    status: RawFd,
}

/// What the child reports on the status pipe: 16 bytes.
/// kind ('S' ok / 'E' failed), 3 spare, applied namespace flags (i32),
/// errno (i32: of the failed step, or why unshare was refused), step (u32).
const STATUS_LEN: usize = 16;

unsafe fn report(fd: RawFd, kind: u8, applied: libc::c_int, err: i32, step: u32) {
    let mut b = [0u8; STATUS_LEN];
    b[0] = kind;
    b[4..8].copy_from_slice(&applied.to_le_bytes());
    b[8..12].copy_from_slice(&err.to_le_bytes());
    b[12..16].copy_from_slice(&step.to_le_bytes());
    libc::write(fd, b.as_ptr().cast(), STATUS_LEN);
}

/// Step numbers for the report, beyond the view's steps.
const STEP_CGROUP: u32 = 1_000_000;
const STEP_FORK: u32 = 1_000_001;
const STEP_PRIVATE: u32 = 1_000_002;
const STEP_ROOT_TMPFS: u32 = 1_000_003;
const STEP_PIVOT: u32 = 1_000_004;
const STEP_USER: u32 = 1_000_005;
const STEP_PRCTL: u32 = 1_000_006;
const STEP_CWD: u32 = 1_000_007;
const STEP_LIMITS: u32 = 1_000_008;
const STEP_UNSHARE: u32 = 1_000_009;

impl ChildPlan {
    /// Runs in the forked child. Async-signal-safe: syscalls on prepared data.
    unsafe fn enter(&self) -> io::Result<()> {
        let fail = |step: u32, applied: libc::c_int| -> io::Error {
            let e = errno();
            report(self.status, b'E', applied, e, step);
            io::Error::from_raw_os_error(e)
        };
        // Dies with the executor's thread that started it (and so, through
        // PID 1's own parent-death signal, does a PID namespace).
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
            return Err(fail(STEP_PRCTL, 0));
        }
        if let Some(fd) = self.cgroup_procs {
            if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(fail(STEP_CGROUP, 0));
            }
        }
        if self.limits.apply().is_err() {
            return Err(fail(STEP_LIMITS, 0));
        }
        // Refused namespaces fail this attempt; the parent then starts the
        // program without them and says so.
        let applied = self.unshare;
        if applied != 0 && libc::unshare(applied) != 0 {
            return Err(fail(STEP_UNSHARE, 0));
        }
        // The exit status of the program, from PID 1 of the namespace to the
        // first child (which exits as the program did).
        let mut exit_pipe = [-1; 2];
        if applied & libc::CLONE_NEWPID != 0 {
            if libc::pipe2(exit_pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                return Err(fail(STEP_FORK, applied));
            }
            let pid = libc::fork();
            if pid < 0 {
                return Err(fail(STEP_FORK, applied));
            }
            if pid > 0 {
                first_child(pid, exit_pipe[0]);
            }
            libc::close(exit_pipe[0]);
        }
        if applied & libc::CLONE_NEWNS != 0 {
            if libc::mount(std::ptr::null(), c"/".as_ptr(), std::ptr::null(), libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) != 0 {
                return Err(fail(STEP_PRIVATE, applied));
            }
            match &self.view {
                Some((root, steps)) => self.build_root(root, steps, applied).map_err(|s| fail(s, applied))?,
                // The host's files, but a /proc of its own (below).
                None => {
                    if !mount_proc(c"/proc", applied) {
                        return Err(fail(STEP_PRIVATE, applied));
                    }
                }
            }
        }
        if applied & libc::CLONE_NEWUTS != 0 {
            let name = b"pg_shell";
            libc::sethostname(name.as_ptr().cast(), name.len());
        }
        if let Some(u) = self.uid {
            if become_user(u).is_err() {
                return Err(fail(STEP_USER, applied));
            }
            let lim = libc::rlimit { rlim_cur: NPROC as libc::rlim_t, rlim_max: NPROC as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_NPROC, &lim) != 0 {
                return Err(fail(STEP_LIMITS, applied));
            }
        }
        // After the uid change (which clears it): die with the parent.
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0
            || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) != 0
        {
            return Err(fail(STEP_PRCTL, applied));
        }
        if libc::chdir(self.cwd.as_ptr()) != 0 {
            return Err(fail(STEP_CWD, applied));
        }
        // PID 1 of the namespace is a minimal init, not the program: the
        // kernel does not deliver to PID 1 the signals it has no handler for
        // (SIGPIPE, SIGXFSZ, ...), and orphans need reaping.
        if applied & libc::CLONE_NEWPID != 0 {
            let pid = libc::fork();
            if pid < 0 {
                return Err(fail(STEP_FORK, applied));
            }
            if pid > 0 {
                namespace_init(pid, exit_pipe[1]);
            }
            libc::close(exit_pipe[1]);
        }
        report(self.status, b'S', applied, 0, 0);
        cloexec_from_3();
        Ok(())
    }

    unsafe fn build_root(&self, root: &CString, steps: &[Step], applied: libc::c_int) -> Result<(), u32> {
        let nosuid = libc::MS_NOSUID | libc::MS_NODEV;
        if libc::mount(c"tmpfs".as_ptr(), root.as_ptr(), c"tmpfs".as_ptr(), nosuid, c"size=1m,nr_inodes=4096,mode=0755".as_ptr().cast()) != 0 {
            return Err(STEP_ROOT_TMPFS);
        }
        for (i, s) in steps.iter().enumerate() {
            let ok = match s {
                Step::Mkdir(p) => libc::mkdir(p.as_ptr(), 0o755) == 0 || errno() == libc::EEXIST,
                Step::Touch(p) => {
                    let fd = libc::open(p.as_ptr(), libc::O_CREAT | libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW, 0o644);
                    fd >= 0 && libc::close(fd) == 0
                }
                Step::Symlink { target, link } => libc::symlink(target.as_ptr(), link.as_ptr()) == 0,
                Step::Bind { src, dst, remount } => {
                    libc::mount(src.as_ptr(), dst.as_ptr(), std::ptr::null(), libc::MS_BIND | libc::MS_REC, std::ptr::null()) == 0
                        && (*remount == 0
                            || libc::mount(std::ptr::null(), dst.as_ptr(), std::ptr::null(), libc::MS_BIND | libc::MS_REMOUNT | remount, std::ptr::null()) == 0)
                }
                Step::Proc(p) => mount_proc(p, applied),
            };
            if !ok {
                return Err(i as u32);
            }
        }
        // The new root itself is read-only; then it becomes `/`.
        if libc::mount(std::ptr::null(), root.as_ptr(), std::ptr::null(), libc::MS_REMOUNT | libc::MS_RDONLY | nosuid, std::ptr::null()) != 0
            || libc::chdir(root.as_ptr()) != 0
            || libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) != 0
            || libc::umount2(c".".as_ptr(), libc::MNT_DETACH) != 0
            || libc::chdir(c"/".as_ptr()) != 0
        {
            return Err(STEP_PIVOT);
        }
        Ok(())
    }
}

/// A proc of its own at `at`: of its PID namespace when it has one, else
/// of the host's with `hidepid` (its uid is its own, so it sees only its
/// own processes; `invisible` since Linux 5.8, else `2`).
unsafe fn mount_proc(at: &std::ffi::CStr, applied: libc::c_int) -> bool {
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    let mount = |data: *const libc::c_void| libc::mount(c"proc".as_ptr(), at.as_ptr(), c"proc".as_ptr(), flags, data) == 0;
    if applied & libc::CLONE_NEWPID != 0 {
        return mount(std::ptr::null());
    }
    mount(c"hidepid=invisible".as_ptr().cast()) || mount(c"hidepid=2".as_ptr().cast())
}

/// Keeps only `keep`, as descriptor 0: no pipe of the command stays open
/// in a process that only waits.
unsafe fn close_all_but(keep: libc::c_int) {
    if keep >= 0 {
        libc::dup2(keep, 0);
    }
    let from = if keep >= 0 { 1 } else { 0 };
    if libc::syscall(libc::SYS_close_range, from as libc::c_uint, libc::c_uint::MAX, 0 as libc::c_uint) != 0 {
        for fd in from..1024 {
            libc::close(fd);
        }
    }
}

/// Ends this process as a wait status says (a signal by raising it).
unsafe fn exit_as(st: libc::c_int) -> ! {
    if libc::WIFEXITED(st) {
        libc::_exit(libc::WEXITSTATUS(st));
    }
    if libc::WIFSIGNALED(st) {
        let sig = libc::WTERMSIG(st);
        libc::signal(sig, libc::SIG_DFL);
        libc::kill(libc::getpid(), sig);
        libc::_exit(128 + sig);
    }
    libc::_exit(126)
}

/// The first child, outside the namespace: waits for PID 1 and exits as
/// the program did (as PID 1 reported it on `status`), or as PID 1 did.
unsafe fn first_child(pid: libc::pid_t, status: libc::c_int) -> ! {
    close_all_but(status);
    let mut st = 0;
    loop {
        let r = libc::waitpid(pid, &mut st, 0);
        if r == pid {
            break;
        }
        if r < 0 && errno() != libc::EINTR {
            libc::_exit(126);
        }
    }
    let mut b = [0u8; 4];
    if libc::read(0, b.as_mut_ptr().cast(), 4) == 4 {
        exit_as(libc::c_int::from_le_bytes(b));
    }
    exit_as(st)
}

/// PID 1 of the namespace: reaps every process until the program ends,
/// reports its status, and exits (which ends every process left inside).
unsafe fn namespace_init(program: libc::pid_t, status: libc::c_int) -> ! {
    close_all_but(status);
    loop {
        let mut st = 0;
        let r = libc::waitpid(-1, &mut st, 0);
        if r == program {
            libc::write(0, st.to_le_bytes().as_ptr().cast(), 4);
            libc::_exit(0);
        }
        if r < 0 && errno() != libc::EINTR {
            libc::_exit(126);
        }
    }
}

/// Where the session's files and the temporary directory appear in the
/// minimal view (the same for every command, so a replay-safe program that
/// prints its paths prints the same ones again).
pub const VIEW_ROOT: &str = "/session";
const VIEW_TMP: &str = "/tmp";

/// Set once the kernel refused `unshare`: later commands do not ask again
/// (they still report what they lack).
static REFUSED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The namespaces to ask for. Without root, `unshare` would need a user
/// namespace, which is not set up (README says what remains).
fn namespace_flags(policy: &super::Policy, pid: bool) -> libc::c_int {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 || REFUSED.load(std::sync::atomic::Ordering::Relaxed) != 0 {
        return 0;
    }
    let mut f = libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | libc::CLONE_NEWCGROUP;
    if pid {
        f |= libc::CLONE_NEWPID;
    }
    if !policy.network {
        f |= libc::CLONE_NEWNET;
    }
    f
}

fn step_name(steps: &[String], step: u32) -> String {
    match step {
        STEP_CGROUP => "joining the command's cgroup".into(),
        STEP_FORK => "forking PID 1 of the namespace".into(),
        STEP_PRIVATE => "making the mounts private".into(),
        STEP_ROOT_TMPFS => "mounting the new root".into(),
        STEP_PIVOT => "pivoting into the new root".into(),
        STEP_USER => "changing to the command's uid".into(),
        STEP_PRCTL => "setting no-new-privileges".into(),
        STEP_CWD => "changing to the working directory".into(),
        STEP_LIMITS => "setting rlimits".into(),
        STEP_UNSHARE => "creating namespaces".into(),
        n => steps.get(n as usize).cloned().unwrap_or_else(|| format!("step {n}")),
    }
}

pub(super) fn spawn(exe: &Path, program: &Program, inv: &crate::runtime::Invocation<'_>, scratch: &Scratch, limits: Rlimits) -> io::Result<Spawned> {
    loop {
        // A cgroup kills every process of the command; without one, a PID
        // namespace does (at the price of two more forks: see linux.rs).
        let cgroup = if super::WITHOUT_CGROUPS.load(std::sync::atomic::Ordering::Relaxed) { None } else { Cgroup::create() };
        let unshare = namespace_flags(&program.policy, cgroup.is_none());
        match spawn_once(exe, program, inv, scratch, limits, unshare, cgroup)? {
            Ok(s) => return Ok(s),
            // Refused for good (no privilege, or no such namespaces here):
            // remember, and run with what remains (reported). A passing
            // shortage (ENOMEM, ENOSPC: too many namespaces) fails only
            // this command.
            Err(errno) if matches!(errno, libc::EPERM | libc::EACCES | libc::EINVAL | libc::ENOSYS) => {
                REFUSED.store(errno, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %io::Error::from_raw_os_error(errno), "unshare refused: native commands run without namespaces");
            }
            Err(errno) => return Err(io::Error::other(format!("creating namespaces: {}", io::Error::from_raw_os_error(errno)))),
        }
    }
}

/// One attempt; `Ok(Err(errno))` when the kernel refused the namespaces.
fn spawn_once(
    exe: &Path,
    program: &Program,
    inv: &crate::runtime::Invocation<'_>,
    scratch: &Scratch,
    limits: Rlimits,
    unshare: libc::c_int,
    cgroup: Option<Cgroup>,
) -> io::Result<Result<Spawned, i32>> {
    let view = unshare & libc::CLONE_NEWNS != 0 && !program.policy.host_view;
    let (mut cmd, cwd) = if view {
        super::os::command(exe, program, inv, Path::new(VIEW_ROOT), Path::new(VIEW_TMP))
    } else {
        super::os::command(exe, program, inv, &scratch.root(), &scratch.tmp())
    };
    let (steps, names) = if view { view_steps(&scratch.new_root(), exe, &scratch.root(), &scratch.tmp())? } else { (Vec::new(), Vec::new()) };
    let (status_r, status_w) = pipe()?;
    let plan = ChildPlan {
        cgroup_procs: cgroup.as_ref().map(|c| c.procs.as_raw_fd()),
        limits,
        unshare,
        view: if view { Some((cstr(scratch.new_root())?, steps)) } else { None },
        uid: scratch.uid(),
        cwd: cstr(&cwd)?,
        status: status_w.as_raw_fd(),
    };
    // SAFETY: `enter` only makes async-signal-safe calls on prepared data.
    unsafe {
        cmd.pre_exec(move || plan.enter());
    }
    let spawned = cmd.spawn();
    drop(status_w);
    let mut b = Vec::with_capacity(STATUS_LEN);
    let _ = std::fs::File::from(status_r).read_to_end(&mut b);
    let status = (b.len() >= STATUS_LEN).then(|| {
        let i32_at = |o: usize| i32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        (b[0], i32_at(4), i32_at(8), u32::from_le_bytes(b[12..16].try_into().unwrap()))
    });
    let child = match (spawned, status) {
        (Ok(c), _) => c,
        (Err(_), Some((b'E', _, err, STEP_UNSHARE))) => return Ok(Err(err)),
        (Err(_), Some((b'E', _, err, step))) => {
            return Err(io::Error::other(format!("{}: {}", step_name(&names, step), io::Error::from_raw_os_error(err))))
        }
        (Err(e), _) => return Err(e),
    };
    let applied = match status {
        Some((b'S', applied, _, _)) => applied,
        _ => 0,
    };
    let pid = child.id();
    let refused = REFUSED.load(std::sync::atomic::Ordering::Relaxed);
    let isolation = Isolation {
        cgroup: cgroup.is_some(),
        pid_namespace: applied & libc::CLONE_NEWPID != 0,
        contained: cgroup.is_some() || applied & libc::CLONE_NEWPID != 0,
        network_namespace: applied & libc::CLONE_NEWNET != 0,
        minimal_view: applied & libc::CLONE_NEWNS != 0 && view,
        own_uid: scratch.uid().is_some(),
        quota: scratch.has_quota(),
        unshare_error: match unshare {
            0 if refused != 0 => Some(format!("unshare refused: {}", io::Error::from_raw_os_error(refused))),
            0 => Some("namespaces need the executor to run as root".into()),
            _ => None,
        },
    };
    let mut cgroup = cgroup;
    let killer = Box::new(move || {
        super::os::kill_group(pid);
        if let Some(c) = cgroup.as_mut() {
            c.kill();
        }
    });
    Ok(Ok(Spawned { child, isolation, killer }))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors we own.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // Above 2, so the child's stdio set-up never lands on them (an executor
    // started without stdin has fd 0 free).
    Ok((above_stdio(r)?, above_stdio(w)?))
}

fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: dup of a descriptor we own into a new one we then own.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// The steps that build the minimal root at `root`, and a name for each.
fn view_steps(root: &Path, exe: &Path, session: &Path, tmp: &Path) -> io::Result<(Vec<Step>, Vec<String>)> {
    let ro = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    let data = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    let inside = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    let mut steps = Vec::new();
    let mut names = Vec::new();
    let mut made = std::collections::BTreeSet::new();
    let mut mkdirs = |steps: &mut Vec<Step>, names: &mut Vec<String>, dir: &Path| -> io::Result<()> {
        let mut acc = PathBuf::from("/");
        for c in dir.components().skip(1) {
            acc.push(c);
            if made.insert(acc.clone()) {
                steps.push(Step::Mkdir(cstr(inside(&acc))?));
                names.push(format!("creating {}", acc.display()));
            }
        }
        Ok(())
    };
    let mut bound_dirs: Vec<PathBuf> = Vec::new();
    for d in LIB_DIRS {
        let d = Path::new(d);
        let Ok(meta) = std::fs::symlink_metadata(d) else { continue };
        if meta.file_type().is_symlink() {
            mkdirs(&mut steps, &mut names, d.parent().unwrap_or(Path::new("/")))?;
            steps.push(Step::Symlink { target: cstr(std::fs::read_link(d)?)?, link: cstr(inside(d))? });
            names.push(format!("linking {}", d.display()));
        } else if meta.is_dir() {
            mkdirs(&mut steps, &mut names, d)?;
            steps.push(Step::Bind { src: cstr(d)?, dst: cstr(inside(d))?, remount: ro });
            names.push(format!("binding {} read-only", d.display()));
            bound_dirs.push(d.to_path_buf());
        }
    }
    let mut files: Vec<(PathBuf, libc::c_ulong)> = Vec::new();
    for f in interpreters(exe).into_iter().chain([exe.to_path_buf()]) {
        if !bound_dirs.iter().any(|d| f.starts_with(d)) || f == exe {
            files.push((f, ro));
        }
    }
    for f in FILES {
        if Path::new(f).is_file() {
            files.push((PathBuf::from(f), ro));
        }
    }
    for d in DEVICES {
        if Path::new(d).exists() {
            files.push((PathBuf::from(d), 0));
        }
    }
    for (f, remount) in files {
        mkdirs(&mut steps, &mut names, f.parent().unwrap_or(Path::new("/")))?;
        steps.push(Step::Touch(cstr(inside(&f))?));
        names.push(format!("creating {}", f.display()));
        steps.push(Step::Bind { src: cstr(&f)?, dst: cstr(inside(&f))?, remount });
        names.push(format!("binding {}", f.display()));
    }
    mkdirs(&mut steps, &mut names, Path::new("/proc"))?;
    steps.push(Step::Proc(cstr(inside(Path::new("/proc")))?));
    names.push("mounting /proc".into());
    for (src, dst) in [(tmp, Path::new(VIEW_TMP)), (session, Path::new(VIEW_ROOT))] {
        mkdirs(&mut steps, &mut names, dst)?;
        steps.push(Step::Bind { src: cstr(src)?, dst: cstr(inside(dst))?, remount: data });
        names.push(format!("binding {}", dst.display()));
    }
    Ok((steps, names))
}

/// The ELF program interpreter (PT_INTERP) or `#!` interpreter a binary
/// needs, canonicalized; empty when it names none or cannot be read.
fn interpreters(exe: &Path) -> Vec<PathBuf> {
    let Ok(mut f) = std::fs::File::open(exe) else { return Vec::new() };
    let mut head = vec![0u8; 64 * 1024];
    let n = f.read(&mut head).unwrap_or(0);
    head.truncate(n);
    let found = if head.starts_with(b"#!") {
        let line = head[2..].split(|&b| b == b'\n').next().unwrap_or(&[]);
        line.split(|&b| b == b' ' || b == b'\t').find(|w| !w.is_empty()).map(|w| PathBuf::from(OsStr::from_bytes(w)))
    } else {
        elf_interp(&head)
    };
    found.and_then(|p| std::fs::canonicalize(p).ok()).into_iter().collect()
}

/// PT_INTERP of a little-endian ELF64 image whose program headers lie in `b`.
fn elf_interp(b: &[u8]) -> Option<PathBuf> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    let phoff = u64_at(32)? as usize;
    let phentsize = u16_at(54)? as usize;
    let phnum = u16_at(56)? as usize;
    for i in 0..phnum.min(64) {
        let ph = phoff + i * phentsize;
        if u32_at(ph)? == 3 {
            let off = u64_at(ph + 8)? as usize;
            let size = u64_at(ph + 32)? as usize;
            let s = b.get(off..off.checked_add(size)?)?;
            let s = s.split(|&c| c == 0).next()?;
            return Some(PathBuf::from(OsStr::from_bytes(s)));
        }
    }
    None
}

/// The cgroup v2 directory (this process's own) that commands' cgroups go under, if there is
/// one it may write (`None` is reported once in the log).
fn cgroup_parent() -> Option<&'static Path> {
    static P: OnceLock<Option<PathBuf>> = OnceLock::new();
    P.get_or_init(|| {
        let found = find_cgroup_parent();
        match &found {
            Some(p) => tracing::info!(cgroup = %p.display(), "native commands get a cgroup v2 each"),
            None => tracing::info!("no writable cgroup v2: native commands are contained by a PID namespace only"),
        }
        found
    })
    .as_deref()
}

fn find_cgroup_parent() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let own = own.lines().find_map(|l| l.strip_prefix("0::"))?.trim().to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mnt = mounts.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2").then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
    })?;
    let dir = mnt.join(own.trim_start_matches('/'));
    // A process may join a child only if this cgroup hands no controllers
    // down (cgroup v2's no-internal-processes rule), unless it is the root.
    let delegates = std::fs::read_to_string(dir.join("cgroup.subtree_control")).map(|s| !s.trim().is_empty()).unwrap_or(true);
    if delegates && own != "/" {
        return None;
    }
    // Cgroups of executors that died: their processes are killed now.
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("pg_shell-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok()) else { continue };
            // SAFETY: kill with signal 0 only asks whether the process exists.
            if pid != std::process::id() as i32 && unsafe { libc::kill(pid, 0) } != 0 && errno() == libc::ESRCH {
                let mut stale = Cgroup { dir: e.path(), procs: match std::fs::File::open("/dev/null") { Ok(f) => f.into(), Err(_) => continue } };
                stale.kill();
                tracing::info!(cgroup = %e.path().display(), "removed the cgroup of a native command of a dead executor");
            }
        }
    }
    // Usable only if a child can be made and has cgroup.kill (Linux 5.14).
    let probe = dir.join(format!("pg_shell-{}-probe", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok() && probe.join("cgroup.kill").exists();
    let _ = std::fs::remove_dir(&probe);
    ok.then_some(dir)
}

/// One command's cgroup.
struct Cgroup {
    dir: PathBuf,
    procs: OwnedFd,
}

impl Cgroup {
    fn create() -> Option<Cgroup> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = cgroup_parent()?.join(format!("pg_shell-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir(&dir).ok()?;
        let procs = std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs")).ok()?;
        let procs = above_stdio(procs.into()).ok()?;
        Some(Cgroup { dir, procs })
    }

    /// Kills every process in it and waits (up to 2 s) until it is empty.
    fn kill(&mut self) {
        let _ = std::fs::write(self.dir.join("cgroup.kill"), b"1");
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            match std::fs::read_to_string(self.dir.join("cgroup.events")) {
                Ok(ev) if ev.lines().any(|l| l == "populated 0") => return,
                Ok(_) => std::thread::sleep(Duration::from_millis(1)),
                Err(_) => return,
            }
        }
        tracing::warn!(cgroup = %self.dir.display(), "a native command's cgroup is not empty 2 s after cgroup.kill");
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

pub(super) fn mount_quota(dir: &Path, bytes: u64, inodes: u64, uid: u32, mounted: bool) -> bool {
    let (Ok(target), Ok(opts)) = (cstr(dir), CString::new(format!("size={bytes},nr_inodes={inodes},mode=0700,uid={uid},gid={uid}"))) else {
        return false;
    };
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    // SAFETY: plain syscalls on C strings we own.
    let remounted = mounted
        && unsafe { libc::mount(std::ptr::null(), target.as_ptr(), std::ptr::null(), libc::MS_REMOUNT | flags, opts.as_ptr().cast()) } == 0;
    if mounted && !remounted {
        unmount(dir);
    }
    let ok = remounted || unsafe { libc::mount(c"pg_shell".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), flags, opts.as_ptr().cast()) } == 0;
    if !ok {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| tracing::warn!(error = %io::Error::last_os_error(), "cannot mount a tmpfs for a native command: its size is watched instead"));
    }
    ok
}

fn unmount(dir: &Path) {
    if let Ok(c) = cstr(dir) {
        // SAFETY: plain syscall; EINVAL when nothing is mounted there.
        unsafe {
            libc::umount2(c.as_ptr(), libc::MNT_DETACH);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_interpreter_of_an_elf_binary() {
        let i = interpreters(Path::new("/bin/sh"));
        assert_eq!(i.len(), 1, "{i:?}");
        assert!(i[0].to_string_lossy().contains("ld-linux"), "{i:?}");
    }
}
