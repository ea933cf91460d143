//! Parsing of incoming Graph URLs: the emulator's own, deliberately independent of the client's
//! URL code (so that it catches the client's mistakes rather than sharing them).
use percent_encoding::percent_decode_str;

use super::token::Resource;

#[derive(Debug, Clone, PartialEq)]
pub struct GraphPath {
    /// "v1.0" or "beta", as the request spelled it (normalized to lower case).
    pub version: String,
    pub resource: Resource,
    /// userId of `/users/{userId}/onlineMeetings/...` (recordings, transcripts).
    pub user: Option<String>,
    pub organizer: Option<String>,
    pub start: Option<String>,
    /// Item sets: the drive id or the mail folder id the path names.
    pub scope: Option<String>,
    /// Drive items: the token of OneDrive's function form, `delta(token='…')`.
    pub token: Option<String>,
}

#[derive(Debug, PartialEq)]
pub struct PathError(pub String);

/// Decodes `%XX` escapes (and, in query strings, `+` as a space).
pub fn decode(s: &str, plus_is_space: bool) -> String {
    if plus_is_space && s.contains('+') {
        let s = s.replace('+', " ");
        percent_decode_str(&s).decode_utf8_lossy().into_owned()
    } else {
        percent_decode_str(s).decode_utf8_lossy().into_owned()
    }
}

fn strip_id(s: &str) -> String {
    s.trim()
        .trim_matches(|c| c == '{' || c == '}' || c == '\'' || c == '"')
        .to_string()
}

fn is_delta_segment(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    matches!(
        l.as_str(),
        "delta" | "delta()" | "microsoft.graph.delta" | "microsoft.graph.delta()"
    )
}

/// Parses `name(arg=value,...)` into the name and its arguments (quotes removed).
fn parse_function(seg: &str) -> Option<(String, Vec<(String, String)>)> {
    let open = seg.find('(')?;
    let close = seg.rfind(')')?;
    if close < open || close != seg.len() - 1 {
        return None;
    }
    let name = seg[..open].to_string();
    let inner = &seg[open + 1..close];
    let mut args = Vec::new();
    for part in inner.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=')?;
        let v = v.trim();
        let v = v
            .strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .unwrap_or(v);
        args.push((k.trim().to_string(), v.to_string()));
    }
    Some((name, args))
}

pub fn parse_path(raw: &str) -> Result<GraphPath, PathError> {
    let path = decode(raw, false);
    let path = path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let not_found = || PathError(format!("Resource not found for the segment '{path}'."));
    if segs.len() < 3 {
        return Err(not_found());
    }
    let version = segs[0].to_ascii_lowercase();
    if version != "v1.0" && version != "beta" {
        return Err(PathError(format!(
            "Unsupported API version '{}': use v1.0 or beta.",
            segs[0]
        )));
    }
    let last = segs[segs.len() - 1];
    // OneDrive's function form: `delta(token='…')`.
    let drive_token = parse_function(last)
        .filter(|(name, args)| name.eq_ignore_ascii_case("delta") && args.len() == 1)
        .and_then(|(_, args)| {
            let (k, v) = args.into_iter().next()?;
            k.eq_ignore_ascii_case("token").then_some(v)
        });
    if !is_delta_segment(last) && drive_token.is_none() {
        return Err(PathError(format!(
            "This emulator serves delta queries only: '{path}' does not end in /delta."
        )));
    }
    let mid = &segs[1..segs.len() - 1];
    let lower: Vec<String> = mid.iter().map(|s| s.to_ascii_lowercase()).collect();
    if drive_token.is_some() {
        return match item_set_path(&version, mid, &lower) {
            Some(p) if p.resource == Resource::DriveItems => Ok(GraphPath {
                token: drive_token,
                ..p
            }),
            _ => Err(not_found()),
        };
    }
    let simple = |resource| GraphPath {
        version: version.clone(),
        resource,
        user: None,
        organizer: None,
        start: None,
        scope: None,
        token: None,
    };
    match lower
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["contacts"] => return Ok(simple(Resource::Contacts)),
        ["users"] => return Ok(simple(Resource::Users)),
        ["groups"] => return Ok(simple(Resource::Groups)),
        ["applications"] => return Ok(simple(Resource::Applications)),
        ["serviceprincipals"] => return Ok(simple(Resource::ServicePrincipals)),
        ["devices"] => return Ok(simple(Resource::Devices)),
        ["administrativeunits"] => return Ok(simple(Resource::AdministrativeUnits)),
        ["directoryroles"] => return Ok(simple(Resource::DirectoryRoles)),
        ["oauth2permissiongrants"] => return Ok(simple(Resource::Oauth2PermissionGrants)),
        ["directoryobjects"] => return Ok(simple(Resource::DirectoryObjects)),
        _ => {}
    }
    if let Some(p) = item_set_path(&version, mid, &lower) {
        return Ok(p);
    }
    // users/{id}/onlineMeetings/fn(...)  or  users({id})/onlineMeetings/fn(...)
    let (user, rest) = if lower.first().map(String::as_str) == Some("users") && mid.len() == 4 {
        (strip_id(mid[1]), &mid[2..])
    } else if lower.first().is_some_and(|s| s.starts_with("users(")) && mid.len() == 3 {
        let inner = mid[0]
            .get(6..mid[0].len().saturating_sub(1))
            .filter(|_| mid[0].ends_with(')'))
            .ok_or_else(not_found)?;
        (strip_id(inner), &mid[1..])
    } else {
        return Err(not_found());
    };
    if !rest[0].eq_ignore_ascii_case("onlineMeetings") {
        return Err(not_found());
    }
    let func = rest[1];
    let func_base = func
        .strip_prefix("microsoft.graph.")
        .or_else(|| func.strip_prefix("Microsoft.Graph."))
        .unwrap_or(func);
    let (name, args) = match parse_function(func_base) {
        Some(x) => x,
        None if !func_base.contains('(') => (func_base.to_string(), Vec::new()),
        None => return Err(PathError(format!("Malformed function call '{func}'."))),
    };
    let resource = match name.to_ascii_lowercase().as_str() {
        "getallrecordings" => Resource::Recordings,
        "getalltranscripts" => Resource::Transcripts,
        _ => return Err(not_found()),
    };
    let mut organizer = None;
    let mut start = None;
    for (k, v) in args {
        match k.to_ascii_lowercase().as_str() {
            "meetingorganizeruserid" => organizer = Some(v),
            "startdatetime" => start = Some(v),
            "enddatetime" => {}
            _ => {
                return Err(PathError(format!(
                    "The function '{name}' has no parameter '{k}'."
                )));
            }
        }
    }
    if user.is_empty() {
        return Err(not_found());
    }
    Ok(GraphPath {
        version,
        resource,
        user: Some(user),
        organizer,
        start,
        scope: None,
        token: None,
    })
}

/// `me` or `users/{id}` (also `users({id})`) at the start of `mid`: the user as links spell
/// it and how many segments it took.
fn user_prefix(mid: &[&str], lower: &[String]) -> Option<(String, usize)> {
    match lower.first().map(String::as_str) {
        Some("me") => Some(("me".to_string(), 1)),
        Some("users") if mid.len() > 1 && !strip_id(mid[1]).is_empty() => {
            Some((format!("users/{}", strip_id(mid[1])), 2))
        }
        Some(s) if s.starts_with("users(") && s.ends_with(')') => {
            let inner = strip_id(mid[0].get(6..mid[0].len() - 1)?);
            (!inner.is_empty()).then(|| (format!("users/{inner}"), 1))
        }
        _ => None,
    }
}

/// A path segment `name('{id}')` / `name({id})`: the id in parentheses.
fn key_segment(seg: &str, name: &str) -> Option<String> {
    let l = seg.to_ascii_lowercase();
    l.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')?;
    seg.get(name.len() + 1..seg.len() - 1).map(strip_id)
}

/// The drive, mail and calendar paths: `drives/{id}/root`, `{me|users/{id}|sites/{id}|groups/{id}}/drive/root`,
/// `{me|users/{id}}/mailFolders/{id}/messages`, `{me|users/{id}}/calendarView`.
fn item_set_path(version: &str, mid: &[&str], lower: &[String]) -> Option<GraphPath> {
    let path = |resource, user: Option<String>, scope: Option<String>| GraphPath {
        version: version.to_string(),
        resource,
        user,
        organizer: None,
        start: None,
        scope,
        token: None,
    };
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    // drives/{id}/root (or drives/{id}: the drive's delta is the root's)
    if (l.len() == 3 && l[2] == "root" || l.len() == 2) && l[0] == "drives" {
        let id = strip_id(mid[1]);
        return (!id.is_empty()).then(|| path(Resource::DriveItems, None, Some(id)));
    }
    // {owner}/drive/root
    let owner_len = match l.first().copied() {
        Some("me") => 1,
        Some("users" | "sites" | "groups") if mid.len() > 1 => 2,
        _ => 0,
    };
    let drive_at = |k: usize| {
        l.len() == k + 1 && l[k] == "drive"
            || l.len() == k + 2 && l[k] == "drive" && l[k + 1] == "root"
    };
    if owner_len > 0 && drive_at(owner_len) {
        let owner = mid[..owner_len].join("/");
        return Some(path(Resource::DriveItems, Some(owner), None));
    }
    let (user, n) = user_prefix(mid, lower)?;
    let rest = &mid[n..];
    let lrest = &l[n..];
    // mailFolders/{id}/messages or mailFolders('{id}')/messages
    if lrest.len() == 3 && lrest[0] == "mailfolders" && lrest[2] == "messages" {
        let id = strip_id(rest[1]);
        return (!id.is_empty()).then(|| path(Resource::Messages, Some(user), Some(id)));
    }
    if lrest.len() == 2
        && lrest[1] == "messages"
        && let Some(id) = key_segment(rest[0], "mailfolders")
        && !id.is_empty()
    {
        return Some(path(Resource::Messages, Some(user), Some(id)));
    }
    if lrest.len() == 1 && lrest[0] == "calendarview" {
        return Some(path(Resource::Events, Some(user), None));
    }
    // mailFolders (the folders themselves)
    if lrest.len() == 1 && lrest[0] == "mailfolders" {
        return Some(path(Resource::MailFolders, Some(user), None));
    }
    // contactFolders/{id}/contacts or contactFolders('{id}')/contacts
    if let Some(id) = keyed(rest, lrest, "contactfolders", "contacts") {
        return (!id.is_empty()).then(|| path(Resource::PersonalContacts, Some(user), Some(id)));
    }
    // todo/lists/{id}/tasks or todo/lists('{id}')/tasks
    if lrest.first() == Some(&"todo")
        && let Some(id) = keyed(&rest[1..], &lrest[1..], "lists", "tasks")
    {
        return (!id.is_empty()).then(|| path(Resource::TodoTasks, Some(user), Some(id)));
    }
    None
}

/// The id of `{coll}/{id}/{child}` or `{coll}('{id}')/{child}` (`lrest` lower-cased).
fn keyed(rest: &[&str], lrest: &[&str], coll: &str, child: &str) -> Option<String> {
    match lrest {
        [c, _, k] if *c == coll && *k == child => rest.get(1).map(|s| strip_id(s)),
        [_, k] if *k == child => rest.first().and_then(|s| key_segment(s, coll)),
        _ => None,
    }
}

/// The query string as (lower-cased name without `$`, decoded value) pairs, in order.
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let k = decode(k, true);
            let k = k.trim().trim_start_matches('$').to_ascii_lowercase();
            (k, decode(v, true))
        })
        .collect()
}

/// Parses `id eq 'a' or id eq 'b'` (any case and spacing, optional parentheses).
pub fn parse_id_filter(filter: &str) -> Result<Vec<String>, String> {
    let unsupported = || {
        format!(
            "Unsupported filter '{filter}': delta queries support only \"id eq '...'\" \
             clauses joined by 'or'."
        )
    };
    let mut ids = Vec::new();
    let f = filter.trim();
    let f = f
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(f);
    // Split on the word "or" outside quotes.
    let mut terms = Vec::new();
    let mut in_quote = false;
    let mut start = 0;
    let b = f.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => in_quote = !in_quote,
            c if !in_quote
                && c.is_ascii_whitespace()
                && i + 3 < b.len()
                && b[i + 1].eq_ignore_ascii_case(&b'o')
                && b[i + 2].eq_ignore_ascii_case(&b'r')
                && b[i + 3].is_ascii_whitespace() =>
            {
                terms.push(&f[start..i]);
                start = i + 4;
                i += 4;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    terms.push(&f[start..]);
    for t in terms {
        let t = t.trim();
        let t = t
            .strip_prefix('(')
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(t)
            .trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        if words.len() != 3 {
            return Err(unsupported());
        }
        let (prop, op, val) = (words[0], words[1], words[2]);
        if !prop.eq_ignore_ascii_case("id") || !op.eq_ignore_ascii_case("eq") {
            return Err(unsupported());
        }
        let val = val.trim();
        let Some(v) = val.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) else {
            return Err(unsupported());
        };
        if v.is_empty() || v.contains('\'') {
            return Err(unsupported());
        }
        ids.push(v.to_string());
    }
    Ok(ids)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        for p in [
            "/v1.0/contacts/delta",
            "/beta/contacts/delta()",
            "/v1.0/contacts/microsoft.graph.delta",
            "/v1.0/contacts/microsoft.graph.delta()/",
        ] {
            assert_eq!(
                parse_path(p).map(|g| g.resource),
                Ok(Resource::Contacts),
                "{p}"
            );
        }
        let g = parse_path("/v1.0/users/u1/onlineMeetings/getAllRecordings(meetingOrganizerUserId='o1',startDateTime=2024-01-01T00:00:00Z)/delta").unwrap();
        assert_eq!(g.resource, Resource::Recordings);
        assert_eq!(g.user.as_deref(), Some("u1"));
        assert_eq!(g.organizer.as_deref(), Some("o1"));
        assert_eq!(g.start.as_deref(), Some("2024-01-01T00:00:00Z"));
        let g = parse_path("/beta/users(u2)/onlineMeetings/microsoft.graph.getAllTranscripts(meetingOrganizerUserId=%27o2%27)/delta()").unwrap();
        assert_eq!(g.resource, Resource::Transcripts);
        assert_eq!(g.user.as_deref(), Some("u2"));
        assert_eq!(g.organizer.as_deref(), Some("o2"));
        let g = parse_path("/v1.0/users/u1/onlineMeetings/getAllRecordings/delta").unwrap();
        assert_eq!(g.organizer, None);
        assert!(parse_path("/v2/contacts/delta").is_err());
        assert!(parse_path("/v1.0/contacts").is_err());
        for p in [
            "/v1.0/groups/delta",
            "/beta/groups/delta()",
            "/v1.0/Groups/microsoft.graph.delta",
            "/beta/groups/Microsoft.Graph.Delta()",
        ] {
            assert_eq!(
                parse_path(p).map(|g| g.resource),
                Ok(Resource::Groups),
                "{p}"
            );
        }
        assert!(parse_path("/v1.0/groups").is_err());
        assert_eq!(
            parse_path("/v1.0/devices/delta").map(|g| g.resource),
            Ok(Resource::Devices)
        );
        assert_eq!(
            parse_path("/beta/servicePrincipals/delta()").map(|g| g.resource),
            Ok(Resource::ServicePrincipals)
        );
        let g = parse_path("/v1.0/drives/b!abc/root/delta").unwrap();
        assert_eq!(
            (g.resource, g.scope.as_deref()),
            (Resource::DriveItems, Some("b!abc"))
        );
        for p in [
            "/v1.0/me/drive/root/delta",
            "/v1.0/users/u1/drive/root/delta",
            "/v1.0/sites/s1/drive/root/delta()",
        ] {
            assert_eq!(
                parse_path(p).map(|g| g.resource),
                Ok(Resource::DriveItems),
                "{p}"
            );
        }
        let g = parse_path("/v1.0/me/mailFolders/inbox/messages/delta").unwrap();
        assert_eq!(
            (g.resource, g.user.as_deref(), g.scope.as_deref()),
            (Resource::Messages, Some("me"), Some("inbox"))
        );
        let g = parse_path("/v1.0/users/u1/mailFolders('AAMk1')/messages/delta").unwrap();
        assert_eq!(
            (g.resource, g.user.as_deref(), g.scope.as_deref()),
            (Resource::Messages, Some("users/u1"), Some("AAMk1"))
        );
        assert_eq!(
            parse_path("/v1.0/me/calendarView/delta").map(|g| g.resource),
            Ok(Resource::Events)
        );
        let g = parse_path("/v1.0/me/drive/root/delta(token='abc')").unwrap();
        assert_eq!(
            (g.resource, g.token.as_deref()),
            (Resource::DriveItems, Some("abc"))
        );
        assert_eq!(
            parse_path("/v1.0/me/drive/delta(token=latest)").map(|g| g.token),
            Ok(Some("latest".into()))
        );
        assert!(parse_path("/v1.0/me/mailFolders/inbox/messages/delta(token='x')").is_err());
        assert_eq!(
            parse_path("/v1.0/me/mailFolders/delta").map(|g| g.resource),
            Ok(Resource::MailFolders)
        );
        for (p, id) in [
            ("/v1.0/me/contactFolders/AAMk1/contacts/delta", "AAMk1"),
            (
                "/beta/users/u1/contactFolders('AAMk2')/contacts/delta()",
                "AAMk2",
            ),
        ] {
            let g = parse_path(p).unwrap();
            assert_eq!(
                (g.resource, g.scope.as_deref()),
                (Resource::PersonalContacts, Some(id)),
                "{p}"
            );
        }
        for (p, id) in [
            ("/v1.0/me/todo/lists/gDb==/tasks/delta", "gDb=="),
            ("/v1.0/users/u1/todo/lists('L1')/tasks/delta", "L1"),
        ] {
            let g = parse_path(p).unwrap();
            assert_eq!(
                (g.resource, g.scope.as_deref()),
                (Resource::TodoTasks, Some(id)),
                "{p}"
            );
        }
        assert!(parse_path("/v1.0/me/todo/tasks/delta").is_err());
        assert!(parse_path("/v1.0/me/contactFolders/contacts/delta").is_err());
        assert!(parse_path("/v1.0/me/todo/lists/''/tasks/delta").is_err());
        assert!(parse_path("/v1.0/me/drive/items/delta").is_err());
    }

    #[test]
    fn filters() {
        assert_eq!(
            parse_id_filter("id eq 'a' or id eq 'b'"),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            parse_id_filter(" ID  EQ 'a'  OR (id eq 'b')").map(|v| v.len()),
            Ok(2)
        );
        assert!(parse_id_filter("displayName eq 'x'").is_err());
        assert!(parse_id_filter("id eq 'a' and id eq 'b'").is_err());
        assert!(parse_id_filter("startswith(id,'a')").is_err());
    }

    #[test]
    fn query() {
        let q = parse_query(Some(
            "$select=displayName,mail&%24top=5&$filter=id+eq+%27x%27",
        ));
        assert_eq!(q[0], ("select".into(), "displayName,mail".into()));
        assert_eq!(q[1], ("top".into(), "5".into()));
        assert_eq!(q[2], ("filter".into(), "id eq 'x'".into()));
    }
}
