//! The sign-in sources plugged into the engine's GraphClient against the emulator with token
//! enforcement on: a full round with an app-only certificate token, the 403 on recordings, and
//! after expiry a 401 cured by one refresh. No page, error or Debug output holds the token.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use deltascope::auth::{
    Authority, Cached, ClientCertificate, ClientCredential, ClientCredentials, TokenSource,
};
use deltascope::emulator::{EmulatorApp, IdentityConfig};
use deltascope::graph::client::{ClientConfig, GraphClient};
use deltascope::graph::error::GraphError;
use deltascope::graph::page::{PageRequest, RequestKind};
use deltascope::graph::query::GraphRoot;
use support::auth_fixture;
use support::identity::start_with_identity;
use tokio_util::sync::CancellationToken;

const APP: &str = "eeeeeeee-5555-4555-8555-eeeeeeeeeeee";

fn first(url: String) -> PageRequest {
    PageRequest {
        url,
        headers: vec![],
        kind: RequestKind::Initial,
    }
}

#[tokio::test]
async fn engine_round_with_a_certificate_token() {
    let emu = start_with_identity(IdentityConfig {
        enforce: true,
        apps: vec![EmulatorApp {
            client_id: APP.into(),
            display_name: "contacts reader".into(),
            certificate_pem: Some(std::fs::read_to_string(auth_fixture("app-cert.pem")).unwrap()),
            roles: vec!["OrgContact.Read.All".into()],
            ..Default::default()
        }],
        ..Default::default()
    })
    .await;
    let base = emu.base_url();
    let source = Arc::new(Cached::new(
        ClientCredentials::new(
            Authority::custom(&base, &emu.demo().tenant_id).unwrap(),
            APP,
            ClientCredential::Certificate(
                ClientCertificate::load(&auth_fixture("app-combined.pem"), None).unwrap(),
            ),
            &base,
        )
        .unwrap(),
    ));
    let token = source.token().await.unwrap();
    let client = GraphClient::new(
        GraphRoot::parse(&base).unwrap(),
        source.clone(),
        ClientConfig::default(),
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let mut req = first(format!("{base}/v1.0/contacts/delta"));
    let mut items = 0;
    let mut outputs = Vec::new();
    loop {
        let page = client.fetch(&req, &cancel, &|_| {}).await.unwrap();
        assert_eq!(page.status, 200);
        items += page.items.len();
        assert!(
            page.request_headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "Bearer ***")
        );
        outputs.push(format!("{page:?}"));
        match page.next_link.clone() {
            Some(n) => {
                req = PageRequest {
                    url: n,
                    headers: vec![],
                    kind: RequestKind::Next,
                }
            }
            None => {
                assert!(page.delta_link.is_some());
                break;
            }
        }
    }
    assert_eq!(items, 250);

    // Recordings need OnlineMeetingRecording.Read.All: a 403 the engine reports.
    let org = emu.demo().organizers[0].clone();
    let err = client
        .fetch(
            &first(format!("{base}/v1.0/users/{org}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}',startDateTime=2024-01-01T00:00:00Z)/delta")),
            &cancel,
            &|_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Http { status: 403, .. }),
        "{err:?}"
    );
    outputs.push(err.to_string());
    outputs.push(format!("{err:?}"));
    outputs.push(err.hint().unwrap_or_default());

    // An hour later on the emulator's clock the token has expired: the engine gets a 401, asks
    // the source for a fresh token once and retries by itself.
    emu.control().advance_clock(3600.0);
    let contacts = first(format!("{base}/v1.0/contacts/delta"));
    let page = client
        .fetch(&contacts, &cancel, &|_| {})
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    assert_eq!(page.status, 200);
    let fresh = source.token().await.unwrap();
    assert_ne!(fresh, token);
    outputs.push(format!("{source:?}"));
    for o in &outputs {
        assert!(
            !o.contains(token.secret()) && !o.contains(fresh.secret()),
            "token leaked: {o}"
        );
        assert!(!o.contains("eyJ"), "something JWT-shaped leaked: {o}");
    }
    emu.shutdown().await;
}
