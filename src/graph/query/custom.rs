//! A delta path of the user's own (`sync --path`, the builder's free entry): checked only for
//! what can be checked (a Graph path under the chosen API version, on the active root, ending in
//! a delta function) and walked by the generic rules.
use super::{ApiVersion, Catalog, DeltaQuery, GraphRoot, QueryError, ResourceSpec, Validation};

/// The longest path accepted (a URL is limited to a few kB by servers anyway).
const MAX_PATH: usize = 4096;

/// The parts of a custom path: its path (no version) and its query, if any.
struct Parsed<'a> {
    path: &'a str,
    query: Option<&'a str>,
}

/// Reads `input`: an absolute URL on `root` (when given), or a path starting with `/`, with or
/// without the API version. `Err`: what is wrong, for people.
fn parse<'a>(
    input: &'a str,
    api: ApiVersion,
    root: Option<&GraphRoot>,
) -> Result<Parsed<'a>, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(
            "the path is empty: give a delta path such as /me/mailFolders/inbox/messages/delta"
                .into(),
        );
    }
    if input.len() > MAX_PATH {
        return Err(format!(
            "the path is {} bytes long (at most {MAX_PATH})",
            input.len()
        ));
    }
    if let Some(c) = input.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "the path holds {} (percent-encode it, e.g. %20 for a space)",
            c.escape_default()
        ));
    }
    if input.contains('#') {
        return Err("the path holds a fragment (#…): Graph paths have none".into());
    }
    let mut rest = input;
    let lower = input.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        let url = url::Url::parse(input).map_err(|e| format!("not a URL ({e})"))?;
        if let Some(root) = root
            && !root.same_origin(&url)
        {
            return Err(format!(
                "the URL is on {}, not on the Graph root {root}: the access token goes to that root only",
                url.origin().ascii_serialization()
            ));
        }
        let origin_len = url.origin().ascii_serialization().len();
        rest = input.get(origin_len..).unwrap_or("");
        if rest.is_empty() {
            return Err("the URL has no path".into());
        }
    }
    if !rest.starts_with('/') {
        return Err(format!(
            "{rest:?} is not a path: it starts with / (e.g. /me/drive/root/delta)"
        ));
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    // A leading version segment: the chosen one is dropped, another one is refused.
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let path = if first.eq_ignore_ascii_case(api.as_str()) {
        &path[first.len() + 1..]
    } else if ["v1.0", "beta"]
        .iter()
        .any(|v| v.eq_ignore_ascii_case(first))
    {
        return Err(format!(
            "the path names /{first} but the API version is {api}: choose that version, or give the path without it"
        ));
    } else {
        path
    };
    if path.contains("/../") || path.ends_with("/..") || path.contains("/./") {
        return Err("the path holds . or .. segments".into());
    }
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let func = last
        .split('(')
        .next()
        .unwrap_or("")
        .trim_start_matches("microsoft.graph.");
    if !func.eq_ignore_ascii_case("delta") {
        return Err(format!(
            "the path ends in {last:?}, not in a delta function: deltascope walks delta queries (…/delta)"
        ));
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
            if ["$skiptoken", "$deltatoken", "skiptoken", "deltatoken"].contains(&key.as_str()) {
                return Err(format!(
                    "the path carries {key}: a saved link continues with `sync --state` or the explorer's resume, a path starts a round"
                ));
            }
        }
    }
    Ok(Parsed { path, query })
}

impl DeltaQuery {
    pub(super) fn validate_custom(&self, path: &str, c: &Catalog, v: &mut Validation) {
        let parsed = match parse(path, self.api, None) {
            Ok(p) => p,
            Err(e) => {
                v.error("path", e);
                return;
            }
        };
        if !self.params.is_empty() {
            v.error(
                "path",
                "a path of your own takes no resource parameters: write their values into the path",
            );
        }
        let query = parsed.query.unwrap_or("").to_ascii_lowercase();
        let has = |opt: &str| query.split('&').any(|p| p.split('=').next() == Some(opt));
        if !self.select.is_empty() && has("$select") {
            v.error("select", "the path already has $select: give it once");
        }
        if (!self.ids.is_empty() || !self.types.is_empty()) && has("$filter") {
            v.error("ids", "the path already has $filter: give it once");
        }
        if self.top.is_some() && has("$top") {
            v.error("top", "the path already has $top: give it once");
        }
        match self.custom_resource(c) {
            Some(spec) => v.warn(
                "path",
                format!(
                    "this path is a spelling of the catalog's {} ({}): choosing it as the resource checks its options too",
                    spec.name, spec.entity
                ),
            ),
            None => v.warn(
                "path",
                "not in the catalog: generic rules apply (links followed verbatim; removals from @removed or a deleted facet; the round summary and replica as for catalog resources)",
            ),
        }
    }

    /// The catalog resource whose path templates this query's own path spells, if any.
    pub fn custom_resource<'c>(&self, c: &'c Catalog) -> Option<&'c ResourceSpec> {
        let parsed = parse(self.path.as_deref()?, self.api, None).ok()?;
        c.resources().iter().find(|r| {
            r.templates()
                .any(|t| super::template::matches(t, parsed.path))
        })
    }

    /// The first request's URL for a path of the user's own (options added by the caller).
    pub(super) fn custom_url(&self, path: &str, root: &GraphRoot) -> Result<String, QueryError> {
        let parsed = parse(path, self.api, Some(root)).map_err(|e| {
            let mut v = Validation::default();
            v.error("path", e);
            QueryError::Invalid(v)
        })?;
        let mut url = format!("{}/{}{}", root.as_str(), self.api, parsed.path);
        if let Some(q) = parsed.query.filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(q);
        }
        Ok(url)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn query(path: &str) -> DeltaQuery {
        DeltaQuery {
            path: Some(path.to_owned()),
            ..DeltaQuery::new("", ApiVersion::V1_0)
        }
    }

    fn root() -> GraphRoot {
        GraphRoot::parse("https://graph.microsoft.com").unwrap()
    }

    #[test]
    fn a_path_of_ones_own_becomes_the_first_request() {
        let c = Catalog::builtin();
        let q = query("/me/mailFolders('Inbox')/messages/delta?$select=subject");
        let req = q.first_request(c, &root()).unwrap();
        assert_eq!(
            req.url,
            "https://graph.microsoft.com/v1.0/me/mailFolders('Inbox')/messages/delta?$select=subject"
        );
        assert_eq!(
            q.custom_resource(c).map(|r| r.name.as_str()),
            Some("messages")
        );
        // The version may be written; options from the builder are added after the path's own.
        let mut q = query("https://graph.microsoft.com/v1.0/me/drive/root/delta");
        q.top = Some(5);
        q.max_page_size = Some(20);
        let req = q.first_request(c, &root()).unwrap();
        assert_eq!(
            req.url,
            "https://graph.microsoft.com/v1.0/me/drive/root/delta?$top=5"
        );
        assert_eq!(
            req.headers,
            [("Prefer".to_owned(), "odata.maxpagesize=20".to_owned())]
        );
        // latest in the spelling of the resource the path spells.
        let mut q = query("/me/drive/root/delta");
        q.latest = true;
        let req = q.first_request(c, &root()).unwrap();
        assert_eq!(
            req.url,
            "https://graph.microsoft.com/v1.0/me/drive/root/delta?token=latest"
        );
        let q = query("/print/printers/delta");
        let v = q.validate(c);
        assert!(v.is_ok(), "{v}");
        assert!(
            v.warnings
                .iter()
                .any(|w| w.message.contains("not in the catalog"))
        );
    }

    #[test]
    fn what_can_be_checked_is_checked() {
        let c = Catalog::builtin();
        let bad = [
            ("", "empty"),
            ("me/messages/delta", "starts with /"),
            ("/me/messages", "not in a delta function"),
            ("/beta/users/delta", "API version is v1.0"),
            ("/users/delta?$deltatoken=abc", "saved link"),
            ("/users/de lta", "percent-encode"),
            ("/users/../groups/delta", ".."),
            (
                "https://evil.example/v1.0/users/delta",
                "not on the Graph root",
            ),
            ("/users/delta#x", "fragment"),
        ];
        for (path, said) in bad {
            let err = query(path)
                .first_request(c, &root())
                .unwrap_err()
                .to_string();
            assert!(err.contains(said), "{path}: {err}");
        }
        let mut q = query("/users/delta?$select=id");
        q.select = vec!["displayName".into()];
        assert!(
            q.validate(c)
                .errors
                .iter()
                .any(|e| e.message.contains("$select"))
        );
        assert!(query("/users/microsoft.graph.delta()").validate(c).is_ok());
    }
}
