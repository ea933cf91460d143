//! The status bar: fetch state (spinner, Retry-After countdown, error), the notice, key hints.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::text::one_line;
use crate::tui::app::{Mode, Model, NoticeKind};
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{FetchState, LINE, SignInState, clipped};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The sign-in's state, when it is not simply signed in.
fn sign_in_spans(m: &Model) -> Option<Span<'_>> {
    match &m.sign_in {
        SignInState::Active { .. } => None,
        SignInState::SignedOut | SignInState::Starting { .. } => Some(Span::styled(
            " not signed in ",
            Style::new().fg(Color::Black).bg(Color::Yellow),
        )),
        SignInState::Running { since, prompt, .. } => {
            let spin = SPINNER[m.spinner % SPINNER.len()];
            let text = if prompt.is_some() {
                format!(" {spin} waiting for the device-code sign-in ")
            } else {
                let secs = m.now.saturating_duration_since(*since).as_secs_f64();
                format!(" {spin} signing in… {secs:.0}s ")
            };
            Some(Span::styled(
                text,
                Style::new().fg(Color::Black).bg(Color::Cyan),
            ))
        }
        SignInState::Failed { previous: None, .. } => Some(Span::styled(
            " ✗ not signed in ",
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        )),
        SignInState::Failed { .. } => Some(Span::styled(
            " ! sign-in failed ",
            Style::new().fg(Color::Black).bg(Color::Yellow),
        )),
    }
}

pub fn state_spans(m: &Model) -> Vec<Span<'_>> {
    let mut spans: Vec<Span<'_>> = sign_in_spans(m).into_iter().collect();
    spans.extend(fetch_spans(m));
    spans
}

fn fetch_spans(m: &Model) -> Vec<Span<'_>> {
    match &m.fetch.state {
        FetchState::Idle => vec![Span::styled(" idle ", Style::new().fg(Color::DarkGray))],
        FetchState::Fetching {
            page,
            since,
            follow,
        } => {
            let secs = m.now.saturating_duration_since(*since).as_secs_f64();
            vec![Span::styled(
                format!(
                    " {} fetching page {page}{} {secs:.1}s ",
                    SPINNER[m.spinner % SPINNER.len()],
                    if *follow {
                        " (following the round)"
                    } else {
                        ""
                    }
                ),
                Style::new().fg(Color::Cyan),
            )]
        }
        FetchState::Throttled { until, status, .. } => {
            let left = until.saturating_duration_since(m.now).as_secs_f64();
            vec![Span::styled(
                format!(" ⏳ {status} throttled: retrying in {left:.0}s (Retry-After) "),
                Style::new().fg(Color::Black).bg(Color::Yellow),
            )]
        }
        FetchState::RoundComplete { .. } => vec![Span::styled(
            " ✓ round complete ",
            Style::new().fg(Color::Black).bg(Color::Green),
        )],
        FetchState::Failed { error } => {
            let mut spans = vec![Span::styled(
                format!(
                    " ✗ {} {} ",
                    error
                        .status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "error".to_owned()),
                    one_line(error.code.as_deref().unwrap_or(""))
                ),
                Style::new()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            )];
            // The way out first: a long message must not push the resync key off the line.
            if error.needs_resync
                && let Some(k) = m.keymap.key_for(Context::Global, Action::Resync)
            {
                spans.push(Span::styled(
                    format!(" [{k}: full resync]"),
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
            }
            // A 403 is usually a missing permission: the token inspector says which.
            if error.status == Some(403)
                && let Some(k) = m.keymap.key_for(Context::Global, Action::InspectToken)
            {
                spans.push(Span::styled(
                    format!(" [{k}: inspect the token]"),
                    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                ));
            }
            spans.push(Span::raw(format!(" {}", clipped(&error.message, LINE))));
            if let Some(id) = &error.request_id {
                spans.push(Span::styled(
                    format!("  request-id {}", one_line(id)),
                    Style::new().fg(Color::DarkGray),
                ));
            }
            spans
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let [state, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let mut spans = state_spans(m);
    if let Some(notice) = &m.notice {
        let color = match notice.kind {
            NoticeKind::Info => Color::White,
            NoticeKind::Progress => Color::Cyan,
            NoticeKind::Warning => Color::Yellow,
            NoticeKind::Error => Color::LightRed,
        };
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            clipped(&notice.text, LINE),
            Style::new().fg(color),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), state);

    // After a 403 the token check explains, the second line says what it finds missing.
    if let FetchState::Failed { error } = &m.fetch.state
        && !error.token_problems.is_empty()
        && m.mode == Mode::Normal
    {
        let line = Line::from(vec![
            Span::styled(
                " token check ",
                Style::new()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" {}", one_line(&error.token_problems.join("; "))),
                Style::new().fg(Color::Yellow),
            ),
        ]);
        frame.render_widget(Paragraph::new(line), hints);
        return;
    }
    // After a failure, the second line says what to do (the key hints are in the help).
    if let FetchState::Failed { error } = &m.fetch.state
        && let Some(hint) = &error.hint
        && m.mode == Mode::Normal
    {
        let line = Line::from(vec![
            Span::styled(
                " what to do ",
                Style::new().fg(Color::Black).bg(Color::Yellow),
            ),
            Span::styled(
                format!(" {}", clipped(hint, LINE)),
                Style::new().fg(Color::Yellow),
            ),
        ]);
        frame.render_widget(Paragraph::new(line), hints);
        return;
    }
    // The keys of where the keyboard is (the device code's, an overlay's, a pane's).
    let pairs = m.keymap.hints(m.context());
    let mut hint_spans = Vec::with_capacity(pairs.len() * 2);
    for (k, what) in pairs {
        hint_spans.push(Span::styled(
            format!(" {k} "),
            Style::new().fg(Color::Black).bg(Color::DarkGray),
        ));
        hint_spans.push(Span::styled(
            format!(" {what} "),
            Style::new().fg(Color::Gray),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(hint_spans)), hints);
}
