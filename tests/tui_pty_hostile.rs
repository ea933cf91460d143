//! The real binary in a pseudo-terminal against a hostile loopback server (issue 11, item 3):
//! values, names, links, headers and an error message carrying an OSC title sequence, an OSC 52
//! clipboard write, a C1 CSI and bidi overrides. The bytes written to the terminal are checked:
//! none of it arrives raw, and the screen (a vt100 parser) shows it escaped.
#![allow(clippy::unwrap_used)]

#[path = "engine_seed/loopback.rs"]
mod loopback;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use loopback::{Reply, Server};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const DEADLINE: Duration = Duration::from_secs(30);
const ROWS: u16 = 50;
const COLS: u16 = 240;

struct Output {
    bytes: Vec<u8>,
    parser: vt100::Parser,
    eof: bool,
}

type Shared = Arc<(Mutex<Output>, Condvar)>;

struct Pty {
    out: Shared,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn start(root: &str) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let home =
            std::env::temp_dir().join(format!("deltascope-pty-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deltascope"));
        for var in [
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "TMUX",
            "DELTASCOPE_LOG_FILE",
            "XDG_CONFIG_HOME",
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_SECRET",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &home);
        cmd.env("TERM", "xterm-256color");
        cmd.env("DELTASCOPE_GRAPH_ROOT", root);
        cmd.env("DELTASCOPE_TOKEN", "hostile-pty-token");
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let out: Shared = Arc::new((
            Mutex::new(Output {
                bytes: Vec::new(),
                parser: vt100::Parser::new(
                    NonZeroU16::new(ROWS).unwrap(),
                    NonZeroU16::new(COLS).unwrap(),
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
            writer,
            child,
            _master: pair.master,
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits until `pred` holds for the screen's text.
    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let (lock, cv) = &*self.out;
        let end = Instant::now() + DEADLINE;
        let mut o = lock.lock().unwrap();
        loop {
            let screen = o.parser.screen().contents();
            if pred(&screen) {
                return screen;
            }
            let now = Instant::now();
            assert!(
                now < end && !o.eof,
                "timed out waiting for {what}; screen:\n{screen}"
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

const RLO: char = '\u{202e}';

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_server_never_reach_the_terminal() {
    let server = Server::start_with(|base| {
        let page = format!(
            concat!(
                r#"{{"value":[{{"id":"6f1c452b-7c6a-4d21-9c2e-0d3c9b6a1e11","#,
                r#""displayName":"evil\u202Etxt.exe","surname":"raw{rlo}x","#,
                r#""mail":"\u001b]0;pwned\u0007@x","jobTitle":"a\u009b31mred","#,
                r#""n{rlo}ame\u001b]52;c;cHdu\u0007":"\u2066iso\u2069"}}],"#,
                r#""@odata.deltaLink":"{base}/v1.0/contacts/delta?$deltatoken=d{rlo}1"}}"#
            ),
            base = base,
            rlo = RLO
        );
        move |n, _: &loopback::Recorded| match n {
            0 => Reply::json(200, page.clone()).header("x-evil", &format!("head{RLO}er")),
            _ => Reply::json(
                400,
                format!(
                    r#"{{"error":{{"code":"bad\u001b]0;t\u0007","message":"no \u001b]52;c;cHdu\u0007 {RLO}way"}}}}"#
                ),
            ),
        }
    })
    .await;
    let base = server.base.clone();
    // The pty is driven from a thread of its own: waiting on it blocks.
    tokio::task::spawn_blocking(move || {
        let mut pty = Pty::start(&base);
        pty.wait("the first frame", |s| {
            s.contains("Graph root http://127.0.0.1")
        });
        pty.send("f");
        // (A frame arrives in chunks: the wait is for everything looked at.)
        pty.wait("the page", |s| {
            s.contains(r"evil\u202etxt.exe")
                && s.contains(r"\u001b]0;pwned\u0007@x")
                && s.contains(r#""surname": "raw\u202ex""#)
        });
        pty.send("3");
        pty.send("o");
        pty.wait("the object", |s| {
            s.contains(r#""n\u202eame\u001b]52;c;cHdu\u0007""#)
        });
        pty.send("H");
        pty.wait("the headers", |s| s.contains(r"x-evil: head\u202eer"));
        pty.send("r");
        pty.wait("the error", |s| {
            s.contains(r"\u202eway") && s.contains(r"bad\u001b]0;t\u0007")
        });
        // Everything drawn so far: the page, the object, the headers, the error.
        let o = pty.out.0.lock().unwrap();
        for (what, raw) in [
            ("an OSC sequence (title, clipboard)", &b"\x1b]"[..]),
            ("a BEL", b"\x07"),
            ("a C1 CSI", "\u{9b}".as_bytes()),
            ("a right-to-left override", "\u{202e}".as_bytes()),
            ("a left-to-right isolate", "\u{2066}".as_bytes()),
        ] {
            assert!(
                find(&o.bytes, raw).is_none(),
                "{what} was written to the terminal"
            );
        }
        drop(o);
        pty.send("q");
    })
    .await
    .unwrap();
}
