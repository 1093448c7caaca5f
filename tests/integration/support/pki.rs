//! A test PKI made with rcgen: certificate authorities, a server certificate for 127.0.0.1 and localhost, and user
//! certificates naming an e-mail address (SAN rfc822Name) or a UPN (otherName 1.3.6.1.4.1.311.20.2.3). ECDSA P-256
//! keys, so making them is instant.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    OtherNameValue, SanType,
};

/// The UPN otherName OID, as rcgen takes it.
pub const UPN_OID: [u64; 9] = [1, 3, 6, 1, 4, 1, 311, 20, 2];

/// A certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Identity {
    /// Write `<name>.pem` and `<name>.key` (mode 0600) into `dir`; their paths.
    pub fn write(&self, dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        super::service::write_secret(&key, self.key_pem.as_bytes());
        (cert, key)
    }
}

/// A certificate authority.
pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    fn sign(&self, mut params: CertificateParams, cn: &str) -> Identity {
        params.distinguished_name.push(DnType::CommonName, cn);
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Identity { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }

    /// A TLS server certificate for 127.0.0.1 and localhost.
    pub fn server(&self) -> Identity {
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(params, "localhost")
    }

    /// A user certificate whose SAN names `email`.
    pub fn user_email(&self, email: &str) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().unwrap())];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(params, email)
    }

    /// A user certificate whose SAN names only a UPN (as AD CS issues them).
    pub fn user_upn(&self, upn: &str) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut oid = UPN_OID.to_vec();
        oid.push(3);
        params.subject_alt_names = vec![SanType::OtherName((oid, OtherNameValue::Utf8String(upn.to_string())))];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(params, upn)
    }
}
