//! Issue 11: files into and out of a session with no line-size limit. An
//! upload is a recorded command (`cat > 'PATH'`) whose stdin is a stored
//! blob, fed again on replay; a download reads a file of the session's
//! current environment (the owner's only).

use std::time::Duration;

use serde_json::json;
use sha2::Digest as _;
use uuid::Uuid;

use crate::cli_tty::pg_shell_cmd;
use crate::live::{bearer, Serve};
use crate::support::{assert_refused, TestDb};

/// Deterministic bytes that look random (every byte value, NULs included).
fn noise(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn cp(db: &TestDb, user: &str, from: &str, to: &str) -> std::process::Output {
    tokio::task::block_in_place(|| pg_shell_cmd(db, &["cp", "--user", user, "--no-executor", from, to]))
}

async fn wait(u: &mut crate::support::User, id: i64) -> pg_shell::client::CommandView {
    u.client.wait(id, Duration::from_secs(120)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cp_of_a_5_mib_binary_file_round_trips_is_recorded_and_replays() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("frank").await;
    let s = u.session().await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("data.bin");
    let data = noise(5 << 20, 0x9e3779b97f4a7c15);
    std::fs::write(&local, &data).unwrap();
    u.run(s, "mkdir in").await;

    let out = cp(&db, "frank", local.to_str().unwrap(), &format!("{s}:/in/data.bin"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want = hex::encode(sha2::Sha256::digest(&data));
    let sum = u.run(s, "cd in && sha256sum data.bin").await;
    assert_eq!(sum.stdout().split_whitespace().next(), Some(want.as_str()), "{sum:?}");

    // Back out (into a directory: the file keeps its name), byte for byte.
    let back = tempfile::tempdir().unwrap();
    let out = cp(&db, "frank", &format!("{s}:data.bin"), back.path().to_str().unwrap());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(back.path().join("data.bin")).unwrap() == data, "the copy out differs");

    // One command of the session, in its history, with the bytes as its
    // recorded input (the same blob as the file's contents), audited.
    let history = u.client.history(s).await.unwrap();
    let up = history.iter().find(|c| c.line == "cat > '/in/data.bin'").expect("the upload in the history");
    assert_eq!((up.status.as_str(), up.exit_code), ("done", Some(0)), "{up:?}");
    let admin = db.admin().await;
    let row = admin
        .query_one("select encode(input_digest, 'hex'), (select size from pgshell.blobs b where b.digest = c.input_digest) from pgshell.commands c where id = $1", &[&up.id])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), want);
    assert_eq!(row.get::<_, i64>(1), data.len() as i64);
    let events: Vec<String> = admin
        .query("select event from pgshell.audit_log where command_id = $1 order by id", &[&up.id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(events.starts_with(&["command.submitted".to_string(), "command.input".to_string()]), "{events:?}");
    assert!(events.contains(&"command.completed".to_string()), "{events:?}");
    let problems = crate::support::audit_problems(&admin).await;
    assert!(problems.is_empty(), "{problems:?}");

    // Replay re-runs the upload from its recorded input: verified.
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

/// Export format v3: a session with an upload and a refused upload exports
/// with their recorded input, imports into another cluster and replays
/// verified there; a file whose input was altered or dropped is refused.
#[tokio::test(flavor = "multi_thread")]
async fn an_export_carries_recorded_input_and_replays_in_another_cluster() {
    use pg_shell::transfer;
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("frank").await;
    let s = u.session().await;
    let admin = db.admin().await;
    admin.execute("update pgshell.settings set value = '1000' where name = 'max_upload_bytes'", &[]).await.unwrap();
    let data = noise(900, 11);
    let id: i64 = u.client.raw().query_one("select api.upload($1, 'up.bin', $2)", &[&s, &data]).await.unwrap().get(0);
    assert_eq!(wait(&mut u, id).await.exit_code, Some(0));
    let id: i64 = u.client.raw().query_one("select api.upload($1, 'big.bin', $2)", &[&s, &noise(1001, 12)]).await.unwrap().get(0);
    assert_eq!(wait(&mut u, id).await.outcome(), "rejected");
    u.run(s, "sha256sum up.bin; ls").await;

    let doc = transfer::export(&admin, s, &Default::default()).await.unwrap();
    let text = transfer::write(doc, None).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], transfer::FORMAT_V3);
    let want = hex::encode(sha2::Sha256::digest(&data));
    let c = &doc["commands"];
    assert_eq!((c[0]["input_digest"].as_str(), c[0]["input_refused"].as_str()), (Some(want.as_str()), None), "{:#}", c[0]);
    assert!(c[1]["input_digest"].is_null() && c[1]["input_refused"].as_str().unwrap().contains("max_upload_bytes"), "{:#}", c[1]);
    assert!(c[2]["input_digest"].is_null() && c[2]["input_refused"].is_null(), "{:#}", c[2]);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(b64.decode(doc["blobs"][&want].as_str().expect("the input's blob travels")).unwrap(), data);
    // Output longer than one line of PostgreSQL's base64 (76 characters) is
    // one unbroken string (found here: such exports were refused on import).
    let err = c[1]["stderr_base64"].as_str().unwrap();
    assert!(err.len() > 76 && !err.contains('\n'), "{err}");
    assert!(String::from_utf8(b64.decode(err).unwrap()).unwrap().contains("max_upload_bytes"));

    // Altered or dropped input: refused, saying which.
    let mut bad = doc.clone();
    bad["blobs"][&want] = b64.encode(noise(900, 13)).into();
    let e = transfer::verify(transfer::write(bad, None).unwrap().as_bytes(), None).err().expect("an altered input").to_string();
    assert!(e.contains(&format!("blob {want} does not match")), "{e}");
    let mut bad = doc.clone();
    bad["commands"][0]["input_digest"] = hex::encode(sha2::Sha256::digest(b"other input")).into();
    let e = transfer::verify(transfer::write(bad, None).unwrap().as_bytes(), None).err().expect("another input").to_string();
    assert!(e.contains("recorded input") && e.contains("of command #1 is missing"), "{e}");
    let mut bad = doc.clone();
    bad["commands"][1]["input_digest"] = want.clone().into();
    let e = transfer::verify(transfer::write(bad, None).unwrap().as_bytes(), None).err().expect("input and refusal").to_string();
    assert!(e.contains("command #2's recorded input is malformed"), "{e}");

    // Another cluster: imported with the input, replayed verified.
    let (cluster, conninfo, c) = crate::support::another_cluster().await;
    let opts = pg_shell::replay::ReplayOptions { keep_going: true, ..Default::default() };
    let (session, r) = crate::ci_replay::import_and_replay(&conninfo, &text, "gina", opts).await;
    assert_eq!((r.verdict, r.verified, r.commands), ("verified", 3, 3), "{:?}", r.first_divergence);
    let rows = c
        .query("select encode(input_digest, 'hex'), input_refused from pgshell.commands where session_id = $1 order by seq", &[&session])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, Option<String>>(0).as_deref(), Some(want.as_str()));
    assert!(rows[1].get::<_, Option<String>>(1).is_some_and(|r| r.contains("max_upload_bytes")));
    let problems = crate::support::audit_problems(&c).await;
    assert!(problems.is_empty(), "{problems:?}");
    drop(c);
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_over_the_limit_is_a_recorded_refusal_that_writes_nothing() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("frank").await;
    let s = u.session().await;
    let admin = db.admin().await;
    admin.execute("update pgshell.settings set value = '1000' where name = 'max_upload_bytes'", &[]).await.unwrap();
    u.run(s, "echo old > f.txt").await;

    let data = noise(1001, 7);
    let id: i64 = u.client.raw().query_one("select api.upload($1, 'f.txt', $2)", &[&s, &data]).await.unwrap().get(0);
    let c = wait(&mut u, id).await;
    assert_eq!((c.status.as_str(), c.outcome()), ("done", "rejected"), "{c:?}");
    assert!(c.stderr().contains("1001 bytes") && c.stderr().contains("max_upload_bytes setting allows (1000)") && c.stderr().contains("nothing was written"), "{}", c.stderr());
    // Nothing stored, nothing written: the file is as it was.
    let stored: i64 = admin.query_one("select count(*) from pgshell.blobs where digest = sha256($1)", &[&data]).await.unwrap().get(0);
    assert_eq!(stored, 0);
    assert_eq!(u.run(s, "cat f.txt").await.stdout(), "old\n");

    // At the limit it is written; cp over the limit fails with the reason.
    let ok = noise(1000, 8);
    let id: i64 = u.client.raw().query_one("select api.upload($1, 'f.txt', $2)", &[&s, &ok]).await.unwrap().get(0);
    assert_eq!(wait(&mut u, id).await.exit_code, Some(0));
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, noise(5000, 9)).unwrap();
    let out = cp(&db, "frank", big.to_str().unwrap(), &format!("{s}:/big.bin"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("rejected") && err.contains("max_upload_bytes"), "{err}");
    assert_eq!(u.run(s, "test -e /big.bin").await.exit_code, Some(1));

    // The refusal is part of the record: audit verifies, replay verifies.
    let problems: i64 = admin.query_one("select count(*) from pgshell.audit_problems(100)", &[]).await.unwrap().get(0);
    assert_eq!(problems, 0);
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

/// The SQLSTATE a call failed with.
fn state<T: std::fmt::Debug>(r: Result<T, tokio_postgres::Error>) -> String {
    r.expect_err("the call was refused").code().expect("a database error").code().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_are_the_owners_and_hostile_paths_are_refused() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut alice = db.user("alice").await;
    let s = alice.session().await;
    let secret = noise(70_000, 11);
    let id: i64 = alice.client.raw().query_one("select api.upload($1, 'secret.bin', $2)", &[&s, &secret]).await.unwrap().get(0);
    assert_eq!(wait(&mut alice, id).await.exit_code, Some(0));
    alice.run(s, "mkdir d && ln -s secret.bin link && cd d").await;
    let alice_sql = db.user("alice").await;
    let a = alice_sql.client.raw();
    let get = "select api.session_file($1, $2)::bytea";
    // Relative to the cwd (now /d) or absolute.
    let got: Vec<u8> = a.query_one(get, &[&s, &"/secret.bin"]).await.unwrap().get(0);
    assert!(got == secret);
    alice.run(s, "printf here > here.txt").await;
    let got: Vec<u8> = a.query_one(get, &[&s, &"here.txt"]).await.unwrap().get(0);
    assert_eq!(got, b"here");

    // Bob performs the attack: alice's session, by id, over SQL and HTTP.
    let bob = db.user("bob").await;
    assert_refused(bob.client.raw().query_one(get, &[&s, &"/secret.bin"]).await);
    assert_refused(bob.client.raw().query_one("select api.upload($1, 'x', '\\x00')", &[&s]).await);
    // A session that does not exist answers the same.
    assert_refused(bob.client.raw().query_one(get, &[&Uuid::new_v4(), &"/secret.bin"]).await);

    // Hostile or wrong paths: clear errors.
    let long = "a/".repeat(3000) + "f";
    for (path, code) in [
        ("/../secret.bin", "22023"),
        ("d/../../etc/passwd", "22023"),
        ("a\nb", "22023"),
        ("", "22023"),
        ("/", "22023"),
        ("d/", "22023"),
        (long.as_str(), "22023"),
        ("/missing", "PT404"),
        ("/secret.bin/x", "PT404"),
        ("/d", "PT409"),
        ("/link", "PT409"),
    ] {
        assert_eq!(state(a.query_one(get, &[&s, &path]).await), code, "{path:?}");
    }
    for (path, code) in [("../x", "22023"), ("d/", "22023"), ("a\tb", "22023")] {
        assert_eq!(state(a.query_one("select api.upload($1, $2, '\\x00')", &[&s, &path]).await), code, "{path:?}");
    }
    // NUL cannot reach a text value at all.
    assert!(a.query_one(get, &[&s, &"sec\0ret.bin"]).await.is_err());

    // Over the gateway: a file download, hex bytea in JSON for uploads.
    let serve = Serve::start(&db).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = |path: &str| format!("{}rpc/session_file?session_id={s}&path={}", serve.base, urlencode(path));
    let r = http.get(url("/secret.bin")).header("authorization", bearer("alice")).header("accept", "text/html,*/*;q=0.8").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["content-disposition"].to_str().unwrap(), "attachment; filename=\"secret.bin\"; filename*=UTF-8''secret.bin");
    assert!(r.bytes().await.unwrap() == secret);
    // The function's "*/*" handler answers any media type (but PostgREST's
    // vendored ones), as PostgREST's does: raw bytes, never a JSON string.
    for accept in ["application/octet-stream", "application/json", "text/csv"] {
        let r = http.get(url("/secret.bin")).header("authorization", bearer("alice")).header("accept", accept).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_string()), (200, "application/octet-stream".into()), "{accept}");
        assert!(r.bytes().await.unwrap() == secret, "{accept}");
    }
    let body = json!({"session_id": s, "path": "/d/ünï \"q\";.bin", "content": format!("\\x{}", hex::encode(b"\x00\xffhi"))});
    let r = http.post(format!("{}rpc/upload", serve.base)).header("authorization", bearer("alice")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let id: i64 = r.json().await.unwrap();
    assert_eq!(wait(&mut alice, id).await.exit_code, Some(0));
    let r = http.get(url("/d/ünï \"q\";.bin")).header("authorization", bearer("alice")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"_n_ _q__.bin\"; filename*=UTF-8''%C3%BCn%C3%AF%20%22q%22%3B.bin"
    );
    assert_eq!(&r.bytes().await.unwrap()[..], b"\x00\xffhi");
    for (who, path, status) in [("bob", "/secret.bin", 403), ("alice", "/nope", 404), ("alice", "/d", 409), ("alice", "/../x", 400), ("alice", "a\0b", 400)] {
        let r = http.get(url(path)).header("authorization", bearer(who)).send().await.unwrap();
        assert_eq!(r.status(), status, "{who} {path:?}: {}", r.text().await.unwrap());
    }
    serve.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_collector_keeps_recorded_input_that_no_file_holds() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let admin = db.admin().await;
    let (gone, kept) = (u.session().await, u.session().await);
    u.run(gone, "echo bye > f").await;
    // Into a directory that does not exist: the bytes are only the input.
    let data = noise(10_000, 3);
    let id: i64 = u.client.raw().query_one("select api.upload($1, '/nodir/x', $2)", &[&kept, &data]).await.unwrap().get(0);
    assert_ne!(wait(&mut u, id).await.exit_code, Some(0));
    u.client.raw().execute("select api.close_session($1)", &[&gone]).await.unwrap();
    admin.execute("update pgshell.settings set value = '0.00001' where name = 'retention_days'", &[]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..5 {
        pg_shell::services::cleanup::run_once(&admin, 100).await.unwrap();
    }
    let left: Vec<Uuid> = admin.query("select id from pgshell.sessions", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(left, vec![kept], "the other session was collected");
    let collected: i64 = admin.query_one("select count(*) from pgshell.audit_log where event = 'storage.collected'", &[]).await.unwrap().get(0);
    assert!(collected >= 1, "a collection ran");
    let stored: i64 = admin.query_one("select count(*) from pgshell.blobs where digest = sha256($1)", &[&data]).await.unwrap().get(0);
    assert_eq!(stored, 1, "the recorded input is kept");
    let r = db.replay(kept, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}
