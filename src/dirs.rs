//! The platform's directories for deltascope, decided in one place: the config directory holds
//! the profiles (`config.toml`) and the keymap overlay (`keymap.toml`); the data directory holds
//! the session store (`sessions.sqlite`).
use std::path::PathBuf;

/// A variable's value as a path; unset and empty are the same.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The config directory: `%APPDATA%\deltascope` on Windows, `~/Library/Application
/// Support/deltascope` on macOS, `$XDG_CONFIG_HOME/deltascope` (an absolute one) or
/// `~/.config/deltascope` elsewhere.
pub fn config_dir() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        env_path("APPDATA")
    } else if cfg!(target_os = "macos") {
        env_path("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env_path("XDG_CONFIG_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| env_path("HOME").map(|h| h.join(".config")))
    }?;
    Some(base.join("deltascope"))
}

/// The data directory (the session store): `%LOCALAPPDATA%\deltascope` on Windows,
/// `~/Library/Application Support/deltascope` on macOS, `$XDG_DATA_HOME/deltascope` (an
/// absolute one) or `~/.local/share/deltascope` elsewhere.
pub fn data_dir() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        env_path("LOCALAPPDATA").or_else(|| env_path("APPDATA"))
    } else if cfg!(target_os = "macos") {
        env_path("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env_path("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| env_path("HOME").map(|h| h.join(".local").join("share")))
    }?;
    Some(base.join("deltascope"))
}
