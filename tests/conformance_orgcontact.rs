//! The orgContact delta seed (Japanese reference page, examples 1 to 3) reproduced against the
//! emulator through the engine: the default property set, three selected properties with the
//! default behaviour (every selected property with a value comes back, a change to null as
//! null), and the same with `Prefer: return=minimal` (only what changed).
#![allow(clippy::unwrap_used)]

mod support;

use deltascope::emulator::{Emulator, EmulatorConfig, start};
use deltascope::graph::catalog::Catalog;
use deltascope::graph::client::{ClientConfig, GraphClient};
use deltascope::graph::page::Page;
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::Session;
use serde_json::{Value, json};
use support::engine::static_token_client;
use tokio_util::sync::CancellationToken;

struct Fixture {
    emu: Emulator,
    client: GraphClient,
    root: GraphRoot,
    http: reqwest::Client,
}

async fn fixture(contacts: usize) -> Fixture {
    let emu = start(
        EmulatorConfig {
            contacts,
            ..Default::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "conformance", ClientConfig::default());
    Fixture {
        emu,
        client,
        root,
        http: reqwest::Client::new(),
    }
}

impl Fixture {
    /// Walks one round; returns its pages.
    async fn round(&self, session: &mut Session) -> Vec<Page> {
        let cancel = CancellationToken::new();
        let mut pages = Vec::new();
        loop {
            let req = session.next_request().unwrap();
            let page = self.client.fetch(&req, &cancel, &|_| {}).await.unwrap();
            let done = session.apply(&page).round_complete;
            pages.push(page);
            if done {
                return pages;
            }
        }
    }

    async fn patch(&self, id: &str, body: Value) {
        let resp = self
            .http
            .patch(format!("{}/_emulator/contacts/{id}", self.emu.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }
}

fn items(pages: &[Page]) -> Vec<serde_json::Map<String, Value>> {
    pages
        .iter()
        .flat_map(|p| {
            (0..p.items.len()).map(move |i| serde_json::from_str(p.item_json(i)).unwrap())
        })
        .collect()
}

fn query(select: &[&str], minimal: bool) -> DeltaQuery {
    DeltaQuery {
        resource: "contacts".into(),
        api: ApiVersion::Beta,
        params: Default::default(),
        select: select.iter().map(|s| s.to_string()).collect(),
        ids: vec![],
        minimal,
        top: None,
        latest: false,
        ..DeltaQuery::default()
    }
}

const DEFAULTS: [&str; 9] = [
    "companyName",
    "department",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mailNickname",
    "surname",
];

#[tokio::test]
async fn example_1_default_properties_and_link_forms() {
    let f = fixture(250).await;
    let first = query(&[], false)
        .first_request(Catalog::builtin(), &f.root)
        .unwrap();
    assert_eq!(
        first.url,
        format!("{}/beta/contacts/delta", f.emu.base_url())
    );
    let mut session = Session::new(first);
    let pages = f.round(&mut session).await;
    assert!(pages.len() > 1, "250 contacts span pages");
    for page in &pages[..pages.len() - 1] {
        let next = page.next_link.as_deref().unwrap();
        assert!(
            next.starts_with(&format!(
                "{}/beta/contacts/delta?$skiptoken=",
                f.emu.base_url()
            )),
            "{next}"
        );
        assert!(page.delta_link.is_none());
        assert!(
            page.context
                .as_deref()
                .unwrap()
                .ends_with("/beta/$metadata#contacts")
        );
    }
    let last = pages.last().unwrap();
    assert!(
        last.delta_link
            .as_deref()
            .unwrap()
            .contains("/beta/contacts/delta?$deltatoken=")
    );
    let all = items(&pages);
    assert_eq!(all.len(), 250);
    assert_eq!(session.replica().len(), 250);
    for item in &all {
        for key in item.keys() {
            assert!(
                DEFAULTS.contains(&key.as_str()),
                "{key} is not a default property"
            );
        }
        assert!(item.contains_key("id") && item.contains_key("displayName"));
        // every default property, null when it has no value (as the directoryObject delta
        // examples show unset properties)
        assert_eq!(item.len(), DEFAULTS.len(), "{item:?}");
    }
    assert!(
        all.iter().any(|i| i.values().any(Value::is_null)),
        "some contact has a default property unset"
    );
    f.emu.shutdown().await;
}

#[tokio::test]
async fn example_2_three_selected_properties_default_behaviour() {
    let f = fixture(20).await;
    let first = query(&["displayName", "jobTitle", "mail"], false)
        .first_request(Catalog::builtin(), &f.root)
        .unwrap();
    assert!(
        first
            .url
            .ends_with("/beta/contacts/delta?$select=displayName,jobTitle,mail"),
        "{}",
        first.url
    );
    assert!(
        first
            .headers
            .iter()
            .all(|(k, _)| !k.eq_ignore_ascii_case("prefer"))
    );
    let mut session = Session::new(first);
    let initial = items(&f.round(&mut session).await);
    // a contact that has a jobTitle (one without has it as null)
    let target_at = initial
        .iter()
        .position(|i| i.get("jobTitle").is_some_and(Value::is_string))
        .unwrap();
    let target = initial[target_at]["id"].as_str().unwrap().to_owned();
    for item in &initial {
        assert!(
            item.keys()
                .all(|k| ["id", "displayName", "jobTitle", "mail"].contains(&k.as_str()))
        );
    }
    // displayName changes, mail is cleared: all three come back, mail as null
    f.patch(
        &target,
        json!({"displayName": "Renamed Contact", "mail": null}),
    )
    .await;
    // a change to a property that is not selected does not put an object in the round
    let other = initial[(target_at + 1) % initial.len()]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.patch(&other, json!({"department": "Not Tracked"})).await;
    let round2 = items(&f.round(&mut session).await);
    assert_eq!(round2.len(), 1, "{round2:?}");
    let obj = &round2[0];
    assert_eq!(obj["id"], target.as_str());
    assert_eq!(obj["displayName"], "Renamed Contact");
    assert_eq!(obj["mail"], Value::Null);
    assert_eq!(
        obj["jobTitle"], initial[target_at]["jobTitle"],
        "an unchanged property with a value comes back"
    );
    let summary = session.rounds().last().unwrap();
    assert_eq!(summary.updated, 1);
    assert_eq!(summary.added, 0);
    f.emu.shutdown().await;
}

#[tokio::test]
async fn example_3_three_selected_properties_minimal() {
    let f = fixture(20).await;
    let first = query(&["displayName", "jobTitle", "mail"], true)
        .first_request(Catalog::builtin(), &f.root)
        .unwrap();
    assert!(
        first
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("prefer") && v == "return=minimal"),
        "{:?}",
        first.headers
    );
    let mut session = Session::new(first);
    let initial = items(&f.round(&mut session).await);
    // the initial round of a minimal query still carries the full selected set
    assert!(initial.iter().all(|i| i.contains_key("displayName")));
    let target = initial[5]["id"].as_str().unwrap().to_owned();
    let mail_before = session.replica().get(&target).unwrap().get("mail").cloned();
    f.patch(
        &target,
        json!({"displayName": "displayName-value", "jobTitle": null}),
    )
    .await;
    let round2 = items(&f.round(&mut session).await);
    assert_eq!(round2.len(), 1, "{round2:?}");
    let obj = &round2[0];
    assert_eq!(obj["displayName"], "displayName-value");
    assert_eq!(obj["jobTitle"], Value::Null);
    assert!(
        !obj.contains_key("mail"),
        "unchanged mail is left out: {obj:?}"
    );
    // the replica merged it: mail kept, jobTitle cleared, displayName changed
    let merged = session.replica().get(&target).unwrap();
    assert_eq!(merged.get("mail").cloned(), mail_before);
    assert_eq!(merged.get("displayName").unwrap(), "displayName-value");
    assert!(merged.get("jobTitle").is_none_or(Value::is_null));
    f.emu.shutdown().await;
}
