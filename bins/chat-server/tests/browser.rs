#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Runs the browser test suite (`tests/browser/*.test.mjs`: node's test runner driving Debian's
//! headless Chromium through playwright-core) against the `chat-server` binary cargo just built.
//!
//! What the suite needs is installed here when missing (see `common`): Chromium and Node.js
//! from Debian's packages, playwright-core from the npm registry (`npm ci`, pinned by
//! package-lock.json; playwright never downloads a browser of its own). Without apt or root the
//! test fails with the command to run; it never skips.

mod common;

use std::path::{Path, PathBuf};

fn chromium() -> PathBuf {
    let path =
        PathBuf::from(std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !path.exists() {
        common::apt_install(&["chromium"]);
    }
    assert!(path.exists(), "no Chromium at {}", path.display());
    path
}

#[test]
fn browser_suite_passes_against_the_real_server() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = chromium();
    common::ensure_node(&dir, "playwright-core");
    common::run_node_suite(&dir, &[("CHROMIUM_BIN", &chromium.to_string_lossy())]);
}
