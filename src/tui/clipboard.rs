//! Copying text, first way that works: the system clipboard (one arboard instance for the whole
//! session, since on X11 the text vanishes with its owner) when there is a display; inside tmux,
//! tmux's own buffer (`tmux load-buffer -w -`); else OSC 52 through the terminal (works over SSH).
//!
//! Inside tmux an application's OSC 52 reaches nothing with tmux's default settings
//! (`set-clipboard external` drops it, `allow-passthrough off` drops the wrapped form), and
//! nothing says so. `tmux load-buffer` answers with an exit status, and with `-w` (tmux 3.2 and
//! later) tmux itself sends the text on to the attached terminal's clipboard.
//!
//! The copied text (it may be a token) never goes into a message or a log.
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// How a copy went, as far as this process can know. Its `Display` follows "via" in the status
/// bar, so it says what was done and, when nothing confirmed the copy, what it depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyMethod {
    /// The system clipboard (arboard), which accepted the text.
    System,
    /// tmux's paste buffer, confirmed by `tmux load-buffer`'s exit status. `forwarded`: `-w` was
    /// accepted, so tmux also sent the text to the attached terminal as OSC 52.
    TmuxBuffer { forwarded: bool },
    /// An OSC 52 sequence written to the terminal; nothing confirms that it set a clipboard.
    /// `tmux`: inside tmux, after `tmux load-buffer` failed (sent both plain, for
    /// `set-clipboard on`, and wrapped in tmux's passthrough, for `allow-passthrough on`).
    Osc52 { tmux: bool },
}

impl fmt::Display for CopyMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Most important first: the status bar cuts a long line at the terminal's edge.
        f.write_str(match self {
            CopyMethod::System => "the system clipboard",
            CopyMethod::TmuxBuffer { forwarded: true } => {
                "tmux's buffer (prefix ] pastes); tmux passes it to your terminal's clipboard if \
                 the terminal allows OSC 52"
            }
            CopyMethod::TmuxBuffer { forwarded: false } => {
                "tmux's buffer only (prefix ] pastes): this tmux refused load-buffer -w (tmux \
                 3.2+), so not to your terminal's clipboard"
            }
            CopyMethod::Osc52 { tmux: false } => {
                "OSC 52, unconfirmed: sets the clipboard only if your terminal allows OSC 52"
            }
            CopyMethod::Osc52 { tmux: true } => {
                "OSC 52 through tmux, unconfirmed (tmux load-buffer failed): needs tmux's \
                 set-clipboard on or allow-passthrough on, and your terminal allowing OSC 52"
            }
        })
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

/// The tmux server the explorer runs in, reached with the `tmux` command.
#[derive(Clone, Debug)]
pub struct TmuxServer {
    /// `$TMUX` as given ("socket path,server pid,session"): the tmux client finds the server
    /// through it, so the copy goes to the server this process runs in, not a default one.
    env: OsString,
    /// `$TMUX_PANE`, from which tmux picks the client to send the text on to (`-w`).
    pane: Option<OsString>,
    program: OsString,
    /// Arguments before tmux's own (tests stand a shell script in for tmux).
    leading_args: Vec<OsString>,
    timeout: Duration,
}

/// Why `tmux load-buffer` did not take the text.
#[derive(Debug)]
enum TmuxFailure {
    /// tmux could not be started (not installed, not executable) or waited for.
    Run(std::io::Error),
    /// tmux answered with a failure (no server, unknown flag -w, ...).
    Exit { status: ExitStatus, stderr: String },
    /// No answer before the deadline: tmux was killed.
    TimedOut(Duration),
}

impl fmt::Display for TmuxFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TmuxFailure::Run(e) => write!(f, "could not run tmux: {e}"),
            TmuxFailure::Exit { status, stderr } if stderr.is_empty() => write!(f, "{status}"),
            TmuxFailure::Exit { status, stderr } => write!(f, "{status}: {stderr}"),
            TmuxFailure::TimedOut(t) => write!(f, "no answer within {t:?}, killed"),
        }
    }
}

impl TmuxServer {
    /// The copy runs on the UI thread: a tmux that does not answer (a stopped server) may hold
    /// the screen this long, no longer. A working tmux answers in milliseconds.
    pub const TIMEOUT: Duration = Duration::from_secs(1);

    /// The server named by `$TMUX`, when it is set (this process runs inside tmux).
    pub fn from_env() -> Option<Self> {
        let env = std::env::var_os("TMUX").filter(|v| !v.is_empty())?;
        let mut server = Self::new(env);
        server.pane = std::env::var_os("TMUX_PANE").filter(|v| !v.is_empty());
        Some(server)
    }

    /// The server named by `tmux_env`, a value of `$TMUX` (`tmux display -p
    /// '#{socket_path},#{pid},0'` gives one).
    pub fn new(tmux_env: impl Into<OsString>) -> Self {
        Self {
            env: tmux_env.into(),
            pane: None,
            program: "tmux".into(),
            leading_args: Vec::new(),
            timeout: Self::TIMEOUT,
        }
    }

    /// How long all tmux commands of one copy may take together.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs `program leading_args…` in place of `tmux` (tests: a shell script that acts as a
    /// tmux would).
    #[cfg(test)]
    fn with_command(mut self, program: &str, leading_args: &[&str]) -> Self {
        self.program = program.into();
        self.leading_args = leading_args.iter().map(OsString::from).collect();
        self
    }

    /// Puts `text` into tmux's paste buffer: `load-buffer -w -` (also to the terminal's
    /// clipboard), else, as tmux before 3.2 has no `-w`, `load-buffer -`. `Ok(forwarded)`.
    fn load_buffer(&self, text: &str) -> Result<bool, TmuxFailure> {
        let deadline = Instant::now() + self.timeout;
        match self.run(&["load-buffer", "-w", "-"], text, deadline) {
            Ok(()) => Ok(true),
            // Only a refusal is worth a second try: a tmux that cannot be run or does not answer
            // would fail the same way again.
            Err(TmuxFailure::Exit { status, stderr }) => {
                tracing::info!(
                    "tmux load-buffer -w failed ({status}: {stderr}); trying without -w"
                );
                self.run(&["load-buffer", "-"], text, deadline)
                    .map(|()| false)
            }
            Err(e) => Err(e),
        }
    }

    /// Runs tmux with `args` and `text` on its standard input, without a shell, until
    /// `deadline` at the latest.
    fn run(&self, args: &[&str], text: &str, deadline: Instant) -> Result<(), TmuxFailure> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.leading_args)
            .args(args)
            .env("TMUX", &self.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match &self.pane {
            Some(pane) => cmd.env("TMUX_PANE", pane),
            // A pane of another server (this process's own, in tests) would mislead tmux.
            None => cmd.env_remove("TMUX_PANE"),
        };
        let mut child = cmd.spawn().map_err(TmuxFailure::Run)?;
        // Writing the input and reading the errors happen on a thread of their own: a tmux that
        // reads nothing must not block this one past the deadline (the thread ends when tmux
        // exits or is killed: its pipes close).
        let stdin = child.stdin.take();
        let stderr = child.stderr.take();
        let input = text.as_bytes().to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let helper = std::thread::Builder::new()
            .name("tmux-load-buffer".into())
            .spawn(move || {
                if let Some(mut stdin) = stdin {
                    // (dropped at the end of this block: tmux reads to the end of its input)
                    let _ = stdin.write_all(&input);
                }
                let mut err = Vec::new();
                if let Some(mut stderr) = stderr {
                    let _ = stderr.read_to_end(&mut err);
                }
                let _ = tx.send(err);
            });
        if let Err(e) = helper {
            // Without its input tmux would load an empty buffer and succeed: stop it.
            let _ = child.kill();
            let _ = child.wait();
            return Err(TmuxFailure::Run(e));
        }
        // Polled: std has no wait with a timeout. Short pauses at first, since tmux answers fast.
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(TmuxFailure::Run(e));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TmuxFailure::TimedOut(self.timeout));
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        if status.success() {
            return Ok(());
        }
        let err = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        let err = String::from_utf8_lossy(&err);
        Err(TmuxFailure::Exit {
            status,
            stderr: crate::tui::view::clipped(err.trim(), 200).into_owned(),
        })
    }
}

/// The real clipboard.
pub struct SystemClipboard {
    system: Option<arboard::Clipboard>,
    /// Why the system clipboard is not used, for the message when nothing else works either.
    system_error: Option<String>,
    /// The terminal's output; `None` when it is not a terminal (then OSC 52 cannot work).
    terminal: Option<Box<dyn Write + Send>>,
    /// The tmux server this process runs in, if any.
    tmux: Option<TmuxServer>,
}

impl SystemClipboard {
    /// Decides from the environment: a display (DISPLAY / WAYLAND_DISPLAY on Unix other than
    /// macOS) → arboard, kept for the session; inside tmux (`$TMUX`) → tmux's buffer; otherwise,
    /// or if those fail, OSC 52 to stdout (if stdout is a terminal).
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
            tmux: TmuxServer::from_env(),
        }
    }

    /// Without the system clipboard: tmux's buffer when `tmux` is given, then OSC 52 to
    /// `terminal` (for tests, and for forcing the terminal's ways).
    pub fn without_system(
        terminal: Option<Box<dyn Write + Send>>,
        tmux: Option<TmuxServer>,
    ) -> Self {
        Self {
            system: None,
            system_error: Some("disabled".to_owned()),
            terminal,
            tmux,
        }
    }

    fn osc52(
        &mut self,
        text: &str,
        tmux_failure: Option<TmuxFailure>,
    ) -> Result<CopyMethod, ClipboardError> {
        let tmux = self.tmux.is_some();
        let Some(out) = self.terminal.as_mut() else {
            let why_not_system = self.system_error.clone().unwrap_or_default();
            let why_not_tmux = match tmux_failure {
                Some(e) => format!(", tmux load-buffer failed ({e})"),
                None => String::new(),
            };
            return Err(ClipboardError(format!(
                "no clipboard: system clipboard unavailable ({why_not_system}){why_not_tmux} \
                 and the output is not a terminal for OSC 52"
            )));
        };
        // Inside tmux, both forms: tmux takes the plain one with `set-clipboard on` and passes
        // the wrapped one with `allow-passthrough on`, and drops what it does not take.
        let mut seq = osc52_sequence(text, false);
        if tmux {
            seq.push_str(&osc52_sequence(text, true));
        }
        out.write_all(seq.as_bytes())
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
        let mut tmux_failure = None;
        // (an empty text would leave tmux's buffers as they are, and tmux would say yes)
        if let Some(tmux) = &self.tmux
            && !text.is_empty()
        {
            match tmux.load_buffer(text) {
                Ok(forwarded) => return Ok(CopyMethod::TmuxBuffer { forwarded }),
                Err(e) => {
                    tracing::warn!("tmux load-buffer failed ({e}); copying with OSC 52");
                    tmux_failure = Some(e);
                }
            }
        }
        self.osc52(text, tmux_failure)
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
    use std::path::PathBuf;
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

    const LINK: &str = "https://graph.microsoft.com/v1.0/contacts/delta?$deltatoken=abc123";

    /// A tmux stand-in: `sh -c SCRIPT tmux load-buffer …` (no script file: writing one and
    /// running it at once can fail with "text file busy" while other tests spawn processes).
    fn fake_tmux(script: &str) -> TmuxServer {
        TmuxServer::new("/tmp/fake-tmux-socket,1,0")
            .with_command("sh", &["-c", script, "tmux"])
            .with_timeout(Duration::from_secs(20))
    }

    /// A file of this test's own, which the fake tmux writes what it gets into.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("deltascope-clip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        path
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
        let mut cb = SystemClipboard::without_system(Some(Box::new(out.clone())), None);
        assert_eq!(cb.copy("hi").unwrap(), CopyMethod::Osc52 { tmux: false });
        assert_eq!(out.0.lock().unwrap().as_slice(), b"\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn no_terminal_no_display_is_an_error() {
        let mut cb = SystemClipboard {
            system: None,
            system_error: Some("no display".into()),
            terminal: None,
            tmux: None,
        };
        let err = cb.copy("x").unwrap_err();
        assert!(err.0.contains("no display"), "{err}");
    }

    #[test]
    fn inside_tmux_the_text_goes_to_load_buffer_w_on_stdin_with_tmux_env() {
        let out = scratch("w.out");
        let env = scratch("w.env");
        let script = format!(
            "[ \"$*\" = 'load-buffer -w -' ] || exit 9; printf %s \"$TMUX\" > '{}'; cat > '{}'",
            env.display(),
            out.display()
        );
        let term = Shared::default();
        let mut cb =
            SystemClipboard::without_system(Some(Box::new(term.clone())), Some(fake_tmux(&script)));
        assert_eq!(
            cb.copy(LINK).unwrap(),
            CopyMethod::TmuxBuffer { forwarded: true }
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), LINK);
        assert_eq!(
            std::fs::read_to_string(&env).unwrap(),
            "/tmp/fake-tmux-socket,1,0"
        );
        assert!(term.0.lock().unwrap().is_empty(), "OSC 52 written as well");
    }

    #[test]
    fn a_tmux_without_w_gets_load_buffer_without_it() {
        let out = scratch("plain.out");
        // What tmux 3.1 answers to -w.
        let script = format!(
            "if [ \"$2\" = -w ]; then echo 'command load-buffer: unknown flag -w' >&2; exit 1; fi; \
             [ \"$*\" = 'load-buffer -' ] || exit 9; cat > '{}'",
            out.display()
        );
        let mut cb = SystemClipboard::without_system(None, Some(fake_tmux(&script)));
        let method = cb.copy(LINK).unwrap();
        assert_eq!(method, CopyMethod::TmuxBuffer { forwarded: false });
        assert_eq!(std::fs::read_to_string(&out).unwrap(), LINK);
        assert!(
            method
                .to_string()
                .contains("not to your terminal's clipboard")
        );
    }

    #[test]
    fn a_failing_tmux_falls_back_to_osc52_in_both_forms_and_says_it_is_unconfirmed() {
        let term = Shared::default();
        let mut cb = SystemClipboard::without_system(
            Some(Box::new(term.clone())),
            Some(fake_tmux("echo 'no server running' >&2; exit 1")),
        );
        let method = cb.copy("hi").unwrap();
        assert_eq!(method, CopyMethod::Osc52 { tmux: true });
        assert_eq!(
            term.0.lock().unwrap().as_slice(),
            format!(
                "{}{}",
                osc52_sequence("hi", false),
                osc52_sequence("hi", true)
            )
            .as_bytes()
        );
        let said = method.to_string();
        assert!(
            said.contains("unconfirmed") && said.contains("load-buffer failed"),
            "{said}"
        );
    }

    #[test]
    fn a_missing_tmux_falls_back_and_the_error_says_why_without_the_text() {
        let server =
            TmuxServer::new("/tmp/x,1,0").with_command("/nonexistent/deltascope/tmux", &[]);
        let mut cb = SystemClipboard::without_system(None, Some(server));
        let err = cb.copy("secret-token-value").unwrap_err();
        assert!(err.0.contains("could not run tmux"), "{err}");
        assert!(!err.0.contains("secret-token-value"), "{err}");
    }

    #[test]
    fn a_tmux_that_does_not_answer_is_killed_at_the_deadline() {
        let term = Shared::default();
        // `exec`: the killed process is the one holding the pipes.
        let server = fake_tmux("exec sleep 60").with_timeout(Duration::from_millis(200));
        let mut cb = SystemClipboard::without_system(Some(Box::new(term.clone())), Some(server));
        let started = Instant::now();
        assert_eq!(cb.copy("hi").unwrap(), CopyMethod::Osc52 { tmux: true });
        // The deadline, not the minute the stand-in sleeps (the margin is for a loaded machine).
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn only_the_system_clipboard_and_tmux_buffer_claim_a_clipboard() {
        for method in [
            CopyMethod::Osc52 { tmux: false },
            CopyMethod::Osc52 { tmux: true },
        ] {
            assert!(method.to_string().contains("unconfirmed"), "{method}");
        }
        assert!(
            CopyMethod::TmuxBuffer { forwarded: true }
                .to_string()
                .contains("if the terminal allows OSC 52")
        );
    }
}
