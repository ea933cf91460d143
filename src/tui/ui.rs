//! Drawing: `draw(frame, &Model)` only reads the model and slices what was prepared.
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::app::{MIN_HEIGHT, MIN_WIDTH, Mode, Model, areas};
use super::panes;
use super::theme::Theme;
use crate::text::{is_unsafe, one_line};

pub fn draw(frame: &mut Frame, m: &Model) {
    draw_panes(frame, m);
    scrub(frame.buffer_mut());
}

fn draw_panes(frame: &mut Frame, m: &Model) {
    let area = frame.area();
    let Some(a) = areas(area, m.status_height(area), m.mode == Mode::EditIds) else {
        draw_too_small(frame, area);
        return;
    };
    draw_title(frame, a.title, m);
    panes::query::draw(frame, a.query, m);
    panes::results::draw(frame, a.results, m);
    panes::json::draw(frame, a.json, m);
    panes::status::draw(frame, a.status, m);
    if m.mode == Mode::Help {
        panes::help::draw(frame, area, m);
    }
    if m.mode == Mode::TokenInspector {
        panes::token::draw(frame, area, m);
    }
    if m.mode == Mode::Profiles {
        panes::profiles::draw(frame, area, m);
    }
    if m.mode == Mode::Sessions {
        panes::sessions::draw(frame, area, m);
    }
    if matches!(
        m.mode,
        Mode::Replica
            | Mode::Line {
                target: super::app::LineTarget::ReplicaFilter,
                ..
            }
    ) {
        panes::replica::draw(frame, area, m);
    }
    if m.mode == Mode::Found {
        panes::found::draw(frame, area, m);
    }
    if m.mode == Mode::Resources {
        panes::resources::draw(frame, area, m);
    }
    panes::found::draw_prompt(frame, area, m);
    if m.mode == Mode::History {
        panes::history::draw(frame, area, m);
    }
    if m.mode == Mode::NewQuery {
        panes::new_query::draw(frame, area, m);
    }
    // On top of everything: it has the keyboard while it is shown.
    if let Some(prompt) = m.device_code() {
        panes::sign_in::draw(frame, area, m, prompt);
    }
}

fn draw_title(frame: &mut Frame, area: Rect, m: &Model) {
    let mut spans = vec![Span::styled(" deltascope ", m.theme.title_badge)];
    if !m.title.is_empty() {
        spans.push(Span::raw(" "));
        spans.push(Span::raw(one_line(&m.title)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small ({}x{}): deltascope needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
        area.width, area.height
    );
    let p = Paragraph::new(text)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    let y = area.height / 2;
    let rect = Rect {
        x: area.x,
        y: area.y + y.saturating_sub(1),
        width: area.width,
        height: area.height - y.saturating_sub(1),
    };
    frame.render_widget(p, rect);
}

/// The last line of defence, after every frame and before it reaches the terminal: a cell
/// that holds a control character or a bidi control (text from outside that a pane did not
/// escape; ratatui drops some controls on some paths, and bidi controls never) shows a visible
/// single-width stand-in instead, so that nothing on the screen can act on the terminal.
pub fn scrub(buf: &mut Buffer) {
    for cell in &mut buf.content {
        // Nearly every cell is one printable ASCII byte: one compare.
        if let [x] = cell.symbol().as_bytes()
            && (0x20..0x7f).contains(x)
        {
            continue;
        }
        if let Some(c) = unsafe_in(cell.symbol()) {
            let mut stand_in = [0; 4];
            cell.set_symbol(stand_in_for(c).encode_utf8(&mut stand_in));
        }
    }
}

/// The first character of `symbol` that may not reach a terminal, decided on its UTF-8 bytes:
/// it runs on every cell of every frame, and nearly every cell is printable ASCII or a box
/// drawing character (lead byte 0xE2, but not followed by 0x80/0x81).
fn unsafe_in(symbol: &str) -> Option<char> {
    let b = symbol.as_bytes();
    let suspect = b.iter().enumerate().any(|(i, &x)| match x {
        0..=0x1f | 0x7f => true,
        // C1: U+0080-U+009F
        0xc2 => b.get(i + 1).is_some_and(|&y| y <= 0x9f),
        // U+202A-U+202E, U+2066-U+2069
        0xe2 => matches!(b.get(i + 1), Some(0x80 | 0x81)),
        _ => false,
    });
    if suspect {
        symbol.chars().find(|&c| is_unsafe(c))
    } else {
        None
    }
}

/// A control picture (␛ for ESC, ␡ for DEL) for C0 and DEL; U+FFFD for the rest.
fn stand_in_for(c: char) -> char {
    match u32::from(c) {
        n @ 0..=0x1f => char::from_u32(0x2400 + n).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    }
}

/// The bordered block of a pane; the focused one stands out.
pub fn pane_block<'a>(title: Line<'a>, focused: bool, t: &Theme) -> Block<'a> {
    let (border, ty) = if focused {
        (t.border_focused, BorderType::Thick)
    } else {
        (t.border, BorderType::Plain)
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(ty)
        .border_style(border)
        .title(title)
}

/// Truncates `s` to `width` characters, marking the cut with '…'.
pub fn ellipsize(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_every_unsafe_cell_and_keeps_the_rest() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        for (x, s) in [
            "a", "\u{1b}", "\u{7}", "\u{9b}", "\u{202e}", "é", "\u{7f}", "e\u{301}",
        ]
        .iter()
        .enumerate()
        {
            buf[(u16::try_from(x).unwrap_or(0), 0)].set_symbol(s);
        }
        scrub(&mut buf);
        let shown: Vec<&str> = buf.content.iter().map(|c| c.symbol()).collect();
        assert_eq!(
            shown,
            ["a", "␛", "␇", "\u{fffd}", "\u{fffd}", "é", "␡", "e\u{301}"]
        );
    }
}
