//! `/readyz` and `/metrics`: what an orchestrator and a Prometheus server ask
//! of a gateway. Neither takes request data into SQL.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_postgres::SimpleQueryMessage;

use super::App;

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Rows of a fixed query, as text; with `role`, read in a read-only
/// transaction as that role (rolled back if anything fails, so the pooled
/// connection comes back clean).
async fn rows(app: &App, role: Option<&str>, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let conn = match tokio::time::timeout(Duration::from_secs(5), app.pool.get()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(format!("database unavailable: {e}")),
        Err(_) => return Err("database unavailable: no connection within 5 s".into()),
    };
    let err = |e: tokio_postgres::Error| match e.as_db_error() {
        Some(d) => d.message().to_string(),
        None => format!("database unavailable: {e}"),
    };
    let msgs = match role {
        None => conn.simple_query(sql).await.map_err(err)?,
        Some(role) => {
            conn.batch_execute(&format!("begin read only; set local role {role}")).await.map_err(err)?;
            let r = conn.simple_query(sql).await;
            let end = if r.is_ok() { "commit" } else { "rollback" };
            let _ = conn.batch_execute(end).await;
            r.map_err(err)?
        }
    };
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect()),
            _ => None,
        })
        .collect())
}

/// 200 when the database answers and, for a pg_shell database, its schema is
/// the version this binary was built for; 503 with the reason otherwise (a
/// rolling upgrade: an old gateway stops taking traffic for a newer schema).
pub(super) async fn readyz(State(app): State<Arc<App>>) -> Response {
    let sql = "select (select max(version) from pgshell_meta.schema_version)::text
               where to_regclass('pgshell_meta.schema_version') is not null";
    // to_regclass keeps this valid on databases without pg_shell (PostgREST schemas).
    let sql = format!("select coalesce(({sql}), 'none')");
    match rows(&app, None, &sql).await {
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
        Ok(r) => {
            let found = r.first().and_then(|row| row.first().cloned().flatten()).unwrap_or_default();
            let built = crate::db::MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
            match found.parse::<i32>() {
                Err(_) => text(StatusCode::OK, "ready (not a pg_shell database)\n".into()),
                Ok(v) if v == built => text(StatusCode::OK, format!("ready (schema {v})\n")),
                Ok(v) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("not ready: the database's pg_shell schema is version {v}, this gateway was built for {built}; run `pg_shell init` with the matching release\n"),
                ),
            }
        }
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Prometheus text format of `pgshell.metrics()`, read as pgshell_auditor.
/// Only with `Authorization: Bearer $PG_SHELL_METRICS_TOKEN`; without that
/// setting the endpoint does not exist (404): the metrics name users.
pub(super) async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let Some(token) = &app.config.metrics_token else {
        return text(StatusCode::NOT_FOUND, "not found: set PG_SHELL_METRICS_TOKEN to serve /metrics\n".into());
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes())) {
        let mut r = text(StatusCode::UNAUTHORIZED, "unauthorized: /metrics needs the bearer token PG_SHELL_METRICS_TOKEN\n".into());
        r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return r;
    }
    let sql = "select name, labels::text, value::text from pgshell.metrics()";
    match rows(&app, Some("pgshell_auditor"), sql).await {
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("metrics unavailable: {e}\n")),
        Ok(r) => {
            let ms: Vec<crate::cli::ops::Metric> = r
                .into_iter()
                .filter_map(|row| {
                    let labels = match serde_json::from_str(row.get(1)?.as_deref()?).ok()? {
                        serde_json::Value::Object(m) => m,
                        _ => Default::default(),
                    };
                    Some(crate::cli::ops::Metric { name: row.first()?.clone()?, labels, value: row.get(2)?.as_deref()?.parse().ok()? })
                })
                .collect();
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], crate::cli::ops::prometheus(&ms))
                .into_response()
        }
    }
}
