//! The shell language: a POSIX shell interpreter over brush-parser's AST.
//!
//! One command line is parsed whole (`parse`), then run by [`run_line`] on
//! one thread against the line's virtual filesystem, pipes, budget and
//! clock (`runtime::line`). Pipelines run their stages as tasks of the line
//! (one thread each, subshells as POSIX says, the baton deciding who runs);
//! `$(...)` and `( ... )` run in the same task on a copy of the shell's
//! state. Everything the interpreter does is charged to the line's budget,
//! so loops end as `timeout` deterministically and replay bit for bit.
//!
//! Programs are looked up through [`Host`] (the executor's planner, which
//! records each decision in the plan); builtins and functions first, as
//! POSIX orders them. Nothing here knows PostgreSQL.

pub mod arith;
mod builtins;
pub mod expand;
pub mod pattern;
pub mod printf;
pub mod test_cmd;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use brush_parser::ast;

use crate::env::{self, Digest, Env, ShellState, Tree};
use crate::runtime::line::{Budget, End, Line, PipeIo};
use crate::runtime::vfs::{self, BlobSource, Kind, Vfs, VfsLimits};
use crate::runtime::wasi::{Prepared, StageSpec, Stdio, WasiRuntime, SIGPIPE_STATUS};
use crate::runtime::{Limits, Outcome, ProgramKind, RunOutput, StageTrace};

/// Fuel one step of the interpreter costs (a list item, a loop test, a glob
/// directory), and one simple command (a builtin or function call): about
/// what they take on the reference machine at `fuel_per_second`.
pub const STEP_FUEL: u64 = 2_000;
pub const COMMAND_FUEL: u64 = 20_000;
/// Fuel a program run costs before its first instruction (instantiating a
/// module, or starting a process): about 0.5 ms at the default
/// `fuel_per_second`, so a long list of short programs ends near its
/// budget too.
pub const PROGRAM_START_FUEL: u64 = 4_000_000;
/// Nesting of function calls, `eval`, `.` and substitutions.
pub const MAX_DEPTH: usize = 400;
/// Stack of the interpreter's threads (virtual memory; touched only as deep
/// as a line nests).
const STACK_BYTES: usize = 256 << 20;
/// Deepest nesting of brackets and keywords a line may have before parsing.
pub const MAX_NESTING: usize = 1_000;

/// The shell's builtins by name (special ones first), for completion.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    builtins::SPECIAL.iter().chain(builtins::REGULAR).copied()
}

pub fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions {
        enable_extended_globbing: false,
        posix_mode: true,
        sh_mode: true,
        tilde_expansion_at_word_start: true,
        tilde_expansion_after_colon: false,
        ..Default::default()
    }
}

/// Parses a whole line (or script). Errors are the shell's syntax errors.
pub fn parse(text: &str) -> Result<ast::Program, String> {
    let depth = nesting(text);
    if depth > MAX_NESTING {
        return Err(format!("syntax error: the line nests {depth} levels deep (at most {MAX_NESTING})"));
    }
    let mut p = brush_parser::Parser::new(std::io::BufReader::new(text.as_bytes()), &parser_options());
    // A panic in the parser is a parser bug (two are patched in
    // vendor/brush-parser); the line gets a recorded error, the executor lives.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.parse_program()))
        .map_err(|_| "syntax error: the parser failed on this line (a parser bug; please report the line)".to_string())?;
    parsed.map_err(|e| match e {
        brush_parser::ParseError::ParsingAtEndOfInput => "syntax error: unexpected end of input (an unclosed quote, bracket or keyword?)".to_string(),
        brush_parser::ParseError::ParsingNear(pos) => format!("syntax error near line {} column {}", pos.line, pos.column),
        other => format!("syntax error: {other}"),
    })
}

/// A cheap upper bound of how deeply a line nests (brackets, quotes of
/// substitutions, keywords), so the parser's recursion stays bounded.
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for w in text.split(|c: char| c.is_whitespace() || c == ';') {
        match w {
            "if" | "while" | "until" | "for" | "case" | "{" => depth += 1,
            "fi" | "done" | "esac" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        max = max.max(depth);
    }
    let mut d = 0usize;
    for c in text.chars() {
        match c {
            '(' | '{' | '`' => d += 1,
            ')' | '}' => d = d.saturating_sub(1),
            _ => {}
        }
        max = max.max(d + depth);
    }
    max
}

/// Whether a program uses `&` anywhere (refused: no background jobs).
fn has_async(p: &ast::Program) -> bool {
    p.complete_commands.iter().any(list_has_async)
}

fn list_has_async(l: &ast::CompoundList) -> bool {
    l.0.iter().any(|ast::CompoundListItem(ao, sep)| matches!(sep, ast::SeparatorOperator::Async) || andor_has_async(ao))
}

fn andor_has_async(ao: &ast::AndOrList) -> bool {
    std::iter::once(&ao.first)
        .chain(ao.additional.iter().map(|a| match a {
            ast::AndOr::And(p) | ast::AndOr::Or(p) => p,
        }))
        .any(|p| p.seq.iter().any(command_has_async))
}

fn command_has_async(c: &ast::Command) -> bool {
    match c {
        ast::Command::Simple(_) | ast::Command::ExtendedTest(..) => false,
        ast::Command::Compound(cc, _) => compound_has_async(cc),
        ast::Command::Function(f) => compound_has_async(&f.body.0),
    }
}

fn compound_has_async(cc: &ast::CompoundCommand) -> bool {
    use ast::CompoundCommand as C;
    match cc {
        C::BraceGroup(b) => list_has_async(&b.list),
        C::Subshell(s) => list_has_async(&s.list),
        C::ForClause(f) => list_has_async(&f.body.list),
        C::ArithmeticForClause(f) => list_has_async(&f.body.list),
        C::CaseClause(c) => c.cases.iter().any(|i| i.cmd.as_ref().is_some_and(list_has_async)),
        C::IfClause(i) => {
            list_has_async(&i.condition) || list_has_async(&i.then) || i.elses.iter().flatten().any(|e| e.condition.as_ref().is_some_and(list_has_async) || list_has_async(&e.body))
        }
        C::WhileClause(w) | C::UntilClause(w) => list_has_async(&w.0) || list_has_async(&w.1.list),
        C::Arithmetic(_) => false,
        C::Coprocess(_) => true,
    }
}

/// The one program a line names, when the line is a single simple command
/// with a literal name (its registration's limits then apply to the line).
pub fn sole_program(p: &ast::Program) -> Option<String> {
    let [ast::CompoundList(items)] = p.complete_commands.as_slice() else { return None };
    let [ast::CompoundListItem(ao, _)] = items.as_slice() else { return None };
    if !ao.additional.is_empty() || ao.first.seq.len() != 1 {
        return None;
    }
    let ast::Command::Simple(sc) = &ao.first.seq[0] else { return None };
    let w = sc.word_or_name.as_ref()?;
    let literal = w.value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+@,%:".contains(c));
    literal.then(|| w.value.clone())
}

/// What a program name resolves to (after builtins and functions).
pub enum Program {
    Wasi(Prepared),
    Native(crate::runtime::native::Program),
    NotFound(String),
}

/// What the interpreter asks of the executor. Blocking calls.
pub trait Host: Sync {
    /// The line's limits, given the one program it names (if any).
    fn limits(&self, sole_program: Option<&str>) -> anyhow::Result<Limits>;
    fn resolve(&self, name: &str) -> anyhow::Result<Program>;
    fn history(&self) -> anyhow::Result<Vec<(i32, String)>>;
    fn programs(&self) -> anyhow::Result<Vec<String>>;
}

#[derive(Clone, Debug, Default)]
pub struct Opts {
    pub errexit: bool,
    pub nounset: bool,
    pub xtrace: bool,
    pub noglob: bool,
    pub allexport: bool,
    pub noclobber: bool,
    pub verbose: bool,
}

impl Opts {
    const NAMES: &'static [(&'static str, char)] =
        &[("allexport", 'a'), ("errexit", 'e'), ("noclobber", 'C'), ("noglob", 'f'), ("nounset", 'u'), ("verbose", 'v'), ("xtrace", 'x')];

    pub fn get_mut(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "allexport" => &mut self.allexport,
            "errexit" => &mut self.errexit,
            "noclobber" => &mut self.noclobber,
            "noglob" => &mut self.noglob,
            "nounset" => &mut self.nounset,
            "verbose" => &mut self.verbose,
            "xtrace" => &mut self.xtrace,
            _ => return None,
        })
    }
    pub fn get(&self, name: &str) -> bool {
        self.clone().get_mut(name).map(|b| *b).unwrap_or(false)
    }
    pub fn by_letter(c: char) -> Option<&'static str> {
        Self::NAMES.iter().find(|(_, l)| *l == c).map(|(n, _)| *n)
    }
    pub fn flags(&self) -> String {
        Self::NAMES.iter().filter(|(n, _)| self.get(n)).map(|(_, l)| *l).collect()
    }
    fn from_set(set: &BTreeSet<String>) -> Opts {
        let mut o = Opts::default();
        for n in set {
            if let Some(b) = o.get_mut(n) {
                *b = true;
            }
        }
        o
    }
    fn to_set(&self) -> BTreeSet<String> {
        Self::NAMES.iter().filter(|(n, _)| self.get(n)).map(|(n, _)| n.to_string()).collect()
    }
}

#[derive(Clone, Debug)]
pub struct Var {
    pub value: String,
    pub exported: bool,
    pub readonly: bool,
}

pub struct Func {
    pub source: String,
    pub body: ast::FunctionBody,
}

/// The shell's state: what a subshell copies and a line keeps.
#[derive(Clone)]
pub struct State {
    pub vars: BTreeMap<String, Var>,
    pub functions: BTreeMap<String, Arc<Func>>,
    pub opts: Opts,
    pub positional: Vec<String>,
    pub cwd: String,
    pub last_status: i32,
    /// Bytes held by variables (counted against `memory_bytes`).
    pub var_bytes: u64,
}

impl State {
    pub fn from_env(env: &Env) -> State {
        let mut vars = BTreeMap::new();
        let mut bytes = 0u64;
        for (k, v) in &env.shell.vars {
            bytes += (k.len() + v.len()) as u64;
            vars.insert(k.clone(), Var { value: v.clone(), exported: false, readonly: env.shell.readonly.contains(k) });
        }
        for (k, v) in &env.vars {
            bytes += (k.len() + v.len()) as u64;
            vars.insert(k.clone(), Var { value: v.clone(), exported: true, readonly: env.shell.readonly.contains(k) });
        }
        let mut functions = BTreeMap::new();
        for (name, source) in &env.shell.functions {
            if let Some(body) = parse_function(source) {
                functions.insert(name.clone(), Arc::new(Func { source: source.clone(), body }));
            }
        }
        State {
            vars,
            functions,
            opts: Opts::from_set(&env.shell.options),
            positional: env.shell.args.clone(),
            cwd: env.cwd.clone(),
            last_status: 0,
            var_bytes: bytes,
        }
    }

    /// The exported variables and the rest of the shell's state.
    pub fn to_env(&self) -> (BTreeMap<String, String>, ShellState) {
        let mut exported = BTreeMap::new();
        let mut shell = ShellState::default();
        for (k, v) in &self.vars {
            if v.exported {
                exported.insert(k.clone(), v.value.clone());
            } else {
                shell.vars.insert(k.clone(), v.value.clone());
            }
            if v.readonly {
                shell.readonly.insert(k.clone());
            }
        }
        shell.functions = self.functions.iter().map(|(k, f)| (k.clone(), f.source.clone())).collect();
        shell.options = self.opts.to_set();
        shell.args = self.positional.clone();
        (exported, shell)
    }

    pub fn exported(&self) -> BTreeMap<String, String> {
        self.vars.iter().filter(|(_, v)| v.exported).map(|(k, v)| (k.clone(), v.value.clone())).collect()
    }
}

fn parse_function(source: &str) -> Option<ast::FunctionBody> {
    let p = parse(source).ok()?;
    let ast::CompoundList(items) = p.complete_commands.into_iter().next()?;
    let ast::CompoundListItem(ao, _) = items.into_iter().next()?;
    match ao.first.seq.into_iter().next()? {
        ast::Command::Function(f) => Some(f.body),
        _ => None,
    }
}

/// How a line stopped early (the first reason wins).
#[derive(Clone, Debug)]
pub enum Abort {
    Cancelled,
    Budget,
    Other(Outcome, String),
}

/// Control flow out of a command.
#[derive(Debug)]
pub enum Ctl {
    Break(u32),
    Continue(u32),
    Return(i32),
    Exit(i32),
    /// The line stops (see `Runtime::abort`).
    Fatal,
}

/// What every task of one line shares.
pub struct Runtime<'a> {
    pub line: Arc<Line>,
    pub vfs: Arc<Mutex<Vfs>>,
    pub blobs: Arc<dyn BlobSource>,
    pub host: &'a dyn Host,
    pub wasi: &'a WasiRuntime,
    pub limits: Limits,
    pub seed: [u8; 16],
    pub pid: u32,
    pub glob: bool,
    pub max_runs: u64,
    pub by_time: bool,
    runs: AtomicU64,
    pub trace: Mutex<Vec<StageTrace>>,
    abort: Mutex<Option<Abort>>,
    /// The first command's expanded words, kind and module (for the record).
    pub first: Mutex<Option<(Vec<String>, ProgramKind, Option<Digest>)>>,
    pub error: Mutex<Option<String>>,
    /// Builtins and functions the line ran, by name (for the plan).
    pub shell_names: Mutex<BTreeMap<String, ProgramKind>>,
}

impl Runtime<'_> {
    pub fn abort(&self, a: Abort) -> Ctl {
        let mut g = self.abort.lock().unwrap();
        if g.is_none() {
            *g = Some(a);
        }
        Ctl::Fatal
    }
    pub fn aborted(&self) -> bool {
        self.abort.lock().unwrap().is_some()
    }
    fn note_error(&self, msg: &str) {
        let mut e = self.error.lock().unwrap();
        if e.is_none() {
            *e = Some(msg.to_string());
        }
    }
}

/// One task's interpreter: the shared runtime, its descriptors, its state.
pub struct Interp<'r> {
    pub rt: &'r Runtime<'r>,
    pub task: usize,
    pub fds: [Stdio; 3],
    pub st: State,
    depth: usize,
    loops: u32,
    in_func: u32,
    /// Inside a file run by `.` (where `return` ends the file).
    in_dot: u32,
    /// Inside a condition (`if`, `while`, `&&`, `!`): `set -e` does not exit.
    cond: u32,
    /// Local variables of the function calls in progress (name, what it was).
    locals: Vec<Vec<(String, Option<Var>)>>,
    /// Status of the last command substitution (an assignment-only command's status).
    subst_status: Option<i32>,
    /// Position of this task in its pipeline (for the trace).
    stage: usize,
    /// The last pipeline was negated with `!` (`set -e` ignores it).
    last_bang: bool,
}

pub struct ArithBridge<'a, 'r> {
    pub it: &'a mut Interp<'r>,
    pub err: Option<Ctl>,
}

impl arith::ArithVars for ArithBridge<'_, '_> {
    fn get(&self, name: &str) -> Option<String> {
        self.it.var(name)
    }
    fn set(&mut self, name: &str, value: String) -> Result<(), String> {
        match self.it.set_var(name, value) {
            Ok(()) => Ok(()),
            Err(c) => {
                self.err = Some(c);
                Err("cannot assign".into())
            }
        }
    }
}

impl<'r> Interp<'r> {
    pub fn var(&self, name: &str) -> Option<String> {
        self.st.vars.get(name).map(|v| v.value.clone())
    }

    pub fn set_var(&mut self, name: &str, value: String) -> Result<(), Ctl> {
        let export = self.st.opts.allexport;
        let old = match self.st.vars.get(name) {
            Some(v) if v.readonly => return Err(self.shell_error(&format!("{name}: is read only"), 2)),
            Some(v) => v.value.len() as u64,
            None => 0,
        };
        // Checked before the assignment: a refused value is never held.
        let after = self.st.var_bytes.saturating_sub(old) + (name.len() + value.len()) as u64;
        if after > self.rt.limits.memory_bytes {
            let msg = format!("shell variables would exceed the memory limit of {} bytes ({name})", self.rt.limits.memory_bytes);
            self.err_line(&msg);
            return Err(self.rt.abort(Abort::Other(Outcome::MemoryLimit, msg)));
        }
        match self.st.vars.get_mut(name) {
            Some(v) => {
                self.st.var_bytes = self.st.var_bytes.saturating_sub((name.len() as u64) + old) + (name.len() + value.len()) as u64;
                v.value = value;
                v.exported |= export;
            }
            None => {
                self.st.var_bytes += (name.len() + value.len()) as u64;
                self.st.vars.insert(name.to_string(), Var { value, exported: export, readonly: false });
            }
        }
        Ok(())
    }

    pub fn unset_var(&mut self, name: &str) -> Result<(), Ctl> {
        if let Some(v) = self.st.vars.get(name) {
            if v.readonly {
                return Err(self.shell_error(&format!("{name}: is read only"), 2));
            }
            self.st.var_bytes = self.st.var_bytes.saturating_sub((name.len() + v.value.len()) as u64);
            self.st.vars.remove(name);
        }
        Ok(())
    }

    /// Charges interpreter work to the line's budget.
    pub fn charge(&self, fuel: u64) -> Result<(), Ctl> {
        let line = &self.rt.line;
        if line.cancelled() {
            return Err(self.rt.abort(Abort::Cancelled));
        }
        if self.rt.aborted() {
            return Err(Ctl::Fatal);
        }
        if line.budget.remaining() < fuel {
            line.budget.spend(line.budget.remaining());
            return Err(self.rt.abort(Abort::Budget));
        }
        line.budget.spend(fuel);
        Ok(())
    }

    pub fn charge_bytes(&self, n: usize) -> Result<(), Ctl> {
        self.charge(n as u64 / 4)
    }

    /// Writes to one of this task's descriptors. A write to a pipe nobody
    /// reads ends the task as SIGPIPE would.
    pub fn write_fd(&mut self, fd: usize, data: &[u8]) -> Result<(), Ctl> {
        if data.is_empty() {
            return Ok(());
        }
        self.charge_bytes(data.len())?;
        let line = &self.rt.line;
        match self.fds.get(fd).copied().unwrap_or(Stdio::Null) {
            Stdio::Terminal => line.stdout.lock().unwrap().push(data),
            Stdio::TerminalErr => line.stderr.lock().unwrap().push(data),
            Stdio::Null => {}
            Stdio::Pipe(p) => {
                if !line.write_all(self.task, p, data) {
                    return Err(Ctl::Exit(SIGPIPE_STATUS));
                }
            }
            Stdio::Capture(k) => {
                if !line.capture_write(k, data) {
                    line.note_capture_overflow();
                    let msg = format!("command substitution output exceeds the memory limit of {} bytes", self.rt.limits.memory_bytes);
                    self.err_line(&msg);
                    return Err(self.rt.abort(Abort::Other(Outcome::MemoryLimit, msg)));
                }
            }
            Stdio::File { ino, append, ofd } => {
                let now = line.wall_now(0);
                let mut v = self.rt.vfs.lock().unwrap();
                let at = if append { v.size(ino).unwrap_or(0) } else { line.ofd_get(ofd) };
                let put = v.write_at(ino, at, data, now);
                drop(v);
                match put {
                    Ok(n) => {
                        line.ofd_set(ofd, at + n as u64);
                        if n < data.len() {
                            let msg = format!("write error: {}", vfs::errno_text(vfs::Errno::Nospc));
                            return Err(self.shell_error(&msg, 1));
                        }
                    }
                    Err(e) => {
                        let msg = format!("write error: {}", vfs::errno_text(e));
                        return Err(self.shell_error(&msg, 1));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn out(&mut self, s: &str) -> Result<(), Ctl> {
        self.write_fd(1, s.as_bytes())
    }

    /// A message on this task's stderr, prefixed like the shell's own.
    pub fn err_line(&mut self, msg: &str) {
        let _ = self.write_fd(2, format!("pg_shell: {msg}\n").as_bytes());
    }

    /// An error of the shell itself (an expansion error, a special builtin's
    /// failure): the message, then the shell exits with `status`.
    pub fn shell_error(&mut self, msg: &str, status: i32) -> Ctl {
        self.err_line(msg);
        self.rt.note_error(msg);
        Ctl::Exit(status)
    }

    pub fn fatal_syntax(&mut self, msg: &str) -> Ctl {
        self.shell_error(&format!("syntax error: {msg}"), 2)
    }

    /// Reads one line (up to and including `\n`) from fd 0; None at end of input.
    pub fn read_line(&mut self) -> Result<Option<Vec<u8>>, Ctl> {
        let line = self.rt.line.clone();
        let mut out = Vec::new();
        match self.fds[0] {
            Stdio::Pipe(p) => loop {
                match line.try_read_until(self.task, p, b'\n', &mut out) {
                    PipeIo::Done(0) => break,
                    PipeIo::Done(_) => {
                        if out.last() == Some(&b'\n') {
                            break;
                        }
                    }
                    PipeIo::Wait => line.wait(self.task),
                    PipeIo::Broken => break,
                }
                if out.len() as u64 > self.rt.limits.memory_bytes {
                    let msg = "read: the line is longer than the memory limit".to_string();
                    return Err(self.rt.abort(Abort::Other(Outcome::MemoryLimit, msg)));
                }
            },
            Stdio::File { ino, ofd, .. } => {
                let mut pos = line.ofd_get(ofd);
                let mut buf = [0u8; 4096];
                loop {
                    let n = self.rt.vfs.lock().unwrap().read_at(ino, pos, &mut buf).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
                        out.extend_from_slice(&buf[..=i]);
                        pos += i as u64 + 1;
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                    pos += n as u64;
                }
                line.ofd_set(ofd, pos);
            }
            _ => {}
        }
        self.charge_bytes(out.len())?;
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    fn subshell(&self, task: usize, fds: [Stdio; 3], stage: usize) -> Interp<'r> {
        Interp {
            rt: self.rt,
            task,
            fds,
            st: self.st.clone(),
            depth: self.depth,
            loops: 0,
            in_func: 0,
            in_dot: 0,
            cond: 0,
            locals: Vec::new(),
            subst_status: None,
            stage,
            last_bang: false,
        }
    }

    // --- running ----------------------------------------------------------

    pub fn run_program(&mut self, p: &ast::Program) -> Result<(), Ctl> {
        for cl in &p.complete_commands {
            self.exec_list(cl)?;
        }
        Ok(())
    }

    /// Parses and runs text in this shell (`eval`, `.`).
    pub fn run_text(&mut self, text: &str) -> Result<(), Ctl> {
        if self.depth >= MAX_DEPTH {
            return Err(self.shell_error(&format!("nesting deeper than {MAX_DEPTH} (eval, ., functions, substitutions)"), 2));
        }
        let p = match parse(text) {
            Ok(p) => p,
            Err(e) => return Err(self.shell_error(&e, 2)),
        };
        if has_async(&p) {
            return Err(self.shell_error(BACKGROUND, 2));
        }
        self.depth += 1;
        let r = self.run_program(&p);
        self.depth -= 1;
        r
    }

    /// `$(cmd)`: runs in a copy of this shell, output captured, trailing newlines removed.
    pub fn substitute(&mut self, cmd: &str) -> Result<String, Ctl> {
        self.charge(STEP_FUEL)?;
        let k = self.rt.line.new_capture();
        let mut sub = self.subshell(self.task, [self.fds[0], Stdio::Capture(k), self.fds[2]], self.stage);
        sub.depth += 1;
        let r = if sub.depth > MAX_DEPTH {
            Err(sub.shell_error(&format!("nesting deeper than {MAX_DEPTH} (eval, ., functions, substitutions)"), 2))
        } else {
            match parse(cmd) {
                Ok(p) => sub.run_program(&p),
                Err(e) => Err(sub.shell_error(&e, 2)),
            }
        };
        let status = match r {
            Ok(()) => sub.st.last_status,
            Err(Ctl::Exit(c)) | Err(Ctl::Return(c)) => c,
            Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => sub.st.last_status,
            Err(Ctl::Fatal) => {
                self.rt.line.capture_take(k);
                return Err(Ctl::Fatal);
            }
        };
        self.subst_status = Some(status);
        let bytes = self.rt.line.capture_take(k);
        if self.rt.line.capture_overflowed() {
            // A program's write was refused room (it ended as by SIGPIPE).
            let msg = format!("command substitution output exceeds the memory limit of {} bytes", self.rt.limits.memory_bytes);
            self.err_line(&msg);
            return Err(self.rt.abort(Abort::Other(Outcome::MemoryLimit, msg)));
        }
        let mut s = String::from_utf8_lossy(&bytes).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    }

    fn exec_list(&mut self, l: &ast::CompoundList) -> Result<(), Ctl> {
        for ast::CompoundListItem(ao, _) in &l.0 {
            self.exec_and_or(ao)?;
        }
        Ok(())
    }

    fn exec_and_or(&mut self, ao: &ast::AndOrList) -> Result<(), Ctl> {
        self.charge(STEP_FUEL)?;
        let last = ao.additional.len();
        // Every pipeline but the last is a condition for `set -e`.
        let mut status = if last == 0 {
            self.exec_pipeline(&ao.first)?
        } else {
            self.cond += 1;
            let s = self.exec_pipeline(&ao.first);
            self.cond -= 1;
            s?
        };
        let mut ran_last = last == 0;
        for (i, next) in ao.additional.iter().enumerate() {
            let (run, p) = match next {
                ast::AndOr::And(p) => (status == 0, p),
                ast::AndOr::Or(p) => (status != 0, p),
            };
            if !run {
                continue;
            }
            let is_last = i + 1 == last;
            if !is_last {
                self.cond += 1;
            }
            let s = self.exec_pipeline(p);
            if !is_last {
                self.cond -= 1;
            }
            status = s?;
            ran_last = is_last;
        }
        self.st.last_status = status;
        if status != 0 && self.st.opts.errexit && self.cond == 0 && ran_last && !self.last_bang {
            return Err(Ctl::Exit(status));
        }
        Ok(())
    }

    fn exec_pipeline(&mut self, p: &ast::Pipeline) -> Result<i32, Ctl> {
        self.last_bang = p.bang;
        if p.bang {
            self.cond += 1;
        }
        let r = self.exec_pipeline_inner(p);
        if p.bang {
            self.cond -= 1;
        }
        let status = r?;
        let status = if p.bang { (status == 0) as i32 } else { status };
        self.st.last_status = status;
        Ok(status)
    }

    fn exec_pipeline_inner(&mut self, p: &ast::Pipeline) -> Result<i32, Ctl> {
        if p.timed.is_some() {
            return Err(self.shell_error("time: not supported (a command's cost is in its record)", 2));
        }
        let n = p.seq.len();
        if n == 0 {
            // `!` alone (dash: a syntax error).
            return Err(self.shell_error("syntax error: `!` without a command", 2));
        }
        if n == 1 {
            return self.exec_command(&p.seq[0]);
        }
        let line = self.rt.line.clone();
        let pipes: Vec<usize> = (0..n - 1).map(|_| line.new_pipe()).collect();
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let fds = [
                if i == 0 { self.fds[0] } else { Stdio::Pipe(pipes[i - 1]) },
                if i + 1 == n { self.fds[1] } else { Stdio::Pipe(pipes[i]) },
                self.fds[2],
            ];
            let mut holds = Vec::new();
            for (fd, s) in fds.iter().enumerate() {
                if let Stdio::Pipe(q) = s {
                    holds.push((*q, if fd == 0 { End::Read } else { End::Write }));
                }
            }
            tasks.push((line.spawn(&holds), fds));
        }
        let ids: Vec<usize> = tasks.iter().map(|t| t.0).collect();
        let statuses: Vec<i32> = std::thread::scope(|sc| {
            let handles: Vec<_> = tasks
                .iter()
                .enumerate()
                .map(|(i, (id, fds))| {
                    let mut sub = self.subshell(*id, *fds, i);
                    let cmd = &p.seq[i];
                    let line = line.clone();
                    let started = std::thread::Builder::new()
                        .name(format!("pg_shell-task-{id}"))
                        .stack_size(STACK_BYTES)
                        .spawn_scoped(sc, move || {
                            line.begin(sub.task);
                            let status = match sub.exec_command(cmd) {
                                Ok(s) => s,
                                Err(Ctl::Exit(c)) | Err(Ctl::Return(c)) => c,
                                Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => sub.st.last_status,
                                Err(Ctl::Fatal) => 1,
                            };
                            line.finish(sub.task);
                            status
                        });
                    match started {
                        Ok(h) => Some(h),
                        // The host is out of threads or memory for stacks:
                        // the line stops with that as its recorded error;
                        // the stages that did start see the abort at their
                        // next step, and this one's pipe ends close.
                        Err(e) => {
                            let msg = format!("could not start pipeline stage {} of {n}: {e}", i + 1);
                            self.rt.line.abandon(*id);
                            if !self.rt.aborted() {
                                // Straight to the line's stderr, as the
                                // host's refusals are: the shell's own
                                // writes stop once the line is aborted.
                                self.rt.line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
                                self.rt.abort(Abort::Other(Outcome::Error, msg));
                            }
                            None
                        }
                    }
                })
                .collect();
            line.join(self.task, &ids);
            handles.into_iter().map(|h| h.map_or(126, |h| h.join().unwrap_or(126))).collect()
        });
        if self.rt.aborted() {
            return Err(Ctl::Fatal);
        }
        Ok(*statuses.last().unwrap())
    }

    fn exec_command(&mut self, c: &ast::Command) -> Result<i32, Ctl> {
        match c {
            ast::Command::Simple(sc) => self.exec_simple(sc),
            ast::Command::Compound(cc, redirects) => {
                let saved = match self.redirect(redirects.as_ref().map(|r| r.0.as_slice()).unwrap_or(&[]))? {
                    Ok(s) => s,
                    Err(status) => return Ok(status),
                };
                let r = self.exec_compound(cc);
                self.fds = saved;
                r
            }
            ast::Command::Function(f) => {
                self.charge(STEP_FUEL)?;
                let name = f.fname.value.clone();
                if builtins::is_special(&name) {
                    return Err(self.shell_error(&format!("{name}: a special builtin cannot be redefined"), 2));
                }
                let source = f.to_string();
                self.st.functions.insert(name, Arc::new(Func { source, body: f.body.clone() }));
                Ok(0)
            }
            ast::Command::ExtendedTest(..) => Err(self.shell_error("[[ ... ]] is not POSIX: use [ ... ] or test", 2)),
        }
    }

    fn exec_compound(&mut self, cc: &ast::CompoundCommand) -> Result<i32, Ctl> {
        use ast::CompoundCommand as C;
        self.charge(STEP_FUEL)?;
        match cc {
            C::BraceGroup(b) => {
                self.exec_list(&b.list)?;
                Ok(self.st.last_status)
            }
            C::Subshell(s) => {
                let mut sub = self.subshell(self.task, self.fds, self.stage);
                sub.in_func = self.in_func;
                let r = sub.exec_list(&s.list);
                match r {
                    Ok(()) => Ok(sub.st.last_status),
                    Err(Ctl::Exit(c)) => Ok(c),
                    Err(Ctl::Return(c)) => Err(Ctl::Return(c)),
                    Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => Ok(sub.st.last_status),
                    Err(Ctl::Fatal) => Err(Ctl::Fatal),
                }
            }
            C::IfClause(i) => {
                if self.cond_list(&i.condition)? == 0 {
                    self.exec_list(&i.then)?;
                    return Ok(self.st.last_status);
                }
                for e in i.elses.iter().flatten() {
                    match &e.condition {
                        Some(c) => {
                            if self.cond_list(c)? == 0 {
                                self.exec_list(&e.body)?;
                                return Ok(self.st.last_status);
                            }
                        }
                        None => {
                            self.exec_list(&e.body)?;
                            return Ok(self.st.last_status);
                        }
                    }
                }
                self.st.last_status = 0;
                Ok(0)
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                let until = matches!(cc, C::UntilClause(_));
                let mut status = 0;
                self.loops += 1;
                let r = (|| loop {
                    self.charge(STEP_FUEL)?;
                    let c = self.cond_list(&w.0)?;
                    if (c == 0) == until {
                        break Ok(());
                    }
                    if !self.loop_pass(&w.1.list, &mut status)? {
                        break Ok(());
                    }
                })();
                self.loops -= 1;
                r?;
                self.st.last_status = status;
                Ok(status)
            }
            C::ForClause(f) => {
                let values = match &f.values {
                    Some(words) => {
                        let mut v = Vec::new();
                        for w in words {
                            v.extend(self.expand_fields(&w.value)?);
                        }
                        v
                    }
                    None => self.st.positional.clone(),
                };
                let mut status = 0;
                self.loops += 1;
                let r = (|| {
                    for v in values {
                        self.charge(STEP_FUEL)?;
                        self.set_var(&f.variable_name, v)?;
                        if !self.loop_pass(&f.body.list, &mut status)? {
                            return Ok(());
                        }
                    }
                    Ok(())
                })();
                self.loops -= 1;
                r?;
                self.st.last_status = status;
                Ok(status)
            }
            C::CaseClause(c) => {
                let word = self.expand_string(&c.value.value)?;
                let chars: Vec<char> = word.chars().collect();
                let mut i = 0;
                let mut fallthrough = false;
                self.st.last_status = 0;
                while i < c.cases.len() {
                    let item = &c.cases[i];
                    let mut hit = fallthrough;
                    if !hit {
                        for p in &item.patterns {
                            let pat = self.expand_pattern(&p.value)?;
                            if pattern::matches(&pat, &chars) {
                                hit = true;
                                break;
                            }
                        }
                    }
                    if hit {
                        match &item.cmd {
                            Some(l) => self.exec_list(l)?,
                            None => self.st.last_status = 0,
                        }
                        match item.post_action {
                            ast::CaseItemPostAction::ExitCase => return Ok(self.st.last_status),
                            ast::CaseItemPostAction::UnconditionallyExecuteNextCaseItem => fallthrough = true,
                            ast::CaseItemPostAction::ContinueEvaluatingCases => fallthrough = false,
                        }
                    }
                    i += 1;
                }
                Ok(self.st.last_status)
            }
            C::Arithmetic(a) => {
                let v = self.arith(&a.expr.value)?;
                Ok((v == 0) as i32)
            }
            C::ArithmeticForClause(_) => Err(self.shell_error("for ((...)) is not POSIX: use while with $((...))", 2)),
            C::Coprocess(_) => Err(self.shell_error("coproc is not supported", 2)),
        }
    }

    fn cond_list(&mut self, l: &ast::CompoundList) -> Result<i32, Ctl> {
        self.cond += 1;
        let r = self.exec_list(l);
        self.cond -= 1;
        r?;
        Ok(self.st.last_status)
    }

    /// One pass of a loop's body, `status` set as the loop's: Ok(true) to go
    /// on (also after a `continue` of this loop), Ok(false) after a `break`
    /// of this loop; a `break N`/`continue N` for outer loops goes up one.
    fn loop_pass(&mut self, body: &ast::CompoundList, status: &mut i32) -> Result<bool, Ctl> {
        match self.exec_list(body) {
            Ok(()) => {
                *status = self.st.last_status;
                Ok(true)
            }
            Err(Ctl::Break(n)) => {
                *status = 0;
                if n > 1 {
                    return Err(Ctl::Break(n - 1));
                }
                Ok(false)
            }
            Err(Ctl::Continue(n)) if n > 1 => Err(Ctl::Continue(n - 1)),
            Err(Ctl::Continue(_)) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Applies redirections to this task's descriptors. Ok(Ok(saved)) to
    /// restore afterwards; Ok(Err(status)) when one failed (reported).
    fn redirect<'a>(&mut self, rs: impl IntoIterator<Item = &'a ast::IoRedirect>) -> Result<Result<[Stdio; 3], i32>, Ctl> {
        let saved = self.fds;
        for r in rs {
            if let Err(status) = self.redirect_one(r)? {
                self.fds = saved;
                return Ok(Err(status));
            }
        }
        Ok(Ok(saved))
    }

    fn fd_of(&mut self, fd: Option<i32>, default: usize) -> Result<Result<usize, i32>, Ctl> {
        let n = fd.map(|f| f as i64).unwrap_or(default as i64);
        if !(0..=2).contains(&n) {
            if n < 10 {
                self.err_line(&format!("{n}: only descriptors 0, 1 and 2 can be redirected"));
                return Ok(Err(1));
            }
            self.err_line(&format!("{n}: bad file descriptor"));
            return Ok(Err(1));
        }
        Ok(Ok(n as usize))
    }

    fn redirect_one(&mut self, r: &ast::IoRedirect) -> Result<Result<(), i32>, Ctl> {
        use ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect as R};
        self.charge(STEP_FUEL)?;
        match r {
            R::File(fd, kind, target) => {
                let default = if matches!(kind, K::Read | K::DuplicateInput | K::ReadAndWrite) { 0 } else { 1 };
                let n = match self.fd_of(*fd, default)? {
                    Ok(n) => n,
                    Err(s) => return Ok(Err(s)),
                };
                match (kind, target) {
                    (K::DuplicateOutput | K::DuplicateInput, T::Fd(src)) => {
                        let s = *src;
                        if (0..=2).contains(&s) {
                            self.fds[n] = self.fds[s as usize];
                        } else {
                            self.err_line(&format!("{s}: bad file descriptor"));
                            return Ok(Err(1));
                        }
                    }
                    (K::DuplicateOutput | K::DuplicateInput, T::Duplicate(w)) | (K::DuplicateOutput | K::DuplicateInput, T::Filename(w)) => {
                        let v = self.expand_string(&w.value)?;
                        if v == "-" {
                            self.fds[n] = Stdio::Null;
                        } else if let Ok(s @ 0..=2) = v.parse::<usize>() {
                            self.fds[n] = self.fds[s];
                        } else if matches!(kind, K::DuplicateOutput) && fd.is_none() {
                            // `>&file` is bash's `&>file`.
                            match self.open_file(&v, K::Write)? {
                                Ok(s) => {
                                    self.fds[1] = s;
                                    self.fds[2] = s;
                                }
                                Err(st) => return Ok(Err(st)),
                            }
                        } else {
                            self.err_line(&format!("{v}: bad file descriptor"));
                            return Ok(Err(1));
                        }
                    }
                    (_, T::Filename(w)) => {
                        let path = self.expand_string(&w.value)?;
                        match self.open_file(&path, kind.clone())? {
                            Ok(s) => self.fds[n] = s,
                            Err(st) => return Ok(Err(st)),
                        }
                    }
                    (_, T::ProcessSubstitution(..)) => {
                        self.err_line("process substitution is not supported");
                        return Ok(Err(1));
                    }
                    (_, T::Fd(_) | T::Duplicate(_)) => {
                        self.err_line("unsupported redirection");
                        return Ok(Err(1));
                    }
                }
            }
            R::HereDocument(fd, doc) => {
                let n = match self.fd_of(*fd, 0)? {
                    Ok(n) => n,
                    Err(s) => return Ok(Err(s)),
                };
                let body = if doc.requires_expansion { self.expand_heredoc(&doc.doc.value)? } else { doc.doc.value.clone() };
                self.fds[n] = self.input_from(body.into_bytes())?;
            }
            R::HereString(fd, w) => {
                let n = match self.fd_of(*fd, 0)? {
                    Ok(n) => n,
                    Err(s) => return Ok(Err(s)),
                };
                let mut body = self.expand_string(&w.value)?;
                body.push('\n');
                self.fds[n] = self.input_from(body.into_bytes())?;
            }
            R::OutputAndError(w, append) => {
                let path = self.expand_string(&w.value)?;
                match self.open_file(&path, if *append { K::Append } else { K::Write })? {
                    Ok(s) => {
                        self.fds[1] = s;
                        self.fds[2] = s;
                    }
                    Err(st) => return Ok(Err(st)),
                }
            }
        }
        Ok(Ok(()))
    }

    /// Input from bytes in memory (a here-document): a pipe already written and closed.
    fn input_from(&mut self, bytes: Vec<u8>) -> Result<Stdio, Ctl> {
        self.charge_bytes(bytes.len())?;
        Ok(Stdio::Pipe(self.rt.line.preloaded_pipe(bytes)))
    }

    fn open_file(&mut self, path: &str, kind: ast::IoFileRedirectKind) -> Result<Result<Stdio, i32>, Ctl> {
        use ast::IoFileRedirectKind as K;
        if path.is_empty() {
            self.err_line(": No such file or directory");
            return Ok(Err(1));
        }
        let abs = env::resolve_path(&self.st.cwd, path);
        let line = self.rt.line.clone();
        let now = line.wall_now(0);
        let mut v = self.rt.vfs.lock().unwrap();
        let res = match kind {
            K::Read => match v.lookup_nofollow(&abs) {
                Ok(Some(ino)) if v.kind(ino).ok() == Some(Kind::File) => Ok(Stdio::File { ino, append: false, ofd: line.new_ofd(0) }),
                Ok(Some(_)) => Err("Is a directory".to_string()),
                Ok(None) => Err("No such file or directory".to_string()),
                Err(why) => Err(why.to_string()),
            },
            K::Write | K::Clobber | K::Append | K::ReadAndWrite => {
                let append = matches!(kind, K::Append | K::ReadAndWrite);
                if matches!(kind, K::Write) && self.st.opts.noclobber && matches!(v.lookup_nofollow(&abs), Ok(Some(_))) {
                    Err("cannot overwrite existing file".to_string())
                } else {
                    v.open_for_redirect(&abs, append, now).map(|ino| Stdio::File { ino, append, ofd: line.new_ofd(0) })
                }
            }
            _ => Err("unsupported redirection".to_string()),
        };
        drop(v);
        match res {
            Ok(s) => Ok(Ok(s)),
            Err(why) => {
                let msg = format!("{path}: {why}");
                self.err_line(&msg);
                self.rt.note_error(&msg);
                Ok(Err(2))
            }
        }
    }

    fn exec_simple(&mut self, sc: &ast::SimpleCommand) -> Result<i32, Ctl> {
        use ast::CommandPrefixOrSuffixItem as I;
        self.charge(STEP_FUEL)?;
        self.subst_status = None;
        let mut assigns: Vec<&ast::Assignment> = Vec::new();
        let mut redirects: Vec<&ast::IoRedirect> = Vec::new();
        let mut words: Vec<&str> = Vec::new();
        for item in sc.prefix.iter().flat_map(|p| p.0.iter()) {
            match item {
                I::AssignmentWord(a, _) => assigns.push(a),
                I::IoRedirect(r) => redirects.push(r),
                I::Word(w) => words.push(&w.value),
                I::ProcessSubstitution(..) => return Err(self.shell_error("process substitution is not supported", 2)),
            }
        }
        if let Some(w) = &sc.word_or_name {
            words.push(&w.value);
        }
        for item in sc.suffix.iter().flat_map(|p| p.0.iter()) {
            match item {
                I::IoRedirect(r) => redirects.push(r),
                I::Word(w) => words.push(&w.value),
                I::AssignmentWord(_, w) => words.push(&w.value),
                I::ProcessSubstitution(..) => return Err(self.shell_error("process substitution is not supported", 2)),
            }
        }
        let mut argv = Vec::new();
        for w in &words {
            argv.extend(self.expand_fields(w)?);
        }
        let mut values = Vec::with_capacity(assigns.len());
        for a in &assigns {
            let name = match &a.name {
                ast::AssignmentName::VariableName(n) => n.clone(),
                ast::AssignmentName::ArrayElementName(..) => return Err(self.shell_error("arrays are not supported", 2)),
            };
            let value = match &a.value {
                ast::AssignmentValue::Scalar(w) => self.expand_string(&w.value)?,
                ast::AssignmentValue::Array(_) => return Err(self.shell_error("arrays are not supported", 2)),
            };
            let value = if a.append { format!("{}{}", self.var(&name).unwrap_or_default(), value) } else { value };
            values.push((name, value));
        }
        if argv.is_empty() {
            // Assignments (and redirections) only: they stay in this shell.
            let saved = match self.redirect(redirects.iter().copied())? {
                Ok(s) => s,
                Err(status) => return Ok(status),
            };
            self.fds = saved;
            if self.st.opts.xtrace && !values.is_empty() {
                let t: Vec<String> = values.iter().map(|(k, v)| format!("{k}={}", shell_words::quote(v))).collect();
                let _ = self.write_fd(2, format!("+ {}\n", t.join(" ")).as_bytes());
            }
            for (k, v) in values {
                self.set_var(&k, v)?;
            }
            let status = self.subst_status.unwrap_or(0);
            self.st.last_status = status;
            return Ok(status);
        }
        if self.st.opts.xtrace {
            let mut t: Vec<String> = values.iter().map(|(k, v)| format!("{k}={}", shell_words::quote(v))).collect();
            t.extend(argv.iter().map(|a| shell_words::quote(a).into_owned()));
            let _ = self.write_fd(2, format!("+ {}\n", t.join(" ")).as_bytes());
        }
        let saved = match self.redirect(redirects.iter().copied())? {
            Ok(s) => s,
            Err(status) => {
                self.st.last_status = status;
                return Ok(status);
            }
        };
        let r = self.invoke(argv, values);
        self.fds = saved;
        let status = r?;
        self.st.last_status = status;
        Ok(status)
    }

    /// Runs a command by name: special builtin > function > builtin > program.
    pub fn invoke(&mut self, argv: Vec<String>, assigns: Vec<(String, String)>) -> Result<i32, Ctl> {
        self.charge(COMMAND_FUEL)?;
        let name = argv[0].clone();
        if builtins::is_special(&name) {
            // Assignments before a special builtin stay (POSIX 2.14).
            for (k, v) in assigns {
                self.set_var(&k, v)?;
            }
            self.record_first(&argv, ProgramKind::Builtin, None);
            return builtins::run(self, &argv);
        }
        if let Some(f) = self.st.functions.get(&name).cloned() {
            self.record_first(&argv, ProgramKind::Function, None);
            return self.call_function(&f, argv, assigns);
        }
        if builtins::exists(&name) {
            self.record_first(&argv, ProgramKind::Builtin, None);
            return self.with_temp_vars(assigns, |it| builtins::run(it, &argv));
        }
        self.external(argv, assigns)
    }

    fn record_first(&self, argv: &[String], kind: ProgramKind, digest: Option<Digest>) {
        if matches!(kind, ProgramKind::Builtin | ProgramKind::Function) {
            let mut seen = self.rt.shell_names.lock().unwrap();
            if !seen.contains_key(&argv[0]) {
                seen.insert(argv[0].clone(), kind);
            }
        }
        let mut f = self.rt.first.lock().unwrap();
        if f.is_none() {
            *f = Some((argv.to_vec(), kind, digest));
        }
    }

    fn with_temp_vars(&mut self, assigns: Vec<(String, String)>, f: impl FnOnce(&mut Self) -> Result<i32, Ctl>) -> Result<i32, Ctl> {
        if assigns.is_empty() {
            return f(self);
        }
        let mut saved = Vec::new();
        for (k, v) in assigns {
            saved.push((k.clone(), self.st.vars.get(&k).cloned()));
            self.set_var(&k, v)?;
            if let Some(var) = self.st.vars.get_mut(&k) {
                var.exported = true;
            }
        }
        let r = f(self);
        for (k, old) in saved.into_iter().rev() {
            match old {
                Some(v) => {
                    self.st.vars.insert(k, v);
                }
                None => {
                    self.st.vars.remove(&k);
                }
            }
        }
        r
    }

    fn call_function(&mut self, f: &Func, argv: Vec<String>, assigns: Vec<(String, String)>) -> Result<i32, Ctl> {
        if self.depth >= MAX_DEPTH {
            return Err(self.shell_error(&format!("{}: functions nest deeper than {MAX_DEPTH}", argv[0]), 2));
        }
        let saved_pos = std::mem::replace(&mut self.st.positional, argv[1..].to_vec());
        self.depth += 1;
        self.in_func += 1;
        self.locals.push(Vec::new());
        let loops = std::mem::replace(&mut self.loops, 0);
        let body = &f.body;
        let r = self.with_temp_vars(assigns, |it| {
            let saved = match it.redirect(body.1.as_ref().map(|r| r.0.as_slice()).unwrap_or(&[]))? {
                Ok(s) => s,
                Err(status) => return Ok(status),
            };
            let r = it.exec_compound(&body.0);
            it.fds = saved;
            match r {
                Ok(s) => Ok(s),
                Err(Ctl::Return(c)) => Ok(c),
                Err(e) => Err(e),
            }
        });
        self.loops = loops;
        for (k, old) in self.locals.pop().unwrap_or_default().into_iter().rev() {
            match old {
                Some(v) => {
                    self.st.vars.insert(k, v);
                }
                None => {
                    self.st.vars.remove(&k);
                }
            }
        }
        self.in_func -= 1;
        self.depth -= 1;
        self.st.positional = saved_pos;
        let status = r?;
        self.st.last_status = status;
        Ok(status)
    }

    /// `command NAME`: a builtin or program, never a function.
    pub fn external_cmd(&mut self, argv: Vec<String>) -> Result<i32, Ctl> {
        self.charge(COMMAND_FUEL)?;
        self.external(argv, Vec::new())
    }

    /// A program outside the shell: resolved by the host (and recorded in the plan).
    fn external(&mut self, argv: Vec<String>, assigns: Vec<(String, String)>) -> Result<i32, Ctl> {
        let runs = self.rt.runs.fetch_add(1, Ordering::Relaxed) + 1;
        if runs > self.rt.max_runs {
            let msg = format!("the line would start more than {} program runs (max_runs)", self.rt.max_runs);
            self.err_line(&msg);
            return Err(self.rt.abort(Abort::Other(Outcome::Error, msg)));
        }
        self.charge(PROGRAM_START_FUEL)?;
        let program = match self.rt.host.resolve(&argv[0]) {
            Ok(p) => p,
            Err(e) => {
                let msg = format!("{e:#}");
                self.err_line(&msg);
                return Err(self.rt.abort(Abort::Other(Outcome::Error, msg)));
            }
        };
        let mut vars = self.st.exported();
        for (k, v) in assigns {
            vars.insert(k, v);
        }
        let part = runs as usize - 1;
        let mut seed_input = self.rt.seed.to_vec();
        seed_input.extend_from_slice(&(part as u64).to_le_bytes());
        let stage_seed = env::sha256(&seed_input);
        let line = self.rt.line.clone();
        let (kind, end) = match &program {
            Program::NotFound(msg) => {
                self.record_first(&argv, ProgramKind::NotFound, None);
                let _ = self.write_fd(2, format!("{msg}\n").as_bytes());
                (ProgramKind::NotFound, crate::runtime::wasi::StageEnd { outcome: Outcome::NotFound, exit_code: 127, fuel: 0, message: Some(msg.clone()), cancelled: false, out_of_budget: false })
            }
            Program::Wasi(module) => {
                self.record_first(&argv, ProgramKind::Wasi, Some(module.digest));
                let spec = StageSpec {
                    module,
                    argv: &argv,
                    vars: &vars,
                    stage: self.task,
                    stdin: self.fds[0],
                    stdout: self.fds[1],
                    stderr: self.fds[2],
                    seed: stage_seed.0,
                    memory_bytes: self.rt.limits.memory_bytes,
                    named_preopens: self.rt.limits.named_preopens,
                    terminal: self.rt.limits.terminal.as_ref(),
                };
                let end = self.rt.wasi.run_stage(&line, &self.rt.vfs, &spec);
                if let Some(m) = &end.message {
                    if !end.out_of_budget && !end.cancelled {
                        let _ = self.write_fd(2, format!("{}: {m}\n", argv[0]).as_bytes());
                    }
                }
                (ProgramKind::Wasi, end)
            }
            Program::Native(native) => {
                self.record_first(&argv, ProgramKind::Native, None);
                let current = Env { cwd: self.st.cwd.clone(), vars: vars.clone(), tree: Tree::default(), shell: ShellState::default() };
                let mut seed16 = [0u8; 16];
                seed16.copy_from_slice(&stage_seed[..16]);
                let cx = crate::run::PipelineCtx { wasi: self.rt.wasi, line: &line, vfs: &self.rt.vfs, blobs: &self.rt.blobs, env: &current, limits: &self.rt.limits, seed: seed16, part };
                (ProgramKind::Native, crate::run::run_native(&cx, native, &argv, self.task, self.fds[0], self.fds[1]))
            }
        };
        self.rt.trace.lock().unwrap().push(StageTrace {
            part,
            stage: self.stage,
            program: argv[0].clone(),
            kind,
            outcome: end.outcome,
            exit_code: end.exit_code,
            fuel: end.fuel,
        });
        if end.cancelled {
            return Err(self.rt.abort(Abort::Cancelled));
        }
        if end.out_of_budget {
            return Err(self.rt.abort(Abort::Budget));
        }
        match end.outcome {
            Outcome::Exited | Outcome::NotFound => Ok(end.exit_code),
            other => {
                let msg = end.message.unwrap_or_else(|| other.as_str().to_string());
                Err(self.rt.abort(Abort::Other(other, format!("{}: {msg}", argv[0]))))
            }
        }
    }
}

pub const BACKGROUND: &str = "`&` (background jobs) is not supported: every command of a line runs in the foreground, in order";

/// Everything one line needs.
pub struct LineSpec<'a> {
    pub text: &'a str,
    pub env: &'a Env,
    pub base: Arc<vfs::Base>,
    pub blobs: Arc<dyn BlobSource>,
    pub host: &'a dyn Host,
    pub wasi: &'a WasiRuntime,
    pub clock_base_ns: i64,
    pub seed: [u8; 16],
    pub live: bool,
    pub cancel: Arc<AtomicBool>,
    /// Where the terminal's output goes as it is produced (live output).
    pub tap: Option<Arc<crate::runtime::line::Tap>>,
    /// The command's recorded stdin (an upload), the line's descriptor 0.
    pub stdin: Input,
}

/// What a line reads on its descriptor 0.
#[derive(Clone, Debug, Default)]
pub enum Input {
    /// Nothing (end of file at once): every typed line.
    #[default]
    None,
    /// The command's recorded input bytes.
    Bytes(Arc<Vec<u8>>),
    /// The client sent input that was refused (too large): the line is
    /// recorded as rejected with this reason and runs nothing.
    Refused(String),
}

/// What a line did, for the record.
pub struct LineResult {
    pub out: RunOutput,
    pub limits: Limits,
    pub cwd: String,
    pub vars: BTreeMap<String, String>,
    pub shell: ShellState,
    /// The files, when they changed.
    pub tree: Option<Tree>,
    pub new_blobs: Vec<(Digest, Arc<Vec<u8>>)>,
    pub argv: Option<Vec<String>>,
    pub program: Option<String>,
    pub program_kind: Option<&'static str>,
    pub program_digest: Option<Digest>,
    /// Builtins and functions that ran, by name: `builtin` | `function`.
    pub shell_names: BTreeMap<String, ProgramKind>,
}

/// Runs one command line on a thread of its own (with a stack deep enough
/// for the parser and the interpreter); blocking.
pub fn run_line(spec: &LineSpec<'_>) -> anyhow::Result<LineResult> {
    // No thread for the line (the host is out of threads or of address
    // space for stacks) is the host's failure: the executor retries.
    let joined = std::thread::scope(|sc| {
        let h = std::thread::Builder::new()
            .name("pg_shell-line".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(sc, || run_line_here(spec))
            .map_err(|e| anyhow::anyhow!("could not start the line's thread: {e}"))?;
        anyhow::Ok(h.join())
    })?;
    match joined {
        Ok(r) => r,
        // A bug of the shell's: recorded as this command's error (nothing it
        // did is kept), never retried, never taking the executor down.
        Err(panic) => {
            let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            let env = spec.env;
            Ok(LineResult {
                out: RunOutput::failed(Outcome::Error, format!("pg_shell: internal error in the shell ({why}); the line's effects were discarded")),
                limits: spec.host.limits(None).unwrap_or_default(),
                cwd: env.cwd.clone(),
                vars: env.vars.clone(),
                shell: env.shell.clone(),
                tree: None,
                new_blobs: Vec::new(),
                argv: None,
                program: None,
                program_kind: None,
                program_digest: None,
                shell_names: BTreeMap::new(),
            })
        }
    }
}

fn describe(p: &ast::Program) -> (Option<Vec<String>>, Option<String>, bool) {
    // (top-level words for a list, the program names of a lone pipeline, simple?)
    let [ast::CompoundList(items)] = p.complete_commands.as_slice() else { return (None, None, false) };
    if items.len() == 1 && items[0].0.additional.is_empty() {
        let pl = &items[0].0.first;
        let mut names = Vec::new();
        for c in &pl.seq {
            match c {
                ast::Command::Simple(sc) => names.push(sc.word_or_name.as_ref().map(|w| w.value.clone()).unwrap_or_default()),
                _ => return (None, None, false),
            }
        }
        return (None, Some(names.join(" | ")), pl.seq.len() == 1);
    }
    let mut words = Vec::new();
    for (i, ast::CompoundListItem(ao, _)) in items.iter().enumerate() {
        if i > 0 {
            words.push(";".to_string());
        }
        words.push(ao.first.to_string());
        for a in &ao.additional {
            match a {
                ast::AndOr::And(p) => {
                    words.push("&&".into());
                    words.push(p.to_string());
                }
                ast::AndOr::Or(p) => {
                    words.push("||".into());
                    words.push(p.to_string());
                }
            }
        }
    }
    (Some(words), None, false)
}

fn run_line_here(spec: &LineSpec<'_>) -> anyhow::Result<LineResult> {
    let started = Instant::now();
    let env = spec.env;
    let mut result = LineResult {
        out: RunOutput::default(),
        limits: Limits::default(),
        cwd: env.cwd.clone(),
        vars: env.vars.clone(),
        shell: env.shell.clone(),
        tree: None,
        new_blobs: Vec::new(),
        argv: None,
        program: None,
        program_kind: None,
        program_digest: None,
        shell_names: BTreeMap::new(),
    };
    let program = match parse(spec.text) {
        Ok(p) => p,
        Err(e) => {
            result.limits = spec.host.limits(None)?;
            result.out = RunOutput::failed(Outcome::Rejected, format!("pg_shell: {e}"));
            return Ok(result);
        }
    };
    let sole = sole_program(&program);
    result.limits = spec.host.limits(sole.as_deref())?;
    if has_async(&program) {
        result.out = RunOutput::failed(Outcome::Rejected, format!("pg_shell: {BACKGROUND}"));
        return Ok(result);
    }
    if let Input::Refused(why) = &spec.stdin {
        result.out = RunOutput::failed(Outcome::Rejected, format!("pg_shell: {why}"));
        return Ok(result);
    }
    if program.complete_commands.is_empty() {
        result.out = RunOutput { outcome: Some(Outcome::Exited), ..RunOutput::default() };
        result.argv = Some(Vec::new());
        return Ok(result);
    }
    let limits = result.limits.clone();
    let vfs_limits = VfsLimits { max_bytes: limits.tree_bytes, max_files: limits.tree_files };
    let vfs = Arc::new(Mutex::new(Vfs::new(spec.base.clone(), spec.blobs.clone(), vfs_limits, spec.clock_base_ns)));
    let (budget, by_time) = limits.budget();
    let backstop = Instant::now() + Duration::from_millis(limits.timeout_ms.saturating_mul(4).saturating_add(5_000));
    let line = Arc::new(Line::new(Budget::new(budget, limits.fuel_per_second), spec.clock_base_ns, spec.live, spec.cancel.clone(), backstop, limits.stdout_bytes, limits.stderr_bytes));
    line.set_capture_room(limits.memory_bytes);
    if let Some(tap) = &spec.tap {
        line.set_tap(tap.clone());
    }
    let pid = 1000 + (u32::from_le_bytes(spec.seed[..4].try_into().unwrap()) % 30000);
    let rt = Runtime {
        line: line.clone(),
        vfs: vfs.clone(),
        blobs: spec.blobs.clone(),
        host: spec.host,
        wasi: spec.wasi,
        limits: limits.clone(),
        seed: spec.seed,
        pid,
        glob: limits.glob,
        max_runs: limits.max_runs,
        by_time,
        runs: AtomicU64::new(0),
        trace: Mutex::new(Vec::new()),
        abort: Mutex::new(None),
        first: Mutex::new(None),
        error: Mutex::new(None),
        shell_names: Mutex::new(BTreeMap::new()),
    };
    let mut it = Interp {
        rt: &rt,
        task: 0,
        fds: [
            match &spec.stdin {
                Input::Bytes(data) => Stdio::Pipe(line.preloaded_pipe(data.to_vec())),
                Input::None | Input::Refused(_) => Stdio::Null,
            },
            Stdio::Terminal,
            Stdio::TerminalErr,
        ],
        st: State::from_env(env),
        depth: 0,
        loops: 0,
        in_func: 0,
        in_dot: 0,
        cond: 0,
        locals: Vec::new(),
        subst_status: None,
        stage: 0,
        last_bang: false,
    };
    let r = it.run_program(&program);
    let status = match r {
        Ok(()) => it.st.last_status,
        Err(Ctl::Exit(c)) | Err(Ctl::Return(c)) => c,
        Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => it.st.last_status,
        Err(Ctl::Fatal) => it.st.last_status,
    };
    let mut out = RunOutput { outcome: Some(Outcome::Exited), exit_code: status & 0xff, ..RunOutput::default() };
    let abort = rt.abort.lock().unwrap().clone();
    match abort {
        None => {}
        Some(Abort::Cancelled) => out.cancelled = true,
        Some(Abort::Budget) => {
            let (outcome, msg) = if by_time {
                (Outcome::Timeout, format!("timed out after {} ms", limits.timeout_ms))
            } else {
                (Outcome::FuelExhausted, format!("fuel exhausted ({} units)", limits.fuel))
            };
            line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
            out.outcome = Some(outcome);
            out.exit_code = outcome.conventional_exit_code();
            out.error = Some(msg);
        }
        Some(Abort::Other(outcome, msg)) => {
            out.outcome = Some(outcome);
            out.exit_code = outcome.conventional_exit_code();
            out.error = Some(msg);
        }
    }
    let mut trace = std::mem::take(&mut *rt.trace.lock().unwrap());
    // In the order the runs started (stages of a pipeline end in any order).
    trace.sort_by_key(|t| t.part);
    let first = rt.first.lock().unwrap().take();
    let (list_words, names, single) = describe(&program);
    // A lone command that was not found is recorded as such.
    if single && trace.len() == 1 && trace[0].outcome == Outcome::NotFound && out.outcome == Some(Outcome::Exited) {
        out.outcome = Some(Outcome::NotFound);
        out.error = Some(format!("{}: command not found", trace[0].program));
    }
    match (list_words, names) {
        (Some(words), _) => {
            result.argv = Some(words);
            result.program = Some("list".into());
            result.program_kind = Some("list");
        }
        (None, Some(n)) => {
            result.program = Some(n);
            if single {
                if let Some((argv, kind, digest)) = &first {
                    result.argv = Some(argv.clone());
                    result.program = argv.first().cloned();
                    result.program_kind = Some(kind.as_str());
                    result.program_digest = *digest;
                }
                if result.program_kind == Some("not_found") {
                    result.program_kind = None;
                }
            } else {
                result.argv = first.as_ref().map(|f| f.0.clone());
                result.program_kind = Some("pipeline");
            }
        }
        (None, None) => {
            result.argv = Some(vec![spec.text.to_string()]);
            result.program = Some("script".into());
            result.program_kind = Some("script");
        }
    }
    if out.error.is_none() {
        out.error = rt.error.lock().unwrap().clone();
    }
    out.trace = trace;
    result.shell_names = std::mem::take(&mut *rt.shell_names.lock().unwrap());
    // The files the line leaves (a cancelled line's changes are all discarded).
    let mut v = vfs.lock().unwrap();
    let mut refusals = std::mem::take(&mut v.refusals);
    refusals.dedup();
    for r in &refusals {
        line.stderr.lock().unwrap().push(format!("pg_shell: {r}\n").as_bytes());
    }
    if !refusals.is_empty() && out.error.is_none() {
        out.error = Some(refusals[0].clone());
    }
    if !out.cancelled {
        match v.commit() {
            Ok(Some((tree, new_blobs))) => {
                if tree != env.tree {
                    result.tree = Some(tree);
                    result.new_blobs = new_blobs;
                }
            }
            Ok(None) => {}
            Err(e) => {
                let msg = format!("file changes discarded: {}", vfs::errno_text(e));
                line.stderr.lock().unwrap().push(format!("pg_shell: {msg}\n").as_bytes());
                out.exit_code = out.exit_code.max(1);
                out.error = Some(msg);
            }
        }
    }
    drop(v);
    let (stdout, so_dropped) = line.stdout.lock().unwrap().take();
    let (stderr, se_dropped) = line.stderr.lock().unwrap().take();
    out.stdout = stdout;
    out.stderr = stderr;
    out.stdout_truncated = so_dropped > 0;
    out.stderr_truncated = se_dropped > 0;
    out.fuel = Some(line.budget.used());
    out.run_us = started.elapsed().as_micros() as u64;
    if !out.cancelled {
        let (vars, shell) = it.st.to_env();
        result.cwd = it.st.cwd.clone();
        result.vars = vars;
        result.shell = shell;
    }
    result.out = out;
    Ok(result)
}

#[cfg(test)]
mod parse_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// Parses `lines` while a watchdog looks on: a parse that has not
    /// returned within 2 s ends the whole test process, printing the line,
    /// before an endless loop can take the machine's memory (the executor
    /// was once OOM-killed at 24 GB by `cat <<'' `).
    fn parse_all(lines: impl Iterator<Item = String>) -> (usize, usize) {
        let done = Arc::new(AtomicUsize::new(0));
        let current = Arc::new(Mutex::new(String::new()));
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watchdog = {
            let (done, current, finished) = (done.clone(), current.clone(), finished.clone());
            std::thread::spawn(move || {
                let (mut seen, mut since) = (usize::MAX, Instant::now());
                while !finished.load(Ordering::Relaxed) {
                    let now = done.load(Ordering::Relaxed);
                    if now != seen {
                        (seen, since) = (now, Instant::now());
                    } else if since.elapsed() > Duration::from_secs(2) {
                        // Straight to fd 2: the test harness's capture is lost at abort.
                        let msg = format!("the parser has not returned in 2 s on {:?}\n", current.lock().unwrap());
                        let _ = std::io::Write::write_all(&mut std::io::stderr(), msg.as_bytes());
                        std::process::abort();
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let (mut ok, mut err) = (0, 0);
        for line in lines {
            current.lock().unwrap().clone_from(&line);
            match super::parse(&line) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(e.starts_with("syntax error"), "{line:?}: {e}");
                    err += 1;
                }
            }
            done.fetch_add(1, Ordering::Relaxed);
        }
        finished.store(true, Ordering::Relaxed);
        watchdog.join().unwrap();
        (ok, err)
    }

    #[test]
    fn hostile_here_documents_are_syntax_errors() {
        // Each of these made brush-parser 0.4.0 loop forever, allocating, or
        // panic (vendor/brush-parser/PATCHES.md); the first is the fuzz
        // test's line that OOM-killed the executor.
        let lines = [
            "$(>>{#)))$'\\*$(\n)= <<<}>);;&&&>>;$((&&$'<<<<\r\r>&%${",
            "cat <<'' ",
            "cat <<\"\"&${",
            "''<<\r&${",
            "cat <<\x0c&$(",
            "<<E$[\t\t",
            "cat <<'' <<  ",
            "cat <<-\r&$((",
            "E[cat<<))$([cat\n)",
        ];
        let (ok, err) = parse_all(lines.iter().map(|s| s.to_string()));
        assert_eq!((ok, err), (0, lines.len()));
        // What the fix must not break: empty and CR delimiters with a body.
        for good in ["cat <<''\nbody\n\n", "cat <<\r\nbody\n\r\n", "cat <<EOF\nx\nEOF", "x=$(cat <<E\ny\nE\n)"] {
            assert!(super::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn generated_lines_of_here_document_pieces_end() {
        // The generator that found the bugs above: here-document operators,
        // empty and quoted tags, unterminated expansions, blanks, CR and FF.
        const P: &[&str] = &[
            "<<", "<<-", "<<<", "''", "\"\"", "E", "EOF", "$(", "$((", "${", "$[", ")", "))", "}", "]", "(", "{", "`", "\\",
            "\n", "\t", " ", "\r", "\x0c", "&", ";", "|", "'", "\"", "$'", "#", "x", "cat", "=", ">", "<", "!", "*", "[", "$",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let lines: Vec<String> = (0..100_000)
            .map(|_| {
                let k = 1 + (next() % 12) as usize;
                (0..k).map(|_| P[(next() % P.len() as u64) as usize]).collect()
            })
            .collect();
        let (ok, err) = parse_all(lines.into_iter());
        // Both outcomes occur, so the generator reaches past the first token.
        assert!(ok > 1_000 && err > 1_000, "ok {ok}, err {err}");
    }
}
