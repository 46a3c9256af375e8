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
    /// Where the HTTP gateway listens [default: PGRST_SERVER_HOST:PGRST_SERVER_PORT, else 127.0.0.1:3000].
    #[arg(long)]
    pub listen: Option<String>,
    /// A PostgREST config file for the gateway; PGRST_* variables override it.
    #[arg(long, env = "PGRST_CONFIG")]
    pub config: Option<std::path::PathBuf>,
}

impl Up {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(true).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        crate::db::migrate(&mut client).await?;
        crate::db::register_bundled(&mut client, self.with_fixtures).await?;
        super::user::announce_first_admin(&client).await?;
        let ex = InProcessExecutor::start(self.executor.config(target.conninfo.clone())?)?;
        // The gateway's own login: PGRST_DB_URI (or the config file's db-uri)
        // when given, else this database. A superuser's connection is never
        // used for requests: the gateway then logs in as the NOINHERIT
        // pgshell_authenticator (src/gateway/mod.rs).
        let mut gw_config = crate::gateway::GatewayConfig::load(self.config.as_deref())?;
        if gw_config.db_uri.trim().is_empty() {
            gw_config.db_uri = target.conninfo.clone();
        }
        if let Some(l) = &self.listen {
            gw_config.listen = super::serve::parse_listen(l)?;
        }
        let gateway = crate::gateway::Gateway::bind(gw_config).await?;
        let url = gateway.url();
        let (stop_gateway, stopped) = tokio::sync::oneshot::channel::<()>();
        let gateway = tokio::spawn(gateway.run(async {
            let _ = stopped.await;
        }));
        match &target.cluster {
            Some(c) => {
                println!("pg_shell is up. Database: embedded PostgreSQL in {}", c.root().display());
                println!("  connect:  psql '{}'", c.url("postgres"));
                println!("  shell:    {} shell     (in another terminal; same PG_SHELL_HOME)", invocation());
            }
            None => println!("pg_shell is up against the database in DATABASE_URL/PG_CONN"),
        }
        println!("  web:      {url}   (PostgREST-style API under {url}rpc/)");
        println!("Ctrl-C stops it.");
        shutdown_signal().await;
        println!("stopping");
        let _ = stop_gateway.send(());
        match gateway.await {
            Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "gateway stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "gateway task failed"),
            Ok(Ok(())) => {}
        }
        ex.stop().await?;
        if let Some(c) = target.cluster {
            tokio::task::spawn_blocking(move || c.stop(false)).await??;
        }
        Ok(0)
    }
}

/// How the user can start this same program from where they are: `cargo run
/// --` when cargo started it (cargo sets CARGO for what it runs; or the
/// binary lives in a cargo target directory), `pg_shell` when that name on
/// PATH is this binary, else the binary's full path.
pub fn invocation() -> String {
    let exe = std::env::current_exe().ok();
    invocation_for(exe.as_deref(), std::env::var_os("CARGO").is_some(), std::env::var_os("PATH").as_deref())
}

fn invocation_for(exe: Option<&std::path::Path>, cargo_env: bool, path: Option<&std::ffi::OsStr>) -> String {
    let Some(exe) = exe else { return "pg_shell".into() };
    let in_target = |profile: &str| {
        exe.parent().and_then(|p| p.file_name()).is_some_and(|n| n == profile)
            && exe.parent().and_then(|p| p.parent()).and_then(|p| p.file_name()).is_some_and(|n| n == "target")
    };
    if cargo_env || in_target("debug") || in_target("release") {
        return if in_target("release") { "cargo run --release --".into() } else { "cargo run --".into() };
    }
    let on_path = path
        .map(|p| std::env::split_paths(p).any(|d| d.join("pg_shell") == exe || std::fs::canonicalize(d.join("pg_shell")).ok().as_deref() == Some(exe)))
        .unwrap_or(false);
    if on_path {
        "pg_shell".into()
    } else {
        shell_words::quote(&exe.display().to_string()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::invocation_for;
    use std::path::Path;

    #[test]
    fn the_shell_command_works_from_where_the_user_is() {
        let dev = Path::new("/src/pg_shell/target/debug/pg_shell");
        assert_eq!(invocation_for(Some(dev), false, None), "cargo run --");
        assert_eq!(invocation_for(Some(Path::new("/x/target/release/pg_shell")), false, None), "cargo run --release --");
        assert_eq!(invocation_for(Some(Path::new("/opt/pg/pg_shell")), true, None), "cargo run --");
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("pg_shell");
        std::fs::write(&exe, b"").unwrap();
        assert_eq!(invocation_for(Some(&exe), false, Some(dir.path().as_os_str())), "pg_shell");
        assert_eq!(invocation_for(Some(&exe), false, Some("/nowhere".as_ref())), exe.display().to_string());
    }
}
