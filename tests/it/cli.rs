//! The binary, as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::TestDb;

fn pg_shell() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pg_shell"));
    c.env_remove("DATABASE_URL").env_remove("PG_CONN").env("PG_SHELL_CACHE_DIR", crate::support::cache_dir());
    c
}

#[test]
fn the_executor_refuses_to_start_without_a_database() {
    let out = pg_shell().arg("executor").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DATABASE_URL"), "{err}");
}

#[tokio::test]
async fn run_prints_output_and_exits_with_the_commands_status() {
    let db = TestDb::new().await;
    let conninfo = db.conninfo.clone();
    let out = tokio::task::spawn_blocking(move || {
        let s = pg_shell().env("DATABASE_URL", &conninfo).args(["run", "--user", "carol", "--", "echo hello"]).output().unwrap();
        let session = String::from_utf8_lossy(&s.stderr).lines().find_map(|l| l.strip_prefix("session: ").map(str::to_string)).unwrap();
        let missing = pg_shell()
            .env("DATABASE_URL", &conninfo)
            .args(["run", "--user", "carol", "--session", &session, "--", "cat missing"])
            .output()
            .unwrap();
        let code = pg_shell()
            .env("PG_CONN", &conninfo)
            .args(["run", "--user", "carol", "--session", &session, "--", "exitwith", "3"])
            .output()
            .unwrap();
        (s, missing, code)
    })
    .await
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.0.stdout), "hello\n");
    assert!(out.0.status.success());
    assert_eq!(out.1.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.1.stderr).contains("missing"));
    assert_eq!(out.2.status.code(), Some(3));
}

#[tokio::test]
async fn shell_reads_lines_and_keeps_the_session_state() {
    let db = TestDb::new().await;
    let conninfo = db.conninfo.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = pg_shell()
            .env("DATABASE_URL", &conninfo)
            .args(["shell", "--user", "dave"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"echo hello\nmkdir d\ncd d\npwd\ntouch f\nls\ncat missing\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n/d\nf\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cat: missing: No such file or directory"), "{err}");
    assert_eq!(out.status.code(), Some(1), "the shell exits with the last command's status");
}
