//! The full schema, against the emulator over loopback HTTP: `$select` of every property the
//! generated lists (`assets/schema/*.{v1.0,beta}.json`, from Graph's CSDL) accept in delta gives
//! 200 on that version and every live object carries each selected property (a value, or `null`,
//! `[]` for a collection); a property read only for a single object gets Graph's 400; an unknown
//! name, or a beta-only property on /v1.0, keeps the "Could not find a property" 400; without
//! `$select` each collection returns exactly the lists' default properties, on every object;
//! minimal rounds send only what changed; the control API refuses what delta cannot return.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use emulator_support::{keys, start_default};
use serde_json::{Value, json};

struct Prop {
    name: String,
    collection: bool,
    default: bool,
    delta: bool,
}

fn props(json: &str) -> Vec<Prop> {
    let doc: Value = serde_json::from_str(json).unwrap();
    assert!(doc["source"]["commit"].as_str().unwrap().len() == 40);
    doc["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Prop {
            name: p["name"].as_str().unwrap().to_string(),
            collection: p["type"].as_str().unwrap().starts_with("Collection("),
            default: p["default"].as_bool().unwrap(),
            delta: p["delta"].as_bool().unwrap(),
        })
        .collect()
}

const SETS: &[(&str, &str)] = &[
    (
        "/v1.0/users/delta",
        include_str!("../assets/schema/user.v1.0.json"),
    ),
    (
        "/v1.0/groups/delta",
        include_str!("../assets/schema/group.v1.0.json"),
    ),
    (
        "/v1.0/contacts/delta",
        include_str!("../assets/schema/orgContact.v1.0.json"),
    ),
    (
        "/beta/users/delta",
        include_str!("../assets/schema/user.beta.json"),
    ),
    (
        "/beta/groups/delta",
        include_str!("../assets/schema/group.beta.json"),
    ),
    (
        "/beta/contacts/delta",
        include_str!("../assets/schema/orgContact.beta.json"),
    ),
];

#[test]
fn generated_lists_parse_and_hold_the_issue_properties() {
    let user: Vec<String> = props(SETS[0].1).into_iter().map(|p| p.name).collect();
    assert_eq!(user.len(), 80);
    for n in [
        "createdDateTime",
        "employeeId",
        "mailNickname",
        "companyName",
        "city",
    ] {
        assert!(user.iter().any(|u| u == n), "{n}");
    }
    assert_eq!(props(SETS[1].1).len(), 52);
    assert_eq!(props(SETS[2].1).len(), 16);
    // Beta: every v1.0 property and its own.
    for (v1, beta, n) in [(0, 3, 88), (1, 4, 56), (2, 5, 16)] {
        let b: Vec<String> = props(SETS[beta].1).into_iter().map(|p| p.name).collect();
        assert_eq!(b.len(), n);
        for p in props(SETS[v1].1) {
            assert!(b.contains(&p.name), "{}", p.name);
        }
    }
}

#[tokio::test]
async fn every_delta_property_is_selectable_and_present() {
    let e = start_default().await;
    for (path, json) in SETS {
        let list: Vec<Prop> = props(json).into_iter().filter(|p| p.delta).collect();
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        let url = e.url(&format!("{path}?$select={}", names.join(",")));
        let round = e.round(&url, false).await;
        assert!(!round.items.is_empty(), "{path}");
        let mut nulls = 0;
        for item in &round.items {
            if item.get("@removed").is_some() {
                continue;
            }
            for p in &list {
                let v = item.get(&p.name);
                assert!(v.is_some(), "{path}: {} missing in {item}", p.name);
                if p.collection {
                    assert!(v.unwrap().is_array(), "{path}: {} in {item}", p.name);
                }
                nulls += v.unwrap().is_null() as usize;
            }
            let n = item.as_object().unwrap().keys();
            assert_eq!(
                n.filter(|k| !k.contains('@')).count(),
                list.len() + 1,
                "{path}: {item}"
            );
        }
        assert!(nulls > 0, "{path}: some unset property shows as null");
    }
}

#[tokio::test]
async fn admin_properties_have_realistic_values() {
    let e = start_default().await;
    let url = e.url("/v1.0/users/delta?$select=userType,createdDateTime,employeeId,proxyAddresses,onPremisesSyncEnabled,mailNickname,city");
    let round = e.round(&url, false).await;
    let u = &round.items[0];
    assert!(["Member", "Guest"].contains(&u["userType"].as_str().unwrap()));
    assert!(u["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        u["proxyAddresses"][0]
            .as_str()
            .unwrap()
            .starts_with("SMTP:")
    );
    assert!(u["city"].is_string() && u["mailNickname"].is_string());
    assert!(
        round
            .items
            .iter()
            .any(|u| u["onPremisesSyncEnabled"] == true)
    );
    assert!(round.items.iter().any(|u| u["employeeId"].is_string()));
    let url =
        e.url("/v1.0/groups/delta?$select=groupTypes,securityEnabled,isArchived,assignedLabels");
    let round = e.round(&url, false).await;
    for g in &round.items {
        assert!(
            g["securityEnabled"].is_boolean() && g["groupTypes"].is_array(),
            "{g}"
        );
        assert!(g["isArchived"].is_null() && g["assignedLabels"] == serde_json::json!([]));
    }
}

#[tokio::test]
async fn single_object_properties_get_graphs_answer() {
    let e = start_default().await;
    for (path, json) in &SETS[..2] {
        for p in props(json).into_iter().filter(|p| !p.delta) {
            let r = e
                .get(&e.url(&format!("{path}?$select=displayName,{}", p.name)))
                .await;
            assert_eq!(r.status, 400, "{path} {}: {}", p.name, r.text);
            assert_eq!(r.error_code(), "Request_UnsupportedQuery");
            let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(
                msg.starts_with("Invalid Request: $select is not supported for these properties")
            );
            assert!(msg.contains(&p.name), "{msg}");
        }
    }
    for (path, _) in SETS {
        let r = e
            .get(&e.url(&format!("{path}?$select=noSuchProperty")))
            .await;
        assert_eq!(r.status, 400);
        assert!(
            r.text
                .contains("Could not find a property named 'noSuchProperty'"),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn defaults_equal_the_lists_defaults() {
    let e = start_default().await;
    for (path, json) in SETS {
        let defaults: Vec<String> = props(json)
            .into_iter()
            .filter(|p| p.default)
            .map(|p| p.name)
            .collect();
        let round = e.round(&e.url(path), false).await;
        let mut seen = std::collections::BTreeSet::new();
        for item in &round.items {
            for k in item.as_object().unwrap().keys() {
                if k != "id" && !k.contains('@') {
                    assert!(defaults.contains(k), "{path}: {k} returned without $select");
                    seen.insert(k.clone());
                }
            }
        }
        let want: std::collections::BTreeSet<String> = defaults.into_iter().collect();
        assert_eq!(seen, want, "{path}");
        // On every object: null when it has no value (a contact without a department, a user
        // without a mobile phone, a security group without mail).
        for item in round.items.iter().filter(|i| i.get("@removed").is_none()) {
            for k in &want {
                assert!(item.get(k).is_some(), "{path}: {k} missing in {item}");
            }
        }
        assert!(
            round
                .items
                .iter()
                .any(|i| want.iter().any(|k| i[k.as_str()].is_null())),
            "{path}: some default property is unset somewhere"
        );
    }
}

#[tokio::test]
async fn changed_objects_keep_every_selected_property() {
    let e = start_default().await;
    let url = e.url("/v1.0/users/delta?$select=displayName,city,employeeId,skills");
    assert_eq!(e.get(&url).await.status, 400);
    let url = e.url("/v1.0/users/delta?$select=displayName,city,aboutMe");
    assert_eq!(e.get(&url).await.status, 400);
    let url = e.url("/v1.0/users/delta?$select=displayName,ageGroup,faxNumber");
    let first = e.round(&url, false).await;
    let id = e.emu.control().user_id(10);
    let (s, v) = e
        .patch(
            &format!("/_emulator/users/{id}"),
            serde_json::json!({"displayName": "Renamed"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let second = e.round(&first.delta_link, false).await;
    let u = second.by_id(&id).unwrap();
    assert_eq!(u["displayName"], "Renamed");
    assert!(
        u.get("ageGroup").is_some() && u.get("faxNumber").is_some(),
        "{u}"
    );
}

#[tokio::test]
async fn beta_only_properties_are_beta_only() {
    let e = start_default().await;
    // In beta's lists and not in v1.0's (from the CSDL): deviceKeys, a collection, and
    // refreshTokensValidFromDateTime for users; createdByAppId for groups.
    for (coll, p) in [
        ("users", "deviceKeys"),
        ("users", "refreshTokensValidFromDateTime"),
        ("groups", "createdByAppId"),
    ] {
        let beta = e
            .round(
                &e.url(&format!("/beta/{coll}/delta?$select=displayName,{p}")),
                false,
            )
            .await;
        assert!(!beta.items.is_empty());
        for item in &beta.items {
            assert!(item.get(p).is_some(), "{coll}.{p} missing in {item}");
        }
        let r = e
            .get(&e.url(&format!("/v1.0/{coll}/delta?$select=displayName,{p}")))
            .await;
        assert_eq!(r.status, 400, "{coll}.{p}: {}", r.text);
        assert!(
            r.text
                .contains(&format!("Could not find a property named '{p}'")),
            "{}",
            r.text
        );
    }
    let beta = e
        .round(&e.url("/beta/users/delta?$select=deviceKeys"), false)
        .await;
    assert!(beta.items.iter().all(|u| u["deviceKeys"] == json!([])));
    // Beta's single-object properties get the same 400 as v1.0's.
    let r = e
        .get(&e.url("/beta/users/delta?$select=displayName,aboutMe"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "Request_UnsupportedQuery");
}

#[tokio::test]
async fn cleared_properties_are_null_in_full_rounds_and_only_changes_in_minimal_ones() {
    let e = start_default().await;
    let url = e.url("/v1.0/users/delta?$select=displayName,jobTitle,businessPhones,city");
    let first = e.round(&url, false).await;
    let id = e.emu.control().user_id(10);
    let (s, v) = e
        .patch(
            &format!("/_emulator/users/{id}"),
            json!({"jobTitle": null, "businessPhones": null}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let second = e.round(&first.delta_link, false).await;
    let u = second.by_id(&id).unwrap();
    assert_eq!(keys(u).len(), 5, "{u}");
    assert!(
        u["jobTitle"].is_null() && u["displayName"].is_string(),
        "{u}"
    );
    assert_eq!(u["businessPhones"], json!([]), "{u}");
    // A later full round shows the stored object the same way.
    let full = e.round(&url, false).await;
    assert_eq!(full.by_id(&id).unwrap(), u);
    let minimal = e.round(&first.delta_link, true).await;
    let m = minimal.by_id(&id).unwrap();
    assert_eq!(keys(m), vec!["businessPhones", "id", "jobTitle"], "{m}");
    assert_eq!(m["businessPhones"], json!([]));
}

#[tokio::test]
async fn the_control_api_refuses_what_delta_cannot_return() {
    let e = start_default().await;
    let id = e.emu.control().user_id(10);
    let group = e.emu.control().group_id(1);
    let cases = [
        ("/_emulator/users".to_string(), "aboutMe", json!("Hi")),
        (
            format!("/_emulator/users/{id}"),
            "birthday",
            json!("2000-01-01T00:00:00Z"),
        ),
        (
            format!("/_emulator/users/{id}"),
            "mailboxSettings",
            json!({"timeZone": "UTC"}),
        ),
        (format!("/_emulator/users/{id}"), "noSuchProperty", json!(1)),
        (
            format!("/_emulator/groups/{group}"),
            "unseenCount",
            json!(3),
        ),
        (
            "/_emulator/contacts".to_string(),
            "favoriteColor",
            json!("blue"),
        ),
    ];
    let before = e.get(&e.url("/_emulator/state")).await.json()["position"].clone();
    for (path, prop, value) in cases {
        let body = json!({"displayName": "X", prop: value});
        let (s, v) = if path.matches('/').count() == 2 {
            e.post(&path, body).await
        } else {
            e.patch(&path, body).await
        };
        assert_eq!(s, 400, "{path} {prop}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("\"{prop}\"")), "{msg}");
    }
    let after = e.get(&e.url("/_emulator/state")).await.json()["position"].clone();
    assert_eq!(before, after, "nothing refused was logged");
    // What delta returns is taken, beta-only properties included (served on /beta).
    let (s, v) = e
        .patch(
            &format!("/_emulator/users/{id}"),
            json!({"city": "Oslo", "refreshTokensValidFromDateTime": "2025-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let r = e
        .round(
            &e.url("/beta/users/delta?$select=city,refreshTokensValidFromDateTime"),
            false,
        )
        .await;
    let u = r.by_id(&id).unwrap();
    assert_eq!(u["city"], "Oslo");
    assert_eq!(u["refreshTokensValidFromDateTime"], "2025-01-01T00:00:00Z");
}
