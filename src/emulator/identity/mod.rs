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
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration` | the authority's OpenID metadata (what MSAL and azure-identity read first), pointing at this emulator |
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
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(h_openid_configuration),
        )
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
    sh.origin(headers.get(header::HOST).and_then(|v| v.to_str().ok()))
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

mod device_code;
mod device_control;
mod discovery;
mod enforce;
mod token;
use device_code::*;
use device_control::*;
use discovery::*;
pub(super) use enforce::*;
use token::*;

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
