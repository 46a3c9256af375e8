//! Replay: a generated corpus re-executes bit for bit; altered records and
//! non-deterministic native programs are reported as diverged.

use pg_shell::executor::Executor;
use pg_shell::replay::{replay_session, ReplayOptions};
use serde_json::json;

use crate::support::TestDb;

/// A tiny deterministic PRNG for generating sessions (xorshift64*).
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// One generated session: file creation and edits, cd/export, sort/wc/
/// sha256sum, clock and random values, an occasional timeout.
fn session_lines(g: &mut Gen, n: usize) -> Vec<String> {
    let words = ["alpha", "beta", "gamma", "delta", "pi", "42", "zeta", "omega"];
    let files = ["a.txt", "b.txt", "notes", "d/x", "d/e/y"];
    let mut lines = vec!["mkdir -p d/e".to_string()];
    for _ in 0..n {
        let f = g.pick(&files);
        let w = g.pick(&words);
        let line = match g.next() % 18 {
            0 => format!("writefile {f} '{w}\n{}\n'", g.pick(&words)),
            1 => format!("appendfile {f} '{w}\n'"),
            2 => format!("sort {f}"),
            3 => format!("wc {f}"),
            4 => format!("sha256sum {f}"),
            5 => format!("cat {f}"),
            6 => "ls -l".into(),
            7 => "ls -la d".into(),
            8 => "date".into(),
            9 => "clockrand".into(),
            10 => format!("export V{}={w}", g.next() % 3),
            11 => g.pick(&["cd d", "cd /", "cd e", "cd .."]).into(),
            12 => format!("cp {f} copy-{w}"),
            13 => format!("touch t-{w}"),
            14 => format!("seq {}", g.next() % 20),
            15 => format!("rm -f copy-{w}"),
            16 => format!("head -n 1 {f}"),
            _ => "echo $V0 $V1 $PWD".into(),
        };
        lines.push(line);
    }
    lines
}

#[tokio::test]
async fn a_corpus_of_200_generated_sessions_replays_verified() {
    let mut db = TestDb::new().await;
    let mut c = db.executor_config();
    c.concurrency = 8;
    db.start_executor_with(c);
    let mut u = db.user("alice").await;
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut sessions = Vec::new();
    let mut last_ids = Vec::new();
    for i in 0..200 {
        let s = u.session().await;
        if i % 40 == 0 {
            db.set_session_limits(s, json!({"timeout_ms": 100})).await;
        }
        let mut lines = session_lines(&mut g, 7);
        if i % 40 == 0 {
            lines.push("spin".into());
        }
        let mut last = 0;
        for l in &lines {
            last = u.client.submit(s, l).await.unwrap();
        }
        sessions.push(s);
        last_ids.push(last);
    }
    for id in last_ids {
        u.client.wait(id, std::time::Duration::from_secs(300)).await.unwrap();
    }
    let ex = Executor::new(db.executor_config()).unwrap();
    let client = db.admin().await;
    let started = std::time::Instant::now();
    let (mut commands, mut verified) = (0, 0);
    for s in &sessions {
        let r = replay_session(&ex, &client, *s, &ReplayOptions::default()).await.unwrap();
        assert_eq!(r.verdict, "verified", "session {s}: {:?}", r.first_divergence);
        commands += r.commands;
        verified += r.verified;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("replayed {commands} commands of 200 sessions, {verified} verified, in {secs:.1} s ({:.0} commands/s)", commands as f64 / secs);
    assert_eq!(commands, verified);
    assert!(commands >= 1600);
}

#[tokio::test]
async fn altered_records_are_reported_at_the_right_command() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let a = u.run(s, "writefile f 'one\ntwo\n'").await;
    let b = u.run(s, "cat f").await;
    let c = u.run(s, "exitwith 3").await;
    let d = u.run(s, "wc -l f").await;
    let ex = Executor::new(db.executor_config()).unwrap();
    let admin = db.admin().await;
    let opts = ReplayOptions { keep_going: true, ..ReplayOptions::default() };
    assert_eq!(replay_session(&ex, &admin, s, &opts).await.unwrap().verdict, "verified");

    // One output byte.
    admin.execute("update pgshell.commands set stdout = 'one\ntwX\n' where id = $1", &[&b.id]).await.unwrap();
    // An exit code.
    admin.execute("update pgshell.commands set exit_code = 0 where id = $1", &[&c.id]).await.unwrap();
    let r = replay_session(&ex, &admin, s, &opts).await.unwrap();
    assert_eq!(r.verdict, "diverged");
    let first = r.first_divergence.unwrap();
    assert_eq!((first.command_id, first.field.as_deref()), (b.id, Some("stdout")));
    assert!(first.diff.unwrap().contains("line 2"));
    let at_c = r.results.iter().find(|v| v.command_id == c.id).unwrap();
    assert_eq!((at_c.verdict, at_c.field.as_deref()), ("diverged", Some("exit_code")));
    let at_d = r.results.iter().find(|v| v.command_id == d.id).unwrap();
    assert_eq!(at_d.verdict, "verified");

    // The environment a command produced.
    admin.execute("update pgshell.commands set stdout = 'one\ntwo\n', exit_code = 3 where id in ($1, $2)", &[&b.id, &c.id]).await.unwrap();
    admin.execute("update pgshell.commands set exit_code = 3 where id = $1", &[&c.id]).await.unwrap();
    let other: Vec<u8> = admin
        .query_one("select env_before from pgshell.commands where id = $1", &[&a.id])
        .await
        .unwrap()
        .get(0);
    admin.execute("update pgshell.commands set env_after = $2 where id = $1", &[&a.id, &other]).await.unwrap();
    let r = replay_session(&ex, &admin, s, &opts).await.unwrap();
    let first = r.first_divergence.unwrap();
    assert_eq!((first.command_id, first.field.as_deref()), (a.id, Some("environment")));
    assert!(first.diff.unwrap().contains("/f"), "the diff names the file");
}

#[tokio::test]
async fn native_commands_whose_output_changes_are_reported_as_diverged() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    let admin = db.admin().await;
    let safe = pg_shell::db::NativeOptions { replay_safe: true, ..Default::default() };
    pg_shell::db::register_native_with(&admin, "nod", "/usr/bin/od", &safe).await.unwrap();
    let c = u.run(s, "nod -An -N16 -tx8 /dev/urandom").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let ex = Executor::new(db.executor_config()).unwrap();
    let r = replay_session(&ex, &admin, s, &ReplayOptions::default()).await.unwrap();
    assert_eq!(r.verdict, "diverged");
    let v = &r.results[0];
    assert_eq!(v.field.as_deref(), Some("stdout"));
    assert!(v.note.as_deref().unwrap().contains("native"));
}

#[tokio::test]
async fn replays_requested_through_the_api_are_served_by_the_executor() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "writefile f hello").await;
    u.run(s, "cat f").await;
    let verdict = u.replay_through_api(s).await;
    assert_eq!(verdict["verdict"], "verified", "{verdict}");
    assert_eq!((verdict["commands"].as_i64(), verdict["verified"].as_i64()), (Some(2), Some(2)));
    let bob = db.user("bob").await;
    let id = verdict["id"].as_i64().unwrap();
    assert!(bob.client.raw().query_one("select api.replay($1)", &[&id]).await.is_err());
}

#[tokio::test]
async fn a_fork_starts_from_the_chosen_commands_environment() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "writefile f v1").await;
    let mid = u.run(s, "cd /").await;
    u.run(s, "writefile f v2").await;
    let fork: uuid::Uuid = u.client.raw().query_one("select api.fork_session($1)", &[&mid.id]).await.unwrap().get(0);
    assert_eq!(u.run(fork, "cat f").await.stdout(), "v1");
    assert_eq!(u.run(s, "cat f").await.stdout(), "v2");
}

#[tokio::test]
async fn exports_are_complete_json_and_valid_asciicast_v2() {
    let mut db = TestDb::new().await;
    db.start_executor();
    let mut u = db.user("alice").await;
    let s = u.session().await;
    u.run(s, "echo hello").await;
    u.run(s, "badutf8").await;
    u.run(s, "cat missing").await;
    let j: serde_json::Value = u.client.raw().query_one("select api.export_json($1)", &[&s]).await.unwrap().get(0);
    assert_eq!(j["format"], "pg_shell.session.v1");
    let cmds = j["commands"].as_array().unwrap();
    assert_eq!(cmds.len(), 3);
    assert_eq!(cmds[0]["stdout"], "hello\n");
    assert_eq!(cmds[1]["stdout_base64"], "b2sg//4gYmFkCg==", "raw bytes survive the export");
    assert!(cmds[0]["random_seed"].as_str().unwrap().len() == 32);

    let cast: String = u.client.raw().query_one("select api.export_asciicast($1)", &[&s]).await.unwrap().get(0);
    let mut lines = cast.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert!(header["width"].as_u64().unwrap() > 0 && header["height"].as_u64().unwrap() > 0);
    let mut last = 0.0;
    let mut text = String::new();
    for l in lines {
        let ev: serde_json::Value = serde_json::from_str(l).unwrap();
        let ev = ev.as_array().unwrap();
        assert_eq!(ev.len(), 3);
        let t = ev[0].as_f64().unwrap();
        assert!(t >= last, "event times never go back");
        last = t;
        assert_eq!(ev[1], "o");
        text.push_str(ev[2].as_str().unwrap());
    }
    assert!(text.contains("alice:/$ echo hello\r\nhello\r\n"), "{text:?}");
    assert!(text.contains("No such file"));
}
