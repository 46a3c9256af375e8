//! `GET /live/command?id=N`: a running command's output pushed to the page
//! as Server-Sent Events (htmx's SSE extension consumes them).
//!
//! Each event is the answer of `api.ui_live(id)` called exactly as
//! `GET /rpc/ui_live?id=N` with the request's own headers (cookie or bearer
//! token, pre-request, role switch): the stream is authenticated and
//! authorized like any request, on every event, and what is shown is always
//! read from the database. A refused first call is the stream's answer
//! (403, 401, ...), so a user cannot subscribe to another user's command.
//!
//! The gateway keeps one direct connection that LISTENs on pg_shell_output
//! (a chunk was stored; payload: the command's id) and pg_shell_done (a
//! command ended; payload: `session id`); a notification only wakes the
//! streams of that command, which then re-read. Anyone may NOTIFY: a forged
//! one costs a re-read, nothing more. A slow tick re-reads too, in case a
//! notification was missed (the listener reconnecting).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use super::App;

/// Re-read even without a notification this often.
const FALLBACK_TICK: Duration = Duration::from_secs(2);
/// A stream ends after this long (the page reconnects if it still waits).
const MAX_STREAM: Duration = Duration::from_secs(600);

/// The command ids notifications named, for every open stream.
pub(crate) struct Wakes {
    tx: broadcast::Sender<i64>,
}

impl Wakes {
    pub(crate) fn new() -> Arc<Wakes> {
        Arc::new(Wakes { tx: broadcast::channel(1024).0 })
    }

    /// LISTENs on a connection of its own, reconnecting after failures.
    pub(crate) async fn listen(self: Arc<Self>, pg: tokio_postgres::Config) {
        let mut backoff = Duration::from_millis(200);
        loop {
            match super::catalog::connect_listener(&pg).await {
                Ok((client, mut rx)) => match client.batch_execute("listen pg_shell_output; listen pg_shell_done").await {
                    Ok(()) => {
                        backoff = Duration::from_millis(200);
                        while let Some(n) = rx.recv().await {
                            if let Some(id) = n.payload().rsplit(' ').next().and_then(|p| p.parse::<i64>().ok()) {
                                let _ = self.tx.send(id);
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "gateway: LISTEN for live output failed"),
                },
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "gateway: the live-output listener cannot connect"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// One call of `api.ui_live` as this request: (status, headers, body).
async fn read(app: &Arc<App>, peer: SocketAddr, headers: &axum::http::HeaderMap, id: i64) -> Response {
    let mut req = Request::builder()
        .method(axum::http::Method::GET)
        .uri(format!("/rpc/ui_live?id={id}"))
        .body(Body::empty())
        .expect("a valid request");
    for name in [header::COOKIE, header::AUTHORIZATION, header::ORIGIN, header::USER_AGENT, header::HOST] {
        for v in headers.get_all(&name) {
            req.headers_mut().append(name.clone(), v.clone());
        }
    }
    for (name, v) in headers.iter() {
        if name.as_str().starts_with("x-forwarded-") || name == "forwarded" || name == "sec-fetch-site" {
            req.headers_mut().append(name.clone(), v.clone());
        }
    }
    req.headers_mut().insert(header::ACCEPT, HeaderValue::from_static("text/html"));
    super::rpc::handle(app.clone(), peer, req).await
}

struct Answer {
    html: String,
    done: bool,
    offset: Option<String>,
}

async fn answer(resp: Response) -> Result<Answer, Response> {
    if resp.status() != StatusCode::OK {
        return Err(resp);
    }
    let done = resp.headers().get("x-command-done").is_some();
    let offset = resp.headers().get("x-output-offset").and_then(|v| v.to_str().ok()).map(str::to_string);
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await.map_err(|_| StatusCode::BAD_GATEWAY.into_response())?;
    Ok(Answer { html: String::from_utf8_lossy(&bytes).into_owned(), done, offset })
}

fn event(a: &Answer) -> Event {
    Event::default().event(if a.done { "done" } else { "output" }).data(a.html.clone())
}

pub(crate) async fn command(State(app): State<Arc<App>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let id = form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let Some(id) = id else {
        return super::ApiError::new(StatusCode::BAD_REQUEST, "PGRST100", "live/command needs ?id=<command id>").into_response();
    };
    let headers = req.headers().clone();
    // Subscribe before the first read, so nothing between them is missed.
    let mut wakes = app.wakes.tx.subscribe();
    let mut closing = app.closing.subscribe();
    let first = match answer(read(&app, peer, &headers, id).await).await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let stream = async_stream(move |tx: tokio::sync::mpsc::Sender<Event>| async move {
        let started = tokio::time::Instant::now();
        let mut last = first.offset.clone();
        if tx.send(event(&first)).await.is_err() || first.done {
            return;
        }
        loop {
            let woke = tokio::select! {
                r = wakes.recv() => match r {
                    Ok(n) => n == id,
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(FALLBACK_TICK) => true,
                _ = tx.closed() => return,
                _ = closing.changed() => return,
            };
            if !woke {
                continue;
            }
            if started.elapsed() > MAX_STREAM {
                return;
            }
            let a = match answer(read(&app, peer, &headers, id).await).await {
                Ok(a) => a,
                Err(_) => return, // no longer allowed (logged out), or gone
            };
            if !a.done && a.offset == last {
                continue;
            }
            last = a.offset.clone();
            if tx.send(event(&a)).await.is_err() || a.done {
                return;
            }
        }
    });
    let mut resp = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Events produced by a task, as the stream an `Sse` response wants.
fn async_stream<F, Fut>(f: F) -> impl futures_util::Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(Ok)))
}
