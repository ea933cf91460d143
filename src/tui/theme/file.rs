//! The theme file: TOML, the shape of `assets/themes/*.toml`.
//!
//! ```toml
//! base = "light"                      # the built-in theme laid under (default: dark)
//!
//! [colors]
//! selection = { bg = "#dde6ff" }      # a table: fg, bg, modifiers; what it leaves out stays
//! json_key = "blue"                   # a colour alone: the foreground
//! line_number = 244                   # an indexed colour (0-255)
//! error_strong = { fg = "red", modifiers = ["bold", "underlined"] }
//! muted = { fg = "default" }          # "default": the terminal's own colour
//! ```
//!
//! Colours: a name (black, red, green, yellow, blue, magenta, cyan, gray, darkgray, lightred,
//! lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, white), `#rrggbb`, an index
//! 0-255 (a number or a string), or `default`. Modifiers: bold, dim, italic, underlined,
//! reversed, crossed_out. Every mistake is reported with its line, all of them at once.
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::{BUILT_IN, ROLES, Theme};

/// A theme that cannot be used, with where and why (the explorer does not start with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError(pub String);

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "theme: {}", self.0)
    }
}

impl std::error::Error for ThemeError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    base: Option<Spanned<String>>,
    #[serde(default)]
    colors: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

/// The modifiers a file may name.
const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("underline", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("reverse", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A colour as a file writes it; `None` for `default` (the terminal's own).
fn color(value: &toml::Value) -> Result<Option<Color>, String> {
    match value {
        toml::Value::Integer(n) => u8::try_from(*n)
            .map(|i| Some(Color::Indexed(i)))
            .map_err(|_| format!("{n} is not a colour index (0-255)")),
        toml::Value::String(s) if s.eq_ignore_ascii_case("default") => Ok(None),
        toml::Value::String(s) => Color::from_str(s.trim()).map(Some).map_err(|_| {
            format!(
                "{:?} is not a colour (a name such as blue or darkgray, #rrggbb, 0-255, or default)",
                crate::text::one_line(s)
            )
        }),
        other => Err(format!(
            "a colour is a string or a number, not {}",
            other.type_str()
        )),
    }
}

fn modifiers(value: &toml::Value) -> Result<Modifier, String> {
    let list = value
        .as_array()
        .ok_or_else(|| "modifiers is a list, e.g. [\"bold\", \"underlined\"]".to_owned())?;
    let mut out = Modifier::empty();
    for item in list {
        let name = item.as_str().unwrap_or_default();
        let m = MODIFIERS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                format!(
                    "{} is not a modifier (bold, dim, italic, underlined, reversed, crossed_out)",
                    crate::text::one_line(&item.to_string())
                )
            })?;
        out |= m;
    }
    Ok(out)
}

/// Lays `value` over `style`: a colour alone sets the foreground; a table sets what it names.
fn apply(style: &mut Style, value: &toml::Value) -> Result<(), String> {
    let Some(table) = value.as_table() else {
        style.fg = color(value)?;
        return Ok(());
    };
    let mut out = *style;
    for (k, v) in table {
        match k.as_str() {
            "fg" => out.fg = color(v).map_err(|e| format!("fg: {e}"))?,
            "bg" => out.bg = color(v).map_err(|e| format!("bg: {e}"))?,
            "modifiers" => {
                out.add_modifier = modifiers(v)?;
                out.sub_modifier = Modifier::empty();
            }
            other => {
                return Err(format!(
                    "{:?} is not fg, bg or modifiers",
                    crate::text::one_line(other)
                ));
            }
        }
    }
    *style = out;
    Ok(())
}

/// Parses a theme file's `text`. `start` is the theme used when the file names no `base`
/// (`None`: a built-in file, which starts blank and must name every role). Returns the theme
/// and the roles the file set; every mistake is one line of the error, with its line number.
fn parse(text: &str, start: Option<Theme>) -> Result<(Theme, Vec<String>), String> {
    let raw: RawTheme = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!("line {}: ", line_of(text, s.start)))
            .unwrap_or_default();
        format!(
            "{at}{}",
            e.message().lines().next().unwrap_or("not valid TOML")
        )
    })?;
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut theme = match (&raw.base, start) {
        (Some(base), _) => match BUILT_IN
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(base.get_ref()))
        {
            Some(i) => super::PARSED[i].clone(),
            None => {
                errors.push((
                    line_of(text, base.span().start),
                    format!(
                        "base: {:?} is not a built-in theme (dark, light, mono)",
                        crate::text::one_line(base.get_ref())
                    ),
                ));
                Theme::dark()
            }
        },
        (None, Some(start)) => start,
        (None, None) => Theme::blank(),
    };
    let mut set = Vec::new();
    for (name, value) in &raw.colors {
        let line = line_of(text, name.span().start);
        let Some(style) = theme.role_mut(name.get_ref()) else {
            errors.push((
                line,
                format!(
                    "{:?} is not a role; the roles: {}",
                    crate::text::one_line(name.get_ref()),
                    ROLES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            ));
            continue;
        };
        match apply(style, value.get_ref()) {
            Ok(()) => set.push(name.get_ref().clone()),
            Err(e) => errors.push((line, format!("{}: {e}", name.get_ref()))),
        }
    }
    if errors.is_empty() {
        return Ok((theme, set));
    }
    errors.sort();
    Err(errors
        .iter()
        .map(|(line, e)| format!("line {line}: {e}"))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// A user's theme file: its roles laid over its `base` (dark when it names none).
pub fn parse_user(text: &str) -> Result<Theme, String> {
    parse(text, Some(Theme::dark())).map(|(t, _)| t)
}

/// A built-in theme's file: it must name every role.
pub(super) fn parse_built_in(text: &str) -> Result<Theme, String> {
    let (theme, set) = parse(text, None)?;
    let missing: Vec<&str> = ROLES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !set.iter().any(|s| s == n))
        .collect();
    if missing.is_empty() {
        Ok(theme)
    } else {
        Err(format!("roles missing: {}", missing.join(", ")))
    }
}

impl Theme {
    /// The theme in the file at `path` (see the module's documentation).
    pub fn load(path: &Path) -> Result<Theme, ThemeError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ThemeError(format!(
                "cannot read the theme file {}: {e}",
                path.display()
            ))
        })?;
        parse_user(&text).map_err(|e| {
            ThemeError(format!(
                "the theme file {} is not valid:\n{e}",
                path.display()
            ))
        })
    }
}
