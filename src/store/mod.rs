//! The session store: every page the explorer or `sync --record` fetched, in a local SQLite
//! file, so that rounds survive a restart, a deltaLink can be tried again days later, and an
//! object's history, a search or an export are queries over what was received.
//!
//! - [`schema`]: the tables and their migrations.
//! - [`record`]: writing, on a thread of its own (a round never waits on the disk).
//! - [`read`]: sessions, their pages, an object's occurrences.
//! - [`replay`]: a stored session back into the engine ([`crate::graph::Session`]).
//! - [`history`]: one object's timeline across rounds; [`compare`]: two rounds' replicas.
//! - [`export`]: NDJSON, CSV and HAR 1.2.
//!
//! No secret is ever stored: requests are recorded without `Authorization`, sessions name the
//! identity by the token's claims (tenant, user or app id), never by the token. The file is
//! created with mode 0600 (SQLite gives its WAL files the same mode). The store knows nothing of
//! the terminal UI; the engine knows nothing of the store.
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub mod args;
pub mod compare;
pub mod describe;
pub mod export;
pub mod history;
pub mod read;
pub mod record;
pub mod replay;
pub mod schema;

pub use args::StoreArgs;
pub use read::{Occurrence, RoundRow, SessionRow, StoredPage, StoredSession};
pub use record::{Recorder, SessionInfo};

/// The store's file name in the data directory.
pub const FILE_NAME: &str = "sessions.sqlite";

/// How long a writer waits for another (the explorer and a `sync` on the same file) before
/// giving up on a write.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the store cannot be used. Each says what to do; none carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the session store {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error(
        "the session store {path} was written by a newer deltascope (schema version {found}; this one reads up to {supported}): update deltascope, or use another file with --store"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path} is not a deltascope session store (it is another SQLite database): give another file with --store"
    )]
    NotOurs { path: PathBuf },
    #[error(
        "the session store {path} is damaged ({message}): move it aside to start a new one, or give another file with --store"
    )]
    Corrupt { path: PathBuf, message: String },
    #[error("session store: {0}")]
    Sql(String),
    #[error("no session {0} in the store")]
    NoSession(i64),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(e.to_string())
    }
}

/// Where the store is: `--store`, else `DELTASCOPE_STORE`, else the data directory's
/// [`FILE_NAME`]. `None`: no data directory is known (no HOME).
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("DELTASCOPE_STORE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::dirs::data_dir().map(|d| d.join(FILE_NAME)))
}

/// An open store.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the store at `path`, creating it (and its directory) when missing, with mode 0600;
    /// brings an older schema up to date. A newer schema, another application's database or a
    /// damaged file is an error that says so (the caller goes on without a store).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.to_owned(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| open_err(format!("{}: {e}", dir.display())))?;
        }
        create_private_file(path).map_err(|e| open_err(e.to_string()))?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(e.to_string()))?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
        };
        store.prepare().map_err(|e| match e {
            StoreError::Sql(message) => classify(path, message),
            other => other,
        })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn prepare(&mut self) -> Result<(), StoreError> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // The last connection to close does not copy the WAL into the file on its way out (a
        // sync would wait for it): the next one to open does, as SQLite always may.
        self.conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        // WAL: the explorer and a `sync --record` can write the same file; readers never block.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::info!("session store journal mode {mode} (WAL not available)");
        }
        // NORMAL: WAL commits are not synced one by one (a crash may lose the last ones, never
        // the file). The default cache (2 MiB) does: rows go in in key order, no index is
        // scattered over the file.
        self.conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
        )?;
        self.migrate()
    }

    /// Creates or upgrades the schema, in one transaction per step.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let app: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tables: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if app != schema::APPLICATION_ID && (tables > 0 || version > 0) {
            return Err(StoreError::NotOurs {
                path: self.path.clone(),
            });
        }
        let supported = schema::current_version();
        if version > supported {
            return Err(StoreError::Newer {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        for (from, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!(
                "PRAGMA application_id = {}; PRAGMA user_version = {};",
                schema::APPLICATION_ID,
                from + 1
            ))?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// A SQLite error met while opening: a file that is not a database (or is damaged) says so.
fn classify(path: &Path, message: String) -> StoreError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("not a database")
        || lower.contains("malformed")
        || lower.contains("corrupt")
        || lower.contains("disk image")
    {
        StoreError::Corrupt {
            path: path.to_owned(),
            message,
        }
    } else {
        StoreError::Open {
            path: path.to_owned(),
            message,
        }
    }
}

/// The store's directory, owner-only when this creates it.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates the file with mode 0600 before SQLite opens it (SQLite would create it with the
/// umask's mode), and takes an existing file back to 0600: it holds the tenant's data.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    drop(file);
    Ok(())
}

/// A body as stored: LZ4-compressed (JSON pages shrink 3-5x, so the store stays smaller than
/// the JSON it holds, and the writer writes less), with its encoding's name.
pub(crate) fn pack(body: &[u8]) -> (Vec<u8>, Option<&'static str>) {
    if body.is_empty() {
        return (Vec::new(), None);
    }
    (lz4_flex::block::compress_prepend_size(body), Some("lz4"))
}

/// A stored body back as received. A damaged or hostile row cannot make it allocate more than
/// LZ4 can expand its bytes to (255x).
pub(crate) fn unpack(blob: Vec<u8>, encoding: Option<&str>) -> Result<Vec<u8>, String> {
    match encoding {
        None => Ok(blob),
        Some("lz4") => {
            let declared = blob
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_le_bytes)
                .ok_or("a stored body is cut short")? as usize;
            if declared > blob.len().saturating_mul(255) {
                return Err("a stored body declares more than it can hold".into());
            }
            lz4_flex::block::decompress_size_prepended(&blob)
                .map_err(|e| format!("a stored body cannot be decoded: {e}"))
        }
        Some(other) => Err(format!("a stored body has an unknown encoding {other:?}")),
    }
}

/// Now, as stored (RFC 3339, UTC, milliseconds).
pub(crate) fn now_text() -> String {
    time_text(chrono::Utc::now())
}

pub(crate) fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
