//! `pg_shell audit`: verify the hash-chained audit log, list it, anchor it.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::DbArgs;

#[derive(Args, Debug)]
pub struct Audit {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub action: AuditAction,
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Recompute every chain and check what it vouches for (commands,
    /// sessions, environments, users' roles, file contents); exit 1 on any problem.
    Verify {
        #[arg(long)]
        json: bool,
        /// Also check the heads kept outside the database in FILE (written
        /// by `audit anchor --to FILE`): catches a consistent rewrite of every chain.
        #[arg(long, value_name = "FILE")]
        against: Option<std::path::PathBuf>,
    },
    /// List audit rows, newest first.
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        session: Option<uuid::Uuid>,
        #[arg(long)]
        event: Option<String>,
        /// RFC 3339 time, inclusive.
        #[arg(long)]
        since: Option<String>,
        /// RFC 3339 time, exclusive.
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Anchor every moved session chain into the global chain now, and print
    /// the global head as one JSON line. Kept outside the database (`--to`,
    /// `--to-command`), it lets a later `verify --against` catch even a
    /// superuser who rewrote every chain consistently.
    Anchor {
        /// Append the head line to FILE (created if missing).
        #[arg(long, value_name = "FILE")]
        to: Option<std::path::PathBuf>,
        /// Pipe the head line to CMD (run by `sh -c`); a non-zero exit fails.
        #[arg(long, value_name = "CMD")]
        to_command: Option<String>,
    },
}

impl Audit {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let client = crate::db::connect_plain(&target.conninfo).await?;
        match self.action {
            AuditAction::Verify { json, against } => {
                let started = std::time::Instant::now();
                let rows = client
                    .query("select audit_id, chain, seq, kind, object, field, problem from pgshell.audit_problems(1000)", &[])
                    .await?;
                let total: i64 = client.query_one("select count(*) from pgshell.audit_log", &[]).await?.get(0);
                let mut problems: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        serde_json::json!({"audit_id": r.get::<_, Option<i64>>(0), "chain": r.get::<_, Option<String>>(1),
                                           "seq": r.get::<_, Option<i64>>(2), "kind": r.get::<_, String>(3),
                                           "object": r.get::<_, String>(4), "field": r.get::<_, Option<String>>(5),
                                           "problem": r.get::<_, String>(6)})
                    })
                    .collect();
                let mut heads_checked = None;
                if let Some(path) = &against {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading the anchor file {}", path.display()))?;
                    let (checked, external) = crate::services::anchor::check_against(&client, &text).await?;
                    heads_checked = Some(checked);
                    if checked == 0 {
                        problems.push(serde_json::json!({"audit_id": null, "chain": null, "seq": null,
                            "kind": "external_anchor", "object": path.display().to_string(), "field": null,
                            "problem": format!("the anchor file {} holds no head to check against", path.display())}));
                    }
                    for p in external {
                        problems.push(serde_json::json!({"audit_id": null, "chain": p.chain, "seq": p.seq,
                            "kind": "external_anchor", "object": format!("{}:{}", path.display(), p.line), "field": null,
                            "problem": p.problem}));
                    }
                }
                let ms = started.elapsed().as_millis();
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": problems.is_empty(), "rows": total, "ms": ms,
                                           "external_heads_checked": heads_checked, "problems": problems})
                    );
                } else if problems.is_empty() {
                    let ext = heads_checked.map(|n| format!(", {n} external head(s) match")).unwrap_or_default();
                    println!("audit log verified: {total} rows, every chain intact{ext} ({ms} ms)");
                } else {
                    for p in &problems {
                        let at = p["audit_id"].as_i64().map(|i| format!("row {i}")).unwrap_or_else(|| "-".into());
                        println!("{at}: [{}] {}", p["kind"].as_str().unwrap_or(""), p["problem"].as_str().unwrap_or(""));
                    }
                    println!("audit log NOT verified: {} problem(s) in {total} rows", problems.len());
                }
                Ok(if problems.is_empty() { 0 } else { 1 })
            }
            AuditAction::List { user, session, event, since, until, limit } => {
                let rows = client
                    .query(
                        "select id, at::text, actor, event, session_id, command_id, details::text from pgshell.audit_log
                         where ($1::text is null or actor = $1) and ($2::uuid is null or session_id = $2)
                           and ($3::text is null or event = $3)
                           and ($4::text is null or at >= $4::timestamptz) and ($5::text is null or at < $5::timestamptz)
                         order by id desc limit $6",
                        &[&user, &session, &event, &since, &until, &limit],
                    )
                    .await?;
                for r in rows {
                    let sid: Option<uuid::Uuid> = r.get(4);
                    let cid: Option<i64> = r.get(5);
                    println!(
                        "{:>7} {} {:<12} {:<22} {} {} {}",
                        r.get::<_, i64>(0),
                        r.get::<_, String>(1),
                        r.get::<_, String>(2),
                        r.get::<_, String>(3),
                        sid.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                        cid.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                        r.get::<_, String>(6)
                    );
                }
                Ok(0)
            }
            AuditAction::Anchor { to, to_command } => {
                let Some(head) = crate::services::anchor::external_head(&client).await? else {
                    println!("the audit log is empty: nothing to anchor");
                    return Ok(0);
                };
                let line = serde_json::to_string(&head)?;
                if let Some(path) = &to {
                    use std::io::Write as _;
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .with_context(|| format!("opening the anchor file {}", path.display()))?;
                    writeln!(f, "{line}").and_then(|_| f.sync_all()).with_context(|| format!("appending to {}", path.display()))?;
                }
                if let Some(cmd) = &to_command {
                    use std::io::Write as _;
                    let mut child = std::process::Command::new("sh")
                        .arg("-c")
                        .arg(cmd)
                        .stdin(std::process::Stdio::piped())
                        .spawn()
                        .with_context(|| format!("starting the anchor command {cmd:?}"))?;
                    let mut stdin = child.stdin.take().expect("piped stdin");
                    writeln!(stdin, "{line}").context("writing the head to the anchor command")?;
                    drop(stdin);
                    let status = child.wait()?;
                    anyhow::ensure!(status.success(), "the anchor command {cmd:?} failed ({status})");
                }
                println!("{line}");
                Ok(0)
            }
        }
    }
}
