//! The shell's builtins. Special builtins (POSIX 2.14) come before
//! functions; the others after functions and before programs.
//!
//! Adding one: its name in [`SPECIAL`] or [`REGULAR`], its arm in [`run`],
//! a line in [`HELP`], and a case in tests/it/posix.rs.

use std::fmt::Write as _;

use super::{printf, test_cmd, Ctl, Interp, Opts};
use crate::runtime::vfs::{Kind, ROOT};

pub const SPECIAL: &[&str] = &["break", ":", "continue", ".", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift", "times", "trap", "unset"];
pub const REGULAR: &[&str] = &[
    "[", "alias", "cd", "command", "echo", "env", "false", "getopts", "help", "history", "jobs", "local", "printf", "pwd", "read", "test", "true", "type", "ulimit", "umask", "unalias", "wait", "xargs",
];

pub fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
}

pub fn exists(name: &str) -> bool {
    REGULAR.contains(&name)
}

/// `help`: what the shell itself understands.
const HELP: &str = "pg_shell: a POSIX shell whose every command is recorded and replayable.

The language: pipelines (|), lists (; && ||), ! pipeline, redirections
(< > >> 2> 2>> 2>&1 >&2 &> <<EOF <<-EOF <<<), quoting, $VAR and every POSIX
${...} form, $? $# $@ $* $1.., ~, $((arithmetic)), $(command) and `command`,
*, ? and [...] over the session's files, A=1 cmd, if/elif/else, for, while,
until, case, { ...; }, ( ... ), functions, break/continue/return/exit.
Shell variables, functions and options stay from one line to the next.
Not supported: & (background jobs), job control, traps, arrays, [[ ]].

Builtins:
  cd [DIR|-]           change directory          pwd            print it
  echo ARGS            print (\\n \\t \\c ... as dash)  printf FMT ARGS  formatted print
  export/readonly/unset NAME[=V]  variables       local NAME[=V] in a function
  set [-euxf] [-- ARGS]  options, parameters    shift [N]      drop parameters
  read [-r] NAME...    read a line               test/[ EXPR ]  conditions
  eval ARGS, . FILE    run text / a file          command, type  how a name resolves
  exit/return [N], break/continue [N], true, false, :
  env                  exported variables         history        this session's lines
  help [NAME]          this text, or a program's usage
  xargs [-n N] [-I R] [-0] [-r] [CMD ARGS]  run CMD with words read from stdin
                       (a builtin: WASI programs cannot start programs)
";

pub fn run(it: &mut Interp<'_>, argv: &[String]) -> Result<i32, Ctl> {
    let name = argv[0].as_str();
    let args = &argv[1..];
    match name {
        ":" | "true" => Ok(0),
        "false" => Ok(1),
        "echo" => {
            let out = printf::echo(args);
            it.write_fd(1, &out)?;
            Ok(0)
        }
        "printf" => {
            if args.is_empty() {
                it.err_line("printf: usage: printf format [arguments]");
                return Ok(2);
            }
            let p = printf::printf(&args[0], &args[1..]);
            it.write_fd(1, &p.out)?;
            for e in &p.errors {
                it.err_line(&format!("printf: {e}"));
            }
            Ok(p.status)
        }
        "test" | "[" => {
            let mut a: Vec<String> = args.to_vec();
            if name == "[" {
                if a.last().map(String::as_str) != Some("]") {
                    it.err_line("[: missing ]");
                    return Ok(2);
                }
                a.pop();
            }
            let fs = Fs { it };
            match test_cmd::test(&a, &fs) {
                Ok(true) => Ok(0),
                Ok(false) => Ok(1),
                Err(e) => {
                    it.err_line(&format!("{name}: {e}"));
                    Ok(2)
                }
            }
        }
        "cd" => cd(it, args),
        "pwd" => {
            let cwd = it.st.cwd.clone();
            it.out(&format!("{cwd}\n"))?;
            Ok(0)
        }
        "export" | "readonly" => {
            let export = name == "export";
            let list: Vec<&String> = args.iter().filter(|a| a.as_str() != "-p").collect();
            if list.is_empty() {
                let mut s = String::new();
                for (k, v) in &it.st.vars {
                    if (export && v.exported) || (!export && v.readonly) {
                        let _ = writeln!(s, "{name} {k}={}", quote(&v.value));
                    }
                }
                it.out(&s)?;
                return Ok(0);
            }
            for a in list {
                let (n, value) = match a.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (a.as_str(), None),
                };
                if !is_name(n) {
                    return Err(it.shell_error(&format!("{name}: {n}: bad variable name"), 2));
                }
                if let Some(v) = value {
                    it.set_var(n, v)?;
                } else if !it.st.vars.contains_key(n) && export {
                    // `export X` with X unset marks it; it appears once set.
                    it.set_var(n, String::new())?;
                    it.st.vars.get_mut(n).unwrap().exported = true;
                    continue;
                } else if !it.st.vars.contains_key(n) {
                    it.set_var(n, String::new())?;
                }
                let var = it.st.vars.get_mut(n).unwrap();
                if export {
                    var.exported = true;
                } else {
                    var.readonly = true;
                }
            }
            Ok(0)
        }
        "unset" => {
            let mut funcs = false;
            let mut status = 0;
            for a in args {
                match a.as_str() {
                    "-f" => funcs = true,
                    "-v" => funcs = false,
                    n if funcs => {
                        it.st.functions.remove(n);
                    }
                    n => {
                        if !is_name(n) {
                            it.err_line(&format!("unset: {n}: bad variable name"));
                            status = 2;
                            continue;
                        }
                        if it.st.vars.get(n).is_some_and(|v| v.readonly) {
                            return Err(it.shell_error(&format!("unset: {n}: is read only"), 2));
                        }
                        it.unset_var(n)?;
                    }
                }
            }
            Ok(status)
        }
        "local" => {
            if it.in_func == 0 {
                return Err(it.shell_error("local: not in a function", 2));
            }
            for a in args {
                let (n, value) = match a.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (a.clone(), None),
                };
                if !is_name(&n) {
                    return Err(it.shell_error(&format!("local: {n}: bad variable name"), 2));
                }
                let old = it.st.vars.get(&n).cloned();
                if let Some(frame) = it.locals.last_mut() {
                    if !frame.iter().any(|(k, _)| *k == n) {
                        frame.push((n.clone(), old));
                    }
                }
                if let Some(v) = value {
                    it.set_var(&n, v)?;
                }
            }
            Ok(0)
        }
        "set" => set(it, args),
        "shift" => {
            let n = match args.first() {
                None => 1,
                Some(a) => match a.parse::<usize>() {
                    Ok(n) => n,
                    Err(_) => return Err(it.shell_error(&format!("shift: Illegal number: {a}"), 2)),
                },
            };
            if n > it.st.positional.len() {
                return Err(it.shell_error("shift: can't shift that many", 2));
            }
            it.st.positional.drain(..n);
            Ok(0)
        }
        "exit" => {
            let code = match args.first() {
                None => it.st.last_status,
                Some(a) => match a.parse::<i64>() {
                    Ok(n) => (n & 0xff) as i32,
                    Err(_) => return Err(it.shell_error(&format!("exit: Illegal number: {a}"), 2)),
                },
            };
            Err(Ctl::Exit(code))
        }
        "return" => {
            let code = match args.first() {
                None => it.st.last_status,
                Some(a) => match a.parse::<i64>() {
                    Ok(n) => (n & 0xff) as i32,
                    Err(_) => return Err(it.shell_error(&format!("return: Illegal number: {a}"), 2)),
                },
            };
            if it.in_func == 0 && it.in_dot == 0 {
                // dash: `return` outside a function ends the line like exit.
                return Err(Ctl::Exit(code));
            }
            Err(Ctl::Return(code))
        }
        "break" | "continue" => {
            let n = match args.first() {
                None => 1,
                Some(a) => match a.parse::<u32>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(it.shell_error(&format!("{name}: Illegal number: {a}"), 2)),
                },
            };
            if it.loops == 0 {
                return Ok(0);
            }
            let n = n.min(it.loops);
            Err(if name == "break" { Ctl::Break(n) } else { Ctl::Continue(n) })
        }
        "eval" => {
            let text = args.join(" ");
            it.st.last_status = 0;
            it.run_text(&text)?;
            Ok(it.st.last_status)
        }
        "." => {
            let Some(file) = args.first() else {
                return Err(it.shell_error(".: usage: . FILE", 2));
            };
            let abs = crate::env::resolve_path(&it.st.cwd, file);
            let text = {
                let mut v = it.rt.vfs.lock().unwrap();
                let found = v.lookup(ROOT, abs.trim_start_matches('/'), true).and_then(|ino| v.read_all(ino));
                found.map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            match text {
                Ok(t) => {
                    it.charge_bytes(t.len())?;
                    it.st.last_status = 0;
                    it.in_dot += 1;
                    let r = it.run_text(&t);
                    it.in_dot -= 1;
                    match r {
                        Ok(()) => Ok(it.st.last_status),
                        // `return` in a sourced file ends the file.
                        Err(Ctl::Return(c)) => Ok(c),
                        Err(e) => Err(e),
                    }
                }
                Err(_) => Err(it.shell_error(&format!(".: cannot open {file}: No such file"), 2)),
            }
        }
        "read" => read(it, args),
        "command" => {
            let mut rest = args;
            let mut mode = None;
            while let Some(a) = rest.first() {
                match a.as_str() {
                    "-v" => mode = Some('v'),
                    "-V" => mode = Some('V'),
                    "-p" => {}
                    "--" => {
                        rest = &rest[1..];
                        break;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
            if rest.is_empty() {
                return Ok(0);
            }
            if let Some(m) = mode {
                let mut status = 0;
                for n in rest {
                    match what_is(it, n) {
                        Some(desc) => {
                            let line = if m == 'v' { format!("{n}\n") } else { format!("{n} is {desc}\n") };
                            it.out(&line)?;
                        }
                        None => {
                            if m == 'V' {
                                it.err_line(&format!("{n}: not found"));
                            }
                            status = 127;
                        }
                    }
                }
                return Ok(status);
            }
            // Skips functions.
            let argv = rest.to_vec();
            if is_special(&argv[0]) || exists(&argv[0]) {
                return run(it, &argv);
            }
            it.external_cmd(argv)
        }
        "type" => {
            let mut status = 0;
            for n in args {
                match what_is(it, n) {
                    Some(desc) => it.out(&format!("{n} is {desc}\n"))?,
                    None => {
                        it.out(&format!("{n}: not found\n"))?;
                        status = 127;
                    }
                }
            }
            Ok(status)
        }
        "env" => {
            if !args.is_empty() {
                // env NAME=VALUE... COMMAND: the command with those variables.
                let mut assigns = Vec::new();
                let mut rest = args;
                while let Some((k, v)) = rest.first().and_then(|a| a.split_once('=')) {
                    if !is_name(k) {
                        break;
                    }
                    assigns.push((k.to_string(), v.to_string()));
                    rest = &rest[1..];
                }
                if rest.is_empty() {
                    let mut vars = it.st.exported();
                    vars.extend(assigns);
                    let s: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
                    it.out(&s)?;
                    return Ok(0);
                }
                return it.invoke(rest.to_vec(), assigns);
            }
            let s: String = it.st.exported().iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            it.out(&s)?;
            Ok(0)
        }
        "history" => {
            let h = match it.rt.host.history() {
                Ok(h) => h,
                Err(e) => return Err(it.shell_error(&format!("history: {e:#}"), 1)),
            };
            let keep = match args.first().map(|a| a.parse::<usize>()) {
                None => h.len(),
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    it.err_line(&format!("history: {}: numeric argument required", args[0]));
                    return Ok(2);
                }
            };
            let mut s = String::new();
            for (seq, line) in h.iter().skip(h.len().saturating_sub(keep)) {
                let _ = writeln!(s, "{seq:5}  {line}");
            }
            it.out(&s)?;
            Ok(0)
        }
        "help" => {
            if let Some(n) = args.first() {
                if let Some(u) = crate::bundled::usage(n) {
                    it.out(u)?;
                    return Ok(0);
                }
                if is_special(n) || exists(n) {
                    it.out(&format!("{n}: a shell builtin; see `help`\n"))?;
                    return Ok(0);
                }
                it.err_line(&format!("help: no help for {n}"));
                return Ok(1);
            }
            let programs = match it.rt.host.programs() {
                Ok(p) => p,
                Err(e) => return Err(it.shell_error(&format!("help: {e:#}"), 1)),
            };
            let mut s = HELP.to_string();
            s.push_str(&crate::bundled::describe_programs(&programs));
            it.out(&s)?;
            Ok(0)
        }
        "wait" => Ok(0),
        "xargs" => xargs(it, args),
        "exec" => {
            if args.is_empty() {
                return Ok(0);
            }
            Err(it.shell_error("exec: replacing the shell is not supported (run the command without exec)", 2))
        }
        "trap" | "times" | "alias" | "unalias" | "jobs" | "getopts" | "ulimit" | "umask" => {
            it.err_line(&format!("{name}: not supported in pg_shell"));
            Ok(2)
        }
        _ => {
            it.err_line(&format!("{name}: unknown builtin"));
            Ok(127)
        }
    }
}

const KEYWORDS: &[&str] = &["!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while", "{", "}"];

/// `xargs`: the command (default `echo`) with the words of stdin appended,
/// `-n N` at a time, or once per line with `-I R` replaced; `-0` splits at
/// NUL, `-r` runs nothing for empty input. Quotes and backslashes in the
/// input quote as POSIX xargs says. Each run is a program run of the line.
fn xargs(it: &mut Interp<'_>, args: &[String]) -> Result<i32, Ctl> {
    let (mut n, mut replace, mut nul, mut no_empty) = (None::<usize>, None::<String>, false, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-n" | "-I" if i + 1 >= args.len() => {
                it.err_line(&format!("xargs: option requires an argument -- '{}'", &args[i][1..]));
                return Ok(1);
            }
            "-n" => {
                match args[i + 1].parse::<usize>() {
                    Ok(v) if v > 0 => n = Some(v),
                    _ => {
                        it.err_line(&format!("xargs: invalid number for -n: {}", args[i + 1]));
                        return Ok(1);
                    }
                }
                i += 2;
            }
            "-I" => {
                replace = Some(args[i + 1].clone());
                i += 2;
            }
            "-0" => {
                nul = true;
                i += 1;
            }
            "-r" => {
                no_empty = true;
                i += 1;
            }
            "--" => {
                i += 1;
                break;
            }
            a if a.starts_with('-') && a.len() > 1 => {
                it.err_line(&format!("xargs: unsupported option {a}"));
                return Ok(1);
            }
            _ => break,
        }
    }
    let cmd: Vec<String> = if i < args.len() { args[i..].to_vec() } else { vec!["echo".into()] };
    let mut input = Vec::new();
    while let Some(l) = it.read_line()? {
        input.extend_from_slice(&l);
    }
    let text = String::from_utf8_lossy(&input).into_owned();
    let items: Vec<String> = if replace.is_some() {
        text.lines().map(|l| l.trim_start().to_string()).filter(|l| !l.is_empty()).collect()
    } else if nul {
        text.split('\0').filter(|w| !w.is_empty()).map(String::from).collect()
    } else {
        match shell_words::split(&text) {
            Ok(w) => w,
            Err(_) => {
                it.err_line("xargs: unmatched quote in the input");
                return Ok(1);
            }
        }
    };
    if items.is_empty() && (no_empty || replace.is_some()) {
        return Ok(0);
    }
    let mut status = 0;
    let batches: Vec<Vec<String>> = match (&replace, n) {
        (Some(r), _) => items.iter().map(|item| cmd.iter().map(|a| a.replace(r.as_str(), item)).collect()).collect(),
        (None, Some(n)) => items.chunks(n).map(|c| cmd.iter().cloned().chain(c.iter().cloned()).collect()).collect(),
        (None, None) => vec![cmd.iter().cloned().chain(items.iter().cloned()).collect()],
    };
    for argv in batches {
        let s = it.invoke(argv, Vec::new())?;
        if s == 255 {
            return Ok(124);
        }
        if s != 0 {
            status = 123;
        }
    }
    Ok(status)
}

fn what_is(it: &mut Interp<'_>, n: &str) -> Option<String> {
    if KEYWORDS.contains(&n) {
        return Some("a shell keyword".into());
    }
    if is_special(n) {
        return Some("a special shell builtin".into());
    }
    if it.st.functions.contains_key(n) {
        return Some("a shell function".into());
    }
    if exists(n) {
        return Some("a shell builtin".into());
    }
    match it.rt.host.resolve(n).ok()? {
        super::Program::Wasi(m) => Some(format!("a WASI program (sha256 {})", hex::encode(m.digest))),
        super::Program::Native(p) => Some(format!("a native program ({})", p.path.display())),
        super::Program::NotFound(_) => None,
    }
}

fn cd(it: &mut Interp<'_>, args: &[String]) -> Result<i32, Ctl> {
    let args: Vec<&String> = args.iter().filter(|a| a.as_str() != "-L" && a.as_str() != "-P").collect();
    if args.len() > 1 {
        it.err_line("cd: too many arguments");
        return Ok(2);
    }
    let target = match args.first().map(|s| s.as_str()) {
        None => it.var("HOME").unwrap_or_else(|| "/".into()),
        Some("-") => it.var("OLDPWD").unwrap_or_else(|| it.st.cwd.clone()),
        Some(p) => p.to_string(),
    };
    let abs = crate::env::resolve_path(&it.st.cwd, &target);
    match it.path_kind(&abs) {
        Some(Kind::Dir) => {
            let old = std::mem::replace(&mut it.st.cwd, abs.clone());
            it.set_var("OLDPWD", old)?;
            it.set_var("PWD", abs.clone())?;
            for n in ["OLDPWD", "PWD"] {
                if let Some(v) = it.st.vars.get_mut(n) {
                    v.exported = true;
                }
            }
            if args.first().map(|s| s.as_str()) == Some("-") {
                it.out(&format!("{abs}\n"))?;
            }
            Ok(0)
        }
        Some(_) => {
            it.err_line(&format!("cd: can't cd to {target}: Not a directory"));
            Ok(2)
        }
        None => {
            it.err_line(&format!("cd: can't cd to {target}: No such file or directory"));
            Ok(2)
        }
    }
}

fn set(it: &mut Interp<'_>, args: &[String]) -> Result<i32, Ctl> {
    if args.is_empty() {
        let mut s = String::new();
        for (k, v) in &it.st.vars {
            let _ = writeln!(s, "{k}={}", quote(&v.value));
        }
        it.out(&s)?;
        return Ok(0);
    }
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            it.st.positional = args[i + 1..].to_vec();
            return Ok(0);
        }
        if a == "-" {
            it.st.opts.xtrace = false;
            it.st.opts.verbose = false;
            it.st.positional = args[i + 1..].to_vec();
            return Ok(0);
        }
        let (on, flags) = match a.chars().next() {
            Some('-') => (true, &a[1..]),
            Some('+') => (false, &a[1..]),
            _ => {
                it.st.positional = args[i..].to_vec();
                return Ok(0);
            }
        };
        if flags == "o" {
            match args.get(i + 1) {
                None => {
                    let mut s = String::new();
                    for (n, _) in Opts::NAMES {
                        let _ = writeln!(s, "{n:<16}{}", if it.st.opts.get(n) { "on" } else { "off" });
                    }
                    it.out(&s)?;
                }
                Some(n) => match it.st.opts.get_mut(n) {
                    Some(b) => *b = on,
                    None => {
                        if n != "pipefail" {
                            return Err(it.shell_error(&format!("set: Illegal option -o {n}"), 2));
                        }
                    }
                },
            }
            i += 2;
            continue;
        }
        for c in flags.chars() {
            match Opts::by_letter(c) {
                Some(n) => *it.st.opts.get_mut(n).unwrap() = on,
                None => return Err(it.shell_error(&format!("set: Illegal option -{c}"), 2)),
            }
        }
        i += 1;
    }
    Ok(0)
}

fn read(it: &mut Interp<'_>, args: &[String]) -> Result<i32, Ctl> {
    let mut raw = false;
    let mut names = Vec::new();
    for a in args {
        match a.as_str() {
            "-r" => raw = true,
            n if n.starts_with('-') && names.is_empty() => {
                it.err_line(&format!("read: Illegal option {n}"));
                return Ok(2);
            }
            n => names.push(n.to_string()),
        }
    }
    if names.is_empty() {
        it.err_line("read: arg count");
        return Ok(2);
    }
    for n in &names {
        if !is_name(n) {
            return Err(it.shell_error(&format!("read: {n}: bad variable name"), 2));
        }
    }
    // Lines ending in a backslash continue (without -r).
    let mut text = String::new();
    let mut eof = false;
    loop {
        match it.read_line()? {
            None => {
                eof = true;
                break;
            }
            Some(bytes) => {
                let mut s = String::from_utf8_lossy(&bytes).into_owned();
                let had_nl = s.ends_with('\n');
                if had_nl {
                    s.pop();
                } else {
                    eof = true;
                }
                if !raw && s.ends_with('\\') && !s.ends_with("\\\\") && had_nl {
                    s.pop();
                    text.push_str(&s);
                    continue;
                }
                text.push_str(&s);
                break;
            }
        }
    }
    // Backslash removal (without -r), then IFS splitting into the names.
    let ifs = it.var("IFS").unwrap_or_else(|| " \t\n".into());
    let chars: Vec<(char, bool)> = if raw {
        text.chars().map(|c| (c, false)).collect()
    } else {
        let mut v = Vec::new();
        let mut esc = false;
        for c in text.chars() {
            if esc {
                v.push((c, true));
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                v.push((c, false));
            }
        }
        v
    };
    let is_ifs = |c: &(char, bool)| !c.1 && ifs.contains(c.0);
    let is_ws = |c: &(char, bool)| is_ifs(c) && (c.0 == ' ' || c.0 == '\t' || c.0 == '\n');
    let mut pos = 0;
    while pos < chars.len() && is_ws(&chars[pos]) {
        pos += 1;
    }
    for (idx, n) in names.iter().enumerate() {
        let last = idx + 1 == names.len();
        let value: String = if last {
            // The rest of the line, without trailing IFS whitespace.
            let mut end = chars.len();
            while end > pos && is_ws(&chars[end - 1]) {
                end -= 1;
            }
            // A single trailing non-whitespace IFS delimiter is dropped.
            let rest = &chars[pos..end];
            let mut s: String = rest.iter().map(|c| c.0).collect();
            if rest.len() == 1 && is_ifs(&rest[0]) {
                s.clear();
            }
            pos = chars.len();
            s
        } else {
            let start = pos;
            while pos < chars.len() && !is_ifs(&chars[pos]) {
                pos += 1;
            }
            let s: String = chars[start..pos].iter().map(|c| c.0).collect();
            // Skip the delimiter: whitespace, at most one non-whitespace IFS char, whitespace.
            while pos < chars.len() && is_ws(&chars[pos]) {
                pos += 1;
            }
            if pos < chars.len() && is_ifs(&chars[pos]) && !is_ws(&chars[pos]) {
                pos += 1;
                while pos < chars.len() && is_ws(&chars[pos]) {
                    pos += 1;
                }
            }
            s
        };
        it.set_var(n, value)?;
    }
    Ok(if eof && text.is_empty() { 1 } else if eof { 1 } else { 0 })
}

struct Fs<'a, 'r> {
    it: &'a Interp<'r>,
}

impl test_cmd::TestFs for Fs<'_, '_> {
    fn stat(&self, path: &str) -> Option<test_cmd::FileInfo> {
        self.info(path, true)
    }
    fn lstat(&self, path: &str) -> Option<test_cmd::FileInfo> {
        self.info(path, false)
    }
    /// As a guest's `isatty` sees it (runtime/wasi.rs `out_filetype`): the
    /// recorded terminal is a tty and the descriptor is the line's terminal
    /// output here, not a pipe, capture or file. Input is never a terminal.
    fn is_terminal(&self, fd: i64) -> bool {
        use crate::runtime::wasi::Stdio;
        let tty = self.it.rt.limits.terminal.as_ref().is_some_and(|t| t.tty);
        let here = usize::try_from(fd).ok().and_then(|fd| self.it.fds.get(fd).copied());
        tty && matches!(here, Some(Stdio::Terminal | Stdio::TerminalErr))
    }
}

impl Fs<'_, '_> {
    fn info(&self, path: &str, follow: bool) -> Option<test_cmd::FileInfo> {
        if path.is_empty() {
            return None;
        }
        let abs = crate::env::resolve_path(&self.it.st.cwd, path);
        let mut v = self.it.rt.vfs.lock().unwrap();
        let rel = abs.trim_start_matches('/');
        let ino = if rel.is_empty() { ROOT } else { v.lookup(ROOT, rel, follow).ok()? };
        let st = v.stat(ino).ok()?;
        let kind = match st.kind {
            Kind::File => test_cmd::FileKind::File,
            Kind::Dir => test_cmd::FileKind::Dir,
            Kind::Symlink => test_cmd::FileKind::Symlink,
        };
        let mode = match st.kind {
            Kind::Dir => 0o755,
            Kind::Symlink => 0o777,
            Kind::File => 0o644,
        };
        Some(test_cmd::FileInfo { kind, size: st.size, mode, mtime_ns: st.mtim })
    }
}

pub fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic()) && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

/// Single-quotes a value for `export -p`/`set` output (as dash prints it).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
