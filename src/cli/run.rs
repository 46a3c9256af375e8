//! `pg_shell run`: run one command line in a session, print its output as
//! it arrives and exit with its exit status.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use uuid::Uuid;

use super::client::{Client, Follow};
use super::executor::ExecutorArgs;
use super::{DbArgs, InProcessExecutor, UserArg};
use crate::client::CommandView;

/// What `run` and `shell` share: where the database is, who the user is, and
/// the executor to start in this process when no other one is alive.
#[derive(Args, Debug)]
pub struct ClientArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub user: UserArg,
    #[command(flatten)]
    pub executor: ExecutorArgs,
    /// Never start an executor in this process (wait for an external one).
    #[arg(long)]
    pub no_executor: bool,
    /// Work through the gateway at this URL (`pg_shell serve`, http://HOST:PORT/)
    /// instead of the database: no database credentials needed. Logs in as
    /// --user with $PG_SHELL_PASSWORD, else a password prompt, or uses --token.
    #[arg(long, env = "PG_SHELL_URL", value_name = "URL")]
    pub url: Option<String>,
    /// With --url: a JWT the gateway accepts, instead of a password.
    #[arg(long, env = "PG_SHELL_TOKEN", hide_env_values = true, value_name = "JWT")]
    pub token: Option<String>,
}

impl ClientArgs {
    /// Resolves the database, makes sure the user exists, starts an executor
    /// if needed, and connects as the user; or over HTTP with --url: logged in with
    /// the token, else as the user with $PG_SHELL_PASSWORD or a prompt (no
    /// executor is started then: the gateway's database has its own).
    pub async fn connect_any(&self) -> Result<(Client, Option<InProcessExecutor>)> {
        let Some(url) = self.url.as_deref().filter(|u| !u.trim().is_empty()) else {
            if self.token.is_some() {
                bail!("--token (PG_SHELL_TOKEN) is for logging in to a gateway: give its --url (PG_SHELL_URL) too");
            }
            let target = self.db.resolve(false).await?;
            let user = self.user.name();
            super::prepare_local_user(&target.conninfo, &user).await?;
            let ex = start_executor_if_needed(self.no_executor, &target.conninfo, &self.executor).await?;
            return Ok((Client::direct(&target.conninfo, &user).await?, ex));
        };
        let client = match self.token.as_deref() {
            Some(token) => {
                let c = Client::with_token(url, token).await?;
                if let Some(u) = self.user.user.as_deref().filter(|u| *u != c.user) {
                    bail!("the token is {}'s, not {u}'s (--user / PG_SHELL_USER)", c.user);
                }
                c
            }
            None => {
                let user = self.user.name();
                let password = match std::env::var("PG_SHELL_PASSWORD") {
                    Ok(p) => p,
                    Err(_) => super::client::prompt_password(&format!("{user}'s password for {url}: "))?,
                };
                Client::login(url, &user, &password).await?
            }
        };
        Ok((client, None))
    }
}

#[derive(Args, Debug)]
pub struct Run {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Session to run in; a new one is created (and its id printed to stderr) if omitted.
    #[arg(long, short = 's')]
    pub session: Option<Uuid>,
    /// Seconds to wait for the result.
    #[arg(long, default_value_t = 600)]
    pub wait: u64,
    /// The command line (several words are joined with spaces).
    #[arg(last = true, required = true)]
    pub line: Vec<String>,
}

impl Run {
    pub async fn run(self) -> Result<u8> {
        let (client, ex) = self.client.connect_any().await?;
        let result = self.run_with(&client).await;
        let _ = client.logout().await;
        if let Some(ex) = ex {
            ex.stop().await?;
        }
        Ok(exit_status(&result?))
    }

    async fn run_with(&self, client: &Client) -> Result<CommandView> {
        let session = match self.session {
            Some(s) => s,
            None => {
                let s = client.create_session(None).await?;
                eprintln!("session: {s}");
                s
            }
        };
        let id = client.submit(session, &self.line.join(" "), None).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(self.wait);
        let c = client.follow(&mut Follow::new(id), deadline, &mut std::io::stdout(), &mut std::io::stderr()).await?;
        print_notes(&c)?;
        Ok(c)
    }
}

/// An executor inside this process unless told not to or one is already alive.
pub async fn start_executor_if_needed(never: bool, conninfo: &str, args: &ExecutorArgs) -> Result<Option<InProcessExecutor>> {
    if never || super::live_executor(conninfo).await? {
        return Ok(None);
    }
    Ok(Some(InProcessExecutor::start(args.config(conninfo.to_string())?)?))
}

/// What follows a command's output: truncation and cancellation notes.
pub fn print_notes(c: &CommandView) -> Result<()> {
    let mut err = std::io::stderr().lock();
    if c.stdout_truncated == Some(true) {
        writeln!(err, "pg_shell: stdout was truncated at the session's limit")?;
    }
    if c.stderr_truncated == Some(true) {
        writeln!(err, "pg_shell: stderr was truncated at the session's limit")?;
    }
    if c.status == "cancelled" {
        writeln!(err, "pg_shell: cancelled")?;
    }
    err.flush().context("writing output")
}

/// The process exit status for a command (cancelled: 130, as after Ctrl-C).
pub fn exit_status(c: &CommandView) -> u8 {
    if c.status == "cancelled" {
        return 130;
    }
    c.exit_code.map(|x| (x & 0xff) as u8).unwrap_or(1)
}
