//! The device-code flow: `POST /{tenant}/oauth2/v2.0/devicecode`, polling, the verification page.
use super::*;

pub(super) async fn h_devicecode(
    State(sh): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sh.clock.now();
    let f = form(&body);
    let r = (|| -> Result<Response, AadError> {
        check_tenant(&sh, &tenant, true)?;
        let client_id = required(&f, "client_id")?;
        let scope = required(&f, "scope")?;
        find_app(&sh, client_id)?;
        let (resource, perms) = split_scopes(scope);
        let n = sh
            .identity
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user_code = user_code(n);
        let device_code = format!(
            "DAQABIQEAAAB{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let lifetime = sh.config.identity.device_code_lifetime.as_secs();
        let interval = sh.config.identity.device_code_interval_secs;
        let verification_uri = format!("{}/_emulator/devicelogin", origin(&sh, &headers));
        lock(&sh.identity.flows).insert(
            device_code.clone(),
            DeviceFlow {
                user_code: user_code.clone(),
                client_id: client_id.to_string(),
                scopes: perms
                    .into_iter()
                    .chain(
                        scope
                            .split_whitespace()
                            .filter(|s| s.eq_ignore_ascii_case("offline_access"))
                            .map(str::to_string),
                    )
                    .collect(),
                resource: resource.unwrap_or_else(|| "https://graph.microsoft.com".into()),
                expires_at: now + chrono::Duration::seconds(lifetime as i64),
                last_poll: None,
                forced_slow_down: 0,
                status: FlowStatus::Pending,
                created: n,
            },
        );
        Ok(json_response(
            StatusCode::OK,
            &json!({
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": verification_uri,
                "expires_in": lifetime,
                "interval": interval,
                "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
            }),
        ))
    })();
    r.unwrap_or_else(|e| e.into_response(now))
}

/// A 9-character code like AAD's (no 0/O/1/I).
pub(super) fn user_code(n: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut x = uuid::Uuid::new_v4().as_u128() ^ (n as u128);
    (0..9)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u128) as usize] as char;
            x /= ALPHABET.len() as u128;
            c
        })
        .collect()
}

pub(super) fn device_code_grant(
    sh: &Shared,
    tenant: &str,
    f: &HashMap<String, String>,
) -> Result<Response, AadError> {
    check_tenant(sh, tenant, true)?;
    let client_id = required(f, "client_id")?;
    let device_code = required(f, "device_code")?;
    let now = sh.clock.now();
    let mut flows = lock(&sh.identity.flows);
    let Some(flow) = flows.get_mut(device_code) else {
        return Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70019,
            "Verification code expired or unknown.",
        ));
    };
    if !flow.client_id.eq_ignore_ascii_case(client_id) {
        return Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70019,
            "The device code was issued to another client.",
        ));
    }
    if now >= flow.expires_at {
        flows.remove(device_code);
        return Err(aad(
            StatusCode::BAD_REQUEST,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
        ));
    }
    let interval = Duration::from_secs(sh.config.identity.device_code_interval_secs);
    let too_fast = flow
        .last_poll
        .is_some_and(|t| t.elapsed() + Duration::from_millis(50) < interval);
    flow.last_poll = Some(Instant::now());
    if flow.forced_slow_down > 0 || (too_fast && flow.status == FlowStatus::Pending) {
        flow.forced_slow_down = flow.forced_slow_down.saturating_sub(1);
        return Err(aad(
            StatusCode::BAD_REQUEST,
            "slow_down",
            70016,
            "The client is polling too quickly: wait the announced interval (plus 5 seconds) between polls.",
        ));
    }
    match flow.status.clone() {
        FlowStatus::Pending => Err(aad(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )),
        FlowStatus::Denied => {
            flows.remove(device_code);
            Err(aad(
                StatusCode::BAD_REQUEST,
                "authorization_declined",
                70000,
                "The user declined the sign-in request.",
            ))
        }
        FlowStatus::Redeemed => Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed.",
        )),
        FlowStatus::Approved { scopes, user } => {
            flow.status = FlowStatus::Redeemed;
            let resource = flow.resource.clone();
            drop(flows);
            delegated_reply(sh, client_id, &resource, scopes, &user)
        }
    }
}

fn delegated_reply(
    sh: &Shared,
    client_id: &str,
    resource: &str,
    scopes: Vec<String>,
    user: &str,
) -> Result<Response, AadError> {
    let offline = scopes
        .iter()
        .any(|s| s.eq_ignore_ascii_case("offline_access"));
    let perms: Vec<String> = scopes
        .into_iter()
        .filter(|s| !OIDC_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)))
        .collect();
    let name = find_app(sh, client_id)?
        .map(|a| a.display_name.clone())
        .unwrap_or_else(|| "deltascope demo app".into());
    let (tok, lifetime) = issue(
        sh,
        &Grant {
            client_id,
            app_name: &name,
            resource,
            roles: None,
            scopes: Some(perms.clone()),
            user: Some(user),
        },
    );
    let refresh = offline.then(|| {
        let rt = format!(
            "0.AAAA{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut all = perms.clone();
        all.push("offline_access".into());
        lock(&sh.identity.refresh).insert(
            rt.clone(),
            RefreshGrant {
                client_id: client_id.to_string(),
                scopes: all,
                resource: resource.to_string(),
                user: user.to_string(),
            },
        );
        rt
    });
    let scope_text = perms
        .iter()
        .map(|p| format!("{}/{p}", resource.trim_end_matches('/')))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(token_reply(&tok, lifetime, refresh.as_deref(), &scope_text))
}

pub(super) fn refresh_grant(
    sh: &Shared,
    tenant: &str,
    f: &HashMap<String, String>,
) -> Result<Response, AadError> {
    check_tenant(sh, tenant, true)?;
    let client_id = required(f, "client_id")?;
    let rt = required(f, "refresh_token")?;
    let grant = lock(&sh.identity.refresh).remove(rt);
    match grant {
        Some(g) if g.client_id.eq_ignore_ascii_case(client_id) => {
            delegated_reply(sh, client_id, &g.resource, g.scopes, &g.user)
        }
        _ => Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            9002313,
            "Invalid request. The refresh token is malformed, unknown, or was already used.",
        )),
    }
}
