//! The gateway's settings, under PostgREST's names: `PGRST_*` environment
//! variables and PostgREST's config-file format (`key = "value"` lines), the
//! environment overriding the file as in PostgREST. Everything is resolved and
//! validated once into [`GatewayConfig`]; the rest of the gateway reads only that.
//!
//! Settings pg_shell adds (PostgREST has no equivalent): `PG_SHELL_HTML_DIR`,
//! `PG_SHELL_STATEMENT_TIMEOUT` (seconds), `PG_SHELL_BODY_LIMIT` (bytes) and
//! `PG_SHELL_TRUSTED_PROXIES` (addresses or CIDR ranges whose X-Forwarded-*
//! headers are believed).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;

/// The default address: loopback only (PostgREST listens on every interface;
/// pg_shell is opened to the network on purpose, with `--listen`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";

/// A function named `schema.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// The pre-request function and whether it was asked for explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreRequest {
    /// None configured.
    Off,
    /// pg_shell's default: called only when it exists in the database.
    IfExists(QualifiedName),
    /// Configured: always called (a missing function fails the request, as in PostgREST).
    Always(QualifiedName),
}

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// libpq connection string (PGRST_DB_URI; the CLI also takes DATABASE_URL / PG_CONN).
    pub db_uri: String,
    pub listen: SocketAddr,
    /// Exposed schemas (PGRST_DB_SCHEMAS); the first is the default profile.
    pub schemas: Vec<String>,
    /// Role of requests without a JWT (PGRST_DB_ANON_ROLE); None disables anonymous access.
    pub anon_role: Option<String>,
    pub pre_request: PreRequest,
    /// HMAC key for HS256/384/512 (PGRST_JWT_SECRET, PGRST_JWT_SECRET_IS_BASE64).
    pub jwt_secret: Option<Vec<u8>>,
    pub jwt_aud: Option<String>,
    /// Path of the role claim (PGRST_JWT_ROLE_CLAIM_KEY, default `.role`).
    pub role_claim_key: Vec<String>,
    /// Cap on rows of set-returning functions (PGRST_DB_MAX_ROWS).
    pub max_rows: Option<i64>,
    /// Schemas appended to search_path (PGRST_DB_EXTRA_SEARCH_PATH, default `public`).
    pub extra_search_path: Vec<String>,
    /// NOTIFY channel for schema reloads (PGRST_DB_CHANNEL, default `pgrst`).
    pub channel: String,
    pub pool_size: usize,
    /// Wait for a pooled connection before 504 PGRST003 (PGRST_DB_POOL_ACQUISITION_TIMEOUT).
    pub pool_timeout: Duration,
    /// statement_timeout of every request (PG_SHELL_STATEMENT_TIMEOUT).
    pub statement_timeout: Duration,
    /// Largest request body accepted, else 413 (PG_SHELL_BODY_LIMIT).
    pub body_limit: usize,
    /// Serve html/ from this directory instead of the copy built into the binary.
    pub html_dir: Option<PathBuf>,
    /// Bearer token that `GET /metrics` requires (PG_SHELL_METRICS_TOKEN);
    /// None: /metrics answers 404 (the metrics name users).
    pub metrics_token: Option<String>,
    /// db-tx-end: commit (default), commit-allow-override, rollback, rollback-allow-override.
    pub tx_end: String,
    /// server-cors-allowed-origins: origins allowed cross-origin, with credentials.
    /// Empty: no CORS headers at all (PostgREST's default allows every origin; see docs/postgrest.md).
    pub cors_allowed_origins: Vec<String>,
    /// openapi-mode: follow-privileges (default), ignore-privileges, disabled.
    pub openapi_mode: String,
    /// openapi-server-proxy-uri: the API's public URL in the OpenAPI document.
    pub openapi_server_proxy_uri: Option<String>,
    /// Peers whose X-Forwarded-For / -Proto / -Host are believed (PG_SHELL_TRUSTED_PROXIES).
    /// From anyone else those headers are replaced by what the connection says.
    pub trusted_proxies: Vec<Cidr>,
}

/// An address range: `10.0.0.0/8`, `::1`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().trim_start_matches('[').trim_end_matches(']').parse()
            .map_err(|_| anyhow!("not an IP address: {a:?}"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(|| anyhow!("bad prefix length in {s:?}"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl GatewayConfig {
    /// Every setting at its default, against `db_uri`.
    pub fn new(db_uri: impl Into<String>) -> GatewayConfig {
        GatewayConfig {
            db_uri: db_uri.into(),
            listen: DEFAULT_LISTEN.parse().unwrap(),
            schemas: vec!["api".into()],
            anon_role: Some("pgshell_anon".into()),
            pre_request: PreRequest::IfExists(QualifiedName { schema: "pgshell".into(), name: "pre_request".into() }),
            jwt_secret: None,
            jwt_aud: None,
            role_claim_key: vec!["role".into()],
            max_rows: None,
            extra_search_path: vec!["public".into()],
            channel: "pgrst".into(),
            pool_size: 10,
            pool_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(10),
            body_limit: 1 << 20,
            html_dir: None,
            metrics_token: None,
            tx_end: "commit".into(),
            cors_allowed_origins: Vec::new(),
            openapi_mode: "follow-privileges".into(),
            openapi_server_proxy_uri: None,
            trusted_proxies: Vec::new(),
        }
    }

    /// From the process environment only.
    pub fn from_env() -> Result<GatewayConfig> {
        GatewayConfig::load(None)
    }

    /// From a PostgREST config file (if given), overridden by the environment.
    pub fn load(config_file: Option<&Path>) -> Result<GatewayConfig> {
        let text = match config_file {
            Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
            None => None,
        };
        GatewayConfig::from_sources(text.as_deref(), &|k| std::env::var(k).ok())
            .with_context(|| match config_file {
                Some(p) => format!("gateway configuration (environment and {})", p.display()),
                None => "gateway configuration (environment)".to_string(),
            })
    }

    /// The resolution itself: `file` is the text of a config file, `env`
    /// looks up an environment variable.
    pub fn from_sources(file: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<GatewayConfig> {
        let file = match file {
            Some(t) => parse_config_file(t)?,
            None => HashMap::new(),
        };
        // PostgREST's name in the file, e.g. `db-schemas`; PGRST_DB_SCHEMAS in the environment.
        let get = |key: &str, aliases: &[&str]| -> Option<String> {
            std::iter::once(key).chain(aliases.iter().copied()).find_map(|k| {
                let env_name = format!("PGRST_{}", k.to_uppercase().replace('-', "_"));
                env(&env_name).or_else(|| file.get(k).cloned())
            })
        };
        let mut c = GatewayConfig::new(
            get("db-uri", &[])
                .or_else(|| env("DATABASE_URL"))
                .or_else(|| env("PG_CONN"))
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_default(),
        );

        if let Some(s) = get("db-schemas", &["db-schema"]) {
            c.schemas = split_list(&s);
            if c.schemas.is_empty() {
                bail!("PGRST_DB_SCHEMAS must name at least one schema");
            }
        }
        if let Some(s) = get("db-anon-role", &[]) {
            c.anon_role = Some(s.trim().to_string()).filter(|s| !s.is_empty());
        }
        if let Some(s) = get("db-pre-request", &["pre-request"]) {
            let s = s.trim();
            c.pre_request = if s.is_empty() {
                PreRequest::Off
            } else {
                PreRequest::Always(parse_qualified(s, &c.schemas[0])?)
            };
        }
        if let Some(s) = get("jwt-secret", &[]).filter(|s| !s.is_empty()) {
            let is_b64 = match get("jwt-secret-is-base64", &[]) {
                Some(v) => parse_bool(&v).context("PGRST_JWT_SECRET_IS_BASE64")?,
                None => false,
            };
            let key = if is_b64 {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s.trim()))
                    .map_err(|e| anyhow!("PGRST_JWT_SECRET is not valid base64: {e}"))?
            } else {
                s.into_bytes()
            };
            if key.len() < 32 {
                bail!("PGRST_JWT_SECRET must be at least 32 characters long");
            }
            c.jwt_secret = Some(key);
        }
        if let Some(s) = get("jwt-aud", &[]) {
            c.jwt_aud = Some(s).filter(|s| !s.is_empty());
        }
        if let Some(s) = get("jwt-role-claim-key", &["role-claim-key"]) {
            c.role_claim_key = parse_claim_path(&s)?;
        }
        if let Some(s) = get("db-max-rows", &["max-rows"]) {
            let n: i64 = s.trim().parse().map_err(|_| anyhow!("PGRST_DB_MAX_ROWS must be a number, got {s:?}"))?;
            if n < 1 {
                bail!("PGRST_DB_MAX_ROWS must be positive, got {n}");
            }
            c.max_rows = Some(n);
        }
        if let Some(s) = get("db-extra-search-path", &[]) {
            c.extra_search_path = split_list(&s);
        }
        if let Some(s) = get("db-channel", &[]) {
            if s.trim().is_empty() {
                bail!("PGRST_DB_CHANNEL must not be empty");
            }
            c.channel = s.trim().to_string();
        }
        if let Some(s) = get("db-pool", &[]) {
            c.pool_size = s.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| anyhow!("PGRST_DB_POOL must be a positive number, got {s:?}"))?;
        }
        if let Some(s) = get("db-pool-acquisition-timeout", &[]) {
            c.pool_timeout = Duration::from_secs_f64(positive_seconds(&s, "PGRST_DB_POOL_ACQUISITION_TIMEOUT")?);
        }
        if let Some(s) = get("db-tx-end", &[]) {
            let s = s.trim().to_string();
            if !["commit", "commit-allow-override", "rollback", "rollback-allow-override"].contains(&s.as_str()) {
                bail!("PGRST_DB_TX_END must be commit, commit-allow-override, rollback or rollback-allow-override, got {s:?}");
            }
            c.tx_end = s;
        }
        if let Some(s) = get("server-cors-allowed-origins", &[]) {
            c.cors_allowed_origins = split_list(&s).into_iter().map(|o| o.trim_end_matches('/').to_string()).collect();
        }
        if let Some(s) = get("openapi-mode", &[]) {
            let s = s.trim().to_string();
            if !["follow-privileges", "ignore-privileges", "disabled"].contains(&s.as_str()) {
                bail!("PGRST_OPENAPI_MODE must be follow-privileges, ignore-privileges or disabled, got {s:?}");
            }
            c.openapi_mode = s;
        }
        if let Some(s) = get("openapi-server-proxy-uri", &[]) {
            c.openapi_server_proxy_uri = Some(s.trim().to_string()).filter(|s| !s.is_empty());
        }
        if let Some(s) = get("db-prepared-statements", &[]) {
            // Statements are always prepared (cached per connection); false is accepted and documented.
            parse_bool(&s).context("PGRST_DB_PREPARED_STATEMENTS")?;
        }
        let host = get("server-host", &[]);
        let port = get("server-port", &[]);
        if host.is_some() || port.is_some() {
            let port: u16 = match &port {
                Some(p) => p.trim().parse().map_err(|_| anyhow!("PGRST_SERVER_PORT must be a port number, got {p:?}"))?,
                None => c.listen.port(),
            };
            let host = match host.as_deref().map(str::trim) {
                // PostgREST's host patterns: any IPv4 / any address.
                Some("!4") | Some("*4") => "0.0.0.0".to_string(),
                Some("*") | Some("!6") | Some("*6") => "::".to_string(),
                Some("localhost") => "127.0.0.1".to_string(),
                Some(h) => h.to_string(),
                None => c.listen.ip().to_string(),
            };
            c.listen = resolve_listen(&host, port)?;
        }
        if let Some(s) = env("PG_SHELL_STATEMENT_TIMEOUT").filter(|s| !s.trim().is_empty()) {
            c.statement_timeout = Duration::from_secs_f64(positive_seconds(&s, "PG_SHELL_STATEMENT_TIMEOUT")?);
        }
        if let Some(s) = env("PG_SHELL_BODY_LIMIT").filter(|s| !s.trim().is_empty()) {
            c.body_limit = s.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| anyhow!("PG_SHELL_BODY_LIMIT must be a positive number of bytes, got {s:?}"))?;
        }
        if let Some(s) = env("PG_SHELL_METRICS_TOKEN").filter(|s| !s.trim().is_empty()) {
            anyhow::ensure!(s.trim().len() >= 16, "PG_SHELL_METRICS_TOKEN must be at least 16 characters");
            c.metrics_token = Some(s.trim().to_string());
        }
        if let Some(s) = env("PG_SHELL_HTML_DIR").filter(|s| !s.trim().is_empty()) {
            c.html_dir = Some(PathBuf::from(s));
        }
        if let Some(s) = env("PG_SHELL_TRUSTED_PROXIES") {
            c.trusted_proxies = split_list(&s)
                .iter()
                .map(|x| Cidr::parse(x))
                .collect::<Result<_>>()
                .context("PG_SHELL_TRUSTED_PROXIES: a comma-separated list of addresses or CIDR ranges")?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks what a caller may have set by hand.
    pub fn validate(&self) -> Result<()> {
        if self.schemas.is_empty() || self.schemas.iter().any(|s| s.is_empty()) {
            bail!("the exposed schemas (PGRST_DB_SCHEMAS) must be non-empty names");
        }
        if self.role_claim_key.is_empty() {
            bail!("PGRST_JWT_ROLE_CLAIM_KEY must name a claim");
        }
        if let Some(k) = &self.jwt_secret {
            if k.len() < 32 {
                bail!("PGRST_JWT_SECRET must be at least 32 characters long");
            }
        }
        if self.statement_timeout.is_zero() {
            bail!("the statement timeout must be positive");
        }
        if self.pool_size == 0 || self.body_limit == 0 {
            bail!("the pool size and the body limit must be positive");
        }
        Ok(())
    }

    pub fn with_db(mut self, db_uri: impl Into<String>) -> GatewayConfig {
        self.db_uri = db_uri.into();
        self
    }

    pub fn with_listen(mut self, listen: SocketAddr) -> GatewayConfig {
        self.listen = listen;
        self
    }
}

/// Parses `host:port` (or `[v6]:port`), resolving a host name.
pub fn resolve_listen(host: &str, port: u16) -> Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .with_context(|| format!("resolving the listen address {host}"))?
        .next()
        .ok_or_else(|| anyhow!("the listen address {host} resolves to nothing"))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

fn parse_bool(s: &str) -> Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => bail!("expected true or false, got {other:?}"),
    }
}

fn positive_seconds(s: &str, name: &str) -> Result<f64> {
    let v: f64 = s.trim().parse().map_err(|_| anyhow!("{name} must be a number of seconds, got {s:?}"))?;
    if !(v.is_finite() && v > 0.0) {
        bail!("{name} must be a positive number of seconds, got {s:?}");
    }
    Ok(v)
}

fn parse_qualified(s: &str, default_schema: &str) -> Result<QualifiedName> {
    let parts: Vec<&str> = s.split('.').collect();
    let unquote = |p: &str| p.trim().trim_matches('"').to_string();
    match parts.as_slice() {
        [name] if !name.trim().is_empty() => Ok(QualifiedName { schema: default_schema.to_string(), name: unquote(name) }),
        [schema, name] if !schema.trim().is_empty() && !name.trim().is_empty() => {
            Ok(QualifiedName { schema: unquote(schema), name: unquote(name) })
        }
        _ => bail!("PGRST_DB_PRE_REQUEST must be a function name, optionally schema-qualified: got {s:?}"),
    }
}

/// PostgREST's role claim key is a JSPath; the common subset `.a.b` and `."a-b"` is supported.
fn parse_claim_path(s: &str) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').ok_or_else(|| anyhow!("PGRST_JWT_ROLE_CLAIM_KEY: expected '.' in {s:?}"))?;
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').ok_or_else(|| anyhow!("PGRST_JWT_ROLE_CLAIM_KEY: unterminated quote in {s:?}"))?;
            keys.push(r[..end].to_string());
            rest = &r[end + 1..];
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            let k = &rest[..end];
            if k.is_empty() {
                bail!("PGRST_JWT_ROLE_CLAIM_KEY: empty key in {s:?}");
            }
            keys.push(k.to_string());
            rest = &rest[end..];
        }
    }
    if keys.is_empty() {
        bail!("PGRST_JWT_ROLE_CLAIM_KEY must name a claim");
    }
    Ok(keys)
}

/// PostgREST's config file: `key = value` lines, `#` comments, values quoted
/// strings (with `\"` and `\\` escapes), numbers or booleans.
pub fn parse_config_file(text: &str) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| anyhow!("config line {}: expected key = value", i + 1))?;
        let key = key.trim().to_string();
        let value = value.trim();
        let value = if let Some(body) = value.strip_prefix('"') {
            let mut s = String::new();
            let mut chars = body.chars();
            let mut closed = false;
            while let Some(ch) = chars.next() {
                match ch {
                    '\\' => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(other) => s.push(other),
                        None => break,
                    },
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => s.push(c),
                }
            }
            let tail = chars.as_str().trim();
            if !closed || !(tail.is_empty() || tail.starts_with('#')) {
                bail!("config line {}: malformed quoted value", i + 1);
            }
            s
        } else {
            value.split('#').next().unwrap_or("").trim().to_string()
        };
        out.insert(key, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(file: Option<&str>, env: &[(&str, &str)]) -> Result<GatewayConfig> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        GatewayConfig::from_sources(file, &|k| env.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(None, &[]).unwrap();
        assert_eq!(c.schemas, ["api"]);
        assert_eq!(c.anon_role.as_deref(), Some("pgshell_anon"));
        assert_eq!(c.listen, "127.0.0.1:3000".parse().unwrap());
        assert!(matches!(c.pre_request, PreRequest::IfExists(ref q) if q.to_string() == "pgshell.pre_request"));
        assert_eq!(c.statement_timeout, Duration::from_secs(10));
        assert_eq!(c.body_limit, 1 << 20);
        assert!(c.jwt_secret.is_none());
    }

    #[test]
    fn postgrest_v13_settings() {
        let file = "server-cors-allowed-origins = \"http://localhost:8080/, https://app.example\"\ndb-tx-end = \"rollback-allow-override\"\n";
        let c = cfg(Some(file), &[("PGRST_OPENAPI_MODE", "disabled"), ("PGRST_DB_PREPARED_STATEMENTS", "false")]).unwrap();
        assert_eq!(c.cors_allowed_origins, ["http://localhost:8080", "https://app.example"]);
        assert_eq!((c.tx_end.as_str(), c.openapi_mode.as_str()), ("rollback-allow-override", "disabled"));
        assert!(cfg(None, &[("PGRST_DB_TX_END", "sometimes")]).is_err());
        assert!(cfg(None, &[("PGRST_OPENAPI_MODE", "all")]).is_err());
        assert!(cfg(None, &[("PGRST_DB_PREPARED_STATEMENTS", "maybe")]).is_err());
    }

    #[test]
    fn file_then_env() {
        let file = r#"
            # a PostgREST config
            db-uri = "postgres://a@b/c"
            db-schemas = "api, other"   # two
            db-anon-role = "web_anon"
            jwt-secret = "0123456789abcdef0123456789abcdef"
            server-port = 3001
            db-max-rows = 50
        "#;
        let c = cfg(Some(file), &[("PGRST_SERVER_PORT", "4000"), ("PGRST_DB_PRE_REQUEST", "auth.check")]).unwrap();
        assert_eq!(c.db_uri, "postgres://a@b/c");
        assert_eq!(c.schemas, ["api", "other"]);
        assert_eq!(c.anon_role.as_deref(), Some("web_anon"));
        assert_eq!(c.listen.port(), 4000);
        assert_eq!(c.max_rows, Some(50));
        assert_eq!(c.pre_request, PreRequest::Always(QualifiedName { schema: "auth".into(), name: "check".into() }));
        assert_eq!(c.jwt_secret.as_deref(), Some(&b"0123456789abcdef0123456789abcdef"[..]));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(cfg(None, &[("PGRST_JWT_SECRET", "short")]).is_err());
        assert!(cfg(None, &[("PGRST_DB_MAX_ROWS", "-1")]).is_err());
        assert!(cfg(None, &[("PGRST_SERVER_PORT", "http")]).is_err());
        assert!(cfg(None, &[("PG_SHELL_STATEMENT_TIMEOUT", "0")]).is_err());
        assert!(cfg(Some("db-uri \"x\""), &[]).is_err());
        assert!(cfg(Some("db-uri = \"x"), &[]).is_err());
    }

    #[test]
    fn trusted_proxies() {
        let c = cfg(None, &[("PG_SHELL_TRUSTED_PROXIES", "10.0.0.0/8, ::1, 192.168.1.7")]).unwrap();
        let has = |ip: &str| c.trusted_proxies.iter().any(|n| n.contains(ip.parse().unwrap()));
        assert!(has("10.200.3.4") && has("::1") && has("192.168.1.7") && has("::ffff:10.0.0.1"));
        assert!(!has("11.0.0.1") && !has("192.168.1.8") && !has("::2"));
        assert!(cfg(None, &[("PG_SHELL_TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
        assert!(cfg(None, &[("PG_SHELL_TRUSTED_PROXIES", "example.com")]).is_err());
        assert!(cfg(None, &[]).unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn anon_role_can_be_disabled_and_claim_path_parsed() {
        let c = cfg(None, &[("PGRST_DB_ANON_ROLE", ""), ("PGRST_JWT_ROLE_CLAIM_KEY", r#".app."pg-role""#)]).unwrap();
        assert_eq!(c.anon_role, None);
        assert_eq!(c.role_claim_key, ["app", "pg-role"]);
    }
}
