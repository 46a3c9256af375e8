//! The shell language against dash: a table of lines, each run by dash
//! (Debian's /bin/sh) and by pg_shell among the same files, whose stdout
//! and exit status must match byte for byte, and whose stderr must be
//! non-empty exactly when dash's is (the messages may differ).
//!
//! Expected results are computed live: each case runs as `dash -c LINE` in
//! a fresh scratch directory holding the case's files, with the
//! environment cleared except `PATH=/usr/bin:/bin`, `HOME` (that
//! directory) and `LC_ALL=C`, and stdin empty. In pg_shell each case gets
//! a fresh session (whose working directory is its home, `/`): one setup
//! line creates the same directories and files (`mkdir -p`, `printf FORMAT
//! > PATH`), then the case's line runs. All mismatches are collected and
//! reported together; [`INTENDED_DIFFERENCES`] are run and reported but do
//! not fail the test.
//!
//! The lines avoid what legitimately differs between the two: `$$`, `$0`,
//! dates, owners, absolute paths of the scratch directory (only relative
//! paths, and `pwd` only through `basename` or its last components),
//! background jobs, traps, signals, `/dev/*`, umask/ulimit, variable
//! listings; and programs pg_shell lacks (`sh`, grep, sed, awk). Programs
//! other than builtins come from coreutils in both (uutils in pg_shell),
//! used only where their output is the same.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{TestDb, User};

/// Directories (created first, with their parents) and files with their
/// contents, relative to the shell's starting directory.
pub struct Fixture {
    pub dirs: &'static [&'static str],
    pub files: &'static [(&'static str, &'static str)],
}

/// One line run in both shells among a fixture's files.
pub struct Case {
    pub name: &'static str,
    pub fixture: &'static Fixture,
    pub line: &'static str,
}

const fn c(name: &'static str, fixture: &'static Fixture, line: &'static str) -> Case {
    Case { name, fixture, line }
}

/// No files at all.
pub const NONE: &Fixture = &Fixture { dirs: &[], files: &[] };

/// For globbing and `cd`: `echo *` here is `B.txt a.txt b.txt c.log sub`
/// (byte order: capitals first).
pub const TREE: &Fixture = &Fixture {
    dirs: &["sub/deep"],
    files: &[
        ("a.txt", "alpha\n"),
        ("b.txt", "beta\n"),
        ("B.txt", "Beta\n"),
        ("c.log", "log\n"),
        (".hidden", "hidden\n"),
        ("sub/x.txt", "x\n"),
        ("sub/y.txt", "y\n"),
        ("sub/deep/z.txt", "z\n"),
    ],
};

/// Files to read: lines, numbers, words, a script to source.
pub const TEXT: &Fixture = &Fixture {
    dirs: &[],
    files: &[
        ("lines", "one\ntwo\nthree\n"),
        ("nums", "10\n9\n100\n2\n"),
        ("dup", "b\na\nb\na\nc\n"),
        ("csv", "a,1\nb,2\nc,3\n"),
        ("empty", ""),
        ("noeol", "no newline"),
        ("back", "a\\b c\n"),
        ("lib.sh", "greet() { echo \"hello $1\"; }\nlibvar=7\n"),
        ("ret.sh", "echo in-ret\nreturn 4\necho never\n"),
        ("odd name", "100% 'quoted'\ttab\n"),
    ],
};

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    // Parameter expansion: every POSIX form.
    c("param_dash_unset", NONE, r#"unset x; echo "[${x-def}] [${x:-def}]""#),
    c("param_dash_empty", NONE, r#"x=; echo "[${x-def}] [${x:-def}]""#),
    c("param_dash_set", NONE, r#"x=v; echo "[${x-def}] [${x:-def}]""#),
    c("param_assign_unset", NONE, r#"unset x; echo "${x=new}"; echo "$x""#),
    c("param_assign_empty", NONE, r#"x=; echo "[${x=new}] [${x:=newer}]"; echo "$x""#),
    c("param_error_unset", NONE, r#"unset x; echo "${x?}"; echo after"#),
    c("param_error_message", NONE, r#"x=; echo "${x:?x is empty}"; echo after"#),
    c("param_error_set", NONE, r#"x=ok; echo "${x?} ${x:?}""#),
    c("param_alternative", NONE, r#"unset u; e=; s=v; echo "[${u+a}] [${e+b}] [${s+c}] [${u:+d}] [${e:+e}] [${s:+f}]""#),
    c("param_length", NONE, r#"x=hello; e=; echo ${#x} ${#e} ${#nosuch}"#),
    c("param_remove_suffix", NONE, r#"x=file.tar.gz; echo ${x%.*} ${x%%.*}"#),
    c("param_remove_prefix", NONE, r#"x=/a/b/c.txt; echo ${x#*/} ${x##*/}"#),
    c("param_remove_classes", NONE, r#"x=abc123; echo ${x%[0-9]} ${x%%[0-9]*} ${x#[a-c]} ${x##[a-c]*}"#),
    c("param_remove_quoted_pattern", NONE, r#"x='*b*c'; p='*'; echo "${x#"$p"}" "${x#$p}""#),
    c("param_nested_default", NONE, r#"unset a b; echo ${a:-${b:-deep}}"#),
    c("param_default_splits", NONE, r#"unset x; set -- ${x:-a b c}; echo $#"#),
    c("param_quoted_default_one_word", NONE, r#"unset x; set -- "${x:-a b c}"; echo $#"#),
    c("param_unset_is_empty", NONE, r#"echo "[$nosuch]" [$nosuch]"#),
    c("param_positional_braces", NONE, r#"set -- a b c d e f g h i j k; echo $10 ${10} ${11}"#),
    c("param_count", NONE, r#"set -- a 'b c' d; echo $#"#),
    c("param_status", NONE, r#"false; echo $?; true; echo $?"#),
    c("param_status_of_substitution_assignment", NONE, r#"x=$(false); echo $?"#),
    c("param_status_of_plain_assignment", NONE, r#"false; x=1; echo $?"#),
    c("param_at_quoted", NONE, r#"set -- a 'b c'; for i in "$@"; do echo "[$i]"; done"#),
    c("param_star_quoted", NONE, r#"set -- a 'b c'; for i in "$*"; do echo "[$i]"; done"#),
    c("param_at_unquoted", NONE, r#"set -- a 'b c'; for i in $@; do echo "[$i]"; done"#),
    c("param_star_unquoted", NONE, r#"set -- a 'b c'; for i in $*; do echo "[$i]"; done"#),
    c("param_star_joins_with_ifs", NONE, r#"set -- a 'b c'; IFS=-; echo "$*""#),
    c("param_star_empty_ifs", NONE, r#"set -- a b; IFS=; echo "$*""#),
    c("param_at_no_arguments", NONE, r#"set --; for i in "$@"; do echo "[$i]"; done; echo "n=$#""#),
    c("param_at_and_star_no_arguments", NONE, r#"f() { echo $#; }; set --; f "$@"; f "$*""#),
    c("param_at_inside_word", NONE, r#"set -- a b; for i in "x$@y"; do echo "[$i]"; done"#),
    c("param_empty_arguments", NONE, r#"set -- '' ''; echo $#; f() { echo $#; }; f "$@"; f $@"#),

    // Field splitting.
    c("ifs_default", NONE, r#"x='  a  b   c  '; set -- $x; echo $#; echo "[$1][$3]""#),
    c("ifs_quoted_not_split", NONE, r#"x='a  b'; echo "$x"; echo $x"#),
    c("ifs_colon_empty_field", NONE, r#"IFS=:; x='a::b'; set -- $x; echo $#"#),
    c("ifs_trailing_separator", NONE, r#"IFS=:; x='a:b:'; set -- $x; echo $#"#),
    c("ifs_leading_separator", NONE, r#"IFS=:; x=':a'; set -- $x; echo "$# [$1]""#),
    c("ifs_whitespace_and_colon", NONE, r#"IFS=' :'; x=' a : b '; set -- $x; echo "$# [$1] [$2]""#),
    c("ifs_empty_no_splitting", NONE, r#"IFS=; x='a b'; set -- $x; echo $#"#),
    c("ifs_unset_is_default", NONE, "unset IFS; x='a\tb  c'; set -- $x; echo $#"),
    c("ifs_only_expansions_split", NONE, r#"IFS=:; x=a:b; echo a:b $x"#),
    c("ifs_read_fields", NONE, "IFS=: read a b c <<EOF\n1:2:3:4\nEOF\necho \"$a|$b|$c\""),

    // Tilde expansion (HOME differs between the two; compare, don't print).
    c("tilde_is_home", NONE, r#"[ ~ = "$HOME" ] && echo same"#),
    c("tilde_quoted_is_literal", NONE, r#"echo "~" '~' \~"#),
    c("tilde_in_assignment", NONE, r#"x=~; [ "$x" = "$HOME" ] && echo same"#),
    c("tilde_cd_home", TREE, r#"cd sub && cd ~ && echo *"#),

    // Arithmetic expansion.
    c("arith_precedence", NONE, r#"echo $((1 + 2 * 3 - 4 / 2))"#),
    c("arith_parentheses", NONE, r#"echo $(( (1 + 2) * 3 ))"#),
    c("arith_variables", NONE, r#"x=5; y=3; echo $((x * y)) $(($x + $y))"#),
    c("arith_assignment", NONE, r#"x=5; echo $((x += 3)) $x; echo $((x = x * 2)) $x"#),
    c("arith_division_and_negatives", NONE, r#"echo $((7 / 2)) $((7 % 3)) $((-7 / 2)) $((-7 % 3))"#),
    c("arith_hex_and_octal", NONE, r#"echo $((0x10 + 010 + 10))"#),
    c("arith_comparisons_and_logic", NONE, r#"echo $((1 < 2)) $((2 <= 1)) $((1 == 1 && 0 || 1)) $((!0)) $((3 != 3))"#),
    c("arith_bitwise", NONE, r#"echo $((5 & 3)) $((5 | 3)) $((5 ^ 3)) $((~5)) $((1 << 4)) $((256 >> 2))"#),
    c("arith_conditional", NONE, r#"x=4; echo $((x > 3 ? 10 : 20)) $((x > 5 ? 10 : 20))"#),
    c("arith_short_circuit_no_side_effects", NONE, r#"x=0; echo $((1 || (x = 5))) $((0 && (x = 6))) $x"#),
    c("arith_unset_and_empty_are_zero", NONE, r#"unset u; e=; echo $((u + 1)) $((e + 2))"#),
    c("arith_value_with_blanks", NONE, r#"x=' 12 '; echo $((x + 1))"#),
    c("arith_overflow_wraps", NONE, r#"echo $((9223372036854775807 + 1))"#),
    c("arith_negative_values", NONE, r#"x=-5; echo $((x)) $((-x)) $((x * x))"#),
    c("arith_in_a_string", NONE, r#"x=2; echo "total: $((x * 21))""#),
    c("arith_with_substitution", NONE, r#"echo $(( $(echo 6) * 7 ))"#),
    c("arith_loop_counter", NONE, r#"i=0; while [ $i -lt 100 ]; do i=$((i + 1)); done; echo $i"#),
    c("arith_division_by_zero", NONE, r#"echo $((1 / 0)); echo after"#),
    c("arith_modulo_by_zero", NONE, r#"x=0; echo $((5 % x)); echo after"#),
    c("arith_syntax_error", NONE, r#"echo $((1 +)); echo after"#),
    c("arith_empty_expression", NONE, r#"echo "[$(())]""#),
    c("arith_value_is_an_expression", NONE, r#"x='3 + 4'; echo $((x * 2))"#),
    c("arith_power", NONE, r#"echo $((2 ** 10))"#),

    // Command substitution.
    c("subst_simple", NONE, r#"echo "[$(echo hi)]""#),
    c("subst_strips_trailing_newlines", NONE, r#"x=$(printf 'a\n\n\n'); echo "[$x]""#),
    c("subst_keeps_inner_newlines", NONE, r#"x=$(printf 'a\n\nb\n'); echo "[$x]""#),
    c("subst_unquoted_splits", NONE, r#"set -- $(echo a b c); echo $#"#),
    c("subst_backquotes", NONE, r#"echo `echo hi` "`echo there`""#),
    c("subst_nested", NONE, r#"echo $(echo $(echo deep))"#),
    c("subst_nested_backquotes", NONE, r#"echo `echo \`echo deep\``"#),
    c("subst_exit_status", NONE, r#"x=$(exit 3); echo $?"#),
    c("subst_reads_a_file", TEXT, r#"echo "$(cat lines)""#),
    c("subst_quotes_inside", NONE, r#"echo "$(echo "inner quoted")""#),
    c("subst_is_a_subshell", NONE, r#"x=1; y=$(x=2; echo $x); echo $x $y"#),
    c("subst_pipeline", NONE, r#"n=$(seq 1 5 | wc -l); echo "n=$n""#),
    c("subst_stderr_not_captured", NONE, r#"x=$(cat nosuch); echo "[$x] $?""#),

    // Quoting.
    c("quote_single", NONE, r#"echo 'a  $x  "b"'"#),
    c("quote_double", NONE, r#"x=v; echo "a  $x  'b'""#),
    c("quote_backslash", NONE, r#"echo a\ \ b \$x \\"#),
    c("quote_concatenation", NONE, r#"echo 'a'"b"c\d"#),
    c("quote_single_inside_single", NONE, r#"echo 'it'\''s'"#),
    c("quote_double_backslashes", NONE, r#"printf '%s\n' "\$ \` \" \\ \a""#),
    c("quote_empty_words_kept", NONE, r#"set -- '' "" x; echo $#"#),
    c("quote_empty_echo", NONE, r#"echo ''; echo "" x"#),
    c("quote_comment", NONE, "echo a # a comment; echo b\necho a#b"),
    c("quote_glob_characters", TREE, r#"echo "*" '*.txt' \*"#),
    c("quote_newline_inside", NONE, "echo \"line1\nline2\""),
    c("quote_dollar", NONE, r#"x=v; echo '$x' "$x" \$x"#),
    c("quote_operators", NONE, r#"echo 'a;b' "c;d" e\;f '|' "&&" \> \<"#),

    // Here-documents.
    c("heredoc_expands", NONE, "x=world; cat <<EOF\nhello $x\n$((1 + 2)) $(echo sub)\nEOF"),
    c("heredoc_quoted_delimiter", NONE, "x=world; cat <<'EOF'\nhello $x $(echo no)\nEOF"),
    c("heredoc_strip_tabs", NONE, "cat <<-EOF\n\tindented\n\t\ttwice\n\tEOF"),
    c("heredoc_backslashes", NONE, "cat <<EOF\na \\$x b\\\\c\nEOF"),
    c("heredoc_read_loop", NONE, "while read a b; do echo \"$b-$a\"; done <<EOF\n1 2\n3 4\nEOF"),
    c("heredoc_into_pipeline", NONE, "cat <<EOF | tr a-z A-Z\nabc\nEOF"),
    c("heredoc_two_on_a_line", NONE, "cat <<A; cat <<B\none\nA\ntwo\nB"),
    c("heredoc_in_function", NONE, "f() {\ncat <<EOF\nin $1\nEOF\n}\nf x"),
    c("heredoc_to_file", NONE, "cat > f <<EOF\nx\nEOF\ncat f"),

    // Redirections.
    c("redir_out", NONE, r#"echo hi > f; cat f"#),
    c("redir_append", NONE, r#"echo a > f; echo b >> f; cat f"#),
    c("redir_in", TEXT, r#"wc -l < lines"#),
    c("redir_truncates", NONE, r#"echo long > f; echo s > f; cat f"#),
    c("redir_creates_empty", NONE, r#"> f; test -f f && echo made; wc -c < f"#),
    c("redir_stderr_to_file", NONE, r#"cat nosuch 2> err; echo "status $?"; test -s err && echo has-message"#),
    c("redir_stderr_append", NONE, r#"cat nosuch 2> err; cat nosuch 2>> err; wc -l < err"#),
    c("redir_stderr_into_pipe", NONE, r#"cat nosuch 2>&1 | wc -l"#),
    c("redir_stdout_to_stderr", NONE, r#"echo visible >&2; echo out"#),
    c("redir_order_file_then_dup", NONE, r#"{ echo out; echo err >&2; } > f 2>&1; cat f"#),
    c("redir_order_dup_then_file", NONE, r#"{ echo out; echo err >&2; } 2>&1 > f; echo ---; cat f"#),
    c("redir_both_to_file", NONE, r#"cat nosuch > out 2>&1; echo $?; wc -l < out"#),
    c("redir_explicit_fd", NONE, r#"echo x 1> f; cat f"#),
    c("redir_loop_output", NONE, r#"for i in 1 2 3; do echo $i; done > f; cat f"#),
    c("redir_group_input", TEXT, r#"{ read a; read b; } < lines; echo "$a $b""#),
    c("redir_builtin_output", NONE, r#"pwd > f; wc -l < f"#),
    c("redir_function_output", NONE, r#"f() { echo in-f; }; f > out; cat out"#),
    c("redir_last_target_wins", NONE, r#"echo a > f1 > f2; cat f1; echo -; cat f2"#),
    c("redir_quoted_target", TEXT, r#"cat 'odd name' > "copy of"; cat "copy of""#),
    c("redir_missing_input", NONE, r#"cat < nosuch; echo "after $?""#),
    c("redir_into_directory", TREE, r#"echo x > sub; echo "after $?""#),

    // Control flow.
    c("if_then", NONE, r#"if true; then echo yes; fi"#),
    c("if_else", NONE, r#"if false; then echo yes; else echo no; fi"#),
    c("if_elif", NONE, r#"x=2; if [ $x -eq 1 ]; then echo one; elif [ $x -eq 2 ]; then echo two; else echo many; fi"#),
    c("if_no_branch_status", NONE, r#"if false; then echo x; fi; echo $?"#),
    c("if_condition_list", NONE, r#"if false; true; then echo last-counts; fi"#),
    c("if_multiline", NONE, "if true\nthen\n  echo yes\nfi"),
    c("for_in", NONE, r#"for i in a b c; do echo $i; done"#),
    c("for_without_in", NONE, r#"set -- x 'y z'; for a; do echo "[$a]"; done"#),
    c("for_empty_list", NONE, r#"for i in; do echo never; done; echo done"#),
    c("for_glob", TREE, r#"for f in *.txt; do echo "[$f]"; done"#),
    c("for_variable_after", NONE, r#"for i in 1 2 3; do :; done; echo $i"#),
    c("for_status_of_last", NONE, r#"for i in 1 2; do false; done; echo $?"#),
    c("while_counter", NONE, r#"i=0; while [ $i -lt 3 ]; do echo $i; i=$((i + 1)); done"#),
    c("while_false_status", NONE, r#"while false; do :; done; echo $?"#),
    c("until_loop", NONE, r#"i=0; until [ $i -ge 3 ]; do i=$((i + 1)); done; echo $i"#),
    c("while_read_file", TEXT, r#"while read l; do echo "<$l>"; done < lines"#),
    c("while_read_pipe", NONE, r#"printf 'a\nb\n' | while read l; do echo "<$l>"; done"#),
    c("while_read_last_line_without_newline", TEXT, r#"while read l; do echo "<$l>"; done < noeol; echo "[$l]""#),
    c("case_glob", NONE, r#"case abc in a*) echo A;; *) echo other;; esac"#),
    c("case_alternatives", NONE, r#"for x in a b c; do case $x in a|b) echo "ab:$x";; *) echo "other:$x";; esac; done"#),
    c("case_brackets", NONE, r#"for x in 1 b '*'; do case $x in [0-9]) echo digit;; [!0-9]) echo not-digit;; esac; done"#),
    c("case_quoted_pattern", NONE, r#"x='*'; case abc in "$x") echo literal;; $x) echo glob;; esac"#),
    c("case_no_match_status", NONE, r#"false; case x in y) echo y;; esac; echo $?"#),
    c("case_empty_word", NONE, r#"case '' in '') echo empty;; *) echo other;; esac"#),
    c("case_first_match_wins", NONE, r#"case ab in a*) echo first;; ab) echo second;; esac"#),
    c("case_pattern_from_variable", NONE, r#"p='a?c'; case abc in $p) echo match;; esac"#),
    c("case_open_paren", NONE, r#"case x in (x) echo open-paren;; esac"#),
    c("case_multiline", NONE, "case b in\n  a) echo a ;;\n  b)\n    echo b\n    ;;\nesac"),
    c("group_braces", NONE, r#"{ echo a; echo b; } | wc -l"#),
    c("group_no_subshell", NONE, r#"x=1; { x=2; }; echo $x"#),
    c("group_status", NONE, r#"{ false; }; echo $?"#),
    c("subshell_variables", NONE, r#"x=1; (x=2; echo $x); echo $x"#),
    c("subshell_cd", TREE, r#"(cd sub && echo *); echo *"#),
    c("subshell_exit", NONE, r#"(exit 3); echo $?; echo after"#),
    c("subshell_status", NONE, r#"(false); echo $?"#),
    c("break_loop", NONE, r#"for i in 1 2 3; do [ $i = 2 ] && break; echo $i; done"#),
    c("continue_loop", NONE, r#"for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done"#),
    c("break_two_levels", NONE, r#"for i in 1 2; do for j in a b; do [ $j = b ] && break 2; echo $i$j; done; done; echo end"#),
    c("continue_two_levels", NONE, r#"for i in 1 2 3; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; echo never; done"#),
    c("break_outside_loop", NONE, r#"break; echo "after $?""#),
    c("loops_nested_with_pipes", NONE, r#"for i in 1 2; do seq 1 3 | while read j; do echo $i$j; done; done | tail -n 2"#),

    // Functions.
    c("func_arguments", NONE, r#"f() { echo "$1-$2-$#"; }; f a b c"#),
    c("func_arguments_quoted", NONE, r#"f() { for a in "$@"; do echo "[$a]"; done; }; f 'a b' c"#),
    c("func_return_status", NONE, r#"f() { return 3; }; f; echo $?"#),
    c("func_return_keeps_last_status", NONE, r#"f() { false; return; }; f; echo $?"#),
    c("func_positional_restored", NONE, r#"set -- a b; f() { echo $#; }; f x; echo $# $1"#),
    c("func_recursion", NONE, r#"fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }; fact 5"#),
    c("func_local", NONE, r#"x=g; f() { local x=l; echo $x; }; f; echo $x"#),
    c("func_local_seen_by_callee", NONE, r#"f() { local x=f; g; }; g() { echo $x; }; x=top; f; echo $x"#),
    c("func_sets_globals", NONE, r#"f() { y=set-in-f; }; f; echo $y"#),
    c("func_redefined", NONE, r#"f() { echo one; }; f; f() { echo two; }; f"#),
    c("func_prefix_assignment", NONE, r#"x=1; f() { echo $x; }; x=2 f; echo $x"#),
    c("func_exit_ends_the_line", NONE, r#"f() { exit 5; }; f; echo never"#),
    c("func_in_pipeline", NONE, r#"f() { echo a; echo b; }; f | wc -l"#),
    c("func_as_condition", NONE, r#"f() { true; false; }; if f; then echo t; else echo f; fi"#),
    c("func_unset", NONE, r#"f() { echo f; }; unset -f f; f; echo $?"#),
    c("func_multiline", NONE, "f()\n{\n  echo \"in f: $1\"\n}\nf arg"),

    // Lists, pipelines, `!`.
    c("and_or_chain", NONE, r#"true && echo a || echo b; false && echo c || echo d"#),
    c("and_or_status", NONE, r#"false || false; echo $?; true && false; echo $?"#),
    c("not_status", NONE, r#"! true; echo $?; ! false; echo $?"#),
    c("not_pipeline", NONE, r#"! echo a | false; echo $?"#),
    c("pipeline_status_is_last", NONE, r#"false | true; echo $?; true | false; echo $?"#),
    c("pipeline_builtin_in_subshell", NONE, r#"echo a | read x; echo "[$x]""#),
    c("pipeline_long_output", NONE, r#"seq 1 10000 | wc -l"#),
    c("pipeline_last_line", NONE, r#"seq 1 10000 | tail -n 1"#),
    c("pipeline_three_stages", NONE, r#"printf 'b\na\nc\n' | sort | head -n 2"#),
    c("assignment_then_and", NONE, r#"x=1 && echo $x"#),
    c("semicolons_and_newlines", NONE, "echo a; echo b\necho c\n\necho d"),

    // Options.
    c("set_e_stops", NONE, r#"set -e; echo a; false; echo b"#),
    c("set_e_if_condition", NONE, r#"set -e; if false; then :; fi; echo survived"#),
    c("set_e_and_list", NONE, r#"set -e; false && true; echo survived"#),
    c("set_e_or_list", NONE, r#"set -e; false || echo handled; echo survived"#),
    c("set_e_negated", NONE, r#"set -e; ! true; echo survived"#),
    c("set_e_subshell", NONE, r#"set -e; (false); echo never"#),
    c("set_e_function_in_or_list", NONE, r#"set -e; f() { false; echo in-f; }; f || echo caught"#),
    c("set_e_pipeline", NONE, r#"set -e; false | true; echo survived"#),
    c("set_e_while_condition", NONE, r#"set -e; while false; do :; done; echo survived"#),
    c("set_u_unset", NONE, r#"set -u; echo "$nosuch"; echo after"#),
    c("set_u_default_allowed", NONE, r#"set -u; echo "${nosuch-fine}""#),
    c("set_u_no_arguments", NONE, r#"set -u; set --; echo "[$@]""#),
    c("set_f_no_globbing", TREE, r#"set -f; echo *; set +f; echo *.log"#),
    c("set_x_traces", NONE, r#"set -x; echo hi"#),
    c("set_x_off", NONE, r#"set -x; set +x; echo quiet"#),
    c("set_positional", NONE, r#"set -- a b c; echo "$# $2""#),
    c("set_positional_like_options", NONE, r#"set -- -x -e; echo "$1 $2 $#""#),

    // Pathname expansion.
    c("glob_star", TREE, r#"echo *"#),
    c("glob_suffix", TREE, r#"echo *.txt"#),
    c("glob_question_mark", TREE, r#"echo ?.txt"#),
    c("glob_bracket", TREE, r#"echo [ab].txt"#),
    c("glob_bracket_negated", TREE, r#"echo [!a].txt"#),
    c("glob_range", TREE, r#"echo [a-c].*"#),
    c("glob_dotfiles_not_matched", TREE, r#"echo *hidden*"#),
    c("glob_dotfiles_explicit", TREE, r#"echo .h*"#),
    c("glob_dot_star", TREE, r#"echo .*"#),
    c("glob_unmatched_left_as_typed", TREE, r#"echo nomatch* x"#),
    c("glob_subdirectory", TREE, r#"echo sub/*"#),
    c("glob_two_levels", TREE, r#"echo */*.txt"#),
    c("glob_three_levels", TREE, r#"echo */*/*"#),
    c("glob_directories_only", TREE, r#"echo */"#),
    c("glob_unmatched_in_subdirectory", TREE, r#"echo sub/*.log"#),
    c("glob_from_variable", TREE, r#"p='*.log'; echo $p "$p""#),
    c("glob_escaped", TREE, r#"echo \*.txt"#),
    c("glob_count", TREE, r#"set -- *; echo $#"#),
    c("glob_program_argument", TREE, r#"cat *.log"#),
    c("glob_ls", TREE, r#"ls *.log"#),

    // read
    c("read_fields", NONE, r#"echo 'a b c' | { read x y; echo "$x|$y"; }"#),
    c("read_raw", TEXT, r#"read -r x < back; printf '%s\n' "$x""#),
    c("read_backslash_removed", TEXT, r#"read x < back; printf '%s\n' "$x""#),
    c("read_end_of_file", TEXT, r#"read x < empty; echo "$? [$x]""#),
    c("read_empty_stdin", NONE, r#"read x; echo "$? [$x]""#),
    c("read_trims_blanks", NONE, "read x <<EOF\n   padded   \nEOF\necho \"[$x]\""),
    c("read_empty_ifs_keeps_blanks", NONE, "IFS= read x <<EOF\n   padded   \nEOF\necho \"[$x]\""),
    c("read_line_continuation", NONE, "read x <<'EOF'\na \\\nb\nEOF\necho \"[$x]\""),

    // eval and .
    c("eval_assignment", NONE, r#"eval 'x=5'; echo $x"#),
    c("eval_list", NONE, r#"cmd='echo a; echo b'; eval "$cmd""#),
    c("eval_second_expansion", NONE, r#"y=inner; x='$y'; eval echo $x"#),
    c("eval_status", NONE, r#"eval false; echo $?"#),
    c("eval_exit", NONE, r#"eval 'exit 4'; echo never"#),
    c("dot_sources_functions_and_variables", TEXT, r#". ./lib.sh; greet you; echo $libvar"#),
    c("dot_return", TEXT, r#". ./ret.sh; echo "status $?""#),
    c("dot_missing_file", NONE, r#". ./nosuch; echo after"#),

    // command, type
    c("command_v_builtins", NONE, r#"command -v echo; command -v cd"#),
    c("command_v_function", NONE, r#"f() { :; }; command -v f"#),
    c("command_v_missing", NONE, r#"command -v nosuch; echo $?"#),
    c("command_runs_builtin", NONE, r#"command echo hi"#),
    c("type_builtin", NONE, r#"type echo"#),
    c("type_function", NONE, r#"f() { :; }; type f"#),
    c("type_keyword", NONE, r#"type if"#),
    c("type_missing", NONE, r#"type nosuch; echo $?"#),

    // exit, shift, variables
    c("exit_status", NONE, r#"echo a; exit 4; echo b"#),
    c("exit_in_subshell", NONE, r#"(exit 6); echo $?"#),
    c("exit_keeps_last_status", NONE, r#"false; exit"#),
    c("exit_status_modulo_256", NONE, r#"exit 300"#),
    c("return_outside_function", NONE, r#"return 3; echo after"#),
    c("shift_one", NONE, r#"set -- a b c; shift; echo "$@""#),
    c("shift_n", NONE, r#"set -- a b c d; shift 2; echo "$# $1""#),
    c("shift_too_many", NONE, r#"set -- a; shift 2; echo after"#),
    c("export_variable", NONE, r#"export x=1; echo $x"#),
    c("export_then_unset", NONE, r#"export x=1; unset x; echo "[${x-unset}]""#),
    c("export_reaches_programs", NONE, r#"export GREETING=hi; printenv GREETING"#),
    c("prefix_assignment_for_a_program", NONE, r#"A=1 printenv A; echo "[${A-unset}]""#),
    c("unset_variable", NONE, r#"x=1; unset x; echo "[${x-unset}]""#),
    c("readonly_assignment_fails", NONE, r#"readonly r=1; r=2; echo after"#),
    c("readonly_unset_fails", NONE, r#"readonly r=1; unset r; echo after"#),
    c("readonly_readable", NONE, r#"readonly r=1; echo $r"#),
    c("prefix_assignment_special_builtin_stays", NONE, r#"x=1; x=2 :; echo $x"#),
    c("prefix_assignment_regular_builtin", NONE, r#"x=1; x=2 true; echo $x"#),
    c("local_outside_function", NONE, r#"local x=1; echo after"#),
    c("true_false_colon", NONE, r#"true; echo $?; false; echo $?; :; echo $?"#),

    // cd, pwd
    c("cd_relative", TREE, r#"cd sub && basename "$(pwd)""#),
    c("cd_dotdot", TREE, r#"cd sub/deep && cd .. && basename "$(pwd)""#),
    c("cd_missing", NONE, r#"cd nosuch; echo "status $?""#),
    c("cd_no_argument_goes_home", TREE, r#"cd sub; cd; echo *"#),
    c("pwd_last_components", NONE, r#"mkdir -p d/e; cd d/e; pwd | tr / '\n' | tail -n 2"#),

    // test / [
    c("test_strings", NONE, r#"[ a = a ] && echo eq; [ a != b ] && echo ne; [ a \< b ] && echo lt"#),
    c("test_integers", NONE, r#"[ 10 -gt 9 ] && echo gt; test 3 -le 2 || echo not-le; [ -1 -lt 0 ] && echo neg"#),
    c("test_empty_and_nonempty", NONE, r#"x=; [ -z "$x" ] && echo empty; [ -n "$x" ] || echo not-nonempty"#),
    c("test_files", TREE, r#"[ -f a.txt ] && echo file; [ -d sub ] && echo dir; [ -e nosuch ] || echo missing; [ -s a.txt ] && echo nonempty"#),
    c("test_empty_file", TEXT, r#"[ -s empty ] || echo empty-file; [ -f empty ] && echo exists"#),
    c("test_not_and_or", TREE, r#"[ ! -e nosuch -a -f a.txt ] && echo ok; [ -e nosuch -o -d sub ] && echo ok2"#),
    c("test_parentheses", NONE, r#"[ \( a = b \) -o \( c = c \) ] && echo yes"#),
    c("test_operator_as_operand", NONE, r#"test -f = -f && echo eq"#),
    c("test_no_arguments", NONE, r#"[ ]; echo $?; test; echo $?"#),
    c("test_one_argument", NONE, r#"test x && echo x; test '' || echo empty"#),
    c("test_bad_integer", NONE, r#"[ 1 -eq x ]; echo $?"#),
    c("test_missing_bracket", NONE, r#"[ a = a; echo $?"#),
    c("test_unexpected_operator", NONE, r#"[ a b ]; echo $?"#),

    // printf
    c("printf_reuses_format", NONE, r#"printf '%s\n' a b c"#),
    c("printf_widths", NONE, r#"printf '[%5s][%-5s][%.2s]\n' ab ab abc"#),
    c("printf_integers", NONE, r#"printf '%d %i %x %X %o %u\n' 42 -7 255 255 8 3"#),
    c("printf_floats", NONE, r#"printf '%.2f %e %g\n' 3.14159 1234.5 0.0001"#),
    c("printf_char_codes", NONE, r#"printf '%d %d\n' "'A" '"a'"#),
    c("printf_b_escapes", NONE, r#"printf '%b|' 'a\tb' 'c\0101'; echo"#),
    c("printf_b_stops_at_c", NONE, r#"printf '%b' 'one\ctwo'; echo ' end'"#),
    c("printf_bad_number", NONE, r#"printf '%d\n' abc; echo "status $?""#),
    c("printf_missing_arguments", NONE, r#"printf '%s-%d|\n' a"#),
    c("printf_star_width", NONE, r#"printf '%*d|%.*f\n' 5 42 1 2.25"#),
    c("printf_no_newline", NONE, r#"printf a; printf 'b\n'"#),
    c("printf_percent", NONE, r#"printf '100%%\n'"#),
    c("printf_hex_and_octal_arguments", NONE, r#"printf '%d %d\n' 0x1f 010"#),
    c("printf_invalid_directive", NONE, r#"printf 'a%z\n'; echo "status $?""#),

    // echo
    c("echo_tab_escape", NONE, r#"echo 'a\tb'"#),
    c("echo_newline_escape", NONE, r#"echo 'line1\nline2'"#),
    c("echo_c_stops_output", NONE, r#"echo 'stop\cnever'; echo next"#),
    c("echo_n", NONE, r#"echo -n x; echo y"#),
    c("echo_no_other_options", NONE, r#"echo -e x; echo -- y"#),
    c("echo_octal", NONE, r#"echo '\0101\0102'"#),
    c("echo_backslash", NONE, r#"echo 'a\\b'"#),

    // Programs in lines.
    c("prog_sort_numeric", TEXT, r#"sort -n nums"#),
    c("prog_sort_uniq", TEXT, r#"sort dup | uniq"#),
    c("prog_tr", NONE, r#"echo hello | tr a-z A-Z"#),
    c("prog_tr_delete", NONE, r#"echo axbxc | tr -d x"#),
    c("prog_cut", TEXT, r#"cut -d, -f2 csv"#),
    c("prog_head_tail", TEXT, r#"head -n 2 lines; tail -n 1 lines"#),
    c("prog_wc_file", TEXT, r#"wc -l lines"#),
    c("prog_cp_mv_rm", TEXT, r#"cp lines l2; mv l2 l3; rm lines; cat l3; test -e lines || echo gone"#),
    c("prog_mkdir_touch", NONE, r#"mkdir -p a/b && touch a/b/f && echo a/b/*"#),
    c("prog_tee", NONE, r#"echo hi | tee f | tr a-z A-Z; cat f"#),
    c("prog_expr", NONE, r#"expr 2 \* 3 + 1; expr 5 - 5; echo $?"#),
    c("prog_basename_dirname", NONE, r#"basename sub/x.txt .txt; dirname sub/x.txt"#),
    c("prog_seq_in_for", NONE, r#"s=0; for i in $(seq 1 10); do s=$((s + i)); done; echo $s"#),
    c("prog_cat_missing", NONE, r#"cat nosuch; echo "status $?""#),
    c("prog_quoted_file_name", TEXT, r#"cat "odd name""#),

    // Errors.
    c("err_unknown_command", NONE, r#"nosuch; echo $?"#),
    c("err_unknown_command_last", NONE, r#"nosuch"#),
    c("err_unknown_path", NONE, r#"./nosuch; echo $?"#),
    c("err_unterminated_single_quote", NONE, r#"echo 'unterminated"#),
    c("err_unterminated_double_quote", NONE, r#"echo "unterminated"#),
    c("err_fi_without_if", NONE, r#"fi"#),
    c("err_done_alone", NONE, r#"done"#),
    c("err_close_paren_alone", NONE, r#")"#),
    c("err_missing_fi", NONE, r#"if true; then echo x"#),
    c("err_same_line_runs_nothing", NONE, r#"echo ok; fi"#),
    c("err_later_line", NONE, "echo ok\nfi"),
    c("err_missing_brace", NONE, r#"echo ${x"#),
    c("err_unterminated_case", NONE, r#"case x in x) echo x"#),
    c("err_redirection_without_target", NONE, r#"echo >"#),
    c("err_pipe_without_command", NONE, r#"| echo x"#),
    c("err_double_semicolon", NONE, r#"echo a;; echo b"#),
    c("err_function_without_body", NONE, r#"f()"#),
];

/// Cases where pg_shell means to differ from dash, with the reason. They
/// run and are reported, but do not fail the test (at most 10% of the
/// table).
pub const INTENDED_DIFFERENCES: &[(&str, &str)] = &[
    ("arith_empty_expression", "an empty $(( )) is 0, as in bash; dash 0.5.12 refuses it"),
    ("arith_value_is_an_expression", "a variable whose value is an expression is evaluated (bash); dash says Illegal number"),
    ("arith_power", "** is bash's exponentiation; dash has no such operator"),
    (
        "err_later_line",
        "pg_shell parses the whole command line before running any of it, so a syntax error anywhere runs nothing; \
         dash runs the lines before the one with the error",
    ),
];

/// What a shell printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: i32,
    /// pg_shell's outcome ("exited", "timeout", ...); "exited" for dash.
    pub ended: String,
}

impl Outcome {
    fn agrees_with(&self, dash: &Outcome) -> bool {
        self.stdout == dash.stdout
            && self.status == dash.status
            && self.stderr.is_empty() == dash.stderr.is_empty()
            // A syntax error is recorded as rejected (nothing ran), a lone
            // unknown program as not_found; everything else simply exited.
            && (self.ended == "exited"
                || (self.ended == "rejected" && dash.status == 2)
                || (self.ended == "not_found" && dash.status == 127))
    }

    fn describe(&self) -> String {
        format!(
            "stdout {:?}, status {}, stderr {:?}{}",
            String::from_utf8_lossy(&self.stdout),
            self.status,
            String::from_utf8_lossy(&self.stderr),
            if self.ended == "exited" { String::new() } else { format!(", outcome {}", self.ended) }
        )
    }
}

/// Lays the fixture out under `dir`.
fn create_fixture(dir: &Path, fixture: &Fixture) {
    std::fs::create_dir_all(dir).unwrap();
    for d in fixture.dirs {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    for (path, contents) in fixture.files {
        std::fs::write(dir.join(path), contents).unwrap();
    }
}

/// Runs the case as `dash -c LINE` in `dir` (a fresh directory).
pub fn run_dash(case: &Case, dir: &Path) -> Outcome {
    create_fixture(dir, case.fixture);
    let out = Command::new("dash")
        .arg("-c")
        .arg(case.line)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("running dash (Debian's /bin/sh: apt-get install dash)");
    let status = match out.status.code() {
        Some(code) => code,
        None => {
            use std::os::unix::process::ExitStatusExt;
            128 + out.status.signal().unwrap_or(0)
        }
    };
    Outcome { stdout: out.stdout, stderr: out.stderr, status, ended: "exited".into() }
}

/// `'text'` for a path (the fixtures' paths hold no single quote).
fn quote(path: &str) -> String {
    assert!(!path.contains('\''), "fixture paths hold no single quote: {path}");
    format!("'{path}'")
}

/// A printf format, single-quoted, that prints exactly `contents`.
fn printf_format(contents: &str) -> String {
    let mut f = String::from("'");
    for ch in contents.chars() {
        match ch {
            '\\' => f.push_str("\\\\"),
            '%' => f.push_str("%%"),
            '\'' => f.push_str("\\047"),
            '\n' => f.push_str("\\n"),
            '\t' => f.push_str("\\t"),
            c => f.push(c),
        }
    }
    f.push('\'');
    f
}

/// The line that creates the fixture in a fresh session (`None` if it is
/// empty).
pub fn setup_line(fixture: &Fixture) -> Option<String> {
    let mut parts = Vec::new();
    if !fixture.dirs.is_empty() {
        let dirs: Vec<String> = fixture.dirs.iter().map(|d| quote(d)).collect();
        parts.push(format!("mkdir -p {}", dirs.join(" ")));
    }
    for (path, contents) in fixture.files {
        parts.push(format!("printf {} > {}", printf_format(contents), quote(path)));
    }
    (!parts.is_empty()).then(|| parts.join(" && "))
}

/// Runs the case in a fresh session of `u`.
async fn run_pg_shell(u: &mut User, case: &Case) -> Result<Outcome, String> {
    let s = u.session().await;
    if let Some(setup) = setup_line(case.fixture) {
        let c = u.run(s, &setup).await;
        if c.exit_code != Some(0) {
            return Err(format!("the setup line failed ({:?}, {}): {setup}\n  {}", c.exit_code, c.outcome(), c.stderr()));
        }
    }
    let c = u.run(s, case.line).await;
    Ok(Outcome {
        stdout: c.stdout().as_bytes().to_vec(),
        stderr: c.stderr().as_bytes().to_vec(),
        status: c.exit_code.unwrap_or(-1),
        ended: c.outcome().to_string(),
    })
}

const WORKERS: usize = 4;

#[test]
fn the_table_is_well_formed() {
    let mut names = std::collections::BTreeSet::new();
    for case in CASES {
        assert!(names.insert(case.name), "two cases are named {}", case.name);
        assert!(!case.line.contains('\0'), "{}: a command line cannot hold a NUL", case.name);
    }
    assert!(CASES.len() >= 170, "{} cases", CASES.len());
    assert!(INTENDED_DIFFERENCES.len() * 10 <= CASES.len(), "at most 10% of the cases may differ on purpose");
    for (name, why) in INTENDED_DIFFERENCES {
        assert!(names.contains(name), "INTENDED_DIFFERENCES names no case: {name}");
        assert!(!why.is_empty(), "{name}: say why it differs");
    }
    assert_eq!(printf_format("a'b%c\\d\n\t"), r"'a\047b%%c\\d\n\t'");
}

#[tokio::test]
async fn lines_behave_as_in_dash() {
    // What dash does, first: each case in a scratch directory of its own.
    let scratch = tempfile::tempdir().unwrap();
    let expected: Vec<Outcome> =
        CASES.iter().enumerate().map(|(i, case)| run_dash(case, &scratch.path().join(format!("{i:03}")))).collect();

    let mut db = TestDb::new().await;
    db.start_executor();
    let mut users = Vec::new();
    for w in 0..WORKERS {
        users.push(db.user(&format!("posix{w}")).await);
    }
    // Each worker takes every WORKERS-th case, one session per case.
    let runs = users.iter_mut().enumerate().map(|(w, u)| async move {
        let mut got = Vec::new();
        for i in (w..CASES.len()).step_by(WORKERS) {
            got.push((i, run_pg_shell(u, &CASES[i]).await));
        }
        got
    });
    let mut actual: Vec<(usize, Result<Outcome, String>)> =
        futures_util::future::join_all(runs).await.into_iter().flatten().collect();
    actual.sort_by_key(|(i, _)| *i);

    let intended = |name: &str| INTENDED_DIFFERENCES.iter().find(|(n, _)| *n == name).map(|(_, why)| *why);
    let (mut matched, mut failures, mut differing_on_purpose, mut now_matching) = (0, Vec::new(), Vec::new(), Vec::new());
    for (i, got) in actual {
        let case = &CASES[i];
        let dash = &expected[i];
        let agrees = matches!(&got, Ok(o) if o.agrees_with(dash));
        let report = || {
            let ours = match &got {
                Ok(o) => o.describe(),
                Err(e) => e.clone(),
            };
            format!("{}: {:?}\n    dash:     {}\n    pg_shell: {}", case.name, case.line, dash.describe(), ours)
        };
        match (agrees, intended(case.name)) {
            (true, None) => matched += 1,
            (true, Some(_)) => {
                matched += 1;
                now_matching.push(case.name);
            }
            (false, Some(why)) => differing_on_purpose.push(format!("{}\n    why: {why}", report())),
            (false, None) => failures.push(report()),
        }
    }
    println!("posix: {matched} of {} lines match dash", CASES.len());
    if !differing_on_purpose.is_empty() {
        println!("intended differences ({}):\n  {}", differing_on_purpose.len(), differing_on_purpose.join("\n  "));
    }
    if !now_matching.is_empty() {
        println!("listed as intended differences but matching dash now: {}", now_matching.join(", "));
    }
    assert!(
        failures.is_empty(),
        "{} of {} lines differ from dash ({matched} match):\n  {}",
        failures.len(),
        CASES.len(),
        failures.join("\n  ")
    );
}
