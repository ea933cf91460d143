//! Conformance with the documented group delta (concepts/delta-query-groups.md, "Example" and
//! "Paging through members in a large group"): a loopback server replays bodies written here in
//! the documented shapes (the docs' group and user ids, their property values; only the links
//! point at the loopback server) and the engine walks them.
//!
//! What must hold: a group that comes again later in the round with the same property values and
//! the next slice of `members@delta` is a continuation (a relationship slice), not a duplicate,
//! in an initial round and in a later one; its members are the union of the slices less those
//! removed; a group restated with other values is still a duplicate; a group with no members has
//! no links.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;
mod support;

use deltascope::graph::page::{PageRequest, RequestKind};
use deltascope::graph::round::{Outcome, PageReport, Session};
use loopback::Server;
use serde_json::{Value, json};
use support::engine::walk_round;

const LARGE: &str = "2e5807ce-58f3-4a94-9b37-ffff2e085957";
const GROUP1: &str = "c2f798fd-f95d-4623-8824-63aec21fffff";
const GROUP2: &str = "ec22655c-8eb2-432a-b4ea-8b8a254bffff";

fn user(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id})
}

fn removed_user(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id, "@removed": {"reason": "deleted"}})
}

fn group(id: &str, name: &str, description: &str, members: Option<Vec<Value>>) -> Value {
    let mut g = json!({"displayName": name, "description": description, "id": id});
    if let Some(m) = members {
        g["members@delta"] = Value::Array(m);
    }
    g
}

/// A page body as Graph writes it: context, then the link (`next` for a nextLink, else the
/// deltaLink) with a token of its own, then the values.
fn page(base: &str, token: &str, next: bool, value: Vec<Value>) -> String {
    let (key, param) = if next {
        ("@odata.nextLink", "$skiptoken")
    } else {
        ("@odata.deltaLink", "$deltatoken")
    };
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
        key: format!("{base}/v1.0/groups/delta?{param}={token}"),
        "value": value,
    })
    .to_string()
}

/// One round; the documented bodies warn of nothing.
async fn round(server: &Server, session: &mut Session) -> Vec<PageReport> {
    let reports = walk_round(&server.base, session).await;
    assert!(reports.iter().all(|r| r.warnings.is_empty()), "{reports:?}");
    reports
}

fn first_request(base: &str) -> PageRequest {
    PageRequest {
        url: format!("{base}/v1.0/groups/delta?$select=displayName,description&$expand=members"),
        headers: vec![],
        kind: RequestKind::Initial,
    }
}

fn member_ids(session: &Session, group: &str) -> Vec<String> {
    let mut ids: Vec<String> = session
        .replica()
        .get(group)
        .and_then(|g| g.get("members@delta"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn outcomes(reports: &[PageReport]) -> Vec<Vec<Outcome>> {
    reports.iter().map(|r| r.outcomes.clone()).collect()
}

#[tokio::test]
async fn the_documented_example_round_has_no_duplicates_and_a_memberless_group_no_links() {
    let server = Server::serving_in_order(|base| {
        vec![
            page(
                base,
                "p1",
                true,
                vec![
                    group(
                        GROUP1,
                        "TestGroup1",
                        "Employees in test group 1",
                        Some(vec![
                            user("693acd06-2877-4339-8ade-b704261fe7a0"),
                            user("49320844-be99-4164-8167-87ff5d047ace"),
                        ]),
                    ),
                    group(GROUP2, "TestGroup2", "Employees in test group 2", None),
                ],
            ),
            page(
                base,
                "p2",
                true,
                vec![
                    group(
                        LARGE,
                        "TestGroup3",
                        "Employees in test group 3",
                        Some(vec![user("632f6bb2-3ec8-4c1f-9073-0027a8c68593")]),
                    ),
                    group(
                        "421e797f-9406-4934-b778-4908421e3505",
                        "TestGroup4",
                        "Employees in test group 4",
                        Some(vec![
                            user("3c8ac7c4-d365-4df9-abfa-356a9dd7763c"),
                            user("49320844-be99-4164-8167-87ff5d047ace"),
                        ]),
                    ),
                ],
            ),
            page(
                base,
                "d1",
                false,
                vec![
                    group(
                        "bed7f0d4-750e-4e7e-ffff-169002d06fc9",
                        "TestGroup5",
                        "Employees in test group 5",
                        None,
                    ),
                    group(
                        "421e797f-9406-ffff-b778-4908421e3505",
                        "TestGroup6",
                        "Employees in test group 6",
                        None,
                    ),
                ],
            ),
            // The next round: TestGroup3's description changed, one member removed, one added.
            page(
                base,
                "d2",
                false,
                vec![group(
                    LARGE,
                    "TestGroup3",
                    "A test group for change tracking",
                    Some(vec![
                        removed_user("632f6bb2-3ec8-4c1f-9073-0027a8c68593"),
                        user("37de1ae3-408f-4702-8636-20824abda004"),
                    ]),
                )],
            ),
        ]
    })
    .await;
    let mut session = Session::new(first_request(&server.base));
    let first = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&first),
        vec![
            vec![Outcome::Added; 2],
            vec![Outcome::Added; 2],
            vec![Outcome::Added; 2]
        ]
    );
    let r1 = &session.rounds()[0];
    assert_eq!((r1.added, r1.duplicates, r1.relationship_slices), (6, 0, 0));
    assert_eq!(r1.links_added, 5);
    assert_eq!(member_ids(&session, GROUP1).len(), 2);
    // "TestGroup2 does not contain that property because the group does not have any members."
    assert!(
        session
            .replica()
            .get(GROUP2)
            .unwrap()
            .get("members@delta")
            .is_none()
    );

    let next = round(&server, &mut session).await;
    assert_eq!(outcomes(&next), vec![vec![Outcome::Updated]]);
    let r2 = &session.rounds()[1];
    assert_eq!((r2.updated, r2.duplicates), (1, 0));
    assert_eq!((r2.links_added, r2.links_removed), (1, 1));
    assert_eq!(
        member_ids(&session, LARGE),
        ["37de1ae3-408f-4702-8636-20824abda004"]
    );
    assert_eq!(
        session.replica().get(LARGE).unwrap()["description"],
        "A test group for change tracking"
    );
}

/// The large group of the docs, paged: the same group with the same property values on page 1
/// and page 2, each with its own slice of `members@delta`, then the other groups.
fn large_group_round(base: &str, token: &str, description: &str) -> Vec<String> {
    let slice = |members: Vec<Value>| group(LARGE, "LargeGroup", description, Some(members));
    vec![
        page(
            base,
            &format!("{token}-1"),
            true,
            vec![slice(vec![
                removed_user("632f6bb2-3ec8-4c1f-9073-0027a8c6859"),
                user("37de1ae3-408f-4702-8636-20824abda004"),
                user("a0000000-0000-0000-0000-000000000001"),
            ])],
        ),
        page(
            base,
            &format!("{token}-2"),
            true,
            vec![slice(vec![
                removed_user("c08a463b-7b8a-40a4-aa31-f9bf690b9551"),
                user("23423fa6-821e-44b2-aae4-d039d33884c2"),
            ])],
        ),
        page(
            base,
            &format!("{token}-3"),
            false,
            vec![group(
                GROUP2,
                "TestGroup2",
                "Employees in test group 2",
                None,
            )],
        ),
    ]
}

#[tokio::test]
async fn a_large_group_continued_with_the_same_values_is_a_slice_not_a_duplicate() {
    let server = Server::serving_in_order(|base| {
        let mut pages = large_group_round(base, "initial", "A group containing thousands of users");
        // "This pattern applies to both the initial retrieval of group state as well as to
        // subsequent calls to get delta changes": a later round pages the group again, with a
        // changed description restated on both of its pages.
        pages.extend(large_group_round(
            base,
            "later",
            "Thousands of users, renamed",
        ));
        pages
    })
    .await;
    let mut session = Session::new(first_request(&server.base));
    let first = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&first),
        vec![
            vec![Outcome::Added],
            vec![Outcome::Slice],
            vec![Outcome::Added]
        ]
    );
    let r1 = &session.rounds()[0];
    assert_eq!(r1.duplicates, 0, "{}", r1.counts());
    assert_eq!(r1.relationship_slices, 1);
    assert_eq!(r1.added, 2);
    // The members: both slices' additions (removals of members never held change nothing).
    assert_eq!(
        member_ids(&session, LARGE),
        [
            "23423fa6-821e-44b2-aae4-d039d33884c2",
            "37de1ae3-408f-4702-8636-20824abda004",
            "a0000000-0000-0000-0000-000000000001"
        ]
    );

    let later = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&later),
        vec![
            vec![Outcome::Updated],
            vec![Outcome::Slice],
            vec![Outcome::Updated]
        ]
    );
    let r2 = &session.rounds()[1];
    assert_eq!((r2.duplicates, r2.relationship_slices), (0, 1));
    assert_eq!(
        session.replica().get(LARGE).unwrap()["description"],
        "Thousands of users, renamed"
    );
}

#[tokio::test]
async fn a_group_restated_with_other_values_or_without_links_is_still_a_duplicate() {
    let server = Server::serving_in_order(|base| {
        vec![
            page(
                base,
                "p1",
                true,
                vec![group(
                    LARGE,
                    "LargeGroup",
                    "first",
                    Some(vec![user("37de1ae3-408f-4702-8636-20824abda004")]),
                )],
            ),
            page(
                base,
                "p2",
                true,
                vec![
                    // Another description with more members: not the same group state.
                    group(
                        LARGE,
                        "LargeGroup",
                        "second",
                        Some(vec![user("23423fa6-821e-44b2-aae4-d039d33884c2")]),
                    ),
                ],
            ),
            page(
                base,
                "d1",
                false,
                vec![
                    // The same values but no links: a plain replay.
                    group(LARGE, "LargeGroup", "second", None),
                ],
            ),
        ]
    })
    .await;
    let mut session = Session::new(first_request(&server.base));
    let reports = round(&server, &mut session).await;
    assert_eq!(
        outcomes(&reports),
        vec![
            vec![Outcome::Added],
            vec![Outcome::Duplicate],
            vec![Outcome::Duplicate]
        ]
    );
    let r = &session.rounds()[0];
    assert_eq!((r.duplicates, r.relationship_slices), (2, 0));
    // Last occurrence wins.
    assert_eq!(
        session.replica().get(LARGE).unwrap()["description"],
        "second"
    );
}
