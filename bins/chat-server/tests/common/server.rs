//! The real `chat-server` binary on an ephemeral port: starting it, stopping it, reading JSON.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running server, killed on drop if the test did not stop it.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn command(db: &Path, bind: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-server"));
    cmd.arg("--db")
        .arg(db)
        .arg("--bind")
        .arg(bind)
        .env_remove("CHAT_TOKEN")
        .env_remove("CHAT_BIND")
        .env_remove("CHAT_DB")
        .env_remove("CHAT_LLM_BASE_URL")
        .env_remove("CHAT_LLM_MODEL")
        .env_remove("CHAT_LLM_API_KEY")
        .env("CHAT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts the server and reads the `listening on http://ADDR` line.
pub fn start(mut cmd: Command) -> Server {
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let port = addr.rsplit(':').next().unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The response body as JSON (`Null` when it is not JSON).
pub async fn json_of<S>(res: &mut awc::ClientResponse<S>) -> Value
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
{
    serde_json::from_slice(&res.body().limit(64 << 20).await.unwrap()).unwrap_or(Value::Null)
}
