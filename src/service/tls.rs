//! The TLS side of the service: the server certificate and key, and client certificates that are asked for but
//! judged by the application, not the handshake. A certificate from another CA must get an audited 401
//! `bad_certificate` answer, not a broken connection, so the handshake accepts any certificate whose holder proves
//! possession of its key (the CertificateVerify signature is still checked), and [`super::auth::CertAuth`] then
//! verifies the chain against the configured CA with rustls's own WebPKI verifier.

use std::path::Path;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DistinguishedName, SignatureScheme};

use crate::{Error, ExitClass};

/// The crypto provider of the whole service (ring, as the rest of the crate).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Offers client authentication, never requires it, and accepts any certificate chain whose end entity signs the
/// handshake. The chain is verified later, per request.
#[derive(Debug)]
pub struct DeferredClientCerts {
    algorithms: WebPkiSupportedAlgorithms,
}

impl DeferredClientCerts {
    pub fn new(provider: &CryptoProvider) -> DeferredClientCerts {
        DeferredClientCerts { algorithms: provider.signature_verification_algorithms }
    }
}

impl ClientCertVerifier for DeferredClientCerts {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The server's TLS configuration: its certificate chain and key (PEM), HTTP/1.1, and client certificates asked
/// for when `client_certs` is set.
pub fn server_config(cert: &Path, key: &Path, client_certs: bool) -> Result<rustls::ServerConfig, Error> {
    let bad = |path: &Path, m: String| Error::new(ExitClass::Config, format!("{}: {m}", path.display()));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot read the certificate chain ({e})")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate chain ({e})")))?;
    if chain.is_empty() {
        return Err(bad(cert, "no certificate in the file".into()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, format!("not a PEM private key ({e})")))?;
    let provider = provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ExitClass::Internal, format!("TLS: {e}")))?;
    let builder = if client_certs {
        builder.with_client_cert_verifier(Arc::new(DeferredClientCerts::new(&provider)))
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(chain, private)
        .map_err(|e| bad(key, format!("the key does not go with the certificate or is unusable ({e})")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
