//! The guests' filesystem: an in-memory tree of inodes, seeded lazily from an
//! environment's recorded [`Tree`], never backed by a host directory.
//!
//! What lives here: inodes (files, directories, symlinks), path resolution
//! confined to a directory (as cap-std confines wasmtime-wasi's preopens:
//! `..` above the starting directory and absolute symlinks are refused with
//! EPERM), the operations preview1 needs (open, read/write at offsets,
//! truncate, mkdir, rmdir, unlink, rename, link, symlink, readlink, stat,
//! set times, list), limits enforced at the moment of each write or create,
//! and turning the result back into a [`Tree`]. What does not: descriptors,
//! rights, guest memory (`runtime::wasi`), PostgreSQL (blobs come through a
//! [`BlobSource`]).
//!
//! Seeding is lazy: a directory that came from the recorded tree answers a
//! lookup by one ordered-map probe of the base tree; nodes are made only for
//! names a guest touches, and file contents are fetched only when read or
//! written. Untouched subtrees are copied from the base at the end. So
//! `echo hi` costs the same in a session of 9,000 files as in an empty one.
//!
//! Determinism: inode numbers are given in order of first sight, directory
//! listings are in byte order of the names (after `.` and `..`), and every
//! time comes from the caller (the guest's virtual clock). The same calls
//! give the same results on every OS.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use crate::env::{sha256, Digest, Entry, Tree};

pub type Ino = u64;

/// preview1 errno values the filesystem returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    Acces = 2,
    Badf = 8,
    Busy = 10,
    Dquot = 19,
    Exist = 20,
    Fbig = 22,
    Fault = 21,
    Ilseq = 25,
    Inval = 28,
    Io = 29,
    Isdir = 31,
    Loop = 32,
    Mlink = 34,
    Nametoolong = 37,
    Noent = 44,
    Nomem = 48,
    Nospc = 51,
    Notdir = 54,
    Notempty = 55,
    Notsock = 57,
    Notsup = 58,
    Notty = 59,
    Overflow = 61,
    Perm = 63,
    Pipe = 64,
    Spipe = 70,
    Xdev = 75,
    Notcapable = 76,
}

pub type FsResult<T> = Result<T, Errno>;

/// Where file contents that are not yet in memory come from.
pub trait BlobSource: Send + Sync {
    fn get(&self, digest: &Digest) -> Result<Arc<Vec<u8>>, String>;
}

/// Limits of one environment's files, enforced at each write and create.
#[derive(Clone, Copy, Debug)]
pub struct VfsLimits {
    pub max_bytes: u64,
    pub max_files: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

/// What `stat` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub ino: Ino,
    pub kind: Kind,
    pub nlink: u64,
    pub size: u64,
    pub atim: i64,
    pub mtim: i64,
    pub ctim: i64,
}

const MAX_SYMLINKS: usize = 40;
const MAX_NAME: usize = 255;
/// Largest file offset a guest may write at (as a 64-bit `off_t`).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

enum Data {
    /// Recorded contents not fetched yet.
    Lazy { digest: Digest, size: u64 },
    /// Contents in memory; `digest` is known while they are unchanged.
    Mem { bytes: Arc<Vec<u8>>, digest: Option<Digest> },
}

impl Data {
    fn size(&self) -> u64 {
        match self {
            Data::Lazy { size, .. } => *size,
            Data::Mem { bytes, .. } => bytes.len() as u64,
        }
    }
}

struct DirNode {
    parent: Ino,
    /// The path of the recorded directory this one lists (None: made during the run).
    base: Option<String>,
    /// Names looked up or changed: Some(inode), or None for a removed recorded name.
    overlay: BTreeMap<String, Option<Ino>>,
    /// Subdirectories added minus removed during the run.
    subdir_delta: i64,
}

enum Body {
    File(Data),
    Dir(DirNode),
    Symlink(String),
}

struct Node {
    body: Body,
    mode: u32,
    nlink: u64,
    atim: i64,
    mtim: i64,
    ctim: i64,
    /// Open descriptors (a removed file lives on while one is open).
    open: u32,
}

impl Node {
    fn kind(&self) -> Kind {
        match self.body {
            Body::File(_) => Kind::File,
            Body::Dir(_) => Kind::Dir,
            Body::Symlink(_) => Kind::Symlink,
        }
    }
}

pub const ROOT: Ino = 1;

/// A recorded tree with what every command starting from it needs to know,
/// computed once (the executor shares one per environment between commands).
pub struct Base {
    pub tree: Tree,
    bytes: u64,
    files: usize,
    /// Names of the directories directly under the root, in order.
    top_dirs: Vec<String>,
    /// Subdirectories of each recorded directory (by path, "" = root), so a
    /// directory's link count needs no listing.
    subdirs: HashMap<String, u64>,
}

impl Base {
    pub fn new(tree: Tree) -> Base {
        let top_dirs = tree.entries.iter().filter(|(k, e)| !k.contains('/') && matches!(e, Entry::Dir { .. })).map(|(k, _)| k.clone()).collect();
        let mut subdirs: HashMap<String, u64> = HashMap::new();
        for (k, e) in &tree.entries {
            if matches!(e, Entry::Dir { .. }) {
                let parent = k.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                *subdirs.entry(parent.to_string()).or_default() += 1;
            }
        }
        Base { bytes: tree.total_bytes(), files: tree.file_count(), top_dirs, subdirs, tree }
    }
}

pub struct Vfs {
    nodes: HashMap<Ino, Node>,
    next_ino: Ino,
    base: Arc<Base>,
    blobs: Arc<dyn BlobSource>,
    limits: VfsLimits,
    /// Bytes of file contents and number of entries in the tree now.
    bytes: u64,
    files: usize,
    changed: bool,
    /// Contents made during this run, by digest (after `commit`).
    new_blobs: HashMap<Digest, Arc<Vec<u8>>>,
    /// Writes and creates refused by a limit, for the recorded outcome.
    pub refusals: Vec<String>,
    /// The time recorded entries without one (symlinks) show.
    epoch_ns: i64,
}

/// A resolved path: the directory holding the last component, its name, and
/// the inode it names (if any).
pub struct Found {
    pub parent: Ino,
    pub name: String,
    pub ino: Option<Ino>,
    /// The path ended in `/` (the last component must be a directory).
    pub trailing_slash: bool,
}

impl Vfs {
    pub fn new(base: Arc<Base>, blobs: Arc<dyn BlobSource>, limits: VfsLimits, epoch_ns: i64) -> Vfs {
        let (bytes, files) = (base.bytes, base.files);
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Node {
                body: Body::Dir(DirNode { parent: ROOT, base: Some(String::new()), overlay: BTreeMap::new(), subdir_delta: 0 }),
                mode: 0o755,
                nlink: 2,
                atim: 0,
                mtim: 0,
                ctim: 0,
                open: 0,
            },
        );
        Vfs { nodes, next_ino: ROOT + 1, base, blobs, limits, bytes, files, changed: false, new_blobs: HashMap::new(), refusals: Vec::new(), epoch_ns }
    }

    /// The recorded tree this filesystem started from.
    pub fn base_tree(&self) -> &Tree {
        &self.base.tree
    }

    pub fn changed(&self) -> bool {
        self.changed
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn node(&self, ino: Ino) -> FsResult<&Node> {
        self.nodes.get(&ino).ok_or(Errno::Badf)
    }

    fn node_mut(&mut self, ino: Ino) -> FsResult<&mut Node> {
        self.nodes.get_mut(&ino).ok_or(Errno::Badf)
    }

    pub fn kind(&self, ino: Ino) -> FsResult<Kind> {
        Ok(self.node(ino)?.kind())
    }

    fn alloc(&mut self, node: Node) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        ino
    }

    /// A node for a recorded entry at `path` under directory `parent`.
    fn node_from_base(&mut self, parent: Ino, path: &str, entry: &Entry) -> Ino {
        let (body, mode, mtim) = match entry {
            Entry::File { digest, size, mode, mtime_ns } => (Body::File(Data::Lazy { digest: *digest, size: *size }), *mode, *mtime_ns),
            Entry::Dir { mode, mtime_ns } => {
                (Body::Dir(DirNode { parent, base: Some(path.to_string()), overlay: BTreeMap::new(), subdir_delta: 0 }), *mode, *mtime_ns)
            }
            Entry::Symlink { target } => (Body::Symlink(target.clone()), 0o777, self.epoch_ns),
        };
        let nlink = if matches!(body, Body::Dir(_)) { 2 } else { 1 };
        self.alloc(Node { body, mode, nlink, atim: mtim, mtim, ctim: mtim, open: 0 })
    }

    /// The inode `name` names in directory `dir`, if any.
    pub fn child(&mut self, dir: Ino, name: &str) -> FsResult<Option<Ino>> {
        let Body::Dir(d) = &self.node(dir)?.body else { return Err(Errno::Notdir) };
        if let Some(slot) = d.overlay.get(name) {
            return Ok(*slot);
        }
        let Some(prefix) = &d.base else { return Ok(None) };
        let path = join(prefix, name);
        let base = self.base.clone();
        let Some(entry) = base.tree.entries.get(&path) else { return Ok(None) };
        let ino = self.node_from_base(dir, &path, entry);
        if let Body::Dir(d) = &mut self.node_mut(dir)?.body {
            d.overlay.insert(name.to_string(), Some(ino));
        }
        Ok(Some(ino))
    }

    /// Every entry of a directory, in byte order of the names.
    pub fn list(&mut self, dir: Ino) -> FsResult<Vec<(String, Ino, Kind)>> {
        let Body::Dir(d) = &self.node(dir)?.body else { return Err(Errno::Notdir) };
        let mut names: Vec<String> = d.overlay.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect();
        if let Some(prefix) = d.base.clone() {
            let overlay: Vec<String> = d.overlay.keys().cloned().collect();
            for name in base_children(&self.base.tree, &prefix) {
                if overlay.binary_search(&name).is_err() {
                    names.push(name);
                }
            }
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if let Some(ino) = self.child(dir, &name)? {
                out.push((name, ino, self.node(ino)?.kind()));
            }
        }
        Ok(out)
    }

    fn is_empty_dir(&mut self, dir: Ino) -> FsResult<bool> {
        Ok(self.list(dir)?.is_empty())
    }

    /// Names of every directory directly under the root now, in byte order,
    /// found without making nodes for the files beside them.
    pub fn top_level_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.base.top_dirs.clone();
        if let Some(Node { body: Body::Dir(d), .. }) = self.nodes.get(&ROOT) {
            names.retain(|n| !d.overlay.contains_key(n));
            for (k, v) in &d.overlay {
                if let Some(ino) = v {
                    if matches!(self.nodes.get(ino).map(|n| n.kind()), Some(Kind::Dir)) {
                        names.push(k.clone());
                    }
                }
            }
        }
        names.sort();
        names
    }

    /// The top-level directories among `names` (in the given order, without
    /// repeats), with their inodes.
    pub fn top_level_dirs(&mut self, names: &[&str]) -> Vec<(String, Ino)> {
        let mut found: Vec<(String, Ino)> = Vec::new();
        for name in names {
            if found.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Ok(Some(ino)) = self.child(ROOT, name) {
                if matches!(self.nodes.get(&ino).map(|n| n.kind()), Some(Kind::Dir)) {
                    found.push((name.to_string(), ino));
                }
            }
        }
        found
    }

    // --- path resolution ------------------------------------------------

    /// Resolves `path` relative to directory `start`, never leaving `start`'s
    /// subtree. Symlinks in the middle are always followed; the last one only
    /// with `follow`.
    pub fn resolve(&mut self, start: Ino, path: &str, follow: bool) -> FsResult<Found> {
        if path.is_empty() {
            return Err(Errno::Noent);
        }
        if path.contains('\0') {
            return Err(Errno::Inval);
        }
        if path.starts_with('/') {
            return Err(Errno::Perm);
        }
        let mut stack: Vec<Ino> = vec![start];
        let mut queue: std::collections::VecDeque<String> = path.split('/').map(str::to_string).collect();
        let mut trailing_slash = path.ends_with('/');
        let mut links = 0usize;
        // The last real component seen, with its parent (for the result).
        let mut last: Option<(Ino, String, Option<Ino>)> = None;
        while let Some(comp) = queue.pop_front() {
            let at_end = queue.iter().all(|c| c.is_empty() || c == ".") ;
            let cur = *stack.last().unwrap();
            if self.node(cur)?.kind() != Kind::Dir {
                return Err(Errno::Notdir);
            }
            match comp.as_str() {
                "" | "." => {
                    if comp == "." && at_end {
                        last = Some((cur, ".".into(), Some(cur)));
                    }
                    continue;
                }
                ".." => {
                    if stack.len() == 1 {
                        return Err(Errno::Perm);
                    }
                    stack.pop();
                    if at_end {
                        let now = *stack.last().unwrap();
                        last = Some((now, "..".into(), Some(now)));
                    }
                    continue;
                }
                name => {
                    if name.len() > MAX_NAME {
                        return Err(Errno::Nametoolong);
                    }
                    let child = self.child(cur, name)?;
                    match child {
                        None => {
                            if at_end {
                                last = Some((cur, name.to_string(), None));
                                continue;
                            }
                            return Err(Errno::Noent);
                        }
                        Some(ino) => {
                            let is_link = self.node(ino)?.kind() == Kind::Symlink;
                            if is_link && (!at_end || follow || trailing_slash) {
                                links += 1;
                                if links > MAX_SYMLINKS {
                                    return Err(Errno::Loop);
                                }
                                let Body::Symlink(target) = &self.node(ino)?.body else { unreachable!() };
                                let target = target.clone();
                                if target.starts_with('/') {
                                    return Err(Errno::Perm);
                                }
                                if target.is_empty() {
                                    return Err(Errno::Noent);
                                }
                                if target.ends_with('/') && at_end {
                                    trailing_slash = true;
                                }
                                let mut rest: Vec<String> = target.split('/').map(str::to_string).collect();
                                rest.extend(queue.drain(..));
                                queue = rest.into();
                                continue;
                            }
                            if at_end {
                                last = Some((cur, name.to_string(), Some(ino)));
                            }
                            stack.push(ino);
                        }
                    }
                }
            }
        }
        let (parent, name, ino) = match last {
            Some(l) => l,
            None => (start, ".".into(), Some(*stack.last().unwrap())),
        };
        if trailing_slash {
            if let Some(i) = ino {
                if self.node(i)?.kind() != Kind::Dir {
                    return Err(Errno::Notdir);
                }
            }
        }
        Ok(Found { parent, name, ino, trailing_slash })
    }

    /// Resolves to an existing inode.
    pub fn lookup(&mut self, start: Ino, path: &str, follow: bool) -> FsResult<Ino> {
        self.resolve(start, path, follow)?.ino.ok_or(Errno::Noent)
    }

    // --- limits -----------------------------------------------------------

    fn charge_entry(&mut self) -> FsResult<()> {
        if self.files + 1 > self.limits.max_files {
            self.refusals.push(format!("a file was not created: the session's limit of {} files and directories was reached", self.limits.max_files));
            return Err(Errno::Dquot);
        }
        self.files += 1;
        Ok(())
    }

    fn uncharge_entry(&mut self) {
        self.files = self.files.saturating_sub(1);
    }

    /// Makes room for `grow` more bytes, or refuses.
    fn charge_bytes(&mut self, grow: u64) -> FsResult<()> {
        if self.bytes.saturating_add(grow) > self.limits.max_bytes {
            self.refusals.push(format!("a write was refused: the session's files would exceed their limit of {} bytes", self.limits.max_bytes));
            return Err(Errno::Nospc);
        }
        self.bytes += grow;
        Ok(())
    }

    // --- creating and removing ---------------------------------------------

    fn insert_child(&mut self, dir: Ino, name: &str, ino: Ino, now: i64) -> FsResult<()> {
        let is_dir = self.node(ino)?.kind() == Kind::Dir;
        let node = self.node_mut(dir)?;
        let Body::Dir(d) = &mut node.body else { return Err(Errno::Notdir) };
        d.overlay.insert(name.to_string(), Some(ino));
        d.subdir_delta += is_dir as i64;
        node.mtim = now;
        node.ctim = now;
        self.changed = true;
        Ok(())
    }

    fn remove_child(&mut self, dir: Ino, name: &str, now: i64) -> FsResult<()> {
        let was_dir = match self.child(dir, name)? {
            Some(i) => self.node(i)?.kind() == Kind::Dir,
            None => false,
        };
        let node = self.node_mut(dir)?;
        let Body::Dir(d) = &mut node.body else { return Err(Errno::Notdir) };
        d.overlay.insert(name.to_string(), None);
        d.subdir_delta -= was_dir as i64;
        node.mtim = now;
        node.ctim = now;
        self.changed = true;
        Ok(())
    }

    /// A directory that was removed (while a descriptor kept it) takes no new entries.
    fn check_live(&self, dir: Ino) -> FsResult<()> {
        if self.node(dir)?.nlink == 0 {
            return Err(Errno::Noent);
        }
        Ok(())
    }

    fn check_name(name: &str) -> FsResult<()> {
        if name.len() > MAX_NAME {
            return Err(Errno::Nametoolong);
        }
        Ok(())
    }

    /// Creates an empty regular file as `name` in `dir`.
    pub fn create_file(&mut self, dir: Ino, name: &str, now: i64) -> FsResult<Ino> {
        Self::check_name(name)?;
        self.check_live(dir)?;
        self.charge_entry()?;
        let ino = self.alloc(Node {
            body: Body::File(Data::Mem { bytes: Arc::new(Vec::new()), digest: None }),
            mode: 0o644,
            nlink: 1,
            atim: now,
            mtim: now,
            ctim: now,
            open: 0,
        });
        self.insert_child(dir, name, ino, now)?;
        Ok(ino)
    }

    pub fn mkdir(&mut self, start: Ino, path: &str, now: i64) -> FsResult<()> {
        let f = self.resolve(start, path, false)?;
        if f.ino.is_some() {
            return Err(Errno::Exist);
        }
        Self::check_name(&f.name)?;
        self.check_live(f.parent)?;
        self.charge_entry()?;
        let ino = self.alloc(Node {
            body: Body::Dir(DirNode { parent: f.parent, base: None, overlay: BTreeMap::new(), subdir_delta: 0 }),
            mode: 0o755,
            nlink: 2,
            atim: now,
            mtim: now,
            ctim: now,
            open: 0,
        });
        self.insert_child(f.parent, &f.name, ino, now)?;
        self.node_mut(f.parent)?.nlink += 1;
        Ok(())
    }

    /// Creates a symlink. As cap-std does, an absolute target is refused
    /// (EPERM): it could only ever lead out of the sandbox.
    pub fn symlink(&mut self, target: &str, start: Ino, path: &str, now: i64) -> FsResult<()> {
        if target.starts_with('/') {
            return Err(Errno::Perm);
        }
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        self.make_symlink(target, start, path, now)
    }

    /// Creates a symlink whatever its target (a native program's, taken back).
    fn make_symlink(&mut self, target: &str, start: Ino, path: &str, now: i64) -> FsResult<()> {
        let f = self.resolve(start, path, false)?;
        if f.ino.is_some() {
            return Err(Errno::Exist);
        }
        if f.trailing_slash {
            return Err(Errno::Noent);
        }
        Self::check_name(&f.name)?;
        self.check_live(f.parent)?;
        self.charge_entry()?;
        let ino = self.alloc(Node { body: Body::Symlink(target.to_string()), mode: 0o777, nlink: 1, atim: now, mtim: now, ctim: now, open: 0 });
        self.insert_child(f.parent, &f.name, ino, now)
    }

    pub fn readlink(&mut self, start: Ino, path: &str) -> FsResult<String> {
        let f = self.resolve(start, path, false)?;
        let ino = f.ino.ok_or(Errno::Noent)?;
        match &self.node(ino)?.body {
            Body::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::Inval),
        }
    }

    /// Drops a node no name and no descriptor refers to any more.
    fn maybe_free(&mut self, ino: Ino) {
        let Some(n) = self.nodes.get(&ino) else { return };
        if n.nlink == 0 && n.open == 0 {
            let n = self.nodes.remove(&ino).unwrap();
            if let Body::File(d) = n.body {
                self.bytes = self.bytes.saturating_sub(d.size());
            }
        }
    }

    pub fn unlink(&mut self, start: Ino, path: &str, now: i64) -> FsResult<()> {
        let f = self.resolve(start, path, false)?;
        let ino = f.ino.ok_or(Errno::Noent)?;
        if f.name == "." || f.name == ".." {
            return Err(Errno::Isdir);
        }
        match self.node(ino)?.kind() {
            Kind::Dir => return Err(Errno::Isdir),
            _ if f.trailing_slash => return Err(Errno::Notdir),
            _ => {}
        }
        self.remove_child(f.parent, &f.name, now)?;
        self.uncharge_entry();
        let n = self.node_mut(ino)?;
        n.nlink -= 1;
        n.ctim = now;
        self.maybe_free(ino);
        Ok(())
    }

    pub fn rmdir(&mut self, start: Ino, path: &str, now: i64) -> FsResult<()> {
        let f = self.resolve(start, path, false)?;
        if path.ends_with('/') && f.ino.is_some() {
            // cap-std refuses a directory named with a trailing slash here
            // (Linux rmdir would not); a file so named is ENOTDIR above.
            return Err(Errno::Inval);
        }
        let ino = f.ino.ok_or(Errno::Noent)?;
        if f.name == "." {
            return Err(Errno::Inval);
        }
        if f.name == ".." {
            return Err(Errno::Notempty);
        }
        if self.node(ino)?.kind() != Kind::Dir {
            return Err(Errno::Notdir);
        }
        if ino == ROOT {
            return Err(Errno::Busy);
        }
        if !self.is_empty_dir(ino)? {
            return Err(Errno::Notempty);
        }
        self.remove_child(f.parent, &f.name, now)?;
        self.uncharge_entry();
        self.node_mut(f.parent)?.nlink -= 1;
        self.node_mut(ino)?.nlink = 0;
        self.maybe_free(ino);
        Ok(())
    }

    pub fn link(&mut self, src_start: Ino, src: &str, follow: bool, dst_start: Ino, dst: &str, now: i64) -> FsResult<()> {
        let s = self.resolve(src_start, src, follow)?;
        let ino = s.ino.ok_or(Errno::Noent)?;
        if self.node(ino)?.kind() == Kind::Dir {
            return Err(Errno::Perm);
        }
        if s.trailing_slash {
            return Err(Errno::Notdir);
        }
        let d = self.resolve(dst_start, dst, false)?;
        if d.ino.is_some() {
            return Err(Errno::Exist);
        }
        if d.trailing_slash {
            return Err(Errno::Noent);
        }
        Self::check_name(&d.name)?;
        self.check_live(d.parent)?;
        self.charge_entry()?;
        self.insert_child(d.parent, &d.name, ino, now)?;
        let n = self.node_mut(ino)?;
        n.nlink += 1;
        n.ctim = now;
        Ok(())
    }

    /// Whether `anc` is `ino` or one of its ancestors.
    fn is_ancestor(&self, anc: Ino, mut ino: Ino) -> bool {
        loop {
            if ino == anc {
                return true;
            }
            match self.nodes.get(&ino).map(|n| &n.body) {
                Some(Body::Dir(d)) if d.parent != ino => ino = d.parent,
                _ => return false,
            }
        }
    }

    pub fn rename(&mut self, src_start: Ino, src: &str, dst_start: Ino, dst: &str, now: i64) -> FsResult<()> {
        let s = self.resolve(src_start, src, false)?;
        let ino = s.ino.ok_or(Errno::Noent)?;
        if s.name == "." || s.name == ".." {
            return Err(Errno::Busy);
        }
        let src_kind = self.node(ino)?.kind();
        if s.trailing_slash && src_kind != Kind::Dir {
            return Err(Errno::Notdir);
        }
        let d = self.resolve(dst_start, dst, false)?;
        if d.name == "." || d.name == ".." {
            return Err(Errno::Busy);
        }
        if d.trailing_slash && src_kind != Kind::Dir {
            return Err(Errno::Notdir);
        }
        Self::check_name(&d.name)?;
        self.check_live(d.parent)?;
        if src_kind == Kind::Dir && self.is_ancestor(ino, d.parent) {
            return Err(Errno::Inval);
        }
        if let Some(old) = d.ino {
            if old == ino {
                return Ok(());
            }
            let old_kind = self.node(old)?.kind();
            match (src_kind, old_kind) {
                (Kind::Dir, Kind::Dir) => {
                    if !self.is_empty_dir(old)? {
                        return Err(Errno::Notempty);
                    }
                }
                (Kind::Dir, _) => return Err(Errno::Notdir),
                (_, Kind::Dir) => return Err(Errno::Isdir),
                _ => {}
            }
            // The replaced entry goes away.
            self.remove_child(d.parent, &d.name, now)?;
            self.uncharge_entry();
            if old_kind == Kind::Dir {
                self.node_mut(d.parent)?.nlink -= 1;
                self.node_mut(old)?.nlink = 0;
            } else {
                self.node_mut(old)?.nlink -= 1;
            }
            self.maybe_free(old);
        }
        self.remove_child(s.parent, &s.name, now)?;
        self.insert_child(d.parent, &d.name, ino, now)?;
        if src_kind == Kind::Dir {
            self.node_mut(s.parent)?.nlink -= 1;
            self.node_mut(d.parent)?.nlink += 1;
            if let Body::Dir(dn) = &mut self.node_mut(ino)?.body {
                dn.parent = d.parent;
            }
        }
        self.node_mut(ino)?.ctim = now;
        Ok(())
    }

    // --- descriptors' view --------------------------------------------------

    pub fn opened(&mut self, ino: Ino) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.open += 1;
        }
    }

    pub fn closed(&mut self, ino: Ino) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.open = n.open.saturating_sub(1);
        }
        self.maybe_free(ino);
    }

    pub fn parent_of(&self, dir: Ino) -> FsResult<Ino> {
        match &self.node(dir)?.body {
            Body::Dir(d) => Ok(d.parent),
            _ => Err(Errno::Notdir),
        }
    }

    pub fn stat(&mut self, ino: Ino) -> FsResult<Stat> {
        let subdirs = match &self.node(ino)?.body {
            Body::Dir(d) => {
                let recorded = d.base.as_ref().and_then(|p| self.base.subdirs.get(p)).copied().unwrap_or(0) as i64;
                (recorded + d.subdir_delta).max(0) as u64
            }
            _ => 0,
        };
        let n = self.node(ino)?;
        let size = match &n.body {
            Body::File(d) => d.size(),
            Body::Dir(_) => 4096,
            Body::Symlink(t) => t.len() as u64,
        };
        let nlink = if n.kind() == Kind::Dir { 2 + subdirs } else { n.nlink };
        Ok(Stat { ino, kind: n.kind(), nlink, size, atim: n.atim, mtim: n.mtim, ctim: n.ctim })
    }

    /// Sets access and/or modification times (None leaves one as it is).
    pub fn set_times(&mut self, ino: Ino, atim: Option<i64>, mtim: Option<i64>, now: i64) -> FsResult<()> {
        let n = self.node_mut(ino)?;
        if let Some(a) = atim {
            n.atim = a;
        }
        if let Some(m) = mtim {
            n.mtim = m;
            self.changed = true;
        }
        let n = self.node_mut(ino)?;
        n.ctim = now;
        Ok(())
    }

    /// The bytes of a file, fetched if needed.
    fn data(&mut self, ino: Ino) -> FsResult<&mut Data> {
        let node = self.nodes.get_mut(&ino).ok_or(Errno::Badf)?;
        let Body::File(data) = &mut node.body else { return Err(Errno::Isdir) };
        if let Data::Lazy { digest, size } = data {
            let (digest, size) = (*digest, *size);
            let bytes = self.blobs.get(&digest).map_err(|_| Errno::Io)?;
            if bytes.len() as u64 != size {
                return Err(Errno::Io);
            }
            *data = Data::Mem { bytes, digest: Some(digest) };
        }
        Ok(data)
    }

    pub fn read_at(&mut self, ino: Ino, pos: u64, buf: &mut [u8]) -> FsResult<usize> {
        let Data::Mem { bytes, .. } = self.data(ino)? else { unreachable!() };
        let len = bytes.len() as u64;
        if pos >= len {
            return Ok(0);
        }
        let n = ((len - pos) as usize).min(buf.len());
        buf[..n].copy_from_slice(&bytes[pos as usize..pos as usize + n]);
        Ok(n)
    }

    /// Reads a whole file (for the shell's `<` and native stages).
    pub fn read_all(&mut self, ino: Ino) -> FsResult<Arc<Vec<u8>>> {
        let Data::Mem { bytes, .. } = self.data(ino)? else { unreachable!() };
        Ok(bytes.clone())
    }

    pub fn size(&mut self, ino: Ino) -> FsResult<u64> {
        Ok(self.stat(ino)?.size)
    }

    /// Writes at `pos` (zero-filling a gap); a write that would pass the byte
    /// limit writes what fits, and one that fits nothing fails with ENOSPC.
    pub fn write_at(&mut self, ino: Ino, pos: u64, buf: &[u8], now: i64) -> FsResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let old = self.data(ino)?.size();
        let end = pos.checked_add(buf.len() as u64).ok_or(Errno::Fbig)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::Fbig);
        }
        let mut take = buf.len();
        if end > old {
            let max_end = old + self.limits.max_bytes.saturating_sub(self.bytes);
            if end > max_end {
                if max_end <= pos {
                    self.refusals.push(format!("a write was refused: the session's files reached their limit of {} bytes", self.limits.max_bytes));
                    return Err(Errno::Nospc);
                }
                take = (max_end - pos) as usize;
                self.refusals.push(format!("a write was cut short: the session's files reached their limit of {} bytes", self.limits.max_bytes));
            }
            let new_end = pos + take as u64;
            if new_end > old {
                self.bytes += new_end - old;
            }
        }
        let room = self.limits.max_bytes.saturating_sub(self.bytes) as usize;
        let Data::Mem { bytes, digest } = self.data(ino)? else { unreachable!() };
        let v = Arc::make_mut(bytes);
        let p = pos as usize;
        if v.len() < p + take {
            // Grow geometrically, but never reserve more than the tree may
            // still hold: memory held for files stays within the limit.
            let need = p + take;
            if need > v.capacity() {
                let target = need.max(v.capacity() * 2).min(need + room);
                v.reserve_exact(target - v.len());
            }
            v.resize(need, 0);
        }
        v[p..p + take].copy_from_slice(&buf[..take]);
        *digest = None;
        let n = self.node_mut(ino)?;
        n.mtim = now;
        n.ctim = now;
        self.changed = true;
        Ok(take)
    }

    pub fn set_size(&mut self, ino: Ino, size: u64, now: i64) -> FsResult<()> {
        if size > MAX_FILE_SIZE {
            return Err(Errno::Fbig);
        }
        let old = self.data(ino)?.size();
        if size > old {
            self.charge_bytes(size - old)?;
        } else {
            self.bytes -= old - size;
        }
        let Data::Mem { bytes, digest } = self.data(ino)? else { unreachable!() };
        if bytes.len() as u64 != size {
            Arc::make_mut(bytes).resize(size as usize, 0);
            *digest = None;
        }
        let n = self.node_mut(ino)?;
        n.mtim = now;
        n.ctim = now;
        self.changed = true;
        Ok(())
    }

    // --- the result -----------------------------------------------------------

    /// The tree as it is now, and the contents it holds that the recorded tree
    /// did not; None when nothing changed. Untouched recorded subtrees are
    /// copied as they were.
    pub fn commit(&mut self) -> FsResult<Option<(Tree, Vec<(Digest, Arc<Vec<u8>>)>)>> {
        if !self.changed {
            return Ok(None);
        }
        let mut out = Tree::default();
        let mut blobs: HashMap<Digest, Arc<Vec<u8>>> = HashMap::new();
        self.emit_dir(ROOT, "", &mut out, &mut blobs)?;
        let known: std::collections::HashSet<&Digest> = self.base.tree.file_digests().collect();
        let new: Vec<(Digest, Arc<Vec<u8>>)> = blobs.into_iter().filter(|(d, _)| !known.contains(d)).collect();
        for (d, b) in &new {
            self.new_blobs.insert(*d, b.clone());
        }
        Ok(Some((out, new)))
    }

    fn emit_dir(&mut self, dir: Ino, path: &str, out: &mut Tree, blobs: &mut HashMap<Digest, Arc<Vec<u8>>>) -> FsResult<()> {
        let Body::Dir(d) = &self.node(dir)?.body else { return Err(Errno::Notdir) };
        let overlay: Vec<(String, Option<Ino>)> = d.overlay.iter().map(|(k, v)| (k.clone(), *v)).collect();
        // Recorded children nobody looked at: copy their whole subtree.
        if let Some(prefix) = d.base.clone() {
            let names = base_children(&self.base.tree, &prefix);
            let base = self.base.clone();
            let base = &base.tree;
            for name in names {
                if overlay.binary_search_by(|(k, _)| k.as_str().cmp(&name)).is_ok() {
                    continue;
                }
                let from = join(&prefix, &name);
                let to = join(path, &name);
                copy_subtree(&base, &from, &to, out);
            }
        }
        for (name, slot) in overlay {
            let Some(ino) = slot else { continue };
            let child = join(path, &name);
            let n = self.node(ino)?;
            let (mode, mtim) = (n.mode, n.mtim);
            match &n.body {
                Body::Dir(_) => {
                    out.entries.insert(child.clone(), Entry::Dir { mode, mtime_ns: mtim });
                    self.emit_dir(ino, &child, out, blobs)?;
                }
                Body::Symlink(t) => {
                    out.entries.insert(child, Entry::Symlink { target: t.clone() });
                }
                Body::File(Data::Lazy { digest, size }) => {
                    out.entries.insert(child, Entry::File { digest: *digest, size: *size, mode, mtime_ns: mtim });
                }
                Body::File(_) => {
                    let Body::File(data) = &mut self.node_mut(ino)?.body else { unreachable!() };
                    let (digest, size) = match data {
                        Data::Mem { bytes, digest } => {
                            let dg = match digest {
                                Some(d) => *d,
                                None => {
                                    let d = sha256(bytes);
                                    *digest = Some(d);
                                    d
                                }
                            };
                            blobs.insert(dg, bytes.clone());
                            (dg, bytes.len() as u64)
                        }
                        Data::Lazy { .. } => unreachable!(),
                    };
                    out.entries.insert(child, Entry::File { digest, size, mode, mtime_ns: mtim });
                }
            }
        }
        Ok(())
    }

    /// Contents made during this run (so a later part can read them before
    /// they are stored).
    pub fn local_blob(&self, d: &Digest) -> Option<Arc<Vec<u8>>> {
        self.new_blobs.get(d).cloned()
    }

    // --- whole-path helpers for the shell ---------------------------------------

    /// The inode of an absolute, normalized session path, without following
    /// any symbolic link (the shell's redirections never follow one).
    pub fn lookup_nofollow(&mut self, abs: &str) -> Result<Option<Ino>, &'static str> {
        let mut cur = ROOT;
        let rel = abs.trim_start_matches('/');
        if rel.is_empty() {
            return Ok(Some(ROOT));
        }
        let comps: Vec<&str> = rel.split('/').collect();
        for (i, c) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            match self.child(cur, c) {
                Err(_) => return Err("Not a directory"),
                Ok(None) if last => return Ok(None),
                Ok(None) => return Err("No such file or directory"),
                Ok(Some(ino)) => {
                    let k = self.kind(ino).map_err(|_| "No such file or directory")?;
                    if k == Kind::Symlink {
                        return Err("refusing to follow a symbolic link");
                    }
                    if !last && k != Kind::Dir {
                        return Err("Not a directory");
                    }
                    cur = ino;
                }
            }
        }
        Ok(Some(cur))
    }

    /// Opens an absolute session path for the shell's `>`/`>>`: creates or
    /// truncates a regular file, never following a symbolic link.
    pub fn open_for_redirect(&mut self, abs: &str, append: bool, now: i64) -> Result<Ino, String> {
        let rel = abs.trim_start_matches('/');
        if rel.is_empty() {
            return Err("Is a directory".into());
        }
        let (dir, name) = match rel.rsplit_once('/') {
            Some((d, n)) => (format!("/{d}"), n.to_string()),
            None => ("/".to_string(), rel.to_string()),
        };
        let parent = self.lookup_nofollow(&dir)?.ok_or("No such file or directory")?;
        if self.kind(parent).ok() != Some(Kind::Dir) {
            return Err("Not a directory".into());
        }
        match self.child(parent, &name).map_err(|_| "Not a directory")? {
            Some(ino) => match self.kind(ino).map_err(|_| "No such file")? {
                Kind::Symlink => Err("refusing to follow a symbolic link".into()),
                Kind::Dir => Err("Is a directory".into()),
                Kind::File => {
                    if !append {
                        self.set_size(ino, 0, now).map_err(errno_text)?;
                    }
                    Ok(ino)
                }
            },
            None => self.create_file(parent, &name, now).map_err(errno_text),
        }
    }

    /// Replaces the contents of the tree with `new` (what a native program
    /// left), changing only the paths that differ from `old`, so descriptors
    /// other stages hold on unchanged files stay valid.
    pub fn apply(&mut self, old: &Tree, new: &Tree, new_blobs: &HashMap<Digest, Arc<Vec<u8>>>, now: i64) -> Result<(), String> {
        // Removals, deepest first.
        for (path, entry) in old.entries.iter().rev() {
            if new.entries.get(path) == Some(entry) {
                continue;
            }
            if matches!((entry, new.entries.get(path)), (Entry::Dir { .. }, Some(Entry::Dir { .. }))) {
                continue;
            }
            let r = match entry {
                Entry::Dir { .. } => self.rmdir(ROOT, path, now),
                _ => self.unlink(ROOT, path, now),
            };
            r.map_err(|e| format!("/{path}: {}", errno_text(e)))?;
        }
        for (path, entry) in &new.entries {
            if old.entries.get(path) == Some(entry) {
                continue;
            }
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (d.to_string(), n.to_string()),
                None => (String::new(), path.clone()),
            };
            let parent = if dir.is_empty() { ROOT } else { self.lookup(ROOT, &dir, false).map_err(errno_text)? };
            match entry {
                Entry::Dir { mtime_ns, .. } => {
                    if self.child(parent, &name).map_err(errno_text)?.is_none() {
                        self.mkdir(ROOT, path, now).map_err(errno_text)?;
                    }
                    let ino = self.lookup(ROOT, path, false).map_err(errno_text)?;
                    self.node_mut(ino).map_err(errno_text)?.mtim = *mtime_ns;
                }
                Entry::Symlink { target } => {
                    self.make_symlink(target, ROOT, path, now).map_err(errno_text)?;
                }
                Entry::File { digest, mode, mtime_ns, .. } => {
                    let ino = match self.child(parent, &name).map_err(errno_text)? {
                        Some(i) => i,
                        None => self.create_file(parent, &name, now).map_err(errno_text)?,
                    };
                    let bytes = match new_blobs.get(digest) {
                        Some(b) => b.clone(),
                        None => self.blobs.get(digest)?,
                    };
                    self.set_size(ino, 0, now).map_err(errno_text)?;
                    self.write_at(ino, 0, &bytes, now).map_err(errno_text)?;
                    let n = self.node_mut(ino).map_err(errno_text)?;
                    n.mode = *mode;
                    n.mtim = *mtime_ns;
                }
            }
        }
        Ok(())
    }
}

/// A short text for an errno, as a shell prints it.
pub fn errno_text(e: Errno) -> String {
    match e {
        Errno::Noent => "No such file or directory",
        Errno::Notdir => "Not a directory",
        Errno::Isdir => "Is a directory",
        Errno::Exist => "File exists",
        Errno::Notempty => "Directory not empty",
        Errno::Nospc => "No space left on device",
        Errno::Dquot => "Disk quota exceeded",
        Errno::Perm => "Operation not permitted",
        Errno::Loop => "Too many levels of symbolic links",
        Errno::Nametoolong => "File name too long",
        Errno::Io => "Input/output error",
        _ => "Invalid argument",
    }
    .to_string()
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// The names directly inside the recorded directory `prefix` ("" = root), in
/// order. Keys sharing a prefix are contiguous in the ordered map, and every
/// parent is present in a tree, so the direct children are the keys in that
/// range with no further `/`.
fn base_children(tree: &Tree, prefix: &str) -> Vec<String> {
    let start = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
    tree.entries
        .range::<String, _>((Bound::Included(start.clone()), Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(&start))
        .map(|(k, _)| &k[start.len()..])
        .filter(|rest| !rest.contains('/'))
        .map(str::to_string)
        .collect()
}

/// Copies the recorded entry `from` and everything under it to `to`.
fn copy_subtree(base: &Tree, from: &str, to: &str, out: &mut Tree) {
    let Some(e) = base.entries.get(from) else { return };
    out.entries.insert(to.to_string(), e.clone());
    if matches!(e, Entry::Dir { .. }) {
        let sub = format!("{from}/");
        for (k, v) in base.entries.range::<String, _>((Bound::Included(sub.clone()), Bound::Unbounded)).take_while(|(k, _)| k.starts_with(&sub)) {
            out.entries.insert(format!("{to}{}", &k[from.len()..]), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoBlobs(HashMap<Digest, Arc<Vec<u8>>>);
    impl BlobSource for NoBlobs {
        fn get(&self, d: &Digest) -> Result<Arc<Vec<u8>>, String> {
            self.0.get(d).cloned().ok_or_else(|| "missing".into())
        }
    }

    fn tree_with(files: &[(&str, &[u8])], dirs: &[&str]) -> (Arc<Base>, Arc<NoBlobs>) {
        let mut t = Tree::default();
        let mut blobs = HashMap::new();
        for d in dirs {
            t.entries.insert(d.to_string(), Entry::Dir { mode: 0o755, mtime_ns: 5 });
        }
        for (p, data) in files {
            let d = sha256(data);
            blobs.insert(d, Arc::new(data.to_vec()));
            t.entries.insert(p.to_string(), Entry::File { digest: d, size: data.len() as u64, mode: 0o644, mtime_ns: 7 });
        }
        (Arc::new(Base::new(t)), Arc::new(NoBlobs(blobs)))
    }

    fn vfs(files: &[(&str, &[u8])], dirs: &[&str]) -> Vfs {
        let (t, b) = tree_with(files, dirs);
        Vfs::new(t, b, VfsLimits { max_bytes: 1000, max_files: 20 }, 0)
    }

    #[test]
    fn children_of_recorded_directories_skip_subtrees_and_odd_names() {
        let (t, _) = tree_with(&[("a/x", b"1"), ("a-b", b"2"), ("a.c/y", b"3"), ("b", b"4")], &["a", "a.c"]);
        let t = &t.tree;
        assert_eq!(base_children(t, ""), vec!["a", "a-b", "a.c", "b"]);
        assert_eq!(base_children(t, "a"), vec!["x"]);
        assert_eq!(base_children(t, "a.c"), vec!["y"]);
        let mut out = Tree::default();
        copy_subtree(t, "a", "z", &mut out);
        assert_eq!(out.entries.keys().collect::<Vec<_>>(), vec!["z", "z/x"]);
    }

    #[test]
    fn unchanged_vfs_commits_the_recorded_tree() {
        let mut v = vfs(&[("d/f", b"hello")], &["d"]);
        let ino = v.lookup(ROOT, "d/f", true).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(v.read_at(ino, 0, &mut buf).unwrap(), 5);
        assert!(!v.changed());
        assert!(v.commit().unwrap().is_none());
    }

    #[test]
    fn writes_renames_and_removals_come_back_as_a_tree() {
        let mut v = vfs(&[("d/f", b"hello"), ("d/g", b"x"), ("keep/k", b"k")], &["d", "keep"]);
        let f = v.lookup(ROOT, "d/f", true).unwrap();
        v.write_at(f, 5, b" world", 100).unwrap();
        v.rename(ROOT, "d", ROOT, "e", 101).unwrap();
        v.unlink(ROOT, "e/g", 102).unwrap();
        v.mkdir(ROOT, "e/sub", 103).unwrap();
        v.symlink("../../keep", ROOT, "e/sub/l", 104).unwrap();
        let (t, new) = v.commit().unwrap().unwrap();
        let keys: Vec<&String> = t.entries.keys().collect();
        assert_eq!(keys, vec!["e", "e/f", "e/sub", "e/sub/l", "keep", "keep/k"]);
        match &t.entries["e/f"] {
            Entry::File { size, mtime_ns, .. } => assert_eq!((*size, *mtime_ns), (11, 100)),
            e => panic!("{e:?}"),
        }
        assert_eq!(new.len(), 1);
        assert_eq!(&**new[0].1, b"hello world");
        // Through the symlink (relative, inside the tree) to the untouched dir.
        assert!(v.lookup(ROOT, "e/sub/l/k", true).is_ok());
    }

    #[test]
    fn resolution_stays_inside_its_start() {
        let mut v = vfs(&[("a/f", b"1")], &["a"]);
        let a = v.lookup(ROOT, "a", true).unwrap();
        assert_eq!(v.resolve(a, "..", true).err(), Some(Errno::Perm));
        assert_eq!(v.resolve(ROOT, "a/../..", true).err(), Some(Errno::Perm));
        assert_eq!(v.resolve(ROOT, "/a", true).err(), Some(Errno::Perm));
        assert_eq!(v.symlink("/etc/passwd", ROOT, "abs", 1).err(), Some(Errno::Perm));
        v.make_symlink("/etc/passwd", ROOT, "abs", 1).unwrap();
        assert_eq!(v.lookup(ROOT, "abs", true).err(), Some(Errno::Perm));
        v.symlink("loop", ROOT, "loop", 1).unwrap();
        assert_eq!(v.lookup(ROOT, "loop", true).err(), Some(Errno::Loop));
        assert_eq!(v.lookup(ROOT, "a/f/x", true).err(), Some(Errno::Notdir));
        assert_eq!(v.resolve(ROOT, "a/f/", true).err(), Some(Errno::Notdir));
        assert!(v.lookup(ROOT, "a/./f", true).is_ok());
    }

    #[test]
    fn directory_link_counts_need_no_listing_and_follow_changes() {
        let mut v = vfs(&[("a/f", b"1")], &["a", "a/b", "a/c", "d"]);
        let a = v.lookup(ROOT, "a", false).unwrap();
        assert_eq!(v.stat(ROOT).unwrap().nlink, 4); // ., .., a, d
        assert_eq!(v.stat(a).unwrap().nlink, 4); // b and c
        v.mkdir(ROOT, "a/e", 1).unwrap();
        v.rmdir(ROOT, "a/b", 2).unwrap();
        v.rename(ROOT, "a/c", ROOT, "c", 3).unwrap();
        assert_eq!(v.stat(a).unwrap().nlink, 3); // e
        assert_eq!(v.stat(ROOT).unwrap().nlink, 5); // a, c, d
        assert_eq!(v.list(a).unwrap().iter().filter(|e| e.2 == Kind::Dir).count(), 1);
    }

    #[test]
    fn limits_hold_at_the_write() {
        let mut v = vfs(&[], &[]);
        let f = v.create_file(ROOT, "big", 1).unwrap();
        assert_eq!(v.write_at(f, 0, &[1u8; 600], 2).unwrap(), 600);
        // 400 bytes left: a 600-byte write is cut to what fits, then refused.
        assert_eq!(v.write_at(f, 600, &[2u8; 600], 3).unwrap(), 400);
        assert_eq!(v.write_at(f, 1000, &[3u8; 1], 4).err(), Some(Errno::Nospc));
        assert_eq!(v.set_size(f, 5000, 5).err(), Some(Errno::Nospc));
        assert!(!v.refusals.is_empty());
        // Shrinking gives room back.
        v.set_size(f, 10, 6).unwrap();
        assert_eq!(v.bytes(), 10);
        for i in 0..19 {
            v.create_file(ROOT, &format!("f{i}"), 7).unwrap();
        }
        assert_eq!(v.create_file(ROOT, "one-too-many", 8).err(), Some(Errno::Dquot));
    }

    #[test]
    fn rename_and_remove_errors_follow_posix() {
        let mut v = vfs(&[("f", b"1"), ("d/x", b"2")], &["d", "e"]);
        assert_eq!(v.rmdir(ROOT, "d", 1).err(), Some(Errno::Notempty));
        assert_eq!(v.rmdir(ROOT, "f", 1).err(), Some(Errno::Notdir));
        assert_eq!(v.unlink(ROOT, "d", 1).err(), Some(Errno::Isdir));
        assert_eq!(v.rename(ROOT, "e", ROOT, "d", 1).err(), Some(Errno::Notempty));
        assert_eq!(v.rename(ROOT, "f", ROOT, "e", 1).err(), Some(Errno::Isdir));
        assert_eq!(v.rename(ROOT, "e", ROOT, "f", 1).err(), Some(Errno::Notdir));
        assert_eq!(v.rename(ROOT, "d", ROOT, "d/sub", 1).err(), Some(Errno::Inval));
        v.rename(ROOT, "d", ROOT, "e", 1).unwrap();
        assert_eq!(v.list(ROOT).unwrap().iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), vec!["e", "f"]);
        assert_eq!(v.link(ROOT, "e", false, ROOT, "h", 1).err(), Some(Errno::Perm));
        v.link(ROOT, "f", false, ROOT, "h", 1).unwrap();
        let (a, b) = (v.lookup(ROOT, "f", false).unwrap(), v.lookup(ROOT, "h", false).unwrap());
        assert_eq!(a, b);
        assert_eq!(v.stat(a).unwrap().nlink, 2);
    }
}
