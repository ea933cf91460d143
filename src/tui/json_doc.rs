//! Pretty-printed JSON, prepared once into one text buffer plus line and token offsets, so that
//! a frame only slices the visible lines (no parsing, no allocation per character).
//!
//! The body comes from a server, so nothing about it is trusted:
//! - time and memory are linear in the body: indentation is not stored as spaces but as a level
//!   per line (drawn as spaces), so 100,000 nested arrays do not cost 100,000² spaces;
//! - containers nested deeper than [`MAX_DEPTH`] are not broken into lines: the rest of such a
//!   value is shown unindented on its line (a 1-byte `[` would otherwise cost a whole line), and
//!   the document carries a note saying so;
//! - a line may be as long as the body (a huge string is kept whole, for search and copy): the
//!   view cuts it at draw time;
//! - every character that may not reach a terminal (C0 and C1 controls, DEL, bidi overrides) is
//!   shown escaped as JSON escapes it (`\u202e`), which inside a JSON string means the same.
use std::borrow::Cow;

use ratatui::style::Style;

use crate::text::one_line;
use crate::tui::theme::Theme;

/// Containers nested deeper than this are shown unindented, on the line they start on.
pub const MAX_DEPTH: usize = 64;
/// Spaces per indentation level.
pub const INDENT: usize = 2;

/// The syntax class of a token, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
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
    pub fn style(self, t: &Theme) -> Style {
        match self {
            TokenKind::Key => t.json_key,
            TokenKind::Str => t.json_string,
            TokenKind::Num => t.json_number,
            TokenKind::Lit => t.json_literal,
            TokenKind::Punct => t.json_punct,
            TokenKind::Plain => Style::new(),
        }
    }
}

/// A prepared document: `text` holds every line back to back (no newlines, no indentation);
/// the other vectors index into it. About 5 bytes per line and 5 per token besides the text,
/// so the whole is a small multiple of the body whatever its shape.
#[derive(Debug, Default)]
pub struct JsonDoc {
    text: String,
    /// Start of each line in `text`, plus one final entry = `text.len()`.
    line_starts: Vec<u32>,
    /// Indentation level of each line (at most [`MAX_DEPTH`]).
    line_indent: Vec<u8>,
    /// Start of each token in `text`, ascending; a token ends where the next one starts or at
    /// its line's end. Every non-empty line starts with a token.
    token_starts: Vec<u32>,
    token_kinds: Vec<TokenKind>,
    /// What the reader must know about how this was shown (deep nesting folded).
    note: Option<String>,
}

struct Builder {
    doc: JsonDoc,
    line_start: u32,
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Builder {
    fn new(capacity: usize) -> Self {
        let mut doc = JsonDoc {
            text: String::with_capacity(capacity),
            ..Default::default()
        };
        doc.line_starts.push(0);
        doc.line_indent.push(0);
        Self { doc, line_start: 0 }
    }

    fn push(&mut self, s: &str, kind: TokenKind) {
        if s.is_empty() {
            return;
        }
        let at = offset(self.doc.text.len());
        // Runs of the same kind on one line are one token (e.g. "}" then ",").
        let same_line = self
            .doc
            .token_starts
            .last()
            .is_some_and(|&t| t >= self.line_start);
        if !(same_line && self.doc.token_kinds.last() == Some(&kind)) {
            self.doc.token_starts.push(at);
            self.doc.token_kinds.push(kind);
        }
        self.doc.text.push_str(s);
    }

    /// [`Builder::push`] with every character that may not reach a terminal escaped.
    fn push_safe(&mut self, s: &str, kind: TokenKind) {
        match one_line(s) {
            Cow::Borrowed(s) => self.push(s, kind),
            Cow::Owned(s) => self.push(&s, kind),
        }
    }

    fn newline(&mut self, level: usize) {
        self.line_start = offset(self.doc.text.len());
        self.doc.line_starts.push(self.line_start);
        self.doc
            .line_indent
            .push(u8::try_from(level.min(MAX_DEPTH)).unwrap_or(u8::MAX));
    }

    /// 1-based number of the line being written.
    fn line_number(&self) -> usize {
        self.doc.line_indent.len()
    }

    fn finish(mut self) -> JsonDoc {
        self.doc.line_starts.push(offset(self.doc.text.len()));
        self.doc.text.shrink_to_fit();
        self.doc.line_starts.shrink_to_fit();
        self.doc.line_indent.shrink_to_fit();
        self.doc.token_starts.shrink_to_fit();
        self.doc.token_kinds.shrink_to_fit();
        self.doc
    }
}

impl JsonDoc {
    /// Pretty-prints `raw` (any JSON text; also survives truncated or non-JSON bodies, which
    /// are shown line by line as they are). Linear in `raw`, whatever it holds.
    pub fn pretty(raw: &str) -> Self {
        let trimmed = raw.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return Self::plain(raw);
        }
        let bytes = raw.as_bytes();
        let mut b = Builder::new(raw.len() + raw.len() / 4);
        // For each open container: is it an object?
        let mut stack: Vec<bool> = Vec::new();
        // The depth at which the value being shown on one line started.
        let mut folded_at: Option<usize> = None;
        let mut expect_key = false;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            // A folded value is one plain token: a byte of nesting costs no token of its own.
            let kind = |k: TokenKind, folded: Option<usize>| match folded {
                Some(_) => TokenKind::Plain,
                None => k,
            };
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'{' | b'[' => {
                    let close = if c == b'{' { b'}' } else { b']' };
                    let mut j = i + 1;
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&close) {
                        let empty = if c == b'{' { "{}" } else { "[]" };
                        b.push(empty, kind(TokenKind::Punct, folded_at));
                        expect_key = false;
                        i = j + 1;
                        continue;
                    }
                    stack.push(c == b'{');
                    expect_key = c == b'{';
                    if folded_at.is_none() && stack.len() > MAX_DEPTH {
                        folded_at = Some(stack.len());
                        if b.doc.note.is_none() {
                            b.doc.note = Some(format!(
                                "nesting deeper than {MAX_DEPTH} levels is shown on one line, unindented (first at line {})",
                                b.line_number()
                            ));
                        }
                    }
                    b.push(&raw[i..i + 1], kind(TokenKind::Punct, folded_at));
                    if folded_at.is_none() {
                        b.newline(stack.len());
                    }
                    i += 1;
                }
                b'}' | b']' => {
                    stack.pop();
                    let shown = kind(TokenKind::Punct, folded_at);
                    match folded_at {
                        Some(depth) => {
                            if stack.len() < depth {
                                folded_at = None;
                            }
                        }
                        None => b.newline(stack.len()),
                    }
                    b.push(&raw[i..i + 1], shown);
                    expect_key = false;
                    i += 1;
                }
                b',' => {
                    b.push(",", kind(TokenKind::Punct, folded_at));
                    if folded_at.is_none() {
                        b.newline(stack.len());
                    }
                    expect_key = stack.last().copied().unwrap_or(false);
                    i += 1;
                }
                b':' => {
                    let sep = if folded_at.is_some() { ":" } else { ": " };
                    b.push(sep, kind(TokenKind::Punct, folded_at));
                    expect_key = false;
                    i += 1;
                }
                b'"' => {
                    let end = string_end(bytes, i);
                    let k = if expect_key {
                        TokenKind::Key
                    } else {
                        TokenKind::Str
                    };
                    b.push_safe(&raw[i..end], kind(k, folded_at));
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
                    let k = match word.as_bytes()[0] {
                        b'-' | b'0'..=b'9' => TokenKind::Num,
                        b't' | b'f' | b'n' => TokenKind::Lit,
                        _ => TokenKind::Plain,
                    };
                    b.push_safe(word, kind(k, folded_at));
                    i = j;
                }
            }
        }
        b.finish()
    }

    /// Text shown as it is, one line per line (non-JSON bodies, messages), tabs as two spaces
    /// and everything else that may not reach a terminal escaped.
    pub fn plain(text: &str) -> Self {
        let mut b = Builder::new(text.len());
        for (n, line) in text.lines().enumerate() {
            if n > 0 {
                b.newline(0);
            }
            if line.contains('\t') {
                b.push_safe(&line.replace('\t', "  "), TokenKind::Plain);
            } else {
                b.push_safe(line, TokenKind::Plain);
            }
        }
        b.finish()
    }

    /// Pre-styled lines (headers view): (text, kind) pieces per line, escaped as they go in.
    pub fn from_pieces(lines: &[Vec<(String, TokenKind)>]) -> Self {
        let mut b = Builder::new(0);
        for (n, line) in lines.iter().enumerate() {
            if n > 0 {
                b.newline(0);
            }
            for (s, k) in line {
                b.push_safe(s, *k);
            }
        }
        b.finish()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len().saturating_sub(1)
    }

    /// The text of line `n`, without its indentation.
    pub fn line(&self, n: usize) -> &str {
        match (self.line_starts.get(n), self.line_starts.get(n + 1)) {
            (Some(&a), Some(&b)) => self.text.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    /// The indentation of line `n`, in spaces.
    pub fn indent(&self, n: usize) -> usize {
        self.line_indent
            .get(n)
            .map_or(0, |&l| usize::from(l) * INDENT)
    }

    /// Tokens of line `n` as (start within the line's text, text, kind), in order.
    pub fn line_pieces(&self, n: usize) -> impl Iterator<Item = (usize, &str, TokenKind)> + '_ {
        let line_start = self.line_starts.get(n).copied().unwrap_or(0);
        let line_end = self.line_starts.get(n + 1).copied().unwrap_or(line_start);
        let t0 = self.token_starts.partition_point(|&t| t < line_start);
        let t1 = self.token_starts.partition_point(|&t| t < line_end);
        (t0..t1).filter_map(move |t| {
            let start = *self.token_starts.get(t)?;
            let kind = *self.token_kinds.get(t)?;
            let end = if t + 1 < t1 {
                *self.token_starts.get(t + 1)?
            } else {
                line_end
            };
            let text = self.text.get(start as usize..end as usize)?;
            Some(((start - line_start) as usize, text, kind))
        })
    }

    /// What the reader must know about how the document is shown (deep nesting folded).
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Bytes held on the heap (for the memory bounds the tests check).
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.line_starts.capacity() * 4
            + self.line_indent.capacity()
            + self.token_starts.capacity() * 4
            + self.token_kinds.capacity()
            + self.note.as_ref().map_or(0, String::capacity)
    }

    /// The whole pretty text, indented, lines joined by '\n'.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 2 * self.line_count());
        for n in 0..self.line_count() {
            if n > 0 {
                out.push('\n');
            }
            out.extend(std::iter::repeat_n(' ', self.indent(n)));
            out.push_str(self.line(n));
        }
        out
    }
}

/// The end (exclusive) of the JSON string starting at `start` (a '"'); the input end if it is
/// unterminated. Always a char boundary: a '"' is ASCII.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lines(doc: &JsonDoc) -> Vec<String> {
        doc.to_text().split('\n').map(str::to_owned).collect()
    }

    #[test]
    fn pretty_prints_with_kinds() {
        let doc = JsonDoc::pretty(r#"{"a":1,"b":[true,null],"c":{},"d":"x\"y"}"#);
        assert_eq!(
            lines(&doc),
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
                TokenKind::Key,
                TokenKind::Punct,
                TokenKind::Num,
                TokenKind::Punct
            ]
        );
        assert_eq!(doc.note(), None);
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
            "[\"\\",
            "[\"\\é\"]",
        ] {
            let doc = JsonDoc::pretty(raw);
            for n in 0..doc.line_count() {
                let _ = doc.line_pieces(n).count();
            }
        }
    }

    #[test]
    fn deep_nesting_is_folded_onto_one_line_and_said() {
        let depth = 10_000;
        let raw = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let doc = JsonDoc::pretty(&raw);
        // MAX_DEPTH opening lines, the folded line, MAX_DEPTH closing lines.
        assert_eq!(doc.line_count(), 2 * MAX_DEPTH + 1);
        assert_eq!(doc.indent(MAX_DEPTH), MAX_DEPTH * INDENT);
        assert!(doc.line(MAX_DEPTH).starts_with("[[[["));
        assert!(doc.note().unwrap().contains("deeper than 64 levels"));
        assert!(doc.heap_bytes() < 2 * raw.len() + 4096);
        assert_eq!(doc.line_pieces(MAX_DEPTH).count(), 1);
    }

    #[test]
    fn unsafe_characters_are_shown_escaped() {
        let doc = JsonDoc::pretty("{\"k\u{202e}\":\"a\u{1b}]0;t\u{7}b\u{9b}c\"}");
        assert_eq!(
            lines(&doc)[1],
            r#"  "k\u202e": "a\u001b]0;t\u0007b\u009bc""#
        );
        let plain = JsonDoc::plain("<p>\tx\u{202e}</p>");
        assert_eq!(plain.line(0), "<p>  x\\u202e</p>");
    }
}
