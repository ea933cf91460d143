//! Benchmark: what the session store costs and how fast a stored session comes back.
//!
//! Run: `cargo bench --bench session_store` (env: `BENCH_CONTACTS`, default 100000; `BENCH_RUNS`,
//! default 7; `BENCH_BIG_CONTACTS`, default 1000000, 0 to leave the big session out).
//!
//! 1. Recording: `deltascope sync` of a full contacts round, with and without `--record`,
//!    interleaved run by run against the same emulator process; the median of each and of the
//!    run-by-run ratio (the baseline is the same sync without recording, measured in the same
//!    run). Then the store file's size against the JSON bytes it holds.
//! 2. Reopening: a session of `BENCH_BIG_CONTACTS` contacts recorded once by `sync --record`,
//!    then opened, read and replayed into the engine (the replica ready, as `--resume` does),
//!    timed in this process, with the resident memory it took against the JSON bytes.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_deltascope");

#[path = "support/emulator.rs"]
mod emulator;
use emulator::Emulator;

/// One `sync` of a full round (`record`: into `store`); wall time and JSON bytes.
fn sync(base: &str, record: Option<&Path>) -> (f64, u64) {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "sync",
        "--resource",
        "contacts",
        "--graph-root",
        base,
        "--stats",
        "--quiet",
    ])
    .env("DELTASCOPE_TOKEN", "bench-token")
    .env_remove("DELTASCOPE_STORE")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(store) = record {
        cmd.arg("--record").arg("--store").arg(store);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run deltascope sync");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sync failed: {stderr}");
    let stats: serde_json::Value = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stats: "))
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("sync printed its stats");
    (seconds, stats["bytes"].as_u64().unwrap_or(0))
}

/// The store's bytes on disk (the file and its WAL).
fn store_bytes(store: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut p = store.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(PathBuf::from(p)).ok()
        })
        .map(|m| m.len())
        .sum()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("session_store: run with `cargo bench --bench session_store`");
        return;
    }
    let contacts = env_or("BENCH_CONTACTS", 100_000);
    let runs = env_or("BENCH_RUNS", 7).max(1);
    let big = env_or("BENCH_BIG_CONTACTS", 1_000_000);
    let dir = std::env::temp_dir().join(format!("deltascope-bench-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let emu = Emulator::start(contacts);
    println!(
        "emulator at {} with {contacts} contacts; {runs} runs each",
        emu.base
    );
    let _ = sync(&emu.base, None);
    let (mut plain, mut recorded, mut ratios, mut sizes) = (vec![], vec![], vec![], vec![]);
    let mut json = 0;
    for run in 0..runs {
        let store = dir.join(format!("run-{run}.sqlite"));
        // Alternate which goes first, so that neither always runs on a warmer machine.
        let ((p, bytes), (r, _)) = if run % 2 == 0 {
            let p = sync(&emu.base, None);
            (p, sync(&emu.base, Some(&store)))
        } else {
            let r = sync(&emu.base, Some(&store));
            (sync(&emu.base, None), r)
        };
        json = bytes;
        let size = store_bytes(&store);
        println!(
            "run {run}: sync {p:.3}s, sync --record {r:.3}s ({:.2}x), store {:.1} MiB for {:.1} MiB of JSON",
            r / p,
            size as f64 / 1048576.0,
            bytes as f64 / 1048576.0
        );
        plain.push(p);
        recorded.push(r);
        ratios.push(r / p);
        sizes.push(size as f64 / bytes as f64);
        let _ = std::fs::remove_file(&store);
        let _ = std::fs::remove_file(store.with_extension("sqlite-wal"));
        let _ = std::fs::remove_file(store.with_extension("sqlite-shm"));
    }
    let (p, r) = (median(&mut plain), median(&mut recorded));
    println!();
    println!("| {contacts} contacts, full round | median wall time | vs sync without the store |");
    println!("| --- | ---: | ---: |");
    println!("| deltascope sync (baseline) | {p:.3} s | 1.00x |");
    println!("| deltascope sync --record | {r:.3} s | {:.2}x |", r / p);
    println!(
        "run-by-run ratio: median {:.2}x; store size {:.2}x the {:.1} MiB of JSON it holds",
        median(&mut ratios),
        median(&mut sizes),
        json as f64 / 1048576.0
    );
    drop(emu);
    if big == 0 {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }

    // The big session: recorded once, then reopened and replayed here.
    let emu = Emulator::start(big);
    let store = dir.join("big.sqlite");
    let (secs, bytes) = sync(&emu.base, Some(&store));
    drop(emu);
    println!();
    println!(
        "recorded {big} contacts ({:.0} MiB of JSON) in {secs:.1} s; store {:.2}x the JSON",
        bytes as f64 / 1048576.0,
        store_bytes(&store) as f64 / bytes as f64
    );
    let mut times = Vec::new();
    for i in 0..3 {
        let before = rss_bytes();
        let t = Instant::now();
        let st = deltascope::store::Store::open(&store).expect("open the store");
        let id = st.latest_session().expect("sessions").expect("a session");
        let stored = st.load(id).expect("load the session");
        let replayed = deltascope::store::replay::replay(stored, Default::default());
        let took = t.elapsed().as_secs_f64();
        let grown = rss_bytes().saturating_sub(before);
        assert_eq!(replayed.session.replica().len(), big);
        println!(
            "reopen {i}: {took:.2} s to the replica ready ({} objects); resident memory +{:.0} MiB, {:.2}x the JSON",
            replayed.session.replica().len(),
            grown as f64 / 1048576.0,
            grown as f64 / bytes as f64
        );
        times.push(took);
        drop(replayed);
    }
    println!(
        "reopening {big} contacts: median {:.2} s (goal: under 3 s)",
        median(&mut times)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
