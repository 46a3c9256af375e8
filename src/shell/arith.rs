//! Shell arithmetic (`$((...))`) over brush-parser's arithmetic AST.
//!
//! The interpreter expands the text first (parameters, command substitution,
//! quote removal); [`eval_str`] parses what is left with
//! `brush_parser::arithmetic::parse` and evaluates it. Semantics are dash's
//! and POSIX's where they speak, bash's for what dash lacks:
//!
//! - signed 64-bit integers, wrapping on overflow; `/` and `%` by zero are
//!   the error "division by zero" (`i64::MIN / -1` wraps to `i64::MIN`,
//!   `i64::MIN % -1` is 0); shift counts are taken modulo 64, as on x86;
//! - a variable that is unset or empty is 0; a variable's value is itself
//!   evaluated as an expression (an integer constant, decimal, `0x` hex or
//!   `0` octal, in the common case; `x=y+1` then `$((x))` as bash does),
//!   at most [`MAX_DEPTH`] levels deep ("expression recursion level
//!   exceeded" past that, which is also what `x=x; $((x))` gives);
//! - `&&`, `||` and `?:` evaluate only what they must: the side not taken
//!   has no side effects;
//! - `=`, `op=`, `++`/`--` (prefix and postfix) assign through
//!   [`ArithVars::set`], whose refusal (a readonly variable) is the error;
//! - `**` (exponent less than 0 is an error) and `,` as bash has them;
//! - an empty or blank expression is 0 (bash; dash refuses `$(())`);
//! - arrays (`a[1]`) are refused: "arrays are not supported".
//!
//! Error messages are short and have no prefix: the interpreter prints them
//! as `pg_shell: arithmetic: <msg>`. Nothing here does I/O.
//!
//! Stack: evaluation recurses through values that are expressions (up to
//! [`MAX_DEPTH`] levels) and through the parsed tree. Optimized builds use
//! well under 2 KiB per level, unoptimized ones around 8 KiB: call this on
//! a thread with a generous stack (16 MiB or more in debug builds). The
//! depth is bounded whatever the text: one expression has at most
//! [`MAX_OPERATORS`] operators and parentheses ("expression too complex",
//! before the recursive parser sees it) and evaluation nests at most
//! [`MAX_NEST`] calls in all, through variables' values too.

use brush_parser::ast::{ArithmeticExpr, ArithmeticTarget, BinaryOperator, UnaryAssignmentOperator, UnaryOperator};

/// How deep values that are themselves expressions may nest (bash's limit
/// is 1024 as well).
pub const MAX_DEPTH: usize = 1024;

/// How many operators and parentheses one expression text may have. The
/// parser, the evaluator and dropping the tree all recurse once per level,
/// and a tree is at most this deep: `$((((((...1...))))))` a million levels
/// deep overflowed even a 256 MiB stack and took the executor down.
pub const MAX_OPERATORS: usize = 10_000;

/// How deep evaluation may recurse in all, across variables whose values
/// are expressions (each within [`MAX_OPERATORS`]).
pub const MAX_NEST: usize = 10_000;

/// The shell's variables as arithmetic sees them.
pub trait ArithVars {
    /// The variable's value, `None` when unset.
    fn get(&self, name: &str) -> Option<String>;
    /// Assigns a value; `Err` (for example "x: is read only") aborts the
    /// expression with that message.
    fn set(&mut self, name: &str, value: String) -> Result<(), String>;
}

/// Evaluates an already-expanded arithmetic string.
pub fn eval_str(text: &str, vars: &mut dyn ArithVars) -> Result<i64, String> {
    Evaluator { vars, depth: 0, nest: 0 }.eval_text(text)
}

/// Evaluates a parsed arithmetic expression.
pub fn eval(expr: &ArithmeticExpr, vars: &mut dyn ArithVars) -> Result<i64, String> {
    Evaluator { vars, depth: 0, nest: 0 }.eval(expr)
}

struct Evaluator<'a> {
    vars: &'a mut dyn ArithVars,
    /// How many variable values we are inside of.
    depth: usize,
    /// How many `eval` calls are on the stack.
    nest: usize,
}

/// Parses one expression text, refusing one that could nest past
/// [`MAX_OPERATORS`] before the (recursive) parser sees it.
fn parse_bounded(text: &str) -> Result<ArithmeticExpr, Option<String>> {
    let ops = text.bytes().filter(|b| b"()+-*/%<>=!~&|^?:,".contains(b)).count();
    if ops > MAX_OPERATORS {
        return Err(Some(format!("expression too complex: {ops} operators and parentheses (at most {MAX_OPERATORS})")));
    }
    brush_parser::arithmetic::parse(text).map_err(|_| None)
}

fn is_blank(text: &str) -> bool {
    text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f == '_' || f.is_ascii_alphabetic())
        && c.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The common case of a variable's value: an integer constant with optional
/// blanks around it and an optional sign, as dash accepts it. `None` for
/// anything else (which is then parsed as an expression).
fn integer_constant(value: &str) -> Option<i64> {
    let s = value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        (16, h)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Too large for u64: let the parser decide (it reports it).
    let magnitude = u64::from_str_radix(body, radix).ok()? as i64;
    Some(if negative { magnitude.wrapping_neg() } else { magnitude })
}

impl Evaluator<'_> {
    fn eval_text(&mut self, text: &str) -> Result<i64, String> {
        if is_blank(text) {
            return Ok(0);
        }
        match parse_bounded(text) {
            Ok(expr) => self.eval(&expr),
            Err(Some(e)) => Err(e),
            Err(None) => Err(format!("syntax error: \"{text}\"")),
        }
    }

    fn variable_name<'t>(&self, target: &'t ArithmeticTarget) -> Result<&'t str, String> {
        match target {
            ArithmeticTarget::Variable(name) => Ok(name),
            ArithmeticTarget::ArrayElement(name, _) => Err(format!("{name}[...]: arrays are not supported")),
        }
    }

    /// The value of a variable: unset or empty is 0, an integer constant is
    /// that number, anything else is evaluated as an expression.
    fn value_of(&mut self, name: &str) -> Result<i64, String> {
        let mut name = name.to_string();
        let entered = self.depth;
        let r = loop {
            let Some(value) = self.vars.get(&name) else { break Ok(0) };
            if is_blank(&value) {
                break Ok(0);
            }
            if let Some(n) = integer_constant(&value) {
                break Ok(n);
            }
            if self.depth >= MAX_DEPTH {
                break Err(format!("{name}: expression recursion level exceeded"));
            }
            self.depth += 1;
            // A value that names another variable (`b=a`): follow it here
            // rather than recursing, so long chains cost no stack.
            let v = value.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
            if is_name(v) {
                name = v.to_string();
                continue;
            }
            break match parse_bounded(&value) {
                Ok(expr) => self.eval(&expr),
                Err(Some(e)) => Err(format!("{name}: {e}")),
                Err(None) => Err(format!("{name}: value is not a valid expression: \"{value}\"")),
            };
        };
        self.depth = entered;
        r
    }

    fn read(&mut self, target: &ArithmeticTarget) -> Result<(String, i64), String> {
        let name = self.variable_name(target)?.to_string();
        let v = self.value_of(&name)?;
        Ok((name, v))
    }

    fn assign(&mut self, name: &str, value: i64) -> Result<i64, String> {
        self.vars.set(name, value.to_string())?;
        Ok(value)
    }

    fn eval(&mut self, expr: &ArithmeticExpr) -> Result<i64, String> {
        if self.nest >= MAX_NEST {
            return Err(format!("expression recursion level exceeded (nests deeper than {MAX_NEST})"));
        }
        self.nest += 1;
        let r = self.eval_node(expr);
        self.nest -= 1;
        r
    }

    fn eval_node(&mut self, expr: &ArithmeticExpr) -> Result<i64, String> {
        match expr {
            ArithmeticExpr::Literal(n) => Ok(*n),
            ArithmeticExpr::Reference(target) => Ok(self.read(target)?.1),
            ArithmeticExpr::UnaryOp(op, operand) => {
                let v = self.eval(operand)?;
                Ok(match op {
                    UnaryOperator::UnaryPlus => v,
                    UnaryOperator::UnaryMinus => v.wrapping_neg(),
                    UnaryOperator::BitwiseNot => !v,
                    UnaryOperator::LogicalNot => (v == 0) as i64,
                })
            }
            ArithmeticExpr::BinaryOp(op, left, right) => match op {
                BinaryOperator::LogicalAnd => {
                    if self.eval(left)? == 0 {
                        return Ok(0);
                    }
                    Ok((self.eval(right)? != 0) as i64)
                }
                BinaryOperator::LogicalOr => {
                    if self.eval(left)? != 0 {
                        return Ok(1);
                    }
                    Ok((self.eval(right)? != 0) as i64)
                }
                BinaryOperator::Comma => {
                    self.eval(left)?;
                    self.eval(right)
                }
                _ => {
                    let l = self.eval(left)?;
                    let r = self.eval(right)?;
                    apply(*op, l, r)
                }
            },
            ArithmeticExpr::Conditional(cond, then, otherwise) => {
                if self.eval(cond)? != 0 {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            ArithmeticExpr::Assignment(target, value) => {
                let name = self.variable_name(target)?.to_string();
                let v = self.eval(value)?;
                self.assign(&name, v)
            }
            ArithmeticExpr::BinaryAssignment(op, target, value) => {
                let (name, old) = self.read(target)?;
                let r = self.eval(value)?;
                let v = apply(*op, old, r)?;
                self.assign(&name, v)
            }
            ArithmeticExpr::UnaryAssignment(op, target) => {
                let (name, old) = self.read(target)?;
                match op {
                    UnaryAssignmentOperator::PrefixIncrement => self.assign(&name, old.wrapping_add(1)),
                    UnaryAssignmentOperator::PrefixDecrement => self.assign(&name, old.wrapping_sub(1)),
                    UnaryAssignmentOperator::PostfixIncrement => {
                        self.assign(&name, old.wrapping_add(1))?;
                        Ok(old)
                    }
                    UnaryAssignmentOperator::PostfixDecrement => {
                        self.assign(&name, old.wrapping_sub(1))?;
                        Ok(old)
                    }
                }
            }
        }
    }
}

/// A binary operator on two evaluated operands (not the short-circuiting
/// ones, which never get here).
fn apply(op: BinaryOperator, l: i64, r: i64) -> Result<i64, String> {
    Ok(match op {
        BinaryOperator::Power => {
            if r < 0 {
                return Err("exponent less than 0".into());
            }
            power(l, r as u64)
        }
        BinaryOperator::Multiply => l.wrapping_mul(r),
        BinaryOperator::Divide => {
            if r == 0 {
                return Err("division by zero".into());
            }
            l.wrapping_div(r)
        }
        BinaryOperator::Modulo => {
            if r == 0 {
                return Err("division by zero".into());
            }
            l.wrapping_rem(r)
        }
        BinaryOperator::Comma => r,
        BinaryOperator::Add => l.wrapping_add(r),
        BinaryOperator::Subtract => l.wrapping_sub(r),
        // The count modulo 64, as the hardware (and so dash and bash) does.
        BinaryOperator::ShiftLeft => l.wrapping_shl(r as u32),
        BinaryOperator::ShiftRight => l.wrapping_shr(r as u32),
        BinaryOperator::LessThan => (l < r) as i64,
        BinaryOperator::LessThanOrEqualTo => (l <= r) as i64,
        BinaryOperator::GreaterThan => (l > r) as i64,
        BinaryOperator::GreaterThanOrEqualTo => (l >= r) as i64,
        BinaryOperator::Equals => (l == r) as i64,
        BinaryOperator::NotEquals => (l != r) as i64,
        BinaryOperator::BitwiseAnd => l & r,
        BinaryOperator::BitwiseXor => l ^ r,
        BinaryOperator::BitwiseOr => l | r,
        BinaryOperator::LogicalAnd => ((l != 0) && (r != 0)) as i64,
        BinaryOperator::LogicalOr => ((l != 0) || (r != 0)) as i64,
    })
}

/// `base ** exp`, wrapping, by squaring (so `2 ** 1000000000000` is quick).
fn power(mut base: i64, mut exp: u64) -> i64 {
    let mut acc: i64 = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        exp >>= 1;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[derive(Default)]
    struct Vars {
        map: BTreeMap<String, String>,
        readonly: BTreeSet<String>,
        sets: usize,
    }

    impl ArithVars for Vars {
        fn get(&self, name: &str) -> Option<String> {
            self.map.get(name).cloned()
        }
        fn set(&mut self, name: &str, value: String) -> Result<(), String> {
            if self.readonly.contains(name) {
                return Err(format!("{name}: is read only"));
            }
            self.sets += 1;
            self.map.insert(name.to_string(), value);
            Ok(())
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars { map: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..Vars::default() }
    }

    /// Runs `f` on a thread with the stack an interpreter thread should
    /// have: unoptimized builds take several KiB per level of values that
    /// are expressions (release builds well under 2 KiB).
    fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(64 << 20).spawn(f).unwrap().join().unwrap()
    }

    fn ev(text: &str) -> Result<i64, String> {
        eval_str(text, &mut Vars::default())
    }

    /// Expected values from dash 0.5.12 (`dash -c 'echo $((...))'`).
    #[test]
    fn operators_and_precedence_as_dash() {
        let cases: &[(&str, i64)] = &[
            ("1 + 2 * 3 - 4 / 2 % 3", 5),
            ("(1+2)*3", 9),
            ("1 < 2 == 1", 1),
            ("6 & 3 == 3", 0),
            ("3 > 2", 1),
            ("2 >= 3", 0),
            ("2 <= 2", 1),
            ("1 < 1", 0),
            ("!5", 0),
            ("!0", 1),
            ("~5", -6),
            ("~0", -1),
            ("5 & 3", 1),
            ("5 | 3", 7),
            ("5 ^ 3", 6),
            ("1 == 1", 1),
            ("1 != 1", 0),
            ("- 3", -3),
            ("+3", 3),
            ("7/-2", -3),
            ("-7%3", -1),
            ("7 % -3", 1),
            ("1<<64", 1),
            ("1<<63", i64::MIN),
            ("-1>>1", -1),
            ("1<<-1", i64::MIN),
            ("-8>>65", -4),
            ("3 ? 0 ? 1 : 2 : 3", 2),
            ("1 ? 2 : 3", 2),
            ("0 ? 2 : 3", 3),
            ("010", 8),
            ("0x1F", 31),
            ("0X1f", 31),
            ("-9223372036854775807-1", i64::MIN),
            ("9223372036854775807+1", i64::MIN),
            ("2 && 3", 1),
            ("0 || 0", 0),
            ("0 || 7", 1),
            ("1 + 2 << 1", 6),
            ("1 | 2 ^ 3 & 4", 3),
            ("2 + 3 > 4 && 1", 1),
        ];
        for (text, want) in cases {
            assert_eq!(ev(text), Ok(*want), "{text}");
        }
    }

    #[test]
    fn bash_extensions() {
        assert_eq!(ev("2**10"), Ok(1024));
        assert_eq!(ev("2**3**2"), Ok(512), "right-associative");
        assert_eq!(ev("-2**2"), Ok(4), "unary minus binds tighter, as in bash");
        assert_eq!(ev("2**64"), Ok(0), "wraps");
        assert_eq!(ev("3**0"), Ok(1));
        assert_eq!(ev("2**-1"), Err("exponent less than 0".into()));
        assert_eq!(ev("1, 2"), Ok(2));
        assert_eq!(ev("36#z"), Ok(35));
        assert_eq!(ev("2#101"), Ok(5));
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(ev(""), Ok(0));
        assert_eq!(ev("   "), Ok(0));
        assert_eq!(ev("\n\t"), Ok(0));
    }

    #[test]
    fn division_by_zero() {
        assert_eq!(ev("1/0"), Err("division by zero".into()));
        assert_eq!(ev("5%0"), Err("division by zero".into()));
        let mut v = vars(&[("x", "4")]);
        assert_eq!(eval_str("x /= 0", &mut v), Err("division by zero".into()));
        assert_eq!(v.map["x"], "4", "no assignment on error");
        assert_eq!(ev("0 && 1/0"), Ok(0), "not evaluated");
        assert_eq!(ev("1 || 1/0"), Ok(1), "not evaluated");
        assert_eq!(ev("1 ? 1 : 1/0"), Ok(1), "not evaluated");
    }

    #[test]
    fn wrapping_edges() {
        assert_eq!(ev("-9223372036854775807 - 1 - 1"), Ok(i64::MAX));
        let mut v = vars(&[("m", "-9223372036854775808")]);
        assert_eq!(eval_str("m / -1", &mut v), Ok(i64::MIN));
        assert_eq!(eval_str("m % -1", &mut v), Ok(0));
        assert_eq!(eval_str("-m", &mut v), Ok(i64::MIN));
        assert_eq!(eval_str("m * -1", &mut v), Ok(i64::MIN));
        let mut v = vars(&[("x", "9223372036854775807")]);
        assert_eq!(eval_str("++x", &mut v), Ok(i64::MIN));
    }

    #[test]
    fn variables() {
        let mut v =
            vars(&[("e", ""), ("s", " 12 "), ("o", "010"), ("h", "0x10"), ("n", "-5"), ("hs", " 0x1f"), ("p", "+7")]);
        assert_eq!(eval_str("u + 1", &mut v), Ok(1), "unset is 0");
        assert_eq!(eval_str("e + 1", &mut v), Ok(1), "empty is 0");
        assert_eq!(eval_str("s + 1", &mut v), Ok(13));
        assert_eq!(eval_str("o + h", &mut v), Ok(24));
        assert_eq!(eval_str("n", &mut v), Ok(-5));
        assert_eq!(eval_str("-n", &mut v), Ok(5));
        assert_eq!(eval_str("- -n", &mut v), Ok(-5));
        assert_eq!(eval_str("hs", &mut v), Ok(31));
        assert_eq!(eval_str("p", &mut v), Ok(7));
        assert_eq!(v.sets, 0, "reading assigns nothing");
    }

    #[test]
    fn values_that_are_expressions_are_evaluated_as_bash_does() {
        on_big_stack(values_that_are_expressions);
    }

    fn values_that_are_expressions() {
        let mut v = vars(&[("x", "3+4"), ("a", "1"), ("b", "a"), ("c", "b * 10"), ("w", "abc")]);
        assert_eq!(eval_str("x * 2", &mut v), Ok(14), "(3+4)*2, not 3+4*2");
        assert_eq!(eval_str("b", &mut v), Ok(1));
        assert_eq!(eval_str("c + 1", &mut v), Ok(11));
        assert_eq!(eval_str("w", &mut v), Ok(0), "a name whose variable is unset");
        let mut v = vars(&[("x", "x")]);
        assert_eq!(eval_str("x", &mut v), Err("x: expression recursion level exceeded".into()));
        let mut v = vars(&[("x", "y"), ("y", "x + 1")]);
        assert!(eval_str("x", &mut v).unwrap_err().contains("recursion level exceeded"));
        let mut v = vars(&[("x", "1 2")]);
        assert!(eval_str("x", &mut v).unwrap_err().starts_with("x: "));
        let mut v = vars(&[("x", "08")]);
        assert!(eval_str("x", &mut v).is_err(), "08 is not a number");
    }

    #[test]
    fn a_chain_within_the_depth_limit_is_fine() {
        let mut v = Vars::default();
        for i in 0..1000 {
            v.map.insert(format!("v{i}"), format!("v{}", i + 1));
        }
        v.map.insert("v1000".into(), "42".into());
        assert_eq!(eval_str("v0", &mut v), Ok(42));
        v.map.insert("v1000".into(), "v1001".into());
        for i in 1001..1100 {
            v.map.insert(format!("v{i}"), format!("v{}", i + 1));
        }
        assert!(eval_str("v0", &mut v).unwrap_err().contains("recursion level exceeded"));
    }

    #[test]
    fn values_nested_as_expressions_stop_cleanly() {
        // Each value is an expression using the next: real recursion. Run
        // on a thread with the stack an interpreter thread would have.
        let r = on_big_stack(|| {
            let mut v = Vars::default();
            for i in 0..2000 {
                v.map.insert(format!("v{i}"), format!("v{} + 1", i + 1));
            }
            let deep = eval_str("v0", &mut v);
            v.map.insert("v500".into(), "0".into());
            (deep, eval_str("v0", &mut v))
        });
        assert!(r.0.unwrap_err().contains("recursion level exceeded"));
        assert_eq!(r.1, Ok(500));
    }

    #[test]
    fn assignments() {
        // Expected values from dash: `x=5; echo $((x+=3)) $x $((x=x*2)) $x`.
        let mut v = vars(&[("x", "5")]);
        assert_eq!(eval_str("x+=3", &mut v), Ok(8));
        assert_eq!(v.map["x"], "8");
        assert_eq!(eval_str("x=x*2", &mut v), Ok(16));
        assert_eq!(v.map["x"], "16");
        assert_eq!(eval_str("x=y=3", &mut v), Ok(3));
        assert_eq!((v.map["x"].as_str(), v.map["y"].as_str()), ("3", "3"));
        for (text, want, after) in [
            ("x-=1", 2, "2"),
            ("x*=5", 10, "10"),
            ("x/=3", 3, "3"),
            ("x%=2", 1, "1"),
            ("x<<=4", 16, "16"),
            ("x>>=2", 4, "4"),
            ("x|=3", 7, "7"),
            ("x&=5", 5, "5"),
            ("x^=1", 4, "4"),
        ] {
            assert_eq!(eval_str(text, &mut v), Ok(want), "{text}");
            assert_eq!(v.map["x"], after, "{text}");
        }
        // The target is read before the right-hand side runs (dash and bash: 6).
        let mut v = vars(&[("x", "1")]);
        assert_eq!(eval_str("x += (x=5)", &mut v), Ok(6));
        let mut v = vars(&[("x", "1")]);
        assert_eq!(eval_str("x + (x=5)", &mut v), Ok(6));
        // An unset variable is created.
        let mut v = Vars::default();
        assert_eq!(eval_str("z += 1", &mut v), Ok(1));
        assert_eq!(v.map["z"], "1");
        // Values are stored in decimal.
        let mut v = vars(&[("h", "0x10")]);
        assert_eq!(eval_str("h += 0", &mut v), Ok(16));
        assert_eq!(v.map["h"], "16");
    }

    #[test]
    fn increments() {
        let mut v = vars(&[("x", "3")]);
        assert_eq!(eval_str("x++", &mut v), Ok(3));
        assert_eq!(v.map["x"], "4");
        assert_eq!(eval_str("++x", &mut v), Ok(5));
        assert_eq!(eval_str("x--", &mut v), Ok(5));
        assert_eq!(eval_str("--x", &mut v), Ok(3));
        assert_eq!(v.map["x"], "3");
        // bash: x=3; $((x++ + x)) is 7.
        assert_eq!(eval_str("x++ + x", &mut v), Ok(7));
        let mut v = Vars::default();
        assert_eq!(eval_str("n++", &mut v), Ok(0));
        assert_eq!(v.map["n"], "1");
    }

    #[test]
    fn short_circuits_have_no_side_effects() {
        // dash: `$((0 && (y=5))) ${y-unset} $((1 || (z=5))) ${z-unset}` is `0 unset 1 unset`.
        let mut v = Vars::default();
        assert_eq!(eval_str("0 && (y=5)", &mut v), Ok(0));
        assert_eq!(eval_str("1 || (z=5)", &mut v), Ok(1));
        assert_eq!(eval_str("1 ? 2 : (x=9)", &mut v), Ok(2));
        assert_eq!(eval_str("0 ? (x=9) : 3", &mut v), Ok(3));
        assert_eq!(v.sets, 0);
        assert_eq!(eval_str("1 && (y=5)", &mut v), Ok(1));
        assert_eq!(eval_str("0 || (z=0)", &mut v), Ok(0));
        assert_eq!(eval_str("0 ? 1 : (x=9)", &mut v), Ok(9));
        assert_eq!((v.map["y"].as_str(), v.map["z"].as_str(), v.map["x"].as_str()), ("5", "0", "9"));
    }

    #[test]
    fn readonly_refusal_is_the_error() {
        let mut v = vars(&[("r", "1")]);
        v.readonly.insert("r".into());
        assert_eq!(eval_str("r=2", &mut v), Err("r: is read only".into()));
        assert_eq!(eval_str("r++", &mut v), Err("r: is read only".into()));
        assert_eq!(eval_str("r + 1", &mut v), Ok(2), "reading is fine");
    }

    #[test]
    fn arrays_are_refused() {
        assert!(ev("a[1]").unwrap_err().contains("arrays are not supported"));
        assert!(ev("a[1] = 2").unwrap_err().contains("arrays are not supported"));
        assert!(ev("a[0]++").unwrap_err().contains("arrays are not supported"));
    }

    #[test]
    fn syntax_errors() {
        for text in ["1 +", "(1", "1 )", "08", "0x", "1 ] ", "3 ? 4", "x y", "$x", "1 = 2"] {
            let e = ev(text).unwrap_err();
            assert!(e.starts_with("syntax error"), "{text}: {e}");
            assert!(e.contains(text), "{text}: {e}");
        }
    }

    #[test]
    fn eval_takes_a_parsed_tree() {
        let expr = brush_parser::arithmetic::parse("x * 2 + 1").unwrap();
        let mut v = vars(&[("x", "20")]);
        assert_eq!(eval(&expr, &mut v), Ok(41));
        assert_eq!(eval(&ArithmeticExpr::Literal(7), &mut v), Ok(7));
    }

    #[test]
    fn integer_constants() {
        assert_eq!(integer_constant("12"), Some(12));
        assert_eq!(integer_constant(" -0x10 "), Some(-16));
        assert_eq!(integer_constant("017"), Some(15));
        assert_eq!(integer_constant("0"), Some(0));
        assert_eq!(integer_constant("08"), None);
        assert_eq!(integer_constant("1 2"), None);
        assert_eq!(integer_constant("-"), None);
        assert_eq!(integer_constant("0x"), None);
        assert_eq!(integer_constant("18446744073709551615"), Some(-1));
    }

    #[test]
    fn deep_and_long_expressions_are_errors_not_stack_overflows() {
        // A million parentheses once overflowed a 256 MiB stack, parsing.
        let deep = |n: usize, inner: &str| format!("{}{inner}{}", "(".repeat(n), ")".repeat(n));
        let r = on_big_stack(move || ev(&deep(1_000_000, "1")));
        assert!(r.as_ref().is_err_and(|e| e.starts_with("expression too complex: 2000000 operators")), "{r:?}");
        // A long flat chain builds as deep a tree as parentheses do.
        let r = on_big_stack(|| ev(&vec!["1"; 200_000].join("+")));
        assert!(r.as_ref().is_err_and(|e| e.contains("at most 10000")), "{r:?}");
        // Just under the limit still evaluates.
        assert_eq!(on_big_stack(move || ev(&deep(4_999, "7"))), Ok(7));
        assert_eq!(on_big_stack(|| ev(&vec!["1"; 10_000].join("+"))), Ok(10_000));
        // Values that are expressions nest through each other: each is
        // within the limit, and so is the sum of their depths. Parentheses
        // leave no node in the tree, so 999 values of 4,000 each evaluate.
        let r = on_big_stack(move || {
            let mut v = vars(&[("x0", "1")]);
            for i in 1..1000 {
                v.map.insert(format!("x{i}"), deep(2_000, &format!("x{}", i - 1)));
            }
            eval_str("x999", &mut v)
        });
        assert_eq!(r, Ok(1));
        // Three chains of 5,000 terms, each holding the next at its deepest leaf.
        let r = on_big_stack(move || {
            let mut v = vars(&[("x0", "1")]);
            for i in 1..4 {
                v.map.insert(format!("x{i}"), format!("x{}{}", i - 1, "+1".repeat(4_999)));
            }
            (eval_str("x1", &mut v), eval_str("x3", &mut v))
        });
        assert_eq!(r.0, Ok(5_000));
        assert!(r.1.as_ref().is_err_and(|e| e.contains("recursion level exceeded")), "{:?}", r.1);
    }
}
