//! The engine against the emulator over loopback HTTP for mail folders, personal contacts and
//! To Do tasks: a full round, then rounds of random changes made in the tenant (`mutate`:
//! creates, updates, deletes; for mail folders also message changes, which change the folders'
//! counts), and the replica those rounds built must equal the one a fresh
//! full round builds at the same moment (removals are `@removed`, reason deleted).
#![allow(clippy::unwrap_used)]

mod support;

use deltascope::emulator::{self, EmulatorConfig};
use deltascope::graph::{ApiVersion, Catalog, ClientConfig, DeltaQuery, GraphRoot, Session};
use support::engine::{complete_round, static_token_client};

async fn converges(resource: &str, seed: u64) {
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
        _ => q.max_page_size = Some(3),
    }
    let root = GraphRoot::parse(&emu.base_url()).unwrap();
    let client = static_token_client(&root, "engine-more-items", ClientConfig::default());
    let first = q.first_request(Catalog::builtin(), &root).unwrap();
    let mut s = Session::new(first.clone());
    complete_round(&client, &mut s).await;
    let full_len = s.replica().len();
    assert!(full_len > 0, "{resource}: an empty first round");
    let mut removed = 0;
    for round in 0..4 {
        ctl.mutate_other(resource, 12 + round).unwrap();
        if resource == "mailFolders" {
            // Messages created, read and deleted change their folders' counts too.
            ctl.mutate_other("messages", 10).unwrap();
        }
        complete_round(&client, &mut s).await;
        let summary = s.rounds().last().unwrap();
        assert!(!summary.full && summary.complete, "{resource}: {summary:?}");
        removed += summary.removed();
    }
    let mut fresh = Session::new(first);
    complete_round(&client, &mut fresh).await;
    assert_eq!(
        s.replica().normalized(),
        fresh.replica().normalized(),
        "{resource} (seed {seed}): the replica of the rounds of changes differs from a fresh full round"
    );
    assert!(
        removed > 0,
        "{resource}: 4 rounds of random changes removed nothing"
    );
    emu.shutdown().await;
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
