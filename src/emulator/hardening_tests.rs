//! The emulator under hostile input, in process: what the HTTP tests (`tests/
//! emulator_hardening.rs`) cannot reach from outside — forged state tokens, a poisoned lock, a
//! handler that panics.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use super::token::{self, Frozen, Kind, Resource, TokenState};
use super::{EmulatorConfig, start};

async fn get(url: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(url)
        .header("Authorization", "Bearer x")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

fn contacts_token(instance: u64) -> TokenState {
    TokenState {
        instance,
        query: Frozen {
            resource: Resource::Contacts,
            user: None,
            organizer: None,
            start: None,
            select: None,
            ids: vec![],
            top: None,
            members: false,
            beta: false,
            scope: None,
            end_time: None,
            change_type: None,
            types: 0,
            type_sels: Vec::new(),
        },
        kind: Kind::Initial,
        position: 0,
        end: 250,
        cursor: 0,
        previous_position: None,
        duplicate_from: None,
        issued_at: chrono::Utc::now().timestamp(),
        after: None,
        since: None,
        ends: Vec::new(),
    }
}

/// The key follows from the seed, so a token can be forged: its numbers must not steer the
/// paging loops (a round to `n = u64::MAX` walked every index up to it, holding the store)
/// nor overflow (`t = i64::MIN` made the age check overflow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_are_refused_at_once() {
    let emu = start(EmulatorConfig::default(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let (key, instance) = (emu.shared.key, emu.shared.instance);
    let url = |st: &TokenState| {
        format!(
            "{}/v1.0/contacts/delta?$skiptoken={}",
            emu.base_url(),
            token::encode(key, st)
        )
    };
    let (status, _) = get(&url(&contacts_token(instance))).await;
    assert_eq!(status, 200, "a well-formed token is served");
    let forged = [
        TokenState {
            end: u64::MAX,
            cursor: 250,
            ..contacts_token(instance)
        },
        TokenState {
            cursor: u64::MAX,
            duplicate_from: Some(0),
            ..contacts_token(instance)
        },
        TokenState {
            kind: Kind::DeltaPage,
            end: u64::MAX,
            ..contacts_token(instance)
        },
    ];
    for st in &forged {
        let (status, body) = get(&url(st)).await;
        assert_eq!(status, 400, "{st:?}: {body}");
        assert_eq!(body["error"]["message"], "Badly formed token.");
    }
    // A token of an earlier run (another instance, a tenant that had more objects) still asks
    // for a resync, as Graph does, rather than being called malformed.
    let earlier_run = TokenState {
        instance: instance ^ 1,
        position: 1_000_000,
        end: 1_000_000,
        ..contacts_token(instance)
    };
    let (status, body) = get(&url(&earlier_run)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "syncStateNotFound");
    let ancient = TokenState {
        issued_at: i64::MIN,
        ..contacts_token(instance)
    };
    let (status, body) = get(&url(&ancient)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "syncStateNotFound");
    emu.shutdown().await;
}

/// directoryObjects tokens carry each type's size and a (type, offset) cursor: forged ones must
/// not walk past a collection or index a type that is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_directory_objects_tokens_are_refused() {
    let emu = start(EmulatorConfig::default(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let (key, instance) = (emu.shared.key, emu.shared.instance);
    let url = |st: &TokenState| {
        format!(
            "{}/v1.0/directoryObjects/delta?$skiptoken={}",
            emu.base_url(),
            token::encode(key, st)
        )
    };
    let mut good = contacts_token(instance);
    good.query.resource = Resource::DirectoryObjects;
    good.query.types = 0b11; // users, groups
    good.ends = vec![50, 12];
    good.cursor = (1 << 48) | 3;
    let (status, body) = get(&url(&good)).await;
    assert_eq!(status, 200, "a well-formed token is served: {body}");
    assert!(
        body["value"].as_array().is_some_and(|v| v.len() == 9),
        "{body}"
    );
    let forged = [
        TokenState {
            ends: vec![u64::MAX, 12],
            ..good.clone()
        },
        TokenState {
            ends: vec![50],
            ..good.clone()
        },
        TokenState {
            cursor: (5 << 48) | 1,
            ..good.clone()
        },
        TokenState {
            cursor: (1 << 48) | 13,
            ..good.clone()
        },
    ];
    for st in &forged {
        let (status, body) = get(&url(st)).await;
        assert_eq!(status, 400, "{st:?}: {body}");
        assert_eq!(body["error"]["message"], "Badly formed token.");
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_poisoned_by_a_panic_fails_no_later_request() {
    let emu = start(EmulatorConfig::default(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let sh = emu.shared.clone();
    let _ = std::thread::spawn(move || {
        let _held = sh.store.lock();
        panic!("a handler failing while it holds the store (expected by this test)");
    })
    .join();
    assert!(emu.shared.store.is_poisoned());
    let (status, body) = get(&format!("{}/v1.0/contacts/delta", emu.base_url())).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&format!("{}/_emulator/state", emu.base_url())).await;
    assert_eq!(status, 200, "{body}");
    emu.shutdown().await;
}

async fn boom() -> &'static str {
    panic!("a handler bug (expected by this test)")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let app = axum::Router::new()
        .route("/boom", axum::routing::get(boom))
        .route("/fine", axum::routing::get(|| async { "{}" }))
        .layer(axum::middleware::from_fn(super::control::panic_guard));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let (status, body) = get(&format!("{base}/boom")).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], "InternalServerError");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GET /boom")
    );
    assert_eq!(get(&format!("{base}/fine")).await.0, 200);
    server.abort();
}
