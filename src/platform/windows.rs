//! The Windows side of [`super`]: `ReplaceFileW` for the swap by path (with the read-only attribute handled and a
//! `MoveFileExW` fallback), `GetCommandLineW` and the Application event log. The handle-based side (folders held
//! open, the temporary file, the swap by handle, identities, streams) is in [`handles`].

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;
use std::ptr;

use windows_sys::Win32::Foundation::{ERROR_MORE_DATA, HANDLE, WAIT_TIMEOUT};
use windows_sys::Win32::Storage::FileSystem::{
    DELETE, FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_HIDDEN, FILE_ATTRIBUTE_NORMAL, FILE_ATTRIBUTE_NOT_CONTENT_INDEXED,
    FILE_ATTRIBUTE_OFFLINE, FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_SYSTEM, FILE_ATTRIBUTE_TEMPORARY,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, GetFileAttributesW, INVALID_FILE_ATTRIBUTES,
    MOVEFILE_REPLACE_EXISTING, MOVEFILE_WRITE_THROUGH, MoveFileExW, ReplaceFileW, SetFileAttributesW,
};
use windows_sys::Win32::System::Environment::GetCommandLineW;
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_ERROR_TYPE, RegisterEventSourceW, ReportEventW,
};
use windows_sys::Win32::System::RestartManager::{
    CCH_RM_SESSION_KEY, RmEndSession, RmGetList, RmRegisterResources, RmStartSession,
};
use windows_sys::Win32::System::Threading::WaitForSingleObject;
use windows_sys::Win32::UI::Shell::{SEE_MASK_NOASYNC, SEE_MASK_NOCLOSEPROCESS, SHELLEXECUTEINFOW, ShellExecuteExW};

use super::winpath;

mod handles;
mod service;
pub use handles::{Folder, ReadLease, copy_security, file_identity, read_lease};
pub use service::{run_service, service_ready};

/// The attributes a replaced file keeps. ReplaceFileW carries them itself; set again so the `MoveFileExW`
/// fallback (and Wine, whose ReplaceFileW does not merge them) keeps them too. The temporary attribute, which the
/// temporary file was created with, goes back to the original's (cleared). Not the archive attribute: the content
/// changed, so backup software must see it set, as it is on the new file.
pub(super) const KEPT_ATTRIBUTES: u32 = FILE_ATTRIBUTE_READONLY
    | FILE_ATTRIBUTE_HIDDEN
    | FILE_ATTRIBUTE_SYSTEM
    | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED
    | FILE_ATTRIBUTE_TEMPORARY;

/// Event id of a failure in the Application log. With the source registered on the .NET message file (as
/// `New-EventLog` does), the event shows the message text as it is.
const FAILURE_EVENT_ID: u32 = 1000;

/// ReportEventW takes strings up to 31,839 characters; longer messages are cut.
const MAX_EVENT_CHARS: usize = 31_000;

/// `SW_SHOWNORMAL`: show the application's window as it normally opens.
const SW_SHOWNORMAL: i32 = 1;

pub fn replace_file(replacement: &Path, dest: &Path) -> io::Result<()> {
    let replacement_w = wide_path(replacement)?;
    let dest_w = wide_path(dest)?;
    let original = attributes(&dest_w)?;
    // Both ReplaceFileW and MoveFileExW refuse a read-only target, and ReplaceFileW needs write access to the
    // replacement, which got the original's read-only flag with its permissions: take the flag off both for the
    // swap and put the original's attributes back on the result.
    let replacement_attrs = attributes(&replacement_w)?;
    if replacement_attrs & FILE_ATTRIBUTE_READONLY != 0 {
        set_kept(&replacement_w, replacement_attrs, replacement_attrs & !FILE_ATTRIBUTE_READONLY)?;
    }
    if original & FILE_ATTRIBUTE_READONLY != 0 {
        set_kept(&dest_w, original, original & !FILE_ATTRIBUTE_READONLY)?;
    }
    match ensure_removable(dest).and_then(|()| swap(&replacement_w, &dest_w)) {
        Ok(()) => {
            // Best effort: the content is already in place, and failing now would report a protected file as not.
            if let Ok(now) = attributes(&dest_w) {
                let _ = set_kept(&dest_w, now, original);
            }
            Ok(())
        }
        Err(e) => {
            if original & FILE_ATTRIBUTE_READONLY != 0 {
                let _ = set_kept(&dest_w, original & !FILE_ATTRIBUTE_READONLY, original);
            }
            Err(e)
        }
    }
}

/// Fail before the swap starts when another process holds the original without sharing delete access (a document
/// open in an editor): ReplaceFileW would get part of the way first, and Wine's leaves a temporary file behind.
fn ensure_removable(dest: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .access_mode(DELETE)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .open(dest)
        .map(drop)
}

/// ReplaceFileW, then MoveFileExW where it fails: on file systems and shares without ReplaceFileW support, and
/// after ERROR_UNABLE_TO_MOVE_REPLACEMENT, where ReplaceFileW has already removed the original and only the rename
/// is left to do.
fn swap(replacement: &[u16], dest: &[u16]) -> io::Result<()> {
    // SAFETY: both are NUL-terminated wide strings that outlive the call; the optional arguments are null.
    let replaced =
        unsafe { ReplaceFileW(dest.as_ptr(), replacement.as_ptr(), ptr::null(), 0, ptr::null(), ptr::null()) };
    if replaced != 0 {
        return Ok(());
    }
    // SAFETY: as above.
    let moved =
        unsafe { MoveFileExW(replacement.as_ptr(), dest.as_ptr(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) };
    if moved != 0 {
        return Ok(());
    }
    // The rename's error says why the target cannot be replaced (in use, access denied) in the terms the exit
    // codes map; ReplaceFileW's own codes (1175-1177) are not I/O error kinds.
    Err(io::Error::last_os_error())
}

pub(super) fn attributes(path: &[u16]) -> io::Result<u32> {
    // SAFETY: `path` is a NUL-terminated wide string.
    let attrs = unsafe { GetFileAttributesW(path.as_ptr()) };
    if attrs == INVALID_FILE_ATTRIBUTES { Err(io::Error::last_os_error()) } else { Ok(attrs) }
}

fn set_attributes(path: &[u16], attrs: u32) -> io::Result<()> {
    // SAFETY: `path` is a NUL-terminated wide string.
    if unsafe { SetFileAttributesW(path.as_ptr(), attrs) } != 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// The attributes SetFileAttributesW sets; the others (compressed, encrypted, sparse, ...) are not passed back.
pub(super) const SETTABLE_ATTRIBUTES: u32 = KEPT_ATTRIBUTES | FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_OFFLINE;

/// Give the file at `path`, whose attributes are `now`, the [`KEPT_ATTRIBUTES`] of `want`, leaving the others.
pub(super) fn set_kept(path: &[u16], now: u32, want: u32) -> io::Result<()> {
    let attrs = (now & SETTABLE_ATTRIBUTES & !KEPT_ATTRIBUTES) | (want & KEPT_ATTRIBUTES);
    set_attributes(path, if attrs == 0 { FILE_ATTRIBUTE_NORMAL } else { attrs })
}

/// `path` as a NUL-terminated wide string for the file APIs; from [`winpath::LONG_PATH_FROM`] characters on,
/// absolute and in the `\\?\` form, as std does for its own calls, so paths beyond MAX_PATH work.
pub(super) fn wide_path(path: &Path) -> io::Result<Vec<u16>> {
    let mut wide: Vec<u16> = path.as_os_str().encode_wide().collect();
    if winpath::needs_verbatim(&wide) {
        let abs: Vec<u16> = std::path::absolute(path)?.as_os_str().encode_wide().collect();
        wide = winpath::verbatim(&abs);
    }
    nul_terminated(wide, path.as_os_str())
}

pub(super) fn nul_terminated(mut wide: Vec<u16>, what: &OsStr) -> io::Result<Vec<u16>> {
    if wide.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: a path cannot contain a NUL character", what.to_string_lossy()),
        ));
    }
    wide.push(0);
    Ok(wide)
}

pub fn raw_command_line() -> Option<OsString> {
    // SAFETY: GetCommandLineW returns the process's own NUL-terminated command line, valid (and not modified by
    // us) for the life of the process; we read up to its NUL.
    unsafe {
        let line = GetCommandLineW();
        if line.is_null() {
            return None;
        }
        let mut len = 0;
        while *line.add(len) != 0 {
            len += 1;
        }
        Some(OsString::from_wide(std::slice::from_raw_parts(line, len)))
    }
}

/// See [`super::Launched`]: a process started by the caller, or the one the shell started (none when it handed the
/// file to an application that was already running).
pub enum Launched {
    Child(std::process::Child),
    Shell(Option<OwnedHandle>),
}

impl Launched {
    pub fn from_child(child: std::process::Child) -> Launched {
        Launched::Child(child)
    }

    pub fn finished(&mut self) -> bool {
        match self {
            Launched::Child(child) => !matches!(child.try_wait(), Ok(None)),
            Launched::Shell(None) => true,
            // SAFETY: a process handle we own, waited on without blocking.
            Launched::Shell(Some(process)) => unsafe {
                WaitForSingleObject(process.as_raw_handle() as HANDLE, 0) != WAIT_TIMEOUT
            },
        }
    }
}

/// The shell's default verb for the file (`ShellExecuteExW`), keeping the started process's handle when there is one.
pub fn launch_default(path: &Path) -> io::Result<Launched> {
    // The plain path, not the `\\?\` form, which some applications do not understand.
    let file = nul_terminated(path.as_os_str().encode_wide().collect(), path.as_os_str())?;
    let mut info = SHELLEXECUTEINFOW {
        cbSize: std::mem::size_of::<SHELLEXECUTEINFOW>() as u32,
        fMask: SEE_MASK_NOCLOSEPROCESS | SEE_MASK_NOASYNC,
        lpFile: file.as_ptr(),
        nShow: SW_SHOWNORMAL,
        ..Default::default()
    };
    // SAFETY: `info` is initialised with its size; `file` is NUL-terminated and outlives the call.
    if unsafe { ShellExecuteExW(&mut info) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let process = if info.hProcess.is_null() {
        None
    } else {
        // SAFETY: SEE_MASK_NOCLOSEPROCESS gives us this process handle to close; nothing else owns it.
        Some(unsafe { OwnedHandle::from_raw_handle(info.hProcess as _) })
    };
    Ok(Launched::Shell(process))
}

/// The Restart Manager: a session with the file as its one resource, asked for the processes that use it.
pub fn is_held_open(path: &Path) -> io::Result<bool> {
    let file = wide_path(path)?;
    let mut session = 0u32;
    let mut key = [0u16; CCH_RM_SESSION_KEY as usize + 1];
    // SAFETY: `key` has room for CCH_RM_SESSION_KEY characters and the NUL.
    let status = unsafe { RmStartSession(&mut session, 0, key.as_mut_ptr()) };
    if status != 0 {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    let files = [file.as_ptr()];
    // SAFETY: one NUL-terminated path that outlives the call; no applications or services.
    let mut status = unsafe { RmRegisterResources(session, 1, files.as_ptr(), 0, ptr::null(), 0, ptr::null()) };
    let (mut needed, mut count, mut reasons) = (0u32, 0u32, 0u32);
    if status == 0 {
        // SAFETY: a size query (no array, `count` 0): `needed` receives how many processes use the file.
        status = unsafe { RmGetList(session, &mut needed, &mut count, ptr::null_mut(), &mut reasons) };
    }
    // SAFETY: the session started above.
    unsafe { RmEndSession(session) };
    match status {
        0 | ERROR_MORE_DATA => Ok(needed > 0),
        e => Err(io::Error::from_raw_os_error(e as i32)),
    }
}

pub fn open_to_read(path: &Path) -> io::Result<File> {
    // CreateFile does not wait: a busy named pipe fails at once, and the caller refuses what is not a file.
    File::open(path)
}

pub fn create_new(path: &Path, owner_only: bool) -> io::Result<File> {
    // No modes here: the caller narrows the DACL (`restrict_to_owner`) before writing anything secret, through this
    // handle, so a secret's handle needs WRITE_DAC (and READ_CONTROL, which SetSecurityInfo reads with) beside
    // GENERIC_WRITE: without them setting the DACL is "access denied".
    const GENERIC_WRITE: u32 = 0x4000_0000;
    const READ_CONTROL: u32 = 0x0002_0000;
    const WRITE_DAC: u32 = 0x0004_0000;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    if owner_only {
        options.access_mode(GENERIC_WRITE | WRITE_DAC | READ_CONTROL);
    }
    options.open(path)
}

pub fn is_hidden(_name: &OsStr, metadata: impl FnOnce() -> Option<std::fs::Metadata>) -> bool {
    use std::os::windows::fs::MetadataExt;
    const HIDDEN: u32 = 0x2;
    const SYSTEM: u32 = 0x4;
    metadata().is_some_and(|m| m.file_attributes() & (HIDDEN | SYSTEM) != 0)
}

/// ERROR_SHARING_VIOLATION (32) and ERROR_LOCK_VIOLATION (33).
pub fn is_sharing_violation(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(32) | Some(33))
}

pub async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

pub fn report_failure_event(message: &str) {
    let source: Vec<u16> = super::EVENT_SOURCE.encode_utf16().chain([0]).collect();
    let text: Vec<u16> = message
        .chars()
        .take(MAX_EVENT_CHARS)
        .map(|c| if c == '\0' { ' ' } else { c })
        .collect::<String>()
        .encode_utf16()
        .chain([0])
        .collect();
    // SAFETY: the strings are NUL-terminated and outlive the calls; the handle is checked and closed once.
    unsafe {
        let log: HANDLE = RegisterEventSourceW(ptr::null(), source.as_ptr());
        if log.is_null() {
            return;
        }
        let strings = [text.as_ptr()];
        let _ = ReportEventW(
            log,
            EVENTLOG_ERROR_TYPE,
            0,
            FAILURE_EVENT_ID,
            ptr::null_mut(),
            1,
            0,
            strings.as_ptr(),
            ptr::null(),
        );
        DeregisterEventSource(log);
    }
}

/// See [`super::Writeback`]: a pass-through. The lazy writer already writes behind sequential writes, and the
/// final `FlushFileBuffers` waits for the rest.
pub struct Writeback<'a> {
    file: &'a File,
}

impl<'a> Writeback<'a> {
    pub fn new(file: &'a File) -> Self {
        Writeback { file }
    }
}

impl io::Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut self.file, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.file)
    }
}
