//! The desktop session's Secret Service (freedesktop.org: GNOME Keyring, KWallet), through the `keyring` crate:
//! where a session has one, a user's small secrets are kept there, unlocked with the user's login, instead of in a
//! file.

use std::io;

use keyring::{Entry, Error};
use zeroize::Zeroizing;

const SERVICE: &str = "fci-connector";

/// The secret `account`, stored with `fresh()` when there is none yet. `None` when the session has no Secret
/// Service (no session bus, nothing answers on it, or its collection cannot be unlocked without a prompt).
pub fn get_or_create(
    account: &str,
    fresh: impl FnOnce() -> io::Result<Zeroizing<Vec<u8>>>,
) -> Option<io::Result<Zeroizing<Vec<u8>>>> {
    // No session bus: no Secret Service, and asking would only spend time failing.
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS")?;
    let entry = Entry::new(SERVICE, account).ok()?;
    match entry.get_secret() {
        Ok(secret) => Some(Ok(Zeroizing::new(secret))),
        Err(Error::NoEntry) => {
            let secret = match fresh() {
                Ok(secret) => secret,
                Err(e) => return Some(Err(e)),
            };
            if let Err(e) = entry.set_secret(&secret) {
                return unavailable(e);
            }
            // Two readers creating at once: both read back whichever was stored last.
            Some(entry.get_secret().map(Zeroizing::new).map_err(io::Error::other))
        }
        Err(e) => unavailable(e),
    }
}

/// A failure to reach or unlock the store means "not here"; anything else is an error to report.
fn unavailable(e: Error) -> Option<io::Result<Zeroizing<Vec<u8>>>> {
    match e {
        Error::PlatformFailure(_) | Error::NoStorageAccess(_) => None,
        other => Some(Err(io::Error::other(other))),
    }
}
