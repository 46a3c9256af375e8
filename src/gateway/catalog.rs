//! The schema cache: the functions of the exposed schemas as pg_catalog
//! describes them (names, input parameters and their types, how many have
//! defaults, set-returning or not, return type, volatility), the roles a
//! request may switch to (those the gateway's login is a member of, directly
//! or through other roles, that are neither superusers nor logins: as
//! PostgREST is deployed, the NOINHERIT authenticator is a member of exactly
//! the request roles), and whether the pre-request function exists.
//!
//! Reloaded on `NOTIFY pgrst, 'reload schema'` (PostgREST's channel and
//! payload; an empty payload too) and when a request misses. Concurrent misses
//! share one reload. Nothing here is built from request data: the catalog is
//! read with fixed statements, and the names it yields are the only ones the
//! call builder (rpc.rs) ever quotes into SQL.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use deadpool_postgres::Pool;

use super::config::{GatewayConfig, PreRequest, QualifiedName};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

/// What a function returns, as the response needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Returns {
    Void,
    /// A base type, domain, array, enum...: bare JSON.
    Scalar,
    /// A composite type, `record` with OUT parameters, or `RETURNS TABLE`: JSON objects.
    Composite,
    /// A domain named like a media type (`"text/html"`): served raw under that type.
    Media { media_type: String, bytea: bool },
}

#[derive(Debug, Clone)]
pub struct Param {
    /// Empty for an unnamed parameter.
    pub name: String,
    /// `format_type()` of the parameter type, qualified unless in pg_catalog.
    pub type_sql: String,
    pub variadic: bool,
    pub has_default: bool,
}

/// A result column of a function (OUT / TABLE parameters, or the attributes
/// of its composite return type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `format_type()`, qualified unless in pg_catalog.
    pub type_sql: String,
}

#[derive(Debug, Clone)]
pub struct Routine {
    pub schema: String,
    pub name: String,
    /// Input parameters (IN, INOUT, VARIADIC), in order.
    pub params: Vec<Param>,
    pub retset: bool,
    pub returns: Returns,
    pub volatility: Volatility,
    /// Result columns, in order (empty for scalars and bare `record`).
    pub columns: Vec<Column>,
    /// `format_type()` of the return type.
    pub return_type: String,
}

impl Routine {
    pub fn required(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.has_default)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleInfo {
    pub superuser: bool,
    /// A request may switch to it (a token's role claim, the anonymous role).
    pub request_role: bool,
}

/// One load of the catalog.
#[derive(Debug, Default)]
pub struct Catalog {
    /// (schema, name) → overloads.
    pub routines: HashMap<(String, String), Vec<Arc<Routine>>>,
    /// Every role by name.
    pub roles: HashMap<String, RoleInfo>,
    /// The pre-request function to call, if any.
    pub pre_request: Option<QualifiedName>,
    /// pg_catalog's type names: the only types a `::cast` in `select` may name.
    pub type_names: std::collections::HashSet<String>,
}

impl Catalog {
    pub fn lookup(&self, schema: &str, name: &str) -> &[Arc<Routine>] {
        self.routines.get(&(schema.to_string(), name.to_string())).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn names_in<'a>(&'a self, schema: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.routines.keys().filter(move |(s, _)| s == schema).map(|(_, n)| n.as_str())
    }
}

const ROUTINES_SQL: &str = "
select n.nspname::text, p.proname::text, p.pronargs::int4, p.pronargdefaults::int4, p.proretset,
       p.provolatile::text,
       coalesce(p.proargnames, '{}')::text[],
       coalesce(p.proargmodes::text[], '{}')::text[],
       array(select format_type(u.t, null) from unnest(p.proargtypes::oid[]) with ordinality u(t, i) order by u.i)::text[],
       t.typtype::text, t.typname::text,
       coalesce((select b.typname::text from pg_type b where b.oid = t.typbasetype), ''),
       array(select format_type(u.t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(t, i) order by u.i)::text[],
       array(select a.attname::text from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped order by a.attnum)::text[],
       array(select format_type(a.atttypid, a.atttypmod) from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped order by a.attnum)::text[],
       format_type(p.prorettype, null)
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
where n.nspname = any($1::text[]) and p.prokind = 'f'";

const ROLES_SQL: &str = "
with recursive m(oid) as (
    select a.roleid from pg_auth_members a join pg_roles s on s.oid = a.member where s.rolname = session_user
    union
    select a.roleid from pg_auth_members a join m on a.member = m.oid)
select r.rolname::text, r.rolsuper, (r.oid in (select oid from m)) and not r.rolsuper and not r.rolcanlogin
from pg_roles r";

const TYPES_SQL: &str = "select typname::text from pg_type where typnamespace = 'pg_catalog'::regnamespace and typtype in ('b', 'd', 'e', 'r', 'm') and typname !~ '^_' and typname !~ '^pg_'";

const PRE_REQUEST_SQL: &str = "
select exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname = $1 and p.proname = $2 and p.pronargs = 0)";

pub struct CatalogCache {
    pool: Pool,
    schemas: Vec<String>,
    pre_request: PreRequest,
    current: RwLock<Arc<Catalog>>,
    /// When the last reload started; held while reloading.
    reloading: tokio::sync::Mutex<Option<Instant>>,
}

impl CatalogCache {
    pub async fn load(pool: Pool, config: &GatewayConfig) -> Result<CatalogCache> {
        let cache = CatalogCache {
            pool,
            schemas: config.schemas.clone(),
            pre_request: config.pre_request.clone(),
            current: RwLock::new(Arc::new(Catalog::default())),
            reloading: tokio::sync::Mutex::new(None),
        };
        cache.reload_now().await?;
        Ok(cache)
    }

    pub fn get(&self) -> Arc<Catalog> {
        self.current.read().unwrap().clone()
    }

    /// Reloads unless a reload started after `seen_at` (then its result is as fresh).
    pub async fn refresh_after(&self, seen_at: Instant) -> Result<Arc<Catalog>> {
        let mut last = self.reloading.lock().await;
        if last.is_some_and(|t| t > seen_at) {
            return Ok(self.get());
        }
        *last = Some(Instant::now());
        let fresh = self.read().await?;
        *self.current.write().unwrap() = fresh.clone();
        Ok(fresh)
    }

    pub async fn reload_now(&self) -> Result<Arc<Catalog>> {
        self.refresh_after(Instant::now()).await
    }

    async fn read(&self) -> Result<Arc<Catalog>> {
        let mut client = self.pool.get().await.context("getting a connection for the schema cache")?;
        let tx = client.transaction().await?;
        // format_type() qualifies every type outside pg_catalog.
        tx.batch_execute("set local search_path = pg_catalog").await?;
        let rows = tx.query(ROUTINES_SQL, &[&self.schemas]).await.context("reading pg_proc")?;
        let mut routines: HashMap<(String, String), Vec<Arc<Routine>>> = HashMap::new();
        for row in rows {
            let r = routine_from_row(&row);
            routines.entry((r.schema.clone(), r.name.clone())).or_default().push(Arc::new(r));
        }
        let roles = tx
            .query(ROLES_SQL, &[])
            .await?
            .iter()
            .map(|r| (r.get::<_, String>(0), RoleInfo { superuser: r.get(1), request_role: r.get(2) }))
            .collect();
        let pre_request = match &self.pre_request {
            PreRequest::Off => None,
            PreRequest::Always(q) => Some(q.clone()),
            PreRequest::IfExists(q) => {
                let exists: bool = tx.query_one(PRE_REQUEST_SQL, &[&q.schema, &q.name]).await?.get(0);
                exists.then(|| q.clone())
            }
        };
        let type_names = tx.query(TYPES_SQL, &[]).await?.iter().map(|r| r.get::<_, String>(0)).collect();
        tx.commit().await?;
        tracing::debug!(functions = routines.len(), "schema cache loaded");
        Ok(Arc::new(Catalog { routines, roles, pre_request, type_names }))
    }

    /// LISTENs on `channel` and reloads on PostgREST's payloads, reconnecting
    /// (and reloading, since notifications may have been missed) when the
    /// connection drops. Runs until aborted.
    pub async fn listen(self: Arc<Self>, pg: tokio_postgres::Config, channel: String) {
        let mut backoff = Duration::from_millis(200);
        loop {
            match connect_listener(&pg).await {
                Ok((client, mut rx)) => {
                    let listen = format!("listen \"{}\"", channel.replace('"', "\"\""));
                    if let Err(e) = client.batch_execute(&listen).await {
                        tracing::warn!(error = %e, "gateway: LISTEN failed");
                    } else {
                        backoff = Duration::from_millis(200);
                        if let Err(e) = self.reload_now().await {
                            tracing::warn!(error = %format!("{e:#}"), "gateway: schema cache reload failed");
                        }
                        while let Some(n) = rx.recv().await {
                            if matches!(n.payload(), "" | "reload schema") {
                                match self.reload_now().await {
                                    Ok(_) => tracing::info!("gateway: schema cache reloaded"),
                                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "gateway: schema cache reload failed"),
                                }
                            }
                        }
                    }
                    drop(client);
                }
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "gateway: listener cannot connect"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// A connection (as the gateway's login) whose notifications arrive on the receiver.
pub(super) async fn connect_listener(
    pg: &tokio_postgres::Config,
) -> Result<(tokio_postgres::Client, tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::Notification>)> {
    use futures_util::StreamExt;
    let (client, mut conn) = pg.connect(tokio_postgres::NoTls).await.context("connecting to PostgreSQL")?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(msg) = messages.next().await {
            match msg {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    let _ = tx.send(n);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    Ok((client, rx))
}

fn routine_from_row(row: &tokio_postgres::Row) -> Routine {
    let nargs: i32 = row.get(2);
    let ndefaults: i32 = row.get(3);
    let names: Vec<String> = row.get(6);
    let modes: Vec<String> = row.get(7);
    let in_types: Vec<String> = row.get(8);
    let mut params = Vec::with_capacity(in_types.len());
    let all = if modes.is_empty() { nargs as usize } else { modes.len() };
    let mut k = 0;
    for i in 0..all {
        let mode = modes.get(i).map(String::as_str).unwrap_or("i");
        if !matches!(mode, "i" | "b" | "v") {
            continue;
        }
        let Some(type_sql) = in_types.get(k) else { break };
        params.push(Param {
            name: names.get(i).cloned().unwrap_or_default(),
            type_sql: type_sql.clone(),
            variadic: mode == "v",
            has_default: (k as i32) >= nargs - ndefaults,
        });
        k += 1;
    }
    let all_types: Vec<String> = row.get(12);
    let mut columns: Vec<Column> = Vec::new();
    for (i, mode) in modes.iter().enumerate() {
        if matches!(mode.as_str(), "o" | "b" | "t") {
            if let (Some(name), Some(t)) = (names.get(i), all_types.get(i)) {
                columns.push(Column { name: name.clone(), type_sql: t.clone() });
            }
        }
    }
    let typtype: String = row.get(9);
    if typtype == "c" {
        let an: Vec<String> = row.get(13);
        let at: Vec<String> = row.get(14);
        columns = an.into_iter().zip(at).map(|(name, type_sql)| Column { name, type_sql }).collect();
    } else if typtype != "p" {
        // One OUT parameter: the function returns that scalar.
        columns.clear();
    }
    let typname: String = row.get(10);
    let basetype: String = row.get(11);
    let returns = match (typtype.as_str(), typname.as_str()) {
        ("p", "void") => Returns::Void,
        ("c", _) | ("p", "record") => Returns::Composite,
        ("d", t) if is_media_type(t) => Returns::Media { media_type: t.to_ascii_lowercase(), bytea: basetype == "bytea" },
        _ => Returns::Scalar,
    };
    let volatility = match row.get::<_, String>(5).as_str() {
        "i" => Volatility::Immutable,
        "s" => Volatility::Stable,
        _ => Volatility::Volatile,
    };
    Routine { schema: row.get(0), name: row.get(1), params, retset: row.get(4), returns, volatility, columns, return_type: row.get(15) }
}

/// `type/subtype`, as RFC 6838 allows them in a domain name (or `*/*`).
fn is_media_type(s: &str) -> bool {
    let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+*".contains(c));
    matches!(s.split_once('/'), Some((a, b)) if ok(a) && ok(b))
}
