//! Copying text: the system clipboard (one arboard instance for the whole session, since on X11
//! the text vanishes with its owner), else OSC 52 through the terminal (works over SSH).
use std::fmt;
use std::io::Write;

use base64::Engine as _;

/// How a copy reached the clipboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyMethod {
    /// The system clipboard (arboard).
    System,
    /// An OSC 52 escape sequence written to the terminal (wrapped for tmux when `tmux`).
    Osc52 { tmux: bool },
}

impl fmt::Display for CopyMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyMethod::System => f.write_str("the system clipboard"),
            CopyMethod::Osc52 { tmux: false } => f.write_str("OSC 52"),
            CopyMethod::Osc52 { tmux: true } => f.write_str("OSC 52 (tmux passthrough)"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipboardError(pub String);

impl fmt::Display for ClipboardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClipboardError {}

pub trait Clipboard {
    fn copy(&mut self, text: &str) -> Result<CopyMethod, ClipboardError>;
}

/// The OSC 52 sequence that sets the clipboard ("c") to `text`; for tmux, wrapped in its
/// passthrough DCS with inner ESCs doubled (tmux needs `allow-passthrough on`).
pub fn osc52_sequence(text: &str, tmux: bool) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let seq = format!("\x1b]52;c;{b64}\x07");
    if tmux {
        format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq
    }
}

/// The real clipboard.
pub struct SystemClipboard {
    system: Option<arboard::Clipboard>,
    /// Why the system clipboard is not used, for the message when OSC 52 fails too.
    system_error: Option<String>,
    /// The terminal's output; `None` when it is not a terminal (then OSC 52 cannot work).
    terminal: Option<Box<dyn Write + Send>>,
    tmux: bool,
}

impl SystemClipboard {
    /// Decides from the environment: a display (DISPLAY / WAYLAND_DISPLAY on Unix other than
    /// macOS) → arboard, kept for the session; otherwise, or if arboard fails, OSC 52 to stdout
    /// (if stdout is a terminal).
    pub fn from_env() -> Self {
        use std::io::IsTerminal;
        let has_display = if cfg!(any(target_os = "macos", target_os = "windows")) {
            true
        } else {
            std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
                || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
        };
        let (system, system_error) = if has_display {
            match arboard::Clipboard::new() {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(e.to_string())),
            }
        } else {
            (None, Some("no display".to_owned()))
        };
        let terminal: Option<Box<dyn Write + Send>> = if std::io::stdout().is_terminal() {
            Some(Box::new(std::io::stdout()))
        } else {
            None
        };
        Self {
            system,
            system_error,
            terminal,
            tmux: std::env::var_os("TMUX").is_some_and(|v| !v.is_empty()),
        }
    }

    /// OSC 52 only, to `out` (for tests and for forcing the terminal path).
    pub fn osc52_only(out: Box<dyn Write + Send>, tmux: bool) -> Self {
        Self {
            system: None,
            system_error: Some("disabled".to_owned()),
            terminal: Some(out),
            tmux,
        }
    }

    fn osc52(&mut self, text: &str) -> Result<CopyMethod, ClipboardError> {
        let tmux = self.tmux;
        let why_not_system = self.system_error.clone().unwrap_or_default();
        let Some(out) = self.terminal.as_mut() else {
            return Err(ClipboardError(format!(
                "no clipboard: system clipboard unavailable ({why_not_system}) and the output \
                 is not a terminal for OSC 52"
            )));
        };
        out.write_all(osc52_sequence(text, tmux).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| ClipboardError(format!("OSC 52 write failed: {e}")))?;
        Ok(CopyMethod::Osc52 { tmux })
    }
}

impl Clipboard for SystemClipboard {
    fn copy(&mut self, text: &str) -> Result<CopyMethod, ClipboardError> {
        if let Some(cb) = self.system.as_mut() {
            match cb.set_text(text) {
                Ok(()) => return Ok(CopyMethod::System),
                Err(e) => self.system_error = Some(e.to_string()),
            }
        }
        self.osc52(text)
    }
}

/// Keeps every copy, for tests.
#[derive(Clone, Debug, Default)]
pub struct RecordingClipboard {
    pub copies: Vec<String>,
    /// When set, every copy fails with this message.
    pub fail_with: Option<String>,
    /// The method reported for successful copies (default: OSC 52).
    pub method: Option<CopyMethod>,
}

impl Clipboard for RecordingClipboard {
    fn copy(&mut self, text: &str) -> Result<CopyMethod, ClipboardError> {
        if let Some(msg) = &self.fail_with {
            return Err(ClipboardError(msg.clone()));
        }
        self.copies.push(text.to_owned());
        Ok(self.method.unwrap_or(CopyMethod::Osc52 { tmux: false }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn osc52_plain_and_tmux() {
        assert_eq!(osc52_sequence("hi", false), "\x1b]52;c;aGk=\x07");
        assert_eq!(
            osc52_sequence("hi", true),
            "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"
        );
    }

    #[test]
    fn osc52_is_written_to_the_terminal() {
        let out = Shared::default();
        let mut cb = SystemClipboard::osc52_only(Box::new(out.clone()), false);
        assert_eq!(cb.copy("hi").unwrap(), CopyMethod::Osc52 { tmux: false });
        assert_eq!(out.0.lock().unwrap().as_slice(), b"\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn no_terminal_no_display_is_an_error() {
        let mut cb = SystemClipboard {
            system: None,
            system_error: Some("no display".into()),
            terminal: None,
            tmux: false,
        };
        let err = cb.copy("x").unwrap_err();
        assert!(err.0.contains("no display"), "{err}");
    }
}
