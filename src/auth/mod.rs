//! Token sources behind one trait. The engine asks for a token before every attempt, so a
//! source may refresh it; nothing here ever prints a token.
pub mod aad;
pub mod cache;
pub mod certificate;
pub mod client_credentials;
pub mod cloud;
pub mod device_code;
pub mod external;
pub mod inspect;
pub mod jwt;
pub mod profile;
pub mod select;

pub use cache::{Acquire, Acquired, Cached};
pub use certificate::ClientCertificate;
pub use client_credentials::{ClientCredential, ClientCredentials};
pub use cloud::{Authority, Cloud};
pub use device_code::{DeviceCode, DeviceCodeOptions, DevicePrompt, PromptFn};
pub use external::{AzureCli, EnvToken, FileToken, FixedToken};
pub use inspect::{Check, TokenInfo, TokenKind};
pub use profile::{Method, Profile, Profiles};
pub use select::{AuthArgs, AuthPlan, SignInFailure};

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

/// A client secret. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the token request body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why no token could be had. Messages never contain a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("cannot sign in: {0}")]
    Missing(String),
    #[error("could not get an access token: {0}")]
    Failed(String),
    /// The sign-in service refused (an AAD error body): `error` is the OAuth error
    /// (`invalid_client`, `invalid_scope`, ...), `codes` the AADSTS numbers, `description` the
    /// first line of `error_description`.
    #[error("the sign-in service refused: {error}: {description}{}", hint_for(.error, .codes))]
    Rejected {
        error: String,
        codes: Vec<u64>,
        description: String,
    },
    #[error("the sign-in was cancelled")]
    Cancelled,
    #[error("the device code expired before the sign-in was completed; start the sign-in again")]
    DeviceCodeExpired,
    #[error("the user declined the sign-in")]
    Declined,
}

fn hint_for(error: &str, codes: &[u64]) -> &'static str {
    if codes.contains(&7000215) || codes.contains(&7000222) {
        " (check the client secret's value, not its id, and its expiry)"
    } else if codes.contains(&700016) {
        " (check the client id, the tenant and the cloud)"
    } else if codes.contains(&90002) {
        " (check the tenant and the cloud: tokens do not cross clouds)"
    } else if codes.contains(&700027) {
        " (the certificate is not registered on the app, or the key does not match)"
    } else if error == "invalid_scope" {
        " (app-only sign-in asks for {graph root}/.default)"
    } else {
        ""
    }
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
