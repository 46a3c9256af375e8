//! Tree objects: the stored, content-addressed form of a file tree (format
//! `PGT1`, specified in ARCHITECTURE.md, "Tree objects").
//!
//! A directory is stored as objects addressed by the sha256 of their bytes,
//! as git stores trees: a *leaf* lists entries (name, kind, mode, mtime,
//! size, and the digest of the file's blob or of the child directory's top
//! object, or a symlink's target); a directory of more than [`SMALL_DIR`]
//! entries is cut into leaf chunks at content-defined boundaries (after every
//! name whose hash has [`level`] >= 1, or at [`MAX_FANOUT`] entries), and the
//! chunks are joined by *node* objects, themselves cut at names of higher
//! levels, as in a prolly tree. Boundaries depend on names only, so the
//! objects of a directory are a function of its entries (history does not
//! matter), inserting or removing a name changes one leaf chunk (two when the
//! name is a boundary) plus the nodes above it, and unchanged subtrees keep
//! their digests and are shared between every tree holding them.
//!
//! [`encode`] turns a [`Tree`] into its objects; [`encode_on`] does the same
//! reusing a base tree's unchanged chunks (cost proportional to what changed,
//! plus a comparison of the two flat maps); [`Decoder`] / [`decode`] rebuild
//! the tree from a root digest, verifying every object against its digest and
//! refusing any encoding that [`encode`] would not have produced, so a
//! decoded tree always re-encodes to the same root.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{anyhow, bail, ensure, Context, Result};

use super::{sha256, Digest, Entry, Tree};

/// First bytes of every tree object: "pg_shell tree, format 1".
pub const MAGIC: &[u8; 4] = b"PGT1";
const LEAF: u8 = b'L';
const NODE: u8 = b'N';
const KIND_FILE: u8 = b'f';
const KIND_DIR: u8 = b'd';
const KIND_SYMLINK: u8 = b'l';

/// A directory with at most this many entries is a single leaf.
pub const SMALL_DIR: usize = 64;
/// A chunk (leaf or node) is also cut when it reaches this many items.
pub const MAX_FANOUT: usize = 256;
/// Bits of the name hash per level: a name ends a leaf chunk with
/// probability 2^-5 = 1/32, a height-1 node with 1/1024, ...
const LEVEL_BITS: u32 = 5;
const MAX_LEVEL: u8 = 12;
/// Index nodes deeper than this are refused when decoding (a legitimate tree
/// of a million entries is 5 nodes high).
const MAX_NODE_DEPTH: usize = 16;

/// The bytes of one stored object, shared between trees that hold it.
pub type Object = Arc<[u8]>;

/// The chunking level of a name: the number of whole groups of
/// [`LEVEL_BITS`] trailing zero bits in the first 8 bytes of sha256(name),
/// read as a big-endian integer (at most 12).
pub fn level(name: &str) -> u8 {
    let h = sha256(name.as_bytes());
    let x = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
    ((x.trailing_zeros() / LEVEL_BITS) as u8).min(MAX_LEVEL)
}

/// A tree in object form: its root digest and every object reachable from
/// it, plus what [`encode_on`] needs to reuse its chunks.
#[derive(Clone, Debug)]
pub struct EncodedTree {
    pub root: Digest,
    pub objects: HashMap<Digest, Object>,
    dirs: HashMap<String, Arc<DirInfo>>,
}

/// One directory's own objects (not its subdirectories').
#[derive(Debug)]
struct DirInfo {
    digest: Digest,
    /// The leaf chunks in order when the directory is chunked (more than
    /// SMALL_DIR entries); empty for a small directory.
    chunks: Vec<ChunkRef>,
    /// Digests of the directory's leaves and nodes.
    objects: Vec<Digest>,
}

/// A leaf chunk or node as its parent node sees it.
#[derive(Clone, Debug)]
struct ChunkRef {
    last: String,
    digest: Digest,
    /// Entries in the chunk (leaves only; unused for nodes).
    len: usize,
    level: u8,
}

impl EncodedTree {
    /// Objects of this tree that `base` does not hold, in a stable order.
    pub fn objects_not_in<'a>(&'a self, base: Option<&EncodedTree>) -> Vec<(&'a Digest, &'a Object)> {
        let mut out: Vec<_> = self
            .objects
            .iter()
            .filter(|(d, _)| base.is_none_or(|b| !b.objects.contains_key(*d)))
            .collect();
        out.sort_by_key(|(d, _)| **d);
        out
    }

    /// Total bytes of every object of the tree.
    pub fn object_bytes(&self) -> usize {
        self.objects.values().map(|o| o.len()).sum()
    }
}

// ---------------------------------------------------------------------------
// Byte-level primitives
// ---------------------------------------------------------------------------

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).context("object ends early")?;
        self.pos += 1;
        Ok(b)
    }

    /// LEB128, at most 10 bytes, in its shortest form only.
    fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.byte()?;
            let bits = (b & 0x7f) as u64;
            ensure!(i < 9 || bits <= 1, "varint overflows 64 bits");
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                ensure!(i == 0 || b != 0, "varint is not in its shortest form");
                return Ok(v);
            }
        }
        bail!("varint longer than 10 bytes")
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        ensure!(self.buf.len() - self.pos >= n, "object ends early");
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| anyhow!("length too large"))?;
        self.take(n)
    }

    fn digest(&mut self) -> Result<Digest> {
        Ok(self.take(32)?.try_into().expect("32 bytes"))
    }

    fn done(&self) -> bool {
        self.pos == self.buf.len()
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// An entry of a directory being encoded; `child` is a subdirectory's top digest.
struct Item<'a> {
    name: &'a str,
    entry: &'a Entry,
    child: Option<Digest>,
}

fn put_entry(buf: &mut Vec<u8>, item: &Item<'_>) {
    put_bytes(buf, item.name.as_bytes());
    match item.entry {
        Entry::File { digest, size, mode, mtime_ns } => {
            buf.push(KIND_FILE);
            put_varint(buf, *mode as u64);
            put_varint(buf, zigzag(*mtime_ns));
            put_varint(buf, *size);
            buf.extend_from_slice(&digest[..]);
        }
        Entry::Dir { mode, mtime_ns } => {
            buf.push(KIND_DIR);
            put_varint(buf, *mode as u64);
            put_varint(buf, zigzag(*mtime_ns));
            buf.extend_from_slice(&item.child.expect("a directory entry has its child's digest")[..]);
        }
        Entry::Symlink { target } => {
            buf.push(KIND_SYMLINK);
            put_bytes(buf, target.as_bytes());
        }
    }
}

fn leaf_object(items: &[Item<'_>]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(8 + items.len() * 64);
    buf.extend_from_slice(MAGIC);
    buf.push(LEAF);
    put_varint(&mut buf, items.len() as u64);
    for item in items {
        put_entry(&mut buf, item);
    }
    buf
}

fn node_object(children: &[ChunkRef]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(8 + children.len() * 48);
    buf.extend_from_slice(MAGIC);
    buf.push(NODE);
    put_varint(&mut buf, children.len() as u64);
    for c in children {
        put_bytes(&mut buf, c.last.as_bytes());
        buf.extend_from_slice(&c.digest[..]);
    }
    buf
}

/// Where new objects go while encoding.
#[derive(Default)]
struct Sink {
    objects: Vec<(Digest, Object)>,
}

impl Sink {
    fn put(&mut self, bytes: Vec<u8>) -> Digest {
        let d = sha256(&bytes);
        self.objects.push((d, bytes.into()));
        d
    }
}

/// Joins a directory's leaf chunks with nodes; returns the top digest and
/// the nodes' digests. At threshold t (starting at 2), a group ends after a
/// child whose level is >= t, or at MAX_FANOUT children; a pass that would
/// leave every child alone in its group is skipped.
fn build_nodes(mut refs: Vec<ChunkRef>, mut put: impl FnMut(Vec<u8>) -> Digest) -> (Digest, Vec<Digest>) {
    let mut nodes = Vec::new();
    let mut t: u8 = 2;
    while refs.len() > 1 {
        let mut groups: Vec<&[ChunkRef]> = Vec::new();
        let mut start = 0;
        for (i, r) in refs.iter().enumerate() {
            if r.level >= t || i + 1 - start == MAX_FANOUT || i + 1 == refs.len() {
                groups.push(&refs[start..=i]);
                start = i + 1;
            }
        }
        if groups.len() == refs.len() && t <= MAX_LEVEL {
            t += 1;
            continue;
        }
        let next: Vec<ChunkRef> = groups
            .iter()
            .map(|g| {
                let last = g.last().expect("groups are not empty");
                let digest = put(node_object(g));
                nodes.push(digest);
                ChunkRef { last: last.last.clone(), digest, len: 0, level: last.level }
            })
            .collect();
        refs = next;
        t += 1;
    }
    (refs[0].digest, nodes)
}

/// Encodes one directory from its (sorted) items, reusing the leaf chunks of
/// `base` (the same directory in the base tree) that no changed name touches.
fn encode_dir(items: &[Item<'_>], base: Option<&DirInfo>, changed: &[&str], sink: &mut Sink) -> DirInfo {
    if items.len() <= SMALL_DIR {
        let digest = sink.put(leaf_object(items));
        return DirInfo { digest, chunks: Vec::new(), objects: vec![digest] };
    }
    let base_chunks: &[ChunkRef] = base.map(|b| &b.chunks[..]).unwrap_or(&[]);
    // Whether a changed name falls in (after, upto]; upto None = unbounded.
    let touched = |after: Option<&str>, upto: Option<&str>| {
        let from = match after {
            Some(a) => changed.partition_point(|c| *c <= a),
            None => 0,
        };
        match (changed.get(from), upto) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(c), Some(u)) => *c <= u,
        }
    };
    let mut chunks: Vec<ChunkRef> = Vec::new();
    let mut objects = Vec::new();
    let mut i = 0;
    // `j` is the base chunk that starts where item `i` starts, when `aligned`.
    let mut j = 0;
    let mut aligned = !base_chunks.is_empty();
    while i < items.len() {
        if aligned && j < base_chunks.len() {
            let b = &base_chunks[j];
            let after = j.checked_sub(1).map(|k| base_chunks[k].last.as_str());
            let upto = (j + 1 < base_chunks.len()).then_some(b.last.as_str());
            if !touched(after, upto) && i + b.len <= items.len() && items[i + b.len - 1].name == b.last {
                chunks.push(b.clone());
                objects.push(b.digest);
                i += b.len;
                j += 1;
                continue;
            }
        }
        // Build a chunk from item i to the next boundary.
        let start = i;
        let mut lvl = 0;
        while i < items.len() {
            lvl = level(items[i].name);
            i += 1;
            if lvl >= 1 || i - start == MAX_FANOUT {
                break;
            }
        }
        let slice = &items[start..i];
        let digest = sink.put(leaf_object(slice));
        let last = slice.last().expect("chunks are not empty").name;
        chunks.push(ChunkRef { last: last.to_string(), digest, len: slice.len(), level: lvl });
        objects.push(digest);
        // Re-align with the base: does it also cut right after `last`?
        while j < base_chunks.len() && base_chunks[j].last.as_str() < last {
            j += 1;
        }
        aligned = j < base_chunks.len() && base_chunks[j].last == last;
        if aligned {
            j += 1;
        }
    }
    let (digest, nodes) = build_nodes(chunks.clone(), |b| sink.put(b));
    objects.extend(nodes);
    DirInfo { digest, chunks, objects }
}

/// The entries of a tree grouped by directory ("" is the root), each
/// directory's entries in name order.
fn group(tree: &Tree) -> BTreeMap<&str, Vec<(&str, &Entry)>> {
    let mut dirs: BTreeMap<&str, Vec<(&str, &Entry)>> = BTreeMap::new();
    dirs.insert("", Vec::new());
    let mut last_parent: Option<&str> = None;
    let mut last_vec: Vec<(&str, &Entry)> = Vec::new();
    for (path, entry) in &tree.entries {
        let (parent, name) = match path.rfind('/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path.as_str()),
        };
        if last_parent != Some(parent) {
            if let Some(p) = last_parent {
                dirs.entry(p).or_default().append(&mut last_vec);
            }
            last_vec = std::mem::take(dirs.entry(parent).or_default());
            last_parent = Some(parent);
        }
        last_vec.push((name, entry));
        if matches!(entry, Entry::Dir { .. }) {
            dirs.entry(path.as_str()).or_default();
        }
    }
    if let Some(p) = last_parent {
        dirs.entry(p).or_default().append(&mut last_vec);
    }
    dirs
}

/// Paths whose entries differ between two trees (added, removed or changed).
fn changed_paths<'a>(old: &'a Tree, new: &'a Tree) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut a = old.entries.iter().peekable();
    let mut b = new.entries.iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some((pa, _)), None) => {
                out.push(pa.as_str());
                a.next();
            }
            (None, Some((pb, _))) => {
                out.push(pb.as_str());
                b.next();
            }
            (Some((pa, ea)), Some((pb, eb))) => match pa.cmp(pb) {
                std::cmp::Ordering::Less => {
                    out.push(pa.as_str());
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    out.push(pb.as_str());
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if ea != eb {
                        out.push(pa.as_str());
                    }
                    a.next();
                    b.next();
                }
            },
        }
    }
    out
}

fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Encodes a tree into objects.
pub fn encode(tree: &Tree) -> EncodedTree {
    encode_inner(tree, None)
}

/// Encodes `tree`, reusing every directory and leaf chunk of `base` (the
/// encoding of `base_tree`) that did not change. The result is identical to
/// [`encode`]`(tree)`; only the work differs.
pub fn encode_on(tree: &Tree, base_tree: &Tree, base: &EncodedTree) -> EncodedTree {
    encode_inner(tree, Some((base_tree, base)))
}

fn encode_inner(tree: &Tree, base: Option<(&Tree, &EncodedTree)>) -> EncodedTree {
    let groups = group(tree);
    // Changed names per directory, and the directories that must be redone
    // (those holding a change, and their ancestors).
    let mut changed: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut dirty: std::collections::HashSet<&str> = std::collections::HashSet::new();
    if let Some((base_tree, _)) = base {
        for p in changed_paths(base_tree, tree) {
            let (parent, name) = split(p);
            changed.entry(parent).or_default().push(name);
            // Every ancestor is redone, and its entry in its own parent
            // changes with its digest.
            let mut d = parent;
            while dirty.insert(d) && !d.is_empty() {
                let (up, name) = split(d);
                changed.entry(up).or_default().push(name);
                d = up;
            }
        }
        for names in changed.values_mut() {
            names.sort_unstable();
            names.dedup();
        }
    }
    let mut sink = Sink::default();
    let mut done: HashMap<String, Arc<DirInfo>> = HashMap::with_capacity(groups.len());
    // Children sort after their parents, so reverse order is bottom-up.
    for (dir, entries) in groups.iter().rev() {
        let base_info = base.and_then(|(_, b)| b.dirs.get(*dir));
        if let Some(info) = base_info {
            if !dirty.contains(dir) {
                done.insert(dir.to_string(), info.clone());
                continue;
            }
        }
        let items: Vec<Item<'_>> = entries
            .iter()
            .map(|(name, entry)| {
                let child = match entry {
                    Entry::Dir { .. } => {
                        let path = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
                        Some(done.get(&path).expect("subdirectories are encoded first").digest)
                    }
                    _ => None,
                };
                Item { name, entry, child }
            })
            .collect();
        let names = changed.get(dir).map(|v| &v[..]).unwrap_or(&[]);
        let info = encode_dir(&items, base_info.map(|a| &**a), names, &mut sink);
        done.insert(dir.to_string(), Arc::new(info));
    }
    let root = done.get("").expect("the root is always encoded").digest;
    // Directories whose parents are not directories are not reachable.
    done.retain(|path, _| path.is_empty() || matches!(tree.entries.get(path), Some(Entry::Dir { .. })));
    let new: HashMap<Digest, Object> = sink.objects.into_iter().collect();
    let mut objects = HashMap::with_capacity(new.len());
    for info in done.values() {
        for d in &info.objects {
            let o = new
                .get(d)
                .or_else(|| base.and_then(|(_, b)| b.objects.get(d)))
                .expect("every object of the tree is new or the base's");
            objects.insert(*d, o.clone());
        }
    }
    EncodedTree { root, objects, dirs: done }
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// A leaf's entries: name, entry, and a subdirectory's top digest.
type LeafEntries = [(String, Entry, Option<Digest>)];

enum Parsed {
    Leaf(Vec<(String, Entry, Option<Digest>)>),
    Node(Vec<(String, Digest)>),
}

/// What one stored tree object refers to: the directory objects under it
/// (child directories, or a node's chunks) and the blobs of its files. The
/// garbage collector (src/services/gc.rs) walks live trees with it.
pub fn references(bytes: &[u8]) -> Result<(Vec<Digest>, Vec<Digest>)> {
    Ok(match parse(bytes)? {
        Parsed::Leaf(entries) => {
            let objects = entries.iter().filter_map(|(_, _, c)| *c).collect();
            let blobs = entries
                .iter()
                .filter_map(|(_, e, _)| match e {
                    Entry::File { digest, .. } => Some(*digest),
                    _ => None,
                })
                .collect();
            (objects, blobs)
        }
        Parsed::Node(children) => (children.into_iter().map(|(_, d)| d).collect(), Vec::new()),
    })
}

fn parse(bytes: &[u8]) -> Result<Parsed> {
    let mut r = Reader { buf: bytes, pos: 0 };
    ensure!(r.take(4).ok() == Some(&MAGIC[..]), "not a tree object (bad magic)");
    let kind = r.byte()?;
    let n = r.varint()?;
    // Every item takes at least 2 bytes: a bound before allocating.
    ensure!(n <= bytes.len() as u64, "item count exceeds the object's size");
    let name = |r: &mut Reader<'_>| -> Result<String> {
        let s = std::str::from_utf8(r.bytes()?).context("a name is not UTF-8")?;
        ensure!(valid_name(s), "invalid name {s:?}");
        Ok(s.to_string())
    };
    let parsed = match kind {
        LEAF => {
            let mut entries = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let nm = name(&mut r)?;
                if let Some((prev, _, _)) = entries.last() {
                    ensure!(*prev < nm, "names are not strictly increasing: {prev:?} then {nm:?}");
                }
                let (entry, child) = match r.byte()? {
                    KIND_FILE => {
                        let mode = u32::try_from(r.varint()?).context("mode out of range")?;
                        let mtime_ns = unzigzag(r.varint()?);
                        let size = r.varint()?;
                        (Entry::File { digest: r.digest()?, size, mode, mtime_ns }, None)
                    }
                    KIND_DIR => {
                        let mode = u32::try_from(r.varint()?).context("mode out of range")?;
                        let mtime_ns = unzigzag(r.varint()?);
                        (Entry::Dir { mode, mtime_ns }, Some(r.digest()?))
                    }
                    KIND_SYMLINK => {
                        let t = std::str::from_utf8(r.bytes()?).context("a symlink target is not UTF-8")?;
                        (Entry::Symlink { target: t.to_string() }, None)
                    }
                    k => bail!("unknown entry kind {k:#04x}"),
                };
                entries.push((nm, entry, child));
            }
            Parsed::Leaf(entries)
        }
        NODE => {
            ensure!(n >= 2, "a node has fewer than two children");
            let mut children: Vec<(String, Digest)> = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let nm = name(&mut r)?;
                if let Some((prev, _)) = children.last() {
                    ensure!(*prev < nm, "node separators are not strictly increasing");
                }
                children.push((nm, r.digest()?));
            }
            Parsed::Node(children)
        }
        k => bail!("unknown object kind {k:#04x}"),
    };
    ensure!(r.done(), "trailing bytes after the object");
    Ok(parsed)
}

/// Rebuilds a tree from its objects, fetched in rounds: ask [`wanted`] for
/// the digests still missing, [`supply`] each object, repeat until nothing
/// is wanted, then [`finish`]. Every object is checked against its digest
/// when supplied.
///
/// [`wanted`]: Decoder::wanted
/// [`supply`]: Decoder::supply
/// [`finish`]: Decoder::finish
pub struct Decoder {
    root: Digest,
    parsed: HashMap<Digest, Parsed>,
    raw: HashMap<Digest, Object>,
    queue: Vec<Digest>,
    asked: std::collections::HashSet<Digest>,
}

impl Decoder {
    pub fn new(root: Digest) -> Decoder {
        let mut asked = std::collections::HashSet::new();
        asked.insert(root);
        Decoder { root, parsed: HashMap::new(), raw: HashMap::new(), queue: vec![root], asked }
    }

    /// Digests to fetch next (each asked for once).
    pub fn wanted(&mut self) -> Vec<Digest> {
        std::mem::take(&mut self.queue)
    }

    /// Takes one object; refuses bytes that do not hash to `digest`.
    pub fn supply(&mut self, digest: Digest, bytes: Object) -> Result<()> {
        ensure!(
            sha256(&bytes) == digest,
            "tree object {} does not match its digest (stored bytes were altered)",
            hex::encode(digest)
        );
        if self.parsed.contains_key(&digest) {
            return Ok(());
        }
        let parsed = parse(&bytes).with_context(|| format!("tree object {} is malformed", hex::encode(digest)))?;
        let refs: Vec<Digest> = match &parsed {
            Parsed::Leaf(entries) => entries.iter().filter_map(|(_, _, c)| *c).collect(),
            Parsed::Node(children) => children.iter().map(|(_, d)| *d).collect(),
        };
        for d in refs {
            if self.asked.insert(d) {
                self.queue.push(d);
            }
        }
        self.parsed.insert(digest, parsed);
        self.raw.insert(digest, bytes);
        Ok(())
    }

    /// Assembles the tree; fails if an object is missing or the structure is
    /// not exactly what [`encode`] produces.
    pub fn finish(self) -> Result<(Tree, EncodedTree)> {
        let mut tree = Tree::default();
        let mut dirs: HashMap<String, Arc<DirInfo>> = HashMap::new();
        let mut work: Vec<(String, Digest)> = vec![(String::new(), self.root)];
        while let Some((path, top)) = work.pop() {
            let info = self.decode_dir(&path, top, &mut tree, &mut work)?;
            dirs.insert(path, Arc::new(info));
        }
        let root = self.root;
        Ok((tree, EncodedTree { root, objects: self.raw, dirs }))
    }

    fn get(&self, d: &Digest) -> Result<&Parsed> {
        self.parsed.get(d).with_context(|| format!("tree object {} is missing", hex::encode(d)))
    }

    fn decode_dir(&self, path: &str, top: Digest, tree: &mut Tree, work: &mut Vec<(String, Digest)>) -> Result<DirInfo> {
        let at = |p: &str| if p.is_empty() { "/".to_string() } else { format!("/{p}") };
        // Collect the leaf chunks under `top`, left to right, checking each
        // node's separators against its children's last names.
        let mut leaves: Vec<(Digest, &LeafEntries)> = Vec::new();
        let mut nodes = Vec::new();
        let mut refs: Vec<ChunkRef> = Vec::new();
        let mut last_seen = None;
        self.walk(top, None, 0, &mut last_seen, &mut leaves, &mut nodes)
            .with_context(|| format!("directory {}", at(path)))?;
        let total: usize = leaves.iter().map(|(_, e)| e.len()).sum();
        let chunked = total > SMALL_DIR;
        if !chunked {
            ensure!(leaves.len() == 1, "directory {} of {total} entries is split into chunks", at(path));
        }
        let mut prev: Option<&str> = None;
        for (ci, (digest, entries)) in leaves.iter().enumerate() {
            ensure!(!entries.is_empty() || total == 0, "an empty chunk in directory {}", at(path));
            let final_chunk = ci + 1 == leaves.len();
            for (k, (name, entry, child)) in entries.iter().enumerate() {
                if let Some(p) = prev {
                    ensure!(p < name.as_str(), "directory {} is not in name order", at(path));
                }
                prev = Some(name);
                if chunked {
                    // Canonical cuts: only after a boundary name or at MAX_FANOUT.
                    let last_in_chunk = k + 1 == entries.len();
                    let lvl = level(name);
                    let cut_here = lvl >= 1 || k + 1 == MAX_FANOUT;
                    ensure!(
                        cut_here == last_in_chunk || (final_chunk && last_in_chunk),
                        "directory {} is not chunked canonically",
                        at(path)
                    );
                    if last_in_chunk {
                        refs.push(ChunkRef { last: name.clone(), digest: *digest, len: entries.len(), level: lvl });
                    }
                }
                let full = if path.is_empty() { name.clone() } else { format!("{path}/{name}") };
                if let Some(c) = child {
                    work.push((full.clone(), *c));
                }
                tree.entries.insert(full, entry.clone());
            }
        }
        let mut objects: Vec<Digest> = leaves.iter().map(|(d, _)| *d).collect();
        if chunked {
            // The nodes must be exactly those the encoder builds on these chunks.
            let (rebuilt, _) = build_nodes(refs.clone(), |b| sha256(&b));
            ensure!(rebuilt == top, "directory {} has non-canonical index nodes", at(path));
            objects.extend(nodes);
        }
        Ok(DirInfo { digest: top, chunks: if chunked { refs } else { Vec::new() }, objects })
    }

    fn walk<'a>(
        &'a self,
        d: Digest,
        expect_last: Option<&str>,
        depth: usize,
        last_seen: &mut Option<&'a str>,
        leaves: &mut Vec<(Digest, &'a LeafEntries)>,
        nodes: &mut Vec<Digest>,
    ) -> Result<()> {
        ensure!(depth <= MAX_NODE_DEPTH, "index nodes nested too deep");
        match self.get(&d)? {
            Parsed::Leaf(entries) => {
                if let Some(want) = expect_last {
                    let got = entries.last().map(|(n, _, _)| n.as_str());
                    ensure!(got == Some(want), "a node's separator does not match its child's last name");
                }
                // Checked here, not after the walk, so that a crafted graph
                // repeating one subtree fails at its second occurrence.
                if let (Some(prev), Some((first, _, _))) = (*last_seen, entries.first()) {
                    ensure!(prev < first.as_str(), "chunks are not in name order");
                }
                if let Some((l, _, _)) = entries.last() {
                    *last_seen = Some(l);
                }
                leaves.push((d, entries));
            }
            Parsed::Node(children) => {
                if let Some(want) = expect_last {
                    ensure!(children.last().map(|(n, _)| n.as_str()) == Some(want), "a node's separator does not match its child");
                }
                nodes.push(d);
                for (last, child) in children {
                    self.walk(*child, Some(last), depth + 1, last_seen, leaves, nodes)?;
                }
            }
        }
        Ok(())
    }
}

/// Decodes the tree under `root`, taking objects from `load` (None: missing).
pub fn decode(root: Digest, mut load: impl FnMut(&Digest) -> Option<Object>) -> Result<(Tree, EncodedTree)> {
    let mut dec = Decoder::new(root);
    loop {
        let want = dec.wanted();
        if want.is_empty() {
            break;
        }
        for d in want {
            let bytes = load(&d).with_context(|| format!("tree object {} is missing", hex::encode(d)))?;
            dec.supply(d, bytes)?;
        }
    }
    dec.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::Instant;

    fn file(n: u64) -> Entry {
        Entry::File { digest: sha256(&n.to_le_bytes()), size: n % 100_000, mode: 0o644, mtime_ns: 1_700_000_000_000_000_000i64.wrapping_add((n % 1_000_000_000) as i64) }
    }

    fn dir() -> Entry {
        Entry::Dir { mode: 0o755, mtime_ns: 1_700_000_000_000_000_000 }
    }

    /// A flat directory of `n` files with realistic names.
    fn flat(n: usize) -> Tree {
        let mut t = Tree::default();
        for i in 0..n {
            t.entries.insert(format!("data-{i:05}.csv"), file(i as u64));
        }
        t
    }

    fn store(e: &EncodedTree) -> HashMap<Digest, Object> {
        e.objects.clone()
    }

    fn round_trip(tree: &Tree) -> EncodedTree {
        let e = encode(tree);
        let objs = store(&e);
        let (back, e2) = decode(e.root, |d| objs.get(d).cloned()).unwrap();
        assert_eq!(&back, tree);
        assert_eq!(e2.root, e.root);
        assert_eq!(encode(&back).root, e.root, "a decoded tree re-encodes to the same root");
        let k1: HashSet<_> = e.objects.keys().collect();
        let k2: HashSet<_> = e2.objects.keys().collect();
        assert_eq!(k1, k2);
        e
    }

    /// A small deterministic PRNG (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn hostile_names_symlinks_and_empty_dirs_round_trip() {
        let names = [
            "new\nline", "tab\there", "carriage\rreturn", "ünïcødé", "日本語", "emoji 🎉", "\"quoted\"", "back\\slash",
            "del\u{7f}", "ctl\u{1}\u{1b}[31m", " leading space", "-n", "a b", "%41%00", "...", ".hidden", "{\"json\":1}",
            "\u{feff}bom", "\u{202e}rtl", "x",
        ];
        let long = "x".repeat(255);
        let mut t = Tree::default();
        t.entries.insert("empty".into(), dir());
        t.entries.insert("d".into(), Entry::Dir { mode: 0o500, mtime_ns: -1 });
        t.entries.insert("d/empty too".into(), dir());
        for (i, n) in names.iter().chain([&long.as_str()]).enumerate() {
            t.entries.insert(n.to_string(), file(i as u64));
            t.entries.insert(format!("d/{n}"), Entry::Symlink { target: format!("../{n}/../../etc\n/passwd") });
        }
        t.entries.insert("abs".into(), Entry::Symlink { target: "/".into() });
        t.entries.insert("dangling".into(), Entry::Symlink { target: String::new() });
        t.entries.insert("big".into(), Entry::File { digest: Digest([7; 32]), size: u64::MAX, mode: u32::MAX, mtime_ns: i64::MIN });
        t.entries.insert("neg".into(), Entry::File { digest: Digest([9; 32]), size: 0, mode: 0, mtime_ns: i64::MAX });
        round_trip(&t);
        // The empty tree is one empty leaf.
        let e = round_trip(&Tree::default());
        assert_eq!(e.objects.len(), 1);
        assert_eq!(&**e.objects.get(&e.root).unwrap(), b"PGT1L\x00");
    }

    #[test]
    fn large_and_deep_trees_round_trip_and_chunk() {
        let mut t = flat(9000);
        t.entries.insert("sub".into(), dir());
        for i in 0..300 {
            t.entries.insert(format!("sub/{i}"), file(i));
        }
        let mut p = String::from("deep");
        for _ in 0..40 {
            t.entries.insert(p.clone(), dir());
            p.push_str("/deep");
        }
        let e = round_trip(&t);
        let root_info = &e.dirs[""];
        assert!(root_info.chunks.len() > 100, "9000 entries make many chunks: {}", root_info.chunks.len());
        let biggest = e.objects.values().map(|o| o.len()).max().unwrap();
        assert!(biggest < 32 << 10, "no object is huge: {biggest}");
    }

    #[test]
    fn incremental_encoding_equals_full_encoding() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut tree = Tree::default();
        let dirs = ["", "a", "a/b", "c", "big"];
        for d in &dirs[1..] {
            tree.entries.insert(d.to_string(), dir());
        }
        for i in 0..700 {
            let d = dirs[if i % 2 == 0 { 4 } else { rng.below(4) }];
            let name = format!("n{}", rng.next() % 5000);
            let path = if d.is_empty() { name } else { format!("{d}/{name}") };
            tree.entries.insert(path, file(i));
        }
        let mut enc = encode(&tree);
        for step in 0..300 {
            let mut next = tree.clone();
            for _ in 0..1 + rng.below(if step % 10 == 0 { 40 } else { 3 }) {
                let d = dirs[if rng.below(3) == 0 { rng.below(4) } else { 4 }];
                let name = format!("n{}", rng.next() % 5000);
                let path = if d.is_empty() { name } else { format!("{d}/{name}") };
                match rng.below(3) {
                    0 => {
                        next.entries.remove(&path);
                    }
                    1 => {
                        next.entries.insert(path, file(rng.next()));
                    }
                    _ => {
                        // Change an existing entry.
                        if let Some(k) = next.entries.keys().nth(rng.below(next.entries.len())).cloned() {
                            if !matches!(next.entries[&k], Entry::Dir { .. }) {
                                next.entries.insert(k, file(rng.next()));
                            }
                        }
                    }
                }
            }
            if step == 150 {
                // Remove a whole directory.
                next.entries.retain(|k, _| k != "a/b" && !k.starts_with("a/b/"));
            }
            let inc = encode_on(&next, &tree, &enc);
            let full = encode(&next);
            assert_eq!(inc.root, full.root, "step {step}");
            let a: HashSet<_> = inc.objects.keys().collect();
            let b: HashSet<_> = full.objects.keys().collect();
            assert_eq!(a, b, "step {step}: the same objects");
            tree = next;
            enc = inc;
        }
    }

    /// New object bytes when one file of a flat 9,000-file directory changes,
    /// is added or is removed; and what encoding that change costs.
    #[test]
    fn one_change_in_a_flat_9000_file_directory_stores_under_16_kib() {
        let base_tree = flat(9000);
        let t0 = Instant::now();
        let base = encode(&base_tree);
        let full_us = t0.elapsed().as_micros();
        let mut worst = 0;
        let mut inc_us = Vec::new();
        for (what, i) in [("change", 0usize), ("change", 4500), ("change", 8999), ("add", 1), ("add", 7777), ("remove", 3), ("remove", 6000)] {
            let mut t = base_tree.clone();
            let name = format!("data-{i:05}.csv");
            match what {
                "change" => {
                    t.entries.insert(name, file(1_000_000 + i as u64));
                }
                "add" => {
                    t.entries.insert(format!("data-{i:05}.csv.bak"), file(5));
                }
                _ => {
                    t.entries.remove(&name);
                }
            }
            let t1 = Instant::now();
            let e = encode_on(&t, &base_tree, &base);
            inc_us.push(t1.elapsed().as_micros());
            let new = e.objects_not_in(Some(&base));
            let bytes: usize = new.iter().map(|(_, o)| o.len()).sum();
            println!("{what} {i}: {} new objects, {bytes} bytes", new.len());
            assert!(bytes < 16 << 10, "{what} {i}: {bytes} bytes");
            worst = worst.max(bytes);
        }
        println!(
            "flat 9000: {} objects, {} bytes in all; worst change {worst} bytes; full encode {full_us} us, incremental {inc_us:?} us",
            base.objects.len(),
            base.object_bytes()
        );
    }

    fn leaf_chunks(e: &EncodedTree) -> HashSet<Digest> {
        e.dirs[""].chunks.iter().map(|c| c.digest).collect()
    }

    #[test]
    fn inserting_or_removing_one_name_changes_at_most_two_chunks() {
        let base_tree = flat(9000);
        let base = encode(&base_tree);
        let before = leaf_chunks(&base);
        let mut rng = Rng(42);
        let mut boundary_inserts = 0;
        for k in 0..300 {
            let mut t = base_tree.clone();
            let name = format!("inserted-{}", rng.next());
            if level(&name) >= 1 {
                boundary_inserts += 1;
            }
            if k % 2 == 0 {
                t.entries.insert(name, file(1));
            } else {
                let victim = base_tree.entries.keys().nth(rng.below(9000)).unwrap().clone();
                t.entries.remove(&victim);
            }
            let after = leaf_chunks(&encode(&t));
            let added = after.difference(&before).count();
            let removed = before.difference(&after).count();
            assert!(added <= 2 && removed <= 2, "edit {k}: {removed} chunks replaced by {added}");
        }
        assert!(boundary_inserts > 0, "some inserted names were boundaries");
    }

    #[test]
    fn boundaries_depend_on_names_only() {
        // Same entries, built in two orders: the same objects.
        let t = flat(3000);
        let mut u = Tree::default();
        for (k, v) in t.entries.iter().rev() {
            u.entries.insert(k.clone(), v.clone());
        }
        assert_eq!(encode(&t).root, encode(&u).root);
        // A known name's level is fixed by the format.
        let lv: Vec<u8> = (0..64).map(|i| level(&format!("data-{i:05}.csv"))).collect();
        assert!(lv.iter().any(|l| *l >= 1) && lv.iter().filter(|l| **l == 0).count() > 40, "{lv:?}");
    }

    #[test]
    fn identical_subtrees_share_objects() {
        let mut a = Tree::default();
        let mut b = Tree::default();
        for t in [&mut a, &mut b] {
            t.entries.insert("lib".into(), dir());
            for i in 0..500 {
                t.entries.insert(format!("lib/m{i}.py"), file(i));
            }
        }
        a.entries.insert("a.txt".into(), file(1));
        b.entries.insert("b.txt".into(), file(2));
        let (ea, eb) = (encode(&a), encode(&b));
        assert_ne!(ea.root, eb.root);
        let only_b = eb.objects_not_in(Some(&ea));
        assert_eq!(only_b.len(), 1, "only the root differs");
        assert_eq!(*only_b[0].0, eb.root);
    }

    #[test]
    fn an_object_that_does_not_match_its_digest_is_refused() {
        let mut t = flat(200);
        t.entries.insert("d".into(), dir());
        t.entries.insert("d/x".into(), file(1));
        let e = encode(&t);
        for victim in e.objects.keys() {
            let mut objs = store(&e);
            let mut bad = objs[victim].to_vec();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            objs.insert(*victim, bad.into());
            let err = decode(e.root, |d| objs.get(d).cloned()).unwrap_err();
            assert!(format!("{err:#}").contains("does not match its digest"), "{err:#}");
        }
        let mut objs = store(&e);
        objs.remove(&e.dirs["d"].digest);
        let err = decode(e.root, |d| objs.get(d).cloned()).unwrap_err();
        assert!(format!("{err:#}").contains("missing"), "{err:#}");
    }

    /// Hand-made objects with correct digests but non-canonical content.
    #[test]
    fn malformed_or_non_canonical_objects_are_refused() {
        let f = |name: &str| {
            let mut b = Vec::new();
            put_bytes(&mut b, name.as_bytes());
            b.push(KIND_FILE);
            put_varint(&mut b, 0o644);
            put_varint(&mut b, 0);
            put_varint(&mut b, 0);
            b.extend_from_slice(&[0; 32]);
            b
        };
        let leaf = |names: &[&str]| {
            let mut b = b"PGT1L".to_vec();
            put_varint(&mut b, names.len() as u64);
            for n in names {
                b.extend(f(n));
            }
            b
        };
        let try_decode = |objs: Vec<Vec<u8>>| {
            let map: HashMap<Digest, Object> = objs.iter().map(|o| (sha256(o), o.clone().into())).collect();
            decode(sha256(&objs[0]), |d| map.get(d).cloned()).map(|_| ())
        };
        assert!(try_decode(vec![leaf(&["a", "b"])]).is_ok());
        let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
            ("unsorted", vec![leaf(&["b", "a"])]),
            ("duplicate", vec![leaf(&["a", "a"])]),
            ("slash", vec![leaf(&["a/b"])]),
            ("dotdot", vec![leaf(&[".."])]),
            ("dot", vec![leaf(&["."])]),
            ("empty name", vec![leaf(&[""])]),
            ("nul", vec![leaf(&["a\0"])]),
            ("bad magic", vec![{
                let mut b = leaf(&["a"]);
                b[3] = b'2';
                b
            }]),
            ("trailing", vec![{
                let mut b = leaf(&["a"]);
                b.push(0);
                b
            }]),
            ("truncated", vec![{
                let mut b = leaf(&["a"]);
                b.pop();
                b
            }]),
            ("long varint", vec![{
                let mut b = b"PGT1L".to_vec();
                b.extend([0x81, 0x00]);
                b.extend(f("a"));
                b
            }]),
            ("not utf-8", vec![{
                let mut b = b"PGT1L\x01\x02\xff\xfe".to_vec();
                b.extend(&f("a")[2..]);
                b
            }]),
            ("unknown kind", vec![b"PGT1X\x00".to_vec()]),
            ("huge count", vec![b"PGT1L\xff\xff\xff\xff\x0f".to_vec()]),
        ];
        for (what, objs) in cases {
            assert!(try_decode(objs).is_err(), "{what} accepted");
        }
        // A small directory split into chunks under a node: every digest
        // right, the structure not what the encoder makes.
        let (l1, l2) = (leaf(&["a"]), leaf(&["b"]));
        let node = node_object(&[
            ChunkRef { last: "a".into(), digest: sha256(&l1), len: 1, level: 0 },
            ChunkRef { last: "b".into(), digest: sha256(&l2), len: 1, level: 0 },
        ]);
        let err = try_decode(vec![node.clone(), l1.clone(), l2.clone()]).unwrap_err();
        assert!(format!("{err:#}").contains("split"), "{err:#}");
        // A node whose separator lies about its child.
        let node = node_object(&[
            ChunkRef { last: "a".into(), digest: sha256(&l2), len: 1, level: 0 },
            ChunkRef { last: "b".into(), digest: sha256(&l1), len: 1, level: 0 },
        ]);
        assert!(try_decode(vec![node, l1, l2]).is_err());
        // A large directory cut at a name that is not a boundary.
        let names: Vec<String> = (0..100).map(|i| format!("data-{i:05}.csv")).collect();
        let cut = names.iter().position(|n| level(n) == 0).unwrap();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let (a, b) = (leaf(&refs[..=cut]), leaf(&refs[cut + 1..]));
        let node = node_object(&[
            ChunkRef { last: names[cut].clone(), digest: sha256(&a), len: 0, level: 0 },
            ChunkRef { last: names[99].clone(), digest: sha256(&b), len: 0, level: 0 },
        ]);
        let err = try_decode(vec![node, a, b]).unwrap_err();
        assert!(format!("{err:#}").contains("canonical"), "{err:#}");
    }
}
