//! Builtins: commands the shell runs itself because they change or read the
//! session's environment (cd, export, unset) or the session itself (history).
//!
//! A builtin is a pure function of its arguments, the environment and, for
//! `history` and `help`, data the executor fetched for it. Adding one: a
//! variant in [`Builtin`], its name in [`Builtin::lookup`] and [`NAMES`], and
//! its arm in [`run`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::env::{resolve_path, Env};
use crate::parse::is_name;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Cd,
    Pwd,
    Export,
    Unset,
    Env,
    History,
    Help,
    True,
    False,
}

/// Every builtin name, for `help` and for the resolver.
pub const NAMES: &[&str] = &["cd", "pwd", "export", "unset", "env", "history", "help", "true", "false"];

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "cd" => Builtin::Cd,
            "pwd" => Builtin::Pwd,
            "export" => Builtin::Export,
            "unset" => Builtin::Unset,
            "env" => Builtin::Env,
            "history" => Builtin::History,
            "help" => Builtin::Help,
            "true" => Builtin::True,
            "false" => Builtin::False,
            _ => return None,
        })
    }
}

/// Data some builtins need from the database, fetched only for them.
#[derive(Default)]
pub struct Context {
    /// `(seq, line)` of the session's earlier commands, oldest first.
    pub history: Vec<(i32, String)>,
    /// Programs the resolver can run besides builtins.
    pub programs: Vec<String>,
    /// The files as they are now (`mkdir d && cd d`): whether an absolute
    /// path names a directory (Some(true)), something else (Some(false)) or
    /// nothing (None), without following symbolic links. Without it `cd`
    /// looks at the recorded tree.
    pub kind_of: Option<std::sync::Arc<dyn Fn(&str) -> Option<bool> + Send + Sync>>,
}

pub struct Output {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The environment after the builtin (cwd and variables; files never change).
    pub cwd: String,
    pub vars: BTreeMap<String, String>,
}

pub fn run(b: Builtin, argv: &[String], env: &Env, cx: &Context) -> Output {
    let mut o = Output {
        exit_code: 0,
        stdout: String::new(),
        stderr: String::new(),
        cwd: env.cwd.clone(),
        vars: env.vars.clone(),
    };
    let args = &argv[1..];
    let fail = |o: &mut Output, msg: String| {
        o.stderr = format!("{}: {msg}\n", argv[0]);
        o.exit_code = 1;
    };
    match b {
        Builtin::Cd => {
            if args.len() > 1 {
                fail(&mut o, "too many arguments".into());
                return o;
            }
            let target = match args.first().map(String::as_str) {
                None => env.vars.get("HOME").cloned().unwrap_or_else(|| "/".into()),
                Some("-") => env.vars.get("OLDPWD").cloned().unwrap_or_else(|| env.cwd.clone()),
                Some(p) => p.to_string(),
            };
            let abs = resolve_path(&env.cwd, &target);
            let (is_dir, exists) = match &cx.kind_of {
                Some(kind_of) => match kind_of(&abs) {
                    Some(dir) => (dir, true),
                    None => (false, false),
                },
                None => (env.tree.is_dir(&abs), env.tree.get(&abs).is_some()),
            };
            if is_dir {
                o.vars.insert("OLDPWD".into(), env.cwd.clone());
                o.vars.insert("PWD".into(), abs.clone());
                if args.first().map(String::as_str) == Some("-") {
                    o.stdout = format!("{abs}\n");
                }
                o.cwd = abs;
            } else if exists {
                fail(&mut o, format!("{target}: Not a directory"));
            } else {
                fail(&mut o, format!("{target}: No such file or directory"));
            }
        }
        Builtin::Pwd => o.stdout = format!("{}\n", env.cwd),
        Builtin::Export => {
            if args.is_empty() {
                for (k, v) in &env.vars {
                    let _ = writeln!(o.stdout, "export {k}={}", shell_words::quote(v));
                }
            }
            for a in args {
                let (name, value) = match a.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (a.as_str(), None),
                };
                if !is_name(name) {
                    fail(&mut o, format!("`{a}': not a valid identifier"));
                    continue;
                }
                match value {
                    Some(v) => {
                        o.vars.insert(name.to_string(), v.to_string());
                    }
                    None => {
                        o.vars.entry(name.to_string()).or_default();
                    }
                }
            }
            if let Some(pwd) = o.vars.get("PWD") {
                if *pwd != o.cwd {
                    // PWD mirrors the working directory; `cd` is how to change it.
                    o.vars.insert("PWD".into(), o.cwd.clone());
                }
            }
        }
        Builtin::Unset => {
            for a in args {
                if !is_name(a) {
                    fail(&mut o, format!("`{a}': not a valid identifier"));
                    continue;
                }
                o.vars.remove(a);
            }
        }
        Builtin::Env => {
            if !args.is_empty() {
                fail(&mut o, "running a program with a changed environment is not supported; use export".into());
                return o;
            }
            for (k, v) in &env.vars {
                let _ = writeln!(o.stdout, "{k}={v}");
            }
        }
        Builtin::History => {
            let n = match args.first().map(|a| a.parse::<usize>()) {
                None => usize::MAX,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    fail(&mut o, format!("{}: numeric argument required", args[0]));
                    return o;
                }
            };
            let skip = cx.history.len().saturating_sub(n);
            for (seq, line) in &cx.history[skip..] {
                let _ = writeln!(o.stdout, "{seq:5}  {line}");
            }
        }
        Builtin::Help => {
            o.stdout.push_str("pg_shell: every command is queued, run in a sandbox and recorded.\n\nBuiltins:\n  ");
            o.stdout.push_str(&NAMES.join(" "));
            o.stdout.push_str("\n\nPrograms:\n");
            for line in wrap(&cx.programs, 76) {
                let _ = writeln!(o.stdout, "  {line}");
            }
            o.stdout.push_str("\nQuoting is POSIX; $NAME and ${NAME} expand; a | b pipes (streaming), < f, > f and >> f redirect;\na; b, a && b and a || b run in order. Not yet: & (background jobs), 2>, $(...).\n");
        }
        Builtin::True => {}
        Builtin::False => o.exit_code = 1,
    }
    o
}

fn wrap(words: &[String], width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for w in words {
        let last = lines.last_mut().unwrap();
        if !last.is_empty() && last.len() + 1 + w.len() > width {
            lines.push(w.clone());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(w);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Entry;

    fn env_with_dir() -> Env {
        let mut e = Env::initial("u");
        e.tree.entries.insert("d".into(), Entry::Dir { mode: 0o755, mtime_ns: 0 });
        e
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn cd_changes_cwd_and_pwd_only_for_directories() {
        let e = env_with_dir();
        let o = run(Builtin::Cd, &argv("cd d"), &e, &Context::default());
        assert_eq!((o.exit_code, o.cwd.as_str()), (0, "/d"));
        assert_eq!(o.vars["PWD"], "/d");
        let o = run(Builtin::Cd, &argv("cd nope"), &e, &Context::default());
        assert_eq!((o.exit_code, o.cwd.as_str()), (1, "/"));
        assert!(o.stderr.contains("No such file or directory"));
    }

    #[test]
    fn export_and_unset_validate_names() {
        let e = env_with_dir();
        let o = run(Builtin::Export, &argv("export A=1 1BAD=2"), &e, &Context::default());
        assert_eq!(o.vars["A"], "1");
        assert!(!o.vars.contains_key("1BAD"));
        assert_eq!(o.exit_code, 1);
        let mut e2 = e.clone();
        e2.vars = o.vars;
        let o = run(Builtin::Unset, &argv("unset A"), &e2, &Context::default());
        assert!(!o.vars.contains_key("A"));
    }
}
