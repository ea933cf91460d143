//! A stored session in words: what the resume list and `deltascope sessions` show, including
//! the age of its last deltaLink against how long the resource's tokens live (spec §5).
use chrono::{DateTime, Utc};

use super::read::SessionRow;
use crate::graph::catalog::Catalog;
use crate::graph::round::plural;

/// "3 hours", "6 days": the rounded-down age.
pub fn age_text(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    match secs {
        0..60 => plural(secs as usize, "second", "seconds"),
        60..3600 => plural((secs / 60) as usize, "minute", "minutes"),
        3600..86_400 => plural((secs / 3600) as usize, "hour", "hours"),
        _ => plural((secs / 86_400) as usize, "day", "days"),
    }
}

/// When the last deltaLink was saved and what that means for it: "saved 6 days ago: directory
/// tokens live about 7 days", or that it is probably expired.
pub fn link_age(row: &SessionRow, catalog: &Catalog, now: DateTime<Utc>) -> String {
    let Some(at) = row.last_delta_at else {
        return if row.rounds == 0 {
            "no round yet".to_owned()
        } else {
            "no complete round: it continues mid-round from the last nextLink".to_owned()
        };
    };
    let age = age_text(at, now);
    let lifetime = catalog
        .get(&row.resource)
        .and_then(|r| r.token_lifetime_days);
    match lifetime {
        Some(days) if (now - at).num_days() >= i64::from(days) => format!(
            "deltaLink saved {age} ago: older than the about {days} days such tokens live, so expect 410 Gone / syncStateNotFound and a full resync"
        ),
        Some(days) => format!(
            "deltaLink saved {age} ago: {} tokens live about {days} days",
            if matches!(row.resource.as_str(), "contacts" | "users" | "groups") {
                "directory"
            } else {
                "its"
            }
        ),
        None => format!(
            "deltaLink saved {age} ago (the documentation gives no lifetime for these tokens)"
        ),
    }
}

/// One line for a list of sessions: number, resource, where, who, rounds, the link's age.
pub fn one_line(row: &SessionRow, catalog: &Catalog, now: DateTime<Utc>) -> String {
    let root = if row.embedded {
        "the embedded emulator".to_owned()
    } else {
        row.graph_root.clone()
    };
    let who = match (&row.tenant_id, &row.identity) {
        (Some(t), Some(i)) => format!(" · tenant {t} · {i}"),
        (Some(t), None) => format!(" · tenant {t}"),
        (None, Some(i)) => format!(" · {i}"),
        (None, None) => String::new(),
    };
    let minimal = if row
        .headers
        .iter()
        .any(|(_, v)| v.contains("return=minimal"))
    {
        ", minimal"
    } else {
        ""
    };
    let select = row
        .query
        .as_ref()
        .filter(|q| !q.select.is_empty())
        .map(|q| format!(", $select={}", q.select.join(",")))
        .unwrap_or_default();
    format!(
        "#{} {} ({}{select}{minimal}) on {root}{who} · {} · {}",
        row.id,
        row.resource,
        row.api_version,
        plural(row.rounds as usize, "round", "rounds"),
        link_age(row, catalog, now)
    )
}
