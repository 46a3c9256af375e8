//! Generates the module's program list from `tools.txt` and compiles the one
//! true awk (`onetrue-awk/`, C) for wasm32-wasip1.
//!
//! The C compiler comes from the environment the `cc` crate reads
//! (`CC_wasm32_wasip1`, `CFLAGS_wasm32_wasip1`, `AR_wasm32_wasip1`):
//! pg_shell's build.rs finds a clang that can target WASI with a wasi-libc
//! sysroot and sets them for this nested build (see `wasi_c_toolchain`
//! there). Building this workspace by hand needs the same, e.g. on Debian:
//!
//!   CC_wasm32_wasip1=clang CFLAGS_wasm32_wasip1=--target=wasm32-wasi \
//!   AR_wasm32_wasip1=llvm-ar cargo build --release --target wasm32-wasip1

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

const AWK_SOURCES: &[&str] = &[
    "awkgram.tab.c",
    "b.c",
    "lex.c",
    "lib.c",
    "main.c",
    "parse.c",
    "proctab.c",
    "run.c",
    "tran.c",
    "wasi_shim.c",
];

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=tools.txt");
    println!("cargo:rerun-if-changed=onetrue-awk");

    let text = fs::read_to_string(dir.join("tools.txt")).expect("reading tools.txt");
    let mut names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "tools.txt names a program twice");
    let mut code = String::from("/// Every program name this module answers to, sorted.\npub const PROGRAMS: &[&str] = &[\n");
    for n in &names {
        writeln!(code, "    {n:?},").unwrap();
    }
    code.push_str("];\n");
    fs::write(out.join("programs.rs"), code).unwrap();

    let awk = dir.join("onetrue-awk");
    let mut build = cc::Build::new();
    build
        .files(AWK_SOURCES.iter().map(|f| awk.join(f)))
        .include(&awk)
        // main() becomes a function the Rust side calls (src/awk.rs).
        .define("main", "onetrue_awk_main")
        .opt_level(2)
        .warnings(false)
        .flag_if_supported("-Wno-implicit-function-declaration")
        // `assert` names its file: keep the checkout's path out of the
        // module, so its bytes (and digest) are the same on every machine.
        .flag(format!("-ffile-prefix-map={}=/onetrue-awk", awk.display()));
    build.compile("onetrue_awk");
}
