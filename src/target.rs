//! Where requests go, decided one way for the explorer, `sync` and `token`: the Graph root given
//! on the command line (or in `DELTASCOPE_GRAPH_ROOT`), else the one the sign-in implies (a
//! profile's `graph_root`, a `--cloud`), else, for the commands that can, the embedded emulator
//! with its demo token.
use crate::auth::select::process_env;
use crate::auth::{AccessToken, AuthArgs};
use crate::graph::query::GraphRoot;

/// The bearer token the embedded emulator gets when `DELTASCOPE_TOKEN` does not name another
/// (it accepts any token unless told to enforce sign-in).
pub const DEMO_TOKEN: &str = "deltascope-emulator-demo-token";

/// Where a command sends its requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Graph root: the sign-in decides the token.
    Graph(GraphRoot),
    /// Nothing configured: the embedded emulator's demo tenant, with [`demo_token`].
    Embedded,
}

/// `--graph-root` (given or from the environment) first, then what the sign-in implies, then
/// the embedded emulator. An error names the value that is wrong.
pub fn choose(graph_root: Option<&str>, auth: &AuthArgs) -> Result<Target, String> {
    let root = match graph_root.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(r.to_owned()),
        None => auth.implied_graph_root().map_err(|e| e.to_string())?,
    };
    match root {
        Some(r) => GraphRoot::parse(&r)
            .map(Target::Graph)
            .map_err(|e| e.to_string()),
        None => Ok(Target::Embedded),
    }
}

/// The token sent to the embedded emulator: `DELTASCOPE_TOKEN` when it holds one (an empty or
/// blank value is no token, as for every other variable the sign-in reads), else [`DEMO_TOKEN`].
pub fn demo_token() -> AccessToken {
    AccessToken::new(process_env("DELTASCOPE_TOKEN").unwrap_or_else(|| DEMO_TOKEN.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_given_root_wins_a_blank_one_is_none_and_nothing_means_the_emulator() {
        let auth = AuthArgs::default();
        assert_eq!(
            choose(Some(" usgov "), &auth).unwrap(),
            Target::Graph(GraphRoot::parse("https://graph.microsoft.us").unwrap())
        );
        assert_eq!(choose(Some("  "), &auth).unwrap(), Target::Embedded);
        assert_eq!(choose(None, &auth).unwrap(), Target::Embedded);
        let err = choose(Some("http://graph.example"), &auth).unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        let cloud = AuthArgs {
            cloud: Some(crate::auth::Cloud::China),
            ..Default::default()
        };
        assert_eq!(
            choose(None, &cloud).unwrap(),
            Target::Graph(GraphRoot::parse("https://microsoftgraph.chinacloudapi.cn").unwrap())
        );
    }
}
