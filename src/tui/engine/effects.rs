//! The effect executor: carries out the model's engine effects (fetch, cancel, resync, the
//! access token, sign-in, profiles) by spawning tasks that answer with messages.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::convert::{delta_query, token_view};
use super::fetch::{FetchTask, TokenChecker};
use super::preview::EnginePreviewer;
use super::shared::{Active, Connection, NOT_SIGNED_IN, Shared, lock};
use super::sign_in::{SignInSetup, Startup};
use crate::auth::{AccessToken, AuthArgs, StaticToken, TokenSource};
use crate::graph::{
    Catalog, ClientConfig, GraphClient, GraphError, GraphRoot, RoundLimits, RoundSummary, Session,
};
use crate::tui::app::{CopyWhat, Effect, Msg, NoticeKind};
use crate::tui::runtime::EffectHandler;
use crate::tui::view::{ErrorView, TokenView};

/// Executes the explorer's engine effects. See the module comment for how runs are kept apart.
pub struct EngineExecutor {
    pub(super) catalog: &'static Catalog,
    pub(super) config: ClientConfig,
    /// What stops a round going nowhere (link loops, idle pages).
    pub(super) limits: RoundLimits,
    /// The embedded emulator's root, when the explorer started one (its demo token is not a
    /// JWT, by design).
    pub(super) embedded: Option<GraphRoot>,
    pub(super) setup: Arc<SignInSetup>,
    pub(super) shared: Arc<Mutex<Shared>>,
    pub(super) runtime: tokio::runtime::Handle,
    /// The session store's file (`None`: off).
    pub(super) store: Option<std::path::PathBuf>,
}

impl EngineExecutor {
    /// An executor for `root` with a static bearer token. Must be called inside a tokio runtime
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

    /// An executor for `root` signing in with `tokens` (any sign-in: client credentials, device
    /// code, a cached and refreshed token ...). Profiles come from the default config file.
    #[allow(clippy::result_large_err)]
    pub fn with_source(
        catalog: &'static Catalog,
        root: GraphRoot,
        tokens: Arc<dyn TokenSource>,
        config: ClientConfig,
    ) -> Result<Self, GraphError> {
        let setup = SignInSetup {
            args: AuthArgs::default(),
            describe: format!("the token given for {root}"),
            startup: Startup::Ready {
                title: format!("Graph root {root}"),
                root,
                tokens,
                who: String::new(),
            },
        };
        Self::with_setup(catalog, setup, config)
    }

    /// An executor that signs in as `setup` says: at once when the start-up sign-in is
    /// [`Startup::Ready`], else when the model asks (`Effect::SignIn`, in the background).
    #[allow(clippy::result_large_err)]
    pub fn with_setup(
        catalog: &'static Catalog,
        setup: SignInSetup,
        config: ClientConfig,
    ) -> Result<Self, GraphError> {
        let connection = match &setup.startup {
            Startup::Ready { root, tokens, .. } => Some(Connection {
                client: Arc::new(GraphClient::new(
                    root.clone(),
                    tokens.clone(),
                    config.clone(),
                )?),
                tokens: tokens.clone(),
                attempt: 0,
                cancel: CancellationToken::new(),
            }),
            Startup::SignIn { .. } => None,
        };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| GraphError::InvalidRequest(format!("no async runtime: {e}")))?;
        let shared = Shared {
            root: setup.startup.root().clone(),
            connection,
            signing: None,
            session: None,
            active: None,
            last_error: None,
            resource: None,
            recorder: None,
            store_warned: false,
        };
        Ok(Self {
            catalog,
            config,
            limits: RoundLimits::default(),
            embedded: None,
            setup: Arc::new(setup),
            shared: Arc::new(Mutex::new(shared)),
            runtime,
            store: None,
        })
    }

    /// Sets what stops a round going nowhere (`--max-idle-pages`).
    pub fn with_limits(mut self, limits: RoundLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Tells the executor that `root` is the embedded emulator it runs with its demo token.
    pub fn with_embedded(mut self, root: GraphRoot) -> Self {
        self.embedded = Some(root);
        self
    }

    /// Where requests go now.
    pub fn root(&self) -> GraphRoot {
        lock(&self.shared).root.clone()
    }

    /// The previewer for the model, on the same catalog and root.
    pub fn previewer(&self) -> EnginePreviewer {
        EnginePreviewer::new(self.catalog, self.root())
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
    pub(super) fn with_token(
        &self,
        tx: &UnboundedSender<Msg>,
        what: CopyWhat,
        make: impl FnOnce(&str) -> String + Send + 'static,
    ) {
        let Some(tokens) = self.tokens() else {
            let _ = tx.send(Msg::Notice {
                kind: NoticeKind::Error,
                text: format!("nothing copied: {NOT_SIGNED_IN}"),
            });
            return;
        };
        let tx = tx.clone();
        self.runtime.spawn(async move {
            let msg = match tokens.token().await {
                Ok(t) => Msg::CopyRequest {
                    what,
                    text: make(t.secret()),
                },
                Err(e) => Msg::Notice {
                    kind: NoticeKind::Error,
                    text: format!("nothing copied: {e}"),
                },
            };
            let _ = tx.send(msg);
        });
    }

    /// Gets the token off the UI thread, decodes it and sends `Msg::TokenInspected` (the
    /// decoded claims only; the token is dropped right after decoding).
    pub(super) fn inspect_token(&self, tx: &UnboundedSender<Msg>, resource: Option<String>) {
        let Some(tokens) = self.tokens() else {
            let _ = tx.send(Msg::TokenInspected(TokenView {
                unavailable: Some(format!("no token to inspect: {NOT_SIGNED_IN}")),
                ..Default::default()
            }));
            return;
        };
        let tx = tx.clone();
        let (catalog, root) = (self.catalog, self.root());
        let demo = self.embedded.as_ref() == Some(&root);
        self.runtime.spawn(async move {
            let view = match tokens.token().await {
                Ok(t) => {
                    let v = token_view(
                        t.secret(),
                        catalog,
                        resource.as_deref(),
                        (&root, demo),
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

    /// The token source in force, if a sign-in succeeded.
    pub(super) fn tokens(&self) -> Option<Arc<dyn TokenSource>> {
        lock(&self.shared)
            .connection
            .as_ref()
            .map(|c| c.tokens.clone())
    }

    /// Starts run `run_id`'s fetch task; `preflight`: the run begins with the session's first
    /// request, and the token is checked before it is sent.
    pub(super) fn spawn(
        &self,
        s: &mut Shared,
        run_id: u64,
        follow: bool,
        preflight: bool,
        tx: &UnboundedSender<Msg>,
    ) {
        if let Some(old) = s.active.take() {
            old.cancel.cancel();
        }
        // A run is a person's request to fetch: a round that stopped (a link loop, idle
        // pages) may go on from where it stopped, and follow again until the next stop.
        if let Some(session) = s.session.as_mut() {
            session.go_on();
        }
        let Some(connection) = s.connection.clone() else {
            Self::fail_now(tx, run_id, NOT_SIGNED_IN.to_owned());
            return;
        };
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
            client: connection.client,
            checker: TokenChecker {
                tokens: connection.tokens,
                resource: s.resource,
                root: s.root.clone(),
            },
            preflight,
            shared: self.shared.clone(),
            tx: tx.clone(),
        };
        self.runtime.spawn(task.run());
    }

    pub(super) fn fail_now(tx: &UnboundedSender<Msg>, run_id: u64, message: String) {
        let _ = tx.send(Msg::FetchFailed {
            run_id,
            error: ErrorView {
                message,
                ..Default::default()
            },
        });
    }
}

impl EffectHandler for EngineExecutor {
    fn handle(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        match effect {
            Effect::Start {
                run_id,
                query,
                follow,
            } => {
                let root = self.root();
                let first = delta_query(&query).and_then(|q| {
                    q.first_request(self.catalog, &root)
                        .map_err(|e| format!("the query is not valid: {e}"))
                });
                match first {
                    Ok(first) => {
                        let shared = self.shared.clone();
                        let mut s = lock(&shared);
                        s.session = Some(Session::new(first.clone()).with_limits(self.limits));
                        s.last_error = None;
                        s.resource = match delta_query(&query) {
                            Ok(q) if q.path.is_some() => q.custom_resource(self.catalog),
                            _ => self.catalog.get(&query.resource),
                        };
                        if let Ok(q) = delta_query(&query) {
                            self.start_recording(&mut s, &q, &first, tx);
                        }
                        self.spawn(&mut s, run_id, follow, true, tx);
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
                self.spawn(&mut s, run_id, false, false, tx);
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
                            self.spawn(&mut s, run_id, true, false, tx);
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
                self.spawn(&mut s, run_id, false, false, tx);
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
                    crate::tui::app::curl_command_with_token(&url, &headers, t)
                })
            }
            Effect::InspectToken { resource } => self.inspect_token(tx, resource),
            Effect::SignIn {
                attempt,
                target,
                resource,
            } => self.start_sign_in(attempt, target, resource, tx),
            Effect::CancelSignIn { attempt } => {
                let mut s = lock(&self.shared);
                if s.signing.as_ref().is_some_and(|(a, _)| *a == attempt)
                    && let Some((_, cancel)) = s.signing.take()
                {
                    cancel.cancel();
                } else if let Some(c) = &s.connection
                    && c.attempt == attempt
                    && attempt > 0
                {
                    // A renewal's device code: this sign-in cannot get tokens any more.
                    c.cancel.cancel();
                }
            }
            Effect::LoadProfiles => self.load_profiles(tx),
            Effect::LoadSessions => self.load_sessions(tx),
            Effect::Resume { run_id, session } => self.resume(run_id, session, tx),
            Effect::History { object_id } => self.history(object_id, tx),
            Effect::ExplainRound { round } => self.explain(round, tx),
            Effect::CompareRounds { a, b } => self.compare(a, b, tx),
            Effect::LoadReplica => self.load_replica(tx),
            Effect::ArrangeReplica { view, order, seq } => {
                let tx = tx.clone();
                self.runtime.spawn_blocking(move || {
                    let shown = crate::tui::view::replica::arrange(&view, &order);
                    let _ = tx.send(Msg::ReplicaArranged { seq, shown });
                });
            }
            Effect::Jq { filter, page } => self.jq(filter, page, tx),
            Effect::SearchSession { query, pages } => {
                let tx = tx.clone();
                self.runtime.spawn_blocking(move || {
                    let _ = tx.send(Msg::Found(crate::tui::view::search::search(&query, &pages)));
                });
            }
            Effect::Export { columns } => self.export(columns, tx),
            // Handled by the runtime itself.
            Effect::Copy { .. } | Effect::FormatJson(_) | Effect::Quit => {}
        }
    }
}
