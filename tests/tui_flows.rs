//! Key-driven flows through the real explorer (the runtime, the engine executor, a TestBackend)
//! against the embedded emulator over loopback HTTP. Keys go in through an injected input
//! stream; the test watches the model and the screen after every frame and waits on conditions
//! with a deadline (no fixed sleeps).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use deltascope::auth::AuthArgs;
use deltascope::emulator::{Control, EmulatorConfig};
use deltascope::tui::app::Model;
use deltascope::tui::explore::prepare;
use deltascope::tui::runtime::Runtime;
use deltascope::tui::view::FetchState;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::explorer::{Frame, SharedClipboard, explore_args, run_scripted, screen_text};

/// What the test sees after a frame.
#[derive(Clone, Debug, Default)]
struct Seen {
    frames: u64,
    screen: String,
    /// (round number, pages fetched, summary line, deltaLink)
    rounds: Vec<(u32, usize, Option<String>, Option<String>)>,
    /// The rows of failed requests: (round, status, error code, request-id).
    failed_rows: Vec<(u32, u16, Option<String>, Option<String>)>,
    /// The selected row is a failed request's.
    failed_selected: bool,
    /// Every row of every page, as (round, id, displayName).
    rows: Vec<(u32, String, Option<String>)>,
    /// Retries of each page, in order.
    retries: Vec<u32>,
    fetch: String,
    failed_status: Option<u16>,
    needs_resync: bool,
    ever_throttled: bool,
    in_flight: bool,
    status: String,
    preview_url: String,
    /// The selected (round index, page index).
    selected: (usize, usize),
    /// Rounds kept from an earlier query.
    kept: usize,
    frozen: bool,
}

impl Frame for Seen {
    fn context(&self) -> String {
        format!(
            "fetch: {}\nstatus: {}\nrounds: {:?}\n{}",
            self.fetch, self.status, self.rounds, self.screen
        )
    }
}

fn observe(m: &Model, t: &Terminal<TestBackend>, prev: &Seen) -> Seen {
    let (failed_status, needs_resync) = match &m.fetch.state {
        FetchState::Failed { error } => (error.status, error.needs_resync),
        _ => (None, false),
    };
    Seen {
        frames: prev.frames + 1,
        screen: screen_text(t),
        rounds: m
            .rounds
            .iter()
            .map(|r| {
                (
                    r.number,
                    r.fetched().count(),
                    r.summary_line.clone(),
                    r.delta_link.clone(),
                )
            })
            .collect(),
        failed_rows: m
            .rounds
            .iter()
            .flat_map(|r| {
                r.pages.iter().filter_map(move |p| {
                    p.failure
                        .as_ref()
                        .map(|e| (r.number, p.status, e.code.clone(), e.request_id.clone()))
                })
            })
            .collect(),
        failed_selected: m.selected_page().is_some_and(|p| p.failure.is_some()),
        rows: m
            .rounds
            .iter()
            .flat_map(|r| {
                r.pages.iter().flat_map(move |p| {
                    p.rows.iter().map(move |row| {
                        (
                            r.number,
                            row.id().to_owned(),
                            row.cell("displayName").map(str::to_owned),
                        )
                    })
                })
            })
            .collect(),
        retries: m
            .rounds
            .iter()
            .flat_map(|r| r.pages.iter().map(|p| p.retries))
            .collect(),
        fetch: format!("{:?}", m.fetch.state),
        failed_status,
        needs_resync,
        ever_throttled: prev.ever_throttled
            || matches!(m.fetch.state, FetchState::Throttled { .. }),
        in_flight: m.fetch.in_flight(),
        status: m.notice_text().unwrap_or_default().to_owned(),
        preview_url: m.query.preview.url.clone().unwrap_or_default(),
        selected: (m.sel_round, m.sel_page),
        kept: m.kept_rounds,
        frozen: m.query.frozen,
    }
}

/// What the scripts get besides keys and frames: the clipboard and the emulator.
struct Extra {
    clipboard: SharedClipboard,
    control: Control,
}

type Driver = support::explorer::Driver<Seen, Extra>;

/// Starts the explorer on an embedded emulator and runs `script` against it.
async fn explore<F, Fut>(config: EmulatorConfig, script: F)
where
    F: FnOnce(Driver, Model) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let explorer = prepare(&explore_args(AuthArgs::default()), config)
        .await
        .unwrap();
    let emulator = explorer.emulator.unwrap();
    let control = emulator.control();
    assert!(
        explorer
            .model
            .title
            .starts_with("demo tenant on the embedded emulator at http://127.0.0.1:"),
        "{}",
        explorer.model.title
    );
    let clipboard = SharedClipboard::default();
    // A copy of the initial model's query, for the script to find fields by name.
    let probe = Model::new(
        explorer.model.query.clone(),
        deltascope::tui::keymap::Keymap::default(),
        Box::new(deltascope::tui::app::NoPreview),
    );
    let mut runtime = Runtime::new(explorer.model, clipboard.clone(), explorer.engine);
    let extra = Extra { clipboard, control };
    run_scripted(&mut runtime, (200, 50), observe, extra, |d| {
        script(d, probe)
    })
    .await;
    emulator.shutdown().await;
}

fn select_index(m: &Model, prop: &str) -> usize {
    // Rows of the builder: resource, api, params, then the $select checklist.
    let i = m
        .query
        .select
        .items
        .iter()
        .position(|(p, _)| p == prop)
        .unwrap();
    2 + m.query.params.len() + i
}

/// Round `n` has its summary and its deltaLink.
fn round_complete(s: &Seen, n: u32) -> bool {
    round(s, n).is_some_and(|r| r.2.is_some() && r.3.is_some())
}

/// Round `n` has `pages` pages and no request is in flight.
fn pages_arrived(s: &Seen, n: u32, pages: usize) -> bool {
    round(s, n).is_some_and(|r| r.1 == pages) && !s.in_flight
}

impl Driver {
    /// R, then F: the full resync runs as round 2 to its end, whose summary must say 3 pages
    /// and 250 items. Returns the frame that shows it complete.
    async fn full_resync_as_round_2(&mut self) -> Seen {
        self.press('R');
        self.wait("resync page 1", |s| pages_arrived(s, 2, 1)).await;
        self.press('F');
        let s = self
            .wait("the resync round complete", |s| round_complete(s, 2))
            .await;
        let summary = round(&s, 2).unwrap().2.clone().unwrap();
        assert!(
            summary.starts_with("round 2: 3 pages, 250 items"),
            "{summary}"
        );
        // Labelled as what it is: a new initial round, not a round of changes.
        assert!(
            s.screen.contains("Round 2 · full resync · complete"),
            "{}",
            s.screen
        );
        s
    }
}

fn round(s: &Seen, n: u32) -> Option<&(u32, usize, Option<String>, Option<String>)> {
    s.rounds.iter().find(|r| r.0 == n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_a_query_page_through_a_round_then_see_a_change_in_the_next_round() {
    explore(EmulatorConfig::default(), |mut d, probe| async move {
        // Build the query: check displayName and mail in the $select checklist.
        for _ in 0..select_index(&probe, "displayName") {
            d.press('j');
        }
        d.key(KeyCode::Char(' '));
        let s = d
            .wait("displayName selected in the preview", |s| {
                s.preview_url.contains("$select=displayName")
            })
            .await;
        assert!(s.screen.contains("$select=displayName"), "{}", s.screen);
        let down = select_index(&probe, "mail") - select_index(&probe, "displayName");
        for _ in 0..down {
            d.press('j');
        }
        d.key(KeyCode::Char(' '));
        d.wait("displayName,mail in the preview", |s| {
            s.preview_url.ends_with("$select=displayName,mail")
        })
        .await;

        // Page by page: 250 contacts at 100 a page.
        d.press('f');
        let s = d.wait("page 1", |s| pages_arrived(s, 1, 1)).await;
        assert!(round(&s, 1).unwrap().3.is_none());
        d.press('f');
        d.wait("page 2", |s| pages_arrived(s, 1, 2)).await;
        d.press('f');
        let s = d
            .wait("round 1 complete with its summary", |s| {
                round(s, 1).is_some_and(|r| r.1 == 3 && r.2.is_some() && r.3.is_some())
            })
            .await;
        let summary = round(&s, 1).unwrap().2.clone().unwrap();
        assert!(
            summary.starts_with("round 1: 3 pages, 250 items: 250 added"),
            "{summary}"
        );
        assert_eq!(s.rows.len(), 250);
        assert!(s.screen.contains("round 1"), "{}", s.screen);

        // A change in the tenant, then the next round from the deltaLink.
        let (_, id, _) = s.rows[0].clone();
        d.control
            .update_contact(
                &id,
                &serde_json::json!({"displayName": "Changed By The Flow Test"}),
            )
            .unwrap();
        d.press('r');
        let s = d.wait("round 2 complete", |s| round_complete(s, 2)).await;
        let changed: Vec<_> = s.rows.iter().filter(|r| r.0 == 2).collect();
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0].1, id);
        assert_eq!(
            changed[0].2.as_deref(),
            Some("Changed By The Flow Test"),
            "{changed:?}"
        );
        let summary = round(&s, 2).unwrap().2.clone().unwrap();
        assert!(summary.contains("1 updated"), "{summary}");
        assert!(
            s.screen.contains("Changed By The Flow Test"),
            "{}",
            s.screen
        );

        // Copy the deltaLink of the selected (last) round: the clipboard gets exactly it.
        let link = round(&s, 2).unwrap().3.clone().unwrap();
        d.press('D');
        d.wait("copied", |s| s.status.starts_with("copied deltaLink"))
            .await;
        assert_eq!(d.clipboard.0.lock().unwrap().as_slice(), [link]);

        // The page's request as curl: the token is a shell variable unless asked for.
        d.press('C');
        d.wait("curl copied", |s| {
            s.status.starts_with("copied curl command (")
        })
        .await;
        let curl = d.clipboard.0.lock().unwrap()[1].clone();
        assert!(
            curl.contains("-H \"Authorization: Bearer $TOKEN\""),
            "{curl}"
        );
        // The selected page (round 2's) was requested with round 1's deltaLink.
        let asked = round(&s, 1).unwrap().3.clone().unwrap();
        assert!(curl.ends_with(&format!("'{asked}'")), "{curl}");
        let _ = d.keys.send(Event::Key(KeyEvent::new(
            KeyCode::Char('k'),
            KeyModifiers::CONTROL,
        )));
        d.wait("curl with the token copied", |s| {
            s.status
                .starts_with("copied curl command with the access token")
        })
        .await;
        let curl = d.clipboard.0.lock().unwrap()[2].clone();
        assert!(!curl.contains("$TOKEN"), "{curl}");
        assert!(
            curl.contains("-H 'Authorization: Bearer "),
            "the token is in it"
        );
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_from_a_429_and_from_a_410_with_a_full_resync() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        // 429 with Retry-After 0.2 s: the countdown shows, the page arrives after one retry.
        d.control.add_fault("throttle:1:0.2").unwrap();
        d.press('f');
        let s = d
            .wait("page 1 after the throttle", |s| pages_arrived(s, 1, 1))
            .await;
        assert!(
            s.ever_throttled,
            "the Retry-After countdown was never shown"
        );
        assert_eq!(s.retries, vec![1]);
        // The page row tells the request's own time from the wait before it.
        assert!(s.screen.contains("1 retry, waited 0.2 s"), "{}", s.screen);

        // Finish the round (F follows it to the deltaLink).
        d.press('F');
        d.wait("round 1 complete", |s| round_complete(s, 1)).await;

        // 410 on the deltaLink: the error is shown with the resync offer.
        d.control.add_fault("gone:1").unwrap();
        d.press('r');
        let s = d.wait("the 410", |s| s.failed_status == Some(410)).await;
        assert!(s.needs_resync);
        assert!(s.screen.contains("410"), "{}", s.screen);
        assert!(s.screen.contains("full resync"), "{}", s.screen);
        // Nothing fetched is lost.
        assert_eq!(s.rows.len(), 250);

        // R: a new full round from the Location; F follows it to its end.
        let s = d.full_resync_as_round_2().await;
        assert_eq!(s.rows.len(), 500);
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_delta_token_offers_a_full_resync_from_the_first_request() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        d.press('F');
        d.wait("round 1 complete", |s| round_complete(s, 1)).await;
        // The deltaLink's token has expired: 400 syncStateNotFound.
        d.control.add_fault("expired:1").unwrap();
        d.press('r');
        let s = d
            .wait("the syncStateNotFound", |s| s.failed_status == Some(400))
            .await;
        assert!(s.needs_resync, "{}", s.fetch);
        assert!(s.screen.contains("syncStateNotFound"), "{}", s.screen);
        // The 400 is a row of the round it would have started.
        assert_eq!(
            s.failed_rows
                .iter()
                .map(|r| (r.0, r.1, r.2.as_deref()))
                .collect::<Vec<_>>(),
            [(2, 400, Some("syncStateNotFound"))]
        );
        // f and r refuse to go on from the dead link; R starts over from the query's first
        // request.
        d.press('f');
        d.wait("the refusal", |s| s.status.contains("needs a full resync"))
            .await;
        // (x right after r: "nothing to cancel" proves r started no fetch.)
        d.press('r');
        d.press('x');
        let s = d
            .wait("r refused", |s| s.status == "nothing to cancel")
            .await;
        assert_eq!(s.failed_status, Some(400));
        d.full_resync_as_round_2().await;
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_fetch_is_dropped_and_the_ui_answers_while_fetching() {
    let config = EmulatorConfig {
        latency: Duration::from_millis(300),
        ..Default::default()
    };
    explore(config, |mut d, _| async move {
        d.press('f');
        d.wait("fetching", |s| s.in_flight).await;
        // The UI answers while the page is on the wire: focus moves, then the fetch is cancelled.
        d.press('2');
        d.press('x');
        let s = d.wait("cancelled", |s| s.status == "fetch cancelled").await;
        assert!(!s.in_flight);
        assert!(s.rounds.is_empty(), "{:?}", s.rounds);
        // Fetch again: page 1 arrives once; the cancelled answer was neither shown nor applied.
        d.press('f');
        let s = d.wait("page 1", |s| pages_arrived(s, 1, 1)).await;
        assert_eq!(s.rows.len(), 100);
        d.press('F');
        let s = d.wait("round 1 complete", |s| round_complete(s, 1)).await;
        let summary = round(&s, 1).unwrap().2.clone().unwrap();
        assert!(
            summary.starts_with("round 1: 3 pages, 250 items: 250 added"),
            "{summary}"
        );
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selection_follows_eleven_rounds_without_a_key_to_move_it() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        d.press('F');
        let s = d.wait("round 1 complete", |s| round_complete(s, 1)).await;
        assert_eq!(s.selected, (0, 2), "the followed round's last page");
        for n in 2..=11u32 {
            d.press('r');
            d.wait(&format!("round {n} complete"), |s| round_complete(s, n))
                .await;
        }
        let s = d.wait("idle", |s| !s.in_flight).await;
        assert_eq!(s.rounds.len(), 11);
        assert_eq!(s.selected, (10, 0), "round 11 is not the one selected");
        assert!(s.screen.contains("Round 11"), "{}", s.screen);
        // Looking elsewhere, the selection stays; '>' goes back to the latest page.
        d.key(KeyCode::Char('2'));
        d.press('h');
        let s = d.wait("round 10 selected", |s| s.selected == (9, 0)).await;
        assert_eq!(s.rounds.len(), 11);
        d.press('r');
        let s = d.wait("round 12 complete", |s| round_complete(s, 12)).await;
        assert_eq!(s.selected, (9, 0), "the selection moved away from round 10");
        d.press('>');
        d.wait("round 12 selected", |s| s.selected == (11, 0)).await;
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_query_without_a_restart_keeps_or_drops_the_rounds() {
    let config = EmulatorConfig {
        latency: Duration::from_millis(200),
        ..Default::default()
    };
    explore(config, |mut d, _| async move {
        let new_query = || Event::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL));
        d.press('F');
        d.wait("round 1 complete", |s| round_complete(s, 1)).await;
        // Follow on the complete round starts nothing and says what does.
        d.press('F');
        let s = d
            .wait("the complete round's answer", |s| {
                s.status.contains("round 1 is complete")
            })
            .await;
        assert!(s.status.contains("r starts round 2"), "{}", s.status);
        assert!(!s.in_flight && s.rounds.len() == 1);

        // A new query, keeping the round: the options can be edited, the round stays.
        let _ = d.keys.send(new_query());
        let s = d
            .wait("the question", |s| s.screen.contains("New query"))
            .await;
        assert!(s.screen.contains("keep the rounds"), "{}", s.screen);
        d.press('k');
        let s = d.wait("unfrozen", |s| !s.frozen).await;
        assert_eq!((s.kept, s.rounds.len()), (1, 1));
        assert!(s.screen.contains("earlier query"), "{}", s.screen);
        // minimal on ('m' in the query builder): the new session's first request has it.
        d.press('m');
        d.wait("minimal in the preview", |s| {
            s.screen.contains("Prefer: return=minimal")
        })
        .await;
        d.press('f');
        let s = d
            .wait("the new query's first page", |s| {
                s.rounds.len() == 2 && !s.in_flight
            })
            .await;
        assert!(s.frozen);
        assert_eq!(s.rounds[0].1, 3, "the kept round changed");
        assert_eq!((s.rounds[1].0, s.rounds[1].1), (1, 1), "{:?}", s.rounds);
        assert_eq!(s.rows.len(), 350);

        // Again while a page is on the wire: it is cancelled, and the rounds dropped.
        d.press('f');
        d.wait("fetching", |s| s.in_flight).await;
        let _ = d.keys.send(new_query());
        d.wait("the question", |s| s.screen.contains("New query"))
            .await;
        d.press('d');
        let s = d
            .wait("dropped", |s| s.rounds.is_empty() && !s.frozen)
            .await;
        assert!(!s.in_flight);
        assert_eq!(s.kept, 0);
        assert!(
            s.status.contains("the running fetch was cancelled"),
            "{}",
            s.status
        );
        // The next fetch is a first request again: round 1, page 1.
        d.press('f');
        let s = d.wait("page 1 again", |s| pages_arrived(s, 1, 1)).await;
        assert_eq!(s.rounds.len(), 1);
        assert_eq!(s.rows.len(), 100);
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_request_is_a_row_of_its_round_with_its_body_and_headers() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        d.press('F');
        d.wait("round 1 complete", |s| round_complete(s, 1)).await;

        // A 410 on the deltaLink: a row of round 2 (the round it would have started), selected.
        d.control.add_fault("gone:1").unwrap();
        d.press('r');
        let s = d
            .wait("the 410's row", |s| {
                s.failed_status == Some(410) && s.failed_selected
            })
            .await;
        assert_eq!(s.failed_rows.len(), 1, "{:?}", s.failed_rows);
        let (round_no, status, code, rid) = s.failed_rows[0].clone();
        assert_eq!((round_no, status), (2, 410));
        assert_eq!(code.as_deref(), Some("resyncRequired"));
        let rid = rid.expect("the 410 carries a request-id");
        assert!(s.screen.contains("✗ 410 resyncRequired"), "{}", s.screen);
        // The JSON pane shows the error body, as received.
        assert!(
            s.screen.contains(r#""code": "resyncRequired""#),
            "{}",
            s.screen
        );
        // H: its headers, with its request-id and the Authorization redacted.
        d.press('3');
        d.press('H');
        let s = d
            .wait("the 410's headers", |s| {
                s.screen.contains(&format!("request-id: {rid}"))
            })
            .await;
        assert!(
            s.screen.contains("Response headers (HTTP 410)"),
            "{}",
            s.screen
        );
        assert!(
            s.screen.contains("Authorization: Bearer ***"),
            "{}",
            s.screen
        );
        d.press('H');

        // The full resync goes on in round 2, after the failed row; nothing is lost.
        d.full_resync_as_round_2().await;

        // A body that is not a delta page: its row keeps the response as received.
        d.control.add_fault("malformed:1").unwrap();
        d.press('r');
        let s = d
            .wait("the malformed page's row", |s| s.failed_rows.len() == 2)
            .await;
        assert_eq!(s.failed_rows[1].0, 3, "{:?}", s.failed_rows);
        assert_eq!(s.failed_rows[1].1, 200, "{:?}", s.failed_rows);
        assert!(s.screen.contains("200, not a delta page"), "{}", s.screen);
        d.press('H');
        d.wait("the malformed page's own headers", |s| {
            s.screen.contains("Response headers (HTTP 200)") && s.screen.contains("request-id: ")
        })
        .await;
        d.press('H');

        // A link to another origin is refused: a row that says nothing was sent.
        d.control.add_fault("foreign-link:1").unwrap();
        d.press('r');
        let s = d
            .wait("the refused link's row", |s| {
                s.failed_rows.len() == 3 && s.needs_resync
            })
            .await;
        assert_eq!(s.failed_rows[2].0, 3, "{:?}", s.failed_rows);
        assert!(s.screen.contains("✗ not sent"), "{}", s.screen);
        // The page that carried the link did not complete its round.
        assert!(
            s.screen
                .contains("Round 3 · changes · stopped: the last request failed"),
            "{}",
            s.screen
        );
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_and_restored_objects_have_marks_of_their_own() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        d.press('F');
        let s = d.wait("round 1 complete", |s| round_complete(s, 1)).await;
        // The initial round brings everything: nothing in it is marked new.
        assert!(
            !s.screen.contains("new since the last round"),
            "{}",
            s.screen
        );
        let victim = s.rows[0].1.clone();
        let created = d
            .control
            .create_contact(&serde_json::json!({"displayName": "Zed Newcomer"}))
            .unwrap();
        let created_id = created["id"].as_str().unwrap().to_owned();
        d.control.soft_delete_contact(&victim).unwrap();
        d.press('r');
        let s = d.wait("round 2 complete", |s| round_complete(s, 2)).await;
        let row = |s: &Seen, id: &str| {
            s.screen
                .lines()
                .find(|l| l.contains(&id[..8]))
                .unwrap_or_default()
                .to_owned()
        };
        assert!(row(&s, &created_id).contains("new"), "{}", s.screen);
        assert!(row(&s, &victim).contains("✗ changed"), "{}", s.screen);
        assert!(
            s.screen.contains("new since the last round"),
            "{}",
            s.screen
        );
        // Back from the soft deletion: restored, not new.
        d.control.restore_contact(&victim).unwrap();
        d.press('r');
        let s = d.wait("round 3 complete", |s| round_complete(s, 3)).await;
        let line = row(&s, &victim);
        assert!(line.contains("restored"), "{}", s.screen);
        assert!(!line.contains("new "), "{}", s.screen);
        assert!(s.screen.contains("back from soft-deletion"), "{}", s.screen);
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grouped_resource_picker_and_a_path_of_ones_own() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        // enter on the resource row: every resource under its group, and a path of one's own.
        d.key(KeyCode::Enter);
        let s = d
            .wait("the resource picker", |s| s.screen.contains(" Resources ("))
            .await;
        for group in [
            "Directory",
            "Outlook",
            "Files",
            "Teams/Calls",
            "To Do",
            "Any delta URL",
        ] {
            assert!(s.screen.contains(group), "{group}\n{}", s.screen);
        }
        for name in ["servicePrincipals", "messages", "driveItems", "todoTasks"] {
            assert!(s.screen.contains(name), "{name}\n{}", s.screen);
        }
        assert!(s.screen.contains("removals "), "{}", s.screen);
        // The second entry: users.
        d.press('j');
        d.key(KeyCode::Enter);
        d.wait("users chosen", |s| {
            s.preview_url.ends_with("/v1.0/users/delta")
        })
        .await;
        // The last entry: a path of one's own, typed and sent as written.
        d.key(KeyCode::Enter);
        for _ in 0..40 {
            d.press('j');
        }
        d.key(KeyCode::Enter);
        for c in "/contacts/delta?$select=displayName".chars() {
            d.press(c);
        }
        d.key(KeyCode::Enter);
        let s = d
            .wait("the own path in the preview", |s| {
                s.preview_url
                    .ends_with("/v1.0/contacts/delta?$select=displayName")
            })
            .await;
        assert!(s.screen.contains("your own path below"), "{}", s.screen);
        d.press('F');
        let s = d
            .wait("the round of the own path", |s| round_complete(s, 1))
            .await;
        assert_eq!(s.rows.len(), 250);
        assert!(s.rows.iter().all(|(_, _, name)| name.is_some()));
        d.press('q');
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_objects_take_their_types_in_the_builder() {
    explore(EmulatorConfig::default(), |mut d, _| async move {
        d.key(KeyCode::Enter);
        d.wait("the resource picker", |s| s.screen.contains(" Resources ("))
            .await;
        // contacts, users, groups, applications, servicePrincipals, devices, directoryRoles,
        // administrativeUnits, oauth2PermissionGrants, directoryObjects.
        for _ in 0..9 {
            d.press('j');
        }
        d.key(KeyCode::Enter);
        let s = d
            .wait("directoryObjects chosen", |s| {
                s.preview_url.ends_with("/v1.0/directoryObjects/delta")
            })
            .await;
        assert!(s.screen.contains("(every type;"), "{}", s.screen);
        // resource, api, the two known properties, minimal, then the types row.
        for _ in 0..5 {
            d.press('j');
        }
        d.key(KeyCode::Enter);
        for c in "user, microsoft.graph.group".chars() {
            d.press(c);
        }
        d.key(KeyCode::Enter);
        d.wait("the isof filter in the preview", |s| {
            s.preview_url.ends_with(
                "/directoryObjects/delta?$filter=isof%28%27microsoft.graph.user%27%29%20or%20isof%28%27microsoft.graph.group%27%29",
            )
        })
        .await;
        d.press('q');
    })
    .await;
}

/// On the demo tenant every resource of the picker fetches at once: the drive's id, the inbox,
/// the first contact folder and To Do list, and a calendar window are offered as defaults; the
/// recordings' own optional startDateTime stays empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_resource_fetches_on_the_demo_tenant_without_typing_an_id() {
    // Picker positions: the ten directory resources, then messages, mailFolders, events,
    // personalContacts, driveItems, recordings, transcripts, todoTasks.
    for (steps, path) in [
        (10, "/mailFolders/inbox/messages/delta"),
        (11, "/mailFolders/delta"),
        (12, "/calendarView/delta?startDateTime="),
        (13, "/contacts/delta"),
        (14, "/root/delta"),
        (17, "/tasks/delta"),
    ] {
        explore(EmulatorConfig::default(), move |mut d, _| async move {
            d.key(KeyCode::Enter);
            d.wait("the resource picker", |s| s.screen.contains(" Resources ("))
                .await;
            for _ in 0..steps {
                d.press('j');
            }
            d.key(KeyCode::Enter);
            d.wait(path, |s| s.preview_url.contains(path)).await;
            d.press('F');
            let s = d.wait("the round", |s| round_complete(s, 1)).await;
            assert!(!s.rows.is_empty(), "{path}: an empty round\n{}", s.screen);
            d.press('q');
        })
        .await;
    }
    // Recordings keep an empty startDateTime even after the calendar view's window was offered.
    explore(EmulatorConfig::default(), |mut d, _| async move {
        d.key(KeyCode::Enter);
        d.wait("the resource picker", |s| s.screen.contains(" Resources ("))
            .await;
        for _ in 0..12 {
            d.press('j');
        }
        d.key(KeyCode::Enter);
        d.wait("events", |s| s.preview_url.contains("/calendarView/delta"))
            .await;
        d.key(KeyCode::Enter);
        d.wait("the resource picker", |s| s.screen.contains(" Resources ("))
            .await;
        for _ in 0..3 {
            d.press('j');
        }
        d.key(KeyCode::Enter);
        let s = d
            .wait("recordings", |s| s.preview_url.contains("getAllRecordings"))
            .await;
        assert!(
            !s.preview_url.contains("startDateTime"),
            "{}",
            s.preview_url
        );
        d.press('q');
    })
    .await;
}
