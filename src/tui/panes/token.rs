//! The token inspector overlay: the decoded claims of the session's access token (never the
//! token), and what they mean for the query's resource.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::text::one_line;
use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let inner = super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(4).min(24),
        &format!(
            " Access token (decoded claims; the token itself is never shown; {} closes) ",
            m.keymap.key_label(Context::Overlay, Action::Back)
        ),
    );
    let label = Style::new().fg(Color::Cyan);
    let mut lines: Vec<Line> = Vec::new();
    match &m.token {
        None => lines.push(Line::styled(
            "asking the sign-in for the token…",
            Style::new().fg(Color::DarkGray),
        )),
        Some(t) => {
            if let Some(why) = &t.unavailable {
                lines.push(Line::styled(
                    one_line(why),
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
            }
            for (k, v) in &t.lines {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<10}", one_line(k)), label),
                    Span::raw(one_line(v)),
                ]));
            }
            if let Some(r) = &t.resource
                && t.unavailable.is_none()
            {
                let (verdict, style) = if t.problems.is_empty() {
                    ("OK", Style::new().fg(Color::Green))
                } else {
                    ("CANNOT READ", Style::new().fg(Color::Red))
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<10}", "resource"), label),
                    Span::raw(format!("{} (", one_line(r))),
                    Span::styled(verdict, style.add_modifier(Modifier::BOLD)),
                    Span::raw(")"),
                ]));
            }
            if !t.problems.is_empty() || !t.notes.is_empty() {
                lines.push(Line::raw(""));
            }
            for p in &t.problems {
                lines.push(Line::from(vec![
                    Span::styled(
                        "problem   ",
                        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(one_line(p), Style::new().fg(Color::Red)),
                ]));
            }
            for n in &t.notes {
                lines.push(Line::from(vec![
                    Span::styled("note      ", Style::new().fg(Color::Yellow)),
                    Span::raw(one_line(n)),
                ]));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
