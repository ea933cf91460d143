//! Extra certificate authorities the client trusts (`--ca-cert FILE`, `DELTASCOPE_CA_CERT`, a
//! profile's `ca_cert`): the emulator's CA of a `--tls` run, or a corporate TLS-inspecting
//! proxy's. They are added to the platform's roots, never in their place, so real Graph still
//! works; the Graph requests and the sign-in requests use the same trust.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

/// The largest CA file read: a system bundle of every public root is under 1 MiB.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The certificates of one PEM file, checked to be usable as trust anchors.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCerts {
    path: PathBuf,
    certs: Arc<[CertificateDer<'static>]>,
}

impl std::fmt::Debug for CaCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CaCerts({}, {} certificate(s))",
            self.path.display(),
            self.certs.len()
        )
    }
}

impl CaCerts {
    /// Reads `path`: one or more `-----BEGIN CERTIFICATE-----` blocks (other blocks are
    /// ignored). A missing, unreadable, empty or certificate-less file is an error naming it.
    pub fn load(path: &Path) -> Result<CaCerts, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the CA certificate file {shown}: {e}"))?;
        if meta.is_dir() {
            return Err(format!(
                "the CA certificate file {shown} is a directory: give a PEM file"
            ));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "the CA certificate file {shown} is over {} MiB: not a PEM bundle of certificates",
                MAX_FILE_BYTES / (1024 * 1024)
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the CA certificate file {shown}: {e}"))?;
        Self::from_pem(path, &bytes)
    }

    /// Parses PEM `bytes` (read from `path`, which the errors name).
    pub fn from_pem(path: &Path, bytes: &[u8]) -> Result<CaCerts, String> {
        let shown = path.display();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(format!(
                "the CA certificate file {shown} is empty: give a PEM file with one or more certificates (-----BEGIN CERTIFICATE-----)"
            ));
        }
        let mut certs = Vec::new();
        for (n, item) in CertificateDer::pem_slice_iter(bytes).enumerate() {
            let cert = item.map_err(|e| {
                format!(
                    "the CA certificate file {shown} is not valid PEM (certificate {}: {e})",
                    n + 1
                )
            })?;
            webpki::anchor_from_trusted_cert(&cert).map_err(|e| {
                format!(
                    "certificate {} in {shown} is not a usable CA certificate: {e:?}",
                    n + 1
                )
            })?;
            certs.push(cert);
        }
        if certs.is_empty() {
            return Err(format!(
                "the CA certificate file {shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----){}",
                if bytes.starts_with(&[0x30]) {
                    "; it looks like DER: convert it with openssl x509 -inform der -in FILE -out FILE.pem"
                } else {
                    ""
                }
            ));
        }
        Ok(CaCerts {
            path: path.to_path_buf(),
            certs: certs.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// `builder` trusting these certificates besides the platform's roots.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder.tls_certs_merge(
            self.certs
                .iter()
                .filter_map(|c| reqwest::Certificate::from_der(c).ok()),
        )
    }
}

/// `builder` with the extra CAs, if any.
pub fn with_cas(builder: reqwest::ClientBuilder, cas: Option<&CaCerts>) -> reqwest::ClientBuilder {
    match cas {
        Some(c) => c.apply(builder),
        None => builder,
    }
}

/// What to do when a server's certificate is not trusted.
pub const UNTRUSTED_HINT: &str = "if the server is the deltascope emulator (--tls) or a TLS-inspecting proxy, trust its CA certificate with --ca-cert FILE (or DELTASCOPE_CA_CERT); otherwise something may be intercepting the connection";

/// Whether a transport error was caused by a server certificate that is not trusted (rustls'
/// `InvalidCertificate`: unknown issuer, bad signature, wrong name, expired...).
pub fn is_untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cur {
        let typed = e
            .downcast_ref::<tokio_rustls::rustls::Error>()
            .or_else(|| {
                e.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
            })
            .is_some_and(|r| matches!(r, tokio_rustls::rustls::Error::InvalidCertificate(_)));
        if typed || e.to_string().contains("invalid peer certificate") {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_errors_that_name_the_file() {
        let dir = std::env::temp_dir().join(format!("deltascope-trust-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = CaCerts::load(&missing).unwrap_err();
        assert!(
            e.contains("missing.pem") && e.contains("cannot read"),
            "{e}"
        );
        let e = CaCerts::load(&dir).unwrap_err();
        assert!(e.contains("directory"), "{e}");
        for (name, body, says) in [
            ("empty.pem", &b"\n \n"[..], "is empty"),
            (
                "text.pem",
                b"hello, not a certificate\n",
                "holds no PEM certificate",
            ),
            ("der.pem", b"\x30\x82\x01\x0a", "looks like DER"),
            (
                "key.pem",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "holds no PEM certificate",
            ),
            (
                "broken.pem",
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                "not valid PEM",
            ),
            (
                "junk.pem",
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "not a usable CA certificate",
            ),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, body).unwrap();
            let e = CaCerts::load(&p).unwrap_err();
            assert!(e.contains(name) && e.contains(says), "{name}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
