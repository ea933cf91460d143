//! What a page and a round brought: the counts a person reads in the round's summary line.
use std::collections::BTreeMap;
use std::fmt;

use super::guard::Stop;

/// The change one page brought.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageReport {
    /// The page ended the round (it carried the deltaLink).
    pub round_complete: bool,
    pub warnings: Vec<String>,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub duplicates: usize,
    /// What each item of the page was to the replica, in the page's order (one per item).
    pub outcomes: Vec<Outcome>,
    /// The properties (and `X@delta` relationships) each updated item changed: its index on
    /// the page and their names, for the items whose first occurrence in the round changed
    /// something (minimal rounds: the properties that came).
    pub changes: Vec<(usize, Vec<String>)>,
    /// No items, and a nextLink: the round goes on past a page that brought nothing.
    pub empty: bool,
    /// The round stopped at this page (a link loop, pages without anything new, a link that
    /// cannot be followed): following must stop; the reason is also on the round.
    pub stop: Option<Stop>,
}

/// What one item of a page was to the replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// An object the replica did not hold: first seen in the session (or back after a
    /// hard deletion).
    Added,
    /// An object the replica held, restated or changed.
    Updated,
    /// An object soft-deleted earlier in the session (`@removed` with reason `changed`) that
    /// comes back.
    Restored,
    /// An object already returned in this round, returned again (applied: last one wins).
    Duplicate,
    /// A later occurrence of an object in the round that continues its relationships (a large
    /// group's next slice of `members@delta`): expected, not a duplicate.
    Slice,
    /// `@removed`, the first time in the round.
    Removed,
    /// Not applied: no id, or it could not be read.
    Skipped,
}

/// What a round brought. The last entry of [`super::Session::rounds`] may be the round in progress.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundSummary {
    /// 1-based.
    pub number: u32,
    /// An initial (full) round: the query's first request or a restart.
    pub full: bool,
    /// A round started from now (`$deltatoken=latest`): no objects, a deltaLink.
    pub latest: bool,
    pub pages: usize,
    pub items: usize,
    pub bytes: u64,
    pub added: usize,
    pub updated: usize,
    pub removed_changed: usize,
    pub removed_deleted: usize,
    pub removed_other: usize,
    pub duplicates: usize,
    /// Later occurrences of an object that only continue its relationships (a large group's
    /// further slices of `members@delta`): expected, not duplicates.
    pub relationship_slices: usize,
    /// Links added and taken out by `X@delta` lists (`members@delta`, ...).
    pub links_added: usize,
    pub links_removed: usize,
    /// Pages with no items that still went on (a last page with none is not counted).
    pub empty_pages: usize,
    /// Updates that changed no tracked property (a later round returned the object as it was).
    pub replays: usize,
    /// Properties an update of a minimal round set to `null` (cleared values).
    pub nulls: usize,
    /// Full rounds only: objects in the replica that the round did not return (dropped).
    pub vanished: usize,
    /// Property → number of updated objects in which it changed. Minimal rounds: the properties
    /// present; default rounds: those whose value differs from the replica's previous one.
    pub property_changes: BTreeMap<String, usize>,
    pub delta_link: Option<String>,
    pub minimal: bool,
    pub complete: bool,
    /// A resync or restart abandoned this round before its deltaLink.
    pub abandoned: bool,
    /// Why the round stopped before its deltaLink, while it stays stopped.
    pub stop: Option<Stop>,
    /// The warnings of the round's pages, in order (also in each page's [`PageReport`]).
    pub warnings: Vec<String>,
}

impl RoundSummary {
    pub fn removed(&self) -> usize {
        self.removed_changed + self.removed_deleted + self.removed_other
    }
}

/// `n` and the word for it: "1 page", "2 pages" (summaries here and in the explorer).
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl RoundSummary {
    /// What the round brought, without its state (complete, in progress, stopped, abandoned).
    pub fn counts(&self) -> String {
        let mut s = String::new();
        let _ = self.write_counts(&mut s);
        s
    }

    fn write_counts(&self, f: &mut impl fmt::Write) -> fmt::Result {
        write!(
            f,
            "round {}: {}, {}: {} added, {} updated",
            self.number,
            plural(self.pages, "page", "pages"),
            plural(self.items, "item", "items"),
            self.added,
            self.updated
        )?;
        if !self.property_changes.is_empty() {
            let mut props: Vec<(&String, &usize)> = self.property_changes.iter().collect();
            props.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = props.iter().map(|(k, v)| format!("{k} {v}")).collect();
            write!(f, " ({})", list.join(", "))?;
        }
        write!(f, ", {} removed", self.removed())?;
        if self.removed() > 0 {
            let mut parts = vec![
                format!("{} changed", self.removed_changed),
                format!("{} deleted", self.removed_deleted),
            ];
            if self.removed_other > 0 {
                parts.push(format!("{} other", self.removed_other));
            }
            write!(f, " ({})", parts.join(", "))?;
        }
        if self.links_added + self.links_removed > 0 {
            write!(f, ", links +{} -{}", self.links_added, self.links_removed)?;
        }
        write!(
            f,
            ", {}",
            plural(self.duplicates, "duplicate", "duplicates")
        )?;
        if self.relationship_slices > 0 {
            write!(
                f,
                " ({} more relationship {})",
                self.relationship_slices,
                if self.relationship_slices == 1 {
                    "slice"
                } else {
                    "slices"
                }
            )?;
        }
        write!(
            f,
            ", {}",
            plural(self.empty_pages, "empty page", "empty pages")
        )?;
        if self.vanished > 0 {
            write!(f, ", {} no longer returned (dropped)", self.vanished)?;
        }
        Ok(())
    }
}

impl fmt::Display for RoundSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_counts(f)?;
        if let Some(stop) = &self.stop {
            write!(f, " (stopped: {stop})")?;
        }
        if self.abandoned {
            write!(f, " (abandoned)")?;
        } else if !self.complete && self.stop.is_none() {
            write!(f, " (in progress)")?;
        }
        Ok(())
    }
}
