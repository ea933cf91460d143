//! The new query's question: what becomes of the rounds fetched so far.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::graph::round::plural;
use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let rounds = plural(m.rounds.len(), "round", "rounds");
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(76),
        9.min(area.height),
        " New query ",
        &m.theme,
    ));
    let mut lines = vec![
        Line::raw(format!(
            "The options can be edited again; the next fetch starts a new session from the \
             first request. What becomes of the {rounds} fetched so far?"
        )),
        Line::raw(""),
    ];
    if m.fetch.in_flight() {
        lines.push(Line::styled(
            "The running fetch is cancelled.",
            m.theme.warning,
        ));
    }
    for action in [Action::KeepRounds, Action::DropRounds, Action::Back] {
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {} ", m.keymap.key_label(Context::NewQuery, action)),
                m.theme.key_badge,
            ),
            Span::raw(format!(" {}", action.description_in(Context::NewQuery))),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
