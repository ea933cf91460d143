//! An emulator process for the benchmarks: `deltascope emulator` on a free loopback port (with
//! `contacts` demo contacts, or any flags), stopped when dropped.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::BIN;

pub struct Emulator {
    child: Child,
    pub base: String,
}

impl Emulator {
    pub fn start(contacts: usize) -> Emulator {
        Self::start_with(&["--contacts", &contacts.to_string()])
    }

    /// An emulator with these flags besides `--listen` (e.g. `--drive-files 100000`).
    pub fn start_with(flags: &[&str]) -> Emulator {
        let mut child = Command::new(BIN)
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("emulator listening line");
        let base = line
            .trim()
            .rsplit(' ')
            .next()
            .expect("listening line names the URL")
            .to_owned();
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "unexpected line {line:?}"
        );
        Emulator { child, base }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
