//! Test context: a throwaway cluster shared by the process (or the server
//! `TEST_DATABASE_URL` names), a template database with the schema and
//! bundled programs, and per-test databases cloned from it (triagebot's
//! TestContext pattern).
//!
//! With `TEST_DATABASE_URL` (a superuser's URL or key=value string), every
//! database a test makes lives on that server, named after this process
//! (`pgshell_template_PID`, `t_PID_N`, `e_PID_N`), and is dropped when the
//! test ends; leftovers of test processes that died are dropped at the next
//! start. Tests that start servers of their own (restarts, a second
//! database for imports, `up`) still do.

use std::fmt::{Debug, Display};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use pg_shell::cli::InProcessExecutor;
use pg_shell::client::{CommandView, ShellClient};
use pg_shell::executor::ExecutorConfig;
use pg_shell::pgcluster::{self, Cluster};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

const TEMPLATE: &str = "pgshell_template";

/// Where the tests' databases live.
enum Server {
    Throwaway(Cluster),
    /// `TEST_DATABASE_URL`, with the database name replaceable.
    External(String),
}

impl Server {
    fn connection_string(&self, db: &str) -> String {
        match self {
            Server::Throwaway(c) => c.connection_string(db),
            Server::External(_) => self.url(db),
        }
    }

    fn url(&self, db: &str) -> String {
        match self {
            Server::Throwaway(c) => c.url(db),
            Server::External(base) => external_url(base, db),
        }
    }
}

/// `base` (a URL or a key=value string) pointing at database `db`.
fn external_url(base: &str, db: &str) -> String {
    if base.starts_with("postgres://") || base.starts_with("postgresql://") {
        let mut u = url::Url::parse(base).expect("TEST_DATABASE_URL is not a valid URL");
        u.set_path(&format!("/{db}"));
        u.to_string()
    } else {
        // libpq and tokio-postgres: a later key wins.
        format!("{base} dbname={db}")
    }
}

struct Shared {
    server: Server,
}

/// The server of `TEST_DATABASE_URL`, if set.
pub fn external_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|s| !s.trim().is_empty())
}

fn template() -> String {
    format!("{TEMPLATE}_{}", std::process::id())
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        // Set up on a thread of its own: tests run on their own tokio runtimes.
        std::thread::spawn(|| {
            let server = match external_server() {
                Some(url) => Server::External(url),
                None => Server::Throwaway(pgcluster::throwaway().expect("starting a throwaway PostgreSQL")),
            };
            let conninfo = server.connection_string("postgres");
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let admin = pg_shell::db::connect_plain(&conninfo).await.expect("connecting to the test server");
                if let Server::External(_) = server {
                    drop_leftovers(&admin).await;
                }
                admin.batch_execute(&format!("create database {}", template())).await.unwrap();
                let mut c = pg_shell::db::connect_plain(&server.connection_string(&template())).await.unwrap();
                pg_shell::db::migrate(&mut c).await.expect("migrations apply");
                pg_shell::db::register_bundled(&mut c, true).await.expect("bundled programs register");
                drop(c);
                // Compile the bundled modules once into the shared cache.
                let rt = pg_shell::runtime::wasi::WasiRuntime::new(Some(cache_dir())).unwrap();
                for m in [&pg_shell::bundled::COREUTILS, &pg_shell::bundled::TEXTUTILS, &pg_shell::bundled::FIXTURES] {
                    rt.prepare(&pg_shell::env::sha256(m.wasm), m.wasm).unwrap();
                }
            });
            Shared { server }
        })
        .join()
        .expect("test setup")
    })
}

/// Databases of earlier test processes that are no longer alive.
async fn drop_leftovers(admin: &tokio_postgres::Client) {
    let rows = admin
        .query(
            "select datname from pg_database where datname ~ '^(t|e)_[0-9]+_[0-9]+$' or datname ~ ('^' || $1 || '_[0-9]+$')",
            &[&TEMPLATE],
        )
        .await
        .unwrap();
    for r in rows {
        let name: String = r.get(0);
        let pid: i32 = name.rsplit('_').nth(if name.starts_with(TEMPLATE) { 0 } else { 1 }).and_then(|p| p.parse().ok()).unwrap_or(0);
        #[cfg(unix)]
        let alive = pid > 0 && unsafe { libc::kill(pid, 0) } == 0;
        #[cfg(not(unix))]
        let alive = true;
        if !alive {
            let _ = admin.batch_execute(&format!("drop database if exists \"{name}\" with (force)")).await;
        }
    }
}

/// The PostgreSQL binaries of the shared cluster (psql lives there too);
/// under TEST_DATABASE_URL, those `pgcluster` finds on this machine.
pub fn pg_bin_dir() -> std::path::PathBuf {
    match &shared().server {
        Server::Throwaway(c) => c.bin_dir().to_path_buf(),
        Server::External(_) => Cluster::find_bin_dir().expect("PostgreSQL binaries for psql"),
    }
}

/// A connection string for a database that exists but is empty (no schema).
pub async fn empty_database() -> (String, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let s = shared();
    let name = format!("e_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let admin = pg_shell::db::connect_plain(&s.server.connection_string("postgres")).await.unwrap();
    admin.batch_execute(&format!("create database {name}")).await.unwrap();
    (s.server.connection_string(&name), s.server.url(&name))
}

/// What `audit verify` finds wrong in the database `c` is connected to
/// (empty when the record verifies).
pub async fn audit_problems(c: &tokio_postgres::Client) -> Vec<String> {
    c.query("select problem from pgshell.audit_problems(1000)", &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

/// A second throwaway cluster with pg_shell's schema and bundled programs
/// and nothing else, as another site where an exported session is imported:
/// the cluster (dropped with it), its connection string and a client.
pub async fn another_cluster() -> (Cluster, String, tokio_postgres::Client) {
    let cluster = tokio::task::spawn_blocking(pgcluster::throwaway).await.unwrap().unwrap();
    let conninfo = cluster.connection_string("postgres");
    let mut c = pg_shell::db::connect_plain(&conninfo).await.unwrap();
    pg_shell::db::migrate(&mut c).await.unwrap();
    pg_shell::db::register_bundled(&mut c, false).await.unwrap();
    (cluster, conninfo, c)
}

pub fn cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("module-cache")
}

/// A fresh database for one test, dropped at the end.
pub struct TestDb {
    pub conninfo: String,
    pub name: String,
    executors: Vec<InProcessExecutor>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let s = shared();
        let name = format!("t_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let admin = pg_shell::db::connect_plain(&s.server.connection_string("postgres")).await.unwrap();
        admin.batch_execute(&format!("create database {name} template {}", template())).await.unwrap();
        TestDb { conninfo: s.server.connection_string(&name), name, executors: Vec::new() }
    }

    pub fn executor_config(&self) -> ExecutorConfig {
        let mut c = ExecutorConfig::new(self.conninfo.clone());
        c.concurrency = 4;
        c.poll_interval = Duration::from_millis(500);
        c.cache_dir = Some(cache_dir());
        c
    }

    /// Starts an executor in this process; it stops when the TestDb drops.
    pub fn start_executor(&mut self) {
        let c = self.executor_config();
        self.start_executor_with(c);
    }

    pub fn start_executor_with(&mut self, config: ExecutorConfig) {
        self.executors.push(InProcessExecutor::start(config).unwrap());
    }

    /// A superuser connection, for arranging and inspecting state.
    pub async fn admin(&self) -> tokio_postgres::Client {
        pg_shell::db::connect_plain(&self.conninfo).await.unwrap()
    }

    pub async fn user(&self, name: &str) -> User {
        let admin = self.admin().await;
        pg_shell::db::upsert_user(&admin, name, "user", None).await.unwrap();
        User { client: ShellClient::connect(&self.conninfo, name).await.unwrap() }
    }

    /// Re-executes a session from its record (as `pg_shell replay` does).
    pub async fn replay(&self, session: Uuid, keep_going: bool) -> pg_shell::replay::Report {
        let ex = pg_shell::executor::Executor::new(self.executor_config()).unwrap();
        let opts = pg_shell::replay::ReplayOptions { keep_going, ..Default::default() };
        pg_shell::replay::replay_session(&ex, &self.admin().await, session, &opts).await.unwrap()
    }

    /// Sets limits on a session (as an admin would).
    pub async fn set_session_limits(&self, session: Uuid, limits: serde_json::Value) {
        self.admin()
            .await
            .execute("update pgshell.sessions set limits = $2 where id = $1", &[&session, &limits])
            .await
            .unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.executors.clear();
        let name = self.name.clone();
        let conninfo = shared().server.connection_string("postgres");
        // Best effort, on its own thread and runtime (we may be inside one).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                if let Ok(c) = pg_shell::db::connect_plain(&conninfo).await {
                    let _ = c.batch_execute(&format!("drop database if exists {name} with (force)")).await;
                }
            });
        })
        .join();
    }
}

pub struct User {
    pub client: ShellClient,
}

impl User {
    pub async fn session(&self) -> Uuid {
        self.client.create_session(Some("test")).await.unwrap()
    }

    /// Requests a replay through the API and polls `api.replay` until it is done.
    pub async fn replay_through_api(&self, session: Uuid) -> serde_json::Value {
        let id: i64 = self.client.raw().query_one("select api.request_replay($1)", &[&session]).await.unwrap().get(0);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let v: serde_json::Value = self.client.raw().query_one("select api.replay($1)", &[&id]).await.unwrap().get(0);
            if v["status"] == "done" {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "replay {id} not done: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `api.command` until the command is seen `running` (30 s at most);
    /// fails if it finishes first, as a command that never ran would.
    pub async fn wait_until_running(&self, id: i64) -> CommandView {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let c = self.client.command(id).await.unwrap();
            match c.status.as_str() {
                "running" => return c,
                "queued" => assert!(std::time::Instant::now() < deadline, "command {id} never started running"),
                _ => panic!("command {id} was never seen running: {c:?}"),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Runs a line and waits for its result (60 s at most).
    pub async fn run(&mut self, session: Uuid, line: &str) -> CommandView {
        let id = self.client.submit(session, line).await.unwrap();
        self.client.wait(id, Duration::from_secs(60)).await.unwrap()
    }
}

/// An error that may carry a SQLSTATE: straight from tokio_postgres, or
/// through `ShellClient`, which keeps it as the outer context `SQLSTATE xxxxx`.
pub trait WithSqlState: Display {
    fn sqlstate(&self) -> Option<SqlState>;
}

impl WithSqlState for tokio_postgres::Error {
    fn sqlstate(&self) -> Option<SqlState> {
        self.code().cloned()
    }
}

impl WithSqlState for anyhow::Error {
    fn sqlstate(&self) -> Option<SqlState> {
        self.to_string().strip_prefix("SQLSTATE ").map(SqlState::from_code)
    }
}

/// Asserts that a call was refused as insufficient_privilege (42501), the
/// answer for anything the caller may not see or do; any other error fails.
#[track_caller]
pub fn assert_refused<T: Debug, E: WithSqlState>(result: Result<T, E>) {
    match result {
        Ok(v) => panic!("expected a 42501 refusal, the call succeeded: {v:?}"),
        Err(e) => assert_eq!(e.sqlstate(), Some(SqlState::INSUFFICIENT_PRIVILEGE), "expected a 42501 refusal, got: {e:#}"),
    }
}

/// An HTTP response read whole, for the gateway tests (each module adds the
/// assertions it needs in an `impl Reply` of its own).
pub struct Reply {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn of(r: reqwest::Response) -> Reply {
        Reply { status: r.status(), headers: r.headers().clone(), text: r.text().await.unwrap() }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing
/// test leaves no agent running.
pub struct Agent(pub std::process::Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Agent {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Agent {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}
