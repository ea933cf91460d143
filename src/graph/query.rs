//! A delta query (resource + options) → its validation and its first request.
//!
//! Query options exist only on the first request: Graph folds them into the state token, and
//! every later request is a link followed as returned.
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, IdKind, ParamKind, ResourceSpec};
pub use super::page::{PageRequest, RequestKind};

mod custom;
mod template;
mod validate;
use template::QUERY_VALUE;

/// Most ids a delta `$filter` accepts.
pub const MAX_FILTER_IDS: usize = 50;

/// The Graph root: an origin (`scheme://host[:port]`, no path, no trailing slash). HTTPS, or
/// plain HTTP on a loopback address (the emulator, test servers).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GraphRoot {
    origin: String,
    scheme: String,
    host: String,
    port: u16,
}

/// The national clouds' Graph roots, by the names `GraphRoot::parse` accepts.
pub const CLOUDS: [(&str, &str); 4] = [
    ("global", "https://graph.microsoft.com"),
    ("usgov", "https://graph.microsoft.us"),
    ("usgov-dod", "https://dod-graph.microsoft.us"),
    ("china", "https://microsoftgraph.chinacloudapi.cn"),
];

impl GraphRoot {
    /// Accepts a cloud name (`global`, `usgov`, `usgov-dod`, `china`) or an origin URL.
    pub fn parse(s: &str) -> Result<GraphRoot, QueryError> {
        let input = s.trim();
        let bad = |reason: &str| QueryError::BadRoot {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let alias = match input.to_ascii_lowercase().as_str() {
            "global" | "public" | "worldwide" => Some(CLOUDS[0].1),
            "usgov" | "usgovl4" | "gcchigh" | "gcc-high" => Some(CLOUDS[1].1),
            "usgov-dod" | "usgovl5" | "dod" => Some(CLOUDS[2].1),
            "china" | "21vianet" => Some(CLOUDS[3].1),
            _ => None,
        };
        let text = alias.unwrap_or(input);
        let url = url::Url::parse(text).map_err(|e| {
            bad(&format!(
                "not a URL ({e}); give an origin like https://graph.microsoft.com or a cloud name (global, usgov, usgov-dod, china)"
            ))
        })?;
        let host = url
            .host_str()
            .ok_or_else(|| bad("the URL has no host"))?
            .to_ascii_lowercase();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => {
                return Err(bad(
                    "plain http is allowed only on a loopback address (127.0.0.1, [::1], localhost): a bearer token must not cross the network unencrypted",
                ));
            }
            other => return Err(bad(&format!("unsupported scheme {other}: use https"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("the URL must not hold a user name or password"));
        }
        if url.path() != "/" && !url.path().is_empty() {
            return Err(bad(
                "give only the origin, without a path (the API version is chosen separately), e.g. https://graph.microsoft.com",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("the URL must not have a query or a fragment"));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| bad("the URL has no port"))?;
        let mut origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(&host));
        if let Some(p) = url.port() {
            origin.push_str(&format!(":{p}"));
        }
        Ok(GraphRoot {
            origin,
            scheme: url.scheme().to_owned(),
            host,
            port,
        })
    }

    /// `scheme://host[:port]`, no trailing slash.
    pub fn as_str(&self) -> &str {
        &self.origin
    }

    /// The origin links must share; the same text as [`GraphRoot::as_str`].
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether `url` is on this origin (scheme, host and port; default ports made explicit).
    pub fn same_origin(&self, url: &url::Url) -> bool {
        url.scheme() == self.scheme
            && url
                .host_str()
                .is_some_and(|h| h.eq_ignore_ascii_case(&self.host))
            && url.port_or_known_default() == Some(self.port)
    }

    /// The cloud name when this is a national cloud's root.
    pub fn cloud(&self) -> Option<&'static str> {
        CLOUDS
            .iter()
            .find(|(_, root)| *root == self.origin)
            .map(|(name, _)| *name)
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for GraphRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

impl TryFrom<String> for GraphRoot {
    type Error = QueryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        GraphRoot::parse(&s)
    }
}

impl From<GraphRoot> for String {
    fn from(r: GraphRoot) -> String {
        r.origin
    }
}

impl FromStr for GraphRoot {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GraphRoot::parse(s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ApiVersion {
    #[default]
    #[serde(rename = "v1.0")]
    V1_0,
    #[serde(rename = "beta")]
    Beta,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1_0 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApiVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1.0" | "v1" | "1.0" => Ok(ApiVersion::V1_0),
            "beta" => Ok(ApiVersion::Beta),
            other => Err(format!("unknown API version {other:?}: use v1.0 or beta")),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeltaQuery {
    /// Catalog name (contacts, users, servicePrincipals, messages, driveItems, …); ignored
    /// when `path` is given.
    pub resource: String,
    /// A delta path of the user's own, under `/{api}` (`/me/mailFolders('Inbox')/messages/delta?
    /// $select=subject`), for what the catalog does not list: walked by the generic rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub api: ApiVersion,
    /// Path parameters: userId, meetingOrganizerUserId, startDateTime.
    pub params: BTreeMap<String, String>,
    /// `$select`
    pub select: Vec<String>,
    /// `$filter=id eq '…' or …`
    pub ids: Vec<String>,
    /// `Prefer: return=minimal`
    pub minimal: bool,
    /// `$top`
    pub top: Option<u32>,
    /// `$deltatoken=latest` (`token=latest` for driveItems)
    pub latest: bool,
    /// `Prefer: odata.maxpagesize=N`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u32>,
    /// `$filter=isof('microsoft.graph.T') or …` (directoryObjects): the types, as `user` or
    /// `microsoft.graph.user`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

/// One thing wrong (or worth knowing) about a query, tied to the option it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The option: resource, userId, meetingOrganizerUserId, startDateTime, select, ids, top,
    /// minimal, latest.
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// The query would fail (or is not what the person meant): nothing is sent.
    pub errors: Vec<Problem>,
    /// The query can be sent, but something looks off.
    pub warnings: Vec<Problem>,
}

impl Validation {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(Problem {
            field: field.to_owned(),
            message: message.into(),
        });
    }
    fn warn(&mut self, field: &str, message: impl Into<String>) {
        self.warnings.push(Problem {
            field: field.to_owned(),
            message: message.into(),
        });
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(Validation),
    #[error("invalid Graph root {input:?}: {reason}")]
    BadRoot { input: String, reason: String },
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`
pub fn is_utc_datetime(s: &str) -> bool {
    s.len() >= 20
        && s.as_bytes().get(10) == Some(&b'T')
        && s.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn is_upn(s: &str) -> bool {
    let mut parts = s.splitn(2, '@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"/?#%\\'\"<>{}|".contains(c))
}

fn is_property_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@')
}

impl DeltaQuery {
    /// A query on `resource` with every option at its default.
    pub fn new(resource: impl Into<String>, api: ApiVersion) -> DeltaQuery {
        DeltaQuery {
            resource: resource.into(),
            api,
            ..Default::default()
        }
    }

    /// Checks everything that can be checked without sending: required parameters, formats,
    /// options the resource does not support, the id limit. Unknown `$select` properties are
    /// warnings only (the catalog may lag behind Graph).
    pub fn validate(&self, c: &Catalog) -> Validation {
        let mut v = Validation::default();
        if let Some(path) = &self.path {
            self.validate_custom(path, c, &mut v);
            return v;
        }
        let Some(spec) = c.get(&self.resource) else {
            v.error(
                "resource",
                format!(
                    "unknown resource {:?}: choose one of {}",
                    self.resource,
                    c.names().join(", ")
                ),
            );
            return v;
        };
        self.validate_params(spec, &mut v);
        self.validate_select(spec, &mut v);
        self.validate_ids(spec, &mut v);
        let entity = &spec.entity;
        if let Some(top) = self.top {
            if !spec.supports.top {
                v.error(
                    "top",
                    format!(
                        "{entity} delta does not support $top (Graph ignores it here; the server chooses the page size, about {} objects)",
                        spec.default_page_size
                    ),
                );
            } else if top == 0 {
                v.error("top", "$top must be at least 1");
            } else if top > 999 {
                v.warn(
                    "top",
                    format!("$top={top} is unusually large; Graph may cap the page size"),
                );
            }
            if spec.supports.top && (spec.name == "recordings" || spec.name == "transcripts") {
                v.warn(
                    "top",
                    "known issue: with $top the nextLink may be missing although items remain; the round may end early",
                );
            }
        }
        if self.minimal && !spec.supports.minimal {
            v.error(
                "minimal",
                format!(
                    "{entity} delta does not support Prefer: return=minimal (its later rounds only add objects, there are no property changes to minimise)"
                ),
            );
        }
        if self.latest && !spec.supports.latest {
            v.error(
                "latest",
                format!(
                    "{entity} delta does not support starting from now ($deltatoken=latest is for directory resources, token=latest for driveItems); run a full round instead"
                ),
            );
        }
        if self.latest && self.param_value(spec, "token").is_some() {
            v.error(
                "latest",
                "give either latest (start from now) or a timestamp token (start from that moment), not both",
            );
        }
        self.validate_page_size(spec, &mut v);
        self.validate_types(spec, &mut v);
        v
    }

    fn param_value<'a>(&'a self, spec: &ResourceSpec, name: &str) -> Option<&'a str> {
        let own = self
            .params
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        own.or_else(|| {
            let from = spec.param(name)?.default_from.as_deref()?;
            self.params
                .get(from)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        })
    }

    /// The first request of the query's first round. Fails when [`DeltaQuery::validate`] finds
    /// errors.
    pub fn first_request(&self, c: &Catalog, root: &GraphRoot) -> Result<PageRequest, QueryError> {
        let v = self.validate(c);
        if !v.is_ok() {
            return Err(QueryError::Invalid(v));
        }
        let (mut url, spec) = match &self.path {
            // The resource the path spells, if any, says how its options are written.
            Some(path) => (self.custom_url(path, root)?, self.custom_resource(c)),
            None => {
                let Some(spec) = c.get(&self.resource) else {
                    return Err(QueryError::Invalid(v));
                };
                let path = template::render_first(spec.templates(), |name| {
                    self.param_value(spec, name).map(str::to_owned)
                });
                (
                    format!("{}/{}{}", root.as_str(), self.api, path),
                    Some(spec),
                )
            }
        };
        let options = self.options(spec);
        if !options.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&options.join("&"));
        }
        let mut headers = Vec::new();
        if self.minimal {
            headers.push(("Prefer".to_owned(), "return=minimal".to_owned()));
        }
        if let Some(n) = self.max_page_size {
            headers.push(("Prefer".to_owned(), format!("odata.maxpagesize={n}")));
        }
        Ok(PageRequest {
            url,
            headers,
            kind: RequestKind::Initial,
        })
    }

    /// The query options of the first request, in the order Graph's docs write them.
    fn options(&self, spec: Option<&ResourceSpec>) -> Vec<String> {
        let mut options: Vec<String> = Vec::new();
        let select: Vec<&str> = self
            .select
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if !select.is_empty() {
            options.push(format!("$select={}", select.join(",")));
        }
        let filter: Vec<String> = self
            .types
            .iter()
            .filter_map(|t| directory_type(t))
            .map(|t| format!("isof('microsoft.graph.{t}')"))
            .chain(
                self.ids
                    .iter()
                    .map(|id| format!("id eq '{}'", id.trim().replace('\'', "''"))),
            )
            .collect();
        if !filter.is_empty() {
            options.push(format!(
                "$filter={}",
                utf8_percent_encode(&filter.join(" or "), QUERY_VALUE)
            ));
        }
        if let Some(top) = self.top {
            options.push(format!("$top={top}"));
        }
        if self.latest {
            options.push(
                spec.map_or("$deltatoken=latest", ResourceSpec::latest_query)
                    .to_owned(),
            );
        }
        options
    }
}

/// The directory types `directoryObjects/delta` filters on with `isof()`.
pub const DIRECTORY_TYPES: [&str; 9] = [
    "administrativeUnit",
    "application",
    "appRoleAssignment",
    "device",
    "directoryRole",
    "group",
    "orgContact",
    "servicePrincipal",
    "user",
];

/// `t` (`user`, `microsoft.graph.user`, `#microsoft.graph.User`) as the type's own spelling.
pub fn directory_type(t: &str) -> Option<&'static str> {
    let t = t.trim().trim_start_matches('#');
    let t = t
        .get(..16)
        .filter(|p| p.eq_ignore_ascii_case("microsoft.graph."))
        .map_or(t, |_| &t[16..]);
    DIRECTORY_TYPES
        .iter()
        .find(|d| d.eq_ignore_ascii_case(t))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_and_datetime_checks() {
        assert!(is_guid("8b081ef6-4792-4def-b2c9-c363a1bf41d5"));
        assert!(!is_guid("8b081ef6-4792-4def-b2c9-c363a1bf41d"));
        assert!(!is_guid("8b081ef6x4792-4def-b2c9-c363a1bf41d5"));
        assert!(is_utc_datetime("2024-01-01T00:00:00Z"));
        assert!(is_utc_datetime("2023-12-02T06:59:34.7411768Z"));
        assert!(!is_utc_datetime("2024-01-01T00:00:00+02:00"));
        assert!(!is_utc_datetime("2024-01-01"));
        assert!(!is_utc_datetime("2024-13-01T00:00:00Z"));
    }
}
