//! One file per pane; each draws from `&Model` only.
pub mod found;
pub mod help;
pub mod history;
pub mod json;
pub mod new_query;
pub mod profiles;
pub mod query;
pub mod replica;
pub mod resources;
pub mod results;
pub mod sessions;
pub mod sign_in;
pub mod status;
pub mod token;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType, Borders, Clear};

use crate::tui::theme::Theme;

/// Draws an overlay box of at most `w` x `h`, centred in `area` over what is there, with a
/// double border (the focused border's style) and `title`; returns the area inside it.
pub fn overlay(frame: &mut Frame, area: Rect, w: u16, h: u16, title: &str, t: &Theme) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.border_focused)
        .title(title.to_owned());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// `area` less one column on each side (text inside an overlay does not touch its border).
pub fn padded(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        width: area.width.saturating_sub(2),
        ..area
    }
}
