//! The full schema, against the emulator over loopback HTTP: `$select` of every property the
//! generated lists (`assets/schema/*.v1.0.json`, from Graph's CSDL) accept in delta gives 200
//! and every object carries each selected property (a value or null); a property read only for a
//! single object gets Graph's 400; an unknown name keeps the "Could not find a property" 400;
//! without `$select` each collection returns exactly the lists' default properties.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use emulator_support::start_default;
use serde_json::Value;

struct Prop {
    name: String,
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
];

/// The properties the emulator served before the full schema leave out a missing value (as
/// they always did); every other selected property is written, `null` when unset.
const OMITTED_WHEN_UNSET: &[&str] = &[
    "classification",
    "department",
    "expirationDateTime",
    "jobTitle",
    "mail",
    "membershipRule",
    "mobilePhone",
    "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "renewedDateTime",
    "visibility",
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
}

#[tokio::test]
async fn every_delta_property_is_selectable_and_present() {
    let e = start_default().await;
    for (path, json) in SETS {
        let names: Vec<String> = props(json)
            .into_iter()
            .filter(|p| p.delta)
            .map(|p| p.name)
            .collect();
        let url = e.url(&format!("{path}?$select={}", names.join(",")));
        let round = e.round(&url, false).await;
        assert!(!round.items.is_empty(), "{path}");
        for item in &round.items {
            if item.get("@removed").is_some() {
                continue;
            }
            for n in &names {
                if OMITTED_WHEN_UNSET.contains(&n.as_str()) {
                    continue;
                }
                assert!(item.get(n).is_some(), "{path}: {n} missing in {item}");
            }
        }
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
        // Every default property shows up on some object (a few have no value on some).
        let want: std::collections::BTreeSet<String> = defaults.into_iter().collect();
        assert_eq!(seen, want, "{path}");
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
