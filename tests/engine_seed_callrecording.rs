//! Conformance with the callRecording delta seed (French reference page): a loopback server
//! replays the seed's example responses as written (`users({userId})` links, `skipToken=` in both
//! the nextLink and the deltaLink; only the links' origin rewritten to the loopback server) and
//! the engine walks them: an initial round of three pages ending with the seed's deltaLink, then
//! the next round from that deltaLink.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;
mod support;

use std::collections::HashSet;

use deltascope::graph::catalog::Catalog;
use deltascope::graph::client::ClientConfig;
use deltascope::graph::page::RequestKind;
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::Session;
use loopback::{Reply, Server};
use support::engine::static_token_client;
use tokio_util::sync::CancellationToken;

const ORG: &str = "8b081ef6-4792-4def-b2c9-c363a1bf41d5";
const RESPONSES: [&str; 4] = [
    include_str!("engine_seed/callrecording_response1.json"),
    include_str!("engine_seed/callrecording_response2.json"),
    include_str!("engine_seed/callrecording_response3.json"),
    include_str!("engine_seed/callrecording_response4.json"),
];
const SEED_ORIGIN: &str = "https://graph.microsoft.com";

/// The seed's links, relative to the origin, exactly as written in the seed.
fn seed_link(token: &str) -> String {
    format!(
        "/v1.0/users({{userId}})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{ORG}')/delta?skipToken={{{token}}}"
    )
}

/// A response with its links' origin moved to `base`; nothing else changes.
fn rewritten(body: &str, base: &str) -> String {
    body.replace(
        &format!("\"@odata.nextLink\": \"{SEED_ORIGIN}"),
        &format!("\"@odata.nextLink\": \"{base}"),
    )
    .replace(
        &format!("\"@odata.deltaLink\": \"{SEED_ORIGIN}"),
        &format!("\"@odata.deltaLink\": \"{base}"),
    )
}

/// What goes on the wire for a link: the URL standard encodes `{`/`}` in the path (they are not
/// allowed in a URI) and nothing else; the query is sent byte for byte.
fn wire(path_and_query: &str) -> String {
    let (path, query) = path_and_query.split_once('?').unwrap();
    format!("{}?{query}", path.replace('{', "%7B").replace('}', "%7D"))
}

#[tokio::test]
async fn walks_the_seed_rounds_following_links_verbatim() {
    let server = Server::start_with(|base| {
        let bodies: Vec<String> = RESPONSES.iter().map(|r| rewritten(r, base)).collect();
        move |n, _| match bodies.get(n) {
            Some(b) => Reply::json(200, b.clone()).header("request-id", &format!("seed-{n}")),
            None => Reply::json(
                404,
                r#"{"error":{"code":"NotFound","message":"no more seed responses"}}"#,
            ),
        }
    })
    .await;
    let base = server.base.clone();

    let root = GraphRoot::parse(&base).unwrap();
    let client = static_token_client(&root, "seed-token", ClientConfig::default());
    let mut query = DeltaQuery::new("recordings", ApiVersion::V1_0);
    query
        .params
        .insert("meetingOrganizerUserId".into(), ORG.into());
    let first = query.first_request(Catalog::builtin(), &root).unwrap();
    // The seed's first request.
    assert_eq!(
        first.url,
        format!(
            "{base}/v1.0/users/{ORG}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{ORG}')/delta"
        )
    );

    let cancel = CancellationToken::new();
    let mut session = Session::new(first.clone());
    let mut pages = Vec::new();
    loop {
        let req = session.next_request().unwrap();
        let page = client.fetch(&req, &cancel, &|_| {}).await.unwrap();
        let report = session.apply(&page);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        pages.push(page);
        if report.round_complete {
            break;
        }
        assert!(pages.len() < 3, "the seed's round has three pages");
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages[0].next_link.as_deref(),
        Some(format!("{base}{}", seed_link("skipToken1")).as_str())
    );
    assert_eq!(
        pages[1].next_link.as_deref(),
        Some(format!("{base}{}", seed_link("skipToken2")).as_str())
    );
    let delta1 = format!("{base}{}", seed_link("deltaToken1"));
    assert_eq!(pages[2].delta_link.as_deref(), Some(delta1.as_str()));
    assert_eq!(session.delta_link(), Some(delta1.as_str()));
    assert_eq!(
        session.rounds()[0].delta_link.as_deref(),
        Some(delta1.as_str())
    );
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.count, Some(1));
        assert_eq!(p.items.len(), 1);
        assert_eq!(
            p.context.as_deref(),
            Some("https://graph.microsoft.com/v1.0/$metadata#Collection(callRecording)")
        );
        assert_eq!(p.header("request-id"), Some(format!("seed-{i}").as_str()));
        // the item's text exactly as in the seed (trailing spaces included)
        let body = RESPONSES[i];
        let start = body.find("{\n            \"@odata.type\"").unwrap();
        let end = body.rfind("}          \n        }").unwrap() + "}          \n        }".len();
        assert_eq!(p.item_json(0), &body[start..end]);
        assert!(p.item_json(0).contains("\"userIdentityType\": \"aadUser\""));
    }
    assert_eq!(
        pages[1].request.url,
        format!("{base}{}", seed_link("skipToken1"))
    );
    assert_eq!(pages[1].request.kind, RequestKind::Next);

    // Round 2 from the saved deltaLink.
    let req = session.next_request().unwrap();
    assert_eq!(
        (req.kind, req.url.as_str()),
        (RequestKind::Delta, delta1.as_str())
    );
    let page = client.fetch(&req, &cancel, &|_| {}).await.unwrap();
    assert!(session.apply(&page).round_complete);
    let delta2 = format!("{base}{}", seed_link("deltaToken2"));
    assert_eq!(session.delta_link(), Some(delta2.as_str()));

    // What the server received: the first request, then every link as returned.
    let got: Vec<String> = server.requests().iter().map(|r| r.uri.clone()).collect();
    let first_path = first.url.strip_prefix(&base).unwrap().to_owned();
    assert_eq!(
        got,
        [
            first_path,
            wire(&seed_link("skipToken1")),
            wire(&seed_link("skipToken2")),
            wire(&seed_link("deltaToken1")),
        ]
    );
    for (r, token) in got[1..]
        .iter()
        .zip(["skipToken1", "skipToken2", "deltaToken1"])
    {
        // the query, with the seed's `skipToken=` spelling and braces, byte for byte
        assert!(r.ends_with(&format!("/delta?skipToken={{{token}}}")), "{r}");
        // and the path decodes to the link's path exactly
        let path = r.split_once('?').unwrap().0;
        let decoded = percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, seed_link(token).split_once('?').unwrap().0);
    }
    let requests = server.requests();
    for r in &requests {
        assert_eq!(r.header("authorization"), Some("Bearer seed-token"));
        assert!(
            r.header("prefer").is_none(),
            "recordings never ask for return=minimal"
        );
    }
    let ids: HashSet<&str> = requests
        .iter()
        .filter_map(|r| r.header("client-request-id"))
        .collect();
    assert_eq!(ids.len(), 4, "a fresh client-request-id per request");

    // The seed returns the same recording on every page and again in round 2.
    let r1 = &session.rounds()[0];
    assert_eq!((r1.pages, r1.items, r1.added, r1.duplicates), (3, 3, 1, 2));
    let r2 = &session.rounds()[1];
    assert_eq!((r2.pages, r2.items, r2.added, r2.updated), (1, 1, 0, 1));
    assert_eq!(session.replica().len(), 1);
    assert_eq!(
        r1.to_string(),
        "round 1: 3 pages, 3 items: 1 added, 0 updated, 0 removed, 2 duplicates, 0 empty pages"
    );
    let (id, rec) = session.replica().iter().next().unwrap();
    assert!(id.starts_with("VjIjIzExYzkxNjVmZi1hZTky"));
    assert_eq!(rec["createdDateTime"], "2023-12-02T06:59:34.7411768Z");
}
