//! Builds the WebAssembly modules that pg_shell ships (src/bundled.rs).
//!
//! The guest programs live in `wasm-tools/`, a cargo workspace of their own.
//! This script runs the same cargo that is building pg_shell on it:
//!
//!   cargo build --release --locked --target wasm32-wasip1 \
//!       --manifest-path wasm-tools/Cargo.toml --target-dir target/wasm-tools
//!
//! and copies `coreutils.wasm`, `textutils.wasm`, `fixtures.wasm` and
//! `fsconform.wasm` into OUT_DIR, together with `coreutils_programs.rs` and
//! `textutils_programs.rs`, the program names read from
//! `wasm-tools/{coreutils,textutils}/tools.txt` (the lists the multicall
//! modules dispatch on). The nested build always runs in release mode and in
//! its own target directory, so it stays warm across pg_shell's profiles and
//! never touches the directory the outer cargo has locked. The build always
//! produces real modules: there is no switch to skip it.
//!
//! `PG_SHELL_WASM_CACHE=DIR` moves that build out of the checkout, so fresh
//! clones (CI) reuse it: `wasm-tools/` is mirrored by content into `DIR/src`
//! (a file is rewritten only when its bytes differ, so cargo sees unchanged
//! sources as unchanged) and built into `DIR/target`, under a lock on
//! `DIR/lock` held until the modules are copied out. The paths in the modules
//! are remapped as for a build in the checkout, so the bytes are the same.
//!
//! textutils has C in it (the one true awk, and oniguruma under uutils
//! findutils), so the nested build also needs a clang that can compile for
//! WASI against a wasi-libc sysroot, and an archiver for its objects.
//! `wasi_c_toolchain` finds one (or takes `CC_wasm32_wasip1` as given) and
//! hands it to the nested cargo as `CC_/CFLAGS_/AR_wasm32_wasip1`, which the
//! `cc` crate reads; on Debian or Ubuntu as root it installs `clang`, `llvm`
//! and `wasi-libc` with apt-get when none is found (as the test suite
//! installs PostgreSQL and Chromium); elsewhere it stops with what to install.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip1";
const MODULES: &[&str] = &["coreutils", "textutils", "fixtures", "fsconform"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let tools_dir = manifest_dir.join("wasm-tools");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PG_SHELL_WASM_CACHE");
    watch_sources(&tools_dir);
    // Where the nested build runs; `_lock` is held to the end of main.
    let (src_dir, target_dir, _lock) = match env::var_os("PG_SHELL_WASM_CACHE").filter(|v| !v.is_empty()) {
        None => (tools_dir.clone(), manifest_dir.join("target").join("wasm-tools"), None),
        Some(cache) => {
            let cache = PathBuf::from(cache);
            fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("PG_SHELL_WASM_CACHE {}: {e}", cache.display()));
            let lock = fs::File::create(cache.join("lock"))
                .and_then(|f| f.lock().map(|()| f))
                .unwrap_or_else(|e| panic!("locking {}/lock: {e}", cache.display()));
            mirror(&tools_dir, &cache.join("src"));
            (cache.join("src"), cache.join("target"), Some(lock))
        }
    };
    // For the test that no module names a path of this machine.
    println!("cargo:rustc-env=PG_SHELL_WASM_BUILD_DIRS={}:{}", src_dir.display(), target_dir.display());

    for module in ["coreutils", "textutils"] {
        let programs = program_list(&tools_dir.join(module).join("tools.txt"));
        fs::write(out_dir.join(format!("{module}_programs.rs")), programs)
            .unwrap_or_else(|e| panic!("writing {module}_programs.rs: {e}"));
    }

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    ensure_wasm_target(&rustc);

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&src_dir)
        .args(["build", "--release", "--locked", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(src_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    scrub_env(&mut cmd);
    let mut remaps = path_remaps(&src_dir);
    if src_dir != tools_dir {
        remaps.extend(remap_flags(&target_dir, "/wasm-target"));
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", remaps.join("\x1f"));
    let toolchain = wasi_c_toolchain(&out_dir);
    if !toolchain.is_empty() {
        let shown: Vec<String> =
            toolchain.iter().map(|(k, v)| format!("{k}={}", v.to_string_lossy())).collect();
        println!("cargo:warning=C for WASI: {}", shown.join(" "));
    }
    for (key, value) in toolchain {
        cmd.env(key, value);
    }

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

/// `--remap-path-prefix` flags that keep this machine's paths out of the
/// modules: panic locations name source files, and a registry crate's path is
/// absolute (`$CARGO_HOME/registry/src/...`). Without them a module's bytes,
/// and so its digest, would depend on the user's home directory and where the
/// checkout lives, and a session recorded on one machine would not replay on
/// another (the plan pins module digests). Cargo 1.85+ keeps RUSTFLAGS out of
/// `-C metadata`, so the flags themselves, which do name this machine's
/// paths, do not change symbol hashes. (The C in textutils is mapped by its
/// own build script with `-ffile-prefix-map`.)
fn path_remaps(tools_dir: &Path) -> Vec<String> {
    let mut homes: Vec<PathBuf> = Vec::new();
    if let Some(home) = env::var_os("CARGO_HOME") {
        homes.push(home.into());
    } else if let Some(home) = env::var_os("HOME") {
        homes.push(Path::new(&home).join(".cargo"));
    }
    let mut dirs: Vec<(PathBuf, &str)> = homes.into_iter().map(|h| (h, "/cargo")).collect();
    dirs.push((tools_dir.to_path_buf(), "/wasm-tools"));
    let mut flags = Vec::new();
    for (dir, to) in dirs {
        for flag in remap_flags(&dir, to) {
            if !flags.contains(&flag) {
                flags.push(flag);
            }
        }
    }
    flags
}

/// `--remap-path-prefix` for a directory as given and as canonicalized.
fn remap_flags(dir: &Path, to: &str) -> Vec<String> {
    let mut flags = vec![format!("--remap-path-prefix={}={to}", dir.display())];
    if let Some(canonical) = dir.canonicalize().ok().filter(|c| c != dir) {
        flags.push(format!("--remap-path-prefix={}={to}", canonical.display()));
    }
    flags
}

/// Makes `to` hold exactly the files of `from` (but `from`'s build output,
/// `target/`), writing only the files whose bytes differ, so their times, and
/// cargo's view of what changed, stay as they were.
fn mirror(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    let mut wanted = std::collections::BTreeSet::new();
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if fs::metadata(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display())).is_dir() {
            if dst.is_file() {
                fs::remove_file(&dst).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
            }
            mirror(&src, &dst);
        } else {
            let bytes = fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
            if fs::read(&dst).ok().as_deref() != Some(&bytes[..]) {
                if dst.is_dir() {
                    fs::remove_dir_all(&dst).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
                }
                fs::write(&dst, &bytes).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
            }
        }
        wanted.insert(name);
    }
    for entry in fs::read_dir(to).unwrap_or_else(|e| panic!("{}: {e}", to.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", to.display()));
        let path = entry.path();
        if !wanted.contains(&entry.file_name()) {
            let gone = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            gone.unwrap_or_else(|e| panic!("removing {}: {e}", path.display()));
        }
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
fn program_list(tools_txt: &Path) -> String {
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

/// The C compiler settings for the nested build (see the module comment):
/// `CC_wasm32_wasip1`, `CFLAGS_wasm32_wasip1`, `AR_wasm32_wasip1`. Empty when
/// the caller set `CC_wasm32_wasip1` already (then the rest is theirs too).
///
/// A candidate clang (`clang`, `clang-19` ... `clang-14`, Homebrew's llvm)
/// passes when it compiles a file including <stdio.h> for `wasm32-wasi` (the
/// name Debian's clang 14 and its wasi-libc use) or `wasm32-wasip1`, with its
/// own default sysroot or one of `WASI_SYSROOT`, /usr/share/wasi-sysroot,
/// /opt/wasi-sdk/share/wasi-sysroot, Homebrew's share/wasi-sysroot.
fn wasi_c_toolchain(out_dir: &Path) -> Vec<(&'static str, OsString)> {
    for var in ["CC_wasm32_wasip1", "CFLAGS_wasm32_wasip1", "AR_wasm32_wasip1", "WASI_SYSROOT"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if env::var_os("CC_wasm32_wasip1").is_some_and(|v| !v.is_empty()) {
        return Vec::new();
    }
    if let Some(found) = find_wasi_clang(out_dir) {
        return found;
    }
    if install_wasi_clang() {
        if let Some(found) = find_wasi_clang(out_dir) {
            return found;
        }
    }
    panic!(
        "pg_shell's textutils module (awk, and find's regular expressions) has C code, so building it needs \
         a clang that compiles for WASI with a wasi-libc sysroot, and llvm-ar; none was found. Install them \
         (Debian/Ubuntu: `apt-get install clang llvm wasi-libc`; macOS: `brew install llvm wasi-libc`, then \
         WASI_SYSROOT=$(brew --prefix)/share/wasi-sysroot and PATH=$(brew --prefix llvm)/bin:$PATH), or set \
         CC_wasm32_wasip1, CFLAGS_wasm32_wasip1 and AR_wasm32_wasip1 yourself (e.g. wasi-sdk's clang and llvm-ar)."
    );
}

fn find_wasi_clang(out_dir: &Path) -> Option<Vec<(&'static str, OsString)>> {
    let mut compilers: Vec<PathBuf> = vec!["clang".into()];
    compilers.extend((14..=19).rev().map(|v| PathBuf::from(format!("clang-{v}"))));
    for prefix in ["/opt/homebrew/opt/llvm/bin", "/usr/local/opt/llvm/bin", "/opt/wasi-sdk/bin"] {
        compilers.push(Path::new(prefix).join("clang"));
    }
    let mut sysroots: Vec<Option<PathBuf>> = vec![None];
    if let Some(s) = env::var_os("WASI_SYSROOT").filter(|s| !s.is_empty()) {
        sysroots.insert(0, Some(PathBuf::from(s)));
    }
    for s in [
        "/usr/share/wasi-sysroot",
        "/opt/wasi-sdk/share/wasi-sysroot",
        "/opt/homebrew/share/wasi-sysroot",
        "/usr/local/share/wasi-sysroot",
    ] {
        if Path::new(s).is_dir() {
            sysroots.push(Some(PathBuf::from(s)));
        }
    }
    let probe_c = out_dir.join("wasi_probe.c");
    fs::write(&probe_c, "#include <stdio.h>\n#include <stdlib.h>\nint probe(void) { return puts(getenv(\"X\")); }\n")
        .expect("writing the WASI compiler probe");
    let probe_o = out_dir.join("wasi_probe.o");
    for cc in &compilers {
        let runs = Command::new(cc).arg("--version").output().is_ok_and(|o| o.status.success());
        if !runs {
            continue;
        }
        let Some(ar) = archiver_for(cc) else { continue };
        for target in ["wasm32-wasi", "wasm32-wasip1"] {
            for sysroot in &sysroots {
                let mut flags = vec![format!("--target={target}")];
                if let Some(s) = sysroot {
                    flags.push(format!("--sysroot={}", s.display()));
                }
                let ok = Command::new(cc)
                    .args(&flags)
                    .arg("-c")
                    .arg(&probe_c)
                    .arg("-o")
                    .arg(&probe_o)
                    .output()
                    .is_ok_and(|o| o.status.success());
                if ok {
                    return Some(vec![
                        ("CC_wasm32_wasip1", cc.clone().into_os_string()),
                        ("CFLAGS_wasm32_wasip1", flags.join(" ").into()),
                        ("AR_wasm32_wasip1", ar.into_os_string()),
                    ]);
                }
            }
        }
    }
    None
}

/// llvm-ar beside `cc` (`clang-14` -> `llvm-ar-14`, or in the same
/// directory), else on PATH.
fn archiver_for(cc: &Path) -> Option<PathBuf> {
    let name = cc.file_name()?.to_string_lossy().into_owned();
    let mut candidates = Vec::new();
    if let Some(version) = name.strip_prefix("clang-") {
        candidates.push(cc.with_file_name(format!("llvm-ar-{version}")));
    }
    candidates.push(cc.with_file_name("llvm-ar"));
    candidates.push(PathBuf::from("llvm-ar"));
    candidates
        .into_iter()
        .find(|ar| Command::new(ar).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// On Debian/Ubuntu as root: `apt-get update` and `apt-get install -y clang
/// llvm wasi-libc`. Returns whether it ran and succeeded.
fn install_wasi_clang() -> bool {
    if !cfg!(target_os = "linux") || !Path::new("/usr/bin/apt-get").exists() {
        return false;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return false;
    }
    println!("cargo:warning=no clang for WASI found; installing clang, llvm and wasi-libc with apt-get");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "--no-install-recommends", "clang", "llvm", "wasi-libc"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            println!("cargo:warning=apt-get {} failed: {status:?}", args.join(" "));
            return false;
        }
    }
    true
}
