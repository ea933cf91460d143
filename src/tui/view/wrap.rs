//! Word wrapping for the lines that must be read whole (a round's summary, a failed request):
//! the same lines are counted for the layout and drawn, so the two always agree.
use ratatui::text::Span;

fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `text` in lines of at most `width` columns, broken at spaces; a word longer than a line (a
/// link, a request-id run together with text) is broken where the line ends. At most
/// `max_lines` lines: the last one kept ends in '…' when text was left out. Empty text is no
/// line at all.
pub fn wrap(text: &str, width_cols: usize, max_lines: usize) -> Vec<String> {
    let w = width_cols.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut line_w = 0;
    for word in text.split(' ').filter(|s| !s.is_empty()) {
        let ww = width(word);
        if line_w > 0 && line_w + 1 + ww <= w {
            line.push(' ');
            line.push_str(word);
            line_w += 1 + ww;
            continue;
        }
        if line_w > 0 {
            lines.push(std::mem::take(&mut line));
            line_w = 0;
        }
        // A word wider than the line: cut where the line ends, character by character.
        for c in word.chars() {
            let cw = width(c.encode_utf8(&mut [0; 4]));
            if line_w + cw > w && line_w > 0 {
                lines.push(std::mem::take(&mut line));
                line_w = 0;
            }
            line.push(c);
            line_w += cw;
        }
    }
    if line_w > 0 {
        lines.push(line);
    }
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            while width(last) + 1 > w && last.pop().is_some() {}
            last.push('…');
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn words_wrap_at_spaces_and_long_words_are_cut_at_the_edge() {
        assert_eq!(
            wrap("round 1: 3 pages, 250 items", 12, 9),
            ["round 1: 3", "pages, 250", "items"]
        );
        assert_eq!(wrap("abcdefghij xy", 4, 9), ["abcd", "efgh", "ij", "xy"]);
        assert!(wrap("", 10, 3).is_empty());
        // More than the lines allowed: the last one says text was left out.
        assert_eq!(wrap("aa bb cc dd ee", 5, 2), ["aa bb", "cc d…"]);
        assert_eq!(wrap("aaaaa bbbbb ccccc", 5, 2), ["aaaaa", "bbbb…"]);
    }
}
