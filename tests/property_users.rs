//! Users and their managers on random histories: whatever happens to the tenant between rounds
//! (users created, updated including to null, soft- and hard-deleted, restored, given a new
//! manager or none, all through the HTTP control API), with `manager` selected so that the
//! manager travels as `manager@delta`, `Prefer: return=minimal` on or off, and duplicates,
//! replays and shuffled pages injected, the replica built by the incremental rounds equals the
//! one a fresh full sync builds, managers included (one each at most: never a growing list).
//!
//! Every history runs against its own emulator over loopback HTTP. `PROPTEST_CASES` sets the
//! number of histories, as for the other history tests; without it, 24 (kept small so that
//! `cargo test` stays fast; CI runs more).
#![allow(clippy::unwrap_used)]

mod support;

use deltascope::emulator::{EmulatorConfig, start};
use deltascope::graph::catalog::Catalog;
use deltascope::graph::client::ClientConfig;
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::Session;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::engine::{
    Live, PROPERTY_RT, complete_round, history_config_or, pick, static_token_client,
};

const PROPS: [&str; 3] = ["jobTitle", "department", "displayName"];

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
    SetManager {
        who: usize,
        boss: usize,
    },
    RemoveManager {
        who: usize,
    },
    Fault(&'static str),
    Round,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => any::<u16>().prop_map(|name| Op::Create { name }),
        3 => (any::<usize>(), 0..PROPS.len(), proptest::option::weighted(0.8, any::<u16>()))
            .prop_map(|(who, prop, value)| Op::Update { who, prop, value }),
        1 => any::<usize>().prop_map(|who| Op::SoftDelete { who }),
        1 => any::<usize>().prop_map(|who| Op::HardDelete { who }),
        1 => any::<usize>().prop_map(|who| Op::Restore { who }),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(who, boss)| Op::SetManager { who, boss }),
        2 => any::<usize>().prop_map(|who| Op::RemoveManager { who }),
        1 => prop_oneof![Just("duplicate:2"), Just("replay"), Just("shuffle")].prop_map(Op::Fault),
        3 => Just(Op::Round),
    ]
}

#[derive(Debug, Clone)]
struct History {
    users: usize,
    page_size: usize,
    minimal: bool,
    ops: Vec<Op>,
}

fn history() -> impl Strategy<Value = History> {
    (
        1usize..16,
        1usize..6,
        any::<bool>(),
        proptest::collection::vec(op(), 1..24),
    )
        .prop_map(|(users, page_size, minimal, ops)| History {
            users,
            page_size,
            minimal,
            ops,
        })
}

struct Harness {
    http: reqwest::Client,
    base: String,
}

impl Harness {
    /// A control API call: its status and JSON answer. A refusal (4xx) is an answer; a server
    /// error never is.
    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}/_emulator/{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert!(status < 500, "{method} {path}: {status} {text}");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Whether `user` is `boss` or reports to it, directly or through others, following the
    /// managers the control API shows (`GET /_emulator/users/{id}/manager`).
    async fn reports_to(&self, user: &str, boss: &str) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut cur = user.to_string();
        loop {
            if cur == boss {
                return true;
            }
            assert!(seen.insert(cur.clone()), "a management cycle through {cur}");
            let (s, m) = self
                .control(reqwest::Method::GET, &format!("users/{cur}/manager"), None)
                .await;
            match m["id"].as_str() {
                Some(next) if s == 200 => cur = next.to_string(),
                _ => return false,
            }
        }
    }

    async fn apply(&self, live: &mut Live, op: &Op) {
        use reqwest::Method;
        match op {
            Op::Create { name } => {
                let (s, v) = self
                    .control(
                        Method::POST,
                        "users",
                        Some(json!({"displayName": format!("User {name}"), "jobTitle": "Analyst"})),
                    )
                    .await;
                assert_eq!(s, 200, "{v}");
                live.active.push(v["id"].as_str().unwrap().to_owned());
            }
            Op::Update { who, prop, value } => {
                if let Some(id) = pick(&live.active, *who) {
                    let value = value.map_or(Value::Null, |v| json!(format!("value {v}")));
                    self.control(
                        Method::PATCH,
                        &format!("users/{id}"),
                        Some(json!({ PROPS[*prop]: value })),
                    )
                    .await;
                }
            }
            Op::SoftDelete { who } => {
                if let Some(id) = pick(&live.active, *who)
                    && self
                        .control(Method::DELETE, &format!("users/{id}"), None)
                        .await
                        .0
                        == 200
                {
                    live.active.retain(|x| x != &id);
                    live.soft_deleted.push(id);
                }
            }
            Op::HardDelete { who } => {
                if let Some(id) = pick(&live.active, *who)
                    && self
                        .control(Method::DELETE, &format!("users/{id}?permanent=true"), None)
                        .await
                        .0
                        == 200
                {
                    live.active.retain(|x| x != &id);
                }
            }
            Op::Restore { who } => {
                if let Some(id) = pick(&live.soft_deleted, *who)
                    && self
                        .control(Method::POST, &format!("users/{id}/restore"), None)
                        .await
                        .0
                        == 200
                {
                    live.soft_deleted.retain(|x| x != &id);
                    live.active.push(id);
                }
            }
            Op::SetManager { who, boss } => {
                // Any user, a soft-deleted one as the manager too: the emulator refuses what
                // Graph would (itself, a deleted manager), and a manager who reports to the user
                // directly or through others (a cycle), and the history goes on.
                let all: Vec<String> = live
                    .active
                    .iter()
                    .chain(&live.soft_deleted)
                    .cloned()
                    .collect();
                if let (Some(id), Some(boss)) = (pick(&live.active, *who), pick(&all, *boss)) {
                    let refused =
                        live.soft_deleted.contains(&boss) || self.reports_to(&boss, &id).await;
                    let (s, v) = self
                        .control(
                            Method::PUT,
                            &format!("users/{id}/manager"),
                            Some(json!({"id": boss})),
                        )
                        .await;
                    assert_eq!(s, if refused { 400 } else { 200 }, "{v}");
                }
            }
            Op::RemoveManager { who } => {
                if let Some(id) = pick(&live.active, *who) {
                    let (s, v) = self
                        .control(Method::DELETE, &format!("users/{id}/manager"), None)
                        .await;
                    assert!(s == 200 || s == 404, "{s} {v}");
                }
            }
            Op::Fault(spec) => {
                let (s, v) = self
                    .control(Method::POST, "faults", Some(json!({"spec": spec})))
                    .await;
                assert_eq!(s, 200, "{v}");
            }
            Op::Round => {}
        }
    }
}

/// No user of the replica holds more than one manager.
fn one_manager_at_most(session: &Session) -> bool {
    session.replica().iter().all(|(_, u)| {
        u.get("manager@delta")
            .and_then(Value::as_array)
            .is_none_or(|m| m.len() <= 1)
    })
}

async fn run_history(h: History) -> Result<(), TestCaseError> {
    let emu = start(
        EmulatorConfig {
            seed: 11,
            users: h.users,
            organizers: 0,
            recordings: 0,
            groups: 0,
            contacts: 0,
            page_size: h.page_size,
            ..Default::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "property-test", ClientConfig::default());
    let mut query = DeltaQuery::new("users", ApiVersion::V1_0);
    query.select = vec![
        "displayName".into(),
        "jobTitle".into(),
        "department".into(),
        "manager".into(),
    ];
    query.minimal = h.minimal;
    let first = query.first_request(Catalog::builtin(), &root).unwrap();
    let harness = Harness {
        http: reqwest::Client::new(),
        base: emu.base_url(),
    };

    let mut session = Session::new(first.clone());
    complete_round(&client, &mut session).await;
    let mut live = Live {
        active: session.replica().ids().map(str::to_owned).collect(),
        soft_deleted: Vec::new(),
    };
    for op in &h.ops {
        if let Op::Round = op {
            complete_round(&client, &mut session).await;
            prop_assert!(one_manager_at_most(&session), "history: {:?}", h);
        } else {
            harness.apply(&mut live, op).await;
        }
    }
    // A last round after the history, then faults off for the reference sync.
    complete_round(&client, &mut session).await;
    harness
        .control(reqwest::Method::DELETE, "faults", None)
        .await;
    let mut fresh = Session::new(first);
    complete_round(&client, &mut fresh).await;
    let got = session.replica().normalized();
    let want = fresh.replica().normalized();
    emu.shutdown().await;
    prop_assert_eq!(got, want, "history: {:?}", h);
    Ok(())
}

proptest! {
    #![proptest_config(history_config_or(24))]
    #[test]
    fn user_and_manager_rounds_converge_to_a_fresh_full_sync(h in history()) {
        PROPERTY_RT.block_on(run_history(h))?;
    }
}
