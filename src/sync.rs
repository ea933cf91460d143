//! `deltascope sync`: delta rounds without a terminal UI, for scripts and for checking the
//! engine from the outside.
//!
//! stdout carries one JSON object per line, each item exactly as received (`@removed` kept);
//! stderr carries progress and one summary per round. The deltaLink (or, when interrupted
//! mid-round, the nextLink to continue from) is saved to `--state` atomically with mode 0600.
use std::collections::BTreeMap;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthError, SignInFailure, StaticToken, TokenSource};
use crate::graph::catalog::Catalog;
use crate::graph::client::{ClientConfig, FetchProgress, GraphClient, Unparsed};
use crate::graph::error::GraphError;
use crate::graph::guard::Stop;
use crate::graph::page::{Page, PageRequest, ParsedBody, RequestKind, is_query_header};
use crate::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use crate::graph::round::{PageReport, RoundSummary, Session};
use crate::target::Target;

/// Process exit codes of `deltascope sync` (documented in the README).
pub mod exit {
    pub const OK: u8 = 0;
    /// Bad command line (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// The query failed validation before anything was sent, or the state file doesn't fit it.
    pub const VALIDATION: u8 = 3;
    /// Graph answered with an error (HTTP status, Graph error code) or a malformed page.
    pub const GRAPH: u8 = 4;
    /// Network, timeout, a refused foreign link, local I/O.
    pub const TRANSPORT: u8 = 5;
    /// An internal error (a bug) stopped the run; the state keeps its place (sysexits'
    /// EX_SOFTWARE).
    pub const INTERNAL: u8 = 70;
    /// Interrupted by Ctrl-C / SIGTERM; state saved so the next run continues.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(clap::Args, Debug, Clone)]
pub struct SyncArgs {
    /// The delta resource (from the catalog): contacts, recordings, transcripts, users, groups.
    #[arg(long, short = 'r', default_value = "contacts")]
    pub resource: String,
    /// Graph API version.
    #[arg(long, default_value = "v1.0")]
    pub api: ApiVersion,
    /// Properties to track ($select), comma separated.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Track only these object ids ($filter=id eq '…' or …; at most 50). Repeatable.
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    /// Send `Prefer: return=minimal`: later rounds carry only the changed properties.
    #[arg(long)]
    pub minimal: bool,
    /// Page size ($top), where the resource honours it (recordings, transcripts).
    #[arg(long)]
    pub top: Option<u32>,
    /// Sync from now: `$deltatoken=latest` (directory resources): no objects, just a deltaLink.
    #[arg(long)]
    pub latest: bool,
    /// recordings/transcripts: the user whose onlineMeetings are read (defaults to --organizer).
    #[arg(long)]
    pub user: Option<String>,
    /// recordings/transcripts: meetingOrganizerUserId (required by Graph).
    #[arg(long)]
    pub organizer: Option<String>,
    /// recordings/transcripts: startDateTime, ISO-8601 UTC (e.g. 2024-01-01T00:00:00Z).
    #[arg(long)]
    pub start: Option<String>,
    /// Graph root (origin), e.g. https://graph.microsoft.com. Without it, an embedded emulator
    /// with a demo tenant is started for this run.
    #[arg(long, env = "DELTASCOPE_GRAPH_ROOT")]
    pub graph_root: Option<String>,
    /// Sign-in: --cloud, --profile, --token-env VAR (default DELTASCOPE_TOKEN when set), a client
    /// secret or certificate (AZURE_* variables), --device-code, --azure-cli, ...
    #[command(flatten)]
    pub auth: crate::auth::AuthArgs,
    /// State file: continue from the deltaLink saved there, save the new one after each round.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// How many rounds to run in this invocation.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Seconds to wait between rounds (so that changes can happen); 0 to 30 days.
    #[arg(long, default_value_t = 0.0, value_parser = parse_interval)]
    pub interval: f64,
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
    /// Don't write items to stdout (summaries still go to stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// On 410 Gone or `syncStateNotFound`, stop with exit code 4 instead of starting a full
    /// resync (from the 410's Location, else from the query).
    #[arg(long)]
    pub no_resync: bool,
    /// Print one JSON line of run statistics to stderr at the end (objects, bytes, seconds,
    /// peak resident memory). Used by the benchmarks.
    #[arg(long)]
    pub stats: bool,
    /// Embedded emulator only: number of demo contacts (0-10000000).
    #[arg(long, default_value_t = 250, value_parser = crate::emulator::demo_contacts)]
    pub demo_contacts: usize,
    /// Embedded emulator only: seed of the demo tenant.
    #[arg(long, default_value_t = 42)]
    pub demo_seed: u64,
}

/// The longest `--interval`: 30 days.
const MAX_INTERVAL_SECS: f64 = 30.0 * 86_400.0;

/// `--interval`: a number of seconds from 0 to 30 days (not NaN, not infinite).
fn parse_interval(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=MAX_INTERVAL_SECS).contains(&secs) {
        return Err(format!(
            "{text} is not an interval: give seconds from 0 to {MAX_INTERVAL_SECS:.0} (30 days)"
        ));
    }
    Ok(secs)
}

/// What `--state` holds. Never a bearer token: only links (state tokens are not credentials
/// for anything but the same query) and the query that produced them, for checks.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SavedState {
    pub version: u32,
    pub graph_root: String,
    pub resource: String,
    pub api: String,
    /// The round headers (`Prefer`), which must be sent again with the saved link.
    pub headers: Vec<(String, String)>,
    /// Where the next run starts: the deltaLink, or the nextLink of an interrupted round.
    pub link: String,
    /// True when `link` is a nextLink of a round that was interrupted.
    pub mid_round: bool,
    /// True when `link` is the query's first request: the next run starts a full round (after
    /// a round stopped on a link that could not be followed). Absent in older files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_round: bool,
    /// The query's first request (URL), which the saved link continues: a later run with
    /// other options (`--select`, `--minimal`, `--id`, …) would get the old query's changes.
    /// Absent in older files (not checked then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub rounds_completed: u64,
    pub saved_at: String,
}

/// Runs `deltascope sync` and returns its exit code. Meant to be the last thing a process does
/// (the replica is not freed).
pub async fn run(args: SyncArgs) -> u8 {
    match run_inner(args).await {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            crate::safe_eprintln!("deltascope sync: {message}");
            code
        }
    }
}

struct Failure {
    code: u8,
    message: String,
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// Pages fetched and not yet consumed by the sync loop, at most.
const FETCH_AHEAD: usize = 3;

/// What a chain of fetches shares: the client, its own cancellation (a child of the run's), and
/// the permits that bound how far it runs ahead of the loop.
struct ChainCtx {
    client: Arc<GraphClient>,
    cancel: CancellationToken,
    permits: Arc<tokio::sync::Semaphore>,
}

impl ChainCtx {
    fn new(client: &Arc<GraphClient>, run: &CancellationToken) -> Arc<ChainCtx> {
        Arc::new(ChainCtx {
            client: client.clone(),
            cancel: run.child_token(),
            permits: Arc::new(tokio::sync::Semaphore::new(FETCH_AHEAD)),
        })
    }
}

/// A fetched page, read where it arrived (its links and items found, the body not copied yet).
type Fetched = (
    Result<(Unparsed, ParsedBody), GraphError>,
    Option<tokio::sync::OwnedSemaphorePermit>,
);

/// What became of a fetched page on the blocking pool: the report of applying it, its size and
/// item count; or the stdout error that kept it from being applied.
type Processed = Result<std::io::Result<(PageReport, u64, u64)>, GraphError>;

/// A page being fetched ahead of the loop. As soon as its body has arrived it is read (checked
/// whole, its top-level links found: the page's own reading, not a guess from the bytes), and
/// its nextLink is requested, so the network does not wait for writing and applying. The loop
/// uses a fetched page only when the session asks for exactly that request, and otherwise
/// cancels the chain and fetches what the session asks for (a stopped round, say).
struct Ahead {
    req: PageRequest,
    task: tokio::task::JoinHandle<Fetched>,
    next: Arc<std::sync::Mutex<Option<Ahead>>>,
}

fn launch(ctx: &Arc<ChainCtx>, req: PageRequest) -> Ahead {
    let next = Arc::new(std::sync::Mutex::new(None));
    let (ctx, slot, r) = (ctx.clone(), next.clone(), req.clone());
    let task = tokio::spawn(async move {
        let permit = ctx.permits.clone().acquire_owned().await.ok();
        #[allow(clippy::result_large_err)] // GraphError, large as everywhere in the engine
        let result = ctx
            .client
            .fetch_unparsed(&r, &ctx.cancel, &throttle_notice)
            .await
            .and_then(|unparsed| {
                let parsed = unparsed.read()?;
                Ok((unparsed, parsed))
            });
        if let Ok((_, parsed)) = &result
            && let Some(url) = &parsed.next_link
            && !ctx.cancel.is_cancelled()
        {
            let following = PageRequest {
                url: url.clone(),
                headers: r.headers.clone(),
                kind: RequestKind::Next,
            };
            if let Ok(mut s) = slot.lock() {
                *s = Some(launch(&ctx, following));
            }
        }
        (result, permit)
    });
    Ahead { req, task, next }
}

/// What to say when applying a page panicked (a bug).
fn internal_error(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!(
        "an internal error stopped the sync while it applied a page ({what}); this is a bug, please report it. Nothing was lost: the state file (if any) continues from that page"
    )
}

/// Full resyncs one run starts on 410 / `syncStateNotFound` before it gives up.
const MAX_RESYNCS: u32 = 2;
/// Retries of the same link after a network error, a timeout or a malformed body.
const MAX_TRANSIENT_RETRIES: u32 = 3;

/// Errors after which the same link may well work a moment later.
fn is_transient(e: &GraphError) -> bool {
    match e {
        GraphError::Malformed { .. } | GraphError::Network(_) | GraphError::Timeout { .. } => true,
        GraphError::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504),
        _ => false,
    }
}

fn throttle_notice(p: FetchProgress) {
    if let FetchProgress::Throttled {
        status,
        retry_after,
        attempt,
    } = p
    {
        crate::safe_eprintln!(
            "throttled ({status}); retrying in {:.1}s (attempt {attempt})",
            retry_after.as_secs_f64()
        );
    }
}

/// `token_problems`: what the token's claims lack for this request (said again after a 403).
fn graph_failure(e: &GraphError, token_problems: &[String]) -> Failure {
    let code = match e {
        GraphError::Cancelled => exit::INTERRUPTED,
        GraphError::Http { .. } | GraphError::Malformed { .. } => exit::GRAPH,
        _ => exit::TRANSPORT,
    };
    let mut message = e.to_string();
    if let Some(hint) = e.hint() {
        message.push_str("\n  what to do: ");
        message.push_str(&hint);
    }
    if matches!(
        e,
        GraphError::Http {
            status: 401 | 403,
            ..
        }
    ) {
        for p in token_problems {
            message.push_str("\n  the token: ");
            message.push_str(p);
        }
    }
    fail(code, message)
}

/// What the token's claims lack for a request for `resource` at `root` (the token inspector's
/// check), said before anything is sent. A token that is not a JWT (opaque) says nothing.
async fn token_problems(
    tokens: &dyn TokenSource,
    resource: Option<&crate::graph::ResourceSpec>,
    root: &GraphRoot,
) -> Vec<String> {
    let Ok(token) = tokens.token().await else {
        return Vec::new();
    };
    match crate::auth::TokenInfo::decode(token.secret()) {
        Ok(info) => {
            info.check(resource, Some(root.as_str()), chrono::Utc::now())
                .problems
        }
        Err(_) => Vec::new(),
    }
}

async fn run_inner(args: SyncArgs) -> Result<u8, Failure> {
    let catalog = Catalog::builtin();
    let query = build_query(&args);
    let validation = query.validate(catalog);
    for w in &validation.warnings {
        crate::safe_eprintln!("warning: {}: {}", w.field, w.message);
    }
    if !validation.errors.is_empty() {
        let list: Vec<String> = validation
            .errors
            .iter()
            .map(|p| format!("  {}: {}", p.field, p.message))
            .collect();
        return Err(fail(
            exit::VALIDATION,
            format!("the query is not valid:\n{}", list.join("\n")),
        ));
    }

    // Without a Graph root, run against an embedded emulator for the length of this run.
    let mut embedded = None;
    let target = crate::target::choose(args.graph_root.as_deref(), &args.auth)
        .map_err(|e| fail(exit::VALIDATION, e))?;
    let (root, tokens): (GraphRoot, Arc<dyn TokenSource>) = match target {
        Target::Graph(root) => {
            let (tokens, plan) =
                args.auth
                    .sign_in_on_terminal(root.as_str(), catalog.get(&args.resource))
                    .await
                    .map_err(|f| {
                        let code = match &f {
                            SignInFailure::Setup(_)
                            | SignInFailure::SignIn(AuthError::Missing(_)) => exit::VALIDATION,
                            SignInFailure::SignIn(_) => exit::GRAPH,
                        };
                        fail(code, f.to_string())
                    })?;
            crate::safe_eprintln!("signed in: {}", plan.describe());
            (root, tokens)
        }
        Target::Embedded => {
            let config = crate::emulator::EmulatorConfig {
                seed: args.demo_seed,
                contacts: args.demo_contacts,
                ..Default::default()
            };
            let emu = crate::emulator::start(config, ([127, 0, 0, 1], 0).into())
                .await
                .map_err(|e| {
                    fail(
                        exit::TRANSPORT,
                        format!("cannot start the embedded emulator: {e}"),
                    )
                })?;
            crate::safe_eprintln!(
                "using the embedded emulator (demo tenant) at {}",
                emu.base_url()
            );
            let root = GraphRoot::parse(&emu.base_url())
                .map_err(|e| fail(exit::TRANSPORT, e.to_string()))?;
            embedded = Some(emu);
            let tokens: Arc<dyn TokenSource> =
                Arc::new(StaticToken::new(crate::target::demo_token()));
            (root, tokens)
        }
    };

    let first = query
        .first_request(catalog, &root)
        .map_err(|v| fail(exit::VALIDATION, format!("the query is not valid: {v}")))?;

    let saved = match &args.state {
        Some(path) => load_state(path).map_err(|e| fail(exit::VALIDATION, format!("{e:#}")))?,
        None => None,
    };
    let mut rounds_completed = 0;
    let mut session = match &saved {
        Some(state) => {
            check_state_fits(state, &root, &query, &first)?;
            rounds_completed = state.rounds_completed;
            crate::safe_eprintln!(
                "continuing from {} saved {} in {}",
                if state.full_round {
                    "a full round (the query's first request)"
                } else if state.mid_round {
                    "the nextLink"
                } else {
                    "the deltaLink"
                },
                state.saved_at,
                args.state
                    .as_deref()
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            );
            let kind = if state.full_round {
                RequestKind::Initial
            } else if state.mid_round {
                RequestKind::Next
            } else {
                RequestKind::Delta
            };
            Session::resume_as(state.link.clone(), state.headers.clone(), kind)
        }
        None => Session::new(first.clone()),
    }
    .with_limits(args.limits.round_limits());

    // The token inspector's check, before the first request: the server has the last word (a
    // catalog can lag, a higher permission may do), so problems are warnings, said again with
    // a 401/403.
    let preflight = token_problems(tokens.as_ref(), catalog.get(&args.resource), &root).await;
    for p in &preflight {
        crate::safe_eprintln!("warning: the token: {p}");
    }

    let client = Arc::new(
        GraphClient::new(
            root.clone(),
            tokens,
            args.limits.client_config(ClientConfig::default()),
        )
        .map_err(|e| fail(exit::TRANSPORT, e.to_string()))?,
    );

    let cancel = CancellationToken::new();
    {
        let (cancel, stop) = (cancel.clone(), crate::signals::interrupted());
        tokio::spawn(async move {
            stop.await;
            cancel.cancel();
        });
    }

    let rounds_before_run = rounds_completed;
    let started = Instant::now();
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    let mut totals = Totals::default();
    let mut outcome = Ok(exit::OK);
    let mut done_rounds = 0;
    let (mut resyncs, mut transient_retries) = (0u32, 0u32);
    let mut chain = ChainCtx::new(&client, &cancel);
    let mut ahead: Option<Ahead> = None;
    // Set when saving the state itself failed: it is said once, not tried and said again.
    let mut state_unsaved = false;
    'rounds: while done_rounds < args.rounds {
        if done_rounds > 0 && args.interval > 0.0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs_f64(args.interval)) => {}
                _ = cancel.cancelled() => { outcome = Ok(exit::INTERRUPTED); break 'rounds; }
            }
        }
        // One round: pages until a deltaLink, fetched ahead (see [`Ahead`]).
        loop {
            if cancel.is_cancelled() {
                outcome = Ok(exit::INTERRUPTED);
                break 'rounds;
            }
            let Some(request) = session.next_request() else {
                break 'rounds;
            };
            let current = match ahead.take() {
                Some(a) if a.req == request => a,
                stale => {
                    if stale.is_some() {
                        // The guess was wrong (or the session moved on): drop that chain.
                        chain.cancel.cancel();
                        chain = ChainCtx::new(&client, &cancel);
                    }
                    launch(&chain, request.clone())
                }
            };
            let (fetched, permit) = match current.task.await {
                Ok(done) => done,
                Err(e) => (
                    Err(GraphError::Network(format!("the page fetch failed: {e}"))),
                    None,
                ),
            };
            // The fetch has finished, so its early look at the body is done: a successor, if
            // it found a nextLink, is in the slot.
            ahead = current.next.lock().ok().and_then(|mut slot| slot.take());
            // Parsing, writing and applying the page happen on the blocking pool, in one
            // hand-off, so this thread is free for the network meanwhile (the next page is
            // already being fetched).
            let processed: Processed = match fetched {
                Ok((unparsed, parsed)) => {
                    let quiet = args.quiet;
                    let (back, processed) = match tokio::task::spawn_blocking(move || {
                        // A panic here (a bug) must not take the session with it: the state
                        // file is still saved, at the page that was being applied.
                        // (The error is a GraphError, large, as everywhere in the engine.)
                        #[allow(clippy::result_large_err)]
                        let processed = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            let page = unparsed.into_page(parsed);
                            // A page whose items did not all go out is not applied: the saved
                            // state then continues from it, and the next run writes them again.
                            Ok(write_page(&mut stdout, &page, quiet).map(|()| {
                                let report = session.apply(&page);
                                (report, page.body.len() as u64, page.items.len() as u64)
                            }))
                        }));
                        ((session, stdout), processed)
                    })
                    .await
                    {
                        Ok(done) => done,
                        Err(e) => {
                            // The task could not run (the runtime is shutting down): the
                            // session went with it.
                            return Err(fail(
                                exit::INTERNAL,
                                format!("applying a page failed: {e}"),
                            ));
                        }
                    };
                    (session, stdout) = back;
                    match processed {
                        Ok(processed) => processed,
                        Err(panic) => {
                            outcome = Err(fail(exit::INTERNAL, internal_error(&*panic)));
                            break 'rounds;
                        }
                    }
                }
                Err(e) => Err(e),
            };
            drop(permit);
            let report = match processed {
                Ok(Ok((report, bytes, items))) => {
                    transient_retries = 0;
                    totals.bytes += bytes;
                    totals.pages += 1;
                    totals.items += items;
                    report
                }
                Ok(Err(e)) => {
                    outcome = Err(fail(
                        exit::TRANSPORT,
                        format!("cannot write to stdout: {e}"),
                    ));
                    break 'rounds;
                }
                Err(e) => {
                    // Whatever was fetched ahead of a failed page is not needed.
                    ahead = None;
                    chain.cancel.cancel();
                    chain = ChainCtx::new(&client, &cancel);
                    // The server reset the sync state: a full resync, as Graph asks.
                    if e.needs_resync() && !args.no_resync && resyncs < MAX_RESYNCS {
                        resyncs += 1;
                        let from = match &e {
                            GraphError::Http {
                                location: Some(location),
                                ..
                            } => location.clone(),
                            _ => first.url.clone(),
                        };
                        crate::safe_eprintln!("warning: {e}");
                        crate::safe_eprintln!(
                            "starting a full resync; the next round rebuilds the replica"
                        );
                        session.restart_from(from);
                        continue;
                    }
                    // A cut connection, a timeout, a body that is not a page: the same link
                    // again, a few times, a little later. Nothing has been applied from it.
                    if is_transient(&e) && transient_retries < MAX_TRANSIENT_RETRIES {
                        transient_retries += 1;
                        let wait = Duration::from_secs(1 << (transient_retries - 1));
                        crate::safe_eprintln!(
                            "warning: {e}\n  retrying the same link in {}s (attempt {} of {})",
                            wait.as_secs(),
                            transient_retries + 1,
                            MAX_TRANSIENT_RETRIES + 1
                        );
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = cancel.cancelled() => { outcome = Ok(exit::INTERRUPTED); break 'rounds; }
                        }
                        continue;
                    }
                    outcome = Err(graph_failure(&e, &preflight));
                    break 'rounds;
                }
            };
            for w in &report.warnings {
                crate::safe_eprintln!("warning: {w}");
            }
            if let Some(stop) = &report.stop {
                if let Some(summary) = session.rounds().last() {
                    // Why, is the run's last word (below): said once.
                    let line = number_round(summary, &summary.counts(), rounds_before_run);
                    crate::safe_eprintln!("{line} (stopped)");
                }
                outcome = Err(stopped(stop, &mut session, &first, args.state.is_some()));
                break 'rounds;
            }
            if report.round_complete {
                break;
            }
        }
        // Nothing is fetched ahead across rounds (the next round starts from the deltaLink): a
        // guess made from the last page is stopped, with anything it started.
        if ahead.take().is_some() {
            chain.cancel.cancel();
            chain = ChainCtx::new(&client, &cancel);
        }
        if let Err(e) = stdout.flush() {
            outcome = Err(fail(
                exit::TRANSPORT,
                format!("cannot write to stdout: {e}"),
            ));
            break;
        }
        done_rounds += 1;
        rounds_completed += 1;
        if let Some(summary) = session.rounds().last() {
            crate::safe_eprintln!("{}", describe_round(summary, rounds_before_run));
        }
        if let Some(path) = &args.state
            && let Err(e) = save_session(path, &session, &root, &query, &first, rounds_completed)
        {
            outcome = Err(fail(exit::TRANSPORT, format!("{e:#}")));
            state_unsaved = true;
            break;
        }
    }
    chain.cancel.cancel();
    drop(ahead);
    let _ = stdout.flush();
    drop(stdout);

    // An interrupted or failed round keeps its place: save the link it would continue from.
    if outcome.as_ref().map_or(true, |c| *c != exit::OK)
        && !state_unsaved
        && let Some(path) = &args.state
        && let Err(e) = save_session(path, &session, &root, &query, &first, rounds_completed)
    {
        crate::safe_eprintln!("deltascope sync: {e:#}");
    }

    if args.stats {
        let secs = started.elapsed().as_secs_f64();
        let stats = serde_json::json!({
            "objects": totals.items,
            "pages": totals.pages,
            "bytes": totals.bytes,
            "seconds": secs,
            "objects_per_second": if secs > 0.0 { totals.items as f64 / secs } else { 0.0 },
            "replica_objects": session.replica().len(),
            "peak_rss_bytes": peak_rss_bytes(),
        });
        crate::safe_eprintln!("stats: {stats}");
    }
    if let Some(emu) = embedded {
        emu.shutdown().await;
    }
    // `run` is the last thing the process does: handing a replica of 100,000 objects back to
    // the allocator one by one would only delay the exit.
    std::mem::forget(session);
    outcome
}

#[derive(Default)]
struct Totals {
    items: u64,
    pages: u64,
    bytes: u64,
}

fn build_query(args: &SyncArgs) -> DeltaQuery {
    let mut params = BTreeMap::new();
    if let Some(org) = &args.organizer {
        params.insert("meetingOrganizerUserId".to_owned(), org.clone());
    }
    if let Some(user) = args.user.as_ref().or(args.organizer.as_ref()) {
        params.insert("userId".to_owned(), user.clone());
    }
    if let Some(start) = &args.start {
        params.insert("startDateTime".to_owned(), start.clone());
    }
    DeltaQuery {
        resource: args.resource.clone(),
        api: args.api,
        params,
        select: args
            .select
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        ids: args.ids.clone(),
        minimal: args.minimal,
        top: args.top,
        latest: args.latest,
    }
}

/// Writes a page's items (unless `quiet`) and flushes, so that items reach a pipeline page by
/// page, not at the end of the round.
fn write_page(out: &mut impl Write, page: &Page, quiet: bool) -> std::io::Result<()> {
    if !quiet {
        for item in &page.items {
            write_item(out, page.body.get(item.span.clone()).unwrap_or_default())?;
        }
    }
    out.flush()
}

/// Items go out as one compact JSON line each, as received (bytes of the page body, which was
/// checked to be UTF-8 JSON when the page was parsed). Graph sends compact bodies; a
/// pretty-printed one (some proxies do that) is compacted so that every line stays one object.
fn write_item(out: &mut impl Write, item: &[u8]) -> std::io::Result<()> {
    if memchr::memchr2(b'\n', b'\r', item).is_some() {
        match serde_json::from_slice::<serde_json::Value>(item) {
            Ok(value) => serde_json::to_writer(&mut *out, &value)?,
            Err(_) => {
                let flat: Vec<u8> = item
                    .iter()
                    .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                    .collect();
                out.write_all(&flat)?
            }
        }
    } else {
        out.write_all(item)?;
    }
    out.write_all(b"\n")
}

/// The round's summary line, numbered across runs that continue from the same state file
/// (`before`: rounds completed by earlier runs), and marked when it was a full round.
pub fn describe_round(s: &RoundSummary, before: u64) -> String {
    number_round(s, &s.to_string(), before)
}

/// `text` (a line about round `s` that starts "round N:") numbered across runs.
fn number_round(s: &RoundSummary, text: &str, before: u64) -> String {
    let own = format!("round {}:", s.number);
    let rest = text.strip_prefix(&own).unwrap_or(text);
    let kind = if s.full { " (full)" } else { "" };
    format!("round {}{kind}:{rest}", u64::from(s.number) + before)
}

/// A round that stopped before its deltaLink (see [`Stop`]) ends the run with exit code 4 (5 for
/// a refused link, as a refused foreign link always had). A
/// link loop or a run of idle pages keeps the link to continue from (the state file continues
/// there); a link that cannot be followed is never kept: the session goes back to the query's
/// first request, so that the next run starts the full resync the message recommends.
fn stopped(stop: &Stop, session: &mut Session, first: &PageRequest, has_state: bool) -> Failure {
    // A refused link keeps the exit code of a refused foreign link; the others are the
    // server's misbehaviour, as a malformed page is.
    let code = match stop {
        Stop::RefusedLink { .. } => exit::TRANSPORT,
        _ => exit::GRAPH,
    };
    let then = match stop {
        Stop::RefusedLink { .. } => {
            session.restart_from(first.url.clone());
            if has_state {
                "the state file now starts a full round (the query's first request) on the next run"
            } else {
                "run the query again for a full round"
            }
        }
        _ if has_state => {
            "the state file continues from the last page's link; run again to go on (a link loop stops again at once; --max-idle-pages sets how many idle pages are allowed)"
        }
        _ => "--max-idle-pages sets how many pages without anything new are allowed",
    };
    fail(code, format!("the round stopped: {stop}\n  {then}"))
}

fn check_state_fits(
    state: &SavedState,
    root: &GraphRoot,
    query: &DeltaQuery,
    first: &PageRequest,
) -> Result<(), Failure> {
    if state.graph_root != root.to_string() {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file was saved against {} but this run targets {}: a delta link only works \
                 where it was issued (use --graph-root {}, or another --state file)",
                state.graph_root, root, state.graph_root
            ),
        ));
    }
    if state.resource != query.resource {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file holds a {} delta link, not {}",
                state.resource, query.resource
            ),
        ));
    }
    if let Some(saved) = &state.query
        && saved != &first.url
    {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file continues another query ({saved}) than this one ({}): a delta link keeps the options it was started with, so this run would get that query's changes; give the same options, or use another --state file",
                first.url
            ),
        ));
    }
    let minimal = |h: &[(String, String)]| crate::graph::page::headers_ask_minimal(h);
    if minimal(&state.headers) != minimal(&first.headers) {
        return Err(fail(
            exit::VALIDATION,
            format!(
                "the state file's rounds were {} Prefer: return=minimal, this run is {}: give {} or use another --state file",
                if minimal(&state.headers) {
                    "fetched with"
                } else {
                    "fetched without"
                },
                if minimal(&first.headers) {
                    "with it"
                } else {
                    "without it"
                },
                if minimal(&state.headers) {
                    "--minimal"
                } else {
                    "no --minimal"
                },
            ),
        ));
    }
    Ok(())
}

fn save_session(
    path: &Path,
    session: &Session,
    root: &GraphRoot,
    query: &DeltaQuery,
    first: &PageRequest,
    rounds_completed: u64,
) -> anyhow::Result<()> {
    let Some(next) = session.next_request() else {
        return Ok(());
    };
    save_state(
        path,
        &SavedState {
            version: 1,
            graph_root: root.to_string(),
            resource: query.resource.clone(),
            api: query.api.to_string(),
            headers: next.headers.clone(),
            link: next.url.clone(),
            // From the saved link's own kind (not the session's round in progress, which a
            // page that panicked half-applied may have opened before its deltaLink was seen).
            mid_round: matches!(next.kind, RequestKind::Initial | RequestKind::Next),
            full_round: next.kind == RequestKind::Initial,
            query: Some(first.url.clone()),
            rounds_completed,
            saved_at: chrono::Utc::now().to_rfc3339(),
        },
    )
}

pub fn load_state(path: &Path) -> anyhow::Result<Option<SavedState>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the state file {}", path.display()));
        }
    };
    let state: SavedState = serde_json::from_str(&text).with_context(|| {
        format!(
            "the state file {} is not a deltascope state file",
            path.display()
        )
    })?;
    // Only the headers a query sets may go out with the token; anything else was written by
    // someone else than deltascope.
    if let Some((name, _)) = state.headers.iter().find(|(k, _)| !is_query_header(k)) {
        anyhow::bail!(
            "the state file {} holds a header {:?} that deltascope never saves (only {} go with a delta link): it was edited by hand, and the header is not sent; remove it or start a new state file",
            path.display(),
            crate::text::one_line(name),
            crate::graph::page::QUERY_HEADERS.join(" and ")
        );
    }
    Ok(Some(state))
}

/// Writes the state next to its final place and renames it over, so a crash never leaves a
/// half-written file; mode 0600 from the first byte, since a delta link reveals tenant data.
pub fn save_state(path: &Path, state: &SavedState) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(state)?;
    crate::fsutil::write_private_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot save the state file {}", path.display()))
}

/// Peak resident set size of this process (Linux: VmHWM), for `--stats`.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::internal_error;

    #[test]
    fn a_panic_while_applying_is_reported_with_its_message() {
        let fixed = std::panic::catch_unwind(|| panic!("fixed text")).unwrap_err();
        let formatted = std::panic::catch_unwind(|| panic!("item {} out of range", 7)).unwrap_err();
        let other = std::panic::catch_unwind(|| std::panic::panic_any(42u8)).unwrap_err();
        assert!(internal_error(&*fixed).contains("(fixed text)"));
        assert!(internal_error(&*formatted).contains("(item 7 out of range)"));
        let said = internal_error(&*other);
        assert!(said.contains("(no message)") && said.contains("continues from that page"));
    }
}
