//! The engine's client and rounds against an emulator, and the set-up of the property tests.

use std::sync::{Arc, LazyLock};

use deltascope::auth::{AccessToken, StaticToken};
use deltascope::graph::client::{ClientConfig, GraphClient};
use deltascope::graph::query::GraphRoot;
use deltascope::graph::round::{PageReport, Session};
use tokio_util::sync::CancellationToken;

/// The runtime the property tests run their histories on (two workers).
pub static PROPERTY_RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

/// The history property tests' configuration: `PROPTEST_CASES` histories (1,000 by default),
/// a bounded shrink, and no failure files in the source tree (a failing history is printed in
/// full instead).
pub fn history_config() -> proptest::prelude::ProptestConfig {
    history_config_or(1000)
}

/// [`history_config`] with `default_cases` histories when `PROPTEST_CASES` is not set.
pub fn history_config_or(default_cases: u32) -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_cases),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    }
}

/// A Graph client for `root` that sends the fixed bearer `token` (the emulator's demo identity
/// accepts any).
pub fn static_token_client(root: &GraphRoot, token: &str, config: ClientConfig) -> GraphClient {
    GraphClient::new(
        root.clone(),
        Arc::new(StaticToken::new(AccessToken::new(token.to_owned()))),
        config,
    )
    .unwrap()
}

/// Fetches and applies the session's pages until a round completes; any error fails the test.
pub async fn complete_round(client: &GraphClient, session: &mut Session) {
    let cancel = CancellationToken::new();
    for _ in 0..10_000 {
        let request = session.next_request().unwrap();
        let page = client.fetch(&request, &cancel, &|_| {}).await.unwrap();
        if session.apply(&page).round_complete {
            return;
        }
    }
    panic!("round never completed");
}

/// Walks one round of `session` against the Graph root `base` with a static token: each page's
/// report, in order. Panics past 20 pages (a round that does not end).
pub async fn walk_round(base: &str, session: &mut Session) -> Vec<PageReport> {
    let root = GraphRoot::parse(base).unwrap();
    let client = static_token_client(&root, "conformance", ClientConfig::default());
    let cancel = CancellationToken::new();
    let mut reports = Vec::new();
    for _ in 0..20 {
        let req = session.next_request().unwrap();
        let page = client.fetch(&req, &cancel, &|_| {}).await.unwrap();
        let report = session.apply(&page);
        let done = report.round_complete;
        reports.push(report);
        if done {
            return reports;
        }
    }
    panic!("the round does not end");
}

/// Which objects of a random history exist, so that its operations pick valid targets (a
/// refused one is skipped).
#[derive(Default)]
pub struct Live {
    pub active: Vec<String>,
    pub soft_deleted: Vec<String>,
}

/// The `n`th entry of `list`, wrapping; `None` for an empty list.
pub fn pick(list: &[String], n: usize) -> Option<String> {
    (!list.is_empty()).then(|| list[n % list.len()].clone())
}
