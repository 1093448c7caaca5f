//! Opening a web page in the user's browser (the sign-in of `login`), and whether there is a desktop to open it on.

use std::io;
use std::process::{Command, Stdio};

/// Open `url` in the user's default browser: `xdg-open` on Linux and other Unix, `open` on macOS, the shell's URL
/// handler on Windows (`rundll32 url.dll,FileProtocolHandler`, which takes the URL as one argument, unlike
/// `cmd /c start`, which would split it at `&`). Returns once the opener has been started.
pub fn open_url(url: &str) -> io::Result<()> {
    let mut command = if cfg!(windows) {
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else if cfg!(target_os = "macos") {
        Command::new("open")
    } else {
        Command::new("xdg-open")
    };
    command.arg(url).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map(drop)
}

/// Whether a browser can be shown to the user: always on Windows and macOS (a console session without a desktop is
/// rare there); on other Unix, when the session has a display (`DISPLAY` or `WAYLAND_DISPLAY` set), so an SSH
/// session or a server console gets the device flow.
pub fn has_desktop() -> bool {
    if cfg!(any(windows, target_os = "macos")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}
