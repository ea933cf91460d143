//! The directory collections and their properties, in the order Graph returns them.
//!
//! The property lists are `assets/schema/*.{v1.0,beta}.json`, generated from Graph's published
//! CSDL metadata by `assets/schema/generate.py`, embedded and parsed once.
use std::sync::OnceLock;

/// A set of properties: bit i is `props[i]` (users have 88 over v1.0 and beta).
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
    Applications,
    ServicePrincipals,
    Devices,
    AdministrativeUnits,
    DirectoryRoles,
    Oauth2PermissionGrants,
}

impl Coll {
    /// Every directory collection.
    pub const ALL: [Coll; 9] = [
        Coll::Contacts,
        Coll::Users,
        Coll::Groups,
        Coll::Applications,
        Coll::ServicePrincipals,
        Coll::Devices,
        Coll::AdministrativeUnits,
        Coll::DirectoryRoles,
        Coll::Oauth2PermissionGrants,
    ];
    /// The plain collections (see [`Coll::is_plain`]).
    pub const PLAIN: [Coll; 6] = [
        Coll::Applications,
        Coll::ServicePrincipals,
        Coll::Devices,
        Coll::AdministrativeUnits,
        Coll::DirectoryRoles,
        Coll::Oauth2PermissionGrants,
    ];
    pub fn salt(self) -> u64 {
        match self {
            Coll::Contacts => 0xC0_47AC,
            Coll::Users => 0x05E5,
            Coll::Groups => 0x6E_0095,
            Coll::Applications => 0xA_9910,
            Coll::ServicePrincipals => 0x5_9E1C,
            Coll::Devices => 0xDE_F1CE,
            Coll::AdministrativeUnits => 0xAD_0417,
            Coll::DirectoryRoles => 0xD1_20E5,
            Coll::Oauth2PermissionGrants => 0x0A_2967,
        }
    }
    /// The collection's segment in Graph paths and control paths.
    pub fn path_name(self) -> &'static str {
        match self {
            Coll::Contacts => "contacts",
            Coll::Users => "users",
            Coll::Groups => "groups",
            Coll::Applications => "applications",
            Coll::ServicePrincipals => "servicePrincipals",
            Coll::Devices => "devices",
            Coll::AdministrativeUnits => "administrativeUnits",
            Coll::DirectoryRoles => "directoryRoles",
            Coll::Oauth2PermissionGrants => "oauth2PermissionGrants",
        }
    }
    /// The collection a path segment names (any case).
    pub fn from_path(name: &str) -> Option<Coll> {
        Coll::ALL
            .into_iter()
            .find(|c| c.path_name().eq_ignore_ascii_case(name))
    }
    /// The collections added for issue 15 (applications, service principals, devices,
    /// administrative units, activated directory roles, delegated permission grants): plain
    /// directory objects, generated as values, with no relationship tracked.
    pub fn is_plain(self) -> bool {
        Coll::PLAIN.contains(&self)
    }
    pub fn schema(self) -> &'static Schema {
        static C: OnceLock<Schema> = OnceLock::new();
        static U: OnceLock<Schema> = OnceLock::new();
        static G: OnceLock<Schema> = OnceLock::new();
        static A: OnceLock<Schema> = OnceLock::new();
        static S: OnceLock<Schema> = OnceLock::new();
        static D: OnceLock<Schema> = OnceLock::new();
        static AU: OnceLock<Schema> = OnceLock::new();
        static R: OnceLock<Schema> = OnceLock::new();
        static O: OnceLock<Schema> = OnceLock::new();
        match self {
            Coll::Contacts => C.get_or_init(|| Schema::load(CONTACT_JSON, CONTACT_BETA_JSON)),
            Coll::Users => U.get_or_init(|| Schema::load(USER_JSON, USER_BETA_JSON)),
            Coll::Groups => G.get_or_init(|| Schema::load(GROUP_JSON, GROUP_BETA_JSON)),
            Coll::Applications => A.get_or_init(|| Schema::load(APP_JSON, APP_BETA_JSON)),
            Coll::ServicePrincipals => S.get_or_init(|| Schema::load(SP_JSON, SP_BETA_JSON)),
            Coll::Devices => D.get_or_init(|| Schema::load(DEVICE_JSON, DEVICE_BETA_JSON)),
            Coll::AdministrativeUnits => AU.get_or_init(|| Schema::load(AU_JSON, AU_BETA_JSON)),
            Coll::DirectoryRoles => R.get_or_init(|| Schema::load(ROLE_JSON, ROLE_BETA_JSON)),
            Coll::Oauth2PermissionGrants => {
                O.get_or_init(|| Schema::load(GRANT_JSON, GRANT_BETA_JSON))
            }
        }
    }
}

pub const CONTACT_JSON: &str = include_str!("../../../assets/schema/orgContact.v1.0.json");
pub const USER_JSON: &str = include_str!("../../../assets/schema/user.v1.0.json");
pub const GROUP_JSON: &str = include_str!("../../../assets/schema/group.v1.0.json");
pub const APP_JSON: &str = include_str!("../../../assets/schema/application.v1.0.json");
pub const APP_BETA_JSON: &str = include_str!("../../../assets/schema/application.beta.json");
pub const SP_JSON: &str = include_str!("../../../assets/schema/servicePrincipal.v1.0.json");
pub const SP_BETA_JSON: &str = include_str!("../../../assets/schema/servicePrincipal.beta.json");
pub const DEVICE_JSON: &str = include_str!("../../../assets/schema/device.v1.0.json");
pub const DEVICE_BETA_JSON: &str = include_str!("../../../assets/schema/device.beta.json");
pub const AU_JSON: &str = include_str!("../../../assets/schema/administrativeUnit.v1.0.json");
pub const AU_BETA_JSON: &str = include_str!("../../../assets/schema/administrativeUnit.beta.json");
pub const ROLE_JSON: &str = include_str!("../../../assets/schema/directoryRole.v1.0.json");
pub const ROLE_BETA_JSON: &str = include_str!("../../../assets/schema/directoryRole.beta.json");
pub const GRANT_JSON: &str = include_str!("../../../assets/schema/oAuth2PermissionGrant.v1.0.json");
pub const GRANT_BETA_JSON: &str =
    include_str!("../../../assets/schema/oAuth2PermissionGrant.beta.json");
pub const CONTACT_BETA_JSON: &str = include_str!("../../../assets/schema/orgContact.beta.json");
pub const USER_BETA_JSON: &str = include_str!("../../../assets/schema/user.beta.json");
pub const GROUP_BETA_JSON: &str = include_str!("../../../assets/schema/group.beta.json");

/// The Graph API version a request names (`/v1.0/...` or `/beta/...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    V1,
    Beta,
}

impl Api {
    /// `beta` (any case) is beta; everything else v1.0.
    pub fn of(version: &str) -> Api {
        if version.eq_ignore_ascii_case("beta") {
            Api::Beta
        } else {
            Api::V1
        }
    }
}

/// One API version's view of a collection's properties.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lists {
    /// The properties this version has (others get "Could not find a property").
    pub exists: Mask,
    /// Returned when no `$select` is given.
    pub default: Mask,
    /// Accepted in a delta `$select` (the others are read only for a single object).
    pub delta: Mask,
}

/// The properties of a directory collection: the union of the v1.0 and beta lists, in
/// alphabetical order (as Graph returns them). The store keeps every object's values over this
/// union, and each request sees the part its API version has.
pub struct Schema {
    pub entity: &'static str,
    pub props: &'static [&'static str],
    /// EDM types, aligned with `props` (v1.0's where both versions have the property).
    pub types: &'static [&'static str],
    /// Collection-valued properties (`[]` when they have no value, as Graph writes them).
    pub collections: Mask,
    pub v1: Lists,
    pub beta: Lists,
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

fn parse(json: &str) -> FileDoc {
    serde_json::from_str(json).unwrap_or(FileDoc {
        entity: String::new(),
        properties: Vec::new(),
    })
}

impl Schema {
    /// Parses the embedded v1.0 and beta property lists (checked by the tests; a broken one
    /// gives an empty list rather than a panic). At most 128 properties are kept (the mask's
    /// width).
    pub fn load(v1_json: &str, beta_json: &str) -> Schema {
        let (v1, beta) = (parse(v1_json), parse(beta_json));
        let entity = if v1.entity.is_empty() {
            beta.entity.clone()
        } else {
            v1.entity.clone()
        };
        // The union, v1.0's entry first (its type), sorted as generate.py sorts.
        let mut all: Vec<&FileProp> = Vec::new();
        for p in v1.properties.iter().chain(beta.properties.iter()) {
            if !all.iter().any(|q| q.name == p.name) {
                all.push(p);
            }
        }
        all.sort_by_key(|p| p.name.to_ascii_lowercase());
        all.truncate(Mask::BITS as usize);
        let lists = |doc: &FileDoc| {
            let mut l = Lists::default();
            for p in &doc.properties {
                if let Some(i) = all.iter().position(|q| q.name == p.name) {
                    l.exists |= bit(i);
                    if p.default {
                        l.default |= bit(i);
                    }
                    if p.delta {
                        l.delta |= bit(i);
                    }
                }
            }
            l
        };
        let (l1, lb) = (lists(&v1), lists(&beta));
        let collections = all
            .iter()
            .enumerate()
            .filter(|(_, p)| p.ty.starts_with("Collection("))
            .fold(0, |m, (i, _)| m | bit(i));
        let props: Vec<&'static str> = all.iter().map(|p| leak(p.name.clone())).collect();
        let types: Vec<&'static str> = all.iter().map(|p| leak(p.ty.clone())).collect();
        Schema {
            entity: leak(entity),
            props: Box::leak(props.into_boxed_slice()),
            types: Box::leak(types.into_boxed_slice()),
            collections,
            v1: l1,
            beta: lb,
        }
    }
    /// The lists of API version `api`.
    pub fn lists(&self, api: Api) -> &Lists {
        match api {
            Api::V1 => &self.v1,
            Api::Beta => &self.beta,
        }
    }
    /// The properties any version accepts in a delta `$select` (what the store can be given).
    pub fn any_delta(&self) -> Mask {
        self.v1.delta | self.beta.delta
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
        self.collections & bit(i) != 0
    }
}
