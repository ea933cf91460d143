//! The HTTP side: one GET per page, with the bearer token, a fresh `client-request-id` per
//! attempt, the round headers, timeouts, and retries on 429/503 after `Retry-After`.
//!
//! Links are followed as returned. The only change is the one the URL standard forces when a
//! link holds characters that are not allowed in a URI (`{`, `}` in a path, as in the seed's
//! placeholder links): they go out percent-encoded, and `Page::url` records what was sent.
//! A link on another origin than the Graph root is refused before anything is sent.
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio_util::sync::CancellationToken;

use super::error::GraphError;
use super::link;
use super::page::{Page, PageRequest, ParsedBody, is_query_header, parse_body};
use super::query::GraphRoot;
use crate::auth::{AccessToken, TokenSource};

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// For one attempt: connect, send, and read the whole body.
    pub timeout: Duration,
    /// Retries after 429/503 before giving up.
    pub max_retries: u32,
    /// The longest single Retry-After wait accepted; a longer one ends the fetch with the error.
    pub max_retry_wait: Duration,
    /// The largest response body read. A larger one is refused as soon as the limit is passed
    /// (or at once, when its `Content-Length` says so), before it takes the memory.
    pub max_body_bytes: usize,
    pub user_agent: String,
    /// Certificate authorities trusted besides the platform's (`--ca-cert`): an https emulator's
    /// or a TLS-inspecting proxy's.
    pub ca_certs: Option<crate::trust::CaCerts>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(60),
            max_retries: 5,
            max_retry_wait: Duration::from_secs(120),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: format!("deltascope/{}", env!("CARGO_PKG_VERSION")),
            ca_certs: None,
        }
    }
}

/// What a fetch is doing, for progress display.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchProgress {
    /// Attempt 1 is the first try.
    Sending {
        attempt: u32,
    },
    /// Throttled; the next attempt follows after `retry_after`.
    Throttled {
        status: u16,
        retry_after: Duration,
        attempt: u32,
    },
    Received {
        bytes: u64,
    },
}

/// Wait when a 429/503 carries no Retry-After.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// How much of an error body is read and kept: Graph's error envelopes are a few hundred bytes.
const ERROR_BODY_KEEP: usize = 8 * 1024;
/// The default body limit: a Graph delta page is rarely over a few MB (200 objects with every
/// property, or a group's slice of members), so this is far above any real page and far below
/// what would hurt the machine.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub struct GraphClient {
    root: GraphRoot,
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
    cfg: ClientConfig,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("root", &self.root)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    s
}

/// `Retry-After`: whole or fractional seconds, or an HTTP date; the server's value, not
/// clamped (a wait longer than the client accepts is refused where it is used, and the error says
/// what the server asked for). Absurd values saturate at `Duration::MAX`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&Utc) - Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

fn header_pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads Graph's error envelope `{"error":{"code","message","innerError":{…}}}`, leniently.
fn parse_error_body(
    body: &str,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, None, None, None);
    };
    let err = v.get("error");
    let s = |x: Option<&serde_json::Value>| x.and_then(|x| x.as_str()).map(str::to_owned);
    let code = s(err.and_then(|e| e.get("code")));
    let message = s(err.and_then(|e| e.get("message")))
        .or_else(|| {
            s(err
                .and_then(|e| e.get("message"))
                .and_then(|m| m.get("value")))
        })
        .or_else(|| s(v.get("error_description")));
    let inner = err.and_then(|e| e.get("innerError").or_else(|| e.get("innererror")));
    let rid = s(inner.and_then(|i| i.get("request-id")));
    let crid = s(inner.and_then(|i| i.get("client-request-id")));
    (code, message, rid, crid)
}

/// The response started but its body did not arrive whole (a timeout, or a connection cut
/// half-way): nothing of it is usable.
fn body_error(e: reqwest::Error, url: &str) -> GraphError {
    if e.is_timeout() {
        GraphError::Timeout {
            url: url.to_owned(),
        }
    } else {
        GraphError::Network(format!(
            "the response body stopped before its end (the connection was cut?), so the page was not used: {}",
            error_chain(&e.without_url())
        ))
    }
}

/// Why a body was not read whole.
enum BodyError {
    Transport(reqwest::Error),
    /// Over the limit: what `Content-Length` declared, if it did.
    TooLarge {
        declared: Option<u64>,
    },
}

/// Reads a body chunk by chunk, refusing it as soon as it passes `limit` (or at once when its
/// `Content-Length` is over it): a hostile or broken server cannot make the client hold more.
/// A body that came in one chunk is returned as that chunk (no copy: see [`exact_size`]).
async fn read_limited(response: &mut reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    if let Some(declared) = response.content_length()
        && declared > limit as u64
    {
        return Err(BodyError::TooLarge {
            declared: Some(declared),
        });
    }
    let mut first: Option<Bytes> = None;
    let mut more: Option<bytes::BytesMut> = None;
    let mut total = 0usize;
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(BodyError::TooLarge { declared: None });
        }
        match (&mut first, &mut more) {
            (None, None) => first = Some(chunk),
            (Some(_), None) => {
                let head = first.take().unwrap_or_default();
                let hint = response
                    .content_length()
                    .map_or(0, |l| usize::try_from(l).unwrap_or(limit).min(limit));
                let mut buf = bytes::BytesMut::with_capacity(hint.max(head.len() + chunk.len()));
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&chunk);
                more = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&chunk),
        }
    }
    Ok(match more {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// Reads at most `keep` bytes of an error body (and says whether there was more): what is
/// shown of it is all that is read, so an endless error body costs nothing.
async fn read_error_body(
    response: &mut reqwest::Response,
    keep: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut kept = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = keep - kept.len();
        if chunk.len() > room {
            kept.extend_from_slice(&chunk[..room]);
            return Ok((kept, true));
        }
        kept.extend_from_slice(&chunk);
    }
    Ok((kept, false))
}

impl GraphClient {
    pub fn new(
        root: GraphRoot,
        tokens: Arc<dyn TokenSource>,
        cfg: ClientConfig,
    ) -> Result<Self, GraphError> {
        let mut builder = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(30)))
            .user_agent(cfg.user_agent.clone())
            // A redirect could lead the token elsewhere; Graph does not redirect delta GETs.
            .redirect(reqwest::redirect::Policy::none());
        if root.as_str().starts_with("http://") {
            // A plain-http root (loopback only: the emulator) never sees TLS, since every
            // request stays on the root: no trust roots to load (loading the system's
            // certificates was most of the start-up time of a sync against the emulator).
            builder = builder.tls_certs_only(std::iter::empty());
        } else {
            builder = crate::trust::with_cas(builder, cfg.ca_certs.as_ref());
        }
        let http = builder
            .build()
            .map_err(|e| GraphError::Network(error_chain(&e)))?;
        Ok(GraphClient {
            root,
            http,
            tokens,
            cfg,
        })
    }

    pub fn root(&self) -> &GraphRoot {
        &self.root
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Fetches one page. Refuses (before sending anything) a URL that is not on the Graph
    /// root's origin; retries 429/503 after Retry-After within the configured bounds; returns
    /// as soon as `cancel` fires.
    pub async fn fetch(
        &self,
        req: &PageRequest,
        cancel: &CancellationToken,
        progress: &(dyn Fn(FetchProgress) + Send + Sync),
    ) -> Result<Page, GraphError> {
        self.fetch_unparsed(req, cancel, progress)
            .await?
            .parse_off_runtime()
            .await
    }

    /// [`GraphClient::fetch`] without parsing the body: the caller reads it
    /// ([`Unparsed::read`], [`Unparsed::parse`]) where it suits it (the headless sync reads a
    /// page as soon as it arrives, to send its nextLink while the page is written and applied).
    pub async fn fetch_unparsed(
        &self,
        req: &PageRequest,
        cancel: &CancellationToken,
        progress: &(dyn Fn(FetchProgress) + Send + Sync),
    ) -> Result<Unparsed, GraphError> {
        if cancel.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        let url = link::followable(&req.url, |u| self.root.same_origin(u)).map_err(|refusal| {
            match refusal {
                link::Refusal::Foreign(_) => GraphError::ForeignLink {
                    url: req.url.clone(),
                    root: self.root.to_string(),
                },
                other => GraphError::BadLink {
                    url: req.url.clone(),
                    reason: other.to_string(),
                },
            }
        })?;
        let wire = url.as_str().to_owned();
        if wire != req.url {
            tracing::debug!(link = %req.url, sent = %wire, "link percent-encoded by the URL standard");
        }
        let mut extra = HeaderMap::new();
        for (k, v) in &req.headers {
            if !is_query_header(k) {
                return Err(GraphError::InvalidRequest(format!(
                    "the header {:?} is not one a delta query sets (only {} go with the access token): not sent",
                    k,
                    super::page::QUERY_HEADERS.join(" and ")
                )));
            }
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| GraphError::InvalidRequest(format!("invalid header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| GraphError::InvalidRequest(format!("invalid value for header {k}")))?;
            extra.append(name, value);
        }

        let mut retries = 0u32;
        let mut throttled_for = Duration::ZERO;
        // A 401 gets one token refresh and, when that gives a new token, one more attempt.
        let mut refreshed: Option<AccessToken> = None;
        let mut tried_refresh = false;
        loop {
            let attempt = retries + 1;
            let token = match refreshed.take() {
                Some(t) => t,
                None => tokio::select! {
                    t = self.tokens.token() => t.map_err(|e| GraphError::Auth(e.to_string()))?,
                    _ = cancel.cancelled() => return Err(GraphError::Cancelled),
                },
            };
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let mut auth =
                HeaderValue::from_str(&format!("Bearer {}", token.secret())).map_err(|_| {
                    GraphError::Auth(
                        "the access token holds characters not allowed in a header".into(),
                    )
                })?;
            auth.set_sensitive(true);
            let mut request_headers: Vec<(String, String)> = vec![
                ("Authorization".into(), "Bearer ***".into()),
                ("client-request-id".into(), client_request_id.clone()),
                ("return-client-request-id".into(), "true".into()),
                ("Accept".into(), "application/json".into()),
            ];
            request_headers.extend(req.headers.iter().cloned());
            let builder = self
                .http
                .get(url.clone())
                .header(reqwest::header::AUTHORIZATION, auth)
                .header("client-request-id", client_request_id.as_str())
                .header("return-client-request-id", "true")
                .header(reqwest::header::ACCEPT, "application/json")
                .headers(extra.clone());
            progress(FetchProgress::Sending { attempt });
            let started_at = Utc::now();
            let started = Instant::now();
            let mut response = tokio::select! {
                r = builder.send() => r.map_err(|e| self.transport_error(&e, &req.url))?,
                _ = cancel.cancelled() => return Err(GraphError::Cancelled),
            };
            let status = response.status().as_u16();
            let headers = header_pairs(response.headers());

            if (200..300).contains(&status) {
                let limit = self.cfg.max_body_bytes;
                let body = tokio::select! {
                    b = read_limited(&mut response, limit) => b.map_err(|e| match e {
                        BodyError::Transport(e) => body_error(e, &req.url),
                        BodyError::TooLarge { declared } => GraphError::TooLarge {
                            url: req.url.clone(),
                            limit: limit as u64,
                            declared,
                        },
                    })?,
                    _ = cancel.cancelled() => return Err(GraphError::Cancelled),
                };
                let elapsed = started.elapsed();
                progress(FetchProgress::Received {
                    bytes: body.len() as u64,
                });
                return Ok(Unparsed(Page {
                    request: req.clone(),
                    url: wire,
                    status,
                    request_headers,
                    headers,
                    started_at,
                    elapsed,
                    throttled_for,
                    body,
                    items: Vec::new(),
                    next_link: None,
                    delta_link: None,
                    count: None,
                    context: None,
                    retries,
                    client_request_id,
                }));
            }

            // An error body: only what is kept of it is read (an endless one costs nothing).
            let (body, cut) = tokio::select! {
                b = read_error_body(&mut response, ERROR_BODY_KEEP) => b.map_err(|e| body_error(e, &req.url))?,
                _ = cancel.cancelled() => return Err(GraphError::Cancelled),
            };
            drop(response);
            progress(FetchProgress::Received {
                bytes: body.len() as u64,
            });

            if status == 401 && !tried_refresh {
                tried_refresh = true;
                let fresh = tokio::select! {
                    t = self.tokens.refresh() => t.ok(),
                    _ = cancel.cancelled() => return Err(GraphError::Cancelled),
                };
                if let Some(fresh) = fresh.filter(|f| f.secret() != token.secret()) {
                    refreshed = Some(fresh);
                    continue;
                }
            }

            let retry_after = header(&headers, "retry-after").and_then(parse_retry_after);
            let mut longest_wait = None;
            if (status == 429 || status == 503) && retries < self.cfg.max_retries {
                let wait = retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
                if wait > self.cfg.max_retry_wait {
                    longest_wait = Some(self.cfg.max_retry_wait);
                } else {
                    retries += 1;
                    progress(FetchProgress::Throttled {
                        status,
                        retry_after: wait,
                        attempt: retries + 1,
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => return Err(GraphError::Cancelled),
                    }
                    throttled_for += wait;
                    continue;
                }
            }

            let mut kept = String::from_utf8_lossy(&body).into_owned();
            let (code, message, inner_rid, inner_crid) = parse_error_body(&kept);
            if cut {
                // The last character may have been cut in two: lossy decoding made it U+FFFD.
                kept.push('…');
            }
            return Err(GraphError::Http {
                status,
                code,
                message: message.unwrap_or_else(|| {
                    if kept.trim().is_empty() {
                        String::new()
                    } else {
                        format!(
                            "unexpected error body: {}",
                            kept.chars().take(200).collect::<String>()
                        )
                    }
                }),
                request_id: header(&headers, "request-id")
                    .map(str::to_owned)
                    .or(inner_rid),
                client_request_id: header(&headers, "client-request-id")
                    .map(str::to_owned)
                    .or(inner_crid)
                    .or(Some(client_request_id)),
                retry_after,
                longest_wait,
                location: header(&headers, "location").map(str::to_owned),
                www_authenticate: header(&headers, "www-authenticate").map(str::to_owned),
                retries,
                url: req.url.clone(),
                body: kept,
            });
        }
    }

    fn transport_error(&self, e: &reqwest::Error, url: &str) -> GraphError {
        if e.is_timeout() {
            GraphError::Timeout {
                url: url.to_owned(),
            }
        } else {
            if crate::trust::is_untrusted_certificate(e) {
                return GraphError::Untrusted {
                    url: url.to_owned(),
                    reason: error_chain(e),
                };
            }
            GraphError::Network(error_chain(e))
        }
    }
}

/// The body as kept (the replica's objects are slices of it): in a buffer of its own size. A
/// body read in several chunks was collected into one already (kept as is); one that is a slice
/// of the connection's read buffer would keep that whole buffer alive, so it is copied.
fn exact_size(body: bytes::Bytes) -> bytes::Bytes {
    match body.try_into_mut() {
        Ok(own) => {
            // As a Vec the data sits at the start of its buffer, so `capacity` counts the whole
            // buffer (a BytesMut's counts only from where the body starts).
            let own: Vec<u8> = own.into();
            if own.capacity() - own.len() <= own.len() / 16 {
                bytes::Bytes::from(own)
            } else {
                bytes::Bytes::copy_from_slice(&own)
            }
        }
        Err(shared) => bytes::Bytes::copy_from_slice(&shared),
    }
}

/// Bodies at least this large are parsed on a blocking thread.
const PARSE_OFF_RUNTIME_FROM: usize = 16 * 1024;

/// A successful (2xx) response whose body has not been parsed yet: everything of the page but
/// its items and links.
#[derive(Debug)]
pub struct Unparsed(Page);

impl Unparsed {
    /// The body as received.
    pub fn body(&self) -> &bytes::Bytes {
        &self.0.body
    }

    /// Parses the body into the page, or says why it is not a delta page.
    ///
    /// The body is first put in a buffer of its own size ([`exact_size`]): here rather than
    /// where it is received, so that the copy is made where the page is parsed (the headless
    /// sync's blocking thread), not on the thread that sends the next request meanwhile.
    pub fn parse(self) -> Result<Page, GraphError> {
        let parsed = self.read()?;
        Ok(self.into_page(parsed))
    }

    /// Reads the body where it lies, without copying it: what the page will hold (its links
    /// and items). The headless sync reads a page this way as soon as it arrives, so that the
    /// next request it sends is the page's own confirmed nextLink.
    pub fn read(&self) -> Result<ParsedBody, GraphError> {
        parse_body(&self.0.request.url, &self.0.body)
    }

    /// The page, from [`Unparsed::read`]'s reading of this same body. The body moves into a
    /// buffer of its own size here ([`exact_size`]; item spans are offsets, so they hold).
    pub fn into_page(self, parsed: ParsedBody) -> Page {
        let mut page = self.0;
        page.body = exact_size(std::mem::take(&mut page.body));
        page.items = parsed.items;
        page.next_link = parsed.next_link;
        page.delta_link = parsed.delta_link;
        page.count = parsed.count;
        page.context = parsed.context;
        page
    }

    /// [`Unparsed::parse`]; a large body on tokio's blocking pool, so that the runtime's threads
    /// stay free for the network meanwhile (the next page's response is read while this one
    /// is parsed).
    pub async fn parse_off_runtime(self) -> Result<Page, GraphError> {
        if self.0.body.len() < PARSE_OFF_RUNTIME_FROM {
            return self.parse();
        }
        tokio::task::spawn_blocking(move || self.parse())
            .await
            .map_err(|e| GraphError::Network(format!("the page could not be parsed: {e}")))?
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_kept_in_a_buffer_of_its_own_size_copied_only_when_needed() {
        // Collected from chunks: already its own size, kept without a copy.
        let own = bytes::Bytes::from(b"{\"value\":[]}".to_vec());
        let at = own.as_ptr();
        let kept = exact_size(own);
        assert_eq!(kept.as_ptr(), at);

        // A slice of a larger read buffer: copied out, so the buffer can go.
        let buffer = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
        let slice = buffer.slice(100..1100);
        let kept = exact_size(slice);
        assert_eq!(kept.len(), 1000);
        drop(buffer);
        let own = kept.try_into_mut().unwrap();
        assert_eq!(own.capacity(), 1000);

        // The tail of a larger buffer nothing else uses any more: copied out too.
        let mut buf = bytes::BytesMut::with_capacity(64 * 1024);
        buf.extend_from_slice(&[b'x'; 60 * 1024]);
        drop(buf.split_to(60 * 1024));
        buf.extend_from_slice(&[b'y'; 4096]);
        let tail = buf.split().freeze();
        drop(buf);
        let kept = exact_size(tail);
        assert_eq!(Vec::from(kept.try_into_mut().unwrap()).capacity(), 4096);

        // Its own, but mostly spare capacity: copied to its size.
        let mut roomy = bytes::BytesMut::with_capacity(64 * 1024);
        roomy.extend_from_slice(b"{}");
        let kept = exact_size(roomy.freeze());
        assert_eq!(kept.try_into_mut().unwrap().capacity(), 2);
    }
}
