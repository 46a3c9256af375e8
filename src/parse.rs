//! Turning a command line into a pipeline: `$NAME` / `${NAME}` expansion from
//! the session's variables, then POSIX word splitting by `shell-words`, then
//! the operators `|`, `< FILE`, `> FILE` and `>> FILE`.
//!
//! Expansion respects quoting (nothing expands inside single quotes) and the
//! expanded value is re-quoted before splitting, so a value is always one
//! word and never re-parsed as syntax. Unquoted operators are turned into
//! marker words containing NUL, which no command line can hold, so a quoted
//! `'|'` stays a plain argument. Command lists (`;`, `&&`, `||`) are cut by
//! [`split_list`] first. Background jobs (`&`), descriptor redirections
//! (`2>`) and substitutions are not supported yet: they are
//! rejected with a clear message rather than passed on as text.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
}

/// A parsed command line: one or more stages whose stdout feeds the next
/// stage's stdin, with the first stage's stdin and the last stage's stdout
/// optionally redirected to files of the session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pipeline {
    pub stages: Vec<Vec<String>>,
    pub stdin: Option<String>,
    pub stdout: Option<Redirect>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub path: String,
    pub append: bool,
}

impl Pipeline {
    /// A line with nothing to run (blank or a comment).
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// A single program with no redirection: argv and nothing else.
    pub fn simple(&self) -> Option<&[String]> {
        match (self.stages.as_slice(), &self.stdin, &self.stdout) {
            ([one], None, None) => Some(one),
            _ => None,
        }
    }

    /// The words as recorded: argv for a simple command, otherwise every
    /// word with the operators in place.
    pub fn words(&self) -> Vec<String> {
        let mut w = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                w.push("|".to_string());
            }
            w.extend(stage.iter().cloned());
        }
        if let Some(f) = &self.stdin {
            w.extend(["<".to_string(), f.clone()]);
        }
        if let Some(r) = &self.stdout {
            w.extend([if r.append { ">>" } else { ">" }.to_string(), r.path.clone()]);
        }
        w
    }
}

/// How a command of a list depends on the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `;` (and the first command): always runs.
    Always,
    /// `&&`: runs if the previous command succeeded.
    IfOk,
    /// `||`: runs if the previous command failed.
    IfFailed,
}

/// Splits a line at its unquoted `;`, `&&` and `||` into the text of each
/// command of the list. Each part is expanded and parsed only when its turn
/// comes (`export A=1; echo $A` prints 1). A trailing `;` is allowed; `&`
/// (background jobs) is not supported.
pub fn split_list(line: &str) -> Result<Vec<(Connector, String)>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut connector = Connector::Always;
    let mut q = Quote::None;
    let mut word_start = true;
    let mut i = 0;
    let push = |parts: &mut Vec<(Connector, String)>, text: &mut String, conn: Connector, op: &str| -> Result<(), ParseError> {
        if text.trim().is_empty() {
            return Err(ParseError::Syntax(format!("syntax error near `{op}'")));
        }
        parts.push((conn, std::mem::take(text)));
        Ok(())
    };
    while i < chars.len() {
        let c = chars[i];
        match (q, c) {
            (Quote::Single, '\'') | (Quote::Double, '"') => q = Quote::None,
            (Quote::None, '\'') => q = Quote::Single,
            (Quote::None, '"') => q = Quote::Double,
            (Quote::None | Quote::Double, '\\') => {
                current.push(c);
                if let Some(&n) = chars.get(i + 1) {
                    current.push(n);
                }
                i += 2;
                word_start = false;
                continue;
            }
            (Quote::None, '#') if word_start => {
                current.extend(&chars[i..]);
                break;
            }
            (Quote::None, ';') => {
                push(&mut parts, &mut current, connector, ";")?;
                connector = Connector::Always;
                i += 1;
                word_start = true;
                continue;
            }
            (Quote::None, '&') if chars.get(i + 1) == Some(&'&') => {
                push(&mut parts, &mut current, connector, "&&")?;
                connector = Connector::IfOk;
                i += 2;
                word_start = true;
                continue;
            }
            (Quote::None, '|') if chars.get(i + 1) == Some(&'|') => {
                push(&mut parts, &mut current, connector, "||")?;
                connector = Connector::IfFailed;
                i += 2;
                word_start = true;
                continue;
            }
            (Quote::None, '&') => return Err(ParseError::Unsupported("background jobs and descriptor duplication (&)")),
            _ => {}
        }
        word_start = q == Quote::None && (c.is_whitespace() || matches!(c, '|' | '<' | '>'));
        current.push(c);
        i += 1;
    }
    let trailing_semicolon = connector == Connector::Always && !parts.is_empty() && current.trim().is_empty();
    if !trailing_semicolon {
        if current.trim().is_empty() && !parts.is_empty() {
            return Err(ParseError::Syntax(format!(
                "syntax error: `{}' needs a command after it",
                if connector == Connector::IfOk { "&&" } else { "||" }
            )));
        }
        parts.push((connector, current));
    }
    Ok(parts)
}

const OP_PIPE: &str = "\0|\0";
const OP_IN: &str = "\0<\0";
const OP_OUT: &str = "\0>\0";
const OP_APPEND: &str = "\0>>\0";

/// Expands variables, splits into words and builds the pipeline.
pub fn parse(line: &str, vars: &BTreeMap<String, String>) -> Result<Pipeline, ParseError> {
    let expanded = expand(line, vars)?;
    let words = shell_words::split(&expanded).map_err(|e| ParseError::Syntax(e.to_string()))?;
    let mut p = Pipeline::default();
    let mut stage: Vec<String> = Vec::new();
    let mut it = words.into_iter();
    let near = |op: &str| ParseError::Syntax(format!("syntax error near `{}'", op.trim_matches('\0')));
    while let Some(w) = it.next() {
        match w.as_str() {
            OP_PIPE => {
                if stage.is_empty() || p.stdout.is_some() {
                    return Err(near(OP_PIPE));
                }
                p.stages.push(std::mem::take(&mut stage));
            }
            OP_IN | OP_OUT | OP_APPEND => {
                let Some(target) = it.next().filter(|t| !t.starts_with('\0')) else {
                    return Err(ParseError::Syntax(format!("{} needs a file name", w.trim_matches('\0'))));
                };
                if w == OP_IN {
                    if !p.stages.is_empty() || p.stdin.is_some() {
                        return Err(ParseError::Unsupported("input redirection other than into the first command"));
                    }
                    p.stdin = Some(target);
                } else {
                    if p.stdout.is_some() {
                        return Err(ParseError::Unsupported("more than one output redirection"));
                    }
                    p.stdout = Some(Redirect { path: target, append: w == OP_APPEND });
                }
            }
            // Words may follow a redirection (`cmd > f arg`), as in POSIX.
            _ => stage.push(w),
        }
    }
    if stage.is_empty() {
        if !p.stages.is_empty() {
            return Err(near(OP_PIPE));
        }
        if p.stdin.is_some() || p.stdout.is_some() {
            return Err(ParseError::Syntax("a redirection needs a command".into()));
        }
        return Ok(p);
    }
    p.stages.push(stage);
    Ok(p)
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
}

fn expand(line: &str, vars: &BTreeMap<String, String>) -> Result<String, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut q = Quote::None;
    let mut i = 0;
    let mut word_start = true; // `#` starts a comment only at a word start
    while i < chars.len() {
        let c = chars[i];
        match (q, c) {
            (Quote::Single, '\'') => q = Quote::None,
            (Quote::Single, _) => {}
            (Quote::None, '\'') => q = Quote::Single,
            (Quote::None, '"') => q = Quote::Double,
            (Quote::Double, '"') => q = Quote::None,
            (Quote::None | Quote::Double, '\\') => {
                out.push(c);
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
                i += 1;
                word_start = false;
                continue;
            }
            (Quote::None, '#') if word_start => {
                // A comment: keep it for shell-words, which drops it.
                out.extend(&chars[i..]);
                return Ok(out);
            }
            (Quote::None, ';' | '&') => {
                return Err(ParseError::Unsupported("command lists and background jobs (; & && ||)"));
            }
            (Quote::None, '|') => {
                if chars.get(i + 1) == Some(&'|') {
                    return Err(ParseError::Unsupported("command lists and background jobs (; & && ||)"));
                }
                out.push(' ');
                out.push_str(OP_PIPE);
                out.push(' ');
                i += 1;
                word_start = true;
                continue;
            }
            (Quote::None, '<' | '>') => {
                if c == '>' && !word_start && out.ends_with(|d: char| d.is_ascii_digit()) && {
                    let digits = out.chars().rev().take_while(|d| d.is_ascii_digit()).count();
                    out.chars().rev().nth(digits).is_none_or(char::is_whitespace)
                } {
                    return Err(ParseError::Unsupported("redirecting a numbered descriptor (2> and the like)"));
                }
                let append = c == '>' && chars.get(i + 1) == Some(&'>');
                if chars.get(i + 1) == Some(&'&') || (c == '<' && chars.get(i + 1) == Some(&'<')) {
                    return Err(ParseError::Unsupported("here-documents and descriptor duplication"));
                }
                out.push(' ');
                out.push_str(match (c, append) {
                    ('<', _) => OP_IN,
                    (_, true) => OP_APPEND,
                    _ => OP_OUT,
                });
                out.push(' ');
                i += if append { 2 } else { 1 };
                word_start = true;
                continue;
            }
            (Quote::None | Quote::Double, '`') => {
                return Err(ParseError::Unsupported("command substitution"));
            }
            (Quote::None | Quote::Double, '$') => {
                if let Some((name, used)) = var_name(&chars[i + 1..])? {
                    let value = vars.get(&name).map(String::as_str).unwrap_or("");
                    if q == Quote::Double {
                        for ch in value.chars() {
                            if matches!(ch, '"' | '\\' | '$' | '`') {
                                out.push('\\');
                            }
                            out.push(ch);
                        }
                    } else if !value.is_empty() {
                        // Unquoted: one word, never re-parsed. (An unquoted
                        // expansion to nothing is no word at all.)
                        out.push_str(&shell_words::quote(value));
                    }
                    i += 1 + used;
                    word_start = false;
                    continue;
                }
            }
            _ => {}
        }
        word_start = q == Quote::None && c.is_whitespace();
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// After a `$`: the variable name and how many chars it used, or None when the
/// `$` is literal (end of line, or not followed by a name).
fn var_name(rest: &[char]) -> Result<Option<(String, usize)>, ParseError> {
    match rest.first() {
        Some('{') => {
            let end = rest.iter().position(|&c| c == '}').ok_or_else(|| ParseError::Syntax("missing closing }".into()))?;
            let name: String = rest[1..end].iter().collect();
            if !is_name(&name) {
                return Err(ParseError::Syntax(format!("bad substitution: ${{{name}}}")));
            }
            Ok(Some((name, end + 1)))
        }
        Some('(') => Err(ParseError::Unsupported("command substitution")),
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let n = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').count();
            Ok(Some((rest[..n].iter().collect(), n)))
        }
        _ => Ok(None),
    }
}

pub fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("A", "x y"), ("Q", "it's \"q\" $B"), ("E", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn p(line: &str) -> Result<Vec<String>, ParseError> {
        let pl = parse(line, &vars())?;
        Ok(match pl.simple() {
            Some(argv) => argv.to_vec(),
            None if pl.is_empty() => Vec::new(),
            None => panic!("not a simple command: {pl:?}"),
        })
    }

    fn pl(line: &str) -> Result<Pipeline, ParseError> {
        parse(line, &vars())
    }

    #[test]
    fn splits_with_posix_quoting() {
        assert_eq!(p(r#"echo 'a b' "c d" e\ f"#).unwrap(), ["echo", "a b", "c d", "e f"]);
        assert_eq!(p("   ").unwrap(), Vec::<String>::new());
        assert_eq!(p("# only a comment").unwrap(), Vec::<String>::new());
        assert_eq!(p("echo a#b").unwrap(), ["echo", "a#b"]);
    }

    #[test]
    fn expands_variables_as_single_words() {
        assert_eq!(p("echo $A").unwrap(), ["echo", "x y"]);
        assert_eq!(p("echo \"[$A]\" '${A}'").unwrap(), ["echo", "[x y]", "${A}"]);
        assert_eq!(p("echo ${Q}").unwrap(), ["echo", "it's \"q\" $B"]);
        assert_eq!(p("echo \"$Q\"").unwrap(), ["echo", "it's \"q\" $B"]);
        assert_eq!(p("echo $MISSING end").unwrap(), ["echo", "end"]);
        assert_eq!(p("echo cost: 5$").unwrap(), ["echo", "cost:", "5$"]);
    }

    #[test]
    fn rejects_unbalanced_quotes_and_unsupported_syntax() {
        assert!(matches!(p("echo 'open"), Err(ParseError::Syntax(_))));
        assert!(matches!(p("echo \"open"), Err(ParseError::Syntax(_))));
        assert!(matches!(p("echo ${A"), Err(ParseError::Syntax(_))));
        assert!(matches!(pl("ls; wc"), Err(ParseError::Unsupported(_))));
        assert!(matches!(pl("ls && wc"), Err(ParseError::Unsupported(_))));
        assert!(matches!(pl("ls || wc"), Err(ParseError::Unsupported(_))));
        assert!(matches!(pl("ls 2> err"), Err(ParseError::Unsupported(_))));
        assert!(matches!(pl("ls >&2"), Err(ParseError::Unsupported(_))));
        assert!(matches!(pl("cat <<EOF"), Err(ParseError::Unsupported(_))));
        assert!(matches!(p("echo $(id)"), Err(ParseError::Unsupported(_))));
        for bad in ["| wc", "ls |", "ls | | wc", "echo >", "> f", "ls > f | wc"] {
            assert!(matches!(pl(bad), Err(ParseError::Syntax(_))), "{bad}");
        }
        // Quoted, the same characters are plain text.
        assert_eq!(p("echo 'a|b' \"c>d\"").unwrap(), ["echo", "a|b", "c>d"]);
    }

    #[test]
    fn command_lists_split_outside_quotes() {
        use Connector::*;
        let l = split_list("cd d && ls; echo 'a;b' \"&&\" || false ; ").unwrap();
        let got: Vec<(Connector, &str)> = l.iter().map(|(c, t)| (*c, t.trim())).collect();
        assert_eq!(got, [(Always, "cd d"), (IfOk, "ls"), (Always, "echo 'a;b' \"&&\""), (IfFailed, "false")]);
        assert_eq!(split_list("echo a # b; c").unwrap().len(), 1, "a comment hides the rest");
        assert_eq!(split_list("echo a\\;b").unwrap().len(), 1, "an escaped ; is text");
        assert_eq!(split_list("ls | wc").unwrap().len(), 1);
        for bad in ["; ls", "ls ;; ls", "ls &&", "&& ls", "ls || ", "a && ; b"] {
            assert!(matches!(split_list(bad), Err(ParseError::Syntax(_))), "{bad}");
        }
        assert!(matches!(split_list("sleep 1 &"), Err(ParseError::Unsupported(_))));
    }

    #[test]
    fn pipelines_and_redirections() {
        let x = pl("sort < in.txt | uniq -c|head -n 3 >> 'out file'").unwrap();
        assert_eq!(x.stages, [vec!["sort"], vec!["uniq", "-c"], vec!["head", "-n", "3"]]);
        assert_eq!(x.stdin.as_deref(), Some("in.txt"));
        assert_eq!(x.stdout, Some(Redirect { path: "out file".into(), append: true }));
        let y = pl("echo $A>f").unwrap();
        assert_eq!((y.stages[0].clone(), y.stdout.unwrap().path), (vec!["echo".to_string(), "x y".into()], "f".into()));
        assert_eq!(pl("echo a2>f").unwrap().stages[0], ["echo", "a2"], "a digit inside a word is not a descriptor");
        assert_eq!(pl("ls | wc").unwrap().words(), ["ls", "|", "wc"]);
    }
}
