//! Exports: NDJSON (the items as received, or the replica), CSV (the replica with chosen
//! columns) and HAR 1.2 (every request of a session, without `Authorization`).
use std::io::Write;

use rusqlite::params;
use serde_json::{Value, json};

use super::read::StoredSession;
use super::{Store, StoreError};
use crate::graph::replica::Replica;

/// What went wrong writing an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> Self {
        ExportError::Store(e.into())
    }
}

/// Every item of a session as received (`@removed` kept), one JSON text per line, in the order
/// the pages came. Returns the number of lines. Reads one page body at a time.
pub fn items_ndjson(store: &Store, session: i64, out: &mut dyn Write) -> Result<u64, ExportError> {
    store.session(session)?;
    let mut pages = store.conn.prepare(
        "SELECT id, body, body_encoding FROM requests WHERE session_id = ?1 AND error IS NULL ORDER BY id",
    )?;
    let mut spans = store
        .conn
        .prepare_cached("SELECT start, len FROM items WHERE request_id = ?1 ORDER BY position")?;
    let mut rows = pages.query([session])?;
    let mut lines = 0;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let body: Option<Vec<u8>> = row.get(1)?;
        let encoding: Option<String> = row.get(2)?;
        let body = super::unpack(body.unwrap_or_default(), encoding.as_deref())
            .map_err(|e| ExportError::Store(StoreError::Sql(e)))?;
        let items = spans.query_map(params![id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for span in items {
            let (start, len) = span?;
            let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(len)) else {
                continue;
            };
            if let Some(text) = body.get(start..start.saturating_add(len)) {
                out.write_all(text)?;
                out.write_all(b"\n")?;
                lines += 1;
            }
        }
    }
    out.flush()?;
    Ok(lines)
}

/// The replica's objects (as the client now knows them), one JSON object per line, in id
/// order. Returns the number of lines.
pub fn replica_ndjson(replica: &Replica, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut lines = 0;
    for (_, object) in replica.iter() {
        serde_json::to_writer(&mut *out, object).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        lines += 1;
    }
    out.flush()?;
    Ok(lines)
}

/// The columns a CSV of the replica gets when none are chosen: `id`, then every property the
/// objects have (relationships and annotations left out), in name order.
pub fn default_columns(replica: &Replica) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for (_, object) in replica.iter() {
        for k in object.keys() {
            if k != "id" && !k.starts_with('@') && !k.contains("@delta") {
                names.insert(k.clone());
            }
        }
    }
    std::iter::once("id".to_owned()).chain(names).collect()
}

/// The replica as CSV (RFC 4180): a header row, then one row per object in id order. Strings
/// as they are, other values as JSON, absent and `null` as an empty cell. A text cell that a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return: the tenant's data is not trusted) is written with a leading `'`. Returns the rows.
pub fn replica_csv(
    replica: &Replica,
    columns: &[String],
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let header: Vec<String> = columns.iter().map(|c| csv_cell(c)).collect();
    writeln!(out, "{}", header.join(","))?;
    let mut rows = 0;
    for (_, object) in replica.iter() {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match object.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => csv_cell(s),
                Some(other) => csv_cell(&other.to_string()),
            })
            .collect();
        writeln!(out, "{}", cells.join(","))?;
        rows += 1;
    }
    out.flush()?;
    Ok(rows)
}

fn csv_cell(text: &str) -> String {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{text}");
        &guarded
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Every request of a session as HAR 1.2 (what browsers' developer tools and HTTP tools read):
/// request URL and headers (never `Authorization`: it is not stored), response status, headers
/// and body, timings. Returns the number of entries.
pub fn har(stored: &StoredSession, out: &mut dyn Write) -> Result<u64, ExportError> {
    let entries: Vec<Value> = stored
        .requests
        .iter()
        .map(|r| {
            let page = &r.page;
            let url = if page.url.is_empty() {
                &page.request.url
            } else {
                &page.url
            };
            let query: Vec<Value> = url::Url::parse(url)
                .map(|u| {
                    u.query_pairs()
                        .map(|(k, v)| json!({"name": k, "value": v}))
                        .collect()
                })
                .unwrap_or_default();
            let headers = |hs: &[(String, String)]| -> Vec<Value> {
                hs.iter()
                    .map(|(k, v)| json!({"name": k, "value": v}))
                    .collect()
            };
            let mime = page
                .header("content-type")
                .unwrap_or("application/json")
                .to_owned();
            let text = String::from_utf8_lossy(&page.body);
            let wait = page.elapsed.as_secs_f64() * 1000.0;
            let blocked = page.throttled_for.as_secs_f64() * 1000.0;
            let mut entry = json!({
                "startedDateTime": super::time_text(page.started_at),
                "time": wait + blocked,
                "request": {
                    "method": "GET",
                    "url": url,
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": headers(&page.request_headers),
                    "queryString": query,
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "response": {
                    "status": page.status,
                    "statusText": status_text(page.status),
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": headers(&page.headers),
                    "content": {"size": page.body.len(), "mimeType": mime, "text": text},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": page.body.len(),
                },
                "cache": {},
                "timings": {"blocked": blocked, "send": 0, "wait": wait, "receive": 0},
                "_round": r.round_number,
                "_page": r.page_number,
                "_retries": page.retries,
            });
            if let Some(e) = &r.error {
                entry["comment"] = Value::String(e.clone());
            }
            entry
        })
        .collect();
    let n = entries.len() as u64;
    let doc = json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "deltascope", "version": env!("CARGO_PKG_VERSION")},
            "comment": format!(
                "session {} ({} on {}): Authorization headers are never recorded",
                stored.info.id, stored.info.resource, stored.info.graph_root
            ),
            "entries": entries,
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(n)
}

fn status_text(status: u16) -> &'static str {
    match status {
        0 => "no response",
        s => crate::graph::error::http_reason(s).unwrap_or(""),
    }
}
