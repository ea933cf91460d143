//! Screen areas, shared by drawing and mouse hit-testing (one function, so they agree).
use ratatui::layout::Rect;

use super::model::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    pub query: Rect,
    pub results: Rect,
    pub json: Rect,
    pub status: Rect,
}

/// The smallest terminal the layout is drawn in; below it a message is shown instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// The areas of a screen `area` whose status bar takes `status_h` rows (see
/// [`Model::status_height`]). On a narrow screen the query pane grows while the id editor is
/// open (`editing_ids`), so that the editor shows lines and the request preview its headers.
pub fn areas(area: Rect, status_h: u16, editing_ids: bool) -> Option<Areas> {
    use ratatui::layout::{Constraint, Layout};
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [title, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(status_h),
    ])
    .areas(area);
    let (query, right) = if area.width >= 120 {
        let [q, r] =
            Layout::horizontal([Constraint::Percentage(34), Constraint::Fill(1)]).areas(main);
        (q, r)
    } else {
        let [q, r] = Layout::vertical([
            Constraint::Percentage(if editing_ids { 60 } else { 40 }),
            Constraint::Fill(1),
        ])
        .areas(main);
        (q, r)
    };
    let [results, json] = if area.width >= 120 {
        Layout::vertical([Constraint::Percentage(55), Constraint::Fill(1)]).areas(right)
    } else {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(right)
    };
    Some(Areas {
        title,
        query,
        results,
        json,
        status,
    })
}

/// Rows of the results pane: the pages list on top, the object table under it, the legend of
/// its marks and the round's summary (wrapped) at the bottom. Returns (pages list, table incl.
/// header row, legend and summary) inside the border.
pub fn results_split(inner: Rect, page_lines: usize, bottom_lines: usize) -> (Rect, Rect, Rect) {
    use ratatui::layout::{Constraint, Layout};
    let max_list = (inner.height / 3).max(3);
    let list_h = u16::try_from(page_lines)
        .unwrap_or(u16::MAX)
        .clamp(1, max_list);
    let [list, table, summary] = Layout::vertical([
        Constraint::Length(list_h),
        Constraint::Fill(1),
        Constraint::Length(u16::try_from(bottom_lines.max(1)).unwrap_or(1)),
    ])
    .areas(inner);
    (list, table, summary)
}

pub(super) fn inner(r: Rect) -> Rect {
    Rect {
        x: r.x.saturating_add(1),
        y: r.y.saturating_add(1),
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

impl Model {
    pub(super) fn screen(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// Rows of the status bar on `screen`: two, more while a long error wraps.
    pub fn status_height(&self, screen: Rect) -> u16 {
        crate::tui::panes::status::height(self, screen)
    }

    /// The screen's areas at the model's size.
    pub(super) fn areas(&self) -> Option<Areas> {
        let screen = self.screen();
        areas(
            screen,
            self.status_height(screen),
            self.mode == super::model::Mode::EditIds,
        )
    }

    /// Visible lines of the JSON pane body (one line is kept for the search bar).
    pub fn json_height(&self) -> usize {
        self.areas()
            .map(|a| usize::from(inner(a.json).height.saturating_sub(1)))
            .unwrap_or(1)
            .max(1)
    }

    /// Columns of the JSON pane body (gutter and text).
    pub fn json_width(&self) -> usize {
        self.areas()
            .map(|a| usize::from(inner(a.json).width))
            .unwrap_or(1)
            .max(1)
    }

    /// Number of lines of the pages list (round headers + pages).
    pub fn page_lines(&self) -> usize {
        self.rounds.iter().map(|r| 1 + r.pages.len()).sum()
    }

    /// The lines under the object table in the results pane's `inner` area: the legend of
    /// the selected page's marks (when it has objects), then the selected round's summary.
    pub fn results_bottom(&self, inner: Rect) -> (bool, Vec<String>) {
        let legend = self.selected_page().is_some_and(|p| !p.rows.is_empty());
        let summary = self
            .selected_round()
            .map(|r| r.summary_lines(usize::from(inner.width), usize::from(inner.height)))
            .unwrap_or_default();
        (legend, summary)
    }

    /// The results pane's rows inside `inner` (see [`results_split`]).
    pub fn results_areas(&self, inner: Rect) -> (Rect, Rect, Rect) {
        let (legend, summary) = self.results_bottom(inner);
        results_split(
            inner,
            self.page_lines(),
            usize::from(legend) + summary.len(),
        )
    }

    /// Visible rows of the object table (without its header).
    pub fn table_height(&self) -> usize {
        self.areas()
            .map(|a| {
                let (_, table, _) = self.results_areas(inner(a.results));
                usize::from(table.height.saturating_sub(1))
            })
            .unwrap_or(1)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_exists_only_above_the_minimum() {
        assert!(areas(Rect::new(0, 0, 59, 40), 2, false).is_none());
        assert!(areas(Rect::new(0, 0, 60, 15), 2, false).is_some());
    }
}
