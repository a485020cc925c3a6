//! A throwaway PostgreSQL server for tests (feature `test-server`): Debian's `postgresql`
//! packages, installed with apt when missing, run as the `postgres` user (PostgreSQL refuses
//! to run as root) on a free loopback port with its data and socket folders in a temporary
//! folder. One server per test process ([`PgServer::shared`]), a fresh database per test
//! ([`PgServer::database`]); tests that stop and restart a server start their own
//! ([`PgServer::start`]).
//!
//! A server never outlives the process that started it: a watchdog (its own session, so a
//! Ctrl-C of the test run does not take it down first) polls the test process and stops the
//! server with `pg_ctl stop -m immediate` as soon as that process is gone, however it ended
//! (a static is never dropped, and a killed test runs no destructor), then removes the folder.
//!
//! This never skips: when PostgreSQL cannot be installed or started the caller gets an error
//! saying what to run, and the tests that need it fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The Debian packages the server needs.
const PACKAGES: &[&str] = &["postgresql", "postgresql-contrib"];

/// A PostgreSQL server in a temporary folder.
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    /// Whether commands run through `runuser -u postgres` (we are root).
    as_postgres: bool,
}

/// Databases made by this process, for unique names.
static NEXT_DB: AtomicU64 = AtomicU64::new(0);

fn fail(what: impl Into<String>) -> Error {
    Error::InvalidInput(format!("test PostgreSQL server: {}", what.into()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// Installs Debian's packages (as root, with apt), without the packaged cluster: the tests
/// run their own servers, and no postmaster may be left behind.
fn install() -> Result<()> {
    if !is_root() || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(fail(format!(
            "PostgreSQL is not installed; install it (e.g. `sudo apt-get install -y {}`) and \
             run the tests again",
            PACKAGES.join(" ")
        )));
    }
    let conf = Path::new("/etc/postgresql-common/createcluster.conf");
    if !conf.exists() {
        let _ = std::fs::create_dir_all("/etc/postgresql-common");
        let _ = std::fs::write(conf, "create_main_cluster = false\n");
    }
    let run = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !run(&["update", "-qq"]) {
        return Err(fail("apt-get update failed"));
    }
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(PACKAGES);
    if !run(&args) {
        return Err(fail(format!(
            "apt-get install {} failed",
            PACKAGES.join(" ")
        )));
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| fail(e.to_string()))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| fail(e.to_string()))
}

impl PgServer {
    /// The server shared by every test of this process, started on first use.
    pub fn shared() -> Result<&'static PgServer> {
        static SHARED: OnceLock<std::result::Result<PgServer, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| PgServer::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::InvalidInput(e.clone()))
    }

    /// A new server of its own (for tests that stop and restart it).
    pub fn start() -> Result<PgServer> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => {
                install()?;
                find_bin().ok_or_else(|| fail("initdb not found after installing"))?
            }
        };
        let root = std::env::temp_dir().join(format!(
            "chat-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(root.join("socket")).map_err(|e| fail(e.to_string()))?;
        let as_postgres = is_root();
        let server = PgServer {
            bin,
            root,
            port: free_port()?,
            as_postgres,
        };
        if as_postgres {
            server.check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&server.root),
            )?;
        }
        server.watch()?;
        server.check(server.command("initdb").arg("-D").arg(server.data()).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        server.pg_start()?;
        Ok(server)
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// A command of the server's bin folder, run as `postgres` when we are root.
    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.stdin(Stdio::null());
        cmd
    }

    fn check(&self, cmd: &mut Command) -> Result<()> {
        let out = cmd.output().map_err(|e| fail(format!("{cmd:?}: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!(
                "{cmd:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Starts a process in a session of its own that stops the server and removes its folder
    /// once this process is gone.
    fn watch(&self) -> Result<()> {
        let stop = format!(
            "{} -D '{}' stop -m immediate",
            self.bin.join("pg_ctl").display(),
            self.data().display()
        );
        let stop = if self.as_postgres {
            format!("runuser -u postgres -- {stop}")
        } else {
            stop
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{root}'",
            pid = std::process::id(),
            root = self.root.display()
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| fail(format!("cannot start the watchdog: {e}")))
    }

    /// (Re)starts the server on its port; waits until it accepts connections.
    pub fn pg_start(&self) -> Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB",
            self.port,
            self.root.join("socket").display()
        );
        self.check(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.root.join("server.log"))
                .args(["-o", &options, "-w", "start"]),
        )
    }

    /// Stops the server at once (`-m immediate`: like a crash, clients see their connections
    /// drop).
    pub fn pg_stop(&self) -> Result<()> {
        self.check(self.command("pg_ctl").arg("-D").arg(self.data()).args([
            "-m",
            "immediate",
            "-w",
            "stop",
        ]))
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new empty database; dropped with the returned guard.
    pub fn database(&'static self) -> Result<TestDatabase> {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        self.admin(&format!("CREATE DATABASE {name} TEMPLATE template0"))?;
        Ok(TestDatabase { server: self, name })
    }

    /// Runs an administrative statement in the `postgres` database.
    pub fn admin(&self, statement: &str) -> Result<()> {
        // On a thread of its own, so that async tests may call it (see `crate::Store::open`).
        std::thread::scope(|s| {
            s.spawn(|| self.admin_here(statement))
                .join()
                .unwrap_or_else(|_| Err(fail(format!("{statement}: panicked"))))
        })
    }

    fn admin_here(&self, statement: &str) -> Result<()> {
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(|e| fail(format!("connecting: {e}")))?;
        client
            .batch_execute(statement)
            .map_err(|e| fail(format!("{statement}: {e}")))
    }
}

impl Drop for PgServer {
    /// Stops a server of its own (the shared one is stopped by its watchdog) and removes its
    /// folder.
    fn drop(&mut self) {
        let _ = self.pg_stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A database of the shared server, dropped (connections closed) with this guard.
#[derive(Debug)]
pub struct TestDatabase {
    server: &'static PgServer,
    name: String,
}

impl TestDatabase {
    /// Its URL.
    pub fn url(&self) -> String {
        self.server.url(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = self.server.admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Which database a parameterised test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temp folder.
    Sqlite,
    /// A fresh database of this process's shared PostgreSQL server.
    Postgres,
}

thread_local! {
    static BACKEND: std::cell::Cell<Backend> = const { std::cell::Cell::new(Backend::Sqlite) };
}

impl Backend {
    /// Makes [`test_store`] open this backend for the rest of the test (each test runs on its
    /// own thread, async ones too). Tests take it as
    /// `#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend`, so the same body runs
    /// on both.
    pub fn enter(self) {
        BACKEND.with(|b| b.set(self));
    }

    /// The backend this thread's test entered (SQLite if none).
    pub fn current() -> Backend {
        BACKEND.with(std::cell::Cell::get)
    }
}

/// A fresh store on the current test's backend ([`Backend::enter`]): a SQLite file `chat.db`
/// in `dir`, or a new PostgreSQL database (kept while the returned guard lives). Panics
/// (failing the test, never skipping it) when PostgreSQL cannot start.
#[allow(clippy::panic)]
pub fn test_store(dir: &Path) -> (Option<TestDatabase>, crate::Store) {
    let open = |location: &str| {
        crate::Store::open(location).unwrap_or_else(|e| panic!("opening {location}: {e}"))
    };
    match Backend::current() {
        Backend::Sqlite => (None, open(&dir.join("chat.db").to_string_lossy())),
        Backend::Postgres => {
            let db = PgServer::shared()
                .and_then(PgServer::database)
                .unwrap_or_else(|e| panic!("PostgreSQL for the tests: {e}"));
            let store = open(&db.url());
            (Some(db), store)
        }
    }
}
