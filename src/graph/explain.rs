//! What a sync implementer must handle that a round actually contains, in the spec's words
//! (spec §2 and the reference pages): soft deletes that may come back, nulls in minimal rounds,
//! relationship slices, duplicates, empty pages, replays. Only what the round holds is said.
use super::catalog::{Removal, ResourceSpec};
use super::summary::{RoundSummary, plural};

/// The lines for round `r` of a query on `spec` (its removal style and token spellings; `None`:
/// a path of one's own, the generic rules).
pub fn explain_round(r: &RoundSummary, spec: Option<&ResourceSpec>) -> Vec<String> {
    let mut out = Vec::new();
    let latest = r.latest;
    let facet = spec.is_some_and(|s| s.removal == Removal::DeletedFacet);
    if latest {
        out.push(format!(
            "a round from now ({}): it brings no objects, only a deltaLink; later rounds carry the changes made after it",
            spec.map_or("latest", ResourceSpec::latest_query)
        ));
    } else if r.full {
        out.push(format!(
            "a full round: every object in scope comes once (in {}); build the replica from it, replacing what you held",
            plural(r.pages, "page", "pages")
        ));
        if r.vanished > 0 {
            out.push(format!(
                "{} the replica held {} not returned by this full round: drop them (they were deleted or left the scope while the old state could not tell you)",
                plural(r.vanished, "object", "objects"),
                if r.vanished == 1 { "was" } else { "were" }
            ));
        }
    } else if r.minimal {
        out.push(
            "a minimal round (Prefer: return=minimal): an updated object carries only the properties that changed; merge them onto the object you hold, an absent property did not change".into(),
        );
    } else {
        out.push(
            "a round of changes: an updated object comes with all its selected properties; replace the object you hold (a property that is absent is not set)".into(),
        );
    }
    if r.nulls > 0 {
        out.push(format!(
            "{} set to null in this minimal round: null means the value was cleared; set it to null, do not drop the property from your merge",
            plural(r.nulls, "property", "properties")
        ));
    }
    if r.removed_changed > 0 {
        out.push(format!(
            "{} removed with reason \"changed\": soft-deleted (restorable for 30 days) or out of the query's scope; keep their last state aside: a restore comes back as an update",
            plural(r.removed_changed, "object", "objects")
        ));
    }
    if r.removed_deleted > 0 && facet {
        out.push(format!(
            "{} with a deleted facet (how driveItem delta says an item is gone, never @removed): drop them; delete a folder locally only once it is empty after the whole round",
            plural(r.removed_deleted, "item", "items")
        ));
    } else if r.removed_deleted > 0 {
        out.push(format!(
            "{} removed with reason \"deleted\" (or a deleted facet): deleted for good; drop them",
            plural(r.removed_deleted, "object", "objects")
        ));
    }
    if r.removed_other > 0 {
        out.push(format!(
            "{} removed with a reason the documentation does not name (or none): treat as removed",
            plural(r.removed_other, "object", "objects")
        ));
    }
    if r.relationship_slices > 0 {
        out.push(format!(
            "{}: a large group comes again in the same round with the same properties and the next part of members@delta; merge the links, it is not a duplicate",
            plural(r.relationship_slices, "relationship slice", "relationship slices")
        ));
    }
    if r.links_added + r.links_removed > 0 {
        out.push(format!(
            "relationship changes: {} added, {} taken out (an X@delta entry with @removed is a link taken out, not the object deleted)",
            plural(r.links_added, "link", "links"),
            r.links_removed
        ));
    }
    if r.duplicates > 0 {
        out.push(format!(
            "{}: an object returned more than once in the round; apply them in order, the last one wins{}",
            plural(r.duplicates, "duplicate", "duplicates"),
            if facet {
                " (driveItem delta documents it: track items by id, not by path)"
            } else {
                ""
            }
        ));
    }
    if r.empty_pages > 0 {
        out.push(format!(
            "{} with no items and a nextLink: a page may bring nothing and still go on; follow until the deltaLink",
            plural(r.empty_pages, "empty page", "empty pages")
        ));
    }
    if r.replays > 0 {
        out.push(format!(
            "{} returned with no change to a tracked property (replays): Graph may send an object again, e.g. after a change to a property outside $select, which is not tracked; applying the same values again must be harmless",
            plural(r.replays, "object", "objects")
        ));
    }
    if let Some(stop) = &r.stop {
        out.push(format!("the round stopped before its deltaLink: {stop}"));
    } else if r.abandoned {
        out.push("the round was abandoned (a resync started a new full round)".into());
    } else if !r.complete {
        out.push("the round is not complete: follow its nextLinks to the deltaLink before you save anything".into());
    }
    if !r.full && !latest {
        out.push(
            "not in this round, by the rules: a change to a property outside $select; an object deleted and restored between two rounds arrives as an update, not as a removal and an addition".into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_round_holds_is_said() {
        let r = RoundSummary {
            number: 2,
            minimal: true,
            complete: true,
            removed_changed: 2,
            nulls: 1,
            ..Default::default()
        };
        let text = explain_round(&r, None).join("\n");
        assert!(text.contains("a minimal round"), "{text}");
        assert!(text.contains("1 property set to null"), "{text}");
        assert!(
            text.contains("2 objects removed with reason \"changed\""),
            "{text}"
        );
        assert!(!text.contains("duplicate"), "{text}");
        assert!(!text.contains("empty page"), "{text}");
        let full = RoundSummary {
            number: 1,
            full: true,
            complete: true,
            vanished: 3,
            ..Default::default()
        };
        let text = explain_round(&full, None).join("\n");
        assert!(
            text.contains("a full round") && text.contains("3 objects"),
            "{text}"
        );
        assert!(!text.contains("outside $select"), "{text}");
    }

    #[test]
    fn the_resource_words_its_removals_and_its_latest() {
        let c = crate::graph::Catalog::builtin();
        let r = RoundSummary {
            number: 2,
            complete: true,
            removed_deleted: 2,
            duplicates: 1,
            ..Default::default()
        };
        let drive = explain_round(&r, c.get("driveItems")).join("\n");
        assert!(drive.contains("2 items with a deleted facet"), "{drive}");
        assert!(drive.contains("track items by id"), "{drive}");
        let mail = explain_round(&r, c.get("messages")).join("\n");
        assert!(mail.contains("removed with reason \"deleted\""), "{mail}");
        let latest = RoundSummary {
            latest: true,
            ..Default::default()
        };
        let text = explain_round(&latest, c.get("driveItems")).join("\n");
        assert!(text.contains("(token=latest)"), "{text}");
        let text = explain_round(&latest, c.get("users")).join("\n");
        assert!(text.contains("($deltatoken=latest)"), "{text}");
    }
}
