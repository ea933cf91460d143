use super::history::{EventKind, timeline};
use super::record::{FailedRequest, Origin, SessionInfo};
use super::*;
use crate::graph::page::{Page, PageRequest, RequestKind};
use crate::graph::query::{ApiVersion, DeltaQuery};
use crate::graph::round::Session;

const ROOT: &str = "http://127.0.0.1:9";

fn temp_store() -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new();
    let path = dir.path.join("nested").join("store.sqlite");
    (dir, path)
}

/// A directory removed at the end of the test (no extra crate for it).
mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!(
                "deltascope-store-test-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn request(url: &str, kind: RequestKind) -> PageRequest {
    PageRequest {
        url: url.to_owned(),
        headers: vec![("Prefer".into(), "return=minimal".into())],
        kind,
    }
}

fn info() -> SessionInfo {
    SessionInfo {
        graph_root: ROOT.into(),
        embedded: false,
        tenant_id: None,
        identity: None,
        query: DeltaQuery::new("contacts", ApiVersion::V1_0),
        first: request(&format!("{ROOT}/v1.0/contacts/delta"), RequestKind::Initial),
        origin: Origin::Sync,
    }
}

/// Three rounds about object a: added (with b), changed and b removed, soft-deleted, restored.
fn pages() -> Vec<Page> {
    let first = format!("{ROOT}/v1.0/contacts/delta");
    let p = |url: &str, kind, body: &str| {
        let mut page = Page::parse(request(url, kind), body.to_owned()).unwrap();
        page.request_headers = vec![
            ("Authorization".into(), "Bearer ***".into()),
            ("Prefer".into(), "return=minimal".into()),
        ];
        page.headers = vec![("content-type".into(), "application/json".into())];
        page
    };
    vec![
        p(
            &first,
            RequestKind::Initial,
            &format!(
                r#"{{"value":[{{"id":"a","displayName":"Ann","mail":"ann@x"}}],"@odata.nextLink":"{ROOT}/v1.0/contacts/delta?$skiptoken=1"}}"#
            ),
        ),
        p(
            &format!("{ROOT}/v1.0/contacts/delta?$skiptoken=1"),
            RequestKind::Next,
            &format!(
                r#"{{"value":[{{"id":"b","displayName":"Bob"}}],"@odata.deltaLink":"{ROOT}/v1.0/contacts/delta?$deltatoken=2"}}"#
            ),
        ),
        p(
            &format!("{ROOT}/v1.0/contacts/delta?$deltatoken=2"),
            RequestKind::Delta,
            &format!(
                r#"{{"value":[{{"id":"a","displayName":"Anne"}},{{"id":"b","@removed":{{"reason":"deleted"}}}}],"@odata.deltaLink":"{ROOT}/v1.0/contacts/delta?$deltatoken=3"}}"#
            ),
        ),
        p(
            &format!("{ROOT}/v1.0/contacts/delta?$deltatoken=3"),
            RequestKind::Delta,
            &format!(
                r#"{{"value":[{{"id":"a","@removed":{{"reason":"changed"}}}}],"@odata.deltaLink":"{ROOT}/v1.0/contacts/delta?$deltatoken=4"}}"#
            ),
        ),
        p(
            &format!("{ROOT}/v1.0/contacts/delta?$deltatoken=4"),
            RequestKind::Delta,
            &format!(
                r#"{{"value":[{{"id":"a","mail":"anne@x"}}],"@odata.deltaLink":"{ROOT}/v1.0/contacts/delta?$deltatoken=5"}}"#
            ),
        ),
    ]
}

/// Records the pages as the engine applies them; returns the engine's session.
fn record_all(path: &Path) -> (i64, Session) {
    let store = Store::open(path).unwrap();
    let recorder = Recorder::start(store, &info()).unwrap();
    let mut session = Session::new(info().first);
    for page in pages() {
        let report = session.apply(&page);
        let round = session.rounds().last().unwrap().clone();
        recorder.page(page, &report, &round);
    }
    recorder.failure(FailedRequest {
        request: request(
            &format!("{ROOT}/v1.0/contacts/delta?$deltatoken=5"),
            RequestKind::Delta,
        ),
        round: 5,
        error: "HTTP 503".into(),
        response: None,
        elapsed: std::time::Duration::from_millis(12),
    });
    recorder.flush().unwrap();
    (recorder.session_id(), session)
}

#[test]
fn a_new_store_is_created_owner_only_with_its_directory() {
    let (_dir, path) = temp_store();
    let store = Store::open(&path).unwrap();
    assert!(store.sessions().unwrap().is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
    drop(store);
    // Opened again: the same schema, nothing migrated twice.
    Store::open(&path).unwrap();
}

#[test]
fn an_existing_file_with_a_wide_mode_is_taken_back_to_owner_only() {
    let (_dir, path) = temp_store();
    drop(Store::open(&path).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(Store::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_newer_schema_another_database_and_a_damaged_file_are_each_said() {
    let (_dir, path) = temp_store();
    drop(Store::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    let e = Store::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::Newer { found: 99, .. }), "{e}");
    assert!(e.to_string().contains("newer deltascope"), "{e}");

    let other = path.with_file_name("other.sqlite");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
    }
    let e = Store::open(&other).unwrap_err();
    assert!(matches!(e, StoreError::NotOurs { .. }), "{e}");

    let junk = path.with_file_name("junk.sqlite");
    std::fs::write(
        &junk,
        b"this is not a database, just text that fills a page ".repeat(100),
    )
    .unwrap();
    let e = Store::open(&junk).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("move it aside"), "{e}");
}

#[test]
fn pages_rounds_and_items_are_recorded_without_the_authorization_header() {
    let (_dir, path) = temp_store();
    let (id, _) = record_all(&path);
    let store = Store::open(&path).unwrap();
    let sessions = store.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!((s.id, s.rounds, s.requests), (id, 4, 6));
    assert_eq!(s.resource, "contacts");
    assert_eq!(
        s.last_delta_link.as_deref(),
        Some("http://127.0.0.1:9/v1.0/contacts/delta?$deltatoken=5")
    );
    assert_eq!(
        s.headers,
        vec![("Prefer".to_owned(), "return=minimal".to_owned())]
    );
    let kinds: Vec<(u32, String, bool)> = store
        .conn
        .prepare("SELECT number, kind, complete FROM rounds ORDER BY number")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, "full".into(), true),
            (2, "delta".into(), true),
            (3, "delta".into(), true),
            (4, "delta".into(), true)
        ]
    );
    let headers: Vec<String> = store
        .conn
        .prepare("SELECT request_headers FROM requests")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        headers
            .iter()
            .all(|h| !h.to_ascii_lowercase().contains("authorization")),
        "{headers:?}"
    );
    let outcomes: Vec<(String, String, Option<String>)> = store
        .conn
        .prepare("SELECT object_id, outcome, changed FROM items ORDER BY request_id, position")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("a".into(), "added".into(), None),
            ("b".into(), "added".into(), None),
            (
                "a".into(),
                "updated".into(),
                Some(r#"["displayName"]"#.into())
            ),
            ("b".into(), "removed".into(), None),
            ("a".into(), "removed".into(), None),
            ("a".into(), "restored".into(), None),
        ]
    );
}

#[test]
fn a_replayed_session_has_the_same_replica_and_goes_on_from_the_last_delta_link() {
    let (_dir, path) = temp_store();
    let (id, live) = record_all(&path);
    let store = Store::open(&path).unwrap();
    let stored = store.load(id).unwrap();
    assert_eq!(stored.requests.len(), 6);
    assert_eq!(stored.requests[5].error.as_deref(), Some("HTTP 503"));
    let replayed = replay::replay(stored, Default::default());
    assert_eq!(
        replayed.session.replica().normalized(),
        live.replica().normalized()
    );
    assert_eq!(replayed.session.rounds(), live.rounds());
    assert_eq!(
        replayed.session.next_request().unwrap().url,
        "http://127.0.0.1:9/v1.0/contacts/delta?$deltatoken=5"
    );
    let outcomes: Vec<usize> = replayed
        .requests
        .iter()
        .filter_map(|(_, r)| r.as_ref().map(|r| r.outcomes.len()))
        .collect();
    assert_eq!(outcomes, vec![1, 1, 2, 1, 1]);
}

#[test]
fn an_objects_history_tells_each_step_with_values_before_and_after() {
    let (_dir, path) = temp_store();
    let (id, _) = record_all(&path);
    let store = Store::open(&path).unwrap();
    let events = timeline(&store.occurrences(id, "a").unwrap());
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::FirstSeen,
            EventKind::Changed,
            EventKind::Removed,
            EventKind::Restored
        ]
    );
    let change = &events[1].changes[0];
    assert_eq!(change.property, "displayName");
    assert_eq!(change.before, Some(serde_json::json!("Ann")));
    assert_eq!(change.after, Some(serde_json::json!("Anne")));
    assert!(
        events[2].summary.contains("soft-deleted"),
        "{}",
        events[2].summary
    );
    assert!(
        events[3].summary.contains("in round 3"),
        "{}",
        events[3].summary
    );
    // Restored in a minimal round: merged onto its last state, mail changed.
    assert_eq!(events[3].changes[0].property, "mail");
    assert_eq!(
        events[3].changes[0].before,
        Some(serde_json::json!("ann@x"))
    );
    let b = timeline(&store.occurrences(id, "b").unwrap());
    assert_eq!(b[1].kind, EventKind::Removed);
    assert!(b[1].summary.contains("for good"), "{}", b[1].summary);
}

#[test]
fn exports_parse_back() {
    let (_dir, path) = temp_store();
    let (id, live) = record_all(&path);
    let store = Store::open(&path).unwrap();
    let mut items = Vec::new();
    assert_eq!(export::items_ndjson(&store, id, &mut items).unwrap(), 6);
    let lines: Vec<serde_json::Value> = String::from_utf8(items)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[3]["@removed"]["reason"], "deleted");

    let mut csv = Vec::new();
    let columns = export::default_columns(live.replica());
    assert_eq!(columns, vec!["id", "displayName", "mail"]);
    export::replica_csv(live.replica(), &columns, &mut csv).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "id,displayName,mail\na,Anne,anne@x\n"
    );

    let mut har = Vec::new();
    let stored = store.load(id).unwrap();
    assert_eq!(export::har(&stored, &mut har).unwrap(), 6);
    let har: serde_json::Value = serde_json::from_slice(&har).unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries[5]["response"]["status"], 0);
    assert!(
        !serde_json::to_string(&har)
            .unwrap()
            .to_ascii_lowercase()
            .contains("bearer")
    );
}

#[test]
fn csv_cells_are_quoted_and_formulas_defused() {
    let mut replica_session = Session::new(info().first);
    let page = Page::parse(
        info().first,
        r#"{"value":[{"id":"x","displayName":"=HYPERLINK(\"http://evil\")","note":"a,b\nc"}],"@odata.deltaLink":"http://127.0.0.1:9/v1.0/contacts/delta?$deltatoken=1"}"#,
    )
    .unwrap();
    replica_session.apply(&page);
    let mut out = Vec::new();
    let cols = vec!["id".to_owned(), "displayName".to_owned(), "note".to_owned()];
    export::replica_csv(replica_session.replica(), &cols, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "id,displayName,note\nx,\"'=HYPERLINK(\"\"http://evil\"\")\",\"a,b\nc\"\n"
    );
}

#[test]
fn two_writers_share_the_file() {
    let (_dir, path) = temp_store();
    let a = Recorder::start(Store::open(&path).unwrap(), &info()).unwrap();
    let b = Recorder::start(Store::open(&path).unwrap(), &info()).unwrap();
    let mut sa = Session::new(info().first);
    let mut sb = Session::new(info().first);
    for page in pages() {
        let (ra, rb) = (sa.apply(&page), sb.apply(&page));
        a.page(page.clone(), &ra, sa.rounds().last().unwrap());
        b.page(page, &rb, sb.rounds().last().unwrap());
    }
    a.flush().unwrap();
    b.flush().unwrap();
    let store = Store::open(&path).unwrap();
    let sessions = store.sessions().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.rounds == 4 && s.requests == 5));
}

#[test]
fn why_an_object_is_missing_from_a_round_follows_the_rules() {
    use super::history::{Absence, absences};
    use super::read::RoundRow;
    let round = |number: u32, kind: &str, complete: bool| RoundRow {
        number,
        kind: kind.into(),
        minimal: false,
        complete,
    };
    let seen = |round: u32, outcome: &str, removed: Option<&str>| Occurrence {
        round,
        round_kind: String::new(),
        minimal: false,
        page: 1,
        position: 0,
        outcome: outcome.into(),
        removed: removed.map(str::to_owned),
        changed: Vec::new(),
        at: None,
        json: "{}".into(),
    };
    let rounds = [
        round(1, "full", true),
        round(2, "delta", true),
        round(3, "delta", true),
        round(4, "delta", true),
        round(5, "latest", true),
        round(6, "delta", true),
        round(7, "delta", false),
        round(8, "full", true),
        round(9, "delta", true),
    ];
    let select = ["displayName".to_owned(), "mail".to_owned()];
    // Seen in round 1, changed in 3, soft-deleted in 6: absent from 2 and 4 (nothing tracked
    // changed), from 8 (a full round without it drops it) and from nothing after.
    let history = [
        seen(1, "added", None),
        seen(3, "updated", None),
        seen(6, "removed", Some("changed")),
    ];
    let got = absences(&history, &rounds, &select);
    let tracked = "only the selected properties are tracked (displayName, mail)";
    assert_eq!(
        got,
        vec![
            Absence {
                from: 2,
                to: 2,
                why: format!("nothing Graph tracks about it changed since round 1: {tracked}, so a change to any other property puts it in no round"),
            },
            Absence {
                from: 4,
                to: 4,
                why: format!("nothing Graph tracks about it changed since round 3: {tracked}, so a change to any other property puts it in no round"),
            },
            Absence {
                from: 8,
                to: 8,
                why: "a full round restates every live object and sends no @removed: it was not live (or not in the query's scope) when this round began, so the replica drops it".into(),
            },
        ]
    );
    // Soft-deleted and not back: each later delta round says so, consecutive ones as one;
    // deleted for good: nothing more to say; never seen before: nothing either.
    let soft = [seen(2, "added", None), seen(3, "removed", Some("changed"))];
    let got = absences(&soft, &rounds[..4], &[]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].from, got[0].to), (4, 4));
    assert!(got[0].why.starts_with("still soft-deleted"), "{got:?}");
    let got = absences(&soft, &rounds[..7], &[]);
    assert_eq!(
        (got[0].from, got[0].to),
        (4, 6),
        "round 5 is a round from now"
    );
    let gone = [seen(1, "added", None), seen(2, "removed", Some("deleted"))];
    assert!(absences(&gone, &rounds, &[]).is_empty());
}
