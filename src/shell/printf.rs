//! The `printf` and `echo` builtins as dash 0.5.12 (Debian's /bin/sh)
//! implements them, with glibc's formatting of the conversions.
//!
//! [`printf`] takes the format and the arguments after it (the caller has
//! dealt with the command name; [`printf_builtin`] also handles dash's
//! option parsing: `--`, and `-x` being an illegal option). Its behaviour,
//! each point checked against /bin/dash:
//!
//! - the format is reused while arguments remain, if a pass consumed any;
//!   missing arguments are the empty string for `%s %b`, 0 for numbers, and
//!   a NUL byte for `%c` (`printf '%c'` writes one NUL byte);
//! - conversions `d i o u x X c s b e E f F g G a A` and `%%`; flags
//!   `- + space # 0`, width and precision, each possibly `*` (taken from the
//!   next argument as an integer; a negative width left-justifies, a
//!   negative precision is none). No length modifiers and no `%n$`: those,
//!   and any other character after `%`, are "invalid directive", which ends
//!   printf with status 2 (what was printed before stays printed);
//! - escapes in the format: `\\ \a \b \e \f \n \r \t \v` and `\NNN` (one
//!   to three octal digits, the value taken modulo 256); any other `\x` is
//!   printed as is, `\c` included;
//! - `%b` interprets its argument's escapes as `echo` does: the same set,
//!   with octal written `\0NNN` (or `\NNN`), and `\c` ending all output
//!   of printf at once;
//! - numeric arguments as C's strtoimax/strtoumax with base 0 (leading
//!   blanks, a sign, `0x` hex, `0` octal), or `'c` / `"c` for the code of
//!   the byte after the quote; `%o %u %x %X` take negative numbers modulo
//!   2^64; floating-point ones as strtod (`inf`, `nan`, hex floats). An
//!   argument that is not (completely) a number is reported ("X: expected
//!   numeric value", "X: not completely converted", "X: Numerical result
//!   out of range"), the value converted so far is printed, the output
//!   goes on, and the status is 1. An empty argument is 0 without a
//!   complaint.
//!
//! Error messages have no prefix: the interpreter prints them as
//! `pg_shell: printf: <msg>`. Output is bytes (`%c` of a multibyte
//! character is its first byte, as in dash).
//!
//! One limit of our own: a field width or precision above
//! [`MAX_FIELD`] is refused ("field width too large", status 1, the
//! conversion skipped) instead of writing gigabytes.

/// What a `printf` (or `echo`) run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Printed {
    pub out: Vec<u8>,
    /// Messages for stderr, in order, without a prefix.
    pub errors: Vec<String>,
    /// 0; 1 if an argument was not a valid number; 2 for a bad format.
    pub status: i32,
}

/// The largest field width or precision accepted.
pub const MAX_FIELD: i64 = 1 << 20;

/// `printf` with its arguments after the command name, options included:
/// as dash, a first argument `--` is skipped, and any other first argument
/// that starts with `-` and is longer than `-` is an illegal option.
pub fn printf_builtin(args: &[String]) -> Printed {
    let mut args = args;
    if let Some(first) = args.first() {
        if first == "--" {
            args = &args[1..];
        } else if first.len() > 1 && first.starts_with('-') {
            let opt = first[1..].chars().next().unwrap_or('-');
            return Printed { out: Vec::new(), errors: vec![format!("Illegal option -{opt}")], status: 2 };
        }
    }
    match args.split_first() {
        None => Printed { out: Vec::new(), errors: vec!["usage: printf format [arg ...]".into()], status: 2 },
        Some((format, rest)) => printf(format, rest),
    }
}

/// `printf FORMAT ARGS...` as dash does it.
pub fn printf(format: &str, args: &[String]) -> Printed {
    let mut p = Printer { args, next: 0, out: Vec::new(), errors: Vec::new(), status: 0 };
    let fmt = format.as_bytes();
    loop {
        match p.one_pass(fmt) {
            Pass::Done => {}
            Pass::Stop => break,
            Pass::Fatal(msg) => {
                p.errors.push(msg);
                p.status = 2;
                break;
            }
        }
        if p.next == 0 || p.next >= args.len() {
            break;
        }
    }
    Printed { out: p.out, errors: p.errors, status: p.status }
}

/// dash's `echo`: `-n` as the first argument (exactly) suppresses the
/// newline; no other options (`-e`, `-E`, `--` are printed); the arguments
/// are joined by spaces and their escapes interpreted as `%b` does, `\c`
/// ending the output there (no newline either).
pub fn echo(args: &[String]) -> Vec<u8> {
    let (newline, args) = match args.first() {
        Some(a) if a == "-n" => (false, &args[1..]),
        _ => (true, args),
    };
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if escape_string(a.as_bytes(), &mut out) {
            return out;
        }
    }
    if newline {
        out.push(b'\n');
    }
    out
}

enum Pass {
    /// The format was used up.
    Done,
    /// `\c` in a `%b` argument: no more output at all.
    Stop,
    /// A bad format: stop with status 2.
    Fatal(String),
}

struct Printer<'a> {
    args: &'a [String],
    next: usize,
    out: Vec<u8>,
    errors: Vec<String>,
    status: i32,
}

#[derive(Clone, Copy, Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

fn is_octal(b: u8) -> bool {
    (b'0'..=b'7').contains(&b)
}

/// One escape of the format (after the backslash): the byte it stands for
/// and how many bytes of `s` it used.
fn format_escape(s: &[u8]) -> (u8, usize) {
    let Some(&c) = s.first() else { return (b'\\', 0) };
    let simple = match c {
        b'\\' => Some(b'\\'),
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'e' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(b) = simple {
        return (b, 1);
    }
    if is_octal(c) {
        let mut value: u32 = 0;
        let mut n = 0;
        while n < 3 && n < s.len() && is_octal(s[n]) {
            value = value * 8 + (s[n] - b'0') as u32;
            n += 1;
        }
        return (value as u8, n);
    }
    // Not an escape: the backslash stands for itself.
    (b'\\', 0)
}

/// Interprets `%b`/`echo` escapes of `s` into `out`; true if `\c` ended it.
fn escape_string(s: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        if s.get(i) == Some(&b'c') {
            return true;
        }
        // `\0NNN`: the 0 introduces up to three octal digits.
        if s.get(i) == Some(&b'0') && s.get(i + 1).is_some_and(|&d| is_octal(d)) {
            i += 1;
        }
        let (b, used) = format_escape(&s[i..]);
        out.push(b);
        i += used;
    }
    false
}

impl Printer<'_> {
    fn warn(&mut self, msg: String) {
        self.errors.push(msg);
        self.status = 1;
    }

    fn take(&mut self) -> Option<&str> {
        let a = self.args.get(self.next)?;
        self.next += 1;
        Some(a)
    }

    fn signed_arg(&mut self) -> i64 {
        let Some(a) = self.take() else { return 0 };
        if let Some(v) = quoted_char(a) {
            return v as i64;
        }
        let a = a.to_string();
        let (v, end, range) = strtoint(a.as_bytes(), true);
        self.check(&a, end, range);
        v as i64
    }

    fn unsigned_arg(&mut self) -> u64 {
        let Some(a) = self.take() else { return 0 };
        if let Some(v) = quoted_char(a) {
            return v as u64;
        }
        let a = a.to_string();
        let (v, end, range) = strtoint(a.as_bytes(), false);
        self.check(&a, end, range);
        v
    }

    fn float_arg(&mut self) -> f64 {
        let Some(a) = self.take() else { return 0.0 };
        if let Some(v) = quoted_char(a) {
            return v as f64;
        }
        let a = a.to_string();
        let (v, end, range) = strtod(a.as_bytes());
        self.check(&a, end, range);
        v
    }

    fn check(&mut self, arg: &str, end: usize, out_of_range: bool) {
        if end < arg.len() {
            if end == 0 {
                self.warn(format!("{arg}: expected numeric value"));
            } else {
                self.warn(format!("{arg}: not completely converted"));
            }
        } else if out_of_range {
            self.warn(format!("{arg}: Numerical result out of range"));
        }
    }

    fn one_pass(&mut self, fmt: &[u8]) -> Pass {
        let mut i = 0;
        while i < fmt.len() {
            let c = fmt[i];
            i += 1;
            if c == b'\\' {
                let (b, used) = format_escape(&fmt[i..]);
                self.out.push(b);
                i += used;
                continue;
            }
            if c != b'%' {
                self.out.push(c);
                continue;
            }
            if fmt.get(i) == Some(&b'%') {
                self.out.push(b'%');
                i += 1;
                continue;
            }
            let start = i - 1;
            let mut spec = Spec::default();
            while let Some(&f) = fmt.get(i) {
                match f {
                    b'-' => spec.left = true,
                    b'+' => spec.plus = true,
                    b' ' => spec.space = true,
                    b'#' => spec.alt = true,
                    b'0' => spec.zero = true,
                    _ => break,
                }
                i += 1;
            }
            let mut too_large = false;
            if fmt.get(i) == Some(&b'*') {
                i += 1;
                // C's int: the argument truncated to 32 bits.
                let w = self.signed_arg() as i32 as i64;
                if w < 0 {
                    spec.left = true;
                }
                too_large |= w.abs() > MAX_FIELD;
                spec.width = w.unsigned_abs().min(MAX_FIELD as u64) as usize;
            } else {
                let (n, used) = digits(&fmt[i..]);
                i += used;
                too_large |= n > MAX_FIELD;
                spec.width = n.min(MAX_FIELD) as usize;
            }
            if fmt.get(i) == Some(&b'.') {
                i += 1;
                if fmt.get(i) == Some(&b'*') {
                    i += 1;
                    let p = self.signed_arg() as i32 as i64;
                    too_large |= p > MAX_FIELD;
                    spec.precision = (p >= 0).then(|| p.min(MAX_FIELD) as usize);
                } else {
                    let (n, used) = digits(&fmt[i..]);
                    i += used;
                    too_large |= n > MAX_FIELD;
                    spec.precision = Some(n.min(MAX_FIELD) as usize);
                }
            }
            let Some(&conv) = fmt.get(i) else {
                return Pass::Fatal("missing format character".into());
            };
            i += 1;
            let text = String::from_utf8_lossy(&fmt[start..i]).into_owned();
            let field = match conv {
                _ if too_large && b"scdiouxXeEfFgGaA".contains(&conv) => {
                    self.take();
                    None
                }
                b'b' => {
                    let arg = self.take().unwrap_or("").as_bytes().to_vec();
                    let mut s = Vec::new();
                    let stop = escape_string(&arg, &mut s);
                    if !too_large {
                        pad_bytes(&mut self.out, &spec, truncate(&s, spec.precision));
                    }
                    if stop {
                        return Pass::Stop;
                    }
                    None
                }
                b's' => {
                    let arg = self.take().unwrap_or("").as_bytes().to_vec();
                    Some(pad(&spec, truncate(&arg, spec.precision).to_vec()))
                }
                b'c' => {
                    let b = self.take().and_then(|a| a.as_bytes().first().copied()).unwrap_or(0);
                    Some(pad(&spec, vec![b]))
                }
                b'd' | b'i' => {
                    let v = self.signed_arg();
                    Some(format_int(&spec, conv, v < 0, v.unsigned_abs()))
                }
                b'o' | b'u' | b'x' | b'X' => {
                    let v = self.unsigned_arg();
                    Some(format_int(&spec, conv, false, v))
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => {
                    let v = self.float_arg();
                    Some(format_float(&spec, conv, v))
                }
                _ => return Pass::Fatal(format!("{text}: invalid directive")),
            };
            if too_large {
                self.warn(format!("{text}: field width too large"));
            }
            if let Some(f) = field {
                self.out.extend_from_slice(&f);
            }
        }
        Pass::Done
    }
}

/// The code of the byte after a leading `'` or `"` (0 if there is none).
fn quoted_char(a: &str) -> Option<u8> {
    let b = a.as_bytes();
    match b.first() {
        Some(b'\'' | b'"') => Some(b.get(1).copied().unwrap_or(0)),
        _ => None,
    }
}

/// A run of decimal digits: its value (saturating) and length.
fn digits(s: &[u8]) -> (i64, usize) {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let v = s[..n].iter().fold(0i64, |acc, &d| acc.saturating_mul(10).saturating_add((d - b'0') as i64));
    (v, n)
}

fn truncate(s: &[u8], precision: Option<usize>) -> &[u8] {
    match precision {
        Some(p) if p < s.len() => &s[..p],
        _ => s,
    }
}

/// Pads `body` with spaces to the width (`0` is ignored for strings, as
/// glibc does).
fn pad(spec: &Spec, body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len().max(spec.width));
    pad_bytes(&mut out, spec, &body);
    out
}

fn pad_bytes(out: &mut Vec<u8>, spec: &Spec, body: &[u8]) {
    let fill = spec.width.saturating_sub(body.len());
    if !spec.left {
        out.resize(out.len() + fill, b' ');
    }
    out.extend_from_slice(body);
    if spec.left {
        out.resize(out.len() + fill, b' ');
    }
}

/// Lays out sign/prefix, digits and padding as C's printf does: zeros
/// between the prefix and the digits when `0` applies, spaces otherwise.
fn assemble(spec: &Spec, prefix: &[u8], body: &[u8], zero_pad: bool) -> Vec<u8> {
    let len = prefix.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    let mut out = Vec::with_capacity(len + fill);
    if spec.left {
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
        out.resize(out.len() + fill, b' ');
    } else if zero_pad {
        out.extend_from_slice(prefix);
        out.resize(out.len() + fill, b'0');
        out.extend_from_slice(body);
    } else {
        out.resize(fill, b' ');
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
    }
    out
}

fn format_int(spec: &Spec, conv: u8, negative: bool, magnitude: u64) -> Vec<u8> {
    let mut digits = match conv {
        b'o' => format!("{magnitude:o}"),
        b'x' => format!("{magnitude:x}"),
        b'X' => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    }
    .into_bytes();
    if let Some(p) = spec.precision {
        if p == 0 && magnitude == 0 {
            digits.clear();
        }
        if digits.len() < p {
            let mut z = vec![b'0'; p - digits.len()];
            z.extend_from_slice(&digits);
            digits = z;
        }
    }
    let mut prefix: Vec<u8> = Vec::new();
    match conv {
        b'd' | b'i' => {
            if negative {
                prefix.push(b'-');
            } else if spec.plus {
                prefix.push(b'+');
            } else if spec.space {
                prefix.push(b' ');
            }
        }
        b'o' if spec.alt && digits.first() != Some(&b'0') => digits.insert(0, b'0'),
        b'x' if spec.alt && magnitude != 0 => prefix.extend_from_slice(b"0x"),
        b'X' if spec.alt && magnitude != 0 => prefix.extend_from_slice(b"0X"),
        _ => {}
    }
    assemble(spec, &prefix, &digits, spec.zero && spec.precision.is_none())
}

/// `d.ddde±XX` for `v >= 0` with `prec` digits after the point.
/// Digits past these are zeros for every f64 (its exact expansion has at
/// most 767 significant digits and 1074 after the point); Rust's
/// formatting takes at most 65535.
const EXACT_E: usize = 800;
const EXACT_F: usize = 1100;

fn exp_form(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    let s = format!("{v:.p$e}", p = prec.min(EXACT_E));
    let (mantissa, exp) = s.split_once('e').expect("an exponent");
    let exp: i32 = exp.parse().expect("a number");
    let mut m = mantissa.to_string();
    m.extend(std::iter::repeat_n('0', prec.saturating_sub(EXACT_E)));
    if alt && prec == 0 {
        m.push('.');
    }
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{m}{e}{sign}{:02}", exp.unsigned_abs())
}

fn fixed_form(v: f64, prec: usize, alt: bool) -> String {
    let mut s = format!("{v:.p$}", p = prec.min(EXACT_F));
    s.extend(std::iter::repeat_n('0', prec.saturating_sub(EXACT_F)));
    if alt && prec == 0 {
        s.push('.');
    }
    s
}

/// `%g`: the shorter of `%e`/`%f` by C's rule, trailing zeros removed
/// unless `#`.
fn general_form(v: f64, prec: Option<usize>, alt: bool, upper: bool) -> String {
    let p = match prec {
        None => 6,
        Some(0) => 1,
        Some(p) => p,
    };
    let x: i64 = if v == 0.0 {
        0
    } else {
        let s = format!("{v:.prec$e}", prec = (p - 1).min(EXACT_E));
        s.split_once('e').unwrap().1.parse().unwrap()
    };
    let mut s = if (p as i64) > x && x >= -4 {
        fixed_form(v, (p as i64 - 1 - x) as usize, alt)
    } else {
        exp_form(v, p - 1, alt, upper)
    };
    if !alt {
        let (body, exp) = match s.find(['e', 'E']) {
            Some(k) => (s[..k].to_string(), s[k..].to_string()),
            None => (s.clone(), String::new()),
        };
        if body.contains('.') {
            let trimmed = body.trim_end_matches('0').trim_end_matches('.');
            s = format!("{trimmed}{exp}");
        }
    }
    s
}

/// `%a`: glibc's hexadecimal form, `0x1.8p+1`; subnormals as
/// `0x0.xxxp-1022`; with a precision, rounded to nearest, ties to even.
fn hex_form(v: f64, prec: Option<usize>, alt: bool, upper: bool) -> String {
    let bits = v.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut lead, exp) = if raw_exp == 0 { (0u64, if frac == 0 { 0 } else { -1022 }) } else { (1u64, raw_exp - 1023) };
    // 13 hex digits of fraction.
    let mut digits = format!("{frac:013x}");
    match prec {
        None => {
            let t = digits.trim_end_matches('0').len();
            digits.truncate(t);
        }
        Some(p) if p < 13 => {
            let drop = (13 - p) * 4;
            let kept = frac >> drop;
            let rest = frac & ((1u64 << drop) - 1);
            let half = 1u64 << (drop - 1);
            let mut kept = kept;
            if rest > half || (rest == half && (if p == 0 { lead } else { kept }) & 1 == 1) {
                kept += 1;
                if kept >> (p * 4) != 0 {
                    kept = 0;
                    lead += 1;
                }
            }
            digits = if p == 0 { String::new() } else { format!("{kept:0width$x}", width = p) };
        }
        Some(p) => digits.push_str(&"0".repeat(p - 13)),
    }
    let point = if digits.is_empty() && !alt { "" } else { "." };
    let sign = if exp < 0 { '-' } else { '+' };
    let s = format!("0x{lead}{point}{digits}p{sign}{}", exp.unsigned_abs());
    if upper {
        s.to_uppercase()
    } else {
        s
    }
}

fn format_float(spec: &Spec, conv: u8, v: f64) -> Vec<u8> {
    let upper = conv.is_ascii_uppercase();
    let sign: &[u8] = if v.is_sign_negative() {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    };
    let a = v.abs();
    if !a.is_finite() {
        let body = match (a.is_nan(), upper) {
            (true, false) => "nan",
            (true, true) => "NAN",
            (false, false) => "inf",
            (false, true) => "INF",
        };
        return assemble(spec, sign, body.as_bytes(), false);
    }
    let body = match conv {
        b'f' | b'F' => fixed_form(a, spec.precision.unwrap_or(6), spec.alt),
        b'e' | b'E' => exp_form(a, spec.precision.unwrap_or(6), spec.alt, upper),
        b'g' | b'G' => general_form(a, spec.precision, spec.alt, upper),
        _ => {
            let h = hex_form(a, spec.precision, spec.alt, upper);
            // The zeros of `%010a` go after the 0x.
            let mut prefix = sign.to_vec();
            prefix.extend_from_slice(&h.as_bytes()[..2]);
            return assemble(spec, &prefix, &h.as_bytes()[2..], spec.zero);
        }
    };
    assemble(spec, sign, body.as_bytes(), spec.zero)
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's strtoimax (`signed`) or strtoumax with base 0: the value (as the
/// bits of a u64), where parsing stopped (0 if no number was found), and
/// whether it overflowed (the value is then clamped as C clamps it).
fn strtoint(s: &[u8], signed: bool) -> (u64, usize, bool) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let (radix, start) = if s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(|b| b.is_ascii_hexdigit())
    {
        (16u32, i + 2)
    } else if s.get(i) == Some(&b'0') {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = start;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(j).and_then(|&b| (b as char).to_digit(radix)) {
        match magnitude.checked_mul(radix as u64).and_then(|m| m.checked_add(d as u64)) {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        j += 1;
    }
    if j == start {
        return (0, 0, false);
    }
    if signed {
        let limit = if negative { 1u64 << 63 } else { i64::MAX as u64 };
        if overflow || magnitude > limit {
            let clamped = if negative { i64::MIN } else { i64::MAX };
            return (clamped as u64, j, true);
        }
        let v = if negative { (magnitude as i64).wrapping_neg() } else { magnitude as i64 };
        (v as u64, j, false)
    } else {
        if overflow {
            return (u64::MAX, j, true);
        }
        (if negative { magnitude.wrapping_neg() } else { magnitude }, j, false)
    }
}

/// C's strtod: the value, where parsing stopped (0 if nothing was a
/// number) and whether the result is out of range (overflow to infinity,
/// or an inexact result below the normal range).
fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let signed = |v: f64| if negative { -v } else { v };
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().take(8).map(|b| b.to_ascii_lowercase()).collect();
    if lower.starts_with(b"inf") {
        let n = if lower.starts_with(b"infinity") { 8 } else { 3 };
        return (signed(f64::INFINITY), i + n, false);
    }
    if lower.starts_with(b"nan") {
        let mut j = i + 3;
        if s.get(j) == Some(&b'(') {
            let k = s[j + 1..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            if s.get(j + 1 + k) == Some(&b')') {
                j += k + 2;
            }
        }
        return (signed(f64::NAN), j, false);
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used, range)) = hex_float(&rest[2..]) {
            return (signed(v), i + 2 + used, range);
        }
    }
    // Decimal: digits, an optional point and digits, an optional exponent.
    let mut j = i;
    let int_digits = s[j..].iter().take_while(|b| b.is_ascii_digit()).count();
    j += int_digits;
    let mut frac_digits = 0;
    if s.get(j) == Some(&b'.') {
        frac_digits = s[j + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if int_digits + frac_digits > 0 {
            j += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return (0.0, 0, false);
    }
    if matches!(s.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let e = s[k..].iter().take_while(|b| b.is_ascii_digit()).count();
        if e > 0 {
            j = k + e;
        }
    }
    let text = std::str::from_utf8(&s[i..j]).expect("ascii");
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero_digits = s[i..j].iter().take_while(|b| !matches!(b, b'e' | b'E')).any(|b| (b'1'..=b'9').contains(b));
    let range = v.is_infinite() || (nonzero_digits && (v == 0.0 || v.is_subnormal()));
    (signed(v), j, range)
}

/// The part of a hex float after `0x`: `h.hhhp±d`. `None` when no hex digit
/// follows (strtod then reads just the `0`).
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut j = 0;
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut inexact = false;
    let mut seen_point = false;
    loop {
        match s.get(j) {
            Some(&b) if b.is_ascii_hexdigit() => {
                any = true;
                let d = (b as char).to_digit(16).unwrap() as u64;
                if mantissa >> 56 == 0 {
                    mantissa = mantissa * 16 + d;
                    if seen_point {
                        exp -= 4;
                    }
                } else {
                    inexact |= d != 0;
                    if !seen_point {
                        exp += 4;
                    }
                }
            }
            Some(b'.') if !seen_point => seen_point = true,
            _ => break,
        }
        j += 1;
    }
    if !any {
        return None;
    }
    if matches!(s.get(j), Some(b'p' | b'P')) {
        let mut k = j + 1;
        let mut eneg = false;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            eneg = s[k] == b'-';
            k += 1;
        }
        let n = s[k..].iter().take_while(|b| b.is_ascii_digit()).count();
        if n > 0 {
            let e = s[k..k + n].iter().fold(0i64, |a, &d| a.saturating_mul(10).saturating_add((d - b'0') as i64));
            exp = exp.saturating_add(if eneg { -e } else { e });
            j = k + n;
        }
    }
    if mantissa == 0 {
        return Some((0.0, j, false));
    }
    // Exact when the mantissa fits 53 bits after normalizing and the
    // scale stays in range; otherwise let the float operations round.
    let bits = 64 - mantissa.leading_zeros() as i64;
    let top = exp + bits; // value is in [2^(top-1), 2^top)
    let v = if top > 1100 {
        f64::INFINITY
    } else if top < -1100 {
        0.0
    } else {
        let m = mantissa as f64; // rounds to 53 bits
        inexact |= (m as u64) != mantissa;
        let mut v = m;
        let mut e = exp;
        // Scale in steps that cannot overflow or lose bits prematurely.
        while e > 0 {
            let step = e.min(1000);
            v *= 2f64.powi(step as i32);
            e -= step;
        }
        while e < 0 {
            let step = (-e).min(1000);
            let before = v;
            v /= 2f64.powi(step as i32);
            if v * 2f64.powi(step as i32) != before {
                inexact = true;
            }
            e += step;
        }
        v
    };
    let range = v.is_infinite() || ((v == 0.0 || v.is_subnormal()) && inexact);
    Some((v, j, range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|a| a.to_string()).collect()
    }

    /// `printf` with `argv[0]` as the format, the rest as arguments.
    fn run(argv: &[&str]) -> Printed {
        printf(argv[0], &s(&argv[1..]))
    }

    /// Each case: printf's arguments, dash's stdout, dash's messages
    /// (without `dash: 1: printf: `) and its status. Generated by running
    /// `dash -c 'printf "$@"' dash ARGS...` (dash 0.5.12-2, Debian 12).
    type Case = (&'static [&'static str], &'static [u8], &'static [&'static str], i32);
    #[rustfmt::skip]
    const DASH: &[Case] = &include!("printf_dash_cases.rs.in");

    #[test]
    fn matches_dash() {
        let mut failures = Vec::new();
        for (argv, out, errors, status) in DASH {
            let got = run(argv);
            let want =
                Printed { out: out.to_vec(), errors: errors.iter().map(|e| e.to_string()).collect(), status: *status };
            if got != want {
                failures.push(format!(
                    "{argv:?}\n  dash:  {:?} {:?} {}\n  ours:  {:?} {:?} {}",
                    String::from_utf8_lossy(&want.out),
                    want.errors,
                    want.status,
                    String::from_utf8_lossy(&got.out),
                    got.errors,
                    got.status
                ));
            }
        }
        assert!(failures.is_empty(), "{} of {} differ from dash:\n{}", failures.len(), DASH.len(), failures.join("\n"));
    }

    /// Each case: echo's arguments and dash's stdout, generated the same way
    /// (`dash -c 'echo "$@"' dash ARGS...`).
    #[rustfmt::skip]
    const ECHO: &[(&[&str], &[u8])] = &include!("echo_dash_cases.rs.in");

    #[test]
    fn echo_matches_dash() {
        for (argv, want) in ECHO {
            assert_eq!(echo(&s(argv)), want.to_vec(), "echo {argv:?}");
        }
    }

    #[test]
    fn builtin_options() {
        assert_eq!(printf_builtin(&s(&["--", "%s", "x"])).out, b"x");
        let p = printf_builtin(&s(&["-x"]));
        assert_eq!((p.errors, p.status), (vec!["Illegal option -x".to_string()], 2));
        let p = printf_builtin(&s(&[]));
        assert_eq!((p.errors, p.status), (vec!["usage: printf format [arg ...]".to_string()], 2));
        let p = printf_builtin(&s(&["--"]));
        assert_eq!(p.status, 2);
        assert_eq!(printf_builtin(&s(&["-"])).out, b"-");
    }

    #[test]
    fn huge_fields_are_refused() {
        let p = run(&["a%99999999sb", "x"]);
        assert!(p.out == b"ab", "{} bytes", p.out.len());
        assert_eq!((p.errors.len(), p.status), (1, 1));
        let p = run(&["%.*f|", "99999999", "1"]);
        assert!(p.out == b"|", "{} bytes", p.out.len());
        assert_eq!(p.status, 1);
        assert_eq!(run(&["%5000s", "x"]).out.len(), 5000);
        // Precisions beyond what Rust's formatting takes.
        let p = run(&["%.70000f", "0.5"]);
        assert_eq!((p.out.len(), &p.out[..4], p.status), (70002, &b"0.50"[..], 0));
        assert!(p.out[3..].iter().all(|&b| b == b'0'));
        let p = run(&["%.70000e", "1"]);
        assert_eq!(p.out.len(), 70006);
        assert!(p.out.ends_with(b"0e+00"));
        let p = run(&["%.70000g", "0.1"]);
        assert!(p.out.starts_with(b"0.1000000000000000055511151231257827"));
        assert!(!p.out.ends_with(b"0"), "%g drops trailing zeros");
    }

    #[test]
    fn numbers_as_c_reads_them() {
        assert_eq!(strtoint(b" -0x10", true), (-16i64 as u64, 6, false));
        assert_eq!(strtoint(b"0x", true), (0, 1, false));
        assert_eq!(strtoint(b"08", true), (0, 1, false));
        assert_eq!(strtoint(b"abc", true), (0, 0, false));
        assert_eq!(strtoint(b"-", true), (0, 0, false));
        assert_eq!(strtoint(b"-1", false), (u64::MAX, 2, false));
        assert_eq!(strtoint(b"9223372036854775808", true), (i64::MAX as u64, 19, true));
        assert_eq!(strtoint(b"-9223372036854775808", true), (i64::MIN as u64, 20, false));
        assert_eq!(strtod(b"1e").1, 1);
        assert_eq!(strtod(b".").1, 0);
        assert_eq!(strtod(b"0x1p3"), (8.0, 5, false));
        assert_eq!(strtod(b"0x.8"), (0.5, 4, false));
        assert_eq!(strtod(b"0xg").1, 1);
        assert_eq!(strtod(b"-nan(x1)").1, 8);
        assert_eq!(strtod(b"nan(").1, 3);
        assert!(strtod(b"1e-400").2);
        assert!(!strtod(b"0e-400").2);
    }
}
