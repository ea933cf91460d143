//! Results: the session's rounds and their pages, the selected page's objects, the round summary.
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use crate::graph::round::plural;
use crate::text::one_line;
use crate::tui::app::{Focus, Model, human_bytes_u64};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::Theme;
use crate::tui::ui::{ellipsize, pane_block};
use crate::tui::view::{
    ErrorView, FetchState, LINE, Mark, ObjectRow, PageView, RoundView, ShownRow, SignInState,
    Widths, cell_text, clipped,
};

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let focused = m.focus == Focus::Results;
    let t = &m.theme;
    let pages: usize = m.rounds.iter().map(|r| r.fetched().count()).sum();
    let title = Line::from(vec![
        Span::styled(" 2 Results ", t.heading),
        Span::styled(
            format!(
                "· {}, {} ",
                plural(m.rounds.len(), "round", "rounds"),
                plural(pages, "page", "pages")
            ),
            t.muted,
        ),
    ]);
    let block = pane_block(title, focused, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 3 || inner.width < 10 {
        return;
    }
    if m.rounds.is_empty() {
        let fetch = m.keymap.key_label(Context::Global, Action::FetchNext);
        let mut lines = vec![
            Line::raw("No pages yet."),
            Line::styled(
                format!("Build the query, then press {fetch} to fetch the first page."),
                t.muted,
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
                t.error_strong,
            ));
            lines.push(Line::styled(one_line(error), t.error));
            lines.push(Line::styled(
                format!(
                    "{} signs in again, {} chooses a profile.",
                    keys(Action::SignInAgain),
                    keys(Action::SwitchProfile)
                ),
                t.warning,
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
        lines.push(legend_line(page, t));
    }
    if let Some(round) = m.selected_round() {
        let style = match (&round.summary_line, round.known_issue()) {
            (Some(_), None) => t.ok,
            (Some(_), Some(_)) => t.warning,
            (None, _) => t.pending,
        };
        lines.extend(summary.into_iter().map(|l| Line::styled(l, style)));
    }
    frame.render_widget(Paragraph::new(lines), bottom);
}

/// What the marks of the page's objects mean (only those on this page; `?` lists them all).
fn legend_line(page: &PageView, t: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for mark in page.marks.legend() {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(mark.symbol(), mark_style(mark, t)));
        spans.push(Span::styled(format!(" {}", mark.short()), t.muted));
    }
    Line::from(spans)
}

fn mark_style(mark: Mark, t: &Theme) -> Style {
    match mark {
        Mark::New => t.added,
        Mark::Restored => t.restored,
        Mark::Changed => t.changed,
        Mark::Absent => t.muted,
        Mark::RemovedChanged | Mark::RemovedDeleted | Mark::RemovedOther => t.removed,
        Mark::Failed => t.error,
        Mark::Duplicate | Mark::EmptyPage => t.duplicate,
        Mark::Slice => t.slice,
    }
}

/// A failed request in the table's place: what failed, the whole message and what to do,
/// wrapped (the JSON pane has its body, `H` its headers).
fn draw_failure(frame: &mut Frame, area: Rect, m: &Model, page: &PageView, e: &ErrorView) {
    let t = &m.theme;
    let mut lines = vec![Line::styled(failure_title(page, e), t.error_strong)];
    lines.push(Line::styled(one_line(&e.message).into_owned(), t.error));
    if let Some(id) = &e.request_id {
        lines.push(Line::raw(format!("request-id {}", one_line(id))));
    }
    if !e.token_problems.is_empty() {
        lines.push(Line::styled("The token check says why:", t.error_strong));
    }
    for p in &e.token_problems {
        lines.push(Line::styled(format!("✗ {}", one_line(p)), t.error));
    }
    if let Some(hint) = &e.hint {
        lines.push(Line::styled(one_line(hint).into_owned(), t.warning));
    }
    let headers = m
        .keymap
        .key_for(Context::Json, Action::ToggleHeaders)
        .map(|k| format!("; {k} there shows the headers"))
        .unwrap_or_default();
    lines.push(Line::styled(
        format!("The JSON pane shows the response body{headers}."),
        t.muted,
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
    let t = &m.theme;
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
    let mut lines = vec![Line::raw(""), Line::styled(heading, t.error_strong)];
    lines.extend(
        problems
            .iter()
            .map(|p| Line::styled(format!("✗ {}", one_line(p)), t.error)),
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
        t.warning,
    ));
    lines
}

/// A round's line in the list; `earlier`: kept from an earlier query (the builder holds
/// another one now).
fn round_header<'a>(r: &'a RoundView, earlier: bool, t: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("Round {}", r.number), t.heading)];
    if earlier {
        spans.push(Span::styled(" · earlier query", t.slice));
    }
    spans.push(Span::styled(format!(" · {}", r.kind()), t.muted));
    if r.minimal {
        spans.push(Span::styled(" · minimal", t.flag));
    }
    if r.delta_link.is_some() && r.known_issue().is_some() {
        // The deltaLink came, but the $top known issue may have ended the round early.
        spans.push(Span::styled(
            " · deltaLink ✓, may be incomplete ($top known issue)",
            t.warning,
        ));
    } else if r.delta_link.is_some() {
        spans.push(Span::styled(" · complete, deltaLink ✓", t.ok));
    } else if r.fetched().next().is_none() {
        spans.push(Span::styled(" · not started: its request failed", t.error));
    } else if r.pages.last().is_some_and(|p| p.failure.is_some()) {
        spans.push(Span::styled(" · stopped: the last request failed", t.error));
    } else {
        spans.push(Span::styled(" · in progress", t.pending));
    }
    Line::from(spans)
}

/// A failed request's row: its status and error code, its time and its request-id.
fn failure_line<'a>(p: &'a PageView, e: &'a ErrorView, selected: bool, t: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::raw(if selected { "▶ " } else { "  " }),
        Span::raw(format!("#{:<3} ", p.index)),
        Span::styled(format!("✗ {} ", failure_title(p, e)), t.error_strong),
        Span::raw(format!("{:>6} ms ", p.elapsed_ms)),
    ];
    spans.extend(retries_span(p, t));
    match &e.request_id {
        Some(id) => spans.push(Span::styled(
            format!("request-id {}", clipped(id, 64)),
            t.muted,
        )),
        None => spans.push(Span::styled(clipped(&e.message, LINE), t.muted)),
    }
    let line = Line::from(spans);
    if selected {
        line.style(t.selection)
    } else {
        line
    }
}

/// "2 retries, waited 1.5 s": the retries a request took and the wait before it (the request's
/// own time is shown apart); nothing when it took none.
fn retries_span(p: &PageView, t: &Theme) -> Option<Span<'static>> {
    (p.retries > 0).then(|| {
        let waited = if p.waited_ms > 0 {
            format!(", waited {:.1} s", p.waited_ms as f64 / 1000.0)
        } else {
            String::new()
        };
        Span::styled(
            format!(
                "{} {}{waited} ",
                p.retries,
                if p.retries == 1 { "retry" } else { "retries" },
            ),
            t.warning,
        )
    })
}

fn page_line<'a>(p: &'a PageView, selected: bool, width: usize, t: &Theme) -> Line<'a> {
    if let Some(e) = &p.failure {
        return failure_line(p, e, selected, t);
    }
    let status_style = if (200..300).contains(&p.status) {
        t.ok
    } else {
        t.error
    };
    let mut spans = vec![
        Span::raw(if selected { "▶ " } else { "  " }),
        Span::raw(format!("#{:<3} ", p.index)),
        Span::styled(format!("{} ", p.status), status_style),
        Span::raw(format!("{:>5} items ", p.item_count)),
        Span::raw(format!("{:>9} ", human_bytes_u64(p.bytes))),
        Span::raw(format!("{:>6} ms ", p.elapsed_ms)),
    ];
    spans.extend(retries_span(p, t));
    if p.empty {
        spans.push(Span::styled("empty ", t.flag));
    }
    if !p.warnings.is_empty() {
        spans.push(Span::styled(
            format!("⚠ {} ", plural(p.warnings.len(), "warning", "warnings")),
            t.warning,
        ));
    }
    let link = match (&p.next_link, &p.delta_link) {
        (_, Some(d)) => Some(("deltaLink ", t.delta_link, d)),
        (Some(n), None) => Some(("nextLink ", t.next_link, n)),
        (None, None) => None,
    };
    match link {
        Some((label, style, link)) => {
            spans.push(Span::styled(label, style));
            // Every link of a round has the same root and path: what tells them apart is the
            // query (the state token), so that is what the row shows, cut with '…' at the
            // pane's edge (L / D copy the whole link; the JSON pane shows it).
            let shown = link.split_once('?').map_or(link.as_str(), |(_, q)| q);
            let used: usize = spans.iter().map(Span::width).sum();
            let room = width.saturating_sub(used + 1).max(1);
            let text = ellipsize(&clipped(shown, LINE), room);
            spans.push(Span::styled(format!("?{text}"), t.muted));
        }
        None => spans.push(Span::styled("no link", t.error)),
    }
    let line = Line::from(spans);
    if selected {
        line.style(t.selection)
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
            lines.push(round_header(r, ri < m.kept_rounds, &m.theme));
        }
        idx += 1;
        if lines.len() >= h {
            break;
        }
        for (pi, p) in r.pages.iter().enumerate() {
            if idx >= offset {
                lines.push(page_line(
                    p,
                    ri == m.sel_round && pi == m.sel_page,
                    usize::from(area.width),
                    &m.theme,
                ));
            }
            idx += 1;
            if lines.len() >= h {
                break 'outer;
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn marker(row: &ShownRow<'_>, t: &Theme) -> (String, Style) {
    if row.slice() {
        // A large group's next members: expected, not a duplicate.
        return ("slice".into(), t.slice);
    }
    if row.new_object() {
        return ("new".into(), t.added);
    }
    if row.restored() {
        return ("restored".into(), t.restored);
    }
    let mut text = String::new();
    let mut style = Style::new();
    if let Some(reason) = row.removed() {
        text.push_str(&format!("✗ {reason}"));
        style = t.removed;
    }
    if row.duplicate() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str("dup");
        if row.removed().is_none() {
            style = t.duplicate;
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
    let t = &m.theme;
    let header = Row::new(header).style(t.table_header);
    let shown: Vec<ShownRow<'_>> = visible.iter().map(ObjectRow::shown).collect();
    let rows: Vec<Row> = shown
        .iter()
        .enumerate()
        .map(|(k, row)| {
            let (mark, mark_style) = marker(row, t);
            let mut cells = vec![
                Cell::from(Span::styled(mark, mark_style)),
                Cell::from(cell_text(row.id())),
            ];
            for c in columns {
                let cell = match row.cell(c) {
                    Some(v) if minimal && row.changed(c) => {
                        Cell::from(Span::styled(format!("*{v}"), t.changed))
                    }
                    Some(v) => Cell::from(v),
                    None => Cell::from(Span::styled("·", t.muted)),
                };
                cells.push(cell);
            }
            let mut r = Row::new(cells);
            if row.removed().is_some() {
                r = r.style(t.removed_row);
            }
            if start + k == m.sel_row && m.focus == Focus::Results {
                r = r.style(t.selection);
            } else if start + k == m.sel_row {
                r = r.style(t.selection_unfocused);
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
                t.muted,
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
mod tests {
    use super::{marker, page_line};
    use crate::tui::theme::Theme;
    use crate::tui::view::{ObjectRow, PageView};

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
            let t = Theme::dark();
            assert_eq!(
                row.marker_width(),
                marker(&row, &t).0.chars().count(),
                "{json} {dup}"
            );
            let slice = ObjectRow::from_json(json, false, dup).as_slice();
            let slice = slice.shown();
            assert_eq!(slice.marker_width(), marker(&slice, &t).0.chars().count());
        }
    }

    #[test]
    fn a_page_row_shows_its_links_query_cut_with_an_ellipsis_at_the_edge() {
        let p = PageView {
            index: 2,
            status: 200,
            next_link: Some(format!(
                "https://graph.microsoft.com/v1.0/contacts/delta?$skiptoken={}",
                "A".repeat(300)
            )),
            ..Default::default()
        };
        let t = Theme::dark();
        for width in [60, 100, 160] {
            let line = page_line(&p, false, width, &t);
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(line.width() <= width, "{width}: {text}");
            assert!(text.contains("nextLink ?$skipt"), "{text}");
            assert!(text.ends_with('…'), "{text}");
            assert!(!text.contains("graph.microsoft.com"), "{text}");
        }
        // A link that fits is shown whole.
        let short = PageView {
            delta_link: Some("https://g/v1.0/contacts/delta?$deltatoken=x1".into()),
            ..Default::default()
        };
        let text: String = page_line(&short, false, 160, &t)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert!(text.ends_with("deltaLink ?$deltatoken=x1"), "{text}");
    }
}
