//! Path templates of the catalog: `{name}` replaced by a parameter's value, `[…]` parts kept
//! only when every name inside has a value, and several spellings of one resource's path
//! (`/users/{userId}/…` or `/me/…`) tried in order.
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters escaped in a path parameter's value.
pub(super) const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters escaped in a query option's value: all but the unreserved ones.
pub(super) const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The first of `templates` whose names outside `[…]` all have values, rendered; when none
/// has, the first one with the missing names left as `{name}` (validation reports them first).
/// `value` gives a name's raw value: it is percent-encoded here, as a path segment before the
/// template's `?` and as a query value after it.
pub(super) fn render_first<'t>(
    templates: impl IntoIterator<Item = &'t str>,
    value: impl Fn(&str) -> Option<String>,
) -> String {
    let mut first = None;
    for t in templates {
        if let Some(done) = render(t, &value, true) {
            return done;
        }
        first.get_or_insert(t);
    }
    first
        .and_then(|t| render(t, &value, false))
        .unwrap_or_default()
}

/// One template. `complete`: `None` when a name outside `[…]` has no value.
fn render(
    template: &str,
    value: &dyn Fn(&str) -> Option<String>,
    complete: bool,
) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('[') {
        let part = render_part(&rest[..open], value, &out, false)?;
        if complete && part.contains('{') {
            return None;
        }
        out.push_str(&part);
        let after = &rest[open + 1..];
        let close = after.find(']').unwrap_or(after.len());
        if let Some(part) = render_part(&after[..close], value, &out, true) {
            out.push_str(&part);
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    let part = render_part(rest, value, &out, false)?;
    if complete && part.contains('{') {
        return None;
    }
    out.push_str(&part);
    Some(out)
}

/// Part of a template; `optional`: `None` as soon as a name has no value. `before` is what was
/// rendered so far (a `?` there puts this part in the query).
fn render_part(
    part: &str,
    value: &dyn Fn(&str) -> Option<String>,
    before: &str,
    optional: bool,
) -> Option<String> {
    let mut out = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Some(out);
        };
        let name = &after[..close];
        let in_query = before.contains('?') || out.contains('?');
        match value(name) {
            Some(v) if in_query => out.push_str(&utf8_percent_encode(&v, QUERY_VALUE).to_string()),
            Some(v) => out.push_str(&utf8_percent_encode(&v, PATH_VALUE).to_string()),
            None if optional => return None,
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Whether `path` (no query, no version) is a spelling of `template`: the same segments, a
/// `{name}` matching any one segment, `[…]` parts and the query left out, compared without
/// case (`/me/mailfolders/inbox/messages/delta` is the messages template's `/me/…` spelling).
pub(super) fn matches(template: &str, path: &str) -> bool {
    let mut t = String::with_capacity(template.len());
    let mut depth = 0usize;
    for c in template.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => t.push(c),
            _ => {}
        }
    }
    let t = t.split('?').next().unwrap_or("");
    let ts: Vec<&str> = t.trim_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut ps: Vec<&str> = Vec::with_capacity(segs.len() + 2);
    for (i, seg) in segs.iter().enumerate() {
        // A key in parentheses, mailFolders('inbox'), is OData's spelling of mailFolders/inbox.
        match seg.split_once('(') {
            Some((name, key))
                if i + 1 < segs.len()
                    && !name.is_empty()
                    && key.len() > 1
                    && key.ends_with(')') =>
            {
                ps.push(name);
                ps.push(key[..key.len() - 1].trim_matches('\''));
            }
            _ => ps.push(seg),
        }
    }
    ts.len() == ps.len()
        && ts.iter().zip(&ps).all(|(t, p)| {
            (t.starts_with('{') && t.ends_with('}') && !p.is_empty())
                || t.eq_ignore_ascii_case(p)
                // The function itself may be written with its parentheses: delta().
                || p.split('(').next().is_some_and(|n| n.eq_ignore_ascii_case(t) && p.ends_with(')'))
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn optional_parts_and_variants() {
        let t = "/a/f(x='{x}'[,y={y}])/delta";
        assert_eq!(
            render_first([t], |n| Some(n.to_uppercase())),
            "/a/f(x='X',y=Y)/delta"
        );
        assert_eq!(
            render_first([t], |n| (n == "x").then(|| "X".to_owned())),
            "/a/f(x='X')/delta"
        );
        let msgs = [
            "/users/{userId}/mailFolders/{mailFolderId}/messages/delta",
            "/me/mailFolders/{mailFolderId}/messages/delta",
        ];
        let folder = |n: &str| (n == "mailFolderId").then(|| "inbox".to_owned());
        assert_eq!(
            render_first(msgs, folder),
            "/me/mailFolders/inbox/messages/delta"
        );
        let both = |n: &str| Some(if n == "userId" { "a@b.c" } else { "in box/x" }.to_owned());
        assert_eq!(
            render_first(msgs, both),
            "/users/a@b.c/mailFolders/in%20box%2Fx/messages/delta"
        );
        // Nothing complete: the first template, its missing names left in place.
        assert_eq!(
            render_first(msgs, |_| None),
            "/users/{userId}/mailFolders/{mailFolderId}/messages/delta"
        );
    }

    #[test]
    fn values_after_the_question_mark_are_query_encoded() {
        let t = "/me/calendarView/delta?startDateTime={s}&endDateTime={e}";
        let v = |n: &str| {
            Some(
                if n == "s" {
                    "2026-01-01T00:00:00Z"
                } else {
                    "a&b=c"
                }
                .to_owned(),
            )
        };
        assert_eq!(
            render_first([t], v),
            "/me/calendarView/delta?startDateTime=2026-01-01T00%3A00%3A00Z&endDateTime=a%26b%3Dc"
        );
        let drive = "/drives/{d}/root/delta[?token={token}]";
        let with = |n: &str| {
            Some(
                if n == "d" {
                    "b!x"
                } else {
                    "2021-09-29T20:00:00Z"
                }
                .to_owned(),
            )
        };
        assert_eq!(
            render_first([drive], with),
            "/drives/b!x/root/delta?token=2021-09-29T20%3A00%3A00Z"
        );
        let without = |n: &str| (n == "d").then(|| "b!x".to_owned());
        assert_eq!(render_first([drive], without), "/drives/b!x/root/delta");
    }

    #[test]
    fn paths_match_their_templates() {
        let t = "/users/{userId}/mailFolders/{mailFolderId}/messages/delta[?changeType={c}]";
        assert!(matches(t, "/users/x/mailfolders/inbox/messages/delta"));
        assert!(!matches(t, "/users/x/mailfolders/messages/delta"));
        assert!(matches(
            "/me/mailFolders/{f}/messages/delta",
            "/me/mailFolders/Inbox/messages/delta"
        ));
        assert!(matches("/contacts/delta", "/Contacts/delta"));
        assert!(!matches("/contacts/delta", "/contacts/x/delta"));
        assert!(matches("/me/drive/root/delta", "/me/drive/root/delta()"));
        assert!(matches(
            "/me/mailFolders/{f}/messages/delta",
            "/me/mailFolders('Inbox')/messages/delta"
        ));
    }
}
