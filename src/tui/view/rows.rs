//! Fetched pages and their objects, as the results table and the JSON pane show them.
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::value::RawValue;

use super::fetch::ErrorView;
use super::marks::PageMarks;
use super::shared_text::SharedText;
use super::text::{LINE, cell_text, clipped};
use super::wrap::wrap;
use crate::graph::round::plural;

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
/// time the row scrolls into view or is asked about, then kept. 100,000 rows of pages nobody opens cost
/// ~50 bytes each.
#[derive(Clone, Debug, Default)]
pub struct ObjectRow {
    /// The same id was already seen earlier in this round.
    pub duplicate: bool,
    /// A further occurrence that only continues the object's relationships (a large group's
    /// next slice of `members@delta`): expected, not a duplicate.
    pub slice: bool,
    /// New to the session in a change round (created since the last round, or back after a
    /// hard deletion).
    pub new_object: bool,
    /// Back after a soft deletion earlier in the session.
    pub restored: bool,
    /// Fetched in a later minimal round: the properties present are the changed ones.
    minimal: bool,
    /// The object's raw JSON text as received (a range of the page body).
    pub json: SharedText,
    /// Written once, outside drawing: by `update` as the row scrolls into view, or by a
    /// question about the row (a copy of the page's ids). Drawing reads it through
    /// [`ObjectRow::shown`], which never fills it.
    data: OnceLock<Box<RowData>>,
}

impl PartialEq for ObjectRow {
    fn eq(&self, other: &Self) -> bool {
        self.duplicate == other.duplicate
            && self.slice == other.slice
            && self.new_object == other.new_object
            && self.restored == other.restored
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
            new_object: false,
            restored: false,
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

    /// Marks the row as new to the session (see [`ObjectRow::new_object`]).
    pub fn as_new(mut self) -> Self {
        self.new_object = true;
        self
    }

    /// Marks the row as restored (see [`ObjectRow::restored`]).
    pub fn as_restored(mut self) -> Self {
        self.restored = true;
        self
    }

    fn data(&self) -> &RowData {
        self.data
            .get_or_init(|| Box::new(RowData::build(&self.json, self.minimal)))
    }

    /// Reads what the table shows of the object, once: `update` calls it for the rows that
    /// scroll into view, so that drawing finds them read.
    pub fn prepare(&self) {
        self.data();
    }

    /// What the table shows of the object, for drawing: what [`ObjectRow::prepare`] read, or,
    /// for a row it did not reach, read now for this frame only (drawing stores nothing).
    pub fn shown(&self) -> ShownRow<'_> {
        let data = match self.data.get() {
            Some(d) => Cow::Borrowed(&**d),
            None => Cow::Owned(RowData::build(&self.json, self.minimal)),
        };
        ShownRow {
            row: self,
            json: self.json.as_str(),
            data,
        }
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
        self.data().cell(self.json.as_str(), prop)
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

/// What the table shows of one object, for one frame (see [`ObjectRow::shown`]).
pub struct ShownRow<'a> {
    row: &'a ObjectRow,
    json: &'a str,
    data: Cow<'a, RowData>,
}

impl ShownRow<'_> {
    /// The object's `id` (empty when the object had none).
    pub fn id(&self) -> &str {
        self.data.id.as_str()
    }

    /// `Some(reason)` when the object carried `@removed`.
    pub fn removed(&self) -> Option<&str> {
        self.data.removed.as_deref()
    }

    /// Whether the property came back in a minimal round (so it changed).
    pub fn changed(&self, prop: &str) -> bool {
        self.data.changed_props.iter().any(|p| p == prop)
    }

    /// The display text of a property, if the object carried it.
    pub fn cell(&self, prop: &str) -> Option<&str> {
        self.data.cell(self.json, prop)
    }

    pub fn slice(&self) -> bool {
        self.row.slice
    }

    pub fn duplicate(&self) -> bool {
        self.row.duplicate
    }

    pub fn new_object(&self) -> bool {
        self.row.new_object
    }

    pub fn restored(&self) -> bool {
        self.row.restored
    }

    /// The width of the table's marker for the row ("slice", "new", "restored", "✗ reason",
    /// "dup"), without building it (asked for every visible row of every frame).
    pub fn marker_width(&self) -> usize {
        if self.row.slice {
            return 5;
        }
        if self.row.new_object {
            return 3;
        }
        if self.row.restored {
            return 8;
        }
        let removed = self.removed().map_or(0, |r| 2 + r.chars().count());
        let dup = match (self.row.duplicate, removed) {
            (false, _) => 0,
            (true, 0) => 3,
            (true, _) => 4,
        };
        removed + dup
    }
}

/// A cell's name or value: a range of the row's JSON (`json`, taken once per call: checking it
/// is UTF-8 costs a pass over the object) or of the row's own buffer.
fn text<'a>(c: &'a Cells, json: &'a str, (start, end): (u32, u32), owned: bool) -> &'a str {
    let src = if owned { &c.owned } else { json };
    src.get(start as usize..end as usize).unwrap_or("")
}

impl RowData {
    fn cell<'a>(&'a self, json: &'a str, prop: &str) -> Option<&'a str> {
        let c = &self.cells;
        c.spans
            .iter()
            .find(|s| text(c, json, s.name, s.name_owned) == prop)
            .map(|s| text(c, json, s.value, s.value_owned))
    }

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
    /// The request that succeeded: from sending it to the end of its body.
    pub elapsed_ms: u64,
    /// Time spent waiting on `Retry-After` before that request (429/503 retries).
    pub waited_ms: u64,
    pub retries: u32,
    /// `value` was empty and the page carries a nextLink (legal, and worth flagging); a last
    /// page with no items and a deltaLink is not an empty page.
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
    /// The page belongs to a full round (the query's first round or a full resync), in which
    /// every object comes back.
    pub full_round: bool,
    /// What the engine found odd about the page (the `$top` known issue, a page with neither
    /// link, ...), in its own sentences.
    pub warnings: Vec<String>,
    /// The request failed: this row stands for it (its status, error code and request-id;
    /// `raw_json` holds the error body and the headers view its headers). Not a page of the
    /// round: it brought nothing, and the next request is for the same page.
    pub failure: Option<ErrorView>,
    /// The marks the page's objects carry (what the legend under the table explains).
    pub marks: PageMarks,
}

impl PageView {
    /// The engine's warning that the `$top` known issue may have cut the round short (a round
    /// of callRecording/callTranscript delta with `$top` that ended on a full page).
    pub fn known_issue(&self) -> Option<&str> {
        self.warnings
            .iter()
            .map(String::as_str)
            .find(|w| w.starts_with("known issue"))
    }
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

/// A property column is never measured wider than this: one long value must not starve the
/// others.
pub const MAX_COLUMN: usize = 32;

impl Widths {
    /// What `rows` need: the marker column as wide as its widest marker, the id as wide as the
    /// widest id, each property column as wide as its widest cell (and its header), capped at
    /// [`MAX_COLUMN`]. Reads through [`ObjectRow::shown`], so drawing may call it too.
    pub fn measure(rows: &[ObjectRow], columns: &[String]) -> Widths {
        let text_width = |t: &str| t.chars().count();
        let shown: Vec<ShownRow<'_>> = rows.iter().map(ObjectRow::shown).collect();
        let marker = shown
            .iter()
            .map(ShownRow::marker_width)
            .max()
            .unwrap_or(0)
            .max(1);
        let id = shown
            .iter()
            .map(|r| text_width(&cell_text(r.id())))
            .max()
            .unwrap_or(2)
            .max(2);
        let content = columns
            .iter()
            .map(|c| {
                let cells = shown
                    .iter()
                    .filter_map(|r| r.cell(c))
                    .map(|v| text_width(v) + 1)
                    .max()
                    .unwrap_or(1);
                cells
                    .max(text_width(&crate::text::one_line(c)))
                    .clamp(3, MAX_COLUMN)
            })
            .collect();
        Widths {
            columns: columns.to_vec(),
            marker,
            id,
            content,
        }
    }
}

/// The widths the object table has used for a page so far: they only grow as wider values
/// scroll into view, so columns do not jump while scrolling (and the table's layout stays the
/// same from frame to frame). Measured from the visible rows only, so a page is never read
/// whole for it; grown by `update` as rows scroll into view, read by drawing. Not part of a
/// page's identity: clones start afresh, all memos are equal.
#[derive(Default)]
pub struct WidthMemo(Option<Widths>);

impl WidthMemo {
    /// Merges what the visible rows need into the memo (widest wins, per column) and returns
    /// the widths to draw with. Another set of columns starts afresh.
    pub fn grow(&mut self, seen: Widths) -> Widths {
        let merged = self.merged(seen);
        self.0 = Some(merged.clone());
        merged
    }

    /// The widths to draw `seen` with: [`WidthMemo::grow`] without storing anything.
    pub fn merged(&self, seen: Widths) -> Widths {
        match &self.0 {
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
        }
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
    /// A full round: the query's first round, or a full resync later on.
    pub full: bool,
}

impl RoundView {
    /// What the round is, as its header says: the query's first round, a full resync (a new
    /// initial round later in the session), or the changes since the round before.
    pub fn kind(&self) -> &'static str {
        match (self.full, self.number) {
            (false, _) => "changes",
            (true, 1) => "initial",
            (true, _) => "full resync",
        }
    }

    /// The pages the round brought (without the rows of failed requests).
    pub fn fetched(&self) -> impl Iterator<Item = &PageView> {
        self.pages.iter().filter(|p| p.failure.is_none())
    }

    /// The `$top` known issue's warning, when it may have cut this round short.
    pub fn known_issue(&self) -> Option<&str> {
        self.pages.iter().find_map(PageView::known_issue)
    }

    /// The round's summary as the results pane shows it: the engine's line once the round
    /// ended (else what came so far), and the `$top` known issue's warning when it applies.
    pub fn summary_text(&self) -> String {
        let mut text = match &self.summary_line {
            Some(s) => clipped(s, 4 * LINE).into_owned(),
            None if self.fetched().next().is_none() => {
                format!("round {}: no page yet, its request failed", self.number)
            }
            None => {
                let items: usize = self.fetched().map(|p| p.item_count).sum();
                format!(
                    "round {} in progress: {}, {} so far",
                    self.number,
                    plural(self.fetched().count(), "page", "pages"),
                    plural(items, "item", "items")
                )
            }
        };
        if let Some(w) = self.known_issue() {
            text.push_str(" ⚠ ");
            text.push_str(&clipped(w, LINE));
        }
        text
    }

    /// [`RoundView::summary_text`] wrapped to `width` columns, in at most a quarter of the
    /// results pane's `height` (at least a line).
    pub fn summary_lines(&self, width: usize, height: usize) -> Vec<String> {
        wrap(&self.summary_text(), width, (height / 4).max(1))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reading_a_row_for_a_frame_stores_nothing() {
        let row = ObjectRow::from_json(r#"{"id":"a","mail":"x@y"}"#, false, false);
        let unread = row.footprint();
        assert_eq!(row.shown().cell("mail"), Some("x@y"));
        assert_eq!(row.footprint(), unread, "drawing read the row for good");
        row.prepare();
        assert!(row.footprint() > unread);
        assert_eq!(row.shown().id(), "a");
    }

    #[test]
    fn table_widths_only_grow_while_the_columns_stay() {
        let w = |cols: &[&str], marker, id, content: &[usize]| Widths {
            columns: cols.iter().map(|c| c.to_string()).collect(),
            marker,
            id,
            content: content.to_vec(),
        };
        let mut memo = WidthMemo::default();
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
        let mut fresh = memo.clone();
        assert_eq!(fresh.grow(w(&["c"], 1, 2, &[3])), w(&["c"], 1, 2, &[3]));
        // Reading the memo stores nothing.
        assert_eq!(memo.merged(w(&["c"], 9, 2, &[3])), w(&["c"], 9, 20, &[4]));
        assert_eq!(memo.merged(w(&["c"], 1, 2, &[3])), w(&["c"], 1, 20, &[4]));
    }
}
