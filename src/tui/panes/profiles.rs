//! The profile picker: the sign-in the explorer started with, then each profile of the config
//! file with its method, cloud and tenant (profiles hold no secrets), or why there are none.
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::text::one_line;
use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::ellipsize;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let rows = m.profiles.as_ref().map(|p| p.entries.len()).unwrap_or(0);
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(11);
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(122),
        height.min(area.height.saturating_sub(2)),
        &format!(
            " Sign in with a profile ({} signs in, {} closes) ",
            m.keymap.key_label(Context::Profiles, Action::Activate),
            m.keymap.key_label(Context::Profiles, Action::Back)
        ),
        &m.theme,
    ));
    let t = &m.theme;
    let dim = t.muted;
    let mut lines: Vec<Line> = Vec::new();
    let Some(view) = &m.profiles else {
        lines.push(Line::styled("reading the config file…", dim));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    lines.push(Line::from(vec![
        Span::styled("config file ", t.label),
        Span::raw(one_line(view.path.as_deref().unwrap_or("(none)"))),
    ]));
    lines.push(Line::raw(""));
    let width = usize::from(inner.width);
    let selected = |i: usize| i == m.profile_cursor;
    let row_style = |i: usize| {
        if selected(i) {
            t.picker_selection
        } else {
            Style::new()
        }
    };
    let marker = |i: usize| if selected(i) { "▶ " } else { "  " };
    lines.push(Line::styled(
        format!(
            "  {:<18} {:<20} {:<10} {:<38} {}",
            "profile", "method", "cloud", "tenant", "Graph root"
        ),
        t.overlay_heading,
    ));
    let startup = format!("{}{:<18} {}", marker(0), "(start-up)", view.startup);
    lines.push(Line::styled(
        ellipsize(&one_line(&startup), width),
        row_style(0),
    ));
    for (i, e) in view.entries.iter().enumerate() {
        let text = format!(
            "{}{:<18} {:<20} {:<10} {:<38} {}",
            marker(i + 1),
            ellipsize(&e.name, 18),
            e.method,
            e.cloud,
            ellipsize(&e.tenant, 38),
            e.graph_root.as_deref().unwrap_or("(the cloud's)")
        );
        lines.push(Line::styled(
            ellipsize(&one_line(&text), width),
            row_style(i + 1),
        ));
    }
    if let Some(problem) = &view.problem {
        lines.push(Line::raw(""));
        lines.push(Line::styled(one_line(problem), t.warning_strong));
    }
    lines.push(Line::raw(""));
    let in_use = match m.signed_in_as() {
        Some(who) if !who.is_empty() => who.to_owned(),
        Some(_) => "the start-up sign-in".to_owned(),
        None => "nobody (not signed in)".to_owned(),
    };
    lines.push(Line::from(vec![
        Span::styled("in use now  ", t.label),
        Span::raw(one_line(&in_use).into_owned()),
    ]));
    lines.push(Line::styled(
        "Signing in with another profile drops the session's rounds (they belong to the sign-in \
         that fetched them); if it fails, the sign-in in use stays.",
        dim,
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
