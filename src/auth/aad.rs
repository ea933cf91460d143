//! Talking to the identity platform: form posts to the token and device-code endpoints, and
//! their answers (a token, or an AAD error body). Nothing here logs or returns a token or secret
//! in an error.
use std::time::Duration;

use serde::Deserialize;

use super::{AccessToken, AuthError, Secret};

/// The HTTP client for sign-in requests: no redirects (a secret never follows one), a timeout.
pub fn http_client() -> Result<reqwest::Client, AuthError> {
    http_client_trusting(None)
}

/// [`http_client`] trusting `cas` besides the platform's roots (`--ca-cert`: the sign-in goes
/// through the same proxy, or to the same https emulator, as the Graph requests).
pub fn http_client_trusting(
    cas: Option<&crate::trust::CaCerts>,
) -> Result<reqwest::Client, AuthError> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("deltascope/", env!("CARGO_PKG_VERSION")));
    crate::trust::with_cas(builder, cas)
        .build()
        .map_err(|e| AuthError::Failed(format!("cannot build the HTTP client: {e}")))
}

/// A successful token response.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: AccessToken,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<Secret>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
}

/// The first line of an AAD `error_description` (the rest is trace and correlation ids).
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(400).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// An AAD error body as an [`AuthError::Rejected`], or `None` when the body is not one.
pub fn parse_error(body: &[u8]) -> Option<AuthError> {
    let e: RawError = serde_json::from_slice(body).ok()?;
    let error = e.error?;
    Some(AuthError::Rejected {
        error,
        codes: e.error_codes,
        description: first_line(e.error_description.as_deref().unwrap_or("")),
    })
}

/// POSTs a form and returns the status and body. Transport errors never contain the form.
pub async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(u16, bytes::Bytes), AuthError> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| AuthError::Failed(format!("cannot reach {url}: {}", transport(&e))))?;
    let status = resp.status().as_u16();
    let mut resp = resp;
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| AuthError::Failed(format!("reading the answer of {url}: {}", transport(&e))))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(AuthError::Failed(format!(
                "the answer of {url} is over {} KiB, far more than any token response: refused",
                MAX_ANSWER_BYTES / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, bytes::Bytes::from(body)))
}

/// The largest answer read from a sign-in service: token responses are a few KB.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A transport error without its URL (reqwest errors carry the URL, never the body; the URL
/// holds no secret here, but a plain reason reads better).
fn transport(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    if crate::trust::is_untrusted_certificate(e) {
        s.push_str(" (");
        s.push_str(crate::trust::UNTRUSTED_HINT);
        s.push(')');
    }
    s
}

/// Posts a token request and reads the answer: a token, or the AAD error.
pub async fn request_token(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<TokenResponse, AuthError> {
    let (status, body) = post_form(http, url, form).await?;
    parse_token_response(url, status, &body)
}

pub fn parse_token_response(
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<TokenResponse, AuthError> {
    if !(200..300).contains(&status) {
        return Err(parse_error(body).unwrap_or_else(|| {
            AuthError::Failed(format!(
                "the sign-in host {url} answered HTTP {status} without an OAuth error body"
            ))
        }));
    }
    let raw: RawToken = serde_json::from_slice(body).map_err(|_| {
        AuthError::Failed(format!(
            "the sign-in host {url} answered HTTP {status} with a body that is not a token response"
        ))
    })?;
    let token = raw
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::Failed(format!("the answer of {url} has no access_token")))?;
    let expires_in = match raw.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(TokenResponse {
        access_token: AccessToken::new(token),
        expires_in,
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn aad_errors_keep_the_first_line() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x\r\nCorrelation ID: y","error_codes":[7000215]}"#;
        let e = parse_token_response("u", 401, body).unwrap_err();
        assert_eq!(
            e,
            AuthError::Rejected {
                error: "invalid_client".into(),
                codes: vec![7000215],
                description: "AADSTS7000215: Invalid client secret provided.".into()
            }
        );
        assert!(e.to_string().contains("not its id"));
    }

    #[test]
    fn tokens_parse_and_hide() {
        let r = parse_token_response(
            "u",
            200,
            br#"{"token_type":"Bearer","expires_in":"3599","access_token":"abc.def.ghi","refresh_token":"rt-123"}"#,
        )
        .unwrap();
        assert_eq!(r.expires_in, Some(3599));
        assert_eq!(r.access_token.secret(), "abc.def.ghi");
        let d = format!("{r:?}");
        assert!(!d.contains("abc.def") && !d.contains("rt-123"), "{d}");
        assert!(parse_token_response("u", 200, b"<html>").is_err());
        assert!(
            parse_token_response("u", 500, b"oops")
                .unwrap_err()
                .to_string()
                .contains("500")
        );
    }
}
