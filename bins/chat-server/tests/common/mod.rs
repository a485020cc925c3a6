//! Running the node test suites (browser, MCP) from cargo: what they need is installed here
//! when missing, so `cargo test --workspace` works on a fresh Debian machine with only the Rust
//! toolchain (as root, with apt): Node.js (and Chromium for the browser suite) from Debian's
//! packages, the suite's npm packages with `npm ci` (pinned by its package-lock.json). Without
//! apt or root a test fails with the command to run; it never skips, in CI or elsewhere.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

pub mod server;

pub fn have(cmd: &str) -> bool {
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

/// Installs Debian packages, or fails saying which to install.
pub fn apt_install(packages: &[&str]) {
    assert!(
        have("apt-get") && is_root(),
        "the node test suites need {packages:?}: install them (e.g. `sudo apt-get install -y {}`) and run the tests again",
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

/// Makes sure node, npm and the suite's packages (`marker`: one of them) are installed.
pub fn ensure_node(dir: &Path, marker: &str) {
    if !have("node") || !have("npm") {
        apt_install(&["nodejs", "npm"]);
    }
    let installed = dir.join("node_modules").join(marker).join("package.json");
    if !installed.exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
}

/// Runs `node --test` in `dir` against the chat-server binary cargo just built, with `env`
/// added; fails unless every test passed and at least one ran.
pub fn run_node_suite(dir: &Path, env: &[(&str, &str)]) {
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .current_dir(dir)
        .env("CHAT_SERVER_BIN", env!("CARGO_BIN_EXE_chat-server"))
        .env_remove("CHAT_TOKEN")
        .env_remove("CHAT_DB");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the node suite in {} failed (see the output above)",
        dir.display()
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
    assert!(
        passed > 0,
        "the node suite in {} ran no test",
        dir.display()
    );
}
