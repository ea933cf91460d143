//! The marks of the results pane and what they mean: one list, for the legend under the object
//! table and for the help overlay.

/// A mark of the results pane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// `new`: new to the session in a change round (created since the last round).
    New,
    /// `restored`: back after a soft deletion earlier in the session.
    Restored,
    /// `*` before a value: the property changed (a later minimal round sends only those).
    Changed,
    /// `·` in a cell: the object did not carry the property.
    Absent,
    /// `✗ changed`: removed, soft-deleted (restorable) or out of scope.
    RemovedChanged,
    /// `✗ deleted`: removed for good.
    RemovedDeleted,
    /// `✗ <reason>`: removed for another reason the server gave.
    RemovedOther,
    /// `dup`: the same id came earlier in the round.
    Duplicate,
    /// `slice`: a further occurrence that only carries more of the object's links.
    Slice,
    /// `empty` on a page row: no items, and still a nextLink.
    EmptyPage,
    /// `✗` on a page row: the request failed.
    Failed,
}

impl Mark {
    pub const ALL: [Mark; 11] = [
        Mark::New,
        Mark::Restored,
        Mark::Changed,
        Mark::Absent,
        Mark::RemovedChanged,
        Mark::RemovedDeleted,
        Mark::RemovedOther,
        Mark::Duplicate,
        Mark::Slice,
        Mark::EmptyPage,
        Mark::Failed,
    ];

    /// The mark as shown.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::New => "new",
            Mark::Restored => "restored",
            Mark::Changed => "*",
            Mark::Absent => "·",
            Mark::RemovedChanged => "✗ changed",
            Mark::RemovedDeleted => "✗ deleted",
            Mark::RemovedOther => "✗ reason",
            Mark::Duplicate => "dup",
            Mark::Slice => "slice",
            Mark::EmptyPage => "empty",
            Mark::Failed => "✗ status",
        }
    }

    /// A few words, for the legend line under the table.
    pub fn short(self) -> &'static str {
        match self {
            Mark::New => "new since the last round",
            Mark::Restored => "back from soft-deletion",
            Mark::Changed => "changed",
            Mark::Absent => "not in the object",
            Mark::RemovedChanged => "soft-deleted (restorable)",
            Mark::RemovedDeleted => "hard-deleted",
            Mark::RemovedOther => "removed",
            Mark::Duplicate => "seen before in the round",
            Mark::Slice => "more links of an object",
            Mark::EmptyPage => "no items, a nextLink",
            Mark::Failed => "failed request",
        }
    }

    /// The meaning in a line of the help overlay (at most 36 columns).
    pub fn meaning(self) -> &'static str {
        match self {
            Mark::New => "new since the last round",
            Mark::Restored => "restored after a soft deletion",
            Mark::Changed => "changed (in a minimal round)",
            Mark::Absent => "the object does not carry it",
            Mark::RemovedChanged => "removed: soft-deleted, restorable",
            Mark::RemovedDeleted => "removed: hard-deleted, gone for good",
            Mark::RemovedOther => "removed, for the reason given",
            Mark::Duplicate => "the id came earlier in this round",
            Mark::Slice => "more links of an object (not a dup)",
            Mark::EmptyPage => "no items, but a nextLink",
            Mark::Failed => "failed request; JSON pane: its body",
        }
    }
}

/// The marks present on one page's objects, found when the page arrives: the legend under the
/// table explains these and no others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageMarks {
    pub new: bool,
    pub restored: bool,
    pub changed: bool,
    pub removed_changed: bool,
    pub removed_deleted: bool,
    pub removed_other: bool,
    pub duplicate: bool,
    pub slice: bool,
}

impl PageMarks {
    /// The marks to explain under the table of a page with objects, in the order of
    /// [`Mark::ALL`]; `·` always (nearly every table has a property some object lacks).
    pub fn legend(&self) -> Vec<Mark> {
        let present = |m: Mark| match m {
            Mark::New => self.new,
            Mark::Restored => self.restored,
            Mark::Changed => self.changed,
            Mark::Absent => true,
            Mark::RemovedChanged => self.removed_changed,
            Mark::RemovedDeleted => self.removed_deleted,
            Mark::RemovedOther => self.removed_other,
            Mark::Duplicate => self.duplicate,
            Mark::Slice => self.slice,
            Mark::EmptyPage | Mark::Failed => false,
        };
        Mark::ALL.into_iter().filter(|m| present(*m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Mark;

    #[test]
    fn the_readme_lists_every_mark_with_its_meaning() {
        let readme = include_str!("../../../README.md");
        for m in Mark::ALL {
            let row = format!("| `{}` | {} |", m.symbol(), m.meaning());
            assert!(readme.contains(&row), "README.md lacks the row {row}");
        }
    }

    #[test]
    fn every_meaning_fits_a_line_of_the_help() {
        for m in Mark::ALL {
            assert!(m.meaning().chars().count() <= 36, "{m:?}");
            assert!(m.symbol().chars().count() <= 16, "{m:?}");
        }
    }
}
