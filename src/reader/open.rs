//! Opening a protected file through the licensing service: pick the service (and check that it is trusted before
//! anything is sent), ask for a use license with a one-time key pair, verify it with the service's signing keys,
//! check that it is for this file, open the sealed content key, and decrypt the whole file, verified, into a
//! temporary file that becomes the output only once everything checked out (never over an existing file). When the
//! service cannot be reached, a cached use license that is still within its offline window is used instead; when
//! the service refuses (revoked, expired, not granted) the cached one is deleted.
//!
//! The same path serves `unprotect` through the service (in place, for EXTRACT or OWNER, with the crash-safe
//! rewrite of [`crate::protect::inplace`]) and `status` with the access check.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use uuid::Uuid;

use super::cache::Cache;
use super::config::ReaderConfig;
use super::trust::{ServiceUrl, TrustList, TrustedServer};
use super::{ReaderError, now};
use crate::licensing::api::{AccessAnswer, AccessRequest, DenialCode, LicenseRequest};
use crate::licensing::seal::ClientKey;
use crate::licensing::use_license::{self, Claims, Use};
use crate::platform::Writeback;
use crate::protect::container::header::HeaderError;
use crate::protect::container::keyschedule::ContentKey;
use crate::protect::container::license::License;
use crate::protect::container::{ContainerError, Envelope};
use crate::protect::inplace::{self, LockedFile};
use crate::reader::client::{Client, SignIn};
use crate::{Error, ExitClass};

/// The right `unprotect` through the service needs (OWNER includes it).
pub const EXTRACT: &str = "EXTRACT";

/// Which service to ask: the one named for this call, the file's licensing URL, or the configured default — each
/// only if trusted.
#[derive(Clone, Debug, Default)]
pub struct ServerChoice {
    /// Named for this call (the command line's `--server`): trusted for it, and preferred.
    pub named: Option<ServiceUrl>,
    /// `default_server` of reader.toml: for files protected before licensing URLs existed, and bare content ids.
    pub default_server: Option<ServiceUrl>,
    /// `trusted_servers` of reader.toml (the named service is added to it for the call).
    pub trust: TrustList,
}

impl ServerChoice {
    /// From the settings and the service named for this call.
    pub fn new(config: &ReaderConfig, named: Option<ServiceUrl>) -> ServerChoice {
        let mut trust = config.trust_list();
        if let Some(url) = &named {
            trust.add(url.clone());
        }
        ServerChoice { named, default_server: config.default_server.clone(), trust }
    }

    /// The service for a bare content id: the named one, else the default.
    pub fn for_content_id(&self) -> Result<TrustedServer, ReaderError> {
        self.named_or_default()
    }

    fn named_or_default(&self) -> Result<TrustedServer, ReaderError> {
        if let Some(url) = &self.named {
            return self.trust.check(url, "");
        }
        match &self.default_server {
            Some(url) => self.trust.check(url, " (it is default_server, but trusted_servers does not list it)"),
            None => Err(ReaderError::NoServer(
                "no licensing service: name one for this call, or set default_server in reader.toml".into(),
            )),
        }
    }
}

/// The service to ask for `license`: the one named for this call, else the licensing URL the license names (only if
/// trusted: a file on a share could name any address), else `default_server` (files protected before licensing
/// URLs existed). Nothing is sent anywhere before this returns.
pub fn server_for(license: &License, choice: &ServerChoice) -> Result<TrustedServer, ReaderError> {
    if let Some(url) = &choice.named {
        return choice.trust.check(url, "");
    }
    if let Some(text) = &license.license_server {
        let url = ServiceUrl::parse(text)?;
        return choice.trust.check(&url, " (the file's license names it)");
    }
    choice.named_or_default()
}

/// A use license that opened: the content key and what it grants.
pub struct Granted {
    pub content_key: ContentKey,
    pub claims: Claims,
    pub server: String,
    /// Taken from the offline cache because the service could not be reached.
    pub offline: bool,
    /// What went wrong on the side (the cache could not be written); never fails the open.
    pub warnings: Vec<String>,
}

/// What [`Reader::open_to`] and [`Reader::unprotect_in_place`] did.
pub struct Opened {
    pub license: License,
    pub granted: Granted,
    /// Plaintext bytes written.
    pub bytes: u64,
    /// In place: what of the file's security could not be kept.
    pub warnings: Vec<String>,
}

/// The reader's settings for one run.
pub struct Reader {
    pub choice: ServerChoice,
    pub sign_in: SignIn,
    /// The current user's offline cache; `None`: no offline use (nothing stored, nothing read).
    pub cache: Option<Cache>,
}

impl Reader {
    /// A client of the trusted `server`.
    pub fn client(&self, server: TrustedServer) -> Result<Client, ReaderError> {
        Client::new(server, &self.sign_in)
    }

    /// Ask for a use license for `envelope` (the file at `path`), falling back to the offline cache when the service
    /// cannot be reached; check it and open its content key.
    pub fn grant(&self, envelope: &Envelope, path: &Path) -> Result<Granted, Error> {
        let cid = envelope.license.content_id;
        let server = server_for(&envelope.license, &self.choice).map_err(|e| in_file(e.into(), path))?;
        let client = self.client(server.clone()).map_err(|e| in_file(e.into(), path))?;
        let client_key = ClientKey::generate().map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?;
        let request =
            LicenseRequest { license: envelope.header_bytes(), client_key: client_key.public_bytes().to_vec() };
        let answer = match client.license(&request) {
            Ok(answer) => answer,
            Err(ReaderError::Unreachable { url, why }) => return self.offline(&cid, path, url, why),
            Err(e) => {
                if matches!(e.denial(), Some(DenialCode::Revoked | DenialCode::Expired | DenialCode::NotGranted))
                    && let Some(cache) = &self.cache
                {
                    // The service's word stands: an offline copy of a license it now refuses is gone.
                    let _ = cache.remove(&cid);
                }
                return Err(in_file(e.into(), path));
            }
        };
        let jwks = client.signing_keys().map_err(|e| in_file(e.into(), path))?;
        let protocol = |why: String| in_file(ReaderError::Protocol { url: server.to_string(), why }.into(), path);
        let claims =
            use_license::verify(&answer.use_license, &jwks, now(), Use::Online).map_err(|e| protocol(e.to_string()))?;
        if claims.cid != cid {
            return Err(protocol(format!("the use license is for content {}, not this file's {cid}", claims.cid)));
        }
        let sealed = claims.sealed_key().map_err(|e| protocol(e.to_string()))?;
        let content_key = client_key.open(&cid, &sealed).map_err(|e| protocol(e.to_string()))?;
        let mut warnings = Vec::new();
        if let (Some(cache), Some(_)) = (&self.cache, claims.offline_until)
            && let Err(e) = cache.store(&cid, &server.to_string(), &answer.use_license, &jwks, &client_key)
        {
            warnings.push(format!("not kept for offline use: {e}"));
        }
        Ok(Granted { content_key, claims, server: server.to_string(), offline: false, warnings })
    }

    /// The service could not be reached: a cached use license valid now, or the failure.
    fn offline(&self, cid: &Uuid, path: &Path, url: String, why: String) -> Result<Granted, Error> {
        let cached = match &self.cache {
            Some(cache) => cache.load(cid, now()).map_err(|e| in_file(e.into(), path))?,
            None => None,
        };
        let Some(cached) = cached else {
            let why = format!("{why}; no valid offline license for this file is cached");
            return Err(in_file(ReaderError::Unreachable { url, why }.into(), path));
        };
        let sealed = cached.claims.sealed_key().map_err(|e| in_file(ReaderError::Cache(e.to_string()).into(), path))?;
        let content_key = cached
            .client_key
            .open(cid, &sealed)
            .map_err(|e| in_file(ReaderError::Cache(e.to_string()).into(), path))?;
        Ok(Granted { content_key, claims: cached.claims, server: cached.server, offline: true, warnings: Vec::new() })
    }

    /// Decrypt `file` into the new file `dest` (which must not exist): written under a temporary name beside it and
    /// renamed into place only after the whole file verified; nothing is left on any failure.
    pub fn open_to(&self, file: &Path, dest: &Path) -> Result<Opened, Error> {
        let source = File::open(file).map_err(|e| Error::io("cannot open", file, e, ExitClass::NotFound))?;
        if dest.symlink_metadata().is_ok() {
            return Err(Error::new(
                ExitClass::Usage,
                format!("{} already exists; refusing to overwrite it", dest.display()),
            ));
        }
        let mut reader = BufReader::with_capacity(64 * 1024, source);
        let envelope = Envelope::read(&mut reader).map_err(|e| container_failure(e, file))?;
        let granted = self.grant(&envelope, file)?;
        let bytes = inplace::write_new(dest, None, |temp, temp_path| {
            decrypt(&envelope, &granted.content_key, &mut reader, temp, temp_path, file)
        })?;
        Ok(Opened { license: envelope.license, granted, bytes, warnings: Vec::new() })
    }

    /// Remove the protection of `file` in place, through the service: needs EXTRACT (or OWNER). The whole file is
    /// verified before it replaces the original, with the original's owner, permissions and times kept where the
    /// user may keep them (what could not be kept is in the warnings).
    pub fn unprotect_in_place(&self, file: &Path) -> Result<Opened, Error> {
        let mut locked = LockedFile::open(file, None)?;
        locked.take_lease()?;
        let mut reader = BufReader::with_capacity(64 * 1024, locked.reader()?);
        let envelope = Envelope::read(&mut reader).map_err(|e| container_failure(e, file))?;
        let granted = self.grant(&envelope, file)?;
        if !granted.claims.allows(EXTRACT) {
            return Err(Error::new(
                ExitClass::NotGranted,
                format!(
                    "{}: {} may not remove the protection: that needs EXTRACT or OWNER, and the service grants {}",
                    file.display(),
                    granted.claims.sub,
                    granted.claims.rights.join(",")
                ),
            ));
        }
        let (bytes, warnings) = locked.replace_with(|temp, temp_path| {
            decrypt(&envelope, &granted.content_key, &mut reader, temp, temp_path, file)
        })?;
        Ok(Opened { license: envelope.license, granted, bytes, warnings })
    }

    /// Which rights the signed-in user has on `file`, without any key released.
    pub fn check_access(&self, file: &Path) -> Result<(String, AccessAnswer), Error> {
        let source = File::open(file).map_err(|e| Error::io("cannot open", file, e, ExitClass::NotFound))?;
        let envelope = Envelope::read(&mut BufReader::new(source)).map_err(|e| container_failure(e, file))?;
        let server = server_for(&envelope.license, &self.choice).map_err(|e| in_file(e.into(), file))?;
        let client = self.client(server.clone()).map_err(|e| in_file(e.into(), file))?;
        let answer =
            client.access(&AccessRequest { license: envelope.header_bytes() }).map_err(|e| in_file(e.into(), file))?;
        Ok((server.to_string(), answer))
    }
}

/// Decrypt the payload after the header into `temp`; nothing in it may be used unless this returns `Ok`.
pub(super) fn decrypt(
    envelope: &Envelope,
    key: &ContentKey,
    payload: &mut impl Read,
    temp: &mut File,
    temp_path: &Path,
    file: &Path,
) -> Result<u64, Error> {
    let mut out = BufWriter::with_capacity(256 * 1024, Writeback::new(temp));
    let n = envelope.open_with_content_key(key, payload, &mut out).map_err(|e| container_failure(e, file))?;
    out.flush().map_err(|e| Error::io("cannot write the decrypted copy", temp_path, e, ExitClass::Write))?;
    Ok(n)
}

/// A reader failure about `path`, prefixed with it.
fn in_file(e: Error, path: &Path) -> Error {
    e.context(path.display())
}

/// Container failures as exit classes, naming the file.
pub(super) fn container_failure(e: ContainerError, path: &Path) -> Error {
    let class = match &e {
        ContainerError::Header(HeaderError::NotProtected) => ExitClass::Usage,
        ContainerError::Io(io) | ContainerError::Header(HeaderError::Io(io)) => {
            crate::error::io_class(io, ExitClass::Write)
        }
        _ => ExitClass::Unreadable,
    };
    Error::new(class, format!("{}: {e}", path.display())).with_source(e)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A license with nothing in it (the reader's unit tests).
    pub(in crate::reader) fn license() -> License {
        License {
            content_id: Uuid::nil(),
            template_id: Uuid::nil(),
            template_name: "t".into(),
            owner: None,
            issued: time::OffsetDateTime::UNIX_EPOCH,
            valid_until: None,
            offline_days: None,
            original_name: "a.txt".into(),
            original_size: 0,
            grants: Vec::new(),
            wraps: Vec::new(),
            license_server: None,
        }
    }

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    #[test]
    fn the_named_service_wins_then_the_default_and_only_if_trusted() {
        let config = ReaderConfig {
            trusted_servers: vec![url("https://rms.contoso.com/")],
            default_server: Some(url("https://RMS.contoso.com")),
            ..Default::default()
        };
        let choice = ServerChoice::new(&config, None);
        assert_eq!(server_for(&license(), &choice).unwrap().to_string(), "https://rms.contoso.com/");
        let choice = ServerChoice::new(&config, Some(url("https://other.test:8443/")));
        assert_eq!(server_for(&license(), &choice).unwrap().to_string(), "https://other.test:8443/");
        assert_eq!(choice.for_content_id().unwrap().to_string(), "https://other.test:8443/");
        let untrusted_default = ReaderConfig { default_server: Some(url("https://evil.test/")), ..config.clone() };
        let err = server_for(&license(), &ServerChoice::new(&untrusted_default, None)).unwrap_err();
        assert_eq!(err.class(), ExitClass::SignInNeeded);
        assert!(err.to_string().contains("default_server"), "{err}");
        let none = ReaderConfig { default_server: None, ..config.clone() };
        assert_eq!(ServerChoice::new(&none, None).for_content_id().unwrap_err().class(), ExitClass::Usage);
        // The file's licensing URL, only if trusted; it wins over the default, and --server over it.
        let named_by_file = License { license_server: Some("https://RMS.contoso.com:443".into()), ..license() };
        let choice = ServerChoice::new(&untrusted_default, None);
        assert_eq!(server_for(&named_by_file, &choice).unwrap().to_string(), "https://rms.contoso.com/");
        let crafted = License { license_server: Some("https://collector.evil.test/".into()), ..license() };
        let err = server_for(&crafted, &ServerChoice::new(&config, None)).unwrap_err();
        assert_eq!(err.class(), ExitClass::SignInNeeded);
        assert!(err.to_string().contains("https://collector.evil.test/ is not a trusted"), "{err}");
        assert!(err.to_string().contains("the file's license names it"), "{err}");
        let choice = ServerChoice::new(&config, Some(url("https://other.test:8443/")));
        assert_eq!(server_for(&crafted, &choice).unwrap().to_string(), "https://other.test:8443/");
    }
}
