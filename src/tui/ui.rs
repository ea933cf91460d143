//! Drawing: `draw(frame, &Model)` only reads the model and slices what was prepared.
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::app::{MIN_HEIGHT, MIN_WIDTH, Mode, Model, areas};
use super::panes;

pub fn draw(frame: &mut Frame, m: &Model) {
    let area = frame.area();
    let Some(a) = areas(area) else {
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
    if m.mode == Mode::Token {
        panes::token::draw(frame, area, m);
    }
    if m.mode == Mode::Profiles {
        panes::profiles::draw(frame, area, m);
    }
    // On top of everything: it has the keyboard while it is shown.
    if let Some(prompt) = m.device_code() {
        panes::sign_in::draw(frame, area, m, prompt);
    }
}

fn draw_title(frame: &mut Frame, area: Rect, m: &Model) {
    let mut spans = vec![Span::styled(
        " deltascope ",
        Style::new()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    )];
    if !m.title.is_empty() {
        spans.push(Span::raw(" "));
        spans.push(Span::raw(m.title.as_str()));
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

/// The bordered block of a pane; the focused one stands out.
pub fn pane_block(title: Line<'_>, focused: bool) -> Block<'_> {
    let (border, ty) = if focused {
        (Style::new().fg(Color::Cyan), BorderType::Thick)
    } else {
        (Style::new().fg(Color::DarkGray), BorderType::Plain)
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
