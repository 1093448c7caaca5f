//! Licensing service addresses and the trust rule: the reader sends a bearer token or a client certificate only to
//! a service listed in `trusted_servers` (or the one service named for this call on the command line). A file whose
//! license names any other address is refused before any connection is made, so a crafted file on a share cannot
//! collect users' sign-ins.
//!
//! Addresses are compared normalised: scheme and host lower-case, the default port made explicit, the path a prefix
//! ending in `/` (`https://RMS.contoso.com` and `https://rms.contoso.com:443/` are one service; `https://rms.contoso.com/a/`
//! is another than `/b/`). Only `https` is accepted: a token must never travel in clear text.

use std::fmt;

use super::ReaderError;

/// A licensing service's base address, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceUrl {
    host: String,
    port: u16,
    /// Starts and ends with `/`.
    path: String,
}

impl ServiceUrl {
    /// Parse and normalise an `https://host[:port][/path]` address. Query strings, fragments and user names are
    /// refused (they have no place in a service address, and user info could disguise the host).
    pub fn parse(text: &str) -> Result<ServiceUrl, ReaderError> {
        let bad = |why: &str| ReaderError::BadUrl { url: text.to_string(), why: why.to_string() };
        let trimmed = text.trim();
        let (scheme, rest) = trimmed.split_once("://").ok_or_else(|| bad("it has no scheme (https://…)"))?;
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("only https:// is accepted (a sign-in must not travel in clear text)"));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("a query or fragment has no place in a service address"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(bad("a user name has no place in a service address"));
        }
        if authority.is_empty() {
            return Err(bad("it has no host"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("its port is not a number"))?;
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
            return Err(bad("its host is empty or not a host name"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') || path.contains("/../") {
            return Err(bad("its path is not a plain path"));
        }
        let mut path = path.to_string();
        if !path.ends_with('/') {
            path.push('/');
        }
        while path.contains("//") {
            path = path.replace("//", "/");
        }
        Ok(ServiceUrl { host: host.to_ascii_lowercase(), port: port.unwrap_or(443), path })
    }

    /// The host, lower-case (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The full URL of an API path (`/v1/licenses`) under this base.
    pub fn join(&self, api_path: &str) -> String {
        format!("{}{}", self.origin(), join_paths(&self.path, api_path))
    }

    fn origin(&self) -> String {
        if self.port == 443 { format!("https://{}", self.host) } else { format!("https://{}:{}", self.host, self.port) }
    }
}

fn join_paths(base: &str, api: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), if api.starts_with('/') { api.to_string() } else { format!("/{api}") })
}

/// `host[:port]`, with IPv6 literals in brackets; `None` when the port is not a number.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let host = &authority[..=end];
        return match &authority[end + 1..] {
            "" => Some((host, None)),
            port => port.strip_prefix(':').and_then(|p| p.parse().ok()).map(|p| (host, Some(p))),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => port.parse().ok().map(|p| (host, Some(p))),
        None => Some((authority, None)),
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.path)
    }
}

/// A service the reader may send a sign-in to: only [`TrustList::check`] makes one, so the HTTP client, which takes
/// only this, cannot be pointed at an address that was not checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedServer(ServiceUrl);

impl TrustedServer {
    pub fn url(&self) -> &ServiceUrl {
        &self.0
    }
}

impl fmt::Display for TrustedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The services the reader trusts: `trusted_servers` of reader.toml, and the one named on the command line for
/// this call.
#[derive(Clone, Debug, Default)]
pub struct TrustList {
    servers: Vec<ServiceUrl>,
}

impl TrustList {
    pub fn new(servers: impl IntoIterator<Item = ServiceUrl>) -> TrustList {
        TrustList { servers: servers.into_iter().collect() }
    }

    /// Trust one more service (the one named on the command line).
    pub fn add(&mut self, url: ServiceUrl) {
        if !self.servers.contains(&url) {
            self.servers.push(url);
        }
    }

    /// Whether `url` is trusted: equal, after normalisation, to a listed service.
    pub fn trusts(&self, url: &ServiceUrl) -> bool {
        self.servers.contains(url)
    }

    /// `url` as a service the reader may sign in to, or [`ReaderError::Untrusted`] (`named_by` says where the
    /// address came from, for the message).
    pub fn check(&self, url: &ServiceUrl, named_by: &str) -> Result<TrustedServer, ReaderError> {
        if self.trusts(url) {
            Ok(TrustedServer(url.clone()))
        } else {
            Err(ReaderError::Untrusted { url: url.to_string(), named_by: named_by.to_string() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    #[test]
    fn addresses_normalise_scheme_host_port_and_path() {
        assert_eq!(url("https://RMS.Contoso.com"), url("https://rms.contoso.com:443/"));
        assert_eq!(url("HTTPS://rms.contoso.com/rms"), url("https://rms.contoso.com/rms/"));
        assert_eq!(url("https://rms.contoso.com//rms//"), url("https://rms.contoso.com/rms/"));
        assert_ne!(url("https://rms.contoso.com/a/"), url("https://rms.contoso.com/b/"));
        assert_ne!(url("https://rms.contoso.com:8443/"), url("https://rms.contoso.com/"));
        assert_ne!(url("https://rms.contoso.com.evil.test/"), url("https://rms.contoso.com/"));
        assert_eq!(url("https://[::1]:8443").to_string(), "https://[::1]:8443/");
        assert_eq!(url("https://127.0.0.1:8443/x").join("/v1/licenses"), "https://127.0.0.1:8443/x/v1/licenses");
        assert_eq!(url("https://rms.contoso.com").join("/v1/licenses"), "https://rms.contoso.com/v1/licenses");
    }

    #[test]
    fn only_plain_https_addresses_are_accepted() {
        for bad in [
            "http://rms.contoso.com/",
            "rms.contoso.com",
            "https://",
            "https://user@rms.contoso.com/",
            "https://rms.contoso.com:x/",
            "https://rms.contoso.com/?a=b",
            "https://rms.contoso.com/#f",
            "https://rms contoso.com/",
            "https://rms.contoso.com/a/../b/",
        ] {
            assert!(ServiceUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_listed_services_are_trusted_and_the_refusal_names_the_address() {
        let mut list = TrustList::new([url("https://rms.contoso.com/")]);
        assert!(list.check(&url("https://RMS.contoso.com:443"), "the file").is_ok());
        let err = list.check(&url("https://rms.contoso.com.evil.test/"), " (named by the file)").unwrap_err();
        assert!(err.to_string().contains("https://rms.contoso.com.evil.test/ is not a trusted"), "{err}");
        assert_eq!(err.class(), crate::ExitClass::SignInNeeded);
        list.add(url("https://other.test:8443/"));
        assert!(list.trusts(&url("https://OTHER.test:8443")));
    }
}
