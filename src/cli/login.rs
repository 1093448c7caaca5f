//! `login` and `logout`: the user's own OpenID Connect sign-in for the reader commands, kept per user (encrypted)
//! until `logout` or until the provider stops renewing it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::open::SignInArgs;
use super::printable;
use crate::reader::client::TokenSource;
use crate::reader::config::ReaderConfig;
use crate::reader::login::{self, DevicePrompt, Provider};
use crate::reader::tokens::{self, SignedIn, TokenStore};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Device flow: show a web address and a code to enter there, from any device (works on a server console or
    /// over SSH) [default when the session has no desktop: no DISPLAY or WAYLAND_DISPLAY on Linux]
    #[arg(long, conflicts_with = "browser")]
    pub device: bool,
    /// Sign in in the browser, which comes back to this program on 127.0.0.1 [default on Windows, macOS and Linux
    /// desktops; the program FCI_BROWSER names opens the page instead of the default browser]
    #[arg(long)]
    pub browser: bool,
    /// Show the stored sign-in (renewing it if it expires within a minute) instead of signing in
    #[arg(long, conflicts_with_all = ["device", "browser"])]
    pub status: bool,
    /// Extra trust anchors (PEM) for a provider whose certificate comes from a private CA [default: ca_file of
    /// reader.toml]
    #[arg(long, value_name = "CA.pem")]
    pub ca_file: Option<PathBuf>,
    /// Reader settings file [default: reader.toml machine-wide, then per user, as for `open`]
    #[arg(long, value_name = "FILE")]
    pub reader_config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Accepted as for `login` (the sign-in is per user, whichever reader.toml)
    #[arg(long, value_name = "FILE", hide = true)]
    pub reader_config: Option<PathBuf>,
}

/// The signed-in user's token store (in the folder of the offline cache).
pub fn token_store() -> Result<TokenStore, Error> {
    let dir = crate::platform::reader_cache_dir().ok_or_else(|| {
        Error::new(ExitClass::Config, "no folder for the sign-in (no HOME, XDG_CACHE_HOME or LOCALAPPDATA)")
    })?;
    Ok(TokenStore::new(&dir))
}

/// The stored sign-in as the token source of a reader command: when reader.toml has `[oidc]` and a sign-in is
/// stored.
pub fn signed_in(config: &ReaderConfig, ca_file: Option<PathBuf>) -> Option<TokenSource> {
    let oidc = config.oidc.clone()?;
    let store = token_store().ok()?;
    let exists = store.path().exists();
    exists.then_some(TokenSource::SignedIn(SignedIn { store, oidc, ca_file }))
}

fn config(reader_config: &Option<PathBuf>) -> Result<ReaderConfig, Error> {
    SignInArgs { reader_config: reader_config.clone(), ..Default::default() }.config()
}

fn when(unix: Option<i64>) -> String {
    unix.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "unknown".into())
}

pub fn run(args: LoginArgs) -> Result<ExitClass, Error> {
    let config = config(&args.reader_config)?;
    let oidc = config.oidc.clone().ok_or_else(|| {
        Error::new(
            ExitClass::Config,
            format!(
                "no [oidc] issuer and client_id in reader.toml ({}): login needs them",
                if config.sources.is_empty() {
                    "no reader.toml found".to_string()
                } else {
                    config.sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                }
            ),
        )
    })?;
    let ca_file = args.ca_file.clone().or(config.ca_file.clone());
    let store = token_store()?;
    if args.status {
        let (_, stored) = tokens::current_token(&store, &oidc, ca_file.as_deref())?;
        let (_, expires) = stored.pick(oidc.send).unwrap_or(("", None));
        println!(
            "signed in as {} at {} (sends the {}, valid until {}; {} refresh token)",
            printable(&stored.user),
            printable(&stored.issuer),
            match oidc.send {
                tokens::SendToken::IdToken => "ID token",
                tokens::SendToken::AccessToken => "access token",
            },
            when(expires),
            if stored.refresh_token.is_some() { "with a" } else { "no" }
        );
        return Ok(ExitClass::Success);
    }
    let provider = Provider::discover(&oidc, ca_file.as_deref())?;
    let browser = args.browser
        || (!args.device && (std::env::var_os(login::BROWSER_ENV).is_some() || crate::platform::has_desktop()));
    let signed = if browser {
        provider.browser_flow(
            &mut |url| login::open_in_browser(url),
            &mut |url| {
                eprintln!("fci-connector: signing in in the browser; if none opens, open this address:\n  {url}")
            },
            login::BROWSER_TIMEOUT,
        )?
    } else {
        let mut prompt = |p: &DevicePrompt| {
            eprintln!("fci-connector: to sign in, open {} on any device", printable(&p.verification_uri));
            eprintln!("user code: {}", printable(&p.user_code));
            if let Some(complete) = &p.verification_uri_complete {
                eprintln!("(or open {}, which has the code in it)", printable(complete));
            }
            eprintln!("fci-connector: waiting for the sign-in (the code expires in {} minutes)", p.expires_in / 60);
        };
        provider.device_flow(&mut prompt, &mut |d: Duration| std::thread::sleep(d))?
    };
    store.save(&signed)?;
    println!(
        "signed in as {} at {} (kept encrypted in {}; `fci-connector logout` forgets it)",
        printable(&signed.user),
        printable(&signed.issuer),
        store.path().display()
    );
    Ok(ExitClass::Success)
}

pub fn logout(_args: LogoutArgs) -> Result<ExitClass, Error> {
    let store = token_store()?;
    if store.remove()? {
        println!("signed out: the stored sign-in is forgotten ({})", store.path().display());
    } else {
        println!("not signed in: nothing to forget");
    }
    Ok(ExitClass::Success)
}
