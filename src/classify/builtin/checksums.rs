//! Check-digit and issuance rules behind the built-in functions: Luhn, ISO 13616 mod-97, ABA routing, U.S. SSN
//! allocation, the Dutch BSN eleven-test.

/// Digits of `s`, ignoring every other character (separators).
pub fn digits(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

/// The Luhn (mod-10) check used by payment card numbers.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card numbers published by payment networks and processors for testing; Purview does not report them. The list
/// and its sources: `test-card-numbers.txt` beside this file.
const TEST_CARD_NUMBERS_FILE: &str = include_str!("test-card-numbers.txt");

/// The numbers of [`TEST_CARD_NUMBERS_FILE`].
pub static TEST_CARD_NUMBERS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    TEST_CARD_NUMBERS_FILE
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .collect()
});

/// True when every digit is the same one (1111…, 0000…): never a real identifier.
pub fn all_digits_same(digits: &[u8]) -> bool {
    digits.first().is_some_and(|first| digits.iter().all(|d| d == first))
}

/// A payment card number: 14–19 digits, Luhn-valid, not all one digit, optionally not a well-known test number.
pub fn credit_card(value: &str, ignore_test_numbers: bool) -> bool {
    let d = digits(value);
    if !(14..=19).contains(&d.len()) || all_digits_same(&d) || !luhn(&d) {
        return false;
    }
    if ignore_test_numbers {
        let s: String = d.iter().map(|d| char::from(b'0' + d)).collect();
        return !TEST_CARD_NUMBERS.contains(&s.as_str());
    }
    true
}

/// A U.S. Social Security Number by the SSA's rules: no area 000, 666 or 900–999, no group 00, no serial 0000.
/// Before randomization (June 2011) areas above 772 and 734–749 were never issued; `randomized` allows them.
pub fn ssn(value: &str, randomized: bool) -> bool {
    let d = digits(value);
    if d.len() != 9 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |n, &x| n * 10 + u32::from(x));
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    if !randomized && (area > 772 || (734..=749).contains(&area)) {
        return false;
    }
    // Numbers the SSA voided after they were printed in advertising.
    !matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999))
}

/// IBAN lengths per country (ISO 13616 registry).
pub const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// An International Bank Account Number: known country, that country's length, and ISO 7064 mod-97 = 1.
pub fn iban(value: &str) -> bool {
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_uppercase()).collect();
    if compact.len() < 4 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let country = std::str::from_utf8(&compact[..2]).unwrap_or("");
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if compact.len() != len || !compact[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    // Move the first four characters to the end, letters become 10..35, then the remainder mod 97 must be 1.
    let rem = compact[4..].iter().chain(&compact[..4]).fold(0u32, |rem, &c| {
        if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A' + 10)) % 97
        }
    });
    rem == 1
}

/// An ABA routing transit number: 9 digits, a Federal Reserve prefix, and the 3-7-1 weighted checksum.
pub fn aba_routing(value: &str) -> bool {
    let d = digits(value);
    if d.len() != 9 || all_digits_same(&d) {
        return false;
    }
    let prefix = d[0] * 10 + d[1];
    if !matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) {
        return false;
    }
    let sum: u32 = d.iter().enumerate().map(|(i, &x)| u32::from(x) * [3, 7, 1][i % 3]).sum();
    sum.is_multiple_of(10)
}

/// A Dutch citizen service number (BSN): 9 digits passing the eleven-test (weights 9..2, then -1).
pub fn netherlands_bsn(value: &str) -> bool {
    let d = digits(value);
    if d.len() != 9 || all_digits_same(&d) {
        return false;
    }
    let sum: i32 = d.iter().enumerate().map(|(i, &x)| i32::from(x) * if i == 8 { -1 } else { 9 - i as i32 }).sum();
    sum % 11 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_published_examples() {
        assert!(luhn(&digits("79927398713")));
        assert!(!luhn(&digits("79927398710")));
        assert!(credit_card("4485 3647 3952 7352", true));
        assert!(credit_card("4532-0151-1283-0366", true));
        assert!(!credit_card("4532-0151-1283-0367", true));
        assert!(credit_card("378282246310005", false));
        assert!(!credit_card("378282246310005", true), "published Amex test number");
        assert!(!credit_card("4111111111111111", true));
        assert!(credit_card("4111111111111111", false));
        assert!(!credit_card("0000000000000000", false));
        assert!(!credit_card("4242", false), "too short");
    }

    #[test]
    fn ssn_allocation_rules() {
        assert!(ssn("123-45-6789", false));
        assert!(ssn("536-90-4399", false));
        assert!(!ssn("000-12-3456", true));
        assert!(!ssn("666-12-3456", true));
        assert!(!ssn("900-12-3456", true));
        assert!(!ssn("123-00-4567", true));
        assert!(!ssn("123-45-0000", true));
        assert!(!ssn("078-05-1120", true), "Woolworth wallet card");
        assert!(!ssn("773-12-3456", false));
        assert!(ssn("773-12-3456", true), "issued after randomization");
        assert!(!ssn("12345678", true));
    }

    #[test]
    fn published_test_numbers_are_ignored_only_when_asked() {
        assert!(TEST_CARD_NUMBERS.len() >= 30);
        for n in TEST_CARD_NUMBERS.iter() {
            assert!(n.bytes().all(|b| b.is_ascii_digit()), "{n}");
            if (14..=19).contains(&n.len()) {
                assert!(credit_card(n, false), "{n} is Luhn-valid");
                assert!(!credit_card(n, true), "{n} is ignored by default");
            }
        }
        for n in ["4242424242424242", "4005519200000004", "3088000000000017", "370000000000002"] {
            assert!(TEST_CARD_NUMBERS.contains(&n), "{n}");
        }
        assert!(credit_card("4485364739527352", true), "a card not in the list is reported");
    }

    #[test]
    fn iban_mod97_and_length() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(iban("NL91ABNA0417164300"));
        assert!(iban("FR1420041010050500013M02606"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"), "check digits wrong");
        assert!(!iban("DE8937040044053201300"), "one character short for DE");
        assert!(!iban("XX89370400440532013000"), "unknown country");
    }

    #[test]
    fn aba_checksum() {
        assert!(aba_routing("011000015"));
        assert!(aba_routing("121000358"));
        assert!(aba_routing("0110-0001-5"));
        assert!(!aba_routing("011000016"));
        assert!(!aba_routing("991000015"), "prefix not a Federal Reserve district");
    }

    #[test]
    fn bsn_eleven_test() {
        assert!(netherlands_bsn("111222333"));
        assert!(netherlands_bsn("123456782"));
        assert!(!netherlands_bsn("123456789"));
    }
}
