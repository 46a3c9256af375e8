//! The executor's read side of content-addressed storage: environments and
//! blobs, fetched from PostgreSQL and cached in memory. Both are immutable
//! once stored, so the caches never need invalidating, only bounding.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::env::{Digest, Env, SealedEnv, Tree};

/// Bytes of file contents kept in memory before the cache is emptied.
const BLOB_CACHE_BYTES: usize = 256 << 20;
const ENV_CACHE_ENTRIES: usize = 10_000;

/// File contents by digest, and the bytes they hold in total.
#[derive(Default)]
struct BlobCache {
    by_digest: HashMap<Digest, Arc<Vec<u8>>>,
    bytes: usize,
}

#[derive(Default)]
pub struct Cache {
    envs: Mutex<HashMap<Digest, Arc<SealedEnv>>>,
    blobs: Mutex<BlobCache>,
}

impl Cache {
    /// A stored environment by digest.
    pub async fn env(&self, client: &Client, digest: &Digest) -> Result<Arc<SealedEnv>> {
        if let Some(e) = self.envs.lock().unwrap().get(digest) {
            return Ok(e.clone());
        }
        let row = client
            .query_opt(
                "select e.cwd, e.vars, e.tree, b.data from pgshell.environments e
                 join pgshell.blobs b on b.digest = e.tree where e.digest = $1",
                &[&&digest[..]],
            )
            .await
            .context("loading an environment")?
            .with_context(|| format!("environment {} is missing", hex::encode(digest)))?;
        let vars: serde_json::Value = row.get(1);
        let vars = serde_json::from_value(vars).context("environment variables are not a string map")?;
        let manifest: Vec<u8> = row.get(3);
        let tree = Tree::from_manifest(&manifest)?;
        let sealed = Env { cwd: row.get(0), vars, tree }.seal();
        anyhow::ensure!(
            sealed.digest == *digest,
            "environment {} does not match its digest (stored rows were altered)",
            hex::encode(digest)
        );
        let sealed = Arc::new(sealed);
        let mut envs = self.envs.lock().unwrap();
        if envs.len() >= ENV_CACHE_ENTRIES {
            envs.clear();
        }
        envs.insert(*digest, sealed.clone());
        Ok(sealed)
    }

    /// File contents for every digest asked for.
    pub async fn blobs(&self, client: &Client, digests: &[Digest]) -> Result<HashMap<Digest, Arc<Vec<u8>>>> {
        let mut found = HashMap::new();
        let mut missing: Vec<Vec<u8>> = Vec::new();
        {
            let cache = self.blobs.lock().unwrap();
            for d in digests {
                match cache.by_digest.get(d) {
                    Some(b) => {
                        found.insert(*d, b.clone());
                    }
                    None => missing.push(d.to_vec()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        missing.sort();
        missing.dedup();
        let rows = client
            .query("select digest, data from pgshell.blobs where digest = any($1)", &[&missing])
            .await
            .context("loading file contents")?;
        let mut cache = self.blobs.lock().unwrap();
        for row in rows {
            let d: Vec<u8> = row.get(0);
            let data: Vec<u8> = row.get(1);
            let Ok(d) = <Digest>::try_from(d.as_slice()) else { continue };
            let data = Arc::new(data);
            if cache.bytes + data.len() > BLOB_CACHE_BYTES {
                cache.by_digest.clear();
                cache.bytes = 0;
            }
            cache.bytes += data.len();
            cache.by_digest.insert(d, data.clone());
            found.insert(d, data);
        }
        Ok(found)
    }

    /// Remembers an environment this process just produced.
    pub fn remember_env(&self, env: Arc<SealedEnv>) {
        self.envs.lock().unwrap().insert(env.digest, env);
    }
}
