//! `gzip`, `gunzip`, `zcat`: GNU gzip's command line over flate2 (with its
//! pure-Rust miniz_oxide backend).
//!
//! The output is a function of the input alone: the header holds the
//! original name and the input file's modification time (both from the
//! session's files, so the same on every run and replay), OS 3 (Unix) as
//! GNU gzip writes, and, for standard input or with `-n`, no name and time
//! 0. The deflate stream is miniz_oxide's, not GNU's, so the bytes differ
//! from GNU gzip's while every gzip reads them (and this reads GNU's,
//! multi-member files included).
//!
//! Exit status as GNU's: 0 success, 1 an error, 2 a warning (a file left
//! alone: it exists, or has the suffix already, or has an unknown one).

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flate2::read::MultiGzDecoder;
use flate2::{Compression, GzBuilder};

use crate::grep::io_message;

#[derive(Default)]
struct Opts {
    stdout: bool,
    decompress: bool,
    force: bool,
    keep: bool,
    list: bool,
    test: bool,
    verbose: bool,
    quiet: bool,
    recursive: bool,
    no_name: bool,
    name: bool,
    level: u32,
    suffix: String,
    files: Vec<OsString>,
}

const HELP: &str = "\
Usage: gzip [OPTION]... [FILE]...
Compress or uncompress FILEs (by default, compress FILES in-place).

  -c, --stdout      write on standard output, keep original files unchanged
  -d, --decompress  decompress
  -f, --force       force overwrite of output file
  -h, --help        give this help
  -k, --keep        keep (don't delete) input files
  -l, --list        list compressed file contents
  -n, --no-name     do not save or restore the original name and timestamp
  -N, --name        save or restore the original name and timestamp
  -q, --quiet       suppress all warnings
  -r, --recursive   operate recursively on directories
  -S, --suffix=SUF  use suffix SUF on compressed files
  -t, --test        test compressed file integrity
  -v, --verbose     verbose mode
  -V, --version     display version number
  -1, --fast        compress faster
  -9, --best        compress better

With no FILE, or when FILE is -, read standard input.
(pg_shell: GNU gzip's command line over flate2 with miniz_oxide.)";

struct Status {
    code: i32,
    quiet: bool,
}

impl Status {
    fn error(&mut self, msg: String) {
        eprintln!("{msg}");
        self.code = 1;
    }
    fn warning(&mut self, msg: String) {
        if !self.quiet {
            eprintln!("{msg}");
        }
        if self.code == 0 {
            self.code = 2;
        }
    }
}

pub fn main(program: &str, args: Vec<OsString>) -> i32 {
    let mut o = Opts {
        level: 6,
        suffix: ".gz".into(),
        ..Default::default()
    };
    match program {
        "gunzip" => o.decompress = true,
        "zcat" => {
            o.decompress = true;
            o.stdout = true;
        }
        _ => {}
    }
    let mut it = args.into_iter();
    it.next();
    let mut only_files = false;
    while let Some(arg) = it.next() {
        let s = arg.to_string_lossy().into_owned();
        if only_files || s == "-" || !s.starts_with('-') {
            o.files.push(arg);
            continue;
        }
        if s == "--" {
            only_files = true;
            continue;
        }
        if let Some(long) = s.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            match name {
                "stdout" | "to-stdout" => o.stdout = true,
                "decompress" | "uncompress" => o.decompress = true,
                "force" => o.force = true,
                "help" => {
                    println!("{HELP}");
                    return 0;
                }
                "keep" => o.keep = true,
                "list" => o.list = true,
                "no-name" => o.no_name = true,
                "name" => o.name = true,
                "quiet" | "silent" => o.quiet = true,
                "recursive" => o.recursive = true,
                "suffix" => {
                    match inline.or_else(|| it.next().map(|v| v.to_string_lossy().into_owned())) {
                        Some(v) if !v.is_empty() && !v.contains('/') => o.suffix = v,
                        _ => {
                            eprintln!("{program}: invalid suffix");
                            return 1;
                        }
                    }
                }
                "test" => o.test = true,
                "verbose" => o.verbose = true,
                "version" => {
                    println!(
                        "gzip (pg_shell textutils) 1.12-compatible, over flate2 1.1 (miniz_oxide)"
                    );
                    return 0;
                }
                "fast" => o.level = 1,
                "best" => o.level = 9,
                _ => {
                    eprintln!(
                        "{program}: unrecognized option '--{name}'\nTry '{program} --help' for more information."
                    );
                    return 1;
                }
            }
            continue;
        }
        let chars: Vec<char> = s[1..].chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                'c' => o.stdout = true,
                'd' => o.decompress = true,
                'f' => o.force = true,
                'h' => {
                    println!("{HELP}");
                    return 0;
                }
                'k' => o.keep = true,
                'l' => o.list = true,
                'n' => o.no_name = true,
                'N' => o.name = true,
                'q' => o.quiet = true,
                'r' => o.recursive = true,
                't' => o.test = true,
                'v' => o.verbose = true,
                'V' => {
                    println!(
                        "gzip (pg_shell textutils) 1.12-compatible, over flate2 1.1 (miniz_oxide)"
                    );
                    return 0;
                }
                'S' => {
                    let rest: String = chars[i + 1..].iter().collect();
                    let v = if rest.is_empty() {
                        it.next().map(|v| v.to_string_lossy().into_owned())
                    } else {
                        Some(rest)
                    };
                    match v {
                        Some(v) if !v.is_empty() && !v.contains('/') => o.suffix = v,
                        _ => {
                            eprintln!("{program}: invalid suffix");
                            return 1;
                        }
                    }
                    i = chars.len();
                    continue;
                }
                d @ '1'..='9' => o.level = d.to_digit(10).unwrap(),
                other => {
                    eprintln!(
                        "{program}: invalid option -- '{other}'\nTry '{program} --help' for more information."
                    );
                    return 1;
                }
            }
            i += 1;
        }
    }
    if o.list || o.test {
        o.decompress = true;
    }
    let mut st = Status {
        code: 0,
        quiet: o.quiet,
    };
    if o.list {
        println!("         compressed        uncompressed  ratio uncompressed_name");
    }
    let files = std::mem::take(&mut o.files);
    if files.is_empty() {
        stdin_to_stdout(program, &o, &mut st);
    }
    let mut totals = (0u64, 0u64, 0u64, 0usize);
    for f in files {
        if f == "-" {
            stdin_to_stdout(program, &o, &mut st);
        } else {
            one_path(program, &o, Path::new(&f), &mut st, &mut totals, true);
        }
    }
    if o.list && totals.3 > 1 {
        print_list_line(totals.0, totals.1, totals.2, "(totals)");
    }
    if let Err(e) = io::stdout().flush() {
        eprintln!("{program}: stdout: {}", io_message(&e));
        return 1;
    }
    st.code
}

fn stdin_to_stdout(program: &str, o: &Opts, st: &mut Status) {
    let stdin = io::stdin();
    let input = stdin.lock();
    let stdout = io::stdout();
    let result = if o.decompress {
        if o.list {
            let mut data = Vec::new();
            let r = BufReader::new(input).read_to_end(&mut data);
            r.and_then(|_| list_one(&data, "stdout"))
        } else if o.test {
            io::copy(
                &mut MultiGzDecoder::new(BufReader::new(input)),
                &mut io::sink(),
            )
            .map(|_| ())
        } else {
            decompress_stream(input, &mut stdout.lock())
        }
    } else {
        compress_stream(input, &mut stdout.lock(), o.level, None, 0)
    };
    if let Err(e) = result {
        st.error(format!("{program}: stdin: {}", gz_message(&e)));
    }
}

fn gz_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            "not in gzip format".into()
        }
        _ => io_message(e),
    }
}

fn compress_stream<R: Read, W: Write>(
    input: R,
    out: &mut W,
    level: u32,
    name: Option<&[u8]>,
    mtime: u32,
) -> io::Result<()> {
    let mut b = GzBuilder::new().operating_system(3).mtime(mtime);
    if let Some(n) = name {
        b = b.filename(n.to_vec());
    }
    let mut enc = b.write(BufWriter::new(out), Compression::new(level));
    io::copy(&mut BufReader::new(input), &mut enc)?;
    enc.finish()?.flush()
}

fn decompress_stream<R: Read, W: Write>(input: R, out: &mut W) -> io::Result<()> {
    let mut dec = MultiGzDecoder::new(BufReader::new(input));
    let mut out = BufWriter::new(out);
    io::copy(&mut dec, &mut out)?;
    out.flush()
}

fn one_path(
    program: &str,
    o: &Opts,
    path: &Path,
    st: &mut Status,
    totals: &mut (u64, u64, u64, usize),
    operand: bool,
) {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            // gunzip FILE also tries FILE.gz.
            if o.decompress && e.kind() == io::ErrorKind::NotFound {
                let with = PathBuf::from(format!("{}{}", path.display(), o.suffix));
                if with.exists() {
                    return one_path(program, o, &with, st, totals, operand);
                }
                st.error(format!("{program}: {}: {}", with.display(), io_message(&e)));
                return;
            }
            st.error(format!("{program}: {}: {}", path.display(), io_message(&e)));
            return;
        }
    };
    if meta.is_dir() {
        if !o.recursive {
            st.warning(format!(
                "{program}: {} is a directory -- ignored",
                path.display()
            ));
            return;
        }
        let mut names: Vec<OsString> = match fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect(),
            Err(e) => {
                st.error(format!("{program}: {}: {}", path.display(), io_message(&e)));
                return;
            }
        };
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for n in names {
            one_path(program, o, &path.join(n), st, totals, false);
        }
        return;
    }
    if meta.file_type().is_symlink() && !o.force && !o.stdout {
        st.warning(format!(
            "{program}: {} is not a directory or a regular file - ignored",
            path.display()
        ));
        return;
    }
    if o.decompress {
        decompress_file(program, o, path, &meta, st, totals);
    } else {
        compress_file(program, o, path, &meta, st);
    }
}

fn mtime_secs(meta: &fs::Metadata) -> u32 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs().min(u32::MAX as u64) as u32)
        .unwrap_or(0)
}

fn compress_file(program: &str, o: &Opts, path: &Path, meta: &fs::Metadata, st: &mut Status) {
    let name = path.to_string_lossy();
    if !o.stdout && name.ends_with(&o.suffix) {
        st.warning(format!(
            "{program}: {name} already has {} suffix -- unchanged",
            o.suffix
        ));
        return;
    }
    let input = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return st.error(format!("{program}: {name}: {}", io_message(&e))),
    };
    let base = path.file_name().map(|n| n.as_encoded_bytes().to_vec());
    let (hname, mtime) = if o.no_name {
        (None, 0)
    } else {
        (base, mtime_secs(meta))
    };
    if o.stdout {
        let stdout = io::stdout();
        if let Err(e) = compress_stream(input, &mut stdout.lock(), o.level, hname.as_deref(), mtime)
        {
            st.error(format!("{program}: {name}: {}", io_message(&e)));
        }
        return;
    }
    let out_path = PathBuf::from(format!("{name}{}", o.suffix));
    let Some(mut out) = create_output(program, o, &out_path, st) else {
        return;
    };
    let r = compress_stream(input, &mut out, o.level, hname.as_deref(), mtime)
        .and_then(|_| out.sync_all());
    if let Err(e) = r {
        let _ = fs::remove_file(&out_path);
        return st.error(format!(
            "{program}: {}: {}",
            out_path.display(),
            io_message(&e)
        ));
    }
    drop(out);
    finish_output(program, o, path, &out_path, meta, st, true);
}

fn create_output(program: &str, o: &Opts, out_path: &Path, st: &mut Status) -> Option<fs::File> {
    if out_path.exists() {
        if !o.force {
            st.warning(format!(
                "{program}: {} already exists;\tnot overwritten",
                out_path.display()
            ));
            return None;
        }
        let _ = fs::remove_file(out_path);
    }
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out_path)
    {
        Ok(f) => Some(f),
        Err(e) => {
            st.error(format!(
                "{program}: {}: {}",
                out_path.display(),
                io_message(&e)
            ));
            None
        }
    }
}

/// Gives the output the input's modification time and, unless -k, removes
/// the input; -v reports as GNU gzip does.
fn finish_output(
    program: &str,
    o: &Opts,
    input: &Path,
    output: &Path,
    meta: &fs::Metadata,
    st: &mut Status,
    compressing: bool,
) {
    if let (Ok(t), Ok(f)) = (
        meta.modified(),
        fs::File::options().write(true).open(output),
    ) {
        let _ = f.set_modified(t);
    }
    if o.verbose {
        let packed_file = if compressing { output } else { input };
        let packed = fs::read(packed_file).map(|d| deflate_len(&d)).unwrap_or(0);
        let raw = if compressing {
            meta.len()
        } else {
            fs::metadata(output).map(|m| m.len()).unwrap_or(0)
        };
        let verb = if o.keep { "created" } else { "replaced with" };
        eprintln!(
            "{}:\t{} -- {verb} {}",
            input.display(),
            ratio(packed, raw),
            output.display()
        );
    }
    if !o.keep {
        if let Err(e) = fs::remove_file(input) {
            st.error(format!(
                "{program}: {}: {}",
                input.display(),
                io_message(&e)
            ));
        }
    }
}

fn ratio(packed: u64, raw: u64) -> String {
    if raw == 0 {
        return "  0.0%".into();
    }
    let r = (raw as f64 - packed as f64) * 100.0 / raw as f64;
    format!("{r:5.1}%")
}

fn strip_suffix(name: &str, suffix: &str) -> Option<String> {
    for s in [suffix, ".gz", "-gz", ".z", "-z", "_z"] {
        if let Some(base) = name.strip_suffix(s) {
            if !base.is_empty() && !base.ends_with('/') {
                return Some(base.to_string());
            }
        }
    }
    if let Some(base) = name
        .strip_suffix(".tgz")
        .or_else(|| name.strip_suffix(".taz"))
    {
        return Some(format!("{base}.tar"));
    }
    None
}

fn decompress_file(
    program: &str,
    o: &Opts,
    path: &Path,
    meta: &fs::Metadata,
    st: &mut Status,
    totals: &mut (u64, u64, u64, usize),
) {
    let name = path.to_string_lossy().into_owned();
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) => return st.error(format!("{program}: {name}: {}", io_message(&e))),
    };
    if o.list {
        let shown = strip_suffix(&name, &o.suffix).unwrap_or_else(|| name.clone());
        if let Err(e) = list_one(&data, &shown) {
            return st.error(format!("{program}: {name}: {}", gz_message(&e)));
        }
        totals.0 += data.len() as u64;
        totals.1 += deflate_len(&data);
        totals.2 += isize_trailer(&data);
        totals.3 += 1;
        return;
    }
    if o.test {
        if let Err(e) = io::copy(&mut MultiGzDecoder::new(&data[..]), &mut io::sink()) {
            st.error(format!("{program}: {name}: {}", gz_message(&e)));
        } else if o.verbose {
            eprintln!("{name}:\t OK");
        }
        return;
    }
    if o.stdout {
        let stdout = io::stdout();
        if let Err(e) = decompress_stream(&data[..], &mut stdout.lock()) {
            st.error(format!("{program}: {name}: {}", gz_message(&e)));
        }
        return;
    }
    let Some(mut base) = strip_suffix(&name, &o.suffix) else {
        return st.warning(format!("{program}: {name}: unknown suffix -- ignored"));
    };
    let mut restore_time = None;
    if o.name {
        // -N: the name and time stored in the header.
        let mut dec = MultiGzDecoder::new(&data[..]);
        let mut first = [0u8; 0];
        let _ = dec.read(&mut first);
        if let Some(h) = dec.header() {
            if let Some(stored) = h.filename() {
                let stored = String::from_utf8_lossy(stored).into_owned();
                if !stored.is_empty() && !stored.contains('/') {
                    base = match Path::new(&base)
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                    {
                        Some(dir) => dir.join(stored).to_string_lossy().into_owned(),
                        None => stored,
                    };
                }
            }
            if h.mtime() != 0 {
                restore_time = Some(UNIX_EPOCH + Duration::from_secs(h.mtime() as u64));
            }
        }
    }
    let out_path = PathBuf::from(base);
    let Some(mut out) = create_output(program, o, &out_path, st) else {
        return;
    };
    if let Err(e) = decompress_stream(&data[..], &mut out) {
        drop(out);
        let _ = fs::remove_file(&out_path);
        return st.error(format!("{program}: {name}: {}", gz_message(&e)));
    }
    drop(out);
    finish_output(program, o, path, &out_path, meta, st, false);
    if let Some(t) = restore_time {
        set_mtime(&out_path, t);
    }
}

fn set_mtime(path: &Path, t: SystemTime) {
    if let Ok(f) = fs::File::options().write(true).open(path) {
        let _ = f.set_modified(t);
    }
}

/// The size of the deflate data of a gzip file: GNU's ratios leave out the
/// header (with the stored name) and the 8-byte trailer.
fn deflate_len(data: &[u8]) -> u64 {
    if data.len() < 18 || data[..2] != [0x1f, 0x8b] {
        return data.len() as u64;
    }
    let flags = data[3];
    let mut at = 10usize;
    if flags & 4 != 0 && at + 2 <= data.len() {
        at += 2 + u16::from_le_bytes([data[at], data[at + 1]]) as usize;
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            while at < data.len() && data[at] != 0 {
                at += 1;
            }
            at += 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    (data.len().saturating_sub(at + 8)) as u64
}

fn list_one(data: &[u8], shown: &str) -> io::Result<()> {
    if data.len() < 18 || data[..2] != [0x1f, 0x8b] {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not in gzip format",
        ));
    }
    print_list_line(
        data.len() as u64,
        deflate_len(data),
        isize_trailer(data),
        shown,
    );
    Ok(())
}

/// The uncompressed size GNU's -l shows: the last member's ISIZE.
fn isize_trailer(data: &[u8]) -> u64 {
    if data.len() < 4 {
        return 0;
    }
    let t = &data[data.len() - 4..];
    u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as u64
}

fn print_list_line(size: u64, packed: u64, raw: u64, name: &str) {
    println!("{size:>19} {raw:>19} {} {name}", ratio(packed, raw));
}
