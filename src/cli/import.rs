//! `pg_shell import FILE`: load an exported session (pg_shell.session.v3, v2 or
//! v1) into this database as a new session of the importing user, after
//! checking the file's digest, signature and every content digest
//! (src/transfer.rs). Importing the same file again answers with the same
//! session.

use anyhow::{Context, Result};
use clap::Args;

use super::{DbArgs, UserArg};

#[derive(Args, Debug)]
pub struct Import {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub user: UserArg,
    /// The exported session (`pg_shell export SESSION -o FILE`).
    pub file: std::path::PathBuf,
    /// Require a signature by this Ed25519 public key (SPKI PEM, as `openssl
    /// pkey -pubout` writes it, or 64 hex digits).
    #[arg(long, value_name = "KEYFILE")]
    pub verify_key: Option<std::path::PathBuf>,
}

impl Import {
    pub async fn run(self) -> Result<u8> {
        let bytes = std::fs::read(&self.file).with_context(|| format!("reading {}", self.file.display()))?;
        let key = self.verify_key.as_deref().map(crate::transfer::read_verifying_key).transpose()?;
        let verified = crate::transfer::verify(&bytes, key.as_ref()).with_context(|| format!("{}", self.file.display()))?;
        for n in &verified.notes {
            eprintln!("pg_shell: note: {n}");
        }
        let target = self.db.resolve(false).await?;
        let user = self.user.name();
        super::prepare_local_user(&target.conninfo, &user).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        let done = crate::transfer::import(&mut client, &verified, &user).await?;
        if done.created {
            println!("{}", done.session);
            eprintln!("pg_shell: imported {} commands as session {} (owner {user})", done.commands, done.session);
        } else {
            println!("{}", done.session);
            eprintln!("pg_shell: {} was already imported by {user} as session {}; nothing changed", self.file.display(), done.session);
        }
        Ok(0)
    }
}
