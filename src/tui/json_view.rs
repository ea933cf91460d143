//! Pretty-printed JSON, prepared once into one text buffer plus token offsets, so that a frame
//! only slices the visible lines (no parsing, no allocation per character).
use std::sync::Arc;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// The syntax class of a token, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Key,
    Str,
    Num,
    /// true, false, null
    Lit,
    Punct,
    Plain,
}

impl TokenKind {
    pub fn style(self) -> Style {
        match self {
            TokenKind::Key => Style::new().fg(Color::Cyan),
            TokenKind::Str => Style::new().fg(Color::Green),
            TokenKind::Num => Style::new().fg(Color::Magenta),
            TokenKind::Lit => Style::new().fg(Color::Yellow),
            TokenKind::Punct => Style::new().fg(Color::DarkGray),
            TokenKind::Plain => Style::new(),
        }
    }
}

/// A pretty-printed document: `text` holds every line back to back (no newlines); `line_starts`
/// and `tokens` index into it.
#[derive(Debug, Default)]
pub struct JsonDoc {
    text: String,
    /// Start of each line in `text`, plus one final entry = `text.len()`.
    line_starts: Vec<u32>,
    /// (start in `text`, kind); a token ends where the next one starts or at its line's end.
    tokens: Vec<(u32, TokenKind)>,
    /// Index of the first token of each line, plus one final entry = `tokens.len()`.
    line_tokens: Vec<u32>,
}

struct Builder {
    doc: JsonDoc,
    indent: usize,
}

impl Builder {
    fn new(capacity: usize) -> Self {
        let mut doc = JsonDoc {
            text: String::with_capacity(capacity),
            ..Default::default()
        };
        doc.line_starts.push(0);
        doc.line_tokens.push(0);
        Self { doc, indent: 0 }
    }

    fn push(&mut self, s: &str, kind: TokenKind) {
        if s.is_empty() {
            return;
        }
        let at = offset(self.doc.text.len());
        if let Some(&(last_at, last_kind)) = self.doc.tokens.last() {
            // Merge runs of the same kind on the current line (e.g. "}" then ",").
            let line_first = self.doc.line_tokens.last().copied().unwrap_or(0) as usize;
            if last_kind == kind && self.doc.tokens.len() > line_first && last_at <= at {
                self.doc.text.push_str(s);
                return;
            }
        }
        self.doc.tokens.push((at, kind));
        self.doc.text.push_str(s);
    }

    fn newline(&mut self) {
        self.doc.line_starts.push(offset(self.doc.text.len()));
        self.doc.line_tokens.push(offset(self.doc.tokens.len()));
        if self.indent > 0 {
            let pad = self.indent * 2;
            let at = offset(self.doc.text.len());
            self.doc.tokens.push((at, TokenKind::Plain));
            self.doc.text.extend(std::iter::repeat_n(' ', pad));
        }
    }

    fn finish(mut self) -> JsonDoc {
        self.doc.line_starts.push(offset(self.doc.text.len()));
        self.doc.line_tokens.push(offset(self.doc.tokens.len()));
        self.doc.text.shrink_to_fit();
        self.doc.tokens.shrink_to_fit();
        self.doc
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl JsonDoc {
    /// Pretty-prints `raw` (any JSON text; also survives truncated or non-JSON bodies, which
    /// are shown line by line as they are).
    pub fn pretty(raw: &str) -> Self {
        let trimmed = raw.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return Self::plain(raw);
        }
        let bytes = raw.as_bytes();
        let mut b = Builder::new(raw.len() + raw.len() / 2);
        // For each open container: is it an object?
        let mut stack: Vec<bool> = Vec::new();
        let mut expect_key = false;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'{' | b'[' => {
                    let close = if c == b'{' { b'}' } else { b']' };
                    let mut j = i + 1;
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&close) {
                        b.push(if c == b'{' { "{}" } else { "[]" }, TokenKind::Punct);
                        expect_key = false;
                        i = j + 1;
                    } else {
                        b.push(&raw[i..i + 1], TokenKind::Punct);
                        stack.push(c == b'{');
                        expect_key = c == b'{';
                        b.indent += 1;
                        b.newline();
                        i += 1;
                    }
                }
                b'}' | b']' => {
                    stack.pop();
                    b.indent = b.indent.saturating_sub(1);
                    b.newline();
                    b.push(&raw[i..i + 1], TokenKind::Punct);
                    expect_key = false;
                    i += 1;
                }
                b',' => {
                    b.push(",", TokenKind::Punct);
                    b.newline();
                    expect_key = stack.last().copied().unwrap_or(false);
                    i += 1;
                }
                b':' => {
                    b.push(":", TokenKind::Punct);
                    b.push(" ", TokenKind::Plain);
                    expect_key = false;
                    i += 1;
                }
                b'"' => {
                    let end = string_end(bytes, i);
                    let kind = if expect_key {
                        TokenKind::Key
                    } else {
                        TokenKind::Str
                    };
                    b.push(&raw[i..end], kind);
                    i = end;
                }
                _ => {
                    let mut j = i;
                    while j < bytes.len()
                        && !matches!(
                            bytes[j],
                            b',' | b'}' | b']' | b':' | b'"' | b' ' | b'\t' | b'\r' | b'\n'
                        )
                    {
                        j += 1;
                    }
                    if j == i {
                        j = i + 1;
                    }
                    // Cut only at ASCII bytes, so `raw[i..j]` is on char boundaries; a stray
                    // non-ASCII byte run is carried to the next ASCII delimiter.
                    while j < bytes.len() && !raw.is_char_boundary(j) {
                        j += 1;
                    }
                    let word = &raw[i..j];
                    let kind = match word.as_bytes()[0] {
                        b'-' | b'0'..=b'9' => TokenKind::Num,
                        b't' | b'f' | b'n' => TokenKind::Lit,
                        _ => TokenKind::Plain,
                    };
                    b.push(word, kind);
                    i = j;
                }
            }
        }
        b.finish()
    }

    /// Text shown as it is, one line per line (headers, non-JSON bodies).
    pub fn plain(text: &str) -> Self {
        let mut b = Builder::new(text.len());
        for (n, line) in text.lines().enumerate() {
            if n > 0 {
                b.newline();
            }
            b.push(line, TokenKind::Plain);
        }
        b.finish()
    }

    /// Pre-styled lines (headers view): (text, kind) pieces per line.
    pub fn from_pieces(lines: &[Vec<(String, TokenKind)>]) -> Self {
        let mut b = Builder::new(0);
        for (n, line) in lines.iter().enumerate() {
            if n > 0 {
                b.newline();
            }
            for (s, k) in line {
                b.push(s, *k);
            }
        }
        b.finish()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len().saturating_sub(1)
    }

    /// The text of line `n`.
    pub fn line(&self, n: usize) -> &str {
        match (self.line_starts.get(n), self.line_starts.get(n + 1)) {
            (Some(&a), Some(&b)) => self.text.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    /// Tokens of line `n` as (text, kind), in order.
    fn line_pieces(&self, n: usize) -> impl Iterator<Item = (usize, &str, TokenKind)> + '_ {
        let line_start = self.line_starts.get(n).copied().unwrap_or(0) as usize;
        let line_end = self.line_starts.get(n + 1).copied().unwrap_or(0) as usize;
        let t0 = self.line_tokens.get(n).copied().unwrap_or(0) as usize;
        let t1 = self.line_tokens.get(n + 1).copied().unwrap_or(0) as usize;
        (t0..t1).filter_map(move |t| {
            let (start, kind) = *self.tokens.get(t)?;
            let start = start as usize;
            let end = if t + 1 < t1 {
                self.tokens.get(t + 1).map(|x| x.0 as usize)?
            } else {
                line_end
            };
            let text = self.text.get(start..end)?;
            Some((start - line_start, text, kind))
        })
    }

    /// The whole pretty text, lines joined by '\n' (for copying).
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.line_count());
        for n in 0..self.line_count() {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(self.line(n));
        }
        out
    }
}

/// The end (exclusive) of the JSON string starting at `start` (a '"'); the input end if it is
/// unterminated.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A search hit: line, byte range within the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

/// A document with its scroll position and search state.
#[derive(Clone, Debug, Default)]
pub struct JsonView {
    pub doc: Arc<JsonDoc>,
    /// First visible line.
    pub top: usize,
    pub query: String,
    pub matches: Vec<Match>,
    /// Index into `matches` of the current match.
    pub current: usize,
}

const MATCH_STYLE: Style = Style::new().fg(Color::Black).bg(Color::Yellow);
const CURRENT_STYLE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::LightRed)
    .add_modifier(Modifier::BOLD);

impl JsonView {
    pub fn new(doc: Arc<JsonDoc>) -> Self {
        Self {
            doc,
            ..Default::default()
        }
    }

    fn max_top(&self, height: usize) -> usize {
        self.doc.line_count().saturating_sub(height.max(1))
    }

    pub fn scroll_by(&mut self, delta: isize, height: usize) {
        let top = if delta < 0 {
            self.top.saturating_sub(delta.unsigned_abs())
        } else {
            self.top.saturating_add(delta.unsigned_abs())
        };
        self.top = top.min(self.max_top(height));
    }

    pub fn scroll_top(&mut self) {
        self.top = 0;
    }

    pub fn scroll_bottom(&mut self, height: usize) {
        self.top = self.max_top(height);
    }

    /// Finds every ASCII-case-insensitive occurrence of `query` and moves to the first match at
    /// or after the current top line. Returns the number of matches.
    pub fn search(&mut self, query: &str, height: usize) -> usize {
        self.query = query.to_owned();
        self.matches.clear();
        self.current = 0;
        if query.is_empty() {
            return 0;
        }
        let needle = query.to_ascii_lowercase();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut buf: Vec<u8> = Vec::new();
        for n in 0..self.doc.line_count() {
            let line = self.doc.line(n).as_bytes();
            buf.clear();
            buf.extend(line.iter().map(u8::to_ascii_lowercase));
            for start in finder.find_iter(&buf) {
                self.matches.push(Match {
                    line: n,
                    start,
                    end: start + needle.len(),
                });
            }
        }
        self.current = self
            .matches
            .iter()
            .position(|m| m.line >= self.top)
            .unwrap_or(0);
        self.reveal_current(height);
        self.matches.len()
    }

    /// Moves to the next (or previous) match, wrapping around.
    pub fn next_match(&mut self, forward: bool, height: usize) {
        if self.matches.is_empty() {
            return;
        }
        let n = self.matches.len();
        self.current = if forward {
            (self.current + 1) % n
        } else {
            (self.current + n - 1) % n
        };
        self.reveal_current(height);
    }

    fn reveal_current(&mut self, height: usize) {
        if let Some(m) = self.matches.get(self.current) {
            let h = height.max(1);
            if m.line < self.top || m.line >= self.top + h {
                self.top = m.line.saturating_sub(h / 3).min(self.max_top(h));
            }
        }
    }

    /// The ratatui lines for rows `top .. top + height`, with a line-number gutter and search
    /// highlights. Only these lines are built.
    pub fn visible_lines(&self, height: usize) -> Vec<Line<'_>> {
        let total = self.doc.line_count();
        let end = (self.top + height).min(total);
        let gutter = digits(total);
        let first_match = self.matches.partition_point(|m| m.line < self.top);
        let mut mi = first_match;
        let mut out = Vec::with_capacity(end.saturating_sub(self.top));
        for n in self.top..end {
            let mut spans = Vec::with_capacity(8);
            spans.push(Span::styled(
                format!("{:>gutter$} ", n + 1),
                Style::new().fg(Color::DarkGray),
            ));
            let m0 = mi;
            while mi < self.matches.len() && self.matches[mi].line == n {
                mi += 1;
            }
            let line_matches = &self.matches[m0..mi];
            for (at, text, kind) in self.doc.line_pieces(n) {
                if line_matches.is_empty() {
                    spans.push(Span::styled(text, kind.style()));
                } else {
                    self.split_highlight(&mut spans, at, text, kind, line_matches, m0);
                }
            }
            out.push(Line::from(spans));
        }
        out
    }

    fn split_highlight<'a>(
        &self,
        spans: &mut Vec<Span<'a>>,
        at: usize,
        text: &'a str,
        kind: TokenKind,
        matches: &[Match],
        first_index: usize,
    ) {
        let end = at + text.len();
        let mut pos = at;
        for (k, m) in matches.iter().enumerate() {
            if m.end <= pos || m.start >= end {
                continue;
            }
            let a = m.start.max(pos);
            let b = m.end.min(end);
            if a > pos
                && let Some(s) = text.get(pos - at..a - at)
            {
                spans.push(Span::styled(s, kind.style()));
            }
            let style = if first_index + k == self.current {
                CURRENT_STYLE
            } else {
                MATCH_STYLE
            };
            if let Some(s) = text.get(a - at..b - at) {
                spans.push(Span::styled(s, style));
            }
            pos = b;
        }
        if pos < end
            && let Some(s) = text.get(pos - at..)
        {
            spans.push(Span::styled(s, kind.style()));
        }
    }
}

fn digits(n: usize) -> usize {
    let mut d = 1;
    let mut n = n / 10;
    while n > 0 {
        d += 1;
        n /= 10;
    }
    d
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pretty_prints_with_kinds() {
        let doc = JsonDoc::pretty(r#"{"a":1,"b":[true,null],"c":{},"d":"x\"y"}"#);
        let lines: Vec<&str> = (0..doc.line_count()).map(|n| doc.line(n)).collect();
        assert_eq!(
            lines,
            vec![
                "{",
                "  \"a\": 1,",
                "  \"b\": [",
                "    true,",
                "    null",
                "  ],",
                "  \"c\": {},",
                "  \"d\": \"x\\\"y\"",
                "}"
            ]
        );
        let kinds: Vec<TokenKind> = doc.line_pieces(1).map(|p| p.2).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Plain,
                TokenKind::Key,
                TokenKind::Punct,
                TokenKind::Plain,
                TokenKind::Num,
                TokenKind::Punct
            ]
        );
    }

    #[test]
    fn survives_garbage_and_truncation() {
        for raw in [
            "",
            "{",
            "{\"a\":\"unterminated",
            "]]]}}}",
            "<html>oops</html>",
            "{\"é\":\"ü\",\"n\":ñ}",
            "[1,2,",
        ] {
            let doc = JsonDoc::pretty(raw);
            let view = JsonView::new(Arc::new(doc));
            let _ = view.visible_lines(10);
        }
    }

    #[test]
    fn search_finds_and_wraps() {
        let doc = Arc::new(JsonDoc::pretty(
            r#"{"mail":"A@x","other":"a@y","z":"none"}"#,
        ));
        let mut v = JsonView::new(doc);
        assert_eq!(v.search("a@", 2), 2);
        assert_eq!(v.matches[0].line, 1);
        v.next_match(true, 2);
        assert_eq!(v.current, 1);
        v.next_match(true, 2);
        assert_eq!(v.current, 0);
        v.next_match(false, 2);
        assert_eq!(v.current, 1);
        // The highlighted line splits the string token around the match.
        let lines = v.visible_lines(5);
        let texts: Vec<String> = lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(texts.iter().any(|t| t.contains("\"other\": \"a@y\"")));
    }

    #[test]
    fn scrolling_is_clamped() {
        let doc = Arc::new(JsonDoc::pretty(r#"[1,2,3,4,5,6,7,8,9,10]"#));
        let mut v = JsonView::new(doc);
        v.scroll_by(100, 5);
        assert_eq!(v.top, 12 - 5);
        v.scroll_by(-100, 5);
        assert_eq!(v.top, 0);
        v.scroll_bottom(5);
        assert_eq!(v.top, 7);
    }
}
