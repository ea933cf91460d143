//! group delta (with `members@delta`) against the emulator over real loopback HTTP.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use deltascope::emulator::{EmulatorApp, EmulatorConfig, IdentityConfig};
use emulator_support::{Emu, Round, keys, start, start_default};
use serde_json::{Value, json};

const DEFAULT_PROPS: &[&str] = &[
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "groupTypes",
    "id",
    "mail",
    "mailEnabled",
    "mailNickname",
    "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "proxyAddresses",
    "securityEnabled",
    "visibility",
];

/// The member ids the control API reports for a group.
fn members_of(e: &Emu, group: &str) -> BTreeSet<String> {
    e.emu
        .control()
        .group_members(group)
        .unwrap()
        .into_iter()
        .collect()
}

/// The ids of a `members@delta` array, split into (added, removed); none when the item has no
/// `members@delta`, which is never an empty array (a group without members has no property).
fn links(item: &Value) -> (Vec<String>, Vec<String>) {
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    let Some(list) = item.get("members@delta") else {
        return (adds, removes);
    };
    assert!(
        list.as_array().is_some_and(|l| !l.is_empty()),
        "members@delta is a non-empty array or absent: {item}"
    );
    for l in list.as_array().unwrap() {
        assert_eq!(l["@odata.type"], "#microsoft.graph.user", "{l}");
        let id = l["id"].as_str().unwrap().to_string();
        if l.get("@removed").is_some() {
            assert_eq!(l["@removed"], json!({"reason": "deleted"}));
            removes.push(id);
        } else {
            assert_eq!(keys(l), vec!["@odata.type", "id"]);
            adds.push(id);
        }
    }
    (adds, removes)
}

fn find<'a>(r: &'a Round, id: &str) -> Vec<&'a Value> {
    r.items.iter().filter(|i| i["id"] == id).collect()
}

/// A security group (no mail) and a Microsoft 365 group of the demo tenant (non-empty ones).
fn kinds(e: &Emu) -> (String, String) {
    let c = e.emu.control();
    let groups: Vec<Value> = (1..12)
        .map(|i| c.get_group(&c.group_id(i)).unwrap())
        .collect();
    let pick = |f: &dyn Fn(&Value) -> bool| {
        groups
            .iter()
            .find(|g| f(g) && g["@emulator.memberCount"].as_u64().unwrap() > 0)
            .map(|g| g["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    (
        pick(&|g| g["securityEnabled"] == true && g.get("mail") == Some(&Value::Null)),
        pick(&|g| g["groupTypes"] == json!(["Unified"])),
    )
}

#[tokio::test]
async fn default_properties_and_links() {
    let e = start_default().await;
    // With a $select that leaves members out: the group objects alone.
    let props = DEFAULT_PROPS.join(",");
    let r = e
        .round(
            &e.url(&format!("/v1.0/groups/delta?$select={props}")),
            false,
        )
        .await;
    assert_eq!(r.pages.len(), 1);
    assert_eq!(r.items.len(), 12, "--groups defaults to 12");
    // The first page echoes the $select list as asked.
    assert_eq!(
        r.pages[0]["@odata.context"],
        format!("{}/v1.0/$metadata#groups({props})", e.base)
    );
    assert!(
        r.delta_link
            .starts_with(&format!("{}/v1.0/groups/delta?$deltatoken=", e.base)),
        "{}",
        r.delta_link
    );
    let ids: HashSet<String> = r.ids().into_iter().collect();
    assert_eq!(ids.len(), 12);
    for item in &r.items {
        for k in keys(item) {
            assert!(DEFAULT_PROPS.contains(&k.as_str()), "unexpected {k}");
        }
        assert!(item["displayName"].is_string());
        assert!(item["createdDateTime"].is_string());
        assert!(item["groupTypes"].is_array());
        assert!(item.get("members@delta").is_none());
    }
    let all = r
        .items
        .iter()
        .find(|i| i["displayName"] == "All Company")
        .unwrap();
    assert_eq!(all["groupTypes"], json!(["Unified"]));
    assert_eq!(all["mailEnabled"], true);
    assert_eq!(all["securityEnabled"], false);
    assert!(all["mail"].as_str().unwrap().contains('@'));
    assert!(
        all["proxyAddresses"][0]
            .as_str()
            .unwrap()
            .starts_with("SMTP:")
    );
    assert!(all["visibility"].is_string());
    let sec = r
        .items
        .iter()
        .find(|i| i["securityEnabled"] == true)
        .unwrap();
    assert_eq!(sec["groupTypes"], json!([]));
    assert_eq!(sec["mailEnabled"], false);
    assert_eq!(sec.get("mail"), Some(&Value::Null), "never set: null");
    // The sample ids of the state are groups of this round.
    let state = e.emu.control().state();
    for g in state["sampleGroupIds"].as_array().unwrap() {
        assert!(ids.contains(g.as_str().unwrap()));
    }
    assert_eq!(e.emu.demo().sample_group_ids.len(), 5);
    // No change since: the next round is empty.
    let next = e.round(&r.delta_link, false).await;
    assert!(next.items.is_empty());

    // Without $select: the default properties, and members@delta "included in group objects by
    // default, when the $select query parameter has not been specified" (delta-query-groups.md),
    // absent for a group without members.
    let plain = e.round(&e.url("/v1.0/groups/delta"), false).await;
    let distinct: HashSet<String> = plain.ids().into_iter().collect();
    assert_eq!(distinct, ids);
    for item in &plain.items {
        for k in keys(item) {
            assert!(
                DEFAULT_PROPS.contains(&k.as_str()) || k == "members@delta",
                "unexpected {k}"
            );
        }
        let id = item["id"].as_str().unwrap();
        assert_eq!(
            item.get("members@delta").is_some(),
            !members_of(&e, id).is_empty(),
            "{item}"
        );
        links(item);
    }
}

#[tokio::test]
async fn all_path_spellings_and_top_is_ignored() {
    let e = start_default().await;
    for path in [
        "/v1.0/groups/delta",
        "/beta/groups/delta()",
        "/v1.0/groups/microsoft.graph.delta",
        "/beta/groups/microsoft.graph.delta()",
    ] {
        let r = e
            .round(&e.url(&format!("{path}?$top=2&$select=displayName")), false)
            .await;
        assert_eq!(r.pages.len(), 1, "{path}: $top is ignored");
        assert_eq!(r.items.len(), 12, "{path}");
        let version = if path.starts_with("/beta") {
            "beta"
        } else {
            "v1.0"
        };
        assert!(
            r.delta_link
                .starts_with(&format!("{}/{version}/groups/delta?$deltatoken=", e.base)),
            "{path}: {}",
            r.delta_link
        );
    }
}

#[tokio::test]
async fn select_members_gives_members_delta() {
    let e = start(EmulatorConfig {
        member_slice: 100,
        ..EmulatorConfig::default()
    })
    .await;
    let r = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,members"),
            false,
        )
        .await;
    assert_eq!(r.items.len(), 12, "50 users: no group needs a second slice");
    assert!(!r.delta_link.contains("select"));
    let users: HashSet<String> = e
        .round(&e.url("/v1.0/users/delta"), false)
        .await
        .ids()
        .into_iter()
        .collect();
    for item in &r.items {
        let id = item["id"].as_str().unwrap();
        if members_of(&e, id).is_empty() {
            assert_eq!(
                keys(item),
                vec!["displayName", "id"],
                "no members: no property"
            );
        } else {
            assert_eq!(keys(item), vec!["displayName", "id", "members@delta"]);
        }
        let (adds, removes) = links(item);
        assert!(removes.is_empty());
        for a in &adds {
            assert!(users.contains(a), "{a} is not a user of users delta");
        }
        let set: BTreeSet<String> = adds.iter().cloned().collect();
        assert_eq!(set.len(), adds.len(), "no duplicates");
        assert_eq!(set, members_of(&e, id));
    }
    let all = r
        .items
        .iter()
        .find(|i| i["displayName"] == "All Company")
        .unwrap();
    assert_eq!(links(all).0.len(), 50);
    // Sizes vary.
    let sizes: BTreeSet<usize> = r.items.iter().map(|i| links(i).0.len()).collect();
    assert!(sizes.len() >= 4, "{sizes:?}");
    // owners is a known property: accepted (not tracked); an unknown one is a 400.
    let ok = e
        .get(&e.url("/v1.0/groups/delta?$select=displayName,owners"))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let bad = e
        .get(&e.url("/v1.0/groups/delta?$select=displayName,nickname"))
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_large_group_is_sliced_and_the_slices_are_exactly_its_members() {
    let e = start(EmulatorConfig {
        users: 420,
        page_size: 5,
        member_slice: 100,
        ..EmulatorConfig::default()
    })
    .await;
    let r = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,description,members"),
            false,
        )
        .await;
    assert!(
        r.pages.len() > 2,
        "12 groups and their slices in pages of 5"
    );
    for p in &r.pages {
        assert!(p["value"].as_array().unwrap().len() <= 5);
    }
    // Page and position of every item, to check the order of a group's items.
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut firsts: BTreeMap<String, Value> = BTreeMap::new();
    for (pos, item) in r.items.iter().enumerate() {
        let id = item["id"].as_str().unwrap().to_string();
        let (adds, removes) = links(item);
        assert!(removes.is_empty());
        assert!(
            adds.len() <= 100,
            "a slice holds at most --member-slice links"
        );
        let first = !seen.contains_key(&id);
        assert!(item["displayName"].is_string(), "{item}");
        let mut plain = item.clone();
        plain.as_object_mut().unwrap().remove("members@delta");
        if first {
            firsts.insert(id.clone(), plain);
        } else {
            // "The same property values will be returned but the expanded members@delta
            // property now contains a different list of users."
            assert_eq!(plain, firsts[&id], "{item}");
            assert!(!adds.is_empty());
        }
        seen.entry(id.clone()).or_default().push(pos);
        got.entry(id).or_default().extend(adds);
    }
    assert_eq!(seen.len(), 12, "every group once, plus its further slices");
    let largest = e.emu.demo().sample_group_ids[0].clone();
    assert!(
        members_of(&e, &largest).len() > 250,
        "the largest group has more than 250 members"
    );
    assert!(seen[&largest].len() >= 3, "{:?}", seen[&largest]);
    // The further slices come after the first appearance, on a later page here.
    assert!(seen[&largest][1] >= 5);
    for (id, list) in &got {
        let set: BTreeSet<String> = list.iter().cloned().collect();
        assert_eq!(set.len(), list.len(), "{id}: no member sent twice");
        assert_eq!(set, members_of(&e, id), "{id}: the slices are its members");
    }
    // The state tells the slice size.
    assert_eq!(e.emu.control().state()["groups"]["memberSlice"], 100);
}

#[tokio::test]
async fn member_slice_is_configurable_and_a_round_keeps_its_snapshot() {
    let e = start(EmulatorConfig {
        member_slice: 7,
        page_size: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let all = e.emu.control().group_id(0);
    // First page, then a membership change in the middle of the round.
    let first = e
        .get(&e.url("/v1.0/groups/delta?$select=members"))
        .await
        .json();
    let next = first["@odata.nextLink"].as_str().unwrap().to_string();
    let before = members_of(&e, &all);
    let leaving = before.iter().next().unwrap().clone();
    e.emu.control().remove_member(&all, &leaving).unwrap();
    let mut items: Vec<Value> = first["value"].as_array().unwrap().clone();
    let rest = e.round(&next, false).await;
    items.extend(rest.items.iter().cloned());
    let mut got = Vec::new();
    for i in items.iter().filter(|i| i["id"] == all) {
        let (adds, _) = links(i);
        assert!(adds.len() <= 7);
        got.extend(adds);
    }
    let set: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(set.len(), got.len());
    assert_eq!(set, before, "the round serves the membership of its start");
    // The change shows in the next round.
    let later = e.round(&rest.delta_link, false).await;
    let g = find(&later, &all);
    assert_eq!(g.len(), 1);
    assert_eq!(links(g[0]), (vec![], vec![leaving]));
}

#[tokio::test]
async fn minimal_and_default_in_a_later_round() {
    let e = start_default().await;
    let r = e.round(&e.url("/v1.0/groups/delta"), false).await;
    let (sec, m365) = kinds(&e);
    let (s, v) = e
        .patch(
            &format!("/_emulator/groups/{m365}"),
            json!({"displayName": "Renamed Team", "classification": null}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["displayName"], "Renamed Team");
    // A change to a property that is not selected does not start a round.
    let (s, _) = e
        .patch(
            &format!("/_emulator/groups/{sec}"),
            json!({"membershipRule": "user.department -eq \"Sales\""}),
        )
        .await;
    assert_eq!(s, 200);

    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.ids(), vec![m365.clone()]);
    let item = &d.items[0];
    assert_eq!(item["displayName"], "Renamed Team");
    assert!(
        item["createdDateTime"].is_string(),
        "default: all with a value"
    );
    assert!(item["mail"].is_string());
    assert_eq!(item["classification"], Value::Null, "changed to null: null");
    assert!(item.get("members@delta").is_none());

    let m = e.round(&r.delta_link, true).await;
    assert_eq!(m.items.len(), 1);
    let mut expected = vec!["classification", "displayName", "id"];
    if r.by_id(&m365).unwrap()["classification"].is_null() {
        // It had no classification: setting null is no change.
        expected.remove(0);
    }
    assert_eq!(keys(&m.items[0]), expected);
    let pa = e
        .get_minimal(&r.delta_link)
        .await
        .header("preference-applied")
        .map(str::to_string);
    assert_eq!(pa.as_deref(), Some("return=minimal"));
}

#[tokio::test]
async fn membership_changes_show_only_when_members_is_selected() {
    let e = start_default().await;
    let with = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,members"),
            false,
        )
        .await;
    let without = e
        .round(&e.url("/v1.0/groups/delta?$select=displayName"), false)
        .await;
    let (sec, m365) = kinds(&e);
    let c = e.emu.control();
    let current = members_of(&e, &sec);
    let all_users: Vec<String> = (0..50).map(|i| c.user_id(i)).collect();
    let joining = all_users
        .iter()
        .find(|u| !current.contains(*u))
        .unwrap()
        .clone();
    let leaving = current.iter().next().unwrap().clone();
    let (s, v) = e
        .post(
            &format!("/_emulator/groups/{sec}/members"),
            json!({"id": joining}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = e
        .delete(&format!("/_emulator/groups/{sec}/members/{leaving}"))
        .await;
    assert_eq!(s, 200, "{v}");
    // Joined and left again within the range: nothing to show for that group.
    let other = all_users
        .iter()
        .find(|u| !members_of(&e, &m365).contains(*u))
        .unwrap()
        .clone();
    c.add_member(&m365, &other).unwrap();
    c.remove_member(&m365, &other).unwrap();

    let d = e.round(&with.delta_link, false).await;
    assert_eq!(d.ids(), vec![sec.clone()]);
    let item = &d.items[0];
    assert!(
        item["displayName"].is_string(),
        "default: the selected props"
    );
    assert_eq!(
        links(item),
        (vec![joining.clone()], vec![leaving.clone()]),
        "only the changes"
    );
    let m = e.round(&with.delta_link, true).await;
    assert_eq!(keys(&m.items[0]), vec!["id", "members@delta"]);
    assert_eq!(links(&m.items[0]), (vec![joining], vec![leaving]));
    // Without members selected, membership changes start no round.
    let n = e.round(&without.delta_link, false).await;
    assert!(n.items.is_empty(), "{:?}", n.items);
    // Control errors: a second add is a conflict, removing a non-member is a 404.
    let (s, _) = e
        .post(
            &format!("/_emulator/groups/{sec}/members"),
            json!({"id": members_of(&e, &sec).iter().next().unwrap()}),
        )
        .await;
    assert_eq!(s, 409);
    let outsider = all_users
        .iter()
        .find(|u| !members_of(&e, &sec).contains(*u))
        .unwrap();
    let (s, _) = e
        .delete(&format!("/_emulator/groups/{sec}/members/{outsider}"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = e
        .post(
            &format!("/_emulator/groups/{sec}/members"),
            json!({"id": "not-a-user"}),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn soft_and_hard_delete_and_restore() {
    let e = start_default().await;
    let r = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,mail,members"),
            false,
        )
        .await;
    let (sec, m365) = kinds(&e);
    let (s, _) = e.delete(&format!("/_emulator/groups/{sec}")).await;
    assert_eq!(s, 200);
    let (s, _) = e
        .delete(&format!("/_emulator/groups/{m365}?permanent=true"))
        .await;
    assert_eq!(s, 200);
    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.items.len(), 2);
    assert_eq!(
        d.by_id(&sec).unwrap(),
        &json!({"id": sec, "@removed": {"reason": "changed"}})
    );
    assert_eq!(
        d.by_id(&m365).unwrap(),
        &json!({"id": m365, "@removed": {"reason": "deleted"}})
    );
    // A soft-deleted group is not in a full round; it takes no members.
    let full = e
        .round(&e.url("/v1.0/groups/delta?$select=displayName"), false)
        .await;
    assert_eq!(full.items.len(), 10);
    let (s, _) = e
        .post(
            &format!("/_emulator/groups/{sec}/members"),
            json!({"id": e.emu.control().user_id(0)}),
        )
        .await;
    assert_eq!(s, 409);

    let (s, v) = e
        .post(&format!("/_emulator/groups/{sec}/restore"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["@emulator.status"], "live");
    let (s, _) = e
        .post(&format!("/_emulator/groups/{m365}/restore"), json!({}))
        .await;
    assert_eq!(s, 404, "a hard-deleted group cannot be restored");
    for minimal in [false, true] {
        let back = e.round(&d.delta_link, minimal).await;
        assert_eq!(back.ids(), vec![sec.clone()]);
        let item = &back.items[0];
        assert!(item["displayName"].is_string());
        assert_eq!(
            item["mail"],
            Value::Null,
            "restored: unset selected as null"
        );
        let (adds, removes) = links(item);
        assert!(removes.is_empty());
        let set: BTreeSet<String> = adds.into_iter().collect();
        assert_eq!(set, members_of(&e, &sec), "its full member list as adds");
    }
}

#[tokio::test]
async fn created_groups_come_whole_with_their_members() {
    let e = start_default().await;
    let r = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,members"),
            false,
        )
        .await;
    let c = e.emu.control();
    let (u1, u2) = (c.user_id(3), c.user_id(4));
    let (s, g) = e
        .post(
            "/_emulator/groups",
            json!({"displayName": "Tiger Team", "members": [u1, u2]}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let id = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["@emulator.memberCount"], 2);
    let d = e.round(&r.delta_link, true).await;
    assert_eq!(d.ids(), vec![id.clone()]);
    assert_eq!(d.items[0]["displayName"], "Tiger Team");
    let (adds, _) = links(&d.items[0]);
    assert_eq!(
        adds.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([u1, u2])
    );
    let (s, _) = e
        .post("/_emulator/groups", json!({"members": ["not-a-user"]}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = e
        .patch(&format!("/_emulator/groups/{id}"), json!({"bogus": 1}))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn id_filter() {
    let e = start_default().await;
    let c = e.emu.control();
    let (a, b) = (c.group_id(1), c.group_id(2));
    let url = e.url(&format!(
        "/v1.0/groups/delta?$select=displayName,members&$filter=id eq '{a}' or id eq '{b}'"
    ));
    let r = e.round(&url, false).await;
    let got: BTreeSet<String> = r.ids().into_iter().collect();
    assert_eq!(got, BTreeSet::from([a.clone(), b.clone()]));
    assert!(!r.delta_link.contains("filter"));
    // A change to another group is not in the filtered round; one to a filtered group is.
    c.update_group(&c.group_id(3), &json!({"displayName": "Elsewhere"}))
        .unwrap();
    c.update_group(&a, &json!({"displayName": "Here"})).unwrap();
    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.ids(), vec![a]);
    // More than 50 ids: 400; not an id filter: 400.
    let many: Vec<String> = (0..51)
        .map(|i| format!("id eq '{}'", c.group_id(i)))
        .collect();
    let r = e
        .get(&e.url(&format!("/v1.0/groups/delta?$filter={}", many.join(" or "))))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "Request_UnsupportedQuery");
    let r = e
        .get(&e.url("/v1.0/groups/delta?$filter=displayName eq 'x'"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn deltatoken_latest_starts_from_now() {
    let e = start_default().await;
    let c = e.emu.control();
    c.update_group(&c.group_id(1), &json!({"description": "before"}))
        .unwrap();
    let r = e
        .get(&e.url("/v1.0/groups/delta?$deltatoken=latest&$select=description,members"))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["value"], json!([]));
    let dl = v["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(dl.contains("/groups/delta?$deltatoken="));
    let d = e.round(&dl, false).await;
    assert!(d.items.is_empty());
    c.update_group(&c.group_id(2), &json!({"description": "after"}))
        .unwrap();
    c.add_member(&c.group_id(4), &c.user_id(0)).ok();
    let d = e.round(&dl, true).await;
    let ids: BTreeSet<String> = d.ids().into_iter().collect();
    assert!(ids.contains(&c.group_id(2)));
    assert!(!ids.contains(&c.group_id(1)));
}

#[tokio::test]
async fn faults_apply_to_groups() {
    let e = start_default().await;
    let c = e.emu.control();
    c.add_fault("throttle:1:2").unwrap();
    let r = e.get(&e.url("/v1.0/groups/delta")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    let r = e.get(&e.url("/v1.0/groups/delta")).await;
    assert_eq!(r.status, 200);
    // A contacts token is not a groups token.
    let cr = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let tok = cr.delta_link.split("$deltatoken=").nth(1).unwrap();
    let r = e
        .get(&e.url(&format!("/v1.0/groups/delta?$deltatoken={tok}")))
        .await;
    assert_eq!(r.status, 400);
}

const SECRET: &str = "emulator-test-secret-groups-1";

async fn app_token(e: &Emu, tenant: &str, client: &str) -> String {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", SECRET),
            ("scope", &format!("{}/.default", e.base)),
        ])
        .finish();
    let r = e
        .http
        .post(e.url(&format!("/{tenant}/oauth2/v2.0/token")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn enforcement_needs_a_group_permission() {
    let app = |id: &str, role: &str| EmulatorApp {
        client_id: id.into(),
        display_name: role.into(),
        secret: Some(SECRET.into()),
        roles: vec![role.into()],
        ..Default::default()
    };
    let e = start(EmulatorConfig {
        identity: IdentityConfig {
            enforce: true,
            apps: vec![
                app("33333333-3333-3333-3333-333333333333", "User.Read.All"),
                app(
                    "44444444-4444-4444-4444-444444444444",
                    "GroupMember.Read.All",
                ),
                app("55555555-5555-5555-5555-555555555555", "Group.Read.All"),
            ],
            ..Default::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let tenant = e.emu.demo().tenant_id;
    let url = e.url("/v1.0/groups/delta?$select=displayName,members");
    let users_only = app_token(&e, &tenant, "33333333-3333-3333-3333-333333333333").await;
    let r = e
        .get_with(&url, &[("Authorization", &format!("Bearer {users_only}"))])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.error_code(), "Authorization_RequestDenied");
    for client in [
        "44444444-4444-4444-4444-444444444444",
        "55555555-5555-5555-5555-555555555555",
    ] {
        let tok = app_token(&e, &tenant, client).await;
        let r = e
            .get_with(&url, &[("Authorization", &format!("Bearer {tok}"))])
            .await;
        assert_eq!(r.status, 200, "{client}: {}", r.text);
    }
}

#[tokio::test]
async fn demo_tokens_read_groups_under_enforcement() {
    let e = start(EmulatorConfig {
        identity: IdentityConfig {
            enforce: true,
            ..Default::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let tenant = e.emu.demo().tenant_id;
    let tok = app_token(&e, &tenant, "66666666-6666-6666-6666-666666666666").await;
    let r = e
        .get_with(
            &e.url("/v1.0/groups/delta"),
            &[("Authorization", &format!("Bearer {tok}"))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn random_group_changes_keep_a_replica_in_step() {
    // Group changes from the control API (members joining and leaving, edits, deletes,
    // restores), applied round by round to a replica, give what a fresh full round gives.
    fn apply(replica: &mut BTreeMap<String, (Value, BTreeSet<String>)>, items: &[Value]) {
        for item in items {
            let id = item["id"].as_str().unwrap().to_string();
            if item.get("@removed").is_some() {
                replica.remove(&id);
                continue;
            }
            let entry = replica.entry(id).or_insert((json!({}), BTreeSet::new()));
            for (k, v) in item.as_object().unwrap() {
                if k == "members@delta" {
                    let (adds, removes) = links(item);
                    entry.1.extend(adds);
                    for r in removes {
                        entry.1.remove(&r);
                    }
                } else if v.is_null() {
                    entry.0.as_object_mut().unwrap().remove(k);
                } else {
                    entry.0[k] = v.clone();
                }
            }
        }
    }
    let e = start(EmulatorConfig {
        users: 260,
        page_size: 4,
        member_slice: 30,
        ..EmulatorConfig::default()
    })
    .await;
    let first = e.url("/v1.0/groups/delta?$select=displayName,description,members");
    let r = e.round(&first, false).await;
    let mut replica = BTreeMap::new();
    apply(&mut replica, &r.items);
    let mut link = r.delta_link;
    for step in 0..8u64 {
        let (s, v) = e
            .post("/_emulator/mutate", json!({"groups": 5 + step * 3}))
            .await;
        assert_eq!(s, 200, "{v}");
        assert!(v["groups"].is_object(), "{v}");
        let r = e.round(&link, step % 2 == 0).await;
        apply(&mut replica, &r.items);
        link = r.delta_link;
    }
    let full = e.round(&first, false).await;
    let mut fresh = BTreeMap::new();
    apply(&mut fresh, &full.items);
    assert_eq!(replica, fresh);
}

#[tokio::test]
async fn expand_members_tracks_membership_as_the_groups_concept_page_does() {
    let e = start(EmulatorConfig {
        users: 420,
        member_slice: 100,
        ..EmulatorConfig::default()
    })
    .await;
    // The request of delta-query-groups.md.
    let r = e
        .round(
            &e.url("/v1.0/groups/delta?$select=displayName,description&$expand=members"),
            false,
        )
        .await;
    let largest = e.emu.demo().sample_group_ids[0].clone();
    let mut got = BTreeSet::new();
    for item in find(&r, &largest) {
        assert_eq!(
            keys(item),
            vec!["description", "displayName", "id", "members@delta"]
        );
        got.extend(links(item).0);
    }
    assert_eq!(got, members_of(&e, &largest));
    assert!(
        find(&r, &largest).len() >= 3,
        "a large group comes in slices"
    );
    // Only members can be expanded on a delta query.
    let bad = e.get(&e.url("/v1.0/groups/delta?$expand=owners")).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
}
