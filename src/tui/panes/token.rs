//! The token inspector overlay: the decoded claims of the session's access token (never the
//! token), and what they mean for the query's resource.
use ratatui::Frame;
use ratatui::layout::Rect;
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
        &m.theme,
    );
    let t = &m.theme;
    let label = t.label;
    let mut lines: Vec<Line> = Vec::new();
    match &m.token {
        None => lines.push(Line::styled("asking the sign-in for the token…", t.muted)),
        Some(tv) => {
            if let Some(why) = &tv.unavailable {
                lines.push(Line::styled(one_line(why), t.warning_strong));
            }
            for (k, v) in &tv.lines {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<10}", one_line(k)), label),
                    Span::raw(one_line(v)),
                ]));
            }
            if let Some(r) = &tv.resource
                && tv.unavailable.is_none()
            {
                let (verdict, style) = if tv.problems.is_empty() {
                    ("OK", t.ok_strong)
                } else {
                    ("CANNOT READ", t.error_strong)
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<10}", "resource"), label),
                    Span::raw(format!("{} (", one_line(r))),
                    Span::styled(verdict, style),
                    Span::raw(")"),
                ]));
            }
            if !tv.problems.is_empty() || !tv.notes.is_empty() {
                lines.push(Line::raw(""));
            }
            for p in &tv.problems {
                lines.push(Line::from(vec![
                    Span::styled("problem   ", t.error_strong),
                    Span::styled(one_line(p), t.error),
                ]));
            }
            for n in &tv.notes {
                lines.push(Line::from(vec![
                    Span::styled("note      ", t.warning),
                    Span::raw(one_line(n)),
                ]));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
