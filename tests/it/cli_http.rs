//! The CLI over HTTP (`--url` against a real `pg_shell serve`), live output
//! in the CLI over both transports, and `test -t` against the client's
//! terminal.

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::cli_tty::{record, wait_record, Pane};
use crate::support::{Agent, TestDb};
use pg_shell::cli::client::{Client, Follow};

const SECRET: &str = "cli-http-secret-cli-http-secret-!";
const PASSWORD: &str = "correct horse battery staple";
/// Prints a line a second on each stream, three times.
const SLOW: &str = "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 1; done";

/// `pg_shell serve` on an ephemeral loopback port, with a JWT secret.
struct Serve {
    _child: Agent,
    url: String,
}

impl Serve {
    fn start(db: &TestDb) -> Serve {
        let mut child = Agent(
            Command::new(env!("CARGO_BIN_EXE_pg_shell"))
                .args(["serve", "--listen", "127.0.0.1:0"])
                .env("DATABASE_URL", &db.conninfo)
                .env("PGRST_JWT_SECRET", SECRET)
                .env("RUST_LOG", "warn")
                .env_remove("PG_CONN")
                .env_remove("PGRST_CONFIG")
                .env_remove("PGRST_DB_URI")
                .stdout(Stdio::piped())
                .spawn()
                .expect("starting pg_shell serve"),
        );
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "serve said {line:?}");
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Serve { _child: child, url }
    }
}

fn token(sub: &str, secret: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    pg_shell::gateway::jwt::sign_hs256(&json!({"sub": sub, "role": "pgshell_user", "iat": now}), secret.as_bytes())
}

/// The binary with no database in its environment (over HTTP it needs none).
fn pg_shell() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pg_shell"));
    c.env("PG_SHELL_CACHE_DIR", crate::support::cache_dir());
    for k in ["DATABASE_URL", "PG_CONN", "PG_SHELL_URL", "PG_SHELL_TOKEN", "PG_SHELL_PASSWORD", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        c.env_remove(k);
    }
    c
}

async fn user_with_password(db: &TestDb, name: &str) {
    pg_shell::db::upsert_user(&db.admin().await, name, "user", Some(PASSWORD)).await.unwrap();
}

/// How `pg_shell run` is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Direct,
    Password,
    Token,
}

fn run_cmd(db: &TestDb, gw: &Serve, via: Via, user: &str, args: &[&str]) -> Command {
    client_cmd(db, gw, via, "run", user, args)
}

/// A client subcommand (`run`, `cp`, ...) as `user`, reaching pg_shell `via`.
fn client_cmd(db: &TestDb, gw: &Serve, via: Via, subcommand: &str, user: &str, args: &[&str]) -> Command {
    let mut c = pg_shell();
    c.args([subcommand, "--user", user]);
    match via {
        Via::Direct => {
            c.env("DATABASE_URL", &db.conninfo).arg("--no-executor");
        }
        Via::Password => {
            c.args(["--url", &gw.url]).env("PG_SHELL_PASSWORD", PASSWORD);
        }
        Via::Token => {
            c.args(["--url", &gw.url]).env("PG_SHELL_TOKEN", token(user, SECRET));
        }
    }
    c.args(args);
    c
}

fn without_session_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).lines().filter(|l| !l.starts_with("session: ")).map(|l| format!("{l}\n")).collect()
}

fn session_of(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).lines().find_map(|l| l.strip_prefix("session: ").map(str::to_string)).expect("run prints its new session")
}

#[tokio::test(flavor = "multi_thread")]
async fn run_over_http_by_password_or_token_matches_the_direct_transport() {
    let mut db = TestDb::new().await;
    db.start_executor();
    user_with_password(&db, "hana").await;
    let gw = Serve::start(&db);
    let line = "echo hello; echo oops >&2; echo 'two words'; exitwith 3";
    let outs: Vec<(Via, std::process::Output)> = tokio::task::block_in_place(|| {
        [Via::Direct, Via::Password, Via::Token].into_iter().map(|v| (v, run_cmd(&db, &gw, v, "hana", &["--", line]).output().unwrap())).collect()
    });
    for (via, o) in &outs {
        assert_eq!(o.status.code(), Some(3), "{via:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "hello\ntwo words\n", "{via:?}");
        assert_eq!(without_session_line(&o.stderr), "oops\n", "{via:?}");
    }
    // The HTTP runs are hana's, recorded like the direct one.
    let n: i64 = db
        .admin()
        .await
        .query_one("select count(*) from pgshell.commands c join pgshell.sessions s on s.id = c.session_id join pgshell.users u on u.id = s.owner_id where u.name = 'hana' and c.line = $1", &[&line])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);

    // --session resumes over HTTP, by password then by token.
    let s = session_of(&outs[1].1.stderr);
    let o = tokio::task::block_in_place(|| {
        let w = run_cmd(&db, &gw, Via::Password, "hana", &["--session", &s, "--", "echo kept > f"]).output().unwrap();
        assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
        run_cmd(&db, &gw, Via::Token, "hana", &["--session", &s, "--", "cat f"]).output().unwrap()
    });
    assert_eq!(String::from_utf8_lossy(&o.stdout), "kept\n", "{}", String::from_utf8_lossy(&o.stderr));

    // Refusals: clear messages, non-zero exits, nothing run.
    let refused = |args: Vec<String>, env: &[(&str, &str)]| {
        let mut c = pg_shell();
        c.args(&args);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = tokio::task::block_in_place(|| c.output().unwrap());
        assert!(!o.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let run = |url: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["run", "--user", "hana", "--url", url].iter().map(|s| s.to_string()).collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend(["--", "echo never"].iter().map(|s| s.to_string()));
        v
    };
    let err = refused(run(&gw.url, &[]), &[("PG_SHELL_PASSWORD", "wrong password")]);
    assert!(err.contains("invalid user name or password") && err.contains("logging in"), "{err}");
    let err = refused(run(&gw.url, &["--token", &token("hana", "not-the-secret-not-the-secret-not!")]), &[]);
    assert!(err.contains("did not accept the token") && err.contains("401"), "{err}");
    let err = refused(run(&gw.url, &["--token", "not a token"]), &[]);
    assert!(err.contains("not a JWT"), "{err}");
    let err = refused(run(&gw.url, &["--token", &token("kim", SECRET)]), &[]);
    assert!(err.contains("not authenticated") || err.contains("token is kim's"), "{err}");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = refused(run(&format!("http://127.0.0.1:{free}/"), &[]), &[("PG_SHELL_PASSWORD", PASSWORD)]);
    assert!(err.contains("cannot connect") && err.contains("is the gateway"), "{err}");
    let err = refused(run("not a url", &[]), &[("PG_SHELL_PASSWORD", PASSWORD)]);
    assert!(err.contains("is not a URL"), "{err}");
    let err = refused(run("https://127.0.0.1:1/", &[]), &[("PG_SHELL_PASSWORD", PASSWORD)]);
    assert!(err.contains("https is not supported"), "{err}");
    let err = refused(vec!["run".into(), "--token".into(), "x.y.z".into(), "--".into(), "echo".into()], &[("DATABASE_URL", &db.conninfo)]);
    assert!(err.contains("give its --url"), "{err}");
    // Another user's token cannot pass for hana.
    pg_shell::db::upsert_user(&db.admin().await, "ivo", "user", None).await.unwrap();
    let err = refused(run(&gw.url, &["--token", &token("ivo", SECRET)]), &[]);
    assert!(err.contains("the token is ivo's, not hana's"), "{err}");
    let never: i64 = db.admin().await.query_one("select count(*) from pgshell.commands where line = 'echo never'", &[]).await.unwrap().get(0);
    assert_eq!(never, 0);
}

/// Starts `run SLOW`, returns when its first stdout line arrived, with the
/// command's status at that moment, then its whole output.
async fn live_run(db: &TestDb, mut cmd: Command) -> (String, String, String) {
    let mut child = Agent(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap());
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            let _ = tx.send(all.clone());
        }
        all
    });
    let err_reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        stderr.read_to_end(&mut all).unwrap();
        all
    });
    let first = tokio::task::block_in_place(|| rx.recv_timeout(Duration::from_secs(60)).expect("some output"));
    let status: String = db
        .admin()
        .await
        .query_one("select status::text from pgshell.commands where line = $1 order by id desc limit 1", &[&SLOW])
        .await
        .unwrap()
        .get(0);
    assert!(String::from_utf8_lossy(&first).starts_with("out1"), "{first:?}");
    let out = tokio::task::block_in_place(|| reader.join().unwrap());
    let err = tokio::task::block_in_place(|| err_reader.join().unwrap());
    let code = tokio::task::block_in_place(|| child.wait().unwrap());
    assert!(code.success(), "{}", String::from_utf8_lossy(&err));
    (status, String::from_utf8(out).unwrap(), without_session_line(&err))
}

#[tokio::test(flavor = "multi_thread")]
async fn run_prints_output_as_it_arrives_and_ends_equal_to_the_record() {
    let mut db = TestDb::new().await;
    db.start_executor();
    user_with_password(&db, "hana").await;
    let gw = Serve::start(&db);
    for via in [Via::Direct, Via::Password] {
        let (status, out, err) = live_run(&db, run_cmd(&db, &gw, via, "hana", &["--", SLOW])).await;
        assert_eq!(status, "running", "{via:?}: the first line came while the command ran");
        let row = db
            .admin()
            .await
            .query_one("select stdout, stderr from pgshell.commands where line = $1 order by id desc limit 1", &[&SLOW])
            .await
            .unwrap();
        let (so, se): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
        assert_eq!(out.as_bytes(), so, "{via:?}: stdout byte for byte");
        assert_eq!(err.as_bytes(), se, "{via:?}: stderr byte for byte");
        assert_eq!(out, "out1\nout2\nout3\n");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn piped_shell_over_http_keeps_the_session_state() {
    let mut db = TestDb::new().await;
    db.start_executor();
    user_with_password(&db, "dave").await;
    let gw = Serve::start(&db);
    let out = tokio::task::block_in_place(|| {
        let mut child = pg_shell()
            .args(["shell", "--user", "dave", "--url", &gw.url])
            .env("PG_SHELL_PASSWORD", PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"echo hello\nmkdir d\ncd d\npwd\ntouch f\nls\ntest -t 1 || echo no-tty\ncat missing\n").unwrap();
        child.wait_with_output().unwrap()
    });
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n/d\nf\nno-tty\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cat: missing: No such file or directory"), "{err}");
    assert_eq!(out.status.code(), Some(1), "the shell exits with the last command's status");
    // The log-in ended with the shell: its web session is gone.
    let left: i64 = db.admin().await.query_one("select count(*) from pgshell.web_sessions", &[]).await.unwrap().get(0);
    assert_eq!(left, 0, "the shell logs out when it leaves");
}

/// The terminal scenario under tmux, direct or over HTTP (logging in at the
/// password prompt). Returns the session's recorded stdout per line.
async fn terminal_scenario(db: &TestDb, gw: Option<&Serve>) -> Vec<(String, String)> {
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "echo 'tab works' > notes-unique.txt").await;
    u.run(s, "echo prepared").await;
    let bin = shell_words::quote(env!("CARGO_BIN_EXE_pg_shell")).into_owned();
    let cache = shell_words::quote(&crate::support::cache_dir().display().to_string()).into_owned();
    let command = match gw {
        None => format!("exec env DATABASE_URL={} PG_SHELL_CACHE_DIR={cache} TERM=xterm-256color {bin} shell --user alice --no-executor --session {s}", shell_words::quote(&db.conninfo)),
        Some(gw) => format!("exec env -u DATABASE_URL -u PG_CONN -u PG_SHELL_PASSWORD -u http_proxy -u HTTP_PROXY PG_SHELL_CACHE_DIR={cache} TERM=xterm-256color {bin} shell --user alice --url {} --session {s}", gw.url),
    };
    let pane = Pane::start(&command);
    if gw.is_some() {
        pane.wait_for("the password prompt", |s| s.contains("alice's password for http://"));
        pane.type_text(PASSWORD);
        pane.keys(&["Enter"]);
    }
    let screen = pane.wait_for("the prompt", |s| s.contains("alice:/$"));
    assert!(screen.contains("echo prepared"), "a resumed session shows its last commands:\n{screen}");
    assert!(!screen.contains(PASSWORD), "the password is not echoed:\n{screen}");

    pane.wait_prompt();
    pane.type_text("cat notes-un");
    pane.keys(&["Tab"]);
    pane.wait_for("the completed name", |s| s.contains("cat notes-unique.txt"));
    pane.keys(&["Enter"]);
    pane.wait_for("the file's contents", |s| s.lines().any(|l| l == "tab works"));

    // Live output: the first line shows while the command still runs.
    pane.wait_prompt();
    pane.type_text(SLOW);
    pane.keys(&["Enter"]);
    pane.wait_for("the first line", |s| s.lines().any(|l| l == "out1"));
    let r = record(db, s).await;
    assert_eq!(r.last().map(|c| (c.0.as_str(), c.1.as_str())), Some((SLOW, "running")), "out1 was shown while it ran");
    pane.wait_prompt();
    let screen = pane.screen();
    let after: Vec<&str> = screen.lines().skip_while(|l| !l.ends_with(SLOW)).skip(1).take(6).collect();
    assert_eq!(after, ["out1", "err1", "out2", "err2", "out3", "err3"], "both streams, in the order produced:\n{screen}");

    // test -t: the pane is a terminal; a pipe, a capture or a file is not.
    pane.type_text("test -t 1 && echo tty-yes; [ -t 2 ] && echo err-tty; test -t 0 || echo in-no; [ -t 1 ] > f; echo r=$?; x=$(test -t 1 && echo y || echo n); echo sub=$x; { test -t 1 && echo pipe-y || echo pipe-n; } | cat");
    pane.keys(&["Enter"]);
    let screen = pane.wait_for("the test -t answers", |s| s.lines().any(|l| l.starts_with("pipe-")));
    for want in ["tty-yes", "err-tty", "in-no", "r=1", "sub=n", "pipe-n"] {
        assert!(screen.lines().any(|l| l == want), "{want}:\n{screen}");
    }

    // Ctrl-C cancels the running command.
    pane.wait_prompt();
    pane.type_text("sleep 20");
    pane.keys(&["Enter"]);
    wait_record(db, s, "sleep running", |r| r.last().is_some_and(|c| c.0 == "sleep 20" && c.1 == "running")).await;
    pane.keys(&["C-c"]);
    let r = wait_record(db, s, "sleep cancelled", |r| r.last().is_some_and(|c| c.1 == "cancelled")).await;
    assert!(r.last().unwrap().2, "cancel_requested is recorded: {r:?}");
    pane.wait_for("the cancelled outcome", |s| s.contains("cancelled (outcome"));

    pane.wait_prompt();
    pane.keys(&["C-d"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pane.dead() {
        assert!(Instant::now() < deadline, "Ctrl-D did not end the shell:\n{}", pane.screen());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Replay re-runs every line with its recorded terminal and agrees.
    let rep = db.replay(s, false).await;
    assert_eq!(rep.verdict, "verified", "{:?}", rep.first_divergence);
    let t: serde_json::Value = db
        .admin()
        .await
        .query_one("select limits -> 'terminal' from pgshell.commands where session_id = $1 and line like 'test -t%'", &[&s])
        .await
        .unwrap()
        .get(0);
    assert_eq!(t["tty"], true);
    db.admin()
        .await
        .query("select line, convert_from(stdout, 'UTF8') from pgshell.commands where session_id = $1 and status = 'done' order by seq", &[&s])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn shell_at_a_terminal_works_the_same_over_http_and_direct() {
    let mut db = TestDb::new().await;
    db.start_executor();
    user_with_password(&db, "alice").await;
    let gw = Serve::start(&db);
    let direct = terminal_scenario(&db, None).await;
    let http = terminal_scenario(&db, Some(&gw)).await;
    assert_eq!(http, direct, "the same lines give the same record over both transports");
}

/// A Writer that others can read while it is written to.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_commands_output_is_printed_once() {
    // An executor claims the command, streams "real\n" and dies; another
    // re-runs it (attempt 2, same output). The client that followed it all
    // along prints "real\n" once, and the stderr only the re-run wrote.
    let mut db = TestDb::new().await;
    db.user("alice").await;
    let client = Client::direct(&db.conninfo, "alice").await.unwrap();
    let s: Uuid = client.create_session(None).await.unwrap();
    let id = client.submit(s, "echo real; echo realerr >&2", None).await.unwrap();
    let admin = db.admin().await;
    let row = admin.query_one("select claim_token from pgshell.claim('doomed', 30000, 1)", &[]).await.unwrap();
    let claim: Uuid = row.get(0);
    let ok: bool = admin
        .query_one("select pgshell.output_append($1, $2, true, 0, 0, array['stdout'], array['real\n'::bytea])", &[&id, &claim])
        .await
        .unwrap()
        .get(0);
    assert!(ok);
    let (out, err) = (Shared::default(), Shared::default());
    let mut f = Follow::new(id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (mut o, mut e) = (out.clone(), err.clone());
    let following = client.follow(&mut f, deadline, &mut o, &mut e);
    let rerun = async {
        let t = Instant::now();
        while out.text() != "real\n" {
            assert!(t.elapsed() < Duration::from_secs(30), "the dead attempt's output was never shown");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        admin.execute("update pgshell.commands set lease_expires_at = now() - interval '1 s' where id = $1", &[&id]).await.unwrap();
        db.start_executor();
    };
    let (c, ()) = tokio::join!(following, rerun);
    let c = c.unwrap();
    assert_eq!(c.attempt, 2, "{c:?}");
    assert_eq!(out.text(), "real\n");
    assert_eq!(err.text(), "realerr\n");
    assert_eq!((out.text().as_str(), err.text().as_str()), (c.stdout(), c.stderr()));
}

/// `pg_shell cp` over HTTP: into a session by password and out of it by
/// token, byte for byte, recorded as a direct copy is (a command whose
/// recorded input is the file); a file over the gateway's body limit is
/// refused saying so, and nothing is queued.
#[tokio::test(flavor = "multi_thread")]
async fn cp_over_http_copies_both_ways_and_says_when_the_gateway_limits_it() {
    use sha2::Digest as _;
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("lena").await;
    user_with_password(&db, "lena").await;
    let s = u.session().await;
    let gw = Serve::start(&db);
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(dir.path().join("in.bin"), &data).unwrap();
    let cp = |via: Via, from: &str, to: &str| tokio::task::block_in_place(|| client_cmd(&db, &gw, via, "cp", "lena", &[from, to]).output().unwrap());

    let o = cp(Via::Password, dir.path().join("in.bin").to_str().unwrap(), &format!("{s}:/in.bin"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = hex::encode(sha2::Sha256::digest(&data));
    assert_eq!(u.run(s, "sha256sum /in.bin").await.stdout().split_whitespace().next(), Some(want.as_str()));
    let recorded: i64 = db
        .admin()
        .await
        .query_one(
            "select count(*) from pgshell.commands where session_id = $1 and line = $2 and encode(input_digest, 'hex') = $3",
            &[&s, &"cat > '/in.bin'", &want],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 1, "the copy over HTTP is a command whose recorded input is the file");

    let back = tempfile::tempdir().unwrap();
    let o = cp(Via::Token, &format!("{s}:/in.bin"), back.path().to_str().unwrap());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = std::fs::read(back.path().join("in.bin")).unwrap();
    assert!(got == data, "the copy out over HTTP differs: {} bytes, starting {:?}", got.len(), String::from_utf8_lossy(&got[..got.len().min(200)]));

    // Over the gateway's body limit (1 MiB by default; hex doubles the file).
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 600_000]).unwrap();
    let o = cp(Via::Password, dir.path().join("big.bin").to_str().unwrap(), &format!("{s}:/big.bin"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("600000 bytes") && err.contains("PG_SHELL_BODY_LIMIT") && err.contains("413"), "{err}");
    let queued: i64 = db.admin().await.query_one("select count(*) from pgshell.commands where line like '%big.bin%'", &[]).await.unwrap().get(0);
    assert_eq!(queued, 0);
    // Another user cannot read the session over HTTP either.
    user_with_password(&db, "mona").await;
    let stolen = back.path().join("stolen");
    let o = tokio::task::block_in_place(|| {
        client_cmd(&db, &gw, Via::Password, "cp", "mona", &[&format!("{s}:/in.bin"), stolen.to_str().unwrap()]).output().unwrap()
    });
    assert!(!o.status.success() && !stolen.exists(), "{}", String::from_utf8_lossy(&o.stderr));
}
