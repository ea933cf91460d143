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
    /// The known properties of a `/beta` query, when its lists differ from v1.0's (directory
    /// resources: from the generated beta lists); empty: the same as `known_properties`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beta_known_properties: Vec<String>,
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

/// The directory resources' property lists (v1.0, beta), generated from Graph's CSDL metadata
/// by `assets/schema/generate.py` (the same lists the emulator serves).
const SCHEMAS: &[(&str, &str, &str)] = &[
    (
        "contacts",
        include_str!("../../assets/schema/orgContact.v1.0.json"),
        include_str!("../../assets/schema/orgContact.beta.json"),
    ),
    (
        "users",
        include_str!("../../assets/schema/user.v1.0.json"),
        include_str!("../../assets/schema/user.beta.json"),
    ),
    (
        "groups",
        include_str!("../../assets/schema/group.v1.0.json"),
        include_str!("../../assets/schema/group.beta.json"),
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
            for (name, v1, beta) in SCHEMAS {
                if let Some(r) = c.resources.iter_mut().find(|r| r.name == *name) {
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
