//! The object table's rows are read when they scroll into view, here in `update`: drawing only
//! reads what was prepared (it never parses a row for good nor grows the column widths).
use super::model::Model;
use crate::tui::view::Widths;

/// Reads the visible rows of the selected page (and the selected row, which the JSON pane's
/// title names) and grows the page's column widths with what they hold.
pub(super) fn prepare_visible_rows(m: &mut Model) {
    let height = m.table_height();
    let (offset, selected) = (m.row_offset, m.sel_row);
    let Some(page) = m
        .rounds
        .get_mut(m.sel_round)
        .and_then(|r| r.pages.get_mut(m.sel_page))
    else {
        return;
    };
    let start = offset.min(page.rows.len());
    let visible = &page.rows[start..(start + height).min(page.rows.len())];
    for row in visible {
        row.prepare();
    }
    if let Some(row) = page.rows.get(selected) {
        row.prepare();
    }
    let seen = Widths::measure(visible, &m.columns);
    page.widths.grow(seen);
}
