//! `pg_shell export`: a session as JSON (schema pg_shell.session.v3, which
//! `pg_shell import` and `replay --file` read; see src/transfer.rs) or as an
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
    /// Mask this variable's values everywhere they were recorded (repeatable);
    /// the mask is recorded in the file and replay reports the commands
    /// concerned as not comparable (json only).
    #[arg(long = "mask", value_name = "VAR")]
    pub masks: Vec<String>,
    /// Sign the file with this Ed25519 private key (PKCS#8 PEM, as `openssl
    /// genpkey -algorithm ed25519` writes it, or 64 hex digits) (json only).
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<std::path::PathBuf>,
}

impl Export {
    pub async fn run(self) -> Result<u8> {
        // A bad key is refused before anything connects.
        let key = self.sign.as_deref().map(crate::transfer::read_signing_key).transpose()?;
        let target = self.db.resolve(false).await?;
        let client = crate::db::connect_plain(&target.conninfo).await?;
        let text = match self.format {
            Format::Json => {
                let opts = crate::transfer::ExportOptions { masks: self.masks.clone(), signing_key: key.clone() };
                let doc = crate::transfer::export(&client, self.session, &opts).await?;
                crate::transfer::write(doc, opts.signing_key.as_ref())?
            }
            Format::Asciicast => {
                anyhow::ensure!(self.masks.is_empty() && self.sign.is_none(), "--mask and --sign apply to the json format only");
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
