//! `deltascope sync` from the outside: the real binary, against the real emulator subcommand,
//! over loopback HTTP. Exit codes, the state file (atomic, 0600, no secret), continuing rounds.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_deltascope");
const SECRET: &str =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLXRoYXQtbXVzdC1ub3QtbGVhaw";

/// A `deltascope emulator` child process; killed on drop.
struct EmulatorProcess {
    child: Child,
    url: String,
}

impl EmulatorProcess {
    fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("deltascope emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        EmulatorProcess { child, url }
    }

    fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = reqwest::Client::new();
            let url = format!("{}/_emulator/{}", self.url, path);
            let mut req = client.request(method.parse().unwrap(), url);
            if let Some(body) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let resp = req.send().await.unwrap();
            assert!(
                resp.status().is_success(),
                "control {method} {path}: {}",
                resp.status()
            );
            let text = resp.text().await.unwrap();
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
        })
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl EmulatorProcess {
    /// An emulator process with 30 contacts in pages of 10 and `faults` armed.
    fn thirty_contacts_with_faults(faults: &[&str]) -> Self {
        let mut args = vec!["--contacts", "30", "--page-size", "10"];
        for fault in faults {
            args.extend(["--fault", fault]);
        }
        Self::start(&args)
    }

    /// `deltascope sync` of this emulator's contacts with the test token, then `extra`.
    fn sync_contacts(&self, extra: &[&str]) -> Output {
        let mut args = vec!["--graph-root", self.url.as_str(), "--resource", "contacts"];
        args.extend_from_slice(extra);
        sync(&args, &[("DELTASCOPE_TOKEN", SECRET)])
    }
}

fn sync(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("sync")
        .args(args)
        .env_remove("DELTASCOPE_GRAPH_ROOT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object per line: {e}: {l}"))
        })
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "deltascope-sync-cli-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn embedded_emulator_full_round_writes_every_item_once() {
    let out = sync(&["--resource", "contacts", "--demo-contacts", "37"], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let items = lines(&out);
    assert_eq!(items.len(), 37);
    let mut ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 37);
    // default properties of orgContact are there
    assert!(items[0].get("displayName").is_some());
    let err = stderr(&out);
    assert!(err.contains("embedded emulator"), "{err}");
    assert!(err.contains("round 1"), "{err}");
}

#[test]
fn an_empty_token_variable_is_no_token_for_the_embedded_emulator_as_in_the_explorer() {
    // The explorer always took a blank DELTASCOPE_TOKEN as unset; sync sent "Bearer " and got a
    // 401. One rule now (crate::target) for both.
    for blank in ["", "   "] {
        let out = sync(
            &["--resource", "contacts", "--demo-contacts", "12", "--quiet"],
            &[("DELTASCOPE_TOKEN", blank)],
        );
        assert_eq!(out.status.code(), Some(0), "{blank:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("12 added"), "{}", stderr(&out));
    }
}

#[test]
fn state_file_continues_with_the_next_round_and_holds_no_secret() {
    let emu = EmulatorProcess::start(&["--contacts", "25", "--seed", "7"]);
    let dir = tempdir();
    let state = dir.join("contacts.state");
    let state_s = state.to_str().unwrap();
    let common = [
        "--graph-root",
        emu.url.as_str(),
        "--resource",
        "contacts",
        "--select",
        "displayName,jobTitle,mail",
        "--state",
        state_s,
    ];
    let env = [("DELTASCOPE_TOKEN", SECRET)];

    let first = sync(&common, &env);
    assert_eq!(first.status.code(), Some(0), "stderr: {}", stderr(&first));
    assert_eq!(lines(&first).len(), 25);

    // the state file: mode 0600, a deltaLink on the emulator, never the token
    let text = std::fs::read_to_string(&state).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(saved["link"].as_str().unwrap().starts_with(&emu.url));
    assert_eq!(saved["mid_round"], false);
    assert!(!text.contains(SECRET));
    assert!(!stderr(&first).contains(SECRET));

    // nothing changed: the next round is empty
    let empty = sync(&common, &env);
    assert_eq!(empty.status.code(), Some(0), "stderr: {}", stderr(&empty));
    assert_eq!(lines(&empty).len(), 0);

    // one update, one soft delete: the next round carries exactly those
    let state_json = emu.control("GET", "state", None);
    let ids: Vec<String> = state_json["sampleContactIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    emu.control(
        "PATCH",
        &format!("contacts/{}", ids[0]),
        Some(serde_json::json!({"jobTitle": "Chief Delta Officer"})),
    );
    emu.control("DELETE", &format!("contacts/{}", ids[1]), None);
    let next = sync(&common, &env);
    assert_eq!(next.status.code(), Some(0), "stderr: {}", stderr(&next));
    let items = lines(&next);
    assert_eq!(items.len(), 2, "{items:?}");
    let updated = items.iter().find(|i| i["id"] == ids[0].as_str()).unwrap();
    assert_eq!(updated["jobTitle"], "Chief Delta Officer");
    let removed = items.iter().find(|i| i["id"] == ids[1].as_str()).unwrap();
    assert_eq!(removed["@removed"]["reason"], "changed");
    let err = stderr(&next);
    assert!(err.contains("round"), "{err}");

    // Another query with the same state file: exit 3 before anything is sent, the file kept.
    let before = std::fs::read_to_string(&state).unwrap();
    let requests = emu.control("GET", "state", None)["graphRequests"].clone();
    let other_select = {
        let mut args = common.to_vec();
        args[5] = "displayName";
        sync(&args, &env)
    };
    assert_eq!(
        other_select.status.code(),
        Some(3),
        "{}",
        stderr(&other_select)
    );
    assert!(
        stderr(&other_select).contains("continues another query"),
        "{}",
        stderr(&other_select)
    );
    let minimal = sync(&[&common[..], &["--minimal"]].concat(), &env);
    assert_eq!(minimal.status.code(), Some(3), "{}", stderr(&minimal));
    assert!(
        stderr(&minimal).contains("fetched without Prefer: return=minimal"),
        "{}",
        stderr(&minimal)
    );
    assert_eq!(std::fs::read_to_string(&state).unwrap(), before);
    assert_eq!(
        emu.control("GET", "state", None)["graphRequests"],
        requests,
        "nothing was sent"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validation_errors_exit_3_before_anything_is_sent() {
    let out = sync(&["--resource", "recordings"], &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("meetingOrganizerUserId"),
        "{}",
        stderr(&out)
    );

    let ids: Vec<String> = (0..51)
        .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
        .collect();
    let mut args = vec!["--resource", "contacts"];
    for id in &ids {
        args.push("--id");
        args.push(id);
    }
    let out = sync(&args, &[]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("50"), "{}", stderr(&out));

    // a real Graph root without a token: nothing is sent, the message says which variable
    let out = sync(
        &[
            "--graph-root",
            "https://graph.microsoft.com",
            "--token-env",
            "DELTASCOPE_TEST_NO_SUCH_VAR",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("DELTASCOPE_TEST_NO_SUCH_VAR"));
}

#[test]
fn bad_command_line_exits_2() {
    let out = sync(&["--rounds", "many"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn log_file_goes_before_or_after_the_subcommand_but_explorer_options_do_not() {
    let dir = tempdir();
    for (n, before) in [true, false].into_iter().enumerate() {
        let log = dir.join(format!("trace-{n}.log"));
        let mut cmd = Command::new(BIN);
        if before {
            cmd.arg("--log-file").arg(&log).arg("sync");
        } else {
            cmd.arg("sync").arg("--log-file").arg(&log);
        }
        let out = cmd
            .args(["--rounds", "1", "--quiet"])
            .env_remove("DELTASCOPE_GRAPH_ROOT")
            .env("DELTASCOPE_LOG", "debug")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.is_empty(), "the log file {} is empty", log.display());
    }
    // An explorer option with a subcommand is a usage error that names the option.
    let out = Command::new(BIN)
        .args(["--demo-contacts", "5", "sync", "--rounds", "1"])
        .env_remove("DELTASCOPE_GRAPH_ROOT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--demo-contacts"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graph_errors_exit_4_with_status_code_request_id_and_advice() {
    let emu = EmulatorProcess::start(&["--contacts", "5", "--fault", "forbidden:10"]);
    let out = emu.sync_contacts(&[]);
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("403"), "{err}");
    assert!(err.contains("Authorization_RequestDenied"), "{err}");
    assert!(err.contains("request-id"), "{err}");
    assert!(!err.contains(SECRET));
}

#[test]
fn throttling_is_waited_out_and_the_round_completes() {
    let emu = EmulatorProcess::thirty_contacts_with_faults(&["throttle:2:0.2"]);
    let out = emu.sync_contacts(&[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(lines(&out).len(), 30);
    assert!(stderr(&out).contains("throttled"), "{}", stderr(&out));
}

#[test]
fn a_foreign_next_link_is_refused_with_exit_5() {
    let emu = EmulatorProcess::thirty_contacts_with_faults(&["foreign-link:1"]);
    let out = emu.sync_contacts(&[]);
    assert_eq!(out.status.code(), Some(5), "stderr: {}", stderr(&out));
    assert!(!stderr(&out).contains(SECRET));
}

#[cfg(unix)]
#[test]
fn an_interrupted_round_saves_its_next_link_and_the_next_run_finishes_it() {
    let emu = EmulatorProcess::start(&[
        "--contacts",
        "60",
        "--page-size",
        "10",
        "--fault",
        "slow:100:150",
    ]);
    let dir = tempdir();
    let state = dir.join("contacts.state");
    let args = [
        "sync",
        "--graph-root",
        emu.url.as_str(),
        "--resource",
        "contacts",
        "--state",
        state.to_str().unwrap(),
    ];
    let mut child = Command::new(BIN)
        .args(args)
        .env("DELTASCOPE_TOKEN", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // wait for the first page's items, then interrupt
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first_lines = Vec::new();
    for _ in 0..10 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        first_lines.push(line);
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "sync did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(130));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(saved["mid_round"], true);
    let got_before = first_lines.len() + rest.lines().count();
    assert!(got_before < 60);

    // the next run finishes the round from the saved nextLink: together, every contact once
    let finish = sync(&args[1..], &[("DELTASCOPE_TOKEN", SECRET)]);
    assert_eq!(finish.status.code(), Some(0), "stderr: {}", stderr(&finish));
    assert_eq!(got_before + lines(&finish).len(), 60);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_410_starts_a_full_resync_from_its_location_unless_told_not_to() {
    let emu = EmulatorProcess::thirty_contacts_with_faults(&["gone:1"]);
    let out = emu.sync_contacts(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert!(
        err.contains("410") && err.contains("starting a full resync"),
        "{err}"
    );
    // every contact once, from the restarted round
    assert_eq!(lines(&out).len(), 30, "{err}");

    emu.control(
        "POST",
        "faults",
        Some(serde_json::json!({"spec": "gone:1"})),
    );
    let out = emu.sync_contacts(&["--no-resync"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "stderr: {err}");
    assert!(err.contains("resync"), "the hint says what to do: {err}");
    assert!(!err.contains(SECRET));
}

#[test]
fn a_malformed_or_truncated_page_is_fetched_again_and_nothing_is_lost() {
    let emu = EmulatorProcess::thirty_contacts_with_faults(&["malformed:1", "truncated:1"]);
    let out = emu.sync_contacts(&[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert!(err.contains("retrying the same link"), "{err}");
    let ids: std::collections::BTreeSet<String> = lines(&out)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 30);
    assert_eq!(lines(&out).len(), 30, "no page applied twice");
}

/// stdout that cannot be written (a full disk: /dev/full) stops the sync with exit 5, and the
/// saved state continues from the page whose items did not go out: the next run writes them.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_to_stdout_loses_nothing() {
    let emu = EmulatorProcess::start(&["--contacts", "250", "--seed", "3"]);
    let dir = tempdir();
    let state = dir.join("contacts.state");
    let state_s = state.to_str().unwrap();
    let common = [
        "--graph-root",
        emu.url.as_str(),
        "--resource",
        "contacts",
        "--state",
        state_s,
    ];
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let failed = Command::new(BIN)
        .arg("sync")
        .args(common)
        .env("DELTASCOPE_TOKEN", SECRET)
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(5), "stderr: {}", stderr(&failed));
    assert!(
        stderr(&failed).contains("cannot write to stdout"),
        "{}",
        stderr(&failed)
    );
    assert!(state.exists(), "the state is saved on the way out");

    let next = sync(&common, &[("DELTASCOPE_TOKEN", SECRET)]);
    assert_eq!(next.status.code(), Some(0), "stderr: {}", stderr(&next));
    let items = lines(&next);
    let mut ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (items.len(), ids.len()),
        (250, 250),
        "every contact once: none lost, none twice"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_path_of_ones_own_is_walked_by_the_generic_rules() {
    // A catalog resource spelled as a path, its own $select kept as written.
    let out = sync(
        &[
            "--path",
            "/v1.0/contacts/delta?$select=displayName",
            "--demo-contacts",
            "23",
            "--max-page-size",
            "10",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let items = lines(&out);
    assert_eq!(items.len(), 23);
    assert!(
        items
            .iter()
            .all(|i| i.get("displayName").is_some() && i.get("mail").is_none())
    );
    let err = stderr(&out);
    assert!(err.contains("spelling of the catalog's contacts"), "{err}");
    assert!(
        err.contains("3 pages"),
        "odata.maxpagesize=10 over 23: {err}"
    );
    // What cannot be right is refused before anything is sent.
    for (path, said) in [
        ("/me/messages", "not in a delta function"),
        (
            "https://example.com/v1.0/users/delta",
            "not on the Graph root",
        ),
        ("/beta/users/delta", "API version is v1.0"),
    ] {
        let out = sync(&["--path", path], &[]);
        assert_eq!(out.status.code(), Some(3), "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains(said), "{path}: {}", stderr(&out));
    }
    // --path and --resource are one or the other; --param is NAME=VALUE.
    let out = sync(&["--path", "/users/delta", "--resource", "users"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = sync(&["--resource", "messages", "--param", "inbox"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Resources are named as Graph names them, in any case; their parameters are checked.
    let out = sync(
        &["--resource", "MESSAGES", "--param", "mailFolderId=in box"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("mailFolderId"), "{}", stderr(&out));
}
