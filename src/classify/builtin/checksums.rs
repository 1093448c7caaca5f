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

/// One range of card numbers a card network issues: the numbers whose first digits, read as a number of as many
/// digits as `first` has, lie in `first..=last`, and whose length is one of `lengths`.
pub struct CardRange {
    pub brand: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub lengths: &'static [usize],
}

const L14_19: &[usize] = &[14, 15, 16, 17, 18, 19];
const L16_19: &[usize] = &[16, 17, 18, 19];

/// The card brands Microsoft names for Func_credit_card ("Credit card number" entity definition,
/// https://learn.microsoft.com/purview/sit-defn-credit-card-number, read 2026-11-30: "Must match number formats
/// used by major credit card companies … Visa, MasterCard, Discover Card, JCB, American Express, gift cards,
/// diner's cards, Rupay, and China UnionPay"), with the issuer identification number (IIN) ranges and lengths the
/// networks publish, as collected in the IIN table of Wikipedia's "Payment card number" article (read 2026-11-30).
/// Ranges that overlap (RuPay's 65 and 353 lie in Discover's and JCB's) are listed as each network publishes them;
/// the first row that holds names the brand. Microsoft's format is 14–19 digits, so Visa's 13-digit numbers, listed
/// here as Visa issues them, are never reported. Gift cards have no range of their own (those on a card network
/// carry its IIN); Maestro, Mir and other brands Microsoft does not name are not cards to Func_credit_card.
pub const CARD_RANGES: &[CardRange] = &[
    CardRange { brand: "Visa", first: "4", last: "4", lengths: &[13, 16, 19] },
    CardRange { brand: "Mastercard", first: "51", last: "55", lengths: &[16] },
    CardRange { brand: "Mastercard", first: "2221", last: "2720", lengths: &[16] },
    CardRange { brand: "American Express", first: "34", last: "34", lengths: &[15] },
    CardRange { brand: "American Express", first: "37", last: "37", lengths: &[15] },
    CardRange { brand: "Discover", first: "6011", last: "6011", lengths: L16_19 },
    CardRange { brand: "Discover", first: "644", last: "649", lengths: L16_19 },
    CardRange { brand: "Discover", first: "65", last: "65", lengths: L16_19 },
    CardRange { brand: "Discover", first: "622126", last: "622925", lengths: L16_19 },
    CardRange { brand: "JCB", first: "3528", last: "3589", lengths: L16_19 },
    CardRange { brand: "Diners Club", first: "300", last: "305", lengths: L14_19 },
    CardRange { brand: "Diners Club", first: "3095", last: "3095", lengths: L14_19 },
    CardRange { brand: "Diners Club", first: "36", last: "36", lengths: L14_19 },
    CardRange { brand: "Diners Club", first: "38", last: "39", lengths: L14_19 },
    CardRange { brand: "UnionPay", first: "62", last: "62", lengths: L16_19 },
    CardRange { brand: "RuPay", first: "60", last: "60", lengths: &[16] },
    CardRange { brand: "RuPay", first: "65", last: "65", lengths: &[16] },
    CardRange { brand: "RuPay", first: "81", last: "82", lengths: &[16] },
    CardRange { brand: "RuPay", first: "508", last: "508", lengths: &[16] },
    CardRange { brand: "RuPay", first: "353", last: "353", lengths: &[16] },
    CardRange { brand: "RuPay", first: "356", last: "356", lengths: &[16] },
];

/// The brand of [`CARD_RANGES`] whose range and length `digits` has, if any.
pub fn card_brand(digits: &[u8]) -> Option<&'static str> {
    CARD_RANGES
        .iter()
        .find(|r| {
            let n = r.first.len();
            let prefix: Vec<u8> = digits.iter().take(n).map(|d| b'0' + d).collect();
            r.lengths.contains(&digits.len())
                && prefix.len() == n
                && (r.first.as_bytes()..=r.last.as_bytes()).contains(&prefix.as_slice())
        })
        .map(|r| r.brand)
}

/// A payment card number: 14–19 digits, the range and length of a brand of [`CARD_RANGES`], Luhn-valid, not all
/// one digit, optionally not a well-known test number.
pub fn credit_card(value: &str, ignore_test_numbers: bool) -> bool {
    let d = digits(value);
    if !(14..=19).contains(&d.len()) || all_digits_same(&d) || card_brand(&d).is_none() || !luhn(&d) {
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

    /// `prefix` followed by filler digits, `len` digits in all with the Luhn check digit last.
    fn card(prefix: &str, len: usize) -> String {
        let mut body: Vec<u8> = digits(prefix);
        let filler = [7, 3, 9, 1, 4, 8, 2, 6, 5, 0];
        let mut i = 0;
        while body.len() < len - 1 {
            body.push(filler[i % filler.len()]);
            i += 1;
        }
        let check = (0..10).find(|&c| luhn(&[body.as_slice(), &[c]].concat())).unwrap_or_default();
        body.push(check);
        body.iter().map(|d| char::from(b'0' + d)).collect()
    }

    #[test]
    fn every_brand_range_and_length_and_both_sides_of_each_boundary() {
        let cases: &[(&str, usize, Option<&str>)] = &[
            ("4", 16, Some("Visa")),
            ("4", 19, Some("Visa")),
            ("4", 15, None),
            ("4", 17, None),
            ("4", 18, None),
            ("51", 16, Some("Mastercard")),
            ("55", 16, Some("Mastercard")),
            ("50", 16, None),
            ("56", 16, None),
            ("51", 15, None),
            ("55", 17, None),
            ("2221", 16, Some("Mastercard")),
            ("2720", 16, Some("Mastercard")),
            ("2220", 16, None),
            ("2721", 16, None),
            ("2221", 19, None),
            ("34", 15, Some("American Express")),
            ("37", 15, Some("American Express")),
            ("33", 15, None),
            ("35", 15, None),
            ("34", 16, None),
            ("37", 14, None),
            ("6011", 16, Some("Discover")),
            ("6011", 19, Some("Discover")),
            ("6010", 17, None),
            ("6012", 17, None),
            ("644", 16, Some("Discover")),
            ("649", 19, Some("Discover")),
            ("643", 17, None),
            ("65", 16, Some("Discover")),
            ("65", 19, Some("Discover")),
            ("66", 17, None),
            ("6011", 15, None),
            ("622126", 19, Some("Discover")),
            ("622925", 16, Some("Discover")),
            ("622125", 19, Some("UnionPay")),
            ("622926", 16, Some("UnionPay")),
            ("3528", 16, Some("JCB")),
            ("3589", 19, Some("JCB")),
            ("3527", 16, None),
            ("3590", 16, None),
            ("3528", 15, None),
            ("300", 14, Some("Diners Club")),
            ("305", 19, Some("Diners Club")),
            ("306", 14, None),
            ("3095", 14, Some("Diners Club")),
            ("3094", 14, None),
            ("3096", 14, None),
            ("36", 14, Some("Diners Club")),
            ("36", 16, Some("Diners Club")),
            ("38", 14, Some("Diners Club")),
            ("39", 19, Some("Diners Club")),
            ("35", 14, None),
            ("62", 16, Some("UnionPay")),
            ("62", 19, Some("UnionPay")),
            ("61", 16, None),
            ("63", 16, None),
            ("62", 15, None),
            ("60", 16, Some("RuPay")),
            ("60", 17, None),
            ("81", 16, Some("RuPay")),
            ("82", 16, Some("RuPay")),
            ("80", 16, None),
            ("83", 16, None),
            ("81", 17, None),
            ("508", 16, Some("RuPay")),
            ("507", 16, None),
            ("509", 16, None),
            ("353", 16, Some("JCB")),
            ("1", 15, None),
            ("7", 16, None),
            ("9", 16, None),
        ];
        for &(prefix, len, brand) in cases {
            let n = card(prefix, len);
            assert_eq!(n.len(), len);
            assert_eq!(card_brand(&digits(&n)), brand, "{n}");
            assert_eq!(credit_card(&n, true), brand.is_some(), "{n}");
            // Grouped as people write them, the same.
            let grouped: String =
                n.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>().join(" ");
            assert_eq!(credit_card(&grouped, true), brand.is_some(), "{grouped}");
        }
        // Visa's 13-digit numbers are Visa's, but shorter than Microsoft's 14 to 19 digits.
        assert_eq!(card_brand(&digits(&card("4", 13))), Some("Visa"));
        assert!(!credit_card(&card("4", 13), true));
        // Every range, at its first and last prefix and every length it allows.
        for r in CARD_RANGES {
            assert_eq!(r.first.len(), r.last.len(), "{}", r.brand);
            assert!(r.first <= r.last, "{}", r.brand);
            for &len in r.lengths {
                for prefix in [r.first, r.last] {
                    let n = card(prefix, len);
                    assert!(card_brand(&digits(&n)).is_some(), "{} {n}", r.brand);
                    assert_eq!(credit_card(&n, true), (14..=19).contains(&len), "{} {n}", r.brand);
                }
            }
        }
        // Luhn-valid and 16 digits, but the first digits no brand Microsoft names issues.
        assert!(luhn(&digits("7500 8104 2544 7549")));
        assert!(!credit_card("7500 8104 2544 7549", true));
        assert!(!credit_card("1904 3002 3457 3201", true), "UATP (1), not a brand Microsoft names");
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
            assert!(luhn(&digits(n)), "{n} is Luhn-valid");
            assert!(!credit_card(n, true), "{n} is ignored by default");
            // Those of a brand Microsoft names are cards when the settings keep test numbers (Dankort 5019,
            // Switch 6331 and Bankcard 5610 are not such a brand; 13-digit Visa is shorter than Microsoft's 14).
            let brand = (14..=19).contains(&n.len()) && card_brand(&digits(n)).is_some();
            assert_eq!(credit_card(n, false), brand, "{n}");
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
