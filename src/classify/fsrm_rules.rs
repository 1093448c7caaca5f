//! Reader for fci-connector's FSRM-style rule files (`<ClassificationRules>`, see docs/RULES.md): property
//! definitions with FSRM's types, classification rules (Content, Folder, FileName classifiers with a scope), and
//! the protection policy.
//!
//! Loading is two-phase across the whole folder: first every property definition and every Purview package, then
//! rules and policy, so a rule may use a property or entity defined in any file.

use super::builtin;
use super::diag::Diagnostics;
use super::fsrm_params::{self, ExprKind};
use super::model::*;
use super::purview::MAX_TERM_LEN;
use super::regex_dialect;
use super::scope::{self, Scope};
use crate::xml::Element;

/// Phase 1: `<Settings>` and `<PropertyDefinition>` elements.
pub fn load_definitions(root: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) {
    for el in &root.children {
        match el.name.as_str() {
            "Settings" => {
                if let Some(v) = el.attr("ignoreTestCardNumbers") {
                    match parse_bool(v) {
                        Some(b) => model.options.ignore_test_card_numbers = b,
                        None => diags.error(el, format!("ignoreTestCardNumbers \"{v}\" is not true or false")),
                    }
                }
            }
            "PropertyDefinition" => property(el, model, diags),
            // Anything else is reported by the schema check (super::schema).
            _ => {}
        }
    }
}

/// Phase 2: `<Rule>` and `<ProtectionPolicy>` elements.
pub fn load_rules(root: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) {
    for el in &root.children {
        match el.name.as_str() {
            "Rule" => rule(el, model, diags),
            "ProtectionPolicy" => protection_policy(el, model, diags),
            _ => {}
        }
    }
}

fn property(el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) {
    let Some(name) = el.attr("name").map(str::trim).filter(|n| !n.is_empty()) else {
        diags.error(el, "PropertyDefinition needs a name");
        return;
    };
    let Some(kind) = el.attr("type").and_then(PropertyType::parse) else {
        diags.error(
            el,
            format!("property \"{name}\": type must be YesNo, OrderedList, SingleChoice, MultiChoice, String, MultiString, Integer or DateTime"),
        );
        return;
    };
    if model.property(name).is_some() {
        diags.error(el, format!("property \"{name}\" is defined twice"));
        return;
    }
    let values: Vec<String> = el.children_named("Value").map(|v| v.text.trim().to_string()).collect();
    let listed = matches!(kind, PropertyType::OrderedList | PropertyType::SingleChoice | PropertyType::MultiChoice);
    if listed && values.is_empty() {
        diags.error(el, format!("property \"{name}\" ({kind:?}) needs <Value> elements"));
        return;
    }
    if !listed && !values.is_empty() {
        diags.warning(el, format!("property \"{name}\": <Value> elements are ignored for {kind:?}"));
    }
    let values = if listed { values } else { Vec::new() };
    model.properties.push(Property { name: name.to_string(), kind, values });
}

/// A value or a bound in a rule file that does not fit what it is for.
#[derive(Debug, thiserror::Error)]
enum ValueError {
    #[error("\"{0}\" is not Yes or No")]
    NotYesNo(String),
    #[error("\"{raw}\" is not one of {choices}")]
    NotAChoice { raw: String, choices: String },
    #[error("\"{0}\" is not an integer")]
    NotAnInteger(String),
    #[error("\"{0}\" is not a date (YYYY-MM-DD or RFC 3339)")]
    NotADate(String),
    #[error("{name}=\"{value}\" is not a number")]
    NotANumber { name: String, value: String },
    #[error("{max_name} is below {min_name}")]
    MaxBelowMin { max_name: String, min_name: String },
}

/// Check and normalize a value for `prop`: list values to their defined spelling, YesNo to Yes/No.
fn property_value(prop: &Property, raw: &str) -> Result<String, ValueError> {
    let raw = raw.trim();
    match prop.kind {
        PropertyType::YesNo => match parse_bool(raw) {
            Some(true) => Ok("Yes".into()),
            Some(false) => Ok("No".into()),
            None => Err(ValueError::NotYesNo(raw.to_string())),
        },
        PropertyType::OrderedList | PropertyType::SingleChoice | PropertyType::MultiChoice => prop
            .values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(raw))
            .cloned()
            .ok_or_else(|| ValueError::NotAChoice { raw: raw.to_string(), choices: prop.values.join(", ") }),
        PropertyType::Integer => {
            raw.parse::<i64>().map(|n| n.to_string()).map_err(|_| ValueError::NotAnInteger(raw.to_string()))
        }
        PropertyType::DateTime => {
            let rfc3339 = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).is_ok();
            let date = time::Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]")).is_ok();
            if rfc3339 || date { Ok(raw.to_string()) } else { Err(ValueError::NotADate(raw.to_string())) }
        }
        PropertyType::String | PropertyType::MultiString => Ok(raw.to_string()),
    }
}

fn rule(el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) {
    let Some(name) = el.attr("name").map(str::trim).filter(|n| !n.is_empty()) else {
        diags.error(el, "Rule needs a name");
        return;
    };
    if el.attr("enabled").is_some_and(|e| parse_bool(e) == Some(false)) {
        return;
    }
    let Some(prop_name) = el.attr("property") else {
        diags.error(el, format!("rule \"{name}\" needs a property"));
        return;
    };
    let Some(property) = model.property(prop_name) else {
        diags.error(el, format!("rule \"{name}\": property \"{prop_name}\" is not defined"));
        return;
    };
    let prop = &model.properties[property];
    let raw = el.attr("value").unwrap_or_default();
    let raw_values: Vec<&str> = if prop.kind.is_multi() { raw.split('|').collect() } else { vec![raw] };
    let mut values = Vec::new();
    for v in raw_values {
        match property_value(prop, v) {
            Ok(v) => values.push(v),
            Err(e) => {
                diags.error(el, format!("rule \"{name}\": property \"{}\": {e}", prop.name));
                return;
            }
        }
    }
    let classifier = match el.attr("classifier").unwrap_or("Content").trim().to_ascii_lowercase().as_str() {
        "content" => Classifier::Content,
        "folder" => Classifier::Folder,
        "filename" => Classifier::FileName,
        other => {
            diags.error(el, format!("rule \"{name}\": classifier \"{other}\" is not Content, Folder or FileName"));
            return;
        }
    };
    let require_all = match el.attr("match").unwrap_or("all").trim().to_ascii_lowercase().as_str() {
        "all" => true,
        "any" => false,
        other => {
            diags.error(el, format!("rule \"{name}\": match \"{other}\" is not all or any"));
            return;
        }
    };
    let scope = el.first_child("Scope").map(rule_scope).unwrap_or_default();
    let mut conditions = Vec::new();
    let mut ok = true;
    for (n, c) in el.children.iter().filter(|c| c.name != "Scope").enumerate() {
        match condition(name, n + 1, c, model, diags) {
            Some(cond) => conditions.push(cond),
            None => ok = false,
        }
    }
    if !ok {
        return;
    }
    match classifier {
        Classifier::Content if conditions.is_empty() => {
            diags.error(el, format!("rule \"{name}\": a Content rule needs at least one expression"));
            return;
        }
        Classifier::Folder if scope.include_folders.is_empty() => {
            diags.error(el, format!("rule \"{name}\": a Folder rule needs <Folder> in its <Scope>"));
            return;
        }
        Classifier::FileName if scope.file_names.is_empty() => {
            diags.error(el, format!("rule \"{name}\": a FileName rule needs <FileNames> in its <Scope>"));
            return;
        }
        Classifier::Folder | Classifier::FileName if !conditions.is_empty() => {
            diags.warning(el, format!("rule \"{name}\": expressions are ignored by the {classifier:?} classifier"));
            conditions.clear();
        }
        _ => {}
    }
    model.rules.push(Rule { name: name.to_string(), property, values, classifier, scope, conditions, require_all });
}

fn rule_scope(el: &Element) -> Scope {
    let mut s = Scope::default();
    for c in &el.children {
        match c.name.as_str() {
            "Folder" | "IncludeFolder" => s.include_folders.push(scope::normalize_folder(&c.text)),
            "ExcludeFolder" => s.exclude_folders.push(scope::normalize_folder(&c.text)),
            "FileNames" => s.file_names.extend(scope::parse_wildcards(&c.text)),
            "ExcludeFileNames" => s.exclude_file_names.extend(scope::parse_wildcards(&c.text)),
            _ => {}
        }
    }
    s
}

fn bounds(el: &Element, min_name: &str, max_name: &str, default_min: u64) -> Result<(u64, Option<u64>), ValueError> {
    let num = |name: &str| -> Result<Option<u64>, ValueError> {
        match el.attr(name).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ValueError::NotANumber { name: name.to_string(), value: v.to_string() }),
        }
    };
    let min = num(min_name)?.unwrap_or(default_min);
    let max = num(max_name)?;
    if max.is_some_and(|m| m < min) {
        return Err(ValueError::MaxBelowMin { max_name: max_name.to_string(), min_name: min_name.to_string() });
    }
    Ok((min, max))
}

fn condition(
    rule: &str,
    n: usize,
    el: &Element,
    model: &mut Model,
    diags: &mut Diagnostics<'_>,
) -> Option<RuleCondition> {
    let label = format!("rule \"{rule}\" expression {n}");
    let fail = |diags: &mut Diagnostics<'_>, msg: String| {
        diags.error(el, format!("{label}: {msg}"));
        None
    };
    match el.name.as_str() {
        "String" | "Regex" | "Parameter" => {
            let (kind, min, max, expr) = if el.name == "Parameter" {
                match fsrm_params::parse(&el.text) {
                    Ok(e) => (e.kind, e.min, e.max, e.expr),
                    Err(e) => return fail(diags, e.to_string()),
                }
            } else {
                let (min, max) = match bounds(el, "min", "max", 1) {
                    Ok(b) => b,
                    Err(e) => return fail(diags, e.to_string()),
                };
                let case_sensitive = el.attr("caseSensitive").and_then(parse_bool);
                let kind = match (el.name.as_str(), case_sensitive) {
                    ("String", Some(true)) => ExprKind::StringCase,
                    ("String", _) => ExprKind::String,
                    _ => ExprKind::Regex,
                };
                // A regex is case-sensitive unless caseSensitive="false" (as in .NET).
                let expr = if kind == ExprKind::Regex && case_sensitive == Some(false) {
                    regex_dialect::effective_source(&el.text, true)
                } else {
                    el.text.clone()
                };
                (kind, min, max, expr)
            };
            let det = match kind {
                ExprKind::String | ExprKind::StringCase => {
                    let text = expr.trim();
                    if text.is_empty() || text.len() > MAX_TERM_LEN {
                        return fail(diags, format!("a string must have 1 to {MAX_TERM_LEN} bytes"));
                    }
                    let term = Term {
                        text: text.to_string(),
                        case_sensitive: kind == ExprKind::StringCase,
                        whole_word: false,
                    };
                    model.add(Detector {
                        label: label.clone(),
                        matcher: Matcher::Keywords(vec![term]),
                        checks: Vec::new(),
                    })
                }
                ExprKind::Regex => match regex_dialect::engine_for(&expr) {
                    Ok(engine) => {
                        if let Some(why) = regex_dialect::fallback(&expr, engine) {
                            diags.note(el, format!("regular expression {expr:?}: {why}"));
                        }
                        model.add(Detector {
                            label: label.clone(),
                            matcher: Matcher::Regex { source: expr, engine },
                            checks: Vec::new(),
                        })
                    }
                    Err(e) => return fail(diags, format!("invalid regular expression: {e}")),
                },
            };
            Some(RuleCondition::Count { det, min, max })
        }
        "Function" => {
            let fname = el.attr("name").unwrap_or_default();
            let Some(f) = builtin::lookup(fname) else {
                return fail(diags, format!("unknown function \"{fname}\""));
            };
            let (min, max) = match bounds(el, "min", "max", 1) {
                Ok(b) => b,
                Err(e) => return fail(diags, e.to_string()),
            };
            Some(RuleCondition::Count { det: model.function_detector(f), min, max })
        }
        "Entity" => {
            let Some(key) = el.attr("name").or(el.attr("id")) else {
                return fail(diags, "<Entity> needs a name or id".into());
            };
            let Some(entity) = model.entity(key) else {
                return fail(diags, format!("entity \"{key}\" is not defined in any loaded rule package"));
            };
            let min_confidence = match el.attr("minConfidence") {
                None => model.entities[entity].recommended_confidence,
                Some(c) => match c.trim().parse::<u8>() {
                    Ok(c) if c <= 100 => c,
                    _ => return fail(diags, format!("minConfidence \"{c}\" must be 0-100")),
                },
            };
            let (min, max) = match bounds(el, "minCount", "maxCount", 1) {
                Ok(b) => b,
                Err(e) => return fail(diags, e.to_string()),
            };
            Some(RuleCondition::Entity { entity, min_confidence, min, max })
        }
        // The schema check (super::schema) reports the unknown element; the rule is not loaded.
        _ => None,
    }
}

fn protection_policy(el: &Element, model: &mut Model, diags: &mut Diagnostics<'_>) {
    if let Some(t) = el.attr("defaultTemplate").map(str::trim).filter(|t| !t.is_empty()) {
        match &model.default_template {
            Some(existing) if existing != t => {
                diags.error(el, format!("defaultTemplate \"{t}\" conflicts with \"{existing}\" set earlier"))
            }
            _ => model.default_template = Some(t.to_string()),
        }
    }
    for p in &el.children {
        if p.name != "Protect" {
            continue; // reported by the schema check
        }
        let prop_name = p.attr("property").unwrap_or_default();
        let Some(property) = model.property(prop_name) else {
            diags.error(p, format!("Protect: property \"{prop_name}\" is not defined"));
            continue;
        };
        let prop = &model.properties[property];
        let test = match (p.attr("value"), p.attr("atLeast")) {
            (Some(v), None) => match property_value(prop, v) {
                Ok(v) => ValueTest::Equals(v),
                Err(e) => {
                    diags.error(p, format!("Protect: property \"{}\": {e}", prop.name));
                    continue;
                }
            },
            (None, Some(v)) if prop.kind == PropertyType::OrderedList => {
                match prop.values.iter().position(|x| x.eq_ignore_ascii_case(v.trim())) {
                    Some(i) => ValueTest::AtLeast(i),
                    None => {
                        diags.error(p, format!("Protect: \"{v}\" is not a value of \"{}\"", prop.name));
                        continue;
                    }
                }
            }
            (None, Some(_)) => {
                diags.error(
                    p,
                    format!("Protect: atLeast needs an OrderedList property; \"{}\" is {:?}", prop.name, prop.kind),
                );
                continue;
            }
            _ => {
                diags.error(p, "Protect needs exactly one of value or atLeast");
                continue;
            }
        };
        let template = p.attr("template").map(str::trim).filter(|t| !t.is_empty()).map(String::from);
        model.protection_policy.push(ProtectWhen { property, test, template });
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Some(true),
        "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_values_are_checked_and_normalized() {
        let yes_no = Property { name: "PII".into(), kind: PropertyType::YesNo, values: vec![] };
        assert_eq!(property_value(&yes_no, "true").unwrap(), "Yes");
        assert!(property_value(&yes_no, "maybe").is_err());
        let list =
            Property { name: "C".into(), kind: PropertyType::OrderedList, values: vec!["High".into(), "Low".into()] };
        assert_eq!(property_value(&list, "high").unwrap(), "High");
        assert!(property_value(&list, "Medium").is_err());
        let date = Property { name: "D".into(), kind: PropertyType::DateTime, values: vec![] };
        assert!(property_value(&date, "2024-02-29").is_ok());
        assert!(property_value(&date, "2024-02-30").is_err());
        let int = Property { name: "I".into(), kind: PropertyType::Integer, values: vec![] };
        assert!(property_value(&int, "x").is_err());
    }
}
