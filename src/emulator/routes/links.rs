//! The links a delta response carries: state tokens frozen from the first request, nextLinks, deltaLinks, restart links, and the foreign-link fault.
use super::*;

/// What a request asks for once its URL and token are understood.
pub(super) enum Start {
    /// A first request: a full round from now.
    Fresh,
    /// `$deltatoken=latest`: no objects, a deltaLink at the current position.
    Latest,
    Token(Box<TokenState>),
}

/// Everything needed to build links.
pub(super) struct LinkCtx {
    pub(super) base: String,
    pub(super) version: String,
}

impl LinkCtx {
    pub(super) fn root(&self) -> String {
        format!("{}/{}", self.base, self.version)
    }

    /// Builds the link carrying `token`. Directory resources: `$skiptoken` / `$deltatoken`;
    /// recordings and transcripts: the seed's form, `users({userId})` and `skipToken=` in both.
    pub(super) fn link(&self, f: &Frozen, next: bool, token: &str) -> String {
        let root = self.root();
        match f.resource {
            Resource::Contacts
            | Resource::Users
            | Resource::Groups
            | Resource::Applications
            | Resource::ServicePrincipals
            | Resource::Devices
            | Resource::AdministrativeUnits
            | Resource::DirectoryRoles
            | Resource::Oauth2PermissionGrants
            | Resource::DirectoryObjects => {
                let coll = path_name(f.resource);
                let name = if next { "$skiptoken" } else { "$deltatoken" };
                format!("{root}/{coll}/delta?{name}={token}")
            }
            Resource::DriveItems
            | Resource::Messages
            | Resource::Events
            | Resource::MailFolders
            | Resource::PersonalContacts
            | Resource::TodoTasks => crate::emulator::items::link(&root, f, next, token),
            Resource::Recordings | Resource::Transcripts => {
                let func = if f.resource == Resource::Recordings {
                    "getAllRecordings"
                } else {
                    "getAllTranscripts"
                };
                let user = f.user.as_deref().unwrap_or("");
                let org = f.organizer.as_deref().unwrap_or("");
                let start = f
                    .start
                    .as_deref()
                    .map(|s| format!(",startDateTime={s}"))
                    .unwrap_or_default();
                format!(
                    "{root}/users({user})/onlineMeetings/{func}(meetingOrganizerUserId='{org}'{start})/delta?skipToken={token}"
                )
            }
        }
    }

    pub(super) fn context(&self, r: Resource) -> String {
        let root = self.root();
        match r {
            Resource::Contacts
            | Resource::Users
            | Resource::Groups
            | Resource::Applications
            | Resource::ServicePrincipals
            | Resource::Devices
            | Resource::AdministrativeUnits
            | Resource::DirectoryRoles
            | Resource::Oauth2PermissionGrants
            | Resource::DirectoryObjects => format!("{root}/$metadata#{}", path_name(r)),
            Resource::DriveItems => format!("{root}/$metadata#Collection(driveItem)"),
            Resource::Messages => format!("{root}/$metadata#Collection(message)"),
            Resource::Events => format!("{root}/$metadata#Collection(event)"),
            Resource::MailFolders => format!("{root}/$metadata#Collection(mailFolder)"),
            Resource::PersonalContacts => format!("{root}/$metadata#Collection(contact)"),
            Resource::TodoTasks => format!("{root}/$metadata#Collection(todoTask)"),
            Resource::Recordings => format!("{root}/$metadata#Collection(callRecording)"),
            Resource::Transcripts => format!("{root}/$metadata#Collection(callTranscript)"),
        }
    }
}

/// A directory resource's segment in Graph paths.
fn path_name(r: Resource) -> &'static str {
    if r == Resource::DirectoryObjects {
        "directoryObjects"
    } else {
        coll_of(r).path_name()
    }
}

pub(super) fn coll_of(r: Resource) -> Coll {
    r.coll().unwrap_or(Coll::Contacts)
}

/// Reads the query options of a first request into frozen options, validating them as Graph does.
pub(super) fn freeze(
    path: &GraphPath,
    query: &[(String, String)],
) -> Result<(Frozen, bool), (StatusCode, &'static str, String)> {
    let bad = |code: &'static str, m: String| (StatusCode::BAD_REQUEST, code, m);
    let mut f = Frozen {
        resource: path.resource,
        user: path.user.clone(),
        organizer: path.organizer.clone(),
        start: path.start.clone(),
        select: None,
        ids: Vec::new(),
        top: None,
        members: false,
        beta: Api::of(&path.version) == Api::Beta,
        scope: path.scope.clone(),
        end_time: None,
        change_type: None,
        types: 0,
        type_sels: Vec::new(),
    };
    let mut latest = false;
    for (k, v) in query {
        match k.as_str() {
            "select" if path.resource == Resource::DirectoryObjects => {
                super::objects::read_select(v, &mut f).map_err(|m| bad("BadRequest", m))?;
            }
            "filter"
                if path.resource == Resource::DirectoryObjects
                    && super::objects::read_filter(v, &mut f)
                        .map_err(|m| bad("Request_UnsupportedQuery", m))? => {}
            "select" if path.resource.is_directory() => {
                let schema = coll_of(path.resource).schema();
                let lists = schema.lists(f.api());
                let mut mask = 0 as crate::emulator::tenant::Mask;
                for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if p.eq_ignore_ascii_case("id") {
                        continue;
                    }
                    if path.resource == Resource::Groups {
                        // Relationships: members is tracked as members@delta; owners is
                        // accepted and not tracked.
                        if p.eq_ignore_ascii_case("members") {
                            f.members = true;
                            continue;
                        }
                        if p.eq_ignore_ascii_case("owners") {
                            continue;
                        }
                    }
                    // Roles and administrative units: `members` is accepted (Graph tracks it as
                    // members@delta); the emulator does not keep their memberships, so it
                    // never has a member change to report (said in the README).
                    if matches!(
                        path.resource,
                        Resource::DirectoryRoles | Resource::AdministrativeUnits
                    ) && p.eq_ignore_ascii_case("members")
                    {
                        continue;
                    }
                    // Users: the manager is tracked as manager@delta.
                    if path.resource == Resource::Users && p.eq_ignore_ascii_case("manager") {
                        f.members = true;
                        continue;
                    }
                    // A property of the other API version only is as unknown as any other name.
                    let i = schema
                        .index(p)
                        .filter(|i| lists.exists & crate::emulator::tenant::bit(*i) != 0)
                        .ok_or_else(|| {
                        bad(
                            "BadRequest",
                            format!(
                                "Parsing OData Select and Expand failed: Could not find a property named '{p}' on type 'microsoft.graph.{}'.",
                                schema.entity
                            ),
                        )
                    })?;
                    let b = crate::emulator::tenant::bit(i);
                    if lists.delta & b == 0 {
                        // Read only for a single object: Graph's answer as reported in
                        // microsoft-graph-docs issue 4746.
                        return Err(bad(
                            "Request_UnsupportedQuery",
                            format!(
                                "Invalid Request: $select is not supported for these properties: {}.",
                                schema.props.get(i).copied().unwrap_or(p)
                            ),
                        ));
                    }
                    mask |= b;
                }
                f.select = Some(mask);
            }
            "select" if path.resource == Resource::Events => {
                return Err(bad(
                    "ErrorInvalidUrlQuery",
                    "The query parameter '$select' is not supported with calendarView delta."
                        .into(),
                ));
            }
            "select" if path.resource.is_item_set() => {
                let mask = crate::emulator::items::select_mask(path.resource, f.beta, v)
                    .map_err(|m| bad("BadRequest", m))?;
                f.select = Some(mask);
            }
            "select" => {}
            "token" if path.resource == Resource::DriveItems => {
                if v.eq_ignore_ascii_case("latest") {
                    latest = true;
                } else if crate::emulator::items::parse_time(v).is_some() {
                    f.start = Some(v.trim().to_string());
                }
            }
            "startdatetime" if path.resource == Resource::Events => {
                if crate::emulator::items::parse_time(v).is_none() {
                    return Err(bad(
                        "ErrorInvalidParameter",
                        format!("The value '{v}' of parameter 'StartDateTime' is invalid."),
                    ));
                }
                f.start = Some(v.trim().to_string());
            }
            "enddatetime" if path.resource == Resource::Events => {
                if crate::emulator::items::parse_time(v).is_none() {
                    return Err(bad(
                        "ErrorInvalidParameter",
                        format!("The value '{v}' of parameter 'EndDateTime' is invalid."),
                    ));
                }
                f.end_time = Some(v.trim().to_string());
            }
            "filter" | "orderby" | "changetype" if path.resource == Resource::Messages => {
                crate::emulator::items::message_option(k, v, &mut f)
                    .map_err(|m| bad("ErrorInvalidUrlQuery", m))?;
            }
            "filter" => {
                if !path.resource.is_directory() {
                    return Err(bad(
                        "BadRequest",
                        "$filter is not supported on this delta function.".into(),
                    ));
                }
                let ids = parse_id_filter(v).map_err(|m| bad("Request_UnsupportedQuery", m))?;
                if ids.len() > MAX_FILTER_IDS {
                    return Err(bad(
                        "Request_UnsupportedQuery",
                        format!(
                            "The $filter has {} ids; a delta query accepts at most {MAX_FILTER_IDS}.",
                            ids.len()
                        ),
                    ));
                }
                f.ids = ids;
            }
            "top" => {
                let n: u32 = v.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    bad(
                        "BadRequest",
                        format!("Invalid value '{v}' for $top: expected a positive integer."),
                    )
                })?;
                // users: $top is not supported on users delta and is silently ignored, as
                // Graph does. contacts: our choice is to honour it (capped at 999) so that
                // page sizes can be explored; recordings/transcripts honour it (documented).
                if matches!(
                    path.resource,
                    Resource::Contacts
                        | Resource::Recordings
                        | Resource::Transcripts
                        | Resource::DriveItems
                        | Resource::Messages
                        | Resource::TodoTasks
                ) {
                    f.top = Some(n.min(MAX_TOP));
                }
            }
            "deltatoken" if v.eq_ignore_ascii_case("latest") => {
                if !path.resource.is_directory() {
                    return Err(bad(
                        "BadRequest",
                        "$deltatoken=latest is not supported on this delta function.".into(),
                    ));
                }
                latest = true;
            }
            // `$expand=members` on groups: the documented way to track membership alongside a
            // `$select` (delta-query-groups.md).
            "expand"
                if path.resource == Resource::Groups
                    && v.split(',')
                        .all(|e| e.trim().eq_ignore_ascii_case("members")) =>
            {
                f.members = true;
            }
            "expand" | "orderby" | "search" | "skip" => {
                return Err(bad(
                    "Request_UnsupportedQuery",
                    format!("The query option '${k}' is not supported with delta queries."),
                ));
            }
            _ => {}
        }
    }
    if path.resource == Resource::Events && (f.start.is_none() || f.end_time.is_none()) {
        return Err(bad(
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.".into(),
        ));
    }
    if matches!(path.resource, Resource::Recordings | Resource::Transcripts) {
        match f.organizer.as_deref() {
            None | Some("") => {
                return Err(bad(
                    "BadRequest",
                    "The request is missing the required function parameter 'meetingOrganizerUserId'.".into(),
                ));
            }
            Some(o) if uuid::Uuid::parse_str(o).is_err() => {
                return Err(bad(
                    "BadRequest",
                    format!("Invalid meetingOrganizerUserId '{o}': expected a user id (GUID)."),
                ));
            }
            _ => {}
        }
        if let Some(s) = f.start.as_deref()
            && parse_start(s).is_none()
        {
            return Err(bad(
                "BadRequest",
                format!(
                    "Invalid startDateTime '{s}': expected an ISO 8601 date-time such as 2024-01-01T00:00:00Z."
                ),
            ));
        }
    }
    // With no `$select`, a groups delta returns `members@delta` by default (delta-query-groups.md:
    // "included in group objects by default, when the $select query parameter has not been
    // specified").
    if path.resource == Resource::Groups && f.select.is_none() {
        f.members = true;
    }
    Ok((f, latest))
}

pub(super) fn parse_start(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_matches('\'');
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A link that restarts a full round of the same frozen query (for 410 Location).
pub(super) fn restart_link(sh: &Shared, links: &LinkCtx, f: &Frozen, now: DateTime<Utc>) -> String {
    let store = lock(&sh.store);
    let st = TokenState {
        instance: sh.instance,
        query: f.clone(),
        kind: Kind::Initial,
        position: store.pos(),
        end: if f.resource.is_item_set() {
            store.pos()
        } else {
            store.coll(coll_of(f.resource)).next
        },
        ends: if f.resource == Resource::DirectoryObjects {
            super::objects::ends_now(&store, f)
        } else {
            Vec::new()
        },
        cursor: 0,
        previous_position: None,
        duplicate_from: None,
        issued_at: now.timestamp(),
        after: None,
        since: None,
    };
    links.link(f, true, &token::encode(sh.key, &st))
}

/// Moves a link to another origin (the foreign-link fault): same port, host 127.0.0.2.
pub(super) fn foreignize(link: String, on: bool) -> String {
    if !on {
        return link;
    }
    let Some((scheme, rest)) = link.split_once("://") else {
        return link;
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let default = if scheme == "https" { "443" } else { "80" };
    let port = host.rsplit_once(':').map(|(_, p)| p).unwrap_or(default);
    format!("{scheme}://127.0.0.2:{port}{path}")
}
