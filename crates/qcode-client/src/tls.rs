//! The client's TLS configuration: rustls with the process's crypto provider and the system's
//! certificate store (rustls-platform-verifier, as reqwest itself would set it up), except that
//! the store is read at the first TLS handshake instead of when the client is built.
//!
//! Reading and parsing the system's PEM bundle is a quarter of a plain-HTTP one-shot's
//! instructions (measured: ~19 M of ~75 M), and a session against a local `http://` model
//! server never needs it. Verification is unchanged: the same verifier, the same roots
//! (`SSL_CERT_FILE` / `SSL_CERT_DIR` included), the same protocol versions and ALPN as
//! reqwest's own rustls setup; a store that cannot be read fails the handshake with the
//! verifier's own error (a `ClientError::Certificate`, not retried), as it failed the client's
//! construction before. `tests/suite/tls.rs` does real handshakes against a local server.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// reqwest's defaults for a client that allows HTTP/2 and HTTP/1.1.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A rustls configuration whose certificate verifier loads the system store on first use.
pub(crate) fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LazyVerifier::new(provider)))
        .with_no_client_auth();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The platform verifier, built (the system store read) the first time a certificate is
/// checked; every later handshake reuses it.
#[derive(Debug)]
pub(crate) struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyVerifier {
    pub(crate) fn new(provider: Arc<CryptoProvider>) -> Self {
        Self {
            provider,
            verifier: OnceLock::new(),
        }
    }

    /// Whether the system store has been read.
    #[cfg(test)]
    pub(crate) fn is_loaded(&self) -> bool {
        self.verifier.get().is_some()
    }

    fn get(&self) -> Result<&Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    /// What the platform verifier answers (its inner WebPKI verifier lists the provider's
    /// algorithms), without reading the store.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn the_store_is_not_read_until_a_certificate_is_checked() {
        let lazy = LazyVerifier::new(provider());
        assert!(!lazy.is_loaded());
        // The schemes are known without the store.
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert!(!lazy.is_loaded());
        // A garbage certificate is refused by the real verifier, which is built on the way.
        let name = ServerName::try_from("example.com").unwrap();
        let bogus = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let checked = lazy.verify_server_cert(&bogus, &[], &name, &[], UnixTime::now());
        assert!(checked.is_err(), "a bogus certificate must not verify");
        assert!(lazy.is_loaded());
    }

    #[test]
    fn the_schemes_match_the_platform_verifier() {
        let lazy = LazyVerifier::new(provider());
        let real = Verifier::new(provider()).unwrap();
        assert_eq!(
            lazy.supported_verify_schemes(),
            real.supported_verify_schemes()
        );
    }

    #[test]
    fn the_config_offers_h2_and_http1_with_sni() {
        let config = client_config().unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.enable_sni);
    }
}
