//! Replay: re-execute a recorded session from its recorded inputs and prove
//! each command gives the same result, or say exactly where it does not.
//!
//! Each finished command is re-run by [`Executor::rerun`] (the same runtime,
//! the recorded environment, argv, module digest, seeds and limits) and its
//! stdout, stderr, exit status, outcome, fuel and resulting environment
//! (cwd, variables, file tree digest) are compared with the record. Nothing
//! recorded is changed.
//!
//! A command with a native stage is re-run only if every native program it
//! ran is marked replay-safe by the operator today (`pg_shell program add
//! ... --replay-safe`), under the same name and path; otherwise nothing is
//! run and its verdict is `not_replayable` ("not replayable (native)"),
//! neither verified nor diverged, and the session's verdict is at best
//! `incomplete`. (The executor refuses such a stage in a re-run too, so a
//! replay against today's registrations cannot run one either.) Replay-safe
//! natives are re-run and compared; they are never assumed deterministic.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::env::Digest;
use crate::runtime::ProgramKind;
use crate::executor::Executor;

#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    pub from_seq: Option<i32>,
    pub to_seq: Option<i32>,
    /// Keep going after the first divergence.
    pub keep_going: bool,
    /// Resolve programs by name as registered today instead of running the
    /// recorded plan: reports which commands change under today's programs.
    pub against_current: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct CommandVerdict {
    pub command_id: i64,
    pub seq: i32,
    pub line: String,
    /// verified | diverged | skipped | not_replayable | not_comparable
    /// (masked in the export it was imported from: not re-run)
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub session_id: Uuid,
    /// verified | diverged | incomplete (no divergence, but some commands
    /// were not replayable)
    pub verdict: &'static str,
    pub commands: usize,
    pub verified: usize,
    pub diverged: usize,
    pub skipped: usize,
    /// Commands with a native program not marked replay-safe: not run.
    pub not_replayable: usize,
    /// Commands whose recorded values were masked in the export this session
    /// was imported from (`export --mask VAR`): not run, neither verified
    /// nor diverged; they do not change the session's verdict.
    pub not_comparable: usize,
    pub first_divergence: Option<CommandVerdict>,
    pub results: Vec<CommandVerdict>,
    pub elapsed_ms: u64,
}

struct Recorded {
    id: i64,
    seq: i32,
    line: String,
    status: String,
    outcome: Option<String>,
    exit_code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    fuel: Option<i64>,
    env_after: Option<Vec<u8>>,
    program_kind: Option<String>,
    /// What ran, per stage (None for records from before plans).
    trace: Option<Vec<crate::runtime::StageTrace>>,
    plan: Option<serde_json::Value>,
    program: Option<String>,
}

/// Re-executes the session's commands in order and compares each with its record.
pub async fn replay_session(ex: &Executor, client: &Client, session: Uuid, opts: &ReplayOptions) -> Result<Report> {
    let started = std::time::Instant::now();
    let rows = client
        .query(
            "select id, seq, line, status::text, outcome::text, exit_code, coalesce(stdout, ''), coalesce(stderr, ''),
                    fuel_consumed, env_after, program_kind, trace, plan, program
             from pgshell.commands
             where session_id = $1 and seq >= coalesce($2, 0) and seq <= coalesce($3, 2147483647)
             order by seq",
            &[&session, &opts.from_seq, &opts.to_seq],
        )
        .await
        .context("loading the session's commands")?;
    let exists: bool = client
        .query_one("select exists (select 1 from pgshell.sessions where id = $1)", &[&session])
        .await?
        .get(0);
    anyhow::ensure!(exists, "no session {session}");
    // An imported session's masked commands (pgshell.imports, 0013).
    let masked: Vec<i32> = client
        .query_opt("select masked_seqs from pgshell.imports where session_id = $1", &[&session])
        .await?
        .map(|r| r.get(0))
        .unwrap_or_default();
    let masks: Vec<String> = client
        .query_opt("select array(select jsonb_array_elements_text(masks)) from pgshell.imports where session_id = $1", &[&session])
        .await?
        .map(|r| r.get(0))
        .unwrap_or_default();
    let mut report = Report {
        session_id: session,
        verdict: "verified",
        commands: 0,
        verified: 0,
        diverged: 0,
        skipped: 0,
        not_replayable: 0,
        not_comparable: 0,
        first_divergence: None,
        results: Vec::new(),
        elapsed_ms: 0,
    };
    for r in rows {
        let rec = Recorded {
            id: r.get(0),
            seq: r.get(1),
            line: r.get(2),
            status: r.get(3),
            outcome: r.get(4),
            exit_code: r.get(5),
            stdout: r.get(6),
            stderr: r.get(7),
            fuel: r.get(8),
            env_after: r.get(9),
            program_kind: r.get(10),
            trace: r.get::<_, Option<serde_json::Value>>(11).and_then(|t| serde_json::from_value(t).ok()),
            plan: r.get(12),
            program: r.get(13),
        };
        let v = if masked.contains(&rec.seq) {
            CommandVerdict {
                command_id: rec.id,
                seq: rec.seq,
                line: rec.line.clone(),
                verdict: "not_comparable",
                field: None,
                recorded: None,
                replayed: None,
                diff: None,
                note: Some(format!("masked in the export ({}): not comparable", masks.join(", "))),
            }
        } else {
            check(ex, client, &rec, opts.against_current).await?
        };
        match v.verdict {
            "verified" => report.verified += 1,
            "diverged" => report.diverged += 1,
            "not_replayable" => report.not_replayable += 1,
            "not_comparable" => report.not_comparable += 1,
            _ => report.skipped += 1,
        }
        if v.verdict != "skipped" {
            report.commands += 1;
        }
        if v.verdict == "not_replayable" && report.verdict == "verified" {
            report.verdict = "incomplete";
        }
        let diverged = v.verdict == "diverged";
        if diverged && report.first_divergence.is_none() {
            report.first_divergence = Some(v.clone());
            report.verdict = "diverged";
        }
        report.results.push(v);
        if diverged && !opts.keep_going {
            break;
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

async fn check(ex: &Executor, client: &Client, rec: &Recorded, against_current: bool) -> Result<CommandVerdict> {
    let mut v = CommandVerdict {
        command_id: rec.id,
        seq: rec.seq,
        line: rec.line.clone(),
        verdict: "verified",
        field: None,
        recorded: None,
        replayed: None,
        diff: None,
        note: None,
    };
    if rec.status != "done" {
        v.verdict = "skipped";
        v.note = Some(format!("{}: nothing was recorded to compare", rec.status));
        return Ok(v);
    }
    if rec.outcome.as_deref() == Some("lost") {
        v.verdict = "skipped";
        v.note = Some("lost: the command never completed".into());
        return Ok(v);
    }
    if let Some(why) = native_refusal(client, rec).await? {
        v.verdict = "not_replayable";
        v.note = Some(why);
        return Ok(v);
    }
    let r = ex.rerun_with(rec.id, against_current).await.with_context(|| format!("re-running command {}", rec.id))?;
    let out = &r.out;
    // The executor refused a native stage (one today's registrations brought in).
    let marker = crate::executor::NOT_REPLAYABLE.as_bytes();
    let contains = |h: &[u8]| h.windows(marker.len()).any(|w| w == marker);
    if contains(&out.stderr) && !contains(&rec.stderr) {
        v.verdict = "not_replayable";
        v.note = Some(format!("{}: a native program of this line is not marked replay-safe; it was not run", crate::executor::NOT_REPLAYABLE));
        return Ok(v);
    }
    if rec.program_kind.as_deref() == Some("native") {
        v.note = Some("native program: re-run for comparison, not deterministic by construction".into());
    }
    let replayed_outcome = out.outcome.map(|o| o.as_str().to_string());
    // Records the first difference only: the one a reader should look at.
    fn diverge(v: &mut CommandVerdict, field: &str, recorded: String, replayed: String, diff: Option<String>) {
        if v.verdict == "verified" {
            v.verdict = "diverged";
            v.field = Some(field.to_string());
            v.recorded = Some(recorded);
            v.replayed = Some(replayed);
            v.diff = diff;
        }
    }
    if replayed_outcome != rec.outcome {
        diverge(&mut v, "outcome", show(&rec.outcome), show(&replayed_outcome), None);
    }
    if rec.outcome.as_deref() == Some("timeout") {
        // How far a guest got before the wall clock stopped it is not part of
        // the record's promise; the outcome is.
        if v.verdict == "verified" {
            v.note = Some("timeout: only the outcome is compared".into());
        }
        return Ok(v);
    }
    if Some(out.exit_code) != rec.exit_code {
        diverge(&mut v, "exit_code", show(&rec.exit_code), out.exit_code.to_string(), None);
    }
    if out.stdout != rec.stdout {
        diverge(&mut v, "stdout", summary(&rec.stdout), summary(&out.stdout), Some(text_diff(&rec.stdout, &out.stdout)));
    }
    if out.stderr != rec.stderr {
        diverge(&mut v, "stderr", summary(&rec.stderr), summary(&out.stderr), Some(text_diff(&rec.stderr, &out.stderr)));
    }
    // Verdicts are per stage: a native stage's fuel is its wall time (not
    // deterministic by construction), so only the other stages' fuel is
    // compared when a line has one.
    let deterministic = |t: &[crate::runtime::StageTrace]| -> i64 { t.iter().filter(|s| s.kind != ProgramKind::Native).map(|s| s.fuel as i64).sum() };
    let natives = rec.trace.as_ref().is_some_and(|t| t.iter().any(|s| s.kind == ProgramKind::Native));
    if natives {
        let (a, b) = (deterministic(rec.trace.as_deref().unwrap_or(&[])), deterministic(&out.trace));
        if a != b {
            diverge(&mut v, "fuel", format!("{a} (stages other than native)"), b.to_string(), None);
        }
        if v.note.is_none() {
            v.note = Some("a native stage: its output is compared, its fuel (wall time) is not".into());
        }
    } else {
        let fuel = out.fuel.map(|f| f as i64);
        if fuel != rec.fuel {
            diverge(&mut v, "fuel", show(&rec.fuel), show(&fuel), None);
        }
    }
    // An environment recorded before migration 0004 (a manifest) has another
    // digest than the same contents sealed today: compare it in today's form.
    let same_as_recorded = match &rec.env_after {
        Some(d) if d[..] != r.env_after[..] => match Digest::try_from(d.as_slice()) {
            Ok(d) => ex.load_env(client, &d).await.is_ok_and(|e| e.current_digest() == r.env_after),
            Err(_) => false,
        },
        Some(_) => true,
        None => false,
    };
    if same_as_recorded && rec.env_after.as_deref() != Some(&r.env_after[..]) && v.note.is_none() {
        v.note = Some("environment recorded in the manifest form (before 0004): same contents".into());
    }
    if !same_as_recorded {
        let diff = match &rec.env_after {
            Some(d) => env_diff(ex, client, d, &r.env_after).await.unwrap_or_else(|e| format!("(cannot compare: {e:#})")),
            None => "no environment was recorded".into(),
        };
        diverge(
            &mut v,
            "environment",
            rec.env_after.as_ref().map(hex::encode).unwrap_or_default(),
            hex::encode(r.env_after),
            Some(diff),
        );
    }
    Ok(v)
}

/// Why a recorded command may not be re-run: a native program it ran that
/// the operator has not marked replay-safe (under the same name and path).
async fn native_refusal(client: &Client, rec: &Recorded) -> Result<Option<String>> {
    let pins = rec.plan.as_ref().and_then(|p| p.get("programs")).and_then(|p| p.as_object());
    let path_of = |name: &str| -> Option<String> {
        let pin = pins?.get(name)?;
        (pin.get("kind")?.as_str()? == "native").then(|| pin.get("path")?.as_str().map(str::to_owned))?
    };
    let mut natives: Vec<(String, Option<String>)> = match &rec.trace {
        Some(t) => t.iter().filter(|s| s.kind == ProgramKind::Native).map(|s| (s.program.clone(), path_of(&s.program))).collect(),
        None if rec.program_kind.as_deref() == Some("native") => rec.program.iter().map(|p| (p.clone(), path_of(p))).collect(),
        None => Vec::new(),
    };
    natives.sort();
    natives.dedup();
    for (name, path) in natives {
        let safe: Option<bool> = client
            .query_opt(
                "select replay_safe from pgshell.programs
                 where name = $1 and kind = 'native' and native_path = coalesce($2, native_path) and enabled",
                &[&name, &path],
            )
            .await?
            .map(|r| r.get(0));
        if safe != Some(true) {
            return Ok(Some(format!(
                "{}: {name} is not marked replay-safe by the operator (pg_shell program add ... --replay-safe); nothing was run",
                crate::executor::NOT_REPLAYABLE
            )));
        }
    }
    Ok(None)
}

fn show<T: std::fmt::Display>(x: &Option<T>) -> String {
    x.as_ref().map(|x| x.to_string()).unwrap_or_else(|| "none".into())
}

fn summary(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut t: String = s.chars().take(200).collect();
    if s.chars().count() > 200 {
        t.push('…');
    }
    format!("{} bytes: {t:?}", b.len())
}

/// The first differing line, with a line of context on each side.
pub fn text_diff(recorded: &[u8], replayed: &[u8]) -> String {
    let a: Vec<String> = String::from_utf8_lossy(recorded).lines().map(str::to_owned).collect();
    let b: Vec<String> = String::from_utf8_lossy(replayed).lines().map(str::to_owned).collect();
    let n = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if n == a.len() && n == b.len() {
        return "the texts differ only in bytes invisible line by line (line endings or invalid UTF-8)".into();
    }
    let mut out = format!("first difference at line {}\n", n + 1);
    if n > 0 {
        out.push_str(&format!("  {}\n", a[n - 1]));
    }
    if let Some(l) = a.get(n) {
        out.push_str(&format!("- {l}\n"));
    }
    if let Some(l) = b.get(n) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// What differs between two environments: cwd, variables, files.
async fn env_diff(ex: &Executor, client: &Client, recorded: &[u8], replayed: &Digest) -> Result<String> {
    let rec = Digest::try_from(recorded).context("bad digest")?;
    let a = ex.load_env(client, &rec).await?;
    let b = ex.load_env(client, replayed).await?;
    let mut out = Vec::new();
    if a.env.cwd != b.env.cwd {
        out.push(format!("cwd: {} -> {}", a.env.cwd, b.env.cwd));
    }
    let keys: BTreeSet<&String> = a.env.vars.keys().chain(b.env.vars.keys()).collect();
    for k in keys {
        if a.env.vars.get(k) != b.env.vars.get(k) {
            out.push(format!("variable {k}: {:?} -> {:?}", a.env.vars.get(k), b.env.vars.get(k)));
        }
    }
    let paths: BTreeSet<&String> = a.env.tree.entries.keys().chain(b.env.tree.entries.keys()).collect();
    for p in paths {
        match (a.env.tree.entries.get(p), b.env.tree.entries.get(p)) {
            (Some(_), None) => out.push(format!("file /{p}: missing after replay")),
            (None, Some(_)) => out.push(format!("file /{p}: only after replay")),
            (Some(x), Some(y)) if x != y => out.push(format!("file /{p}: {x:?} -> {y:?}")),
            _ => {}
        }
    }
    if out.is_empty() {
        out.push("the environments' contents are equal but their stored forms differ".into());
    }
    Ok(out.join("\n"))
}


/// The report as JUnit XML: one test suite (the session, named `suite`),
/// one test case per command (named `#seq line`); a diverged command is a
/// failure whose message names the field and whose text is the diff; a
/// command not re-run (not replayable, not comparable, skipped, or after the
/// first divergence without `--continue`) is a skipped case saying why.
pub fn junit(r: &Report, suite: &str, lines: &[(i32, String)]) -> String {
    let mut cases = String::new();
    let (mut failures, mut skipped) = (0, 0);
    let by_seq: std::collections::HashMap<i32, &CommandVerdict> = r.results.iter().map(|v| (v.seq, v)).collect();
    for (seq, line) in lines {
        let name = xml_escape(&format!("#{seq} {line}"));
        cases.push_str(&format!("    <testcase classname=\"{}\" name=\"{name}\"", xml_escape(suite)));
        match by_seq.get(seq) {
            Some(v) if v.verdict == "verified" => cases.push_str("/>\n"),
            Some(v) if v.verdict == "diverged" => {
                failures += 1;
                let field = v.field.as_deref().unwrap_or("");
                let message = format!("diverged at #{seq}: {field} differs");
                let mut body = format!(
                    "command #{seq}: {line}\nfield: {field}\nrecorded: {}\nreplayed: {}\n",
                    v.recorded.as_deref().unwrap_or(""),
                    v.replayed.as_deref().unwrap_or("")
                );
                if let Some(d) = &v.diff {
                    body.push_str(d);
                }
                cases.push_str(&format!(
                    ">\n      <failure type=\"diverged\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(&message),
                    xml_text(&body)
                ));
            }
            other => {
                skipped += 1;
                let why = match other {
                    Some(v) => format!("{}: {}", v.verdict, v.note.as_deref().unwrap_or("")),
                    None => "not re-run: the replay stopped at the first divergence (pass --continue to run every command)".into(),
                };
                cases.push_str(&format!(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", xml_escape(&why)));
            }
        }
    }
    let secs = r.elapsed_ms as f64 / 1000.0;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pg_shell replay\" tests=\"{n}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{secs:.3}\">\n  <testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{secs:.3}\">\n{cases}  </testsuite>\n</testsuites>\n",
        n = lines.len(),
        s = xml_escape(suite),
    )
}

/// Text for XML 1.0 attributes and content: the five special characters
/// escaped (line breaks too in attributes), characters XML cannot carry
/// shown as `\\u{..}`.
fn xml_escape(s: &str) -> String {
    escape(s, true)
}

fn xml_text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' if !attr => out.push(c),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_escape_keeps_xml_well_formed() {
        assert_eq!(super::xml_escape("a<b>&\"'\u{1}\n"), "a&lt;b&gt;&amp;&quot;&apos;\\u{1}&#10;");
    }
}
