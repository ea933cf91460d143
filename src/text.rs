//! Text that came from outside (a Graph response, the tenant's data, a link, a header, an error
//! body) on its way to a terminal: stderr or the explorer's screen.
//!
//! A terminal obeys escape sequences: an ESC, a C1 control or a BEL in a Graph error message
//! could set the window title, write the clipboard (OSC 52) or move the cursor; bidi overrides
//! (U+202A-U+202E, U+2066-U+2069) reorder what is shown after them, so a link or an id can read as
//! something it is not. Every such character is shown escaped, as JSON writes it (`\u001b`,
//! `\u202e`), so nothing is lost and nothing acts. Items written to stdout as NDJSON are not
//! passed through here: they stay byte-exact (JSON already escapes control characters; a bidi
//! override inside a JSON string is data).
use std::borrow::Cow;

/// Bidi embedding, override and isolate controls: they reorder the text shown after them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` may not reach a terminal as it is: C0 controls, DEL, C1 controls, bidi controls.
/// Tab and newline are kept apart from these by the callers that allow them.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn escape_with(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_at = s.char_indices().find(|&(_, c)| is_unsafe(c) && !keep(c));
    let Some((at, _)) = unsafe_at else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..at]);
    for c in s[at..].chars() {
        if is_unsafe(c) && !keep(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `c` as JSON escapes it: `\u001b`.
pub fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}

/// For multi-line text (stderr messages): every unsafe character escaped except newline and tab.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c == '\n' || c == '\t')
}

/// For one line of a screen (a table cell, a status line): newlines and tabs escaped too.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape_with(s, |_| false)
}

/// Writes `message` and a newline to stderr with [`terminal_safe`] applied: the one way the
/// headless commands print anything that may hold text from outside.
pub fn eprintln_safe(message: &str) {
    eprintln!("{}", terminal_safe(message));
}

/// `eprintln!` with [`terminal_safe`] applied to the whole message.
#[macro_export]
macro_rules! safe_eprintln {
    ($($arg:tt)*) => {
        $crate::text::eprintln_safe(&::std::format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped_everything_else_kept() {
        assert!(matches!(terminal_safe("plain ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(
            terminal_safe("a\u{1b}]0;pwned\u{7}b\nc\td"),
            "a\\u001b]0;pwned\\u0007b\nc\td"
        );
        assert_eq!(one_line("a\nb\tc\rd"), "a\\u000ab\\u0009c\\u000dd");
        assert_eq!(terminal_safe("\u{9b}31m"), "\\u009b31m");
        assert_eq!(terminal_safe("\u{7f}"), "\\u007f");
        assert_eq!(
            terminal_safe("evil\u{202e}txt.exe \u{2066}x\u{2069}"),
            "evil\\u202etxt.exe \\u2066x\\u2069"
        );
        // Marks that do not override (LRM, ZWJ) are left alone.
        assert_eq!(terminal_safe("a\u{200e}b\u{200d}c"), "a\u{200e}b\u{200d}c");
    }
}
