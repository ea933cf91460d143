//! The engine's limits against a server that goes nowhere or sends too much, as command-line
//! options of both the explorer and `deltascope sync`.
use crate::graph::client::{ClientConfig, DEFAULT_MAX_BODY_BYTES};
use crate::graph::guard::{DEFAULT_MAX_IDLE_PAGES, RoundLimits};

/// The default of `--max-body-mib`: the client's own default, in MiB.
const DEFAULT_MAX_BODY_MIB: u32 = (DEFAULT_MAX_BODY_BYTES / (1024 * 1024)) as u32;

#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct LimitArgs {
    /// Pages in a row that bring nothing new (no items, or only items already seen in the
    /// round) before the round stops as a loop (1 to 1,000,000); Graph may send a few empty
    /// pages. A nextLink already followed in the round stops it at once.
    #[arg(long, value_name = "PAGES", default_value_t = DEFAULT_MAX_IDLE_PAGES as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_idle_pages: u32,
    /// The largest response body accepted, in MiB (1 to 4096): a larger one is refused as soon
    /// as it passes the limit (or at once, when its Content-Length says so).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_BODY_MIB, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_body_mib: u32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        LimitArgs {
            max_idle_pages: DEFAULT_MAX_IDLE_PAGES as u32,
            max_body_mib: DEFAULT_MAX_BODY_MIB,
        }
    }
}

impl LimitArgs {
    pub fn round_limits(&self) -> RoundLimits {
        RoundLimits {
            max_idle_pages: self.max_idle_pages as usize,
        }
    }

    /// `base` with the body limit set.
    pub fn client_config(&self, base: ClientConfig) -> ClientConfig {
        ClientConfig {
            max_body_bytes: self.max_body_mib as usize * 1024 * 1024,
            ..base
        }
    }
}
