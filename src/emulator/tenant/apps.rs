//! The generated applications, service principals and devices: plausible values for the
//! properties admins look at (names, app ids, sign-in audiences, device ids, operating
//! systems), every other property null (`[]` for collections), as Graph returns a property
//! nobody set.
use serde_json::{Value, json};

use super::*;

/// Names of the tenant's own app registrations (a number is appended past the list).
const APP_NAMES: &[&str] = &[
    "Expense Portal",
    "HR Onboarding Bot",
    "Sales Dashboard",
    "Contract Review",
    "Field Service Mobile",
    "Intranet Search",
    "Payroll Connector",
    "Customer Portal",
    "Inventory Sync",
    "Ticketing Webhook",
    "Power BI Embedded",
    "Backup Agent",
    "Travel Booking",
    "Data Lake Ingest",
    "Teams Meeting Notes",
    "CI Deploy Pipeline",
];

/// Microsoft's first-party applications every tenant has a service principal of.
const FIRST_PARTY: &[(&str, &str)] = &[
    ("Microsoft Graph", "00000003-0000-0000-c000-000000000000"),
    (
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    (
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"),
    (
        "Microsoft Azure CLI",
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    ),
    ("Microsoft Intune", "0000000a-0000-0000-c000-000000000000"),
    (
        "Office 365 Management APIs",
        "c5393580-f805-4401-95e8-94b7a6ef2fc2",
    ),
    ("Microsoft Forms", "c9a559d2-7aab-4f13-a6ed-e7e9c52aec87"),
    ("Power BI Service", "00000009-0000-0000-c000-000000000000"),
];

const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

const AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMyOrg",
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
];

/// (operatingSystem, versions, name prefix, manufacturer, model)
const DEVICE_KINDS: &[(&str, &[&str], &str, &str, &str)] = &[
    (
        "Windows",
        &["10.0.22631.3880", "10.0.19045.4651", "10.0.26100.1150"],
        "DESKTOP-",
        "Dell Inc.",
        "Latitude 7440",
    ),
    (
        "Windows",
        &["10.0.22631.4037", "10.0.22621.3737"],
        "LAPTOP-",
        "LENOVO",
        "ThinkPad X1 Carbon Gen 11",
    ),
    (
        "iOS",
        &["17.5.1", "17.6", "16.7.8"],
        "iPhone-",
        "Apple",
        "iPhone 15",
    ),
    ("Android", &["14", "13"], "Pixel-", "Google", "Pixel 8"),
    (
        "MacMDM",
        &["14.5", "14.6.1"],
        "MacBook-",
        "Apple",
        "MacBook Pro",
    ),
    (
        "Linux",
        &["Ubuntu 22.04", "Ubuntu 24.04"],
        "ubuntu-",
        "Framework",
        "Laptop 13",
    ),
];

/// A date-time in 2019-2024 from `r` (the one the users' and groups' admin values use).
pub(super) fn when(r: u64) -> Value {
    json!(super::admin::date_of(r))
}

/// Every property without a value: null, `[]` for collections.
pub(super) fn empty(c: Coll) -> Vec<Value> {
    let schema = c.schema();
    (0..schema.props.len())
        .map(|i| {
            if schema.is_collection(i) {
                json!([])
            } else {
                Value::Null
            }
        })
        .collect()
}

/// Generated user `index`'s display name and user principal name (the owner of the demo
/// drive and mailbox is user 0).
pub fn user_name_upn(seed: u64, index: u64) -> (String, String) {
    let u = UserGen::new(seed, index);
    (format!("{} {}", u.given, u.surname), u.upn(seed))
}

/// The appId of the tenant's app registration `index`.
pub fn app_app_id(seed: u64, index: u64) -> String {
    guid_from(h3(seed, 0xA9, index), h3(seed, 0xAA, index))
}

/// The display name of app registration `index`.
pub fn app_name(seed: u64, index: u64) -> String {
    let off = h3(seed, 0xAB, 0) % APP_NAMES.len() as u64;
    let n = APP_NAMES[((index + off) % APP_NAMES.len() as u64) as usize];
    let round = index / APP_NAMES.len() as u64;
    if round == 0 {
        n.to_string()
    } else {
        format!("{n} {}", round + 1)
    }
}

/// The generated values of application `index` (aligned with the application schema).
pub fn application_values(seed: u64, index: u64) -> Vec<Value> {
    let c = Coll::Applications;
    let schema = c.schema();
    let mut v = empty(c);
    let r = h3(seed, 0xA8, index);
    let app_id = app_app_id(seed, index);
    let name = app_name(seed, index);
    let slug: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let domain = tenant_domain(seed);
    let audience = pick(AUDIENCES, r >> 4);
    let spa = r % 4 == 1;
    let mut set = |name: &str, val: Value| {
        if let Some(i) = schema.index(name) {
            v[i] = val;
        }
    };
    set("appId", json!(app_id));
    set("displayName", json!(name));
    set("createdDateTime", when(r >> 2));
    set("signInAudience", json!(audience));
    set("publisherDomain", json!(domain));
    set("identifierUris", json!([format!("api://{app_id}")]));
    set("isFallbackPublicClient", json!(r.is_multiple_of(7)));
    if r.is_multiple_of(3) {
        set(
            "description",
            json!(format!("{name} for the {domain} tenant.")),
        );
    }
    if r.is_multiple_of(5) {
        set("groupMembershipClaims", json!("SecurityGroup"));
    }
    set(
        "api",
        json!({"acceptMappedClaims": null, "knownClientApplications": [],
               "requestedAccessTokenVersion": if r.is_multiple_of(2) { json!(2) } else { Value::Null },
               "oauth2PermissionScopes": [], "preAuthorizedApplications": []}),
    );
    set(
        "info",
        json!({"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null,
               "supportUrl": null, "termsOfServiceUrl": null}),
    );
    set(
        "parentalControlSettings",
        json!({"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}),
    );
    set(
        "publicClient",
        json!({"redirectUris": if r.is_multiple_of(7) { json!(["http://localhost"]) } else { json!([]) }}),
    );
    set(
        "spa",
        json!({"redirectUris": if spa { json!([format!("https://{slug}.{domain}/")]) } else { json!([]) }}),
    );
    set(
        "web",
        json!({"homePageUrl": if spa { Value::Null } else { json!(format!("https://{slug}.{domain}/")) },
               "logoutUrl": null,
               "redirectUris": if spa { json!([]) } else { json!([format!("https://{slug}.{domain}/signin-oidc")]) },
               "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": r.is_multiple_of(6)},
               "redirectUriSettings": []}),
    );
    set(
        "requiredResourceAccess",
        json!([{"resourceAppId": "00000003-0000-0000-c000-000000000000",
                "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}]),
    );
    if r % 3 != 2 {
        set(
            "passwordCredentials",
            json!([{"customKeyIdentifier": null, "displayName": "client secret",
                    "endDateTime": format!("2027-{:02}-01T00:00:00Z", (r >> 40) % 12 + 1),
                    "hint": format!("{}~", &app_id[..3]),
                    "keyId": guid_from(h3(seed, 0xAC, index), r),
                    "secretText": null, "startDateTime": when(r >> 30)}]),
        );
    }
    v
}

/// The generated values of service principal `index`: the first ones are Microsoft's
/// first-party applications, the others those of the tenant's app registrations
/// (`index - FIRST_PARTY.len()`).
pub fn service_principal_values(seed: u64, index: u64) -> Vec<Value> {
    let c = Coll::ServicePrincipals;
    let schema = c.schema();
    let mut v = empty(c);
    let r = h3(seed, 0x5B, index);
    let first = FIRST_PARTY.len() as u64;
    let (name, app_id, owner) = if index < first {
        let (n, a) = FIRST_PARTY[index as usize];
        (n.to_string(), a.to_string(), MICROSOFT_TENANT.to_string())
    } else {
        let k = index - first;
        (app_name(seed, k), app_app_id(seed, k), tenant_id(seed))
    };
    let own = index >= first;
    let mut set = |name: &str, val: Value| {
        if let Some(i) = schema.index(name) {
            v[i] = val;
        }
    };
    set("accountEnabled", json!(!r.is_multiple_of(25)));
    set("appDisplayName", json!(name));
    set("displayName", json!(name));
    set("appId", json!(app_id));
    set("appOwnerOrganizationId", json!(owner));
    set(
        "appRoleAssignmentRequired",
        json!(own && r.is_multiple_of(3)),
    );
    set("servicePrincipalType", json!("Application"));
    set(
        "servicePrincipalNames",
        if own {
            json!([app_id.clone(), format!("api://{app_id}")])
        } else {
            json!([app_id.clone()])
        },
    );
    set(
        "signInAudience",
        json!(if own {
            pick(AUDIENCES, h3(seed, 0xA8, index - first) >> 4)
        } else {
            "AzureADMultipleOrgs"
        }),
    );
    set("createdDateTime", when(r >> 2));
    set(
        "tags",
        if own {
            json!(["WindowsAzureActiveDirectoryIntegratedApp"])
        } else {
            json!([])
        },
    );
    set(
        "info",
        json!({"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null,
               "supportUrl": null, "termsOfServiceUrl": null}),
    );
    set(
        "verifiedPublisher",
        json!({"addedDateTime": null, "displayName": null, "verifiedPublisherId": null}),
    );
    if own && r.is_multiple_of(4) {
        set("preferredSingleSignOnMode", json!("saml"));
    }
    v
}

/// The generated values of device `index`.
pub fn device_values(seed: u64, index: u64) -> Vec<Value> {
    let c = Coll::Devices;
    let schema = c.schema();
    let mut v = empty(c);
    let r = h3(seed, 0xDE, index);
    let r2 = mix(r);
    let (os, versions, prefix, maker, model) = pick(DEVICE_KINDS, r);
    let personal = matches!(os, "iOS" | "Android") && r2.is_multiple_of(3);
    let managed = !personal && !r2.is_multiple_of(5);
    let trust = match os {
        "Windows" if r2.is_multiple_of(4) => "ServerAd",
        "Windows" | "MacMDM" | "Linux" => "AzureAd",
        _ => "Workplace",
    };
    let name = format!("{prefix}{:07X}", (r2 >> 8) & 0xFFF_FFFF);
    let mut set = |name: &str, val: Value| {
        if let Some(i) = schema.index(name) {
            v[i] = val;
        }
    };
    set("accountEnabled", json!(!r2.is_multiple_of(20)));
    set("deviceId", json!(guid_from(h3(seed, 0xDF, index), r2)));
    set("displayName", json!(name));
    set("operatingSystem", json!(os));
    set("operatingSystemVersion", json!(pick(versions, r2 >> 12)));
    set("manufacturer", json!(maker));
    set("model", json!(model));
    set("trustType", json!(trust));
    set("profileType", json!("RegisteredDevice"));
    set(
        "deviceOwnership",
        json!(if personal { "Personal" } else { "Company" }),
    );
    set("isManaged", json!(managed));
    set("isCompliant", json!(managed && !r2.is_multiple_of(7)));
    set("isRooted", json!(false));
    set("deviceVersion", json!(2));
    set("registrationDateTime", when(r >> 3));
    set("createdDateTime", when(r >> 3));
    set(
        "approximateLastSignInDateTime",
        json!(format!(
            "2025-{:02}-{:02}T{:02}:{:02}:00Z",
            (r2 >> 20) % 12 + 1,
            (r2 >> 24) % 28 + 1,
            (r2 >> 29) % 24,
            (r2 >> 34) % 60
        )),
    );
    if managed {
        set("managementType", json!("MDM"));
        set("mdmAppId", json!("0000000a-0000-0000-c000-000000000000"));
        let enrollment = match os {
            "Windows" => "AzureDomainJoined",
            "iOS" | "MacMDM" => "AppleBulkWithUser",
            "Android" => "AndroidEnterpriseFullyManaged",
            _ => "UserEnrollment",
        };
        set("enrollmentType", json!(enrollment));
    }
    set(
        "alternativeSecurityIds",
        json!([{"type": 2, "identityProvider": null,
                "key": format!("WAB4ADUAMAA5ADoA{:016X}", r2)}]),
    );
    set(
        "physicalIds",
        json!([format!("[USER-GID]:{}", guid_from(r2, r))]),
    );
    set("systemLabels", json!([]));
    if trust == "ServerAd" {
        set("onPremisesSyncEnabled", json!(true));
        set("onPremisesLastSyncDateTime", when(r2 >> 5));
    }
    v
}

/// Realistic new values for an update of an object of `c` (name → value; null clears).
pub(crate) fn app_update(c: Coll, rng: &mut Rng, seed: u64) -> Vec<(&'static str, Value)> {
    let r = rng.next_u64();
    match c {
        Coll::Applications => match r % 4 {
            0 => vec![(
                "displayName",
                json!(format!(
                    "{} (v{})",
                    app_name(seed, r >> 8 & 0xff),
                    r % 9 + 2
                )),
            )],
            1 => vec![("signInAudience", json!(pick(AUDIENCES, r >> 8)))],
            2 => vec![(
                "notes",
                json!(format!(
                    "Reviewed by IT on 2025-{:02}-{:02}.",
                    r % 12 + 1,
                    (r >> 4) % 28 + 1
                )),
            )],
            _ => vec![("tags", json!(["HideApp"]))],
        },
        Coll::ServicePrincipals => match r % 3 {
            0 => vec![("accountEnabled", json!(r & 0x100 != 0))],
            1 => vec![("appRoleAssignmentRequired", json!(r & 0x100 != 0))],
            _ => vec![(
                "notes",
                json!(format!(
                    "Owner: {} {}",
                    pick(GIVEN, r >> 8),
                    pick(SURNAME, r >> 16)
                )),
            )],
        },
        _ => match r % 3 {
            0 => vec![("accountEnabled", json!(r & 0x100 != 0))],
            1 => vec![("isCompliant", json!(r & 0x100 != 0))],
            _ => vec![(
                "approximateLastSignInDateTime",
                json!(format!(
                    "2026-{:02}-{:02}T{:02}:{:02}:00Z",
                    (r >> 8) % 12 + 1,
                    (r >> 12) % 28 + 1,
                    (r >> 17) % 24,
                    (r >> 22) % 60
                )),
            )],
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_objects_are_deterministic_and_ids_map_back() {
        for c in [Coll::Applications, Coll::ServicePrincipals, Coll::Devices] {
            let schema = c.schema();
            assert!(!schema.props.is_empty(), "{c:?} schema");
            for i in [0u64, 1, 17, 999] {
                let v = generated_values(42, c, i);
                assert_eq!(v, generated_values(42, c, i));
                assert_eq!(v.len(), schema.props.len());
                let name = &v[schema.index("displayName").unwrap()];
                assert!(name.as_str().is_some_and(|s| !s.is_empty()), "{c:?} {i}");
                let id = object_id(42, c, i);
                assert_eq!(object_index(42, c, &id), Some(i));
                assert_eq!(object_index(42, Coll::Contacts, &id), None);
            }
        }
        let app = application_values(42, 3);
        let sp_of_app = service_principal_values(42, FIRST_PARTY.len() as u64 + 3);
        let app_id = Coll::Applications.schema().index("appId").unwrap();
        let sp_app_id = Coll::ServicePrincipals.schema().index("appId").unwrap();
        assert_eq!(
            app[app_id], sp_of_app[sp_app_id],
            "an app's service principal"
        );
        let graph = service_principal_values(42, 0);
        assert_eq!(graph[sp_app_id], "00000003-0000-0000-c000-000000000000");
        let dev = device_values(42, 5);
        let os = Coll::Devices.schema().index("operatingSystem").unwrap();
        assert!(dev[os].is_string());
    }
}
