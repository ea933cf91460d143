//! The query builder: resource, API version, parameters, `$select` checklist, minimal toggle,
//! id filter editor, `$top`, "sync from now", and the exact first request it makes.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::text::one_line;
use crate::tui::app::{Focus, LineTarget, Mode, Model, QueryField};
use crate::tui::ui::{ellipsize, pane_block};
use crate::tui::view::{MAX_IDS, redact_header};

const LABEL: usize = 14;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let focused = m.focus == Focus::Query;
    let mut title = vec![Span::styled(
        " 1 Query ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if m.query.frozen {
        title.push(Span::styled(
            "· frozen in the token ",
            Style::new().fg(Color::Yellow),
        ));
    }
    let block = pane_block(Line::from(title), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let fields = m.query_fields();
    let has_ids = fields.contains(&QueryField::Ids);
    let preview = preview_lines(m);
    let width = usize::from(inner.width.max(1));
    let wrapped: usize = preview
        .iter()
        .map(|l| l.width().max(1).div_ceil(width))
        .sum();
    let preview_h = u16::try_from(wrapped + 1)
        .unwrap_or(u16::MAX)
        .min(inner.height / 2);
    let ids_h = if has_ids {
        if m.mode == Mode::EditIds { 10 } else { 5 }.min(inner.height / 4)
    } else {
        0
    };
    let [list, ids, prev] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(ids_h),
        Constraint::Length(preview_h),
    ])
    .areas(inner);
    draw_fields(frame, list, m, &fields, focused);
    if has_ids && ids.height > 0 {
        draw_ids(frame, ids, m);
    }
    if prev.height > 0 {
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(Style::new().fg(Color::DarkGray))
            .title(if m.query.frozen {
                " first request (sent; options frozen in the token) "
            } else {
                " first request "
            });
        let body = block.inner(prev);
        frame.render_widget(block, prev);
        frame.render_widget(Paragraph::new(preview).wrap(Wrap { trim: false }), body);
    }
}

fn label(s: &str) -> Span<'static> {
    Span::styled(
        format!("{:<LABEL$}", ellipsize(s, LABEL - 1)),
        Style::new().fg(Color::DarkGray),
    )
}

/// A row that switches an option on and off: its label, the check box, what it sends.
fn switch_row(name: &str, on: bool, sends: &'static str) -> [Span<'static>; 3] {
    [
        label(name),
        Span::raw(check(on)),
        Span::styled(sends, Style::new().fg(Color::DarkGray)),
    ]
}

fn check(on: bool) -> &'static str {
    if on { "[x] " } else { "[ ] " }
}

fn draw_fields(frame: &mut Frame, area: Rect, m: &Model, fields: &[QueryField], focused: bool) {
    let q = &m.query;
    let editing = |t: LineTarget| match &m.mode {
        Mode::Line { target, input } if *target == t => Some(input.as_str()),
        _ => None,
    };
    let mut lines: Vec<Line> = Vec::with_capacity(fields.len() + 1);
    for (i, f) in fields.iter().enumerate() {
        let mut spans: Vec<Span> = Vec::with_capacity(4);
        match *f {
            QueryField::Resource => {
                spans.push(label("resource"));
                match q.current() {
                    Some(r) => {
                        spans.push(Span::styled(
                            format!("◀ {} ▶", r.name),
                            Style::new().add_modifier(Modifier::BOLD),
                        ));
                        spans.push(Span::styled(
                            format!("  {}", r.title),
                            Style::new().fg(Color::DarkGray),
                        ));
                    }
                    None => spans.push(Span::raw("(no resources)")),
                }
            }
            QueryField::Api => {
                spans.push(label("api"));
                spans.push(Span::raw(format!("◀ {} ▶", q.api)));
            }
            QueryField::Param(p) => {
                let Some(param) = q.params.get(p) else {
                    continue;
                };
                spans.push(label(&param.name));
                match editing(LineTarget::Param(p)) {
                    Some(input) => spans.push(edit_span(input)),
                    None if param.value.is_empty() => {
                        spans.push(Span::styled("(empty)", Style::new().fg(Color::DarkGray)))
                    }
                    None => spans.push(Span::raw(one_line(&param.value))),
                }
                if let Some(e) = &param.error {
                    spans.push(Span::styled(
                        format!("  ✗ {}", one_line(e)),
                        Style::new().fg(Color::Red),
                    ));
                }
            }
            QueryField::Select(s) => {
                let Some((prop, on)) = q.select.items.get(s) else {
                    continue;
                };
                spans.push(label(if s == 0 { "$select" } else { "" }));
                spans.push(Span::raw(check(*on)));
                let known = q
                    .current()
                    .is_some_and(|r| r.known_properties.iter().any(|k| k == prop));
                let style = if known {
                    Style::new()
                } else {
                    Style::new().fg(Color::Magenta)
                };
                spans.push(Span::styled(one_line(prop), style));
                if q.current()
                    .is_some_and(|r| r.default_properties.iter().any(|k| k == prop))
                {
                    spans.push(Span::styled(" (default)", Style::new().fg(Color::DarkGray)));
                }
            }
            QueryField::Minimal => {
                spans.extend(switch_row("minimal", q.minimal, "Prefer: return=minimal"));
            }
            QueryField::Ids => {
                let n = q.ids.iter().filter(|l| !l.trim().is_empty()).count();
                spans.push(label("id filter"));
                let style = if n > MAX_IDS {
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
                } else {
                    Style::new()
                };
                spans.push(Span::styled(format!("{n}/{MAX_IDS} ids"), style));
                if m.mode != Mode::EditIds {
                    spans.push(Span::styled(
                        "  (enter to edit, paste a list)",
                        Style::new().fg(Color::DarkGray),
                    ));
                }
            }
            QueryField::Top => {
                spans.push(label("$top"));
                match editing(LineTarget::Top) {
                    Some(input) => spans.push(edit_span(input)),
                    None => spans.push(Span::raw(
                        q.top
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "(server default)".to_owned()),
                    )),
                }
            }
            QueryField::Latest => {
                spans.extend(switch_row("sync from now", q.latest, "$deltatoken=latest"));
            }
        }
        let mut line = Line::from(spans);
        if focused && i == m.query_cursor && m.mode != Mode::EditIds {
            line = line.style(Style::new().bg(Color::Rgb(40, 44, 60)));
        }
        lines.push(line);
    }
    if let Some(input) = editing(LineTarget::NewField) {
        lines.push(Line::from(vec![label("new field"), edit_span(input)]));
    }
    // Keep the cursor row in view.
    let h = usize::from(area.height);
    let offset = if m.query_cursor >= h {
        m.query_cursor + 1 - h
    } else {
        0
    };
    let visible: Vec<Line> = lines.into_iter().skip(offset).take(h).collect();
    frame.render_widget(Paragraph::new(visible), area);
}

fn edit_span(input: &str) -> Span<'static> {
    Span::styled(
        format!("{input}▏"),
        Style::new().fg(Color::Black).bg(Color::White),
    )
}

fn draw_ids(frame: &mut Frame, area: Rect, m: &Model) {
    let lines = m.ids_editor.lines();
    let count = lines.iter().filter(|l| !l.trim().is_empty()).count();
    let editing = m.mode == Mode::EditIds;
    let over = count > MAX_IDS;
    let title = Line::from(vec![
        Span::raw(" ids "),
        Span::styled(
            format!("{count}/{MAX_IDS} "),
            if over {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new().fg(Color::Green)
            },
        ),
        Span::styled(
            if editing { "· esc: done " } else { "" },
            Style::new().fg(Color::DarkGray),
        ),
    ]);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if editing {
            Style::new().fg(Color::Yellow)
        } else {
            Style::new().fg(Color::DarkGray)
        })
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 4 || inner.height == 0 {
        return;
    }
    let marker_w = 16.min(inner.width / 3);
    let [text, marks] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(marker_w)]).areas(inner);
    frame.render_widget(&m.ids_editor, text);
    let problems = &m.ids_check.lines;
    let top = usize::from(m.ids_editor.scroll_offset().0);
    let marks_lines: Vec<Line> = problems
        .iter()
        .zip(lines)
        .skip(top)
        .take(usize::from(marks.height))
        .map(|(p, l)| match p {
            _ if l.trim().is_empty() => Line::raw(""),
            None => Line::styled(" ✓", Style::new().fg(Color::Green)),
            Some(why) => Line::styled(format!(" ✗ {why}"), Style::new().fg(Color::Red)),
        })
        .collect();
    frame.render_widget(Paragraph::new(marks_lines), marks);
}

fn preview_lines(m: &Model) -> Vec<Line<'_>> {
    let q = &m.query;
    let mut out = Vec::new();
    // Problems first: the URL wraps and may be cut in a short pane.
    for p in &q.problems {
        let (mark, color) = if p.is_error {
            ("✗", Color::Red)
        } else {
            ("!", Color::Yellow)
        };
        out.push(Line::styled(
            format!("{mark} {}: {}", one_line(&p.field), one_line(&p.message)),
            Style::new().fg(color),
        ));
    }
    match &q.preview.url {
        Ok(url) => out.push(Line::from(vec![
            Span::styled(
                "GET ",
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            ),
            Span::raw(one_line(url)),
        ])),
        Err(why) => out.push(Line::styled(
            format!("({})", one_line(why)),
            Style::new().fg(Color::DarkGray),
        )),
    }
    out.push(Line::styled(
        "Authorization: Bearer ***",
        Style::new().fg(Color::DarkGray),
    ));
    for (n, v) in &q.preview.headers {
        out.push(Line::raw(
            one_line(&format!("{n}: {}", redact_header(n, v))).into_owned(),
        ));
    }
    out
}
