//! Turning a command line into argv: `$NAME` / `${NAME}` expansion from the
//! session's variables, then POSIX word splitting by `shell-words`.
//!
//! Expansion respects quoting (nothing expands inside single quotes) and the
//! expanded value is re-quoted before splitting, so a value is always one
//! word and never re-parsed as syntax. Pipes, redirections, command lists and
//! substitutions are not supported yet: an unquoted `| ; & < >`, `` ` `` or
//! `$(` is rejected with a clear message rather than passed on as text.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
}

/// Expands variables and splits into words. An empty result means the line
/// held nothing to run (blank or a comment).
pub fn parse(line: &str, vars: &BTreeMap<String, String>) -> Result<Vec<String>, ParseError> {
    let expanded = expand(line, vars)?;
    shell_words::split(&expanded).map_err(|e| ParseError::Syntax(e.to_string()))
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
            (Quote::None, '|' | ';' | '&' | '<' | '>') => {
                return Err(ParseError::Unsupported("pipes, redirections and command lists (| ; & < >)"));
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
        assert!(matches!(p("ls | wc"), Err(ParseError::Unsupported(_))));
        assert!(matches!(p("echo hi > f"), Err(ParseError::Unsupported(_))));
        assert!(matches!(p("echo $(id)"), Err(ParseError::Unsupported(_))));
        // Quoted, the same characters are plain text.
        assert_eq!(p("echo 'a|b' \"c>d\"").unwrap(), ["echo", "a|b", "c>d"]);
    }
}
