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
            .names(Coll::Contacts.schema().v1.default),
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
        Coll::Users.schema().names(Coll::Users.schema().v1.default),
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
            .names(Coll::Groups.schema().v1.default),
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
    // (collection, entity, v1.0 properties, beta properties, both: the store's union)
    for (coll, entity, n1, nb, n) in [
        (Coll::Contacts, "orgContact", 16, 16, 16),
        (Coll::Users, "user", 80, 88, 88),
        (Coll::Groups, "group", 52, 56, 56),
    ] {
        let s = coll.schema();
        assert_eq!(s.entity, entity);
        assert_eq!(s.props.len(), n);
        assert_eq!(s.types.len(), n);
        assert_eq!(s.v1.exists.count_ones(), n1, "{entity}");
        assert_eq!(s.beta.exists.count_ones(), nb, "{entity}");
        assert_eq!(s.v1.exists | s.beta.exists, s.all_mask(), "{entity}");
        for l in [&s.v1, &s.beta] {
            assert_eq!(l.default & !l.delta, 0, "{entity}: a default not in delta");
            assert_eq!(l.delta & !l.exists, 0, "{entity}");
        }
        // Both versions document the same default set.
        assert_eq!(s.v1.default, s.beta.default, "{entity}");
        let mut sorted = s.props.to_vec();
        sorted.sort_by_key(|p| p.to_ascii_lowercase());
        assert_eq!(sorted, s.props, "{entity}: in Graph's order");
    }
    let u = Coll::Users.schema();
    for p in ["aboutMe", "birthday", "mailboxSettings", "skills"] {
        assert_eq!(u.any_delta() & bit(u.index(p).unwrap()), 0, "{p}");
    }
    for p in ["createdDateTime", "employeeId", "deletedDateTime", "city"] {
        assert_ne!(u.v1.delta & bit(u.index(p).unwrap()), 0, "{p}");
        assert_ne!(u.beta.delta & bit(u.index(p).unwrap()), 0, "{p}");
    }
    // Beta only: in beta's lists and not in v1.0's.
    for p in [
        "refreshTokensValidFromDateTime",
        "deviceKeys",
        "cloudLicensing",
    ] {
        let b = bit(u.index(p).unwrap());
        assert_eq!(u.v1.exists & b, 0, "{p}");
        assert_ne!(u.beta.delta & b, 0, "{p}");
    }
    assert!(u.is_collection(u.index("proxyAddresses").unwrap()));
    assert!(u.is_collection(u.index("deviceKeys").unwrap()));
    assert!(!u.is_collection(u.index("city").unwrap()));
    assert_eq!(bit(128), 0);
}

#[test]
fn every_selected_property_is_written_even_without_a_value() {
    for coll in [Coll::Contacts, Coll::Users, Coll::Groups] {
        let s = coll.schema();
        let mut nulls = 0;
        for i in 0..60 {
            let mut out = Vec::new();
            write_generated_object(3, coll, i, s.all_mask(), &mut out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let o = v.as_object().unwrap();
            assert_eq!(o.len(), s.props.len() + 1, "{}: {v}", s.entity);
            for (k, p) in o {
                if let Some(i) = s.index(k).filter(|_| k != "id") {
                    if s.is_collection(i) {
                        assert!(p.is_array(), "{}.{k}: {p}", s.entity);
                    }
                    nulls += p.is_null() as usize;
                }
            }
        }
        assert!(nulls > 0, "{}: some properties have no value", s.entity);
    }
}
