//! Delegated sign-in with a device code: show the user a code and a URL, poll the token endpoint
//! at the server's interval until the user has signed in (`authorization_pending`, `slow_down`,
//! `expired_token` and a declined sign-in handled), cancellable at any time. With
//! `offline_access` the refresh token renews the access token without a new prompt.
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::aad::{http_client, parse_error, parse_token_response, post_form, request_token};
use super::cache::{Acquire, AcquireFuture, Acquired, expires_in};
use super::{AuthError, Authority, Secret};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What to show the user: open `verification_uri` and enter `user_code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// The service's own sentence ("To sign in, use a web browser to open the page ...").
    pub message: String,
    pub expires_at: DateTime<Utc>,
}

/// Called with the prompt once per sign-in (the UI shows it and offers to copy the code).
pub type PromptFn = Arc<dyn Fn(&DevicePrompt) + Send + Sync>;

/// Polling knobs.
#[derive(Clone, Debug)]
pub struct DeviceCodeOptions {
    /// Added to the interval on each `slow_down` (RFC 8628: 5 seconds).
    pub slow_down_step: Duration,
    /// The shortest wait between polls, whatever the server says.
    pub min_interval: Duration,
}

impl Default for DeviceCodeOptions {
    fn default() -> Self {
        DeviceCodeOptions {
            slow_down_step: Duration::from_secs(5),
            min_interval: Duration::from_millis(50),
        }
    }
}

#[derive(Deserialize)]
struct DeviceAuth {
    user_code: String,
    device_code: String,
    verification_uri: Option<String>,
    /// Older v1 endpoints spell it `verification_url`.
    verification_url: Option<String>,
    expires_in: Option<u64>,
    interval: Option<u64>,
    message: Option<String>,
}

/// The device-code flow.
pub struct DeviceCode {
    http: reqwest::Client,
    authority: Authority,
    client_id: String,
    scopes: String,
    prompt: PromptFn,
    cancel: CancellationToken,
    options: DeviceCodeOptions,
    refresh_token: tokio::sync::Mutex<Option<Secret>>,
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl DeviceCode {
    /// `scopes`: delegated permissions, each either full (`https://graph.microsoft.com/X`) or bare
    /// (`X`, then prefixed with `resource`); `offline_access` is added so that the token can be
    /// renewed without a new prompt.
    pub fn new(
        authority: Authority,
        client_id: &str,
        resource: &str,
        scopes: &[String],
        prompt: PromptFn,
        cancel: CancellationToken,
    ) -> Result<Self, AuthError> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(AuthError::Missing(
                "no client id for the device-code sign-in: set AZURE_CLIENT_ID or --client-id (a public-client app registration)".into(),
            ));
        }
        let resource = resource.trim_end_matches('/');
        let mut list: Vec<String> = scopes
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                let s = s.trim();
                if s.contains("://")
                    || ["openid", "profile", "offline_access", "email"].contains(&s)
                {
                    s.to_string()
                } else {
                    format!("{resource}/{s}")
                }
            })
            .collect();
        if list.is_empty() {
            list.push(format!("{resource}/.default"));
        }
        if !list.iter().any(|s| s == "offline_access") {
            list.push("offline_access".into());
        }
        Ok(DeviceCode {
            http: http_client()?,
            authority,
            client_id: client_id.to_string(),
            scopes: list.join(" "),
            prompt,
            cancel,
            options: DeviceCodeOptions::default(),
            refresh_token: tokio::sync::Mutex::new(None),
        })
    }

    /// Sends the sign-in requests trusting `cas` besides the platform's roots (`--ca-cert`).
    pub fn with_trust(mut self, cas: Option<&crate::trust::CaCerts>) -> Result<Self, AuthError> {
        if cas.is_some() {
            self.http = super::aad::http_client_trusting(cas)?;
        }
        Ok(self)
    }

    pub fn with_options(mut self, options: DeviceCodeOptions) -> Self {
        self.options = options;
        self
    }

    pub fn scopes(&self) -> &str {
        &self.scopes
    }

    async fn sleep(&self, d: Duration) -> Result<(), AuthError> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(AuthError::Cancelled),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }

    async fn run(&self) -> Result<Acquired, AuthError> {
        if self.cancel.is_cancelled() {
            return Err(AuthError::Cancelled);
        }
        let url = self.authority.token_url();
        // A refresh token first: no prompt.
        let rt = self.refresh_token.lock().await.take();
        if let Some(rt) = rt {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", self.client_id.as_str()),
                ("refresh_token", rt.expose()),
                ("scope", self.scopes.as_str()),
            ];
            let r = tokio::select! {
                _ = self.cancel.cancelled() => return Err(AuthError::Cancelled),
                r = request_token(&self.http, &url, &form) => r,
            };
            match r {
                Ok(r) => return Ok(self.keep(r).await),
                Err(AuthError::Rejected { .. }) => {} // expired or revoked: sign in again
                Err(e) => return Err(e),
            }
        }
        self.sign_in().await
    }

    async fn keep(&self, r: super::aad::TokenResponse) -> Acquired {
        if let Some(rt) = r.refresh_token {
            *self.refresh_token.lock().await = Some(rt);
        }
        Acquired {
            expires_at: expires_in(r.expires_in)
                .or_else(|| super::jwt::expiry(r.access_token.secret())),
            token: r.access_token,
        }
    }

    async fn sign_in(&self) -> Result<Acquired, AuthError> {
        let dc_url = self.authority.device_code_url();
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scope", self.scopes.as_str()),
        ];
        let (status, body) = tokio::select! {
            _ = self.cancel.cancelled() => return Err(AuthError::Cancelled),
            r = post_form(&self.http, &dc_url, &form) => r?,
        };
        if !(200..300).contains(&status) {
            return Err(parse_error(&body)
                .unwrap_or_else(|| AuthError::Failed(format!("{dc_url} answered HTTP {status}"))));
        }
        let auth: DeviceAuth = serde_json::from_slice(&body).map_err(|_| {
            AuthError::Failed(format!(
                "{dc_url} answered with a body that is not a device-code response"
            ))
        })?;
        let lifetime = auth.expires_in.unwrap_or(900);
        let expires_at = Utc::now() + chrono::Duration::seconds(lifetime.min(86_400) as i64);
        let verification_uri = auth
            .verification_uri
            .or(auth.verification_url)
            .unwrap_or_else(|| "https://microsoft.com/devicelogin".into());
        let message = auth.message.unwrap_or_else(|| {
            format!(
                "To sign in, use a web browser to open the page {verification_uri} and enter the code {} to authenticate.",
                auth.user_code
            )
        });
        (self.prompt)(&DevicePrompt {
            user_code: auth.user_code.clone(),
            verification_uri,
            message,
            expires_at,
        });
        let mut interval =
            Duration::from_secs(auth.interval.unwrap_or(5).min(60)).max(self.options.min_interval);
        let url = self.authority.token_url();
        loop {
            self.sleep(interval).await?;
            if Utc::now() >= expires_at {
                return Err(AuthError::DeviceCodeExpired);
            }
            let form = [
                ("grant_type", DEVICE_GRANT),
                ("client_id", self.client_id.as_str()),
                ("device_code", auth.device_code.as_str()),
            ];
            let (status, body) = tokio::select! {
                _ = self.cancel.cancelled() => return Err(AuthError::Cancelled),
                r = post_form(&self.http, &url, &form) => r?,
            };
            match parse_token_response(&url, status, &body) {
                Ok(r) => return Ok(self.keep(r).await),
                Err(AuthError::Rejected {
                    error,
                    codes,
                    description,
                }) => match error.as_str() {
                    "authorization_pending" => continue,
                    "slow_down" => {
                        interval += self.options.slow_down_step;
                        continue;
                    }
                    "expired_token" | "code_expired" => return Err(AuthError::DeviceCodeExpired),
                    "authorization_declined" | "access_denied" => return Err(AuthError::Declined),
                    _ => {
                        return Err(AuthError::Rejected {
                            error,
                            codes,
                            description,
                        });
                    }
                },
                Err(e) => return Err(e),
            }
        }
    }
}

impl Acquire for DeviceCode {
    fn acquire(&self) -> AcquireFuture<'_> {
        Box::pin(self.run())
    }

    fn describe(&self) -> String {
        format!(
            "device-code sign-in of client {} at {} for {}",
            self.client_id,
            self.authority.device_code_url(),
            self.scopes
        )
    }
}
