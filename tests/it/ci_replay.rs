//! Replays in CI (issue 13): export a session to a file, import it into
//! another database, replay it there, refuse altered files, mask variables,
//! report as JUnit/JSON, and `replay --file` with a throwaway PostgreSQL
//! that leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use pg_shell::transfer;
use uuid::Uuid;

use crate::support::{cache_dir, TestDb};

/// Files, pipelines, lists and loops; `wc` in exactly #4, #5 and #9.
pub const SCRIPT: &[&str] = &[
    "mkdir d && cd d",
    "printf 'b\\na\\nc\\n' > f.txt",
    "sort f.txt | head -n 2",
    "cat f.txt | wc -l; ls",
    "for i in 1 2 3; do echo \"line $i\" >> n.txt; done; wc -l n.txt",
    "export TOKEN=s3cr3t-value",
    "echo \"token is $TOKEN\"",
    "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i",
    "tr a-z A-Z < f.txt | wc -c",
    "cat missing || echo handled",
    "cd .. && ls d",
];

/// Records SCRIPT as `alice` in `db` (an executor must be running).
pub async fn record(db: &TestDb) -> Uuid {
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for line in SCRIPT {
        let c = u.run(s, line).await;
        assert_eq!(c.status, "done", "{line}: {c:?}");
    }
    s
}

async fn export_file(db: &TestDb, session: Uuid, masks: &[&str], key: Option<&ed25519_dalek::SigningKey>) -> String {
    let client = db.admin().await;
    let opts = transfer::ExportOptions { masks: masks.iter().map(|s| s.to_string()).collect(), signing_key: key.cloned() };
    let doc = transfer::export(&client, session, &opts).await.unwrap();
    transfer::write(doc, key).unwrap()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pg_shell")
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ci_replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Imports `text` into `conninfo` as `user` and replays it with the library.
pub(crate) async fn import_and_replay(conninfo: &str, text: &str, user: &str, opts: pg_shell::replay::ReplayOptions) -> (Uuid, pg_shell::replay::Report) {
    let v = transfer::verify(text.as_bytes(), None).unwrap();
    let mut client = pg_shell::db::connect_plain(conninfo).await.unwrap();
    pg_shell::db::upsert_user(&client, user, "user", None).await.unwrap();
    let imported = transfer::import(&mut client, &v, user).await.unwrap();
    let mut config = pg_shell::executor::ExecutorConfig::new(conninfo.to_string());
    config.cache_dir = Some(cache_dir());
    let ex = pg_shell::executor::Executor::new(config).unwrap();
    let r = pg_shell::replay::replay_session(&ex, &client, imported.session, &opts).await.unwrap();
    (imported.session, r)
}

#[tokio::test]
async fn an_exported_session_replays_verified_in_another_cluster_and_imports_once() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let text = export_file(&db, s, &[], None).await;
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], transfer::FORMAT_V3);
    assert!(doc["commands"][3]["plan"]["programs"]["wc"]["digest"].is_string(), "the plan travels: {}", doc["commands"][3]["plan"]);
    assert!(!doc["tree_objects"].as_object().unwrap().is_empty() && !doc["blobs"].as_object().unwrap().is_empty());

    // Another throwaway cluster: nothing of the recording is there.
    let (cluster, conninfo, mut c) = crate::support::another_cluster().await;
    let opts = pg_shell::replay::ReplayOptions { keep_going: true, ..Default::default() };
    let (session, r) = import_and_replay(&conninfo, &text, "bob", opts).await;
    assert_eq!((r.verdict, r.verified, r.diverged, r.commands), ("verified", SCRIPT.len(), 0, SCRIPT.len()), "{:?}", r.first_divergence);
    let owner: String = c
        .query_one("select u.name from pgshell.sessions s join pgshell.users u on u.id = s.owner_id where s.id = $1", &[&session])
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, "bob", "the importing user owns the new session");
    // The imported records satisfy every audit check of the new database.
    let problems = crate::support::audit_problems(&c).await;
    assert!(problems.is_empty(), "{problems:#?}");
    // The same file again: the same session, nothing added.
    let v = transfer::verify(text.as_bytes(), None).unwrap();
    let again = transfer::import(&mut c, &v, "bob").await.unwrap();
    assert_eq!((again.session, again.created), (session, false));
    let sessions: i64 = c.query_one("select count(*) from pgshell.sessions", &[]).await.unwrap().get(0);
    let commands: i64 = c.query_one("select count(*) from pgshell.commands", &[]).await.unwrap().get(0);
    assert_eq!((sessions, commands), (1, SCRIPT.len() as i64));
    drop(c);
    drop(cluster);
}

/// Rewrites the integrity digest as someone altering the file on purpose would.
fn rehash(doc: &mut serde_json::Value) -> String {
    doc.as_object_mut().unwrap().remove("integrity");
    transfer::write(doc.clone(), None).unwrap()
}

#[tokio::test]
async fn an_altered_file_is_refused_with_a_clear_message() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let text = export_file(&db, s, &[], Some(&key)).await;
    let vk = key.verifying_key();
    transfer::verify(text.as_bytes(), Some(&vk)).expect("the file as written verifies");

    // One byte of a command's output bytes.
    let key_at = "\"stdout_base64\": \"";
    let at = text.match_indices(key_at).map(|(i, _)| i + key_at.len()).find(|&i| text.as_bytes()[i] != b'"').unwrap();
    let mut bytes = text.clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let e = transfer::verify(&bytes, None).err().expect("refused").to_string();
    assert!(e.contains("does not match its sha256") && e.contains("altered"), "{e}");
    // One byte of whitespace.
    let at = text.find("\n  ").unwrap() + 1;
    let mut bytes = text.clone().into_bytes();
    bytes[at] = b'\t';
    let e = transfer::verify(&bytes, None).err().expect("refused").to_string();
    assert!(e.contains(&format!("byte {at} differs")), "{e}");

    // Altered and re-hashed: the signature no longer verifies...
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sig = doc["integrity"]["signature"].clone();
    doc["commands"][2]["stdout_base64"] = base64::engine::general_purpose::STANDARD.encode("z\n").into();
    let mut forged = rehash(&mut doc);
    let e = transfer::verify(forged.as_bytes(), Some(&vk)).err().expect("refused").to_string();
    assert!(e.contains("not signed"), "{e}");
    let mut d2: serde_json::Value = serde_json::from_str(&forged).unwrap();
    d2["integrity"]["signature"] = sig;
    forged = serde_json::to_string_pretty(&d2).unwrap() + "\n";
    let e = transfer::verify(forged.as_bytes(), Some(&vk)).err().expect("refused").to_string();
    assert!(e.contains("signature does not verify"), "{e}");
    let other = ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    let e = transfer::verify(text.as_bytes(), Some(&other)).err().expect("refused").to_string();
    assert!(e.contains("signed by another key"), "{e}");

    // ...and without a signature, each content digest is checked on its own.
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (k, _) = doc["blobs"].as_object().unwrap().iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
    doc["blobs"][&k] = base64::engine::general_purpose::STANDARD.encode("forged contents").into();
    let e = transfer::verify(rehash(&mut doc).as_bytes(), None).err().expect("refused").to_string();
    assert!(e.contains(&format!("blob {k} does not match its digest")), "{e}");
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let envs = doc["environments"].as_array_mut().unwrap();
    let i = envs.iter().position(|e| e["vars"]["TOKEN"].is_string()).unwrap();
    envs[i]["vars"]["TOKEN"] = "other".into();
    let e = transfer::verify(rehash(&mut doc).as_bytes(), None).err().expect("refused").to_string();
    assert!(e.contains("does not match its digest (its cwd, variables or shell state were altered)"), "{e}");

    // The CLI says so and imports nothing.
    let path = tmp("altered.json");
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new(bin())
        .args(["import", "--user", "mallory"])
        .arg(&path)
        .env("DATABASE_URL", &db.conninfo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("refusing the file"), "{stderr}");
    let n: i64 = db
        .admin()
        .await
        .query_one("select count(*) from pgshell.sessions s join pgshell.users u on u.id = s.owner_id where u.name = 'mallory'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn against_current_reports_exactly_the_changed_commands_in_junit() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let path = tmp("against-current.json");
    std::fs::write(&path, export_file(&db, s, &[], None).await).unwrap();
    // Today's `wc` is another program.
    let mut admin = db.admin().await;
    pg_shell::db::register_wasi(&mut admin, pg_shell::bundled::FIXTURES.wasm, &["wc"], "not wc").await.unwrap();
    let junit = tmp("against-current.xml");
    let json = tmp("against-current-report.json");
    let out = Command::new(bin())
        .args(["replay", "--user", "carol", "--against-current", "--continue", "--file"])
        .arg(&path)
        .arg("--report")
        .arg("junit")
        .arg(&junit)
        .arg("--report")
        .arg("json")
        .arg(&json)
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_CACHE_DIR", cache_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "divergence exits 1: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let diverged: Vec<i64> = report["replay"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["verdict"] == "diverged")
        .map(|v| v["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(diverged, [4, 5, 9], "exactly the lines that run wc: {stdout}");
    assert_eq!(report["exit_code"], 1);

    let xml = std::fs::read_to_string(&junit).unwrap();
    let tree = roxmltree::Document::parse(&xml).expect("the JUnit report is well-formed XML");
    let cases: Vec<_> = tree.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), SCRIPT.len(), "one test case per command");
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert_eq!(failed, [format!("#4 {}", SCRIPT[3]), format!("#5 {}", SCRIPT[4]), format!("#9 {}", SCRIPT[8])]);
    let failure = cases[3].children().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(failure.attribute("message").unwrap().contains("stdout differs"), "{xml}");
    let body = failure.text().unwrap();
    assert!(body.contains("- 3") && body.contains("+ "), "the failure carries a diff: {body}");
    let suites: Vec<_> = tree.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites[0].attribute("failures"), Some("3"));

    // Without --against-current the recorded plan still runs: verified, exit 0.
    let out = Command::new(bin())
        .args(["replay", "--user", "carol", "--file"])
        .arg(&path)
        .env("DATABASE_URL", &db.conninfo)
        .env("PG_SHELL_CACHE_DIR", cache_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn masked_variables_leave_the_file_and_their_commands_are_not_comparable() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let text = export_file(&db, s, &["TOKEN"], None).await;
    assert!(!text.contains("s3cr3t-value"), "the value is nowhere in the file");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["masks"], serde_json::json!(["TOKEN"]));
    assert_eq!(doc["masked_seqs"], serde_json::json!([6, 7]), "the commands that set and print it");
    for c in doc["commands"].as_array().unwrap() {
        let out = base64::engine::general_purpose::STANDARD.decode(c["stdout_base64"].as_str().unwrap()).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("s3cr3t"), "{c}");
    }
    let opts = pg_shell::replay::ReplayOptions { keep_going: true, ..Default::default() };
    let target = TestDb::new().await;
    let (_, r) = import_and_replay(&target.conninfo, &text, "dave", opts).await;
    let verdicts: Vec<(i32, &str)> = r.results.iter().map(|v| (v.seq, v.verdict)).filter(|(_, v)| *v != "verified").collect();
    assert_eq!(verdicts, [(6, "not_comparable"), (7, "not_comparable")], "{:?}", r.first_divergence);
    assert_eq!((r.verdict, r.not_comparable, r.verified), ("verified", 2, SCRIPT.len() - 2));

    // A value that reached a file's contents cannot be masked: refused, never left in.
    let mut u = db.user("alice").await;
    u.run(s, "echo $TOKEN > leak").await;
    let client = db.admin().await;
    let opts = transfer::ExportOptions { masks: vec!["TOKEN".into()], signing_key: None };
    let e = transfer::export(&client, s, &opts).await.err().expect("refused").to_string();
    assert!(e.contains("cannot mask TOKEN") && e.contains("/leak"), "{e}");
    let opts = transfer::ExportOptions { masks: vec!["NOPE".into()], signing_key: None };
    let e = transfer::export(&client, s, &opts).await.err().expect("refused").to_string();
    assert!(e.contains("no environment of this session has that variable"), "{e}");
}

/// The postmaster processes whose command line names `dir`.
fn processes_under(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&needle) {
                found.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

#[tokio::test]
async fn replay_file_without_a_database_leaves_no_process_or_directory() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let path = tmp("standalone.json");
    std::fs::write(&path, export_file(&db, s, &[], None).await).unwrap();
    let json = tmp("standalone-report.json");
    let out = Command::new(bin())
        .args(["replay", "--file"])
        .arg(&path)
        .arg("--report")
        .arg("json")
        .arg(&json)
        .env_remove("DATABASE_URL")
        .env_remove("PG_CONN")
        .env("PG_SHELL_USER", "ci")
        .env("PG_SHELL_CACHE_DIR", cache_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("verified: {n} of {n} commands verified", n = SCRIPT.len())), "{stdout}");
    let dir = stderr
        .lines()
        .find_map(|l| l.strip_prefix("pg_shell: replaying in a throwaway PostgreSQL in "))
        .and_then(|l| l.strip_suffix(" (removed at exit)"))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no cluster directory named: {stderr}"));
    assert!(dir.starts_with("/tmp") || dir.is_absolute());
    assert!(!dir.exists(), "{} is left behind", dir.display());
    assert_eq!(processes_under(&dir), Vec::<String>::new(), "processes left behind");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!((report["replay"]["verdict"].as_str(), report["exit_code"].as_i64()), (Some("verified"), Some(0)));

    // A file that cannot be read is "could not run": exit 2, still nothing left.
    let out = Command::new(bin())
        .args(["replay", "--file", "/nonexistent/session.json"])
        .env_remove("DATABASE_URL")
        .env_remove("PG_CONN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The session the repository's CI replays (`.ci/run`): tests/sessions/ci.json,
/// recorded from SCRIPT. Kept as it is while it still replays verified with
/// this build and holds SCRIPT; otherwise recorded again and rewritten (a
/// new toolchain gives the bundled modules new digests).
#[tokio::test]
async fn the_committed_ci_session_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sessions/ci.json");
    let current = match std::fs::read_to_string(&path) {
        Ok(text) => committed_still_replays(&text).await,
        Err(_) => false,
    };
    if !current {
        let mut db = TestDb::new().await;
        db.start_executor();
        let s = record(&db).await;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, export_file(&db, s, &[], None).await).unwrap();
        eprintln!("recorded {} again", path.display());
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(committed_still_replays(&text).await, "{} does not replay verified", path.display());
}

async fn committed_still_replays(text: &str) -> bool {
    let Ok(v) = transfer::verify(text.as_bytes(), None) else { return false };
    let lines: Vec<&str> = v.doc["commands"].as_array().into_iter().flatten().filter_map(|c| c["line"].as_str()).collect();
    if lines != SCRIPT {
        return false;
    }
    let db = TestDb::new().await;
    let client = db.admin().await;
    if !transfer::missing_modules(&client, &v.doc).await.unwrap().is_empty() {
        return false;
    }
    let (_, r) = import_and_replay(&db.conninfo, text, "ci", Default::default()).await;
    r.verdict == "verified"
}

#[tokio::test]
async fn v1_files_still_import_where_their_environments_are() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let v1: serde_json::Value = db.admin().await.query_one("select pgshell.export_json($1)", &[&s]).await.unwrap().get(0);
    let text = serde_json::to_string_pretty(&v1).unwrap();
    let v = transfer::verify(text.as_bytes(), None).unwrap();
    assert_eq!(v.format, transfer::FORMAT_V1);
    assert!(v.notes.iter().any(|n| n.contains("no digest over the file")), "{:?}", v.notes);
    // Into the database that holds its environments: a session that replays.
    let (_, r) = import_and_replay(&db.conninfo, &text, "erin", Default::default()).await;
    assert_eq!((r.verdict, r.verified), ("verified", SCRIPT.len()), "{:?}", r.first_divergence);
    // Elsewhere: refused, saying why.
    let other = TestDb::new().await;
    let mut c = other.admin().await;
    pg_shell::db::upsert_user(&c, "erin", "user", None).await.unwrap();
    let e = transfer::import(&mut c, &v, "erin").await.err().expect("refused").to_string();
    assert!(e.contains("environments the file names are not in this database") && e.contains(transfer::FORMAT_V3), "{e}");
}

#[tokio::test]
async fn the_cli_signs_exports_and_import_requires_the_trusted_key() {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let mut db = TestDb::new().await;
    db.start_executor();
    let s = record(&db).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let (secret, public, stranger) = (tmp("team.key"), tmp("team.pub"), tmp("other.pub"));
    std::fs::write(&secret, key.to_pkcs8_pem(Default::default()).unwrap().as_bytes()).unwrap();
    std::fs::write(&public, key.verifying_key().to_public_key_pem(Default::default()).unwrap()).unwrap();
    std::fs::write(&stranger, hex::encode(ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]).verifying_key().as_bytes())).unwrap();
    let file = tmp("signed.json");
    let out = Command::new(bin())
        .args(["export", &s.to_string(), "--mask", "TOKEN", "--sign"])
        .arg(&secret)
        .arg("-o")
        .arg(&file)
        .env("DATABASE_URL", &db.conninfo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let import = |key: &Path| {
        Command::new(bin())
            .args(["import", "--user", "frank", "--verify-key"])
            .arg(key)
            .arg(&file)
            .env("DATABASE_URL", &db.conninfo)
            .output()
            .unwrap()
    };
    let out = import(&stranger);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("signed by another key"), "{stderr}");
    let first = import(&public);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let again = import(&public);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already imported"), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(first.stdout, again.stdout, "the same session both times");
    let session: Uuid = String::from_utf8_lossy(&first.stdout).trim().parse().unwrap();
    let row = db
        .admin()
        .await
        .query_one("select signed_by, masks from pgshell.imports where session_id = $1", &[&session])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0), Some(hex::encode(key.verifying_key().as_bytes())));
    assert_eq!(row.get::<_, serde_json::Value>(1), serde_json::json!(["TOKEN"]));
}
