//! Text that lives inside a bigger shared buffer.
use std::sync::Arc;

/// Text that lives inside a bigger shared buffer (an object inside its page): a range of the
/// page body as the engine received it (`Bytes`, reference-counted), so 100,000 objects do not
/// mean 100,000 copies of their JSON, and the explorer and the engine's replica share one body.
/// The range is checked to be UTF-8 when made.
#[derive(Clone, Default)]
pub struct SharedText {
    pub(super) buf: bytes::Bytes,
    pub(super) start: u32,
    end: u32,
}

impl SharedText {
    /// `range` of `buf`; a range that does not fit (or is not on char boundaries) is copied
    /// into its own buffer instead.
    pub fn new(buf: &bytes::Bytes, range: std::ops::Range<usize>) -> Self {
        let text = buf
            .get(range.clone())
            .and_then(|b| std::str::from_utf8(b).ok());
        match (u32::try_from(range.start), u32::try_from(range.end), text) {
            (Ok(start), Ok(end), Some(_)) => SharedText {
                buf: buf.clone(),
                start,
                end,
            },
            (_, _, text) => SharedText::from(text.unwrap_or("")),
        }
    }

    /// The whole of `buf`, when it is UTF-8 text (else empty).
    pub fn whole(buf: &bytes::Bytes) -> Self {
        SharedText::new(buf, 0..buf.len())
    }

    /// Where the text lies in its buffer (for a text made with [`SharedText::new`] on a page
    /// body: the item's span in the page).
    pub fn span(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Whether `other` is a range of the same buffer as this text.
    pub fn same_buffer(&self, other: &SharedText) -> bool {
        self.buf.as_ptr() == other.buf.as_ptr() && self.buf.len() == other.buf.len()
    }

    pub fn as_str(&self) -> &str {
        self.buf
            .get(self.start as usize..self.end as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl From<&str> for SharedText {
    fn from(s: &str) -> Self {
        SharedText::whole(&bytes::Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Arc<str>> for SharedText {
    fn from(s: Arc<str>) -> Self {
        SharedText::from(&*s)
    }
}

impl From<String> for SharedText {
    fn from(s: String) -> Self {
        SharedText::whole(&bytes::Bytes::from(s))
    }
}

impl std::ops::Deref for SharedText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for SharedText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for SharedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for SharedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for SharedText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}
