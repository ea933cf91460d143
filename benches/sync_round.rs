//! Benchmark: a full delta round of a large contacts tenant, against the embedded emulator.
//!
//! Run: `cargo bench --bench sync_round` (env: `BENCH_CONTACTS`, default 100000; `BENCH_RUNS`,
//! default 9; `BENCH_SKIP_CURL=1` to leave out the curl loop, `BENCH_SKIP_BIG=1` the
//! 1,000,000-contact tenant).
//!
//! Three clients walk the same round from the same emulator process, interleaved run by run so
//! that machine noise hits them alike:
//! - `engine`: `deltascope sync` (the real binary: parses every page, builds the replica, writes
//!   every item as a JSON line to /dev/null), timed from outside, peak RSS from its `--stats`;
//! - `download limit`: a minimal keep-alive client that only finds the nextLink by byte search,
//!   never parsing JSON — the floor any client could reach against this server;
//! - `curl loop`: the shell loop an admin would write (curl + jq per page).
//!
//! It reports medians and the ratio of each to the download limit measured in the same run,
//! then how fast a 1,000,000-contact tenant answers its first and a later page, then the same
//! engine-against-download-limit comparison for a full round of `BENCH_ITEMS` (default 100000)
//! driveItems (OneDrive's token= links, 200 a page by $top) and messages of an inbox (Outlook's
//! links, Prefer: odata.maxpagesize=200; `BENCH_SKIP_ITEMS=1` leaves both out).
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_deltascope");

#[path = "support/emulator.rs"]
mod emulator;
use emulator::Emulator;
const TOKEN: &str = "bench-token";

struct EngineRun {
    seconds: f64,
    objects: u64,
    bytes: u64,
    peak_rss: u64,
}

/// A round to measure: the sync arguments, and the same first request for the download limit.
struct Workload {
    name: &'static str,
    sync: &'static [&'static str],
    path: &'static str,
    prefer: Option<&'static str>,
}

const CONTACTS: Workload = Workload {
    name: "contacts",
    sync: &["--resource", "contacts"],
    path: "/v1.0/contacts/delta",
    prefer: None,
};

fn engine_run(base: &str, w: &Workload) -> EngineRun {
    let started = Instant::now();
    let out = Command::new(BIN)
        .arg("sync")
        .args(w.sync)
        .args(["--graph-root", base, "--stats"])
        .env("DELTASCOPE_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run deltascope sync");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sync failed: {stderr}");
    let stats_line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stats: "))
        .expect("sync printed its stats");
    let stats: serde_json::Value = serde_json::from_str(stats_line).expect("stats are JSON");
    EngineRun {
        seconds,
        objects: stats["objects"].as_u64().unwrap_or(0),
        bytes: stats["bytes"].as_u64().unwrap_or(0),
        peak_rss: stats["peak_rss_bytes"].as_u64().unwrap_or(0),
    }
}

/// Follows nextLinks with one keep-alive connection, finding each link by byte search.
fn download_limit(rt: &tokio::runtime::Runtime, base: &str, w: &Workload) -> (f64, u64, u64) {
    rt.block_on(async {
        let client = reqwest::Client::builder().build().expect("client");
        let mut url = format!("{base}{}", w.path);
        let started = Instant::now();
        let (mut bytes, mut pages) = (0u64, 0u64);
        let needle = b"\"@odata.nextLink\":\"";
        loop {
            let mut req = client.get(&url).bearer_auth(TOKEN);
            if let Some(p) = w.prefer {
                req = req.header("Prefer", p);
            }
            let body = req.send().await.expect("send").bytes().await.expect("body");
            bytes += body.len() as u64;
            pages += 1;
            let Some(at) = memchr::memmem::find(&body, needle) else {
                break;
            };
            let rest = &body[at + needle.len()..];
            let end = memchr::memchr(b'"', rest).expect("link ends");
            url = String::from_utf8(rest[..end].to_vec()).expect("utf-8 link");
        }
        (started.elapsed().as_secs_f64(), bytes, pages)
    })
}

fn curl_loop(base: &str) -> Option<f64> {
    let script = r#"
url="$1/v1.0/contacts/delta"
while [ -n "$url" ]; do
  body=$(curl -s -H "Authorization: Bearer $2" "$url") || exit 1
  url=$(printf '%s' "$body" | jq -r '."@odata.nextLink" // empty') || exit 1
done
"#;
    let started = Instant::now();
    let status = Command::new("bash")
        .args(["-c", script, "curl-loop", base, TOKEN])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| started.elapsed().as_secs_f64())
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn first_and_later_page(
    rt: &tokio::runtime::Runtime,
    base: &str,
    later: usize,
) -> (Duration, Duration) {
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut url = format!("{base}/v1.0/contacts/delta");
        let (mut first, mut last) = (Duration::ZERO, Duration::ZERO);
        let needle = b"\"@odata.nextLink\":\"";
        for i in 0..later {
            let t = Instant::now();
            let body = client
                .get(&url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("send")
                .bytes()
                .await
                .expect("body");
            let elapsed = t.elapsed();
            if i == 0 {
                first = elapsed;
            }
            last = elapsed;
            let Some(at) = memchr::memmem::find(&body, needle) else {
                break;
            };
            let rest = &body[at + needle.len()..];
            let end = memchr::memchr(b'"', rest).expect("link ends");
            url = String::from_utf8(rest[..end].to_vec()).expect("utf-8 link");
        }
        (first, last)
    })
}

/// The engine against the download limit on workload `w`, interleaved run by run; the table.
fn measure(
    rt: &tokio::runtime::Runtime,
    emu: &Emulator,
    w: &Workload,
    runs: usize,
    with_curl: bool,
) {
    // Warm-up: one of each, not counted.
    let _ = download_limit(rt, &emu.base, w);
    let _ = engine_run(&emu.base, w);

    let (mut engine_s, mut limit_s, mut curl_s) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rss, mut json_bytes, mut objects) = (Vec::new(), 0u64, 0u64);
    // Each run's engine time over the download limit measured just before it: on a noisy
    // machine this pairs the two under the same conditions.
    let mut ratios = Vec::new();
    for run in 0..runs {
        let (s, bytes, pages) = download_limit(rt, &emu.base, w);
        limit_s.push(s);
        let e = engine_run(&emu.base, w);
        assert_eq!(
            e.bytes, bytes,
            "engine and download limit saw the same bytes"
        );
        engine_s.push(e.seconds);
        ratios.push(e.seconds / s);
        rss.push(e.peak_rss as f64);
        json_bytes = e.bytes;
        objects = e.objects;
        let c = if with_curl && run < 3 {
            curl_loop(&emu.base)
        } else {
            None
        };
        if let Some(c) = c {
            curl_s.push(c);
        }
        println!(
            "run {run}: download limit {s:.3}s ({pages} pages), engine {:.3}s, peak RSS {:.1} MiB{}",
            e.seconds,
            e.peak_rss as f64 / 1048576.0,
            c.map(|c| format!(", curl loop {c:.3}s"))
                .unwrap_or_default()
        );
    }
    let limit = median(&mut limit_s);
    let engine = median(&mut engine_s);
    let peak = median(&mut rss);
    println!();
    println!("{}:", w.name);
    println!("| client | median wall time | objects/s | vs download limit |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| download limit (keep-alive, no JSON parsing) | {limit:.3} s | {:.0} | 1.00x |",
        objects as f64 / limit
    );
    println!(
        "| deltascope sync (engine) | {engine:.3} s | {:.0} | {:.2}x |",
        objects as f64 / engine,
        engine / limit
    );
    let (lo, hi) = ratios
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let paired = median(&mut ratios);
    if !curl_s.is_empty() {
        let curl = median(&mut curl_s);
        println!(
            "| curl + jq loop | {curl:.3} s | {:.0} | {:.2}x |",
            objects as f64 / curl,
            curl / limit
        );
    }
    println!();
    println!(
        "engine / download limit, run by run: median {paired:.2}x (min {lo:.2}x, max {hi:.2}x, {runs} runs)"
    );
    println!(
        "engine peak RSS {:.1} MiB for {:.1} MiB of JSON received: {:.2}x the JSON bytes ({objects} objects)",
        peak / 1048576.0,
        json_bytes as f64 / 1048576.0,
        peak / json_bytes as f64
    );
}

/// How fast a 1,000,000-contact tenant answers its first and a later page.
fn big_tenant(rt: &tokio::runtime::Runtime) {
    let big = Emulator::start(1_000_000);
    let (first, later) = first_and_later_page(rt, &big.base, 200);
    println!(
        "1,000,000-contact tenant: first page {:.1} ms, page 200 {:.1} ms",
        first.as_secs_f64() * 1e3,
        later.as_secs_f64() * 1e3
    );
    drop(big);
}

fn main() {
    // `cargo test --benches` runs bench targets with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("sync_round: run with `cargo bench --bench sync_round`");
        return;
    }
    let contacts = env_or("BENCH_CONTACTS", 100_000);
    let runs = env_or("BENCH_RUNS", 9).max(1);
    let with_curl = std::env::var_os("BENCH_SKIP_CURL").is_none() && have("curl") && have("jq");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let emu = Emulator::start(contacts);
    println!(
        "emulator at {} with {contacts} contacts; {runs} runs each",
        emu.base
    );
    measure(&rt, &emu, &CONTACTS, runs, with_curl);
    drop(emu);
    if std::env::var_os("BENCH_SKIP_BIG").is_none() {
        big_tenant(&rt);
    }

    if std::env::var_os("BENCH_SKIP_ITEMS").is_some() {
        return;
    }
    let items = env_or("BENCH_ITEMS", 100_000).to_string();
    let emu = Emulator::start_with(&[
        "--contacts",
        "0",
        "--drive-files",
        &items,
        "--inbox-messages",
        &items,
    ]);
    println!();
    println!("emulator with {items} drive files and {items} inbox messages; {runs} runs each");
    let drive = Workload {
        name: "driveItems (token= links, $top=200)",
        sync: &["--resource", "driveItems", "--top", "200"],
        path: "/v1.0/me/drive/root/delta?$top=200",
        prefer: None,
    };
    measure(&rt, &emu, &drive, runs, false);
    let messages = Workload {
        name: "messages (inbox, Prefer: odata.maxpagesize=200)",
        sync: &[
            "--resource",
            "messages",
            "--param",
            "mailFolderId=inbox",
            "--max-page-size",
            "200",
        ],
        path: "/v1.0/me/mailFolders/inbox/messages/delta",
        prefer: Some("odata.maxpagesize=200"),
    };
    measure(&rt, &emu, &messages, runs, false);
}
