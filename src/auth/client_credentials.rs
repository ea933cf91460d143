//! App-only sign-in (client credentials): a client secret or a certificate. The only way to read
//! callRecordings, whose permission is application-only.
use super::aad::{http_client, request_token};
use super::cache::{Acquire, AcquireFuture, Acquired, expires_in};
use super::{AuthError, Authority, ClientCertificate, Secret};

/// How the app proves who it is.
#[derive(Clone, Debug)]
pub enum ClientCredential {
    Secret(Secret),
    Certificate(ClientCertificate),
}

/// Client-credentials flow against `authority` for `scope` (`{Graph root}/.default`).
#[derive(Clone)]
pub struct ClientCredentials {
    http: reqwest::Client,
    authority: Authority,
    client_id: String,
    credential: ClientCredential,
    scope: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl ClientCredentials {
    /// `resource` is the Graph root the token is for (`https://graph.microsoft.com`, or the
    /// emulator's origin); the scope asked is `{resource}/.default`.
    pub fn new(
        authority: Authority,
        client_id: &str,
        credential: ClientCredential,
        resource: &str,
    ) -> Result<Self, AuthError> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(AuthError::Missing(
                "no client id: set AZURE_CLIENT_ID or --client-id".into(),
            ));
        }
        if let ClientCredential::Secret(s) = &credential
            && s.expose().is_empty()
        {
            return Err(AuthError::Missing("the client secret is empty".into()));
        }
        Ok(ClientCredentials {
            http: http_client()?,
            authority,
            client_id: client_id.to_string(),
            credential,
            scope: format!("{}/.default", resource.trim_end_matches('/')),
        })
    }

    /// Sends the token requests trusting `cas` besides the platform's roots (`--ca-cert`).
    pub fn with_trust(mut self, cas: Option<&crate::trust::CaCerts>) -> Result<Self, AuthError> {
        if cas.is_some() {
            self.http = super::aad::http_client_trusting(cas)?;
        }
        Ok(self)
    }

    pub fn scope(&self) -> &str {
        &self.scope
    }

    async fn run(&self) -> Result<Acquired, AuthError> {
        let url = self.authority.token_url();
        let assertion;
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("scope", &self.scope),
        ];
        match &self.credential {
            ClientCredential::Secret(s) => form.push(("client_secret", s.expose())),
            ClientCredential::Certificate(c) => {
                assertion = c.assertion(&self.client_id, &url)?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", &assertion));
            }
        }
        let r = request_token(&self.http, &url, &form).await?;
        Ok(Acquired {
            expires_at: expires_in(r.expires_in)
                .or_else(|| super::jwt::expiry(r.access_token.secret())),
            token: r.access_token,
        })
    }
}

impl Acquire for ClientCredentials {
    fn acquire(&self) -> AcquireFuture<'_> {
        Box::pin(self.run())
    }

    fn describe(&self) -> String {
        let how = match &self.credential {
            ClientCredential::Secret(_) => "client secret".to_string(),
            ClientCredential::Certificate(c) => format!("certificate {}", c.thumbprint()),
        };
        format!(
            "app-only sign-in of client {} with a {how} at {} for {}",
            self.client_id,
            self.authority.token_url(),
            self.scope
        )
    }
}
