//! Which theme: `--theme`, else `DELTASCOPE_THEME`, else the config file's `theme` key, else
//! `mono` when `NO_COLOR` is set and not empty, else `dark`. Each names a built-in theme
//! (`dark`, `light`, `mono`) or a theme file. As <https://no-color.org> asks, a theme chosen
//! on purpose (the flag, the variable, the config file) wins over `NO_COLOR`.
use std::path::{Path, PathBuf};

use super::{Theme, ThemeError};

/// What the choice is made from (the process's own, or a test's).
pub struct ThemeSettings<'a> {
    /// `--theme`.
    pub flag: Option<&'a str>,
    /// The environment: `DELTASCOPE_THEME`, `NO_COLOR`.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The config file (`--config`, `DELTASCOPE_CONFIG` or the platform's default), if any.
    pub config_file: Option<&'a Path>,
}

/// A built-in theme's name or a file's path; a relative path is taken from `dir`.
fn resolve(spec: &str, dir: Option<&Path>) -> Result<Theme, ThemeError> {
    let spec = spec.trim();
    if let Some(theme) = Theme::built_in(spec) {
        return Ok(theme);
    }
    let path = PathBuf::from(spec);
    let path = match dir {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path,
    };
    Theme::load(&path).map_err(|e| {
        if path.exists() {
            e
        } else {
            // A misspelt built-in name reads better as one.
            ThemeError(format!("not dark, light or mono, and {}", e.0))
        }
    })
}

/// The config file's `theme` key, if the file exists and says one. A file that is not valid
/// TOML is left to the profile picker, which says so; a `theme` that is not a string is an
/// error here.
fn config_theme(path: &Path) -> Result<Option<String>, ThemeError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(None);
    };
    match table.get("theme") {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ThemeError(format!(
            "the config file {}: theme is a string (dark, light, mono or a theme file), not {}",
            path.display(),
            other.type_str()
        ))),
    }
}

/// The theme the explorer starts with (see the module's documentation).
pub fn choose(s: &ThemeSettings<'_>) -> Result<Theme, ThemeError> {
    let nonempty = |name: &str| (s.env)(name).filter(|v| !v.is_empty());
    if let Some(flag) = s.flag {
        return resolve(flag, None)
            .map_err(|e| ThemeError(format!("--theme {}: {}", flag.trim(), e.0)));
    }
    if let Some(v) = nonempty("DELTASCOPE_THEME") {
        return resolve(&v, None).map_err(|e| ThemeError(format!("DELTASCOPE_THEME: {}", e.0)));
    }
    if let Some(path) = s.config_file
        && let Some(v) = config_theme(path)?
    {
        return resolve(&v, path.parent()).map_err(|e| {
            ThemeError(format!(
                "theme = {v:?} in the config file {}: {}",
                path.display(),
                e.0
            ))
        });
    }
    if nonempty("NO_COLOR").is_some() {
        return Ok(Theme::mono());
    }
    Ok(Theme::dark())
}
