//! The emulator as identity platform, over real HTTP with plain reqwest (no `deltascope::auth`
//! code): token and device-code endpoints, AAD-shaped errors, token enforcement on Graph.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use base64::Engine as _;

use deltascope::emulator::{Emulator, EmulatorApp};
use serde_json::{Value, json};
use support::identity::{
    claims, client_credentials_token, device_code_token, devicecode_url, identity, post_form,
    start_with_identity, token_url,
};

const SECRET: &str = "emulator-test-secret-Qw8~xyz";

fn apps() -> Vec<EmulatorApp> {
    vec![
        EmulatorApp {
            client_id: "11111111-1111-1111-1111-111111111111".into(),
            display_name: "recordings reader".into(),
            secret: Some(SECRET.into()),
            roles: vec!["OnlineMeetingRecording.Read.All".into()],
            delegated_scopes: vec!["OrgContact.Read.All".into()],
            ..Default::default()
        },
        EmulatorApp {
            client_id: "22222222-2222-2222-2222-222222222222".into(),
            display_name: "users only".into(),
            secret: Some(SECRET.into()),
            roles: vec!["User.Read.All".into()],
            delegated_scopes: vec!["User.Read".into()],
            ..Default::default()
        },
    ]
}

async fn start(enforce: bool) -> (Emulator, String, reqwest::Client) {
    let emu = start_with_identity(identity(enforce, apps())).await;
    let base = emu.base_url();
    (emu, base, reqwest::Client::new())
}

/// A device code of the recordings reader for User.Read: the device-code endpoint's answer.
async fn user_read_device_code(emu: &Emulator, http: &reqwest::Client) -> Value {
    let (_, dc) = post_form(
        http,
        &devicecode_url(emu),
        &[
            ("client_id", "11111111-1111-1111-1111-111111111111"),
            ("scope", "User.Read"),
        ],
    )
    .await;
    dc
}

/// An app-only token of `client` (client credentials with the apps' secret).
async fn app_token(emu: &Emulator, client: &str) -> String {
    client_credentials_token(emu, client, SECRET).await
}

#[tokio::test]
async fn client_secret_grant_and_aad_errors() {
    let (emu, base, http) = start(false).await;
    let tenant = emu.demo().tenant_id;
    let tok = app_token(&emu, "11111111-1111-1111-1111-111111111111").await;
    assert_eq!(tok.split('.').count(), 3);
    let c = claims(&tok);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], tenant.as_str());
    assert_eq!(c["aud"], base.as_str());
    assert_eq!(c["appid"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(c["roles"], json!(["OnlineMeetingRecording.Read.All"]));
    assert!(c["exp"].as_i64().unwrap() > c["iat"].as_i64().unwrap());

    let url = format!("{base}/{tenant}/oauth2/v2.0/token");
    let (s, v) = post_form(
        &http,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-1111-1111-1111-111111111111"),
            ("client_secret", "wrong"),
            ("scope", &format!("{base}/.default")),
        ],
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"], json!([7000215]));
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );

    let (s, v) = post_form(
        &http,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "99999999-0000-0000-0000-000000000000"),
            ("client_secret", SECRET),
            ("scope", &format!("{base}/.default")),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "unauthorized_client");

    let (s, v) = post_form(
        &http,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-1111-1111-1111-111111111111"),
            ("client_secret", SECRET),
            ("scope", "User.Read"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "invalid_scope");

    let (s, v) = post_form(
        &http,
        &format!("{base}/nosuchtenant/oauth2/v2.0/token"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error_codes"], json!([90002]));
    emu.shutdown().await;
}

#[tokio::test]
async fn device_code_pending_approve_redeem_refresh() {
    let (emu, base, http) = start(false).await;
    let tenant = emu.demo().tenant_id;
    let client = "11111111-1111-1111-1111-111111111111";
    let (s, dc) = post_form(
        &http,
        &format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        &[
            ("client_id", client),
            (
                "scope",
                &format!("{base}/OrgContact.Read.All offline_access"),
            ),
        ],
    )
    .await;
    assert_eq!(s, 200, "{dc}");
    let user_code = dc["user_code"].as_str().unwrap().to_string();
    let device_code = dc["device_code"].as_str().unwrap().to_string();
    assert!(dc["message"].as_str().unwrap().contains(&user_code));
    assert_eq!(dc["interval"], 0);
    let token_url = format!("{base}/{tenant}/oauth2/v2.0/token");
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client),
        ("device_code", device_code.as_str()),
    ];
    let (s, v) = post_form(&http, &token_url, &poll).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    // slow_down on demand
    let r = http
        .post(format!("{base}/_emulator/devicecode/slow_down"))
        .json(&json!({"user_code": user_code, "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = post_form(&http, &token_url, &poll).await;
    assert_eq!(v["error"], "slow_down");

    let r = http
        .post(format!("{base}/_emulator/devicecode/approve"))
        .json(&json!({"user_code": user_code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, v) = post_form(&http, &token_url, &poll).await;
    assert_eq!(s, 200, "{v}");
    let c = claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["scp"], "OrgContact.Read.All");
    assert_eq!(c["aud"], base.as_str());
    let rt = v["refresh_token"].as_str().unwrap().to_string();
    // redeemed once only
    let (s, v) = post_form(&http, &token_url, &poll).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    // refresh token grant
    let (s, v) = post_form(
        &http,
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        claims(v["access_token"].as_str().unwrap())["scp"],
        "OrgContact.Read.All"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn device_code_expires_on_the_emulator_clock() {
    let (emu, _, http) = start(false).await;
    let dc = user_read_device_code(&emu, &http).await;
    emu.control().advance_clock(901.0);
    let (s, v) = post_form(
        &http,
        &token_url(&emu),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", "11111111-1111-1111-1111-111111111111"),
            ("device_code", dc["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("expired_token")));
    assert_eq!(v["error_codes"], json!([70020]));
    emu.shutdown().await;
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> (u16, Value, Option<String>) {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    let s = r.status().as_u16();
    let www = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (s, r.json().await.unwrap_or(Value::Null), www)
}

#[tokio::test]
async fn enforcement_on_graph_endpoints() {
    let (emu, base, http) = start(true).await;
    let org = emu.demo().organizers[0].clone();
    let rec = format!(
        "{base}/v1.0/users/{org}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}',startDateTime=2024-01-01T00:00:00Z)/delta"
    );
    let contacts = format!("{base}/v1.0/contacts/delta");

    // Not a JWT of this emulator: 401.
    let (s, v, www) = get(&http, &contacts, "any-bearer").await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    assert!(www.is_some());

    // App token with the recordings role: recordings OK, contacts 403.
    let rec_app = app_token(&emu, "11111111-1111-1111-1111-111111111111").await;
    assert_eq!(get(&http, &rec, &rec_app).await.0, 200);
    let (s, v, _) = get(&http, &contacts, &rec_app).await;
    assert_eq!(s, 403);
    assert_eq!(v["error"]["code"], "Authorization_RequestDenied");

    // App token without the role: recordings 403.
    let users_app = app_token(&emu, "22222222-2222-2222-2222-222222222222").await;
    let (s, v, _) = get(&http, &rec, &users_app).await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("OnlineMeetingRecording.Read.All")
    );
    assert_eq!(
        get(&http, &format!("{base}/v1.0/users/delta"), &users_app)
            .await
            .0,
        200
    );

    // Delegated token with OrgContact.Read.All: contacts OK, recordings 403.
    let user_tok = device_code_token(
        &emu,
        "11111111-1111-1111-1111-111111111111",
        "OrgContact.Read.All",
        json!({}),
    )
    .await;
    assert_eq!(get(&http, &contacts, &user_tok).await.0, 200);
    let (s, v, _) = get(&http, &rec, &user_tok).await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("delegated")
    );

    // A tampered token (claims edited, signature kept): 401.
    let mut parts: Vec<String> = rec_app.split('.').map(str::to_string).collect();
    let mut c = claims(&rec_app);
    c["roles"] = json!(["Directory.ReadWrite.All"]);
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string());
    assert_eq!(get(&http, &contacts, &parts.join(".")).await.0, 401);

    // Expired on the emulator clock: 401 with WWW-Authenticate.
    emu.control().advance_clock(3600.0);
    let (s, v, www) = get(&http, &rec, &rec_app).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    assert!(v["error"]["message"].as_str().unwrap().contains("expired"));
    assert!(www.unwrap().starts_with("Bearer"));
    emu.shutdown().await;
}

#[tokio::test]
async fn device_login_page_approves_a_code() {
    let (emu, base, http) = start(false).await;
    let dc = user_read_device_code(&emu, &http).await;
    let page = http
        .get(dc["verification_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form"));
    let r = http
        .post(format!("{base}/_emulator/devicelogin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("user_code={}", dc["user_code"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = http
        .get(format!("{base}/_emulator/devicecode"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["value"][0]["status"], "approved");
    emu.shutdown().await;
}

#[tokio::test]
async fn without_enforcement_any_bearer_is_accepted() {
    let (emu, base, http) = start(false).await;
    let _ = Duration::ZERO;
    assert_eq!(
        get(&http, &format!("{base}/v1.0/contacts/delta"), "x")
            .await
            .0,
        200
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_openid_configuration_points_at_the_emulator_and_its_token_endpoint_works() {
    // What MSAL (azure-identity, the SDKs' credentials) reads before asking for a token.
    let (emu, base, http) = start(false).await;
    let tenant = emu.demo().tenant_id;
    for segment in [
        tenant.to_string(),
        "contoso.onmicrosoft.com".into(),
        "organizations".into(),
    ] {
        let r = http
            .get(format!(
                "{base}/{segment}/v2.0/.well-known/openid-configuration"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{segment}");
        let meta: Value = r.json().await.unwrap();
        assert_eq!(
            meta["token_endpoint"],
            format!("{base}/{segment}/oauth2/v2.0/token")
        );
        assert_eq!(
            meta["device_authorization_endpoint"],
            format!("{base}/{segment}/oauth2/v2.0/devicecode")
        );
        assert_eq!(meta["issuer"], format!("{base}/{tenant}/v2.0"));
        assert!(
            meta["authorization_endpoint"]
                .as_str()
                .unwrap()
                .starts_with(&base)
        );
    }
    // The token endpoint it names answers a client-credentials grant.
    let meta: Value = http
        .get(format!(
            "{base}/{tenant}/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, tok) = post_form(
        &http,
        meta["token_endpoint"].as_str().unwrap(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-1111-1111-1111-111111111111"),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tok}");
    assert!(tok["access_token"].as_str().is_some());
    // Another tenant: the AAD error, as for the sign-ins.
    let r = http
        .get(format!(
            "{base}/not-this-tenant/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert!(err["error_codes"].is_array(), "{err}");
    emu.shutdown().await;
}
