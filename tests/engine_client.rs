//! The HTTP client against scripted loopback servers: retries on 429/503 after Retry-After,
//! bounded retries, round headers on every page, fresh client-request-ids, the foreign-origin
//! refusal, timeouts, malformed bodies, error envelopes and hints, cancellation.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;
mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deltascope::auth::{AccessToken, StaticToken, TokenFuture, TokenSource};
use deltascope::graph::client::{ClientConfig, FetchProgress, GraphClient};
use deltascope::graph::error::GraphError;
use deltascope::graph::page::{Page, PageRequest, RequestKind};
use deltascope::graph::query::GraphRoot;
use deltascope::graph::round::Session;
use loopback::{Reply, Server};
use support::engine::static_token_client;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "secret-bearer-token-value";

/// Counts how often a token was asked for.
struct CountingToken(AtomicUsize);

impl TokenSource for CountingToken {
    fn token(&self) -> TokenFuture<'_> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(AccessToken::new(TOKEN)) })
    }
}

fn client_with(base: &str, cfg: ClientConfig) -> GraphClient {
    static_token_client(&GraphRoot::parse(base).unwrap(), TOKEN, cfg)
}

fn client(base: &str) -> GraphClient {
    client_with(base, ClientConfig::default())
}

/// One request of the contacts delta at `base`, never cancelled, its progress not watched.
async fn fetch_contacts_delta(c: &GraphClient, base: &str) -> Result<Page, GraphError> {
    c.fetch(
        &get(format!("{base}/v1.0/contacts/delta")),
        &CancellationToken::new(),
        &|_| {},
    )
    .await
}

fn get(url: String) -> PageRequest {
    PageRequest {
        url,
        headers: vec![],
        kind: RequestKind::Initial,
    }
}

fn delta_page(base: &str, token: &str) -> String {
    format!(
        r#"{{"@odata.deltaLink":"{base}/v1.0/contacts/delta?$deltatoken={token}","value":[{{"id":"a","displayName":"A"}}]}}"#
    )
}

fn next_page(base: &str, token: &str) -> String {
    format!(
        r#"{{"@odata.nextLink":"{base}/v1.0/contacts/delta?$skiptoken={token}","value":[{{"id":"b"}}]}}"#
    )
}

fn throttled(status: u16, retry_after: Option<&str>) -> Reply {
    let r = Reply::json(
        status,
        r#"{"error":{"code":"TooManyRequests","message":"Too many requests.","innerError":{"request-id":"r-429"}}}"#,
    );
    match retry_after {
        Some(v) => r.header("Retry-After", v),
        None => r,
    }
}

type Log = Arc<Mutex<Vec<FetchProgress>>>;

fn recorder() -> (Log, impl Fn(FetchProgress) + Send + Sync) {
    let log: Log = Arc::default();
    let l = log.clone();
    (log, move |p| l.lock().unwrap().push(p))
}

#[tokio::test]
async fn retries_429_after_a_fractional_retry_after() {
    let server = Server::start_with(|base| {
        let ok = delta_page(base, "d1");
        move |n, _| {
            if n == 0 {
                throttled(429, Some("0.25"))
            } else {
                Reply::json(200, ok.clone())
            }
        }
    })
    .await;
    let (log, progress) = recorder();
    let page = client(&server.base)
        .fetch(
            &get(format!("{}/v1.0/contacts/delta", server.base)),
            &CancellationToken::new(),
            &progress,
        )
        .await
        .unwrap();
    assert_eq!(page.retries, 1);
    assert_eq!(page.throttled_for, Duration::from_millis(250));
    assert_eq!(page.items.len(), 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[1].at - reqs[0].at >= Duration::from_millis(250),
        "{:?}",
        reqs[1].at - reqs[0].at
    );
    assert_eq!(reqs[0].uri, reqs[1].uri, "the same URL is retried");
    let a = reqs[0].header("client-request-id").unwrap();
    let b = reqs[1].header("client-request-id").unwrap();
    assert_ne!(a, b, "a fresh client-request-id per attempt");
    assert_eq!(page.client_request_id, b);
    assert!(uuid::Uuid::parse_str(a).is_ok());
    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], FetchProgress::Sending { attempt: 1 });
    assert!(
        log.contains(&FetchProgress::Throttled {
            status: 429,
            retry_after: Duration::from_millis(250),
            attempt: 2
        }),
        "{log:?}"
    );
    assert!(log.contains(&FetchProgress::Sending { attempt: 2 }));
    assert!(
        matches!(log.last(), Some(FetchProgress::Received { bytes }) if *bytes == page.body.len() as u64)
    );
}

#[tokio::test]
async fn retries_503_with_whole_and_fractional_seconds() {
    let server = Server::start_with(|base| {
        let ok = delta_page(base, "d1");
        move |n, _| match n {
            0 => throttled(503, Some("0")),
            1 => throttled(503, Some("0.05")),
            _ => Reply::json(200, ok.clone()),
        }
    })
    .await;
    let page = fetch_contacts_delta(&client(&server.base), &server.base)
        .await
        .unwrap();
    assert_eq!(page.retries, 2);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = Server::start(|_, _| throttled(429, Some("0.01"))).await;
    let cfg = ClientConfig {
        max_retries: 2,
        ..Default::default()
    };
    let err = fetch_contacts_delta(&client_with(&server.base, cfg), &server.base)
        .await
        .unwrap_err();
    let GraphError::Http {
        status,
        retries,
        code,
        retry_after,
        request_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*status, *retries, code.as_deref()),
        (429, 2, Some("TooManyRequests"))
    );
    assert_eq!(*retry_after, Some(Duration::from_millis(10)));
    assert_eq!(request_id.as_deref(), Some("r-429"));
    assert_eq!(server.requests().len(), 3);
    assert!(
        err.hint().unwrap().contains("throttled after 2 retries"),
        "{:?}",
        err.hint()
    );
    assert!(err.to_string().contains("after 2 retries"), "{err}");

    // a Retry-After longer than the longest accepted wait is not waited for
    let server = Server::start(|_, _| throttled(429, Some("30"))).await;
    let cfg = ClientConfig {
        max_retry_wait: Duration::from_secs(1),
        ..Default::default()
    };
    let err = fetch_contacts_delta(&client_with(&server.base, cfg), &server.base)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(
        matches!(err, GraphError::Http { retries: 0, retry_after: Some(d), .. } if d == Duration::from_secs(30))
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn prefer_header_on_every_page_and_on_delta_rounds() {
    let server = Server::start_with(|base| {
        let pages = [
            next_page(base, "p2"),
            delta_page(base, "d1"),
            delta_page(base, "d2"),
        ];
        move |n, _| Reply::json(200, pages[n.min(2)].clone())
    })
    .await;
    let c = client(&server.base);
    let first = PageRequest {
        url: format!("{}/v1.0/contacts/delta?$select=displayName", server.base),
        headers: vec![("Prefer".into(), "return=minimal".into())],
        kind: RequestKind::Initial,
    };
    let mut session = Session::new(first);
    let cancel = CancellationToken::new();
    let mut pages = Vec::new();
    for _ in 0..3 {
        let req = session.next_request().unwrap();
        let page = c.fetch(&req, &cancel, &|_| {}).await.unwrap();
        session.apply(&page);
        pages.push(page);
    }
    assert_eq!(session.rounds().len(), 2);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].uri, "/v1.0/contacts/delta?$skiptoken=p2");
    assert_eq!(reqs[2].uri, "/v1.0/contacts/delta?$deltatoken=d1");
    for r in &reqs {
        assert_eq!(r.header("prefer"), Some("return=minimal"), "{}", r.uri);
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    let ids: HashSet<&str> = reqs
        .iter()
        .map(|r| r.header("client-request-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    for p in &pages {
        assert!(
            p.request_headers
                .contains(&("Authorization".into(), "Bearer ***".into()))
        );
        assert!(
            p.request_headers
                .contains(&("Prefer".into(), "return=minimal".into()))
        );
        let shown = format!("{:?}", p.request_headers);
        assert!(!shown.contains(TOKEN), "the token never shows");
    }
}

#[tokio::test]
async fn a_foreign_origin_link_is_refused_before_any_byte_is_sent() {
    // The foreign server counts connections, not just requests.
    let foreign = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let foreign_base = format!("http://{}", foreign.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let accept = tokio::spawn(async move {
        while let Ok((_sock, _)) = foreign.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let server = Server::start_with(|base| {
        let evil = format!(r#"{{"@odata.nextLink":"{foreign_base}/v1.0/contacts/delta?$skiptoken=steal","value":[]}}"#);
        let ok = delta_page(base, "d1");
        move |n, _| Reply::json(200, if n == 0 { evil.clone() } else { ok.clone() })
    })
    .await;
    let tokens = Arc::new(CountingToken(AtomicUsize::new(0)));
    let c = GraphClient::new(
        GraphRoot::parse(&server.base).unwrap(),
        tokens.clone(),
        ClientConfig::default(),
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let mut session = Session::new(get(format!("{}/v1.0/contacts/delta", server.base)));
    let page = c
        .fetch(&session.next_request().unwrap(), &cancel, &|_| {})
        .await
        .unwrap();
    let report = session.apply(&page);
    assert!(
        matches!(
            report.stop,
            Some(deltascope::graph::Stop::RefusedLink { .. })
        ),
        "{report:?}"
    );
    assert_eq!(
        session.next_request(),
        None,
        "a refused link is not the way on"
    );
    assert_eq!(tokens.0.load(Ordering::SeqCst), 1);
    // The client refuses it on its own too (a link from elsewhere: a state file, a person).
    let next = PageRequest {
        url: format!("{foreign_base}/v1.0/contacts/delta?$skiptoken=steal"),
        headers: vec![],
        kind: RequestKind::Next,
    };
    let err = c.fetch(&next, &cancel, &|_| {}).await.unwrap_err();
    let GraphError::ForeignLink { url, root } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(url, &next.url);
    assert_eq!(root, &server.base);
    assert!(err.hint().is_some());
    assert_eq!(
        tokens.0.load(Ordering::SeqCst),
        1,
        "not even a token was fetched for it"
    );
    // Other origins: another port, another scheme, another host.
    for other in [
        format!("https://{}/v1.0/contacts/delta?$skiptoken=x", server.addr),
        "http://localhost:1/v1.0/contacts/delta?$skiptoken=x".to_owned(),
    ] {
        assert!(matches!(
            c.fetch(&get(other), &cancel, &|_| {}).await,
            Err(GraphError::ForeignLink { .. })
        ));
    }
    // A later request on the right origin still works, and the foreign server never saw anything.
    c.fetch(
        &get(format!("{}/v1.0/contacts/delta", server.base)),
        &cancel,
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    assert_eq!(server.requests().len(), 2);
    accept.abort();

    let err = c
        .fetch(&get("not a url".into()), &cancel, &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::BadLink { .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let release = Arc::new(Notify::new());
    let hold = release.clone();
    let server = Server::start(move |_, _| Reply::json(200, "{}").held(hold.clone())).await;
    let cfg = ClientConfig {
        timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let url = format!("{}/v1.0/contacts/delta", server.base);
    let err = client_with(&server.base, cfg)
        .fetch(&get(url.clone()), &CancellationToken::new(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err, GraphError::Timeout { url });
    assert!(err.hint().unwrap().contains("retry"));
    release.notify_waiters();
}

#[tokio::test]
async fn malformed_and_truncated_bodies() {
    let bodies: Vec<(&str, &str)> = vec![
        ("<html><body>Sign in to the Wi-Fi</body></html>", "not JSON"),
        (
            r#"{"@odata.nextLink":"http://x/y?$skiptoken=1","value":[{"id":"a"},{"id":"#,
            "truncated",
        ),
        (
            r#"{"@odata.deltaLink":"http://x/y?$deltatoken=1","value":"nope"}"#,
            "not an array",
        ),
        (
            r#"{"value":[{"id":"a"}]}"#,
            "neither @odata.nextLink nor @odata.deltaLink",
        ),
        ("", "empty"),
    ];
    let served: Vec<String> = bodies.iter().map(|(b, _)| b.to_string()).collect();
    let server = Server::start(move |n, _| Reply::json(200, served[n].clone())).await;
    let c = client(&server.base);
    for (body, expected) in &bodies {
        let url = format!("{}/v1.0/contacts/delta", server.base);
        let err = c
            .fetch(&get(url.clone()), &CancellationToken::new(), &|_| {})
            .await
            .unwrap_err();
        let GraphError::Malformed {
            url: u,
            message,
            body_prefix,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(u, &url);
        assert!(message.contains(expected), "{body}: {message}");
        assert_eq!(body_prefix, body);
        assert!(err.hint().is_some());
    }
}

#[tokio::test]
async fn a_body_cut_by_the_connection_is_a_network_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"value\":[{\"id\":")
            .await;
        let _ = sock.shutdown().await;
    });
    let err = fetch_contacts_delta(&client(&base), &base)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Network(_)), "{err:?}");
    task.await.unwrap();
}

#[tokio::test]
async fn error_envelopes_and_hints() {
    let server = Server::start(|n, r| {
        let crid = r.header("client-request-id").unwrap_or_default().to_owned();
        match n {
            0 => Reply::json(400, format!(r#"{{"error":{{"code":"syncStateNotFound","message":"The sync state generation is not found. The delta token is expired and data must be synchronized again.","innerError":{{"date":"2024-01-01T00:00:00","request-id":"inner-rid","client-request-id":"{crid}"}}}}}}"#))
                .header("request-id", "hdr-rid")
                .header("client-request-id", &crid),
            1 => Reply::json(410, r#"{"error":{"code":"Gone","message":"Resync required."}}"#)
                .header("Location", "http://127.0.0.1:1/v1.0/contacts/delta?$skiptoken=fresh"),
            2 => Reply::json(401, r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}"#)
                .header("WWW-Authenticate", "Bearer realm=\"\", error=\"invalid_token\""),
            3 => Reply::json(403, r#"{"error":{"code":"Forbidden","message":"Application does not have permission."}}"#),
            4 => Reply::json(400, r#"{"error":{"code":"BadRequest","message":"Badly formed token."}}"#),
            _ => Reply::json(500, "<html>oops</html>"),
        }
    })
    .await;
    let c = client(&server.base);
    let cancel = CancellationToken::new();
    let b = &server.base;
    let fetch = |url: String| {
        let c = &c;
        let cancel = &cancel;
        async move { c.fetch(&get(url), cancel, &|_| {}).await.unwrap_err() }
    };

    let e = fetch(format!("{b}/v1.0/contacts/delta?$deltatoken=old")).await;
    let GraphError::Http {
        status,
        code,
        request_id,
        client_request_id,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (*status, code.as_deref(), request_id.as_deref()),
        (400, Some("syncStateNotFound"), Some("hdr-rid"))
    );
    assert_eq!(
        client_request_id.as_deref(),
        server.requests()[0].header("client-request-id")
    );
    assert!(message.starts_with("The sync state generation is not found"));
    assert!(e.needs_resync());
    assert!(e.hint().unwrap().contains("full resync"));

    let e = fetch(format!("{b}/v1.0/contacts/delta?$deltatoken=old")).await;
    assert_eq!(e.status(), Some(410));
    assert_eq!(
        e.resync_location(),
        Some("http://127.0.0.1:1/v1.0/contacts/delta?$skiptoken=fresh")
    );
    assert!(e.needs_resync() && e.hint().unwrap().contains("Location"));

    let e = fetch(format!("{b}/v1.0/contacts/delta")).await;
    let GraphError::Http {
        www_authenticate, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert!(
        www_authenticate
            .as_deref()
            .unwrap()
            .contains("invalid_token")
    );
    assert!(e.hint().unwrap().contains("expired"));
    assert!(!e.to_string().contains(TOKEN));

    let e = fetch(format!(
        "{b}/v1.0/users/8b081ef6-4792-4def-b2c9-c363a1bf41d5/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta"
    ))
    .await;
    assert_eq!(e.code(), Some("Forbidden"));
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("OnlineMeetingRecording.Read.All")
            && hint.contains("application access policy"),
        "{hint}"
    );

    let e = fetch(format!("{b}/v1.0/contacts/delta?$skiptoken=tampered")).await;
    assert!(e.needs_resync() && e.hint().unwrap().contains("altered"));

    let e = fetch(format!("{b}/v1.0/contacts/delta")).await;
    let GraphError::Http {
        status: 500,
        code: None,
        body,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(body, "<html>oops</html>");
    assert!(message.contains("oops"));
}

#[tokio::test]
async fn cancellation_stops_requests_and_retry_waits() {
    // before anything is sent
    let server = Server::start(|_, _| throttled(429, Some("30"))).await;
    let c = Arc::new(client(&server.base));
    let cancel = CancellationToken::new();
    cancel.cancel();
    let url = format!("{}/v1.0/contacts/delta", server.base);
    assert_eq!(
        c.fetch(&get(url.clone()), &cancel, &|_| {})
            .await
            .unwrap_err(),
        GraphError::Cancelled
    );
    assert!(server.requests().is_empty());

    // during a Retry-After wait
    let cancel = CancellationToken::new();
    let throttled_seen = Arc::new(Notify::new());
    let seen = throttled_seen.clone();
    let task = {
        let (c, cancel, url) = (c.clone(), cancel.clone(), url.clone());
        tokio::spawn(async move {
            let progress = move |p: FetchProgress| {
                if matches!(p, FetchProgress::Throttled { .. }) {
                    seen.notify_one();
                }
            };
            c.fetch(&get(url), &cancel, &progress).await
        })
    };
    throttled_seen.notified().await;
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.unwrap_err(), GraphError::Cancelled);

    // while the server has not answered
    let release = Arc::new(Notify::new());
    let hold = release.clone();
    let server = Server::start(move |_, _| Reply::json(200, "{}").held(hold.clone())).await;
    let c = Arc::new(client(&server.base));
    let cancel = CancellationToken::new();
    let task = {
        let (c, cancel) = (c.clone(), cancel.clone());
        let url = format!("{}/v1.0/contacts/delta", server.base);
        tokio::spawn(async move { c.fetch(&get(url), &cancel, &|_| {}).await })
    };
    server.wait_for(1).await;
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result.unwrap_err(), GraphError::Cancelled);
    release.notify_waiters();
}

#[tokio::test]
async fn an_empty_token_is_an_auth_error_and_nothing_is_sent() {
    let server = Server::start(|_, _| Reply::json(200, "{}")).await;
    let c = GraphClient::new(
        GraphRoot::parse(&server.base).unwrap(),
        Arc::new(StaticToken::new(AccessToken::new(""))),
        ClientConfig::default(),
    )
    .unwrap();
    let err = fetch_contacts_delta(&c, &server.base).await.unwrap_err();
    assert!(matches!(err, GraphError::Auth(_)), "{err:?}");
    assert!(server.requests().is_empty());
}
