//! The delta engine: queries, links, the HTTP client, pages, rounds and the replica.
//! No UI code here; the TUI and `deltascope sync` drive it.
// GraphError::Http carries everything a support case needs (the contract's shape); it is
// returned once per failed page, so its size does not matter.
#![allow(clippy::result_large_err)]
pub mod catalog;
pub mod client;
pub mod error;
pub mod explain;
pub mod guard;
pub mod link;
pub mod page;
pub mod query;
pub mod replica;
pub mod round;
mod scan;
pub mod summary;

pub use catalog::{Catalog, ResourceSpec};
pub use client::{ClientConfig, FetchProgress, GraphClient, Unparsed};
pub use error::GraphError;
pub use guard::{RoundLimits, Stop};
pub use page::{Item, Page, PageRequest, RemovedReason, RequestKind};
pub use query::{ApiVersion, DeltaQuery, GraphRoot, Problem, QueryError, Validation};
pub use round::{Outcome, PageReport, Replica, RoundSummary, Session};
