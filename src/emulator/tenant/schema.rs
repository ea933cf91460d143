//! The directory collections and their properties, in the order Graph returns them.
//!
//! The property lists are `assets/schema/*.v1.0.json`, generated from Graph's published CSDL
//! metadata by `assets/schema/generate.py`, embedded and parsed once.
use std::sync::OnceLock;

/// A set of properties: bit i is `props[i]` (users have 80 properties).
pub type Mask = u128;

/// The bit of property `i` (0 past the mask's width).
pub fn bit(i: usize) -> Mask {
    1u128.checked_shl(i as u32).unwrap_or(0)
}

/// The directory collections the emulator serves from the same machinery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coll {
    Contacts,
    Users,
    Groups,
}

impl Coll {
    pub fn salt(self) -> u64 {
        match self {
            Coll::Contacts => 0xC0_47AC,
            Coll::Users => 0x05E5,
            Coll::Groups => 0x6E_0095,
        }
    }
    pub fn schema(self) -> &'static Schema {
        static C: OnceLock<Schema> = OnceLock::new();
        static U: OnceLock<Schema> = OnceLock::new();
        static G: OnceLock<Schema> = OnceLock::new();
        match self {
            Coll::Contacts => C.get_or_init(|| Schema::load(CONTACT_JSON, CONTACT_LEGACY)),
            Coll::Users => U.get_or_init(|| Schema::load(USER_JSON, USER_LEGACY)),
            Coll::Groups => G.get_or_init(|| Schema::load(GROUP_JSON, GROUP_LEGACY)),
        }
    }
}

pub const CONTACT_JSON: &str = include_str!("../../../assets/schema/orgContact.v1.0.json");
pub const USER_JSON: &str = include_str!("../../../assets/schema/user.v1.0.json");
pub const GROUP_JSON: &str = include_str!("../../../assets/schema/group.v1.0.json");

/// The properties of a directory collection, in alphabetical order (as Graph returns them).
pub struct Schema {
    pub entity: &'static str,
    pub props: &'static [&'static str],
    /// EDM types, aligned with `props`.
    pub types: &'static [&'static str],
    /// Returned when no `$select` is given.
    pub default_mask: Mask,
    /// Accepted in a delta `$select` (the others are read only for a single object).
    pub delta_mask: Mask,
    /// Written as `null` when selected and without a value (the properties the emulator
    /// generated before the full schema omit a missing value, as they always did).
    pub null_mask: Mask,
}

#[derive(serde::Deserialize)]
struct FileDoc {
    entity: String,
    properties: Vec<FileProp>,
}

#[derive(serde::Deserialize)]
struct FileProp {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    delta: bool,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

impl Schema {
    /// Parses an embedded property list (checked by the tests; a broken one gives an empty
    /// schema rather than a panic). At most 128 properties are kept (the mask's width).
    pub fn load(json: &str, legacy: &[&str]) -> Schema {
        let doc: FileDoc = serde_json::from_str(json).unwrap_or(FileDoc {
            entity: String::new(),
            properties: Vec::new(),
        });
        let mut props = Vec::new();
        let mut types = Vec::new();
        let (mut default_mask, mut delta_mask, mut null_mask) = (0, 0, 0);
        for (i, p) in doc
            .properties
            .into_iter()
            .take(Mask::BITS as usize)
            .enumerate()
        {
            if p.default {
                default_mask |= bit(i);
            }
            if p.delta {
                delta_mask |= bit(i);
            }
            if !legacy.contains(&p.name.as_str()) {
                null_mask |= bit(i);
            }
            props.push(leak(p.name));
            types.push(leak(p.ty));
        }
        Schema {
            entity: leak(doc.entity),
            props: Box::leak(props.into_boxed_slice()),
            types: Box::leak(types.into_boxed_slice()),
            default_mask,
            delta_mask,
            null_mask,
        }
    }
    pub fn index(&self, name: &str) -> Option<usize> {
        self.props.iter().position(|p| p.eq_ignore_ascii_case(name))
    }
    pub fn all_mask(&self) -> Mask {
        (0..self.props.len()).fold(0, |m, i| m | bit(i))
    }
    pub fn names(&self, mask: Mask) -> Vec<&'static str> {
        self.props
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & bit(*i) != 0)
            .map(|(_, p)| *p)
            .collect()
    }
    /// Whether property `i` is a collection (`[]` when it has no value, as Graph writes it).
    pub fn is_collection(&self, i: usize) -> bool {
        self.types
            .get(i)
            .is_some_and(|t| t.starts_with("Collection("))
    }
}

/// The properties the emulator generated before the full schema: a missing value is omitted.
pub const CONTACT_LEGACY: &[&str] = &[
    "addresses",
    "companyName",
    "department",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "onPremisesSyncEnabled",
    "phones",
    "proxyAddresses",
    "serviceProvisioningErrors",
    "surname",
];

pub const USER_LEGACY: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "department",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// Group properties (`members` and `owners` are relationships, handled apart: `members` as
/// `members@delta`, `owners` accepted in `$select` and not tracked).
pub const GROUP_LEGACY: &[&str] = &[
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "proxyAddresses",
    "renewedDateTime",
    "securityEnabled",
    "securityIdentifier",
    "visibility",
];
