//! The replica view: every object the session knows of, with its state (live, soft-deleted,
//! deleted for good), the round that last changed it and the table's columns; counts per
//! state; a filter. Only the rows on the screen are drawn (a million objects draw as fast as
//! ten).
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::graph::replica::ObjectState;
use crate::text::one_line;
use crate::tui::app::{LineTarget, Mode, Model};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::ellipsize;

/// A column's width (values are cut with '…').
const COLUMN: usize = 22;
const ID: usize = 38;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let t = &m.theme;
    let title = match &m.replica {
        Some(v) => format!(
            " Replica · {} live · {} soft-deleted · {} deleted for good{} · {}{} (o sorts, O reverses, {} filters, | jq, {} history, {} closes) ",
            v.live,
            v.soft_deleted,
            v.hard_deleted,
            if m.replica_order.filter.is_empty() {
                String::new()
            } else {
                format!(
                    " · filter {:?}: {} shown",
                    m.replica_order.filter,
                    m.replica_shown.len()
                )
            },
            m.replica_order.describe(),
            if m.replica_arranging.is_some() {
                " (working…)"
            } else {
                ""
            },
            "/",
            m.keymap.key_label(Context::Global, Action::ObjectHistory),
            m.keymap.key_label(Context::Overlay, Action::Back)
        ),
        None => " Replica · reading the engine's replica… ".to_owned(),
    };
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
        &ellipsize(&one_line(&title), usize::from(area.width.saturating_sub(6))),
        t,
    ));
    let Some(view) = &m.replica else { return };
    let width = usize::from(inner.width);
    let mut header = format!("  {:<13} {:>5} {:<ID$}", "state", "round", "id");
    for c in &m.columns {
        header.push(' ');
        header.push_str(&format!("{:<COLUMN$}", ellipsize(c, COLUMN)));
    }
    let mut lines = vec![Line::styled(ellipsize(&header, width), t.table_header)];
    let room = usize::from(inner.height).saturating_sub(2);
    for (k, &i) in m
        .replica_shown
        .iter()
        .enumerate()
        .skip(m.replica_offset)
        .take(room)
    {
        let Some(r) = view.rows.get(i) else { continue };
        let selected = k == m.replica_cursor;
        let state_style = match r.state {
            ObjectState::Live => Style::new(),
            ObjectState::SoftDeleted => t.removed,
            ObjectState::HardDeleted => t.removed_row,
        };
        let shown = r.row.shown();
        let mut cells = String::new();
        for c in &m.columns {
            cells.push(' ');
            let v = shown.cell(c).unwrap_or("·");
            cells.push_str(&format!("{:<COLUMN$}", ellipsize(&one_line(v), COLUMN)));
        }
        let marker = if selected { "▶ " } else { "  " };
        let base = if selected { t.selection } else { Style::new() };
        let line = Line::from(vec![
            Span::styled(marker, base),
            Span::styled(format!("{:<13}", r.state.as_str()), state_style.patch(base)),
            Span::styled(format!(" {:>5} ", r.round), base),
            Span::styled(format!("{:<ID$}", ellipsize(&one_line(&r.id), ID)), base),
            Span::styled(cells, base),
        ]);
        lines.push(line);
    }
    if m.replica_shown.is_empty() {
        lines.push(Line::styled("no object matches the filter", t.muted));
    }
    let footer = match &m.mode {
        Mode::Line {
            target: LineTarget::ReplicaFilter,
            input,
        } => Line::from(vec![
            Span::styled("filter /", t.prompt),
            Span::styled(format!("{}▏", one_line(input)), t.input),
        ]),
        _ => Line::styled(
            format!(
                "{} of {} · the round is the last that changed the object",
                (m.replica_cursor + 1).min(m.replica_shown.len()),
                m.replica_shown.len()
            ),
            t.muted,
        ),
    };
    let body = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), body);
    frame.render_widget(
        Paragraph::new(footer),
        Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1.min(inner.height),
            ..inner
        },
    );
}
