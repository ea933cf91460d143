//! Reading the store: the sessions it holds, a session's requests in order (pages rebuilt for
//! the engine), and one object's occurrences (its history is a query, not a re-parse).
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Store, StoreError};
use crate::graph::page::{Page, PageRequest, RequestKind};
use crate::graph::query::DeltaQuery;

/// A stored session, as the resume list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub id: i64,
    pub created_at: Option<DateTime<Utc>>,
    pub graph_root: String,
    pub embedded: bool,
    pub cloud: Option<String>,
    pub tenant_id: Option<String>,
    pub identity: Option<String>,
    pub resource: String,
    pub api_version: String,
    /// `None`: the stored options could not be read back.
    pub query: Option<DeltaQuery>,
    pub first_url: String,
    pub headers: Vec<(String, String)>,
    pub origin: String,
    pub rounds: u32,
    pub requests: u64,
    /// The last complete round's deltaLink, and when it came.
    pub last_delta_link: Option<String>,
    pub last_delta_at: Option<DateTime<Utc>>,
}

/// A stored request in session order: a page (rebuilt from its body) or a failed request.
#[derive(Clone, Debug)]
pub struct StoredPage {
    pub request_id: i64,
    pub round_number: u32,
    /// The page of its round (1-based); `None` for a failed request.
    pub page_number: Option<u32>,
    /// The page, or the failed response kept as a page with no items.
    pub page: Page,
    /// Why the request failed (`None`: a page).
    pub error: Option<String>,
}

/// A whole stored session.
#[derive(Clone, Debug)]
pub struct StoredSession {
    pub info: SessionRow,
    pub requests: Vec<StoredPage>,
}

/// One item of the store about one object.
/// A round of a stored session, as an object's history needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundRow {
    pub number: u32,
    /// `full`, `delta` or `latest`.
    pub kind: String,
    pub minimal: bool,
    pub complete: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub round: u32,
    /// `full`, `delta` or `latest`.
    pub round_kind: String,
    pub minimal: bool,
    pub page: u32,
    pub position: u32,
    pub outcome: String,
    pub removed: Option<String>,
    pub changed: Vec<String>,
    /// When the page came.
    pub at: Option<DateTime<Utc>>,
    /// The item's JSON as received.
    pub json: String,
}

fn parse_time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn parse_headers(text: &str) -> Vec<(String, String)> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) fn parse_kind(text: &str) -> RequestKind {
    match text {
        "initial" => RequestKind::Initial,
        "next" => RequestKind::Next,
        _ => RequestKind::Delta,
    }
}

const SESSION_COLUMNS: &str = "s.id, s.created_at, s.graph_root, s.embedded, s.cloud, s.tenant_id, s.identity, s.resource, s.api_version, s.query, s.first_url, s.headers, s.origin,
    (SELECT count(*) FROM rounds r WHERE r.session_id = s.id),
    (SELECT count(*) FROM requests q WHERE q.session_id = s.id),
    (SELECT r.delta_link FROM rounds r WHERE r.session_id = s.id AND r.complete = 1 ORDER BY r.number DESC LIMIT 1),
    (SELECT r.ended_at FROM rounds r WHERE r.session_id = s.id AND r.complete = 1 ORDER BY r.number DESC LIMIT 1)";

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let query: String = r.get(9)?;
    let headers: String = r.get(11)?;
    Ok(SessionRow {
        id: r.get(0)?,
        created_at: parse_time(r.get(1)?),
        graph_root: r.get(2)?,
        embedded: r.get(3)?,
        cloud: r.get(4)?,
        tenant_id: r.get(5)?,
        identity: r.get(6)?,
        resource: r.get(7)?,
        api_version: r.get(8)?,
        query: serde_json::from_str(&query).ok(),
        first_url: r.get(10)?,
        headers: parse_headers(&headers),
        origin: r.get(12)?,
        rounds: r.get(13)?,
        requests: r.get::<_, i64>(14)?.max(0) as u64,
        last_delta_link: r.get(15)?,
        last_delta_at: parse_time(r.get(16)?),
    })
}

impl Store {
    /// Every session, the newest first.
    pub fn sessions(&self) -> Result<Vec<SessionRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s ORDER BY s.id DESC"
        ))?;
        let rows = stmt.query_map([], session_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn session(&self, id: i64) -> Result<SessionRow, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?1"),
                [id],
                session_row,
            )
            .optional()?
            .ok_or(StoreError::NoSession(id))
    }

    /// The newest session, if any.
    pub fn latest_session(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT max(id) FROM sessions", [], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// The stored session that `link` continues (a `sync` run again from its state file): the
    /// newest one on `graph_root` with the same first request whose last round ended with
    /// `link`, or whose last page's nextLink it is. With the number of rounds the engine's new
    /// numbering starts after (the last round's own number when it is continued mid-way).
    pub fn continued_by(
        &self,
        graph_root: &str,
        first_url: &str,
        link: &str,
    ) -> Result<Option<(i64, u32)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.id, r.number, r.delta_link = ?3
                 FROM sessions s JOIN rounds r ON r.session_id = s.id
                 WHERE s.graph_root = ?1 AND s.first_url = ?2
                   AND r.number = (SELECT max(number) FROM rounds WHERE session_id = s.id)
                   AND (r.delta_link = ?3 OR EXISTS (
                        SELECT 1 FROM requests q WHERE q.round_id = r.id AND q.next_link = ?3
                          AND q.id = (SELECT max(id) FROM requests WHERE round_id = r.id AND error IS NULL)))
                 ORDER BY s.id DESC LIMIT 1",
                params![graph_root, first_url, link],
                |r| {
                    let (id, number, ended): (i64, u32, bool) = (r.get(0)?, r.get(1)?, r.get(2)?);
                    Ok((id, if ended { number } else { number.saturating_sub(1) }))
                },
            )
            .optional()?)
    }

    /// A session with every request, pages rebuilt from their bodies. A body that no longer
    /// parses (a damaged row) is kept as a failed request that says why.
    pub fn load(&self, id: i64) -> Result<StoredSession, StoreError> {
        let info = self.session(id)?;
        let mut stmt = self.conn.prepare(
            "SELECT id, round_number, page, kind, url, status, request_headers, response_headers, started_at, elapsed_ms, throttled_ms, retries, client_request_id, error, body, body_encoding
             FROM requests WHERE session_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            let kind: String = r.get(3)?;
            let url: String = r.get(4)?;
            let request_headers: String = r.get(6)?;
            let response_headers: String = r.get(7)?;
            let body: Option<Vec<u8>> = r.get(14)?;
            let encoding: Option<String> = r.get(15)?;
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, Option<u32>>(2)?,
                PageRequest {
                    url,
                    headers: info.headers.clone(),
                    kind: parse_kind(&kind),
                },
                r.get::<_, Option<u16>>(5)?,
                (
                    parse_headers(&request_headers),
                    parse_headers(&response_headers),
                ),
                (
                    parse_time(r.get(8)?),
                    r.get::<_, f64>(9)?,
                    r.get::<_, f64>(10)?,
                    r.get::<_, u32>(11)?,
                    r.get::<_, Option<String>>(12)?,
                ),
                r.get::<_, Option<String>>(13)?,
                super::unpack(body.unwrap_or_default(), encoding.as_deref()),
            ))
        })?;
        let mut requests = Vec::new();
        for row in rows {
            let (
                request_id,
                round_number,
                page_number,
                request,
                status,
                headers,
                times,
                error,
                body,
            ) = row?;
            let (started, elapsed, throttled, retries, crid) = times;
            let (body, error) = match body {
                Ok(body) => (body, error),
                Err(why) => (Vec::new(), Some(why)),
            };
            let (mut page, error) = match (&error, page_number) {
                (None, Some(_)) => match Page::parse(request.clone(), body.clone()) {
                    Ok(page) => (page, None),
                    Err(e) => (
                        empty_page(request.clone(), body),
                        Some(format!("stored body: {e}")),
                    ),
                },
                _ => (empty_page(request.clone(), body), error),
            };
            page.status = status.unwrap_or(0);
            (page.request_headers, page.headers) = headers;
            if let Some(t) = started {
                page.started_at = t;
            }
            page.elapsed = ms(elapsed);
            page.throttled_for = ms(throttled);
            page.retries = retries;
            page.client_request_id = crid.unwrap_or_default();
            requests.push(StoredPage {
                request_id,
                round_number,
                page_number: if error.is_some() { None } else { page_number },
                page,
                error,
            });
        }
        Ok(StoredSession { info, requests })
    }

    /// Every item of a session about one object, in the order received.
    /// The session's rounds, in order.
    pub fn round_rows(&self, session: i64) -> Result<Vec<RoundRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT number, kind, minimal, complete FROM rounds WHERE session_id = ?1 ORDER BY number",
        )?;
        let rows = stmt.query_map([session], |r| {
            Ok(RoundRow {
                number: r.get(0)?,
                kind: r.get(1)?,
                minimal: r.get(2)?,
                complete: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn occurrences(
        &self,
        session: i64,
        object_id: &str,
    ) -> Result<Vec<Occurrence>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT q.round_number, r.kind, r.minimal, q.page, i.position, i.outcome, i.removed, i.changed, q.started_at,
                    q.body, q.body_encoding, i.start, i.len
             FROM items i JOIN requests q ON q.id = i.request_id LEFT JOIN rounds r ON r.id = q.round_id
             WHERE i.object_id = ?2 AND q.session_id = ?1
             ORDER BY q.id, i.position",
        )?;
        let rows = stmt.query_map(params![session, object_id], |r| {
            let changed: Option<String> = r.get(7)?;
            let body: Option<Vec<u8>> = r.get(9)?;
            let encoding: Option<String> = r.get(10)?;
            let (start, len): (i64, i64) = (r.get(11)?, r.get(12)?);
            let json = super::unpack(body.unwrap_or_default(), encoding.as_deref())
                .ok()
                .and_then(|b| {
                    let start = usize::try_from(start).ok()?;
                    let end = start.checked_add(usize::try_from(len).ok()?)?;
                    b.get(start..end)
                        .map(|t| String::from_utf8_lossy(t).into_owned())
                })
                .unwrap_or_default();
            Ok(Occurrence {
                round: r.get(0)?,
                round_kind: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                minimal: r.get::<_, Option<bool>>(2)?.unwrap_or(false),
                page: r.get::<_, Option<u32>>(3)?.unwrap_or(0),
                position: r.get(4)?,
                outcome: r.get(5)?,
                removed: r.get(6)?,
                changed: changed
                    .and_then(|c| serde_json::from_str(&c).ok())
                    .unwrap_or_default(),
                at: parse_time(r.get(8)?),
                json,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn ms(v: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64((v / 1000.0).clamp(0.0, 1e9))
}

/// A response kept without items (a failed request's, or a body that no longer parses).
fn empty_page(request: PageRequest, body: Vec<u8>) -> Page {
    Page {
        url: request.url.clone(),
        request,
        status: 0,
        request_headers: Vec::new(),
        headers: Vec::new(),
        started_at: Utc::now(),
        elapsed: std::time::Duration::ZERO,
        throttled_for: std::time::Duration::ZERO,
        body: body.into(),
        items: Vec::new(),
        next_link: None,
        delta_link: None,
        count: None,
        context: None,
        retries: 0,
        client_request_id: String::new(),
    }
}
