//! The item sets' generation: deterministic, consistent (ids unique, folders counting their
//! children, messages in their folders), and their rounds' cursors.
#![allow(clippy::unwrap_used)]
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

#[test]
fn the_same_seed_makes_the_same_drive_and_mailbox() {
    let (a, b, c) = (
        Sets::generate(7, now()),
        Sets::generate(7, now()),
        Sets::generate(8, now()),
    );
    let ids = |s: &Sets| -> Vec<String> {
        s.drive
            .items
            .iter()
            .chain(&s.mail.items)
            .chain(&s.events.items)
            .map(|i| i.id.clone())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(a.drive_id, b.drive_id);
    assert_ne!(ids(&a), ids(&c));
    let unique: HashSet<String> = ids(&a).into_iter().collect();
    assert_eq!(unique.len(), ids(&a).len(), "ids are unique");
    for it in &a.drive.items {
        assert_eq!(
            a.drive.find(&it.id).map(|i| &a.drive.items[i].id),
            Some(&it.id)
        );
    }
}

#[test]
fn folders_count_their_children_and_messages_sit_in_their_folders() {
    let s = Sets::generate(42, now());
    for (i, f) in s.drive.items.iter().enumerate() {
        let Some(count) = f.body.get("folder").unwrap_or(&Value::Null)["childCount"].as_u64()
        else {
            continue;
        };
        let children = s
            .drive
            .items
            .iter()
            .filter(|c| {
                c.body.get("parentReference").unwrap_or(&Value::Null)["id"]
                    == *f.body.get("id").unwrap_or(&Value::Null)
            })
            .count() as u64;
        assert_eq!(
            count,
            children,
            "folder {i} {}",
            f.body.get("name").unwrap_or(&Value::Null)
        );
    }
    let inbox = s.folder("Inbox").unwrap().to_string();
    assert_eq!(s.folder(&inbox), Some(inbox.as_str()));
    assert!(s.folder("nope").is_none());
    for m in &s.mail.items {
        assert_eq!(
            m.body.get("parentFolderId").unwrap_or(&Value::Null),
            m.scope.as_str()
        );
    }
    assert_eq!(s.mail.items.iter().filter(|m| m.scope == inbox).count(), 36);
}

#[test]
fn selects_take_only_delta_properties_of_the_entity() {
    assert!(select_mask(Resource::DriveItems, false, "name,size,id").is_ok());
    assert!(select_mask(Resource::DriveItems, false, "content").is_err());
    assert!(select_mask(Resource::DriveItems, false, "nope").is_err());
    assert!(select_mask(Resource::Messages, false, "subject,isRead").is_ok());
}

#[test]
fn times_parse_with_or_without_a_zone() {
    assert!(parse_time("2024-01-01T00:00:00Z").is_some());
    assert!(parse_time("2024-01-01T12:00:00+08:00").is_some());
    assert!(parse_time("2015-11-08T19:00:00.0000000").is_some());
    assert!(parse_time("latest").is_none());
    assert!(parse_time("").is_none());
}
