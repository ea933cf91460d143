//! A search of every page of the session: the prompt, then the hits (round, page, object and
//! the text around the match); `enter` goes to one.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::text::one_line;
use crate::tui::app::{LineTarget, Mode, Model};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::ellipsize;
use crate::tui::view::search::MAX_HITS;

/// The search or the jq filter being typed.
pub fn draw_prompt(frame: &mut Frame, area: Rect, m: &Model) {
    let (title, lead, input) = match &m.mode {
        Mode::Line {
            target: LineTarget::SessionSearch,
            input,
        } => (
            " Search every page of the session (enter searches, esc cancels) ",
            "/",
            input,
        ),
        Mode::Line {
            target: LineTarget::Jq,
            input,
        } => (
            if m.jq_on_replica {
                " jq filter over the replica: an array of the live objects (enter runs, esc cancels) "
            } else {
                " jq filter over the selected page (enter runs, esc cancels) "
            },
            "jq ",
            input,
        ),
        _ => return,
    };
    let t = &m.theme;
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(8).min(100),
        3,
        title,
        t,
    ));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(lead, t.prompt),
            Span::styled(format!("{}▏", one_line(input)), t.input),
        ])),
        inner,
    );
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let t = &m.theme;
    let title = match &m.found {
        Some(f) => format!(
            " {} for {:?} in {} pages ({} goes to one, {} closes) ",
            crate::graph::round::plural(f.total, "hit", "hits"),
            f.query,
            f.pages,
            m.keymap.key_label(Context::Picker, Action::Activate),
            m.keymap.key_label(Context::Picker, Action::Back)
        ),
        None => " Searching every page… ".to_owned(),
    };
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(160),
        area.height.saturating_sub(4),
        &ellipsize(&one_line(&title), usize::from(area.width.saturating_sub(8))),
        t,
    ));
    let Some(found) = &m.found else {
        return;
    };
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    if found.hits.is_empty() {
        lines.push(Line::styled(
            "no page of the session holds it (the search reads the bodies as received; a \
             query with a capital letter matches case exactly)",
            t.muted,
        ));
    }
    let room = usize::from(inner.height).saturating_sub(1).max(1);
    let first = m.found_cursor.saturating_sub(room - 1);
    for (i, hit) in found.hits.iter().enumerate().skip(first).take(room) {
        let selected = i == m.found_cursor;
        let style = if selected {
            t.picker_selection
        } else {
            Style::new()
        };
        let marker = if selected { "▶ " } else { "  " };
        lines.push(Line::styled(
            ellipsize(&one_line(&format!("{marker}{}", hit.line)), width),
            style,
        ));
    }
    if found.total > found.hits.len() {
        lines.push(Line::styled(
            format!("(the first {MAX_HITS} of {} are listed)", found.total),
            t.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
