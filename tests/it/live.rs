//! Live output (issue 11): a running command's output is stored as it is
//! produced, in chunks tagged by stream and fenced by the claim, readable
//! through `api.output` / `api.command` (over SQL and over HTTP), announced
//! by NOTIFY pg_shell_output; the final record is what a non-streaming run
//! stores, and replay is unaffected.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{assert_refused, TestDb};

/// The line's output as api.output gives it, stream by stream, in order.
fn texts(out: &Value) -> (String, String, Vec<(String, String)>) {
    let (mut so, mut se, mut all) = (String::new(), String::new(), Vec::new());
    for c in out["chunks"].as_array().unwrap() {
        let t = c["text"].as_str().unwrap();
        match c["stream"].as_str().unwrap() {
            "stdout" => so.push_str(t),
            "stderr" => se.push_str(t),
            s => panic!("unknown stream {s}"),
        }
        all.push((c["stream"].as_str().unwrap().to_string(), t.to_string()));
    }
    (so, se, all)
}

/// Chunks of the command's current attempt, straight from the table.
async fn stored_chunks(admin: &tokio_postgres::Client, id: i64) -> Vec<(i32, String, i64, Vec<u8>)> {
    admin
        .query(
            "select k.attempt, k.stream, k.start_offset, k.data from pgshell.output_chunks k
             where k.command_id = $1 order by k.attempt, k.seq",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

const SLOW: &str = "for i in 1 2 3 4 5 6; do echo out$i; echo err$i >&2; sleep 0.3; done";

#[tokio::test]
async fn a_running_command_shows_its_output_so_far_and_the_record_is_unchanged() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 20000})).await;
    let admin = db.admin().await;
    let id = u.client.submit(s, SLOW).await.unwrap();
    u.wait_until_running(id).await;
    // Partial output while it runs: some, not all, and the command still running.
    let deadline = Instant::now() + Duration::from_secs(10);
    let partial = loop {
        let o = u.client.output(id, 0).await.unwrap();
        if o["chunks"].as_array().unwrap().len() > 0 {
            break o;
        }
        assert!(Instant::now() < deadline, "no live output: {o}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(partial["status"], "running", "{partial}");
    assert_eq!(partial["done"], false);
    let (so, _, _) = texts(&partial);
    assert!(so.starts_with("out1\n") && !so.contains("out6"), "partial stdout: {so:?}");
    let view = u.client.command(id).await.unwrap();
    assert_eq!(view.status, "running");
    assert!(view.stdout().starts_with("out1\n"), "api.command shows the output so far: {view:?}");
    // Reading on from an offset gives only what came after it.
    let offset = partial["offset"].as_i64().unwrap();
    assert!(offset > 0);
    let done = u.client.wait(id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.outcome(), "exited");
    let rest = u.client.output(id, offset).await.unwrap();
    assert_eq!(rest["done"], true);
    let whole = u.client.output(id, 0).await.unwrap();
    let (so, se, order) = texts(&whole);
    // The record: byte for byte what the chunks hold, stream by stream.
    let expect_out: String = (1..=6).map(|i| format!("out{i}\n")).collect();
    let expect_err: String = (1..=6).map(|i| format!("err{i}\n")).collect();
    assert_eq!((done.stdout(), done.stderr()), (expect_out.as_str(), expect_err.as_str()));
    assert_eq!((so.as_str(), se.as_str()), (expect_out.as_str(), expect_err.as_str()));
    let row = admin.query_one("select stdout, stderr from pgshell.commands where id = $1", &[&id]).await.unwrap();
    let chunks = stored_chunks(&admin, id).await;
    let cat = |stream: &str| chunks.iter().filter(|c| c.1 == stream).flat_map(|c| c.3.clone()).collect::<Vec<u8>>();
    assert_eq!((cat("stdout"), cat("stderr")), (row.get::<_, Vec<u8>>(0), row.get::<_, Vec<u8>>(1)));
    // Offsets are contiguous over both streams, in order.
    let mut at = 0;
    for c in &chunks {
        assert_eq!(c.2, at, "chunk offsets: {chunks:?}");
        at += c.3.len() as i64;
    }
    // Interleaved as produced: out1 before err1 before out2 ...
    let joined: String = order.iter().map(|(_, t)| t.as_str()).collect();
    let expect_joined: String = (1..=6).map(|i| format!("out{i}\nerr{i}\n")).collect();
    assert_eq!(joined, expect_joined);
    // The rest after the offset is the whole output minus what was read.
    let (rso, rse, _) = texts(&rest);
    assert_eq!(rso.len() + rse.len(), joined.len() - offset as usize);
    assert_eq!(rest["offset"].as_i64().unwrap(), joined.len() as i64);
    assert!(chunks.len() > 1, "several chunks were stored while it ran: {chunks:?}");
    // Replay re-runs it from the record: verified.
    let report = db.replay(s, false).await;
    assert_eq!(report.verdict, "verified", "{report:?}");
}

#[tokio::test]
async fn a_short_command_stores_no_chunks_and_reads_from_its_record() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let admin = db.admin().await;
    let c = u.run(s, "echo hi").await;
    assert_eq!(c.stdout(), "hi\n");
    assert!(stored_chunks(&admin, c.id).await.is_empty(), "echo hi costs no chunk");
    let o = u.client.output(c.id, 0).await.unwrap();
    assert_eq!(o["chunks"], json!([{"stream": "stdout", "offset": 0, "text": "hi\n"}]));
    assert_eq!(o["offset"], 3);
    assert_eq!(u.client.output(c.id, 3).await.unwrap()["chunks"], json!([]));
    // Both streams: the order is kept even for a short command.
    let c = u.run(s, "echo a; echo b >&2; echo c").await;
    let o = u.client.output(c.id, 0).await.unwrap();
    let (_, _, order) = texts(&o);
    assert_eq!(order, vec![("stdout".into(), "a\n".into()), ("stderr".into(), "b\n".into()), ("stdout".into(), "c\n".into())]);
    // A bad offset is refused as bad input.
    let e = u.client.output(c.id, -1).await.unwrap_err();
    assert!(e.to_string().contains("22023"), "{e:#}");
}

#[tokio::test]
async fn users_read_only_their_own_output() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let bob = db.user("bob").await;
    let s = alice.session().await;
    let c = alice.run(s, "echo secret; echo more >&2").await;
    assert_refused(bob.client.output(c.id, 0).await);
    assert_refused(bob.client.output(c.id + 1000, 0).await);
    // An auditor sees it, as api.command lets them.
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "audrey", "auditor", None).await.unwrap();
    let audrey = pg_shell::client::ShellClient::connect(&db.conninfo, "audrey").await.unwrap();
    assert_eq!(texts(&audrey.output(c.id, 0).await.unwrap()).0, "secret\n");
    // End users' roles cannot store chunks themselves (only pgshell_executor may).
    let raw = bob.client.raw();
    raw.batch_execute("begin; set local role pgshell_user").await.unwrap();
    let r = raw
        .query_one(
            "select pgshell.output_append($1, gen_random_uuid(), true, 0, 0, array['stdout'], array['x'::bytea])",
            &[&c.id],
        )
        .await;
    raw.batch_execute("rollback").await.unwrap();
    assert_refused(r);
}

#[tokio::test]
async fn a_rerun_after_a_dead_executor_replaces_the_partial_output() {
    let mut db = TestDb::new().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let admin = db.admin().await;
    let id = u.client.submit(s, "echo real; echo realerr >&2").await.unwrap();
    // An executor claims it, streams some output, and dies (its lease runs out).
    let row = admin.query_one("select claim_token, attempt from pgshell.claim('doomed', 30000, 1)", &[]).await.unwrap();
    let (token, attempt): (uuid::Uuid, i32) = (row.get(0), row.get(1));
    assert_eq!(attempt, 1);
    let ok: bool = admin
        .query_one(
            "select pgshell.output_append($1, $2, true, 0, 0, array['stdout', 'stderr'], array['partial-'::bytea, 'from the dead'::bytea])",
            &[&id, &token],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ok);
    assert_eq!(texts(&u.client.output(id, 0).await.unwrap()).0, "partial-");
    // A token that is not the claim's stores nothing.
    let wrong: bool = admin
        .query_one("select pgshell.output_append($1, gen_random_uuid(), false, 1, 21, array['stdout'], array['x'::bytea])", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(!wrong);
    admin.execute("update pgshell.commands set lease_expires_at = now() - interval '1 s' where id = $1", &[&id]).await.unwrap();
    db.start_executor();
    let done = u.client.wait(id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(done.attempt, 2, "{done:?}");
    let (so, se, _) = texts(&u.client.output(id, 0).await.unwrap());
    assert_eq!((so.as_str(), se.as_str()), ("real\n", "realerr\n"), "the new attempt's output only");
    let chunks = stored_chunks(&admin, id).await;
    assert!(chunks.iter().all(|c| c.0 == 2), "the dead attempt's chunks are gone: {chunks:?}");
    // The dead executor's late batch is refused: the claim is no longer its.
    let late: bool = admin
        .query_one("select pgshell.output_append($1, $2, false, 1, 8, array['stdout'], array['late'::bytea])", &[&id, &token])
        .await
        .unwrap()
        .get(0);
    assert!(!late);
    assert_eq!(stored_chunks(&admin, id).await, chunks);
}

#[tokio::test]
async fn output_is_polled_over_http_and_notifications_carry_only_the_id() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let u = db.user("alice").await;
    db.user("bob").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 20000})).await;
    let serve = Serve::start(&db).await;
    let base = serve.base.clone();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    // A listener of our own sees a notification per stored batch.
    let (listener, mut conn) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) = stream.next().await {
            let _ = tx.send((n.channel().to_string(), n.payload().to_string()));
        }
    });
    listener.batch_execute("listen pg_shell_output").await.unwrap();
    let id = u.client.submit(s, SLOW).await.unwrap();
    let mut offset = 0i64;
    let mut seen = String::new();
    let mut polls_with_news_while_running = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = http
            .get(format!("{base}rpc/output?id={id}&after_offset={offset}"))
            .header("authorization", bearer("alice"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        for c in v["chunks"].as_array().unwrap() {
            seen.push_str(c["text"].as_str().unwrap());
        }
        if v["done"] == true {
            break;
        }
        if !v["chunks"].as_array().unwrap().is_empty() {
            polls_with_news_while_running += 1;
        }
        offset = v["offset"].as_i64().unwrap();
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expect: String = (1..=6).map(|i| format!("out{i}\nerr{i}\n")).collect();
    assert_eq!(seen, expect, "polling from the returned offsets reads everything once, in order");
    assert!(polls_with_news_while_running >= 2, "output arrived while it ran ({polls_with_news_while_running} polls)");
    // Bob's token cannot read Alice's command.
    let r = http
        .get(format!("{base}rpc/output?id={id}&after_offset=0"))
        .header("authorization", bearer("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let mut notes = Vec::new();
    while let Ok(n) = rx.try_recv() {
        notes.push(n);
    }
    assert!(notes.len() >= 2, "{notes:?}");
    assert!(notes.iter().all(|(ch, p)| ch == "pg_shell_output" && p == &id.to_string()), "{notes:?}");
    serve.stop().await;
}

/// An in-process `pg_shell serve` with a JWT secret; stops on drop of the sender.
pub(crate) struct Serve {
    pub(crate) base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

const SECRET: &str = "reallyreallyreallyreallyverysafe";

impl Serve {
    pub(crate) async fn start(db: &TestDb) -> Serve {
        use pg_shell::gateway::{Gateway, GatewayConfig};
        let mut config = GatewayConfig::new(db.conninfo.clone()).with_listen("127.0.0.1:0".parse().unwrap());
        config.jwt_secret = Some(SECRET.as_bytes().to_vec());
        let gw = Gateway::bind(config).await.unwrap();
        let base = gw.url();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gw.run(async {
            let _ = stopped.await;
        }));
        Serve { base, stop: Some(stop), task: Some(task) }
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task.take().unwrap()).await.expect("the gateway stops with streams open").unwrap().unwrap();
    }
}

pub(crate) fn bearer(sub: &str) -> String {
    format!("Bearer {}", pg_shell::gateway::jwt::sign_hs256(&json!({"sub": sub, "role": "pgshell_user"}), SECRET.as_bytes()))
}

/// Reads Server-Sent Events (event name, data) until `done` or the end.
async fn sse_events(resp: reqwest::Response) -> Vec<(String, String, Instant)> {
    let mut resp = resp;
    let (mut buf, mut events) = (String::new(), Vec::new());
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), resp.chunk()).await.expect("an event or keep-alive in time").unwrap() {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut data) = (String::from("message"), Vec::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                }
            }
            if !data.is_empty() {
                events.push((name.clone(), data.join("\n"), Instant::now()));
            }
            if name == "done" {
                return events;
            }
        }
    }
    events
}

#[tokio::test]
async fn serve_pushes_live_output_as_server_sent_events_only_to_the_owner() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let u = db.user("alice").await;
    let bob = db.user("bob").await;
    let s = u.session().await;
    db.set_session_limits(s, json!({"timeout_ms": 20000})).await;
    let serve = Serve::start(&db).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let id = u.client.submit(s, SLOW).await.unwrap();
    // The attack: Bob subscribes to Alice's command (and to one that does not
    // exist): both refused alike, nothing streamed.
    for (who, cmd) in [("bob", id), ("bob", id + 999)] {
        let r = http.get(format!("{}live/command?id={cmd}", serve.base)).header("authorization", bearer(who)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{who} on {cmd}");
        assert!(!r.headers()["content-type"].to_str().unwrap().contains("event-stream"));
        let body = r.text().await.unwrap();
        assert!(!body.contains("out1"), "{body}");
    }
    // Without any credentials: refused too.
    let r = http.get(format!("{}live/command?id={id}", serve.base)).send().await.unwrap();
    assert_ne!(r.status(), 200);
    // A forged notification from Bob wakes nobody into showing him anything.
    bob.client.raw().execute("select pg_notify('pg_shell_output', $1)", &[&id.to_string()]).await.unwrap();
    // Alice follows it: output events while it runs, then the finished entry.
    let r = http.get(format!("{}live/command?id={id}", serve.base)).header("authorization", bearer("alice")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events = sse_events(r).await;
    let (last, outputs) = events.split_last().expect("events");
    assert_eq!(last.0, "done", "{events:?}");
    assert!(last.1.contains("st-done") && last.1.contains("out6"), "the finished entry: {}", last.1);
    let with_news: Vec<&String> = outputs.iter().filter(|e| e.0 == "output").map(|e| &e.1).collect();
    assert!(with_news.len() >= 3, "output events while it ran: {events:?}");
    let first = with_news.iter().find(|h| h.contains("out1")).expect("out1 pushed while it ran");
    assert!(!first.contains("out6") && first.contains("data-status=\"running\""), "{first}");
    assert!(with_news.iter().any(|h| h.contains("<span class=\"err\">err")), "stderr marked: {with_news:?}");
    // The same stream for a finished command is just its entry.
    let r = http.get(format!("{}live/command?id={id}", serve.base)).header("authorization", bearer("alice")).send().await.unwrap();
    let again = sse_events(r).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "done");
    // A long-lived stream does not keep the gateway from stopping.
    let id2 = u.client.submit(s, "sleep 10").await.unwrap();
    let open = http.get(format!("{}live/command?id={id2}", serve.base)).header("authorization", bearer("alice")).send().await.unwrap();
    assert_eq!(open.status(), 200);
    serve.stop().await;
    drop(open);
    u.client.cancel(id2).await.unwrap();
}

#[tokio::test]
async fn ansi_colours_become_classes_and_escapes_never_markup() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let html = |t: &'static str| {
        let admin = &admin;
        async move { admin.query_one("select pgshell.ansi_html($1)", &[&t]).await.unwrap().get::<_, String>(0) }
    };
    assert_eq!(html("plain <b>&").await, "plain &lt;b&gt;&amp;");
    assert_eq!(html("\x1b[1;31mred\x1b[0m x").await, "<span class=\"a-b a-fg1\">red</span> x");
    assert_eq!(html("\x1b[32mg\x1b[1mG\x1b[22mg\x1b[39m.").await, "<span class=\"a-fg2\">g</span><span class=\"a-b a-fg2\">G</span><span class=\"a-fg2\">g</span>.");
    assert_eq!(html("\x1b[38;5;12mb\x1b[48;5;200mx\x1b[38;2;1;2;3my\x1b[m").await,
        "<span class=\"a-fg12\">b</span><span class=\"a-fg12\">x</span><span class=\"a-fg12\">y</span>");
    assert_eq!(html("\x1b[97;104mhi").await, "<span class=\"a-fg15 a-bg12\">hi</span>");
    // Other sequences vanish; none lets text out of the span or into a tag.
    assert_eq!(html("a\x1b[2Kb\x1b[?25lc\x1b7d\x07e").await, "abcde");
    for attack in ["\x1b[31m<script>alert(1)</script>", "\x1b[\"><img src=x>m", "\x1b[31;\"onmouseover=alert(1)m>x", "<\x1b[0mscript>"] {
        let h = admin.query_one("select pgshell.ansi_html($1)", &[&attack]).await.unwrap().get::<_, String>(0);
        let stripped = h.replace("<span class=\"a-fg1\">", "").replace("</span>", "");
        assert!(!stripped.contains('<') && !stripped.contains('>') && !stripped.contains('"'), "{attack:?} -> {h}");
    }
}

#[tokio::test]
async fn exports_download_as_files_and_the_audit_console_reads_as_sentences() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "printf '\\033[1mbold\\033[0m\\n'").await;
    u.run(s, "echo hi").await;
    let serve = Serve::start(&db).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    // Any Accept (a plain link sends text/html,...,*/*): the .cast file.
    let r = http
        .get(format!("{}rpc/session_cast?session_id={s}", serve.base))
        .header("authorization", bearer("alice"))
        .header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-asciicast");
    assert_eq!(r.headers()["content-disposition"].to_str().unwrap(), format!("attachment; filename=\"session-{s}.cast\""));
    let cast = r.text().await.unwrap();
    let mut lines = cast.lines();
    let head: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(head["version"], 2);
    let evs: Vec<Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(evs.iter().all(|e| e.as_array().unwrap().len() == 3 && e[0].is_number()));
    assert!(evs.iter().any(|e| e[2].as_str().unwrap().contains("hi")));
    let r = http.get(format!("{}rpc/session_json?session_id={s}", serve.base)).header("authorization", bearer("alice")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().unwrap().ends_with(".json\""));
    let doc: Value = r.json().await.unwrap();
    assert!(doc.is_object());
    // Bob gets neither.
    db.user("bob").await;
    let r = http.get(format!("{}rpc/session_cast?session_id={s}", serve.base)).header("authorization", bearer("bob")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    serve.stop().await;

    // The console, as an auditor sees it.
    let admin = db.admin().await;
    pg_shell::db::upsert_user(&admin, "audrey", "auditor", None).await.unwrap();
    // Three sessions' chains anchored one after the other: a run of anchors.
    let mut chains = Vec::new();
    for _ in 0..3 {
        chains.push(u.session().await.to_string());
    }
    for c in &chains {
        admin.execute("select pgshell.audit_anchor($1)", &[c]).await.unwrap();
    }
    let audrey = pg_shell::client::ShellClient::connect(&db.conninfo, "audrey").await.unwrap();
    let page: String = audrey.raw().query_one("select api.ui_audit()::text", &[]).await.unwrap().get(0);
    assert!(page.contains("finished command") && page.contains("submitted command"), "{page}");
    assert!(page.contains("verify the audit log"));
    assert!(!page.contains("<td class=\"actor\">postgres</td>"), "the database role is not an actor");
    assert!(page.contains("class=\"executor\""), "executor events name the executor");
    assert!(page.contains("anchor events"), "anchors collapsed");
    assert!(page.matches("<tr class=\"anchors\">").count() >= 1, "a run of anchors is one row");
    let v: String = audrey.raw().query_one("select api.ui_audit_verify()::text", &[]).await.unwrap().get(0);
    assert!(v.contains("verifies"), "{v}");
    assert_refused(u.client.raw().query_one("select api.ui_audit_verify()", &[]).await);
    // The terminal shows colours as classes.
    let term: String = u.client.raw().query_one("select api.ui_session($1)::text", &[&s]).await.unwrap().get(0);
    assert!(term.contains("<span class=\"a-b\">bold</span>"), "{term}");
    assert!(!term.contains('\x1b'));
}
