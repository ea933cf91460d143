#![allow(clippy::unwrap_used)]
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};

use super::file::{parse_built_in, parse_user};
use super::{BUILT_IN, ROLES, Theme, ThemeSettings, choose};

#[test]
fn every_built_in_theme_names_every_role() {
    for (name, text) in BUILT_IN {
        parse_built_in(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!text.contains("\nbase"), "{name}: a built-in has no base");
    }
}

#[test]
fn the_dark_selection_is_the_one_it_always_was() {
    let t = Theme::dark();
    assert_eq!(t.selection, Style::new().bg(Color::Rgb(40, 44, 60)));
    assert_eq!(
        t.search_current,
        Style::new()
            .fg(Color::Black)
            .bg(Color::LightRed)
            .add_modifier(Modifier::BOLD)
    );
}

#[test]
fn mono_has_no_colour_and_a_visible_selection() {
    let t = Theme::mono();
    for (name, _) in ROLES {
        let s = t.role(name).unwrap();
        assert_eq!((s.fg, s.bg), (None, None), "{name} has a colour");
    }
    // The selection must show without colour.
    assert!(t.selection.add_modifier.contains(Modifier::REVERSED));
    assert!(t.picker_selection.add_modifier.contains(Modifier::REVERSED));
    assert!(t.search_match.add_modifier.contains(Modifier::REVERSED));
    assert_ne!(t.search_match, t.search_current);
    assert!(t.heading.add_modifier.contains(Modifier::BOLD));
}

/// The sRGB of an exact colour (the 256-colour cube, its grey ramp, or #rrggbb); `None` for
/// the 16 colours a terminal may redefine.
fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    match c {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i @ 16..=231) => {
            let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
            let i = i - 16;
            Some((level(i / 36), level((i / 6) % 6), level(i % 6)))
        }
        Color::Indexed(i @ 232..=255) => {
            let v = 8 + 10 * (i - 232);
            Some((v, v, v))
        }
        _ => None,
    }
}

/// WCAG 2 contrast ratio.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let lum = |(r, g, b): (u8, u8, u8)| {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn light_text_reads_on_white_and_on_the_selection() {
    let t = Theme::light();
    let white = (255, 255, 255);
    let sel = rgb(t.selection.bg.unwrap()).unwrap();
    // A light selection: nothing like the dark theme's fixed dark background.
    assert!(contrast(sel, white) < 1.5, "{sel:?}");
    for (name, _) in ROLES {
        let s = t.role(name).unwrap();
        for c in [s.fg, s.bg].into_iter().flatten() {
            assert!(
                rgb(c).is_some(),
                "{name}: {c:?} is one the terminal may redefine"
            );
        }
        let Some(fg) = s.fg.and_then(rgb) else {
            continue;
        };
        match s.bg.and_then(rgb) {
            Some(bg) => assert!(contrast(fg, bg) >= 4.5, "{name}: {}", contrast(fg, bg)),
            None => {
                // Text on the page's background, or on a selected line.
                for bg in [white, sel] {
                    assert!(contrast(fg, bg) >= 4.5, "{name} on {bg:?}");
                }
            }
        }
    }
}

#[test]
fn the_colour_arithmetic_is_right() {
    assert_eq!(rgb(Color::Indexed(25)), Some((0, 95, 175)));
    assert_eq!(rgb(Color::Indexed(241)), Some((98, 98, 98)));
    assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
    assert_eq!(rgb(Color::Yellow), None);
}

#[test]
fn a_user_file_lays_its_roles_over_its_base() {
    let t = parse_user(
        r##"
base = "light"
[colors]
selection = { bg = "#dde6ff" }
json_key = "blue"
line_number = 244
muted = { fg = "default", modifiers = ["italic", "underline"] }
error = { bg = "123" }
"##,
    )
    .unwrap();
    let light = Theme::light();
    assert_eq!(t.selection, Style::new().bg(Color::Rgb(0xdd, 0xe6, 0xff)));
    // A colour alone is the foreground; the rest of the base's style stays.
    assert_eq!(t.json_key, light.json_key.fg(Color::Blue));
    assert_eq!(t.line_number.fg, Some(Color::Indexed(244)));
    assert_eq!(t.muted.fg, None);
    assert_eq!(
        t.muted.add_modifier,
        Modifier::ITALIC | Modifier::UNDERLINED
    );
    assert_eq!(t.error, light.error.bg(Color::Indexed(123)));
    assert_eq!(t.heading, light.heading);
    assert_eq!(t.ok, light.ok);

    // Without a base: over dark.
    let t = parse_user("[colors]\nok = \"lightgreen\"\n").unwrap();
    assert_eq!(t.ok, Style::new().fg(Color::LightGreen));
    assert_eq!(t.error, Theme::dark().error);
    assert_eq!(parse_user("").unwrap(), Theme::dark());
}

#[test]
fn every_mistake_of_a_user_file_is_reported_with_its_line() {
    let e = parse_user(
        r##"base = "light"
[colors]
selction = "blue"
ok = "#12345"
error = { fg = "red", modifiers = ["blinking"] }
warning = { colour = "red" }
muted = 300
heading = true
"##,
    )
    .unwrap_err();
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 6, "{e}");
    assert!(
        lines[0].starts_with("line 3: \"selction\" is not a role; the roles: title_badge,"),
        "{e}"
    );
    assert!(lines[0].contains("selection"), "{e}");
    assert_eq!(
        lines[1],
        "line 4: ok: \"#12345\" is not a colour (a name such as blue or darkgray, #rrggbb, 0-255, or default)"
    );
    assert!(
        lines[2].starts_with("line 5: error: \"blinking\" is not a modifier (bold,"),
        "{e}"
    );
    assert_eq!(
        lines[3],
        "line 6: warning: \"colour\" is not fg, bg or modifiers"
    );
    assert_eq!(lines[4], "line 7: muted: 300 is not a colour index (0-255)");
    assert_eq!(
        lines[5],
        "line 8: heading: a colour is a string or a number, not boolean"
    );

    let e = parse_user("base = \"solarized\"\n").unwrap_err();
    assert_eq!(
        e,
        "line 1: base: \"solarized\" is not a built-in theme (dark, light, mono)"
    );
    let e = parse_user("[colors]\nok = \"green\"\n[colours]\nok = 1\n").unwrap_err();
    assert!(e.starts_with("line 3: unknown field `colours`"), "{e}");
    let e = parse_user("[colors]\nok = \"green\n").unwrap_err();
    assert!(e.starts_with("line 2: "), "{e}");
}

#[test]
fn a_theme_file_that_cannot_be_read_names_its_path() {
    let e = Theme::load(Path::new("/nonexistent/deltascope-theme.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("theme: cannot read the theme file /nonexistent/deltascope-theme.toml"),
        "{e}"
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("deltascope-theme-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn the_flag_wins_over_the_variable_over_the_config_over_no_color() {
    let dir = temp_dir("precedence");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "theme = \"mine.toml\"\n[profiles.a]\nmethod = \"azure-cli\"\n",
    )
    .unwrap();
    // A relative path in the config file is next to the config file.
    std::fs::write(dir.join("mine.toml"), "[colors]\nok = \"blue\"\n").unwrap();
    let mine = parse_user("[colors]\nok = \"blue\"\n").unwrap();

    let all = [("DELTASCOPE_THEME", "light"), ("NO_COLOR", "1")];
    let pick = |flag: Option<&str>, vars: &[(&str, &str)], config: Option<&Path>| {
        choose(&ThemeSettings {
            flag,
            env: &env(vars),
            config_file: config,
        })
        .unwrap()
    };
    assert_eq!(pick(Some("dark"), &all, Some(&config)), Theme::dark());
    assert_eq!(pick(None, &all, Some(&config)), Theme::light());
    assert_eq!(pick(None, &all[1..], Some(&config)), mine);
    assert_eq!(pick(None, &all[1..], None), Theme::mono());
    assert_eq!(pick(None, &[], None), Theme::dark());
    // Empty is unset, for both variables.
    assert_eq!(
        pick(None, &[("DELTASCOPE_THEME", ""), ("NO_COLOR", "")], None),
        Theme::dark()
    );
    // An explicit choice wins over NO_COLOR (https://no-color.org); mono is one of them.
    assert_eq!(pick(Some("light"), &all[1..], None), Theme::light());
    assert_eq!(pick(Some("MONO"), &[], None), Theme::mono());
    // A config file without a theme, or not valid TOML (the profile picker says so), or
    // missing: the next in line.
    std::fs::write(&config, "[profiles.a]\nmethod = \"azure-cli\"\n").unwrap();
    assert_eq!(pick(None, &all[1..], Some(&config)), Theme::mono());
    std::fs::write(&config, "theme = \"light\n").unwrap();
    assert_eq!(pick(None, &[], Some(&config)), Theme::dark());
    assert_eq!(pick(None, &[], Some(&dir.join("none.toml"))), Theme::dark());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_choice_says_where_it_was_made() {
    let dir = temp_dir("bad");
    let config = dir.join("config.toml");
    let choose_with = |flag: Option<&str>, vars: &[(&str, &str)]| {
        choose(&ThemeSettings {
            flag,
            env: &env(vars),
            config_file: Some(&config),
        })
        .unwrap_err()
        .to_string()
    };
    std::fs::write(&config, "theme = 3\n").unwrap();
    let e = choose_with(None, &[]);
    assert!(
        e.starts_with("theme: the config file ")
            && e.ends_with("theme is a string (dark, light, mono or a theme file), not integer"),
        "{e}"
    );
    std::fs::write(&config, "theme = \"bad.toml\"\n").unwrap();
    std::fs::write(dir.join("bad.toml"), "[colors]\n\nok = \"nope\"\n").unwrap();
    let e = choose_with(None, &[]);
    assert!(
        e.starts_with("theme: theme = \"bad.toml\" in the config file "),
        "{e}"
    );
    assert!(
        e.contains("bad.toml is not valid:\nline 3: ok: \"nope\" is not a colour"),
        "{e}"
    );
    let e = choose_with(None, &[("DELTASCOPE_THEME", "/nonexistent/t.toml")]);
    assert!(
        e.starts_with("theme: DELTASCOPE_THEME: not dark, light or mono, and cannot read the theme file /nonexistent/t.toml"),
        "{e}"
    );
    let e = choose_with(Some("sepia"), &[]);
    assert!(
        e.starts_with(
            "theme: --theme sepia: not dark, light or mono, and cannot read the theme file sepia"
        ),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_readme_lists_every_role_with_what_it_marks() {
    let readme = include_str!("../../../README.md");
    for (name, doc) in ROLES {
        let row = format!("| `{name}` | {} |", doc.trim());
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }
}
