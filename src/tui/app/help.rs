//! The help overlay's page: its box and its lines, laid out from the keymap for a screen size.
//! Keys scroll it (the update needs how far it goes) and the pane draws it, from this one
//! function so that the two agree.
use ratatui::layout::Rect;

use crate::tui::keymap::{Context, Keymap};
use crate::tui::view::Mark;

/// A line of the help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelpLine {
    /// A section's title.
    Title(Context),
    /// The title of a section that is not a context's keys (the results pane's marks).
    Heading(&'static str),
    /// Keys (joined) and what they do.
    Key(String, &'static str),
    Blank,
}

/// The help laid out for a screen: the overlay's box, and one or two columns of lines that
/// scroll together under `visible` rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelpPage {
    /// The overlay's box, border included.
    pub rect: Rect,
    pub columns: Vec<Vec<HelpLine>>,
    /// Rows of lines inside the border.
    pub visible: usize,
}

/// Two columns from this inner width on.
const TWO_COLUMNS: u16 = 90;

impl HelpPage {
    /// The first line shown when scrolled to the end.
    pub fn max_scroll(&self) -> usize {
        let longest = self.columns.iter().map(Vec::len).max().unwrap_or(0);
        longest.saturating_sub(self.visible)
    }
}

/// The help for a `screen` of that size: global keys first, then each context's section in
/// the column that is shorter so far (one column when narrow), then the marks of the results.
pub fn help_page(keymap: &Keymap, screen: Rect) -> HelpPage {
    let w = screen.width.saturating_sub(4).min(120);
    let h = screen.height.saturating_sub(2);
    let rect = Rect {
        x: screen.x + (screen.width - w.min(screen.width)) / 2,
        y: screen.y + (screen.height - h.min(screen.height)) / 2,
        width: w.min(screen.width),
        height: h.min(screen.height),
    };
    let inner_width = rect.width.saturating_sub(2);
    let visible = usize::from(rect.height.saturating_sub(2));
    let two = inner_width >= TWO_COLUMNS;
    let mut columns: Vec<Vec<HelpLine>> = vec![Vec::new(); if two { 2 } else { 1 }];
    let mut sections: Vec<Vec<HelpLine>> = Vec::new();
    for (ctx, rows) in keymap.help_sections() {
        if rows.is_empty() {
            continue;
        }
        let mut lines = vec![HelpLine::Title(ctx)];
        lines.extend(
            rows.into_iter()
                .map(|(keys, what)| HelpLine::Key(keys.join(" "), what)),
        );
        lines.push(HelpLine::Blank);
        sections.push(lines);
    }
    let mut marks = vec![HelpLine::Heading("Marks in the results")];
    marks.extend(
        Mark::ALL
            .iter()
            .map(|m| HelpLine::Key(m.symbol().to_owned(), m.meaning())),
    );
    marks.push(HelpLine::Blank);
    sections.push(marks);
    for (i, lines) in sections.into_iter().enumerate() {
        let column = if i == 0 || !two || columns[0].len() <= columns[1].len() {
            0
        } else {
            1
        };
        columns[column].extend(lines);
    }
    HelpPage {
        rect,
        columns,
        visible,
    }
}
