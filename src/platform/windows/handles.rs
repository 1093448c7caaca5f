//! The handle-based side of the Windows platform layer: folders reached one component at a time and held open,
//! the temporary file created with the original's security descriptor, the swap done on handles, file identities,
//! and the copy of attributes and alternate data streams.
//!
//! Why paths are still used beneath a held folder: Win32 has no "open relative to this folder handle". Every folder
//! from the task's root down is held open *without* `FILE_SHARE_DELETE`, which is what renaming, deleting or
//! replacing a folder needs, so while we work no folder in the chain can be moved, and the path we built names
//! exactly the folders we hold. Each step is opened with `FILE_FLAG_OPEN_REPARSE_POINT` (a link is opened, never
//! followed) and refused if it is a symbolic link or junction ([`winrules::refused_reparse_tag`]); the last name is
//! checked the same way when the file is opened. The swap itself is by handle (`FileRenameInfoEx` on the temporary
//! file's own handle, relative to the folder's handle) where Windows has it.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::{Arc, Mutex, OnceLock};

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ALREADY_EXISTS, ERROR_FILE_EXISTS, ERROR_HANDLE_EOF, ERROR_INVALID_OWNER, ERROR_MORE_DATA,
    ERROR_NOT_ALL_ASSIGNED, GENERIC_READ, GENERIC_WRITE, GetLastError, HANDLE, INVALID_HANDLE_VALUE, LUID, LocalFree,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetSecurityInfo, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    AdjustTokenPrivileges, DACL_SECURITY_INFORMATION, GROUP_SECURITY_INFORMATION, LABEL_SECURITY_INFORMATION,
    LUID_AND_ATTRIBUTES, LookupPrivilegeValueW, OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
    SACL_SECURITY_INFORMATION, SE_PRIVILEGE_ENABLED, SE_RESTORE_NAME, SE_SECURITY_NAME, SECURITY_ATTRIBUTES,
    TOKEN_ADJUST_PRIVILEGES, TOKEN_PRIVILEGES, TOKEN_QUERY,
};
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, CREATE_NEW, CreateFileW, DELETE, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_NORMAL,
    FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_REPARSE_POINT, FILE_ATTRIBUTE_TAG_INFO, FILE_BASIC_INFO,
    FILE_DISPOSITION_INFO, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_ID_INFO,
    FILE_INFO_BY_HANDLE_CLASS, FILE_LIST_DIRECTORY, FILE_NAME_NORMALIZED, FILE_READ_ATTRIBUTES, FILE_RENAME_INFO,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_STANDARD_INFO, FILE_TRAVERSE, FILE_WRITE_ATTRIBUTES,
    FileAttributeTagInfo, FileBasicInfo, FileDispositionInfo, FileIdInfo, FileRenameInfo, FileRenameInfoEx,
    FileStandardInfo, FileStreamInfo, GetFileInformationByHandle, GetFileInformationByHandleEx,
    GetFinalPathNameByHandleW, MOVEFILE_WRITE_THROUGH, MoveFileExW, READ_CONTROL, SYNCHRONIZE,
    SetFileInformationByHandle, VOLUME_NAME_DOS,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::super::winrules::{self, BadComponent};
use super::super::{FileIdentity, winpath};

/// `ACCESS_SYSTEM_SECURITY`: the right to read a file's SACL (needs SeSecurityPrivilege).
const ACCESS_SYSTEM_SECURITY: u32 = 0x0100_0000;
/// `ERROR_PRIVILEGE_NOT_HELD`: giving a file an owner other than ourselves without SeRestorePrivilege.
const ERROR_PRIVILEGE_NOT_HELD: u32 = 1314;
/// `ERROR_INVALID_PRIMARY_GROUP`: the same for the group.
const ERROR_INVALID_PRIMARY_GROUP: u32 = 1308;
/// Sharing for folders we hold: others may read and write inside them, but nobody may rename, delete or replace
/// them (that needs delete access, which we do not share).
const FOLDER_SHARE: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE;
/// Sharing for the original while it is read: other readers yes, writers no (a writer's open fails, and one that
/// already has it open makes our open fail: busy), delete yes so that the swap can replace it.
const ORIGINAL_SHARE: u32 = FILE_SHARE_READ | FILE_SHARE_DELETE;
/// Sharing for our temporary file: readable (the stale-file sweep of another run looks at it), never writable by
/// anyone else; delete shared so that the `ReplaceFileW` fallback can move it.
const TEMP_SHARE: u32 = FILE_SHARE_READ | FILE_SHARE_DELETE;

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().collect()
}

fn path_of(wide: &[u16]) -> PathBuf {
    PathBuf::from(OsString::from_wide(wide))
}

fn bad_component(name: &OsStr, why: BadComponent) -> io::Error {
    let what = match why {
        BadComponent::Parent => "'..' would leave the folder",
        BadComponent::Colon => "a ':' (drive or stream syntax) is not allowed in a name",
        BadComponent::NotAName => "not a single file or folder name",
    };
    io::Error::new(io::ErrorKind::InvalidInput, format!("{}: {what}", name.to_string_lossy()))
}

fn check_name(name: &OsStr) -> io::Result<Vec<u16>> {
    let w = wide(name);
    winrules::check_component(&w).map_err(|why| bad_component(name, why))?;
    Ok(w)
}

// --- information by handle --------------------------------------------------------------------------------------

/// `GetFileInformationByHandleEx` into a `T` (one of the fixed-size `FILE_*_INFO` structures).
fn info<T: Default>(file: &File, class: FILE_INFO_BY_HANDLE_CLASS) -> io::Result<T> {
    let mut out = T::default();
    // SAFETY: the handle is open for the life of `file`; `out` is a writable `T` of the size passed, and `class`
    // is the class whose structure `T` is (every caller pairs them).
    let ok = unsafe {
        GetFileInformationByHandleEx(
            file.as_raw_handle() as HANDLE,
            class,
            (&mut out as *mut T).cast(),
            size_of::<T>() as u32,
        )
    };
    if ok == 0 { Err(io::Error::last_os_error()) } else { Ok(out) }
}

fn set_info<T>(file: &File, class: FILE_INFO_BY_HANDLE_CLASS, value: &T) -> io::Result<()> {
    // SAFETY: as in `info`; `value` is the structure of `class`, read-only for the call.
    let ok = unsafe {
        SetFileInformationByHandle(
            file.as_raw_handle() as HANDLE,
            class,
            (value as *const T).cast(),
            size_of::<T>() as u32,
        )
    };
    if ok == 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Attributes and reparse tag (0 when the file is no reparse point).
fn attributes_and_tag(file: &File) -> io::Result<(u32, u32)> {
    let t: FILE_ATTRIBUTE_TAG_INFO = info(file, FileAttributeTagInfo)?;
    let tag = if t.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 { t.ReparseTag } else { 0 };
    Ok((t.FileAttributes, tag))
}

/// The path Windows has for an open file, in the `\\?\` form (`\\?\C:\…`, `\\?\UNC\server\share\…`).
fn final_path(file: &File) -> io::Result<Vec<u16>> {
    let mut buf = vec![0u16; 512];
    loop {
        // SAFETY: `buf` is writable for the length passed; the handle is open for the life of `file`.
        let n = unsafe {
            GetFinalPathNameByHandleW(
                file.as_raw_handle() as HANDLE,
                buf.as_mut_ptr(),
                buf.len() as u32,
                FILE_NAME_NORMALIZED | VOLUME_NAME_DOS,
            )
        } as usize;
        if n == 0 {
            return Err(io::Error::last_os_error());
        }
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        buf.resize(n + 1, 0);
    }
}

pub fn file_identity(file: &File) -> io::Result<FileIdentity> {
    let (volume, index) = match info::<FILE_ID_INFO>(file, FileIdInfo) {
        Ok(id) => (id.VolumeSerialNumber, u128::from_le_bytes(id.FileId.Identifier)),
        // Before Windows 8 / Server 2012, and file systems without 128-bit ids: the 64-bit index.
        Err(_) => {
            let mut h = BY_HANDLE_FILE_INFORMATION::default();
            // SAFETY: the handle is open for the life of `file`; `h` is a valid, writable structure.
            if unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &mut h) } == 0 {
                return Err(io::Error::last_os_error());
            }
            (
                u64::from(h.dwVolumeSerialNumber),
                u128::from((u64::from(h.nFileIndexHigh) << 32) | u64::from(h.nFileIndexLow)),
            )
        }
    };
    let standard: FILE_STANDARD_INFO = info(file, FileStandardInfo)?;
    let basic: FILE_BASIC_INFO = info(file, FileBasicInfo)?;
    Ok(FileIdentity {
        volume,
        index,
        size: u64::try_from(standard.EndOfFile).unwrap_or(0),
        changed: winrules::filetime_to_system(basic.ChangeTime),
        links: u64::from(standard.NumberOfLinks),
    })
}

fn same_object(a: &File, b: &File) -> io::Result<bool> {
    let (a, b) = (file_identity(a)?, file_identity(b)?);
    Ok(a.volume == b.volume && a.index == b.index)
}

// --- privileges -------------------------------------------------------------------------------------------------

/// Which of the privileges the security descriptor copy can use are enabled in this process (enabled once, best
/// effort: Local System holds them; an ordinary user does not, and then the owner or SACL is not copied and a
/// warning says so).
struct Privileges {
    restore: bool,
    security: bool,
}

fn privileges() -> &'static Privileges {
    static P: OnceLock<Privileges> = OnceLock::new();
    P.get_or_init(|| {
        let mut token: HANDLE = ptr::null_mut();
        // SAFETY: the pseudo-handle of this process; `token` is written on success and closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &mut token) } == 0 {
            return Privileges { restore: false, security: false };
        }
        let enable = |name: *const u16| -> bool {
            let mut luid = LUID::default();
            // SAFETY: `name` is one of windows-sys's NUL-terminated constants; `luid` is writable.
            if unsafe { LookupPrivilegeValueW(ptr::null(), name, &mut luid) } == 0 {
                return false;
            }
            let tp = TOKEN_PRIVILEGES {
                PrivilegeCount: 1,
                Privileges: [LUID_AND_ATTRIBUTES { Luid: luid, Attributes: SE_PRIVILEGE_ENABLED }],
            };
            // SAFETY: `token` is open with TOKEN_ADJUST_PRIVILEGES; `tp` is a valid one-entry list; no previous
            // state is asked for. GetLastError right after tells whether the privilege was actually held.
            unsafe {
                AdjustTokenPrivileges(token, 0, &tp, 0, ptr::null_mut(), ptr::null_mut()) != 0
                    && GetLastError() != ERROR_NOT_ALL_ASSIGNED
            }
        };
        let p = Privileges { restore: enable(SE_RESTORE_NAME), security: enable(SE_SECURITY_NAME) };
        // SAFETY: the token handle opened above, closed once.
        unsafe { CloseHandle(token) };
        p
    })
}

// --- security descriptors ---------------------------------------------------------------------------------------

/// A security descriptor Windows allocated (GetSecurityInfo, SDDL conversion); freed with LocalFree.
struct Descriptor(PSECURITY_DESCRIPTOR);

impl Drop for Descriptor {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: allocated by the API that filled it, with LocalAlloc, and freed only here.
            unsafe { LocalFree(self.0) };
        }
    }
}

/// The parts of `file`'s security descriptor named by `parts`, read through its handle.
fn descriptor_of(file: &File, parts: u32) -> io::Result<Descriptor> {
    let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: the handle is open for the life of `file`; only the whole descriptor is asked for (the other out
    // pointers are null), and it is owned by the returned guard.
    let rc = unsafe {
        GetSecurityInfo(
            file.as_raw_handle() as HANDLE,
            SE_FILE_OBJECT,
            parts,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut sd,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok(Descriptor(sd))
}

fn descriptor_from_sddl(sddl: &str) -> io::Result<Descriptor> {
    let text: Vec<u16> = sddl.encode_utf16().chain([0]).collect();
    let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: `text` is NUL-terminated; the descriptor written is owned by the returned guard.
    if unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(text.as_ptr(), SDDL_REVISION_1, &mut sd, ptr::null_mut())
    } == 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(Descriptor(sd))
}

/// A new file's security when there is no original to copy: only its owner (and the system and administrators, who
/// could take it anyway) may open it, whatever the folder would pass on.
const OWNER_ONLY_SDDL: &str = "D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)";
const OWNER_ONLY_SDDL_FALLBACK: &str = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";

/// What the temporary file is created with, from the original: owner, group, DACL (and its protection), the
/// integrity label, and the SACL where SeSecurityPrivilege lets us read it. Warnings name what could not be kept.
fn descriptors_like(original: &File, warnings: &mut Vec<String>) -> io::Result<Vec<Descriptor>> {
    let base = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    let mut tries = Vec::new();
    // The SACL needs a handle opened with ACCESS_SYSTEM_SECURITY: reopen the original for it, and use that handle
    // only if it is the same file.
    let audited = privileges().security.then(|| reopen_same(original, READ_CONTROL | ACCESS_SYSTEM_SECURITY)).flatten();
    match audited.as_ref().map(|f| descriptor_of(f, base | SACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION)) {
        Some(Ok(d)) => tries.push(d),
        _ => {
            warnings.push("auditing entries (SACL) not copied: SeSecurityPrivilege is not held".to_string());
            match descriptor_of(original, base | LABEL_SECURITY_INFORMATION) {
                Ok(d) => tries.push(d),
                Err(_) => tries.push(descriptor_of(original, base)?),
            }
        }
    }
    // Without SeRestorePrivilege Windows refuses an owner other than ourselves: then keep the DACL and say so.
    if !privileges().restore {
        if let Ok(d) = descriptor_of(original, DACL_SECURITY_INFORMATION) {
            tries.push(d);
        }
    }
    Ok(tries)
}

/// `original` opened again by its current path with `access`, if that still names the same file.
fn reopen_same(original: &File, access: u32) -> Option<File> {
    let path = final_path(original).ok()?;
    let again = OpenOptions::new()
        .access_mode(access)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path_of(&path))
        .ok()?;
    same_object(original, &again).ok()?.then_some(again)
}

/// Warnings about temporary files, kept from [`Folder::create_temp`] until [`copy_security`] returns them, by the
/// temporary file's identity.
fn pending_warnings() -> &'static Mutex<Vec<((u64, u128), Vec<String>)>> {
    static W: OnceLock<Mutex<Vec<((u64, u128), Vec<String>)>>> = OnceLock::new();
    W.get_or_init(|| Mutex::new(Vec::new()))
}

// --- folders ----------------------------------------------------------------------------------------------------

/// See [`super::super::Folder`]'s description in the shared interface: this folder and every folder above it up to
/// the task's root, held open without delete sharing.
#[derive(Debug)]
pub struct Folder {
    handle: Arc<File>,
    /// The folders above this one, from the task's root down (kept open for their sharing mode only).
    above: Vec<Arc<File>>,
    /// This folder's path in the `\\?\` form, for the path-based calls beneath it.
    real: Vec<u16>,
    /// The path as the caller gave it (messages).
    shown: PathBuf,
    /// Our temporary files in this folder, by name, with a handle that can rename and delete them.
    temps: Mutex<Vec<(OsString, File)>>,
    /// Temporary files that became the only copy of the content (a failed fallback swap): never removed.
    kept: Mutex<Vec<OsString>>,
}

fn open_folder(path: &[u16], follow: bool) -> io::Result<File> {
    let flags = FILE_FLAG_BACKUP_SEMANTICS | if follow { 0 } else { FILE_FLAG_OPEN_REPARSE_POINT };
    OpenOptions::new()
        .access_mode(FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE)
        .share_mode(FOLDER_SHARE)
        .custom_flags(flags)
        .open(path_of(path))
}

/// `base\name` (no doubled backslash after a volume root).
fn join(base: &[u16], name: &[u16]) -> Vec<u16> {
    let mut p = base.to_vec();
    if p.last() != Some(&(b'\\' as u16)) {
        p.push(b'\\' as u16);
    }
    p.extend_from_slice(name);
    p
}

fn link_refused(shown: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{}: is a {what}; fci-connector does not follow links below the folder it works in", shown.display()),
    )
}

impl Folder {
    pub fn open_root(path: &Path) -> io::Result<Folder> {
        let abs = std::path::absolute(path)?;
        // The root may be reached through links: where the task points is the administrator's choice.
        let handle = open_folder(&wide(abs.as_os_str()), true)?;
        let (attrs, _) = attributes_and_tag(&handle)?;
        if attrs & FILE_ATTRIBUTE_DIRECTORY == 0 {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, format!("{}: is not a folder", path.display())));
        }
        // Beneath it everything is built on the path Windows has for the handle, so a link in `path` is resolved
        // once, here, and never again.
        let real = final_path(&handle).unwrap_or_else(|_| winpath::verbatim(&wide(abs.as_os_str())));
        Ok(Folder {
            handle: Arc::new(handle),
            above: Vec::new(),
            real,
            shown: path.to_path_buf(),
            temps: Mutex::new(Vec::new()),
            kept: Mutex::new(Vec::new()),
        })
    }

    pub fn open_beneath(&self, relative: &Path) -> io::Result<Folder> {
        let rel = wide(relative.as_os_str());
        let parts = winrules::split_relative(&rel).map_err(|why| bad_component(relative.as_os_str(), why))?;
        let mut above = self.above.clone();
        let mut handle = self.handle.clone();
        let mut real = self.real.clone();
        let mut shown = self.shown.clone();
        for part in parts {
            let next = join(&real, part);
            shown.push(OsString::from_wide(part));
            let folder = open_folder(&next, false)?;
            let (attrs, tag) = attributes_and_tag(&folder)?;
            if let Some(what) = winrules::refused_reparse_tag(tag) {
                return Err(link_refused(&shown, what));
            }
            if attrs & FILE_ATTRIBUTE_DIRECTORY == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{}: is not a folder", shown.display()),
                ));
            }
            above.push(handle);
            handle = Arc::new(folder);
            real = next;
        }
        Ok(Folder { handle, above, real, shown, temps: Mutex::new(Vec::new()), kept: Mutex::new(Vec::new()) })
    }

    pub fn open_file(&self, name: &OsStr) -> io::Result<File> {
        let w = check_name(name)?;
        let path = path_of(&join(&self.real, &w));
        let shown = self.shown.join(name);
        let options = |flags: u32| {
            let mut o = OpenOptions::new();
            o.read(true).share_mode(ORIGINAL_SHARE).custom_flags(flags);
            o
        };
        let file = match options(FILE_FLAG_OPEN_REPARSE_POINT).open(&path) {
            Ok(file) => file,
            // A folder cannot be opened as a file (access denied): say what it is, not "busy".
            Err(e) if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    format!("{}: is a folder ({e})", shown.display()),
                ));
            }
            Err(e) => return Err(e),
        };
        let (attrs, tag) = attributes_and_tag(&file)?;
        if let Some(what) = winrules::refused_reparse_tag(tag) {
            return Err(link_refused(&shown, what));
        }
        if attrs & FILE_ATTRIBUTE_DIRECTORY != 0 {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, format!("{}: is a folder", shown.display())));
        }
        if tag == 0 {
            return Ok(file);
        }
        // Another kind of reparse point (deduplicated, cloud-tiered, HSM): open it again normally so its filter
        // serves the content, and make sure it is still the file just checked.
        let served = options(0).open(&path)?;
        if !same_object(&file, &served)? {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!("{}: was replaced while it was being opened", shown.display()),
            ));
        }
        Ok(served)
    }

    pub fn create_temp(
        &self,
        like: Option<&File>,
        fresh_name: &dyn Fn() -> io::Result<OsString>,
    ) -> io::Result<(File, OsString)> {
        let mut warnings = Vec::new();
        let descriptors = match like {
            Some(original) => descriptors_like(original, &mut warnings)?,
            None => vec![
                descriptor_from_sddl(OWNER_ONLY_SDDL).or_else(|_| descriptor_from_sddl(OWNER_ONLY_SDDL_FALLBACK))?,
            ],
        };
        let mut attempt = 0;
        let mut choice = 0;
        loop {
            let name = fresh_name()?;
            let path = super::nul_terminated(join(&self.real, &wide(&name)), &name)?;
            let sa = SECURITY_ATTRIBUTES {
                nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
                lpSecurityDescriptor: descriptors[choice].0,
                bInheritHandle: 0,
            };
            // SAFETY: `path` is NUL-terminated; `sa` and the descriptor it points to outlive the call. The handle
            // returned is checked and then owned by a `File`.
            let handle = unsafe {
                CreateFileW(
                    path.as_ptr(),
                    GENERIC_READ | GENERIC_WRITE | DELETE,
                    TEMP_SHARE,
                    &sa,
                    CREATE_NEW,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
                    ptr::null_mut(),
                )
            };
            if handle == INVALID_HANDLE_VALUE {
                // SAFETY: reads this thread's last error, set by the failed call just above.
                let code = unsafe { GetLastError() };
                if (code == ERROR_FILE_EXISTS || code == ERROR_ALREADY_EXISTS) && attempt < 16 {
                    attempt += 1;
                    continue;
                }
                let not_ours = [ERROR_INVALID_OWNER, ERROR_INVALID_PRIMARY_GROUP, ERROR_PRIVILEGE_NOT_HELD];
                if not_ours.contains(&code) && choice + 1 < descriptors.len() {
                    choice += 1;
                    warnings.push("owner and group not copied: SeRestorePrivilege is not held".to_string());
                    continue;
                }
                return Err(io::Error::from_raw_os_error(code as i32));
            }
            // SAFETY: a valid handle just returned by CreateFileW, owned by nothing else.
            let file = unsafe { File::from_raw_handle(handle as _) };
            let keep = file.try_clone()?;
            if !warnings.is_empty() {
                if let Ok(id) = file_identity(&file) {
                    if let Ok(mut pending) = pending_warnings().lock() {
                        pending.push(((id.volume, id.index), warnings));
                    }
                }
            }
            if let Ok(mut temps) = self.temps.lock() {
                temps.push((name.clone(), keep));
            }
            return Ok((file, name));
        }
    }

    /// Our own handle on the temporary file `name`, or one opened now (never through a link).
    fn temp_handle(&self, name: &OsStr) -> io::Result<File> {
        if let Some((_, f)) = self
            .temps
            .lock()
            .ok()
            .and_then(|t| t.iter().find(|(n, _)| n == name).map(|(n, f)| (n.clone(), f.try_clone())))
        {
            return f;
        }
        let w = check_name(name)?;
        let file = OpenOptions::new()
            .access_mode(DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path_of(&join(&self.real, &w)))?;
        let (attrs, tag) = attributes_and_tag(&file)?;
        if tag != 0 || attrs & FILE_ATTRIBUTE_DIRECTORY != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: is not a regular file", self.shown.join(name).display()),
            ));
        }
        Ok(file)
    }

    fn forget_temp(&self, name: &OsStr) -> Option<File> {
        let mut temps = self.temps.lock().ok()?;
        let i = temps.iter().position(|(n, _)| n == name)?;
        Some(temps.swap_remove(i).1)
    }

    /// The identity of what `name` names now (opened without access to its content, without following a link).
    fn identity_of_name(&self, name: &[u16]) -> io::Result<FileIdentity> {
        let file = OpenOptions::new()
            .access_mode(FILE_READ_ATTRIBUTES)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path_of(&join(&self.real, name)))?;
        file_identity(&file)
    }

    fn check_still(&self, name: &OsStr, w: &[u16], original: &File) -> io::Result<()> {
        let want = file_identity(original)?;
        let now = self.identity_of_name(w)?;
        if now.volume != want.volume || now.index != want.index {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "{}: was replaced by another file while it was being protected",
                    self.shown.join(name).display()
                ),
            ));
        }
        Ok(())
    }

    pub fn replace(&self, temp: &OsStr, name: &OsStr, original: &File) -> io::Result<()> {
        let w = check_name(name)?;
        check_name(temp)?;
        self.check_still(name, &w, original)?;
        let temp_file = self.temp_handle(temp)?;
        let orig_attrs = info::<FILE_BASIC_INFO>(original, FileBasicInfo)?.FileAttributes;
        // A read-only target cannot be replaced, and the temporary file got the original's read-only flag with the
        // other attributes: take it off both for the swap, and give the result the original's attributes.
        let temp_attrs = info::<FILE_BASIC_INFO>(&temp_file, FileBasicInfo)?.FileAttributes;
        if temp_attrs & FILE_ATTRIBUTE_READONLY != 0 {
            set_attributes_by_handle(&temp_file, temp_attrs & !FILE_ATTRIBUTE_READONLY)?;
        }
        let dest = super::nul_terminated(join(&self.real, &w), name)?;
        if orig_attrs & FILE_ATTRIBUTE_READONLY != 0 {
            super::set_kept(&dest, orig_attrs, orig_attrs & !FILE_ATTRIBUTE_READONLY)?;
        }
        let flags = winrules::FILE_RENAME_FLAG_REPLACE_IF_EXISTS | winrules::FILE_RENAME_FLAG_POSIX_SEMANTICS;
        match rename_by_handle(&temp_file, &self.handle, &w, FileRenameInfoEx, flags) {
            Ok(()) => {
                // Best effort: the content is in place, and failing now would report a protected file as not.
                if let Ok(now) = info::<FILE_BASIC_INFO>(&temp_file, FileBasicInfo) {
                    let attrs = (now.FileAttributes & super::SETTABLE_ATTRIBUTES & !super::KEPT_ATTRIBUTES)
                        | (orig_attrs & super::KEPT_ATTRIBUTES);
                    let _ = set_attributes_by_handle(&temp_file, attrs);
                }
                drop(temp_file);
                self.forget_temp(temp);
                Ok(())
            }
            Err(e) if e.raw_os_error().is_some_and(winrules::rename_ex_unsupported) => {
                // Before Windows 10 1607 / Server 2019, on SMB shares and on file systems without POSIX renames:
                // ReplaceFileW by path, after making sure the folder and the original are still what we hold.
                if orig_attrs & FILE_ATTRIBUTE_READONLY != 0 {
                    let _ = super::set_kept(&dest, orig_attrs & !FILE_ATTRIBUTE_READONLY, orig_attrs);
                }
                drop(temp_file);
                drop(self.forget_temp(temp));
                let folder_now = open_folder(&self.real, false)?;
                if !same_object(&self.handle, &folder_now)? {
                    return Err(io::Error::new(
                        io::ErrorKind::ResourceBusy,
                        format!(
                            "{}: the folder was replaced while a file in it was being protected",
                            self.shown.display()
                        ),
                    ));
                }
                drop(folder_now);
                self.check_still(name, &w, original)?;
                let temp_path = path_of(&join(&self.real, &wide(temp)));
                let dest_path = path_of(&join(&self.real, &w));
                super::replace_file(&temp_path, &dest_path).map_err(|e| {
                    let gone = self.identity_of_name(&w).is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
                    if gone && temp_path.exists() {
                        // ReplaceFileW can fail after removing the original (ERROR_UNABLE_TO_MOVE_REPLACEMENT), and
                        // the rename that should finish its work can fail too: then the temporary file is the only
                        // copy left. Keep it, and never remove it.
                        if let Ok(mut kept) = self.kept.lock() {
                            kept.push(temp.to_os_string());
                        }
                        return io::Error::new(
                            e.kind(),
                            format!(
                                "{e}; Windows removed the original and the new content is in {}: rename it back",
                                self.shown.join(temp).display()
                            ),
                        );
                    }
                    e
                })
            }
            Err(e) => {
                if orig_attrs & FILE_ATTRIBUTE_READONLY != 0 {
                    let _ = super::set_kept(&dest, orig_attrs & !FILE_ATTRIBUTE_READONLY, orig_attrs);
                }
                Err(e)
            }
        }
    }

    pub fn rename_new(&self, temp: &OsStr, name: &OsStr) -> io::Result<()> {
        let w = check_name(name)?;
        check_name(temp)?;
        let temp_file = self.temp_handle(temp)?;
        match rename_by_handle(&temp_file, &self.handle, &w, FileRenameInfo, 0) {
            Ok(()) => {
                drop(temp_file);
                self.forget_temp(temp);
                Ok(())
            }
            Err(e) if e.raw_os_error().is_some_and(winrules::rename_ex_unsupported) => {
                drop(temp_file);
                drop(self.forget_temp(temp));
                let from = super::nul_terminated(join(&self.real, &wide(temp)), temp)?;
                let to = super::nul_terminated(join(&self.real, &w), name)?;
                // SAFETY: both are NUL-terminated wide strings that outlive the call. Without
                // MOVEFILE_REPLACE_EXISTING an existing `name` makes it fail.
                if unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), MOVEFILE_WRITE_THROUGH) } == 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        let w = check_name(name)?;
        if self.kept.lock().is_ok_and(|k| k.iter().any(|n| n == name)) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{}: kept: it holds the only copy of the content", self.shown.join(name).display()),
            ));
        }
        let file = match self.forget_temp(name) {
            Some(f) => f,
            None => {
                let f = OpenOptions::new()
                    .access_mode(DELETE | FILE_READ_ATTRIBUTES | SYNCHRONIZE)
                    .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
                    .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
                    .open(path_of(&join(&self.real, &w)))?;
                let (attrs, tag) = attributes_and_tag(&f)?;
                if attrs & FILE_ATTRIBUTE_DIRECTORY != 0 && tag == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::IsADirectory,
                        format!("{}: is a folder", self.shown.join(name).display()),
                    ));
                }
                f
            }
        };
        // Deleted through the handle: a link is removed itself, never what it points to.
        set_info(&file, FileDispositionInfo, &FILE_DISPOSITION_INFO { DeleteFile: true })
    }

    pub fn names(&self) -> io::Result<Vec<OsString>> {
        std::fs::read_dir(path_of(&self.real))?.map(|e| e.map(|e| e.file_name())).collect()
    }

    /// Nothing to do on Windows: NTFS journals the rename, and the data was flushed before it.
    pub fn sync(&self) {}

    pub fn path(&self) -> &Path {
        &self.shown
    }
}

fn set_attributes_by_handle(file: &File, attrs: u32) -> io::Result<()> {
    // Zero times leave them unchanged.
    let basic = FILE_BASIC_INFO {
        FileAttributes: if attrs == 0 { FILE_ATTRIBUTE_NORMAL } else { attrs },
        ..FILE_BASIC_INFO::default()
    };
    set_info(file, FileBasicInfo, &basic)
}

/// Rename the file open as `file` to `name` in the folder open as `folder`, with `class` FileRenameInfo (flags 0:
/// fail if `name` exists) or FileRenameInfoEx (`flags`).
fn rename_by_handle(
    file: &File,
    folder: &File,
    name: &[u16],
    class: FILE_INFO_BY_HANDLE_CLASS,
    flags: u32,
) -> io::Result<()> {
    let name_at = std::mem::offset_of!(FILE_RENAME_INFO, FileName);
    // The structure with its one-character name array, plus the name: what the API checks the size against.
    let bytes = size_of::<FILE_RENAME_INFO>() + name.len() * 2;
    // u64 storage: aligned for the structure's handle field.
    let mut buf = vec![0u64; bytes.div_ceil(8)];
    let info = buf.as_mut_ptr().cast::<FILE_RENAME_INFO>();
    // SAFETY: `buf` is zeroed, aligned and large enough for the structure plus the name and a NUL; the fields are
    // written in place, the name just after the header as the API expects. The pointers stay valid for the call.
    let ok = unsafe {
        if class == FileRenameInfoEx {
            (*info).Anonymous.Flags = flags;
        } else {
            (*info).Anonymous.ReplaceIfExists = flags & winrules::FILE_RENAME_FLAG_REPLACE_IF_EXISTS != 0;
        }
        (*info).RootDirectory = folder.as_raw_handle() as HANDLE;
        (*info).FileNameLength = (name.len() * 2) as u32;
        ptr::copy_nonoverlapping(name.as_ptr(), buf.as_mut_ptr().cast::<u8>().add(name_at).cast::<u16>(), name.len());
        SetFileInformationByHandle(file.as_raw_handle() as HANDLE, class, buf.as_ptr().cast(), bytes as u32)
    };
    if ok == 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

// --- attributes and streams -------------------------------------------------------------------------------------

pub fn copy_security(from: &File, to: &File) -> io::Result<Vec<String>> {
    let mut warnings = Vec::new();
    if let Ok(id) = file_identity(to) {
        if let Ok(mut pending) = pending_warnings().lock() {
            if let Some(i) = pending.iter().position(|(k, _)| *k == (id.volume, id.index)) {
                warnings.extend(pending.swap_remove(i).1);
            }
        }
    }
    // Streams first: a read-only file cannot get new streams.
    copy_streams(from, to, &mut warnings);
    let source: FILE_BASIC_INFO = info(from, FileBasicInfo)?;
    let now: FILE_BASIC_INFO = info(to, FileBasicInfo)?;
    let attrs = (now.FileAttributes & super::SETTABLE_ATTRIBUTES & !super::KEPT_ATTRIBUTES)
        | (source.FileAttributes & super::KEPT_ATTRIBUTES);
    let basic = FILE_BASIC_INFO {
        CreationTime: source.CreationTime,
        LastAccessTime: source.LastAccessTime,
        LastWriteTime: source.LastWriteTime,
        ChangeTime: 0,
        FileAttributes: if attrs == 0 { FILE_ATTRIBUTE_NORMAL } else { attrs },
    };
    set_info(to, FileBasicInfo, &basic)?;
    Ok(warnings)
}

/// The streams `file` has, as `FileStreamInfo` lists them. An empty list where the file system has no streams.
fn list_streams(file: &File) -> io::Result<Vec<winrules::ListedStream>> {
    let mut buf = vec![0u64; 2048];
    loop {
        // SAFETY: `buf` is writable, 8-byte aligned, for the byte length passed; the handle is open.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                file.as_raw_handle() as HANDLE,
                FileStreamInfo,
                buf.as_mut_ptr().cast(),
                (buf.len() * 8) as u32,
            )
        };
        if ok != 0 {
            // SAFETY: the same buffer, read as bytes.
            let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), buf.len() * 8) };
            return winrules::parse_stream_info(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error().map(|c| c as u32) {
            Some(ERROR_MORE_DATA) if buf.len() < 2 * 1024 * 1024 => buf.resize(buf.len() * 4, 0),
            // No streams at all (Wine; a folder), or a file system without streams (FAT, some shares).
            Some(ERROR_HANDLE_EOF) => return Ok(Vec::new()),
            Some(c) if winrules::rename_ex_unsupported(c as i32) => return Ok(Vec::new()),
            _ => return Err(e),
        }
    }
}

/// Copy every named data stream of `from` into `to` (FSRM keeps its classification properties in one, so FSRM does
/// not classify the protected file again). What cannot be copied is a warning naming the stream.
fn copy_streams(from: &File, to: &File, warnings: &mut Vec<String>) {
    let listed = match list_streams(from) {
        Ok(l) => l,
        Err(e) => {
            warnings.push(format!("alternate data streams not copied: cannot list them: {e}"));
            return;
        }
    };
    let streams: Vec<(&[u16], u64)> =
        listed.iter().filter_map(|s| winrules::named_data_stream(&s.name).map(|n| (n, s.size))).collect();
    if streams.is_empty() {
        return;
    }
    let (src, dst) = match (final_path(from), final_path(to)) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => {
            warnings.push(format!("alternate data streams not copied: {e}"));
            return;
        }
    };
    for (stream, size) in streams {
        let label = String::from_utf16_lossy(stream);
        let copy = || -> io::Result<()> {
            let mut input = OpenOptions::new()
                .read(true)
                .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
                .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
                .open(path_of(&[&src[..], stream].concat()))?;
            let mut output = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .share_mode(FILE_SHARE_READ)
                .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
                .open(path_of(&[&dst[..], stream].concat()))?;
            let copied = io::copy(&mut input, &mut output)?;
            if copied != size {
                return Err(io::Error::other(format!("{copied} of {size} bytes copied")));
            }
            output.sync_all()
        };
        if let Err(e) = copy() {
            warnings.push(format!("alternate data stream {label} not copied: {e}"));
        }
    }
}

// --- leases and targets -----------------------------------------------------------------------------------------

/// Windows has no read lease: the sharing mode the original is opened with already refuses writers (see
/// `ORIGINAL_SHARE`).
#[derive(Debug)]
pub struct ReadLease(());

impl ReadLease {
    pub fn unsupported() -> ReadLease {
        ReadLease(())
    }

    /// Never held: see the type.
    pub fn held(&self) -> bool {
        false
    }

    /// Never broken: see the type.
    pub fn broken(&self) -> bool {
        false
    }

    pub fn release(&self) {}
}

pub fn read_lease(_file: &File) -> io::Result<ReadLease> {
    Ok(ReadLease::unsupported())
}
