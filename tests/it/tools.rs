//! The bundled text tools (the textutils module): grep, sed, awk, find, diff,
//! cmp, jq, gzip/gunzip/zcat and tar, run through the real executor.
//!
//! Where this machine has the GNU tool (or jq, or an awk), the same command
//! line runs on the host in a scratch directory holding the same files, and
//! stdout and the exit status must match byte for byte; where they
//! legitimately differ the test says why. Binary files travel in and out
//! of a session as base64 (`base64 -d > FILE`, `base64 -w0 FILE`).

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use pg_shell::client::CommandView;
use uuid::Uuid;

use crate::support::{TestDb, User};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A session and a host directory with the same files.
struct Fixture {
    _db: TestDb,
    u: User,
    s: Uuid,
    host: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Fixture {
        let mut db = TestDb::new().await;
        db.start_executor();
        let u = db.user("alice").await;
        let s = u.session().await;
        Fixture { _db: db, u, s, host: tempfile::tempdir().unwrap() }
    }

    async fn run(&mut self, line: &str) -> CommandView {
        self.u.run(self.s, line).await
    }

    /// Writes FILE with these bytes in the session and in the host directory.
    async fn put(&mut self, name: &str, bytes: &[u8]) {
        let path = self.host.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        if let Some(dir) = Path::new(name).parent().filter(|d| !d.as_os_str().is_empty()) {
            let c = self.run(&format!("mkdir -p '{}'", dir.display())).await;
            assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
        }
        let c = self.run(&format!("echo '{}' | base64 -d > '{name}'", B64.encode(bytes))).await;
        assert_eq!(c.exit_code, Some(0), "writing {name}: {}", c.stderr());
    }

    /// A file's bytes from the session.
    async fn get(&mut self, name: &str) -> Vec<u8> {
        let c = self.run(&format!("base64 -w0 '{name}'")).await;
        assert_eq!(c.exit_code, Some(0), "reading {name}: {}", c.stderr());
        B64.decode(c.stdout().trim()).unwrap()
    }

    /// Runs `line` with sh in the host directory: (stdout, exit status, stderr).
    fn host(&self, line: &str) -> (String, i32, String) {
        let out = Command::new("sh").arg("-c").arg(line).current_dir(self.host.path()).env("LC_ALL", "C.UTF-8").env("TZ", "UTC").output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs each line here and on the host: same stdout, same status, and
    /// stderr empty exactly when the host's is.
    async fn same_as_host(&mut self, lines: &[&str]) {
        for line in lines {
            let c = self.run(line).await;
            let (out, code, err) = self.host(line);
            assert_eq!(c.outcome(), "exited", "{line}: {c:?}");
            assert_eq!((c.stdout(), c.exit_code), (out.as_str(), Some(code)), "{line}\nour stderr: {}\nhost stderr: {err}", c.stderr());
            assert_eq!(c.stderr().is_empty(), err.is_empty(), "{line}: stderr here {:?}, on the host {err:?}", c.stderr());
        }
    }

    async fn replay_verifies(&self) {
        let r = self._db.replay(self.s, false).await;
        assert_eq!(r.verdict, "verified", "{:?}", r.first_divergence);
        assert!(r.commands > 5, "{} commands", r.commands);
    }
}

fn host_has(tool: &str) -> bool {
    Path::new("/usr/bin").join(tool).exists() || Path::new("/bin").join(tool).exists()
}

const FRUIT: &str = "apple\nbanana\nCherry pie\nkiwi\nbanana split\na.b\naxb\npeach\n";
const VEG: &str = "pea\npeas\nchickpea\nsweet pea\nleek\n";

#[tokio::test]
async fn grep_prints_what_gnu_grep_prints() {
    let mut f = Fixture::new().await;
    f.put("fruit", FRUIT.as_bytes()).await;
    f.put("veg", VEG.as_bytes()).await;
    f.put("d/one.txt", b"kiwi one\n").await;
    f.put("d/sub/two.txt", b"two kiwi\nkiwi again\n").await;
    f.put("d/sub/skip.log", b"kiwi log\n").await;
    let lines = [
        "grep an fruit",
        "grep -n an fruit",
        "grep -c a fruit veg",
        "grep -i CHERRY fruit",
        "grep -v a fruit",
        "grep -w pea veg",
        "grep -x kiwi fruit",
        "grep -o 'an*' fruit",
        "grep -ob pea veg",
        "grep -E 'ap+le|^kiwi$' fruit",
        "egrep 'b(an){2}' fruit",
        "grep 'a\\(n\\)\\{2\\}' fruit",
        "grep 'a.b' fruit",
        "grep -F 'a.b' fruit",
        "fgrep -x 'a.b' fruit",
        "grep '^[[:upper:]]' fruit",
        "grep '[^a-z]' fruit",
        "grep 'p\\|k' veg",
        "grep -E 'pea?s?$' veg",
        "grep '*' fruit",
        "grep 'x\\+' fruit",
        "grep -e kiwi -e leek fruit veg",
        "grep -h pea fruit veg",
        "grep -H kiwi fruit",
        "grep -l pea fruit veg",
        "grep -L pea fruit veg",
        "grep -C1 Cherry fruit",
        "grep -n -A1 -B2 kiwi fruit",
        "grep -m2 a fruit",
        "grep -c -v e veg",
        "grep -q kiwi fruit",
        "grep -q nothing fruit",
        "grep nothing fruit",
        "grep kiwi nonexistent",
        "grep -s kiwi nonexistent",
        "grep -q kiwi nonexistent fruit",
        "grep kiwi d",
        "grep -r kiwi d/sub/two.txt",
        "grep -rl kiwi d --exclude-dir=sub",
        "grep -wi 'PEA' veg",
        "grep -e '' -c fruit",
        "grep 'a\\(' fruit",
        "cat fruit | grep -n kiwi",
        "cat veg | grep -c pea - fruit",
    ];
    assert!(host_has("grep"), "GNU grep is part of every Debian system");
    f.same_as_host(&lines).await;

    // -r visits entries in byte order here (GNU: directory order); compare
    // the sorted lines.
    let c = f.run("grep -rn kiwi d").await;
    assert_eq!(c.stdout(), "d/one.txt:1:kiwi one\nd/sub/skip.log:1:kiwi log\nd/sub/two.txt:1:two kiwi\nd/sub/two.txt:2:kiwi again\n");
    for line in ["grep -rn kiwi d", "grep -rh kiwi d --include='*.txt'", "grep -rc kiwi d --exclude='*.log'", "grep -r -l kiwi . --exclude-dir=sub"] {
        let c = f.run(line).await;
        let (out, code, _) = f.host(line);
        let mut ours: Vec<&str> = c.stdout().lines().collect();
        let mut theirs: Vec<&str> = out.lines().collect();
        ours.sort();
        theirs.sort();
        assert_eq!((ours, c.exit_code), (theirs, Some(code)), "{line}");
    }
    let c = f.run("cd d; grep -r again; cd /").await;
    assert_eq!(c.stdout(), "sub/two.txt:kiwi again\n", "without operands -r searches . and drops ./");

    // A NUL makes a file binary: the match is reported on stderr.
    f.put("bin", b"text\0more\nkiwi\n").await;
    f.same_as_host(&["grep kiwi bin", "grep -c kiwi bin", "grep -a -c kiwi bin", "grep -I kiwi bin fruit"]).await;

    // What the regex crate cannot do is refused, not approximated.
    let c = f.run("grep '\\(a\\)\\1' fruit").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("back-references"), "{}", c.stderr());
    f.replay_verifies().await;
}

const TEXT: &str = "one two\nthree four\nfive six\nseven eight\n";

#[tokio::test]
async fn sed_edits_as_gnu_sed_does() {
    let mut f = Fixture::new().await;
    f.put("t", TEXT.as_bytes()).await;
    assert!(host_has("sed"));
    f.same_as_host(&[
        "sed 's/o/0/' t",
        "sed 's/o/0/g' t",
        "sed -n 2p t",
        "sed '1d;$d' t",
        "sed -n '$=' t",
        "sed -E 's/([a-z]+) ([a-z]+)/\\2 \\1/' t",
        "sed 's/\\(t[a-z]*\\)/[\\1]/g' t",
        "sed '/three/,/seven/s/^/> /' t",
        "sed = t",
        "sed 'y/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/' t",
        "sed 2q t",
        "sed -n '/f/p' t",
        "sed '2i\\inserted' t",
        "sed '$a\\appended' t",
        "sed -e 's/one/1/' -e 's/two/2/' t",
        "sed 'N;s/\\n/ + /' t",
        "sed -n 'h;n;G;p' t",
        "sed '1!G;h;$!d' t",
        "sed 's/[[:space:]]/_/g' t",
        "cat t | sed 's/e/E/2'",
        "sed 's/x/y' t",
    ])
    .await;
    // GNU sed exits 2 for an input it cannot read, uutils sed 1.
    let c = f.run("sed p nonexistent").await;
    assert_eq!((c.stdout(), c.exit_code), ("", Some(1)));
    assert!(c.stderr().contains("nonexistent") && c.stderr().contains("No such file"), "{}", c.stderr());
    // In place, with a backup.
    let c = f.run("sed -i.bak 's/one/ONE/' t && cat t t.bak").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_eq!(c.stdout(), format!("{}{TEXT}", TEXT.replace("one", "ONE")));
    f.replay_verifies().await;
}

#[tokio::test]
async fn awk_runs_programs_like_the_one_true_awk() {
    let mut f = Fixture::new().await;
    f.put("people", b"alice 30 paris\nbob 25 london\ncarol 35 paris\ndave 40 rome\n").await;
    f.put("csv", b"k1,10\nk2,20\nk1,5\n").await;
    // Output that any POSIX awk prints alike, checked here and, when the
    // host has an awk (Debian: mawk), there too.
    let cases: &[(&str, &str)] = &[
        ("awk '{ print $1 }' people", "alice\nbob\ncarol\ndave\n"),
        ("awk '{ s += $2 } END { print s, s/NR }' people", "130 32.5\n"),
        ("awk '$3 == \"paris\" { n++ } END { print n }' people", "2\n"),
        ("awk -F, '{ t[$1] += $2 } END { print t[\"k1\"], t[\"k2\"] }' csv", "15 20\n"),
        ("awk -F, -v OFS=';' '{ print $2, $1 }' csv", "10;k1\n20;k2\n5;k1\n"),
        ("awk 'NR==2,NR==3 { print NR \": \" $0 }' people", "2: bob 25 london\n3: carol 35 paris\n"),
        ("awk '{ printf \"%-6s|%5.2f|%x\\n\", $1, $2, $2 }' people", "alice |30.00|1e\nbob   |25.00|19\ncarol |35.00|23\ndave  |40.00|28\n"),
        ("awk '{ $2 = $2 * 2; print }' people", "alice 60 paris\nbob 50 london\ncarol 70 paris\ndave 80 rome\n"),
        ("awk '{ print length($1), toupper(substr($1, 1, 1)) substr($1, 2) }' people", "5 Alice\n3 Bob\n5 Carol\n4 Dave\n"),
        ("awk '/o/ { gsub(/o/, \"0\"); print }' people", "b0b 25 l0nd0n\ncar0l 35 paris\ndave 40 r0me\n"),
        ("awk '{ n = split($0, a, /a/); print n }' people", "3\n1\n3\n2\n"),
        ("awk 'function f(n) { return n <= 1 ? 1 : n * f(n - 1) } BEGIN { print f(10) }'", "3628800\n"),
        ("awk '!seen[$3]++ { print $3 }' people", "paris\nlondon\nrome\n"),
        ("awk 'BEGIN { printf(\"%s-%s\\n\", \"a\", \"b\"); print -2^2, 2^3^2, 7%3 }'", "a-b\n-4 512 1\n"),
        ("awk 'BEGIN { print index(\"hello\", \"ll\"), match(\"foobar\", /ob+/), RSTART, RLENGTH }'", "3 3 3 2\n"),
        ("awk 'NR == 1 { next } { print $1 } END { print NR }' people", "bob\ncarol\ndave\n4\n"),
        ("awk 'BEGIN { getline; print \"first:\", $1 } { print \"rest:\", $1 }' people", "first: alice\nrest: bob\nrest: carol\nrest: dave\n"),
        ("awk '{ print > \"out.txt\" } END { close(\"out.txt\"); while ((getline l < \"out.txt\") > 0) n++; print n }' people", "4\n"),
        ("awk 'BEGIN { x[\"a\"]; if (\"a\" in x) print \"yes\"; delete x[\"a\"]; for (k in x) print k; print \"done\" }'", "yes\ndone\n"),
        ("printf 'a b\\n\\nc\\n' | awk 'BEGIN { RS = \"\" } { print NR \": \" $1 }'", "1: a\n2: c\n"),
    ];
    let host_awk = host_has("awk");
    for (line, expected) in cases {
        let c = f.run(line).await;
        assert_eq!((c.stdout(), c.exit_code), (*expected, Some(0)), "{line}: {}", c.stderr());
        if host_awk {
            let (out, code, _) = f.host(line);
            assert_eq!((out.as_str(), code), (*expected, 0), "host awk on {line}");
        }
    }
    let c = f.run("cat out.txt").await;
    assert_eq!(c.stdout(), "alice 30 paris\nbob 25 london\ncarol 35 paris\ndave 40 rome\n", "awk wrote the file in the session");

    // exit: from a function inside the main rules, END still runs, with the status.
    let c = f.run("awk 'function stop(c) { exit c } { if ($2 > 30) stop(3); n++ } END { print \"end\", n, $1 }' people").await;
    assert_eq!((c.stdout(), c.exit_code), ("end 2 carol\n", Some(3)), "{}", c.stderr());
    let c = f.run("awk 'BEGIN { exit 4; print \"not\" } END { print \"end ran\" }'").await;
    assert_eq!((c.stdout(), c.exit_code), ("end ran\n", Some(4)));
    let c = f.run("awk 'END { print \"a\"; exit 5; print \"b\" }' people").await;
    assert_eq!((c.stdout(), c.exit_code), ("a\n", Some(5)));

    // Nothing can start a process: it says so.
    let c = f.run("awk 'BEGIN { print \"x\" | \"sort\" }'").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("cannot start processes"), "{}", c.stderr());
    let c = f.run("awk 'BEGIN { r = system(\"ls\"); print r }'").await;
    assert_eq!(c.stdout(), "-1\n");
    assert!(c.stderr().contains("system() cannot run \"ls\""), "{}", c.stderr());
    let c = f.run("awk 'BEGIN { if ((\"date\" | getline d) < 0) print \"no date\" }'").await;
    assert_eq!(c.stdout(), "no date\n");
    assert!(c.stderr().contains("cannot start processes"), "{}", c.stderr());
    // Errors: syntax (2), missing file (2).
    let c = f.run("awk 'BEGIN { print ( }'").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("syntax error"), "{}", c.stderr());
    let c = f.run("awk '{ print }' nonexistent").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("nonexistent"), "{}", c.stderr());
    f.replay_verifies().await;
}

#[tokio::test]
async fn find_walks_the_session_files() {
    let mut f = Fixture::new().await;
    f.put("a.txt", b"a\n").await;
    f.put("src/main.rs", b"fn main() {}\n").await;
    f.put("src/lib/util.rs", b"// util\n").await;
    f.put("src/notes.txt", b"").await;
    f.put("docs/guide.txt", b"read me\n").await;
    assert!(host_has("find"));
    // The walk order here is byte order of names (the VFS's listing order);
    // GNU find walks in the host directory's order: compare sorted.
    for line in [
        "find .",
        "find . -name '*.txt'",
        "find src -name '*.rs'",
        "find . -type d",
        "find . -type f -empty",
        "find . -maxdepth 1 -type f",
        "find . -path './src/*' -name '*.rs'",
        "find . -size +5c -type f",
        "find . -iname 'MAIN.RS'",
        "find src ! -name '*.rs'",
        "find . -name '*.txt' -o -name '*.rs' -type f",
        "find . -regex '.*/[gu][a-z]*\\.\\(txt\\|rs\\)'",
        "find . -type f -printf '%f %s\\n'",
        "find nowhere",
    ] {
        let c = f.run(line).await;
        let (out, code, err) = f.host(line);
        let mut ours: Vec<&str> = c.stdout().lines().collect();
        let mut theirs: Vec<&str> = out.lines().collect();
        ours.sort();
        theirs.sort();
        assert_eq!((ours, c.exit_code), (theirs, Some(code)), "{line}: {}", c.stderr());
        assert_eq!(c.stderr().is_empty(), err.is_empty(), "{line}: {} / {err}", c.stderr());
    }
    let c = f.run("find src").await;
    assert_eq!(c.stdout(), "src\nsrc/lib\nsrc/lib/util.rs\nsrc/main.rs\nsrc/notes.txt\n", "byte order, depth first");

    // -exec cannot start a program: refused before anything runs.
    let c = f.run("find . -name '*.txt' -exec rm {} ';'").await;
    assert_eq!((c.stdout(), c.exit_code), ("", Some(1)));
    assert!(c.stderr().contains("-exec cannot run commands"), "{}", c.stderr());
    assert_eq!(f.run("ls a.txt").await.exit_code, Some(0), "nothing was removed");
    let c = f.run("find . -ok true ';'").await;
    assert_eq!(c.exit_code, Some(1));
    // -delete works on the session's files.
    let c = f.run("find . -name '*.txt' -delete; find . -type f").await;
    assert_eq!(c.stdout(), "./src/lib/util.rs\n./src/main.rs\n", "{}", c.stderr());
    f.replay_verifies().await;
}

#[tokio::test]
async fn diff_and_cmp_report_differences_with_gnu_status() {
    let mut f = Fixture::new().await;
    f.put("a", b"one\ntwo\nthree\nfour\nfive\n").await;
    f.put("b", b"one\n2\nthree\nfour\nfive\nsix\n").await;
    f.put("c", b"one\ntwo\nthree\nfour\nfive\n").await;
    assert!(host_has("diff") && host_has("cmp"));
    f.same_as_host(&[
        "diff a b",
        "diff a c",
        "diff -q a b",
        "diff -s a c",
        "diff a nonexistent",
        "cat a | diff - b",
        "cmp a c",
        "cmp -s a b",
        "cmp -l a b",
        "cmp a nonexistent",
    ])
    .await;
    f.same_as_host(&["cmp a b"]).await;
    // The ed script applies: the hunks come last line first.
    let c = f.run("diff -e a b").await;
    assert_eq!(c.stdout(), "5a\nsix\n.\n2c\n2\n.\n");
    // Unified and context formats: the header lines carry the files'
    // modification times, which differ between the session and the host;
    // the rest must be the same.
    for line in ["diff -u a b", "diff -U1 a b", "diff -c a b"] {
        let c = f.run(line).await;
        let (out, code, _) = f.host(line);
        let skip = |s: &str| s.lines().skip(2).map(|l| format!("{l}\n")).collect::<String>();
        assert_eq!((skip(c.stdout()), c.exit_code), (skip(&out), Some(code)), "{line}");
        assert!(c.stdout().starts_with("--- a\t") || c.stdout().starts_with("*** a\t"), "{}", c.stdout());
    }
    f.replay_verifies().await;
}

#[tokio::test]
async fn jq_filters_json_as_jq_does() {
    let mut f = Fixture::new().await;
    let doc = br#"{"name":"pg_shell","items":[{"n":1,"tag":"a"},{"n":2,"tag":"b"},{"n":3,"tag":"b"}],"nested":{"ok":true,"none":null}}"#;
    f.put("doc.json", doc).await;
    f.put("nums", b"1 2 3\n4\n").await;
    let cases = [
        "jq . doc.json",
        "jq .name doc.json",
        "jq -r .name doc.json",
        "jq -c '.items[] | select(.n > 1)' doc.json",
        "jq '[.items[].n] | add' doc.json",
        "jq -c '.items | group_by(.tag) | map({tag: .[0].tag, count: length})' doc.json",
        "jq -c '.nested | keys' doc.json",
        "jq -c '.nested | to_entries' doc.json",
        "jq -r '.items[] | \"\\(.n)=\\(.tag)\"' doc.json",
        "jq -s -c . nums",
        "jq -n '[range(5)] | map(. * 2)' -c",
        "jq -n -c --arg x hello --argjson y '{\"a\":1}' '{x: $x, y: $y}'",
        "jq -S . doc.json",
        "jq --tab .nested doc.json",
        "jq -e .nested.none doc.json",
        "jq -e .nested.ok doc.json",
        "jq '.items | length' doc.json",
        "jq -j '.items[].tag' doc.json",
        "echo '[3,1,2]' | jq -c 'sort'",
        "jq .x nonexistent.json",
    ];
    if host_has("jq") {
        f.same_as_host(&cases).await;
    } else {
        let c = f.run("jq -c '.items[] | select(.n > 1)' doc.json").await;
        assert_eq!(c.stdout(), "{\"n\":2,\"tag\":\"b\"}\n{\"n\":3,\"tag\":\"b\"}\n");
    }
    // Errors (jaq's statuses, as jq 1.6's: 5 for a runtime error, 3 for a
    // filter that does not compile).
    let c = f.run("jq '.name | .x' doc.json").await;
    assert_eq!(c.exit_code, Some(5), "{}", c.stderr());
    assert!(!c.stderr().is_empty());
    let c = f.run("jq '.[' doc.json").await;
    assert_eq!(c.exit_code, Some(3), "{}", c.stderr());
    f.replay_verifies().await;
}

#[tokio::test]
async fn gzip_is_deterministic_and_round_trips_with_gnu_gzip() {
    let mut f = Fixture::new().await;
    let text: Vec<u8> = (0..800).map(|i| format!("line {i} of some text that repeats\n")).collect::<String>().into_bytes();
    f.put("data.txt", &text).await;

    // From standard input: no name, time 0, so the same bytes every time.
    let c = f.run("gzip -c < data.txt > one.gz; gzip -9 < data.txt > nine.gz; gzip < data.txt > again.gz; cmp one.gz again.gz").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let one = f.get("one.gz").await;
    assert_eq!(&one[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], "gzip header: no name, mtime 0, OS Unix");
    assert!(one.len() < text.len() / 10, "{} bytes", one.len());
    let nine = f.get("nine.gz").await;
    assert_eq!(nine[8], 2, "XFL says maximum compression");

    // GNU gzip reads ours.
    assert!(host_has("gzip"));
    std::fs::write(f.host.path().join("one.gz"), &one).unwrap();
    let out = Command::new("gzip").args(["-dc", "one.gz"]).current_dir(f.host.path()).output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, text, "GNU gzip restores our compression");
    // ... and -l agrees.
    f.same_as_host(&["gzip -l one.gz"]).await;

    // We read GNU's (a two-member file, as `cat a.gz b.gz` makes).
    let gnu = Command::new("sh").arg("-c").arg("gzip -9 -c data.txt; printf 'tail\\n' | gzip -c").current_dir(f.host.path()).output().unwrap();
    assert!(gnu.status.success());
    f.put("gnu.gz", &gnu.stdout).await;
    let c = f.run("gunzip gnu.gz && test ! -e gnu.gz && sha256sum gnu").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    let mut expected = text.clone();
    expected.extend_from_slice(b"tail\n");
    assert_eq!(c.stdout(), format!("{}  gnu\n", hex::encode(pg_shell::env::sha256(&expected))));

    // In place: data.txt -> data.txt.gz (the name and the file's time in the
    // header), and back exactly.
    let c = f.run("gzip -v data.txt && ls data.txt.gz && test ! -e data.txt").await;
    assert_eq!((c.stdout(), c.exit_code), ("data.txt.gz\n", Some(0)), "{}", c.stderr());
    assert!(c.stderr().starts_with("data.txt:\t") && c.stderr().contains("-- replaced with data.txt.gz"), "{}", c.stderr());
    let named = f.get("data.txt.gz").await;
    assert_eq!(named[3], 8, "FNAME set");
    assert_eq!(&named[10..19], b"data.txt\0");
    let c = f.run("zcat data.txt.gz | sha256sum; gunzip -t data.txt.gz && gunzip data.txt.gz && sha256sum data.txt").await;
    let sum = hex::encode(pg_shell::env::sha256(&text));
    assert_eq!((c.stdout(), c.exit_code), (format!("{sum}  -\n{sum}  data.txt\n").as_str(), Some(0)), "{}", c.stderr());
    // GNU's warnings and errors.
    let c = f.run("gzip -k data.txt; gzip -k data.txt").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("data.txt.gz already exists"), "{}", c.stderr());
    let c = f.run("gunzip data.txt").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("unknown suffix"), "{}", c.stderr());
    f.put("junk.gz", b"not gzip at all").await;
    let c = f.run("gunzip junk.gz").await;
    assert_eq!(c.exit_code, Some(1));
    assert!(c.stderr().contains("not in gzip format"), "{}", c.stderr());
    assert_eq!(f.run("ls junk.gz").await.exit_code, Some(0), "a failed gunzip keeps its input");

    // Replaying the session gives the same bytes (files included).
    f.replay_verifies().await;
}

/// A ustar header for a regular file (for an archive GNU tar would refuse
/// to write: a `..` member).
fn ustar_member(name: &str, body: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

#[tokio::test]
async fn tar_archives_are_read_by_gnu_tar_and_back() {
    let mut f = Fixture::new().await;
    f.put("proj/readme", b"hello\n").await;
    f.put("proj/src/a.c", b"int main(void) { return 0; }\n").await;
    f.put("proj/src/b.h", b"#define B 1\n").await;
    f.put("proj/empty/.keep", b"").await;
    let c = f.run("tar cf p.tar proj && tar czf p.tgz proj && tar -cvf v.tar proj/src").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert_eq!(c.stdout(), "proj/src/\nproj/src/a.c\nproj/src/b.h\n", "-v lists what it adds");
    let names = "proj/\nproj/empty/\nproj/empty/.keep\nproj/readme\nproj/src/\nproj/src/a.c\nproj/src/b.h\n";
    assert_eq!(f.run("tar tf p.tar").await.stdout(), names);
    assert_eq!(f.run("tar -tzf p.tgz").await.stdout(), names);
    assert_eq!(f.run("tar tf p.tgz").await.stdout(), names, "reading detects gzip by itself");

    // GNU tar lists and extracts both, with the contents intact.
    assert!(host_has("tar"));
    let plain = f.get("p.tar").await;
    let gz = f.get("p.tgz").await;
    let dir = f.host.path().join("gnu");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.tar"), &plain).unwrap();
    std::fs::write(dir.join("p.tgz"), &gz).unwrap();
    for (args, what) in [(&["tf", "p.tar"][..], "plain"), (&["tzf", "p.tgz"][..], "gzip")] {
        let out = Command::new("tar").args(args).current_dir(&dir).output().unwrap();
        assert!(out.status.success(), "GNU tar on our {what} archive: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), names, "{what}");
    }
    let out = Command::new("tar").args(["xzf", "p.tgz"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.join("proj/src/a.c")).unwrap(), b"int main(void) { return 0; }\n");
    assert_eq!(std::fs::read(dir.join("proj/readme")).unwrap(), b"hello\n");
    let out = Command::new("tar").args(["tvf", "p.tar", "proj/readme"]).current_dir(&dir).env("TZ", "UTC").output().unwrap();
    let gnu_long = String::from_utf8_lossy(&out.stdout).into_owned();
    let ours_long = f.run("tar tvf p.tar proj/readme").await;
    assert_eq!(ours_long.stdout(), gnu_long, "the long listing is GNU tar's");

    // The same archive twice: byte-identical (members in name order, times
    // from the session's files).
    let c = f.run("tar cf again.tar proj && cmp p.tar again.tar").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());

    // Extract ours into another directory, and GNU tar's too.
    let c = f.run("mkdir out && tar xf p.tar -C out && cat out/proj/src/b.h && ls out/proj/empty/.keep").await;
    assert_eq!((c.stdout(), c.exit_code), ("#define B 1\nout/proj/empty/.keep\n", Some(0)), "{}", c.stderr());
    let gnu = Command::new("tar").args(["czf", "-", "gnu/proj"]).current_dir(f.host.path()).output().unwrap();
    assert!(gnu.status.success());
    f.put("gnu.tgz", &gnu.stdout).await;
    let c = f.run("mkdir g && tar -xzvf gnu.tgz -C g --strip-components=1 && cat g/proj/src/a.c").await;
    assert_eq!(c.exit_code, Some(0), "{}", c.stderr());
    assert!(c.stdout().ends_with("int main(void) { return 0; }\n"), "{}", c.stdout());
    assert_eq!(f.run("tar -xOf p.tar proj/readme").await.stdout(), "hello\n");
    let c = f.run("tar tf p.tar proj/nothing").await;
    assert_eq!(c.exit_code, Some(2));
    assert!(c.stderr().contains("Not found in archive"), "{}", c.stderr());

    // A member that would climb out with `..` is skipped (GNU tar does the
    // same), the others are extracted.
    let mut evil = ustar_member("../escaped", b"bad\n");
    evil.extend(ustar_member("fine", b"ok\n"));
    evil.extend([0u8; 1024]);
    f.put("evil.tar", &evil).await;
    let c = f.run("mkdir e && cd e && tar xf /evil.tar; ls; ls / | grep -c escaped; cd /").await;
    assert!(c.stdout().starts_with("fine\n0\n"), "{} / {}", c.stdout(), c.stderr());
    assert!(c.stderr().contains("Member name contains '..'"), "{}", c.stderr());
    f.replay_verifies().await;
}

#[tokio::test]
async fn every_textutils_program_answers_to_its_name() {
    let mut f = Fixture::new().await;
    for p in pg_shell::bundled::TEXTUTILS.programs {
        let c = f.run(&format!("{p} --version")).await;
        assert_eq!((c.outcome(), c.exit_code), ("exited", Some(0)), "{p}: {}", c.stderr());
        assert!(!c.stdout().is_empty(), "{p} --version prints something");
        assert_eq!(c.program_kind.as_deref(), Some("wasi"));
        let digest = c.plan.as_ref().unwrap()["programs"][p]["digest"].clone();
        assert_eq!(digest, hex::encode(pg_shell::env::sha256(pg_shell::bundled::TEXTUTILS.wasm)), "{p} runs the textutils module");
    }
}
