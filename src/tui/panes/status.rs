//! The status bar: fetch state (spinner, Retry-After countdown, error), the notice, key hints.
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{Mode, Model, NoticeKind};
use crate::tui::keymap::{Action, Context};
use crate::tui::view::wrap_spans;
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
    if let Some(Err(_)) = &m.recording {
        let why = m.keymap.key_label(Context::Global, Action::OpenSessions);
        spans.push(Span::styled(
            format!(" ✗ not recording ({why}: why) "),
            m.theme.badge_warning,
        ));
    }
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
                    clipped(error.code.as_deref().unwrap_or(""), LINE)
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
            // The request-id before the message: it must be read whole (support tickets).
            if let Some(id) = &error.request_id {
                spans.push(Span::styled(
                    format!(" request-id {} ", clipped(id, LINE)),
                    m.theme.quote,
                ));
            }
            spans.push(Span::raw(format!(" {}", clipped(&error.message, LINE))));
            spans
        }
    }
}

/// The most rows the status bar takes on a screen `screen_h` rows high: a long error, its
/// request-id and what to do wrap onto up to this many rows (a row for each part at least).
pub fn max_rows(screen_h: u16) -> usize {
    usize::from(screen_h / 3).clamp(2, 8)
}

/// The state line (sign-in, fetch, error with its request-id, the notice), unwrapped.
fn state_line(m: &Model) -> Vec<Span<'_>> {
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
    spans
}

/// After a failure the second part says what the token check finds missing, or what to do;
/// otherwise it is the key hints (`None` here).
fn failure_line(m: &Model) -> Option<Vec<Span<'_>>> {
    let FetchState::Failed { error } = &m.fetch.state else {
        return None;
    };
    if m.mode != Mode::Normal {
        return None;
    }
    // After a 403 the token check explains, the second line says what it finds missing.
    if !error.token_problems.is_empty() {
        return Some(vec![
            Span::styled(" token check ", m.theme.badge_error),
            Span::styled(
                format!(" {}", clipped(&error.token_problems.join("; "), LINE)),
                m.theme.warning,
            ),
        ]);
    }
    // After a failure, the second line says what to do (the key hints are in the help).
    let hint = error.hint.as_ref()?;
    Some(vec![
        Span::styled(" what to do ", m.theme.badge_warning),
        Span::styled(format!(" {}", clipped(hint, LINE)), m.theme.warning),
    ])
}

/// The status bar's rows at `width` with at most `max` of them: the state line wrapped, then
/// what to do wrapped (or the key hints, one row).
fn rows(m: &Model, width: usize, max: usize) -> (Vec<Line<'static>>, Option<Vec<Line<'static>>>) {
    let max = max.max(2);
    let failure = failure_line(m);
    // What to do keeps a row; the state line (with the request-id) comes first.
    let state = wrap_spans(&state_line(m), width, max - 1);
    let second = failure.map(|f| wrap_spans(&f, width, max - state.len()));
    (state, second)
}

/// Rows the status bar needs on `screen` (at least 2, at most [`max_rows`]).
pub fn height(m: &Model, screen: Rect) -> u16 {
    let (state, second) = rows(m, usize::from(screen.width), max_rows(screen.height));
    let n = state.len() + second.map_or(1, |s| s.len());
    u16::try_from(n).unwrap_or(2).max(2)
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model) {
    let (state, second) = rows(m, usize::from(area.width), usize::from(area.height));
    let state_h = u16::try_from(state.len()).unwrap_or(1);
    let [state_area, rest] =
        Layout::vertical([Constraint::Length(state_h), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(state), state_area);
    if let Some(second) = second {
        frame.render_widget(Paragraph::new(second), rest);
        return;
    }
    // The keys of where the keyboard is (the device code's, an overlay's, a pane's).
    let pairs = m.keymap.hints(m.context());
    let mut hint_spans = Vec::with_capacity(pairs.len() * 2);
    for (k, what) in pairs {
        hint_spans.push(Span::styled(format!(" {k} "), m.theme.key_badge));
        hint_spans.push(Span::styled(format!(" {what} "), m.theme.key_hint));
    }
    frame.render_widget(Paragraph::new(Line::from(hint_spans)), rest);
}
