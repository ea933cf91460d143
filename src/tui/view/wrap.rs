//! Word wrap into a bounded number of rows, for the lines that must be read whole (a round's
//! summary, a failed request, an error and its request-id, a URL): a word moves to the next row
//! rather than being cut, unless it is longer than a row (then it is cut where the row ends);
//! the last row shown ends in '…' when something is left over. The layout counts the same rows
//! that are drawn, so the two agree. Widths are display columns (a CJK character takes two);
//! the text is escaped before it comes here.
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Display columns of `s`.
fn cols(s: &str) -> usize {
    Span::raw(s).width()
}

/// Styled rows of at most `width` columns, at most `max_rows` of them. Costs what fits, not
/// what the spans hold: it stops at the first word that does not fit in the last row.
pub fn wrap_spans(spans: &[Span<'_>], width: usize, max_rows: usize) -> Vec<Line<'static>> {
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

/// Plain `text` in rows of at most `width` columns, at most `max_rows` of them (spaces at the
/// end of a row dropped). Empty text is no row at all.
pub fn wrap(text: &str, width: usize, max_rows: usize) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    wrap_spans(&[Span::raw(text)], width, max_rows)
        .iter()
        .map(|l| {
            let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            s.trim_end().to_owned()
        })
        .collect()
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
        let w = cols(word);
        if word.starts_with(' ') {
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
        if self.col + w <= self.width {
            self.add(word, w, style);
            return true;
        }
        // A word longer than a row is cut wherever the row ends.
        let mut buf = [0; 4];
        for c in word.chars() {
            let c = c.encode_utf8(&mut buf);
            let cw = cols(c);
            if self.col + cw > self.width && self.col > 0 && !self.new_row() {
                return false;
            }
            self.add(c, cw, style);
        }
        true
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
        if self.cut
            && let Some(row) = self.rows.last_mut()
        {
            // The last row says that there is more: room is made for the '…'.
            let mut col = self.col;
            while col + 1 > self.width {
                let Some((text, _)) = row.last_mut() else {
                    break;
                };
                match text.pop() {
                    Some(c) => col -= cols(c.encode_utf8(&mut [0; 4])),
                    None => {
                        row.pop();
                    }
                }
            }
            // Nor does a space before it.
            while let Some((text, _)) = row.last_mut() {
                let kept = text.trim_end_matches(' ').len();
                text.truncate(kept);
                if !text.is_empty() {
                    break;
                }
                row.pop();
            }
            let style = row.last().map(|(_, s)| *s).unwrap_or_default();
            row.push(("…".to_owned(), style));
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
            texts(&wrap_spans(&spans, 16, 5)),
            ["✗ 410 code ", "request-id ", "0123456789abcdef"]
        );
        assert_eq!(
            texts(&wrap_spans(&[Span::raw("abcdefghij")], 4, 5)),
            ["abcd", "efgh", "ij"]
        );
        assert_eq!(
            wrap("round 1: 3 pages, 250 items", 12, 9),
            ["round 1: 3", "pages, 250", "items"]
        );
        assert_eq!(wrap("abcdefghij xy", 4, 9), ["abcd", "efgh", "ij", "xy"]);
        assert!(wrap("", 10, 3).is_empty());
    }

    #[test]
    fn what_does_not_fit_ends_in_an_ellipsis() {
        let lines = wrap_spans(&[Span::raw("aaaa bbbb cccc dd eeee")], 9, 2);
        assert_eq!(texts(&lines), ["aaaa bbbb", "cccc dd…"]);
        let lines = wrap_spans(&[Span::raw("abcdefghijkl")], 4, 2);
        assert_eq!(texts(&lines), ["abcd", "efg…"]);
        assert_eq!(wrap_spans(&[Span::raw("x".repeat(100))], 10, 3).len(), 3);
        assert_eq!(wrap("aa bb cc dd ee", 5, 2), ["aa bb", "cc d…"]);
        assert_eq!(wrap("aaaaa bbbbb ccccc", 5, 2), ["aaaaa", "bbbb…"]);
    }

    #[test]
    fn wide_characters_take_two_columns() {
        // Tenant data (a display name, a changed property's name) can be CJK.
        let rows = wrap("連絡先 連絡先連絡先連絡先", 8, 9);
        assert!(rows.iter().all(|r| cols(r) <= 8), "{rows:?}");
        assert_eq!(rows, ["連絡先", "連絡先連", "絡先連絡", "先"]);
        let cut = wrap("連絡先連絡先連絡先", 4, 1);
        assert_eq!(cut, ["連…"]);
        assert!(cols(&cut[0]) <= 4);
    }
}
