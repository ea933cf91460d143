//! What goes to stdout (the items, byte for byte) and the round's line on stderr.
use super::*;

/// Writes a page's items (unless `quiet`) and flushes, so that items reach a pipeline page by
/// page, not at the end of the round.
pub(super) fn write_page(out: &mut impl Write, page: &Page, quiet: bool) -> std::io::Result<()> {
    if !quiet {
        for item in &page.items {
            write_item(out, page.body.get(item.span.clone()).unwrap_or_default())?;
        }
    }
    out.flush()
}

/// Items go out as one compact JSON line each, as received (bytes of the page body, which was
/// checked to be UTF-8 JSON when the page was parsed). Graph sends compact bodies; a
/// pretty-printed one (some proxies do that) is compacted so that every line stays one object.
fn write_item(out: &mut impl Write, item: &[u8]) -> std::io::Result<()> {
    if memchr::memchr2(b'\n', b'\r', item).is_some() {
        match serde_json::from_slice::<serde_json::Value>(item) {
            Ok(value) => serde_json::to_writer(&mut *out, &value)?,
            Err(_) => {
                let flat: Vec<u8> = item
                    .iter()
                    .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                    .collect();
                out.write_all(&flat)?
            }
        }
    } else {
        out.write_all(item)?;
    }
    out.write_all(b"\n")
}

/// The round's summary line, numbered across runs that continue from the same state file
/// (`before`: rounds completed by earlier runs), and marked when it was a full round.
pub fn describe_round(s: &RoundSummary, before: u64) -> String {
    number_round(s, &s.to_string(), before)
}

/// `text` (a line about round `s` that starts "round N:") numbered across runs.
pub(super) fn number_round(s: &RoundSummary, text: &str, before: u64) -> String {
    let own = format!("round {}:", s.number);
    let rest = text.strip_prefix(&own).unwrap_or(text);
    let kind = if s.full { " (full)" } else { "" };
    format!("round {}{kind}:{rest}", u64::from(s.number) + before)
}
