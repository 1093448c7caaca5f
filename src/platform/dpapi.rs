//! Windows DPAPI: `CryptProtectData` seals a small secret under the current user's logon secret, so that another
//! user, or a copy of the file taken to another machine or account, cannot unseal it.

use std::io;
use std::ptr::{null, null_mut};

use windows_sys::Win32::Foundation::LocalFree;
use windows_sys::Win32::Security::Cryptography::{
    CRYPT_INTEGER_BLOB, CRYPTPROTECT_UI_FORBIDDEN, CryptProtectData, CryptUnprotectData,
};
use zeroize::Zeroizing;

fn blob(bytes: &[u8]) -> io::Result<CRYPT_INTEGER_BLOB> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "secret too large"))?;
    // DPAPI only reads its input blobs; the pointer is `*mut` in the C declaration alone.
    Ok(CRYPT_INTEGER_BLOB { cbData: len, pbData: bytes.as_ptr().cast_mut() })
}

/// Copy out and free a blob DPAPI allocated with `LocalAlloc`.
fn take(out: CRYPT_INTEGER_BLOB) -> Zeroizing<Vec<u8>> {
    if out.pbData.is_null() {
        return Zeroizing::new(Vec::new());
    }
    // SAFETY: on success DPAPI sets pbData to a LocalAlloc'd buffer of cbData bytes, owned by the caller.
    let bytes = Zeroizing::new(unsafe { std::slice::from_raw_parts(out.pbData, out.cbData as usize) }.to_vec());
    // SAFETY: the buffer is ours (see above), zeroed before it is freed, and not used after.
    unsafe {
        std::ptr::write_bytes(out.pbData, 0, out.cbData as usize);
        LocalFree(out.pbData.cast());
    }
    bytes
}

/// Seal `secret` for the current user; `entropy` must be given again to unseal.
pub fn protect(secret: &[u8], entropy: &[u8]) -> io::Result<Vec<u8>> {
    let input = blob(secret)?;
    let entropy = blob(entropy)?;
    let mut out = CRYPT_INTEGER_BLOB { cbData: 0, pbData: null_mut() };
    // SAFETY: input and entropy point to live slices of their stated lengths for the call; no description, no
    // prompt (UI forbidden: a service or a console has no desktop); out receives a buffer freed by `take`.
    let ok = unsafe { CryptProtectData(&input, null(), &entropy, null(), null(), CRYPTPROTECT_UI_FORBIDDEN, &mut out) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(take(out).to_vec())
}

/// Unseal what [`protect`] sealed for this user with the same `entropy`.
pub fn unprotect(sealed: &[u8], entropy: &[u8]) -> io::Result<Zeroizing<Vec<u8>>> {
    let input = blob(sealed)?;
    let entropy = blob(entropy)?;
    let mut out = CRYPT_INTEGER_BLOB { cbData: 0, pbData: null_mut() };
    // SAFETY: as in `protect`; no description is asked for (null), out is freed by `take`.
    let ok = unsafe {
        CryptUnprotectData(&input, null_mut(), &entropy, null(), null(), CRYPTPROTECT_UI_FORBIDDEN, &mut out)
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(take(out))
}
