//! The syntax trees of the built-in functions' two largest patterns, built with regex-syntax's own constructors
//! instead of parsed. Every FSRM invocation needs them, and parsing was a quarter of loading the default rules:
//! ~170 µs for the 1 KiB of IBAN shapes and ~200 µs for the expiration date with its month names in seven
//! languages (the parser builds and translates a syntax tree with spans, and folds the case of each letter of the
//! names); building the trees takes a fraction of that. Each is exactly the tree the parser gives for the
//! function's pattern, in the dialect rule patterns are parsed in (tests below); the pattern stays the function's
//! definition (shown by `rules check`, used by any other engine).

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, Look, Repetition};

use super::{EXPIRATION_SOURCE, IBAN_SOURCE, dates, iban_shapes};

/// The tree of `source` when it is the pattern of a function built here.
pub(crate) fn tree_of(source: &str) -> Option<Hir> {
    if source == IBAN_SOURCE.as_str() {
        Some(iban())
    } else if source == EXPIRATION_SOURCE.as_str() {
        Some(expiration_date())
    } else {
        None
    }
}

/// `(?-u:\b)(?:(?:AD|CZ|…)[0-9]{2}(?: ?[A-Z0-9]{4}){5}|…)(?-u:\b)` ([`super::iban_pattern`]).
pub(super) fn iban() -> Hir {
    let group = |n: u32| Hir::concat(vec![optional(Hir::literal(*b" ")), exactly(class(&[('0', '9'), ('A', 'Z')]), n)]);
    let branches = iban_shapes()
        .into_iter()
        .map(|((groups, tail), countries)| {
            let countries = Hir::alternation(countries.iter().map(|c| Hir::literal(c.as_bytes())).collect());
            let mut shape = vec![countries, exactly(digit(), 2), exactly(group(4), groups as u32)];
            if tail > 0 {
                shape.push(group(tail as u32));
            }
            Hir::concat(shape)
        })
        .collect();
    bounded(Hir::alternation(branches))
}

/// `(?-u:\b)(?:(?:0?[1-9]|1[0-2]) ?[/-] ?YEAR|MONTH_NAME\.?[ /-]?YEAR)(?-u:\b)` ([`EXPIRATION_SOURCE`]).
fn expiration_date() -> Hir {
    let year = || Hir::alternation(vec![exactly(digit(), 4), exactly(digit(), 2)]);
    let month_number = Hir::alternation(vec![
        Hir::concat(vec![optional(Hir::literal(*b"0")), class(&[('1', '9')])]),
        Hir::concat(vec![Hir::literal(*b"1"), class(&[('0', '2')])]),
    ]);
    let space = || optional(Hir::literal(*b" "));
    let numeric = Hir::concat(vec![month_number, space(), class(&[('/', '/'), ('-', '-')]), space(), year()]);
    let names = dates::month_name_chars();
    let names: Vec<&[char]> = names.iter().map(Vec::as_slice).collect();
    let named = Hir::concat(vec![
        month_names(&names),
        optional(Hir::literal(*b".")),
        optional(class(&[(' ', ' '), ('/', '/'), ('-', '-')])),
        year(),
    ]);
    bounded(Hir::alternation(vec![numeric, named]))
}

/// The trie of `words`, each letter case-insensitive: the tree of [`dates::MONTH_PATTERN`], which writes the same
/// trie level by level ([`dates::trie_level`]; `tests::month_pattern_is_the_trie_of_the_names` there).
fn month_names(words: &[&[char]]) -> Hir {
    let (ends_here, branches) = dates::trie_level(words);
    let mut alternatives: Vec<Hir> = branches
        .iter()
        .map(|(c, rests)| match rests.as_slice() {
            [[]] => any_case(*c),
            _ => Hir::concat(vec![any_case(*c), month_names(rests)]),
        })
        .collect();
    let trie = match alternatives.len() {
        1 => alternatives.remove(0),
        _ => Hir::alternation(alternatives),
    };
    if ends_here { optional(trie) } else { trie }
}

/// A letter as `(?i)` gives it: the class of its simple case foldings (a literal when it has none).
fn any_case(c: char) -> Hir {
    let mut letter = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    letter.case_fold_simple();
    Hir::class(Class::Unicode(letter))
}

fn bounded(h: Hir) -> Hir {
    Hir::concat(vec![Hir::look(Look::WordAscii), h, Hir::look(Look::WordAscii)])
}

fn digit() -> Hir {
    class(&[('0', '9')])
}

fn class(ranges: &[(char, char)]) -> Hir {
    Hir::class(Class::Unicode(ClassUnicode::new(ranges.iter().map(|&(a, b)| ClassUnicodeRange::new(a, b)))))
}

fn repeat(sub: Hir, min: u32, max: u32) -> Hir {
    Hir::repetition(Repetition { min, max: Some(max), greedy: true, sub: Box::new(sub) })
}

fn exactly(sub: Hir, n: u32) -> Hir {
    repeat(sub, n, n)
}

fn optional(sub: Hir) -> Hir {
    repeat(sub, 0, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::regex_dialect::parse_linear;

    #[test]
    fn each_tree_is_the_one_the_parser_gives_for_the_pattern() {
        for source in [IBAN_SOURCE.as_str(), EXPIRATION_SOURCE.as_str()] {
            let built = tree_of(source).unwrap();
            assert_eq!(built, parse_linear(source).unwrap(), "{source}");
        }
        assert!(tree_of(r"(?-u:\b)[0-9]{9}(?-u:\b)").is_none());
    }

    #[test]
    fn the_functions_use_these_patterns() {
        assert_eq!(super::super::lookup("Func_iban").unwrap().pattern, *IBAN_SOURCE);
        assert_eq!(super::super::lookup("Func_expiration_date").unwrap().pattern, *EXPIRATION_SOURCE);
    }
}
