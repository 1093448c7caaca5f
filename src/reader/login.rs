//! Signing in with OpenID Connect (`login`): discovery, the device authorization grant (RFC 8628) for a console, and
//! the authorization code grant with PKCE (S256) and a loopback redirect (RFC 8252) for a desktop; renewing with the
//! refresh token ([`refresh`], used by [`super::tokens::current_token`]). HTTP through ureq with the reader's own
//! trust anchors ([`crate::reader::client::root_certs`]); no redirect is followed.
//!
//! Every ID token received is verified against the provider's JWKS: signature (asymmetric algorithms only), `iss`
//! equal to the configured issuer, `aud` holding the `client_id` (and `azp` equal to it when there are several),
//! `exp` not passed, and for the code flow the `nonce` of the request. The authorization response's `state` (and
//! `iss`, RFC 9207, when the provider sends it) must be the request's.
//!
//! Plain `http://` is refused for the provider and every endpoint it names, except on the loopback interface
//! (`127.0.0.1`, `[::1]`, `localhost`), where nothing leaves the machine: a test provider, or a local broker.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use url::Url;
use zeroize::Zeroizing;

use super::ReaderError;
use super::config::OidcConfig;
use super::tokens::Tokens;

/// The path of the discovery document under the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The path of the loopback redirect.
pub const CALLBACK_PATH: &str = "/callback";
/// The scopes asked for when reader.toml names none (`offline_access`: a refresh token).
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// An environment variable naming the program that opens the sign-in page (instead of the system's browser).
pub const BROWSER_ENV: &str = "FCI_BROWSER";
/// How long the loopback redirect is waited for.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
/// Allowed clock difference with the provider for an ID token's expiry.
const LEEWAY: i64 = 60;
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The provider's discovery document (what the reader uses of it).
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub device_authorization_endpoint: Option<String>,
    pub jwks_uri: String,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// The claims of an ID token the reader reads.
#[derive(Clone, Debug, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub aud: Audience,
    pub azp: Option<String>,
    pub nonce: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
}

/// `aud`: one string or a list.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
    #[default]
    None,
}

impl Audience {
    fn len(&self) -> usize {
        match self {
            Audience::One(_) => 1,
            Audience::Many(v) => v.len(),
            Audience::None => 0,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    id_token: Option<String>,
}

impl Drop for TokenAnswer {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access_token.zeroize();
        self.refresh_token.zeroize();
        self.id_token.zeroize();
    }
}

#[derive(Deserialize)]
struct DeviceAnswer {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: u64,
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    error_description: Option<String>,
}

/// A form POST's outcome: the JSON answer, or the provider's OAuth error.
enum Answer<T> {
    Ok(T),
    Refused(OAuthError),
}

/// Whether `url` may be used for the provider: `https`, or `http` on the loopback interface only.
pub fn check_endpoint(text: &str, what: &str) -> Result<Url, ReaderError> {
    let bad = |why: &str| ReaderError::Config(format!("[oidc] {what} {text:?}: {why}"));
    let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(bad("plain http:// is accepted only on the loopback interface (127.0.0.1, localhost)")),
        _ => return Err(bad("an https:// address is needed")),
    }
    if !url.username().is_empty() || url.password().is_some() || url.host().is_none() {
        return Err(bad("an address with a host and without user information is needed"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// HTTP to one provider.
struct Http {
    agent: ureq::Agent,
    issuer: String,
}

impl Http {
    fn new(issuer: &str, ca_file: Option<&Path>) -> Result<Http, ReaderError> {
        let issuer_url = check_endpoint(issuer, "issuer")?;
        let tls = ureq::tls::TlsConfig::builder().root_certs(crate::reader::client::root_certs(ca_file)?).build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Plain http only for a loopback issuer; every endpoint is checked by check_endpoint as well.
            .https_only(issuer_url.scheme() == "https")
            .max_redirects(0)
            .timeout_connect(Some(crate::reader::client::CONNECT_TIMEOUT))
            .timeout_global(Some(crate::reader::client::CALL_TIMEOUT))
            .user_agent(concat!("fci-connector/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        Ok(Http { agent: config.new_agent(), issuer: issuer.to_string() })
    }

    fn unreachable(&self, e: ureq::Error) -> ReaderError {
        let why = match &e {
            ureq::Error::Rustls(tls) => format!("TLS: {tls} (for a provider with a private CA, set ca_file)"),
            other => other.to_string(),
        };
        ReaderError::Unreachable { url: format!("the OpenID provider {}", self.issuer), why }
    }

    fn protocol(&self, why: String) -> ReaderError {
        ReaderError::Protocol { url: format!("the OpenID provider {}", self.issuer), why }
    }

    fn read(&self, response: ureq::http::Response<ureq::Body>) -> Result<(u16, Zeroizing<String>), ReaderError> {
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let text = body.with_config().limit(1 << 20).read_to_string().map_err(|e| self.unreachable(e))?;
        Ok((status, Zeroizing::new(text)))
    }

    fn get_json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T, ReaderError> {
        let url = check_endpoint(url, what)?;
        let response = self
            .agent
            .get(url.as_str())
            .header("Accept", "application/json")
            .call()
            .map_err(|e| self.unreachable(e))?;
        let (status, text) = self.read(response)?;
        if status != 200 {
            return Err(self.protocol(format!("{what} {url}: HTTP {status}")));
        }
        serde_json::from_str(&text).map_err(|e| self.protocol(format!("{what} {url}: not the expected JSON ({e})")))
    }

    fn post_form<T: DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
        form: &[(&str, &str)],
    ) -> Result<Answer<T>, ReaderError> {
        let url = check_endpoint(url, what)?;
        let response = self
            .agent
            .post(url.as_str())
            .header("Accept", "application/json")
            .send_form(form.iter().copied())
            .map_err(|e| self.unreachable(e))?;
        let (status, text) = self.read(response)?;
        if status == 200 {
            return serde_json::from_str(&text)
                .map(Answer::Ok)
                .map_err(|e| self.protocol(format!("{what} {url}: not the expected JSON ({e})")));
        }
        match serde_json::from_str::<OAuthError>(&text) {
            Ok(err) => Ok(Answer::Refused(err)),
            Err(_) => Err(self.protocol(format!("{what} {url}: HTTP {status} without an OAuth error"))),
        }
    }
}

fn refused(what: &str, e: &OAuthError) -> ReaderError {
    let why = match &e.error_description {
        Some(d) => format!("{} ({})", e.error, d.chars().filter(|c| !c.is_control()).take(200).collect::<String>()),
        None => e.error.clone(),
    };
    ReaderError::SignIn(format!("the OpenID provider refused {what}: {why}"))
}

/// An OpenID provider, discovered.
pub struct Provider {
    http: Http,
    oidc: OidcConfig,
    pub discovery: Discovery,
}

/// What the user is told during the device flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePrompt {
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub user_code: String,
    pub expires_in: u64,
}

impl Provider {
    /// Read the discovery document of `oidc.issuer`; its `issuer` must be exactly the configured one.
    pub fn discover(oidc: &OidcConfig, ca_file: Option<&Path>) -> Result<Provider, ReaderError> {
        let http = Http::new(&oidc.issuer, ca_file)?;
        let url = format!("{}{DISCOVERY_PATH}", oidc.issuer.trim_end_matches('/'));
        let discovery: Discovery = http.get_json(&url, "discovery document")?;
        if discovery.issuer != oidc.issuer {
            return Err(http.protocol(format!(
                "the discovery document names the issuer {:?}, not {:?} (they must be equal: set [oidc] issuer to \
                 the provider's exact issuer)",
                discovery.issuer, oidc.issuer
            )));
        }
        for (url, what) in [(&discovery.token_endpoint, "token_endpoint"), (&discovery.jwks_uri, "jwks_uri")] {
            check_endpoint(url, what)?;
        }
        Ok(Provider { http, oidc: oidc.clone(), discovery })
    }

    fn scope(&self) -> String {
        let mut scopes: Vec<&str> = if self.oidc.scopes.is_empty() {
            DEFAULT_SCOPES.to_vec()
        } else {
            self.oidc.scopes.iter().map(String::as_str).collect()
        };
        if !scopes.contains(&"openid") {
            scopes.insert(0, "openid");
        }
        scopes.join(" ")
    }

    /// The device authorization grant: ask for a user code, tell the user through `prompt`, then poll the token
    /// endpoint every `interval` seconds (5 unless the provider says; 5 more after each `slow_down`) until the user
    /// has signed in, refused (`access_denied`) or the code expired. `sleep` waits (tests pass their own).
    pub fn device_flow(
        &self,
        prompt: &mut dyn FnMut(&DevicePrompt),
        sleep: &mut dyn FnMut(Duration),
    ) -> Result<Tokens, ReaderError> {
        let endpoint = self.discovery.device_authorization_endpoint.as_deref().ok_or_else(|| {
            ReaderError::SignIn(format!(
                "the OpenID provider {} offers no device authorization (no device_authorization_endpoint): sign in \
                 with the browser instead",
                self.oidc.issuer
            ))
        })?;
        let scope = self.scope();
        let form = [("client_id", self.oidc.client_id.as_str()), ("scope", scope.as_str())];
        let device: DeviceAnswer = match self.http.post_form(endpoint, "device_authorization_endpoint", &form)? {
            Answer::Ok(d) => d,
            Answer::Refused(e) => return Err(refused("the device authorization", &e)),
        };
        let device_code = Zeroizing::new(device.device_code.clone());
        prompt(&DevicePrompt {
            verification_uri: device.verification_uri.clone(),
            verification_uri_complete: device.verification_uri_complete.clone(),
            user_code: device.user_code.clone(),
            expires_in: device.expires_in,
        });
        let mut interval = device.interval.unwrap_or(5).max(1);
        let mut waited = 0u64;
        loop {
            if waited >= device.expires_in {
                return Err(ReaderError::SignIn(
                    "the device code expired before the sign-in was completed: run login again".into(),
                ));
            }
            sleep(Duration::from_secs(interval));
            waited += interval;
            let form = [
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code.as_str()),
                ("client_id", self.oidc.client_id.as_str()),
            ];
            match self.http.post_form::<TokenAnswer>(&self.discovery.token_endpoint, "token_endpoint", &form)? {
                Answer::Ok(answer) => return self.tokens(&answer, None, None),
                Answer::Refused(e) => match e.error.as_str() {
                    "authorization_pending" => {}
                    "slow_down" => interval += 5,
                    "expired_token" => {
                        return Err(ReaderError::SignIn(
                            "the device code expired before the sign-in was completed: run login again".into(),
                        ));
                    }
                    "access_denied" => {
                        return Err(ReaderError::SignIn("the sign-in was refused on the device page".into()));
                    }
                    _ => return Err(refused("the sign-in", &e)),
                },
            }
        }
    }

    /// The authorization code grant with PKCE (S256) and a loopback redirect: listen on 127.0.0.1 (a free port),
    /// have `open` show the provider's page, take the one redirect to `/callback`, check its `state` (and `iss`),
    /// then exchange the code with the verifier. `notify` is told the URL (to print it in case no browser opens).
    pub fn browser_flow(
        &self,
        open: &mut dyn FnMut(&str) -> io::Result<()>,
        notify: &mut dyn FnMut(&str),
        timeout: Duration,
    ) -> Result<Tokens, ReaderError> {
        let endpoint = self.discovery.authorization_endpoint.as_deref().ok_or_else(|| {
            ReaderError::SignIn(format!(
                "the OpenID provider {} has no authorization_endpoint: use the device flow",
                self.oidc.issuer
            ))
        })?;
        let methods = &self.discovery.code_challenge_methods_supported;
        if !methods.is_empty() && !methods.iter().any(|m| m == "S256") {
            return Err(ReaderError::SignIn(format!(
                "the OpenID provider {} does not support PKCE with S256",
                self.oidc.issuer
            )));
        }
        let mut url = check_endpoint(endpoint, "authorization_endpoint")?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| ReaderError::SignIn(format!("cannot listen on 127.0.0.1 for the sign-in redirect: {e}")))?;
        let port = listener.local_addr().map_err(|e| ReaderError::SignIn(e.to_string()))?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
        let verifier = Zeroizing::new(random_b64(32)?);
        let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
        let state = random_b64(16)?;
        let nonce = random_b64(16)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.oidc.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &self.scope())
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        notify(url.as_str());
        open(url.as_str()).map_err(|e| ReaderError::SignIn(format!("cannot open the browser: {e}")))?;
        let code = wait_for_callback(&listener, &state, &self.oidc.issuer, Instant::now() + timeout)?;
        drop(listener);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", self.oidc.client_id.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        match self.http.post_form::<TokenAnswer>(&self.discovery.token_endpoint, "token_endpoint", &form)? {
            Answer::Ok(answer) => self.tokens(&answer, Some(&nonce), None),
            Answer::Refused(e) => Err(refused("the authorization code", &e)),
        }
    }

    /// The authorization request of the code flow with PKCE (S256) for a web client (the service's tracking site,
    /// [`crate::service::portal`]): the provider's page to send the browser to.
    pub fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: &str,
    ) -> Result<Url, ReaderError> {
        let endpoint = self.discovery.authorization_endpoint.as_deref().ok_or_else(|| {
            ReaderError::SignIn(format!("the OpenID provider {} has no authorization_endpoint", self.oidc.issuer))
        })?;
        let mut url = check_endpoint(endpoint, "authorization_endpoint")?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.oidc.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.scope())
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    /// A web client's code exchange: `code` received at `redirect_uri`, the PKCE `verifier`, the client secret
    /// (`client_secret_post`) when the client has one. The ID token is verified as every other (signature, issuer,
    /// audience, expiry at `now`, `nonce`); its claims are returned.
    pub fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
        nonce: &str,
        client_secret: Option<&str>,
        now: i64,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ReaderError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.oidc.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = client_secret {
            form.push(("client_secret", secret));
        }
        let answer =
            match self.http.post_form::<TokenAnswer>(&self.discovery.token_endpoint, "token_endpoint", &form)? {
                Answer::Ok(answer) => answer,
                Answer::Refused(e) => return Err(refused("the authorization code", &e)),
            };
        let id = answer.id_token.as_deref().ok_or_else(|| {
            ReaderError::SignIn("the OpenID provider gave no ID token (is the openid scope allowed?)".into())
        })?;
        let jwks: JwkSet = self.http.get_json(&self.discovery.jwks_uri, "jwks_uri")?;
        verify_id_token(id, &jwks, &self.oidc.issuer, &self.oidc.client_id, Some(nonce), now)?;
        // Verified: its claims, all of them (the principal and groups claims are the service's choice).
        let payload = id.split('.').nth(1).unwrap_or_default();
        let bytes = Base64UrlUnpadded::decode_vec(payload)
            .map_err(|_| ReaderError::SignIn("the ID token's claims are not base64url".into()))?;
        serde_json::from_slice(&bytes).map_err(|e| ReaderError::SignIn(format!("the ID token's claims: {e}")))
    }

    /// The stored form of a token answer, its ID token verified (`nonce` for the code flow; `previous`: a refresh,
    /// whose ID token must name the same subject).
    fn tokens(
        &self,
        answer: &TokenAnswer,
        nonce: Option<&str>,
        previous: Option<&Tokens>,
    ) -> Result<Tokens, ReaderError> {
        tokens_from(&self.http, &self.oidc.issuer, &self.oidc.client_id, &self.discovery, answer, nonce, previous)
    }
}

fn tokens_from(
    http: &Http,
    issuer: &str,
    client_id: &str,
    discovery: &Discovery,
    answer: &TokenAnswer,
    nonce: Option<&str>,
    previous: Option<&Tokens>,
) -> Result<Tokens, ReaderError> {
    let now = super::now().unix_timestamp();
    let (id_token, claims) = match (&answer.id_token, previous) {
        (Some(id), _) => {
            let jwks: JwkSet = http.get_json(&discovery.jwks_uri, "jwks_uri")?;
            let claims = verify_id_token(id, &jwks, issuer, client_id, nonce, now)?;
            if let Some(prev) = previous
                && prev.subject != claims.sub
            {
                return Err(ReaderError::SignIn("the renewed ID token names another user".into()));
            }
            (Some(id.clone()), Some(claims))
        }
        (None, Some(prev)) => (prev.id_token.clone(), None),
        (None, None) => {
            return Err(ReaderError::SignIn(
                "the OpenID provider gave no ID token (is the openid scope allowed?)".into(),
            ));
        }
    };
    let (subject, user, id_expires_at) = match (&claims, previous) {
        (Some(c), _) => (
            c.sub.clone(),
            c.email.clone().or_else(|| c.preferred_username.clone()).unwrap_or_else(|| c.sub.clone()),
            Some(c.exp),
        ),
        (None, Some(p)) => (p.subject.clone(), p.user.clone(), p.id_expires_at),
        (None, None) => return Err(ReaderError::SignIn("the OpenID provider gave no ID token".into())),
    };
    Ok(Tokens {
        issuer: issuer.to_string(),
        client_id: client_id.to_string(),
        token_endpoint: discovery.token_endpoint.clone(),
        jwks_uri: discovery.jwks_uri.clone(),
        access_token: answer.access_token.clone(),
        access_expires_at: answer.expires_in.map(|s| now + s),
        id_token,
        id_expires_at,
        refresh_token: answer.refresh_token.clone().or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        subject,
        user,
    })
}

/// Renew `tokens` with `refresh_token` (`grant_type=refresh_token`) at the stored token endpoint. The provider's
/// refusal is [`ReaderError::SignIn`]; the provider unreachable is [`ReaderError::Unreachable`].
pub fn refresh(tokens: &Tokens, refresh_token: &str, ca_file: Option<&Path>) -> Result<Tokens, ReaderError> {
    let http = Http::new(&tokens.issuer, ca_file)?;
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", tokens.client_id.as_str())];
    let discovery = Discovery {
        issuer: tokens.issuer.clone(),
        authorization_endpoint: None,
        token_endpoint: tokens.token_endpoint.clone(),
        device_authorization_endpoint: None,
        jwks_uri: tokens.jwks_uri.clone(),
        code_challenge_methods_supported: Vec::new(),
    };
    match http.post_form::<TokenAnswer>(&tokens.token_endpoint, "token_endpoint", &form)? {
        Answer::Ok(answer) => {
            tokens_from(&http, &tokens.issuer, &tokens.client_id, &discovery, &answer, None, Some(tokens))
        }
        Answer::Refused(e) => Err(refused("the refresh token", &e)),
    }
}

/// Verify an ID token against the provider's keys at `now` (Unix seconds).
pub fn verify_id_token(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: Option<&str>,
    now: i64,
) -> Result<IdClaims, ReaderError> {
    let invalid = |why: String| ReaderError::SignIn(format!("the ID token is not valid: {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(e.to_string()))?;
    use Algorithm::*;
    if !matches!(header.alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384 | EdDSA) {
        return Err(invalid(format!("algorithm {:?} is not accepted", header.alg)));
    }
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or_else(|| invalid("signed by a key the provider does not list".into()))?;
    if let Some(alg) = jwk.common.key_algorithm
        && alg.to_string() != format!("{:?}", header.alg)
    {
        return Err(invalid(format!("algorithm {:?} is not the key's {alg}", header.alg)));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // The expiry is checked below against `now` (the reader's clock, which tests may set).
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                invalid(format!("it is for another audience, not {client_id}"))
            }
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                invalid(format!("it is from another issuer, not {issuer}"))
            }
            _ => invalid(e.to_string()),
        })?
        .claims;
    if claims.exp + LEEWAY <= now {
        return Err(invalid("it has expired".into()));
    }
    if claims.aud.len() > 1 && claims.azp.as_deref() != Some(client_id) {
        return Err(invalid("it names several audiences and its azp is not this client".into()));
    }
    if let Some(nonce) = nonce
        && claims.nonce.as_deref() != Some(nonce)
    {
        return Err(invalid("its nonce is not the one of this sign-in (a replayed answer?)".into()));
    }
    Ok(claims)
}

/// A PKCE pair: the verifier (kept secret until the code exchange) and its S256 challenge.
pub fn pkce_pair() -> Result<(Zeroizing<String>, String), ReaderError> {
    let verifier = Zeroizing::new(random_b64(32)?);
    let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
    Ok((verifier, challenge))
}

/// `len` random bytes, base64url (state, nonce).
pub fn random_b64(len: usize) -> Result<String, ReaderError> {
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    getrandom::fill(&mut bytes).map_err(|e| ReaderError::SignIn(format!("the OS random source failed: {e}")))?;
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}

/// Wait for the browser's redirect to the loopback listener; answer it with a small page; return the code. Other
/// paths (a browser asking for `/favicon.ico`) get 404 and the wait goes on. A redirect with an `error`, or whose
/// `state` is not this sign-in's, or whose `iss` is another issuer, ends the sign-in.
fn wait_for_callback(
    listener: &TcpListener,
    state: &str,
    issuer: &str,
    deadline: Instant,
) -> Result<Zeroizing<String>, ReaderError> {
    listener.set_nonblocking(true).map_err(|e| ReaderError::SignIn(e.to_string()))?;
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(ReaderError::SignIn(
                        "no answer from the browser in time: run login again (or use the device flow)".into(),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(ReaderError::SignIn(format!("the sign-in redirect listener failed: {e}"))),
        };
        if let Some(outcome) = answer_callback(stream, state, issuer) {
            return outcome;
        }
    }
}

/// One connection to the listener: `None` to keep waiting (not the callback, or unreadable).
fn answer_callback(stream: TcpStream, state: &str, issuer: &str) -> Option<Result<Zeroizing<String>, ReaderError>> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut line = String::new();
    BufReader::new(io::Read::take(&stream, 8192)).read_line(&mut line).ok()?;
    let target = line.strip_prefix("GET ")?.split(' ').next()?.to_string();
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    let reply = |mut s: &TcpStream, status: &str, text: &str| {
        let body = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>fci-connector</title></head><body><p>{text}</p></body></html>"
        );
        let _ = write!(
            s,
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = s.flush();
    };
    if url.path() != CALLBACK_PATH {
        reply(&stream, "404 Not Found", "Not found.");
        return None;
    }
    let get = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let fail = |why: String| {
        reply(&stream, "400 Bad Request", "Sign-in failed. You can close this window and look at the terminal.");
        Some(Err(ReaderError::SignIn(why)))
    };
    if get("state").as_deref() != Some(state) {
        return fail("the sign-in redirect carried another state than this sign-in's, so it was refused (a forged or replayed redirect?): run login again".into());
    }
    if let Some(iss) = get("iss")
        && iss != issuer
    {
        return fail(format!("the sign-in redirect names the issuer {iss:?}, not {issuer:?}"));
    }
    if let Some(error) = get("error") {
        let description = get("error_description").unwrap_or_default();
        return fail(format!(
            "the OpenID provider refused the sign-in: {error}{}",
            if description.is_empty() { String::new() } else { format!(" ({description})") }
        ));
    }
    let Some(code) = get("code").map(Zeroizing::new) else {
        return fail("the sign-in redirect carried no code".into());
    };
    reply(&stream, "200 OK", "Signed in to fci-connector. You can close this window.");
    Some(Ok(code))
}

/// Open `url` with the program [`BROWSER_ENV`] names, else the system's browser.
pub fn open_in_browser(url: &str) -> io::Result<()> {
    match std::env::var_os(BROWSER_ENV).filter(|v| !v.is_empty()) {
        Some(program) => std::process::Command::new(program)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .map(drop),
        None => crate::platform::open_url(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    const ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPtG+EdaO8HIqOzIfe50ajW5ea0ZZWuKR+YqzNruFo1k\n-----END PRIVATE KEY-----\n";

    fn id_token(claims: serde_json::Value) -> (String, JwkSet) {
        let signer = crate::licensing::use_license::Signer::from_pkcs8_pem(ED25519).unwrap();
        let jwks = signer.jwks();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = jwks.keys[0].common.key_id.clone();
        let key = EncodingKey::from_ed_pem(ED25519.as_bytes()).unwrap();
        (jsonwebtoken::encode(&header, &claims, &key).unwrap(), jwks)
    }

    #[test]
    fn an_id_token_is_checked_for_issuer_audience_expiry_and_nonce() {
        let now = 1_800_000_000;
        let good = serde_json::json!({"iss": "https://idp.test", "aud": "fci", "sub": "alice", "exp": now + 300,
            "nonce": "n1", "email": "alice@contoso.com"});
        let (token, jwks) = id_token(good.clone());
        let c = verify_id_token(&token, &jwks, "https://idp.test", "fci", Some("n1"), now).unwrap();
        assert_eq!((c.sub.as_str(), c.email.as_deref()), ("alice", Some("alice@contoso.com")));
        let refuse = |claims: serde_json::Value, nonce: Option<&str>, why: &str| {
            let (token, jwks) = id_token(claims);
            let e = verify_id_token(&token, &jwks, "https://idp.test", "fci", nonce, now).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
            assert_eq!(e.class(), crate::ExitClass::SignInNeeded);
        };
        let with = |k: &str, v: serde_json::Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        refuse(with("aud", "other-app".into()), Some("n1"), "another audience");
        refuse(with("iss", "https://evil.test".into()), Some("n1"), "another issuer");
        refuse(with("exp", (now - 120).into()), Some("n1"), "expired");
        refuse(good.clone(), Some("n2"), "nonce");
        refuse(with("aud", serde_json::json!(["fci", "other"])), Some("n1"), "azp");
        // A key the provider does not list.
        let e = verify_id_token(&token, &JwkSet { keys: vec![] }, "https://idp.test", "fci", None, now).unwrap_err();
        assert!(e.to_string().contains("does not list"), "{e}");
        // An unsigned token.
        let none =
            format!("{}.{}.", Base64UrlUnpadded::encode_string(br#"{"alg":"none"}"#), token.split('.').nth(1).unwrap());
        assert!(verify_id_token(&none, &jwks, "https://idp.test", "fci", None, now).is_err());
    }

    #[test]
    fn only_https_or_loopback_http_endpoints_are_used() {
        for ok in ["https://login.contoso.com/", "http://127.0.0.1:8080", "http://localhost:1/x", "http://[::1]:2/"] {
            assert!(check_endpoint(ok, "issuer").is_ok(), "{ok}");
        }
        for bad in ["http://login.contoso.com/", "http://127.0.0.1.evil.test/", "ftp://x/", "https://u:p@x/", "x"] {
            let e = check_endpoint(bad, "issuer").unwrap_err();
            assert_eq!(e.class(), crate::ExitClass::Config, "{bad}");
        }
    }

    /// A one-shot HTTP server on loopback answering each request with the next of `answers` (status, JSON).
    fn serve(answers: Vec<(u16, &'static str)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for (status, body) in answers {
                let (mut s, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body_in = vec![0; len];
                io::Read::read_exact(&mut reader, &mut body_in).unwrap();
                seen.push(format!("{} {}", line.trim(), String::from_utf8(body_in).unwrap()));
                write!(s, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
            }
            seen
        });
        (base, handle)
    }

    #[test]
    fn the_device_flow_honours_interval_slow_down_and_its_ending_errors() {
        let device = r#"{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"http://127.0.0.1/device","verification_uri_complete":"http://127.0.0.1/device?user_code=ABCD-EFGH","expires_in":600,"interval":2}"#;
        for (last, expect) in [
            (r#"{"error":"access_denied"}"#, "refused on the device page"),
            (r#"{"error":"expired_token"}"#, "expired"),
        ] {
            let (base, server) = serve(vec![
                (200, device),
                (400, r#"{"error":"authorization_pending"}"#),
                (400, r#"{"error":"slow_down"}"#),
                (400, r#"{"error":"authorization_pending"}"#),
                (400, last),
            ]);
            let oidc =
                OidcConfig { issuer: base.clone(), client_id: "fci".into(), scopes: vec![], send: Default::default() };
            let provider = Provider {
                http: Http::new(&base, None).unwrap(),
                oidc,
                discovery: Discovery {
                    issuer: base.clone(),
                    authorization_endpoint: None,
                    token_endpoint: format!("{base}/token"),
                    device_authorization_endpoint: Some(format!("{base}/device/auth")),
                    jwks_uri: format!("{base}/jwks"),
                    code_challenge_methods_supported: vec![],
                },
            };
            let mut shown = None;
            let mut slept = Vec::new();
            let e =
                provider.device_flow(&mut |p| shown = Some(p.clone()), &mut |d| slept.push(d.as_secs())).unwrap_err();
            assert!(e.to_string().contains(expect), "{e}");
            let shown = shown.unwrap();
            assert_eq!(shown.user_code, "ABCD-EFGH");
            assert!(shown.verification_uri_complete.unwrap().ends_with("user_code=ABCD-EFGH"));
            // interval 2, then 2, then slow_down adds 5.
            assert_eq!(slept, [2, 2, 7, 7]);
            let seen = server.join().unwrap();
            assert!(seen[0].starts_with("POST /device/auth "), "{seen:?}");
            assert!(seen[0].contains("scope=openid+profile+email+offline_access"), "{seen:?}");
            assert!(seen[1].contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"), "{seen:?}");
            assert!(seen[1].contains("device_code=dc") && seen[1].contains("client_id=fci"), "{seen:?}");
        }
    }

    #[test]
    fn a_callback_with_another_state_or_issuer_is_refused_and_other_paths_wait() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Connected and sent in order (the listener accepts in that order); the answer is read on a thread.
        let get = move |target: &'static str| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            std::thread::spawn(move || {
                let mut out = String::new();
                let _ = io::Read::read_to_string(&mut s, &mut out);
                out
            })
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let favicon = get("/favicon.ico");
        let forged = get("/callback?code=c&state=forged");
        let e = wait_for_callback(&listener, "s1", "https://idp.test", deadline).unwrap_err();
        assert!(e.to_string().contains("another state"), "{e}");
        assert!(favicon.join().unwrap().starts_with("HTTP/1.1 404"));
        assert!(forged.join().unwrap().starts_with("HTTP/1.1 400"));
        let other_iss = get("/callback?code=c&state=s1&iss=https%3A%2F%2Fevil.test");
        assert!(wait_for_callback(&listener, "s1", "https://idp.test", deadline).is_err());
        other_iss.join().unwrap();
        let denied = get("/callback?error=access_denied&state=s1");
        let e = wait_for_callback(&listener, "s1", "https://idp.test", deadline).unwrap_err();
        assert!(e.to_string().contains("access_denied"), "{e}");
        denied.join().unwrap();
        let good = get("/callback?code=the-code&state=s1&iss=https%3A%2F%2Fidp.test");
        let code = wait_for_callback(&listener, "s1", "https://idp.test", deadline).unwrap();
        assert_eq!(code.as_str(), "the-code");
        assert!(good.join().unwrap().starts_with("HTTP/1.1 200"));
    }
}
