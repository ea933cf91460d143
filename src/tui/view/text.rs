//! What of a text from outside reaches one line or one cell of the screen.
use std::borrow::Cow;

/// One line of the screen never shows more than this many characters of one text.
pub const LINE: usize = 1024;

/// A cell shows at most this many characters of a value: no column is wider, and a frame
/// measures every visible cell (a 10 MB string must not be measured 60 times a frame).
const MAX_CELL_CHARS: usize = 256;

/// What a table shows of a name or value from the server: cut to [`MAX_CELL_CHARS`], with
/// every character that may not reach a terminal escaped (`\u202e`). Borrowed when unchanged.
pub fn cell_text(s: &str) -> Cow<'_, str> {
    clipped(s, MAX_CELL_CHARS)
}

/// Text from outside for one line of the screen: at most `max` characters (then '…'), escaped
/// as [`crate::text::one_line`] does; costs no more than what is kept, however long `s` is.
pub fn clipped(s: &str, max: usize) -> Cow<'_, str> {
    let (head, cut) = match s.char_indices().nth(max) {
        Some((at, _)) => (&s[..at], true),
        None => (s, false),
    };
    match crate::text::one_line(head) {
        text if !cut => text,
        text => Cow::Owned(format!("{text}…")),
    }
}
