//! An object's history: its timeline across the session's rounds, read from the session store
//! (first seen, each change with the value before and after, removals and what their reason
//! means, restores, relationship links, duplicates and replays).
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::text::one_line;
use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::ellipsize;
use crate::tui::view::HistoryRole;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let t = &m.theme;
    let title = m.history.as_ref().map_or("History", |h| h.title.as_str());
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(150),
        area.height.saturating_sub(2),
        &ellipsize(
            &one_line(&format!(
                " {title} ({} scrolls, {} closes) ",
                m.keymap.key_label(Context::Overlay, Action::ScrollDown),
                m.keymap.key_label(Context::Overlay, Action::Back)
            )),
            usize::from(area.width.saturating_sub(8)),
        ),
        t,
    ));
    let Some(view) = &m.history else {
        frame.render_widget(
            Paragraph::new(Line::styled("reading the session store…", t.muted)),
            inner,
        );
        return;
    };
    if let Some(why) = &view.unavailable {
        frame.render_widget(
            Paragraph::new(Line::styled(one_line(why).into_owned(), t.warning_strong)),
            inner,
        );
        return;
    }
    let width = usize::from(inner.width);
    let lines: Vec<Line> = view
        .lines
        .iter()
        .skip(m.history_scroll)
        .take(usize::from(inner.height))
        .map(|(role, text)| {
            let style = match role {
                HistoryRole::Step => t.heading,
                HistoryRole::Change => t.changed,
                HistoryRole::Removed => t.removed,
                HistoryRole::Restored => t.restored,
                HistoryRole::Added => t.added,
                HistoryRole::Note => t.duplicate,
            };
            Line::styled(ellipsize(&one_line(text), width), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
