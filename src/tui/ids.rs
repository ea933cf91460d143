//! The id filter editor: what is wrong with its lines, and pasting a list into it. Both are
//! linear in the number of ids: a paste of 10,000 ids is one edit of the text area (one refresh
//! of its screen map, not one per line), and the check keeps the ids seen in a hash set.
use std::collections::HashSet;

use ratatui_textarea::{CursorMove, TextArea};

use super::view::{MAX_IDS, ProblemView};
use crate::graph::round::plural;

/// What the check of the editor's lines found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdCheck {
    /// Per line: `None` (fine or blank) or what is wrong with it.
    pub lines: Vec<Option<&'static str>>,
    /// Ids, on every line (a line may hold several).
    pub count: usize,
    /// Lines that are not GUIDs, and the first of them (0-based line, its text).
    pub not_guids: usize,
    pub first_not_guid: Option<(usize, String)>,
    /// GUIDs given again (case-insensitively), and the first repeat (0-based line).
    pub duplicates: usize,
    pub first_duplicate: Option<usize>,
}

pub const NOT_A_GUID: &str = "not a GUID";
pub const DUPLICATE: &str = "duplicate";
pub const OVER_THE_LIMIT: &str = "over the limit";

/// Checks every line. A line may hold several ids (typed with commas, semicolons, spaces or
/// quotes between them, as a paste is split); each counts. A line is marked with the worst
/// problem of its ids: not a GUID, then given twice, then past the limit of [`MAX_IDS`].
pub fn check_ids(lines: &[String]) -> IdCheck {
    let mut out = IdCheck {
        lines: Vec::with_capacity(lines.len()),
        ..Default::default()
    };
    let mut seen: HashSet<[u8; 36]> = HashSet::with_capacity(lines.len().min(1 << 16));
    for (n, line) in lines.iter().enumerate() {
        let mut worst: Option<&'static str> = None;
        for id in split_pasted_ids(line) {
            out.count += 1;
            let problem = match guid_key(id) {
                None => {
                    out.not_guids += 1;
                    if out.first_not_guid.is_none() {
                        out.first_not_guid = Some((n, id.to_owned()));
                    }
                    Some(NOT_A_GUID)
                }
                Some(key) if !seen.insert(key) => {
                    out.duplicates += 1;
                    out.first_duplicate.get_or_insert(n);
                    Some(DUPLICATE)
                }
                Some(_) if out.count > MAX_IDS => Some(OVER_THE_LIMIT),
                Some(_) => None,
            };
            worst = match (worst, problem) {
                (Some(w), Some(p)) => Some(if rank(p) > rank(w) { p } else { w }),
                (w, p) => w.or(p),
            };
        }
        out.lines.push(worst);
    }
    out
}

/// How bad a line's problem is (the worst one marks the line).
fn rank(problem: &str) -> u8 {
    match problem {
        NOT_A_GUID => 3,
        DUPLICATE => 2,
        _ => 1,
    }
}

/// The ids of the editor's lines, in order (a line may hold several).
pub fn ids_of(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| split_pasted_ids(l))
        .map(str::to_owned)
        .collect()
}

/// The GUID lowercased (GUIDs compare case-insensitively), or `None` for anything else.
fn guid_key(s: &str) -> Option<[u8; 36]> {
    let b: &[u8; 36] = s.as_bytes().try_into().ok()?;
    let ok = b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    });
    ok.then(|| b.map(|c| c.to_ascii_lowercase()))
}

impl IdCheck {
    /// The problems to show, the limit first: with 10,000 ids pasted, "at most 50" is what the
    /// person must read, not 9,950 lines of anything else.
    pub fn problems(&self) -> Vec<ProblemView> {
        let mut out = Vec::new();
        let mut say = |message: String, is_error: bool| {
            out.push(ProblemView {
                field: "ids".into(),
                message,
                is_error,
            })
        };
        if self.count > MAX_IDS {
            say(
                format!(
                    "{}: at most {MAX_IDS} are allowed (Graph's limit for an id filter)",
                    plural(self.count, "id", "ids")
                ),
                true,
            );
        }
        if let Some((line, text)) = &self.first_not_guid {
            let shown: String = text.chars().take(40).collect();
            let cut = if shown.len() < text.len() { "…" } else { "" };
            let what = match self.not_guids {
                1 => "1 id is not a GUID".to_owned(),
                n => format!("{n} ids are not GUIDs, the first"),
            };
            say(
                format!(
                    "{what} on line {}: {shown:?}{cut} (an object id looks like 477e9fc6-5de7-4406-bb2a-7e5c83c9ffff)",
                    line + 1
                ),
                true,
            );
        }
        if let Some(line) = self.first_duplicate {
            let what = match self.duplicates {
                1 => "1 id is given twice".to_owned(),
                n => format!("{n} ids are given twice, the first"),
            };
            say(format!("{what} on line {}", line + 1), false);
        }
        out
    }
}

/// Splits pasted text into ids (newlines, commas, semicolons, whitespace, quotes).
pub fn split_pasted_ids(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\''))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Pastes `text` into the editor, one id a line, after the cursor's line unless it is blank:
/// as one insertion, whatever the number of ids.
pub fn paste_ids(editor: &mut TextArea<'_>, text: &str) {
    let ids = split_pasted_ids(text);
    if ids.is_empty() {
        return;
    }
    let cur_empty = editor
        .lines()
        .get(editor.cursor().0)
        .is_none_or(|l| l.trim().is_empty());
    let mut chunk = String::with_capacity(text.len() + 1);
    if !cur_empty {
        // After the line, not inside it.
        editor.move_cursor(CursorMove::End);
        chunk.push('\n');
    }
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            chunk.push('\n');
        }
        chunk.push_str(id);
    }
    editor.insert_str(&chunk);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn guid(i: usize) -> String {
        format!("{i:08x}-0000-4000-8000-000000000000")
    }

    #[test]
    fn id_lines_are_checked() {
        let g = "6f1c452b-7c6a-4d21-9c2e-0d3c9b6a1e11".to_owned();
        let lines = vec![g.clone(), String::new(), "nope".into(), g.to_uppercase()];
        let check = check_ids(&lines);
        assert_eq!(
            check.lines,
            vec![None, None, Some(NOT_A_GUID), Some(DUPLICATE)]
        );
        let many: Vec<String> = (0..51).map(guid).collect();
        assert_eq!(check_ids(&many).lines[50], Some(OVER_THE_LIMIT));
    }

    #[test]
    fn the_limit_is_said_first_and_valid_guids_are_not_called_malformed() {
        let mut lines: Vec<String> = (0..10_000).map(guid).collect();
        lines.push("nope".into());
        lines.push(guid(7));
        let messages: Vec<String> = check_ids(&lines)
            .problems()
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert_eq!(
            messages,
            [
                "10002 ids: at most 50 are allowed (Graph's limit for an id filter)",
                "1 id is not a GUID on line 10001: \"nope\" (an object id looks like 477e9fc6-5de7-4406-bb2a-7e5c83c9ffff)",
                "1 id is given twice on line 10002",
            ]
        );
    }

    #[test]
    fn ids_typed_on_one_line_count_one_by_one() {
        let (a, b, c) = (guid(1), guid(2), guid(3));
        let lines = vec![format!("{a}, {b} {c}"), format!("'{a}'; nope")];
        let check = check_ids(&lines);
        assert_eq!(check.count, 5);
        assert_eq!(check.lines, vec![None, Some(NOT_A_GUID)]);
        assert_eq!((check.duplicates, check.not_guids), (1, 1));
        assert_eq!(ids_of(&lines), [a.clone(), b, c, a, "nope".into()]);
        // Three valid ids on one line are three ids, not one malformed one.
        let one_line = vec![(1..=3).map(guid).collect::<Vec<_>>().join(",")];
        assert_eq!(check_ids(&one_line).lines, vec![None]);
        assert_eq!(check_ids(&one_line).count, 3);
    }

    #[test]
    fn pasted_lists_split_into_ids_in_one_edit() {
        assert_eq!(
            split_pasted_ids("a, b;c\n\"d\"  e\tf"),
            vec!["a", "b", "c", "d", "e", "f"]
        );
        let mut editor = TextArea::new(vec!["x".into()]);
        paste_ids(&mut editor, "a,b c");
        assert_eq!(editor.lines(), ["x", "a", "b", "c"]);
    }
}
