//! The engine's central promise, checked on random histories: whatever happens to the tenant
//! between rounds (creates, updates including to null, soft and hard deletes, restores), with
//! `Prefer: return=minimal` on or off, with duplicates and replays injected by the emulator, the
//! replica built by the incremental rounds equals the one a fresh full sync builds.
//!
//! Every history runs against its own emulator over loopback HTTP. `PROPTEST_CASES` overrides
//! the number of histories (at least 1000 in CI).
#![allow(clippy::unwrap_used)]

mod support;

use deltascope::emulator::{EmulatorConfig, start};
use deltascope::graph::catalog::Catalog;
use deltascope::graph::client::{ClientConfig, GraphClient};
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::Session;
use proptest::prelude::*;
use serde_json::json;
use support::engine::{
    Live, PROPERTY_RT, complete_round, history_config, pick, static_token_client,
};

const PROPS: [&str; 4] = ["jobTitle", "department", "mail", "companyName"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        name: u16,
    },
    Update {
        who: usize,
        prop: usize,
        value: Option<u16>,
    },
    SoftDelete {
        who: usize,
    },
    HardDelete {
        who: usize,
    },
    Restore {
        who: usize,
    },
    Fault(&'static str),
    Round,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => any::<u16>().prop_map(|name| Op::Create { name }),
        5 => (any::<usize>(), 0..PROPS.len(), proptest::option::weighted(0.75, any::<u16>()))
            .prop_map(|(who, prop, value)| Op::Update { who, prop, value }),
        2 => any::<usize>().prop_map(|who| Op::SoftDelete { who }),
        1 => any::<usize>().prop_map(|who| Op::HardDelete { who }),
        2 => any::<usize>().prop_map(|who| Op::Restore { who }),
        1 => prop_oneof![Just("duplicate:2"), Just("replay"), Just("empty:1"), Just("shuffle")].prop_map(Op::Fault),
        3 => Just(Op::Round),
    ]
}

#[derive(Debug, Clone)]
struct History {
    contacts: usize,
    page_size: usize,
    minimal: bool,
    select: bool,
    ops: Vec<Op>,
}

fn history() -> impl Strategy<Value = History> {
    (
        0usize..12,
        2usize..6,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(op(), 1..24),
    )
        .prop_map(|(contacts, page_size, minimal, select, ops)| History {
            contacts,
            page_size,
            minimal,
            select,
            ops,
        })
}

struct Harness {
    http: reqwest::Client,
    base: String,
    client: GraphClient,
    query: DeltaQuery,
    root: GraphRoot,
}

impl Harness {
    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}/_emulator/{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Runs rounds from the session's next request until a round completes.
    async fn round(&self, session: &mut Session) {
        complete_round(&self.client, session).await;
    }

    async fn full_sync(&self) -> Session {
        let first = self
            .query
            .first_request(Catalog::builtin(), &self.root)
            .unwrap();
        let mut session = Session::new(first);
        self.round(&mut session).await;
        session
    }
}

async fn run_history(h: History) -> Result<(), TestCaseError> {
    let emu = start(
        EmulatorConfig {
            seed: 7,
            contacts: h.contacts,
            page_size: h.page_size,
            ..Default::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "property-test", ClientConfig::default());
    let query = DeltaQuery {
        resource: "contacts".into(),
        api: ApiVersion::V1_0,
        params: Default::default(),
        select: if h.select {
            vec!["displayName".into(), "jobTitle".into(), "mail".into()]
        } else {
            vec![]
        },
        ids: vec![],
        minimal: h.minimal,
        top: None,
        latest: false,
        ..DeltaQuery::default()
    };
    let harness = Harness {
        http: reqwest::Client::new(),
        base: emu.base_url(),
        client,
        query,
        root,
    };

    let mut session = harness.full_sync().await;
    let mut live = Live {
        active: session
            .replica()
            .iter()
            .map(|(id, _)| id.to_string())
            .collect(),
        ..Default::default()
    };
    live.active.sort();
    for op in &h.ops {
        match op {
            Op::Create { name } => {
                let created = harness
                    .control(
                        reqwest::Method::POST,
                        "contacts",
                        Some(json!({"displayName": format!("Contact {name}"), "jobTitle": "Analyst", "mail": format!("c{name}@contoso.example")})),
                    )
                    .await;
                live.active.push(created["id"].as_str().unwrap().to_owned());
            }
            Op::Update { who, prop, value } => {
                if let Some(id) = pick(&live.active, *who) {
                    let value =
                        value.map_or(serde_json::Value::Null, |v| json!(format!("value {v}")));
                    harness
                        .control(
                            reqwest::Method::PATCH,
                            &format!("contacts/{id}"),
                            Some(json!({ PROPS[*prop]: value })),
                        )
                        .await;
                }
            }
            Op::SoftDelete { who } => {
                if let Some(id) = pick(&live.active, *who) {
                    harness
                        .control(reqwest::Method::DELETE, &format!("contacts/{id}"), None)
                        .await;
                    live.active.retain(|x| x != &id);
                    live.soft_deleted.push(id);
                }
            }
            Op::HardDelete { who } => {
                if let Some(id) = pick(&live.active, *who) {
                    harness
                        .control(
                            reqwest::Method::DELETE,
                            &format!("contacts/{id}?permanent=true"),
                            None,
                        )
                        .await;
                    live.active.retain(|x| x != &id);
                }
            }
            Op::Restore { who } => {
                if let Some(id) = pick(&live.soft_deleted, *who) {
                    harness
                        .control(
                            reqwest::Method::POST,
                            &format!("contacts/{id}/restore"),
                            None,
                        )
                        .await;
                    live.soft_deleted.retain(|x| x != &id);
                    live.active.push(id);
                }
            }
            Op::Fault(spec) => {
                harness
                    .control(reqwest::Method::POST, "faults", Some(json!({"spec": spec})))
                    .await;
            }
            Op::Round => harness.round(&mut session).await,
        }
    }
    // A last round after the history, then faults off for the reference sync.
    harness.round(&mut session).await;
    harness
        .control(reqwest::Method::DELETE, "faults", None)
        .await;
    let fresh = harness.full_sync().await;
    let got = session.replica().normalized();
    let want = fresh.replica().normalized();
    emu.shutdown().await;
    prop_assert_eq!(got, want, "history: {:?}", h);
    Ok(())
}

proptest! {
    #![proptest_config(history_config())]
    #[test]
    fn incremental_rounds_converge_to_a_fresh_full_sync(h in history()) {
        PROPERTY_RT.block_on(run_history(h))?;
    }
}
