//! The shell language and the session environment: builtins, variables,
//! files carried from one command to the next.

use crate::support::TestDb;

#[tokio::test]
async fn the_first_session_from_the_issue() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;

    let c = u.run(s, "echo hello").await;
    assert_eq!((c.stdout(), c.exit_code, c.outcome()), ("hello\n", Some(0), "exited"));
    assert_eq!(c.program_kind.as_deref(), Some("builtin"), "echo is the shell's, as in dash");
    let c = u.run(s, "basename /x/hello").await;
    assert_eq!((c.stdout(), c.program_kind.as_deref()), ("hello\n", Some("wasi")));
    assert!(c.fuel.unwrap() > 0, "a WASI command records its fuel");

    let c = u.run(s, "mkdir d").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let c = u.run(s, "cd d").await;
    assert_eq!((c.exit_code, c.cwd_after.as_deref()), (Some(0), Some("/d")));
    let c = u.run(s, "pwd").await;
    assert_eq!(c.stdout(), "/d\n");
    let c = u.run(s, "touch f").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let c = u.run(s, "ls").await;
    assert_eq!(c.stdout(), "f\n");
    let c = u.run(s, "ls /").await;
    assert_eq!(c.stdout(), "d\n", "the file was created in the working directory, not at the root");
    let c = u.run(s, "cat missing").await;
    assert_eq!(c.exit_code, Some(1));
    assert!(c.stderr().contains("missing") && c.stderr().contains("No such file"), "{}", c.stderr());
}

#[tokio::test]
async fn cd_and_export_persist_into_later_commands() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    assert_eq!(u.run(s, "export GREETING='hi there'").await.exit_code, Some(0));
    assert_eq!(u.run(s, "echo \"$GREETING\" ${GREETING}").await.stdout(), "hi there hi there\n");
    // Guests see the session's variables.
    let c = u.run(s, "whereami").await;
    assert!(c.stdout().lines().any(|l| l == "GREETING=hi there"), "{}", c.stdout());
    assert_eq!(u.run(s, "unset GREETING").await.exit_code, Some(0));
    assert_eq!(u.run(s, "echo [$GREETING]").await.stdout(), "[]\n");

    u.run(s, "mkdir -p a/b").await;
    assert_eq!(u.run(s, "cd a/b").await.cwd_after.as_deref(), Some("/a/b"));
    assert_eq!(u.run(s, "cd ..").await.cwd_after.as_deref(), Some("/a"));
    let c = u.run(s, "cd nowhere").await;
    assert_eq!((c.exit_code, c.cwd_after.as_deref()), (Some(2), Some("/a")), "dash's status for a failed cd");
    assert_eq!(u.run(s, "env").await.stdout().lines().find(|l| l.starts_with("PWD=")), Some("PWD=/a"));
    let h = u.run(s, "history 2").await;
    assert_eq!(h.stdout().lines().count(), 2);
    assert!(h.stdout().contains("cd nowhere"), "{}", h.stdout());
}

#[tokio::test]
async fn a_file_written_by_one_command_is_read_by_the_next() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let w = u.run(s, "writefile notes.txt 'line one'").await;
    assert_eq!(w.exit_code, Some(0), "{}", w.stderr());
    assert_ne!(w.env_before, w.env_after, "writing a file makes a new environment version");
    assert_eq!(u.run(s, "cat notes.txt").await.stdout(), "line one");
    assert_eq!(u.run(s, "cp notes.txt copy.txt").await.exit_code, Some(0));
    let expected = format!("{}  copy.txt\n", hex::encode(pg_shell::env::sha256(b"line one")));
    assert_eq!(u.run(s, "sha256sum copy.txt").await.stdout(), expected);
    assert_eq!(u.run(s, "rm notes.txt").await.exit_code, Some(0));
    assert_eq!(u.run(s, "ls").await.stdout(), "copy.txt\n");

    // Identical contents are stored once.
    let admin = db.admin().await;
    let n: i64 = admin
        .query_one("select count(*) from pgshell.blobs where digest = sha256('line one'::bytea)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_read_only_command_keeps_the_environment_version() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let w = u.run(s, "writefile a 'one\ntwo\n'").await;
    assert_eq!(w.exit_code, Some(0), "{}", w.stderr());
    assert_ne!(w.env_before, w.env_after, "the write made a new version");
    // A directory listing, a file read and a pipeline that only reads: each
    // must really run (and see the file) for the comparison to mean anything.
    let reads: [(&str, fn(&str) -> bool); 3] = [
        ("ls -l", |out| out.lines().any(|l| l.starts_with('-') && l.ends_with(" a"))),
        ("cat a", |out| out == "one\ntwo\n"),
        ("cat a | wc -l", |out| out == "2\n"),
    ];
    for (line, saw_the_file) in reads {
        let c = u.run(s, line).await;
        assert_eq!((c.outcome(), c.exit_code), ("exited", Some(0)), "{line}: {}", c.stderr());
        assert!(saw_the_file(c.stdout()), "{line}: {:?}", c.stdout());
        assert_eq!(c.env_before, w.env_after, "{line} starts from the write's environment");
        assert_eq!(c.env_before, c.env_after, "{line} keeps the environment version");
    }
}

#[tokio::test]
async fn guests_reach_the_parent_of_a_top_level_directory() {
    // wasi-libc resolves a path through the longest matching preopen; a
    // top-level directory preopened under its own name would refuse `..`
    // as an escape. Guests see `..` as a shell user expects.
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    assert_eq!(u.run(s, "mkdir -p d/sub e && echo top > f && cd d/sub").await.exit_code, Some(0));
    let c = u.run(s, "ls ../..").await;
    assert_eq!((c.stdout(), c.exit_code), ("d\ne\nf\n", Some(0)), "{}", c.stderr());
    let c = u.run(s, "cd /d && cat ../f && ls /e/../d && cp ../f ../e/g && cat /e/g").await;
    assert_eq!((c.stdout(), c.exit_code), ("top\nsub\ntop\n", Some(0)), "{}", c.stderr());
    let c = u.run(s, "cd /e && realpath .. && ls ../d/..").await;
    assert_eq!((c.stdout(), c.exit_code), ("/\nd\ne\nf\n", Some(0)), "{}", c.stderr());
    // A directory named as an argument still gets its own preopen (as
    // `wasmtime --dir d prog d` gives), and paths through it still work.
    let c = u.run(s, "cd / && ls d && ls d/..").await;
    assert_eq!((c.stdout(), c.exit_code), ("sub\nd\ne\nf\n", Some(0)), "{}", c.stderr());
}
