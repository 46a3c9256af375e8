//! `pg_shell replay`: re-execute a recorded session and verify it, play it
//! back as it was recorded, or serve replays requested through the API.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use uuid::Uuid;

use super::executor::{shutdown_signal, ExecutorArgs};
use super::DbArgs;
use crate::replay::{replay_session, ReplayOptions, Report};

#[derive(Args, Debug)]
pub struct Replay {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub executor: ExecutorArgs,
    /// The session to replay.
    pub session: Option<Uuid>,
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
        Ok(if report.verdict == "verified" { 0 } else { 1 })
    }
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
        "{}: {} of {} commands verified, {} diverged, {} not replayable (native), {} skipped ({} ms)",
        r.verdict, r.verified, r.commands, r.diverged, r.not_replayable, r.skipped, r.elapsed_ms
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
