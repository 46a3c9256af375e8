//! File trees stored as content-addressed directory objects: what a change
//! costs, what sessions share, what tampering is caught, and environments
//! stored before the objects existed.

use std::time::Instant;

use pg_shell::env::{sha256, Digest, Entry, SealedTree};
use pg_shell::executor::Executor;

use crate::support::{audit_problems as problems, TestDb};

/// Rows and bytes of `pgshell.tree_objects`.
async fn tree_objects(admin: &tokio_postgres::Client) -> (i64, i64) {
    let r = admin
        .query_one("select count(*), coalesce(sum(length(data)), 0)::bigint from pgshell.tree_objects", &[])
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

fn digest(hex_str: &str) -> Digest {
    Digest::from_hex(hex_str).unwrap()
}

async fn head_root(admin: &tokio_postgres::Client, session: uuid::Uuid) -> Option<Vec<u8>> {
    admin
        .query_one(
            "select e.root from pgshell.sessions s join pgshell.environments e on e.digest = s.head_env where s.id = $1",
            &[&session],
        )
        .await
        .unwrap()
        .get(0)
}

/// The issue's target: a command that changes one file of a flat directory
/// of 9,000 stores less than 16 KiB of tree objects. Also prints how long
/// a cold executor takes to load that environment from objects and from the
/// manifest form it would have had before.
#[tokio::test]
async fn one_file_change_in_a_flat_9000_file_session_stores_under_16_kib() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let admin = db.admin().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for part in 0..3 {
        let names: Vec<String> = (part * 3000..(part + 1) * 3000).map(|i| format!("data-{i:05}.csv")).collect();
        let c = u.run(s, &format!("touch {}", names.join(" "))).await;
        assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    }
    let c = u.run(s, "ls").await;
    assert_eq!(c.stdout().lines().count(), 9000);
    let (_, whole) = tree_objects(&admin).await;

    let before = tree_objects(&admin).await;
    let c = u.run(s, "writefile data-04500.csv changed").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_ne!(c.env_before, c.env_after, "the tree changed");
    let after = tree_objects(&admin).await;
    let (objects, bytes) = (after.0 - before.0, after.1 - before.1);
    println!("one file changed among 9,000: {objects} new tree objects, {bytes} bytes (all three touches stored {whole} bytes)");
    assert!(bytes > 0, "the change stored something");
    assert!(bytes < 16 << 10, "one changed file stored {bytes} bytes of tree objects");

    // A new name and a removed one cost as little.
    for line in ["writefile data-04500.csv.bak x", "rm data-00001.csv"] {
        let before = tree_objects(&admin).await;
        let c = u.run(s, line).await;
        assert_eq!(c.exit_code, Some(0), "{line}: {}", c.stderr());
        let after = tree_objects(&admin).await;
        println!("{line}: {} new tree objects, {} bytes", after.0 - before.0, after.1 - before.1);
        assert!(after.1 - before.1 < 16 << 10, "{line}");
    }
    // A command that changes nothing stores nothing.
    let before = tree_objects(&admin).await;
    let c = u.run(s, "echo hi").await;
    assert_eq!(c.env_before, c.env_after);
    assert_eq!(tree_objects(&admin).await, before);
    let row = admin
        .query_one(
            "select e.file_count, e.tree is null and e.root is not null from pgshell.environments e where e.digest = decode($1, 'hex')",
            &[&c.env_after.clone().unwrap()],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, bool>(1)), (9000, true));
    assert_eq!(problems(&admin).await, Vec::<String>::new(), "audit verify passes on object trees");

    // Load times, each with a cold cache: objects, and the same tree as a manifest.
    let head = digest(&c.env_after.unwrap());
    let ex = Executor::new(db.executor_config()).unwrap();
    let t = Instant::now();
    let env = ex.load_env(&admin, &head).await.unwrap();
    let objects_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!((env.digest, env.env.tree.file_count()), (head, 9000));
    let legacy = env.env.clone().seal_manifest();
    insert_manifest_env(&admin, &legacy.env.tree.manifest(), &legacy).await;
    let ex = Executor::new(db.executor_config()).unwrap();
    let t = Instant::now();
    let loaded = ex.load_env(&admin, &legacy.digest).await.unwrap();
    let manifest_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(loaded.env, env.env);
    println!(
        "cold load of the 9,000-file environment: {objects_ms:.1} ms from objects ({} bytes), {manifest_ms:.1} ms from a manifest ({} bytes)",
        env.objects().unwrap().object_bytes(),
        legacy.env.tree.manifest().len()
    );
}

/// Stores an environment the way migration 0001 did: the manifest as a blob
/// and the environment row pointing at it.
async fn insert_manifest_env(admin: &tokio_postgres::Client, manifest: &[u8], env: &pg_shell::env::SealedEnv) {
    let tree = sha256(manifest);
    admin
        .execute(
            "insert into pgshell.blobs (digest, size, data) values ($1, $2, $3) on conflict do nothing",
            &[&&tree[..], &(manifest.len() as i64), &manifest],
        )
        .await
        .unwrap();
    admin
        .execute(
            "insert into pgshell.environments (digest, cwd, vars, tree, file_count, tree_bytes)
             values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
            &[
                &&env.digest[..],
                &env.env.cwd,
                &serde_json::to_value(&env.env.vars).unwrap(),
                &&tree[..],
                &(env.env.tree.file_count() as i32),
                &(env.env.tree.total_bytes() as i64),
            ],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn sessions_with_the_same_files_share_their_tree_objects() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let admin = db.admin().await;
    let mut u = db.user("alice").await;
    let lines = [
        "mkdir -p lib/sub",
        "writefile lib/sub/a.txt hello",
        "writefile lib/b.txt world",
        "touch -t 200102030405.06 lib/sub/a.txt lib/b.txt lib/sub lib",
    ];
    let a = u.session().await;
    for l in lines {
        let c = u.run(a, l).await;
        assert_eq!(c.exit_code, Some(0), "{l}: {}", c.stderr());
    }
    let b = u.session().await;
    for l in &lines[..3] {
        u.run(b, l).await;
    }
    let before = tree_objects(&admin).await;
    let c = u.run(b, lines[3]).await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_eq!(tree_objects(&admin).await, before, "the second session's tree was stored already");
    assert!(head_root(&admin, a).await.is_some());
    assert_eq!(head_root(&admin, a).await, head_root(&admin, b).await, "the same files, the same root");

    // Another file next to the shared directory: only the root is new.
    let before = tree_objects(&admin).await;
    u.run(b, "writefile other x").await;
    let after = tree_objects(&admin).await;
    assert_eq!(after.0 - before.0, 1, "lib/ and lib/sub/ are shared; only the root directory object is new");

    // End users do not read tree objects directly; executors do.
    admin.batch_execute("begin; set local role pgshell_user").await.unwrap();
    let e = admin.query("select * from pgshell.tree_objects", &[]).await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{e}");
    admin.batch_execute("rollback; begin; set local role pgshell_executor").await.unwrap();
    admin.query("select count(*) from pgshell.tree_objects", &[]).await.unwrap();
    admin.batch_execute("rollback").await.unwrap();
}

#[tokio::test]
async fn a_tampered_tree_object_is_caught_by_audit_and_refused_by_the_executor() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let admin = db.admin().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "mkdir d").await;
    let c = u.run(s, "writefile d/f hello").await;
    assert_eq!(problems(&admin).await, Vec::<String>::new());
    // The constraint refuses a wrong object outright...
    let bad = admin
        .execute("update pgshell.tree_objects set data = data || '\\x00'::bytea where digest = (select digest from pgshell.tree_objects order by digest limit 1)", &[])
        .await;
    let e = bad.expect_err("a tree object must match its digest on write");
    assert_eq!(e.as_db_error().and_then(|d| d.constraint()), Some("tree_objects_digest_matches"), "{e:?}");
    // ...so a tamperer drops it first. Change one mtime byte of d's listing.
    let env = Executor::new(db.executor_config())
        .unwrap()
        .load_env(&admin, &digest(c.env_after.as_ref().unwrap()))
        .await
        .unwrap();
    let SealedTree::Objects(enc) = &env.tree else { panic!("stored as objects") };
    let d_listing = enc.objects.iter().find(|(d, _)| **d != enc.root).map(|(d, _)| *d).unwrap();
    admin
        .batch_execute(&format!(
            "alter table pgshell.tree_objects drop constraint tree_objects_digest_matches;
             update pgshell.tree_objects set data = overlay(data placing '\\x7f'::bytea from length(data) - 32)
             where digest = '\\x{}'",
            hex::encode(d_listing)
        ))
        .await
        .unwrap();
    let p = problems(&admin).await;
    assert!(p.iter().any(|x| x.contains("tree object") && x.contains(&hex::encode(d_listing))), "{p:?}");
    // A cold executor refuses to use the altered tree.
    let err = Executor::new(db.executor_config())
        .unwrap()
        .load_env(&admin, &digest(c.env_after.as_ref().unwrap()))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("does not match its digest"), "{err:#}");
}

/// An environment written as 0001 wrote them (a JSON manifest blob) keeps
/// loading with its digest, is the base of new commands, and replays.
#[tokio::test]
async fn an_environment_stored_as_a_manifest_still_loads_keeps_its_digest_and_replays() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let admin = db.admin().await;
    let mut u = db.user("alice").await;
    let s = u.session().await;

    // Written by hand, as the code before 0004 did, digest computed here.
    let content = b"hello\n";
    let file = sha256(content);
    // Byte for byte as serde serialized `Tree` then (fields in declaration order).
    let manifest = format!(
        r#"{{"d":{{"kind":"dir","mode":493,"mtime_ns":1000000000}},"d/f":{{"kind":"file","digest":"{}","size":6,"mode":420,"mtime_ns":2000000000}},"d/l":{{"kind":"symlink","target":"f"}}}}"#,
        hex::encode(file)
    )
    .into_bytes();
    let tree = sha256(&manifest);
    let vars = serde_json::json!({"HOME": "/", "LANG": "C.UTF-8", "LOGNAME": "alice", "PATH": "/bin", "PWD": "/d", "SHELL": "pg_shell", "USER": "alice"});
    let canonical = format!(r#"{{"cwd":"/d","tree":"{}","vars":{}}}"#, hex::encode(tree), serde_json::to_string(&vars).unwrap());
    let env_digest = sha256(canonical.as_bytes());
    for (d, data) in [(file, &content[..]), (tree, &manifest[..])] {
        admin
            .execute("insert into pgshell.blobs (digest, size, data) values ($1, $2, $3)", &[&&d[..], &(data.len() as i64), &data])
            .await
            .unwrap();
    }
    admin
        .execute(
            "insert into pgshell.environments (digest, cwd, vars, tree, file_count, tree_bytes) values ($1, '/d', $2, $3, 3, 6)",
            &[&&env_digest[..], &vars, &&tree[..]],
        )
        .await
        .unwrap();
    admin.execute("update pgshell.sessions set head_env = $1 where id = $2", &[&&env_digest[..], &s]).await.unwrap();

    let ex = Executor::new(db.executor_config()).unwrap();
    let env = ex.load_env(&admin, &env_digest).await.unwrap();
    assert_eq!(env.digest, env_digest, "the stored digest is the identity");
    assert!(matches!(env.tree, SealedTree::Manifest(d) if d == tree));
    assert_eq!(env.env.tree.get("/d/l"), Some(&Entry::Symlink { target: "f".into() }));

    let c = u.run(s, "cat f").await;
    assert_eq!((c.stdout(), c.exit_code), ("hello\n", Some(0)), "{}", c.stderr());
    assert_eq!(c.env_before.as_deref(), Some(hex::encode(env_digest).as_str()));
    assert_eq!(c.env_after, c.env_before, "reading changes nothing, not even the form");
    let c = u.run(s, "writefile /d/g x").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let after = digest(c.env_after.as_ref().unwrap());
    let r = admin
        .query_one("select tree is null and root is not null from pgshell.environments where digest = $1", &[&&after[..]])
        .await
        .unwrap();
    assert!(r.get::<_, bool>(0), "environments derived from a manifest are stored as objects");
    let c = u.run(s, "cat f g").await;
    assert_eq!(c.stdout(), "hello\nx", "{}", c.stderr());
    let cd = u.run(s, "cd /").await;
    assert_eq!(problems(&admin).await, Vec::<String>::new());
    let report = db.replay(s, true).await;
    assert_eq!((report.verdict, report.verified), ("verified", 4), "{:?}", report.results);

    // A result recorded in the manifest form (as before 0004) is compared by
    // its contents: equal contents verify, other contents diverge.
    let produced = ex.load_env(&admin, &digest(cd.env_after.as_ref().unwrap())).await.unwrap();
    let as_manifest = produced.env.clone().seal_manifest();
    insert_manifest_env(&admin, &as_manifest.env.tree.manifest(), &as_manifest).await;
    let mut other = produced.env.clone();
    other.cwd = "/d".into();
    let other = other.seal_manifest();
    insert_manifest_env(&admin, &other.env.tree.manifest(), &other).await;
    for (recorded, verdict) in [(as_manifest.digest, "verified"), (other.digest, "diverged")] {
        admin
            .execute("update pgshell.commands set env_after = $1 where id = $2", &[&&recorded[..], &cd.id])
            .await
            .unwrap();
        let report = db.replay(s, true).await;
        let v = report.results.iter().find(|v| v.command_id == cd.id).unwrap();
        assert_eq!(v.verdict, verdict, "{v:?}");
    }
}
