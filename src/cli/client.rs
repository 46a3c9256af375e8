//! What `pg_shell shell` and `pg_shell run` need from pg_shell, behind one
//! type with two transports:
//!
//! - direct: a PostgreSQL connection as the user ([`crate::client::ShellClient`],
//!   PostgREST's `request.jwt.claims` convention), as before;
//! - HTTP: the same `api` functions through a gateway's `/rpc/<name>`
//!   (`pg_shell serve` or PostgREST), logged in with the user's password
//!   (`api.login`, whose session cookie then goes with every request) or
//!   with a bearer JWT the gateway accepts. The user needs no database
//!   credentials.
//!
//! Output is followed live on both: [`Client::follow`] polls
//! `api.output(id, after_offset)` and hands what is new to a [`Follow`],
//! which prints each byte once, in the order produced, and at the end makes
//! what it printed equal the record (see [`Follow`]).

use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::client::{CommandView, ShellClient, Terminal};

/// How often a running command's output is polled: at first, and at most
/// (the interval doubles while nothing new arrives, and starts over when
/// something does).
const POLL_FIRST: Duration = Duration::from_millis(50);
const POLL_MAX: Duration = Duration::from_millis(100);

/// The gateway's session cookie (migration 0009's `pgshell.cookie_header`).
const SESSION_COOKIE: &str = "pgshell_session";

pub struct Client {
    transport: Transport,
    /// Who the client acts as (the prompt shows it).
    pub user: String,
}

enum Transport {
    Direct(ShellClient),
    Http(Http),
}

/// How an HTTP client proves who it is.
#[derive(Clone)]
enum Auth {
    /// `pgshell_session=...` from `api.login`; logged out at the end.
    Cookie(String),
    /// A JWT, sent as `Authorization: Bearer`.
    Bearer(String),
}

#[derive(Clone)]
struct Http {
    http: reqwest::Client,
    base: reqwest::Url,
    auth: Auth,
}

impl Client {
    /// Over a direct database connection, as `user`.
    pub async fn direct(conninfo: &str, user: &str) -> Result<Client> {
        Ok(Client { transport: Transport::Direct(ShellClient::connect(conninfo, user).await?), user: user.to_string() })
    }

    /// Against the gateway at `url`, logged in as `user` with `password`.
    pub async fn login(url: &str, user: &str, password: &str) -> Result<Client> {
        let (http, base) = http_client(url)?;
        let resp = send(&base, http.post(rpc_url(&base, "login")?).json(&json!({ "username": user, "password": password }))).await?;
        if !resp.status().is_success() {
            let e = api_error(resp).await;
            return Err(e.context(format!("logging in to {base} as {user}")));
        }
        let cookie = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::trim)
            .find(|c| c.strip_prefix(SESSION_COOKIE).is_some_and(|r| r.starts_with('=') && r.len() > 1))
            .ok_or_else(|| anyhow!("{base} accepted the log-in but set no {SESSION_COOKIE} cookie: is it a pg_shell gateway?"))?
            .to_string();
        let h = Http { http, base, auth: Auth::Cookie(cookie) };
        let name = h.whoami().await?;
        Ok(Client { transport: Transport::Http(h), user: name })
    }

    /// Against the gateway at `url` with a bearer token; the user is the
    /// token's (`api.whoami`).
    pub async fn with_token(url: &str, token: &str) -> Result<Client> {
        let token = token.trim();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("the token is empty or not a JWT (three base64url parts separated by dots)");
        }
        let (http, base) = http_client(url)?;
        let h = Http { http, base, auth: Auth::Bearer(token.to_string()) };
        let name = h.whoami().await.context("the gateway did not accept the token")?;
        Ok(Client { transport: Transport::Http(h), user: name })
    }

    /// Whether this client speaks HTTP.
    pub fn is_http(&self) -> bool {
        matches!(self.transport, Transport::Http(_))
    }

    /// A second handle as the same user, to cancel or complete while this
    /// one follows a command (direct: a second connection; HTTP: the same
    /// connection pool and log-in).
    pub async fn another(&self) -> Result<Client> {
        let transport = match &self.transport {
            Transport::Direct(c) => Transport::Direct(c.another().await?),
            Transport::Http(h) => Transport::Http(h.clone()),
        };
        Ok(Client { transport, user: self.user.clone() })
    }

    /// Ends an HTTP log-in by password (`api.logout` forgets the cookie);
    /// nothing to do otherwise.
    pub async fn logout(&self) -> Result<()> {
        if let Transport::Http(h @ Http { auth: Auth::Cookie(_), .. }) = &self.transport {
            h.call("logout", json!({})).await?;
        }
        Ok(())
    }

    pub async fn create_session(&self, title: Option<&str>) -> Result<Uuid> {
        match &self.transport {
            Transport::Direct(c) => c.create_session(title).await,
            Transport::Http(h) => decode(h.call("create_session", json!({ "title": title })).await?, "api.create_session"),
        }
    }

    /// Submits a line as typed at `terminal` (None: no terminal).
    pub async fn submit(&self, session: Uuid, line: &str, terminal: Option<&Terminal>) -> Result<i64> {
        match &self.transport {
            Transport::Direct(c) => c.submit_from(session, line, terminal).await,
            Transport::Http(h) => {
                if line.contains('\0') {
                    bail!("the command line contains a NUL byte, which a command line cannot hold");
                }
                decode(h.call("submit", json!({ "session_id": session, "line": line, "terminal": terminal })).await?, "api.submit")
            }
        }
    }

    pub async fn command(&self, id: i64) -> Result<CommandView> {
        match &self.transport {
            Transport::Direct(c) => c.command(id).await,
            Transport::Http(h) => decode(h.call("command", json!({ "id": id })).await?, "api.command"),
        }
    }

    /// `api.output`: what the command wrote after byte `after`.
    pub async fn output(&self, id: i64, after: i64) -> Result<Value> {
        match &self.transport {
            Transport::Direct(c) => c.output(id, after).await,
            Transport::Http(h) => h.call("output", json!({ "id": id, "after_offset": after })).await,
        }
    }

    pub async fn cancel(&self, id: i64) -> Result<bool> {
        match &self.transport {
            Transport::Direct(c) => c.cancel(id).await,
            Transport::Http(h) => decode(h.call("cancel", json!({ "id": id })).await?, "api.cancel"),
        }
    }

    pub async fn history(&self, session: Uuid) -> Result<Vec<CommandView>> {
        match &self.transport {
            Transport::Direct(c) => c.history(session).await,
            Transport::Http(h) => decode(h.call("history", json!({ "session_id": session })).await?, "api.history"),
        }
    }

    pub async fn session(&self, session: Uuid) -> Result<Value> {
        match &self.transport {
            Transport::Direct(c) => c.session(session).await,
            Transport::Http(h) => h.call("session", json!({ "session_id": session })).await,
        }
    }

    pub async fn program_names(&self) -> Result<Vec<String>> {
        match &self.transport {
            Transport::Direct(c) => c.program_names().await,
            Transport::Http(h) => decode(h.call("program_names", json!({})).await?, "api.program_names"),
        }
    }

    /// Names in the session's files completing `prefix`, with their kind.
    pub async fn files(&self, session: Uuid, prefix: &str, max: i32) -> Result<Vec<(String, String)>> {
        match &self.transport {
            Transport::Direct(c) => c.files(session, prefix, max).await,
            Transport::Http(h) => {
                #[derive(serde::Deserialize)]
                struct Name {
                    name: String,
                    kind: String,
                }
                let v: Vec<Name> = decode(h.call("session_files", json!({ "session_id": session, "prefix": prefix, "max_names": max })).await?, "api.session_files")?;
                Ok(v.into_iter().map(|n| (n.name, n.kind)).collect())
            }
        }
    }

    /// `api.upload`: queues `cat > 'PATH'` with `data` as its recorded
    /// stdin. Over HTTP the bytes go as a bytea argument in hex, so a file
    /// of N bytes needs a request body of 2N + a little: the gateway's body
    /// limit (`PG_SHELL_BODY_LIMIT`, 1 MiB by default) bounds it, and its
    /// refusal (413) says so.
    pub async fn upload(&self, session: Uuid, path: &str, data: &[u8]) -> Result<i64> {
        match &self.transport {
            Transport::Direct(c) => {
                let row = c.raw().query_one("select api.upload($1, $2, $3)", &[&session, &path, &data]).await.map_err(crate::client::db_error)?;
                Ok(row.get(0))
            }
            Transport::Http(h) => {
                let body = json!({ "session_id": session, "path": path, "content": format!("\\x{}", hex::encode(data)) }).to_string();
                let n = body.len();
                match h.call_body("upload", body).await {
                    Ok(v) => decode(v, "api.upload"),
                    Err(e) if format!("{e:#}").contains("PGRST413") => Err(e.context(format!(
                        "the file is {} bytes: over HTTP that is a request body of {n} bytes (hex), more than the gateway at {} accepts; raise its PG_SHELL_BODY_LIMIT, or copy with a database connection (DATABASE_URL)",
                        data.len(),
                        h.base
                    ))),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// `api.session_file`: the bytes of a file of the session's current
    /// environment.
    pub async fn session_file(&self, session: Uuid, path: &str) -> Result<Vec<u8>> {
        match &self.transport {
            Transport::Direct(c) => {
                let row = c.raw().query_one("select api.session_file($1, $2)::bytea", &[&session, &path]).await.map_err(crate::client::db_error)?;
                Ok(row.get(0))
            }
            Transport::Http(h) => {
                let mut url = rpc_url(&h.base, "session_file")?;
                url.query_pairs_mut().append_pair("session_id", &session.to_string()).append_pair("path", path);
                let resp = send(&h.base, h.authed(h.http.get(url).header(reqwest::header::ACCEPT, "application/octet-stream"))).await?;
                if !resp.status().is_success() {
                    return Err(api_error(resp).await);
                }
                Ok(resp.bytes().await.context("reading the file from the gateway")?.to_vec())
            }
        }
    }

    /// Waits until the command has finished; its record.
    pub async fn wait(&self, id: i64, timeout: Duration) -> Result<CommandView> {
        let deadline = tokio::time::Instant::now() + timeout;
        let (mut out, mut err) = (std::io::sink(), std::io::sink());
        match tokio::time::timeout_at(deadline, self.follow(&mut Follow::new(id), deadline, &mut out, &mut err)).await {
            Ok(r) => r,
            Err(_) => bail!("command {id} did not finish within {timeout:?}; is an executor running?"),
        }
    }

    /// Follows the command until it has finished, writing its output to
    /// `out` and `err` as it arrives (see [`Follow`]); returns the record.
    /// Cancel-safe: `f` keeps what was printed, so a dropped call can be
    /// made again with the same `f`.
    pub async fn follow(&self, f: &mut Follow, deadline: tokio::time::Instant, out: &mut dyn Write, err: &mut dyn Write) -> Result<CommandView> {
        let mut pause = POLL_FIRST;
        loop {
            let answer = self.output(f.id, f.offset).await?;
            match f.take(&answer)? {
                Step::Wrote(w) => {
                    let news = !w.is_empty();
                    emit(&w, out, err)?;
                    pause = if news { POLL_FIRST } else { (pause * 2).min(POLL_MAX) };
                }
                Step::Restarted => continue,
                Step::Done => {
                    let c = self.command(f.id).await?;
                    let w = f.finish(&answer, &c);
                    emit(&w, out, err)?;
                    return Ok(c);
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                bail!("command {} did not finish in time (still {}); is an executor running?", f.id, answer["status"].as_str().unwrap_or("?"));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
        }
    }
}

fn emit(w: &[(Stream, Vec<u8>)], out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    for (s, bytes) in w {
        let to: &mut dyn Write = if *s == Stream::Out { &mut *out } else { &mut *err };
        to.write_all(bytes)?;
        to.flush()?;
    }
    Ok(())
}

fn decode<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T> {
    serde_json::from_value(v).with_context(|| format!("decoding {what}'s answer"))
}

/// A reqwest client for `url` (http only: this build has no TLS).
fn http_client(url: &str) -> Result<(reqwest::Client, reqwest::Url)> {
    let mut base = reqwest::Url::parse(url.trim()).with_context(|| format!("--url {url:?} is not a URL (expected http://HOST:PORT/)"))?;
    match base.scheme() {
        "http" => {}
        "https" => bail!("--url {url}: https is not supported by this build of pg_shell (it has no TLS); use http:// on a trusted network or through an SSH tunnel"),
        s => bail!("--url {url}: the scheme {s:?} is not http"),
    }
    if base.host_str().is_none_or(str::is_empty) {
        bail!("--url {url} has no host");
    }
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    base.set_query(None);
    base.set_fragment(None);
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("pg_shell/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    Ok((http, base))
}

fn rpc_url(base: &reqwest::Url, name: &str) -> Result<reqwest::Url> {
    base.join(&format!("rpc/{name}")).context("building the request URL")
}

async fn send(base: &reqwest::Url, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
    req.header(reqwest::header::ACCEPT, "application/json").send().await.map_err(|e| {
        let why = if e.is_connect() {
            "cannot connect"
        } else if e.is_timeout() {
            "no answer in time"
        } else {
            "the request failed"
        };
        anyhow!("{why}: is the gateway (pg_shell serve) running at {base}? ({e})")
    })
}

/// A gateway's error answer (PostgREST's `{code, message, details, hint}`)
/// as an error that keeps the message, the hint and the code.
async fn api_error(resp: reqwest::Response) -> anyhow::Error {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let Some(message) = body["message"].as_str() else {
        let snippet: String = text.chars().take(200).collect();
        return anyhow!("HTTP {status}: {snippet}");
    };
    let mut msg = message.to_string();
    if let Some(d) = body["details"].as_str().filter(|d| !d.is_empty()) {
        msg.push_str(&format!(" ({d})"));
    }
    if let Some(h) = body["hint"].as_str().filter(|h| !h.is_empty()) {
        msg.push_str(&format!(" (hint: {h})"));
    }
    let code = body["code"].as_str().unwrap_or("");
    anyhow!(msg).context(format!("HTTP {} {code}", status.as_u16()))
}

impl Http {
    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::Cookie(c) => req.header(reqwest::header::COOKIE, c),
            Auth::Bearer(t) => req.bearer_auth(t),
        }
    }

    /// POST /rpc/<name> with named arguments; the answer's JSON.
    async fn call(&self, name: &str, args: Value) -> Result<Value> {
        self.call_body(name, args.to_string()).await
    }

    /// POST /rpc/<name> with a JSON body already encoded.
    async fn call_body(&self, name: &str, body: String) -> Result<Value> {
        let req = self.authed(self.http.post(rpc_url(&self.base, name)?).header(reqwest::header::CONTENT_TYPE, "application/json").body(body));
        let resp = send(&self.base, req).await?;
        if !resp.status().is_success() {
            return Err(api_error(resp).await);
        }
        let bytes = resp.bytes().await.with_context(|| format!("reading the answer of rpc/{name}"))?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).with_context(|| format!("rpc/{name} answered something that is not JSON"))
    }

    async fn whoami(&self) -> Result<String> {
        let me = self.call("whoami", json!({})).await?;
        me["name"].as_str().map(str::to_string).ok_or_else(|| anyhow!("{} does not say who is logged in (api.whoami: {me})", self.base))
    }
}

/// Which of the command's streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

impl Stream {
    fn index(self) -> usize {
        self as usize
    }
}

/// What one `api.output` answer means for the printer.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Bytes to write now, in this order.
    Wrote(Vec<(Stream, Vec<u8>)>),
    /// The command started over (a new attempt): ask again from offset 0.
    Restarted,
    /// It has finished: read the record and call [`Follow::finish`].
    Done,
}

/// Following one command's output. Every byte is printed once: `shown` is
/// what was printed per stream; a run's bytes are compared with it, so when
/// the command starts over (an executor died and another re-runs it, a new
/// `attempt`) the new run's output is printed only past what was already
/// shown, and a new run that differs is announced on stderr and printed in
/// full. At the end the record decides: what was shown is completed to the
/// recorded stdout and stderr exactly (in the order produced when the final
/// chunks are the record, else stdout's rest then stderr's).
#[derive(Debug)]
pub struct Follow {
    pub id: i64,
    /// The next `after_offset` to ask for.
    pub offset: i64,
    attempt: Option<i64>,
    shown: [Vec<u8>; 2],
    /// How much of each stream the current run has produced (a prefix of
    /// `shown`, checked as it came).
    run: [usize; 2],
}

impl Follow {
    pub fn new(id: i64) -> Follow {
        Follow { id, offset: 0, attempt: None, shown: [Vec::new(), Vec::new()], run: [0, 0] }
    }

    /// What was printed, per stream.
    pub fn shown(&self, s: Stream) -> &[u8] {
        &self.shown[s.index()]
    }

    /// Takes an `api.output` answer for `after_offset = self.offset`.
    pub fn take(&mut self, answer: &Value) -> Result<Step> {
        let attempt = answer["attempt"].as_i64().ok_or_else(|| anyhow!("api.output answered without an attempt: {answer}"))?;
        if self.attempt.is_some_and(|a| a != attempt) {
            // A new run: this answer was cut at the old run's offset.
            self.attempt = Some(attempt);
            self.offset = 0;
            self.run = [0, 0];
            return Ok(Step::Restarted);
        }
        self.attempt = Some(attempt);
        if answer["done"].as_bool() == Some(true) {
            return Ok(Step::Done);
        }
        let mut w = Vec::new();
        for (s, text) in chunks(answer)? {
            self.push(s, text.as_bytes(), &mut w);
        }
        if let Some(o) = answer["offset"].as_i64() {
            self.offset = self.offset.max(o);
        }
        Ok(Step::Wrote(w))
    }

    /// One chunk of the current run.
    fn push(&mut self, s: Stream, data: &[u8], w: &mut Vec<(Stream, Vec<u8>)>) {
        let i = s.index();
        let (at, shown) = (self.run[i], &self.shown[i]);
        let overlap = shown.len().saturating_sub(at).min(data.len());
        if shown[at..at + overlap] != data[..overlap] {
            // The new run differs from what was shown: say so, then show it whole.
            let mut runs: [Vec<u8>; 2] = [self.shown[0][..self.run[0]].to_vec(), self.shown[1][..self.run[1]].to_vec()];
            runs[i].extend_from_slice(data);
            w.push((Stream::Err, format!("pg_shell: command {} started over and its output differs from what was shown; its new output:\n", self.id).into_bytes()));
            for (k, s) in [(0, Stream::Out), (1, Stream::Err)] {
                if !runs[k].is_empty() {
                    w.push((s, runs[k].clone()));
                }
                self.run[k] = runs[k].len();
            }
            self.shown = runs;
            return;
        }
        if overlap < data.len() {
            w.push((s, data[overlap..].to_vec()));
            self.shown[i].extend_from_slice(&data[overlap..]);
        }
        self.run[i] = at + data.len();
    }

    /// The finished command: `answer` is the `api.output` answer that said
    /// done, `c` its record. What still has to be written so that what was
    /// shown is exactly the recorded stdout and stderr.
    pub fn finish(&mut self, answer: &Value, c: &CommandView) -> Vec<(Stream, Vec<u8>)> {
        let record = [c.stdout().as_bytes(), c.stderr().as_bytes()];
        // The final chunks, in the order produced, when they complete the record.
        if answer["attempt"].as_i64() == self.attempt {
            let mut trial = Follow { id: self.id, offset: self.offset, attempt: self.attempt, shown: self.shown.clone(), run: self.run };
            let mut w = Vec::new();
            if let Ok(cs) = chunks(answer) {
                for (s, text) in cs {
                    trial.push(s, text.as_bytes(), &mut w);
                }
                if trial.shown[0] == record[0] && trial.shown[1] == record[1] && trial.run == [record[0].len(), record[1].len()] {
                    *self = trial;
                    return w;
                }
            }
        }
        let mut w = Vec::new();
        if !(record[0].starts_with(&self.shown[0]) && record[1].starts_with(&self.shown[1])) {
            w.push((Stream::Err, format!("pg_shell: command {} ran again and its recorded output differs from what was shown; the record:\n", self.id).into_bytes()));
            self.shown = [Vec::new(), Vec::new()];
        }
        for (i, s) in [(0, Stream::Out), (1, Stream::Err)] {
            let rest = &record[i][self.shown[i].len()..];
            if !rest.is_empty() {
                w.push((s, rest.to_vec()));
                self.shown[i].extend_from_slice(rest);
            }
        }
        self.run = [record[0].len(), record[1].len()];
        w
    }
}

/// An answer's chunks: (stream, text), in order.
fn chunks(answer: &Value) -> Result<Vec<(Stream, &str)>> {
    let Some(list) = answer["chunks"].as_array() else { bail!("api.output answered without chunks: {answer}") };
    list.iter()
        .map(|c| {
            let s = match c["stream"].as_str() {
                Some("stdout") => Stream::Out,
                Some("stderr") => Stream::Err,
                other => bail!("api.output: unknown stream {other:?}"),
            };
            Ok((s, c["text"].as_str().ok_or_else(|| anyhow!("api.output: a chunk without text"))?))
        })
        .collect()
}

/// Reads a password from the terminal without echoing it (the controlling
/// terminal, so it works with stdin piped).
pub fn prompt_password(prompt: &str) -> Result<String> {
    #[cfg(unix)]
    {
        use std::io::{BufRead, BufReader};
        use std::os::fd::AsRawFd;
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .context("no terminal to ask for the password: set PG_SHELL_PASSWORD or use --token")?;
        let fd = tty.as_raw_fd();
        // SAFETY: tcgetattr/tcsetattr on an open descriptor with a termios we own.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            bail!("cannot read the terminal's settings to hide the password: set PG_SHELL_PASSWORD or use --token");
        }
        let mut quiet = saved;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
        quiet.c_lflag |= libc::ICANON;
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
            bail!("cannot turn off the terminal's echo: set PG_SHELL_PASSWORD or use --token");
        }
        let mut w = &tty;
        let _ = w.write_all(prompt.as_bytes());
        let _ = w.flush();
        let mut line = String::new();
        let read = BufReader::new(&tty).read_line(&mut line);
        unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
        let _ = w.write_all(b"\n");
        read.context("reading the password")?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
    #[cfg(not(unix))]
    {
        let _ = prompt;
        bail!("set PG_SHELL_PASSWORD or use --token to log in over HTTP")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(attempt: i64, done: bool, offset: i64, chunks: &[(&str, &str)]) -> Value {
        json!({
            "attempt": attempt, "done": done, "offset": offset, "status": if done { "done" } else { "running" },
            "chunks": chunks.iter().map(|(s, t)| json!({"stream": s, "text": t})).collect::<Vec<_>>(),
        })
    }

    fn record(out: &str, err: &str) -> CommandView {
        serde_json::from_value(json!({
            "id": 7, "session_id": Uuid::nil(), "seq": 1, "line": "x", "status": "done", "attempt": 1,
            "stdout": out, "stderr": err,
        }))
        .unwrap()
    }

    fn text(w: &[(Stream, Vec<u8>)]) -> Vec<(Stream, String)> {
        w.iter().map(|(s, b)| (*s, String::from_utf8_lossy(b).into_owned())).collect()
    }

    #[test]
    fn each_byte_once_in_order_and_the_end_from_the_final_chunks() {
        let mut f = Follow::new(7);
        let Step::Wrote(w) = f.take(&answer(1, false, 6, &[("stdout", "a\n"), ("stderr", "e\n"), ("stdout", "b\n")])).unwrap() else { panic!() };
        assert_eq!(text(&w), [(Stream::Out, "a\n".into()), (Stream::Err, "e\n".into()), (Stream::Out, "b\n".into())]);
        assert_eq!(f.offset, 6);
        let done = answer(1, true, 8, &[("stderr", "f\n")]);
        assert_eq!(f.take(&done).unwrap(), Step::Done);
        let w = f.finish(&done, &record("a\nb\n", "e\nf\n"));
        assert_eq!(text(&w), [(Stream::Err, "f\n".into())]);
        assert_eq!((f.shown(Stream::Out), f.shown(Stream::Err)), (&b"a\nb\n"[..], &b"e\nf\n"[..]));
    }

    #[test]
    fn a_record_that_is_not_the_chunks_completes_what_was_shown() {
        // Finished with its output taken from the record (stdout, then stderr).
        let mut f = Follow::new(7);
        f.take(&answer(1, false, 2, &[("stdout", "a\n")])).unwrap();
        let done = answer(1, true, 9, &[("stdout", "b\n"), ("stderr", "e\n")]);
        f.take(&done).unwrap();
        let w = f.finish(&done, &record("a\nb\nc\n", "e\n"));
        assert_eq!(text(&w), [(Stream::Out, "b\nc\n".into()), (Stream::Err, "e\n".into())]);
        assert_eq!(f.shown(Stream::Out), b"a\nb\nc\n");
    }

    #[test]
    fn a_rerun_is_not_printed_twice_and_a_different_one_is_announced() {
        let mut f = Follow::new(7);
        f.take(&answer(1, false, 6, &[("stdout", "one\n"), ("stderr", "x\n")])).unwrap();
        // Attempt 2 starts over: the answer cut at the old offset is dropped.
        assert_eq!(f.take(&answer(2, false, 9, &[("stdout", "two\n")])).unwrap(), Step::Restarted);
        assert_eq!(f.offset, 0);
        // The same bytes again print nothing; what is new prints.
        let Step::Wrote(w) = f.take(&answer(2, false, 8, &[("stdout", "one\n"), ("stderr", "x\n"), ("stdout", "two\n")])).unwrap() else { panic!() };
        assert_eq!(text(&w), [(Stream::Out, "two\n".into())]);
        // Attempt 3 writes something else: announced, then shown whole.
        assert_eq!(f.take(&answer(3, false, 0, &[])).unwrap(), Step::Restarted);
        let Step::Wrote(w) = f.take(&answer(3, false, 4, &[("stdout", "oNe\n")])).unwrap() else { panic!() };
        assert_eq!(w.len(), 2);
        assert!(text(&w)[0].1.contains("started over"));
        assert_eq!(text(&w)[1], (Stream::Out, "oNe\n".into()));
        let done = answer(3, true, 4, &[]);
        f.take(&done).unwrap();
        assert!(f.finish(&done, &record("oNe\n", "")).is_empty());
    }

    #[test]
    fn a_record_that_contradicts_what_was_shown_is_printed_after_a_notice() {
        let mut f = Follow::new(7);
        f.take(&answer(1, false, 8, &[("stdout", "partial-")])).unwrap();
        let done = answer(2, true, 0, &[]);
        assert_eq!(f.take(&done).unwrap(), Step::Restarted);
        let done = answer(2, true, 5, &[("stdout", "real\n")]);
        assert_eq!(f.take(&done).unwrap(), Step::Done);
        let w = f.finish(&done, &record("real\n", "realerr\n"));
        let t = text(&w);
        assert!(t[0].1.contains("differs"), "{t:?}");
        assert_eq!(&t[1..], [(Stream::Out, "real\n".into()), (Stream::Err, "realerr\n".into())]);
    }
}
