//! Plain data the panes draw from. The runtime fills these from the engine once, when the data
//! arrives; drawing only slices them (nothing here is parsed or formatted per frame).
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::value::RawValue;
use std::time::Instant;

/// Text that lives inside a bigger shared buffer (an object inside its page): a range of the
/// page body as the engine received it (`Bytes`, reference-counted), so 100,000 objects do not
/// mean 100,000 copies of their JSON, and the explorer and the engine's replica share one body.
/// The range is checked to be UTF-8 when made.
#[derive(Clone, Default)]
pub struct SharedText {
    buf: bytes::Bytes,
    start: u32,
    end: u32,
}

impl SharedText {
    /// `range` of `buf`; a range that does not fit (or is not on char boundaries) is copied
    /// into its own buffer instead.
    pub fn new(buf: &bytes::Bytes, range: std::ops::Range<usize>) -> Self {
        let text = buf
            .get(range.clone())
            .and_then(|b| std::str::from_utf8(b).ok());
        match (u32::try_from(range.start), u32::try_from(range.end), text) {
            (Ok(start), Ok(end), Some(_)) => SharedText {
                buf: buf.clone(),
                start,
                end,
            },
            (_, _, text) => SharedText::from(text.unwrap_or("")),
        }
    }

    /// The whole of `buf`, when it is UTF-8 text (else empty).
    pub fn whole(buf: &bytes::Bytes) -> Self {
        SharedText::new(buf, 0..buf.len())
    }

    pub fn as_str(&self) -> &str {
        self.buf
            .get(self.start as usize..self.end as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl From<&str> for SharedText {
    fn from(s: &str) -> Self {
        SharedText::whole(&bytes::Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Arc<str>> for SharedText {
    fn from(s: Arc<str>) -> Self {
        SharedText::from(&*s)
    }
}

impl From<String> for SharedText {
    fn from(s: String) -> Self {
        SharedText::whole(&bytes::Bytes::from(s))
    }
}

impl std::ops::Deref for SharedText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for SharedText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for SharedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for SharedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for SharedText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// A table cell: the property name and its display text, as ranges into the object's JSON
/// (or, for text that had escapes or needed compacting, into the row's own buffer).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct CellSpan {
    name: (u32, u32),
    name_owned: bool,
    value: (u32, u32),
    value_owned: bool,
}

/// The cells of a row, built the first time the row is shown: only the rows of pages that are
/// looked at pay for them (100,000 objects would otherwise carry ~1x their JSON again).
#[derive(Clone, Debug, Default, PartialEq)]
struct Cells {
    spans: Box<[CellSpan]>,
    /// Display texts that are not verbatim in the JSON.
    owned: Box<str>,
}

/// One object of a page, as the results table shows it. Only the object's place in its page
/// is kept on arrival; what the table shows (id, removal, cells) is read from the JSON the first
/// time the row is drawn or asked about, then kept. 100,000 rows of pages nobody opens cost
/// ~50 bytes each.
#[derive(Clone, Debug, Default)]
pub struct ObjectRow {
    /// The same id was already seen earlier in this round.
    pub duplicate: bool,
    /// A further occurrence that only continues the object's relationships (a large group's
    /// next slice of `members@delta`): expected, not a duplicate.
    pub slice: bool,
    /// Fetched in a later minimal round: the properties present are the changed ones.
    minimal: bool,
    /// The object's raw JSON text as received (a range of the page body).
    pub json: SharedText,
    data: OnceLock<Box<RowData>>,
}

impl PartialEq for ObjectRow {
    fn eq(&self, other: &Self) -> bool {
        self.duplicate == other.duplicate
            && self.slice == other.slice
            && self.minimal == other.minimal
            && self.json == other.json
    }
}

#[derive(Clone, Debug, Default)]
struct RowData {
    id: SharedText,
    removed: Option<String>,
    changed_props: Vec<String>,
    cells: Cells,
}

impl PageView {
    /// The page was requested with `Prefer: return=minimal`.
    pub fn minimal(&self) -> bool {
        self.request_headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("prefer") && v.to_ascii_lowercase().contains("return=minimal")
        })
    }
}

#[derive(serde::Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The range of `part` inside `whole`, when `part` is a subslice of it.
fn range_in(whole: &str, part: &str) -> Option<(u32, u32)> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    if end > whole.len() {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

/// One line of the screen never shows more than this many characters of one text.
pub const LINE: usize = 1024;

/// A cell shows at most this many characters of a value: no column is wider, and a frame
/// measures every visible cell (a 10 MB string must not be measured 60 times a frame).
const MAX_CELL_CHARS: usize = 256;

/// What a table shows of a name or value from the server: cut to [`MAX_CELL_CHARS`], with
/// every character that may not reach a terminal escaped (`\u202e`). Borrowed when unchanged.
pub fn cell_text(s: &str) -> Cow<'_, str> {
    clipped(s, MAX_CELL_CHARS)
}

/// Text from outside for one line of the screen: at most `max` characters (then '…'), escaped
/// as [`crate::text::one_line`] does; costs no more than what is kept, however long `s` is.
pub fn clipped(s: &str, max: usize) -> Cow<'_, str> {
    let (head, cut) = match s.char_indices().nth(max) {
        Some((at, _)) => (&s[..at], true),
        None => (s, false),
    };
    match crate::text::one_line(head) {
        text if !cut => text,
        text => Cow::Owned(format!("{text}…")),
    }
}

fn keep(owned: &mut String, whole: &str, text: &str) -> ((u32, u32), bool) {
    let text = cell_text(text);
    let text = text.as_ref();
    match range_in(whole, text) {
        Some(r) => (r, false),
        None => {
            let start = u32::try_from(owned.len()).unwrap_or(u32::MAX);
            owned.push_str(text);
            let end = u32::try_from(owned.len()).unwrap_or(u32::MAX);
            ((start, end), true)
        }
    }
}

impl Cells {
    /// A display cell per property (strings as they are, other values as compact JSON); a
    /// relationship's changes (`X@delta`) are the `X` cell ("+20 links", "+1 -1 links");
    /// annotations (`@odata.*`, `@removed`) and `id` are not cells.
    fn build(whole: &str) -> Cells {
        let Ok(map) = serde_json::from_str::<BTreeMap<Text<'_>, &RawValue>>(whole) else {
            return Cells::default();
        };
        let mut owned = String::new();
        let mut spans = Vec::with_capacity(map.len());
        for (Text(k), v) in &map {
            let raw = v.get();
            // A relationship's changes (`members@delta`) are the `members` cell: how many links
            // came and went.
            if let Some(rel) = k.strip_suffix("@delta")
                && !rel.is_empty()
                && !rel.contains('@')
            {
                let Ok(links) = serde_json::from_str::<Vec<&RawValue>>(raw) else {
                    continue;
                };
                let gone = links
                    .iter()
                    .filter(|l| l.get().contains("\"@removed\""))
                    .count();
                let summary = match (links.len() - gone, gone) {
                    (added, 0) => format!("+{added} links"),
                    (0, gone) => format!("-{gone} links"),
                    (added, gone) => format!("+{added} -{gone} links"),
                };
                let (name, name_owned) = keep(&mut owned, whole, rel);
                let (value, value_owned) = keep(&mut owned, whole, &summary);
                spans.push(CellSpan {
                    name,
                    name_owned,
                    value,
                    value_owned,
                });
                continue;
            }
            if k == "id" || k.contains('@') {
                continue;
            }
            let compact;
            let value: &str = if raw.starts_with('"') {
                match serde_json::from_str::<Text<'_>>(raw) {
                    Ok(Text(Cow::Borrowed(s))) => s,
                    Ok(Text(text)) => {
                        compact = text.into_owned();
                        &compact
                    }
                    Err(_) => raw,
                }
            } else if !raw.bytes().any(|b| b.is_ascii_whitespace()) {
                // Already compact JSON (Graph sends no whitespace): shown as it is.
                raw
            } else {
                match serde_json::from_str::<serde_json::Value>(raw) {
                    Ok(v) => {
                        compact = v.to_string();
                        if compact == raw { raw } else { &compact }
                    }
                    Err(_) => raw,
                }
            };
            let (name, name_owned) = keep(&mut owned, whole, k);
            let (value, value_owned) = keep(&mut owned, whole, value);
            spans.push(CellSpan {
                name,
                name_owned,
                value,
                value_owned,
            });
        }
        Cells {
            spans: spans.into_boxed_slice(),
            owned: owned.into_boxed_str(),
        }
    }
}

impl ObjectRow {
    /// A row for one object's raw JSON. `minimal`: the object comes from a later minimal round,
    /// so every property present is a changed one. Nothing is parsed here.
    pub fn from_json(json: impl Into<SharedText>, minimal: bool, duplicate: bool) -> Self {
        ObjectRow {
            duplicate,
            slice: false,
            minimal,
            json: json.into(),
            data: OnceLock::new(),
        }
    }

    /// Marks the row as a relationship slice (see [`ObjectRow::slice`]).
    pub fn as_slice(mut self) -> Self {
        self.slice = true;
        self.duplicate = false;
        self
    }

    fn data(&self) -> &RowData {
        self.data
            .get_or_init(|| Box::new(RowData::build(&self.json, self.minimal)))
    }

    /// The object's `id` (empty when the object had none).
    pub fn id(&self) -> &str {
        self.data().id.as_str()
    }

    /// `Some(reason)` when the object carried `@removed` ("changed", "deleted", ...).
    pub fn removed(&self) -> Option<&str> {
        self.data().removed.as_deref()
    }

    /// In minimal rounds: the properties that came back (= changed). Empty otherwise.
    pub fn changed_props(&self) -> &[String] {
        &self.data().changed_props
    }

    /// Whether the property came back in a minimal round (so it changed).
    pub fn changed(&self, prop: &str) -> bool {
        self.changed_props().iter().any(|p| p == prop)
    }

    /// The display text of a property, if the object carried it.
    pub fn cell(&self, prop: &str) -> Option<&str> {
        let c = &self.data().cells;
        let json = self.json.as_str();
        c.spans
            .iter()
            .find(|s| text(c, json, s.name, s.name_owned) == prop)
            .map(|s| text(c, json, s.value, s.value_owned))
    }

    /// (property, display text) for every property the object carried, in key order.
    pub fn cells(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let c = &self.data().cells;
        let json = self.json.as_str();
        c.spans.iter().map(move |s| {
            (
                text(c, json, s.name, s.name_owned),
                text(c, json, s.value, s.value_owned),
            )
        })
    }

    /// Bytes this row holds besides the shared JSON (for memory figures).
    pub fn footprint(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.data.get().map_or(0, |d| {
                std::mem::size_of::<RowData>()
                    + d.cells.spans.len() * std::mem::size_of::<CellSpan>()
                    + d.cells.owned.len()
                    + d.changed_props
                        .iter()
                        .map(|p| std::mem::size_of::<String>() + p.capacity())
                        .sum::<usize>()
                    + d.removed.as_ref().map_or(0, |r| r.capacity())
            })
    }
}

/// A cell's name or value: a range of the row's JSON (`json`, taken once per call: checking it
/// is UTF-8 costs a pass over the object) or of the row's own buffer.
fn text<'a>(c: &'a Cells, json: &'a str, (start, end): (u32, u32), owned: bool) -> &'a str {
    let src = if owned { &c.owned } else { json };
    src.get(start as usize..end as usize).unwrap_or("")
}

impl RowData {
    /// `id`, `@removed.reason`, the changed properties of a minimal row, and the cells.
    fn build(json: &SharedText, minimal: bool) -> RowData {
        let mut row = RowData {
            cells: Cells::build(json.as_str()),
            ..Default::default()
        };
        let whole = json.as_str();
        let Ok(map) = serde_json::from_str::<BTreeMap<Text<'_>, &RawValue>>(whole) else {
            return row;
        };
        for (Text(k), v) in &map {
            let raw = v.get();
            if k == "id" {
                row.id = match serde_json::from_str::<Text<'_>>(raw) {
                    Ok(Text(Cow::Borrowed(id))) => match range_in(whole, id) {
                        Some((s, e)) => {
                            let base = json.start as usize;
                            SharedText::new(&json.buf, base + s as usize..base + e as usize)
                        }
                        None => SharedText::from(id),
                    },
                    Ok(Text(id)) => SharedText::from(id.as_ref()),
                    Err(_) => SharedText::from(raw),
                };
            } else if k == "@removed" {
                let reason = serde_json::from_str::<serde_json::Value>(raw)
                    .ok()
                    .and_then(|r| r.get("reason").and_then(|r| r.as_str()).map(str::to_owned));
                let reason = reason.map(|r| cell_text(&r).into_owned());
                row.removed = Some(reason.unwrap_or_else(|| "removed".to_owned()));
            } else if minimal && !k.contains('@') {
                row.changed_props.push(k.to_string());
            }
        }
        row
    }
}

/// One fetched page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageView {
    /// 1-based index of the page within its round.
    pub index: u32,
    /// The URL requested (for curl and the headers view).
    pub url: String,
    pub status: u16,
    pub item_count: usize,
    pub bytes: u64,
    pub elapsed_ms: u64,
    pub retries: u32,
    /// `value` was empty (a page that still carries a nextLink is legal and worth flagging).
    pub empty: bool,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
    /// As sent; the runtime already shows `Authorization` redacted, and the pane redacts again.
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The page body exactly as received (shared with the engine, not copied).
    pub raw_json: SharedText,
    pub rows: Vec<ObjectRow>,
    /// The object table's column widths for this page so far (see [`WidthMemo`]).
    pub widths: WidthMemo,
}

/// Column widths of one page's object table, as the table has measured them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Widths {
    /// The property columns the widths are for.
    pub columns: Vec<String>,
    pub marker: usize,
    pub id: usize,
    /// One per property column.
    pub content: Vec<usize>,
}

/// The widths the object table has used for a page so far: they only grow as wider values
/// scroll into view, so columns do not jump while scrolling (and the table's layout stays the
/// same from frame to frame). Measured from the visible rows only, so a page is never read
/// whole for it. Not part of a page's identity: clones start afresh, all memos are equal.
#[derive(Default)]
pub struct WidthMemo(std::sync::Mutex<Option<Widths>>);

impl WidthMemo {
    /// Merges what the visible rows need into the memo (widest wins, per column) and returns
    /// the widths to draw with. Another set of columns starts afresh.
    pub fn grow(&self, seen: Widths) -> Widths {
        let Ok(mut memo) = self.0.lock() else {
            return seen;
        };
        let merged = match memo.take() {
            Some(old) if old.columns == seen.columns => Widths {
                marker: old.marker.max(seen.marker),
                id: old.id.max(seen.id),
                content: old
                    .content
                    .iter()
                    .zip(&seen.content)
                    .map(|(a, b)| *a.max(b))
                    .collect(),
                columns: seen.columns,
            },
            _ => seen,
        };
        *memo = Some(merged.clone());
        merged
    }
}

impl Clone for WidthMemo {
    fn clone(&self) -> Self {
        WidthMemo::default()
    }
}

impl PartialEq for WidthMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for WidthMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WidthMemo")
    }
}

/// A round: a starting URL, nextLinks, a deltaLink.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundView {
    /// 1-based.
    pub number: u32,
    pub pages: Vec<PageView>,
    /// The engine's one-line summary once the round completed (e.g. "round 2: 3 pages, ...").
    pub summary_line: Option<String>,
    pub delta_link: Option<String>,
    /// The round was fetched with `Prefer: return=minimal`.
    pub minimal: bool,
}

/// What the catalog says about one resource, as far as the query builder needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceView {
    /// Catalog name ("contacts", "recordings", ...).
    pub name: String,
    pub title: String,
    /// The resource's own path parameters, in display order.
    pub params: Vec<String>,
    pub known_properties: Vec<String>,
    pub default_properties: Vec<String>,
    pub supports_select: bool,
    pub supports_filter_ids: bool,
    pub supports_top: bool,
    pub supports_latest: bool,
    pub supports_minimal: bool,
}

/// A path parameter with its current value and the problem with it, if any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamView {
    pub name: String,
    pub value: String,
    pub error: Option<String>,
}

/// The `$select` checklist: the resource's known properties plus free entries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectView {
    /// (property, checked), known properties first, then free entries.
    pub items: Vec<(String, bool)>,
}

impl SelectView {
    pub fn from_known(known: &[String]) -> Self {
        Self {
            items: known.iter().map(|p| (p.clone(), false)).collect(),
        }
    }

    /// The checked properties, in checklist order.
    pub fn selected(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|(_, on)| *on)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// The first request as the engine will send it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestPreview {
    /// `Err(reason)` when no URL can be built yet.
    pub url: Result<String, String>,
    /// Never contains Authorization (it is added at send time).
    pub headers: Vec<(String, String)>,
}

impl Default for RequestPreview {
    fn default() -> Self {
        Self {
            url: Err("no query yet".to_owned()),
            headers: Vec::new(),
        }
    }
}

/// A validation message; `field` names the builder field it belongs to ("ids", "top", a param).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProblemView {
    pub field: String,
    pub message: String,
    pub is_error: bool,
}

/// Everything the query builder pane draws. The editable values are changed by `update`; the
/// derived part (`preview`, `problems`, param errors) is refreshed through
/// [`crate::tui::app::QueryPreviewer`] after each edit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryView {
    pub resources: Vec<ResourceView>,
    /// Index into `resources`.
    pub resource: usize,
    /// "v1.0" or "beta".
    pub api: String,
    pub params: Vec<ParamView>,
    pub select: SelectView,
    pub minimal: bool,
    /// The ids editor's lines (kept in sync with the text area by `update`).
    pub ids: Vec<String>,
    pub top: Option<u32>,
    pub latest: bool,
    pub preview: RequestPreview,
    pub problems: Vec<ProblemView>,
    /// Once a round has started the options live in the token: shown, not editable.
    pub frozen: bool,
    /// Values offered for parameters the person has not filled in (e.g. the demo tenant's
    /// meeting organizer), by parameter name.
    pub param_defaults: Vec<(String, String)>,
}

/// The limit Graph puts on `$filter=id eq ... or ...`.
pub const MAX_IDS: usize = 50;

impl QueryView {
    pub fn current(&self) -> Option<&ResourceView> {
        self.resources.get(self.resource)
    }

    /// The draft the engine needs to build (or validate) the first request.
    pub fn draft(&self) -> QueryDraft {
        QueryDraft {
            resource: self.current().map(|r| r.name.clone()).unwrap_or_default(),
            api: self.api.clone(),
            params: self
                .params
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
            select: self.select.selected(),
            ids: self
                .ids
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            minimal: self.minimal,
            top: self.top,
            latest: self.latest,
        }
    }

    /// Switch to resource `index`: its parameters (values kept by name) and its checklist.
    pub fn set_resource(&mut self, index: usize) {
        let Some(res) = self.resources.get(index).cloned() else {
            return;
        };
        self.resource = index;
        let old = std::mem::take(&mut self.params);
        self.params = res
            .params
            .iter()
            .map(|name| ParamView {
                name: name.clone(),
                value: old
                    .iter()
                    .find(|p| &p.name == name)
                    .map(|p| p.value.clone())
                    .filter(|v| !v.is_empty())
                    .or_else(|| {
                        self.param_defaults
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, v)| v.clone())
                    })
                    .unwrap_or_default(),
                error: None,
            })
            .collect();
        let mut select = SelectView::from_known(&res.known_properties);
        for (prop, on) in &self.select.items {
            if let Some(item) = select.items.iter_mut().find(|(p, _)| p == prop) {
                item.1 = *on;
            }
        }
        self.select = select;
        if !res.supports_top {
            self.top = None;
        }
        if !res.supports_latest {
            self.latest = false;
        }
        if !res.supports_minimal {
            self.minimal = false;
        }
        if !res.supports_filter_ids {
            self.ids.clear();
        }
    }
}

/// The query as plain values: what the runtime turns into the engine's `DeltaQuery`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryDraft {
    pub resource: String,
    pub api: String,
    pub params: Vec<(String, String)>,
    pub select: Vec<String>,
    pub ids: Vec<String>,
    pub minimal: bool,
    pub top: Option<u32>,
    pub latest: bool,
}

/// A failed fetch, ready to show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorView {
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// Graph `error.code`.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// What to do about it (from the engine's `GraphError::hint`).
    pub hint: Option<String>,
    /// A full resync is the way out (410, syncStateNotFound): the resync key is offered.
    pub needs_resync: bool,
    /// After a 403: what the token check finds missing, in plain sentences (the decoded
    /// claims' conclusions, never the token). Empty when it finds nothing or the token is not
    /// a JWT.
    pub token_problems: Vec<String>,
}

/// What the token check before a session's first request found: the token about to be sent,
/// decoded and checked against the query's resource and the Graph root. Only conclusions; the
/// token is not in it. The request is sent whatever it says (the server has the last word).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenCheckView {
    /// The catalog resource checked against.
    pub resource: Option<String>,
    /// What stops the request, in plain sentences (missing permission, expired, wrong cloud).
    pub problems: Vec<String>,
}

/// The fetch state machine, one state at a time.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum FetchState {
    #[default]
    Idle,
    /// Fetching page `page` (1-based, within the current round) since `since`.
    Fetching {
        page: u32,
        since: Instant,
    },
    /// Waiting out a `Retry-After` until `until`.
    Throttled {
        until: Instant,
        status: u16,
    },
    RoundComplete {
        delta_link: Option<String>,
    },
    Failed {
        error: ErrorView,
    },
}

/// Header names whose values never reach the screen.
pub fn redact_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} ***"),
            None => "***".to_owned(),
        }
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table_widths_only_grow_while_the_columns_stay() {
        let w = |cols: &[&str], marker, id, content: &[usize]| Widths {
            columns: cols.iter().map(|c| c.to_string()).collect(),
            marker,
            id,
            content: content.to_vec(),
        };
        let memo = WidthMemo::default();
        assert_eq!(
            memo.grow(w(&["a", "b"], 1, 36, &[5, 9])),
            w(&["a", "b"], 1, 36, &[5, 9])
        );
        // Narrower rows scrolled into view: the widths stay.
        assert_eq!(
            memo.grow(w(&["a", "b"], 1, 30, &[3, 4])),
            w(&["a", "b"], 1, 36, &[5, 9])
        );
        // A wider value: that column grows, the others stay.
        assert_eq!(
            memo.grow(w(&["a", "b"], 9, 36, &[12, 2])),
            w(&["a", "b"], 9, 36, &[12, 9])
        );
        // Other columns (another $select): measured afresh.
        assert_eq!(memo.grow(w(&["c"], 1, 20, &[4])), w(&["c"], 1, 20, &[4]));
        // A clone of a page starts afresh and compares equal.
        assert_eq!(memo.clone(), memo);
        assert_eq!(
            memo.clone().grow(w(&["c"], 1, 2, &[3])),
            w(&["c"], 1, 2, &[3])
        );
    }

    #[test]
    fn authorization_is_redacted_whatever_its_case() {
        assert_eq!(redact_header("Authorization", "Bearer abc"), "Bearer ***");
        assert_eq!(redact_header("authorization", "abc"), "***");
        assert_eq!(redact_header("Prefer", "return=minimal"), "return=minimal");
    }

    #[test]
    fn switching_resource_keeps_params_and_checks_by_name() {
        let contacts = ResourceView {
            name: "contacts".into(),
            known_properties: vec!["displayName".into(), "mail".into()],
            supports_select: true,
            supports_filter_ids: true,
            ..Default::default()
        };
        let users = ResourceView {
            name: "users".into(),
            params: vec![],
            known_properties: vec!["mail".into(), "userPrincipalName".into()],
            ..Default::default()
        };
        let mut q = QueryView {
            resources: vec![contacts, users],
            ..Default::default()
        };
        q.set_resource(0);
        q.select.items[1].1 = true;
        q.ids = vec!["x".into()];
        q.set_resource(1);
        assert_eq!(q.select.selected(), vec!["mail".to_string()]);
        assert!(q.ids.is_empty());
        assert_eq!(q.draft().resource, "users");
    }
}

/// What the token inspector shows: the decoded claims and the check against the query's
/// resource. Never the token itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenView {
    /// `(label, value)` lines: kind (app-only / delegated), tenant, app, audience, issuer,
    /// cloud, roles or scopes, expiry.
    pub lines: Vec<(String, String)>,
    /// The resource the token was checked against (the query's current one).
    pub resource: Option<String>,
    /// What stops the request (missing permission, expired, wrong cloud or audience).
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// Nothing to decode: why, in a plain sentence (the demo emulator's token, an opaque
    /// token, or the sign-in failed).
    pub unavailable: Option<String>,
}

/// Which sign-in to run: the one the explorer was started with (command line, environment), or
/// a profile of the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SignInTarget {
    #[default]
    Startup,
    Profile(String),
}

impl std::fmt::Display for SignInTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignInTarget::Startup => f.write_str("the start-up sign-in"),
            SignInTarget::Profile(name) => write!(f, "profile {name}"),
        }
    }
}

/// A device code to show: open `url` and enter `code` before `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCodeView {
    pub code: String,
    pub url: String,
    /// The sign-in service's own sentence.
    pub message: String,
    pub expires_at: Instant,
}

/// The sign-in state machine, one state at a time. `previous` is the sign-in still in force
/// (its description) while another one runs or after one failed.
#[derive(Clone, Debug, PartialEq)]
pub enum SignInState {
    /// No sign-in yet (the explorer's own starts with the runtime).
    SignedOut,
    /// Tokens are there; `who` says whose (`AuthPlan::describe`; empty when not known).
    Active { who: String },
    /// A sign-in runs in the background; `prompt` once the service handed out a device code.
    /// `renewal`: the sign-in in force needs the person again (its refresh token was refused,
    /// e.g. by a sign-in frequency policy) while a request waits for the token.
    Running {
        attempt: u64,
        target: SignInTarget,
        since: Instant,
        prompt: Option<DeviceCodeView>,
        previous: Option<String>,
        renewal: bool,
    },
    /// The last sign-in failed or was cancelled.
    Failed {
        target: SignInTarget,
        error: String,
        previous: Option<String>,
    },
}

impl Default for SignInState {
    fn default() -> Self {
        SignInState::Active { who: String::new() }
    }
}

/// One profile of the config file, as the picker lists it (profiles hold no secrets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileEntry {
    pub name: String,
    pub method: String,
    pub cloud: String,
    pub tenant: String,
    /// The Graph root when the profile names its own (else the cloud's).
    pub graph_root: Option<String>,
}

/// What the profile picker shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfilesView {
    /// The config file read (or looked for).
    pub path: Option<String>,
    /// The sign-in the explorer was started with, offered as the first choice.
    pub startup: String,
    pub entries: Vec<ProfileEntry>,
    /// Why there are no profiles to offer: no config file, or an invalid one (with its path).
    pub problem: Option<String>,
}
