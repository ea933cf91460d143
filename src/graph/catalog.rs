//! The resource catalog: which delta resources exist, how their first request is spelled, what
//! they support and need. The data lives in `assets/catalog.json` (embedded at build time).
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Catalog {
    resources: Vec<ResourceSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceSpec {
    /// The name on the command line, as Graph names the collection: contacts, users,
    /// servicePrincipals, messages, driveItems, … (matched case-insensitively).
    pub name: String,
    /// Other names that find it (e.g. `orgContacts`), also case-insensitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Where the explorer's picker lists it.
    pub group: Group,
    pub title: String,
    /// The Graph entity type (orgContact, callRecording, …).
    pub entity: String,
    pub description: String,
    /// Path after `/{api}`. `{param}` is replaced by the parameter's value; a `[…]` part is
    /// kept only when every parameter inside it has a value.
    pub path_template: String,
    /// Other spellings of the path (`/me/…` besides `/users/{userId}/…`, a drive by site, …):
    /// the first template, `path_template` then these, whose parameters all have values is
    /// used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_variants: Vec<String>,
    pub params: Vec<ParamSpec>,
    pub supports: Supports,
    pub default_properties: Vec<String>,
    pub known_properties: Vec<String>,
    /// The results table's columns when nothing is selected (empty: the default properties);
    /// for resources that return everything by default, the few that tell objects apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The known properties of a `/beta` query, when its lists differ from v1.0's (directory
    /// resources: from the generated beta lists); empty: the same as `known_properties`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beta_known_properties: Vec<String>,
    /// What object ids look like: `guid` (directory objects) or `opaque`.
    pub id_kind: IdKind,
    pub permissions: Permissions,
    pub token_spelling: TokenSpelling,
    pub default_page_size: u32,
    /// How a deletion is written in this resource's pages.
    pub removal: Removal,
    /// The end of `@odata.context` (after the api root).
    pub context: String,
    pub token_lifetime_days: Option<u32>,
    pub clouds: Vec<String>,
    pub doc_url: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: ParamKind,
    pub required: bool,
    /// When absent, the value of this other parameter is used.
    #[serde(default)]
    pub default_from: Option<String>,
    /// The values a `choice` parameter takes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    pub example: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    /// An object id (GUID).
    Guid,
    /// A user: object id (GUID) or userPrincipalName.
    User,
    /// An ISO-8601 UTC date and time.
    Datetime,
    /// An opaque id or a well-known name (a mail folder's `inbox`, a drive or site id, a To Do
    /// list id): anything without spaces or control characters.
    Id,
    /// One of the parameter's `choices` (messages' `changeType`).
    Choice,
}

/// The explorer's picker groups.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Directory,
    Outlook,
    Files,
    Teams,
    Todo,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Directory,
        Group::Outlook,
        Group::Files,
        Group::Teams,
        Group::Todo,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Directory => "Directory",
            Group::Outlook => "Outlook",
            Group::Files => "Files",
            Group::Teams => "Teams/Calls",
            Group::Todo => "To Do",
        }
    }
}

/// How a resource's delta pages say an object is gone.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Removal {
    /// `{"id": …, "@removed": {"reason": "changed" | "deleted"}}` (directory, Outlook, To Do).
    Removed,
    /// The item with a `deleted` facet (`"deleted": {"state": …}`), never `@removed`
    /// (driveItem). The engine reads it as `@removed` with reason `deleted`.
    DeletedFacet,
    /// Later rounds only add objects (callRecording, callTranscript).
    None,
}

impl Removal {
    /// How the removal looks, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Removal::Removed => {
                "@removed with a reason (changed: soft-deleted or out of scope; deleted: for good)"
            }
            Removal::DeletedFacet => {
                "a deleted facet on the item (\"deleted\": {…}), not @removed: gone for good"
            }
            Removal::None => "no removals: later rounds only add objects",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    Guid,
    Opaque,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Supports {
    /// `$select`
    pub select: bool,
    /// `$filter=id eq '…' or …`
    pub filter_ids: bool,
    /// `$top`
    pub top: bool,
    /// `$deltatoken=latest`
    pub latest: bool,
    /// `Prefer: return=minimal`
    pub minimal: bool,
    /// `Prefer: odata.maxpagesize=N` (the page size of directory and Outlook resources).
    #[serde(default)]
    pub maxpagesize: bool,
    /// `$filter=isof('microsoft.graph.user') or …` (directoryObjects).
    #[serde(default)]
    pub filter_types: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Permissions {
    /// Delegated (work or school account), least privileged first. Empty: not supported.
    pub delegated: Vec<String>,
    /// Application, least privileged first. Empty: not supported.
    pub application: Vec<String>,
    pub least_privileged: String,
    pub notes: String,
}

/// How the state token is spelled in this resource's links.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenSpelling {
    pub next_link: String,
    pub delta_link: String,
    /// The query that starts from now without a full round, when the resource has one:
    /// `$deltatoken=latest` (directory), `token=latest` (driveItem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
}

static BUILTIN: OnceLock<Catalog> = OnceLock::new();

/// Each resource's property lists (v1.0, beta), generated from Graph's CSDL metadata by
/// `assets/schema/generate.py` (the same lists the emulator serves).
macro_rules! schema {
    ($name:literal, $entity:literal) => {
        (
            $name,
            include_str!(concat!("../../assets/schema/", $entity, ".v1.0.json")),
            include_str!(concat!("../../assets/schema/", $entity, ".beta.json")),
        )
    };
}

const SCHEMAS: &[(&str, &str, &str)] = &[
    schema!("contacts", "orgContact"),
    schema!("users", "user"),
    schema!("groups", "group"),
    schema!("applications", "application"),
    schema!("servicePrincipals", "servicePrincipal"),
    schema!("devices", "device"),
    schema!("directoryRoles", "directoryRole"),
    schema!("administrativeUnits", "administrativeUnit"),
    schema!("oauth2PermissionGrants", "oAuth2PermissionGrant"),
    schema!("messages", "message"),
    schema!("mailFolders", "mailFolder"),
    schema!("events", "event"),
    schema!("personalContacts", "contact"),
    schema!("driveItems", "driveItem"),
    schema!("todoTasks", "todoTask"),
];

#[derive(Deserialize)]
struct SchemaFile {
    properties: Vec<SchemaProp>,
}

#[derive(Deserialize)]
struct SchemaProp {
    name: String,
    #[serde(default)]
    delta: bool,
    #[serde(default)]
    default: bool,
}

impl Catalog {
    /// The catalog shipped with deltascope.
    pub fn builtin() -> &'static Catalog {
        BUILTIN.get_or_init(|| {
            // The asset is part of the build and checked by a unit test; it cannot vary at run time.
            let mut c = Catalog::from_json(include_str!("../../assets/catalog.json"))
                .unwrap_or_else(|e| panic!("assets/catalog.json is invalid: {e}"));
            for (name, v1, beta) in SCHEMAS {
                if let Some(r) = c.resources.iter_mut().find(|r| r.name == *name) {
                    if r.default_properties.is_empty() {
                        // Not listed in the catalog: the schema's "returned by default" flags.
                        r.default_properties = defaults(v1);
                    }
                    let own = r.known_properties.clone();
                    r.beta_known_properties = merged(own.clone(), beta);
                    r.known_properties = merged(own, v1);
                }
            }
            c
        })
    }

    pub fn from_json(text: &str) -> Result<Catalog, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The resource named `name` or one of its aliases, in any case.
    pub fn get(&self, name: &str) -> Option<&ResourceSpec> {
        let name = name.trim();
        self.resources.iter().find(|r| {
            r.name.eq_ignore_ascii_case(name)
                || r.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    pub fn resources(&self) -> &[ResourceSpec] {
        &self.resources
    }

    pub fn names(&self) -> Vec<&str> {
        self.resources.iter().map(|r| r.name.as_str()).collect()
    }
}

/// `id` and the properties a generated schema list returns without `$select`, sorted.
fn defaults(json: &str) -> Vec<String> {
    let mut out = vec!["id".to_owned()];
    if let Ok(file) = serde_json::from_str::<SchemaFile>(json) {
        out.extend(
            file.properties
                .into_iter()
                .filter(|p| p.default)
                .map(|p| p.name),
        );
    }
    out.sort_by_key(|p| p.to_ascii_lowercase());
    out
}

/// `known` (the catalog's own entries, `id` and relationships) and the properties a generated
/// schema list accepts in delta, sorted as Graph lists them.
fn merged(mut known: Vec<String>, json: &str) -> Vec<String> {
    let Ok(file) = serde_json::from_str::<SchemaFile>(json) else {
        return known;
    };
    for p in file.properties.into_iter().filter(|p| p.delta) {
        if !known.contains(&p.name) {
            known.push(p.name);
        }
    }
    known.sort_by_key(|p| p.to_ascii_lowercase());
    known
}

impl ResourceSpec {
    /// The known properties of a query on API version `api`.
    pub fn known_properties_for(&self, api: crate::graph::ApiVersion) -> &[String] {
        match api {
            crate::graph::ApiVersion::Beta if !self.beta_known_properties.is_empty() => {
                &self.beta_known_properties
            }
            _ => &self.known_properties,
        }
    }

    /// The path templates in the order they are tried: `path_template`, then the variants.
    pub fn templates(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.path_template.as_str())
            .chain(self.path_variants.iter().map(String::as_str))
    }

    /// The query that starts a round from now (`$deltatoken=latest`, `token=latest`).
    pub fn latest_query(&self) -> &str {
        self.token_spelling
            .latest
            .as_deref()
            .unwrap_or("$deltatoken=latest")
    }

    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether `name` is a known property of a query on API version `api`.
    pub fn is_known_property(&self, name: &str, api: crate::graph::ApiVersion) -> bool {
        self.known_properties_for(api)
            .iter()
            .any(|p| p.eq_ignore_ascii_case(name))
            || self
                .default_properties
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_has_every_resource() {
        let c = Catalog::builtin();
        assert_eq!(
            c.names(),
            [
                "contacts",
                "users",
                "groups",
                "applications",
                "servicePrincipals",
                "devices",
                "directoryRoles",
                "administrativeUnits",
                "oauth2PermissionGrants",
                "directoryObjects",
                "messages",
                "mailFolders",
                "events",
                "personalContacts",
                "driveItems",
                "recordings",
                "transcripts",
                "todoTasks"
            ]
        );
        let mut names = std::collections::BTreeSet::new();
        for r in c.resources() {
            for n in std::iter::once(&r.name).chain(&r.aliases) {
                assert!(
                    names.insert(n.to_ascii_lowercase()),
                    "{n} names two resources"
                );
            }
            for t in r.templates() {
                assert!(t.starts_with('/'), "{}", r.name);
                let mut plain = String::new();
                let mut depth = 0;
                for ch in t.chars() {
                    match ch {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        _ if depth == 0 => plain.push(ch),
                        _ => {}
                    }
                }
                let path = plain.split('?').next().unwrap();
                assert!(path.ends_with("/delta"), "{}: {t}", r.name);
            }
            assert!(r.default_properties.iter().any(|p| p == "id"), "{}", r.name);
            for p in r.default_properties.iter().chain(&r.columns) {
                assert!(r.known_properties.contains(p), "{}: {p}", r.name);
            }
            for p in &r.params {
                assert!(
                    r.templates()
                        .any(|t| t.contains(&format!("{{{}}}", p.name))),
                    "{}",
                    p.name
                );
                assert_eq!(
                    p.kind == ParamKind::Choice,
                    !p.choices.is_empty(),
                    "{}",
                    p.name
                );
            }
            // The same names in every spelling of the path: a variant only drops some.
            assert!(r.doc_url.starts_with("https://learn.microsoft.com/"));
            assert_eq!(
                r.supports.latest,
                r.token_spelling.latest.is_some(),
                "{}",
                r.name
            );
            assert_eq!(
                r.group == Group::Teams,
                r.removal == Removal::None,
                "{}",
                r.name
            );
            assert!(!r.permissions.least_privileged.is_empty(), "{}", r.name);
            assert!(
                r.permissions
                    .delegated
                    .contains(&r.permissions.least_privileged)
                    || r.permissions
                        .application
                        .contains(&r.permissions.least_privileged),
                "{}",
                r.name
            );
        }
        assert_eq!(
            c.get("ORGCONTACTS").map(|r| r.name.as_str()),
            Some("contacts")
        );
        assert_eq!(
            c.get("serviceprincipals").map(|r| r.name.as_str()),
            Some("servicePrincipals")
        );
        assert_eq!(
            c.get("driveItems").map(|r| r.removal),
            Some(Removal::DeletedFacet)
        );
        assert_eq!(
            c.get("driveItems").map(ResourceSpec::latest_query),
            Some("token=latest")
        );
        // Property lists from the generated schemas, defaults from their flags.
        let msgs = c.get("messages").unwrap();
        assert!(msgs.known_properties.iter().any(|p| p == "subject"));
        assert!(msgs.known_properties.iter().any(|p| p == "uniqueBody"));
        assert!(!msgs.default_properties.iter().any(|p| p == "uniqueBody"));
        let drive = c.get("driveItems").unwrap();
        assert!(drive.known_properties.iter().any(|p| p == "deleted"));
        assert!(!drive.known_properties.iter().any(|p| p == "content"));
        let users = c
            .get("users")
            .map(|r| r.known_properties.clone())
            .unwrap_or_default();
        for p in ["employeeHireDate", "onPremisesImmutableId", "manager", "id"] {
            assert!(users.iter().any(|u| u == p), "{p}");
        }
        assert!(!users.iter().any(|u| u == "aboutMe"));
        assert_eq!(users.len(), 66 + 2);
        // Beta's lists: its own properties besides v1.0's, for beta queries only.
        let users = c.get("users").unwrap();
        use crate::graph::ApiVersion::{Beta, V1_0};
        for p in ["refreshTokensValidFromDateTime", "deviceKeys"] {
            assert!(users.is_known_property(p, Beta), "{p}");
            assert!(!users.is_known_property(p, V1_0), "{p}");
        }
        assert!(users.is_known_property("manager", Beta));
        assert!(!users.is_known_property("aboutMe", Beta));
        assert!(
            c.get("recordings")
                .unwrap()
                .beta_known_properties
                .is_empty()
        );
        let rec = c.get("recordings").map(|r| &r.permissions);
        assert_eq!(
            rec.map(|p| p.application.clone()),
            Some(vec!["OnlineMeetingRecording.Read.All".to_owned()])
        );
    }

    #[test]
    fn select_warnings_follow_the_api_version() {
        let warned = |api: crate::graph::ApiVersion, prop: &str| {
            let mut q = crate::graph::DeltaQuery::new("users", api);
            q.select = vec!["displayName".into(), prop.into()];
            q.validate(Catalog::builtin())
                .warnings
                .iter()
                .any(|w| w.field == "select" && w.message.contains(prop))
        };
        // deviceKeys is a beta user property, not a v1.0 one.
        assert!(warned(crate::graph::ApiVersion::V1_0, "deviceKeys"));
        assert!(!warned(crate::graph::ApiVersion::Beta, "deviceKeys"));
        assert!(!warned(crate::graph::ApiVersion::V1_0, "employeeId"));
        assert!(warned(crate::graph::ApiVersion::Beta, "noSuchProperty"));
    }
}
