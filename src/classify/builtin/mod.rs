//! Built-in functions (`Func_*`), implemented natively and usable from both rule languages: as an `IdMatch` or
//! `Match` in a Purview package, as a `validators` entry on a Purview `Regex`, and as `<Function>` in an FSRM-style
//! rule. Each function is a pattern (ASCII classes only, so it compiles small and fast) plus a validator that
//! decides whether a candidate really is what it looks like.

pub mod checksums;
pub mod dates;

/// Settings that change how functions validate.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Do not report well-known payment card test numbers (Purview's behaviour). On by default.
    pub ignore_test_card_numbers: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { ignore_test_card_numbers: true }
    }
}

/// A built-in function: the name rules use, the candidate pattern, and the validator.
pub struct Function {
    pub name: &'static str,
    pub pattern: String,
    pub validate: fn(&str, &Options) -> bool,
    pub description: &'static str,
}

const DAY: &str = "(?:0?[1-9]|[12][0-9]|3[01])";
const MONTH: &str = "(?:0?[1-9]|1[0-2])";

/// Every built-in function. Names are Microsoft's where Purview has the function.
pub static FUNCTIONS: std::sync::LazyLock<Vec<Function>> = std::sync::LazyLock::new(|| {
    let us_date = format!(
        r"(?-u:\b)(?:{MONTH}[/-]{DAY}[/-](?:[0-9]{{4}}|[0-9]{{2}})|{m}\.? {DAY},? [0-9]{{4}})(?-u:\b)",
        m = dates::MONTH_PATTERN
    );
    let eu_date = format!(
        r"(?-u:\b)(?:{DAY}[/.-]{MONTH}[/.-](?:[0-9]{{4}}|[0-9]{{2}})|{DAY}\.? {m},? [0-9]{{4}})(?-u:\b)",
        m = dates::MONTH_PATTERN
    );
    vec![
        Function {
            name: "Func_credit_card",
            pattern: r"(?-u:\b)(?:[0-9]{14,19}|[0-9]{4}(?:-[0-9]{4}){2}-[0-9]{2,7}|[0-9]{4}(?: [0-9]{4}){2} [0-9]{2,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})(?-u:\b)".into(),
            validate: |v, o| checksums::credit_card(v, o.ignore_test_card_numbers),
            description: "payment card number: 14-19 digits, optionally grouped with spaces or dashes, Luhn check",
        },
        Function {
            name: "Func_ssn",
            pattern: r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, false),
            description: "U.S. SSN formatted ddd-dd-dddd or ddd dd dddd, issued before June 2011",
        },
        Function {
            name: "Func_unformatted_ssn",
            pattern: r"(?-u:\b)[0-9]{9}(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, false),
            description: "U.S. SSN as nine digits, issued before June 2011",
        },
        Function {
            name: "Func_randomized_formatted_ssn",
            pattern: r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, true),
            description: "U.S. SSN formatted, any area the SSA issues since randomization",
        },
        Function {
            name: "Func_randomized_unformatted_ssn",
            pattern: r"(?-u:\b)[0-9]{9}(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, true),
            description: "U.S. SSN as nine digits, any area the SSA issues since randomization",
        },
        Function {
            name: "Func_iban",
            pattern: r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)".into(),
            validate: |v, _| checksums::iban(v),
            description: "IBAN: country code, check digits, per-country length, ISO 7064 mod-97",
        },
        Function {
            name: "Func_aba_routing",
            pattern: r"(?-u:\b)(?:[0-9]{9}|[0-9]{4}-[0-9]{4}-[0-9])(?-u:\b)".into(),
            validate: |v, _| checksums::aba_routing(v),
            description: "ABA routing transit number: 9 digits, Federal Reserve prefix, 3-7-1 checksum",
        },
        Function {
            name: "Func_us_date",
            pattern: us_date,
            validate: |v, _| dates::us_date(v),
            description: "U.S. date, month first: 12/31/2024, 12-31-24, December 31, 2024",
        },
        Function {
            name: "Func_eu_date",
            pattern: eu_date,
            validate: |v, _| dates::eu_date(v),
            description: "European date, day first: 31/12/2024, 31.12.2024, 31 December 2024",
        },
        Function {
            name: "Func_expiration_date",
            pattern: r"(?-u:\b)(?:0[1-9]|1[0-2]) ?[/-] ?(?:[0-9]{4}|[0-9]{2})(?-u:\b)".into(),
            validate: |v, _| dates::expiration_date(v),
            description: "card expiration date: MM/YY or MM/YYYY",
        },
        Function {
            name: "Func_email_address",
            pattern: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?-u:\b)".into(),
            validate: |v, _| email_address(v),
            description: "e-mail address (fci-connector; Purview has no function for it)",
        },
        Function {
            name: "Func_netherlands_bsn",
            pattern: r"(?-u:\b)(?:[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}|[0-9]{3} [0-9]{3} [0-9]{3})(?-u:\b)".into(),
            validate: |v, _| checksums::netherlands_bsn(v),
            description: "Dutch citizen service number (BSN): 9 digits, eleven-test",
        },
    ]
});

/// The function called `name` (Purview ids compare case-insensitively here, as admins type them both ways).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// An e-mail address within RFC 5321 limits: local part at most 64 characters, the whole at most 254, domain labels
/// of 1–63 characters that neither start nor end with a hyphen.
fn email_address(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    value.len() <= 254
        && (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.split('.').all(|l| (1..=63).contains(&l.len()) && !l.starts_with('-') && !l.ends_with('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_valid(name: &str, text: &str) -> Vec<String> {
        let f = lookup(name).unwrap();
        let re = regex::Regex::new(&f.pattern).unwrap();
        re.find_iter(text)
            .map(|m| m.as_str())
            .filter(|v| (f.validate)(v, &Options::default()))
            .map(String::from)
            .collect()
    }

    #[test]
    fn every_pattern_compiles_with_the_linear_engine() {
        for f in FUNCTIONS.iter() {
            assert!(regex::Regex::new(&f.pattern).is_ok(), "{}", f.name);
        }
    }

    #[test]
    fn functions_find_and_validate() {
        assert_eq!(find_valid("Func_credit_card", "card 4485 3647 3952 7352 exp"), ["4485 3647 3952 7352"]);
        assert_eq!(find_valid("Func_credit_card", "order 4485364739527353"), Vec::<String>::new());
        assert_eq!(find_valid("Func_ssn", "SSN: 536-90-4399, not 000-12-3456"), ["536-90-4399"]);
        assert_eq!(find_valid("Func_iban", "IBAN GB82 WEST 1234 5698 7654 32 EUR"), ["GB82 WEST 1234 5698 7654 32"]);
        assert_eq!(find_valid("Func_aba_routing", "routing 121000358."), ["121000358"]);
        assert_eq!(find_valid("Func_us_date", "born 07/04/1976 and Jan 5, 2020"), ["07/04/1976", "Jan 5, 2020"]);
        assert_eq!(find_valid("Func_eu_date", "geboren 31-12-1980"), ["31-12-1980"]);
        assert_eq!(find_valid("Func_expiration_date", "exp 09/27"), ["09/27"]);
        assert_eq!(find_valid("Func_email_address", "mail jane.doe@contoso.com."), ["jane.doe@contoso.com"]);
        assert_eq!(find_valid("Func_email_address", "a..b@contoso.com"), Vec::<String>::new());
        assert!(lookup("func_SSN").is_some());
        assert!(lookup("Func_japan_passport").is_none());
    }
}
