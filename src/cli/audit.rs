//! `pg_shell audit`: verify the hash-chained audit log, list it, anchor it.

use anyhow::Result;
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
    /// Recompute every chain and check what it vouches for; exit 1 on any problem.
    Verify {
        #[arg(long)]
        json: bool,
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
    /// the global head: kept outside the database, it lets a later verify
    /// catch even a superuser who rewrote every chain consistently.
    Anchor,
}

impl Audit {
    pub async fn run(self) -> Result<u8> {
        let target = self.db.resolve(false).await?;
        let client = crate::db::connect_plain(&target.conninfo).await?;
        match self.action {
            AuditAction::Verify { json } => {
                let started = std::time::Instant::now();
                let rows = client.query("select audit_id, chain, seq, problem from pgshell.audit_problems(1000)", &[]).await?;
                let total: i64 = client.query_one("select count(*) from pgshell.audit_log", &[]).await?.get(0);
                let ms = started.elapsed().as_millis();
                if json {
                    let problems: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|r| {
                            serde_json::json!({"audit_id": r.get::<_, Option<i64>>(0), "chain": r.get::<_, Option<String>>(1),
                                               "seq": r.get::<_, Option<i64>>(2), "problem": r.get::<_, String>(3)})
                        })
                        .collect();
                    println!("{}", serde_json::json!({"ok": problems.is_empty(), "rows": total, "ms": ms, "problems": problems}));
                } else if rows.is_empty() {
                    println!("audit log verified: {total} rows, every chain intact ({ms} ms)");
                } else {
                    for r in &rows {
                        let id = r.get::<_, Option<i64>>(0).map(|i| format!("row {i}")).unwrap_or_else(|| "-".into());
                        println!("{id}: {}", r.get::<_, String>(3));
                    }
                    println!("audit log NOT verified: {} problem(s) in {total} rows", rows.len());
                }
                Ok(if rows.is_empty() { 0 } else { 1 })
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
            AuditAction::Anchor => {
                let n: i32 = client.query_one("select pgshell.audit_anchor()", &[]).await?.get(0);
                let head = client
                    .query_opt("select seq, encode(hash, 'hex') from pgshell.audit_heads where chain = 'global'", &[])
                    .await?;
                println!("anchored {n} chain(s)");
                if let Some(h) = head {
                    println!("global head: seq {} hash {}", h.get::<_, i64>(0), h.get::<_, String>(1));
                }
                Ok(0)
            }
        }
    }
}
