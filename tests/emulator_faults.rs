//! Every fault the emulator can inject, through real HTTP.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use deltascope::emulator::EmulatorConfig;
use emulator_support::{start, start_default};
use serde_json::json;

#[tokio::test]
async fn throttle_with_fractional_retry_after_then_recovers() {
    let e = start_default().await;
    e.emu.control().add_fault("throttle:2:0.5").unwrap();
    let url = e.url("/v1.0/contacts/delta");
    for _ in 0..2 {
        let r = e.get(&url).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("0.5"));
        assert_eq!(r.error_code(), "TooManyRequests");
    }
    assert_eq!(e.get(&url).await.status, 200);
}

#[tokio::test]
async fn unavailable_with_whole_retry_after() {
    let e = start_default().await;
    e.emu.control().add_fault("unavailable:1:2").unwrap();
    let r = e.get(&e.url("/v1.0/contacts/delta")).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
}

#[tokio::test]
async fn gone_gives_a_location_that_restarts_a_full_round_of_the_same_query() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let first = e
        .get(&e.url("/v1.0/contacts/delta?$select=displayName"))
        .await
        .json();
    let next = first["@odata.nextLink"].as_str().unwrap().to_string();
    ctl.add_fault("gone:1").unwrap();
    let r = e.get(&next).await;
    assert_eq!(r.status, 410);
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with(&format!("{}/v1.0/contacts/delta?$skiptoken=", e.base)));
    let full = e.round(&location, false).await;
    assert_eq!(full.items.len(), 250);
    assert!(
        full.items
            .iter()
            .all(|i| emulator_support::keys(i) == vec!["displayName", "id"])
    );
}

#[tokio::test]
async fn expired_fault_answers_sync_state_not_found_on_token_requests() {
    let e = start_default().await;
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    e.emu.control().add_fault("expired").unwrap();
    // A first request (no token) is not affected.
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
    let x = e.get(&r.delta_link).await;
    assert_eq!(x.status, 400);
    assert_eq!(x.error_code(), "syncStateNotFound");
    assert_eq!(e.get(&r.delta_link).await.status, 200);
}

#[tokio::test]
async fn unauthorized_and_forbidden() {
    let e = start_default().await;
    let ctl = e.emu.control();
    ctl.add_fault("unauthorized:1").unwrap();
    ctl.add_fault("forbidden:1").unwrap();
    let r = e.get(&e.url("/v1.0/contacts/delta")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "InvalidAuthenticationToken");
    assert!(r.header("www-authenticate").is_some());
    let r = e.get(&e.url("/v1.0/contacts/delta")).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "Authorization_RequestDenied");
    assert_eq!(
        r.json()["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
}

#[tokio::test]
async fn empty_pages_carry_a_next_link_and_lose_nothing() {
    let e = start_default().await;
    e.emu.control().add_fault("empty:2").unwrap();
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let empty = r
        .pages
        .iter()
        .filter(|p| p["value"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(empty, 2);
    assert!(r.pages[0]["@odata.nextLink"].is_string());
    assert_eq!(r.pages.len(), 5);
    let ids: HashSet<String> = r.ids().into_iter().collect();
    assert_eq!((ids.len(), r.items.len()), (250, 250));
}

#[tokio::test]
async fn duplicates_repeat_items_in_a_later_page() {
    let e = start_default().await;
    e.emu.control().add_fault("duplicate:1").unwrap();
    let r = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let ids: HashSet<String> = r.ids().into_iter().collect();
    assert_eq!(ids.len(), 250);
    assert_eq!(r.items.len(), 253);
    let first: HashSet<&str> = r.pages[0]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let second: Vec<&str> = r.pages[1]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(second[..3].iter().all(|id| first.contains(id)));
    // In a delta round too.
    let ctl = e.emu.control();
    for i in 0..5 {
        ctl.update_contact(&ctl.contact_id(i), &json!({"jobTitle": "Dup"}))
            .unwrap();
    }
    ctl.add_fault("duplicate:1").unwrap();
    let r2 = e.round(&r.delta_link, false).await;
    assert_eq!(r2.items.len(), 8);
    assert_eq!(r2.ids().into_iter().collect::<HashSet<_>>().len(), 5);
}

#[tokio::test]
async fn replay_resends_the_previous_rounds_changes() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let r1 = e.round(&e.url("/v1.0/contacts/delta"), false).await;
    let a = ctl.contact_id(1);
    let b = ctl.contact_id(2);
    ctl.update_contact(&a, &json!({"jobTitle": "A"})).unwrap();
    let r2 = e.round(&r1.delta_link, false).await;
    assert_eq!(r2.ids(), vec![a.clone()]);
    ctl.update_contact(&b, &json!({"jobTitle": "B"})).unwrap();
    ctl.add_fault("replay").unwrap();
    let r3 = e.round(&r2.delta_link, false).await;
    let mut ids = r3.ids();
    ids.sort();
    let mut want = vec![a, b.clone()];
    want.sort();
    assert_eq!(ids, want);
    // The round after continues normally.
    let r4 = e.round(&r3.delta_link, false).await;
    assert!(r4.items.is_empty());
    let _ = b;
}

#[tokio::test]
async fn shuffle_changes_the_order_not_the_content() {
    let e = start_default().await;
    let plain = e.get(&e.url("/v1.0/contacts/delta")).await.json();
    e.emu.control().add_fault("shuffle:1").unwrap();
    let shuffled = e.get(&e.url("/v1.0/contacts/delta")).await.json();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (ids(&plain), ids(&shuffled));
    assert_ne!(a, b);
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    a2.sort();
    b2.sort();
    assert_eq!(a2, b2);
}

#[tokio::test]
async fn slow_delays_the_response() {
    let e = start_default().await;
    e.emu.control().add_fault("slow:1:300").unwrap();
    let t = Instant::now();
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn malformed_and_truncated_bodies() {
    let e = start_default().await;
    e.emu.control().add_fault("malformed:1").unwrap();
    let r = e.get(&e.url("/v1.0/contacts/delta")).await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());

    e.emu.control().add_fault("truncated:1").unwrap();
    let resp = e
        .http
        .get(e.url("/v1.0/contacts/delta"))
        .header("Authorization", "Bearer t")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The headers arrive, then the body stops half-way and the connection is cut.
    assert!(resp.text().await.is_err());
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
}

#[tokio::test]
async fn foreign_link_points_to_another_origin() {
    let e = start_default().await;
    e.emu.control().add_fault("foreign-link:1").unwrap();
    let v = e.get(&e.url("/v1.0/contacts/delta")).await.json();
    let next = v["@odata.nextLink"].as_str().unwrap();
    let port = e.emu.local_addr().port();
    assert!(
        next.starts_with(&format!(
            "http://127.0.0.2:{port}/v1.0/contacts/delta?$skiptoken="
        )),
        "{next}"
    );
    let v = e.get(&e.url("/v1.0/contacts/delta")).await.json();
    assert!(v["@odata.nextLink"].as_str().unwrap().starts_with(&e.base));
}

#[tokio::test]
async fn faults_do_not_touch_control_requests_and_can_be_cleared() {
    let e = start_default().await;
    let (s, v) = e
        .post("/_emulator/faults", json!({"spec": "throttle:5"}))
        .await;
    assert_eq!(s, 200, "{v}");
    let st = e.http.get(e.url("/_emulator/state")).send().await.unwrap();
    assert_eq!(st.status(), 200);
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 429);
    let (s, _) = e.delete("/_emulator/faults").await;
    assert_eq!(s, 200);
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
    let (s, v) = e
        .post("/_emulator/faults", json!({"spec": "explode:1"}))
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown fault")
    );
    let (s, v) = e
        .post(
            "/_emulator/faults",
            json!({"specs": ["empty:1", "throttle:1:0.25"]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["faults"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn faults_from_the_configuration() {
    let e = start(EmulatorConfig {
        faults: vec!["throttle:1:0.5".into()],
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 429);
    assert_eq!(e.get(&e.url("/v1.0/contacts/delta")).await.status, 200);
    let bad = deltascope::emulator::start(
        EmulatorConfig {
            faults: vec!["nope:1".into()],
            ..EmulatorConfig::default()
        },
        emulator_support::loopback(),
    )
    .await;
    assert!(bad.is_err());
}
