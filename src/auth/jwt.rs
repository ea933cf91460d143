//! Reading a JWT's claims without checking its signature (the resource server checks it; we
//! only look at what the token says about itself: expiry, audience, roles, scopes).
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The claims of a JWT-shaped token (`header.payload.signature`), or why it is not one. The
/// error never contains the token.
pub fn claims(token: &str) -> Result<Map<String, Value>, String> {
    let mut parts = token.trim().split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(
            "the token is not a JWT (three base64url parts separated by dots); it may be an opaque token, which cannot be inspected"
                .into(),
        );
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the token's payload is not base64url".to_string())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err("the token's payload is not a JSON object".into()),
    }
}

/// A numeric date claim (`exp`, `nbf`, `iat`).
pub fn date_claim(claims: &Map<String, Value>, name: &str) -> Option<DateTime<Utc>> {
    let secs = match claims.get(name)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    DateTime::from_timestamp(secs, 0)
}

/// When the token expires, if it is a JWT with an `exp` claim.
pub fn expiry(token: &str) -> Option<DateTime<Utc>> {
    date_claim(&claims(token).ok()?, "exp")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_claims_and_never_echoes_the_token() {
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"exp":1700000000,"aud":"x"}"#);
        let t = format!("eyJhbGciOiJub25lIn0.{p}.c2ln");
        assert_eq!(expiry(&t).unwrap().timestamp(), 1_700_000_000);
        let e = claims("opaque-secret-value").unwrap_err();
        assert!(!e.contains("opaque-secret-value"));
        assert!(claims("a.!!!.c").is_err());
    }
}
