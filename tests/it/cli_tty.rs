//! `pg_shell shell` at a real terminal: the binary runs in a tmux pane (a
//! pseudo-terminal), keys are sent as a user types them, and what happened
//! is read back from the record (and the screen).

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::support::TestDb;

/// A tmux server of our own (its own socket), killed when dropped.
pub(crate) struct Pane {
    socket: String,
}

impl Pane {
    pub(crate) fn start(command: &str) -> Pane {
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!("pgshell-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let pane = Pane { socket };
        let out = pane.tmux(&["new-session", "-d", "-s", "t", "-x", "100", "-y", "40", command]);
        assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
        pane.tmux(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        pane
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).env_remove("TMUX").output().expect("tmux runs")
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Literal text, as typed.
    pub(crate) fn type_text(&self, text: &str) {
        assert!(self.tmux(&["send-keys", "-t", "t", "-l", text]).status.success());
    }

    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t", "-S", "-200"]).stdout).into_owned()
    }

    #[track_caller]
    pub(crate) fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "waited for {what}; the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the shell is at a fresh prompt (the screen's last line),
    /// as a person would before typing.
    #[track_caller]
    pub(crate) fn wait_prompt(&self) {
        self.wait_for("a fresh prompt", |s| s.lines().rev().find(|l| !l.trim().is_empty()).is_some_and(|l| l.trim_end() == "alice:/$"));
    }

    pub(crate) fn dead(&self) -> bool {
        let out = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The session's lines, statuses and cancel flags, in order.
pub(crate) async fn record(db: &TestDb, s: Uuid) -> Vec<(String, String, bool)> {
    db.admin()
        .await
        .query("select line, status::text, cancel_requested from pgshell.commands where session_id = $1 order by seq", &[&s])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

pub(crate) async fn wait_record(db: &TestDb, s: Uuid, what: &str, ok: impl Fn(&[(String, String, bool)]) -> bool) -> Vec<(String, String, bool)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = record(db, s).await;
        if ok(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "waited for {what}; the record: {r:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shell_at_a_terminal_recalls_completes_and_cancels() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "echo 'tab works' > notes-unique.txt").await;
    u.run(s, "echo prepared").await;

    let command = format!(
        "exec env DATABASE_URL={} PG_SHELL_CACHE_DIR={} TERM=xterm-256color {} shell --user alice --no-executor --session {s}",
        shell_words::quote(&db.conninfo),
        shell_words::quote(&crate::support::cache_dir().display().to_string()),
        shell_words::quote(env!("CARGO_BIN_EXE_pg_shell")),
    );
    let pane = Pane::start(&command);
    let screen = pane.wait_for("the prompt", |s| s.contains("alice:/$"));
    assert!(screen.contains("echo prepared"), "a resumed session shows its last commands:\n{screen}");

    pane.wait_prompt();
    // Up recalls the last line of the session's own record.
    pane.keys(&["Up"]);
    pane.wait_for("the recalled line", |s| s.lines().any(|l| l.ends_with("$ echo prepared")));
    pane.keys(&["Enter"]);
    wait_record(&db, s, "the recalled line run", |r| r.iter().filter(|c| c.0 == "echo prepared" && c.1 == "done").count() == 2).await;

    pane.wait_prompt();
    // Tab completes a file name from the session's files.
    pane.type_text("cat notes-un");
    pane.keys(&["Tab"]);
    pane.wait_for("the completed name", |s| s.contains("cat notes-unique.txt"));
    pane.keys(&["Enter"]);
    pane.wait_for("the file's contents", |s| s.lines().any(|l| l == "tab works"));
    let r = record(&db, s).await;
    assert_eq!(r.last().unwrap().0.trim_end(), "cat notes-unique.txt");

    // The line was sent with the pane as its terminal (100 x 40, a tty):
    // `ls` there prints columns, as at a real shell.
    let admin = db.admin().await;
    let t: serde_json::Value = admin
        .query_one("select limits -> 'terminal' from pgshell.commands where session_id = $1 order by seq desc limit 1", &[&s])
        .await
        .unwrap()
        .get(0);
    assert_eq!(t, serde_json::json!({"tty": true, "term": "xterm-256color", "columns": 100, "lines": 40}));
    u.run(s, "touch zz-one zz-two zz-three").await;
    pane.wait_prompt();
    pane.type_text("ls -d zz-*");
    pane.keys(&["Enter"]);
    pane.wait_for("ls in columns", |s| s.lines().any(|l| l.contains("zz-one") && l.contains("zz-three") && l.contains("zz-two")));

    pane.wait_prompt();
    // Ctrl-C at the prompt clears the line: nothing is submitted.
    pane.type_text("echo never");
    pane.wait_for("the typed line", |s| s.lines().any(|l| l.trim_end().ends_with("$ echo never")));
    pane.keys(&["C-c"]);
    pane.wait_prompt();
    pane.type_text("echo after-clear");
    pane.keys(&["Enter"]);
    pane.wait_for("the next line's output", |s| s.lines().any(|l| l == "after-clear"));
    let r = record(&db, s).await;
    assert!(!r.iter().any(|c| c.0.contains("never")), "{r:?}");

    pane.wait_prompt();
    // Ctrl-C while a command runs cancels it through api.cancel.
    pane.type_text("sleep 20");
    pane.keys(&["Enter"]);
    wait_record(&db, s, "sleep running", |r| r.last().is_some_and(|c| c.0 == "sleep 20" && c.1 == "running")).await;
    let asked = Instant::now();
    pane.keys(&["C-c"]);
    let r = wait_record(&db, s, "sleep cancelled", |r| r.last().is_some_and(|c| c.1 == "cancelled")).await;
    assert!(r.last().unwrap().2, "cancel_requested is recorded: {r:?}");
    assert!(asked.elapsed() < Duration::from_secs(15), "cancelled, not run out");
    pane.wait_for("the cancelled outcome", |s| s.contains("cancelled"));
    // The shell is still there for the next line.
    assert!(!pane.dead());

    pane.wait_prompt();
    // Ctrl-D leaves.
    pane.keys(&["C-d"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pane.dead() {
        assert!(Instant::now() < deadline, "Ctrl-D did not end the shell:\n{}", pane.screen());
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn pg_shell_cmd(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pg_shell"))
        .env_remove("PG_CONN")
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_CACHE_DIR", crate::support::cache_dir())
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cp_copies_into_and_out_of_a_session_as_recorded_commands() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("frank").await;
    let s = u.session().await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("data.bin");
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 256) as u8).collect(); // NULs and all
    std::fs::write(&local, &data).unwrap();
    let to = format!("{s}:/in/data.bin");
    u.run(s, "mkdir in").await;
    let out = tokio::task::block_in_place(|| pg_shell_cmd(&db, &["cp", "--user", "frank", "--no-executor", local.to_str().unwrap(), &to]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sum = u.run(s, "sha256sum /in/data.bin").await;
    let want = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
    assert_eq!(sum.stdout().split_whitespace().next(), Some(want.as_str()));

    // And back, into a directory (the file keeps its name).
    let back = tempfile::tempdir().unwrap();
    let out = tokio::task::block_in_place(|| pg_shell_cmd(&db, &["cp", "--user", "frank", "--no-executor", &to, back.path().to_str().unwrap()]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(back.path().join("data.bin")).unwrap(), data);

    // Recorded like any change: a command of the session, in the audit
    // chain and the environment chain, and it replays.
    let admin = db.admin().await;
    let n: i64 = admin
        .query_one("select count(*) from pgshell.commands where session_id = $1 and line = 'cat > ''/in/data.bin'''", &[&s])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let problems: i64 = admin.query_one("select count(*) from pgshell.audit_problems(100)", &[]).await.unwrap().get(0);
    assert_eq!(problems, 0);
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);

    // Hostile paths: clear errors, nothing submitted (oversized files: files.rs).
    let before: i64 = admin.query_one("select count(*) from pgshell.commands where session_id = $1", &[&s]).await.unwrap().get(0);
    for (to, says) in [(format!("{s}:/in/../../etc/x"), "`..`"), (format!("{s}:/in/"), "names a directory"), (format!("{s}:"), "empty")] {
        let out = tokio::task::block_in_place(|| pg_shell_cmd(&db, &["cp", "--user", "frank", "--no-executor", local.to_str().unwrap(), &to]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{to}: {err}");
    }
    let after: i64 = admin.query_one("select count(*) from pgshell.commands where session_id = $1", &[&s]).await.unwrap().get(0);
    assert_eq!(before, after);
    // Someone else's session: the answer of a missing one.
    db.user("mallory").await;
    let out = tokio::task::block_in_place(|| pg_shell_cmd(&db, &["cp", "--user", "mallory", "--no-executor", local.to_str().unwrap(), &format!("{s}:/x")]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("42501"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_cancels_a_piped_script_and_ends_it() {
    // stdin not a terminal: lines as they come, as before; Ctrl-C (SIGINT
    // to the foreground group) cancels the running command and stops there.
    let mut db = TestDb::new().await;
    db.start_executor();
    let u = db.user("gina").await;
    let s = u.session().await;
    let command = format!(
        "trap 'echo sigint' INT; printf 'sleep 20\\necho not-run\\n' | env DATABASE_URL={} PG_SHELL_CACHE_DIR={} {} shell --user gina --no-executor --session {s}; echo exit=$?",
        shell_words::quote(&db.conninfo),
        shell_words::quote(&crate::support::cache_dir().display().to_string()),
        shell_words::quote(env!("CARGO_BIN_EXE_pg_shell")),
    );
    let pane = Pane::start(&command);
    wait_record(&db, s, "sleep running", |r| r.last().is_some_and(|c| c.0 == "sleep 20" && c.1 == "running")).await;
    pane.keys(&["C-c"]);
    let r = wait_record(&db, s, "sleep cancelled", |r| r.last().is_some_and(|c| c.1 == "cancelled")).await;
    assert!(r.last().unwrap().2, "{r:?}");
    pane.wait_for("the script's end", |s| s.contains("exit=130"));
    assert_eq!(record(&db, s).await.len(), 1, "the rest of the script is not run");
}
