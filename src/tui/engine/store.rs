//! The session store from the explorer: each run recorded as it is fetched, stored sessions
//! listed and resumed, an object's history, exports. Reading and replaying happen on tokio's
//! blocking pool; writing on the recorder's own thread: the UI never waits on the disk.
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::convert::{RoundShape, failed_page_view, page_view, summary_line};
use super::effects::EngineExecutor;
use super::shared::{Shared, lock};
use crate::graph::{DeltaQuery, GraphError, PageRequest};
use crate::store::history::{EventKind, timeline};
use crate::store::record::{Origin, SessionInfo};
use crate::store::{Recorder, Store, describe, export, replay};
use crate::tui::app::{Msg, NoticeKind};
use crate::tui::view::{
    HistoryRole, HistoryView, QueryDraft, ResumedRound, ResumedView, SessionEntry, SessionsView,
    SharedText,
};

impl EngineExecutor {
    /// Records into the store at `path` (`None`: `--no-store`, or no data directory).
    pub fn with_store(mut self, path: Option<PathBuf>) -> Self {
        self.store = path;
        self
    }

    /// A new session in the store for the query just started (said once when the store cannot
    /// be used: the explorer goes on without it).
    pub(super) fn start_recording(
        &self,
        s: &mut Shared,
        query: &DeltaQuery,
        first: &PageRequest,
        tx: &UnboundedSender<Msg>,
    ) {
        s.recorder = None;
        let Some(path) = &self.store else { return };
        let info = SessionInfo {
            graph_root: s.root.to_string(),
            embedded: self.embedded.as_ref() == Some(&s.root),
            tenant_id: None,
            identity: None,
            query: query.clone(),
            first: first.clone(),
            origin: Origin::Explorer,
        };
        let result = match Store::open(path).and_then(|store| Recorder::start(store, &info)) {
            Ok(recorder) => {
                let id = recorder.session_id();
                s.recorder = Some(Arc::new(recorder));
                Ok(id)
            }
            Err(e) => Err(format!("not recording this session: {e}")),
        };
        let _ = tx.send(Msg::Recording(result));
    }

    /// Lists the stored sessions (`Msg::SessionsLoaded`).
    pub(super) fn load_sessions(&self, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let (path, root, catalog) = (self.store.clone(), self.root(), self.catalog);
        let here = self.embedded.clone();
        self.runtime.spawn_blocking(move || {
            let Some(path) = path else {
                let _ = tx.send(Msg::SessionsLoaded(SessionsView {
                    unavailable: Some("the session store is off (--no-store)".into()),
                    ..Default::default()
                }));
                return;
            };
            let view = match Store::open(&path).and_then(|st| st.sessions()) {
                Ok(rows) => {
                    let now = chrono::Utc::now();
                    SessionsView {
                        entries: rows
                            .iter()
                            .map(|row| SessionEntry {
                                id: row.id,
                                line: describe::one_line(row, catalog, now),
                                refused: refusal(
                                    &row.graph_root,
                                    row.embedded,
                                    &root,
                                    here.as_ref(),
                                ),
                            })
                            .collect(),
                        unavailable: None,
                        path: path.display().to_string(),
                    }
                }
                Err(e) => SessionsView {
                    unavailable: Some(e.to_string()),
                    path: path.display().to_string(),
                    ..Default::default()
                },
            };
            let _ = tx.send(Msg::SessionsLoaded(view));
        });
    }

    /// Brings stored session `id` back: its pages replayed through the engine (the same
    /// rounds, outcomes and replica), its rows sent to the UI, and the session continued in the
    /// store; the next request continues from its last link.
    pub(super) fn resume(&self, run_id: u64, id: i64, tx: &UnboundedSender<Msg>) {
        let Some(path) = self.store.clone() else {
            Self::fail_now(tx, run_id, "the session store is off (--no-store)".into());
            return;
        };
        let (tx, shared, limits, catalog) =
            (tx.clone(), self.shared.clone(), self.limits, self.catalog);
        let here = self.embedded.clone();
        self.runtime.spawn_blocking(move || {
            let fail = |message: String| Self::fail_now(&tx, run_id, message);
            let store = match Store::open(&path) {
                Ok(s) => s,
                Err(e) => return fail(e.to_string()),
            };
            let stored = match store.load(id) {
                Ok(s) => s,
                Err(e) => return fail(e.to_string()),
            };
            let root = lock(&shared).root.clone();
            if let Some(why) = refusal(
                &stored.info.graph_root,
                stored.info.embedded,
                &root,
                here.as_ref(),
            ) {
                return fail(why);
            }
            let info = stored.info.clone();
            let mut replayed = replay::replay(stored, limits);
            if info.embedded {
                // The embedded emulator listens on another port each time it starts: the
                // session's links move to where it is now.
                replayed.session.move_to_origin(root.as_str());
            }
            let rounds = resumed_rounds(&replayed);
            let next = match replayed.session.next_request() {
                Some(req) => format!(
                    "{}; next: {} ({})",
                    describe::link_age(&info, catalog, chrono::Utc::now()),
                    if replayed.session.in_round() {
                        "the round's next page"
                    } else {
                        "a new round from the deltaLink"
                    },
                    req.url
                ),
                None => {
                    "the session has no link to continue from: a new query starts afresh".to_owned()
                }
            };
            let recorder = Recorder::continue_session(store, id, 0);
            let mut s = lock(&shared);
            if let Some(old) = s.active.take() {
                old.cancel.cancel();
            }
            s.session = Some(replayed.session);
            s.last_error = None;
            s.resource = catalog.get(&info.resource);
            let result = match recorder {
                Ok(r) => {
                    s.recorder = Some(Arc::new(r));
                    Ok(id)
                }
                Err(e) => {
                    s.recorder = None;
                    Err(format!("not recording this session: {e}"))
                }
            };
            let _ = tx.send(Msg::Recording(result));
            drop(s);
            let query = info
                .query
                .as_ref()
                .map(draft_of)
                .unwrap_or_else(|| QueryDraft {
                    resource: info.resource.clone(),
                    api: info.api_version.clone(),
                    ..Default::default()
                });
            let _ = tx.send(Msg::Resumed {
                run_id,
                view: Box::new(ResumedView {
                    session_id: id,
                    query,
                    rounds,
                    next,
                }),
            });
        });
    }

    /// The timeline of `object_id` in the session being recorded (`Msg::History`).
    pub(super) fn history(&self, object_id: String, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let recorder = lock(&self.shared).recorder.clone();
        let path = self.store.clone();
        self.runtime.spawn_blocking(move || {
            let unavailable = |why: String| {
                let _ = tx.send(Msg::History(HistoryView {
                    title: format!("History of {object_id}"),
                    object_id: object_id.clone(),
                    unavailable: Some(why),
                    ..Default::default()
                }));
            };
            let (Some(path), Some(recorder)) = (path, recorder) else {
                return unavailable(
                    "an object's history is read from the session store, which is off (--no-store) or could not be opened".into(),
                );
            };
            if let Err(e) = recorder.flush() {
                return unavailable(e);
            }
            let sid = recorder.session_id();
            let read = Store::open(&path).and_then(|st| {
                let select = st.session(sid)?.query.map(|q| q.select).unwrap_or_default();
                Ok((st.occurrences(sid, &object_id)?, st.round_rows(sid)?, select))
            });
            match read {
                Ok((o, _, _)) if o.is_empty() => unavailable(format!(
                    "{object_id} is in no recorded page of this session"
                )),
                Ok((o, rounds, select)) => {
                    let absent = crate::store::history::absences(&o, &rounds, &select);
                    let _ = tx.send(Msg::History(history_view(&object_id, &o, &absent)));
                }
                Err(e) => unavailable(e.to_string()),
            }
        });
    }

    /// The replica at the end of round `a` against the end of round `b`, from the store
    /// (`Msg::History`, the notes overlay).
    pub(super) fn compare(&self, a: u32, b: u32, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let recorder = lock(&self.shared).recorder.clone();
        let (path, limits) = (self.store.clone(), self.limits);
        self.runtime.spawn_blocking(move || {
            let (a, b) = (a.min(b), a.max(b));
            let title = format!("Round {a} → round {b}");
            let unavailable = |why: String| HistoryView {
                title: title.clone(),
                unavailable: Some(why),
                ..Default::default()
            };
            let view = match (path, recorder) {
                (Some(path), Some(recorder)) => {
                    let stored = recorder.flush().and_then(|()| {
                        Store::open(&path)
                            .and_then(|st| st.load(recorder.session_id()))
                            .map_err(|e| e.to_string())
                    });
                    match stored.map(|s| crate::store::compare::compare(s, a, b, limits)) {
                        Ok(Some(c)) => compare_view(title.clone(), &c),
                        Ok(None) => unavailable(format!(
                            "round {a} and round {b} must both be complete to compare them"
                        )),
                        Err(e) => unavailable(e),
                    }
                }
                _ => unavailable(
                    "rounds are compared from the session store, which is off (--no-store) or could not be opened".into(),
                ),
            };
            let _ = tx.send(Msg::History(view));
        });
    }

    /// Runs a jq filter over a page body, or over the replica's live objects in an array
    /// (`Msg::Jq`), off the UI thread.
    pub(super) fn jq(&self, filter: String, page: Option<SharedText>, tx: &UnboundedSender<Msg>) {
        let (tx, shared) = (tx.clone(), self.shared.clone());
        // Off the UI thread: the replica's array of a million objects is built there too.
        self.runtime.spawn_blocking(move || {
            let input = match page {
                Some(body) => Ok(body),
                None => replica_array(&lock(&shared)),
            };
            let result = input
                .and_then(|input| crate::jq::run(&filter, input.as_bytes()))
                .map(|out| {
                    let n = out.values.len();
                    let about = format!(
                        "{}{}",
                        crate::graph::round::plural(n, "value", "values"),
                        if out.cut {
                            " (cut: the output was too large)"
                        } else {
                            ""
                        }
                    );
                    let text = if n == 1 {
                        out.values.into_iter().next().unwrap_or_default()
                    } else {
                        format!("[{}]", out.values.join(","))
                    };
                    (text, about)
                });
            let _ = tx.send(Msg::Jq { filter, result });
        });
    }

    /// A snapshot of the engine's replica for the replica view (`Msg::Replica`): taken under
    /// the session's lock (shared slices, nothing parsed), sorted off it.
    pub(super) fn load_replica(&self, tx: &UnboundedSender<Msg>) {
        use crate::tui::view::{ObjectRow, ReplicaRow, ReplicaView};
        let (tx, shared) = (tx.clone(), self.shared.clone());
        // Off the UI thread; the session's lock is held while the rows are taken (shared
        // slices, nothing parsed), not while they are sorted.
        self.runtime.spawn_blocking(move || {
            let s = lock(&shared);
            let Some(session) = s.session.as_ref() else {
                drop(s);
                let _ = tx.send(Msg::Replica(Box::default()));
                return;
            };
            let (live, soft_deleted, hard_deleted) = session.replica().counts();
            let mut rows: Vec<ReplicaRow> = session
                .replica()
                .known()
                .map(|k| ReplicaRow {
                    id: k.id.into(),
                    state: k.state,
                    round: k.changed_in,
                    row: ObjectRow::from_json(known_json(&k), false, false),
                })
                .collect();
            drop(s);
            rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
            let _ = tx.send(Msg::Replica(Box::new(ReplicaView {
                rows,
                live,
                soft_deleted,
                hard_deleted,
            })));
        });
    }

    /// The notes on round `round` of the session (`Msg::History`, the notes overlay).
    pub(super) fn explain(&self, round: u32, tx: &UnboundedSender<Msg>) {
        let s = lock(&self.shared);
        let summary = s
            .session
            .as_ref()
            .and_then(|x| x.rounds().iter().find(|r| r.number == round).cloned());
        let resource = s.resource;
        drop(s);
        let title = format!("Round {round} explained");
        let view = match summary {
            Some(r) => HistoryView {
                title,
                object_id: String::new(),
                lines: crate::graph::explain::explain_round(&r, resource)
                    .into_iter()
                    .map(|l| (HistoryRole::Step, format!("• {l}")))
                    .collect(),
                unavailable: None,
            },
            None => HistoryView {
                title,
                unavailable: Some(format!("round {round} is not in the engine's session")),
                ..Default::default()
            },
        };
        let _ = tx.send(Msg::History(view));
    }

    /// Writes the session's exports (items NDJSON, replica NDJSON and CSV with the table's
    /// columns, HAR) into `deltascope-session-N/` in the working directory.
    pub(super) fn export(&self, columns: Vec<String>, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let s = lock(&self.shared);
        let recorder = s.recorder.clone();
        // The replica as the engine holds it now (a copy: the engine goes on meanwhile).
        let replica = s.session.as_ref().map(|x| x.replica().clone());
        drop(s);
        let path = self.store.clone();
        self.runtime.spawn_blocking(move || {
            let (Some(path), Some(recorder), Some(replica)) = (path, recorder, replica) else {
                return store_problem(
                    &tx,
                    "nothing exported: exports are read from the session store, which is off (--no-store), and need a fetched page".into(),
                );
            };
            let id = recorder.session_id();
            let result = (|| -> Result<String, String> {
                recorder.flush()?;
                let store = Store::open(&path).map_err(|e| e.to_string())?;
                let dir = PathBuf::from(format!("deltascope-session-{id}"));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let write = |name: &str, f: &dyn Fn(&mut Vec<u8>) -> Result<u64, export::ExportError>| {
                    let mut out = Vec::new();
                    let n = f(&mut out).map_err(|e| e.to_string())?;
                    crate::fsutil::write_private_atomic(&dir.join(name), &out)
                        .map_err(|e| format!("{name}: {e}"))?;
                    Ok::<u64, String>(n)
                };
                let items = write("items.ndjson", &|o| export::items_ndjson(&store, id, o))?;
                let objects = write("replica.ndjson", &|o| export::replica_ndjson(&replica, o))?;
                let mut cols = vec!["id".to_owned()];
                cols.extend(columns.iter().filter(|c| *c != "id").cloned());
                write("replica.csv", &|o| export::replica_csv(&replica, &cols, o))?;
                let stored = store.load(id).map_err(|e| e.to_string())?;
                let requests = write("session.har", &|o| export::har(&stored, o))?;
                Ok(format!(
                    "exported session {id} to {}/: items.ndjson ({items} items), replica.ndjson and replica.csv ({objects} objects), session.har ({requests} requests)",
                    dir.display()
                ))
            })();
            let _ = tx.send(match result {
                Ok(text) => Msg::Notice {
                    kind: NoticeKind::Info,
                    text,
                },
                Err(e) => Msg::Notice {
                    kind: NoticeKind::Error,
                    text: format!("export failed: {e}"),
                },
            });
        });
    }
}

/// An object's JSON as the replica holds it: its text as received, else its state as the
/// rounds merged it, else (deleted for good) just its id.
fn known_json(k: &crate::graph::replica::Known<'_>) -> SharedText {
    match (k.raw, k.object) {
        (Some(raw), _) => SharedText::whole(raw),
        (None, Some(obj)) => SharedText::from(serde_json::to_string(obj).unwrap_or_default()),
        (None, None) => SharedText::from(serde_json::json!({ "id": k.id }).to_string()),
    }
}

/// The replica's live objects as one JSON array (a jq filter's input).
fn replica_array(s: &Shared) -> Result<SharedText, String> {
    let session = s.session.as_ref().ok_or("no replica yet")?;
    let mut text = String::from("[");
    for (i, k) in session
        .replica()
        .known()
        .filter(|k| k.state == crate::graph::replica::ObjectState::Live)
        .enumerate()
    {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&known_json(&k));
    }
    text.push(']');
    Ok(SharedText::from(text))
}

fn store_problem(tx: &UnboundedSender<Msg>, text: String) {
    let _ = tx.send(Msg::Notice {
        kind: NoticeKind::Warning,
        text,
    });
}

/// Why a session recorded on `stored_root` cannot be resumed on `root` (a token goes only to
/// the root it was issued for; a link works only where it was issued). The embedded
/// emulator's sessions resume on the embedded emulator wherever it listens now.
fn refusal(
    stored_root: &str,
    stored_embedded: bool,
    root: &crate::graph::GraphRoot,
    embedded_here: Option<&crate::graph::GraphRoot>,
) -> Option<String> {
    if stored_embedded && embedded_here == Some(root) {
        return None;
    }
    if stored_embedded {
        return Some(
            "recorded on the embedded emulator: start deltascope without a Graph root to resume it"
                .into(),
        );
    }
    (stored_root != root.to_string()).then(|| {
        format!(
            "recorded against {stored_root}, and the explorer now talks to {root}: start it with --graph-root {stored_root} to resume"
        )
    })
}

/// The query builder's values for a stored query.
fn draft_of(q: &DeltaQuery) -> QueryDraft {
    QueryDraft {
        resource: q.resource.clone(),
        api: q.api.as_str().to_owned(),
        params: q
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        select: q.select.clone(),
        ids: q.ids.clone(),
        minimal: q.minimal,
        top: q.top,
        latest: q.latest,
        max_page: q.max_page_size,
        path: q.path.clone(),
        types: q.types.clone(),
    }
}

/// The rows of a replayed session, round by round, as they were shown when fetched.
fn resumed_rounds(replayed: &replay::Replayed) -> Vec<ResumedRound> {
    let summaries = replayed.session.rounds();
    let mut rounds: Vec<ResumedRound> = Vec::new();
    for (stored, report) in &replayed.requests {
        let number = stored.round_number;
        let summary = summaries.iter().find(|r| r.number == number);
        if rounds.last().is_none_or(|r| r.number != number) {
            rounds.push(ResumedRound {
                number,
                summary_line: summary.map(summary_line),
                delta_link: summary.and_then(|r| r.delta_link.clone()),
                rows: Vec::new(),
            });
        }
        let Some(round) = rounds.last_mut() else {
            continue;
        };
        let row = match report {
            Some(report) => {
                let full = summary.is_some_and(|r| r.full);
                let shape = RoundShape {
                    full,
                    minimal_changes: !full && summary.is_some_and(|r| r.minimal),
                };
                let index = stored.page_number.unwrap_or(1);
                let mut view = page_view(&stored.page, index, shape, &report.outcomes);
                view.warnings = report.warnings.clone();
                view
            }
            None => {
                let message = stored.error.clone().unwrap_or_default();
                let page = (!stored.page.body.is_empty()).then_some(&stored.page);
                let index = round.rows.iter().filter(|r| r.failure.is_none()).count() as u32 + 1;
                let mut view = failed_page_view(
                    &GraphError::Network(message.clone()),
                    &stored.page.request,
                    index,
                    stored.page.elapsed,
                    page,
                );
                if let Some(f) = &mut view.failure {
                    f.message = message;
                    f.status = (stored.page.status != 0).then_some(stored.page.status);
                }
                view
            }
        };
        round.rows.push(row);
    }
    rounds
}

/// What changed between two rounds, as lines to draw (the first objects, when there are many).
fn compare_view(title: String, c: &crate::store::compare::Comparison) -> HistoryView {
    use crate::store::compare::Difference;
    const MAX_OBJECTS: usize = 2000;
    let count = |f: fn(&Difference) -> bool| c.differences.values().filter(|d| f(d)).count();
    let added = count(|d| matches!(d, Difference::Added(_)));
    let removed = count(|d| matches!(d, Difference::Removed(_)));
    let changed = count(|d| matches!(d, Difference::Changed(_)));
    let mut lines = vec![(
        HistoryRole::Step,
        format!(
            "the replica went from {} at the end of round {} to {} at the end of round {}: {added} added, {changed} changed, {removed} removed",
            crate::graph::round::plural(c.objects_a, "object", "objects"),
            c.a,
            c.objects_b,
            c.b
        ),
    )];
    let name = |v: &serde_json::Value| {
        v.get("displayName")
            .and_then(|n| n.as_str())
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    };
    for (id, d) in c.differences.iter().take(MAX_OBJECTS) {
        match d {
            Difference::Added(v) => lines.push((HistoryRole::Added, format!("+ {id}{}", name(v)))),
            Difference::Removed(v) => {
                lines.push((HistoryRole::Removed, format!("− {id}{}", name(v))))
            }
            Difference::Changed(props) => {
                lines.push((HistoryRole::Step, format!("~ {id}")));
                for (p, before, after) in props {
                    lines.push((
                        HistoryRole::Change,
                        format!("    {p}: {} → {}", show_value(before), show_value(after)),
                    ));
                }
            }
        }
    }
    if c.differences.len() > MAX_OBJECTS {
        lines.push((
            HistoryRole::Note,
            format!(
                "(the first {MAX_OBJECTS} of {} objects; deltascope export gives them all)",
                c.differences.len()
            ),
        ));
    }
    HistoryView {
        title,
        object_id: String::new(),
        lines,
        unavailable: None,
    }
}

/// A property's value in a line: strings quoted, `(not set)` for none.
fn show_value(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(not set)".to_owned(),
        Some(serde_json::Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// An object's timeline as lines to draw.
fn history_view(
    object_id: &str,
    occurrences: &[crate::store::Occurrence],
    absent: &[crate::store::history::Absence],
) -> HistoryView {
    let events = timeline(occurrences);
    let mut lines = Vec::new();
    let mut absent = absent.iter().peekable();
    let absence_line = |a: &crate::store::history::Absence| {
        let rounds = if a.from == a.to {
            format!("round {}: not in it", a.from)
        } else {
            format!("rounds {}-{}: in none of them", a.from, a.to)
        };
        (HistoryRole::Note, format!("{rounds}: {}", a.why))
    };
    for e in &events {
        while let Some(a) = absent.next_if(|a| a.from < e.round) {
            lines.push(absence_line(a));
        }
        let when =
            e.at.map(|t| t.format(" · %Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
        let role = match e.kind {
            EventKind::Removed => HistoryRole::Removed,
            EventKind::Restored => HistoryRole::Restored,
            EventKind::FirstSeen => HistoryRole::Added,
            EventKind::Duplicate | EventKind::Unchanged | EventKind::Skipped => HistoryRole::Note,
            EventKind::Changed | EventKind::Slice => HistoryRole::Step,
        };
        lines.push((
            role,
            format!("round {}, page {}{when}: {}", e.round, e.page, e.summary),
        ));
        for c in &e.changes {
            lines.push((
                HistoryRole::Change,
                format!(
                    "    {}: {} → {}",
                    c.property,
                    show_value(&c.before),
                    show_value(&c.after)
                ),
            ));
        }
        for l in &e.links {
            if !l.added.is_empty() {
                lines.push((
                    HistoryRole::Change,
                    format!("    {} + {}", l.relationship, l.added.join(", ")),
                ));
            }
            if !l.removed.is_empty() {
                lines.push((
                    HistoryRole::Change,
                    format!("    {} − {}", l.relationship, l.removed.join(", ")),
                ));
            }
        }
    }
    lines.extend(absent.map(absence_line));
    HistoryView {
        title: format!("History of {object_id}"),
        object_id: object_id.to_owned(),
        lines,
        unavailable: None,
    }
}
