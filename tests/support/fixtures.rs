//! Hand-built view data that looks like real Graph data (contacts, recordings, a minimal round
//! with removals and a duplicate), for snapshot tests, benchmarks and UI work without the
//! engine. Not used by the product itself. Test files that need nothing else of `support`
//! include this file alone (`#[path]`), so its paths are the crate's public ones.
use std::sync::Arc;

use serde_json::{Value, json};

use deltascope::tui::app::{Model, QueryPreviewer, refresh_json};
use deltascope::tui::keymap::Keymap;
use deltascope::tui::view::{
    ObjectRow, PageMarks, PageView, ProblemView, QueryDraft, QueryView, RequestPreview,
    ResourceView, RoundView,
};

const ROOT: &str = "https://graph.microsoft.com";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The resources the engine's catalog offers, as the builder sees them.
pub fn resources() -> Vec<ResourceView> {
    let directory = |name: &str, title: &str, default: &[&str], other: &[&str]| {
        let mut known = strings(default);
        known.extend(strings(other));
        ResourceView {
            name: name.into(),
            title: title.into(),
            params: vec![],
            known_properties: known,
            beta_known_properties: Vec::new(),
            default_properties: strings(default),
            supports_select: true,
            supports_filter_ids: true,
            supports_top: false,
            supports_latest: true,
            supports_minimal: true,
            supports_max_page: true,
            supports_types: false,
            group: "Directory".into(),
            latest_query: "$deltatoken=latest".into(),
            removal: "@removed with a reason".into(),
            columns: Vec::new(),
        }
    };
    let meeting = |name: &str, title: &str, extra: &str| ResourceView {
        name: name.into(),
        title: title.into(),
        params: strings(&["userId", "meetingOrganizerUserId", "startDateTime"]),
        known_properties: strings(&[
            "id",
            "meetingId",
            "callId",
            "contentCorrelationId",
            "createdDateTime",
            "endDateTime",
            extra,
            "meetingOrganizer",
        ]),
        beta_known_properties: Vec::new(),
        default_properties: strings(&["meetingId", "createdDateTime", "endDateTime", extra]),
        supports_select: false,
        supports_filter_ids: false,
        supports_top: true,
        supports_latest: false,
        supports_minimal: false,
        supports_max_page: false,
        supports_types: false,
        group: "Teams/Calls".into(),
        latest_query: String::new(),
        removal: "no removals".into(),
        columns: Vec::new(),
    };
    vec![
        directory(
            "contacts",
            "Organizational contacts (orgContact)",
            &[
                "companyName",
                "department",
                "displayName",
                "givenName",
                "jobTitle",
                "mail",
                "mailNickname",
                "surname",
            ],
            &[
                "addresses",
                "phones",
                "proxyAddresses",
                "onPremisesSyncEnabled",
            ],
        ),
        meeting(
            "recordings",
            "Online meeting recordings (callRecording)",
            "recordingContentUrl",
        ),
        meeting(
            "transcripts",
            "Online meeting transcripts (callTranscript)",
            "transcriptContentUrl",
        ),
        directory(
            "users",
            "Users",
            &[
                "displayName",
                "givenName",
                "mail",
                "surname",
                "userPrincipalName",
            ],
            &["jobTitle", "department"],
        ),
        directory(
            "groups",
            "Groups",
            &["displayName", "description", "mail"],
            &["members"],
        ),
    ]
}

/// A contacts query with `displayName`, `mail`, `department` selected.
pub fn contacts_query() -> QueryView {
    let mut q = QueryView {
        resources: resources(),
        api: "v1.0".into(),
        ..Default::default()
    };
    q.set_resource(0);
    for (p, on) in &mut q.select.items {
        *on = matches!(p.as_str(), "displayName" | "mail" | "department");
    }
    q
}

/// A recordings query with the organizer missing (a validation error to show).
pub fn recordings_query() -> QueryView {
    let mut q = contacts_query();
    q.set_resource(1);
    if let Some(p) = q.params.iter_mut().find(|p| p.name == "userId") {
        p.value = "9f2d1c44-5b8e-4f6a-a1c3-2b7e4d9a0c11".into();
    }
    if let Some(p) = q.params.iter_mut().find(|p| p.name == "startDateTime") {
        p.value = "2024-05-01T00:00:00Z".into();
    }
    q.top = Some(10);
    q
}

/// A model on `q` with the default keymap and the [`FakePreviewer`], titled as the demo tenant.
pub fn model(q: QueryView) -> Model {
    let mut m = Model::new(q, Keymap::default(), Box::new(FakePreviewer));
    m.title = "demo tenant (embedded emulator) http://127.0.0.1:PORT".into();
    m
}

/// Makes `m` a contacts session as one that fetched it: the options frozen (`minimal`: the
/// builder's minimal toggle on), three columns, round 1 complete and round 2 (minimal, with
/// removals and a duplicate) complete, the first page in the JSON pane.
pub fn with_contacts_session(m: &mut Model, minimal: bool) {
    m.query.minimal = minimal;
    m.query.frozen = true;
    m.refresh_query();
    m.columns = vec!["displayName".into(), "mail".into(), "department".into()];
    m.rounds = vec![contacts_round1(), contacts_round2_minimal()];
    m.sel_round = 0;
    m.sel_page = 0;
    refresh_json(m);
}

/// Builds the first request the way the engine does (close enough for the builder's preview).
pub struct FakePreviewer;

impl QueryPreviewer for FakePreviewer {
    fn preview(&self, d: &QueryDraft) -> (RequestPreview, Vec<ProblemView>) {
        let mut problems = Vec::new();
        let param = |name: &str| {
            d.params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let path = match d.resource.as_str() {
            "recordings" | "transcripts" => {
                for name in ["userId", "meetingOrganizerUserId"] {
                    if param(name).is_empty() {
                        problems.push(ProblemView {
                            field: name.into(),
                            message: "required".into(),
                            is_error: true,
                        });
                    }
                }
                let f = if d.resource == "recordings" {
                    "getAllRecordings"
                } else {
                    "getAllTranscripts"
                };
                let start = param("startDateTime");
                let start = if start.is_empty() {
                    String::new()
                } else {
                    format!(",startDateTime={start}")
                };
                format!(
                    "/users/{}/onlineMeetings/{f}(meetingOrganizerUserId='{}'{start})/delta",
                    param("userId"),
                    param("meetingOrganizerUserId")
                )
            }
            other => format!("/{other}/delta"),
        };
        let mut query: Vec<String> = Vec::new();
        if !d.select.is_empty() {
            query.push(format!("$select={}", d.select.join(",")));
        }
        if !d.ids.is_empty() {
            let ids: Vec<String> = d.ids.iter().map(|i| format!("id eq '{i}'")).collect();
            query.push(format!("$filter={}", ids.join(" or ")));
        }
        if let Some(t) = d.top {
            query.push(format!("$top={t}"));
        }
        if d.latest {
            query.push("$deltatoken=latest".into());
        }
        let mut url = format!("{ROOT}/{}{path}", d.api);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        let mut headers = Vec::new();
        if d.minimal {
            headers.push(("Prefer".to_owned(), "return=minimal".to_owned()));
        }
        (
            RequestPreview {
                url: Ok(url),
                headers,
            },
            problems,
        )
    }
}

/// A deterministic GUID for object `n`.
pub fn guid(n: usize) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-9{:03x}-{:012x}",
        0x6f1c_0000_u32.wrapping_add(n as u32),
        (n * 7) & 0xffff,
        (n * 13) & 0xfff,
        (n * 17) & 0xfff,
        0x0d3c_9b6a_0000_u64 + n as u64
    )
}

const GIVEN: [&str; 8] = [
    "Hanako", "Taro", "Yuki", "Kenji", "Aiko", "Sakura", "Hiroshi", "Mei",
];
const FAMILY: [&str; 6] = ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"];
const DEPTS: [&str; 4] = ["Sales", "Legal", "Procurement", "Support"];

/// Contact `n` as Graph returns it with the default property set.
pub fn contact(n: usize) -> Value {
    let given = GIVEN[n % GIVEN.len()];
    let family = FAMILY[n % FAMILY.len()];
    let nick = format!("{}.{}{n}", given.to_lowercase(), family.to_lowercase());
    json!({
        "companyName": "Contoso Partners KK",
        "department": DEPTS[n % DEPTS.len()],
        "displayName": format!("{given} {family}"),
        "givenName": given,
        "jobTitle": if n.is_multiple_of(3) { Value::Null } else { json!("Account Manager") },
        "mail": format!("{nick}@partners.contoso.co.jp"),
        "mailNickname": nick,
        "surname": family,
        "id": guid(n),
    })
}

fn page_body(context: &str, items: &[Value], next: Option<&str>, delta: Option<&str>) -> String {
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), json!(context));
    if let Some(n) = next {
        body.insert("@odata.nextLink".into(), json!(n));
    }
    if let Some(d) = delta {
        body.insert("@odata.deltaLink".into(), json!(d));
    }
    body.insert("value".into(), Value::Array(items.to_vec()));
    // Compact, as the wire carries it.
    Value::Object(body).to_string()
}

fn request_headers(minimal: bool) -> Vec<(String, String)> {
    let mut h = vec![
        (
            "Authorization".to_owned(),
            "Bearer eyJ0eXAiOiJKV1Qi.secret".to_owned(),
        ),
        (
            "client-request-id".to_owned(),
            "2d7f3b1e-8c44-4f0a-9a61-5b0e2c7d9f10".to_owned(),
        ),
    ];
    if minimal {
        h.push(("Prefer".to_owned(), "return=minimal".to_owned()));
    }
    h
}

fn response_headers(n: usize) -> Vec<(String, String)> {
    vec![
        (
            "Content-Type".to_owned(),
            "application/json;odata.metadata=minimal".to_owned(),
        ),
        (
            "request-id".to_owned(),
            format!("b1c2d3e4-0000-4000-8000-00000000{n:04}"),
        ),
        (
            "client-request-id".to_owned(),
            "2d7f3b1e-8c44-4f0a-9a61-5b0e2c7d9f10".to_owned(),
        ),
        (
            "x-ms-ags-diagnostic".to_owned(),
            r#"{"ServerInfo":{"DataCenter":"Japan East","Slice":"E","Ring":"3","ScaleUnit":"001","RoleInstance":"TY1PEPF0000A1B2"}}"#.to_owned(),
        ),
        ("Date".to_owned(), "Tue, 14 May 2024 09:30:00 GMT".to_owned()),
    ]
}

/// Builds a page view from objects the way the runtime will (rows from each object's JSON).
pub fn page_from_items(
    index: u32,
    url: &str,
    context: &str,
    items: &[Value],
    next: Option<&str>,
    delta: Option<&str>,
    minimal: bool,
) -> PageView {
    let body = page_body(context, items, next, delta);
    let mut seen: Vec<String> = Vec::new();
    // The marks the runtime finds on arrival (deltascope::tui::engine::page_view).
    let mut marks = PageMarks {
        changed: minimal && items.iter().any(|v| v.get("@removed").is_none()),
        ..Default::default()
    };
    let rows: Vec<ObjectRow> = items
        .iter()
        .map(|v| {
            let id = v.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
            let dup = seen.contains(&id);
            seen.push(id);
            marks.duplicate |= dup;
            match v.pointer("/@removed/reason").and_then(Value::as_str) {
                Some("changed") => marks.removed_changed = true,
                Some("deleted") => marks.removed_deleted = true,
                Some(_) => marks.removed_other = true,
                None => {}
            }
            ObjectRow::from_json(Arc::from(v.to_string()), minimal, dup)
        })
        .collect();
    PageView {
        index,
        url: url.to_owned(),
        status: 200,
        item_count: items.len(),
        bytes: body.len() as u64,
        elapsed_ms: 100 + u64::from(index) * 37,
        waited_ms: 0,
        retries: 0,
        empty: items.is_empty(),
        next_link: next.map(str::to_owned),
        delta_link: delta.map(str::to_owned),
        request_headers: request_headers(minimal),
        response_headers: response_headers(index as usize),
        raw_json: deltascope::tui::view::SharedText::from(body),
        rows,
        marks,
        full_round: !minimal,
        ..Default::default()
    }
}

pub const CONTACTS_URL: &str =
    "https://graph.microsoft.com/v1.0/contacts/delta?$select=displayName,mail,department";
pub const CONTACTS_CONTEXT: &str =
    "https://graph.microsoft.com/v1.0/$metadata#contacts(displayName,mail,department)";

/// Contacts `from..to` as selected by `contacts_query` (displayName, mail, department).
pub fn selected_contacts(from: usize, to: usize) -> Vec<Value> {
    (from..to)
        .map(|n| {
            let c = contact(n);
            json!({
                "department": c["department"],
                "displayName": c["displayName"],
                "mail": c["mail"],
                "id": c["id"],
            })
        })
        .collect()
}

/// The initial round of a contacts session: 3 pages (the 2nd empty), complete.
pub fn contacts_round1() -> RoundView {
    let next1 = format!("{ROOT}/v1.0/contacts/delta?$skiptoken=RFNwdAIAAQAAAD8xOnNraXA");
    let next2 = format!("{ROOT}/v1.0/contacts/delta?$skiptoken=RFNwdAIAAQAAAD8xOnNraXAy");
    let delta = format!("{ROOT}/v1.0/contacts/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr");
    let p1 = page_from_items(
        1,
        CONTACTS_URL,
        CONTACTS_CONTEXT,
        &selected_contacts(0, 6),
        Some(&next1),
        None,
        false,
    );
    let p2 = page_from_items(2, &next1, CONTACTS_CONTEXT, &[], Some(&next2), None, false);
    let mut p3 = page_from_items(
        3,
        &next2,
        CONTACTS_CONTEXT,
        &selected_contacts(6, 9),
        None,
        Some(&delta),
        false,
    );
    p3.retries = 1;
    p3.waited_ms = 2_000;
    RoundView {
        number: 1,
        pages: vec![p1, p2, p3],
        summary_line: Some("round 1: 3 pages, 9 items: 9 added, 1 empty page".to_owned()),
        delta_link: Some(delta),
        minimal: false,
        full: true,
    }
}

/// A minimal round of changes: an update, a change to null, a soft delete, a hard delete and
/// a duplicate.
pub fn contacts_round2_minimal() -> RoundView {
    let start = format!("{ROOT}/v1.0/contacts/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr");
    let delta = format!("{ROOT}/v1.0/contacts/delta?$deltatoken=c2VjbmQtcm91bmQtdG9rZW4");
    let items = vec![
        json!({"id": guid(1), "mail": "taro.suzuki@newmail.contoso.co.jp"}),
        json!({"id": guid(2), "department": null}),
        json!({"id": guid(3), "@removed": {"reason": "changed"}}),
        json!({"id": guid(4), "@removed": {"reason": "deleted"}}),
        json!({"id": guid(1), "mail": "taro.suzuki@newmail.contoso.co.jp", "displayName": "Taro Suzuki (JP)"}),
        json!({"id": guid(20), "displayName": "Mei Ito", "mail": "mei.ito20@partners.contoso.co.jp", "department": "Legal"}),
    ];
    let page = page_from_items(
        1,
        &start,
        CONTACTS_CONTEXT,
        &items,
        None,
        Some(&delta),
        true,
    );
    RoundView {
        number: 2,
        pages: vec![page],
        summary_line: Some(
            "round 2: 1 page, 6 items: 1 added, 2 updated (mail 2, displayName 1, department 1), 2 removed (1 changed, 1 deleted), 1 duplicate".to_owned(),
        ),
        delta_link: Some(delta),
        minimal: true,
        full: false,
    }
}

/// One page of callRecording delta, as in the seed (skipToken links, users({id}) form).
pub fn recordings_round() -> RoundView {
    let user = "9f2d1c44-5b8e-4f6a-a1c3-2b7e4d9a0c11";
    let base = format!(
        "{ROOT}/v1.0/users({user})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{user}',startDateTime=2024-05-01T00:00:00Z)/delta"
    );
    let items: Vec<Value> = (0..3)
        .map(|n| {
            json!({
                "@odata.type": "#microsoft.graph.callRecording",
                "id": format!("VjIjIzE3OGFlYmYwLTA0NjEtNGQ2Yi1iNDY1LWI{n}"),
                "meetingId": format!("MSoxN2Q4YjEzMi0zYmE0LTRmNjktYjQ0NS0{n}"),
                "callId": format!("af630fe0-04d3-4559-8cf9-91fe45e3{n:04}"),
                "contentCorrelationId": format!("bd0bcf2d-9f86-4c6f-8e2a-3f1d4b{n:06}"),
                "createdDateTime": format!("2024-05-0{}T09:0{n}:00Z", n + 2),
                "endDateTime": format!("2024-05-0{}T10:0{n}:00Z", n + 2),
                "recordingContentUrl": format!("https://graph.microsoft.com/v1.0/users/{user}/onlineMeetings/MSo{n}/recordings/VjIj{n}/content"),
                "meetingOrganizer": {"application": null, "device": null, "user": {
                    "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                    "id": user, "displayName": null, "userIdentityType": "aadUser",
                    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}}
            })
        })
        .collect();
    let next = format!("{base}?skipToken=M2UyZDAwMDAwMDMxMzkzYTMyNjQ2NTM0");
    let page = page_from_items(
        1,
        &format!(
            "{ROOT}/v1.0/users/{user}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{user}',startDateTime=2024-05-01T00:00:00Z)/delta?$top=3"
        ),
        "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.callRecording)",
        &items,
        Some(&next),
        None,
        false,
    );
    RoundView {
        number: 1,
        pages: vec![page],
        summary_line: None,
        delta_link: None,
        minimal: false,
        full: true,
    }
}

/// A big page: `n` contacts with the full default property set (1,000 ≈ 330 KB).
pub fn big_contacts_page(n: usize) -> PageView {
    let items: Vec<Value> = (0..n).map(contact).collect();
    page_from_items(
        1,
        "https://graph.microsoft.com/v1.0/contacts/delta",
        "https://graph.microsoft.com/v1.0/$metadata#contacts",
        &items,
        Some("https://graph.microsoft.com/v1.0/contacts/delta?$skiptoken=big"),
        None,
        false,
    )
}
