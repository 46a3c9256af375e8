//! A user's view of pg_shell over a direct database connection: the CLI and
//! the tests speak to the same `api` functions PostgREST serves, as a named
//! user (PostgREST's `request.jwt.claims` convention).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_postgres::{Client, Notification};
use uuid::Uuid;

pub use crate::runtime::Terminal;

/// One command as `api.command` returns it.
#[derive(Clone, Debug, Deserialize)]
pub struct CommandView {
    pub id: i64,
    pub session_id: Uuid,
    pub seq: i32,
    pub line: String,
    pub status: String,
    pub outcome: Option<String>,
    pub exit_code: Option<i32>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub stdout_truncated: Option<bool>,
    pub stderr_truncated: Option<bool>,
    pub fuel: Option<i64>,
    pub cwd_before: Option<String>,
    pub cwd_after: Option<String>,
    pub error: Option<String>,
    pub attempt: i32,
    pub env_before: Option<String>,
    pub env_after: Option<String>,
    pub total_ms: Option<f64>,
    pub program_kind: Option<String>,
    /// The limits the line ran under, its budget and what it used.
    #[serde(default)]
    pub limits: Option<serde_json::Value>,
    #[serde(default)]
    pub budget: Option<serde_json::Value>,
    /// Every program the line resolved, pinned to its kind and digest.
    #[serde(default)]
    pub plan: Option<serde_json::Value>,
    /// What ran: one entry per program run.
    #[serde(default)]
    pub trace: Option<Vec<serde_json::Value>>,
}

impl CommandView {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "cancelled")
    }
    pub fn stdout(&self) -> &str {
        self.stdout.as_deref().unwrap_or("")
    }
    pub fn stderr(&self) -> &str {
        self.stderr.as_deref().unwrap_or("")
    }
    pub fn outcome(&self) -> &str {
        self.outcome.as_deref().unwrap_or("")
    }
}

pub struct ShellClient {
    client: Client,
    notes: mpsc::UnboundedReceiver<Notification>,
    pub user: String,
    conninfo: String,
}

impl ShellClient {
    /// Connects as `user` and listens for completions.
    pub async fn connect(conninfo: &str, user: &str) -> Result<ShellClient> {
        let (client, notes) = crate::db::connect(conninfo).await?;
        let claims = serde_json::json!({ "sub": user }).to_string();
        client
            .execute("select set_config('request.jwt.claims', $1, false)", &[&claims])
            .await
            .context("setting the caller")?;
        client.batch_execute("listen pg_shell_done").await?;
        Ok(ShellClient { client, notes, user: user.to_string(), conninfo: conninfo.to_string() })
    }

    /// A second connection as the same user (to cancel or look up while
    /// this one waits).
    pub async fn another(&self) -> Result<ShellClient> {
        ShellClient::connect(&self.conninfo, &self.user).await
    }

    pub fn raw(&self) -> &Client {
        &self.client
    }

    pub async fn create_session(&self, title: Option<&str>) -> Result<Uuid> {
        let row = self.client.query_one("select api.create_session($1)", &[&title]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    pub async fn submit(&self, session: Uuid, line: &str) -> Result<i64> {
        self.submit_from(session, line, None).await
    }

    /// Submits a line as typed at `terminal` (recorded with the command;
    /// WASI guests see it: `isatty`, TERM, COLUMNS, LINES).
    pub async fn submit_from(&self, session: Uuid, line: &str, terminal: Option<&Terminal>) -> Result<i64> {
        if line.contains('\0') {
            bail!("the command line contains a NUL byte, which a command line cannot hold");
        }
        let terminal = terminal.map(serde_json::to_value).transpose()?;
        let row = self.client.query_one("select api.submit($1, $2, $3)", &[&session, &line, &terminal]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    /// The enabled programs' names (`api.program_names`).
    pub async fn program_names(&self) -> Result<Vec<String>> {
        let rows = self.client.query("select api.program_names()", &[]).await.map_err(db_error)?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Names in the session's current files that complete `prefix` (a path
    /// as typed), with their kind (`file`, `dir`, `symlink`): `api.session_files`.
    pub async fn files(&self, session: Uuid, prefix: &str, max: i32) -> Result<Vec<(String, String)>> {
        let rows = self
            .client
            .query("select name, kind from api.session_files($1, $2, $3)", &[&session, &prefix, &max])
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn command(&self, id: i64) -> Result<CommandView> {
        let row = self.client.query_one("select api.command($1)", &[&id]).await.map_err(db_error)?;
        let v: serde_json::Value = row.get(0);
        serde_json::from_value(v).context("decoding api.command")
    }

    pub async fn history(&self, session: Uuid) -> Result<Vec<CommandView>> {
        let rows = self.client.query("select api.history($1)", &[&session]).await.map_err(db_error)?;
        rows.into_iter()
            .map(|r| serde_json::from_value(r.get::<_, serde_json::Value>(0)).context("decoding api.history"))
            .collect()
    }

    pub async fn session(&self, session: Uuid) -> Result<serde_json::Value> {
        let row = self.client.query_one("select api.session($1)", &[&session]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    /// `api.output`: what the command wrote after byte `after` (both
    /// streams in the order produced), so far or in all.
    pub async fn output(&self, id: i64, after: i64) -> Result<serde_json::Value> {
        let row = self.client.query_one("select api.output($1, $2)", &[&id, &after]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    pub async fn cancel(&self, id: i64) -> Result<bool> {
        let row = self.client.query_one("select api.cancel($1)", &[&id]).await.map_err(db_error)?;
        Ok(row.get(0))
    }

    /// Waits until the command is done or cancelled: woken by NOTIFY, with a
    /// poll as a fallback for a missed notification.
    pub async fn wait(&mut self, id: i64, timeout: Duration) -> Result<CommandView> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let c = self.command(id).await?;
            if c.finished() {
                return Ok(c);
            }
            loop {
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    bail!("command {id} did not finish within {timeout:?} (status {}); is an executor running?", c.status);
                }
                let wait = (deadline - now).min(Duration::from_millis(500));
                match tokio::time::timeout(wait, self.notes.recv()).await {
                    Ok(Some(n)) if n.payload().rsplit(' ').next() == Some(&id.to_string()) => break,
                    Ok(Some(_)) => continue,
                    Ok(None) => bail!("the database connection closed"),
                    Err(_) => break, // poll
                }
            }
        }
    }

    /// Submits and waits.
    pub async fn run(&mut self, session: Uuid, line: &str) -> Result<CommandView> {
        let id = self.submit(session, line).await?;
        self.wait(id, Duration::from_secs(600)).await
    }
}

/// Keeps PostgreSQL's message (and hint) instead of "db error".
pub fn db_error(e: tokio_postgres::Error) -> anyhow::Error {
    match e.as_db_error() {
        Some(db) => {
            let mut msg = db.message().to_string();
            if let Some(h) = db.hint() {
                msg.push_str(&format!(" (hint: {h})"));
            }
            anyhow::anyhow!(msg).context(format!("SQLSTATE {}", db.code().code()))
        }
        None => anyhow::Error::new(e),
    }
}
