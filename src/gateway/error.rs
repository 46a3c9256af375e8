//! Errors as PostgREST sends them: a JSON body `{code, message, details, hint}`,
//! the HTTP status from PostgREST's SQLSTATE table (`mapSQLtoHTTP` in its
//! Error.hs, documented on its "Errors" page), and its `PGRSTxxx` codes for
//! the errors the gateway raises itself.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Boxed: errors are the cold path, and `Result<_, ApiError>` stays small.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorBody>);

#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The reason phrase of a `RAISE SQLSTATE 'PGRST'` status_text.
    pub status_text: Option<String>,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorBody;
    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorBody {
        &mut self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError::from_body(ErrorBody { status, code: code.into(), message: message.into(), details: None, hint: None, headers: Vec::new(), status_text: None })
    }

    fn from_body(b: ErrorBody) -> ApiError {
        ApiError(Box::new(b))
    }

    pub fn details(mut self, d: impl Into<String>) -> ApiError {
        self.details = Some(d.into());
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> ApiError {
        self.hint = Some(h.into());
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// PGRST102.
    pub fn invalid_body(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "PGRST102", message)
    }

    /// A PostgreSQL error (or a lost connection), as PostgREST reports it.
    /// `authenticated` decides 42501 (403 with a JWT role, else 401).
    pub fn from_db(e: &tokio_postgres::Error, authenticated: bool) -> ApiError {
        let Some(db) = e.as_db_error() else {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "PGRST001", "Database client error. Retrying the connection.")
                .details(e.to_string());
        };
        let code = db.code().code();
        if code == "PGRST" {
            return raise_pgrst(db.message(), db.detail());
        }
        let status = sqlstate_status(code, db.message(), authenticated);
        let mut err = ApiError::from_body(ErrorBody {
            status,
            code: code.to_string(),
            message: db.message().to_string(),
            details: db.detail().map(str::to_string),
            hint: db.hint().map(str::to_string),
            headers: Vec::new(),
            status_text: None,
        });
        if status == StatusCode::UNAUTHORIZED {
            err = err.header(header::WWW_AUTHENTICATE, "Bearer");
        }
        err
    }

    pub fn body(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "details": self.details, "hint": self.hint })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let ApiError(e) = self;
        let mut resp = (e.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        if let Ok(v) = HeaderValue::from_str(&format!("pg_shell; error={}", e.code)) {
            h.insert(HeaderName::from_static("proxy-status"), v);
        }
        for (k, v) in e.headers {
            h.append(k, v);
        }
        if let Some(t) = e.status_text.as_deref().and_then(|t| hyper::ext::ReasonPhrase::try_from(t.as_bytes().to_vec()).ok()) {
            resp.extensions_mut().insert(t);
        }
        resp
    }
}

/// PostgREST's SQLSTATE → HTTP status table.
pub fn sqlstate_status(code: &str, message: &str, authenticated: bool) -> StatusCode {
    let s = |n: u16| StatusCode::from_u16(n).unwrap();
    let b = code.as_bytes();
    let prefix = |p: &str| code.starts_with(p);
    match code {
        "23503" | "23505" => return s(409),
        "25006" => return s(405),
        "21000" => return if message.ends_with("requires a WHERE clause") { s(400) } else { s(500) },
        // A JWT naming a role that does not exist.
        "22023" => return if message.starts_with("role") && message.ends_with("does not exist") { s(401) } else { s(400) },
        "53400" => return s(500),
        "57P01" => return s(503),
        "P0001" => return s(400),
        "42883" => return if message.starts_with("function xmlagg(") { s(406) } else { s(404) },
        "42P01" => return s(404),
        "42P17" => return s(500),
        "42501" => return if authenticated { s(403) } else { s(401) },
        _ => {}
    }
    if b.len() == 5 && prefix("PT") {
        return code[2..].parse::<u16>().ok().and_then(|n| StatusCode::from_u16(n).ok()).unwrap_or(s(500));
    }
    if prefix("08") {
        return s(503);
    }
    if prefix("53") {
        return s(503);
    }
    if prefix("0L") || prefix("0P") || prefix("28") {
        return s(403);
    }
    for p in ["09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX"] {
        if prefix(p) {
            return s(500);
        }
    }
    s(400)
}

/// `RAISE SQLSTATE 'PGRST'`: the message is `{code, message, details?, hint?}`,
/// the detail `{status, status_text?, headers}`; unparsable → 500 PGRST121.
fn raise_pgrst(message: &str, detail: Option<&str>) -> ApiError {
    let parse_error = |details: String, hint: &str| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "PGRST121", "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error")
            .details(details)
            .hint(hint)
    };
    const MSG_HINT: &str = "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.";
    const DET_HINT: &str = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";
    let msg: Option<serde_json::Map<String, Value>> = serde_json::from_str(message).ok();
    let Some(msg) = msg.filter(|m| m.get("code").is_some_and(Value::is_string) && m.get("message").is_some_and(Value::is_string)) else {
        return parse_error(format!("Invalid JSON value for MESSAGE: '{message}'"), MSG_HINT);
    };
    let Some(detail) = detail else {
        return parse_error("DETAIL is missing in the RAISE statement".into(), DET_HINT);
    };
    let det: Option<serde_json::Map<String, Value>> = serde_json::from_str(detail).ok();
    let Some(det) = det.filter(|d| d.get("status").is_some_and(Value::is_u64) && d.get("headers").is_some_and(Value::is_object))
    else {
        return parse_error(format!("Invalid JSON value for DETAIL: '{detail}'"), DET_HINT);
    };
    let status = det["status"].as_u64().and_then(|n| u16::try_from(n).ok()).and_then(|n| StatusCode::from_u16(n).ok());
    let Some(status) = status else {
        return parse_error(format!("Invalid JSON value for DETAIL: '{detail}'"), DET_HINT);
    };
    let mut err = ApiError::from_body(ErrorBody {
        status,
        code: msg["code"].as_str().unwrap_or_default().to_string(),
        message: msg["message"].as_str().unwrap_or_default().to_string(),
        details: msg.get("details").and_then(text_of),
        hint: msg.get("hint").and_then(text_of),
        headers: Vec::new(),
        status_text: None,
    });
    err.status_text = det.get("status_text").and_then(Value::as_str).map(str::to_string);
    if let Some(h) = det["headers"].as_object() {
        for (k, v) in h {
            if let (Ok(name), Some(v)) = (HeaderName::from_bytes(k.as_bytes()), v.as_str()) {
                err = err.header(name, v);
            }
        }
    }
    err
}

/// A JSON value as text: strings as they are, null as absent, others as JSON.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgrest_status_table() {
        let cases = [
            ("08006", 503), ("09000", 500), ("0L000", 403), ("0P000", 403), ("23503", 409), ("23505", 409),
            ("23502", 400), ("25006", 405), ("25001", 500), ("28000", 403), ("2D000", 500), ("38000", 500),
            ("39000", 500), ("3B000", 500), ("40001", 500), ("53400", 500), ("53100", 503), ("54000", 500),
            ("55000", 500), ("57014", 500), ("57P01", 503), ("58000", 500), ("F0000", 500), ("HV000", 500),
            ("P0001", 400), ("P0002", 500), ("XX000", 500), ("42883", 404), ("42P01", 404), ("42P17", 500),
            ("PT402", 402), ("PT418", 418), ("PTabc", 500), ("22P02", 400), ("42703", 400),
        ];
        for (code, status) in cases {
            assert_eq!(sqlstate_status(code, "", false).as_u16(), status, "{code}");
        }
        assert_eq!(sqlstate_status("42501", "", false).as_u16(), 401);
        assert_eq!(sqlstate_status("42501", "", true).as_u16(), 403);
        assert_eq!(sqlstate_status("22023", "role \"x\" does not exist", true).as_u16(), 401);
    }

    #[test]
    fn raise_pgrst_takes_over_the_response() {
        let e = raise_pgrst(
            r#"{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}"#,
            Some(r#"{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}"#),
        );
        assert_eq!(e.status.as_u16(), 402);
        assert_eq!(e.body(), json!({"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}));
        assert_eq!(e.headers[0].1, "Nerd Rage");
        assert_eq!(raise_pgrst("nope", None).code, "PGRST121");
    }
}
