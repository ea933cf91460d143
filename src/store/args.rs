//! The command line's say on the store: `--store FILE` (or `DELTASCOPE_STORE`) and
//! `--no-store`, shared by the explorer, `sync` and `export`.
use std::path::PathBuf;

use super::{Store, StoreError};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// The session store, a SQLite file (default: sessions.sqlite in the data directory,
    /// $XDG_DATA_HOME/deltascope on Linux).
    #[arg(long = "store", env = "DELTASCOPE_STORE", value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Record nothing and read no stored session.
    #[arg(long, conflicts_with = "store")]
    pub no_store: bool,
}

impl StoreArgs {
    /// The file to use; `None` with `--no-store` or when no data directory is known.
    pub fn path(&self) -> Option<PathBuf> {
        if self.no_store {
            return None;
        }
        self.store
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(super::default_path)
    }

    /// Opens the store (`Ok(None)`: turned off).
    pub fn open(&self) -> Result<Option<Store>, StoreError> {
        self.path().map(|p| Store::open(&p)).transpose()
    }
}
