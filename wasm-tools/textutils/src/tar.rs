//! `tar`: GNU tar's common command line over the `tar` crate (archive
//! format) and flate2 (`-z`).
//!
//! Modes `-c`, `-x`, `-t`; options `-f FILE` (default: standard input or
//! output), `-z` (gzip; reading also detects it by itself, as GNU tar does),
//! `-v`, `-C DIR`, `-O` (extract to standard output), `-k`,
//! `--strip-components=N`, `--exclude=GLOB`, `-a` (gzip by the archive's
//! suffix); the old style without a dash (`tar czf a.tgz dir`) too.
//!
//! Archives are GNU format. Members are written in byte order of their
//! names (GNU tar: in the order the directory lists them); times are the
//! session files' (so the same on every run and replay); the mode is 0644
//! for files and 0755 for directories (WASI has no permission bits), the
//! owner 0/0. Extraction is done here rather than by the crate's `unpack`
//! (which cannot set permissions on wasm32 and fails): a member whose name
//! is absolute loses its leading `/`, one with a `..` component is skipped
//! with a message, as GNU tar does.
//!
//! Exit status as GNU tar's: 0 success, 2 trouble (after the others were
//! handled: "Exiting with failure status due to previous errors").

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};

use crate::grep::{glob_match, io_message};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Create,
    Extract,
    List,
}

#[derive(Default)]
struct Opts {
    mode: Option<Mode>,
    file: Option<String>,
    gzip: bool,
    auto_compress: bool,
    verbose: u8,
    dir: Option<String>,
    to_stdout: bool,
    keep_old: bool,
    strip: usize,
    exclude: Vec<String>,
    members: Vec<String>,
}

const HELP: &str = "\
Usage: tar [OPTION...] [FILE]...
  -c, --create               create a new archive
  -x, --extract, --get       extract files from an archive
  -t, --list                 list the contents of an archive
  -f, --file=ARCHIVE         use archive file ARCHIVE ('-': standard input/output)
  -z, --gzip                 filter the archive through gzip
  -a, --auto-compress        use the archive suffix to decide on compression
  -v, --verbose              verbosely list files processed
  -C, --directory=DIR        change to directory DIR
  -O, --to-stdout            extract files to standard output
  -k, --keep-old-files       don't replace existing files when extracting
      --strip-components=N   strip N leading components from file names on extraction
      --exclude=PATTERN      exclude files matching PATTERN (a glob)
      --help                 give this help list
      --version              print program version
Examples:
  tar -cf archive.tar foo bar  # Create archive.tar from files foo and bar.
  tar -tvf archive.tar         # List all files in archive.tar verbosely.
  tar -xf archive.tar          # Extract all files from archive.tar.
(pg_shell: GNU tar's common options over the tar crate and flate2.)";

struct Run {
    failed: bool,
}

impl Run {
    fn error(&mut self, msg: String) {
        let _ = io::stdout().flush();
        eprintln!("tar: {msg}");
        self.failed = true;
    }
}

fn needs_value(c: char) -> bool {
    matches!(c, 'f' | 'C')
}

pub fn main(args: Vec<OsString>) -> i32 {
    let mut args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The old style: a first argument without a dash is a cluster of option
    // letters whose values follow it in order (`tar cvfz a.tgz dir`).
    if let Some(first) = args.first().cloned() {
        if !first.starts_with('-')
            && !first.is_empty()
            && first.chars().all(|c| c.is_ascii_alphabetic())
        {
            let mut rest: Vec<String> = args[1..].to_vec();
            let mut expanded = Vec::new();
            for c in first.chars() {
                expanded.push(format!("-{c}"));
                if needs_value(c) && !rest.is_empty() {
                    expanded.push(rest.remove(0));
                }
            }
            expanded.extend(rest);
            args = expanded;
        }
    }
    let mut o = Opts::default();
    let mut it = args.into_iter();
    let set_mode = |o: &mut Opts, m: Mode| -> Result<(), String> {
        if o.mode.is_some_and(|x| x != m) {
            return Err("You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option".into());
        }
        o.mode = Some(m);
        Ok(())
    };
    let result: Result<(), String> = (|| {
        while let Some(a) = it.next() {
            if a == "--" {
                o.members.extend(it.by_ref());
                break;
            }
            if let Some(long) = a.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (long.to_string(), None),
                };
                let val = |it: &mut std::vec::IntoIter<String>| {
                    inline
                        .clone()
                        .or_else(|| it.next())
                        .ok_or_else(|| format!("option '--{name}' requires an argument"))
                };
                match name.as_str() {
                    "create" => set_mode(&mut o, Mode::Create)?,
                    "extract" | "get" => set_mode(&mut o, Mode::Extract)?,
                    "list" => set_mode(&mut o, Mode::List)?,
                    "file" => o.file = Some(val(&mut it)?),
                    "gzip" | "gunzip" | "ungzip" => o.gzip = true,
                    "auto-compress" => o.auto_compress = true,
                    "verbose" => o.verbose += 1,
                    "directory" => o.dir = Some(val(&mut it)?),
                    "to-stdout" => o.to_stdout = true,
                    "keep-old-files" => o.keep_old = true,
                    "strip-components" => {
                        let v = val(&mut it)?;
                        o.strip = v
                            .parse()
                            .map_err(|_| format!("Invalid number of elements: '{v}'"))?;
                    }
                    "exclude" => o.exclude.push(val(&mut it)?),
                    "bzip2" | "xz" | "lzma" | "zstd" | "lzip" | "lzop" | "compress"
                    | "uncompress" => {
                        return Err(format!(
                            "--{name}: only gzip compression is available here (-z)"
                        ));
                    }
                    "help" => {
                        println!("{HELP}");
                        std::process::exit(0);
                    }
                    "version" => {
                        println!(
                            "tar (pg_shell textutils) GNU tar 1.34-compatible, over tar 0.4 and flate2 1.1"
                        );
                        std::process::exit(0);
                    }
                    "preserve-permissions"
                    | "same-permissions"
                    | "numeric-owner"
                    | "no-same-owner"
                    | "overwrite" => {}
                    _ => return Err(format!("unrecognized option '--{name}'")),
                }
                continue;
            }
            if a.len() > 1 && a.starts_with('-') {
                let chars: Vec<char> = a[1..].chars().collect();
                let mut i = 0;
                while i < chars.len() {
                    let c = chars[i];
                    i += 1;
                    if needs_value(c) {
                        let inline: String = chars[i..].iter().collect();
                        i = chars.len();
                        let v = if inline.is_empty() {
                            it.next()
                                .ok_or_else(|| format!("option requires an argument -- '{c}'"))?
                        } else {
                            inline
                        };
                        if c == 'f' {
                            o.file = Some(v);
                        } else {
                            o.dir = Some(v);
                        }
                        continue;
                    }
                    match c {
                        'c' => set_mode(&mut o, Mode::Create)?,
                        'x' => set_mode(&mut o, Mode::Extract)?,
                        't' => set_mode(&mut o, Mode::List)?,
                        'z' => o.gzip = true,
                        'a' => o.auto_compress = true,
                        'v' => o.verbose += 1,
                        'O' => o.to_stdout = true,
                        'k' => o.keep_old = true,
                        'p' | 'o' => {}
                        'j' | 'J' | 'Z' => {
                            return Err(format!(
                                "-{c}: only gzip compression is available here (-z)"
                            ));
                        }
                        'r' | 'u' | 'A' | 'd' => {
                            return Err(format!("-{c}: only -c, -x and -t are available here"));
                        }
                        _ => return Err(format!("invalid option -- '{c}'")),
                    }
                }
                continue;
            }
            o.members.push(a);
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("tar: {e}\nTry 'tar --help' for more information.");
        return 2;
    }
    let Some(mode) = o.mode else {
        eprintln!(
            "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' for more information."
        );
        return 2;
    };
    if o.auto_compress {
        if let Some(f) = &o.file {
            if f.ends_with(".tgz") || f.ends_with(".tar.gz") || f.ends_with(".taz") {
                o.gzip = true;
            }
        }
    }
    let mut run = Run { failed: false };
    let r = match mode {
        Mode::Create => create(&o, &mut run),
        Mode::Extract | Mode::List => read_archive(&o, mode, &mut run),
    };
    let _ = io::stdout().flush();
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 141,
        Err(e) => {
            eprintln!("tar: {}", io_message(&e));
            eprintln!("tar: Error is not recoverable: exiting now");
            2
        }
        Ok(()) if run.failed => {
            eprintln!("tar: Exiting with failure status due to previous errors");
            2
        }
        Ok(()) => 0,
    }
}

/// Resolves the archive's name before `-C` changes directory (GNU tar opens
/// the archive first too).
/// The path is made absolute and `..` resolved by name: wasi-libc finds
/// the preopened directory for a path by its text, so `/e/../a.tar` would
/// be looked up under `/e` and refused.
fn archive_path(o: &Opts) -> Option<PathBuf> {
    match o.file.as_deref() {
        None | Some("-") => None,
        Some(f) => {
            let joined = std::env::current_dir()
                .map(|d| d.join(f))
                .unwrap_or_else(|_| PathBuf::from(f));
            let mut clean = PathBuf::new();
            for c in joined.components() {
                match c {
                    Component::ParentDir => {
                        clean.pop();
                    }
                    Component::CurDir => {}
                    other => clean.push(other),
                }
            }
            Some(clean)
        }
    }
}

fn enter_dir(o: &Opts) -> io::Result<()> {
    if let Some(d) = &o.dir {
        std::env::set_current_dir(d).map_err(|e| {
            io::Error::new(e.kind(), format!("{d}: Cannot open: {}", io_message(&e)))
        })?;
    }
    Ok(())
}

fn create(o: &Opts, run: &mut Run) -> io::Result<()> {
    if o.members.is_empty() {
        eprintln!(
            "tar: Cowardly refusing to create an empty archive\nTry 'tar --help' for more information."
        );
        std::process::exit(2);
    }
    let archive = archive_path(o);
    let sink: Box<dyn Write> = match &archive {
        Some(p) => Box::new(fs::File::create(p).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: Cannot open: {}",
                    o.file.as_deref().unwrap_or("-"),
                    io_message(&e)
                ),
            )
        })?),
        None => Box::new(io::stdout()),
    };
    // GNU tar prints the verbose listing on stdout, unless the archive goes there.
    let listing_to_stderr = archive.is_none();
    enter_dir(o)?;
    let sink = BufWriter::with_capacity(64 * 1024, sink);
    let inner = if o.gzip {
        // As `gzip` on a pipe writes it: no name, time 0.
        Out::Gz(
            GzBuilder::new()
                .operating_system(3)
                .mtime(0)
                .write(sink, Compression::default()),
        )
    } else {
        Out::Plain(sink)
    };
    let mut b = tar::Builder::new(inner);
    let mut warned_abs = false;
    for m in &o.members {
        let name = m.trim_start_matches('/');
        if name.len() != m.len() && !warned_abs {
            eprintln!("tar: Removing leading `/' from member names");
            warned_abs = true;
        }
        let name = if name.is_empty() { "." } else { name };
        add_path(o, run, &mut b, Path::new(m), name, listing_to_stderr)?;
    }
    b.into_inner()?.finish()
}

/// The archive being written, plain or through gzip.
enum Out {
    Plain(BufWriter<Box<dyn Write>>),
    Gz(GzEncoder<BufWriter<Box<dyn Write>>>),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Plain(w) => w.write(buf),
            Out::Gz(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Plain(w) => w.flush(),
            Out::Gz(w) => w.flush(),
        }
    }
}

impl Out {
    /// Ends the gzip stream and flushes, reporting what dropping would hide.
    fn finish(self) -> io::Result<()> {
        match self {
            Out::Plain(mut w) => w.flush(),
            Out::Gz(g) => g.finish()?.flush(),
        }
    }
}

fn excluded(o: &Opts, name: &str) -> bool {
    o.exclude.iter().any(|g| {
        let g = g.trim_end_matches('/');
        glob_match(g, name)
            || Path::new(name)
                .components()
                .any(|c| glob_match(g, &c.as_os_str().to_string_lossy()))
    })
}

fn base_header(kind: tar::EntryType, meta: &fs::Metadata) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_uid(0);
    h.set_gid(0);
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    h.set_mtime(mtime);
    h.set_size(0);
    h
}

fn add_path<W: Write>(
    o: &Opts,
    run: &mut Run,
    b: &mut tar::Builder<W>,
    path: &Path,
    name: &str,
    listing_to_stderr: bool,
) -> io::Result<()> {
    if excluded(o, name) {
        return Ok(());
    }
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            run.error(format!(
                "{}: Cannot stat: {}",
                path.display(),
                io_message(&e)
            ));
            return Ok(());
        }
    };
    let ft = meta.file_type();
    let shown = if ft.is_dir() && !name.ends_with('/') {
        format!("{name}/")
    } else {
        name.to_string()
    };
    if o.verbose > 0 {
        let line = if o.verbose > 1 {
            long_listing(&base_header_for(&meta), &shown, None)
        } else {
            shown.clone()
        };
        if listing_to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    if ft.is_dir() {
        let mut h = base_header(tar::EntryType::Directory, &meta);
        b.append_data(&mut h, &shown, io::empty())?;
        let mut names: Vec<OsString> = match fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect(),
            Err(e) => {
                run.error(format!(
                    "{}: Cannot open: {}",
                    path.display(),
                    io_message(&e)
                ));
                return Ok(());
            }
        };
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for n in names {
            let child = format!("{}{}", shown, n.to_string_lossy());
            add_path(o, run, b, &path.join(&n), &child, listing_to_stderr)?;
        }
    } else if ft.is_symlink() {
        let target = fs::read_link(path)?;
        let mut h = base_header(tar::EntryType::Symlink, &meta);
        h.set_mode(0o777);
        b.append_link(&mut h, name, &target)?;
    } else if ft.is_file() {
        let f = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                run.error(format!(
                    "{}: Cannot open: {}",
                    path.display(),
                    io_message(&e)
                ));
                return Ok(());
            }
        };
        let mut h = base_header(tar::EntryType::Regular, &meta);
        h.set_size(meta.len());
        b.append_data(&mut h, name, BufReader::new(f))?;
    } else {
        run.error(format!("{}: file type not archived", path.display()));
    }
    Ok(())
}

fn base_header_for(meta: &fs::Metadata) -> tar::Header {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        tar::EntryType::Directory
    } else if ft.is_symlink() {
        tar::EntryType::Symlink
    } else {
        tar::EntryType::Regular
    };
    let mut h = base_header(kind, meta);
    if kind == tar::EntryType::Regular {
        h.set_size(meta.len());
    }
    h
}

/// `tar -tv`'s line: `-rw-r--r-- user/group SIZE YYYY-MM-DD HH:MM name`
/// (GNU pads the owner and size to 19 columns together).
fn long_listing(h: &tar::Header, name: &str, link: Option<String>) -> String {
    let kind = h.entry_type();
    let t = if kind.is_dir() {
        'd'
    } else if kind.is_symlink() {
        'l'
    } else if kind.is_hard_link() {
        'h'
    } else {
        '-'
    };
    let mode = h.mode().unwrap_or(0);
    let mut perms = String::new();
    perms.push(if t == 'h' { '-' } else { t });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        perms.push(if bits & 4 != 0 { 'r' } else { '-' });
        perms.push(if bits & 2 != 0 { 'w' } else { '-' });
        perms.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let user = h
        .username()
        .ok()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| h.uid().unwrap_or(0).to_string());
    let group = h
        .groupname()
        .ok()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| h.gid().unwrap_or(0).to_string());
    let size = if kind.is_dir() || kind.is_symlink() || kind.is_hard_link() {
        0
    } else {
        h.size().unwrap_or(0)
    };
    let size = size.to_string();
    let pad = user.len() + 1 + group.len() + 1 + size.len();
    let width = 19usize.max(pad) - pad + size.len();
    let when = format_time(h.mtime().unwrap_or(0));
    let mut line = format!("{perms} {user}/{group} {size:>width$} {when} {name}");
    if let Some(l) = link {
        line.push_str(&l);
    }
    line
}

/// `YYYY-MM-DD HH:MM` in UTC (a WASI program's time zone).
fn format_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn read_archive(o: &Opts, mode: Mode, run: &mut Run) -> io::Result<()> {
    let archive = archive_path(o);
    let raw: Box<dyn Read> = match &archive {
        Some(p) => Box::new(fs::File::open(p).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: Cannot open: {}",
                    o.file.as_deref().unwrap_or("-"),
                    io_message(&e)
                ),
            )
        })?),
        None => Box::new(io::stdin()),
    };
    let mut raw = BufReader::with_capacity(64 * 1024, raw);
    // Detect gzip by its magic number, as GNU tar does on reading.
    let gz = {
        use std::io::BufRead;
        let head = raw.fill_buf()?;
        head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
    };
    let reader: Box<dyn Read> = if gz || o.gzip {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    enter_dir(o)?;
    let mut ar = tar::Archive::new(reader);
    let mut seen = vec![false; o.members.len()];
    let mut stdout = io::stdout().lock();
    for entry in ar.entries()? {
        let mut entry = entry?;
        let name_bytes = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&name_bytes).into_owned();
        if !o.members.is_empty() {
            let hit = o.members.iter().position(|m| {
                let m = m.trim_end_matches('/');
                let n = name.trim_end_matches('/');
                n == m || n.starts_with(&format!("{m}/"))
            });
            match hit {
                Some(k) => seen[k] = true,
                None => continue,
            }
        }
        if excluded(o, &name) {
            continue;
        }
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());
        if mode == Mode::List || o.verbose > 0 {
            let line = if o.verbose > 1 || (mode == Mode::List && o.verbose > 0) {
                let arrow = link.as_ref().map(|l| {
                    if entry.header().entry_type().is_hard_link() {
                        format!(" link to {l}")
                    } else {
                        format!(" -> {l}")
                    }
                });
                long_listing(entry.header(), &name, arrow)
            } else {
                name.clone()
            };
            if o.to_stdout {
                eprintln!("{line}");
            } else {
                writeln!(stdout, "{line}")?;
            }
        }
        if mode == Mode::Extract {
            extract_entry(o, run, &mut entry, &name, link, &mut stdout)?;
        }
    }
    for (k, m) in o.members.iter().enumerate() {
        if !seen[k] {
            run.error(format!("{m}: Not found in archive"));
        }
    }
    stdout.flush()
}

fn extract_entry<R: Read>(
    o: &Opts,
    run: &mut Run,
    entry: &mut tar::Entry<'_, R>,
    name: &str,
    link: Option<String>,
    stdout: &mut impl Write,
) -> io::Result<()> {
    let kind = entry.header().entry_type();
    if o.to_stdout {
        if kind.is_file() || kind == tar::EntryType::Continuous || kind == tar::EntryType::GNUSparse
        {
            io::copy(entry, stdout)?;
        }
        return Ok(());
    }
    // Safe relative path: no leading '/', no '..', strip components.
    let mut rel = PathBuf::new();
    let mut parts = 0usize;
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => {
                parts += 1;
                if parts > o.strip {
                    rel.push(p);
                }
            }
            Component::ParentDir => {
                run.error(format!("{name}: Member name contains '..'"));
                return Ok(());
            }
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
        }
    }
    if rel.as_os_str().is_empty() {
        return Ok(());
    }
    if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(e) = fs::create_dir_all(parent) {
            run.error(format!(
                "{}: Cannot mkdir: {}",
                parent.display(),
                io_message(&e)
            ));
            return Ok(());
        }
    }
    let exists = fs::symlink_metadata(&rel).is_ok();
    if exists && o.keep_old && !kind.is_dir() {
        run.error(format!("{}: Cannot open: File exists", rel.display()));
        return Ok(());
    }
    let mtime = entry.header().mtime().ok();
    if kind.is_dir() {
        if let Err(e) = fs::create_dir_all(&rel) {
            run.error(format!(
                "{}: Cannot mkdir: {}",
                rel.display(),
                io_message(&e)
            ));
        }
        return Ok(());
    }
    if exists {
        // Replace what is there (GNU tar's default: unlink, then create).
        if fs::symlink_metadata(&rel).is_ok_and(|m| m.is_dir()) {
            run.error(format!("{}: Cannot open: Is a directory", rel.display()));
            return Ok(());
        }
        let _ = fs::remove_file(&rel);
    }
    if kind.is_symlink() {
        let Some(target) = link else { return Ok(()) };
        if let Err(e) = make_symlink(&target, &rel) {
            run.error(format!(
                "{}: Cannot create symlink to '{target}': {}",
                rel.display(),
                io_message(&e)
            ));
        }
        return Ok(());
    }
    if kind.is_hard_link() {
        let Some(target) = link else { return Ok(()) };
        let mut tpath = PathBuf::new();
        for (i, c) in Path::new(&target)
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .enumerate()
        {
            if i >= o.strip {
                tpath.push(c);
            }
        }
        if let Err(e) = fs::hard_link(&tpath, &rel) {
            run.error(format!(
                "{}: Cannot hard link to '{target}': {}",
                rel.display(),
                io_message(&e)
            ));
        }
        return Ok(());
    }
    if !(kind.is_file() || kind == tar::EntryType::Continuous || kind == tar::EntryType::GNUSparse)
    {
        run.error(format!(
            "{}: Unsupported member type, skipped",
            rel.display()
        ));
        return Ok(());
    }
    let f = match fs::File::create(&rel) {
        Ok(f) => f,
        Err(e) => {
            run.error(format!(
                "{}: Cannot open: {}",
                rel.display(),
                io_message(&e)
            ));
            return Ok(());
        }
    };
    let mut w = BufWriter::new(f);
    io::copy(entry, &mut w)?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    if let Some(t) = mtime {
        let _ = f.set_modified(UNIX_EPOCH + Duration::from_secs(t));
    }
    Ok(())
}

/// wasi-libc's symlink(3) (std's WASI symlink is unstable): it resolves the
/// link's path against the working directory as every other call does.
#[cfg(target_os = "wasi")]
fn make_symlink(target: &str, link: &Path) -> io::Result<()> {
    use std::ffi::{CString, c_char, c_int};
    unsafe extern "C" {
        fn symlink(target: *const c_char, linkpath: *const c_char) -> c_int;
    }
    let t = CString::new(target).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let l = CString::new(link.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: both are NUL-terminated strings that outlive the call.
    if unsafe { symlink(t.as_ptr(), l.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(unix)]
fn make_symlink(target: &str, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(any(unix, target_os = "wasi")))]
fn make_symlink(_target: &str, _link: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symbolic links are not supported",
    ))
}
