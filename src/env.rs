//! Environment versions: working directory, variables, shell state and a
//! file tree, and their canonical, content-addressed form.
//!
//! An environment is immutable once stored. Its identity is the sha256 of its
//! canonical JSON (`cwd`, `vars`, `shell` when not empty, and the tree's
//! digest). A tree is stored as content-addressed directory objects
//! ([`objects`], format in ARCHITECTURE.md), and file contents are blobs
//! addressed by their sha256; environments stored before migration 0004 keep
//! their tree as one JSON manifest blob ([`Tree::manifest`]) and their digests.
//! This module also moves trees between that form and a host directory
//! (`materialize` / `scan`), which is how the runtimes give a guest its
//! files. It knows nothing about PostgreSQL.

pub mod objects;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::fs;
use std::io;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A sha256 digest: shown and serialized as lower-case hex, stored in
/// PostgreSQL as `bytea` (32 bytes; anything else is refused on reading).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

pub fn sha256(data: &[u8]) -> Digest {
    Digest(Sha256::digest(data).into())
}

impl Digest {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Result<Digest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).with_context(|| format!("{s:?} is not a sha256 digest in hex"))?;
        Ok(Digest(out))
    }
}

impl std::ops::Deref for Digest {
    type Target = [u8; 32];
    fn deref(&self) -> &[u8; 32] {
        &self.0
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; 32]> for Digest {
    fn from(b: [u8; 32]) -> Digest {
        Digest(b)
    }
}

impl TryFrom<&[u8]> for Digest {
    type Error = std::array::TryFromSliceError;
    fn try_from(b: &[u8]) -> std::result::Result<Digest, Self::Error> {
        Ok(Digest(b.try_into()?))
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl std::str::FromStr for Digest {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Digest> {
        Digest::from_hex(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

impl postgres_types::ToSql for Digest {
    fn to_sql(
        &self,
        ty: &postgres_types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.as_slice().to_sql(ty, out)
    }
    postgres_types::accepts!(BYTEA);
    postgres_types::to_sql_checked!();
}

impl<'a> postgres_types::FromSql<'a> for Digest {
    fn from_sql(
        ty: &postgres_types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Digest, Box<dyn std::error::Error + Sync + Send>> {
        let b = <&[u8] as postgres_types::FromSql>::from_sql(ty, raw)?;
        Ok(Digest::try_from(b).map_err(|_| format!("a digest of {} bytes, not 32", b.len()))?)
    }
    postgres_types::accepts!(BYTEA);
}

/// One node of a file tree. Paths are kept by the owning [`Tree`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Entry {
    File {
        digest: Digest,
        size: u64,
        mode: u32,
        mtime_ns: i64,
    },
    Dir {
        mode: u32,
        mtime_ns: i64,
    },
    Symlink {
        target: String,
    },
}

/// A file tree: relative paths ("d/f", no leading slash, no `.`/`..`) to entries.
/// Parents of every path are present as `Dir` entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tree {
    pub entries: BTreeMap<String, Entry>,
}

impl Tree {
    /// The canonical manifest bytes (sorted keys, fixed field order).
    pub fn manifest(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a tree always serializes")
    }

    pub fn from_manifest(bytes: &[u8]) -> Result<Tree> {
        let tree: Tree = serde_json::from_slice(bytes).context("parsing a tree manifest")?;
        for path in tree.entries.keys() {
            check_rel_path(path)?;
        }
        Ok(tree)
    }

    pub fn file_count(&self) -> usize {
        self.entries.len()
    }

    pub fn total_bytes(&self) -> u64 {
        self.entries
            .values()
            .map(|e| match e {
                Entry::File { size, .. } => *size,
                _ => 0,
            })
            .sum()
    }

    /// Digests of every file in the tree.
    pub fn file_digests(&self) -> impl Iterator<Item = &Digest> {
        self.entries.values().filter_map(|e| match e {
            Entry::File { digest, .. } => Some(digest),
            _ => None,
        })
    }

    /// Whether `abs` (an absolute, normalized guest path) names a directory.
    pub fn is_dir(&self, abs: &str) -> bool {
        let rel = abs.trim_start_matches('/');
        rel.is_empty() || matches!(self.entries.get(rel), Some(Entry::Dir { .. }))
    }

    pub fn get(&self, abs: &str) -> Option<&Entry> {
        self.entries.get(abs.trim_start_matches('/'))
    }
}

/// Rejects paths that could leave the tree when joined onto a host directory.
pub fn check_rel_path(path: &str) -> Result<()> {
    if path.is_empty()
        || path.starts_with('/')
        || path.contains('\0')
        || path.split('/').any(|c| c.is_empty() || c == "." || c == "..")
    {
        bail!("invalid path in file tree: {path:?}");
    }
    Ok(())
}

/// Lexically resolves `path` against `cwd` into a normalized absolute path.
/// `..` at the root stays at the root, as in POSIX.
pub fn resolve_path(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined;
    let full = if path.starts_with('/') {
        path
    } else {
        joined = format!("{cwd}/{path}");
        &joined
    };
    for comp in full.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What the shell language keeps between command lines besides the working
/// directory and the exported variables. Empty for now (the language fills
/// it); an empty state leaves an environment's digest as it was before the
/// state existed, and so does any field added later while it stays empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShellState {
    /// Function definitions: name -> source text of the definition.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, String>,
    /// Shell options that are on (`errexit`, `nounset`, `pipefail`, ...).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub options: BTreeSet<String>,
    /// Shell variables that are not exported (exported ones are `Env::vars`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// Names of read-only variables (exported or not).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub readonly: BTreeSet<String>,
    /// The positional parameters (`set -- a b`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl ShellState {
    pub fn is_empty(&self) -> bool {
        self == &ShellState::default()
    }
}

/// The whole state a command starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub cwd: String,
    pub vars: BTreeMap<String, String>,
    pub tree: Tree,
    pub shell: ShellState,
}

impl Default for Env {
    fn default() -> Env {
        Env { cwd: "/".into(), vars: BTreeMap::new(), tree: Tree::default(), shell: ShellState::default() }
    }
}

/// An environment in its stored form, with the digests that identify it.
#[derive(Clone, Debug)]
pub struct SealedEnv {
    pub env: Env,
    pub digest: Digest,
    pub tree: SealedTree,
}

/// How an environment's tree is stored.
#[derive(Clone, Debug)]
pub enum SealedTree {
    /// Before migration 0004: one manifest blob (`Tree::manifest`) with this
    /// digest. Loaded as stored, never written any more.
    Manifest(Digest),
    /// Directory objects under a root (every environment sealed today).
    Objects(Arc<objects::EncodedTree>),
}

impl SealedEnv {
    /// The tree's digest as the environment's digest covers it: the root
    /// object's, or the manifest blob's for an environment stored before 0004.
    pub fn tree_digest(&self) -> Digest {
        match &self.tree {
            SealedTree::Manifest(d) => *d,
            SealedTree::Objects(o) => o.root,
        }
    }

    pub fn objects(&self) -> Option<&objects::EncodedTree> {
        match &self.tree {
            SealedTree::Objects(o) => Some(o),
            SealedTree::Manifest(_) => None,
        }
    }

    /// The digest these same contents get when sealed today: the digest
    /// itself, except for an environment stored in the manifest form. Replay
    /// compares recorded and replayed environments by it.
    pub fn current_digest(&self) -> Digest {
        match &self.tree {
            SealedTree::Objects(_) => self.digest,
            SealedTree::Manifest(_) => self.env.clone().seal().digest,
        }
    }

    /// Tree objects this environment needs stored when `base` (an
    /// environment already stored, if any) is.
    pub fn objects_not_in<'a>(&'a self, base: Option<&SealedEnv>) -> Vec<(&'a Digest, &'a objects::Object)> {
        match self.objects() {
            Some(o) => o.objects_not_in(base.and_then(|b| b.objects())),
            None => Vec::new(),
        }
    }
}

impl Env {
    /// The environment of a session before its first command.
    pub fn initial(user: &str) -> Env {
        let vars = [
            ("HOME", "/"),
            ("PATH", "/bin"),
            ("PWD", "/"),
            ("SHELL", "pg_shell"),
            ("USER", user),
            ("LOGNAME", user),
            ("LANG", "C.UTF-8"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Env { cwd: "/".into(), vars, ..Env::default() }
    }

    /// Seals the environment, encoding its whole tree into objects.
    pub fn seal(self) -> SealedEnv {
        let encoded = objects::encode(&self.tree);
        self.seal_encoded(encoded)
    }

    /// Seals the environment reusing the objects of `base` (usually the
    /// environment the command started from) for everything that did not
    /// change: the same result as [`Env::seal`], at a cost that follows the
    /// change rather than the tree.
    pub fn seal_from(self, base: &SealedEnv) -> SealedEnv {
        match base.objects() {
            Some(b) => {
                let encoded = objects::encode_on(&self.tree, &base.env.tree, b);
                self.seal_encoded(encoded)
            }
            None => self.seal(),
        }
    }

    /// An environment decoded from stored objects.
    pub fn seal_encoded(self, encoded: objects::EncodedTree) -> SealedEnv {
        let digest = canonical_digest(&self, TreeRef::Root(&encoded.root));
        SealedEnv { env: self, digest, tree: SealedTree::Objects(Arc::new(encoded)) }
    }

    /// Seals an environment stored before 0004 as it was then: the digest
    /// covers the manifest's digest, recomputed from the tree.
    pub fn seal_manifest(self) -> SealedEnv {
        let manifest_digest = sha256(&self.tree.manifest());
        let digest = canonical_digest(&self, TreeRef::Manifest(&manifest_digest));
        SealedEnv { env: self, digest, tree: SealedTree::Manifest(manifest_digest) }
    }
}

/// The digest of `env`'s cwd, variables and shell state over a tree root
/// already encoded (its `tree` is not looked at): what [`Env::seal`] gives
/// when the tree encodes to `root`. For rewriting an environment's
/// variables without its tree (masks in an export).
pub fn digest_over_root(env: &Env, root: &Digest) -> Digest {
    canonical_digest(env, TreeRef::Root(root))
}

/// As [`digest_over_root`] for an environment stored before 0004 (a manifest).
pub fn digest_over_manifest(env: &Env, manifest: &Digest) -> Digest {
    canonical_digest(env, TreeRef::Manifest(manifest))
}

enum TreeRef<'a> {
    Manifest(&'a Digest),
    Root(&'a Digest),
}

/// sha256 of the canonical JSON `{"cwd":..,"root":"<hex>","shell":{..},"vars":{..}}`
/// (`shell` only when not empty); an environment stored before 0004 has
/// `"tree":"<manifest hex>"` instead of `"root"`, exactly as 0001 hashed it.
fn canonical_digest(env: &Env, tree: TreeRef<'_>) -> Digest {
    #[derive(Serialize)]
    struct Canonical<'a> {
        cwd: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        root: Option<String>,
        #[serde(skip_serializing_if = "ShellState::is_empty")]
        shell: &'a ShellState,
        #[serde(skip_serializing_if = "Option::is_none")]
        tree: Option<String>,
        vars: &'a BTreeMap<String, String>,
    }
    let (root, tree) = match tree {
        TreeRef::Root(d) => (Some(hex::encode(d)), None),
        TreeRef::Manifest(d) => (None, Some(hex::encode(d))),
    };
    let bytes = serde_json::to_vec(&Canonical { cwd: &env.cwd, root, shell: &env.shell, tree, vars: &env.vars })
        .expect("serializes");
    sha256(&bytes)
}

/// Where a materialized tree lives on the host, removed on drop.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// A fresh empty directory in the OS temp dir (`TMPDIR`), private to
    /// the executor's user (tempfile creates it 0700). Native commands do
    /// not use it: they get a slot of their own (`runtime::native::Scratch`).
    pub fn new() -> Result<Workdir> {
        let dir = tempfile::Builder::new()
            .prefix("pg_shell-")
            .tempdir()
            .context("creating a scratch directory for the command's files")?;
        Ok(Workdir { dir })
    }

    /// The host directory that the guest sees as `/`.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes `tree` under `root`, taking file contents from `blob`. Timestamps are
/// set to the recorded ones so the guest sees recorded values.
pub fn materialize(root: &Path, tree: &Tree, mut blob: impl FnMut(&Digest) -> Option<std::sync::Arc<Vec<u8>>>) -> Result<()> {
    // BTreeMap order puts every parent before its children.
    for (path, entry) in &tree.entries {
        check_rel_path(path)?;
        let host = root.join(path);
        match entry {
            Entry::Dir { mode, .. } => {
                let _ = mode; // set after the children exist, below
                fs::create_dir(&host).with_context(|| format!("creating directory {path}"))?;
            }
            Entry::File { digest, mode, size, .. } => {
                let data = blob(digest).with_context(|| format!("contents of {path} ({}) are missing", hex::encode(digest)))?;
                if data.len() as u64 != *size {
                    bail!("blob for {path} has {} bytes, manifest says {size}", data.len());
                }
                fs::write(&host, &**data).with_context(|| format!("writing {path}"))?;
                set_mode(&host, *mode)?;
            }
            Entry::Symlink { target } => {
                #[cfg(unix)]
                std::os::unix::fs::symlink(target, &host).with_context(|| format!("creating symlink {path}"))?;
                #[cfg(not(unix))]
                let _ = target;
            }
        }
    }
    // Timestamps and directory modes last, children before parents: creating a
    // child touches its parent, and a read-only parent would refuse the child.
    for (path, entry) in tree.entries.iter().rev() {
        let host = root.join(path);
        match entry {
            Entry::File { mtime_ns, .. } => set_mtime(&host, *mtime_ns),
            Entry::Dir { mtime_ns, mode } => set_mtime(&host, *mtime_ns).and_then(|()| set_mode(&host, *mode)),
            Entry::Symlink { .. } => Ok(()),
        }
        .with_context(|| format!("setting the time and mode of {path}"))?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o777))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

fn set_mtime(path: &Path, mtime_ns: i64) -> io::Result<()> {
    let t = system_time(mtime_ns);
    let f = fs::File::open(path)?;
    f.set_times(fs::FileTimes::new().set_modified(t).set_accessed(t))
}

pub fn system_time(ns: i64) -> std::time::SystemTime {
    let epoch = std::time::UNIX_EPOCH;
    if ns >= 0 {
        epoch + std::time::Duration::from_nanos(ns as u64)
    } else {
        epoch - std::time::Duration::from_nanos(ns.unsigned_abs())
    }
}

fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).ok(),
            Err(e) => i64::try_from(e.duration().as_nanos()).ok().map(|n| -n),
        })
        .unwrap_or(0)
}

/// What a scan found: the new tree, new file contents, and notes on entries
/// that could not be kept (odd file types, names that are not UTF-8).
pub struct Scan {
    pub tree: Tree,
    pub new_blobs: Vec<(Digest, Vec<u8>)>,
    pub notes: Vec<String>,
}

/// Limits checked while scanning so a runaway guest cannot make us read
/// unbounded data back.
#[derive(Clone, Copy, Debug)]
pub struct TreeLimits {
    pub max_bytes: u64,
    pub max_files: usize,
}

/// Why a command's files could not be taken back. Both are the command's
/// doing (it wrote too much, or something unreadable such as a path longer
/// than the host allows), so the executor records them instead of retrying.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("file tree exceeds its limit: {0}")]
    TooLarge(String),
    #[error("files could not be read back: {0}")]
    Unreadable(String),
}

impl From<anyhow::Error> for ScanError {
    fn from(e: anyhow::Error) -> Self {
        ScanError::Unreadable(format!("{e:#}"))
    }
}

/// Reads the directory `root` back into a tree. Entries that did not change
/// keep their recorded metadata; changed ones get `now_ns` as their time, so
/// the result depends only on what the guest did, not on the host's clock.
/// Symlinks are recorded, never followed.
pub fn scan(root: &Path, before: &Tree, now_ns: i64, set_times: &[u64], limits: TreeLimits) -> Result<Scan, ScanError> {
    // A changed entry keeps its host time only when the guest set that time
    // itself (`touch -d`); any other host time is the host's clock.
    let keep = |host: i64, fallback: i64| if host >= 0 && set_times.contains(&(host as u64)) { host } else { fallback };
    let mut out = Scan {
        tree: Tree::default(),
        new_blobs: Vec::new(),
        notes: Vec::new(),
    };
    let mut bytes = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let rd = fs::read_dir(&dir).with_context(|| format!("reading directory /{prefix}"))?;
        for item in rd {
            let item = item.context("reading a directory entry")?;
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                out.notes.push(format!("skipped a file whose name is not UTF-8 in /{prefix}"));
                continue;
            };
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let host = item.path();
            let meta = fs::symlink_metadata(&host).with_context(|| format!("stat /{rel}"))?;
            if out.tree.entries.len() >= limits.max_files {
                return Err(ScanError::TooLarge(format!("more than {} files and directories", limits.max_files)));
            }
            let old = before.entries.get(&rel);
            let ft = meta.file_type();
            let entry = if ft.is_dir() {
                let mode = mode_of(&meta);
                let host_mtime = mtime_ns(&meta);
                let mtime_ns = match old {
                    Some(Entry::Dir { mtime_ns, .. }) if *mtime_ns == host_mtime => *mtime_ns,
                    _ => keep(host_mtime, now_ns),
                };
                stack.push((host.clone(), rel.clone()));
                Entry::Dir { mode, mtime_ns }
            } else if ft.is_file() {
                bytes += meta.len();
                if bytes > limits.max_bytes {
                    return Err(ScanError::TooLarge(format!("more than {} bytes of files", limits.max_bytes)));
                }
                let data = fs::read(&host).with_context(|| format!("reading /{rel}"))?;
                let digest = sha256(&data);
                let mode = mode_of(&meta);
                let host_mtime = mtime_ns(&meta);
                let mtime_ns = match old {
                    Some(Entry::File { digest: d, mtime_ns, .. }) if *d == digest && *mtime_ns == host_mtime => *mtime_ns,
                    _ => keep(host_mtime, now_ns),
                };
                if !matches!(old, Some(Entry::File { digest: d, .. }) if *d == digest) {
                    out.new_blobs.push((digest, data));
                }
                Entry::File {
                    digest,
                    size: meta.len(),
                    mode,
                    mtime_ns,
                }
            } else if ft.is_symlink() {
                let target = fs::read_link(&host).with_context(|| format!("readlink /{rel}"))?;
                match target.to_str() {
                    Some(t) => Entry::Symlink { target: t.to_owned() },
                    None => {
                        out.notes.push(format!("skipped symlink /{rel}: target is not UTF-8"));
                        continue;
                    }
                }
            } else {
                out.notes.push(format!("skipped /{rel}: not a file, directory or symlink"));
                continue;
            };
            out.tree.entries.insert(rel, entry);
        }
    }
    Ok(out)
}

fn mode_of(meta: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        if meta.permissions().readonly() { 0o444 } else { 0o644 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_digest_encodes_itself_as_hex_and_refuses_what_is_not_one() {
        let d = sha256(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!((d.to_string(), d.to_hex()), (hex.to_string(), hex.to_string()));
        assert_eq!(Digest::from_hex(hex).unwrap(), d);
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<Digest>(&format!("\"{hex}\"")).unwrap(), d);
        for bad in ["", "ba78", &hex[..63], &format!("{hex}00"), &hex.replace('b', "g")] {
            assert!(Digest::from_hex(bad).is_err(), "{bad:?}");
            assert!(serde_json::from_str::<Digest>(&format!("\"{bad}\"")).is_err(), "{bad:?}");
        }
        assert!(Digest::try_from(&[0u8; 31][..]).is_err());
    }

    #[test]
    fn resolve_path_normalizes() {
        assert_eq!(resolve_path("/", "d"), "/d");
        assert_eq!(resolve_path("/a/b", ".."), "/a");
        assert_eq!(resolve_path("/a", "../../.."), "/");
        assert_eq!(resolve_path("/a", "/x/./y//z/.."), "/x/y");
    }

    #[test]
    fn hostile_manifest_paths_are_refused() {
        for bad in ["../etc", "/etc", "a/../../b", "a//b", "", "a/./b", "a\0b"] {
            let json = serde_json::json!({ bad: {"kind": "dir", "mode": 493, "mtime_ns": 0} });
            assert!(Tree::from_manifest(json.to_string().as_bytes()).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn digest_is_canonical_and_sensitive() {
        let a = Env::initial("alice").seal();
        let b = Env::initial("alice").seal();
        assert_eq!(a.digest, b.digest);
        let mut e = Env::initial("alice");
        e.cwd = "/d".into();
        assert_ne!(e.seal().digest, a.digest);
    }

    /// Digests as the code before migration 0004 computed them (fixed here
    /// from that code): environments stored then must keep them.
    #[test]
    fn manifest_environments_keep_their_digests() {
        let a = Env::initial("alice").seal_manifest();
        assert_eq!(hex::encode(a.digest), "ed9661c3bddc261f2d0051443a4578d6a2cf47396dd1e4e29d600f3dc99b7a84");
        let mut e = Env::initial("bob");
        e.cwd = "/d".into();
        e.vars.insert("X".into(), "a \"q\" \n ü".into());
        e.tree.entries.insert("d".into(), Entry::Dir { mode: 0o755, mtime_ns: 1_000 });
        e.tree.entries.insert("d/f\nx".into(), Entry::File { digest: sha256(b"hi"), size: 2, mode: 0o644, mtime_ns: -5 });
        e.tree.entries.insert("l".into(), Entry::Symlink { target: "/etc".into() });
        let s = e.clone().seal_manifest();
        assert_eq!(hex::encode(s.digest), "66cda881ab86f9f3467d39bcafe8a7bb0b154a1bce5dc3f38db0cc96e95f74e6");
        // Today's form of the same contents is another digest, and replay
        // compares through it.
        let today = e.seal();
        assert_ne!(today.digest, s.digest);
        assert_eq!(s.current_digest(), today.digest);
        assert_eq!(today.current_digest(), today.digest);
    }

    #[test]
    fn shell_state_counts_only_when_not_empty() {
        let plain = Env::initial("alice").seal();
        let mut e = Env::initial("alice");
        e.shell = ShellState::default();
        assert_eq!(e.clone().seal().digest, plain.digest, "an empty shell state changes nothing");
        e.shell.vars.insert("x".into(), "1".into());
        let with_var = e.clone().seal();
        assert_ne!(with_var.digest, plain.digest);
        e.shell.options.insert("errexit".into());
        assert_ne!(e.clone().seal().digest, with_var.digest);
        // It round-trips through JSON as the database stores it, and its
        // canonical form is independent of the JSON's key order.
        let json = serde_json::to_value(&e.shell).unwrap();
        assert_eq!(json, serde_json::json!({"options": ["errexit"], "vars": {"x": "1"}}));
        let back: ShellState = serde_json::from_value(json).unwrap();
        assert_eq!(back, e.shell);
        let empty: ShellState = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn sealing_on_a_base_equals_sealing_afresh() {
        let mut e = Env::initial("alice");
        for i in 0..500 {
            e.tree.entries.insert(format!("f{i}"), Entry::File { digest: sha256(&[i as u8]), size: 1, mode: 0o644, mtime_ns: i });
        }
        let base = e.clone().seal();
        let mut next = e.clone();
        next.tree.entries.insert("f250".into(), Entry::File { digest: Digest([1; 32]), size: 9, mode: 0o600, mtime_ns: 7 });
        next.cwd = "/x".into();
        let a = next.clone().seal_from(&base);
        let b = next.seal();
        assert_eq!(a.digest, b.digest);
        assert!(a.objects_not_in(Some(&base)).len() <= 3);
        assert_eq!(b.objects_not_in(None).len(), b.objects().unwrap().objects.len());
    }

    #[test]
    fn materialize_then_scan_round_trips() {
        let mut tree = Tree::default();
        let data = b"hello\n".to_vec();
        let d = sha256(&data);
        tree.entries.insert("d".into(), Entry::Dir { mode: 0o755, mtime_ns: 1_000_000_000 });
        tree.entries.insert("d/f".into(), Entry::File { digest: d, size: 6, mode: 0o644, mtime_ns: 2_000_000_000 });
        tree.entries.insert("l".into(), Entry::Symlink { target: "/etc/passwd".into() });
        let w = Workdir::new().unwrap();
        let blob = Arc::new(data.clone());
        materialize(w.root(), &tree, |x| (x == &d).then(|| blob.clone())).unwrap();
        let limits = TreeLimits { max_bytes: 1 << 20, max_files: 100 };
        let s = scan(w.root(), &tree, 99, &[], limits).unwrap();
        assert_eq!(s.tree, tree);
        assert!(s.new_blobs.is_empty());
        // A change shows up with the virtual time and a new blob.
        fs::write(w.root().join("d/f"), b"changed").unwrap();
        let s = scan(w.root(), &tree, 99, &[], limits).unwrap();
        match s.tree.entries.get("d/f").unwrap() {
            Entry::File { size, mtime_ns, .. } => assert_eq!((*size, *mtime_ns), (7, 99)),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.new_blobs.len(), 1);
        let tight = TreeLimits { max_bytes: 3, max_files: 100 };
        assert!(matches!(scan(w.root(), &tree, 99, &[], tight), Err(ScanError::TooLarge(_))));
    }
}
