//! The resources issue 15 adds to the emulator, over real HTTP on loopback with plain reqwest
//! and serde_json (no client code): applications, service principals and devices (the
//! directory machinery), the demo drive's items (OneDrive's links, `token=latest`, time tokens,
//! the `deleted` facet), the demo mailbox's messages and calendar view.
#![allow(clippy::unwrap_used)]

mod emulator_support;
#[path = "support/identity.rs"]
#[allow(dead_code)]
mod identity;

use deltascope::emulator::{EmulatorApp, EmulatorConfig};
use emulator_support::*;
use serde_json::{Value, json};

fn small() -> EmulatorConfig {
    EmulatorConfig {
        contacts: 5,
        users: 5,
        groups: 2,
        organizers: 1,
        recordings: 1,
        ..Default::default()
    }
}

/// The query string value of `name` in `link`.
fn param(link: &str, name: &str) -> Option<String> {
    let q = link.split_once('?')?.1;
    q.split('&').find_map(|p| {
        p.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

// ---------------------------------------------------------------- directory collections

#[tokio::test]
async fn applications_service_principals_devices_round_and_links() {
    let e = start(small()).await;
    for (coll, n, prop) in [
        ("applications", 40, "appId"),
        ("servicePrincipals", 60, "appId"),
        ("devices", 30, "deviceId"),
    ] {
        let r = e.round(&e.url(&format!("/v1.0/{coll}/delta")), false).await;
        assert_eq!(r.items.len(), n, "{coll}");
        let first = &r.pages[0];
        assert_eq!(
            first["@odata.context"],
            format!("{}/v1.0/$metadata#{coll}", e.base)
        );
        assert!(
            r.delta_link
                .starts_with(&format!("{}/v1.0/{coll}/delta?$deltatoken=", e.base)),
            "{}",
            r.delta_link
        );
        for it in &r.items {
            assert!(it[prop].as_str().is_some_and(|s| s.len() == 36), "{it}");
            assert!(it["displayName"].is_string(), "{it}");
        }
        // Page size by Prefer: odata.maxpagesize, links spelled $skiptoken.
        let p = e
            .get_with(
                &e.url(&format!("/v1.0/{coll}/delta")),
                &[
                    ("Authorization", "Bearer t"),
                    ("Prefer", "odata.maxpagesize=7"),
                ],
            )
            .await;
        assert_eq!(p.status, 200);
        assert_eq!(p.header("preference-applied"), Some("odata.maxpagesize=7"));
        let body = p.json();
        assert_eq!(body["value"].as_array().unwrap().len(), 7);
        let next = body["@odata.nextLink"].as_str().unwrap();
        assert!(
            next.contains(&format!("/v1.0/{coll}/delta?$skiptoken=")),
            "{next}"
        );
        // Same seed, same tenant.
        let again = e.round(&e.url(&format!("/v1.0/{coll}/delta")), false).await;
        assert_eq!(again.items, r.items);
    }
    // Plausible values.
    let apps = e.round(&e.url("/v1.0/applications/delta"), false).await;
    let a = &apps.items[0];
    assert!(
        [
            "AzureADMyOrg",
            "AzureADMultipleOrgs",
            "AzureADandPersonalMicrosoftAccount"
        ]
        .contains(&a["signInAudience"].as_str().unwrap())
    );
    assert!(a["identifierUris"].is_array());
    assert_eq!(a["addIns"], json!([]), "collections without a value are []");
    assert!(a["notes"].is_null() || a["notes"].is_string());
    let devices = e.round(&e.url("/beta/devices/delta"), false).await;
    assert!(
        devices
            .items
            .iter()
            .any(|d| d["operatingSystem"] == "Windows")
    );
    let sps = e
        .round(&e.url("/v1.0/servicePrincipals/delta"), false)
        .await;
    assert!(
        sps.items
            .iter()
            .any(|s| s["displayName"] == "Microsoft Graph")
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn directory_changes_select_filter_and_removals() {
    let e = start(small()).await;
    let r = e
        .round(
            &e.url("/v1.0/applications/delta?$select=displayName,signInAudience"),
            false,
        )
        .await;
    assert_eq!(
        r.pages[0]["@odata.context"],
        format!(
            "{}/v1.0/$metadata#applications(displayName,signInAudience)",
            e.base
        )
    );
    assert_eq!(keys(&r.items[0]), ["displayName", "id", "signInAudience"]);
    let ids = r.ids();

    // An update, a soft delete, a hard delete, a create through the control API.
    let (s, _) = e
        .patch(
            &format!("/_emulator/applications/{}", ids[0]),
            json!({"displayName": "Renamed App"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        e.delete(&format!("/_emulator/applications/{}", ids[1]))
            .await
            .0,
        200
    );
    assert_eq!(
        e.delete(&format!(
            "/_emulator/applications/{}?permanent=true",
            ids[2]
        ))
        .await
        .0,
        200
    );
    let (s, created) = e
        .post(
            "/_emulator/applications",
            json!({"displayName": "Brand New"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_string();

    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.items.len(), 4, "{:?}", d.items);
    assert_eq!(d.by_id(&ids[0]).unwrap()["displayName"], "Renamed App");
    assert_eq!(
        keys(d.by_id(&ids[0]).unwrap()),
        ["displayName", "id", "signInAudience"]
    );
    assert_eq!(
        d.by_id(&ids[1]).unwrap()["@removed"],
        json!({"reason": "changed"})
    );
    assert_eq!(
        d.by_id(&ids[2]).unwrap()["@removed"],
        json!({"reason": "deleted"})
    );
    assert_eq!(d.by_id(&new_id).unwrap()["displayName"], "Brand New");

    // A restore comes back whole; return=minimal sends only what changed.
    assert_eq!(
        e.post(
            &format!("/_emulator/applications/{}/restore", ids[1]),
            json!({})
        )
        .await
        .0,
        200
    );
    e.patch(
        &format!("/_emulator/applications/{}", ids[3]),
        json!({"displayName": "Minimal Name"}),
    )
    .await;
    let m = e.round(&d.delta_link, true).await;
    assert_eq!(m.items.len(), 2);
    assert_eq!(
        keys(m.by_id(&ids[1]).unwrap()),
        ["displayName", "id", "signInAudience"]
    );
    assert_eq!(
        *m.by_id(&ids[3]).unwrap(),
        json!({"id": ids[3], "displayName": "Minimal Name"})
    );

    // $filter=id eq, $deltatoken=latest, an unknown property.
    let dev = e.round(&e.url("/v1.0/devices/delta"), false).await;
    let did = dev.ids()[4].clone();
    let f = e
        .round(
            &e.url(&format!("/v1.0/devices/delta?$filter=id eq '{did}'")),
            false,
        )
        .await;
    assert_eq!(f.ids(), vec![did.clone()]);
    let latest = e
        .get(&e.url("/v1.0/servicePrincipals/delta?$deltatoken=latest"))
        .await
        .json();
    assert_eq!(latest["value"], json!([]));
    let dl = latest["@odata.deltaLink"].as_str().unwrap().to_string();
    let sp = e
        .round(&e.url("/v1.0/servicePrincipals/delta"), false)
        .await;
    e.delete(&format!("/_emulator/servicePrincipals/{}", sp.ids()[0]))
        .await;
    let after = e.round(&dl, false).await;
    assert_eq!(after.items.len(), 1);
    assert_eq!(after.items[0]["@removed"]["reason"], "changed");
    let bad = e.get(&e.url("/v1.0/devices/delta?$select=nope")).await;
    assert_eq!(bad.status, 400);

    // Each version has its own property list: hostnames is beta's.
    let v1 = e.get(&e.url("/v1.0/devices/delta?$select=hostnames")).await;
    assert_eq!(v1.status, 400);
    assert!(v1.text.contains("hostnames"), "{}", v1.text);
    let beta = e
        .round(
            &e.url("/beta/devices/delta?$select=hostnames,displayName"),
            false,
        )
        .await;
    assert_eq!(keys(&beta.items[0]), ["displayName", "hostnames", "id"]);
    // Untyped in the beta lists (no CSDL types it): served as null.
    assert!(beta.items[0]["hostnames"].is_null());

    // mutate changes them too.
    let (s, v) = e
        .post(
            "/_emulator/mutate",
            json!({"applications": 5, "servicePrincipals": 5, "devices": 5}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let changed = e.round(&f.delta_link, false).await;
    assert!(changed.items.len() <= 1);
    let all = e.round(&dev.delta_link, false).await;
    assert!(
        !all.items.is_empty(),
        "the device changes show in the next round"
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn administrative_units_roles_and_grants_rounds_and_their_rules() {
    let e = start(small()).await;
    for (coll, n) in [
        ("administrativeUnits", 8),
        ("directoryRoles", 10),
        ("oauth2PermissionGrants", 24),
    ] {
        let r = e.round(&e.url(&format!("/v1.0/{coll}/delta")), false).await;
        assert_eq!(r.items.len(), n, "{coll}");
        assert_eq!(
            r.pages[0]["@odata.context"],
            format!("{}/v1.0/$metadata#{coll}", e.base)
        );
        assert!(
            r.delta_link
                .starts_with(&format!("{}/v1.0/{coll}/delta?$deltatoken=", e.base)),
            "{}",
            r.delta_link
        );
        let p = e
            .get_with(
                &e.url(&format!("/v1.0/{coll}/delta")),
                &[
                    ("Authorization", "Bearer t"),
                    ("Prefer", "odata.maxpagesize=3"),
                ],
            )
            .await;
        assert_eq!(p.status, 200);
        let body = p.json();
        assert_eq!(body["value"].as_array().unwrap().len(), 3, "{coll}");
        let next = body["@odata.nextLink"].as_str().unwrap();
        assert!(
            next.contains(&format!("/{coll}/delta?$skiptoken=")),
            "{next}"
        );
    }

    // Roles: the built-in templates, Global Administrator first; members may be selected.
    let roles = e.round(&e.url("/v1.0/directoryRoles/delta"), false).await;
    assert_eq!(roles.items[0]["displayName"], "Global Administrator");
    assert_eq!(
        roles.items[0]["roleTemplateId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    assert_eq!(
        keys(&roles.items[0]),
        [
            "deletedDateTime",
            "description",
            "displayName",
            "id",
            "roleTemplateId"
        ]
    );
    let with_members = e
        .get(&e.url("/v1.0/directoryRoles/delta?$select=displayName,members"))
        .await;
    assert_eq!(with_members.status, 200, "{}", with_members.text);
    // A role cannot be deleted; activating one more works until every template is active.
    let role_id = roles.ids()[1].clone();
    let (s, v) = e
        .delete(&format!("/_emulator/directoryRoles/{role_id}"))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, activated) = e.post("/_emulator/directoryRoles", json!({})).await;
    assert_eq!(s, 200, "{activated}");
    assert_eq!(activated["displayName"], "Intune Administrator");
    let mut last = (200, json!({}));
    for _ in 0..20 {
        last = e.post("/_emulator/directoryRoles", json!({})).await;
        if last.0 != 200 {
            break;
        }
    }
    assert_eq!(last.0, 409, "{}", last.1);
    let roles2 = e.round(&roles.delta_link, false).await;
    assert_eq!(roles2.items.len(), 10, "the ten roles activated since");
    assert!(roles2.items.iter().all(|r| r.get("@removed").is_none()));

    // Administrative units: soft delete (@removed changed), restore, update.
    let aus = e
        .round(&e.url("/v1.0/administrativeUnits/delta"), false)
        .await;
    for au in &aus.items {
        assert!(["Assigned", "Dynamic"].contains(&au["membershipType"].as_str().unwrap()));
        assert_eq!(
            au["membershipRule"].is_string(),
            au["membershipType"] == "Dynamic",
            "{au}"
        );
    }
    let ids = aus.ids();
    e.delete(&format!("/_emulator/administrativeUnits/{}", ids[0]))
        .await;
    e.patch(
        &format!("/_emulator/administrativeUnits/{}", ids[1]),
        json!({"displayName": "Oslo Office"}),
    )
    .await;
    let d = e.round(&aus.delta_link, false).await;
    assert_eq!(
        d.by_id(&ids[0]).unwrap()["@removed"],
        json!({"reason": "changed"})
    );
    assert_eq!(d.by_id(&ids[1]).unwrap()["displayName"], "Oslo Office");
    let (s, _) = e
        .post(
            &format!("/_emulator/administrativeUnits/{}/restore", ids[0]),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let back = e.round(&d.delta_link, false).await;
    assert!(back.by_id(&ids[0]).unwrap().get("@removed").is_none());

    // Grants: opaque ids (43 characters, not GUIDs), deleted for good, filtered by id.
    let grants = e
        .round(&e.url("/v1.0/oauth2PermissionGrants/delta"), false)
        .await;
    for g in &grants.items {
        let id = g["id"].as_str().unwrap();
        assert_eq!(id.len(), 43, "{id}");
        assert!(uuid_like(id).is_none(), "{id}");
        let kind = g["consentType"].as_str().unwrap();
        assert!(kind == "AllPrincipals" || kind == "Principal", "{g}");
        assert_eq!(g["principalId"].is_null(), kind == "AllPrincipals", "{g}");
        assert!(g["scope"].as_str().unwrap().contains(char::is_alphabetic));
    }
    let gids = grants.ids();
    let f = e
        .round(
            &e.url(&format!(
                "/v1.0/oauth2PermissionGrants/delta?$filter=id eq '{}'",
                gids[2]
            )),
            false,
        )
        .await;
    assert_eq!(f.ids(), vec![gids[2].clone()]);
    let (s, v) = e
        .delete(&format!("/_emulator/oauth2PermissionGrants/{}", gids[2]))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = e
        .post(
            &format!("/_emulator/oauth2PermissionGrants/{}/restore", gids[2]),
            json!({}),
        )
        .await;
    assert_eq!(s, 404, "a grant is deleted for good: {v}");
    let gone = e.round(&f.delta_link, false).await;
    assert_eq!(
        gone.items,
        vec![json!({"id": gids[2], "@removed": {"reason": "deleted"}})]
    );
    // Another case of the same id is another id; a beta-only property is 400 on v1.0.
    let upper = gids[3].to_ascii_uppercase();
    let none = e
        .round(
            &e.url(&format!(
                "/v1.0/oauth2PermissionGrants/delta?$filter=id eq '{upper}'"
            )),
            false,
        )
        .await;
    assert!(none.items.is_empty() || gids[3] == upper);
    let v1 = e
        .get(&e.url("/v1.0/oauth2PermissionGrants/delta?$select=startTime"))
        .await;
    assert_eq!(v1.status, 400);
    let beta = e
        .round(
            &e.url("/beta/oauth2PermissionGrants/delta?$select=scope,startTime"),
            false,
        )
        .await;
    assert!(beta.items[0]["startTime"].is_string());

    // mutate and the state endpoint know them.
    let (s, v) = e
        .post(
            "/_emulator/mutate",
            json!({"administrativeUnits": 6, "directoryRoles": 2, "oauth2PermissionGrants": 6}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let changed = e.round(&grants.delta_link, false).await;
    assert!(!changed.items.is_empty());
    let state = e.get(&format!("{}/_emulator/state", e.base)).await.json();
    assert!(
        state["administrativeUnits"]["live"].as_u64().is_some(),
        "{state}"
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn directory_objects_mix_types_as_documented() {
    let e = start(small()).await;
    // Every type the feed serves, each object with its @odata.type, across page boundaries.
    let all = e.round(&e.url("/v1.0/directoryObjects/delta"), false).await;
    let count = |r: &Round, t: &str| {
        r.items
            .iter()
            .filter(|i| i["@odata.type"] == format!("#microsoft.graph.{t}"))
            .count()
    };
    for (t, n) in [
        ("user", 5),
        ("group", 2),
        ("orgContact", 5),
        ("application", 40),
        ("servicePrincipal", 60),
        ("device", 30),
        ("administrativeUnit", 8),
        ("directoryRole", 10),
    ] {
        assert_eq!(count(&all, t), n, "{t}");
    }
    assert_eq!(all.items.len(), 160);
    assert_eq!(
        all.pages[0]["@odata.context"],
        format!("{}/v1.0/$metadata#directoryObjects", e.base)
    );
    assert!(all.pages.len() >= 2, "pages of 100");
    let mut ids = all.ids();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 160, "no object twice");

    // Example 1: users and groups.
    let ug = e
        .round(
            &e.url("/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.user') or isof('microsoft.graph.group')"),
            false,
        )
        .await;
    assert_eq!((count(&ug, "user"), count(&ug, "group")), (5, 2));
    assert_eq!(ug.items.len(), 7);
    assert!(ug.items.iter().all(|i| i["displayName"].is_string()));
    // Example 3: a $select per type.
    let sel = e
        .round(
            &e.url("/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.user') or isof('microsoft.graph.group')&$select=microsoft.graph.user/surname,microsoft.graph.group/displayName"),
            false,
        )
        .await;
    for it in &sel.items {
        if it["@odata.type"] == "#microsoft.graph.user" {
            assert_eq!(keys(it), ["@odata.type", "id", "surname"], "{it}");
        } else {
            assert_eq!(keys(it), ["@odata.type", "displayName", "id"], "{it}");
        }
    }
    // Example 4: return=minimal sends the changed selected property only.
    let group = sel
        .items
        .iter()
        .find(|i| i["@odata.type"] == "#microsoft.graph.group")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user = ug
        .items
        .iter()
        .find(|i| i["@odata.type"] == "#microsoft.graph.user")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = e
        .patch(
            &format!("/_emulator/groups/{group}"),
            json!({"displayName": "Everyone"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    e.patch(
        &format!("/_emulator/users/{user}"),
        json!({"jobTitle": "Retail Manager"}),
    )
    .await;
    let m = e.round(&sel.delta_link, true).await;
    assert_eq!(
        m.items,
        vec![
            json!({"@odata.type": "#microsoft.graph.group", "displayName": "Everyone", "id": group})
        ],
        "the user's jobTitle is not selected"
    );
    // A soft-deleted user is @removed, typed.
    e.delete(&format!("/_emulator/users/{user}")).await;
    let d = e.round(&m.delta_link, false).await;
    assert_eq!(
        d.items,
        vec![
            json!({"@odata.type": "#microsoft.graph.user", "id": user, "@removed": {"reason": "changed"}})
        ]
    );
    // Example 2: an id of any type; with isof, the chosen ids of the chosen types.
    let app = all
        .items
        .iter()
        .find(|i| i["@odata.type"] == "#microsoft.graph.application")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = e
        .round(
            &e.url(&format!(
                "/v1.0/directoryObjects/delta?$filter=id eq '{app}'"
            )),
            false,
        )
        .await;
    assert_eq!(one.ids(), vec![app.clone()]);
    assert_eq!(one.items[0]["@odata.type"], "#microsoft.graph.application");
    let none = e
        .round(
            &e.url(&format!(
                "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.group') or id eq '{app}'"
            )),
            false,
        )
        .await;
    assert!(none.items.is_empty(), "{:?}", none.items);
    // Page size, $deltatoken=latest, refusals.
    let p = e
        .get_with(
            &e.url("/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.user') or isof('microsoft.graph.device')"),
            &[("Authorization", "Bearer t"), ("Prefer", "odata.maxpagesize=4")],
        )
        .await;
    assert_eq!(p.json()["value"].as_array().unwrap().len(), 4);
    let latest = e
        .get(&e.url("/v1.0/directoryObjects/delta?$deltatoken=latest"))
        .await
        .json();
    assert_eq!(latest["value"], json!([]));
    for bad in [
        "/v1.0/directoryObjects/delta?$select=displayName",
        "/v1.0/directoryObjects/delta?$select=microsoft.graph.user/nope",
        "/v1.0/directoryObjects/delta?$select=microsoft.graph.nothing/displayName",
        "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.unicorn')",
        "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.user') and startswith(displayName,'A')",
        "/v1.0/directoryObjects/delta?$skiptoken=AAAA",
    ] {
        let r = e.get(&e.url(bad)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert!(!r.error_code().is_empty(), "{bad}");
    }
    e.emu.shutdown().await;
}

/// `Some` when `s` is shaped like a GUID.
fn uuid_like(s: &str) -> Option<()> {
    (s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4).then_some(())
}

// ---------------------------------------------------------------- enforcement

const SECRET: &str = "emulator-test-secret-Qw8~xyz";

fn app(id: &str, roles: &[&str]) -> EmulatorApp {
    EmulatorApp {
        client_id: id.into(),
        display_name: id.into(),
        secret: Some(SECRET.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn permissions_are_enforced() {
    let apps = vec![
        app(
            "11111111-1111-1111-1111-111111111111",
            &["Application.Read.All"],
        ),
        app("22222222-2222-2222-2222-222222222222", &["Device.Read.All"]),
        app("33333333-3333-3333-3333-333333333333", &["Files.Read.All"]),
        app("44444444-4444-4444-4444-444444444444", &["Mail.Read"]),
        app("55555555-5555-5555-5555-555555555555", &["Calendars.Read"]),
        app(
            "66666666-6666-6666-6666-666666666666",
            &["AdministrativeUnit.Read.All"],
        ),
        app(
            "77777777-7777-7777-7777-777777777777",
            &["RoleManagement.Read.Directory"],
        ),
        app(
            "88888888-8888-8888-8888-888888888888",
            &["DelegatedPermissionGrant.ReadWrite.All"],
        ),
        app(
            "99999999-9999-9999-9999-999999999999",
            &["Directory.Read.All"],
        ),
    ];
    let emu = identity::start_with_identity(identity::identity(true, apps)).await;
    let base = emu.base_url();
    let user = emu.control().user_id(0);
    let http = reqwest::Client::new();
    let urls = [
        format!("{base}/v1.0/applications/delta"),
        format!("{base}/v1.0/servicePrincipals/delta"),
        format!("{base}/v1.0/devices/delta"),
        format!("{base}/v1.0/users/{user}/drive/root/delta"),
        format!("{base}/v1.0/users/{user}/mailFolders/inbox/messages/delta"),
        format!(
            "{base}/v1.0/users/{user}/calendarView/delta?startDateTime=2020-01-01T00:00:00Z&endDateTime=2040-01-01T00:00:00Z"
        ),
        format!("{base}/v1.0/administrativeUnits/delta"),
        format!("{base}/v1.0/directoryRoles/delta"),
        format!("{base}/v1.0/oauth2PermissionGrants/delta"),
    ];
    // Which of the urls each app may read.
    let allowed: [(&str, [bool; 9]); 9] = [
        (
            "11111111-1111-1111-1111-111111111111",
            [true, true, false, false, false, false, false, false, false],
        ),
        (
            "22222222-2222-2222-2222-222222222222",
            [false, false, true, false, false, false, false, false, false],
        ),
        (
            "33333333-3333-3333-3333-333333333333",
            [false, false, false, true, false, false, false, false, false],
        ),
        (
            "44444444-4444-4444-4444-444444444444",
            [false, false, false, false, true, false, false, false, false],
        ),
        (
            "55555555-5555-5555-5555-555555555555",
            [false, false, false, false, false, true, false, false, false],
        ),
        (
            "66666666-6666-6666-6666-666666666666",
            [false, false, false, false, false, false, true, false, false],
        ),
        (
            "77777777-7777-7777-7777-777777777777",
            [false, false, false, false, false, false, false, true, false],
        ),
        (
            "88888888-8888-8888-8888-888888888888",
            [false, false, false, false, false, false, false, false, true],
        ),
        // Directory.Read.All reads every directory collection, no mailbox or drive.
        (
            "99999999-9999-9999-9999-999999999999",
            [true, true, true, false, false, false, true, true, true],
        ),
    ];
    for (client, ok) in allowed {
        let tok = identity::client_credentials_token(&emu, client, SECRET).await;
        for (url, ok) in urls.iter().zip(ok) {
            let r = http.get(url).bearer_auth(&tok).send().await.unwrap();
            let status = r.status().as_u16();
            assert_eq!(status, if ok { 200 } else { 403 }, "{client} {url}");
        }
    }
    let r = http
        .get(&urls[0])
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // An app has no /me.
    let tok =
        identity::client_credentials_token(&emu, "33333333-3333-3333-3333-333333333333", SECRET)
            .await;
    let r = http
        .get(format!("{base}/v1.0/me/drive/root/delta"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/me request"),
        "{v}"
    );
    emu.shutdown().await;
}

// ---------------------------------------------------------------- drive items

fn drive_items(r: &Round) -> Vec<&Value> {
    r.items.iter().collect()
}

#[tokio::test]
async fn drive_round_links_select_and_page_size() {
    let e = start(small()).await;
    let state = e.get(&e.url("/_emulator/state")).await.json();
    let drive = state["drive"]["id"].as_str().unwrap().to_string();
    let r = e
        .get(&e.url("/v1.0/me/drive/root/delta?$top=10"))
        .await
        .json();
    assert_eq!(r["value"].as_array().unwrap().len(), 10);
    let next = r["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/v1.0/drives/{drive}/root/delta?token=", e.base)),
        "{next}"
    );
    assert!(!next.contains('$'));
    let round = e
        .round(&e.url("/v1.0/me/drive/root/delta?$top=10"), false)
        .await;
    assert!(round.pages.len() >= 4);
    assert!(
        round.delta_link.contains("/root/delta?token="),
        "{}",
        round.delta_link
    );
    let all = drive_items(&round);
    assert_eq!(all.len(), 44, "a root, 7 folders and 36 files");
    assert!(all[0]["root"].is_object());
    let file = all.iter().find(|i| i["file"].is_object()).unwrap();
    for k in [
        "name",
        "size",
        "eTag",
        "cTag",
        "createdDateTime",
        "lastModifiedDateTime",
    ] {
        assert!(!file[k].is_null(), "{k}: {file}");
    }
    assert!(file["file"]["mimeType"].is_string());
    assert!(file["file"]["hashes"]["quickXorHash"].is_string());
    assert_eq!(file["parentReference"]["driveId"], drive.as_str());
    assert_eq!(file["parentReference"]["driveType"], "business");
    assert!(file.get("@removed").is_none());
    let folder = all.iter().find(|i| i["folder"].is_object()).unwrap();
    assert!(folder["folder"]["childCount"].as_u64().is_some());

    // Every path serves the same drive.
    for p in [
        format!("/v1.0/drives/{drive}/root/delta"),
        format!(
            "/v1.0/users/{}/drive/root/delta",
            e.emu.control().user_id(1)
        ),
        "/v1.0/sites/contoso.sharepoint.com/drive/root/delta".to_string(),
    ] {
        let r = e.round(&e.url(&p), false).await;
        assert_eq!(r.items.len(), 44, "{p}");
    }
    assert_eq!(
        e.get(&e.url("/v1.0/drives/b!nope/root/delta")).await.status,
        404
    );

    // Prefer: odata.maxpagesize, $select.
    let p = e
        .get_with(
            &e.url("/v1.0/me/drive/root/delta?$select=name,size"),
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=5"),
            ],
        )
        .await
        .json();
    let v = p["value"].as_array().unwrap();
    assert_eq!(v.len(), 5);
    for it in v {
        assert_eq!(keys(it), ["id", "name", "size"], "{it}");
    }
    let bad = e
        .get(&e.url("/v1.0/me/drive/root/delta?$select=bogus"))
        .await;
    assert_eq!(bad.status, 400);
    e.emu.shutdown().await;
}

#[tokio::test]
async fn drive_changes_deleted_facet_latest_and_time_tokens() {
    let e = start(small()).await;
    let round = e.round(&e.url("/v1.0/me/drive/root/delta"), false).await;
    let root = round.items[0]["id"].as_str().unwrap().to_string();
    let file = round
        .items
        .iter()
        .find(|i| i["file"].is_object())
        .unwrap()
        .clone();
    let fid = file["id"].as_str().unwrap();

    // token=latest: an empty page and a deltaLink from now.
    let latest = e
        .get(&e.url("/v1.0/me/drive/root/delta?token=latest"))
        .await
        .json();
    assert_eq!(latest["value"], json!([]));
    let latest_link = latest["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(param(&latest_link, "token").is_some());

    let (s, created) = e
        .post(
            "/_emulator/driveItems",
            json!({"name": "Plan.docx", "parent": root}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let cid = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.patch(
            &format!("/_emulator/driveItems/{fid}"),
            json!({"size": 1234})
        )
        .await
        .0,
        200
    );
    let (s, _) = e.delete(&format!("/_emulator/driveItems/{cid}")).await;
    assert_eq!(s, 200);

    for link in [&round.delta_link, &latest_link] {
        let d = e.round(link, false).await;
        let changed = d.by_id(fid).unwrap();
        assert_eq!(changed["size"], 1234);
        assert_ne!(changed["eTag"], file["eTag"]);
        // Created and deleted within the round: never seen, nothing to remove.
        assert!(d.by_id(&cid).is_none(), "{:?}", d.items);
        assert!(d.items.iter().all(|i| i.get("@removed").is_none()));
        // The root folder changed twice (a child came and went).
        assert!(d.by_id(&root).is_some());
    }

    // OneDrive's function form, delta(token='…'), takes the same tokens.
    let t = param(&round.delta_link, "token").unwrap();
    let f = e
        .round(
            &e.url(&format!("/v1.0/me/drive/root/delta(token='{t}')")),
            false,
        )
        .await;
    assert!(f.by_id(fid).is_some());
    let l = e
        .get(&e.url("/v1.0/me/drive/root/delta(token=latest)"))
        .await
        .json();
    assert_eq!(l["value"], json!([]));

    // A deleted item that the client has seen: the deleted facet, never @removed.
    let before = e.round(&e.url("/v1.0/me/drive/root/delta"), false).await;
    e.delete(&format!("/_emulator/driveItems/{fid}")).await;
    let d = e.round(&before.delta_link, false).await;
    let gone = d.by_id(fid).unwrap();
    assert_eq!(gone["deleted"], json!({"state": "deleted"}), "{gone}");
    assert!(gone.get("@removed").is_none());
    assert_eq!(gone["name"], file["name"]);
    assert!(gone["parentReference"]["id"].is_string());
    // A full round no longer lists it.
    let full = e.round(&e.url("/v1.0/me/drive/root/delta"), false).await;
    assert!(full.by_id(fid).is_none());

    // A time token: the items changed since then.
    let since = e
        .round(
            &e.url("/v1.0/me/drive/root/delta?token=2025-01-01T00:00:00Z"),
            false,
        )
        .await;
    let older = e
        .round(
            &e.url("/v1.0/me/drive/root/delta?token=2024-01-01T00:00:00Z"),
            false,
        )
        .await;
    assert!(!since.items.is_empty());
    assert!(
        older.items.len() > since.items.len(),
        "{} {}",
        older.items.len(),
        since.items.len()
    );
    for it in since.items.iter().filter(|i| i["deleted"].is_null()) {
        assert!(
            it["lastModifiedDateTime"].as_str().unwrap() >= "2025-01-01T00:00:00Z",
            "{it}"
        );
    }
    assert!(since.by_id(fid).is_some(), "the deletion of today is in it");
    let future = e
        .round(
            &e.url("/v1.0/me/drive/root/delta?token=2099-01-01T00:00:00Z"),
            false,
        )
        .await;
    assert!(future.items.is_empty());

    // Tokens are the drive's own: tampered or another resource's are refused; the gone fault
    // is OneDrive's 410 with a Location that restarts the round.
    let t = param(&full.delta_link, "token").unwrap();
    let mut bad = t.clone();
    bad.replace_range(5..6, if &t[5..6] == "A" { "B" } else { "A" });
    let r = e
        .get(&e.url(&format!("/v1.0/me/drive/root/delta?token={bad}")))
        .await;
    assert_eq!(r.status, 400);
    let contacts = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let ct = param(&contacts.delta_link, "$deltatoken").unwrap();
    let r = e
        .get(&e.url(&format!("/v1.0/me/drive/root/delta?token={ct}")))
        .await;
    assert_eq!(r.status, 400);
    let (s, _) = e.post("/_emulator/faults", json!({"spec": "gone:1"})).await;
    assert_eq!(s, 200);
    let r = e.get(&full.delta_link).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.error_code(), "resyncChangesApplyDifferences");
    let location = r.header("location").unwrap().to_string();
    assert!(location.contains("/root/delta?token="), "{location}");
    assert_eq!(
        e.round(&location, false).await.items.len(),
        full.items.len()
    );

    // mutate changes the drive.
    let (s, v) = e.post("/_emulator/mutate", json!({"driveItems": 6})).await;
    assert_eq!(s, 200, "{v}");
    let m = e.round(&full.delta_link, false).await;
    assert!(!m.items.is_empty());
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- messages

#[tokio::test]
async fn messages_round_changes_and_removals() {
    let e = start(small()).await;
    let url = e.url("/v1.0/me/mailFolders/inbox/messages/delta");
    let first = e.get(&url).await.json();
    assert_eq!(
        first["value"].as_array().unwrap().len(),
        10,
        "Outlook's default page"
    );
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("/messages/delta?%24skiptoken="), "{next}");
    let r = e.round(&url, false).await;
    assert_eq!(r.items.len(), 36);
    assert!(
        r.delta_link.contains("/messages/delta?%24deltatoken="),
        "{}",
        r.delta_link
    );
    let m = &r.items[0];
    assert_eq!(m["@odata.type"], "#microsoft.graph.message");
    for k in [
        "@odata.etag",
        "subject",
        "receivedDateTime",
        "from",
        "toRecipients",
        "isRead",
        "bodyPreview",
    ] {
        assert!(!m[k].is_null(), "{k}: {m}");
    }
    let folder = m["parentFolderId"].as_str().unwrap().to_string();
    // Other paths and spellings of the same folder.
    let by_id = e
        .round(
            &e.url(&format!(
                "/v1.0/users/{}/mailFolders('{folder}')/messages/delta",
                e.emu.control().user_id(0)
            )),
            false,
        )
        .await;
    assert_eq!(by_id.items.len(), 36);
    let sent = e
        .round(
            &e.url("/beta/me/mailFolders/SentItems/messages/delta"),
            false,
        )
        .await;
    assert_eq!(sent.items.len(), 10);
    let who = e
        .get(&e.url("/v1.0/users/someone/mailFolders/inbox/messages/delta"))
        .await;
    assert_eq!(
        (who.status, who.error_code()),
        (404, "ErrorInvalidUser".to_string())
    );
    assert_eq!(
        e.get(&e.url("/v1.0/me/mailFolders/nope/messages/delta"))
            .await
            .status,
        404
    );

    // Page size, $select, $deltatoken=latest refused.
    let p = e
        .get_with(
            &e.url("/v1.0/me/mailFolders/inbox/messages/delta?$select=subject,isRead"),
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=3"),
            ],
        )
        .await
        .json();
    let v = p["value"].as_array().unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(
        keys(&v[0]),
        ["@odata.etag", "@odata.type", "id", "isRead", "subject"]
    );
    assert_eq!(
        e.get(&e.url("/v1.0/me/mailFolders/inbox/messages/delta?$deltatoken=latest"))
            .await
            .status,
        400
    );

    // Changes: a new message, one read, one deleted.
    let ids = r.ids();
    let (s, created) = e
        .post(
            "/_emulator/messages",
            json!({"subject": "Hello from the test"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.patch(
            &format!("/_emulator/messages/{}", ids[0]),
            json!({"isRead": false})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        e.delete(&format!("/_emulator/messages/{}", ids[1])).await.0,
        200
    );
    let (s, _) = e
        .post(
            "/_emulator/messages",
            json!({"subject": "Elsewhere", "folder": "archive"}),
        )
        .await;
    assert_eq!(s, 200);
    let d = e.round(&r.delta_link, false).await;
    assert_eq!(d.items.len(), 3, "{:?}", d.items);
    assert_eq!(d.by_id(&new_id).unwrap()["subject"], "Hello from the test");
    assert_eq!(d.by_id(&ids[0]).unwrap()["isRead"], false);
    assert_eq!(
        *d.by_id(&ids[1]).unwrap(),
        json!({"@odata.type": "#microsoft.graph.message", "id": ids[1], "@removed": {"reason": "deleted"}})
    );
    // $filter=receivedDateTime ge, $orderby=receivedDateTime desc, changeType.
    let cut = r.items[9]["receivedDateTime"].as_str().unwrap().to_string();
    let recent = e
        .round(
            &e.url(&format!(
                "/v1.0/me/mailFolders/inbox/messages/delta?$filter=receivedDateTime ge {cut}&$orderby=receivedDateTime desc"
            )),
            false,
        )
        .await;
    assert!(!recent.items.is_empty() && recent.items.len() < 36);
    for m in &recent.items {
        assert!(m["receivedDateTime"].as_str().unwrap() >= cut.as_str());
    }
    let bad = e
        .get(&e.url("/v1.0/me/mailFolders/inbox/messages/delta?$filter=subject eq 'x'"))
        .await;
    assert_eq!(bad.status, 400);
    let created_only = e
        .round(
            &e.url("/v1.0/me/mailFolders/inbox/messages/delta?changeType=created"),
            false,
        )
        .await;
    e.post("/_emulator/messages", json!({"subject": "Only this"}))
        .await;
    e.patch(
        &format!("/_emulator/messages/{}", ids[2]),
        json!({"isRead": true}),
    )
    .await;
    let c = e.round(&created_only.delta_link, false).await;
    assert_eq!(c.items.len(), 1, "{:?}", c.items);
    assert_eq!(c.items[0]["subject"], "Only this");

    let (s, v) = e.post("/_emulator/mutate", json!({"messages": 5})).await;
    assert_eq!(s, 200, "{v}");
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- calendar view

#[tokio::test]
async fn calendar_view_needs_a_window() {
    let e = start(small()).await;
    let r = e.get(&e.url("/v1.0/me/calendarView/delta")).await;
    assert_eq!(r.status, 400);
    assert!(
        r.text.contains("StartDateTime and EndDateTime"),
        "{}",
        r.text
    );
    let url = e.url(
        "/v1.0/me/calendarView/delta?startDateTime=2000-01-01T00:00:00Z&endDateTime=2100-01-01T00:00:00Z",
    );
    let first = e
        .get_with(
            &url,
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=4"),
            ],
        )
        .await
        .json();
    assert_eq!(first["value"].as_array().unwrap().len(), 4);
    assert_eq!(first["value"][0]["@odata.type"], "#microsoft.graph.event");
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("/calendarView/delta?%24skiptoken="), "{next}");
    // The window is frozen in the token: no parameters on the next request.
    let r = e.round(&url, false).await;
    assert_eq!(r.items.len(), 30);
    let narrow = e
        .round(
            &e.url("/v1.0/me/calendarView/delta?startDateTime=2000-01-01T00:00:00Z&endDateTime=2000-01-02T00:00:00Z"),
            false,
        )
        .await;
    assert!(narrow.items.is_empty());
    let d = e.round(&r.delta_link, false).await;
    assert!(d.items.is_empty());

    // Changes: a new event, one renamed, one moved out of the window, one deleted.
    let ids = r.ids();
    let (s, created) = e
        .post(
            "/_emulator/events",
            json!({"subject": "Test sync", "start": "2030-05-01T09:00:00Z"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let new_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        e.patch(
            &format!("/_emulator/events/{}", ids[0]),
            json!({"subject": "Renamed"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        e.patch(
            &format!("/_emulator/events/{}", ids[1]),
            json!({"start": "1990-01-01T09:00:00Z"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        e.delete(&format!("/_emulator/events/{}", ids[2])).await.0,
        200
    );
    let d = e.round(&d.delta_link, false).await;
    assert_eq!(d.items.len(), 4, "{:?}", d.items);
    assert_eq!(d.by_id(&new_id).unwrap()["subject"], "Test sync");
    assert_eq!(d.by_id(&ids[0]).unwrap()["subject"], "Renamed");
    for gone in [&ids[1], &ids[2]] {
        assert_eq!(
            *d.by_id(gone).unwrap(),
            json!({"@odata.type": "#microsoft.graph.event", "id": gone, "@removed": {"reason": "deleted"}})
        );
    }
    let (s, v) = e.post("/_emulator/mutate", json!({"events": 5})).await;
    assert_eq!(s, 200, "{v}");
    assert!(!e.round(&d.delta_link, false).await.items.is_empty());
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- churn

#[tokio::test]
async fn the_churn_changes_the_new_resources_too() {
    let e = start(EmulatorConfig {
        churn_per_sec: 400.0,
        ..small()
    })
    .await;
    let mut links: Vec<String> = Vec::new();
    for p in [
        "/v1.0/applications/delta",
        "/v1.0/servicePrincipals/delta",
        "/v1.0/devices/delta",
        "/v1.0/me/drive/root/delta",
        "/v1.0/me/mailFolders/inbox/messages/delta",
        "/v1.0/me/calendarView/delta?startDateTime=2000-01-01T00:00:00Z&endDateTime=2100-01-01T00:00:00Z",
    ] {
        links.push(e.round(&e.url(p), false).await.delta_link);
    }
    e.wait_for_changes(links).await;
    e.emu.shutdown().await;
}

// ---------------------------------------------------------------- hostile requests

#[tokio::test]
async fn hostile_paths_and_options_are_refused_plainly() {
    let e = start(small()).await;
    let long = "x".repeat(5000);
    for (path, want) in [
        (format!("/v1.0/drives/{long}/root/delta"), 404),
        (format!("/v1.0/users/{long}/drive/root/delta"), 404),
        (format!("/v1.0/me/mailFolders/{long}/messages/delta"), 404),
        ("/v1.0/me/mailFolders()/messages/delta".to_string(), 400),
        ("/v1.0/users()/drive/root/delta".to_string(), 400),
        ("/v1.0/me/drive/root/delta(token=)".to_string(), 400),
        ("/v1.0/me/drive/root/delta(foo='x')".to_string(), 400),
        ("/v1.0/me/drive/root/delta?token=%00%FF".to_string(), 400),
        ("/v1.0/me/drive/root/delta?$top=0".to_string(), 400),
        ("/v1.0/me/drive/root/delta?$top=abc".to_string(), 400),
        (format!("/v1.0/me/drive/root/delta?$select={long}"), 400),
        (
            "/v1.0/me/drive/root/delta?$filter=id eq 'x'".to_string(),
            400,
        ),
        (
            "/v1.0/me/drive/root/delta?token=9999-99-99T99:99:99Z".to_string(),
            400,
        ),
        (
            "/v1.0/me/mailFolders/inbox/messages/delta?changeType=all".to_string(),
            400,
        ),
        (
            "/v1.0/me/mailFolders/inbox/messages/delta?$orderby=subject".to_string(),
            400,
        ),
        (
            "/v1.0/me/calendarView/delta?startDateTime=soon&endDateTime=later".to_string(),
            400,
        ),
        (
            "/v1.0/me/calendarView/delta?startDateTime=2024-01-01T00:00:00Z".to_string(),
            400,
        ),
        (
            "/v1.0/applications/delta?$deltatoken=garbage".to_string(),
            400,
        ),
        (
            "/v1.0/devices/delta?$filter=displayName eq 'x'".to_string(),
            400,
        ),
    ] {
        let r = e.get(&e.url(&path)).await;
        assert_eq!(
            r.status,
            want,
            "{path}: {}",
            &r.text[..r.text.len().min(300)]
        );
        assert!(r.json()["error"]["code"].is_string(), "{path}");
    }
    // A huge page size is capped; the emulator still serves.
    let r = e
        .get_with(
            &e.url("/v1.0/servicePrincipals/delta"),
            &[
                ("Authorization", "Bearer t"),
                ("Prefer", "odata.maxpagesize=99999999999"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 60);
    let (s, _) = e.post("/_emulator/driveItems", json!({"name": 5})).await;
    assert_eq!(s, 400);
    let (s, _) = e
        .post("/_emulator/driveItems", json!({"parent": "nope"}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = e
        .patch("/_emulator/messages/nope", json!({"isRead": true}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = e
        .post("/_emulator/mutate", json!({"driveItems": 1e9}))
        .await;
    assert_eq!(s, 400);
    e.emu.shutdown().await;
}
