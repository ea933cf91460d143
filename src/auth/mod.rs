//! Token sources behind one trait. The engine asks for a token before every attempt, so a
//! source may refresh it; nothing here ever prints a token.
pub mod cloud;

pub use cloud::{Authority, Cloud};

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A bearer token. Its `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(s: impl Into<String>) -> Self {
        AccessToken(s.into())
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why no token could be had. Messages never contain a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no access token is configured: {0}")]
    Missing(String),
    #[error("could not get an access token: {0}")]
    Failed(String),
}

/// The future a [`TokenSource`] returns.
pub type TokenFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + 'a>>;

/// Anything that can hand out a bearer token for the Graph root in use.
pub trait TokenSource: Send + Sync {
    /// A token valid for a while yet (a cached one when it is not about to expire).
    fn token(&self) -> TokenFuture<'_>;

    /// A new token, ignoring any cache: the client calls this once after a 401 and retries
    /// with the result. Sources that cannot refresh return what [`TokenSource::token`] does.
    fn refresh(&self) -> TokenFuture<'_> {
        self.token()
    }
}

/// A fixed token (from an environment variable or the command line).
#[derive(Debug, Clone)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    pub fn new(t: AccessToken) -> Self {
        StaticToken(t)
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        let t = self.0.clone();
        Box::pin(async move {
            if t.secret().is_empty() {
                Err(AuthError::Missing("the token is empty".into()))
            } else {
                Ok(t)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_secret() {
        let t = AccessToken::new("eyJ0eXAiOiJKV1QiLCJhbGciOi");
        assert_eq!(format!("{t:?}"), "AccessToken(***)");
        assert_eq!(format!("{t}"), "***");
        assert_eq!(
            format!("{:?}", StaticToken::new(t.clone())),
            "StaticToken(AccessToken(***))"
        );
        assert_eq!(t.secret(), "eyJ0eXAiOiJKV1QiLCJhbGciOi");
    }
}
