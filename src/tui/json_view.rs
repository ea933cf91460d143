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
        let query = std::mem::take(&mut self.query);
        *self = JsonView::new(Arc::new(doc));
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
        let query = std::mem::take(&mut self.query);
        *self = JsonView::new(doc);
        if !query.is_empty() {
            self.search(&query, height);
            self.top = 0;
        }
        true
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

    /// The ratatui lines for rows `top .. top + height`, with a line-number gutter and search
    /// highlights, each cut to `width` characters: only what can be seen is built, so a line
    /// as long as the body costs no more than a short one.
    pub fn visible_lines(&self, height: usize, width: usize, t: &Theme) -> Vec<Line<'_>> {
        let total = self.doc.line_count();
        let end = (self.top + height).min(total);
        let gutter = digits(total);
        let first_match = self.matches.partition_point(|m| m.line < self.top);
        let mut mi = first_match;
        let mut out = Vec::with_capacity(end.saturating_sub(self.top));
        for n in self.top..end {
            let mut spans = Vec::with_capacity(8);
            spans.push(Span::styled(format!("{:>gutter$} ", n + 1), t.line_number));
            let mut budget = width.saturating_sub(gutter + 1);
            let indent = self.doc.indent(n).min(budget);
            if indent > 0 {
                spans.push(Span::raw(" ".repeat(indent)));
                budget -= indent;
            }
            let m0 = mi;
            while mi < self.matches.len() && self.matches[mi].line == n {
                mi += 1;
            }
            let line_matches = &self.matches[m0..mi];
            for (at, text, kind) in self.doc.line_pieces(n) {
                if budget == 0 {
                    break;
                }
                let text = clip(text, &mut budget);
                if line_matches.is_empty() {
                    spans.push(Span::styled(text, kind.style(t)));
                } else {
                    self.split_highlight(
                        &mut spans,
                        (at, text, kind.style(t)),
                        line_matches,
                        m0,
                        t,
                    );
                }
            }
            out.push(Line::from(spans));
        }
        out
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
        v.scroll_bottom(5);
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
