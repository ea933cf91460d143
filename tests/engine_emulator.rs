//! The engine against the embedded emulator over loopback HTTP, one test per fault, each
//! checking that nothing is lost: after the fault the same round goes on (or, when the sync
//! state is gone, a full resync runs) and ends with a replica equal to a fresh full sync, with
//! the right round summary and warnings.
//!
//! Tenants are small (a dozen contacts in pages of five) and Retry-After values fractional, so
//! the whole file runs in a few seconds. Nothing waits on a fixed sleep: each step waits on the
//! request it made.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deltascope::emulator::{self, Control, Emulator, EmulatorConfig};
use deltascope::graph::{
    ApiVersion, Catalog, ClientConfig, DeltaQuery, FetchProgress, GraphClient, GraphError,
    GraphRoot, Page, PageReport, PageRequest, RequestKind, RoundSummary, Session, Stop,
};
use serde_json::{Value, json};
use support::engine::static_token_client;
use tokio_util::sync::CancellationToken;

/// 12 contacts in pages of 5: a full round is 3 pages (5, 5, 2).
const CONTACTS: usize = 12;
const PAGE: usize = 5;
const START: &str = "2020-01-01T00:00:00Z";

struct Bed {
    emu: Emulator,
    ctl: Control,
    root: GraphRoot,
    client: GraphClient,
    progress: Arc<Mutex<Vec<FetchProgress>>>,
}

fn small() -> EmulatorConfig {
    EmulatorConfig {
        seed: 11,
        contacts: CONTACTS,
        page_size: PAGE,
        organizers: 1,
        recordings: 7,
        ..Default::default()
    }
}

async fn bed_with(cfg: EmulatorConfig, client: ClientConfig) -> Bed {
    let emu = emulator::start(cfg, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "engine-emulator-test", client);
    Bed {
        ctl: emu.control(),
        emu,
        root,
        client,
        progress: Arc::default(),
    }
}

async fn bed() -> Bed {
    bed_with(small(), ClientConfig::default()).await
}

/// The small tenant's bed, the contacts query (`minimal` or not) and a session of it that has
/// made no request yet.
async fn contacts_bed(minimal: bool) -> (Bed, DeltaQuery, Session) {
    let b = bed().await;
    let q = contacts(minimal);
    let s = b.session(&q);
    (b, q, s)
}

fn contacts(minimal: bool) -> DeltaQuery {
    let mut q = DeltaQuery::new("contacts", ApiVersion::V1_0);
    q.minimal = minimal;
    q
}

fn recordings(organizer: &str, top: Option<u32>) -> DeltaQuery {
    let mut q = DeltaQuery::new("recordings", ApiVersion::V1_0);
    q.params.insert("userId".into(), organizer.into());
    q.params
        .insert("meetingOrganizerUserId".into(), organizer.into());
    q.params.insert("startDateTime".into(), START.into());
    q.top = top;
    q
}

impl Bed {
    fn first(&self, q: &DeltaQuery) -> PageRequest {
        q.first_request(Catalog::builtin(), &self.root).unwrap()
    }

    fn session(&self, q: &DeltaQuery) -> Session {
        Session::new(self.first(q))
    }

    async fn fetch(&self, req: &PageRequest) -> Result<Page, GraphError> {
        let log = self.progress.clone();
        self.client
            .fetch(req, &CancellationToken::new(), &move |p| {
                log.lock().unwrap().push(p)
            })
            .await
    }

    /// Fetches the session's next request and applies the page.
    async fn step(&self, s: &mut Session) -> Result<PageReport, GraphError> {
        let req = s.next_request().expect("the session has a next request");
        let page = self.fetch(&req).await?;
        Ok(s.apply(&page))
    }

    /// Steps until the round completes; any error fails the test.
    async fn finish(&self, s: &mut Session) -> Vec<PageReport> {
        let mut reports = Vec::new();
        for _ in 0..1000 {
            let r = self.step(s).await.unwrap_or_else(|e| panic!("{e}"));
            let done = r.round_complete;
            reports.push(r);
            if done {
                return reports;
            }
        }
        panic!("the round never completed");
    }

    /// Steps until a fetch fails; the error and the reports of the pages before it.
    async fn until_error(&self, s: &mut Session) -> (GraphError, Vec<PageReport>) {
        let mut reports = Vec::new();
        for _ in 0..1000 {
            match self.step(s).await {
                Ok(r) => {
                    assert!(!r.round_complete, "the round completed without the fault");
                    reports.push(r);
                }
                Err(e) => return (e, reports),
            }
        }
        panic!("no error came");
    }

    /// A fresh full sync of `q` with every fault cleared.
    async fn fresh(&self, q: &DeltaQuery) -> Session {
        self.ctl.clear_faults();
        let mut s = self.session(q);
        self.finish(&mut s).await;
        s
    }

    /// Finishes the round, which must be a clean full round of the unchanged tenant, and checks
    /// that the session converged.
    async fn finish_clean_and_converged(&self, s: &mut Session, q: &DeltaQuery) {
        self.finish(s).await;
        assert_clean_full_round(last(s));
        self.assert_converged(s, q).await;
    }

    /// The session's replica equals a fresh full sync's (faults cleared first).
    async fn assert_converged(&self, s: &Session, q: &DeltaQuery) {
        let fresh = self.fresh(q).await;
        assert_eq!(
            s.replica().normalized(),
            fresh.replica().normalized(),
            "the replica differs from a fresh full sync"
        );
        assert!(!fresh.replica().is_empty() || s.replica().is_empty());
    }

    fn graph_requests(&self) -> u64 {
        self.ctl.state()["graphRequests"].as_u64().unwrap()
    }

    fn fault(&self, spec: &str) {
        self.ctl.add_fault(spec).unwrap();
    }

    fn throttles(&self) -> Vec<(u16, Duration, u32)> {
        self.progress
            .lock()
            .unwrap()
            .iter()
            .filter_map(|p| match p {
                FetchProgress::Throttled {
                    status,
                    retry_after,
                    attempt,
                } => Some((*status, *retry_after, *attempt)),
                _ => None,
            })
            .collect()
    }

    fn contact(&self, i: u64) -> String {
        self.ctl.contact_id(i)
    }

    /// Eight changes of every kind: enough for a later round of two pages (5 + 3).
    fn eight_changes(&self) {
        let c = &self.ctl;
        c.update_contact(
            &self.contact(0),
            &json!({"jobTitle": "Chief Delta Officer"}),
        )
        .unwrap();
        c.update_contact(&self.contact(1), &json!({"department": null}))
            .unwrap();
        c.update_contact(
            &self.contact(2),
            &json!({"mail": "new.mail@contoso.example", "companyName": "Fabrikam"}),
        )
        .unwrap();
        c.soft_delete_contact(&self.contact(3)).unwrap();
        c.hard_delete_contact(&self.contact(4)).unwrap();
        c.soft_delete_contact(&self.contact(5)).unwrap();
        c.restore_contact(&self.contact(5)).unwrap();
        c.create_contact(&json!({"displayName": "Ada Lovelace", "jobTitle": "Analyst"}))
            .unwrap();
        c.create_contact(&json!({"displayName": "Grace Hopper", "mail": "grace@contoso.example"}))
            .unwrap();
    }
}

fn last(s: &Session) -> &RoundSummary {
    s.rounds().last().unwrap()
}

fn all_warnings(reports: &[PageReport]) -> Vec<String> {
    reports.iter().flat_map(|r| r.warnings.clone()).collect()
}

/// A complete full round of the unchanged small tenant: 3 pages, 12 items, nothing else.
/// `known` of them were in the replica before (from an abandoned round): updated, not added.
fn assert_full_round(r: &RoundSummary, known: usize) {
    assert!(r.full && r.complete && !r.abandoned, "{r}");
    assert_eq!(
        (r.pages, r.items, r.added, r.updated, r.removed()),
        (3, CONTACTS, CONTACTS - known, known, 0),
        "{r}"
    );
    assert_eq!((r.duplicates, r.empty_pages, r.vanished), (0, 0, 0), "{r}");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

fn assert_clean_full_round(r: &RoundSummary) {
    assert_full_round(r, 0);
}

/// Snapshot of what the session holds, to prove a failed fetch applied nothing.
fn snapshot(s: &Session) -> (Option<PageRequest>, Vec<RoundSummary>, Value) {
    (
        s.next_request(),
        s.rounds().to_vec(),
        serde_json::to_value(s.replica().normalized()).unwrap(),
    )
}

// ----- 429 / 503 ---------------------------------------------------------------------------

#[tokio::test]
async fn throttling_mid_round_is_retried_after_a_fractional_retry_after() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.step(&mut s).await.unwrap();
    b.fault("throttle:2:0.05");
    let reports = b.finish(&mut s).await;
    assert_eq!(
        b.throttles(),
        vec![
            (429, Duration::from_millis(50), 2),
            (429, Duration::from_millis(50), 3)
        ]
    );
    assert!(all_warnings(&reports).is_empty(), "{reports:?}");
    assert_clean_full_round(last(&s));
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn throttling_beyond_the_retry_bound_is_a_clear_error_and_the_same_link_goes_on() {
    let b = bed_with(
        small(),
        ClientConfig {
            max_retries: 2,
            max_retry_wait: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await;
    let q = contacts(false);
    let mut s = b.session(&q);
    b.step(&mut s).await.unwrap();
    let before = snapshot(&s);
    b.fault("throttle:3:0.02");
    let (err, _) = b.until_error(&mut s).await;
    let GraphError::Http {
        status,
        retries,
        retry_after,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*status, *retries), (429, 2));
    assert_eq!(*retry_after, Some(Duration::from_millis(20)));
    assert!(err.to_string().contains("after 2 retries"), "{err}");
    assert!(err.hint().unwrap().contains("still throttled"), "{err:?}");
    assert!(!err.needs_resync());
    assert_eq!(snapshot(&s), before, "the throttled page applied nothing");

    // A Retry-After longer than the accepted wait ends the fetch at once, with no retry.
    b.fault("throttle:1:30");
    let err = b.step(&mut s).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Http { status: 429, retries: 0, retry_after: Some(d), .. } if d == Duration::from_secs(30)),
        "{err:?}"
    );
    assert_eq!(snapshot(&s), before);

    // The same link, asked again, continues the round.
    b.finish_clean_and_converged(&mut s, &q).await;
}

#[tokio::test]
async fn unavailable_503_is_retried_after_retry_after() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.finish(&mut s).await;
    b.eight_changes();
    b.fault("unavailable:1:0.05");
    b.step(&mut s).await.unwrap();
    b.fault("unavailable:1:0");
    b.finish(&mut s).await;
    assert_eq!(
        b.throttles(),
        vec![
            (503, Duration::from_millis(50), 2),
            (503, Duration::ZERO, 2)
        ]
    );
    let r = last(&s);
    assert!(r.complete && !r.full, "{r}");
    assert_eq!(r.pages, 2, "{r}");
    b.assert_converged(&s, &q).await;
}

// ----- the sync state is gone: 410, syncStateNotFound ----------------------------------------

#[tokio::test]
async fn gone_410_mid_round_restarts_a_full_round_from_the_location() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.finish(&mut s).await;
    b.eight_changes();
    b.step(&mut s).await.unwrap();
    assert!(s.in_round());
    b.fault("gone:1");
    let (err, _) = b.until_error(&mut s).await;
    assert_eq!(err.status(), Some(410), "{err:?}");
    assert!(err.needs_resync());
    let location = err.resync_location().expect("a Location").to_owned();
    assert!(location.starts_with(b.root.as_str()), "{location}");
    assert!(err.hint().unwrap().contains("full resync"), "{err:?}");

    s.restart_from(location.clone());
    let next = s.next_request().unwrap();
    assert_eq!(
        (next.url.as_str(), next.kind),
        (location.as_str(), RequestKind::Initial)
    );
    b.finish(&mut s).await;
    let rounds = s.rounds();
    assert_eq!(rounds.len(), 3);
    assert!(rounds[0].complete && rounds[0].full);
    assert!(rounds[1].abandoned && !rounds[1].complete, "{}", rounds[1]);
    assert!(rounds[1].to_string().ends_with("(abandoned)"));
    let r = &rounds[2];
    assert!(r.full && r.complete, "{r}");
    // 12 - 1 soft-deleted - 1 hard-deleted + 2 created
    assert_eq!(r.items, CONTACTS, "{r}");
    assert_eq!(s.replica().len(), CONTACTS);
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn sync_state_not_found_on_a_delta_link_needs_a_full_resync() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.finish(&mut s).await;
    b.eight_changes();
    b.fault("expired");
    let before = snapshot(&s);
    let err = b.step(&mut s).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("syncStateNotFound")),
        "{err:?}"
    );
    assert!(err.needs_resync());
    assert!(err.hint().unwrap().contains("full resync"), "{err:?}");
    assert_eq!(snapshot(&s), before);

    s.resync().unwrap();
    assert_eq!(s.next_request().unwrap(), b.first(&q));
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.full && r.complete && r.number == 2, "{r}");
    // The hard-deleted contact, never reported as removed, vanishes with the full round.
    assert_eq!(r.vanished, 2, "{r}");
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn sync_state_not_found_mid_round_abandons_the_round() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.step(&mut s).await.unwrap();
    b.fault("expired");
    let (err, _) = b.until_error(&mut s).await;
    assert_eq!(err.code(), Some("syncStateNotFound"));
    s.resync().unwrap();
    b.finish(&mut s).await;
    assert!(s.rounds()[0].abandoned);
    assert_full_round(last(&s), PAGE);
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn tokens_older_than_their_lifetime_expire_on_the_emulator_clock() {
    let (b, q, mut s) = contacts_bed(true).await;
    b.finish(&mut s).await;
    let saved = s.delta_link().unwrap().to_owned();
    b.eight_changes();
    // A token a minute younger than the lifetime still works...
    b.ctl.advance_clock(7.0 * 86_400.0 - 60.0);
    let mut young = Session::resume_as(saved.clone(), s.headers().to_vec(), RequestKind::Delta);
    b.finish(&mut young).await;
    // ... one past it is gone.
    b.ctl.advance_clock(120.0);
    let err = b.step(&mut s).await.unwrap_err();
    assert_eq!(err.code(), Some("syncStateNotFound"), "{err:?}");
    assert!(err.needs_resync());
    assert!(err.hint().unwrap().contains("full resync"));
    s.resync().unwrap();
    b.finish(&mut s).await;
    assert!(last(&s).full && last(&s).minimal);
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn a_resumed_session_resyncs_from_its_query_when_it_knows_it() {
    let (b, q, mut s) = contacts_bed(true).await;
    b.finish(&mut s).await;
    let saved = s.delta_link().unwrap().to_owned();
    let headers = s.headers().to_vec();
    b.eight_changes();
    b.ctl.advance_clock(8.0 * 86_400.0);

    // Resumed from the saved link only: it cannot know where a full round starts.
    let mut blind = Session::resume_as(saved.clone(), headers.clone(), RequestKind::Delta);
    let err = b.step(&mut blind).await.unwrap_err();
    assert!(err.needs_resync());
    let before = snapshot(&blind);
    let refusal = blind.resync().unwrap_err();
    assert!(
        refusal.to_string().contains("full resync") && refusal.to_string().contains("query"),
        "{refusal}"
    );
    assert_eq!(snapshot(&blind), before, "nothing changed");

    // Resumed with the query's first request: the resync runs a full round of it.
    let mut resumed =
        Session::resume_as(saved, headers, RequestKind::Delta).with_first_request(b.first(&q));
    let err = b.step(&mut resumed).await.unwrap_err();
    assert!(err.needs_resync());
    resumed.resync().unwrap();
    assert_eq!(resumed.next_request().unwrap(), b.first(&q));
    b.finish(&mut resumed).await;
    let r = last(&resumed);
    assert!(r.full && r.complete && r.minimal, "{r}");
    b.assert_converged(&resumed, &q).await;
}

// ----- 401 / 403 ---------------------------------------------------------------------------

#[tokio::test]
async fn unauthorized_401_then_the_same_request_continues_the_round() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.finish(&mut s).await;
    b.eight_changes();
    b.step(&mut s).await.unwrap();
    b.fault("unauthorized:1");
    let before = snapshot(&s);
    let err = b.step(&mut s).await.unwrap_err();
    let GraphError::Http {
        status,
        www_authenticate,
        request_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 401);
    assert!(www_authenticate.is_some());
    assert!(request_id.is_some());
    assert!(!err.needs_resync());
    assert!(err.hint().unwrap().contains("token"), "{err:?}");
    assert!(!err.to_string().contains("engine-emulator-test"));
    assert_eq!(snapshot(&s), before);
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.complete && !r.full && r.pages == 2, "{r}");
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn forbidden_403_on_recordings_names_the_application_permission() {
    let b = bed().await;
    let org = b.emu.demo().organizers[0].clone();
    let q = recordings(&org, None);
    let mut s = b.session(&q);
    b.fault("forbidden:1");
    let err = b.step(&mut s).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    assert_eq!(err.code(), Some("Authorization_RequestDenied"));
    let hint = err.hint().unwrap();
    assert!(hint.contains("OnlineMeetingRecording.Read.All"), "{hint}");
    assert!(hint.contains("application"), "{hint}");
    assert!(s.rounds().is_empty());
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.full && r.complete && r.added == 7, "{r}");
    b.assert_converged(&s, &q).await;
}

// ----- pages that are odd but valid ----------------------------------------------------------

#[tokio::test]
async fn empty_pages_with_a_next_link_are_counted_and_lose_nothing() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.step(&mut s).await.unwrap();
    b.fault("empty:2");
    let reports = b.finish(&mut s).await;
    assert!(reports[0].empty && reports[1].empty, "{reports:?}");
    assert_eq!(reports.iter().filter(|r| r.empty).count(), 2);
    let r = last(&s);
    assert_eq!((r.pages, r.empty_pages, r.added), (5, 2, CONTACTS), "{r}");
    assert!(r.to_string().contains("2 empty pages"), "{r}");
    b.assert_converged(&s, &q).await;

    // In a later round too.
    b.eight_changes();
    b.fault("empty:1");
    let reports = b.finish(&mut s).await;
    assert!(reports[0].empty);
    assert_eq!(last(&s).empty_pages, 1);
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn duplicates_are_counted_and_the_last_occurrence_wins() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.fault("duplicate:2");
    let reports = b.finish(&mut s).await;
    let r = last(&s).clone();
    assert!(r.duplicates > 0, "{r}");
    assert_eq!(
        reports.iter().map(|p| p.duplicates).sum::<usize>(),
        r.duplicates
    );
    assert_eq!(r.items, CONTACTS + r.duplicates, "{r}");
    assert_eq!(r.added, CONTACTS, "duplicates are not added twice: {r}");
    assert!(
        r.to_string()
            .contains(&format!("{} duplicate", r.duplicates)),
        "{r}"
    );
    b.assert_converged(&s, &q).await;

    b.eight_changes();
    b.fault("duplicate:1");
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.duplicates > 0, "{r}");
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn replayed_changes_are_applied_again_without_harm() {
    for minimal in [false, true] {
        let (b, q, mut s) = contacts_bed(minimal).await;
        b.finish(&mut s).await;
        b.ctl
            .update_contact(&b.contact(6), &json!({"jobTitle": "Round two"}))
            .unwrap();
        b.ctl
            .update_contact(&b.contact(7), &json!({"mail": "round.two@contoso.example"}))
            .unwrap();
        b.finish(&mut s).await;
        assert_eq!(last(&s).items, 2, "{}", last(&s));
        b.ctl
            .update_contact(&b.contact(7), &json!({"mail": null}))
            .unwrap();
        b.ctl
            .update_contact(&b.contact(8), &json!({"department": "Replays"}))
            .unwrap();
        b.fault("replay");
        b.finish(&mut s).await;
        let r = last(&s);
        // The changes of the round before come again beside the new ones: contact 6 is
        // replayed, 7 and 8 carry their latest state.
        assert_eq!((r.items, r.updated, r.added), (3, 3, 0), "{r}");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        b.assert_converged(&s, &q).await;
    }
}

#[tokio::test]
async fn shuffled_pages_build_the_same_replica() {
    for minimal in [false, true] {
        let b = bed().await;
        let q = contacts(minimal);
        b.fault("shuffle");
        let mut s = b.session(&q);
        b.finish(&mut s).await;
        assert_clean_full_round(last(&s));
        b.eight_changes();
        b.fault("shuffle");
        b.finish(&mut s).await;
        b.assert_converged(&s, &q).await;
    }
}

// ----- transport faults: slow, malformed, truncated -----------------------------------------

#[tokio::test]
async fn a_slow_answer_times_out_and_the_retry_goes_on() {
    let b = bed_with(
        small(),
        ClientConfig {
            timeout: Duration::from_millis(400),
            ..Default::default()
        },
    )
    .await;
    let q = contacts(false);
    let mut s = b.session(&q);
    b.step(&mut s).await.unwrap();
    let before = snapshot(&s);
    b.fault("slow:1:3000");
    let err = b.step(&mut s).await.unwrap_err();
    let GraphError::Timeout { url } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(Some(url), before.0.as_ref().map(|r| &r.url));
    assert!(err.hint().unwrap().contains("retry"));
    assert_eq!(snapshot(&s), before);
    b.finish_clean_and_converged(&mut s, &q).await;
}

#[tokio::test]
async fn a_malformed_body_applies_nothing_and_the_retry_goes_on() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.step(&mut s).await.unwrap();
    let before = snapshot(&s);
    b.fault("malformed:1");
    let err = b.step(&mut s).await.unwrap_err();
    let GraphError::Malformed { body_prefix, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(body_prefix.starts_with("<html>"), "{body_prefix}");
    assert!(err.hint().unwrap().contains("retry"));
    assert_eq!(snapshot(&s), before, "nothing applied from the bad page");
    b.finish_clean_and_converged(&mut s, &q).await;
}

#[tokio::test]
async fn a_truncated_body_applies_nothing_and_the_retry_goes_on() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.finish(&mut s).await;
    b.eight_changes();
    b.step(&mut s).await.unwrap();
    let before = snapshot(&s);
    b.fault("truncated:1");
    let err = b.step(&mut s).await.unwrap_err();
    // The connection is cut half-way through the body: a transport error that says so.
    let GraphError::Network(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("stopped before its end"), "{message}");
    assert!(!message.contains("skiptoken"), "{message}");
    assert!(err.hint().unwrap().contains("retry"), "{err:?}");
    assert_eq!(snapshot(&s), before, "nothing applied from the cut page");
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.complete && r.pages == 2, "{r}");
    b.assert_converged(&s, &q).await;
}

// ----- recordings with $top: the known issue --------------------------------------------------

#[tokio::test]
async fn a_next_link_dropped_with_top_is_reported_as_the_known_issue() {
    let b = bed().await;
    let org = b.emu.demo().organizers[0].clone();
    let q = recordings(&org, Some(3));

    // Healthy: 7 recordings in pages of 3, 3, 1; no warning.
    let mut s = b.session(&q);
    let reports = b.finish(&mut s).await;
    assert_eq!(reports.len(), 3);
    assert!(all_warnings(&reports).is_empty(), "{reports:?}");
    assert_eq!(s.replica().len(), 7);

    // The known issue: the page before the last carries the deltaLink, the last page is lost.
    b.fault("drop-next-link");
    let mut s = b.session(&q);
    let reports = b.finish(&mut s).await;
    assert_eq!(reports.len(), 2);
    let warnings = all_warnings(&reports);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("known issue") && warnings[0].contains("$top"),
        "{warnings:?}"
    );
    assert_eq!(last(&s).warnings, warnings);
    assert_eq!(s.replica().len(), 6);
    // Without $top, nothing is missing.
    let full = b.fresh(&recordings(&org, None)).await;
    assert_eq!(full.replica().len(), 7);
}

// ----- a link to another origin ----------------------------------------------------------------

#[tokio::test]
async fn a_foreign_link_is_refused_before_anything_is_sent() {
    let b = bed().await;
    let port = b.emu.local_addr().port();
    // The fault's other origin is http://127.0.0.2:PORT: listen there and count connections.
    let foreign = tokio::net::TcpListener::bind(("127.0.0.2", port)).await;
    let connections = Arc::new(AtomicUsize::new(0));
    let accept = foreign.ok().map(|listener| {
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((_sock, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
    });

    let q = contacts(false);
    let mut s = b.session(&q);
    b.step(&mut s).await.unwrap();
    b.fault("foreign-link:1");
    let report = b.step(&mut s).await.unwrap();
    let Some(stop) = report.stop.clone() else {
        panic!("{report:?}")
    };
    let said = stop.to_string();
    assert!(
        said.contains("another origin (http://127.0.0.2:") && said.contains("is not followed"),
        "{said}"
    );
    let Stop::RefusedLink { link, .. } = stop else {
        panic!("{said}")
    };
    assert_eq!(s.next_request(), None, "a refused link is not the way on");
    assert!(
        link.starts_with(&format!("http://127.0.0.2:{port}/")),
        "{link}"
    );
    // Given to the client anyway (from a state file, say), it is refused there too.
    let next = PageRequest {
        url: link,
        headers: vec![],
        kind: RequestKind::Next,
    };
    let requests = b.graph_requests();
    let progress_before = b.progress.lock().unwrap().len();
    let err = b.fetch(&next).await.unwrap_err();
    let GraphError::ForeignLink { url, root } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((url, root.as_str()), (&next.url, b.root.as_str()));
    assert!(err.hint().is_some());
    assert!(!err.to_string().contains("engine-emulator-test"));
    assert_eq!(
        b.graph_requests(),
        requests,
        "no request reached the emulator"
    );
    assert_eq!(
        b.progress.lock().unwrap().len(),
        progress_before,
        "not even an attempt was started"
    );
    if let Some(accept) = accept {
        // The listener is live: a probe connection is counted, the refused link was not.
        tokio::net::TcpStream::connect(("127.0.0.2", port))
            .await
            .unwrap();
        for _ in 0..1000 {
            if connections.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1, "only the probe");
        accept.abort();
    }

    // The link cannot be followed: a full resync runs instead, and nothing is lost.
    s.resync().unwrap();
    b.finish(&mut s).await;
    assert!(s.rounds()[0].abandoned);
    assert!(matches!(s.rounds()[0].stop, Some(Stop::RefusedLink { .. })));
    assert_full_round(last(&s), 2 * PAGE);
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn a_foreign_delta_link_stops_the_round_and_is_not_kept() {
    let (b, q, mut s) = contacts_bed(false).await;
    b.step(&mut s).await.unwrap();
    b.step(&mut s).await.unwrap();
    b.fault("foreign-link:1");
    let report = b.step(&mut s).await.unwrap();
    assert!(!report.round_complete);
    assert!(
        matches!(
            &report.stop,
            Some(Stop::RefusedLink {
                which: "deltaLink",
                ..
            })
        ),
        "{:?}",
        report.stop
    );
    assert!(
        last(&s).to_string().contains("(stopped: the deltaLink"),
        "{}",
        last(&s)
    );
    // Neither followed nor kept: no deltaLink to save.
    assert_eq!(s.next_request(), None);
    assert_eq!(s.delta_link(), None);
    // The replica of the completed round is whole.
    b.assert_converged(&s, &q).await;
    s.resync().unwrap();
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.full && r.complete && r.updated == CONTACTS, "{r}");
    b.assert_converged(&s, &q).await;
}

// ----- minimal rounds ----------------------------------------------------------------------

#[tokio::test]
async fn minimal_rounds_with_changes_merge_to_the_fresh_replica() {
    let (b, q, mut s) = contacts_bed(true).await;
    assert_eq!(
        s.next_request().unwrap().headers,
        vec![("Prefer".to_owned(), "return=minimal".to_owned())]
    );
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.minimal && r.full, "{r}");
    b.eight_changes();
    b.fault("duplicate:1");
    b.finish(&mut s).await;
    let r = last(&s).clone();
    assert!(r.minimal && !r.full && r.complete, "{r}");
    assert_eq!(r.pages, 2, "{r}");
    // 3 updated + 1 restored (soft-deleted then restored within the round: returned as present),
    // 2 added, 1 soft- and 1 hard-deleted
    assert_eq!(
        (r.added, r.removed_changed, r.removed_deleted),
        (2, 1, 1),
        "{r}"
    );
    for p in ["jobTitle", "department", "mail", "companyName"] {
        assert!(r.property_changes.contains_key(p), "{p}: {r}");
    }
    assert_eq!(
        s.replica().get(&b.contact(1)).unwrap().get("department"),
        Some(&Value::Null)
    );
    assert_eq!(
        s.replica().get(&b.contact(0)).unwrap()["jobTitle"],
        json!("Chief Delta Officer")
    );
    b.assert_converged(&s, &q).await;

    // Another minimal round: a soft-deleted contact restored comes back whole.
    b.ctl.restore_contact(&b.contact(3)).unwrap();
    b.ctl
        .update_contact(&b.contact(3), &json!({"jobTitle": "Back"}))
        .unwrap();
    b.finish(&mut s).await;
    assert_eq!(
        s.replica().get(&b.contact(3)).unwrap()["jobTitle"],
        json!("Back")
    );
    b.assert_converged(&s, &q).await;
}

// ----- every fault in one session ----------------------------------------------------------

impl Bed {
    /// Completes a round whatever happens, the way a client should: retry the same request
    /// after a transient error, restart from the Location after a 410, resync when the sync
    /// state is gone or the link cannot be followed. Returns the errors met.
    async fn finish_recovering(&self, s: &mut Session) -> Vec<GraphError> {
        let mut errors = Vec::new();
        for _ in 0..1000 {
            match self.step(s).await {
                Ok(r) if r.round_complete => return errors,
                // A link the round refused (another origin): not kept, so a full resync.
                Ok(PageReport {
                    stop: Some(Stop::RefusedLink { link, .. }),
                    ..
                }) => {
                    s.resync().unwrap();
                    errors.push(GraphError::ForeignLink {
                        url: link,
                        root: self.root.to_string(),
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    if let Some(location) = e.resync_location() {
                        s.restart_from(location.to_owned());
                    } else if e.needs_resync() || matches!(e, GraphError::ForeignLink { .. }) {
                        s.resync().unwrap();
                    }
                    errors.push(e);
                    assert!(errors.len() < 20, "{errors:?}");
                }
            }
        }
        panic!("the round never completed");
    }
}

#[tokio::test]
async fn a_session_through_every_fault_ends_with_the_fresh_replica() {
    const FAULTS: [&str; 13] = [
        "throttle:1:0.01",
        "unavailable:1:0.01",
        "gone:1",
        "expired",
        "unauthorized:1",
        "forbidden:1",
        "empty:2",
        "duplicate:1",
        "replay",
        "shuffle:2",
        "malformed:1",
        "truncated:1",
        "foreign-link:1",
    ];
    for minimal in [false, true] {
        let (b, q, mut s) = contacts_bed(minimal).await;
        let mut errors = b.finish_recovering(&mut s).await;
        assert!(errors.is_empty());
        for (i, fault) in FAULTS.iter().enumerate() {
            b.ctl.mutate(4 + i as u64 % 5);
            // Half the faults hit the first request of the round, half a page within it.
            if i % 2 == 1 {
                let r = b.step(&mut s).await.unwrap();
                if r.round_complete {
                    b.ctl.mutate(6);
                }
            }
            b.fault(fault);
            errors.extend(b.finish_recovering(&mut s).await);
            // Every round ends with the fresh replica (a foreign link stops its round, which
            // is not kept as the way on: a full resync follows).
            let fresh = b.fresh(&q).await;
            assert_eq!(
                s.replica().normalized(),
                fresh.replica().normalized(),
                "minimal {minimal}, after {fault}: {}",
                last(&s)
            );
        }
        b.ctl.mutate(5);
        errors.extend(b.finish_recovering(&mut s).await);
        b.assert_converged(&s, &q).await;
        // gone, expired, unauthorized, forbidden, malformed, truncated, foreign-link
        let mut kinds: Vec<String> = errors
            .iter()
            .map(|e| match e {
                GraphError::Http { status, .. } => status.to_string(),
                GraphError::ForeignLink { .. } => "foreign".into(),
                GraphError::Malformed { .. } => "malformed".into(),
                GraphError::Network(_) => "network".into(),
                other => format!("{other:?}"),
            })
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "400",
                "401",
                "403",
                "410",
                "foreign",
                "malformed",
                "network"
            ],
            "{errors:?}"
        );
        // the initial round, the 410 restart, the expired resync, the foreign-link resync
        assert_eq!(s.rounds().iter().filter(|r| r.full).count(), 4);
    }
}

#[tokio::test]
async fn users_and_recordings_rounds_through_faults() {
    let b = bed().await;
    // users: 50 in pages of 5
    let q = DeltaQuery::new("users", ApiVersion::V1_0);
    let mut s = b.session(&q);
    b.fault("throttle:1:0.01");
    b.fault("empty:1");
    b.fault("duplicate:1");
    b.fault("shuffle:3");
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(r.complete && r.empty_pages == 1 && r.duplicates > 0, "{r}");
    b.assert_converged(&s, &q).await;

    // recordings with $top=3: 7, then 4 more in a later round cut by a 410
    let org = b.emu.demo().organizers[0].clone();
    let q = recordings(&org, Some(3));
    let mut s = b.session(&q);
    b.finish(&mut s).await;
    assert_eq!(s.replica().len(), 7);
    for _ in 0..4 {
        b.ctl.add_recording(Some(&org)).unwrap();
    }
    b.fault("throttle:1:0.01");
    b.step(&mut s).await.unwrap();
    assert!(s.in_round());
    b.fault("gone:1");
    let errors = b.finish_recovering(&mut s).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].hint().unwrap().contains("full resync"));
    let r = last(&s);
    assert!(r.full && r.complete && r.items == 11 && r.pages == 4, "{r}");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    b.assert_converged(&s, &q).await;

    // transcripts share the known issue
    let mut q = recordings(&org, Some(3));
    q.resource = "transcripts".into();
    let healthy = b.fresh(&q).await;
    b.fault("drop-next-link");
    let mut s = b.session(&q);
    let reports = b.finish(&mut s).await;
    let lost = healthy.replica().len() - s.replica().len();
    assert!(lost > 0);
    assert!(
        all_warnings(&reports)
            .iter()
            .any(|w| w.contains("known issue")),
        "{reports:?}"
    );
}

#[tokio::test]
async fn a_restart_from_the_location_keeps_the_query_options() {
    let b = bed().await;
    let mut q = contacts(true);
    q.ids = (0..3).map(|i| b.contact(i)).collect();
    q.select = vec!["displayName".into(), "mail".into()];
    let mut s = b.session(&q);
    b.finish(&mut s).await;
    assert_eq!(s.replica().len(), 3);
    b.ctl
        .update_contact(&b.contact(0), &json!({"mail": "only.this@contoso.example"}))
        .unwrap();
    b.ctl
        .update_contact(&b.contact(1), &json!({"jobTitle": "Not selected"}))
        .unwrap();
    b.ctl
        .update_contact(
            &b.contact(9),
            &json!({"mail": "not.filtered@contoso.example"}),
        )
        .unwrap();
    b.fault("gone:1");
    let errors = b.finish_recovering(&mut s).await;
    assert_eq!(errors[0].status(), Some(410));
    let r = last(&s);
    assert!(r.full && r.minimal && r.items == 3, "{r}");
    for (id, obj) in s.replica().iter() {
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.retain(|k| !k.starts_with('@'));
        keys.sort();
        assert!(
            keys.iter()
                .all(|k| ["displayName", "id", "mail"].contains(k)),
            "{id}: {keys:?}"
        );
    }
    assert_eq!(
        s.replica().get(&b.contact(0)).unwrap()["mail"],
        json!("only.this@contoso.example")
    );
    b.assert_converged(&s, &q).await;

    // A later round brings the selected change only.
    b.ctl
        .update_contact(&b.contact(2), &json!({"displayName": "Renamed"}))
        .unwrap();
    b.ctl
        .update_contact(&b.contact(2), &json!({"department": "Not selected"}))
        .unwrap();
    b.fault("throttle:1:0.01");
    b.finish(&mut s).await;
    let r = last(&s);
    assert!(!r.full && r.items == 1 && r.updated == 1, "{r}");
    assert_eq!(
        r.property_changes.keys().collect::<Vec<_>>(),
        ["displayName"],
        "{r}"
    );
    b.assert_converged(&s, &q).await;
}

#[tokio::test]
async fn a_resync_of_a_sync_from_now_query_warns_that_changes_were_skipped() {
    let b = bed().await;
    let mut q = contacts(false);
    q.latest = true;
    let mut s = b.session(&q);
    let reports = b.finish(&mut s).await;
    assert!(all_warnings(&reports).is_empty());
    assert!(s.replica().is_empty() && !last(&s).full);
    b.ctl
        .update_contact(&b.contact(0), &json!({"jobTitle": "Seen"}))
        .unwrap();
    b.finish(&mut s).await;
    assert_eq!(s.replica().len(), 1);
    b.ctl
        .update_contact(&b.contact(0), &json!({"jobTitle": "Missed"}))
        .unwrap();
    b.fault("expired");
    let err = b.step(&mut s).await.unwrap_err();
    assert!(err.needs_resync());
    s.resync().unwrap();
    let reports = b.finish(&mut s).await;
    let warnings = all_warnings(&reports);
    assert!(
        warnings.len() == 1 && warnings[0].contains("out of date"),
        "{warnings:?}"
    );
    assert_eq!(
        s.replica().get(&b.contact(0)).unwrap()["jobTitle"],
        json!("Seen")
    );
}
