//! The emulator as identity platform: just enough of `login.microsoftonline.com` to exercise every
//! sign-in flow of the explorer without a tenant, and (optionally) enforcement of the tokens it
//! issues on the Graph endpoints.
//!
//! It shares no code with `crate::auth` (the client it checks): JWT building and parsing, form
//! decoding and error bodies are its own.
//!
//! | method and path | what |
//! | --- | --- |
//! | `POST /{tenant}/oauth2/v2.0/token` | `client_credentials` (`client_secret`, or `client_assertion` RS256 JWT), `urn:ietf:params:oauth:grant-type:device_code`, `refresh_token` |
//! | `POST /{tenant}/oauth2/v2.0/devicecode` | starts a device-code sign-in (`client_id`, `scope`) |
//! | `GET /_emulator/devicecode` | pending device-code sign-ins (user codes, clients, scopes) |
//! | `POST /_emulator/devicecode/approve` | `{"user_code"?: "...", "scopes"?: [...], "user"?: "upn"}`: the user signs in (default: the latest pending code) |
//! | `POST /_emulator/devicecode/deny` | `{"user_code"?: "..."}`: the user declines |
//! | `POST /_emulator/devicecode/slow_down` | `{"user_code"?: "...", "count": n}`: the next n polls answer `slow_down` |
//! | `POST /_emulator/devicecode/revoke` | `{"user"?: "upn"}`: the user's sign-in sessions are revoked (all users' without `user`): their refresh tokens are refused, as after `Revoke-MgUserSignInSession` or a sign-in frequency policy |
//! | `GET /_emulator/devicelogin` | the verification page (a form that approves a user code) |
//!
//! Tokens are JWT-shaped (`header.payload.signature`, base64url), HS256 with a key of this run,
//! carrying `aud`, `iss`, `tid`, `appid`, `idtyp`, `exp`/`nbf`/`iat` on the emulator clock, and
//! `roles` (app) or `scp` (delegated). Errors are AAD-shaped:
//! `{"error","error_description","error_codes","timestamp","trace_id","correlation_id","error_uri"}`.
//!
//! Without registered apps ([`IdentityConfig::apps`] empty) any client id is accepted with any
//! secret or well-formed assertion and gets the demo permissions. With apps, only they sign in,
//! secrets must match and assertions must be signed by the registered certificate (x5t checked).
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Shared;
use super::routes::{Ctx, lock, unauthorized};
use super::token::Resource;

/// Application permissions a demo client (no registered apps) gets.
pub const DEMO_ROLES: &[&str] = &[
    "OrgContact.Read.All",
    "User.Read.All",
    "GroupMember.Read.All",
    "OnlineMeetingRecording.Read.All",
    "OnlineMeetingTranscript.Read.All",
];
/// Delegated permissions a demo user consents to.
pub const DEMO_SCOPES: &[&str] = &[
    "User.Read",
    "OrgContact.Read.All",
    "User.Read.All",
    "GroupMember.Read.All",
];

const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// An app registration of the emulated tenant.
#[derive(Clone, Default)]
pub struct EmulatorApp {
    pub client_id: String,
    pub display_name: String,
    /// The client secret it signs in with, if any.
    pub secret: Option<String>,
    /// The PEM certificate whose key signs its client assertions, if any.
    pub certificate_pem: Option<String>,
    /// Application permissions granted (admin consented): the `roles` of its app-only tokens.
    pub roles: Vec<String>,
    /// Delegated permissions consented: the `scp` of its delegated tokens.
    pub delegated_scopes: Vec<String>,
}

impl fmt::Debug for EmulatorApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorApp")
            .field("client_id", &self.client_id)
            .field("display_name", &self.display_name)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("certificate", &self.certificate_pem.is_some())
            .field("roles", &self.roles)
            .field("delegated_scopes", &self.delegated_scopes)
            .finish()
    }
}

/// The identity side of the emulator.
#[derive(Clone, Debug)]
pub struct IdentityConfig {
    /// Check bearer tokens on the Graph endpoints (signature, expiry, audience, permissions).
    /// Off (the default): any bearer token is accepted.
    pub enforce: bool,
    /// Registered apps. Empty: any client signs in (demo).
    pub apps: Vec<EmulatorApp>,
    /// Lifetime of issued access tokens, on the emulator clock.
    pub access_token_lifetime: Duration,
    /// The polling interval the devicecode endpoint announces, in whole seconds (0 in fast tests).
    pub device_code_interval_secs: u64,
    /// How long a device code can be redeemed, on the emulator clock.
    pub device_code_lifetime: Duration,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            enforce: false,
            apps: Vec::new(),
            access_token_lifetime: Duration::from_secs(3599),
            device_code_interval_secs: 5,
            device_code_lifetime: Duration::from_secs(900),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum FlowStatus {
    Pending,
    Approved { scopes: Vec<String>, user: String },
    Denied,
    Redeemed,
}

#[derive(Debug)]
struct DeviceFlow {
    user_code: String,
    client_id: String,
    scopes: Vec<String>,
    resource: String,
    expires_at: DateTime<Utc>,
    last_poll: Option<Instant>,
    forced_slow_down: u32,
    status: FlowStatus,
    created: u64,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    client_id: String,
    scopes: Vec<String>,
    resource: String,
    user: String,
}

/// Sign-in state of a running emulator.
#[derive(Default)]
pub(crate) struct IdentityState {
    flows: Mutex<HashMap<String, DeviceFlow>>,
    refresh: Mutex<HashMap<String, RefreshGrant>>,
    counter: std::sync::atomic::AtomicU64,
}

/// An AAD-shaped error.
struct AadError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

fn aad(
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: impl Into<String>,
) -> AadError {
    AadError {
        status,
        error,
        code,
        description: description.into(),
    }
}

impl AadError {
    fn into_response(self, now: DateTime<Utc>) -> Response {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let ts = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        json_response(self.status, &body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store, no-cache"),
        ],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(h_token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(h_devicecode))
        .route("/_emulator/devicecode", get(h_list))
        .route("/_emulator/devicecode/approve", post(h_approve))
        .route("/_emulator/devicecode/deny", post(h_deny))
        .route("/_emulator/devicecode/slow_down", post(h_slow_down))
        .route("/_emulator/devicecode/revoke", post(h_revoke))
        .route(
            "/_emulator/devicelogin",
            get(h_login_page).post(h_login_form),
        )
}

// ----- helpers -----------------------------------------------------------------------------

fn form(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn origin(sh: &Shared, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| sh.local_addr.to_string());
    format!("http://{host}")
}

fn tenant_id(sh: &Shared) -> String {
    lock(&sh.store).tenant_id.clone()
}

/// The tenant segment must name this tenant: its id, or a domain (any name with a dot), or (for
/// delegated flows) `organizations` / `common`.
fn check_tenant(sh: &Shared, tenant: &str, delegated: bool) -> Result<(), AadError> {
    let ok = tenant.eq_ignore_ascii_case(&tenant_id(sh))
        || (tenant.contains('.') && !tenant.starts_with('.'))
        || (delegated
            && (tenant.eq_ignore_ascii_case("organizations")
                || tenant.eq_ignore_ascii_case("common")));
    if ok {
        Ok(())
    } else if tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("organizations")
    {
        Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700016,
            format!(
                "The client credentials flow needs a tenant: '{tenant}' cannot be used. Use the tenant id or domain."
            ),
        ))
    } else {
        Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ))
    }
}

fn find_app<'a>(sh: &'a Shared, client_id: &str) -> Result<Option<&'a EmulatorApp>, AadError> {
    let apps = &sh.config.identity.apps;
    if apps.is_empty() {
        return Ok(None);
    }
    apps.iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
        .map(Some)
        .ok_or_else(|| {
            aad(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant.", tenant_id(sh)),
            )
        })
}

fn required<'a>(f: &'a HashMap<String, String>, name: &str) -> Result<&'a str, AadError> {
    f.get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            aad(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                format!("The request body must contain the following parameter: '{name}'."),
            )
        })
}

/// Splits a scope list into (resource, permissions). `https://graph.microsoft.com/X` → X;
/// bare names belong to Graph; OIDC scopes are dropped from the permissions.
fn split_scopes(scope: &str) -> (Option<String>, Vec<String>) {
    let mut resource = None;
    let mut perms = Vec::new();
    for s in scope.split_whitespace() {
        if OIDC_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            continue;
        }
        match s.rfind('/') {
            Some(i) if s.contains("://") && i > s.find("://").unwrap_or(0) + 2 => {
                if resource.is_none() {
                    resource = Some(s[..i].to_string());
                }
                perms.push(s[i + 1..].to_string());
            }
            _ => perms.push(s.to_string()),
        }
    }
    (resource, perms)
}

fn hmac_key(sh: &Shared) -> aws_lc_rs::hmac::Key {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&sh.key.to_le_bytes());
    k[8..16].copy_from_slice(&sh.instance.to_le_bytes());
    k[16..].copy_from_slice(b"deltascope-idp!!");
    aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &k)
}

struct Grant<'a> {
    client_id: &'a str,
    app_name: &'a str,
    resource: &'a str,
    roles: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    user: Option<&'a str>,
}

fn issue(sh: &Shared, g: &Grant<'_>) -> (String, i64) {
    let now = sh.clock.now().timestamp();
    let lifetime = sh.config.identity.access_token_lifetime.as_secs() as i64;
    let tid = tenant_id(sh);
    let mut claims = json!({
        "aud": g.resource,
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "tid": tid,
        "appid": g.client_id,
        "app_displayname": g.app_name,
        "appidacr": "1",
        "ver": "1.0",
        "uti": uuid::Uuid::new_v4().to_string(),
        "xms_emulator": "deltascope",
    });
    if let Value::Object(m) = &mut claims {
        match (&g.roles, &g.scopes) {
            (Some(roles), _) => {
                m.insert("idtyp".into(), json!("app"));
                m.insert("roles".into(), json!(roles));
                m.insert("oid".into(), json!(client_oid(g.client_id)));
                m.insert("sub".into(), json!(client_oid(g.client_id)));
            }
            (None, scopes) => {
                let user = g.user.unwrap_or("adele.vance@contoso.example");
                m.insert("idtyp".into(), json!("user"));
                m.insert(
                    "scp".into(),
                    json!(scopes.clone().unwrap_or_default().join(" ")),
                );
                m.insert("upn".into(), json!(user));
                m.insert("unique_name".into(), json!(user));
                m.insert("name".into(), json!(display_name(user)));
                m.insert("oid".into(), json!(client_oid(user)));
                m.insert("sub".into(), json!(client_oid(user)));
            }
        }
    }
    let header = B64.encode(br#"{"typ":"JWT","alg":"HS256","kid":"deltascope-emulator"}"#);
    let payload = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let tag = aws_lc_rs::hmac::sign(&hmac_key(sh), signing_input.as_bytes());
    (
        format!("{signing_input}.{}", B64.encode(tag.as_ref())),
        lifetime,
    )
}

fn client_oid(seed: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let b = d.as_ref();
    let hex: String = b[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn display_name(upn: &str) -> String {
    upn.split('@')
        .next()
        .unwrap_or(upn)
        .split('.')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn token_reply(access: &str, lifetime: i64, refresh: Option<&str>, scope: &str) -> Response {
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    });
    if let Value::Object(m) = &mut body {
        if !scope.is_empty() {
            m.insert("scope".into(), json!(scope));
        }
        if let Some(r) = refresh {
            m.insert("refresh_token".into(), json!(r));
        }
    }
    json_response(StatusCode::OK, &body)
}

// ----- /token ------------------------------------------------------------------------------

async fn h_token(
    State(sh): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sh.clock.now();
    let f = form(&body);
    let endpoint = format!("{}/{tenant}/oauth2/v2.0/token", origin(&sh, &headers));
    let r = match f.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials(&sh, &tenant, &endpoint, &f),
        Some(DEVICE_GRANT) => device_code_grant(&sh, &tenant, &f),
        Some("refresh_token") => refresh_grant(&sh, &tenant, &f),
        Some(other) => Err(aad(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
        None => Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
    };
    r.unwrap_or_else(|e| e.into_response(now))
}

fn client_credentials(
    sh: &Shared,
    tenant: &str,
    endpoint: &str,
    f: &HashMap<String, String>,
) -> Result<Response, AadError> {
    check_tenant(sh, tenant, false)?;
    let client_id = required(f, "client_id")?;
    let scope = required(f, "scope")?;
    let app = find_app(sh, client_id)?;
    // The scope must be exactly one `{resource}/.default`.
    let resource = match scope.trim().strip_suffix("/.default") {
        Some(r) if !r.is_empty() && !r.contains(' ') => r.to_string(),
        _ => {
            return Err(aad(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        }
    };
    match (f.get("client_secret"), f.get("client_assertion")) {
        (Some(secret), None) => {
            if let Some(app) = app {
                let ok = app
                    .secret
                    .as_deref()
                    .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes()));
                if !ok {
                    return Err(aad(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000215,
                        format!(
                            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                            app.client_id
                        ),
                    ));
                }
            } else if secret.is_empty() {
                return Err(aad(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided.",
                ));
            }
        }
        (None, Some(assertion)) => {
            if f.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                return Err(aad(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    700022,
                    format!(
                        "The provided value for the input parameter 'client_assertion_type' is not valid. Expected '{ASSERTION_TYPE}'."
                    ),
                ));
            }
            check_assertion(assertion, client_id, endpoint, app)?;
        }
        (Some(_), Some(_)) => {
            return Err(aad(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90014,
                "Send either client_secret or client_assertion, not both.",
            ));
        }
        (None, None) => {
            return Err(aad(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
    }
    let roles: Vec<String> = match app {
        Some(a) => a.roles.clone(),
        None => DEMO_ROLES.iter().map(|s| s.to_string()).collect(),
    };
    let name = app
        .map(|a| a.display_name.clone())
        .unwrap_or_else(|| "deltascope demo app".into());
    let (tok, lifetime) = issue(
        sh,
        &Grant {
            client_id,
            app_name: &name,
            resource: &resource,
            roles: Some(roles),
            scopes: None,
            user: None,
        },
    );
    Ok(token_reply(&tok, lifetime, None, ""))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bad_assertion(code: u32, description: impl Into<String>) -> AadError {
    aad(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        code,
        description,
    )
}

/// Checks a client assertion: shape, `alg` RS256, `aud` = this token endpoint, `iss` = `sub` =
/// client id, `exp`/`nbf` (real time, 5 min skew), a `jti`, and, for a registered app with a
/// certificate, the `x5t` thumbprint and the RS256 signature.
fn check_assertion(
    assertion: &str,
    client_id: &str,
    endpoint: &str,
    app: Option<&EmulatorApp>,
) -> Result<(), AadError> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(bad_assertion(
            50027,
            "Invalid JWT token. The token is not in a valid format (expected header.payload.signature).",
        ));
    };
    let decode = |x: &str| -> Result<Value, AadError> {
        let bytes = B64
            .decode(x.trim_end_matches('='))
            .map_err(|_| bad_assertion(50027, "Invalid JWT token: a part is not base64url."))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| bad_assertion(50027, "Invalid JWT token: a part is not JSON."))
    };
    let header = decode(h)?;
    let claims = decode(p)?;
    if header["alg"].as_str() != Some("RS256") && header["alg"].as_str() != Some("PS256") {
        return Err(bad_assertion(
            5002738,
            "The client assertion must be signed with RS256 (or PS256).",
        ));
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a.eq_ignore_ascii_case(endpoint),
        Value::Array(v) => v
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(endpoint))),
        _ => false,
    };
    if !aud_ok {
        return Err(bad_assertion(
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{}'. The audience must be the token endpoint {endpoint}.",
                claims["aud"].as_str().unwrap_or("")
            ),
        ));
    }
    if claims["iss"].as_str() != Some(client_id) || claims["sub"].as_str() != Some(client_id) {
        return Err(bad_assertion(
            700023,
            "Client assertion audience claim does not match Realm issuer: iss and sub must be the client id.",
        ));
    }
    let now = Utc::now().timestamp();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    // The claims are the client's: saturate rather than overflow on an absurd exp.
    if exp.saturating_add(300) < now {
        return Err(bad_assertion(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    if claims["nbf"].as_i64().is_some_and(|n| n > now + 300) {
        return Err(bad_assertion(
            700024,
            "Client assertion is not within its valid time range (nbf is in the future).",
        ));
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(bad_assertion(
            700025,
            "Client assertion is missing the jti claim.",
        ));
    }
    let Some(app) = app else { return Ok(()) };
    let Some(pem) = &app.certificate_pem else {
        return Err(bad_assertion(
            700027,
            format!(
                "Client assertion failed signature validation: no certificate is registered for app '{}'.",
                app.client_id
            ),
        ));
    };
    let der = pem_certificate(pem).ok_or_else(|| {
        bad_assertion(
            700027,
            "The registered certificate of this app cannot be read.",
        )
    })?;
    let thumb = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let thumb256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let x5t_ok = header["x5t"].as_str() == Some(&B64.encode(thumb.as_ref()))
        || header["x5t#S256"].as_str() == Some(&B64.encode(thumb256.as_ref()));
    if !x5t_ok {
        return Err(bad_assertion(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{}']",
                header["x5t"].as_str().unwrap_or("")
            ),
        ));
    }
    let sig = B64
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad_assertion(50027, "Invalid JWT token: the signature is not base64url."))?;
    let cert_der = rustls_pki_types::CertificateDer::from(der);
    let cert = webpki::EndEntityCert::try_from(&cert_der).map_err(|_| {
        bad_assertion(
            700027,
            "The registered certificate of this app cannot be parsed.",
        )
    })?;
    let alg = if header["alg"].as_str() == Some("PS256") {
        webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY
    } else {
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256
    };
    cert.verify_signature(alg, format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| {
            bad_assertion(
                700027,
                "Client assertion failed signature validation. [Reason - The signature does not match the registered certificate's key.]",
            )
        })
}

/// The first certificate of a PEM text (DER bytes), decoded here without the client's helpers.
fn pem_certificate(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

// ----- device code -------------------------------------------------------------------------

async fn h_devicecode(
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
fn user_code(n: u64) -> String {
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

fn device_code_grant(
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

fn refresh_grant(
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

// ----- device-code control -----------------------------------------------------------------

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

async fn h_list(State(sh): State<Arc<Shared>>) -> Response {
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

async fn h_approve(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    if !b.is_object() {
        return ctl_error(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    }
    approve(&sh, &b)
}

async fn h_deny(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
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

async fn h_revoke(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    let user = b["user"].as_str();
    let mut grants = lock(&sh.identity.refresh);
    let before = grants.len();
    grants.retain(|_, g| user.is_some_and(|u| !g.user.eq_ignore_ascii_case(u)));
    let revoked = before - grants.len();
    json_response(StatusCode::OK, &json!({ "revoked": revoked }))
}

async fn h_slow_down(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let b = parse_json(&body);
    let n = match b.get("count") {
        None => 1,
        Some(v) => match super::limits::SLOW_DOWN_COUNT.from_json("count", v) {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            Err(m) => return ctl_error(StatusCode::BAD_REQUEST, m),
        },
    };
    match with_flow(&sh, b["user_code"].as_str(), |fl| fl.forced_slow_down = n) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(r) => *r,
    }
}

async fn h_login_page() -> Response {
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

async fn h_login_form(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
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

// ----- enforcement on the Graph endpoints --------------------------------------------------

/// Checks a bearer token against a resource when enforcement is on. `origin` is the
/// `http://host:port` the request reached.
pub(crate) fn enforce(
    sh: &Shared,
    ctx: &Ctx,
    origin: &str,
    bearer: &str,
    resource: Resource,
) -> Result<(), Box<Response>> {
    let parts: Vec<&str> = bearer.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(Box::new(unauthorized(
            ctx,
            "IDX14100: JWT is not well formed, there are no dots (.).",
        )));
    };
    let signing_input = format!("{h}.{p}");
    let sig = B64.decode(s).unwrap_or_default();
    if aws_lc_rs::hmac::verify(&hmac_key(sh), signing_input.as_bytes(), &sig).is_err() {
        return Err(Box::new(unauthorized(
            ctx,
            "Invalid signature: the token was not issued by this tenant's identity platform.",
        )));
    }
    let claims: Value = B64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let now = ctx.now.timestamp();
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err(Box::new(unauthorized(
            ctx,
            "Lifetime validation failed, the token is expired.",
        )));
    }
    if claims["nbf"].as_i64().is_some_and(|nbf| nbf > now + 300) {
        return Err(Box::new(unauthorized(
            ctx,
            "Lifetime validation failed, the token is not yet valid.",
        )));
    }
    let aud = claims["aud"].as_str().unwrap_or("").trim_end_matches('/');
    let local = format!("http://{}", sh.local_addr);
    if !(aud.eq_ignore_ascii_case(origin)
        || aud.eq_ignore_ascii_case(&local)
        || aud.eq_ignore_ascii_case("https://graph.microsoft.com")
        || aud == GRAPH_APP_ID)
    {
        return Err(Box::new(unauthorized(ctx, "Invalid audience.")));
    }
    let app_only = claims["idtyp"].as_str() == Some("app");
    let granted: Vec<String> = if app_only {
        claims["roles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        claims["scp"]
            .as_str()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let has = |names: &[&str]| {
        granted
            .iter()
            .any(|g| names.iter().any(|n| n.eq_ignore_ascii_case(g)))
    };
    let denied = |code: &str, msg: &str| Err(Box::new(ctx.error(StatusCode::FORBIDDEN, code, msg)));
    match resource {
        Resource::Recordings | Resource::Transcripts => {
            let perm = if resource == Resource::Recordings {
                "OnlineMeetingRecording.Read.All"
            } else {
                "OnlineMeetingTranscript.Read.All"
            };
            if !app_only {
                return denied(
                    "Forbidden",
                    &format!(
                        "This API does not support delegated permissions; it needs the application permission {perm}."
                    ),
                );
            }
            if !has(&[perm]) {
                return denied(
                    "Forbidden",
                    &format!(
                        "The application does not have the permission {perm} required for this API."
                    ),
                );
            }
        }
        Resource::Contacts => {
            if !has(&[
                "OrgContact.Read.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ]) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
        Resource::Groups => {
            if !has(&[
                "GroupMember.Read.All",
                "Group.Read.All",
                "Directory.Read.All",
                "GroupMember.ReadWrite.All",
                "Group.ReadWrite.All",
                "Directory.ReadWrite.All",
            ]) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
        Resource::Users => {
            if !has(&[
                "User.Read.All",
                "User.ReadWrite.All",
                "User.ReadBasic.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ]) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split() {
        let (r, p) =
            split_scopes("https://graph.microsoft.us/OrgContact.Read.All offline_access openid");
        assert_eq!(r.as_deref(), Some("https://graph.microsoft.us"));
        assert_eq!(p, vec!["OrgContact.Read.All"]);
        let (r, p) = split_scopes("http://127.0.0.1:9/.default");
        assert_eq!(r.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(p, vec![".default"]);
        let (r, p) = split_scopes("User.Read");
        assert_eq!(r, None);
        assert_eq!(p, vec!["User.Read"]);
    }

    #[test]
    fn user_codes_look_like_aad() {
        let c = user_code(3);
        assert_eq!(c.len(), 9);
        assert!(
            c.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn app_debug_hides_the_secret() {
        let a = EmulatorApp {
            client_id: "c".into(),
            secret: Some("s3cr3t-value".into()),
            ..Default::default()
        };
        assert!(!format!("{a:?}").contains("s3cr3t-value"));
    }
}
