//! Built-in functions (`Func_*`), implemented natively and usable from both rule languages: as an `IdMatch` or
//! `Match` in a Purview package, as a `validators` entry on a Purview `Regex`, and as `<Function>` in an FSRM-style
//! rule. Each function is a pattern (ASCII classes only, so it compiles small and fast) plus a validator that
//! decides whether a candidate really is what it looks like.

pub mod checksums;
pub mod dates;
pub(crate) mod trees;

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
    /// A candidate that passed `validate` is still refused when this says its surroundings make it something else
    /// (`text`, and the candidate's byte range in it).
    pub refuse_in_context: Option<fn(&str, usize, usize) -> bool>,
    pub description: &'static str,
}

const DAY: &str = "(?:0?[1-9]|[12][0-9]|3[01])";
const MONTH: &str = "(?:0?[1-9]|1[0-2])";
const YEAR: &str = "(?:[0-9]{4}|[0-9]{2})";

/// Every built-in function. Names are Microsoft's where Purview has the function.
pub static FUNCTIONS: std::sync::LazyLock<Vec<Function>> = std::sync::LazyLock::new(|| {
    let (m, year) = (dates::MONTH_PATTERN, YEAR);
    // Numeric (12/31/2024, 12-31-24), or with a month name: "December 2, 2016", "Dec-2-2016", "Dec 2 16".
    let us_date = format!(r"(?-u:\b)(?:{MONTH}[/-]{DAY}[/-]{year}|{m}\.?(?: {DAY},? |-{DAY}-){year})(?-u:\b)");
    // Numeric (31/12/2024, 31.12.2024, 31-12-24), or with a month name: "2 Dec 2016", "2-Dec-2016", "2 Dec 16",
    // "5. März 2021".
    let eu_date =
        format!(r"(?-u:\b)(?:{DAY}[/.-]{MONTH}[/.-]{year}|{DAY}\.? {m}\.?,? {year}|{DAY}-{m}-{year})(?-u:\b)");
    let any_date = format!("(?:{us_date}|{eu_date})");
    vec![
        Function {
            name: "Func_credit_card",
            pattern: r"(?-u:\b)(?:[0-9]{14,19}|[0-9]{4}(?:-[0-9]{4}){2}-[0-9]{2,7}|[0-9]{4}(?: [0-9]{4}){2} [0-9]{2,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})(?-u:\b)".into(),
            validate: |v, o| checksums::credit_card(v, o.ignore_test_card_numbers),
            // The digits of a grouped IBAN (AT63 4190 4300 2345 7329) are that IBAN, not a card.
            refuse_in_context: Some(inside_an_iban),
            description: "payment card number: 14-19 digits, optionally grouped with spaces or dashes, a card brand's \
                          range and length, Luhn check",
        },
        Function {
            name: "Func_ssn",
            pattern: r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, false),
            refuse_in_context: None,
            description: "U.S. SSN formatted ddd-dd-dddd or ddd dd dddd, issued before June 2011",
        },
        Function {
            name: "Func_unformatted_ssn",
            pattern: r"(?-u:\b)[0-9]{9}(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, false),
            refuse_in_context: None,
            description: "U.S. SSN as nine digits, issued before June 2011",
        },
        Function {
            name: "Func_randomized_formatted_ssn",
            pattern: r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, true),
            refuse_in_context: None,
            description: "U.S. SSN formatted, any area the SSA issues since randomization",
        },
        Function {
            name: "Func_randomized_unformatted_ssn",
            pattern: r"(?-u:\b)[0-9]{9}(?-u:\b)".into(),
            validate: |v, _| checksums::ssn(v, true),
            refuse_in_context: None,
            description: "U.S. SSN as nine digits, any area the SSA issues since randomization",
        },
        Function {
            name: "Func_iban",
            pattern: IBAN_SOURCE.clone(),
            validate: |v, _| checksums::iban(v),
            refuse_in_context: None,
            description: "IBAN: country code, check digits, per-country length, ISO 7064 mod-97",
        },
        Function {
            name: "Func_aba_routing",
            pattern: r"(?-u:\b)(?:[0-9]{9}|[0-9]{4}-[0-9]{4}-[0-9])(?-u:\b)".into(),
            validate: |v, _| checksums::aba_routing(v),
            refuse_in_context: None,
            description: "ABA routing transit number: 9 digits, Federal Reserve prefix, 3-7-1 checksum",
        },
        Function {
            name: "Func_us_date",
            pattern: us_date,
            validate: |v, _| dates::us_date(v),
            refuse_in_context: None,
            description: "U.S. date, month first: 12/31/2024, 12-31-24, December 31, 2024",
        },
        Function {
            name: "Func_eu_date",
            pattern: eu_date,
            validate: |v, _| dates::eu_date(v),
            refuse_in_context: None,
            description: "European date, day first: 31/12/2024, 31.12.2024, 31 December 2024",
        },
        Function {
            name: "Func_date",
            pattern: any_date,
            validate: |v, _| dates::us_date(v) || dates::eu_date(v),
            refuse_in_context: None,
            description: "a date, month or day first: 12/31/2024, 31.12.2024, 2-Dec-2016, Dec-2-2016",
        },
        Function {
            name: "Func_expiration_date",
            pattern: EXPIRATION_SOURCE.clone(),
            validate: |v, _| dates::expiration_date(v),
            // Not the 03-14 of 2026-03-14, nor the 12/31 of 12/31/2024.
            refuse_in_context: Some(dates::part_of_a_longer_date),
            description: "card expiration date: M/YY, MM/YYYY, Jan 2010",
        },
        Function {
            name: "Func_email_address",
            pattern: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?-u:\b)".into(),
            validate: |v, _| email_address(v),
            refuse_in_context: None,
            description: "e-mail address (fci-connector; Purview has no function for it)",
        },
        Function {
            name: "Func_netherlands_bsn",
            pattern: r"(?-u:\b)(?:[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}|[0-9]{3} [0-9]{3} [0-9]{3})(?-u:\b)".into(),
            validate: |v, _| checksums::netherlands_bsn(v),
            refuse_in_context: None,
            description: "Dutch citizen service number (BSN): 9 digits, eleven-test",
        },
    ]
});

/// IBANs of every registered country, each exactly as long as its country's format: compact, or in groups of four
/// separated by single spaces (the print format). A candidate stops at its country's length, so a word after it
/// (`AT61 1904 3002 3457 3201 EUR`) is not taken into it, and mod-97 then decides. Countries whose formats have the
/// same shape share one branch (`(?:AT|BA|…)[0-9]{2}(?: ?[A-Z0-9]{4}){4}`): the same language as one branch per
/// country, compiled in a third of the instructions, which every FSRM invocation pays.
fn iban_pattern() -> String {
    let branches: Vec<String> = iban_shapes()
        .iter()
        .map(|&((groups, tail), ref countries)| {
            let tail = if tail > 0 { format!(" ?[A-Z0-9]{{{tail}}}") } else { String::new() };
            format!("(?:{})[0-9]{{2}}(?: ?[A-Z0-9]{{4}}){{{groups}}}{tail}", countries.join("|"))
        })
        .collect();
    format!(r"(?-u:\b)(?:{})(?-u:\b)", branches.join("|"))
}

/// The IBAN formats by shape: (groups of four after the check digits, characters after them), and the countries
/// of that shape, each in the order it first appears in [`checksums::IBAN_LENGTHS`].
fn iban_shapes() -> Vec<((usize, usize), Vec<&'static str>)> {
    let mut shapes: Vec<((usize, usize), Vec<&'static str>)> = Vec::new();
    for &(country, len) in checksums::IBAN_LENGTHS {
        let shape = iban_shape(len);
        match shapes.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, countries)) => countries.push(country),
            None => shapes.push((shape, vec![country])),
        }
    }
    shapes
}

/// The shape of an IBAN `len` characters long: groups of four after the country code and check digits, and the
/// characters after them.
fn iban_shape(len: usize) -> (usize, usize) {
    let rest = len - 4;
    (rest / 4, rest % 4)
}

static IBAN_SOURCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(iban_pattern);

/// Func_expiration_date: 1/28, 01/28, 12/2027, 12-27, Jan 2010, January 10, Jan-10, Jan/2010, Jan2010 (Microsoft's
/// "MonthYYYY").
static EXPIRATION_SOURCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let (m, year) = (dates::MONTH_PATTERN, YEAR);
    format!(r"(?-u:\b)(?:(?:0?[1-9]|1[0-2]) ?[/-] ?{year}|{m}\.?[ /-]?{year})(?-u:\b)")
});

/// Whether `text[start..end]` lies inside a valid IBAN (one that begins at most 40 bytes before it). The search
/// stays within that reach of the candidate: a card number in a long text must not cost a scan of the rest of it.
/// The IBANs are `Func_iban`'s matches there, found by [`iban_match_at`] in order as a leftmost-first search finds
/// them.
fn inside_an_iban(text: &str, start: usize, end: usize) -> bool {
    let mut limit = (end + 40).min(text.len());
    while !text.is_char_boundary(limit) {
        limit += 1;
    }
    let mut at = start.saturating_sub(40);
    while at <= start {
        match iban_match_at(text.as_bytes(), at) {
            Some(iban_end) if iban_end <= limit => {
                if iban_end >= end && checksums::iban(&text[at..iban_end]) {
                    return true;
                }
                at = iban_end;
            }
            _ => at += 1,
        }
    }
    false
}

/// Where the match of `Func_iban`'s pattern ([`iban_pattern`]) that starts exactly at `at` ends. The pattern admits
/// one reading at each position: the country code picks the branch, and each optional space is taken when present
/// (a letter or digit must follow it). Walking it costs a few comparisons; compiling the pattern for this check
/// cost 1.8 M instructions in every process that met a card number (a test proves both agree).
fn iban_match_at(text: &[u8], at: usize) -> Option<usize> {
    // `(?-u:\b)` on both sides: ASCII word characters.
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    if at > 0 && text.get(at - 1).is_some_and(word) {
        return None;
    }
    let country = text.get(at..at + 2)?;
    let &(_, len) = checksums::IBAN_LENGTHS.iter().find(|(c, _)| c.as_bytes() == country)?;
    let mut pos = at + 2;
    if !text.get(pos..pos + 2)?.iter().all(u8::is_ascii_digit) {
        return None;
    }
    pos += 2;
    let (groups, tail) = iban_shape(len);
    let blocks = std::iter::repeat_n(4, groups).chain((tail > 0).then_some(tail));
    for block in blocks {
        if text.get(pos) == Some(&b' ') {
            pos += 1;
        }
        if !text.get(pos..pos + block)?.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return None;
        }
        pos += block;
    }
    (!text.get(pos).is_some_and(word)).then_some(pos)
}

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

    /// A valid IBAN for `country` of length `len`: a digit BBAN and the check digits that make mod-97 = 1.
    fn make_iban(country: &str, len: usize) -> String {
        let bban: String = (0..len - 4).map(|i| char::from(b'0' + ((i * 7 + 3) % 10) as u8)).collect();
        let moved = format!("{bban}{country}00");
        let rem = moved.bytes().fold(0u32, |rem, c| {
            if c.is_ascii_digit() {
                (rem * 10 + u32::from(c - b'0')) % 97
            } else {
                (rem * 100 + u32::from(c - b'A' + 10)) % 97
            }
        });
        format!("{country}{:02}{bban}", 98 - rem)
    }

    fn grouped(iban: &str) -> String {
        iban.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn an_iban_followed_by_a_short_token_is_found_for_every_country() {
        assert_eq!(find_valid("Func_iban", "Pay to AT611904300234573201 EUR today"), ["AT611904300234573201"]);
        assert_eq!(find_valid("Func_iban", "AL47212110090000000235698741 ALL CAPS"), ["AL47212110090000000235698741"]);
        assert_eq!(find_valid("Func_iban", "VG96 VPVG 0000 0123 4567 8901 X"), ["VG96 VPVG 0000 0123 4567 8901"]);
        assert_eq!(find_valid("Func_iban", "AT61 1904 3002 3457 3201 EUR"), ["AT61 1904 3002 3457 3201"]);
        // Microsoft's example's digits (1904…) are no card brand's; these (4190…) are a Visa-shaped, Luhn-valid
        // number: inside the IBAN they are not a card, on their own they are.
        assert_eq!(find_valid("Func_iban", "AT63 4190 4300 2345 7329 EUR"), ["AT63 4190 4300 2345 7329"]);
        assert!(checksums::credit_card("4190 4300 2345 7329", true));
        let text = "Pay to AT63 4190 4300 2345 7329 EUR today";
        let at = text.find("4190").unwrap();
        assert!(inside_an_iban(text, at, at + 19));
        assert_eq!(find_valid("Func_credit_card", text), ["4190 4300 2345 7329"], "the pattern finds it");
        assert!(!inside_an_iban("card 4190 4300 2345 7329 EUR", 5, 24));
        for &(country, len) in checksums::IBAN_LENGTHS {
            let iban = make_iban(country, len);
            assert!(checksums::iban(&iban), "{iban}");
            for token in ["X", "EUR", "ALL", "CAPS", "12", "AB1"] {
                assert_eq!(find_valid("Func_iban", &format!("to {iban} {token} now")), [iban.as_str()]);
                let g = grouped(&iban);
                assert_eq!(find_valid("Func_iban", &format!("to {g} {token} now")), [g.as_str()]);
            }
            // One character too many is not an IBAN of that country, nor a shorter one inside it.
            assert!(find_valid("Func_iban", &format!("{iban}7")).is_empty(), "{iban}7");
        }
    }

    #[test]
    fn the_iban_walk_matches_exactly_what_the_pattern_matches() {
        use regex_automata::{Anchored, Input};
        let re = crate::classify::regex_dialect::positions(&IBAN_SOURCE).unwrap();
        // xorshift64: reproducible text without a dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let pieces = ["A", "Z", "x", "_", "0", "7", " ", "  ", "-", "é", "\n"];
        let mut matched = 0;
        for round in 0..400 {
            let mut text = String::new();
            while text.len() < 160 {
                match next(4) {
                    // A real IBAN, compact or grouped, sometimes cut short or run on.
                    0 => {
                        let &(country, len) = &checksums::IBAN_LENGTHS[next(checksums::IBAN_LENGTHS.len())];
                        let iban = make_iban(country, len);
                        let mut iban = if next(2) == 0 { iban } else { grouped(&iban) };
                        match next(4) {
                            0 => drop(iban.pop()),
                            1 => iban.push(['7', 'Q', '_', ' '][next(4)]),
                            _ => {}
                        }
                        text.push_str(&iban);
                    }
                    1 => text.push_str(checksums::IBAN_LENGTHS[next(checksums::IBAN_LENGTHS.len())].0),
                    _ => text.push_str(pieces[next(pieces.len())]),
                }
            }
            for at in 0..=text.len() {
                let input = Input::new(&text).range(at..).anchored(Anchored::Yes);
                let expected = text.is_char_boundary(at).then(|| re.find(input)).flatten().map(|m| m.end());
                assert_eq!(iban_match_at(text.as_bytes(), at), expected, "round {round}, at {at}: {text:?}");
                matched += usize::from(expected.is_some());
            }
        }
        assert!(matched > 100, "the text must hold matches: {matched}");
    }

    #[test]
    fn a_card_number_inside_an_iban_is_refused_only_there() {
        let text = "x AT63 4190 4300 2345 7329 y AT634190430023457329 z 4190 4300 2345 7329 é";
        let spans: Vec<usize> = text.match_indices("4190").map(|(at, _)| at).collect();
        assert!(inside_an_iban(text, spans[0], spans[0] + 19), "grouped IBAN");
        assert!(inside_an_iban(text, spans[1], spans[1] + 16), "compact IBAN");
        assert!(!inside_an_iban(text, spans[2], spans[2] + 19), "on its own");
        // An IBAN that fails mod-97 does not hide the card.
        let bad = "AT64 4190 4300 2345 7329";
        assert!(!checksums::iban(bad));
        assert!(!inside_an_iban(bad, 5, 24));
        // Beyond the 40-byte reach: the IBAN starts too far before the candidate.
        let long = grouped(&make_iban("LC", 32));
        assert!(inside_an_iban(&long, 35, 39));
        assert!(!inside_an_iban(&long, 41, 42));
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
        // Every example on Microsoft's "Sensitive information type functions" page (Func_expiration_date).
        for example in [
            "01/11",
            "1/11",
            "01/2011",
            "1/2011",
            "01-22",
            "1-11",
            "01-2000",
            "1-2000",
            "Jan-2010",
            "january-2010",
            "Jan-10",
            "january-10",
            "january 2010",
            "Jan 2010",
            "january 10",
            "Jan 10",
            "january2010",
            "Jan2010",
            "january10",
            "Jan10",
            "january/2010",
            "Jan/2010",
            "january/10",
            "Jan/10",
        ] {
            assert_eq!(find_valid("Func_expiration_date", &format!("valid thru {example} only")), [example]);
        }
        // And its Func_us_date and Func_eu_date examples, with month names in the languages it lists.
        for example in
            ["December 2, 2016", "Dec 2, 2016", "dec 02 2016", "12/2/2016", "12/02/16", "Dec-2-2016", "12-2-16"]
        {
            assert_eq!(find_valid("Func_us_date", &format!("on {example} we")), [example]);
        }
        for example in [
            "2 Dec 2016",
            "02 dec 2016",
            "2 Dec 16",
            "2/12/2016",
            "02/12/16",
            "2-Dec-2016",
            "2-12-16",
            "2 Dez 2016",
            "2 Mei 2016",
            "2-Dez-2016",
            "5 März 2021",
            "3 févr. 2020",
            "4 maggio 2019",
            "6 setembro 2018",
            "7 septiembre 2017",
        ] {
            assert_eq!(find_valid("Func_eu_date", &format!("le {example} nous")), [example]);
        }
        assert_eq!(find_valid("Func_email_address", "mail jane.doe@contoso.com."), ["jane.doe@contoso.com"]);
        assert_eq!(find_valid("Func_email_address", "a..b@contoso.com"), Vec::<String>::new());
        assert!(lookup("func_SSN").is_some());
        assert!(lookup("Func_japan_passport").is_none());
    }
}
