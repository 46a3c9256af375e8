//! `pg_shell init`: apply the schema and register the bundled tools.

use anyhow::Result;
use clap::Args;

use super::DbArgs;

#[derive(Args, Debug)]
pub struct Init {
    #[command(flatten)]
    pub db: DbArgs,
    /// Also register the test fixtures (spin, memhog, ...).
    #[arg(long)]
    pub with_fixtures: bool,
}

impl Init {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(true).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        let applied = crate::db::migrate(&mut client).await?;
        crate::db::register_bundled(&mut client, self.with_fixtures).await?;
        if applied.is_empty() {
            println!("schema up to date");
        } else {
            println!("applied migrations {applied:?}");
        }
        Ok(0)
    }
}
