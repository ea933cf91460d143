//! Engine → view: what the engine returns (catalog resources, pages, errors, stops, tokens,
//! profiles, device codes) as the plain view data the panes draw from. No I/O here.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use crate::auth::{Check, DevicePrompt, Profile, Profiles, TokenInfo};
use crate::graph::{
    ApiVersion, Catalog, DeltaQuery, GraphError, GraphRoot, Outcome, Page, PageRequest,
    RemovedReason, RequestKind, ResourceSpec, RoundSummary, Stop,
};
use crate::tui::view::{
    DeviceCodeView, ErrorView, ObjectRow, PageMarks, PageView, ProfileEntry, ProfilesView,
    QueryDraft, QueryView, ResourceView, SharedText, TokenView,
};

/// The builder's view of one catalog resource.
pub fn resource_view(spec: &ResourceSpec) -> ResourceView {
    ResourceView {
        name: spec.name.clone(),
        title: spec.title.clone(),
        params: spec.params.iter().map(|p| p.name.clone()).collect(),
        known_properties: spec.known_properties.clone(),
        beta_known_properties: spec.beta_known_properties.clone(),
        default_properties: spec.default_properties.clone(),
        supports_select: spec.supports.select,
        supports_filter_ids: spec.supports.filter_ids,
        supports_top: spec.supports.top,
        supports_latest: spec.supports.latest,
        supports_minimal: spec.supports.minimal,
        supports_max_page: spec.supports.maxpagesize,
        supports_types: spec.supports.filter_types,
        group: spec.group.title().to_owned(),
        latest_query: spec.latest_query().to_owned(),
        removal: spec.removal.describe().to_owned(),
        columns: spec.columns.clone(),
    }
}

/// A fresh query builder over every resource of the catalog (the first one selected, v1.0).
pub fn query_view(catalog: &Catalog) -> QueryView {
    let mut q = QueryView {
        resources: catalog.resources().iter().map(resource_view).collect(),
        api: ApiVersion::V1_0.to_string(),
        ..Default::default()
    };
    q.set_resource(0);
    q
}

/// The engine's query for a draft. `Err` when the API version is not one Graph has.
pub fn delta_query(d: &QueryDraft) -> Result<DeltaQuery, String> {
    let api = ApiVersion::from_str(&d.api)
        .map_err(|_| format!("unknown API version {:?} (v1.0 or beta)", d.api))?;
    let params: BTreeMap<String, String> = d
        .params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    Ok(DeltaQuery {
        resource: d.resource.clone(),
        api,
        params,
        select: d.select.clone(),
        ids: d.ids.clone(),
        minimal: d.minimal,
        top: d.top,
        latest: d.latest,
        max_page_size: d.max_page,
        types: d.types.clone(),
        ..DeltaQuery::default()
    })
    .map(|mut q| {
        // A path of one's own replaces the resource and its parameters and checklist.
        if let Some(path) = &d.path {
            q.path = Some(path.clone());
            q.params.clear();
            q.select.clear();
            q.ids.clear();
        }
        q
    })
}

/// A failed fetch as the UI shows it.
pub fn error_view(e: &GraphError) -> ErrorView {
    let message = match e {
        GraphError::Http { message, .. } if !message.is_empty() => message.clone(),
        other => other.to_string(),
    };
    let request_id = match e {
        GraphError::Http { request_id, .. } => request_id.clone(),
        _ => None,
    };
    ErrorView {
        status: e.status(),
        code: e.code().map(str::to_owned),
        message,
        request_id,
        hint: e.hint(),
        needs_resync: e.needs_resync(),
        token_problems: Vec::new(),
    }
}

/// A fetched page as the results and JSON panes show it. `round`: what the page's round is
/// (a later minimal round: the properties that came back are the changed ones; in a full round
/// every property comes back and every object is new to the session). `outcomes`: what each
/// item was to the engine's replica ([`crate::graph::PageReport::outcomes`], in the page's
/// order): the marks for duplicates, slices, new and restored objects are the engine's own
/// verdicts, never worked out again here.
pub fn page_view(page: &Page, index: u32, round: RoundShape, outcomes: &[Outcome]) -> PageView {
    let raw = page.body.clone();
    let mut marks = PageMarks {
        changed: round.minimal_changes && page.items.iter().any(|i| i.removed.is_none()),
        ..Default::default()
    };
    let rows = page
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            // Each object is a range of the page body, not a copy of it.
            let json = SharedText::new(&raw, item.span.clone());
            match &item.removed {
                Some(RemovedReason::Changed) => marks.removed_changed = true,
                Some(RemovedReason::Deleted) => marks.removed_deleted = true,
                Some(RemovedReason::Other(_)) => marks.removed_other = true,
                None => {}
            }
            let outcome = outcomes.get(i).copied().unwrap_or(Outcome::Updated);
            let row =
                ObjectRow::from_json(json, round.minimal_changes, outcome == Outcome::Duplicate);
            match outcome {
                Outcome::Slice => {
                    marks.slice = true;
                    row.as_slice()
                }
                Outcome::Duplicate => {
                    marks.duplicate = true;
                    row
                }
                // In a full round everything is new: only a change round marks it.
                Outcome::Added if !round.full => {
                    marks.new = true;
                    row.as_new()
                }
                Outcome::Restored => {
                    marks.restored = true;
                    row.as_restored()
                }
                _ => row,
            }
        })
        .collect();
    PageView {
        index,
        url: page.url.clone(),
        status: page.status,
        item_count: page.items.len(),
        bytes: page.body.len() as u64,
        elapsed_ms: u64::try_from(page.elapsed.as_millis()).unwrap_or(u64::MAX),
        waited_ms: u64::try_from(page.throttled_for.as_millis()).unwrap_or(u64::MAX),
        retries: page.retries,
        // Only a page that still goes on is an empty page (a last page with no items is not).
        empty: page.items.is_empty() && page.next_link.is_some(),
        next_link: page.next_link.clone(),
        delta_link: page.delta_link.clone(),
        request_headers: page.request_headers.clone(),
        response_headers: page.headers.clone(),
        raw_json: SharedText::whole(&raw),
        rows,
        marks,
        full_round: round.full,
        ..Default::default()
    }
}

/// What a page's round is, for its view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundShape {
    /// A full round (the query's first request, or a resync).
    pub full: bool,
    /// A later round fetched with `Prefer: return=minimal`.
    pub minimal_changes: bool,
}

/// A request that failed, as a row of its round: its status (when there was a response), the
/// error (code, message, request-id), the error body for the JSON pane and the headers the
/// error kept. `index` is the page the request was for; `elapsed` the time from sending it to
/// its failure; `page`: the response, when one came whole but is not a delta page (its body and
/// headers as received).
pub fn failed_page_view(
    e: &GraphError,
    request: &PageRequest,
    index: u32,
    elapsed: std::time::Duration,
    page: Option<&Page>,
) -> PageView {
    let error = error_view(e);
    let mut view = PageView {
        index,
        url: request.url.clone(),
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        full_round: request.kind == RequestKind::Initial,
        ..Default::default()
    };
    if let Some(page) = page {
        view.url = page.url.clone();
        view.status = page.status;
        view.bytes = page.body.len() as u64;
        view.elapsed_ms = u64::try_from(page.elapsed.as_millis()).unwrap_or(u64::MAX);
        view.waited_ms = u64::try_from(page.throttled_for.as_millis()).unwrap_or(u64::MAX);
        view.retries = page.retries;
        view.request_headers = page.request_headers.clone();
        view.response_headers = page.headers.clone();
        view.raw_json = SharedText::whole(&page.body);
        view.failure = Some(error);
        return view;
    }
    // Nothing was sent for a link that was refused: no Authorization went out either.
    let sent = !matches!(
        e,
        GraphError::ForeignLink { .. } | GraphError::BadLink { .. } | GraphError::InvalidRequest(_)
    );
    if sent {
        view.request_headers
            .push(("Authorization".into(), "Bearer ***".into()));
    }
    view.request_headers.extend(request.headers.iter().cloned());
    let body = match e {
        GraphError::Http {
            status,
            request_id,
            client_request_id,
            retry_after,
            location,
            www_authenticate,
            retries,
            url,
            body,
            ..
        } => {
            view.status = *status;
            view.retries = *retries;
            view.url = url.clone();
            if let Some(crid) = client_request_id {
                view.request_headers
                    .push(("client-request-id".into(), crid.clone()));
            }
            let kept = [
                ("request-id", request_id.clone()),
                ("client-request-id", client_request_id.clone()),
                ("Location", location.clone()),
                ("WWW-Authenticate", www_authenticate.clone()),
                (
                    "Retry-After",
                    retry_after.map(|d| format!("{}", d.as_secs_f64())),
                ),
            ];
            view.response_headers = kept
                .into_iter()
                .filter_map(|(n, v)| v.map(|v| (n.to_owned(), v)))
                .collect();
            body.clone()
        }
        GraphError::Malformed { body_prefix, .. } => body_prefix.clone(),
        _ => String::new(),
    };
    view.bytes = body.len() as u64;
    view.raw_json = SharedText::from(body.as_str());
    view.failure = Some(error);
    view
}

/// A link the round refused to follow (another origin, credentials in it, not a URL), as the
/// row of the request that was not sent: page `index` of the round, after `page`, which
/// carried the link.
pub fn refused_link_view(stop: &Stop, index: u32, page: &Page) -> Option<PageView> {
    let Stop::RefusedLink { which, link, why } = stop else {
        return None;
    };
    Some(PageView {
        index,
        url: link.clone(),
        request_headers: page.request.headers.clone(),
        full_round: page.request.kind == RequestKind::Initial,
        failure: Some(ErrorView {
            message: format!("the {which} was not followed, nothing was sent: {why}"),
            hint: Some("start a full resync".into()),
            needs_resync: true,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// What the token inspector shows for `secret`, checked against `resource` (a catalog name)
/// and the Graph root the requests go to (`demo`: the embedded emulator with its demo token),
/// at `now`. The token is only decoded here; nothing of it is kept in the returned view.
pub fn token_view(
    secret: &str,
    catalog: &Catalog,
    resource: Option<&str>,
    (root, demo): (&GraphRoot, bool),
    now: chrono::DateTime<chrono::Utc>,
) -> TokenView {
    let spec = resource.and_then(|r| catalog.get(r));
    match TokenInfo::decode(secret) {
        Ok(info) => {
            let check = info.check(spec, Some(root.as_str()), now);
            TokenView {
                lines: info
                    .lines(now)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                resource: spec.map(|s| s.name.clone()),
                problems: check.problems,
                notes: check.notes,
                unavailable: None,
            }
        }
        Err(e) if demo => TokenView {
            unavailable: Some(
                "the demo emulator accepts any token; nothing to inspect (its token is not a JWT)"
                    .into(),
            ),
            notes: vec![format!("{e}")],
            ..Default::default()
        },
        // An emulator the user started, or a real Graph: the token is theirs, and opaque.
        Err(e) => TokenView {
            unavailable: Some(format!(
                "the token is opaque (not a JWT): it cannot be decoded, so there is nothing to inspect ({e})"
            )),
            ..Default::default()
        },
    }
}

/// The token check the explorer runs by itself (before a session's first request, and after a
/// 403): `secret` decoded and checked against `resource` and the Graph root the requests go to,
/// at `now`. `None` for a token that is not a JWT (opaque, or the demo emulator's): nothing to
/// check, and nothing is said. Only conclusions come back, never the token.
pub fn token_check(
    secret: &str,
    resource: Option<&ResourceSpec>,
    root: &GraphRoot,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Check> {
    TokenInfo::decode(secret)
        .ok()
        .map(|info| info.check(resource, Some(root.as_str()), now))
}

/// Why a round stopped, as the status lines show an error: what happened and what to do.
pub fn stop_view(stop: &Stop) -> ErrorView {
    let hint = if stop.can_go_on() {
        "fetching again goes on from the last page's link (following stops again at the next loop; --max-idle-pages sets how many pages without anything new are allowed); a full resync starts over"
    } else {
        "the round has no way on: start a full resync (the link was not followed, nothing was sent to it)"
    };
    ErrorView {
        message: format!("the round stopped: {stop}"),
        hint: Some(hint.to_owned()),
        needs_resync: !stop.can_go_on(),
        ..Default::default()
    }
}

/// The one-line summary of a round.
pub fn summary_line(summary: &RoundSummary) -> String {
    summary.to_string()
}

/// The title bar of a session on `root` signed in as `who`.
pub fn signed_in_title(root: &GraphRoot, who: &str) -> String {
    format!("Graph root {root} · {who}")
}

/// The picker's line for a profile: method, cloud, tenant (names of variables, never values
/// of secrets: profiles hold none).
pub fn profile_entry(name: &str, p: &Profile) -> ProfileEntry {
    let tenant = p
        .tenant_id
        .clone()
        .or_else(|| p.tenant_id_env.as_ref().map(|v| format!("${v}")))
        .unwrap_or_else(|| match p.method {
            Some(crate::auth::Method::TokenEnv)
            | Some(crate::auth::Method::TokenFile)
            | Some(crate::auth::Method::TokenStdin)
            | Some(crate::auth::Method::AzureCli) => "(the token's)".to_owned(),
            _ => "$AZURE_TENANT_ID".to_owned(),
        });
    ProfileEntry {
        name: name.to_owned(),
        method: p
            .method
            .map(|m| m.name().to_owned())
            .unwrap_or_else(|| "(from the environment)".to_owned()),
        cloud: p.cloud.unwrap_or_default().name().to_owned(),
        tenant,
        graph_root: p.graph_root.clone(),
    }
}

/// The profile picker's view of the config file at `path` (`None`: no config directory).
pub fn profiles_view(path: Option<&std::path::Path>, startup: &str) -> ProfilesView {
    let mut view = ProfilesView {
        path: path.map(|p| p.display().to_string()),
        startup: startup.to_owned(),
        ..Default::default()
    };
    let Some(path) = path else {
        view.problem = Some(
            "no config directory (HOME is not set): start with --config FILE or set DELTASCOPE_CONFIG"
                .to_owned(),
        );
        return view;
    };
    if !path.exists() {
        view.problem = Some(format!(
            "there is no config file at {}: profiles are [profiles.NAME] tables in it (see the README)",
            path.display()
        ));
        return view;
    }
    match Profiles::load(path) {
        Ok(p) if p.profiles.is_empty() => {
            view.problem = Some(format!(
                "the config file {} has no profiles",
                path.display()
            ));
        }
        Ok(p) => {
            view.entries = p
                .profiles
                .iter()
                .map(|(name, profile)| profile_entry(name, profile))
                .collect();
        }
        Err(e) => view.problem = Some(format!("the config file is not valid: {e}")),
    }
    view
}

/// A device code as the overlay shows it; the expiry becomes a point on the monotonic clock
/// (the countdown must not jump with the wall clock).
pub(super) fn device_code_view(p: &DevicePrompt) -> DeviceCodeView {
    let left = (p.expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    DeviceCodeView {
        code: p.user_code.clone(),
        url: p.verification_uri.clone(),
        message: p.message.clone(),
        expires_at: Instant::now() + left,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The page's view as the fetch worker makes it: applied by a session first, its outcomes
    /// given to the view.
    fn applied(session: &mut crate::graph::Session, body: &str, kind: RequestKind) -> PageView {
        let page = Page::parse(
            PageRequest {
                url: "https://g/v1.0/groups/delta".into(),
                headers: vec![],
                kind,
            },
            body.as_bytes().to_vec(),
        )
        .unwrap();
        let report = session.apply(&page);
        let full = session.rounds().last().is_some_and(|r| r.full);
        let shape = RoundShape {
            full,
            minimal_changes: false,
        };
        page_view(&page, 1, shape, &report.outcomes)
    }

    #[test]
    fn the_rows_marks_are_the_engines_outcomes() {
        let first = PageRequest {
            url: "https://g/v1.0/groups/delta".into(),
            headers: vec![],
            kind: RequestKind::Initial,
        };
        let mut session = crate::graph::Session::new(first);
        // A large group paged across a round (the documented continuation: the group again
        // with the same values and the next members), then a real repeat with a new name.
        let view = applied(
            &mut session,
            r#"{"value":[
            {"id":"g1","displayName":"Big","members@delta":[{"id":"u1"},{"id":"u2"}]},
            {"id":"g1","members@delta":[{"id":"u3"},{"id":"u4","@removed":{"reason":"deleted"}}]},
            {"id":"g1","displayName":"Big","members@delta":[{"id":"u5"}]},
            {"id":"g1","displayName":"Renamed"},
            {"id":"g2","displayName":"Small"},
            {"id":"g3","displayName":"Gone soon"}
        ],"@odata.deltaLink":"https://g/v1.0/groups/delta?$deltatoken=d"}"#,
            RequestKind::Initial,
        );
        let flags: Vec<(bool, bool, bool)> = view
            .rows
            .iter()
            .map(|r| (r.slice, r.duplicate, r.new_object))
            .collect();
        // In the initial round nothing is marked new (everything is).
        assert_eq!(
            flags,
            [
                (false, false, false),
                (true, false, false),
                (true, false, false),
                (false, true, false),
                (false, false, false),
                (false, false, false),
            ]
        );
        assert!(view.full_round);
        assert_eq!(view.rows[0].cell("members"), Some("+2 links"));
        assert_eq!(view.rows[1].cell("members"), Some("+1 -1 links"));
        // The next round: g3 soft-deleted.
        let view = applied(
            &mut session,
            r#"{"value":[{"id":"g3","@removed":{"reason":"changed"}}],
            "@odata.deltaLink":"https://g/v1.0/groups/delta?$deltatoken=e"}"#,
            RequestKind::Delta,
        );
        assert!(!view.full_round && view.marks.removed_changed);
        // Then a new group, and g3 restored.
        let view = applied(
            &mut session,
            r#"{"value":[{"id":"g4","displayName":"New"},{"id":"g3","displayName":"Gone soon"},
            {"id":"g2","displayName":"Small again"}],
            "@odata.deltaLink":"https://g/v1.0/groups/delta?$deltatoken=f"}"#,
            RequestKind::Delta,
        );
        let kinds: Vec<(bool, bool)> = view
            .rows
            .iter()
            .map(|r| (r.new_object, r.restored))
            .collect();
        assert_eq!(kinds, [(true, false), (false, true), (false, false)]);
        assert!(view.marks.new && view.marks.restored);
        assert_eq!(
            view.marks.legend()[..3],
            [
                crate::tui::view::Mark::New,
                crate::tui::view::Mark::Restored,
                crate::tui::view::Mark::Absent
            ]
        );
    }

    #[test]
    fn only_a_page_with_no_items_that_goes_on_is_an_empty_page() {
        let page = |body: &str| {
            Page::parse(
                PageRequest {
                    url: "https://g/v1.0/contacts/delta".into(),
                    headers: vec![],
                    kind: RequestKind::Next,
                },
                body.as_bytes().to_vec(),
            )
            .unwrap()
        };
        let goes_on =
            page(r#"{"value":[],"@odata.nextLink":"https://g/v1.0/contacts/delta?$skiptoken=a"}"#);
        let ends = page(
            r#"{"value":[],"@odata.deltaLink":"https://g/v1.0/contacts/delta?$deltatoken=d"}"#,
        );
        assert!(page_view(&goes_on, 2, RoundShape::default(), &[]).empty);
        assert!(!page_view(&ends, 2, RoundShape::default(), &[]).empty);
    }

    #[test]
    fn the_builder_offers_every_catalog_resource() {
        let q = query_view(Catalog::builtin());
        let names: Vec<&str> = q.resources.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"contacts") && names.contains(&"recordings"));
        assert_eq!(q.api, "v1.0");
    }

    #[test]
    fn errors_keep_status_code_request_id_and_hint() {
        let e = GraphError::Http {
            status: 410,
            code: Some("resyncRequired".into()),
            message: "gone".into(),
            request_id: Some("rid".into()),
            client_request_id: None,
            retry_after: None,
            longest_wait: None,
            location: Some("http://127.0.0.1:1/v1.0/contacts/delta".into()),
            www_authenticate: None,
            retries: 0,
            url: "http://127.0.0.1:1/v1.0/contacts/delta?$deltatoken=x".into(),
            body: String::new(),
        };
        let v = error_view(&e);
        assert_eq!(v.status, Some(410));
        assert_eq!(v.code.as_deref(), Some("resyncRequired"));
        assert_eq!(v.request_id.as_deref(), Some("rid"));
        assert!(v.needs_resync);
        assert!(v.hint.unwrap().contains("resync"));
    }
}
