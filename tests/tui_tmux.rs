//! Copies inside tmux, against a real tmux server of the test's own (`tmux -L <name> -f
//! /dev/null`: tmux's default settings, `set-clipboard external` and `allow-passthrough off`,
//! under which an application's OSC 52 reaches nothing). The clipboard code and then the real
//! binary, run inside that server, must leave the deltaLink in tmux's buffer (`show-buffer`),
//! and tmux must pass it on to the attached terminal as OSC 52.
//!
//! Skipped, with a message, where `tmux` is not installed.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Output};
use std::time::Duration;

use base64::Engine as _;
use deltascope::tui::clipboard::{Clipboard, CopyMethod, SystemClipboard, TmuxServer};
use portable_pty::CommandBuilder;
use support::pty::{Pty, find};

const ROWS: u16 = 45;
const COLS: u16 = 160;

/// What this process's environment says about a display, a tmux, a Graph root or a log file:
/// none of it may reach the tmux servers of these tests or the explorer inside them.
const OUTSIDE_ENV: [&str; 9] = [
    "TMUX",
    "TMUX_PANE",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DELTASCOPE_GRAPH_ROOT",
    "DELTASCOPE_TOKEN",
    "DELTASCOPE_LOG_FILE",
    "DELTASCOPE_TOKEN_FILE",
    "XDG_CONFIG_HOME",
];

/// A private tmux server, killed (by its socket name, nothing else) when dropped.
struct PrivateTmux {
    name: String,
    /// Its socket, which tmux leaves behind when killed.
    socket: Option<std::path::PathBuf>,
}

impl PrivateTmux {
    /// Whether tmux is installed; says so when it is not.
    fn available() -> bool {
        match Command::new("tmux").arg("-V").output() {
            Ok(out) if out.status.success() => true,
            _ => {
                eprintln!("skipped: `tmux` is not installed (or `tmux -V` fails)");
                false
            }
        }
    }

    /// Starts a server named after this process and `tag`, with one detached session `t` of
    /// COLS x ROWS running `command` (tmux's default shell command when `None`).
    fn start(tag: &str, home: &std::path::Path, command: Option<&str>) -> PrivateTmux {
        let mut server = PrivateTmux {
            name: format!("deltascope-test-{}-{tag}", std::process::id()),
            socket: None,
        };
        let (cols, rows) = (COLS.to_string(), ROWS.to_string());
        let mut args = vec![
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &cols,
            "-y",
            &rows,
        ];
        args.extend(command);
        // The server's global environment is this command's: what runs in its panes gets it.
        let mut cmd = server.command();
        cmd.args(&args)
            .env("HOME", home)
            .env("TERM", "xterm-256color");
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "tmux new-session: {}", text(&out));
        let socket = server.run(&["display-message", "-p", "#{socket_path}"]);
        server.socket = Some(socket.trim_end().into());
        server
    }

    /// `tmux -L <name>`, without this process's own tmux (a developer's) in its environment.
    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.name]);
        for var in OUTSIDE_ENV {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// The `$TMUX` a process inside this server's session would have.
    fn tmux_env(&self) -> String {
        self.run(&["display-message", "-p", "#{socket_path},#{pid},0"])
            .trim_end()
            .to_owned()
    }
}

impl Drop for PrivateTmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}; {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn home(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("deltascope-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_copy_inside_tmux_lands_in_tmux_s_buffer_under_default_settings() {
    if !PrivateTmux::available() {
        return;
    }
    let server = PrivateTmux::start("unit", &home("tmux-unit"), None);
    // The premise: tmux's default, under which an application's OSC 52 is dropped.
    assert_eq!(
        server.run(&["show-options", "-gv", "set-clipboard"]).trim(),
        "external"
    );
    let link = "https://graph.microsoft.com/v1.0/contacts/delta?$deltatoken=Zm9vYmFy-1234_abcd";
    // The margin is for a loaded machine: this test is about where the text goes.
    let tmux = TmuxServer::new(server.tmux_env()).with_timeout(Duration::from_secs(20));
    // No terminal: an OSC 52 fallback would be an error here, not a silent success.
    let mut clipboard = SystemClipboard::without_system(None, Some(tmux));
    let method = clipboard.copy(link).unwrap();
    assert_eq!(method, CopyMethod::TmuxBuffer { forwarded: true });
    assert_eq!(server.run(&["show-buffer"]), link);
}

/// A tmux client attached to `server`, in a pseudo-terminal that says it is an xterm (so tmux
/// takes it for a terminal that can set the clipboard with OSC 52).
fn attach(server: &PrivateTmux) -> Pty {
    let mut cmd = CommandBuilder::new("tmux");
    cmd.args(["-L", &server.name, "attach-session", "-t", "t"]);
    for var in OUTSIDE_ENV {
        cmd.env_remove(var);
    }
    cmd.env("TERM", "xterm-256color");
    Pty::spawn(cmd, ROWS, COLS)
}

/// The text of the first OSC 52 in `bytes` (`ESC ] 52 ; <selection> ; <base64> BEL|ST`).
fn osc52_text(bytes: &[u8]) -> Option<String> {
    let start = find(bytes, b"\x1b]52;")? + 5;
    let data = start + bytes[start..].iter().position(|&b| b == b';')? + 1;
    let len = bytes[data..].iter().position(|&b| b == 0x07 || b == 0x1b)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&bytes[data..data + len])
        .ok()?;
    String::from_utf8(decoded).ok()
}

#[test]
fn the_explorer_inside_tmux_copies_the_deltalink_into_tmux_and_tmux_passes_it_on() {
    if !PrivateTmux::available() {
        return;
    }
    let home = home("tmux-explorer");
    // One page of demo contacts: the first fetch ends the round with its deltaLink.
    let explorer = format!("'{}' --demo-contacts 5", env!("CARGO_BIN_EXE_deltascope"));
    let server = PrivateTmux::start("explorer", &home, Some(&explorer));
    let mut pty = attach(&server);

    pty.wait("the explorer", |s, _, _| {
        s.contains("demo tenant on the embedded emulator at http://127.0.0.1:")
    });
    pty.send("f");
    pty.wait("the end of the round", |s, _, _| {
        s.contains("round complete")
    });
    pty.send("D");
    let screen = pty.wait("the copy", |s, _, _| s.contains("copied deltaLink"));
    assert!(
        screen.contains("via tmux's buffer (prefix ] pastes)"),
        "{screen}"
    );

    let buffer = server.run(&["show-buffer"]);
    assert!(
        buffer.starts_with("http://127.0.0.1:") && buffer.contains("/delta?"),
        "tmux's buffer: {buffer:?}"
    );
    // tmux (not the explorer) sends it on to the terminal attached, despite set-clipboard
    // external: `load-buffer -w`.
    pty.wait("tmux's OSC 52 to the terminal", |_, b, _| {
        osc52_text(b).is_some()
    });
    let forwarded = osc52_text(&pty.out.0.lock().unwrap().bytes);
    assert_eq!(forwarded.as_deref(), Some(buffer.as_str()));
}
