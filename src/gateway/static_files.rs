//! The web UI: the html/ directory, built into the binary (rust-embed, with
//! `allow_missing` so a tree without html/ still builds), or read from
//! PG_SHELL_HTML_DIR when set. `/` is index.html. Paths are taken apart into
//! plain segments; `..`, `.`, backslashes, NULs and hidden files are refused,
//! and an override directory is never left, symlinks included.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "html/"]
#[allow_missing = true]
struct Html;

pub async fn serve(html_dir: Option<&Path>, method: &Method, path: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], "").into_response();
    }
    let Some(rel) = clean_path(path) else { return not_found() };
    let body = match html_dir {
        Some(dir) => read_override(dir, &rel).await,
        None => Html::get(&rel).map(|f| f.data.into_owned()),
    };
    let Some(body) = body else { return not_found() };
    let mut resp = Response::new(if method == Method::HEAD { Body::empty() } else { Body::from(body) });
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&rel)));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not Found\n").into_response()
}

/// The request path as a relative file path, or None when it is not a plain one.
fn clean_path(path: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
    let mut segments = Vec::new();
    for seg in decoded.split('/') {
        if seg.is_empty() {
            continue;
        }
        if seg == "." || seg == ".." || seg.starts_with('.') || seg.contains('\\') || seg.contains('\0') || seg.contains(':') {
            return None;
        }
        segments.push(seg);
    }
    if decoded.ends_with('/') || segments.is_empty() {
        segments.push("index.html");
    }
    Some(segments.join("/"))
}

async fn read_override(dir: &Path, rel: &str) -> Option<Vec<u8>> {
    let root: PathBuf = tokio::fs::canonicalize(dir).await.ok()?;
    let full = tokio::fs::canonicalize(root.join(rel)).await.ok()?;
    if !full.starts_with(&root) || !tokio::fs::metadata(&full).await.ok()?.is_file() {
        return None;
    }
    tokio::fs::read(&full).await.ok()
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(clean_path("/").as_deref(), Some("index.html"));
        assert_eq!(clean_path("/vendor/htmx.min.js").as_deref(), Some("vendor/htmx.min.js"));
        assert_eq!(clean_path("/docs/").as_deref(), Some("docs/index.html"));
        for bad in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/a/..%2F..%2Fx", "/.git/config", "/a%5c..%5cb", "/%00", "/c:/x"] {
            assert_eq!(clean_path(bad), None, "{bad}");
        }
    }
}
