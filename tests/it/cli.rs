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

#[tokio::test]
async fn init_schema_sql_loads_with_psql_and_init_agrees() {
    let (conninfo, url) = crate::support::empty_database().await;
    let psql = Some(crate::support::pg_bin_dir().join("psql")).filter(|p| p.exists()).unwrap_or_else(|| "psql".into());
    let sql = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/init_schema.sql");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(psql).args(["-X", "-q", "-d", &url, "-f"]).arg(sql).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let admin = pg_shell::db::connect_plain(&conninfo).await.unwrap();
    let versions: Vec<i32> = admin
        .query("select version from pgshell_meta.schema_version order by 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<i32> = pg_shell::db::MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(versions, expected, "init_schema.sql applies exactly the embedded migrations");
    // `pg_shell init` then finds nothing to do, twice.
    for _ in 0..2 {
        let c = conninfo.clone();
        let out = tokio::task::spawn_blocking(move || pg_shell().env("DATABASE_URL", &c).arg("init").output().unwrap()).await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "schema up to date\n");
    }
}

/// The README's first command, end to end: an embedded database created from
/// nothing, the executor and the gateway, used from the CLI and over HTTP,
/// then stopped with Ctrl-C (SIGINT), taking its PostgreSQL down with it.
#[tokio::test]
async fn up_runs_everything_on_an_embedded_default() {
    use std::io::BufRead;
    let home = tempfile::Builder::new().prefix("pg_shell-up-").tempdir_in("/tmp").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let home_s = home.path().to_str().unwrap().to_string();
    let mut up = pg_shell()
        .args(["up", "--home", &home_s, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = up.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut url, mut password) = (String::new(), String::new());
    while url.is_empty() {
        let line = rx.recv_timeout(std::time::Duration::from_secs(120)).expect("pg_shell up printed its URL");
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = p.trim().to_string();
        }
        if let Some(rest) = line.trim().strip_prefix("web:") {
            url = rest.split_whitespace().next().unwrap().to_string();
        }
    }
    assert!(!password.is_empty(), "the first admin's password is printed once");

    // The CLI finds the same embedded database through --home, and up's executor runs the command.
    let h = home_s.clone();
    let out = tokio::task::spawn_blocking(move || {
        pg_shell().args(["run", "--home", &h, "--user", "bob", "--no-executor", "--", "echo hi | wc -c"]).output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n", "{}", String::from_utf8_lossy(&out.stderr));

    // The web log-in works with the printed credentials.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url}rpc/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").unwrap().to_str().unwrap().contains("HttpOnly"));

    // Ctrl-C stops everything, PostgreSQL included.
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(up.id() as i32, libc::SIGINT) };
    let status = tokio::task::spawn_blocking(move || up.wait().unwrap()).await.unwrap();
    assert!(status.success(), "{status}");
    assert!(!home.path().join("data/postmaster.pid").exists(), "the embedded PostgreSQL stopped");
}
