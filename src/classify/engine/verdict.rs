//! The verdict on one file: which rules apply, the properties they set (aggregated), and the protection policy's
//! decision from those values.

use super::super::aggregate::{self, Setting};
use super::super::model::*;
use super::super::{Classification, Decision, MatchKind, MatchSummary, Problem};
use super::MAX_SAMPLES;
use super::scan::Scanner;

/// What one rule in scope did on this file.
enum RuleOutcome {
    /// It applies: occurrences of the expressions that held, and up to [`MAX_SAMPLES`] values when asked for.
    Applies {
        count: u64,
        values: Vec<String>,
    },
    DoesNotApply,
    /// An expression it needs could not be evaluated (a detector failed), so the rule was not applied.
    NotEvaluated,
}

impl Scanner<'_> {
    /// The classification of everything scanned: matches, properties, problems and the decision.
    pub(super) fn classify(self) -> Classification {
        let model = self.model;
        let mut problems = self.detector_problems();
        let mut matches = self.entity_matches();
        // Per property: the rules that set it (rule index, name), in rule order.
        let mut settings: Vec<Vec<(usize, &str)>> = vec![Vec::new(); model.properties.len()];
        let mut complete = true;
        for (ri, rule) in model.rules.iter().enumerate() {
            if !rule.scope.contains(&self.path) {
                continue;
            }
            match self.apply(rule) {
                RuleOutcome::Applies { count, values } => {
                    settings[rule.property].push((ri, rule.name.as_str()));
                    matches.push(MatchSummary {
                        name: rule.name.clone(),
                        kind: MatchKind::Rule,
                        count,
                        confidence: None,
                        values,
                    });
                }
                RuleOutcome::DoesNotApply => {}
                RuleOutcome::NotEvaluated => {
                    complete = false;
                    problems.push(Problem {
                        source: format!("rule \"{}\"", rule.name),
                        message: "not applied: an expression it needs could not be evaluated".into(),
                    });
                }
            }
        }
        let (properties, values_by_prop) = aggregate_properties(model, &settings, &mut problems);
        let decision = protection_decision(model, &values_by_prop);
        Classification { properties, matches, problems, decision, complete, text_chars: self.text_chars }
    }

    /// One problem per detector that failed on this file.
    fn detector_problems(&self) -> Vec<Problem> {
        let detectors = &self.model.detectors;
        self.failed
            .iter()
            .enumerate()
            .filter_map(|(det, failure)| {
                failure.as_ref().map(|msg| Problem { source: detectors[det].label.clone(), message: msg.clone() })
            })
            .collect()
    }

    /// One match per entity found, at the highest confidence any instance reached.
    fn entity_matches(&self) -> Vec<MatchSummary> {
        let mut matches = Vec::new();
        for (ei, e) in self.model.entities.iter().enumerate() {
            if let Some((&confidence, &count)) = self.instances[ei].last_key_value() {
                matches.push(MatchSummary {
                    name: e.name.clone(),
                    kind: MatchKind::Entity,
                    count,
                    confidence: Some(confidence),
                    values: self.entity_samples[ei].clone(),
                });
            }
        }
        matches
    }

    fn entity_failed(&self, entity: usize) -> bool {
        self.compiled.plan.entity_dets[entity].iter().any(|&d| self.failed[d].is_some())
    }

    /// Whether `rule` (already known to be in scope) applies to this file.
    fn apply(&self, rule: &Rule) -> RuleOutcome {
        if matches!(rule.classifier, Classifier::Folder | Classifier::FileName) {
            return RuleOutcome::Applies { count: 1, values: Vec::new() };
        }
        let broken = rule.conditions.iter().any(|c| match c {
            RuleCondition::Count { det, .. } => self.failed[*det].is_some(),
            RuleCondition::Entity { entity, .. } => self.entity_failed(*entity),
        });
        if broken {
            return RuleOutcome::NotEvaluated;
        }
        let mut total = 0;
        let mut values = Vec::new();
        let results: Vec<bool> = rule
            .conditions
            .iter()
            .map(|c| {
                let (n, min, max) = match c {
                    RuleCondition::Count { det, min, max } => {
                        values.extend(self.samples[*det].iter().cloned());
                        (self.counts[*det], *min, *max)
                    }
                    RuleCondition::Entity { entity, min_confidence, min, max } => {
                        values.extend(self.entity_samples[*entity].iter().cloned());
                        let n = self.instances[*entity].range(*min_confidence..).map(|(_, n)| n).sum();
                        (n, *min, *max)
                    }
                };
                let ok = n >= min && max.is_none_or(|m| n <= m);
                if ok {
                    total += n;
                }
                ok
            })
            .collect();
        let applies = if rule.require_all { results.iter().all(|&r| r) } else { results.iter().any(|&r| r) };
        values.truncate(MAX_SAMPLES);
        if applies { RuleOutcome::Applies { count: total, values } } else { RuleOutcome::DoesNotApply }
    }
}

/// Each property's value from the rules that set it (`settings`, per property), as `(name, value)` for the result
/// (multi-valued ones joined with `|`) and per property for the policy; a conflict is a problem and leaves the
/// property unset.
#[allow(clippy::type_complexity)]
fn aggregate_properties(
    model: &Model,
    settings: &[Vec<(usize, &str)>],
    problems: &mut Vec<Problem>,
) -> (Vec<(String, String)>, Vec<Option<Vec<String>>>) {
    let mut properties = Vec::new();
    let mut values_by_prop: Vec<Option<Vec<String>>> = vec![None; model.properties.len()];
    for (pi, prop) in model.properties.iter().enumerate() {
        if settings[pi].is_empty() {
            continue;
        }
        let s: Vec<Setting<'_>> =
            settings[pi].iter().map(|&(ri, name)| Setting { rule: name, values: &model.rules[ri].values }).collect();
        match aggregate::combine(prop, &s) {
            Ok(v) => {
                properties.push((prop.name.clone(), v.join("|")));
                values_by_prop[pi] = Some(v);
            }
            Err(conflict) => {
                problems.push(Problem { source: format!("property \"{}\"", prop.name), message: conflict.to_string() })
            }
        }
    }
    (properties, values_by_prop)
}

/// The protection policy of the rule files (`<ProtectionPolicy>`): which property values make `protect` protect a
/// file, and with which template. Not the config file's `[policy]` (what to do with unreadable or excluded files).
///
/// `<Protect>` lines are tried in load order; the first whose property has the value (or, with `atLeast`, an
/// OrderedList value at least that high) decides, with its own template or else the policy's default template
/// (and, when neither is set, the template given on the command line). `values`: per property, its aggregated
/// values, `None` where unset.
pub fn protection_decision(model: &Model, values: &[Option<Vec<String>>]) -> Decision {
    for when in &model.protection_policy {
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

impl Classification {
    /// The decision, as the policy gives it for the properties found.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
}
