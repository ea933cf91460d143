//! The device-code overlay: the sign-in service's sentence, the code (bold, to be typed on
//! another device), the page, the time left, and the keys to copy the code or the URL or to
//! cancel. It closes by itself when the sign-in completes.
use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::text::one_line;
use crate::tui::app::Model;
use crate::tui::keymap::{Action, Context};
use crate::tui::view::{DeviceCodeView, SignInState};

/// `14:32`, or `1:02:03` past an hour.
pub fn countdown(left: Duration) -> String {
    let s = left.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, prompt: &DeviceCodeView) {
    let (target, again) = match &m.sign_in {
        SignInState::Running {
            target, renewal, ..
        } => (
            one_line(&target.to_string()).into_owned(),
            if *renewal { " again" } else { "" },
        ),
        _ => (String::new(), ""),
    };
    let cancel = m
        .keymap
        .key_for(Context::SignIn, Action::CancelSignIn)
        .map(|k| format!("; {k} cancels"))
        .unwrap_or_default();
    let inner = super::padded(super::overlay(
        frame,
        area,
        area.width.saturating_sub(4).min(86),
        area.height.saturating_sub(2).min(15),
        &format!(" Sign in{again} with a device code ({target}{cancel}) "),
    ));
    let label = Style::new().fg(Color::Cyan);
    let left = prompt.expires_at.saturating_duration_since(m.now);
    let expiry = if left.is_zero() {
        Span::styled(
            "expired: the sign-in will fail; sign in again for a new code",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw(format!("in {}", countdown(left)))
    };
    let mut lines = vec![
        Line::styled(one_line(&prompt.message), Style::new().fg(Color::Gray)),
        Line::raw(""),
        Line::from(vec![
            // The highlight's own space lines the code up with the values below.
            Span::styled("code     ", label),
            Span::styled(
                format!(" {} ", one_line(&prompt.code)),
                Style::new()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::raw(""),
        Line::from(vec![
            Span::styled("page      ", label),
            Span::styled(
                one_line(&prompt.url),
                Style::new().add_modifier(Modifier::UNDERLINED),
            ),
        ]),
        Line::from(vec![Span::styled("expires   ", label), expiry]),
        Line::raw(""),
    ];
    let mut keys = Vec::new();
    for (ctx_action, what) in [
        (Action::CopyCode, "copy the code"),
        (Action::CopyUrl, "copy the URL"),
        (Action::CancelSignIn, "cancel the sign-in"),
    ] {
        if let Some(k) = m.keymap.key_for(Context::SignIn, ctx_action) {
            keys.push(Span::styled(
                format!(" {k} "),
                Style::new().fg(Color::Black).bg(Color::DarkGray),
            ));
            keys.push(Span::raw(format!(" {what}   ")));
        }
    }
    lines.push(Line::from(keys));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "waiting for the sign-in on that page; this closes by itself when it is done",
        Style::new().fg(Color::DarkGray),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
