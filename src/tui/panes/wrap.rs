//! Word wrap of styled text into a bounded number of rows, for lines that must be read whole
//! (error messages, request-ids, URLs): a word moves to the next row rather than being cut,
//! unless it is longer than a row; the last row shown ends in '…' when something is left over.
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Rows of at most `width` columns (one column per character: the text is escaped first),
/// at most `max_rows` of them. Costs what the spans hold.
pub fn wrap(spans: &[Span<'_>], width: usize, max_rows: usize) -> Vec<Line<'static>> {
    let mut rows = Rows {
        rows: vec![Vec::new()],
        col: 0,
        width: width.max(1),
        max_rows: max_rows.max(1),
        cut: false,
    };
    'spans: for span in spans {
        for word in words(&span.content) {
            if !rows.push(word, span.style) {
                break 'spans;
            }
        }
    }
    rows.finish()
}

struct Rows {
    rows: Vec<Vec<(String, Style)>>,
    col: usize,
    width: usize,
    max_rows: usize,
    cut: bool,
}

impl Rows {
    /// Adds a word (or a run of spaces); false once the rows are full.
    fn push(&mut self, word: &str, style: Style) -> bool {
        let w = word.chars().count();
        let blank = word.starts_with(' ');
        if blank {
            // Spaces at a row's end vanish; a wrapped row starts with a word.
            if self.col + w <= self.width {
                if self.col > 0 || self.rows.len() == 1 {
                    self.add(word, w, style);
                }
                return true;
            }
            return self.new_row();
        }
        if self.col + w > self.width && self.col > 0 && w <= self.width && !self.new_row() {
            return false;
        }
        // A word longer than a row is cut wherever the row ends.
        let mut rest = word;
        loop {
            let room = self.width - self.col;
            match rest.char_indices().nth(room) {
                None => {
                    let n = rest.chars().count();
                    self.add(rest, n, style);
                    return true;
                }
                Some((at, _)) => {
                    self.add(&rest[..at], room, style);
                    rest = &rest[at..];
                    if !self.new_row() {
                        return false;
                    }
                }
            }
        }
    }

    fn add(&mut self, s: &str, w: usize, style: Style) {
        if s.is_empty() {
            return;
        }
        if let Some(row) = self.rows.last_mut() {
            match row.last_mut() {
                Some((text, st)) if *st == style => text.push_str(s),
                _ => row.push((s.to_owned(), style)),
            }
        }
        self.col += w;
    }

    fn new_row(&mut self) -> bool {
        if self.rows.len() >= self.max_rows {
            self.cut = true;
            return false;
        }
        self.rows.push(Vec::new());
        self.col = 0;
        true
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        if self.cut {
            // The last row says that there is more.
            if let Some(row) = self.rows.last_mut() {
                if self.col >= self.width
                    && let Some((text, _)) = row.last_mut()
                {
                    text.pop();
                }
                let style = row.last().map(|(_, s)| *s).unwrap_or_default();
                row.push(("…".to_owned(), style));
            }
        }
        self.rows
            .into_iter()
            .map(|row| {
                Line::from(
                    row.into_iter()
                        .map(|(t, s)| Span::styled(t, s))
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    }
}

/// Runs of spaces and runs of anything else, in order.
fn words(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let blank = first == ' ';
        let end = rest
            .char_indices()
            .find(|&(_, c)| (c == ' ') != blank)
            .map_or(rest.len(), |(i, _)| i);
        let (word, tail) = rest.split_at(end);
        rest = tail;
        Some(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn words_move_to_the_next_row_and_long_ones_are_cut() {
        let spans = [
            Span::raw("✗ 410 code "),
            Span::raw("request-id 0123456789abcdef"),
        ];
        assert_eq!(
            texts(&wrap(&spans, 16, 5)),
            ["✗ 410 code ", "request-id ", "0123456789abcdef"]
        );
        assert_eq!(
            texts(&wrap(&[Span::raw("abcdefghij")], 4, 5)),
            ["abcd", "efgh", "ij"]
        );
    }

    #[test]
    fn what_does_not_fit_ends_in_an_ellipsis() {
        let lines = wrap(&[Span::raw("aaaa bbbb cccc dd eeee")], 9, 2);
        assert_eq!(texts(&lines), ["aaaa bbbb", "cccc dd …"]);
        let lines = wrap(&[Span::raw("abcdefghijkl")], 4, 2);
        assert_eq!(texts(&lines), ["abcd", "efg…"]);
        assert_eq!(wrap(&[Span::raw("x".repeat(100))], 10, 3).len(), 3);
    }
}
