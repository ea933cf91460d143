//! The control API and the command line cannot take the emulator down: every number has an
//! allowed range (a 400 or a usage error naming it), the clock never overflows, the churn never
//! stalls the routes or the shutdown. Through real HTTP on loopback, in process and with the real
//! binary. The ranges are spelled out here on purpose: they are documented, so a change to one
//! should be a change to this file too.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use emulator_support::{Emu, start_default};
use serde_json::{Value, json};

/// A request that must answer: a hung emulator fails the test instead of hanging it.
const ANSWER: Duration = Duration::from_secs(10);
/// How long a delta request may take while the emulator churns at its fastest (generous: the
/// machine is shared; a stalled emulator takes minutes).
const FAST: Duration = Duration::from_secs(2);

/// POSTs `body` as it is (it may be JSON that serde cannot write, like `NaN`).
async fn post_raw(e: &Emu, path: &str, body: &str) -> (u16, Value) {
    let r = e
        .http
        .post(e.url(path))
        .body(body.to_string())
        .timeout(ANSWER)
        .send()
        .await
        .unwrap_or_else(|err| panic!("POST {path} {body}: no answer ({err})"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

async fn get_json(e: &Emu, path: &str) -> (u16, Value) {
    let r = e
        .http
        .get(e.url(path))
        .timeout(ANSWER)
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {path}: no answer ({err})"));
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

fn assert_refused(reply: &(u16, Value), range: &str, what: &str) {
    let (status, body) = reply;
    assert_eq!(*status, 400, "{what}: {body}");
    assert_eq!(body["error"]["code"], "BadRequest", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("allowed range {range}")),
        "{what}: the message names the allowed range {range}: {message}"
    );
}

async fn delta_answers(e: &Emu) {
    let r = e
        .http
        .get(e.url("/v1.0/contacts/delta"))
        .header("Authorization", "Bearer x")
        .timeout(ANSWER)
        .send()
        .await
        .expect("the emulator still answers a delta request");
    assert_eq!(r.status(), 200);
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(body["@odata.nextLink"].is_string(), "{body}");
}

#[tokio::test]
async fn churn_rates_out_of_range_are_refused_naming_the_range() {
    let e = start_default().await;
    for body in [
        r#"{"per_sec": 1e9}"#,
        r#"{"per_sec": 1000.001}"#,
        r#"{"per_sec": -1}"#,
        r#"{"per_sec": NaN}"#,
        r#"{"per_sec": Infinity}"#,
        r#"{"per_sec": 1e999}"#,
        r#"{"per_sec": "NaN"}"#,
        r#"{"per_sec": "inf"}"#,
        r#"{"per_sec": null}"#,
        r#"{}"#,
    ] {
        let reply = post_raw(&e, "/_emulator/churn", body).await;
        assert_refused(&reply, "0 to 1000", body);
    }
    let state = e.emu.control().state();
    assert_eq!(state["churnPerSec"], 0.0, "nothing refused was applied");
    let (status, body) = post_raw(&e, "/_emulator/churn", r#"{"per_sec": 1000}"#).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post_raw(&e, "/_emulator/churn", r#"{"per_sec": 0}"#).await;
    assert_eq!(status, 200);
    delta_answers(&e).await;
}

#[tokio::test]
async fn clock_moves_out_of_range_are_refused_and_the_emulator_keeps_serving() {
    let e = start_default().await;
    let range = "-315576000 to 315576000";
    for body in [
        r#"{"advance_secs": 9223372036854775807}"#,
        r#"{"advance_secs": -9223372036854775808}"#,
        r#"{"advance_secs": 1e300}"#,
        r#"{"advance_secs": -1e12}"#,
        r#"{"advance_secs": 315576000.5}"#,
        r#"{"advance_secs": NaN}"#,
        r#"{"advance_secs": -Infinity}"#,
        r#"{"advance_secs": "1e9"}"#,
        r#"{}"#,
    ] {
        let reply = post_raw(&e, "/_emulator/clock", body).await;
        assert_refused(&reply, range, body);
        delta_answers(&e).await;
    }
    assert_eq!(e.emu.control().state()["clockOffsetSecs"], 0.0);
}

/// Steps in range add up: the clock's offset stops at a hundred years either way, and at the
/// edge the emulator still serves whole rounds and deltaLinks (dates near the end of what the
/// clock allows must not overflow either).
#[tokio::test]
async fn the_clock_stops_at_a_hundred_years_either_way() {
    let e = start_default().await;
    for (step, edge) in [
        (315_576_000i64, 3_155_760_000i64),
        (-315_576_000, -3_155_760_000),
    ] {
        while e.emu.control().state()["clockOffsetSecs"] != json!(edge as f64) {
            let (status, body) = e
                .post("/_emulator/clock", json!({ "advance_secs": step }))
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let reply = e
            .post("/_emulator/clock", json!({ "advance_secs": step }))
            .await;
        assert_refused(&reply, "-3155760000 to 3155760000", "past a hundred years");
        let reply = e
            .post("/_emulator/clock", json!({ "advance_secs": step.signum() }))
            .await;
        assert_refused(&reply, "-3155760000 to 3155760000", "one second past");
        let round = e.round(&e.url("/v1.0/contacts/delta"), false).await;
        assert!(round.items.len() >= 245, "{}", round.items.len());
        e.emu.control().mutate(5);
        let next = e.round(&round.delta_link, false).await;
        assert!(!next.items.is_empty());
        let (status, _) = e.post("/_emulator/recordings", json!({})).await;
        assert_eq!(status, 200);
        // Back to real time for the other direction.
        while e.emu.control().state()["clockOffsetSecs"] != json!(0.0) {
            let (status, body) = e
                .post("/_emulator/clock", json!({ "advance_secs": -step }))
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }
}

#[tokio::test]
async fn mutate_fault_and_sign_in_numbers_out_of_range_are_refused() {
    let e = start_default().await;
    for (spec, range) in [
        ("throttle:1:1e9", "0 to 3600"),
        ("unavailable:1:NaN", "0 to 3600"),
        ("throttle:1:-1", "0 to 3600"),
        ("slow:1:600001", "0 to 600000"),
        ("slow:1:18446744073709551615", "0 to 600000"),
        ("gone:0", "1 to 1000000"),
        ("empty:4294967296", "1 to 1000000"),
    ] {
        let reply = e.post("/_emulator/faults", json!({ "spec": spec })).await;
        assert_refused(&reply, range, spec);
    }
    let hundred: Vec<String> = (0..100).map(|_| "shuffle".to_string()).collect();
    let (status, body) = e
        .post("/_emulator/faults", json!({ "specs": hundred }))
        .await;
    assert_eq!(status, 200, "{body}");
    let reply = e
        .post("/_emulator/faults", json!({ "spec": "gone:1" }))
        .await;
    assert_refused(&reply, "is at most 100 active faults", "the 101st fault");
    assert_eq!(e.emu.control().faults().as_array().unwrap().len(), 100);
    e.emu.control().clear_faults();

    for (body, range) in [
        (r#"{"count": 100001}"#, "0 to 100000"),
        (r#"{"count": -1}"#, "0 to 100000"),
        (r#"{"count": 1.5}"#, "0 to 100000"),
        (r#"{"count": 1e9}"#, "0 to 100000"),
        (r#"{"count": NaN}"#, "0 to 100000"),
        (r#"{"groups": 10001}"#, "0 to 10000"),
        (
            r#"{"count": 1, "groups": 18446744073709551616}"#,
            "0 to 10000",
        ),
    ] {
        let reply = post_raw(&e, "/_emulator/mutate", body).await;
        assert_refused(&reply, range, body);
    }
    assert_eq!(e.emu.control().position(), 0, "nothing refused was applied");

    let reply = post_raw(
        &e,
        "/_emulator/devicecode/slow_down",
        r#"{"count": 1000000}"#,
    )
    .await;
    assert_refused(&reply, "0 to 1000", "slow_down count");
    delta_answers(&e).await;
}

/// A mutate as large as allowed is made in batches, the store's lock free between them: state
/// and delta requests made meanwhile are served in the middle of it (a state that is neither
/// before nor after it), and quickly, instead of waiting for the whole of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_mutate_lets_requests_in_between_its_batches() {
    let e = start_default().await;
    let http = e.http.clone();
    let url = e.url("/_emulator/mutate");
    let big = tokio::spawn(async move {
        http.post(url)
            .body(r#"{"count": 100000, "groups": 10000}"#)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut slowest = Duration::ZERO;
    let mut seen = Vec::new();
    while !big.is_finished() {
        assert!(Instant::now() < deadline, "the mutate never ended");
        let t = Instant::now();
        let (status, st) = get_json(&e, "/_emulator/state").await;
        assert_eq!(status, 200);
        seen.push(st["position"].as_u64().unwrap());
        delta_answers(&e).await;
        slowest = slowest.max(t.elapsed());
    }
    assert_eq!(big.await.unwrap().unwrap(), 200);
    let end = e.emu.control().position();
    assert!(
        seen.iter().any(|p| *p > 0 && *p < end),
        "no request was served during the mutate (positions seen {seen:?}, at the end {end})"
    );
    assert!(
        slowest < FAST,
        "a request took {slowest:?} during the mutate"
    );
}

// ----- the real binary -------------------------------------------------------------------

/// The emulator process, killed when the test ends however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Its exit status, if it exits within `limit` (polled: the process is not ours to block
    /// on, and a hung emulator must fail the test, not hang it).
    fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn deltascope(args: &[&str]) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_deltascope"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Proc(child)
}

/// Starts `deltascope emulator` with `args`; its base URL once it listens.
fn emulator(args: &[&str]) -> (Proc, String) {
    let mut all = vec!["emulator", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut p = deltascope(&all);
    let stdout = p.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(ANSWER).expect("the listening line");
    let base = line
        .trim_end()
        .strip_prefix("deltascope emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (p, base)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn state(http: &reqwest::Client, base: &str) -> Value {
    let r = http
        .get(format!("{base}/_emulator/state"))
        .timeout(ANSWER)
        .send()
        .await
        .expect("the state answers");
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

/// Waits until the churn has made `more` changes past `from` or the emulator stops answering
/// within [`FAST`] (what a stalled emulator does); the position, or None when stalled.
async fn churned_or_stalled(
    http: &reqwest::Client,
    base: &str,
    from: u64,
    more: u64,
) -> Option<u64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = http
            .get(format!("{base}/_emulator/state"))
            .timeout(FAST)
            .send()
            .await;
        let Ok(r) = r else { return None };
        let st: Value = serde_json::from_str(&r.text().await.ok()?).ok()?;
        let pos = st["position"].as_u64().unwrap();
        if pos >= from + more {
            return Some(pos);
        }
        assert!(Instant::now() < deadline, "the churn made no changes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the churn has made `more` changes past `from` (it does run at that rate).
async fn churned(http: &reqwest::Client, base: &str, from: u64, more: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pos = state(http, base).await["position"].as_u64().unwrap();
        if pos >= from + more {
            return pos;
        }
        assert!(Instant::now() < deadline, "the churn made no changes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn flags_out_of_range_are_usage_errors_naming_the_range() {
    let cases: &[(&[&str], &str)] = &[
        (&["emulator", "--churn", "1e7"], "0 to 1000"),
        (&["emulator", "--churn", "1e9"], "0 to 1000"),
        (&["emulator", "--churn", "NaN"], "0 to 1000"),
        (&["emulator", "--churn", "inf"], "0 to 1000"),
        (&["emulator", "--churn=-1"], "0 to 1000"),
        (&["emulator", "--contacts", "10000001"], "0 to 10000000"),
        (&["emulator", "--users", "100001"], "0 to 100000"),
        (&["emulator", "--groups", "101"], "0 to 100"),
        (&["emulator", "--organizers", "1001"], "0 to 1000"),
        (&["emulator", "--recordings", "100001"], "0 to 100000"),
        (&["emulator", "--member-slice", "0"], "1 to 100000"),
        (&["emulator", "--page-size", "1000"], "1 to 999"),
        (&["emulator", "--latency-ms", "60001"], "0 to 60000"),
        (&["emulator", "--token-lifetime", "3651d"], "1s to 3650d"),
        (
            &["emulator", "--token-lifetime", "1e300d"],
            "not a duration",
        ),
        (&["emulator", "--fault", "slow:1:600001"], "0 to 600000"),
        (&["emulator", "--fault", "throttle:1:1e9"], "0 to 3600"),
        (&["--demo-contacts", "99999999999"], "0 to 10000000"),
    ];
    for (args, range) in cases {
        let mut p = deltascope(args);
        let status = p.exit_within(ANSWER);
        let mut stderr = String::new();
        if status.is_some() {
            let _ = p.0.stderr.take().unwrap().read_to_string(&mut stderr);
        }
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(2),
            "deltascope {args:?} is a usage error (exit 2): {stderr}"
        );
        assert!(
            stderr.contains(range),
            "deltascope {args:?} names the allowed range {range}: {stderr}"
        );
    }
}

/// The churn at its fastest, after a request for a billion changes a second (which once
/// stalled every route under the store's lock): delta requests keep answering quickly over
/// several ticks of the churn.
#[test]
fn a_churning_emulator_keeps_answering_delta_requests() {
    let (_p, base) = emulator(&["--contacts", "10000", "--churn", "1000"]);
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let get = |url: String| {
            let http = http.clone();
            async move {
                let t = Instant::now();
                let r = http
                    .get(&url)
                    .header("Authorization", "Bearer x")
                    .timeout(ANSWER)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GET {url} while churning: {e}"));
                assert_eq!(r.status(), 200, "{url}");
                let body = r.bytes().await.unwrap();
                (t.elapsed(), body)
            }
        };
        let latest = get(format!("{base}/v1.0/contacts/delta?$deltatoken=latest")).await;
        let v: Value = serde_json::from_slice(&latest.1).unwrap();
        let delta_link = v["@odata.deltaLink"].as_str().unwrap().to_string();
        let from = churned(&http, &base, 0, 1).await;
        let _ = http
            .post(format!("{base}/_emulator/churn"))
            .body(r#"{"per_sec": 1e9}"#)
            .timeout(ANSWER)
            .send()
            .await;
        let urls = [
            format!("{base}/v1.0/contacts/delta"),
            format!("{base}/v1.0/groups/delta?$select=displayName,members"),
            delta_link,
            format!("{base}/v1.0/users/delta"),
        ];
        // At least three ticks (a hundred changes each at this rate) go by while requests
        // are made; each must answer quickly.
        let mut slowest = Duration::ZERO;
        let mut made = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (took, _) = get(urls[made % urls.len()].clone()).await;
            slowest = slowest.max(took);
            made += 1;
            assert!(
                slowest < FAST,
                "a delta request took {slowest:?} while churning"
            );
            let t = Instant::now();
            let pos = state(&http, &base).await["position"].as_u64().unwrap();
            slowest = slowest.max(t.elapsed());
            if pos >= from + 300 && made >= urls.len() {
                break;
            }
            assert!(Instant::now() < deadline, "the churn stopped");
        }
        assert!(slowest < FAST, "a request took {slowest:?} while churning");
        let st = state(&http, &base).await;
        assert_eq!(
            st["churnPerSec"], 1000.0,
            "the refused rate was not applied"
        );
    });
}

/// Churning at its fastest, and asked for a billion changes a second: SIGTERM still stops it
/// within seconds (the churn once held a worker for minutes, and the runtime waited for it).
#[test]
fn sigterm_stops_a_churning_emulator_promptly() {
    let (mut p, base) = emulator(&["--churn", "1000"]);
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let from = churned(&http, &base, 0, 10).await;
        let _ = http
            .post(format!("{base}/_emulator/churn"))
            .body(r#"{"per_sec": 1e9}"#)
            .timeout(ANSWER)
            .send()
            .await;
        // Past the next ticks, whatever they did.
        let _ = churned_or_stalled(&http, &base, from, 300).await;
    });
    let pid = p.0.id().to_string();
    let sent = Instant::now();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = p.exit_within(ANSWER);
    assert!(
        status.is_some_and(|s| s.success()),
        "exits cleanly after SIGTERM: {status:?} after {:?}",
        sent.elapsed()
    );
}
