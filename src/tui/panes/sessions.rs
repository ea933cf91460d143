//! The stored sessions picker: each session of the store with its resource, query, Graph root,
//! identity, rounds and the age of its last deltaLink (against how long such tokens live).
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::text::one_line;
use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::ellipsize;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let rows = m.sessions.as_ref().map_or(0, |s| s.entries.len());
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(8);
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(160),
        height.min(area.height.saturating_sub(2)),
        &format!(
            " Stored sessions ({} resumes, {} closes) ",
            m.keymap.key_label(Context::Picker, Action::Activate),
            m.keymap.key_label(Context::Picker, Action::Back)
        ),
        &m.theme,
    ));
    let t = &m.theme;
    let mut lines: Vec<Line> = Vec::new();
    let Some(view) = &m.sessions else {
        lines.push(Line::styled("reading the session store…", t.muted));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    lines.push(Line::from(vec![
        Span::styled("store ", t.label),
        Span::raw(
            one_line(if view.path.is_empty() {
                "(none)"
            } else {
                &view.path
            })
            .into_owned(),
        ),
    ]));
    lines.push(Line::raw(""));
    if let Some(why) = &view.unavailable {
        lines.push(Line::styled(one_line(why).into_owned(), t.warning_strong));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }
    if view.entries.is_empty() {
        lines.push(Line::styled(
            "no stored session yet: every page the explorer fetches is recorded here",
            t.muted,
        ));
    }
    let width = usize::from(inner.width);
    // The rows that fit, scrolled so that the cursor shows.
    let room = usize::from(inner.height).saturating_sub(5).max(1);
    let first = m.session_cursor.saturating_sub(room - 1);
    for (i, e) in view.entries.iter().enumerate().skip(first).take(room) {
        let selected = i == m.session_cursor;
        let marker = if selected { "▶ " } else { "  " };
        let style = match (selected, e.refused.is_some()) {
            (true, _) => t.picker_selection,
            (false, true) => t.muted,
            (false, false) => Style::new(),
        };
        lines.push(Line::styled(
            ellipsize(&one_line(&format!("{marker}{}", e.line)), width),
            style,
        ));
    }
    let chosen = view.entries.get(m.session_cursor);
    lines.push(Line::raw(""));
    if let Some(why) = chosen.and_then(|e| e.refused.as_deref()) {
        lines.push(Line::styled(one_line(why).into_owned(), t.warning));
    } else {
        lines.push(Line::styled(
            "Resuming replays the session's pages (the same rounds, marks and replica) and \
             continues from its last deltaLink; the rounds on screen are replaced.",
            t.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
