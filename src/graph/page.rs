//! A fetched page: the request, status, headers, timings, the raw body, and the items as spans
//! into that body. Parsing borrows from the body (`RawValue`), so an item is never copied or
//! turned into a `serde_json::Value` here.
use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::GraphError;
use super::scan::{self, Head};

/// How a request came to be.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum RequestKind {
    /// The query's first request (options in the URL), or a restart from a 410 Location.
    Initial,
    /// A nextLink: the next page of the current round.
    Next,
    /// A deltaLink: the first page of a later round.
    Delta,
}

/// The request headers a delta query sets, sent with every page of its rounds (`Prefer:
/// return=minimal`, `Prefer: odata.maxpagesize=N`, `ConsistencyLevel: eventual`). No other
/// header goes out from a [`PageRequest`]: one read from a state file edited by hand (`Host`,
/// `X-Forwarded-Host`, `Proxy-Authorization`) could send the bearer token elsewhere or beside
/// other credentials.
pub const QUERY_HEADERS: [&str; 2] = ["Prefer", "ConsistencyLevel"];

/// Whether `name` is one of [`QUERY_HEADERS`] (header names are case-insensitive).
pub fn is_query_header(name: &str) -> bool {
    QUERY_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// One GET to send. `headers` are the round's headers (e.g. `Prefer: return=minimal`), sent
/// again on every page; never `Authorization` (the client adds it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PageRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub kind: RequestKind,
}

impl PageRequest {
    /// Whether the round headers ask for `Prefer: return=minimal`.
    pub fn is_minimal(&self) -> bool {
        headers_ask_minimal(&self.headers)
    }
}

pub(crate) fn headers_ask_minimal(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("prefer")
            && v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
    })
}

/// Why an object was removed (`@removed.reason`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum RemovedReason {
    /// Soft-deleted (restorable) or out of scope.
    Changed,
    /// Deleted for good.
    Deleted,
    Other(String),
}

impl RemovedReason {
    pub fn parse(reason: &str) -> RemovedReason {
        if reason.eq_ignore_ascii_case("changed") {
            RemovedReason::Changed
        } else if reason.eq_ignore_ascii_case("deleted") {
            RemovedReason::Deleted
        } else {
            RemovedReason::Other(reason.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RemovedReason::Changed => "changed",
            RemovedReason::Deleted => "deleted",
            RemovedReason::Other(s) => s,
        }
    }
}

/// One entry of `value`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Item {
    /// The item's `id`: read it with [`Item::id`] or [`Page::item_id`].
    pub id: ItemId,
    pub removed: Option<RemovedReason>,
    /// The item's JSON text in [`Page::body`].
    pub span: Range<usize>,
    /// The item has a top-level `X@delta` list (relationship changes such as `members@delta`).
    #[serde(default)]
    pub links: bool,
}

/// Where an item's `id` is. Ids are written without escapes in practice, so they stay in the
/// body (no allocation per item); an id written with escapes is kept unescaped.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum ItemId {
    /// No `id`, or one that is not a string.
    #[default]
    Missing,
    /// The id's text in the body (between its quotes).
    InBody(Range<usize>),
    /// An id written with escapes, unescaped.
    Unescaped(Box<str>),
}

impl Item {
    /// The item's id, given the body of the page it came in.
    pub fn id<'a>(&'a self, body: &'a [u8]) -> Option<&'a str> {
        self.id_bytes(body)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The item's id as bytes, without [`Item::id`]'s UTF-8 check (the body was checked when
    /// the page was parsed): what the replica hashes and compares.
    pub fn id_bytes<'a>(&'a self, body: &'a [u8]) -> Option<&'a [u8]> {
        match &self.id {
            ItemId::Missing => None,
            ItemId::InBody(span) => body.get(span.clone()),
            ItemId::Unescaped(id) => Some(id.as_bytes()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Page {
    pub request: PageRequest,
    /// The URL as sent on the wire (equal to `request.url` unless the URL standard had to
    /// percent-encode characters that are not allowed in a URI, such as `{` in a path).
    pub url: String,
    pub status: u16,
    /// As sent; `Authorization` shown as `Bearer ***`.
    pub request_headers: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// When the request that produced this page was sent (the last attempt).
    pub started_at: DateTime<Utc>,
    /// From sending the last attempt to the end of the body.
    pub elapsed: Duration,
    /// Time spent waiting on Retry-After before the last attempt.
    pub throttled_for: Duration,
    pub body: Bytes,
    pub items: Vec<Item>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
    pub count: Option<u64>,
    pub context: Option<String>,
    pub retries: u32,
    pub client_request_id: String,
}

/// The top level of a page body. `V` is how `value` is read: as its item list in the same pass
/// (the common case, one scan), or as raw text when that did not fit, to say precisely what is
/// wrong.
#[derive(Deserialize)]
struct Envelope<'a, V> {
    #[serde(borrow, rename = "@odata.context")]
    context: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@odata.nextLink")]
    next_link: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@odata.deltaLink")]
    delta_link: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@odata.count")]
    count: Option<&'a RawValue>,
    value: Option<V>,
}

impl<'a, V> Envelope<'a, V> {
    /// The links, context and count, once `value` has been taken apart.
    fn without_value(self) -> Envelope<'a, ()> {
        Envelope {
            context: self.context,
            next_link: self.next_link,
            delta_link: self.delta_link,
            count: self.count,
            value: None,
        }
    }
}

#[derive(Deserialize)]
struct ItemHead<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow, rename = "@removed")]
    removed: Option<Removed<'a>>,
    #[serde(borrow)]
    deleted: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Removed<'a> {
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
}

/// The parts of a delta page's body, with items as spans into the body.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedBody {
    pub items: Vec<Item>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
    pub count: Option<u64>,
    pub context: Option<String>,
}

fn prefix(body: &[u8]) -> String {
    let cut = body.len().min(512);
    String::from_utf8_lossy(&body[..cut]).into_owned()
}

/// Parses a delta page body. Never panics; every way a body can be wrong is a `Malformed`.
pub fn parse_body(url: &str, body: &[u8]) -> Result<ParsedBody, GraphError> {
    parse_body_with(url, body, true)
}

/// [`parse_body`]; `use_scan` off reads the body with serde alone (the tests compare both ways).
///
/// With the scan, one pass of [`scan::scan_page`] checks the body and finds every item and its
/// head; serde then reads only the envelope around the `value` array (the body with the array
/// emptied, a few hundred bytes). When the scan is not sure, or serde does not accept that
/// envelope, the page is read by serde as a whole, which also words the errors.
fn parse_body_with(url: &str, body: &[u8], use_scan: bool) -> Result<ParsedBody, GraphError> {
    let malformed = |message: String| GraphError::Malformed {
        url: url.to_owned(),
        message,
        body_prefix: prefix(body),
    };
    let text = std::str::from_utf8(body).map_err(|e| {
        malformed(format!(
            "the body is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(malformed("the body is empty".into()));
    }
    let mut envelope_text = String::new();
    let scanned = if use_scan {
        read_scanned(text, &mut envelope_text)
    } else {
        None
    };
    let (env, items) = match scanned {
        Some(read) => read,
        None => read_by_serde(text, &malformed)?,
    };
    let mut read = Vec::with_capacity(items.len());
    for (i, (span, head)) in items.into_iter().enumerate() {
        let json = text.get(span.clone()).unwrap_or_default();
        if !json.starts_with('{') {
            return Err(malformed(format!(
                "item #{} of \"value\" is not a JSON object (it is {})",
                i + 1,
                json.chars().take(40).collect::<String>()
            )));
        }
        let (links, head) = match head {
            Some(head) => (head.links, read_head(json, span.start, head)),
            // The rare item the scan leaves to serde (escaped or repeated keys): its keys may be
            // written with escapes, so it is taken as possibly having relationship lists (the
            // replica then reads it whole, which is right either way).
            None => (true, head_by_serde(json, span.start)),
        };
        let (id, removed) = head.map_err(|e| {
            malformed(format!(
                "item #{} of \"value\" is not a valid object ({e})",
                i + 1
            ))
        })?;
        read.push(Item {
            id,
            removed,
            span,
            links,
        });
    }
    let count =
        match env.count {
            None => None,
            Some(raw) => {
                let t = raw.get().trim_matches('"');
                Some(t.parse::<u64>().map_err(|_| {
                    malformed(format!("@odata.count is not a count ({})", raw.get()))
                })?)
            }
        };
    let next_link = env.next_link.map(Cow::into_owned).filter(|s| !s.is_empty());
    let delta_link = env
        .delta_link
        .map(Cow::into_owned)
        .filter(|s| !s.is_empty());
    if next_link.is_none() && delta_link.is_none() {
        return Err(malformed(
            "the page has neither @odata.nextLink nor @odata.deltaLink, so the round can neither continue nor end".into(),
        ));
    }
    Ok(ParsedBody {
        items: read,
        next_link,
        delta_link,
        count,
        context: env.context.map(Cow::into_owned),
    })
}

/// Each item of `value`: its span in the body, and its head when the scan could read it.
type ItemSpans = Vec<(Range<usize>, Option<Head>)>;

/// The scan's reading of a page: the items from [`scan::scan_page`], the envelope from serde
/// over the body with `value` emptied (written into `buf`). `None` when either is not sure.
fn read_scanned<'b>(text: &str, buf: &'b mut String) -> Option<(Envelope<'b, ()>, ItemSpans)> {
    let page = scan::scan_page(text.as_bytes())?;
    let (before, after) = (text.get(..page.value.start)?, text.get(page.value.end..)?);
    buf.reserve(before.len() + after.len() + 2);
    buf.push_str(before);
    buf.push_str("[]");
    buf.push_str(after);
    let buf: &'b String = buf;
    let env = serde_json::from_str::<Envelope<'b, Vec<&RawValue>>>(buf).ok()?;
    env.value
        .as_ref()
        .is_some_and(Vec::is_empty)
        .then(|| (env.without_value(), page.items))
}

/// Serde's reading of a page: the envelope with `value` as raw items in one pass (or, when that
/// does not fit, a slower reading that says what is wrong), each item's head read by the scan.
fn read_by_serde<'t>(
    text: &'t str,
    malformed: &dyn Fn(String) -> GraphError,
) -> Result<(Envelope<'t, ()>, ItemSpans), GraphError> {
    let (env, raw_items) = match serde_json::from_str::<Envelope<'_, Vec<&RawValue>>>(text).ok() {
        Some(mut env) if env.value.is_some() => {
            let items = env.value.take().unwrap_or_default();
            (env.without_value(), items)
        }
        _ => envelope_slowly(text, malformed)?,
    };
    let base = text.as_ptr() as usize;
    let items = raw_items
        .iter()
        .map(|raw| {
            let json = raw.get();
            let start = (json.as_ptr() as usize).saturating_sub(base);
            (start..start + json.len(), scan::item_head(json.as_bytes()))
        })
        .collect();
    Ok((env, items))
}

/// Reads the id and the removal of an item from the spans the scan found ([`scan::Head`]).
/// `start` is the item's offset in the body.
fn read_head(
    json: &str,
    start: usize,
    head: Head,
) -> Result<(ItemId, Option<RemovedReason>), serde_json::Error> {
    let id = match head.id.and_then(|r| json.get(r.clone()).map(|t| (r, t))) {
        Some((r, t)) if t.len() >= 2 && t.starts_with('"') => {
            let inner = &t[1..t.len() - 1];
            if inner.contains('\\') {
                // An id that is not a string once unescaped (a lone surrogate such as
                // "\ud800") is no id, as serde's own reading says: the item is left out of
                // the replica with a warning, and the rest of the page is read.
                serde_json::from_str::<String>(t)
                    .map_or(ItemId::Missing, |id| ItemId::Unescaped(id.into()))
            } else {
                ItemId::InBody(start + r.start + 1..start + r.end - 1)
            }
        }
        _ => ItemId::Missing,
    };
    let removed = match head.removed.and_then(|r| json.get(r)) {
        Some(t) => serde_json::from_str::<Option<Removed<'_>>>(t)?.map(Removed::reason),
        None => None,
    };
    let facet = head.deleted.and_then(|r| json.get(r));
    Ok((id, removed.or_else(|| facet.and_then(deleted_facet))))
}

/// The same, with serde reading the whole item (what the scan leaves to it: escaped or
/// repeated keys).
fn head_by_serde(
    json: &str,
    start: usize,
) -> Result<(ItemId, Option<RemovedReason>), serde_json::Error> {
    let head: ItemHead<'_> = serde_json::from_str(json)?;
    let base = json.as_ptr() as usize;
    let id = match head.id.map(RawValue::get) {
        Some(t) if t.starts_with('"') && !t.contains('\\') && t.len() >= 2 => {
            let at = (t.as_ptr() as usize).saturating_sub(base);
            ItemId::InBody(start + at + 1..start + at + t.len() - 1)
        }
        Some(t) => match serde_json::from_str::<String>(t) {
            Ok(s) => ItemId::Unescaped(s.into()),
            Err(_) => ItemId::Missing,
        },
        None => ItemId::Missing,
    };
    let removed = head.removed.map(Removed::reason);
    Ok((
        id,
        removed.or_else(|| head.deleted.map(RawValue::get).and_then(deleted_facet)),
    ))
}

/// A `deleted` facet (driveItem delta: the item is gone, written with its `id` and the facet,
/// never with `@removed`) is a removal for good, as `@removed` with reason `deleted` is. Only an
/// object counts: `"deleted": null` or another value is a property like any other.
fn deleted_facet(value: &str) -> Option<RemovedReason> {
    value
        .trim_start()
        .starts_with('{')
        .then_some(RemovedReason::Deleted)
}

impl Removed<'_> {
    fn reason(self) -> RemovedReason {
        match self.reason {
            Some(reason) => RemovedReason::parse(&reason),
            None => RemovedReason::Other(String::new()),
        }
    }
}

impl Page {
    /// A page from a 200 body, with the metadata left at neutral values (status 200, no headers,
    /// now). The client fills them in; tests use it directly.
    pub fn parse(request: PageRequest, body: impl Into<Bytes>) -> Result<Page, GraphError> {
        let body: Bytes = body.into();
        let parsed = parse_body(&request.url, &body)?;
        Ok(Page {
            url: request.url.clone(),
            request,
            status: 200,
            request_headers: Vec::new(),
            headers: Vec::new(),
            started_at: Utc::now(),
            elapsed: Duration::ZERO,
            throttled_for: Duration::ZERO,
            body,
            items: parsed.items,
            next_link: parsed.next_link,
            delta_link: parsed.delta_link,
            count: parsed.count,
            context: parsed.context,
            retries: 0,
            client_request_id: String::new(),
        })
    }

    /// The id of item `i` (`None`: out of range, or the item has no string id).
    pub fn item_id(&self, i: usize) -> Option<&str> {
        self.items.get(i).and_then(|it| it.id(&self.body))
    }

    /// The raw JSON text of item `i` as received ("" if `i` is out of range).
    pub fn item_json(&self, i: usize) -> &str {
        self.items
            .get(i)
            .and_then(|it| self.body.get(it.span.clone()))
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The body as text (it was checked to be UTF-8 when parsed).
    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }

    /// A response header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The link that continues from this page: the nextLink, or the deltaLink ending the round.
    pub fn continuation(&self) -> Option<&str> {
        self.next_link.as_deref().or(self.delta_link.as_deref())
    }
}

/// The envelope and items the slow way, with a message for each way the body can be wrong.
fn envelope_slowly<'a>(
    text: &'a str,
    malformed: &dyn Fn(String) -> GraphError,
) -> Result<(Envelope<'a, ()>, Vec<&'a RawValue>), GraphError> {
    let env: Envelope<'_, &RawValue> = serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        malformed(match e.classify() {
            Category::Eof => format!(
                "the body ends early: truncated JSON after {} bytes",
                text.len()
            ),
            Category::Syntax => {
                let start = text.trim_start().chars().next().unwrap_or(' ');
                if start == '{' || start == '[' {
                    format!("the body is not valid JSON ({e})")
                } else {
                    format!(
                        "the body is not JSON (it starts with {:?})",
                        text.chars().take(40).collect::<String>()
                    )
                }
            }
            Category::Data => format!("the body is not a delta page object ({e})"),
            Category::Io => format!("cannot read the body ({e})"),
        })
    })?;
    let Some(value) = env.value else {
        return Err(malformed("the page has no \"value\" array".into()));
    };
    let raw_items: Vec<&RawValue> = if value.get().starts_with('[') {
        serde_json::from_str(value.get())
            .map_err(|e| malformed(format!("\"value\" is not a valid array ({e})")))?
    } else {
        return Err(malformed(format!(
            "\"value\" is not an array (it is {})",
            value.get().chars().take(40).collect::<String>()
        )));
    };
    Ok((env.without_value(), raw_items))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
