//! A pseudo-terminal for the real binary (or a tmux client): its output is read by a thread into
//! a vt100 parser and kept raw; a test waits on the parsed screen (a condition variable signalled
//! on every chunk) with a deadline.
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// How long a wait lasts before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What the terminal received.
pub struct Output {
    pub bytes: Vec<u8>,
    pub parser: vt100::Parser,
    pub eof: bool,
}

pub struct Pty {
    pub out: Arc<(Mutex<Output>, Condvar)>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    /// Runs `cmd` in a new `rows`×`cols` pseudo-terminal.
    pub fn spawn(cmd: CommandBuilder, rows: u16, cols: u16) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let out = Arc::new((
            Mutex::new(Output {
                bytes: Vec::new(),
                parser: vt100::Parser::new(
                    NonZeroU16::new(rows).unwrap(),
                    NonZeroU16::new(cols).unwrap(),
                    0,
                ),
                eof: false,
            }),
            Condvar::new(),
        ));
        let shared = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = reader.read(&mut buf).unwrap_or(0);
                let (lock, cv) = &*shared;
                let mut o = lock.lock().unwrap();
                if n == 0 {
                    o.eof = true;
                    cv.notify_all();
                    return;
                }
                o.bytes.extend_from_slice(&buf[..n]);
                o.parser.process(&buf[..n]);
                cv.notify_all();
            }
        });
        Pty {
            out,
            child,
            writer,
            _master: pair.master,
        }
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until `pred` holds for the output (screen text, raw bytes, whether it ended);
    /// fails at the deadline, or at the end of the output if `pred` still does not hold.
    pub fn wait(&self, what: &str, pred: impl Fn(&str, &[u8], bool) -> bool) -> String {
        let (lock, cv) = &*self.out;
        let end = Instant::now() + DEADLINE;
        let mut o = lock.lock().unwrap();
        loop {
            let screen = o.parser.screen().contents();
            if pred(&screen, &o.bytes, o.eof) {
                return screen;
            }
            let now = Instant::now();
            assert!(
                now < end && !o.eof,
                "{} waiting for {what}; screen:\n{screen}",
                if o.eof {
                    "the output ended"
                } else {
                    "timed out"
                }
            );
            o = cv.wait_timeout(o, end - now).unwrap().0;
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Variables of the machine running the tests that would change what the explorer does (a
/// display, tmux, a Graph root, a token, a sign-in, a keymap): never passed on.
pub const OUTSIDE_ENV: [&str; 14] = [
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "TMUX",
    "TMUX_PANE",
    "DELTASCOPE_GRAPH_ROOT",
    "DELTASCOPE_TOKEN",
    "DELTASCOPE_TOKEN_FILE",
    "DELTASCOPE_LOG_FILE",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "DELTASCOPE_STORE",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
];

/// The real `deltascope` binary with a fresh `HOME` (named after `what`), an xterm `TERM`
/// and none of [`OUTSIDE_ENV`]: the explorer with nothing configured, as on a new machine.
pub fn explorer_command(what: &str) -> CommandBuilder {
    let home = std::env::temp_dir().join(format!("deltascope-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deltascope"));
    for var in OUTSIDE_ENV {
        cmd.env_remove(var);
    }
    cmd.env("HOME", &home);
    cmd.env("TERM", "xterm-256color");
    cmd
}

/// Where `needle` first stands in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
