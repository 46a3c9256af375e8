//! `pg_shell replay`: re-execute a recorded session and verify it, play it
//! back as it was recorded, or serve replays requested through the API.
//! `--file FILE` replays an exported session: imported (into a throwaway
//! PostgreSQL when no database is configured, removed before exiting),
//! replayed, exit 0 verified / 1 diverged / 2 could not run.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use uuid::Uuid;

use super::executor::{shutdown_signal, ExecutorArgs};
use super::{DbArgs, UserArg};
use crate::replay::{replay_session, ReplayOptions, Report};

#[derive(Args, Debug)]
pub struct Replay {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub executor: ExecutorArgs,
    #[command(flatten)]
    pub user: UserArg,
    /// The session to replay.
    pub session: Option<Uuid>,
    /// Replay an exported session file (`pg_shell export SESSION -o FILE`):
    /// imported as the --user's, into a throwaway PostgreSQL unless a
    /// database is configured. Exit 0 verified, 1 diverged, 2 could not run.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["session", "playback", "daemon"])]
    pub file: Option<std::path::PathBuf>,
    /// With --file: require the file to be signed by this Ed25519 public key.
    #[arg(long, value_name = "KEYFILE", requires = "file")]
    pub verify_key: Option<std::path::PathBuf>,
    /// Also write the verdict to FILE: `--report junit FILE` (JUnit XML, a
    /// test case per command) or `--report json FILE`; repeatable.
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"])]
    pub report: Vec<String>,
    /// First command (its seq number in the session).
    #[arg(long)]
    pub from: Option<i32>,
    /// Last command.
    #[arg(long)]
    pub to: Option<i32>,
    /// Continue after the first divergence.
    #[arg(long = "continue")]
    pub keep_going: bool,
    /// Resolve programs as registered today instead of running the recorded
    /// plan: which commands change output under today's programs?
    #[arg(long)]
    pub against_current: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print the session as it was recorded instead of re-executing it.
    #[arg(long)]
    pub playback: bool,
    /// With --playback: wait between commands as they originally did.
    #[arg(long)]
    pub timing: bool,
    /// With --timing: speed factor (2 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Serve replays requested through api.request_replay until stopped.
    #[arg(long)]
    pub daemon: bool,
}

impl Replay {
    pub async fn run(self) -> Result<u8> {
        if let Some(file) = self.file.clone() {
            return Ok(match self.replay_file(&file).await {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("pg_shell: could not run the replay of {}: {e:#}", file.display());
                    2
                }
            });
        }
        let reports = report_targets(&self.report)?;
        let target = self.db.resolve(false).await?;
        let client = crate::db::connect_plain(&target.conninfo).await?;
        if self.daemon {
            let ex = crate::executor::Executor::new(self.executor.config(target.conninfo.clone())?)?;
            let agent = format!("replay-{}", ex.id());
            let (stop, mut rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            });
            client.batch_execute("listen pg_shell_replay").await?;
            loop {
                match crate::services::replay_agent::run_once(&ex, &client, &agent).await {
                    Ok(Some(id)) => println!("served replay {id}"),
                    Ok(None) => {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = rx.changed() => return Ok(0),
                        }
                    }
                    Err(e) => {
                        eprintln!("pg_shell: {e:#}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
        let Some(session) = self.session else { bail!("which session? pass its id") };
        if self.playback {
            playback(&client, session, self.timing, self.speed).await?;
            return Ok(0);
        }
        let ex = crate::executor::Executor::new(self.executor.config(target.conninfo.clone())?)?;
        let opts = ReplayOptions { from_seq: self.from, to_seq: self.to, keep_going: self.keep_going, against_current: self.against_current };
        let report = replay_session(&ex, &client, session, &opts).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_report(&report)?;
        }
        let lines: Vec<(i32, String)> = client
            .query("select seq, line from pgshell.commands where session_id = $1 order by seq", &[&session])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let meta = serde_json::json!({ "session": session });
        write_reports(&reports, &report, &format!("session {session}"), &lines, meta)?;
        Ok(if report.verdict == "verified" { 0 } else { 1 })
    }

    /// `--file`: verify, import, replay, report; the throwaway cluster (if
    /// one was started) is stopped and removed when this returns, error or not.
    async fn replay_file(&self, file: &std::path::Path) -> Result<u8> {
        let reports = report_targets(&self.report)?;
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let key = self.verify_key.as_deref().map(crate::transfer::read_verifying_key).transpose()?;
        let verified = crate::transfer::verify(&bytes, key.as_ref())?;
        for n in &verified.notes {
            eprintln!("pg_shell: note: {n}");
        }
        let (conninfo, cluster) = match self.db.explicit() {
            Some(c) => (c, None),
            None => {
                let c = tokio::task::spawn_blocking(crate::pgcluster::throwaway)
                    .await?
                    .context("starting a throwaway PostgreSQL (set DATABASE_URL to use your own)")?;
                eprintln!("pg_shell: replaying in a throwaway PostgreSQL in {} (removed at exit)", c.root().display());
                (c.connection_string("postgres"), Some(c))
            }
        };
        let user = self.user.name();
        super::prepare_local_user(&conninfo, &user).await?;
        let mut client = crate::db::connect_plain(&conninfo).await?;
        if cluster.is_some() {
            crate::db::register_bundled(&mut client, false).await.context("registering the bundled programs")?;
        }
        let imported = crate::transfer::import(&mut client, &verified, &user).await?;
        if !self.against_current {
            let missing = crate::transfer::missing_modules(&client, &verified.doc).await?;
            if !missing.is_empty() {
                let list: Vec<String> = missing
                    .iter()
                    .map(|(d, names, seqs)| {
                        let names: Vec<&str> = names.iter().map(String::as_str).collect();
                        let seqs: Vec<String> = seqs.iter().map(|s| format!("#{s}")).collect();
                        format!("{} (module {}…, commands {})", names.join("/"), &d[..12], seqs.join(" "))
                    })
                    .collect();
                anyhow::bail!(
                    "the recorded plan pins modules this database does not have: {}; they were recorded by another build \
                     of pg_shell or registered by hand. Replay with --against-current to resolve programs by name in this build",
                    list.join("; ")
                );
            }
        }
        let ex = crate::executor::Executor::new(self.executor.config(conninfo.clone())?)?;
        let opts = ReplayOptions { from_seq: self.from, to_seq: self.to, keep_going: self.keep_going, against_current: self.against_current };
        let report = tokio::select! {
            r = replay_session(&ex, &client, imported.session, &opts) => r?,
            _ = shutdown_signal() => anyhow::bail!("interrupted"),
        };
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_report(&report)?;
        }
        let lines: Vec<(i32, String)> = verified.doc["commands"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (c["seq"].as_i64().unwrap_or(0) as i32, c["line"].as_str().unwrap_or("").to_string()))
            .collect();
        let suite = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "session".into());
        let code = match report.verdict {
            "verified" => 0,
            "diverged" => 1,
            _ => 2,
        };
        let meta = serde_json::json!({
            "file": file.display().to_string(),
            "file_sha256": hex::encode(verified.file_sha256),
            "format": verified.format,
            "signed_by": verified.signed_by,
            "source_session": verified.doc["session"]["id"],
            "session": imported.session,
            "against_current": self.against_current,
            "exit_code": code,
        });
        write_reports(&reports, &report, &suite, &lines, meta)?;
        drop(ex);
        drop(client);
        drop(cluster);
        Ok(code)
    }
}

#[derive(Debug)]
enum ReportFormat {
    Junit,
    Json,
}

/// `--report FORMAT FILE` pairs, checked before anything runs.
fn report_targets(v: &[String]) -> Result<Vec<(ReportFormat, std::path::PathBuf)>> {
    v.chunks(2)
        .map(|p| {
            let f = match p[0].as_str() {
                "junit" => ReportFormat::Junit,
                "json" => ReportFormat::Json,
                other => bail!("--report {other}: the formats are junit and json"),
            };
            Ok((f, std::path::PathBuf::from(&p[1])))
        })
        .collect()
}

fn write_reports(
    targets: &[(ReportFormat, std::path::PathBuf)],
    report: &Report,
    suite: &str,
    lines: &[(i32, String)],
    mut meta: serde_json::Value,
) -> Result<()> {
    for (f, path) in targets {
        let text = match f {
            ReportFormat::Junit => crate::replay::junit(report, suite, lines),
            ReportFormat::Json => {
                meta["replay"] = serde_json::to_value(report)?;
                serde_json::to_string_pretty(&meta)? + "\n"
            }
        };
        std::fs::write(path, text).with_context(|| format!("writing the {f:?} report to {}", path.display()))?;
    }
    Ok(())
}

fn print_report(r: &Report) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for v in &r.results {
        let note = v.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
        writeln!(out, "#{:<4} {:<9} {}{note}", v.seq, v.verdict, v.line)?;
        if v.verdict == "diverged" {
            writeln!(out, "      field:    {}", v.field.as_deref().unwrap_or(""))?;
            writeln!(out, "      recorded: {}", v.recorded.as_deref().unwrap_or(""))?;
            writeln!(out, "      replayed: {}", v.replayed.as_deref().unwrap_or(""))?;
            if let Some(d) = &v.diff {
                for l in d.lines() {
                    writeln!(out, "      {l}")?;
                }
            }
        }
    }
    writeln!(
        out,
        "{}: {} of {} commands verified, {} diverged, {} not replayable (native), {} not comparable (masked), {} skipped ({} ms)",
        r.verdict, r.verified, r.commands, r.diverged, r.not_replayable, r.not_comparable, r.skipped, r.elapsed_ms
    )?;
    Ok(())
}

async fn playback(client: &tokio_postgres::Client, session: Uuid, timing: bool, speed: f64) -> Result<()> {
    let rows = client
        .query(
            "select c.line, coalesce(e.cwd, '/'), coalesce(c.stdout, ''), coalesce(c.stderr, ''), c.status::text,
                    c.outcome::text, c.exit_code, u.name,
                    extract(epoch from c.submitted_at)::float8, extract(epoch from c.finished_at)::float8
             from pgshell.commands c
             join pgshell.sessions s on s.id = c.session_id join pgshell.users u on u.id = s.owner_id
             left join pgshell.environments e on e.digest = c.env_before
             where c.session_id = $1 order by c.seq",
            &[&session],
        )
        .await
        .context("loading the session")?;
    let mut out = std::io::stdout();
    let mut last: Option<f64> = None;
    for r in rows {
        let submitted: f64 = r.get(8);
        if timing {
            if let Some(prev) = last {
                let wait = ((submitted - prev) / speed.max(0.01)).clamp(0.0, 5.0);
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            }
        }
        writeln!(out, "{}:{}$ {}", r.get::<_, String>(7), r.get::<_, String>(1), r.get::<_, String>(0))?;
        out.write_all(&r.get::<_, Vec<u8>>(2))?;
        out.write_all(&r.get::<_, Vec<u8>>(3))?;
        let status: String = r.get(4);
        let outcome: Option<String> = r.get(5);
        match (status.as_str(), outcome.as_deref()) {
            ("done", Some("exited")) => {}
            ("done", Some(o)) => writeln!(out, "[{o}, exit {}]", r.get::<_, Option<i32>>(6).unwrap_or(0))?,
            (s, _) => writeln!(out, "[{s}]")?,
        }
        out.flush()?;
        last = r.get::<_, Option<f64>>(9).or(Some(submitted));
    }
    Ok(())
}
