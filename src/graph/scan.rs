//! Reading a delta page's JSON without building values: one pass over the body that checks it
//! is valid JSON and, on the way, finds the `value` array, each item's span, and each item's
//! top-level `id`, `@removed` and `X@delta` keys.
//!
//! The contract is one-sided: when [`scan_page`] answers, serde would accept the body and read
//! the same items; when it cannot be sure (a top-level key written with escapes, a repeated
//! `value`, nesting deeper than [`MAX_DEPTH`], anything invalid) it answers `None` and the page
//! is read by serde alone, which also says precisely what is wrong. Property tests in `page.rs`
//! hold both paths to the same results on valid and on damaged bodies.

use std::ops::Range;

/// The `id`, `@removed` and `deleted` (driveItem's facet) of one item, as spans of the item's
/// text, and whether one of its top-level keys ends with `@delta` (a relationship's link
/// changes).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Head {
    pub id: Option<Range<usize>>,
    pub removed: Option<Range<usize>>,
    pub deleted: Option<Range<usize>>,
    pub links: bool,
}

/// A page body as [`scan_page`] found it.
#[derive(Debug)]
pub(super) struct ScannedPage {
    /// The `value` array in the body, brackets included.
    pub value: Range<usize>,
    /// Each item's span in the body, with its head; `None` when a key of the item is written
    /// with escapes or `id`/`@removed`/`deleted` is repeated (serde reads that item's head instead).
    pub items: Vec<(Range<usize>, Option<Head>)>,
}

/// Containers nested deeper than this (counting the page object itself) are left to serde,
/// whose own limit is higher: the scan never recurses without bound on hostile input.
const MAX_DEPTH: usize = 100;

/// The body of a delta page: a top-level object whose `value` is an array of objects. See the
/// module's contract. The body is taken to be UTF-8 (the caller has checked it).
pub(super) fn scan_page(body: &[u8]) -> Option<ScannedPage> {
    let mut s = Scanner { b: body, p: 0 };
    s.ws();
    s.eat(b'{')?;
    s.ws();
    let mut found: Option<ScannedPage> = None;
    loop {
        let (key, escaped) = s.string()?;
        if escaped {
            // Could be `value` written with escapes: serde knows.
            return None;
        }
        s.ws();
        s.eat(b':')?;
        s.ws();
        if &body[key] == b"value" {
            if found.is_some() {
                return None;
            }
            let start = s.p;
            let items = s.items()?;
            found = Some(ScannedPage {
                value: start..s.p,
                items,
            });
        } else {
            s.value(1)?;
        }
        s.ws();
        match s.next()? {
            b',' => s.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    s.ws();
    if s.p != body.len() {
        return None;
    }
    found
}

/// The head of one item (its JSON text), or `None` when the item is not a valid object or a key
/// is written with escapes or `id`/`@removed`/`deleted` is repeated.
pub(super) fn item_head(item: &[u8]) -> Option<Head> {
    let mut s = Scanner { b: item, p: 0 };
    let head = s.item(0)?;
    if s.p == item.len() { head } else { None }
}

struct Scanner<'a> {
    b: &'a [u8],
    p: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.p) {
            self.p += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.p).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.p += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.p += 1)
    }

    /// The array of items at `p`: each must be an object.
    fn items(&mut self) -> Option<Vec<(Range<usize>, Option<Head>)>> {
        self.eat(b'[')?;
        self.ws();
        let mut out = Vec::new();
        if self.eat(b']').is_some() {
            return Some(out);
        }
        loop {
            let start = self.p;
            let head = self.item(start)?;
            out.push((start..self.p, head));
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    /// An item object at `p`, with its head as spans relative to `start`. The outer `None`: not
    /// valid; the inner: valid, but its head is left to serde.
    fn item(&mut self, start: usize) -> Option<Option<Head>> {
        let mut head = Some(Head::default());
        // The page object and the `value` array are around every item.
        self.object(3, |key, escaped, value| {
            let Some(h) = head.as_mut() else {
                return;
            };
            if escaped {
                head = None;
                return;
            }
            // Most keys are neither: the first byte says so without comparing whole slices.
            if key.len() >= 6 && key[key.len() - 6] == b'@' && key.ends_with(b"@delta") {
                h.links = true;
            }
            let slot = match key.first() {
                Some(b'i') if key == b"id" => &mut h.id,
                Some(b'@') if key == b"@removed" => &mut h.removed,
                Some(b'd') if key == b"deleted" => &mut h.deleted,
                _ => return,
            };
            if slot.is_some() {
                head = None;
            } else {
                *slot = Some(value.start - start..value.end - start);
            }
        })?;
        Some(head)
    }

    /// Any JSON value at `p`, inside `depth` containers.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth + 1, |_, _, _| {}),
            b'[' => self.array(depth + 1),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// An object at `p` (its own depth is `depth`), calling `member` with each key (its bytes
    /// between the quotes), whether the key holds escapes, and the span of its value.
    fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&[u8], bool, Range<usize>),
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let b = self.b;
        loop {
            let (key, escaped) = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let start = self.p;
            self.value(depth)?;
            member(&b[key], escaped, start..self.p);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A string at `p`: the span between its quotes, and whether it holds escapes. JSON's rules:
    /// no control characters, escapes from the list, `\u` with four hex digits (which code
    /// point they name is not checked, as serde does not when it skips a string).
    fn string(&mut self) -> Option<(Range<usize>, bool)> {
        self.eat(b'"')?;
        let start = self.p;
        let mut escaped = false;
        loop {
            self.p += special_byte(self.b.get(self.p..)?)?;
            match self.next()? {
                b'"' => return Some((start..self.p - 1, escaped)),
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.b.get(self.p..self.p + 4)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.p += 4;
                        }
                        _ => return None,
                    }
                }
                // A control character.
                _ => return None,
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.next()? {
            b'0' => {
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.p += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.p += 1;
            }
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.p += 1;
        }
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        self.b.get(self.p..)?.starts_with(word).then(|| {
            self.p += word.len();
        })
    }
}

/// The offset of the first `"`, `\` or control character (below 0x20) in `s`, eight bytes at a
/// time: a string's text is skipped without looking at each byte on its own.
fn special_byte(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    const SPACES: u64 = ONES * 0x20;
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // For each test the lowest flagged byte is exact (a borrow only runs upwards from a
        // true match), so the lowest flag of the three is the first special byte.
        let q = w ^ QUOTES;
        let e = w ^ BACKSLASHES;
        let flags = ((q.wrapping_sub(ONES) & !q)
            | (e.wrapping_sub(ONES) & !e)
            | (w.wrapping_sub(SPACES) & !w))
            & HIGH;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|k| at + k)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Head, item_head, scan_page, special_byte};

    #[test]
    fn the_first_special_byte_is_found_in_any_position() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut s = vec![b'a'; len];
                    // Bytes that look close to special ones, and non-ASCII, around it.
                    for (i, c) in s.iter_mut().enumerate() {
                        *c = [b'a', b'#', b'[', b' ', 0x80, 0xff, b'!', b']'][i % 8];
                    }
                    s[at] = special;
                    if at + 1 < len {
                        s[at + 1] = b'"';
                    }
                    assert_eq!(special_byte(&s), Some(at), "len {len} at {at} {special}");
                }
            }
            let plain = vec![b'x'; len];
            assert_eq!(special_byte(&plain), None);
        }
    }

    #[test]
    fn a_page_is_taken_apart_with_each_items_head() {
        let body = br#" {"@odata.context":"c","value":[ {"id":"a","x":{"y":[1,2.5e-3,"\""]}} ,{"@removed":{"reason":"deleted"},"id":"b","members@delta":[]}],"@odata.nextLink":"n"} "#;
        let page = scan_page(body).unwrap();
        assert_eq!(&body[page.value.clone()][..2], b"[ ");
        assert_eq!(page.items.len(), 2);
        let (span, head) = &page.items[0];
        assert_eq!(
            &body[span.clone()],
            br#"{"id":"a","x":{"y":[1,2.5e-3,"\""]}}"#
        );
        let head = head.clone().unwrap();
        assert_eq!(&body[span.start..][head.id.unwrap()], br#""a""#);
        let (span, head) = &page.items[1];
        let head = head.clone().unwrap();
        assert!(head.links);
        assert_eq!(
            &body[span.start..][head.removed.unwrap()],
            br#"{"reason":"deleted"}"#
        );
    }

    #[test]
    fn invalid_json_or_doubt_is_left_to_serde() {
        for body in [
            &br#"{"value":[{"a":"x
"}]}"#[..],
            br#"{"value":[{"a":"\x"}]}"#,
            br#"{"value":[{"a":"\u12G4"}]}"#,
            br#"{"value":[{"a":01}]}"#,
            br#"{"value":[{"a":1.}]}"#,
            br#"{"value":[{"a":1e}]}"#,
            br#"{"value":[{"a":-}]}"#,
            br#"{"value":[{"a":tru}]}"#,
            br#"{"value":[{"a":1,}]}"#,
            br#"{"value":[{"a":1}],}"#,
            br#"{"value":[{"a":1},]}"#,
            br#"{"value":[{"a" 1}]}"#,
            br#"{"value":[1]}"#,
            br#"{"value":{}}"#,
            br#"{"value":[],"value":[]}"#,
            br#"{"valu\u0065":[]}"#,
            br#"{"value":[]} x"#,
            br#"{"value":[{"a":[1}]}"#,
            br#"{"value":["#,
            br#"{"value":[{"a":"x"#,
            b"",
            b"[]",
        ] {
            assert!(
                scan_page(body).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let deep = format!(
            r#"{{"value":[{{"a":{}1{}}}]}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(scan_page(deep.as_bytes()).is_none());
        let fine = format!(
            r#"{{"value":[{{"a":{}1{}}}]}}"#,
            "[".repeat(90),
            "]".repeat(90)
        );
        assert!(scan_page(fine.as_bytes()).is_some());
    }

    #[test]
    fn an_items_head_is_left_to_serde_for_escaped_or_repeated_keys() {
        assert_eq!(item_head(br#"{"\u0069d":"x"}"#), None);
        assert_eq!(item_head(br#"{"id":"a","id":"b"}"#), None);
        assert_eq!(item_head(br#"{"id":"a","x":"\n"}"#).unwrap().id, Some(6..9));
        assert_eq!(item_head(br#"{}"#), Some(Head::default()));
        assert_eq!(item_head(br#"{"id":"a"} x"#), None);
    }
}
