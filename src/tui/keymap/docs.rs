//! The documents generated from the keymap: the default keymap file (`assets/keymap.toml`)
//! and the README's keys tables. Tests compare both with the files in the repository.
use std::fmt::Write as _;

use super::actions::Action;
use super::bindings::Keymap;
use super::context::Context;

/// The head of the default keymap file: how to read it and how a user file overlays it.
const TOML_HEAD: &str = "\
# deltascope key bindings (written from the explorer's own action list: edit a copy, not this).
#
# Sections are focus contexts: [global] applies everywhere except text fields and overlays;
# [query], [results] and [json] apply when that pane has the focus and win over [global];
# [ids_editor] applies while editing the id filter (every other key types text); [sign_in]
# while a device code is shown, [profiles] in the profile picker, [overlay] in the help and
# the token inspector, [new_query] while a new query asks what becomes of the rounds,
# [line_input] while typing a search, a parameter, $top or a field name (only their own keys
# work there). Ctrl-C always quits, even inside a text field.
#
# Keys: a character (\"q\", \"?\", \"D\" = shift-d), or a name: enter esc tab backtab space
# backspace delete up down left right pgup pgdn home end f1..f12, with optional ctrl- / alt-
# prefixes (\"ctrl-r\"). A user file with the same shape replaces the bindings of the actions it
# names, in the sections it names (an empty list unbinds one); an unknown section, action or
# key is an error that names it.
";

/// The default keymap file, written from every action's declared defaults, a section per
/// context in [`Context::ALL`] order and the actions in declaration order.
pub fn defaults_toml() -> String {
    let mut out = TOML_HEAD.to_owned();
    for ctx in Context::ALL {
        let _ = write!(out, "\n[{}]\n", ctx.name());
        for &action in Action::ALL {
            for (c, keys) in action.spec().defaults {
                if *c == ctx {
                    let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
                    let _ = writeln!(out, "{} = [{}]", action.name(), keys.join(", "));
                }
            }
        }
    }
    out
}

/// The README's "#### Keys" section body: a table per context, from `map` (the defaults for
/// the README), in the same words as the help overlay.
pub fn readme_keys(map: &Keymap) -> String {
    let mut out = String::from(
        "These tables are generated from the keymap (a test keeps them so). The help overlay shows\n\
         the same with your own keys: `--keymap FILE`, or `keymap.toml` in the config directory,\n\
         changes them, in the shape of `assets/keymap.toml`. `Ctrl-C` always quits, even inside a\n\
         text field.\n",
    );
    for (ctx, rows) in map.help_sections() {
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "\n{} ({}):\n\n| key | action |\n| --- | --- |\n",
            ctx.title(),
            ctx.when()
        );
        for (keys, what) in rows {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            let _ = writeln!(out, "| {} | {} |", keys.join(" "), what.replace('|', "\\|"));
        }
    }
    out.push_str("\nMouse: click a pane to focus it, wheel to scroll it.\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::keymap::DEFAULT_KEYMAP;

    /// The first line where `want` and `got` differ, with both lines, for a readable failure.
    pub(crate) fn first_difference(want: &str, got: &str) -> String {
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
        for i in 0..w.len().max(g.len()) {
            if w.get(i) != g.get(i) {
                return format!(
                    "line {}:\n  generated: {:?}\n  in file:   {:?}",
                    i + 1,
                    w.get(i).unwrap_or(&"(nothing)"),
                    g.get(i).unwrap_or(&"(nothing)")
                );
            }
        }
        "no difference".to_owned()
    }

    #[test]
    fn the_shipped_keymap_file_is_the_generated_one() {
        let want = defaults_toml();
        if want != DEFAULT_KEYMAP && std::env::var_os("DELTASCOPE_BLESS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/keymap.toml");
            std::fs::write(path, &want).unwrap();
            return;
        }
        assert!(
            want == DEFAULT_KEYMAP,
            "assets/keymap.toml is not what the actions declare (DELTASCOPE_BLESS=1 rewrites it)\n{}",
            first_difference(&want, DEFAULT_KEYMAP)
        );
        // And it reads back as exactly the defaults.
        let parsed = Keymap::parse(DEFAULT_KEYMAP).unwrap();
        let defaults = Keymap::default();
        for ctx in Context::ALL {
            assert_eq!(parsed.bindings(ctx), defaults.bindings(ctx), "{ctx:?}");
        }
    }

    /// The README's "#### Keys" section, up to the next heading: (text before its body, the
    /// body, text after it).
    fn keys_section(readme: &str) -> (&str, &str, &str) {
        let head = "#### Keys\n\n";
        let start = readme.find(head).map(|i| i + head.len()).unwrap();
        let end = readme[start..].find("\n#").map(|i| start + i + 1).unwrap();
        (&readme[..start], &readme[start..end], &readme[end..])
    }

    #[test]
    fn the_readme_keys_are_the_keymap() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (before, body, after) = keys_section(&readme);
        let want = format!("{}\n", readme_keys(&Keymap::default()));
        if want != body && std::env::var_os("DELTASCOPE_BLESS").is_some() {
            std::fs::write(path, format!("{before}{want}{after}")).unwrap();
            return;
        }
        assert!(
            want == body,
            "README.md's \"#### Keys\" is not what the keymap says (DELTASCOPE_BLESS=1 rewrites it)\n{}",
            first_difference(&want, body)
        );
    }

    #[test]
    fn the_readme_keys_follow_a_remap() {
        let map = Keymap::with_overlay("[global]\nnew_query = [\"alt-n\"]\n").unwrap();
        let doc = readme_keys(&map);
        assert!(doc.contains("| `alt-n` | new query"), "{doc}");
        assert!(!doc.contains("`ctrl-n`"), "{doc}");
    }

    #[test]
    fn every_default_key_parses() {
        for a in Action::ALL {
            for (ctx, keys) in a.spec().defaults {
                for k in *keys {
                    assert!(
                        crate::tui::keymap::KeyChord::parse(k).is_ok(),
                        "{a:?} in {ctx:?}: {k:?}"
                    );
                }
            }
        }
    }
}
