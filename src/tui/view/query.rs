//! The query builder's data: the catalog's resources, the draft, its preview and problems.

/// What the catalog says about one resource, as far as the query builder needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceView {
    /// Catalog name ("contacts", "recordings", ...).
    pub name: String,
    pub title: String,
    /// The resource's own path parameters, in display order.
    pub params: Vec<String>,
    pub known_properties: Vec<String>,
    /// The properties `/beta` knows (empty: the same as v1.0's).
    pub beta_known_properties: Vec<String>,
    pub default_properties: Vec<String>,
    pub supports_select: bool,
    pub supports_filter_ids: bool,
    pub supports_top: bool,
    pub supports_latest: bool,
    pub supports_minimal: bool,
    /// `Prefer: odata.maxpagesize`
    pub supports_max_page: bool,
    /// `$filter=isof(…)` (directoryObjects)
    pub supports_types: bool,
    /// The picker group's title (Directory, Outlook, Files, Teams/Calls, To Do).
    pub group: String,
    /// What "sync from now" sends (`$deltatoken=latest`, `token=latest`).
    pub latest_query: String,
    /// How a removal looks in its pages, for people.
    pub removal: String,
    /// The results table's columns without `$select` (empty: the default properties).
    pub columns: Vec<String>,
}

/// A path parameter with its current value and the problem with it, if any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamView {
    pub name: String,
    pub value: String,
    pub error: Option<String>,
}

/// The `$select` checklist: the resource's known properties plus free entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectView {
    /// (property, checked), known properties first, then free entries.
    pub items: Vec<(String, bool)>,
}

impl SelectView {
    pub fn from_known(known: &[String]) -> Self {
        Self {
            items: known.iter().map(|p| (p.clone(), false)).collect(),
        }
    }

    /// The checked properties, in checklist order.
    pub fn selected(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|(_, on)| *on)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// The first request as the engine will send it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestPreview {
    /// `Err(reason)` when no URL can be built yet.
    pub url: Result<String, String>,
    /// Never contains Authorization (it is added at send time).
    pub headers: Vec<(String, String)>,
}

impl Default for RequestPreview {
    fn default() -> Self {
        Self {
            url: Err("no query yet".to_owned()),
            headers: Vec::new(),
        }
    }
}

/// A validation message; `field` names the builder field it belongs to ("ids", "top", a param).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProblemView {
    pub field: String,
    pub message: String,
    pub is_error: bool,
}

/// Everything the query builder pane draws. The editable values are changed by `update`; the
/// derived part (`preview`, `problems`, param errors) is refreshed through
/// [`crate::tui::app::QueryPreviewer`] after each edit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryView {
    pub resources: Vec<ResourceView>,
    /// Index into `resources`.
    pub resource: usize,
    /// "v1.0" or "beta".
    pub api: String,
    pub params: Vec<ParamView>,
    pub select: SelectView,
    pub minimal: bool,
    /// The ids editor's lines (kept in sync with the text area by `update`).
    pub ids: Vec<String>,
    pub top: Option<u32>,
    pub latest: bool,
    /// `Prefer: odata.maxpagesize`
    pub max_page: Option<u32>,
    /// A delta path of the person's own; empty: the resource above.
    pub path: String,
    /// The types of a directoryObjects query (`isof`), as typed: comma-separated.
    pub types: String,
    pub preview: RequestPreview,
    pub problems: Vec<ProblemView>,
    /// Once a round has started the options live in the state token: shown, not editable.
    pub frozen: bool,
    /// Values offered for parameters the person has not filled in (e.g. the demo tenant's
    /// meeting organizer), by parameter name, or `resource.parameter` for one resource only.
    pub param_defaults: Vec<(String, String)>,
}

/// The limit Graph puts on `$filter=id eq ... or ...`.
pub const MAX_IDS: usize = 50;

impl QueryView {
    pub fn current(&self) -> Option<&ResourceView> {
        self.resources.get(self.resource)
    }

    /// The draft the engine needs to build (or validate) the first request.
    pub fn draft(&self) -> QueryDraft {
        QueryDraft {
            resource: self.current().map(|r| r.name.clone()).unwrap_or_default(),
            api: self.api.clone(),
            params: self
                .params
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
            select: self.select.selected(),
            ids: crate::tui::ids::ids_of(&self.ids),
            minimal: self.minimal,
            top: self.top,
            latest: self.latest,
            max_page: self.max_page,
            path: self.own_path().map(str::to_owned),
            types: self
                .types
                .split([',', ' '])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The person's own delta path, when one is given (it replaces the resource).
    pub fn own_path(&self) -> Option<&str> {
        Some(self.path.trim()).filter(|p| !p.is_empty())
    }

    /// Takes the values of `d` (a stored session's query): its resource, version, parameters,
    /// `$select` (fields the checklist does not know are added), minimal, ids, `$top`, latest.
    pub fn load_draft(&mut self, d: &QueryDraft) {
        if let Some(i) = self.resources.iter().position(|r| r.name == d.resource) {
            self.set_resource(i);
        }
        self.api = d.api.clone();
        for p in &mut self.params {
            p.value = d
                .params
                .iter()
                .find(|(k, _)| *k == p.name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
        }
        for item in &mut self.select.items {
            item.1 = d.select.contains(&item.0);
        }
        for field in &d.select {
            if !self.select.items.iter().any(|(p, _)| p == field) {
                self.select.items.push((field.clone(), true));
            }
        }
        self.minimal = d.minimal;
        self.ids = d.ids.clone();
        self.top = d.top;
        self.latest = d.latest;
        self.max_page = d.max_page;
        self.path = d.path.clone().unwrap_or_default();
        self.types = d.types.join(", ");
    }

    /// Switch to resource `index`: its parameters (values kept by name) and its checklist.
    pub fn set_resource(&mut self, index: usize) {
        let Some(res) = self.resources.get(index).cloned() else {
            return;
        };
        self.resource = index;
        let old = std::mem::take(&mut self.params);
        let defaults = &self.param_defaults;
        // A default for this resource only (`events.startDateTime`), or for every resource.
        let default = |name: &str| {
            let scoped = format!("{}.{name}", res.name);
            defaults
                .iter()
                .find(|(n, _)| *n == scoped)
                .or_else(|| defaults.iter().find(|(n, _)| n == name))
                .map(|(_, v)| v.clone())
        };
        // Another resource's own default is not carried over to this one.
        let foreign = |name: &str, value: &str| {
            let own = format!("{}.", res.name);
            defaults.iter().any(|(n, v)| {
                v == value
                    && !n.starts_with(&own)
                    && n.split_once('.').is_some_and(|(_, p)| p == name)
            })
        };
        self.params = res
            .params
            .iter()
            .map(|name| ParamView {
                name: name.clone(),
                value: old
                    .iter()
                    .find(|p| &p.name == name)
                    .map(|p| p.value.clone())
                    .filter(|v| !v.is_empty() && !foreign(name, v))
                    .or_else(|| default(name))
                    .unwrap_or_default(),
                error: None,
            })
            .collect();
        let known = if self.api == "beta" && !res.beta_known_properties.is_empty() {
            &res.beta_known_properties
        } else {
            &res.known_properties
        };
        let mut select = SelectView::from_known(known);
        for (prop, on) in &self.select.items {
            if let Some(item) = select.items.iter_mut().find(|(p, _)| p == prop) {
                item.1 = *on;
            }
        }
        self.select = select;
        if !res.supports_top {
            self.top = None;
        }
        if !res.supports_latest {
            self.latest = false;
        }
        if !res.supports_minimal {
            self.minimal = false;
        }
        if !res.supports_filter_ids {
            self.ids.clear();
        }
        if !res.supports_max_page && self.own_path().is_none() {
            self.max_page = None;
        }
        if !res.supports_types {
            self.types.clear();
        }
    }
}

/// The query as plain values: what the runtime turns into the engine's `DeltaQuery`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryDraft {
    pub resource: String,
    pub api: String,
    pub params: Vec<(String, String)>,
    pub select: Vec<String>,
    pub ids: Vec<String>,
    pub minimal: bool,
    pub top: Option<u32>,
    pub latest: bool,
    /// `Prefer: odata.maxpagesize`
    pub max_page: Option<u32>,
    /// A delta path of the person's own instead of the resource.
    pub path: Option<String>,
    /// directoryObjects: the types to track (`isof`).
    pub types: Vec<String>,
}

/// Header names whose values never reach the screen.
pub fn redact_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} ***"),
            None => "***".to_owned(),
        }
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn authorization_is_redacted_whatever_its_case() {
        assert_eq!(redact_header("Authorization", "Bearer abc"), "Bearer ***");
        assert_eq!(redact_header("authorization", "abc"), "***");
        assert_eq!(redact_header("Prefer", "return=minimal"), "return=minimal");
    }

    #[test]
    fn switching_resource_keeps_params_and_checks_by_name() {
        let contacts = ResourceView {
            name: "contacts".into(),
            known_properties: vec!["displayName".into(), "mail".into()],
            supports_select: true,
            supports_filter_ids: true,
            ..Default::default()
        };
        let users = ResourceView {
            name: "users".into(),
            params: vec![],
            known_properties: vec!["mail".into(), "userPrincipalName".into()],
            ..Default::default()
        };
        let mut q = QueryView {
            resources: vec![contacts, users],
            ..Default::default()
        };
        q.set_resource(0);
        q.select.items[1].1 = true;
        q.ids = vec!["x".into()];
        q.set_resource(1);
        assert_eq!(q.select.selected(), vec!["mail".to_string()]);
        assert!(q.ids.is_empty());
        assert_eq!(q.draft().resource, "users");
    }

    #[test]
    fn the_checklist_follows_the_api_version_and_keeps_the_ticks() {
        let users = ResourceView {
            name: "users".into(),
            known_properties: vec!["mail".into()],
            beta_known_properties: vec!["deviceKeys".into(), "mail".into()],
            supports_select: true,
            ..Default::default()
        };
        let mut q = QueryView {
            resources: vec![users],
            api: "v1.0".into(),
            ..Default::default()
        };
        q.set_resource(0);
        q.select.items[0].1 = true;
        assert_eq!(q.select.items.len(), 1);
        q.api = "beta".into();
        q.set_resource(0);
        let names: Vec<&str> = q.select.items.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, vec!["deviceKeys", "mail"]);
        assert_eq!(q.select.selected(), vec!["mail".to_string()]);
    }
}
