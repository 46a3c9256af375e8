//! `pg_shell shell`: an interactive session. Each line is submitted to the
//! queue and its recorded result printed; the prompt shows the session's cwd.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::io::AsyncBufReadExt;
use uuid::Uuid;

use super::executor::ExecutorArgs;
use super::run::{print_output, start_executor_if_needed};
use super::{DbArgs, UserArg};
use crate::client::ShellClient;

#[derive(Args, Debug)]
pub struct Shell {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub user: UserArg,
    #[command(flatten)]
    pub executor: ExecutorArgs,
    /// Resume this session instead of opening a new one.
    #[arg(long, short = 's')]
    pub session: Option<Uuid>,
    /// Title of a new session.
    #[arg(long)]
    pub title: Option<String>,
    /// Never start an executor in this process.
    #[arg(long)]
    pub no_executor: bool,
}

impl Shell {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let user = self.user.name();
        super::prepare_local_user(&target.conninfo, &user).await?;
        let ex = start_executor_if_needed(self.no_executor, &target.conninfo, &self.executor).await?;
        let mut client = ShellClient::connect(&target.conninfo, &user).await?;
        let session = match self.session {
            Some(s) => s,
            None => client.create_session(self.title.as_deref()).await?,
        };
        let interactive = std::io::stdin().is_terminal();
        if interactive {
            eprintln!("pg_shell session {session} (exit or Ctrl-D to leave; `help` lists commands)");
        }
        let mut cwd = client.session(session).await?["cwd"].as_str().unwrap_or("/").to_string();
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut last = 0u8;
        loop {
            if interactive {
                print!("{user}:{cwd}$ ");
                std::io::stdout().flush()?;
            }
            let Some(line) = lines.next_line().await? else { break };
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed == "exit" || trimmed == "logout" {
                break;
            }
            let id = match client.submit(session, &line).await {
                Ok(id) => id,
                Err(e) => {
                    eprintln!("pg_shell: {e:#}");
                    last = 2;
                    continue;
                }
            };
            let c = client.wait(id, Duration::from_secs(3600)).await?;
            print_output(&c)?;
            last = super::run::exit_status(&c);
            if let Some(after) = &c.cwd_after {
                cwd = after.clone();
            }
        }
        if let Some(ex) = ex {
            ex.stop().await?;
        }
        Ok(last)
    }
}
