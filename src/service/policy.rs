//! Who gets which rights: pure functions over a signed-in principal, the service's current template and the
//! license. No I/O, so every rule here is unit-tested.

use std::str::FromStr;

use time::OffsetDateTime;

use crate::protect::templates::{Grant, Right};

/// Every right an admin (a super user) gets.
const ALL_RIGHTS: [&str; 14] = [
    "VIEW",
    "EDIT",
    "DOCEDIT",
    "PRINT",
    "EXTRACT",
    "EXPORT",
    "COMMENT",
    "FORWARD",
    "REPLY",
    "REPLYALL",
    "VIEWRIGHTSDATA",
    "EDITRIGHTSDATA",
    "OBJMODEL",
    "OWNER",
];

/// A signed-in caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// The configured claim of the token, or the certificate's SAN e-mail / UPN.
    pub name: String,
    /// The token's `email` claim, if any (a certificate's e-mail is its name).
    pub email: Option<String>,
    /// Groups as the token's groups claim gives them.
    pub groups: Vec<String>,
}

impl Principal {
    /// A principal with only a name.
    pub fn named(name: &str) -> Principal {
        Principal { name: name.into(), ..Principal::default() }
    }

    /// The name and the e-mail claim: what an owner or an admin entry is compared with.
    fn identities(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.email.as_deref())
    }
}

/// Whether a grant's (or an admin entry's) principal names `p`: its name, its e-mail, one of its groups, or its
/// domain (`@contoso.com`), case-insensitively.
pub fn matches(grant_principal: &str, p: &Principal) -> bool {
    let g = grant_principal.trim();
    if g.is_empty() {
        return false;
    }
    if g.starts_with('@') && g.len() > 1 {
        return p.identities().any(|id| domain_of(id).is_some_and(|d| d.eq_ignore_ascii_case(g)));
    }
    p.identities().chain(p.groups.iter().map(String::as_str)).any(|id| eq(id, g))
}

/// `@domain` of an address, with the `@`.
fn domain_of(address: &str) -> Option<&str> {
    address.rfind('@').map(|at| &address[at..]).filter(|d| d.len() > 1)
}

fn eq(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Whether `p` is the license's owner (its name or its e-mail claim).
pub fn is_owner(owner: Option<&str>, p: &Principal) -> bool {
    owner.is_some_and(|o| !o.trim().is_empty() && p.identities().any(|id| eq(id, o)))
}

/// Whether `p` is one of the service's `admins`.
pub fn is_admin(admins: &[String], p: &Principal) -> bool {
    admins.iter().any(|a| matches(a, p))
}

/// The rights `p` has: the current template's grants that name it, OWNER for the owner, every right for an admin.
/// Sorted, without duplicates; empty when nothing is granted.
pub fn rights(grants: &[Grant], owner: Option<&str>, admins: &[String], p: &Principal) -> Vec<Right> {
    let mut out: Vec<Right> =
        grants.iter().filter(|g| matches(&g.principal, p)).flat_map(|g| g.rights.clone()).collect();
    if is_owner(owner, p) {
        out.push(Right::Owner);
    }
    if is_admin(admins, p) {
        out.extend(ALL_RIGHTS.iter().filter_map(|r| Right::from_str(r).ok()));
    }
    out.sort();
    out.dedup();
    out
}

/// Rights as the wire names them.
pub fn right_names(rights: &[Right]) -> Vec<String> {
    rights.iter().map(|r| r.as_str().to_string()).collect()
}

/// Whether the content has expired at `now` (`ValidUntil` is authoritative).
pub fn expired(valid_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    valid_until.is_some_and(|until| now >= until)
}

/// Until when a use license issued at `now` may be used offline: the earlier of `ValidUntil` and now +
/// `OfflineAccessDays`; `None` (no offline use) without `OfflineAccessDays` or with 0, as RMS treats 0.
pub fn offline_until(
    valid_until: Option<OffsetDateTime>,
    offline_days: Option<u32>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let days = offline_days.filter(|d| *d > 0)?;
    let window = now.checked_add(time::Duration::days(i64::from(days)))?;
    Some(valid_until.map_or(window, |until| until.min(window)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn grants(list: &[&str]) -> Vec<Grant> {
        list.iter().map(|g| Grant::parse_assignment(g).unwrap()).collect()
    }

    fn names(r: Vec<Right>) -> Vec<String> {
        right_names(&r)
    }

    #[test]
    fn a_grant_names_the_principal_its_email_a_group_or_its_domain_in_any_case() {
        let p = Principal {
            name: "Alice@Contoso.com".into(),
            email: Some("alice.smith@contoso.com".into()),
            groups: vec!["Finance".into(), "8d2c0f3e-0000-4000-8000-000000000001".into()],
        };
        assert!(matches("alice@contoso.com", &p));
        assert!(matches("ALICE.SMITH@contoso.com", &p));
        assert!(matches("finance", &p));
        assert!(matches("8D2C0F3E-0000-4000-8000-000000000001", &p));
        assert!(matches("@CONTOSO.COM", &p));
        assert!(!matches("@sub.contoso.com", &p));
        assert!(!matches("@", &p));
        assert!(!matches("", &p));
        assert!(!matches("bob@contoso.com", &p));
        assert!(!matches("contoso.com", &p));
        // A domain grant does not match a group that happens to end in it.
        let g = Principal { name: "bob".into(), email: None, groups: vec!["x@contoso.com".into()] };
        assert!(!matches("@contoso.com", &g));
    }

    #[test]
    fn rights_union_grants_owner_and_admin() {
        let g = grants(&["finance=VIEW,PRINT", "alice@contoso.com=EDIT", "@fabrikam.com=VIEW"]);
        let alice = Principal { name: "alice@contoso.com".into(), email: None, groups: vec!["FINANCE".into()] };
        assert_eq!(names(rights(&g, None, &[], &alice)), ["VIEW", "EDIT", "PRINT"]);
        let carol = Principal::named("carol@fabrikam.com");
        assert_eq!(names(rights(&g, None, &[], &carol)), ["VIEW"]);
        let mallory = Principal::named("mallory@evil.example");
        assert!(rights(&g, None, &[], &mallory).is_empty());
        let owner = Principal { name: "o1".into(), email: Some("Olivia@contoso.com".into()), groups: vec![] };
        assert_eq!(names(rights(&g, Some("olivia@contoso.com"), &[], &owner)), ["OWNER"]);
        let admins = vec!["secadmin@contoso.com".to_string()];
        let admin = Principal::named("SecAdmin@contoso.com");
        assert_eq!(rights(&g, None, &admins, &admin).len(), 14);
        assert!(is_admin(&admins, &admin) && !is_admin(&admins, &alice));
        assert!(!is_owner(Some(""), &Principal::named("")));
    }

    #[test]
    fn offline_until_is_the_earlier_of_valid_until_and_the_offline_days() {
        let now = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(offline_until(None, Some(7), now), Some(datetime!(2026-01-08 00:00 UTC)));
        let soon = datetime!(2026-01-03 00:00 UTC);
        assert_eq!(offline_until(Some(soon), Some(7), now), Some(soon));
        assert_eq!(offline_until(Some(soon), None, now), None);
        assert_eq!(offline_until(None, Some(0), now), None);
        assert!(expired(Some(now), now) && !expired(Some(soon), now) && !expired(None, now));
    }
}
