//! Shell patterns (POSIX 2.13): `*`, `?`, bracket expressions, and quoted
//! characters that match only themselves. Used by pathname expansion,
//! `case` and the `#`/`%` parameter expansions. Matching is over chars, in
//! the locale-independent order of code points.

/// One element of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pat {
    Lit(char),
    Any,
    Star,
    /// A bracket expression: negated, then items (a single char or a range).
    Class(bool, Vec<(char, char)>),
}

/// Compiles `text`, where `quoted[i]` says the i-th char was quoted (and so
/// is literal). Returns None when nothing in it is special.
pub fn compile(text: &[char], quoted: &[bool]) -> Vec<Pat> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if quoted[i] {
            out.push(Pat::Lit(c));
            i += 1;
            continue;
        }
        match c {
            '*' => out.push(Pat::Star),
            '?' => out.push(Pat::Any),
            '\\' if i + 1 < text.len() => {
                out.push(Pat::Lit(text[i + 1]));
                i += 1;
            }
            '[' => match class(text, quoted, i) {
                Some((p, next)) => {
                    out.push(p);
                    i = next;
                    continue;
                }
                None => out.push(Pat::Lit('[')),
            },
            c => out.push(Pat::Lit(c)),
        }
        i += 1;
    }
    out
}

fn class(text: &[char], quoted: &[bool], start: usize) -> Option<(Pat, usize)> {
    let mut i = start + 1;
    let mut neg = false;
    if i < text.len() && !quoted[i] && (text[i] == '!' || text[i] == '^') {
        neg = true;
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    while i < text.len() {
        let c = text[i];
        if c == ']' && !quoted[i] && !first {
            return Some((Pat::Class(neg, items), i + 1));
        }
        first = false;
        // [:class:]
        if c == '[' && !quoted[i] && i + 1 < text.len() && text[i + 1] == ':' {
            if let Some(end) = (i + 2..text.len().saturating_sub(1)).find(|&j| text[j] == ':' && text[j + 1] == ']') {
                let name: String = text[i + 2..end].iter().collect();
                for r in named_class(&name) {
                    items.push(r);
                }
                i = end + 2;
                continue;
            }
        }
        let lo = c;
        if i + 2 < text.len() && text[i + 1] == '-' && !(text[i + 2] == ']' && !quoted[i + 2]) {
            items.push((lo, text[i + 2]));
            i += 3;
        } else {
            items.push((lo, lo));
            i += 1;
        }
    }
    None
}

fn named_class(name: &str) -> Vec<(char, char)> {
    match name {
        "alpha" => vec![('a', 'z'), ('A', 'Z')],
        "digit" => vec![('0', '9')],
        "alnum" => vec![('a', 'z'), ('A', 'Z'), ('0', '9')],
        "upper" => vec![('A', 'Z')],
        "lower" => vec![('a', 'z')],
        "space" => vec![(' ', ' '), ('\t', '\r')],
        "blank" => vec![(' ', ' '), ('\t', '\t')],
        "punct" => vec![('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "xdigit" => vec![('0', '9'), ('a', 'f'), ('A', 'F')],
        "cntrl" => vec![('\0', '\x1f'), ('\x7f', '\x7f')],
        "print" => vec![(' ', '~')],
        "graph" => vec![('!', '~')],
        _ => vec![],
    }
}

/// Whether the pattern has anything that is not a literal.
pub fn is_special(p: &[Pat]) -> bool {
    p.iter().any(|x| !matches!(x, Pat::Lit(_)))
}

fn one(p: &Pat, c: char) -> bool {
    match p {
        Pat::Lit(l) => *l == c,
        Pat::Any => true,
        Pat::Class(neg, items) => items.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *neg,
        Pat::Star => true,
    }
}

/// Whether `s` matches the whole pattern (iterative, with one star
/// backtrack point: linear in practice, never exponential).
pub fn matches(p: &[Pat], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == Pat::Star {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && one(&p[pi], s[si]) {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == Pat::Star {
        pi += 1;
    }
    pi == p.len()
}

pub fn matches_str(p: &[Pat], s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    matches(p, &chars)
}

/// `${x#p}` (`longest` false) and `${x##p}`: `s` without its matching prefix.
pub fn strip_prefix(p: &[Pat], s: &str, longest: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let range: Box<dyn Iterator<Item = usize>> = if longest { Box::new((0..=chars.len()).rev()) } else { Box::new(0..=chars.len()) };
    for n in range {
        if matches(p, &chars[..n]) {
            return chars[n..].iter().collect();
        }
    }
    s.to_string()
}

/// `${x%p}` and `${x%%p}`: `s` without its matching suffix.
pub fn strip_suffix(p: &[Pat], s: &str, longest: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let range: Box<dyn Iterator<Item = usize>> = if longest { Box::new(0..=chars.len()) } else { Box::new((0..=chars.len()).rev()) };
    for n in range {
        if matches(p, &chars[n..]) {
            return chars[..n].iter().collect();
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> Vec<Pat> {
        let c: Vec<char> = s.chars().collect();
        compile(&c, &vec![false; c.len()])
    }

    #[test]
    fn stars_questions_and_classes() {
        assert!(matches_str(&pat("*.txt"), "a.txt"));
        assert!(!matches_str(&pat("*.txt"), "a.txt.gz"));
        assert!(matches_str(&pat("a?c"), "abc"));
        assert!(matches_str(&pat("[a-c]x"), "bx"));
        assert!(!matches_str(&pat("[!a-c]x"), "bx"));
        assert!(matches_str(&pat("[]]"), "]"));
        assert!(matches_str(&pat("[[:digit:]]*"), "7up"));
        assert!(!matches_str(&pat("*a*a*a*a*a*a*a*b"), &"a".repeat(5000)));
    }

    #[test]
    fn quoted_characters_are_literal() {
        let c: Vec<char> = "*x".chars().collect();
        let p = compile(&c, &[true, false]);
        assert!(matches_str(&p, "*x"));
        assert!(!matches_str(&p, "ax"));
    }

    #[test]
    fn prefixes_and_suffixes() {
        assert_eq!(strip_prefix(&pat("*/"), "a/b/c", false), "b/c");
        assert_eq!(strip_prefix(&pat("*/"), "a/b/c", true), "c");
        assert_eq!(strip_suffix(&pat(".*"), "f.tar.gz", false), "f.tar");
        assert_eq!(strip_suffix(&pat(".*"), "f.tar.gz", true), "f");
        assert_eq!(strip_suffix(&pat("x"), "abc", true), "abc");
    }
}
