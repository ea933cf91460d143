//! The emulator as identity platform, driven with plain reqwest (no `deltascope::auth` code):
//! starting it with registered apps, and the token requests the tests make by hand.

use base64::Engine as _;
use deltascope::emulator::{self, Emulator, EmulatorApp, EmulatorConfig, IdentityConfig};
use serde_json::Value;

/// Starts an emulator on a loopback port with `identity` as its identity platform.
pub async fn start_with_identity(identity: IdentityConfig) -> Emulator {
    emulator::start(
        EmulatorConfig {
            identity,
            ..Default::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

/// An identity platform that knows `apps`, checks tokens on Graph when `enforce` is on, and
/// lets device codes be polled without waiting (interval 0).
pub fn identity(enforce: bool, apps: Vec<EmulatorApp>) -> IdentityConfig {
    IdentityConfig {
        enforce,
        apps,
        device_code_interval_secs: 0,
        ..Default::default()
    }
}

/// The token endpoint of the emulator's demo tenant.
pub fn token_url(emu: &Emulator) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        emu.base_url(),
        emu.demo().tenant_id
    )
}

/// The device-code endpoint of the emulator's demo tenant.
pub fn devicecode_url(emu: &Emulator) -> String {
    format!(
        "{}/{}/oauth2/v2.0/devicecode",
        emu.base_url(),
        emu.demo().tenant_id
    )
}

/// POSTs `form` url-encoded to `url`: the status and the JSON answer (`Null` if none).
pub async fn post_form(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let r = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// An app-only access token of `client` (client credentials with `secret`) for the emulator's
/// Graph; fails unless the token endpoint answers 200.
pub async fn client_credentials_token(emu: &Emulator, client: &str, secret: &str) -> String {
    let base = emu.base_url();
    let (s, v) = post_form(
        &reqwest::Client::new(),
        &token_url(emu),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("scope", &format!("{base}/.default")),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

/// A delegated access token of `client` for `scope` (a Graph permission): a device code,
/// approved through the emulator's control API with `approval` as the body, then redeemed.
pub async fn device_code_token(
    emu: &Emulator,
    client: &str,
    scope: &str,
    approval: Value,
) -> String {
    let base = emu.base_url();
    let http = reqwest::Client::new();
    let (_, dc) = post_form(
        &http,
        &devicecode_url(emu),
        &[("client_id", client), ("scope", &format!("{base}/{scope}"))],
    )
    .await;
    let r = http
        .post(format!("{base}/_emulator/devicecode/approve"))
        .json(&approval)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = post_form(
        &http,
        &token_url(emu),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client),
            ("device_code", dc["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    v["access_token"].as_str().unwrap().to_owned()
}

/// The claims of a JWT (its payload decoded; the signature is not checked).
pub fn claims(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}
