//! Microsoft Purview rule packages (`<RulePackage>`, UTF-8 or UTF-16), from bytes to a classification: never
//! panics or hangs. Same loader as `rule_file`; its own corpus starts from real packages.
#![no_main]

#[path = "rule_support.rs"]
mod rule_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| rule_support::run(data));
