//! `POST /{tenant}/oauth2/v2.0/token`: client credentials (secret or assertion), device code and refresh token grants.
use super::*;

pub(super) async fn h_token(
    State(sh): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sh.clock.now();
    let f = form(&body);
    let endpoint = format!("{}/{tenant}/oauth2/v2.0/token", origin(&sh, &headers));
    let r = match f.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials(&sh, &tenant, &endpoint, &f),
        Some(DEVICE_GRANT) => device_code_grant(&sh, &tenant, &f),
        Some("refresh_token") => refresh_grant(&sh, &tenant, &f),
        Some(other) => Err(aad(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
        None => Err(aad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
    };
    r.unwrap_or_else(|e| e.into_response(now))
}

fn client_credentials(
    sh: &Shared,
    tenant: &str,
    endpoint: &str,
    f: &HashMap<String, String>,
) -> Result<Response, AadError> {
    check_tenant(sh, tenant, false)?;
    let client_id = required(f, "client_id")?;
    let scope = required(f, "scope")?;
    let app = find_app(sh, client_id)?;
    // The scope must be exactly one `{resource}/.default`.
    let resource = match scope.trim().strip_suffix("/.default") {
        Some(r) if !r.is_empty() && !r.contains(' ') => r.to_string(),
        _ => {
            return Err(aad(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        }
    };
    match (f.get("client_secret"), f.get("client_assertion")) {
        (Some(secret), None) => {
            if let Some(app) = app {
                let ok = app
                    .secret
                    .as_deref()
                    .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes()));
                if !ok {
                    return Err(aad(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000215,
                        format!(
                            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                            app.client_id
                        ),
                    ));
                }
            } else if secret.is_empty() {
                return Err(aad(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided.",
                ));
            }
        }
        (None, Some(assertion)) => {
            if f.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                return Err(aad(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    700022,
                    format!(
                        "The provided value for the input parameter 'client_assertion_type' is not valid. Expected '{ASSERTION_TYPE}'."
                    ),
                ));
            }
            check_assertion(assertion, client_id, endpoint, app)?;
        }
        (Some(_), Some(_)) => {
            return Err(aad(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90014,
                "Send either client_secret or client_assertion, not both.",
            ));
        }
        (None, None) => {
            return Err(aad(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
    }
    let roles: Vec<String> = match app {
        Some(a) => a.roles.clone(),
        None => DEMO_ROLES.iter().map(|s| s.to_string()).collect(),
    };
    let name = app
        .map(|a| a.display_name.clone())
        .unwrap_or_else(|| "deltascope demo app".into());
    let (tok, lifetime) = issue(
        sh,
        &Grant {
            client_id,
            app_name: &name,
            resource: &resource,
            roles: Some(roles),
            scopes: None,
            user: None,
        },
    );
    Ok(token_reply(&tok, lifetime, None, ""))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bad_assertion(code: u32, description: impl Into<String>) -> AadError {
    aad(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        code,
        description,
    )
}

/// Checks a client assertion: shape, `alg` RS256, `aud` = this token endpoint, `iss` = `sub` =
/// client id, `exp`/`nbf` (real time, 5 min skew), a `jti`, and, for a registered app with a
/// certificate, the `x5t` thumbprint and the RS256 signature.
fn check_assertion(
    assertion: &str,
    client_id: &str,
    endpoint: &str,
    app: Option<&EmulatorApp>,
) -> Result<(), AadError> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(bad_assertion(
            50027,
            "Invalid JWT token. The token is not in a valid format (expected header.payload.signature).",
        ));
    };
    let decode = |x: &str| -> Result<Value, AadError> {
        let bytes = B64
            .decode(x.trim_end_matches('='))
            .map_err(|_| bad_assertion(50027, "Invalid JWT token: a part is not base64url."))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| bad_assertion(50027, "Invalid JWT token: a part is not JSON."))
    };
    let header = decode(h)?;
    let claims = decode(p)?;
    if header["alg"].as_str() != Some("RS256") && header["alg"].as_str() != Some("PS256") {
        return Err(bad_assertion(
            5002738,
            "The client assertion must be signed with RS256 (or PS256).",
        ));
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a.eq_ignore_ascii_case(endpoint),
        Value::Array(v) => v
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(endpoint))),
        _ => false,
    };
    if !aud_ok {
        return Err(bad_assertion(
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{}'. The audience must be the token endpoint {endpoint}.",
                claims["aud"].as_str().unwrap_or("")
            ),
        ));
    }
    if claims["iss"].as_str() != Some(client_id) || claims["sub"].as_str() != Some(client_id) {
        return Err(bad_assertion(
            700023,
            "Client assertion audience claim does not match Realm issuer: iss and sub must be the client id.",
        ));
    }
    let now = Utc::now().timestamp();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    // The claims are the client's: saturate rather than overflow on an absurd exp.
    if exp.saturating_add(300) < now {
        return Err(bad_assertion(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    if claims["nbf"].as_i64().is_some_and(|n| n > now + 300) {
        return Err(bad_assertion(
            700024,
            "Client assertion is not within its valid time range (nbf is in the future).",
        ));
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(bad_assertion(
            700025,
            "Client assertion is missing the jti claim.",
        ));
    }
    let Some(app) = app else { return Ok(()) };
    let Some(pem) = &app.certificate_pem else {
        return Err(bad_assertion(
            700027,
            format!(
                "Client assertion failed signature validation: no certificate is registered for app '{}'.",
                app.client_id
            ),
        ));
    };
    let der = pem_certificate(pem).ok_or_else(|| {
        bad_assertion(
            700027,
            "The registered certificate of this app cannot be read.",
        )
    })?;
    let thumb = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    let thumb256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let x5t_ok = header["x5t"].as_str() == Some(&B64.encode(thumb.as_ref()))
        || header["x5t#S256"].as_str() == Some(&B64.encode(thumb256.as_ref()));
    if !x5t_ok {
        return Err(bad_assertion(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{}']",
                header["x5t"].as_str().unwrap_or("")
            ),
        ));
    }
    let sig = B64
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad_assertion(50027, "Invalid JWT token: the signature is not base64url."))?;
    let cert_der = rustls_pki_types::CertificateDer::from(der);
    let cert = webpki::EndEntityCert::try_from(&cert_der).map_err(|_| {
        bad_assertion(
            700027,
            "The registered certificate of this app cannot be parsed.",
        )
    })?;
    let alg = if header["alg"].as_str() == Some("PS256") {
        webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY
    } else {
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256
    };
    cert.verify_signature(alg, format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| {
            bad_assertion(
                700027,
                "Client assertion failed signature validation. [Reason - The signature does not match the registered certificate's key.]",
            )
        })
}

/// The first certificate of a PEM text (DER bytes), decoded here without the client's helpers.
fn pem_certificate(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}
