//! Word expansion (POSIX 2.6): tilde, parameters, command substitution,
//! arithmetic, field splitting, pathname expansion over the session's files,
//! quote removal. Words come from brush-parser's word grammar.

use brush_parser::word::{self, Parameter, ParameterExpr, ParameterTestType, SpecialParameter, WordPiece, WordPieceWithSource};

use super::pattern::{self, Pat};
use super::{Ctl, Interp};
use crate::runtime::vfs::Kind;

/// A field being built: its chars and whether each was quoted.
#[derive(Default, Clone)]
pub struct Field {
    pub chars: Vec<char>,
    pub quoted: Vec<bool>,
    /// Has content or quotes (an empty quoted string is a field).
    pub started: bool,
}

impl Field {
    fn push_str(&mut self, s: &str, quoted: bool) {
        for c in s.chars() {
            self.chars.push(c);
            self.quoted.push(quoted);
        }
        self.started = true;
    }
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Delim {
    Start,
    AfterWs,
    AfterNonWs,
    None,
}

/// Collects fields while pieces are expanded.
pub struct Fields {
    pub done: Vec<Field>,
    pub cur: Field,
    split: bool,
    ifs: String,
    delim: Delim,
    /// Literal text is split too (the word of an unquoted `${x:-word}`).
    split_literals: bool,
}

impl Fields {
    fn new(split: bool, ifs: String) -> Fields {
        Fields { done: Vec::new(), cur: Field::default(), split, ifs, delim: Delim::Start, split_literals: false }
    }
    fn lit(&mut self, s: &str, quoted: bool) {
        self.cur.push_str(s, quoted);
        self.delim = Delim::None;
    }
    /// Text from an unquoted expansion: split at IFS when splitting.
    fn expanded(&mut self, s: &str) {
        if !self.split {
            self.cur.push_str(s, false);
            return;
        }
        for c in s.chars() {
            if self.ifs.contains(c) {
                let ws = c == ' ' || c == '\t' || c == '\n';
                if ws {
                    if self.cur.started {
                        self.break_field();
                        self.delim = Delim::AfterWs;
                    }
                } else {
                    if self.cur.started || self.delim != Delim::AfterWs {
                        self.break_field();
                    }
                    self.delim = Delim::AfterNonWs;
                }
            } else {
                self.cur.chars.push(c);
                self.cur.quoted.push(false);
                self.cur.started = true;
                self.delim = Delim::None;
            }
        }
    }
    fn break_field(&mut self) {
        let f = std::mem::take(&mut self.cur);
        self.done.push(f);
    }
    /// A field boundary that is not IFS (between "$@"'s parameters).
    fn force_break(&mut self) {
        self.break_field();
        self.delim = Delim::None;
    }
    fn finish(mut self) -> Vec<Field> {
        if self.cur.started {
            self.done.push(self.cur);
        }
        self.done
    }
}

pub fn parse_word(text: &str) -> Result<Vec<WordPieceWithSource>, String> {
    word::parse(text, &super::parser_options()).map_err(|e| format!("{e}"))
}

impl<'r> Interp<'r> {
    fn ifs(&self) -> String {
        self.var("IFS").unwrap_or_else(|| " \t\n".to_string())
    }

    /// A word to fields: all expansions, splitting, globbing, quote removal.
    pub fn expand_fields(&mut self, text: &str) -> Result<Vec<String>, Ctl> {
        let pieces = parse_word(text).map_err(|e| self.fatal_syntax(&e))?;
        let mut f = Fields::new(true, self.ifs());
        self.pieces(&pieces, false, &mut f)?;
        let fields = f.finish();
        let mut out = Vec::with_capacity(fields.len());
        for field in fields {
            if !self.st.opts.noglob && self.rt.glob {
                let p = pattern::compile(&field.chars, &field.quoted);
                if pattern::is_special(&p) {
                    let found = self.glob(&field)?;
                    if !found.is_empty() {
                        out.extend(found);
                        continue;
                    }
                }
            }
            out.push(field.text());
        }
        self.charge_bytes(out.iter().map(|s| s.len()).sum())?;
        Ok(out)
    }

    /// A word to one string, without splitting or globbing (assignments,
    /// redirection targets, `case` words, here-strings).
    pub fn expand_string(&mut self, text: &str) -> Result<String, Ctl> {
        Ok(self.expand_field(text)?.text())
    }

    pub fn expand_field(&mut self, text: &str) -> Result<Field, Ctl> {
        let pieces = parse_word(text).map_err(|e| self.fatal_syntax(&e))?;
        let mut f = Fields::new(false, String::new());
        self.pieces(&pieces, false, &mut f)?;
        let mut all = Field::default();
        for x in f.finish() {
            all.chars.extend(x.chars);
            all.quoted.extend(x.quoted);
        }
        self.charge_bytes(all.chars.len())?;
        Ok(all)
    }

    /// A pattern word (`case`, `${x#p}`): expanded, with quoted chars literal.
    pub fn expand_pattern(&mut self, text: &str) -> Result<Vec<Pat>, Ctl> {
        let f = self.expand_field(text)?;
        Ok(pattern::compile(&f.chars, &f.quoted))
    }

    /// A here-document body: parameters, substitutions and arithmetic; `\`
    /// quotes only `$`, `` ` ``, `\` and newline.
    pub fn expand_heredoc(&mut self, text: &str) -> Result<String, Ctl> {
        let pieces = word::parse_heredoc(text, &super::parser_options()).map_err(|e| self.fatal_syntax(&format!("{e}")))?;
        let mut f = Fields::new(false, String::new());
        self.pieces(&pieces, true, &mut f)?;
        Ok(f.finish().iter().map(|x| x.text()).collect())
    }

    fn pieces(&mut self, pieces: &[WordPieceWithSource], dq: bool, f: &mut Fields) -> Result<(), Ctl> {
        for p in pieces {
            self.piece(&p.piece, dq, f)?;
        }
        Ok(())
    }

    fn piece(&mut self, piece: &WordPiece, dq: bool, f: &mut Fields) -> Result<(), Ctl> {
        match piece {
            WordPiece::Text(t) if f.split_literals && !dq => f.expanded(t),
            WordPiece::Text(t) => f.lit(t, dq),
            WordPiece::SingleQuotedText(t) => f.lit(t, true),
            WordPiece::AnsiCQuotedText(t) => f.lit(&ansi_c(t), true),
            WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                // "$@" with no parameters makes no field at all.
                let only_at = inner.len() == 1
                    && matches!(&inner[0].piece, WordPiece::ParameterExpansion(ParameterExpr::Parameter { parameter: Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate: false }), .. }));
                if !(only_at && self.st.positional.is_empty()) {
                    f.cur.started = true;
                }
                self.pieces(inner, true, f)?;
            }
            WordPiece::EscapeSequence(s) => {
                let c = &s[1..];
                if dq && !matches!(c, "$" | "`" | "\"" | "\\" | "\n") {
                    f.lit(s, true);
                } else if c == "\n" {
                    // A line continuation: nothing.
                } else {
                    f.lit(c, true);
                }
            }
            WordPiece::TildeExpansion(t) => {
                let s = match t {
                    word::TildeExpr::Home => self.var("HOME").unwrap_or_else(|| "/".into()),
                    word::TildeExpr::WorkingDir => self.st.cwd.clone(),
                    word::TildeExpr::OldWorkingDir => self.var("OLDPWD").unwrap_or_default(),
                    word::TildeExpr::UserHome(u) => format!("~{u}"),
                    _ => "~".into(),
                };
                f.lit(&s, true);
            }
            WordPiece::ParameterExpansion(e) => self.param(e, dq, f)?,
            WordPiece::CommandSubstitution(cmd) | WordPiece::BackquotedCommandSubstitution(cmd) => {
                let cmd = if matches!(piece, WordPiece::BackquotedCommandSubstitution(_)) { unbackquote(cmd) } else { cmd.clone() };
                let out = self.substitute(&cmd)?;
                self.emit_value(&out, dq, f);
            }
            WordPiece::ArithmeticExpression(e) => {
                let v = self.arith(&e.value)?;
                self.emit_value(&v.to_string(), dq, f);
            }
        }
        Ok(())
    }

    /// The word inside `${x:-word}` / `${x:+word}`: unquoted, its result is
    /// split like any expansion's.
    fn word_in_expansion(&mut self, pieces: &[WordPieceWithSource], dq: bool, f: &mut Fields) -> Result<(), Ctl> {
        let was = f.split_literals;
        f.split_literals = true;
        let r = self.pieces(pieces, dq, f);
        f.split_literals = was;
        r
    }

    fn emit_value(&mut self, s: &str, dq: bool, f: &mut Fields) {
        if dq {
            f.lit(s, true);
        } else {
            f.expanded(s);
        }
    }

    /// `$((text))`: the text is expanded as in double quotes, then evaluated.
    pub fn arith(&mut self, text: &str) -> Result<i64, Ctl> {
        let pieces = word::parse_heredoc(text, &super::parser_options()).map_err(|e| self.fatal_syntax(&format!("{e}")))?;
        let mut f = Fields::new(false, String::new());
        self.pieces(&pieces, true, &mut f)?;
        let s: String = f.finish().iter().map(|x| x.text()).collect();
        self.charge(super::STEP_FUEL)?;
        let mut vars = super::ArithBridge { it: self, err: None };
        let r = super::arith::eval_str(&s, &mut vars);
        if let Some(e) = vars.err.take() {
            return Err(e);
        }
        r.map_err(|e| self.shell_error(&format!("arithmetic: {e}"), 2))
    }

    fn param_value(&mut self, p: &Parameter) -> Option<String> {
        match p {
            Parameter::Positional(0) => Some("pg_shell".into()),
            Parameter::Positional(n) => self.st.positional.get(*n as usize - 1).cloned(),
            Parameter::Named(n) => self.var(n),
            Parameter::Special(s) => Some(match s {
                SpecialParameter::LastExitStatus => self.st.last_status.to_string(),
                SpecialParameter::PositionalParameterCount => self.st.positional.len().to_string(),
                SpecialParameter::AllPositionalParameters { .. } => {
                    let sep = self.ifs().chars().next().map(String::from).unwrap_or_default();
                    self.st.positional.join(&sep)
                }
                SpecialParameter::CurrentOptionFlags => self.st.opts.flags(),
                SpecialParameter::ProcessId => self.rt.pid.to_string(),
                SpecialParameter::LastBackgroundProcessId => return None,
                SpecialParameter::ShellName => "pg_shell".into(),
            }),
            _ => None,
        }
    }

    fn param_name(p: &Parameter) -> String {
        match p {
            Parameter::Positional(n) => n.to_string(),
            Parameter::Named(n) => n.clone(),
            Parameter::Special(s) => s.to_string(),
            other => other.to_string(),
        }
    }

    fn unset_check(&mut self, p: &Parameter, v: &Option<String>) -> Result<(), Ctl> {
        if v.is_none() && self.st.opts.nounset && !matches!(p, Parameter::Special(_)) {
            return Err(self.shell_error(&format!("{}: parameter not set", Self::param_name(p)), 2));
        }
        Ok(())
    }

    fn param(&mut self, e: &ParameterExpr, dq: bool, f: &mut Fields) -> Result<(), Ctl> {
        let is_set = |v: &Option<String>, t: &ParameterTestType| match t {
            ParameterTestType::UnsetOrNull => v.as_deref().is_some_and(|s| !s.is_empty()),
            ParameterTestType::Unset => v.is_some(),
        };
        match e {
            ParameterExpr::Parameter { parameter, indirect: false } => {
                if let Parameter::Special(SpecialParameter::AllPositionalParameters { concatenate }) = parameter {
                    if !*concatenate || !dq {
                        // "$@", or $@/$* unquoted: one field per parameter.
                        let ps = self.st.positional.clone();
                        for (i, p) in ps.iter().enumerate() {
                            if i > 0 {
                                if dq {
                                    f.force_break();
                                } else if f.cur.started {
                                    f.force_break();
                                }
                            }
                            self.emit_value(p, dq, f);
                        }
                        return Ok(());
                    }
                }
                let v = self.param_value(parameter);
                self.unset_check(parameter, &v)?;
                self.emit_value(&v.unwrap_or_default(), dq, f);
            }
            ParameterExpr::UseDefaultValues { parameter, indirect: false, test_type, default_value } => {
                let v = self.param_value(parameter);
                if is_set(&v, test_type) {
                    self.emit_value(&v.unwrap_or_default(), dq, f);
                } else if let Some(d) = default_value {
                    let pieces = parse_word(d).map_err(|e| self.fatal_syntax(&e))?;
                    self.word_in_expansion(&pieces, dq, f)?;
                }
            }
            ParameterExpr::AssignDefaultValues { parameter, indirect: false, test_type, default_value } => {
                let v = self.param_value(parameter);
                if is_set(&v, test_type) {
                    self.emit_value(&v.unwrap_or_default(), dq, f);
                } else {
                    let Parameter::Named(name) = parameter else {
                        return Err(self.shell_error(&format!("{}: cannot assign in this way", Self::param_name(parameter)), 2));
                    };
                    let d = match default_value {
                        Some(d) => self.expand_string(d)?,
                        None => String::new(),
                    };
                    self.set_var(name, d.clone())?;
                    self.emit_value(&d, dq, f);
                }
            }
            ParameterExpr::IndicateErrorIfNullOrUnset { parameter, indirect: false, test_type, error_message } => {
                let v = self.param_value(parameter);
                if is_set(&v, test_type) {
                    self.emit_value(&v.unwrap_or_default(), dq, f);
                } else {
                    let msg = match error_message {
                        Some(m) if !m.is_empty() => self.expand_string(m)?,
                        _ => if v.is_none() { "parameter not set".into() } else { "parameter null or not set".into() },
                    };
                    return Err(self.shell_error(&format!("{}: {msg}", Self::param_name(parameter)), 2));
                }
            }
            ParameterExpr::UseAlternativeValue { parameter, indirect: false, test_type, alternative_value } => {
                let v = self.param_value(parameter);
                if is_set(&v, test_type) {
                    if let Some(a) = alternative_value {
                        let pieces = parse_word(a).map_err(|e| self.fatal_syntax(&e))?;
                        self.word_in_expansion(&pieces, dq, f)?;
                    }
                }
            }
            ParameterExpr::ParameterLength { parameter, indirect: false } => {
                let n = match parameter {
                    Parameter::Special(SpecialParameter::AllPositionalParameters { .. }) => self.st.positional.len(),
                    p => {
                        let v = self.param_value(p);
                        self.unset_check(p, &v)?;
                        v.map(|s| s.chars().count()).unwrap_or(0)
                    }
                };
                self.emit_value(&n.to_string(), dq, f);
            }
            ParameterExpr::RemoveSmallestSuffixPattern { parameter, indirect: false, pattern }
            | ParameterExpr::RemoveLargestSuffixPattern { parameter, indirect: false, pattern }
            | ParameterExpr::RemoveSmallestPrefixPattern { parameter, indirect: false, pattern }
            | ParameterExpr::RemoveLargestPrefixPattern { parameter, indirect: false, pattern } => {
                let v = self.param_value(parameter);
                self.unset_check(parameter, &v)?;
                let v = v.unwrap_or_default();
                let p = match pattern {
                    Some(p) => self.expand_pattern(p)?,
                    None => Vec::new(),
                };
                let r = match e {
                    ParameterExpr::RemoveSmallestSuffixPattern { .. } => pattern::strip_suffix(&p, &v, false),
                    ParameterExpr::RemoveLargestSuffixPattern { .. } => pattern::strip_suffix(&p, &v, true),
                    ParameterExpr::RemoveSmallestPrefixPattern { .. } => pattern::strip_prefix(&p, &v, false),
                    _ => pattern::strip_prefix(&p, &v, true),
                };
                self.emit_value(&r, dq, f);
            }
            _ => return Err(self.shell_error("bad substitution (only POSIX parameter expansions are supported)", 2)),
        }
        Ok(())
    }

    /// Pathname expansion of one field over the session's files, in byte order.
    fn glob(&mut self, field: &Field) -> Result<Vec<String>, Ctl> {
        // Split into components at unquoted or quoted '/'.
        let mut comps: Vec<(Vec<char>, Vec<bool>)> = vec![(Vec::new(), Vec::new())];
        for (c, q) in field.chars.iter().zip(&field.quoted) {
            if *c == '/' {
                comps.push((Vec::new(), Vec::new()));
            } else {
                let last = comps.last_mut().unwrap();
                last.0.push(*c);
                last.1.push(*q);
            }
        }
        let absolute = field.chars.first() == Some(&'/');
        let mut results: Vec<String> = vec![if absolute { "/".to_string() } else { String::new() }];
        let start = if absolute { 1 } else { 0 };
        let n = comps.len();
        for (i, (chars, quoted)) in comps.iter().enumerate().skip(start) {
            let last = i + 1 == n;
            if chars.is_empty() {
                // A trailing slash: keep only directories.
                if last {
                    results.retain(|r| self.path_kind(r) == Some(Kind::Dir));
                    for r in results.iter_mut() {
                        if !r.ends_with('/') {
                            r.push('/');
                        }
                    }
                }
                continue;
            }
            let p = pattern::compile(chars, quoted);
            let mut next = Vec::new();
            for base in &results {
                if pattern::is_special(&p) {
                    let dot_ok = chars[0] == '.';
                    let mut names = self.list_dir(base);
                    if dot_ok {
                        // As dash: `.*` matches `.` and `..` too.
                        names.splice(0..0, [".".to_string(), "..".to_string()]);
                    }
                    for name in names {
                        if name.starts_with('.') && !dot_ok {
                            continue;
                        }
                        if pattern::matches_str(&p, &name) {
                            next.push(join(base, &name));
                        }
                    }
                } else {
                    let name: String = chars.iter().collect();
                    let path = join(base, &name);
                    if last {
                        if self.path_kind(&path).is_some() {
                            next.push(path);
                        }
                    } else if self.path_kind(&path) == Some(Kind::Dir) {
                        next.push(path);
                    }
                }
            }
            if !last {
                next.retain(|r| self.path_kind(r) == Some(Kind::Dir));
            }
            results = next;
            if results.is_empty() {
                break;
            }
            self.charge(super::STEP_FUEL)?;
        }
        results.sort();
        Ok(results)
    }

    fn abs(&self, p: &str) -> String {
        crate::env::resolve_path(&self.st.cwd, if p.is_empty() { "." } else { p })
    }

    pub fn path_kind(&self, p: &str) -> Option<Kind> {
        let abs = self.abs(p);
        let mut v = self.rt.vfs.lock().unwrap();
        let rel = abs.trim_start_matches('/');
        let ino = if rel.is_empty() { crate::runtime::vfs::ROOT } else { v.lookup(crate::runtime::vfs::ROOT, rel, true).ok()? };
        v.kind(ino).ok()
    }

    fn list_dir(&self, p: &str) -> Vec<String> {
        let abs = self.abs(p);
        let mut v = self.rt.vfs.lock().unwrap();
        let rel = abs.trim_start_matches('/');
        let ino = if rel.is_empty() { Ok(crate::runtime::vfs::ROOT) } else { v.lookup(crate::runtime::vfs::ROOT, rel, true) };
        match ino.and_then(|i| v.list(i)) {
            Ok(l) => l.into_iter().map(|(n, _, _)| n).collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// Inside backquotes, `\` quotes only `$`, `` ` `` and `\`.
fn unbackquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(&n) = it.peek() {
                if n == '$' || n == '`' || n == '\\' {
                    out.push(n);
                    it.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

fn ansi_c(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('e') | Some('E') => out.push('\x1b'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}
