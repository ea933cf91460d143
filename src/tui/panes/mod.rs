//! One file per pane; each draws from `&Model` only.
pub mod help;
pub mod json;
pub mod query;
pub mod results;
pub mod status;
pub mod token;
