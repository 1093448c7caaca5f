//! FSRM-style rule files (`<ClassificationRules>`), from bytes to a classification: never panics or hangs.
#![no_main]

#[path = "rule_support.rs"]
mod rule_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| rule_support::run(data));
