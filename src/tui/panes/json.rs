//! Raw JSON of the selected page or object (prepared once), or the page's headers.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::text::one_line;
use crate::tui::app::{Focus, JsonTarget, LineTarget, Mode, Model, human_bytes_u64};
use crate::tui::ui::pane_block;
use crate::tui::view::cell_text;

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let focused = m.focus == Focus::Json;
    let t = &m.theme;
    let what = match (m.json_target, m.selected_page()) {
        _ if m.jq_shown.is_some() => format!("· {} ", m.jq_shown.as_deref().unwrap_or("")),
        (_, None) => String::new(),
        (JsonTarget::Page, Some(p)) => format!(
            "· page {} of round {} ({}) ",
            p.index,
            m.selected_round().map(|r| r.number).unwrap_or(0),
            human_bytes_u64(p.bytes)
        ),
        (JsonTarget::Object, Some(p)) => match p.rows.get(m.sel_row) {
            Some(r) => format!("· object {} ", cell_text(r.shown().id())),
            None => "· object ".to_owned(),
        },
        (JsonTarget::Headers, Some(p)) => format!("· headers of page {} ", p.index),
    };
    let title = Line::from(vec![
        Span::styled(" 3 Raw JSON ", t.heading),
        Span::styled(what, t.muted),
    ]);
    let block = pane_block(title, focused, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width == 0 {
        return;
    }
    let [body, bar] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    if m.selected_page().is_none() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "The selected page's JSON shows here.",
                t.muted,
            )),
            body,
        );
    } else {
        let lines = m
            .json
            .visible_lines(usize::from(body.height), usize::from(body.width), t);
        frame.render_widget(Paragraph::new(lines), body);
    }
    let bar_line = match &m.mode {
        Mode::Line {
            target: LineTarget::Search,
            input,
        } => Line::from(vec![
            Span::styled("/", t.prompt),
            Span::styled(format!("{input}▏"), t.input),
        ]),
        _ => {
            let total = m.json.doc.line_count();
            let pos = if total == 0 {
                String::new()
            } else {
                let shown = m
                    .json
                    .lines_shown(usize::from(body.height), usize::from(body.width));
                let end = (m.json.top + shown).min(total);
                format!("lines {}-{end} of {total}", m.json.top + 1)
            };
            let search = if m.json.query.is_empty() {
                String::new()
            } else if m.json.matches.is_empty() {
                format!("  no match for \"{}\"", one_line(&m.json.query))
            } else {
                format!(
                    "  match {}/{}{} for \"{}\"",
                    m.json.current + 1,
                    m.json.matches.len(),
                    if m.json.capped { "+" } else { "" },
                    one_line(&m.json.query)
                )
            };
            // Where the long lines are: wrapped, or from which column.
            let sideways = if m.json.wrap {
                "  wrapped".to_owned()
            } else if m.json.left > 0 {
                format!("  from column {}", m.json.left + 1)
            } else {
                String::new()
            };
            let mut spans = vec![Span::styled(format!("{pos}{sideways}{search}"), t.muted)];
            if m.json.pending.is_some() {
                spans.push(Span::styled("  formatting…", t.busy));
            }
            if let Some(note) = m.json.doc.note() {
                spans.push(Span::styled(format!("  {note}"), t.warning));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(bar_line), bar);
}
