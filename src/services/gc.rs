//! Garbage collection of storage nothing refers to (migration 0016 explains
//! the protocol). Runs only after sessions were deleted (retention), one
//! bounded batch of each kind per pass; any number of agents may call it,
//! one collects at a time (a session advisory lock), the others skip.
//!
//! Kept, and walked: every environment left after unreferenced ones are
//! deleted (each names a root tree object, or before 0004 a manifest blob);
//! every tree object under them and every file blob they list; the modules
//! of registered programs, and every module a recorded command or its plan
//! pins (replay needs those bytes), and every command's recorded input
//! (0018: an upload's bytes, which replay feeds again). Everything else in `tree_objects` and
//! `blobs` not used since the mark is deleted.

use std::collections::HashSet;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::env::{objects, Digest, Tree};

/// What one collection did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub environments: i64,
    pub tree_objects: i64,
    pub blobs: i64,
    pub bytes: i64,
    pub stale_uploads: i64,
}

/// Session advisory lock: one collector at a time ('pgshellc').
const RUN_KEY: i64 = 8099010339069323363;

/// Digests fetched per query while walking trees.
const FETCH: usize = 2000;

/// One pass: stale uploads always; the rest only when sessions were deleted
/// since the last complete collection.
pub async fn run_once(client: &Client, limit: i32) -> Result<Report> {
    let mut report = Report::default();
    report.stale_uploads = client.query_one("select pgshell.gc_stale_uploads($1)", &[&limit]).await?.get::<_, i32>(0).into();
    let row = client.query_one("select deleted, collected from pgshell.gc_state", &[]).await?;
    let (deleted, collected): (i64, i64) = (row.get(0), row.get(1));
    if deleted <= collected {
        return Ok(report);
    }
    let locked: bool = client.query_one("select pg_try_advisory_lock($1)", &[&RUN_KEY]).await?.get(0);
    if !locked {
        return Ok(report);
    }
    let result = collect(client, limit, deleted, &mut report).await;
    let _ = client.execute("select pg_advisory_unlock($1)", &[&RUN_KEY]).await;
    result.map(|()| report)
}

async fn collect(client: &Client, limit: i32, started_at: i64, report: &mut Report) -> Result<()> {
    let mark: std::time::SystemTime = client.query_one("select pgshell.gc_begin()", &[]).await?.get(0);
    report.environments = client.query_one("select pgshell.gc_environments($1, $2)", &[&mark, &limit]).await?.get::<_, i32>(0).into();
    let (trees, blobs) = live(client).await?;
    let trees_swept = sweep(client, "tree_objects", &trees, mark, limit).await?;
    let blobs_swept = sweep(client, "blobs", &blobs, mark, limit).await?;
    report.tree_objects = trees_swept.deleted;
    report.blobs = blobs_swept.deleted;
    report.bytes = trees_swept.bytes + blobs_swept.bytes;
    let complete = report.environments < i64::from(limit) && trees_swept.complete && blobs_swept.complete;
    let details = serde_json::to_value(&*report)?;
    client.execute("select pgshell.gc_finish($1, $2, $3)", &[&started_at, &complete, &details]).await?;
    Ok(())
}

/// What one sweep of a store did.
struct Swept {
    deleted: i64,
    bytes: i64,
    /// Nothing more of this kind is left to delete.
    complete: bool,
}

/// Deletes up to `limit` rows of `kind` (a table the collector sweeps) that
/// are not in `live` and were not used since the mark.
async fn sweep(client: &Client, kind: &str, live: &HashSet<Digest>, mark: std::time::SystemTime, limit: i32) -> Result<Swept> {
    let limit = limit.max(0) as usize;
    let rows = client
        .query(&format!("select digest from pgshell.{kind} where used_at < $1"), &[&mark])
        .await
        .with_context(|| format!("listing {kind}"))?;
    let doomed: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| r.get::<_, Vec<u8>>(0))
        .filter(|d| Digest::try_from(d.as_slice()).map_or(true, |d| !live.contains(&d)))
        .take(limit + 1)
        .collect();
    let batch = &doomed[..doomed.len().min(limit)];
    let row = client
        .query_one("select n, bytes from pgshell.gc_delete($1, $2, $3)", &[&kind, &batch, &mark])
        .await
        .with_context(|| format!("deleting {kind}"))?;
    Ok(Swept { deleted: row.get(0), bytes: row.get(1), complete: doomed.len() <= limit })
}

/// The tree objects and blobs reachable from what is kept.
async fn live(client: &Client) -> Result<(HashSet<Digest>, HashSet<Digest>)> {
    let mut trees: HashSet<Digest> = HashSet::new();
    let mut blobs: HashSet<Digest> = HashSet::new();
    let mut queue: Vec<Vec<u8>> = Vec::new();
    let digest = |d: &[u8]| -> Option<Digest> { Digest::try_from(d).ok() };

    for r in client.query("select root, tree from pgshell.environments", &[]).await.context("listing environments")? {
        if let Some(root) = r.get::<_, Option<Vec<u8>>>(0) {
            if let Some(d) = digest(&root) {
                if trees.insert(d) {
                    queue.push(root);
                }
            }
        }
        if let Some(manifest) = r.get::<_, Option<Vec<u8>>>(1) {
            if let Some(d) = digest(&manifest) {
                blobs.insert(d);
            }
            // A manifest (before 0004) lists its files' blobs.
            if let Some(row) = client.query_opt("select data from pgshell.blobs where digest = $1", &[&manifest]).await? {
                let tree = Tree::from_manifest(&row.get::<_, Vec<u8>>(0)).context("a stored tree manifest is unreadable")?;
                blobs.extend(tree.file_digests().copied());
            }
        }
    }
    while !queue.is_empty() {
        let batch: Vec<Vec<u8>> = queue.drain(..queue.len().min(FETCH)).collect();
        for r in client.query("select digest, data from pgshell.tree_objects where digest = any($1)", &[&batch]).await? {
            let data: Vec<u8> = r.get(1);
            let (children, files) = objects::references(&data)
                .with_context(|| format!("tree object {} is unreadable: collection stopped", hex::encode(r.get::<_, Vec<u8>>(0))))?;
            for c in children {
                if trees.insert(c) {
                    queue.push(c.to_vec());
                }
            }
            blobs.extend(files);
        }
    }
    // Modules: registered programs, and whatever recorded commands pin;
    // recorded inputs (uploads).
    let modules = client
        .query(
            "select module_digest from pgshell.programs where module_digest is not null
             union select program_digest from pgshell.commands where program_digest is not null
             union select input_digest from pgshell.commands where input_digest is not null
             union select decode(p #>> '{}', 'hex') from pgshell.commands c,
                   jsonb_path_query(c.plan, 'strict $.**.digest') p
             where c.plan is not null and p #>> '{}' ~ '^[0-9a-f]{64}$'",
            &[],
        )
        .await
        .context("listing pinned modules")?;
    for r in modules {
        if let Some(d) = r.get::<_, Option<Vec<u8>>>(0).as_deref().and_then(digest) {
            blobs.insert(d);
        }
    }
    Ok((trees, blobs))
}
