//! Relationship changes on random histories: whatever happens to groups and their members
//! between rounds (members joining and leaving, renames, soft and hard deletes, restores), with
//! members sliced across pages, `Prefer: return=minimal` on or off, and duplicates, replays and
//! shuffled pages injected, the replica built by the incremental rounds equals the one a fresh
//! full sync builds, members included.
//!
//! Every history runs against its own emulator over loopback HTTP. `PROPTEST_CASES` overrides
//! the number of histories (1,000 by default).
#![allow(clippy::unwrap_used)]

mod support;

use deltascope::emulator::{Control, EmulatorConfig, start};
use deltascope::graph::catalog::Catalog;
use deltascope::graph::client::ClientConfig;
use deltascope::graph::query::{ApiVersion, DeltaQuery, GraphRoot};
use deltascope::graph::round::Session;
use proptest::prelude::*;
use serde_json::json;
use support::engine::{
    Live, PROPERTY_RT, complete_round, history_config, pick, static_token_client,
};

const USERS: u64 = 24;

#[derive(Debug, Clone)]
enum Op {
    Join { group: usize, user: u64 },
    Leave { group: usize, pick: usize },
    Rename { group: usize, name: u16 },
    SoftDelete { group: usize },
    HardDelete { group: usize },
    Restore { group: usize },
    Fault(&'static str),
    Round,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), 0..USERS).prop_map(|(group, user)| Op::Join { group, user }),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(group, pick)| Op::Leave { group, pick }),
        2 => (any::<usize>(), any::<u16>()).prop_map(|(group, name)| Op::Rename { group, name }),
        1 => any::<usize>().prop_map(|group| Op::SoftDelete { group }),
        1 => any::<usize>().prop_map(|group| Op::HardDelete { group }),
        1 => any::<usize>().prop_map(|group| Op::Restore { group }),
        1 => prop_oneof![Just("duplicate:2"), Just("replay"), Just("shuffle")].prop_map(Op::Fault),
        3 => Just(Op::Round),
    ]
}

#[derive(Debug, Clone)]
struct History {
    groups: usize,
    member_slice: usize,
    page_size: usize,
    minimal: bool,
    ops: Vec<Op>,
}

fn history() -> impl Strategy<Value = History> {
    (
        1usize..5,
        1usize..8,
        1usize..5,
        any::<bool>(),
        proptest::collection::vec(op(), 1..20),
    )
        .prop_map(|(groups, member_slice, page_size, minimal, ops)| History {
            groups,
            member_slice,
            page_size,
            minimal,
            ops,
        })
}

fn apply_op(ctl: &Control, live: &mut Live, op: &Op) {
    match op {
        Op::Join { group, user } => {
            if let Some(g) = pick(&live.active, *group) {
                let _ = ctl.add_member(&g, &ctl.user_id(*user));
            }
        }
        Op::Leave { group, pick: n } => {
            if let Some(g) = pick(&live.active, *group) {
                let members = ctl.group_members(&g).unwrap_or_default();
                if let Some(u) = pick(&members, *n) {
                    let _ = ctl.remove_member(&g, &u);
                }
            }
        }
        Op::Rename { group, name } => {
            if let Some(g) = pick(&live.active, *group) {
                let _ = ctl.update_group(&g, &json!({"displayName": format!("Group {name}")}));
            }
        }
        Op::SoftDelete { group } => {
            if let Some(g) = pick(&live.active, *group)
                && ctl.soft_delete_group(&g).is_ok()
            {
                live.active.retain(|x| x != &g);
                live.soft_deleted.push(g);
            }
        }
        Op::HardDelete { group } => {
            if let Some(g) = pick(&live.active, *group)
                && ctl.hard_delete_group(&g).is_ok()
            {
                live.active.retain(|x| x != &g);
            }
        }
        Op::Restore { group } => {
            if let Some(g) = pick(&live.soft_deleted, *group)
                && ctl.restore_group(&g).is_ok()
            {
                live.soft_deleted.retain(|x| x != &g);
                live.active.push(g);
            }
        }
        Op::Fault(spec) => ctl.add_fault(spec).unwrap(),
        Op::Round => {}
    }
}

async fn run_history(h: History) -> Result<(), TestCaseError> {
    let emu = start(
        EmulatorConfig {
            seed: 9,
            users: USERS as usize,
            groups: h.groups,
            member_slice: h.member_slice,
            page_size: h.page_size,
            contacts: 0,
            ..Default::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let ctl = emu.control();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "property-test", ClientConfig::default());
    let mut query = DeltaQuery::new("groups", ApiVersion::V1_0);
    query.select = vec!["displayName".into(), "description".into(), "members".into()];
    query.minimal = h.minimal;
    let first = query.first_request(Catalog::builtin(), &root).unwrap();

    let mut session = Session::new(first.clone());
    complete_round(&client, &mut session).await;
    let mut live = Live {
        active: (0..h.groups as u64).map(|i| ctl.group_id(i)).collect(),
        soft_deleted: Vec::new(),
    };
    for op in &h.ops {
        if let Op::Round = op {
            complete_round(&client, &mut session).await;
        } else {
            apply_op(&ctl, &mut live, op);
        }
    }
    // A last round after the history, then faults off for the reference sync.
    complete_round(&client, &mut session).await;
    ctl.clear_faults();
    let mut fresh = Session::new(first);
    complete_round(&client, &mut fresh).await;
    let got = session.replica().normalized();
    let want = fresh.replica().normalized();
    emu.shutdown().await;
    prop_assert_eq!(got, want, "history: {:?}", h);
    Ok(())
}

proptest! {
    #![proptest_config(history_config())]
    #[test]
    fn group_rounds_converge_to_a_fresh_full_sync(h in history()) {
        PROPERTY_RT.block_on(run_history(h))?;
    }
}
