//! `pg_shell serve`: a PostgREST-compatible HTTP gateway in front of the SQL
//! API, so that a new user needs nothing but PostgreSQL. It serves
//! `/rpc/<function>` for the functions of the exposed schemas exactly as
//! PostgREST does (see rpc.rs), the web UI from html/ at `/`
//! (static_files.rs) and `/healthz`. It holds no state of its own: any number
//! of gateways, or real PostgREST, can serve the same database.
//!
//! Map: config.rs (settings under PostgREST's names), catalog.rs (the schema
//! cache), rpc.rs (resolution, negotiation, the call), jwt.rs (bearer tokens),
//! error.rs (PostgREST's error bodies and SQLSTATE→HTTP table).
//!
//! Why this stack:
//! - axum 0.8 on hyper 1 and tokio: the tokio project's own router, thin over
//!   hyper, with graceful shutdown built in; the process already runs on
//!   tokio, so nothing else is pulled in. (actix-web brings its own runtime;
//!   bare hyper would mean writing routing and body limits by hand.)
//! - deadpool-postgres: a small, widely used pool for the tokio-postgres
//!   driver pg_shell already uses, with per-connection prepared-statement
//!   caches, so a call is one pipelined round trip.
//! - JWTs are checked with hmac + sha2 (RustCrypto) directly: HS256/384/512
//!   is all PostgREST's shared-secret mode needs, and a full JOSE crate would
//!   add a crypto backend for algorithms we refuse anyway.
//! - rust-embed puts html/ into the binary (and tolerates its absence).

mod catalog;
mod config;
mod error;
pub mod jwt;
mod rpc;
mod static_files;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;

pub use config::{resolve_listen, GatewayConfig, PreRequest, QualifiedName, DEFAULT_LISTEN};
pub use error::ApiError;

/// Shared by every request.
pub(crate) struct App {
    config: GatewayConfig,
    pool: deadpool_postgres::Pool,
    catalog: Arc<catalog::CatalogCache>,
    /// search_path per exposed schema: the schema, then PGRST_DB_EXTRA_SEARCH_PATH.
    search_paths: HashMap<String, String>,
}

impl App {
    fn search_path(&self, schema: &str) -> String {
        self.search_paths.get(schema).cloned().unwrap_or_default()
    }
}

/// A gateway bound to its address, its pool and schema cache ready.
pub struct Gateway {
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    listener_task: tokio::task::JoinHandle<()>,
}

/// Binds `config.listen` and serves until `shutdown` completes, then drains
/// in-flight requests.
pub async fn serve(config: GatewayConfig, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    Gateway::bind(config).await?.run(shutdown).await
}

impl Gateway {
    pub async fn bind(config: GatewayConfig) -> Result<Gateway> {
        config.validate()?;
        if config.db_uri.trim().is_empty() {
            bail!("the gateway needs a database: set PGRST_DB_URI (or DATABASE_URL / PG_CONN)");
        }
        let mut pg = crate::db::parse_config(&config.db_uri)?;
        if pg.get_application_name().is_none() {
            pg.application_name("pg_shell gateway");
        }
        pg.connect_timeout(Duration::from_secs(10));
        let manager = deadpool_postgres::Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(config.pool_size)
            .wait_timeout(Some(config.pool_timeout))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .context("building the connection pool")?;
        let catalog = Arc::new(catalog::CatalogCache::load(pool.clone(), &config).await.context("loading the schema cache")?);
        let listener_task = tokio::spawn(catalog.clone().listen(config.db_uri.clone(), config.channel.clone()));
        let search_paths = config
            .schemas
            .iter()
            .map(|s| {
                let path: Vec<String> =
                    std::iter::once(s).chain(config.extra_search_path.iter()).map(|p| rpc::quote_ident(p)).collect();
                (s.clone(), path.join(", "))
            })
            .collect();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        Ok(Gateway { listener, app: Arc::new(App { config, pool, catalog, search_paths }), listener_task })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// `http://host:port/`, with a wildcard address shown as loopback.
    pub fn url(&self) -> String {
        let mut a = self.local_addr();
        if a.ip().is_unspecified() {
            a.set_ip(if a.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
        }
        format!("http://{a}/")
    }

    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let Gateway { listener, app, listener_task } = self;
        let router = Router::new()
            .route("/healthz", get(healthz))
            .route("/rpc/{*name}", any(rpc))
            .fallback(static_files)
            .with_state(app.clone());
        tracing::info!(addr = %listener.local_addr()?, schemas = ?app.config.schemas, "gateway listening");
        let result = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
        listener_task.abort();
        app.pool.close();
        result.context("serving HTTP")
    }
}

async fn rpc(State(app): State<Arc<App>>, req: Request) -> Response {
    rpc::handle(app, req).await
}

async fn static_files(State(app): State<Arc<App>>, req: Request) -> Response {
    static_files::serve(app.config.html_dir.as_deref(), req.method(), req.uri().path()).await
}

/// 200 when the database answers a query.
async fn healthz(State(app): State<Arc<App>>) -> Response {
    let ok = match tokio::time::timeout(Duration::from_secs(5), app.pool.get()).await {
        Ok(Ok(c)) => c.simple_query("select 1").await.is_ok(),
        _ => false,
    };
    let (status, body) = if ok { (StatusCode::OK, "ok\n") } else { (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n") };
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}
