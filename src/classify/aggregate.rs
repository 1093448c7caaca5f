//! FSRM's aggregation when several rules set one property on one file: YesNo is OR (Yes wins), OrderedList takes
//! the value listed first (the highest), MultiChoice and MultiString take the union, and every other type must
//! agree: when rules disagree the conflict is reported and the property left unset.

use super::model::{Property, PropertyType};

/// One rule's contribution: which rule, and the value(s) it sets.
pub struct Setting<'a> {
    pub rule: &'a str,
    pub values: &'a [String],
}

/// Two rules that set a single-valued property to different values: the property is left unset.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "property \"{property}\": rule \"{first_rule}\" sets \"{first_value}\" but rule \"{other_rule}\" sets \"{other_value}\"; left unset"
)]
pub struct Conflict {
    pub property: String,
    pub first_rule: String,
    pub first_value: String,
    pub other_rule: String,
    pub other_value: String,
}

/// Combine the settings of one property. `Ok(values)` (several only for multi-valued types), or `Err` with the
/// conflict described for the admin.
pub fn combine(prop: &Property, settings: &[Setting<'_>]) -> Result<Vec<String>, Conflict> {
    let all = || settings.iter().flat_map(|s| s.values.iter());
    match prop.kind {
        PropertyType::YesNo => Ok(vec![if all().any(|v| v == "Yes") { "Yes" } else { "No" }.to_string()]),
        PropertyType::OrderedList => {
            let best = all().filter_map(|v| prop.values.iter().position(|x| x == v)).min().unwrap_or(0);
            Ok(vec![prop.values.get(best).cloned().unwrap_or_default()])
        }
        PropertyType::MultiChoice => Ok(prop.values.iter().filter(|x| all().any(|v| v == *x)).cloned().collect()),
        PropertyType::MultiString => {
            let mut out: Vec<String> = Vec::new();
            for v in all() {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(out)
        }
        PropertyType::SingleChoice | PropertyType::String | PropertyType::Integer | PropertyType::DateTime => {
            let first = &settings[0];
            match settings.iter().find(|s| s.values != first.values) {
                None => Ok(first.values.to_vec()),
                Some(other) => Err(Conflict {
                    property: prop.name.clone(),
                    first_rule: first.rule.to_string(),
                    first_value: first.values.join("|"),
                    other_rule: other.rule.to_string(),
                    other_value: other.values.join("|"),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(kind: PropertyType, values: &[&str]) -> Property {
        Property { name: "P".into(), kind, values: values.iter().map(|s| s.to_string()).collect() }
    }

    fn set<'a>(rule: &'a str, values: &'a [String]) -> Setting<'a> {
        Setting { rule, values }
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn yes_no_is_or() {
        let p = prop(PropertyType::YesNo, &[]);
        let (no, yes) = (v(&["No"]), v(&["Yes"]));
        assert_eq!(combine(&p, &[set("a", &no), set("b", &yes)]).unwrap(), ["Yes"]);
        assert_eq!(combine(&p, &[set("a", &no)]).unwrap(), ["No"]);
    }

    #[test]
    fn ordered_list_takes_the_highest() {
        let p = prop(PropertyType::OrderedList, &["High", "Moderate", "Low"]);
        let (low, moderate) = (v(&["Low"]), v(&["Moderate"]));
        assert_eq!(combine(&p, &[set("a", &low), set("b", &moderate)]).unwrap(), ["Moderate"]);
    }

    #[test]
    fn multi_values_take_the_union() {
        let p = prop(PropertyType::MultiChoice, &["HR", "Finance", "Legal"]);
        let (a, b) = (v(&["Legal", "HR"]), v(&["HR"]));
        assert_eq!(combine(&p, &[set("a", &a), set("b", &b)]).unwrap(), ["HR", "Legal"]);
        let p = prop(PropertyType::MultiString, &[]);
        let (a, b) = (v(&["x"]), v(&["y", "x"]));
        assert_eq!(combine(&p, &[set("a", &a), set("b", &b)]).unwrap(), ["x", "y"]);
    }

    #[test]
    fn other_types_conflict_unless_equal() {
        let p = prop(PropertyType::String, &[]);
        let (a, b) = (v(&["Alice"]), v(&["Bob"]));
        let err = combine(&p, &[set("r1", &a), set("r2", &b)]).unwrap_err().to_string();
        assert!(err.contains("r1") && err.contains("Bob"), "{err}");
        assert_eq!(combine(&p, &[set("r1", &a), set("r2", &a)]).unwrap(), ["Alice"]);
    }
}
