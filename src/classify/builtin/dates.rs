//! Date validators for Func_us_date, Func_eu_date, Func_expiration_date and Purview's DateSimple: a match is only
//! a date if that day exists.

/// Month names and abbreviations, lower-case, in the languages Microsoft's date functions read: English, French,
/// German, Spanish, Italian, Portuguese and Dutch. Index = month - 1.
const MONTH_NAMES: [&[&str]; 12] = [
    &[
        "january", "jan", "janvier", "janv", "januar", "jän", "jänner", "enero", "ene", "gennaio", "gen", "janeiro",
        "januari",
    ],
    &[
        "february",
        "feb",
        "février",
        "fevrier",
        "févr",
        "fevr",
        "februar",
        "febrero",
        "febbraio",
        "fevereiro",
        "fev",
        "februari",
    ],
    &["march", "mar", "mars", "märz", "maerz", "mrz", "marzo", "março", "marco", "maart", "mrt"],
    &["april", "apr", "avril", "avr", "abril", "abr", "aprile"],
    &["may", "mai", "mayo", "maggio", "mag", "maio", "mei"],
    &["june", "jun", "juin", "juni", "junio", "giugno", "giu", "junho"],
    &["july", "jul", "juillet", "juil", "juli", "julio", "luglio", "lug", "julho"],
    &["august", "aug", "août", "aout", "agosto", "ago", "augustus"],
    &["september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set", "setembro"],
    &["october", "oct", "octobre", "oktober", "okt", "octubre", "ottobre", "ott", "outubro", "out"],
    &["november", "nov", "novembre", "noviembre", "novembro"],
    &["december", "dec", "décembre", "decembre", "déc", "dezember", "dez", "diciembre", "dic", "dicembre", "dezembro"],
];

/// Regex fragment for a month name or abbreviation of [`MONTH_NAMES`] (case-insensitive), written as a trie:
/// names that share a beginning share it (`j(?:an(?:uar(?:y|i)?|v(?:ier)?|eiro)?|…)`). The same language as one
/// branch per name with half the letters, so every FSRM invocation parses and compiles it (three automata: the
/// single pass forwards and backwards, the position search) in ~2.9 M fewer instructions. It is a constant, not
/// built at start-up, for the same reason; `tests::month_pattern_is_the_trie_of_the_names` says what to write
/// here when a name is added. Which name wins where two could start a match never matters: every pattern that
/// uses the fragment wants a non-letter (`.`, `,`, a space, `/`, `-`) or a digit right after the name, so of two
/// names where one begins the other at most one can be followed by what the pattern needs.
pub const MONTH_PATTERN: &str = "(?i:(?:se(?:p(?:t(?:iembre|emb(?:er|re))?)?|t(?:iembre|tembre|embro)?)|f(?:e(?:v(?:ereiro|r(?:ier)?)?|b(?:r(?:uar(?:y|i)?|ero)|braio)?)|évr(?:ier)?)|nov(?:iembre|emb(?:er|r(?:e|o)))?|d(?:ic(?:iembre|embre)?|e(?:c(?:emb(?:er|re))?|z(?:emb(?:er|ro))?)|éc(?:embre)?)|a(?:ug(?:ust(?:us)?)?|pr(?:ile?)?|go(?:sto)?|vr(?:il)?|br(?:il)?|o(?:ût|ut))|j(?:an(?:uar(?:y|i)?|v(?:ier)?|eiro)?|u(?:i(?:l(?:let)?|n)|n(?:io?|ho|e)?|l(?:io?|ho|y)?)|än(?:ner)?)|g(?:en(?:naio)?|iu(?:gno)?)|o(?:ct(?:ob(?:er|re)|ubre)?|kt(?:ober)?|tt(?:obre)?|ut(?:ubro)?)|m(?:a(?:g(?:gio)?|r(?:c(?:h|o)|zo|ço|s)?|erz|art|yo?|io?)|ärz|r(?:z|t)|ei)|lug(?:lio)?|ene(?:ro)?))";

/// [`MONTH_NAMES`] as characters, for writing their trie.
pub(super) fn month_name_chars() -> Vec<Vec<char>> {
    MONTH_NAMES.iter().flat_map(|m| m.iter()).map(|n| n.chars().collect()).collect()
}

/// A first letter and the distinct rests of the words that begin with it.
pub(super) type TrieBranch<'a> = (char, Vec<&'a [char]>);

/// One level of the trie of `words` (the alternation with shared beginnings factored out), as [`MONTH_PATTERN`]
/// writes it and `trees` builds it: whether a word ends here, and per first letter the distinct rests of the words
/// that begin with it, longer branches first.
pub(super) fn trie_level<'a>(words: &[&'a [char]]) -> (bool, Vec<TrieBranch<'a>>) {
    let mut ends_here = false;
    let mut branches: Vec<TrieBranch<'a>> = Vec::new();
    for w in words {
        let Some((&first, rest)) = w.split_first() else {
            ends_here = true;
            continue;
        };
        match branches.iter_mut().find(|(c, _)| *c == first) {
            Some((_, rests)) if !rests.contains(&rest) => rests.push(rest),
            Some(_) => {}
            None => branches.push((first, vec![rest])),
        }
    }
    branches.sort_by_key(|(_, rests)| std::cmp::Reverse(rests.iter().map(|r| r.len()).max()));
    (ends_here, branches)
}

/// Whether day `d` of month `m` exists in year `y`.
pub fn valid_ymd(y: u32, m: u32, d: u32) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Two-digit years: 00–49 are 2000–2049, 50–99 are 1950–1999.
fn full_year(y: u32, digits: usize) -> u32 {
    match digits {
        2 if y < 50 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    }
}

fn month_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTH_NAMES.iter().position(|names| names.contains(&w.as_str())).map(|i| i as u32 + 1)
}

/// Split a date into its parts: runs of digits, and runs of letters (month names).
fn parts(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut kind = 0u8;
    for (i, c) in value.char_indices() {
        let k = if c.is_ascii_digit() {
            1
        } else if c.is_alphabetic() {
            2
        } else {
            0
        };
        if k != kind {
            if let Some(s) = start.take() {
                out.push(&value[s..i]);
            }
            if k != 0 {
                start = Some(i);
            }
            kind = k;
        }
    }
    if let Some(s) = start {
        out.push(&value[s..]);
    }
    out
}

/// Parse `value` as day, month and year in the given `order` of `'d'`, `'m'`, `'y'` parts.
fn check_order(value: &str, order: [char; 3]) -> bool {
    let p = parts(value);
    if p.len() != 3 {
        return false;
    }
    let (mut d, mut m, mut y) = (0, 0, 0);
    for (part, which) in p.iter().zip(order) {
        let n = if part.as_bytes()[0].is_ascii_digit() {
            match part.parse::<u32>() {
                Ok(n) => n,
                Err(_) => return false,
            }
        } else if which == 'm' {
            match month_number(part) {
                Some(n) => n,
                None => return false,
            }
        } else {
            return false;
        };
        match which {
            'd' => d = n,
            'm' => m = n,
            _ => y = full_year(n, part.len()),
        }
    }
    valid_ymd(y, m, d)
}

/// A U.S. date: month before day (`12/31/2024`, `December 31, 2024`).
pub fn us_date(value: &str) -> bool {
    check_order(value, ['m', 'd', 'y'])
}

/// A European date: day before month (`31.12.2024`, `31 December 2024`).
pub fn eu_date(value: &str) -> bool {
    check_order(value, ['d', 'm', 'y'])
}

/// A card expiration date: a month (1–12 or a name) and a year of 2 or 4 digits (`12/27`, `1/28`, `12/2027`,
/// `Jan 2010`).
pub fn expiration_date(value: &str) -> bool {
    let p = parts(value);
    let [m, y] = p.as_slice() else { return false };
    let month = if m.as_bytes()[0].is_ascii_digit() { m.parse::<u32>().ok() } else { month_number(m) };
    month.is_some_and(|m| (1..=12).contains(&m)) && (y.len() == 2 || y.len() == 4)
}

/// Whether the candidate `text[start..end]` is part of a longer date or number: a digit, or a date separator
/// followed by a digit, right before or after it (the `03-14` of `2026-03-14`, the `12/31` of `12/31/2024`).
pub fn part_of_a_longer_date(text: &str, start: usize, end: usize) -> bool {
    let is_sep = |c: char| matches!(c, '-' | '/' | '.');
    let mut before = text[..start].chars().rev();
    let mut after = text[end..].chars();
    let touches = |first: Option<char>, second: Option<char>| match first {
        Some(c) if c.is_ascii_digit() => true,
        Some(c) if is_sep(c) => second.is_some_and(|d| d.is_ascii_digit()),
        _ => false,
    };
    let (b1, b2) = (before.next(), before.next());
    let (a1, a2) = (after.next(), after.next());
    touches(b1, b2) || touches(a1, a2)
}

/// Purview's DateSimple validator: the digits of the match read in `pattern` order (e.g. `DDMMYYYY`, `YYMMDD`).
pub fn date_simple(value: &str, pattern: &str) -> bool {
    let digits: Vec<u32> = value.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0')).collect();
    let pattern = pattern.to_ascii_uppercase();
    if digits.len() != pattern.len() {
        return false;
    }
    let (mut d, mut m, mut y, mut ylen) = (0, 0, 0, 0);
    for (c, n) in pattern.chars().zip(digits) {
        match c {
            'D' => d = d * 10 + n,
            'M' => m = m * 10 + n,
            'Y' => {
                y = y * 10 + n;
                ylen += 1;
            }
            _ => return false,
        }
    }
    valid_ymd(full_year(y, ylen), m, d)
}

/// Whether a DateSimple `Pattern` parameter is one this reader understands.
pub fn date_simple_pattern_ok(pattern: &str) -> bool {
    let p = pattern.to_ascii_uppercase();
    ["DDMMYYYY", "MMDDYYYY", "YYYYDDMM", "YYYYMMDD", "DDMMYY", "MMDDYY", "YYDDMM", "YYMMDD"].contains(&p.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alternation of `words` with shared beginnings factored out: longer branches first, then the end of a
    /// word (a greedy `?`).
    fn trie(words: &[&[char]]) -> String {
        let (ends_here, branches) = trie_level(words);
        let alternatives: Vec<String> = branches
            .iter()
            .map(|(c, rests)| format!("{}{}", regex_syntax::escape(c.encode_utf8(&mut [0; 4])), trie(rests)))
            .collect();
        match (alternatives.as_slice(), ends_here) {
            ([], _) => String::new(),
            ([one], false) => one.clone(),
            ([one], true) if one.chars().count() == 1 => format!("{one}?"),
            (_, false) => format!("(?:{})", alternatives.join("|")),
            (_, true) => format!("(?:{})?", alternatives.join("|")),
        }
    }

    #[test]
    fn month_pattern_is_the_trie_of_the_names() {
        let names = month_name_chars();
        let names: Vec<&[char]> = names.iter().map(Vec::as_slice).collect();
        assert_eq!(MONTH_PATTERN, format!("(?i:{})", trie(&names)), "MONTH_PATTERN must be the right-hand side");
    }

    /// The trie is the language of one branch per name: the same answer on every name, in every case, on every
    /// beginning of one, on a name with a letter more before or after, and on strings of the names' letters.
    #[test]
    fn month_pattern_matches_exactly_the_names() {
        let names: Vec<&str> = MONTH_NAMES.iter().flat_map(|m| m.iter().copied()).collect();
        let flat = regex::Regex::new(&format!("^(?i:{})$", names.join("|"))).unwrap();
        let trie = regex::Regex::new(&format!("^{MONTH_PATTERN}$")).unwrap();
        let letters: Vec<char> = {
            let mut l: Vec<char> = names.iter().flat_map(|n| n.chars()).collect();
            l.sort_unstable();
            l.dedup();
            l
        };
        let mut inputs: Vec<String> = Vec::new();
        for n in &names {
            let chars: Vec<char> = n.chars().collect();
            for cut in 0..=chars.len() {
                inputs.push(chars[..cut].iter().collect());
            }
            inputs.push(n.to_uppercase());
            inputs.push(chars[0].to_uppercase().chain(chars[1..].iter().copied()).collect());
            for l in &letters {
                inputs.push(format!("{n}{l}"));
                inputs.push(format!("{l}{n}"));
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let s: String =
                (0..seed % 9).map(|k| letters[((seed >> (7 * k)) % letters.len() as u64) as usize]).collect();
            inputs.push(s);
        }
        let mut matched = 0;
        for input in &inputs {
            assert_eq!(trie.is_match(input), flat.is_match(input), "{input:?}");
            matched += usize::from(flat.is_match(input));
        }
        assert!(matched > names.len() * 3, "the inputs include the names in three cases ({matched})");
    }

    #[test]
    fn us_and_eu_order() {
        assert!(us_date("12/31/2024"));
        assert!(!us_date("31/12/2024"));
        assert!(eu_date("31.12.2024"));
        assert!(eu_date("31-12-24"));
        assert!(!eu_date("12/31/2024"));
        assert!(us_date("February 29, 2024"));
        assert!(!us_date("February 29, 2023"), "not a leap year");
        assert!(us_date("Sept. 5, 2021"));
        assert!(eu_date("5 January 2020"));
        assert!(!eu_date("5 Foo 2020"));
    }

    #[test]
    fn microsofts_documented_examples() {
        for d in
            ["2-Dec-2016", "2 Dec 16", "5-May-2021", "2 décembre 2016", "5. März 2021", "2 dic 2016", "3 maart 2020"]
        {
            assert!(eu_date(d), "{d}");
        }
        for d in ["Dec-2-2016", "December 2, 2016", "Dec 2 16", "mayo 5 2021"] {
            assert!(us_date(d), "{d}");
        }
        for d in ["1/28", "01/28", "Jan 2010", "January 2010", "janv. 2010", "12-2027"] {
            assert!(expiration_date(d), "{d}");
        }
        assert!(!eu_date("31 Foo 2016"));
        assert!(!expiration_date("13/28"));
        let iso = "shipped 2026-03-14 and 12/31/2024";
        assert!(part_of_a_longer_date(iso, 13, 18), "03-14 of an ISO date");
        assert!(part_of_a_longer_date(iso, 23, 28), "12/31 of a U.S. date");
        assert!(!part_of_a_longer_date("valid thru 1/28.", 11, 15));
    }

    #[test]
    fn expiration_and_date_simple() {
        assert!(expiration_date("09/27"));
        assert!(expiration_date("12/2030"));
        assert!(!expiration_date("13/27"));
        assert!(date_simple("31122024", "DDMMYYYY"));
        assert!(!date_simple("31132024", "DDMMYYYY"));
        assert!(date_simple("240229", "YYMMDD"));
        assert!(!date_simple("230229", "YYMMDD"));
    }
}
