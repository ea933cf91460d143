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

mod ahead;
mod failure;
mod output;
mod record;
mod state;
use ahead::*;
use failure::*;
use output::*;
use state::*;

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
    /// The delta resource, as Graph names the collection (any case): contacts, users, groups,
    /// applications, servicePrincipals, devices, directoryRoles, administrativeUnits,
    /// oauth2PermissionGrants, directoryObjects, messages, mailFolders, events,
    /// personalContacts, driveItems, recordings, transcripts, todoTasks.
    #[arg(long, short = 'r', default_value = "contacts")]
    pub resource: String,
    /// A delta path of your own under the API version, instead of --resource:
    /// "/me/mailFolders('Inbox')/messages/delta?$select=subject". Walked by the generic rules.
    #[arg(long, conflicts_with = "resource")]
    pub path: Option<String>,
    /// A parameter of the resource's path, NAME=VALUE (mailFolderId=inbox, driveId=…,
    /// startDateTime=…). Repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
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
    /// Page size ($top), where the resource honours it (recordings, transcripts, driveItems).
    #[arg(long)]
    pub top: Option<u32>,
    /// Page size by `Prefer: odata.maxpagesize=N` (directory and Outlook resources, To Do).
    #[arg(long, value_name = "N")]
    pub max_page_size: Option<u32>,
    /// directoryObjects: the types to track ($filter=isof('microsoft.graph.T')), e.g. user,
    /// group. Repeatable.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Sync from now: `$deltatoken=latest` (directory), `token=latest` (driveItems): no
    /// objects, just a deltaLink.
    #[arg(long)]
    pub latest: bool,
    /// recordings/transcripts: the user whose onlineMeetings are read (defaults to --organizer).
    #[arg(long)]
    pub user: Option<String>,
    /// recordings/transcripts: meetingOrganizerUserId (required by Graph).
    #[arg(long)]
    pub organizer: Option<String>,
    /// recordings/transcripts/events: startDateTime, ISO-8601 UTC (e.g. 2024-01-01T00:00:00Z).
    #[arg(long)]
    pub start: Option<String>,
    /// events (calendarView): endDateTime, ISO-8601 UTC.
    #[arg(long)]
    pub end: Option<String>,
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
    /// Record every page, round and failed request into the session store, so that the
    /// explorer can open the session afterwards (`deltascope --resume`). A run from a --state
    /// file continues the stored session that file's link belongs to.
    #[arg(long)]
    pub record: bool,
    /// The session store for --record (default: sessions.sqlite in the data directory,
    /// $XDG_DATA_HOME/deltascope on Linux).
    #[arg(long = "store", env = "DELTASCOPE_STORE", value_name = "FILE")]
    pub store: Option<PathBuf>,
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

async fn run_inner(args: SyncArgs) -> Result<u8, Failure> {
    let catalog = Catalog::builtin();
    let query = build_query(&args);
    let validation = query.validate(catalog);
    // The catalog resource the query reads (for sign-in scopes and the token's permissions):
    // the named one, or the one a path of one's own spells.
    let spec = match &query.path {
        Some(_) => query.custom_resource(catalog),
        None => catalog.get(&args.resource),
    };
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

    // `--ca-cert` (or the profile's, or DELTASCOPE_CA_CERT): read and checked before anything
    // starts; a bad file is a bad command line.
    let ca_certs = args
        .auth
        .ca_certs(&crate::auth::select::process_env)
        .map_err(|e| match e {
            AuthError::Missing(m) => fail(exit::USAGE, m),
            other => fail(exit::USAGE, other.to_string()),
        })?;

    // Without a Graph root, run against an embedded emulator for the length of this run.
    let mut embedded = None;
    let target = crate::target::choose(args.graph_root.as_deref(), &args.auth)
        .map_err(|e| fail(exit::VALIDATION, e))?;
    let (root, tokens): (GraphRoot, Arc<dyn TokenSource>) = match target {
        Target::Graph(root) => {
            let (tokens, plan) =
                args.auth
                    .sign_in_on_terminal(root.as_str(), spec)
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
    let preflight = token_problems(tokens.as_ref(), spec, &root).await;
    for p in &preflight {
        crate::safe_eprintln!("warning: the token: {p}");
    }

    let recorder = record::start_recording(
        &args,
        &root,
        embedded.is_some(),
        &query,
        &first,
        saved.as_ref(),
        tokens.as_ref(),
    )
    .await?;

    let client = Arc::new(
        GraphClient::new(
            root.clone(),
            tokens,
            args.limits.client_config(ClientConfig {
                ca_certs,
                ..ClientConfig::default()
            }),
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
    // A recording that stopped is said once.
    let mut store_warned = false;
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
            let waited_from = Instant::now();
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
                    let rec = recorder.clone();
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
                                let (bytes, items) =
                                    (page.body.len() as u64, page.items.len() as u64);
                                if let (Some(rec), Some(round)) = (&rec, session.rounds().last()) {
                                    rec.page(page, &report, round);
                                }
                                (report, bytes, items)
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
                    record::record_failure(
                        recorder.as_ref(),
                        &session,
                        &request,
                        &e,
                        waited_from.elapsed(),
                    );
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
        // The round is in the store before its deltaLink is saved to the state file.
        if let Some(rec) = &recorder
            && let Err(e) = rec.flush()
            && !store_warned
        {
            store_warned = true;
            crate::safe_eprintln!("warning: session store: {e}");
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
    if let Some(rec) = recorder {
        // Said once per round already; a failure in the last, unfinished round is said here.
        if let Err(e) = rec.flush()
            && !store_warned
        {
            crate::safe_eprintln!("warning: session store: {e}");
        }
        drop(rec);
    }

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
    if let Some(end) = &args.end {
        params.insert("endDateTime".to_owned(), end.clone());
    }
    params.extend(args.params.iter().cloned());
    DeltaQuery {
        resource: args.resource.clone(),
        path: args.path.clone(),
        max_page_size: args.max_page_size,
        types: args.types.clone(),
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

/// `NAME=VALUE` of `--param`.
fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
        _ => Err(format!("{s:?} is not NAME=VALUE (e.g. mailFolderId=inbox)")),
    }
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
