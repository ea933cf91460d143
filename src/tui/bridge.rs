//! The bridge between the explorer and the delta engine: executes the model's fetch effects
//! with [`GraphClient`] and [`Session`] in background tasks, and turns what the engine returns
//! (pages, round summaries, errors, throttling) into view data and messages.
//!
//! The UI never sees HTTP; the engine never sees ratatui. One task fetches at a time, tagged
//! with the run id of the effect that started it. The session lives behind a mutex that is only
//! held between awaits (never across one): a task fetches without it, then locks, checks that its
//! run is still the active one, applies the page and sends the messages. A cancel or a newer run
//! changes the active run under the same lock, so a page that arrives for a cancelled or
//! superseded run is neither applied to the session nor shown.
use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::app::{CopyWhat, Effect, Msg, QueryPreviewer};
use super::runtime::EffectHandler;
use super::view::{
    ErrorView, ObjectRow, PageView, ProblemView, QueryDraft, QueryView, RequestPreview,
    ResourceView, SharedText, TokenView,
};
use crate::auth::{AccessToken, StaticToken, TokenInfo, TokenSource};
use crate::graph::{
    ApiVersion, Catalog, ClientConfig, DeltaQuery, FetchProgress, GraphClient, GraphError,
    GraphRoot, Page, PageRequest, RequestKind, ResourceSpec, RoundSummary, Session,
};

/// The builder's view of one catalog resource.
pub fn resource_view(spec: &ResourceSpec) -> ResourceView {
    ResourceView {
        name: spec.name.clone(),
        title: spec.title.clone(),
        params: spec.params.iter().map(|p| p.name.clone()).collect(),
        known_properties: spec.known_properties.clone(),
        default_properties: spec.default_properties.clone(),
        supports_select: spec.supports.select,
        supports_filter_ids: spec.supports.filter_ids,
        supports_top: spec.supports.top,
        supports_latest: spec.supports.latest,
        supports_minimal: spec.supports.minimal,
    }
}

/// A fresh query builder over every resource of the catalog (the first one selected, v1.0).
pub fn query_view(catalog: &Catalog) -> QueryView {
    let mut q = QueryView {
        resources: catalog.resources().iter().map(resource_view).collect(),
        api: ApiVersion::V1_0.to_string(),
        ..Default::default()
    };
    q.set_resource(0);
    q
}

/// The engine's query for a draft. `Err` when the API version is not one Graph has.
pub fn delta_query(d: &QueryDraft) -> Result<DeltaQuery, String> {
    let api = ApiVersion::from_str(&d.api)
        .map_err(|_| format!("unknown API version {:?} (v1.0 or beta)", d.api))?;
    let params: BTreeMap<String, String> = d
        .params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    Ok(DeltaQuery {
        resource: d.resource.clone(),
        api,
        params,
        select: d.select.clone(),
        ids: d.ids.clone(),
        minimal: d.minimal,
        top: d.top,
        latest: d.latest,
    })
}

/// The request preview and validation messages, from the engine's own `validate` and
/// `first_request` (so what is shown is exactly what will be sent).
pub struct EnginePreviewer {
    catalog: &'static Catalog,
    root: GraphRoot,
}

impl EnginePreviewer {
    pub fn new(catalog: &'static Catalog, root: GraphRoot) -> Self {
        Self { catalog, root }
    }
}

impl QueryPreviewer for EnginePreviewer {
    fn preview(&self, draft: &QueryDraft) -> (RequestPreview, Vec<ProblemView>) {
        let query = match delta_query(draft) {
            Ok(q) => q,
            Err(message) => {
                return (
                    RequestPreview {
                        url: Err(message.clone()),
                        headers: Vec::new(),
                    },
                    vec![ProblemView {
                        field: "api".into(),
                        message,
                        is_error: true,
                    }],
                );
            }
        };
        let v = query.validate(self.catalog);
        let mut problems: Vec<ProblemView> = v
            .errors
            .iter()
            .map(|p| ProblemView {
                field: p.field.clone(),
                message: p.message.clone(),
                is_error: true,
            })
            .collect();
        problems.extend(v.warnings.iter().map(|p| ProblemView {
            field: p.field.clone(),
            message: p.message.clone(),
            is_error: false,
        }));
        let preview = match query.first_request(self.catalog, &self.root) {
            Ok(req) => RequestPreview {
                url: Ok(req.url),
                headers: req.headers,
            },
            Err(_) => RequestPreview {
                url: Err(format!(
                    "no request yet: fix {} error(s) below",
                    v.errors.len().max(1)
                )),
                headers: Vec::new(),
            },
        };
        (preview, problems)
    }
}

/// A failed fetch as the UI shows it.
pub fn error_view(e: &GraphError) -> ErrorView {
    let message = match e {
        GraphError::Http { message, .. } if !message.is_empty() => message.clone(),
        other => other.to_string(),
    };
    let request_id = match e {
        GraphError::Http { request_id, .. } => request_id.clone(),
        _ => None,
    };
    ErrorView {
        status: e.status(),
        code: e.code().map(str::to_owned),
        message,
        request_id,
        hint: e.hint(),
        needs_resync: e.needs_resync(),
    }
}

/// A fetched page as the results and JSON panes show it. `minimal_changes`: the page belongs
/// to a later round fetched with `Prefer: return=minimal`, so the properties that came back are
/// the changed ones (in a full round every property comes back). `seen` holds the ids met
/// earlier in the round (for the duplicate flag) and is updated.
pub fn page_view(
    page: &Page,
    index: u32,
    minimal_changes: bool,
    seen: &mut HashSet<u64>,
) -> PageView {
    let raw = page.body.clone();
    let rows = page
        .items
        .iter()
        .map(|item| {
            // Each object is a range of the page body, not a copy of it.
            let json = SharedText::new(&raw, item.span.clone());
            let duplicate = item.id(&raw).is_some_and(|id| !seen.insert(id_hash(id)));
            ObjectRow::from_json(json, minimal_changes, duplicate)
        })
        .collect();
    PageView {
        index,
        url: page.url.clone(),
        status: page.status,
        item_count: page.items.len(),
        bytes: page.body.len() as u64,
        elapsed_ms: u64::try_from(page.elapsed.as_millis()).unwrap_or(u64::MAX),
        retries: page.retries,
        empty: page.items.is_empty(),
        next_link: page.next_link.clone(),
        delta_link: page.delta_link.clone(),
        request_headers: page.request_headers.clone(),
        response_headers: page.headers.clone(),
        raw_json: SharedText::whole(&raw),
        rows,
    }
}

/// Ids seen in a round are kept as 64-bit hashes: a set of 100,000 id strings would cost more
/// than the flag it computes is worth (a collision only mislabels a row as a duplicate).
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// What the token inspector shows for `secret`, checked against `resource` (a catalog name)
/// and the Graph root the requests go to, at `now`. The token is only decoded here; nothing of
/// it is kept in the returned view.
pub fn token_view(
    secret: &str,
    catalog: &Catalog,
    resource: Option<&str>,
    root: &GraphRoot,
    now: chrono::DateTime<chrono::Utc>,
) -> TokenView {
    let spec = resource.and_then(|r| catalog.get(r));
    match TokenInfo::decode(secret) {
        Ok(info) => {
            let check = info.check(spec, Some(root.as_str()), now);
            TokenView {
                lines: info
                    .lines(now)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                resource: spec.map(|s| s.name.clone()),
                problems: check.problems,
                notes: check.notes,
                unavailable: None,
            }
        }
        Err(e) if is_loopback_root(root) => TokenView {
            unavailable: Some(
                "the demo emulator accepts any token; nothing to inspect (its token is not a JWT)"
                    .into(),
            ),
            notes: vec![format!("{e}")],
            ..Default::default()
        },
        Err(e) => TokenView {
            unavailable: Some(format!("nothing to inspect: {e}")),
            ..Default::default()
        },
    }
}

fn is_loopback_root(root: &GraphRoot) -> bool {
    let r = root.as_str().to_ascii_lowercase();
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| r.starts_with(p))
}

/// The one-line summary of a round.
pub fn summary_line(summary: &RoundSummary) -> String {
    summary.to_string()
}

/// What the fetch tasks share with the handler.
#[derive(Default)]
struct Shared {
    session: Option<Session>,
    /// The run whose results are wanted; `None` when nothing is fetching.
    active: Option<Active>,
    /// The last failure (a 410's Location is where the resync starts).
    last_error: Option<GraphError>,
    /// Ids seen in the round in progress (for the duplicate flag).
    seen: HashSet<u64>,
    /// The round number the ids in `seen` belong to.
    seen_round: u32,
}

struct Active {
    run_id: u64,
    cancel: CancellationToken,
    follow: Arc<AtomicBool>,
}

/// Executes the explorer's engine effects. See the module comment for how runs are kept apart.
pub struct EngineBridge {
    catalog: &'static Catalog,
    root: GraphRoot,
    client: Arc<GraphClient>,
    tokens: Arc<dyn TokenSource>,
    shared: Arc<Mutex<Shared>>,
    runtime: tokio::runtime::Handle,
}

impl EngineBridge {
    /// A bridge to `root` with a static bearer token. Must be called inside a tokio runtime
    /// (fetch tasks are spawned on it).
    // Built once per session; the error is the engine's own.
    #[allow(clippy::result_large_err)]
    pub fn new(
        catalog: &'static Catalog,
        root: GraphRoot,
        token: AccessToken,
        config: ClientConfig,
    ) -> Result<Self, GraphError> {
        Self::with_source(catalog, root, Arc::new(StaticToken::new(token)), config)
    }

    /// A bridge to `root` signing in with `tokens` (any sign-in: client credentials, device
    /// code, a cached and refreshed token ...).
    #[allow(clippy::result_large_err)]
    pub fn with_source(
        catalog: &'static Catalog,
        root: GraphRoot,
        tokens: Arc<dyn TokenSource>,
        config: ClientConfig,
    ) -> Result<Self, GraphError> {
        let client = GraphClient::new(root.clone(), tokens.clone(), config)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| GraphError::InvalidRequest(format!("no async runtime: {e}")))?;
        Ok(Self {
            catalog,
            root,
            client: Arc::new(client),
            tokens,
            shared: Arc::new(Mutex::new(Shared::default())),
            runtime,
        })
    }

    pub fn root(&self) -> &GraphRoot {
        &self.root
    }

    /// The previewer for the model, on the same catalog and root.
    pub fn previewer(&self) -> EnginePreviewer {
        EnginePreviewer::new(self.catalog, self.root.clone())
    }

    /// The engine's replica size and completed rounds (for tests and the status line).
    pub fn session_info(&self) -> Option<(usize, Vec<RoundSummary>)> {
        let s = lock(&self.shared);
        s.session
            .as_ref()
            .map(|s| (s.replica().len(), s.rounds().to_vec()))
    }

    /// Asks the token source for the current token (it may sign in or refresh: never on the UI
    /// thread) and hands `make(token)` to the runtime to copy; a failure goes to the status bar.
    fn with_token(
        &self,
        tx: &UnboundedSender<Msg>,
        what: CopyWhat,
        make: impl FnOnce(&str) -> String + Send + 'static,
    ) {
        let (tokens, tx) = (self.tokens.clone(), tx.clone());
        self.runtime.spawn(async move {
            let msg = match tokens.token().await {
                Ok(t) => Msg::CopyRequest {
                    what,
                    text: make(t.secret()),
                },
                Err(e) => Msg::Status(format!("nothing copied: {e}")),
            };
            let _ = tx.send(msg);
        });
    }

    /// Gets the token off the UI thread, decodes it and sends `Msg::TokenInspected` (the
    /// decoded claims only; the token is dropped right after decoding).
    fn inspect_token(&self, tx: &UnboundedSender<Msg>, resource: Option<String>) {
        let (tokens, tx) = (self.tokens.clone(), tx.clone());
        let (catalog, root) = (self.catalog, self.root.clone());
        self.runtime.spawn(async move {
            let view = match tokens.token().await {
                Ok(t) => {
                    let v = token_view(
                        t.secret(),
                        catalog,
                        resource.as_deref(),
                        &root,
                        chrono::Utc::now(),
                    );
                    drop(t);
                    v
                }
                Err(e) => TokenView {
                    unavailable: Some(format!("no token to inspect: the sign-in failed: {e}")),
                    ..Default::default()
                },
            };
            let _ = tx.send(Msg::TokenInspected(view));
        });
    }

    fn spawn(&self, s: &mut Shared, run_id: u64, follow: bool, tx: &UnboundedSender<Msg>) {
        if let Some(old) = s.active.take() {
            old.cancel.cancel();
        }
        let cancel = CancellationToken::new();
        let follow = Arc::new(AtomicBool::new(follow));
        s.active = Some(Active {
            run_id,
            cancel: cancel.clone(),
            follow: follow.clone(),
        });
        let task = FetchTask {
            run_id,
            cancel,
            follow,
            client: self.client.clone(),
            shared: self.shared.clone(),
            tx: tx.clone(),
        };
        self.runtime.spawn(task.run());
    }

    fn fail_now(tx: &UnboundedSender<Msg>, run_id: u64, message: String) {
        let _ = tx.send(Msg::FetchFailed {
            run_id,
            error: ErrorView {
                message,
                ..Default::default()
            },
        });
    }
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panicked fetch task must not take the UI down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl EffectHandler for EngineBridge {
    fn handle(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        match effect {
            Effect::Start {
                run_id,
                query,
                follow,
            } => {
                let first = delta_query(&query).and_then(|q| {
                    q.first_request(self.catalog, &self.root)
                        .map_err(|e| format!("the query is not valid: {e}"))
                });
                match first {
                    Ok(first) => {
                        let shared = self.shared.clone();
                        let mut s = lock(&shared);
                        s.session = Some(Session::new(first));
                        s.last_error = None;
                        s.seen.clear();
                        s.seen_round = 0;
                        self.spawn(&mut s, run_id, follow, tx);
                    }
                    Err(message) => Self::fail_now(tx, run_id, message),
                }
            }
            Effect::FetchNext { run_id } | Effect::NextRound { run_id } => {
                let shared = self.shared.clone();
                let mut s = lock(&shared);
                if s.session.is_none() {
                    drop(s);
                    Self::fail_now(tx, run_id, "no session yet: fetch the first page".into());
                    return;
                }
                self.spawn(&mut s, run_id, false, tx);
            }
            Effect::FollowRound { run_id } => {
                let shared = self.shared.clone();
                let mut s = lock(&shared);
                match &s.active {
                    // The same run (a next round that is to be followed): keep going.
                    Some(a) if a.run_id == run_id => a.follow.store(true, Ordering::SeqCst),
                    _ => {
                        let Some(session) = &s.session else {
                            drop(s);
                            Self::fail_now(
                                tx,
                                run_id,
                                "no session yet: fetch the first page".into(),
                            );
                            return;
                        };
                        // A run that already stopped after its first page: continue only
                        // mid-round (a finished round has been reported complete already).
                        if session.in_round() {
                            self.spawn(&mut s, run_id, true, tx);
                        }
                    }
                }
            }
            Effect::Resync { run_id } => {
                let shared = self.shared.clone();
                let mut s = lock(&shared);
                let location = s
                    .last_error
                    .take()
                    .and_then(|e| e.resync_location().map(str::to_owned));
                let Some(session) = s.session.as_mut() else {
                    drop(s);
                    Self::fail_now(tx, run_id, "no session yet: fetch the first page".into());
                    return;
                };
                let restarted = match location {
                    Some(loc) => {
                        session.restart_from(loc);
                        Ok(())
                    }
                    None => session.resync(),
                };
                if let Err(e) = restarted {
                    drop(s);
                    Self::fail_now(tx, run_id, e.to_string());
                    return;
                }
                s.seen.clear();
                self.spawn(&mut s, run_id, false, tx);
            }
            Effect::Cancel { run_id } => {
                let mut s = lock(&self.shared);
                if s.active.as_ref().is_some_and(|a| a.run_id == run_id)
                    && let Some(a) = s.active.take()
                {
                    a.cancel.cancel();
                }
            }
            Effect::CopyAccessToken => self.with_token(tx, CopyWhat::AccessToken, |t| t.to_owned()),
            Effect::CopyCurlWithToken { url, headers } => {
                self.with_token(tx, CopyWhat::CurlWithToken, move |t| {
                    super::app::curl_command_with_token(&url, &headers, t)
                })
            }
            Effect::InspectToken { resource } => self.inspect_token(tx, resource),
            // Handled by the runtime itself.
            Effect::Copy { .. } | Effect::Quit => {}
        }
    }
}

struct FetchTask {
    run_id: u64,
    cancel: CancellationToken,
    follow: Arc<AtomicBool>,
    client: Arc<GraphClient>,
    shared: Arc<Mutex<Shared>>,
    tx: UnboundedSender<Msg>,
}

impl FetchTask {
    fn is_active(&self, s: &Shared) -> bool {
        s.active.as_ref().is_some_and(|a| a.run_id == self.run_id) && !self.cancel.is_cancelled()
    }

    /// The next request and the 1-based index its page will have in its round.
    fn next(&self) -> Option<(PageRequest, u32)> {
        let mut s = lock(&self.shared);
        if !self.is_active(&s) {
            return None;
        }
        let Some(req) = s.session.as_ref().and_then(Session::next_request) else {
            s.active = None;
            drop(s);
            let _ = self.tx.send(Msg::FetchFailed {
                run_id: self.run_id,
                error: ErrorView {
                    message: "the last page left no link to continue from".into(),
                    hint: Some("start a full resync".into()),
                    needs_resync: true,
                    ..Default::default()
                },
            });
            return None;
        };
        let session = s.session.as_ref()?;
        let index = if session.in_round() && req.kind == RequestKind::Next {
            session
                .rounds()
                .last()
                .map(|r| u32::try_from(r.pages + 1).unwrap_or(u32::MAX))
                .unwrap_or(1)
        } else {
            1
        };
        Some((req, index))
    }

    async fn run(self) {
        loop {
            let Some((request, index)) = self.next() else {
                return;
            };
            let _ = self.tx.send(Msg::Fetching {
                run_id: self.run_id,
                page: index,
            });
            let (run_id, tx) = (self.run_id, self.tx.clone());
            let progress = move |p: FetchProgress| match p {
                FetchProgress::Throttled {
                    status,
                    retry_after,
                    ..
                } => {
                    let _ = tx.send(Msg::Throttled {
                        run_id,
                        until: Instant::now() + retry_after,
                        status,
                    });
                }
                FetchProgress::Sending { attempt } if attempt > 1 => {
                    let _ = tx.send(Msg::Fetching {
                        run_id,
                        page: index,
                    });
                }
                _ => {}
            };
            let result = self.client.fetch(&request, &self.cancel, &progress).await;
            let mut s = lock(&self.shared);
            if !self.is_active(&s) {
                return;
            }
            match result {
                Ok(page) => {
                    let Some(session) = s.session.as_mut() else {
                        return;
                    };
                    let report = session.apply(&page);
                    let summary = session.rounds().last().cloned();
                    let round = summary.as_ref().map(|r| r.number).unwrap_or(1);
                    let index = summary
                        .as_ref()
                        .map(|r| u32::try_from(r.pages).unwrap_or(u32::MAX))
                        .unwrap_or(index);
                    if s.seen_round != round {
                        s.seen.clear();
                        s.seen_round = round;
                    }
                    let minimal_changes = summary.as_ref().is_some_and(|r| r.minimal && !r.full);
                    let view = page_view(&page, index, minimal_changes, &mut s.seen);
                    for w in &report.warnings {
                        tracing::warn!(run_id = self.run_id, "{w}");
                    }
                    let _ = self.tx.send(Msg::PageArrived {
                        run_id: self.run_id,
                        round,
                        page: view,
                    });
                    if report.round_complete {
                        let _ = self.tx.send(Msg::RoundComplete {
                            run_id: self.run_id,
                            round,
                            summary_line: summary.as_ref().map(summary_line),
                            delta_link: page.delta_link.clone(),
                        });
                    }
                    if report.round_complete || !self.follow.load(Ordering::SeqCst) {
                        s.active = None;
                        return;
                    }
                }
                Err(GraphError::Cancelled) => {
                    s.active = None;
                    return;
                }
                Err(e) => {
                    tracing::info!(run_id = self.run_id, status = ?e.status(), "fetch failed");
                    let error = error_view(&e);
                    s.last_error = Some(e);
                    s.active = None;
                    let _ = self.tx.send(Msg::FetchFailed {
                        run_id: self.run_id,
                        error,
                    });
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_offers_every_catalog_resource() {
        let q = query_view(Catalog::builtin());
        let names: Vec<&str> = q.resources.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"contacts") && names.contains(&"recordings"));
        assert_eq!(q.api, "v1.0");
    }

    #[test]
    fn the_preview_is_the_engine_first_request() {
        let root = GraphRoot::parse("https://graph.microsoft.com").unwrap();
        let p = EnginePreviewer::new(Catalog::builtin(), root);
        let draft = QueryDraft {
            resource: "contacts".into(),
            api: "v1.0".into(),
            select: vec!["displayName".into(), "mail".into()],
            minimal: true,
            ..Default::default()
        };
        let (preview, problems) = p.preview(&draft);
        assert!(problems.iter().all(|p| !p.is_error), "{problems:?}");
        assert_eq!(
            preview.url.unwrap(),
            "https://graph.microsoft.com/v1.0/contacts/delta?$select=displayName,mail"
        );
        assert_eq!(
            preview.headers,
            vec![("Prefer".to_owned(), "return=minimal".to_owned())]
        );
        let recordings = QueryDraft {
            resource: "recordings".into(),
            api: "v1.0".into(),
            ..Default::default()
        };
        let (preview, problems) = p.preview(&recordings);
        assert!(preview.url.is_err());
        assert!(
            problems
                .iter()
                .any(|p| p.is_error && p.field == "meetingOrganizerUserId"),
            "{problems:?}"
        );
    }

    #[test]
    fn errors_keep_status_code_request_id_and_hint() {
        let e = GraphError::Http {
            status: 410,
            code: Some("resyncRequired".into()),
            message: "gone".into(),
            request_id: Some("rid".into()),
            client_request_id: None,
            retry_after: None,
            location: Some("http://127.0.0.1:1/v1.0/contacts/delta".into()),
            www_authenticate: None,
            retries: 0,
            url: "http://127.0.0.1:1/v1.0/contacts/delta?$deltatoken=x".into(),
            body: String::new(),
        };
        let v = error_view(&e);
        assert_eq!(v.status, Some(410));
        assert_eq!(v.code.as_deref(), Some("resyncRequired"));
        assert_eq!(v.request_id.as_deref(), Some("rid"));
        assert!(v.needs_resync);
        assert!(v.hint.unwrap().contains("resync"));
    }
}
