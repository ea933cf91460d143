//! deltascope against a hostile Graph server (issue 11): link loops and rounds that go nowhere,
//! oversized and endless bodies, links and headers that would carry the token elsewhere,
//! redirects, absurd Retry-After values, escape sequences in every text a server controls. The
//! engine's client and rounds over loopback, `deltascope sync` as a process, and the explorer
//! through its real runtime.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deltascope::graph::client::{ClientConfig, GraphClient};
use deltascope::graph::error::GraphError;
use deltascope::graph::guard::{RoundLimits, Stop};
use deltascope::graph::page::{Page, PageRequest, RequestKind};
use deltascope::graph::query::GraphRoot;
use deltascope::graph::round::Session;
use support::engine::static_token_client;
use support::hostile::{Answer, Hostile, Req};
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_deltascope");
const TOKEN: &str = "hostile-test-bearer-token-must-not-leak";
/// How long any one `sync` run may take before the test calls it a hang.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn client(base: &str, max_body_bytes: usize) -> GraphClient {
    static_token_client(
        &GraphRoot::parse(base).unwrap(),
        TOKEN,
        ClientConfig {
            max_body_bytes,
            ..ClientConfig::default()
        },
    )
}

fn request(url: String, headers: Vec<(String, String)>) -> PageRequest {
    PageRequest {
        url,
        headers,
        kind: RequestKind::Initial,
    }
}

async fn fetch(c: &GraphClient, req: &PageRequest) -> Result<Page, GraphError> {
    c.fetch(req, &CancellationToken::new(), &|_| {}).await
}

fn contacts(base: &str) -> String {
    format!("{base}/v1.0/contacts/delta")
}

fn next_page(link: &str, items: &str) -> String {
    format!(r#"{{"@odata.context":"c","@odata.nextLink":"{link}","value":[{items}]}}"#)
}

fn last_page(link: &str, items: &str) -> String {
    format!(r#"{{"@odata.context":"c","value":[{items}],"@odata.deltaLink":"{link}"}}"#)
}

/// A server that answers every request with `answer()`, and the error the client's fetch of
/// the contacts delta ends in (with a body limit of `max_body_bytes`).
async fn refused_answer(
    answer: impl Fn() -> Answer + Send + Sync + 'static,
    max_body_bytes: usize,
) -> (Hostile, GraphError) {
    let h = Hostile::start(|_| move |_, _: &Req| answer()).await;
    let err = fetch(
        &client(&h.base, max_body_bytes),
        &request(contacts(&h.base), vec![]),
    )
    .await
    .unwrap_err();
    (h, err)
}

// ---------------------------------------------------------------- the client

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_before_it_is_read() {
    let (h, err) = refused_answer(
        || Answer::Declared {
            status: 200,
            len: 1_500_000_000,
        },
        1 << 20,
    )
    .await;
    assert!(
        matches!(
            err,
            GraphError::TooLarge {
                declared: Some(1_500_000_000),
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    let said = err.to_string();
    assert!(
        said.contains("larger than the limit of 1048576 bytes (1.0 MiB)"),
        "{said}"
    );
    assert!(said.contains("1500000000 bytes"), "{said}");
    assert!(err.hint().unwrap().contains("--max-body-mib"));
    // Not read: what the server got into the socket before the client went is the kernel's
    // buffers' worth at most, not 1.5 GB.
    assert!(h.body_bytes_sent() < 64 << 20, "{}", h.body_bytes_sent());
}

#[tokio::test]
async fn a_chunked_body_without_end_is_refused_once_past_the_limit() {
    let started = Instant::now();
    let (h, err) = refused_answer(
        || Answer::Endless {
            status: 200,
            chunk: 16 * 1024,
        },
        2 << 20,
    )
    .await;
    assert!(
        matches!(err, GraphError::TooLarge { declared: None, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("went on past that"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(h.body_bytes_sent() < 64 << 20, "{}", h.body_bytes_sent());
}

#[tokio::test]
async fn an_endless_error_body_is_read_only_as_far_as_it_is_kept() {
    let (h, err) = refused_answer(
        || Answer::Endless {
            status: 400,
            chunk: 4096,
        },
        64 << 20,
    )
    .await;
    let GraphError::Http { status, body, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*status, 400);
    assert!(
        body.len() <= 8 * 1024 + 4 && body.ends_with('…'),
        "{}",
        body.len()
    );
    assert!(h.body_bytes_sent() < 64 << 20);
}

#[tokio::test]
async fn headers_a_query_never_sets_are_never_sent_with_the_token() {
    let h = Hostile::start(|base| {
        let page = last_page(&format!("{base}/v1.0/contacts/delta?$deltatoken=d"), "");
        move |_, _: &Req| Answer::json(200, page.clone())
    })
    .await;
    let c = client(&h.base, 64 << 20);
    for (name, value) in [
        ("Host", "evil.example"),
        ("X-Forwarded-Host", "evil.example"),
        ("Proxy-Authorization", "Basic ZXZpbDpwdw=="),
        ("Authorization", "Basic ZXZpbDpwdw=="),
        ("client-request-id", "chosen-by-the-state-file"),
    ] {
        let err = fetch(
            &c,
            &request(contacts(&h.base), vec![(name.into(), value.into())]),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, GraphError::InvalidRequest(m) if m.contains(name) && m.contains("Prefer and ConsistencyLevel")),
            "{name}: {err:?}"
        );
    }
    assert!(h.requests().is_empty(), "{:?}", h.requests());
    // The headers a query does set go out (any case).
    let page = fetch(
        &c,
        &request(
            contacts(&h.base),
            vec![
                ("prefer".into(), "return=minimal".into()),
                ("ConsistencyLevel".into(), "eventual".into()),
            ],
        ),
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 0);
    let sent = &h.requests()[0];
    assert_eq!(sent.header("prefer"), Some("return=minimal"));
    assert_eq!(sent.header("consistencylevel"), Some("eventual"));
}

#[tokio::test]
async fn a_link_with_userinfo_is_refused_before_anything_is_sent() {
    let h = Hostile::start(|_| |_, _: &Req| Answer::json(200, "{}")).await;
    let c = client(&h.base, 64 << 20);
    let hostport = h.base.trim_start_matches("http://");
    for userinfo in ["evil:pw@", "evil@", ":pw@"] {
        let link = format!("http://{userinfo}{hostport}/v1.0/contacts/delta?$skiptoken=x");
        let err = fetch(&c, &request(link.clone(), vec![])).await.unwrap_err();
        assert!(
            matches!(&err, GraphError::BadLink { reason, .. } if reason.contains("user name or password")),
            "{link}: {err:?}"
        );
    }
    assert!(h.requests().is_empty());
}

#[tokio::test]
async fn a_redirect_says_where_it_pointed_and_is_not_followed() {
    let (h, err) = refused_answer(
        || Answer::json(302, "").with_header("Location", "https://evil.example/steal?x=1"),
        64 << 20,
    )
    .await;
    let said = err.to_string();
    assert!(said.starts_with("HTTP 302 Found"), "{said}");
    assert!(
        said.contains(
            "a redirect to https://evil.example/steal?x=1, which deltascope does not follow"
        ),
        "{said}"
    );
    assert!(err.hint().unwrap().contains("does not redirect"));
    assert_eq!(h.requests().len(), 1);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_client_waits_is_reported_as_the_server_asked() {
    let (h, err) = refused_answer(
        || {
            Answer::json(
                429,
                r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
            )
            .with_header("Retry-After", "999999")
        },
        64 << 20,
    )
    .await;
    let hint = err.hint().unwrap();
    assert!(hint.contains("999999 s (11.6 days)"), "{hint}");
    assert!(hint.contains("120 s deltascope waits at most"), "{hint}");
    assert!(!hint.contains("86400"), "{hint}");
    assert_eq!(h.requests().len(), 1, "no retry for a wait that long");
}

// ---------------------------------------------------------------- rounds

fn page_at(url: &str, body: &str) -> Page {
    Page::parse(
        PageRequest {
            url: url.to_owned(),
            headers: vec![],
            kind: RequestKind::Next,
        },
        body.to_owned(),
    )
    .unwrap()
}

const G: &str = "https://graph.microsoft.com/v1.0/contacts/delta";

fn session() -> Session {
    Session::new(request(G.to_owned(), vec![]))
}

#[test]
fn a_next_link_that_points_to_its_own_page_stops_the_round_and_keeps_the_link() {
    let mut s = session();
    let a = format!("{G}?$skiptoken=A");
    let r = s.apply(&page_at(G, &next_page(&a, r#"{"id":"1"}"#)));
    assert_eq!(r.stop, None);
    let r = s.apply(&page_at(&a, &next_page(&a, r#"{"id":"2"}"#)));
    assert_eq!(r.stop, Some(Stop::LinkLoop { link: a.clone() }));
    let round = &s.rounds()[0];
    assert!(
        round.to_string().contains("(stopped: the nextLink"),
        "{round}"
    );
    assert!(round.to_string().contains("a link loop"), "{round}");
    assert!(!round.complete);
    // The state continues from the last page's link; nothing was lost.
    assert_eq!(s.next_request().unwrap().url, a);
    assert_eq!(s.replica().len(), 2);
}

#[test]
fn two_links_that_point_to_each_other_stop_the_round() {
    let mut s = session();
    let (a, b) = (format!("{G}?$skiptoken=A"), format!("{G}?$skiptoken=B"));
    assert_eq!(s.apply(&page_at(G, &next_page(&a, ""))).stop, None);
    assert_eq!(
        s.apply(&page_at(&a, &next_page(&b, r#"{"id":"1"}"#))).stop,
        None
    );
    let r = s.apply(&page_at(&b, &next_page(&a, r#"{"id":"2"}"#)));
    assert_eq!(r.stop, Some(Stop::LinkLoop { link: a }));
}

#[test]
fn pages_that_bring_nothing_new_stop_the_round_at_the_bound_and_a_person_may_go_on() {
    let mut s = session().with_limits(RoundLimits { max_idle_pages: 5 });
    let link = |n: usize| format!("{G}?$skiptoken=t{n}");
    // The first page brings an object; then the same object again (a duplicate) and empty
    // pages, each with a fresh link.
    let mut at = G.to_owned();
    let mut stops = Vec::new();
    for n in 0..8 {
        let items = if n % 2 == 0 { r#"{"id":"1"}"# } else { "" };
        let r = s.apply(&page_at(&at, &next_page(&link(n), items)));
        stops.push(r.stop.clone());
        at = link(n);
        if r.stop.is_some() {
            break;
        }
    }
    assert_eq!(stops.len(), 6, "{stops:?}");
    assert_eq!(stops[5], Some(Stop::Idle { pages: 5 }));
    assert!(
        s.rounds()[0]
            .to_string()
            .contains("5 pages in a row brought nothing new")
    );
    assert_eq!(s.next_request().unwrap().url, link(5));
    // Going on lifts the stop and counts afresh.
    s.go_on();
    assert_eq!(s.rounds()[0].stop, None);
    let r = s.apply(&page_at(&link(5), &next_page(&link(6), "")));
    assert_eq!(r.stop, None);
}

#[test]
fn a_foreign_or_userinfo_link_is_never_kept_as_the_way_on() {
    for (which, body) in [
        (
            "deltaLink",
            last_page(
                "https://evil.example/v1.0/contacts/delta?$deltatoken=x",
                r#"{"id":"1"}"#,
            ),
        ),
        (
            "nextLink",
            next_page(
                "https://evil.example/v1.0/contacts/delta?$skiptoken=x",
                r#"{"id":"1"}"#,
            ),
        ),
        (
            "deltaLink",
            last_page(
                "https://user:pw@graph.microsoft.com/v1.0/contacts/delta?$deltatoken=x",
                "",
            ),
        ),
    ] {
        let mut s = session();
        let r = s.apply(&page_at(G, &body));
        let Some(Stop::RefusedLink { which: w, why, .. }) = &r.stop else {
            panic!("{body}: {:?}", r.stop);
        };
        assert_eq!(*w, which);
        assert!(why.contains("a full resync is the way on"), "{why}");
        assert!(!r.round_complete);
        assert_eq!(s.next_request(), None, "{body}");
        assert_eq!(s.delta_link(), None);
        assert_eq!(s.rounds()[0].delta_link, None);
        // A full resync is the way on.
        s.resync().unwrap();
        assert_eq!(s.next_request().unwrap().url, G);
    }
}

// ---------------------------------------------------------------- sync as a process

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `deltascope sync` against `base` with `args`; fails the test if it runs past
/// [`RUN_DEADLINE`] (a hang), killing it.
async fn sync(base: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.arg("sync")
        .args(["--graph-root", base, "--resource", "contacts"])
        .args(args)
        .env_remove("DELTASCOPE_GRAPH_ROOT")
        .env("DELTASCOPE_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || run_bounded(cmd))
        .await
        .unwrap()
}

fn run_bounded(mut cmd: Command) -> Run {
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + RUN_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "sync ran past {RUN_DEADLINE:?}: {}",
                String::from_utf8_lossy(&err_reader.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    assert!(!stderr.contains(TOKEN), "the token reached stderr");
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

fn temp_state() -> std::path::PathBuf {
    support::temp_dir("hostile").join("state.json")
}

fn read_state(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_stops_a_self_looping_round_and_saves_where_it_stopped() {
    let h = Hostile::start(|base| {
        let first = next_page(
            &format!("{base}/v1.0/contacts/delta?$skiptoken=L"),
            r#"{"id":"1"}"#,
        );
        let again = next_page(
            &format!("{base}/v1.0/contacts/delta?$skiptoken=L"),
            r#"{"id":"2"}"#,
        );
        move |n, _: &Req| Answer::json(200, if n == 0 { first.clone() } else { again.clone() })
    })
    .await;
    let state = temp_state();
    let run = sync(&h.base, &["--state", state.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr.contains("the round stopped: the nextLink"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("a link loop"), "{}", run.stderr);
    assert!(
        run.stderr.contains("(stopped)"),
        "the summary: {}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("was already followed").count(),
        1,
        "said once: {}",
        run.stderr
    );
    // The first page, the looping one, and at most what was fetched ahead.
    assert!(h.requests().len() <= 5, "{} requests", h.requests().len());
    assert_eq!(String::from_utf8_lossy(&run.stdout).lines().count(), 2);
    let saved = read_state(&state);
    assert_eq!(
        saved["link"],
        format!("{}/v1.0/contacts/delta?$skiptoken=L", h.base)
    );
    assert_eq!(saved["mid_round"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_stops_two_links_that_point_to_each_other() {
    let h = Hostile::start(|base| {
        let a = format!("{base}/v1.0/contacts/delta?$skiptoken=A");
        let b = format!("{base}/v1.0/contacts/delta?$skiptoken=B");
        move |_, req: &Req| {
            let to = if req.target.ends_with("=A") { &b } else { &a };
            Answer::json(200, next_page(to, ""))
        }
    })
    .await;
    let run = sync(&h.base, &[]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("a link loop"), "{}", run.stderr);
    assert!(h.requests().len() <= 6, "{} requests", h.requests().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_stops_after_the_bound_of_pages_that_bring_nothing_new() {
    // Empty pages, or the same object again, each with a fresh nextLink, forever.
    for (items, bound, flag) in [("", 200, None), (r#"{"id":"same"}"#, 25, Some("25"))] {
        let h = Hostile::start(|base| {
            let base = base.to_owned();
            move |n, _: &Req| {
                Answer::json(
                    200,
                    next_page(
                        &format!("{base}/v1.0/contacts/delta?$skiptoken=t{n}"),
                        items,
                    ),
                )
            }
        })
        .await;
        let state = temp_state();
        let mut args = vec!["--state", state.to_str().unwrap()];
        if let Some(n) = flag {
            args.extend(["--max-idle-pages", n]);
        }
        let run = sync(&h.base, &args).await;
        assert_eq!(run.code, Some(4), "{}", run.stderr);
        let expected = format!("{bound} pages in a row brought nothing new");
        assert!(run.stderr.contains(&expected), "{}", run.stderr);
        assert!(run.stderr.contains("--max-idle-pages"), "{}", run.stderr);
        let sent = h.requests().len();
        // With items, the first page brings the object: one more page before the bound.
        assert!(
            sent >= bound && sent <= bound + 5,
            "{sent} requests for a bound of {bound}"
        );
        let saved = read_state(&state);
        assert!(saved["link"].as_str().unwrap().contains("$skiptoken=t"));
        // Everything written is each object once per page it came in, nothing more.
        let lines = String::from_utf8_lossy(&run.stdout).lines().count();
        assert!(lines <= bound + 1, "{lines}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delta_link_is_not_saved_and_the_next_run_starts_a_full_round() {
    // The foreign origin is a server of its own: it must never hear from deltascope.
    let foreign = Hostile::start(|_| |_, _: &Req| Answer::json(200, "{}")).await;
    let h = Hostile::start(|_| {
        let refused = format!("{}/v1.0/contacts/delta?$deltatoken=x", foreign.base);
        move |_, _: &Req| Answer::json(200, last_page(&refused, r#"{"id":"1"}"#))
    })
    .await;
    let state = temp_state();
    let args = ["--state", state.to_str().unwrap()];
    let run = sync(&h.base, &args).await;
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(run.stderr.contains("the deltaLink"), "{}", run.stderr);
    assert!(run.stderr.contains("another origin"), "{}", run.stderr);
    assert!(run.stderr.contains("starts a full round"), "{}", run.stderr);
    let saved = read_state(&state);
    assert_eq!(saved["link"], contacts(&h.base));
    assert_eq!(saved["full_round"], true);
    // The next run starts that full round (the query's first request), not the refused link.
    let again = sync(&h.base, &args).await;
    assert_eq!(again.code, Some(5), "{}", again.stderr);
    assert!(
        again.stderr.contains("continuing from a full round"),
        "{}",
        again.stderr
    );
    let targets: Vec<String> = h.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, ["/v1.0/contacts/delta", "/v1.0/contacts/delta"]);
    assert!(foreign.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_with_headers_a_query_never_sets_is_refused() {
    let h = Hostile::start(|_| |_, _: &Req| Answer::json(200, "{}")).await;
    for header in ["Host", "X-Forwarded-Host", "Proxy-Authorization"] {
        let state = temp_state();
        let saved = serde_json::json!({
            "version": 1,
            "graph_root": h.base,
            "resource": "contacts",
            "api": "v1.0",
            "headers": [["Prefer", "return=minimal"], [header, "evil.example"]],
            "link": format!("{}/v1.0/contacts/delta?$deltatoken=d", h.base),
            "mid_round": false,
            "rounds_completed": 1,
            "saved_at": "2026-12-01T00:00:00Z"
        });
        std::fs::write(&state, saved.to_string()).unwrap();
        let run = sync(&h.base, &["--state", state.to_str().unwrap()]).await;
        assert_eq!(run.code, Some(3), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("header \"{header}\"")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("edited by hand"), "{}", run.stderr);
    }
    assert!(h.requests().is_empty());
}

#[test]
fn an_interval_that_is_not_a_duration_is_a_usage_error() {
    for bad in ["inf", "1e300", "NaN", "-1", "2592001", "soon"] {
        let out = Command::new(BIN)
            .args(["sync", "--rounds", "2", &format!("--interval={bad}")])
            .env_remove("DELTASCOPE_GRAPH_ROOT")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--interval"), "{bad}: {err}");
        assert!(
            err.contains("30 days") || err.contains("not a number"),
            "{bad}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fetch_ahead_requests_only_the_pages_own_next_link() {
    let h = Hostile::start(|base| {
        let nested = format!("{base}/v1.0/contacts/delta?$skiptoken=NESTED");
        let first = format!("{base}/v1.0/contacts/delta?$skiptoken=FIRST");
        let second = format!("{base}/v1.0/contacts/delta?$skiptoken=SECOND");
        let done = format!("{base}/v1.0/contacts/delta?$deltatoken=D");
        let p2 = format!("{base}/v1.0/contacts/delta?$skiptoken=P2");
        move |n, _: &Req| match n {
            // A nextLink key inside an item is the item's data, not the page's link.
            0 => Answer::json(
                200,
                format!(
                    r#"{{"value":[{{"id":"1","note":{{"@odata.nextLink":"{nested}"}}}}],"@odata.nextLink":"{p2}"}}"#
                ),
            ),
            // Two nextLink keys: the page is not a page; neither link is followed.
            1 => Answer::json(
                200,
                format!(
                    r#"{{"@odata.nextLink":"{first}","value":[{{"id":"2"}}],"@odata.nextLink":"{second}"}}"#
                ),
            ),
            _ => Answer::json(200, last_page(&done, r#"{"id":"2"}"#)),
        }
    })
    .await;
    let run = sync(&h.base, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("not a valid delta page"),
        "{}",
        run.stderr
    );
    let targets: Vec<String> = h.requests().iter().map(|r| r.target.clone()).collect();
    assert!(
        targets
            .iter()
            .all(|t| !t.contains("NESTED") && !t.contains("FIRST") && !t.contains("SECOND")),
        "{targets:?}"
    );
    // The duplicate-key page was fetched again (the same link), then the round ended.
    assert_eq!(
        targets,
        [
            "/v1.0/contacts/delta",
            "/v1.0/contacts/delta?$skiptoken=P2",
            "/v1.0/contacts/delta?$skiptoken=P2"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_server_never_reach_stderr_and_stdout_stays_exact() {
    // Round 1 brings an object; round 2 changes a property whose name is an OSC 52 clipboard
    // write and whose value holds a bidi override (raw in the JSON text, as JSON allows).
    let osc_name = r#"\u001b]52;c;cHduZWQ=\u0007"#;
    let rlo = '\u{202e}';
    let changed = format!(r#"{{"id":"1","{osc_name}":"x","v":"a{rlo}b"}}"#);
    let h = Hostile::start(|base| {
        let d1 = format!("{base}/v1.0/contacts/delta?$deltatoken=d1");
        let d2 = format!("{base}/v1.0/contacts/delta?$deltatoken=d2");
        let (r1, r2) = (
            last_page(&d1, r#"{"id":"1","v":"a"}"#),
            last_page(&d2, &changed),
        );
        move |n, _: &Req| Answer::json(200, if n == 0 { r1.clone() } else { r2.clone() })
    })
    .await;
    let run = sync(&h.base, &["--rounds", "2"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_clean(&run.stderr);
    assert!(
        run.stderr.contains("\\u001b]52;c;cHduZWQ=\\u0007 1"),
        "{}",
        run.stderr
    );
    // stdout: the items byte for byte as the server sent them.
    let out = String::from_utf8(run.stdout).unwrap();
    assert_eq!(out.lines().nth(1), Some(changed.as_str()));

    // A Graph error whose code and message carry a title change, a C1 CSI and a bidi override;
    // a body that is not JSON at all; a link that is not a URL.
    let bodies: Vec<(u16, Vec<u8>)> = vec![
        (
            400,
            br#"{"error":{"code":"\u001b]0;pwned\u0007","message":"bad \u009b31m \u202egnp.exe"}}"#
                .to_vec(),
        ),
        (404, b"<html>\x1b]0;pwned\x07 \xc2\x9b2J</html>".to_vec()),
        (
            200,
            br#"{"@odata.nextLink":"http://ev\u001b]0;t\u0007il/x?$skiptoken=1","value":[]}"#
                .to_vec(),
        ),
    ];
    for (status, body) in bodies {
        let b = body.clone();
        let h = Hostile::start(move |_| {
            move |_, _: &Req| Answer::Full {
                status,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: b.clone(),
            }
        })
        .await;
        let run = sync(&h.base, &[]).await;
        assert_ne!(run.code, Some(0), "{}", run.stderr);
        assert_clean(&run.stderr);
        assert!(
            run.stderr.contains("\\u001b]0;"),
            "{status}: {}",
            run.stderr
        );
    }
}

/// No character that a terminal would obey: ESC, BEL, C1 controls, bidi overrides.
fn assert_clean(text: &str) {
    for c in text.chars() {
        assert!(
            c == '\n' || c == '\t' || !deltascope::text::is_unsafe(c),
            "{:?} reached stderr: {text}",
            c
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_that_cannot_be_saved_is_said_once() {
    let h = Hostile::start(|base| {
        let page = last_page(&format!("{base}/v1.0/contacts/delta?$deltatoken=d"), "");
        move |_, _: &Req| Answer::json(200, page.clone())
    })
    .await;
    // In a directory that does not exist: nothing to continue from, and nowhere to save.
    let path = support::temp_dir("hostile-state-dir").join("gone/state.json");
    let run = sync(&h.base, &["--state", path.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("cannot save the state file").count(),
        1,
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_says_where_a_redirect_pointed_and_what_a_long_retry_after_asked() {
    let h = Hostile::start(|_| {
        |_, _: &Req| Answer::json(301, "").with_header("Location", "https://evil.example/x")
    })
    .await;
    let run = sync(&h.base, &[]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("HTTP 301 Moved Permanently, a redirect to https://evil.example/x"),
        "{}",
        run.stderr
    );
    let h =
        Hostile::start(|_| |_, _: &Req| Answer::json(503, "").with_header("Retry-After", "999999"))
            .await;
    let run = sync(&h.base, &[]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr.contains("999999 s (11.6 days)"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- the explorer

#[derive(Clone, Debug, Default)]
struct Seen {
    screen: String,
    /// (pages, summary line) of each round.
    rounds: Vec<(usize, Option<String>)>,
    failed: Option<String>,
    follow: bool,
}

impl support::explorer::Frame for Seen {
    fn context(&self) -> String {
        format!(
            "rounds {:?}\nfailed {:?}\n{}",
            self.rounds, self.failed, self.screen
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorers_follow_stops_on_a_link_loop_and_the_round_says_why() {
    use deltascope::tui::explore::{ExploreArgs, prepare};
    use deltascope::tui::runtime::Runtime;
    use deltascope::tui::view::FetchState;

    let h = Hostile::start(|base| {
        let a = format!("{base}/v1.0/contacts/delta?$skiptoken=A");
        let b = format!("{base}/v1.0/contacts/delta?$skiptoken=B");
        move |n, req: &Req| {
            let to = if req.target.ends_with("=A") { &b } else { &a };
            Answer::json(200, next_page(to, &format!(r#"{{"id":"{n}"}}"#)))
        }
    })
    .await;
    // Any bearer token does: name a variable that is always set (its value is never shown).
    let args = ExploreArgs {
        graph_root: Some(h.base.clone()),
        auth: deltascope::auth::AuthArgs {
            token_env: Some("PATH".into()),
            ..Default::default()
        },
        keymap: Some("/nonexistent/keymap.toml".into()),
        store: deltascope::store::StoreArgs {
            no_store: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let explorer = prepare(&args, Default::default()).await.unwrap();
    let mut runtime = Runtime::new(
        explorer.model,
        support::explorer::SharedClipboard::default(),
        explorer.engine,
    );
    let observe = |m: &deltascope::tui::app::Model, t: &ratatui::Terminal<_>, _: &Seen| Seen {
        screen: support::explorer::screen_text(t),
        rounds: m
            .rounds
            .iter()
            .map(|r| (r.pages.len(), r.summary_line.clone()))
            .collect(),
        failed: match &m.fetch.state {
            FetchState::Failed { error } => Some(error.message.clone()),
            _ => None,
        },
        follow: m.fetch.following(),
    };
    support::explorer::run_scripted(&mut runtime, (160, 45), observe, (), |mut d| async move {
        d.press('F');
        let seen = d
            .wait("the followed round to stop", |s| s.failed.is_some())
            .await;
        let failed = seen.failed.clone().unwrap();
        assert!(failed.contains("a link loop"), "{failed}");
        assert!(!seen.follow);
        let (pages, summary) = seen.rounds[0].clone();
        assert_eq!(pages, 3, "{seen:?}");
        assert!(
            summary
                .as_deref()
                .unwrap_or("")
                .contains("(stopped: the nextLink"),
            "{summary:?}"
        );
        assert!(seen.screen.contains("stopped"), "{}", seen.screen);
        d.press('q');
    })
    .await;
    // The first page, A, B, and then A again is noticed: nothing more was fetched.
    assert_eq!(h.requests().len(), 3);
}
