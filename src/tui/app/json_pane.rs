//! What the JSON pane shows for the selection (built once per selection, never per frame).
use super::model::{JsonTarget, Model};
use crate::tui::json_view::{JsonDoc, JsonView, TokenKind};
use crate::tui::view::{PageView, redact_header};

/// `update` hands to the runtime (see [`JsonView::show_json`]).
pub fn refresh_json(m: &mut Model) {
    let key = json_key(m);
    if m.json_key == Some(key) {
        return;
    }
    m.jq_shown = None;
    let Some(page) = m.selected_page() else {
        m.json = JsonView::default();
        m.json_key = None;
        return;
    };
    let body = match m.json_target {
        JsonTarget::Page => Ok(page.raw_json.clone()),
        JsonTarget::Object => match page.rows.get(m.sel_row) {
            Some(row) => Ok(row.json.clone()),
            None => Err(JsonDoc::plain("(no object on this page)")),
        },
        JsonTarget::Headers => Err(headers_doc(page)),
    };
    let h = m.json_height();
    match body {
        Ok(body) => m.json.show_json(body, h),
        Err(doc) => m.json.show_doc(doc, h),
    }
    m.json_key = Some(key);
}

/// What the JSON pane shows now, as a key: it is rebuilt only when this changes.
pub(super) fn json_key(m: &Model) -> (usize, usize, usize, JsonTarget) {
    let row = if m.json_target == JsonTarget::Object {
        m.sel_row
    } else {
        usize::MAX
    };
    (m.sel_round, m.sel_page, row, m.json_target)
}

pub(super) fn headers_doc(page: &PageView) -> JsonDoc {
    let mut lines: Vec<Vec<(String, TokenKind)>> = Vec::new();
    lines.push(vec![(format!("GET {}", page.url), TokenKind::Plain)]);
    lines.push(vec![("Request headers".to_owned(), TokenKind::Punct)]);
    for (n, v) in &page.request_headers {
        lines.push(vec![
            (format!("  {n}: "), TokenKind::Key),
            (redact_header(n, v), TokenKind::Str),
        ]);
    }
    lines.push(Vec::new());
    lines.push(vec![(
        format!("Response headers (HTTP {})", page.status),
        TokenKind::Punct,
    )]);
    for (n, v) in &page.response_headers {
        lines.push(vec![
            (format!("  {n}: "), TokenKind::Key),
            (redact_header(n, v), TokenKind::Str),
        ]);
    }
    JsonDoc::from_pieces(&lines)
}
