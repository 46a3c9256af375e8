//! The client's terminal: recorded with each command (`api.submit`'s
//! `terminal`), seen by WASI guests (`isatty`, TERM/COLUMNS/LINES), replayed
//! as recorded; and `api.session_files`, the CLI's Tab completion.

use std::time::Duration;

use pg_shell::client::{CommandView, Terminal};
use uuid::Uuid;

use crate::support::{assert_refused, TestDb, User};

fn tty(columns: u16) -> Terminal {
    Terminal { tty: true, term: Some("xterm-256color".into()), columns: Some(columns), lines: Some(24) }
}

async fn run_at(u: &mut User, s: Uuid, line: &str, t: Option<&Terminal>) -> CommandView {
    let id = u.client.submit_from(s, line, t).await.unwrap();
    u.client.wait(id, Duration::from_secs(60)).await.unwrap()
}

#[tokio::test]
async fn guests_see_the_recorded_terminal_and_replay_it() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "mkdir dir && touch alpha beta gamma delta").await;

    // No terminal: one name a line, no colours, the limits as before.
    let plain = run_at(&mut u, s, "ls --color=auto", None).await;
    assert_eq!(plain.stdout(), "alpha\nbeta\ndelta\ndir\ngamma\n");
    assert!(plain.limits.as_ref().unwrap().get("terminal").is_none(), "{:?}", plain.limits);

    // A terminal 80 columns wide: columns, and colours for --color=auto.
    let t = tty(80);
    let cols = run_at(&mut u, s, "ls", Some(&t)).await;
    assert_eq!(cols.outcome(), "exited", "{cols:?}");
    assert_eq!(cols.stdout().lines().count(), 1, "{:?}", cols.stdout());
    for name in ["alpha", "beta", "delta", "dir", "gamma"] {
        assert!(cols.stdout().contains(name), "{:?}", cols.stdout());
    }
    assert_eq!(cols.limits.as_ref().unwrap()["terminal"], serde_json::to_value(&t).unwrap());
    let narrow = run_at(&mut u, s, "ls", Some(&tty(12))).await;
    assert!(narrow.stdout().lines().count() > 1, "12 columns need several lines: {:?}", narrow.stdout());
    let colour = run_at(&mut u, s, "ls --color=auto", Some(&t)).await;
    assert!(colour.stdout().contains("\x1b["), "{:?}", colour.stdout());
    // Output to a pipe is not the terminal; a tty false client gets no colour.
    let piped = run_at(&mut u, s, "ls --color=auto | cat", Some(&t)).await;
    assert_eq!(piped.stdout(), plain.stdout());
    let not_tty = Terminal { tty: false, ..tty(80) };
    assert_eq!(run_at(&mut u, s, "ls --color=auto", Some(&not_tty)).await.stdout(), plain.stdout());

    // The variables come from the terminal unless the session sets them.
    // (`printenv` is a program; the shell's own `env` builtin lists the
    // session's variables, which the terminal does not change.)
    let env = run_at(&mut u, s, "printenv", Some(&t)).await;
    for v in ["TERM=xterm-256color", "COLUMNS=80", "LINES=24"] {
        assert!(env.stdout().lines().any(|l| l == v), "{v} in {:?}", env.stdout());
    }
    assert!(!run_at(&mut u, s, "printenv", None).await.stdout().contains("COLUMNS="));
    let own = run_at(&mut u, s, "COLUMNS=33 printenv", Some(&t)).await;
    assert!(own.stdout().lines().any(|l| l == "COLUMNS=33"), "{:?}", own.stdout());
    assert!(!own.stdout().lines().any(|l| l == "COLUMNS=80"), "{:?}", own.stdout());

    // Replay runs each command with its recorded terminal: bytes and fuel.
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);

    // Without its terminal, the colour command would not replay: what the
    // replay used is the record.
    let admin = db.admin().await;
    admin
        .execute("update pgshell.commands set limits = limits - 'terminal' where id = $1", &[&colour.id])
        .await
        .unwrap();
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "diverged", "{r:?}");
}

#[tokio::test]
async fn records_without_a_terminal_replay_as_before() {
    // Records made before terminals have no `terminal` in their limits, and
    // commands submitted without one (the web UI, old clients) store none:
    // the limits serialize as before, and replay gives the same bytes and fuel.
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("bob").await;
    let s = u.session().await;
    u.run(s, "touch one two && ls && env").await;
    // The two-argument call of older clients still works.
    let id: i64 = u.client.raw().query_one("select api.submit($1, 'ls --color=auto; echo $COLUMNS')", &[&s]).await.unwrap().get(0);
    let c = u.client.wait(id, Duration::from_secs(60)).await.unwrap();
    assert_eq!(c.stdout(), "one\ntwo\n\n");
    let admin = db.admin().await;
    let rows = admin.query("select limits, fuel_consumed, terminal from pgshell.commands where session_id = $1", &[&s]).await.unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let limits: serde_json::Value = r.get(0);
        assert!(limits.get("terminal").is_none(), "{limits}");
        assert!(r.get::<_, Option<serde_json::Value>>(2).is_none());
        let back: pg_shell::runtime::Limits = serde_json::from_value(limits.clone()).unwrap();
        assert_eq!(back.terminal, None);
        assert_eq!(serde_json::to_value(&back).unwrap(), limits, "the same bytes once read and written again");
    }
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn a_malformed_terminal_is_refused() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let u = db.user("carol").await;
    let s = u.session().await;
    for bad in [
        serde_json::json!({"tty": "yes"}),
        serde_json::json!({"term": "xterm"}),
        serde_json::json!({"tty": true, "term": "xterm; rm -rf /"}),
        serde_json::json!({"tty": true, "term": ""}),
        serde_json::json!({"tty": true, "columns": 0}),
        serde_json::json!({"tty": true, "columns": 1.5}),
        serde_json::json!({"tty": true, "lines": 100000}),
        serde_json::json!({"tty": true, "colour": true}),
        serde_json::json!([true]),
    ] {
        let e = u.client.raw().query_one("select api.submit($1, 'ls', $2)", &[&s, &bad]).await.unwrap_err();
        assert_eq!(e.code().map(|c| c.code()), Some("22023"), "{bad}: {e}");
    }
    // And the column holds only what the check allows, whoever writes it.
    let admin = db.admin().await;
    let id = u.client.submit(s, "true").await.unwrap();
    let e = admin
        .execute("update pgshell.commands set terminal = '{\"tty\": 1}' where id = $1", &[&id])
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("23514"), "{e}");
}

#[tokio::test]
async fn session_files_complete_names_for_the_owner_only() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("dave").await;
    let s = u.session().await;
    assert!(u.client.files(s, "", 10).await.unwrap().is_empty(), "no command ran yet");
    // More than one leaf chunk (64 entries) so nodes are read too.
    u.run(s, "mkdir -p src/deep docs && touch src/main.rs src/mod.rs 'with space' && cd src && for i in $(seq 1 150); do touch ../f$i; done").await;
    let names = |v: Vec<(String, String)>| v.into_iter().map(|(n, k)| format!("{n}:{k}")).collect::<Vec<_>>();
    // The cwd is /src now: relative prefixes start there.
    assert_eq!(names(u.client.files(s, "m", 10).await.unwrap()), ["main.rs:file", "mod.rs:file"]);
    assert_eq!(names(u.client.files(s, "d", 10).await.unwrap()), ["deep:dir"]);
    assert_eq!(names(u.client.files(s, "../do", 10).await.unwrap()), ["docs:dir"]);
    assert_eq!(names(u.client.files(s, "/src/ma", 10).await.unwrap()), ["main.rs:file"]);
    assert_eq!(names(u.client.files(s, "../w", 10).await.unwrap()), ["with space:file"]);
    let all = u.client.files(s, "/f", 1000).await.unwrap();
    assert_eq!(all.len(), 150);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "byte order");
    assert_eq!(u.client.files(s, "/f1", 5).await.unwrap().len(), 5, "at most max_names");
    assert!(u.client.files(s, "/nowhere/x", 10).await.unwrap().is_empty());
    assert!(u.client.files(s, "main.rs/x", 10).await.unwrap().is_empty(), "a file is not a directory");
    assert!(u.client.files(s, "", 0).await.is_err());

    // Another user cannot list them: the answer of a missing session.
    let eve = db.user("eve").await;
    assert_refused(eve.client.files(s, "", 10).await);
    assert_refused(eve.client.files(Uuid::new_v4(), "", 10).await);
}
