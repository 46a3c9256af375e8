//! Pipelines, redirections and command lists: stdout of one stage is the next one's stdin;
//! `<`, `>` and `>>` read and write the session's files, never the host's.

use crate::support::TestDb;

#[tokio::test]
async fn redirections_write_append_and_read_session_files() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let w = u.run(s, "echo hello > f").await;
    assert_eq!((w.stdout(), w.exit_code), ("", Some(0)));
    assert_ne!(w.env_before, w.env_after);
    u.run(s, "echo world >> f").await;
    assert_eq!(u.run(s, "cat f").await.stdout(), "hello\nworld\n");
    assert_eq!(u.run(s, "wc -l < f").await.stdout(), "2\n");
    u.run(s, "mkdir d").await;
    u.run(s, "cd d").await;
    u.run(s, "echo inner>g").await;
    assert_eq!(u.run(s, "cat /d/g").await.stdout(), "inner\n", "relative to the working directory");
    u.run(s, "echo over > ../f").await;
    assert_eq!(u.run(s, "cat /f").await.stdout(), "over\n", "> truncates");
    let e = u.run(s, "cat < missing").await;
    assert_eq!(e.exit_code, Some(2), "a failed redirection is status 2, as in dash");
    assert!(e.stderr().contains("missing: No such file or directory"), "{}", e.stderr());
    let e = u.run(s, "echo x > /").await;
    assert!(e.stderr().contains("Is a directory"), "{}", e.stderr());
    let e = u.run(s, "echo x > nodir/f").await;
    assert!(e.stderr().contains("No such file"), "{}", e.stderr());
}

#[tokio::test]
async fn pipelines_feed_each_stage_into_the_next() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "writefile words 'b\na\nb\nc\na\nb\n'").await;
    let c = u.run(s, "sort < words | uniq -c | sort -rn | head -n 1").await;
    assert_eq!(c.stdout().trim(), "3 b");
    assert_eq!(c.program_kind.as_deref(), Some("pipeline"));
    assert_eq!(u.run(s, "seq 100 | tail -n 2 | wc -l").await.stdout(), "2\n");
    // Builtins take part too (without changing the environment).
    assert_eq!(u.run(s, "pwd | cat").await.stdout(), "/\n");
    assert_eq!(u.run(s, "cd / | cat").await.cwd_after.as_deref(), Some("/"));
    // stdin reaches the guest.
    assert_eq!(u.run(s, "echo 12345 | stdinlen").await.stdout(), "6\n");
    // The exit status is the last stage's; the stderr of every stage is kept.
    let c = u.run(s, "cat missing | wc -c").await;
    assert_eq!((c.exit_code, c.stdout()), (Some(0), "0\n"));
    assert!(c.stderr().contains("missing"));
    // Output of a whole pipeline into a file.
    u.run(s, "seq 3 | sort -r > rev").await;
    assert_eq!(u.run(s, "cat rev").await.stdout(), "3\n2\n1\n");
    // Native and WASI stages mix.
    let admin = db.admin().await;
    // Marked replay-safe: replays may run them again (issue 8, item 5).
    let safe = pg_shell::db::NativeOptions { replay_safe: true, ..Default::default() };
    pg_shell::db::register_native_with(&admin, "necho", "/bin/echo", &safe).await.unwrap();
    pg_shell::db::register_native_with(&admin, "nwc", "/usr/bin/wc", &safe).await.unwrap();
    assert_eq!(u.run(s, "necho native | wc -c").await.stdout(), "7\n");
    assert_eq!(u.run(s, "echo wasi | nwc -c").await.stdout().trim(), "5");
    // A runaway stage is the pipeline's outcome.
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 300})).await;
    let t = u.run(s, "spin | cat").await;
    assert_eq!((t.outcome(), t.exit_code), ("timeout", Some(124)));
    // Replay re-runs and compares every line; none is skipped.
    let r = db.replay(s, true).await;
    let got: Vec<_> = r.results.iter().map(|v| (v.line.as_str(), v.verdict, v.field.as_deref())).collect();
    fn verified(line: &str) -> (&str, &'static str, Option<&'static str>) {
        (line, "verified", None)
    }
    let expected = [
        verified("writefile words 'b\na\nb\nc\na\nb\n'"),
        verified("sort < words | uniq -c | sort -rn | head -n 1"),
        verified("seq 100 | tail -n 2 | wc -l"),
        verified("pwd | cat"),
        verified("cd / | cat"),
        verified("echo 12345 | stdinlen"),
        verified("cat missing | wc -c"),
        verified("seq 3 | sort -r > rev"),
        verified("cat rev"),
        // A line with a native stage: verdicts are per stage, so its output
        // and its WASI stages' fuel are compared, not the native stage's
        // (its fuel is its wall time).
        verified("necho native | wc -c"),
        verified("echo wasi | nwc -c"),
        // A timeout compares the outcome only.
        verified("spin | cat"),
    ];
    assert_eq!(got, expected, "{:#?}", r.results);
    assert_eq!((r.commands, r.verified, r.diverged, r.skipped), (12, 12, 0, 0));
    let native_notes = r.results.iter().filter(|v| v.note.as_deref().is_some_and(|n| n.contains("native stage"))).count();
    assert_eq!(native_notes, 2, "the two lines with a native stage say what was not compared");
}

#[tokio::test]
async fn redirections_never_follow_links_out_of_the_session() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let admin = db.admin().await;
    pg_shell::db::register_native(&admin, "nln", "/bin/ln").await.unwrap();
    let victim = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(victim.path(), "untouched").unwrap();
    let target = victim.path().to_str().unwrap().to_string();
    assert_eq!(u.run(s, &format!("nln -s {target} link")).await.exit_code, Some(0));
    assert_eq!(u.run(s, "nln -s /tmp dirlink").await.exit_code, Some(0));
    for line in ["echo pwned > link", "echo pwned >> link", "echo pwned > dirlink/x", "cat < link", "wc -c < dirlink/x"] {
        let c = u.run(s, line).await;
        assert_eq!(c.exit_code, Some(2), "{line}: a failed redirection is status 2, as in dash: {}", c.stderr());
        assert!(c.stderr().contains("symbolic link") || c.stderr().contains("No such file"), "{line}: {}", c.stderr());
    }
    assert_eq!(std::fs::read_to_string(victim.path()).unwrap(), "untouched");
    assert!(!std::path::Path::new("/tmp/x").exists() || std::fs::read_to_string("/tmp/x").unwrap_or_default() != "pwned\n");
}

#[tokio::test]
async fn command_lists_run_in_order_with_the_state_the_earlier_parts_left() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "mkdir d && cd d && pwd").await;
    assert_eq!((c.stdout(), c.cwd_after.as_deref(), c.exit_code), ("/d\n", Some("/d"), Some(0)));
    assert_eq!(c.program_kind.as_deref(), Some("list"));
    assert_eq!(u.run(s, "export A=1; echo $A").await.stdout(), "1\n", "each part expands when it runs");
    assert_eq!(u.run(s, "echo $A").await.stdout(), "1\n", "and the variable persists");
    let c = u.run(s, "false && echo no; echo yes").await;
    assert_eq!((c.stdout(), c.exit_code), ("yes\n", Some(0)));
    assert_eq!(u.run(s, "false || echo fallback").await.stdout(), "fallback\n");
    let c = u.run(s, "cat missing || echo recovered").await;
    assert_eq!((c.stdout(), c.exit_code), ("recovered\n", Some(0)));
    assert!(c.stderr().contains("missing"));
    let c = u.run(s, "nosuch; echo still").await;
    assert_eq!((c.stdout(), c.exit_code), ("still\n", Some(0)));
    assert!(c.stderr().contains("command not found"), "{}", c.stderr());
    let c = u.run(s, "echo a > f; cat f; cat f | wc -c").await;
    assert_eq!(c.stdout(), "a\n2\n");
    let c = u.run(s, "cd /; ls").await;
    assert_eq!((c.stdout(), c.cwd_after.as_deref()), ("d\n", Some("/")));
    let c = u.run(s, "true && false").await;
    assert_eq!(c.exit_code, Some(1));
    // Virtual time goes on from one part to the next: a sleep moves the clock.
    let c = u.run(s, "clockrand; sleepy 1500; clockrand").await;
    let walls: Vec<i64> = c.stdout().lines().filter_map(|l| l.strip_prefix("wall=")).map(|w| w.parse().unwrap()).collect();
    assert_eq!(walls.len(), 2, "{}", c.stdout());
    assert!(walls[1] - walls[0] >= 1_500_000_000 && walls[1] - walls[0] < 1_600_000_000, "{walls:?}");
    let randoms: Vec<&str> = c.stdout().lines().filter(|l| l.starts_with("random=")).collect();
    assert_ne!(randoms[0], randoms[1], "each part has randomness of its own");
    db.set_session_limits(s, serde_json::json!({"timeout_ms": 300})).await;
    let c = u.run(s, "echo before; spin; echo never").await;
    assert_eq!((c.outcome(), c.stdout()), ("timeout", "before\n"));
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}
