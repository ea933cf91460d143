//! The demo tenant's generated objects and schema masks.
#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn ids_map_back() {
    for coll in [Coll::Contacts, Coll::Users, Coll::Groups] {
        for i in [0u64, 1, 2, 999, 123_456, 999_999] {
            let id = object_id(7, coll, i);
            assert_eq!(id.len(), 36);
            assert_eq!(object_index(7, coll, &id), Some(i));
            assert_eq!(object_index(8, coll, &id), None);
        }
    }
    assert_eq!(object_index(7, Coll::Contacts, "not-an-id"), None);
}

#[test]
fn generated_objects_are_valid_json() {
    for i in 0..200 {
        for coll in [Coll::Contacts, Coll::Users, Coll::Groups] {
            let mut out = Vec::new();
            write_generated_object(3, coll, i, coll.schema().all_mask(), &mut out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert!(v["id"].is_string());
            assert!(v["displayName"].is_string());
        }
    }
}

#[test]
fn default_masks() {
    assert_eq!(
        Coll::Contacts
            .schema()
            .names(Coll::Contacts.schema().default_mask),
        vec![
            "companyName",
            "department",
            "displayName",
            "givenName",
            "jobTitle",
            "mail",
            "mailNickname",
            "surname"
        ]
    );
    assert_eq!(
        Coll::Users
            .schema()
            .names(Coll::Users.schema().default_mask),
        vec![
            "businessPhones",
            "displayName",
            "givenName",
            "jobTitle",
            "mail",
            "mobilePhone",
            "officeLocation",
            "preferredLanguage",
            "surname",
            "userPrincipalName"
        ]
    );
    assert_eq!(
        Coll::Groups
            .schema()
            .names(Coll::Groups.schema().default_mask),
        vec![
            "classification",
            "createdDateTime",
            "description",
            "displayName",
            "groupTypes",
            "mail",
            "mailEnabled",
            "mailNickname",
            "onPremisesLastSyncDateTime",
            "onPremisesSecurityIdentifier",
            "onPremisesSyncEnabled",
            "proxyAddresses",
            "securityEnabled",
            "visibility"
        ]
    );
}

#[test]
fn groups_vary_in_kind_and_size() {
    let users = 400;
    let sizes: Vec<usize> = (0..12).map(|g| group_members(5, g, users).len()).collect();
    assert_eq!(sizes[0], 400);
    assert!(sizes.iter().any(|s| *s < 50), "{sizes:?}");
    let kinds: Vec<bool> = (0..12)
        .map(|g| group_values(5, g)[Coll::Groups.schema().index("mailEnabled").unwrap()] == true)
        .collect();
    assert!(kinds.contains(&true) && kinds.contains(&false));
    let names: std::collections::HashSet<String> = (0..40)
        .map(|g| {
            group_values(5, g)[Coll::Groups.schema().index("displayName").unwrap()]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), 40);
}

#[test]
fn embedded_schemas_parse() {
    for (coll, entity, n) in [
        (Coll::Contacts, "orgContact", 16),
        (Coll::Users, "user", 80),
        (Coll::Groups, "group", 52),
    ] {
        let s = coll.schema();
        assert_eq!(s.entity, entity);
        assert_eq!(s.props.len(), n);
        assert_eq!(s.types.len(), n);
        assert_eq!(
            s.default_mask & !s.delta_mask,
            0,
            "{entity}: a default not in delta"
        );
        // The properties served before the full schema keep omitting a missing value.
        assert_eq!(s.null_mask & s.default_mask, 0, "{entity}");
    }
    let u = Coll::Users.schema();
    for p in ["aboutMe", "birthday", "mailboxSettings", "skills"] {
        assert_eq!(u.delta_mask & bit(u.index(p).unwrap()), 0, "{p}");
    }
    for p in ["createdDateTime", "employeeId", "deletedDateTime", "city"] {
        assert_ne!(u.delta_mask & bit(u.index(p).unwrap()), 0, "{p}");
    }
    assert!(u.is_collection(u.index("proxyAddresses").unwrap()));
    assert_eq!(bit(128), 0);
}
