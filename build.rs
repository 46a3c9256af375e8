//! Builds the WebAssembly modules that pg_shell ships (src/bundled.rs).
//!
//! The guest programs live in `wasm-tools/`, a cargo workspace of their own.
//! This script runs the same cargo that is building pg_shell on it:
//!
//!   cargo build --release --locked --target wasm32-wasip1 \
//!       --manifest-path wasm-tools/Cargo.toml --target-dir target/wasm-tools
//!
//! and copies `coreutils.wasm`, `fixtures.wasm` and `fsconform.wasm` into
//! OUT_DIR, together with `coreutils_programs.rs`, the program names read
//! from `wasm-tools/coreutils/tools.txt` (the list the multicall module
//! dispatches on). The nested build always runs in release mode and in its
//! own target directory, so it stays warm across pg_shell's profiles and
//! never touches the directory the outer cargo has locked. The build always
//! produces real modules: there is no switch to skip it.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip1";
const MODULES: &[&str] = &["coreutils", "fixtures", "fsconform"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let tools_dir = manifest_dir.join("wasm-tools");
    let target_dir = manifest_dir.join("target").join("wasm-tools");

    println!("cargo:rerun-if-changed=build.rs");
    watch_sources(&tools_dir);

    let programs = coreutils_programs(&tools_dir.join("coreutils").join("tools.txt"));
    fs::write(out_dir.join("coreutils_programs.rs"), programs)
        .expect("writing coreutils_programs.rs");

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    ensure_wasm_target(&rustc);

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&tools_dir)
        .args(["build", "--release", "--locked", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(tools_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    scrub_env(&mut cmd);

    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {cargo:?} to build wasm-tools: {e}"));
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!(
            "building the WASI modules in {} failed ({}); the nested cargo's output is above.\n\
             If you changed wasm-tools/*/Cargo.toml, update wasm-tools/Cargo.lock \
             (`cargo update --manifest-path wasm-tools/Cargo.toml --workspace`) and commit it.",
            tools_dir.display(),
            output.status
        );
    }

    let built = target_dir.join(WASM_TARGET).join("release");
    for module in MODULES {
        let from = built.join(format!("{module}.wasm"));
        let to = out_dir.join(format!("{module}.wasm"));
        fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
    }
}

/// Reruns this script when anything in `wasm-tools/` except its build output
/// changes (directories are scanned recursively by cargo).
fn watch_sources(tools_dir: &Path) {
    let entries =
        fs::read_dir(tools_dir).unwrap_or_else(|e| panic!("{}: {e}", tools_dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("reading wasm-tools/").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "target"))
        .collect();
    paths.sort();
    for path in paths {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `&[...]`: the first word of every non-comment line of tools.txt, sorted as
/// the multicall module sorts them for `coreutils --list`.
fn coreutils_programs(tools_txt: &Path) -> String {
    let text =
        fs::read_to_string(tools_txt).unwrap_or_else(|e| panic!("{}: {e}", tools_txt.display()));
    let mut names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    names.sort_unstable();
    names.dedup();
    let items: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("&[{}]\n", items.join(", "))
}

/// Installs the wasm32-wasip1 standard library through rustup when the
/// toolchain building us lacks it, and fails clearly when that is impossible.
fn ensure_wasm_target(rustc: &OsString) {
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| {
            panic!(
                "could not run `{} --print sysroot`",
                rustc.to_string_lossy()
            )
        });
    let installed = |s: &Path| {
        s.join("lib")
            .join("rustlib")
            .join(WASM_TARGET)
            .join("lib")
            .is_dir()
    };
    if installed(&sysroot) {
        return;
    }

    // A rustup toolchain's sysroot is .../toolchains/<name>; name it so rustup
    // adds the target to the toolchain actually in use.
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", WASM_TARGET]);
    if sysroot
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "toolchains")
    {
        rustup.arg("--toolchain").arg(sysroot.file_name().unwrap());
    }
    println!("cargo:warning=installing the {WASM_TARGET} target: {rustup:?}");
    let status = rustup.status();
    if !matches!(status, Ok(s) if s.success()) || !installed(&sysroot) {
        panic!(
            "pg_shell embeds WebAssembly modules built for {WASM_TARGET}, but the Rust toolchain at {} \
             has no {WASM_TARGET} standard library and `rustup target add {WASM_TARGET}` did not install it \
             ({}). Install the target for this toolchain and build again.",
            sysroot.display(),
            match status {
                Ok(s) => format!("rustup exited with {s}"),
                Err(e) => format!("could not run rustup: {e}"),
            }
        );
    }
}

/// Removes what the outer build puts in the environment that would change the
/// nested one: cargo's per-build-script variables, configuration overrides
/// (target, target dir, profiles, flags, `cargo clippy`'s workspace wrapper),
/// and inputs uucore's build script reads (LANG picks which translations get
/// embedded; keep the module bytes the same on every machine).
fn scrub_env(cmd: &mut Command) {
    // Kept: where cargo lives and how it reaches the registry, its terminal
    // settings, and the jobserver, so the nested build shares the outer -j.
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_HOME",
        "CARGO_MAKEFLAGS",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTDOC",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        "NUM_JOBS",
        "RUSTC_LINKER",
        "LANG",
        "UUCORE_TARGET_UTIL",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_var =
            key.starts_with("CARGO_") && !KEEP_PREFIXES.iter().any(|p| key.starts_with(p));
        if cargo_var
            || key.starts_with("__CARGO")
            || key.starts_with("DEP_")
            || REMOVE.contains(&key)
        {
            cmd.env_remove(key);
        }
    }
}
