//! The directory collections and their properties, in the order Graph returns them.

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
        match self {
            Coll::Contacts => &CONTACT_SCHEMA,
            Coll::Users => &USER_SCHEMA,
            Coll::Groups => &GROUP_SCHEMA,
        }
    }
}

/// The properties of a directory collection, in alphabetical order (as Graph returns them).
pub struct Schema {
    pub entity: &'static str,
    pub props: &'static [&'static str],
    /// Bit i set: props[i] is returned when no `$select` is given.
    pub default_mask: u32,
}

impl Schema {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.props.iter().position(|p| p.eq_ignore_ascii_case(name))
    }
    pub fn all_mask(&self) -> u32 {
        (1u32 << self.props.len()) - 1
    }
    pub fn names(&self, mask: u32) -> Vec<&'static str> {
        self.props
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, p)| *p)
            .collect()
    }
}

pub const CONTACT_PROPS: &[&str] = &[
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
// companyName, department, displayName, givenName, jobTitle, mail, mailNickname, surname
pub static CONTACT_SCHEMA: Schema = Schema {
    entity: "orgContact",
    props: CONTACT_PROPS,
    default_mask: 0b100_0000_1111_1110,
};

pub const USER_PROPS: &[&str] = &[
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
// all but accountEnabled and department
pub static USER_SCHEMA: Schema = Schema {
    entity: "user",
    props: USER_PROPS,
    default_mask: 0b1111_1111_1010,
};

/// Group properties (`members` and `owners` are relationships, handled apart: `members` as
/// `members@delta`, `owners` accepted in `$select` and not tracked).
pub const GROUP_PROPS: &[&str] = &[
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
// all but expirationDateTime, membershipRule, renewedDateTime, securityIdentifier (the
// catalog's default_properties for groups)
pub static GROUP_SCHEMA: Schema = Schema {
    entity: "group",
    props: GROUP_PROPS,
    default_mask: 0b10_1011_1101_1110_1111,
};
