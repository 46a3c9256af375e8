//! `pg_shell user`: create users and change their role or password.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use super::DbArgs;

#[derive(Args, Debug)]
pub struct UserCmd {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create a user, or update its role and password.
    Add {
        name: String,
        #[arg(long, default_value = "user", value_parser = ["user", "auditor", "admin"])]
        role: String,
        /// Password for the web log-in (stored as a bcrypt hash).
        #[arg(long, env = "PG_SHELL_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List users.
    List,
}

/// Creates the first admin when none exists (`pg_shell up`) and prints its
/// credentials, once: only the bcrypt hash is stored.
pub async fn announce_first_admin(client: &tokio_postgres::Client) -> Result<()> {
    if let Some(password) = crate::db::ensure_first_admin(client).await? {
        println!("Created the first admin. Log in to the web UI with:");
        println!("  user:     admin");
        println!("  password: {password}");
        println!("  (shown only now; change it with `pg_shell user add admin --role admin --password ...`)");
    }
    Ok(())
}

impl UserCmd {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        crate::db::migrate(&mut client).await?;
        match self.action {
            UserAction::Add { name, role, password } => {
                if let Some(p) = &password {
                    if p.len() < 8 {
                        bail!("a password needs at least 8 characters");
                    }
                }
                let created = crate::db::upsert_user(&client, &name, &role, password.as_deref()).await?;
                println!("{} user {name} ({role})", if created { "created" } else { "updated" });
            }
            UserAction::List => {
                for r in client.query("select name, role::text, created_at::text from pgshell.users order by name", &[]).await? {
                    println!("{:<24} {:<8} {}", r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2));
                }
            }
        }
        Ok(0)
    }
}
