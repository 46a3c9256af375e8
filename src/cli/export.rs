//! `pg_shell export`: a session as JSON (schema pg_shell.session.v1) or as an
//! asciicast v2 recording.

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use uuid::Uuid;

use super::DbArgs;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Json,
    Asciicast,
}

#[derive(Args, Debug)]
pub struct Export {
    #[command(flatten)]
    pub db: DbArgs,
    pub session: Uuid,
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<std::path::PathBuf>,
}

impl Export {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let client = crate::db::connect_plain(&target.conninfo).await?;
        let text = match self.format {
            Format::Json => {
                let row = client.query_one("select pgshell.export_json($1)", &[&self.session]).await?;
                let v: Option<serde_json::Value> = row.get(0);
                let v = v.with_context(|| format!("no session {}", self.session))?;
                serde_json::to_string_pretty(&v)? + "\n"
            }
            Format::Asciicast => {
                let row = client.query_one("select pgshell.export_asciicast($1)", &[&self.session]).await?;
                let v: Option<String> = row.get(0);
                v.with_context(|| format!("no session {}", self.session))?
            }
        };
        match self.output {
            Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
            None => std::io::stdout().write_all(text.as_bytes())?,
        }
        Ok(0)
    }
}
