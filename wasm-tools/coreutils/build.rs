//! Generates the dispatch table of the multicall binary from `tools.txt`, and
//! checks that `tools.txt` and the `uu_*` dependencies in Cargo.toml agree.

use std::collections::BTreeSet;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

struct Tool {
    program: String,
    krate: String,
}

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=tools.txt");
    println!("cargo:rerun-if-changed=Cargo.toml");

    let tools = parse_tools(&dir.join("tools.txt"));
    check_dependencies(&tools, &dir.join("Cargo.toml"));

    let mut sorted: Vec<&Tool> = tools.iter().collect();
    sorted.sort_by(|a, b| a.program.cmp(&b.program));

    let mut code = String::new();
    code.push_str("/// Every program name this module answers to, sorted.\n");
    code.push_str("pub const PROGRAMS: &[&str] = &[\n");
    for tool in &sorted {
        writeln!(code, "    {:?},", tool.program).unwrap();
    }
    code.push_str("];\n\n");

    code.push_str("/// Runs `program`'s `uumain` with `args` (args[0] is the program name).\n");
    code.push_str(
        "fn run_program(program: &str, args: ::std::vec::IntoIter<::std::ffi::OsString>) -> Option<i32> {\n",
    );
    code.push_str("    match program {\n");
    for tool in &sorted {
        writeln!(
            code,
            "        {:?} => Some(::{}::uumain(args)),",
            tool.program, tool.krate
        )
        .unwrap();
    }
    code.push_str("        _ => None,\n    }\n}\n\n");

    code.push_str("/// The name uucore's embedded locale table knows `program` by.\n");
    code.push_str("fn locale_name(program: &str) -> &'static str {\n    match program {\n");
    for tool in &sorted {
        let util = tool.krate.strip_prefix("uu_").unwrap();
        // As in uutils' own multicall binary: dir and vdir use ls's strings.
        let locale = match util {
            "dir" | "vdir" => "ls",
            other => other,
        };
        writeln!(code, "        {:?} => {:?},", tool.program, locale).unwrap();
    }
    code.push_str("        _ => \"uucore\",\n    }\n}\n");

    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("tools.rs");
    fs::write(out, code).unwrap();
}

fn parse_tools(path: &Path) -> Vec<Tool> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut tools = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let program = words.next().unwrap().to_string();
        let krate = match words.next() {
            Some(k) => k.to_string(),
            None => format!("uu_{program}"),
        };
        assert!(
            words.next().is_none(),
            "tools.txt:{}: expected `<program> [<crate>]`",
            n + 1
        );
        assert!(
            krate.starts_with("uu_")
                && krate[3..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "tools.txt:{}: `{krate}` is not a uu_* crate name",
            n + 1
        );
        assert!(
            !program.contains('/') && program != "coreutils",
            "tools.txt:{}: bad program name `{program}`",
            n + 1
        );
        assert!(
            seen.insert(program.clone()),
            "tools.txt:{}: `{program}` twice",
            n + 1
        );
        tools.push(Tool { program, krate });
    }
    tools
}

/// The `uu_*` keys of Cargo.toml's `[dependencies]` table must be exactly the
/// crates tools.txt names, so neither list can drift from the other.
fn check_dependencies(tools: &[Tool], manifest: &Path) {
    let text = fs::read_to_string(manifest).unwrap();
    let mut in_deps = false;
    let mut deps = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("uu_") {
            let key = line.split(['=', ' ', '.']).next().unwrap();
            deps.insert(key.to_string());
        }
    }
    let wanted: BTreeSet<String> = tools.iter().map(|t| t.krate.clone()).collect();
    let missing: Vec<_> = wanted.difference(&deps).collect();
    let extra: Vec<_> = deps.difference(&wanted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "tools.txt and Cargo.toml disagree: crates missing from Cargo.toml {missing:?}, \
         uu_* dependencies no tool in tools.txt uses {extra:?}"
    );
}
