//! Issue 8, native programs (items 1-6) and cancellation (item 13): each
//! test performs the attack against the real system (real PostgreSQL, the
//! real executor, native programs built here with the system C compiler)
//! and fails if it works.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pg_shell::db::NativeOptions;

use crate::support::TestDb;

/// The C sources and binaries, built once per test process into a
/// directory every uid may traverse (native commands run as their own uid).
struct Built {
    probe: PathBuf,
    evil_so: PathBuf,
}

fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("native-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        open_up(&dir);
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/native_probe.c");
        let probe = dir.join("probe");
        cc(&["-O2", "-o", probe.to_str().unwrap(), src.to_str().unwrap()]);
        let so_src = dir.join("evil.c");
        std::fs::write(
            &so_src,
            "#include <unistd.h>\n__attribute__((constructor)) static void pwn(void) { write(1, \"PWNED by the preloaded library\\n\", 31); }\n",
        )
        .unwrap();
        let evil_so = dir.join("evil.so");
        cc(&["-shared", "-fPIC", "-Os", "-s", "-o", evil_so.to_str().unwrap(), so_src.to_str().unwrap()]);
        Built { probe, evil_so }
    })
}

fn cc(args: &[&str]) {
    let out = std::process::Command::new("cc").args(args).output().expect("the system C compiler (cc)");
    assert!(out.status.success(), "cc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every ancestor of `dir` traversable, `dir` itself 0777 (a place where a
/// survivor could leave a marker, if anything survived).
fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut p = dir.parent();
    while let Some(d) = p {
        let mode = std::fs::metadata(d).unwrap().permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o011)).unwrap();
        }
        p = d.parent();
    }
}

fn marker_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("native-{name}-{}-{}", std::process::id(), rand_token()));
    std::fs::create_dir_all(&dir).unwrap();
    open_up(&dir);
    dir
}

fn rand_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

async fn register(db: &TestDb, name: &str, path: &Path, o: NativeOptions) {
    pg_shell::db::register_native_with(&db.admin().await, name, path.to_str().unwrap(), &o).await.unwrap();
}

fn host_view() -> NativeOptions {
    NativeOptions { host_view: true, ..NativeOptions::default() }
}

/// Processes on this host whose command line contains `token`.
fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(token) {
                found.push(format!("{name}: {cmd}"));
            }
        }
    }
    found
}

fn scratch_base() -> PathBuf {
    std::env::var_os("PG_SHELL_NATIVE_DIR").map(PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("pg_shell-native"))
}

/// Item 1: `export LD_PRELOAD=./evil.so` (the library written into the
/// session with `base64 -d`) must not reach an allow-listed program.
#[tokio::test]
async fn session_variables_never_reach_the_loader() {
    let b = built();
    // The payload works: run directly with LD_PRELOAD, id prints the marker.
    let direct = std::process::Command::new("/usr/bin/id").env("LD_PRELOAD", &b.evil_so).output().unwrap();
    assert!(String::from_utf8_lossy(&direct.stdout).contains("PWNED"), "the test's payload must work when it is loaded");

    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&b.evil_so).unwrap());
    let c = u.run(s, &format!("echo {b64} | base64 -d > evil.so")).await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let size = std::fs::metadata(&b.evil_so).unwrap().len();
    assert_eq!(u.run(s, "wc -c evil.so").await.stdout().split_whitespace().next(), Some(size.to_string().as_str()));
    for line in [
        "export LD_PRELOAD=./evil.so",
        "export LD_LIBRARY_PATH=.",
        "export LD_AUDIT=./evil.so",
        "export BASH_ENV=./evil.sh",
        "export PYTHONSTARTUP=./evil.py",
        "export PERL5OPT=-Mevil",
        "export NODE_OPTIONS=--require=./evil.js",
        "export GCONV_PATH=.",
        "export MALLOC_CHECK_=3",
        "export PATH=.:/bin",
        "export MY_SETTING=kept",
    ] {
        assert_eq!(u.run(s, line).await.exit_code, Some(0));
    }
    register(&db, "nid", Path::new("/usr/bin/id"), NativeOptions::default()).await;
    register(&db, "nenv", Path::new("/usr/bin/env"), NativeOptions { allow_env: vec!["MY_*".into()], ..NativeOptions::default() }).await;
    let c = u.run(s, "nid").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert!(c.stdout().starts_with("uid="), "{}", c.stdout());
    assert!(!c.stdout().contains("PWNED") && !c.stderr().contains("PWNED"), "the session's LD_PRELOAD reached the loader: {}", c.stdout());

    let env = u.run(s, "nenv").await;
    let keys: Vec<&str> = env.stdout().lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(keys, ["HOME", "LANG", "LOGNAME", "MY_SETTING", "PATH", "PWD", "TMPDIR", "USER"], "{}", env.stdout());
    assert!(env.stdout().contains("PATH=/usr/local/bin:/usr/bin:/bin\n"), "the session's PATH is not used");

    // Even an operator who allow-lists LD_PRELOAD cannot make it load code
    // from the session: its files are mounted without exec.
    register(&db, "nid2", Path::new("/usr/bin/id"), NativeOptions { allow_env: vec!["LD_PRELOAD".into()], ..NativeOptions::default() }).await;
    let c = u.run(s, "nid2").await;
    assert!(!c.stdout().contains("PWNED"), "a library from the session's files was executed: {}", c.stdout());
}

/// Item 2: a `setsid` child holding stdout neither keeps the command running
/// past its timeout nor survives it, nor survives a command that exits.
#[tokio::test]
async fn no_process_of_a_native_command_outlives_it() {
    let b = built();
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    register(&db, "nsurv", &b.probe, host_view()).await;
    register(&db, "nsurv_boxed", &b.probe, NativeOptions::default()).await;
    let dir = marker_dir("survive");
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 1000})).await;

    // The parent waits forever; the survivor sleeps 3 s holding stdout.
    let (t1, m1) = (rand_token(), dir.join("m1"));
    let started = Instant::now();
    let c = u.run(s, &format!("nsurv survive wait 3 {} {t1}", m1.display())).await;
    let took = started.elapsed();
    assert_eq!((c.outcome(), c.exit_code), ("timeout", Some(124)), "{}", c.stderr());
    assert!(took < Duration::from_millis(2800), "the command ended {took:?} after it started (timeout 1 s, survivor 3 s)");
    assert!(c.stdout().contains("forked"), "{}", c.stdout());
    assert_eq!(processes_with(&t1), Vec::<String>::new(), "a process of the timed-out command remains");

    // The parent exits at once: the command is done, and so is its child.
    let (t2, m2) = (rand_token(), dir.join("m2"));
    let c = u.run(s, &format!("nsurv survive exit 3 {} {t2}", m2.display())).await;
    assert_eq!((c.outcome(), c.exit_code), ("exited", Some(0)), "{}", c.stderr());
    assert_eq!(processes_with(&t2), Vec::<String>::new(), "a process of the finished command remains");
    let t3 = rand_token();
    let c = u.run(s, &format!("nsurv_boxed survive exit 3 /tmp/m3 {t3}")).await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_eq!(processes_with(&t3), Vec::<String>::new(), "a process of the confined command remains");

    // Where no cgroup can be made, the PID namespace ends them all.
    pg_shell::runtime::native::WITHOUT_CGROUPS.store(true, std::sync::atomic::Ordering::Relaxed);
    let (t4, m4) = (rand_token(), dir.join("m4"));
    let c = u.run(s, &format!("nsurv survive exit 3 {} {t4}", m4.display())).await;
    let (t5, m5) = (rand_token(), dir.join("m5"));
    let t = u.run(s, &format!("nsurv survive wait 3 {} {t5}", m5.display())).await;
    pg_shell::runtime::native::WITHOUT_CGROUPS.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_eq!(t.outcome(), "timeout", "{}", t.stderr());
    assert_eq!(processes_with(&t4), Vec::<String>::new(), "a process of the command remains (PID namespace)");
    assert_eq!(processes_with(&t5), Vec::<String>::new(), "a process of the timed-out command remains (PID namespace)");

    // Past the survivors' sleep: none of them wrote anything.
    tokio::time::sleep(Duration::from_millis(3800)).await;
    assert!(!m1.exists() && !m2.exists() && !m4.exists() && !m5.exists(), "a survivor wrote its marker");
    assert!(!c.stdout().contains("survivor wrote"));
}

/// Item 3: two users' concurrent native commands: one cannot list, read or
/// write the other's directory (whose path it learned), and a command cannot
/// write past tree_bytes while it runs.
#[tokio::test]
async fn concurrent_native_commands_cannot_reach_each_other() {
    let b = built();
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let mut bob = db.user("bob").await;
    let sa = alice.session().await;
    let sb = bob.session().await;
    register(&db, "nprobe_host", &b.probe, host_view()).await;
    register(&db, "nprobe", &b.probe, NativeOptions::default()).await;
    assert_eq!(alice.run(sa, "writefile secret alice-only").await.exit_code, Some(0));
    let held = alice.client.submit(sa, "nprobe_host hold 5").await.unwrap();
    alice.wait_until_running(held).await;
    // Find alice's directory as an attacker would guess it: the slot that
    // holds a file named secret.
    let deadline = Instant::now() + Duration::from_secs(10);
    let victim = loop {
        let found = std::fs::read_dir(scratch_base())
            .unwrap()
            .flatten()
            .map(|e| e.path().join("fs/root"))
            .find(|p| p.join("secret").exists());
        if let Some(p) = found {
            break p;
        }
        assert!(Instant::now() < deadline, "alice's native directory never appeared under {}", scratch_base().display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!victim.starts_with("/dev/shm"), "native directories are not on /dev/shm");
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let slot = victim.parent().unwrap().parent().unwrap();
    let meta = std::fs::metadata(slot).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o700, "a private directory");
    assert!(meta.uid() >= 100_000, "owned by the command's own uid, not {}", meta.uid());

    for prog in ["nprobe_host", "nprobe"] {
        let c = bob.run(sb, &format!("{prog} peek {}", victim.display())).await;
        let out = c.stdout();
        assert!(out.contains("list: failed"), "{prog}: {out}");
        assert!(out.contains("read secret: failed"), "{prog}: {out}");
        assert!(out.contains("plant: failed"), "{prog}: {out}");
    }
    let c = alice.client.wait(held, Duration::from_secs(30)).await.unwrap();
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_eq!(alice.run(sa, "ls").await.stdout(), "secret\n", "nothing was planted in alice's files");
    assert!(!victim.exists(), "the directory is removed when the command ends");

    // tree_bytes holds while it runs: files each under the limit, together
    // over it, are refused by the kernel, and the refusal is recorded.
    db.set_session_limits(sb, serde_json::json!({"tree_bytes": 1 << 20})).await;
    let c = bob.run(sb, "nprobe fill 16 262144").await;
    assert!(c.stdout().contains("No space left on device"), "{}", c.stdout());
    assert_ne!(c.exit_code, Some(0));
    assert!(c.stderr().contains("tree_bytes"), "{}", c.stderr());
    assert!(c.error.as_deref().is_some_and(|e| e.contains("tree_bytes")), "{:?}", c.error);
    // One file past the limit: RLIMIT_FSIZE stops it.
    let c = bob.run(sb, "nprobe fill 1 2000000").await;
    assert_eq!(c.outcome(), "trap", "{} {}", c.stdout(), c.stderr());
    assert!(c.error.as_deref().is_some_and(|e| e.contains("size limit")), "{:?}", c.error);
}

/// Item 4: a native program has descriptors 0, 1 and 2 only.
#[tokio::test]
async fn native_programs_inherit_only_stdio() {
    let b = built();
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    register(&db, "nprobe", &b.probe, NativeOptions::default()).await;
    register(&db, "nprobe_host", &b.probe, NativeOptions { host_view: true, network: true, ..NativeOptions::default() }).await;
    for line in ["nprobe fds", "nprobe_host fds", "echo in | nprobe fds"] {
        let c = u.run(s, line).await;
        assert_eq!(c.stdout(), "fds: 0 1 2\n", "{line}: {}", c.stderr());
    }
}

/// Item 5: an auditor's replay runs no native program unless the operator
/// marked it replay-safe; the verdict says so.
#[tokio::test]
async fn replays_run_native_programs_only_when_marked_replay_safe() {
    let b = built();
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    register(&db, "nmark", &b.probe, host_view()).await;
    let dir = marker_dir("replay");
    let marker = dir.join("ran");
    let lines = |p: &Path| std::fs::read_to_string(p).map(|t| t.lines().count()).unwrap_or(0);
    assert_eq!(u.run(s, "echo hello").await.exit_code, Some(0));
    let c = u.run(s, &format!("nmark marker {}", marker.display())).await;
    assert_eq!((c.stdout(), c.exit_code), ("marked\n", Some(0)), "{}", c.stderr());
    assert_eq!(lines(&marker), 1);

    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "audrey", "auditor", None).await.unwrap();
    let auditor = crate::support::User { client: pg_shell::client::ShellClient::connect(&db.conninfo, "audrey").await.unwrap() };
    let v = auditor.replay_through_api(s).await;
    assert_eq!(lines(&marker), 1, "the replay ran the native program");
    assert_eq!(v["verdict"], "incomplete", "{v}");
    assert_eq!(v["verified"], 1, "the WASI command was verified: {v}");
    let results = v["results"].as_array().unwrap();
    let native = results.iter().find(|r| r["seq"] == c.seq).unwrap();
    assert_eq!(native["verdict"], "not_replayable", "{v}");
    assert!(native["note"].as_str().unwrap().contains("not replayable (native)"), "{v}");

    register(&db, "nmark", &b.probe, NativeOptions { replay_safe: true, host_view: true, ..NativeOptions::default() }).await;
    let v = auditor.replay_through_api(s).await;
    assert_eq!(lines(&marker), 2, "a replay-safe native program is run again: {v}");
    assert_eq!(v["verdict"], "verified", "{v}");
}

/// Item 6: no network and no host files, unless the operator allows them.
#[tokio::test]
async fn native_programs_have_no_network_and_a_minimal_view() {
    let b = built();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    register(&db, "nprobe", &b.probe, NativeOptions::default()).await;
    register(&db, "nprobe_open", &b.probe, NativeOptions { host_view: true, network: true, ..NativeOptions::default() }).await;

    let c = u.run(s, &format!("nprobe net {port}")).await;
    assert!(c.stdout().starts_with("connect: failed") || c.stdout().starts_with("socket: failed"), "{}", c.stdout());
    for path in ["/etc/hostname", "/etc/passwd", "/root", "/home"] {
        let c = u.run(s, &format!("nprobe read {path}")).await;
        assert!(c.stdout().contains(": failed (No such file"), "{path}: {}", c.stdout());
    }
    assert!(!c.stderr().contains("without full isolation"), "{}", c.stderr());
    // The same program, registered with --host-view --network, reaches both:
    // the checks above can fail.
    let c = u.run(s, &format!("nprobe_open net {port}")).await;
    assert_eq!(c.stdout(), "connect: ok\n", "{}", c.stderr());
    let c = u.run(s, "nprobe_open read /etc/hostname").await;
    assert!(c.stdout().contains(": ok"), "{}", c.stdout());
    drop(listener);
}

/// Item 13: a role with no pg_shell grants NOTIFYs the cancel channel with
/// another user's command id: nothing happens. The owner's api.cancel
/// cancels it, and the audit names the owner.
#[tokio::test]
async fn a_notification_alone_never_cancels_a_command() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 30000})).await;
    let id = u.client.submit(s, "sleepy 20000").await.unwrap();
    u.wait_until_running(id).await;

    let admin = db.admin().await;
    let mallory = format!("mallory_{}", db.name);
    admin.batch_execute(&format!("create role {mallory} login")).await.unwrap();
    let (m, conn) = tokio_postgres::connect(&format!("{} user={mallory}", db.conninfo), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    for payload in [id.to_string(), format!(" {id}"), format!("{id}\n")] {
        m.execute("select pg_notify('pg_shell_cancel', $1)", &[&payload]).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let c = u.client.command(id).await.unwrap();
    assert_eq!(c.status, "running", "a bare notification cancelled the command: {c:?}");

    assert!(u.client.cancel(id).await.unwrap());
    let c = u.client.wait(id, Duration::from_secs(10)).await.unwrap();
    assert_eq!(c.status, "cancelled");
    let by: Option<String> = admin.query_one("select cancel_requested_by from pgshell.commands where id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(by.as_deref(), Some("alice"));
    let actor: String = admin
        .query_one("select actor from pgshell.audit_log where command_id = $1 and event = 'command.cancel_requested'", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(actor, "alice", "the audit names who asked");
    drop(m);
    admin.batch_execute(&format!("drop role {mallory}")).await.unwrap();
}

/// Figures: the cost of an `echo`-like native command, end to end (submit
/// to result) and in the runtime (`run_us`), confined and with the host's
/// view and network. `cargo test --release --test it
/// security_native::native_echo_cost -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn native_echo_cost() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    register(&db, "necho", Path::new("/bin/echo"), NativeOptions::default()).await;
    register(&db, "necho_open", Path::new("/bin/echo"), NativeOptions { host_view: true, network: true, ..NativeOptions::default() }).await;
    for prog in ["necho", "necho_open"] {
        u.run(s, &format!("{prog} warm")).await;
        let mut total = Vec::new();
        let mut run = Vec::new();
        let admin = db.admin().await;
        for i in 0..40 {
            let started = Instant::now();
            let c = u.run(s, &format!("{prog} {i}")).await;
            total.push(started.elapsed().as_secs_f64() * 1000.0);
            let us: i64 = admin.query_one("select run_us from pgshell.commands where id = $1", &[&c.id]).await.unwrap().get(0);
            run.push(us as f64 / 1000.0);
        }
        total.sort_by(f64::total_cmp);
        run.sort_by(f64::total_cmp);
        println!("{prog}: submit-to-result median {:.2} ms (p90 {:.2}); runtime median {:.2} ms (p90 {:.2})", total[20], total[36], run[20], run[36]);
    }
}
