//! The protection policy: which property values make `protect` protect a file, and with which template.
//!
//! `<Protect>` lines are tried in load order; the first whose property has the value (or, with `atLeast`, an
//! OrderedList value at least that high) decides, with its own template or else the policy's default template
//! (and, when neither is set, the template given on the command line).

use super::Decision;
use super::model::{Model, PropertyType, ValueTest};

/// Decide from the aggregated property values (`None` where a property is unset).
pub fn decide(model: &Model, values: &[Option<Vec<String>>]) -> Decision {
    for when in &model.policy {
        let Some(Some(have)) = values.get(when.property) else {
            continue;
        };
        let prop = &model.properties[when.property];
        let hit = match &when.test {
            ValueTest::Equals(v) => have.iter().any(|h| h == v),
            ValueTest::AtLeast(rank) => {
                prop.kind == PropertyType::OrderedList
                    && have.iter().any(|h| prop.values.iter().position(|x| x == h).is_some_and(|i| i <= *rank))
            }
        };
        if hit {
            return Decision::Protect { template: when.template.clone().or_else(|| model.default_template.clone()) };
        }
    }
    Decision::Skip
}
