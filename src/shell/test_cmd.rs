//! The `test` / `[` builtin as dash 0.5.12 implements it.
//!
//! The grammar is dash's (the historical one, with POSIX's rules for
//! one to four arguments applied first):
//!
//! ```text
//! oexpr   ::= aexpr | aexpr "-o" oexpr
//! aexpr   ::= nexpr | nexpr "-a" aexpr
//! nexpr   ::= primary | "!" nexpr
//! primary ::= unary-op operand | operand binary-op operand | operand | "(" oexpr ")"
//! ```
//!
//! - with 3 arguments whose middle one is a binary operator, that
//!   comparison is done whatever the others look like (`test -f = -f`);
//!   with 3 or 4 arguments, `( X )` is X and `! X...` negates the rest,
//!   decided again on what is left (dash sets "negated" rather than
//!   toggling it, so `test ! ! ! a` is true, as `test ! ! a` is);
//! - a word that looks like a unary operator is an operand when it is the
//!   last argument or when a binary operator follows it with an operand
//!   after that; `(` as the last argument is an operand;
//! - `-a` and `-o` evaluate both sides (so an error on either side is an
//!   error), `-a` binding tighter;
//! - string operators `= != < >` (bytes, as strcmp), `-z -n`; integer
//!   operators `-eq -ne -lt -le -gt -ge` on decimal integers with optional
//!   blanks around them ("Illegal number: X" otherwise, empty included);
//! - file operators `-e -f -d -h -L -s -r -w -x -u -g -k -O -G -b -c -p -S`
//!   and `-nt -ot -ef`, through [`TestFs`]: `-r/-w/-x` look at the owner's
//!   mode bits (the shell runs as the session's owner, who owns every
//!   file), `-O/-G` are true for any existing file, `-b -c -p -S` are
//!   false (a session has no devices, FIFOs or sockets), `-t FD` checks its
//!   number and asks [`TestFs::is_terminal`] (true when the command's
//!   recorded terminal is a tty and FD, in this stage, is that terminal);
//! - errors as dash words them: "X: unexpected operator", "X: argument
//!   expected", "closing paren expected", "Illegal number: X"; the
//!   interpreter prints them as `pg_shell: test: <msg>` and the status is 2.

/// What kind of file a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// What `test` needs to know about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits (`0o7777`; any file-type bits above are ignored).
    pub mode: u32,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
}

/// The session's filesystem as `test` sees it. Paths are as given
/// (relative to the shell's working directory).
pub trait TestFs {
    /// Follows symlinks; `None` if the path (or its target) does not exist.
    fn stat(&self, path: &str) -> Option<FileInfo>;
    /// Does not follow a final symlink.
    fn lstat(&self, path: &str) -> Option<FileInfo>;
    /// Whether two existing paths are the same file (`-ef`). The default
    /// knows no file identity and says no.
    fn same_file(&self, _a: &str, _b: &str) -> bool {
        false
    }
    /// Whether descriptor `fd` is a terminal (`-t`). The default has none.
    fn is_terminal(&self, _fd: i64) -> bool {
        false
    }
}

/// `test ARGS...` (`args` exclude the command name; for `[` the caller has
/// checked and removed the final `]`). `Ok(true)` is status 0, `Ok(false)`
/// status 1, `Err(msg)` status 2.
pub fn test(args: &[String], fs: &dyn TestFs) -> Result<bool, String> {
    let mut args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let mut negate = false;
    loop {
        match args.len() {
            0 => return Ok(negate),
            3 if op(args[1]).is_some_and(|o| o.kind == Kind::Binary) => {
                return Evaluator::new(&args, fs).run(Some(Token::Operand)).map(|r| r != negate);
            }
            3 | 4 => {
                if args[0] == "(" && args[args.len() - 1] == ")" {
                    args = args[1..args.len() - 1].to_vec();
                } else if args[0] == "!" {
                    // Set, not toggled: dash gives `test ! ! ! a` status 0.
                    negate = true;
                    args.remove(0);
                    continue;
                }
            }
            _ => {}
        }
        return Evaluator::new(&args, fs).run(None).map(|r| r != negate);
    }
}

/// `[ ARGS... ]`: `args` exclude the command name and include the `]`.
pub fn bracket(args: &[String], fs: &dyn TestFs) -> Result<bool, String> {
    match args.split_last() {
        Some((last, rest)) if last == "]" => test(rest, fs),
        _ => Err("missing ]".into()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Unary,
    Binary,
    Not,
    And,
    Or,
    LParen,
    RParen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Op {
    text: &'static str,
    kind: Kind,
}

const OPS: &[Op] = &[
    Op { text: "-r", kind: Kind::Unary },
    Op { text: "-w", kind: Kind::Unary },
    Op { text: "-x", kind: Kind::Unary },
    Op { text: "-e", kind: Kind::Unary },
    Op { text: "-f", kind: Kind::Unary },
    Op { text: "-d", kind: Kind::Unary },
    Op { text: "-c", kind: Kind::Unary },
    Op { text: "-b", kind: Kind::Unary },
    Op { text: "-p", kind: Kind::Unary },
    Op { text: "-u", kind: Kind::Unary },
    Op { text: "-g", kind: Kind::Unary },
    Op { text: "-k", kind: Kind::Unary },
    Op { text: "-s", kind: Kind::Unary },
    Op { text: "-t", kind: Kind::Unary },
    Op { text: "-z", kind: Kind::Unary },
    Op { text: "-n", kind: Kind::Unary },
    Op { text: "-h", kind: Kind::Unary },
    Op { text: "-O", kind: Kind::Unary },
    Op { text: "-G", kind: Kind::Unary },
    Op { text: "-L", kind: Kind::Unary },
    Op { text: "-S", kind: Kind::Unary },
    Op { text: "=", kind: Kind::Binary },
    Op { text: "!=", kind: Kind::Binary },
    Op { text: "<", kind: Kind::Binary },
    Op { text: ">", kind: Kind::Binary },
    Op { text: "-eq", kind: Kind::Binary },
    Op { text: "-ne", kind: Kind::Binary },
    Op { text: "-ge", kind: Kind::Binary },
    Op { text: "-gt", kind: Kind::Binary },
    Op { text: "-le", kind: Kind::Binary },
    Op { text: "-lt", kind: Kind::Binary },
    Op { text: "-nt", kind: Kind::Binary },
    Op { text: "-ot", kind: Kind::Binary },
    Op { text: "-ef", kind: Kind::Binary },
    Op { text: "!", kind: Kind::Not },
    Op { text: "-a", kind: Kind::And },
    Op { text: "-o", kind: Kind::Or },
    Op { text: "(", kind: Kind::LParen },
    Op { text: ")", kind: Kind::RParen },
];

fn op(word: &str) -> Option<&'static Op> {
    OPS.iter().find(|o| o.text == word)
}

/// A word as the lexer classifies it in its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    End,
    Operand,
    Op(&'static Op),
}

struct Evaluator<'a> {
    args: &'a [&'a str],
    /// The current word (dash's `t_wp`).
    pos: usize,
    fs: &'a dyn TestFs,
}

impl<'a> Evaluator<'a> {
    fn new(args: &'a [&'a str], fs: &'a dyn TestFs) -> Evaluator<'a> {
        Evaluator { args, pos: 0, fs }
    }

    fn word(&self, i: usize) -> Option<&'a str> {
        self.args.get(i).copied()
    }

    /// Classifies the word at `i`: an operator unless its position makes it
    /// an operand (a unary operator that is last or followed by a binary
    /// operator and one more word; `(` as the last word).
    fn lex(&self, i: usize) -> Token {
        let Some(w) = self.word(i) else { return Token::End };
        let Some(o) = op(w) else { return Token::Operand };
        let operand = match o.kind {
            Kind::Unary => match (self.word(i + 1), self.word(i + 2)) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(next), Some(_)) => op(next).is_some_and(|n| n.kind == Kind::Binary),
            },
            Kind::LParen => self.word(i + 1).is_none(),
            _ => false,
        };
        if operand {
            Token::Operand
        } else {
            Token::Op(o)
        }
    }

    /// `first`: the first token when the caller has decided it (the
    /// three-argument comparison); lexed otherwise.
    fn run(mut self, first: Option<Token>) -> Result<bool, String> {
        let t = first.unwrap_or_else(|| self.lex(0));
        let r = self.oexpr(t)?;
        if let (Some(w), Some(_)) = (self.word(self.pos), self.word(self.pos + 1)) {
            return Err(syntax(w, "unexpected operator"));
        }
        Ok(r)
    }

    fn oexpr(&mut self, mut t: Token) -> Result<bool, String> {
        let mut r = false;
        loop {
            r |= self.aexpr(t)?;
            if self.word(self.pos).is_none() || !matches!(self.lex(self.pos + 1), Token::Op(Op { kind: Kind::Or, .. }))
            {
                return Ok(r);
            }
            self.pos += 2;
            t = self.lex(self.pos);
        }
    }

    fn aexpr(&mut self, mut t: Token) -> Result<bool, String> {
        let mut r = true;
        loop {
            if !self.nexpr(t)? {
                r = false;
            }
            if self.word(self.pos).is_none() || !matches!(self.lex(self.pos + 1), Token::Op(Op { kind: Kind::And, .. }))
            {
                return Ok(r);
            }
            self.pos += 2;
            t = self.lex(self.pos);
        }
    }

    fn nexpr(&mut self, t: Token) -> Result<bool, String> {
        if !matches!(t, Token::Op(Op { kind: Kind::Not, .. })) {
            return self.primary(t);
        }
        let next = self.lex(self.pos + 1);
        if next != Token::End {
            self.pos += 1;
        }
        Ok(!self.nexpr(next)?)
    }

    fn primary(&mut self, t: Token) -> Result<bool, String> {
        match t {
            Token::End => Ok(false),
            Token::Op(Op { kind: Kind::LParen, .. }) => {
                self.pos += 1;
                let inner = self.lex(self.pos);
                if matches!(inner, Token::Op(Op { kind: Kind::RParen, .. })) {
                    return Ok(false);
                }
                let r = self.oexpr(inner)?;
                self.pos += 1;
                if !matches!(self.lex(self.pos), Token::Op(Op { kind: Kind::RParen, .. })) {
                    return Err("closing paren expected".into());
                }
                Ok(r)
            }
            Token::Op(o) if o.kind == Kind::Unary => {
                self.pos += 1;
                let Some(operand) = self.word(self.pos) else {
                    return Err(syntax(o.text, "argument expected"));
                };
                self.unary(o.text, operand)
            }
            _ => {
                let w = self.word(self.pos).unwrap_or("");
                if let Token::Op(o) = self.lex(self.pos + 1) {
                    if o.kind == Kind::Binary {
                        return self.binary(w);
                    }
                }
                Ok(!w.is_empty())
            }
        }
    }

    fn binary(&mut self, left: &str) -> Result<bool, String> {
        self.pos += 1;
        let o = self.word(self.pos).unwrap_or("");
        self.pos += 1;
        let Some(right) = self.word(self.pos) else {
            return Err(syntax(o, "argument expected"));
        };
        Ok(match o {
            "=" => left == right,
            "!=" => left != right,
            "<" => left.as_bytes() < right.as_bytes(),
            ">" => left.as_bytes() > right.as_bytes(),
            "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" => {
                let (l, r) = (number(left)?, number(right)?);
                match o {
                    "-eq" => l == r,
                    "-ne" => l != r,
                    "-lt" => l < r,
                    "-le" => l <= r,
                    "-gt" => l > r,
                    _ => l >= r,
                }
            }
            "-nt" | "-ot" => match (self.fs.stat(left), self.fs.stat(right)) {
                (Some(a), Some(b)) => {
                    if o == "-nt" {
                        a.mtime_ns > b.mtime_ns
                    } else {
                        a.mtime_ns < b.mtime_ns
                    }
                }
                _ => false,
            },
            _ => self.fs.stat(left).is_some() && self.fs.stat(right).is_some() && self.fs.same_file(left, right),
        })
    }

    fn unary(&self, o: &str, operand: &str) -> Result<bool, String> {
        match o {
            "-z" => return Ok(operand.is_empty()),
            "-n" => return Ok(!operand.is_empty()),
            "-t" => {
                let fd = number(operand)?;
                return Ok(self.fs.is_terminal(fd));
            }
            _ => {}
        }
        let info = if o == "-h" || o == "-L" { self.fs.lstat(operand) } else { self.fs.stat(operand) };
        let Some(info) = info else { return Ok(false) };
        let mode = info.mode & 0o7777;
        Ok(match o {
            "-e" | "-O" | "-G" => true,
            "-f" => info.kind == FileKind::File,
            "-d" => info.kind == FileKind::Dir,
            "-h" | "-L" => info.kind == FileKind::Symlink,
            "-s" => info.size > 0,
            "-r" => mode & 0o400 != 0,
            "-w" => mode & 0o200 != 0,
            "-x" => mode & 0o100 != 0,
            "-u" => mode & 0o4000 != 0,
            "-g" => mode & 0o2000 != 0,
            "-k" => mode & 0o1000 != 0,
            // -b -c -p -S: no such files in a session.
            _ => false,
        })
    }
}

fn syntax(word: &str, msg: &str) -> String {
    if word.is_empty() {
        msg.to_string()
    } else {
        format!("{word}: {msg}")
    }
}

/// An integer operand as dash reads it: decimal, optional sign, blanks
/// around it allowed, nothing else (not even empty), within i64.
fn number(s: &str) -> Result<i64, String> {
    let bad = || format!("Illegal number: {s}");
    let blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r');
    let t = s.trim_start_matches(blank).trim_end_matches(blank);
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    t.parse::<i64>().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The files the generated cases ran against (gen/dash_cases.py makes
    /// the same ones for dash): `f` (3 bytes, 0644), `e` (empty, 0644), `x`
    /// (0755), `d` (a directory, 0755), `l` -> `f`, `dl` -> `missing`,
    /// `ld` -> `d`, `old` older than `new`, `s` (0755 plus setuid, setgid
    /// and sticky bits).
    struct Fs {
        files: BTreeMap<&'static str, FileInfo>,
        links: BTreeMap<&'static str, &'static str>,
    }

    fn file(kind: FileKind, size: u64, mode: u32, mtime_ns: i64) -> FileInfo {
        FileInfo { kind, size, mode, mtime_ns }
    }

    fn fixture() -> Fs {
        let files = BTreeMap::from([
            ("f", file(FileKind::File, 3, 0o644, 2_000_000_000_000_000_000)),
            ("e", file(FileKind::File, 0, 0o644, 2_000_000_000_000_000_000)),
            ("x", file(FileKind::File, 10, 0o755, 2_000_000_000_000_000_000)),
            ("d", file(FileKind::Dir, 4096, 0o755, 2_000_000_000_000_000_000)),
            ("old", file(FileKind::File, 1, 0o644, 1_000_000_000_000_000_000)),
            ("new", file(FileKind::File, 1, 0o644, 1_500_000_000_000_000_000)),
            ("s", file(FileKind::File, 1, 0o7755, 2_000_000_000_000_000_000)),
        ]);
        let links = BTreeMap::from([("l", "f"), ("dl", "missing"), ("ld", "d")]);
        Fs { files, links }
    }

    impl TestFs for Fs {
        fn stat(&self, path: &str) -> Option<FileInfo> {
            let target = self.links.get(path).copied().unwrap_or(path);
            self.files.get(target).copied()
        }
        fn lstat(&self, path: &str) -> Option<FileInfo> {
            if self.links.contains_key(path) {
                return Some(file(FileKind::Symlink, 1, 0o777, 0));
            }
            self.files.get(path).copied()
        }
        fn same_file(&self, a: &str, b: &str) -> bool {
            let resolve = |p: &str| self.links.get(p).copied().unwrap_or(p).to_string();
            resolve(a) == resolve(b)
        }
    }

    /// Each case: test's arguments and dash's answer (status 0, 1, or 2
    /// with its message without `dash: 1: test: `), generated by running
    /// `dash -c 'test "$@"' dash ARGS...` among the fixture's files.
    #[rustfmt::skip]
    const DASH: &[(&[&str], Result<bool, &str>)] = &include!("test_dash_cases.rs.in");

    #[test]
    fn matches_dash() {
        let fs = fixture();
        let mut failures = Vec::new();
        for (argv, want) in DASH {
            let args: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
            let got = test(&args, &fs);
            let want = want.map_err(|e| e.to_string());
            if got != want {
                failures.push(format!("test {argv:?}: dash {want:?}, ours {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{} of {} differ from dash:\n{}", failures.len(), DASH.len(), failures.join("\n"));
    }

    #[test]
    fn bracket_wants_its_closing_bracket() {
        let fs = fixture();
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(bracket(&s(&["a", "=", "a", "]"]), &fs), Ok(true));
        assert_eq!(bracket(&s(&["]"]), &fs), Ok(false));
        assert_eq!(bracket(&s(&["a", "=", "a"]), &fs), Err("missing ]".into()));
        assert_eq!(bracket(&s(&[]), &fs), Err("missing ]".into()));
    }

    #[test]
    fn numbers() {
        assert_eq!(number(" 5 "), Ok(5));
        assert_eq!(number("-0"), Ok(0));
        assert_eq!(number("+7"), Ok(7));
        assert_eq!(number("007"), Ok(7), "decimal, not octal");
        assert!(number("").is_err());
        assert!(number("0x10").is_err());
        assert!(number("1 2").is_err());
        assert!(number("9223372036854775808").is_err());
        assert_eq!(number("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn the_default_same_file_says_no() {
        struct Plain;
        impl TestFs for Plain {
            fn stat(&self, _: &str) -> Option<FileInfo> {
                Some(file(FileKind::File, 0, 0o644, 0))
            }
            fn lstat(&self, p: &str) -> Option<FileInfo> {
                self.stat(p)
            }
        }
        let args = ["a", "-ef", "a"].map(String::from);
        assert_eq!(test(&args, &Plain), Ok(false));
    }
}
