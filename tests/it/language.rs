//! The shell language as a recorded, replayable thing: state that persists
//! between lines, limits that apply to the whole line through the one
//! budget, and replays of lines that used loops, substitutions, globbing
//! and functions. (What each construct prints is checked against dash in
//! posix.rs.)

use std::time::Duration;

use crate::support::TestDb;

#[tokio::test]
async fn variables_functions_and_options_persist_between_lines() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "greet() { echo \"hello $1 from $where\"; }; where=here; set -u; set -- a b").await;
    let c = u.run(s, "greet you; echo $# $2").await;
    assert_eq!(c.stdout(), "hello you from here\n2 b\n");
    // set -u is still on: an unset variable is an error that ends the line.
    let c = u.run(s, "echo $nosuch; echo never").await;
    assert_eq!((c.stdout(), c.exit_code), ("", Some(2)));
    assert!(c.stderr().contains("nosuch: parameter not set"), "{}", c.stderr());
    // An unexported variable is not in a program's environment; an exported one is.
    let c = u.run(s, "set +u; export shown=1; whereami").await;
    assert!(c.stdout().lines().any(|l| l == "shown=1"), "{}", c.stdout());
    assert!(!c.stdout().lines().any(|l| l.starts_with("where=")), "{}", c.stdout());
    // A prefix assignment is for that command only.
    let c = u.run(s, "only=1 whereami; echo \"[$only]\"").await;
    assert!(c.stdout().lines().any(|l| l == "only=1"), "{}", c.stdout());
    assert!(c.stdout().ends_with("[]\n"), "{}", c.stdout());
    // A subshell's changes do not leak.
    let c = u.run(s, "(cd /; x=sub; greet() { :; }); echo \"$x\"; greet me").await;
    assert_eq!(c.stdout(), "\nhello me from here\n");
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn loops_substitutions_globs_and_functions_replay_bit_for_bit() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let lines = [
        "for i in 1 2 3 4 5; do echo \"line $i\" > f$i.txt; done; ls",
        "n=0; for f in *.txt; do n=$((n + $(wc -l < $f))); done; echo $n",
        "fib() { if [ $1 -le 1 ]; then echo $1; else echo $(( $(fib $(($1 - 1))) + $(fib $(($1 - 2))) )); fi; }; fib 10",
        "i=0; while [ $i -lt 20 ]; do i=$((i+1)); printf '%s\\n' $i; done | sort -n | tail -3",
        "cat f*.txt | while read a b; do case $b in 1|3) echo odd $b;; *) echo even $b;; esac; done",
        "x=$(seq 1 1000 | wc -l); echo \"${x##* }\" \"${#x}\"",
    ];
    let mut outs = Vec::new();
    for l in lines {
        let c = u.run(s, l).await;
        assert_eq!((c.outcome(), c.exit_code), ("exited", Some(0)), "{l}: {}", c.stderr());
        outs.push(c.stdout().to_string());
    }
    assert_eq!(outs[0], "f1.txt\nf2.txt\nf3.txt\nf4.txt\nf5.txt\n");
    assert_eq!(outs[1], "5\n");
    assert_eq!(outs[2], "55\n");
    assert_eq!(outs[3], "18\n19\n20\n");
    assert_eq!(outs[4], "odd 1\neven 2\nodd 3\neven 4\neven 5\n");
    assert_eq!(outs[5], "1000 4\n");
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn a_busy_loop_ends_as_a_timeout_and_replays_identically() {
    let mut db = TestDb::new().await;
    let mut config = db.executor_config();
    config.command_timeout = Some(Duration::from_secs(2));
    db.start_executor_with(config);
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for line in ["while true; do :; done", "f() { f; }; while :; do x=$((x+1)); done", "yes() { while :; do echo y; done; }; yes | cat > /dev/null"] {
        let started = std::time::Instant::now();
        let c = u.run(s, line).await;
        let took = started.elapsed();
        if line.contains("/dev/null") {
            // /dev does not exist in the session: a clear failure, not a hang.
            assert!(c.stderr().contains("dev/null"), "{line}: {}", c.stderr());
            continue;
        }
        assert_eq!((c.outcome(), c.exit_code), ("timeout", Some(124)), "{line}: {}", c.stderr());
        assert!(c.stderr().contains("timed out after 2000 ms"), "{line}: {}", c.stderr());
        assert!(took < Duration::from_secs(13), "{line}: ended by the budget, not the backstop: {took:?}");
    }
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn a_line_cannot_start_more_program_runs_than_allowed() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, serde_json::json!({"max_runs": 50})).await;
    let c = u.run(s, "i=0; while [ $i -lt 100 ]; do basename x; i=$((i+1)); done; echo never").await;
    assert_eq!(c.outcome(), "error", "{}", c.stderr());
    assert_eq!(c.stdout().lines().count(), 50, "the first 50 runs ran");
    assert!(c.stderr().contains("more than 50 program runs"), "{}", c.stderr());
    assert!(c.error.as_deref().unwrap_or("").contains("max_runs"), "{:?}", c.error);
    // Builtins are not program runs.
    let c = u.run(s, "i=0; while [ $i -lt 100 ]; do echo x; i=$((i+1)); done | wc -l").await;
    assert_eq!((c.outcome(), c.stdout()), ("exited", "100\n"));
}

#[tokio::test]
async fn the_interpreters_memory_counts_against_the_limit() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    db.set_session_limits(s, serde_json::json!({"memory_bytes": 32 << 20})).await;
    let c = u.run(s, "a=x; while :; do a=$a$a; done").await;
    assert_eq!(c.outcome(), "memory_limit", "{}", c.stderr());
    assert!(c.stderr().contains("memory limit"), "{}", c.stderr());
    // The refused value was never assigned; what `a` held before it stays.
    let c = u.run(s, "echo ${#a}; unset a").await;
    let kept: u64 = c.stdout().trim().parse().unwrap();
    assert!(kept > (4 << 20) && kept <= (32 << 20), "{kept}");
    let c = u.run(s, "x=$(seq 1 10000000); echo never").await;
    assert_eq!(c.outcome(), "memory_limit", "{}", c.stderr());
    assert!(!c.stdout().contains("never"));
    // Within the limit all is well.
    let c = u.run(s, "x=$(seq 1 1000); echo ${#x}").await;
    assert_eq!((c.outcome(), c.stdout()), ("exited", "3892\n"));
}

#[tokio::test]
async fn background_jobs_and_deep_nesting_are_refused_clearly() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let c = u.run(s, "echo a & echo b").await;
    assert_eq!(c.outcome(), "rejected");
    assert!(c.stderr().contains("background"), "{}", c.stderr());
    assert_eq!(c.stdout(), "", "nothing ran");
    let deep = format!("{}echo x{}", "(".repeat(5000), ")".repeat(5000));
    let c = u.run(s, &deep).await;
    assert_eq!(c.outcome(), "rejected", "{}", c.stderr());
    assert!(c.stderr().contains("nests"), "{}", c.stderr());
    let subst = format!("echo {}x{}", "$(echo ".repeat(300), ")".repeat(300));
    let c = u.run(s, &subst).await;
    assert_eq!((c.outcome(), c.stdout()), ("exited", "x\n"), "{}", c.stderr());
    let c = u.run(s, "f() { f; }; f").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("nest deeper"), "{}", c.stderr());
    // The executor is still there.
    assert_eq!(u.run(s, "echo alive").await.stdout(), "alive\n");
}

#[tokio::test]
async fn globbing_follows_the_operator_setting() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "touch b.txt a.txt B.txt .h.txt").await;
    assert_eq!(u.run(s, "echo *.txt").await.stdout(), "B.txt a.txt b.txt\n");
    assert_eq!(u.run(s, "echo *.none").await.stdout(), "*.none\n", "unmatched stays as typed");
    assert_eq!(u.run(s, "set -f; echo *.txt; set +f").await.stdout(), "*.txt\n");
    db.set_session_limits(s, serde_json::json!({"glob": false})).await;
    assert_eq!(u.run(s, "echo *.txt").await.stdout(), "*.txt\n", "glob off: words as shlex gives them");
}

#[tokio::test]
async fn xargs_and_help_are_the_shells() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "printf 'a.txt\\nb.txt\\n' > list; touch a.txt b.txt").await;
    let c = u.run(s, "cat list | xargs ls -1").await;
    assert_eq!((c.stdout(), c.exit_code), ("a.txt\nb.txt\n", Some(0)), "{}", c.stderr());
    let c = u.run(s, "seq 1 5 | xargs -n 2 echo").await;
    assert_eq!(c.stdout(), "1 2\n3 4\n5\n");
    let c = u.run(s, "xargs -I F basename /x/F.gz < list").await;
    assert_eq!(c.stdout(), "a.txt.gz\nb.txt.gz\n");
    let c = u.run(s, "echo x | xargs false").await;
    assert_eq!(c.exit_code, Some(123), "GNU xargs' status when a run fails");
    // help lists programs by what they do, and shows one's usage.
    let h = u.run(s, "help").await;
    assert!(h.stdout().contains("Searching:") && h.stdout().contains("grep"), "{}", h.stdout());
    let g = u.run(s, "help grep").await;
    assert!(g.stdout().starts_with("Usage: grep"), "{}", g.stdout());
    let r = db.replay(s, false).await;
    assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
}

#[tokio::test]
async fn a_bang_without_a_command_is_a_syntax_error() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    for line in ["!", "! ", "echo a; !"] {
        let c = u.run(s, line).await;
        assert_eq!(c.exit_code, Some(2), "{line}: {}", c.stderr());
        assert!(c.stderr().contains("syntax error"), "{line}: {}", c.stderr());
    }
    assert_eq!(u.run(s, "echo alive").await.stdout(), "alive\n");
}
