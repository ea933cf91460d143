//! Pure engine logic: query building and validation, link classification, page parsing,
//! replica and round summaries on hand-made pages. No network.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use deltascope::graph::catalog::Catalog;
use deltascope::graph::error::GraphError;
use deltascope::graph::link::{self, TokenKind};
use deltascope::graph::page::{Page, PageRequest, RemovedReason, RequestKind};
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot, QueryError};
use deltascope::graph::round::Session;
use serde_json::{Value, json};

const ORG: &str = "8b081ef6-4792-4def-b2c9-c363a1bf41d5";
const ID1: &str = "477e9fc6-5de7-4406-bb2a-7e5c83c9ffff";
const ID2: &str = "004d6a07-fe70-4b92-add5-e6e37b8affff";

fn root() -> GraphRoot {
    GraphRoot::parse("https://graph.microsoft.com").unwrap()
}

fn contacts() -> DeltaQuery {
    DeltaQuery::new("contacts", ApiVersion::Beta)
}

fn recordings(org: Option<&str>) -> DeltaQuery {
    let mut q = DeltaQuery::new("recordings", ApiVersion::V1_0);
    if let Some(org) = org {
        q.params.insert("meetingOrganizerUserId".into(), org.into());
    }
    q
}

fn first(q: &DeltaQuery) -> PageRequest {
    q.first_request(Catalog::builtin(), &root()).unwrap()
}

fn errors(q: &DeltaQuery) -> Vec<(String, String)> {
    q.validate(Catalog::builtin())
        .errors
        .into_iter()
        .map(|p| (p.field, p.message))
        .collect()
}

fn error_fields(q: &DeltaQuery) -> Vec<String> {
    errors(q).into_iter().map(|(f, _)| f).collect()
}

// ---------------------------------------------------------------- roots and versions

#[test]
fn graph_roots_and_clouds() {
    assert_eq!(root().as_str(), "https://graph.microsoft.com");
    assert_eq!(
        GraphRoot::parse("https://graph.microsoft.com/")
            .unwrap()
            .as_str(),
        "https://graph.microsoft.com"
    );
    assert_eq!(
        GraphRoot::parse("usgov").unwrap().as_str(),
        "https://graph.microsoft.us"
    );
    assert_eq!(
        GraphRoot::parse("usgov-dod").unwrap().as_str(),
        "https://dod-graph.microsoft.us"
    );
    assert_eq!(
        GraphRoot::parse("china").unwrap().as_str(),
        "https://microsoftgraph.chinacloudapi.cn"
    );
    assert_eq!(
        GraphRoot::parse("global").unwrap().to_string(),
        "https://graph.microsoft.com"
    );
    assert_eq!(
        GraphRoot::parse("http://127.0.0.1:8080").unwrap().as_str(),
        "http://127.0.0.1:8080"
    );
    assert!(GraphRoot::parse("http://localhost:1234").is_ok());
    assert!(GraphRoot::parse("http://[::1]:1234").is_ok());
    let err = GraphRoot::parse("http://graph.microsoft.com")
        .unwrap_err()
        .to_string();
    assert!(err.contains("loopback"), "{err}");
    assert!(GraphRoot::parse("https://graph.microsoft.com/v1.0").is_err());
    assert!(GraphRoot::parse("not a url").is_err());
    assert_eq!("beta".parse::<ApiVersion>().unwrap(), ApiVersion::Beta);
    assert_eq!("v1.0".parse::<ApiVersion>().unwrap().to_string(), "v1.0");
    assert!("v2".parse::<ApiVersion>().is_err());
    assert_eq!(
        serde_json::to_string(&ApiVersion::V1_0).unwrap(),
        "\"v1.0\""
    );
    assert_eq!(
        serde_json::from_str::<ApiVersion>("\"beta\"").unwrap(),
        ApiVersion::Beta
    );
}

// ---------------------------------------------------------------- first requests

#[test]
fn contacts_first_requests_exact_urls() {
    let r = first(&contacts());
    assert_eq!(r.url, "https://graph.microsoft.com/beta/contacts/delta");
    assert_eq!(r.kind, RequestKind::Initial);
    assert!(r.headers.is_empty());

    let mut q = contacts();
    q.select = vec!["displayName".into(), "jobTitle".into(), "mail".into()];
    assert_eq!(
        first(&q).url,
        "https://graph.microsoft.com/beta/contacts/delta?$select=displayName,jobTitle,mail"
    );

    q.minimal = true;
    let r = first(&q);
    assert_eq!(
        r.headers,
        vec![("Prefer".to_owned(), "return=minimal".to_owned())]
    );

    let mut q = contacts();
    q.ids = vec![ID1.into(), ID2.into()];
    assert_eq!(
        first(&q).url,
        format!(
            "https://graph.microsoft.com/beta/contacts/delta?$filter=id%20eq%20%27{ID1}%27%20or%20id%20eq%20%27{ID2}%27"
        )
    );
    // the URL standard leaves it as it is
    assert_eq!(link::wire_form(&first(&q).url).unwrap(), first(&q).url);

    let mut q = contacts();
    q.api = ApiVersion::V1_0;
    q.latest = true;
    q.select = vec!["mail".into()];
    assert_eq!(
        first(&q).url,
        "https://graph.microsoft.com/v1.0/contacts/delta?$select=mail&$deltatoken=latest"
    );
}

#[test]
fn recordings_first_request_matches_the_seed() {
    // The seed's first request: userId defaults to the organizer, no startDateTime.
    let r = first(&recordings(Some(ORG)));
    assert_eq!(
        r.url,
        format!(
            "https://graph.microsoft.com/v1.0/users/{ORG}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{ORG}')/delta"
        )
    );
    assert!(r.headers.is_empty());

    let mut q = recordings(Some(ORG));
    q.params
        .insert("userId".into(), "adele@contoso.example".into());
    q.params
        .insert("startDateTime".into(), "2024-01-01T00:00:00Z".into());
    q.top = Some(5);
    assert_eq!(
        first(&q).url,
        format!(
            "https://graph.microsoft.com/v1.0/users/adele@contoso.example/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{ORG}',startDateTime=2024-01-01T00:00:00Z)/delta?$top=5"
        )
    );
    let mut t = q.clone();
    t.resource = "transcripts".into();
    assert!(
        first(&t)
            .url
            .contains("/getAllTranscripts(meetingOrganizerUserId=")
    );
}

#[test]
fn first_request_refuses_an_invalid_query() {
    let err = recordings(None)
        .first_request(Catalog::builtin(), &root())
        .unwrap_err();
    let QueryError::Invalid(v) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(v.errors[0].field, "meetingOrganizerUserId");
    assert!(
        err.to_string()
            .contains("meetingOrganizerUserId is required"),
        "{err}"
    );
}

// ---------------------------------------------------------------- validation

#[test]
fn missing_organizer_and_user() {
    let e = errors(&recordings(None));
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["meetingOrganizerUserId"]);
    assert!(
        e[0].1.contains("fails the request without it"),
        "{}",
        e[0].1
    );
    // userId alone is not enough
    let mut q = recordings(None);
    q.params.insert("userId".into(), ORG.into());
    assert_eq!(error_fields(&q), ["meetingOrganizerUserId"]);
    // the organizer alone is enough: userId defaults to it
    assert!(errors(&recordings(Some(ORG))).is_empty());
    // an empty value is a missing value
    assert_eq!(
        error_fields(&recordings(Some("  "))),
        ["meetingOrganizerUserId"]
    );
}

#[test]
fn malformed_guid_user_and_datetime() {
    let e = errors(&recordings(Some("8b081ef6-4792-4def-b2c9")));
    assert_eq!(
        e.iter()
            .filter(|(f, _)| f == "meetingOrganizerUserId")
            .count(),
        1
    );
    assert!(e.iter().any(|(_, m)| m.contains("GUID")), "{e:?}");

    let mut q = recordings(Some(ORG));
    q.params.insert("userId".into(), "not a user".into());
    assert_eq!(error_fields(&q), ["userId"]);

    for bad in [
        "2024-01-01",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00+02:00",
        "yesterday",
        "2024-02-30T00:00:00Z",
    ] {
        let mut q = recordings(Some(ORG));
        q.params.insert("startDateTime".into(), bad.into());
        let e = errors(&q);
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert_eq!(e[0].0, "startDateTime");
        assert!(e[0].1.contains("ISO-8601 UTC"), "{}", e[0].1);
    }
    let mut q = recordings(Some(ORG));
    q.params.insert("startDateTime".into(), "2024-01-01".into());
    assert!(errors(&q)[0].1.contains("2024-01-01T00:00:00Z"));
    q.params.insert(
        "startDateTime".into(),
        "2023-12-02T06:59:34.7411768Z".into(),
    );
    assert!(errors(&q).is_empty());
}

#[test]
fn unsupported_options_per_resource() {
    let mut q = contacts();
    q.top = Some(10);
    let e = errors(&q);
    assert_eq!(e[0].0, "top");
    assert!(e[0].1.contains("does not support $top"), "{}", e[0].1);

    let mut q = recordings(Some(ORG));
    q.minimal = true;
    q.latest = true;
    q.ids = vec!["abc".into()];
    let mut fields = error_fields(&q);
    fields.sort();
    assert_eq!(fields, ["ids", "latest", "minimal"]);

    let mut q = contacts();
    q.params.insert("userId".into(), ORG.into());
    assert_eq!(error_fields(&q), ["userId"]);

    let q = DeltaQuery::new("mailboxes", ApiVersion::V1_0);
    let e = errors(&q);
    assert_eq!(e[0].0, "resource");
    assert!(
        e[0].1
            .contains("contacts, users, groups, applications, servicePrincipals"),
        "{}",
        e[0].1
    );

    // $top where supported, but the known issue is worth a warning
    let mut q = recordings(Some(ORG));
    q.top = Some(2);
    let v = q.validate(Catalog::builtin());
    assert!(v.errors.is_empty());
    assert!(
        v.warnings
            .iter()
            .any(|w| w.field == "top" && w.message.contains("nextLink may be missing"))
    );
    q.top = Some(0);
    assert_eq!(error_fields(&q), ["top"]);
}

#[test]
fn ids_limit_and_format() {
    let mut q = contacts();
    q.ids = (0..51)
        .map(|i| format!("477e9fc6-5de7-4406-bb2a-7e5c83c9{i:04x}"))
        .collect();
    let e = errors(&q);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].1.contains("51 ids") && e[0].1.contains("at most 50"),
        "{}",
        e[0].1
    );
    q.ids.truncate(50);
    assert!(errors(&q).is_empty());

    let mut q = contacts();
    q.ids = vec![ID1.into(), "477e9fc6-nope".into(), ID1.into()];
    let v = q.validate(Catalog::builtin());
    assert_eq!(v.errors.len(), 1);
    assert!(
        v.errors[0].message.contains("id #2"),
        "{}",
        v.errors[0].message
    );
    assert!(v.warnings.iter().any(|w| w.message.contains("twice")));
}

#[test]
fn select_unknown_is_a_warning_and_bad_names_are_errors() {
    let mut q = contacts();
    q.select = vec!["displayName".into(), "favouriteColour".into()];
    let v = q.validate(Catalog::builtin());
    assert!(v.errors.is_empty());
    assert_eq!(v.warnings.len(), 1);
    assert!(v.warnings[0].message.contains("favouriteColour"));
    assert!(
        first(&q)
            .url
            .ends_with("$select=displayName,favouriteColour")
    );

    q.select = vec!["display Name".into()];
    assert_eq!(error_fields(&q), ["select"]);
}

// ---------------------------------------------------------------- links

#[test]
fn link_classification_every_spelling_case_insensitively() {
    let cases = [
        ("$skiptoken", TokenKind::Skip, true),
        ("$SkipToken", TokenKind::Skip, true),
        ("$SKIPTOKEN", TokenKind::Skip, true),
        ("skipToken", TokenKind::Skip, false),
        ("skiptoken", TokenKind::Skip, false),
        ("$deltatoken", TokenKind::Delta, true),
        ("$deltaToken", TokenKind::Delta, true),
        ("deltaToken", TokenKind::Delta, false),
        ("DELTATOKEN", TokenKind::Delta, false),
        ("token", TokenKind::Token, false),
        ("Token", TokenKind::Token, false),
    ];
    for (param, kind, dollar) in cases {
        let url = format!("https://graph.microsoft.com/v1.0/contacts/delta?{param}=AbC-123_x");
        let info = link::classify(&url).unwrap();
        assert_eq!((info.kind, info.dollar), (kind, dollar), "{param}");
        assert_eq!(info.param, param);
        assert_eq!(info.token, "AbC-123_x");
        assert!(!info.latest);
        assert_eq!(link::token(&url).as_deref(), Some("AbC-123_x"));
    }
    // the seed's links
    let seed = "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta?skipToken={skipToken1}";
    let info = link::classify(seed).unwrap();
    assert_eq!(info.token, "{skipToken1}");
    assert!(info.ambiguous());
    assert!(
        !link::classify("https://g/v1.0/contacts/delta?$skiptoken=x")
            .unwrap()
            .ambiguous()
    );
    // other parameters around the token, encoded $
    let info = link::classify("https://g/x/delta?$select=a&%24deltatoken=q%3D&x=1").unwrap();
    assert_eq!((info.kind, info.token.as_str()), (TokenKind::Delta, "q%3D"));
    assert!(
        link::classify("https://g/x/delta?$deltatoken=latest")
            .unwrap()
            .latest
    );
    assert!(link::classify("https://g/x/delta").is_err());
    assert!(link::classify("https://g/x/delta?$select=a").is_err());
    assert!(link::classify("https://g/x/delta?$skiptoken=").is_err());
    assert!(link::classify("https://g/x/delta?$skiptoken=a&$deltatoken=b").is_err());
}

#[test]
fn link_origin_check() {
    let r = root();
    assert!(link::same_origin(
        "https://graph.microsoft.com/v1.0/contacts/delta?$skiptoken=a",
        &r
    ));
    assert!(link::same_origin(
        "https://GRAPH.microsoft.com:443/v1.0/x?$skiptoken=a",
        &r
    ));
    assert!(!link::same_origin(
        "http://graph.microsoft.com/v1.0/x?$skiptoken=a",
        &r
    ));
    assert!(!link::same_origin(
        "https://graph.microsoft.com:8443/v1.0/x",
        &r
    ));
    assert!(!link::same_origin(
        "https://graph.microsoft.com.evil.example/v1.0/x",
        &r
    ));
    assert!(!link::same_origin("https://graph.microsoft.us/v1.0/x", &r));
    assert!(!link::same_origin("/v1.0/contacts/delta", &r));
    let lo = GraphRoot::parse("http://127.0.0.1:4000").unwrap();
    assert!(link::same_origin("http://127.0.0.1:4000/v1.0/x", &lo));
    assert!(!link::same_origin("http://127.0.0.1:4001/v1.0/x", &lo));
}

#[test]
fn wire_form_of_the_seed_links() {
    // The URL standard percent-encodes braces in a path (they are not allowed in a URI) but
    // keeps them in the query. Real Graph links contain neither.
    let seed = "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta?skipToken={skipToken1}";
    assert_eq!(
        link::wire_form(seed).unwrap(),
        "https://graph.microsoft.com/v1.0/users(%7BuserId%7D)/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta?skipToken={skipToken1}"
    );
    let real = "https://graph.microsoft.com/v1.0/contacts/delta?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjsXoYQp_dpA3cNJWc";
    assert_eq!(link::wire_form(real).unwrap(), real);
}

// ---------------------------------------------------------------- page parsing

fn req(kind: RequestKind, url: &str, minimal: bool) -> PageRequest {
    PageRequest {
        url: url.into(),
        headers: if minimal {
            vec![("Prefer".into(), "return=minimal".into())]
        } else {
            vec![]
        },
        kind,
    }
}

fn malformed(body: &str) -> String {
    match Page::parse(
        req(RequestKind::Initial, "https://g/x", false),
        body.to_owned(),
    ) {
        Err(GraphError::Malformed { message, .. }) => message,
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn page_parsing_keeps_items_as_received() {
    let body = r##"{"@odata.context":"https://g/beta/$metadata#contacts","@odata.nextLink":"https://g/beta/contacts/delta?$skiptoken=a\u0026b","@odata.count":"3","value":[ {"id":"x","displayName":"Zoë \"Z\""} ,{"@odata.type":"#microsoft.graph.orgContact","id":"y","@removed":{"reason":"deleted"}},{"id":"z","@removed":{"reason":"changed"}},{"id":"w","@removed":{"reason":"gone"}},{"noid":1}]}"##;
    let p = Page::parse(
        req(RequestKind::Initial, "https://g/beta/contacts/delta", false),
        body.to_owned(),
    )
    .unwrap();
    assert_eq!(
        p.next_link.as_deref(),
        Some("https://g/beta/contacts/delta?$skiptoken=a&b")
    );
    assert_eq!(p.count, Some(3));
    assert_eq!(
        p.context.as_deref(),
        Some("https://g/beta/$metadata#contacts")
    );
    assert_eq!(p.items.len(), 5);
    assert_eq!(p.item_json(0), r#"{"id":"x","displayName":"Zoë \"Z\""}"#);
    assert_eq!(p.item_id(0), Some("x"));
    assert_eq!(p.items[1].removed, Some(RemovedReason::Deleted));
    assert_eq!(p.items[2].removed, Some(RemovedReason::Changed));
    assert_eq!(
        p.items[3].removed,
        Some(RemovedReason::Other("gone".into()))
    );
    assert_eq!(p.item_id(4), None);
    assert_eq!(p.item_json(99), "");
}

#[test]
fn malformed_bodies_are_errors_with_clear_messages() {
    assert!(malformed("<html>proxy error</html>").contains("not JSON"));
    assert!(malformed(r#"{"value":[{"id":"a"},"#).contains("truncated"));
    assert!(
        malformed(r#"{"@odata.deltaLink":"https://g/x?$deltatoken=a","value":{"id":"a"}}"#)
            .contains("not an array")
    );
    assert!(
        malformed(r#"{"@odata.deltaLink":"https://g/x?$deltatoken=a"}"#).contains("no \"value\"")
    );
    assert!(malformed(r#"{"value":[]}"#).contains("neither @odata.nextLink nor @odata.deltaLink"));
    assert!(
        malformed(r#"{"@odata.nextLink":"https://g/x?$skiptoken=a","value":[1]}"#)
            .contains("not a JSON object")
    );
    assert!(malformed("").contains("empty"));
    assert!(malformed("[]").contains("not a delta page"));
    assert!(
        malformed(
            r#"{"@odata.nextLink":"https://g/x?$skiptoken=a","@odata.count":"many","value":[]}"#
        )
        .contains("@odata.count")
    );
    let e = Page::parse(
        req(RequestKind::Initial, "https://g/x", false),
        vec![0xff, 0xfe],
    )
    .unwrap_err();
    assert!(e.to_string().contains("UTF-8"), "{e}");
}

// ---------------------------------------------------------------- rounds and replica

fn page(
    kind: RequestKind,
    url: &str,
    minimal: bool,
    next: Option<&str>,
    delta: Option<&str>,
    items: Value,
) -> Page {
    let mut body = serde_json::Map::new();
    if let Some(n) = next {
        body.insert("@odata.nextLink".into(), n.into());
    }
    if let Some(d) = delta {
        body.insert("@odata.deltaLink".into(), d.into());
    }
    body.insert("value".into(), items);
    Page::parse(
        req(kind, url, minimal),
        serde_json::to_string(&body).unwrap(),
    )
    .unwrap()
}

const R: &str = "https://g/v1.0/contacts/delta";

/// Walks pages through a session, each answering the session's next request.
fn walk(
    session: &mut Session,
    pages: Vec<(Option<&str>, Option<&str>, Value)>,
) -> Vec<deltascope::graph::round::PageReport> {
    pages
        .into_iter()
        .map(|(next, delta, items)| {
            let r = session.next_request().unwrap();
            let p = page(r.kind, &r.url, r.is_minimal(), next, delta, items);
            session.apply(&p)
        })
        .collect()
}

fn obj(session: &Session, id: &str) -> Value {
    Value::Object(session.replica().get(id).cloned().unwrap())
}

#[test]
fn default_rounds_replace_and_count_changes() {
    let mut s = Session::new(req(RequestKind::Initial, R, false));
    assert!(s.in_round());
    let reports = walk(
        &mut s,
        vec![
            (
                Some("https://g/v1.0/contacts/delta?$skiptoken=p2"),
                None,
                json!([
                    {"id": "a", "displayName": "A", "mail": "a@x"},
                    {"id": "b", "displayName": "B"},
                ]),
            ),
            (
                Some("https://g/v1.0/contacts/delta?$skiptoken=p3"),
                None,
                json!([]),
            ),
            (
                None,
                Some("https://g/v1.0/contacts/delta?$deltatoken=d1"),
                json!([
                    {"id": "c", "displayName": "C", "jobTitle": "Boss"},
                    {"id": "zz", "@removed": {"reason": "changed"}},
                ]),
            ),
        ],
    );
    assert!(reports[1].empty && !reports[1].round_complete);
    assert!(reports[2].round_complete);
    assert!(!s.in_round());
    let r1 = s.rounds()[0].clone();
    assert_eq!(
        (
            r1.number,
            r1.pages,
            r1.items,
            r1.added,
            r1.updated,
            r1.removed_changed,
            r1.empty_pages
        ),
        (1, 3, 4, 3, 0, 1, 1)
    );
    assert!(r1.full && r1.complete);
    assert_eq!(
        r1.delta_link.as_deref(),
        Some("https://g/v1.0/contacts/delta?$deltatoken=d1")
    );
    assert_eq!(s.replica().len(), 3);
    let next = s.next_request().unwrap();
    assert_eq!(
        (next.kind, next.url.as_str()),
        (
            RequestKind::Delta,
            "https://g/v1.0/contacts/delta?$deltatoken=d1"
        )
    );

    // round 2 (default): a's mail set to null and name changed; b unchanged but returned;
    // c soft-deleted, then a duplicate of a (last occurrence wins); d hard-deleted (unknown id)
    walk(
        &mut s,
        vec![
            (
                Some("https://g/v1.0/contacts/delta?$skiptoken=q2"),
                None,
                json!([
                    {"id": "a", "displayName": "A1", "mail": null},
                    {"id": "b", "displayName": "B"},
                    {"id": "c", "@removed": {"reason": "changed"}},
                ]),
            ),
            (
                None,
                Some("https://g/v1.0/contacts/delta?$deltatoken=d2"),
                json!([
                    {"id": "a", "displayName": "A2", "mail": null},
                    {"id": "d", "@removed": {"reason": "deleted"}},
                    {"id": "e", "displayName": "E"},
                ]),
            ),
        ],
    );
    let r2 = &s.rounds()[1];
    assert_eq!(
        (
            r2.added,
            r2.updated,
            r2.removed_changed,
            r2.removed_deleted,
            r2.duplicates
        ),
        (1, 2, 1, 1, 1)
    );
    assert!(!r2.full && !r2.minimal);
    assert_eq!(
        r2.property_changes,
        BTreeMap::from([("displayName".to_owned(), 1), ("mail".to_owned(), 1)])
    );
    assert_eq!(
        obj(&s, "a"),
        json!({"id": "a", "displayName": "A2", "mail": null})
    );
    assert!(s.replica().get("c").is_none());
    assert_eq!(s.replica().soft_deleted_len(), 2); // zz and c
    assert_eq!(s.replica().len(), 3); // a, b, e
    assert_eq!(
        r2.to_string(),
        "round 2: 2 pages, 6 items: 1 added, 2 updated (displayName 1, mail 1), 2 removed (1 changed, 1 deleted), 1 duplicate, 0 empty pages"
    );
    // default rounds replace: a property left out is unset
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d3"),
            json!([{"id": "a", "displayName": "A2"}]),
        )],
    );
    assert_eq!(obj(&s, "a"), json!({"id": "a", "displayName": "A2"}));
    // null and absent are the same: no change counted
    assert!(
        s.rounds()[2].property_changes.is_empty(),
        "{:?}",
        s.rounds()[2]
    );
    assert_eq!(s.rounds()[2].updated, 1);
    let n = s.replica().normalized();
    assert_eq!(n["a"], json!({"id": "a", "displayName": "A2"}));
}

#[test]
fn minimal_rounds_merge_and_restores_merge_onto_the_soft_deleted_state() {
    let mut s = Session::new(req(RequestKind::Initial, R, true));
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d1"),
            json!([
                {"id": "a", "displayName": "A", "jobTitle": "Dev", "mail": "a@x"},
                {"id": "b", "displayName": "B", "mail": "b@x"},
            ]),
        )],
    );
    assert!(s.rounds()[0].minimal && s.rounds()[0].full);
    let next = s.next_request().unwrap();
    assert_eq!(
        next.headers,
        vec![("Prefer".to_owned(), "return=minimal".to_owned())],
        "Prefer kept for deltaLink rounds"
    );
    walk(
        &mut s,
        vec![
            (
                Some("https://g/v1.0/contacts/delta?$skiptoken=x"),
                None,
                json!([
                    {"id": "a", "displayName": "A1", "jobTitle": null},
                    {"id": "b", "@removed": {"reason": "changed"}},
                ]),
            ),
            (
                None,
                Some("https://g/v1.0/contacts/delta?$deltatoken=d2"),
                json!([]),
            ),
        ],
    );
    assert!(s.rounds()[1].minimal && !s.rounds()[1].full);
    assert_eq!(
        obj(&s, "a"),
        json!({"id": "a", "displayName": "A1", "jobTitle": null, "mail": "a@x"})
    );
    assert_eq!(
        s.rounds()[1].property_changes,
        BTreeMap::from([("displayName".to_owned(), 1), ("jobTitle".to_owned(), 1)])
    );
    // Its last page has no items and a deltaLink: the ordinary end, not an empty page.
    assert_eq!(s.rounds()[1].empty_pages, 0);
    assert!(s.replica().get("b").is_none());
    // restored with only a changed property: merged onto the last known state
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d3"),
            json!([{"id": "b", "mail": "b2@x"}]),
        )],
    );
    assert_eq!(
        obj(&s, "b"),
        json!({"id": "b", "displayName": "B", "mail": "b2@x"})
    );
    assert_eq!(s.rounds()[2].added, 1);
    assert_eq!(
        s.replica().normalized()["a"],
        json!({"id": "a", "displayName": "A1", "mail": "a@x"})
    );
}

#[test]
fn full_resync_rounds_drop_what_they_no_longer_return() {
    let mut s = Session::new(req(RequestKind::Initial, R, false));
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d1"),
            json!([{"id": "a"}, {"id": "b"}]),
        )],
    );
    // a round starts, then the token turns out expired
    walk(
        &mut s,
        vec![(
            Some("https://g/v1.0/contacts/delta?$skiptoken=s"),
            None,
            json!([{"id": "c"}]),
        )],
    );
    assert!(s.in_round());
    s.resync().unwrap();
    assert!(s.rounds()[1].abandoned);
    assert_eq!(s.next_request().unwrap().url, R);
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d9"),
            json!([{"id": "b"}]),
        )],
    );
    let r = &s.rounds()[2];
    assert!(r.full && r.complete);
    assert_eq!((r.added, r.updated, r.vanished), (0, 1, 2));
    assert_eq!(
        s.replica().iter().map(|(id, _)| id).collect::<Vec<_>>(),
        ["b"]
    );
    // 410: restart from the Location, headers kept
    s.restart_from("https://g/v1.0/contacts/delta?$skiptoken=restart".into());
    let n = s.next_request().unwrap();
    assert_eq!(n.kind, RequestKind::Initial);
    assert!(s.in_round());
}

#[test]
fn resume_kinds_and_warnings() {
    let s = Session::resume("https://g/v1.0/contacts/delta?$skiptoken=x".into(), vec![]);
    assert_eq!(s.next_request().unwrap().kind, RequestKind::Next);
    assert!(s.in_round());
    let s = Session::resume(
        "https://g/v1.0/contacts/delta?$deltatoken=x".into(),
        vec![("Prefer".into(), "return=minimal".into())],
    );
    assert_eq!(s.next_request().unwrap().kind, RequestKind::Delta);
    assert!(!s.in_round());
    assert!(s.minimal());
    // the seed's skipToken in a deltaLink: taken as a deltaLink
    let s = Session::resume(
        "https://g/v1.0/users({userId})/x/delta?skipToken={deltaToken1}".into(),
        vec![],
    );
    assert_eq!(s.next_request().unwrap().kind, RequestKind::Delta);
    let s = Session::resume_as(
        "https://g/v1.0/users({userId})/x/delta?skipToken={skipToken2}".into(),
        vec![],
        RequestKind::Next,
    );
    assert!(s.in_round());

    // an item without id, and a page that is not the expected one
    let mut s = Session::new(req(RequestKind::Initial, R, false));
    let p = page(
        RequestKind::Initial,
        "https://g/other",
        false,
        None,
        Some("https://g/x?$deltatoken=1"),
        json!([{"displayName": "no id"}]),
    );
    let rep = s.apply(&p);
    assert_eq!(rep.warnings.len(), 2, "{:?}", rep.warnings);
    assert_eq!(s.replica().len(), 0);
}

#[test]
fn latest_round_is_not_full() {
    let mut q = contacts();
    q.latest = true;
    let mut s = Session::new(first(&q));
    let r = s.next_request().unwrap();
    let p = page(
        r.kind,
        &r.url,
        false,
        None,
        Some("https://graph.microsoft.com/beta/contacts/delta?$deltatoken=now"),
        json!([]),
    );
    assert!(s.apply(&p).round_complete);
    assert!(!s.rounds()[0].full);
    assert_eq!(
        s.rounds()[0].to_string(),
        "round 1: 1 page, 0 items: 0 added, 0 updated, 0 removed, 0 duplicates, 0 empty pages"
    );
}

#[test]
fn error_hints() {
    let http =
        |status: u16, code: Option<&str>, message: &str, url: &str, location: Option<&str>| {
            GraphError::Http {
                status,
                code: code.map(str::to_owned),
                message: message.into(),
                request_id: Some("rid".into()),
                client_request_id: None,
                retry_after: None,
                longest_wait: None,
                location: location.map(str::to_owned),
                www_authenticate: None,
                retries: 0,
                url: url.into(),
                body: String::new(),
            }
        };
    let e = http(
        400,
        Some("syncStateNotFound"),
        "The sync state generation is not found.",
        R,
        None,
    );
    assert!(e.needs_resync() && e.hint().unwrap().contains("full resync"));
    assert!(
        e.to_string()
            .contains("HTTP 400 Bad Request [syncStateNotFound]")
            && e.to_string().contains("request-id rid"),
        "{e}"
    );
    let e = http(
        410,
        None,
        "",
        R,
        Some("https://g/v1.0/contacts/delta?$skiptoken=new"),
    );
    assert!(e.needs_resync());
    assert_eq!(
        e.resync_location(),
        Some("https://g/v1.0/contacts/delta?$skiptoken=new")
    );
    assert!(e.hint().unwrap().contains("Location"));
    let e = http(400, Some("BadRequest"), "Badly formed token.", R, None);
    assert!(e.needs_resync() && e.hint().unwrap().contains("altered"));
    let e = http(
        403,
        Some("Forbidden"),
        "",
        "https://g/v1.0/users/x/onlineMeetings/getAllRecordings(meetingOrganizerUserId='x')/delta",
        None,
    );
    let h = e.hint().unwrap();
    assert!(
        h.contains("OnlineMeetingRecording.Read.All") && h.contains("application access policy"),
        "{h}"
    );
    assert!(!e.needs_resync());
    let e = http(401, Some("InvalidAuthenticationToken"), "", R, None);
    assert!(e.hint().unwrap().contains("expired"));
    let e = GraphError::ForeignLink {
        url: "https://evil.example/x".into(),
        root: "https://graph.microsoft.com".into(),
    };
    assert!(e.to_string().contains("refused") && e.hint().is_some());
}

/// Parse + apply speed: 100,000 contacts (~33 MB) in 100 pages. Run with
/// `cargo test --release --test engine_logic -- --ignored --nocapture parse_and_apply_speed`.
#[test]
#[ignore = "timing; run on demand"]
fn parse_and_apply_speed() {
    let pages: Vec<String> = (0..100)
        .map(|p| {
            let items: Vec<String> = (0..1000)
                .map(|i| {
                    let n = p * 1000 + i;
                    format!(
                        r#"{{"companyName":"Contoso Pharmaceuticals {n}","department":"Research and Development","displayName":"Contact Number {n} Example","givenName":"Given{n}","id":"{:08x}-5de7-4406-bb2a-7e5c83c9ffff","jobTitle":"Senior Principal Analyst","mail":"contact.{n}@fabrikam.example.com","mailNickname":"contact{n}nick","surname":"Surname{n}"}}"#,
                        n
                    )
                })
                .collect();
            let link = if p == 99 { "@odata.deltaLink\":\"https://g/v1.0/contacts/delta?$deltatoken=d" } else { "@odata.nextLink\":\"https://g/v1.0/contacts/delta?$skiptoken=s" };
            format!(r#"{{"@odata.context":"https://g/v1.0/$metadata#contacts","{link}{p}","value":[{}]}}"#, items.join(","))
        })
        .collect();
    let total: usize = pages.iter().map(String::len).sum();
    let bodies: Vec<bytes::Bytes> = pages.into_iter().map(bytes::Bytes::from).collect();
    let started = std::time::Instant::now();
    let mut s = Session::new(req(RequestKind::Initial, R, false));
    let mut parsing = std::time::Duration::ZERO;
    for body in &bodies {
        let r = s.next_request().unwrap();
        let t = std::time::Instant::now();
        let page = Page::parse(r, body.clone()).unwrap();
        parsing += t.elapsed();
        s.apply(&page);
    }
    let elapsed = started.elapsed();
    println!("of which page parsing: {parsing:?}");
    assert_eq!(s.replica().len(), 100_000);
    assert!(s.rounds()[0].complete);
    println!(
        "parse+apply: 100000 contacts, {:.1} MB, {:?}",
        total as f64 / 1e6,
        elapsed
    );
}

const G: &str = "https://g/v1.0/groups/delta?$select=displayName,members";

fn member(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id})
}

fn member_gone(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id, "@removed": {"reason": "deleted"}})
}

/// The members the replica holds; a group without members has no `members@delta`.
fn member_ids(session: &Session, group: &str) -> Vec<String> {
    obj(session, group)
        .get("members@delta")
        .map(|m| {
            m.as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn group_members_accumulate_across_slices_and_rounds() {
    for minimal in [false, true] {
        let mut s = Session::new(req(RequestKind::Initial, G, minimal));
        // A full round: the big group's members come in three slices, the later ones as
        // {id, members@delta} only, one of them on the next page.
        walk(
            &mut s,
            vec![
                (
                    Some("https://g/v1.0/groups/delta?$skiptoken=p2"),
                    None,
                    json!([
                        {"id": "g1", "displayName": "Big", "members@delta": [member("u1"), member("u2")]},
                        {"id": "g2", "displayName": "Small", "members@delta": [member("u9")]},
                        {"id": "g1", "members@delta": [member("u3"), member("u4")]},
                    ]),
                ),
                (
                    None,
                    Some("https://g/v1.0/groups/delta?$deltatoken=d1"),
                    json!([{"id": "g1", "members@delta": [member("u5")]}]),
                ),
            ],
        );
        let r = &s.rounds()[0];
        assert_eq!(
            member_ids(&s, "g1"),
            ["u1", "u2", "u3", "u4", "u5"],
            "minimal={minimal}"
        );
        assert_eq!(
            obj(&s, "g1")["displayName"],
            "Big",
            "a slice keeps the other properties"
        );
        assert_eq!(
            (r.added, r.duplicates, r.relationship_slices),
            (2, 0, 2),
            "{r}"
        );
        assert_eq!((r.links_added, r.links_removed), (6, 0), "{r}");
        assert!(r.to_string().contains("links +6 -0"), "{r}");

        // A later round: u2 leaves, u6 joins, and the group is renamed. In a default round the
        // group comes with all its properties and only the membership changes.
        let changed = json!([{"id": "g1", "displayName": "Bigger", "members@delta": [member_gone("u2"), member("u6")]}]);
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/groups/delta?$deltatoken=d2"),
                changed,
            )],
        );
        let r = &s.rounds()[1];
        assert_eq!(
            member_ids(&s, "g1"),
            ["u1", "u3", "u4", "u5", "u6"],
            "minimal={minimal}"
        );
        assert_eq!(obj(&s, "g1")["displayName"], "Bigger");
        assert_eq!(
            (r.updated, r.links_added, r.links_removed),
            (1, 1, 1),
            "{r}"
        );
        assert_eq!(r.property_changes.get("members@delta"), Some(&1), "{r}");
        // g2 did not come back: its members are untouched.
        assert_eq!(member_ids(&s, "g2"), ["u9"]);

        // A default round that changes only a property says nothing of the members: kept.
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/groups/delta?$deltatoken=d3"),
                json!([{"id": "g2", "displayName": "Small 2"}]),
            )],
        );
        assert_eq!(member_ids(&s, "g2"), ["u9"], "minimal={minimal}");

        // A resync restates the members: the first occurrence starts them afresh.
        s.restart_from("https://g/v1.0/groups/delta?$select=displayName,members&r=1".into());
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/groups/delta?$deltatoken=d4"),
                json!([
                    {"id": "g1", "displayName": "Bigger", "members@delta": [member("u7")]},
                    {"id": "g1", "members@delta": [member("u1")]},
                    {"id": "g2", "displayName": "Small 2", "members@delta": []},
                ]),
            )],
        );
        assert_eq!(member_ids(&s, "g1"), ["u7", "u1"], "minimal={minimal}");
        assert!(member_ids(&s, "g2").is_empty());
    }
}

#[test]
fn a_new_object_with_removed_links_keeps_only_the_links_present() {
    let mut s = Session::new(req(RequestKind::Initial, G, false));
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/groups/delta?$deltatoken=d1"),
            json!([{"id": "g", "displayName": "G", "members@delta": [member("a"), member_gone("b"), member("c")]}]),
        )],
    );
    assert_eq!(member_ids(&s, "g"), ["a", "c"]);
    let r = &s.rounds()[0];
    assert_eq!(
        (r.links_added, r.links_removed, r.duplicates),
        (2, 0, 0),
        "{r}"
    );
}

#[test]
fn relationship_lists_written_with_escapes_or_left_out_on_restore_are_right() {
    // A key written with escapes (members@d\u0065lta) is still a relationship list.
    let mut s = Session::new(req(RequestKind::Initial, G, false));
    let body = r#"{"value":[{"id":"g","members@d\u0065lta":[{"id":"a"},{"id":"b","@removed":{"reason":"deleted"}}]}],"@odata.deltaLink":"https://g/v1.0/groups/delta?$deltatoken=d1"}"#;
    let first = s.next_request().unwrap();
    s.apply(&Page::parse(first, body.as_bytes().to_vec()).unwrap());
    assert_eq!(member_ids(&s, "g"), ["a"]);

    // Minimal rounds: a group soft-deleted, then restored without any members@delta (it has
    // none now): its old members are gone.
    let mut s = Session::new(req(RequestKind::Initial, G, true));
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/groups/delta?$deltatoken=d1"),
            json!([{"id": "g", "displayName": "G", "members@delta": [member("a")]}]),
        )],
    );
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/groups/delta?$deltatoken=d2"),
            json!([{"id": "g", "@removed": {"reason": "changed"}}]),
        )],
    );
    walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/groups/delta?$deltatoken=d3"),
            json!([{"id": "g", "displayName": "G"}]),
        )],
    );
    assert_eq!(obj(&s, "g"), json!({"id": "g", "displayName": "G"}));
}

/// The replica keeps objects as slices of the pages they came in, keys included: once every
/// object of a page has been replaced by a later round, that page's body is no longer held;
/// and the updates themselves (kept parsed) hold no body either, nor does a soft-deleted object.
#[test]
fn a_page_body_is_released_when_all_its_objects_have_moved_on() {
    let mut session = Session::new(req(RequestKind::Initial, R, false));
    let full = page(
        RequestKind::Initial,
        R,
        false,
        None,
        Some("https://g/v1.0/contacts/delta?$deltatoken=1"),
        json!([{"id": "a", "displayName": "A"}, {"id": "b", "displayName": "B"}]),
    );
    let first_body = full.body.clone();
    session.apply(&full);
    drop(full);
    assert!(!first_body.is_unique(), "the replica holds the first page");
    let later = page(
        RequestKind::Delta,
        "https://g/v1.0/contacts/delta?$deltatoken=1",
        false,
        None,
        Some("https://g/v1.0/contacts/delta?$deltatoken=2"),
        json!([{"id": "b", "displayName": "B2"}, {"id": "a", "displayName": "A2"}]),
    );
    let later_body = later.body.clone();
    session.apply(&later);
    drop(later);
    assert_eq!(
        session
            .replica()
            .get("a")
            .and_then(|o| o.get("displayName")),
        Some(&json!("A2"))
    );
    assert!(
        first_body.is_unique(),
        "no object, and no key, of the first page is left in the replica"
    );
    assert!(
        later_body.is_unique(),
        "updated objects are parsed: their page's body is not held"
    );
    let removal = page(
        RequestKind::Delta,
        "https://g/v1.0/contacts/delta?$deltatoken=2",
        false,
        None,
        Some("https://g/v1.0/contacts/delta?$deltatoken=3"),
        json!([{"id": "a", "@removed": {"reason": "changed"}}]),
    );
    let removal_body = removal.body.clone();
    session.apply(&removal);
    drop(removal);
    assert_eq!(session.replica().soft_deleted_len(), 1);
    assert!(
        removal_body.is_unique(),
        "a soft-deleted object's key is its own"
    );
}

#[test]
fn each_item_says_what_it_was_to_the_replica() {
    use deltascope::graph::round::Outcome::{
        Added, Duplicate, Removed, Restored, Skipped, Updated,
    };
    let mut s = Session::new(req(RequestKind::Initial, R, false));
    let first = walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d1"),
            json!([
                {"id": "a", "displayName": "A"},
                {"id": "b", "displayName": "B"},
                {"displayName": "no id"},
                {"id": "a", "displayName": "A again"},
            ]),
        )],
    );
    assert_eq!(first[0].outcomes, [Added, Added, Skipped, Duplicate]);
    let second = walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d2"),
            json!([
                {"id": "a", "@removed": {"reason": "changed"}},
                {"id": "b", "displayName": "B2"},
                {"id": "a", "@removed": {"reason": "changed"}},
            ]),
        )],
    );
    assert_eq!(second[0].outcomes, [Removed, Updated, Duplicate]);
    let third = walk(
        &mut s,
        vec![(
            None,
            Some("https://g/v1.0/contacts/delta?$deltatoken=d3"),
            json!([{"id": "a", "displayName": "A back"}, {"id": "c", "displayName": "C"}]),
        )],
    );
    // Soft-deleted in round 2, back in round 3; c is new.
    assert_eq!(third[0].outcomes, [Restored, Added]);
}

const U: &str = "https://g/v1.0/users/delta?$select=displayName,manager";

/// The manager the replica holds for `user`: the ids of its `manager@delta` list (one or none).
fn manager_ids(session: &Session, user: &str) -> Vec<String> {
    obj(session, user)
        .get("manager@delta")
        .map(|m| {
            m.as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `manager@delta` is a single-valued relationship served as a one-element delta list: a new
/// manager replaces the one held (never a growing list), a `@removed` entry clears it, in
/// default and minimal rounds alike, and a full round restates it.
#[test]
fn a_users_manager_is_replaced_and_cleared_not_accumulated() {
    for minimal in [false, true] {
        let mut s = Session::new(req(RequestKind::Initial, U, minimal));
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/users/delta?$deltatoken=d1"),
                json!([
                    {"id": "u1", "displayName": "One", "manager@delta": [member("m1")]},
                    {"id": "u2", "displayName": "Two", "manager@delta": [member("m1")]},
                    {"id": "u3", "displayName": "Three"},
                ]),
            )],
        );
        assert_eq!(manager_ids(&s, "u1"), ["m1"]);
        assert!(manager_ids(&s, "u3").is_empty());
        assert_eq!(
            (s.rounds()[0].links_added, s.rounds()[0].links_removed),
            (2, 0)
        );

        // A new manager for u1 (id and the link only, as a minimal round sends it), the old
        // one taken out of u2, a first manager for u3.
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/users/delta?$deltatoken=d2"),
                json!([
                    {"id": "u1", "manager@delta": [member("m2")]},
                    {"id": "u2", "displayName": "Two", "manager@delta": [member_gone("m1")]},
                    {"id": "u3", "displayName": "Three", "manager@delta": [member("m3")]},
                ]),
            )],
        );
        assert_eq!(manager_ids(&s, "u1"), ["m2"], "minimal={minimal}");
        assert!(manager_ids(&s, "u2").is_empty(), "minimal={minimal}");
        assert!(obj(&s, "u2").get("manager@delta").is_none());
        assert_eq!(manager_ids(&s, "u3"), ["m3"]);
        assert_eq!(obj(&s, "u1")["displayName"], "One");
        let r = &s.rounds()[1];
        // u1: replaced (one in, one out); u2: cleared; u3: a first one.
        assert_eq!((r.links_added, r.links_removed), (2, 2), "{r}");
        assert_eq!(r.property_changes.get("manager@delta"), Some(&3), "{r}");

        // The old manager removed after the new one is named, in one list: the new one stays;
        // a removal naming a manager never held, with nothing set in the list, clears the
        // stale one; the same manager again changes nothing.
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/users/delta?$deltatoken=d3"),
                json!([
                    {"id": "u1", "manager@delta": [member("m4"), member_gone("m2")]},
                    {"id": "u3", "manager@delta": [member_gone("m9")]},
                    {"id": "u2", "manager@delta": [member("m1")]},
                ]),
            )],
        );
        assert_eq!(manager_ids(&s, "u1"), ["m4"], "minimal={minimal}");
        assert!(manager_ids(&s, "u3").is_empty(), "minimal={minimal}");
        assert_eq!(manager_ids(&s, "u2"), ["m1"]);
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/users/delta?$deltatoken=d4"),
                json!([{"id": "u2", "manager@delta": [member("m1")]}]),
            )],
        );
        assert_eq!(manager_ids(&s, "u2"), ["m1"]);
        let r = &s.rounds()[3];
        assert_eq!((r.links_added, r.links_removed), (0, 0), "{r}");

        // A resync restates the manager: the first occurrence starts it afresh.
        s.restart_from(format!("{U}&r=1"));
        walk(
            &mut s,
            vec![(
                None,
                Some("https://g/v1.0/users/delta?$deltatoken=d5"),
                json!([
                    {"id": "u1", "displayName": "One", "manager@delta": [member("m5")]},
                    {"id": "u2", "displayName": "Two"},
                    {"id": "u3", "displayName": "Three", "manager@delta": [member("m1")]},
                ]),
            )],
        );
        assert_eq!(manager_ids(&s, "u1"), ["m5"], "minimal={minimal}");
        assert_eq!(manager_ids(&s, "u3"), ["m1"]);
    }
}
