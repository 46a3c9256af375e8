//! `pg_shell up`: everything on one machine, on an embedded default.

use anyhow::Result;
use clap::Args;

use super::executor::{shutdown_signal, ExecutorArgs};
use super::{DbArgs, InProcessExecutor};

#[derive(Args, Debug)]
pub struct Up {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub executor: ExecutorArgs,
    /// Also register the test fixtures.
    #[arg(long)]
    pub with_fixtures: bool,
}

impl Up {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(true).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        crate::db::migrate(&mut client).await?;
        crate::db::register_bundled(&mut client, self.with_fixtures).await?;
        super::user::announce_first_admin(&client).await?;
        let ex = InProcessExecutor::start(self.executor.config(target.conninfo.clone())?)?;
        match &target.cluster {
            Some(c) => {
                println!("pg_shell is up. Database: embedded PostgreSQL in {}", c.root().display());
                println!("  connect:  psql '{}'", c.url("postgres"));
                println!("  shell:    pg_shell shell     (in another terminal; same PG_SHELL_HOME)");
            }
            None => println!("pg_shell is up against the database in DATABASE_URL/PG_CONN"),
        }
        println!("Ctrl-C stops it.");
        shutdown_signal().await;
        println!("stopping");
        ex.stop().await?;
        if let Some(c) = target.cluster {
            tokio::task::spawn_blocking(move || c.stop(false)).await??;
        }
        Ok(0)
    }
}
