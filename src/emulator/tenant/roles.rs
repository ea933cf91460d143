//! The generated administrative units, activated directory roles and delegated permission
//! grants: plain directory objects like applications (see `apps`), with the values admins look
//! at (names, role template ids, consent types and scopes).
use serde_json::{Value, json};

use super::apps::{empty, when};
use super::*;

/// Administrative unit names (a number is appended past the list).
const AU_NAMES: &[&str] = &[
    "Seattle Office",
    "Berlin Office",
    "Tokyo Office",
    "Sales",
    "Engineering",
    "Finance",
    "Human Resources",
    "Contractors",
    "Executives",
    "Retail Stores",
    "Field Workers",
    "Lab Devices",
];

/// Built-in role templates (display name, template id, description) in the order a tenant
/// activates them: the activated roles are the first ones, more are activated later.
pub const ROLE_TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "User Administrator",
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
    (
        "Global Reader",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "Helpdesk Administrator",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Can manage all aspects of the Exchange product.",
    ),
    (
        "SharePoint Administrator",
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "Can manage all aspects of the SharePoint service.",
    ),
    (
        "Security Administrator",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
    ),
    (
        "Application Administrator",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    (
        "Cloud Application Administrator",
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
    ),
    (
        "Teams Administrator",
        "69091246-20e8-4a56-aa4d-066075b2a7a8",
        "Can manage the Microsoft Teams service.",
    ),
    (
        "Intune Administrator",
        "3a2c62db-5318-420d-8d74-23affee5d9d5",
        "Can manage all aspects of the Intune product.",
    ),
    (
        "Billing Administrator",
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",
        "Can perform common billing related tasks like updating payment information.",
    ),
    (
        "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    ),
    (
        "Conditional Access Administrator",
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Can manage Conditional Access capabilities.",
    ),
    (
        "Authentication Administrator",
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        "Can access to view, set and reset authentication method information for any non-admin user.",
    ),
    (
        "Reports Reader",
        "4a5d8f65-41da-4de4-8968-e035b65339cf",
        "Can read sign-in and audit reports.",
    ),
    (
        "Directory Readers",
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
    ),
    (
        "Groups Administrator",
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
    ),
    (
        "License Administrator",
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
        "Can manage product licenses on users and groups.",
    ),
    (
        "Compliance Administrator",
        "17315797-102d-40b4-93e0-432062caca18",
        "Can read and manage compliance configuration and reports in Microsoft Entra ID and Microsoft 365.",
    ),
];

/// Delegated scopes a grant may hold (space-separated in `scope`).
const SCOPES: &[&str] = &[
    "User.Read",
    "openid",
    "profile",
    "offline_access",
    "Mail.Read",
    "Calendars.Read",
    "Files.Read.All",
    "Group.Read.All",
    "User.ReadBasic.All",
    "Sites.Read.All",
];

/// The display name of administrative unit `index`.
fn au_name(seed: u64, index: u64) -> String {
    let off = h3(seed, 0xAD, 0) % AU_NAMES.len() as u64;
    let n = AU_NAMES[((index + off) % AU_NAMES.len() as u64) as usize];
    match index / AU_NAMES.len() as u64 {
        0 => n.to_string(),
        round => format!("{n} {}", round + 1),
    }
}

/// Sets the named properties of `c` in `v` (names the schema lacks are skipped).
fn setter(c: Coll, v: &mut [Value]) -> impl FnMut(&str, Value) + '_ {
    let schema = c.schema();
    move |name, val| {
        if let Some(i) = schema.index(name) {
            v[i] = val;
        }
    }
}

/// The generated values of administrative unit `index`.
pub fn administrative_unit_values(seed: u64, index: u64) -> Vec<Value> {
    let c = Coll::AdministrativeUnits;
    let mut v = empty(c);
    let r = h3(seed, 0xAE, index);
    let name = au_name(seed, index);
    let dynamic = r.is_multiple_of(4);
    let mut set = setter(c, &mut v);
    set("displayName", json!(name));
    set(
        "description",
        json!(format!(
            "Users and devices administered by the {name} team."
        )),
    );
    set(
        "visibility",
        json!(if r % 5 == 1 {
            "HiddenMembership"
        } else {
            "Public"
        }),
    );
    set("isMemberManagementRestricted", json!(r % 7 == 3));
    if dynamic {
        let dept = name.split(' ').next().unwrap_or("Sales");
        set("membershipType", json!("Dynamic"));
        set(
            "membershipRule",
            json!(format!("(user.department -eq \"{dept}\")")),
        );
        set("membershipRuleProcessingState", json!("On"));
    } else {
        set("membershipType", json!("Assigned"));
    }
    drop(set);
    v
}

/// The generated values of activated role `index` (template `index`; past the list, the
/// template's name with a number: the control API refuses to activate more).
pub fn directory_role_values(_seed: u64, index: u64) -> Vec<Value> {
    let c = Coll::DirectoryRoles;
    let mut v = empty(c);
    let (name, template, description) = pick(ROLE_TEMPLATES, index);
    let mut set = setter(c, &mut v);
    let round = index / ROLE_TEMPLATES.len() as u64;
    if round == 0 {
        set("displayName", json!(name));
    } else {
        set("displayName", json!(format!("{name} {}", round + 1)));
    }
    set("roleTemplateId", json!(template));
    set("description", json!(description));
    drop(set);
    v
}

/// The generated values of delegated permission grant `index`: a tenant app's service
/// principal (the client) allowed to call Microsoft Graph (the resource) for everyone or for
/// one user.
pub fn grant_values(seed: u64, index: u64) -> Vec<Value> {
    let c = Coll::Oauth2PermissionGrants;
    let mut v = empty(c);
    let r = h3(seed, 0x0B, index);
    let client = object_id(seed, Coll::ServicePrincipals, 10 + index % 16);
    let graph = object_id(seed, Coll::ServicePrincipals, 0);
    let everyone = r.is_multiple_of(3);
    let n = 2 + (r >> 8) % 4;
    let scope: Vec<&str> =
        (0..n)
            .map(|k| pick(SCOPES, (r >> 16) + k * 3))
            .fold(Vec::new(), |mut acc, s| {
                if !acc.contains(&s) {
                    acc.push(s);
                }
                acc
            });
    let mut set = setter(c, &mut v);
    set("clientId", json!(client));
    set("resourceId", json!(graph));
    set("scope", json!(scope.join(" ")));
    if everyone {
        set("consentType", json!("AllPrincipals"));
    } else {
        set("consentType", json!("Principal"));
        set(
            "principalId",
            json!(object_id(seed, Coll::Users, (r >> 24) % 40)),
        );
    }
    // beta's grant times (the start of consent; expiry is not enforced by Graph).
    set("startTime", when(r >> 4));
    set("expiryTime", json!("9999-12-31T23:59:59.9999999Z"));
    drop(set);
    v
}

/// Realistic new values for an update of an administrative unit, role or grant.
pub(crate) fn role_update(c: Coll, rng: &mut Rng, seed: u64) -> Vec<(&'static str, Value)> {
    let r = rng.next_u64();
    match c {
        Coll::AdministrativeUnits => match r % 3 {
            0 => vec![(
                "displayName",
                json!(format!(
                    "{} (region {})",
                    au_name(seed, r >> 8 & 0xff),
                    r % 9 + 2
                )),
            )],
            1 => vec![(
                "visibility",
                json!(if r & 0x100 != 0 {
                    "HiddenMembership"
                } else {
                    "Public"
                }),
            )],
            _ => vec![("isMemberManagementRestricted", json!(r & 0x100 != 0))],
        },
        Coll::DirectoryRoles => vec![(
            "description",
            json!(format!(
                "{} (reviewed 2026-{:02}).",
                pick(ROLE_TEMPLATES, r >> 8).2.trim_end_matches('.'),
                r % 12 + 1
            )),
        )],
        _ => {
            let n = 1 + r % 4;
            let scope: Vec<&str> = (0..n).map(|k| pick(SCOPES, (r >> 8) + k * 7)).collect();
            let mut scope_dedup: Vec<&str> = Vec::new();
            for s in scope {
                if !scope_dedup.contains(&s) {
                    scope_dedup.push(s);
                }
            }
            vec![("scope", json!(scope_dedup.join(" ")))]
        }
    }
}

/// The stable id of grant `index`: Graph's grant ids are opaque base64url strings of 43
/// characters, not GUIDs. Ours carry the GUID the other collections would use (so that it maps
/// back to the index) followed by 16 bytes of hash.
pub(super) fn grant_id(seed: u64, guid: &str, index: u64) -> String {
    use base64::Engine as _;
    let mut bytes = guid_bytes(guid).unwrap_or([0; 16]).to_vec();
    bytes.extend_from_slice(&h3(seed, 0x0C, index).to_le_bytes());
    bytes.extend_from_slice(&mix(h3(seed, 0x0D, index)).to_le_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The GUID at the start of a grant id, if `id` has a grant id's shape.
pub(super) fn grant_guid(id: &str) -> Option<String> {
    use base64::Engine as _;
    if id.len() != 43 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    let b = bytes.get(..16)?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

fn guid_bytes(guid: &str) -> Option<[u8; 16]> {
    let hex: String = guid.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn units_roles_and_grants_are_deterministic_and_ids_map_back() {
        for c in [
            Coll::AdministrativeUnits,
            Coll::DirectoryRoles,
            Coll::Oauth2PermissionGrants,
        ] {
            let schema = c.schema();
            assert!(!schema.props.is_empty(), "{c:?} schema");
            for i in [0u64, 1, 7, 19, 999] {
                let v = generated_values(42, c, i);
                assert_eq!(v, generated_values(42, c, i));
                assert_eq!(v.len(), schema.props.len());
                let id = object_id(42, c, i);
                assert_eq!(object_index(42, c, &id), Some(i), "{c:?} {i} {id}");
                assert_eq!(object_index(43, c, &id), None);
            }
        }
        let grant = object_id(42, Coll::Oauth2PermissionGrants, 5);
        assert_eq!(grant.len(), 43, "{grant}");
        assert!(
            grant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "base64url: {grant}"
        );
        assert_eq!(object_index(42, Coll::Users, &grant), None);
        // A grant id with one letter's case changed is another id.
        let flipped: String = grant
            .chars()
            .map(|c| {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(
            object_index(42, Coll::Oauth2PermissionGrants, &flipped),
            None
        );
        let role = directory_role_values(42, 0);
        let t = Coll::DirectoryRoles
            .schema()
            .index("roleTemplateId")
            .unwrap();
        assert_eq!(role[t], "62e90394-69f5-4237-9190-012177145e10");
        let g = grant_values(42, 3);
        let s = Coll::Oauth2PermissionGrants.schema();
        let scope = g[s.index("scope").unwrap()].as_str().unwrap();
        assert!(!scope.is_empty() && !scope.contains("  "));
        let kind = g[s.index("consentType").unwrap()].as_str().unwrap();
        assert!(kind == "AllPrincipals" || kind == "Principal");
        assert_eq!(
            g[s.index("principalId").unwrap()].is_null(),
            kind == "AllPrincipals"
        );
    }
}
