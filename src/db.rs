//! PostgreSQL plumbing: connecting, listening for notifications, applying the
//! schema, and the few administrative writes (users, programs) the CLI makes.
//!
//! SQL text lives in sql/ and in fixed statements here; request data is only
//! ever bound as parameters.

use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Notification};

use crate::env::sha256;

/// Parses a libpq-style URL (`postgres://...`) or key=value string.
pub fn parse_config(conninfo: &str) -> Result<Config> {
    conninfo
        .parse::<Config>()
        .with_context(|| "parsing the database connection string (DATABASE_URL / PG_CONN)".to_string())
}

/// Connects and drives the connection on a task. The returned receiver gets
/// every NOTIFY the connection LISTENs to; it closes when the connection dies.
pub async fn connect(conninfo: &str) -> Result<(Client, mpsc::UnboundedReceiver<Notification>)> {
    let mut config = parse_config(conninfo)?;
    if config.get_application_name().is_none() {
        config.application_name("pg_shell");
    }
    config.connect_timeout(Duration::from_secs(10));
    // connect_timeout bounds the socket's connect only; a server that
    // accepted but never answers the startup (one going down or coming up
    // around an immediate-mode restart) would hold the caller forever.
    let (client, mut conn) = tokio::time::timeout(Duration::from_secs(15), config.connect(NoTls))
        .await
        .map_err(|_| anyhow::anyhow!("connecting to PostgreSQL: no answer to the startup within 15 s"))?
        .context("connecting to PostgreSQL")?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(msg) = messages.next().await {
            match msg {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = tx.send(n);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "database connection ended");
                    break;
                }
            }
        }
    });
    Ok((client, rx))
}

/// Connects, ignoring notifications.
pub async fn connect_plain(conninfo: &str) -> Result<Client> {
    Ok(connect(conninfo).await?.0)
}

const ROLES: &str = include_str!("../sql/roles.sql");
const META: &str = include_str!("../sql/meta.sql");

/// Numbered migrations, in order. Never edit one that has been released.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "0001_core", include_str!("../sql/migrations/0001_core.sql")),
    (2, "0002_replay_audit", include_str!("../sql/migrations/0002_replay_audit.sql")),
    (3, "0003_web", include_str!("../sql/migrations/0003_web.sql")),
    (4, "0004_execution_core", include_str!("../sql/migrations/0004_execution_core.sql")),
    (5, "0005_tree_objects", include_str!("../sql/migrations/0005_tree_objects.sql")),
    (6, "0006_plans", include_str!("../sql/migrations/0006_plans.sql")),
    (8, "0008_native_security", include_str!("../sql/migrations/0008_native_security.sql")),
    (9, "0009_login_security", include_str!("../sql/migrations/0009_login_security.sql")),
    (10, "0010_audit_v2", include_str!("../sql/migrations/0010_audit_v2.sql")),
    (11, "0011_operations", include_str!("../sql/migrations/0011_operations.sql")),
    (12, "0012_postgrest", include_str!("../sql/migrations/0012_postgrest.sql")),
    (13, "0013_import", include_str!("../sql/migrations/0013_import.sql")),
    (14, "0014_live_output", include_str!("../sql/migrations/0014_live_output.sql")),
    (15, "0015_terminal", include_str!("../sql/migrations/0015_terminal.sql")),
    (16, "0016_gc", include_str!("../sql/migrations/0016_gc.sql")),
    (17, "0017_heartbeat_holds", include_str!("../sql/migrations/0017_heartbeat_holds.sql")),
    (18, "0018_files", include_str!("../sql/migrations/0018_files.sql")),
    (19, "0019_hold_ui", include_str!("../sql/migrations/0019_hold_ui.sql")),
    (21, "0021_web_terminal", include_str!("../sql/migrations/0021_web_terminal.sql")),
    (22, "0022_heartbeat_claims", include_str!("../sql/migrations/0022_heartbeat_claims.sql")),
    (24, "0024_import_input", include_str!("../sql/migrations/0024_import_input.sql")),
    (25, "0025_complete_lock_order", include_str!("../sql/migrations/0025_complete_lock_order.sql")),
];

/// Applies roles and every missing migration, each in its own transaction,
/// serialized across processes by an advisory lock. Returns the versions applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>> {
    client.batch_execute(ROLES).await.context("creating pg_shell roles")?;
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let tx = client.transaction().await?;
        tx.execute("select pg_advisory_xact_lock(hashtext('pg_shell.migrate'))", &[]).await?;
        tx.batch_execute(META).await.context("creating the migration ledger")?;
        let done: bool = tx
            .query_one("select exists (select 1 from pgshell_meta.schema_version where version = $1)", &[version])
            .await?
            .get(0);
        if done {
            continue;
        }
        tx.batch_execute("set local role pgshell_owner").await?;
        tx.batch_execute(sql).await.with_context(|| format!("applying migration {name}"))?;
        tx.batch_execute("reset role").await?;
        tx.execute("insert into pgshell_meta.schema_version (version, name) values ($1, $2)", &[version, name])
            .await?;
        tx.commit().await.with_context(|| format!("committing migration {name}"))?;
        tracing::info!(version, name, "applied migration");
        applied.push(*version);
    }
    Ok(applied)
}

/// Creates a user (or updates its role and password). Returns true if created.
pub async fn upsert_user(client: &Client, name: &str, role: &str, password: Option<&str>) -> Result<bool> {
    let row = client
        .query_one(
            "insert into pgshell.users (name, role, password_hash)
             values ($1, $2::text::pgshell.user_role, case when $3::text is null then null else pgshell.bcrypt($3, pgshell.bcrypt_salt()) end)
             on conflict (name) do update set role = excluded.role,
                 password_hash = coalesce(excluded.password_hash, pgshell.users.password_hash)
             returning (xmax = 0) as created",
            &[&name, &role, &password],
        )
        .await
        .with_context(|| format!("creating user {name}"))?;
    let created: bool = row.get(0);
    client
        .execute(
            "select pgshell.audit($1, null, null, jsonb_build_object('user', $2::text, 'role', $3::text))",
            &[&if created { "user.created" } else { "user.updated" }, &name, &role],
        )
        .await?;
    Ok(created)
}

/// Creates the user `admin` with a random password when no enabled admin
/// exists yet, and returns that password (to be shown once). Returns None when
/// an admin exists, or when a non-admin user already holds the name `admin`
/// (it is never promoted behind its owner's back).
pub async fn ensure_first_admin(client: &Client) -> Result<Option<String>> {
    client.execute("select pg_advisory_lock(hashtext('pg_shell.first_admin'))", &[]).await?;
    let result = async {
        let row = client
            .query_one(
                "select exists (select 1 from pgshell.users where role = 'admin' and not disabled),
                        exists (select 1 from pgshell.users where name = 'admin')",
                &[],
            )
            .await?;
        let (have_admin, name_taken): (bool, bool) = (row.get(0), row.get(1));
        if have_admin {
            return Ok(None);
        }
        if name_taken {
            tracing::warn!("no admin exists and the name `admin` belongs to a non-admin user: create one with `pg_shell user add <name> --role admin --password ...`");
            return Ok(None);
        }
        let password = random_password()?;
        upsert_user(client, "admin", "admin", Some(&password)).await?;
        Ok(Some(password))
    }
    .await;
    client.execute("select pg_advisory_unlock(hashtext('pg_shell.first_admin'))", &[]).await?;
    result
}

/// 24 characters from a 32-letter alphabet without look-alikes (120 bits, unbiased).
fn random_password() -> Result<String> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for the admin password: {e}"))?;
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

/// Stores a WASI module and registers it under each program name (argv[0]
/// tells a multicall module which tool to be). Existing programs keep their
/// enabled flag and limits.
pub async fn register_wasi(client: &mut Client, wasm: &[u8], programs: &[&str], description: &str) -> Result<crate::env::Digest> {
    let digest = sha256(wasm);
    let tx = client.transaction().await?;
    tx.execute(
        "insert into pgshell.blobs (digest, size, data) values ($1, $2, $3) on conflict (digest) do nothing",
        &[&&digest[..], &(wasm.len() as i64), &wasm],
    )
    .await
    .context("storing the module")?;
    let names: Vec<String> = programs.iter().map(|s| s.to_string()).collect();
    let changed = tx
        .query(
            "insert into pgshell.programs (name, kind, module_digest, description)
             select n, 'wasi', $2, $3 from unnest($1::text[]) n
             on conflict (name) do update set kind = 'wasi', module_digest = excluded.module_digest,
                 native_path = null, description = excluded.description
             where pgshell.programs.module_digest is distinct from excluded.module_digest
             returning name",
            &[&names, &&digest[..], &description],
        )
        .await
        .context("registering programs")?;
    if !changed.is_empty() {
        let names: Vec<String> = changed.iter().map(|r| r.get(0)).collect();
        tx.execute(
            "select pgshell.audit('program.registered', null, null,
                 jsonb_build_object('programs', $1::text[], 'kind', 'wasi', 'digest', encode($2, 'hex')))",
            &[&names, &&digest[..]],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(digest)
}

/// Allow-lists a native binary under a program name, with the default
/// confinement (no extra variables, no replays, no host view, no network).
pub async fn register_native(client: &Client, name: &str, path: &str) -> Result<()> {
    register_native_with(client, name, path, &NativeOptions::default()).await
}

/// What an operator decides about one native program (`pg_shell program add`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NativeOptions {
    /// Session variables passed beyond the default environment (a name, or a
    /// prefix ending in `*`).
    pub allow_env: Vec<String>,
    /// Replays may run it again.
    pub replay_safe: bool,
    /// It sees the host's filesystem (no mount namespace).
    pub host_view: bool,
    /// It keeps the host's network (no network namespace).
    pub network: bool,
    /// A command it ran in may run again after its executor died (otherwise
    /// the rescue records the command as lost).
    pub retry_safe: bool,
}

/// Allow-lists a native binary with the operator's choices; re-registering
/// replaces them.
pub async fn register_native_with(client: &Client, name: &str, path: &str, o: &NativeOptions) -> Result<()> {
    anyhow::ensure!(path.starts_with('/'), "a native program needs an absolute path, got {path:?}");
    client
        .execute(
            "insert into pgshell.programs (name, kind, native_path, allow_env, replay_safe, host_view, network, retry_safe)
             values ($1, 'native', $2, $3, $4, $5, $6, $7)
             on conflict (name) do update set kind = 'native', native_path = excluded.native_path, module_digest = null,
                 allow_env = excluded.allow_env, replay_safe = excluded.replay_safe,
                 host_view = excluded.host_view, network = excluded.network, retry_safe = excluded.retry_safe",
            &[&name, &path, &o.allow_env, &o.replay_safe, &o.host_view, &o.network, &o.retry_safe],
        )
        .await
        .with_context(|| format!("allow-listing {path} as {name}"))?;
    client
        .execute(
            "select pgshell.audit('program.registered', null, null,
                 jsonb_build_object('programs', array[$1::text], 'kind', 'native', 'path', $2::text,
                                    'allow_env', $3::text[], 'replay_safe', $4::boolean,
                                    'host_view', $5::boolean, 'network', $6::boolean, 'retry_safe', $7::boolean))",
            &[&name, &path, &o.allow_env, &o.replay_safe, &o.host_view, &o.network, &o.retry_safe],
        )
        .await?;
    Ok(())
}

/// Registers the modules shipped inside the binary (`bundled::SHIPPED`:
/// coreutils and textutils; the test fixtures too when asked).
pub async fn register_bundled(client: &mut Client, with_fixtures: bool) -> Result<()> {
    let mut modules: Vec<&crate::bundled::BundledModule> = crate::bundled::SHIPPED.to_vec();
    if with_fixtures {
        modules.push(&crate::bundled::FIXTURES);
    }
    for m in modules {
        register_wasi(client, m.wasm, m.programs, &format!("bundled: {}", m.name)).await?;
    }
    Ok(())
}
