//! Protection of one file: the container format ([`container`]), keys ([`keys`]), rights policy templates
//! ([`templates`]) and the crash-safe in-place rewrite ([`inplace`], with [`stale`] and [`tempname`]), put together as the three operations an
//! admin sees: [`protect_file`], [`status_of`] and [`unprotect_file`].

pub mod container;
pub mod inplace;
pub mod keys;
pub mod register;
pub mod stale;
pub mod templates;
pub mod tempname;

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, Write};
use std::path::Path;

use time::OffsetDateTime;
use uuid::Uuid;

use self::container::header::{self, HeaderError};
use self::container::keyschedule::ContentKey;
use self::container::license::{KeyWrap, License};
use self::container::{ContainerError, Envelope, Examined, SealParams};
use self::inplace::LockedFile;
use self::keys::HolderKey;
use self::templates::Template;
use crate::platform::{FileIdentity, Writeback};
use crate::{Error, ExitClass};

/// What [`protect_file`] did.
#[derive(Debug)]
pub enum ProtectOutcome {
    /// The file is now protected under this license; `warnings` say what of the original's security (owner,
    /// extended attributes, ACLs) could not be kept; `registration`, when the template asks for it
    /// (`register="true"`), whether the licensing service was told about the file.
    Protected { license: License, warnings: Vec<String>, registration: Option<register::Registration> },
    /// The file was already protected by fci-connector and was left unchanged; the license, when readable.
    AlreadyProtected(Option<License>),
}

/// Who is recorded as the owner of newly protected content, where the file is, and what it was when classified.
#[derive(Clone, Debug, Default)]
pub struct ProtectRequest<'a> {
    pub owner: Option<&'a str>,
    /// The task's root: the file is reached beneath it without following any link. `None` for a single file
    /// (see [`crate::platform::resolve_target`]).
    pub root: Option<&'a Path>,
    /// The file as it was classified: a file that changed or was replaced since is busy, not protected.
    pub expected: Option<FileIdentity>,
    /// Trust anchors for registration with the licensing service (the config's `license_server_ca`): a PEM bundle
    /// used instead of the operating system's trust store.
    pub license_server_ca: Option<&'a Path>,
}

/// Protect `path` in place with `template`. Needs only the template's public keys.
pub fn protect_file(path: &Path, template: &Template, request: &ProtectRequest<'_>) -> Result<ProtectOutcome, Error> {
    let mut locked = LockedFile::open(path, request.root)?;
    if let Some(expected) = &request.expected {
        locked.expect(expected)?;
    }
    if let Some(envelope) = already_protected(&mut locked)? {
        return Ok(ProtectOutcome::AlreadyProtected(Some(envelope.license)));
    }
    if locked.identity.links > 1 {
        return Err(Error::new(
            ExitClass::HardLinked,
            format!(
                "{}: not protected: the file has {} hard links, and its other names would keep the plaintext; \
                 remove the other links and run again",
                path.display(),
                locked.identity.links
            ),
        ));
    }
    locked.take_lease()?;
    locked.rewind()?;
    let content_key = ContentKey::random().map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?;
    let license = new_license(path, locked.metadata.len(), template, request, &content_key)?;
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| Error::new(ExitClass::Internal, format!("OS random source failed: {e}")))?;
    let params = SealParams {
        license: &license,
        content_key: &content_key,
        salt,
        segment_log2: header::SEGMENT_LOG2,
        notice: container::notice(&template.name, &license.original_name),
    };
    let expected = locked.metadata.len();
    let source = locked.reader()?;
    let ((), warnings) = locked.replace_with(|temp, temp_path| {
        let mut out = BufWriter::with_capacity(256 * 1024, Writeback::new(temp));
        let written = container::seal(&params, source, &mut out)
            .and_then(|n| out.flush().map(|()| n))
            .map_err(|e| io_failure(e, path, temp_path))?;
        if written != expected {
            return Err(Error::new(
                ExitClass::Busy,
                format!("{}: busy: the file changed size while being protected ({expected} -> {written} bytes); left as it was", path.display()),
            ));
        }
        Ok(())
    })?;
    // The file is protected whatever happens now: registration only reports.
    let registration =
        template.license_server.as_ref().filter(|server| server.register).map(|server| {
            register::register(&server.url, &container::header_bytes(&params), request.license_server_ca)
        });
    Ok(ProtectOutcome::Protected { license, warnings, registration })
}

/// An I/O failure while streaming: disk full names the temporary file; anything else the original.
fn io_failure(e: std::io::Error, original: &Path, temp: &Path) -> Error {
    if matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded | std::io::ErrorKind::FileTooLarge
    ) {
        Error::io("cannot write the protected copy", temp, e, ExitClass::Write).context(original.display())
    } else {
        Error::io("I/O error while protecting", original, e, ExitClass::Write)
    }
}

fn new_license(
    path: &Path,
    size: u64,
    template: &Template,
    request: &ProtectRequest<'_>,
    content_key: &ContentKey,
) -> Result<License, Error> {
    let issued = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc());
    let mut wraps = Vec::new();
    for (recipient, role) in template.recipients() {
        let wrapped = recipient.wrap(&content_key.0).map_err(|e| e.context(format!("template {}", template.id)))?;
        wraps.push(KeyWrap { key_id: recipient.id.clone(), role: role.to_string(), wrapped });
    }
    Ok(License {
        content_id: Uuid::new_v4(),
        template_id: template.id,
        template_name: template.name.clone(),
        owner: request.owner.map(str::to_string),
        issued,
        valid_until: template.expiry.valid_until(issued),
        offline_days: template.offline_days,
        license_server: template.license_server.as_ref().map(|server| server.url.clone()),
        original_name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        original_size: size,
        grants: template.grants.clone(),
        wraps,
    })
}

/// The envelope when the locked file is a whole fci-connector container (see [`container::examine`]); a file that
/// merely starts like one is protected like any other file.
fn already_protected(locked: &mut LockedFile) -> Result<Option<Box<Envelope>>, Error> {
    match examine_file(&locked.file, locked.metadata.len(), &locked.path)? {
        Examined::Whole(envelope) => Ok(Some(envelope)),
        Examined::NotOurs | Examined::Damaged(_) => Ok(None),
    }
}

/// [`container::examine`] on an open file of `len` bytes, read from its start; I/O errors name `path`.
fn examine_file(file: &File, len: u64, path: &Path) -> Result<Examined, Error> {
    let mut reader = BufReader::new(file);
    reader.seek(std::io::SeekFrom::Start(0)).map_err(|e| Error::io("cannot read", path, e, ExitClass::Busy))?;
    container::examine(&mut reader, len).map_err(|e| Error::io("cannot read", path, e, ExitClass::Busy))
}

/// What `status` found.
#[derive(Debug)]
pub enum FileState {
    /// Protected by fci-connector; the envelope as read, not verified (that needs a key).
    Protected(Box<Envelope>),
    /// Starts like an fci-connector file but is not a whole container (header or license unreadable, or a size
    /// that does not match the license): why. Not protected: `protect` classifies it like any file.
    Damaged(String),
    /// Protected by another product (Microsoft RMS, Office IRM or password, PDF or zip encryption).
    ProtectedByOther(Box<crate::detect::ForeignProtection>),
    Unprotected,
}

/// Look at `path` without any key: ours, another product's, or unprotected.
pub fn status_of(path: &Path) -> Result<FileState, Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot open", path, e, ExitClass::NotFound))?;
    if !meta.is_file() {
        return Err(Error::new(ExitClass::NotFound, format!("{}: is not a regular file", path.display())));
    }
    let file = File::open(path).map_err(|e| Error::io("cannot open", path, e, ExitClass::Busy))?;
    status_of_file(&file, path)
}

/// [`status_of`] a file already open for reading (the pipeline's, reached beneath its root by handle); `path` names
/// it in messages.
pub fn status_of_file(file: &File, path: &Path) -> Result<FileState, Error> {
    let len = file.metadata().map_err(|e| Error::io("cannot read", path, e, ExitClass::Busy))?.len();
    match examine_file(file, len, path)? {
        Examined::Whole(envelope) => Ok(FileState::Protected(envelope)),
        Examined::Damaged(why) => Ok(FileState::Damaged(why)),
        Examined::NotOurs => match crate::detect::foreign_protection_of(
            file.try_clone().map_err(|e| Error::io("cannot read", path, e, ExitClass::Busy))?,
            path,
        )? {
            Some(foreign) => Ok(FileState::ProtectedByOther(Box::new(foreign))),
            None => Ok(FileState::Unprotected),
        },
    }
}

/// Where [`unprotect_file`] puts the plaintext.
pub enum UnprotectTarget<'a> {
    /// Replace the protected file.
    InPlace,
    /// Write a new file; the protected file stays.
    NewFile(&'a Path),
}

/// Decrypt `path` with `holder`. The whole payload is verified before anything replaces anything. Returns the
/// license and what of the file's security could not be kept (in place).
pub fn unprotect_file(
    path: &Path,
    holder: &HolderKey,
    target: UnprotectTarget<'_>,
) -> Result<(License, Vec<String>), Error> {
    let mut locked = LockedFile::open(path, None)?;
    if matches!(target, UnprotectTarget::InPlace) {
        // A writer's data would go to the replaced version.
        locked.take_lease()?;
    }
    let mut reader = BufReader::with_capacity(64 * 1024, locked.reader()?);
    let envelope = Envelope::read(&mut reader).map_err(|e| container_failure(e, path))?;
    let decrypt = |temp: &mut File, temp_path: &Path| {
        let mut out = BufWriter::with_capacity(256 * 1024, Writeback::new(temp));
        envelope.open(holder, &mut reader, &mut out).map_err(|e| container_failure(e, path))?;
        out.flush().map_err(|e| Error::io("cannot write the decrypted copy", temp_path, e, ExitClass::Write))
    };
    let warnings = match target {
        UnprotectTarget::InPlace => locked.replace_with(decrypt)?.1,
        UnprotectTarget::NewFile(dest) => {
            inplace::write_new(dest, Some(&locked.metadata), decrypt)?;
            Vec::new()
        }
    };
    Ok((envelope.license, warnings))
}

/// Map container failures to exit classes, naming the file.
fn container_failure(e: ContainerError, path: &Path) -> Error {
    let class = match &e {
        ContainerError::Header(HeaderError::NotProtected) => ExitClass::Usage,
        ContainerError::NotRecipient { .. } => ExitClass::Template,
        ContainerError::Io(io) | ContainerError::Header(HeaderError::Io(io)) => {
            crate::error::io_class(io, ExitClass::Write)
        }
        _ => ExitClass::Unreadable,
    };
    let message = match &e {
        ContainerError::NotRecipient { key, recipients } => {
            format!("this key ({key}) is not a recipient of {}; recipients: {recipients}", path.display())
        }
        other => format!("{}: {other}", path.display()),
    };
    Error::new(class, message).with_source(e)
}
