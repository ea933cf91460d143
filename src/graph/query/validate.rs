//! Checking a catalog query's options against what its resource supports: parameters, `$select`,
//! the id filter, page sizes, the type filter.
use std::collections::BTreeSet;

use super::{
    DIRECTORY_TYPES, DeltaQuery, IdKind, MAX_FILTER_IDS, ParamKind, ResourceSpec, Validation,
    directory_type, is_guid, is_property_name, is_upn, is_utc_datetime,
};

impl DeltaQuery {
    pub(super) fn validate_page_size(&self, spec: &ResourceSpec, v: &mut Validation) {
        let Some(n) = self.max_page_size else {
            return;
        };
        if !spec.supports.maxpagesize {
            let how = if spec.supports.top {
                "its page size is $top"
            } else {
                "the server chooses its page size"
            };
            v.error(
                "max_page_size",
                format!(
                    "{} delta does not honour Prefer: odata.maxpagesize ({how})",
                    spec.entity
                ),
            );
        } else if n == 0 {
            v.error("max_page_size", "odata.maxpagesize must be at least 1");
        } else if spec.group == crate::graph::catalog::Group::Directory && n > 200 {
            v.warn(
                "max_page_size",
                format!("odata.maxpagesize={n}: directory delta pages hold at most 200 objects"),
            );
        }
    }

    pub(super) fn validate_types(&self, spec: &ResourceSpec, v: &mut Validation) {
        if self.types.is_empty() {
            return;
        }
        if !spec.supports.filter_types {
            v.error(
                "types",
                format!(
                    "{} delta has no isof() filter (only directoryObjects mixes types)",
                    spec.entity
                ),
            );
            return;
        }
        for t in &self.types {
            if directory_type(t).is_none() {
                v.error(
                    "types",
                    format!(
                        "{t:?} is not a directory type delta can filter on: {}",
                        DIRECTORY_TYPES.join(", ")
                    ),
                );
            }
        }
        if self.types.len() + self.ids.len() > MAX_FILTER_IDS {
            v.error(
                "types",
                format!("a delta $filter takes at most {MAX_FILTER_IDS} expressions"),
            );
        }
        if !self.ids.is_empty() {
            v.warn(
                "types",
                "isof() together with id eq gives the intersection (directoryobject-delta.md): only the chosen ids of the chosen types",
            );
        }
    }

    pub(super) fn validate_params(&self, spec: &ResourceSpec, v: &mut Validation) {
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
                ParamKind::Id
                    if value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
                {
                    v.error(
                        &p.name,
                        format!("{value:?} is not an id: ids have no spaces (e.g. {})", p.example),
                    )
                }
                ParamKind::Choice if !p.choices.iter().any(|c| c.eq_ignore_ascii_case(value)) => v
                    .error(
                        &p.name,
                        format!("{value:?} is not one of {}", p.choices.join(", ")),
                    ),
                _ => {}
            }
        }
    }

    pub(super) fn validate_select(&self, spec: &ResourceSpec, v: &mut Validation) {
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

    pub(super) fn validate_ids(&self, spec: &ResourceSpec, v: &mut Validation) {
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
}
