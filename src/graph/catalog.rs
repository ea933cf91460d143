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
    /// Short name used on the command line: contacts, recordings, transcripts, users, groups.
    pub name: String,
    pub title: String,
    /// The Graph entity type (orgContact, callRecording, …).
    pub entity: String,
    pub description: String,
    /// Path after `/{api}`. `{param}` is replaced by the parameter's value; a `[…]` part is
    /// kept only when every parameter inside it has a value.
    pub path_template: String,
    pub params: Vec<ParamSpec>,
    pub supports: Supports,
    pub default_properties: Vec<String>,
    pub known_properties: Vec<String>,
    /// What object ids look like: `guid` (directory objects) or `opaque`.
    pub id_kind: IdKind,
    pub permissions: Permissions,
    pub token_spelling: TokenSpelling,
    pub default_page_size: u32,
    /// Whether `@removed` entries are documented for this resource.
    pub removals: bool,
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
}

static BUILTIN: OnceLock<Catalog> = OnceLock::new();

/// The directory resources' property lists, generated from Graph's CSDL metadata by
/// `assets/schema/generate.py` (the same lists the emulator serves).
const SCHEMAS: &[(&str, &str)] = &[
    (
        "contacts",
        include_str!("../../assets/schema/orgContact.v1.0.json"),
    ),
    ("users", include_str!("../../assets/schema/user.v1.0.json")),
    (
        "groups",
        include_str!("../../assets/schema/group.v1.0.json"),
    ),
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
}

impl Catalog {
    /// The catalog shipped with deltascope.
    pub fn builtin() -> &'static Catalog {
        BUILTIN.get_or_init(|| {
            // The asset is part of the build and checked by a unit test; it cannot vary at run time.
            let mut c = Catalog::from_json(include_str!("../../assets/catalog.json"))
                .unwrap_or_else(|e| panic!("assets/catalog.json is invalid: {e}"));
            for (name, schema) in SCHEMAS {
                if let Some(r) = c.resources.iter_mut().find(|r| r.name == *name) {
                    r.merge_schema(schema);
                }
            }
            c
        })
    }

    pub fn from_json(text: &str) -> Result<Catalog, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn get(&self, name: &str) -> Option<&ResourceSpec> {
        self.resources
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    pub fn resources(&self) -> &[ResourceSpec] {
        &self.resources
    }

    pub fn names(&self) -> Vec<&str> {
        self.resources.iter().map(|r| r.name.as_str()).collect()
    }
}

impl ResourceSpec {
    /// Adds the properties a generated schema list accepts in delta to `known_properties`
    /// (the catalog's own entries, `id` and relationships, stay), sorted as Graph lists them.
    fn merge_schema(&mut self, json: &str) {
        let Ok(file) = serde_json::from_str::<SchemaFile>(json) else {
            return;
        };
        for p in file.properties.into_iter().filter(|p| p.delta) {
            if !self.known_properties.contains(&p.name) {
                self.known_properties.push(p.name);
            }
        }
        self.known_properties
            .sort_by_key(|p| p.to_ascii_lowercase());
    }

    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn is_known_property(&self, name: &str) -> bool {
        self.known_properties
            .iter()
            .any(|p| p.eq_ignore_ascii_case(name))
            || self
                .default_properties
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_has_the_five_resources() {
        let c = Catalog::builtin();
        assert_eq!(
            c.names(),
            ["contacts", "recordings", "transcripts", "users", "groups"]
        );
        for r in c.resources() {
            assert!(r.path_template.starts_with('/'), "{}", r.name);
            assert!(r.path_template.ends_with("/delta"), "{}", r.name);
            assert!(r.default_properties.iter().any(|p| p == "id"), "{}", r.name);
            for p in &r.default_properties {
                assert!(r.known_properties.contains(p), "{}: {p}", r.name);
            }
            for p in &r.params {
                assert!(
                    r.path_template.contains(&format!("{{{}}}", p.name)),
                    "{}",
                    p.name
                );
            }
            assert!(r.doc_url.starts_with("https://learn.microsoft.com/"));
        }
        let users = c
            .get("users")
            .map(|r| r.known_properties.clone())
            .unwrap_or_default();
        for p in ["employeeHireDate", "onPremisesImmutableId", "manager", "id"] {
            assert!(users.iter().any(|u| u == p), "{p}");
        }
        assert!(!users.iter().any(|u| u == "aboutMe"));
        assert_eq!(users.len(), 66 + 2);
        let rec = c.get("recordings").map(|r| &r.permissions);
        assert_eq!(
            rec.map(|p| p.application.clone()),
            Some(vec!["OnlineMeetingRecording.Read.All".to_owned()])
        );
    }
}
