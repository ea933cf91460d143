//! The catalog's resources against Graph's documented examples (api-reference/v1.0/api/
//! *-delta.md, and concepts/delta-query-messages.md for the one documented message removal):
//! the first requests the builder sends, and the documented pages read by the engine (ids,
//! removals as `@removed` or a `deleted` facet, links verbatim, the rounds and the replica).
//!
//! The bodies in tests/fixtures/docs/ were written by us in the documented shape (keys, link
//! spellings, removal shapes kept as the pages show them; long values shortened); each file
//! names its page and lists where it had to differ from it.
#![allow(clippy::unwrap_used)]

use deltascope::graph::catalog::{Catalog, Removal};
use deltascope::graph::link::{self, TokenKind};
use deltascope::graph::page::{Page, PageRequest, RemovedReason, RequestKind};
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::Session;
use serde_json::Value;

const RESOURCES: [&str; 13] = [
    "applications",
    "servicePrincipals",
    "devices",
    "directoryRoles",
    "administrativeUnits",
    "oauth2PermissionGrants",
    "directoryObjects",
    "messages",
    "mailFolders",
    "events",
    "personalContacts",
    "driveItems",
    "todoTasks",
];

fn fixture(resource: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/docs/{resource}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn examples(resource: &str) -> Vec<Value> {
    fixture(resource)["examples"].as_array().unwrap().clone()
}

fn root() -> GraphRoot {
    GraphRoot::parse("https://graph.microsoft.com").unwrap()
}

/// The URL of a documented request line (`GET https://…`).
fn doc_url(example: &Value) -> String {
    let line = example["request"].as_str().unwrap();
    line.strip_prefix("GET ").unwrap_or(line).to_owned()
}

/// A URL as compared with the docs: percent-decoded, without case (the pages spell paths and
/// parameter names in either case: /administrativeunits, startdatetime).
fn norm(url: &str) -> String {
    percent_encoding::percent_decode_str(url)
        .decode_utf8_lossy()
        .to_ascii_lowercase()
}

fn query(resource: &str, set: impl FnOnce(&mut DeltaQuery)) -> PageRequest {
    let mut q = DeltaQuery::new(resource, ApiVersion::V1_0);
    set(&mut q);
    q.first_request(Catalog::builtin(), &root())
        .unwrap_or_else(|e| panic!("{resource}: {e}"))
}

fn param(q: &mut DeltaQuery, name: &str, value: &str) {
    q.params.insert(name.into(), value.into());
}

#[test]
fn every_resource_has_its_documented_example() {
    let c = Catalog::builtin();
    for r in RESOURCES {
        let spec = c
            .get(r)
            .unwrap_or_else(|| panic!("{r} is not in the catalog"));
        let f = fixture(r);
        let source = f["source"].as_str().unwrap();
        assert!(source.contains("api-reference/v1.0/api/"), "{r}: {source}");
        assert!(!examples(r).is_empty(), "{r}");
        // The documented page is the one the catalog links to.
        let page = spec
            .doc_url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        assert!(
            source.contains(&format!("{page}.md")),
            "{r}: {page} vs {source}"
        );
    }
}

#[test]
fn the_builder_sends_the_documented_first_requests() {
    let maxpage2 = vec![("Prefer".to_owned(), "odata.maxpagesize=2".to_owned())];
    for r in [
        "applications",
        "servicePrincipals",
        "devices",
        "directoryRoles",
        "administrativeUnits",
        "oauth2PermissionGrants",
    ] {
        let doc = &examples(r)[0];
        assert_eq!(norm(&query(r, |_| {}).url), norm(&doc_url(doc)), "{r}");
    }
    // directoryObjects: isof() per type (the page's example 1 writes `filter` without `$`;
    // its examples 3 and 4 write `$filter`), then one object by id.
    let docs = examples("directoryObjects");
    let typed = query("directoryObjects", |q| {
        q.types = vec!["user".into(), "microsoft.graph.group".into()]
    });
    assert_eq!(
        norm(&typed.url),
        norm(&doc_url(&docs[0])).replace("?filter=", "?$filter=")
    );
    let one = query("directoryObjects", |q| {
        q.ids = vec!["87d349ed-44d7-43e1-9a83-5f2406dee5bd".into()]
    });
    assert_eq!(norm(&one.url), norm(&doc_url(&docs[1])));
    let minimal = query("directoryObjects", |q| {
        q.types = vec!["user".into(), "group".into()];
        q.minimal = true;
    });
    assert_eq!(
        minimal.headers,
        [("Prefer".into(), "return=minimal".into())]
    );
    // Outlook: /me spellings, page size by Prefer: odata.maxpagesize.
    let msgs = query("messages", |q| {
        param(q, "mailFolderId", "{id}");
        q.max_page_size = Some(2);
    });
    assert_eq!(norm(&msgs.url), norm(&doc_url(&examples("messages")[0])));
    assert_eq!(msgs.headers, maxpage2);
    let other_user = query("messages", |q| {
        param(q, "mailFolderId", "inbox");
        param(q, "userId", "adele@contoso.com");
        param(q, "changeType", "created");
    });
    assert_eq!(
        other_user.url,
        "https://graph.microsoft.com/v1.0/users/adele@contoso.com/mailFolders/inbox/messages/delta?changeType=created"
    );
    let folders = query("mailFolders", |q| q.max_page_size = Some(2));
    assert_eq!(
        norm(&folders.url),
        norm(&doc_url(&examples("mailFolders")[0]))
    );
    assert_eq!(folders.headers, maxpage2);
    let contacts = query("personalContacts", |q| {
        param(q, "contactFolderId", "{id}");
        q.select = vec!["displayName".into()];
        q.max_page_size = Some(2);
    });
    assert_eq!(
        norm(&contacts.url),
        norm(&doc_url(&examples("personalContacts")[0]))
    );
    // calendarView: the range on the first request only, as query parameters.
    let events = query("events", |q| {
        param(q, "startDateTime", "2026-01-01T00:00:00Z");
        param(q, "endDateTime", "2026-02-01T00:00:00Z");
        q.max_page_size = Some(2);
    });
    let doc = doc_url(&examples("events")[0])
        .replace("{start_datetime}", "2026-01-01T00:00:00Z")
        .replace("{end_datetime}", "2026-02-01T00:00:00Z");
    assert_eq!(norm(&events.url), norm(&doc));
    assert_eq!(
        events.url,
        "https://graph.microsoft.com/v1.0/me/calendarView/delta?startDateTime=2026-01-01T00%3A00%3A00Z&endDateTime=2026-02-01T00%3A00%3A00Z"
    );
    // driveItem: /me/drive, token=latest, a timestamp token (encoded exactly as documented).
    let drive = examples("driveItems");
    assert_eq!(query("driveItems", |_| {}).url, doc_url(&drive[0]));
    assert_eq!(
        query("driveItems", |q| q.latest = true).url,
        doc_url(&drive[2])
    );
    assert_eq!(
        query("driveItems", |q| param(q, "token", "2021-09-29T20:00:00Z")).url,
        doc_url(&drive[3])
    );
    assert_eq!(
        query("driveItems", |q| param(q, "driveId", "b!abc")).url,
        "https://graph.microsoft.com/v1.0/drives/b!abc/root/delta"
    );
    // To Do: the page shows a later round only; its path is the /me spelling of ours.
    let tasks = query("todoTasks", |q| {
        param(q, "todoTaskListId", "gDbc8U7HGwADDZocJgAAAA==")
    });
    let doc = doc_url(&examples("todoTasks")[0]);
    assert_eq!(norm(&tasks.url), norm(doc.split('?').next().unwrap()));
}

#[test]
fn options_a_resource_does_not_have_are_refused() {
    let c = Catalog::builtin();
    let refused = |r: &str, set: &dyn Fn(&mut DeltaQuery), field: &str| {
        let mut q = DeltaQuery::new(r, ApiVersion::V1_0);
        set(&mut q);
        let v = q.validate(c);
        assert!(
            v.errors.iter().any(|e| e.field == field),
            "{r}: {field} accepted ({:?})",
            v.errors
        );
    };
    refused("events", &|q| q.max_page_size = Some(0), "max_page_size");
    refused(
        "driveItems",
        &|q| q.max_page_size = Some(5),
        "max_page_size",
    );
    refused("messages", &|q| q.latest = true, "latest");
    refused("events", &|q| q.minimal = true, "minimal");
    refused("users", &|q| q.types = vec!["user".into()], "types");
    refused(
        "directoryObjects",
        &|q| q.types = vec!["mailbox".into()],
        "types",
    );
    refused(
        "messages",
        &|q| param(q, "changeType", "moved"),
        "changeType",
    );
    refused(
        "messages",
        &|q| param(q, "mailFolderId", "in box"),
        "mailFolderId",
    );
    refused("messages", &|_| {}, "mailFolderId");
    refused(
        "events",
        &|q| param(q, "startDateTime", "2026-01-01"),
        "startDateTime",
    );
    refused(
        "driveItems",
        &|q| {
            q.latest = true;
            param(q, "token", "2021-09-29T20:00:00Z");
        },
        "latest",
    );
    // Case-insensitive names, aliases.
    assert!(
        DeltaQuery::new("SERVICEPRINCIPALS", ApiVersion::V1_0)
            .validate(c)
            .is_ok()
    );
    assert!(
        DeltaQuery::new("orgContacts", ApiVersion::V1_0)
            .validate(c)
            .is_ok()
    );
}

/// Each documented page read by the engine: ids, removals, links as written.
#[test]
fn documented_pages_read_as_documented() {
    let c = Catalog::builtin();
    for r in RESOURCES {
        let spec = c.get(r).unwrap();
        for ex in examples(r) {
            let body = serde_json::to_vec(&ex["response"]).unwrap();
            let req = PageRequest {
                url: doc_url(&ex),
                headers: vec![],
                kind: RequestKind::Initial,
            };
            let page = Page::parse(req, body).unwrap_or_else(|e| panic!("{r}: {e}"));
            let value = ex["response"]["value"].as_array().unwrap();
            assert_eq!(page.items.len(), value.len(), "{r}");
            for (i, item) in value.iter().enumerate() {
                let expected = match (item.get("@removed"), item.get("deleted")) {
                    (Some(rm), _) => Some(RemovedReason::parse(
                        rm["reason"].as_str().unwrap_or_default(),
                    )),
                    (None, Some(Value::Object(_))) => Some(RemovedReason::Deleted),
                    _ => None,
                };
                assert_eq!(page.items[i].removed, expected, "{r} item {i}");
                if expected.is_some() {
                    // The shape the catalog says this resource uses.
                    let facet = item.get("@removed").is_none();
                    assert_eq!(facet, spec.removal == Removal::DeletedFacet, "{r}");
                }
                assert_eq!(page.item_id(i), item["id"].as_str(), "{r} item {i}");
            }
            let next = ex["response"]["@odata.nextLink"].as_str();
            let delta = ex["response"]["@odata.deltaLink"].as_str();
            assert_eq!(page.next_link.as_deref(), next, "{r}");
            assert_eq!(page.delta_link.as_deref(), delta, "{r}");
            for l in next.into_iter().chain(delta) {
                let info = link::classify(l).unwrap_or_else(|e| panic!("{r}: {l}: {e}"));
                let expected = match spec.token_spelling.next_link.as_str() {
                    "token" => TokenKind::Token,
                    _ if Some(l) == next => TokenKind::Skip,
                    _ => TokenKind::Delta,
                };
                assert_eq!(info.kind, expected, "{r}: {l}");
            }
        }
    }
}

fn page(ex: &Value, req: PageRequest) -> Page {
    Page::parse(req, serde_json::to_vec(&ex["response"]).unwrap()).unwrap()
}

/// driveItem's documented round (examples 1 and 2): a deleted facet takes the item out of the
/// replica exactly as `@removed` would; a later round from a timestamp is no full round.
#[test]
fn the_documented_drive_round_ends_in_the_right_replica() {
    let drive = examples("driveItems");
    let first = query("driveItems", |_| {});
    let mut s = Session::new(first.clone());
    let report = s.apply(&page(&drive[0], first));
    assert!(!report.round_complete);
    assert_eq!(report.removed, 1, "file5.txt has a deleted facet");
    let next = s.next_request().unwrap();
    assert_eq!(
        next.url, "https://graph.microsoft.com/v1.0/me/drive/delta(token=1230919asd190410jlka)",
        "the nextLink is followed verbatim"
    );
    let report = s.apply(&page(&drive[1], next));
    assert!(report.round_complete);
    // folder2 was deleted on the second page (the last occurrence wins); file.txt stays.
    let ids: Vec<&str> = s.replica().ids().collect();
    assert_eq!(ids, ["123010204abac"]);
    let round = &s.rounds()[0];
    assert!(round.full);
    // folder2 and file.txt come again on page 2 (folder2 now deleted): duplicates in the round
    // (driveitem-delta.md: "the same item may appear more than once … use the last
    // occurrence"), each still applied.
    assert_eq!((round.removed_deleted, round.duplicates), (1, 2));
    assert_eq!(
        s.delta_link(),
        drive[1]["response"]["@odata.deltaLink"].as_str()
    );
    // token=latest: no objects, a deltaLink, not a full round.
    let latest = query("driveItems", |q| q.latest = true);
    let mut s = Session::new(latest.clone());
    s.apply(&page(&drive[2], latest));
    assert!(s.rounds()[0].latest && !s.rounds()[0].full);
    // A timestamp token: the changes since then, not a full round (nothing vanishes).
    let since = query("driveItems", |q| param(q, "token", "2021-09-29T20:00:00Z"));
    let mut s = Session::new(since.clone());
    s.apply(&page(&drive[3], since));
    assert!(!s.rounds()[0].full);
    assert_eq!(s.replica().ids().collect::<Vec<_>>(), ["123010204abac"]);
}

/// The one documented message removal: a later round drops the message from the replica.
#[test]
fn the_documented_message_removal_takes_it_out() {
    let ex = examples("messages");
    let first = query("messages", |q| {
        param(q, "mailFolderId", "AQMkADNkNAAAgEMAAAA")
    });
    let mut s = Session::new(first.clone());
    // A first round that knows both messages.
    let body = serde_json::json!({
        "value": [
            {"id": "AAMkADk0MGFkODE3LWE4MmYtNDRhOS0Dh_6qB-pB2Sa2pUum19a6YAAKnLuxoAAA=", "subject": "old"},
            {"id": "AAMkADNkNAAASq35xAAA=", "subject": "Holiday hours", "isRead": false}
        ],
        "@odata.deltaLink": "https://graph.microsoft.com/v1.0/me/mailfolders('AQMkADNkNAAAgEMAAAA')/messages/delta?$deltatoken=GwcBoTmPuoGNlgXgF1nyUNMXY"
    });
    s.apply(&Page::parse(first, serde_json::to_vec(&body).unwrap()).unwrap());
    assert_eq!(s.replica().len(), 2);
    let next = s.next_request().unwrap();
    assert_eq!(next.kind, RequestKind::Delta);
    let report = s.apply(&page(&ex[1], next));
    assert!(report.round_complete);
    assert_eq!(
        s.replica().ids().collect::<Vec<_>>(),
        ["AAMkADNkNAAASq35xAAA="]
    );
    let round = &s.rounds()[1];
    assert_eq!((round.removed_deleted, round.updated), (1, 1));
    let holiday = s.replica().get("AAMkADNkNAAASq35xAAA=").unwrap();
    assert_eq!(
        holiday.get("subject").and_then(Value::as_str),
        Some("Holiday hours update")
    );
}

/// The README's resource table has a row for every resource of the catalog.
#[test]
fn the_readme_lists_every_resource() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for r in Catalog::builtin().resources() {
        assert!(
            readme.contains(&format!("| `{}`", r.name)),
            "README.md has no row for {}",
            r.name
        );
    }
}
