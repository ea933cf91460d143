//! Recording: a session's pages, failed requests and rounds go to the store on a thread of
//! its own, so that neither the explorer nor `sync` waits on the disk between pages. A write
//! that fails stops the recording (said once, through [`Recorder::error`]); the round goes on.
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde_json::json;

use super::{Store, StoreError, now_text, time_text};
use crate::auth::inspect::TokenInfo;
use crate::graph::page::{Page, PageRequest, RequestKind};
use crate::graph::query::DeltaQuery;
use crate::graph::round::{Outcome, PageReport, RoundSummary};

/// Which command recorded a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Explorer,
    Sync,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Explorer => "explorer",
            Origin::Sync => "sync",
        }
    }
}

/// What a new session is: where, who (by the token's claims), what query.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub graph_root: String,
    /// The embedded emulator's demo tenant.
    pub embedded: bool,
    pub tenant_id: Option<String>,
    /// The signed-in user or the app, as the token's claims name them.
    pub identity: Option<String>,
    pub query: DeltaQuery,
    /// The query's first request (its URL and the round headers).
    pub first: PageRequest,
    pub origin: Origin,
}

impl SessionInfo {
    /// The tenant and identity an access token names (its claims; the token is not kept). A
    /// token that is not a JWT (the emulator's demo token) names neither.
    pub fn with_token_claims(mut self, access_token: &str) -> SessionInfo {
        (self.tenant_id, self.identity) = claims(access_token);
        self
    }
}

/// The tenant and the user or app an access token names (`None`s: not a JWT).
fn claims(access_token: &str) -> (Option<String>, Option<String>) {
    match TokenInfo::decode(access_token) {
        Ok(info) => (
            info.tenant,
            match (info.user, info.app_id) {
                (Some(user), _) => Some(format!("user {user}")),
                (None, Some(app)) => Some(format!("app {app}")),
                (None, None) => None,
            },
        ),
        Err(_) => (None, None),
    }
}

/// A request that got no page: why, and the response when there was one.
#[derive(Clone, Debug)]
pub struct FailedRequest {
    pub request: PageRequest,
    /// The round it was (or would have been) part of, as the engine numbers it.
    pub round: u32,
    pub error: String,
    /// The response as received (status, headers, body), when there was one.
    pub response: Option<Page>,
    pub elapsed: Duration,
}

enum Job {
    Identity(Option<String>, Option<String>),
    Page(Box<PageJob>),
    Failure(Box<FailedRequest>),
    Flush(mpsc::Sender<()>),
}

struct PageJob {
    page: Page,
    outcomes: Vec<Outcome>,
    changes: Vec<(usize, Vec<String>)>,
    round: RoundSummary,
}

/// Records one session. Dropping it waits for the writes already handed over.
pub struct Recorder {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    failed: Arc<Mutex<Option<String>>>,
    session_id: i64,
}

impl Recorder {
    /// Starts a new session in the store.
    pub fn start(store: Store, info: &SessionInfo) -> Result<Recorder, StoreError> {
        let cloud = crate::auth::cloud::Cloud::from_graph_root(&info.graph_root).map(|c| c.name());
        let query =
            serde_json::to_string(&info.query).map_err(|e| StoreError::Sql(e.to_string()))?;
        let headers = headers_json(&info.first.headers);
        store.conn.execute(
            "INSERT INTO sessions (created_at, graph_root, embedded, cloud, tenant_id, identity, resource, api_version, query, first_url, headers, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                now_text(),
                info.graph_root,
                info.embedded,
                cloud,
                info.tenant_id,
                info.identity,
                info.query.resource,
                info.query.api.as_str(),
                query,
                info.first.url,
                headers,
                info.origin.as_str(),
            ],
        )?;
        let id = store.conn.last_insert_rowid();
        Ok(Self::spawn(store, id, 0))
    }

    /// Goes on recording a stored session. `offset` is added to the engine's round numbers: 0
    /// when the session was replayed (the engine numbers its rounds as stored), the number of
    /// stored rounds when the engine starts counting afresh (a `sync` continuing from a state
    /// file).
    pub fn continue_session(
        store: Store,
        session_id: i64,
        offset: u32,
    ) -> Result<Recorder, StoreError> {
        let exists: Option<i64> = store
            .conn
            .query_row("SELECT id FROM sessions WHERE id = ?1", [session_id], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NoSession(session_id));
        }
        Ok(Self::spawn(store, session_id, offset))
    }

    fn spawn(store: Store, session_id: i64, offset: u32) -> Recorder {
        let (tx, rx) = mpsc::channel::<Job>();
        let failed = Arc::new(Mutex::new(None));
        let writer = Writer {
            store,
            session_id,
            offset,
            rounds: HashMap::new(),
            failed: failed.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("deltascope-store".into())
            .spawn(move || writer.run(rx))
            .ok();
        if thread.is_none() {
            set_failed(&failed, "cannot start the store's writer thread".into());
        }
        Recorder {
            tx: thread.as_ref().map(|_| tx),
            thread,
            failed,
            session_id,
        }
    }

    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Records a page the engine applied (`report` is what [`crate::graph::Session::apply`]
    /// returned for it, `round` the round's summary after it).
    pub fn page(&self, page: Page, report: &PageReport, round: &RoundSummary) {
        self.send(Job::Page(Box::new(PageJob {
            page,
            outcomes: report.outcomes.clone(),
            changes: report.changes.clone(),
            round: round.clone(),
        })));
    }

    /// Names the session's tenant and identity from the access token about to be sent (its
    /// claims only; nothing when it is not a JWT).
    pub fn identify(&self, access_token: &str) {
        let (tenant, identity) = claims(access_token);
        if tenant.is_some() || identity.is_some() {
            self.send(Job::Identity(tenant, identity));
        }
    }

    /// Records a request that got no page.
    pub fn failure(&self, failed: FailedRequest) {
        self.send(Job::Failure(Box::new(failed)));
    }

    fn send(&self, job: Job) {
        if self.error().is_some() {
            return;
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(job);
        }
    }

    /// Waits until everything handed over so far is written; the recording's error, if any.
    pub fn flush(&self) -> Result<(), String> {
        if let Some(tx) = &self.tx {
            let (done_tx, done_rx) = mpsc::channel();
            if tx.send(Job::Flush(done_tx)).is_ok() {
                let _ = done_rx.recv();
            }
        }
        self.error().map_or(Ok(()), Err)
    }

    /// Why recording stopped, if it did.
    pub fn error(&self) -> Option<String> {
        self.failed.lock().ok().and_then(|f| f.clone())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set_failed(failed: &Mutex<Option<String>>, message: String) {
    if let Ok(mut f) = failed.lock()
        && f.is_none()
    {
        tracing::warn!("session store: {message}");
        *f = Some(message);
    }
}

/// Headers as stored: JSON pairs, without `Authorization` (or any other credential header).
pub(crate) fn headers_json(headers: &[(String, String)]) -> String {
    let kept: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !is_credential_header(k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into())
}

fn is_credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

pub(crate) fn outcome_text(o: Outcome) -> &'static str {
    match o {
        Outcome::Added => "added",
        Outcome::Updated => "updated",
        Outcome::Restored => "restored",
        Outcome::Duplicate => "duplicate",
        Outcome::Slice => "slice",
        Outcome::Removed => "removed",
        Outcome::Skipped => "skipped",
    }
}

pub(crate) fn kind_text(k: RequestKind) -> &'static str {
    match k {
        RequestKind::Initial => "initial",
        RequestKind::Next => "next",
        RequestKind::Delta => "delta",
    }
}

/// A round's counts as stored in `rounds.summary`.
pub(crate) fn summary_json(r: &RoundSummary) -> String {
    json!({
        "pages": r.pages,
        "items": r.items,
        "bytes": r.bytes,
        "added": r.added,
        "updated": r.updated,
        "removed_changed": r.removed_changed,
        "removed_deleted": r.removed_deleted,
        "removed_other": r.removed_other,
        "duplicates": r.duplicates,
        "relationship_slices": r.relationship_slices,
        "links_added": r.links_added,
        "links_removed": r.links_removed,
        "empty_pages": r.empty_pages,
        "vanished": r.vanished,
        "property_changes": r.property_changes,
        "abandoned": r.abandoned,
        "stop": r.stop.as_ref().map(|s| s.to_string()),
        "warnings": r.warnings,
    })
    .to_string()
}

/// The writer thread's side.
struct Writer {
    store: Store,
    session_id: i64,
    offset: u32,
    /// Stored round ids by stored round number.
    rounds: HashMap<u32, i64>,
    failed: Arc<Mutex<Option<String>>>,
}

/// The most jobs written in one transaction.
const MAX_BATCH: usize = 64;

/// Item rows per INSERT statement.
const ITEM_ROWS: usize = 50;

/// `INSERT INTO items … VALUES (…), (…)` for `rows` rows.
fn items_insert(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO items (request_id, position, object_id, outcome, removed, changed, start, len) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?)");
    }
    sql
}

impl Writer {
    /// Writes what comes, in batches: the jobs waiting when the writer gets to them go in one
    /// transaction (one commit for many pages when the disk is slower than the network).
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH
                && let Ok(more) = rx.try_recv()
            {
                batch.push(more);
            }
            let failed = self.failed.lock().map(|f| f.is_some()).unwrap_or(true);
            let (flushes, work): (Vec<Job>, Vec<Job>) =
                batch.into_iter().partition(|j| matches!(j, Job::Flush(_)));
            if !failed
                && !work.is_empty()
                && let Err(e) = self.write(work)
            {
                // What the failed transaction held is not written: the ids it gave are gone.
                self.rounds.clear();
                set_failed(&self.failed, format!("recording stopped: {e}"));
            }
            for flush in flushes {
                if let Job::Flush(done) = flush {
                    let _ = done.send(());
                }
            }
        }
    }

    fn write(&mut self, jobs: Vec<Job>) -> Result<(), StoreError> {
        let tx = self.store.conn.transaction()?;
        let mut at = At {
            tx: &tx,
            session_id: self.session_id,
            offset: self.offset,
            rounds: &mut self.rounds,
            summaries: HashMap::new(),
        };
        for job in jobs {
            match job {
                Job::Page(p) => at.page(&p)?,
                Job::Failure(f) => at.failure(&f)?,
                Job::Identity(tenant, identity) => {
                    tx.execute(
                        "UPDATE sessions SET tenant_id = coalesce(?2, tenant_id), identity = coalesce(?3, identity) WHERE id = ?1",
                        params![self.session_id, tenant, identity],
                    )?;
                }
                Job::Flush(_) => {}
            }
        }
        at.write_summaries()?;
        tx.commit()?;
        Ok(())
    }
}

/// Writing inside one transaction.
struct At<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    session_id: i64,
    offset: u32,
    rounds: &'a mut HashMap<u32, i64>,
    /// The latest summary of each round the batch's pages went on (written once, at the end
    /// of the batch: each page's summary supersedes the one before).
    summaries: HashMap<i64, RoundSummary>,
}

impl At<'_> {
    fn write_summaries(&mut self) -> Result<(), StoreError> {
        for (id, round) in self.summaries.drain() {
            self.tx
                .prepare_cached(
                    "UPDATE rounds SET summary = ?2, complete = ?3, delta_link = ?4,
                        ended_at = CASE WHEN ?3 AND ended_at IS NULL THEN ?5 ELSE ended_at END
                     WHERE id = ?1",
                )?
                .execute(params![
                    id,
                    summary_json(&round),
                    round.complete,
                    round.delta_link,
                    now_text()
                ])?;
        }
        Ok(())
    }

    fn page(&mut self, job: &PageJob) -> Result<(), StoreError> {
        let (tx, page) = (self.tx, &job.page);
        let number = self.offset.saturating_add(job.round.number);
        let round_id = match self.rounds.get(&number) {
            Some(id) => {
                self.summaries.insert(*id, job.round.clone());
                *id
            }
            None => {
                // The rounds before are as their last pages left them first.
                self.write_summaries()?;
                // A later round started: an earlier one left incomplete was abandoned.
                tx.execute(
                    "UPDATE rounds SET summary = json_set(summary, '$.abandoned', json('true'))
                     WHERE session_id = ?1 AND number < ?2 AND complete = 0",
                    params![self.session_id, number],
                )?;
                let kind = if job.round.full {
                    "full"
                } else if page.request.kind == RequestKind::Initial {
                    "latest"
                } else {
                    "delta"
                };
                let id: i64 = tx.query_row(
                    "INSERT INTO rounds (session_id, number, kind, minimal, started_at, ended_at, delta_link, complete, summary)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (session_id, number) DO UPDATE SET summary = excluded.summary
                     RETURNING id",
                    params![
                        self.session_id,
                        number,
                        kind,
                        job.round.minimal,
                        time_text(page.started_at),
                        job.round.complete.then(now_text),
                        job.round.delta_link,
                        job.round.complete,
                        summary_json(&job.round),
                    ],
                    |r| r.get(0),
                )?;
                self.rounds.insert(number, id);
                id
            }
        };
        let request_id = insert_request(
            tx,
            self.session_id,
            Some(round_id),
            number,
            Some(job.round.pages),
            &page.request,
            page,
            None,
        )?;
        let changes: HashMap<usize, &Vec<String>> =
            job.changes.iter().map(|(i, c)| (*i, c)).collect();
        // Rows go in ITEM_ROWS at a time (one statement for many rows costs far less per row);
        // their texts are borrowed from the page, not copied.
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        let changed: Vec<Option<String>> = (0..page.items.len())
            .map(|i| changes.get(&i).and_then(|c| serde_json::to_string(c).ok()))
            .collect();
        fn text(s: &str) -> ToSqlOutput<'_> {
            ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
        }
        let int = |v: i64| ToSqlOutput::Owned(Value::Integer(v));
        let null = || ToSqlOutput::Owned(Value::Null);
        let mut values: Vec<ToSqlOutput<'_>> = Vec::with_capacity(8 * ITEM_ROWS);
        let mut start = 0;
        while start < page.items.len() {
            let end = (start + ITEM_ROWS).min(page.items.len());
            values.clear();
            for (i, item) in page.items.iter().enumerate().take(end).skip(start) {
                let outcome = job.outcomes.get(i).copied().unwrap_or(Outcome::Skipped);
                values.extend([
                    int(request_id),
                    int(i as i64),
                    item.id(&page.body).map_or_else(null, text),
                    text(outcome_text(outcome)),
                    item.removed
                        .as_ref()
                        .map_or_else(null, |r| text(r.as_str())),
                    changed[i].as_deref().map_or_else(null, text),
                    int(item.span.start as i64),
                    int(item.span.len() as i64),
                ]);
            }
            tx.prepare_cached(&items_insert(end - start))?
                .execute(rusqlite::params_from_iter(values.iter()))?;
            start = end;
        }
        Ok(())
    }

    fn failure(&mut self, f: &FailedRequest) -> Result<(), StoreError> {
        let tx = self.tx;
        let number = self.offset.saturating_add(f.round);
        let round_id = match self.rounds.get(&number) {
            Some(id) => Some(*id),
            None => tx
                .query_row(
                    "SELECT id FROM rounds WHERE session_id = ?1 AND number = ?2",
                    params![self.session_id, number],
                    |r| r.get(0),
                )
                .optional()?,
        };
        match &f.response {
            Some(response) => {
                insert_request(
                    tx,
                    self.session_id,
                    round_id,
                    number,
                    None,
                    &f.request,
                    response,
                    Some(&f.error),
                )?;
            }
            None => {
                tx.execute(
                    "INSERT INTO requests (session_id, round_id, round_number, page, kind, url, status, request_headers, response_headers, started_at, elapsed_ms, throttled_ms, retries, error)
                     VALUES (?1, ?2, ?3, NULL, ?4, ?5, NULL, ?6, '[]', ?7, ?8, 0, 0, ?9)",
                    params![
                        self.session_id,
                        round_id,
                        number,
                        kind_text(f.request.kind),
                        f.request.url,
                        headers_json(&f.request.headers),
                        now_text(),
                        f.elapsed.as_secs_f64() * 1000.0,
                        f.error,
                    ],
                )?;
            }
        }
        Ok(())
    }
}

/// One request row, with its response (`page` may be a failed response kept as a page).
#[allow(clippy::too_many_arguments)]
fn insert_request(
    tx: &rusqlite::Transaction<'_>,
    session_id: i64,
    round_id: Option<i64>,
    round_number: u32,
    page_number: Option<usize>,
    request: &PageRequest,
    page: &Page,
    error: Option<&str>,
) -> Result<i64, StoreError> {
    let (body, encoding) = super::pack(&page.body);
    let request_headers = if page.request_headers.is_empty() {
        &request.headers
    } else {
        &page.request_headers
    };
    tx.prepare_cached(
        "INSERT INTO requests (session_id, round_id, round_number, page, kind, url, status, request_headers, response_headers, started_at, elapsed_ms, throttled_ms, retries, client_request_id, next_link, delta_link, error, body, body_encoding)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    )?
    .execute(params![
        session_id,
        round_id,
        round_number,
        page_number.map(|p| p as i64),
        kind_text(request.kind),
        if page.url.is_empty() { &request.url } else { &page.url },
        page.status,
        headers_json(request_headers),
        headers_json(&page.headers),
        time_text(page.started_at),
        page.elapsed.as_secs_f64() * 1000.0,
        page.throttled_for.as_secs_f64() * 1000.0,
        page.retries,
        (!page.client_request_id.is_empty()).then_some(page.client_request_id.as_str()),
        page.next_link,
        page.delta_link,
        error,
        body,
        encoding,
    ])?;
    Ok(tx.last_insert_rowid())
}
