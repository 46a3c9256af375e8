//! `pg_shell serve`: a PostgREST-compatible HTTP gateway in front of the SQL
//! API, so that a new user needs nothing but PostgreSQL. It serves
//! `/rpc/<function>` for the functions of the exposed schemas exactly as
//! PostgREST does (see rpc.rs), the web UI from html/ at `/`
//! (static_files.rs) and `/healthz`. It holds no state of its own: any number
//! of gateways, or real PostgREST, can serve the same database.
//!
//! Map: config.rs (settings under PostgREST's names), catalog.rs (the schema
//! cache), rpc.rs (resolution, negotiation, the call), jwt.rs (bearer tokens),
//! live.rs (live/command: a command's output as Server-Sent Events),
//! error.rs (PostgREST's error bodies and SQLSTATE→HTTP table).
//!
//! Which database role it runs as: the login of PGRST_DB_URI, as PostgREST
//! does, which should be the NOINHERIT `pgshell_authenticator` (a member of
//! exactly the request roles). A superuser login is never used for requests:
//! the gateway then logs in as `pgshell_authenticator` instead (same host,
//! database and credentials source), so a token's role claim can only pick a
//! role the authenticator is a member of.
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
mod live;
mod openapi;
mod ops;
mod query;
mod rpc;
mod static_files;

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;

pub use config::{resolve_listen, Cidr, GatewayConfig, PreRequest, QualifiedName, DEFAULT_LISTEN};
pub use error::ApiError;

/// Shared by every request.
pub(crate) struct App {
    config: GatewayConfig,
    pool: deadpool_postgres::Pool,
    catalog: Arc<catalog::CatalogCache>,
    /// search_path per exposed schema: the schema, then PGRST_DB_EXTRA_SEARCH_PATH.
    search_paths: HashMap<String, String>,
    /// Wake-ups for live/command streams (live.rs).
    wakes: Arc<live::Wakes>,
    /// Turns true when the gateway shuts down: long-lived streams end.
    closing: tokio::sync::watch::Sender<bool>,
}

/// The role the gateway logs in as when it is given a superuser's connection.
pub const AUTHENTICATOR: &str = "pgshell_authenticator";

/// The Content-Security-Policy of every HTML response: scripts, styles and
/// everything else from the gateway itself, no inline code, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the CSP and its companions to an HTML response.
pub(crate) fn secure_html(headers: &mut axum::http::HeaderMap) {
    use axum::http::HeaderValue;
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if is_html {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// The gateway's login: (name, superuser, inherits).
async fn login_role(pg: &tokio_postgres::Config) -> Result<(String, bool, bool)> {
    let (client, conn) = pg.connect(tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    let row = client
        .query_one("select rolname::text, rolsuper, rolinherit from pg_roles where rolname = session_user", &[])
        .await?;
    drop(client);
    let _ = task.await;
    Ok((row.get(0), row.get(1), row.get(2)))
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
    grace: Duration,
    wakes_task: tokio::task::JoinHandle<()>,
}

/// Binds `config.listen` and serves until `shutdown` completes, then drains
/// in-flight requests for up to 30 s.
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
        let (mut login, superuser, inherit) = login_role(&pg).await.context("connecting to PostgreSQL")?;
        if superuser {
            tracing::info!(superuser = %login, authenticator = AUTHENTICATOR, "the gateway does not run as a superuser: logging in as the authenticator");
            pg.user(AUTHENTICATOR);
            let (l, s, i) = login_role(&pg).await.with_context(|| {
                format!(
                    "the gateway never runs as the superuser {login:?}; logging in as {AUTHENTICATOR} failed \
                     (give it a password and set PGRST_DB_URI to its connection string, see docs/postgrest.md)"
                )
            })?;
            if s {
                bail!("{AUTHENTICATOR} is a superuser: the gateway refuses to run as one");
            }
            login = l;
            if i {
                tracing::warn!(login = %login, "the gateway's login inherits its roles' privileges: make it NOINHERIT (alter role ... noinherit)");
            }
        } else if inherit {
            tracing::warn!(login = %login, "the gateway's login inherits its roles' privileges: make it NOINHERIT (alter role ... noinherit)");
        }
        let manager = deadpool_postgres::Manager::from_config(
            pg.clone(),
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
        if let Some(anon) = &config.anon_role {
            if !catalog.get().roles.get(anon).is_some_and(|r| r.request_role) {
                bail!("the gateway's login {login} cannot switch to the anonymous role {anon}: grant {anon} to {login}");
            }
        }
        tracing::info!(login = %login, "gateway database login");
        let wakes = live::Wakes::new();
        let wakes_task = tokio::spawn(wakes.clone().listen(pg.clone()));
        let listener_task = tokio::spawn(catalog.clone().listen(pg, config.channel.clone()));
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
        Ok(Gateway {
            listener,
            app: Arc::new(App { config, pool, catalog, search_paths, wakes, closing: tokio::sync::watch::channel(false).0 }),
            listener_task,
            wakes_task,
            grace: Duration::from_secs(30),
        })
    }

    /// After shutdown, how long requests still in flight may take before
    /// their connections are closed (default 30 s). Live output streams end
    /// at shutdown.
    pub fn with_grace(mut self, grace: Duration) -> Gateway {
        self.grace = grace;
        self
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
        let Gateway { listener, app, listener_task, wakes_task, grace } = self;
        let router = Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics))
            .route("/rpc/{*name}", any(rpc))
            .route("/live/command", get(live::command))
            .fallback(static_files)
            .layer(axum::middleware::from_fn_with_state(app.clone(), cors))
            .with_state(app.clone());
        tracing::info!(addr = %listener.local_addr()?, schemas = ?app.config.schemas, "gateway listening");
        // Stop accepting at `shutdown` (live streams end), then let in-flight
        // requests finish for `grace`; connections still open after that
        // are closed.
        let (signalled, drain) = tokio::sync::oneshot::channel::<()>();
        let serving = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown({
                let app = app.clone();
                async move {
                    shutdown.await;
                    let _ = app.closing.send(true);
                    let _ = signalled.send(());
                }
            })
            .into_future();
        let result = tokio::select! {
            r = serving => r,
            _ = async {
                if drain.await.is_err() {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "grace period over; closing the connections still open");
                Ok(())
            }
        };
        listener_task.abort();
        wakes_task.abort();
        app.pool.close();
        result.context("serving HTTP")
    }
}

async fn rpc(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    rpc::handle(app, peer, req).await
}

async fn static_files(State(app): State<Arc<App>>, req: Request) -> Response {
    if req.uri().path() == "/" && matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD) && openapi::wanted(req.headers()) {
        let head = req.method() == axum::http::Method::HEAD;
        let mut resp = match openapi::serve(app, req.headers().clone()).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        if head {
            rpc::strip_body_for_head(&mut resp);
        }
        return resp;
    }
    let mut resp = static_files::serve(app.config.html_dir.as_deref(), req.method(), req.uri().path()).await;
    secure_html(resp.headers_mut());
    resp
}

/// The request's Origin when server-cors-allowed-origins lists it (compared
/// without case and a trailing slash): the origin the gateway vouches for, in
/// `request.cors_origin`, and the only one CORS headers are sent to.
pub(crate) fn vouched_origin(config: &GatewayConfig, headers: &axum::http::HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?.trim();
    let o = origin.trim_end_matches('/');
    config.cors_allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o)).then(|| origin.to_string())
}

const CORS_METHODS: &str = "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD";
const CORS_HEADERS: &str = "Authorization, Content-Type, Accept, Accept-Language, Content-Language";
const CORS_EXPOSE: &str = "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, \
    Transfer-Encoding, Range-Unit, Content-Profile, Preference-Applied, Proxy-Status";

/// CORS as PostgREST's middleware does it, for the origins of
/// server-cors-allowed-origins only: a preflight (OPTIONS with
/// Access-Control-Request-Method) is answered here; every other response to
/// such an origin carries Access-Control-Allow-Origin and -Credentials.
async fn cors(State(app): State<Arc<App>>, req: Request, next: axum::middleware::Next) -> Response {
    use axum::http::HeaderValue;
    let allowed = vouched_origin(&app.config, req.headers());
    let preflight = req.method() == axum::http::Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let add = |h: &mut axum::http::HeaderMap, origin: &str| {
        if let Ok(v) = HeaderValue::from_str(origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    };
    if let (true, Some(origin)) = (preflight, &allowed) {
        let mut allow_headers = CORS_HEADERS.to_string();
        if let Some(r) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).and_then(|v| v.to_str().ok()) {
            allow_headers = format!("{r}, {allow_headers}");
        }
        let mut resp = StatusCode::OK.into_response();
        let h = resp.headers_mut();
        add(h, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(CORS_METHODS));
        if let Ok(v) = HeaderValue::from_str(&allow_headers) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        return resp;
    }
    let mut resp = next.run(req).await;
    if let Some(origin) = &allowed {
        let h = resp.headers_mut();
        add(h, origin);
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(CORS_EXPOSE));
    }
    resp
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
