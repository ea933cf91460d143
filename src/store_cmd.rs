//! `deltascope sessions` and `deltascope export`: the session store from the command line.
//!
//! Exit codes: 0 done; 2 bad command line; 3 no such session, or nothing stored yet; 5 the store
//! or the output file cannot be read or written.
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::graph::Catalog;
use crate::store::export::{self, ExportError};
use crate::store::{Store, StoreArgs, describe};

pub mod exit {
    pub const OK: u8 = 0;
    pub const USAGE: u8 = 2;
    pub const NOT_FOUND: u8 = 3;
    pub const IO: u8 = 5;
}

/// List the sessions of the store.
#[derive(clap::Args, Debug, Clone)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// One JSON object per session instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Every item as received, one JSON text per line (`@removed` kept).
    Ndjson,
    /// The replica (every object as the client now knows it), one JSON object per line.
    ReplicaNdjson,
    /// The replica as CSV, with --columns (default: id and every property seen).
    Csv,
    /// Every request of the session as HAR 1.2 (Authorization is never stored).
    Har,
}

/// Export a stored session.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The session (a number from `deltascope sessions`; default: the newest).
    #[arg(long)]
    pub session: Option<i64>,
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: Format,
    /// CSV columns, comma separated (default: id and every property the objects have).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Write to this file (mode 0600) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

struct Failure(u8, String);

fn open(args: &StoreArgs) -> Result<Store, Failure> {
    match args.open() {
        Ok(Some(store)) => Ok(store),
        Ok(None) => Err(Failure(
            exit::USAGE,
            "no session store: give one with --store FILE (or DELTASCOPE_STORE)".into(),
        )),
        Err(e) => Err(Failure(exit::IO, e.to_string())),
    }
}

fn finish(result: Result<(), Failure>, command: &str) -> u8 {
    match result {
        Ok(()) => exit::OK,
        Err(Failure(code, message)) => {
            crate::safe_eprintln!("deltascope {command}: {message}");
            code
        }
    }
}

/// Runs `deltascope sessions`.
pub fn run_sessions(args: SessionsArgs) -> u8 {
    finish(sessions(&args), "sessions")
}

fn sessions(args: &SessionsArgs) -> Result<(), Failure> {
    let store = open(&args.store)?;
    let rows = store
        .sessions()
        .map_err(|e| Failure(exit::IO, e.to_string()))?;
    let now = chrono::Utc::now();
    let catalog = Catalog::builtin();
    let mut text = String::new();
    for row in &rows {
        if args.json {
            let line = serde_json::json!({
                "id": row.id,
                "created_at": row.created_at,
                "graph_root": row.graph_root,
                "embedded": row.embedded,
                "cloud": row.cloud,
                "tenant_id": row.tenant_id,
                "identity": row.identity,
                "resource": row.resource,
                "api_version": row.api_version,
                "query": row.query,
                "first_url": row.first_url,
                "origin": row.origin,
                "rounds": row.rounds,
                "requests": row.requests,
                "last_delta_link": row.last_delta_link,
                "last_delta_at": row.last_delta_at,
            });
            text.push_str(&line.to_string());
        } else {
            text.push_str(&describe::one_line(row, catalog, now));
        }
        text.push('\n');
    }
    if rows.is_empty() && !args.json {
        crate::safe_eprintln!("no session in {}", store.path().display());
    }
    write_out(None, text.as_bytes()).map_err(|e| Failure(exit::IO, e.to_string()))
}

/// Runs `deltascope export`.
pub fn run_export(args: ExportArgs) -> u8 {
    finish(export_session(&args), "export")
}

fn export_session(args: &ExportArgs) -> Result<(), Failure> {
    let store = open(&args.store)?;
    let io = |e: ExportError| match e {
        ExportError::Store(crate::store::StoreError::NoSession(n)) => Failure(
            exit::NOT_FOUND,
            format!("no session {n} in the store (see `deltascope sessions`)"),
        ),
        other => Failure(exit::IO, other.to_string()),
    };
    let id = match args.session {
        Some(id) => id,
        None => store
            .latest_session()
            .map_err(|e| io(e.into()))?
            .ok_or_else(|| {
                Failure(
                    exit::NOT_FOUND,
                    format!("no session in {}", store.path().display()),
                )
            })?,
    };
    let mut out: Vec<u8> = Vec::new();
    let written = match args.format {
        Format::Ndjson => export::items_ndjson(&store, id, &mut out).map_err(io)?,
        Format::Har => {
            let stored = store.load(id).map_err(|e| io(e.into()))?;
            export::har(&stored, &mut out).map_err(io)?
        }
        Format::ReplicaNdjson | Format::Csv => {
            let stored = store.load(id).map_err(|e| io(e.into()))?;
            let replayed = crate::store::replay::replay(stored, Default::default());
            let replica = replayed.session.replica();
            if args.format == Format::Csv {
                let columns = if args.columns.is_empty() {
                    export::default_columns(replica)
                } else {
                    args.columns
                        .iter()
                        .map(|c| c.trim().to_owned())
                        .filter(|c| !c.is_empty())
                        .collect()
                };
                export::replica_csv(replica, &columns, &mut out).map_err(io)?
            } else {
                export::replica_ndjson(replica, &mut out).map_err(io)?
            }
        }
    };
    write_out(args.output.as_ref(), &out).map_err(|e| Failure(exit::IO, e.to_string()))?;
    crate::safe_eprintln!(
        "session {id}: {written} {} exported{}",
        match args.format {
            Format::Ndjson => "items",
            Format::ReplicaNdjson | Format::Csv => "objects",
            Format::Har => "requests",
        },
        args.output
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// To the file (mode 0600: it holds the tenant's data), else standard output; text from the
/// tenant reaches a terminal only escaped.
fn write_out(path: Option<&PathBuf>, bytes: &[u8]) -> std::io::Result<()> {
    match path {
        Some(p) => crate::fsutil::write_private_atomic(p, bytes),
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout.is_terminal() {
                let text = String::from_utf8_lossy(bytes);
                for line in text.split_inclusive('\n') {
                    let (body, nl) = match line.strip_suffix('\n') {
                        Some(b) => (b, "\n"),
                        None => (line, ""),
                    };
                    write!(stdout, "{}{nl}", crate::text::terminal_safe(body))?;
                }
            } else {
                stdout.write_all(bytes)?;
            }
            stdout.flush()
        }
    }
}
