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
use super::store::{Change, Emit, Status, Store, page_window};
use super::tenant::{Api, Coll, Rng, mix};
use super::token::{self, Frozen, Kind, Resource, TokenState};

mod links;
mod objects;
mod pages;
use links::*;
use pages::*;

/// Most ids `$filter=id eq` accepts (the documented limit).
pub const MAX_FILTER_IDS: usize = 50;
/// Largest page a client may ask for with `$top`.
pub const MAX_TOP: u32 = 999;
/// Recordings/transcripts page size without `$top`.
pub const ARTIFACT_PAGE_SIZE: usize = 10;
/// The most objects a directory delta page holds when `Prefer: odata.maxpagesize` asks for more
/// (graph-delta.md: capped at 200 objects).
pub const MAX_DIRECTORY_PAGE: usize = 200;

/// What the request's `Prefer` headers ask for, as far as the resource honours it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Prefs {
    /// `return=minimal` (directory resources only).
    pub(super) minimal: bool,
    /// `odata.maxpagesize=N` (directory resources only), capped at [`MAX_DIRECTORY_PAGE`].
    pub(super) max_page: Option<usize>,
}

impl Prefs {
    /// Reads every `Prefer` header (a header may list several preferences, comma-separated;
    /// names are case-insensitive). Unknown preferences and unusable values are ignored, as
    /// preferences are: the server may always answer without them.
    pub(super) fn read(headers: &HeaderMap, resource: Resource) -> Prefs {
        let mut p = Prefs::default();
        let directory = resource.is_directory();
        if !directory && !resource.is_item_set() {
            return p;
        }
        let prefs = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim);
        for pref in prefs {
            let (name, value) = pref.split_once('=').unwrap_or((pref, ""));
            let (name, value) = (name.trim(), value.trim().trim_matches('"'));
            if directory
                && name.eq_ignore_ascii_case("return")
                && value.eq_ignore_ascii_case("minimal")
            {
                p.minimal = true;
            } else if name.eq_ignore_ascii_case("odata.maxpagesize")
                && let Ok(n) = value.parse::<u64>()
                && n >= 1
            {
                p.max_page = Some(
                    usize::try_from(n)
                        .unwrap_or(usize::MAX)
                        .min(MAX_DIRECTORY_PAGE),
                );
            }
        }
        p
    }

    /// The `Preference-Applied` header's value, when a preference was applied.
    pub(super) fn applied(&self) -> Option<String> {
        let mut out = Vec::new();
        if self.minimal {
            out.push("return=minimal".to_owned());
        }
        if let Some(n) = self.max_page {
            out.push(format!("odata.maxpagesize={n}"));
        }
        (!out.is_empty()).then(|| out.join(", "))
    }
}

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
    let origin = sh.origin(
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    );
    if sh.config.identity.enforce {
        match super::identity::enforce(&sh, &ctx, &origin, bearer, path.resource) {
            Err(resp) => return *resp,
            // Graph refuses `/me` to an app: it has no signed-in user.
            Ok(true) if path.resource.is_item_set() && path.user.as_deref() == Some("me") => {
                return ctx.error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                );
            }
            Ok(_) => {}
        }
    }
    let links = LinkCtx {
        base: origin,
        version: path.version.clone(),
    };
    let mut query = parse_query(req.uri().query());
    if let Some(t) = &path.token {
        query.push(("token".into(), t.clone()));
    }
    let prefs = Prefs::read(req.headers(), path.resource);

    // The state token, if any: options repeated beside it are ignored.
    let token_param = query
        .iter()
        .find(|(k, v)| {
            let drive_token = path.resource == Resource::DriveItems
                && k == "token"
                && crate::emulator::items::parse_time(v).is_none();
            (k == "skiptoken" || k == "deltatoken" || drive_token)
                && !v.eq_ignore_ascii_case("latest")
        })
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
            if !state.fits(pos, next)
                || (state.query.resource == Resource::DirectoryObjects
                    && !objects::fits(&lock(&sh.store), &state))
            {
                return ctx.error(StatusCode::BAD_REQUEST, "BadRequest", "Badly formed token.");
            }
            (state.query.clone(), Start::Token(Box::new(state)))
        }
        None => match freeze(&path, &query) {
            Ok((mut f, latest)) => {
                if let Err(resp) = scope_of(&sh, &ctx, &mut f) {
                    return *resp;
                }
                let start = if latest { Start::Latest } else { Start::Fresh };
                (f, start)
            }
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
                        // OneDrive's code (driveitem-delta.md): the client replaces what it
                        // holds with the new round, uploading nothing.
                        if frozen.resource == Resource::DriveItems {
                            "resyncChangesApplyDifferences"
                        } else {
                            "resyncRequired"
                        },
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

    // The first request's `$select`, as asked, for the first page's `@odata.context`.
    let asked_select = match start {
        Start::Fresh
            if path.resource.is_directory() && path.resource != Resource::DirectoryObjects =>
        {
            query
                .iter()
                .find(|(k, _)| k == "select")
                .map(|(_, v)| select_echo(v))
        }
        _ => None,
    };
    let mut body = build_page(
        &sh,
        &ctx,
        &links,
        &frozen,
        start,
        (prefs, asked_select.as_deref()),
        body_faults,
    );
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
    match prefs.applied() {
        Some(applied) => with_header(resp, "Preference-Applied", &applied),
        None => resp,
    }
}

/// Item sets: the drive or mail folder the path names, made canonical (a 404 for one the demo
/// tenant does not have).
fn scope_of(sh: &Shared, ctx: &Ctx, f: &mut Frozen) -> Result<(), Box<Response>> {
    let store = lock(&sh.store);
    // `users/{id or userPrincipalName}` and `groups/{id}` must be the tenant's (any of them
    // has the demo drive, mailbox and calendar).
    if let Some(owner) = f.user.as_deref()
        && let Some((kind, id)) = owner.split_once('/')
        && !known_owner(&store, kind, id)
    {
        let (code, message) = if f.resource == Resource::DriveItems {
            (
                "itemNotFound",
                "The resource could not be found.".to_string(),
            )
        } else {
            (
                "ErrorInvalidUser",
                format!("The requested user '{id}' is invalid."),
            )
        };
        return Err(Box::new(ctx.error(StatusCode::NOT_FOUND, code, &message)));
    }
    match f.resource {
        Resource::DriveItems => match f.scope.as_deref() {
            None => f.scope = Some(store.sets.drive_id.clone()),
            Some(d) if d == store.sets.drive_id => {}
            Some(_) => {
                return Err(Box::new(ctx.error(
                    StatusCode::NOT_FOUND,
                    "itemNotFound",
                    "The resource could not be found.",
                )));
            }
        },
        Resource::Messages | Resource::PersonalContacts | Resource::TodoTasks => {
            let scope = f.scope.as_deref().unwrap_or("inbox");
            let found = match f.resource {
                Resource::Messages => store.sets.folder(scope),
                Resource::PersonalContacts => store.sets.contact_folder(scope),
                _ => store.sets.todo_list(scope),
            };
            match found {
                Some(id) => f.scope = Some(id.to_string()),
                None => {
                    return Err(Box::new(ctx.error(
                        StatusCode::NOT_FOUND,
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    )));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether `kind/id` of an item-set path names one of the tenant's live users (by id, or by
/// the userPrincipalName it was generated with) or groups; sites are not checked.
fn known_owner(store: &Store, kind: &str, id: &str) -> bool {
    let live = |c: Coll| {
        store
            .index_of(c, id)
            .is_some_and(|i| store.coll(c).status(i) == Status::Live)
    };
    match kind.to_ascii_lowercase().as_str() {
        "users" => {
            live(Coll::Users)
                || (id.contains('@')
                    && (0..store.users.base).any(|i| {
                        store.coll(Coll::Users).status(i) == Status::Live
                            && crate::emulator::tenant::user_name_upn(store.seed, i)
                                .1
                                .eq_ignore_ascii_case(id)
                    }))
        }
        "groups" => live(Coll::Groups),
        _ => true,
    }
}

/// A `$select` list as Graph echoes it in `@odata.context`: the names as asked, in the order
/// asked, without blanks.
fn select_echo(v: &str) -> String {
    v.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// Locks `m`, recovering it when a panic poisoned it: every change to the emulator's state is
/// made of steps that each leave it readable, and a poisoned lock would otherwise turn one
/// failed request into the failure of every later one.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
