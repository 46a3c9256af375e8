//! `pg_shell serve`: the PostgREST-compatible gateway (src/gateway) on its own.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::executor::shutdown_signal;
use super::DbArgs;
use crate::gateway::{self, GatewayConfig};

#[derive(Args, Debug)]
pub struct Serve {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on [default: PGRST_SERVER_HOST:PGRST_SERVER_PORT, else 127.0.0.1:3000].
    #[arg(long)]
    pub listen: Option<String>,
    /// A PostgREST config file (`key = "value"` lines); PGRST_* variables override it.
    #[arg(long, env = "PGRST_CONFIG")]
    pub config: Option<PathBuf>,
    /// On SIGTERM/Ctrl-C: how long requests in flight may take to finish.
    #[arg(long, env = "PG_SHELL_GRACE", value_parser = super::ops::parse_duration, default_value = "30s", value_name = "DURATION")]
    pub grace: std::time::Duration,
}

impl Serve {
    pub async fn run(self) -> Result<u8> {
        let mut config = GatewayConfig::load(self.config.as_deref())?;
        if let Some(l) = &self.listen {
            config.listen = parse_listen(l)?;
        }
        // PGRST_DB_URI (environment or config file), else DATABASE_URL / PG_CONN,
        // else the embedded cluster. Given a superuser's connection, the gateway
        // logs in as pgshell_authenticator instead (src/gateway/mod.rs).
        let explicit = Some(config.db_uri.clone()).filter(|s| !s.trim().is_empty()).or_else(|| self.db.explicit());
        let cluster = match explicit {
            Some(uri) => {
                config.db_uri = uri;
                None
            }
            None => {
                let target = self.db.resolve(true).await?;
                let mut client = crate::db::connect_plain(&target.conninfo).await?;
                crate::db::migrate(&mut client).await?;
                config.db_uri = target.conninfo;
                target.cluster
            }
        };
        let gw = gateway::Gateway::bind(config).await?.with_grace(self.grace);
        println!("pg_shell gateway on {}", gw.url());
        let result = gw.run(shutdown_signal()).await;
        if let Some(c) = cluster {
            tokio::task::spawn_blocking(move || c.stop(false)).await??;
        }
        result?;
        Ok(0)
    }
}

/// `HOST:PORT`, `[V6]:PORT` or a bare `:PORT` / `PORT` (loopback).
pub fn parse_listen(s: &str) -> Result<std::net::SocketAddr> {
    let s = s.trim();
    if let Ok(port) = s.trim_start_matches(':').parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(|| anyhow::anyhow!("--listen takes HOST:PORT, got {s:?}"))?;
    let port: u16 = port.parse().map_err(|_| anyhow::anyhow!("--listen: bad port in {s:?}"))?;
    crate::gateway::resolve_listen(host, port)
}
