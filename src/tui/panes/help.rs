//! The help overlay, generated from the keymap, scrolled by its own keys (with a mark on its
//! lower border while there is more below, or above).
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{HelpLine, Model, help_page};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let page = help_page(&m.keymap, area);
    let close = m.keymap.key_label(Context::Overlay, Action::Back);
    let help = m.keymap.key_label(Context::Global, Action::Help);
    let inner = super::overlay(
        frame,
        area,
        page.rect.width,
        page.rect.height,
        &format!(" Keys (from the keymap; {help} or {close} closes; ctrl-c always quits) "),
        &m.theme,
    );
    let scroll = m.help_scroll.min(page.max_scroll());
    let areas: Vec<Rect> = if page.columns.len() == 2 {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)])
            .split(inner)
            .to_vec()
    } else {
        vec![inner]
    };
    for (column, area) in page.columns.iter().zip(areas) {
        let lines: Vec<Line> = column
            .iter()
            .skip(scroll)
            .take(page.visible)
            .map(|l| help_line(l, &m.theme))
            .collect();
        frame.render_widget(Paragraph::new(lines), area);
    }
    // On the lower border: whether there is more, and the keys that show it.
    let more_above = scroll > 0;
    let more_below = scroll < page.max_scroll();
    if (more_above || more_below) && inner.width > 4 && inner.height > 0 {
        let down = m.keymap.key_label(Context::Overlay, Action::PageDown);
        let up = m.keymap.key_label(Context::Overlay, Action::PageUp);
        let text = match (more_above, more_below) {
            (true, true) => format!(" ↑ more above ({up}) · ↓ more below ({down}) "),
            (false, true) => format!(" ↓ more below ({down}) "),
            _ => format!(" ↑ more above ({up}) "),
        };
        let border = Rect {
            x: inner.x + 1,
            y: inner.y + inner.height,
            width: inner.width - 2,
            height: 1,
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, m.theme.warning_strong)).alignment(Alignment::Right),
            border,
        );
    }
}

fn help_line<'a>(line: &'a HelpLine, t: &Theme) -> Line<'a> {
    match line {
        HelpLine::Title(ctx) => Line::styled(ctx.title(), t.overlay_heading),
        HelpLine::Heading(title) => Line::styled(*title, t.overlay_heading),
        HelpLine::Key(keys, what) => Line::from(vec![
            Span::styled(format!("  {keys:<18}"), t.key),
            Span::raw(*what),
        ]),
        HelpLine::Blank => Line::raw(""),
    }
}
