//! The control API: change the tenant, inject faults, move the clock. Over HTTP under
//! `/_emulator/` (JSON in, JSON out; never affected by faults, no bearer needed) and in process
//! through [`Control`].
//!
//! | method and path | body | effect / reply |
//! | --- | --- | --- |
//! | `GET /_emulator/state` | | position, clock, counts, organizers, sample ids, faults, churn |
//! | `POST /_emulator/contacts` | partial contact | creates a contact (unspecified properties generated) → the contact |
//! | `GET /_emulator/contacts/{id}` | | the contact with `@emulator.status` |
//! | `PATCH /_emulator/contacts/{id}` | properties (null clears) | updates → the contact |
//! | `DELETE /_emulator/contacts/{id}` | | soft delete (`@removed` reason `changed`) |
//! | `DELETE /_emulator/contacts/{id}?permanent=true` | | hard delete (`@removed` reason `deleted`) |
//! | `POST /_emulator/contacts/{id}/restore` | | restores a soft-deleted contact → the contact |
//! | `POST /_emulator/groups` | partial group, optional `"members": [user ids]` | creates a group → the group |
//! | `GET /_emulator/groups/{id}` | | the group with `@emulator.status` and `@emulator.memberCount` |
//! | `PATCH /_emulator/groups/{id}` | properties (null clears) | updates → the group |
//! | `DELETE /_emulator/groups/{id}` | | soft delete; `?permanent=true`: hard delete |
//! | `POST /_emulator/groups/{id}/restore` | | restores a soft-deleted group → the group |
//! | `GET /_emulator/groups/{id}/members` | | `{"value": [user ids]}` (current members) |
//! | `POST /_emulator/groups/{id}/members` | `{"id": userId}` | adds a member (409 if already one) |
//! | `DELETE /_emulator/groups/{id}/members/{userId}` | | removes a member (404 if not one) |
//! | `POST /_emulator/recordings` | `{"organizer": id}` (optional) | adds a recording and transcript → the recording |
//! | `POST /_emulator/mutate` | `{"count": n, "groups": m}` | n random realistic contact/recording changes and m group changes (both optional; count defaults to 1 without groups) → counts |
//! | `GET /_emulator/faults` | | active faults |
//! | `POST /_emulator/faults` | `{"spec": "throttle:2:0.5"}` or `{"specs": [...]}` | adds faults |
//! | `DELETE /_emulator/faults` | | clears faults |
//! | `POST /_emulator/clock` | `{"advance_secs": s}` | moves the emulator clock → `{"now": ...}` |
//! | `POST /_emulator/churn` | `{"per_sec": r}` | sets the background change rate |
//!
//! Errors: 400 (bad body), 404 (unknown id), 409 (wrong state), as `{"error":{"code","message"}}`.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::clock::graph_datetime;
use super::routes::{self, lock};
use super::store::CtlError;
use super::tenant::Coll;
use super::{DemoInfo, Shared, faults};

/// In-process handle with the same operations as the HTTP control API.
#[derive(Clone)]
pub struct Control {
    sh: Arc<Shared>,
}

/// A control operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for ControlError {}

impl From<CtlError> for ControlError {
    fn from(e: CtlError) -> Self {
        let status = match e {
            CtlError::NotFound(_) => 404,
            CtlError::BadRequest(_) => 400,
            CtlError::Conflict(_) => 409,
        };
        ControlError {
            status,
            message: e.to_string(),
        }
    }
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError {
        status: 400,
        message: message.into(),
    }
}

fn as_object(body: &Value) -> Result<&Map<String, Value>, ControlError> {
    body.as_object()
        .ok_or_else(|| bad("the body must be a JSON object of contact properties"))
}

impl Control {
    pub(crate) fn new(sh: Arc<Shared>) -> Self {
        Control { sh }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.sh.local_addr)
    }

    pub fn demo(&self) -> DemoInfo {
        let store = lock(&self.sh.store);
        DemoInfo {
            tenant_id: store.tenant_id.clone(),
            organizers: store.organizer_ids(),
            sample_contact_ids: (0..store.contacts.next.min(5))
                .map(|i| store.id_of(Coll::Contacts, i))
                .collect(),
            sample_group_ids: sample_groups(&store),
        }
    }

    /// The id of group number `index` (generated groups are 0..groups; 0 is "All Company").
    pub fn group_id(&self, index: u64) -> String {
        lock(&self.sh.store).id_of(Coll::Groups, index)
    }

    /// The id of user number `index`.
    pub fn user_id(&self, index: u64) -> String {
        lock(&self.sh.store).id_of(Coll::Users, index)
    }

    pub fn get_group(&self, id: &str) -> Result<Value, ControlError> {
        Ok(lock(&self.sh.store).get_group(id)?)
    }

    /// The current member ids of a group.
    pub fn group_members(&self, id: &str) -> Result<Vec<String>, ControlError> {
        Ok(lock(&self.sh.store).group_member_ids(id)?)
    }

    pub fn create_group(&self, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).create_group(body, now)?)
    }

    pub fn update_group(&self, id: &str, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        store.update(Coll::Groups, id, body, now)?;
        Ok(store.get_group(id)?)
    }

    pub fn soft_delete_group(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).delete(Coll::Groups, id, false, now)?)
    }

    pub fn hard_delete_group(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).delete(Coll::Groups, id, true, now)?)
    }

    pub fn restore_group(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        let mut store = lock(&self.sh.store);
        store.restore(Coll::Groups, id, now)?;
        Ok(store.get_group(id)?)
    }

    /// `count` random realistic group changes (members joining and leaving, edits, deletes,
    /// restores).
    pub fn mutate_groups(&self, count: u64) -> Value {
        let now = self.sh.clock.now();
        lock(&self.sh.store).mutate_groups(count, now)
    }

    /// Adds user `user` to group `group`.
    pub fn add_member(&self, group: &str, user: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).add_member(group, user, now)?)
    }

    /// Removes user `user` from group `group`.
    pub fn remove_member(&self, group: &str, user: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).remove_member(group, user, now)?)
    }

    /// The id of contact number `index` (generated contacts are 0..contacts).
    pub fn contact_id(&self, index: u64) -> String {
        lock(&self.sh.store).id_of(Coll::Contacts, index)
    }

    /// Position of the change log (number of changes so far).
    pub fn position(&self) -> u64 {
        lock(&self.sh.store).pos()
    }

    pub fn state(&self) -> Value {
        let store = lock(&self.sh.store);
        let (live, soft, hard) = store.contacts.counts();
        let (ulive, _, _) = store.users.counts();
        let (glive, gsoft, ghard) = store.groups.counts();
        let sample: Vec<String> = (0..store.contacts.next.min(5))
            .map(|i| store.id_of(Coll::Contacts, i))
            .collect();
        json!({
            "baseUrl": self.base_url(),
            "tenantId": store.tenant_id,
            "position": store.pos(),
            "clock": graph_datetime(self.sh.clock.now()),
            "clockOffsetSecs": self.sh.clock.offset_secs(),
            "tokenLifetimeSecs": self.sh.config.token_lifetime.as_secs(),
            "contacts": {
                "generated": store.contacts.base, "live": live, "softDeleted": soft,
                "deleted": hard, "pageSize": store.page_size,
                "defaultProperties": Coll::Contacts.schema().names(Coll::Contacts.schema().default_mask),
                "properties": Coll::Contacts.schema().props,
            },
            "lastChange": store.log.last().map(|e| graph_datetime(e.at)),
            "users": {"live": ulive},
            "groups": {
                "generated": store.groups.base, "live": glive, "softDeleted": gsoft,
                "deleted": ghard, "memberSlice": store.member_slice,
                "defaultProperties": Coll::Groups.schema().names(Coll::Groups.schema().default_mask),
                "properties": Coll::Groups.schema().props,
            },
            "sampleGroupIds": sample_groups(&store),
            "organizers": store.organizer_ids(),
            "recordings": store.artifacts.len(),
            "sampleContactIds": sample,
            "faults": lock(&self.sh.faults).describe(),
            "churnPerSec": *self.sh.churn.borrow(),
            "graphRequests": self.sh.requests.load(Ordering::Relaxed),
            "seed": store.seed,
        })
    }

    pub fn get_contact(&self, id: &str) -> Result<Value, ControlError> {
        Ok(lock(&self.sh.store).get(Coll::Contacts, id)?)
    }

    pub fn create_contact(&self, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).create(Coll::Contacts, body, now)?)
    }

    pub fn update_contact(&self, id: &str, body: &Value) -> Result<Value, ControlError> {
        let body = as_object(body)?;
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).update(Coll::Contacts, id, body, now)?)
    }

    pub fn soft_delete_contact(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).delete(Coll::Contacts, id, false, now)?)
    }

    pub fn hard_delete_contact(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).delete(Coll::Contacts, id, true, now)?)
    }

    pub fn restore_contact(&self, id: &str) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        Ok(lock(&self.sh.store).restore(Coll::Contacts, id, now)?)
    }

    /// Adds a recording (and its transcript) for `organizer` (default: the first organizer).
    pub fn add_recording(&self, organizer: Option<&str>) -> Result<Value, ControlError> {
        let now = self.sh.clock.now();
        let root = format!("{}/v1.0", self.base_url());
        Ok(lock(&self.sh.store).add_recording(organizer, now, &root)?)
    }

    /// `count` random realistic changes (updates, creates, deletes, restores, recordings).
    pub fn mutate(&self, count: u64) -> Value {
        let now = self.sh.clock.now();
        lock(&self.sh.store).mutate(count, now)
    }

    /// Adds a fault (see the `faults` spec table).
    pub fn add_fault(&self, spec: &str) -> Result<(), ControlError> {
        let f = faults::parse(spec).map_err(bad)?;
        lock(&self.sh.faults).add(f);
        Ok(())
    }

    pub fn clear_faults(&self) {
        lock(&self.sh.faults).clear();
    }

    pub fn faults(&self) -> Value {
        lock(&self.sh.faults).describe()
    }

    /// Moves the emulator clock by `secs` (tokens age with it).
    pub fn advance_clock(&self, secs: f64) -> Value {
        self.sh.clock.advance(secs);
        json!({"now": graph_datetime(self.sh.clock.now()), "offsetSecs": self.sh.clock.offset_secs()})
    }

    /// Sets the background churn (changes per second; 0 stops it).
    pub fn set_churn(&self, per_sec: f64) {
        let _ = self.sh.churn.send(per_sec.max(0.0));
    }
}

/// A few group ids: the largest group first, then the first generated ones.
fn sample_groups(store: &super::store::Store) -> Vec<String> {
    let mut idx: Vec<u64> = store.largest_group().into_iter().collect();
    for g in 0..store.groups.next.min(5) {
        if !idx.contains(&g) && idx.len() < 5 {
            idx.push(g);
        }
    }
    idx.into_iter()
        .map(|g| store.id_of(Coll::Groups, g))
        .collect()
}

// ----- HTTP ------------------------------------------------------------------------------

pub(crate) fn router(sh: Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/state", get(h_state))
        .route("/_emulator/contacts", post(h_create))
        .route(
            "/_emulator/contacts/{id}",
            get(h_get).patch(h_update).delete(h_delete),
        )
        .route("/_emulator/contacts/{id}/restore", post(h_restore))
        .route("/_emulator/groups", post(h_group_create))
        .route(
            "/_emulator/groups/{id}",
            get(h_group_get)
                .patch(h_group_update)
                .delete(h_group_delete),
        )
        .route("/_emulator/groups/{id}/restore", post(h_group_restore))
        .route(
            "/_emulator/groups/{id}/members",
            get(h_members).post(h_member_add),
        )
        .route(
            "/_emulator/groups/{id}/members/{user}",
            axum::routing::delete(h_member_remove),
        )
        .route("/_emulator/recordings", post(h_recording))
        .route("/_emulator/mutate", post(h_mutate))
        .route(
            "/_emulator/faults",
            get(h_faults).post(h_add_faults).delete(h_clear_faults),
        )
        .route("/_emulator/clock", post(h_clock))
        .route("/_emulator/churn", post(h_churn))
        .merge(super::identity::router())
        .fallback(counted_graph)
        .with_state(sh)
}

async fn counted_graph(State(sh): State<Arc<Shared>>, req: axum::extract::Request) -> Response {
    if req.uri().path().starts_with("/_emulator") {
        return reply(Err(ControlError {
            status: 404,
            message: format!(
                "unknown control endpoint {} {}",
                req.method(),
                req.uri().path()
            ),
        }));
    }
    sh.requests.fetch_add(1, Ordering::Relaxed);
    routes::graph(State(sh), req).await
}

fn reply(r: Result<Value, ControlError>) -> Response {
    let (status, body) = match r {
        Ok(v) => (StatusCode::OK, v),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            json!({"error": {"code": match e.status { 404 => "NotFound", 409 => "Conflict", _ => "BadRequest" }, "message": e.message}}),
        ),
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response()
}

fn parse_body(b: &Bytes) -> Result<Value, ControlError> {
    if b.iter().all(|c| c.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(b).map_err(|e| bad(format!("the body is not valid JSON: {e}")))
}

fn ctl(sh: &Arc<Shared>) -> Control {
    Control::new(sh.clone())
}

async fn h_state(State(sh): State<Arc<Shared>>) -> Response {
    reply(Ok(ctl(&sh).state()))
}

async fn h_create(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| ctl(&sh).create_contact(&b)))
}

async fn h_get(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(ctl(&sh).get_contact(&id))
}

async fn h_update(State(sh): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| ctl(&sh).update_contact(&id, &b)))
}

async fn h_delete(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let permanent = q.as_deref().is_some_and(|q| {
        q.split('&').any(|p| {
            p.eq_ignore_ascii_case("permanent=true") || p.eq_ignore_ascii_case("permanent")
        })
    });
    let c = ctl(&sh);
    reply(if permanent {
        c.hard_delete_contact(&id)
    } else {
        c.soft_delete_contact(&id)
    })
}

async fn h_restore(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(ctl(&sh).restore_contact(&id))
}

fn permanent(q: Option<&str>) -> bool {
    q.is_some_and(|q| {
        q.split('&').any(|p| {
            p.eq_ignore_ascii_case("permanent=true") || p.eq_ignore_ascii_case("permanent")
        })
    })
}

async fn h_group_create(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| ctl(&sh).create_group(&b)))
}

async fn h_group_get(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(ctl(&sh).get_group(&id))
}

async fn h_group_update(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    reply(parse_body(&body).and_then(|b| ctl(&sh).update_group(&id, &b)))
}

async fn h_group_delete(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let c = ctl(&sh);
    reply(if permanent(q.as_deref()) {
        c.hard_delete_group(&id)
    } else {
        c.soft_delete_group(&id)
    })
}

async fn h_group_restore(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(ctl(&sh).restore_group(&id))
}

async fn h_members(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(
        ctl(&sh)
            .group_members(&id)
            .map(|m| json!({"value": m, "count": m.len()})),
    )
}

async fn h_member_add(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let user = b
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("give {\"id\": userId}"))?
            .to_string();
        ctl(&sh).add_member(&id, &user)
    }))
}

async fn h_member_remove(
    State(sh): State<Arc<Shared>>,
    Path((id, user)): Path<(String, String)>,
) -> Response {
    reply(ctl(&sh).remove_member(&id, &user))
}

async fn h_recording(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let org = b.get("organizer").and_then(Value::as_str);
        ctl(&sh).add_recording(org)
    }))
}

async fn h_mutate(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let groups = match b.get("groups") {
            None => 0,
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(|| bad("groups must be a whole number up to 1000000"))?,
        };
        let n = match b.get("count") {
            // Alone, a mutate call makes one change; with "groups", only group changes.
            None => u64::from(groups == 0),
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(|| bad("count must be a whole number up to 1000000"))?,
        };
        let c = ctl(&sh);
        let mut out = c.mutate(n);
        if groups > 0 {
            out["groups"] = c.mutate_groups(groups);
            out["position"] = json!(c.position());
        }
        Ok(out)
    }))
}

async fn h_faults(State(sh): State<Arc<Shared>>) -> Response {
    reply(Ok(json!({"faults": ctl(&sh).faults()})))
}

async fn h_add_faults(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let mut specs: Vec<String> = Vec::new();
        if let Some(s) = b.get("spec").and_then(Value::as_str) {
            specs.push(s.to_string());
        }
        if let Some(a) = b.get("specs").and_then(Value::as_array) {
            specs.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
        }
        if specs.is_empty() {
            return Err(bad("give {\"spec\": \"throttle:2\"} or {\"specs\": [...]}"));
        }
        // Validate all before adding any.
        for s in &specs {
            faults::parse(s).map_err(bad)?;
        }
        let c = ctl(&sh);
        for s in &specs {
            c.add_fault(s)?;
        }
        Ok(json!({"faults": c.faults()}))
    }))
}

async fn h_clear_faults(State(sh): State<Arc<Shared>>) -> Response {
    let c = ctl(&sh);
    c.clear_faults();
    reply(Ok(json!({"faults": c.faults()})))
}

async fn h_clock(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let secs = b
            .get("advance_secs")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite())
            .ok_or_else(|| bad("give {\"advance_secs\": seconds}"))?;
        Ok(ctl(&sh).advance_clock(secs))
    }))
}

async fn h_churn(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let r = b
            .get("per_sec")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| bad("give {\"per_sec\": changes per second}"))?;
        let c = ctl(&sh);
        c.set_churn(r);
        Ok(json!({"churnPerSec": r}))
    }))
}
