#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Runs the browser test suite (`tests/browser/*.test.mjs`: node's test runner driving Debian's
//! headless Chromium through playwright-core) against the `chat-server` binary cargo just built.
//!
//! What the suite needs is installed here when missing, so `cargo test --workspace` works on a
//! fresh Debian machine with only the Rust toolchain (as root, with apt): Chromium and Node.js
//! from Debian's packages, playwright-core from the npm registry (`npm ci`, pinned by
//! package-lock.json; playwright never downloads a browser of its own). Without apt or root the
//! test fails with the command to run; it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn apt_install(packages: &[&str]) {
    assert!(
        have("apt-get") && is_root(),
        "the browser tests need {packages:?}: install them (e.g. `sudo apt-get install -y {}`) and run the tests again",
        packages.join(" ")
    );
    let update = Command::new("apt-get")
        .args(["update", "-qq"])
        .status()
        .unwrap();
    assert!(update.success(), "apt-get update failed");
    let install = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .unwrap();
    assert!(install.success(), "apt-get install {packages:?} failed");
}

fn chromium() -> PathBuf {
    let path =
        PathBuf::from(std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !path.exists() {
        apt_install(&["chromium"]);
    }
    assert!(path.exists(), "no Chromium at {}", path.display());
    path
}

fn ensure_node(dir: &Path) {
    if !have("node") || !have("npm") {
        apt_install(&["nodejs", "npm"]);
    }
    let installed = dir.join("node_modules/playwright-core/package.json");
    if !installed.exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
}

#[test]
fn browser_suite_passes_against_the_real_server() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = chromium();
    ensure_node(&dir);
    let out = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .current_dir(&dir)
        .env("CHAT_SERVER_BIN", env!("CARGO_BIN_EXE_chat-server"))
        .env("CHROMIUM_BIN", &chromium)
        .env_remove("CHAT_TOKEN")
        .env_remove("CHAT_DB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the browser suite failed (see the output above)"
    );
    // The spec reporter ends with "ℹ pass N" / "ℹ fail 0": make sure tests actually ran.
    let passed = stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("ℹ pass ")
                .and_then(|n| n.trim().parse::<u32>().ok())
        })
        .unwrap_or(0);
    assert!(passed > 0, "the browser suite ran no test");
}
