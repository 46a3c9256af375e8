//! The executor's read side of content-addressed storage: environments, the
//! tree objects their file trees are made of, and blobs, fetched from
//! PostgreSQL and cached in memory. All are immutable once stored, so the
//! caches never need invalidating, only bounding.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::env::objects::{Decoder, Object};
use crate::env::{Digest, Env, SealedEnv, ShellState, Tree};

/// Bytes of file contents kept in memory before the cache is emptied.
const BLOB_CACHE_BYTES: usize = 256 << 20;
/// Bytes of tree objects kept in memory (environments share most of theirs).
const OBJECT_CACHE_BYTES: usize = 64 << 20;
const ENV_CACHE_ENTRIES: usize = 10_000;

/// File contents by digest, and the bytes they hold in total.
#[derive(Default)]
struct BlobCache {
    by_digest: HashMap<Digest, Arc<Vec<u8>>>,
    bytes: usize,
}

/// Tree objects by digest (verified against it when they were fetched).
#[derive(Default)]
struct ObjectCache {
    by_digest: HashMap<Digest, Object>,
    bytes: usize,
}

impl ObjectCache {
    fn insert(&mut self, d: Digest, o: Object) {
        if self.by_digest.contains_key(&d) {
            return;
        }
        if self.bytes + o.len() > OBJECT_CACHE_BYTES {
            self.by_digest.clear();
            self.bytes = 0;
        }
        self.bytes += o.len();
        self.by_digest.insert(d, o);
    }
}

#[derive(Default)]
pub struct Cache {
    envs: Mutex<HashMap<Digest, Arc<SealedEnv>>>,
    objects: Mutex<ObjectCache>,
    blobs: Mutex<BlobCache>,
}

impl Cache {
    /// A stored environment by digest, in whichever form it was stored:
    /// tree objects (`root`), or before migration 0004 a manifest blob
    /// (`tree`). Either way its digest is recomputed and must match.
    pub async fn env(&self, client: &Client, digest: &Digest) -> Result<Arc<SealedEnv>> {
        if let Some(e) = self.envs.lock().unwrap().get(digest) {
            return Ok(e.clone());
        }
        let row = client
            .query_opt(
                "select e.cwd, e.vars, e.shell, e.root, b.data from pgshell.environments e
                 left join pgshell.blobs b on b.digest = e.tree where e.digest = $1",
                &[&&digest[..]],
            )
            .await
            .context("loading an environment")?
            .with_context(|| format!("environment {} is missing", hex::encode(digest)))?;
        let vars: serde_json::Value = row.get(1);
        let vars = serde_json::from_value(vars).context("environment variables are not a string map")?;
        let shell: serde_json::Value = row.get(2);
        let shell: ShellState = serde_json::from_value(shell).context("the environment's shell state is malformed")?;
        let root: Option<Vec<u8>> = row.get(3);
        let manifest: Option<Vec<u8>> = row.get(4);
        let env = Env { cwd: row.get(0), vars, tree: Tree::default(), shell };
        let sealed = match (root, manifest) {
            (Some(root), _) => {
                let root = Digest::try_from(root.as_slice()).context("bad root digest")?;
                let (tree, encoded) = self.load_tree(client, root).await?;
                Env { tree, ..env }.seal_encoded(encoded)
            }
            (None, Some(manifest)) => Env { tree: Tree::from_manifest(&manifest)?, ..env }.seal_manifest(),
            (None, None) => anyhow::bail!("the file tree of environment {} is missing", hex::encode(digest)),
        };
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

    /// Decodes the tree under `root`, one round trip per level of objects
    /// not already cached.
    async fn load_tree(&self, client: &Client, root: Digest) -> Result<(Tree, crate::env::objects::EncodedTree)> {
        let mut dec = Decoder::new(root);
        loop {
            let want = dec.wanted();
            if want.is_empty() {
                break;
            }
            let mut missing: Vec<Vec<u8>> = Vec::new();
            let mut cached = Vec::new();
            {
                let cache = self.objects.lock().unwrap();
                for d in want {
                    match cache.by_digest.get(&d) {
                        Some(o) => cached.push((d, o.clone())),
                        None => missing.push(d.to_vec()),
                    }
                }
            }
            for (d, o) in cached {
                dec.supply(d, o)?;
            }
            if missing.is_empty() {
                continue;
            }
            let rows = client
                .query("select digest, data from pgshell.tree_objects where digest = any($1)", &[&missing])
                .await
                .context("loading tree objects")?;
            anyhow::ensure!(rows.len() == missing.len(), "{} tree objects are missing", missing.len() - rows.len());
            for row in rows {
                let d: Vec<u8> = row.get(0);
                let d = Digest::try_from(d.as_slice()).context("bad tree object digest")?;
                let data: Vec<u8> = row.get(1);
                let o: Object = data.into();
                dec.supply(d, o.clone())?;
                self.objects.lock().unwrap().insert(d, o);
            }
        }
        dec.finish()
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

    /// Remembers an environment this process just produced (and stored).
    pub fn remember_env(&self, env: Arc<SealedEnv>) {
        if let Some(o) = env.objects() {
            let mut cache = self.objects.lock().unwrap();
            for (d, bytes) in &o.objects {
                cache.insert(*d, bytes.clone());
            }
        }
        self.envs.lock().unwrap().insert(env.digest, env);
    }
}
