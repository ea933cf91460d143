//! The device-code control API under `/_emulator/devicecode`: approve, deny, slow down, revoke.
use super::*;

fn parse_json(body: &Bytes) -> Value {
    if body.iter().all(|c| c.is_ascii_whitespace()) {
        return json!({});
    }
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn ctl_error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"error": {"code": if status == StatusCode::NOT_FOUND { "NotFound" } else { "BadRequest" }, "message": message.into()}}),
    )
}

/// Applies `f` to the flow with this user code, or to the latest pending one.
fn with_flow(
    sh: &Shared,
    user_code: Option<&str>,
    f: impl FnOnce(&mut DeviceFlow),
) -> Result<Value, Box<Response>> {
    let mut flows = lock(&sh.identity.flows);
    let flow = match user_code {
        Some(code) => flows
            .values_mut()
            .find(|fl| fl.user_code.eq_ignore_ascii_case(code.trim())),
        None => flows
            .values_mut()
            .filter(|fl| fl.status == FlowStatus::Pending)
            .max_by_key(|fl| fl.created),
    };
    let Some(flow) = flow else {
        return Err(Box::new(ctl_error(
            StatusCode::NOT_FOUND,
            "no pending device-code sign-in with that user code",
        )));
    };
    f(flow);
    Ok(
        json!({"user_code": flow.user_code, "client_id": flow.client_id, "status": status_name(&flow.status)}),
    )
}

fn status_name(s: &FlowStatus) -> &'static str {
    match s {
        FlowStatus::Pending => "pending",
        FlowStatus::Approved { .. } => "approved",
        FlowStatus::Denied => "denied",
        FlowStatus::Redeemed => "redeemed",
    }
}

pub(super) async fn h_list(State(sh): State<Arc<Shared>>) -> Response {
    let flows = lock(&sh.identity.flows);
    let mut v: Vec<&DeviceFlow> = flows.values().collect();
    v.sort_by_key(|f| f.created);
    let list: Vec<Value> = v
        .iter()
        .map(|f| json!({"user_code": f.user_code, "client_id": f.client_id, "scopes": f.scopes, "status": status_name(&f.status), "expires_at": f.expires_at.to_rfc3339()}))
        .collect();
    json_response(StatusCode::OK, &json!({ "value": list }))
}

fn approve(sh: &Shared, b: &Value) -> Response {
    let code = b["user_code"].as_str();
    let scopes: Option<Vec<String>> = b["scopes"].as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    });
    let user = b["user"]
        .as_str()
        .unwrap_or("adele.vance@contoso.example")
        .to_string();
    let apps = &sh.config.identity.apps;
    let r = with_flow(sh, code, |flow| {
        if flow.status != FlowStatus::Pending {
            return;
        }
        let granted = scopes.clone().unwrap_or_else(|| {
            let consented: Vec<String> = match apps
                .iter()
                .find(|a| a.client_id.eq_ignore_ascii_case(&flow.client_id))
            {
                Some(a) => a.delegated_scopes.clone(),
                None => DEMO_SCOPES.iter().map(|s| s.to_string()).collect(),
            };
            let asked: Vec<&String> = flow
                .scopes
                .iter()
                .filter(|s| !OIDC_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)))
                .collect();
            if asked.iter().any(|s| s.as_str() == ".default")
                || (apps.is_empty() && asked.is_empty())
            {
                consented
            } else if apps.is_empty() {
                asked.into_iter().cloned().collect()
            } else {
                asked
                    .into_iter()
                    .filter(|s| consented.iter().any(|c| c.eq_ignore_ascii_case(s)))
                    .cloned()
                    .collect()
            }
        });
        let mut granted = granted;
        if flow
            .scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case("offline_access"))
        {
            granted.push("offline_access".into());
        }
        flow.status = FlowStatus::Approved {
            scopes: granted,
            user: user.clone(),
        };
    });
    match r {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(resp) => *resp,
    }
}

pub(super) async fn h_approve(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    if !b.is_object() {
        return ctl_error(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    }
    approve(&sh, &b)
}

pub(super) async fn h_deny(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    match with_flow(&sh, b["user_code"].as_str(), |fl| {
        if fl.status == FlowStatus::Pending {
            fl.status = FlowStatus::Denied;
        }
    }) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(r) => *r,
    }
}

pub(super) async fn h_revoke(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    let user = b["user"].as_str();
    let mut grants = lock(&sh.identity.refresh);
    let before = grants.len();
    grants.retain(|_, g| user.is_some_and(|u| !g.user.eq_ignore_ascii_case(u)));
    let revoked = before - grants.len();
    json_response(StatusCode::OK, &json!({ "revoked": revoked }))
}

pub(super) async fn h_slow_down(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    let n = match b.get("count") {
        None => 1,
        Some(v) => match super::super::limits::SLOW_DOWN_COUNT.from_json("count", v) {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            Err(m) => return ctl_error(StatusCode::BAD_REQUEST, m),
        },
    };
    match with_flow(&sh, b["user_code"].as_str(), |fl| fl.forced_slow_down = n) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(r) => *r,
    }
}

pub(super) async fn h_login_page() -> Response {
    let html = "<!doctype html><html><head><title>deltascope emulator sign-in</title></head><body>\
        <h1>Sign in to the deltascope emulator</h1>\
        <p>Enter the code shown by deltascope. This approves the sign-in as the demo user.</p>\
        <form method=\"post\" action=\"/_emulator/devicelogin\">\
        <input name=\"user_code\" autofocus> <button type=\"submit\">Sign in</button></form></body></html>";
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

pub(super) async fn h_login_form(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let f = form(&body);
    let code = f.get("user_code").cloned().unwrap_or_default();
    let resp = approve(&sh, &json!({ "user_code": code }));
    if resp.status().is_success() {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            "<!doctype html><p>Signed in. You can close this page and return to deltascope.</p>",
        )
            .into_response()
    } else {
        resp
    }
}
