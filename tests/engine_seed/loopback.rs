//! A scripted loopback HTTP server for the engine tests: answers request n with
//! `responder(n, &request)` and records every request (raw request-target, headers).
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request-target exactly as the server parsed it (path and query).
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Hold the answer until this is notified (timeouts, cancellation).
    pub hold: Option<Arc<Notify>>,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json;odata.metadata=minimal".into(),
            )],
            body: body.into(),
            hold: None,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn held(mut self, n: Arc<Notify>) -> Reply {
        self.hold = Some(n);
        self
    }
}

type Responder = Arc<dyn Fn(usize, &Recorded) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    responder: Responder,
    requests: Arc<Mutex<Vec<Recorded>>>,
    arrived: Arc<Notify>,
}

pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

async fn handle(State(s): State<Shared>, req: Request) -> Response {
    let rec = Recorded {
        uri: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        at: Instant::now(),
    };
    let n = {
        let mut list = s.requests.lock().unwrap();
        list.push(rec.clone());
        list.len() - 1
    };
    s.arrived.notify_waiters();
    let reply = (s.responder)(n, &rec);
    if let Some(hold) = &reply.hold {
        hold.notified().await;
    }
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (k, v) in reply.headers {
        resp.headers_mut().append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

impl Server {
    pub async fn start(
        responder: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::start_with(|_| responder).await
    }

    /// Serves `pages(base)` as 200 JSON bodies, one per request in order; a 404 after the last.
    pub async fn serving_in_order(
        pages: impl FnOnce(&str) -> Vec<String> + Send + 'static,
    ) -> Server {
        Server::start_with(|base| {
            let bodies = pages(base);
            move |n, _| match bodies.get(n) {
                Some(b) => Reply::json(200, b.clone()),
                None => Reply::json(404, r#"{"error":{"code":"NotFound","message":"no more"}}"#),
            }
        })
        .await
    }

    /// Like `start`, for responders that need the server's own base URL (links in bodies).
    pub async fn start_with<R>(make: impl FnOnce(&str) -> R) -> Server
    where
        R: Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let responder = make(&base);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let shared = Shared {
            responder: Arc::new(responder),
            requests: requests.clone(),
            arrived: arrived.clone(),
        };
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server {
            base,
            addr,
            requests,
            arrived,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until at least `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before the check, so a request arriving in between is not missed.
            notified.as_mut().enable();
            if self.requests.lock().unwrap().len() >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "only {} of {n} requests arrived",
                    self.requests.lock().unwrap().len()
                );
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
