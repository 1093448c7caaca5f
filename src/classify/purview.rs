//! Reader for Microsoft Purview sensitive-information-type rule packages (namespace
//! `http://schemas.microsoft.com/office/2011/mce`), as DLP teams write them.
//!
//! Read: `Entity` (`patternsProximity`, `recommendedConfidence`, `filters`), `Pattern` (`confidenceLevel`,
//! `filters`), `IdMatch`, `Match` (`minCount`, `uniqueResults`), `Any` (`minMatches`, `maxMatches`, nested),
//! `Regex` (`validators`), `Keyword`/`Group`/`Term` (`matchStyle`, `caseSensitive`), `Validators` (`Checksum`,
//! `DateSimple`), `Filters` (`AllDigitsSameFilter`, `TextMatchFilter`) and `LocalizedStrings` for entity names.
//!
//! What exists only in a Microsoft tenant (a keyword dictionary referenced by GUID, a `Func_*` not built in, a
//! reference to another entity) is reported by name as a warning; the patterns that need it are skipped and the
//! rest of the package loads.

use std::collections::HashMap;
use std::path::Path;

use super::builtin::{self, dates};
use super::diag::Diagnostics;
use super::model::*;
use super::regex_dialect;
use crate::xml::Element;

/// Proximity when an entity does not say (Purview's default).
const DEFAULT_PROXIMITY: u64 = 300;

/// Longest keyword term accepted; longer terms could straddle the engine's chunk overlap.
pub const MAX_TERM_LEN: usize = 1024;

/// Load the package rooted at `root` into `model`.
pub fn load(root: &Element, file: &Path, model: &mut Model, diags: &mut Diagnostics<'_>) {
    let Some(rules) = root.first_child("Rules") else {
        diags.error(root, "RulePackage has no <Rules> element");
        return;
    };
    let mut pkg = Package { file, rules, resolved: HashMap::new(), names: HashMap::new() };
    if let Some(strings) = rules.first_child("LocalizedStrings") {
        for res in strings.children_named("Resource") {
            let Some(id) = res.attr("idRef") else {
                continue;
            };
            let names: Vec<&Element> = res.children_named("Name").collect();
            let best = names.iter().find(|n| n.attr("default") == Some("true")).or(names.first());
            if let Some(n) = best {
                pkg.names.insert(id.to_ascii_lowercase(), n.text.trim().to_string());
            }
        }
    }
    for el in &rules.children {
        match el.name.as_str() {
            "Entity" => pkg.entity(el, model, diags),
            "Affinity" => diags.warning(
                el,
                format!("Affinity {} is not supported and is skipped", el.attr("id").unwrap_or("(no id)")),
            ),
            // Anything else is reported by the schema check (super::schema).
            _ => {}
        }
    }
}

struct Package<'a> {
    file: &'a Path,
    rules: &'a Element,
    /// idRef (lower-case) → detector, or None when it cannot be evaluated here (already reported).
    resolved: HashMap<String, Option<DetId>>,
    names: HashMap<String, String>,
}

impl<'a> Package<'a> {
    fn find(&self, kind: &str, id: &str) -> Option<&'a Element> {
        self.rules
            .children
            .iter()
            .filter(|e| e.name == kind)
            .find(|e| e.attr("id").is_some_and(|i| i.eq_ignore_ascii_case(id)))
    }

    fn entity(&mut self, el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) {
        let Some(id) = el.attr("id") else {
            diags.error(el, "Entity without an id");
            return;
        };
        let name = self.names.get(&id.to_ascii_lowercase()).cloned().unwrap_or_else(|| id.to_string());
        if let Some(other) = model.entity(id).map(|i| &model.entities[i])
            && other.id.eq_ignore_ascii_case(id)
        {
            diags.error(el, format!("entity {id} is already defined in {}", other.file.display()));
            return;
        }
        let proximity = match el.attr("patternsProximity") {
            None => DEFAULT_PROXIMITY,
            Some(p) => match p.trim().parse::<u64>() {
                Ok(p) if p <= 1_000_000 => p,
                _ => {
                    diags.error(
                        el,
                        format!("entity \"{name}\": patternsProximity \"{p}\" is not a number of characters"),
                    );
                    return;
                }
            },
        };
        let recommended = match confidence(el.attr("recommendedConfidence"), 75) {
            Some(c) => c,
            None => {
                diags.error(el, format!("entity \"{name}\": recommendedConfidence must be 0-100"));
                return;
            }
        };
        let filters = self.filters(el, model, diags);
        let mut patterns = Vec::new();
        for p in el.children_named("Pattern") {
            let Some(level) = confidence(p.attr("confidenceLevel"), 75) else {
                diags.error(p, format!("entity \"{name}\": confidenceLevel must be 0-100"));
                continue;
            };
            let Some(id_match) = p.first_child("IdMatch") else {
                diags.error(p, format!("entity \"{name}\": pattern without <IdMatch>"));
                continue;
            };
            let Some(id_ref) = id_match.attr("idRef") else {
                diags.error(id_match, "IdMatch without idRef");
                continue;
            };
            let mut missing = Vec::new();
            let id_det = self.resolve(id_ref, id_match, model, diags);
            if id_det.is_none() {
                missing.push(id_ref.to_string());
            }
            let mut conditions = Vec::new();
            for c in p.children.iter().filter(|c| c.name == "Match" || c.name == "Any") {
                if let Some(cond) = self.condition(c, model, diags, &mut missing) {
                    conditions.push(cond);
                }
            }
            let pattern_filters = self.filters(p, model, diags);
            match id_det {
                Some(id_match) if missing.is_empty() => {
                    patterns.push(Pattern { confidence: level, id_match, conditions, filters: pattern_filters })
                }
                _ => diags.warning(
                    p,
                    format!("entity \"{name}\": pattern (confidence {level}) skipped, it needs {}", missing.join(", ")),
                ),
            }
        }
        if patterns.is_empty() {
            diags.warning(el, format!("entity \"{name}\" has no pattern that can be evaluated offline"));
        }
        model.entities.push(Entity {
            id: id.to_string(),
            name,
            file: self.file.to_path_buf(),
            proximity,
            recommended_confidence: recommended,
            patterns,
            filters,
        });
    }

    fn condition(
        &mut self,
        el: &Element,
        model: &mut Model,
        diags: &mut Diagnostics<'_>,
        missing: &mut Vec<String>,
    ) -> Option<Condition> {
        if el.name == "Match" {
            let Some(id_ref) = el.attr("idRef") else {
                diags.error(el, "Match without idRef");
                return None;
            };
            let min_count = match el.attr("minCount").map(|m| m.trim().parse::<u32>()) {
                None => 1,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    diags.error(el, format!("Match {id_ref}: minCount is not a number"));
                    return None;
                }
            };
            let unique = el.attr("uniqueResults").is_some_and(|u| u.trim().eq_ignore_ascii_case("true"));
            let det = self.resolve(id_ref, el, model, diags);
            if det.is_none() {
                missing.push(id_ref.to_string());
            }
            return det.map(|det| Condition::Match { det, min_count, unique });
        }
        let children: Vec<Condition> = el
            .children
            .iter()
            .filter(|c| c.name == "Match" || c.name == "Any")
            .filter_map(|c| self.condition(c, model, diags, missing))
            .collect();
        let parse = |name: &str| el.attr(name).map(|v| v.trim().parse::<u32>());
        let (min, max) = match (parse("minMatches"), parse("maxMatches")) {
            (Some(Err(_)), _) | (_, Some(Err(_))) => {
                diags.error(el, "Any: minMatches/maxMatches must be numbers");
                return None;
            }
            (min, max) => (min.and_then(Result::ok).unwrap_or(1), max.and_then(Result::ok).unwrap_or(u32::MAX)),
        };
        if min > max {
            diags.error(el, format!("Any: minMatches {min} is above maxMatches {max}"));
            return None;
        }
        Some(Condition::Any { min, max, children })
    }

    /// The detector for `id_ref`: a Regex or Keyword of this package, or a built-in function.
    fn resolve(&mut self, id_ref: &str, at: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) -> Option<DetId> {
        let key = id_ref.to_ascii_lowercase();
        if let Some(r) = self.resolved.get(&key) {
            return *r;
        }
        let det = if let Some(el) = self.find("Regex", id_ref) {
            self.regex(el, model, diags)
        } else if let Some(el) = self.find("Keyword", id_ref) {
            self.keyword(el, model, diags)
        } else if let Some(f) = builtin::lookup(id_ref) {
            Some(model.function_detector(f))
        } else if id_ref.to_ascii_lowercase().starts_with("func_") {
            diags.warning(at, format!("{id_ref} is a Microsoft function not available offline"));
            None
        } else if self.find("Entity", id_ref).is_some() || model.entity(id_ref).is_some() {
            diags.warning(at, format!("{id_ref}: references to other entities are not supported"));
            None
        } else if looks_like_guid(id_ref) {
            diags.warning(at, format!("{id_ref} is not in this package (a keyword dictionary or built-in type that exists only in a Microsoft tenant)"));
            None
        } else {
            diags.error(at, format!("{id_ref} is not defined in this package"));
            None
        };
        self.resolved.insert(key, det);
        det
    }

    fn regex(&mut self, el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) -> Option<DetId> {
        let id = el.attr("id").unwrap_or_default();
        // Purview tolerates spaces around the pattern in the XML; they are layout, not pattern.
        let source = el.text.trim();
        let engine = match regex_dialect::engine_for(source) {
            Ok(e) => e,
            Err(e) => {
                diags.error(el, format!("Regex {id}: {e}"));
                return None;
            }
        };
        if let Some(why) = regex_dialect::fallback(source, engine) {
            diags.note(el, format!("Regex {id}: {why}"));
        }
        let mut checks = Vec::new();
        for v in el.attr("validators").unwrap_or_default().split([',', ';', ' ']).filter(|v| !v.is_empty()) {
            if let Some(f) = builtin::lookup(v) {
                checks.push(Check::Function(f));
            } else if let Some(vel) = self.find("Validators", v) {
                match validators(vel, diags) {
                    Some(mut c) => checks.append(&mut c),
                    None => return None,
                }
            } else {
                diags.warning(el, format!("Regex {id}: validator {v} is not available offline; the regex is skipped"));
                return None;
            }
        }
        Some(model.add(Detector {
            label: format!("{id} ({})", file_name(self.file)),
            matcher: Matcher::Regex { source: source.to_string(), engine },
            checks,
        }))
    }

    fn keyword(&mut self, el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) -> Option<DetId> {
        let id = el.attr("id").unwrap_or_default();
        let mut terms = Vec::new();
        for group in el.children_named("Group") {
            let whole_word = match group.attr("matchStyle").unwrap_or("word").trim().to_ascii_lowercase().as_str() {
                "word" => true,
                "string" => false,
                other => {
                    diags.error(group, format!("Keyword {id}: matchStyle \"{other}\" is not word or string"));
                    return None;
                }
            };
            for t in group.children_named("Term") {
                let text = t.text.trim();
                if text.is_empty() || text.len() > MAX_TERM_LEN {
                    diags.error(t, format!("Keyword {id}: a term must have 1 to {MAX_TERM_LEN} bytes"));
                    continue;
                }
                let case_sensitive = t.attr("caseSensitive").is_some_and(|c| c.trim().eq_ignore_ascii_case("true"));
                terms.push(Term { text: text.to_string(), case_sensitive, whole_word });
            }
        }
        if terms.is_empty() {
            diags.warning(el, format!("Keyword {id} has no terms"));
        }
        Some(model.add(Detector {
            label: format!("{id} ({})", file_name(self.file)),
            matcher: Matcher::Keywords(terms),
            checks: Vec::new(),
        }))
    }

    /// The filters named in `el`'s `filters` attribute.
    fn filters(&mut self, el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) -> Vec<Filter> {
        let mut out = Vec::new();
        for fid in el.attr("filters").unwrap_or_default().split([',', ';', ' ']).filter(|f| !f.is_empty()) {
            let Some(fel) = self.find("Filters", fid) else {
                diags.error(el, format!("filters {fid} is not defined in this package"));
                continue;
            };
            for f in fel.children_named("Filter") {
                match f.attr("type").unwrap_or_default() {
                    "AllDigitsSameFilter" => out.push(Filter::AllDigitsSame),
                    "TextMatchFilter" => {
                        let direction = match f.attr("direction").unwrap_or("Full").trim().to_ascii_lowercase().as_str()
                        {
                            "full" => Direction::Full,
                            "startswith" => Direction::StartsWith,
                            "endswith" => Direction::EndsWith,
                            "prefix" => Direction::Prefix,
                            "suffix" => Direction::Suffix,
                            other => {
                                diags.error(f, format!("TextMatchFilter: unknown direction \"{other}\""));
                                continue;
                            }
                        };
                        let exclude = match f.attr("logic").unwrap_or("Exclude").trim().to_ascii_lowercase().as_str() {
                            "exclude" => true,
                            "include" => false,
                            other => {
                                diags.error(f, format!("TextMatchFilter: logic \"{other}\" is not Include or Exclude"));
                                continue;
                            }
                        };
                        let Some(pid) = f.attr("textProcessorId") else {
                            diags.error(f, "TextMatchFilter without textProcessorId");
                            continue;
                        };
                        if let Some(processor) = self.resolve(pid, f, model, diags) {
                            out.push(Filter::TextMatch { direction, exclude, processor });
                        }
                    }
                    other => diags.warning(f, format!("filter type \"{other}\" is not supported and is ignored")),
                }
            }
        }
        out
    }
}

/// The checks of a `<Validators>` element, or None (reported) when one cannot be used.
fn validators(el: &Element, diags: &mut Diagnostics<'_>) -> Option<Vec<Check>> {
    let id = el.attr("id").unwrap_or_default();
    let mut out = Vec::new();
    for v in el.children_named("Validator") {
        let param = |name: &str| {
            v.children_named("Param")
                .find(|p| p.attr("name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
                .map(|p| p.text.trim())
        };
        match v.attr("type").unwrap_or_default() {
            "DateSimple" => {
                let pattern = param("Pattern").unwrap_or_default();
                if !dates::date_simple_pattern_ok(pattern) {
                    diags.error(v, format!("Validators {id}: DateSimple pattern \"{pattern}\" is not supported"));
                    return None;
                }
                out.push(Check::DateSimple(pattern.to_string()));
            }
            "Checksum" => {
                let weights: Result<Vec<u32>, _> =
                    param("Weights").unwrap_or_default().split(',').map(|w| w.trim().parse::<u32>()).collect();
                let modulus = param("Mod").and_then(|m| m.parse::<u32>().ok()).filter(|&m| m > 0);
                let check_position = param("CheckDigit").and_then(|c| c.parse::<usize>().ok()).filter(|&c| c > 0);
                match (weights, modulus, check_position) {
                    (Ok(weights), Some(modulus), Some(check_position)) if !weights.is_empty() => {
                        let allow_letters = param("AllowAlphabets").is_some_and(|a| a == "1");
                        out.push(Check::Checksum(Checksum { weights, modulus, check_position, allow_letters }));
                    }
                    _ => {
                        diags.error(v, format!("Validators {id}: Checksum needs Weights, Mod and CheckDigit numbers"));
                        return None;
                    }
                }
            }
            other => {
                diags.warning(v, format!("Validators {id}: validator type \"{other}\" is not available offline"));
                return None;
            }
        }
    }
    Some(out)
}

impl Checksum {
    /// Weighted sum of every character but the check character, modulo `modulus`, equals the check character.
    /// Letters count 10 (A) to 35 (Z) when allowed.
    pub fn accepts(&self, value: &str) -> bool {
        let chars: Vec<u32> = value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| {
                if c.is_ascii_digit() { c as u32 - '0' as u32 } else { c.to_ascii_uppercase() as u32 - 'A' as u32 + 10 }
            })
            .collect();
        if !self.allow_letters && value.chars().any(|c| c.is_ascii_alphabetic()) {
            return false;
        }
        let Some(&check) = chars.get(self.check_position - 1) else {
            return false;
        };
        let sum: u64 = chars
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != self.check_position - 1)
            .zip(self.weights.iter().cycle())
            .map(|((_, &c), &w)| u64::from(c) * u64::from(w))
            .sum();
        sum % u64::from(self.modulus) == u64::from(check)
    }
}

fn confidence(attr: Option<&str>, default: u8) -> Option<u8> {
    match attr {
        None => Some(default),
        Some(a) => a.trim().parse::<u8>().ok().filter(|&c| c <= 100),
    }
}

fn looks_like_guid(s: &str) -> bool {
    let s = s.trim_matches(['{', '}']);
    s.len() == 36
        && s.chars().enumerate().all(
            |(i, c)| {
                if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() }
            },
        )
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_shape() {
        assert!(looks_like_guid("490f642f-d3a6-4510-940f-7bfdb343d4ad"));
        assert!(!looks_like_guid("Keywords_HIX"));
    }

    #[test]
    fn checksum_validator() {
        // Weights 1..=5 over the first five digits, mod 10, check digit in position 6.
        let c = Checksum { weights: vec![1, 2, 3, 4, 5], modulus: 10, check_position: 6, allow_letters: false };
        // 1*1 + 2*2 + 3*3 + 4*4 + 5*5 = 55 -> 5
        assert!(c.accepts("123455"));
        assert!(!c.accepts("123456"));
        assert!(!c.accepts("12345A"));
    }
}
