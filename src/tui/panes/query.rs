//! The query builder: resource, API version, parameters, `$select` checklist, minimal toggle,
//! id filter editor, `$top`, "sync from now", and the exact first request it makes.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::text::one_line;
use crate::tui::app::{Focus, LineTarget, Mode, Model, QueryField};
use crate::tui::keymap::{Action, Context};
use crate::tui::theme::Theme;
use crate::tui::ui::{ellipsize, pane_block};
use crate::tui::view::wrap_spans;
use crate::tui::view::{LINE, MAX_IDS, clipped, redact_header};

const LABEL: usize = 14;
/// Columns of an object id (a GUID).
const GUID_WIDTH: u16 = 36;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let focused = m.focus == Focus::Query;
    let t = &m.theme;
    let mut title = vec![Span::styled(" 1 Query ", t.heading)];
    if m.query.frozen {
        title.push(Span::styled("· frozen in the state token ", t.warning));
    }
    let block = pane_block(Line::from(title), focused, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let fields = m.query_fields();
    let has_ids = fields.contains(&QueryField::Ids);
    let preview = Preview::of(m, usize::from(inner.width));
    let h = inner.height;
    // The preview's border, the URL's first row and every header: never cut.
    let least = u16::try_from(2 + preview.headers.len()).unwrap_or(u16::MAX);
    let wanted = u16::try_from(1 + preview.rows_wanted()).unwrap_or(u16::MAX);
    let (ids_h, preview_h) = if has_ids && m.mode == Mode::EditIds {
        // The editor has the keyboard: it comes first, with three lines at least.
        let ids_h = 10.min(h.saturating_sub(least)).max(5.min(h));
        (ids_h, wanted.min(h - ids_h))
    } else {
        let preview_h = wanted.min((h / 2).max(least)).min(h.saturating_sub(1));
        let ids_h = if has_ids { 5.min(h / 4) } else { 0 };
        // The list keeps a row for the cursor.
        (ids_h.min(h.saturating_sub(preview_h + 1)), preview_h)
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
        let (lines, cut) = preview.lines(usize::from(prev.height.saturating_sub(1)));
        let mut title = if m.query.frozen {
            // The pane's title says the options are frozen, and why.
            " first request (sent) ".to_owned()
        } else {
            " first request ".to_owned()
        };
        if cut && let Some(k) = m.keymap.key_for(Context::Global, Action::CopyCurl) {
            title.push_str(&format!("· the URL goes on: {k} copies it ",));
        }
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(t.border)
            .title(title);
        let body = block.inner(prev);
        frame.render_widget(block, prev);
        frame.render_widget(Paragraph::new(lines), body);
    }
}

fn label(s: &str, t: &Theme) -> Span<'static> {
    Span::styled(format!("{:<LABEL$}", ellipsize(s, LABEL - 1)), t.muted)
}

/// A row that switches an option on and off: its label, the check box, what it sends.
fn switch_row(name: &str, on: bool, sends: &'static str, t: &Theme) -> [Span<'static>; 3] {
    [
        label(name, t),
        Span::raw(check(on)),
        Span::styled(sends, t.muted),
    ]
}

fn check(on: bool) -> &'static str {
    if on { "[x] " } else { "[ ] " }
}

fn draw_fields(frame: &mut Frame, area: Rect, m: &Model, fields: &[QueryField], focused: bool) {
    let q = &m.query;
    let t = &m.theme;
    let editing = |t: LineTarget| match &m.mode {
        Mode::Line { target, input } if *target == t => Some(input.as_str()),
        _ => None,
    };
    let mut lines: Vec<Line> = Vec::with_capacity(fields.len() + 1);
    for (i, f) in fields.iter().enumerate() {
        let mut spans: Vec<Span> = Vec::with_capacity(4);
        match *f {
            QueryField::Resource => {
                spans.push(label("resource", t));
                match q.current() {
                    Some(_) if q.own_path().is_some() => {
                        spans.push(Span::styled("(your own path below)", t.muted))
                    }
                    Some(r) => {
                        spans.push(Span::styled(format!("◀ {} ▶", r.name), t.heading));
                        spans.push(Span::styled(
                            format!("  {} · {}", r.group, r.title),
                            t.muted,
                        ));
                    }
                    None => spans.push(Span::raw("(no resources)")),
                }
            }
            QueryField::Path => text_field(
                &mut spans,
                "own path",
                editing(LineTarget::Path),
                q.own_path().map(|p| one_line(p).into_owned()),
                (
                    format!(
                        "(none: the resource above; {} to type any delta path)",
                        m.keymap.key_label(Context::Query, Action::Activate)
                    ),
                    t.muted,
                ),
                t,
            ),
            QueryField::Types => text_field(
                &mut spans,
                "types",
                editing(LineTarget::Types),
                Some(one_line(q.types.trim()).into_owned()).filter(|v| !v.is_empty()),
                (
                    "(every type; e.g. user, group: $filter=isof(…))".to_owned(),
                    t.muted,
                ),
                t,
            ),
            QueryField::MaxPage => text_field(
                &mut spans,
                "page size",
                editing(LineTarget::MaxPage),
                q.max_page.map(|n| format!("Prefer: odata.maxpagesize={n}")),
                ("(server default)".to_owned(), Style::new()),
                t,
            ),
            QueryField::Api => {
                spans.push(label("api", t));
                spans.push(Span::raw(format!("◀ {} ▶", q.api)));
            }
            QueryField::Param(p) => {
                let Some(param) = q.params.get(p) else {
                    continue;
                };
                spans.push(label(&param.name, t));
                match editing(LineTarget::Param(p)) {
                    Some(input) => spans.push(edit_span(input, t)),
                    None if param.value.is_empty() => spans.push(Span::styled("(empty)", t.muted)),
                    None => spans.push(Span::raw(one_line(&param.value))),
                }
                if let Some(e) = &param.error {
                    spans.push(Span::styled(format!("  ✗ {}", one_line(e)), t.error));
                }
            }
            QueryField::Select(s) => {
                let Some((prop, on)) = q.select.items.get(s) else {
                    continue;
                };
                spans.push(label(if s == 0 { "$select" } else { "" }, t));
                spans.push(Span::raw(check(*on)));
                let known = q
                    .current()
                    .is_some_and(|r| r.known_properties.iter().any(|k| k == prop));
                let style = if known { Style::new() } else { t.flag };
                spans.push(Span::styled(one_line(prop), style));
                if q.current()
                    .is_some_and(|r| r.default_properties.iter().any(|k| k == prop))
                {
                    spans.push(Span::styled(" (default)", t.muted));
                }
            }
            QueryField::Minimal => {
                spans.extend(switch_row(
                    "minimal",
                    q.minimal,
                    "Prefer: return=minimal",
                    t,
                ));
            }
            QueryField::Ids => {
                let n = q.ids.iter().filter(|l| !l.trim().is_empty()).count();
                spans.push(label("id filter", t));
                let style = if n > MAX_IDS {
                    t.error_strong
                } else {
                    Style::new()
                };
                spans.push(Span::styled(format!("{n}/{MAX_IDS} ids"), style));
                if m.mode != Mode::EditIds {
                    spans.push(Span::styled(
                        format!(
                            "  ({} to edit, paste a list)",
                            m.keymap.key_label(Context::Query, Action::Activate)
                        ),
                        t.muted,
                    ));
                }
            }
            QueryField::Top => text_field(
                &mut spans,
                "$top",
                editing(LineTarget::Top),
                q.top.map(|n| n.to_string()),
                ("(server default)".to_owned(), Style::new()),
                t,
            ),
            QueryField::Latest => {
                let sends = q
                    .current()
                    .map_or("$deltatoken=latest", |r| r.latest_query.as_str());
                spans.extend([
                    label("sync from now", t),
                    Span::raw(check(q.latest)),
                    Span::styled(sends.to_owned(), t.muted),
                ]);
            }
        }
        let mut line = Line::from(spans);
        if focused && i == m.query_cursor && m.mode != Mode::EditIds {
            line = line.style(t.selection);
        }
        lines.push(line);
    }
    if let Some(input) = editing(LineTarget::NewField) {
        lines.push(Line::from(vec![label("new field", t), edit_span(input, t)]));
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

/// A one-line field's row: its label, then the input being typed, its value, or (without one)
/// the placeholder in its style.
fn text_field<'a>(
    spans: &mut Vec<Span<'a>>,
    name: &str,
    editing: Option<&str>,
    value: Option<String>,
    placeholder: (String, Style),
    t: &Theme,
) {
    spans.push(label(name, t));
    spans.push(match (editing, value) {
        (Some(input), _) => edit_span(input, t),
        (None, Some(v)) => Span::raw(v),
        (None, None) => Span::styled(placeholder.0, placeholder.1),
    });
}

fn edit_span(input: &str, t: &Theme) -> Span<'static> {
    Span::styled(format!("{input}▏"), t.input)
}

fn draw_ids(frame: &mut Frame, area: Rect, m: &Model) {
    let t = &m.theme;
    let lines = m.ids_editor.lines();
    let count = lines.iter().filter(|l| !l.trim().is_empty()).count();
    let editing = m.mode == Mode::EditIds;
    let over = count > MAX_IDS;
    let title = Line::from(vec![
        Span::raw(" ids "),
        Span::styled(
            format!("{count}/{MAX_IDS} "),
            if over { t.error_strong } else { t.ok },
        ),
        Span::styled(
            if editing {
                format!(
                    "· {}: done ",
                    m.keymap.key_label(Context::IdsEditor, Action::Back)
                )
            } else {
                String::new()
            },
            t.muted,
        ),
    ]);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if editing { t.border_editing } else { t.border })
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 4 || inner.height == 0 {
        return;
    }
    // A GUID (36 characters and the cursor) is shown whole: the marks get what is left.
    let marker_w = 16
        .min(inner.width / 3)
        .min(inner.width.saturating_sub(GUID_WIDTH + 1));
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
            None => Line::styled(" ✓", t.ok),
            Some(why) => Line::styled(format!(" ✗ {why}"), t.error),
        })
        .collect();
    frame.render_widget(Paragraph::new(marks_lines), marks);
}

/// The first request, wrapped at the pane's width: the problems, the URL, the headers.
struct Preview {
    problems: Vec<Vec<Line<'static>>>,
    url: Vec<Line<'static>>,
    headers: Vec<Line<'static>>,
    width: usize,
    /// The style of the '…' that ends a URL cut short.
    ellipsis: Style,
}

impl Preview {
    fn of(m: &Model, width: usize) -> Self {
        let q = &m.query;
        let t = &m.theme;
        // Rows enough for anything the pane can show (a 50-id filter is some 2,500 characters).
        let most = 200;
        let problems = q
            .problems
            .iter()
            .map(|p| {
                let (mark, style) = if p.is_error {
                    ("✗", t.error)
                } else {
                    ("!", t.warning)
                };
                let text = format!(
                    "{mark} {}: {}",
                    clipped(&p.field, LINE),
                    clipped(&p.message, LINE)
                );
                wrap_spans(&[Span::styled(text, style)], width, most)
            })
            .collect();
        let url = match &q.preview.url {
            Ok(url) => wrap_spans(
                &[
                    Span::styled("GET ", t.http_method),
                    Span::raw(one_line(url)),
                ],
                width,
                most,
            ),
            Err(why) => wrap_spans(
                &[Span::styled(format!("({})", one_line(why)), t.muted)],
                width,
                most,
            ),
        };
        let mut headers = vec![Line::styled("Authorization: Bearer ***", t.muted)];
        for (n, v) in &q.preview.headers {
            headers.extend(wrap_spans(
                &[Span::raw(
                    one_line(&format!("{n}: {}", redact_header(n, v))).into_owned(),
                )],
                width,
                3,
            ));
        }
        Self {
            problems,
            url,
            headers,
            width,
            ellipsis: t.warning,
        }
    }

    fn rows_wanted(&self) -> usize {
        self.problems.iter().map(Vec::len).sum::<usize>() + self.url.len() + self.headers.len()
    }

    /// At most `rows` rows: every header, the URL's first row, the problems (first rows
    /// first), then the rest of the URL; a URL cut short ends in '…' (and says so: true).
    fn lines(&self, rows: usize) -> (Vec<Line<'static>>, bool) {
        let mut left = rows.saturating_sub(self.headers.len() + 1);
        let mut problems = Vec::new();
        for p in &self.problems {
            let n = p.len().min(left);
            problems.extend(p.iter().take(n).cloned());
            left -= n;
        }
        let url_rows = (1 + left).min(self.url.len());
        let mut out = problems;
        out.extend(self.url.iter().take(url_rows).cloned());
        let cut = url_rows < self.url.len();
        if cut && let Some(last) = out.last_mut() {
            if last.width() >= self.width
                && let Some(span) = last.spans.last_mut()
            {
                let mut text = span.content.to_string();
                text.pop();
                span.content = text.into();
            }
            last.spans.push(Span::styled("…", self.ellipsis));
        }
        out.extend(self.headers.iter().cloned());
        out.truncate(rows);
        (out, cut)
    }
}
