//! `pg_shell program`: the resolver's table (bundled WASI tools, the native allow-list).

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use super::DbArgs;

#[derive(Args, Debug)]
pub struct ProgramCmd {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub action: ProgramAction,
}

#[derive(Subcommand, Debug)]
pub enum ProgramAction {
    /// List programs.
    List,
    /// Allow-list a native binary under a program name (default confinement).
    AllowNative { name: String, path: String },
    /// Allow-list a native binary with the operator's choices (README "Native programs").
    Add {
        name: String,
        /// Absolute path of the binary on the executor host.
        path: String,
        /// Pass this session variable too (repeatable; `NAME` or a prefix `NAME*`).
        #[arg(long = "allow-env", value_name = "NAME")]
        allow_env: Vec<String>,
        /// Replays may run it again (otherwise they report it as not replayable).
        #[arg(long)]
        replay_safe: bool,
        /// It sees the host's filesystem (no mount namespace).
        #[arg(long)]
        host_view: bool,
        /// It keeps the host's network (no network namespace).
        #[arg(long)]
        network: bool,
        /// A command it ran in may run again after its executor died
        /// (otherwise such a command is recorded as lost, never run twice).
        #[arg(long)]
        retry_safe: bool,
    },
    /// Register a WASI module file under one or more program names.
    AddWasi {
        file: std::path::PathBuf,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Enable a program.
    Enable { name: String },
    /// Disable a program (the resolver then reports it as disabled).
    Disable { name: String },
}

impl ProgramCmd {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let mut client = crate::db::connect_plain(&target.conninfo).await?;
        crate::db::migrate(&mut client).await?;
        match self.action {
            ProgramAction::List => {
                let rows = client
                    .query(
                        "select name, kind::text, enabled, coalesce(native_path, encode(module_digest, 'hex')),
                                concat_ws(' ', case when array_length(allow_env, 1) > 0 then '--allow-env ' || array_to_string(allow_env, ',') end,
                                          case when replay_safe then '--replay-safe' end, case when host_view then '--host-view' end,
                                          case when network then '--network' end, case when retry_safe then '--retry-safe' end)
                         from pgshell.programs order by name",
                        &[],
                    )
                    .await?;
                for r in rows {
                    let enabled: bool = r.get(2);
                    let flags: String = r.get(4);
                    println!(
                        "{:<16} {:<7} {:<9} {} {flags}",
                        r.get::<_, String>(0),
                        r.get::<_, String>(1),
                        if enabled { "enabled" } else { "disabled" },
                        r.get::<_, String>(3)
                    );
                }
            }
            ProgramAction::AllowNative { name, path } => {
                if !std::path::Path::new(&path).is_absolute() {
                    bail!("the path must be absolute");
                }
                crate::db::register_native(&client, &name, &path).await?;
                println!("allow-listed {path} as {name}");
            }
            ProgramAction::Add { name, path, allow_env, replay_safe, host_view, network, retry_safe } => {
                if !std::path::Path::new(&path).is_absolute() {
                    bail!("the path must be absolute");
                }
                for v in &allow_env {
                    let body = v.strip_suffix('*').unwrap_or(v);
                    let ok = !body.is_empty()
                        && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !body.starts_with(|c: char| c.is_ascii_digit());
                    if !ok {
                        bail!("--allow-env {v:?}: a variable name, or a prefix ending in '*'");
                    }
                }
                let o = crate::db::NativeOptions { allow_env, replay_safe, host_view, network, retry_safe };
                crate::db::register_native_with(&client, &name, &path, &o).await?;
                println!("allow-listed {path} as {name}");
            }
            ProgramAction::AddWasi { file, names } => {
                let wasm = std::fs::read(&file)?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let d = crate::db::register_wasi(&mut client, &wasm, &names, &format!("from {}", file.display())).await?;
                println!("registered {} as {}", hex::encode(d), names.join(", "));
            }
            ProgramAction::Enable { name } => set_enabled(&client, &name, true).await?,
            ProgramAction::Disable { name } => set_enabled(&client, &name, false).await?,
        }
        Ok(0)
    }
}

async fn set_enabled(client: &tokio_postgres::Client, name: &str, enabled: bool) -> Result<()> {
    let n = client.execute("update pgshell.programs set enabled = $2 where name = $1", &[&name, &enabled]).await?;
    if n == 0 {
        bail!("no program named {name}");
    }
    client
        .execute(
            "select pgshell.audit('program.changed', null, null, jsonb_build_object('program', $1::text, 'enabled', $2::boolean))",
            &[&name, &enabled],
        )
        .await?;
    println!("{name} {}", if enabled { "enabled" } else { "disabled" });
    Ok(())
}
