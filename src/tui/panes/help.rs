//! The help overlay, generated from the keymap.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::Model;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let inner = super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(120),
        area.height.saturating_sub(2),
        " Keys (from the keymap; ? or esc closes; ctrl-c always quits) ",
    );
    let sections = m.keymap.help_sections();
    let mut all: Vec<Vec<Line>> = Vec::new();
    for (title, rows) in &sections {
        let mut lines = vec![Line::styled(
            *title,
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )];
        for (keys, what) in rows {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), Style::new().fg(Color::Cyan)),
                Span::raw(*what),
            ]));
        }
        lines.push(Line::raw(""));
        all.push(lines);
    }
    all.push(marks_section());
    // Global keys on the left, the pane keys on the right when there is room.
    let [left, right] = if inner.width >= 90 {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(inner)
    } else {
        [inner, Rect::default()]
    };
    // A pane section goes on the right while it fits there, else under the global keys.
    let mut left_lines: Vec<Line> = Vec::new();
    let mut right_lines: Vec<Line> = Vec::new();
    let height = usize::from(inner.height);
    for (i, lines) in all.into_iter().enumerate() {
        if i == 0 || right.width == 0 || right_lines.len() + lines.len() > height {
            left_lines.extend(lines);
        } else {
            right_lines.extend(lines);
        }
    }
    frame.render_widget(Paragraph::new(left_lines), left);
    if right.width > 0 {
        frame.render_widget(Paragraph::new(right_lines), right);
    }
}

/// What the marks of the results pane mean (the line under the table explains a page's own).
fn marks_section() -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        "Marks in the results",
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
    )];
    for mark in crate::tui::view::Mark::ALL {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<18}", mark.symbol()),
                Style::new().fg(Color::Cyan),
            ),
            Span::raw(mark.meaning()),
        ]));
    }
    lines.push(Line::raw(""));
    lines
}
