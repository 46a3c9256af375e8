//! Anchoring: folds the heads of session audit chains that moved into the
//! global chain, so a truncated session chain is detected (`audit verify`),
//! and the external anchor: the global head written outside the database
//! (`audit anchor --to FILE`), which is what catches a superuser who
//! rewrote every chain consistently (`audit verify --against FILE`).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

/// One pass; returns how many chains were anchored.
pub async fn run_once(client: &Client) -> Result<i32> {
    Ok(client.query_one("select pgshell.audit_anchor()", &[]).await?.get(0))
}

/// The format name of one line of an external anchor file.
pub const HEAD_FORMAT: &str = "pg_shell.audit.head.v1";

/// One line of an external anchor file: a chain's head at a moment. The
/// global chain's head vouches for every session chain anchored into it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub format: String,
    /// When it was taken (the database's clock, RFC 3339).
    pub at: String,
    pub database: String,
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// Anchors every moved session chain, then returns the global head (None
/// when the log is still empty).
pub async fn external_head(client: &Client) -> Result<Option<Head>> {
    run_once(client).await.context("anchoring session chains")?;
    let row = client
        .query_opt(
            "select to_char(now() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), current_database(),
                    h.chain, h.seq, encode(h.hash, 'hex')
             from pgshell.audit_heads h where h.chain = 'global'",
            &[],
        )
        .await?;
    Ok(row.map(|r| Head {
        format: HEAD_FORMAT.into(),
        at: r.get(0),
        database: r.get(1),
        chain: r.get(2),
        seq: r.get(3),
        hash: r.get(4),
    }))
}

/// A disagreement between the database and a head kept outside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExternalProblem {
    /// 1-based line of the anchor file.
    pub line: usize,
    pub chain: String,
    pub seq: i64,
    pub problem: String,
}

/// Checks every head of an anchor file (one JSON [`Head`] a line; blank
/// lines are skipped) against the chains: the row at that chain and seq
/// must exist with that hash. A line that does not parse is a problem too:
/// the file is evidence and is not silently skipped.
pub async fn check_against(client: &Client, file_text: &str) -> Result<(usize, Vec<ExternalProblem>)> {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (i, line) in file_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let head: Head = match serde_json::from_str(line) {
            Ok(h) => h,
            Err(e) => {
                problems.push(ExternalProblem {
                    line: i + 1,
                    chain: String::new(),
                    seq: 0,
                    problem: format!("anchor file line {}: not a head record ({e})", i + 1),
                });
                continue;
            }
        };
        checked += 1;
        let row = client
            .query_opt(
                "select encode(hash, 'hex') from pgshell.audit_log where chain = $1 and seq = $2",
                &[&head.chain, &head.seq],
            )
            .await?;
        let problem = match row.map(|r| r.get::<_, String>(0)) {
            Some(h) if h == head.hash => None,
            Some(h) => Some(format!(
                "chain {} row {} has hash {h}, but the head kept outside the database at {} says {}: the chain was rewritten",
                head.chain, head.seq, head.at, head.hash
            )),
            None => Some(format!(
                "chain {} has no row {}, which the head kept outside the database at {} records: rows were removed",
                head.chain, head.seq, head.at
            )),
        };
        if let Some(problem) = problem {
            problems.push(ExternalProblem { line: i + 1, chain: head.chain, seq: head.seq, problem });
        }
    }
    Ok((checked, problems))
}
