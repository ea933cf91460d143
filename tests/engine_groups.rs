//! The engine against the emulator's groups delta over loopback HTTP: a large group's members
//! arrive in slices across pages, later rounds bring only membership changes, and after every
//! round the replica's members equal what the emulator holds (and what a fresh full sync
//! builds), in default and minimal rounds, through deletes, restores and duplicates.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use deltascope::emulator::{self, Control, Emulator, EmulatorConfig};
use deltascope::graph::{
    ApiVersion, Catalog, ClientConfig, DeltaQuery, GraphClient, GraphRoot, RoundSummary, Session,
};
use serde_json::{Value, json};
use support::engine::static_token_client;
use tokio_util::sync::CancellationToken;

struct Bed {
    emu: Emulator,
    ctl: Control,
    root: GraphRoot,
    client: GraphClient,
}

async fn bed() -> Bed {
    let cfg = EmulatorConfig {
        seed: 5,
        users: 300,
        groups: 6,
        member_slice: 40,
        page_size: 4,
        ..Default::default()
    };
    let emu = emulator::start(cfg, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "engine-groups-test", ClientConfig::default());
    Bed {
        ctl: emu.control(),
        emu,
        root,
        client,
    }
}

fn groups(minimal: bool) -> DeltaQuery {
    let mut q = DeltaQuery::new("groups", ApiVersion::V1_0);
    q.select = vec!["displayName".into(), "members".into()];
    q.minimal = minimal;
    q
}

impl Bed {
    fn session(&self, q: &DeltaQuery) -> Session {
        Session::new(q.first_request(Catalog::builtin(), &self.root).unwrap())
    }

    /// Walks the session's next round to its deltaLink.
    async fn round(&self, s: &mut Session) -> RoundSummary {
        for _ in 0..1000 {
            let req = s.next_request().unwrap();
            let page = self
                .client
                .fetch(&req, &CancellationToken::new(), &|_| {})
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if s.apply(&page).round_complete {
                return s.rounds().last().unwrap().clone();
            }
        }
        panic!("the round never completed");
    }

    /// A fresh session's full round: what the replica should be.
    async fn fresh(&self, minimal: bool) -> Session {
        let mut s = self.session(&groups(minimal));
        self.round(&mut s).await;
        s
    }
}

fn members(s: &Session, group: &str) -> BTreeSet<String> {
    s.replica()
        .get(group)
        .unwrap_or_else(|| panic!("group {group} is not in the replica"))
        .get("members@delta")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn truth(ctl: &Control, group: &str) -> BTreeSet<String> {
    ctl.group_members(group).unwrap().into_iter().collect()
}

#[tokio::test]
async fn sliced_members_and_membership_changes_build_the_right_replica() {
    for minimal in [false, true] {
        let b = bed().await;
        let big = b.emu.demo().sample_group_ids[0].clone();
        let big_size = truth(&b.ctl, &big).len();
        assert!(
            big_size > 80,
            "the largest demo group has {big_size} members"
        );

        // The full round: the big group is sliced (40 links per occurrence), across pages.
        let mut s = b.session(&groups(minimal));
        let r = b.round(&mut s).await;
        assert!(r.full && r.complete, "{r}");
        assert!(r.relationship_slices >= 2, "{r}");
        assert_eq!(r.duplicates, 0, "slices are not duplicates: {r}");
        assert_eq!(members(&s, &big), truth(&b.ctl, &big), "minimal={minimal}");
        let total: usize = b
            .emu
            .demo()
            .sample_group_ids
            .iter()
            .map(|g| truth(&b.ctl, g).len())
            .sum();
        assert!(r.links_added >= total, "{r}");

        // Membership changes and a rename: only the changes come; the replica follows.
        let changing = b.emu.demo().sample_group_ids[1].clone();
        let members_now = truth(&b.ctl, &changing);
        let joiner = (0..300)
            .map(|i| b.ctl.user_id(i))
            .find(|u| !members_now.contains(u))
            .expect("a user outside the group");
        let leaver = members_now.iter().next().unwrap().clone();
        b.ctl.add_member(&changing, &joiner).unwrap();
        b.ctl.remove_member(&changing, &leaver).unwrap();
        b.ctl
            .update_group(&changing, &json!({"displayName": "Renamed, with members"}))
            .unwrap();
        let r = b.round(&mut s).await;
        assert!(!r.full, "{r}");
        assert_eq!((r.links_added, r.links_removed), (1, 1), "{r}");
        assert_eq!(
            members(&s, &changing),
            truth(&b.ctl, &changing),
            "minimal={minimal}"
        );
        assert_eq!(
            s.replica().get(&changing).unwrap()["displayName"],
            "Renamed, with members"
        );
        assert_eq!(members(&s, &big), truth(&b.ctl, &big), "untouched");

        // Another group changes only a property: its members stay as they were.
        let other = b.emu.demo().sample_group_ids[2].clone();
        let before = members(&s, &other);
        b.ctl
            .update_group(&other, &json!({"displayName": "Renamed only"}))
            .unwrap();
        b.round(&mut s).await;
        assert_eq!(members(&s, &other), before, "minimal={minimal}");
        assert_eq!(members(&s, &other), truth(&b.ctl, &other));

        // Soft delete and restore: the group comes back with its members.
        b.ctl.soft_delete_group(&other).unwrap();
        b.round(&mut s).await;
        assert!(s.replica().get(&other).is_none());
        b.ctl.restore_group(&other).unwrap();
        b.round(&mut s).await;
        assert_eq!(
            members(&s, &other),
            truth(&b.ctl, &other),
            "minimal={minimal}"
        );

        // After all that, the incremental replica equals a fresh full sync.
        let fresh = b.fresh(minimal).await;
        assert_eq!(
            s.replica().normalized(),
            fresh.replica().normalized(),
            "minimal={minimal}"
        );
        b.emu.shutdown().await;
    }
}
