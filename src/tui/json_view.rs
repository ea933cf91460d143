//! The JSON pane's state: a prepared document ([`JsonDoc`]), its scroll position and search.
//! Large bodies are pretty-printed off the UI thread: the view shows a placeholder and hands out
//! a [`FormatJob`]; the document comes back tagged with the job's number, and an answer for
//! anything else than what the pane waits for is dropped.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub use super::json_doc::{JsonDoc, TokenKind};
use super::theme::Theme;
use super::view::SharedText;

/// Bodies up to this size are pretty-printed at once (a few milliseconds); larger ones in the
/// background.
pub const INLINE_LIMIT: usize = 256 * 1024;

/// Search stops counting here: a one-letter search in a 10 MB string must not cost 24 bytes a
/// letter.
pub const MAX_MATCHES: usize = 100_000;

/// Sideways scrolling stops at this column: a frame skips at most this many characters of a
/// visible line, so a 10 MB line costs a frame no more than a line of this length.
pub const MAX_LEFT: usize = 4096;

/// Job numbers are unique in the process, so an answer can never be taken for a later job.
static NEXT_JOB: AtomicU64 = AtomicU64::new(1);

/// A body to pretty-print off the UI thread; the answer is `Msg::JsonFormatted` with `seq`.
#[derive(Clone, PartialEq)]
pub struct FormatJob {
    pub seq: u64,
    pub body: SharedText,
}

impl FormatJob {
    pub fn run(&self) -> JsonDoc {
        JsonDoc::pretty(&self.body)
    }
}

impl std::fmt::Debug for FormatJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the body: effects are logged and asserted on, and a body can be megabytes.
        f.debug_struct("FormatJob")
            .field("seq", &self.seq)
            .field("bytes", &self.body.len())
            .finish()
    }
}

/// A search hit: line, byte range within the line's text (indentation excluded).
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
    /// The search stopped at [`MAX_MATCHES`].
    pub capped: bool,
    /// The job whose document the pane waits for (a placeholder is shown meanwhile).
    pub pending: Option<u64>,
    /// First visible column of every line (sideways scroll; at most [`MAX_LEFT`]).
    pub left: usize,
    /// Long lines wrap at the pane's width (each on at most as many rows as the pane has)
    /// instead of being cut; kept from one document to the next.
    pub wrap: bool,
    /// A job not yet handed to the runtime.
    job: Option<FormatJob>,
}

impl JsonView {
    pub fn new(doc: Arc<JsonDoc>) -> Self {
        Self {
            doc,
            ..Default::default()
        }
    }

    /// Shows `body` pretty-printed: at once when it is small, else a placeholder until the job
    /// taken with [`JsonView::take_job`] answers. The search query is kept.
    pub fn show_json(&mut self, body: SharedText, height: usize) {
        if body.len() <= INLINE_LIMIT {
            self.show_doc(JsonDoc::pretty(&body), height);
            return;
        }
        let seq = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
        let waiting = JsonDoc::plain(&format!(
            "formatting {:.1} MB of JSON…",
            body.len() as f64 / (1024.0 * 1024.0)
        ));
        self.show_doc(waiting, height);
        self.pending = Some(seq);
        self.job = Some(FormatJob { seq, body });
    }

    /// Shows `doc` from its top; the search query is kept and run again.
    pub fn show_doc(&mut self, doc: JsonDoc, height: usize) {
        self.replace_doc(Arc::new(doc), height);
    }

    /// A fresh view of `doc` that keeps the wrap setting and runs the search again.
    fn replace_doc(&mut self, doc: Arc<JsonDoc>, height: usize) {
        let query = std::mem::take(&mut self.query);
        let wrap = self.wrap;
        *self = JsonView::new(doc);
        self.wrap = wrap;
        if !query.is_empty() {
            self.search(&query, height);
            self.top = 0;
        }
    }

    /// The job to run off the UI thread, once.
    pub fn take_job(&mut self) -> Option<FormatJob> {
        self.job.take()
    }

    /// Job `seq` answered: shown if the pane still waits for it. Returns whether it was.
    pub fn formatted(&mut self, seq: u64, doc: Arc<JsonDoc>, height: usize) -> bool {
        if self.pending != Some(seq) {
            return false;
        }
        self.replace_doc(doc, height);
        true
    }

    fn max_top(&self, height: usize) -> usize {
        let count = self.doc.line_count();
        if self.wrap {
            // Wrapped lines take several rows: the last line may come up to the top.
            count.saturating_sub(1)
        } else {
            count.saturating_sub(height.max(1))
        }
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

    /// Shows the last line at the bottom; `width` is the pane body's width (wrapped lines).
    pub fn scroll_bottom(&mut self, height: usize, width: usize) {
        let height = height.max(1);
        if !self.wrap {
            self.top = self.max_top(height);
            return;
        }
        // Up from the last line while its rows still fit.
        let text_w = self.text_width(width);
        let mut rows = 0;
        let mut top = self.doc.line_count();
        while top > 0 {
            let r = self.wrapped_rows(top - 1, text_w, height);
            if rows + r > height {
                break;
            }
            rows += r;
            top -= 1;
        }
        self.top = top.min(self.max_top(height));
    }

    /// Moves the first visible column by `delta` (no further than [`MAX_LEFT`], nor past the
    /// end of the longest visible line); nothing moves while lines wrap.
    pub fn scroll_sideways(&mut self, delta: isize, height: usize, width: usize) {
        if self.wrap {
            return;
        }
        let text_w = self.text_width(width).max(1);
        let end = (self.top + height).min(self.doc.line_count());
        // Measured no further than the furthest column one can scroll to.
        let cap = MAX_LEFT + text_w;
        let longest = (self.top..end)
            .map(|n| self.doc.indent(n) + self.doc.line(n).chars().take(cap).count())
            .max()
            .unwrap_or(0);
        let max_left = longest.saturating_sub(text_w / 2).min(MAX_LEFT);
        self.left = if delta < 0 {
            self.left.saturating_sub(delta.unsigned_abs())
        } else {
            // Never moved back by a right step (the lines now in view may be shorter).
            self.left
                .saturating_add(delta.unsigned_abs())
                .min(max_left.max(self.left))
        };
    }

    /// Long lines wrap, or are cut again (then from the first column).
    pub fn toggle_wrap(&mut self, height: usize) {
        self.wrap = !self.wrap;
        self.left = 0;
        self.top = self.top.min(self.max_top(height));
    }

    /// How many lines, from `top` on, a body of `height` x `width` shows (wrapped lines take
    /// more than a row; a line only partly shown counts).
    pub fn lines_shown(&self, height: usize, width: usize) -> usize {
        let total = self.doc.line_count();
        if !self.wrap {
            return height.min(total.saturating_sub(self.top));
        }
        let text_w = self.text_width(width);
        let (mut rows, mut n) = (0, self.top);
        while rows < height && n < total {
            rows += self.wrapped_rows(n, text_w, height - rows);
            n += 1;
        }
        n - self.top
    }

    /// Columns of the pane body left for the text (the rest is the line-number gutter).
    pub fn text_width(&self, width: usize) -> usize {
        width.saturating_sub(digits(self.doc.line_count()) + 1)
    }

    /// Rows line `n` takes when wrapped at `text_w`: at least one, at most `max_rows`;
    /// counts no more characters than those rows hold.
    fn wrapped_rows(&self, n: usize, text_w: usize, max_rows: usize) -> usize {
        let text_w = text_w.max(1);
        let cap = text_w.saturating_mul(max_rows);
        let cols = self.doc.indent(n) + self.doc.line(n).chars().take(cap).count();
        cols.div_ceil(text_w).clamp(1, max_rows.max(1))
    }

    /// Finds every ASCII-case-insensitive occurrence of `query` (up to [`MAX_MATCHES`]) and
    /// moves to the first match at or after the current top line. Returns the number of matches.
    pub fn search(&mut self, query: &str, height: usize) -> usize {
        self.query = query.to_owned();
        self.matches.clear();
        self.current = 0;
        self.capped = false;
        if query.is_empty() {
            return 0;
        }
        let needle = query.to_ascii_lowercase();
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut buf: Vec<u8> = Vec::new();
        'lines: for n in 0..self.doc.line_count() {
            let line = self.doc.line(n).as_bytes();
            buf.clear();
            buf.extend(line.iter().map(u8::to_ascii_lowercase));
            for start in finder.find_iter(&buf) {
                if self.matches.len() == MAX_MATCHES {
                    self.capped = true;
                    break 'lines;
                }
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

    /// The ratatui lines for the rows from line `top` on, at most `height`, with a line-number
    /// gutter and search highlights, each `width` characters at most: cut from column `left`,
    /// or wrapped (a line on at most `height` rows). Only what can be seen is built, so a line
    /// as long as the body costs no more than a short one.
    pub fn visible_lines(&self, height: usize, width: usize, t: &Theme) -> Vec<Line<'_>> {
        let total = self.doc.line_count();
        let gutter = digits(total);
        let text_w = width.saturating_sub(gutter + 1);
        let mut mi = self.matches.partition_point(|m| m.line < self.top);
        let mut out = Vec::with_capacity(height);
        let mut n = self.top;
        while out.len() < height && n < total {
            let m0 = mi;
            while mi < self.matches.len() && self.matches[mi].line == n {
                mi += 1;
            }
            let (skip, max_rows) = if self.wrap {
                (0, height - out.len())
            } else {
                (self.left, 1)
            };
            let rows = self.cut_line(n, skip, text_w, max_rows, m0..mi, t);
            for (k, spans) in rows.into_iter().enumerate() {
                let number = if k == 0 {
                    format!("{:>gutter$} ", n + 1)
                } else {
                    " ".repeat(gutter + 1)
                };
                let mut line = Vec::with_capacity(spans.len() + 1);
                line.push(Span::styled(number, t.line_number));
                line.extend(spans);
                out.push(Line::from(line));
            }
            n += 1;
        }
        out
    }

    /// Line `n` from column `skip` on, in rows of `w` columns, at most `max_rows` of them (at
    /// least one, maybe empty). The indentation counts as columns. Costs `skip` plus what the
    /// rows hold, whatever the line's length.
    fn cut_line(
        &self,
        n: usize,
        mut skip: usize,
        w: usize,
        max_rows: usize,
        matches: std::ops::Range<usize>,
        t: &Theme,
    ) -> Vec<Vec<Span<'_>>> {
        let mut rows: Vec<Vec<Span<'_>>> = vec![Vec::new()];
        if w == 0 {
            return rows;
        }
        let mut room = w;
        // The next row, if one more may be shown.
        let next_row = |rows: &mut Vec<Vec<Span<'_>>>, room: &mut usize| {
            if rows.len() >= max_rows {
                return false;
            }
            rows.push(Vec::new());
            *room = w;
            true
        };
        let indent = self.doc.indent(n);
        let mut spaces = indent - skip.min(indent);
        skip -= skip.min(indent);
        while spaces > 0 {
            if room == 0 && !next_row(&mut rows, &mut room) {
                return rows;
            }
            let take = spaces.min(room);
            if let Some(row) = rows.last_mut() {
                row.push(Span::raw(" ".repeat(take)));
            }
            spaces -= take;
            room -= take;
        }
        let line_matches = &self.matches[matches.clone()];
        for (mut at, mut text, kind) in self.doc.line_pieces(n) {
            if skip > 0 {
                match text.char_indices().nth(skip) {
                    Some((cut, _)) => {
                        text = &text[cut..];
                        at += cut;
                        skip = 0;
                    }
                    // Shorter than `skip`, so counting it costs no more than `skip`.
                    None => {
                        skip -= text.chars().count();
                        continue;
                    }
                }
            }
            while !text.is_empty() {
                if room == 0 && !next_row(&mut rows, &mut room) {
                    return rows;
                }
                let head = clip(text, &mut room);
                let Some(row) = rows.last_mut() else {
                    return rows;
                };
                if line_matches.is_empty() {
                    row.push(Span::styled(head, kind.style(t)));
                } else {
                    self.split_highlight(
                        row,
                        (at, head, kind.style(t)),
                        line_matches,
                        matches.start,
                        t,
                    );
                }
                at += head.len();
                text = &text[head.len()..];
            }
        }
        rows
    }

    fn split_highlight<'a>(
        &self,
        spans: &mut Vec<Span<'a>>,
        (at, text, style): (usize, &'a str, Style),
        matches: &[Match],
        first_index: usize,
        t: &Theme,
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
                spans.push(Span::styled(s, style));
            }
            let mark = if first_index + k == self.current {
                t.search_current
            } else {
                t.search_match
            };
            if let Some(s) = text.get(a - at..b - at) {
                spans.push(Span::styled(s, mark));
            }
            pos = b;
        }
        if pos < end
            && let Some(s) = text.get(pos - at..)
        {
            spans.push(Span::styled(s, style));
        }
    }
}

/// The first `budget` characters of `text` (all of it when shorter), taken off the budget;
/// costs no more than the characters kept.
fn clip<'a>(text: &'a str, budget: &mut usize) -> &'a str {
    match text.char_indices().nth(*budget) {
        Some((cut, _)) => {
            *budget = 0;
            &text[..cut]
        }
        None => {
            *budget = budget.saturating_sub(text.chars().count());
            text
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

    fn texts(v: &JsonView, height: usize, width: usize) -> Vec<String> {
        v.visible_lines(height, width, &crate::tui::theme::Theme::dark())
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
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
        assert!(
            texts(&v, 5, 80)
                .iter()
                .any(|t| t.contains("  \"other\": \"a@y\""))
        );
    }

    #[test]
    fn scrolling_is_clamped() {
        let doc = Arc::new(JsonDoc::pretty(r#"[1,2,3,4,5,6,7,8,9,10]"#));
        let mut v = JsonView::new(doc);
        v.scroll_by(100, 5);
        assert_eq!(v.top, 12 - 5);
        v.scroll_by(-100, 5);
        assert_eq!(v.top, 0);
        v.scroll_bottom(5, 80);
        assert_eq!(v.top, 7);
    }

    #[test]
    fn long_lines_are_cut_to_the_width() {
        let long = format!("[\"{}\"]", "é".repeat(1_000_000));
        let mut v = JsonView::new(Arc::new(JsonDoc::pretty(&long)));
        v.search("é", 3);
        let lines = texts(&v, 3, 50);
        assert!(lines.iter().all(|l| l.chars().count() <= 50), "{lines:?}");
        assert!(lines[1].starts_with("2   \"éé"), "{lines:?}");
    }

    #[test]
    fn a_huge_line_wrapped_or_scrolled_costs_a_frame_what_the_pane_holds() {
        let long = format!("[\"{}\"]", "é".repeat(10_000_000));
        let mut v = JsonView::new(Arc::new(JsonDoc::pretty(&long)));
        v.search("é", 20);
        // Scrolled as far as it goes: MAX_LEFT, not the end of a 10 MB line.
        for _ in 0..10_000 {
            v.scroll_sideways(1_000, 20, 80);
        }
        assert_eq!(v.left, MAX_LEFT);
        let lines = texts(&v, 20, 80);
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:?}");
        assert_eq!(lines[1].chars().filter(|&c| c == 'é').count(), 80 - 2);
        // Wrapped: the line takes the pane's rows, no more, each at most the width.
        v.toggle_wrap(20);
        assert_eq!(v.left, 0);
        v.top = 1;
        let lines = texts(&v, 20, 80);
        assert_eq!(lines.len(), 20);
        assert!(lines.iter().all(|l| l.chars().count() == 80), "{lines:?}");
        assert!(lines[0].starts_with("2   \"éé"), "{lines:?}");
        assert!(lines[1].starts_with("  éé"), "{lines:?}");
        assert_eq!(v.lines_shown(20, 80), 1);
        // The last line comes to the bottom, after the wrapped one above it.
        v.scroll_bottom(20, 80);
        assert_eq!(v.top, 2);
    }

    #[test]
    fn wrapped_rows_keep_the_search_highlight_and_the_gutter() {
        let doc = Arc::new(JsonDoc::pretty(
            r#"{"link":"https://x/delta?token=abcdef"}"#,
        ));
        let mut v = JsonView::new(doc);
        v.search("token", 5);
        v.toggle_wrap(5);
        let theme = crate::tui::theme::Theme::dark();
        let lines = v.visible_lines(5, 20, &theme);
        let texts: Vec<String> = lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(
            texts,
            [
                "1 {",
                "2   \"link\": \"https:/",
                "  /x/delta?token=abc",
                "  def\"",
                "3 }"
            ]
        );
        let hit: Vec<&str> = lines[2]
            .spans
            .iter()
            .filter(|s| s.style == theme.search_current)
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(hit, ["token"]);
        assert_eq!(v.lines_shown(5, 20), 3);
    }

    #[test]
    fn large_bodies_are_formatted_off_the_ui_thread_and_stale_answers_dropped() {
        let big = format!("[\"{}\"]", "x".repeat(INLINE_LIMIT));
        let mut v = JsonView {
            query: "xx".into(),
            ..Default::default()
        };
        v.show_json(SharedText::from(big.as_str()), 10);
        let job = v.take_job().unwrap();
        assert!(v.take_job().is_none());
        assert_eq!(v.pending, Some(job.seq));
        assert!(v.doc.line(0).starts_with("formatting"));
        // Something else was selected meanwhile: the answer is stale.
        let mut other = v.clone();
        other.show_json(SharedText::from("[1]"), 10);
        assert!(!other.formatted(job.seq, Arc::new(job.run()), 10));
        assert_eq!(other.doc.line_count(), 3);
        assert!(v.formatted(job.seq, Arc::new(job.run()), 10));
        assert_eq!(v.pending, None);
        assert_eq!(v.doc.line_count(), 3);
        assert_eq!(v.query, "xx");
        assert!(!v.matches.is_empty());
    }
}
