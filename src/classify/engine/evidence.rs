//! Entity evidence: each `IdMatch` hit, once the text around it is known, evaluated against its entity's patterns
//! (supporting matches within the proximity, filters), giving instances by confidence; hits no evaluation can reach
//! any more are dropped, which keeps memory bounded.

use std::collections::HashSet;

use super::super::builtin::checksums;
use super::super::model::*;
use super::super::regex_dialect::Engine;
use super::MAX_SAMPLES;
use super::scan::{Hit, Scanner};

impl Scanner<'_> {
    /// Evaluate every `IdMatch` hit whose surroundings are all known (up to `final_char`), then drop hits no
    /// future evaluation can reach.
    pub(super) fn settle(&mut self, final_char: u64) {
        let compiled = self.compiled;
        let mut lowest_pending = final_char;
        for det in 0..self.hits.len() {
            if compiled.plan.id_patterns[det].is_empty() {
                continue;
            }
            while self.settled[det] < self.hits[det].len() {
                let h = &self.hits[det][self.settled[det]];
                if h.end.saturating_add(compiled.plan.settle_lag[det]) > final_char {
                    break;
                }
                self.evaluate(det, self.settled[det]);
                self.settled[det] += 1;
            }
            if let Some(h) = self.hits[det].get(self.settled[det]) {
                lowest_pending = lowest_pending.min(h.start);
            }
        }
        for ei in 0..self.open_instances.len() {
            let keep = self.open_instances[ei].split_off(&(lowest_pending, 0));
            let done = std::mem::replace(&mut self.open_instances[ei], keep);
            for ((_, _), (confidence, value)) in done {
                *self.instances[ei].entry(confidence).or_default() += 1;
                if let Some(v) = value.filter(|_| self.entity_samples[ei].len() < MAX_SAMPLES) {
                    self.entity_samples[ei].push(v.into());
                }
            }
        }
        let floor = lowest_pending.saturating_sub(compiled.plan.max_reach + AFFIX_WINDOW);
        for det in 0..self.hits.len() {
            while self.hits[det].front().is_some_and(|h| h.end < floor)
                && (compiled.plan.id_patterns[det].is_empty() || self.settled[det] > 0)
            {
                self.hits[det].pop_front();
                if !compiled.plan.id_patterns[det].is_empty() {
                    self.settled[det] -= 1;
                }
            }
        }
    }

    /// Give one `IdMatch` hit the confidence of the highest pattern it satisfies, per entity.
    fn evaluate(&mut self, det: DetId, index: usize) {
        let model = self.model;
        let h = self.hits[det][index].clone();
        let mut best: Vec<(usize, u8)> = Vec::new();
        for &(ei, pi) in &self.compiled.plan.id_patterns[det] {
            let entity = &model.entities[ei];
            let pattern = &entity.patterns[pi];
            if best.iter().any(|&(e, c)| e == ei && c >= pattern.confidence) {
                continue;
            }
            let passes = entity.filters.iter().chain(&pattern.filters).all(|f| self.filter_keeps(f, &h))
                && pattern.conditions.iter().all(|c| self.holds(c, &h, det, entity.proximity));
            if passes {
                match best.iter_mut().find(|(e, _)| *e == ei) {
                    Some(b) => b.1 = b.1.max(pattern.confidence),
                    None => best.push((ei, pattern.confidence)),
                }
            }
        }
        for (ei, confidence) in best {
            let value = self.show_values.then(|| h.value.clone());
            let slot = self.open_instances[ei].entry((h.start, h.end)).or_insert((confidence, value));
            slot.0 = slot.0.max(confidence);
        }
    }

    fn holds(&self, cond: &Condition, h: &Hit, id_det: DetId, proximity: u64) -> bool {
        match cond {
            Condition::Match { det, min_count, unique } => {
                let q = &self.hits[*det];
                let lo = h.start.saturating_sub(proximity);
                let hi = h.end.saturating_add(proximity);
                let a = q.partition_point(|x| x.start < lo);
                let b = q.partition_point(|x| x.start < hi);
                let near = q.range(a..b).filter(|x| !(*det == id_det && x.start == h.start && x.end == h.end));
                let n = if *unique { near.map(|x| &*x.value).collect::<HashSet<_>>().len() } else { near.count() };
                n >= *min_count as usize
            }
            Condition::Any { min, max, children } => {
                let n = children.iter().filter(|c| self.holds(c, h, id_det, proximity)).count() as u64;
                n >= u64::from(*min) && n <= u64::from(*max)
            }
        }
    }

    fn filter_keeps(&self, f: &Filter, h: &Hit) -> bool {
        match f {
            Filter::AllDigitsSame => !checksums::all_digits_same(&checksums::digits(&h.value)),
            Filter::TextMatch { direction, exclude, processor } => {
                let matched = match direction {
                    Direction::Prefix => {
                        self.hits[*processor].iter().any(|x| x.end <= h.start && x.end + AFFIX_WINDOW >= h.start)
                    }
                    Direction::Suffix => {
                        self.hits[*processor].iter().any(|x| x.start >= h.end && x.start <= h.end + AFFIX_WINDOW)
                    }
                    _ => self.value_matches(*processor, *direction, &h.value),
                };
                matched != *exclude
            }
        }
    }

    /// Whether `processor` matches the whole value, its start or its end.
    fn value_matches(&self, processor: DetId, direction: Direction, value: &str) -> bool {
        let fits = |s: usize, e: usize| match direction {
            Direction::Full => s == 0 && e == value.len(),
            Direction::StartsWith => s == 0,
            _ => e == value.len(),
        };
        match &self.model.detectors[processor].matcher {
            Matcher::Keywords(terms) => terms.iter().any(|t| {
                let eq = |a: &str| {
                    if t.case_sensitive { a == t.text } else { a.to_lowercase() == t.text.to_lowercase() }
                };
                let n = t.text.len();
                match direction {
                    Direction::Full => eq(value),
                    Direction::StartsWith => value.get(..n).is_some_and(eq),
                    _ => value.len() >= n && value.get(value.len() - n..).is_some_and(eq),
                }
            }),
            Matcher::Regex { engine: Engine::Linear, .. } => match self.compiled.linear_regex(processor) {
                Ok(re) => re.find_iter(value).any(|m| fits(m.start(), m.end())),
                Err(_) => false,
            },
            Matcher::Regex { engine: Engine::Backtracking, .. } => self.compiled.backtracking.regexes[processor]
                .as_ref()
                .is_some_and(|re| re.fancy().find_iter(value).any(|m| m.is_ok_and(|m| fits(m.start(), m.end())))),
        }
    }
}
