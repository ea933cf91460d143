//! The session store through the real explorer and the real `sync` binary, against an emulator
//! over loopback HTTP: fetch, quit, reopen, resume, the next round; an object's history across
//! soft deletion, restore and hard deletion; exports; a damaged store; a store written by
//! `sync --record`; no token in the file.
#![allow(clippy::unwrap_used)]

mod support;

use crossterm::event::KeyCode;
use deltascope::auth::AuthArgs;
use deltascope::emulator::{Emulator, EmulatorConfig};
use deltascope::store::StoreArgs;
use deltascope::tui::app::{Mode, Model};
use deltascope::tui::explore::{ExploreArgs, prepare};
use deltascope::tui::runtime::Runtime;
use deltascope::tui::view::FetchState;
use deltascope::tui::view::replica::ReplicaSort;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use support::explorer::{Frame, SharedClipboard, run_scripted, screen_text};

#[derive(Clone, Debug, Default)]
struct Seen {
    screen: String,
    /// (round number, pages, summary line present, deltaLink present)
    rounds: Vec<(u32, usize, bool, bool)>,
    complete: bool,
    in_flight: bool,
    status: String,
    selected_id: String,
    mode: String,
    history: Vec<String>,
    history_unavailable: Option<String>,
    resumed: Option<i64>,
    sessions: usize,
    sessions_unavailable: Option<String>,
    recording: Option<Result<i64, String>>,
    /// The selected round's number.
    round_selected: u32,
    /// Rows of the replica view (all, shown).
    replica: Option<(usize, usize)>,
    /// The replica view sorted by a column: its name and the shown rows' values of it.
    replica_column: Option<(String, Vec<String>)>,
    /// The replica view's order as its title says it, and the table's columns.
    replica_order: String,
    columns: Vec<String>,
    jq_shown: Option<String>,
}

impl Frame for Seen {
    fn context(&self) -> String {
        format!(
            "status: {}\nrounds: {:?}\nmode: {}\nhistory: {:#?}\n{}",
            self.status, self.rounds, self.mode, self.history, self.screen
        )
    }
}

fn observe(m: &Model, t: &Terminal<TestBackend>, _prev: &Seen) -> Seen {
    Seen {
        screen: screen_text(t),
        rounds: m
            .rounds
            .iter()
            .map(|r| {
                (
                    r.number,
                    r.fetched().count(),
                    r.summary_line.is_some(),
                    r.delta_link.is_some(),
                )
            })
            .collect(),
        complete: matches!(m.fetch.state, FetchState::RoundComplete { .. }),
        in_flight: m.fetch.in_flight(),
        status: m.notice_text().unwrap_or_default().to_owned(),
        selected_id: m
            .selected_page()
            .and_then(|p| p.rows.get(m.sel_row))
            .map(|r| r.id().to_owned())
            .unwrap_or_default(),
        mode: format!("{:?}", m.mode),
        history: m
            .history
            .as_ref()
            .map(|h| h.lines.iter().map(|(_, l)| l.clone()).collect())
            .unwrap_or_default(),
        history_unavailable: m.history.as_ref().and_then(|h| h.unavailable.clone()),
        resumed: m.resumed,
        sessions: m.sessions.as_ref().map_or(0, |s| s.entries.len()),
        recording: m.recording.clone(),
        round_selected: m.selected_round().map_or(0, |r| r.number),
        replica: m
            .replica
            .as_ref()
            .map(|v| (v.rows.len(), m.replica_shown.len())),
        replica_column: match (&m.replica, &m.replica_order.sort) {
            (Some(v), ReplicaSort::Column(c)) if m.replica_arranging.is_none() => Some((
                c.clone(),
                m.replica_shown
                    .iter()
                    .filter_map(|&i| v.rows.get(i))
                    .map(|r| r.row.shown().cell(c).unwrap_or("").to_owned())
                    .collect(),
            )),
            _ => None,
        },
        replica_order: m.replica_order.describe(),
        columns: m.columns.clone(),
        jq_shown: m.jq_shown.clone(),
        sessions_unavailable: m.sessions.as_ref().and_then(|s| s.unavailable.clone()),
    }
}

type Driver = support::explorer::Driver<Seen, ()>;

/// An emulator on loopback with `contacts` demo contacts.
async fn emulator(contacts: usize) -> Emulator {
    deltascope::emulator::start(
        EmulatorConfig {
            contacts,
            ..Default::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap()
}

/// A directory of its own, removed at the end.
struct TempDir(std::path::PathBuf);
impl TempDir {
    fn new(what: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "deltascope-{what}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bearer token: any works on the emulator; a variable that is always set (its value must
/// never reach the store).
const TOKEN_ENV: &str = "PATH";

fn args(emu: &Emulator, store: &std::path::Path, resume: Option<&str>) -> ExploreArgs {
    ExploreArgs {
        graph_root: Some(emu.base_url()),
        auth: AuthArgs {
            token_env: Some(TOKEN_ENV.into()),
            ..Default::default()
        },
        keymap: Some("/nonexistent/deltascope-test-keymap.toml".into()),
        store: StoreArgs {
            store: Some(store.to_owned()),
            no_store: false,
        },
        resume: resume.map(str::to_owned),
        ..Default::default()
    }
}

async fn explore<F, Fut>(args: ExploreArgs, script: F)
where
    F: FnOnce(Driver) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let explorer = prepare(&args, EmulatorConfig::default()).await.unwrap();
    let mut runtime = Runtime::new(explorer.model, SharedClipboard::default(), explorer.engine);
    run_scripted(&mut runtime, (200, 50), observe, (), script).await;
}

fn round_done(s: &Seen, n: u32) -> bool {
    s.rounds.iter().any(|r| r.0 == n && r.2 && r.3) && s.complete && !s.in_flight
}

impl Driver {
    /// Moves the selection down the page until `id` is selected.
    async fn select(&mut self, id: &str) {
        self.press('2');
        for _ in 0..50 {
            let s = self.seen.borrow().clone();
            if s.selected_id == id {
                return;
            }
            let before = s.selected_id.clone();
            self.press('j');
            self.wait("the selection moves", |s| s.selected_id != before)
                .await;
        }
        panic!("{id} is not on the selected page");
    }

    /// Opens the selected object's history and returns its lines.
    async fn history(&mut self) -> Vec<String> {
        self.press('t');
        let s = self
            .wait("the history", |s| {
                s.mode == "History" && (!s.history.is_empty() || s.history_unavailable.is_some())
            })
            .await;
        assert!(s.history_unavailable.is_none(), "{}", s.context());
        assert!(s.screen.contains("History of "), "{}", s.context());
        self.key(KeyCode::Esc);
        self.wait("the history closed", |s| s.mode == "Normal")
            .await;
        s.history
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_quit_reopen_resume_and_go_on_with_each_objects_history() {
    let dir = TempDir::new("store-flow");
    let store = dir.0.join("sessions.sqlite");
    let emu = emulator(30).await;
    let c = emu.control();
    let (a, b, gone) = (c.contact_id(0), c.contact_id(1), c.contact_id(2));

    let (a2, b2, gone2) = (a.clone(), b.clone(), gone.clone());
    let c2 = c.clone();
    explore(args(&emu, &store, None), |mut d| async move {
        let (a, b, gone, c) = (a2, b2, gone2, c2);
        d.press('F');
        d.wait("round 1", |s| round_done(s, 1)).await;
        c.update_contact(&a, &json!({"displayName": "Renamed Once"}))
            .unwrap();
        c.soft_delete_contact(&b).unwrap();
        d.press('r');
        d.wait("round 2", |s| round_done(s, 2)).await;
        // What round 2 holds that a sync must handle, in the spec's words.
        d.press('e');
        let s = d
            .wait("round 2 explained", |s| {
                s.mode == "History" && !s.history.is_empty()
            })
            .await;
        let text = s.history.join("\n");
        assert!(s.screen.contains("Round 2 explained"), "{}", s.screen);
        assert!(text.contains("a round of changes"), "{text}");
        assert!(
            text.contains("1 object removed with reason \"changed\": soft-deleted"),
            "{text}"
        );
        assert!(!text.contains("duplicate"), "{text}");
        d.key(KeyCode::Esc);
        d.wait("closed", |s| s.mode == "Normal").await;
        c.restore_contact(&b).unwrap();
        c.hard_delete_contact(&gone).unwrap();
        d.press('r');
        d.wait("round 3", |s| round_done(s, 3)).await;
        d.select(&b).await;
        let lines = d.history().await;
        let text = lines.join("\n");
        assert!(text.contains("round 1, page 1"), "{text}");
        assert!(text.contains("first seen in a full round"), "{text}");
        assert!(
            text.contains("round 2, page 1") && text.contains("@removed, reason \"changed\""),
            "{text}"
        );
        assert!(text.contains("soft-deleted (restorable"), "{text}");
        assert!(
            text.contains("round 3, page 1")
                && text.contains("restored: back after its soft deletion in round 2"),
            "{text}"
        );
        d.select(&gone).await;
        let text = d.history().await.join("\n");
        assert!(
            text.contains("reason \"deleted\": deleted for good"),
            "{text}"
        );

        // Search every page: the renamed contact is in round 2 only; enter goes to it.
        d.press('/');
        for ch in "renamed once".chars() {
            d.press(ch);
        }
        d.key(KeyCode::Enter);
        let s = d
            .wait("the hits", |s| {
                s.mode == "Found" && s.screen.contains("1 hit for")
            })
            .await;
        assert!(
            s.screen.contains(&format!("round 2 · page 1 · {a}: ")),
            "{}",
            s.screen
        );
        d.key(KeyCode::Enter);
        let s = d
            .wait("the hit selected", |s| {
                s.mode == "Normal" && s.selected_id == a
            })
            .await;
        assert!(s.screen.contains("Renamed Once"), "{}", s.screen);
        // Compare rounds 3 and 1: the replica at the end of each.
        d.press('>');
        d.wait("round 3 selected", |s| s.round_selected == 3).await;
        d.press('c');
        d.wait("marked", |s| s.status.contains("round 3 marked")).await;
        d.press('[');
        d.wait("round 2 selected", |s| s.round_selected == 2).await;
        d.press('[');
        d.wait("round 1 selected", |s| s.round_selected == 1).await;
        d.press('c');
        let s = d
            .wait("the comparison", |s| s.mode == "History" && !s.history.is_empty())
            .await;
        let text = s.history.join("\n");
        assert!(s.screen.contains("Round 1 → round 3"), "{}", s.screen);
        assert!(
            text.contains("30 objects at the end of round 1 to 29 at the end of round 3: 0 added, 1 changed, 1 removed"),
            "{text}"
        );
        assert!(text.contains(&format!("~ {a}")), "{text}");
        assert!(text.contains("displayName: ") && text.contains("→ \"Renamed Once\""), "{text}");
        assert!(text.contains(&format!("− {gone}")), "{text}");
        d.key(KeyCode::Esc);
        d.wait("closed", |s| s.mode == "Normal").await;
        // The replica: every object with its state and the round that last changed it.
        d.press('v');
        let s = d
            .wait("the replica", |s| s.mode == "Replica" && s.replica.is_some())
            .await;
        assert_eq!(s.replica, Some((30, 30)));
        assert!(
            s.screen.contains("29 live · 0 soft-deleted · 1 deleted for good"),
            "{}",
            s.screen
        );
        assert!(s.screen.contains("hard-deleted"), "{}", s.screen);
        // Sorted by state, then by the round of the last change (newest first).
        d.press('o');
        d.wait("by state", |s| s.screen.contains("· by state (o sorts")).await;
        d.press('o');
        let s = d
            .wait("by round", |s| s.screen.contains("by the round of the last change"))
            .await;
        let first_row = s
            .screen
            .lines()
            .find(|l| l.contains("▶ "))
            .unwrap_or_default()
            .to_owned();
        assert!(first_row.contains("    3 "), "{first_row}");
        // Then by each of the table's columns (worked out off the UI thread), reversed with O.
        d.press('o');
        let s = d
            .wait("by a column", |s| s.replica_column.is_some())
            .await;
        let (column, values) = s.replica_column.clone().unwrap();
        assert_eq!(values.len(), 30);
        let lower: Vec<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
        let present: Vec<&String> = lower.iter().filter(|v| !v.is_empty()).collect();
        assert!(
            present.windows(2).all(|w| w[0] <= w[1]),
            "sorted by {column}: {values:?}"
        );
        assert!(
            lower.iter().skip_while(|v| !v.is_empty()).all(|v| v.is_empty()),
            "objects without {column} last: {values:?}"
        );
        assert!(s.screen.contains(&format!("by {column}")), "{}", s.screen);
        d.press('O');
        let s = d
            .wait("reversed", |s| {
                s.screen.contains("reversed") && s.replica_column.is_some()
            })
            .await;
        let mut back = s.replica_column.clone().unwrap().1;
        back.reverse();
        assert_eq!(back, values, "O reverses the order");
        d.press('O');
        let columns = s.columns.clone();
        let k = columns.iter().position(|c| *c == column).unwrap();
        for next in columns.iter().skip(k + 1) {
            d.press('o');
            let want = format!("by {next}");
            d.wait(&want, |s| s.replica_order == want).await;
        }
        d.press('o');
        d.wait("by id again", |s| s.screen.contains("· by id (o sorts")).await;
        d.press('/');
        for ch in "renamed".chars() {
            d.press(ch);
        }
        d.key(KeyCode::Enter);
        let s = d
            .wait("filtered", |s| s.mode == "Replica" && s.replica == Some((30, 1)))
            .await;
        assert!(s.screen.contains("filter \"renamed\": 1 shown"), "{}", s.screen);
        d.press('t');
        let s = d
            .wait("its history", |s| s.mode == "History" && !s.history.is_empty())
            .await;
        assert!(s.screen.contains(&format!("History of {a}")), "{}", s.screen);
        // Why it is not in round 3, in the rules' words.
        let text = s.history.join("\n");
        assert!(
            text.contains("round 3: not in it: nothing Graph tracks about it changed since round 2: the resource's default properties are tracked"),
            "{text}"
        );
        d.key(KeyCode::Esc);
        d.wait("closed", |s| s.mode == "Normal").await;
        // A jq filter over the replica (from its view): its output in the JSON pane.
        d.press('v');
        d.wait("the replica again", |s| s.mode == "Replica" && s.replica.is_some())
            .await;
        d.press('|');
        for ch in r#"map(select(.displayName == "Renamed Once")) | length"#.chars() {
            d.press(ch);
        }
        d.key(KeyCode::Enter);
        let s = d.wait("the jq output", |s| s.jq_shown.is_some()).await;
        assert!(s.jq_shown.as_deref().unwrap().ends_with(": 1 value"), "{:?}", s.jq_shown);
        assert!(s.screen.contains("jq map(select("), "{}", s.screen);
        // And over the selected page.
        d.press('|');
        for _ in 0..60 {
            d.key(KeyCode::Backspace);
        }
        for ch in "[.value[].id] | length".chars() {
            d.press(ch);
        }
        d.key(KeyCode::Enter);
        let s = d
            .wait("the page's jq output", |s| {
                s.jq_shown.as_deref().is_some_and(|j| j.starts_with("jq [.value[].id]"))
            })
            .await;
        assert!(s.jq_shown.as_deref().unwrap().ends_with(": 1 value"), "{:?}", s.jq_shown);
        d.press('q');
    })
    .await;

    // Reopened: the newest session comes back with its three rounds, and goes on.
    c.update_contact(&a, &json!({"displayName": "Renamed Twice"}))
        .unwrap();
    let a3 = a.clone();
    explore(args(&emu, &store, Some("latest")), |mut d| async move {
        let a = a3;
        let s = d
            .wait("the session resumed", |s| {
                s.resumed.is_some() && s.rounds.len() == 3 && s.complete
            })
            .await;
        assert!(
            s.status.contains("resumed session #1 (3 rounds)"),
            "{}",
            s.status
        );
        assert!(
            s.status.contains("directory tokens live about 7 days"),
            "{}",
            s.status
        );
        assert!(
            s.screen.contains("Round 3 · changes · complete"),
            "{}",
            s.screen
        );
        d.press('r');
        d.wait("round 4, from the stored deltaLink", |s| round_done(s, 4))
            .await;
        d.select(&a).await;
        let text = d.history().await.join("\n");
        assert!(
            text.contains("displayName: \"Renamed Once\" → \"Renamed Twice\""),
            "{text}"
        );
        assert!(text.contains("round 4, page 1"), "{text}");
        // The picker lists the one session, resumable here.
        d.press('s');
        let s = d.wait("the picker", |s| s.sessions == 1).await;
        assert!(s.screen.contains("Stored sessions"), "{}", s.screen);
        assert!(s.screen.contains("#1 contacts (v1.0)"), "{}", s.screen);
        assert!(s.screen.contains("4 rounds"), "{}", s.screen);
        d.key(KeyCode::Esc);
        d.press('q');
    })
    .await;
    emu.shutdown().await;

    // Nothing secret in the file (nor in its WAL).
    let token = std::env::var(TOKEN_ENV).unwrap();
    for name in ["sessions.sqlite", "sessions.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(dir.0.join(name)) {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "{name} holds the token"
            );
            assert!(
                !bytes
                    .windows(20)
                    .any(|w| w.eq_ignore_ascii_case(b"authorization\",\"bear")),
                "{name} holds an Authorization header"
            );
        }
    }
    let st = deltascope::store::Store::open(&store).unwrap();
    let sessions = st.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].rounds, 4);
    assert_eq!(sessions[0].origin, "explorer");
    let _ = Mode::Normal;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_store_is_said_and_the_explorer_runs_without_it() {
    let dir = TempDir::new("store-damaged");
    let store = dir.0.join("sessions.sqlite");
    std::fs::write(&store, b"not a database at all, just text ".repeat(200)).unwrap();
    let emu = emulator(5).await;
    // --resume asks for the store: refused before the terminal is taken, with the reason.
    let e = prepare(
        &args(&emu, &store, Some("latest")),
        EmulatorConfig::default(),
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("is damaged") && e.contains("move it aside"),
        "{e}"
    );
    explore(args(&emu, &store, None), |mut d| async move {
        d.press('F');
        let s = d.wait("round 1", |s| round_done(s, 1)).await;
        // Said for as long as it lasts, and why on the sessions key.
        assert!(
            s.screen.contains("✗ not recording (s: why)"),
            "{}",
            s.screen
        );
        assert!(
            s.recording
                .as_ref()
                .unwrap()
                .as_ref()
                .unwrap_err()
                .contains("is damaged")
        );
        d.press('s');
        let s = d
            .wait("the picker says why", |s| {
                s.screen.contains("Stored sessions") && s.sessions_unavailable.is_some()
            })
            .await;
        assert!(s.screen.contains("is damaged"), "{}", s.screen);
        d.press('q');
    })
    .await;
    // The file is left as it was.
    assert!(
        std::fs::read(&store)
            .unwrap()
            .starts_with(b"not a database")
    );
    emu.shutdown().await;
}

/// `deltascope sync --record` into `store`, against `root`: its stderr.
fn sync_record(root: &str, store: &std::path::Path, state: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deltascope"))
        .args([
            "sync",
            "--record",
            "--quiet",
            "--graph-root",
            root,
            "--token-env",
            "PATH",
        ])
        .arg("--store")
        .arg(store)
        .arg("--state")
        .arg(state)
        .env_remove("DELTASCOPE_STORE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_recorded_by_sync_open_in_the_explorer_while_it_records_its_own() {
    let dir = TempDir::new("store-sync");
    let store = dir.0.join("sessions.sqlite");
    let state = dir.0.join("contacts.state");
    let emu = emulator(40).await;
    let c = emu.control();
    let root = emu.base_url();
    // A cron job: one round now, one later from the state file: one stored session.
    let said = sync_record(&root, &store, &state);
    assert!(said.contains("recording into session 1 of"), "{said}");
    c.update_contact(&c.contact_id(3), &json!({"displayName": "Changed By Cron"}))
        .unwrap();
    let said = sync_record(&root, &store, &state);
    assert!(said.contains("recording into session 1 of"), "{said}");

    let (root2, store2, state2) = (root.clone(), store.clone(), state.clone());
    let changed = c.contact_id(3);
    explore(args(&emu, &store, Some("1")), |mut d| async move {
        let s = d
            .wait("the sync's session resumed", |s| {
                s.resumed == Some(1) && s.rounds.len() == 2 && s.complete
            })
            .await;
        assert!(
            s.status.contains("resumed session #1 (2 rounds)"),
            "{}",
            s.status
        );
        d.select(&changed).await;
        let text = d.history().await.join("\n");
        assert!(text.contains("\"Changed By Cron\""), "{text}");
        // Meanwhile another sync records its own session into the same file.
        let other = tokio::task::spawn_blocking(move || {
            sync_record(&root2, &store2, &state2.with_extension("other"))
        });
        d.press('r');
        d.wait("round 3 of the resumed session", |s| round_done(s, 3))
            .await;
        let said = other.await.unwrap();
        assert!(said.contains("recording into session 2 of"), "{said}");
        d.press('q');
    })
    .await;
    let st = deltascope::store::Store::open(&store).unwrap();
    let sessions = st.sessions().unwrap();
    assert_eq!(sessions.len(), 2);
    let first = sessions.iter().find(|s| s.id == 1).unwrap();
    assert_eq!((first.rounds, first.origin.as_str()), (3, "sync"));
    let second = sessions.iter().find(|s| s.id == 2).unwrap();
    assert_eq!(second.rounds, 1);
    emu.shutdown().await;
}

/// The fields HAR 1.2 requires (http://www.softwareishard.com/blog/har-12-spec/), checked on
/// every entry.
fn assert_har_required_fields(har: &serde_json::Value) {
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert!(log["creator"]["name"].is_string() && log["creator"]["version"].is_string());
    let entries = log["entries"].as_array().expect("entries");
    assert!(!entries.is_empty());
    for e in entries {
        assert!(e["startedDateTime"].is_string(), "{e}");
        assert!(e["time"].is_number(), "{e}");
        assert!(e["cache"].is_object(), "{e}");
        let req = &e["request"];
        for k in ["method", "url", "httpVersion"] {
            assert!(req[k].is_string(), "request.{k}: {e}");
        }
        for k in ["cookies", "headers", "queryString"] {
            assert!(req[k].is_array(), "request.{k}: {e}");
        }
        for k in ["headersSize", "bodySize"] {
            assert!(req[k].is_number(), "request.{k}: {e}");
        }
        let res = &e["response"];
        assert!(res["status"].is_number(), "{e}");
        for k in ["statusText", "httpVersion", "redirectURL"] {
            assert!(res[k].is_string(), "response.{k}: {e}");
        }
        for k in ["cookies", "headers"] {
            assert!(res[k].is_array(), "response.{k}: {e}");
        }
        for k in ["headersSize", "bodySize"] {
            assert!(res[k].is_number(), "response.{k}: {e}");
        }
        assert!(res["content"]["size"].is_number() && res["content"]["mimeType"].is_string());
        for k in ["send", "wait", "receive"] {
            assert!(e["timings"][k].is_number(), "timings.{k}: {e}");
        }
        for h in req["headers"].as_array().into_iter().flatten() {
            assert!(
                !h["name"]
                    .as_str()
                    .unwrap_or("")
                    .eq_ignore_ascii_case("authorization"),
                "{h}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_export_of_the_cli_parses_back() {
    let dir = TempDir::new("store-export");
    let store = dir.0.join("sessions.sqlite");
    let state = dir.0.join("contacts.state");
    let emu = emulator(25).await;
    let c = emu.control();
    let root = emu.base_url();
    sync_record(&root, &store, &state);
    // A hostile display name: a spreadsheet formula, a comma and a quote.
    c.update_contact(
        &c.contact_id(1),
        &json!({"displayName": "=HYPERLINK(\"http://x\",\"a, b\")"}),
    )
    .unwrap();
    c.soft_delete_contact(&c.contact_id(2)).unwrap();
    sync_record(&root, &store, &state);
    emu.shutdown().await;
    let export = |format: &str, extra: &[&str]| -> Vec<u8> {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_deltascope"))
            .args(["export", "--format", format])
            .args(extra)
            .arg("--store")
            .arg(&store)
            .env_remove("DELTASCOPE_STORE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // Items as received: the 25 of round 1 and the 2 of round 2.
    let items = export("ndjson", &[]);
    let lines: Vec<serde_json::Value> = items
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 27);
    assert_eq!(lines[26]["@removed"]["reason"], "changed");
    // The replica: 24 live objects.
    let replica = export("replica-ndjson", &[]);
    assert_eq!(
        replica
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        24
    );
    // CSV, read back by a CSV reader.
    let csv_bytes = export("csv", &["--columns", "id,displayName,mail"]);
    let mut reader = csv::Reader::from_reader(&csv_bytes[..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        vec!["id", "displayName", "mail"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 24);
    let hostile = records
        .iter()
        .find(|r| &r[0] == c.contact_id(1).as_str())
        .unwrap();
    assert_eq!(&hostile[1], "'=HYPERLINK(\"http://x\",\"a, b\")");
    // HAR 1.2, by its required fields.
    let har: serde_json::Value = serde_json::from_slice(&export("har", &[])).unwrap();
    assert_har_required_fields(&har);
    assert_eq!(har["log"]["entries"].as_array().unwrap().len(), 2);
}
