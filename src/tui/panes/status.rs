//! The status bar: fetch state (spinner, Retry-After countdown, error), the notice, key hints.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
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
        SignInState::SignedOut | SignInState::Starting { .. } => {
            Some(Span::styled(" not signed in ", m.theme.badge_warning))
        }
        SignInState::Running { since, prompt, .. } => {
            let spin = SPINNER[m.spinner % SPINNER.len()];
            let text = if prompt.is_some() {
                format!(" {spin} waiting for the device-code sign-in ")
            } else {
                let secs = m.now.saturating_duration_since(*since).as_secs_f64();
                format!(" {spin} signing in… {secs:.0}s ")
            };
            Some(Span::styled(text, m.theme.badge_busy))
        }
        SignInState::Failed { previous: None, .. } => {
            Some(Span::styled(" ✗ not signed in ", m.theme.badge_error))
        }
        SignInState::Failed { .. } => {
            Some(Span::styled(" ! sign-in failed ", m.theme.badge_warning))
        }
    }
}

pub fn state_spans(m: &Model) -> Vec<Span<'_>> {
    let mut spans: Vec<Span<'_>> = sign_in_spans(m).into_iter().collect();
    spans.extend(fetch_spans(m));
    spans
}

fn fetch_spans(m: &Model) -> Vec<Span<'_>> {
    match &m.fetch.state {
        FetchState::Idle => vec![Span::styled(" idle ", m.theme.muted)],
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
                m.theme.busy,
            )]
        }
        FetchState::Throttled { until, status, .. } => {
            let left = until.saturating_duration_since(m.now).as_secs_f64();
            vec![Span::styled(
                format!(" ⏳ {status} throttled: retrying in {left:.0}s (Retry-After) "),
                m.theme.badge_warning,
            )]
        }
        FetchState::RoundComplete { .. } => {
            vec![Span::styled(" ✓ round complete ", m.theme.badge_ok)]
        }
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
                m.theme.badge_error,
            )];
            // The way out first: a long message must not push the resync key off the line.
            if error.needs_resync
                && let Some(k) = m.keymap.key_for(Context::Global, Action::Resync)
            {
                spans.push(Span::styled(
                    format!(" [{k}: full resync]"),
                    m.theme.action_hint,
                ));
            }
            // A 403 is usually a missing permission: the token inspector says which.
            if error.status == Some(403)
                && let Some(k) = m.keymap.key_for(Context::Global, Action::InspectToken)
            {
                spans.push(Span::styled(
                    format!(" [{k}: inspect the token]"),
                    m.theme.action_hint,
                ));
            }
            spans.push(Span::raw(format!(" {}", clipped(&error.message, LINE))));
            if let Some(id) = &error.request_id {
                spans.push(Span::styled(
                    format!("  request-id {}", one_line(id)),
                    m.theme.muted,
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
        let style = match notice.kind {
            NoticeKind::Info => m.theme.notice_info,
            NoticeKind::Progress => m.theme.notice_progress,
            NoticeKind::Warning => m.theme.notice_warning,
            NoticeKind::Error => m.theme.notice_error,
        };
        spans.push(Span::raw("  "));
        spans.push(Span::styled(clipped(&notice.text, LINE), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), state);

    // After a 403 the token check explains, the second line says what it finds missing.
    if let FetchState::Failed { error } = &m.fetch.state
        && !error.token_problems.is_empty()
        && m.mode == Mode::Normal
    {
        let line = Line::from(vec![
            Span::styled(" token check ", m.theme.badge_error),
            Span::styled(
                format!(" {}", one_line(&error.token_problems.join("; "))),
                m.theme.warning,
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
            Span::styled(" what to do ", m.theme.badge_warning),
            Span::styled(format!(" {}", clipped(hint, LINE)), m.theme.warning),
        ]);
        frame.render_widget(Paragraph::new(line), hints);
        return;
    }
    let pairs: Vec<(String, &str)> = match &m.mode {
        _ if m.device_code().is_some() => m.keymap.hints(Context::SignIn),
        Mode::Line { .. } => vec![
            ("enter".to_owned(), "confirm"),
            ("esc".to_owned(), "cancel"),
            ("ctrl-c".to_owned(), "quit"),
        ],
        Mode::Help => vec![("?/esc".to_owned(), "close help")],
        Mode::Token => vec![("esc".to_owned(), "close the token inspector")],
        _ => m.keymap.hints(m.context()),
    };
    let mut hint_spans = Vec::with_capacity(pairs.len() * 2);
    for (k, what) in pairs {
        hint_spans.push(Span::styled(format!(" {k} "), m.theme.key_badge));
        hint_spans.push(Span::styled(format!(" {what} "), m.theme.key_hint));
    }
    frame.render_widget(Paragraph::new(Line::from(hint_spans)), hints);
}
