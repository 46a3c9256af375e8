//! `grep` (and `egrep`, `fgrep`): GNU grep's options and output over
//! ripgrep's library crates, grep-regex (the matcher) and grep-searcher
//! (line-oriented searching, context, binary detection).
//!
//! ripgrep's own command line means other things (smart filtering, sorting,
//! headings), so this is a front end of its own with GNU grep 3's options,
//! output format and exit status (0 a line was selected, 1 none, 2 trouble,
//! unless -q found a line). Patterns are POSIX basic (default, `-G`) or
//! extended (`-E`) regular expressions with GNU's extensions, translated to
//! the regex crate's syntax (`posix_to_rust`); `-F` takes fixed strings and
//! `-P` the regex crate's own syntax (Perl-like, without look-around).
//!
//! Differences from GNU grep: back-references (`\1`) are refused (the regex
//! crate has none); `--color` is accepted but nothing is colored; `-r`
//! visits directory entries in byte order of their names (GNU: in the
//! order the directory lists them); with `-m`, no trailing context is
//! printed after the last selected line.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use grep_matcher::{LineTerminator, Matcher};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{
    BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkContextKind, SinkMatch,
};

#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    Basic,
    Extended,
    Fixed,
    Perl,
}

#[derive(Clone, Copy, PartialEq)]
enum Listing {
    None,
    Matching,
    NonMatching,
}

#[derive(Clone, Copy, PartialEq)]
enum Binary {
    Report,
    Text,
    WithoutMatch,
}

struct Opts {
    syntax: Syntax,
    patterns: Vec<String>,
    have_pattern: bool,
    ignore_case: bool,
    invert: bool,
    word: bool,
    line: bool,
    count: bool,
    listing: Listing,
    max_count: Option<u64>,
    only_matching: bool,
    quiet: bool,
    no_messages: bool,
    byte_offset: bool,
    with_filename: Option<bool>,
    label: String,
    line_number: bool,
    initial_tab: bool,
    null_after_name: bool,
    before: usize,
    after: usize,
    binary: Binary,
    recursive: bool,
    dereference_recursive: bool,
    include: Vec<String>,
    exclude: Vec<String>,
    exclude_dir: Vec<String>,
    null_data: bool,
    files: Vec<OsString>,
}

const USAGE: &str =
    "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.";

const HELP: &str = "\
Usage: grep [OPTION]... PATTERNS [FILE]...
Search for PATTERNS in each FILE.
Example: grep -i 'hello world' menu.h main.c
PATTERNS can contain multiple patterns separated by newlines.

Pattern selection and interpretation:
  -E, --extended-regexp     PATTERNS are extended regular expressions
  -F, --fixed-strings       PATTERNS are strings
  -G, --basic-regexp        PATTERNS are basic regular expressions
  -P, --perl-regexp         PATTERNS are Rust regex crate expressions
  -e, --regexp=PATTERNS     use PATTERNS for matching
  -f, --file=FILE           take PATTERNS from FILE
  -i, --ignore-case         ignore case distinctions in patterns and data
      --no-ignore-case      do not ignore case distinctions (default)
  -w, --word-regexp         match only whole words
  -x, --line-regexp         match only whole lines
  -z, --null-data           a data line ends in 0 byte, not newline

Miscellaneous:
  -s, --no-messages         suppress error messages
  -v, --invert-match        select non-matching lines
  -V, --version             display version information and exit
      --help                display this help text and exit

Output control:
  -m, --max-count=NUM       stop after NUM selected lines
  -b, --byte-offset         print the byte offset with output lines
  -n, --line-number         print line number with output lines
  -H, --with-filename       print file name with output lines
  -h, --no-filename         suppress the file name prefix on output
      --label=LABEL         use LABEL as the standard input file name prefix
  -o, --only-matching       show only nonempty parts of lines that match
  -q, --quiet, --silent     suppress all normal output
      --binary-files=TYPE   assume that binary files are TYPE;
                            TYPE is 'binary', 'text', or 'without-match'
  -a, --text                equivalent to --binary-files=text
  -I                        equivalent to --binary-files=without-match
  -r, --recursive           search directories recursively
  -R, --dereference-recursive  likewise, but follow all symlinks
      --include=GLOB        search only files that match GLOB
      --exclude=GLOB        skip files that match GLOB
      --exclude-dir=GLOB    skip directories that match GLOB
  -L, --files-without-match  print only names of FILEs with no selected lines
  -l, --files-with-matches  print only names of FILEs with selected lines
  -c, --count               print only a count of selected lines per FILE
  -T, --initial-tab         make tabs line up (if needed)
  -Z, --null                print 0 byte after FILE name

Context control:
  -B, --before-context=NUM  print NUM lines of leading context
  -A, --after-context=NUM   print NUM lines of trailing context
  -C, --context=NUM         print NUM lines of output context
  -NUM                      same as --context=NUM
      --color[=WHEN]        accepted; output is never colored

When FILE is '-', read standard input. With no FILE, read '.' if
recursive, '-' otherwise. Exit status is 0 if any line is selected,
1 otherwise; if any error occurs and -q is not given, the exit status is 2.
(pg_shell: GNU grep's options over ripgrep's grep-regex and grep-searcher.)";

fn usage_error(msg: &str) -> i32 {
    eprintln!("grep: {msg}\n{USAGE}");
    2
}

/// Takes the value of an option: the rest of a short cluster, the part
/// after `=` of a long one, or the next argument.
fn value(
    inline: Option<String>,
    rest: &mut std::vec::IntoIter<OsString>,
    name: &str,
) -> Result<String, String> {
    if let Some(v) = inline {
        return Ok(v);
    }
    match rest.next() {
        Some(v) => v
            .into_string()
            .map_err(|_| format!("invalid (non-UTF-8) argument for {name}")),
        None => Err(format!("option requires an argument -- '{name}'")),
    }
}

fn number(v: &str, what: &str) -> Result<u64, String> {
    v.trim()
        .parse::<u64>()
        .map_err(|_| format!("invalid {what} argument"))
}

fn parse(program: &str, args: Vec<OsString>) -> Result<Option<Opts>, String> {
    let mut o = Opts {
        syntax: match program {
            "egrep" => Syntax::Extended,
            "fgrep" => Syntax::Fixed,
            _ => Syntax::Basic,
        },
        patterns: Vec::new(),
        have_pattern: false,
        ignore_case: false,
        invert: false,
        word: false,
        line: false,
        count: false,
        listing: Listing::None,
        max_count: None,
        only_matching: false,
        quiet: false,
        no_messages: false,
        byte_offset: false,
        with_filename: None,
        label: "(standard input)".into(),
        line_number: false,
        initial_tab: false,
        null_after_name: false,
        before: 0,
        after: 0,
        binary: Binary::Report,
        recursive: false,
        dereference_recursive: false,
        include: Vec::new(),
        exclude: Vec::new(),
        exclude_dir: Vec::new(),
        null_data: false,
        files: Vec::new(),
    };
    let mut context: Option<usize> = None;
    let mut positional = Vec::new();
    let mut it = args.into_iter();
    it.next();
    while let Some(arg) = it.next() {
        let Some(s) = arg.to_str().map(str::to_owned) else {
            positional.push(arg);
            continue;
        };
        if s == "--" {
            positional.extend(it.by_ref());
            break;
        }
        if let Some(long) = s.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            };
            let flag = |inline: &Option<String>| -> Result<(), String> {
                match inline {
                    Some(_) => Err(format!("option '--{name}' doesn't allow an argument")),
                    None => Ok(()),
                }
            };
            match name.as_str() {
                "extended-regexp" => { flag(&inline)?; o.syntax = Syntax::Extended }
                "fixed-strings" => { flag(&inline)?; o.syntax = Syntax::Fixed }
                "basic-regexp" => { flag(&inline)?; o.syntax = Syntax::Basic }
                "perl-regexp" => { flag(&inline)?; o.syntax = Syntax::Perl }
                "regexp" => { let v = value(inline, &mut it, "--regexp")?; o.patterns.push(v); o.have_pattern = true }
                "file" => { let v = value(inline, &mut it, "--file")?; read_patterns(&v, &mut o.patterns)?; o.have_pattern = true }
                "ignore-case" => { flag(&inline)?; o.ignore_case = true }
                "no-ignore-case" => { flag(&inline)?; o.ignore_case = false }
                "word-regexp" => { flag(&inline)?; o.word = true }
                "line-regexp" => { flag(&inline)?; o.line = true }
                "null-data" => { flag(&inline)?; o.null_data = true }
                "no-messages" => { flag(&inline)?; o.no_messages = true }
                "invert-match" => { flag(&inline)?; o.invert = true }
                "version" => { println!("grep (pg_shell textutils) 3.8-compatible, over grep-regex 0.1 and grep-searcher 0.1"); return Ok(None) }
                "help" => { println!("{HELP}"); return Ok(None) }
                "max-count" => { let v = value(inline, &mut it, "--max-count")?; o.max_count = Some(number(&v, "max count")?) }
                "byte-offset" => { flag(&inline)?; o.byte_offset = true }
                "line-number" => { flag(&inline)?; o.line_number = true }
                "no-line-number" => { flag(&inline)?; o.line_number = false }
                "with-filename" => { flag(&inline)?; o.with_filename = Some(true) }
                "no-filename" => { flag(&inline)?; o.with_filename = Some(false) }
                "label" => { o.label = value(inline, &mut it, "--label")? }
                "only-matching" => { flag(&inline)?; o.only_matching = true }
                "quiet" | "silent" => { flag(&inline)?; o.quiet = true }
                "binary-files" => {
                    o.binary = match value(inline, &mut it, "--binary-files")?.as_str() {
                        "binary" => Binary::Report,
                        "text" => Binary::Text,
                        "without-match" => Binary::WithoutMatch,
                        _ => return Err("invalid argument for --binary-files: TYPE is 'binary', 'text' or 'without-match'".into()),
                    }
                }
                "text" => { flag(&inline)?; o.binary = Binary::Text }
                "recursive" => { flag(&inline)?; o.recursive = true }
                "dereference-recursive" => { flag(&inline)?; o.recursive = true; o.dereference_recursive = true }
                "include" => o.include.push(value(inline, &mut it, "--include")?),
                "exclude" => o.exclude.push(value(inline, &mut it, "--exclude")?),
                "exclude-dir" => o.exclude_dir.push(value(inline, &mut it, "--exclude-dir")?),
                "files-without-match" => { flag(&inline)?; o.listing = Listing::NonMatching }
                "files-with-matches" => { flag(&inline)?; o.listing = Listing::Matching }
                "count" => { flag(&inline)?; o.count = true }
                "initial-tab" => { flag(&inline)?; o.initial_tab = true }
                "null" => { flag(&inline)?; o.null_after_name = true }
                "before-context" => { let v = value(inline, &mut it, "--before-context")?; o.before = number(&v, "context length")? as usize }
                "after-context" => { let v = value(inline, &mut it, "--after-context")?; o.after = number(&v, "context length")? as usize }
                "context" => { let v = value(inline, &mut it, "--context")?; context = Some(number(&v, "context length")? as usize) }
                "color" | "colour" => {}
                "line-buffered" | "no-group-separator" => {}
                _ => return Err(format!("unrecognized option '--{name}'")),
            }
            continue;
        }
        if s.len() > 1 && s.starts_with('-') {
            let chars: Vec<char> = s[1..].chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                i += 1;
                let take = |it: &mut std::vec::IntoIter<OsString>,
                            i: &mut usize|
                 -> Result<String, String> {
                    let inline: String = chars[*i..].iter().collect();
                    *i = chars.len();
                    value((!inline.is_empty()).then_some(inline), it, &c.to_string())
                };
                match c {
                    'E' => o.syntax = Syntax::Extended,
                    'F' => o.syntax = Syntax::Fixed,
                    'G' => o.syntax = Syntax::Basic,
                    'P' => o.syntax = Syntax::Perl,
                    'e' => {
                        let v = take(&mut it, &mut i)?;
                        o.patterns.push(v);
                        o.have_pattern = true
                    }
                    'f' => {
                        let v = take(&mut it, &mut i)?;
                        read_patterns(&v, &mut o.patterns)?;
                        o.have_pattern = true
                    }
                    'i' | 'y' => o.ignore_case = true,
                    'w' => o.word = true,
                    'x' => o.line = true,
                    'z' => o.null_data = true,
                    's' => o.no_messages = true,
                    'v' => o.invert = true,
                    'V' => {
                        println!(
                            "grep (pg_shell textutils) 3.8-compatible, over grep-regex 0.1 and grep-searcher 0.1"
                        );
                        return Ok(None);
                    }
                    'm' => {
                        let v = take(&mut it, &mut i)?;
                        o.max_count = Some(number(&v, "max count")?)
                    }
                    'b' => o.byte_offset = true,
                    'n' => o.line_number = true,
                    'H' => o.with_filename = Some(true),
                    'h' => o.with_filename = Some(false),
                    'o' => o.only_matching = true,
                    'q' => o.quiet = true,
                    'a' => o.binary = Binary::Text,
                    'I' => o.binary = Binary::WithoutMatch,
                    'r' => o.recursive = true,
                    'R' => {
                        o.recursive = true;
                        o.dereference_recursive = true
                    }
                    'L' => o.listing = Listing::NonMatching,
                    'l' => o.listing = Listing::Matching,
                    'c' => o.count = true,
                    'T' => o.initial_tab = true,
                    'Z' => o.null_after_name = true,
                    'U' => {}
                    'A' => {
                        let v = take(&mut it, &mut i)?;
                        o.after = number(&v, "context length")? as usize
                    }
                    'B' => {
                        let v = take(&mut it, &mut i)?;
                        o.before = number(&v, "context length")? as usize
                    }
                    'C' => {
                        let v = take(&mut it, &mut i)?;
                        context = Some(number(&v, "context length")? as usize)
                    }
                    d if d.is_ascii_digit() => {
                        // -NUM: the digits of this cluster are one number.
                        let mut n = d.to_digit(10).unwrap() as usize;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            n = n * 10 + chars[i].to_digit(10).unwrap() as usize;
                            i += 1;
                        }
                        context = Some(n);
                    }
                    other => return Err(format!("invalid option -- '{other}'")),
                }
            }
            continue;
        }
        positional.push(arg);
    }
    if let Some(n) = context {
        // -A/-B given explicitly win over -C/-NUM, wherever they appear.
        if o.before == 0 {
            o.before = n;
        }
        if o.after == 0 {
            o.after = n;
        }
    }
    let mut positional = positional.into_iter();
    if !o.have_pattern {
        let Some(p) = positional.next() else {
            return Err(String::new());
        };
        let p = p
            .into_string()
            .map_err(|_| "invalid (non-UTF-8) pattern".to_string())?;
        o.patterns.push(p);
    }
    o.files = positional.collect();
    // A pattern argument holding newlines is one pattern per line.
    o.patterns = o
        .patterns
        .iter()
        .flat_map(|p| p.split('\n').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    Ok(Some(o))
}

fn read_patterns(file: &str, out: &mut Vec<String>) -> Result<(), String> {
    let mut text = String::new();
    let r = if file == "-" {
        io::stdin().read_to_string(&mut text)
    } else {
        fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text))
    };
    r.map_err(|e| format!("{file}: {}", io_message(&e)))?;
    if let Some(t) = text.strip_suffix('\n') {
        text = t.to_string();
    } else if text.is_empty() {
        // An empty file: no pattern at all (matches nothing).
        return Ok(());
    }
    out.extend(text.split('\n').map(str::to_owned));
    Ok(())
}

/// The messages GNU tools print for the common errors (std's Display adds
/// " (os error N)").
pub fn io_message(e: &io::Error) -> String {
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => "No such file or directory".into(),
        PermissionDenied => "Permission denied".into(),
        IsADirectory => "Is a directory".into(),
        NotADirectory => "Not a directory".into(),
        AlreadyExists => "File exists".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Translates a POSIX basic or extended regular expression (with GNU's
/// extensions: `\<`, `\>`, `\b`, `\B`, `\w`, `\W`, `\s`, `\S`, `\|`, `\+`
/// and `\?` in basic ones) to the regex crate's syntax.
pub fn posix_to_rust(pat: &str, extended: bool) -> Result<String, String> {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len() + 8);
    let mut i = 0;
    // Where an anchor or a leading `*` counts as such: at the start of the
    // pattern or of a group or alternative.
    let mut at_start = true;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let was_start = at_start;
        at_start = false;
        match c {
            '\\' => {
                i += 1;
                let Some(&n) = chars.get(i) else {
                    return Err("trailing backslash (\\)".into());
                };
                match n {
                    '(' | ')' | '|' | '{' | '}' | '+' | '?' if !extended => match n {
                        '(' => {
                            out.push('(');
                            depth += 1;
                            at_start = true
                        }
                        ')' => {
                            if depth == 0 {
                                return Err("Unmatched ) or \\)".into());
                            }
                            depth -= 1;
                            out.push(')')
                        }
                        '|' => {
                            out.push('|');
                            at_start = true
                        }
                        '{' => {
                            let (interval, next) = interval(&chars, i + 1, true)?;
                            if was_start {
                                out.push_str("\\{");
                            } else {
                                out.push_str(&interval);
                                i = next;
                                continue;
                            }
                        }
                        '}' => out.push_str("\\}"),
                        _ => {
                            if was_start {
                                out.push('\\')
                            }
                            out.push(n)
                        }
                    },
                    '<' => out.push_str("\\b{start}"),
                    '>' => out.push_str("\\b{end}"),
                    'b' | 'B' | 'w' | 'W' | 's' | 'S' => {
                        out.push('\\');
                        out.push(n)
                    }
                    '`' => out.push_str("\\A"),
                    '\'' => out.push_str("\\z"),
                    '1'..='9' => {
                        return Err("back-references (\\1 ... \\9) are not supported".into());
                    }
                    'n' => out.push_str("\\n"),
                    't' => out.push('t'),
                    _ => push_literal(&mut out, n),
                }
            }
            '[' => {
                i = bracket(&chars, i, &mut out)?;
                continue;
            }
            '*' if was_start => out.push_str("\\*"),
            '*' => out.push('*'),
            '^' if extended || was_start => {
                out.push('^');
                at_start = true
            }
            '^' => out.push_str("\\^"),
            '$' => {
                let at_end = extended
                    || i + 1 == chars.len()
                    || (chars[i + 1] == '\\' && matches!(chars.get(i + 2), Some(')') | Some('|')));
                out.push_str(if at_end { "$" } else { "\\$" })
            }
            '.' => out.push('.'),
            '(' | ')' | '|' | '+' | '?' | '{' if extended => match c {
                '(' => {
                    out.push('(');
                    depth += 1;
                    at_start = true
                }
                ')' => {
                    if depth == 0 {
                        // GNU: an unmatched ) in an ERE is an ordinary character.
                        out.push_str("\\)");
                    } else {
                        depth -= 1;
                        out.push(')')
                    }
                }
                '|' => {
                    out.push('|');
                    at_start = true
                }
                '{' => {
                    match interval(&chars, i + 1, false) {
                        Ok((interval, next)) if !was_start => {
                            out.push_str(&interval);
                            i = next;
                            continue;
                        }
                        // Not an interval: `{` is an ordinary character.
                        _ => out.push_str("\\{"),
                    }
                }
                q if was_start => {
                    out.push('\\');
                    out.push(q)
                }
                q => out.push(q),
            },
            _ => push_literal(&mut out, c),
        }
        i += 1;
    }
    if depth > 0 {
        return Err("Unmatched ( or \\(".into());
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if regex_syntax_is_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

fn regex_syntax_is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

/// Parses `m}`, `m,}`, `,n}`, `m,n}` (after `{`, or `\{` whose closing is
/// `\}` when `basic`), returning the Rust interval and the index after it.
fn interval(chars: &[char], mut i: usize, basic: bool) -> Result<(String, usize), String> {
    let mut text = String::new();
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',') {
        text.push(chars[i]);
        i += 1;
    }
    let closed = if basic {
        chars.get(i) == Some(&'\\') && chars.get(i + 1) == Some(&'}')
    } else {
        chars.get(i) == Some(&'}')
    };
    if !closed || text.is_empty() || text.matches(',').count() > 1 {
        return Err("Unmatched \\{ or invalid content of \\{\\}".into());
    }
    let (lo, hi) = match text.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (text.as_str(), None),
    };
    let lo = if lo.is_empty() { "0" } else { lo };
    if let (Ok(l), Some(Ok(h))) = (
        lo.parse::<u32>(),
        hi.filter(|h| !h.is_empty()).map(str::parse::<u32>),
    ) {
        if l > h {
            return Err("Invalid content of \\{\\}".into());
        }
    }
    let rust = match hi {
        None => format!("{{{lo}}}"),
        Some("") => format!("{{{lo},}}"),
        Some(h) => format!("{{{lo},{h}}}"),
    };
    Ok((rust, if basic { i + 2 } else { i + 1 }))
}

/// Copies a POSIX bracket expression starting at `chars[start] == '['`:
/// backslashes are ordinary inside one, `]` first is a member, and the
/// regex crate's class operators (`&&`, `--`, `~~`, nested `[`) must not
/// arise. Returns the index after the closing `]`.
fn bracket(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("Unmatched [, [^, [:, [., or [=".into());
        };
        match c {
            ']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            '[' if matches!(chars.get(i + 1), Some(':') | Some('=') | Some('.')) => {
                let kind = chars[i + 1];
                let mut j = i + 2;
                while j + 1 < chars.len() && !(chars[j] == kind && chars[j + 1] == ']') {
                    j += 1;
                }
                if j + 1 >= chars.len() {
                    return Err("Unmatched [, [^, [:, [., or [=".into());
                }
                let name: String = chars[i + 2..j].iter().collect();
                match kind {
                    ':' => {
                        const CLASSES: &[&str] = &[
                            "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print",
                            "punct", "space", "upper", "xdigit",
                        ];
                        if !CLASSES.contains(&name.as_str()) {
                            return Err("Invalid character class name".into());
                        }
                        out.push_str(&format!("[:{name}:]"));
                    }
                    // Equivalence classes and collating symbols of one
                    // character are that character (the C locale's rule).
                    _ => {
                        let mut it = name.chars();
                        match (it.next(), it.next()) {
                            (Some(ch), None) => push_class_char(out, ch),
                            _ => return Err("Invalid collation character".into()),
                        }
                    }
                }
                i = j + 2;
                first = false;
                continue;
            }
            '-' if !first && chars.get(i + 1) != Some(&']') => {
                // A range: the previous member was its start.
                out.push('-');
                i += 1;
                first = false;
                continue;
            }
            _ => push_class_char(out, c),
        }
        first = false;
        i += 1;
    }
}

fn push_class_char(out: &mut String, c: char) {
    if matches!(c, '\\' | '[' | ']' | '&' | '-' | '~' | '^') {
        out.push('\\');
    }
    out.push(c);
}

pub fn main(program: &str, args: Vec<OsString>) -> i32 {
    let opts = match parse(program, args) {
        Ok(Some(o)) => o,
        Ok(None) => return 0,
        Err(e) if e.is_empty() => {
            eprintln!("{USAGE}");
            return 2;
        }
        Err(e) => return usage_error(&e),
    };
    let matcher = match build_matcher(&opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("grep: {e}");
            return 2;
        }
    };
    let mut g = Grep::new(opts, matcher);
    g.run()
}

fn build_matcher(o: &Opts) -> Result<Option<RegexMatcher>, String> {
    if o.patterns.is_empty() {
        // `-f /dev/null`: no pattern, nothing matches.
        return Ok(None);
    }
    let mut b = RegexMatcherBuilder::new();
    b.case_insensitive(o.ignore_case)
        .word(o.word)
        .whole_line(o.line)
        .line_terminator(Some(if o.null_data { b'\0' } else { b'\n' }));
    let patterns: Vec<String> = match o.syntax {
        Syntax::Fixed => {
            b.fixed_strings(true);
            o.patterns.clone()
        }
        Syntax::Perl => o.patterns.clone(),
        Syntax::Basic | Syntax::Extended => o
            .patterns
            .iter()
            .map(|p| posix_to_rust(p, o.syntax == Syntax::Extended))
            .collect::<Result<_, _>>()?,
    };
    b.build_many(&patterns).map(Some).map_err(|e| e.to_string())
}

struct Grep {
    o: Opts,
    matcher: Option<RegexMatcher>,
    out: io::BufWriter<io::Stdout>,
    show_names: bool,
    selected_any: bool,
    error: bool,
}

impl Grep {
    fn new(o: Opts, matcher: Option<RegexMatcher>) -> Grep {
        Grep {
            o,
            matcher,
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            show_names: false,
            selected_any: false,
            error: false,
        }
    }

    fn run(&mut self) -> i32 {
        let mut files = std::mem::take(&mut self.o.files);
        let implicit_dot = files.is_empty() && self.o.recursive;
        if files.is_empty() {
            files.push(if self.o.recursive {
                ".".into()
            } else {
                "-".into()
            });
        }
        // GNU: names are shown for several operands, or when a directory is
        // searched recursively.
        let searches_a_dir = self.o.recursive
            && (implicit_dot
                || files
                    .iter()
                    .any(|f| f != "-" && fs::metadata(f).is_ok_and(|m| m.is_dir())));
        self.show_names = self
            .o
            .with_filename
            .unwrap_or(files.len() > 1 || searches_a_dir);
        let result = (|| -> io::Result<()> {
            for f in &files {
                if f == "-" {
                    self.search_stdin()?;
                } else if implicit_dot {
                    self.search_dir_entries(Path::new("."), true)?;
                } else {
                    self.search_operand(Path::new(f))?;
                }
                if self.o.quiet && self.selected_any {
                    break;
                }
            }
            Ok(())
        })();
        let flushed = self.out.flush();
        if let Err(e) = result.and(flushed) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return 141;
            }
            eprintln!("grep: write error: {}", io_message(&e));
            return 2;
        }
        if self.o.quiet && self.selected_any {
            0
        } else if self.error {
            2
        } else if self.selected_any {
            0
        } else {
            1
        }
    }

    fn warn(&mut self, name: &Path, e: &io::Error) {
        self.error = true;
        if !self.o.no_messages {
            let _ = self.out.flush();
            eprintln!("grep: {}: {}", name.display(), io_message(e));
        }
    }

    fn search_operand(&mut self, path: &Path) -> io::Result<()> {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                if self.o.recursive {
                    if self.dir_excluded(path, true) {
                        return Ok(());
                    }
                    self.search_dir_entries(path, false)
                } else {
                    if !self.o.no_messages {
                        let _ = self.out.flush();
                        eprintln!("grep: {}: Is a directory", path.display());
                    }
                    // GNU grep counts a directory operand without -r as trouble.
                    self.error = true;
                    Ok(())
                }
            }
            Ok(_) => {
                if self.o.recursive && self.file_excluded(path, true) {
                    return Ok(());
                }
                self.search_file(path)
            }
            Err(e) => {
                self.warn(path, &e);
                Ok(())
            }
        }
    }

    /// Searches the entries of `dir` (in byte order of their names). With
    /// `strip_dot` (`grep -r PATTERN` without operands) names are printed
    /// without the leading "./", as GNU grep does.
    fn search_dir_entries(&mut self, dir: &Path, strip_dot: bool) -> io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                self.warn(dir, &e);
                return Ok(());
            }
        };
        let mut names: Vec<OsString> = Vec::new();
        for e in entries {
            match e {
                Ok(e) => names.push(e.file_name()),
                Err(e) => self.warn(dir, &e),
            }
        }
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for name in names {
            let path: PathBuf = if strip_dot {
                PathBuf::from(&name)
            } else {
                dir.join(&name)
            };
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    self.warn(&path, &e);
                    continue;
                }
            };
            let (is_dir, is_file) = if meta.file_type().is_symlink() {
                if !self.o.dereference_recursive {
                    continue; // -r skips symlinks it meets (GNU)
                }
                match fs::metadata(&path) {
                    Ok(m) => (m.is_dir(), m.is_file()),
                    Err(e) => {
                        self.warn(&path, &e);
                        continue;
                    }
                }
            } else {
                (meta.is_dir(), meta.is_file())
            };
            if is_dir {
                if !self.dir_excluded(&path, false) {
                    self.search_dir_entries(&path, false)?;
                }
            } else if is_file && !self.file_excluded(&path, false) {
                self.search_file(&path)?;
            }
            if self.o.quiet && self.selected_any {
                return Ok(());
            }
        }
        Ok(())
    }

    fn file_excluded(&self, path: &Path, operand: bool) -> bool {
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let full = path.to_string_lossy();
        let hit = |globs: &[String]| {
            globs
                .iter()
                .any(|g| glob_match(g, &base) || (operand && glob_match(g, &full)))
        };
        if hit(&self.o.exclude) {
            return true;
        }
        !self.o.include.is_empty() && !hit(&self.o.include)
    }

    fn dir_excluded(&self, path: &Path, operand: bool) -> bool {
        if self.o.exclude_dir.is_empty() {
            return false;
        }
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let full = path.to_string_lossy();
        self.o
            .exclude_dir
            .iter()
            .any(|g| glob_match(g, &base) || (operand && glob_match(g, &full)))
    }

    fn search_stdin(&mut self) -> io::Result<()> {
        let name = self.o.label.clone();
        let stdin = io::stdin();
        let lock = stdin.lock();
        self.search_reader(&name, lock)
    }

    fn search_file(&mut self, path: &Path) -> io::Result<()> {
        match fs::File::open(path) {
            Ok(f) => {
                let name = path.to_string_lossy().into_owned();
                self.search_reader(&name, f)
            }
            Err(e) => {
                self.warn(path, &e);
                Ok(())
            }
        }
    }

    fn searcher(&self) -> Searcher {
        let mut b = SearcherBuilder::new();
        b.line_terminator(LineTerminator::byte(if self.o.null_data {
            b'\0'
        } else {
            b'\n'
        }))
        .invert_match(self.o.invert)
        .line_number(self.o.line_number)
        .before_context(if self.printing_lines() {
            self.o.before
        } else {
            0
        })
        .after_context(if self.printing_lines() {
            self.o.after
        } else {
            0
        })
        .binary_detection(match self.o.binary {
            Binary::Text => BinaryDetection::none(),
            _ if self.o.null_data => BinaryDetection::none(),
            _ => BinaryDetection::convert(b'\0'),
        });
        b.build()
    }

    /// Whether selected lines themselves are printed (not just counted,
    /// listed or tested).
    fn printing_lines(&self) -> bool {
        !self.o.quiet && !self.o.count && self.o.listing == Listing::None
    }

    fn search_reader<R: Read>(&mut self, name: &str, reader: R) -> io::Result<()> {
        let mut searcher = self.searcher();
        let mut sink = GrepSink {
            g: self,
            name,
            count: 0,
            last_printed_line: None,
            printed_any: false,
            binary: false,
            stop: false,
            io_error: None,
        };
        let result = match sink.g.matcher.clone() {
            Some(m) => searcher.search_reader(&m, reader, &mut sink),
            None => {
                // No pattern: nothing matches; -v selects every line.
                let never = RegexMatcherBuilder::new()
                    .build("[^\\s\\S]")
                    .expect("a valid regex");
                searcher.search_reader(&never, reader, &mut sink)
            }
        };
        let (count, io_error) = (sink.count, sink.io_error.take());
        if let Some(e) = io_error {
            return Err(e);
        }
        if let Err(e) = result {
            // A read error (the file vanished, or is a directory after all).
            self.warn(Path::new(name), &io::Error::other(e.to_string()));
            return Ok(());
        }
        let sep = if self.o.null_after_name { "\0" } else { ":" };
        if self.o.count && !self.o.quiet {
            if self.show_names {
                write!(self.out, "{name}{sep}{count}\n")?;
            } else {
                writeln!(self.out, "{count}")?;
            }
        }
        if !self.o.quiet {
            let listed = match self.o.listing {
                Listing::Matching => count > 0,
                Listing::NonMatching => count == 0,
                Listing::None => false,
            };
            if listed {
                self.out.write_all(name.as_bytes())?;
                self.out
                    .write_all(if self.o.null_after_name { b"\0" } else { b"\n" })?;
            }
        }
        Ok(())
    }
}

struct GrepSink<'a, 'n> {
    g: &'a mut Grep,
    name: &'n str,
    /// Selected lines so far.
    count: u64,
    /// The number of the last line printed (for `--` between groups).
    last_printed_line: Option<u64>,
    printed_any: bool,
    /// A NUL byte was seen: matches are reported, not printed.
    binary: bool,
    stop: bool,
    io_error: Option<io::Error>,
}

impl GrepSink<'_, '_> {
    fn prefix(&mut self, line: Option<u64>, offset: u64, sep: u8) -> io::Result<()> {
        let g = &mut *self.g;
        if g.show_names {
            g.out.write_all(self.name.as_bytes())?;
            if g.o.null_after_name {
                g.out.write_all(b"\0")?;
            } else {
                g.out.write_all(&[sep])?;
            }
        }
        if let Some(n) = line.filter(|_| g.o.line_number) {
            write!(g.out, "{n}")?;
            g.out.write_all(&[sep])?;
        }
        if g.o.byte_offset {
            write!(g.out, "{offset}")?;
            g.out.write_all(&[sep])?;
        }
        if g.o.initial_tab && (g.show_names || g.o.line_number || g.o.byte_offset) {
            g.out.write_all(b"\t")?;
        }
        Ok(())
    }

    fn separator_if_gap(&mut self, line: Option<u64>) -> io::Result<()> {
        let ctx = self.g.o.before > 0 || self.g.o.after > 0;
        if ctx && self.printed_any {
            if let (Some(last), Some(now)) = (self.last_printed_line, line) {
                if now > last + 1 {
                    self.g.out.write_all(b"--\n")?;
                }
            }
        }
        Ok(())
    }

    fn terminator(&self) -> u8 {
        if self.g.o.null_data { b'\0' } else { b'\n' }
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let t = self.terminator();
        self.g.out.write_all(line)?;
        if line.last() != Some(&t) {
            self.g.out.write_all(&[t])?;
        }
        Ok(())
    }

    fn on_match(&mut self, searcher: &Searcher, mat: &SinkMatch<'_>) -> io::Result<bool> {
        let _ = searcher;
        let mut line_no = mat.line_number();
        let mut offset = mat.absolute_byte_offset();
        let t = self.terminator();
        for line in mat.bytes().split_inclusive(|&b| b == t) {
            if self.binary && self.g.o.binary == Binary::WithoutMatch {
                self.stop = true;
                return Ok(false);
            }
            self.count += 1;
            self.g.selected_any = true;
            if self.g.o.quiet {
                self.stop = true;
                return Ok(false);
            }
            if self.g.o.listing != Listing::None {
                self.stop = true;
                return Ok(false);
            }
            if self.g.printing_lines() {
                if self.binary {
                    self.g.out.flush()?;
                    eprintln!("grep: {}: binary file matches", self.name);
                    self.stop = true;
                    return Ok(false);
                }
                self.separator_if_gap(line_no)?;
                if self.g.o.only_matching {
                    if !self.g.o.invert {
                        self.print_matches(line, line_no, offset)?;
                    }
                } else {
                    self.prefix(line_no, offset, b':')?;
                    self.write_line(line)?;
                }
                self.printed_any = true;
                self.last_printed_line = line_no;
            }
            if self.g.o.max_count.is_some_and(|m| self.count >= m) {
                self.stop = true;
                return Ok(false);
            }
            line_no = line_no.map(|n| n + 1);
            offset += line.len() as u64;
        }
        Ok(true)
    }

    fn print_matches(&mut self, line: &[u8], line_no: Option<u64>, offset: u64) -> io::Result<()> {
        let Some(m) = self.g.matcher.clone() else {
            return Ok(());
        };
        let t = self.terminator();
        let body = line.strip_suffix(&[t]).unwrap_or(line);
        let mut at = 0;
        while at <= body.len() {
            let Ok(Some(found)) = m.find_at(body, at) else {
                break;
            };
            if found.is_empty() {
                at = found.end() + 1;
                continue;
            }
            self.prefix(line_no, offset + found.start() as u64, b':')?;
            self.g.out.write_all(&body[found])?;
            self.g.out.write_all(&[t])?;
            at = found.end();
        }
        Ok(())
    }
}

impl Sink for GrepSink<'_, '_> {
    type Error = io::Error;

    fn matched(&mut self, searcher: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, io::Error> {
        match self.on_match(searcher, mat) {
            Ok(go_on) => Ok(go_on),
            Err(e) => {
                self.io_error = Some(io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
        }
    }

    fn context(&mut self, _searcher: &Searcher, ctx: &SinkContext<'_>) -> Result<bool, io::Error> {
        if self.stop || self.binary || !self.g.printing_lines() || self.g.o.only_matching {
            return Ok(!self.stop);
        }
        if matches!(ctx.kind(), SinkContextKind::Other) {
            return Ok(true);
        }
        let line_no = ctx.line_number();
        let r = (|| -> io::Result<bool> {
            self.separator_if_gap(line_no)?;
            self.prefix(line_no, ctx.absolute_byte_offset(), b'-')?;
            self.write_line(ctx.bytes())?;
            self.printed_any = true;
            self.last_printed_line = line_no;
            Ok(true)
        })();
        if let Err(e) = &r {
            self.io_error = Some(io::Error::new(e.kind(), e.to_string()));
        }
        r
    }

    fn binary_data(&mut self, _searcher: &Searcher, _offset: u64) -> Result<bool, io::Error> {
        self.binary = true;
        if self.g.o.binary == Binary::WithoutMatch {
            return Ok(false);
        }
        Ok(true)
    }
}

/// Shell-style glob matching (`*`, `?`, `[...]`) for --include/--exclude.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn rec(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| rec(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && rec(&p[1..], &n[1..]),
            Some('[') => {
                let Some(close) = p.iter().skip(2).position(|&c| c == ']').map(|k| k + 2) else {
                    return !n.is_empty() && n[0] == '[' && rec(&p[1..], &n[1..]);
                };
                let Some(&c) = n.first() else { return false };
                let mut set = &p[1..close];
                let negate = matches!(set.first(), Some('!') | Some('^'));
                if negate {
                    set = &set[1..];
                }
                let mut hit = false;
                let mut k = 0;
                while k < set.len() {
                    if k + 2 < set.len() && set[k + 1] == '-' {
                        if set[k] <= c && c <= set[k + 2] {
                            hit = true;
                        }
                        k += 3;
                    } else {
                        if set[k] == c {
                            hit = true;
                        }
                        k += 1;
                    }
                }
                hit != negate && rec(&p[close + 1..], &n[1..])
            }
            Some('\\') if p.len() > 1 => !n.is_empty() && n[0] == p[1] && rec(&p[2..], &n[1..]),
            Some(&c) => !n.is_empty() && n[0] == c && rec(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    rec(&p, &n)
}
