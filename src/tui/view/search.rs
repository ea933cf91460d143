//! Search every page of the session: an id or any value, in the bodies as received. Smart
//! case: a query with a capital letter matches exactly, one without ignores ASCII case. Runs
//! off the UI thread (the bodies are shared, not copied); the hits say which round, page and
//! object, with a little of the text around them.
use super::shared_text::SharedText;

/// The most hits kept (the count goes on).
pub const MAX_HITS: usize = 10_000;

/// One page to search: where it is in the model, its body, and its objects' spans.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPage {
    pub round_index: usize,
    pub page_index: usize,
    /// The round's number and the page's, for people.
    pub round: u32,
    pub page: u32,
    pub body: SharedText,
    /// Each object's span in `body`, in page order (sorted, not overlapping).
    pub rows: Vec<std::ops::Range<usize>>,
    /// Each object's id (empty when it has none).
    pub ids: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchHit {
    pub round_index: usize,
    pub page_index: usize,
    /// The object the text is in (`None`: outside every object, e.g. in a link).
    pub row: Option<usize>,
    /// "round 2 · page 1 · <id>: …text around it…"
    pub line: String,
}

/// What a search of the session found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchView {
    pub query: String,
    pub hits: Vec<SearchHit>,
    /// Objects (and page-level places) that matched, all of them.
    pub total: usize,
    pub pages: usize,
}

/// Searches `pages` for `query` (one hit per object, however many times it matches there).
pub fn search(query: &str, pages: &[SearchPage]) -> SearchView {
    let mut view = SearchView {
        query: query.to_owned(),
        pages: pages.len(),
        ..Default::default()
    };
    let needle = query.as_bytes();
    if needle.is_empty() {
        return view;
    }
    let exact = query.chars().any(|c| c.is_ascii_uppercase()) || !query.is_ascii();
    for p in pages {
        let hay = p.body.as_bytes();
        let mut last_row: Option<Option<usize>> = None;
        for at in matches(hay, needle, exact) {
            let row = p.rows.partition_point(|r| r.end <= at);
            let row = p
                .rows
                .get(row)
                .filter(|r| r.start <= at && at + needle.len() <= r.end)
                .map(|_| row);
            if last_row == Some(row) {
                continue;
            }
            last_row = Some(row);
            view.total += 1;
            if view.hits.len() < MAX_HITS {
                let id = row
                    .and_then(|r| p.ids.get(r))
                    .filter(|id| !id.is_empty())
                    .map(String::as_str)
                    .unwrap_or("(the page's envelope)");
                view.hits.push(SearchHit {
                    round_index: p.round_index,
                    page_index: p.page_index,
                    row,
                    line: format!(
                        "round {} · page {} · {id}: {}",
                        p.round,
                        p.page,
                        around(hay, at, needle.len())
                    ),
                });
            }
        }
    }
    view
}

/// Every start of `needle` in `hay` (ASCII case ignored unless `exact`).
fn matches<'a>(
    hay: &'a [u8],
    needle: &'a [u8],
    exact: bool,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    if exact || !needle[0].is_ascii_alphabetic() && needle.iter().all(|b| !b.is_ascii_alphabetic())
    {
        return Box::new(memchr::memmem::find_iter(hay, needle));
    }
    let (lo, up) = (
        needle[0].to_ascii_lowercase(),
        needle[0].to_ascii_uppercase(),
    );
    Box::new(memchr::memchr2_iter(lo, up, hay).filter(move |&at| {
        hay.get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    }))
}

/// About 30 characters either side of the match, on one line.
fn around(hay: &[u8], at: usize, len: usize) -> String {
    let start = at.saturating_sub(30);
    let end = (at + len + 30).min(hay.len());
    let text = String::from_utf8_lossy(&hay[start..end]);
    let one: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{}{}{}",
        if start > 0 { "…" } else { "" },
        one,
        if end < hay.len() { "…" } else { "" }
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn page(body: &str) -> SearchPage {
        let buf = bytes::Bytes::copy_from_slice(body.as_bytes());
        let mut rows = Vec::new();
        let mut from = 0;
        while let Some(i) = body[from..].find("{\"id\"") {
            let start = from + i;
            let end = start + body[start..].find('}').unwrap() + 1;
            rows.push(start..end);
            from = end;
        }
        let ids = rows
            .iter()
            .map(|r| body[r.clone()].split('"').nth(3).unwrap().to_owned())
            .collect();
        SearchPage {
            round_index: 0,
            page_index: 0,
            round: 1,
            page: 1,
            body: SharedText::whole(&buf),
            rows,
            ids,
        }
    }

    #[test]
    fn hits_name_the_object_once_and_smart_case_decides() {
        let p = page(
            r#"{"value":[{"id":"a","n":"Ann ann"},{"id":"b","n":"Bob"}],"@odata.deltaLink":"x?ann=1"}"#,
        );
        let v = search("ann", std::slice::from_ref(&p));
        assert_eq!(v.total, 2);
        assert_eq!(v.hits[0].row, Some(0));
        assert!(
            v.hits[0].line.starts_with("round 1 · page 1 · a: "),
            "{}",
            v.hits[0].line
        );
        assert_eq!(v.hits[1].row, None);
        assert!(v.hits[1].line.contains("(the page's envelope)"));
        let v = search("Ann", std::slice::from_ref(&p));
        assert_eq!(v.total, 1);
        assert_eq!(search("zzz", &[p]).total, 0);
    }
}
