//! https for the emulator (`--tls`): a certificate authority made at start, a server
//! certificate it signs for the loopback names, and a listener that completes the TLS handshake
//! before axum sees the connection.
//!
//! The private keys live in this process's memory only: the CA's is dropped once it has signed
//! the server certificate, the server's is held by rustls. Only the CA *certificate* goes out (as
//! PEM, for the clients to trust), so nothing but the clients told about this run trusts it, and
//! no other run's certificate can be made with it.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

/// What a TLS emulator serves with: the CA certificate (public) and the server's configuration
/// (its certificate chain and private key, in memory).
pub(crate) struct TlsMaterial {
    /// The CA certificate, PEM: what clients add to their trust store.
    pub ca_pem: String,
    /// The CA's subject common name (says when it was made, for the person reading it).
    pub ca_name: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The server configuration holds the private key: never printed.
        f.debug_struct("TlsMaterial")
            .field("ca_name", &self.ca_name)
            .finish_non_exhaustive()
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!(
        "cannot make the emulator's TLS certificate: {what}: {e}"
    ))
}

/// A random serial number (positive, 16 bytes): two runs never issue the same one.
fn serial() -> SerialNumber {
    let mut bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

/// Validity: from yesterday (clocks disagree a little) for about two years; a run that long
/// is unlikely, and a CA of one run is worthless to the next anyway.
fn validity(params: &mut CertificateParams) {
    use chrono::Datelike as _;
    let from = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let to = from + chrono::Days::new(730);
    let ymd = |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    params.not_before = ymd(from);
    params.not_after = ymd(to);
}

/// Makes a CA and a server certificate for `localhost`, `127.0.0.1`, `::1` and `bind` (when it
/// is another address).
pub(crate) fn make(bind: IpAddr) -> std::io::Result<TlsMaterial> {
    let made = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC");
    let short = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let ca_name = format!("deltascope emulator CA (made {made}, {short})");

    let ca_key = KeyPair::generate().map_err(|e| err("CA key", e))?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::OrganizationName, "deltascope");
    ca.distinguished_name
        .push(DnType::CommonName, ca_name.as_str());
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.serial_number = Some(serial());
    validity(&mut ca);
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| err("CA", e))?;
    let issuer = Issuer::new(ca, ca_key);

    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let bind = bind.to_string();
    if !names.contains(&bind) {
        names.push(bind);
    }
    let mut leaf = CertificateParams::new(names).map_err(|e| err("names", e))?;
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::OrganizationName, "deltascope");
    leaf.distinguished_name
        .push(DnType::CommonName, "deltascope emulator (localhost)");
    leaf.is_ca = IsCa::ExplicitNoCa;
    // An ECDSA key signs the handshake; it enciphers nothing.
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.serial_number = Some(serial());
    validity(&mut leaf);
    let leaf_key = KeyPair::generate().map_err(|e| err("server key", e))?;
    let leaf_cert = leaf
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| err("server certificate", e))?;
    // The CA's key goes with the issuer: nothing more is signed.
    drop(issuer);

    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    drop(leaf_key);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone()], key)
        .map_err(|e| err("server configuration", e))?;
    // The router speaks HTTP/1.1 only.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        ca_name,
        server: Arc::new(server),
    })
}

/// Longest a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes under way at once; more connections wait to be accepted.
const HANDSHAKES_MAX: usize = 64;

/// A listener of TLS connections for `axum::serve`: the TCP accept loop runs in its own task,
/// each handshake in another (a slow or silent client holds up no one), and the finished
/// connections come out of [`axum::serve::Listener::accept`]. A failed handshake (a client
/// that does not trust the CA, plain http on the https port) only closes that connection.
pub(crate) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp` until `cancel` fires.
    pub(crate) fn new(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
        cancel: CancellationToken,
    ) -> std::io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(HANDSHAKES_MAX);
        let acceptor = TlsAcceptor::from(config);
        let permits = Arc::new(Semaphore::new(HANDSHAKES_MAX));
        tokio::spawn(async move {
            loop {
                let permit = tokio::select! {
                    _ = cancel.cancelled() => return,
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => return,
                    },
                };
                let (stream, peer) = tokio::select! {
                    _ = cancel.cancelled() => return,
                    accepted = tcp.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: wait a little, as axum does.
                            tracing::debug!("emulator accept error: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    let _ = stream.set_nodelay(true);
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("emulator TLS handshake with {peer}: {e}"),
                        Err(_) => tracing::debug!("emulator TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local_addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop stopped (the emulator is shutting down): nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_a_ca_and_the_server_certificate_names_the_loopback() {
        let m = make("127.0.0.2".parse().unwrap()).unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!m.ca_pem.contains("PRIVATE KEY"));
        assert!(m.ca_name.starts_with("deltascope emulator CA (made "));
        let ders: Vec<_> = rustls::pki_types::pem::PemObject::pem_slice_iter(m.ca_pem.as_bytes())
            .collect::<Result<Vec<rustls::pki_types::CertificateDer<'static>>, _>>()
            .unwrap();
        assert_eq!(ders.len(), 1);
        // webpki takes it as a trust anchor.
        webpki::anchor_from_trusted_cert(&ders[0]).unwrap();
        assert!(!format!("{m:?}").contains("PRIVATE"));
        // Two runs, two CAs.
        let other = make("127.0.0.1".parse().unwrap()).unwrap();
        assert_ne!(other.ca_pem, m.ca_pem);
        assert_ne!(other.ca_name, m.ca_name);
    }
}
