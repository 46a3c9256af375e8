//! `/rpc/<function>` as PostgREST serves it: the request (method, profile
//! headers, bearer token, query string or body) is resolved against the
//! schema cache to one function, content-negotiated, then called in one
//! transaction after the per-request settings and the pre-request function;
//! `response.headers` / `response.status` are read back and applied.
//!
//! Request data never becomes SQL text. The statement is assembled only from
//! names and `format_type()` strings read from pg_catalog (quoted here), and
//! every value travels as a bound parameter: `$n::text::<type>` for query
//! string and form values, one `json` parameter unpacked by `json_to_record`
//! for JSON bodies (so JSON arrays and objects reach array and composite
//! parameters as PostgREST passes them).
//!
//! The order inside the transaction is PostgREST's: BEGIN, the settings (the
//! role switch among them), then the pre-request function and the call,
//! prepared after the switch, as the request's role (the authenticator itself
//! may not even see the API schema); then the response settings and COMMIT.
//! On a connection that has prepared them before, it is one round trip.
//!
//! `request.headers` carries the client's address and scheme the gateway
//! vouches for: `x-forwarded-for` / `x-forwarded-proto` (and
//! `x-forwarded-host`) are those a trusted proxy sent
//! (PG_SHELL_TRUSTED_PROXIES), else the connection's own peer address and
//! `http`, whatever the client claimed.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tokio_postgres::types::ToSql;

use super::catalog::{Catalog, Returns, Routine, Volatility};
use super::error::ApiError;
use super::query::{self, Bind, ReadPlan, RESERVED};
use super::{jwt, App};

const SETTINGS_SQL: &str = "select set_config('statement_timeout', $1, true), set_config('search_path', $2, true), \
    set_config('role', $3, true), set_config('request.jwt.claims', $4, true), set_config('request.method', $5, true), \
    set_config('request.path', $6, true), set_config('request.headers', $7, true), set_config('request.cookies', $8, true), \
    set_config('response.headers', '', true), set_config('response.status', '', true), \
    set_config('request.cors_origin', $9, true)";

const RESPONSE_GUCS_SQL: &str =
    "select nullif(current_setting('response.headers', true), ''), nullif(current_setting('response.status', true), '')";

/// An identifier from the catalog, quoted.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub async fn handle(app: Arc<App>, peer: SocketAddr, req: axum::extract::Request) -> Response {
    let head = req.method() == Method::HEAD;
    let mut resp = match rpc(app, peer, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    super::secure_html(resp.headers_mut());
    if head {
        strip_body_for_head(&mut resp);
    }
    resp
}

/// HEAD: no body, but the length the GET would have had (never a made-up 0).
pub(crate) fn strip_body_for_head(resp: &mut Response) {
    use axum::body::HttpBody as _;
    let len = resp.body().size_hint().exact();
    *resp.body_mut() = Body::empty();
    match len {
        Some(n) if n > 0 => {
            resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        _ => {
            resp.headers_mut().remove(header::CONTENT_LENGTH);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BodyKind {
    None,
    Json,
    Form,
    Text,
    Bytes,
}

/// The arguments as they came.
enum Args {
    /// Query string or form values, repeats kept (array and VARIADIC
    /// parameters take them all, others the last): bound as text and cast.
    Text(Vec<(String, String)>),
    /// A JSON body: bound once as json.
    Json(String),
    Text1(String),
    Bytes1(Vec<u8>),
}

pub(crate) struct Auth {
    pub role: String,
    claims: Map<String, Value>,
    pub authenticated: bool,
}

/// `Prefer` as PostgREST v13 reads it.
#[derive(Debug, Default)]
struct Prefs {
    count_exact: bool,
    strict: bool,
    minimal: bool,
    tx: Option<&'static str>,
    invalid: Vec<String>,
}

fn parse_prefer(headers: &HeaderMap) -> Prefs {
    let mut p = Prefs::default();
    let mut seen = Vec::new();
    for item in headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (k, v) = item.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((item, ""));
        // The first of each preference wins, as in PostgREST.
        if seen.contains(&k.to_string()) {
            continue;
        }
        seen.push(k.to_string());
        match (k, v) {
            ("handling", "strict") => p.strict = true,
            ("handling", "lenient") => {}
            ("count", "exact") => p.count_exact = true,
            // Valid in v13, not applied here (docs/postgrest.md).
            ("count", "planned" | "estimated") | ("timezone", _) | ("missing", "default") | ("max-affected", _) => {}
            ("resolution", "merge-duplicates" | "ignore-duplicates") => {}
            ("return", "minimal") => p.minimal = true,
            ("return", "representation" | "headers-only") => {}
            ("tx", "commit") => p.tx = Some("commit"),
            ("tx", "rollback") => p.tx = Some("rollback"),
            _ => p.invalid.push(item.to_string()),
        }
    }
    p
}

/// db-tx-end: how the transaction ends, and whether `Prefer: tx` may change it.
fn tx_end(setting: &str, prefs: &Prefs) -> (&'static str, bool) {
    let (default, overridable) = match setting {
        "rollback" => ("rollback", false),
        "commit-allow-override" => ("commit", true),
        "rollback-allow-override" => ("rollback", true),
        _ => ("commit", false),
    };
    match prefs.tx {
        Some(t) if overridable => (t, true),
        _ => (default, false),
    }
}

/// The rows asked for: the intersection of `offset`/`limit`, the Range
/// header (GET and HEAD only, as in PostgREST) and db-max-rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowRange {
    offset: i64,
    limit: Option<i64>,
}

fn row_range(headers: &HeaderMap, read: bool, plan: &ReadPlan, max_rows: Option<i64>) -> Result<RowRange, ApiError> {
    let mut lower = plan.offset.unwrap_or(0);
    let mut upper: Option<i64> = plan.limit.map(|l| lower + l - 1);
    if read {
        if let Some(h) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            let spec = h.trim().strip_prefix("items=").unwrap_or(h.trim());
            let bad = || {
                ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", "Requested range not satisfiable")
                    .details("The Range header must be items lower-upper with lower <= upper")
            };
            let (a, b) = spec.split_once('-').ok_or_else(bad)?;
            let a: i64 = a.trim().parse().map_err(|_| bad())?;
            let b: Option<i64> = if b.trim().is_empty() { None } else { Some(b.trim().parse().map_err(|_| bad())?) };
            if b.is_some_and(|b| b < a) || a < 0 {
                return Err(bad());
            }
            lower = lower.max(a);
            upper = match (upper, b) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
        }
    }
    if let Some(m) = max_rows {
        upper = Some(upper.map_or(lower + m - 1, |u| u.min(lower + m - 1)));
    }
    Ok(RowRange { offset: lower, limit: upper.map(|u| (u - lower + 1).max(0)) })
}

async fn rpc(app: Arc<App>, peer: SocketAddr, req: axum::extract::Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let origin = client_origin(&app.config.trusted_proxies, peer.ip(), &parts.headers);
    let post = match parts.method {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST => true,
        ref m => return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "PGRST101", format!("Cannot use the {m} method on RPC"))),
    };
    let config = &app.config;
    let raw_name = parts.uri.path().strip_prefix("/rpc/").unwrap_or_default();
    let fname = percent_encoding::percent_decode_str(raw_name).decode_utf8_lossy().into_owned();

    // Profile: Accept-Profile for reads, Content-Profile for POST.
    let profile_header = if post { "content-profile" } else { "accept-profile" };
    let profile_sent = parts.headers.contains_key(profile_header);
    let schema = profile_schema(config, &parts.headers, profile_header)?;

    if parts.method == Method::OPTIONS {
        // PostgREST: 200 with the methods the function allows (CORS headers are added in mod.rs).
        let mut catalog = app.catalog.get();
        if catalog.lookup(&schema, &fname).is_empty() {
            catalog = app.catalog.refresh_after(Instant::now()).await.map_err(|e| cache_error(&e))?;
        }
        let found = catalog.lookup(&schema, &fname);
        if found.is_empty() {
            return Err(no_rpc(&catalog, &schema, &fname, &BTreeSet::new(), BodyKind::None, false));
        }
        let allow = if found.iter().all(|r| r.volatility == Volatility::Volatile) { "OPTIONS,POST" } else { "OPTIONS,GET,HEAD,POST" };
        return Ok((StatusCode::OK, [(header::ALLOW, allow)]).into_response());
    }

    let prefs = parse_prefer(&parts.headers);
    if prefs.strict && !prefs.invalid.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "PGRST122", "Invalid preferences given with handling=strict")
            .details(format!("Invalid preferences: {}", prefs.invalid.join(", "))));
    }

    let mut catalog = app.catalog.get();
    let auth = authenticate(&app, &parts.headers, &mut catalog).await?;

    // Arguments, and the query string's grammar (on POST all of it; on GET
    // the reserved keys and the values that read as filters).
    let query_pairs: Vec<(String, String)> = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (kind, args, keys, grammar) = if post {
        let kind = body_kind(&parts.headers)?;
        let limit = config.body_limit;
        if parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
            if e.to_string().contains("length limit") {
                too_large(limit)
            } else {
                ApiError::invalid_body(format!("Could not read the request body: {e}"))
            }
        })?;
        let (kind, args, keys) = match kind {
            BodyKind::Json | BodyKind::None => {
                let text = if bytes.iter().all(u8::is_ascii_whitespace) { "{}".to_string() } else {
                    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::invalid_body("Empty or invalid json"))?
                };
                let v: Value = serde_json::from_str(&text).map_err(|_| ApiError::invalid_body("Empty or invalid json"))?;
                let keys: BTreeSet<String> = match &v {
                    Value::Object(m) => m.keys().cloned().collect(),
                    _ => BTreeSet::new(),
                };
                (BodyKind::Json, Args::Json(text), keys)
            }
            BodyKind::Form => {
                let pairs: Vec<(String, String)> = form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                let keys = pairs.iter().map(|(k, _)| k.clone()).collect();
                (kind, Args::Text(pairs), keys)
            }
            BodyKind::Text => {
                let t = String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::invalid_body("The text/plain body is not valid UTF-8"))?;
                (kind, Args::Text1(t), BTreeSet::new())
            }
            BodyKind::Bytes => (kind, Args::Bytes1(bytes.to_vec()), BTreeSet::new()),
        };
        (kind, args, keys, query_pairs)
    } else {
        let (grammar, pairs): (Vec<_>, Vec<_>) =
            query_pairs.into_iter().partition(|(k, v)| RESERVED.contains(&k.as_str()) || query::is_filter_value(v));
        let keys = pairs.iter().map(|(k, _)| k.clone()).collect();
        (BodyKind::None, Args::Text(pairs), keys, grammar)
    };
    let plan = ReadPlan::parse(&grammar)?;

    // Resolve the function; on a miss, reload the schema cache once.
    let seen = Instant::now();
    let (routine, call) = match find_proc(catalog.lookup(&schema, &fname), &keys, kind, post) {
        Ok(found) => found,
        Err(Miss::NotFound) => {
            catalog = app.catalog.refresh_after(seen).await.map_err(|e| cache_error(&e))?;
            match find_proc(catalog.lookup(&schema, &fname), &keys, kind, post) {
                Ok(found) => found,
                Err(Miss::NotFound) => return Err(no_rpc(&catalog, &schema, &fname, &keys, kind, post)),
                Err(Miss::Ambiguous(procs)) => return Err(ambiguous(&procs)),
            }
        }
        Err(Miss::Ambiguous(procs)) => return Err(ambiguous(&procs)),
    };

    let output = negotiate(&parts.headers, &routine)?;
    let range = row_range(&parts.headers, !post, &plan, config.max_rows)?;
    let count = prefs.count_exact;
    let (sql, binds, names) = build_call(&routine, call, &args, &output, &plan, range, count, &catalog.type_names)?;
    let read_only = !post || routine.volatility != Volatility::Volatile;
    let (end, tx_applied) = tx_end(&config.tx_end, &prefs);

    let settings = vec![
        format!("{}ms", config.statement_timeout.as_millis()),
        app.search_path(&schema),
        auth.role.clone(),
        Value::Object(auth.claims).to_string(),
        parts.method.as_str().to_string(),
        parts.uri.path().to_string(),
        headers_json(&parts.headers, &origin),
        cookies_json(&parts.headers),
        super::vouched_origin(config, &parts.headers).unwrap_or_default(),
    ];
    let pre_request = catalog.pre_request.as_ref().map(|q| format!("select {}.{}()", quote_ident(&q.schema), quote_ident(&q.name)));
    let exec = Exec { sql, binds, settings, pre_request, read_only, authenticated: auth.authenticated, bytea: output.bytea(), end };
    let pool = app.pool.clone();
    // On a task of its own, so a client hanging up never leaves a pooled
    // connection in the middle of a transaction.
    let outcome = tokio::spawn(exec.run(pool))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "PGRSTX00", format!("request task failed: {e}")))??;
    let mut applied = Vec::new();
    if prefs.strict {
        applied.push("handling=strict".to_string());
    }
    if count {
        applied.push("count=exact".to_string());
    }
    if tx_applied {
        applied.push(format!("tx={end}"));
    }
    if prefs.minimal {
        applied.push("return=minimal".to_string());
    }
    let shown = Shown { schema: &schema, profile: profile_sent || config.schemas.len() > 1, range, names, applied, minimal: prefs.minimal, count };
    respond(&routine, &output, outcome, shown)
}

/// What the response echoes of the request.
struct Shown<'a> {
    schema: &'a str,
    profile: bool,
    range: RowRange,
    /// Column names, for the CSV header.
    names: Vec<String>,
    applied: Vec<String>,
    minimal: bool,
    count: bool,
}
fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "PGRST413", format!("Request body larger than {limit} bytes"))
}

fn cache_error(e: &anyhow::Error) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "PGRST002", "Could not query the database for the schema cache. Retrying.")
        .details(format!("{e:#}"))
}

fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else { return Ok(BodyKind::None) };
    let ct = ct.to_str().unwrap_or_default();
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    Ok(match essence.as_str() {
        "" | "application/json" => BodyKind::Json,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "text/plain" => BodyKind::Text,
        "application/octet-stream" => BodyKind::Bytes,
        _ => return Err(ApiError::invalid_body(format!("Content-Type not acceptable: {essence}"))),
    })
}

pub(crate) async fn authenticate(app: &App, headers: &HeaderMap, catalog: &mut Arc<Catalog>) -> Result<Auth, ApiError> {
    let config = &app.config;
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let v = v.trim();
        if v.eq_ignore_ascii_case("bearer") {
            return Some(String::new());
        }
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
    });
    let anon = || {
        config.anon_role.clone().ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "PGRST302", "Anonymous access is disabled").header(header::WWW_AUTHENTICATE, "Bearer")
        })
    };
    let (mut claims, role) = match token {
        None => (Map::new(), anon()?),
        Some(token) => {
            let Some(secret) = &config.jwt_secret else { return Err(jwt::secret_missing()) };
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            let claims = jwt::verify(&token, secret, config.jwt_aud.as_deref(), now)?;
            let mut v = Some(&Value::Object(claims.clone()));
            for k in &config.role_claim_key {
                v = v.and_then(|x| x.get(k));
            }
            let role = match v {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => anon()?,
                Some(other) => other.to_string(),
            };
            (claims, role)
        }
    };
    // Only the request roles: those the gateway's login is a member of, never
    // a superuser or a login (catalog.rs).
    let mut known = catalog.roles.get(&role).copied();
    if !known.is_some_and(|r| r.request_role) {
        *catalog = app.catalog.refresh_after(Instant::now()).await.map_err(|e| cache_error(&e))?;
        known = catalog.roles.get(&role).copied();
    }
    match known {
        None => {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "22023", format!("role \"{role}\" does not exist"))
                .header(header::WWW_AUTHENTICATE, "Bearer"))
        }
        Some(r) if !r.request_role => {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "42501", format!("permission denied to set role \"{role}\""))
                .hint("a token may only choose a role the gateway's authenticator is a member of (never a superuser or a login)"))
        }
        Some(_) => {}
    }
    let authenticated = Some(&role) != config.anon_role.as_ref();
    claims.insert("role".into(), Value::String(role.clone()));
    Ok(Auth { role, claims, authenticated })
}

/// How the chosen function is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    /// Named arguments from the keys.
    Named,
    /// The whole body as the single parameter.
    WholeBody,
}

enum Miss {
    NotFound,
    Ambiguous(Vec<Arc<Routine>>),
}

/// PostgREST's findProc: overloads are told apart by their parameter names.
fn find_proc(
    candidates: &[Arc<Routine>],
    keys: &BTreeSet<String>,
    kind: BodyKind,
    post: bool,
) -> Result<(Arc<Routine>, CallKind), Miss> {
    let is_json_type = |t: &str| t == "json" || t == "jsonb";
    let matches = |r: &Routine| -> bool {
        if r.params.is_empty() {
            return keys.is_empty() && !(post && matches!(kind, BodyKind::Text | BodyKind::Bytes));
        }
        if r.params.iter().any(|p| p.name.is_empty()) {
            return false;
        }
        let required: BTreeSet<String> = r.required().map(|p| p.name.clone()).collect();
        let optional: BTreeSet<String> = r.params.iter().filter(|p| p.has_default).map(|p| p.name.clone()).collect();
        let rest: BTreeSet<String> = keys.difference(&optional).cloned().collect();
        rest == required
    };
    let single_unnamed = |r: &Routine| -> bool {
        post && r.params.len() == 1 && r.params[0].name.is_empty() && {
            let t = r.params[0].type_sql.as_str();
            match kind {
                BodyKind::Json | BodyKind::None => is_json_type(t),
                BodyKind::Text => t == "text",
                BodyKind::Bytes => t == "bytea",
                BodyKind::Form => false,
            }
        }
    };
    let (mut named, mut fallback) = (Vec::new(), Vec::new());
    for r in candidates {
        if matches(r) {
            named.push(r.clone());
        } else if single_unnamed(r) {
            fallback.push(r.clone());
        }
    }
    match (named.len(), fallback.len()) {
        (1, _) => Ok((named.pop().unwrap(), CallKind::Named)),
        (0, 1) => Ok((fallback.pop().unwrap(), CallKind::WholeBody)),
        (0, 0) => Err(Miss::NotFound),
        (0, _) => Err(Miss::Ambiguous(fallback)),
        _ => Err(Miss::Ambiguous(named)),
    }
}

/// PGRST202, with PostgREST's message, details and hint.
fn no_rpc(catalog: &Catalog, schema: &str, name: &str, keys: &BTreeSet<String>, kind: BodyKind, post: bool) -> ApiError {
    let func = format!("{schema}.{name}");
    let list = keys.iter().cloned().collect::<Vec<_>>().join(", ");
    let only_single = post && matches!(kind, BodyKind::Text | BodyKind::Bytes);
    let with_params = |with: &str| if keys.is_empty() { " without parameters".to_string() } else { with.to_string() };
    let message = format!(
        "Could not find the function {func}{} in the schema cache",
        if only_single { String::new() } else { with_params(&format!("({list})")) }
    );
    let det_params = with_params(&format!(" with parameter{} {list}", if keys.len() > 1 { "s" } else { "" }));
    let details = format!(
        "Searched for the function {func}{}, but no matches were found in the schema cache.",
        match (post, kind) {
            (true, BodyKind::Text) => " with a single unnamed text parameter".to_string(),
            (true, BodyKind::Bytes) => " with a single unnamed bytea parameter".to_string(),
            (true, BodyKind::Json | BodyKind::None) => format!("{det_params} or with a single unnamed json/jsonb parameter"),
            _ => det_params,
        }
    );
    let mut err = ApiError::new(StatusCode::NOT_FOUND, "PGRST202", message).details(details);
    if !only_single {
        let overloads = catalog.lookup(schema, name);
        let hint = if overloads.is_empty() {
            best_match(name, catalog.names_in(schema), 0.75).map(|n| format!("Perhaps you meant to call the function {schema}.{n}"))
        } else {
            let as_text = |mut names: Vec<String>| {
                names.sort();
                format!("({})", names.join(", "))
            };
            let wanted = as_text(keys.iter().cloned().collect());
            let lists: Vec<String> = overloads.iter().map(|r| as_text(r.params.iter().map(|p| p.name.clone()).collect())).collect();
            best_match(&wanted, lists.iter().map(String::as_str), 0.33).map(|l| format!("Perhaps you meant to call the function {schema}.{name}{l}"))
        };
        if let Some(h) = hint {
            err = err.hint(h);
        }
    }
    err
}

fn ambiguous(procs: &[Arc<Routine>]) -> ApiError {
    let list: Vec<String> = procs
        .iter()
        .map(|r| {
            let ps: Vec<String> = r.params.iter().map(|p| format!("{} => {}", p.name, p.type_sql)).collect();
            format!("{}.{}({})", r.schema, r.name, ps.join(", "))
        })
        .collect();
    ApiError::new(StatusCode::MULTIPLE_CHOICES, "PGRST203", format!("Could not choose the best candidate function between: {}", list.join(", ")))
        .hint("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
}

/// The closest candidate by Levenshtein similarity (PostgREST uses a fuzzy set).
fn best_match<'a>(word: &str, candidates: impl Iterator<Item = &'a str>, min: f64) -> Option<String> {
    let word = word.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let lc = c.to_lowercase();
        let len = word.chars().count().max(lc.chars().count()).max(1);
        let score = 1.0 - levenshtein(&word, &lc) as f64 / len as f64;
        if score >= min && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The chosen representation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Output {
    Json,
    /// application/vnd.pgrst.object+json: one object, not an array.
    Singular,
    /// A media-type domain's value, as is.
    Raw { media_type: String, bytea: bool },
    /// text/csv: a header line, then one line per row.
    Csv,
}

impl Output {
    fn bytea(&self) -> bool {
        matches!(self, Output::Raw { bytea: true, .. })
    }
}

/// The Accept header's media ranges, most preferred first (q=0 dropped).
pub(crate) fn accepted(headers: &HeaderMap) -> Vec<String> {
    let mut items: Vec<(f32, usize, String)> = Vec::new();
    for v in headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()) {
        for item in v.split(',') {
            let mut parts = item.split(';');
            let mt = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            if mt.is_empty() {
                continue;
            }
            let mut q = 1.0f32;
            let mut params = Vec::new();
            for p in parts {
                let p = p.trim();
                match p.split_once('=') {
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => q = v.trim().parse().unwrap_or(1.0),
                    _ if !p.is_empty() => params.push(p.to_ascii_lowercase()),
                    _ => {}
                }
            }
            if q <= 0.0 {
                continue;
            }
            // Keep the parameters PostgREST reads (nulls=stripped is not supported).
            let _ = params;
            let n = items.len();
            items.push((q, n, mt));
        }
    }
    items.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
    let out: Vec<String> = items.into_iter().map(|(_, _, m)| m).collect();
    if out.is_empty() {
        vec!["*/*".into()]
    } else {
        out
    }
}

/// PostgREST's negotiation for a function: the first acceptable type that has
/// a handler; a media-type domain is its own handler.
fn negotiate(headers: &HeaderMap, r: &Routine) -> Result<Output, ApiError> {
    let accepts = accepted(headers);
    let media = match &r.returns {
        Returns::Media { media_type, bytea } => Some((media_type.as_str(), *bytea)),
        _ => None,
    };
    for mt in &accepts {
        // PostgREST's lookupHandler: a function's "*/*" (any) handler answers
        // every media type but its own vendored ones (vnd.pgrst.*), which
        // cannot be overridden.
        if let Some(("*/*", bytea)) = media {
            if !mt.starts_with("application/vnd.pgrst.") {
                return Ok(Output::Raw { media_type: "*/*".into(), bytea });
            }
        }
        match mt.as_str() {
            "*/*" => {
                return Ok(match media {
                    Some(("*/*", bytea)) => Output::Raw { media_type: "*/*".into(), bytea },
                    _ => Output::Json,
                })
            }
            "application/json" | "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" => return Ok(Output::Json),
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => return Ok(Output::Singular),
            "text/csv" if !matches!(media, Some(("text/csv", _))) => return Ok(Output::Csv),
            other => {
                if let Some((m, bytea)) = media {
                    if m == other {
                        return Ok(Output::Raw { media_type: m.to_string(), bytea });
                    }
                }
            }
        }
    }
    Err(ApiError::new(StatusCode::NOT_ACCEPTABLE, "PGRST107", format!("None of these media types are available: {}", accepts.join(", "))))
}

/// The statement and its parameters. Only catalog names and types appear in
/// the text; the result is wrapped in the read grammar (query.rs). Returns the
/// statement, its binds and the output column names (the CSV header).
#[allow(clippy::too_many_arguments)]
fn build_call(
    r: &Routine,
    call: CallKind,
    args: &Args,
    output: &Output,
    plan: &ReadPlan,
    range: RowRange,
    count: bool,
    types: &std::collections::HashSet<String>,
) -> Result<(String, Vec<Bind>, Vec<String>), ApiError> {
    let mut binds = Vec::new();
    let mut ctes = Vec::new();
    let mut arg_sql = Vec::new();
    match (call, args) {
        (CallKind::WholeBody, Args::Json(body)) | (CallKind::WholeBody, Args::Text1(body)) => {
            binds.push(Bind::Text(body.clone()));
            arg_sql.push(format!("$1::text::{}", r.params[0].type_sql));
        }
        (CallKind::WholeBody, Args::Bytes1(b)) => {
            binds.push(Bind::Bytes(b.clone()));
            arg_sql.push("$1::bytea".to_string());
        }
        (CallKind::Named, Args::Text(pairs)) => {
            for p in &r.params {
                let values: Vec<&String> = pairs.iter().filter(|(k, _)| *k == p.name).map(|(_, v)| v).collect();
                let Some(last) = values.last() else { continue };
                let is_array = p.type_sql.ends_with("[]");
                // Repeated values build the array (always for VARIADIC), as PostgREST does.
                if is_array && (p.variadic || values.len() > 1) {
                    binds.push(Bind::TextArray(values.iter().map(|v| v.to_string()).collect()));
                    arg_sql.push(format!(
                        "{}{} := ${}::text[]::{}",
                        if p.variadic { "variadic " } else { "" },
                        quote_ident(&p.name),
                        binds.len(),
                        p.type_sql
                    ));
                } else {
                    binds.push(Bind::Text(last.to_string()));
                    arg_sql.push(format!(
                        "{}{} := ${}::text::{}",
                        if p.variadic { "variadic " } else { "" },
                        quote_ident(&p.name),
                        binds.len(),
                        p.type_sql
                    ));
                }
            }
        }
        (CallKind::Named, Args::Json(body)) => {
            // An array of objects: the first one, as PostgREST does.
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            let obj = match &v {
                Value::Object(m) => m.clone(),
                Value::Array(a) => a.first().and_then(Value::as_object).cloned().unwrap_or_default(),
                _ => Map::new(),
            };
            let used: Vec<_> = r.params.iter().filter(|p| obj.contains_key(&p.name)).collect();
            if !used.is_empty() {
                binds.push(Bind::Text(Value::Object(obj.clone()).to_string()));
                let cols: Vec<String> = used.iter().map(|p| format!("{} {}", quote_ident(&p.name), p.type_sql)).collect();
                ctes.push(format!("pgrst_args as (select * from json_to_record($1::text::json) as _({}))", cols.join(", ")));
                for p in used {
                    arg_sql.push(format!(
                        "{}{} := (select {} from pgrst_args)",
                        if p.variadic { "variadic " } else { "" },
                        quote_ident(&p.name),
                        quote_ident(&p.name)
                    ));
                }
            }
        }
        // Named calls with a text or bytes body never resolve (find_proc).
        _ => {}
    }
    let callee = format!("{}.{}({})", quote_ident(&r.schema), quote_ident(&r.name), arg_sql.join(", "));
    if r.returns == Returns::Void {
        let with = if ctes.is_empty() { String::new() } else { format!("with {} ", ctes.join(", ")) };
        return Ok((format!("{with}select {callee}, 1::int8, 1::int8"), binds, Vec::new()));
    }
    let columns = query::columns_of(r);
    let scalar = r.columns.is_empty() && r.returns != Returns::Composite;
    let alias = if scalar { format!("({})", quote_ident(&r.name)) } else { String::new() };
    let relation = r.name.clone();
    let mut b = query::Builder { columns: &columns, types, binds: &mut binds, relation: &relation };
    let selected = b.select(plan)?;
    let conds = b.conditions(plan)?;
    let order = b.order(plan)?;
    let mut page = order;
    if let Some(l) = range.limit {
        page.push_str(&format!(" limit {}::int8", b.bind_int(l)));
    }
    if range.offset > 0 {
        page.push_str(&format!(" offset {}::int8", b.bind_int(range.offset)));
    }
    let (sel, names) = match selected {
        Some((sql, names)) => (sql, names),
        None => ("\"pgrst_call\".*".to_string(), columns.iter().map(|c| c.name.clone()).collect()),
    };
    ctes.push(format!("pgrst_source as (select \"pgrst_call\".* from {callee} \"pgrst_call\"{alias} where {conds})"));
    // The value of a scalar function stays bare JSON unless `select` shaped it.
    let bare = scalar && plan.default_select();
    let item = if bare { format!("_r.{}", quote_ident(&r.name)) } else { "_r".to_string() };
    let body = match output {
        Output::Raw { bytea, .. } => {
            let col = format!("_r.{}", quote_ident(&columns.first().map(|c| c.name.clone()).unwrap_or_default()));
            if *bytea {
                format!("coalesce(string_agg({col}::bytea, ''::bytea), ''::bytea)")
            } else {
                format!("coalesce(string_agg({col}::text, ''), '')")
            }
        }
        Output::Csv => "coalesce(string_agg(substr(_r::text, 2, length(_r::text) - 2), E'\\n'), '')".to_string(),
        _ if r.retset => format!("coalesce(json_agg({item}), '[]')::text"),
        _ => format!("coalesce((json_agg({item}) -> 0)::text, 'null')"),
    };
    let total = if count { "(select count(*) from pgrst_source)::int8" } else { "null::int8" };
    let sql = format!(
        "with {} select {body}, count(*)::int8, {total} from (select {sel} from pgrst_source \"pgrst_call\"{page}) _r",
        ctes.join(", ")
    );
    Ok((sql, binds, names))
}

/// What one call needs on its task.
struct Exec {
    sql: String,
    binds: Vec<Bind>,
    settings: Vec<String>,
    pre_request: Option<String>,
    read_only: bool,
    authenticated: bool,
    bytea: bool,
    /// `commit` or `rollback` (db-tx-end, Prefer: tx).
    end: &'static str,
}

struct Outcome {
    rows: Vec<tokio_postgres::Row>,
    response_headers: Option<String>,
    response_status: Option<String>,
    bytea: bool,
}

/// Returns a connection to the pool only when its transaction is known to be over.
struct ConnGuard {
    conn: Option<deadpool_postgres::Object>,
    clean: bool,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if !self.clean {
            if let Some(c) = self.conn.take() {
                drop(deadpool_postgres::Object::take(c));
            }
        }
    }
}

pub fn pool_error(e: deadpool_postgres::PoolError) -> ApiError {
    match e {
        deadpool_postgres::PoolError::Timeout(_) => {
            ApiError::new(StatusCode::GATEWAY_TIMEOUT, "PGRST003", "Timed out acquiring connection from connection pool.")
        }
        deadpool_postgres::PoolError::Backend(e) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "PGRST000", "Database connection error. Retrying the connection.")
                .details(e.to_string())
        }
        other => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "PGRST000", "Database connection error. Retrying the connection.")
            .details(other.to_string()),
    }
}

impl Exec {
    /// BEGIN and the settings (the role switch), then the pre-request
    /// function and the call, prepared inside the transaction as the request's
    /// role, then the response settings and COMMIT. Pipelined: one round trip
    /// when the statements are already prepared on the connection (a prepare
    /// needs one more). A failure anywhere aborts the transaction, and the
    /// COMMIT then rolls back; a failed prepare is followed by a ROLLBACK.
    async fn run(self, pool: deadpool_postgres::Pool) -> Result<Outcome, ApiError> {
        let conn = pool.get().await.map_err(pool_error)?;
        let mut guard = ConnGuard { conn: Some(conn), clean: false };
        let client = guard.conn.as_ref().unwrap();
        let db = |e: tokio_postgres::Error| ApiError::from_db(&e, self.authenticated);
        // Built-in functions only: fine to prepare as the login, outside a transaction.
        let settings_stmt = client.prepare_cached(SETTINGS_SQL).await.map_err(db)?;
        let gucs_stmt = client.prepare_cached(RESPONSE_GUCS_SQL).await.map_err(db)?;
        let begin = if self.read_only {
            "begin isolation level read committed read only"
        } else {
            "begin isolation level read committed read write"
        };
        let settings: Vec<&(dyn ToSql + Sync)> = self.settings.iter().map(|s| s as &(dyn ToSql + Sync)).collect();
        let binds: Vec<&(dyn ToSql + Sync)> = self.binds.iter().map(Bind::as_sql).collect();
        // join! polls its branches in order the first time (`biased`), and each
        // query is sent on its first poll: BEGIN and the settings go out first,
        // then (a cache hit is immediate) the rest in order.
        let (r_begin, r_settings, rest) = tokio::join!(
            biased;
            client.batch_execute(begin),
            client.query(&settings_stmt, &settings),
            async {
                let pre_stmt = match &self.pre_request {
                    Some(sql) => Some(client.prepare_cached(sql).await?),
                    None => None,
                };
                let call_stmt = client.prepare_cached(&self.sql).await?;
                Ok::<_, tokio_postgres::Error>(tokio::join!(
                    biased;
                    async {
                        match &pre_stmt {
                            Some(s) => client.query(s, &[]).await.map(|_| ()),
                            None => Ok(()),
                        }
                    },
                    client.query(&call_stmt, &binds),
                    client.query_one(&gucs_stmt, &[]),
                    client.batch_execute(self.end),
                ))
            },
        );
        let (r_pre, r_call, r_gucs, r_commit) = match rest {
            Ok(r) => r,
            Err(prepare_error) => {
                // No COMMIT was sent: end the transaction here.
                let rolled_back = client.batch_execute("rollback").await;
                guard.clean = !prepare_error.is_closed() && rolled_back.is_ok()
                    && [r_begin.as_ref().err(), r_settings.as_ref().err()].into_iter().flatten().all(|e| e.as_db_error().is_some());
                r_begin.map_err(db)?;
                r_settings.map_err(db)?;
                return Err(db(prepare_error));
            }
        };
        let closed = [
            r_begin.as_ref().err(),
            r_settings.as_ref().err(),
            r_pre.as_ref().err(),
            r_call.as_ref().err(),
            r_gucs.as_ref().err(),
            r_commit.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .any(|e| e.as_db_error().is_none());
        guard.clean = !closed && r_commit.is_ok();
        r_begin.map_err(db)?;
        r_settings.map_err(db)?;
        r_pre.map_err(db)?;
        let rows = r_call.map_err(db)?;
        let gucs = r_gucs.map_err(db)?;
        r_commit.map_err(db)?;
        Ok(Outcome { rows, response_headers: gucs.get(0), response_status: gucs.get(1), bytea: self.bytea })
    }
}

fn respond(r: &Routine, output: &Output, outcome: Outcome, shown: Shown) -> Result<Response, ApiError> {
    let mut status = if r.returns == Returns::Void || shown.minimal { StatusCode::NO_CONTENT } else { StatusCode::OK };
    let mut headers = HeaderMap::new();
    let json_ct = HeaderValue::from_static("application/json; charset=utf-8");
    let row = outcome.rows.first();
    let nrows: i64 = if r.retset { row.map(|row| row.get(1)).unwrap_or(0) } else { 1 };
    let total: Option<i64> = if shown.count { Some(if r.retset { row.and_then(|row| row.get(2)).unwrap_or(0) } else { 1 }) } else { None };
    let lower = if r.retset { shown.range.offset } else { 0 };
    let total_text = total.map_or("*".to_string(), |t| t.to_string());
    if let Some(t) = total {
        if lower > t {
            return Err(ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "PGRST103", "Requested range not satisfiable")
                .details(format!("An offset of {lower} was requested, but there are only {t} rows."))
                .header(header::CONTENT_RANGE, &format!("*/{t}")));
        }
        if r.retset && nrows < t && status == StatusCode::OK {
            status = StatusCode::PARTIAL_CONTENT;
        }
    }
    let range = if nrows == 0 { format!("*/{total_text}") } else { format!("{lower}-{}/{total_text}", lower + nrows - 1) };
    headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).unwrap());
    let body: Vec<u8> = match (&r.returns, output) {
        (Returns::Void, _) => Vec::new(),
        (_, Output::Raw { media_type, .. }) => {
            // Exactly the domain's media type, as PostgREST sends it.
            let ct = if media_type == "*/*" { "application/octet-stream".to_string() } else { media_type.clone() };
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&ct).unwrap_or(json_ct.clone()));
            if outcome.bytea {
                row.and_then(|row| row.get::<_, Option<Vec<u8>>>(0)).unwrap_or_default()
            } else {
                row.and_then(|row| row.get::<_, Option<String>>(0)).unwrap_or_default().into_bytes()
            }
        }
        (_, Output::Csv) => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            let rows = row.and_then(|row| row.get::<_, Option<String>>(0)).unwrap_or_default();
            let mut text = shown.names.join(",");
            if !rows.is_empty() {
                text.push('\n');
                text.push_str(&rows);
            }
            text.into_bytes()
        }
        _ => {
            let text = row.and_then(|row| row.get::<_, Option<String>>(0)).unwrap_or_else(|| "null".into());
            if *output == Output::Singular {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.pgrst.object+json; charset=utf-8"));
                if r.retset {
                    let mut items: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
                    if items.len() != 1 {
                        return Err(ApiError::new(StatusCode::NOT_ACCEPTABLE, "PGRST116", "Cannot coerce the result to a single JSON object")
                            .details(format!("The result contains {} rows", items.len())));
                    }
                    items.pop().unwrap().to_string().into_bytes()
                } else {
                    text.into_bytes()
                }
            } else {
                headers.insert(header::CONTENT_TYPE, json_ct.clone());
                text.into_bytes()
            }
        }
    };
    let body = if shown.minimal { Vec::new() } else { body };
    if shown.profile {
        if let Ok(v) = HeaderValue::from_str(shown.schema) {
            headers.insert(HeaderName::from_static("content-profile"), v);
        }
    }
    if !shown.applied.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&shown.applied.join(", ")) {
            headers.insert(HeaderName::from_static("preference-applied"), v);
        }
    }
    if let Some(s) = &outcome.response_status {
        status = s
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|n| (100..=599).contains(n))
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "PGRST112", "response.status guc must be a valid status code"))?;
    }
    if let Some(h) = &outcome.response_headers {
        let bad = || {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "PGRST111",
                "response.headers guc must be a JSON array composed of objects with a single key and a string value",
            )
        };
        let list: Vec<Map<String, Value>> = serde_json::from_str(h).map_err(|_| bad())?;
        let ours: Vec<HeaderName> = headers.keys().cloned().collect();
        let mut replaced: Vec<HeaderName> = Vec::new();
        for item in list {
            let (Some((k, Value::String(v))), 1) = (item.iter().next(), item.len()) else { return Err(bad()) };
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| bad())?;
            let value = HeaderValue::from_str(v).map_err(|_| bad())?;
            // A header the gateway set is replaced; the function's own repeat (Set-Cookie) append.
            if ours.contains(&name) && !replaced.contains(&name) {
                headers.remove(&name);
                replaced.push(name.clone());
            }
            headers.append(name, value);
        }
    }
    let mut resp = (status, Body::from(body)).into_response();
    let out = resp.headers_mut();
    for (k, v) in headers.iter() {
        out.append(k, v.clone());
    }
    Ok(resp)
}

/// Where a request came from, as far as the gateway can vouch for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientOrigin {
    pub address: IpAddr,
    pub proto: String,
    /// X-Forwarded-Host, from a trusted proxy only.
    pub host: Option<String>,
}

/// The peer, or what trusted proxies in front of it say: X-Forwarded-For is
/// walked from the right past trusted proxies to the first address that is
/// not one (or that does not parse: the hop before it is used).
pub(crate) fn client_origin(trusted: &[super::config::Cidr], peer: IpAddr, headers: &HeaderMap) -> ClientOrigin {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return ClientOrigin { address: peer, proto: "http".into(), host: None };
    }
    let joined = |name: &str| {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",")
    };
    let mut address = peer;
    let xff = joined("x-forwarded-for");
    for hop in xff.split(',').rev().map(str::trim).filter(|h| !h.is_empty()) {
        match hop.trim_start_matches('[').split(']').next().unwrap_or(hop).parse::<IpAddr>() {
            Ok(ip) => {
                address = ip.to_canonical();
                if !is_trusted(address) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let proto = joined("x-forwarded-proto");
    let proto = match proto.split(',').next().map(|p| p.trim().to_ascii_lowercase()) {
        Some(p) if p == "https" || p == "http" => p,
        _ => "http".into(),
    };
    let host = headers
        .get("x-forwarded-host")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
        .filter(|h| !h.is_empty() && h.len() <= 255);
    ClientOrigin { address, proto, host }
}

/// Headers a client could use to claim another origin; replaced by `ClientOrigin`.
const FORWARDING_HEADERS: &[&str] = &["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded", "x-real-ip"];

/// request.headers: every header, names lower-cased (repeats joined with ", "),
/// with the forwarding headers replaced by what the gateway vouches for.
fn headers_json(headers: &HeaderMap, origin: &ClientOrigin) -> String {
    let mut m = Map::new();
    for (k, v) in headers {
        if FORWARDING_HEADERS.contains(&k.as_str()) {
            continue;
        }
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        match m.get_mut(k.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(if k == header::COOKIE { "; " } else { ", " });
                prev.push_str(&v);
            }
            _ => {
                m.insert(k.as_str().to_string(), Value::String(v));
            }
        }
    }
    m.insert("x-forwarded-for".into(), Value::String(origin.address.to_string()));
    m.insert("x-forwarded-proto".into(), Value::String(origin.proto.clone()));
    if let Some(h) = &origin.host {
        m.insert("x-forwarded-host".into(), Value::String(h.clone()));
    }
    Value::Object(m).to_string()
}

/// request.cookies: the Cookie header as an object.
fn cookies_json(headers: &HeaderMap) -> String {
    let mut m = Map::new();
    for v in headers.get_all(header::COOKIE) {
        for pair in String::from_utf8_lossy(v.as_bytes()).split(';') {
            if let Some((k, v)) = pair.split_once('=') {
                let k = k.trim();
                if !k.is_empty() {
                    m.insert(k.to_string(), Value::String(v.trim().to_string()));
                }
            }
        }
    }
    Value::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::catalog::Param;

    fn routine(params: &[(&str, &str, bool)]) -> Arc<Routine> {
        Arc::new(Routine {
            schema: "api".into(),
            name: "f".into(),
            params: params
                .iter()
                .map(|(n, t, d)| Param { name: n.to_string(), type_sql: t.to_string(), variadic: false, has_default: *d })
                .collect(),
            retset: false,
            returns: Returns::Scalar,
            volatility: Volatility::Volatile,
            columns: Vec::new(),
            return_type: "integer".into(),
        })
    }

    fn keys(k: &[&str]) -> BTreeSet<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn overloads_resolve_by_names() {
        let a = routine(&[("a", "integer", false)]);
        let ab = routine(&[("a", "integer", false), ("b", "text", false)]);
        let opt = routine(&[("x", "integer", false), ("y", "integer", true)]);
        let all = [a.clone(), ab.clone(), opt.clone()];
        let pick = |k: &[&str]| find_proc(&all, &keys(k), BodyKind::Json, true).ok().map(|(r, _)| r.params.len());
        assert_eq!(pick(&["a"]), Some(1));
        assert_eq!(pick(&["a", "b"]), Some(2));
        assert_eq!(pick(&["x"]), Some(2));
        assert_eq!(pick(&["x", "y"]), Some(2));
        assert_eq!(pick(&["y"]), None);
        assert_eq!(pick(&["a", "zzz"]), None);
    }

    #[test]
    fn statement_text_holds_no_request_data() {
        let r = routine(&[("a", "integer", false), ("b", "text", true)]);
        let none = ReadPlan::default();
        let all = RowRange { offset: 0, limit: None };
        let types = Default::default();
        let args = Args::Text(vec![("a".into(), "1); drop table x; --".into())]);
        let (sql, binds, _) = build_call(&r, CallKind::Named, &args, &Output::Json, &none, all, false, &types).unwrap();
        assert_eq!(
            sql,
            "with pgrst_source as (select \"pgrst_call\".* from \"api\".\"f\"(\"a\" := $1::text::integer) \"pgrst_call\"(\"f\") where true) \
             select coalesce((json_agg(_r.\"f\") -> 0)::text, 'null'), count(*)::int8, null::int8 from (select \"pgrst_call\".* from pgrst_source \"pgrst_call\") _r"
        );
        assert_eq!(binds, [Bind::Text("1); drop table x; --".into())]);
        let body = Args::Json(r#"{"a": 1, "b": "x'"}"#.into());
        let (sql, binds, _) = build_call(&r, CallKind::Named, &body, &Output::Json, &none, all, false, &types).unwrap();
        assert!(sql.starts_with(
            "with pgrst_args as (select * from json_to_record($1::text::json) as _(\"a\" integer, \"b\" text)), \
             pgrst_source as (select \"pgrst_call\".* from \"api\".\"f\"(\"a\" := (select \"a\" from pgrst_args), \"b\" := (select \"b\" from pgrst_args))"
        ), "{sql}");
        assert_eq!(binds.len(), 1);
        // Repeated values for an array parameter: one text[] bind.
        let arr = routine(&[("xs", "integer[]", false)]);
        let args = Args::Text(vec![("xs".into(), "1".into()), ("xs".into(), "2".into())]);
        let (sql, binds, _) = build_call(&arr, CallKind::Named, &args, &Output::Json, &none, all, false, &types).unwrap();
        assert!(sql.contains("\"xs\" := $1::text[]::integer[]"), "{sql}");
        assert_eq!(binds, [Bind::TextArray(vec!["1".into(), "2".into()])]);
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies() {
        use crate::gateway::config::Cidr;
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.5, 10.0.0.2"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h.insert("x-forwarded-host", HeaderValue::from_static("shell.example"));
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        // Untrusted peer: its own address, http, no forwarded host.
        let o = client_origin(&[], peer, &h);
        assert_eq!(o, ClientOrigin { address: peer, proto: "http".into(), host: None });
        let json: Value = serde_json::from_str(&headers_json(&h, &o)).unwrap();
        assert_eq!((json["x-forwarded-for"].as_str(), json["x-forwarded-proto"].as_str()), (Some("10.0.0.1"), Some("http")));
        assert!(json.get("x-forwarded-host").is_none());
        // Trusted proxies: walked from the right past 10.0.0.0/8 to the client.
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let o = client_origin(&trusted, peer, &h);
        assert_eq!((o.address.to_string(), o.proto.as_str(), o.host.as_deref()), ("203.0.113.5".into(), "https", Some("shell.example")));
        // A hop that is not an address stops the walk at the last good one.
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.5, junk, 10.0.0.2"));
        assert_eq!(client_origin(&trusted, peer, &h).address.to_string(), "10.0.0.2");
    }

    #[test]
    fn accept_order_and_negotiation() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html;q=0.5, application/json, text/csv;q=0"));
        assert_eq!(accepted(&h), ["application/json", "text/html"]);
        let mut html = (*routine(&[])).clone();
        html.returns = Returns::Media { media_type: "text/html".into(), bytea: false };
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        assert_eq!(negotiate(&h, &html).unwrap(), Output::Raw { media_type: "text/html".into(), bytea: false });
        assert_eq!(negotiate(&HeaderMap::new(), &html).unwrap(), Output::Json);
        assert_eq!(negotiate(&h, &routine(&[])).unwrap_err().code, "PGRST107");
    }
}

/// The schema a profile header (`Accept-Profile`, `Content-Profile`) names,
/// or the first exposed one; 406 PGRST106 for a schema not exposed.
pub(super) fn profile_schema(config: &super::GatewayConfig, headers: &axum::http::HeaderMap, name: &str) -> Result<String, ApiError> {
    match headers.get(name) {
        Some(v) => {
            let s = v.to_str().unwrap_or_default().trim().to_string();
            if !config.schemas.contains(&s) {
                return Err(ApiError::new(StatusCode::NOT_ACCEPTABLE, "PGRST106", format!("Invalid schema: {s}"))
                    .hint(format!("Only the following schemas are exposed: {}", config.schemas.join(", "))));
            }
            Ok(s)
        }
        None => Ok(config.schemas[0].clone()),
    }
}
