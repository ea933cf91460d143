//! The resource picker: the catalog's resources under their groups, what the selected one is and
//! how its deletions look, and last a delta path of one's own.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::ellipsize;

/// The group of the last entry: any URL the catalog does not list.
const OWN_GROUP: &str = "Any delta URL";

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let t = &m.theme;
    let q = &m.query;
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
        &format!(
            " Resources ({} chooses, {} closes) ",
            m.keymap.key_label(Context::Picker, Action::Activate),
            m.keymap.key_label(Context::Picker, Action::Back)
        ),
        t,
    ));
    if inner.height == 0 || inner.width < 8 {
        return;
    }
    let width = usize::from(inner.width);
    // Entries with their group headers; `at` is the line of the cursor's entry.
    let mut lines: Vec<Line> = Vec::new();
    let mut at = 0;
    let mut group = "";
    let entry = |selected: bool, name: &str, title: &str| {
        let marker = if selected { "▶ " } else { "  " };
        let text = format!("{marker}{name:<24} {title}");
        Line::styled(
            ellipsize(&text, width),
            if selected {
                t.picker_selection
            } else {
                Style::new()
            },
        )
    };
    for (i, r) in q.resources.iter().enumerate() {
        if r.group != group {
            group = &r.group;
            lines.push(Line::styled(group.to_owned(), t.heading));
        }
        let selected = i == m.resource_cursor;
        if selected {
            at = lines.len();
        }
        lines.push(entry(selected, &r.name, &r.title));
    }
    lines.push(Line::styled(OWN_GROUP, t.heading));
    let own = m.resource_cursor >= q.resources.len();
    if own {
        at = lines.len();
    }
    lines.push(entry(
        own,
        "your own path…",
        "any delta path under the API version, walked by the generic rules",
    ));
    // What the selected entry is, below the list.
    let about = match q.resources.get(m.resource_cursor) {
        Some(r) => vec![
            Line::from(vec![
                Span::styled("removals ", t.label),
                Span::raw(r.removal.clone()),
            ]),
            Line::from(vec![
                Span::styled("options  ", t.label),
                Span::raw(options(r)),
            ]),
        ],
        None => vec![Line::styled(
            "e.g. /me/mailFolders('Inbox')/messages/delta?$select=subject: links followed verbatim, removals from @removed or a deleted facet",
            t.muted,
        )],
    };
    let room = usize::from(inner.height)
        .saturating_sub(about.len() + 1)
        .max(1);
    let first = (at + 1).saturating_sub(room);
    let mut shown: Vec<Line> = lines.into_iter().skip(first).take(room).collect();
    shown.push(Line::raw(""));
    shown.extend(about);
    frame.render_widget(Paragraph::new(shown).wrap(Wrap { trim: false }), inner);
}

/// The options a resource takes, as the builder offers them.
fn options(r: &crate::tui::view::ResourceView) -> String {
    let mut out = Vec::new();
    for (on, what) in [
        (r.supports_select, "$select"),
        (r.supports_filter_ids, "id filter"),
        (r.supports_top, "$top"),
        (r.supports_max_page, "odata.maxpagesize"),
        (r.supports_minimal, "return=minimal"),
    ] {
        if on {
            out.push(what.to_owned());
        }
    }
    if r.supports_latest {
        out.push(r.latest_query.clone());
    }
    if !r.params.is_empty() {
        out.push(format!("parameters: {}", r.params.join(", ")));
    }
    if out.is_empty() {
        "none besides its parameters".to_owned()
    } else {
        out.join(" · ")
    }
}
