//! The real binary in a pseudo-terminal: `deltascope` with no arguments opens the explorer on
//! the embedded emulator's demo tenant; two pages are fetched with the keyboard; a copy with no
//! display goes out as OSC 52 in the byte stream; quitting restores the terminal.
//! The output is read by a thread and fed to a vt100 parser; the test waits on the parsed
//! screen (a condition variable signalled on every chunk), with a deadline.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use support::pty::{Pty, find};

const DEADLINE: Duration = Duration::from_secs(30);
const ROWS: u16 = 45;
const COLS: u16 = 160;

/// No display: the clipboard must fall back to OSC 52. No user keymap, no Graph root.
fn start() -> Pty {
    Pty::spawn(support::pty::explorer_command("pty"), ROWS, COLS)
}

#[test]
fn the_binary_opens_the_demo_tenant_fetches_copies_over_osc52_and_restores_the_terminal() {
    let mut pty = start();

    let screen = pty.wait("the first frame", |s, _, _| {
        s.contains("demo tenant on the embedded emulator at http://127.0.0.1:")
    });
    assert!(screen.contains("Query"), "{screen}");
    {
        let o = pty.out.0.lock().unwrap();
        assert!(o.parser.screen().alternate_screen());
        assert!(o.parser.screen().hide_cursor());
    }

    pty.send("f");
    pty.wait("page 1", |s, _, _| {
        s.contains("#1") && s.contains("100 items")
    });
    pty.send("f");
    pty.wait("page 2", |s, _, _| s.contains("#2"));

    // Copy the nextLink: no display, so OSC 52 to the terminal.
    pty.send("L");
    let screen = pty.wait("the copy", |s, b, _| {
        s.contains("copied nextLink") && find(b, b"\x1b]52;c;").is_some()
    });
    assert!(screen.contains("via OSC 52"), "{screen}");
    let copied = {
        let o = pty.out.0.lock().unwrap();
        let start = find(&o.bytes, b"\x1b]52;c;").unwrap() + 7;
        let len = o.bytes[start..].iter().position(|&b| b == 0x07).unwrap();
        let b64 = o.bytes[start..start + len].to_vec();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(
        copied.starts_with("http://127.0.0.1:") && copied.contains("/v1.0/contacts/delta?"),
        "{copied}"
    );

    pty.send("q");
    let end = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = pty.child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > end {
            let o = pty.out.0.lock().unwrap();
            panic!(
                "the explorer did not quit; screen:\n{}\ntail: {:?}",
                o.parser.screen().contents(),
                String::from_utf8_lossy(&o.bytes[o.bytes.len().saturating_sub(300)..])
            );
        }
        // Wake on output (the restore sequences) or re-check the process shortly.
        let (lock, cv) = &*pty.out;
        let o = lock.lock().unwrap();
        let _ = cv.wait_timeout(o, Duration::from_millis(50)).unwrap();
    };
    assert!(status.success(), "{status:?}");
    pty.wait("the restore sequences", |_, b, eof| {
        eof || (find(b, b"\x1b[?1049l").is_some() && find(b, b"\x1b[?25h").is_some())
    });
    let o = pty.out.0.lock().unwrap();
    assert!(
        !o.parser.screen().alternate_screen(),
        "still on the alternate screen"
    );
    assert!(
        !o.parser.screen().hide_cursor(),
        "the cursor is still hidden"
    );
    let last_leave = o
        .bytes
        .windows(8)
        .rposition(|w| w == b"\x1b[?1049l")
        .expect("the alternate screen was never left");
    let last_enter = o.bytes.windows(8).rposition(|w| w == b"\x1b[?1049h");
    assert!(last_enter.is_none_or(|e| e < last_leave));
}
