//! Who may change the files that steer the program — the template store (whose keys receive every wrapped content
//! key), the rule folder and the config file — and owner-only access for private keys.
//!
//! A store that someone other than its owner and the administrators can write lets that someone redirect key wraps
//! or switch the policy off, so it is refused, as ssh's `StrictModes` refuses a writable `authorized_keys`:
//! - Unix: the item and everything beneath it must be owned by root or the running user and carry no group or other
//!   write bit; every folder above it, up to `/`, too — except that a sticky folder owned by root or the running
//!   user (`/tmp`) may be writable by others, since they cannot rename or remove what is not theirs in it.
//! - Windows: the DACL of the item and of everything beneath it must grant write access to nobody but
//!   Administrators, SYSTEM, TrustedInstaller and the item's owner.
//!
//! The decisions are pure functions ([`unix_problem`], [`dacl_problem`]), compiled and unit-tested everywhere.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// How many entries beneath a store or rule folder are checked at most (real ones hold a few dozen).
const MAX_ENTRIES: usize = 10_000;

/// Something others can change: the path, what is wrong, and the command that fixes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untrusted {
    pub path: PathBuf,
    pub problem: String,
    pub fix: String,
}

/// Check that only its owner and the administrators can change `path` (and, for a folder, what is in it). A path
/// that does not exist is not judged here: loading it reports that.
pub fn check_trusted(path: &Path) -> io::Result<Option<Untrusted>> {
    let full = match path.canonicalize() {
        Ok(full) => full,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut items = vec![full.clone()];
    if full.is_dir() {
        let walk = walkdir::WalkDir::new(&full).min_depth(1).max_depth(8).follow_links(false);
        for entry in walk.into_iter().take(MAX_ENTRIES) {
            items.push(entry.map_err(io::Error::other)?.into_path());
        }
    }
    for item in &items {
        if let Some(problem) = imp::item_problem(item)? {
            return Ok(Some(problem));
        }
    }
    for ancestor in full.ancestors().skip(1) {
        if let Some(problem) = imp::ancestor_problem(ancestor)? {
            return Ok(Some(problem));
        }
    }
    Ok(None)
}

/// Make a newly created private key file readable and writable by the running user only. Unix: mode 0600 (the file
/// is created so; this makes sure). Windows: a protected DACL (no inherited entries) with one entry, the user.
pub fn restrict_to_owner(file: &File) -> io::Result<()> {
    imp::restrict_to_owner(file)
}

/// Make a folder of the running user's secrets (decrypted copies) accessible to that user only, and what is
/// created in it from then on. Unix: mode 0700. Windows: a protected DACL (no inherited entries) with one entry, the
/// user, inherited by the files and folders created in it.
pub fn restrict_folder_to_owner(path: &Path) -> io::Result<()> {
    imp::restrict_folder_to_owner(path)
}

/// Why a private key file (issuer key, signing key, TLS key) is readable by more than it should be, as ssh refuses
/// an open private key, with the command that fixes it. Unix: any group or other permission bit
/// ([`secret_mode_problem`]). Windows: an entry of its DACL that lets anyone but SYSTEM, Administrators, the file's
/// owner and the account running the service (`NT SERVICE\FciLicensing`) read it, or no DACL at all
/// ([`secret_dacl_problem`]).
pub fn secret_file_problem(path: &Path) -> io::Result<Option<Untrusted>> {
    imp::secret_file_problem(path)
}

/// The Unix decision of [`secret_file_problem`], for any mode.
pub fn secret_mode_problem(mode: u32) -> Option<String> {
    let open = mode & 0o077;
    (open != 0).then(|| {
        format!(
            "it is accessible by its group or others (mode {:04o}); it must be readable by its owner only",
            mode & 0o7777
        )
    })
}

/// Windows access rights that let a trustee read a file, or give itself that right: read data, write DAC, write
/// owner, generic all, generic read.
pub const SECRET_READ_MASK: u32 = 0x1 | 0x4_0000 | 0x8_0000 | 0x1000_0000 | 0x8000_0000;

/// Trustees that may read a private key file besides its owner and the account running the service: SYSTEM and
/// Administrators.
pub const SECRET_READERS: [&str; 2] = ["S-1-5-18", "S-1-5-32-544"];

/// Why a private key file with this DACL is readable by too many: `None` (a NULL DACL) lets everyone read it;
/// otherwise the first access-allowed entry that applies to the file and grants a right of [`SECRET_READ_MASK`] to
/// someone other than [`SECRET_READERS`], `owner` and `running` (the service's account). Deny entries are not
/// weighed: a grant that a deny entry cancels is still refused (conservative; an admin fixes the DACL).
pub fn secret_dacl_problem(dacl: Option<&[Ace]>, owner: Option<&str>, running: Option<&str>) -> Option<String> {
    let Some(aces) = dacl else {
        return Some("it has no access control list, so everyone may read it".into());
    };
    secret_reader(aces, owner, running).map(|ace| {
        format!(
            "its access control list lets {} read it (access mask 0x{:x}); only SYSTEM, Administrators, its owner \
             and the service's account may",
            ace.sid, ace.mask
        )
    })
}

/// The first entry of `aces` that [`secret_dacl_problem`] refuses.
fn secret_reader<'a>(aces: &'a [Ace], owner: Option<&str>, running: Option<&str>) -> Option<&'a Ace> {
    aces.iter().find(|ace| {
        ace.allow
            && !ace.inherit_only
            && ace.mask & SECRET_READ_MASK != 0
            && !SECRET_READERS.contains(&ace.sid.as_str())
            && Some(ace.sid.as_str()) != owner
            && Some(ace.sid.as_str()) != running
    })
}

/// Where the Linux packages put the config, templates and rules (`/etc/fci-connector`); `None` elsewhere.
pub fn system_config_dir() -> Option<PathBuf> {
    if cfg!(target_os = "linux") { Some(PathBuf::from("/etc/fci-connector")) } else { None }
}

/// Why a Unix file or folder with `mode` and `owner` is not safe, for a process running as `running` (an effective
/// uid). `ancestor`: a folder above the item, which only needs to keep others from replacing what is in it.
pub fn unix_problem(mode: u32, owner: u32, running: u32, is_dir: bool, ancestor: bool) -> Option<String> {
    const STICKY: u32 = 0o1000;
    if owner != 0 && owner != running {
        return Some(format!("it is owned by uid {owner}, neither root nor the user running fci-connector"));
    }
    let writable = mode & 0o022;
    if writable == 0 || (ancestor && is_dir && mode & STICKY != 0) {
        return None;
    }
    let who = match writable {
        0o020 => "its group",
        0o002 => "all users",
        _ => "its group and all users",
    };
    Some(format!("it is writable by {who} (mode {:04o})", mode & 0o7777))
}

/// Windows access rights that let a trustee change a file or folder, or what is in a folder: write data / add file,
/// append data / add subfolder, delete child, delete, write DAC, write owner, generic all, generic write.
pub const ITEM_WRITE_MASK: u32 = 0x2 | 0x4 | 0x40 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x1000_0000 | 0x4000_0000;

/// Trustees whose write access is expected: SYSTEM, Administrators, TrustedInstaller, CREATOR OWNER.
pub const TRUSTED_SIDS: [&str; 4] =
    ["S-1-5-18", "S-1-5-32-544", "S-1-5-80-956008885-3418522649-1831038044-1851417894-2720064476", "S-1-3-0"];

/// One access control entry, as far as the check needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ace {
    /// An access-allowed entry (deny entries only take rights away, so they never make an item unsafe).
    pub allow: bool,
    /// Applies only to objects created beneath (INHERIT_ONLY_ACE): not to this one.
    pub inherit_only: bool,
    /// The trustee, as a string SID (`S-1-5-32-545`).
    pub sid: String,
    pub mask: u32,
}

/// Why a Windows DACL is not safe: `None` (a NULL DACL) grants everyone everything; otherwise the first entry that
/// grants a write right in `ITEM_WRITE_MASK` to someone other than the trusted trustees and `owner`.
pub fn dacl_problem(dacl: Option<&[Ace]>, owner: Option<&str>) -> Option<String> {
    let Some(aces) = dacl else {
        return Some("it has no access control list, so everyone may change it".into());
    };
    aces.iter()
        .find(|ace| {
            ace.allow
                && !ace.inherit_only
                && ace.mask & ITEM_WRITE_MASK != 0
                && !TRUSTED_SIDS.contains(&ace.sid.as_str())
                && Some(ace.sid.as_str()) != owner
        })
        .map(|ace| format!("its access control list lets {} change it (access mask 0x{:x})", ace.sid, ace.mask))
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;

    use super::{Untrusted, unix_problem};

    fn running_uid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    fn problem(path: &Path, ancestor: bool) -> io::Result<Option<Untrusted>> {
        // Links beneath a store are judged by what they point to (that is what gets read), and by the link's folder.
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            // A dangling link: nothing is read through it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(unix_problem(meta.mode(), meta.uid(), running_uid(), meta.is_dir(), ancestor).map(|problem| {
            let fix = if problem.starts_with("it is owned") {
                format!("chown root {}", path.display())
            } else {
                format!("chmod go-w {}", path.display())
            };
            Untrusted { path: path.to_path_buf(), problem, fix }
        }))
    }

    pub fn item_problem(path: &Path) -> io::Result<Option<Untrusted>> {
        problem(path, false)
    }

    pub fn ancestor_problem(path: &Path) -> io::Result<Option<Untrusted>> {
        problem(path, true)
    }

    pub fn restrict_to_owner(file: &File) -> io::Result<()> {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
    }

    pub fn restrict_folder_to_owner(path: &Path) -> io::Result<()> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
    }

    pub fn secret_file_problem(path: &Path) -> io::Result<Option<Untrusted>> {
        Ok(super::secret_mode_problem(std::fs::metadata(path)?.mode()).map(|problem| Untrusted {
            path: path.to_path_buf(),
            problem,
            fix: format!("chmod 600 {}", path.display()),
        }))
    }
}

#[cfg(windows)]
mod imp {
    use std::ffi::c_void;
    use std::fs::File;
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::os::windows::io::AsRawHandle;
    use std::path::Path;
    use std::ptr;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, LocalFree};
    use windows_sys::Win32::Security::Authorization::{
        ConvertSidToStringSidW, GetNamedSecurityInfoW, SE_FILE_OBJECT, SetSecurityInfo,
    };
    use windows_sys::Win32::Security::{
        ACL, ACL_REVISION, AddAccessAllowedAceEx, CONTAINER_INHERIT_ACE, DACL_SECURITY_INFORMATION, GetAce,
        GetLengthSid, GetTokenInformation, InitializeAcl, OBJECT_INHERIT_ACE, OWNER_SECURITY_INFORMATION,
        PROTECTED_DACL_SECURITY_INFORMATION, TOKEN_QUERY, TokenUser,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    use super::{Ace, Untrusted, dacl_problem, secret_dacl_problem, secret_reader};

    const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
    const INHERIT_ONLY_ACE: u8 = 0x08;
    const FILE_ALL_ACCESS: u32 = 0x001F_01FF;

    /// ACE_HEADER followed by the mask and the SID, as every access-allowed/denied ACE starts.
    #[repr(C)]
    struct RawAce {
        kind: u8,
        flags: u8,
        size: u16,
        mask: u32,
        sid_start: u32,
    }

    fn sid_string(sid: *mut c_void) -> Option<String> {
        let mut text: *mut u16 = ptr::null_mut();
        // SAFETY: `sid` points into a security descriptor we hold; the string is freed with LocalFree below.
        if unsafe { ConvertSidToStringSidW(sid as _, &mut text) } == 0 || text.is_null() {
            return None;
        }
        // SAFETY: ConvertSidToStringSidW returned a NUL-terminated UTF-16 string.
        let len = (0..).take_while(|&i| unsafe { *text.add(i) } != 0).count();
        // SAFETY: `len` UTF-16 units were just counted before the terminator.
        let s = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, len) });
        // SAFETY: allocated by ConvertSidToStringSidW with LocalAlloc.
        unsafe { LocalFree(text as _) };
        Some(s)
    }

    /// The owner (string SID) and the access-allowed entries of the DACL (`None`: a NULL DACL) of `path`.
    fn read_dacl(path: &Path) -> io::Result<(Option<String>, Option<Vec<Ace>>)> {
        let wide: Vec<u16> = path.as_os_str().encode_wide().chain(Some(0)).collect();
        let mut owner: *mut c_void = ptr::null_mut();
        let mut dacl: *mut ACL = ptr::null_mut();
        let mut sd: *mut c_void = ptr::null_mut();
        // SAFETY: out-pointers are valid; on success `sd` owns the owner SID and DACL and is freed below.
        let status = unsafe {
            GetNamedSecurityInfoW(
                wide.as_ptr(),
                SE_FILE_OBJECT,
                OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                &mut owner as *mut _ as _,
                ptr::null_mut(),
                &mut dacl,
                ptr::null_mut(),
                &mut sd as *mut _ as _,
            )
        };
        if status != 0 {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        let owner_sid = if owner.is_null() { None } else { sid_string(owner) };
        let aces = if dacl.is_null() {
            None
        } else {
            let mut aces = Vec::new();
            // SAFETY: `dacl` is a valid ACL inside `sd`.
            let count = unsafe { (*dacl).AceCount };
            for i in 0..u32::from(count) {
                let mut raw: *mut c_void = ptr::null_mut();
                // SAFETY: `i` is below the ACL's AceCount; GetAce returns a pointer into the ACL.
                if unsafe { GetAce(dacl, i, &mut raw) } == 0 || raw.is_null() {
                    continue;
                }
                let ace = raw as *const RawAce;
                // SAFETY: every ACE starts with ACE_HEADER; the mask and SID follow for the allowed type read here.
                let (kind, flags) = unsafe { ((*ace).kind, (*ace).flags) };
                if kind != ACCESS_ALLOWED_ACE_TYPE {
                    continue;
                }
                // SAFETY: an ACCESS_ALLOWED_ACE: mask, then the SID at `sid_start`.
                let (mask, sid) = unsafe { ((*ace).mask, ptr::addr_of!((*ace).sid_start) as *mut c_void) };
                aces.push(Ace {
                    allow: true,
                    inherit_only: flags & INHERIT_ONLY_ACE != 0,
                    sid: sid_string(sid).unwrap_or_default(),
                    mask,
                });
            }
            Some(aces)
        };
        // SAFETY: `sd` was allocated by GetNamedSecurityInfoW; nothing borrowed from it is used after this.
        unsafe { LocalFree(sd as _) };
        Ok((owner_sid, aces))
    }

    pub fn item_problem(path: &Path) -> io::Result<Option<Untrusted>> {
        let (owner_sid, aces) = read_dacl(path)?;
        Ok(dacl_problem(aces.as_deref(), owner_sid.as_deref()).map(|problem| Untrusted {
            path: path.to_path_buf(),
            problem,
            fix: format!("icacls \"{}\" /inheritance:r /grant:r Administrators:F SYSTEM:F", path.display()),
        }))
    }

    pub fn secret_file_problem(path: &Path) -> io::Result<Option<Untrusted>> {
        let (owner_sid, aces) = read_dacl(path)?;
        let running = current_user_sid()?;
        Ok(secret_dacl_problem(aces.as_deref(), owner_sid.as_deref(), Some(&running)).map(|problem| {
            let offender = aces
                .as_deref()
                .and_then(|aces| secret_reader(aces, owner_sid.as_deref(), Some(&running)))
                .map(|ace| format!(" /remove:g *{}", ace.sid))
                .unwrap_or_default();
            Untrusted {
                path: path.to_path_buf(),
                problem,
                fix: format!(
                    "icacls \"{}\" /inheritance:r{offender} /grant:r *S-1-5-18:F *S-1-5-32-544:F *{running}:R",
                    path.display()
                ),
            }
        }))
    }

    /// The string SID of the account this process runs as (a service: its virtual account).
    fn current_user_sid() -> io::Result<String> {
        let mut token: HANDLE = ptr::null_mut();
        // SAFETY: the pseudo-handle of the current process; `token` is closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let result = token_user(token).and_then(|buffer| {
            // SAFETY: TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field is the user's SID pointer, which
            // points into `buffer` (alive for this closure).
            let sid = unsafe { *(buffer.as_ptr() as *const *mut c_void) };
            sid_string(sid).ok_or_else(|| io::Error::other("cannot read the SID of the running account"))
        });
        // SAFETY: `token` was opened above.
        unsafe { CloseHandle(token) };
        result
    }

    /// The TOKEN_USER of `token`, in a buffer aligned for it.
    fn token_user(token: HANDLE) -> io::Result<Vec<u64>> {
        let mut needed = 0u32;
        // SAFETY: a size query: no buffer, `needed` receives the size.
        unsafe { GetTokenInformation(token, TokenUser, ptr::null_mut(), 0, &mut needed) };
        // u64 units: TOKEN_USER holds pointers and must be aligned.
        let mut buffer = vec![0u64; (needed as usize).div_ceil(8).max(1)];
        // SAFETY: `buffer` has at least `needed` bytes.
        if unsafe { GetTokenInformation(token, TokenUser, buffer.as_mut_ptr() as _, needed, &mut needed) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(buffer)
    }

    pub fn ancestor_problem(_path: &Path) -> io::Result<Option<Untrusted>> {
        // The folders above (C:\ lets every user add folders) are left to the installer's ACLs: an item whose own
        // DACL is safe cannot be written through them, and the search places are fixed (see crate::locate).
        Ok(None)
    }

    pub fn restrict_to_owner(file: &File) -> io::Result<()> {
        restrict(file, 0)
    }

    pub fn restrict_folder_to_owner(path: &Path) -> io::Result<()> {
        use std::os::windows::fs::OpenOptionsExt;
        // A folder opens only with FILE_FLAG_BACKUP_SEMANTICS; WRITE_DAC to set its DACL.
        const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
        const READ_CONTROL: u32 = 0x0002_0000;
        const WRITE_DAC: u32 = 0x0004_0000;
        let folder = std::fs::OpenOptions::new()
            .access_mode(READ_CONTROL | WRITE_DAC)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)?;
        restrict(&folder, OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE)
    }

    /// One entry for the running user, with the inheritance flags `ace_flags`.
    fn restrict(file: &File, ace_flags: u32) -> io::Result<()> {
        let mut token: HANDLE = ptr::null_mut();
        // SAFETY: the pseudo-handle of the current process; `token` is closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let result = restrict_with_token(file, token, ace_flags);
        // SAFETY: `token` was opened above.
        unsafe { CloseHandle(token) };
        result
    }

    fn restrict_with_token(file: &File, token: HANDLE, ace_flags: u32) -> io::Result<()> {
        let buffer = token_user(token)?;
        // SAFETY: TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field is the user's SID pointer.
        let sid = unsafe { *(buffer.as_ptr() as *const *mut c_void) };
        // SAFETY: `sid` points into `buffer`, which lives to the end of this function.
        let sid_len = unsafe { GetLengthSid(sid as _) };
        // ACL header, one ACCESS_ALLOWED_ACE (its SidStart overlaps the SID), the SID.
        let acl_len = std::mem::size_of::<ACL>() + std::mem::size_of::<RawAce>() - 4 + sid_len as usize;
        let mut acl = vec![0u64; acl_len.div_ceil(8)];
        let acl_ptr = acl.as_mut_ptr() as *mut ACL;
        // SAFETY: `acl` has `acl_len` bytes, aligned for ACL.
        if unsafe { InitializeAcl(acl_ptr, acl_len as u32, ACL_REVISION) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the ACL was sized for exactly this ACE.
        if unsafe { AddAccessAllowedAceEx(acl_ptr, ACL_REVISION, ace_flags, FILE_ALL_ACCESS, sid as _) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a valid file handle and ACL; the protected flag drops every inherited entry.
        let status = unsafe {
            SetSecurityInfo(
                file.as_raw_handle() as HANDLE,
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                ptr::null_mut(),
                ptr::null_mut(),
                acl_ptr,
                ptr::null(),
            )
        };
        if status != 0 {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_modes_and_owners() {
        let me = 1000;
        assert_eq!(unix_problem(0o40755, me, me, true, false), None);
        assert_eq!(unix_problem(0o100644, 0, me, false, false), None);
        assert!(unix_problem(0o40775, me, me, true, false).unwrap().contains("its group (mode 0775)"));
        assert!(unix_problem(0o100666, 0, me, false, false).unwrap().contains("its group and all users"));
        assert!(unix_problem(0o40757, 0, 0, true, true).unwrap().contains("all users"));
        // /tmp: sticky and root-owned, fine above an item; never for the item itself.
        assert_eq!(unix_problem(0o41777, 0, me, true, true), None);
        assert!(unix_problem(0o41777, 0, me, true, false).is_some());
        assert!(unix_problem(0o41777, 1234, me, true, true).unwrap().contains("uid 1234"));
        assert!(unix_problem(0o40755, 1234, 0, true, false).unwrap().contains("owned by uid 1234"));
    }

    #[test]
    fn a_private_key_readable_by_others_is_refused() {
        assert_eq!(secret_mode_problem(0o100600), None);
        assert_eq!(secret_mode_problem(0o100400), None);
        assert!(secret_mode_problem(0o100644).unwrap().contains("mode 0644"));
        assert!(secret_mode_problem(0o100640).is_some());
    }

    #[test]
    fn a_private_key_readable_by_others_is_refused_on_windows() {
        let owner = "S-1-5-21-1-2-3-500";
        let service = "S-1-5-80-1111111111-2222222222-3333333333-4444444444-5555555555";
        // What Install-FciLicensingService.ps1 sets: SYSTEM and Administrators full control, the service account
        // read; and the owner.
        let installed = [ace("S-1-5-18", 0x1F01FF), ace("S-1-5-32-544", 0x1F01FF), ace(service, 0x120089)];
        assert_eq!(secret_dacl_problem(Some(&installed), Some(owner), Some(service)), None);
        assert_eq!(secret_dacl_problem(Some(&[ace(owner, 0x1F01FF)]), Some(owner), Some(service)), None);
        // keys generate's owner-only DACL, read by the owner running serve in a console.
        assert_eq!(secret_dacl_problem(Some(&[ace(owner, 0x1F01FF)]), Some(owner), Some(owner)), None);
        // The inherited Users: Read & execute of C:\ProgramData, and Everyone: generic read.
        let users = [ace("S-1-5-18", 0x1F01FF), ace("S-1-5-32-545", 0x1200A9)];
        let problem = secret_dacl_problem(Some(&users), Some(owner), Some(service)).unwrap();
        assert!(problem.contains("S-1-5-32-545") && problem.contains("0x1200a9"), "{problem}");
        assert!(secret_dacl_problem(Some(&[ace("S-1-1-0", 0x8000_0000)]), None, Some(service)).is_some());
        // Another account that may rewrite the DACL can read it too.
        assert!(secret_dacl_problem(Some(&[ace("S-1-5-11", 0x4_0000)]), None, Some(service)).is_some());
        // Rights that do not read: synchronize and read attributes only (0x100080).
        assert_eq!(secret_dacl_problem(Some(&[ace("S-1-5-11", 0x100080)]), None, Some(service)), None);
        // Inherit-only and deny entries do not grant the file anything.
        let inherit = Ace { inherit_only: true, ..ace("S-1-5-32-545", 0x1200A9) };
        let deny = Ace { allow: false, ..ace("S-1-1-0", 0x1F01FF) };
        assert_eq!(secret_dacl_problem(Some(&[inherit, deny]), Some(owner), Some(service)), None);
        assert!(secret_dacl_problem(None, Some(owner), Some(service)).unwrap().contains("no access control list"));
    }

    fn ace(sid: &str, mask: u32) -> Ace {
        Ace { allow: true, inherit_only: false, sid: sid.into(), mask }
    }

    #[test]
    fn windows_dacls() {
        let owner = "S-1-5-21-1-2-3-1001";
        let admin_only = [ace("S-1-5-18", 0x1F01FF), ace("S-1-5-32-544", 0x1F01FF), ace(owner, 0x1F01FF)];
        assert_eq!(dacl_problem(Some(&admin_only), Some(owner)), None);
        // Users may read and execute (0x1200A9): fine.
        let readers = [ace("S-1-5-32-545", 0x1200A9), ace("S-1-5-11", 0x1200A9)];
        assert_eq!(dacl_problem(Some(&readers), Some(owner)), None);
        // Authenticated Users: Modify.
        let modify = [ace("S-1-5-32-544", 0x1F01FF), ace("S-1-5-11", 0x1301BF)];
        assert!(dacl_problem(Some(&modify), Some(owner)).unwrap().contains("S-1-5-11"));
        // Everyone: generic write; Users: append data (add subfolder) only.
        assert!(dacl_problem(Some(&[ace("S-1-1-0", 0x4000_0000)]), None).is_some());
        assert!(dacl_problem(Some(&[ace("S-1-5-32-545", 0x4)]), None).is_some());
        // Inherit-only entries and deny entries do not apply to the item.
        let inherit = Ace { inherit_only: true, ..ace("S-1-5-11", 0x1301BF) };
        let deny = Ace { allow: false, ..ace("S-1-1-0", 0x1F01FF) };
        assert_eq!(dacl_problem(Some(&[inherit, deny]), None), None);
        // Someone else's file in the store.
        assert!(dacl_problem(Some(&[ace("S-1-5-21-1-2-3-1002", 0x1F01FF)]), Some(owner)).is_some());
        assert!(dacl_problem(None, Some(owner)).unwrap().contains("no access control list"));
    }
}
