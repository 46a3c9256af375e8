//! The embedded PostgreSQL cluster: the server `pg_shell up` runs when no
//! DATABASE_URL is given, and the throwaway servers the tests run.
//!
//! What lives here: finding (or, when allowed, installing) the PostgreSQL server
//! binaries; `initdb` of a data directory; starting a postmaster, or adopting one
//! that is already running on the same data directory; stopping it; and the
//! connection strings for it. Everything is synchronous and uses
//! `std::process` (call it before async code starts, or through
//! `spawn_blocking`). What does not live here: schemas and migrations,
//! connection pools, and anything else that talks SQL.
//!
//! # Layout
//!
//! Everything lives under one root directory:
//!
//! ```text
//! root/cluster.lock     flock(2)ed while a process initdb's or starts the cluster
//! root/data/            PGDATA; root/data/pg_shell.conf holds our settings
//! root/run/             the unix socket (.s.PGSQL.5432), mode 0700
//! root/log/postgresql.log
//! ```
//!
//! The server listens only on the unix socket in `root/run` (no TCP), with
//! `trust` authentication; the 0700 socket directory and socket are what keep
//! other local users out. Every cluster has its own socket directory, so the
//! fixed port 5432 never collides with another cluster (the port only names the
//! socket file). The superuser is always `postgres`. `root/data/pg_shell.conf` is
//! rewritten before each start from [`ClusterOptions`] (socket directory, fsync,
//! extra settings); `ALTER SYSTEM` settings still win over it.
//!
//! `initdb` runs in a `root/.initdb-<pid>` directory that is renamed to
//! `root/data` only once it is complete, so a `root/data/PG_VERSION` always
//! means a whole cluster, even after an initdb that was killed half-way.
//!
//! # Root and non-root
//!
//! PostgreSQL refuses to run as root. When this process is root, the data, run
//! and log directories are chowned to the `postgres` system user, and initdb and
//! pg_ctl run as that user (its uid, primary gid and supplementary groups, set in
//! the child before exec). That user must be able to enter every directory on
//! the path to the root: `/root` is 0700, so a root under it is refused with a
//! message naming the directory; use `/var/lib/pg_shell` (the default as root),
//! `/tmp/...`, or set PG_SHELL_HOME. When this process is not root, the server
//! runs as the current user and none of this applies. Either way the socket is
//! 0700: only the server's own user and root can connect.
//!
//! # Concurrency
//!
//! [`Cluster::start`] holds an exclusive `flock` on `root/cluster.lock` while it
//! initdb's and starts, so two processes starting the same root at once end with
//! one server: the second adopts the one the first started. [`Cluster::stop`]
//! takes no lock; a start that finds the server shutting down waits for it to
//! finish and then starts it again.
//!
//! # Throwaway clusters and cleanup
//!
//! [`throwaway`] makes a cluster in a fresh `/tmp/pg_shell-cluster-*` directory
//! (fsync off, max_connections 200). The returned [`Cluster`] owns that
//! directory: dropping it stops the server (immediate mode) and then deletes the
//! directory, in that order. A test process keeps such a cluster in a `static`
//! that is never dropped, so `throwaway` also registers it with
//! [`Cluster::stop_at_exit`]: an `atexit(3)` hook that stops the server and
//! deletes the directory when the process exits normally (returning from main
//! or `std::process::exit`, which is how the test harness ends). A process
//! killed by a signal runs no hook; for that, every `throwaway` call first
//! reaps orphans: throwaway directories of this user whose creating process
//! (recorded in `owner.pid`) is gone are stopped and deleted
//! ([`reap_orphaned_throwaways`]). We chose this over making the server die with
//! its parent, which PostgreSQL has no option for.
//!
//! Unix only (Linux and macOS), like the rest of the product.

use std::ffi::{CStr, CString, OsStr};
use std::fmt::Write as _;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, Once, TryLockError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// The superuser role every cluster is initialized with (`initdb -U postgres`).
pub const SUPERUSER: &str = "postgres";
/// The port the server is configured with; it only names the socket file inside
/// the cluster's own socket directory, so every cluster can use the same one.
pub const DEFAULT_PORT: u16 = 5432;
/// The system user the server runs as when this process is root.
pub const SERVER_OS_USER: &str = "postgres";
/// The Homebrew formula installed on macOS by [`Cluster::ensure_installed`].
pub const HOMEBREW_FORMULA: &str = "postgresql@16";

/// Where [`throwaway`] makes its directories (short, so the socket path fits).
const THROWAWAY_PARENT: &str = "/tmp";
const THROWAWAY_PREFIX: &str = "pg_shell-cluster-";
const OWNER_FILE: &str = "owner.pid";
const LOCK_FILE: &str = "cluster.lock";
const SETTINGS_FILE: &str = "pg_shell.conf";
const INITDB_PREFIX: &str = ".initdb-";
/// Deadline for pg_ctl start/stop and for waiting on a server another process
/// is starting or stopping.
const TIMEOUT_SECS: u64 = 120;
/// Longest unix socket path (sun_path minus its NUL).
#[cfg(target_os = "linux")]
const SUN_PATH_MAX: usize = 107;
#[cfg(not(target_os = "linux"))]
const SUN_PATH_MAX: usize = 103;

/// How to set up and run a cluster; see [`Cluster::start`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Everything lives under here: `root/data` (PGDATA), `root/run` (unix
    /// socket directory), `root/log`. Created if missing.
    pub root: PathBuf,
    /// `false` for throwaway test clusters: fsync, synchronous_commit and
    /// full_page_writes off, and initdb without syncing.
    pub fsync: bool,
    /// Install the server package if no initdb can be found (`pg_shell up`);
    /// see [`Cluster::ensure_installed`].
    pub install_if_missing: bool,
    /// Extra postgresql.conf settings, e.g. `("max_connections", "200")`;
    /// applied after ours, so they can override them.
    pub extra_settings: Vec<(String, String)>,
}

impl ClusterOptions {
    /// A durable cluster at `root`: fsync on, no installing, no extra settings.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ClusterOptions {
            root: root.into(),
            fsync: true,
            install_if_missing: false,
            extra_settings: Vec::new(),
        }
    }
}

/// A running PostgreSQL server on a data directory under a root (see the
/// module doc). Dropping a `Cluster` leaves the server running, except for
/// one made by [`throwaway`], which stops it and deletes its directory.
#[derive(Debug)]
pub struct Cluster {
    ctl: Ctl,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    pid: i32,
    started_by_us: bool,
    stop_on_drop: bool,
    /// Declared last: dropped after `Drop::drop` has stopped the server.
    tempdir: Option<tempfile::TempDir>,
}

impl Cluster {
    /// Finds the directory holding initdb, pg_ctl and postgres:
    /// `$PG_SHELL_PG_BIN` (an error if set but wrong), then `PATH` (following an
    /// initdb symlink to its real directory if pg_ctl/postgres are not beside
    /// it), then the usual places: `/usr/lib/postgresql/<highest>/bin`,
    /// `/usr/local/pgsql/bin`, `/opt/homebrew/opt/postgresql@*/bin`,
    /// `/usr/local/opt/postgresql@*/bin`, `/opt/homebrew/bin`,
    /// `/Applications/Postgres.app/Contents/Versions/latest/bin`.
    pub fn find_bin_dir() -> Result<PathBuf> {
        if let Some(dir) = pg_bin_override()? {
            return Ok(dir);
        }
        candidate_bin_dirs().into_iter().next().ok_or_else(not_found_error)
    }

    /// [`Cluster::find_bin_dir`], else, if `install` is true, installs the
    /// server: on Debian/Ubuntu as root `apt-get update` and
    /// `apt-get install -y postgresql` (DEBIAN_FRONTEND=noninteractive); on
    /// macOS `brew install postgresql@16`. Otherwise (or when installing is not
    /// possible) an error telling the user what to install, or to set
    /// DATABASE_URL. The installer's output goes to this process's stderr.
    pub fn ensure_installed(install: bool) -> Result<PathBuf> {
        let not_found = match Self::find_bin_dir() {
            Ok(dir) => return Ok(dir),
            Err(e) => e,
        };
        if !install || std::env::var_os("PG_SHELL_PG_BIN").is_some_and(|v| !v.is_empty()) {
            return Err(not_found);
        }
        install_server().context("PostgreSQL server binaries not found, and installing them failed")?;
        Self::find_bin_dir()
            .context("installed the PostgreSQL server package, but still cannot find initdb/pg_ctl/postgres")
    }

    /// Makes sure a server is running on `opts.root` and returns it.
    ///
    /// initdb's `root/data` if it has no `PG_VERSION` (superuser `postgres`,
    /// trust authentication, UTF8, C locale), writes `root/data/pg_shell.conf`,
    /// and starts the server with `pg_ctl start -w`, logging to
    /// `root/log/postgresql.log`. If a postmaster is already running on this
    /// data directory it is adopted as it is ([`Cluster::started_by_us`] is then
    /// false, and the settings file is not rewritten). The server listens only on
    /// the unix socket in `root/run`. As root, runs the server as the `postgres`
    /// user (see the module doc). Safe to call from several processes on the same
    /// root at once.
    pub fn start(opts: ClusterOptions) -> Result<Cluster> {
        let root = std::path::absolute(&opts.root)
            .with_context(|| format!("cannot make the cluster root {} absolute", opts.root.display()))?;
        if root.to_str().is_none() {
            bail!("the cluster root {} is not valid UTF-8", root.display());
        }
        // Everything that can be refused is checked before anything is created.
        let socket_dir = root.join("run");
        check_socket_path(&socket_dir)?;
        let run_as = RunAs::for_current_process()?;
        if let Some(run_as) = &run_as {
            check_traversable(&root, run_as)?;
        }
        let data_dir = root.join("data");
        let seen_version = read_pg_version(&data_dir)?;
        let mut bin_dir = match &seen_version {
            Some(version) => bin_dir_for_version(version, opts.install_if_missing, &data_dir)?,
            None => Self::ensure_installed(opts.install_if_missing)?,
        };

        let created = !root.exists();
        fs::create_dir_all(&root)
            .with_context(|| format!("cannot create the cluster root {}", root.display()))?;
        if let Some(run_as) = &run_as {
            if created {
                // The umask may have left it 0700; the server user must enter it.
                set_mode(&root, 0o755)?;
            }
            check_traversable(&root, run_as)?; // parents create_dir_all made, under the umask
        }

        let _lock = lock_exclusive(&root.join(LOCK_FILE))?;
        let log_dir = root.join("log");
        make_private_dir(&socket_dir, run_as.as_ref())?;
        make_private_dir(&log_dir, run_as.as_ref())?;
        let log_file = log_dir.join("postgresql.log");
        // Another process may have initdb'd while we waited for the lock.
        let existing = read_pg_version(&data_dir)?;
        if let (Some(version), None) = (&existing, &seen_version) {
            bin_dir = bin_dir_for_version(version, opts.install_if_missing, &data_dir)?;
        }
        let ctl = Ctl { bin_dir, root: root.clone(), data_dir, run_as };
        if existing.is_none() {
            ctl.initdb(&opts, &socket_dir)?;
        }

        let (pid_file, started_by_us) = match ctl.wait_until_ready_or_gone()? {
            Some(pid_file) => {
                tracing::debug!(root = %root.display(), pid = pid_file.pid, "adopting running PostgreSQL");
                (pid_file, false)
            }
            None => {
                ctl.write_settings(&ctl.data_dir, &opts, &socket_dir)?;
                ctl.pg_ctl_start(&log_file)?;
                let pid_file = ctl.wait_until_ready_or_gone()?.ok_or_else(|| {
                    anyhow!(
                        "PostgreSQL in {} exited right after `pg_ctl start` reported success\n--- end of {} ---\n{}",
                        ctl.data_dir.display(),
                        log_file.display(),
                        log_tail(&log_file, 0)
                    )
                })?;
                (pid_file, true)
            }
        };
        Ok(Cluster {
            socket_dir: pid_file.socket_dir.clone().unwrap_or(socket_dir),
            port: pid_file.port.unwrap_or(DEFAULT_PORT),
            pid: pid_file.pid,
            log_file,
            ctl,
            started_by_us,
            stop_on_drop: false,
            tempdir: None,
        })
    }

    /// tokio-postgres (and libpq) key=value connection string for database
    /// `dbname` as the superuser: `host=<socket dir> port=.. user=postgres dbname=..`.
    pub fn connection_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            kv_quote(&self.socket_dir.to_string_lossy()),
            self.port,
            SUPERUSER,
            kv_quote(dbname)
        )
    }

    /// The same as a `postgres://` URL (socket directory percent-encoded in the
    /// host part), for printing, psql and tokio-postgres.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgres://{}@{}:{}/{}",
            SUPERUSER,
            percent_encode(self.socket_dir.as_os_str().as_bytes()),
            self.port,
            percent_encode(dbname.as_bytes())
        )
    }

    /// Stops the server with `pg_ctl stop -m fast` (or `-m immediate`), waiting
    /// until it is gone. Not an error if it is not running.
    pub fn stop(&self, immediate: bool) -> Result<()> {
        self.ctl.stop(immediate)
    }

    /// Stops this server (immediate mode) when the process exits normally,
    /// through an `atexit(3)` hook, and for a [`throwaway`] cluster also deletes
    /// its directory. For clusters held in statics, which are never dropped.
    /// Only the registering process acts (a forked child that exits does not).
    /// [`throwaway`] calls this itself.
    pub fn stop_at_exit(&self) {
        static HOOK: Once = Once::new();
        let entry = ExitEntry {
            ctl: self.ctl.clone(),
            remove_root: self.tempdir.is_some(),
            registrant: std::process::id(),
        };
        let mut entries = AT_EXIT.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| e.ctl.data_dir != entry.ctl.data_dir);
        entries.push(entry);
        drop(entries);
        HOOK.call_once(|| {
            // SAFETY: registers a plain extern "C" function with no arguments.
            if unsafe { libc::atexit(stop_registered_clusters) } != 0 {
                tracing::warn!("atexit registration failed; clusters will not be stopped at exit");
            }
        });
    }

    /// The default root for `pg_shell up`: `$PG_SHELL_HOME` if set; as root
    /// `/var/lib/pg_shell`; otherwise `$XDG_DATA_HOME/pg_shell` or
    /// `~/.local/share/pg_shell` (macOS: `~/Library/Application Support/pg_shell`).
    pub fn default_root() -> PathBuf {
        if let Some(home) = env_path("PG_SHELL_HOME") {
            return home;
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return PathBuf::from("/var/lib/pg_shell");
        }
        #[cfg(target_os = "macos")]
        {
            home_dir().join("Library/Application Support/pg_shell")
        }
        #[cfg(not(target_os = "macos"))]
        {
            match env_path("XDG_DATA_HOME") {
                Some(xdg) if xdg.is_absolute() => xdg.join("pg_shell"),
                _ => home_dir().join(".local/share/pg_shell"),
            }
        }
    }

    /// The root directory everything lives under.
    pub fn root(&self) -> &Path {
        &self.ctl.root
    }

    /// The data directory (PGDATA), `root/data`.
    pub fn data_dir(&self) -> &Path {
        &self.ctl.data_dir
    }

    /// The directory holding the server's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The port (names the socket file `.s.PGSQL.<port>` in [`Cluster::socket_dir`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's process id when this `Cluster` was made.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The directory of the initdb/pg_ctl/postgres binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.ctl.bin_dir
    }

    /// The server log, `root/log/postgresql.log`.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The superuser role name (always [`SUPERUSER`]).
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// The system user the server runs as when this process is root
    /// ([`SERVER_OS_USER`]); `None` when it runs as this process's user.
    pub fn server_os_user(&self) -> Option<&str> {
        self.ctl.run_as.as_ref().map(|r| r.name.as_str())
    }

    /// True if this call started the server; false if it adopted a running one.
    pub fn started_by_us(&self) -> bool {
        self.started_by_us
    }

    /// Whether a postmaster is running on this data directory now.
    pub fn is_running(&self) -> bool {
        matches!(self.ctl.live_pid_file(), Ok(Some(_)))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.stop_on_drop {
            return;
        }
        unregister_at_exit(&self.ctl.data_dir);
        if let Err(e) = self.ctl.stop(true) {
            tracing::warn!(root = %self.ctl.root.display(), "stopping throwaway PostgreSQL failed: {e:#}");
        }
        // `tempdir` is dropped after this, deleting the directory.
    }
}

/// A fresh cluster for tests in a new `/tmp/pg_shell-cluster-*` directory:
/// fsync off, max_connections 200; the server package is installed first if no
/// PostgreSQL can be found (so `cargo test` works on a fresh machine). The returned cluster owns
/// the directory: dropping it stops the server (immediate mode), then deletes
/// the directory. It is also registered with [`Cluster::stop_at_exit`], and
/// orphans of earlier test processes are reaped first (see the module doc).
/// As root the directory is made 0755 so the `postgres` user can enter it.
pub fn throwaway() -> Result<Cluster> {
    throwaway_with_fsync(false)
}

/// [`throwaway`], with fsync on or off: benchmarks measure with fsync on, as a
/// real deployment runs; tests turn it off.
pub fn throwaway_with_fsync(fsync: bool) -> Result<Cluster> {
    let bin_dir = Cluster::ensure_installed(true)?;
    reap_orphans_with(&bin_dir);
    let dir = tempfile::Builder::new()
        .prefix(THROWAWAY_PREFIX)
        .tempdir_in(THROWAWAY_PARENT)
        .with_context(|| format!("cannot create a temporary directory in {THROWAWAY_PARENT}"))?;
    set_mode(dir.path(), 0o755)?;
    let owner = dir.path().join(OWNER_FILE);
    fs::write(&owner, format!("{}\n", std::process::id()))
        .with_context(|| format!("cannot write {}", owner.display()))?;
    let mut opts = ClusterOptions::new(dir.path());
    opts.fsync = fsync;
    opts.extra_settings.push(("max_connections".into(), "200".into()));
    let mut cluster = Cluster::start(opts)?;
    cluster.tempdir = Some(dir);
    cluster.stop_on_drop = true;
    cluster.stop_at_exit();
    Ok(cluster)
}

/// Stops and deletes throwaway clusters (`/tmp/pg_shell-cluster-*` owned by
/// this user) whose creating process no longer exists: what a test process
/// killed by a signal leaves behind. Best effort; returns how many it removed.
/// [`throwaway`] calls it.
pub fn reap_orphaned_throwaways() -> usize {
    match Cluster::find_bin_dir() {
        Ok(bin_dir) => reap_orphans_with(&bin_dir),
        Err(_) => 0,
    }
}

fn reap_orphans_with(bin_dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(THROWAWAY_PARENT) else { return 0 };
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let me = std::process::id();
    let mut reaped = 0;
    for entry in entries.flatten() {
        if !entry.file_name().as_bytes().starts_with(THROWAWAY_PREFIX.as_bytes()) {
            continue;
        }
        let path = entry.path();
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() && meta.uid() == euid => {}
            _ => continue,
        }
        let Some(owner) = fs::read_to_string(path.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        else {
            continue; // not ours, or still being set up
        };
        if owner as u32 == me || pid_alive(owner) {
            continue;
        }
        match reap_one(&path, bin_dir) {
            Ok(true) => reaped += 1,
            Ok(false) => {}
            Err(e) => tracing::debug!(dir = %path.display(), "reaping orphaned cluster failed: {e:#}"),
        }
    }
    reaped
}

fn reap_one(root: &Path, bin_dir: &Path) -> Result<bool> {
    // Serializes with other reapers; the owner is dead, so no start holds it.
    let _lock = match lock_exclusive(&root.join(LOCK_FILE)) {
        Ok(lock) => lock,
        Err(_) if !root.exists() => return Ok(false), // another reaper finished it
        Err(e) => return Err(e),
    };
    let ctl = Ctl {
        bin_dir: bin_dir.to_path_buf(),
        root: root.to_path_buf(),
        data_dir: root.join("data"),
        run_as: RunAs::for_current_process()?,
    };
    ctl.stop(true)?;
    match fs::remove_dir_all(root) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", root.display())),
    }
}

// ---------------------------------------------------------------------------
// pg_ctl / initdb on one data directory

/// What it takes to run initdb/pg_ctl on one data directory.
#[derive(Debug, Clone)]
struct Ctl {
    bin_dir: PathBuf,
    root: PathBuf,
    data_dir: PathBuf,
    run_as: Option<RunAs>,
}

impl Ctl {
    /// A command for one of the server binaries: cwd the root, stdin null,
    /// PG* variables removed, C messages, and as the server user when root.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir(&self.root).stdin(Stdio::null()).env("LC_ALL", "C");
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(b"PG") {
                cmd.env_remove(key);
            }
        }
        if let Some(run_as) = &self.run_as {
            run_as.apply(&mut cmd);
        }
        cmd
    }

    fn run(&self, cmd: &mut Command, what: &str) -> Result<Output> {
        cmd.output()
            .with_context(|| format!("cannot run {} ({what})", Path::new(cmd.get_program()).display()))
    }

    fn initdb(&self, opts: &ClusterOptions, socket_dir: &Path) -> Result<()> {
        if self.data_dir.exists() {
            let mut entries = fs::read_dir(&self.data_dir)
                .with_context(|| format!("cannot read {}", self.data_dir.display()))?;
            if entries.next().is_some() {
                bail!(
                    "{} exists but is not a PostgreSQL data directory (it has no PG_VERSION); move it away or pick another root",
                    self.data_dir.display()
                );
            }
        }
        // Leftovers of an initdb killed half-way; we hold the lock, so none is running.
        for entry in fs::read_dir(&self.root)
            .with_context(|| format!("cannot read {}", self.root.display()))?
            .flatten()
        {
            if entry.file_name().as_bytes().starts_with(INITDB_PREFIX.as_bytes()) {
                let path = entry.path();
                fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove the unfinished initdb in {}", path.display()))?;
            }
        }
        let tmp = self.root.join(format!("{INITDB_PREFIX}{}", std::process::id()));
        make_private_dir(&tmp, self.run_as.as_ref())?;
        let started = Instant::now();
        let mut cmd = self.command("initdb");
        cmd.arg("-D")
            .arg(&tmp)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"]);
        if !opts.fsync {
            cmd.arg("--no-sync");
        }
        let out = self.run(&mut cmd, "initdb")?;
        if !out.status.success() {
            let _ = fs::remove_dir_all(&tmp);
            bail!("initdb for {} failed ({}): {}", self.data_dir.display(), out.status, output_text(&out));
        }
        let conf = tmp.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).with_context(|| format!("cannot read {}", conf.display()))?;
        text.push_str(&format!("\n# pg_shell's settings, rewritten before every start\ninclude '{SETTINGS_FILE}'\n"));
        fs::write(&conf, text).with_context(|| format!("cannot write {}", conf.display()))?;
        self.write_settings(&tmp, opts, socket_dir)?;
        fs::rename(&tmp, &self.data_dir).with_context(|| {
            format!("cannot rename the new cluster {} to {}", tmp.display(), self.data_dir.display())
        })?;
        if opts.fsync {
            File::open(&self.root)
                .and_then(|dir| dir.sync_all())
                .with_context(|| format!("cannot sync {}", self.root.display()))?;
        }
        tracing::info!(
            data_dir = %self.data_dir.display(),
            ms = started.elapsed().as_millis() as u64,
            "initialized PostgreSQL cluster"
        );
        Ok(())
    }

    /// Writes `pg_shell.conf` into `data_dir`.
    fn write_settings(&self, data_dir: &Path, opts: &ClusterOptions, socket_dir: &Path) -> Result<()> {
        let text = settings_text(opts, socket_dir)?;
        let path = data_dir.join(SETTINGS_FILE);
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if let Some(run_as) = &self.run_as {
            run_as.chown(&path)?;
        }
        Ok(())
    }

    fn pg_ctl_start(&self, log_file: &Path) -> Result<()> {
        let log_offset = fs::metadata(log_file).map(|m| m.len()).unwrap_or(0);
        let started = Instant::now();
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(log_file)
            .args(["-w", "-s", "-t", &TIMEOUT_SECS.to_string()]);
        let out = self.run(&mut cmd, "pg_ctl start")?;
        if !out.status.success() {
            bail!(
                "starting PostgreSQL on {} failed ({}): {}\n--- {} ---\n{}",
                self.data_dir.display(),
                out.status,
                output_text(&out),
                log_file.display(),
                log_tail(log_file, log_offset)
            );
        }
        tracing::info!(
            data_dir = %self.data_dir.display(),
            ms = started.elapsed().as_millis() as u64,
            "started PostgreSQL"
        );
        Ok(())
    }

    fn stop(&self, immediate: bool) -> Result<()> {
        if self.live_pid_file()?.is_none() {
            return Ok(());
        }
        let mode = if immediate { "immediate" } else { "fast" };
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", mode, "-w", "-s", "-t", &TIMEOUT_SECS.to_string()]);
        let out = self.run(&mut cmd, "pg_ctl stop")?;
        if out.status.success() || self.live_pid_file()?.is_none() {
            return Ok(()); // (or someone else stopped it meanwhile)
        }
        bail!(
            "`pg_ctl stop -m {mode}` on {} failed ({}): {}",
            self.data_dir.display(),
            out.status,
            output_text(&out)
        )
    }

    /// postmaster.pid if a postmaster process for this data directory exists
    /// (in any state); None if there is none or the file is stale.
    fn live_pid_file(&self) -> Result<Option<PidFile>> {
        let path = self.data_dir.join("postmaster.pid");
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let pid_file = PidFile::parse(&String::from_utf8_lossy(&bytes));
        // pid 0: the file is being written, so a postmaster is starting.
        if pid_file.pid == 0 || pid_alive(pid_file.pid) {
            Ok(Some(pid_file))
        } else {
            Ok(None)
        }
    }

    /// Some(pid file) once a running postmaster accepts connections; None if no
    /// postmaster is running. Waits, up to a deadline, while one starts or stops.
    fn wait_until_ready_or_gone(&self) -> Result<Option<PidFile>> {
        let deadline = Instant::now() + Duration::from_secs(TIMEOUT_SECS);
        loop {
            let last = match self.live_pid_file()? {
                None => return Ok(None),
                Some(p) if p.status == "ready" || p.status == "standby" => return Ok(Some(p)),
                Some(p) => p,
            };
            if Instant::now() >= deadline {
                bail!(
                    "a PostgreSQL server (pid {}) on {} has stayed in state {:?} for {TIMEOUT_SECS}s; stop it or look at its log",
                    last.pid,
                    self.data_dir.display(),
                    last.status
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The parts of `postmaster.pid` we use.
#[derive(Debug, Clone, PartialEq)]
struct PidFile {
    /// 0 if the file is incomplete; negative pids (single-user backends) made positive.
    pid: i32,
    port: Option<u16>,
    socket_dir: Option<PathBuf>,
    /// "starting", "stopping", "ready", "standby", or "" while not yet written.
    status: String,
}

impl PidFile {
    fn parse(text: &str) -> PidFile {
        let lines: Vec<&str> = text.lines().collect();
        let line = |i: usize| lines.get(i).map(|l| l.trim()).unwrap_or("");
        PidFile {
            pid: line(0).parse::<i32>().map(|p| p.saturating_abs()).unwrap_or(0),
            port: line(3).parse().ok(),
            socket_dir: Some(line(4)).filter(|s| !s.is_empty()).map(PathBuf::from),
            status: line(7).to_string(),
        }
    }
}

fn settings_text(opts: &ClusterOptions, socket_dir: &Path) -> Result<String> {
    let socket_dir = socket_dir.to_str().context("the socket directory is not valid UTF-8")?;
    let mut settings: Vec<(&str, String)> = vec![
        ("listen_addresses", String::new()),
        // A list; double quotes keep spaces and commas in the path.
        ("unix_socket_directories", format!("\"{}\"", socket_dir.replace('"', "\"\""))),
        ("unix_socket_permissions", "0700".into()),
        ("port", DEFAULT_PORT.to_string()),
        ("fsync", on_off(opts.fsync)),
    ];
    if !opts.fsync {
        settings.push(("synchronous_commit", "off".into()));
        settings.push(("full_page_writes", "off".into()));
    }
    let mut text = String::from(
        "# Written by pg_shell before every start; edits here are lost. Use ALTER SYSTEM instead.\n",
    );
    for (key, value) in settings
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(opts.extra_settings.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            bail!("invalid PostgreSQL setting name {key:?}");
        }
        if value.contains(['\n', '\r', '\0']) {
            bail!("the value of PostgreSQL setting {key} contains a line break or NUL");
        }
        let _ = writeln!(text, "{key} = '{}'", value.replace('\\', "\\\\").replace('\'', "''"));
    }
    Ok(text)
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

// ---------------------------------------------------------------------------
// at-exit hook

struct ExitEntry {
    ctl: Ctl,
    remove_root: bool,
    registrant: u32,
}

static AT_EXIT: Mutex<Vec<ExitEntry>> = Mutex::new(Vec::new());

fn unregister_at_exit(data_dir: &Path) {
    let mut entries = AT_EXIT.lock().unwrap_or_else(|p| p.into_inner());
    entries.retain(|e| e.ctl.data_dir != data_dir);
}

extern "C" fn stop_registered_clusters() {
    let _ = std::panic::catch_unwind(|| {
        let entries = match AT_EXIT.try_lock() {
            Ok(mut guard) => std::mem::take(&mut *guard),
            Err(TryLockError::Poisoned(p)) => std::mem::take(&mut *p.into_inner()),
            // Another thread is inside (un)register as we exit; leave it to the reaper.
            Err(TryLockError::WouldBlock) => return,
        };
        let me = std::process::id();
        for entry in entries.into_iter().filter(|e| e.registrant == me) {
            if let Err(e) = entry.ctl.stop(true) {
                eprintln!("pg_shell: stopping PostgreSQL on {} at exit: {e:#}", entry.ctl.data_dir.display());
                continue;
            }
            if entry.remove_root {
                let _ = fs::remove_dir_all(&entry.ctl.root);
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Running as the server user when we are root

#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: libc::uid_t,
    gid: libc::gid_t,
    groups: Vec<libc::gid_t>,
    home: PathBuf,
}

impl RunAs {
    /// None when not root; the `postgres` user when root.
    fn for_current_process() -> Result<Option<RunAs>> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(None);
        }
        let user = lookup_user(SERVER_OS_USER)
            .with_context(|| format!("cannot look up the user {SERVER_OS_USER}"))?
            .ok_or_else(|| {
                anyhow!(
                    "this process runs as root and PostgreSQL refuses to run as root, but there is no `{SERVER_OS_USER}` \
                     system user to run it as: create one (Debian's postgresql package does; or `useradd --system \
                     --home-dir /var/lib/postgresql {SERVER_OS_USER}`), run pg_shell as an ordinary user, or set DATABASE_URL"
                )
            })?;
        if user.uid == 0 {
            bail!("the `{SERVER_OS_USER}` user has uid 0, and PostgreSQL refuses to run as root");
        }
        let groups = group_list(&user.name, user.gid)?;
        Ok(Some(RunAs { name: user.name, uid: user.uid, gid: user.gid, groups, home: user.home }))
    }

    fn apply(&self, cmd: &mut Command) {
        let (uid, gid, groups) = (self.uid, self.gid, self.groups.clone());
        cmd.env("HOME", &self.home).env("USER", &self.name).env("LOGNAME", &self.name);
        // SAFETY: runs in the forked child before exec and makes only three
        // async-signal-safe system calls on data allocated before the fork.
        // (CommandExt::uid/gid would clear the supplementary groups before
        // pre_exec runs, and setgroups needs root, hence all three here.)
        unsafe {
            cmd.pre_exec(move || {
                if libc::setgroups(groups.len() as _, groups.as_ptr()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    fn chown(&self, path: &Path) -> Result<()> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .with_context(|| format!("cannot chown {} to {}", path.display(), self.name))
    }

    /// Whether this user may search (enter) a directory with these attributes.
    fn can_traverse(&self, meta: &fs::Metadata) -> bool {
        let mode = meta.mode();
        if meta.uid() == self.uid {
            mode & 0o100 != 0
        } else if meta.gid() == self.gid || self.groups.contains(&meta.gid()) {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    }
}

struct Passwd {
    name: String,
    uid: libc::uid_t,
    gid: libc::gid_t,
    home: PathBuf,
}

fn lookup_user(name: &str) -> io::Result<Option<Passwd>> {
    let cname = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: getpwnam_r writes only into pwd/buf/result, which outlive the call.
    getpw(|pwd, buf, len, result| unsafe { libc::getpwnam_r(cname.as_ptr(), pwd, buf, len, result) })
}

#[cfg_attr(target_os = "macos", allow(dead_code))]
fn lookup_uid(uid: libc::uid_t) -> io::Result<Option<Passwd>> {
    // SAFETY: as above.
    getpw(|pwd, buf, len, result| unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) })
}

fn getpw(
    call: impl Fn(*mut libc::passwd, *mut libc::c_char, libc::size_t, *mut *mut libc::passwd) -> libc::c_int,
) -> io::Result<Option<Passwd>> {
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: passwd is plain old data; all-zero is a valid value.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc == libc::ENOENT || rc == libc::ESRCH || rc == libc::EBADF || rc == libc::EPERM {
            return Ok(None); // what some systems return for "no such user"
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if result.is_null() {
            return Ok(None);
        }
        // SAFETY: on success pw_name and pw_dir point to NUL-terminated strings in buf.
        let (name, home) = unsafe { (CStr::from_ptr(pwd.pw_name), CStr::from_ptr(pwd.pw_dir)) };
        return Ok(Some(Passwd {
            name: name.to_string_lossy().into_owned(),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            home: PathBuf::from(OsStr::from_bytes(home.to_bytes())),
        }));
    }
}

#[cfg(target_os = "macos")]
type GroupListItem = libc::c_int;
#[cfg(not(target_os = "macos"))]
type GroupListItem = libc::gid_t;

fn group_list(name: &str, gid: libc::gid_t) -> Result<Vec<libc::gid_t>> {
    let cname = CString::new(name).context("user name contains NUL")?;
    let mut capacity: libc::c_int = 32;
    loop {
        let mut groups: Vec<GroupListItem> = vec![0; capacity as usize];
        let mut count = capacity;
        // SAFETY: groups has room for `count` entries.
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), gid as _, groups.as_mut_ptr(), &mut count) };
        if rc >= 0 {
            groups.truncate(count.max(0) as usize);
            return Ok(groups.into_iter().map(|g| g as libc::gid_t).collect());
        }
        if capacity >= 65536 {
            bail!("cannot list the groups of {name}");
        }
        capacity = (capacity * 2).max(count);
    }
}

/// Checks that `run_as` may enter every existing directory on the way to (and
/// including) `root`; directories not there yet are skipped.
fn check_traversable(root: &Path, run_as: &RunAs) -> Result<()> {
    let mut dirs: Vec<&Path> = root.ancestors().collect();
    dirs.reverse();
    for dir in dirs {
        let meta = match fs::metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(e).with_context(|| format!("cannot stat {}", dir.display())),
        };
        if !meta.is_dir() {
            bail!("{} is not a directory (on the way to the cluster root {})", dir.display(), root.display());
        }
        if !run_as.can_traverse(&meta) {
            bail!(
                "PostgreSQL must run as the `{}` user because this process is root, and that user cannot enter {} \
                 (owner uid {}, mode {:o}) on the way to the cluster root {}. Pick a root outside it \
                 (as root `pg_shell up` defaults to /var/lib/pg_shell; set PG_SHELL_HOME to choose another; tests \
                 use /tmp), or let the user in: chmod o+x {}",
                run_as.name,
                dir.display(),
                meta.uid(),
                meta.mode() & 0o7777,
                root.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Finding and installing the binaries

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn pg_bin_override() -> Result<Option<PathBuf>> {
    match env_path("PG_SHELL_PG_BIN") {
        Some(dir) if is_bin_dir(&dir) => Ok(Some(dir)),
        Some(dir) => bail!(
            "PG_SHELL_PG_BIN={} does not contain the PostgreSQL server binaries initdb, pg_ctl and postgres",
            dir.display()
        ),
        None => Ok(None),
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

fn is_bin_dir(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|b| is_executable(&dir.join(b)))
}

/// Directories holding initdb, pg_ctl and postgres, best first, without duplicates.
fn candidate_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !dir.is_absolute() || !is_executable(&initdb) {
                continue;
            }
            if is_bin_dir(&dir) {
                dirs.push(dir);
            } else if let Some(real) = fs::canonicalize(&initdb).ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
                dirs.push(real);
            }
        }
    }
    dirs.extend(versioned_dirs("/usr/lib/postgresql", "", "bin"));
    dirs.push("/usr/local/pgsql/bin".into());
    dirs.extend(versioned_dirs("/opt/homebrew/opt", "postgresql@", "bin"));
    dirs.extend(versioned_dirs("/usr/local/opt", "postgresql@", "bin"));
    dirs.push("/opt/homebrew/bin".into());
    dirs.push("/Applications/Postgres.app/Contents/Versions/latest/bin".into());
    let mut seen = Vec::new();
    dirs.retain(|d| is_bin_dir(d) && !seen.contains(d) && {
        seen.push(d.clone());
        true
    });
    dirs
}

/// `parent/<prefix><version>/<sub>` for every version found, highest first.
fn versioned_dirs(parent: &str, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else { return Vec::new() };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let version = parse_version(name.strip_prefix(prefix)?)?;
            Some((version, e.path().join(sub)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// "15" -> [15], "9.6" -> [9, 6]; None unless all dot-separated parts are numbers.
fn parse_version(s: &str) -> Option<Vec<u32>> {
    s.split('.').map(|p| p.parse().ok()).collect()
}

fn not_found_error() -> anyhow::Error {
    anyhow!(
        "the PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in the usual places \
         (/usr/lib/postgresql/<version>/bin, /usr/local/pgsql/bin, /opt/homebrew/opt/postgresql@<version>/bin, \
         /usr/local/opt/postgresql@<version>/bin, Postgres.app). Install the server (Debian/Ubuntu: \
         `apt-get install postgresql`; macOS: `brew install {HOMEBREW_FORMULA}`), or set PG_SHELL_PG_BIN to its \
         bin directory, or set DATABASE_URL to use an existing PostgreSQL server"
    )
}

/// The major version a bin dir's `postgres --version` reports ("15", "9.6").
fn server_major_version(bin_dir: &Path) -> Result<String> {
    let postgres = bin_dir.join("postgres");
    let out = Command::new(&postgres)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} --version", postgres.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    major_from_version_output(&text)
        .ok_or_else(|| anyhow!("cannot parse the version in {:?} from {}", text.trim(), postgres.display()))
}

/// "postgres (PostgreSQL) 15.18 (Debian ...)" -> "15"; "... 9.6.24" -> "9.6"; "17beta1" -> "17".
fn major_from_version_output(text: &str) -> Option<String> {
    let version = text.split("(PostgreSQL)").nth(1)?.split_whitespace().next()?;
    let mut parts = version.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let first = parts.next()??;
    if first >= 10 {
        Some(first.to_string())
    } else {
        Some(format!("{first}.{}", parts.next()??))
    }
}

fn read_pg_version(data_dir: &Path) -> Result<Option<String>> {
    let path = data_dir.join("PG_VERSION");
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The first candidate bin dir whose server has the data directory's major version.
fn bin_dir_for_version(major: &str, install: bool, data_dir: &Path) -> Result<PathBuf> {
    let candidates = match pg_bin_override()? {
        Some(dir) => vec![dir],
        None => {
            let found = candidate_bin_dirs();
            if found.is_empty() {
                vec![Cluster::ensure_installed(install)?]
            } else {
                found
            }
        }
    };
    let mut seen = Vec::new();
    for dir in candidates {
        match server_major_version(&dir) {
            Ok(v) if v == major => return Ok(dir),
            Ok(v) => seen.push(format!("{} ({v})", dir.display())),
            Err(e) => seen.push(format!("{} ({e:#})", dir.display())),
        }
    }
    bail!(
        "{} was created by PostgreSQL {major}, but only these servers were found: {}. Install PostgreSQL {major} \
         (or set PG_SHELL_PG_BIN to its bin directory), or upgrade the data directory with pg_upgrade",
        data_dir.display(),
        seen.join(", ")
    )
}

#[cfg(target_os = "linux")]
fn install_server() -> Result<()> {
    if !Path::new("/etc/debian_version").exists() {
        bail!(
            "installing PostgreSQL automatically is only implemented for Debian and Ubuntu: install the \
             PostgreSQL server with your package manager, or set PG_SHELL_PG_BIN or DATABASE_URL"
        );
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!(
            "installing PostgreSQL needs root: run `sudo apt-get install postgresql` (or run this as root), \
             or set DATABASE_URL to use an existing server"
        );
    }
    tracing::info!("PostgreSQL not found; installing it with apt-get");
    for args in [&["update"][..], &["install", "-y", "--no-install-recommends", "postgresql"][..]] {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run_installer(cmd)?;
    }
    Ok(())
}

#[cfg(target_os = "macos")]
fn install_server() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        bail!("Homebrew refuses to run as root: run `brew install {HOMEBREW_FORMULA}` as your user, or set DATABASE_URL");
    }
    let brew = ["/opt/homebrew/bin/brew", "/usr/local/bin/brew"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| is_executable(p))
        .or_else(|| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path).map(|d| d.join("brew")).find(|p| is_executable(p))
            })
        })
        .ok_or_else(|| {
            anyhow!(
                "PostgreSQL is not installed and Homebrew was not found: install Homebrew and run \
                 `brew install {HOMEBREW_FORMULA}`, or install Postgres.app, or set DATABASE_URL"
            )
        })?;
    tracing::info!("PostgreSQL not found; installing {HOMEBREW_FORMULA} with Homebrew");
    let mut cmd = Command::new(brew);
    cmd.args(["install", HOMEBREW_FORMULA]);
    run_installer(cmd)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn install_server() -> Result<()> {
    bail!("installing PostgreSQL automatically is not supported on this system: install it, or set PG_SHELL_PG_BIN or DATABASE_URL")
}

/// Runs an installer with its output on our stderr (installs are long; the user
/// should see progress, and stdout may be meant for something else).
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn run_installer(mut cmd: Command) -> Result<()> {
    use std::os::fd::AsFd;
    let stderr = io::stderr().as_fd().try_clone_to_owned().context("cannot duplicate stderr")?;
    cmd.stdin(Stdio::null()).stdout(Stdio::from(stderr));
    let status = cmd.status().with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status}); its output is above");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Small helpers

fn home_dir() -> PathBuf {
    if let Some(home) = env_path("HOME") {
        return home;
    }
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    #[cfg(not(target_os = "macos"))]
    if let Ok(Some(pw)) = lookup_uid(uid) {
        return pw.home;
    }
    std::env::temp_dir().join(format!("pg_shell-{uid}"))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {:o} {}", mode, path.display()))
}

/// Creates `dir` (and parents) if needed, makes it 0700 and, when root, the
/// server user's.
fn make_private_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    set_mode(dir, 0o700)?;
    if let Some(run_as) = run_as {
        run_as.chown(dir)?;
    }
    Ok(())
}

fn check_socket_path(socket_dir: &Path) -> Result<()> {
    // ".s.PGSQL." plus up to 5 port digits, after a slash.
    let len = socket_dir.as_os_str().len() + "/.s.PGSQL.".len() + 5;
    if len > SUN_PATH_MAX {
        bail!(
            "the cluster root is too deep: the server's socket path under {} would be {len} bytes, and unix \
             sockets allow {SUN_PATH_MAX}; pick a shorter root (set PG_SHELL_HOME)",
            socket_dir.display()
        );
    }
    Ok(())
}

/// Opens (creating) `path` and takes an exclusive flock on it, waiting for it.
/// The lock lasts as long as the returned file is open (it is close-on-exec,
/// so children such as the postmaster never inherit it).
fn lock_exclusive(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    loop {
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(file);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
}

/// Whether process `pid` exists (and is not a zombie).
fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let exists = unsafe { libc::kill(pid, 0) } == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    #[cfg(target_os = "linux")]
    if exists {
        // A zombie (dead, not yet reaped) still "exists" for kill(2).
        if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) {
            if let Some(state) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) {
                return state != "Z" && state != "X";
            }
        }
    }
    exists
}

/// stderr and stdout of a finished command, trimmed, for error messages.
fn output_text(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = [stderr.trim(), stdout.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if text.is_empty() {
        "(no output)".into()
    } else {
        text
    }
}

/// The last 40 lines of `path` written after byte `from` (at most 64 KiB).
fn log_tail(path: &Path, from: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(cannot open {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = from.min(len).max(len.saturating_sub(64 * 1024));
    let mut buf = Vec::new();
    if file.seek(SeekFrom::Start(start)).and_then(|_| file.read_to_end(&mut buf)).is_err() {
        return format!("(cannot read {})", path.display());
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    if tail.is_empty() {
        "(empty)".into()
    } else {
        tail
    }
}

/// A key=value connection-string value, quoted when needed.
fn kv_quote(value: &str) -> String {
    if !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_string();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `sql` (one row, one text-castable column) over tokio-postgres.
    fn query_one(conn: &str, sql: &str) -> Result<String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
                .await
                .with_context(|| format!("connect {conn}"))?;
            let task = tokio::spawn(connection);
            let row = client.query_one(sql, &[]).await?;
            let value: String = row.try_get(0)?;
            drop(client);
            let _ = task.await;
            Ok(value)
        })
    }

    fn execute(conn: &str, sql: &str) -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls).await?;
            let task = tokio::spawn(connection);
            client.batch_execute(sql).await?;
            drop(client);
            let _ = task.await;
            Ok(())
        })
    }

    fn scratch_root() -> tempfile::TempDir {
        let dir = tempfile::Builder::new().prefix("pgc-test-").tempdir_in("/tmp").unwrap();
        set_mode(dir.path(), 0o755).unwrap();
        dir
    }

    fn fast_opts(root: &Path) -> ClusterOptions {
        let mut opts = ClusterOptions::new(root);
        opts.fsync = false;
        opts
    }

    #[test]
    fn throwaway_cluster_answers_select_1() {
        let cluster = throwaway().unwrap();
        assert!(cluster.started_by_us());
        assert_eq!(query_one(&cluster.connection_string("postgres"), "select 1::text").unwrap(), "1");
        assert_eq!(query_one(&cluster.url("postgres"), "select 1::text").unwrap(), "1");
        let conn = cluster.connection_string("postgres");
        assert_eq!(query_one(&conn, "show listen_addresses").unwrap(), "");
        assert_eq!(query_one(&conn, "show fsync").unwrap(), "off");
        assert_eq!(query_one(&conn, "show max_connections").unwrap(), "200");
        assert_eq!(query_one(&conn, "select current_user::text").unwrap(), "postgres");
        assert_eq!(query_one(&conn, "show server_encoding").unwrap(), "UTF8");
        assert!(cluster.socket_dir().join(".s.PGSQL.5432").exists());
        let mode = fs::metadata(cluster.socket_dir()).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);

        let (root, pid) = (cluster.root().to_path_buf(), cluster.pid());
        assert!(pid_alive(pid));
        drop(cluster);
        assert!(!pid_alive(pid), "postmaster {pid} survived drop");
        assert!(!root.exists(), "{} survived drop", root.display());
    }

    #[test]
    fn restart_keeps_data_and_second_start_adopts() {
        let cluster = throwaway().unwrap();
        let conn = cluster.connection_string("postgres");
        execute(&conn, "create table t (v text); insert into t values ('kept')").unwrap();
        let old_pid = cluster.pid();
        cluster.stop(false).unwrap();
        assert!(!cluster.is_running());
        assert!(!pid_alive(old_pid));
        cluster.stop(false).unwrap(); // idempotent

        let again = Cluster::start(fast_opts(cluster.root())).unwrap();
        assert!(again.started_by_us());
        assert_ne!(again.pid(), old_pid);
        assert_eq!(query_one(&again.connection_string("postgres"), "select v from t").unwrap(), "kept");

        let adopted = Cluster::start(fast_opts(cluster.root())).unwrap();
        assert!(!adopted.started_by_us());
        assert_eq!(adopted.pid(), again.pid());
        assert_eq!(adopted.connection_string("x"), again.connection_string("x"));
        drop(adopted);
        drop(again);
        assert!(cluster.is_running(), "dropping a non-throwaway Cluster must not stop the server");
        // Dropping the throwaway stops the server it (re)started on its root.
        let pid = cluster.ctl.live_pid_file().unwrap().unwrap().pid;
        drop(cluster);
        assert!(!pid_alive(pid));
    }

    #[test]
    fn concurrent_starts_on_one_root_share_one_server() {
        let dir = scratch_root();
        // A space in the path exercises the conf, key=value and URL quoting.
        let root = dir.path().join("with space");
        let barrier = std::sync::Barrier::new(2);
        let (a, b) = std::thread::scope(|s| {
            let start = || {
                barrier.wait();
                Cluster::start(fast_opts(&root))
            };
            let a = s.spawn(start);
            let b = s.spawn(start);
            (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
        });
        assert_eq!(a.pid(), b.pid());
        assert!(a.started_by_us() != b.started_by_us(), "exactly one start should have started the server");
        assert!(a.connection_string("postgres").contains("host='"), "{}", a.connection_string("postgres"));
        assert_eq!(query_one(&a.connection_string("postgres"), "select 1::text").unwrap(), "1");
        assert_eq!(query_one(&b.url("postgres"), "select 2::text").unwrap(), "2");

        // psql understands both forms too (as root it connects through the 0700 socket).
        let psql = [a.bin_dir().join("psql"), PathBuf::from("/usr/bin/psql")].into_iter().find(|p| is_executable(p));
        if let Some(psql) = psql {
            for target in [a.url("postgres"), a.connection_string("postgres")] {
                let out = Command::new(&psql).args([&target, "-Atc", "select 3"]).output().unwrap();
                assert!(out.status.success(), "psql {target}: {}", output_text(&out));
                assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
            }
        }

        a.stop(true).unwrap();
        assert!(!b.is_running());
        b.stop(true).unwrap();
    }

    #[test]
    fn root_the_server_user_cannot_enter_is_refused() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let dir = tempfile::Builder::new().prefix("pgc-test-").tempdir_in("/tmp").unwrap();
        set_mode(dir.path(), 0o700).unwrap();
        let err = Cluster::start(fast_opts(&dir.path().join("cluster"))).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("cannot enter") && msg.contains(&dir.path().display().to_string()), "{msg}");
    }

    #[test]
    fn bad_setting_name_is_refused() {
        let mut opts = fast_opts(Path::new("/nonexistent"));
        opts.extra_settings.push(("bad name".into(), "1".into()));
        let err = settings_text(&opts, Path::new("/tmp/x/run")).unwrap_err();
        assert!(err.to_string().contains("invalid PostgreSQL setting name"));
    }

    const CHILD_ENV: &str = "PGCLUSTER_TEST_CHILD";

    /// Runs one of the ignored `child_*` helpers below, and only it, in a new
    /// process of this test binary.
    fn run_child(name: &str, mode: &str) -> (PathBuf, i32) {
        // The harness names tests by their path without the crate.
        let module = module_path!().split_once("::").map_or(module_path!(), |(_, m)| m);
        let out = Command::new(std::env::current_exe().unwrap())
            .args([&format!("{module}::{name}"), "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, mode)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child {name} failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let field = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.split_once(key).map(|(_, value)| value.trim()))
                .unwrap_or_else(|| panic!("child printed no {key}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
                .to_string()
        };
        (PathBuf::from(field("PGC_ROOT=")), field("PGC_PID=").parse().unwrap())
    }

    /// The body of a helper process: starts a throwaway cluster, prints where
    /// it is, and ends the process the way `expected_mode` says.
    fn child_body(expected_mode: &str) {
        if std::env::var(CHILD_ENV).as_deref() != Ok(expected_mode) {
            // Run by hand (e.g. `--include-ignored`): there is nothing to check here.
            eprintln!("helper process: only meaningful when spawned by run_child with {CHILD_ENV}={expected_mode}");
            return;
        }
        let cluster = throwaway().unwrap();
        println!("PGC_ROOT={}", cluster.root().display());
        println!("PGC_PID={}", cluster.pid());
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        if expected_mode == "exit" {
            std::process::exit(0); // runs atexit hooks, never drops `cluster`
        } else {
            // SAFETY: ends the process at once, like a kill: no hooks, no drops.
            unsafe { libc::_exit(0) };
        }
    }

    #[test]
    #[ignore = "helper process: run by at_exit_hook_stops_and_deletes_throwaway"]
    fn child_for_exit_hook() {
        child_body("exit");
    }

    #[test]
    #[ignore = "helper process: run by orphans_of_killed_processes_are_reaped"]
    fn child_for_orphan() {
        child_body("orphan");
    }

    #[test]
    fn at_exit_hook_stops_and_deletes_throwaway() {
        let (root, pid) = run_child("child_for_exit_hook", "exit");
        assert!(!pid_alive(pid), "postmaster {pid} outlived its test process");
        assert!(!root.exists(), "{} outlived its test process", root.display());
    }

    #[test]
    fn orphans_of_killed_processes_are_reaped() {
        let (root, pid) = run_child("child_for_orphan", "orphan");
        // (Another test's throwaway() may reap it first; either way it must end up gone.)
        reap_orphaned_throwaways();
        assert!(!pid_alive(pid), "orphaned postmaster {pid} was not stopped");
        assert!(!root.exists(), "orphaned {} was not removed", root.display());
    }

    #[test]
    fn helpers() {
        assert_eq!(kv_quote("/tmp/a/run"), "/tmp/a/run");
        assert_eq!(kv_quote("a b'c\\"), "'a b\\'c\\\\'");
        assert_eq!(kv_quote(""), "''");
        assert_eq!(percent_encode(b"/tmp/a b/run"), "%2Ftmp%2Fa%20b%2Frun");
        assert_eq!(
            major_from_version_output("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(),
            Some("15")
        );
        assert_eq!(major_from_version_output("postgres (PostgreSQL) 9.6.24").as_deref(), Some("9.6"));
        assert_eq!(major_from_version_output("postgres (PostgreSQL) 17beta1").as_deref(), Some("17"));
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("16"), Some(vec![16]));
        assert_eq!(parse_version("common"), None);
        let pf = PidFile::parse("1234\n/tmp/x/data\n1700000000\n5432\n/tmp/x/run\n\n  5432001   4\nready   \n");
        assert_eq!(pf.pid, 1234);
        assert_eq!(pf.port, Some(5432));
        assert_eq!(pf.socket_dir.as_deref(), Some(Path::new("/tmp/x/run")));
        assert_eq!(pf.status, "ready");
        assert_eq!(PidFile::parse("").pid, 0);
        let mut opts = fast_opts(Path::new("/r"));
        opts.extra_settings.push(("search_path".into(), "a, 'b'".into()));
        let text = settings_text(&opts, Path::new("/r/with space/run")).unwrap();
        assert!(text.contains("unix_socket_directories = '\"/r/with space/run\"'"), "{text}");
        assert!(text.contains("search_path = 'a, ''b'''"), "{text}");
        assert!(text.contains("full_page_writes = 'off'"), "{text}");
        assert!(Cluster::default_root().is_absolute());
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Cluster>(); // so tests can keep one in a static OnceLock
    }
}
