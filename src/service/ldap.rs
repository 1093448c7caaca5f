//! Group membership from a directory (Active Directory or OpenLDAP), for grants that name groups the token does
//! not carry. A principal is looked up by `user_filter`; its groups are every group it is a member of, directly or
//! through nested groups, named by `group_attribute` (what the templates' grants name: `mail` by default, or `cn`,
//! or `dn`).
//!
//! Nesting: Active Directory evaluates the whole chain in one search with the in-chain matching rule
//! (LDAP_MATCHING_RULE_IN_CHAIN, OID 1.2.840.113556.1.4.1941); other directories (OpenLDAP has no such rule) are
//! walked breadth-first, one `member` search per level, bounded by `max_depth` and [`MAX_GROUPS`]. Answers are
//! cached per principal for `cache_ttl_seconds`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use serde::Deserialize;
use zeroize::Zeroizing;

/// Most groups one principal may resolve to; more is refused (a loop or a hostile directory), not truncated.
pub const MAX_GROUPS: usize = 2000;
/// The AD matching rule that follows nested membership on the server.
pub const IN_CHAIN_RULE: &str = "1.2.840.113556.1.4.1941";

/// `[groups.ldap]` in the service configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapSettings {
    /// `ldap://host[:port]` or `ldaps://host[:port]`.
    pub url: String,
    pub base_dn: String,
    /// Bind as this DN (with the password from `password_env`); anonymous when absent.
    pub bind_dn: Option<String>,
    /// The environment variable holding the bind password (never the password itself in the file).
    pub password_env: Option<String>,
    /// Which attribute of a group the grants name.
    #[serde(default)]
    pub group_attribute: GroupAttribute,
    /// How a principal is found; `{principal}` is replaced by the escaped principal.
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    /// How nested groups are followed.
    #[serde(default)]
    pub nesting: Nesting,
    /// Levels of nesting followed by the walk ([`Nesting::Walk`]).
    #[serde(default = "default_max_depth")]
    pub max_depth: u32,
    #[serde(default = "default_ttl")]
    pub cache_ttl_seconds: u64,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_user_filter() -> String {
    "(|(userPrincipalName={principal})(mail={principal})(uid={principal}))".into()
}
fn default_max_depth() -> u32 {
    8
}
fn default_ttl() -> u64 {
    300
}
fn default_timeout() -> u64 {
    5
}

/// The attribute of a group that names it in grants.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum GroupAttribute {
    #[default]
    Mail,
    Cn,
    Dn,
}

/// How nested membership is resolved.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Nesting {
    /// One search with LDAP_MATCHING_RULE_IN_CHAIN (Active Directory).
    InChain,
    /// A breadth-first walk of `member` / `uniqueMember` (OpenLDAP and other directories).
    #[default]
    Walk,
}

/// Why groups could not be resolved. The request is then evaluated without directory groups, and the log says why.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("directory {url}: {message}")]
    Directory { url: String, message: String },
    #[error("directory: environment variable {0} (password_env) is not set")]
    NoPassword(String),
    #[error("directory: {0} is a member of more than {MAX_GROUPS} groups (a loop, or a hostile directory)")]
    TooManyGroups(String),
}

/// The in-chain filter sent to Active Directory for a user's DN: every group whose membership chain reaches it.
pub fn in_chain_filter(user_dn: &str) -> String {
    format!("(member:{IN_CHAIN_RULE}:={})", ldap_escape(user_dn))
}

/// The filter of one walk step: the groups that list `dn` as a direct member.
pub fn direct_groups_filter(dn: &str) -> String {
    let dn = ldap_escape(dn);
    format!("(|(member={dn})(uniqueMember={dn}))")
}

/// Resolves and caches principals' groups.
pub struct LdapGroups {
    settings: LdapSettings,
    password: Zeroizing<String>,
    cache: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

impl LdapGroups {
    /// The bind password is read from `password_env` now, at start: a missing variable stops the service
    /// starting rather than failing every request.
    pub fn from_settings(settings: LdapSettings) -> Result<LdapGroups, LdapError> {
        let password = match &settings.password_env {
            Some(var) => Zeroizing::new(std::env::var(var).map_err(|_| LdapError::NoPassword(var.clone()))?),
            None => Zeroizing::new(String::new()),
        };
        Ok(Self::with_password(settings, password))
    }

    /// With the bind password given (a systemd credential, a test).
    pub fn with_password(settings: LdapSettings, password: Zeroizing<String>) -> LdapGroups {
        LdapGroups { settings, password, cache: Mutex::new(HashMap::new()) }
    }

    /// The groups of `principal` (lower-cased values of `group_attribute`); empty when the directory does not know
    /// the principal.
    pub async fn groups_of(&self, principal: &str) -> Result<Vec<String>, LdapError> {
        let key = principal.to_lowercase();
        let ttl = Duration::from_secs(self.settings.cache_ttl_seconds);
        if let Ok(cache) = self.cache.lock()
            && let Some((at, groups)) = cache.get(&key)
            && at.elapsed() < ttl
        {
            return Ok(groups.clone());
        }
        let groups = self.lookup(principal).await?;
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded: expired entries go first; a directory of many users keeps at most this many answers.
            if cache.len() >= 10_000 {
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
            }
            if cache.len() < 10_000 {
                cache.insert(key, (Instant::now(), groups.clone()));
            }
        }
        Ok(groups)
    }

    async fn lookup(&self, principal: &str) -> Result<Vec<String>, LdapError> {
        let s = &self.settings;
        let fail = |e: ldap3::LdapError| LdapError::Directory { url: s.url.clone(), message: e.to_string() };
        let conn_settings = LdapConnSettings::new().set_conn_timeout(Duration::from_secs(s.timeout_seconds));
        let (conn, mut ldap) = LdapConnAsync::with_settings(conn_settings, &s.url).await.map_err(fail)?;
        ldap3::drive!(conn);
        ldap.with_timeout(Duration::from_secs(s.timeout_seconds));
        if let Some(bind_dn) = &s.bind_dn {
            ldap.with_timeout(Duration::from_secs(s.timeout_seconds));
            ldap.simple_bind(bind_dn, &self.password).await.and_then(|r| r.success()).map_err(fail)?;
        }
        let user_filter = s.user_filter.replace("{principal}", &ldap_escape(principal));
        ldap.with_timeout(Duration::from_secs(s.timeout_seconds));
        let (users, _) = ldap
            .search(&s.base_dn, Scope::Subtree, &user_filter, vec!["1.1"])
            .await
            .and_then(|r| r.success())
            .map_err(fail)?;
        let Some(user) = users.into_iter().next() else {
            let _ = ldap.unbind().await;
            return Ok(Vec::new());
        };
        let user_dn = SearchEntry::construct(user).dn;
        let attribute = match s.group_attribute {
            GroupAttribute::Mail => "mail",
            GroupAttribute::Cn => "cn",
            GroupAttribute::Dn => "1.1",
        };
        let mut names = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let name_of = |entry: &SearchEntry| -> Option<String> {
            match s.group_attribute {
                GroupAttribute::Dn => Some(entry.dn.to_lowercase()),
                _ => entry.attrs.get(attribute).and_then(|v| v.first()).map(|v| v.to_lowercase()),
            }
        };
        match s.nesting {
            Nesting::InChain => {
                ldap.with_timeout(Duration::from_secs(s.timeout_seconds));
                let (groups, _) = ldap
                    .search(&s.base_dn, Scope::Subtree, &in_chain_filter(&user_dn), vec![attribute])
                    .await
                    .and_then(|r| r.success())
                    .map_err(fail)?;
                if groups.len() > MAX_GROUPS {
                    return Err(LdapError::TooManyGroups(principal.to_string()));
                }
                names.extend(groups.into_iter().map(SearchEntry::construct).filter_map(|e| name_of(&e)));
            }
            Nesting::Walk => {
                let mut queue = VecDeque::from([(user_dn, 0u32)]);
                while let Some((dn, depth)) = queue.pop_front() {
                    if depth >= s.max_depth.max(1) {
                        continue;
                    }
                    ldap.with_timeout(Duration::from_secs(s.timeout_seconds));
                    let (groups, _) = ldap
                        .search(&s.base_dn, Scope::Subtree, &direct_groups_filter(&dn), vec![attribute])
                        .await
                        .and_then(|r| r.success())
                        .map_err(fail)?;
                    for entry in groups.into_iter().map(SearchEntry::construct) {
                        if !seen.insert(entry.dn.to_lowercase()) {
                            continue; // a loop, or reached by two paths
                        }
                        if seen.len() > MAX_GROUPS {
                            return Err(LdapError::TooManyGroups(principal.to_string()));
                        }
                        names.extend(name_of(&entry));
                        queue.push_back((entry.dn, depth + 1));
                    }
                }
            }
        }
        let _ = ldap.unbind().await;
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_chain_filter_uses_the_ad_matching_rule_on_the_escaped_dn() {
        assert_eq!(
            in_chain_filter("CN=Alice (Finance),OU=Users,DC=contoso,DC=com"),
            "(member:1.2.840.113556.1.4.1941:=CN=Alice \\28Finance\\29,OU=Users,DC=contoso,DC=com)"
        );
    }

    #[test]
    fn a_walk_step_matches_member_and_unique_member_with_the_dn_escaped() {
        assert_eq!(direct_groups_filter("cn=a*b,dc=x"), "(|(member=cn=a\\2ab,dc=x)(uniqueMember=cn=a\\2ab,dc=x))");
    }

    #[test]
    fn settings_default_to_mail_names_and_a_bounded_walk() {
        let s: LdapSettings = toml::from_str("url = \"ldap://dc1\"\nbase_dn = \"DC=contoso,DC=com\"").unwrap();
        assert_eq!(s.group_attribute, GroupAttribute::Mail);
        assert_eq!(s.nesting, Nesting::Walk);
        assert_eq!(s.max_depth, 8);
        let ad: LdapSettings =
            toml::from_str("url = \"ldap://dc1\"\nbase_dn = \"x\"\nnesting = \"in-chain\"\ngroup_attribute = \"cn\"")
                .unwrap();
        assert_eq!(ad.nesting, Nesting::InChain);
        assert!(toml::from_str::<LdapSettings>("url = \"x\"\nbase_dn = \"y\"\nbogus = 1").is_err());
    }
}
