//! The command line: one file per subcommand, shared database options in
//! [`DbArgs`], resolved once into a connection string.

mod audit;
pub mod client;
mod cp;
mod executor;
mod export;
mod import;
mod init;
pub mod ops;
mod program;
mod replay;
mod run;
mod serve;
mod shell;
mod up;
mod user;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::pgcluster::{Cluster, ClusterOptions};

#[derive(Parser, Debug)]
#[command(name = "pg_shell", version, about = "A command shell whose whole state lives in PostgreSQL")]
pub struct Cli {
    /// Log as JSON lines (for log shippers); RUST_LOG filters either way.
    #[arg(long, global = true, env = "PG_SHELL_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start everything: the database (embedded unless DATABASE_URL is set), schema, bundled tools, executor, web gateway.
    Up(up::Up),
    /// Apply the schema and register the bundled tools (idempotent).
    Init(init::Init),
    /// Run an executor: claim queued commands and run them.
    Executor(executor::ExecutorCmd),
    /// Open an interactive shell session.
    Shell(shell::Shell),
    /// Run one command line in a session and exit with its exit code.
    Run(run::Run),
    /// Copy a file between the local disk and a session (SESSION:/path), as a recorded command.
    Cp(cp::Cp),
    /// Manage users.
    User(user::UserCmd),
    /// Manage programs (allow-list native binaries, list, enable, disable).
    Program(program::ProgramCmd),
    /// Re-execute a recorded session and verify it (or play it back).
    Replay(replay::Replay),
    /// Export a session as JSON or asciicast v2.
    Export(export::Export),
    /// Load an exported session (JSON) as a new session of yours, checking its digests.
    Import(import::Import),
    /// Verify, list or anchor the audit log.
    Audit(audit::Audit),
    /// Serve the SQL API over HTTP as PostgREST does, and the web UI.
    Serve(serve::Serve),
    /// Maintenance: hand back what dead executors held, close idle sessions, apply retention.
    Cleanup(ops::Cleanup),
    /// Print usage metrics (a table, or CSV rows with --csv).
    Monitor(ops::Monitor),
}

impl Command {
    pub async fn run(self) -> Result<u8> {
        match self {
            Command::Up(c) => c.run().await,
            Command::Init(c) => c.run().await,
            Command::Executor(c) => c.run().await,
            Command::Shell(c) => c.run().await,
            Command::Run(c) => c.run().await,
            Command::Cp(c) => c.run().await,
            Command::User(c) => c.run().await,
            Command::Program(c) => c.run().await,
            Command::Serve(c) => c.run().await,
            Command::Replay(c) => c.run().await,
            Command::Export(c) => c.run().await,
            Command::Import(c) => c.run().await,
            Command::Audit(c) => c.run().await,
            Command::Cleanup(c) => c.run().await,
            Command::Monitor(c) => c.run().await,
        }
    }
}

pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,pg_shell=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Where the database is. With neither URL set, the embedded cluster.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// PostgreSQL connection string (URL or key=value).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Alternative name for the connection string.
    #[arg(long, env = "PG_CONN", hide_env_values = true)]
    pub pg_conn: Option<String>,
    /// Directory of the embedded cluster (used when no connection string is given).
    #[arg(long, env = "PG_SHELL_HOME")]
    pub home: Option<std::path::PathBuf>,
}

/// A resolved database: its connection string and, when embedded, the cluster.
pub struct Target {
    pub conninfo: String,
    pub cluster: Option<Cluster>,
}

impl DbArgs {
    pub fn explicit(&self) -> Option<String> {
        self.database_url.clone().or_else(|| self.pg_conn.clone()).filter(|s| !s.trim().is_empty())
    }

    /// The explicit database, or the embedded cluster (started, and
    /// PostgreSQL installed if `install` and missing).
    pub async fn resolve(&self, install: bool) -> Result<Target> {
        if let Some(conninfo) = self.explicit() {
            return Ok(Target { conninfo, cluster: None });
        }
        let root = self.home.clone().unwrap_or_else(Cluster::default_root);
        let cluster = tokio::task::spawn_blocking(move || {
            Cluster::start(ClusterOptions {
                root,
                fsync: true,
                install_if_missing: install,
                extra_settings: vec![("max_connections".into(), "200".into())],
            })
        })
        .await?
        .context("starting the embedded PostgreSQL (set DATABASE_URL to use your own)")?;
        let conninfo = cluster.connection_string("postgres");
        Ok(Target { conninfo, cluster: Some(cluster) })
    }
}

/// The user the CLI acts as: --user, $PG_SHELL_USER, else the OS login name.
#[derive(Args, Debug, Clone)]
pub struct UserArg {
    /// Act as this pg_shell user (created as a plain user if missing).
    #[arg(long, short = 'u', env = "PG_SHELL_USER")]
    pub user: Option<String>,
}

impl UserArg {
    pub fn name(&self) -> String {
        self.user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "local".into())
    }
}

/// Makes sure the schema exists and the CLI's user exists.
pub async fn prepare_local_user(conninfo: &str, user: &str) -> Result<()> {
    let mut client = crate::db::connect_plain(conninfo).await?;
    crate::db::migrate(&mut client).await?;
    let exists: bool = client
        .query_one("select exists (select 1 from pgshell.users where name = $1)", &[&user])
        .await?
        .get(0);
    if !exists {
        crate::db::upsert_user(&client, user, "user", None).await?;
        eprintln!("pg_shell: created user {user}");
    }
    Ok(())
}

/// Whether some executor heartbeated recently (so commands will run).
pub async fn live_executor(conninfo: &str) -> Result<bool> {
    let client = crate::db::connect_plain(conninfo).await?;
    let row = client
        .query_one(
            "select exists (select 1 from pgshell.executors where stopped_at is null and heartbeat_at > now() - interval '45 seconds')",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Starts an executor inside this process; stops it when the handle drops.
pub struct InProcessExecutor {
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<Result<()>>>,
}

impl InProcessExecutor {
    pub fn start(config: crate::executor::ExecutorConfig) -> Result<InProcessExecutor> {
        let (stop, rx) = tokio::sync::watch::channel(false);
        let ex = crate::executor::Executor::new(config)?;
        let task = tokio::spawn(ex.run(rx));
        Ok(InProcessExecutor { stop, task: Some(task) })
    }

    pub async fn stop(mut self) -> Result<()> {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            t.await??;
        }
        Ok(())
    }
}

impl Drop for InProcessExecutor {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
