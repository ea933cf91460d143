//! The real binary in a pseudo-terminal against a hostile loopback server (issue 11, item 3):
//! values, names, links, headers and an error message carrying an OSC title sequence, an OSC 52
//! clipboard write, a C1 CSI and bidi overrides. The bytes written to the terminal are checked:
//! none of it arrives raw, and the screen (a vt100 parser) shows it escaped.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "engine_seed/loopback.rs"]
mod loopback;

use loopback::{Reply, Server};
use support::pty::{Pty, find};

const ROWS: u16 = 50;
const COLS: u16 = 240;

fn start(root: &str) -> Pty {
    let mut cmd = support::pty::explorer_command("pty-hostile");
    cmd.env("DELTASCOPE_GRAPH_ROOT", root);
    cmd.env("DELTASCOPE_TOKEN", "hostile-pty-token");
    Pty::spawn(cmd, ROWS, COLS)
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
        let mut pty = start(&base);
        pty.wait("the first frame", |s, _, _| {
            s.contains("Graph root http://127.0.0.1")
        });
        pty.send("f");
        // (A frame arrives in chunks: the wait is for everything looked at.)
        pty.wait("the page", |s, _, _| {
            s.contains(r"evil\u202etxt.exe")
                && s.contains(r"\u001b]0;pwned\u0007@x")
                && s.contains(r#""surname": "raw\u202ex""#)
        });
        pty.send("3");
        pty.send("o");
        pty.wait("the object", |s, _, _| {
            s.contains(r#""n\u202eame\u001b]52;c;cHdu\u0007""#)
        });
        pty.send("H");
        pty.wait("the headers", |s, _, _| s.contains(r"x-evil: head\u202eer"));
        pty.send("r");
        pty.wait("the error", |s, _, _| {
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
