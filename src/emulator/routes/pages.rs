//! One page of a delta response: which items, how many, in which shape.
use super::*;

/// Builds the 200 body for a page.
pub(super) fn build_page(
    sh: &Shared,
    ctx: &Ctx,
    links: &LinkCtx,
    f: &Frozen,
    start: Start,
    (prefs, asked_select): (Prefs, Option<&str>),
    faults: BodyFaults,
) -> Vec<u8> {
    let mut store = lock(&sh.store);
    let now_ts = ctx.now.timestamp();
    let pos = store.pos();
    let mut base = TokenState {
        instance: sh.instance,
        query: f.clone(),
        kind: Kind::Initial,
        position: pos,
        end: 0,
        cursor: 0,
        previous_position: None,
        duplicate_from: None,
        issued_at: now_ts,
        after: None,
        since: None,
        ends: Vec::new(),
    };
    // The page state this request serves (Initial or DeltaPage), or a deltaLink at once.
    let page_state = match start {
        Start::Latest => None,
        Start::Fresh => {
            base.end = if f.resource.is_directory() {
                store.coll(coll_of(f.resource)).next
            } else {
                pos
            };
            if f.resource == Resource::DirectoryObjects {
                base.ends = super::objects::ends_now(&store, f);
            }
            match f
                .start
                .as_deref()
                .and_then(crate::emulator::items::parse_time)
            {
                // A drive's `token={time}`: the items changed since then.
                Some(t) if f.resource == Resource::DriveItems => Some(TokenState {
                    kind: Kind::DeltaPage,
                    position: 0,
                    since: Some(t.timestamp()),
                    ..base.clone()
                }),
                _ => Some(base.clone()),
            }
        }
        Start::Token(t) => match t.kind {
            Kind::Initial | Kind::DeltaPage => Some(TokenState {
                issued_at: now_ts,
                ..*t
            }),
            Kind::DeltaLink => {
                let from = if faults.replay {
                    t.previous_position.unwrap_or(0)
                } else {
                    t.position
                };
                Some(TokenState {
                    kind: Kind::DeltaPage,
                    position: from,
                    end: pos,
                    cursor: 0,
                    previous_position: Some(t.position),
                    duplicate_from: None,
                    issued_at: now_ts,
                    ..*t
                })
            }
        },
    };
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"{\"@odata.context\":");
    // The first page echoes the `$select` list (`…/$metadata#users(displayName,givenName)`).
    let context = match asked_select {
        Some(list) if !list.is_empty() => format!("{}({list})", links.context(f.resource)),
        _ => links.context(f.resource),
    };
    write_str(&mut out, &context);
    let Some(state) = page_state else {
        let st = TokenState {
            kind: Kind::DeltaLink,
            previous_position: None,
            ..base
        };
        out.extend_from_slice(b",\"@odata.deltaLink\":");
        let link = links.link(f, false, &token::encode(sh.key, &st));
        write_str(&mut out, &foreignize(link, faults.foreign));
        if is_artifact(f.resource) {
            out.extend_from_slice(b",\"@odata.count\":0");
        }
        out.extend_from_slice(b",\"value\":[]}");
        return out;
    };

    let page = if faults.empty {
        Page {
            items: Vec::new(),
            next: Some(state.cursor),
            dup_from: state.duplicate_from,
            remaining_after_next: usize::MAX,
            after: state.after,
        }
    } else {
        collect_items(&mut store, links, f, &state, prefs)
    };
    drop(store);
    let mut items = page.items;
    if faults.shuffle && items.len() > 1 {
        let mut rng = Rng(mix(now_ts as u64 ^ items.len() as u64 ^ state.cursor));
        for i in (1..items.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
    let mut dup_used = false;
    // The link: a nextLink while items remain, else the deltaLink.
    let mut next = page.next;
    if next.is_some()
        && faults.drop_next_link
        && matches!(f.resource, Resource::Recordings | Resource::Transcripts)
        && f.top.is_some()
        && page.remaining_after_next <= f.top.unwrap_or(0) as usize
        && lock(&sh.faults)
            .take(|k| *k == FaultKind::DropNextLink)
            .is_some()
    {
        next = None;
    }
    let link = match next {
        Some(c) => {
            let d = if f.resource.is_item_set() {
                // Item-set cursors are keys, not offsets: no duplicates to replay.
                None
            } else if faults.duplicate && !faults.empty && !items.is_empty() {
                dup_used = true;
                Some(state.cursor)
            } else {
                page.dup_from.filter(|_| faults.empty)
            };
            let st = TokenState {
                cursor: c,
                duplicate_from: d,
                after: page.after,
                ..state.clone()
            };
            (true, links.link(f, true, &token::encode(sh.key, &st)))
        }
        None => {
            if faults.duplicate && items.len() > 1 {
                // Last page: repeat the first items within it.
                let k = items.len().min(3);
                let again: Vec<Vec<u8>> = items[..k].to_vec();
                items.extend(again);
                dup_used = true;
            }
            let (p, pf) = match state.kind {
                Kind::DeltaPage => (state.end, Some(state.position)),
                _ => (state.position, None),
            };
            let st = TokenState {
                kind: Kind::DeltaLink,
                position: p,
                end: 0,
                cursor: 0,
                previous_position: pf,
                duplicate_from: None,
                after: None,
                since: None,
                ..state.clone()
            };
            (false, links.link(f, false, &token::encode(sh.key, &st)))
        }
    };
    if dup_used {
        lock(&sh.faults).take(|k| *k == FaultKind::Duplicate);
    }
    out.extend_from_slice(if link.0 {
        b",\"@odata.nextLink\":"
    } else {
        b",\"@odata.deltaLink\":"
    });
    write_str(&mut out, &foreignize(link.1, faults.foreign));
    if is_artifact(f.resource) {
        use std::io::Write as _;
        let _ = write!(out, ",\"@odata.count\":{}", items.len());
    }
    out.extend_from_slice(b",\"value\":[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(it);
    }
    out.extend_from_slice(b"]}");
    out
}

struct Page {
    items: Vec<Vec<u8>>,
    /// Cursor of the next page, if any.
    next: Option<u64>,
    dup_from: Option<u64>,
    /// Items left after the next page starts (for the drop-next-link fault).
    remaining_after_next: usize,
    /// Item sets: the index of the last item served (the cursor's second half).
    after: Option<u64>,
}

fn is_artifact(r: Resource) -> bool {
    matches!(r, Resource::Recordings | Resource::Transcripts)
}

/// Objects per page: `Prefer: odata.maxpagesize` where it was given (directory resources),
/// else `$top` where the resource honours it, else the emulator's page size.
fn page_size(sh_default: usize, f: &Frozen, max_page: Option<usize>) -> usize {
    if let Some(n) = max_page {
        return n.max(1);
    }
    match f.resource {
        Resource::Contacts => f.top.map_or(sh_default, |t| t as usize),
        Resource::Users
        | Resource::Groups
        | Resource::Applications
        | Resource::ServicePrincipals
        | Resource::Devices
        | Resource::AdministrativeUnits
        | Resource::DirectoryRoles
        | Resource::Oauth2PermissionGrants
        | Resource::DirectoryObjects => sh_default,
        Resource::Recordings | Resource::Transcripts => {
            f.top.map_or(ARTIFACT_PAGE_SIZE, |t| t as usize)
        }
        Resource::DriveItems => f.top.map_or(sh_default, |t| t as usize),
        // Outlook's and To Do's default page size ($top: messages and tasks only).
        Resource::Messages
        | Resource::Events
        | Resource::MailFolders
        | Resource::PersonalContacts
        | Resource::TodoTasks => f.top.map_or(10, |t| t as usize),
    }
    .max(1)
}

fn collect_items(
    store: &mut Store,
    links: &LinkCtx,
    f: &Frozen,
    state: &TokenState,
    prefs: Prefs,
) -> Page {
    let minimal = prefs.minimal;
    let size = page_size(store_page_size(store), f, prefs.max_page);
    if f.resource.is_item_set() {
        let p = crate::emulator::items::page(store, f, state, size);
        return Page {
            items: p.items,
            next: p.next.map(|(c, _)| c),
            dup_from: None,
            remaining_after_next: p.remaining,
            after: p.next.map(|(_, a)| a),
        };
    }
    if f.resource == Resource::DirectoryObjects {
        let (items, next, remaining_after_next) =
            super::objects::page(store, f, state, minimal, size);
        return Page {
            items,
            next,
            dup_from: None,
            remaining_after_next,
            after: None,
        };
    }
    if f.resource == Resource::Groups {
        let p = store.group_page(f, state, minimal, size);
        return Page {
            items: p.items,
            next: p.next,
            dup_from: None,
            remaining_after_next: p.remaining_after_next,
            after: None,
        };
    }
    let mut items: Vec<Vec<u8>> = Vec::with_capacity(size + 3);
    if f.resource.is_directory() {
        let c = coll_of(f.resource);
        let schema = c.schema();
        let sel = f.select.unwrap_or(schema.lists(f.api()).default);
        let ids: Option<Vec<u64>> = (!f.ids.is_empty()).then(|| {
            let mut v: Vec<u64> = f
                .ids
                .iter()
                .filter_map(|id| store.index_of(c, id))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        });
        match state.kind {
            Kind::DeltaPage => {
                let manager = c == Coll::Users && f.members;
                let list = store.changes(
                    c,
                    state.position,
                    state.end,
                    sel,
                    ids.as_deref().unwrap_or(&[]),
                    manager,
                );
                if ids.as_ref().is_some_and(|v| v.is_empty()) {
                    return Page {
                        items,
                        next: None,
                        dup_from: None,
                        remaining_after_next: 0,
                        after: None,
                    };
                }
                let (next, remaining_after_next) = page_window(
                    &list,
                    state.cursor,
                    state.duplicate_from,
                    size,
                    |ch: Change| {
                        let mut o = Vec::with_capacity(256);
                        store.write_change(c, ch, sel, minimal, &mut o);
                        if manager {
                            store.append_manager_change(ch, state.position, state.end, &mut o);
                        }
                        items.push(o);
                    },
                );
                Page {
                    items,
                    next,
                    dup_from: None,
                    remaining_after_next,
                    after: None,
                }
            }
            _ => {
                let emit = Emit::Full { sel };
                let coll = store.coll(c);
                let write = |idx: u64, items: &mut Vec<Vec<u8>>| {
                    let mut o = Vec::with_capacity(320);
                    store.write_object(c, idx, emit, &mut o);
                    if c == Coll::Users && f.members {
                        store.append_current_manager(idx, &mut o);
                    }
                    items.push(o);
                };
                match &ids {
                    Some(list) => {
                        let list: Vec<u64> =
                            list.iter().copied().filter(|i| *i < state.end).collect();
                        let (next, remaining_after_next) =
                            page_window(&list, state.cursor, state.duplicate_from, size, |idx| {
                                if coll.status(idx) == Status::Live {
                                    write(idx, &mut items);
                                }
                            });
                        Page {
                            items,
                            next,
                            dup_from: None,
                            remaining_after_next,
                            after: None,
                        }
                    }
                    None => {
                        if let Some(d) = state.duplicate_from {
                            let mut idx = d;
                            let mut k = 0;
                            while idx < state.cursor && k < 3 {
                                if coll.status(idx) == Status::Live {
                                    write(idx, &mut items);
                                    k += 1;
                                }
                                idx += 1;
                            }
                        }
                        let mut idx = state.cursor;
                        let mut k = 0;
                        while idx < state.end && k < size {
                            if coll.status(idx) == Status::Live {
                                write(idx, &mut items);
                                k += 1;
                            }
                            idx += 1;
                        }
                        Page {
                            items,
                            next: (idx < state.end).then_some(idx),
                            dup_from: None,
                            remaining_after_next: state.end.saturating_sub(idx) as usize,
                            after: None,
                        }
                    }
                }
            }
        }
    } else {
        let transcript = f.resource == Resource::Transcripts;
        let org = f
            .organizer
            .as_deref()
            .and_then(|o| store.index_of(Coll::Users, o))
            .filter(|i| *i < store.organizers);
        let start_time = f.start.as_deref().and_then(parse_start);
        let list = match state.kind {
            Kind::DeltaPage => {
                store.artifact_list(org, start_time, Some(state.position), state.end)
            }
            _ => store.artifact_list(org, start_time, None, state.position),
        };
        let root = links.root();
        let beta = links.version == "beta";
        let (next, remaining_after_next) = page_window(
            &list,
            state.cursor,
            state.duplicate_from,
            size,
            |i: usize| {
                items.push(
                    serde_json::to_vec(&store.artifact_json(i, transcript, &root, beta))
                        .unwrap_or_default(),
                );
            },
        );
        Page {
            items,
            next,
            dup_from: None,
            remaining_after_next,
            after: None,
        }
    }
}

fn store_page_size(store: &Store) -> usize {
    store.page_size
}
