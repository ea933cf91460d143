//! Conformance with the documented callTranscript delta (api-reference/v1.0/api/
//! calltranscript-delta.md, Examples 1 and 2) and the beta callRecording delta
//! (api-reference/beta/api/callrecording-delta.md, Examples 1 and 2): a loopback server replays
//! bodies in the documented shapes (the docs' ids, values and link forms, `users({userId})`,
//! `skipToken=` in the nextLinks and in the deltaLink alike, `@odata.count`; only the links'
//! origin is the loopback server's) and the engine walks them.
//!
//! The documented pages are truncated copies of one object: the same id on all three pages of
//! the round and again in the next round. What must hold: the engine follows the documented
//! links (a deltaLink spelled with `skipToken=` ends the round), counts the copies as duplicates
//! within the round and as an update in the next one, keeps one object, and warns of nothing.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;
mod support;

use deltascope::graph::page::{PageRequest, RequestKind};
use deltascope::graph::round::{Outcome, PageReport, Session};
use loopback::Server;
use serde_json::{Value, json};
use support::engine::walk_round;

const ORGANIZER: &str = "8b081ef6-4792-4def-b2c9-c363a1bf41d5";
const ID: &str = "VjIjIzExYzkxNjVmZi1hZTkyLTQ5YWYtODliNC00MTU1NTRhMzZhNTFhMWQyODZkYi02MTQ5LTRiM2QtOTVhZC0yM2M5ZTFiZjY4NTMwNDAwMDAwMDgyMDBFMDAwNzRDNUI3MTAxQTgyRTAwODA3ZTcwYzAyM2U4MGEwOWVmN2ZmZDkwMTAwMDAwMDAwMDAwMDAwMDAxMDAwMDAwMDI3N2Q3NzZjYmNmMjQ5NGNiNDk0NDExZGE3YzRhMmM1IyM3YTM2NDRjYi1mMDA3LTRjMDAtOWJiMy1jMTUzYzE4ODY4NGY=";
const MEETING: &str = "MSoxYzkxNjVmZi1hZTkyLTQ5YWYtODliNC00MTU1NTRhMzZhNTEqMCoqMTk6bWVldGluZ19PVEJsT1RjeE16QXROemMwWVMwMFl6QTFMVGhpWldFdFpUaGtNMlk0WkRKaFlUQTFAdGhyZWFkLnYy";

/// One documented resource: its version, function, type and content URL segment.
struct Doc {
    version: &'static str,
    function: &'static str,
    kind: &'static str,
    content: (&'static str, &'static str),
    /// The beta callRecording example's organizer (its `meetingOrganizerId`).
    organizer_id: Option<&'static str>,
}

const TRANSCRIPTS: Doc = Doc {
    version: "v1.0",
    function: "getAllTranscripts",
    kind: "callTranscript",
    content: ("transcriptContentUrl", "transcripts"),
    organizer_id: None,
};

const BETA_RECORDINGS: Doc = Doc {
    version: "beta",
    function: "getAllRecordings",
    kind: "callRecording",
    content: ("recordingContentUrl", "recordings"),
    organizer_id: Some("1c9165ff-ae92-49af-89b4-415554a36a51"),
};

impl Doc {
    fn item(&self) -> Value {
        let org = self.organizer_id.unwrap_or(ORGANIZER);
        let mut item = json!({
            "@odata.type": format!("#microsoft.graph.{}", self.kind),
            "id": ID,
            "meetingId": MEETING,
            "createdDateTime": "2023-12-02T06:59:34.7411768Z",
            self.content.0: format!(
                "https://graph.microsoft.com/{}/users/{org}/onlineMeetings/{MEETING}/{}/{ID}/content",
                self.version, self.content.1
            ),
            "meetingOrganizer": {
                "application": null,
                "device": null,
                "user": {
                    "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                    "id": org,
                    "displayName": null,
                    "userIdentityType": "aadUser",
                    "tenantId": "a1d286db-6149-4b3d-95ad-23c9e1bf6853"
                }
            }
        });
        if let Some(o) = self.organizer_id {
            item["meetingOrganizerId"] = json!(o);
        }
        item
    }

    /// The documented link form: `users({userId})` and `skipToken=` for every link.
    fn link(&self, base: &str, token: &str) -> String {
        format!(
            "{base}/{}/users({{userId}})/onlineMeetings/{}(meetingOrganizerUserId='{ORGANIZER}')/delta?skipToken={token}",
            self.version, self.function
        )
    }

    fn page(&self, base: &str, key: &str, token: &str) -> String {
        json!({
            "@odata.context": format!("https://graph.microsoft.com/{}/$metadata#Collection({})", self.version, self.kind),
            key: self.link(base, token),
            "@odata.count": 1,
            "value": [self.item()],
        })
        .to_string()
    }

    /// Example 1's three responses, then Example 2's.
    fn bodies(&self, base: &str) -> Vec<String> {
        vec![
            self.page(base, "@odata.nextLink", "skipToken1"),
            self.page(base, "@odata.nextLink", "skipToken2"),
            self.page(base, "@odata.deltaLink", "deltaToken1"),
            self.page(base, "@odata.deltaLink", "deltaToken2"),
        ]
    }

    fn first_request(&self, base: &str) -> PageRequest {
        PageRequest {
            url: format!(
                "{base}/{}/users/{ORGANIZER}/onlineMeetings/{}(meetingOrganizerUserId='{ORGANIZER}')/delta",
                self.version, self.function
            ),
            headers: vec![],
            kind: RequestKind::Initial,
        }
    }
}

/// One round; the documented bodies warn of nothing.
async fn round(server: &Server, session: &mut Session) -> Vec<PageReport> {
    let reports = walk_round(&server.base, session).await;
    assert!(reports.iter().all(|r| r.warnings.is_empty()), "{reports:?}");
    reports
}

async fn walk_the_documented_examples(doc: &'static Doc) {
    let server = Server::serving_in_order(|base| doc.bodies(base)).await;
    let mut session = Session::new(doc.first_request(&server.base));

    // Example 1: three pages, the same object on each; the deltaLink (skipToken=) ends it.
    let reports = round(&server, &mut session).await;
    let outcomes: Vec<Vec<Outcome>> = reports.iter().map(|r| r.outcomes.clone()).collect();
    assert_eq!(
        outcomes,
        [
            vec![Outcome::Added],
            vec![Outcome::Duplicate],
            vec![Outcome::Duplicate]
        ]
    );
    let r1 = session.rounds()[0].clone();
    assert!(r1.full && r1.complete);
    assert_eq!(
        (r1.pages, r1.items, r1.added, r1.updated, r1.duplicates),
        (3, 3, 1, 0, 2)
    );
    assert_eq!(
        r1.delta_link.as_deref(),
        Some(doc.link(&server.base, "deltaToken1").as_str())
    );
    // The requests: the documented first request, then each nextLink as given.
    let paths: Vec<String> = server.requests().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(paths.len(), 3);
    assert!(
        paths[0].ends_with(&format!(
            "/{}/users/{ORGANIZER}/onlineMeetings/{}(meetingOrganizerUserId='{ORGANIZER}')/delta",
            doc.version, doc.function
        )),
        "{paths:?}"
    );
    assert!(
        paths[1].ends_with("delta?skipToken=skipToken1"),
        "{paths:?}"
    );
    assert!(
        paths[2].ends_with("delta?skipToken=skipToken2"),
        "{paths:?}"
    );

    // Example 2: the next round from the deltaLink brings the object again: an update.
    let reports = round(&server, &mut session).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcomes, [Outcome::Updated]);
    let r2 = session.rounds()[1].clone();
    assert!(!r2.full && r2.complete);
    assert_eq!((r2.pages, r2.items, r2.added, r2.updated), (1, 1, 0, 1));
    assert!(
        server.requests()[3]
            .uri
            .ends_with("delta?skipToken=deltaToken1")
    );

    // One object, as documented (the beta one with its meetingOrganizerId).
    assert_eq!(session.replica().len(), 1);
    let held = serde_json::to_value(session.replica().get(ID).unwrap()).unwrap();
    assert_eq!(held["meetingId"], MEETING);
    assert_eq!(
        held.get("meetingOrganizerId").and_then(Value::as_str),
        doc.organizer_id
    );
}

#[tokio::test]
async fn the_documented_call_transcript_rounds() {
    walk_the_documented_examples(&TRANSCRIPTS).await;
}

#[tokio::test]
async fn the_documented_beta_call_recording_rounds() {
    walk_the_documented_examples(&BETA_RECORDINGS).await;
}
