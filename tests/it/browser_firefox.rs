//! End to end in Firefox (issue 11): headless Firefox ESR, driven through
//! WebDriver (selenium-webdriver from tests/e2e/firefox.mjs, geckodriver)
//! against `pg_shell serve` and an in-process executor. Screenshots land in
//! target/screenshots/ as ff-*.png.
//!
//! Needs Node.js, Firefox ESR and geckodriver, and installs the last two when
//! missing so that a fresh Debian machine passes with no manual step:
//! - Firefox: /usr/bin/firefox-esr (or $FIREFOX); when missing and running as
//!   root, `apt-get install -y firefox-esr`.
//! - geckodriver: $GECKODRIVER if set; else `<cache>/bin/geckodriver`, built
//!   from crates.io on first use by `cargo install geckodriver --locked
//!   --version GECKODRIVER_VERSION --root <cache>` (a few minutes, once), where
//!   the cache is /var/cache/pg_shell/geckodriver as root, else
//!   $HOME/.cache/pg_shell/geckodriver. A file lock in the cache serializes
//!   that build between test processes.
//!
//! The script is handed both paths, so selenium-manager never looks for (or
//! downloads) a browser or a driver.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::browser::{clear_screenshots, e2e_dir, node_modules, screenshot_dir, Server, PASSWORD};
use crate::support::TestDb;

/// The geckodriver built from crates.io (0.37.1 builds with this rustc and
/// drives Firefox ESR 128 and later).
const GECKODRIVER_VERSION: &str = "0.37.1";

fn firefox() -> PathBuf {
    let path = PathBuf::from(std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".into()));
    if path.exists() {
        return path;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        panic!(
            "the Firefox test needs Firefox ESR at {}: install it (Debian: `apt-get install firefox-esr`) \
             or point $FIREFOX at a Firefox binary",
            path.display()
        );
    }
    crate::browser::apt_install(&["firefox-esr"]);
    assert!(path.exists(), "apt-get installed firefox-esr but {} is still missing", path.display());
    path
}

/// Whether `bin` is a geckodriver of the pinned version.
fn is_pinned_geckodriver(bin: &std::path::Path) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).starts_with(&format!("geckodriver {GECKODRIVER_VERSION}")))
        .unwrap_or(false)
}

fn geckodriver() -> PathBuf {
    if let Ok(path) = std::env::var("GECKODRIVER") {
        let path = PathBuf::from(path);
        assert!(path.exists(), "$GECKODRIVER is {} which does not exist", path.display());
        return path;
    }
    // SAFETY: geteuid has no preconditions.
    let cache = if unsafe { libc::geteuid() } == 0 {
        PathBuf::from("/var/cache/pg_shell/geckodriver")
    } else {
        PathBuf::from(std::env::var("HOME").expect("$HOME")).join(".cache/pg_shell/geckodriver")
    };
    let bin = cache.join("bin/geckodriver");
    if is_pinned_geckodriver(&bin) {
        return bin;
    }
    std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("creating {}: {e}", cache.display()));
    // One build at a time, across processes: the others wait here, then find it built.
    let lock = std::fs::File::create(cache.join(".install.lock")).unwrap();
    lock.lock().expect("locking the geckodriver cache");
    if is_pinned_geckodriver(&bin) {
        return bin;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let out = Command::new(&cargo)
        // --force: the cache may record an install whose binary is gone or of another version.
        .args(["install", "geckodriver", "--locked", "--force", "--version", GECKODRIVER_VERSION, "--root"])
        .arg(&cache)
        // Its own build directory (removed after: ~400 MB), not the test's
        // target dir, and away from this crate's config.
        .env("CARGO_TARGET_DIR", cache.join("build"))
        .current_dir(&cache)
        .output()
        .expect("running cargo install geckodriver");
    assert!(
        out.status.success() && is_pinned_geckodriver(&bin),
        "cargo install geckodriver {GECKODRIVER_VERSION} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(cache.join("build"));
    eprintln!("built geckodriver {GECKODRIVER_VERSION} from crates.io in {:.0} s", started.elapsed().as_secs_f64());
    bin
}

#[tokio::test]
async fn a_user_logs_in_runs_commands_and_cancels_one_in_firefox() {
    let firefox = firefox();
    let geckodriver = geckodriver();
    node_modules();
    let mut db = TestDb::new().await;
    db.start_executor();
    pg_shell::db::upsert_user(&db.admin().await, "fiona", "user", Some(PASSWORD)).await.unwrap();
    let server = Server::start(&db);
    let shots = screenshot_dir();
    clear_screenshots(|name| name.starts_with("ff-"));

    let run = tokio::process::Command::new("node")
        .arg(e2e_dir().join("firefox.mjs"))
        .args([server.url.as_str(), "fiona", PASSWORD])
        .arg(&shots)
        .env("FIREFOX", &firefox)
        .env("GECKODRIVER", &geckodriver)
        // selenium-manager is never needed (both paths are given): make sure it stays offline.
        .env("SE_OFFLINE", "true")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run).await.expect("the Firefox script timed out").unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no report from the Firefox script: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        out.status.success() && report["ok"] == true,
        "Firefox run failed: {report:#}\nstderr: {}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );

    assert_eq!(report["browser"]["name"], "firefox", "{report:#}");
    assert!(!report["login_error"].as_str().unwrap().trim().is_empty(), "the wrong password said nothing: {report:#}");
    let outputs = &report["outputs"];
    assert_eq!(outputs["echo hi"], "hi\n");
    assert_eq!(outputs["mkdir d"], "");
    assert_eq!(outputs["cd d"], "");
    assert_eq!(outputs["pwd"], "/d\n");
    assert_eq!(report["prompt"], "/d", "the prompt follows cd: {report:#}");
    assert_eq!(report["recalled"], "pwd", "ArrowUp recalls the last line: {report:#}");
    assert_eq!(report["colours"]["red"], "red", "{report:#}");
    assert_eq!(report["colours"]["green"], "<img src=x id=pwn>", "{report:#}");
    assert_eq!(report["colours"]["img"], false, "an escape sequence made markup: {report:#}");
    let live = &report["live"];
    assert_eq!(live["running"], true, "{report:#}");
    assert_eq!(live["cancel"], true, "a running command has a cancel button: {report:#}");
    assert!(live["out"].as_str().unwrap().starts_with("start\nlater\n") && !live["out"].as_str().unwrap().contains("end"), "{report:#}");
    assert_eq!(report["live_final"], "start\nlater\nend\n", "{report:#}");
    assert_eq!(report["cancelled"], true, "{report:#}");
    let sid = report["session"].as_str().unwrap();
    assert!(report["reloaded_url"].as_str().unwrap().contains(&format!("session={sid}")), "{report:#}");
    assert_eq!(report["reloaded_on_session"], true, "{report:#}");
    assert_eq!(report["csp"], serde_json::json!([]), "no Content-Security-Policy violations: {report:#}");
    // The listener is live in Firefox: an inline script injected on purpose was blocked and reported.
    assert_eq!(report["csp_probe"]["caught"], true, "{report:#}");
    assert_eq!(report["csp_probe"]["ran"], false, "{report:#}");
    // ... and Firefox's console said so too (the BiDi log channel is live).
    assert!(report["csp_probe"]["console"][0].as_str().unwrap_or("").contains("Content-Security-Policy"), "{report:#}");
    assert_eq!(report["console_errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["logged_out"], true, "{report:#}");
    eprintln!("Firefox {}: figures {}; CSP probe {}", report["browser"]["version"], report["figures"], report["csp_probe"]);
    for name in ["ff-01-login-failed.png", "ff-02-terminal.png", "ff-03-running.png", "ff-04-reloaded.png"] {
        let png = std::fs::read(shots.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5000, "{name} is a real screenshot");
    }
    // What the page showed is what the database recorded.
    let cancelled: i64 = db
        .admin()
        .await
        .query_one("select count(*) from pgshell.commands where line = 'sleep 30' and status = 'cancelled'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(cancelled, 1, "the cancel button cancelled the command");
    crate::browser::assert_the_web_session_is_audited(&db, "fiona").await;
}
