//! The OpenAPI (Swagger 2.0) document at `/`, as PostgREST serves it to
//! clients that ask for `application/openapi+json` (or `application/json`):
//! one path per function of the profile's schema, GET (unless volatile) with
//! query parameters and POST with a body schema. openapi-mode
//! `follow-privileges` lists only what the request's role may execute (read
//! as that role, after the same role switch as a call), `ignore-privileges`
//! everything, `disabled` answers 404 PGRST126.

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::catalog::Volatility;
use super::error::ApiError;
use super::App;

const VISIBLE_SQL: &str = "select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
    where n.nspname = $1 and has_schema_privilege(n.oid, 'usage') and has_function_privilege(p.oid, 'execute')";

/// Whether the client asked for the document rather than the UI.
pub fn wanted(headers: &HeaderMap) -> bool {
    let accepts = super::rpc::accepted(headers);
    for a in accepts {
        match a.as_str() {
            "application/openapi+json" | "application/json" => return true,
            "text/html" | "*/*" | "text/*" => return false,
            _ => {}
        }
    }
    false
}

fn json_type(t: &str) -> (&'static str, &str) {
    let ty = match t {
        "integer" | "smallint" | "bigint" => "integer",
        "numeric" | "real" | "double precision" => "number",
        "boolean" => "boolean",
        t if t.ends_with("[]") => "array",
        "json" | "jsonb" => "object",
        _ => "string",
    };
    (ty, t)
}

pub async fn serve(app: Arc<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let config = &app.config;
    if config.openapi_mode == "disabled" {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "PGRST126", "Root endpoint metadata is disabled"));
    }
    let schema = super::rpc::profile_schema(config, &headers, "accept-profile")?;
    let mut catalog = app.catalog.get();
    let auth = super::rpc::authenticate(&app, &headers, &mut catalog).await?;
    let visible: Option<HashSet<String>> = if config.openapi_mode == "follow-privileges" {
        let mut client = app.pool.get().await.map_err(super::rpc::pool_error)?;
        let db = |e: tokio_postgres::Error| ApiError::from_db(&e, auth.authenticated);
        let tx = client.build_transaction().read_only(true).start().await.map_err(db)?;
        tx.query("select set_config('role', $1, true)", &[&auth.role]).await.map_err(db)?;
        let rows = tx.query(VISIBLE_SQL, &[&schema]).await.map_err(db)?;
        tx.rollback().await.map_err(db)?;
        Some(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    } else {
        None
    };
    let mut names: Vec<&str> = catalog.names_in(&schema).filter(|n| visible.as_ref().is_none_or(|v| v.contains(*n))).collect();
    names.sort();
    let mut paths = Map::new();
    paths.insert(
        "/".into(),
        json!({"get": {"tags": ["Introspection"], "summary": "OpenAPI description (this document)",
                       "produces": ["application/openapi+json", "application/json"],
                       "responses": {"200": {"description": "OK"}}}}),
    );
    for name in names {
        let overloads = catalog.lookup(&schema, name);
        let Some(r) = overloads.first() else { continue };
        let mut props = Map::new();
        let mut required = Vec::new();
        let mut query_params = Vec::new();
        for p in &r.params {
            if p.name.is_empty() {
                continue;
            }
            let (ty, format) = json_type(&p.type_sql);
            props.insert(p.name.clone(), json!({"type": ty, "format": format}));
            if !p.has_default {
                required.push(Value::String(p.name.clone()));
            }
            let mut q = json!({"name": p.name, "in": "query", "required": !p.has_default, "type": ty, "format": format});
            if ty == "array" {
                q["items"] = json!({"type": "string"});
                q["collectionFormat"] = json!("multi");
            }
            query_params.push(q);
        }
        let tag = format!("(rpc) {name}");
        let ok = json!({"200": {"description": "OK"}});
        let mut item = Map::new();
        if r.volatility != Volatility::Volatile {
            item.insert("get".into(), json!({"tags": [tag], "parameters": query_params, "responses": ok}));
        }
        item.insert(
            "post".into(),
            json!({"tags": [tag], "parameters": [
                {"name": "args", "in": "body", "required": !required.is_empty(),
                 "schema": {"type": "object", "required": required, "properties": props}},
                {"$ref": "#/parameters/preferParams"}], "responses": ok}),
        );
        paths.insert(format!("/rpc/{name}"), Value::Object(item));
    }
    let (host, base) = match &config.openapi_server_proxy_uri {
        Some(u) => {
            let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
            let (h, p) = rest.split_once('/').map(|(h, p)| (h.to_string(), format!("/{p}"))).unwrap_or((rest.to_string(), "/".into()));
            (h, p)
        }
        None => (headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost").to_string(), "/".to_string()),
    };
    let doc = json!({
        "swagger": "2.0",
        "info": {"title": "pg_shell (PostgREST-compatible API)", "description": format!("Functions of the schema {schema}"),
                 "version": env!("CARGO_PKG_VERSION")},
        "host": host,
        "basePath": base,
        "schemes": ["http"],
        "consumes": ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"],
        "produces": ["application/json", "application/vnd.pgrst.object+json", "text/csv"],
        "paths": paths,
        "definitions": {},
        "parameters": {"preferParams": {"name": "Prefer", "in": "header", "type": "string",
                        "description": "Preference", "enum": ["handling=strict", "handling=lenient", "count=exact", "tx=commit", "tx=rollback"]}},
        "externalDocs": {"description": "PostgREST Documentation", "url": "https://postgrest.org/en/v13/references/api.html"},
    });
    let mut resp = (StatusCode::OK, doc.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/openapi+json; charset=utf-8"));
    Ok(resp)
}
