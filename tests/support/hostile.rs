//! A hostile Graph server on loopback: raw HTTP/1.1 over TCP, so that it can do what no
//! well-behaved framework would (declare a body of 1.5 GB, stream a chunked body without end,
//! send headers and bodies full of escape sequences). Every request is recorded; every byte of
//! body it managed to send is counted.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Req {
    /// The request-target (path and query) as sent.
    pub target: String,
    /// Header lines as sent (name, value).
    pub headers: Vec<(String, String)>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
pub enum Answer {
    /// A whole response with a Content-Length.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A chunked body of `chunk`-byte chunks that never ends (until the client goes away).
    Endless { status: u16, chunk: usize },
    /// Declares `len` bytes, then streams zeros until the client goes away.
    Declared { status: u16, len: u64 },
}

impl Answer {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer::Full {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Answer {
        match self {
            Answer::Full {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Answer::Full {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

type Responder = dyn Fn(usize, &Req) -> Answer + Send + Sync;

pub struct Hostile {
    pub base: String,
    requests: Arc<Mutex<Vec<Req>>>,
    body_bytes_sent: Arc<AtomicU64>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Hostile {
    /// Starts the server; `make` gets its base URL (for links in bodies) and returns the
    /// responder, which answers request `n` (0-based).
    pub async fn start<R>(make: impl FnOnce(&str) -> R) -> Hostile
    where
        R: Fn(usize, &Req) -> Answer + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let responder: Arc<Responder> = Arc::new(make(&base));
        let requests: Arc<Mutex<Vec<Req>>> = Arc::default();
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let arrived = Arc::new(Notify::new());
        let (r, b, a) = (requests.clone(), body_bytes_sent.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (responder, r, b, a) = (responder.clone(), r.clone(), b.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, responder, r, b, a).await;
                });
            }
        });
        Hostile {
            base,
            requests,
            body_bytes_sent,
            arrived,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }

    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::SeqCst)
    }

    /// Waits (up to 10 s) until at least `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            let mut notified = std::pin::pin!(notified);
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

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: TcpStream,
    responder: Arc<Responder>,
    requests: Arc<Mutex<Vec<Req>>>,
    sent: Arc<AtomicU64>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut headers = Vec::new();
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            if read.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        if content_length > 0 {
            let mut skip = vec![0; content_length];
            read.read_exact(&mut skip).await?;
        }
        let req = Req { target, headers };
        let n = {
            let mut list = requests.lock().unwrap();
            list.push(req.clone());
            list.len() - 1
        };
        arrived.notify_waiters();
        match responder(n, &req) {
            Answer::Full {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                write.write_all(head.as_bytes()).await?;
                write.write_all(&body).await?;
                sent.fetch_add(body.len() as u64, Ordering::SeqCst);
            }
            Answer::Endless { status, chunk } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                );
                write.write_all(head.as_bytes()).await?;
                let mut piece = format!("{chunk:x}\r\n").into_bytes();
                piece.extend(std::iter::repeat_n(b' ', chunk));
                piece.extend_from_slice(b"\r\n");
                loop {
                    write.write_all(&piece).await?;
                    sent.fetch_add(chunk as u64, Ordering::SeqCst);
                }
            }
            Answer::Declared { status, len } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
                );
                write.write_all(head.as_bytes()).await?;
                let zeros = vec![b' '; 64 * 1024];
                let mut left = len;
                while left > 0 {
                    let n = left.min(zeros.len() as u64) as usize;
                    write.write_all(&zeros[..n]).await?;
                    sent.fetch_add(n as u64, Ordering::SeqCst);
                    left -= n as u64;
                }
            }
        }
    }
}
