//! The device-code overlay: the sign-in service's sentence, the code (bold, to be typed on
//! another device), the page, the time left, and the keys to copy the code or the URL or to
//! cancel. It closes by itself when the sign-in completes.
use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
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
        &m.theme,
    ));
    let t = &m.theme;
    let label = t.label;
    let left = prompt.expires_at.saturating_duration_since(m.now);
    let expiry = if left.is_zero() {
        Span::styled(
            "expired: the sign-in will fail; sign in again for a new code",
            t.error_strong,
        )
    } else {
        Span::raw(format!("in {}", countdown(left)))
    };
    let mut lines = vec![
        Line::styled(one_line(&prompt.message), t.quote),
        Line::raw(""),
        Line::from(vec![
            // The highlight's own space lines the code up with the values below.
            Span::styled("code     ", label),
            Span::styled(format!(" {} ", one_line(&prompt.code)), t.device_code),
        ]),
        Line::raw(""),
        Line::from(vec![
            Span::styled("page      ", label),
            Span::styled(one_line(&prompt.url), t.link),
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
            keys.push(Span::styled(format!(" {k} "), t.key_badge));
            keys.push(Span::raw(format!(" {what}   ")));
        }
    }
    lines.push(Line::from(keys));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "waiting for the sign-in on that page; this closes by itself when it is done",
        t.muted,
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
