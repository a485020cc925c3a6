//! Connecting to PostgreSQL: the URL (TLS options read here, the password never shown), the
//! pooled connection with its statement cache, and telling "the server is gone" apart from
//! other errors.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

pub(crate) use crate::error::{error_text, is_connection_error, pg_error};
use crate::error::{Error, Result};

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub(crate) fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// A database location fit for messages and logs: a PostgreSQL URL loses its password
/// (`postgres://user:***@host/db`); a file path is returned as it is.
pub fn redact(location: &str) -> String {
    if !is_postgres_url(location) {
        return location.to_owned();
    }
    let (scheme, rest) = location.split_once("://").unwrap_or(("postgres", location));
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    // A password may also come as a query parameter.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Decodes `%XX` escapes of a URL parameter.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the store connects with: the client configuration, TLS, and how to name the server.
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    /// `host:port, database name, user`, for messages.
    pub(crate) name: Arc<str>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).finish()
    }
}

impl Target {
    /// Reads a `postgres://` URL. `sslmode=require` (also `verify-ca`, `verify-full`) turns TLS
    /// on, always verifying the server's certificate against the system's roots plus the
    /// certificates of `sslrootcert=<file>`; `disable` and `prefer` (the default) connect
    /// without TLS.
    pub(crate) fn parse(url: &str) -> Result<Target> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let mut tls_wanted = false;
        let mut root_cert = None;
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
            match key {
                "sslmode" => {
                    tls_wanted = match value {
                        "require" | "verify-ca" | "verify-full" => true,
                        "disable" | "prefer" | "allow" => false,
                        other => {
                            return Err(Error::InvalidInput(format!(
                                "sslmode={other} is not understood; use disable, prefer, \
                                 require, verify-ca or verify-full"
                            )))
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(percent_decode(value)),
                _ => kept.push(kv),
            }
        }
        let clean = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = Config::from_str(&clean).map_err(|e| {
            Error::InvalidInput(format!(
                "{} is not a PostgreSQL URL this program understands: {e}",
                redact(url)
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("chat-server");
        }
        config.ssl_mode(if tls_wanted {
            SslMode::Require
        } else {
            SslMode::Disable
        });
        let tls = if tls_wanted {
            Some(tls_connector(root_cert.as_deref())?)
        } else {
            None
        };
        let name = describe(&config).into();
        Ok(Target { config, tls, name })
    }

    /// A new connection.
    pub(crate) fn connect(&self) -> std::result::Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }

    /// A new connection; failure is [`Error::Unavailable`] naming the server and what to check.
    pub(crate) fn connect_or_explain(&self) -> Result<Client> {
        self.connect().map_err(|e| {
            if e.as_db_error().is_some() {
                // The server answered: a wrong password, an unknown database, ...
                Error::Unavailable(format!(
                    "the PostgreSQL server at {} refused the connection: {e}; check the user, \
                     password and database name in the URL",
                    self.name
                ))
            } else {
                Error::Unavailable(format!(
                    "cannot connect to the PostgreSQL server at {}: {}; check that the server \
                     is running and listens on that host and port (listen_addresses, port), \
                     that no firewall is in the way, that pg_hba.conf lets this user in from \
                     this machine, and the TLS settings (sslmode, sslrootcert)",
                    self.name,
                    error_text(&e)
                ))
            }
        })
    }
}

/// `host:port, database d, user u` of a configuration.
fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let host = if hosts.is_empty() {
        "localhost:5432".to_owned()
    } else {
        hosts.join(",")
    };
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or(user);
    format!("{host} (database {db}, user {user})")
}

/// A rustls connector that verifies the server against the system's roots and `root_cert`.
fn tls_connector(root_cert: Option<&str>) -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A certificate of the system's store that rustls cannot use is skipped.
        let _ = roots.add(cert);
    }
    if let Some(path) = root_cert {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::InvalidInput(format!("sslrootcert {path} cannot be read: {e}")))?;
        for cert in certs {
            let cert = cert.map_err(|e| {
                Error::InvalidInput(format!("sslrootcert {path} holds a bad certificate: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                Error::InvalidInput(format!("sslrootcert {path}: certificate refused: {e}"))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidInput(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A pooled connection: the client and its prepared statements, by SQL text (the sync client
/// keeps no cache, and preparing costs a round trip).
pub(crate) struct PgConn {
    pub(crate) client: Client,
    pub(crate) statements: HashMap<String, Statement>,
    /// Set when a transaction could not be ended: the pool drops the connection.
    pub(crate) broken: bool,
}

/// The pool's connection manager.
pub(crate) struct Manager {
    pub(crate) target: Target,
    /// The last connection failure, read when the pool times out: an unreachable server is
    /// [`Error::Unavailable`], a merely busy pool is [`Error::Pool`].
    pub(crate) last_failure: Arc<Mutex<Option<String>>>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<PgConn, postgres::Error> {
        match self.target.connect() {
            Ok(client) => {
                if let Ok(mut last) = self.last_failure.lock() {
                    *last = None;
                }
                Ok(PgConn {
                    client,
                    statements: HashMap::new(),
                    broken: false,
                })
            }
            Err(e) => {
                if let Ok(mut last) = self.last_failure.lock() {
                    *last = Some(error_text(&e));
                }
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

/// Pool errors are logged by the store where it maps them, not by r2d2.
#[derive(Debug)]
pub(crate) struct QuietErrors;

impl r2d2::HandleError<postgres::Error> for QuietErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::debug!(error = %error_text(&error), "a PostgreSQL connection attempt failed");
    }
}

/// Advisory lock every write transaction takes first (see `crate::pg`'s documentation).
pub(crate) const WRITE_LOCK: i64 = 0x6368_6174_7772_6974; // "chatwrit"

/// The pool's connection: the client in a cell, so that a repository borrowing it can run
/// statements through a shared reference.
pub(crate) struct PgCell(pub(crate) RefCell<PgConn>);

/// The pool's manager over [`PgCell`]s.
pub(crate) struct CellManager(pub(crate) Manager);

impl r2d2::ManageConnection for CellManager {
    type Connection = PgCell;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<PgCell, postgres::Error> {
        self.0.connect().map(|c| PgCell(RefCell::new(c)))
    }

    fn is_valid(&self, conn: &mut PgCell) -> std::result::Result<(), postgres::Error> {
        self.0.is_valid(conn.0.get_mut())
    }

    fn has_broken(&self, conn: &mut PgCell) -> bool {
        let c = conn.0.get_mut();
        c.broken || self.0.has_broken(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://chat:s3cret@db.example:5432/chat?sslmode=require"),
            "postgres://chat:***@db.example:5432/chat?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://db/chat?user=u&password=s3cret"),
            "postgresql://db/chat?user=u&password=***"
        );
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact("./chat.db"), "./chat.db");
        let target = Target::parse("postgres://chat:s3cret@db.example:6543/lib").unwrap();
        assert_eq!(&*target.name, "db.example:6543 (database lib, user chat)");
        assert!(!format!("{target:?}").contains("s3cret"));
    }

    #[test]
    fn bad_tls_settings_are_refused_with_what_to_do() {
        let e = Target::parse("postgres://h/d?sslmode=sometimes").unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
        let e = Target::parse("postgres://h/d?sslmode=require&sslrootcert=/nonexistent.pem")
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent.pem"), "{e}");
    }
}
