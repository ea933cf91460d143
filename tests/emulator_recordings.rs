//! callRecording / callTranscript delta against the emulator, in the seed's link form.
#![allow(clippy::unwrap_used)]

mod emulator_support;

use base64::Engine as _;
use emulator_support::{Emu, start_default};
use serde_json::json;

fn recordings_path(e: &Emu, org: &str, extra: &str) -> String {
    e.url(&format!(
        "/v1.0/users/{org}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}')/delta{extra}"
    ))
}

/// The seed's nextLink/deltaLink prefix: `users({userId})` and `skipToken=` in both.
fn seed_prefix(e: &Emu, org: &str) -> String {
    format!(
        "{}/v1.0/users({org})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}')/delta?skipToken=",
        e.base
    )
}

#[tokio::test]
async fn links_follow_the_seed_form_with_count_on_every_page() {
    let e = start_default().await;
    let org = e.emu.demo().organizers[0].clone();
    let tenant = e.emu.demo().tenant_id;
    let r = e.round(&recordings_path(&e, &org, "?$top=5"), false).await;
    // 40 recordings over 3 organizers: the first has 14 → pages of 5, 5, 4.
    assert_eq!(r.pages.len(), 3);
    assert_eq!(r.items.len(), 14);
    let prefix = seed_prefix(&e, &org);
    for (i, p) in r.pages.iter().enumerate() {
        assert_eq!(p["@odata.count"], p["value"].as_array().unwrap().len());
        assert_eq!(
            p["@odata.context"],
            format!("{}/v1.0/$metadata#Collection(callRecording)", e.base)
        );
        let link = if i < 2 {
            p["@odata.nextLink"].as_str().unwrap()
        } else {
            p["@odata.deltaLink"].as_str().unwrap()
        };
        assert!(link.starts_with(&prefix), "{link}");
        assert!(!link.contains("$top"));
    }
    let rec = &r.items[0];
    assert_eq!(rec["@odata.type"], "#microsoft.graph.callRecording");
    let id = base64::engine::general_purpose::STANDARD
        .decode(rec["id"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8(id).unwrap().starts_with("V2##"));
    let meeting = base64::engine::general_purpose::STANDARD
        .decode(rec["meetingId"].as_str().unwrap())
        .unwrap();
    let meeting = String::from_utf8(meeting).unwrap();
    assert!(
        meeting.starts_with(&format!("1*{org}*0**19:meeting_")) && meeting.ends_with("@thread.v2")
    );
    assert!(
        rec["recordingContentUrl"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/v1.0/users/{org}/onlineMeetings/", e.base))
    );
    assert!(
        rec["recordingContentUrl"]
            .as_str()
            .unwrap()
            .ends_with("/content")
    );
    assert!(rec["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(uuid::Uuid::parse_str(rec["callId"].as_str().unwrap()).is_ok());
    assert!(rec["contentCorrelationId"].is_string());
    assert_eq!(
        rec["meetingOrganizer"],
        json!({
            "application": null,
            "device": null,
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": org,
                "displayName": null,
                "userIdentityType": "aadUser",
                "tenantId": tenant,
            }
        })
    );
}

#[tokio::test]
async fn default_page_size_is_ten_and_start_date_is_kept_in_links() {
    let e = start_default().await;
    let org = e.emu.demo().organizers[1].clone();
    let r = e.round(&recordings_path(&e, &org, ""), false).await;
    assert_eq!(r.pages[0]["value"].as_array().unwrap().len(), 10);
    assert_eq!(r.items.len(), 13);
    // startDateTime (quotes percent-encoded, users({id}) form, delta() suffix).
    let url = e.url(&format!(
        "/beta/users({org})/onlineMeetings/getAllRecordings(meetingOrganizerUserId=%27{org}%27,startDateTime=2099-01-01T00:00:00Z)/delta()"
    ));
    let v = e.get(&url).await;
    assert_eq!(v.status, 200, "{}", v.text);
    let v = v.json();
    assert_eq!(v["@odata.count"], 0);
    assert_eq!(v["value"], json!([]));
    let dl = v["@odata.deltaLink"].as_str().unwrap();
    assert_eq!(
        dl.split("?skipToken=").next().unwrap(),
        format!(
            "{}/beta/users({org})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}',startDateTime=2099-01-01T00:00:00Z)/delta",
            e.base
        )
    );
}

#[tokio::test]
async fn missing_organizer_is_a_400() {
    let e = start_default().await;
    let org = e.emu.demo().organizers[0].clone();
    for path in [
        format!("/v1.0/users/{org}/onlineMeetings/getAllRecordings/delta"),
        format!("/v1.0/users/{org}/onlineMeetings/getAllRecordings()/delta"),
        format!(
            "/v1.0/users/{org}/onlineMeetings/getAllRecordings(startDateTime=2024-01-01T00:00:00Z)/delta"
        ),
    ] {
        let r = e.get(&e.url(&path)).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(r.text.contains("meetingOrganizerUserId"));
        assert!(r.json()["error"]["innerError"]["request-id"].is_string());
    }
    let r = e
        .get(&e.url(&format!(
            "/v1.0/users/{org}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}',startDateTime=yesterday)/delta"
        )))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn a_new_recording_appears_in_the_next_round_only() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let org = e.emu.demo().organizers[0].clone();
    let other = e.emu.demo().organizers[2].clone();
    let r = e.round(&recordings_path(&e, &org, "?$top=5"), false).await;
    let added = ctl.add_recording(Some(&org)).unwrap();
    ctl.add_recording(Some(&other)).unwrap();
    let r2 = e.round(&r.delta_link, false).await;
    assert_eq!(r2.items.len(), 1);
    assert_eq!(r2.items[0]["id"], added["id"]);
    assert!(r2.delta_link.starts_with(&seed_prefix(&e, &org)));
    let r3 = e.round(&r2.delta_link, false).await;
    assert!(r3.items.is_empty());
    assert_eq!(r3.pages[0]["@odata.count"], 0);
    // Over HTTP.
    let (s, rec) = e
        .post("/_emulator/recordings", json!({"organizer": org}))
        .await;
    assert_eq!(s, 200, "{rec}");
    let r4 = e.round(&r3.delta_link, false).await;
    assert_eq!(r4.ids(), vec![rec["id"].as_str().unwrap().to_string()]);
    let (s, _) = e
        .post(
            "/_emulator/recordings",
            json!({"organizer": "not-an-organizer"}),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn transcripts_use_the_same_machinery() {
    let e = start_default().await;
    let org = e.emu.demo().organizers[0].clone();
    let url = e.url(&format!(
        "/v1.0/users/{org}/onlineMeetings/microsoft.graph.getAllTranscripts(meetingOrganizerUserId='{org}')/microsoft.graph.delta"
    ));
    let r = e.round(&url, false).await;
    assert_eq!(r.items.len(), 14);
    assert_eq!(r.items[0]["@odata.type"], "#microsoft.graph.callTranscript");
    assert!(
        r.items[0]["transcriptContentUrl"]
            .as_str()
            .unwrap()
            .ends_with("/content")
    );
    assert!(r.delta_link.contains(&format!(
        "/v1.0/users({org})/onlineMeetings/getAllTranscripts(meetingOrganizerUserId='{org}')/delta?skipToken="
    )));
    assert_eq!(
        r.pages[0]["@odata.context"],
        format!("{}/v1.0/$metadata#Collection(callTranscript)", e.base)
    );
}

#[tokio::test]
async fn drop_next_link_loses_the_last_page_with_top() {
    let e = start_default().await;
    let ctl = e.emu.control();
    let org = e.emu.demo().organizers[0].clone();
    ctl.add_fault("drop-next-link").unwrap();
    let r = e.round(&recordings_path(&e, &org, "?$top=5"), false).await;
    // Pages of 5, 5, 4: the second page ends the round early.
    assert_eq!(r.pages.len(), 2);
    assert_eq!(r.items.len(), 10);
    assert!(r.pages[1].get("@odata.nextLink").is_none());
    // Without $top the known issue does not apply.
    let r = e.round(&recordings_path(&e, &org, ""), false).await;
    assert_eq!(r.items.len(), 14);
}

#[tokio::test]
async fn an_unknown_organizer_has_no_recordings() {
    let e = start_default().await;
    let nobody = "00000000-0000-4000-8000-000000000000";
    let r = e.round(&recordings_path(&e, nobody, ""), false).await;
    assert!(r.items.is_empty());
}

#[tokio::test]
async fn beta_recordings_and_transcripts_carry_meeting_organizer_id() {
    // The beta callRecording and callTranscript resource pages (and the beta delta example)
    // show meetingOrganizerId; v1.0 has no such property.
    let e = start_default().await;
    let org = e.emu.demo().organizers[0].clone();
    for (fun, kind) in [
        ("getAllRecordings", "callRecording"),
        ("getAllTranscripts", "callTranscript"),
    ] {
        for version in ["v1.0", "beta"] {
            let url = e.url(&format!(
                "/{version}/users/{org}/onlineMeetings/{fun}(meetingOrganizerUserId='{org}')/delta"
            ));
            let r = e.round(&url, false).await;
            assert_eq!(r.items.len(), 14, "{version} {kind}");
            assert_eq!(
                r.pages[0]["@odata.context"],
                format!("{}/{version}/$metadata#Collection({kind})", e.base)
            );
            for item in &r.items {
                assert_eq!(item["@odata.type"], format!("#microsoft.graph.{kind}"));
                assert_eq!(item["meetingOrganizer"]["user"]["id"], org.as_str());
                if version == "beta" {
                    assert_eq!(item["meetingOrganizerId"], org.as_str(), "{item}");
                } else {
                    assert!(item.get("meetingOrganizerId").is_none(), "{item}");
                }
            }
            assert!(r.delta_link.starts_with(&format!("{}/{version}/", e.base)));
        }
    }
}
