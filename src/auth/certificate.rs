//! Client certificates: a PEM private key (PKCS#8 or PKCS#1 RSA) and its certificate, turned into
//! a signed client assertion (RS256, `x5t` = base64url SHA-1 thumbprint of the certificate, as
//! MSAL sends it) for the client-credentials grant.
//!
//! Crates: `aws-lc-rs` signs and hashes, `rustls-pki-types` reads PEM, `rustls-webpki` checks that
//! the key belongs to the certificate. All three were already compiled for reqwest's rustls, are
//! maintained by the rustls / AWS teams, and need no OpenSSL.
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::AuthError;

/// A certificate and its private key, ready to sign assertions. `Debug` shows the thumbprint only.
#[derive(Clone)]
pub struct ClientCertificate {
    key: Arc<RsaKeyPair>,
    x5t: String,
    thumbprint_hex: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientCertificate(thumbprint {})", self.thumbprint_hex)
    }
}

fn bad(msg: impl Into<String>) -> AuthError {
    AuthError::Missing(msg.into())
}

impl ClientCertificate {
    /// Reads the certificate (and the key, when it is in the same file, as azure-identity's
    /// `AZURE_CLIENT_CERTIFICATE_PATH` expects) from `cert_path`, or the key from `key_path`.
    pub fn load(cert_path: &Path, key_path: Option<&Path>) -> Result<Self, AuthError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| bad(format!("cannot read {}: {e}", p.display())))
        };
        let cert_pem = read(cert_path)?;
        let key_pem = match key_path {
            Some(k) => Some(read(k)?),
            None => None,
        };
        Self::from_pem(&cert_pem, key_pem.as_deref()).map_err(|e| match e {
            AuthError::Missing(m) => bad(format!("{}: {m}", cert_path.display())),
            other => other,
        })
    }

    /// From PEM text: the certificate, and the key either in `key_pem` or beside the certificate.
    pub fn from_pem(cert_pem: &[u8], key_pem: Option<&[u8]>) -> Result<Self, AuthError> {
        if contains(cert_pem, b"ENCRYPTED PRIVATE KEY")
            || key_pem.is_some_and(|k| {
                contains(k, b"ENCRYPTED PRIVATE KEY") || contains(k, b"Proc-Type: 4,ENCRYPTED")
            })
        {
            return Err(bad(
                "the private key is encrypted; give an unencrypted PEM key (e.g. `openssl pkey -in key.pem -out plain.pem`) kept in a file only you can read",
            ));
        }
        let cert = CertificateDer::pem_slice_iter(cert_pem)
            .next()
            .ok_or_else(|| bad("no PEM certificate (-----BEGIN CERTIFICATE-----) found"))?
            .map_err(|_| bad("the PEM certificate cannot be read"))?;
        let key_src = key_pem.unwrap_or(cert_pem);
        let key = PrivateKeyDer::from_pem_slice(key_src).map_err(|_| {
            bad("no PEM private key found (put it in the certificate file or give the key file)")
        })?;
        let pair = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(bad(
                    "the private key is not an RSA key (Microsoft Entra client certificates are RSA)",
                ));
            }
        }
        .map_err(|e| bad(format!("the RSA private key is not usable: {e}")))?;
        // The key must belong to the certificate: sign a probe and verify it with the certificate.
        let ee = webpki::EndEntityCert::try_from(&cert)
            .map_err(|_| bad("the certificate cannot be parsed"))?;
        let probe = b"deltascope key/certificate check";
        let sig = sign(&pair, probe)?;
        ee.verify_signature(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256, probe, &sig)
            .map_err(|_| bad("the private key does not belong to the certificate"))?;
        let sha1 =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
        Ok(ClientCertificate {
            key: Arc::new(pair),
            x5t: B64.encode(sha1.as_ref()),
            thumbprint_hex: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
        })
    }

    /// The SHA-1 thumbprint in hex, as the Entra portal shows it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint_hex
    }

    /// A signed client assertion for `client_id` at `token_url` (valid 10 minutes).
    pub fn assertion(&self, client_id: &str, token_url: &str) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = sign(&self.key, input.as_bytes())?;
        Ok(format!("{input}.{}", B64.encode(sig)))
    }
}

fn sign(key: &RsaKeyPair, msg: &[u8]) -> Result<Vec<u8>, AuthError> {
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
        .map_err(|_| AuthError::Failed("signing the client assertion failed".into()))?;
    Ok(sig)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
