//! Harness code shared by the integration tests (each test file is its own crate and includes
//! this with `mod support;`): an emulator with an identity platform and its token requests, the
//! scripted explorer, scratch directories and fixtures. Not every test uses every helper.
#![allow(dead_code, clippy::unwrap_used)]

pub mod engine;
pub mod explorer;
pub mod fixtures;
pub mod hostile;
pub mod identity;
pub mod pty;

use std::path::PathBuf;

/// A fresh directory under the system's temporary directory, named after `what`.
pub fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deltascope-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A file of `tests/fixtures/auth` (test certificates and keys).
pub fn auth_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/auth")
        .join(name)
}
