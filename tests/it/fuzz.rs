//! Property/fuzz tests over what an attacker controls: the command lines
//! given to `api.submit` and the HTTP requests `pg_shell serve` answers.
//! Seeded (the seed is printed; PG_SHELL_FUZZ_SEED reproduces a run), run
//! against a real executor process and a real gateway process, so a panic or
//! a death is seen as what it is. The properties: every submitted line ends
//! with a recorded status and outcome within the time limit (nothing lost,
//! no `lost` outcome), the executor and the gateway stay alive and never
//! panic, no HTTP answer is a 5xx other than 503, and the audit log verifies
//! afterwards.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde_json::json;

use crate::support::TestDb;

/// The run's seed: PG_SHELL_FUZZ_SEED, else the clock. Printed, so any
/// failure can be reproduced.
pub fn seed(what: &str) -> u64 {
    let seed = std::env::var("PG_SHELL_FUZZ_SEED").ok().and_then(|s| s.trim().parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("{what}: seed {seed} (PG_SHELL_FUZZ_SEED={seed} reproduces)");
    seed
}

/// At least this many of each per run; PG_SHELL_FUZZ_LINES and
/// PG_SHELL_FUZZ_REQUESTS raise (or, while iterating, lower) them.
const LINES: usize = 10_000;
const REQUESTS: usize = 2_000;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}
const MAX_LINE: usize = 65_536; // the max_line_bytes setting

const WORDS: &[&str] = &[
    "echo", "cat", "ls", "true", "false", "pwd", "cd", "export", "unset", "env", "history", "help", "wc", "head", "tail",
    "sort", "tr", "mkdir", "rm", "touch", "cp", "mv", "printf", "basename", "dirname", "seq", "writefile", "readfile",
    "appendfile", "exitwith", "whereami", "clockrand", "badutf8", "trap", "stdinlen", "f", "d", "/", ".", "..", "-n",
    "-la", "X=1", "$X", "${X}", "$?", "$$", "$0", "$@", "*", "?", "~", "--", "/etc/passwd", "/bin", "nosuchprogram",
];
const META: &[&str] = &[
    "|", "||", "&", "&&", ";", ";;", "<", ">", ">>", "<<", "<<<", "2>&1", ">&", "(", ")", "{", "}", "$(", "`", "\\", "\"",
    "'", "$((", "))", "${", "#", "!", "=", "*", "?", "[", "]", "\n", "\t", "\r", " ", "$'", "\\\n", "%", "^",
];
const EXPANSIONS: &[&str] = &[
    "${", "${}", "${!}", "${X:?}", "${X:-${Y:-${Z}}}", "${#}", "${X/", "${X//a/b}", "$((1/0))", "$((", "$((2**64))", "${X:99999999999}",
    "$(())", "$[1]", "${@:0:-1}", "${X^^}", "$", "$'\\x'", "${=}", "${0000}", "$9999999999",
];

fn unicode_word(rng: &mut StdRng, max: usize) -> String {
    let n = rng.random_range(0..max.max(1));
    (0..n)
        .map(|_| loop {
            let c = match rng.random_range(0..4) {
                0 => rng.random_range(1u32..0x80),
                1 => rng.random_range(0x80u32..0x800),
                2 => rng.random_range(0x800u32..0x10000),
                _ => rng.random_range(0x10000u32..0x110000),
            };
            if let Some(c) = char::from_u32(c) {
                break c;
            }
        })
        .collect()
}

/// One command line: any text a text column accepts (no NUL), weighted
/// towards what a shell parser finds hard.
pub fn line(rng: &mut StdRng) -> String {
    match rng.random_range(0..12) {
        0 => unicode_word(rng, 200),
        1 => (0..rng.random_range(1..40)).map(|_| META[rng.random_range(0..META.len())]).collect::<Vec<_>>().join(""),
        2 => {
            // unbalanced quotes around words
            let q = ["\"", "'", "`", "$(", "${", "$'"][rng.random_range(0..6)];
            format!("echo {q}{} {}", unicode_word(rng, 30), WORDS[rng.random_range(0..WORDS.len())])
        }
        3 => {
            // a huge word
            let n = rng.random_range(1_000..MAX_LINE - 10);
            format!("echo {}", "x".repeat(n))
        }
        4 => {
            // deep nesting
            let n = rng.random_range(100..6_000);
            let open = ["(", "$(", "{ ", "${", "$((", "\"$(", "`"][rng.random_range(0..7)];
            let mut s = open.repeat(n.min((MAX_LINE - 10) / open.len()));
            if rng.random_bool(0.5) {
                s.push_str("echo hi");
                let close = match open { "(" | "$(" | "\"$(" => ")", "{ " => " }", "${" => "}", "$((" => "))", _ => "`" };
                s.push_str(&close.repeat(rng.random_range(0..n)));
            }
            s
        }
        5 => (0..rng.random_range(1..30)).map(|_| EXPANSIONS[rng.random_range(0..EXPANSIONS.len())]).collect::<Vec<_>>().join(" "),
        6 => {
            // long lines near the limit, some just over it (refused at submit)
            let target = MAX_LINE - 64 + rng.random_range(0..128);
            let mut s = String::from("echo");
            while s.len() < target {
                s.push(' ');
                s.push_str(WORDS[rng.random_range(0..WORDS.len())]);
            }
            while s.len() > target {
                s.pop();
            }
            s
        }
        7 => {
            // a long pipeline or list
            // (mostly short: each part of a list runs; a few long ones)
            let n = if rng.random_bool(0.02) { rng.random_range(2..300) } else { rng.random_range(2..12) };
            let sep = ["|", ";", "&&", "||", "| cat |"][rng.random_range(0..5)];
            (0..n).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(&format!(" {sep} "))
        }
        _ => {
            // a plausible line from words, metacharacters and expansions
            let n = rng.random_range(1..12);
            let mut parts = Vec::new();
            for _ in 0..n {
                parts.push(match rng.random_range(0..10) {
                    0..=5 => WORDS[rng.random_range(0..WORDS.len())].to_string(),
                    6 | 7 => META[rng.random_range(0..META.len())].to_string(),
                    8 => EXPANSIONS[rng.random_range(0..EXPANSIONS.len())].to_string(),
                    _ => unicode_word(rng, 12),
                });
            }
            parts.join(if rng.random_bool(0.8) { " " } else { "" })
        }
    }
}

/// A child process whose stderr goes to a file, ended at drop.
pub(crate) struct Proc {
    child: Child,
    stderr: tempfile::NamedTempFile,
    name: &'static str,
}

impl Proc {
    pub(crate) fn spawn(name: &'static str, mut cmd: Command) -> Proc {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let child = cmd.stderr(stderr.reopen().unwrap()).spawn().unwrap();
        Proc { child, stderr, name }
    }

    /// What it wrote to stderr so far.
    pub(crate) fn log(&self) -> String {
        let mut log = String::new();
        std::fs::File::open(self.stderr.path()).unwrap().read_to_string(&mut log).unwrap();
        log
    }

    /// Fails if the process died or ever panicked.
    pub(crate) fn assert_alive_and_sane(&mut self) {
        let log = self.log();
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the {} died ({status}); its stderr:\n{}", self.name, tail(&log));
        }
        assert!(!log.contains("panicked"), "the {} panicked:\n{}", self.name, tail(&log));
    }
}

fn tail(s: &str) -> &str {
    &s[s.len().saturating_sub(8000)..]
}

impl Drop for Proc {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn executor_process(db: &TestDb) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pg_shell"));
    cmd.arg("executor")
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_CONCURRENCY", "4")
        // Generated lines can loop for real now (`while :`, recursion): each
        // ends at its budget, 2 s here, so a wave settles in bounded time.
        .env("COMMAND_TIMEOUT", "2")
        .env("PG_SHELL_HOME", crate::support::cache_dir().join("fuzz-home"))
        .env("RUST_LOG", std::env::var("PG_SHELL_FUZZ_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::null());
    Proc::spawn("executor", cmd)
}

const SECRET: &str = "fuzz-secret-fuzz-secret-fuzz-secret!";

/// `pg_shell serve` on an ephemeral loopback port; returns it and its base URL.
fn gateway_process(db: &TestDb) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pg_shell"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.conninfo)
        .env("PGRST_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped());
    let mut p = Proc::spawn("gateway", cmd);
    let mut out = p.child.stdout.take().unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\n") {
        if out.read(&mut byte).unwrap() == 0 {
            p.assert_alive_and_sane();
            panic!("the gateway said nothing");
        }
        buf.push(byte[0]);
    }
    let line = String::from_utf8(buf).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_string();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (p, url)
}

/// Waits until none of `ids` is queued or running; returns the outcome counts.
/// A command is lost when the queue stops moving: the test fails when no
/// command finished for `limit` (a slow machine, the whole suite in
/// parallel, only makes it take longer; CI saw 187 of 9,627 left after a
/// fixed 120 s while they were still finishing).
async fn settle(admin: &tokio_postgres::Client, ids: &[i64], limit: Duration) -> BTreeMap<String, i64> {
    drain(admin, ids, 1, limit, None).await;
    let rows = admin
        .query(
            "select coalesce(outcome::text, status::text), count(*) from pgshell.commands where id = any($1) group by 1 order by 1",
            &[&ids],
        )
        .await
        .unwrap();
    let counts: BTreeMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let total: i64 = counts.values().sum();
    assert_eq!(total as usize, ids.len(), "every submitted command has a row");
    counts
}

/// Waits until fewer than `below` of `ids` are queued or running. Fails,
/// with the state of the queue, when none finished for `limit`, and at once
/// when `exec` (checked every second) died or panicked.
async fn drain(admin: &tokio_postgres::Client, ids: &[i64], below: i64, limit: Duration, mut exec: Option<&mut Proc>) {
    let (mut last, mut moved, mut checked) = (i64::MAX, Instant::now(), Instant::now());
    loop {
        let pending: i64 = admin
            .query_one("select count(*) from pgshell.commands where id = any($1) and status in ('queued', 'running')", &[&ids])
            .await
            .unwrap()
            .get(0);
        if pending < below {
            return;
        }
        if pending < last {
            (last, moved) = (pending, Instant::now());
        }
        if let Some(exec) = exec.as_deref_mut().filter(|_| checked.elapsed() > Duration::from_secs(1)) {
            exec.assert_alive_and_sane();
            checked = Instant::now();
        }
        if moved.elapsed() >= limit {
            println!("{}", stall_report(admin, ids).await);
            panic!("{pending} of {} commands unfinished and none finished for {limit:?}: lost", ids.len());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the queue looks like when it stopped moving: the unfinished
/// commands by status and holder, the executors, and what every database
/// connection is doing (a stall is a lock, a stuck connection or a lease).
async fn stall_report(admin: &tokio_postgres::Client, ids: &[i64]) -> String {
    let mut out = String::from("stall report:\n");
    let queries: [(&str, &str); 4] = [
        (
            "unfinished commands",
            "select c.id::text, c.session_id::text, c.status::text, coalesce(c.claimed_by, '-'), coalesce(c.attempt::text, '-'),
                    coalesce(to_char(c.lease_expires_at - now(), 'SS.MS'), '-'), left(c.line, 50)
             from pgshell.commands c where c.id = any($1) and c.status in ('queued', 'running') order by c.id limit 40",
        ),
        (
            "running commands anywhere",
            "select id::text, session_id::text, coalesce(claimed_by, '-'), coalesce(to_char(lease_expires_at - now(), 'SS.MS'), '-'),
                    coalesce(to_char(now() - started_at, 'SS.MS'), '-'), left(line, 50)
             from pgshell.commands where status = 'running' and $1::bigint[] is not null order by id limit 40",
        ),
        ("executors", "select e::text from pgshell.executors e where $1::bigint[] is not null"),
        (
            "connections",
            "select pid::text, coalesce(application_name, ''), coalesce(state, ''), coalesce(wait_event_type || ':' || wait_event, ''),
                    coalesce(to_char(now() - state_change, 'SS.MS'), ''), left(coalesce(query, ''), 120)
             from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and $1::bigint[] is not null",
        ),
    ];
    for (title, sql) in queries {
        out.push_str(&format!("-- {title}\n"));
        match admin.query(sql, &[&ids]).await {
            Ok(rows) => {
                for r in rows {
                    let cols: Vec<String> = (0..r.len()).map(|i| r.get::<_, String>(i)).collect();
                    out.push_str(&format!("{}\n", cols.join(" | ")));
                }
            }
            Err(e) => out.push_str(&format!("({e})\n")),
        }
    }
    out
}

/// 10,000 generated lines through api.submit against a real executor
/// process; each ends with a recorded outcome, none is lost, the executor
/// stays alive without a panic, and the audit log verifies afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_lines_never_crash_or_get_lost() {
    let seed = seed("fuzz lines");
    let mut rng = StdRng::seed_from_u64(seed);
    let db = TestDb::new().await;
    let admin = db.admin().await;
    // Short budgets: a line that does run ends within a second.
    admin.execute("update pgshell.settings set value = '1000' where name = 'timeout_ms'", &[]).await.unwrap();
    let mut exec = executor_process(&db);
    let u = db.user("fuzzer").await;
    let sessions: Vec<uuid::Uuid> = {
        let mut v = Vec::new();
        for _ in 0..32 {
            v.push(u.client.create_session(Some("fuzz")).await.unwrap());
        }
        v
    };
    let started = Instant::now();
    let lines: Vec<String> = (0..count("PG_SHELL_FUZZ_LINES", LINES)).map(|_| line(&mut rng)).collect();
    let mut ids = Vec::new();
    let mut refused = BTreeMap::<String, usize>::new();
    // In waves, keeping the backlog small: pgshell.claim looks at every
    // unfinished command each time it claims, so a backlog of 10,000 makes
    // every claim slow (a finding reported with this test, not its subject).
    for (chunk_no, chunk) in lines.chunks(256).enumerate() {
        // Waiting for the backlog to drain is bounded too: a dead executor
        // (once OOM-killed by the parser) or a stuck queue fails here, with
        // the state of the queue, instead of hanging the suite.
        drain(&admin, &ids, 192, Duration::from_secs(120), Some(&mut exec)).await;
        let calls = chunk.iter().enumerate().map(|(i, l)| {
            let s = sessions[(chunk_no * 256 + i) % sessions.len()];
            let c = u.client.raw();
            async move { (l, c.query_one("select api.submit($1, $2)", &[&s, l]).await) }
        });
        for (l, r) in futures_util::future::join_all(calls).await {
            match r {
                Ok(row) => ids.push(row.get::<_, i64>(0)),
                Err(e) => {
                    let code = e.code().map(|c| c.code().to_string()).unwrap_or_default();
                    // The only refusal at submit: a line over max_line_bytes.
                    assert_eq!(code, "22001", "submit refused {:?}...: {e}", &l[..l.len().min(200)]);
                    assert!(l.len() > MAX_LINE, "refused a line of {} bytes", l.len());
                    *refused.entry(code).or_default() += 1;
                }
            }
        }
    }
    let submitted_in = started.elapsed();
    let counts = settle(&admin, &ids, Duration::from_secs(120)).await;
    for r in admin
        .query(
            "select left(line, 60), octet_length(line), outcome::text, run_us, round(extract(epoch from finished_at - started_at) * 1000)::bigint
             from pgshell.commands where id = any($1) order by finished_at - started_at desc limit 8",
            &[&ids],
        )
        .await
        .unwrap()
    {
        println!(
            "slowest: {:?} ({} bytes) {:?} run {:?} us, claim to finish {:?} ms",
            r.get::<_, String>(0),
            r.get::<_, i32>(1),
            r.get::<_, Option<String>>(2),
            r.get::<_, Option<i64>>(3),
            r.get::<_, Option<i64>>(4)
        );
    }
    let stats = admin
        .query_one(
            "select round(avg(extract(epoch from finished_at - started_at) * 1000)::numeric, 1)::float8,
                    round(avg(run_us) / 1000.0, 1)::float8, count(*) filter (where outcome = 'exited')
             from pgshell.commands where id = any($1)",
            &[&ids],
        )
        .await
        .unwrap();
    println!(
        "fuzz lines: mean claim to finish {:?} ms, mean run {:?} ms, {} exited",
        stats.get::<_, Option<f64>>(0),
        stats.get::<_, Option<f64>>(1),
        stats.get::<_, i64>(2)
    );
    let ran_in = started.elapsed();
    exec.assert_alive_and_sane();
    println!(
        "fuzz lines: {} generated, {} submitted in {:.1} s, all finished in {:.1} s; refused at submit {refused:?}; outcomes {counts:?}",
        lines.len(),
        ids.len(),
        submitted_in.as_secs_f64(),
        ran_in.as_secs_f64()
    );
    assert!(!counts.contains_key("lost"), "lost commands: {counts:?}");
    assert!(!counts.contains_key("cancelled"), "nothing cancelled them: {counts:?}");
    // Host failures are recorded as `error`; say which lines caused them.
    let errors = admin
        .query("select line, error from pgshell.commands where id = any($1) and outcome = 'error' limit 5", &[&ids])
        .await
        .unwrap();
    for r in &errors {
        let l: String = r.get(0);
        println!("outcome error for {:?}: {:?}", &l[..l.len().min(300)], r.get::<_, Option<String>>(1));
    }
    assert!(errors.is_empty(), "host errors (outcome error) for generated lines; seed {seed}");
    // The executor still works, and the record of all this verifies.
    let s = sessions[0];
    let mut user = crate::support::User { client: pg_shell::client::ShellClient::connect(&db.conninfo, "fuzzer").await.unwrap() };
    assert_eq!(user.run(s, "echo alive").await.stdout(), "alive\n");
    exec.assert_alive_and_sane();
    let t = Instant::now();
    let problems: Vec<String> =
        admin.query("select problem from pgshell.audit_problems(20)", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    let rows: i64 = admin.query_one("select count(*) from pgshell.audit_log", &[]).await.unwrap().get(0);
    println!("fuzz lines: audit verify over {rows} audit rows and {} commands: {} ms", ids.len() + 1, t.elapsed().as_millis());
    assert_eq!(problems, Vec::<String>::new());
}

fn http_request(rng: &mut StdRng, sid: &str, sid2: &str, cmd: i64, tokens: &[String]) -> (reqwest::Method, String, Vec<(String, String)>, Vec<u8>) {
    use reqwest::Method;
    const FUNCS: &[&str] = &[
        "submit", "command", "history", "sessions", "session", "cancel", "create_session", "close_session", "fork_session",
        "whoami", "login", "logout", "ui_home", "ui_session", "ui_command", "ui_submit", "ui_login", "ui_sessions", "audit_log",
        "audit_verify", "request_replay", "replay", "replays", "export_json", "export_asciicast", "admin_users", "nope", "",
    ];
    // A quarter are well-formed calls as alice, with generated arguments:
    // they reach the functions themselves (and submit generated lines).
    if rng.random_bool(0.25) {
        let f = ["submit", "submit", "submit", "command", "history", "session", "cancel", "fork_session", "ui_submit", "ui_command",
            "ui_session", "export_json", "export_asciicast", "request_replay", "replays", "audit_log", "close_session"][rng.random_range(0..17)];
        let l: String = line(rng);
        // The second session gets closed at some point; its lines are refused.
        let sid = if rng.random_bool(0.2) { sid2 } else { sid };
        let body = match f {
            "submit" | "ui_submit" => json!({"session_id": sid, "line": l}),
            "close_session" => json!({"session_id": sid2}),
            "command" | "cancel" | "ui_command" => json!({"id": if rng.random_bool(0.5) { cmd } else { rng.random_range(-5..100_000) }}),
            "fork_session" => json!({"command_id": cmd}),
            "history" => json!({"session_id": sid, "after_id": rng.random_range(-1..10)}),
            _ => json!({"session_id": sid}),
        };
        let mut headers = vec![("authorization".to_string(), format!("Bearer {}", tokens[0])), ("content-type".into(), "application/json".into())];
        if f.starts_with("ui_") || rng.random_bool(0.2) {
            headers.push(("accept".into(), "text/html".into()));
        }
        return (reqwest::Method::POST, format!("/rpc/{f}"), headers, body.to_string().into_bytes());
    }
    let method = match rng.random_range(0..12) {
        0..=4 => Method::POST,
        5..=7 => Method::GET,
        8 => Method::HEAD,
        9 => Method::OPTIONS,
        10 => [Method::PUT, Method::PATCH, Method::DELETE][rng.random_range(0..3)].clone(),
        _ => Method::from_bytes(["PROPFIND", "X", "TRACE", "CONNECT"][rng.random_range(0..4)].as_bytes()).unwrap(),
    };
    let f = FUNCS[rng.random_range(0..FUNCS.len())];
    let mut path = match rng.random_range(0..10) {
        0 => "/".to_string(),
        1 => ["/healthz", "/index.html", "/style.css", "/vendor/htmx.min.js", "/../../etc/passwd", "/%2e%2e/%2e%2e/", "//rpc//submit",
            "/rpc/", "/rpc/submit/extra", "/rpc/%00", "/rpc/%ff%fe"][rng.random_range(0..11)]
            .to_string(),
        2 => format!("/{}", "a/".repeat(rng.random_range(1..3000))),
        3 => format!("/rpc/{}", percent_encoding::utf8_percent_encode(&unicode_word(rng, 40), percent_encoding::NON_ALPHANUMERIC)),
        _ => format!("/rpc/{f}"),
    };
    if rng.random_bool(0.4) {
        let mut q = Vec::new();
        for _ in 0..rng.random_range(1..6) {
            let k = ["session_id", "id", "line", "after_id", "lim", "select", "order", "limit", "title", "x"][rng.random_range(0..10)];
            let v = match rng.random_range(0..6) {
                0 => sid.to_string(),
                1 => cmd.to_string(),
                2 => unicode_word(rng, 30),
                3 => "9".repeat(rng.random_range(1..40)),
                4 => "eq.1".into(),
                _ => line(rng).chars().take(200).collect(),
            };
            q.push(format!("{}={}", k, percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)));
        }
        path = format!("{path}?{}", q.join("&"));
    }
    let mut headers = Vec::new();
    match rng.random_range(0..6) {
        0 | 1 => headers.push(("authorization".into(), format!("Bearer {}", tokens[rng.random_range(0..tokens.len())]))),
        2 => headers.push(("authorization".into(), ["Bearer", "Bearer x.y.z", "Basic YTpi", "Bearer ....", "bearer   "][rng.random_range(0..5)].into())),
        3 => headers.push(("cookie".into(), format!("pg_shell_session={}", unicode_word(rng, 60).escape_default()))),
        _ => {}
    }
    if rng.random_bool(0.5) {
        let accept = ["application/json", "text/html", "*/*", "application/vnd.pgrst.object+json", "text/csv", "application/octet-stream",
            "garbage/;;;", "text/html;q=0.5, application/json;q=0.9", "application/vnd.pgrst.plan+json"];
        headers.push(("accept".into(), accept[rng.random_range(0..accept.len())].into()));
    }
    if rng.random_bool(0.3) {
        let prefer = ["params=single-object", "tx=rollback", "return=minimal", "count=exact", "handling=strict", "missing=default", "timezone=Mars/Olympus", "x"];
        headers.push(("prefer".into(), prefer[rng.random_range(0..prefer.len())].into()));
    }
    if rng.random_bool(0.2) {
        headers.push(("origin".into(), ["https://evil.example", "null", "http://127.0.0.1"][rng.random_range(0..3)].into()));
    }
    if rng.random_bool(0.1) {
        headers.push(("x-forwarded-for".into(), unicode_word(rng, 20).escape_default().to_string()));
    }
    let (ctype, body): (&str, Vec<u8>) = match rng.random_range(0..10) {
        0 => ("application/json", format!("{}{}", "[".repeat(rng.random_range(1..20000)), "]".repeat(rng.random_range(0..3)))
            .into_bytes()),
        1 => ("application/json", format!("{{\"a\":{}1{}}}", "{\"a\":".repeat(rng.random_range(1..5000)), "}".repeat(rng.random_range(0..100))).into_bytes()),
        2 => ("application/json", (0..rng.random_range(0..4096)).map(|_| rng.random::<u8>()).collect()),
        3 => ("application/json", json!({"session_id": sid, "line": "x".repeat(rng.random_range(1_000_000..1_200_000))}).to_string().into_bytes()),
        4 => ("application/x-www-form-urlencoded", format!("session_id={sid}&line={}&id={cmd}",
            percent_encoding::utf8_percent_encode(&line(rng).chars().take(500).collect::<String>(), percent_encoding::NON_ALPHANUMERIC)).into_bytes()),
        5 => (["text/plain", "multipart/form-data; boundary=x", "application/xml", "", "application/json; charset=latin1"][rng.random_range(0..5)],
            unicode_word(rng, 300).into_bytes()),
        _ => {
            let v = match rng.random_range(0..8) {
                0 => json!({"session_id": sid, "line": line(rng).chars().take(2000).collect::<String>()}),
                1 => json!({"id": cmd}),
                2 => json!({"id": rng.random::<i64>()}),
                3 => json!({"session_id": unicode_word(rng, 40)}),
                4 => json!({"id": "1; drop table pgshell.commands", "session_id": null}),
                5 => json!([{"session_id": sid, "line": "echo a"}, {"x": 1}]),
                6 => json!({"username": unicode_word(rng, 100), "password": unicode_word(rng, 100)}),
                _ => json!({"lim": 1e308, "after_id": -1, "since": "not a time", "session_id": sid, "title": unicode_word(rng, 300)}),
            };
            ("application/json", v.to_string().into_bytes())
        }
    };
    if !ctype.is_empty() && !matches!(method, Method::GET | Method::HEAD) {
        headers.push(("content-type".into(), ctype.into()));
    }
    let body = if matches!(method, Method::GET | Method::HEAD) && rng.random_bool(0.8) { Vec::new() } else { body };
    (method, path, headers, body)
}

fn requests_body<'a>(chunk: &'a [(reqwest::Method, String, Vec<(String, String)>, Vec<u8>)], path: &str, m: &reqwest::Method) -> Vec<u8> {
    chunk.iter().find(|r| r.1 == path && &r.0 == m).map(|r| r.3.clone()).unwrap_or_default()
}

/// Sends one request over a connection of its own, writing as much of the
/// body as the server takes, and returns the status of the answer, if any.
async fn raw_status(base: &str, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> Option<u16> {
    use std::io::Write as _;
    let addr = base.trim_start_matches("http://").to_string();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let body = body.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(&body));
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(2).any(|w| w == b"\r\n") {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let line = String::from_utf8_lossy(&buf);
        line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    })
    .await
    .unwrap()
}

/// 2,000 generated HTTP requests against a real `pg_shell serve` process:
/// no 5xx other than 503, no dropped connection, the gateway alive and
/// without a panic at the end; every line that went in through
/// /rpc/submit is recorded and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_http_requests_never_get_a_5xx() {
    let seed = seed("fuzz http");
    let mut rng = StdRng::seed_from_u64(seed);
    let db = TestDb::new().await;
    let admin = db.admin().await;
    admin.execute("update pgshell.settings set value = '1000' where name = 'timeout_ms'", &[]).await.unwrap();
    pg_shell::db::upsert_user(&admin, "alice", "user", Some("correct horse battery")).await.unwrap();
    pg_shell::db::upsert_user(&admin, "audrey", "auditor", None).await.unwrap();
    let mut exec = executor_process(&db);
    let (mut gw, base) = gateway_process(&db);
    let sign = |c: serde_json::Value| pg_shell::gateway::jwt::sign_hs256(&c, SECRET.as_bytes());
    let alice = sign(json!({"sub": "alice", "role": "pgshell_user"}));
    let tokens = vec![
        alice.clone(),
        sign(json!({"sub": "audrey", "role": "pgshell_auditor"})),
        sign(json!({"sub": "nobody", "role": "pgshell_user"})),
        sign(json!({"sub": "alice", "role": "pgshell_owner"})),
        sign(json!({"sub": "alice", "role": "postgres"})),
        sign(json!({"role": "pgshell_user", "exp": 1})),
        pg_shell::gateway::jwt::sign_hs256(&json!({"sub": "alice", "role": "pgshell_admin"}), b"the-wrong-secret-the-wrong-secret!"),
        sign(json!({"sub": {"nested": [1, 2]}, "role": ["pgshell_user"]})),
    ];
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();
    let sid: String = http
        .post(format!("{base}/rpc/create_session"))
        .bearer_auth(&alice)
        .json(&json!({"title": "fuzz"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cmd: i64 = http
        .post(format!("{base}/rpc/submit"))
        .bearer_auth(&alice)
        .json(&json!({"session_id": sid, "line": "echo hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid2: String = http
        .post(format!("{base}/rpc/create_session"))
        .bearer_auth(&alice)
        .json(&json!({"title": "fuzz, closed later"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let requests: Vec<_> =
        (0..count("PG_SHELL_FUZZ_REQUESTS", REQUESTS)).map(|_| http_request(&mut rng, &sid, &sid2, cmd, &tokens)).collect();
    let started = Instant::now();
    let mut statuses = BTreeMap::<u16, usize>::new();
    let mut bad = Vec::new();
    let mut retried = BTreeMap::<u16, usize>::new();
    for chunk in requests.chunks(8) {
        let calls = chunk.iter().map(|(m, p, h, b)| {
            let mut r = http.request(m.clone(), format!("{base}{p}"));
            for (k, v) in h {
                r = r.header(k.as_str(), v.as_str());
            }
            let r = r.body(b.clone());
            async move { (m, p, h, b.len(), r.send().await) }
        });
        for (m, p, h, blen, r) in futures_util::future::join_all(calls).await {
            match r {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    *statuses.entry(status).or_default() += 1;
                    let text = resp.text().await.unwrap_or_default();
                    if status >= 500 && status != 503 {
                        bad.push(format!("{m} {} {h:?} body {blen} bytes -> {status} {}", &p[..p.len().min(300)], &text[..text.len().min(500)]));
                    }
                }
                Err(e) => {
                    // A server may answer early (401, 413, ...) and close
                    // without reading the whole body, and a pooled
                    // connection may be closed under the client: ask once
                    // more over a connection of our own and read what the
                    // server says. No status line at all is the failure.
                    let raw = raw_status(&base, m.as_str(), p, h, &requests_body(chunk, p, m)).await;
                    match raw {
                        Some(status) if status < 500 || status == 503 => {
                            *statuses.entry(status).or_default() += 1;
                            *retried.entry(status).or_default() += 1;
                        }
                        other => bad.push(format!("{m} {} {h:?} body {blen} bytes -> no answer ({e}); again: {other:?}", &p[..p.len().min(300)])),
                    }
                }
            }
        }
    }
    let took = started.elapsed();
    println!(
        "fuzz http: {} requests in {:.1} s; statuses {statuses:?} (of which asked again over a fresh connection: {retried:?})",
        requests.len(),
        took.as_secs_f64()
    );
    gw.assert_alive_and_sane();
    assert!(bad.is_empty(), "{} bad answers (seed {seed}), first ones:\n{}", bad.len(), bad[..bad.len().min(10)].join("\n"));
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    // Every command that got in (through any request) finishes.
    let ids: Vec<i64> = admin.query("select id from pgshell.commands", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert!(!ids.is_empty());
    let counts = settle(&admin, &ids, Duration::from_secs(60)).await;
    println!("fuzz http: {} commands got in; outcomes {counts:?}", ids.len());
    assert!(!counts.contains_key("lost"), "{counts:?}");
    exec.assert_alive_and_sane();
    gw.assert_alive_and_sane();
}
