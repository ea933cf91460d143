//! The Graph side: delta endpoints, state tokens, paging, default/minimal rules, faults.
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::Shared;
use super::clock::http_date;
use super::faults::{Answer, FaultKind};
use super::json::write_str;
use super::request::{GraphPath, parse_id_filter, parse_path, parse_query};
use super::store::{Change, Emit, Status, Store};
use super::tenant::{Coll, Rng, mix};
use super::token::{self, Frozen, Kind, Resource, TokenState};

/// Most ids `$filter=id eq` accepts (the documented limit).
pub const MAX_FILTER_IDS: usize = 50;
/// Largest page a client may ask for with `$top`.
pub const MAX_TOP: u32 = 999;
/// Recordings/transcripts page size without `$top`.
pub const ARTIFACT_PAGE_SIZE: usize = 10;

pub const SYNC_STATE_NOT_FOUND: &str = "The sync state generation is not found. The delta token is expired and data must be synchronized again.";

/// Per-request response context: ids and dates every response carries.
pub(crate) struct Ctx {
    pub request_id: String,
    pub client_request_id: String,
    pub now: DateTime<Utc>,
}

impl Ctx {
    pub fn new(headers: &HeaderMap, now: DateTime<Utc>) -> Self {
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ctx {
            request_id: uuid::Uuid::new_v4().to_string(),
            client_request_id,
            now,
        }
    }

    fn base_headers(&self, status: StatusCode, body: Body) -> Response {
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            h.insert("request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.client_request_id) {
            h.insert("client-request-id", v);
        }
        h.insert(
            "x-ms-ags-diagnostic",
            HeaderValue::from_static(r#"{"ServerInfo":{"DataCenter":"Local Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"deltascope-emulator"}}"#),
        );
        h.insert("OData-Version", HeaderValue::from_static("4.0"));
        if let Ok(v) = HeaderValue::from_str(&http_date(Utc::now())) {
            h.insert(header::DATE, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        resp
    }

    pub fn json(&self, status: StatusCode, body: Vec<u8>) -> Response {
        self.base_headers(status, Body::from(body))
    }

    pub fn error(&self, status: StatusCode, code: &str, message: &str) -> Response {
        let body = json!({
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": self.now.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": self.request_id,
                    "client-request-id": self.client_request_id,
                }
            }
        });
        self.json(status, serde_json::to_vec(&body).unwrap_or_default())
    }
}

fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

fn retry_after(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{}", secs as u64)
    } else {
        format!("{secs}")
    }
}

pub(crate) fn unauthorized(ctx: &Ctx, message: &str) -> Response {
    with_header(
        ctx.error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        ),
        "WWW-Authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
    )
}

/// What a request asks for once its URL and token are understood.
enum Start {
    /// A first request: a full round from now.
    Fresh,
    /// `$deltatoken=latest`: no objects, a deltaLink at the current position.
    Latest,
    Token(TokenState),
}

/// Everything needed to build links.
struct LinkCtx {
    base: String,
    version: String,
}

impl LinkCtx {
    fn root(&self) -> String {
        format!("{}/{}", self.base, self.version)
    }

    /// Builds the link carrying `token`. Directory resources: `$skiptoken` / `$deltatoken`;
    /// recordings and transcripts: the seed's form, `users({userId})` and `skipToken=` in both.
    fn link(&self, f: &Frozen, next: bool, token: &str) -> String {
        let root = self.root();
        match f.resource {
            Resource::Contacts | Resource::Users | Resource::Groups => {
                let coll = match f.resource {
                    Resource::Contacts => "contacts",
                    Resource::Groups => "groups",
                    _ => "users",
                };
                let name = if next { "$skiptoken" } else { "$deltatoken" };
                format!("{root}/{coll}/delta?{name}={token}")
            }
            Resource::Recordings | Resource::Transcripts => {
                let func = if f.resource == Resource::Recordings {
                    "getAllRecordings"
                } else {
                    "getAllTranscripts"
                };
                let user = f.user.as_deref().unwrap_or("");
                let org = f.organizer.as_deref().unwrap_or("");
                let start = f
                    .start
                    .as_deref()
                    .map(|s| format!(",startDateTime={s}"))
                    .unwrap_or_default();
                format!(
                    "{root}/users({user})/onlineMeetings/{func}(meetingOrganizerUserId='{org}'{start})/delta?skipToken={token}"
                )
            }
        }
    }

    fn context(&self, r: Resource) -> String {
        let root = self.root();
        match r {
            Resource::Contacts => format!("{root}/$metadata#contacts"),
            Resource::Users => format!("{root}/$metadata#users"),
            Resource::Groups => format!("{root}/$metadata#groups"),
            Resource::Recordings => format!("{root}/$metadata#Collection(callRecording)"),
            Resource::Transcripts => format!("{root}/$metadata#Collection(callTranscript)"),
        }
    }
}

fn coll_of(r: Resource) -> Coll {
    match r {
        Resource::Users => Coll::Users,
        Resource::Groups => Coll::Groups,
        _ => Coll::Contacts,
    }
}

/// Reads the query options of a first request into frozen options, validating them as Graph does.
fn freeze(
    path: &GraphPath,
    query: &[(String, String)],
) -> Result<(Frozen, bool), (StatusCode, &'static str, String)> {
    let bad = |code: &'static str, m: String| (StatusCode::BAD_REQUEST, code, m);
    let mut f = Frozen {
        resource: path.resource,
        user: path.user.clone(),
        organizer: path.organizer.clone(),
        start: path.start.clone(),
        select: None,
        ids: Vec::new(),
        top: None,
        members: false,
    };
    let mut latest = false;
    for (k, v) in query {
        match k.as_str() {
            "select" if path.resource.is_directory() => {
                let schema = coll_of(path.resource).schema();
                let mut mask = 0u32;
                for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if p.eq_ignore_ascii_case("id") {
                        continue;
                    }
                    if path.resource == Resource::Groups {
                        // Relationships: members is tracked as members@delta; owners is
                        // accepted and not tracked.
                        if p.eq_ignore_ascii_case("members") {
                            f.members = true;
                            continue;
                        }
                        if p.eq_ignore_ascii_case("owners") {
                            continue;
                        }
                    }
                    let i = schema.index(p).ok_or_else(|| {
                        bad(
                            "BadRequest",
                            format!(
                                "Parsing OData Select and Expand failed: Could not find a property named '{p}' on type 'microsoft.graph.{}'.",
                                schema.entity
                            ),
                        )
                    })?;
                    mask |= 1 << i;
                }
                f.select = Some(mask);
            }
            "select" => {}
            "filter" => {
                if !path.resource.is_directory() {
                    return Err(bad(
                        "BadRequest",
                        "$filter is not supported on this delta function.".into(),
                    ));
                }
                let ids = parse_id_filter(v).map_err(|m| bad("Request_UnsupportedQuery", m))?;
                if ids.len() > MAX_FILTER_IDS {
                    return Err(bad(
                        "Request_UnsupportedQuery",
                        format!(
                            "The $filter has {} ids; a delta query accepts at most {MAX_FILTER_IDS}.",
                            ids.len()
                        ),
                    ));
                }
                f.ids = ids;
            }
            "top" => {
                let n: u32 = v.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    bad(
                        "BadRequest",
                        format!("Invalid value '{v}' for $top: expected a positive integer."),
                    )
                })?;
                // users: $top is not supported on users delta and is silently ignored, as
                // Graph does. contacts: our choice is to honour it (capped at 999) so that
                // page sizes can be explored; recordings/transcripts honour it (documented).
                if !matches!(path.resource, Resource::Users | Resource::Groups) {
                    f.top = Some(n.min(MAX_TOP));
                }
            }
            "deltatoken" if v.eq_ignore_ascii_case("latest") => {
                if !path.resource.is_directory() {
                    return Err(bad(
                        "BadRequest",
                        "$deltatoken=latest is not supported on this delta function.".into(),
                    ));
                }
                latest = true;
            }
            "expand" | "orderby" | "search" | "skip" => {
                return Err(bad(
                    "Request_UnsupportedQuery",
                    format!("The query option '${k}' is not supported with delta queries."),
                ));
            }
            _ => {}
        }
    }
    if matches!(path.resource, Resource::Recordings | Resource::Transcripts) {
        match f.organizer.as_deref() {
            None | Some("") => {
                return Err(bad(
                    "BadRequest",
                    "The request is missing the required function parameter 'meetingOrganizerUserId'.".into(),
                ));
            }
            Some(o) if uuid::Uuid::parse_str(o).is_err() => {
                return Err(bad(
                    "BadRequest",
                    format!("Invalid meetingOrganizerUserId '{o}': expected a user id (GUID)."),
                ));
            }
            _ => {}
        }
        if let Some(s) = f.start.as_deref()
            && parse_start(s).is_none()
        {
            return Err(bad(
                "BadRequest",
                format!(
                    "Invalid startDateTime '{s}': expected an ISO 8601 date-time such as 2024-01-01T00:00:00Z."
                ),
            ));
        }
    }
    Ok((f, latest))
}

fn parse_start(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_matches('\'');
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Body-shaping faults that apply to this page.
#[derive(Default)]
struct BodyFaults {
    empty: bool,
    duplicate: bool,
    replay: bool,
    shuffle: bool,
    drop_next_link: bool,
    foreign: bool,
}

/// The Graph handler: every request that is not a control request.
pub(crate) async fn graph(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::new(req.headers(), sh.clock.now());
    if !sh.config.latency.is_zero() {
        tokio::time::sleep(sh.config.latency).await;
    }
    if req.method() != axum::http::Method::GET {
        return ctx.error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Delta functions support GET only.",
        );
    }
    let path = match parse_path(req.uri().path()) {
        Ok(p) => p,
        Err(e) => return ctx.error(StatusCode::BAD_REQUEST, "BadRequest", &e.0),
    };
    // Authorization: any bearer token is accepted; none is a 401.
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, tok) = v.trim().split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") && !tok.trim().is_empty()).then_some(tok.trim())
        });
    let Some(bearer) = bearer else {
        return unauthorized(&ctx, "Access token is empty.");
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| sh.local_addr.to_string());
    if sh.config.identity.enforce
        && let Err(resp) =
            super::identity::enforce(&sh, &ctx, &format!("http://{host}"), bearer, path.resource)
    {
        return *resp;
    }
    let links = LinkCtx {
        base: format!("http://{host}"),
        version: path.version.clone(),
    };
    let query = parse_query(req.uri().query());
    let minimal = path.resource.is_directory()
        && req
            .headers()
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"));

    // The state token, if any: options repeated beside it are ignored.
    let token_param = query
        .iter()
        .find(|(k, v)| (k == "skiptoken" || k == "deltatoken") && !v.eq_ignore_ascii_case("latest"))
        .map(|(_, v)| v.clone());
    let (frozen, start) = match token_param {
        Some(t) => {
            let state = match token::decode(sh.key, &t) {
                Ok(s) => s,
                Err(_) => {
                    return ctx.error(StatusCode::BAD_REQUEST, "BadRequest", "Badly formed token.");
                }
            };
            if state.query.resource != path.resource {
                return ctx.error(StatusCode::BAD_REQUEST, "BadRequest", "Badly formed token.");
            }
            let lifetime = i64::try_from(sh.config.token_lifetime.as_secs()).unwrap_or(i64::MAX);
            let (pos, next) = {
                let store = lock(&sh.store);
                (store.pos(), store.coll(coll_of(state.query.resource)).next)
            };
            let too_old = ctx.now.timestamp().saturating_sub(state.issued_at) > lifetime;
            let expired_fault = lock(&sh.faults)
                .take(|k| *k == FaultKind::Expired)
                .is_some();
            if state.instance != sh.instance || state.position > pos || too_old || expired_fault {
                return ctx.error(
                    StatusCode::BAD_REQUEST,
                    "syncStateNotFound",
                    SYNC_STATE_NOT_FOUND,
                );
            }
            // After the checks above, so that a token of an earlier run still asks for a resync.
            if !state.fits(pos, next) {
                return ctx.error(StatusCode::BAD_REQUEST, "BadRequest", "Badly formed token.");
            }
            (state.query.clone(), Start::Token(state))
        }
        None => match freeze(&path, &query) {
            Ok((f, latest)) => (f, if latest { Start::Latest } else { Start::Fresh }),
            Err((status, code, m)) => return ctx.error(status, code, &m),
        },
    };

    // Faults that answer instead of the page.
    let slow = lock(&sh.faults).take_slow();
    if let Some(ms) = slow {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let answer = lock(&sh.faults).take_answer();
    if let Some(a) = answer {
        return match a {
            Answer::Throttle(secs) => with_header(
                ctx.error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests. Retry after the time given in the Retry-After header.",
                ),
                "Retry-After",
                &retry_after(secs),
            ),
            Answer::Unavailable(secs) => with_header(
                ctx.error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Retry after the time given in the Retry-After header.",
                ),
                "Retry-After",
                &retry_after(secs),
            ),
            Answer::Unauthorized => unauthorized(
                &ctx,
                "Lifetime validation failed, the token is expired.",
            ),
            Answer::Forbidden => ctx.error(
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
            Answer::Gone => {
                let location = restart_link(&sh, &links, &frozen, ctx.now);
                with_header(
                    ctx.error(
                        StatusCode::GONE,
                        "resyncRequired",
                        "The sync state was reset. Restart a full synchronization from the URL in the Location header.",
                    ),
                    "Location",
                    &location,
                )
            }
        };
    }

    let body_faults = {
        let mut f = lock(&sh.faults);
        let is_delta_start = matches!(&start, Start::Token(s) if s.kind == Kind::DeltaLink);
        BodyFaults {
            empty: !matches!(start, Start::Latest) && f.take(|k| *k == FaultKind::Empty).is_some(),
            duplicate: f.has(|k| *k == FaultKind::Duplicate),
            replay: is_delta_start && f.take(|k| *k == FaultKind::Replay).is_some(),
            shuffle: f.take(|k| *k == FaultKind::Shuffle).is_some(),
            drop_next_link: f.has(|k| *k == FaultKind::DropNextLink),
            foreign: f.take(|k| *k == FaultKind::ForeignLink).is_some(),
        }
    };
    let malformed = lock(&sh.faults)
        .take(|k| *k == FaultKind::Malformed)
        .is_some();
    let truncated = lock(&sh.faults)
        .take(|k| *k == FaultKind::Truncated)
        .is_some();

    let mut body = build_page(&sh, &ctx, &links, &frozen, start, minimal, body_faults);
    if malformed {
        body = b"<html><body><h1>Bad gateway</h1></body></html>{\"value\":[".to_vec();
    }
    let resp = if truncated {
        let half = Bytes::from(body[..body.len() / 2].to_vec());
        use futures_util::StreamExt as _;
        // The first half goes out (headers and all) before the connection is cut.
        let stream = futures_util::stream::iter(vec![Ok::<Bytes, std::io::Error>(half)]).chain(
            futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "emulator fault: truncated body",
                ))
            }),
        );
        ctx.base_headers(StatusCode::OK, Body::from_stream(stream))
    } else {
        ctx.json(StatusCode::OK, body)
    };
    if minimal {
        with_header(resp, "Preference-Applied", "return=minimal")
    } else {
        resp
    }
}

/// Locks `m`, recovering it when a panic poisoned it: every change to the emulator's state is
/// made of steps that each leave it readable, and a poisoned lock would otherwise turn one
/// failed request into the failure of every later one.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A link that restarts a full round of the same frozen query (for 410 Location).
fn restart_link(sh: &Shared, links: &LinkCtx, f: &Frozen, now: DateTime<Utc>) -> String {
    let store = lock(&sh.store);
    let st = TokenState {
        instance: sh.instance,
        query: f.clone(),
        kind: Kind::Initial,
        position: store.pos(),
        end: store.coll(coll_of(f.resource)).next,
        cursor: 0,
        previous_position: None,
        duplicate_from: None,
        issued_at: now.timestamp(),
    };
    links.link(f, true, &token::encode(sh.key, &st))
}

/// Builds the 200 body for a page.
fn build_page(
    sh: &Shared,
    ctx: &Ctx,
    links: &LinkCtx,
    f: &Frozen,
    start: Start,
    minimal: bool,
    faults: BodyFaults,
) -> Vec<u8> {
    let mut store = lock(&sh.store);
    let now_ts = ctx.now.timestamp();
    let pos = store.pos();
    let mut base = TokenState {
        instance: sh.instance,
        query: f.clone(),
        kind: Kind::Initial,
        position: pos,
        end: 0,
        cursor: 0,
        previous_position: None,
        duplicate_from: None,
        issued_at: now_ts,
    };
    // The page state this request serves (Initial or DeltaPage), or a deltaLink at once.
    let page_state = match start {
        Start::Latest => None,
        Start::Fresh => {
            base.end = if f.resource.is_directory() {
                store.coll(coll_of(f.resource)).next
            } else {
                pos
            };
            Some(base.clone())
        }
        Start::Token(t) => match t.kind {
            Kind::Initial | Kind::DeltaPage => Some(TokenState {
                issued_at: now_ts,
                ..t
            }),
            Kind::DeltaLink => {
                let from = if faults.replay {
                    t.previous_position.unwrap_or(0)
                } else {
                    t.position
                };
                Some(TokenState {
                    kind: Kind::DeltaPage,
                    position: from,
                    end: pos,
                    cursor: 0,
                    previous_position: Some(t.position),
                    duplicate_from: None,
                    issued_at: now_ts,
                    ..t
                })
            }
        },
    };
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"{\"@odata.context\":");
    write_str(&mut out, &links.context(f.resource));
    let Some(state) = page_state else {
        let st = TokenState {
            kind: Kind::DeltaLink,
            previous_position: None,
            ..base
        };
        out.extend_from_slice(b",\"@odata.deltaLink\":");
        let link = links.link(f, false, &token::encode(sh.key, &st));
        write_str(&mut out, &foreignize(link, faults.foreign));
        if !f.resource.is_directory() {
            out.extend_from_slice(b",\"@odata.count\":0");
        }
        out.extend_from_slice(b",\"value\":[]}");
        return out;
    };

    let page = if faults.empty {
        Page {
            items: Vec::new(),
            next: Some(state.cursor),
            dup_from: state.duplicate_from,
            remaining_after_next: usize::MAX,
        }
    } else {
        collect_items(&mut store, links, f, &state, minimal, faults.duplicate)
    };
    drop(store);
    let mut items = page.items;
    if faults.shuffle && items.len() > 1 {
        let mut rng = Rng(mix(now_ts as u64 ^ items.len() as u64 ^ state.cursor));
        for i in (1..items.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
    let mut dup_used = false;
    // The link: a nextLink while items remain, else the deltaLink.
    let mut next = page.next;
    if next.is_some()
        && faults.drop_next_link
        && matches!(f.resource, Resource::Recordings | Resource::Transcripts)
        && f.top.is_some()
        && page.remaining_after_next <= f.top.unwrap_or(0) as usize
        && lock(&sh.faults)
            .take(|k| *k == FaultKind::DropNextLink)
            .is_some()
    {
        next = None;
    }
    let link = match next {
        Some(c) => {
            let d = if faults.duplicate && !faults.empty && !items.is_empty() {
                dup_used = true;
                Some(state.cursor)
            } else {
                page.dup_from.filter(|_| faults.empty)
            };
            let st = TokenState {
                cursor: c,
                duplicate_from: d,
                ..state.clone()
            };
            (true, links.link(f, true, &token::encode(sh.key, &st)))
        }
        None => {
            if faults.duplicate && items.len() > 1 {
                // Last page: repeat the first items within it.
                let k = items.len().min(3);
                let again: Vec<Vec<u8>> = items[..k].to_vec();
                items.extend(again);
                dup_used = true;
            }
            let (p, pf) = match state.kind {
                Kind::DeltaPage => (state.end, Some(state.position)),
                _ => (state.position, None),
            };
            let st = TokenState {
                kind: Kind::DeltaLink,
                position: p,
                end: 0,
                cursor: 0,
                previous_position: pf,
                duplicate_from: None,
                ..state.clone()
            };
            (false, links.link(f, false, &token::encode(sh.key, &st)))
        }
    };
    if dup_used {
        lock(&sh.faults).take(|k| *k == FaultKind::Duplicate);
    }
    out.extend_from_slice(if link.0 {
        b",\"@odata.nextLink\":"
    } else {
        b",\"@odata.deltaLink\":"
    });
    write_str(&mut out, &foreignize(link.1, faults.foreign));
    if !f.resource.is_directory() {
        use std::io::Write as _;
        let _ = write!(out, ",\"@odata.count\":{}", items.len());
    }
    out.extend_from_slice(b",\"value\":[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(it);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Moves a link to another origin (the foreign-link fault): same port, host 127.0.0.2.
fn foreignize(link: String, on: bool) -> String {
    if !on {
        return link;
    }
    let Some(rest) = link.strip_prefix("http://") else {
        return link;
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port = host.rsplit_once(':').map(|(_, p)| p).unwrap_or("80");
    format!("http://127.0.0.2:{port}{path}")
}

struct Page {
    items: Vec<Vec<u8>>,
    /// Cursor of the next page, if any.
    next: Option<u64>,
    dup_from: Option<u64>,
    /// Items left after the next page starts (for the drop-next-link fault).
    remaining_after_next: usize,
}

fn page_size(sh_default: usize, f: &Frozen) -> usize {
    match f.resource {
        Resource::Contacts => f.top.map_or(sh_default, |t| t as usize),
        Resource::Users | Resource::Groups => sh_default,
        Resource::Recordings | Resource::Transcripts => {
            f.top.map_or(ARTIFACT_PAGE_SIZE, |t| t as usize)
        }
    }
    .max(1)
}

fn collect_items(
    store: &mut Store,
    links: &LinkCtx,
    f: &Frozen,
    state: &TokenState,
    minimal: bool,
    _duplicate: bool,
) -> Page {
    let size = page_size(store_page_size(store), f);
    if f.resource == Resource::Groups {
        let p = store.group_page(f, state, minimal, size);
        return Page {
            items: p.items,
            next: p.next,
            dup_from: None,
            remaining_after_next: p.remaining_after_next,
        };
    }
    let mut items: Vec<Vec<u8>> = Vec::with_capacity(size + 3);
    if f.resource.is_directory() {
        let c = coll_of(f.resource);
        let schema = c.schema();
        let sel = f.select.unwrap_or(schema.default_mask);
        let ids: Option<Vec<u64>> = (!f.ids.is_empty()).then(|| {
            let mut v: Vec<u64> = f
                .ids
                .iter()
                .filter_map(|id| store.index_of(c, id))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        });
        match state.kind {
            Kind::DeltaPage => {
                let list = store.changes(
                    c,
                    state.position,
                    state.end,
                    sel,
                    ids.as_deref().unwrap_or(&[]),
                );
                if ids.as_ref().is_some_and(|v| v.is_empty()) {
                    return Page {
                        items,
                        next: None,
                        dup_from: None,
                        remaining_after_next: 0,
                    };
                }
                let write = |ch: &Change, items: &mut Vec<Vec<u8>>| {
                    let mut o = Vec::with_capacity(256);
                    store.write_change(c, *ch, sel, minimal, &mut o);
                    items.push(o);
                };
                if let Some(d) = state.duplicate_from {
                    for ch in list
                        .iter()
                        .skip(d as usize)
                        .take(3.min((state.cursor - d.min(state.cursor)) as usize))
                    {
                        write(ch, &mut items);
                    }
                }
                let start = state.cursor as usize;
                for ch in list.iter().skip(start).take(size) {
                    write(ch, &mut items);
                }
                let end = start.saturating_add(size);
                Page {
                    items,
                    next: (end < list.len()).then_some(end as u64),
                    dup_from: None,
                    remaining_after_next: list.len().saturating_sub(end),
                }
            }
            _ => {
                let emit = Emit::Full { sel };
                let coll = store.coll(c);
                let write = |idx: u64, items: &mut Vec<Vec<u8>>| {
                    let mut o = Vec::with_capacity(320);
                    store.write_object(c, idx, emit, &mut o);
                    items.push(o);
                };
                match &ids {
                    Some(list) => {
                        let list: Vec<u64> =
                            list.iter().copied().filter(|i| *i < state.end).collect();
                        if let Some(d) = state.duplicate_from {
                            for &idx in list.iter().skip(d as usize).take(3) {
                                if coll.status(idx) == Status::Live {
                                    write(idx, &mut items);
                                }
                            }
                        }
                        let start = state.cursor as usize;
                        for &idx in list.iter().skip(start).take(size) {
                            if coll.status(idx) == Status::Live {
                                write(idx, &mut items);
                            }
                        }
                        let end = start.saturating_add(size);
                        Page {
                            items,
                            next: (end < list.len()).then_some(end as u64),
                            dup_from: None,
                            remaining_after_next: list.len().saturating_sub(end),
                        }
                    }
                    None => {
                        if let Some(d) = state.duplicate_from {
                            let mut idx = d;
                            let mut k = 0;
                            while idx < state.cursor && k < 3 {
                                if coll.status(idx) == Status::Live {
                                    write(idx, &mut items);
                                    k += 1;
                                }
                                idx += 1;
                            }
                        }
                        let mut idx = state.cursor;
                        let mut k = 0;
                        while idx < state.end && k < size {
                            if coll.status(idx) == Status::Live {
                                write(idx, &mut items);
                                k += 1;
                            }
                            idx += 1;
                        }
                        Page {
                            items,
                            next: (idx < state.end).then_some(idx),
                            dup_from: None,
                            remaining_after_next: state.end.saturating_sub(idx) as usize,
                        }
                    }
                }
            }
        }
    } else {
        let transcript = f.resource == Resource::Transcripts;
        let org = f
            .organizer
            .as_deref()
            .and_then(|o| store.index_of(Coll::Users, o))
            .filter(|i| *i < store.organizers);
        let start_time = f.start.as_deref().and_then(parse_start);
        let list = match state.kind {
            Kind::DeltaPage => {
                store.artifact_list(org, start_time, Some(state.position), state.end)
            }
            _ => store.artifact_list(org, start_time, None, state.position),
        };
        let root = links.root();
        let write = |i: usize, items: &mut Vec<Vec<u8>>| {
            items.push(
                serde_json::to_vec(&store.artifact_json(i, transcript, &root)).unwrap_or_default(),
            );
        };
        if let Some(d) = state.duplicate_from {
            for &i in list.iter().skip(d as usize).take(3) {
                write(i, &mut items);
            }
        }
        let start = state.cursor as usize;
        for &i in list.iter().skip(start).take(size) {
            write(i, &mut items);
        }
        let end = start.saturating_add(size);
        Page {
            items,
            next: (end < list.len()).then_some(end as u64),
            dup_from: None,
            remaining_after_next: list.len().saturating_sub(end),
        }
    }
}

fn store_page_size(store: &Store) -> usize {
    store.page_size
}
