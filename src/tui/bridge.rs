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
//!
//! Sign-ins run here too, in the background, tagged with an attempt number: the device code goes
//! to the UI as a message, and a successful sign-in replaces the token source, the Graph root and
//! the client (a new [`GraphClient`], which sends the token only to its own root) and drops the
//! session under the same lock, so that no request of the new identity continues the old
//! identity's rounds.
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
    DeviceCodeView, ErrorView, ObjectRow, PageView, ProblemView, ProfileEntry, ProfilesView,
    QueryDraft, QueryView, RequestPreview, ResourceView, SharedText, SignInTarget, TokenCheckView,
    TokenView,
};
use crate::auth::{
    AccessToken, AuthArgs, Check, Cloud, DevicePrompt, Profile, Profiles, PromptFn, StaticToken,
    TokenInfo, TokenSource,
};
use crate::graph::{
    ApiVersion, Catalog, ClientConfig, DeltaQuery, FetchProgress, GraphClient, GraphError,
    GraphRoot, Page, PageRequest, RequestKind, ResourceSpec, RoundLimits, RoundSummary, Session,
    Stop,
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
    fn set_root(&mut self, root: &str) {
        if let Ok(root) = GraphRoot::parse(root) {
            self.root = root;
        }
    }

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
        token_problems: Vec::new(),
    }
}

/// An object that has only `id`, `@odata.type` and `X@delta` lists (the engine's rule): the
/// continuation of an earlier occurrence's relationships.
fn is_relationship_slice(json: &str) -> bool {
    let Ok(map) = serde_json::from_str::<
        std::collections::BTreeMap<String, &serde_json::value::RawValue>,
    >(json) else {
        return false;
    };
    crate::graph::round::is_relationship_slice_keys(map.keys().map(String::as_str))
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
            // A repeat that only carries more links (a large group's next members) is a slice.
            let slice = duplicate && item.links && is_relationship_slice(json.as_str());
            let row = ObjectRow::from_json(json, minimal_changes, duplicate);
            if slice { row.as_slice() } else { row }
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
        widths: Default::default(),
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

/// The token check the explorer runs by itself (before a session's first request, and after a
/// 403): `secret` decoded and checked against `resource` and the Graph root the requests go to,
/// at `now`. `None` for a token that is not a JWT (opaque, or the demo emulator's): nothing to
/// check, and nothing is said. Only conclusions come back, never the token.
pub fn token_check(
    secret: &str,
    resource: Option<&ResourceSpec>,
    root: &GraphRoot,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Check> {
    TokenInfo::decode(secret)
        .ok()
        .map(|info| info.check(resource, Some(root.as_str()), now))
}

fn is_loopback_root(root: &GraphRoot) -> bool {
    let r = root.as_str().to_ascii_lowercase();
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| r.starts_with(p))
}

/// Why a round stopped, as the status lines show an error: what happened and what to do.
pub fn stop_view(stop: &Stop) -> ErrorView {
    let hint = if stop.can_go_on() {
        "fetching again goes on from the last page's link (following stops again at the next loop; --max-idle-pages sets how many pages without anything new are allowed); a full resync starts over"
    } else {
        "the round has no way on: start a full resync (the link was not followed, nothing was sent to it)"
    };
    ErrorView {
        message: format!("the round stopped: {stop}"),
        hint: Some(hint.to_owned()),
        needs_resync: !stop.can_go_on(),
        ..Default::default()
    }
}

/// The one-line summary of a round.
pub fn summary_line(summary: &RoundSummary) -> String {
    summary.to_string()
}

/// A sign-in in force: its tokens and the client that sends them to its root only; `attempt`
/// and `cancel` are those of the sign-in that made it (a renewal's device code is cancelled
/// with them).
#[derive(Clone)]
struct Connection {
    client: Arc<GraphClient>,
    tokens: Arc<dyn TokenSource>,
    attempt: u64,
    cancel: CancellationToken,
}

/// The token source of a sign-in in force, telling the UI when getting a token needed the
/// person again (a new device code, when the refresh token was refused): the overlay shown for
/// it closes when that token request ends.
struct Announced {
    inner: Arc<dyn TokenSource>,
    prompted: Arc<AtomicBool>,
    attempt: u64,
    tx: UnboundedSender<Msg>,
}

impl Announced {
    fn told(
        &self,
        r: Result<AccessToken, crate::auth::AuthError>,
    ) -> Result<AccessToken, crate::auth::AuthError> {
        if self.prompted.swap(false, Ordering::SeqCst) {
            let _ = self.tx.send(Msg::SignInRenewed {
                attempt: self.attempt,
                result: r.as_ref().map(|_| ()).map_err(ToString::to_string),
            });
        }
        r
    }
}

impl TokenSource for Announced {
    fn token(&self) -> crate::auth::TokenFuture<'_> {
        Box::pin(async move {
            let r = self.inner.token().await;
            self.told(r)
        })
    }

    fn refresh(&self) -> crate::auth::TokenFuture<'_> {
        Box::pin(async move {
            let r = self.inner.refresh().await;
            self.told(r)
        })
    }
}

/// What the fetch and sign-in tasks share with the handler.
struct Shared {
    /// Where requests go (before the first sign-in completes: where they will go).
    root: GraphRoot,
    /// `None` until a sign-in succeeded.
    connection: Option<Connection>,
    /// The sign-in running in the background, if any.
    signing: Option<(u64, CancellationToken)>,
    session: Option<Session>,
    /// The run whose results are wanted; `None` when nothing is fetching.
    active: Option<Active>,
    /// The last failure (a 410's Location is where the resync starts).
    last_error: Option<GraphError>,
    /// Ids seen in the round in progress (for the duplicate flag).
    seen: HashSet<u64>,
    /// The round number the ids in `seen` belong to.
    seen_round: u32,
    /// The session's resource (what the token is checked against).
    resource: Option<&'static ResourceSpec>,
}

struct Active {
    run_id: u64,
    cancel: CancellationToken,
    follow: Arc<AtomicBool>,
}

/// Executes the explorer's engine effects. See the module comment for how runs are kept apart.
pub struct EngineBridge {
    catalog: &'static Catalog,
    config: ClientConfig,
    /// What stops a round going nowhere (link loops, idle pages).
    limits: RoundLimits,
    setup: Arc<SignInSetup>,
    shared: Arc<Mutex<Shared>>,
    runtime: tokio::runtime::Handle,
}

/// How the explorer started signing in, and where its profiles are.
pub struct SignInSetup {
    /// The explorer's sign-in options (the command line; `--config` names the profiles' file).
    pub args: AuthArgs,
    pub startup: Startup,
    /// What the start-up sign-in is, for the profile picker (never a secret).
    pub describe: String,
}

/// The sign-in the explorer starts with.
pub enum Startup {
    /// A token source that needs no sign-in step (the embedded emulator's demo token, a token
    /// read from standard input before the screen was taken).
    Ready {
        root: GraphRoot,
        tokens: Arc<dyn TokenSource>,
        who: String,
        title: String,
    },
    /// Sign in with the explorer's options against `root`, in the background.
    SignIn { root: GraphRoot },
}

impl Startup {
    fn root(&self) -> &GraphRoot {
        match self {
            Startup::Ready { root, .. } | Startup::SignIn { root } => root,
        }
    }
}

/// A sign-in that succeeded.
struct SignedIn {
    root: GraphRoot,
    tokens: Arc<dyn TokenSource>,
    who: String,
    title: String,
}

/// The title bar of a session on `root` signed in as `who`.
pub fn signed_in_title(root: &GraphRoot, who: &str) -> String {
    format!("Graph root {root} · {who}")
}

/// The picker's line for a profile: method, cloud, tenant (names of variables, never values
/// of secrets: profiles hold none).
pub fn profile_entry(name: &str, p: &Profile) -> ProfileEntry {
    let tenant = p
        .tenant_id
        .clone()
        .or_else(|| p.tenant_id_env.as_ref().map(|v| format!("${v}")))
        .unwrap_or_else(|| match p.method {
            Some(crate::auth::Method::TokenEnv)
            | Some(crate::auth::Method::TokenFile)
            | Some(crate::auth::Method::TokenStdin)
            | Some(crate::auth::Method::AzureCli) => "(the token's)".to_owned(),
            _ => "$AZURE_TENANT_ID".to_owned(),
        });
    ProfileEntry {
        name: name.to_owned(),
        method: p
            .method
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "(from the environment)".to_owned()),
        cloud: p.cloud.unwrap_or_default().name().to_owned(),
        tenant,
        graph_root: p.graph_root.clone(),
    }
}

/// The profile picker's view of the config file at `path` (`None`: no config directory).
pub fn profiles_view(path: Option<&std::path::Path>, startup: &str) -> ProfilesView {
    let mut view = ProfilesView {
        path: path.map(|p| p.display().to_string()),
        startup: startup.to_owned(),
        ..Default::default()
    };
    let Some(path) = path else {
        view.problem = Some(
            "no config directory (HOME is not set): start with --config FILE or set DELTASCOPE_CONFIG"
                .to_owned(),
        );
        return view;
    };
    if !path.exists() {
        view.problem = Some(format!(
            "there is no config file at {}: profiles are [profiles.NAME] tables in it (see the README)",
            path.display()
        ));
        return view;
    }
    match Profiles::load(path) {
        Ok(p) if p.profiles.is_empty() => {
            view.problem = Some(format!(
                "the config file {} has no profiles",
                path.display()
            ));
        }
        Ok(p) => {
            view.entries = p
                .profiles
                .iter()
                .map(|(name, profile)| profile_entry(name, profile))
                .collect();
        }
        Err(e) => view.problem = Some(format!("the config file is not valid: {e}")),
    }
    view
}

/// Runs sign-in `target`: the start-up one, or a profile (its Graph root: its `graph_root`, else
/// its cloud's). The first token is fetched before this returns.
async fn sign_in(
    setup: &SignInSetup,
    target: &SignInTarget,
    resource: Option<&ResourceSpec>,
    prompt: PromptFn,
    cancel: CancellationToken,
) -> Result<SignedIn, String> {
    let (args, root) = match (target, &setup.startup) {
        (
            SignInTarget::Startup,
            Startup::Ready {
                root,
                tokens,
                who,
                title,
            },
        ) => {
            return Ok(SignedIn {
                root: root.clone(),
                tokens: tokens.clone(),
                who: who.clone(),
                title: title.clone(),
            });
        }
        (SignInTarget::Startup, Startup::SignIn { root }) => (setup.args.clone(), root.clone()),
        (SignInTarget::Profile(name), _) => {
            // The profile alone decides (its own cloud and root); only the config file is the
            // command line's.
            let args = AuthArgs {
                profile: Some(name.clone()),
                config: setup.args.config.clone(),
                ..Default::default()
            };
            let root = args
                .implied_graph_root()
                .map_err(|e| e.to_string())?
                .unwrap_or_else(|| Cloud::default().graph_root().to_owned());
            let root = GraphRoot::parse(&root).map_err(|e| e.to_string())?;
            (args, root)
        }
    };
    let (tokens, plan) = args
        .sign_in(root.as_str(), resource, prompt, cancel)
        .await
        .map_err(|e| e.to_string())?;
    let who = plan.describe();
    Ok(SignedIn {
        title: signed_in_title(&root, &who),
        root,
        tokens,
        who,
    })
}

/// A device code as the overlay shows it; the expiry becomes a point on the monotonic clock
/// (the countdown must not jump with the wall clock).
fn device_code_view(p: &DevicePrompt) -> DeviceCodeView {
    let left = (p.expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    DeviceCodeView {
        code: p.user_code.clone(),
        url: p.verification_uri.clone(),
        message: p.message.clone(),
        expires_at: Instant::now() + left,
    }
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

    /// A bridge that signs in as `setup` says: at once when the start-up sign-in is
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
            seen: HashSet::new(),
            seen_round: 0,
            resource: None,
        };
        Ok(Self {
            catalog,
            config,
            limits: RoundLimits::default(),
            setup: Arc::new(setup),
            shared: Arc::new(Mutex::new(shared)),
            runtime,
        })
    }

    /// Sets what stops a round going nowhere (`--max-idle-pages`).
    pub fn with_limits(mut self, limits: RoundLimits) -> Self {
        self.limits = limits;
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
    fn with_token(
        &self,
        tx: &UnboundedSender<Msg>,
        what: CopyWhat,
        make: impl FnOnce(&str) -> String + Send + 'static,
    ) {
        let Some(tokens) = self.tokens() else {
            let _ = tx.send(Msg::Status(format!("nothing copied: {NOT_SIGNED_IN}")));
            return;
        };
        let tx = tx.clone();
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
        let Some(tokens) = self.tokens() else {
            let _ = tx.send(Msg::TokenInspected(TokenView {
                unavailable: Some(format!("no token to inspect: {NOT_SIGNED_IN}")),
                ..Default::default()
            }));
            return;
        };
        let tx = tx.clone();
        let (catalog, root) = (self.catalog, self.root());
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

    /// The token source in force, if a sign-in succeeded.
    fn tokens(&self) -> Option<Arc<dyn TokenSource>> {
        lock(&self.shared)
            .connection
            .as_ref()
            .map(|c| c.tokens.clone())
    }

    /// Starts sign-in `attempt` in the background (a running one is cancelled).
    fn start_sign_in(
        &self,
        attempt: u64,
        target: SignInTarget,
        resource: Option<String>,
        tx: &UnboundedSender<Msg>,
    ) {
        let cancel = CancellationToken::new();
        {
            let mut s = lock(&self.shared);
            if let Some((_, old)) = s.signing.replace((attempt, cancel.clone())) {
                old.cancel();
            }
        }
        let prompted = Arc::new(AtomicBool::new(false));
        let prompt: PromptFn = {
            let (tx, prompted) = (tx.clone(), prompted.clone());
            Arc::new(move |p: &DevicePrompt| {
                prompted.store(true, Ordering::SeqCst);
                let _ = tx.send(Msg::DeviceCode {
                    attempt,
                    prompt: device_code_view(p),
                });
            })
        };
        let (setup, shared, tx) = (self.setup.clone(), self.shared.clone(), tx.clone());
        let (catalog, config) = (self.catalog, self.config.clone());
        self.runtime.spawn(async move {
            let spec = resource.as_deref().and_then(|r| catalog.get(r));
            let result = sign_in(&setup, &target, spec, prompt, cancel.clone())
                .await
                .and_then(|mut d| {
                    // This sign-in's own prompt is answered by SignedIn; a later one (a
                    // renewal) by the wrapper.
                    prompted.store(false, Ordering::SeqCst);
                    d.tokens = Arc::new(Announced {
                        inner: d.tokens,
                        prompted,
                        attempt,
                        tx: tx.clone(),
                    });
                    let client = GraphClient::new(d.root.clone(), d.tokens.clone(), config)
                        .map_err(|e| e.to_string())?;
                    Ok((d, client))
                });
            let mut s = lock(&shared);
            // Cancelled or superseded meanwhile: the UI has moved on; nothing changes.
            if !s
                .signing
                .as_ref()
                .is_some_and(|(a, c)| *a == attempt && !c.is_cancelled())
            {
                return;
            }
            s.signing = None;
            let msg = match result {
                Ok((d, client)) => {
                    // The old identity's session ends here, under the lock the fetch tasks
                    // check: a page still on its way for it is dropped.
                    if let Some(a) = s.active.take() {
                        a.cancel.cancel();
                    }
                    s.session = None;
                    s.last_error = None;
                    s.seen.clear();
                    s.seen_round = 0;
                    s.root = d.root.clone();
                    s.connection = Some(Connection {
                        client: Arc::new(client),
                        tokens: d.tokens,
                        attempt,
                        cancel,
                    });
                    tracing::info!(attempt, "signed in: {}", d.who);
                    Msg::SignedIn {
                        attempt,
                        who: d.who,
                        title: d.title,
                        root: d.root.to_string(),
                    }
                }
                Err(error) => {
                    tracing::info!(attempt, "sign-in failed: {error}");
                    Msg::SignInFailed { attempt, error }
                }
            };
            drop(s);
            let _ = tx.send(msg);
        });
    }

    fn load_profiles(&self, tx: &UnboundedSender<Msg>) {
        let (setup, tx) = (self.setup.clone(), tx.clone());
        self.runtime.spawn(async move {
            let path = setup.args.config_path();
            let view = profiles_view(path.as_deref(), &setup.describe);
            let _ = tx.send(Msg::ProfilesLoaded(view));
        });
    }

    /// Starts run `run_id`'s fetch task; `preflight`: the run begins with the session's first
    /// request, and the token is checked before it is sent.
    fn spawn(
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

/// Why nothing can be sent yet.
const NOT_SIGNED_IN: &str = "not signed in yet: the sign-in has not completed";

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
                let root = self.root();
                let first = delta_query(&query).and_then(|q| {
                    q.first_request(self.catalog, &root)
                        .map_err(|e| format!("the query is not valid: {e}"))
                });
                match first {
                    Ok(first) => {
                        let shared = self.shared.clone();
                        let mut s = lock(&shared);
                        s.session = Some(Session::new(first).with_limits(self.limits));
                        s.last_error = None;
                        s.seen.clear();
                        s.seen_round = 0;
                        s.resource = self.catalog.get(&query.resource);
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
                s.seen.clear();
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
                    super::app::curl_command_with_token(&url, &headers, t)
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
            // Handled by the runtime itself.
            Effect::Copy { .. } | Effect::FormatJson(_) | Effect::Quit => {}
        }
    }
}

/// What a fetch task checks the token with: the token source of the sign-in in force, the
/// session's resource and the Graph root.
struct TokenChecker {
    tokens: Arc<dyn TokenSource>,
    resource: Option<&'static ResourceSpec>,
    root: GraphRoot,
}

impl TokenChecker {
    /// The check of `token` (dropped here, right after decoding); `None`: not a JWT.
    fn check(&self, token: AccessToken) -> Option<Check> {
        let check = token_check(
            token.secret(),
            self.resource,
            &self.root,
            chrono::Utc::now(),
        );
        drop(token);
        check
    }

    /// After a 403: what the check of the token in force finds wrong (empty: nothing, not a
    /// JWT, or no token to be had).
    async fn problems(&self, cancel: &CancellationToken) -> Vec<String> {
        let token = tokio::select! {
            t = self.tokens.token() => t.ok(),
            () = cancel.cancelled() => None,
        };
        token
            .and_then(|t| self.check(t))
            .map(|c| c.problems)
            .unwrap_or_default()
    }
}

struct FetchTask {
    run_id: u64,
    cancel: CancellationToken,
    follow: Arc<AtomicBool>,
    client: Arc<GraphClient>,
    checker: TokenChecker,
    /// Check the token before the first request (the session's initial request).
    preflight: bool,
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

    /// Before the session's first request: gets the token about to be sent (off the UI thread),
    /// checks it against the resource and the Graph root and tells the UI what it found; a token
    /// that is not a JWT is not checked and nothing is said. The request goes out whatever the
    /// check says: the server has the last word (catalogs lag; a higher permission may do).
    /// `false`: the run ended here (cancelled, or no token could be had, reported as the
    /// fetch's failure, as the client would have: asking the sign-in twice could show a
    /// second device code).
    async fn preflight(&self) -> bool {
        let token = tokio::select! {
            t = self.checker.tokens.token() => t,
            () = self.cancel.cancelled() => return false,
        };
        match token {
            Ok(token) => {
                if let Some(check) = self.checker.check(token) {
                    if !check.ok() {
                        tracing::info!(
                            run_id = self.run_id,
                            problems = check.problems.len(),
                            "the token check before the first request found problems; sending it anyway"
                        );
                    }
                    let _ = self.tx.send(Msg::TokenChecked {
                        run_id: self.run_id,
                        check: TokenCheckView {
                            resource: self.checker.resource.map(|r| r.name.clone()),
                            problems: check.problems,
                        },
                    });
                }
                true
            }
            Err(e) => {
                let e = GraphError::Auth(e.to_string());
                let mut s = lock(&self.shared);
                if self.is_active(&s) {
                    tracing::info!(run_id = self.run_id, "fetch failed: no token");
                    let error = error_view(&e);
                    s.last_error = Some(e);
                    s.active = None;
                    let _ = self.tx.send(Msg::FetchFailed {
                        run_id: self.run_id,
                        error,
                    });
                }
                false
            }
        }
    }

    async fn run(self) {
        if self.preflight && !self.preflight().await {
            return;
        }
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
            // A 403 is checked again (with the token in force): the error names what is missing.
            let token_problems = match &result {
                Err(e) if e.status() == Some(403) => self.checker.problems(&self.cancel).await,
                _ => Vec::new(),
            };
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
                    if let Some(stop) = &report.stop {
                        s.active = None;
                        let _ = self.tx.send(Msg::RoundStopped {
                            run_id: self.run_id,
                            round,
                            summary_line: summary.as_ref().map(summary_line),
                            error: stop_view(stop),
                        });
                        return;
                    }
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
                    let mut error = error_view(&e);
                    error.token_problems = token_problems;
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
    fn a_large_groups_further_members_are_slices_not_duplicates() {
        let body = r#"{"value":[
            {"id":"g1","displayName":"Big","members@delta":[{"id":"u1"},{"id":"u2"}]},
            {"id":"g1","members@delta":[{"id":"u3"},{"id":"u4","@removed":{"reason":"deleted"}}]},
            {"id":"g1","displayName":"Big","members@delta":[{"id":"u1"}]},
            {"id":"g2","displayName":"Small"}
        ],"@odata.deltaLink":"https://g/v1.0/groups/delta?$deltatoken=d"}"#;
        let page = Page::parse(
            PageRequest {
                url: "https://g/v1.0/groups/delta".into(),
                headers: vec![],
                kind: RequestKind::Initial,
            },
            body.as_bytes().to_vec(),
        )
        .unwrap();
        let view = page_view(&page, 1, false, &mut HashSet::new());
        let flags: Vec<(bool, bool)> = view.rows.iter().map(|r| (r.slice, r.duplicate)).collect();
        // The second g1 only carries links: a slice; the third restates the group: a duplicate.
        assert_eq!(
            flags,
            [(false, false), (true, false), (false, true), (false, false)]
        );
        assert_eq!(view.rows[0].cell("members"), Some("+2 links"));
        assert_eq!(view.rows[1].cell("members"), Some("+1 -1 links"));
        assert_eq!(view.rows[3].cell("members"), None);
    }

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
            longest_wait: None,
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
