//! Hand-written JSON output for the hot path (pages of directory objects): bytes are appended
//! straight into the page buffer instead of building `serde_json::Value` trees.
use std::io::Write;

/// Appends `s` as a JSON string literal (with quotes).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `"key":` (keys are plain ASCII property names).
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends a `serde_json::Value`.
pub(crate) fn write_value(out: &mut Vec<u8>, v: &serde_json::Value) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Writes `{...}` with `id` in its alphabetical place: every property of `include`, its value
/// or, without one, `[]` for those of `collections` and `null` for the others (Graph writes
/// every selected property).
pub(crate) fn write_props(
    out: &mut Vec<u8>,
    id: &str,
    props: &[&str],
    include: crate::emulator::tenant::Mask,
    collections: crate::emulator::tenant::Mask,
    mut get: impl FnMut(usize, &mut Vec<u8>) -> bool,
) {
    out.push(b'{');
    let mut first = true;
    let mut id_done = false;
    for (i, name) in props.iter().enumerate() {
        if !id_done && *name > "id" {
            if !first {
                out.push(b',');
            }
            write_key(out, "id");
            write_str(out, id);
            first = false;
            id_done = true;
        }
        let bit = crate::emulator::tenant::bit(i);
        if include & bit == 0 {
            continue;
        }
        if !first {
            out.push(b',');
        }
        write_key(out, name);
        let mark = out.len();
        if !get(i, out) {
            out.truncate(mark);
            out.extend_from_slice(if collections & bit != 0 {
                b"[]"
            } else {
                b"null"
            });
        }
        first = false;
    }
    if !id_done {
        if !first {
            out.push(b',');
        }
        write_key(out, "id");
        write_str(out, id);
    }
    out.push(b'}');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn escapes_like_serde() {
        for s in [
            "plain",
            "quo\"te",
            "back\\slash",
            "nl\nx",
            "ctl\u{1}",
            "日本語 é",
        ] {
            let mut out = Vec::new();
            super::write_str(&mut out, s);
            let expected = serde_json::to_string(s).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&out), expected);
        }
    }
}
