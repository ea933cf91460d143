//! Results: the session's rounds and their pages, the selected page's objects, the round summary.
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use crate::graph::round::plural;
use crate::text::one_line;
use crate::tui::app::{Focus, Model, human_bytes_u64};
use crate::tui::keymap::{Action, Context};
use crate::tui::ui::{ellipsize, pane_block};
use crate::tui::view::{
    ErrorView, FetchState, LINE, Mark, ObjectRow, PageView, RoundView, ShownRow, SignInState,
    Widths, cell_text, clipped,
};

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let focused = m.focus == Focus::Results;
    let pages: usize = m.rounds.iter().map(|r| r.fetched().count()).sum();
    let title = Line::from(vec![
        Span::styled(" 2 Results ", Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(
            format!(
                "· {}, {} ",
                plural(m.rounds.len(), "round", "rounds"),
                plural(pages, "page", "pages")
            ),
            Style::new().fg(Color::DarkGray),
        ),
    ]);
    let block = pane_block(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 3 || inner.width < 10 {
        return;
    }
    if m.rounds.is_empty() {
        let fetch = m
            .keymap
            .key_for(
                crate::tui::keymap::Context::Global,
                crate::tui::keymap::Action::FetchNext,
            )
            .map(|k| k.to_string())
            .unwrap_or_default();
        let mut lines = vec![
            Line::raw("No pages yet."),
            Line::styled(
                format!("Build the query, then press {fetch} to fetch the first page."),
                Style::new().fg(Color::DarkGray),
            ),
        ];
        // Nothing can be fetched without a sign-in: the whole reason, wrapped, where the pages
        // would be (the status bar has one line for it).
        if let SignInState::Failed {
            target,
            error,
            previous: None,
            ..
        } = &m.sign_in
        {
            let keys = |a: Action| {
                m.keymap
                    .key_for(Context::Global, a)
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "?".into())
            };
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("Not signed in ({target}):"),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
            lines.push(Line::styled(one_line(error), Style::new().fg(Color::Red)));
            lines.push(Line::styled(
                format!(
                    "{} signs in again, {} chooses a profile.",
                    keys(Action::SignInAgain),
                    keys(Action::SwitchProfile)
                ),
                Style::new().fg(Color::Yellow),
            ));
        }
        lines.extend(token_check_lines(m));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }
    let (list, table, bottom) = m.results_areas(inner);
    draw_pages(frame, list, m);
    if let Some(page) = m.selected_page() {
        let minimal = m.selected_round().is_some_and(|r| r.minimal);
        match &page.failure {
            Some(error) => draw_failure(frame, table, m, page, error),
            None => draw_table(frame, table, m, page, minimal),
        }
    }
    let (legend, summary) = m.results_bottom(inner);
    let mut lines = Vec::with_capacity(summary.len() + 1);
    if legend && let Some(page) = m.selected_page() {
        lines.push(legend_line(page));
    }
    if let Some(round) = m.selected_round() {
        let style = if round.summary_line.is_some() && round.known_issue().is_none() {
            Style::new().fg(Color::Green)
        } else {
            Style::new().fg(Color::Yellow)
        };
        lines.extend(summary.into_iter().map(|l| Line::styled(l, style)));
    }
    frame.render_widget(Paragraph::new(lines), bottom);
}

/// What the marks of the page's objects mean (only those on this page; `?` lists them all).
fn legend_line(page: &PageView) -> Line<'static> {
    let mut spans = Vec::new();
    for mark in page.marks.legend() {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(mark.symbol(), mark_style(mark)));
        spans.push(Span::styled(
            format!(" {}", mark.short()),
            Style::new().fg(Color::DarkGray),
        ));
    }
    Line::from(spans)
}

fn mark_style(mark: Mark) -> Style {
    match mark {
        Mark::Changed => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Mark::Absent => Style::new().fg(Color::DarkGray),
        Mark::RemovedChanged | Mark::RemovedDeleted | Mark::RemovedOther | Mark::Failed => {
            Style::new().fg(Color::Red)
        }
        Mark::Duplicate | Mark::EmptyPage => Style::new().fg(Color::Magenta),
        Mark::Slice => Style::new().fg(Color::Cyan),
    }
}

/// A failed request in the table's place: what failed, the whole message and what to do,
/// wrapped (the JSON pane has its body, `H` its headers).
fn draw_failure(frame: &mut Frame, area: Rect, m: &Model, page: &PageView, e: &ErrorView) {
    let mut lines = vec![Line::styled(
        failure_title(page, e),
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    )];
    lines.push(Line::styled(
        one_line(&e.message).into_owned(),
        Style::new().fg(Color::Red),
    ));
    if let Some(id) = &e.request_id {
        lines.push(Line::raw(format!("request-id {}", one_line(id))));
    }
    for p in &e.token_problems {
        lines.push(Line::styled(
            format!("✗ {}", one_line(p)),
            Style::new().fg(Color::Red),
        ));
    }
    if let Some(hint) = &e.hint {
        lines.push(Line::styled(
            one_line(hint).into_owned(),
            Style::new().fg(Color::Yellow),
        ));
    }
    let headers = m
        .keymap
        .key_for(Context::Json, Action::ToggleHeaders)
        .map(|k| format!("; {k} there shows the headers"))
        .unwrap_or_default();
    lines.push(Line::styled(
        format!("The JSON pane shows the response body{headers}."),
        Style::new().fg(Color::DarkGray),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// "410 Gone, resyncRequired": the status (or what kept the request from being sent) and the
/// Graph error code.
fn failure_title(page: &PageView, e: &ErrorView) -> String {
    let mut s = match (page.status, e.status) {
        (0, None) => "not sent".to_owned(),
        (status, _) if (200..300).contains(&status) => format!("{status}, not a delta page"),
        (0, Some(status)) | (status, _) => status.to_string(),
    };
    if let Some(code) = &e.code {
        s.push_str(&format!(" {}", clipped(code, 64)));
    }
    s
}

/// What the token check found, where the first page would be: before the first request (the
/// request is sent anyway), and after a 403 that the check explains. Nothing when it found
/// nothing (or the token is not a JWT).
fn token_check_lines(m: &Model) -> Vec<Line<'_>> {
    let (heading, problems) = match (&m.fetch.state, &m.token_check) {
        (FetchState::Failed { error }, _)
            if error.status == Some(403) && !error.token_problems.is_empty() =>
        {
            // The code and request-id too: here they wrap instead of running off the bar.
            let code = error
                .code
                .as_deref()
                .filter(|c| !c.eq_ignore_ascii_case("Forbidden"))
                .map(|c| format!(" ({})", one_line(c)))
                .unwrap_or_default();
            let id = error
                .request_id
                .as_deref()
                .map(|id| format!(", request-id {}", one_line(id)))
                .unwrap_or_default();
            (
                format!(
                    "The server refused the request: 403 Forbidden{code}{id}. The token check says why:"
                ),
                &error.token_problems,
            )
        }
        (_, Some(check)) if !check.problems.is_empty() => (
            "The token check before the first request found a problem:".to_owned(),
            &check.problems,
        ),
        _ => return Vec::new(),
    };
    let mut lines = vec![
        Line::raw(""),
        Line::styled(
            heading,
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    ];
    lines.extend(
        problems
            .iter()
            .map(|p| Line::styled(format!("✗ {}", one_line(p)), Style::new().fg(Color::Red))),
    );
    let inspect = m
        .keymap
        .key_for(Context::Global, Action::InspectToken)
        .map(|k| format!(" {k} shows the token's claims."))
        .unwrap_or_default();
    let sent = if matches!(m.fetch.state, FetchState::Failed { .. }) {
        ""
    } else {
        "The request is sent anyway: the server has the last word (catalogs can lag; a higher permission may do)."
    };
    lines.push(Line::styled(
        format!("{sent}{inspect}").trim_start().to_owned(),
        Style::new().fg(Color::Yellow),
    ));
    lines
}

fn round_header(r: &RoundView) -> Line<'_> {
    let mut spans = vec![Span::styled(
        format!("Round {}", r.number),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    spans.push(Span::styled(
        format!(" · {}", r.kind()),
        Style::new().fg(Color::DarkGray),
    ));
    if r.minimal {
        spans.push(Span::styled(" · minimal", Style::new().fg(Color::Magenta)));
    }
    if r.delta_link.is_some() && r.known_issue().is_some() {
        // The deltaLink came, but the $top known issue may have ended the round early.
        spans.push(Span::styled(
            " · deltaLink ✓, may be incomplete ($top known issue)",
            Style::new().fg(Color::Yellow),
        ));
    } else if r.delta_link.is_some() {
        spans.push(Span::styled(
            " · complete, deltaLink ✓",
            Style::new().fg(Color::Green),
        ));
    } else if r.fetched().next().is_none() {
        spans.push(Span::styled(
            " · not started: its request failed",
            Style::new().fg(Color::Red),
        ));
    } else if r.pages.last().is_some_and(|p| p.failure.is_some()) {
        spans.push(Span::styled(
            " · stopped: the last request failed",
            Style::new().fg(Color::Red),
        ));
    } else {
        spans.push(Span::styled(
            " · in progress",
            Style::new().fg(Color::Yellow),
        ));
    }
    Line::from(spans)
}

/// A failed request's row: its status and error code, its time and its request-id.
fn failure_line<'a>(p: &'a PageView, e: &'a ErrorView, selected: bool) -> Line<'a> {
    let mut spans = vec![
        Span::raw(if selected { "▶ " } else { "  " }),
        Span::raw(format!("#{:<3} ", p.index)),
        Span::styled(
            format!("✗ {} ", failure_title(p, e)),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("{:>6} ms ", p.elapsed_ms)),
    ];
    if p.retries > 0 {
        spans.push(Span::styled(
            format!(
                "{} {} ",
                p.retries,
                if p.retries == 1 { "retry" } else { "retries" }
            ),
            Style::new().fg(Color::Yellow),
        ));
    }
    match &e.request_id {
        Some(id) => spans.push(Span::styled(
            format!("request-id {}", clipped(id, 64)),
            Style::new().fg(Color::DarkGray),
        )),
        None => spans.push(Span::styled(
            clipped(&e.message, LINE),
            Style::new().fg(Color::DarkGray),
        )),
    }
    let line = Line::from(spans);
    if selected {
        line.style(Style::new().bg(Color::Rgb(40, 44, 60)))
    } else {
        line
    }
}

fn page_line(p: &PageView, selected: bool) -> Line<'_> {
    if let Some(e) = &p.failure {
        return failure_line(p, e, selected);
    }
    let status_style = if (200..300).contains(&p.status) {
        Style::new().fg(Color::Green)
    } else {
        Style::new().fg(Color::Red)
    };
    let mut spans = vec![
        Span::raw(if selected { "▶ " } else { "  " }),
        Span::raw(format!("#{:<3} ", p.index)),
        Span::styled(format!("{} ", p.status), status_style),
        Span::raw(format!("{:>5} items ", p.item_count)),
        Span::raw(format!("{:>9} ", human_bytes_u64(p.bytes))),
        Span::raw(format!("{:>6} ms ", p.elapsed_ms)),
    ];
    if p.retries > 0 {
        // The request time above is the one that succeeded; the wait before it is its own.
        spans.push(Span::styled(
            format!(
                "{} {}, waited {:.1} s ",
                p.retries,
                if p.retries == 1 { "retry" } else { "retries" },
                p.waited_ms as f64 / 1000.0
            ),
            Style::new().fg(Color::Yellow),
        ));
    }
    if p.empty {
        spans.push(Span::styled("empty ", Style::new().fg(Color::Magenta)));
    }
    if !p.warnings.is_empty() {
        spans.push(Span::styled(
            format!("⚠ {} ", plural(p.warnings.len(), "warning", "warnings")),
            Style::new().fg(Color::Yellow),
        ));
    }
    match (&p.next_link, &p.delta_link) {
        (_, Some(d)) => {
            spans.push(Span::styled("deltaLink ", Style::new().fg(Color::Green)));
            spans.push(Span::styled(
                clipped(d, LINE),
                Style::new().fg(Color::DarkGray),
            ));
        }
        (Some(n), None) => {
            spans.push(Span::styled("nextLink ", Style::new().fg(Color::Cyan)));
            spans.push(Span::styled(
                clipped(n, LINE),
                Style::new().fg(Color::DarkGray),
            ));
        }
        (None, None) => spans.push(Span::styled("no link", Style::new().fg(Color::Red))),
    }
    let line = Line::from(spans);
    if selected {
        line.style(Style::new().bg(Color::Rgb(40, 44, 60)))
    } else {
        line
    }
}

fn draw_pages(frame: &mut Frame, area: Rect, m: &Model) {
    let h = usize::from(area.height);
    // Index of the selected line in the flattened list.
    let mut sel_line: usize = 0;
    let mut n = 0;
    for (ri, r) in m.rounds.iter().enumerate() {
        n += 1;
        for pi in 0..r.pages.len() {
            if ri == m.sel_round && pi == m.sel_page {
                sel_line = n;
            }
            n += 1;
        }
    }
    let offset = (sel_line + 1).saturating_sub(h);
    let mut lines = Vec::with_capacity(h);
    let mut idx = 0;
    'outer: for (ri, r) in m.rounds.iter().enumerate() {
        if idx >= offset {
            lines.push(round_header(r));
        }
        idx += 1;
        if lines.len() >= h {
            break;
        }
        for (pi, p) in r.pages.iter().enumerate() {
            if idx >= offset {
                lines.push(page_line(p, ri == m.sel_round && pi == m.sel_page));
            }
            idx += 1;
            if lines.len() >= h {
                break 'outer;
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn marker(row: &ShownRow<'_>) -> (String, Style) {
    if row.slice() {
        // A large group's next members: expected, not a duplicate.
        return ("slice".into(), Style::new().fg(Color::Cyan));
    }
    let mut text = String::new();
    let mut style = Style::new();
    if let Some(reason) = row.removed() {
        text.push_str(&format!("✗ {reason}"));
        style = Style::new().fg(Color::Red);
    }
    if row.duplicate() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str("dup");
        if row.removed().is_none() {
            style = Style::new().fg(Color::Magenta);
        }
    }
    (text, style)
}

/// Column widths from what the visible rows hold (and, for this page, what rows seen before
/// held: widths only grow while scrolling, see [`crate::tui::view::WidthMemo`]): the id as wide
/// as an id while there is room (a prefix tells GUIDs apart when there is not), and the
/// property columns sharing the rest in proportion to their content.
fn column_widths(
    width: u16,
    page: &PageView,
    visible: &[ObjectRow],
    columns: &[String],
) -> Vec<Constraint> {
    let Widths {
        marker: mark_w,
        id: id_full,
        content,
        ..
    } = page.widths.merged(Widths::measure(visible, columns));
    let total = usize::from(width);
    let wanted: usize = content.iter().sum::<usize>() + columns.len();
    // The id gets its full width when the properties still fit, or when it takes at most half
    // of the table (a GUID's 36 characters at 160 columns); else a short prefix.
    let id_w = if mark_w + id_full + wanted + 2 <= total || mark_w + id_full < total / 2 {
        id_full
    } else {
        id_full.min((total / 5).max(8))
    };
    let mut widths = vec![
        Constraint::Length(u16::try_from(mark_w).unwrap_or(u16::MAX)),
        Constraint::Length(u16::try_from(id_w).unwrap_or(u16::MAX)),
    ];
    widths.extend(
        content
            .iter()
            .map(|w| Constraint::Fill(u16::try_from(*w).unwrap_or(u16::MAX))),
    );
    widths
}

fn draw_table(frame: &mut Frame, area: Rect, m: &Model, page: &PageView, minimal: bool) {
    if area.height < 2 {
        return;
    }
    let h = usize::from(area.height - 1);
    let columns: &[String] = &m.columns;
    let start = m.row_offset.min(page.rows.len());
    let visible = &page.rows[start..(start + h).min(page.rows.len())];
    let widths = column_widths(area.width, page, visible, columns);
    let mut header = vec![Cell::from(""), Cell::from("id")];
    header.extend(columns.iter().map(|c| Cell::from(one_line(c))));
    let header = Row::new(header).style(
        Style::new()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    );
    let shown: Vec<ShownRow<'_>> = visible.iter().map(ObjectRow::shown).collect();
    let rows: Vec<Row> = shown
        .iter()
        .enumerate()
        .map(|(k, row)| {
            let (mark, mark_style) = marker(row);
            let mut cells = vec![
                Cell::from(Span::styled(mark, mark_style)),
                Cell::from(cell_text(row.id())),
            ];
            for c in columns {
                let cell = match row.cell(c) {
                    Some(v) if minimal && row.changed(c) => Cell::from(Span::styled(
                        format!("*{v}"),
                        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                    )),
                    Some(v) => Cell::from(v),
                    None => Cell::from(Span::styled("·", Style::new().fg(Color::DarkGray))),
                };
                cells.push(cell);
            }
            let mut r = Row::new(cells);
            if row.removed().is_some() {
                r = r.style(Style::new().add_modifier(Modifier::DIM));
            }
            if start + k == m.sel_row && m.focus == Focus::Results {
                r = r.style(Style::new().bg(Color::Rgb(40, 44, 60)));
            } else if start + k == m.sel_row {
                r = r.style(Style::new().add_modifier(Modifier::UNDERLINED));
            }
            r
        })
        .collect();
    if page.rows.is_empty() {
        let text = if page.empty {
            "empty page (value: []) — it still carries a link; keep going"
        } else {
            "no objects"
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                ellipsize(text, usize::from(area.width)),
                Style::new().fg(Color::DarkGray),
            )),
            area,
        );
        return;
    }
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

#[cfg(test)]
mod marker_tests {
    use super::marker;
    use crate::tui::view::ObjectRow;

    #[test]
    fn marker_width_is_the_width_of_the_marker() {
        for (json, dup) in [
            (r#"{"id":"a"}"#, false),
            (r#"{"id":"a"}"#, true),
            (r#"{"id":"a","@removed":{"reason":"changed"}}"#, false),
            (r#"{"id":"a","@removed":{"reason":"deleted"}}"#, true),
        ] {
            let row = ObjectRow::from_json(json, false, dup);
            let row = row.shown();
            assert_eq!(
                row.marker_width(),
                marker(&row).0.chars().count(),
                "{json} {dup}"
            );
            let slice = ObjectRow::from_json(json, false, dup).as_slice();
            let slice = slice.shown();
            assert_eq!(slice.marker_width(), marker(&slice).0.chars().count());
        }
    }
}
