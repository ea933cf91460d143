//! Benchmark: the explorer's startup, frame time, memory, and input while fetching.
//!
//! Run: `cargo bench --bench tui_explorer` (env: `BENCH_RUNS`, default 20 startups;
//! `BENCH_CONTACTS`, default 100000; `BENCH_PAGE`, default 999 objects a page, the most Graph and the emulator serve).
//!
//! 1. Startup to the first frame: the real binary (`deltascope`, no arguments: embedded
//!    emulator + demo tenant) in a pseudo-terminal, from spawn to the first frame showing the
//!    title; median of `BENCH_RUNS` runs.
//! 2. Loaded through the real pipeline: an emulator process serves `BENCH_CONTACTS` contacts
//!    in pages of `BENCH_PAGE`; the explorer (runtime + engine executor, in this process) follows
//!    the whole round. Reported: load time, resident memory growth against the JSON bytes
//!    loaded, then the median time to draw a 200x60 frame with the last page in the JSON pane
//!    (scrolling), and with the object table focused.
//! 3. Input while a page is being fetched (emulator with 400 ms latency): time from a key to
//!    the frame that shows its effect, while the fetch is in flight.
//! 4. A session of `BENCH_REPLICA` objects (default 1000000, contact-like JSON in pages of
//!    999): the replica view's 200x60 frame while paging through it, its filter and sorts
//!    (worked out off the UI thread), and a search of every page for a value one object holds.
//! 5. The explorer resuming (`--resume`) a session of `BENCH_RESUME` contacts (default
//!    1000000) recorded by `deltascope sync --record`: from the first frame to the rounds back
//!    on screen, and the resident memory that takes.
//!
//! `BENCH_ONLY=5` (or `4,5`, …) runs only the parts named (1-3 run together).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::num::NonZeroU16;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use deltascope::emulator::EmulatorConfig;
use deltascope::tui::app::{Focus, JsonTarget, Msg, refresh_json, update};
use deltascope::tui::clipboard::RecordingClipboard;
use deltascope::tui::explore::{ExploreArgs, prepare};
use deltascope::tui::runtime::Runtime;
use deltascope::tui::ui;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use tokio::sync::{mpsc, watch};

const BIN: &str = env!("CARGO_BIN_EXE_deltascope");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p95(v: &mut [Duration]) -> Duration {
    v.sort();
    v[(v.len() * 95 / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// One start of the real binary in a pty: time to the first frame with the title.
fn startup_once() -> Duration {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 50,
            cols: 180,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(BIN);
    for var in ["DISPLAY", "WAYLAND_DISPLAY", "DELTASCOPE_GRAPH_ROOT"] {
        cmd.env_remove(var);
    }
    cmd.env("TERM", "xterm-256color");
    let started = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let shown = Arc::new((Mutex::new(None::<Duration>), Condvar::new()));
    let flag = shown.clone();
    std::thread::spawn(move || {
        let mut parser = vt100::Parser::new(
            NonZeroU16::new(50).unwrap(),
            NonZeroU16::new(180).unwrap(),
            0,
        );
        let mut buf = [0u8; 16384];
        loop {
            let n = reader.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return;
            }
            parser.process(&buf[..n]);
            let (lock, cv) = &*flag;
            let mut s = lock.lock().unwrap();
            if s.is_none()
                && parser
                    .screen()
                    .contents()
                    .contains("demo tenant on the embedded")
            {
                *s = Some(started.elapsed());
                cv.notify_all();
            }
        }
    });
    let (lock, cv) = &*shown;
    let guard = cv
        .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(20), |s| {
            s.is_none()
        })
        .unwrap()
        .0;
    let t = guard.expect("no first frame within 20 s");
    drop(guard);
    use std::io::Write;
    writer.write_all(b"q").unwrap();
    let _ = child.wait();
    t
}

struct EmulatorProcess {
    child: Child,
    base: String,
}

impl EmulatorProcess {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("emulator")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        EmulatorProcess { child, base }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[derive(Clone, Default)]
struct Frame {
    at: Option<Instant>,
    complete: bool,
    in_flight: bool,
    cursor: usize,
    pages: usize,
    /// A stored session's rounds are back (`--resume`).
    resumed: bool,
}

fn key_stream(
    rx: mpsc::UnboundedReceiver<Event>,
) -> impl futures_util::Stream<Item = Event> + Unpin {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }))
}

async fn wait_frame(seen: &mut watch::Receiver<Frame>, pred: impl Fn(&Frame) -> bool) -> Frame {
    tokio::time::timeout(Duration::from_secs(600), async {
        loop {
            {
                let f = seen.borrow_and_update();
                if pred(&f) {
                    return f.clone();
                }
            }
            seen.changed().await.unwrap();
        }
    })
    .await
    .expect("timed out")
}

/// Runs the explorer against `base` while `script` drives it; returns the runtime afterwards.
async fn with_explorer<F, Fut>(
    base: &str,
    script: F,
) -> Runtime<RecordingClipboard, deltascope::tui::engine::EngineExecutor>
where
    F: FnOnce(mpsc::UnboundedSender<Event>, watch::Receiver<Frame>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    with_explorer_on(base, None, script).await
}

/// [`with_explorer`], recording into (or, with `resume`, resuming from) `store` when given.
async fn with_explorer_on<F, Fut>(
    base: &str,
    resume: Option<&std::path::Path>,
    script: F,
) -> Runtime<RecordingClipboard, deltascope::tui::engine::EngineExecutor>
where
    F: FnOnce(mpsc::UnboundedSender<Event>, watch::Receiver<Frame>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // The emulator accepts any bearer token: name a variable that is always set (its value is
    // never printed) rather than setting one, which is unsafe in edition 2024.
    let args = ExploreArgs {
        graph_root: Some(base.to_owned()),
        auth: deltascope::auth::AuthArgs {
            token_env: Some("PATH".into()),
            ..Default::default()
        },
        keymap: Some("/nonexistent/keymap.toml".into()),
        // Recording on, as by default, into a file of the benchmark's own.
        store: deltascope::store::StoreArgs {
            store: Some(resume.map_or_else(
                || {
                    std::env::temp_dir()
                        .join(format!("deltascope-bench-{}.sqlite", std::process::id()))
                },
                |p| p.to_path_buf(),
            )),
            no_store: false,
        },
        resume: resume.map(|_| "latest".to_owned()),
        ..Default::default()
    };
    let explorer = prepare(&args, EmulatorConfig::default()).await.unwrap();
    let mut runtime = Runtime::new(
        explorer.model,
        RecordingClipboard::default(),
        explorer.engine,
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let (keys, keys_rx) = mpsc::unbounded_channel();
    let (tx, rx) = watch::channel(Frame::default());
    let run = runtime.run_observed(&mut terminal, key_stream(keys_rx), |m, _| {
        tx.send_replace(Frame {
            at: Some(Instant::now()),
            complete: m.rounds.first().is_some_and(|r| r.delta_link.is_some()),
            in_flight: m.fetch.in_flight(),
            cursor: m.query_cursor,
            pages: m.rounds.iter().map(|r| r.pages.len()).sum(),
            resumed: m.resumed.is_some() && !m.rounds.is_empty(),
        });
    });
    let (r, ()) = tokio::join!(run, script(keys, rx));
    r.unwrap();
    runtime
}

/// The objects and JSON bytes of every page the explorer holds.
fn loaded(m: &deltascope::tui::app::Model) -> (usize, u64) {
    m.rounds
        .iter()
        .flat_map(|r| r.pages.iter())
        .fold((0, 0), |(n, b), p| (n + p.item_count, b + p.bytes))
}

/// Whether part `n` runs: `BENCH_ONLY` lists the parts to run (e.g. `5` or `2,5`); all by
/// default.
fn part(n: u32) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |v| {
        v.split(',')
            .any(|p| p.trim().parse::<u32>().ok() == Some(n))
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if part(1) || part(2) || part(3) {
        parts_one_to_four(&rt);
    } else if part(4) {
        store_views(&baseline_frame());
    }
    if part(5) {
        resume_part(&rt);
    }
}

fn parts_one_to_four(rt: &tokio::runtime::Runtime) {
    // 1. Startup to the first frame.
    let runs = env_usize("BENCH_RUNS", 20);
    let _ = startup_once(); // warm the page cache
    let mut starts: Vec<Duration> = (0..runs).map(|_| startup_once()).collect();
    let min = *starts.iter().min().unwrap();
    let max = *starts.iter().max().unwrap();
    println!(
        "startup to first frame (real binary in a pty, embedded emulator, {runs} runs): median {}, min {}, max {}",
        ms(median(&mut starts)),
        ms(min),
        ms(max)
    );

    // 2. A big round through the real pipeline.
    let contacts = env_usize("BENCH_CONTACTS", 100_000);
    let page = env_usize("BENCH_PAGE", 999); // Graph pages hold at most 999
    let emu = EmulatorProcess::start(&[
        "--contacts",
        &contacts.to_string(),
        "--page-size",
        &page.to_string(),
    ]);
    let start = Arc::new(Mutex::new((0u64, Instant::now())));
    let mark = start.clone();
    let mut runtime = rt.block_on(with_explorer(&emu.base, |keys, mut seen| async move {
        // The explorer is up (client, TLS roots, first frame): measure from here.
        wait_frame(&mut seen, |f| f.at.is_some()).await;
        *mark.lock().unwrap() = (rss_bytes(), Instant::now());
        keys.send(key('F')).unwrap();
        wait_frame(&mut seen, |f| f.complete).await;
        keys.send(key('q')).unwrap();
    }));
    let (rss_before, loaded_at) = *start.lock().unwrap();
    let load = loaded_at.elapsed();
    let rss_after = rss_bytes();
    drop(emu);
    let m = &mut runtime.model;
    let pages: usize = m.rounds.iter().map(|r| r.pages.len()).sum();
    let (objects, json_bytes) = loaded(m);
    let grown = rss_after.saturating_sub(rss_before);
    let rows: usize = m
        .rounds
        .iter()
        .flat_map(|r| r.pages.iter())
        .flat_map(|p| p.rows.iter())
        .map(|r| r.footprint())
        .sum();
    println!(
        "  of which: page bodies {:.1} MB, table rows {:.1} MB (the engine's replica shares the page bodies)",
        json_bytes as f64 / 1e6,
        rows as f64 / 1e6
    );
    println!(
        "loaded {objects} objects in {pages} pages ({:.1} MB of JSON) in {:.2} s; resident memory grew {:.1} MB from the idle explorer = {:.2}x the JSON bytes (process RSS {:.1} MB)",
        json_bytes as f64 / 1e6,
        load.as_secs_f64(),
        grown as f64 / 1e6,
        grown as f64 / json_bytes.max(1) as f64,
        rss_after as f64 / 1e6
    );

    // Frame time, 200x60, a 1,000-object page in the JSON pane.
    m.size = (200, 60);
    m.sel_round = 0;
    m.sel_page = m.rounds[0].pages.len().saturating_sub(2);
    m.json_target = JsonTarget::Page;
    m.focus = Focus::Json;
    let t = Instant::now();
    refresh_json(m);
    // A large page is formatted off the UI thread: here, at once, to time it.
    if let Some(job) = m.json.take_job() {
        let h = m.json_height();
        m.json.formatted(job.seq, std::sync::Arc::new(job.run()), h);
    }
    let prepare_json = t.elapsed();
    // What the runtime does before each frame: update prepares the visible rows.
    let resize = || Msg::Resize {
        width: 200,
        height: 60,
    };
    update(m, resize());
    let lines = m.json.doc.line_count();
    // The baseline, measured in this run on this machine: ratatui alone drawing a 200x60
    // screen of text that changes every frame (the least any frame of that size costs).
    let base = baseline_frame();
    println!(
        "baseline: ratatui alone drawing a 200x60 screen of text: median {}",
        ms(base)
    );
    let ratio = |d: Duration| d.as_secs_f64() / base.as_secs_f64().max(1e-9);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut times = Vec::new();
    for i in 0..500usize {
        m.json.top = (i * 37) % lines.saturating_sub(60).max(1);
        let t = Instant::now();
        terminal.draw(|f| ui::draw(f, m)).unwrap();
        times.push(t.elapsed());
    }
    let med = median(&mut times);
    println!(
        "frame 200x60, JSON pane on a {}-object page ({lines} lines, pretty-printed once in {}): median {} ({:.2}x the baseline), p95 {}",
        m.rounds[0].pages[m.sel_page].item_count,
        ms(prepare_json),
        ms(med),
        ratio(med),
        ms(p95(&mut times))
    );
    m.focus = Focus::Results;
    let mut times = Vec::new();
    for i in 0..500usize {
        m.sel_row = (i * 13) % 1000;
        m.row_offset = m.sel_row.saturating_sub(10);
        update(m, resize());
        let t = Instant::now();
        terminal.draw(|f| ui::draw(f, m)).unwrap();
        times.push(t.elapsed());
    }
    let med = median(&mut times);
    println!(
        "frame 200x60, object table focused and scrolling: median {} ({:.2}x the baseline), p95 {}",
        ms(med),
        ratio(med),
        ms(p95(&mut times))
    );
    // The pass over every frame that keeps control characters off the terminal, alone.
    let drawn = terminal.backend().buffer().clone();
    let mut times = Vec::new();
    for _ in 0..500 {
        let mut buf = drawn.clone();
        let t = Instant::now();
        ui::scrub(&mut buf);
        times.push(t.elapsed());
    }
    println!(
        "  of which the scrub of a 200x60 frame (control characters and bidi controls): median {}",
        ms(median(&mut times))
    );
    drop(runtime);

    if part(4) {
        store_views(&base);
    }

    // 3. Input while a page is being fetched.
    let slow = EmulatorProcess::start(&["--latency-ms", "400"]);
    rt.block_on(with_explorer(&slow.base, |keys, mut seen| async move {
        keys.send(key('f')).unwrap();
        wait_frame(&mut seen, |f| f.in_flight).await;
        let mut lat = Vec::new();
        let mut during = 0;
        for i in 0..20 {
            let sent = Instant::now();
            keys.send(key(if i % 2 == 0 { 'j' } else { 'k' })).unwrap();
            let want = if i % 2 == 0 { 1 } else { 0 };
            let f = wait_frame(&mut seen, |f| f.cursor == want).await;
            if f.in_flight && f.pages == 0 {
                during += 1;
            }
            lat.push(f.at.unwrap().saturating_duration_since(sent));
        }
        let max = *lat.iter().max().unwrap();
        println!(
            "key to frame while a page is being fetched (400 ms latency; {during}/20 keys answered before the page arrived): median {}, max {}",
            ms(median(&mut lat)),
            ms(max)
        );
        wait_frame(&mut seen, |f| f.pages == 1).await;
        keys.send(key('q')).unwrap();
    }));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(std::env::temp_dir().join(format!(
            "deltascope-bench-{}.sqlite{suffix}",
            std::process::id()
        )));
    }
}

/// Part 5: the explorer reopening a recorded session of `BENCH_RESUME` contacts (default
/// 1,000,000) with `--resume`: recorded once by the real `deltascope sync --record` against an
/// emulator process, then resumed three times; from the explorer's first frame to its rounds
/// back on screen (the store read, the engine's replay and every page's rows), and the
/// resident memory that takes against the JSON bytes.
fn resume_part(rt: &tokio::runtime::Runtime) {
    let n = env_usize("BENCH_RESUME", 1_000_000);
    let emu = EmulatorProcess::start(&["--contacts", &n.to_string(), "--page-size", "999"]);
    let store = std::env::temp_dir().join(format!(
        "deltascope-bench-resume-{}.sqlite",
        std::process::id()
    ));
    let t = Instant::now();
    let recorded = Command::new(BIN)
        .args([
            "sync",
            "--resource",
            "contacts",
            "--graph-root",
            &emu.base,
            "--record",
            "--quiet",
        ])
        .arg("--store")
        .arg(&store)
        .env("DELTASCOPE_TOKEN", "bench-token")
        .env_remove("DELTASCOPE_STORE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(recorded.success(), "sync --record failed");
    println!(
        "resume: {n} contacts recorded by sync --record in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for run in 0..3 {
        let before = rss_bytes();
        // (resident memory once resumed, from the first frame to the rounds back)
        let mark = Arc::new(Mutex::new((0u64, Duration::ZERO)));
        let m2 = mark.clone();
        let runtime = rt.block_on(with_explorer_on(
            &emu.base,
            Some(&store),
            |keys, mut seen| async move {
                let first = wait_frame(&mut seen, |f| f.at.is_some()).await;
                let done = wait_frame(&mut seen, |f| f.resumed).await;
                let took = done
                    .at
                    .unwrap()
                    .saturating_duration_since(first.at.unwrap());
                *m2.lock().unwrap() = (rss_bytes(), took);
                keys.send(key('q')).unwrap();
            },
        ));
        let (rss_after, took) = *mark.lock().unwrap();
        let m = &runtime.model;
        let (objects, json) = loaded(m);
        let grown = rss_after.saturating_sub(before);
        println!(
            "resume {run}: {objects} objects ({:.0} MB of JSON) back on screen {} after the first frame; resident memory +{:.0} MB = {:.2}x the JSON",
            json as f64 / 1e6,
            ms(took),
            grown as f64 / 1e6,
            grown as f64 / json.max(1) as f64
        );
        times.push(took);
        drop(runtime);
    }
    println!(
        "the explorer resuming {n} contacts: median {} from the first frame to the rounds on screen (goal: the replica ready in under 3 s)",
        ms(median(&mut times))
    );
    drop(emu);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = store.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Ratatui alone drawing a 200x60 screen of text that changes every frame: median.
fn baseline_frame() -> Duration {
    let filler: Vec<Line> = (0..60)
        .map(|i| Line::raw(format!("{i:>4} {}", "x".repeat(200))))
        .collect();
    let mut bare = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut base = Vec::new();
    for i in 0..500u16 {
        let text = Paragraph::new(filler.clone()).scroll((0, i % 7));
        let t = Instant::now();
        bare.draw(|f| f.render_widget(text, f.area())).unwrap();
        base.push(t.elapsed());
    }
    median(&mut base)
}

/// 4. The replica view and the session search over a large session.
fn store_views(base: &Duration) {
    use deltascope::graph::replica::ObjectState;
    use deltascope::tui::app::{Mode, Model, NoPreview};
    use deltascope::tui::view::search::search;
    use deltascope::tui::view::{ObjectRow, ReplicaRow, ReplicaView, SearchPage, SharedText};
    let n = env_usize("BENCH_REPLICA", 1_000_000);
    let per_page = 999;
    let mut pages = Vec::new();
    let mut rows = Vec::with_capacity(n);
    let mut json_bytes = 0usize;
    let mut made = 0;
    while made < n {
        let count = per_page.min(n - made);
        let mut body = String::from("{\"value\":[");
        let mut spans = Vec::with_capacity(count);
        let mut ids = Vec::with_capacity(count);
        for k in 0..count {
            let i = made + k;
            if k > 0 {
                body.push(',');
            }
            let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i * 7919);
            let start = body.len();
            body.push_str(&format!(
                "{{\"id\":\"{id}\",\"displayName\":\"Person {i}\",\"mail\":\"person{i}@contoso.com\",\"companyName\":\"Contoso {}\",\"department\":\"Dept {}\",\"jobTitle\":\"Title {}\"}}",
                i % 97,
                i % 13,
                i % 31
            ));
            spans.push(start..body.len());
            ids.push(id);
        }
        body.push_str("],\"@odata.nextLink\":\"https://graph.microsoft.com/v1.0/contacts/delta?$skiptoken=x\"}");
        json_bytes += body.len();
        let buf = bytes::Bytes::from(body);
        for (span, id) in spans.iter().zip(&ids) {
            rows.push(ReplicaRow {
                id: id.as_str().into(),
                state: if rows.len() % 50 == 0 {
                    ObjectState::SoftDeleted
                } else {
                    ObjectState::Live
                },
                round: 1,
                row: ObjectRow::from_json(SharedText::new(&buf, span.clone()), false, false),
            });
        }
        pages.push(SearchPage {
            round_index: 0,
            page_index: pages.len(),
            round: 1,
            page: pages.len() as u32 + 1,
            body: SharedText::whole(&buf),
            rows: spans,
            ids,
        });
        made += count;
    }
    println!(
        "a session of {n} objects ({:.0} MB of JSON, {} pages):",
        json_bytes as f64 / 1e6,
        pages.len()
    );
    let soft = rows
        .iter()
        .filter(|r| r.state == ObjectState::SoftDeleted)
        .count();
    let view = ReplicaView {
        live: n - soft,
        soft_deleted: soft,
        hard_deleted: 0,
        rows,
    };
    let mut m = Model::new(
        deltascope::tui::engine::query_view(deltascope::graph::Catalog::builtin()),
        deltascope::tui::keymap::Keymap::default(),
        Box::new(NoPreview),
    );
    update(
        &mut m,
        Msg::Resize {
            width: 200,
            height: 60,
        },
    );
    m.query.frozen = true;
    m.columns = [
        "displayName",
        "mail",
        "companyName",
        "department",
        "jobTitle",
    ]
    .map(String::from)
    .to_vec();
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('v'), KeyModifiers::NONE)),
    );
    let t = Instant::now();
    update(&mut m, Msg::Replica(Box::new(view)));
    let opened = t.elapsed();
    assert_eq!(m.mode, Mode::Replica);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut times = Vec::new();
    for i in 0..500 {
        let code = if i % 50 == 49 {
            KeyCode::Home
        } else {
            KeyCode::PageDown
        };
        update(&mut m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let t = Instant::now();
        terminal.draw(|f| ui::draw(f, &m)).unwrap();
        times.push(t.elapsed());
    }
    let med = median(&mut times);
    println!(
        "  replica view of {n} objects: shown in {} after the snapshot came; frame 200x60 while paging: median {} ({:.2}x the baseline {}), p95 {}",
        ms(opened),
        ms(med),
        med.as_secs_f64() / base.as_secs_f64().max(1e-9),
        ms(*base),
        ms(p95(&mut times))
    );
    // Filtering and sorting the view: worked out off the UI thread (`Effect::ArrangeReplica`),
    // timed here as that task runs it.
    if let Some(view) = m.replica.clone() {
        use deltascope::tui::view::replica::{ReplicaOrder, ReplicaSort, arrange};
        let time = |order: ReplicaOrder| {
            let mut times = Vec::new();
            let mut shown = 0;
            for _ in 0..3 {
                let t = Instant::now();
                shown = arrange(&view, &order).len();
                times.push(t.elapsed());
            }
            (median(&mut times), shown)
        };
        let (filter, kept) = time(ReplicaOrder {
            filter: format!("Person {}", n / 2),
            ..Default::default()
        });
        let (by_state, _) = time(ReplicaOrder {
            sort: ReplicaSort::State,
            ..Default::default()
        });
        let (by_name, _) = time(ReplicaOrder {
            sort: ReplicaSort::Column("displayName".into()),
            ..Default::default()
        });
        println!(
            "  replica view of {n} objects arranged off the UI thread: filter {} ({kept} kept), by state {}, by the displayName column {} (medians of 3)",
            ms(filter),
            ms(by_state),
            ms(by_name)
        );
    }
    let needle = format!("Person {}\"", n / 2);
    let mut times = Vec::new();
    let mut hits = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let found = search(&needle, &pages);
        times.push(t.elapsed());
        hits = found.total;
    }
    let lower = format!("person{}@", n / 3);
    let mut ci = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let _ = search(&lower, &pages);
        ci.push(t.elapsed());
    }
    println!(
        "  search of every page for {needle:?} ({hits} hit): median {} (exact case); for {lower:?} (any case): median {}",
        ms(median(&mut times)),
        ms(median(&mut ci))
    );
}
