//! `pg_shell run`: run one command line in a session, print its output and
//! exit with its exit status.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use uuid::Uuid;

use super::executor::ExecutorArgs;
use super::{DbArgs, InProcessExecutor, UserArg};
use crate::client::{CommandView, ShellClient};

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
}

impl ClientArgs {
    /// Resolves the database, makes sure the user exists, starts an executor
    /// if needed, and connects as the user.
    pub async fn connect(&self) -> Result<(ShellClient, Option<InProcessExecutor>)> {
        let target = self.db.resolve(false).await?;
        let user = self.user.name();
        super::prepare_local_user(&target.conninfo, &user).await?;
        let ex = start_executor_if_needed(self.no_executor, &target.conninfo, &self.executor).await?;
        let client = ShellClient::connect(&target.conninfo, &user).await?;
        Ok((client, ex))
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
        let (mut client, ex) = self.client.connect().await?;
        let session = match self.session {
            Some(s) => s,
            None => {
                let s = client.create_session(None).await?;
                eprintln!("session: {s}");
                s
            }
        };
        let id = client.submit(session, &self.line.join(" ")).await?;
        let c = client.wait(id, Duration::from_secs(self.wait)).await?;
        print_output(&c)?;
        if let Some(ex) = ex {
            ex.stop().await?;
        }
        Ok(exit_status(&c))
    }
}

/// An executor inside this process unless told not to or one is already alive.
pub async fn start_executor_if_needed(never: bool, conninfo: &str, args: &ExecutorArgs) -> Result<Option<InProcessExecutor>> {
    if never || super::live_executor(conninfo).await? {
        return Ok(None);
    }
    Ok(Some(InProcessExecutor::start(args.config(conninfo.to_string())?)?))
}

pub fn print_output(c: &CommandView) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(c.stdout().as_bytes())?;
    out.flush()?;
    let mut err = std::io::stderr().lock();
    err.write_all(c.stderr().as_bytes())?;
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
