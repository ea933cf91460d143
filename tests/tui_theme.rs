//! Colours come from a theme. A set of scenes (every pane and overlay, in the states that use
//! the most styles) is drawn on ratatui's TestBackend and its cell styles are written as a map:
//! one letter per distinct style, with a legend. The dark theme's maps were taken before the
//! theme existed, so they pin today's look.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use deltascope::emulator::EmulatorConfig;
use deltascope::tui::app::{
    Focus, JsonTarget, LineTarget, Mode, Model, Msg, Notice, NoticeEnd, NoticeKind, QueryField,
    refresh_json, update,
};
use deltascope::tui::explore::{ExploreArgs, prepare};
use deltascope::tui::keymap::Action;
use deltascope::tui::theme::Theme;
use deltascope::tui::ui;
use deltascope::tui::view::{
    DeviceCodeView, ErrorView, FetchState, ProfileEntry, ProfilesView, SignInState, SignInTarget,
    TokenCheckView, TokenView,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

use fixtures::model;

/// A contacts session: round 1 complete, round 2 (minimal, with removals and a duplicate).
fn session() -> Model {
    let mut m = model(fixtures::contacts_query());
    fixtures::with_contacts_session(&mut m, true);
    m
}

fn notice(kind: NoticeKind, text: &str) -> Option<Notice> {
    Some(Notice {
        kind,
        text: text.into(),
        since: Instant::now(),
        ends_with: NoticeEnd::Replaced,
    })
}

fn failed(token_problems: Vec<String>) -> FetchState {
    FetchState::Failed {
        error: ErrorView {
            status: Some(410),
            code: Some("syncStateNotFound".into()),
            message: "The sync state generation is not found.".into(),
            request_id: Some("b1c2d3e4-0000-4000-8000-000000000042".into()),
            hint: Some("the token expired: start a full resync".into()),
            needs_resync: true,
            token_problems,
        },
    }
}

type Scene = (&'static str, Model, u16, u16);

/// The scenes, each a whole screen: together they draw every style the panes use.
fn scenes() -> Vec<Scene> {
    let mut out: Vec<Scene> = Vec::new();

    // Results focused, the minimal round: removed, duplicate and changed rows; JSON search.
    let mut m = session();
    m.focus = Focus::Results;
    m.sel_round = 1;
    m.sel_row = 1;
    m.json.search("suzuki", 18);
    m.json.next_match(true, 18);
    m.notice = notice(NoticeKind::Info, "copied deltaLink (84 B) via OSC 52");
    m.fetch.state = FetchState::RoundComplete {
        delta_link: Some("https://graph.microsoft.com/v1.0/contacts/delta?$deltatoken=abc".into()),
    };
    out.push(("results focused, minimal round", m, 160, 45));

    // The query focused with an input open, the first round's selected row underlined,
    // throttled, a warning.
    let mut m = session();
    m.focus = Focus::Query;
    m.query.frozen = false;
    m.query_cursor = 2;
    m.mode = Mode::Line {
        target: LineTarget::Search,
        input: "mail".into(),
    };
    let t0 = Instant::now();
    m.now = t0 + Duration::from_secs(3);
    m.fetch.state = FetchState::Throttled {
        until: t0 + Duration::from_millis(10_400),
        status: 429,
        follow: false,
    };
    m.sign_in = SignInState::SignedOut;
    m.notice = notice(NoticeKind::Warning, "the round may be cut");
    out.push(("query focused, search input, throttled", m, 160, 45));

    // The id editor with problems, a failed fetch with a resync hint, an error notice.
    let mut m = model(fixtures::contacts_query());
    m.focus = Focus::Query;
    m.query_cursor = m
        .query_fields()
        .iter()
        .position(|f| *f == QueryField::Ids)
        .unwrap();
    update(&mut m, Msg::Action(Action::Activate));
    let mut ids: Vec<String> = (1..=52).map(fixtures::guid).collect();
    ids.push("not-an-id".into());
    update(&mut m, Msg::Paste(ids.join("\n")));
    m.fetch.state = failed(Vec::new());
    m.notice = notice(NoticeKind::Error, "nothing could be copied");
    out.push(("id editor, failed fetch", m, 160, 45));

    // Recordings: a parameter in error, no rounds; fetching; a progress notice; the sign-in
    // failed with an earlier one in force.
    let mut m = model(fixtures::recordings_query());
    m.focus = Focus::Json;
    m.query_cursor = 3;
    m.fetch.state = FetchState::Fetching {
        page: 4,
        since: Instant::now(),
        follow: true,
    };
    m.notice = notice(NoticeKind::Progress, "calling the deltaLink");
    m.sign_in = SignInState::Failed {
        attempt: 2,
        target: SignInTarget::Startup,
        error: "AADSTS70000: the grant is invalid".into(),
        previous: Some(Default::default()),
    };
    out.push(("recordings, fetching", m, 140, 40));

    // Not signed in at all, and a 403 that the token check explains.
    let mut m = model(fixtures::contacts_query());
    m.sign_in = SignInState::Failed {
        attempt: 1,
        target: SignInTarget::Startup,
        error: "the user declined the sign-in".into(),
        previous: None,
    };
    let mut f = failed(vec!["the token has expired".into()]);
    if let FetchState::Failed { error } = &mut f {
        error.status = Some(403);
        error.needs_resync = false;
    }
    m.fetch.state = f;
    m.token_check = Some(TokenCheckView {
        resource: Some("contacts".into()),
        problems: vec!["the token has expired".into()],
    });
    out.push(("not signed in, 403 with the token check", m, 140, 30));

    // The JSON pane on headers, a sign-in running, a warning notice-free idle page.
    let mut m = session();
    m.focus = Focus::Json;
    m.json_target = JsonTarget::Headers;
    refresh_json(&mut m);
    m.sign_in = SignInState::Running {
        attempt: 1,
        target: SignInTarget::Startup,
        since: Instant::now(),
        prompt: None,
        previous: None,
        renewal: false,
        fetch_after: None,
    };
    m.sel_page = 1;
    out.push(("headers, signing in, empty page", m, 140, 30));

    // Overlays.
    let mut m = session();
    m.mode = Mode::Help;
    out.push(("help", m, 130, 50));

    let mut m = session();
    m.mode = Mode::TokenInspector;
    m.token = Some(TokenView {
        lines: vec![
            ("kind".into(), "delegated (adele@contoso.example)".into()),
            (
                "tenant".into(),
                "11111111-2222-3333-4444-555555555555".into(),
            ),
        ],
        resource: Some("recordings".into()),
        problems: vec!["callRecording delta needs the application permission".into()],
        notes: vec!["the catalog may lag behind Graph".into()],
        unavailable: None,
    });
    out.push(("token inspector, cannot read", m, 120, 30));

    let mut m = session();
    m.mode = Mode::TokenInspector;
    m.token = Some(TokenView {
        lines: vec![("kind".into(), "app-only".into())],
        resource: Some("contacts".into()),
        ..Default::default()
    });
    out.push(("token inspector, ok", m, 120, 30));

    let mut m = session();
    m.mode = Mode::TokenInspector;
    m.token = Some(TokenView {
        unavailable: Some("not a JWT: nothing to inspect".into()),
        ..Default::default()
    });
    out.push(("token inspector, opaque", m, 120, 30));

    let mut m = session();
    m.mode = Mode::Profiles;
    m.profiles = Some(ProfilesView {
        path: Some("/home/admin/.config/deltascope/config.toml".into()),
        startup: "the token in $DELTASCOPE_TOKEN, cloud global".into(),
        entries: vec![ProfileEntry {
            name: "gcch-contacts".into(),
            method: "device-code".into(),
            cloud: "usgov".into(),
            tenant: "$GCCH_TENANT_ID".into(),
            graph_root: None,
        }],
        problem: Some("profile \"x\": unknown field".into()),
    });
    m.profile_cursor = 1;
    out.push(("profile picker", m, 130, 30));

    for (name, left) in [("device code", 872), ("device code, expired", 0)] {
        let mut m = session();
        let now = Instant::now();
        m.now = now;
        m.sign_in = SignInState::Running {
            attempt: 1,
            target: SignInTarget::Profile("gcch-contacts".into()),
            since: now,
            prompt: Some(DeviceCodeView {
                code: "GQ7K-MXR2".into(),
                url: "https://microsoft.com/devicelogin".into(),
                message: "To sign in, use a web browser to open the page.".into(),
                expires_at: now + Duration::from_secs(left),
            }),
            previous: None,
            renewal: false,
            fetch_after: None,
        };
        out.push((name, m, 110, 32));
    }
    out
}

fn buffer(m: &mut Model, w: u16, h: u16) -> Buffer {
    m.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    t.backend().buffer().clone()
}

fn describe(s: &Style) -> String {
    let mut out = Vec::new();
    // A cell's colours are `Reset` when nothing set them: the terminal's own.
    if let Some(fg) = s.fg.filter(|c| *c != Color::Reset) {
        out.push(format!("fg {fg:?}"));
    }
    if let Some(bg) = s.bg.filter(|c| *c != Color::Reset) {
        out.push(format!("bg {bg:?}"));
    }
    if !s.add_modifier.is_empty() {
        out.push(format!("{:?}", s.add_modifier));
    }
    out.join(", ")
}

/// The buffer's styles: a letter per cell (`.` for the plain style), then the legend.
fn style_map(buf: &Buffer) -> String {
    const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut seen: Vec<String> = Vec::new();
    let mut grid = String::new();
    let w = usize::from(buf.area.width);
    for (i, cell) in buf.content.iter().enumerate() {
        let d = describe(&cell.style());
        let c = if d.is_empty() {
            '.'
        } else {
            let k = seen.iter().position(|s| *s == d).unwrap_or_else(|| {
                seen.push(d.clone());
                seen.len() - 1
            });
            LETTERS.chars().nth(k).unwrap_or('?')
        };
        grid.push(c);
        if (i + 1) % w == 0 {
            grid.push('\n');
        }
    }
    for (k, d) in seen.iter().enumerate() {
        let _ = writeln!(grid, "{} = {d}", LETTERS.chars().nth(k).unwrap_or('?'));
    }
    grid
}

/// Every scene's style map, for `prepare` (the theme, set on each model).
fn all_style_maps(prepare: impl Fn(&mut Model)) -> String {
    let mut out = String::new();
    for (name, mut m, w, h) in scenes() {
        prepare(&mut m);
        let buf = buffer(&mut m, w, h);
        let _ = writeln!(out, "## {name} ({w}x{h})\n{}", style_map(&buf));
    }
    out
}

/// Every style used in the scenes, with how many cells carry it.
fn styles_used(prepare: impl Fn(&mut Model)) -> BTreeMap<String, usize> {
    let mut used = BTreeMap::new();
    for (_, mut m, w, h) in scenes() {
        prepare(&mut m);
        for cell in &buffer(&mut m, w, h).content {
            *used.entry(describe(&cell.style())).or_insert(0) += 1;
        }
    }
    used
}

#[test]
fn the_dark_theme_looks_as_before() {
    insta::assert_snapshot!(all_style_maps(|_| {}));
}

#[test]
fn the_scenes_use_many_styles() {
    // A guard on the scenes themselves: they must exercise the panes' styles, not a few.
    let used = styles_used(|_| {});
    assert!(used.len() >= 35, "{used:#?}");
}

fn light(m: &mut Model) {
    m.theme = Theme::light();
}

fn mono(m: &mut Model) {
    m.theme = Theme::mono();
}

#[test]
fn the_light_theme_styles() {
    insta::assert_snapshot!(all_style_maps(light));
}

#[test]
fn the_mono_theme_styles() {
    insta::assert_snapshot!(all_style_maps(mono));
}

/// The scene called `name`, drawn with `prepare`.
fn scene(name: &str, prepare: impl Fn(&mut Model)) -> (Buffer, String) {
    let (_, mut m, w, h) = scenes().into_iter().find(|s| s.0 == name).unwrap();
    prepare(&mut m);
    let buf = buffer(&mut m, w, h);
    let mut text = String::new();
    for y in 0..h {
        for x in 0..w {
            text.push_str(buf[(x, y)].symbol());
        }
        text.push('\n');
    }
    (buf, text)
}

/// Where `needle` starts on the screen (row, column in cells).
fn find(text: &str, needle: &str) -> (u16, u16) {
    for (y, line) in text.lines().enumerate() {
        if let Some(i) = line.find(needle) {
            let x = line[..i].chars().count();
            return (u16::try_from(y).unwrap(), u16::try_from(x).unwrap());
        }
    }
    panic!("{needle:?} is not on the screen:\n{text}");
}

#[test]
fn mono_draws_no_colour_anywhere() {
    let used = styles_used(mono);
    for style in used.keys() {
        assert!(
            !style.contains("fg ") && !style.contains("bg "),
            "a colour in mono: {style}"
        );
    }
    // Still more than one look: the emphasis is there.
    assert!(used.len() >= 6, "{used:#?}");
}

#[test]
fn without_colour_the_selection_and_the_current_match_still_show() {
    let (buf, text) = scene("results focused, minimal round", mono);
    // The selected page line and the selected object row are reversed, their neighbours not.
    let (y, x) = find(&text, "▶ #1");
    assert!(buf[(x + 3, y)].modifier.contains(Modifier::REVERSED));
    // The objects table: the rows under its header (the first object is row 0).
    let header = text
        .lines()
        .enumerate()
        .skip(usize::from(y) + 1)
        .find_map(|(hy, l)| l.find("displayName").map(|_| hy))
        .unwrap();
    let (hy, hx) = find(
        &text.lines().skip(header).collect::<Vec<_>>().join("\n"),
        "displayName",
    );
    let row = |k: u16| buf[(hx, u16::try_from(header).unwrap() + hy + 1 + k)].modifier;
    assert!(!row(0).contains(Modifier::REVERSED), "row 0");
    assert!(row(1).contains(Modifier::REVERSED), "the selected row");
    assert!(!row(2).contains(Modifier::REVERSED), "row 2");
    // Search matches are reversed; the current one is also bold and underlined.
    let matches: Vec<Modifier> = buf
        .content
        .iter()
        .filter(|c| c.modifier.contains(Modifier::REVERSED) && c.symbol() == "z")
        .map(|c| c.modifier)
        .collect();
    assert!(matches.iter().any(|m| m.contains(Modifier::UNDERLINED)));
    assert!(matches.iter().any(|m| !m.contains(Modifier::UNDERLINED)));
    // The focused pane's title is bold.
    let (y, x) = find(&text, "2 Results");
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
}

#[test]
fn light_has_no_dark_selection_and_no_white_text() {
    let (buf, text) = scene("results focused, minimal round", light);
    let (y, x) = find(&text, "▶ #1");
    let sel = buf[(x + 3, y)].bg;
    assert_eq!(sel, Color::Rgb(0xdd, 0xe6, 0xff));
    for (_, mut m, w, h) in scenes() {
        light(&mut m);
        for cell in &buffer(&mut m, w, h).content {
            assert_ne!(
                cell.bg,
                Color::Rgb(40, 44, 60),
                "the dark selection in light"
            );
            // White text would vanish on a white background unless it has its own.
            if cell.fg == Color::White || cell.fg == Color::Indexed(231) {
                assert_ne!(cell.bg, Color::Reset, "white text on the page at {cell:?}");
            }
            assert!(
                !matches!(cell.fg, Color::Yellow | Color::LightYellow | Color::Gray),
                "{:?} does not read on white",
                cell.fg
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_starts_with_the_theme_of_its_flag_or_its_config_file() {
    let dir = std::env::temp_dir().join(format!("deltascope-tui-theme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "theme = \"mono\"\n").unwrap();
    let args = |theme: Option<&str>| ExploreArgs {
        keymap: Some("/nonexistent/deltascope-test-keymap.toml".into()),
        theme: theme.map(str::to_owned),
        auth: deltascope::auth::AuthArgs {
            config: Some(config.clone()),
            ..Default::default()
        },
        store: deltascope::store::StoreArgs {
            no_store: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let small = || EmulatorConfig {
        contacts: 3,
        ..Default::default()
    };
    let e = prepare(&args(Some("light")), small()).await.unwrap();
    assert_eq!(e.model.theme, Theme::light());
    if let Some(emu) = e.emulator {
        emu.shutdown().await;
    }
    // Unless DELTASCOPE_THEME is set where the tests run, the config file's theme.
    if std::env::var("DELTASCOPE_THEME").is_ok_and(|v| !v.is_empty()) {
        return;
    }
    let e = prepare(&args(None), small()).await.unwrap();
    assert_eq!(e.model.theme, Theme::mono());
    if let Some(emu) = e.emulator {
        emu.shutdown().await;
    }
    // A bad theme file stops the start, naming the file and the line.
    std::fs::write(dir.join("t.toml"), "[colors]\nselction = \"blue\"\n").unwrap();
    let flag = dir.join("t.toml").display().to_string();
    let err = prepare(&args(Some(&flag)), small())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with(&format!("theme: --theme {flag}: the theme file {flag} is not valid:\nline 2: \"selction\" is not a role")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
