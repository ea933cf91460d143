//! The control API over HTTP: the routes under `/_emulator/` (the table is in the parent
//! module), each a thin layer over [`Control`], and the guard that turns a handler's panic into a
//! 500 instead of a dropped connection.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::super::limits::{
    CHURN, CLOCK_STEP, MUTATE_COUNT, MUTATE_GROUPS, MUTATE_OTHER, MUTATE_USERS,
};
use super::super::tenant::Coll;
use super::super::{Shared, identity, routes};
use super::items::{OTHER_KINDS, item_set};
use super::{Control, ControlError, add_counts, bad, batches};

pub(crate) fn router(sh: Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/state", get(h_state))
        // contacts, users and groups, object by object
        .route("/_emulator/{coll}", post(h_create))
        .route(
            "/_emulator/{coll}/{id}",
            get(h_get).patch(h_update).delete(h_delete),
        )
        .route("/_emulator/{coll}/{id}/restore", post(h_restore))
        .route(
            "/_emulator/groups/{id}/members",
            get(h_members).post(h_member_add),
        )
        .route(
            "/_emulator/groups/{id}/members/{user}",
            axum::routing::delete(h_member_remove),
        )
        .route(
            "/_emulator/users/{id}/manager",
            get(h_manager).put(h_manager_set).delete(h_manager_remove),
        )
        .route("/_emulator/recordings", post(h_recording))
        .route("/_emulator/mutate", post(h_mutate))
        .route(
            "/_emulator/faults",
            get(h_faults).post(h_add_faults).delete(h_clear_faults),
        )
        .route("/_emulator/clock", post(h_clock))
        .route("/_emulator/churn", post(h_churn))
        .merge(identity::router())
        .fallback(counted_graph)
        .layer(axum::middleware::from_fn(panic_guard))
        .with_state(sh)
}

/// A handler that panics answers 500 with the control API's error shape rather than cutting
/// the connection (hyper drops it on a panic). The emulator's locks recover from poisoning
/// (`routes::lock`), so the requests after it are served as before.
pub(crate) async fn panic_guard(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use futures_util::FutureExt as _;
    let what = format!("{} {}", req.method(), req.uri().path());
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => reply(Err(ControlError {
            status: 500,
            message: format!(
                "the emulator failed on {what} (a bug; the panic is on its stderr); it keeps serving"
            ),
        })),
    }
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
            json!({"error": {"code": match e.status { 404 => "NotFound", 409 => "Conflict", 500 => "InternalServerError", _ => "BadRequest" }, "message": e.message}}),
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

/// [`parse_body`] for a body of numbers: a body JSON cannot read (`NaN`, `Infinity`, `1e999`)
/// gets the same message as a number out of range, `usage` naming the range.
fn parse_numbers(b: &Bytes, usage: impl Fn() -> String) -> Result<Value, ControlError> {
    parse_body(b).map_err(|e| bad(format!("{}; {}", e.message, usage())))
}

fn ctl(sh: &Arc<Shared>) -> Control {
    Control::new(sh.clone())
}

async fn h_state(State(sh): State<Arc<Shared>>) -> Response {
    reply(Ok(ctl(&sh).state()))
}

/// The collection a control path names (`contacts`, `users`, `groups`, `applications`,
/// `servicePrincipals`, `devices`, `administrativeUnits`, `directoryRoles`,
/// `oauth2PermissionGrants`).
fn coll(name: &str) -> Result<Coll, ControlError> {
    Coll::from_path(name).ok_or_else(|| ControlError {
        status: 404,
        message: format!(
            "unknown control endpoint /_emulator/{name} (objects: contacts, users, groups, \
             applications, servicePrincipals, devices, administrativeUnits, directoryRoles, \
             oauth2PermissionGrants, driveItems, messages, events, mailFolders, \
             personalContacts, todoTasks)"
        ),
    })
}

async fn h_create(
    State(sh): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(r) = item_set(&name) {
        return reply(parse_body(&body).and_then(|b| ctl(&sh).create_item(r, &b)));
    }
    reply(coll(&name).and_then(|c| parse_body(&body).and_then(|b| ctl(&sh).create(c, &b))))
}

async fn h_get(
    State(sh): State<Arc<Shared>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    if let Some(r) = item_set(&name) {
        return reply(ctl(&sh).get_item(r, &id));
    }
    reply(coll(&name).and_then(|c| ctl(&sh).get(c, &id)))
}

async fn h_update(
    State(sh): State<Arc<Shared>>,
    Path((name, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(r) = item_set(&name) {
        return reply(parse_body(&body).and_then(|b| ctl(&sh).update_item(r, &id, &b)));
    }
    reply(coll(&name).and_then(|c| parse_body(&body).and_then(|b| ctl(&sh).update(c, &id, &b))))
}

async fn h_delete(
    State(sh): State<Arc<Shared>>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = item_set(&name) {
        return reply(ctl(&sh).delete_item(r, &id));
    }
    reply(coll(&name).and_then(|c| ctl(&sh).delete(c, &id, permanent(q.as_deref()))))
}

async fn h_restore(
    State(sh): State<Arc<Shared>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    reply(coll(&name).and_then(|c| ctl(&sh).restore(c, &id)))
}

fn permanent(q: Option<&str>) -> bool {
    q.is_some_and(|q| {
        q.split('&').any(|p| {
            p.eq_ignore_ascii_case("permanent=true") || p.eq_ignore_ascii_case("permanent")
        })
    })
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

async fn h_manager(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(ctl(&sh).manager(&id))
}

async fn h_manager_set(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let manager = b
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("give {\"id\": managerId}"))?
            .to_string();
        ctl(&sh).set_manager(&id, &manager)
    }))
}

async fn h_manager_remove(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    reply(ctl(&sh).remove_manager(&id))
}

async fn h_recording(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let org = b.get("organizer").and_then(Value::as_str);
        ctl(&sh).add_recording(org)
    }))
}

async fn h_mutate(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let usage = || {
        format!(
            "give {{\"count\": n, \"groups\": m, \"users\": u}}, count in {}, groups in {}, users in {}",
            MUTATE_COUNT.describe(),
            MUTATE_GROUPS.describe(),
            MUTATE_USERS.describe()
        )
    };
    let asked = parse_numbers(&body, usage).and_then(|b| {
        let groups = match b.get("groups") {
            None => 0,
            Some(v) => MUTATE_GROUPS.from_json("groups", v).map_err(bad)?,
        };
        let users = match b.get("users") {
            None => 0,
            Some(v) => MUTATE_USERS.from_json("users", v).map_err(bad)?,
        };
        let mut others = Vec::new();
        for k in OTHER_KINDS {
            if let Some(v) = b.get(*k) {
                let n = MUTATE_OTHER.from_json(k, v).map_err(bad)?;
                if n > 0 {
                    others.push((*k, n));
                }
            }
        }
        let n = match b.get("count") {
            // Alone, a mutate call makes one change; with "groups", "users" or another kind,
            // only those.
            None => u64::from(groups == 0 && users == 0 && others.is_empty()),
            Some(v) => MUTATE_COUNT.from_json("count", v).map_err(bad)?,
        };
        Ok((n, groups, users, others))
    });
    let (n, groups, users, others) = match asked {
        Ok(a) => a,
        Err(e) => return reply(Err(e)),
    };
    // In batches, yielding between them: a large count must not hold a worker (or the
    // store) while other requests wait.
    let c = ctl(&sh);
    let mut out = json!({});
    for k in batches(n) {
        add_counts(&mut out, c.mutate(k));
        tokio::task::yield_now().await;
    }
    if groups > 0 {
        let mut g = json!({});
        for k in batches(groups) {
            add_counts(&mut g, c.mutate_groups(k));
            tokio::task::yield_now().await;
        }
        out["groups"] = g;
    }
    if users > 0 {
        let mut u = json!({});
        for k in batches(users) {
            add_counts(&mut u, c.mutate_users(k));
            tokio::task::yield_now().await;
        }
        out["users"] = u;
    }
    for (k, count) in &others {
        match c.mutate_other(k, *count) {
            Ok(v) => out[*k] = v,
            Err(e) => return reply(Err(e)),
        }
        tokio::task::yield_now().await;
    }
    if groups > 0 || users > 0 || !others.is_empty() {
        out["position"] = json!(c.position());
    }
    reply(Ok(out))
}

async fn h_faults(State(sh): State<Arc<Shared>>) -> Response {
    reply(Ok(json!({"faults": ctl(&sh).faults()})))
}

async fn h_add_faults(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    reply(parse_body(&body).and_then(|b| {
        let usage = || bad("give {\"spec\": \"throttle:2\"} or {\"specs\": [...]}");
        let mut specs: Vec<&str> = Vec::new();
        if let Some(s) = b.get("spec") {
            specs.push(s.as_str().ok_or_else(usage)?);
        }
        if let Some(a) = b.get("specs") {
            for s in a.as_array().ok_or_else(usage)? {
                specs.push(s.as_str().ok_or_else(usage)?);
            }
        }
        if specs.is_empty() {
            return Err(usage());
        }
        let c = ctl(&sh);
        c.add_faults(&specs)?;
        Ok(json!({"faults": c.faults()}))
    }))
}

async fn h_clear_faults(State(sh): State<Arc<Shared>>) -> Response {
    let c = ctl(&sh);
    c.clear_faults();
    reply(Ok(json!({"faults": c.faults()})))
}

async fn h_clock(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let usage = || {
        format!(
            "give {{\"advance_secs\": s}}, s in {}",
            CLOCK_STEP.describe()
        )
    };
    reply(parse_numbers(&body, usage).and_then(|b| {
        let v = b.get("advance_secs").ok_or_else(|| bad(usage()))?;
        let secs = CLOCK_STEP.from_json("advance_secs", v).map_err(bad)?;
        ctl(&sh).try_advance_clock(secs)
    }))
}

async fn h_churn(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let usage = || format!("give {{\"per_sec\": r}}, r in {}", CHURN.describe());
    reply(parse_numbers(&body, usage).and_then(|b| {
        let v = b.get("per_sec").ok_or_else(|| bad(usage()))?;
        let r = CHURN.from_json("per_sec", v).map_err(bad)?;
        ctl(&sh).try_set_churn(r)?;
        Ok(json!({"churnPerSec": r}))
    }))
}
