//! `pg_shell user`: create users and change their role or password.

use anyhow::{bail, Context, Result};
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
        /// Also create a PostgreSQL login role of the same name (with the same
        /// password, if given) that acts as this user over a direct SQL
        /// connection. Needs a connection that may create roles.
        #[arg(long)]
        login: bool,
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

/// The request roles a user's login may hold; exactly the user's is granted.
const REQUEST_ROLES: [&str; 3] = ["pgshell_user", "pgshell_auditor", "pgshell_admin"];

/// Makes the PostgreSQL login `name` act as the pg_shell user `name`
/// (`pgshell.caller_name()`): creates the role (LOGIN, INHERIT, so it holds the
/// privileges of its pg_shell role), sets its password, grants exactly
/// `pgshell_<role>`, and marks the user `sql_login`. A role that is a
/// superuser or a member of pgshell_authenticator is refused: such a login
/// may name any caller, so it could not stand for one user.
pub async fn sql_login(client: &tokio_postgres::Client, name: &str, role: &str, password: Option<&str>) -> Result<()> {
    let existing = client
        .query_opt(
            "select rolsuper, pg_has_role(oid, 'pgshell_authenticator', 'MEMBER') from pg_roles where rolname = $1",
            &[&name],
        )
        .await?;
    match existing {
        Some(r) if r.get::<_, bool>(0) || r.get::<_, bool>(1) => {
            bail!("the database role {name} is a superuser or a member of pgshell_authenticator: it cannot act as one user")
        }
        Some(_) => {}
        None => {
            // Identifiers and literals are quoted by PostgreSQL's format(), never by hand.
            let sql: String = client.query_one("select format('create role %I login inherit', $1::text)", &[&name]).await?.get(0);
            client.batch_execute(&sql).await.with_context(|| format!("creating the database login {name}"))?;
        }
    }
    let mut statements = vec![client.query_one("select format('alter role %I login', $1::text)", &[&name]).await?.get::<_, String>(0)];
    if let Some(p) = password {
        statements.push(client.query_one("select format('alter role %I password %L', $1::text, $2::text)", &[&name, &p]).await?.get(0));
    }
    let own = format!("pgshell_{role}");
    for r in REQUEST_ROLES {
        let verb = if r == own { "grant %I to %I" } else { "revoke %I from %I" };
        statements.push(client.query_one(&format!("select format('{verb}', $1::text, $2::text)"), &[&r, &name]).await?.get(0));
    }
    for sql in statements {
        client.batch_execute(&sql).await.with_context(|| format!("configuring the database login {name}"))?;
    }
    client.execute("update pgshell.users set sql_login = true where name = $1", &[&name]).await?;
    client
        .execute(
            "select pgshell.audit('user.sql_login', null, null, jsonb_build_object('user', $1::text, 'role', $2::text))",
            &[&name, &role],
        )
        .await?;
    Ok(())
}

impl UserCmd {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        crate::db::migrate(&mut client).await?;
        match self.action {
            UserAction::Add { name, role, password, login } => {
                if let Some(p) = &password {
                    if p.len() < 8 {
                        bail!("a password needs at least 8 characters");
                    }
                }
                let created = crate::db::upsert_user(&client, &name, &role, password.as_deref()).await?;
                println!("{} user {name} ({role})", if created { "created" } else { "updated" });
                if login {
                    sql_login(&client, &name, &role, password.as_deref()).await?;
                    println!("database login {name} acts as user {name}");
                }
            }
            UserAction::List => {
                for r in client
                    .query("select name, role::text, created_at::text, sql_login from pgshell.users order by name", &[])
                    .await?
                {
                    println!(
                        "{:<24} {:<8} {}{}",
                        r.get::<_, String>(0),
                        r.get::<_, String>(1),
                        r.get::<_, String>(2),
                        if r.get::<_, bool>(3) { "  (database login)" } else { "" }
                    );
                }
            }
        }
        Ok(0)
    }
}
