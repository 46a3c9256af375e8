//! `pg_shell executor`: claim queued commands and run them until stopped.

use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;

use crate::executor::{Executor, ExecutorConfig};

#[derive(Args, Debug, Clone)]
pub struct ExecutorArgs {
    /// Wall-clock limit per command, in seconds (caps the database's timeout_ms setting).
    #[arg(long, env = "COMMAND_TIMEOUT")]
    pub command_timeout: Option<f64>,
    /// Commands run at once (from different sessions).
    #[arg(long, env = "PG_SHELL_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Seconds a claim lives without a heartbeat.
    #[arg(long, env = "PG_SHELL_LEASE", default_value_t = 30.0)]
    pub lease: f64,
    /// On SIGTERM/Ctrl-C: how long running commands may take to finish
    /// before they are handed back to the queue (15s, 2m, ...).
    #[arg(long, env = "PG_SHELL_GRACE", value_parser = super::ops::parse_duration, default_value = "30s", value_name = "DURATION")]
    pub grace: Duration,
}

impl ExecutorArgs {
    pub fn config(&self, conninfo: String) -> Result<ExecutorConfig> {
        let mut c = ExecutorConfig::new(conninfo);
        if let Some(t) = self.command_timeout {
            if !(t.is_finite() && t > 0.0) {
                bail!("COMMAND_TIMEOUT must be a positive number of seconds, got {t}");
            }
            c.command_timeout = Some(Duration::from_secs_f64(t));
        }
        if let Some(n) = self.concurrency {
            if n == 0 {
                bail!("concurrency must be at least 1");
            }
            c.concurrency = n;
        }
        if !(self.lease.is_finite() && self.lease >= 1.0) {
            bail!("the lease must be at least one second");
        }
        c.lease = Duration::from_secs_f64(self.lease);
        c.grace = self.grace;
        Ok(c)
    }
}

#[derive(Args, Debug)]
pub struct ExecutorCmd {
    /// PostgreSQL connection string (required: an executor never starts a database).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[arg(long, env = "PG_CONN", hide_env_values = true)]
    pub pg_conn: Option<String>,
    #[command(flatten)]
    pub args: ExecutorArgs,
}

impl ExecutorCmd {
    pub async fn run(self) -> Result<u8> {
        let Some(conninfo) = self.database_url.or(self.pg_conn).filter(|s| !s.trim().is_empty()) else {
            bail!("no database: set DATABASE_URL (or PG_CONN) to the PostgreSQL connection string");
        };
        let config = self.args.config(conninfo)?;
        let (stop, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        Executor::new(config)?.run(rx).await?;
        Ok(0)
    }
}

/// Ctrl-C, or SIGTERM on Unix.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
