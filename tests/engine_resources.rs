//! The engine against the emulator over loopback HTTP for the resources besides contacts, users
//! and groups: for each, a full round, then rounds of random changes made in the tenant
//! (`mutate`: creates, updates, soft and hard deletes, restores, moves out of a calendar
//! window), and the replica those rounds built must equal the one a fresh full round builds at
//! the same moment. One removal style each way: `@removed` (applications, servicePrincipals,
//! devices, administrativeUnits, oauth2PermissionGrants, directoryObjects, messages, events,
//! mailFolders, personalContacts, todoTasks) and driveItem's `deleted` facet; directoryRoles
//! are only activated and changed, never removed.
#![allow(clippy::unwrap_used)]

mod support;

use deltascope::emulator::{self, EmulatorConfig};
use deltascope::graph::{ApiVersion, Catalog, ClientConfig, DeltaQuery, GraphRoot, Session};
use support::engine::{complete_round, static_token_client};

fn query(resource: &str, ctl: &emulator::Control) -> DeltaQuery {
    let mut q = DeltaQuery::new(resource, ApiVersion::V1_0);
    match resource {
        "personalContacts" => {
            q.params.insert(
                "contactFolderId".into(),
                ctl.contact_folder_ids()[0].clone(),
            );
            q.max_page_size = Some(7);
        }
        "todoTasks" => {
            q.params
                .insert("todoTaskListId".into(), ctl.todo_list_ids()[0].clone());
            q.top = Some(4);
        }
        "mailFolders" => q.max_page_size = Some(3),
        "messages" => {
            q.params.insert("mailFolderId".into(), "inbox".into());
            q.max_page_size = Some(7);
        }
        "events" => {
            q.params
                .insert("startDateTime".into(), "2000-01-01T00:00:00Z".into());
            q.params
                .insert("endDateTime".into(), "2100-01-01T00:00:00Z".into());
            q.max_page_size = Some(9);
        }
        "driveItems" => q.top = Some(11),
        _ => q.max_page_size = Some(13),
    }
    q
}

async fn converges(resource: &str, seed: u64) {
    converges_with(
        resource,
        seed,
        |ctl| query(resource, ctl),
        |ctl, round| {
            ctl.mutate_other(resource, 12 + round).unwrap();
            if resource == "mailFolders" {
                // Messages created, read and deleted change their folders' counts too.
                ctl.mutate_other("messages", 10).unwrap();
            }
        },
        // An activated role is never deleted (Graph has no way to); the others must see
        // removals for the test to mean something.
        resource != "directoryRoles",
    )
    .await;
}

/// A full round of the query `make` builds, then four rounds of the changes `change` makes in
/// the tenant; the replica those rounds built must equal a fresh full round's. Returns the size
/// of the first round's replica.
async fn converges_with(
    what: &str,
    seed: u64,
    make: impl Fn(&emulator::Control) -> DeltaQuery,
    change: impl Fn(&emulator::Control, u64),
    expect_removals: bool,
) -> usize {
    let emu = emulator::start(
        EmulatorConfig {
            seed,
            ..Default::default()
        },
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let ctl = emu.control();
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "engine-resources", ClientConfig::default());
    let first = make(&ctl).first_request(Catalog::builtin(), &root).unwrap();
    let mut s = Session::new(first.clone());
    complete_round(&client, &mut s).await;
    let full_len = s.replica().len();
    assert!(full_len > 0, "{what}: an empty first round");
    let mut removed = 0;
    for round in 0..4 {
        change(&ctl, round);
        complete_round(&client, &mut s).await;
        let summary = s.rounds().last().unwrap();
        assert!(!summary.full && summary.complete, "{what}: {summary:?}");
        removed += summary.removed();
    }
    let mut fresh = Session::new(first);
    complete_round(&client, &mut fresh).await;
    assert_eq!(
        s.replica().normalized(),
        fresh.replica().normalized(),
        "{what} (seed {seed}): the replica of the rounds of changes differs from a fresh full round"
    );
    assert!(
        removed > 0 || !expect_removals,
        "{what}: 4 rounds of random changes removed nothing"
    );
    emu.shutdown().await;
    full_len
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_converge() {
    converges("applications", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_principals_converge() {
    converges("servicePrincipals", 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge() {
    converges("devices", 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drive_items_converge_with_the_deleted_facet() {
    for seed in [6, 7] {
        converges("driveItems", seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_converge() {
    converges("messages", 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_converge() {
    converges("events", 9).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrative_units_converge() {
    converges("administrativeUnits", 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_roles_converge() {
    converges("directoryRoles", 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_permission_grants_converge() {
    converges("oauth2PermissionGrants", 12).await;
}

/// directoryObjects: users, groups and applications in one feed; changes of each kind; the
/// replica of the rounds equals a fresh full round's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_objects_converge_over_several_types() {
    let query = || {
        let mut q = DeltaQuery::new("directoryObjects", ApiVersion::V1_0);
        q.types = vec!["user".into(), "group".into(), "application".into()];
        q.max_page_size = Some(17);
        q
    };
    let root = GraphRoot::parse("http://127.0.0.1:9").unwrap();
    let url = query()
        .first_request(Catalog::builtin(), &root)
        .unwrap()
        .url;
    assert!(url.contains("isof"), "{url}");
    let full = converges_with(
        "directoryObjects",
        13,
        |_| query(),
        |ctl, round| {
            ctl.mutate_users(5 + round);
            ctl.mutate_groups(3);
            ctl.mutate_other("applications", 8).unwrap();
            ctl.mutate_other("devices", 8).unwrap();
        },
        true,
    )
    .await;
    assert_eq!(full, 50 + 12 + 40, "the users, groups and applications");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_folders_converge() {
    for seed in [10, 11] {
        converges("mailFolders", seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_contacts_converge() {
    for seed in [12, 13] {
        converges("personalContacts", seed).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_tasks_converge() {
    for seed in [14, 15] {
        converges("todoTasks", seed).await;
    }
}
