//! `pg_shell shell`: an interactive session. Each line is submitted to the
//! queue and its recorded result printed; the prompt shows the session's cwd.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::io::AsyncBufReadExt;
use uuid::Uuid;

use super::run::{print_output, ClientArgs};

#[derive(Args, Debug)]
pub struct Shell {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Resume this session instead of opening a new one.
    #[arg(long, short = 's')]
    pub session: Option<Uuid>,
    /// Title of a new session.
    #[arg(long)]
    pub title: Option<String>,
}

impl Shell {
    pub async fn run(self) -> Result<u8> {
        let (mut client, ex) = self.client.connect().await?;
        let user = client.user.clone();
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
