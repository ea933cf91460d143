//! A delta query (resource + options) → its validation and its first request.
//!
//! Query options exist only on the first request: Graph folds them into the state token, and
//! every later request is a link followed as returned.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, IdKind, ParamKind, ResourceSpec};
pub use super::page::{PageRequest, RequestKind};

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
pub struct DeltaQuery {
    /// Catalog name: contacts, recordings, transcripts, users, groups.
    pub resource: String,
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
    /// `$deltatoken=latest`
    pub latest: bool,
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

/// Characters escaped in a path parameter's value.
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters escaped in a query option's value: all but the unreserved ones.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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
                    "{entity} delta does not support $deltatoken=latest (only directory resources such as contacts, users and groups do); run a full round instead"
                ),
            );
        }
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

    fn validate_params(&self, spec: &ResourceSpec, v: &mut Validation) {
        for name in self.params.keys() {
            if spec.param(name).is_none() {
                if spec.params.is_empty() {
                    v.error(name, format!("{} delta takes no parameters", spec.entity));
                } else {
                    let known: Vec<&str> = spec.params.iter().map(|p| p.name.as_str()).collect();
                    v.error(
                        name,
                        format!(
                            "{} delta has no parameter {name} (it takes {})",
                            spec.entity,
                            known.join(", ")
                        ),
                    );
                }
            }
        }
        for p in &spec.params {
            let Some(value) = self.param_value(spec, &p.name) else {
                // A missing value that defaults to another missing required one: the other's
                // error says it all.
                let covered = p
                    .default_from
                    .as_deref()
                    .and_then(|from| spec.param(from))
                    .is_some_and(|from| from.required);
                if p.required && !covered {
                    let mut msg = format!(
                        "{} is required: {} (e.g. {})",
                        p.name, p.description, p.example
                    );
                    if p.name == "meetingOrganizerUserId" {
                        msg = format!(
                            "meetingOrganizerUserId is required: Graph fails the request without it. Give the object id (GUID) of the user who organizes the meetings, e.g. {} (the user whose meetings are read defaults to it)",
                            p.example
                        );
                    }
                    v.error(&p.name, msg);
                }
                continue;
            };
            match p.kind {
                ParamKind::Guid if !is_guid(value) => v.error(
                    &p.name,
                    format!(
                        "{value:?} is not an object id: expected a GUID like {} (hexadecimal digits in groups of 8-4-4-4-12)",
                        p.example
                    ),
                ),
                ParamKind::User if !is_guid(value) && !is_upn(value) => v.error(
                    &p.name,
                    format!(
                        "{value:?} is neither an object id (a GUID like {}) nor a userPrincipalName (name@domain)",
                        p.example
                    ),
                ),
                ParamKind::Datetime if !is_utc_datetime(value) => {
                    let extra = if value.len() == 10 && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
                        format!(" (for midnight UTC write {value}T00:00:00Z)")
                    } else {
                        String::new()
                    };
                    v.error(
                        &p.name,
                        format!(
                            "{value:?} is not an ISO-8601 UTC date and time: expected the form {} (with T and a final Z){extra}",
                            p.example
                        ),
                    )
                }
                _ => {}
            }
        }
    }

    fn validate_select(&self, spec: &ResourceSpec, v: &mut Validation) {
        let mut seen = BTreeSet::new();
        for prop in &self.select {
            let prop = prop.trim();
            if prop.is_empty() {
                continue;
            }
            if !is_property_name(prop) {
                v.error(
                    "select",
                    format!(
                        "{prop:?} is not a property name (letters, digits, _ . @ only; separate properties with commas)"
                    ),
                );
                continue;
            }
            if !seen.insert(prop.to_ascii_lowercase()) {
                v.warn("select", format!("{prop} is selected twice"));
                continue;
            }
            if !spec.is_known_property(prop, self.api) {
                v.warn(
                    "select",
                    format!(
                        "{prop} is not a known {} property (Graph answers 400 if it does not exist); known: {}",
                        spec.entity,
                        spec.known_properties_for(self.api).join(", ")
                    ),
                );
            }
        }
        if !seen.is_empty() && !spec.supports.select {
            v.warn(
                "select",
                format!(
                    "$select is not documented for {} delta; Graph may ignore it",
                    spec.entity
                ),
            );
        }
    }

    fn validate_ids(&self, spec: &ResourceSpec, v: &mut Validation) {
        if self.ids.is_empty() {
            return;
        }
        if !spec.supports.filter_ids {
            v.error(
                "ids",
                format!(
                    "{} delta does not support $filter: it cannot be limited to chosen ids",
                    spec.entity
                ),
            );
            return;
        }
        if self.ids.len() > MAX_FILTER_IDS {
            v.error(
                "ids",
                format!(
                    "{} ids given, but a delta $filter takes at most {MAX_FILTER_IDS}; split them over several queries",
                    self.ids.len()
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, id) in self.ids.iter().enumerate() {
            let id = id.trim();
            let bad = match spec.id_kind {
                IdKind::Guid => !is_guid(id),
                IdKind::Opaque => {
                    id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control())
                }
            };
            if bad {
                let expected = match spec.id_kind {
                    IdKind::Guid => {
                        "expected an object id, a GUID like 477e9fc6-5de7-4406-bb2a-7e5c83c9ffff"
                    }
                    IdKind::Opaque => "ids cannot be empty or contain spaces",
                };
                v.error(
                    "ids",
                    format!("id #{} {id:?} is malformed: {expected}", i + 1),
                );
            } else if !seen.insert(id.to_ascii_lowercase()) {
                v.warn("ids", format!("id {id} is given twice"));
            }
        }
    }

    /// The first request of the query's first round. Fails when [`DeltaQuery::validate`] finds
    /// errors.
    pub fn first_request(&self, c: &Catalog, root: &GraphRoot) -> Result<PageRequest, QueryError> {
        let v = self.validate(c);
        if !v.is_ok() {
            return Err(QueryError::Invalid(v));
        }
        let Some(spec) = c.get(&self.resource) else {
            return Err(QueryError::Invalid(v));
        };
        let path = render_template(&spec.path_template, |name| {
            self.param_value(spec, name)
                .map(|value| utf8_percent_encode(value, PATH_VALUE).to_string())
        });
        let mut url = format!("{}/{}{}", root.as_str(), self.api, path);
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
        if !self.ids.is_empty() {
            let filter = self
                .ids
                .iter()
                .map(|id| format!("id eq '{}'", id.trim().replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(" or ");
            options.push(format!(
                "$filter={}",
                utf8_percent_encode(&filter, QUERY_VALUE)
            ));
        }
        if let Some(top) = self.top {
            options.push(format!("$top={top}"));
        }
        if self.latest {
            options.push("$deltatoken=latest".to_owned());
        }
        if !options.is_empty() {
            url.push('?');
            url.push_str(&options.join("&"));
        }
        let mut headers = Vec::new();
        if self.minimal {
            headers.push(("Prefer".to_owned(), "return=minimal".to_owned()));
        }
        Ok(PageRequest {
            url,
            headers,
            kind: RequestKind::Initial,
        })
    }
}

/// Replaces `{name}` by `value(name)`; a `[…]` part is kept only when all its names have values.
/// A required name without value is left as `{name}` (validation reports it first).
fn render_template(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    fn render(
        part: &str,
        value: &dyn Fn(&str) -> Option<String>,
        optional: bool,
    ) -> Option<String> {
        let mut out = String::with_capacity(part.len());
        let mut rest = part;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return Some(out);
            };
            let name = &after[..close];
            match value(name) {
                Some(v) => out.push_str(&v),
                None if optional => return None,
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        out.push_str(&render(&rest[..open], &value, false).unwrap_or_default());
        let after = &rest[open + 1..];
        let close = after.find(']').unwrap_or(after.len());
        if let Some(part) = render(&after[..close], &value, true) {
            out.push_str(&part);
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    out.push_str(&render(rest, &value, false).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_optional_parts() {
        let t = "/a/f(x='{x}'[,y={y}])/delta";
        let with = render_template(t, |n| Some(n.to_uppercase()));
        assert_eq!(with, "/a/f(x='X',y=Y)/delta");
        let without = render_template(t, |n| (n == "x").then(|| "X".to_owned()));
        assert_eq!(without, "/a/f(x='X')/delta");
    }

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
